/* misuse.c - one lock misuse (or one legal look-alike) per argument, for misuse.sh.
 *
 * Each case prints what glibc answered ("rc NAME=VALUE"), so the script can check that the
 * runtime changed no result; threads are ordered with semaphores and joins, never with
 * sleeps, so each case does the same thing on every run. The lock under test is a global
 * named after the case's lock (misuse.sh checks the names in the findings).
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;      /* a normal mutex */
pthread_mutex_t mu2 = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t emu;                                 /* error-checking */
pthread_mutex_t rmu;                                 /* recursive */
pthread_mutex_t robust;
pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
pthread_spinlock_t spin;
pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
pthread_mutex_t gone_mu;                             /* destroyed, then used */
mtx_t gone_mtx;
static sem_t go, done;

static void rc(const char *what, int r)
{
    printf("rc %s=%s\n", what, r == 0 ? "0" : strerrorname_np(r));
}

static void init_kind(pthread_mutex_t *m, int type, int robustness)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, type);
    pthread_mutexattr_setrobust(&a, robustness);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
}

static void run(void *(*f)(void *), void *arg)
{
    pthread_t t;
    pthread_create(&t, NULL, f, arg);
    pthread_join(t, NULL);
}

/* ---- misuses ---- */

NOINLINE static void double_unlock(void)
{
    rc("lock", pthread_mutex_lock(&mu));
    rc("unlock", pthread_mutex_unlock(&mu));
    rc("unlock-again", pthread_mutex_unlock(&mu));
}

NOINLINE static void unlock_never_locked(void)
{
    rc("unlock", pthread_mutex_unlock(&mu));   /* statically initialised, never locked */
}

NOINLINE static void errorcheck_double_unlock(void)
{
    init_kind(&emu, PTHREAD_MUTEX_ERRORCHECK, 0);
    rc("lock", pthread_mutex_lock(&emu));
    rc("unlock", pthread_mutex_unlock(&emu));
    rc("unlock-again", pthread_mutex_unlock(&emu));   /* EPERM */
}

NOINLINE static void recursive_over_unlock(void)
{
    init_kind(&rmu, PTHREAD_MUTEX_RECURSIVE, 0);
    rc("lock", pthread_mutex_lock(&rmu));
    rc("lock-again", pthread_mutex_lock(&rmu));
    rc("unlock", pthread_mutex_unlock(&rmu));
    rc("unlock", pthread_mutex_unlock(&rmu));
    rc("unlock-third", pthread_mutex_unlock(&rmu));   /* EPERM */
}

NOINLINE static void rwlock_double_unlock(void)
{
    rc("rdlock", pthread_rwlock_rdlock(&rw));
    rc("unlock", pthread_rwlock_unlock(&rw));
    rc("unlock-again", pthread_rwlock_unlock(&rw));
}

NOINLINE static void spin_double_unlock(void)
{
    pthread_spin_init(&spin, 0);
    rc("lock", pthread_spin_lock(&spin));
    rc("unlock", pthread_spin_unlock(&spin));
    rc("unlock-again", pthread_spin_unlock(&spin));
}

static void *lock_and_signal(void *m)
{
    rc("other-lock", pthread_mutex_lock(m));
    sem_post(&go);
    sem_wait(&done);   /* held until the main thread has unlocked it (or tried) */
    if (m == &emu)
        rc("other-unlock", pthread_mutex_unlock(m));
    return NULL;
}

NOINLINE static void unlock_other_thread(pthread_mutex_t *m)
{
    pthread_t t;
    pthread_create(&t, NULL, lock_and_signal, m);
    sem_wait(&go);
    rc("unlock-not-mine", pthread_mutex_unlock(m));
    sem_post(&done);
    pthread_join(t, NULL);
}

static void *rdlock_and_signal(void *arg)
{
    (void)arg;
    rc("other-rdlock", pthread_rwlock_rdlock(&rw));
    sem_post(&go);
    sem_wait(&done);
    return NULL;
}

NOINLINE static void rwlock_unlock_other_reader(void)
{
    pthread_t t;
    pthread_create(&t, NULL, rdlock_and_signal, NULL);
    sem_wait(&go);
    rc("unlock-not-mine", pthread_rwlock_unlock(&rw));
    sem_post(&done);
    pthread_join(t, NULL);
}

NOINLINE static void destroy_locked(void)
{
    pthread_mutex_init(&mu2, NULL);
    rc("lock", pthread_mutex_lock(&mu2));
    rc("destroy", pthread_mutex_destroy(&mu2));   /* EBUSY */
    rc("unlock", pthread_mutex_unlock(&mu2));
    rc("destroy", pthread_mutex_destroy(&mu2));
}

NOINLINE static void destroy_rwlock_held_by_other(void)
{
    pthread_t t;
    pthread_create(&t, NULL, rdlock_and_signal, NULL);
    sem_wait(&go);
    rc("destroy", pthread_rwlock_destroy(&rw));
    sem_post(&done);
    pthread_join(t, NULL);
}

NOINLINE static void *exit_locked(void *arg)
{
    (void)arg;
    rc("lock", pthread_mutex_lock(&mu));
    return NULL;   /* still holding mu */
}

NOINLINE static void errorcheck_relock(void)
{
    init_kind(&emu, PTHREAD_MUTEX_ERRORCHECK, 0);
    rc("lock", pthread_mutex_lock(&emu));
    rc("lock-again", pthread_mutex_lock(&emu));   /* EDEADLK */
    rc("unlock", pthread_mutex_unlock(&emu));
}

NOINLINE static void rwlock_wrlock_twice(void)
{
    rc("wrlock", pthread_rwlock_wrlock(&rw));
    rc("wrlock-again", pthread_rwlock_wrlock(&rw));   /* EDEADLK */
    rc("rdlock", pthread_rwlock_rdlock(&rw));         /* EDEADLK, another call site */
    rc("unlock", pthread_rwlock_unlock(&rw));
}

static struct timespec soon(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 1000000;   /* the wait ends by its timeout: nobody signals */
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

NOINLINE static void cond_wait_unlocked(pthread_mutex_t *m)
{
    struct timespec ts = soon();
    int r = pthread_cond_timedwait(&cv, m, &ts);   /* normal: ETIMEDOUT, errorcheck: EPERM */
    rc("timedwait", r);
    if (r == ETIMEDOUT)
        rc("unlock", pthread_mutex_unlock(m));   /* glibc re-locked it for us */
}

/* A condition wait with a mutex another thread holds (Helgrind tc23 #4): an error-checking
 * mutex makes glibc refuse it (EPERM) before waiting, so nothing else changes; a normal one
 * is released (the other thread's lock) and taken for this thread when the wait times out. */
NOINLINE static void cond_wait_other_holds(pthread_mutex_t *m)
{
    pthread_t t;
    pthread_create(&t, NULL, lock_and_signal, m);
    sem_wait(&go);
    struct timespec ts = soon();
    int r = pthread_cond_timedwait(&cv, m, &ts);
    rc("timedwait-not-mine", r);
    if (r == ETIMEDOUT)   /* a normal mutex (tc23 #4 as written): glibc released the other's
                           * lock for the wait and took it for this thread after it */
        rc("unlock", pthread_mutex_unlock(m));
    sem_post(&done);
    pthread_join(t, NULL);
}

/* ---- one condition variable, two mutexes (cond-two-mutexes) ----
 * A waiter announces itself holding its mutex, then waits; the main thread's lock of that
 * mutex succeeds only once the wait has released it, that is, once the waiter is inside
 * pthread_cond_wait (and queued in glibc: it registers before it releases the mutex); then
 * main waits until the kernel shows the waiter asleep in futex(2) on the condvar (the
 * runtime claims only a wait it sees asleep). So every order below is the program's, never
 * the scheduler's. */
pthread_mutex_t cm1 = PTHREAD_MUTEX_INITIALIZER, cm2 = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t cv2 = PTHREAD_COND_INITIALIZER;
static sem_t in_wait;

/* Until thread tid is blocked in futex(2) on a word in [obj, obj + len): read from
 * /proc/self/task/TID/syscall, a fact of the program's state, not of time. */
static void until_asleep_on(pid_t tid, const void *obj, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    for (;;) {
        long nr = -1;
        unsigned long a = 0;
        FILE *f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%ld %lx", &nr, &a) != 2)
                nr = -1;
            fclose(f);
        }
        if (nr == SYS_futex && a >= (uintptr_t)obj && a < (uintptr_t)obj + len)
            return;
        usleep(1000);
    }
}

typedef struct waiter {
    pthread_t th;
    pid_t tid;
    pthread_cond_t *cv;
    pthread_mutex_t *m;
    int released;              /* the predicate, under m */
} waiter;

static void *wait_until_released(void *arg)
{
    waiter *w = arg;
    int r = 0;
    w->tid = gettid();
    pthread_mutex_lock(w->m);
    sem_post(&in_wait);
    while (!w->released && r == 0)
        r = pthread_cond_wait(w->cv, w->m);
    pthread_mutex_unlock(w->m);
    rc("wait", r);
    return NULL;
}

/* Starts w and returns once it waits (the handshake above). */
static void start_waiter(waiter *w, pthread_cond_t *cv, pthread_mutex_t *m)
{
    *w = (waiter){.cv = cv, .m = m};
    pthread_create(&w->th, NULL, wait_until_released, w);
    sem_wait(&in_wait);
    pthread_mutex_lock(m);     /* only once the wait released it */
    pthread_mutex_unlock(m);
    until_asleep_on(w->tid, cv, sizeof *cv);
}

static void release_waiter(waiter *w)
{
    pthread_mutex_lock(w->m);
    w->released = 1;
    pthread_cond_broadcast(w->cv);
    pthread_mutex_unlock(w->m);
    pthread_join(w->th, NULL);
}

/* Two threads wait on cv at once, one with cm1, the other with cm2 (Helgrind's "cond is
 * associated with a different mutex"): the second wait is the misuse. */
NOINLINE static void cond_two_mutexes(void)
{
    waiter a, b;
    start_waiter(&a, &cv, &cm1);
    start_waiter(&b, &cv, &cm2);
    release_waiter(&a);
    release_waiter(&b);
}

/* The same condvar with another mutex once every waiter left: a new binding (legal). */
NOINLINE static void cond_reuse_other_mutex(void)
{
    waiter a;
    start_waiter(&a, &cv, &cm1);
    release_waiter(&a);
    start_waiter(&a, &cv, &cm2);
    release_waiter(&a);
}

/* Two condvars, each with its own mutex, waited on at once. */
NOINLINE static void cond_two_condvars(void)
{
    waiter a, b;
    start_waiter(&a, &cv, &cm1);
    start_waiter(&b, &cv2, &cm2);
    release_waiter(&a);
    release_waiter(&b);
}

/* A timed wait with cm1 that times out, then a wait with cm2. */
NOINLINE static void cond_timeout_other_mutex(void)
{
    struct timespec ts = soon();
    pthread_mutex_lock(&cm1);
    rc("timedwait-cm1", pthread_cond_timedwait(&cv, &cm1, &ts));
    pthread_mutex_unlock(&cm1);
    ts = soon();
    pthread_mutex_lock(&cm2);
    rc("timedwait-cm2", pthread_cond_timedwait(&cv, &cm2, &ts));
    pthread_mutex_unlock(&cm2);
}

static void unlock_on_cancel(void *m)
{
    pthread_mutex_unlock(m);
}

static void *wait_for_ever(void *arg)
{
    pthread_mutex_t *m = arg;
    pthread_mutex_lock(m);
    pthread_cleanup_push(unlock_on_cancel, m);
    sem_post(&in_wait);
    for (;;)
        pthread_cond_wait(&cv, m);
    pthread_cleanup_pop(1);
    return NULL;
}

/* A wait with cm1 cancelled (its cleanup unlocks cm1), then a wait with cm2. */
NOINLINE static void cond_cancel_other_mutex(void)
{
    pthread_t t;
    pthread_create(&t, NULL, wait_for_ever, &cm1);
    sem_wait(&in_wait);
    pthread_mutex_lock(&cm1);   /* the thread waits */
    pthread_mutex_unlock(&cm1);
    pthread_cancel(t);
    void *res;
    pthread_join(t, &res);
    rc("cancelled", res == PTHREAD_CANCELED ? 0 : EINVAL);
    struct timespec ts = soon();
    pthread_mutex_lock(&cm2);
    rc("timedwait-cm2", pthread_cond_timedwait(&cv, &cm2, &ts));
    pthread_mutex_unlock(&cm2);
}

/* A waiter with cm1 signalled (it is unblocked, and stays in pthread_cond_wait until it gets
 * cm1 back, which this thread holds), then a wait with cm2: POSIX's binding lasts only while
 * a thread is blocked on the condvar, so this is legal (Helgrind, which counts the woken
 * waiter until its call returns, reports it). */
NOINLINE static void cond_signal_other_mutex(void)
{
    waiter a;
    start_waiter(&a, &cv, &cm1);
    pthread_mutex_lock(&cm1);
    a.released = 1;
    pthread_cond_signal(&cv);   /* a is the only waiter: it is woken */
    struct timespec ts = soon();
    pthread_mutex_lock(&cm2);
    int r = pthread_cond_timedwait(&cv, &cm2, &ts);
    rc("timedwait-cm2", r == ETIMEDOUT ? 0 : r);   /* 0 too would be glibc's right */
    pthread_mutex_unlock(&cm2);
    pthread_mutex_unlock(&cm1);
    pthread_join(a.th, NULL);
}

/* ---- a waiter that leaves its wait without the wrapper's exit path ----
 * A signal handler siglongjmp's out of pthread_cond_wait (POSIX leaves it undefined). glibc's
 * longjmp runs the wait's cancellation cleanup (glibc stops counting the waiter and re-takes
 * cm1, which the waiter then unlocks), but the runtime's wrapper is jumped over: its count and
 * the waiter's published wait stay. Nobody waits with cm1 afterwards, so a wait with cm2 is no
 * cond-two-mutexes, and the unlock of cm1 is no unlock-not-held; a wait that does overlap
 * another is still found. Each case signals the waiter only once the kernel shows it asleep
 * in the wait, and waits for it to be out of it (sem go). */
static sigjmp_buf jump_env;
static void jump_out(int sig)
{
    (void)sig;
    siglongjmp(jump_env, 1);
}

enum { JUMP_SLEEP, JUMP_REWAIT };   /* what the waiter does once out */
typedef struct jumper {
    pthread_t th;
    pid_t tid;
    int then;
    int released;              /* JUMP_REWAIT's predicate, under cm2 */
} jumper;

static void *wait_then_jump(void *arg)
{
    jumper *j = arg;
    j->tid = gettid();
    pthread_mutex_lock(&cm1);
    if (!sigsetjmp(jump_env, 1)) {
        sem_post(&in_wait);
        pthread_cond_wait(&cv, &cm1);   /* left by the handler only */
        rc("wait-returned", EINVAL);
        return NULL;
    }
    rc("unlock-cm1", pthread_mutex_unlock(&cm1));   /* re-taken by glibc's cleanup */
    if (j->then == JUMP_SLEEP) {
        sem_post(&go);
        sem_wait(&done);       /* asleep elsewhere while main waits with cm2 */
        return NULL;
    }
    pthread_mutex_lock(&cm2);  /* JUMP_REWAIT: a new wait on cv, with cm2 */
    sem_post(&go);
    int r = 0;
    while (!j->released && r == 0)
        r = pthread_cond_wait(&cv, &cm2);
    pthread_mutex_unlock(&cm2);
    rc("rewait", r);
    return NULL;
}

/* Starts j, waits until it sleeps in its wait with cm1, makes its handler jump out, and
 * returns once it is out (JUMP_SLEEP: asleep on sem done; JUMP_REWAIT: asleep in its wait
 * with cm2). */
static void start_jumper(jumper *j, int then)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = jump_out;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    *j = (jumper){.then = then};
    pthread_create(&j->th, NULL, wait_then_jump, j);
    sem_wait(&in_wait);
    pthread_mutex_lock(&cm1);   /* only once the wait released it */
    pthread_mutex_unlock(&cm1);
    until_asleep_on(j->tid, &cv, sizeof cv);
    pthread_kill(j->th, SIGUSR1);
    sem_wait(&go);
    if (then == JUMP_SLEEP) {
        until_asleep_on(j->tid, &done, sizeof done);
    } else {
        pthread_mutex_lock(&cm2);   /* its new wait released cm2 */
        pthread_mutex_unlock(&cm2);
        until_asleep_on(j->tid, &cv, sizeof cv);
    }
}

/* The waiter jumped out of its wait with cm1 and sleeps elsewhere; main waits with cm2. */
NOINLINE static void cond_jumped_out(void)
{
    jumper j;
    start_jumper(&j, JUMP_SLEEP);
    struct timespec ts = soon();
    pthread_mutex_lock(&cm2);
    rc("timedwait-cm2", pthread_cond_timedwait(&cv, &cm2, &ts));
    pthread_mutex_unlock(&cm2);
    sem_post(&done);
    pthread_join(j.th, NULL);
}

/* The waiter jumped out of its wait with cm1 and waits on cv again, with cm2; main waits with
 * cm2 too (legal), then with cm1 while the waiter sleeps with cm2: the misuse, named with
 * cm2, the mutex the waiter really waits with. */
NOINLINE static void cond_jumped_rewait(int overlap)
{
    jumper j;
    start_jumper(&j, JUMP_REWAIT);
    struct timespec ts = soon();
    pthread_mutex_lock(&cm2);
    rc("timedwait-cm2", pthread_cond_timedwait(&cv, &cm2, &ts));
    pthread_mutex_unlock(&cm2);
    if (overlap) {
        ts = soon();
        pthread_mutex_lock(&cm1);
        rc("timedwait-cm1", pthread_cond_timedwait(&cv, &cm1, &ts));
        pthread_mutex_unlock(&cm1);
    }
    pthread_mutex_lock(&cm2);
    j.released = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&cm2);
    pthread_join(j.th, NULL);
}

/* More condition variables than the runtime's table holds (49152), each waited on once (a
 * deadline in the past: glibc answers ETIMEDOUT at once): the program runs to its end, with
 * one note. */
NOINLINE static void cond_many(void)
{
    enum { N = 60000 };
    pthread_cond_t *cvs = calloc(N, sizeof *cvs);
    struct timespec past = {-1, 0};
    int timedout = 0;
    pthread_mutex_lock(&cm1);
    for (int i = 0; i < N; i++) {
        pthread_cond_init(&cvs[i], NULL);
        timedout += pthread_cond_timedwait(&cvs[i], &cm1, &past) == ETIMEDOUT;
    }
    pthread_mutex_unlock(&cm1);
    for (int i = 0; i < N; i++)
        pthread_cond_destroy(&cvs[i]);
    free(cvs);
    printf("timed out %d of %d\n", timedout, N);
}

/* The same with C11's cnd_t and mtx_t (glibc's cnd_wait does not go through
 * pthread_cond_wait: its own wrappers). */
mtx_t xm1, xm2;
cnd_t xcv;
typedef struct xwaiter {
    thrd_t th;
    pid_t tid;
    mtx_t *m;
    int released;
} xwaiter;

static int xwait_until_released(void *arg)
{
    xwaiter *w = arg;
    int r = thrd_success;
    w->tid = gettid();
    mtx_lock(w->m);
    sem_post(&in_wait);
    while (!w->released && r == thrd_success)
        r = cnd_wait(&xcv, w->m);
    mtx_unlock(w->m);
    printf("cnd_wait %d\n", r == thrd_success);
    return 0;
}

static void xstart(xwaiter *w, mtx_t *m)
{
    *w = (xwaiter){.m = m};
    thrd_create(&w->th, xwait_until_released, w);
    sem_wait(&in_wait);
    mtx_lock(m);
    mtx_unlock(m);
    until_asleep_on(w->tid, &xcv, sizeof xcv);
}

static void xrelease(xwaiter *w)
{
    mtx_lock(w->m);
    w->released = 1;
    cnd_broadcast(&xcv);
    mtx_unlock(w->m);
    thrd_join(w->th, NULL);
}

NOINLINE static void cnd_two_mutexes(void)
{
    mtx_init(&xm1, mtx_plain);
    mtx_init(&xm2, mtx_plain);
    cnd_init(&xcv);
    xwaiter a, b;
    xstart(&a, &xm1);
    xstart(&b, &xm2);
    xrelease(&a);
    xrelease(&b);
    cnd_destroy(&xcv);
}

/* A mutex used after its destroy: glibc answers EINVAL to each call (three call sites:
 * three findings). */
NOINLINE static void destroy_then_lock(void)
{
    rc("init", pthread_mutex_init(&gone_mu, NULL));
    rc("lock", pthread_mutex_lock(&gone_mu));
    rc("unlock", pthread_mutex_unlock(&gone_mu));
    rc("destroy", pthread_mutex_destroy(&gone_mu));
    rc("lock-destroyed", pthread_mutex_lock(&gone_mu));
    rc("trylock-destroyed", pthread_mutex_trylock(&gone_mu));
    rc("unlock-destroyed", pthread_mutex_unlock(&gone_mu));
}

/* Destroyed, freed, then locked: glibc's mark is still in the freed bytes (EINVAL). */
NOINLINE static void destroy_free_lock(void)
{
    pthread_mutex_t *m = malloc(sizeof *m);
    rc("init", pthread_mutex_init(m, NULL));
    rc("lock", pthread_mutex_lock(m));
    rc("unlock", pthread_mutex_unlock(m));
    rc("destroy", pthread_mutex_destroy(m));
    pthread_mutex_t *volatile kept = m;   /* the program's dangling pointer */
    free(m);
    rc("lock-freed", pthread_mutex_lock(kept));
}

NOINLINE static void destroy_twice(void)
{
    rc("init", pthread_mutex_init(&gone_mu, NULL));
    rc("destroy", pthread_mutex_destroy(&gone_mu));
    rc("destroy-again", pthread_mutex_destroy(&gone_mu));
}

NOINLINE static void cond_wait_destroyed(void)
{
    rc("init", pthread_mutex_init(&gone_mu, NULL));
    rc("destroy", pthread_mutex_destroy(&gone_mu));
    rc("wait-destroyed", pthread_cond_wait(&cv, &gone_mu));
}

NOINLINE static void mtx_after_destroy(void)
{
    printf("init %d\n", mtx_init(&gone_mtx, mtx_plain) == thrd_success);
    mtx_destroy(&gone_mtx);
    printf("lock-destroyed error %d\n", mtx_lock(&gone_mtx) == thrd_error);
}

/* An init of a held lock: by its holder, and while another thread holds it. */
pthread_mutex_t live_mu;
pthread_rwlock_t live_rw;
NOINLINE static void reinit_held(void)
{
    rc("init", pthread_mutex_init(&live_mu, NULL));
    rc("lock", pthread_mutex_lock(&live_mu));
    rc("init-held", pthread_mutex_init(&live_mu, NULL));
    rc("unlock", pthread_mutex_unlock(&live_mu));
}

static void *hold_rw(void *arg)
{
    (void)arg;
    rc("rdlock", pthread_rwlock_rdlock(&live_rw));
    sem_post(&go);
    sem_wait(&done);
    return NULL;   /* the lock it held was initialised away under it: nothing to unlock */
}

NOINLINE static void reinit_other_holds(void)
{
    rc("init", pthread_rwlock_init(&live_rw, NULL));
    pthread_t t;
    pthread_create(&t, NULL, hold_rw, NULL);
    sem_wait(&go);
    rc("init-held", pthread_rwlock_init(&live_rw, NULL));
    sem_post(&done);
    pthread_join(t, NULL);
}

/* ---- Helgrind's tc23 and tc20, tc22, tc09 shapes (our own programs of the same cases) ---- */

/* A condition wait with a bogus mutex: 4 bytes into a real, unlocked one (tc23 #1). For
 * glibc it is a normal mutex no thread holds (its words are the real one's zero fields):
 * the wait unlocks it, times out and locks it again, which this thread then undoes. */
pthread_mutex_t bogus_mx[2];
NOINLINE static void cond_wait_bogus_mutex(void)
{
    pthread_mutex_init(&bogus_mx[0], NULL);
    pthread_mutex_t *m = (pthread_mutex_t *)(4 + (char *)&bogus_mx[0]);
    struct timespec ts = soon();
    rc("timedwait-bogus", pthread_cond_timedwait(&cv, m, &ts));
    rc("unlock-bogus", pthread_mutex_unlock(m));
}

/* A condition wait with an rwlock passed as the mutex (tc23 #3): glibc reads its words as a
 * normal unlocked mutex, as above. */
pthread_rwlock_t cond_rw = PTHREAD_RWLOCK_INITIALIZER;
NOINLINE static void cond_wait_rwlock(void)
{
    pthread_mutex_t *m = (pthread_mutex_t *)&cond_rw;
    struct timespec ts = soon();
    rc("timedwait-rwlock", pthread_cond_timedwait(&cv, m, &ts));
    rc("unlock-rwlock-as-mutex", pthread_mutex_unlock(m));
}

/* Signal and broadcast with nobody waiting and no mutex held (tc20): legal (POSIX lets a
 * signaller not hold the mutex; Helgrind calls it "dubious"). Then a waiter signalled by a
 * thread that does not hold its mutex: legal too. */
static void *signal_unlocked(void *arg)
{
    waiter *w = arg;
    pthread_mutex_lock(w->m);
    w->released = 1;
    pthread_mutex_unlock(w->m);
    pthread_cond_signal(w->cv);   /* after the unlock */
    return NULL;
}

NOINLINE static void cond_signal_unlocked(void)
{
    rc("signal", pthread_cond_signal(&cv2));
    rc("broadcast", pthread_cond_broadcast(&cv2));
    waiter a;
    start_waiter(&a, &cv2, &cm1);
    pthread_t t;
    pthread_create(&t, NULL, signal_unlocked, &a);
    pthread_join(t, NULL);
    pthread_join(a.th, NULL);
}

/* Every rwlock unlock Helgrind's tc12 and tc20 try, each on its own lock (glibc does not
 * check: an extra unlock leaves the lock's reader count wrapped, unusable): one initialised
 * and never locked, a write lock unlocked twice, two read locks unlocked three times (three
 * call sites, three findings). */
pthread_rwlock_t rw_un1, rw_un2, rw_un3;
NOINLINE static void rwlock_unlock_cases(void)
{
    rc("init", pthread_rwlock_init(&rw_un1, NULL));
    rc("unlock-never-locked", pthread_rwlock_unlock(&rw_un1));
    rc("init", pthread_rwlock_init(&rw_un2, NULL));
    rc("wrlock", pthread_rwlock_wrlock(&rw_un2));
    rc("unlock", pthread_rwlock_unlock(&rw_un2));
    rc("unlock-again", pthread_rwlock_unlock(&rw_un2));
    rc("init", pthread_rwlock_init(&rw_un3, NULL));
    rc("rdlock", pthread_rwlock_rdlock(&rw_un3));
    rc("rdlock", pthread_rwlock_rdlock(&rw_un3));
    rc("unlock", pthread_rwlock_unlock(&rw_un3));
    rc("unlock", pthread_rwlock_unlock(&rw_un3));
    rc("unlock-third", pthread_rwlock_unlock(&rw_un3));
}

/* A detached thread that ends by pthread_exit holding two locks (tc22's second child). */
pthread_mutex_t dm1 = PTHREAD_MUTEX_INITIALIZER, dm2 = PTHREAD_MUTEX_INITIALIZER;
static pid_t detached_tid;
static void *exit_detached(void *arg)
{
    (void)arg;
    pthread_detach(pthread_self());
    detached_tid = gettid();
    rc("lock", pthread_mutex_lock(&dm1));
    rc("lock", pthread_mutex_lock(&dm2));
    sem_post(&go);
    pthread_exit(NULL);
}

NOINLINE static void exit_locked_detached(void)
{
    pthread_t t;
    pthread_create(&t, NULL, exit_detached, NULL);
    sem_wait(&go);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d", (int)detached_tid);
    while (access(path, F_OK) == 0)   /* until the kernel has the thread gone */
        usleep(1000);
    rc("trylock-dm1", pthread_mutex_trylock(&dm1));   /* EBUSY: glibc left both locked */
    rc("trylock-dm2", pthread_mutex_trylock(&dm2));
}

/* The process ending with locks held (tc20's rwlock, tc04, tc09 end): main returns holding a
 * mutex and a read lock. Not a misuse: the process is gone, nothing can wait for them. */
pthread_rwlock_t end_rw = PTHREAD_RWLOCK_INITIALIZER;
NOINLINE static void main_exits_holding(void)
{
    rc("lock", pthread_mutex_lock(&mu));
    rc("rdlock", pthread_rwlock_rdlock(&end_rw));
}

/* A thread destroys its own locked local mutex (TSan's mutex_destroy_locked2). */
static void *destroy_own_local(void *arg)
{
    (void)arg;
    pthread_mutex_t m;
    pthread_mutex_init(&m, NULL);
    rc("lock", pthread_mutex_lock(&m));
    rc("destroy", pthread_mutex_destroy(&m));   /* EBUSY */
    rc("unlock", pthread_mutex_unlock(&m));
    rc("destroy", pthread_mutex_destroy(&m));
    return NULL;
}

/* tc09 twice: a local mutex locked by this thread and unlocked by a child, the frame returns
 * and the next call's local at the same place is initialised and locked again. Helgrind then
 * reports a re-lock (and "a bug in libpthread"); the only misuse is the child's unlock. */
static void *unlock_it(void *m)
{
    rc("child-unlock", pthread_mutex_unlock(m));
    return NULL;
}

NOINLINE static void unlock_other_round(void)
{
    pthread_mutex_t mx;
    rc("init", pthread_mutex_init(&mx, NULL));
    rc("lock", pthread_mutex_lock(&mx));
    pthread_t t;
    pthread_create(&t, NULL, unlock_it, &mx);
    pthread_join(t, NULL);
}

NOINLINE static void unlock_other_reuse(void)
{
    unlock_other_round();
    unlock_other_round();
}

/* ---- memory holding a held lock freed (destroy-held, site "freed") ----
 * free() asks glibc nothing: the block goes back with the lock taken, and the holder's
 * unlock would write into freed memory (these holders never touch it again). */
typedef struct guarded {
    int before[8];
    pthread_mutex_t m;
    pthread_rwlock_t rw;
    int after[8];
} guarded;
static guarded *g_block;

NOINLINE static void free_held(void)
{
    guarded *g = malloc(sizeof *g);
    rc("init", pthread_mutex_init(&g->m, NULL));
    rc("lock", pthread_mutex_lock(&g->m));
    free(g);                      /* still locked by this thread */
    rc("freed", 0);
}

static void *rdlock_block(void *arg)
{
    (void)arg;
    rc("other-rdlock", pthread_rwlock_rdlock(&g_block->rw));
    sem_post(&go);
    sem_wait(&done);              /* the block is gone now: no unlock */
    return NULL;
}

NOINLINE static void free_other_holds(void)
{
    g_block = malloc(sizeof *g_block);
    rc("init", pthread_rwlock_init(&g_block->rw, NULL));
    pthread_t t;
    pthread_create(&t, NULL, rdlock_block, NULL);
    sem_wait(&go);
    free(g_block);                /* read-held by the other thread */
    sem_post(&done);
    pthread_join(t, NULL);
}

/* Not one: locks unlocked before the free, with and without a destroy; a trylock that
 * failed took nothing. */
NOINLINE static void free_unlocked(void)
{
    for (int i = 0; i < 4; i++) {
        guarded *g = malloc(sizeof *g);
        pthread_mutex_init(&g->m, NULL);
        pthread_rwlock_init(&g->rw, NULL);
        pthread_mutex_lock(&g->m);
        pthread_rwlock_rdlock(&g->rw);
        pthread_rwlock_unlock(&g->rw);
        pthread_mutex_unlock(&g->m);
        if (i & 1) {
            pthread_mutex_destroy(&g->m);
            pthread_rwlock_destroy(&g->rw);
        }
        free(g);
    }
    rc("freed", 0);
}

/* ---- legal look-alikes ---- */

NOINLINE static void recursive_ok(void)
{
    init_kind(&rmu, PTHREAD_MUTEX_RECURSIVE, 0);
    rc("lock", pthread_mutex_lock(&rmu));
    rc("lock-again", pthread_mutex_lock(&rmu));
    rc("unlock", pthread_mutex_unlock(&rmu));
    rc("unlock", pthread_mutex_unlock(&rmu));
    rc("destroy", pthread_mutex_destroy(&rmu));
}

NOINLINE static void destroy_unlocked(void)
{
    pthread_mutex_init(&mu2, NULL);
    rc("lock", pthread_mutex_lock(&mu2));
    rc("unlock", pthread_mutex_unlock(&mu2));
    rc("destroy", pthread_mutex_destroy(&mu2));
    pthread_rwlock_init(&rw, NULL);
    rc("wrlock", pthread_rwlock_wrlock(&rw));
    rc("unlock", pthread_rwlock_unlock(&rw));
    rc("destroy", pthread_rwlock_destroy(&rw));
}

NOINLINE static void trylock_own(void)
{
    rc("lock", pthread_mutex_lock(&mu));
    rc("trylock", pthread_mutex_trylock(&mu));   /* EBUSY: a question, not a misuse */
    rc("unlock", pthread_mutex_unlock(&mu));
    rc("wrlock", pthread_rwlock_wrlock(&rw));
    rc("trywrlock", pthread_rwlock_trywrlock(&rw));
    rc("unlock", pthread_rwlock_unlock(&rw));
}

static int ready;
static void *signaller(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    ready = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

NOINLINE static void cond_ok(void)
{
    pthread_t t;
    pthread_mutex_lock(&mu);
    pthread_create(&t, NULL, signaller, NULL);
    while (!ready)
        rc("wait", pthread_cond_wait(&cv, &mu));
    pthread_mutex_unlock(&mu);
    pthread_join(t, NULL);
}

static void *robust_die(void *arg)
{
    (void)arg;
    rc("robust-lock", pthread_mutex_lock(&robust));
    return NULL;   /* exits holding it: glibc gives the next locker EOWNERDEAD */
}

NOINLINE static void robust_recovery(int by_trylock)
{
    init_kind(&robust, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST);
    run(robust_die, NULL);
    /* by trylock too: TSan's mutex_robust2 */
    int r = by_trylock ? pthread_mutex_trylock(&robust) : pthread_mutex_lock(&robust);
    rc("lock", r);
    if (r == EOWNERDEAD)
        rc("consistent", pthread_mutex_consistent(&robust));
    rc("unlock", pthread_mutex_unlock(&robust));
    rc("destroy", pthread_mutex_destroy(&robust));
}

/* glibc's FUTEX_WAITERS in a robust mutex's lock word: a locker is blocked (or about to
 * block) in the kernel waiting for it. */
#define ROBUST_WAITERS 0x80000000u

static void *robust_hold_until_waited(void *arg)
{
    (void)arg;
    rc("robust-lock", pthread_mutex_lock(&robust));
    sem_post(&go);
    while (!(__atomic_load_n((unsigned *)&robust.__data.__lock, __ATOMIC_ACQUIRE) & ROBUST_WAITERS))
        sched_yield();
    return NULL;   /* exits holding it, its waiter already blocked: glibc wakes it, EOWNERDEAD */
}

/* The holder of a robust mutex exits while another thread waits for it: not an orphaned
 * lock, since glibc hands it to the waiter with EOWNERDEAD (robust_recovery: the same with
 * the holder gone before the lock call). */
NOINLINE static void robust_waiter(void)
{
    pthread_t t;
    init_kind(&robust, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST);
    pthread_create(&t, NULL, robust_hold_until_waited, NULL);
    sem_wait(&go);
    int r = pthread_mutex_lock(&robust);
    rc("lock", r);
    if (r == EOWNERDEAD)
        rc("consistent", pthread_mutex_consistent(&robust));
    rc("unlock", pthread_mutex_unlock(&robust));
    pthread_join(t, NULL);
    rc("destroy", pthread_mutex_destroy(&robust));
}

static void unlock_cleanup(void *m)
{
    pthread_mutex_unlock(m);
}

static void *cancel_me(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    pthread_cleanup_push(unlock_cleanup, &mu);
    sem_post(&go);
    for (;;)
        pause();   /* a cancellation point */
    pthread_cleanup_pop(1);
    return NULL;
}

NOINLINE static void cancel_cleanup(void)
{
    pthread_t t;
    pthread_create(&t, NULL, cancel_me, NULL);
    sem_wait(&go);
    pthread_cancel(t);
    void *res;
    pthread_join(t, &res);
    printf("cancelled %d\n", res == PTHREAD_CANCELED);
    rc("lock-after", pthread_mutex_lock(&mu));
    rc("unlock", pthread_mutex_unlock(&mu));
}

/* std::lock's back-off, in C: take the first, try the second, on failure drop the first and
 * start from the second. Every unlock is of a lock the same thread holds. */
static void *hold_mu2(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu2);
    sem_post(&go);
    sem_wait(&done);
    pthread_mutex_unlock(&mu2);
    return NULL;
}

NOINLINE static void lock_backoff(void)
{
    pthread_t t;
    pthread_create(&t, NULL, hold_mu2, NULL);
    sem_wait(&go);
    pthread_mutex_lock(&mu);
    rc("trylock", pthread_mutex_trylock(&mu2));   /* EBUSY */
    pthread_mutex_unlock(&mu);
    sem_post(&done);
    pthread_mutex_lock(&mu2);
    rc("trylock", pthread_mutex_trylock(&mu));
    pthread_mutex_unlock(&mu);
    pthread_mutex_unlock(&mu2);
    pthread_join(t, NULL);
}

/* A binary semaphore used as a lock: taken in one thread, given back by another (legal:
 * a semaphore has no owner). */
static sem_t semlock;
static void *sem_give(void *arg)
{
    (void)arg;
    sem_wait(&go);
    sem_post(&semlock);
    return NULL;
}

NOINLINE static void sem_handoff(void)
{
    sem_init(&semlock, 0, 1);
    pthread_t t;
    pthread_create(&t, NULL, sem_give, NULL);
    sem_wait(&semlock);
    sem_post(&go);
    sem_wait(&semlock);   /* given back by the other thread */
    sem_post(&semlock);
    pthread_join(t, NULL);
    rc("done", 0);
}

NOINLINE static void local_lock_use(int i)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    printf("local %d\n", i);
    pthread_mutex_unlock(&m);
}

NOINLINE static void heap_stack_reuse(void)
{
    for (int i = 0; i < 4; i++) {
        pthread_mutex_t *m = malloc(sizeof *m);
        pthread_mutex_init(m, NULL);
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
        pthread_mutex_destroy(m);
        free(m);
        m = malloc(sizeof *m);   /* most likely the same address */
        *m = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
        free(m);
        local_lock_use(i);
    }
    rc("done", 0);
}

/* A destroyed mutex made new again: by pthread_mutex_init, or by an assignment of the
 * static initialiser (the runtime sees no call; glibc's state is new all the same), and a
 * local mutex destroyed at the end of each loop turn and initialised by its declaration at
 * the start of the next: the same stack slot, the same frame. */
NOINLINE static void destroy_reinit(void)
{
    pthread_mutex_init(&gone_mu, NULL);
    pthread_mutex_destroy(&gone_mu);
    rc("init-again", pthread_mutex_init(&gone_mu, NULL));
    rc("lock", pthread_mutex_lock(&gone_mu));
    rc("unlock", pthread_mutex_unlock(&gone_mu));
    rc("destroy", pthread_mutex_destroy(&gone_mu));
    gone_mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    rc("lock", pthread_mutex_lock(&gone_mu));
    rc("trylock", pthread_mutex_trylock(&gone_mu));
    rc("unlock", pthread_mutex_unlock(&gone_mu));
    for (int i = 0; i < 4; i++) {
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        rc("local-lock", pthread_mutex_lock(&m));
        rc("local-unlock", pthread_mutex_unlock(&m));
        rc("local-destroy", pthread_mutex_destroy(&m));
    }
}

/* Inits of a lock that is not held: twice in a row; after a static initialiser; over a
 * heap mutex freed while its holder still had it locked (the memory is a new lock). */
NOINLINE static void reinit_free(void)
{
    rc("init", pthread_mutex_init(&live_mu, NULL));
    rc("init-again", pthread_mutex_init(&live_mu, NULL));
    rc("lock", pthread_mutex_lock(&mu));
    rc("unlock", pthread_mutex_unlock(&mu));
    rc("init-static", pthread_mutex_init(&mu, NULL));
    for (int i = 0; i < 4; i++) {
        pthread_mutex_t *m = malloc(sizeof *m);
        pthread_mutex_init(m, NULL);
        pthread_mutex_lock(m);
        free(m);                     /* still locked: its memory is gone all the same */
        m = malloc(sizeof *m);       /* most likely the same address */
        rc("init-reused", pthread_mutex_init(m, NULL));
        rc("lock", pthread_mutex_lock(m));
        rc("unlock", pthread_mutex_unlock(m));
        pthread_mutex_destroy(m);
        free(m);
    }
}

static void prepare(void) { pthread_mutex_lock(&mu); }
static void parent(void) { pthread_mutex_unlock(&mu); }
static void child(void) { pthread_mutex_unlock(&mu); }

NOINLINE static void fork_locks(void)
{
    pthread_atfork(prepare, parent, child);
    pid_t p = fork();
    if (p == 0) {
        pthread_mutex_lock(&mu);
        pthread_mutex_unlock(&mu);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    rc("child", WIFEXITED(st) ? WEXITSTATUS(st) : 128);
    pthread_mutex_lock(&mu);
    pthread_mutex_unlock(&mu);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    sem_init(&go, 0, 0);
    sem_init(&done, 0, 0);
    sem_init(&in_wait, 0, 0);
    const char *c = argv[1];
    if (!strcmp(c, "double-unlock")) double_unlock();
    else if (!strcmp(c, "unlock-never-locked")) unlock_never_locked();
    else if (!strcmp(c, "errorcheck-double-unlock")) errorcheck_double_unlock();
    else if (!strcmp(c, "recursive-over-unlock")) recursive_over_unlock();
    else if (!strcmp(c, "rwlock-double-unlock")) rwlock_double_unlock();
    else if (!strcmp(c, "spin-double-unlock")) spin_double_unlock();
    else if (!strcmp(c, "unlock-other-thread")) unlock_other_thread(&mu);
    else if (!strcmp(c, "errorcheck-unlock-other-thread")) {
        init_kind(&emu, PTHREAD_MUTEX_ERRORCHECK, 0);
        unlock_other_thread(&emu);
    }
    else if (!strcmp(c, "rwlock-unlock-other-reader")) rwlock_unlock_other_reader();
    else if (!strcmp(c, "destroy-locked")) destroy_locked();
    else if (!strcmp(c, "destroy-rwlock-held")) destroy_rwlock_held_by_other();
    else if (!strcmp(c, "exit-locked")) run(exit_locked, NULL);
    else if (!strcmp(c, "errorcheck-relock")) errorcheck_relock();
    else if (!strcmp(c, "rwlock-wrlock-twice")) rwlock_wrlock_twice();
    else if (!strcmp(c, "cond-wait-unlocked")) cond_wait_unlocked(&mu);
    else if (!strcmp(c, "cond-wait-other-holds")) {
        init_kind(&emu, PTHREAD_MUTEX_ERRORCHECK, 0);
        cond_wait_other_holds(&emu);
    }
    else if (!strcmp(c, "cond-wait-other-holds-normal")) cond_wait_other_holds(&mu);
    else if (!strcmp(c, "cond-wait-unlocked-errorcheck")) {
        init_kind(&emu, PTHREAD_MUTEX_ERRORCHECK, 0);
        cond_wait_unlocked(&emu);
    }
    else if (!strcmp(c, "destroy-then-lock")) destroy_then_lock();
    else if (!strcmp(c, "destroy-twice")) destroy_twice();
    else if (!strcmp(c, "destroy-free-lock")) destroy_free_lock();
    else if (!strcmp(c, "cond-wait-destroyed")) cond_wait_destroyed();
    else if (!strcmp(c, "cond-two-mutexes")) cond_two_mutexes();
    else if (!strcmp(c, "cnd-two-mutexes")) cnd_two_mutexes();
    else if (!strcmp(c, "cond-many")) cond_many();
    else if (!strcmp(c, "cond-reuse-other-mutex")) cond_reuse_other_mutex();
    else if (!strcmp(c, "cond-two-condvars")) cond_two_condvars();
    else if (!strcmp(c, "cond-timeout-other-mutex")) cond_timeout_other_mutex();
    else if (!strcmp(c, "cond-cancel-other-mutex")) cond_cancel_other_mutex();
    else if (!strcmp(c, "cond-signal-other-mutex")) cond_signal_other_mutex();
    else if (!strcmp(c, "cond-jumped-out")) cond_jumped_out();
    else if (!strcmp(c, "cond-jumped-rewait")) cond_jumped_rewait(0);
    else if (!strcmp(c, "cond-jumped-rewait-overlap")) cond_jumped_rewait(1);
    else if (!strcmp(c, "mtx-after-destroy")) mtx_after_destroy();
    else if (!strcmp(c, "destroy-reinit")) destroy_reinit();
    else if (!strcmp(c, "reinit-held")) reinit_held();
    else if (!strcmp(c, "reinit-other-holds")) reinit_other_holds();
    else if (!strcmp(c, "reinit-free")) reinit_free();
    else if (!strcmp(c, "free-held")) free_held();
    else if (!strcmp(c, "cond-wait-bogus-mutex")) cond_wait_bogus_mutex();
    else if (!strcmp(c, "cond-wait-rwlock")) cond_wait_rwlock();
    else if (!strcmp(c, "cond-signal-unlocked")) cond_signal_unlocked();
    else if (!strcmp(c, "rwlock-unlock-cases")) rwlock_unlock_cases();
    else if (!strcmp(c, "exit-locked-detached")) exit_locked_detached();
    else if (!strcmp(c, "main-exits-holding")) main_exits_holding();
    else if (!strcmp(c, "destroy-locked-in-thread")) run(destroy_own_local, NULL);
    else if (!strcmp(c, "unlock-other-reuse")) unlock_other_reuse();
    else if (!strcmp(c, "free-other-holds")) free_other_holds();
    else if (!strcmp(c, "free-unlocked")) free_unlocked();
    else if (!strcmp(c, "recursive-ok")) recursive_ok();
    else if (!strcmp(c, "destroy-unlocked")) destroy_unlocked();
    else if (!strcmp(c, "trylock-own")) trylock_own();
    else if (!strcmp(c, "cond-ok")) cond_ok();
    else if (!strcmp(c, "robust-recovery")) robust_recovery(0);
    else if (!strcmp(c, "robust-recovery-trylock")) robust_recovery(1);
    else if (!strcmp(c, "robust-waiter")) robust_waiter();
    else if (!strcmp(c, "cancel-cleanup")) cancel_cleanup();
    else if (!strcmp(c, "lock-backoff")) lock_backoff();
    else if (!strcmp(c, "sem-handoff")) sem_handoff();
    else if (!strcmp(c, "heap-stack-reuse")) heap_stack_reuse();
    else if (!strcmp(c, "fork")) fork_locks();
    else return 2;
    printf("done %s\n", c);
    return 0;
}
