/* trace-emit.c - what recording costs: the writer's emit (hot path plus amortized encode,
 * checksum and write(2)), an uncontended mutex lock/unlock with and without recording (the
 * runtime's fast path adds one trylock-style ACQUIRE and one RELEASE), recording throughput
 * with two threads, and the trace size per million events. Run by bench/trace-bench.sh, also
 * built with -DLG_TRACE_BENCH_NO_CLOCK (a constant instead of rdtsc: the writer's own cost).
 * The per-operation figures are the best of three rounds (the machine is shared). Prints
 * figures, asserts none. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "trace/trace.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double min(double a, double b)
{
    return a < b ? a : b;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long n_ops;

static __attribute__((noinline)) void plain(long n)
{
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&m);
        __asm__ volatile("" ::: "memory");
        pthread_mutex_unlock(&m);
    }
}

/* What the runtime's fast path adds when recording: an ACQUIRE after a successful trylock
 * and a RELEASE before the unlock (stack ids cached per call site: a constant here). */
static __attribute__((noinline)) void recorded(long n)
{
    for (long i = 0; i < n; i++) {
        if (pthread_mutex_trylock(&m) != 0) {
            pthread_mutex_lock(&m);
        }
        if (lg_trace_on)
            lg_trace_emit(LG_EV_ACQUIRE, 1, LG_MODE_EXCLUSIVE, 0, 1);
        __asm__ volatile("" ::: "memory");
        if (lg_trace_on)
            lg_trace_emit(LG_EV_RELEASE, 1, LG_MODE_EXCLUSIVE, 0, 1);
        pthread_mutex_unlock(&m);
    }
}

static void *thr(void *arg)
{
    (void)arg;
    pthread_mutex_t own = PTHREAD_MUTEX_INITIALIZER;
    for (long i = 0; i < n_ops; i++) {
        pthread_mutex_lock(&own);
        lg_trace_emit(LG_EV_ACQUIRE, 2, LG_MODE_EXCLUSIVE, 0, 1);
        lg_trace_emit(LG_EV_RELEASE, 2, LG_MODE_EXCLUSIVE, 0, 1);
        pthread_mutex_unlock(&own);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/lg-bench.trace";
    long n = argc > 2 ? atol(argv[2]) : 10000000;
    char err[256];
    lg_trace_options opt = {.max_bytes = 1ull << 34, .no_atexit = 1};
    if (lg_trace_open(path, &opt, err, sizeof err) < 0) {
        fprintf(stderr, "trace-emit: %s\n", err);
        return 1;
    }
    uint64_t pc = (uint64_t)(uintptr_t)&main;
    lg_trace_intern_stack(&pc, 1);
    lg_trace_lock(1, (uint64_t)(uintptr_t)&m, LG_LOCK_MUTEX, "m");

    plain(n / 10);   /* warm up */
    long per = n / 3;
    double base = 1e9, rec = 1e9, emit = 1e9;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        plain(per);
        double t1 = now();
        recorded(per);
        double t2 = now();
        for (long i = 0; i < per; i++)
            lg_trace_emit(LG_EV_ACQUIRE, 1, LG_MODE_EXCLUSIVE, 0, 1);
        double t3 = now();
        base = min(base, (t1 - t0) / (double)per * 1e9);
        rec = min(rec, (t2 - t1) / (double)per * 1e9);
        emit = min(emit, (t3 - t2) / (double)per * 1e9);
    }

    n_ops = n / 4;
    pthread_t a, b;
    double t5 = now();
    pthread_create(&a, NULL, thr, NULL);
    pthread_create(&b, NULL, thr, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    double t6 = now();
    lg_trace_close();
    lg_trace_stats st;
    lg_trace_get_stats(&st);
    struct stat sb;
    stat(path, &sb);

    double clock_ns = 1e9;
    for (int round = 0; round < 3; round++) {
        double t7 = now();
        for (int i = 0; i < 10000000; i++)
            __asm__ volatile("" ::"r"(lg_trace_tick()));
        clock_ns = min(clock_ns, (now() - t7) / 1e7 * 1e9);
    }
#ifdef LG_TRACE_BENCH_NO_CLOCK
    (void)clock_ns;
    (void)base;
    (void)rec;
    (void)sb;
    printf("emit without the clock (a constant tick):   %.1f ns/event\n", emit);
    printf("recording throughput, 2 threads, no clock:  %.1f M events/s\n",
           (double)(4 * n_ops) / (t6 - t5) / 1e6);
#else
    printf("clock read (rdtsc on x86-64):               %.1f ns\n", clock_ns);
    printf("emit (hot path + amortized encode/write):   %.1f ns/event\n", emit);
    printf("uncontended lock+unlock, not recording:     %.1f ns\n", base);
    printf("uncontended lock+unlock, recording:         %.1f ns (%.2fx)\n", rec, rec / base);
    printf("recording throughput, 2 threads:            %.1f M events/s\n",
           (double)(4 * n_ops) / (t6 - t5) / 1e6);
    printf("trace size:                                 %.2f MB per million events "
           "(%llu events, %lld bytes, %llu dropped)\n",
           (double)sb.st_size / (double)st.events, (unsigned long long)st.events,
           (long long)sb.st_size, (unsigned long long)st.dropped);
    printf("thread buffers:                             %llu, %.0f KiB resident each "
           "(all busy)\n", (unsigned long long)st.buffers,
           st.buffers ? (double)st.resident / (double)st.buffers / 1024 : 0.0);
#endif
    unlink(path);
    return 0;
}
