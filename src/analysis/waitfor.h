/* waitfor.h - the wait-for graph of a stopped process: nodes are threads, thread i points at
 * next[i], the thread that must act before i can go on (the owner of what i waits for), or
 * -1 when that is nobody we know (running, blocked elsewhere, no owner, unknown readers).
 *
 * Each thread waits for one thing and a lock has at most one known owner, so every node has
 * at most one successor: the cycles are disjoint, all found in one linear pass. Pure
 * algorithm, no I/O: src/inspect feeds it; unit-tested under ASan/UBSan.
 * Not here: decoding waits (src/inspect/decode.c), reporting (src/inspect/build.c).
 */
#ifndef LG_WAITFOR_H
#define LG_WAITFOR_H

#include <stddef.h>

/* Marks every node on a cycle: cycle_of[i] = index of its cycle (0, 1, ... in order of the
 * lowest node of each cycle), -1 off cycles. Returns the number of cycles, or (size_t)-1
 * when next[] holds an index out of range or memory runs out. */
size_t lg_waitfor_cycles(const int *next, size_t n, int *cycle_of);

/* Follows the chain from `start`: returns the last node before the chain stops (a node whose
 * next is -1), or -1 when it runs into a cycle (then *entry, if given, is the first node of
 * the chain that lies on the cycle). *len counts the edges walked up to that node. Returns
 * -2 on bad arguments or when memory runs out. */
int lg_waitfor_chain_end(const int *next, size_t n, int start, int *entry, size_t *len);

#endif
