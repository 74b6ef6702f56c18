/* edgeset.c - the lock-free set of lock-order edges that one more occurrence cannot change.
 *
 * A new held-lock sequence (a chain the chain set has not seen) makes one occurrence of each
 * edge from a held lock to the acquired one. Most of them change nothing in the graph: the
 * edge is there with those dependency bits, no gate left to lose, already made by more than
 * one thread (or only by this one), not only timed. Finding that out under the graph lock
 * cost two signal-mask system calls and a wait for the lock with every other thread making
 * new chains (8 threads on 2 cores: most of a random rwlock stress's slow path). This set
 * answers it without a lock, so such a chain is checked and added with no lock at all.
 *
 * An edge joins the set at its first occurrence that changed nothing (taken under the graph
 * lock, as before): a sign more will come. An edge made once (most of a random DAG's
 * million) or changed at every occurrence (Abseil's windows: each shrinks its gates) costs
 * no memory here.
 *
 * An entry is an edge identity, both ends' lock index AND generation, with what an
 * occurrence must bring to change it: it is written (graph lock held) only once the edge has
 * no gates (lg_lo_add's intersection can then remove nothing), and updated only towards
 * "changed by less" (more bits, a second thread, not only timed), each field on its own. So
 * whatever a reader reads of it was true of the graph when written and stays true until an
 * end dies: a death bumps the generation first, then drops the edges, so an entry of a dead
 * generation never matches a live acquisition again. A hit is exactly lg_lo_add returning 0
 * ("nothing changed"): no edge, no search, no finding is lost or added.
 *
 * Bounded: the table doubles up to RT_ES_MAX slots and then stops taking entries (an edge
 * not in it takes the graph lock, as before). Old tables stay mapped for readers probing
 * them (half the last one's size in all).
 */
#include "../util/hash.h"
#include "rt.h"

#define RT_ES_FIRST (1u << 12)
#define RT_ES_MAX   (1u << 20)
#define RT_ES_ANY   (-1)        /* no thread id: ids are positive */

typedef struct rt_es_slot {
    _Atomic uint64_t pair;     /* (from + 1) << 32 | (to + 1); 0: empty. Written last. */
    _Atomic uint64_t gens;     /* from's generation << 32 | to's: never changes */
    _Atomic int32_t tid;       /* the only thread that made it; RT_ES_ANY: more than one */
    _Atomic uint8_t bits;      /* LG_DEP_* seen */
    _Atomic uint8_t timed;     /* every occurrence so far was timed */
} rt_es_slot;

typedef struct rt_es_table {
    size_t mask;
    rt_es_slot slots[];
} rt_es_table;

static _Atomic(rt_es_table *) es_tab;
static size_t es_count;        /* graph lock */

static size_t es_home(uint64_t pair, uint64_t gens, size_t mask)
{
    return (size_t)lg_mix64(pair ^ lg_mix64(gens)) & mask;
}

static rt_es_slot *es_find(rt_es_table *t, uint64_t pair, uint64_t gens)
{
    size_t i = es_home(pair, gens, t->mask);
    for (size_t n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
        rt_es_slot *s = &t->slots[i];
        uint64_t p = atomic_load_explicit(&s->pair, memory_order_acquire);
        if (!p)
            return NULL;
        if (p == pair && atomic_load_explicit(&s->gens, memory_order_relaxed) == gens)
            return s;
    }
    return NULL;
}

static uint64_t es_pair(uint32_t from, uint32_t to)
{
    return ((uint64_t)from + 1) << 32 | ((uint64_t)to + 1);
}

bool rt_edge_known(uint32_t from, uint32_t fgen, uint32_t to, uint32_t tgen, unsigned bits,
                   bool timed, int tid)
{
    rt_es_table *t = atomic_load_explicit(&es_tab, memory_order_acquire);
    if (!t)
        return false;
    rt_es_slot *s = es_find(t, es_pair(from, to), (uint64_t)fgen << 32 | tgen);
    if (!s)
        return false;
    unsigned have = atomic_load_explicit(&s->bits, memory_order_relaxed);
    int32_t only = atomic_load_explicit(&s->tid, memory_order_relaxed);
    bool only_timed = atomic_load_explicit(&s->timed, memory_order_relaxed);
    return (bits & ~have) == 0 && (only == RT_ES_ANY || only == tid) && (timed || !only_timed);
}

/* Fill a fresh slot (graph lock held: the only writer): the identity's pair goes in last. */
static void es_put(rt_es_table *t, uint64_t pair, uint64_t gens, int32_t tid, uint8_t bits,
                   uint8_t timed)
{
    size_t i = es_home(pair, gens, t->mask);
    while (atomic_load_explicit(&t->slots[i].pair, memory_order_relaxed))
        i = (i + 1) & t->mask;
    rt_es_slot *s = &t->slots[i];
    atomic_store_explicit(&s->gens, gens, memory_order_relaxed);
    atomic_store_explicit(&s->tid, tid, memory_order_relaxed);
    atomic_store_explicit(&s->bits, bits, memory_order_relaxed);
    atomic_store_explicit(&s->timed, timed, memory_order_relaxed);
    atomic_store_explicit(&s->pair, pair, memory_order_release);
}

void rt_edge_note(const lg_lo_edge *e, uint32_t fgen, uint32_t tgen, bool repeat)
{
    if (e->ngates || e->to == LG_LO_NONE)
        return;   /* an occurrence without those gates held changes it */
    uint64_t pair = es_pair(e->from, e->to), gens = (uint64_t)fgen << 32 | tgen;
    int32_t tid = (e->flags & LG_LO_MULTI) ? RT_ES_ANY : e->tid;
    uint8_t timed = (e->flags & LG_LO_TIMED) ? 1 : 0;
    rt_es_table *t = atomic_load_explicit(&es_tab, memory_order_relaxed);
    rt_es_slot *s = t ? es_find(t, pair, gens) : NULL;
    if (s) {
        /* Each field only ever moves towards "an occurrence changes less". */
        atomic_store_explicit(&s->bits, e->bits, memory_order_relaxed);
        if (tid == RT_ES_ANY)
            atomic_store_explicit(&s->tid, RT_ES_ANY, memory_order_relaxed);
        if (!timed)
            atomic_store_explicit(&s->timed, 0, memory_order_relaxed);
        return;
    }
    if (!repeat)
        return;   /* only an edge made again unchanged joins: most of a random DAG's never are */
    if (!t || (es_count + 1) * 2 > t->mask + 1) {
        size_t cap = t ? (t->mask + 1) * 2 : RT_ES_FIRST;
        if (cap > RT_ES_MAX)
            return;   /* full: such edges take the graph lock, as they did */
        rt_es_table *nt = rt_map(sizeof *nt + cap * sizeof nt->slots[0]);
        if (!nt)
            return;
        nt->mask = cap - 1;
        for (size_t i = 0; t && i <= t->mask; i++) {
            rt_es_slot *o = &t->slots[i];
            uint64_t p = atomic_load_explicit(&o->pair, memory_order_relaxed);
            if (p)
                es_put(nt, p, atomic_load_explicit(&o->gens, memory_order_relaxed),
                       atomic_load_explicit(&o->tid, memory_order_relaxed),
                       atomic_load_explicit(&o->bits, memory_order_relaxed),
                       atomic_load_explicit(&o->timed, memory_order_relaxed));
        }
        atomic_store_explicit(&es_tab, nt, memory_order_release);
        t = nt;   /* the old one stays mapped: a reader may be probing it */
    }
    es_put(t, pair, gens, tid, e->bits, timed);
    es_count++;
}
