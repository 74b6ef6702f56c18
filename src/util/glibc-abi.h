/* glibc-abi.h - glibc's lock ABI on x86_64: the field offsets, kind bits and lock-word values
 * of its mutex, rwlock, barrier and FILE lock (shared/reference/glibc-locks.md), in one place.
 *
 * Two kinds of reader share it. The runtime (src/runtime) reads the locks of the process it
 * is loaded into through <pthread.h>'s own fields (`m->__data.__kind`) and needs the values:
 * what a kind bit or a lock word means. The outside view (src/inspect/decode.c) reads another
 * process's memory by offset. The asserts below tie the two: the offsets are the ones this
 * system's <pthread.h> has.
 *
 * Everything here is the same on x86_64 from glibc GLIBC_ABI_MINOR_LO to GLIBC_ABI_MINOR_HI;
 * what changed in that range (the condition variable: __g_refs went away in 2.41) is not
 * here but keyed by version (src/inspect/glibc.c), and a target outside it is not decoded. */
#ifndef LG_GLIBC_ABI_H
#define LG_GLIBC_ABI_H

#include <pthread.h>
#include <stddef.h>

/* The glibc 2.x minor versions whose lock layouts were checked. */
enum { GLIBC_ABI_MINOR_LO = 25, GLIBC_ABI_MINOR_HI = 42 };

/* pthread_mutex_t (40 bytes): fields. */
enum {
    GLIBC_MUTEX_LOCK = 0,     /* the lock word (below) */
    GLIBC_MUTEX_COUNT = 4,    /* recursion depth */
    GLIBC_MUTEX_OWNER = 8,    /* owner TID, every kind (special values below) */
    GLIBC_MUTEX_NUSERS = 12,
    GLIBC_MUTEX_KIND = 16,
};
/* __kind: the type in the low two bits, then flags. A destroyed mutex's kind is -1. */
enum {
    GLIBC_MUTEX_KIND_TYPE = 3,        /* mask */
    GLIBC_MUTEX_KIND_RECURSIVE = 1,   /* types (kind & 3); 0 normal */
    GLIBC_MUTEX_KIND_ERRORCHECK = 2,
    GLIBC_MUTEX_KIND_ADAPTIVE = 3,
    GLIBC_MUTEX_KIND_ROBUST = 16,
    GLIBC_MUTEX_KIND_PI = 32,
    GLIBC_MUTEX_KIND_PP = 64,
    GLIBC_MUTEX_KIND_PSHARED = 128,
    GLIBC_MUTEX_KIND_ELISION = 256,       /* set by glibc's lock of a normal mutex (elision on) */
    GLIBC_MUTEX_KIND_NO_ELISION = 512,
    GLIBC_MUTEX_KIND_KNOWN_BITS = 0x3ff,   /* all of the above plus the elision bits */
    GLIBC_MUTEX_KIND_PUBLIC = 0x7f,        /* what pthread_mutexattr_settype/-robust/-protocol
                                              set: compared with PTHREAD_MUTEX_* */
};
/* The lock word: 0 free, 1 locked, 2 locked with waiters; robust and PI mutexes hold the
 * owner's TID there with these bits. */
enum {
    GLIBC_FUTEX_TID_MASK = 0x3fffffff,
    GLIBC_FUTEX_OWNER_DIED = 0x40000000,
    GLIBC_FUTEX_WAITERS = (int)0x80000000u,
};
/* __owner of a robust mutex whose owner died (inconsistent), and past repair. */
enum { GLIBC_MUTEX_OWNER_DIED = 0x7fffffff, GLIBC_MUTEX_NOT_RECOVERABLE = 0x7ffffffe };

/* pthread_rwlock_t (56 bytes): fields. */
enum {
    GLIBC_RW_READERS = 0,         /* bit0 write phase, bit1 write-locked, bit2 readers waiting */
    GLIBC_RW_WRITERS = 4,
    GLIBC_RW_WRPHASE = 8,         /* futex word for phase changes */
    GLIBC_RW_WRITERS_FUTEX = 12,
    GLIBC_RW_CUR_WRITER = 24,     /* writer TID; 0 when free or read-held */
    GLIBC_RW_SHARED = 28,
    GLIBC_RW_FLAGS = 48,
};
enum { GLIBC_RW_READER_SHIFT = 3 };   /* __readers >> 3: readers holding or acquiring */
enum { GLIBC_RW_WRLOCKED = 2 };       /* __readers bit 1: a writer holds it or is about to */
/* Waiters (nptl/pthread_rwlock_common.c): __readers bit 2 readers wait for the write phase
 * to end; bit 1 (PTHREAD_RWLOCK_FUTEX_USED) of __writers_futex / __wrphase_futex: a thread
 * sleeps on that futex (a waiting writer makes __writers_futex 3, a waiting reader
 * __wrphase_futex 3, a writer waiting for readers __wrphase_futex 2: checked on 2.36). */
enum { GLIBC_RW_RWAITING = 4, GLIBC_RW_FUTEX_USED = 2 };
/* __flags: 0 prefer readers (default), 1 prefer writers, 2 prefer writers with
 * non-recursive readers (a reader queues behind a waiting writer). */
enum { GLIBC_RW_PREFER_WRITER_NONREC = 2 };

/* pthread_barrier_t (internal struct pthread_barrier): in, current_round, count, shared. */
enum { GLIBC_BAR_IN = 0, GLIBC_BAR_ROUND = 4, GLIBC_BAR_COUNT = 8 };

/* _IO_lock_t (libio/stdio-lock.h), a FILE's lock: the owner is the owning thread's
 * descriptor (THREAD_SELF = its fs base), not a TID. */
enum { GLIBC_IOLOCK_LOCK = 0, GLIBC_IOLOCK_CNT = 4, GLIBC_IOLOCK_OWNER = 8 };

#if defined(__GLIBC__) && defined(__x86_64__)
_Static_assert(offsetof(pthread_mutex_t, __data.__lock) == GLIBC_MUTEX_LOCK, "glibc ABI");
_Static_assert(offsetof(pthread_mutex_t, __data.__count) == GLIBC_MUTEX_COUNT, "glibc ABI");
_Static_assert(offsetof(pthread_mutex_t, __data.__owner) == GLIBC_MUTEX_OWNER, "glibc ABI");
_Static_assert(offsetof(pthread_mutex_t, __data.__nusers) == GLIBC_MUTEX_NUSERS, "glibc ABI");
_Static_assert(offsetof(pthread_mutex_t, __data.__kind) == GLIBC_MUTEX_KIND, "glibc ABI");
_Static_assert(offsetof(pthread_rwlock_t, __data.__readers) == GLIBC_RW_READERS, "glibc ABI");
_Static_assert(offsetof(pthread_rwlock_t, __data.__writers) == GLIBC_RW_WRITERS, "glibc ABI");
_Static_assert(offsetof(pthread_rwlock_t, __data.__wrphase_futex) == GLIBC_RW_WRPHASE,
               "glibc ABI");
_Static_assert(offsetof(pthread_rwlock_t, __data.__writers_futex) == GLIBC_RW_WRITERS_FUTEX,
               "glibc ABI");
_Static_assert(offsetof(pthread_rwlock_t, __data.__cur_writer) == GLIBC_RW_CUR_WRITER,
               "glibc ABI");
_Static_assert(offsetof(pthread_rwlock_t, __data.__shared) == GLIBC_RW_SHARED, "glibc ABI");
_Static_assert(offsetof(pthread_rwlock_t, __data.__flags) == GLIBC_RW_FLAGS, "glibc ABI");
_Static_assert((int)PTHREAD_MUTEX_RECURSIVE == (int)GLIBC_MUTEX_KIND_RECURSIVE
                   && (int)PTHREAD_MUTEX_ERRORCHECK == (int)GLIBC_MUTEX_KIND_ERRORCHECK
                   && (int)PTHREAD_MUTEX_ADAPTIVE_NP == (int)GLIBC_MUTEX_KIND_ADAPTIVE,
               "glibc ABI");
#endif

#endif
