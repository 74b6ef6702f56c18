/* lockbench.c - cost of lock+unlock pairs, printed as ns per pair.
 *   lockbench MODE [SCALE]
 * MODE: 1t (one thread, depth 1), 2t (two threads, each its own lock, depth 1), d2, d8
 * (nested depth 2 and 8: a pair is one lock+unlock), 1m (one million distinct locks, steady
 * state after a first pass), c2 c4 c8 (N threads contending for one lock), clock (one read of
 * the trace clock, not a lock).
 * SCALE divides the iteration counts (for Helgrind). Uncontended modes report the best of 5
 * runs so one descheduling on a shared machine does not count.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trace/trace.h"   /* lg_trace_tick: the clock `lockgraph record` reads */

static long scale = 1;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static pthread_mutex_t locks[8];

static double nested(int depth, long iters)
{
    double t0 = now();
    for (long i = 0; i < iters; i++) {
        for (int d = 0; d < depth; d++)
            pthread_mutex_lock(&locks[d]);
        for (int d = depth; d-- > 0;)
            pthread_mutex_unlock(&locks[d]);
    }
    return (now() - t0) / ((double)iters * depth);
}

typedef struct arg {
    pthread_mutex_t m;
    long iters;
    double ns;
    char pad[64];
} arg;

static void *own_lock(void *p)
{
    arg *a = p;
    double t0 = now();
    for (long i = 0; i < a->iters; i++) {
        pthread_mutex_lock(&a->m);
        pthread_mutex_unlock(&a->m);
    }
    a->ns = (now() - t0) / a->iters;
    return NULL;
}

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;

static void *contend(void *p)
{
    long iters = *(long *)p;
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&shared);
        counter++;
        pthread_mutex_unlock(&shared);
    }
    return NULL;
}

static volatile uint64_t sink;

static double best(double a, double b)
{
    return a < b ? a : b;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *m = argv[1];
    if (argc > 2)
        scale = atol(argv[2]);
    for (int i = 0; i < 8; i++)
        pthread_mutex_init(&locks[i], NULL);
    double r = 1e30;
    if (!strcmp(m, "1t") || !strcmp(m, "d2") || !strcmp(m, "d8")) {
        int depth = m[0] == '1' ? 1 : m[1] - '0';
        long iters = 20000000 / depth / scale;
        nested(depth, iters / 10 + 1);   /* warm-up: first-time work is not steady state */
        for (int k = 0; k < 5; k++)
            r = best(r, nested(depth, iters));
    } else if (!strcmp(m, "2t")) {
        for (int k = 0; k < 5; k++) {
            static arg a[2];
            pthread_t t[2];
            for (int i = 0; i < 2; i++) {
                pthread_mutex_init(&a[i].m, NULL);
                a[i].iters = 10000000 / scale;
                pthread_create(&t[i], NULL, own_lock, &a[i]);
            }
            for (int i = 0; i < 2; i++)
                pthread_join(t[i], NULL);
            r = best(r, (a[0].ns + a[1].ns) / 2);
        }
    } else if (!strcmp(m, "1m")) {
        long n = 1000000 / scale;
        pthread_mutex_t *ms = calloc((size_t)n, sizeof *ms);
        for (long i = 0; i < n; i++)
            pthread_mutex_init(&ms[i], NULL);
        for (int pass = 0; pass < 6; pass++) {
            double t0 = now();
            for (long i = 0; i < n; i++) {
                pthread_mutex_lock(&ms[i]);
                pthread_mutex_unlock(&ms[i]);
            }
            double ns = (now() - t0) / n;
            if (pass > 0)   /* pass 0 meets every lock for the first time */
                r = best(r, ns);
        }
        free(ms);
    } else if (!strcmp(m, "clock")) {
        /* Not a lock: what one read of the trace clock costs here (lg_trace_tick(): the TSC on
         * x86-64), back to back. record-bench.sh prints the floor it puts under recording. */
        long iters = 20000000 / scale;
        for (int k = 0; k < 5; k++) {
            uint64_t sum = 0;
            double t0 = now();
            for (long i = 0; i < iters; i++)
                sum += lg_trace_tick();
            sink = sum;
            r = best(r, (now() - t0) / iters);
        }
    } else if (m[0] == 'c') {
        int nt = atoi(m + 1);
        long iters = 2000000 / scale / nt;
        pthread_t t[64];
        double t0 = now();
        for (int i = 0; i < nt; i++)
            pthread_create(&t[i], NULL, contend, &iters);
        for (int i = 0; i < nt; i++)
            pthread_join(t[i], NULL);
        r = (now() - t0) / (iters * nt);
    } else {
        return 2;
    }
    printf("%.2f\n", r);
    return 0;
}
