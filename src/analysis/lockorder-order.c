/* lockorder-order.c - the lock graph's dynamic topological order (see lockorder.h).
 *
 * Pearce and Kelly's algorithm ("A dynamic topological sort algorithm for directed acyclic
 * graphs", 2006), over components instead of nodes because a lock graph keeps its cycles:
 * the edges of a reported inversion stay. Invariant: for every live edge x -> y, x and y share
 * a component or ord(comp(x)) < ord(comp(y)). So a path leads only upwards, and an edge into
 * a higher component closes no cycle (the O(1) case). An edge u -> v with ord(cu) > ord(cv)
 * breaks it: a search forward from cv among components ranked below cu (F) and backward
 * from cu among those ranked above cv (B) finds the only region that must move. If cu is in F
 * the edge closes a cycle, and F and B share exactly the components on a path v ~> u: they
 * become one. The region's old places are then handed out again, B's first, then the merged
 * component, then F's, each side keeping its own relative order. Nothing outside the region
 * moves, and a removed edge cannot break the invariant, so deletion costs nothing here.
 */
#include <stdlib.h>
#include <string.h>

#include "lockorder.h"

static uint32_t *members(lg_lo_comp *c)
{
    return c->capmem ? c->mem : &c->one;
}

static int vec_push(lg_lo_vec *v, uint32_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        uint32_t *a = realloc(v->v, cap * sizeof *a);
        if (!a)
            return -1;
        v->v = a;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

static int comp_add(lg_lo_graph *g, uint32_t ci, uint32_t node)
{
    lg_lo_comp *c = &g->comps[ci];
    if (c->nmem == 0 && c->capmem == 0) {
        c->one = node;
    } else {
        if (c->capmem == 0 || c->nmem == c->capmem) {
            uint32_t cap = c->capmem ? c->capmem * 2 : 4;
            uint32_t *a = realloc(c->mem, cap * sizeof *a);
            if (!a)
                return -1;
            if (c->capmem == 0)
                a[0] = c->one;
            c->mem = a;
            c->capmem = cap;
        }
        c->mem[c->nmem] = node;
    }
    g->nodes[node].comp = ci;
    g->nodes[node].cpos = c->nmem++;
    return 0;
}

static void comp_release(lg_lo_graph *g, uint32_t ci)
{
    lg_lo_comp *c = &g->comps[ci];
    free(c->mem);
    memset(c, 0, sizeof *c);
    if (vec_push(&g->free_comps, ci) < 0)
        return;   /* the slot is lost, not reused: harmless */
}

/* A new singleton component for a node without one, placed last in the order. */
static int comp_new(lg_lo_graph *g, uint32_t node)
{
    uint32_t ci;
    if (g->free_comps.n) {
        ci = g->free_comps.v[--g->free_comps.n];
    } else {
        if (g->ncomps == 0)
            g->ncomps = 1;   /* 0 means "none" */
        if (g->ncomps >= g->capcomps) {
            size_t cap = g->capcomps ? g->capcomps * 2 : 64;
            lg_lo_comp *a = realloc(g->comps, cap * sizeof *a);
            if (!a)
                return -1;
            memset(a + g->capcomps, 0, (cap - g->capcomps) * sizeof *a);
            g->comps = a;
            g->capcomps = cap;
        }
        ci = (uint32_t)g->ncomps++;
    }
    g->comps[ci].ord = ++g->next_ord;
    return comp_add(g, ci, node);
}

static void comp_remove(lg_lo_graph *g, uint32_t node)
{
    uint32_t ci = g->nodes[node].comp;
    lg_lo_comp *c = &g->comps[ci];
    uint32_t *m = members(c), pos = g->nodes[node].cpos;
    uint32_t last = m[--c->nmem];
    m[pos] = last;
    g->nodes[last].cpos = pos;
    g->nodes[node].comp = 0;
    if (c->nmem == 0)
        comp_release(g, ci);
}

/* Collect the components reachable from `start` (forward: through out edges to components
 * ranked at most `bound`; backward: through in edges from those ranked at least `bound`). */
static int reach(lg_lo_graph *g, uint32_t start, bool forward, uint64_t bound, lg_lo_vec *out)
{
    uint32_t stamp = g->cstamp;
    g->stack.n = 0;
    out->n = 0;
    if (forward)
        g->comps[start].fmark = stamp;
    else
        g->comps[start].bmark = stamp;
    if (vec_push(&g->stack, start) < 0)
        return -1;
    while (g->stack.n) {
        uint32_t ci = g->stack.v[--g->stack.n];
        if (vec_push(out, ci) < 0)
            return -1;
        lg_lo_comp *c = &g->comps[ci];
        for (uint32_t k = 0; k < c->nmem; k++) {
            const lg_lo_node *n = &g->nodes[members(c)[k]];
            uint32_t deg = forward ? n->nout : n->nin;
            const uint32_t *list = forward ? n->out : n->in;
            for (uint32_t i = 0; i < deg; i++) {
                const lg_lo_edge *e = &g->edges[list[i]];
                uint32_t xi = g->nodes[forward ? e->to : e->from].comp;
                lg_lo_comp *x = &g->comps[xi];
                uint32_t *mark = forward ? &x->fmark : &x->bmark;
                if (*mark == stamp || (forward ? x->ord > bound : x->ord < bound))
                    continue;
                *mark = stamp;
                if (vec_push(&g->stack, xi) < 0)
                    return -1;
            }
        }
    }
    return 0;
}

static lg_lo_graph *sort_graph;   /* qsort's comparator context; the graph is not thread-safe */

static int by_ord(const void *a, const void *b)
{
    uint64_t x = sort_graph->comps[*(const uint32_t *)a].ord;
    uint64_t y = sort_graph->comps[*(const uint32_t *)b].ord;
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Keep only the entries of v not marked by the other side; the rest go to `both`. */
static void split_shared(lg_lo_graph *g, lg_lo_vec *v, lg_lo_vec *both, bool collect)
{
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++) {
        lg_lo_comp *c = &g->comps[v->v[i]];
        bool shared = c->fmark == g->cstamp && c->bmark == g->cstamp;
        if (!shared)
            v->v[k++] = v->v[i];
        else if (collect)
            both->v[both->n++] = v->v[i];
    }
    v->n = k;
}

static int reorder(lg_lo_graph *g, uint32_t cu, uint32_t cv)
{
    uint64_t hi = g->comps[cu].ord, lo = g->comps[cv].ord;
    if (++g->cstamp == 0) {
        for (size_t i = 0; i < g->ncomps; i++)
            g->comps[i].fmark = g->comps[i].bmark = 0;
        g->cstamp = 1;
    }
    if (reach(g, cv, true, hi, &g->fwd) < 0 || reach(g, cu, false, lo, &g->bwd) < 0)
        return -1;
    size_t total = g->fwd.n + g->bwd.n;
    if (total > g->cappool) {
        uint64_t *p = realloc(g->pool, total * sizeof *p);
        if (!p)
            return -1;
        g->pool = p;
        g->cappool = total;
    }
    /* Every place the region had, ascending (a shared component counted once). */
    size_t np = 0;
    for (size_t i = 0; i < g->bwd.n; i++)
        g->pool[np++] = g->comps[g->bwd.v[i]].ord;
    for (size_t i = 0; i < g->fwd.n; i++)
        if (g->comps[g->fwd.v[i]].bmark != g->cstamp)
            g->pool[np++] = g->comps[g->fwd.v[i]].ord;
    qsort(g->pool, np, sizeof *g->pool, cmp_u64);
    /* The components on a path v ~> u (in both searches): one component from now on. The
     * stack is free again; it holds them. */
    bool cycle = g->comps[cu].fmark == g->cstamp;
    lg_lo_vec *both = &g->stack;
    both->n = 0;
    if (cycle && both->cap < g->fwd.n) {
        uint32_t *a = realloc(both->v, g->fwd.n * sizeof *a);
        if (!a)
            return -1;
        both->v = a;
        both->cap = g->fwd.n;
    }
    split_shared(g, &g->fwd, both, cycle);
    split_shared(g, &g->bwd, both, false);
    sort_graph = g;
    qsort(g->bwd.v, g->bwd.n, sizeof *g->bwd.v, by_ord);
    qsort(g->fwd.v, g->fwd.n, sizeof *g->fwd.v, by_ord);
    for (size_t i = 0; i < g->bwd.n; i++)
        g->comps[g->bwd.v[i]].ord = g->pool[i];
    for (size_t i = 0; i < g->fwd.n; i++)
        g->comps[g->fwd.v[i]].ord = g->pool[np - g->fwd.n + i];
    if (!cycle)
        return 0;
    /* Merge into the largest: each node moves at most log(n) times over the graph's life. */
    uint32_t into = both->v[0];
    for (size_t i = 1; i < both->n; i++)
        if (g->comps[both->v[i]].nmem > g->comps[into].nmem)
            into = both->v[i];
    g->comps[into].ord = g->pool[g->bwd.n];
    for (size_t i = 0; i < both->n; i++) {
        uint32_t ci = both->v[i];
        if (ci == into)
            continue;
        lg_lo_comp *c = &g->comps[ci];
        while (c->nmem) {
            uint32_t node = members(c)[c->nmem - 1];
            c->nmem--;
            if (comp_add(g, into, node) < 0) {
                c->nmem++;
                return -1;
            }
            c = &g->comps[ci];
        }
        comp_release(g, ci);
    }
    return 0;
}

void lg_lo_order_edge(lg_lo_graph *g, uint32_t from, uint32_t to)
{
    if (g->unordered)
        return;
    if ((!g->nodes[from].comp && comp_new(g, from) < 0) ||
        (!g->nodes[to].comp && comp_new(g, to) < 0)) {
        g->unordered = true;
        return;
    }
    uint32_t cu = g->nodes[from].comp, cv = g->nodes[to].comp;
    if (cu == cv || g->comps[cu].ord < g->comps[cv].ord)
        return;
    g->reorders++;
    if (reorder(g, cu, cv) < 0)
        g->unordered = true;   /* out of memory: exact full searches from now on */
}

void lg_lo_order_detach(lg_lo_graph *g, uint32_t node)
{
    if (!g->unordered && node < g->nnodes && g->nodes[node].comp)
        comp_remove(g, node);
}

void lg_lo_order_free(lg_lo_graph *g)
{
    for (size_t i = 0; i < g->ncomps; i++)
        free(g->comps[i].mem);
    free(g->comps);
    free(g->free_comps.v);
    free(g->stack.v);
    free(g->fwd.v);
    free(g->bwd.v);
    free(g->pool);
}

int lg_lo_order_valid(const lg_lo_graph *g)
{
    if (g->unordered)
        return 1;
    for (size_t i = 0; i < g->nedges; i++) {
        const lg_lo_edge *e = &g->edges[i];
        if (e->to == LG_LO_NONE)
            continue;
        uint32_t a = g->nodes[e->from].comp, b = g->nodes[e->to].comp;
        if (!a || !b || (a != b && g->comps[a].ord >= g->comps[b].ord))
            return 0;
    }
    for (size_t n = 0; n < g->nnodes; n++) {
        uint32_t ci = g->nodes[n].comp;
        if (!ci)
            continue;
        const lg_lo_comp *c = &g->comps[ci];
        const uint32_t *m = c->capmem ? c->mem : &c->one;
        if (g->nodes[n].cpos >= c->nmem || m[g->nodes[n].cpos] != n)
            return 0;
    }
    for (size_t i = 1; i < g->ncomps; i++)
        for (size_t j = i + 1; j < g->ncomps; j++)
            if (g->comps[i].nmem && g->comps[j].nmem && g->comps[i].ord == g->comps[j].ord)
                return 0;
    return 1;
}
