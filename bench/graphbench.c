/* graphbench.c - programs with many locks, for the cost of the lock-order analysis.
 *   graphbench MODE [ROUNDS]
 * MODE:
 *   dag      2,000 mutexes, 8 threads; each round takes 2-6 random distinct locks in one
 *            global order (ascending address) and releases them: a DAG of about 10^5
 *            distinct edges, nothing to report. ROUNDS per thread (default 2,000).
 *   windows  Abseil's deadlock-detector stress pattern: 131,072 mutexes, one thread, locks
 *            i..i+4 taken and released for every i. ROUNDS passes (default 1).
 *   rwstress ThreadSanitizer-style random rwlock stress: 8 threads, 256 rwlocks; each round
 *            takes 1-4 random rwlocks in the global order, each for reading or writing at
 *            random (some by trylock). ROUNDS per thread (default 20,000).
 * Prints one line: "SECONDS MAXRSS_KB" (wall time of the work, threads included; peak
 * resident set of the process at the end, the runtime's memory included).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift: each thread its own reproducible sequence. */
static unsigned long rnd(unsigned long *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* k distinct numbers below n, ascending. */
static int pick(unsigned long *s, int n, int k, int *out)
{
    int m = 0;
    while (m < k) {
        int v = (int)(rnd(s) % (unsigned long)n), dup = 0;
        for (int i = 0; i < m; i++)
            dup |= out[i] == v;
        if (!dup)
            out[m++] = v;
    }
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
            int t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return m;
}

#define THREADS 8
static long rounds;

#define DAG_LOCKS 2000
static pthread_mutex_t dag_locks[DAG_LOCKS];

static void *dag_thread(void *p)
{
    unsigned long s = 0x9e3779b97f4a7c15ul * ((unsigned long)(uintptr_t)p + 1);
    int idx[6];
    for (long r = 0; r < rounds; r++) {
        int k = pick(&s, DAG_LOCKS, 2 + (int)(rnd(&s) % 5), idx);
        for (int i = 0; i < k; i++)
            pthread_mutex_lock(&dag_locks[idx[i]]);
        for (int i = k; i-- > 0;)
            pthread_mutex_unlock(&dag_locks[idx[i]]);
    }
    return NULL;
}

#define RW_LOCKS 256
static pthread_rwlock_t rw_locks[RW_LOCKS];

static void *rw_thread(void *p)
{
    unsigned long s = 0xd1b54a32d192ed03ul * ((unsigned long)(uintptr_t)p + 1);
    int idx[4], got[4];
    for (long r = 0; r < rounds; r++) {
        int k = pick(&s, RW_LOCKS, 1 + (int)(rnd(&s) % 4), idx);
        for (int i = 0; i < k; i++) {
            pthread_rwlock_t *l = &rw_locks[idx[i]];
            unsigned long c = rnd(&s) % 8;
            if (c == 0)
                got[i] = pthread_rwlock_tryrdlock(l) == 0;
            else if (c == 1)
                got[i] = pthread_rwlock_trywrlock(l) == 0;
            else
                got[i] = (c & 1 ? pthread_rwlock_wrlock(l) : pthread_rwlock_rdlock(l)) == 0;
        }
        for (int i = k; i-- > 0;)
            if (got[i])
                pthread_rwlock_unlock(&rw_locks[idx[i]]);
    }
    return NULL;
}

static void run_threads(void *(*fn)(void *))
{
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, fn, (void *)i) != 0) {
            fprintf(stderr, "graphbench: pthread_create failed\n");
            exit(1);
        }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
}

#define WIN_LOCKS (1 << 17)

static void windows(void)
{
    pthread_mutex_t *m = calloc(WIN_LOCKS, sizeof *m);
    if (!m) {
        fprintf(stderr, "graphbench: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < WIN_LOCKS; i++)
        pthread_mutex_init(&m[i], NULL);
    for (long r = 0; r < rounds; r++)
        for (int i = 0; i < WIN_LOCKS; i++) {
            int end = i + 5 < WIN_LOCKS ? i + 5 : WIN_LOCKS;
            for (int j = i; j < end; j++)
                pthread_mutex_lock(&m[j]);
            for (int j = i; j < end; j++)
                pthread_mutex_unlock(&m[j]);
        }
    for (int i = 0; i < WIN_LOCKS; i++)
        pthread_mutex_destroy(&m[i]);
    free(m);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    char *end = NULL;
    rounds = argc > 2 ? strtol(argv[2], &end, 10) : 0;
    if (argc > 3 || (argc > 2 && (*end || rounds < 1))) {
        fprintf(stderr, "usage: graphbench dag|windows|rwstress [ROUNDS>0]\n");
        return 2;
    }
    double t0 = now();
    if (!strcmp(mode, "dag")) {
        rounds = rounds ? rounds : 2000;
        for (int i = 0; i < DAG_LOCKS; i++)
            pthread_mutex_init(&dag_locks[i], NULL);
        t0 = now();
        run_threads(dag_thread);
    } else if (!strcmp(mode, "windows")) {
        rounds = rounds ? rounds : 1;
        windows();
    } else if (!strcmp(mode, "rwstress")) {
        rounds = rounds ? rounds : 20000;
        for (int i = 0; i < RW_LOCKS; i++)
            pthread_rwlock_init(&rw_locks[i], NULL);
        t0 = now();
        run_threads(rw_thread);
    } else {
        fprintf(stderr, "graphbench: unknown mode '%s' (dag, windows, rwstress)\n", mode);
        return 2;
    }
    double secs = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%.3f %ld\n", secs, ru.ru_maxrss);
    return 0;
}
