/* contention.c - a real multi-threaded program that records itself with the trace writer,
 * exactly as the preloaded runtime will: its own lock wrappers try the lock, emit ACQUIRE or
 * WAIT_BEGIN(owner)/WAIT_END, emit RELEASE before unlocking, and wrap condition waits. It keeps
 * its OWN counters (atomics) and prints them as JSON, so a test can check that the recorded
 * trace, read back and analysed by `lockgraph report`, counts exactly the same.
 *
 * usage: contention counts THREADS ITERATIONS   print {"locks": [...]} with true counts
 *        contention demo                         the write-up's creation/move threads
 *        contention deadlock                     two threads deadlock; a watchdog flushes
 *                                                the trace and exits 66
 *        contention fork                         a child locks after fork (must not record)
 * Recording happens when LOCKGRAPH_TRACE=FILE is set (lg_trace_open_env).
 */
#include <execinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trace/trace.h"

typedef struct lk {
    pthread_mutex_t m;
    uint32_t id;
    const char *name;
    atomic_int owner;
    atomic_long acquisitions, contended;
} lk;

static int gettid_(void) { return (int)syscall(SYS_gettid); }

/* The caller's stack, from its return address outwards (as the runtime will capture it). */
static __attribute__((noinline)) uint32_t here(void)
{
    if (!lg_trace_on)
        return 0;
    void *buf[32], *ret = __builtin_return_address(0);
    int n = backtrace(buf, 32), i = 0;
    while (i < n && buf[i] != ret)
        i++;
    if (i == n)
        i = 0;
    uint64_t pcs[32];
    size_t k = 0;
    for (; i < n; i++)
        pcs[k++] = (uint64_t)(uintptr_t)buf[i];
    return lg_trace_intern_stack(pcs, k);
}

static void lk_init(lk *l, uint32_t id, const char *name)
{
    pthread_mutex_init(&l->m, NULL);
    l->id = id;
    l->name = name;
    if (lg_trace_on)
        lg_trace_lock(id, (uint64_t)(uintptr_t)&l->m, LG_LOCK_MUTEX, name);
}

static __attribute__((noinline)) void lk_lock(lk *l)
{
    uint32_t st = here();
    if (pthread_mutex_trylock(&l->m) == 0) {
        if (lg_trace_on)
            lg_trace_emit(LG_EV_ACQUIRE, l->id, LG_MODE_EXCLUSIVE, 0, st);
    } else {
        if (lg_trace_on)
            lg_trace_emit(LG_EV_WAIT_BEGIN, l->id, LG_MODE_EXCLUSIVE,
                          (uint32_t)atomic_load(&l->owner), st);
        pthread_mutex_lock(&l->m);
        if (lg_trace_on)
            lg_trace_emit(LG_EV_WAIT_END, l->id, LG_MODE_EXCLUSIVE, 0, st);
        atomic_fetch_add(&l->contended, 1);
    }
    atomic_fetch_add(&l->acquisitions, 1);
    atomic_store(&l->owner, gettid_());
}

static __attribute__((noinline)) void lk_unlock(lk *l)
{
    atomic_store(&l->owner, 0);
    if (lg_trace_on)   /* before the unlock: the release precedes the waiter's wake-up */
        lg_trace_emit(LG_EV_RELEASE, l->id, LG_MODE_EXCLUSIVE, 0, here());
    pthread_mutex_unlock(&l->m);
}

static void cond_wait(pthread_cond_t *c, uint32_t cid, lk *l)
{
    uint32_t st = here();
    atomic_store(&l->owner, 0);
    if (lg_trace_on)
        lg_trace_emit(LG_EV_COND_WAIT_BEGIN, cid, LG_MODE_EXCLUSIVE, l->id, st);
    pthread_cond_wait(c, &l->m);
    if (lg_trace_on)
        lg_trace_emit(LG_EV_COND_WAIT_END, cid, LG_MODE_EXCLUSIVE, l->id, st);
    atomic_store(&l->owner, gettid_());
}

/* Thread start and end, as the runtime's pthread_create trampoline records them. */
static void name_thread(const char *name)
{
    pthread_setname_np(pthread_self(), name);
    if (lg_trace_on) {
        lg_trace_thread(gettid_(), name);
        lg_trace_emit(LG_EV_THREAD_START, 0, LG_MODE_EXCLUSIVE, (uint32_t)getpid(), here());
    }
}

static void *thread_done(void)
{
    if (lg_trace_on)
        lg_trace_emit(LG_EV_THREAD_EXIT, 0, LG_MODE_EXCLUSIVE, 0, 0);
    return NULL;
}

/* ---- counts: a hot lock, a per-thread lock taken overlapping the hot one, a handoff ---- */

#define MAXT 16
static lk hot, priv[MAXT], q;
static pthread_cond_t qc = PTHREAD_COND_INITIALIZER;
static int qn, iters;
static long shared_counter;

static void *worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    char name[24];
    snprintf(name, sizeof name, "worker-%d", me);
    name_thread(name);
    for (int i = 0; i < iters; i++) {
        if (i % 3 == 0) {
            /* overlapping, not nested: hot, priv, unlock hot, unlock priv */
            lk_lock(&hot);
            lk_lock(&priv[me]);
            shared_counter++;
            lk_unlock(&hot);
            lk_unlock(&priv[me]);
        } else {
            lk_lock(&hot);
            shared_counter++;
            lk_unlock(&hot);
        }
        if (i % 1000 == 0) {
            lk_lock(&q);
            qn++;
            pthread_cond_broadcast(&qc);
            lk_unlock(&q);
        }
    }
    return thread_done();
}

static void *consumer(void *arg)
{
    int want = (int)(intptr_t)arg;
    name_thread("consumer");
    lk_lock(&q);
    while (qn < want)
        cond_wait(&qc, 1000, &q);
    lk_unlock(&q);
    return thread_done();
}

static void print_lock(const lk *l, int last)
{
    printf("    {\"id\": %u, \"name\": \"%s\", \"acquisitions\": %ld, \"contended\": %ld}%s\n",
           l->id, l->name, atomic_load(&l->acquisitions), atomic_load(&l->contended),
           last ? "" : ",");
}

static int counts(int nt, int n)
{
    if (nt < 1 || nt > MAXT)
        return 2;
    iters = n;
    lk_init(&hot, 1, "hot");
    lk_init(&q, 2, "queue");
    if (lg_trace_on)
        lg_trace_lock(1000, (uint64_t)(uintptr_t)&qc, LG_LOCK_CONDVAR, "nonempty");
    static char names[MAXT][24];
    for (int i = 0; i < nt; i++) {
        snprintf(names[i], sizeof names[i], "private-%d", i);
        lk_init(&priv[i], 10 + (uint32_t)i, names[i]);
    }
    pthread_t th[MAXT], cons;
    int want = nt * ((n + 999) / 1000);
    pthread_create(&cons, NULL, consumer, (void *)(intptr_t)want);
    for (int i = 0; i < nt; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < nt; i++)
        pthread_join(th[i], NULL);
    pthread_join(cons, NULL);
    printf("{\"shared_counter\": %ld, \"locks\": [\n", shared_counter);
    print_lock(&hot, 0);
    print_lock(&q, 0);
    for (int i = 0; i < nt; i++)
        print_lock(&priv[i], i == nt - 1);
    printf("]}\n");
    return 0;
}

/* ---- demo: the creation thread holds resource 1 for its whole run; the move thread waits */

static lk resource1, resource2;
static atomic_int creation_started, move_waiting;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* A thread waits in glibc for this (normal) mutex: its lock word is 2. */
static int queued(lk *l)
{
    return __atomic_load_n(&l->m.__data.__lock, __ATOMIC_ACQUIRE) == 2;
}

static __attribute__((noinline)) void *creation_thread(void *arg)
{
    (void)arg;
    name_thread("creation");
    lk_lock(&resource1);
    atomic_store(&creation_started, 1);
    /* the whole run, holding resource 1: until the move thread is queued on it in glibc
     * (a normal mutex's lock word is 2 once a waiter is queued: glibc-locks.md), so its
     * WAIT_BEGIN is out and its wait ends by this release, however loaded the machine is */
    while (!atomic_load(&move_waiting) || !queued(&resource1))
        sleep_ms(1);
    lk_unlock(&resource1);
    return thread_done();
}

static __attribute__((noinline)) void *move_thread(void *arg)
{
    (void)arg;
    name_thread("move");
    while (!atomic_load(&creation_started))
        sleep_ms(1);
    lk_lock(&resource2);
    atomic_store(&move_waiting, 1);
    lk_lock(&resource1);        /* waits for the creation thread's whole run */
    lk_unlock(&resource1);
    lk_unlock(&resource2);
    return thread_done();
}

static int demo(void)
{
    lk_init(&resource1, 1, "resource1");
    lk_init(&resource2, 2, "resource2");
    pthread_t a, b;
    pthread_create(&a, NULL, creation_thread, NULL);
    pthread_create(&b, NULL, move_thread, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}

/* ---- deadlock: A takes 1 then 2, B takes 2 then 1 ---- */

static pthread_barrier_t bar;

static void *dl_a(void *arg)
{
    (void)arg;
    name_thread("dl-a");
    lk_lock(&resource1);
    pthread_barrier_wait(&bar);
    lk_lock(&resource2);
    return NULL;
}

static void *dl_b(void *arg)
{
    (void)arg;
    name_thread("dl-b");
    lk_lock(&resource2);
    pthread_barrier_wait(&bar);
    lk_lock(&resource1);
    return NULL;
}

static int deadlock(void)
{
    lk_init(&resource1, 1, "resource1");
    lk_init(&resource2, 2, "resource2");
    pthread_barrier_init(&bar, NULL, 2);
    pthread_t a, b;
    pthread_create(&a, NULL, dl_a, NULL);
    pthread_create(&b, NULL, dl_b, NULL);
    /* until both wait in glibc (so both WAIT_BEGINs are out): the deadlock is closed */
    while (!queued(&resource1) || !queued(&resource2))
        sleep_ms(1);
    /* what the runtime's deadlock handler does before it reports and exits */
    lg_trace_flush_all();
    fprintf(stderr, "contention: deadlocked as planned\n");
    _exit(66);
}

static int forked(void)
{
    lk_init(&resource1, 1, "resource1");
    lk_lock(&resource1);
    lk_unlock(&resource1);
    pid_t p = fork();
    if (p == 0) {
        for (int i = 0; i < 5000; i++) {
            lk_lock(&resource1);
            lk_unlock(&resource1);
        }
        exit(0);
    }
    int st = 0;
    waitpid(p, &st, 0);
    lk_lock(&resource1);
    lk_unlock(&resource1);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv)
{
    char err[256];
    if (lg_trace_open_env(err, sizeof err) < 0) {
        fprintf(stderr, "contention: %s\n", err);
        return 1;
    }
    if (lg_trace_on)
        lg_trace_thread(gettid_(), "main");
    if (argc == 4 && strcmp(argv[1], "counts") == 0)
        return counts(atoi(argv[2]), atoi(argv[3]));
    if (argc == 2 && strcmp(argv[1], "demo") == 0)
        return demo();
    if (argc == 2 && strcmp(argv[1], "deadlock") == 0)
        return deadlock();
    if (argc == 2 && strcmp(argv[1], "fork") == 0)
        return forked();
    fprintf(stderr, "usage: contention counts THREADS ITERATIONS | demo | deadlock | fork\n");
    return 2;
}
