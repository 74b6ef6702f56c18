/* fastpath.h - what an interposed acquisition or release costs when nothing is new.
 *
 * Budget: acquisition = one TLS load, one lock-free probe of the lock table (address ->
 * identity), one hash of (previous chain key, lock, generation, mode, call site), one
 * lock-free probe of the chain set, one push. The same acquisition again at the same depth
 * (a loop) is known from the entry the last one left above the top (rt_held_again: no
 * lock-table probe, no hash, the entry rewritten in two stores); nothing held, the lock
 * record's own first_key replaces the chain-set probe. Release = one compare against the top of the
 * held stack and a pop. No global lock, no atomic read-modify-write. Anything else (a new
 * thread, a new lock, a new held-lock sequence, a release out of order, recursion, a thread
 * that records a trace) is one out-of-line call into slowpath.c. `record --all-events` adds
 * nothing here: a recording thread's fast_cap is 0, so its events all take that one call.
 * `record` by default adds a count (one probe) and a lock-word load (record-count.h).
 *
 * Signals: the push and the pop run with the thread's rt_busy set (two byte stores to TLS
 * and compiler-only fences), so a handler interrupting them, or anything else the runtime
 * does on this thread, takes nested.c's path and never touches the half-written entry.
 */
#ifndef LG_RT_FASTPATH_H
#define LG_RT_FASTPATH_H

#include "../util/hash.h"
#include "record-count.h"
#include "rt.h"

/* locks.c exports its table so the probe can be inlined here. */
typedef struct rt_lock_table {
    size_t mask;
    _Atomic(rt_lock *) slots[];
} rt_lock_table;
extern _Atomic(rt_lock_table *) rt_lock_tab;

/* Slot of an address. 64 KiB regions of address space are scattered over the table (hashed),
 * but within a region addresses keep their order in a run of 4096 slots, one per 16 bytes, so
 * a program walking an array of locks walks the table in order too: one random jump per 64
 * KiB of locks instead of per 4 KiB page was worth ~3 ns a pair on a 1M-lock walk (TLB and
 * cache misses). Each region's run is also rotated by its hash, so locks at the same offset
 * of many regions (one per thread stack, per 64 KiB object) do not pile onto one slot.
 * Locks closer than 16 bytes (spinlocks in an array) share a neighbourhood: linear probing
 * sorts them out. */
static inline size_t rt_slot_of(uintptr_t a, size_t mask)
{
    uint64_t h = lg_golden((uint64_t)(a >> 16));
    return (size_t)((h >> 20) << 12 | (((a >> 4) + (h >> 8)) & 4095)) & mask;
}

static inline __attribute__((always_inline)) rt_lock *rt_lock_find(uintptr_t addr)
{
    rt_lock_table *t = atomic_load_explicit(&rt_lock_tab, memory_order_acquire);
    if (unlikely(!t))
        return NULL;
    size_t i = rt_slot_of(addr, t->mask);
    for (;;) {
        rt_lock *l = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (!l || atomic_load_explicit(&l->addr, memory_order_relaxed) == addr)
            return l;
        i = (i + 1) & t->mask;
    }
}

/* The record this thread's last init or destroy looked up: churn (malloc hands the same
 * chunk back) finds it again without the table probe. A record never changes its address,
 * so the hint is right whenever that address matches (a signal handler overwriting it
 * between the load and the compare changes only the next call's hint). */
extern __thread rt_lock *rt_find_hint;
static inline rt_lock *rt_lock_find_hinted(uintptr_t addr)
{
    rt_lock *l = rt_find_hint;
    if (likely(l && atomic_load_explicit(&l->addr, memory_order_relaxed) == addr))
        return l;
    l = rt_lock_find(addr);
    if (l)
        rt_find_hint = l;
    return l;
}

static inline uint64_t rt_chain_hash(uint64_t prev, uint32_t idx, uint32_t gen,
                                     unsigned modeflags, uintptr_t pc)
{
    uint64_t x = prev ^ ((uint64_t)idx << 32 | gen);
    x *= LG_GOLDEN64;
    x ^= (x >> 29) ^ ((uint64_t)pc * 0xc2b2ae3d27d4eb4full) ^ modeflags;
    x *= LG_SPLITMIX_M1;
    x ^= x >> 32;
    return x | 1;   /* never 0: 0 marks an empty slot */
}

#define RT_KEY_SEED 0x6c6f636b67726170ull

/* The lock-free chain set (chains.c). */
typedef struct rt_chain_table {
    size_t mask;
    struct rt_chain_slot {
        _Atomic uint64_t key;
        uint32_t stack;
    } slots[];
} rt_chain_table;
extern _Atomic(rt_chain_table *) rt_chain_tab;

static inline __attribute__((always_inline)) bool rt_chain_find(uint64_t key, uint32_t *stack)
{
    rt_chain_table *t = atomic_load_explicit(&rt_chain_tab, memory_order_acquire);
    if (unlikely(!t))
        return false;
    size_t i = (size_t)(key >> 7) & t->mask;
    for (;;) {
        uint64_t k = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
        if (k == key) {
            *stack = t->slots[i].stack;
            return true;
        }
        if (!k)
            return false;
        i = (i + 1) & t->mask;
    }
}

/* A fast acquisition's entry on top of t's held stack (rt_busy set by the caller). */
static inline __attribute__((always_inline)) void rt_held_push(rt_thread *t, uint32_t d,
                                                               void *addr, rt_lock *l,
                                                               uint32_t gen, unsigned mode,
                                                               unsigned flags, uint32_t stack,
                                                               uintptr_t pc, uint64_t prev,
                                                               uint64_t key)
{
    rt_held *h = &t->held[d];
    h->addr = (uintptr_t)addr;
    h->lock = l;
    h->gen = gen;
    h->mode = (uint8_t)mode;
    h->flags = (uint8_t)flags;
    h->count = 1;
    h->stack = stack;
    h->pc = pc;
    h->prev = prev;
    h->key = key;
    t->depth = d + 1;
}

/* Whether h, the entry the last acquisition at this depth left above the top of the held
 * stack, was this same acquisition: the same lock record (a record never changes its
 * address), generation, call site, mode and flags on top of the same chain (prev). Every
 * entry's key is the chain hash of its own fields and prev (rt_held), so h->key is then this
 * acquisition's key without the lock-table probe and the hash. A thread's loop that takes
 * the same locks at the same places meets this at every depth. */
static inline __attribute__((always_inline)) bool rt_held_again(const rt_held *h, void *addr,
                                                                unsigned mode, unsigned flags,
                                                                uintptr_t pc, uint64_t prev)
{
    /* h->lock is the record of h->addr (it was looked up by it); entries never pushed are
     * zero (an annotation may name address 0) */
    const rt_lock *l = h->lock;
    return h->addr == (uintptr_t)addr && h->pc == pc && h->prev == prev && h->mode == mode
           && h->flags == flags && likely(l != NULL)
           && atomic_load_explicit(&l->gen, memory_order_relaxed) == h->gen
           && !(atomic_load_explicit(&l->flags, memory_order_relaxed) & RT_LOCK_SLOWPATH);
}

/* The acquisition stack of chain key at depth d from what the runtime already knows: false
 * for a new chain (the slow path adds its edges). */
static inline __attribute__((always_inline)) bool rt_chain_stack(const rt_lock *l, uint32_t d,
                                                                 uint64_t key, uint32_t *stack)
{
    /* Nothing held: no edge to add, only the acquisition stack to know. The lock record
     * remembers it for its last outermost call site (no chain-set probe). */
    if (d == 0 && likely(l->first_key == key)) {
        *stack = l->first_stack;
        return true;
    }
    return rt_chain_find(key, stack);
}

/* rt_acquire_push when the entry above the top is this acquisition again (rt_held_again),
 * for a thread not recording or one that counts (`record` by default: counted here unless
 * its key is new or its sampling countdown is about to run out, which rt_acquire_push's
 * path handles); false, having changed nothing, for everything else. Small:
 * pthread_mutex_lock's nested acquisitions (and a counting thread's outermost ones) do it in
 * a function of their own. */
static inline __attribute__((always_inline)) bool rt_acquire_again(rt_thread *t, uint32_t limit,
                                                                   void *addr, unsigned mode,
                                                                   unsigned flags, uintptr_t pc)
{
    uint32_t d = t->depth;
    if (unlikely(d >= limit || (flags & RT_ACQ_REENTRY)))
        return false;
    rt_held *h = &t->held[d];
    uint32_t stack;
    if (!rt_held_again(h, addr, mode, flags, pc, d ? t->held[d - 1].key : RT_KEY_SEED)
        || !rt_chain_stack(h->lock, d, h->key, &stack))
        return false;
    if (unlikely(t->rec) && (t->rec->countdown <= 1
                             || !rt_rec_count(t->rec, h->lock->idx, h->gen, pc, mode << 8 | flags)))
        return false;   /* (a countdown above 1 is not run out by rt_rec_count: nothing changed) */
    h->count = 1;
    h->stack = stack;
    t->depth = d + 1;
    return true;
}

/* The fast acquisition's work, rt_busy set by the caller: true when done, false when the
 * slow path must look. `limit` is the thread's fast_cap (0 while it records: every event
 * then goes through slowpath.c, which records it and comes back here with the real
 * capacity). */
static inline __attribute__((always_inline)) bool rt_acquire_push(rt_thread *t, uint32_t limit,
                                                                  void *addr, unsigned mode,
                                                                  unsigned flags, uintptr_t pc)
{
    uint32_t d = t->depth;
    if (unlikely(d >= limit || (flags & RT_ACQ_REENTRY)))
        return false;
    uint64_t prev = d ? t->held[d - 1].key : RT_KEY_SEED;
    rt_held *h = &t->held[d];
    rt_lock *l;
    uint32_t gen;
    uint64_t key;
    bool again = rt_held_again(h, addr, mode, flags, pc, prev);
    if (again) {
        l = h->lock;
        gen = h->gen;
        key = h->key;
    } else {
        l = rt_lock_find((uintptr_t)addr);
        if (unlikely(!l || (atomic_load_explicit(&l->flags, memory_order_relaxed)
                            & RT_LOCK_SLOWPATH)))
            return false;
        gen = atomic_load_explicit(&l->gen, memory_order_relaxed);
        key = rt_chain_hash(prev, l->idx, gen, mode << 8 | flags, pc);
    }
    uint32_t stack;
    if (!rt_chain_stack(l, d, key, &stack))
        return false;
    if (unlikely(t->rec) && !rt_rec_count(t->rec, l->idx, gen, pc, mode << 8 | flags))
        return false;   /* recording: a new key or a sampled hold (record.c) */
    if (again) {   /* the rest of the entry is this acquisition's already */
        h->count = 1;
        h->stack = stack;
        t->depth = d + 1;
    } else {
        rt_held_push(t, d, addr, l, gen, mode, flags, stack, pc, prev, key);
    }
    return true;
}

/* rt_acquire_push for the outermost acquisition at the lock's last outermost call site,
 * for a thread not recording; false, having changed nothing, for everything else. Small:
 * pthread_mutex_lock inlines it without a stack frame (the chain-set probe of a nested
 * acquisition is what would need one). */
static inline __attribute__((always_inline)) bool rt_acquire_outermost(rt_thread *t,
                                                                       void *addr,
                                                                       unsigned mode,
                                                                       unsigned flags,
                                                                       uintptr_t pc)
{
    if (t->depth || !t->fast_cap || t->rec || (flags & RT_ACQ_REENTRY))
        return false;
    rt_held *h = &t->held[0];
    if (likely(rt_held_again(h, addr, mode, flags, pc, RT_KEY_SEED))) {
        if (unlikely(h->lock->first_key != h->key))
            return false;
        h->count = 1;
        h->stack = h->lock->first_stack;
        t->depth = 1;
        return true;
    }
    rt_lock *l = rt_lock_find((uintptr_t)addr);
    if (unlikely(!l || (atomic_load_explicit(&l->flags, memory_order_relaxed) & RT_LOCK_SLOWPATH)))
        return false;
    uint32_t gen = atomic_load_explicit(&l->gen, memory_order_relaxed);
    uint64_t key = rt_chain_hash(RT_KEY_SEED, l->idx, gen, mode << 8 | flags, pc);
    if (unlikely(l->first_key != key))
        return false;
    rt_held_push(t, 0, addr, l, gen, mode, flags, l->first_stack, pc, RT_KEY_SEED, key);
    return true;
}

/* The body of a fast half: call with rt_busy set around it, so a signal handler that
 * interrupts it takes the slow path, which sees the call is nested; false, having done
 * nothing, when the runtime is busy on this thread already. */
#define RT_BUSY_BODY(call)                                                              \
    if (unlikely(rt_busy))                                                              \
        return false;                                                                   \
    rt_busy = 1;                                                                        \
    RT_SIGNAL_FENCE();                                                                  \
    bool done_ = (call);                                                                \
    RT_SIGNAL_FENCE();                                                                  \
    rt_busy = 0;                                                                        \
    return done_

/* rt_acquire_outermost with rt_busy's check, set and clear (rt_acquire_fast's). */
static inline __attribute__((always_inline)) bool rt_acquire_outermost_fast(rt_thread *t,
                                                                            void *addr,
                                                                            unsigned mode,
                                                                            unsigned flags,
                                                                            uintptr_t pc)
{
    RT_BUSY_BODY(rt_acquire_outermost(t, addr, mode, flags, pc));
}

/* rt_acquire_again with rt_busy's check, set and clear (rt_acquire_fast's). */
static inline __attribute__((always_inline)) bool rt_acquire_again_fast(rt_thread *t,
                                                                        uint32_t limit,
                                                                        void *addr,
                                                                        unsigned mode,
                                                                        unsigned flags,
                                                                        uintptr_t pc)
{
    RT_BUSY_BODY(rt_acquire_again(t, limit, addr, mode, flags, pc));
}

/* The fast acquisition: false also when the runtime is busy on this thread already (a
 * signal handler interrupted it): then the slow path sees the call is nested. */
static inline __attribute__((always_inline)) bool rt_acquire_fast(rt_thread *t, uint32_t limit,
                                                                  void *addr, unsigned mode,
                                                                  unsigned flags, uintptr_t pc)
{
    RT_BUSY_BODY(rt_acquire_push(t, limit, addr, mode, flags, pc));
}

/* A lock was acquired (the real call succeeded) by t, the calling thread's rt_self (passed
 * by a wrapper that already loaded it for its first try). `type`: an lg_lock_type, or
 * RT_FT(family, type) for a lock of another family than the native one. */
static inline __attribute__((always_inline)) void rt_acquired_by(rt_thread *t, void *addr,
                                                                 unsigned type,
                                                                 unsigned mode, unsigned flags,
                                                                 uintptr_t pc)
{
    if (likely(rt_acquire_fast(t, t->fast_cap, addr, mode, flags, pc)))
        return;
    rt_acquired_slow(t, addr, type, mode, flags, pc);
}

static inline __attribute__((always_inline)) void rt_acquired(void *addr, unsigned type,
                                                              unsigned mode, unsigned flags,
                                                              uintptr_t pc)
{
    rt_acquired_by(rt_self, addr, type, mode, flags, pc);
}

/* The fast release's work, rt_busy set by the caller: the lock on top of the held stack,
 * taken once. */
static inline __attribute__((always_inline)) bool rt_release_pop(rt_thread *t, uint32_t limit,
                                                                 void *addr)
{
    uint32_t d = t->depth;
    if (likely(d && d <= limit && t->held[d - 1].addr == (uintptr_t)addr
               && t->held[d - 1].count == 1)) {
        t->depth = d - 1;
        return true;
    }
    return false;
}

static inline __attribute__((always_inline)) bool rt_release_fast(rt_thread *t, uint32_t limit,
                                                                  void *addr)
{
    RT_BUSY_BODY(rt_release_pop(t, limit, addr));
}

/* A lock is about to be released (before the real call, so no other thread can take it and
 * see us still listed as its holder). `type` is RT_REL_COND for a condition wait's release
 * (recorded as the wait, not as a release). */
static inline __attribute__((always_inline)) void rt_released(void *addr, int type, uintptr_t pc)
{
    rt_thread *t = rt_self;
    if (likely(!t->rec || !rt_rec_waiters(addr, type)) && likely(rt_release_fast(t, t->fast_cap, addr)))
        return;
    rt_released_slow(t, addr, type, pc);
}

/* A condition wait releases its mutex and re-acquires it on wake-up while the thread still
 * holds everything else: the re-acquisition is an edge (RT_ACQ_COND). The thread also notes
 * the mutex, so the wait-for view can tell (wait.c) when it is blocked re-acquiring it. */
static inline void rt_cond_enter(void *m, uintptr_t pc)
{
    rt_thread *t = rt_self;
    if (t->cap) {   /* not the shared sentinel */
        t->wait.cond_pc = pc;
        atomic_store_explicit(&t->wait.cond, rt_lock_find((uintptr_t)m), memory_order_release);
    }
}

static inline void rt_cond_leave(void)
{
    rt_thread *t = rt_self;
    if (t->cap)
        atomic_store_explicit(&t->wait.cond, NULL, memory_order_relaxed);
}

#endif
