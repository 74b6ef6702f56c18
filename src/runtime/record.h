/* record.h - the hooks by which the runtime feeds `lockgraph record`'s trace writer
 * (src/trace/trace.h, contract in docs/trace-format.md "Runtime contract").
 *
 * Acquisitions and releases cost nothing here when not recording: a recording thread's
 * fast_cap is 0 (threads.c), so its every acquisition and release leaves the fast path for
 * slowpath.c, which does the fast path's work and calls the *_held hooks with the held-lock
 * entry it found (lock trace id cached in its rt_lock per generation, stack id mapped from
 * the runtime's own). The rarer hooks (trylock failures, waits, condition waits) are one
 * predictable branch on the writer's global `lg_trace_on` when recording is off. Not here:
 * deciding contention (interpose.c tries first, wait.c blocks) or anything the deadlock
 * detector needs.
 */
#ifndef LG_RT_RECORD_H
#define LG_RT_RECORD_H

#include "../trace/trace.h"
#include "rt.h"

void rt_rec_init(void);
void rt_rec_event(int type, const void *addr, lg_lock_type ltype, unsigned mode, uint32_t arg,
                  uintptr_t pc);
void rt_rec_acquired(const void *addr, lg_lock_type ltype, unsigned mode, unsigned flags,
                     uintptr_t pc);
void rt_rec_released(const void *addr, lg_lock_type ltype, uintptr_t pc);
/* The same two events, for a thread that records, from the held-lock entry the fast path
 * just pushed (or is about to pop): no lookup by address. */
void rt_rec_acquired_held(const rt_held *h, lg_lock_type ltype);
void rt_rec_released_held(const rt_held *h, lg_lock_type ltype, uintptr_t pc);
void rt_rec_wait_begin(const void *addr, lg_lock_type ltype, unsigned mode, uintptr_t pc);
int rt_rec_wait_end(const void *addr, lg_lock_type ltype, unsigned mode, int r, uintptr_t pc);
void rt_rec_cond(int type, const void *cond, const void *mutex, uintptr_t pc);
void rt_rec_named(const void *addr);

/* Without --all-events (rt_rec_counting): a recording thread keeps the fast path, which
 * counts (record-count.h); its slow path calls these. acquire_counted: the fast path's push
 * with the real capacity, counted; false when the full slow path must run, which calls
 * counted_held after it (`before` = the depth before the acquisition). release_counted:
 * before the release, the end of a timed hold and the RELEASE event of one that readies a
 * waiter. */
extern int rt_rec_counting;
bool rt_rec_acquire_counted(rt_thread *t, void *addr, lg_lock_type ltype, unsigned mode,
                            unsigned flags, uintptr_t pc);
void rt_rec_counted_held(rt_thread *t, const void *addr, uint32_t before, lg_lock_type ltype);
void rt_rec_release_counted(rt_thread *t, void *addr, int type, uintptr_t pc);
/* A thread's wait on a spinlock, listed for its releaser (record-count.h). */
bool rt_rec_spin_wait(const void *addr, int delta);

/* A user-level trylock found the lock held. */
#define RT_REC_TRYFAIL(addr, ltype, mode, pc)                                              \
    do {                                                                                   \
        if (unlikely(lg_trace_on))                                                         \
            rt_rec_event(LG_EV_TRYLOCK_FAIL, addr, ltype, mode, 1, pc);                    \
    } while (0)
/* Around a condition wait: BEGIN before the real call, END after it. */
#define RT_REC_COND(type, cond, mutex, pc)                                                 \
    do {                                                                                   \
        if (unlikely(lg_trace_on))                                                         \
            rt_rec_cond(type, cond, mutex, pc);                                            \
    } while (0)
/* Everything recorded so far, to the file (deadlock, fatal signal, exec): every thread's
 * counts too. */
void rt_rec_flush(void);
#define RT_REC_FLUSH()                                                                     \
    do {                                                                                   \
        if (unlikely(lg_trace_on))                                                         \
            rt_rec_flush();                                                                \
    } while (0)

#endif
