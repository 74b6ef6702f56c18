/* waitbench.c - what a lock call that really waits costs: ns per forced wait.
 *   waitbench MODE [ITERS]
 * Prints two figures: wall ns per wait, and CPU ns (all threads) per wait.
 * MODE: mutex (a thread blocks in pthread_mutex_lock on a mutex another holds),
 * rwlock (a thread blocks in pthread_rwlock_wrlock on a write-held rwlock), cond (two threads
 * ping-pong through one condition variable: every pthread_cond_wait blocks).
 *
 * Every iteration forces exactly one blocking wait by the program's own state, not by timing:
 * the holder releases only once glibc's lock word says a waiter is queued (a mutex's __lock
 * is 2 once a waiter is about to sleep; an rwlock's __writers_futex is 1|FUTEX_USED), so the
 * figure is the whole slow path: the runtime's wait bookkeeping and live-deadlock check, glibc's
 * queue, the futex sleep and the wake-up. Run bare and under the runtime in the same run
 * (bench/run.sh): the difference per wait is the runtime's cost of a wait.
 */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t go, done;
static long iters = 20000;
static int turn;

/* CPU time of the whole process (every thread), ns: the work a wait costs, which a loaded
 * machine's scheduling delays do not inflate the way they do wall time. */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9
           + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Until glibc's word says someone is queued on it. The yield leaves the CPU to the waiter on a
 * loaded machine; it does not make the wait any less certain. */
static void until_queued(const int *word, int value)
{
    while (atomic_load_explicit((const _Atomic int *)word, memory_order_acquire) != value)
        sched_yield();
}

static void *mutex_waiter(void *p)
{
    (void)p;
    for (long i = 0; i < iters; i++) {
        sem_wait(&go);
        pthread_mutex_lock(&m);   /* blocks: the main thread holds it */
        pthread_mutex_unlock(&m);
        sem_post(&done);
    }
    return NULL;
}

static void *rwlock_waiter(void *p)
{
    (void)p;
    for (long i = 0; i < iters; i++) {
        sem_wait(&go);
        pthread_rwlock_wrlock(&rw);   /* blocks: the main thread write-holds it */
        pthread_rwlock_unlock(&rw);
        sem_post(&done);
    }
    return NULL;
}

static void *cond_player(void *p)
{
    int me = (int)(long)p;
    pthread_mutex_lock(&m);
    for (long i = 0; i < iters; i++) {
        while (turn != me)
            pthread_cond_wait(&cv, &m);
        turn = !me;
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: waitbench mutex|rwlock|cond [ITERS]\n");
        return 2;
    }
    if (argc > 2)
        iters = atol(argv[2]);
    sem_init(&go, 0, 0);
    sem_init(&done, 0, 0);
    pthread_t t, u;
    double t0 = now(), c0 = cpu();
    if (!strcmp(argv[1], "mutex")) {
        pthread_create(&t, NULL, mutex_waiter, NULL);
        for (long i = 0; i < iters; i++) {
            pthread_mutex_lock(&m);
            sem_post(&go);
            until_queued(&m.__data.__lock, 2);
            pthread_mutex_unlock(&m);
            sem_wait(&done);
        }
        pthread_join(t, NULL);
    } else if (!strcmp(argv[1], "rwlock")) {
        pthread_create(&t, NULL, rwlock_waiter, NULL);
        for (long i = 0; i < iters; i++) {
            pthread_rwlock_wrlock(&rw);
            sem_post(&go);
            until_queued((const int *)&rw.__data.__writers_futex, 3);
            pthread_rwlock_unlock(&rw);
            sem_wait(&done);
        }
        pthread_join(t, NULL);
    } else if (!strcmp(argv[1], "cond")) {
        pthread_create(&t, NULL, cond_player, (void *)0L);
        pthread_create(&u, NULL, cond_player, (void *)1L);
        pthread_join(t, NULL);
        pthread_join(u, NULL);
        iters *= 2;   /* each round has two waits, one per player */
    } else {
        fprintf(stderr, "waitbench: unknown mode %s\n", argv[1]);
        return 2;
    }
    printf("%.0f %.0f\n", (now() - t0) / iters, (cpu() - c0) / iters);
    return 0;
}
