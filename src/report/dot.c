/* dot.c - the DOT writer: the graph of every finding for Graphviz.
 *
 * Locks are boxes, threads ellipses. A waiting edge is drawn thread -> lock ("waits") and
 * lock -> holder ("held by"); a lock-order edge is drawn lock -> lock, labelled with the
 * thread that made it. One cluster per finding.
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
    fputs("}\n", out);
    return ferror(out) ? -1 : 0;
}
