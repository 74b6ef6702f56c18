/* timeline.c (analysis) - one pass over the time-sorted events computes totals, waits, holds
 * and who readied whom (see timeline.h for the rules). The pass is online (lg_tl_online_*):
 * the events may come from an array (lg_tl_analyze) or straight from the trace reader
 * (src/trace/reader.h's stream), so a large trace is analysed without holding its events.
 * Threads and locks are looked up in sorted id arrays built first (directly indexed when the
 * ids are dense); per-lock state keeps its open holds and its last release, which is what ends
 * the next wait. Does not: read files, symbolize, print.
 *
 * Bounded holds (lg_tl_online_options.retain): a report needs only the holds that explain a
 * wait, so in a trace of every event most holds are dropped once nothing can want them. What
 * is kept is exactly what longest_holders() and the Chrome export (report/chrome.c) read, so
 * their results equal those over every hold:
 *  - the holds of a lock that begin while one of its lock waits is open (a wait's window);
 *  - the holds of a lock open when a wait on it begins, within the 64 holds before it (the
 *    look-back of longest_holders: older or closed ones cover none of the wait);
 *  - the hold whose release readied a wait, and the holds closed at the instant a wait began
 *    (the export's "holder when it began");
 *  - the first keep_first holds (the export's --all-holds fills its cap in hold order).
 * Open holds and each lock's latest releases stay until then; the rest is compacted away.
 * A counted trace keeps every hold: its holds are only those its events show.
 */
#include "timeline.h"

#include <stdlib.h>
#include <string.h>

#include "../util/xalloc.h"

#define LOOK_BACK 64          /* longest_holders: holds before a wait's begin it looks at */
#define COMPACT_EVERY 65536   /* holds appended between compactions (at least) */

typedef struct held { size_t hold; int tid; unsigned depth; } held;

typedef struct lock_state {
    held *open;         size_t nopen, open_cap;   /* capacity: emptied and refilled per hold */
    held open_inline[2];   /* where open points first: most locks have one holder at a time */
    /* hot totals, added to the lock's stats at the end (one cache line less per event) */
    size_t acquisitions;
    uint64_t total_hold;
    lg_tl_holder *holders; size_t nholders;
    int last_tid;       /* last release */
    uint64_t last_ts, last_hold_begin;
    uint32_t last_stack;
    bool released;
    /* bounded holds */
    size_t *closed_now; size_t nclosed_now, closed_cap;   /* holds closed at last_ts */
    size_t last_hold;   /* the hold the last release closed, LG_TL_NONE for none */
    size_t open_waits;  /* lock waits begun and not ended */
    uint64_t nholds;    /* holds begun */
    uint64_t tail_begin; uint64_t tail;       /* the latest begin, and how many holds have it */
} lock_state;

typedef struct thread_state {
    size_t wait;        /* open lock wait, or LG_TL_NONE */
    size_t cond;        /* open cond wait */
    bool started, exited;
    bool seen;
} thread_state;

/* Per hold (parallel to a->holds): its place among every hold begun, its lock's ordinal. */
typedef struct hmeta {
    uint64_t seq, ord;
    uint64_t next_begin;   /* the begin of the hold begun next (seq + 1), UINT64_MAX: none */
    bool keep;
} hmeta;

struct lg_tl_online {
    const lg_timeline *t;
    lg_tl_analysis *a;
    lg_tl_analysis an;
    lock_state *ls;
    thread_state *ts;
    bool oom;
    lg_tl_online_options o;
    bool bounded;       /* retain && !counted */
    size_t holds_cap;   /* a->holds' capacity (compaction empties it in place) */
    hmeta *hm;          /* bounded: parallel to a->holds, same capacity */
    uint64_t *wfirst;   /* bounded: per wait, its lock's holds begun before it (ordinals) */
    uint64_t seq;       /* holds begun */
    size_t next_compact;
    uint64_t max_ts;
    size_t nevents;
    /* dense lookups: index + 1 by (id - base), 0 unknown */
    uint32_t *lock_ix; uint32_t lock_base; size_t lock_span;
    uint32_t *tid_ix; int tid_base; size_t tid_span;
};
typedef struct lg_tl_online ctx;

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

static size_t find_thread(const lg_tl_analysis *a, int tid)
{
    size_t lo = 0, hi = a->nthreads;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (a->threads[m].tid == tid)
            return m;
        if (a->threads[m].tid < tid)
            lo = m + 1;
        else
            hi = m;
    }
    return LG_TL_NONE;
}

static size_t find_lock(const lg_tl_analysis *a, uint32_t id)
{
    size_t lo = 0, hi = a->nlocks;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (a->locks[m].lock == id)
            return m;
        if (a->locks[m].lock < id)
            lo = m + 1;
        else
            hi = m;
    }
    return LG_TL_NONE;
}

const lg_tl_thread_stats *lg_tl_thread_stats_of(const lg_tl_analysis *a, int tid)
{
    size_t i = find_thread(a, tid);
    return i == LG_TL_NONE ? NULL : &a->threads[i];
}

const lg_tl_lock_stats *lg_tl_lock_stats_of(const lg_tl_analysis *a, uint32_t lock)
{
    size_t i = find_lock(a, lock);
    return i == LG_TL_NONE ? NULL : &a->locks[i];
}

static bool is_lock_event(int type)
{
    return type != LG_EV_THREAD_START && type != LG_EV_THREAD_EXIT;
}

/* The sorted, distinct tids and lock ids: the events' (given), and the definitions' and
 * counts' of the timeline. */
static int build_ids(const lg_timeline *t, const int *etids, size_t netids,
                     const uint32_t *elocks, size_t nelocks, lg_tl_analysis *a)
{
    int *tids = malloc((netids + t->nthreads + t->ncounts + 1) * sizeof *tids);
    uint32_t *locks = malloc((nelocks + t->nlocks + t->ncounts + 1) * sizeof *locks);
    if (!tids || !locks) {
        free(tids);
        free(locks);
        return -1;
    }
    size_t nt = netids, nl = nelocks;
    if (netids)
        memcpy(tids, etids, netids * sizeof *tids);
    if (nelocks)
        memcpy(locks, elocks, nelocks * sizeof *locks);
    for (size_t i = 0; i < t->nthreads; i++)
        tids[nt++] = t->threads[i].tid;
    for (size_t i = 0; i < t->ncounts; i++) {
        tids[nt++] = t->counts[i].tid;
        locks[nl++] = t->counts[i].lock;
    }
    for (size_t i = 0; i < t->nlocks; i++)
        locks[nl++] = t->locks[i].id;
    qsort(tids, nt, sizeof *tids, cmp_int);
    qsort(locks, nl, sizeof *locks, cmp_u32);
    a->threads = calloc(nt ? nt : 1, sizeof *a->threads);
    a->locks = calloc(nl ? nl : 1, sizeof *a->locks);
    if (!a->threads || !a->locks) {
        free(tids);
        free(locks);
        return -1;
    }
    for (size_t i = 0; i < nt; i++)
        if (i == 0 || tids[i] != tids[i - 1])
            a->threads[a->nthreads++].tid = tids[i];
    for (size_t i = 0; i < nl; i++)
        if (i == 0 || locks[i] != locks[i - 1])
            a->locks[a->nlocks++].lock = locks[i];
    free(tids);
    free(locks);
    return 0;
}

/* Direct indices for dense ids (the runtime numbers locks 1, 2, ...; tids are close
 * together): one load per event instead of a binary search. Left NULL when sparse. */
static void dense_index(ctx *c)
{
    lg_tl_analysis *a = c->a;
    if (a->nlocks && a->nlocks < UINT32_MAX) {
        uint64_t span = (uint64_t)a->locks[a->nlocks - 1].lock - a->locks[0].lock + 1;
        if (span <= 4 * (uint64_t)a->nlocks + 4096 && (c->lock_ix = calloc(span, sizeof *c->lock_ix))) {
            c->lock_base = a->locks[0].lock;
            c->lock_span = span;
            for (size_t i = 0; i < a->nlocks; i++)
                c->lock_ix[a->locks[i].lock - c->lock_base] = (uint32_t)i + 1;
        }
    }
    if (a->nthreads && a->nthreads < UINT32_MAX) {
        int64_t span = (int64_t)a->threads[a->nthreads - 1].tid - a->threads[0].tid + 1;
        if (span <= 4 * (int64_t)a->nthreads + 4096 && (c->tid_ix = calloc((size_t)span, sizeof *c->tid_ix))) {
            c->tid_base = a->threads[0].tid;
            c->tid_span = (size_t)span;
            for (size_t i = 0; i < a->nthreads; i++)
                c->tid_ix[a->threads[i].tid - c->tid_base] = (uint32_t)i + 1;
        }
    }
}

static size_t lock_of(const ctx *c, uint32_t id)
{
    if (c->lock_ix) {
        uint64_t k = (uint64_t)id - c->lock_base;
        return id >= c->lock_base && k < c->lock_span && c->lock_ix[k] ? c->lock_ix[k] - 1
                                                                         : LG_TL_NONE;
    }
    return find_lock(c->a, id);
}

static size_t thread_of(const ctx *c, int tid)
{
    if (c->tid_ix) {
        int64_t k = (int64_t)tid - c->tid_base;
        return k >= 0 && (uint64_t)k < c->tid_span && c->tid_ix[k] ? c->tid_ix[k] - 1
                                                                    : LG_TL_NONE;
    }
    return find_thread(c->a, tid);
}

static void credit_holds(ctx *c, size_t li, int tid, uint64_t dur, size_t holds)
{
    lock_state *s = &c->ls[li];
    for (size_t i = 0; i < s->nholders; i++) {
        if (s->holders[i].tid == tid) {
            s->holders[i].hold += dur;
            s->holders[i].count += holds;
            return;
        }
    }
    lg_tl_holder h = {.tid = tid, .hold = dur, .count = holds};
    if (LG_APPEND(s->holders, s->nholders, &h) < 0)
        c->oom = true;
}

static void credit_holder(ctx *c, size_t li, int tid, uint64_t dur)
{
    credit_holds(c, li, tid, dur, 1);
}

/* Bounded holds: drop those nothing can want any more (see the top of this file), keeping
 * the order, and move every reference to the survivors. */
static void compact(ctx *c)
{
    lg_tl_analysis *a = c->a;
    size_t n = a->nholds, k = 0;
    size_t *map = malloc((n ? n : 1) * sizeof *map);
    bool *ref = calloc(n ? n : 1, sizeof *ref);
    if (!map || !ref) {
        free(map);
        free(ref);
        c->next_compact = n + COMPACT_EVERY;   /* no room to compact: keep everything */
        return;
    }
    for (size_t li = 0; li < a->nlocks; li++) {
        lock_state *s = &c->ls[li];
        for (size_t i = 0; i < s->nopen; i++)
            ref[s->open[i].hold] = true;
        for (size_t i = 0; i < s->nclosed_now; i++)
            ref[s->closed_now[i]] = true;
        if (s->last_hold != LG_TL_NONE)
            ref[s->last_hold] = true;
    }
    for (size_t i = 0; i < n; i++) {
        map[i] = LG_TL_NONE;
        if (!ref[i] && !c->hm[i].keep && a->holds[i].ended)
            continue;
        map[i] = k;
        a->holds[k] = a->holds[i];
        c->hm[k] = c->hm[i];
        k++;
    }
    a->nholds = k;
    for (size_t li = 0; li < a->nlocks; li++) {
        lock_state *s = &c->ls[li];
        for (size_t i = 0; i < s->nopen; i++)
            s->open[i].hold = map[s->open[i].hold];
        for (size_t i = 0; i < s->nclosed_now; i++)
            s->closed_now[i] = map[s->closed_now[i]];
        if (s->last_hold != LG_TL_NONE)
            s->last_hold = map[s->last_hold];
    }
    free(map);
    free(ref);
    c->next_compact = 2 * k + (c->o.compact_every ? c->o.compact_every : COMPACT_EVERY);
}

static void keep_hold(ctx *c, size_t h)
{
    if (c->bounded && h != LG_TL_NONE)
        c->hm[h].keep = true;
}

/* A new hold: appended to a->holds (in begin order, as the events come). */
static size_t add_hold(ctx *c, size_t li, const lg_tl_hold *h)
{
    lg_tl_analysis *a = c->a;
    if (c->bounded && a->nholds >= c->next_compact)
        compact(c);
    if (c->bounded && a->nholds && c->hm[a->nholds - 1].seq + 1 == c->seq)
        c->hm[a->nholds - 1].next_begin = h->begin;
    if (a->nholds == c->holds_cap) {
        size_t cap = c->holds_cap ? 2 * c->holds_cap : 1024;
        lg_tl_hold *nh = realloc(a->holds, cap * sizeof *nh);
        if (nh)
            a->holds = nh;
        hmeta *nm = c->bounded && nh ? realloc(c->hm, cap * sizeof *nm) : NULL;
        if (nm)
            c->hm = nm;
        if (!nh || (c->bounded && !nm)) {
            c->oom = true;
            return LG_TL_NONE;
        }
        c->holds_cap = cap;
    }
    lock_state *s = &c->ls[li];
    a->holds[a->nholds++] = *h;
    if (c->bounded)
        c->hm[a->nholds - 1] = (hmeta){.seq = c->seq, .ord = s->nholds, .next_begin = UINT64_MAX,
                                       .keep = s->open_waits > 0 || c->seq < c->o.keep_first};
    if (!s->nholds || h->begin != s->tail_begin) {
        s->tail_begin = h->begin;
        s->tail = 0;
    }
    s->tail++;
    s->nholds++;
    c->seq++;
    return a->nholds - 1;
}

static void open_hold(ctx *c, size_t li, int tid, uint64_t ts, int mode, uint32_t stack)
{
    lock_state *s = &c->ls[li];
    for (size_t i = 0; i < s->nopen; i++) {
        if (s->open[i].tid == tid) {   /* recursive: one hold, deeper */
            s->open[i].depth++;
            return;
        }
    }
    lg_tl_hold h = {.tid = tid, .lock = c->a->locks[li].lock, .mode = (uint8_t)mode,
                    .begin = ts, .stack = stack};
    size_t hi = add_hold(c, li, &h);
    if (hi == LG_TL_NONE)
        return;
    if (!s->open) {
        s->open = s->open_inline;
        s->open_cap = 2;
    } else if (s->nopen == s->open_cap) {
        held *n = malloc(2 * s->open_cap * sizeof *n);
        if (!n) {
            c->oom = true;
            return;
        }
        memcpy(n, s->open, s->nopen * sizeof *n);
        if (s->open != s->open_inline)
            free(s->open);
        s->open = n;
        s->open_cap *= 2;
    }
    s->open[s->nopen++] = (held){.hold = hi, .tid = tid, .depth = 1};
}

/* A counted trace's release with no open hold (its acquisition was only counted): the hold
 * is known to have begun no later than the earliest open wait of another thread on this lock
 * that found this thread holding it; else only its end is known. Kept for the holds that
 * made waits (the Chrome export), never in the totals (the counts have those). */
static uint64_t counted_hold_begin(ctx *c, uint32_t lock, int tid, uint64_t ts)
{
    uint64_t begin = ts;
    for (size_t i = 0; i < c->a->nthreads; i++) {
        size_t wi = c->ts[i].wait;
        if (wi == LG_TL_NONE)
            continue;
        const lg_tl_wait *w = &c->a->waits[wi];
        if (w->lock == lock && w->owner == tid && w->begin < begin)
            begin = w->begin;
    }
    return begin;
}

/* A release (or a cond wait giving the mutex up) by tid at ts: close its hold, remember it as
 * the release that will end the next wait on this lock. */
static void release(ctx *c, size_t li, int tid, uint64_t ts, uint32_t stack)
{
    lock_state *s = &c->ls[li];
    bool counted = c->t->counted;
    uint64_t begin = ts;
    size_t i = 0, closed = LG_TL_NONE;
    for (; i < s->nopen && s->open[i].tid != tid; i++)
        ;
    if (i == s->nopen && counted) {
        begin = counted_hold_begin(c, c->a->locks[li].lock, tid, ts);
        lg_tl_hold h = {.tid = tid, .lock = c->a->locks[li].lock, .begin = begin, .end = ts,
                        .ended = true, .release_stack = stack};
        closed = add_hold(c, li, &h);
        /* a hold the events show is time held for sure (its acquisition is in the counts) */
        c->a->locks[li].total_hold += ts - begin;
        credit_holds(c, li, tid, ts - begin, 0);
    } else if (i == s->nopen) {
        c->a->unmatched_releases++;
    } else if (--s->open[i].depth > 0) {
        return;   /* a recursive lock is still held */
    } else {
        closed = s->open[i].hold;
        lg_tl_hold *h = &c->a->holds[closed];
        h->end = ts;
        h->ended = true;
        h->release_stack = stack;
        begin = h->begin;
        s->total_hold += ts - h->begin;
        credit_holds(c, li, tid, ts - h->begin, counted ? 0 : 1);
        s->open[i] = s->open[--s->nopen];
    }
    if (c->bounded) {
        if (!s->released || ts != s->last_ts)
            s->nclosed_now = 0;
        if (closed != LG_TL_NONE) {
            if (LG_GROW(s->closed_now, s->closed_cap, s->nclosed_now) < 0)
                c->oom = true;
            else
                s->closed_now[s->nclosed_now++] = closed;
        }
    }
    s->released = true;
    s->last_tid = tid;
    s->last_ts = ts;
    s->last_stack = stack;
    s->last_hold_begin = begin;
    s->last_hold = closed;
}

/* Bounded holds: what a lock wait on li beginning at ts will read (see the top). */
static void keep_for_wait(ctx *c, size_t li, uint64_t ts, int owner)
{
    lock_state *s = &c->ls[li];
    s->open_waits++;
    if (!c->bounded)
        return;
    /* longest_holders looks back LOOK_BACK holds from the first that began at or after ts */
    uint64_t first = s->nholds - (s->nholds && s->tail_begin >= ts ? s->tail : 0);
    size_t nw = c->a->nwaits - 1;   /* this wait's index: grown like a->waits */
    if (LG_APPEND(c->wfirst, nw, &first) < 0)
        c->oom = true;
    for (size_t i = 0; i < s->nopen; i++)
        if (c->hm[s->open[i].hold].ord + LOOK_BACK >= first || (owner && s->open[i].tid == owner))
            keep_hold(c, s->open[i].hold);
    /* the export's holder-at-start: a hold released at this very instant still counts */
    if (s->released && s->last_ts == ts)
        for (size_t i = 0; i < s->nclosed_now; i++)
            keep_hold(c, s->closed_now[i]);
}

static size_t begin_wait(ctx *c, const lg_tl_event *e, int kind, size_t li)
{
    lg_tl_wait w = {.tid = e->tid, .lock = e->lock, .kind = (uint8_t)kind,
                    .mode = e->mode, .begin = e->ts, .stack = e->stack};
    if (kind == LG_TL_WAIT_LOCK)
        w.owner = (int)e->arg;
    else
        w.mutex = e->arg;
    if (LG_APPEND(c->a->waits, c->a->nwaits, &w) < 0) {
        c->oom = true;
        return LG_TL_NONE;
    }
    if (kind == LG_TL_WAIT_LOCK) {
        keep_for_wait(c, li, e->ts, w.owner);
    } else if (c->bounded) {
        uint64_t none = 0;
        size_t nw = c->a->nwaits - 1;
        if (LG_APPEND(c->wfirst, nw, &none) < 0)
            c->oom = true;
    }
    return c->a->nwaits - 1;
}

static void end_lock_wait(ctx *c, size_t ti, size_t li, const lg_tl_event *e, bool acquired)
{
    thread_state *ts = &c->ts[ti];
    size_t wi = ts->wait;
    if (wi == LG_TL_NONE || c->a->waits[wi].lock != e->lock) {
        /* an end without its begin (lost to a flush or a damaged chunk): a zero wait */
        wi = begin_wait(c, e, LG_TL_WAIT_LOCK, li);
        if (wi == LG_TL_NONE)
            return;
    }
    ts->wait = LG_TL_NONE;
    lg_tl_wait *w = &c->a->waits[wi];
    lock_state *s = &c->ls[li];
    s->open_waits--;
    w->end = e->ts;
    w->ended = true;
    w->acquired = acquired;
    /* Counted traces record only the releases that found a waiter: an older one readied
     * nobody in this wait. */
    if (acquired && s->released && s->last_tid != e->tid
        && (!c->t->counted || s->last_ts >= w->begin)) {
        w->readier = s->last_tid;
        w->release_ts = s->last_ts;
        w->release_stack = s->last_stack;
        w->readier_hold_begin = s->last_hold_begin;
        keep_hold(c, s->last_hold);
    }
    uint64_t d = w->end - w->begin;
    lg_tl_lock_stats *l = &c->a->locks[li];
    l->total_wait += d;
    if (d > l->longest_wait)
        l->longest_wait = d;
    c->a->threads[ti].lock_wait += d;
    if (acquired) {
        if (!c->t->counted) {   /* counted: the counts have every acquisition */
            l->acquisitions++;
            c->a->threads[ti].acquisitions++;
        }
        l->contended++;
        c->a->threads[ti].contended++;
        if (LG_APPEND(c->a->twaits[ti], c->a->ntwaits[ti], &wi) < 0)
            c->oom = true;
        open_hold(c, li, e->tid, e->ts, e->mode, w->stack);
    } else {
        l->wait_failed++;
    }
}

static void event(ctx *c, const lg_tl_event *e)
{
    size_t ti = thread_of(c, e->tid);
    size_t li = is_lock_event(e->type) ? lock_of(c, e->lock) : LG_TL_NONE;
    size_t mi = e->type == LG_EV_COND_WAIT_BEGIN || e->type == LG_EV_COND_WAIT_END
        ? lock_of(c, e->arg) : LG_TL_NONE;
    if (ti == LG_TL_NONE || (is_lock_event(e->type) && li == LG_TL_NONE)
        || ((e->type == LG_EV_COND_WAIT_BEGIN || e->type == LG_EV_COND_WAIT_END)
            && mi == LG_TL_NONE)) {
        c->oom = true;   /* an id the caller did not declare: a bug, never silently wrong */
        return;
    }
    lg_tl_thread_stats *th = &c->a->threads[ti];
    thread_state *ts = &c->ts[ti];
    if (!ts->seen) {
        ts->seen = true;
        th->begin = e->ts;
    }
    switch (e->type) {
    case LG_EV_ACQUIRE:
    case LG_EV_ACQUIRE_END:
        if (!c->t->counted) {
            c->ls[li].acquisitions++;
            th->acquisitions++;
        }
        open_hold(c, li, e->tid, e->ts, e->mode, e->stack);
        break;
    case LG_EV_WAIT_BEGIN:
        ts->wait = begin_wait(c, e, LG_TL_WAIT_LOCK, li);
        break;
    case LG_EV_WAIT_END:
    case LG_EV_WAIT_FAIL:
        end_lock_wait(c, ti, li, e, e->type == LG_EV_WAIT_END);
        break;
    case LG_EV_RELEASE:
        release(c, li, e->tid, e->ts, e->stack);
        break;
    case LG_EV_TRYLOCK_FAIL:
        c->a->locks[li].trylock_failed++;
        break;
    case LG_EV_COND_WAIT_BEGIN:
        ts->cond = begin_wait(c, e, LG_TL_WAIT_COND, li);
        release(c, mi, e->tid, e->ts, e->stack);
        break;
    case LG_EV_COND_WAIT_END: {
        size_t wi = ts->cond;
        ts->cond = LG_TL_NONE;
        if (wi != LG_TL_NONE && c->a->waits[wi].lock == e->lock) {
            lg_tl_wait *w = &c->a->waits[wi];
            w->end = e->ts;
            w->ended = true;
            w->acquired = true;
            th->cond_wait += w->end - w->begin;
        }
        open_hold(c, mi, e->tid, e->ts, LG_MODE_EXCLUSIVE, e->stack);
        break;
    }
    case LG_EV_THREAD_START:
        th->begin = e->ts;
        break;
    case LG_EV_THREAD_EXIT:
        th->end = e->ts;
        ts->exited = true;
        break;
    default:
        break;   /* ACQUIRE_BEGIN: no count of its own */
    }
}

/* Waits and holds still open when the trace ended last until its end. */
static void close_open(ctx *c)
{
    lg_tl_analysis *a = c->a;
    for (size_t i = 0; i < a->nwaits; i++) {
        lg_tl_wait *w = &a->waits[i];
        if (w->ended)
            continue;
        w->end = a->end_ns > w->begin ? a->end_ns : w->begin;
        uint64_t d = w->end - w->begin;
        size_t ti = thread_of(c, w->tid);
        if (w->kind == LG_TL_WAIT_COND) {
            a->threads[ti].cond_wait += d;
            continue;
        }
        lg_tl_lock_stats *l = &a->locks[lock_of(c, w->lock)];
        l->total_wait += d;
        if (d > l->longest_wait)
            l->longest_wait = d;
        a->threads[ti].lock_wait += d;
    }
    for (size_t li = 0; li < a->nlocks; li++) {
        lock_state *s = &c->ls[li];
        for (size_t i = 0; i < s->nopen; i++) {
            lg_tl_hold *h = &a->holds[s->open[i].hold];
            if (c->t->counted) {
                /* its release readied nobody, so it has no event: only its begin is known */
                h->end = h->begin;
                h->ended = true;
                continue;
            }
            h->end = a->end_ns > h->begin ? a->end_ns : h->begin;
            a->locks[li].total_hold += h->end - h->begin;
            credit_holder(c, li, h->tid, h->end - h->begin);
        }
    }
    for (size_t ti = 0; ti < a->nthreads; ti++)
        if (!c->ts[ti].exited)
            a->threads[ti].end = a->end_ns > a->threads[ti].begin ? a->end_ns
                                                                  : a->threads[ti].begin;
}

static int cmp_hold_begin(const void *x, const void *y)
{
    const lg_tl_hold *a = x, *b = y;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    if (a->tid != b->tid)
        return (a->tid > b->tid) - (a->tid < b->tid);
    return (a->end > b->end) - (a->end < b->end);
}

/* A counted trace's acquisitions and holds: each entry's acquisitions, and its hold time
 * estimated from its sampled holds (their mean times the acquisitions; none sampled: 0). */
static void apply_counts(ctx *c)
{
    const lg_timeline *t = c->t;
    for (size_t i = 0; i < t->ncounts && !c->oom; i++) {
        const lg_tl_count *n = &t->counts[i];
        size_t li = find_lock(c->a, n->lock), ti = find_thread(c->a, n->tid);
        if (li == LG_TL_NONE || ti == LG_TL_NONE)
            continue;
        uint64_t hold = 0;
        if (n->sampled)
            hold = (uint64_t)((double)n->sampled_hold / (double)n->sampled
                              * (double)n->acquisitions);
        c->a->locks[li].acquisitions += (size_t)n->acquisitions;
        c->a->locks[li].total_hold += hold;
        c->a->threads[ti].acquisitions += (size_t)n->acquisitions;
        credit_holds(c, li, n->tid, hold, (size_t)n->acquisitions);
    }
}

/* For each lock wait, the thread whose holds covered most of it (per thread, summed): in a
 * convoy that is the slow holder everyone queued behind, even when the lock changed hands
 * (barging) before the waiter got it. Holds of an exclusive lock do not overlap, so the ones
 * inside a wait are contiguous in begin order; shared holds may, hence the bounded look-back. */
static int longest_holders(lg_tl_analysis *a, const hmeta *hm, const uint64_t *wfirst)
{
    size_t n = a->nholds;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    size_t *at = calloc(a->nlocks + 1, sizeof *at);
    if (!idx || !at) {
        free(idx);
        free(at);
        return -1;
    }
    /* Holds are in begin order already (made in time order; a counted trace's are sorted):
     * a stable counting sort by lock gives (lock, begin) order in linear time. */
    for (size_t i = 0; i < n; i++)
        at[find_lock(a, a->holds[i].lock) + 1]++;
    for (size_t li = 0; li < a->nlocks; li++)
        at[li + 1] += at[li];
    for (size_t i = 0; i < n; i++)
        idx[at[find_lock(a, a->holds[i].lock)]++] = i;
    free(at);
    for (size_t wi = 0; wi < a->nwaits; wi++) {
        lg_tl_wait *w = &a->waits[wi];
        if (w->kind != LG_TL_WAIT_LOCK || w->end <= w->begin)
            continue;
        /* first hold of this lock with begin >= w->begin */
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t m = lo + (hi - lo) / 2;
            const lg_tl_hold *h = &a->holds[idx[m]];
            if (h->lock < w->lock || (h->lock == w->lock && h->begin < w->begin))
                lo = m + 1;
            else
                hi = m;
        }
        size_t start = lo;
        if (hm) {
            /* bounded holds: the look-back counts every hold of the lock, kept or not (by
             * their ordinals), so the same holds are looked at as over all of them */
            uint64_t from = wfirst[wi] > LOOK_BACK ? wfirst[wi] - LOOK_BACK : 0;
            size_t l2 = 0, h2 = n;
            while (l2 < h2) {
                size_t m = l2 + (h2 - l2) / 2;
                const lg_tl_hold *h = &a->holds[idx[m]];
                if (h->lock < w->lock || (h->lock == w->lock && hm[idx[m]].ord < from))
                    l2 = m + 1;
                else
                    h2 = m;
            }
            start = l2;
        } else {
            for (int back = 0; back < LOOK_BACK && start > 0
                 && a->holds[idx[start - 1]].lock == w->lock; back++)
                start--;
        }
        int best = 0;
        uint64_t best_ns = 0;
        /* sum per thread over a small window of candidates */
        enum { SLOTS = 8 };
        int tids[SLOTS] = {0};
        uint64_t sums[SLOTS] = {0};
        for (size_t k = start; k < n; k++) {
            const lg_tl_hold *h = &a->holds[idx[k]];
            if (h->lock != w->lock || h->begin >= w->end)
                break;
            if (h->tid == w->tid)
                continue;
            uint64_t b = h->begin > w->begin ? h->begin : w->begin;
            uint64_t e = h->end < w->end ? h->end : w->end;
            if (e <= b)
                continue;
            int s = 0;
            while (s < SLOTS && tids[s] && tids[s] != h->tid)
                s++;
            if (s == SLOTS)
                s = SLOTS - 1;   /* many holders: the last slot is shared, a lower bound */
            tids[s] = h->tid;
            sums[s] += e - b;
            if (sums[s] > best_ns) {
                best_ns = sums[s];
                best = h->tid;
            }
        }
        w->longest_holder = best;
        w->longest_hold = best_ns;
    }
    free(idx);
    return 0;
}


static int cmp_holder(const void *x, const void *y)
{
    const lg_tl_holder *a = x, *b = y;
    if (a->hold != b->hold)
        return a->hold < b->hold ? 1 : -1;
    return (a->tid > b->tid) - (a->tid < b->tid);
}

static const lg_tl_analysis *sort_ctx;

static int cmp_longest(const void *x, const void *y)
{
    const lg_tl_wait *a = &sort_ctx->waits[*(const size_t *)x];
    const lg_tl_wait *b = &sort_ctx->waits[*(const size_t *)y];
    uint64_t da = a->end - a->begin, db = b->end - b->begin;
    if (da != db)
        return da < db ? 1 : -1;
    return (a->begin > b->begin) - (a->begin < b->begin);
}

static void free_ctx(ctx *c)
{
    if (c->ls) {
        for (size_t li = 0; li < c->a->nlocks; li++) {
            if (c->ls[li].open != c->ls[li].open_inline)
                free(c->ls[li].open);
            free(c->ls[li].holders);
            free(c->ls[li].closed_now);
        }
    }
    free(c->ls);
    free(c->ts);
    free(c->hm);
    free(c->wfirst);
    free(c->lock_ix);
    free(c->tid_ix);
    lg_tl_analysis_free(&c->an);   /* empty after a finish: the caller owns the arrays */
    free(c);
}

lg_tl_online *lg_tl_online_begin(const lg_timeline *t, const int *tids, size_t ntids,
                                 const uint32_t *locks, size_t nlocks,
                                 const lg_tl_online_options *o)
{
    ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t = t;
    c->a = &c->an;
    if (o)
        c->o = *o;
    c->bounded = c->o.retain && !t->counted;
    c->next_compact = c->o.compact_every ? c->o.compact_every : COMPACT_EVERY;
    lg_tl_analysis *a = c->a;
    a->counted = t->counted;
    if (build_ids(t, tids, ntids, locks, nlocks, a) < 0)
        goto oom;
    c->ls = calloc(a->nlocks ? a->nlocks : 1, sizeof *c->ls);
    c->ts = calloc(a->nthreads ? a->nthreads : 1, sizeof *c->ts);
    a->twaits = calloc(a->nthreads ? a->nthreads : 1, sizeof *a->twaits);
    a->ntwaits = calloc(a->nthreads ? a->nthreads : 1, sizeof *a->ntwaits);
    if (!c->ls || !c->ts || !a->twaits || !a->ntwaits)
        goto oom;
    for (size_t i = 0; i < a->nthreads; i++)
        c->ts[i].wait = c->ts[i].cond = LG_TL_NONE;
    for (size_t i = 0; i < a->nlocks; i++)
        c->ls[i].last_hold = LG_TL_NONE;
    dense_index(c);
    return c;
oom:
    free_ctx(c);
    return NULL;
}

int lg_tl_online_event(lg_tl_online *c, const lg_tl_event *e)
{
    if (c->oom)
        return -1;
    c->nevents++;
    if (e->ts > c->max_ts)
        c->max_ts = e->ts;
    event(c, e);
    return c->oom ? -1 : 0;
}

int lg_tl_online_finish(lg_tl_online *c, lg_tl_analysis *out)
{
    lg_tl_analysis *a = c->a;
    const lg_timeline *t = c->t;
    memset(out, 0, sizeof *out);
    a->nevents = c->nevents;
    a->end_ns = t->end_ns > c->max_ts ? t->end_ns : c->max_ts;
    a->nholds_seen = (size_t)c->seq;
    if (c->oom)
        goto oom;
    for (size_t li = 0; li < a->nlocks; li++) {
        a->locks[li].acquisitions += c->ls[li].acquisitions;
        a->locks[li].total_hold += c->ls[li].total_hold;
    }
    close_open(c);
    apply_counts(c);
    if (c->bounded)
        compact(c);
    if (t->counted && a->nholds)   /* releases added holds that began earlier */
        qsort(a->holds, a->nholds, sizeof *a->holds, cmp_hold_begin);
    a->next_begin = malloc((a->nholds ? a->nholds : 1) * sizeof *a->next_begin);
    if (c->oom || !a->next_begin)
        goto oom;
    for (size_t i = 0; i < a->nholds; i++)
        a->next_begin[i] = c->bounded ? c->hm[i].next_begin
                         : i + 1 < a->nholds ? a->holds[i + 1].begin : UINT64_MAX;
    if (longest_holders(a, c->bounded ? c->hm : NULL, c->wfirst) < 0)
        goto oom;
    if (t->has_sched && lg_tl_kernel_view(t, a) < 0)
        goto oom;

    for (size_t li = 0; li < a->nlocks; li++) {
        lock_state *s = &c->ls[li];
        if (s->nholders)
            qsort(s->holders, s->nholders, sizeof *s->holders, cmp_holder);
        lg_tl_lock_stats *l = &a->locks[li];
        for (size_t i = 0; i < s->nholders && i < LG_TL_TOP_HOLDERS; i++)
            l->top[l->ntop++] = s->holders[i];
    }
    for (size_t i = 0; i < a->nwaits; i++)
        if (a->waits[i].kind == LG_TL_WAIT_LOCK && LG_APPEND(a->longest, a->nlongest, &i) < 0)
            goto oom;
    sort_ctx = a;
    if (a->nlongest)
        qsort(a->longest, a->nlongest, sizeof *a->longest, cmp_longest);
    sort_ctx = NULL;
    *out = *a;
    memset(a, 0, sizeof *a);   /* out owns the arrays now; free_ctx reads nlocks: keep it */
    a->nlocks = out->nlocks;
    a->nthreads = 0;
    free_ctx(c);
    return 0;
oom:
    free_ctx(c);
    return -1;
}

void lg_tl_online_abort(lg_tl_online *c)
{
    if (!c)
        return;
    free_ctx(c);
}

int lg_tl_analyze(const lg_timeline *t, lg_tl_analysis *a)
{
    memset(a, 0, sizeof *a);
    int *tids = malloc((t->nevents + 1) * sizeof *tids);
    uint32_t *locks = malloc((2 * t->nevents + 1) * sizeof *locks);
    if (!tids || !locks) {
        free(tids);
        free(locks);
        return -1;
    }
    size_t nt = 0, nl = 0;
    for (size_t i = 0; i < t->nevents; i++) {
        const lg_tl_event *e = &t->events[i];
        tids[nt++] = e->tid;
        if (is_lock_event(e->type))
            locks[nl++] = e->lock;
        if (e->type == LG_EV_COND_WAIT_BEGIN || e->type == LG_EV_COND_WAIT_END)
            locks[nl++] = e->arg;
    }
    lg_tl_online *c = lg_tl_online_begin(t, tids, nt, locks, nl, NULL);
    free(tids);
    free(locks);
    if (!c)
        return -1;
    for (size_t i = 0; i < t->nevents; i++)
        if (lg_tl_online_event(c, &t->events[i]) < 0)
            break;
    return lg_tl_online_finish(c, a);
}

void lg_tl_analysis_free(lg_tl_analysis *a)
{
    if (a->twaits)
        for (size_t i = 0; i < a->nthreads; i++)
            free(a->twaits[i]);
    free(a->twaits);
    free(a->ntwaits);
    free(a->threads);
    free(a->locks);
    free(a->waits);
    free(a->holds);
    free(a->next_begin);
    free(a->longest);
    memset(a, 0, sizeof *a);
}

/* The readier's acquired wait that ended inside [hold_begin, release_ts]: how it came to hold
 * what it released. The latest such wait wins (it was the last thing holding it up). */
static size_t wait_behind(const lg_tl_analysis *a, int tid, uint64_t hold_begin,
                          uint64_t release_ts)
{
    size_t ti = find_thread(a, tid);
    if (ti == LG_TL_NONE)
        return LG_TL_NONE;
    for (size_t k = a->ntwaits[ti]; k-- > 0;) {
        const lg_tl_wait *w = &a->waits[a->twaits[ti][k]];
        if (w->end > release_ts)
            continue;
        return w->end >= hold_begin ? a->twaits[ti][k] : LG_TL_NONE;
    }
    return LG_TL_NONE;
}

size_t lg_tl_critical_path(const lg_tl_analysis *a, size_t w, lg_tl_step *out, size_t max)
{
    if (w >= a->nwaits || max == 0)
        return 0;
    size_t n = 0;
    out[n++] = (lg_tl_step){.tid = a->waits[w].tid, .lock = a->waits[w].lock, .wait = w};
    const lg_tl_wait *cur = &a->waits[w];
    while (n < max && cur->readier) {
        size_t next = wait_behind(a, cur->readier, cur->readier_hold_begin, cur->release_ts);
        out[n++] = (lg_tl_step){.tid = cur->readier, .lock = cur->lock, .wait = next,
                                .hold_begin = cur->readier_hold_begin,
                                .release_ts = cur->release_ts};
        if (next == LG_TL_NONE || next == w)
            break;
        cur = &a->waits[next];
    }
    return n;
}
