/* lockorder.h - the lock-order graph: nodes are lock instances (dense ids chosen by the
 * caller), an edge A -> B says "a thread acquired B while holding A". Finds the cycle that a
 * new edge closes, under lockdep's strong-path rule for reader/writer locks, and classifies
 * it (gated by a common lock, formed by one thread, closed through a timed acquisition).
 *
 * What one edge remembers: every (holder mode, acquirer class) combination seen (LG_DEP_*),
 * the first thread and stacks (opaque ids owned by the caller), and the locks that were held
 * at EVERY occurrence besides its source (the gate candidates: an intersection).
 *
 * Incremental: the graph keeps a topological order of its strongly connected components
 * (lockorder-order.c, Pearce-Kelly's dynamic order with cycles collapsed into components).
 * An edge between two different components can close no cycle, so lg_lo_find_cycle answers
 * it in O(1); an edge that breaks the order reorders only the region between its ends, and a
 * cycle search runs only inside one component. Findings are exactly those of a full search.
 *
 * Not here: lock identity and generations (the caller clears a node when its lock dies),
 * stacks, threads, reporting. Not thread-safe: the runtime holds its graph lock.
 */
#ifndef LG_LOCKORDER_H
#define LG_LOCKORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "u64map.h"

/* Dependency bits: holder held the source Exclusive/Shared; the acquirer was a writer or a
 * non-recursive reader (N: blocked by a waiting writer) or a recursive reader (R: blocked
 * only by a writer that holds the lock; glibc's default reader-preferring rwlock). */
enum {
    LG_DEP_EN = 1u << 0,
    LG_DEP_ER = 1u << 1,
    LG_DEP_SN = 1u << 2,
    LG_DEP_SR = 1u << 3,
    /* Not a dependency: marks an N acquisition that was a read (a non-recursive reader of a
     * writer-preferring rwlock). N for the graph, shared for reports. Always with EN or SN. */
    LG_DEP_N_READ = 1u << 4,
};
#define LG_DEP_FROM_E (LG_DEP_EN | LG_DEP_ER)
#define LG_DEP_FROM_S (LG_DEP_SN | LG_DEP_SR)
#define LG_DEP_TO_N   (LG_DEP_EN | LG_DEP_SN)
#define LG_DEP_TO_R   (LG_DEP_ER | LG_DEP_SR)

/* Edge flags. */
enum {
    LG_LO_TIMED  = 1u << 0,   /* every occurrence was a timed acquisition */
    LG_LO_MULTI  = 1u << 1,   /* made by more than one thread */
    LG_LO_COND   = 1u << 2,   /* first made by a condition-variable re-acquisition */
};

#define LG_LO_GATES 4         /* gate candidates remembered per edge */
#define LG_LO_NONE UINT32_MAX

typedef struct lg_lo_edge {
    uint32_t from, to;        /* to == LG_LO_NONE: a free slot */
    uint8_t bits;             /* LG_DEP_* seen */
    uint8_t flags;            /* LG_LO_* */
    uint8_t ngates;
    int tid;                  /* first thread */
    char tname[16];           /* its name then */
    uint32_t from_stack;      /* caller's id: where `from` was acquired */
    uint32_t to_stack;        /* caller's id: where `to` was acquired */
    uint64_t gates[LG_LO_GATES];  /* caller's lock keys held at every occurrence */
    uint64_t seq;             /* creation order */
} lg_lo_edge;

typedef struct lg_lo_node {
    uint32_t *out, nout, capout;   /* edge indices */
    uint32_t *in, nin, capin;
    uint32_t mark[2];              /* search stamps, one per strong-path state */
    uint32_t parent[2];            /* edge index that reached this state */
    uint32_t comp;                 /* its component (index into comps), 0: none (no edges) */
    uint32_t cpos;                 /* its place in the component's member list */
} lg_lo_node;

/* A set of nodes that the order keeps together: it holds every cycle among its members
 * (each strongly connected component of the graph lies inside one), and possibly more after
 * a member died (never split again: that only costs searches, never a finding). */
typedef struct lg_lo_comp {
    uint64_t ord;                  /* place in the order: every edge x -> y has
                                      ord(comp(x)) < ord(comp(y)) or the same component */
    uint32_t *mem, nmem, capmem;   /* members; capmem == 0: the one member is in `one` */
    uint32_t one;
    uint32_t fmark, bmark;         /* reorder stamps: reached forward / backward */
} lg_lo_comp;

/* Scratch vectors of the reorder, kept between calls. */
typedef struct lg_lo_vec {
    uint32_t *v;
    size_t n, cap;
} lg_lo_vec;

typedef struct lg_lo_graph {
    lg_lo_node *nodes; size_t nnodes;
    lg_lo_edge *edges; size_t nedges, capedges;
    uint32_t free_edge;            /* head of the free list (through `from`), or NONE */
    lg_u64map index;               /* (from, to) -> edge index */
    uint32_t stamp;
    uint64_t seq;
    size_t live_edges;
    size_t max_visits;             /* bound on one search; 0 = unbounded */
    bool truncated;                /* the last search hit max_visits */
    /* The order (lockorder-order.c). */
    lg_lo_comp *comps; size_t ncomps, capcomps;   /* comps[0] unused */
    lg_lo_vec free_comps, stack, fwd, bwd;
    uint64_t *pool; size_t cappool;
    uint64_t next_ord;
    uint32_t cstamp;
    bool unordered;                /* no order (an allocation failed, or a test's reference):
                                      every search is a full one */
    size_t searches;               /* strong-path searches run */
    size_t reorders;               /* edges that broke the order */
} lg_lo_graph;

/* One occurrence of "holding `from` in holder_mode_shared, acquired `to`". */
typedef struct lg_lo_occurrence {
    uint32_t from, to;
    uint8_t bits;             /* exactly the LG_DEP_* bit of this occurrence */
    bool timed, cond;
    int tid;
    const char *tname;        /* may be NULL */
    uint32_t from_stack, to_stack;
    const uint64_t *held;     /* keys of the other locks held (not from, not to) */
    size_t nheld;
} lg_lo_occurrence;

void lg_lo_init(lg_lo_graph *g);
void lg_lo_free(lg_lo_graph *g);

/* Record an occurrence. Returns the edge index in *edge and 1 when the edge is new or
 * became weaker-guarded (new bits, fewer gates, no longer only timed, a second thread):
 * then a cycle search is due. 0 when nothing changed, -1 on allocation failure. */
int lg_lo_add(lg_lo_graph *g, const lg_lo_occurrence *o, uint32_t *edge);

/* Remove every edge into or out of `node` (its lock died). */
void lg_lo_clear_node(lg_lo_graph *g, uint32_t node);

/* May edge `e` close a cycle? false: it cannot, and lg_lo_find_cycle would return 0 without
 * searching. O(1). */
static inline bool lg_lo_may_cycle(const lg_lo_graph *g, uint32_t e)
{
    const lg_lo_edge *ed = &g->edges[e];
    if (ed->to == LG_LO_NONE || ed->from == ed->to)
        return false;
    return g->unordered || g->nodes[ed->from].comp == g->nodes[ed->to].comp;
}

/* lockorder-order.c, for lockorder.c: place a new edge from -> to in the order (the edge is
 * already linked), take a dying node out of its component, release everything. */
void lg_lo_order_edge(lg_lo_graph *g, uint32_t from, uint32_t to);
void lg_lo_order_detach(lg_lo_graph *g, uint32_t node);
void lg_lo_order_free(lg_lo_graph *g);
/* For tests: 1 when every live edge respects the order and every node's component agrees
 * with its member list, else 0. */
int lg_lo_order_valid(const lg_lo_graph *g);

/* The cycle that edge `e` closes: a strong path to -> ... -> from, plus e. Writes up to `max`
 * edge indices into path (e first) and returns the cycle length, 0 when none. */
size_t lg_lo_find_cycle(lg_lo_graph *g, uint32_t e, uint32_t *path, size_t max);

/* Classification of a cycle (path as returned above). */
typedef struct lg_lo_class {
    bool gated;               /* a lock outside the cycle was held at every edge */
    uint64_t gate;            /* that lock's key */
    bool same_thread;         /* every edge made by one thread only */
    bool timed;               /* some edge was only ever timed */
} lg_lo_class;
/* node_key(n) gives the caller's key for a node, to exclude cycle members from gates. */
lg_lo_class lg_lo_classify(const lg_lo_graph *g, const uint32_t *path, size_t n,
                           uint64_t (*node_key)(uint32_t node, void *ctx), void *ctx);

/* A strong transition: may a path arrive by an edge with bits a and leave by bits b? */
static inline bool lg_lo_strong(unsigned a, unsigned b)
{
    /* Forbidden only if every choice pairs an -(*R)-> arrival with an -(S*)-> departure. */
    return (a & LG_DEP_TO_N) || (b & LG_DEP_FROM_E);
}

#endif
