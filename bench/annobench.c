/* annobench.c THREADS PAIRS - the cost of an annotated lock (lockgraph.h's lg_mutex_*): each
 * thread takes and releases its own test-and-set spinlock PAIRS times (uncontended), best of
 * three rounds; then the same with a pthread mutex for comparison. Prints
 * "annotated NS pthread NS" (ns per lock/unlock pair). */
#include <lockgraph/lockgraph.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAXT 8
static atomic_int spins[MAXT * 16];   /* one cache line each */
static pthread_mutex_t mutexes[MAXT];
static long pairs;
static int use_pthread;

static void *loop(void *arg)
{
    long k = (long)arg;
    atomic_int *l = &spins[k * 16];
    for (long i = 0; i < pairs; i++) {
        if (use_pthread) {
            pthread_mutex_lock(&mutexes[k]);
            pthread_mutex_unlock(&mutexes[k]);
            continue;
        }
        lg_mutex_pre_lock(l, 0);
        while (atomic_exchange_explicit(l, 1, memory_order_acquire))
            ;
        lg_mutex_post_lock(l, 0);
        lg_mutex_pre_unlock(l, 0);
        atomic_store_explicit(l, 0, memory_order_release);
        lg_mutex_post_unlock(l, 0);
    }
    return NULL;
}

static double round_ns(int n)
{
    struct timespec a, b;
    pthread_t t[MAXT];
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        pthread_create(&t[i], NULL, loop, (void *)i);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / ((double)n * pairs);
}

static double best(int n)
{
    double b = 1e30;
    for (int r = 0; r < 3; r++) {
        double x = round_ns(n);
        b = x < b ? x : b;
    }
    return b;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    pairs = argc > 2 ? atol(argv[2]) : 1000000;
    if (n < 1 || n > MAXT || pairs < 1) {
        fprintf(stderr, "usage: annobench THREADS(1-%d) PAIRS\n", MAXT);
        return 2;
    }
    for (int i = 0; i < MAXT; i++)
        pthread_mutex_init(&mutexes[i], NULL);
    double a = best(n);
    use_pthread = 1;
    double p = best(n);
    printf("annotated %.1f pthread %.1f\n", a, p);
    return 0;
}
