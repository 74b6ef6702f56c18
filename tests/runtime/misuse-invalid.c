/* misuse-invalid.c - lock calls on memory that holds no lock glibc knows (invalid-lock), and
 * their legal or unclaimable look-alikes, one per argument, for misuse-invalid.sh.
 *
 * Each call prints what glibc answered and errno after it ("rc NAME=VALUE errno=N"), so the
 * script can check that the runtime changed no result: every case runs bare and under the
 * runtime. One thread, or threads ordered by joins: the same calls on every run. The memory
 * under test is a global named after the case where it can be (the script checks the names).
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void rc(const char *what, int r)
{
    int e = errno;
    printf("rc %s=%s errno=%d\n", what, r == 0 ? "0" : strerrorname_np(r), e);
}
#define CALL(what, call) do { errno = 0; rc(what, call); } while (0)

static const char *thrd_name(int r)
{
    return r == thrd_success ? "thrd_success" : r == thrd_busy ? "thrd_busy"
           : r == thrd_error ? "thrd_error" : r == thrd_timedout ? "thrd_timedout" : "other";
}
#define CALL11(what, call)                                                              \
    do {                                                                                \
        errno = 0;                                                                      \
        int r_ = (call);                                                                \
        int e_ = errno;                                                                 \
        printf("rc %s=%s errno=%d\n", what, thrd_name(r_), e_);                         \
    } while (0)

static struct timespec in_ms(clockid_t c, long ms)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    ts.tv_nsec += ms * 1000000L;
    while (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ---- memory that holds no mutex: invalid-lock ---- */

pthread_mutex_t ff_mu;                  /* filled with 0xff bytes (tc20's mx3) */
pthread_mutex_t ff_cv_mu;
pthread_cond_t ff_cv = PTHREAD_COND_INITIALIZER;
mtx_t ff_mtx;
unsigned char ff_bytes[96] __attribute__((aligned(64)));   /* a misaligned mutex inside */
pthread_mutex_t kind4_mu;               /* zeroes but for a kind with bit 2: no flag */

/* tc20: lock, trylock, timed lock and unlock of a 0xff mutex, three times each from one
 * call site (one finding per site); a clock lock too. */
NOINLINE static void ff_mutex(void)
{
    memset(&ff_mu, 0xff, sizeof ff_mu);
    for (int i = 0; i < 3; i++) {
        struct timespec zero = {0, 0}, mono = in_ms(CLOCK_MONOTONIC, 1);
        CALL("lock", pthread_mutex_lock(&ff_mu));
        CALL("trylock", pthread_mutex_trylock(&ff_mu));
        CALL("timedlock", pthread_mutex_timedlock(&ff_mu, &zero));
        CALL("clocklock", pthread_mutex_clocklock(&ff_mu, CLOCK_MONOTONIC, &mono));
        CALL("unlock", pthread_mutex_unlock(&ff_mu));
    }
}

/* tc09 #3: an unlock of "a totally bogus lock", ints filled with 0xffffffff on the stack,
 * from a function called twice (the same call site: one finding). */
NOINLINE static void tc09_nearly(void)
{
    int bogus[100];
    for (int i = 0; i < 100; i++)
        bogus[i] = (int)0xffffffff;
    CALL("unlock-bogus", pthread_mutex_unlock((pthread_mutex_t *)(void *)&bogus[50]));
    __asm__ volatile("" : : "r"(bogus) : "memory");
}

NOINLINE static void tc09_bogus(void)
{
    tc09_nearly();
    tc09_nearly();
}

/* A stack mutex never initialised: its bytes are what an earlier call left there. The
 * earlier call fills its frame with 0xa5; the next one at the same depth has the mutex
 * in the same bytes (the bare run's EINVAL shows it did). */
NOINLINE static void scribble(void)
{
    volatile unsigned char junk[1024];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0xa5;
}

NOINLINE static unsigned kind_at(void *m)
{
    unsigned kind;
    memcpy(&kind, (char *)m + 16, sizeof kind);
    return kind;
}

NOINLINE static void use_uninit(void)
{
    volatile unsigned char pad[512];
    pthread_mutex_t never;   /* never initialised: no init, no initialiser */
    pad[0] = 0;
    printf("kind 0x%x\n", kind_at(&never));
    CALL("unlock-uninit", pthread_mutex_unlock(&never));
    CALL("lock-uninit", pthread_mutex_lock(&never));
    (void)pad[0];
}

NOINLINE static void uninit_stack(void)
{
    scribble();
    use_uninit();
}

/* A mutex one byte into 0xff memory: misaligned, glibc refuses it all the same. */
NOINLINE static void misaligned(void)
{
    memset(ff_bytes, 0xff, sizeof ff_bytes);
    pthread_mutex_t *m = (pthread_mutex_t *)(void *)(ff_bytes + 1);
    CALL("lock-misaligned", pthread_mutex_lock(m));
    CALL("unlock-misaligned", pthread_mutex_unlock(m));
}

/* 0xff bytes the program cannot write (a read-only page): glibc refuses every call without
 * writing, and so must the runtime (a store would end the program with SIGSEGV). */
NOINLINE static void readonly(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    unsigned char *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    if (p == MAP_FAILED)
        return;
    memset(p, 0xff, (size_t)pg);
    mprotect(p, (size_t)pg, PROT_READ);
    pthread_mutex_t *m = (pthread_mutex_t *)(void *)(p + pg - sizeof(pthread_mutex_t) - 3);
    struct timespec zero = {0, 0};
    CALL("lock-readonly", pthread_mutex_lock(m));
    CALL("trylock-readonly", pthread_mutex_trylock(m));
    CALL("timedlock-readonly", pthread_mutex_timedlock(m, &zero));
    CALL("unlock-readonly", pthread_mutex_unlock(m));
}

/* A condition wait with a 0xff mutex: glibc's unlock of it fails, the wait answers EINVAL. */
NOINLINE static void cond_ff(void)
{
    memset(&ff_cv_mu, 0xff, sizeof ff_cv_mu);
    struct timespec ts = in_ms(CLOCK_REALTIME, 1);
    CALL("timedwait-ff", pthread_cond_timedwait(&ff_cv, &ff_cv_mu, &ts));
    CALL("wait-ff", pthread_cond_wait(&ff_cv, &ff_cv_mu));
}

/* C11: mtx_t is glibc's mutex; every call answers thrd_error. */
NOINLINE static void c11_ff(void)
{
    memset(&ff_mtx, 0xff, sizeof ff_mtx);
    struct timespec ts = in_ms(CLOCK_REALTIME, 1);
    CALL11("mtx_lock", mtx_lock(&ff_mtx));
    CALL11("mtx_trylock", mtx_trylock(&ff_mtx));
    CALL11("mtx_timedlock", mtx_timedlock(&ff_mtx, &ts));
    CALL11("mtx_unlock", mtx_unlock(&ff_mtx));
}

/* Not only 0xff: a kind with bit 2 set in zeroed memory (its lock word 0, "free"): glibc
 * refuses the unlock, which is no unlock of a free mutex. */
NOINLINE static void kind4(void)
{
    memset(&kind4_mu, 0, sizeof kind4_mu);
    kind4_mu.__data.__kind = 4;
    CALL("unlock-kind4", pthread_mutex_unlock(&kind4_mu));
    CALL("lock-kind4", pthread_mutex_lock(&kind4_mu));
}

/* ---- look-alikes: no finding ---- */

/* A priority-protect mutex whose ceiling is below the caller's priority: glibc answers
 * EINVAL for the call's priority, not for the memory (a valid PP mutex). Needs SCHED_FIFO
 * (root or RLIMIT_RTPRIO); without it glibc answers otherwise, as bare. */
static void *pp_thread(void *arg)
{
    (void)arg;
    struct sched_param sp = {.sched_priority = 20};
    int s = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    printf("fifo %s\n", s == 0 ? "yes" : "no");
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_PROTECT);
    CALL("setprioceiling-attr-out-of-range", pthread_mutexattr_setprioceiling(&a, 1000));
    pthread_mutexattr_setprioceiling(&a, 10);
    pthread_mutex_t m;
    pthread_mutex_init(&m, &a);
    pthread_mutexattr_destroy(&a);
    struct timespec ts = in_ms(CLOCK_REALTIME, 1);
    if (s == 0) {
        CALL("lock-pp", pthread_mutex_lock(&m));
        CALL("trylock-pp", pthread_mutex_trylock(&m));
        CALL("timedlock-pp", pthread_mutex_timedlock(&m, &ts));
    }
    int old;
    CALL("setprioceiling-out-of-range", pthread_mutex_setprioceiling(&m, 1000, &old));
    pthread_mutex_destroy(&m);
    return NULL;
}

NOINLINE static void pp_ceiling(void)
{
    pthread_t t;
    pthread_create(&t, NULL, pp_thread, NULL);
    pthread_join(t, NULL);
}

/* Timed locks glibc refuses for their timeout or clock: a valid mutex (held, so glibc has
 * to look at the timeout), and a 0xff one (the EINVAL may be the timeout's: no claim). */
pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t ff_badtime_mu;
NOINLINE static void bad_timeout(void)
{
    struct timespec big = in_ms(CLOCK_REALTIME, 100);
    big.tv_nsec = 1000000000L;
    struct timespec neg = {.tv_sec = big.tv_sec, .tv_nsec = -1};
    struct timespec ok = in_ms(CLOCK_REALTIME, 100);
    CALL("lock", pthread_mutex_lock(&held_mu));
    CALL("timedlock-nsec-1e9", pthread_mutex_timedlock(&held_mu, &big));
    CALL("timedlock-nsec-neg", pthread_mutex_timedlock(&held_mu, &neg));
    CALL("clocklock-bad-clock", pthread_mutex_clocklock(&held_mu, CLOCK_PROCESS_CPUTIME_ID, &ok));
    CALL("unlock", pthread_mutex_unlock(&held_mu));
    memset(&ff_badtime_mu, 0xff, sizeof ff_badtime_mu);
    CALL("timedlock-ff-nsec-1e9", pthread_mutex_timedlock(&ff_badtime_mu, &big));
    CALL("clocklock-ff-bad-clock",
         pthread_mutex_clocklock(&ff_badtime_mu, CLOCK_PROCESS_CPUTIME_ID, &ok));
    CALL11("mtx_timedlock-ff-nsec-1e9", mtx_timedlock((mtx_t *)(void *)&ff_badtime_mu, &big));
}

/* A zeroed mutex never initialised is PTHREAD_MUTEX_INITIALIZER on glibc: valid. */
NOINLINE static void calloc_mutex(void)
{
    pthread_mutex_t *m = calloc(1, sizeof *m);
    if (!m)
        return;
    CALL("lock", pthread_mutex_lock(m));
    CALL("trylock", pthread_mutex_trylock(m));
    CALL("unlock", pthread_mutex_unlock(m));
    CALL("trylock-free", pthread_mutex_trylock(m));
    CALL("unlock-again", pthread_mutex_unlock(m));
    free(m);
}

/* Every static initialiser glibc has. */
pthread_mutex_t st_normal = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t st_recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
pthread_mutex_t st_errorcheck = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
pthread_mutex_t st_adaptive = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
pthread_rwlock_t st_rw = PTHREAD_RWLOCK_INITIALIZER;
pthread_rwlock_t st_rw_w = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
NOINLINE static void static_inits(void)
{
    pthread_mutex_t *ms[] = {&st_normal, &st_recursive, &st_errorcheck, &st_adaptive};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        struct timespec ts = in_ms(CLOCK_REALTIME, 100);
        CALL("lock", pthread_mutex_lock(ms[i]));
        CALL("unlock", pthread_mutex_unlock(ms[i]));
        CALL("trylock", pthread_mutex_trylock(ms[i]));
        CALL("unlock", pthread_mutex_unlock(ms[i]));
        CALL("timedlock", pthread_mutex_timedlock(ms[i], &ts));
        CALL("unlock", pthread_mutex_unlock(ms[i]));
    }
    pthread_rwlock_t *rs[] = {&st_rw, &st_rw_w};
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        CALL("rdlock", pthread_rwlock_rdlock(rs[i]));
        CALL("unlock", pthread_rwlock_unlock(rs[i]));
        CALL("wrlock", pthread_rwlock_wrlock(rs[i]));
        CALL("unlock", pthread_rwlock_unlock(rs[i]));
    }
}

/* A 0xff rwlock: glibc 2.36 never answers EINVAL for an rwlock's memory (its tries say
 * EBUSY, its unlock 0; its locks, timed or not, wait for ever), so nothing is claimed. */
pthread_rwlock_t ff_rw;
NOINLINE static void ff_rwlock(void)
{
    memset(&ff_rw, 0xff, sizeof ff_rw);
    CALL("tryrdlock-ff", pthread_rwlock_tryrdlock(&ff_rw));
    CALL("trywrlock-ff", pthread_rwlock_trywrlock(&ff_rw));
    CALL("unlock-ff", pthread_rwlock_unlock(&ff_rw));
    CALL("tryrdlock-ff-after", pthread_rwlock_tryrdlock(&ff_rw));
    CALL("trywrlock-ff-after", pthread_rwlock_trywrlock(&ff_rw));
}

/* A kind made of the bits glibc defines, which its trylock refuses but its lock takes (the
 * elision bit beside error-checking): no claim, and the lock goes to glibc's lock, not to a
 * trylock that would answer EINVAL. Left locked (glibc's unlock of this kind asserts). */
pthread_mutex_t elide_mu;
mtx_t elide_mtx;
NOINLINE static void elision_kind(void)
{
    memset(&elide_mu, 0, sizeof elide_mu);
    elide_mu.__data.__kind = 256 | PTHREAD_MUTEX_ERRORCHECK;
    CALL("trylock-elision-errorcheck", pthread_mutex_trylock(&elide_mu));
    CALL("lock-elision-errorcheck", pthread_mutex_lock(&elide_mu));
    memset(&elide_mtx, 0, sizeof elide_mtx);
    ((pthread_mutex_t *)(void *)&elide_mtx)->__data.__kind = 256 | PTHREAD_MUTEX_ADAPTIVE_NP;
    CALL11("mtx_trylock-elision-adaptive", mtx_trylock(&elide_mtx));
    CALL11("mtx_lock-elision-adaptive", mtx_lock(&elide_mtx));
}

/* Kind bits glibc ignores (above the elision bits): a normal mutex to glibc. */
pthread_mutex_t high_mu;
NOINLINE static void high_kind(void)
{
    memset(&high_mu, 0, sizeof high_mu);
    high_mu.__data.__kind = 0x400;
    CALL("lock-high", pthread_mutex_lock(&high_mu));
    CALL("trylock-high", pthread_mutex_trylock(&high_mu));
    CALL("unlock-high", pthread_mutex_unlock(&high_mu));
}

/* A mutex the runtime saw initialised and used, then overwritten with 0xff while alive:
 * glibc's EINVAL is not claimed (a live lock the runtime knows). */
pthread_mutex_t live_mu;
NOINLINE static void overwritten_live(void)
{
    pthread_mutex_init(&live_mu, NULL);
    CALL("lock", pthread_mutex_lock(&live_mu));
    CALL("unlock", pthread_mutex_unlock(&live_mu));
    memset(&live_mu, 0xff, sizeof live_mu);
    CALL("lock-overwritten", pthread_mutex_lock(&live_mu));
    CALL("unlock-overwritten", pthread_mutex_unlock(&live_mu));
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *c = argv[1];
    if (!strcmp(c, "ff-mutex")) ff_mutex();
    else if (!strcmp(c, "tc09-bogus")) tc09_bogus();
    else if (!strcmp(c, "uninit-stack")) uninit_stack();
    else if (!strcmp(c, "misaligned")) misaligned();
    else if (!strcmp(c, "readonly")) readonly();
    else if (!strcmp(c, "cond-ff")) cond_ff();
    else if (!strcmp(c, "c11-ff")) c11_ff();
    else if (!strcmp(c, "kind4")) kind4();
    else if (!strcmp(c, "pp-ceiling")) pp_ceiling();
    else if (!strcmp(c, "bad-timeout")) bad_timeout();
    else if (!strcmp(c, "calloc-mutex")) calloc_mutex();
    else if (!strcmp(c, "static-inits")) static_inits();
    else if (!strcmp(c, "ff-rwlock")) ff_rwlock();
    else if (!strcmp(c, "elision-kind")) elision_kind();
    else if (!strcmp(c, "high-kind")) high_kind();
    else if (!strcmp(c, "overwritten-live")) overwritten_live();
    else return 2;
    printf("done %s\n", c);
    return 0;
}
