/* locks.c - lock identity: address -> rt_lock, with a generation that is bumped whenever the
 * lock at that address dies (destroy, re-init, free() of its memory, its stack frame
 * returned), so a new lock at a reused address starts with no edges (Abseil's versioned ids).
 *
 * The table is open addressing over rt_lock pointers, read without any lock by the fast path
 * (fastpath.h). Inserts and growth happen under `table_lock`; growth publishes a new table
 * and keeps the old ones (readers may still be probing them; they only miss and fall into
 * the slow path). Records are never freed: their number is bounded by the distinct lock
 * addresses ever used, and --max-locks caps it with one message.
 *
 * free() filter: a bitmap over hashed page numbers of pages holding a known lock. free() of a
 * block on no such page costs one bit test.
 */
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/hash.h"
#include "fastpath.h"
#include "misuse.h"
#include "names.h"

_Atomic(rt_lock_table *) rt_lock_tab;
__thread rt_lock *rt_find_hint __attribute__((tls_model("initial-exec")));
static rt_flock table_lock = RT_FLOCK_INIT;

/* Records: chunks of RT_CHUNK (rt.h), indexed by idx. */
#define RT_MAX_CHUNKS (1u << 16)
static rt_lock *chunks[RT_MAX_CHUNKS];
rt_lock_cold *rt_cold_chunks[RT_MAX_CHUNKS];
static _Atomic uintptr_t *hint_chunks[RT_MAX_CHUNKS];   /* rt_lock_hint: annotate.c's */
static _Atomic uint32_t nlocks;

/* The page filter: 2^20 bits. */
#define RT_PAGE_BITS 20
static _Atomic uint64_t page_filter[(1u << RT_PAGE_BITS) / 64];

static inline size_t page_bit(uintptr_t addr)
{
    return lg_fib_slot(addr >> 12, RT_PAGE_BITS);
}

static void page_mark(uintptr_t addr, size_t size)
{
    for (uintptr_t p = addr >> 12; p <= (addr + size - 1) >> 12; p++) {
        size_t b = page_bit(p << 12);
        atomic_fetch_or_explicit(&page_filter[b / 64], 1ull << (b % 64), memory_order_relaxed);
    }
}

static inline bool page_may_hold(uintptr_t addr)
{
    size_t b = page_bit(addr);
    return atomic_load_explicit(&page_filter[b / 64], memory_order_relaxed) & (1ull << (b % 64));
}

bool rt_locks_maybe_in(uintptr_t p, size_t n)
{
    if (!n)
        n = 1;
    for (uintptr_t pg = p >> 12; pg <= (p + n - 1) >> 12; pg++)
        if (page_may_hold(pg << 12))
            return true;
    return false;
}

static rt_lock_table *table_new(size_t cap)
{
    size_t bytes = sizeof(rt_lock_table) + cap * sizeof(_Atomic(rt_lock *));
    rt_lock_table *t = rt_map(bytes);
    if (!t)
        return NULL;
    /* A program walking many locks probes a new page of the table for every page of locks:
     * huge pages (where the system allows them on request) keep that from being a TLB miss. */
    if (bytes >= (2u << 20))
        madvise(t, bytes, MADV_HUGEPAGE);
    t->mask = cap - 1;
    return t;
}

static void table_put(rt_lock_table *t, rt_lock *l)
{
    size_t i = rt_slot_of(atomic_load(&l->addr), t->mask);
    while (atomic_load_explicit(&t->slots[i], memory_order_relaxed))
        i = (i + 1) & t->mask;
    atomic_store_explicit(&t->slots[i], l, memory_order_release);
}

rt_lock *rt_lock_by_idx(uint32_t idx)
{
    if (idx >= atomic_load_explicit(&nlocks, memory_order_acquire))
        return NULL;
    return &chunks[idx >> RT_CHUNK_BITS][idx & (RT_CHUNK - 1)];
}

/* Written at every annotated acquisition and release, so locks made one after the other
 * (one per thread, say) must not share a cache line: within a chunk, consecutive ids are
 * 512 entries (4 KiB) apart, and a line holds ids 8 apart. */
_Atomic uintptr_t *rt_lock_hint(const rt_lock *l)
{
    uint32_t j = l->idx & (RT_CHUNK - 1);
    return &hint_chunks[l->idx >> RT_CHUNK_BITS][(j & 7) << (RT_CHUNK_BITS - 3) | j >> 3];
}

uint32_t rt_lock_count(void)
{
    return atomic_load(&nlocks);
}

static void budget_exhausted(void)
{
    if (!atomic_exchange(&rt.budget_warned, true))
        rt_report_note("lock budget exhausted (%lu lock instances, --max-locks): locks created "
                       "from now on are not checked; the program goes on",
                       rt.cfg.max_locks);
}

rt_lock *rt_lock_get(uintptr_t addr, lg_lock_type type)
{
    rt_lock *l = rt_lock_find(addr);
    if (l)
        return l;
    rt_flock_lock(&table_lock);
    l = rt_lock_find(addr);
    if (l)
        goto out;
    uint32_t n = atomic_load_explicit(&nlocks, memory_order_relaxed);
    if (n >= rt.cfg.max_locks || n >= RT_MAX_CHUNKS * RT_CHUNK) {
        rt_flock_unlock(&table_lock);
        budget_exhausted();
        return NULL;
    }
    if (!chunks[n >> RT_CHUNK_BITS]) {
        void *m = rt_map(RT_CHUNK * sizeof(rt_lock));
        void *c = m ? rt_map(RT_CHUNK * sizeof(rt_lock_cold)) : NULL;
        void *h = c ? rt_map(RT_CHUNK * sizeof(uintptr_t)) : NULL;
        if (!h) {
            if (c)
                munmap(c, RT_CHUNK * sizeof(rt_lock_cold));
            if (m)
                munmap(m, RT_CHUNK * sizeof(rt_lock));
            goto out;
        }
        chunks[n >> RT_CHUNK_BITS] = m;
        rt_cold_chunks[n >> RT_CHUNK_BITS] = c;
        hint_chunks[n >> RT_CHUNK_BITS] = h;
    }
    rt_lock_table *t = atomic_load(&rt_lock_tab);
    if (!t || (size_t)(n + 1) * 2 > t->mask + 1) {
        size_t cap = t ? (t->mask + 1) * 2 : 1u << 16;
        rt_lock_table *nt = table_new(cap);
        if (!nt)
            goto out;
        for (uint32_t i = 0; i < n; i++)
            table_put(nt, &chunks[i >> RT_CHUNK_BITS][i & (RT_CHUNK - 1)]);
        atomic_store_explicit(&rt_lock_tab, nt, memory_order_release);
        t = nt;   /* the old table stays mapped: a reader may be probing it */
    }
    l = &chunks[n >> RT_CHUNK_BITS][n & (RT_CHUNK - 1)];
    atomic_store_explicit(&l->addr, addr, memory_order_relaxed);
    atomic_store_explicit(&l->gen, 1, memory_order_relaxed);
    l->idx = n;
    l->first_key = 0;
    l->type = (uint8_t)type;
    atomic_store_explicit(&l->flags, 0, memory_order_relaxed);
    atomic_store_explicit(&nlocks, n + 1, memory_order_release);
    page_mark(addr, 8);
    table_put(t, l);
out:
    rt_flock_unlock(&table_lock);
    return l;
}

/* Death without the graph lock: a program that creates and destroys (or frees) millions of
 * locks pays a few plain stores, not a global lock. The graph lock is needed only to drop
 * edges, and whether there are any is the RT_LIFE_EDGES bit, set under the graph lock
 * before an edge is added (rt_lock_mark_edges, which then re-reads gen: an edge is never
 * added to a generation seen dead). A death racing an edge being added needs the lock to
 * be held or just acquired while it is destroyed or freed, which the program may not do.
 * A second death with nothing in between (destroy, then free) is nothing to undo: the
 * inline rt_lock_kill (rt.h) sees that and comes here only for the rest. */
bool rt_lock_kill_live(rt_lock *l)
{
    rt_name_forget(atomic_load_explicit(&l->addr, memory_order_relaxed));
    rt_lock_cold *c = rt_lock_cold_of(l);
    /* A death (a returned frame, a new init: lock_created clears it itself after a second
     * death) ends "destroyed"; a destroy sets it again after this (slowpath.c), free()
     * keeps it (forget_in_region). */
    if (atomic_load_explicit(&c->destroyed, memory_order_relaxed))
        atomic_store_explicit(&c->destroyed, 0, memory_order_relaxed);
    uint32_t gen = atomic_load_explicit(&l->gen, memory_order_relaxed) + 1;
    atomic_store_explicit(&l->gen, gen, memory_order_release);
    atomic_store_explicit(&l->dead, 1, memory_order_relaxed);
    if (atomic_load_explicit(&l->flags, memory_order_relaxed) & (RT_LOCK_STACK | RT_LOCK_NOTSTACK))
        atomic_fetch_and(&l->flags, (uint8_t)~(RT_LOCK_STACK | RT_LOCK_NOTSTACK));
    if (c->frame_sig)
        c->frame_sig = 0;
    /* The new generation's first acquisition from the same call site takes the fast path
     * (no chain-set entry is needed with nothing held): create/lock/destroy churn. */
    if (c->first_pc)
        l->first_key = rt_chain_hash(RT_KEY_SEED, l->idx, gen, c->first_mf, c->first_pc);
    if (atomic_load_explicit(&l->life, memory_order_acquire) & RT_LIFE_EDGES) {
        rt_flock_lock(&rt.graph_lock);
        atomic_fetch_and(&l->life, (uint8_t)~RT_LIFE_EDGES);
        lg_lo_clear_node(&rt.graph, l->idx);
        rt_flock_unlock(&rt.graph_lock);
    }
    return true;
}

bool rt_lock_mark_edges(rt_lock *l, uint32_t gen)
{
    if (!(atomic_load_explicit(&l->life, memory_order_relaxed) & RT_LIFE_EDGES))
        atomic_fetch_or(&l->life, RT_LIFE_EDGES);
    else
        atomic_thread_fence(memory_order_seq_cst);
    return atomic_load(&l->gen) == gen;
}

/* A live lock (or a dead one with edges) in a freed block dies. A destroyed mutex stays
 * "destroyed" through free(): glibc's mark (misuse.c) is still in the bytes until something
 * initialises them again. Out of line: the scan below stays small for the churning free. */
static __attribute__((noinline)) bool forget_one(rt_lock *l)
{
    rt_lock_cold *c = rt_lock_cold_of(l);
    uint8_t d = atomic_load_explicit(&c->destroyed, memory_order_relaxed);
    uintptr_t dpc = c->destroy_pc;
    bool killed = rt_lock_kill_live(l);
    if (d) {
        c->destroy_pc = dpc;
        atomic_store_explicit(&c->destroyed, 1, memory_order_relaxed);
    }
    return killed;
}

/* The first lock of a freed block that glibc's lock word shows taken (destroy-held, told
 * by rt_misuse_freed once the scan is over and before the block goes back). */
typedef struct freed_taken {
    uintptr_t addr;            /* 0: none */
    uint32_t gen;              /* its generation before the free killed it */
    uint8_t type;
} freed_taken;

/* A live pthread/C11 lock whose lock word is taken: the free may be a destroy-held. */
static inline void note_taken(freed_taken *ft, rt_lock *l, uintptr_t la)
{
    if (!ft || ft->addr || atomic_load_explicit(&l->dead, memory_order_relaxed)
        || atomic_load_explicit(&rt_lock_cold_of(l)->family, memory_order_relaxed) != RT_FAM_NATIVE
        || rt_lock_looks_free(la, l->type))
        return;
    *ft = (freed_taken){.addr = la, .gen = atomic_load_explicit(&l->gen, memory_order_relaxed),
                        .type = l->type};
}

/* Every lock whose address is in [lo, hi), inside one 64 KiB region (one block of the
 * table, fastpath.h), dies. The addresses' home slots are consecutive in the block, modulo
 * its size (so at most two runs); a lock not at its home slot is further on with no empty
 * slot in between (linear probing), so each run is followed until an empty slot. ft (NULL:
 * not a free) gets the first one still taken. */
static size_t forget_in_region(rt_lock_table *t, uintptr_t lo, uintptr_t hi, freed_taken *ft)
{
    size_t killed = 0, mask = t->mask;   /* read once: the slot loads below are acquires */
    size_t homes = ((hi - 1) >> 4) - (lo >> 4) + 1;
    uintptr_t a = lo;
    while (homes) {
        size_t i = rt_slot_of(a, mask);
        size_t run = 4096 - (i & 4095);
        if (run > homes)
            run = homes;
        for (size_t k = 0;; k++, i = (i + 1) & mask) {
            rt_lock *l = atomic_load_explicit(&t->slots[i], memory_order_acquire);
            if (!l) {
                if (k >= run)
                    break;
                continue;
            }
            uintptr_t la = atomic_load_explicit(&l->addr, memory_order_relaxed);
            if (la < lo || la >= hi)
                continue;
            /* Dead with nothing to undo (destroyed, then freed: the churn pattern): the kill
             * changes nothing, and "destroyed" stays as it is. */
            if (rt_lock_dead_clean(l)) {
                rt_name_forget(la);
            } else {
                note_taken(ft, l, la);
                killed += forget_one(l);   /* counted when it was alive */
            }
        }
        homes -= run;
        a = ((a >> 4) + run) << 4;
    }
    return killed;
}

/* free(), a module unloaded: cost by the pages that may hold a lock (the page filter), not
 * by the bytes. */
static void forget_range(uintptr_t p, size_t n, freed_taken *ft)
{
    rt_lock_table *t = atomic_load_explicit(&rt_lock_tab, memory_order_acquire);
    if (!t || !n)
        return;
    uintptr_t end = p + n < p ? UINTPTR_MAX : p + n;
    size_t killed = 0;
    for (uintptr_t pg = p & ~(uintptr_t)4095; pg < end; pg += 4096) {
        if (!page_may_hold(pg))
            continue;
        uintptr_t lo = pg > p ? pg : p, hi = end - pg > 4096 ? pg + 4096 : end;
        killed += forget_in_region(t, lo, hi, ft);   /* a page never straddles a region */
        if (pg + 4096 < pg)
            break;
    }
    if (killed)
        atomic_fetch_add_explicit(&rt.counters[RT_C_FREED], killed, memory_order_relaxed);
}

void rt_locks_forget_range(uintptr_t p, size_t n)
{
    forget_range(p, n, NULL);
}

/* free() of a block whose first page may hold a lock: one inside that page (a small block,
 * every churning free) is one region scan, without the page walk. */
static void forget_block(uintptr_t p, size_t n, freed_taken *ft)
{
    rt_lock_table *t = atomic_load_explicit(&rt_lock_tab, memory_order_acquire);
    if (!t || !n)
        return;
    if (n > 4096 - (p & 4095)) {
        forget_range(p, n, ft);
        return;
    }
    size_t killed = forget_in_region(t, p, p + n, ft);
    if (killed)
        atomic_fetch_add_explicit(&rt.counters[RT_C_FREED], killed, memory_order_relaxed);
}

void rt_locks_fork(int phase)
{
    if (phase == RT_FORK_PREPARE)
        rt_flock_lock(&table_lock);
    else if (phase == RT_FORK_PARENT)
        rt_flock_unlock(&table_lock);
    else
        rt_flock_reset(&table_lock);
}

/* free() is interposed only to notice lock memory going away without destroy. The memory is
 * then the next free()'s (jemalloc's for a program linked with it, glibc's otherwise), never
 * glibc's by name: handing jemalloc's block to glibc's free crashes the program. */
static __thread int in_free __attribute__((tls_model("initial-exec")));
static void (*_Atomic next_free)(void *);

static void (*free_next(void))(void *)
{
    void (*f)(void *) = atomic_load_explicit(&next_free, memory_order_relaxed);
    if (likely(f) || in_free)
        return f;   /* NULL only if dlsym itself frees while we resolve: that block leaks */
    in_free++;
    f = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    in_free--;
    atomic_store_explicit(&next_free, f, memory_order_relaxed);
    return f;
}

/* Out of line: free() of a block on no lock's page stays a bit test and the call. A lock in
 * the block that glibc's word shows taken is told to misuse.c after the scan (a finding is
 * not built with rt_busy set) and before the block goes back: its bytes are still the
 * program's to read. */
static __attribute__((noinline)) void free_forget(void *p, uintptr_t pc)
{
    if (rt_is_nested(rt_self) || !atomic_load_explicit(&rt.ready, memory_order_relaxed)
        || in_free)
        return;
    size_t n = malloc_usable_size(p);
    freed_taken ft = {0};
    in_free++;   /* a thread-local guard: this may run before or after its record */
    rt_busy = 1;
    RT_SIGNAL_FENCE();
    forget_block((uintptr_t)p, n, &ft);
    RT_SIGNAL_FENCE();
    rt_busy = 0;
    if (unlikely(ft.addr))
        rt_misuse_freed(rt_self, ft.addr, ft.type, ft.gen, pc);
    in_free--;
}

RT_EXPORT void free(void *p)
{
    if (p && unlikely(page_may_hold((uintptr_t)p)))
        free_forget(p, (uintptr_t)__builtin_return_address(0));
    void (*f)(void *) = free_next();
    if (f)
        f(p);
}
