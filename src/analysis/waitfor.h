/* waitfor.h - cycle search in a live wait-for graph: thread -> the lock it waits for ->
 * the threads that hold it -> the locks they wait for -> ... back to the first thread.
 *
 * The caller describes the graph through two callbacks (what a thread waits for, who holds
 * a lock), so the runtime (interposed calls) and outside views (attach, core) can share it.
 * Threads and locks are opaque 64-bit handles. Not thread-safe; bounded by `max`.
 */
#ifndef LG_WAITFOR_H
#define LG_WAITFOR_H

#include <stddef.h>
#include <stdint.h>

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
