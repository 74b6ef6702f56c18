/* dot.c - the DOT writer: the graph of every finding for Graphviz.
 *
 * Locks are boxes, threads ellipses. A waiting edge is drawn thread -> lock ("waits") and
 * lock -> holder ("held by"); a lock-order edge is drawn lock -> lock, labelled with the
 * thread that made it. One cluster per finding.
 *
 * Whole-process analyses (attach/core: report->locks) add the process's wait-for graph:
 * every waiting thread -> the lock it waits for -> the lock's owner; edges of deadlock
 * cycles in red, ownerless waits (condvar, semaphore) to a dashed "any thread" note.
 */
#include "report.h"

static void label(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
}

static int in_deadlock(const lg_report *r, int tid)
{
    for (size_t i = 0; i < r->nfindings; i++)
        for (size_t j = 0; r->findings[i].kind == LG_KIND_DEADLOCK &&
                           j < r->findings[i].nedges; j++)
            if (r->findings[i].edges[j].thread == tid)
                return 1;
    return 0;
}

static void process_graph(FILE *out, const lg_report *r)
{
    fputs("  subgraph cluster_process {\n    label=\"wait-for graph\";\n", out);
    for (size_t i = 0; i < r->nthreads; i++) {
        const lg_thread *t = &r->threads[i];
        int owner = 0;
        for (size_t k = 0; k < r->nlocks && !owner; k++)
            owner = r->locks[k].owner == t->tid;
        if (!t->wait_lock && !owner)
            continue;
        fprintf(out, "    p_t%d [shape=ellipse, label=\"thread %d", t->tid, t->tid);
        if (t->name) {
            fputs("\\n", out);
            label(out, t->name);
        }
        fputs("\"];\n", out);
    }
    for (size_t k = 0; k < r->nlocks; k++) {
        const lg_lock *l = &r->locks[k];
        fprintf(out, "    p_%s [shape=box, label=\"%s ", l->id, lg_lock_type_name(l->type));
        if (l->name)
            label(out, l->name);
        else
            fprintf(out, "0x%llx", (unsigned long long)l->address);
        fputs("\"];\n", out);
        if (l->owner && !(l->lock_flags & LG_LOCK_F_OWNER_EXITED)) {
            fprintf(out, "    p_%s -> p_t%d [label=\"held by\"%s];\n", l->id, l->owner,
                    in_deadlock(r, l->owner) ? ", color=red" : "");
        } else if (l->owner) {
            fprintf(out, "    p_%s_gone [shape=plaintext, label=\"thread %d (exited)\"];\n"
                         "    p_%s -> p_%s_gone [label=\"held by\", style=dashed];\n",
                    l->id, l->owner, l->id, l->id);
        } else if (l->lock_flags & LG_LOCK_F_NO_OWNER) {
            fprintf(out, "    p_%s_any [shape=plaintext, label=\"any thread\"];\n"
                         "    p_%s -> p_%s_any [label=\"signalled by\", style=dashed];\n",
                    l->id, l->id, l->id);
        }
    }
    for (size_t i = 0; i < r->nthreads; i++) {
        const lg_thread *t = &r->threads[i];
        if (!t->wait_lock || (size_t)t->wait_lock > r->nlocks)
            continue;
        fprintf(out, "    p_t%d -> p_%s [label=\"waits (%s)\"%s];\n", t->tid,
                r->locks[t->wait_lock - 1].id, lg_mode_name(t->wait_mode),
                in_deadlock(r, t->tid) ? ", color=red" : "");
    }
    fputs("  }\n", out);
}

int lg_write_dot(FILE *out, const lg_report *r)
{
    fputs("digraph lockgraph {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n", out);
    for (size_t fi = 0; fi < r->nfindings; fi++) {
        const lg_finding *f = &r->findings[fi];
        fprintf(out, "  subgraph cluster_%zu {\n    label=\"%s\";\n", fi, lg_kind_name(f->kind));
        for (size_t i = 0; i < f->nlocks; i++) {
            const lg_lock *l = &f->locks[i];
            fprintf(out, "    f%zu_%s [shape=box, label=\"%s %s\\n", fi, l->id, l->id,
                    lg_lock_type_name(l->type));
            label(out, l->name);
            fprintf(out, "%s0x%llx\"];\n", l->name ? "\\n" : "", (unsigned long long)l->address);
        }
        for (size_t i = 0; i < f->nthreads; i++) {
            const lg_thread *t = &f->threads[i];
            fprintf(out, "    f%zu_t%d [shape=ellipse, label=\"thread %d", fi, t->tid, t->tid);
            if (t->name) {
                fputs("\\n", out);
                label(out, t->name);
            }
            fputs("\"];\n", out);
        }
        for (size_t i = 0; i < f->nedges; i++) {
            const lg_edge *e = &f->edges[i];
            const char *a = f->locks[e->acquires].id;
            if (e->flags & LG_EDGE_WAITING) {
                fprintf(out, "    f%zu_t%d -> f%zu_%s [label=\"waits (%s)\", color=red];\n",
                        fi, e->thread, fi, a, lg_mode_name(e->acquires_mode));
                if (e->holds >= 0)
                    fprintf(out, "    f%zu_%s -> f%zu_t%d [label=\"held by\"];\n", fi,
                            f->locks[e->holds].id, fi, e->thread);
            } else if (e->holds >= 0) {
                fprintf(out, "    f%zu_%s -> f%zu_%s [label=\"thread %d\"];\n", fi,
                        f->locks[e->holds].id, fi, a, e->thread);
            }
        }
        fputs("  }\n", out);
    }
    if (r->nlocks)
        process_graph(out, r);
    fputs("}\n", out);
    return ferror(out) ? -1 : 0;
}
