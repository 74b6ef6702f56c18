/* nested.c - lock calls made while the runtime is busy on the same thread: a signal handler
 * that interrupted the fast path, the slow path, a wait's bookkeeping or a recording hook
 * (or the runtime's own calls, guard set). See rt.h for the contract.
 *
 * The interrupted frame may be half-way through writing held[], growing it, holding the
 * trace buffer or walking the lock table: nothing here reads or writes any of that. A
 * handler's locks go on rt_nested.held, which only this thread writes: the entry first, its
 * count after (a signal fence between), so a handler nested in this one, which pushes and
 * pops above, never sees a half entry. Handlers return in LIFO order, so an interrupted push
 * or removal finds the stack as it left it. What is lost: the lock-order edges of these
 * acquisitions and their trace events (counted, one note at exit). What is kept exact: what
 * the thread holds, so no finding is made from a lock a handler took and released.
 */
#include <stdio.h>

#include "../trace/trace.h"
#include "fastpath.h"

__thread rt_nest rt_nested __attribute__((tls_model("initial-exec")));

static _Atomic unsigned long overflowed, dropped_events;

void rt_nested_acquired(const rt_thread *t, uintptr_t addr, unsigned flags)
{
    rt_nest *n = &rt_nested;
    if (!t->guard)   /* the runtime's own calls (libdw, stdio) have it set: not counted */
        atomic_fetch_add_explicit(&rt.counters[RT_C_NESTED], 1, memory_order_relaxed);
    if (flags & RT_ACQ_REENTRY)
        for (uint32_t i = n->nheld; i-- > 0;)
            if (n->held[i].addr == addr) {
                n->held[i].count++;
                return;
            }
    uint32_t k = n->nheld;
    if (k >= RT_NEST_HELD) {
        n->lost++;
        atomic_fetch_add_explicit(&overflowed, 1, memory_order_relaxed);
        return;
    }
    n->held[k].addr = addr;
    n->held[k].count = 1;
    RT_SIGNAL_FENCE();
    n->nheld = k + 1;
}

/* Take addr off the nested stack: true when it was there. */
static bool nest_pop(uintptr_t addr)
{
    rt_nest *n = &rt_nested;
    for (uint32_t i = n->nheld; i-- > 0;) {
        if (n->held[i].addr != addr)
            continue;
        if (--n->held[i].count == 0) {
            /* Entries above move down before the count drops: a handler interrupting this
             * pushes at the old top and pops it again. */
            for (uint32_t j = i; j + 1 < n->nheld; j++)
                n->held[j] = n->held[j + 1];
            RT_SIGNAL_FENCE();
            n->nheld--;
        }
        return true;
    }
    return false;
}

void rt_nested_released(const rt_thread *t, uintptr_t addr, int type)
{
    rt_nest *n = &rt_nested;
    if (nest_pop(addr))
        return;
    if (n->lost) {
        n->lost--;   /* one of those that found no room */
        return;
    }
    /* A lock of the interrupted frame (held[], or taken before): the thread drops it at its
     * next slow event, which a zero fast_cap brings soon. */
    uint32_t k = n->nrel;
    if (k >= RT_NEST_REL) {
        atomic_fetch_add_explicit(&overflowed, 1, memory_order_relaxed);
        return;
    }
    n->rel[k].addr = addr;
    n->rel[k].type = type;
    RT_SIGNAL_FENCE();
    n->nrel = k + 1;
    rt_thread *self = rt_self;
    if (self->cap)
        __atomic_store_n(&self->fast_cap, 0, __ATOMIC_RELAXED);
    (void)t;
}

bool rt_nested_release_own(uintptr_t addr)
{
    return rt_nested.nheld && nest_pop(addr);
}

void rt_nested_drain(rt_thread *t)
{
    rt_nest *n = &rt_nested;
    for (;;) {
        uint32_t k = __atomic_load_n(&n->nrel, __ATOMIC_RELAXED);
        if (!k)
            break;
        uintptr_t addr = n->rel[k - 1].addr;
        int type = n->rel[k - 1].type;
        /* A handler may append meanwhile (never remove): then take the new top first. */
        if (!__atomic_compare_exchange_n(&n->nrel, &k, k - 1, false, __ATOMIC_RELAXED,
                                         __ATOMIC_RELAXED))
            continue;
        bool found = false;
        for (uint32_t i = t->cap ? t->depth : 0; i-- > 0 && !found;) {
            rt_held *h = &t->held[i];
            if (h->addr != addr)
                continue;
            found = true;
            if (--h->count == 0)
                rt_held_remove(t, i);
        }
        if (!found)
            rt_release_foreign(t, addr, type, 0);
    }
    if (t->cap && !lg_trace_on && !atomic_load(&t->gone_pending)) {
        t->fast_cap = t->cap;
        RT_SIGNAL_FENCE();
        if (__atomic_load_n(&n->nrel, __ATOMIC_RELAXED))
            t->fast_cap = 0;   /* posted after the loop: the next event drains it */
    }
}

void rt_nested_dropped(void)
{
    atomic_fetch_add_explicit(&dropped_events, 1, memory_order_relaxed);
}

void rt_nested_note(void)
{
    unsigned long calls = atomic_load(&rt.counters[RT_C_NESTED]);
    unsigned long lost = atomic_load(&overflowed), ev = atomic_load(&dropped_events);
    if (!calls && !ev)
        return;
    char extra[160] = "";
    if (lost)
        snprintf(extra, sizeof extra, "; %lu beyond the %d a thread keeps were not tracked", lost,
                 RT_NEST_HELD);
    rt_report_note("%lu lock call%s of signal handlers that interrupted lockgraph's own code on "
                   "their thread %s tracked as held but not checked for lock order%s%s",
                   calls, calls == 1 ? "" : "s", calls == 1 ? "was" : "were",
                   ev ? " nor recorded" : "", extra);
}
