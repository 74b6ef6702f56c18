/* signals.c - signal handlers that take locks, under a storm of signals (tests/runtime/signals.sh).
 *
 * storm N     a worker locks a recursive mutex (twice), a plain mutex contended with another
 *             thread, and an rwlock (read and write in turn) in a loop, while the main thread
 *             sends it N signals (SIGUSR1 and SIGALRM in turn, with pthread_kill), one at a
 *             time: the next only once the handler has run for the previous. The handler
 *             locks a mutex that a third thread holds while it waits for a contended mutex
 *             (so the handler may wait for a thread that is inside the runtime's wait), tries
 *             a mutex only handlers take, and releases them out of order. Everything the
 *             program prints is a count it forces. No lock order here is inconsistent: a
 *             report of one is false.
 * segv N      the storm, and the handler of signal N raises SIGSEGV while holding its locks:
 *             the program must die of SIGSEGV.
 * term N      the storm, and the main thread sends the process SIGTERM after N signals
 *             (no handler of its own: the program must die of SIGTERM).
 * section N   no handler at all (the runtime's sections then block no signal: sigblock.h's
 *             lazy mode): one lock-order inversion (inv_a, inv_b in both orders, one thread),
 *             then a worker makes new lock sequences without end (fresh mutexes taken in
 *             windows of three: nearly all its time is in the runtime's slow path, under its
 *             graph lock) and the main thread, once the worker ran N rounds, sends it SIGTERM.
 *             The program must die of SIGTERM, and the runtime's fatal-signal handler, run
 *             after the section the signal interrupted, must have written the JSON with the
 *             one inversion.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t rec_m;                                       /* recursive */
static pthread_mutex_t plain_a = PTHREAD_MUTEX_INITIALIZER;         /* worker vs. contender */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t h1 = PTHREAD_MUTEX_INITIALIZER;              /* handler vs. holder */
static pthread_mutex_t h2 = PTHREAD_MUTEX_INITIALIZER;              /* handlers only */
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;               /* holder vs. contender */

static atomic_int handled, h1_taken, h2_tried, stop, segv_at = -1;
static atomic_long loops;
static sem_t done_one;   /* posted by the handler (async-signal-safe): the next may be sent */

static void handler(int sig)
{
    (void)sig;
    int e = errno;
    pthread_mutex_lock(&h1);
    if (pthread_mutex_trylock(&h2) == 0)
        atomic_fetch_add(&h2_tried, 1);
    atomic_fetch_add(&h1_taken, 1);
    if (atomic_load(&handled) + 1 == atomic_load(&segv_at))
        raise(SIGSEGV);   /* holding h1 and h2: the program dies here */
    pthread_mutex_unlock(&h1);   /* out of order */
    pthread_mutex_unlock(&h2);
    atomic_fetch_add(&handled, 1);
    sem_post(&done_one);
    errno = e;
}

static void *worker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        long i = atomic_fetch_add(&loops, 1);
        pthread_mutex_lock(&rec_m);
        pthread_mutex_lock(&rec_m);
        pthread_mutex_lock(&plain_a);
        if (i & 1)
            pthread_rwlock_rdlock(&rw);
        else
            pthread_rwlock_wrlock(&rw);
        pthread_rwlock_unlock(&rw);
        pthread_mutex_unlock(&plain_a);
        pthread_mutex_unlock(&rec_m);
        if (pthread_mutex_trylock(&plain_a) == 0)
            pthread_mutex_unlock(&plain_a);
        pthread_mutex_unlock(&rec_m);
    }
    return NULL;
}

/* Holds h1 while it waits for b (contended): a handler waiting for h1 waits for a thread
 * inside a lock wait. */
static void *holder(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        pthread_mutex_lock(&h1);
        pthread_mutex_lock(&b);
        pthread_mutex_unlock(&b);
        pthread_mutex_unlock(&h1);
        sched_yield();
    }
    return NULL;
}

/* Contends for plain_a (the worker waits in the runtime) and b (the holder does). */
static void *contender(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        pthread_mutex_lock(&plain_a);
        pthread_mutex_unlock(&plain_a);
        pthread_mutex_lock(&b);
        pthread_mutex_unlock(&b);
        sched_yield();
    }
    return NULL;
}

static pthread_mutex_t inv_a = PTHREAD_MUTEX_INITIALIZER, inv_b = PTHREAD_MUTEX_INITIALIZER;

static void *sections(void *arg)
{
    (void)arg;
    enum { K = 64 };
    for (;;) {
        pthread_mutex_t *m = malloc(K * sizeof *m);
        if (!m)
            abort();
        for (int i = 0; i < K; i++)
            pthread_mutex_init(&m[i], NULL);
        for (int i = 0; i + 3 <= K; i++) {
            for (int j = i; j < i + 3; j++)
                pthread_mutex_lock(&m[j]);
            for (int j = i; j < i + 3; j++)
                pthread_mutex_unlock(&m[j]);
        }
        for (int i = 0; i < K; i++)
            pthread_mutex_destroy(&m[i]);
        free(m);
        atomic_fetch_add(&loops, 1);
    }
    return NULL;
}

static int section_mode(int n)
{
    pthread_mutex_lock(&inv_a);
    pthread_mutex_lock(&inv_b);
    pthread_mutex_unlock(&inv_b);
    pthread_mutex_unlock(&inv_a);
    pthread_mutex_lock(&inv_b);
    pthread_mutex_lock(&inv_a);
    pthread_mutex_unlock(&inv_a);
    pthread_mutex_unlock(&inv_b);
    pthread_t w;
    pthread_create(&w, NULL, sections, NULL);
    while (atomic_load(&loops) < n)
        sched_yield();
    pthread_kill(w, SIGTERM);
    pthread_join(w, NULL);   /* never returns: the process dies of SIGTERM */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    const char *mode = argv[1];
    int n = atoi(argv[2]), signals = n;
    if (!strcmp(mode, "section"))
        return section_mode(n);
    bool term = !strcmp(mode, "term");
    if (!strcmp(mode, "segv"))
        atomic_store(&segv_at, n);
    else if (!term && strcmp(mode, "storm"))
        return 2;
    if (term || atomic_load(&segv_at) > 0)
        signals = n + 100000;   /* ends before */
    sem_init(&done_one, 0, 0);
    pthread_mutexattr_t ra;
    pthread_mutexattr_init(&ra);
    pthread_mutexattr_settype(&ra, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&rec_m, &ra);
    pthread_mutexattr_destroy(&ra);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);

    pthread_t w, h, c;
    pthread_create(&w, NULL, worker, NULL);
    pthread_create(&h, NULL, holder, NULL);
    pthread_create(&c, NULL, contender, NULL);
    long seen = 0;
    for (int i = 0; i < signals; i++) {
        /* The storm interleaves with the worker's locking by construction, not by the
         * scheduler's grace: every 50th signal waits until the worker has run a loop since
         * the previous wait (on a loaded machine it could otherwise take the whole storm in
         * its handler before its first iteration). */
        if (i % 50 == 0) {
            while (atomic_load(&loops) == seen)
                sched_yield();
            seen = atomic_load(&loops);
        }
        if (term && i == n)
            kill(getpid(), SIGTERM);
        pthread_kill(w, i & 1 ? SIGALRM : SIGUSR1);
        while (sem_wait(&done_one) != 0)
            ;   /* EINTR */
    }
    atomic_store(&stop, 1);
    pthread_join(w, NULL);
    pthread_join(h, NULL);
    pthread_join(c, NULL);
    printf("signals %d handled %d h1 %d h2 %d worker-ran %s\n", signals, atomic_load(&handled),
           atomic_load(&h1_taken), atomic_load(&h2_tried), atomic_load(&loops) > 0 ? "yes" : "no");
    return 0;
}
