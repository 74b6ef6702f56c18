/* slowpath.c - everything the fast path hands off: a thread's first event, a lock seen for the
 * first time, a held-lock sequence not checked before, recursion, out-of-order release, lock
 * birth and death. A new sequence adds one edge from every held lock to the acquired one
 * (a successful trylock gets none: it never waited), each with the other held locks as gate
 * candidates, and searches for the cycle each new or weakened edge closes. A sequence whose
 * edges are all there and would not change (edgeset.c says so without a lock) takes no lock:
 * it only joins the chain set.
 *
 * Not here: the lock-free tables (locks.c, chains.c), graph algorithms (src/analysis),
 * reporting (report.c).
 */
#include <stdlib.h>
#include <string.h>

#include "fastpath.h"
#include "misuse.h"
#include "real.h"
#include "record.h"

#define RT_MAX_CYCLE 100000

static uint32_t *cycle_buf;
static lg_u64map reported;    /* sorted lock-set hash of every cycle already reported */

static uint64_t node_key(uint32_t idx, void *ctx)
{
    (void)ctx;
    rt_lock *l = rt_lock_by_idx(idx);
    return l ? rt_lock_key(idx, atomic_load(&l->gen)) : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Hash of the sorted set of the cycle's lock identities: one finding per distinct cycle. */
static uint64_t cycle_id(const uint32_t *path, size_t n)
{
    uint64_t *keys = malloc(n * sizeof *keys);
    if (!keys)
        return 0;
    for (size_t i = 0; i < n; i++)
        keys[i] = node_key(rt.graph.edges[path[i]].from, NULL);
    qsort(keys, n, sizeof *keys, cmp_u64);
    uint64_t h = 0x9ae16a3b2f90404full;
    for (size_t i = 0; i < n; i++)
        h = lg_mix64(h ^ keys[i]);
    free(keys);
    return h | 1;
}

typedef struct pending {
    rt_cycle_edge *edges;
    size_t n;
    lg_lo_class cls;
} pending;

/* Graph lock held: look for the cycle closed by edge ei; copy it out when it is new. */
static void check_edge(uint32_t ei, pending *out)
{
    if (!cycle_buf) {
        cycle_buf = malloc(RT_MAX_CYCLE * sizeof *cycle_buf);
        if (!cycle_buf)
            return;
    }
    atomic_fetch_add_explicit(&rt.counters[RT_C_SEARCHES], 1, memory_order_relaxed);
    size_t n = lg_lo_find_cycle(&rt.graph, ei, cycle_buf, RT_MAX_CYCLE);
    if (!n)
        return;
    /* Rotate so the cycle starts at its oldest edge: the first-seen order reads first. */
    size_t oldest = 0;
    for (size_t i = 1; i < n; i++)
        if (rt.graph.edges[cycle_buf[i]].seq < rt.graph.edges[cycle_buf[oldest]].seq)
            oldest = i;
    uint64_t id = cycle_id(cycle_buf, n);
    lg_lo_class cls = lg_lo_classify(&rt.graph, cycle_buf, n, node_key, NULL);
    /* One finding per distinct cycle: a later edge of another thread or an untimed
     * occurrence adds nothing new (it used to print the cycle again, without its
     * "one thread's code paths" marker). Only a gated cycle losing its gate is reported again:
     * it becomes a defect. */
    uint64_t dkey = id ^ (cls.gated ? 0x100 : 0);
    if (dkey == UINT64_MAX || dkey == 0)
        dkey = 5;
    if (lg_u64map_get(&reported, dkey, NULL))
        return;
    lg_u64map_put(&reported, dkey, 1);
    out->edges = calloc(n, sizeof *out->edges);
    if (!out->edges)
        return;
    for (size_t k = 0; k < n; k++) {
        const lg_lo_edge *e = &rt.graph.edges[cycle_buf[(oldest + k) % n]];
        rt_cycle_edge *c = &out->edges[k];
        c->from = e->from;
        c->to = e->to;
        c->bits = e->bits;
        c->flags = e->flags;
        c->tid = e->tid;
        c->from_stack = e->from_stack;
        c->to_stack = e->to_stack;
        memcpy(c->tname, e->tname, sizeof c->tname);
    }
    out->n = n;
    out->cls = cls;
}

static unsigned dep_bit(const rt_held *h, unsigned mode, unsigned flags)
{
    bool from_shared = h->mode == LG_MODE_SHARED;
    bool to_r = (flags & RT_ACQ_READ_R) && mode == LG_MODE_SHARED;
    unsigned n_read = mode == LG_MODE_SHARED && !to_r ? LG_DEP_N_READ : 0;
    return (from_shared ? (to_r ? LG_DEP_SR : LG_DEP_SN) : (to_r ? LG_DEP_ER : LG_DEP_EN)) | n_read;
}

/* Edges come from the RT_EDGE_WINDOW innermost held locks only. A lock held further out
 * already has an edge to one of them (added when that one was taken: it was within that
 * acquisition's window), so the new lock is reachable from it through them and a cycle
 * through it is still found, as a longer path. With every held lock an edge source, N
 * locks held at once would make N^2/2 edges (5,000 held: 12.5 million edges, 1.6 GB);
 * this keeps it N * window. Lost: a path broken by a run of RT_EDGE_WINDOW trylocks (they
 * get no incoming edge), and a cycle through a lock more than the window deep is reported
 * with the held locks in between. */
#define RT_EDGE_WINDOW 64

/* Add the edges of acquiring l while holding t->held[0..depth). Graph lock held. */
static void add_edges(rt_thread *t, rt_lock *l, uint32_t gen, unsigned mode, unsigned flags,
                      uint32_t stack, pending *pend, size_t *npend)
{
    uint64_t heldkeys[8];
    for (uint32_t i = t->depth > RT_EDGE_WINDOW ? t->depth - RT_EDGE_WINDOW : 0; i < t->depth; i++) {
        rt_held *h = &t->held[i];
        if (h->lock == l || !rt_lock_mark_edges(h->lock, h->gen) || !rt_lock_mark_edges(l, gen))
            continue;   /* one of them died meanwhile: no edge between dead identities */
        /* Gate candidates: the outermost other held locks. */
        size_t nk = 0;
        for (uint32_t j = 0; j < t->depth && nk < 8; j++)
            if (j != i && t->held[j].lock != l)
                heldkeys[nk++] = rt_lock_key(t->held[j].lock->idx, t->held[j].gen);
        lg_lo_occurrence o = {
            .from = h->lock->idx, .to = l->idx, .bits = (uint8_t)dep_bit(h, mode, flags),
            .timed = flags & RT_ACQ_TIMED, .cond = flags & RT_ACQ_COND, .tid = t->tid, .tname = t->name,
            .from_stack = h->stack, .to_stack = stack, .held = heldkeys, .nheld = nk,
        };
        uint32_t ei;
        int r = lg_lo_add(&rt.graph, &o, &ei);
        if (r >= 0)
            rt_edge_note(&rt.graph.edges[ei], h->gen, gen, r == 0);
        if (r == 1) {
            atomic_fetch_add_explicit(&rt.counters[RT_C_EDGES], 1, memory_order_relaxed);
            /* The graph's order answers most edges in O(1): no cycle can close. */
            if (*npend < 4 && lg_lo_may_cycle(&rt.graph, ei)) {
                check_edge(ei, &pend[*npend]);
                if (pend[*npend].n)
                    (*npend)++;
            }
        }
    }
    (void)gen;
}

/* Whether every edge add_edges would make for this acquisition is in the graph already and
 * would not change (edgeset.c): then it needs no graph lock. The same window and the same
 * skips as add_edges: a held lock that died meanwhile makes no edge. */
static bool edges_known(const rt_thread *t, const rt_lock *l, uint32_t gen, unsigned mode,
                        unsigned flags)
{
    if (atomic_load_explicit(&l->gen, memory_order_acquire) != gen)
        return true;   /* l died meanwhile: add_edges would add nothing */
    for (uint32_t i = t->depth > RT_EDGE_WINDOW ? t->depth - RT_EDGE_WINDOW : 0; i < t->depth; i++) {
        const rt_held *h = &t->held[i];
        if (h->lock == l || atomic_load_explicit(&h->lock->gen, memory_order_acquire) != h->gen)
            continue;
        if (!rt_edge_known(h->lock->idx, h->gen, l->idx, gen, dep_bit(h, mode, flags),
                           flags & RT_ACQ_TIMED, t->tid))
            return false;
    }
    return true;
}

/* A read lock taken again by its reader, on a writer-preferring rwlock (readers are
 * non-recursive, lockdep's r): once a writer queues between the two, the second read waits
 * for the writer, which waits for the first: a self-deadlock. Reported once per lock. */
static void nested_read(rt_thread *t, const rt_held *h, uintptr_t pc)
{
    rt_lock *l = h->lock;
    uint64_t key = lg_mix64(rt_lock_key(l->idx, h->gen)) ^ 0x800;
    rt_flock_lock(&rt.graph_lock);
    bool seen = lg_u64map_get(&reported, key, NULL);
    if (!seen)
        lg_u64map_put(&reported, key, 1);
    rt_flock_unlock(&rt.graph_lock);
    if (seen)
        return;
    rt_thread_refresh_name(t);
    rt_cycle_edge e = {.from = l->idx, .to = l->idx, .bits = LG_DEP_SN | LG_DEP_N_READ,
                       .tid = t->tid, .from_stack = h->stack,
                       .to_stack = rt_stack_capture(2, pc)};
    memcpy(e.tname, t->name, sizeof e.tname);
    lg_lo_class cls = {0};   /* SELF, set by the report: not "code paths in opposite orders" */
    rt_report_cycle(&e, 1, &cls);
}

/* Entry i's key (and prev) anew, from the entry below it (rt_held: kept consistent). */
static void recompute_key(rt_thread *t, uint32_t i)
{
    rt_held *h = &t->held[i];
    h->prev = i ? t->held[i - 1].key : RT_KEY_SEED;
    h->key = rt_chain_hash(h->prev, h->lock->idx, h->gen, (unsigned)h->mode << 8 | h->flags,
                           h->pc);
}

static void acquired_slow(rt_thread *t, void *addr, unsigned ft, unsigned mode,
                          unsigned flags, uintptr_t pc)
{
    lg_lock_type type = RT_FT_TYPE(ft);
    rt_gone_check(t);   /* another thread released some of ours: forget them first */
    rt_nested_check(t); /* and a signal handler some others */
    uint32_t before = t->depth;
    bool count = false;
    if (unlikely(rt_rec_counting) && t->cap) {
        /* Recording without --all-events: counted, not an event (record.c). */
        if (rt_rec_acquire_counted(t, addr, type, mode, flags, pc))
            return;
        count = true;
    } else if (t->fast_cap == 0 && t->cap) {
        /* A thread that records: the fast path's work with the real capacity, then the event
         * from what it found (a miss is recorded from the address, and handled below). */
        bool done = rt_acquire_push(t, t->cap, addr, mode, flags, pc);
        if (lg_trace_on) {
            if (done)
                rt_rec_acquired_held(&t->held[t->depth - 1], type);
            else
                rt_rec_acquired(addr, type, mode, flags, pc);
        }
        if (done)
            return;
    } else if (unlikely(lg_trace_on) && !rt_rec_counting) {
        rt_rec_acquired(addr, type, mode, flags, pc);   /* a thread's first event */
    }
    if (!atomic_load_explicit(&rt.ready, memory_order_acquire))
        rt_init();
    t = rt_thread_setup();
    if (t->cap == 0)
        return;   /* out of memory for the record: this thread goes unchecked */
    if (unlikely(rt_rec_counting) && !count) {   /* a thread's first event */
        count = true;
        before = t->depth;
    }
    rt_guard_on(t);
    atomic_fetch_add_explicit(&rt.counters[RT_C_SLOW], 1, memory_order_relaxed);

    /* Recursion: the holder takes it again. Neither an edge nor a self-deadlock. */
    if (flags & RT_ACQ_REENTRY) {
        for (uint32_t i = t->depth; i-- > 0;)
            if (t->held[i].addr == (uintptr_t)addr) {
                t->held[i].count++;
                if (type == LG_LOCK_RWLOCK && mode == LG_MODE_SHARED &&
                    t->held[i].mode == LG_MODE_SHARED && !(flags & (RT_ACQ_READ_R | RT_ACQ_TRY)))
                    nested_read(t, &t->held[i], pc);
                goto out;
            }
        flags &= ~(unsigned)RT_ACQ_REENTRY;
    }
    if (t->depth >= t->cap && rt_thread_grow(t) < 0)
        goto out;
    rt_lock *l = rt_lock_get((uintptr_t)addr, type);
    if (!l || (atomic_load(&l->flags) & RT_LOCK_UNTRACKED))
        goto out;
    /* Whose calls it is used through (reports say so): memory reused by another family's
     * lock takes that family's. */
    if (atomic_load_explicit(&rt_lock_cold_of(l)->family, memory_order_relaxed) != RT_FT_FAM(ft))
        atomic_store_explicit(&rt_lock_cold_of(l)->family, (uint8_t)RT_FT_FAM(ft),
                              memory_order_relaxed);
    /* A lock on a thread stack: same identity only while the frame that owns it lives. */
    int stid;
    if (!(atomic_load(&l->flags) & (RT_LOCK_STACK | RT_LOCK_NOTSTACK))) {
        if (rt_addr_on_stack((uintptr_t)addr, &stid, false)) {
            rt_flock_lock(&rt.graph_lock);
            rt_lock_cold_of(l)->frame_sig = rt_stack_frame_sig((uintptr_t)addr);
            atomic_fetch_or(&l->flags, RT_LOCK_STACK);
            rt_flock_unlock(&rt.graph_lock);
        } else {
            atomic_fetch_or(&l->flags, RT_LOCK_NOTSTACK);
        }
    } else if (atomic_load(&l->flags) & RT_LOCK_STACK) {
        uint64_t sig = rt_stack_frame_sig((uintptr_t)addr);
        if (sig != rt_lock_cold_of(l)->frame_sig) {
            bool held = false;   /* still held by us: the same frame, unwinding noise */
            for (uint32_t i = 0; i < t->depth; i++)
                held |= t->held[i].lock == l;
            if (!held) {
                rt_lock_kill(l);
                rt_flock_lock(&rt.graph_lock);
                rt_lock_cold_of(l)->frame_sig = sig;
                atomic_fetch_or(&l->flags, RT_LOCK_STACK);
                rt_flock_unlock(&rt.graph_lock);
            }
        }
    }
    if (atomic_load_explicit(&l->dead, memory_order_relaxed))
        atomic_store_explicit(&l->dead, 0, memory_order_relaxed);   /* in use again */
    uint32_t gen = atomic_load(&l->gen);
    uint64_t prev = t->depth ? t->held[t->depth - 1].key : RT_KEY_SEED;
    uint64_t key = rt_chain_hash(prev, l->idx, gen, mode << 8 | flags, pc);
    uint32_t stack = 0;
    pending pend[4];
    size_t npend = 0;
    memset(pend, 0, sizeof pend);
    /* Reused for later acquisitions along this chain (any thread, any callers): marked
     * shared there; this one unwound its own. A stack found in the chain set is shared. */
    uint32_t shared = 0;
    if (!rt_chain_lookup(key, &stack)) {
        stack = rt_stack_capture(2, pc);
        shared = stack ? stack | RT_STACK_SHARED : 0;
        if ((flags & RT_ACQ_TRY) || edges_known(t, l, gen, mode, flags)) {
            rt_chain_add(key, shared);   /* nothing for the graph: no lock */
        } else {
            rt_flock_lock(&rt.graph_lock);
            add_edges(t, l, gen, mode, flags, stack, pend, &npend);
            rt_chain_insert(key, shared);
            rt_flock_unlock(&rt.graph_lock);
        }
    } else {
        shared = stack;
    }
    if (t->depth == 0) {
        rt_lock_cold *c = rt_lock_cold_of(l);
        c->first_pc = pc;
        c->first_mf = (uint16_t)(mode << 8 | flags);
        l->first_stack = shared;
        l->first_key = key;
    }
    rt_held *h = &t->held[t->depth];
    *h = (rt_held){.addr = (uintptr_t)addr, .lock = l, .gen = gen, .mode = (uint8_t)mode,
                   .flags = (uint8_t)flags, .count = 1, .stack = stack, .pc = pc, .prev = prev,
                   .key = key};
    t->depth++;
    if (npend) {
        /* A report: now the kernel may be asked for this thread's name (edges carry the one
         * known when they were made: no system call on the lock path). */
        char known[16];
        memcpy(known, t->name, sizeof known);
        rt_thread_refresh_name(t);
        for (size_t i = 0; i < npend; i++)
            for (size_t k = 0; k < pend[i].n; k++)
                if (pend[i].edges[k].tid == t->tid && !strcmp(pend[i].edges[k].tname, known))
                    memcpy(pend[i].edges[k].tname, t->name, sizeof t->name);
    }
    for (size_t i = 0; i < npend; i++) {
        rt_report_cycle(pend[i].edges, pend[i].n, &pend[i].cls);
        free(pend[i].edges);
    }
out:
    rt_guard_off(t);
    if (count)
        rt_rec_counted_held(t, addr, before, type);
}

/* Whether a nested call's acquisition of addr is still held (not recorded: nor is its
 * release). */
static bool nested_holds(uintptr_t addr)
{
    for (uint32_t i = rt_nested.nheld; i-- > 0;)
        if (rt_nested.held[i].addr == addr)
            return true;
    return false;
}

static void released_slow(rt_thread *t, void *addr, int ft, uintptr_t pc)
{
    int type = ft < 0 ? ft : (int)RT_FT_TYPE((unsigned)ft);
    rt_gone_check(t);
    rt_nested_check(t);
    if (unlikely(rt_rec_counting) && t->cap) {
        /* Recording without --all-events: a timed hold's end, a release that readies a
         * waiter (record.c); then the fast path's pop. */
        uint32_t d = t->depth;
        if (type != RT_REL_COND && !nested_holds((uintptr_t)addr))
            rt_rec_release_counted(t, addr, type, pc);
        if (d && t->held[d - 1].addr == (uintptr_t)addr && rt_release_pop(t, t->cap, addr))
            return;
    } else if (t->fast_cap == 0 && t->cap) {
        /* A thread that records: the event, then the fast path's pop. */
        uint32_t d = t->depth;
        bool top = d && t->held[d - 1].addr == (uintptr_t)addr;
        if (lg_trace_on && type != RT_REL_COND && (top || !nested_holds((uintptr_t)addr))) {
            if (top)
                rt_rec_released_held(&t->held[d - 1], (lg_lock_type)type, pc);
            else
                rt_rec_released(addr, (lg_lock_type)type, pc);
        }
        if (top && rt_release_pop(t, t->cap, addr))
            return;
    } else if (unlikely(lg_trace_on) && type != RT_REL_COND && !nested_holds((uintptr_t)addr)) {
        rt_rec_released(addr, (lg_lock_type)type, pc);
    }
    if (t->cap == 0) {
        if (!rt_nested_release_own((uintptr_t)addr))
            rt_release_foreign(t, (uintptr_t)addr, ft, pc);   /* its first event */
        return;
    }
    for (uint32_t i = t->depth; i-- > 0;) {
        rt_held *h = &t->held[i];
        if (h->addr != (uintptr_t)addr)
            continue;
        if (--h->count > 0)
            return;
        rt_held_remove(t, i);
        return;
    }
    /* Taken by a signal handler that interrupted the runtime (nested.c), or not held by us:
     * released for another thread (semaphore-like use of a normal mutex, a read lock handed
     * over), or a lock taken before we were loaded. */
    if (!rt_nested_release_own((uintptr_t)addr))
        rt_release_foreign(t, (uintptr_t)addr, ft, pc);
}

/* The two entries from the fast path: a nested call (rt.h) takes nested.c's path; any other
 * runs with rt_busy set, so a handler interrupting it is nested. */
void rt_acquired_slow(rt_thread *t, void *addr, unsigned ft, unsigned mode,
                      unsigned flags, uintptr_t pc)
{
    if (rt_is_nested(t)) {
        rt_nested_acquired(t, (uintptr_t)addr, flags);
        if (lg_trace_on && !t->guard)
            rt_nested_dropped();
        return;
    }
    rt_busy = 1;
    RT_SIGNAL_FENCE();
    acquired_slow(t, addr, ft, mode, flags, pc);
    RT_SIGNAL_FENCE();
    rt_busy = 0;
}

void rt_released_slow(rt_thread *t, void *addr, int ft, uintptr_t pc)
{
    if (rt_is_nested(t)) {
        int type = ft < 0 ? ft : (int)RT_FT_TYPE((unsigned)ft);
        rt_nested_released(t, (uintptr_t)addr, type);
        if (lg_trace_on && !t->guard && type != RT_REL_COND)
            rt_nested_dropped();
        return;
    }
    rt_busy = 1;
    RT_SIGNAL_FENCE();
    released_slow(t, addr, ft, pc);
    RT_SIGNAL_FENCE();
    rt_busy = 0;
}

void rt_held_remove(rt_thread *t, uint32_t i)
{
    /* A releaser in another thread may be scanning held[] for its lock (ownership.c): it
     * retries while held_seq is odd, since entries move under it here. */
    atomic_fetch_add_explicit(&t->held_seq, 1, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    rt_held *h = &t->held[i];
    memmove(h, h + 1, (t->depth - i - 1) * sizeof *h);
    t->depth--;
    for (uint32_t j = i; j < t->depth; j++)
        recompute_key(t, j);
    atomic_fetch_add_explicit(&t->held_seq, 1, memory_order_release);
}

/* Births and deaths in a nested call are not seen (the lock keeps its identity): they
 * would take the lock table's and the graph's locks. */
static void lock_created(void *addr, unsigned ft, unsigned lflags, rt_lock *l)
{
    lg_lock_type type = RT_FT_TYPE(ft);
    if (!atomic_load_explicit(&rt.ready, memory_order_acquire))
        rt_init();
    if (!l || !rt_lock_dead_clean(l)) {
        rt_thread *t = rt_thread_setup();
        rt_guard_on(t);
        if (l)
            rt_lock_kill_live(l);
        else
            l = rt_lock_get((uintptr_t)addr, type);   /* finds one another thread made since */
        rt_guard_off(t);
        if (!l)
            return;
    } else {
        rt_name_forget((uintptr_t)addr);   /* all a second death does (rt_lock_kill) */
    }
    rt_lock_cold *c = rt_lock_cold_of(l);
    l->type = (uint8_t)type;
    if (atomic_load_explicit(&c->destroyed, memory_order_relaxed))
        atomic_store_explicit(&c->destroyed, 0, memory_order_relaxed);
    if (atomic_load_explicit(&c->family, memory_order_relaxed) != RT_FT_FAM(ft))
        atomic_store_explicit(&c->family, (uint8_t)RT_FT_FAM(ft), memory_order_relaxed);
    uint8_t f = (uint8_t)(lflags | (atomic_load_explicit(&l->flags, memory_order_relaxed)
                                    & RT_LOCK_UNTRACKED));
    if (atomic_load_explicit(&l->flags, memory_order_relaxed) != f)
        atomic_store_explicit(&l->flags, f, memory_order_release);
    if (atomic_load_explicit(&l->dead, memory_order_relaxed))
        atomic_store_explicit(&l->dead, 0, memory_order_relaxed);
}

void rt_lock_born(void *addr, unsigned ft, unsigned lflags, rt_lock *found)
{
    if (rt_is_nested(rt_self))
        return;
    rt_busy = 1;
    RT_SIGNAL_FENCE();
    lock_created(addr, ft, lflags, found);
    RT_SIGNAL_FENCE();
    rt_busy = 0;
}

void rt_lock_created(void *addr, unsigned ft, unsigned lflags)
{
    rt_lock_born(addr, ft, lflags, rt_lock_find((uintptr_t)addr));
}

void rt_lock_destroyed(void *addr, uintptr_t pc)
{
    rt_thread *t = rt_self;
    if (rt_is_nested(t))
        return;
    rt_lock *l = rt_lock_find_hinted((uintptr_t)addr);
    if (!l)
        return;
    rt_busy = 1;
    RT_SIGNAL_FENCE();
    /* A destroy glibc refuses (a locked mutex: EBUSY) leaves the lock alive and held. Only
     * the native family's locks have glibc's layout to read (misuse.c); an annotated lock's
     * holders are the program's own account (lg_mutex_destroy), never refused. */
    rt_lock_cold *c = rt_lock_cold_of(l);
    unsigned fam = atomic_load_explicit(&c->family, memory_order_relaxed);
    bool native = fam == RT_FAM_NATIVE;
    if (native && l->type == LG_LOCK_MUTEX && rt_mutex_poisoned(addr)
        && rt_misuse_after_destroy((uintptr_t)addr, l->type, pc, NULL)) {
        RT_SIGNAL_FENCE();   /* destroyed twice: the first destroy's record stays */
        rt_busy = 0;
        return;
    }
    /* A free lock (the usual destroy: churn) costs the inline load of its lock word. */
    if ((native || fam == RT_FAM_CUSTOM) && !rt_lock_looks_free((uintptr_t)addr, l->type)
        && rt_misuse_destroy(t, (uintptr_t)addr, l->type, pc)) {
        RT_SIGNAL_FENCE();
        rt_busy = 0;
        return;
    }
    t = rt_self;   /* the report may have set the thread up */
    rt_guard_on(t);
    rt_lock_kill(l);
    if (native && l->type == LG_LOCK_MUTEX) {
        /* Only a mutex: glibc marks a destroyed one (misuse.c), so a use is certain. The
         * call site alone, not a stack walk: destroy churn stays cheap. */
        c->destroy_tid = t->tid;
        c->destroy_pc = pc;
        atomic_store_explicit(&c->destroyed, 1, memory_order_release);
    }
    rt_guard_off(t);
    RT_SIGNAL_FENCE();
    rt_busy = 0;
}
