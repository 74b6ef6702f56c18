/* test-analysis.c - the graph algorithms of src/analysis under ASan/UBSan: the hash map, the
 * lock-order graph (strong-path rule, gates, same-thread, timed, node removal, long cycles)
 * and the wait-for cycle search. */
#include <stdint.h>

#include "analysis/lockorder.h"
#include "analysis/u64map.h"
#include "analysis/waitfor.h"
#include "t.h"

static void test_map(void)
{
    lg_u64map m = {0};
    for (uint64_t k = 1; k <= 100000; k++)
        CHECK(lg_u64map_put(&m, k * 7919, k) == 0);
    uint64_t v = 0;
    CHECK(lg_u64map_get(&m, 7919 * 500, &v) && v == 500);
    for (uint64_t k = 1; k <= 100000; k += 2)
        CHECK(lg_u64map_del(&m, k * 7919) == 1);
    CHECK(!lg_u64map_get(&m, 7919 * 501, NULL));
    CHECK(lg_u64map_get(&m, 7919 * 502, &v) && v == 502);
    CHECK_INT(m.used, 50000);
    for (uint64_t k = 1; k <= 100000; k += 2)
        CHECK(lg_u64map_put(&m, k * 7919, k + 1) == 0);
    CHECK(lg_u64map_get(&m, 7919 * 501, &v) && v == 502);
    lg_u64map_free(&m);
}

static uint32_t add(lg_lo_graph *g, uint32_t from, uint32_t to, unsigned bits, int tid,
                    const uint64_t *held, size_t nheld, bool timed, int *changed)
{
    lg_lo_occurrence o = {.from = from, .to = to, .bits = (uint8_t)bits, .timed = timed,
                          .tid = tid, .held = held, .nheld = nheld};
    uint32_t e = LG_LO_NONE;
    *changed = lg_lo_add(g, &o, &e);
    return e;
}

static size_t cycle(lg_lo_graph *g, uint32_t e)
{
    uint32_t path[4096];
    return lg_lo_find_cycle(g, e, path, 4096);
}

static uint64_t key_of(uint32_t n, void *ctx)
{
    (void)ctx;
    return (uint64_t)n + 1000;
}

static void test_abba(void)
{
    lg_lo_graph g;
    lg_lo_init(&g);
    int ch;
    uint32_t e1 = add(&g, 0, 1, LG_DEP_EN, 1, NULL, 0, false, &ch);
    CHECK_INT(ch, 1);
    CHECK_INT(cycle(&g, e1), 0);
    add(&g, 0, 1, LG_DEP_EN, 1, NULL, 0, false, &ch);
    CHECK_INT(ch, 0);                       /* same occurrence again: nothing new */
    uint32_t e2 = add(&g, 1, 0, LG_DEP_EN, 2, NULL, 0, false, &ch);
    uint32_t path[8];
    size_t n = lg_lo_find_cycle(&g, e2, path, 8);
    CHECK_INT(n, 2);
    CHECK(path[0] == e2 && path[1] == e1);
    lg_lo_class c = lg_lo_classify(&g, path, n, key_of, NULL);
    CHECK(!c.gated && !c.same_thread && !c.timed);
    /* The lock dies: its edges go, the cycle with them. */
    lg_lo_clear_node(&g, 1);
    CHECK_INT(g.live_edges, 0);
    uint32_t e3 = add(&g, 1, 0, LG_DEP_EN, 2, NULL, 0, false, &ch);
    CHECK_INT(cycle(&g, e3), 0);
    lg_lo_free(&g);
}

/* lockdep's rule: no -(*R)-> followed by -(S*)->. */
static void test_strong(void)
{
    struct { unsigned a, b; size_t want; } cases[] = {
        {LG_DEP_SR, LG_DEP_SR, 0},  /* rdlock A,B / rdlock B,A (reader-preferring) */
        {LG_DEP_SR, LG_DEP_SN, 0},  /* rd M0,rd M1 / rd M1,wr M0 */
        {LG_DEP_SN, LG_DEP_SN, 2},  /* rd X,wr Y / rd Y,wr X */
        {LG_DEP_EN, LG_DEP_EN, 2},
        {LG_DEP_ER, LG_DEP_ER, 2},  /* wr A, rd B / wr B, rd A: readers wait for writers */
        {LG_DEP_SR | LG_DEP_EN, LG_DEP_SR, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lg_lo_graph g;
        lg_lo_init(&g);
        int ch;
        add(&g, 0, 1, cases[i].a, 1, NULL, 0, false, &ch);
        uint32_t e = add(&g, 1, 0, cases[i].b, 2, NULL, 0, false, &ch);
        size_t n = cycle(&g, e);
        if (n != cases[i].want)
            fprintf(stderr, "strong case %zu: %zu\n", i, n);
        CHECK_INT(n, cases[i].want);
        lg_lo_free(&g);
    }
    /* A new bit on an existing edge is a change and can close a cycle. */
    lg_lo_graph g;
    lg_lo_init(&g);
    int ch;
    add(&g, 0, 1, LG_DEP_SR, 1, NULL, 0, false, &ch);
    uint32_t e = add(&g, 1, 0, LG_DEP_SR, 2, NULL, 0, false, &ch);
    CHECK_INT(cycle(&g, e), 0);
    e = add(&g, 1, 0, LG_DEP_EN, 2, NULL, 0, false, &ch);
    CHECK_INT(ch, 1);
    CHECK_INT(cycle(&g, e), 2);
    lg_lo_free(&g);
}

static void test_classes(void)
{
    lg_lo_graph g;
    lg_lo_init(&g);
    int ch;
    uint64_t gate[] = {1009};   /* node 9's key */
    add(&g, 0, 1, LG_DEP_EN, 1, gate, 1, false, &ch);
    uint32_t e = add(&g, 1, 0, LG_DEP_EN, 2, gate, 1, false, &ch);
    uint32_t path[8];
    size_t n = lg_lo_find_cycle(&g, e, path, 8);
    lg_lo_class c = lg_lo_classify(&g, path, n, key_of, NULL);
    CHECK(c.gated && c.gate == 1009);
    /* The same edge made once without the gate: no longer gated. */
    e = add(&g, 1, 0, LG_DEP_EN, 2, NULL, 0, false, &ch);
    CHECK_INT(ch, 1);
    n = lg_lo_find_cycle(&g, e, path, 8);
    c = lg_lo_classify(&g, path, n, key_of, NULL);
    CHECK(!c.gated);
    lg_lo_free(&g);

    lg_lo_init(&g);
    add(&g, 0, 1, LG_DEP_EN, 7, NULL, 0, true, &ch);
    e = add(&g, 1, 0, LG_DEP_EN, 7, NULL, 0, false, &ch);
    n = lg_lo_find_cycle(&g, e, path, 8);
    c = lg_lo_classify(&g, path, n, key_of, NULL);
    CHECK(c.same_thread && c.timed);
    /* A second thread makes the first edge: not one thread's cycle any more; an untimed
     * occurrence clears timed. */
    e = add(&g, 0, 1, LG_DEP_EN, 8, NULL, 0, false, &ch);
    CHECK_INT(ch, 1);
    n = lg_lo_find_cycle(&g, e, path, 8);
    c = lg_lo_classify(&g, path, n, key_of, NULL);
    CHECK(!c.same_thread && !c.timed);
    lg_lo_free(&g);
}

static void test_long(void)
{
    lg_lo_graph g;
    lg_lo_init(&g);
    int ch;
    const uint32_t N = 3000;
    for (uint32_t i = 0; i + 1 < N; i++)
        CHECK_INT(cycle(&g, add(&g, i, i + 1, LG_DEP_EN, 1, NULL, 0, false, &ch)), 0);
    uint32_t e = add(&g, N - 1, 0, LG_DEP_EN, 1, NULL, 0, false, &ch);
    uint32_t path[4096];
    size_t n = lg_lo_find_cycle(&g, e, path, 4096);
    CHECK_INT(n, N);
    int ok = 1;
    for (size_t i = 0; i < n; i++)   /* consecutive: each edge starts where the last ended */
        ok &= g.edges[path[i]].to == g.edges[path[(i + 1) % n]].from;
    CHECK(ok);
    /* Removing a middle node breaks it; edge slots are reused. */
    lg_lo_clear_node(&g, N / 2);
    CHECK_INT(cycle(&g, e), 0);
    size_t before = g.nedges;
    add(&g, N / 2, N / 2 + 1, LG_DEP_EN, 1, NULL, 0, false, &ch);
    CHECK_INT(g.nedges, before);
    lg_lo_free(&g);
}

/* Wait-for: threads 1..4, locks 101..; holders table. */
static uint64_t waits[8];
static uint64_t holder[8][3];

static uint64_t wf_waits(void *ctx, uint64_t t)
{
    (void)ctx;
    return t < 8 ? waits[t] : 0;
}

static size_t wf_holders(void *ctx, uint64_t l, uint64_t *out, size_t max)
{
    (void)ctx;
    size_t n = 0;
    for (int i = 0; i < 3 && holder[l - 100][i]; i++)
        if (n < max)
            out[n++] = holder[l - 100][i];
    return n;
}

static void test_waitfor(void)
{
    lg_wf_ops ops = {wf_waits, wf_holders, NULL};
    uint64_t th[8], lk[8];
    /* 1 waits 101 held by 2; 2 waits 102 held by 1. */
    waits[1] = 101; holder[1][0] = 2;
    waits[2] = 102; holder[2][0] = 1;
    CHECK_INT(lg_wf_find_cycle(&ops, 1, th, lk, 8), 2);
    CHECK(th[0] == 1 && th[1] == 2 && lk[0] == 101 && lk[1] == 102);
    /* 2 stops waiting: no cycle. */
    waits[2] = 0;
    CHECK_INT(lg_wf_find_cycle(&ops, 1, th, lk, 8), 0);
    /* Self: 3 waits for 103 which it holds. */
    waits[3] = 103; holder[3][0] = 3;
    CHECK_INT(lg_wf_find_cycle(&ops, 3, th, lk, 8), 1);
    /* Branching: 4 waits 104 read-held by 5 and 6; 6 waits 105 held by 4. */
    waits[4] = 104; holder[4][0] = 5; holder[4][1] = 6;
    waits[6] = 105; holder[5][0] = 4;
    CHECK_INT(lg_wf_find_cycle(&ops, 4, th, lk, 8), 2);
    CHECK(th[1] == 6);
}

int main(void)
{
    test_map();
    test_abba();
    test_strong();
    test_classes();
    test_long();
    test_waitfor();
    T_DONE();
}
