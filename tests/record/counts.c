/* counts.c - a contention benchmark with its OWN counters, to run under `lockgraph record`:
 * the report's acquisition and contention counts must equal what the program counted.
 *
 *   counts THREADS ITERATIONS HANDOFFS      prints {"locks": [...]} on stdout
 *   counts exec N                           locks `plain` N times, then execs /bin/true
 *                                           (the runtime flushes the trace before exec)
 *   counts solo N                           one thread, nothing contended: `plain` N times
 *                                           locked and N times trylocked, `table` N times
 *                                           read-locked, `inner` N times under `plain`, a
 *                                           heap mutex N times (in take_heap); prints
 *                                           {"locks": [...]}
 *   counts many N M                         one thread, N heap mutexes taken M times each
 *   counts spin N                           N spinlock hand-offs (below); prints {"spin": N}
 *
 * - `hot`: every worker takes it ITERATIONS times as trylock-then-lock and counts its
 *   acquisitions and its failed trylocks (the report's "try-fail").
 * - `plain`: every worker takes it ITERATIONS times with pthread_mutex_lock (acquisitions).
 * - `handoff`: contention the program can count exactly in the runtime's terms. The runtime
 *   calls an acquisition contended when its own first try fails and it blocks. Here the holder
 *   releases only once the kernel shows the waiter blocked in futex(2) on this very mutex
 *   (/proc/self/task/TID/syscall), so each of the HANDOFFS rounds has exactly one contended
 *   acquisition, whatever the scheduling. The holder's own acquisitions are never contended
 *   (the waiter has let go and said so first).
 * - `spin`: N rounds of a forced spinlock wait. The holder takes `spin`, lets the "spinner"
 *   go and releases only once the spinner's own CPU clock has run 50 ms past its "about to
 *   lock" mark: the only thing it does after that mark is pthread_spin_lock, so it is
 *   spinning on the held lock (a spinlock's word shows no waiter, its CPU time does).
 * Locks are globals so the trace names them. Every wait is bounded: a stuck handoff exits 1.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

pthread_mutex_t hot = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t handoff = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER;
pthread_rwlock_t table = PTHREAD_RWLOCK_INITIALIZER;
pthread_spinlock_t spin;

/* One thread, n mutexes taken m times each, round robin: more locks than a thread's first
 * counts table holds (it must grow, or write out what it evicts, and lose nothing). */
static int many(long n, long m)
{
    pthread_mutex_t *ms = calloc((size_t)n, sizeof *ms);
    if (!ms)
        return 1;
    for (long i = 0; i < n; i++)
        pthread_mutex_init(&ms[i], NULL);
    for (long k = 0; k < m; k++)
        for (long i = 0; i < n; i++) {
            pthread_mutex_lock(&ms[i]);
            pthread_mutex_unlock(&ms[i]);
        }
    printf("{\"locks\": %ld, \"each\": %ld}\n", n, m);
    return 0;
}

/* A lock on the heap: the report names it by this call site. */
static __attribute__((noinline)) void take_heap(pthread_mutex_t *m)
{
    pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
}

/* Uncontended only: what `lockgraph record` counts instead of recording (its default). */
static int solo(long n)
{
    long plain_n = 0, table_n = 0, inner_n = 0;
    pthread_mutex_t *heap = malloc(sizeof *heap);
    if (!heap)
        return 1;
    pthread_mutex_init(heap, NULL);
    for (long i = 0; i < n; i++)
        take_heap(heap);
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&plain);
        plain_n++;
        pthread_mutex_lock(&inner);
        inner_n++;
        pthread_mutex_unlock(&inner);
        pthread_mutex_unlock(&plain);
        if (pthread_mutex_trylock(&plain) == 0) {
            plain_n++;
            pthread_mutex_unlock(&plain);
        }
        pthread_rwlock_rdlock(&table);
        table_n++;
        pthread_rwlock_unlock(&table);
    }
    printf("{\"locks\": [\n"
           "  {\"name\": \"plain\", \"acquisitions\": %ld, \"contended\": 0},\n"
           "  {\"name\": \"inner\", \"acquisitions\": %ld, \"contended\": 0},\n"
           "  {\"name\": \"table\", \"acquisitions\": %ld, \"contended\": 0},\n"
           "  {\"name\": \"heap\", \"acquisitions\": %ld, \"contended\": 0}\n"
           "]}\n", plain_n, inner_n, table_n, n);
    return 0;
}

static atomic_long hot_acq, hot_tryfail, plain_acq, handoff_acq, handoff_contended;
static long iters, rounds;
static long shared;
static atomic_int waiter_tid, asked, done_round;

static void *worker(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "worker");
    for (long i = 0; i < iters; i++) {
        if (pthread_mutex_trylock(&hot) != 0) {
            atomic_fetch_add(&hot_tryfail, 1);
            pthread_mutex_lock(&hot);
        }
        atomic_fetch_add(&hot_acq, 1);
        shared++;
        pthread_mutex_unlock(&hot);
        pthread_mutex_lock(&plain);
        atomic_fetch_add(&plain_acq, 1);
        shared++;
        pthread_mutex_unlock(&plain);
    }
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Is thread `tid` blocked in futex(2) on the word at `addr`? */
static int blocked_on(int tid, const void *addr)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    unsigned long nr = 0, uaddr = 0;
    return sscanf(buf, "%lu %lx", &nr, &uaddr) == 2 && nr == SYS_futex
           && uaddr == (unsigned long)(uintptr_t)addr;
}

static void *waiter(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "waiter");
    atomic_store(&waiter_tid, (int)syscall(SYS_gettid));
    for (long r = 0; r < rounds; r++) {
        while (atomic_load(&asked) != r + 1)   /* the holder holds it for round r */
            sched_yield();
        pthread_mutex_lock(&handoff);
        atomic_fetch_add(&handoff_acq, 1);
        atomic_fetch_add(&handoff_contended, 1);
        pthread_mutex_unlock(&handoff);
        atomic_store(&done_round, (int)(r + 1));
    }
    return NULL;
}

static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "holder");
    while (!atomic_load(&waiter_tid))
        sched_yield();
    int w = atomic_load(&waiter_tid);
    for (long r = 0; r < rounds; r++) {
        pthread_mutex_lock(&handoff);
        atomic_fetch_add(&handoff_acq, 1);
        atomic_store(&asked, (int)(r + 1));
        double t0 = now();
        while (!blocked_on(w, &handoff)) {
            if (now() - t0 > 30) {
                fprintf(stderr, "counts: the waiter never blocked on the handoff mutex\n");
                exit(1);
            }
            usleep(200);
        }
        pthread_mutex_unlock(&handoff);
        while (atomic_load(&done_round) != r + 1)
            sched_yield();
    }
    return NULL;
}

static atomic_long spin_go, spin_ready, spin_done;

static void *spinner(void *arg)
{
    long n = *(long *)arg;
    pthread_setname_np(pthread_self(), "spinner");
    for (long r = 1; r <= n; r++) {
        while (atomic_load(&spin_go) != r)
            sched_yield();
        atomic_store(&spin_ready, r);
        pthread_spin_lock(&spin);
        pthread_spin_unlock(&spin);
        atomic_store(&spin_done, r);
    }
    return NULL;
}

static double cpu_of(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The holder is the main thread (named "holder"). */
static int spin_rounds(long n)
{
    pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
    pthread_setname_np(pthread_self(), "holder");
    pthread_t t;
    clockid_t c;
    if (pthread_create(&t, NULL, spinner, &n) || pthread_getcpuclockid(t, &c))
        return 1;
    for (long r = 1; r <= n; r++) {
        pthread_spin_lock(&spin);
        atomic_store(&spin_go, r);
        double t0 = now();
        while (atomic_load(&spin_ready) != r)
            sched_yield();
        double c0 = cpu_of(c);
        while (cpu_of(c) < c0 + 0.05) {
            if (now() - t0 > 60) {
                fprintf(stderr, "counts: the spinner never spun\n");
                exit(1);
            }
            usleep(1000);
        }
        pthread_spin_unlock(&spin);
        while (atomic_load(&spin_done) != r)
            sched_yield();
    }
    pthread_join(t, NULL);
    printf("{\"spin\": %ld}\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "spin"))
        return spin_rounds(atol(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "exec")) {
        for (long i = atol(argv[2]); i > 0; i--) {
            pthread_mutex_lock(&plain);
            pthread_mutex_unlock(&plain);
        }
        execv("/bin/true", (char *[]){"true", NULL});
        perror("counts: execv /bin/true");
        return 1;
    }
    if (argc == 3 && !strcmp(argv[1], "solo"))
        return solo(atol(argv[2]));
    if (argc == 4 && !strcmp(argv[1], "many"))
        return many(atol(argv[2]), atol(argv[3]));
    if (argc != 4) {
        fprintf(stderr, "usage: counts THREADS ITERATIONS HANDOFFS\n");
        return 2;
    }
    int nt = atoi(argv[1]);
    iters = atol(argv[2]);
    rounds = atol(argv[3]);
    if (nt < 1 || nt > 64 || iters < 0 || rounds < 0) {
        fprintf(stderr, "counts: bad arguments\n");
        return 2;
    }
    pthread_t th[66];
    for (int i = 0; i < nt; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    pthread_create(&th[nt], NULL, waiter, NULL);
    pthread_create(&th[nt + 1], NULL, holder, NULL);
    for (int i = 0; i < nt + 2; i++)
        pthread_join(th[i], NULL);
    printf("{\"locks\": [\n"
           "  {\"name\": \"hot\", \"acquisitions\": %ld, \"trylock_failed\": %ld},\n"
           "  {\"name\": \"plain\", \"acquisitions\": %ld},\n"
           "  {\"name\": \"handoff\", \"acquisitions\": %ld, \"contended\": %ld}\n"
           "], \"shared\": %ld}\n",
           atomic_load(&hot_acq), atomic_load(&hot_tryfail), atomic_load(&plain_acq),
           atomic_load(&handoff_acq), atomic_load(&handoff_contended), shared);
    return 0;
}
