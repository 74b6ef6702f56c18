/* chains.c - the set of held-lock sequences ("chains", lockdep's idea) already checked.
 *
 * A chain key hashes the held locks (identity + generation), their modes and call sites, and
 * the lock being acquired. If the key is present, every edge this acquisition would add is
 * already in the graph: the fast path is done. The value is the id of the stack captured when
 * the chain was first seen, so a held lock's acquisition stack is known without unwinding.
 *
 * Readers probe without locks. Inserts need none either (a compare-and-swap claims an empty
 * slot): a new chain whose edges are all in the graph already (edgeset.c) is added without
 * the graph lock, whose two signal-mask system calls were most of such a slow path. Growth
 * and flushes happen under the graph lock. A full table is replaced by one twice as large;
 * old tables stay mapped for readers still probing them. An insert racing a growth may land
 * in the old table only: lost, which costs that chain one more slow path, never an edge.
 */

#include <sys/mman.h>

#include "fastpath.h"

_Atomic(rt_chain_table *) rt_chain_tab;
static _Atomic size_t count;
static _Atomic unsigned long flushes;

/* A slot being filled: its stack is written, then its key. Never a key (keys are odd), and
 * not 0, so a reader passes over it (a miss) and no other insert takes the slot. */
#define RT_CHAIN_CLAIMED 2u

static rt_chain_table *table_new(size_t cap)
{
    size_t bytes = sizeof(rt_chain_table) + cap * sizeof(struct rt_chain_slot);
    rt_chain_table *t = rt_map(bytes);
    if (!t)
        return NULL;
    /* A large set is probed at random (a new chain's key is a hash): with 4 KiB pages every
     * probe of a table bigger than the TLB's reach also walks page tables. Huge pages where
     * the kernel gives them on request (a hint: failure changes nothing). */
    if (bytes >= (2u << 20))
        madvise(t, bytes, MADV_HUGEPAGE);
    t->mask = cap - 1;
    return t;
}

/* 1 when key went in, 0 when it was there already (or the table is full). */
static int put(rt_chain_table *t, uint64_t key, uint32_t stack)
{
    size_t i = (size_t)(key >> 7) & t->mask;
    for (size_t n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
        uint64_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
        if (k == key)
            return 0;
        if (k)
            continue;
        if (!atomic_compare_exchange_strong_explicit(&t->slots[i].key, &k, RT_CHAIN_CLAIMED,
                                                     memory_order_relaxed, memory_order_relaxed)) {
            if (k == key)
                return 0;
            continue;   /* another insert took it */
        }
        t->slots[i].stack = stack;
        atomic_store_explicit(&t->slots[i].key, key, memory_order_release);
        return 1;
    }
    return 0;
}

bool rt_chain_lookup(uint64_t key, uint32_t *stack)
{
    return rt_chain_find(key, stack);
}

/* Bounded memory: past RT_CHAIN_MAX slots the set is not grown but flushed (chains of dead
 * lock generations would otherwise pile up forever in a program that keeps creating locks).
 * A flush swaps to a spare table retired one flush earlier and clears it first: a reader
 * still probing a retired table can only miss, or see a stack id of 0 ("none"), and a miss
 * costs one slow path that finds its edges already there. */
#define RT_CHAIN_MAX (1u << 21)
static rt_chain_table *spare;

void rt_chain_insert(uint64_t key, uint32_t stack)
{
    rt_chain_table *t = atomic_load(&rt_chain_tab);
    if (!t || (atomic_load_explicit(&count, memory_order_relaxed) + 1) * 2 > t->mask + 1) {
        rt_chain_table *nt;
        if (t && t->mask + 1 >= RT_CHAIN_MAX) {
            nt = spare ? spare : table_new(RT_CHAIN_MAX);
            if (!nt)
                return;
            for (size_t i = 0; i <= nt->mask; i++) {
                nt->slots[i].stack = 0;
                atomic_store_explicit(&nt->slots[i].key, 0, memory_order_relaxed);
            }
            spare = t;
            atomic_store_explicit(&count, 0, memory_order_relaxed);
            atomic_fetch_add(&flushes, 1);
        } else {
            nt = table_new(t ? (t->mask + 1) * 2 : 1u << 16);
            if (!nt)
                return;   /* not cached: the next acquisition takes the slow path again */
            if (t)
                for (size_t i = 0; i <= t->mask; i++) {
                    uint64_t k = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
                    if (k & 1)   /* a claimed slot's insert is lost: see above */
                        put(nt, k, t->slots[i].stack);
                }
        }
        atomic_store_explicit(&rt_chain_tab, nt, memory_order_release);
        t = nt;
    }
    if (put(t, key, stack))
        atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
}

void rt_chain_add(uint64_t key, uint32_t stack)
{
    rt_chain_table *t = atomic_load_explicit(&rt_chain_tab, memory_order_acquire);
    if (!t || (atomic_load_explicit(&count, memory_order_relaxed) + 1) * 2 > t->mask + 1) {
        /* Growth or a flush: the graph lock's, as before (rare). */
        rt_flock_lock(&rt.graph_lock);
        rt_chain_insert(key, stack);
        rt_flock_unlock(&rt.graph_lock);
        return;
    }
    if (put(t, key, stack))
        atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
}

size_t rt_chain_count(void)
{
    return atomic_load_explicit(&count, memory_order_relaxed);
}

unsigned long rt_chain_flushes(void)
{
    return atomic_load(&flushes);
}
