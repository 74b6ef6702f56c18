/* stress.c - many threads, random lock sets always taken in one global order (ascending
 * index), mutexes and rwlocks in both modes, with real contention: it can never deadlock, so
 * the runtime must report nothing (no inversion, no live deadlock).
 *   stress THREADS ITERATIONS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NLOCKS 8
static pthread_mutex_t mutexes[NLOCKS];
static pthread_rwlock_t rwlocks[NLOCKS];
static long iterations;
static volatile long shared_counter;

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(long)arg * 2654435761u;
    for (long it = 0; it < iterations; it++) {
        int kind[NLOCKS * 2];
        int n = 0;
        for (int i = 0; i < NLOCKS * 2; i++) {
            if (rand_r(&seed) % 3)
                continue;
            int k = i % 2 ? (rand_r(&seed) % 2 ? 1 : 2) : 0;  /* 0 mutex, 1 read, 2 write */
            kind[n] = i << 2 | k;
            n++;
            if (k == 0)
                pthread_mutex_lock(&mutexes[i / 2]);
            else if (k == 1)
                pthread_rwlock_rdlock(&rwlocks[i / 2]);
            else
                pthread_rwlock_wrlock(&rwlocks[i / 2]);
        }
        shared_counter++;
        while (n-- > 0) {
            int i = kind[n] >> 2, k = kind[n] & 3;
            if (k == 0)
                pthread_mutex_unlock(&mutexes[i / 2]);
            else
                pthread_rwlock_unlock(&rwlocks[i / 2]);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int nthreads = argc > 1 ? atoi(argv[1]) : 16;
    iterations = argc > 2 ? atol(argv[2]) : 20000;
    for (int i = 0; i < NLOCKS; i++) {
        pthread_mutex_init(&mutexes[i], NULL);
        pthread_rwlock_init(&rwlocks[i], NULL);
    }
    pthread_t *t = calloc((size_t)nthreads, sizeof *t);
    for (long i = 0; i < nthreads; i++)
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    printf("stress done\n");
    free(t);
    return 0;
}
