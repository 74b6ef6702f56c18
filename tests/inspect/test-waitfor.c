/* test-waitfor.c - the wait-for graph algorithm (src/analysis/waitfor.c): every cycle found,
 * disjoint cycles numbered by their lowest node, chains that end or enter a cycle. */
#include "t.h"

#include "analysis/waitfor.h"

int main(void)
{
    /* 0->1->0 (ABBA), 2 waits on 0 (chain into the cycle), 3 self, 4->5->6->4 ring, 7 free,
     * 8 -> 7 (chain ending in a running thread). */
    int next[] = {1, 0, 0, 3, 5, 6, 4, -1, 7};
    int cyc[9];
    size_t nc = lg_waitfor_cycles(next, 9, cyc);
    CHECK_INT((int)nc, 3);
    CHECK_INT(cyc[0], 0);
    CHECK_INT(cyc[1], 0);
    CHECK_INT(cyc[2], -1);
    CHECK_INT(cyc[3], 1);
    CHECK_INT(cyc[4], 2);
    CHECK_INT(cyc[5], 2);
    CHECK_INT(cyc[6], 2);
    CHECK_INT(cyc[7], -1);
    CHECK_INT(cyc[8], -1);

    int entry = -5;
    size_t len = 99;
    CHECK_INT(lg_waitfor_chain_end(next, 9, 2, &entry, &len), -1);
    CHECK_INT(entry, 0);
    CHECK_INT((int)len, 1);
    CHECK_INT(lg_waitfor_chain_end(next, 9, 8, &entry, &len), 7);
    CHECK_INT((int)len, 1);
    CHECK_INT(lg_waitfor_chain_end(next, 9, 7, NULL, &len), 7);
    CHECK_INT((int)len, 0);
    CHECK_INT(lg_waitfor_chain_end(next, 9, 3, &entry, NULL), -1);
    CHECK_INT(entry, 3);

    /* Bad input is an error, not a crash. */
    int bad[] = {1, 5};
    CHECK_INT((int)lg_waitfor_cycles(bad, 2, cyc), -1);
    CHECK_INT(lg_waitfor_chain_end(bad, 2, 0, NULL, NULL), -2);
    CHECK_INT(lg_waitfor_chain_end(next, 9, 9, NULL, NULL), -2);

    /* 1,000-node ring and an empty graph. */
    enum { N = 1000 };
    static int ring[N], rc[N];
    for (int i = 0; i < N; i++)
        ring[i] = (i + 1) % N;
    CHECK_INT((int)lg_waitfor_cycles(ring, N, rc), 1);
    CHECK_INT(rc[N - 1], 0);
    CHECK_INT((int)lg_waitfor_cycles(ring, 0, rc), 0);
    T_DONE();
}
