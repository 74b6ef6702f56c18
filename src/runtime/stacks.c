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
    w->pcs[w->n++] = pc;
    return _URC_NO_REASON;
}

static uint32_t intern(const uint64_t *pcs, int n);

uint32_t rt_stack_capture(int skip, uintptr_t pc)
{
    /* With the interposed call's return address known, the stack starts exactly there
     * (inlining and tail calls inside the runtime make a fixed skip count fragile). */
    int want = rt.cfg.frames > RT_MAX_FRAMES ? RT_MAX_FRAMES : rt.cfg.frames;
    if (want <= 0)
        want = 1;
    walk w = {.skip = pc ? 1 : skip + 1, .max = pc ? RT_MAX_FRAMES : want};
    _Unwind_Backtrace(collect, &w);
    if (pc) {
        int at = -1;
        for (int i = 0; i < w.n && i < 12 && at < 0; i++)
            if (w.pcs[i] == pc)
                at = i;
        if (at < 0)
            at = skip < w.n ? skip : 0;
        memmove(w.pcs, w.pcs + at, (size_t)(w.n - at) * sizeof *w.pcs);
        w.n -= at;
        if (w.n > want)
            w.n = want;
    }
    return intern(w.pcs, w.n);
}

uint32_t rt_stack_of_pc(uintptr_t pc)
{
    uint64_t p = pc;
    return intern(&p, pc ? 1 : 0);
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
