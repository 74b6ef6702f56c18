/* waitfor.c - depth-first search for a wait-for cycle through `start` (see waitfor.h).
 * Each thread waits for at most one lock, but a read-held lock has several holders, so the
 * graph branches at locks; the search backtracks over holders, visiting each thread once. */
#include <stdlib.h>

#include "waitfor.h"

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
