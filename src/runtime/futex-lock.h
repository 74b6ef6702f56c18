/* futex-lock.h - the runtime's own lock: a three-state futex mutex (Drepper, "Futexes are
 * tricky"). The runtime must never use a pthread mutex for itself: we interpose those, and
 * the program could hold them. Not recursive, no owner tracking. Signals are blocked on the
 * holding thread from lock to unlock (src/util/sigblock.h: no handler of the program, nor
 * the runtime's fatal-signal handler, ever runs on a thread holding one). */
#ifndef LG_RT_FUTEX_LOCK_H
#define LG_RT_FUTEX_LOCK_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util/sigblock.h"

typedef struct rt_flock {
    _Atomic int state;   /* 0 free, 1 locked, 2 locked with waiters */
} rt_flock;

#define RT_FLOCK_INIT {0}

static inline void rt_flock_lock(rt_flock *l)
{
    lg_sigblock_enter();
    int c = 0;
    if (atomic_compare_exchange_strong_explicit(&l->state, &c, 1, memory_order_acquire,
                                                memory_order_relaxed))
        return;
    if (c != 2)
        c = atomic_exchange_explicit(&l->state, 2, memory_order_acquire);
    while (c != 0) {
        syscall(SYS_futex, &l->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = atomic_exchange_explicit(&l->state, 2, memory_order_acquire);
    }
}

static inline void rt_flock_unlock(rt_flock *l)
{
    if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2)
        syscall(SYS_futex, &l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    lg_sigblock_leave();
}

/* After fork in the child: whoever held it is gone (the forking thread's mask is restored by
 * lg_sigblock_after_fork). */
static inline void rt_flock_reset(rt_flock *l)
{
    atomic_store_explicit(&l->state, 0, memory_order_relaxed);
}

#endif
