/* text-inversion.c - printer for lock-order inversions (and gated cycles).
 *
 * Skeleton (fixed, golden-tested): banner; the cycle on one line; one block per edge with
 * the thread, where the second lock was acquired and where the first was held from; an
 * unsafe scenario in columns, one per thread, ending in *** DEADLOCK ***; the fix.
 * A cycle of more than TEXT_MAX_SHOWN locks prints its first and last few locks and edges.
 * Better than lockdep/TSan in that every edge has both stacks and the thread's name, and the
 * report says which acquisition to change.
 */
#include <string.h>

#include "text-internal.h"

#define COL 30
/* A huge cycle (thousands of locks) stays readable and bounded: beyond TEXT_MAX_SHOWN locks or
 * edges only the first TEXT_HEAD and last TEXT_TAIL are printed in full, with one line saying
 * how many were left out (the JSON report keeps them all), and the scenario is not drawn. */
#define TEXT_MAX_SHOWN 8
#define TEXT_HEAD 4
#define TEXT_TAIL 4

/* Item i of n is printed; at the first one left out, say how many (what: the noun in the
 * singular; one left out is "lock 5 not shown"). */
static bool shown(FILE *out, size_t i, size_t n, const char *indent, const char *what)
{
    if (n <= TEXT_MAX_SHOWN || i < TEXT_HEAD || i >= n - TEXT_TAIL)
        return true;
    size_t left = n - TEXT_HEAD - TEXT_TAIL;
    if (i == TEXT_HEAD && left == 1)
        fprintf(out, "%s... 1 more %s (%zu) not shown; the JSON report has them all\n",
                indent, what, i + 1);
    else if (i == TEXT_HEAD)
        fprintf(out, "%s... %zu more %ss (%zu to %zu) not shown; the JSON report has them all\n",
                indent, left, what, i + 1, n - TEXT_TAIL);
    return false;
}

static void cycle_line(FILE *out, const lg_finding *f)
{
    fputs("Cycle: ", out);
    size_t n = f->nedges;
    for (size_t i = 0; i < n; i++) {
        if (n > TEXT_MAX_SHOWN && i == TEXT_HEAD)
            fprintf(out, "... (%zu more) => ", n - TEXT_HEAD - TEXT_TAIL);
        if (n > TEXT_MAX_SHOWN && i >= TEXT_HEAD && i < n - TEXT_TAIL)
            continue;
        if (f->edges[i].holds >= 0)
            fprintf(out, "%s => ", text_lock_short(&f->locks[f->edges[i].holds]));
    }
    if (f->nedges)
        fprintf(out, "%s\n", text_lock_short(&f->locks[f->edges[f->nedges - 1].acquires]));
}

/* One row of the scenario table: `text` in column `col` of `ncol`. */
static void scenario_row(FILE *out, size_t col, const char *verb, const char *lock)
{
    char cell[128];
    snprintf(cell, sizeof cell, "%s(%s);", verb, lock);
    fprintf(out, "  %*s%s\n", (int)(col * COL), "", cell);
}

static void scenario(FILE *out, const lg_report *r, const lg_finding *f)
{
    size_t n = f->nedges;
    fprintf(out, "Possible unsafe scenario:\n\n  ");
    for (size_t i = 0; i < n; i++) {
        char head[64];
        const lg_thread *t = text_find_thread(f, r, f->edges[i].thread);
        if (f->flags & LG_FINDING_SAME_THREAD)
            snprintf(head, sizeof head, "path %zu", i + 1);
        else if (t && t->name)
            snprintf(head, sizeof head, "%d \"%.20s\"", f->edges[i].thread, t->name);
        else
            snprintf(head, sizeof head, "thread %d", f->edges[i].thread);
        fprintf(out, i + 1 < n ? "%-*s" : "%.*s", COL, head);
    }
    fputs("\n  ", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, i + 1 < n ? "%-*s" : "%.*s", COL, "----");
    fputc('\n', out);
    /* Each thread takes the lock it holds, then each asks for the next one. */
    for (size_t i = 0; i < n; i++) {
        const lg_edge *e = &f->edges[i];
        if (e->holds >= 0)
            scenario_row(out, i, text_acquire_verb(&f->locks[e->holds], e->holds_mode),
                         text_lock_short(&f->locks[e->holds]));
    }
    for (size_t i = 0; i < n; i++) {
        const lg_edge *e = &f->edges[i];
        scenario_row(out, i, text_acquire_verb(&f->locks[e->acquires], e->acquires_mode),
                     text_lock_short(&f->locks[e->acquires]));
    }
    if (f->flags & LG_FINDING_TIMED)
        fputs("\n *** STALL until the timed acquisition gives up ***\n\n", out);
    else
        fputs("\n *** DEADLOCK ***\n\n", out);
}

void text_inversion(FILE *out, const lg_report *r, const lg_finding *f, const lg_text_options *o)
{
    if (f->kind == LG_KIND_GATED_CYCLE)
        text_banner(out, "lock-order cycle under a common gate lock (cannot deadlock)");
    else if (f->flags & LG_FINDING_TIMED)
        text_banner(out, "lock-order inversion through a timed lock (potential stall)");
    else
        text_banner(out, "lock-order inversion (potential deadlock)");
    if (f->summary)
        fprintf(out, "%s\n", f->summary);
    if (f->flags & LG_FINDING_SAME_THREAD)
        fputs("Only one thread has taken these locks so far: its code paths take them in "
              "opposite orders, so two threads running them would deadlock.\n", out);
    fputc('\n', out);
    fputs("Locks:\n", out);
    for (size_t i = 0; i < f->nlocks; i++) {
        if (!shown(out, i, f->nlocks, "  ", "lock"))
            continue;
        fputs("  ", out);
        text_lock(out, &f->locks[i]);
        fputc('\n', out);
    }
    cycle_line(out, f);
    fputc('\n', out);

    for (size_t i = 0; i < f->nedges; i++) {
        const lg_edge *e = &f->edges[i];
        const lg_lock *a = &f->locks[e->acquires];
        if (!shown(out, i, f->nedges, "", "edge")) {
            if (i == TEXT_HEAD)
                fputc('\n', out);
            continue;
        }
        fprintf(out, "Edge %zu of %zu: ", i + 1, f->nedges);
        text_thread(out, f, r, e->thread);
        fprintf(out, " %s %s", e->flags & LG_EDGE_TRYLOCK ? "try-acquired" : "acquired",
                a->id);
        if (e->holds >= 0)
            fprintf(out, " while holding %s", f->locks[e->holds].id);
        if (e->flags & LG_EDGE_TIMED)
            fputs(" (timed: waits at most until its timeout)", out);
        if (e->flags & LG_EDGE_COND)
            fputs(" (re-acquired on wake-up from a condition wait)", out);
        fputc('\n', out);
        fprintf(out, "  %s %s at:\n", a->id, text_acquired_verb(a, e->acquires_mode));
        text_stack(out, &e->stack, "    ", o);
        if (e->holds >= 0) {
            const lg_lock *h = &f->locks[e->holds];
            fprintf(out, "  %s was %s earlier at:\n", h->id,
                    text_acquired_verb(h, e->holds_mode));
            text_stack(out, &e->holds_stack, "    ", o);
        }
        fputc('\n', out);
    }
    if (f->kind != LG_KIND_GATED_CYCLE && f->nedges > TEXT_MAX_SHOWN)
        fprintf(out, "Possible unsafe scenario: %zu %s each hold one lock of the cycle and ask "
                "for the next (not drawn for more than %d).\n\n *** %s ***\n\n",
                f->nedges, f->flags & LG_FINDING_SAME_THREAD ? "paths" : "threads",
                TEXT_MAX_SHOWN, f->flags & LG_FINDING_TIMED
                                    ? "STALL until the timed acquisition gives up" : "DEADLOCK");
    else if (f->kind != LG_KIND_GATED_CYCLE)
        scenario(out, r, f);
    if (f->fix)
        fprintf(out, "Fix: %s\n", f->fix);
    text_notes(out, f->notes, f->nnotes, "");
    fputc('\n', out);
}
