/* annotate.c - the lock family the program describes itself (include/lockgraph/lockgraph.h:
 * lg_mutex_create ... lg_mutex_post_unlock, the shape of ThreadSanitizer's __tsan_mutex_*
 * annotations). An annotated lock is address-identified like a pthread one and goes through
 * the same fast path, slow path, waits, reports and recording, as lock type "custom".
 *
 * What differs is who blocks: the program spins or sleeps in its own code, so the runtime
 * cannot make the blocking call. pre_lock announces the wait (wait.c records it and checks
 * the wait-for graph at once: a thread that closes a cycle reports it then and the run ends
 * with status 66, as for pthread), post_lock ends it and records the acquisition. A try
 * (LG_MUTEX_TRY) never waits, so it announces nothing; a failed one is no acquisition.
 * An unlock by a thread that does not hold the lock goes where a pthread one does
 * (ownership.c: released for its holder), and is a misuse by the annotations' own account
 * (the header's "Misuse"), as are a destroy while held and a thread ending holding one. */
#include <errno.h>

#include "fastpath.h"
#include "record.h"

#include "../../include/lockgraph/lockgraph.h"

#define PC ((uintptr_t)__builtin_return_address(0))
#define FT RT_FT(RT_FAM_CUSTOM, LG_LOCK_CUSTOM)

const rt_family rt_family_custom = {NULL, NULL, NULL, NULL};   /* the program blocks */

static bool recursive(const void *lock, unsigned flags)
{
    if (flags & LG_MUTEX_RECURSIVE)
        return true;
    rt_lock *l = rt_lock_find((uintptr_t)lock);
    return l && (atomic_load_explicit(&l->flags, memory_order_relaxed) & RT_LOCK_RECURSIVE);
}

static bool holding(const rt_thread *t, const void *lock)
{
    for (uint32_t i = t->depth; i-- > 0;)
        if (t->held[i].addr == (uintptr_t)lock)
            return true;
    return false;
}

/* The hint of lock for this thread to update, or NULL when it keeps none (no deadlock
 * checks, a thread without a record, a nested call, a lock the table does not know). */
static _Atomic uintptr_t *hint_of(const void *lock, rt_thread *t)
{
    if (!rt.cfg.deadlocks || !t->cap || rt_is_nested(t))
        return NULL;
    rt_lock *l = rt_lock_find((uintptr_t)lock);
    return l ? rt_lock_hint(l) : NULL;
}

/* The lock's last-acquirer hint (rt.h), which lets an announcement that nothing holds up
 * skip the wait-for search; wait.c ("announced waits") argues why these orders suffice.
 * Only acquisitions that go on held[] count (a nested one, a signal handler's inside the
 * runtime, is seen by no search either), and each update comes after the push or pop. */
static void hint_acquired(const void *lock)
{
    rt_thread *t = rt_self;
    _Atomic uintptr_t *h = hint_of(lock, t);
    if (!h)
        return;
    uintptr_t me = (uintptr_t)t, cur = atomic_load_explicit(h, memory_order_relaxed);
    while (cur != me && cur != RT_HINT_MANY) {
        if (cur == 0 && atomic_compare_exchange_weak_explicit(h, &cur, me, memory_order_release,
                                                              memory_order_relaxed))
            return;
        if (cur != 0 && cur != me && cur != RT_HINT_MANY) {
            /* Another thread may hold it too (a reader beside a reader, a lock handed over,
             * a misuse): from now on every announcement for it searches. */
            atomic_store_explicit(h, RT_HINT_MANY, memory_order_release);
            return;
        }
    }
}

static void hint_released(const void *lock)
{
    rt_thread *t = rt_self;
    _Atomic uintptr_t *h = hint_of(lock, t);
    if (!h)
        return;
    uintptr_t me = (uintptr_t)t;
    if (atomic_load_explicit(h, memory_order_relaxed) != me || holding(t, lock))
        return;   /* someone else's, anyone's, or still held (re-entered) */
    atomic_compare_exchange_strong_explicit(h, &me, 0, memory_order_release,
                                            memory_order_relaxed);
}

RT_EXPORT void lg_rt_mutex_create(const void *lock, unsigned flags)
{
    if (lock)
        rt_lock_created((void *)lock, FT, flags & LG_MUTEX_RECURSIVE ? RT_LOCK_RECURSIVE : 0);
}

RT_EXPORT void lg_rt_mutex_destroy(const void *lock, unsigned flags)
{
    (void)flags;
    if (lock)
        rt_lock_destroyed((void *)lock, PC);
}

RT_EXPORT void lg_rt_mutex_pre_lock(const void *lock, unsigned flags)
{
    if (!lock || (flags & LG_MUTEX_TRY))
        return;   /* a try does not wait */
    rt_thread *t = rt_self;
    if (recursive(lock, flags) && holding(t, lock))
        return;   /* re-entry: taken at once */
    rt_wait_announce((void *)lock, FT, flags & LG_MUTEX_READ ? LG_MODE_SHARED : LG_MODE_EXCLUSIVE,
                     0, PC);
}

RT_EXPORT void lg_rt_mutex_post_lock(const void *lock, unsigned flags)
{
    if (!lock)
        return;
    unsigned mode = flags & LG_MUTEX_READ ? LG_MODE_SHARED : LG_MODE_EXCLUSIVE;
    if (flags & LG_MUTEX_TRY_FAILED) {
        rt_wait_announced_end((void *)lock, FT, mode, EBUSY, PC);
        RT_REC_TRYFAIL(lock, LG_LOCK_CUSTOM, mode, PC);
        return;
    }
    rt_wait_announced_end((void *)lock, FT, mode, 0, PC);
    /* A reader is a recursive reader (readers never wait for readers); re-entry is allowed
     * where the call or the lock's creation says so. */
    unsigned acq = (flags & LG_MUTEX_TRY ? RT_ACQ_TRY : 0)
                   | (mode == LG_MODE_SHARED ? RT_ACQ_READ_R | RT_ACQ_REENTRY : 0)
                   | (recursive(lock, flags) ? RT_ACQ_REENTRY : 0);
    rt_acquired((void *)lock, FT, mode, acq, PC);
    hint_acquired(lock);
}

RT_EXPORT void lg_rt_mutex_pre_unlock(const void *lock, unsigned flags)
{
    (void)flags;
    if (lock) {
        rt_released((void *)lock, (int)FT, PC);
        hint_released(lock);
    }
}

RT_EXPORT void lg_rt_mutex_post_unlock(const void *lock, unsigned flags)
{
    /* Nothing to do: the release was recorded before it happened (pre_unlock), so no other
     * thread can take the lock and still see this one as its holder. Kept so that every
     * annotation site of the __tsan_mutex_* shape has its counterpart. */
    (void)lock;
    (void)flags;
}
