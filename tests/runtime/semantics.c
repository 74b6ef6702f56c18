/* semantics.c - every interposed lock call's result and the lock's state after it, one line
 * per (call, arguments, state): run bare and under `lockgraph run`, the two outputs must be
 * identical (tests/runtime/semantics.sh). The runtime must return what glibc returns and leave
 * the lock as glibc leaves it: bad clocks and timespecs (EINVAL, lock left free), EDEADLK,
 * EPERM, EBUSY, EAGAIN (recursive count and reader count overflow), EOWNERDEAD,
 * ENOTRECOVERABLE, ETIMEDOUT with a past or near deadline on a lock another thread holds.
 *
 * States are forced with a helper thread that takes and releases locks on command (never by
 * timing): "other" holds the lock for the whole call. A timed call on a lock another thread
 * holds uses a deadline in the past or 20 ms ahead (the holder does not release it, so the
 * result is ETIMEDOUT either way). No call here can deadlock or stall: under the runtime the
 * run must also end with no finding.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#define BAD_CLOCK 12345
#define RW_READER_OVERFLOW_AT ((1u << 31) - 8)   /* glibc: one more reader overflows */

static int me, other_tid, dead_tid;

/* ---- the helper thread: runs one command at a time, synchronously ---- */

static sem_t go, done;
static void (*cmd)(void *);
static void *cmd_arg;
static int cmd_rc;

static void *other_main(void *a)
{
    (void)a;
    other_tid = gettid();
    for (;;) {
        sem_wait(&go);
        if (!cmd)
            return NULL;
        cmd(cmd_arg);
        sem_post(&done);
    }
}

static int other(void (*f)(void *), void *arg)
{
    cmd = f;
    cmd_arg = arg;
    sem_post(&go);
    while (sem_wait(&done) != 0) {
    }
    return cmd_rc;
}

static void o_mlock(void *m) { cmd_rc = pthread_mutex_lock(m); }
static void o_munlock(void *m) { cmd_rc = pthread_mutex_unlock(m); }
static void o_rdlock(void *l) { cmd_rc = pthread_rwlock_rdlock(l); }
static void o_wrlock(void *l) { cmd_rc = pthread_rwlock_wrlock(l); }
static void o_rwunlock(void *l) { cmd_rc = pthread_rwlock_unlock(l); }
static void o_spinlock(void *l) { cmd_rc = pthread_spin_lock(l); }
static void o_spinunlock(void *l) { cmd_rc = pthread_spin_unlock(l); }
static void o_mtxlock(void *l) { cmd_rc = mtx_lock(l); }
static void o_mtxunlock(void *l) { cmd_rc = mtx_unlock(l); }

static void *lock_and_exit(void *m)
{
    dead_tid = gettid();
    pthread_mutex_lock(m);
    return NULL;
}

/* ---- printing ---- */

static const char *who(int tid)
{
    static char buf[4][32];
    static int k;
    char *b = buf[k++ & 3];
    if (tid == 0)
        return "0";
    if (tid == me)
        return "me";
    if (tid == other_tid)
        return "other";
    if (tid == dead_tid)
        return "dead";
    snprintf(b, 32, "0x%x", (unsigned)tid);
    return b;
}

static const char *err(int r)
{
    static char buf[32];
    switch (r) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    case EAGAIN: return "EAGAIN";
    case EDEADLK: return "EDEADLK";
    case EPERM: return "EPERM";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EOWNERDEAD: return "EOWNERDEAD";
    case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
    }
    snprintf(buf, sizeof buf, "error %d", r);
    return buf;
}

static const char *c11(int r)
{
    return r == thrd_success ? "thrd_success" : r == thrd_busy ? "thrd_busy"
           : r == thrd_timedout ? "thrd_timedout" : r == thrd_error ? "thrd_error" : "thrd_?";
}

static void mstate(const char *what, const char *res, pthread_mutex_t *m)
{
    /* Robust and PI mutexes keep the owner's TID in the lock word: show whose, and the
     * owner-died / waiters bits; other kinds show the word (0 free, 1 locked, 2 waiters). */
    unsigned lk = (unsigned)m->__data.__lock;
    char word[64];
    if (m->__data.__kind & (16 | 32))
        snprintf(word, sizeof word, "%s%s%s", who((int)(lk & 0x3fffffff)),
                 lk & 0x40000000 ? "+died" : "", lk & 0x80000000 ? "+waiters" : "");
    else
        snprintf(word, sizeof word, "%u", lk);
    printf("%-44s -> %-15s | lock %s owner %s count %u users %u\n", what, res, word,
           who(m->__data.__owner), m->__data.__count, m->__data.__nusers);
}

static void rwstate(const char *what, const char *res, pthread_rwlock_t *l)
{
    printf("%-44s -> %-15s | readers %u writers %u wrphase %u wfutex %u writer %s\n", what,
           res, l->__data.__readers, l->__data.__writers, l->__data.__wrphase_futex,
           l->__data.__writers_futex, who(l->__data.__cur_writer));
}

static struct timespec in_ms(clockid_t c, long ms)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    ts.tv_nsec += ms * 1000000L;
    while (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (ts.tv_nsec < 0) {
        ts.tv_sec--;
        ts.tv_nsec += 1000000000L;
    }
    return ts;
}

static struct timespec nsec_of(long ns)
{
    struct timespec ts = in_ms(CLOCK_REALTIME, 1000);
    ts.tv_nsec = ns;
    return ts;
}

#define M(desc, call, m) do { int r_ = (call); mstate(desc, err(r_), m); } while (0)
#define RW(desc, call, l) do { int r_ = (call); rwstate(desc, err(r_), l); } while (0)

/* ---- mutexes ---- */

static void mutex_init_kind(pthread_mutex_t *m, int type, int robust, int proto, int pshared)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, type);
    if (robust)
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (proto)
        pthread_mutexattr_setprotocol(&a, proto);
    if (pshared)
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
}

/* Timed calls on a lock in any state: every clock and timespec shape. Each successful call
 * is undone (and the unlock's result shown), so the state is the same for the next. */
static void mutex_timed(const char *st, pthread_mutex_t *m)
{
    char d[96];
    struct timespec ts;
#define MT(label, call)                                                                   \
    do {                                                                                  \
        snprintf(d, sizeof d, "%s " label, st);                                           \
        int r_ = (call);                                                                  \
        mstate(d, err(r_), m);                                                            \
        if (r_ == 0 || r_ == EOWNERDEAD)                                                  \
            M("  unlock", pthread_mutex_unlock(m), m);                                    \
    } while (0)
    MT("timedlock nsec=2e9", (ts = nsec_of(2000000000L), pthread_mutex_timedlock(m, &ts)));
    MT("timedlock nsec=-1", (ts = nsec_of(-1), pthread_mutex_timedlock(m, &ts)));
    MT("timedlock past", (ts = in_ms(CLOCK_REALTIME, -1000), pthread_mutex_timedlock(m, &ts)));
    MT("timedlock +20ms", (ts = in_ms(CLOCK_REALTIME, 20), pthread_mutex_timedlock(m, &ts)));
    MT("clocklock bad-clock", (ts = in_ms(CLOCK_REALTIME, 20), pthread_mutex_clocklock(m, BAD_CLOCK, &ts)));
    MT("clocklock cputime-clock", (ts = in_ms(CLOCK_REALTIME, 20), pthread_mutex_clocklock(m, CLOCK_PROCESS_CPUTIME_ID, &ts)));
    MT("clocklock mono nsec=2e9", (ts = nsec_of(2000000000L), pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts)));
    MT("clocklock mono past", (ts = in_ms(CLOCK_MONOTONIC, -1000), pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts)));
    MT("clocklock mono +20ms", (ts = in_ms(CLOCK_MONOTONIC, 20), pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts)));
    MT("clocklock realtime +20ms", (ts = in_ms(CLOCK_REALTIME, 20), pthread_mutex_clocklock(m, CLOCK_REALTIME, &ts)));
#undef MT
}

static void mutex_kind(const char *name, int type, int robust, int proto, int pshared)
{
    pthread_mutex_t m;
    char d[96];
    mutex_init_kind(&m, type, robust, proto, pshared);
    printf("== mutex %s\n", name);
    M("lock free", pthread_mutex_lock(&m), &m);
    M("unlock", pthread_mutex_unlock(&m), &m);
    M("trylock free", pthread_mutex_trylock(&m), &m);
    M("unlock", pthread_mutex_unlock(&m), &m);
    if (type != PTHREAD_MUTEX_NORMAL || robust)   /* a normal mutex does not check */
        M("unlock not held", pthread_mutex_unlock(&m), &m);
    mutex_timed("free", &m);

    /* Held by this thread. */
    M("lock free", pthread_mutex_lock(&m), &m);
    M("self: trylock", pthread_mutex_trylock(&m), &m);
    if (type == PTHREAD_MUTEX_RECURSIVE)
        M("  unlock", pthread_mutex_unlock(&m), &m);
    if (type == PTHREAD_MUTEX_ERRORCHECK || type == PTHREAD_MUTEX_RECURSIVE) {
        M("self: lock", pthread_mutex_lock(&m), &m);
        if (type == PTHREAD_MUTEX_RECURSIVE)
            M("  unlock", pthread_mutex_unlock(&m), &m);
        mutex_timed("self:", &m);
    }
    if (type == PTHREAD_MUTEX_RECURSIVE) {
        unsigned saved = m.__data.__count;
        m.__data.__count = UINT_MAX;   /* one more level overflows the count */
        struct timespec ts = in_ms(CLOCK_REALTIME, 20);
        M("self count=max: lock", pthread_mutex_lock(&m), &m);
        M("self count=max: trylock", pthread_mutex_trylock(&m), &m);
        M("self count=max: timedlock", pthread_mutex_timedlock(&m, &ts), &m);
        m.__data.__count = saved;
    }
    M("unlock", pthread_mutex_unlock(&m), &m);

    /* Held by the other thread for the whole call. */
    snprintf(d, sizeof d, "other: lock (%s)", err(other(o_mlock, &m)));
    mstate(d, "", &m);
    M("other: trylock", pthread_mutex_trylock(&m), &m);
    if (type == PTHREAD_MUTEX_ERRORCHECK || type == PTHREAD_MUTEX_RECURSIVE || robust)
        M("other: unlock by non-owner", pthread_mutex_unlock(&m), &m);
    mutex_timed("other:", &m);
    snprintf(d, sizeof d, "other: unlock (%s)", err(other(o_munlock, &m)));
    mstate(d, "", &m);

    if (robust) {   /* the owner dies holding it: EOWNERDEAD, then ENOTRECOVERABLE */
        pthread_t t;
        pthread_create(&t, NULL, lock_and_exit, &m);
        pthread_join(t, NULL);
        mstate("dead owner", "", &m);
        M("dead owner: trylock", pthread_mutex_trylock(&m), &m);
        M("  unlock without consistent", pthread_mutex_unlock(&m), &m);
        M("not recoverable: lock", pthread_mutex_lock(&m), &m);
        M("not recoverable: trylock", pthread_mutex_trylock(&m), &m);
        struct timespec ts = in_ms(CLOCK_REALTIME, 20);
        M("not recoverable: timedlock", pthread_mutex_timedlock(&m, &ts), &m);
        pthread_mutex_destroy(&m);
        mutex_init_kind(&m, type, robust, proto, pshared);
        pthread_create(&t, NULL, lock_and_exit, &m);
        pthread_join(t, NULL);
        M("dead owner: lock", pthread_mutex_lock(&m), &m);
        M("  consistent", pthread_mutex_consistent(&m), &m);
        M("  unlock", pthread_mutex_unlock(&m), &m);
        pthread_create(&t, NULL, lock_and_exit, &m);
        pthread_join(t, NULL);
        ts = in_ms(CLOCK_REALTIME, 20);
        M("dead owner: timedlock", pthread_mutex_timedlock(&m, &ts), &m);
        M("  consistent", pthread_mutex_consistent(&m), &m);
        M("  unlock", pthread_mutex_unlock(&m), &m);
    }
    pthread_mutex_destroy(&m);
}

/* ---- reader/writer locks ---- */

static void rw_timed(const char *st, pthread_rwlock_t *l, int rd)
{
    char d[96];
    struct timespec ts;
    int (*timed)(pthread_rwlock_t *, const struct timespec *) =
        rd ? pthread_rwlock_timedrdlock : pthread_rwlock_timedwrlock;
    int (*clocked)(pthread_rwlock_t *, clockid_t, const struct timespec *) =
        rd ? pthread_rwlock_clockrdlock : pthread_rwlock_clockwrlock;
    const char *k = rd ? "rd" : "wr";
#define RT(label, call)                                                                   \
    do {                                                                                  \
        snprintf(d, sizeof d, "%s " label, st, k);                                        \
        int r_ = (call);                                                                  \
        rwstate(d, err(r_), l);                                                           \
        if (r_ == 0)                                                                      \
            RW("  unlock", pthread_rwlock_unlock(l), l);                                  \
    } while (0)
    RT("timed%slock nsec=2e9", (ts = nsec_of(2000000000L), timed(l, &ts)));
    RT("timed%slock nsec=-1", (ts = nsec_of(-1), timed(l, &ts)));
    RT("timed%slock past", (ts = in_ms(CLOCK_REALTIME, -1000), timed(l, &ts)));
    RT("timed%slock +20ms", (ts = in_ms(CLOCK_REALTIME, 20), timed(l, &ts)));
    RT("clock%slock bad-clock", (ts = in_ms(CLOCK_REALTIME, 20), clocked(l, BAD_CLOCK, &ts)));
    RT("clock%slock cputime-clock", (ts = in_ms(CLOCK_REALTIME, 20), clocked(l, CLOCK_PROCESS_CPUTIME_ID, &ts)));
    RT("clock%slock mono nsec=2e9", (ts = nsec_of(2000000000L), clocked(l, CLOCK_MONOTONIC, &ts)));
    RT("clock%slock mono past", (ts = in_ms(CLOCK_MONOTONIC, -1000), clocked(l, CLOCK_MONOTONIC, &ts)));
    RT("clock%slock mono +20ms", (ts = in_ms(CLOCK_MONOTONIC, 20), clocked(l, CLOCK_MONOTONIC, &ts)));
#undef RT
}

static void rw_kind(const char *name, int kind)
{
    pthread_rwlock_t l;
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, kind);
    pthread_rwlock_init(&l, &a);
    pthread_rwlockattr_destroy(&a);
    char d[96];
    printf("== rwlock %s\n", name);
    RW("rdlock free", pthread_rwlock_rdlock(&l), &l);
    RW("unlock", pthread_rwlock_unlock(&l), &l);
    RW("wrlock free", pthread_rwlock_wrlock(&l), &l);
    RW("unlock", pthread_rwlock_unlock(&l), &l);
    RW("tryrdlock free", pthread_rwlock_tryrdlock(&l), &l);
    RW("unlock", pthread_rwlock_unlock(&l), &l);
    RW("trywrlock free", pthread_rwlock_trywrlock(&l), &l);
    RW("unlock", pthread_rwlock_unlock(&l), &l);
    rw_timed("free", &l, 1);
    rw_timed("free", &l, 0);

    /* Write-held by this thread: every further acquisition is EDEADLK or EBUSY. */
    RW("wrlock free", pthread_rwlock_wrlock(&l), &l);
    RW("self-w: rdlock", pthread_rwlock_rdlock(&l), &l);
    RW("self-w: wrlock", pthread_rwlock_wrlock(&l), &l);
    RW("self-w: tryrdlock", pthread_rwlock_tryrdlock(&l), &l);
    RW("self-w: trywrlock", pthread_rwlock_trywrlock(&l), &l);
    rw_timed("self-w:", &l, 1);
    rw_timed("self-w:", &l, 0);
    RW("unlock", pthread_rwlock_unlock(&l), &l);

    /* Read-held by this thread. */
    RW("rdlock free", pthread_rwlock_rdlock(&l), &l);
    RW("self-r: trywrlock", pthread_rwlock_trywrlock(&l), &l);
    RW("self-r: tryrdlock", pthread_rwlock_tryrdlock(&l), &l);
    RW("  unlock", pthread_rwlock_unlock(&l), &l);
    struct timespec ts = in_ms(CLOCK_REALTIME, -1000);
    RW("self-r: timedwrlock past", pthread_rwlock_timedwrlock(&l, &ts), &l);
    unsigned saved = l.__data.__readers;
    l.__data.__readers = RW_READER_OVERFLOW_AT;   /* one more reader overflows */
    ts = in_ms(CLOCK_REALTIME, 20);
    RW("readers=max: rdlock", pthread_rwlock_rdlock(&l), &l);
    RW("readers=max: tryrdlock", pthread_rwlock_tryrdlock(&l), &l);
    RW("readers=max: timedrdlock", pthread_rwlock_timedrdlock(&l, &ts), &l);
    l.__data.__readers = saved;
    RW("unlock", pthread_rwlock_unlock(&l), &l);

    /* Write-held by the other thread. */
    snprintf(d, sizeof d, "other-w: wrlock (%s)", err(other(o_wrlock, &l)));
    rwstate(d, "", &l);
    RW("other-w: tryrdlock", pthread_rwlock_tryrdlock(&l), &l);
    RW("other-w: trywrlock", pthread_rwlock_trywrlock(&l), &l);
    rw_timed("other-w:", &l, 1);
    rw_timed("other-w:", &l, 0);
    snprintf(d, sizeof d, "other-w: unlock (%s)", err(other(o_rwunlock, &l)));
    rwstate(d, "", &l);

    /* Read-held by the other thread. */
    snprintf(d, sizeof d, "other-r: rdlock (%s)", err(other(o_rdlock, &l)));
    rwstate(d, "", &l);
    RW("other-r: trywrlock", pthread_rwlock_trywrlock(&l), &l);
    rw_timed("other-r:", &l, 0);
    RW("other-r: tryrdlock", pthread_rwlock_tryrdlock(&l), &l);
    RW("  unlock", pthread_rwlock_unlock(&l), &l);
    rw_timed("other-r:", &l, 1);
    snprintf(d, sizeof d, "other-r: unlock (%s)", err(other(o_rwunlock, &l)));
    rwstate(d, "", &l);
    pthread_rwlock_destroy(&l);
}

/* ---- spinlocks, C11 mutexes, condition variables ---- */

/* A destroyed mutex: glibc sets its kind to -1 and answers every call EINVAL, including
 * the runtime's inline trylock replica's kinds (it must hand these to glibc); the lock word
 * stays as glibc leaves it. */
static void mutex_destroyed(const char *name, int type, int robust, int proto, int pshared)
{
    pthread_mutex_t m;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    struct timespec ts;
    mutex_init_kind(&m, type, robust, proto, pshared);
    printf("== destroyed mutex %s\n", name);
    M("lock", pthread_mutex_lock(&m), &m);
    M("unlock", pthread_mutex_unlock(&m), &m);
    M("destroy", pthread_mutex_destroy(&m), &m);
    printf("kind %d\n", m.__data.__kind);
    M("destroyed: lock", pthread_mutex_lock(&m), &m);
    M("destroyed: trylock", pthread_mutex_trylock(&m), &m);
    M("destroyed: timedlock +20ms", (ts = in_ms(CLOCK_REALTIME, 20), pthread_mutex_timedlock(&m, &ts)), &m);
    M("destroyed: clocklock mono +20ms", (ts = in_ms(CLOCK_MONOTONIC, 20), pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts)), &m);
    M("destroyed: unlock", pthread_mutex_unlock(&m), &m);
    M("destroyed: other: lock", other(o_mlock, &m), &m);
    M("destroyed: other: unlock", other(o_munlock, &m), &m);
    M("destroyed: cond timedwait +20ms", (ts = in_ms(CLOCK_REALTIME, 20), pthread_cond_timedwait(&c, &m, &ts)), &m);
    M("destroyed: destroy", pthread_mutex_destroy(&m), &m);
    printf("kind %d\n", m.__data.__kind);
    M("init again", pthread_mutex_init(&m, NULL), &m);
    M("lock", pthread_mutex_lock(&m), &m);
    M("unlock", pthread_mutex_unlock(&m), &m);
    pthread_mutex_destroy(&m);
}

static void spins(void)
{
    pthread_spinlock_t s;
    char d[96];
    pthread_spin_init(&s, 0);
    printf("== spinlock\n");
#define SP(desc, call) printf("%-44s -> %-15s | word %d\n", desc, err(call), (int)s)
    SP("lock free", pthread_spin_lock(&s));
    SP("self: trylock", pthread_spin_trylock(&s));
    SP("unlock", pthread_spin_unlock(&s));
    SP("trylock free", pthread_spin_trylock(&s));
    SP("unlock", pthread_spin_unlock(&s));
    snprintf(d, sizeof d, "other: lock (%s)", err(other(o_spinlock, (void *)&s)));
    SP(d, 0);
    SP("other: trylock", pthread_spin_trylock(&s));
    snprintf(d, sizeof d, "other: unlock (%s)", err(other(o_spinunlock, (void *)&s)));
    SP(d, 0);
#undef SP
    pthread_spin_destroy(&s);
}

static void c11_mutexes(void)
{
    static const struct { const char *name; int type; } kinds[] = {
        {"plain", mtx_plain}, {"timed", mtx_timed}, {"recursive", mtx_plain | mtx_recursive},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        mtx_t m;
        pthread_mutex_t *pm = (pthread_mutex_t *)(void *)&m;
        char d[96];
        struct timespec ts;
        mtx_init(&m, kinds[i].type);
        printf("== mtx %s\n", kinds[i].name);
#define MX(desc, call) do { int r_ = (call); mstate(desc, c11(r_), pm); } while (0)
        MX("mtx_lock free", mtx_lock(&m));
        MX("self: mtx_trylock", mtx_trylock(&m));
        if (kinds[i].type & mtx_recursive) {
            MX("  mtx_unlock", mtx_unlock(&m));
            MX("self: mtx_lock", mtx_lock(&m));
            MX("  mtx_unlock", mtx_unlock(&m));
            ts = in_ms(CLOCK_REALTIME, 20);
            MX("self: mtx_timedlock", mtx_timedlock(&m, &ts));
            MX("  mtx_unlock", mtx_unlock(&m));
        }
        MX("mtx_unlock", mtx_unlock(&m));
        ts = nsec_of(2000000000L);
        MX("free: mtx_timedlock nsec=2e9", mtx_timedlock(&m, &ts));
        if (pm->__data.__owner)
            MX("  mtx_unlock", mtx_unlock(&m));
        ts = nsec_of(-1);
        MX("free: mtx_timedlock nsec=-1", mtx_timedlock(&m, &ts));
        if (pm->__data.__owner)
            MX("  mtx_unlock", mtx_unlock(&m));
        ts = in_ms(CLOCK_REALTIME, 20);
        MX("free: mtx_timedlock +20ms", mtx_timedlock(&m, &ts));
        MX("  mtx_unlock", mtx_unlock(&m));
        snprintf(d, sizeof d, "other: mtx_lock (%s)", c11(other(o_mtxlock, &m)));
        mstate(d, "", pm);
        MX("other: mtx_trylock", mtx_trylock(&m));
        ts = in_ms(CLOCK_REALTIME, -1000);
        MX("other: mtx_timedlock past", mtx_timedlock(&m, &ts));
        ts = in_ms(CLOCK_REALTIME, 20);
        MX("other: mtx_timedlock +20ms", mtx_timedlock(&m, &ts));
        ts = nsec_of(2000000000L);
        MX("other: mtx_timedlock nsec=2e9", mtx_timedlock(&m, &ts));
        ts = nsec_of(-1);
        MX("other: mtx_timedlock nsec=-1", mtx_timedlock(&m, &ts));
        snprintf(d, sizeof d, "other: mtx_unlock (%s)", c11(other(o_mtxunlock, &m)));
        mstate(d, "", pm);
#undef MX
        mtx_destroy(&m);
    }
}

static void conds(void)
{
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_mutex_t m, e;
    struct timespec ts;
    mutex_init_kind(&m, PTHREAD_MUTEX_NORMAL, 0, 0, 0);
    mutex_init_kind(&e, PTHREAD_MUTEX_ERRORCHECK, 0, 0, 0);
    printf("== cond\n");
    M("lock", pthread_mutex_lock(&m), &m);
    M("timedwait nsec=2e9", (ts = nsec_of(2000000000L), pthread_cond_timedwait(&c, &m, &ts)), &m);
    M("timedwait nsec=-1", (ts = nsec_of(-1), pthread_cond_timedwait(&c, &m, &ts)), &m);
    M("timedwait past", (ts = in_ms(CLOCK_REALTIME, -1000), pthread_cond_timedwait(&c, &m, &ts)), &m);
    M("timedwait +20ms", (ts = in_ms(CLOCK_REALTIME, 20), pthread_cond_timedwait(&c, &m, &ts)), &m);
    M("clockwait bad-clock", (ts = in_ms(CLOCK_REALTIME, 20), pthread_cond_clockwait(&c, &m, BAD_CLOCK, &ts)), &m);
    M("clockwait cputime-clock", (ts = in_ms(CLOCK_REALTIME, 20), pthread_cond_clockwait(&c, &m, CLOCK_PROCESS_CPUTIME_ID, &ts)), &m);
    M("clockwait mono nsec=2e9", (ts = nsec_of(2000000000L), pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &ts)), &m);
    M("clockwait mono past", (ts = in_ms(CLOCK_MONOTONIC, -1000), pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &ts)), &m);
    M("unlock", pthread_mutex_unlock(&m), &m);
    M("errorcheck not held: timedwait +20ms", (ts = in_ms(CLOCK_REALTIME, 20), pthread_cond_timedwait(&c, &e, &ts)), &e);
    M("errorcheck not held: clockwait bad-clock", (ts = in_ms(CLOCK_REALTIME, 20), pthread_cond_clockwait(&c, &e, BAD_CLOCK, &ts)), &e);
    /* Held afterwards: these must leave nothing behind either (no phantom holder). */
    M("errorcheck: lock", pthread_mutex_lock(&e), &e);
    M("errorcheck: unlock", pthread_mutex_unlock(&e), &e);

    cnd_t cc;
    mtx_t mm;
    pthread_mutex_t *pm = (pthread_mutex_t *)(void *)&mm;
    cnd_init(&cc);
    mtx_init(&mm, mtx_plain);
    mtx_lock(&mm);
    ts = nsec_of(2000000000L);
    mstate("cnd_timedwait nsec=2e9", c11(cnd_timedwait(&cc, &mm, &ts)), pm);
    ts = nsec_of(-1);
    mstate("cnd_timedwait nsec=-1", c11(cnd_timedwait(&cc, &mm, &ts)), pm);
    ts = in_ms(CLOCK_REALTIME, -1000);
    mstate("cnd_timedwait past", c11(cnd_timedwait(&cc, &mm, &ts)), pm);
    mstate("mtx_unlock", c11(mtx_unlock(&mm)), pm);
    cnd_destroy(&cc);
    mtx_destroy(&mm);
    pthread_mutex_destroy(&m);
    pthread_mutex_destroy(&e);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    me = gettid();
    sem_init(&go, 0, 0);
    sem_init(&done, 0, 0);
    pthread_t o;
    pthread_create(&o, NULL, other_main, NULL);
    while (!__atomic_load_n(&other_tid, __ATOMIC_ACQUIRE))
        sched_yield();

    mutex_kind("normal", PTHREAD_MUTEX_NORMAL, 0, 0, 0);
    mutex_kind("errorcheck", PTHREAD_MUTEX_ERRORCHECK, 0, 0, 0);
    mutex_kind("recursive", PTHREAD_MUTEX_RECURSIVE, 0, 0, 0);
    mutex_kind("adaptive", PTHREAD_MUTEX_ADAPTIVE_NP, 0, 0, 0);
    mutex_kind("pshared", PTHREAD_MUTEX_NORMAL, 0, 0, 1);
    mutex_kind("robust", PTHREAD_MUTEX_NORMAL, 1, 0, 0);
    mutex_kind("robust-errorcheck", PTHREAD_MUTEX_ERRORCHECK, 1, 0, 0);
    mutex_kind("robust-recursive", PTHREAD_MUTEX_RECURSIVE, 1, 0, 0);
    mutex_kind("pi", PTHREAD_MUTEX_NORMAL, 0, PTHREAD_PRIO_INHERIT, 0);
    mutex_kind("pi-errorcheck", PTHREAD_MUTEX_ERRORCHECK, 0, PTHREAD_PRIO_INHERIT, 0);
    mutex_kind("pi-recursive", PTHREAD_MUTEX_RECURSIVE, 0, PTHREAD_PRIO_INHERIT, 0);
    mutex_kind("pi-robust", PTHREAD_MUTEX_NORMAL, 1, PTHREAD_PRIO_INHERIT, 0);
    mutex_destroyed("normal", PTHREAD_MUTEX_NORMAL, 0, 0, 0);
    mutex_destroyed("errorcheck", PTHREAD_MUTEX_ERRORCHECK, 0, 0, 0);
    mutex_destroyed("recursive", PTHREAD_MUTEX_RECURSIVE, 0, 0, 0);
    mutex_destroyed("adaptive", PTHREAD_MUTEX_ADAPTIVE_NP, 0, 0, 0);
    mutex_destroyed("pshared", PTHREAD_MUTEX_NORMAL, 0, 0, 1);
    mutex_destroyed("robust", PTHREAD_MUTEX_NORMAL, 1, 0, 0);
    mutex_destroyed("pi", PTHREAD_MUTEX_NORMAL, 0, PTHREAD_PRIO_INHERIT, 0);
    rw_kind("prefer-reader", PTHREAD_RWLOCK_PREFER_READER_NP);
    rw_kind("prefer-writer-nonrecursive", PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    spins();
    c11_mutexes();
    conds();

    cmd = NULL;
    sem_post(&go);
    pthread_join(o, NULL);
    printf("semantics done\n");
    return 0;
}
