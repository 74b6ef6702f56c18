/* timeline-sched.c - the kernel's view of a recorded timeline (`lockgraph record --sched`):
 * per thread, the time it ran on a CPU and the time it was runnable but not running (woken
 * or preempted, waiting for a CPU); per wait, the last wake-up of the waiter before the wait
 * ended and who did it - also when the runtime saw no release (a wake-up by a signal, a
 * timeout, a condition variable's signaller).
 *
 * Times count only within a thread's recorded life (lifetime in the lock tables), so on-CPU
 * plus runnable never exceeds it. Input: t->sched sorted by time (switches: prev -> next; wake-ups: waker, woken). Threads
 * outside the analysis (other processes, idle) are ignored. Not here: the lock analysis
 * (timeline.c), which calls this after it.
 */
#include <stdlib.h>

#include "../util/xalloc.h"
#include "timeline.h"

enum { OFF, ON, READY };

typedef struct tstate {
    int state;
    uint64_t since;
} tstate;

static lg_tl_thread_stats *thread_of(lg_tl_analysis *a, int tid)
{
    return (lg_tl_thread_stats *)lg_tl_thread_stats_of(a, tid);
}

static void leave(lg_tl_analysis *a, tstate *s, size_t i, uint64_t ts)
{
    lg_tl_thread_stats *th = &a->threads[i];
    /* only within the thread's recorded life: the main thread ran before recording began */
    uint64_t from = s[i].since > th->begin ? s[i].since : th->begin;
    uint64_t to = ts < th->end ? ts : th->end;
    uint64_t d = to > from ? to - from : 0;
    if (s[i].state == ON)
        th->on_cpu += d;
    else if (s[i].state == READY)
        th->runnable += d;
}

static void enter(lg_tl_analysis *a, tstate *s, size_t i, int state, uint64_t ts)
{
    leave(a, s, i, ts);
    s[i].state = state;
    s[i].since = ts;
}

/* Thread i is seen on a CPU at ts (it switches out, or it wakes another thread). The
 * kernel's trace sometimes lacks the switch-in before that (events lost around an I/O
 * wake-up, seen on this kernel); a thread that then computes without blocking leaves no
 * further switch, so without this its whole run would count as off-CPU. A runnable thread
 * is taken to have run since it became runnable; a sleeping one from ts. */
static void missed_switch_in(lg_tl_analysis *a, tstate *s, size_t i, uint64_t ts)
{
    if (s[i].state == ON)
        return;
    if (s[i].state == READY)
        s[i].state = ON;
    else
        enter(a, s, i, ON, ts);
    a->sched_inferred++;
}

/* wake-ups sorted by (woken tid, time) */
static const lg_timeline *sort_t;
static int cmp_wake(const void *x, const void *y)
{
    const lg_tl_sched *a = &sort_t->sched[*(const size_t *)x], *b = &sort_t->sched[*(const size_t *)y];
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    return a->ts < b->ts ? -1 : a->ts > b->ts;
}

int lg_tl_kernel_view(const lg_timeline *t, lg_tl_analysis *a)
{
    a->sched = true;
    tstate *s = calloc(a->nthreads ? a->nthreads : 1, sizeof *s);
    size_t *wakes = calloc(t->nsched ? t->nsched : 1, sizeof *wakes);
    if (!s || !wakes) {
        free(s);
        free(wakes);
        return -1;
    }
    size_t nw = 0;
    for (size_t k = 0; k < t->nsched; k++) {
        const lg_tl_sched *e = &t->sched[k];
        if (e->kind == LG_TL_SCHED_SWITCH) {
            lg_tl_thread_stats *p = e->a ? thread_of(a, e->a) : NULL;
            lg_tl_thread_stats *n = e->b ? thread_of(a, e->b) : NULL;
            /* preempted ('R'): still runnable; otherwise it blocked or exited */
            if (p) {
                size_t i = (size_t)(p - a->threads);
                missed_switch_in(a, s, i, e->ts);
                enter(a, s, i, e->state == 'R' ? READY : OFF, e->ts);
            }
            if (n)
                enter(a, s, (size_t)(n - a->threads), ON, e->ts);
        } else {
            /* sched_waking fires in the waker's context: the waker is on a CPU now. */
            lg_tl_thread_stats *wk = e->a ? thread_of(a, e->a) : NULL;
            if (wk)
                missed_switch_in(a, s, (size_t)(wk - a->threads), e->ts);
            lg_tl_thread_stats *w = thread_of(a, e->b);
            if (w && s[w - a->threads].state == OFF)
                enter(a, s, (size_t)(w - a->threads), READY, e->ts);
            wakes[nw++] = k;
        }
    }
    for (size_t i = 0; i < a->nthreads; i++) {   /* still on or ready at the end */
        uint64_t end = a->threads[i].end > a->end_ns ? a->end_ns : a->threads[i].end;
        if (s[i].state != OFF && end > s[i].since)
            leave(a, s, i, end);
    }
    sort_t = t;
    if (nw)
        qsort(wakes, nw, sizeof *wakes, cmp_wake);
    sort_t = NULL;
    for (size_t wi = 0; wi < a->nwaits; wi++) {
        lg_tl_wait *w = &a->waits[wi];
        /* the last wake-up of w->tid at or before w->end: binary search on (tid, ts) */
        size_t lo = 0, hi = nw;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const lg_tl_sched *e = &t->sched[wakes[mid]];
            if (e->b < w->tid || (e->b == w->tid && e->ts <= w->end))
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0)
            continue;
        const lg_tl_sched *e = &t->sched[wakes[lo - 1]];
        /* the kernel's clock is us-precise: a wake-up up to 1 us before the wait began
         * may still be this wait's */
        if (e->b != w->tid || e->ts + 1000 < w->begin || !w->ended)
            continue;
        w->woken = true;
        w->woken_by = e->a;
        w->woken_ts = e->ts;
    }
    free(s);
    free(wakes);
    return 0;
}
