/* waitfor.h - wait-for graph analysis, shared by every front end.
 *
 * Two questions, two algorithms over the same kind of graph (thread -> the lock it waits
 * for -> the thread(s) holding it):
 *  - "which cycles and chains does this stopped process have?" (attach, core): every thread
 *    has at most one known successor (a lock's one known owner), so all cycles are found in
 *    one linear pass: lg_waitfor_cycles(), lg_waitfor_chain_end();
 *  - "does the thread about to block close a cycle?" (the runtime, at the moment of the
 *    wait): a read-held lock has several holders, so the graph branches and a bounded
 *    depth-first search through that one thread is needed: lg_wf_find_cycle().
 * Pure algorithms, no I/O; unit-tested under ASan/UBSan (tests/inspect/test-waitfor.c,
 * tests/analysis/test-analysis.c).
 * Not here: decoding waits (src/inspect/decode.c), building reports (src/inspect/build.c,
 * src/runtime/wait.c).
 */
#ifndef LG_WAITFOR_H
#define LG_WAITFOR_H

#include <stddef.h>
#include <stdint.h>

/* ---- one successor per thread (a stopped process) ----
 * Nodes are threads; thread i points at next[i], the thread that must act before i can go
 * on (the owner of what i waits for), or -1 when that is nobody we know (running, blocked
 * elsewhere, no owner, unknown readers). */

/* Marks every node on a cycle: cycle_of[i] = index of its cycle (0, 1, ... in order of the
 * lowest node of each cycle), -1 off cycles. Returns the number of cycles, or (size_t)-1
 * when next[] holds an index out of range or memory runs out. */
size_t lg_waitfor_cycles(const int *next, size_t n, int *cycle_of);

/* Follows the chain from `start`: returns the last node before the chain stops (a node whose
 * next is -1), or -1 when it runs into a cycle (then *entry, if given, is the first node of
 * the chain that lies on the cycle). *len counts the edges walked up to that node. Returns
 * -2 on bad arguments or when memory runs out. */
int lg_waitfor_chain_end(const int *next, size_t n, int start, int *entry, size_t *len);

/* ---- several holders per lock (the runtime, as one thread blocks) ----
 * The caller describes the graph through two callbacks (what a thread waits for, who holds
 * a lock). Threads and locks are opaque 64-bit handles. Not thread-safe; bounded by `max`. */

typedef struct lg_wf_ops {
    /* The lock thread `t` waits for, or 0 when it does not wait. */
    uint64_t (*waits_for)(void *ctx, uint64_t t);
    /* Up to `max` holders of lock `l` into out[]; returns how many there are. */
    size_t (*holders)(void *ctx, uint64_t l, uint64_t *out, size_t max);
    void *ctx;
} lg_wf_ops;

/* Depth-first search from thread `start`. On a cycle back to `start`, writes the threads of
 * the cycle (start first) into threads[] and the lock each waits for into locks[], and
 * returns its length; 0 when `start` is not on a cycle (or it is longer than max). */
size_t lg_wf_find_cycle(const lg_wf_ops *ops, uint64_t start, uint64_t *threads,
                        uint64_t *locks, size_t max);

#endif
