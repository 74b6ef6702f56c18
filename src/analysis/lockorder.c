/* lockorder.c - the lock-order graph and its strong-path cycle search (see lockorder.h).
 *
 * Edges live in one array with a free list, indexed by (from, to) in a hash map, and are
 * linked from both ends so a dying lock's edges can be dropped. The search is a BFS over
 * (node, state) pairs, state 1 meaning "arrived only through recursive-read edges": from such
 * a state only edges whose source was held exclusively may be taken (lockdep's rule). It runs
 * only when the new edge's ends share a component of the order (lockorder-order.c), and only
 * inside it: every cycle through the edge lies there. Nodes outside it cannot reach the goal,
 * so leaving them out changes neither the path found nor its parents.
 */
#include <stdlib.h>
#include <string.h>

#include "lockorder.h"

void lg_lo_init(lg_lo_graph *g)
{
    memset(g, 0, sizeof *g);
    g->free_edge = LG_LO_NONE;
    g->max_visits = 0;
}

void lg_lo_free(lg_lo_graph *g)
{
    for (size_t i = 0; i < g->nnodes; i++) {
        free(g->nodes[i].out);
        free(g->nodes[i].in);
    }
    free(g->nodes);
    free(g->edges);
    lg_u64map_free(&g->index);
    lg_lo_order_free(g);
    lg_lo_init(g);
}

static uint64_t pair_key(uint32_t from, uint32_t to)
{
    return ((uint64_t)from + 1) << 32 | ((uint64_t)to + 1);
}

static int ensure_node(lg_lo_graph *g, uint32_t n)
{
    if (n < g->nnodes)
        return 0;
    size_t cap = g->nnodes ? g->nnodes : 64;
    while (cap <= n)
        cap *= 2;
    lg_lo_node *nn = realloc(g->nodes, cap * sizeof *nn);
    if (!nn)
        return -1;
    memset(nn + g->nnodes, 0, (cap - g->nnodes) * sizeof *nn);
    g->nodes = nn;
    g->nnodes = cap;
    return 0;
}

static int push_u32(uint32_t **arr, uint32_t *n, uint32_t *cap, uint32_t v)
{
    if (*n == *cap) {
        uint32_t c = *cap ? *cap * 2 : 4;
        uint32_t *a = realloc(*arr, c * sizeof *a);
        if (!a)
            return -1;
        *arr = a;
        *cap = c;
    }
    (*arr)[(*n)++] = v;
    return 0;
}

static void remove_u32(uint32_t *arr, uint32_t *n, uint32_t v)
{
    for (uint32_t i = 0; i < *n; i++) {
        if (arr[i] == v) {
            arr[i] = arr[--*n];
            return;
        }
    }
}

static int new_edge(lg_lo_graph *g, uint32_t *out)
{
    if (g->free_edge != LG_LO_NONE) {
        *out = g->free_edge;
        g->free_edge = g->edges[*out].from;
        return 0;
    }
    if (g->nedges == g->capedges) {
        size_t cap = g->capedges ? g->capedges * 2 : 256;
        lg_lo_edge *e = realloc(g->edges, cap * sizeof *e);
        if (!e)
            return -1;
        g->edges = e;
        g->capedges = cap;
    }
    *out = (uint32_t)g->nedges++;
    return 0;
}

/* Keep in e->gates only the keys also present in held[]. Returns 1 when something went. */
static int intersect_gates(lg_lo_edge *e, const uint64_t *held, size_t nheld)
{
    uint8_t k = 0;
    for (uint8_t i = 0; i < e->ngates; i++) {
        int found = 0;
        for (size_t j = 0; j < nheld && !found; j++)
            found = held[j] == e->gates[i];
        if (found)
            e->gates[k++] = e->gates[i];
    }
    int changed = k != e->ngates;
    e->ngates = k;
    return changed;
}

int lg_lo_add(lg_lo_graph *g, const lg_lo_occurrence *o, uint32_t *edge)
{
    uint64_t idx;
    if (lg_u64map_get(&g->index, pair_key(o->from, o->to), &idx)) {
        lg_lo_edge *e = &g->edges[idx];
        int changed = 0;
        *edge = (uint32_t)idx;
        if ((e->bits | o->bits) != e->bits) {
            e->bits |= o->bits;
            changed = 1;
        }
        if ((e->flags & LG_LO_TIMED) && !o->timed) {
            e->flags &= (uint8_t)~LG_LO_TIMED;
            changed = 1;
        }
        if (!(e->flags & LG_LO_MULTI) && e->tid != o->tid) {
            e->flags |= LG_LO_MULTI;
            changed = 1;
        }
        changed |= intersect_gates(e, o->held, o->nheld);
        return changed;
    }
    if (ensure_node(g, o->from > o->to ? o->from : o->to) < 0)
        return -1;
    uint32_t ei;
    if (new_edge(g, &ei) < 0)
        return -1;
    lg_lo_edge *e = &g->edges[ei];
    memset(e, 0, sizeof *e);
    e->from = o->from;
    e->to = o->to;
    e->bits = o->bits;
    e->flags = (uint8_t)((o->timed ? LG_LO_TIMED : 0) | (o->cond ? LG_LO_COND : 0));
    e->tid = o->tid;
    if (o->tname)
        strncpy(e->tname, o->tname, sizeof e->tname - 1);
    e->from_stack = o->from_stack;
    e->to_stack = o->to_stack;
    e->seq = ++g->seq;
    for (size_t i = 0; i < o->nheld && e->ngates < LG_LO_GATES; i++)
        e->gates[e->ngates++] = o->held[i];
    lg_lo_node *f = &g->nodes[o->from], *t = &g->nodes[o->to];
    if (push_u32(&f->out, &f->nout, &f->capout, ei) < 0)
        goto fail;
    if (push_u32(&t->in, &t->nin, &t->capin, ei) < 0) {
        f->nout--;
        goto fail;
    }
    if (lg_u64map_put(&g->index, pair_key(o->from, o->to), ei) < 0) {
        f->nout--;
        t->nin--;
        goto fail;
    }
    g->live_edges++;
    lg_lo_order_edge(g, o->from, o->to);
    *edge = ei;
    return 1;
fail:
    e->to = LG_LO_NONE;
    e->from = g->free_edge;
    g->free_edge = ei;
    return -1;
}

static void drop_edge(lg_lo_graph *g, uint32_t ei)
{
    lg_lo_edge *e = &g->edges[ei];
    lg_u64map_del(&g->index, pair_key(e->from, e->to));
    e->to = LG_LO_NONE;
    e->from = g->free_edge;
    g->free_edge = ei;
    g->live_edges--;
}

void lg_lo_clear_node(lg_lo_graph *g, uint32_t n)
{
    if (n >= g->nnodes)
        return;
    lg_lo_node *node = &g->nodes[n];
    for (uint32_t i = 0; i < node->nout; i++) {
        uint32_t ei = node->out[i];
        uint32_t to = g->edges[ei].to;
        /* A self edge is in our own in-list too: unlink it there before its slot is freed. */
        remove_u32(g->nodes[to].in, &g->nodes[to].nin, ei);
        drop_edge(g, ei);
    }
    node->nout = 0;
    for (uint32_t i = 0; i < node->nin; i++) {
        uint32_t ei = node->in[i];
        uint32_t from = g->edges[ei].from;
        remove_u32(g->nodes[from].out, &g->nodes[from].nout, ei);
        drop_edge(g, ei);
    }
    node->nin = 0;
    lg_lo_order_detach(g, n);   /* no edges left: it belongs nowhere */
}

typedef struct qitem {
    uint32_t node;
    uint32_t state;
} qitem;

/* BFS from `start` in `state0` to `goal`, accepting arrival states in `accept` (bit per
 * state), through nodes of component `only` (0: every node). Returns the arrival state + 1,
 * or 0. */
static int search(lg_lo_graph *g, uint32_t start, int state0, uint32_t goal, unsigned accept,
                  uint32_t only)
{
    g->searches++;
    if (++g->stamp == 0) {
        for (size_t i = 0; i < g->nnodes; i++)
            g->nodes[i].mark[0] = g->nodes[i].mark[1] = 0;
        g->stamp = 1;
    }
    size_t cap = 64, head = 0, tail = 0, visits = 0;
    qitem *q = malloc(cap * sizeof *q);
    if (!q)
        return 0;
    g->nodes[start].mark[state0] = g->stamp;
    g->nodes[start].parent[state0] = LG_LO_NONE;
    q[tail++] = (qitem){start, (uint32_t)state0};
    int found = 0;
    g->truncated = false;
    while (head < tail && !found) {
        qitem it = q[head++];
        if (g->max_visits && ++visits > g->max_visits) {
            g->truncated = true;
            break;
        }
        lg_lo_node *n = &g->nodes[it.node];
        for (uint32_t i = 0; i < n->nout; i++) {
            uint32_t ei = n->out[i];
            const lg_lo_edge *e = &g->edges[ei];
            unsigned usable = it.state ? (e->bits & LG_DEP_FROM_E) : e->bits;
            if (!usable)
                continue;
            uint32_t st = (usable & LG_DEP_TO_N) ? 0 : 1;
            lg_lo_node *m = &g->nodes[e->to];
            if (m->mark[st] == g->stamp || (only && m->comp != only))
                continue;
            m->mark[st] = g->stamp;
            m->parent[st] = ei << 1 | it.state;
            if (e->to == goal && (accept & (1u << st))) {
                found = (int)st + 1;
                break;
            }
            if (tail == cap) {
                qitem *nq = realloc(q, cap * 2 * sizeof *q);
                if (!nq)
                    break;
                q = nq;
                cap *= 2;
            }
            q[tail++] = (qitem){e->to, st};
        }
    }
    free(q);
    return found;
}

size_t lg_lo_find_cycle(lg_lo_graph *g, uint32_t ei, uint32_t *path, size_t max)
{
    const lg_lo_edge e0 = g->edges[ei];
    if (!lg_lo_may_cycle(g, ei) || max < 2)
        return 0;
    uint32_t only = g->unordered ? 0 : g->nodes[e0.from].comp;
    /* Two ways to leave `from` by e0: as an exclusive holder (any arrival will do), or as a
     * shared holder (only an arrival that was not recursive-read-only). */
    const unsigned choice[2] = {e0.bits & LG_DEP_FROM_E, e0.bits & LG_DEP_FROM_S};
    const unsigned accept[2] = {3, 1};
    for (int c = 0; c < 2; c++) {
        if (!choice[c])
            continue;
        int st0 = (choice[c] & LG_DEP_TO_N) ? 0 : 1;
        int found = search(g, e0.to, st0, e0.from, accept[c], only);
        if (!found)
            continue;
        /* Walk parents back from (from, found-1) to (to, st0). */
        size_t n = 0;
        uint32_t node = e0.from, st = (uint32_t)found - 1;
        for (;;) {
            uint32_t p = g->nodes[node].parent[st];
            if (p == LG_LO_NONE)
                break;             /* the start state: the only one without a parent */
            if (n + 1 >= max)
                return 0;
            path[1 + n++] = p >> 1;
            st = p & 1;
            node = g->edges[p >> 1].from;
        }
        path[0] = ei;
        for (size_t i = 0; i < n / 2; i++) {
            uint32_t t = path[1 + i];
            path[1 + i] = path[n - i];
            path[n - i] = t;
        }
        return n + 1;
    }
    return 0;
}

lg_lo_class lg_lo_classify(const lg_lo_graph *g, const uint32_t *path, size_t n,
                           uint64_t (*node_key)(uint32_t node, void *ctx), void *ctx)
{
    lg_lo_class c = {0};
    if (!n)
        return c;
    const lg_lo_edge *first = &g->edges[path[0]];
    c.same_thread = true;
    for (size_t i = 0; i < n; i++) {
        const lg_lo_edge *e = &g->edges[path[i]];
        if ((e->flags & LG_LO_MULTI) || e->tid != first->tid)
            c.same_thread = false;
        if (e->flags & LG_LO_TIMED)
            c.timed = true;
    }
    /* A gate: a key held at every occurrence of every edge, not itself in the cycle. */
    for (uint8_t k = 0; k < first->ngates && !c.gated; k++) {
        uint64_t key = first->gates[k];
        bool everywhere = true;
        for (size_t i = 0; i < n && everywhere; i++) {
            const lg_lo_edge *e = &g->edges[path[i]];
            if (node_key && node_key(e->from, ctx) == key)
                everywhere = false;
            bool has = false;
            for (uint8_t j = 0; j < e->ngates; j++)
                has |= e->gates[j] == key;
            everywhere &= has;
        }
        if (everywhere) {
            c.gated = true;
            c.gate = key;
        }
    }
    return c;
}
