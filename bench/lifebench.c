/* lifebench.c - the cost of lock life (issue 10, point 8), one figure per run:
 *   lifebench churn N      N heap mutexes malloc'd, initialised, locked, destroyed, freed
 *   lifebench freed N      the same, freed without destroy
 *   lifebench initonly N   N malloc/init/destroy/free, never locked
 *   lifebench bigfree MB   one block of MB MiB with a mutex at its start, freed (x20)
 *   lifebench held N       N mutexes held at once, three rounds
 * Prints "SECONDS PEAK_RSS_KB" (the best of three rounds for the timed ones). bench/
 * lifebench.sh runs each bare and under the runtime in the same run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double churn(long n, int destroy, int lock)
{
    double t0 = now();
    for (long i = 0; i < n; i++) {
        pthread_mutex_t *m = malloc(sizeof *m);
        pthread_mutex_init(m, NULL);
        if (lock) {
            pthread_mutex_lock(m);
            pthread_mutex_unlock(m);
        }
        if (destroy)
            pthread_mutex_destroy(m);
        free(m);
    }
    return now() - t0;
}

static double bigfree(long mb)
{
    double t0 = now();
    for (int r = 0; r < 20; r++) {
        char *b = malloc((size_t)mb << 20);
        if (!b)
            return -1;
        pthread_mutex_t *m = (pthread_mutex_t *)b;
        pthread_mutex_init(m, NULL);
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
        free(b);   /* not touched beyond the first page: only the runtime's check costs */
    }
    return now() - t0;
}

static double held(long n)
{
    pthread_mutex_t *ms = calloc((size_t)n, sizeof *ms);
    double t0 = now();
    for (int r = 0; r < 3; r++) {
        for (long i = 0; i < n; i++)
            pthread_mutex_lock(&ms[i]);
        for (long i = n; i-- > 0;)
            pthread_mutex_unlock(&ms[i]);
    }
    return now() - t0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lifebench churn|freed|initonly|bigfree|held N\n");
        return 2;
    }
    long n = atol(argv[2]);
    double best = -1;
    for (int r = 0; r < (strcmp(argv[1], "held") ? 3 : 1); r++) {
        double t = !strcmp(argv[1], "churn")      ? churn(n, 1, 1)
                   : !strcmp(argv[1], "freed")    ? churn(n, 0, 1)
                   : !strcmp(argv[1], "initonly") ? churn(n, 1, 0)
                   : !strcmp(argv[1], "bigfree")  ? bigfree(n)
                   : !strcmp(argv[1], "held")     ? held(n)
                                                  : -2;
        if (t == -2) {
            fprintf(stderr, "lifebench: unknown case '%s'\n", argv[1]);
            return 2;
        }
        if (best < 0 || t < best)
            best = t;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%.3f %ld\n", best, ru.ru_maxrss);
    return 0;
}
