/* text-deadlock.c - printer for live deadlocks and orphaned locks, jstack-style.
 *
 * Also long waits (--wait-timeout): the same stanzas, with the holders' acquisitions.
 * Skeleton: banner; one stanza per waiting thread ("waits to write-lock L2 ... at x.c:88,
 * held by thread T"); each thread's stack at the wait and where it acquired what it holds;
 * other threads with their state; the fix. Both the runtime and attach/core produce these
 * findings, so this printer depends only on edges (flag LG_EDGE_WAITING) and threads.
 */
#include "text-internal.h"

/* Every edge whose `holds` is lock `li`: the lock's holders as this finding knows them. */
static void holders(FILE *out, const lg_report *r, const lg_finding *f, int li)
{
    int n = 0;
    for (size_t i = 0; i < f->nedges; i++) {
        if (f->edges[i].holds != li)
            continue;
        int dup = 0;
        for (size_t j = 0; j < i; j++)
            dup |= f->edges[j].holds == li && f->edges[j].thread == f->edges[i].thread;
        if (dup)
            continue;
        fputs(n++ ? " and " : "", out);
        text_thread(out, f, r, f->edges[i].thread);
    }
    if (!n)
        fputs("no live thread", out);
}

void text_deadlock(FILE *out, const lg_report *r, const lg_finding *f, const lg_text_options *o)
{
    if (f->kind == LG_KIND_ORPHANED)
        text_banner(out, "orphaned lock (its owner exited holding it)");
    else if (f->kind == LG_KIND_LONG_WAIT)
        text_banner(out, "long wait (no deadlock cycle)");
    else if (f->flags & LG_FINDING_TIMED)
        text_banner(out, "stall (a wait cycle that ends at a timeout)");
    else
        text_banner(out, "deadlock");
    if (f->summary)
        fprintf(out, "%s\n", f->summary);
    fputc('\n', out);

    /* Stanzas: only edges that wait. A join waits for a thread, not for a lock's holder. */
    for (size_t i = 0; i < f->nedges; i++) {
        const lg_edge *e = &f->edges[i];
        if (!(e->flags & LG_EDGE_WAITING))
            continue;
        const lg_lock *a = &f->locks[e->acquires];
        text_thread(out, f, r, e->thread);
        if (a->type == LG_LOCK_THREAD) {
            fputs(" waits to join ", out);
            text_thread(out, f, r, a->owner);
        } else {
            fprintf(out, " waits to %s ", text_acquire_verb(a, e->acquires_mode));
            text_lock(out, a);
        }
        fputs(" at ", out);
        char where[512];
        lg_finding_where(f, &e->stack, where, sizeof where);
        fputs(where, out);
        if (e->flags & LG_EDGE_COND)
            fputs(" (re-acquiring it on wake-up from a condition wait)", out);
        if (e->flags & LG_EDGE_TIMED)
            fputs(" (timed: until its timeout)", out);
        if (a->type != LG_LOCK_THREAD) {
            fputs(",\n    held by ", out);
            holders(out, r, f, e->acquires);
        }
        fputs("\n", out);
    }
    fputc('\n', out);

    /* Per-thread detail: its wait stack, then what it holds and where it took it. */
    for (size_t i = 0; i < f->nthreads; i++) {
        const lg_thread *t = &f->threads[i];
        text_thread(out, f, r, t->tid);
        fprintf(out, "%s%s:\n", t->state ? " " : "", t->state ? t->state : "");
        for (size_t j = 0; j < f->nedges; j++) {
            const lg_edge *e = &f->edges[j];
            if (e->thread != t->tid || !(e->flags & LG_EDGE_WAITING))
                continue;
            const lg_lock *a = &f->locks[e->acquires];
            if (a->type == LG_LOCK_THREAD)
                fprintf(out, "  waiting to join thread %d at:\n", a->owner);
            else
                fprintf(out, "  waiting to %s %s at:\n", text_acquire_verb(a, e->acquires_mode),
                        a->id);
            text_stack(out, &e->stack, "    ", o);
        }
        for (size_t j = 0; j < f->nedges; j++) {
            const lg_edge *e = &f->edges[j];
            if (e->thread != t->tid || e->holds < 0)
                continue;
            fprintf(out, "  holds %s, %s at:\n", f->locks[e->holds].id,
                    text_acquired_verb(&f->locks[e->holds], e->holds_mode));
            text_stack(out, &e->holds_stack, "    ", o);
        }
        if (t->created.n) {
            fputs("  created at:\n", out);
            text_stack(out, &t->created, "    ", o);
        }
        if (t->stack.n) {
            fputs("  current stack:\n", out);
            text_stack(out, &t->stack, "    ", o);
        }
    }
    if (f->fix)
        fprintf(out, "\nFix: %s\n", f->fix);
    text_notes(out, f->notes, f->nnotes, "");
    fputc('\n', out);
}
