/* families.c - the table of lock families (families.def) and the native family's ops: how a
 * contended pthread or C11 lock waits (wait.c makes these calls once the wait is recorded).
 *
 * A family row says how its waits block: the family's own blocking call, one try, and (when
 * leaving its wait and coming back changes nothing it promises) a wait in slices for the
 * re-checks wait.c makes. Everything else (lock order, the wait-for graph, reports, naming,
 * recording, the published state) is shared: a family's wrappers feed the same fast path,
 * slow path and waits as pthread's, with RT_FT(family, type) as the lock type.
 */
#include <errno.h>

#include "../util/glibc-abi.h"
#include "fastpath.h"
#include "real.h"


static int native_lock(void *obj, lg_lock_type type, unsigned mode, int how, clockid_t clk,
                       const struct timespec *abstime)
{
    bool timed = how == RT_WAIT_TIMED;
    switch (type) {
    case LG_LOCK_RWLOCK:
        if (mode == LG_MODE_SHARED)
            return timed ? real_pthread_rwlock_clockrdlock(obj, clk, abstime)
                         : real_pthread_rwlock_rdlock(obj);
        return timed ? real_pthread_rwlock_clockwrlock(obj, clk, abstime)
                     : real_pthread_rwlock_wrlock(obj);
    case LG_LOCK_SPINLOCK:
        return real_pthread_spin_lock(obj);
    default:
        return timed ? real_pthread_mutex_clocklock(obj, clk, abstime)
                     : real_pthread_mutex_lock(obj);
    }
}

static int native_try(void *obj, lg_lock_type type, unsigned mode)
{
    switch (type) {
    case LG_LOCK_RWLOCK:
        return mode == LG_MODE_SHARED ? real_pthread_rwlock_tryrdlock(obj)
                                      : real_pthread_rwlock_trywrlock(obj);
    case LG_LOCK_SPINLOCK:
        return real_pthread_spin_trylock(obj);
    default:
        return real_pthread_mutex_trylock(obj);
    }
}

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A non-PI mutex (no queue: waiters re-contend for the word) and a spinlock (no queue at
 * all) may leave their wait and come back; a rwlock (its queued writer keeps readers out)
 * and a PI mutex may not (wait.c's top). */
static int native_slice(void *obj, lg_lock_type type, unsigned mode, clockid_t clk,
                        const struct timespec *end)
{
    (void)mode;
    if (type == LG_LOCK_SPINLOCK) {
        int64_t e = (int64_t)end->tv_sec * 1000000000 + end->tv_nsec;
        for (unsigned i = 0;; i++) {
            int r = real_pthread_spin_trylock(obj);
            if (r != EBUSY)
                return r;
            __builtin_ia32_pause();
            if ((i & 1023) == 1023 && now_ns(clk) >= e)
                return ETIMEDOUT;
        }
    }
    return real_pthread_mutex_clocklock(obj, clk, end);
}

static bool native_sliceable(void *obj, lg_lock_type type)
{
    return type == LG_LOCK_SPINLOCK
           || (type == LG_LOCK_MUTEX
               && !(((pthread_mutex_t *)obj)->__data.__kind & GLIBC_MUTEX_KIND_PI));
}

const rt_family rt_family_native = {native_lock, native_try, native_slice, native_sliceable};

static const struct {
    const char *name;
    const rt_family *ops;
} families[RT_FAM_COUNT] = {
#define FAMILY(id, name, ops) [RT_FAM_##id] = {name, &ops},
#include "families.def"
#undef FAMILY
};

const rt_family *rt_family_get(unsigned fam)
{
    return families[fam < RT_FAM_COUNT ? fam : RT_FAM_NATIVE].ops;
}

const char *rt_family_name_of(uintptr_t addr)
{
    rt_lock *l = rt_lock_find(addr);
    unsigned fam = l ? atomic_load(&rt_lock_cold_of(l)->family) : RT_FAM_NATIVE;
    return families[fam < RT_FAM_COUNT ? fam : RT_FAM_NATIVE].name;
}
