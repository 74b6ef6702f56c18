/* test-order.c - the lock graph's dynamic topological order (lockorder-order.c) under
 * ASan/UBSan: random DAG insertions keep a valid order and never search; an edge that closes
 * a cycle merges exactly the nodes on it and is found; an edge the order already allows costs
 * no search; and on random graphs with random reader/writer bits, removals and weakened edges,
 * the ordered graph finds exactly what the full search (the reference, `unordered`) finds,
 * which an independent fixpoint check of the strong-path rule confirms. */
#include <stdint.h>

#include "analysis/lockorder.h"
#include "t.h"

static unsigned long seed = 88172645463325252ul;

static unsigned long rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static int add(lg_lo_graph *g, uint32_t from, uint32_t to, unsigned bits, uint32_t *e)
{
    lg_lo_occurrence o = {.from = from, .to = to, .bits = (uint8_t)bits, .tid = 1};
    return lg_lo_add(g, &o, e);
}

static size_t ncomps_live(const lg_lo_graph *g)
{
    size_t n = 0;
    for (size_t i = 1; i < g->ncomps; i++)
        n += g->comps[i].nmem != 0;
    return n;
}

/* Edges only from a lower rank to a higher one of a hidden random order: a DAG. */
static void test_random_dag(void)
{
    enum { N = 400, E = 6000 };
    uint32_t rank[N];
    for (uint32_t i = 0; i < N; i++)
        rank[i] = i;
    for (uint32_t i = N - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(rnd() % (i + 1)), t = rank[i];
        rank[i] = rank[j];
        rank[j] = t;
    }
    lg_lo_graph g;
    lg_lo_init(&g);
    int ok = 1, cycles = 0;
    for (int k = 0; k < E; k++) {
        uint32_t a = (uint32_t)(rnd() % N), b = (uint32_t)(rnd() % N), e;
        if (a == b)
            continue;
        if (rank[a] > rank[b]) {
            uint32_t t = a;
            a = b;
            b = t;
        }
        CHECK(add(&g, a, b, LG_DEP_EN, &e) >= 0);
        cycles += lg_lo_may_cycle(&g, e);
        uint32_t path[16];
        cycles += lg_lo_find_cycle(&g, e, path, 16) != 0;
        if (k % 97 == 0)
            ok &= lg_lo_order_valid(&g);
    }
    CHECK(ok);
    CHECK(lg_lo_order_valid(&g));
    CHECK_INT(cycles, 0);
    CHECK_INT(g.searches, 0);        /* a DAG never needs a search */
    CHECK(g.reorders > 0);           /* the insertion order did break the order */
    CHECK_INT(ncomps_live(&g), N);   /* every node its own component */
    CHECK(!g.unordered);
    lg_lo_free(&g);
}

static void test_cycle_merge(void)
{
    lg_lo_graph g;
    lg_lo_init(&g);
    uint32_t e, path[64];
    /* A chain 0 -> 1 -> ... -> 9 added back to front (every edge breaks the order), and a
     * side branch 20 -> 21 that no cycle touches. */
    for (uint32_t i = 9; i-- > 0;)
        add(&g, i, i + 1, LG_DEP_EN, &e);
    add(&g, 20, 21, LG_DEP_EN, &e);
    add(&g, 5, 20, LG_DEP_EN, &e);
    CHECK(lg_lo_order_valid(&g));
    CHECK_INT(g.searches, 0);
    /* 7 -> 3 closes 3 -> 4 -> 5 -> 6 -> 7: those five become one component, nothing else. */
    add(&g, 7, 3, LG_DEP_EN, &e);
    CHECK(lg_lo_may_cycle(&g, e));
    CHECK_INT(lg_lo_find_cycle(&g, e, path, 64), 5);
    CHECK(lg_lo_order_valid(&g));
    CHECK(g.nodes[3].comp == g.nodes[7].comp && g.nodes[5].comp == g.nodes[3].comp);
    CHECK(g.nodes[2].comp != g.nodes[3].comp && g.nodes[8].comp != g.nodes[3].comp);
    CHECK(g.nodes[20].comp != g.nodes[3].comp);
    CHECK_INT(ncomps_live(&g), 8);   /* 0 1 2 {3..7} 8 9 20 21 */
    /* A consistent edge: O(1), no search. */
    size_t before = g.searches;
    add(&g, 0, 9, LG_DEP_EN, &e);
    CHECK(!lg_lo_may_cycle(&g, e));
    CHECK_INT(lg_lo_find_cycle(&g, e, path, 64), 0);
    CHECK_INT(g.searches, before);
    /* 9 -> 0 closes the whole chain (through the merged part). */
    add(&g, 9, 0, LG_DEP_EN, &e);
    CHECK_INT(lg_lo_find_cycle(&g, e, path, 64), 2);   /* the shortest: 0 -> 9 -> 0 */
    CHECK(lg_lo_order_valid(&g));
    CHECK_INT(ncomps_live(&g), 3);   /* {0..9} 20 21 */
    /* A member dies: it leaves its component; the rest stays together (still exact). */
    lg_lo_clear_node(&g, 5);
    CHECK(lg_lo_order_valid(&g));
    CHECK_INT(g.nodes[5].comp, 0);
    CHECK_INT(ncomps_live(&g), 3);
    add(&g, 4, 5, LG_DEP_EN, &e);    /* born again, with a new component */
    CHECK(g.nodes[5].comp != g.nodes[4].comp);
    CHECK(lg_lo_order_valid(&g));
    lg_lo_free(&g);
}

/* Independent check of the strong-path rule: is there a cycle through edge e? Fixpoint over
 * (node, state) pairs, state 1 = "arrived only through -(*R)-> edges". */
static int brute_cycle(const lg_lo_graph *g, uint32_t e)
{
    const lg_lo_edge *e0 = &g->edges[e];
    if (e0->to == LG_LO_NONE || e0->from == e0->to)
        return 0;
    enum { MAXN = 64 };
    for (int choice = 0; choice < 2; choice++) {
        unsigned leave = e0->bits & (choice ? LG_DEP_FROM_S : LG_DEP_FROM_E);
        if (!leave)
            continue;
        unsigned char reach[MAXN][2] = {{0}};
        reach[e0->to][(leave & LG_DEP_TO_N) ? 0 : 1] = 1;
        for (int changed = 1; changed;) {
            changed = 0;
            for (size_t i = 0; i < g->nedges; i++) {
                const lg_lo_edge *x = &g->edges[i];
                if (x->to == LG_LO_NONE)
                    continue;
                for (int st = 0; st < 2; st++) {
                    if (!reach[x->from][st])
                        continue;
                    unsigned usable = st ? (x->bits & LG_DEP_FROM_E) : x->bits;
                    if (!usable)
                        continue;
                    int nst = (usable & LG_DEP_TO_N) ? 0 : 1;
                    if (!reach[x->to][nst]) {
                        reach[x->to][nst] = 1;
                        changed = 1;
                    }
                }
            }
        }
        /* Leaving `from` as a shared holder needs an arrival that was not R-only. */
        if (reach[e0->from][0] || (!choice && reach[e0->from][1]))
            return 1;
    }
    return 0;
}

static const unsigned bit_choices[] = {
    LG_DEP_EN, LG_DEP_ER, LG_DEP_SN, LG_DEP_SR, LG_DEP_SN | LG_DEP_N_READ,
    LG_DEP_EN | LG_DEP_SR, LG_DEP_ER | LG_DEP_SN,
};

static void test_property(void)
{
    int mismatches = 0, found = 0, invalid = 0, brute_wrong = 0;
    size_t searched = 0, reference = 0;
    for (int round = 0; round < 300; round++) {
        lg_lo_graph a, b;
        lg_lo_init(&a);
        lg_lo_init(&b);
        b.unordered = true;   /* the reference: a full search for every edge */
        uint32_t n = 3 + (uint32_t)(rnd() % 20);
        int ops = 20 + (int)(rnd() % 120);
        for (int k = 0; k < ops; k++) {
            if (rnd() % 25 == 0) {
                uint32_t v = (uint32_t)(rnd() % n);
                lg_lo_clear_node(&a, v);
                lg_lo_clear_node(&b, v);
                invalid += !lg_lo_order_valid(&a);
                continue;
            }
            uint32_t x = (uint32_t)(rnd() % n), y = (uint32_t)(rnd() % n), ea, eb;
            /* Mostly "downhill" so that components grow slowly and both paths are exercised. */
            if (rnd() % 4 && x > y) {
                uint32_t t = x;
                x = y;
                y = t;
            }
            unsigned bits = bit_choices[rnd() % (sizeof bit_choices / sizeof *bit_choices)];
            int ra = add(&a, x, y, bits, &ea), rb = add(&b, x, y, bits, &eb);
            mismatches += ra != rb || ea != eb;
            if (ra != 1)
                continue;
            uint32_t pa[64], pb[64];
            size_t na = lg_lo_find_cycle(&a, ea, pa, 64), nb = lg_lo_find_cycle(&b, eb, pb, 64);
            mismatches += na != nb;
            for (size_t i = 0; i < na && na == nb; i++)
                mismatches += pa[i] != pb[i];
            brute_wrong += (na != 0) != brute_cycle(&b, eb);
            found += na != 0;
            invalid += !lg_lo_order_valid(&a);
        }
        searched += a.searches;
        reference += b.searches;
        CHECK(!a.unordered);
        lg_lo_free(&a);
        lg_lo_free(&b);
    }
    CHECK_INT(mismatches, 0);
    CHECK_INT(brute_wrong, 0);
    CHECK_INT(invalid, 0);
    CHECK(found > 100);              /* the test does exercise cycles */
    CHECK(searched < reference);     /* and the order did spare searches */
    fprintf(stderr, "property: %d cycles; %zu searches ordered, %zu full\n", found, searched,
            reference);
}

int main(void)
{
    test_random_dag();
    test_cycle_merge();
    test_property();
    T_DONE();
}
