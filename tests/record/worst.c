/* worst.c - a program whose worst lock is known by construction, for the order of
 * `lockgraph report`'s summary and tables (issue 18).
 *
 * `hot_lock` is waited for twice, each time for at least 300 ms and at least as long as all
 * of warm_lock's waits together (as the waiter measured them around its lock calls, which
 * contain the waits the runtime records): its holder keeps it until it sees the waiter queued
 * on it (glibc's lock word says so: 2), then that long more. `warm_lock` is waited for three
 * times (more waits than hot_lock) but released as soon as the waiter is queued, so however
 * loaded the machine, hot_lock's longest wait and total are the larger. `filler[]` and `cold_lock` are taken without contention: more locks than the
 * report's default 20 rows. So by total wait: hot_lock, then warm_lock, then the rest.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>

#define NFILL 30
static pthread_mutex_t hot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t warm_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t filler[NFILL];
static sem_t go, done;
static pthread_mutex_t *target;
static long warm_ms;   /* the waiter's warm_lock waits, together (ms, rounded up) */

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *waiter(void *arg)
{
    (void)arg;
    for (;;) {
        sem_wait(&go);
        pthread_mutex_t *m = target;
        if (!m)
            return NULL;
        long t0 = now_ns();
        pthread_mutex_lock(m);
        if (m == &warm_lock)   /* read by main after sem_wait(&done): ordered by it */
            warm_ms += (now_ns() - t0) / 1000000 + 1;
        pthread_mutex_unlock(m);
        sem_post(&done);
    }
}

/* Hold m until the waiter is queued on it, then `extra` ms more. */
static void contend(pthread_mutex_t *m, long extra)
{
    pthread_mutex_lock(m);
    target = m;
    sem_post(&go);
    while (__atomic_load_n(&m->__data.__lock, __ATOMIC_ACQUIRE) != 2)
        nap(1);
    if (extra)
        nap(extra);
    pthread_mutex_unlock(m);
    sem_wait(&done);
}

int main(void)
{
    sem_init(&go, 0, 0);
    sem_init(&done, 0, 0);
    for (int i = 0; i < NFILL; i++)
        pthread_mutex_init(&filler[i], NULL);
    pthread_t w;
    pthread_create(&w, NULL, waiter, NULL);
    for (int i = 0; i < 3; i++)
        contend(&warm_lock, 0);
    for (int i = 0; i < 2; i++)
        contend(&hot_lock, warm_ms > 300 ? warm_ms : 300);
    for (int i = 0; i < NFILL; i++) {
        pthread_mutex_lock(&filler[i]);
        pthread_mutex_unlock(&filler[i]);
    }
    pthread_mutex_lock(&cold_lock);
    pthread_mutex_unlock(&cold_lock);
    target = NULL;
    sem_post(&go);
    pthread_join(w, NULL);
    printf("done\n");
    return 0;
}
