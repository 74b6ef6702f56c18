/* misuse.h - lock misuse findings (misuse.c): what the callers in the runtime pass. */
#ifndef LG_RT_MISUSE_H
#define LG_RT_MISUSE_H

#include <string.h>

#include "../util/glibc-abi.h"
#include "fastpath.h"
#include "rt.h"

/* Whether --misuse reports subkind m. */
static inline bool rt_misuse_on(lg_misuse m)
{
    return (rt.cfg.misuse >> m) & 1u;
}

/* A misuse to report. `thread` made the call at `pc` on `addr` (of lg_lock_type `type`, in
 * lg_mode `mode`); holders are the other places it involves (where a thread acquired the
 * lock, or the other condition wait), each with its site role. pc 0: no call (exit-holding),
 * then key_extra tells distinct findings apart. */
typedef struct rt_misuse {
    lg_misuse what;
    rt_thread *thread;
    uintptr_t addr, cond, pc, key_extra;
    int type;
    unsigned mode;
    const char *refused;            /* the errno name glibc answers, when it refuses */
    bool freed;                     /* the call is free() of the lock's memory (destroy-held) */
    const rt_holder_info *holders;
    size_t nholders;
    bool has_kind;                  /* invalid-lock: the mutex's kind word, as read */
    uint32_t kind;
} rt_misuse;

void rt_misuse_report(const rt_misuse *m);
/* Whether the misuse m at call site pc was reported already (a lock-free cache: false may
 * mean not known), so a caller can skip work only a new finding needs. */
bool rt_misuse_reported(lg_misuse m, uintptr_t pc);
/* The condition variable of the condition wait this thread is entering: set by the wrappers
 * before they release the mutex, read only when that release is a misuse. */
extern __thread uintptr_t rt_misuse_cond;
/* pthread_*_destroy of addr is about to be called: destroy-held when a thread holds it.
 * Returns the errno glibc will refuse the destroy with (EBUSY: a locked mutex), else 0. */
int rt_misuse_destroy(rt_thread *t, uintptr_t addr, int type, uintptr_t pc);
/* free() at pc of memory holding the native lock at addr, generation gen, which glibc's lock
 * word shows taken (locks.c, before the free): destroy-held, site "freed", when a thread
 * holds that generation by the runtime's record. */
void rt_misuse_freed(rt_thread *t, uintptr_t addr, int type, uint32_t gen, uintptr_t pc);
/* Thread t ends holding its held[] (threads.c): exit-holding. */
void rt_misuse_exit(rt_thread *t);
/* glibc answered EDEADLK to a lock call of t on addr: relock-refused, when t holds it. */
void rt_misuse_relock(uintptr_t addr, int type, unsigned mode, uintptr_t pc);
/* glibc's mark on a mutex it destroyed: pthread_mutex_destroy sets __kind to -1 (2.36:
 * nptl/pthread_mutex_destroy.c), and every later lock, trylock, unlock or condition wait
 * with it answers EINVAL (its kind matches no case). An init, or an assignment of
 * PTHREAD_MUTEX_INITIALIZER (which the runtime cannot see), overwrites it. */
static inline bool rt_mutex_poisoned(const void *m)
{
    return ((const pthread_mutex_t *)m)->__data.__kind == -1;
}
/* The kinds glibc refuses (2.36, nptl/pthread_mutex_lock.c, _trylock.c, _unlock.c,
 * _timedlock.c): every call dispatches on the low 7 bits of __kind, and one whose value is
 * no type (0-3) alone, robust, priority-inherit, robust priority-inherit or priority-protect
 * answers EINVAL before it touches the mutex (checked on this system for every value below
 * 1024). That is no kind pthread_mutex_init, mtx_init or a static initialiser writes; glibc's
 * destroy mark (-1) is one. Misaligned memory too: read by bytes. */
static inline bool rt_mutex_kind_refused(int kind)
{
    unsigned k = (unsigned)kind & 127u;
    return (k & 12u) != 0   /* bits 2 and 3: no flag */
           || ((k & GLIBC_MUTEX_KIND_PP)
               && (k & (GLIBC_MUTEX_KIND_PI | GLIBC_MUTEX_KIND_ROBUST)));
}
static inline int rt_mutex_kind_of(const void *m)
{
    int k;
    memcpy(&k, (const char *)m + GLIBC_MUTEX_KIND, sizeof k);
    return k;
}
static inline bool rt_mutex_refused(const void *m)
{
    return m && rt_mutex_kind_refused(rt_mutex_kind_of(m));
}
/* A kind glibc's trylock and timed lock refuse (EINVAL) but its lock takes: the elision bit
 * beside any type but normal and recursive (the trylock's cases are kind & 383, the lock's
 * kind & 127 past its fast path). No init writes one (glibc sets the elision bit itself, and
 * only on a normal mutex): garbage. A blocking lock of one is glibc's own call, never the
 * runtime's first try. */
static inline bool rt_mutex_try_refuses(int kind)
{
    unsigned k = (unsigned)kind;
    return (k & GLIBC_MUTEX_KIND_ELISION) && (k & 127u) > GLIBC_MUTEX_KIND_RECURSIVE
           && !rt_mutex_kind_refused(kind);
}
/* glibc refused a call on the mutex at addr with EINVAL (a timed call: with a clock and
 * timeout it accepts) and the runtime saw no destroy of it (rt_misuse_after_destroy):
 * invalid-lock when its kind is one glibc refuses (so the EINVAL is the memory's, not a
 * priority ceiling's) and the runtime knows no live lock there (one it saw initialised or
 * taken, not dead since: then the EINVAL says something else, and nothing is claimed).
 * The thread's guard is checked here; a wrapper checks rt_busy itself. */
void rt_misuse_invalid(uintptr_t addr, int type, uintptr_t pc);
/* A call on the lock at addr, which the program destroyed (the runtime saw the destroy, and
 * glibc's mark is still there: nothing initialised it since): use-after-destroy. refused:
 * glibc's answer (EINVAL), NULL when it did the call (a second destroy). Whether it was.
 * The thread's guard is checked here; a wrapper checks rt_busy (a signal handler inside the
 * runtime) itself. */
bool rt_misuse_after_destroy(uintptr_t addr, int type, uintptr_t pc, const char *refused);
/* pthread_*_init (or mtx_init) of addr is about to be called: reinit-live when a thread
 * holds the lock (its current generation, by the runtime's record and glibc's lock word).
 * The lock table's record of addr (NULL: none), for the birth after the init: the one probe
 * an init makes. glibc's lock word is no pre-filter before it: a reused heap chunk's first
 * word is the allocator's free-list pointer, "locked" to any reading. A record never seen
 * or dead (destroyed, its memory freed, its module unloaded, its frame returned) is a new
 * lock being initialised: only a live one is looked at further. */
void rt_misuse_reinit_live(rt_lock *l, uintptr_t addr, int type, uintptr_t pc);
static inline rt_lock *rt_misuse_reinit(uintptr_t addr, int type, uintptr_t pc)
{
    rt_lock *l = rt_lock_find_hinted(addr);
    if (l && !atomic_load_explicit(&l->dead, memory_order_acquire))
        rt_misuse_reinit_live(l, addr, type, pc);
    return l;
}
/* glibc's lock word says no thread holds the lock at addr (a mutex, rwlock or spinlock).
 * Inline: every destroy asks it (a free lock, the usual destroy, costs one load). */
static inline bool rt_lock_looks_free(uintptr_t addr, int type)
{
    if (!addr)
        return false;
    switch (type) {
    case LG_LOCK_MUTEX: {
        /* Only with glibc's known layout and no lock elision (an elided critical section
         * leaves the word 0 while held): interpose.c's rt_inline_trylock says both. */
        if (!rt_inline_trylock)
            return false;
        const pthread_mutex_t *m = (const pthread_mutex_t *)addr;
        return __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) == 0;
    }
    case LG_LOCK_RWLOCK: {
        /* glibc (2.25 and later) __readers: readers counted from bit 3, bit 1 = a writer
         * holds it (write phase) or is about to (read phase). */
        const pthread_rwlock_t *l = (const pthread_rwlock_t *)addr;
        unsigned r = __atomic_load_n(&l->__data.__readers, __ATOMIC_RELAXED);
        return (r >> GLIBC_RW_READER_SHIFT) == 0 && !(r & GLIBC_RW_WRLOCKED);
    }
    case LG_LOCK_SPINLOCK:
        /* x86_64 glibc: 1 free (init, unlock), 0 or below taken (lock decrements) */
        return __atomic_load_n((const int *)addr, __ATOMIC_RELAXED) == 1;
    default:
        return false;
    }
}

#endif
