/* record-count.h - what `lockgraph record` (without --all-events) costs on the fast path: an
 * uncontended acquisition is counted in the thread's own table, not stamped and written.
 *
 * A recording thread's rt_thread.rec points at its table (record.c makes it at the thread's
 * first slow event; NULL when not recording, or with --all-events, where every event takes
 * the slow path instead). Two levels, a key (lock generation, call site, mode) in one of them:
 * - direct: one entry per lock, indexed by the lock's dense node id (rt_lock.idx), holding
 *   the key its thread met first (call site and mode exact, no hash) - 16 bytes a lock, in
 *   the order the program created its locks, so a thread's locks share cache lines and the
 *   entry is found without a probe (what made many locks per thread miss cache before);
 * - hashed: the keys the direct entry cannot hold (a second call site or mode of the same
 *   lock, a lock past RT_REC_DIR_MAX): a hash of the key and a probe of the four slots (one
 *   cache line) it may be in.
 * The fast acquisition counts it in whichever holds its key. Anything else (a new key, or
 * the sampling countdown reaching 0: about one hold in RT_REC_SAMPLE is timed) returns to
 * the slow path, which counts it there (record.c). The
 * fast release adds one load of glibc's lock word: a waiter there means this release
 * readies someone, which is an event (slow path). No clock read, no atomic read-modify-write.
 */
#ifndef LG_RT_RECORD_COUNT_H
#define LG_RT_RECORD_COUNT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../model/model.h"
#include "../util/glibc-abi.h"

#define RT_REC_SLOTS_MIN 512    /* a thread's first table */
#define RT_REC_SLOTS_MAX 65536  /* the largest it grows to (1 MiB + 2.5 MiB, touched as used) */
#define RT_REC_SAMPLE 256      /* one hold in about this many is timed: the countdown is drawn
                                  from [128, 384), so a loop whose length divides it does not
                                  time the same lock every time */

/* The fast path's half of a slot: the key and its count (the owner's plain increments; the
 * closing thread reads them under the table's lock, record.c). */
typedef struct rt_rec_hot {
    uint64_t key;              /* rt_rec_key, 0 = empty */
    uint64_t n;                /* acquisitions since the slot was filled */
} rt_rec_hot;

/* A direct entry (the lock is its index): the key without the lock, exact. 0 = empty. A
 * count that reaches UINT32_MAX is written out by the slow path (record.c) and starts over. */
#define RT_REC_DIR_MIN 1024      /* a thread's first direct table */
#define RT_REC_DIR_MAX (1u << 18) /* locks 0..2^18-1 (4 MiB + 12 MiB a thread at most, touched
                                    as used); the hashed table takes the rest */
typedef struct rt_rec_dir {
    uint64_t site;             /* rt_rec_site(pc, modeflags) */
    uint32_t gen;              /* the lock's generation */
    uint32_t n;                /* acquisitions since the entry was filled */
} rt_rec_dir;

/* A call site and mode as one word: exact for every user-space pc (below 2^48; a pc above
 * is never put in a direct entry, and its site cannot equal one that is: see rt_rec_count). */
static inline uint64_t rt_rec_site(uintptr_t pc, unsigned modeflags)
{
    return (uint64_t)pc << 16 | (modeflags & 0xffff);
}

/* Slots come in buckets of four, one cache line (four-way: a bucket's keys do not evict each
 * other); the slow path grows the table (x4, to RT_REC_SLOTS_MAX) when it keeps evicting. */
#define RT_REC_WAYS 4
typedef struct rt_rec_counts {
    rt_rec_dir *dir;           /* dir_n entries (0: none yet) */
    uint32_t dir_n;
    rt_rec_hot *hot;           /* mask + 1 slots */
    uint32_t mask;
    uint32_t countdown;        /* fast acquisitions until the next timed one */
    uint32_t rng;              /* xorshift: the countdown's next value (record.c) */
    uint32_t sample_depth;     /* 1 + held[] index of the hold being timed; 0 = none */
    uint64_t sample_key, sample_chain, sample_tick;
    uint32_t evictions;        /* since the table last grew */
} rt_rec_counts;

/* What is counted: a lock generation at a call site in a mode (not the chain: the same lock
 * taken at the same place under different outer locks is one count). */
static inline uint64_t rt_rec_key(uint32_t idx, uint32_t gen, uintptr_t pc, unsigned modeflags)
{
    uint64_t x = ((uint64_t)idx << 32 | gen) * 0x9e3779b97f4a7c15ull;
    x ^= ((uint64_t)pc << 16 | modeflags) * 0xc2b2ae3d27d4eb4full;
    return (x ^ (x >> 31)) | 1;
}

/* The first slot of key's bucket. */
static inline uint32_t rt_rec_slot(const rt_rec_counts *c, uint64_t key)
{
    return (uint32_t)(key >> 7) & c->mask & ~(uint32_t)(RT_REC_WAYS - 1);
}

/* A fast acquisition: counted (true), or the slow path must count it (false: a new key, or
 * the countdown ran out). */
static inline __attribute__((always_inline)) bool rt_rec_count(rt_rec_counts *c, uint32_t idx,
                                                               uint32_t gen, uintptr_t pc,
                                                               unsigned modeflags)
{
    if (__builtin_expect(idx < c->dir_n, 1)) {
        rt_rec_dir *e = &c->dir[idx];
        /* pc >> 48: a site word that lost bits of pc must not match (never true in practice) */
        if (__builtin_expect(e->site == rt_rec_site(pc, modeflags) && e->gen == gen
                                 && !(pc >> 48) && e->n != UINT32_MAX, 1)) {
            if (__builtin_expect(--c->countdown == 0, 0))
                return false;
            __atomic_store_n(&e->n, e->n + 1, __ATOMIC_RELAXED);
            return true;
        }
    }
    uint64_t key = rt_rec_key(idx, gen, pc, modeflags);
    rt_rec_hot *s = &c->hot[rt_rec_slot(c, key)];
    if (__builtin_expect(s->key != key, 0) && (++s)->key != key && (++s)->key != key
        && (++s)->key != key)
        return false;
    if (__builtin_expect(--c->countdown == 0, 0))
        return false;
    __atomic_store_n(&s->n, s->n + 1, __ATOMIC_RELAXED);
    return true;
}

/* Spinlock waiters: a spinlock's word says only "held", so a thread that waits on one says
 * so here (record.c: rt_rec_spin_wait, around its wait, while recording without
 * --all-events). One word a slot, (address << 16 | waiters), changed by CAS only: a waiter
 * takes the first of RT_REC_SPIN_PROBE slots from the address's hash that is free or has
 * its address, and frees it with its last waiter; with none to take it is not listed (its
 * releaser goes unrecorded, as before). A listed waiter published itself before it spun and
 * leaves the list after it acquired, before its own release: a holder that sees it there
 * releases to it, and never sees a waiter that already acquired through an earlier release
 * (that release happened before the holder's acquisition). */
#define RT_REC_SPIN_SLOTS 256
#define RT_REC_SPIN_PROBE 4
extern uint64_t rt_rec_spin_waiting[RT_REC_SPIN_SLOTS + RT_REC_SPIN_PROBE];
static inline uint32_t rt_rec_spin_slot(const void *addr)
{
    return (uint32_t)(((uint64_t)(uintptr_t)addr * 0x9e3779b97f4a7c15ull) >> 56);
}
static inline bool rt_rec_spin_waited(const void *addr)
{
    uint64_t a = (uint64_t)(uintptr_t)addr;
    if (a >> 48)
        return false;   /* never listed */
    const uint64_t *s = &rt_rec_spin_waiting[rt_rec_spin_slot(addr)];
    for (int k = 0; k < RT_REC_SPIN_PROBE; k++) {
        uint64_t w = __atomic_load_n(&s[k], __ATOMIC_RELAXED);
        if (w >> 16 == a && (w & 0xffff))
            return true;
    }
    return false;
}

/* Whether a thread waits for this lock, which its holder is about to release: a mutex's
 * lock word is 2 (or has FUTEX_WAITERS: PI and robust ones), an rwlock has readers waiting
 * or a futex word marked used (glibc's words), a spinlock has a listed waiter (above).
 * Other families: not known (no event). */
static inline __attribute__((always_inline)) bool rt_rec_waiters(const void *addr, int type)
{
    if (type == LG_LOCK_MUTEX) {
        int w = __atomic_load_n((const int *)addr + GLIBC_MUTEX_LOCK / 4, __ATOMIC_RELAXED);
        return w == 2 || w < 0;
    }
    if (type == LG_LOCK_RWLOCK) {
        const unsigned *r = addr;
        return (__atomic_load_n(r + GLIBC_RW_READERS / 4, __ATOMIC_RELAXED) & GLIBC_RW_RWAITING)
            || ((__atomic_load_n(r + GLIBC_RW_WRITERS_FUTEX / 4, __ATOMIC_RELAXED)
                 | __atomic_load_n(r + GLIBC_RW_WRPHASE / 4, __ATOMIC_RELAXED))
                & GLIBC_RW_FUTEX_USED);
    }
    if (type == LG_LOCK_SPINLOCK)
        return rt_rec_spin_waited(addr);
    return false;
}

#endif
