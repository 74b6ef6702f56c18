/* serverbench.c - a server-like lock load for bench/record-bench.sh: what `lockgraph record`
 * writes per second of a busy multi-threaded program.
 *   serverbench THREADS LOCKS SECONDS
 * Each thread serves "requests" for SECONDS: a request takes one of LOCKS per-object mutexes
 * (uniformly at random: nearly never contended), and every 16th request also one of 4 shared
 * mutexes (a cache, a stats block: some contention) nested inside it, or a reader lock on a
 * shared table; a little work under each. Prints requests per second and lock pairs per
 * second on one line, then requests per CPU second of the serving threads (their own CPU
 * clocks: what a shared, loaded machine distorts least).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t *objects;
static pthread_mutex_t shared[4] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
static pthread_rwlock_t table = PTHREAD_RWLOCK_INITIALIZER;
static long nlocks;
static double seconds;
static volatile uint64_t sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void work(uint64_t *x, int n)
{
    for (int i = 0; i < n; i++)
        *x = *x * 6364136223846793005ull + 1442695040888963407ull;
}

typedef struct result { long requests, pairs; double cpu; } result;

static void *serve(void *arg)
{
    result *r = arg;
    uint64_t x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull | 1;
    double c0 = cpu_now(), end = now() + seconds;
    long req = 0, pairs = 0;
    while ((req & 255) || now() < end) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        pthread_mutex_t *o = &objects[x % (uint64_t)nlocks];
        pthread_mutex_lock(o);
        work(&x, 20);
        pairs++;
        if ((req & 15) == 0) {
            if (x & 64) {
                pthread_mutex_t *s = &shared[(x >> 8) & 3];
                pthread_mutex_lock(s);
                work(&x, 40);
                pthread_mutex_unlock(s);
            } else {
                pthread_rwlock_rdlock(&table);
                work(&x, 10);
                pthread_rwlock_unlock(&table);
            }
            pairs++;
        }
        pthread_mutex_unlock(o);
        req++;
    }
    sink += x;
    r->requests = req;
    r->pairs = pairs;
    r->cpu = cpu_now() - c0;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: serverbench THREADS LOCKS SECONDS\n");
        return 2;
    }
    int nt = atoi(argv[1]);
    nlocks = atol(argv[2]);
    seconds = atof(argv[3]);
    if (nt < 1 || nt > 256 || nlocks < 1 || !(seconds > 0))
        return 2;
    objects = calloc((size_t)nlocks, sizeof *objects);
    for (long i = 0; objects && i < nlocks; i++)
        pthread_mutex_init(&objects[i], NULL);
    pthread_t th[256];
    result res[256];
    double t0 = now();
    for (int i = 0; i < nt; i++)
        pthread_create(&th[i], NULL, serve, &res[i]);
    long req = 0, pairs = 0;
    double cpu = 0;
    for (int i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
        req += res[i].requests;
        pairs += res[i].pairs;
        cpu += res[i].cpu;
    }
    double dt = now() - t0;
    printf("%.0f %.0f %.0f\n", req / dt, pairs / dt, cpu > 0 ? req / cpu : 0);
    return 0;
}
