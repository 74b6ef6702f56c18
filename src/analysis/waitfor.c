/* waitfor.c - wait-for graph analysis (see waitfor.h for the two questions it answers).
 * One successor per thread: the classic functional-graph walk: colour nodes by the walk that
 * reached them; a walk that meets its own colour closed a new cycle. Linear time, no
 * recursion (1,000s of threads). Several holders per lock: a bounded depth-first search
 * (at the end of this file). */
#include "waitfor.h"

#include <stdlib.h>

static int valid(const int *next, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (next[i] < -1 || next[i] >= (int)n)
            return 0;
    return 1;
}

size_t lg_waitfor_cycles(const int *next, size_t n, int *cycle_of)
{
    for (size_t i = 0; i < n; i++)
        cycle_of[i] = -1;
    if (!valid(next, n))
        return (size_t)-1;
    int *walk = malloc((n ? n : 1) * sizeof *walk);   /* which walk visited a node, -1 none */
    if (!walk)
        return (size_t)-1;
    for (size_t i = 0; i < n; i++)
        walk[i] = -1;
    size_t ncycles = 0;
    for (size_t s = 0; s < n; s++) {
        int v = (int)s;
        while (v >= 0 && walk[v] < 0) {
            walk[v] = (int)s;
            v = next[v];
        }
        if (v < 0 || walk[v] != (int)s)
            continue;   /* stopped, or joined an older walk (its cycle is already marked) */
        int c = (int)ncycles++;
        int u = v;
        do {
            cycle_of[u] = c;
            u = next[u];
        } while (u != v);
    }
    /* Renumber in order of each cycle's lowest node, so output order is stable. */
    int *map = walk;   /* reuse: ncycles <= n */
    for (size_t c = 0; c < ncycles; c++)
        map[c] = -1;
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (cycle_of[i] >= 0 && map[cycle_of[i]] < 0)
            map[cycle_of[i]] = k++;
    for (size_t i = 0; i < n; i++)
        if (cycle_of[i] >= 0)
            cycle_of[i] = map[cycle_of[i]];
    free(walk);
    return ncycles;
}

int lg_waitfor_chain_end(const int *next, size_t n, int start, int *entry, size_t *len)
{
    if (start < 0 || (size_t)start >= n || !valid(next, n))
        return -2;
    int *pos = malloc(n * sizeof *pos);   /* step at which the walk reached a node, -1 not */
    if (!pos)
        return -2;
    for (size_t i = 0; i < n; i++)
        pos[i] = -1;
    int v = start, step = 0, rc;
    for (;;) {
        pos[v] = step;
        if (next[v] < 0) {
            rc = v;
            break;
        }
        v = next[v];
        step++;
        if (pos[v] >= 0) {   /* back on a node already walked: a cycle entered at v */
            if (entry)
                *entry = v;
            step = pos[v];
            rc = -1;
            break;
        }
    }
    if (len)
        *len = (size_t)step;
    free(pos);
    return rc;
}

/* ---- several holders per lock: depth-first search through `start` ----
 * Each thread waits for at most one lock, but a read-held lock has several holders, so the
 * graph branches at locks; the search backtracks over holders, visiting each thread once. */

#define MAX_HOLDERS 64

typedef struct frame {
    uint64_t thread, lock;
    uint64_t holders[MAX_HOLDERS];
    size_t nholders, next;
} frame;

static int seen(const uint64_t *v, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

size_t lg_wf_find_cycle(const lg_wf_ops *ops, uint64_t start, uint64_t *threads,
                        uint64_t *locks, size_t max)
{
    if (!max)
        return 0;
    frame *st = calloc(max, sizeof *st);
    uint64_t *visited = calloc(max * 4 + 16, sizeof *visited);
    size_t nvisited = 0, depth = 0, result = 0;
    if (!st || !visited)
        goto out;
    st[0].thread = start;
    st[0].lock = ops->waits_for(ops->ctx, start);
    if (!st[0].lock)
        goto out;
    st[0].nholders = ops->holders(ops->ctx, st[0].lock, st[0].holders, MAX_HOLDERS);
    if (st[0].nholders > MAX_HOLDERS)
        st[0].nholders = MAX_HOLDERS;
    visited[nvisited++] = start;
    depth = 1;
    while (depth) {
        frame *f = &st[depth - 1];
        if (f->next >= f->nholders) {
            depth--;
            continue;
        }
        uint64_t h = f->holders[f->next++];
        if (h == start) {
            for (size_t i = 0; i < depth; i++) {
                threads[i] = st[i].thread;
                locks[i] = st[i].lock;
            }
            result = depth;
            break;
        }
        if (seen(visited, nvisited, h) || depth >= max || nvisited >= max * 4 + 16)
            continue;
        visited[nvisited++] = h;
        uint64_t l = ops->waits_for(ops->ctx, h);
        if (!l)
            continue;
        frame *n = &st[depth++];
        n->thread = h;
        n->lock = l;
        n->next = 0;
        n->nholders = ops->holders(ops->ctx, l, n->holders, MAX_HOLDERS);
        if (n->nholders > MAX_HOLDERS)
            n->nholders = MAX_HOLDERS;
    }
out:
    free(st);
    free(visited);
    return result;
}
