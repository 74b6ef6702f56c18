/* waitfor.c - cycles and chains of the wait-for graph (see waitfor.h). Out-degree <= 1 makes
 * this the classic functional-graph walk: colour nodes by the walk that reached them; a walk
 * that meets its own colour closed a new cycle. Linear time, no recursion (1,000s of threads).
 * Not here: multiple owners per lock (read holders); when the runtime supplies them, the
 * graph needs a general cycle enumeration. */
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
