/* stacks.c - capture (slow path only), deduplicate and look up call stacks.
 *
 * Capture uses the libgcc unwinder (.eh_frame: works without frame pointers). A stack is a
 * run of PCs in an append-only arena; identical stacks share one id through a hash map.
 * All under the graph lock's neighbour `stack_lock`, so capture can happen outside the graph
 * lock. Ids start at 1; 0 means "no stack".
 */
#include <stdlib.h>
#include <string.h>
#include <unwind.h>

#include "../analysis/u64map.h"
#include "rt.h"

#define RT_MAX_FRAMES 64

static rt_flock stack_lock = RT_FLOCK_INIT;
static uint64_t *arena;
static size_t narena, caparena;
static uint64_t *starts;      /* id -> offset<<8 | n */
static size_t nstarts, capstarts;
static lg_u64map dedupe;

typedef struct walk {
    uint64_t pcs[RT_MAX_FRAMES];
    uintptr_t cfas[RT_MAX_FRAMES];   /* each frame's CFA, for the cache below (full walks) */
    int n, skip, max;
    uintptr_t target;         /* frame_sig: the stack address whose frame we look for */
    uint64_t sig;
} walk;

static _Unwind_Reason_Code collect(struct _Unwind_Context *ctx, void *arg)
{
    walk *w = arg;
    uintptr_t pc = _Unwind_GetIP(ctx);
    if (!pc)
        return _URC_END_OF_STACK;
    if (w->skip > 0) {
        w->skip--;
        return _URC_NO_REASON;
    }
    if (w->n >= w->max)
        return _URC_END_OF_STACK;
    w->cfas[w->n] = _Unwind_GetCFA(ctx);
    w->pcs[w->n++] = pc;
    return _URC_NO_REASON;
}

static uint32_t intern(const uint64_t *pcs, int n);

/* The per-thread capture cache. An acquisition seen along a path already unwound need not
 * be unwound again: the unwinder gave every frame's CFA, and on x86-64 a frame's caller PC
 * is the return address the call pushed just below its CFA. So when the capture runs again
 * with its own CFA at the same address (the same thread, the same depth) for the same call
 * site, reading the return address below each remembered CFA and finding every remembered
 * PC there is the same walk, without the unwinder (an unwind costs microseconds: most of a
 * new lock chain's cost). A capture is cached only when that reading reproduces its own
 * walk (not one through a signal frame, whose return address lives in the signal context)
 * and every CFA lies in the thread's stack; a cached walk is checked against a real unwind
 * every RT_SC_RECHECK hits (a frame sized at run time, alloca, moves its callers' frames
 * and may leave an old return address behind: an entry that ever disagrees is dropped). */
#define RT_SC_WAYS 16
#define RT_SC_FRAMES 32
#define RT_SC_RECHECK 64
typedef struct rt_sc_entry {
    uintptr_t self_cfa, pc;       /* the key: capture's own CFA and the call site; 0: empty */
    uint32_t id, hits;
    uint8_t n, want, at, poisoned;
    uint64_t pcs[RT_SC_FRAMES];
    uintptr_t cfas[RT_SC_FRAMES];
} rt_sc_entry;
struct rt_stack_cache {
    bool busy;                    /* a capture on this thread is using it (re-entry skips) */
    uint8_t clock;                /* which of two full candidates the next new walk replaces */
    rt_sc_entry e[RT_SC_WAYS];
};

/* The entry of (self_cfa, pc), or the one a new walk of it replaces. Two candidate places,
 * from two parts of one hash: with one, a thread whose few call sites shared a place (a
 * rwlock stress's four: a third of its threads) unwound at every other capture. */
static rt_sc_entry *sc_slot(struct rt_stack_cache *c, uintptr_t self_cfa, uintptr_t pc)
{
    uint64_t h = lg_mix64((uint64_t)self_cfa ^ lg_golden(pc));
    rt_sc_entry *a = &c->e[h & (RT_SC_WAYS - 1)], *b = &c->e[(h >> 32) & (RT_SC_WAYS - 1)];
    if (a->self_cfa == self_cfa && a->pc == pc)
        return a;
    if (b->self_cfa == self_cfa && b->pc == pc)
        return b;
    if (!a->self_cfa)
        return a;
    if (!b->self_cfa)
        return b;
    return (c->clock ^= 1) ? a : b;
}

/* Whether the stack still holds e's walk: each frame's PC is the return address just below
 * its CFA (libgcc's backtrace pairs a frame's return address with the CFA of the function
 * that will return there), every slot between the capture's own frame and the stack's top. */
static bool sc_holds(const rt_sc_entry *e, uintptr_t lo, uintptr_t hi)
{
    for (int i = 0; i < e->n; i++) {
        uintptr_t slot = e->cfas[i] - sizeof(uint64_t);
        if (slot < lo || slot > hi - sizeof(uint64_t))
            return false;
        if (*(const uint64_t *)slot != e->pcs[i])
            return false;
    }
    return true;
}

void rt_stack_cache_free(rt_thread *t)
{
    free(t->stack_cache);
    t->stack_cache = NULL;
}

/* noinline: its own CFA is the cache's key, and the walk starts in its frame. */
__attribute__((noinline)) uint32_t rt_stack_capture(int skip, uintptr_t pc)
{
    /* With the interposed call's return address known, the stack starts exactly there
     * (inlining and tail calls inside the runtime make a fixed skip count fragile). */
    int want = rt.cfg.frames > RT_MAX_FRAMES ? RT_MAX_FRAMES : rt.cfg.frames;
    if (want <= 0)
        want = 1;
    uintptr_t self_cfa = (uintptr_t)__builtin_dwarf_cfa();
    rt_thread *t = rt_self;
    struct rt_stack_cache *c = NULL;
    rt_sc_entry *e = NULL;
    if (pc && t->cap && self_cfa > t->stack_lo && self_cfa < t->stack_hi) {
        c = t->stack_cache;
        if (!c)
            c = t->stack_cache = calloc(1, sizeof *c);
        if (c && c->busy)
            c = NULL;   /* a handler interrupted a capture on this thread */
    }
    if (c) {
        c->busy = true;
        RT_SIGNAL_FENCE();
        e = sc_slot(c, self_cfa, pc);
        if (e->self_cfa == self_cfa && e->pc == pc && e->want == want && !e->poisoned
            && sc_holds(e, self_cfa - sizeof(uint64_t), t->stack_hi) && ++e->hits % RT_SC_RECHECK) {
            uint32_t id = e->id;
            RT_SIGNAL_FENCE();
            c->busy = false;
            return id;
        }
    }
    walk w = {.skip = 0, .max = pc || want + skip + 1 > RT_MAX_FRAMES ? RT_MAX_FRAMES
                                                                  : want + skip + 1};
    _Unwind_Backtrace(collect, &w);
    /* The walk's first frame is the return into this function's caller, paired with this
     * function's CFA: found by it, then skipped like the frames of the runtime. */
    int first = 0;
    while (first < w.n && first < 4 && w.cfas[first] != self_cfa)
        first++;
    if (first == w.n || first == 4)
        first = 0;
    int at;
    if (pc) {
        at = -1;
        for (int i = first; i < w.n && i < first + 12 && at < 0; i++)
            if (w.pcs[i] == pc)
                at = i;
        if (at < 0)
            at = first + 1 + skip < w.n ? first + 1 + skip : first + 1 < w.n ? first + 1 : first;
    } else {
        at = first + 1 + skip <= w.n ? first + 1 + skip : w.n;
    }
    int n = w.n - at > want ? want : w.n - at;
    uint32_t id = intern(w.pcs + at, n);
    if (c) {
        int m = at + n - first;   /* the frames from this one to the stack's last */
        if (e->self_cfa == self_cfa && e->pc == pc && e->want == want && !e->poisoned
            && e->hits % RT_SC_RECHECK == 0 && e->id != id)
            e->poisoned = 1;   /* the cached walk was not the real one: never again */
        else if (id && m > 0 && m <= RT_SC_FRAMES
                 && !(e->self_cfa == self_cfa && e->pc == pc && e->poisoned)) {
            rt_sc_entry ne = {.self_cfa = self_cfa, .pc = pc, .id = id, .n = (uint8_t)m,
                              .want = (uint8_t)want, .at = (uint8_t)(at - first)};
            memcpy(ne.pcs, w.pcs + first, (size_t)m * sizeof *ne.pcs);
            memcpy(ne.cfas, w.cfas + first, (size_t)m * sizeof *ne.cfas);
            if (ne.cfas[0] == self_cfa && sc_holds(&ne, self_cfa - sizeof(uint64_t), t->stack_hi))
                *e = ne;
        }
        RT_SIGNAL_FENCE();
        c->busy = false;
    }
    return id;
}

uint32_t rt_stack_of_pc(uintptr_t pc)
{
    uint64_t p = pc;
    return intern(&p, pc ? 1 : 0);
}

uint32_t rt_stack_intern(const uint64_t *pcs, size_t n)
{
    size_t want = rt.cfg.frames > RT_MAX_FRAMES ? RT_MAX_FRAMES
                  : rt.cfg.frames > 0 ? (size_t)rt.cfg.frames : 1;
    return intern(pcs, (int)(n < want ? n : want));
}

/* The id of a stack of n PCs, stored once (0 when none or out of memory). */
static uint32_t intern(const uint64_t *pcs, int n)
{
    if (!n)
        return 0;
    uint64_t h = 0x12345;
    for (int i = 0; i < n; i++)
        h = lg_mix64(h ^ pcs[i]);
    h |= 1;
    if (h == UINT64_MAX)
        h = 3;
    rt_flock_lock(&stack_lock);
    uint64_t id = 0;
    if (lg_u64map_get(&dedupe, h, &id))
        goto out;
    if (nstarts >= RT_STACK_SHARED - 1)
        goto out;   /* ids keep their top bit free (RT_STACK_SHARED): no new stacks */
    if (narena + (size_t)n > caparena) {
        size_t cap = caparena ? caparena * 2 : 4096;
        while (cap < narena + (size_t)n)
            cap *= 2;
        uint64_t *a = realloc(arena, cap * sizeof *a);
        if (!a)
            goto out;
        arena = a;
        caparena = cap;
    }
    if (nstarts + 1 >= capstarts) {
        size_t cap = capstarts ? capstarts * 2 : 1024;
        uint64_t *s = realloc(starts, cap * sizeof *s);
        if (!s)
            goto out;
        starts = s;
        capstarts = cap;
        if (!nstarts)
            starts[nstarts++] = 0;   /* id 0: none */
    }
    memcpy(arena + narena, pcs, (size_t)n * sizeof *pcs);
    starts[nstarts] = (uint64_t)narena << 8 | (uint64_t)n;
    narena += (size_t)n;
    id = nstarts++;
    if (lg_u64map_put(&dedupe, h, id) < 0) {
        /* Still usable, just not deduplicated. */
    }
out:
    rt_flock_unlock(&stack_lock);
    return (uint32_t)id;
}

size_t rt_stack_get(uint32_t id, uint64_t *pcs, size_t max)
{
    rt_flock_lock(&stack_lock);
    size_t n = 0;
    id &= ~RT_STACK_SHARED;
    if (id && id < nstarts) {
        uint64_t s = starts[id];
        n = s & 0xff;
        if (n > max)
            n = max;
        memcpy(pcs, arena + (s >> 8), n * sizeof *pcs);
    }
    rt_flock_unlock(&stack_lock);
    return n;
}

/* The frame owning stack address `target`. In a backtrace callback, the CFA reported with a
 * frame's IP is the bottom of the caller's frame... that is, the first entry whose CFA lies
 * above `target` carries the return address into the function that owns `target`'s frame.
 * The identity is (that CFA, that return address): the same function called again from
 * another place, or another function at the same depth, is a different frame. */
static _Unwind_Reason_Code find_owner(struct _Unwind_Context *ctx, void *arg)
{
    walk *w = arg;
    uintptr_t cfa = _Unwind_GetCFA(ctx);
    if (cfa > w->target) {
        w->sig = lg_mix64((uint64_t)cfa ^ lg_mix64(_Unwind_GetIP(ctx))) | 1;
        return _URC_END_OF_STACK;
    }
    if (++w->skip > 200)
        return _URC_END_OF_STACK;
    return _URC_NO_REASON;
}

uint64_t rt_stack_frame_sig(uintptr_t addr)
{
    walk w = {.target = addr};
    _Unwind_Backtrace(find_owner, &w);
    return w.sig;
}

void rt_stacks_fork(int phase)
{
    if (phase == RT_FORK_PREPARE)
        rt_flock_lock(&stack_lock);
    else if (phase == RT_FORK_PARENT)
        rt_flock_unlock(&stack_lock);
    else
        rt_flock_reset(&stack_lock);
}

/* published.c: where the stack store lives, for readers outside the process. */
void rt_stacks_where(void **starts_at, void **count_at, void **arena_at)
{
    *starts_at = &starts;
    *count_at = &nstarts;
    *arena_at = &arena;
}
