/* interpose.c - the exported wrappers: one tiny function per interposed call. Each calls the
 * real function and tells the fast path what happened. A blocking acquisition first tries
 * without blocking (that is the uncontended cost: the same one atomic as the real lock);
 * only when that fails does the wait go through wait.c, which watches for deadlocks.
 *
 * Not here: any logic beyond "which mode, which flags". C11 mtx_* and cnd_* are wrapped
 * separately because glibc implements them without going through the pthread symbols.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <threads.h>
#include <unistd.h>

#include "../util/glibc-abi.h"
#include "condvars.h"
#include "fastpath.h"
#include "misuse.h"
#include "names.h"
#include "record.h"
#include "real.h"

#define PC ((uintptr_t)__builtin_return_address(0))

/* glibc refused a call on a mutex: when it is one the program destroyed, that is the
 * misuse, else when its memory holds no mutex glibc knows (invalid-lock; for a timed call
 * only when glibc accepts its clock and timeout: args_ok); glibc's answer stands. Not from
 * a signal handler that interrupted the runtime (rt_busy): the report takes the runtime's
 * locks. */
#define MUTEX_REFUSED_ARGS(r, m, pc, args_ok)                                           \
    do {                                                                                \
        if (unlikely((r) == EINVAL) && !rt_busy                                         \
            && !rt_misuse_after_destroy((uintptr_t)(m), LG_LOCK_MUTEX, pc, "EINVAL")    \
            && (args_ok))                                                               \
            rt_misuse_invalid((uintptr_t)(m), LG_LOCK_MUTEX, pc);                       \
    } while (0)
#define MUTEX_REFUSED_AT(r, m, pc) MUTEX_REFUSED_ARGS(r, m, pc, true)
#define MUTEX_REFUSED(r, m) MUTEX_REFUSED_AT(r, m, PC)
/* A condition wait glibc refused before waiting (the mutex destroyed, or memory with a kind
 * glibc refuses: its unlock failed) re-acquired nothing. */
#define COND_NOT_WAITED(r, m) (unlikely((r) == EINVAL) && rt_mutex_refused(m))

static inline unsigned mutex_flags(const pthread_mutex_t *m)
{
    return (m->__data.__kind & GLIBC_MUTEX_KIND_TYPE) == GLIBC_MUTEX_KIND_RECURSIVE
               ? RT_ACQ_REENTRY : 0;
}

static inline unsigned read_flags(const pthread_rwlock_t *l)
{
    return RT_ACQ_REENTRY
           | (l->__data.__flags == GLIBC_RW_PREFER_WRITER_NONREC ? 0 : RT_ACQ_READ_R);
}

/* ---- mutexes ---- */

RT_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    rt_lock *found = rt_misuse_reinit((uintptr_t)m, LG_LOCK_MUTEX, PC);
    int r = real_pthread_mutex_init(m, a);
    if (r == 0)
        rt_lock_born(m, LG_LOCK_MUTEX, 0, found);
    return r;
}

RT_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
    rt_lock_destroyed(m, PC);
    return real_pthread_mutex_destroy(m);
}

/* The first try of a blocking lock. For the plain kinds (normal, error-checking, adaptive;
 * process-shared or not) it is glibc's own trylock done here, step for step (glibc-locks.md:
 * the lock word 0 -> 1, then __owner = TID and ++__nusers), which skips glibc's kind dispatch:
 * a third of the interposed pair's extra cost. Every other kind (recursive, robust,
 * priority-inherit or -protect, elided) and a thread not yet known go to glibc. */
/* process-shared, no-elision: the same trylock */
#define RT_MUTEX_PLAIN_IGNORED (GLIBC_MUTEX_KIND_PSHARED | GLIBC_MUTEX_KIND_NO_ELISION)
/* how: RT_TRY_ONLY (trylock), RT_TRY_TIMED (a timed lock's first try), RT_TRY_LOCK (lock) */
enum { RT_TRY_ONLY, RT_TRY_TIMED, RT_TRY_LOCK };
static inline int mutex_first_try(pthread_mutex_t *m, const rt_thread *t, int how)
{
    /* unsigned: a destroyed mutex's kind is -1 (glibc's poison), which glibc answers EINVAL */
    unsigned raw = (unsigned)m->__data.__kind;
    unsigned kind = raw & ~(unsigned)RT_MUTEX_PLAIN_IGNORED;
    if (likely(rt_inline_trylock && kind <= GLIBC_MUTEX_KIND_TYPE
               && kind != GLIBC_MUTEX_KIND_RECURSIVE && t->tid)) {
        if (m->__data.__lock != 0)
            return EBUSY;
        /* glibc's own lock of a private normal or error-checking mutex, in a process that
         * never had a second thread, stores the lock word without an atomic (nobody else
         * can look): the same here, where that atomic was most of the interposed pair's
         * extra cost. Its trylock, timed locks and the adaptive kind's lock always use the
         * atomic. */
        if (how == RT_TRY_LOCK && kind != GLIBC_MUTEX_KIND_ADAPTIVE
            && !(raw & GLIBC_MUTEX_KIND_PSHARED) && __libc_single_threaded)
            m->__data.__lock = 1;
        else if (!__atomic_compare_exchange_n(&m->__data.__lock, &(int){0}, 1, false,
                                              __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return EBUSY;
        m->__data.__owner = t->tid;
        ++m->__data.__nusers;
        return 0;
    }
    /* glibc's trylock of a robust mutex past repair leaves it locked, its lock does not:
     * the blocking calls leave that one to glibc (wait.c makes the real call at once). */
    if (how != RT_TRY_ONLY && unlikely(m->__data.__owner == GLIBC_MUTEX_NOT_RECOVERABLE))
        return EBUSY;
    /* A kind whose trylock glibc refuses but whose lock it takes (garbage: misuse.h): the
     * program's lock is glibc's lock itself, blocking or not as glibc decides (never EBUSY). */
    if (how == RT_TRY_LOCK && unlikely(rt_mutex_try_refuses((int)raw)))
        return real_pthread_mutex_lock(m);
    return real_pthread_mutex_trylock(m);
}

/* pthread_mutex_lock and _unlock are split in two: the exported function does only the
 * common case (a private normal mutex, uncontended, the thread known, nothing new for the
 * runtime), with no call, so it needs no stack frame and saves no registers; everything else
 * is a tail call into the whole wrapper below (pc: the program's call site). Leaving the
 * inline case before it changed anything (a busy lock word, a failed CAS, a held entry not on
 * top) makes the whole wrapper start from scratch, as if called. */
static __attribute__((noinline)) int mutex_lock_whole(pthread_mutex_t *m, uintptr_t pc)
{
    rt_thread *t = rt_self;
    int r = mutex_first_try(m, t, RT_TRY_LOCK);
    if (unlikely(r == EBUSY)) {
        r = rt_wait_mutex(m, RT_WAIT_PLAIN, 0, NULL, pc);
        t = rt_self;   /* the wait may have set the thread up */
    }
    if (likely(r == 0 || r == EOWNERDEAD))
        rt_acquired_by(t, m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(m), pc);
    else if (r == EDEADLK)
        rt_misuse_relock((uintptr_t)m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, pc);
    else
        MUTEX_REFUSED_AT(r, m, pc);
    return r;
}

/* The inline case took the mutex, but its bookkeeping is more than the same acquisition
 * again: another lock or call site, a new chain, the slow path. */
static __attribute__((noinline)) int mutex_locked_other(rt_thread *t, pthread_mutex_t *m,
                                                        uintptr_t pc)
{
    rt_acquired_by(t, m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, 0, pc);
    return 0;
}

/* The inline case took the mutex, but its bookkeeping is more than an outermost one: the
 * same acquisition again here (also frameless), anything else in mutex_locked_other. */
static __attribute__((noinline)) int mutex_locked_rest(rt_thread *t, pthread_mutex_t *m,
                                                       uintptr_t pc)
{
    if (likely(rt_acquire_again_fast(t, t->fast_cap, m, LG_MODE_EXCLUSIVE, 0, pc)))
        return 0;
    return mutex_locked_other(t, m, pc);
}

/* A private normal mutex: kind 0 apart from the no-elision bit (not recursive, so no
 * RT_ACQ_REENTRY; not process-shared). */
static inline bool mutex_private_normal(const pthread_mutex_t *m)
{
    return ((unsigned)m->__data.__kind & ~(unsigned)GLIBC_MUTEX_KIND_NO_ELISION) == 0;
}

RT_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    uintptr_t pc = PC;
    rt_thread *t = rt_self;
    /* mutex_first_try's steps for this kind, then rt_acquired_by's fast half */
    if (likely(mutex_private_normal(m) && rt_inline_trylock && t->tid && m->__data.__lock == 0)) {
        if (__libc_single_threaded)
            m->__data.__lock = 1;
        else if (!__atomic_compare_exchange_n(&m->__data.__lock, &(int){0}, 1, false,
                                              __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return mutex_lock_whole(m, pc);
        m->__data.__owner = t->tid;
        ++m->__data.__nusers;
        if (likely(rt_acquire_outermost_fast(t, m, LG_MODE_EXCLUSIVE, 0, pc)))
            return 0;
        return mutex_locked_rest(t, m, pc);
    }
    return mutex_lock_whole(m, pc);
}

RT_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    rt_thread *t = rt_self;
    int r = mutex_first_try(m, t, RT_TRY_ONLY);
    if (r == 0 || r == EOWNERDEAD)
        rt_acquired_by(t, m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(m) | RT_ACQ_TRY, PC);
    else if (r == EBUSY)
        RT_REC_TRYFAIL(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, PC);
    else
        MUTEX_REFUSED(r, m);
    return r;
}

/* A timed call whose clock or timeout glibc refuses makes no first try: glibc answers it
 * itself in wait.c (EINVAL; some calls still take a free lock, as glibc does). */
RT_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *t)
{
    bool ok = rt_timed_ok(CLOCK_REALTIME, t);
    int r = ok ? mutex_first_try(m, rt_self, RT_TRY_TIMED) : EBUSY;
    if (r == EBUSY)
        r = rt_wait_mutex(m, RT_WAIT_TIMED, CLOCK_REALTIME, t, PC);
    if (r == 0 || r == EOWNERDEAD)
        rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(m) | RT_ACQ_TIMED, PC);
    else if (r == EDEADLK)
        rt_misuse_relock((uintptr_t)m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, PC);
    else
        MUTEX_REFUSED_ARGS(r, m, PC, ok);
    return r;
}

RT_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t c, const struct timespec *t)
{
    bool ok = rt_timed_ok(c, t);
    int r = ok ? mutex_first_try(m, rt_self, RT_TRY_TIMED) : EBUSY;
    if (r == EBUSY)
        r = rt_wait_mutex(m, RT_WAIT_TIMED, c, t, PC);
    if (r == 0 || r == EOWNERDEAD)
        rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(m) | RT_ACQ_TIMED, PC);
    else if (r == EDEADLK)
        rt_misuse_relock((uintptr_t)m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, PC);
    else
        MUTEX_REFUSED_ARGS(r, m, PC, ok);
    return r;
}

/* glibc 2.36's own unlock of a normal or adaptive mutex (process-shared or not), step for step
 * (__pthread_mutex_unlock_usercnt: __owner = 0, --__nusers, then the lock word: a plain store
 * for a private mutex while the process never had a second thread, else an exchange with 0
 * and a futex wake when there were waiters), skipping glibc's kind dispatch and an indirect
 * call. The kinds mutex_first_try leaves to glibc, and error-checking mutexes (their owner
 * check), are glibc's. */
static inline int mutex_unlock_glibc(pthread_mutex_t *m)
{
    unsigned raw = (unsigned)m->__data.__kind;
    unsigned kind = raw & ~(unsigned)RT_MUTEX_PLAIN_IGNORED;
    if (!rt_inline_trylock || (kind != 0 && kind != GLIBC_MUTEX_KIND_ADAPTIVE))
        return real_pthread_mutex_unlock(m);
    m->__data.__owner = 0;
    --m->__data.__nusers;
    if (!(raw & GLIBC_MUTEX_KIND_PSHARED) && __libc_single_threaded) {
        m->__data.__lock = 0;
    } else if (__atomic_exchange_n(&m->__data.__lock, 0, __ATOMIC_RELEASE) > 1) {
        int e = errno;   /* glibc's wake leaves errno alone */
        syscall(SYS_futex, &m->__data.__lock,
                raw & GLIBC_MUTEX_KIND_PSHARED ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        errno = e;
    }
    return 0;
}

static __attribute__((noinline)) int mutex_unlock_whole(pthread_mutex_t *m, uintptr_t pc)
{
    rt_released(m, LG_LOCK_MUTEX, pc);
    int r = mutex_unlock_glibc(m);
    MUTEX_REFUSED_AT(r, m, pc);
    return r;
}

/* mutex_unlock_glibc's wake of a waiter, out of line. */
static __attribute__((noinline)) int mutex_wake_private(pthread_mutex_t *m)
{
    int e = errno;   /* glibc's wake leaves errno alone */
    syscall(SYS_futex, &m->__data.__lock, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = e;
    return 0;
}

RT_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    rt_thread *t = rt_self;
    /* The split of pthread_mutex_lock (above): rt_released's fast half (for a thread that
     * counts, `record` by default: only when the lock word shows no waiter, whose readying
     * release is an event), then mutex_unlock_glibc's steps for a private normal mutex. */
    if (likely(mutex_private_normal(m) && rt_inline_trylock
               && (!t->rec || !rt_rec_waiters(m, LG_LOCK_MUTEX))
               && rt_release_fast(t, t->fast_cap, m))) {
        m->__data.__owner = 0;
        --m->__data.__nusers;
        if (__libc_single_threaded)
            m->__data.__lock = 0;
        else if (__atomic_exchange_n(&m->__data.__lock, 0, __ATOMIC_RELEASE) > 1)
            return mutex_wake_private(m);
        return 0;
    }
    return mutex_unlock_whole(m, PC);
}

/* ---- reader/writer locks ---- */

RT_EXPORT int pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *a)
{
    rt_lock *found = rt_misuse_reinit((uintptr_t)l, LG_LOCK_RWLOCK, PC);
    int r = real_pthread_rwlock_init(l, a);
    if (r == 0)
        rt_lock_born(l, LG_LOCK_RWLOCK, 0, found);
    return r;
}

RT_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
    rt_lock_destroyed(l, PC);
    return real_pthread_rwlock_destroy(l);
}

#define RW_ACQUIRE(tryfn, mode, flags, how, clk, t)                                 \
    int r = how == RT_WAIT_PLAIN || rt_timed_ok(clk, t) ? real_##tryfn(l) : EBUSY;  \
    if (unlikely(r == EBUSY))                                                       \
        r = rt_wait_rwlock(l, mode, how, clk, t, PC);                               \
    if (likely(r == 0))                                                             \
        rt_acquired(l, LG_LOCK_RWLOCK, mode, flags, PC);                            \
    else if (r == EDEADLK)                                                          \
        rt_misuse_relock((uintptr_t)l, LG_LOCK_RWLOCK, mode, PC);                   \
    return r;

RT_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    RW_ACQUIRE(pthread_rwlock_tryrdlock, LG_MODE_SHARED, read_flags(l), RT_WAIT_PLAIN, 0, NULL)
}

RT_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    RW_ACQUIRE(pthread_rwlock_trywrlock, LG_MODE_EXCLUSIVE, 0, RT_WAIT_PLAIN, 0, NULL)
}

RT_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *t)
{
    RW_ACQUIRE(pthread_rwlock_tryrdlock, LG_MODE_SHARED, read_flags(l) | RT_ACQ_TIMED,
               RT_WAIT_TIMED, CLOCK_REALTIME, t)
}

RT_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *t)
{
    RW_ACQUIRE(pthread_rwlock_trywrlock, LG_MODE_EXCLUSIVE, RT_ACQ_TIMED, RT_WAIT_TIMED,
               CLOCK_REALTIME, t)
}

RT_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t c, const struct timespec *t)
{
    RW_ACQUIRE(pthread_rwlock_tryrdlock, LG_MODE_SHARED, read_flags(l) | RT_ACQ_TIMED,
               RT_WAIT_TIMED, c, t)
}

RT_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t c, const struct timespec *t)
{
    RW_ACQUIRE(pthread_rwlock_trywrlock, LG_MODE_EXCLUSIVE, RT_ACQ_TIMED, RT_WAIT_TIMED, c, t)
}

RT_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
    int r = real_pthread_rwlock_tryrdlock(l);
    if (r == 0)
        rt_acquired(l, LG_LOCK_RWLOCK, LG_MODE_SHARED, read_flags(l) | RT_ACQ_TRY, PC);
    else if (r == EBUSY)
        RT_REC_TRYFAIL(l, LG_LOCK_RWLOCK, LG_MODE_SHARED, PC);
    return r;
}

RT_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
    int r = real_pthread_rwlock_trywrlock(l);
    if (r == 0)
        rt_acquired(l, LG_LOCK_RWLOCK, LG_MODE_EXCLUSIVE, RT_ACQ_TRY, PC);
    else if (r == EBUSY)
        RT_REC_TRYFAIL(l, LG_LOCK_RWLOCK, LG_MODE_EXCLUSIVE, PC);
    return r;
}

RT_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
    rt_released(l, LG_LOCK_RWLOCK, PC);
    return real_pthread_rwlock_unlock(l);
}

/* ---- spinlocks ---- */

RT_EXPORT int pthread_spin_init(pthread_spinlock_t *l, int pshared)
{
    rt_lock *found = rt_misuse_reinit((uintptr_t)l, LG_LOCK_SPINLOCK, PC);
    int r = real_pthread_spin_init(l, pshared);
    if (r == 0)
        rt_lock_born((void *)l, LG_LOCK_SPINLOCK, 0, found);
    return r;
}

RT_EXPORT int pthread_spin_destroy(pthread_spinlock_t *l)
{
    rt_lock_destroyed((void *)l, PC);
    return real_pthread_spin_destroy(l);
}

RT_EXPORT int pthread_spin_lock(pthread_spinlock_t *l)
{
    int r = real_pthread_spin_trylock(l);
    if (unlikely(r == EBUSY))
        r = rt_wait_spin(l, PC);   /* its own holder spins for ever: wait.c's self-deadlock */
    if (likely(r == 0))
        rt_acquired((void *)l, LG_LOCK_SPINLOCK, LG_MODE_EXCLUSIVE, 0, PC);
    return r;
}

RT_EXPORT int pthread_spin_trylock(pthread_spinlock_t *l)
{
    int r = real_pthread_spin_trylock(l);
    if (r == 0)
        rt_acquired((void *)l, LG_LOCK_SPINLOCK, LG_MODE_EXCLUSIVE, RT_ACQ_TRY, PC);
    else if (r == EBUSY)
        RT_REC_TRYFAIL((void *)l, LG_LOCK_SPINLOCK, LG_MODE_EXCLUSIVE, PC);
    return r;
}

RT_EXPORT int pthread_spin_unlock(pthread_spinlock_t *l)
{
    rt_released((void *)l, LG_LOCK_SPINLOCK, PC);
    return real_pthread_spin_unlock(l);
}

/* ---- condition variables: the mutex is released while waiting and re-acquired on wake-up
 * while the thread still holds everything else; the re-acquisition is an edge. The thread
 * also notes the mutex, so the wait-for view can tell (wait.c) when it is blocked inside
 * glibc re-acquiring it. ---- */

/* Cancellation: a thread cancelled inside a condition wait leaves it by unwinding, and glibc
 * re-takes the mutex before it unwinds (POSIX: "as if" the wait had returned). The wrapper's
 * frame is unwound with it (this file is built with -fexceptions), so the runtime knows the
 * mutex is held by the cancelled thread: released by a cleanup handler the program pushed,
 * or orphaned when the thread ends. A normal return clears `active` first (no cost beyond a
 * store: the cleanup runs on the unwinding path only when armed). */
typedef struct cond_call {
    void *m;
    uintptr_t pc;
    bool active;
    bool cv;      /* the wait is registered for the cond-two-mutexes check (condvars.c) */
} cond_call;

static void cond_unwound(cond_call *c)
{
    if (likely(!c->active))
        return;
    rt_cond_leave();
    if (c->cv)
        rt_cv_wait_end();
    rt_acquired(c->m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE,
                mutex_flags((pthread_mutex_t *)c->m) | RT_ACQ_COND, c->pc);
}
#define COND_CALL(c, m)                                                                 \
    cond_call cc_ __attribute__((cleanup(cond_unwound))) = {(m), PC, true,                \
                                                            rt_cv_wait_begin((c), (m), PC)}
#define COND_RETURNED() (cc_.active = false)
#define COND_LEFT()                                                                     \
    do {                                                                                \
        rt_cond_leave();                                                                \
        if (cc_.cv)                                                                     \
            rt_cv_wait_end();                                                           \
    } while (0)

RT_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    rt_misuse_cond = (uintptr_t)c;
    rt_released(m, RT_REL_COND, PC);
    rt_misuse_cond = 0;   /* only this release is this condvar's */
    rt_cond_enter(m, PC);
    RT_REC_COND(LG_EV_COND_WAIT_BEGIN, c, m, PC);
    COND_CALL(c, m);
    int r = real_pthread_cond_wait(c, m);
    COND_RETURNED();
    RT_REC_COND(LG_EV_COND_WAIT_END, c, m, PC);
    COND_LEFT();
    if (COND_NOT_WAITED(r, m))
        MUTEX_REFUSED(r, m);
    else if (likely(r != EPERM))   /* EPERM: not its mutex to release, nothing re-acquired */
        rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(m) | RT_ACQ_COND, PC);
    return r;
}

RT_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    if (unlikely(!rt_timed_ok(CLOCK_REALTIME, t)))
        return real_pthread_cond_timedwait(c, m, t);   /* EINVAL: the mutex stays held */
    rt_misuse_cond = (uintptr_t)c;
    rt_released(m, RT_REL_COND, PC);
    rt_misuse_cond = 0;   /* only this release is this condvar's */
    rt_cond_enter(m, PC);
    RT_REC_COND(LG_EV_COND_WAIT_BEGIN, c, m, PC);
    COND_CALL(c, m);
    int r = real_pthread_cond_timedwait(c, m, t);
    COND_RETURNED();
    RT_REC_COND(LG_EV_COND_WAIT_END, c, m, PC);
    COND_LEFT();
    if (COND_NOT_WAITED(r, m))
        MUTEX_REFUSED(r, m);
    else if (likely(r != EPERM))   /* EPERM: not its mutex to release, nothing re-acquired */
        rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(m) | RT_ACQ_COND, PC);
    return r;
}

RT_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t k,
                                     const struct timespec *t)
{
    if (unlikely(!rt_timed_ok(k, t)))
        return real_pthread_cond_clockwait(c, m, k, t);   /* EINVAL: the mutex stays held */
    rt_misuse_cond = (uintptr_t)c;
    rt_released(m, RT_REL_COND, PC);
    rt_misuse_cond = 0;   /* only this release is this condvar's */
    rt_cond_enter(m, PC);
    RT_REC_COND(LG_EV_COND_WAIT_BEGIN, c, m, PC);
    COND_CALL(c, m);
    int r = real_pthread_cond_clockwait(c, m, k, t);
    COND_RETURNED();
    RT_REC_COND(LG_EV_COND_WAIT_END, c, m, PC);
    COND_LEFT();
    if (COND_NOT_WAITED(r, m))
        MUTEX_REFUSED(r, m);
    else if (likely(r != EPERM))   /* EPERM: not its mutex to release, nothing re-acquired */
        rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(m) | RT_ACQ_COND, PC);
    return r;
}

/* Wakes and new lives of a condition variable: the cond-two-mutexes check (condvars.c)
 * counts a wait as blocked only while no signal or broadcast followed its start. After
 * glibc's call: a waiter it woke began before it. */
RT_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    int r = real_pthread_cond_signal(c);
    rt_cv_woken(c);
    return r;
}

RT_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    int r = real_pthread_cond_broadcast(c);
    rt_cv_woken(c);
    return r;
}

RT_EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
    int r = real_pthread_cond_init(c, a);
    rt_cv_reset(c);
    return r;
}

RT_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
    int r = real_pthread_cond_destroy(c);
    rt_cv_reset(c);
    return r;
}

/* ---- C11 threads: mtx_t is a pthread mutex underneath, but glibc calls its internal
 * functions, so the pthread wrappers above never see these. ---- */

#define MTX(m) ((pthread_mutex_t *)(void *)(m))

RT_EXPORT int mtx_init(mtx_t *m, int type)
{
    rt_lock *found = rt_misuse_reinit((uintptr_t)m, LG_LOCK_MUTEX, PC);
    int r = real_mtx_init(m, type);
    if (r == thrd_success)
        rt_lock_born(m, LG_LOCK_MUTEX, RT_LOCK_C11, found);
    return r;
}

RT_EXPORT void mtx_destroy(mtx_t *m)
{
    rt_lock_destroyed(m, PC);
    real_mtx_destroy(m);
}

RT_EXPORT int mtx_lock(mtx_t *m)
{
    /* A kind glibc's trylock refuses but its lock takes: glibc's lock itself (as
     * mutex_first_try does). */
    if (unlikely(rt_mutex_try_refuses(rt_mutex_kind_of(m)))) {
        int r = real_mtx_lock(m);
        if (r == thrd_success)
            rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(MTX(m)), PC);
        return r;
    }
    int r = real_mtx_trylock(m);
    if (unlikely(r == thrd_busy)) {
        int e = rt_wait_mutex(MTX(m), RT_WAIT_PLAIN, 0, NULL, PC);
        r = e == 0 ? thrd_success : e == EBUSY ? thrd_busy : e == ENOMEM ? thrd_nomem : thrd_error;
    }
    if (likely(r == thrd_success))
        rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(MTX(m)), PC);
    else if (r == thrd_error)
        MUTEX_REFUSED(EINVAL, m);
    return r;
}

RT_EXPORT int mtx_trylock(mtx_t *m)
{
    int r = real_mtx_trylock(m);
    if (r == thrd_success)
        rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(MTX(m)) | RT_ACQ_TRY, PC);
    else if (r == thrd_busy)
        RT_REC_TRYFAIL(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, PC);
    else if (r == thrd_error)
        MUTEX_REFUSED(EINVAL, m);
    return r;
}

RT_EXPORT int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict t)
{
    int r = rt_timed_ok(CLOCK_REALTIME, t) ? real_mtx_trylock(m) : thrd_busy;
    if (r == thrd_busy) {   /* glibc's own mapping of the pthread answer (thrd_err_map) */
        int e = rt_wait_mutex(MTX(m), RT_WAIT_TIMED, CLOCK_REALTIME, t, PC);
        r = e == 0 ? thrd_success : e == ETIMEDOUT ? thrd_timedout : e == EBUSY ? thrd_busy
            : e == ENOMEM ? thrd_nomem : thrd_error;
    }
    if (r == thrd_success)
        rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(MTX(m)) | RT_ACQ_TIMED, PC);
    else if (r == thrd_error && rt_timed_ok(CLOCK_REALTIME, t))
        MUTEX_REFUSED(EINVAL, m);   /* claimed only for a kind glibc refuses (EINVAL) */
    return r;
}

RT_EXPORT int mtx_unlock(mtx_t *m)
{
    rt_released(m, LG_LOCK_MUTEX, PC);
    int r = real_mtx_unlock(m);
    if (r == thrd_error)
        MUTEX_REFUSED(EINVAL, m);
    return r;
}

RT_EXPORT int cnd_wait(cnd_t *c, mtx_t *m)
{
    rt_misuse_cond = (uintptr_t)c;
    rt_released(m, RT_REL_COND, PC);
    rt_misuse_cond = 0;   /* only this release is this condvar's */
    rt_cond_enter(m, PC);
    RT_REC_COND(LG_EV_COND_WAIT_BEGIN, c, m, PC);
    COND_CALL(c, m);
    int r = real_cnd_wait(c, m);
    COND_RETURNED();
    RT_REC_COND(LG_EV_COND_WAIT_END, c, m, PC);
    COND_LEFT();
    if (r == thrd_error && rt_mutex_refused(m))
        MUTEX_REFUSED(EINVAL, m);
    else
        rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(MTX(m)) | RT_ACQ_COND, PC);
    return r;
}

RT_EXPORT int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict t)
{
    if (unlikely(!rt_timed_ok(CLOCK_REALTIME, t)))
        return real_cnd_timedwait(c, m, t);   /* thrd_error: the mutex stays held */
    rt_misuse_cond = (uintptr_t)c;
    rt_released(m, RT_REL_COND, PC);
    rt_misuse_cond = 0;   /* only this release is this condvar's */
    rt_cond_enter(m, PC);
    RT_REC_COND(LG_EV_COND_WAIT_BEGIN, c, m, PC);
    COND_CALL(c, m);
    int r = real_cnd_timedwait(c, m, t);
    COND_RETURNED();
    RT_REC_COND(LG_EV_COND_WAIT_END, c, m, PC);
    COND_LEFT();
    if (r == thrd_error && rt_mutex_refused(m))
        MUTEX_REFUSED(EINVAL, m);
    else
        rt_acquired(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, mutex_flags(MTX(m)) | RT_ACQ_COND, PC);
    return r;
}

RT_EXPORT int cnd_signal(cnd_t *c)
{
    int r = real_cnd_signal(c);
    rt_cv_woken(c);
    return r;
}

RT_EXPORT int cnd_broadcast(cnd_t *c)
{
    int r = real_cnd_broadcast(c);
    rt_cv_woken(c);
    return r;
}

RT_EXPORT int cnd_init(cnd_t *c)
{
    int r = real_cnd_init(c);
    rt_cv_reset(c);
    return r;
}

RT_EXPORT void cnd_destroy(cnd_t *c)
{
    real_cnd_destroy(c);
    rt_cv_reset(c);
}

/* ---- joins: a thread joining another waits for it (a wait-for edge to a thread) ---- */

RT_EXPORT int pthread_join(pthread_t th, void **ret)
{
    int r = pthread_tryjoin_np(th, ret);
    if (r != EBUSY)
        return r;
    return rt_wait_join(th, ret, PC);
}

/* ---- public API (include/lockgraph/lockgraph.h) ---- */

RT_EXPORT const char *lg_rt_version(void)
{
    return LG_VERSION;
}

RT_EXPORT void lg_rt_lock_name(const void *lock, const char *name)
{
    if (lock && !rt_is_nested(rt_self)) {
        rt_busy = 1;
        rt_self->guard++;
        rt_name_set((uintptr_t)lock, name);
        rt_rec_named(lock);
        rt_self->guard--;
        rt_busy = 0;
    }
}

/* The names of version 0.1's header, for programs built against it. */
RT_EXPORT const char *lg_version(void) __attribute__((alias("lg_rt_version")));
RT_EXPORT void lg_lock_name(const void *lock, const char *name)
    __attribute__((alias("lg_rt_lock_name")));
