/* findings-order.c - lock-order-inversion and gated-cycle findings from neutral facts
 * (findings-order.h): the cycle's locks and edges in, one model finding out, with the words
 * every front end and every writer then shows.
 */
#include "findings-order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *lock_label(const lg_finding *f, int i)
{
    return f->locks[i].name ? f->locks[i].name : f->locks[i].id;
}

/* "A => B => C" for the cycle's locks in order (closed: "... => A" again), bounded: a long
 * chain keeps its first and last locks and says how many it leaves out. */
static void chain_text(const lg_finding *f, const int *li, size_t n, bool closed, char *buf,
                       size_t len)
{
    enum { HEAD = 3, TAIL = 2 };
    size_t total = n + (closed ? 1 : 0), o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < total && o < len; i++) {
        if (total > HEAD + TAIL + 1 && i == HEAD) {
            o += (size_t)snprintf(buf + o, len - o, " => ... (%zu more)", total - HEAD - TAIL);
            i = total - TAIL - 1;
            continue;
        }
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " => " : "",
                              lock_label(f, li[i % n]));
    }
}

static unsigned edge_flags(unsigned of)
{
    return (of & LG_ORDERF_TIMED ? LG_EDGE_TIMED : 0) | (of & LG_ORDERF_COND ? LG_EDGE_COND : 0)
           | (of & LG_ORDERF_TRY ? LG_EDGE_TRYLOCK : 0);
}

/* Summary and fix. The last edge closed the cycle: its acquisition is the one to change.
 * Its places are found past lock wrappers (lg_finding_where), so a program that locks
 * through one helper is told its call sites, not the helper. */
static void words(lg_finding *f, const int *li, size_t n, bool same_thread, bool gated)
{
    const lg_edge *last = &f->edges[f->nedges - 1];
    char where[256] = "", wherehold[256] = "";
    lg_finding_where(f, &last->stack, where, sizeof where);
    lg_finding_where(f, &last->holds_stack, wherehold, sizeof wherehold);
    const char *first = lock_label(f, li[0]), *lastheld = lock_label(f, li[n - 1]);
    if (n == 1) {
        /* A reader of a writer-preferring rwlock read-locks it again. */
        f->flags |= LG_FINDING_SELF;
        lg_finding_set_summary(f, "nested read lock of %s, a writer-preferring rwlock whose "
                               "readers do not nest: a writer queued between the two reads "
                               "deadlocks the thread with itself", first);
        lg_finding_set_fix(f, "do not read-lock %s again while holding it: thread %d reads it "
                           "again at %s, holding it since %s; release it first, or make it "
                           "reader-preferring", first, last->thread, where, wherehold);
        return;
    }
    char cycle[1024], order[1024];
    chain_text(f, li, n, true, cycle, sizeof cycle);
    lg_finding_set_summary(f, "cycle of %zu locks: %s%s", n, cycle,
                           same_thread ? " (one thread's code paths)" : "");
    if (gated)
        return;   /* it cannot deadlock: nothing to fix (the note says why) */
    if (n == 2) {
        lg_finding_set_fix(f, "acquire %s before %s everywhere: thread %d takes %s (at %s) while "
                           "holding %s (taken at %s); take %s first there",
                           first, lastheld, last->thread, first, where, lastheld, wherehold,
                           first);
        return;
    }
    chain_text(f, li, n, false, order, sizeof order);
    lg_finding_set_fix(f, "keep the order %s that the other acquisitions follow: thread %d "
                       "takes %s (at %s) while holding %s (taken at %s), against it; take %s "
                       "before %s there", order, last->thread, first, where, lastheld,
                       wherehold, first, lastheld);
}

lg_finding *lg_build_order_cycle(lg_report *r, const lg_order_facts *of)
{
    size_t n = of->n;
    if (!n)
        return NULL;
    lg_finding *f = lg_report_add_finding(r, of->gate ? LG_KIND_GATED_CYCLE : LG_KIND_INVERSION);
    if (!f)
        return NULL;
    if (of->same_thread)
        f->flags |= LG_FINDING_SAME_THREAD;
    if (of->timed)
        f->flags |= LG_FINDING_TIMED;
    int *li = calloc(n, sizeof *li);
    if (!li)
        return f;
    for (size_t i = 0; i < n; i++) {
        const lg_order_lock_fact *l = &of->locks[i];
        li[i] = lg_finding_add_lock(f, l->address, l->type, l->name, l->attrs);
        if (li[i] >= 0 && l->label)
            snprintf(f->locks[li[i]].id, sizeof f->locks[li[i]].id, "%s", l->label);
    }
    for (size_t i = 0; i < n; i++) {
        const lg_order_edge_fact *c = &of->edges[i];
        lg_finding_add_thread(f, c->tid, c->thread_name);
        lg_edge *e = lg_finding_add_edge(f, c->tid, li[i], c->holds_mode, li[(i + 1) % n],
                                         c->acquires_mode, edge_flags(c->flags));
        if (e && c->stack)
            lg_stack_copy(&e->stack, c->stack);
        if (e && c->holds_stack)
            lg_stack_copy(&e->holds_stack, c->holds_stack);
    }
    if (f->nedges)
        words(f, li, n, of->same_thread, of->gate != NULL);
    if (of->gate)
        lg_finding_add_note(f, "every edge was made while holding %s (0x%llx): the cycle "
                            "cannot deadlock", of->gate->name ? of->gate->name : "a lock",
                            (unsigned long long)of->gate->address);
    free(li);
    return f;
}

int lg_order_add_lockset(lg_finding *f, const lg_order_lock_fact *locks, size_t n)
{
    if (f->nsets >= LG_LOCKSETS_KEPT) {
        f->sets_seen++;   /* past the kept sets only the count grows */
        return 0;
    }
    char (*names)[32] = calloc(n ? n : 1, sizeof *names);
    const char **labels = calloc(n ? n : 1, sizeof *labels);
    int rc = -1;
    if (names && labels) {
        for (size_t i = 0; i < n; i++) {
            snprintf(names[i], sizeof names[i], "0x%llx", (unsigned long long)locks[i].address);
            labels[i] = locks[i].name ? locks[i].name : names[i];
        }
        rc = lg_finding_add_lockset(f, labels, n);
    } else {
        f->sets_seen++;
    }
    free(names);
    free(labels);
    return rc;
}
