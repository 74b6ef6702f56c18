/* stress.c - annotated locks under load: what the announcement that takes no runtime lock
 * (src/runtime/wait.c, "announced waits") must keep exact. Built with the header alone, so
 * the same binary runs with and without the runtime.
 *
 *   stress abba-hammer   two threads hammer uncontended annotated pairs (each its own lock,
 *                        and now and then one lock they share) while two others take A and
 *                        B, wait until both hold their first, then take the other's: a real
 *                        deadlock, ended by the runtime (hangs without it)
 *   stress abba-shared   the same deadlock on locks that were used by many threads first
 *                        (handed from thread to thread, read by two readers at once), so
 *                        their last-acquirer hint is "anyone"
 *   stress storm         two workers take a shared lock and their own, PAIRS times each
 *                        (and on until each took a signal), while a third thread sends
 *                        them SIGUSR1 without pause; the handler
 *                        takes an annotated lock of its own (and a pthread mutex). No
 *                        finding; prints the same line with and without the runtime
 */
#include <errno.h>
#include <lockgraph/lockgraph.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAIRS 100000

/* ---- an annotated test-and-set spinlock (yields: the machine may be loaded) ---- */
typedef struct lock {
    atomic_int word;
} lock;

static void lock_init(lock *l, const char *name)
{
    atomic_init(&l->word, 0);
    lg_mutex_create(l, 0);
    lg_lock_name(l, name);
}

static void lock_lock(lock *l, unsigned flags)
{
    lg_mutex_pre_lock(l, flags);
    if (flags & LG_MUTEX_READ) {   /* readers: a count, writers are 1 << 30 */
        for (;;) {
            int c = atomic_load(&l->word);
            if (c < (1 << 30) && atomic_compare_exchange_weak(&l->word, &c, c + 1))
                break;
            sched_yield();
        }
    } else {
        int c = 0;
        while (!atomic_compare_exchange_weak(&l->word, &c, 1 << 30)) {
            c = 0;
            sched_yield();
        }
    }
    lg_mutex_post_lock(l, flags);
}

static void lock_unlock(lock *l, unsigned flags)
{
    lg_mutex_pre_unlock(l, flags);
    if (flags & LG_MUTEX_READ)
        atomic_fetch_sub(&l->word, 1);
    else
        atomic_store(&l->word, 0);
    lg_mutex_post_unlock(l, flags);
}

static lock A, B, shared, own[2], handler_lock;
static atomic_int phase, hammered;

static void wait_phase(int p)
{
    while (atomic_load(&phase) < p)
        usleep(1000);
}

/* ---- abba-hammer, abba-shared ---- */

static void *hammer(void *arg)
{
    lock *mine = &own[(long)arg];
    for (unsigned long i = 0;; i++) {   /* until the run ends at the deadlock */
        lock_lock(mine, 0);
        lock_unlock(mine, 0);
        if (i % 64 == 0) {
            lock_lock(&shared, 0);
            lock_unlock(&shared, 0);
        }
        if (i == 20000)
            atomic_fetch_add(&hammered, 1);
    }
    return NULL;
}

static void *dl_ab(void *arg)
{
    (void)arg;
    lock_lock(&A, 0);
    atomic_fetch_add(&phase, 1);
    wait_phase(2);
    lock_lock(&B, 0);   /* never returns */
    return NULL;
}

static void *dl_ba(void *arg)
{
    (void)arg;
    lock_lock(&B, 0);
    atomic_fetch_add(&phase, 1);
    wait_phase(2);
    lock_lock(&A, 0);
    return NULL;
}

static void *reader(void *arg)
{
    lock *l = arg;
    lock_lock(l, LG_MUTEX_READ);
    atomic_fetch_add(&phase, 1);
    while (atomic_load(&phase) < 2)   /* both readers hold it at once */
        usleep(1000);
    lock_unlock(l, LG_MUTEX_READ);
    return NULL;
}

static void *take_both(void *arg)
{
    (void)arg;
    lock_lock(&A, 0);
    lock_unlock(&A, 0);
    lock_lock(&B, 0);
    lock_unlock(&B, 0);
    return NULL;
}

/* A and B pass through several threads, then two readers hold each at once. */
static void use_from_many(void)
{
    for (int i = 0; i < 4; i++) {
        pthread_t t;
        pthread_create(&t, NULL, take_both, NULL);
        pthread_join(t, NULL);
    }
    lock *ls[2] = {&A, &B};
    for (int k = 0; k < 2; k++) {
        atomic_store(&phase, 0);
        pthread_t r1, r2;
        pthread_create(&r1, NULL, reader, ls[k]);
        pthread_create(&r2, NULL, reader, ls[k]);
        pthread_join(r1, NULL);
        pthread_join(r2, NULL);
    }
    atomic_store(&phase, 0);
}

static void deadlock_while_hammered(void)
{
    pthread_t h[2], t1, t2;
    for (long i = 0; i < 2; i++)
        pthread_create(&h[i], NULL, hammer, (void *)i);
    while (atomic_load(&hammered) < 2)   /* both hammer now */
        usleep(1000);
    pthread_create(&t1, NULL, dl_ab, NULL);
    pthread_create(&t2, NULL, dl_ba, NULL);
    wait_phase(2);
    printf("ready\n");   /* both hold their first lock: the deadlock is certain */
    fflush(stdout);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
}

/* ---- storm ---- */

static pthread_mutex_t handler_mutex = PTHREAD_MUTEX_INITIALIZER;
static atomic_long handled;
static _Thread_local volatile sig_atomic_t got;   /* signals this thread handled */
static atomic_int workers_done;
static pthread_t workers[2];

static void on_usr1(int sig)
{
    (void)sig;
    int e = errno;
    lock_lock(&handler_lock, 0);
    pthread_mutex_lock(&handler_mutex);
    atomic_fetch_add(&handled, 1);
    got = got + 1;
    pthread_mutex_unlock(&handler_mutex);
    lock_unlock(&handler_lock, 0);
    errno = e;
}

static void *worker(void *arg)
{
    lock *mine = &own[(long)arg];
    /* PAIRS rounds, and on until this thread took a signal (the stormer may start late). */
    for (int i = 0; i < PAIRS || !got; i++) {
        lock_lock(&shared, 0);
        lock_lock(mine, 0);
        lock_unlock(mine, 0);
        lock_unlock(&shared, 0);
        lock_lock(mine, 0);
        lock_unlock(mine, 0);
    }
    atomic_fetch_add(&workers_done, 1);
    return NULL;
}

static void *stormer(void *arg)
{
    (void)arg;
    /* The workers are joined only after this thread: their descriptors stay valid. */
    for (unsigned long i = 0; atomic_load(&workers_done) < 2; i++) {
        pthread_kill(workers[i & 1], SIGUSR1);
        if (i % 16 == 15)
            sched_yield();
    }
    return NULL;
}

static int storm(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t s;
    for (long i = 0; i < 2; i++)
        pthread_create(&workers[i], NULL, worker, (void *)i);
    pthread_create(&s, NULL, stormer, NULL);
    pthread_join(s, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(workers[i], NULL);
    /* Every handler released its lock: they are free now. */
    bool free_now = atomic_load(&handler_lock.word) == 0 && atomic_load(&shared.word) == 0;
    if (atomic_load(&handled) == 0 || !free_now) {
        printf("storm: %ld signals handled, locks %s\n", atomic_load(&handled),
               free_now ? "free" : "still held");
        return 1;
    }
    printf("storm: 2 workers x %d pairs done, signals handled, every lock free\n", PAIRS);
    return 0;
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    lock_init(&A, "lock A");
    lock_init(&B, "lock B");
    lock_init(&shared, "shared");
    lock_init(&own[0], "own 0");
    lock_init(&own[1], "own 1");
    lock_init(&handler_lock, "handler lock");
    if (!strcmp(c, "abba-hammer")) {
        deadlock_while_hammered();
    } else if (!strcmp(c, "abba-shared")) {
        use_from_many();
        deadlock_while_hammered();
    } else if (!strcmp(c, "storm")) {
        return storm();
    } else {
        fprintf(stderr, "usage: stress abba-hammer|abba-shared|storm\n");
        return 2;
    }
    return 0;
}
