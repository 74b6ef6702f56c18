/* custom.c - locks the runtime cannot see, described with lockgraph.h's annotations: a
 * test-and-set spinlock and a futex lock (Drepper's three-state mutex, as InnoDB's and many
 * engines' are). Built with the header alone, so the same binary runs with and without the
 * runtime.
 *
 *   custom spin-abba | futex-abba   thread 1 takes A then B, then (after it ended) thread 2
 *                                   B then A: an inversion, never a deadlock
 *   custom spin-deadlock | futex-deadlock
 *                                   the two threads each take their first lock, wait until
 *                                   the other has its first, then take the other's: a real
 *                                   deadlock (hangs without the runtime; prints "ready"
 *                                   once both hold their first lock)
 *   custom spin-try                 A then try B, and B then A: a trylock adds no edge
 *   custom read-read                A then B and B then A, both as readers: silent
 *   custom foreign-unlock           thread 1 takes A; thread 2 releases it for thread 1 (a
 *                                   hand-over); thread 1 then takes B, and later thread 3
 *                                   B then A: thread 1 no longer held A, so no inversion
 *   custom spin-contended           thread 1 holds A until thread 2, announced waiting for
 *                                   it, spins on it: one contended wait (for `record`)
 *   custom self                     takes A twice: a self-deadlock (hangs without runtime)
 *   custom recursive                a recursive lock taken twice: silent
 * Misuse (each also as futex-CASE), harmless to the raw locks, so the bare run ends:
 *   custom spin-unlock-unheld       takes and releases A, then releases it again
 *   custom spin-destroy-held        destroys A while holding it
 *   custom spin-exit-holding        a thread takes A and returns holding it
 *   custom foreign-unlock (above)   a release by another thread than the holder
 */
#include <lockgraph/lockgraph.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- the two lock implementations, annotated ---- */

typedef struct lock {
    atomic_int word;
    bool futex;        /* else a spinlock */
} lock;

static void lock_init(lock *l, bool futex, const char *name, unsigned flags)
{
    atomic_init(&l->word, 0);
    l->futex = futex;
    lg_mutex_create(l, flags);
    lg_lock_name(l, name);
}

static void futex_wait(atomic_int *w, int val)
{
    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static atomic_int spinning;   /* a thread found a spinlock held (spin-contended) */

static void raw_lock(lock *l)
{
    if (!l->futex) {
        while (atomic_exchange_explicit(&l->word, 1, memory_order_acquire)) {
            atomic_store(&spinning, 1);
            __builtin_ia32_pause();
        }
        return;
    }
    int c = 0;
    if (atomic_compare_exchange_strong(&l->word, &c, 1))
        return;
    if (c != 2)
        c = atomic_exchange(&l->word, 2);
    while (c != 0) {
        futex_wait(&l->word, 2);
        c = atomic_exchange(&l->word, 2);
    }
}

static void lock_lock(lock *l, unsigned flags)
{
    lg_mutex_pre_lock(l, flags);
    raw_lock(l);
    lg_mutex_post_lock(l, flags);
}

static bool lock_trylock(lock *l)
{
    lg_mutex_pre_lock(l, LG_MUTEX_TRY);
    int c = 0;
    bool ok = atomic_compare_exchange_strong(&l->word, &c, 1);
    lg_mutex_post_lock(l, LG_MUTEX_TRY | (ok ? 0 : LG_MUTEX_TRY_FAILED));
    return ok;
}

static void lock_unlock(lock *l, unsigned flags)
{
    lg_mutex_pre_unlock(l, flags);
    if (atomic_exchange(&l->word, 0) == 2)
        syscall(SYS_futex, &l->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    lg_mutex_post_unlock(l, flags);
}

/* ---- cases ---- */

static lock A, B;
static atomic_int phase;
static unsigned mode;   /* LG_MUTEX_READ for read-read */
static bool try_second;

static void wait_phase(int p)
{
    while (atomic_load(&phase) < p)
        usleep(1000);
}

static void *ab(void *arg)
{
    (void)arg;
    lock_lock(&A, mode);
    lock_lock(&B, mode);
    lock_unlock(&B, mode);
    lock_unlock(&A, mode);
    return NULL;
}

static void *ba(void *arg)
{
    (void)arg;
    lock_lock(&B, mode);
    if (try_second) {
        if (lock_trylock(&A))
            lock_unlock(&A, 0);
    } else {
        lock_lock(&A, mode);
        lock_unlock(&A, mode);
    }
    lock_unlock(&B, mode);
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

static void *take_a(void *arg)
{
    (void)arg;
    lock_lock(&A, 0);
    atomic_store(&phase, 1);
    wait_phase(2);      /* thread 2 released A for it */
    lock_lock(&B, 0);
    lock_unlock(&B, 0);
    return NULL;
}

static void *release_a(void *arg)
{
    (void)arg;
    wait_phase(1);
    lock_unlock(&A, 0);   /* A is held by thread 1: a hand-over */
    atomic_store(&phase, 2);
    return NULL;
}

static void *hold_a_until_spun(void *arg)
{
    (void)arg;
    lock_lock(&A, 0);
    atomic_store(&phase, 1);
    while (!atomic_load(&spinning))   /* the other thread waits for A now */
        usleep(1000);
    lock_unlock(&A, 0);
    return NULL;
}

static void *take_a_when_held(void *arg)
{
    (void)arg;
    wait_phase(1);
    lock_lock(&A, 0);
    lock_unlock(&A, 0);
    return NULL;
}

static void *take_a_and_return(void *arg)
{
    (void)arg;
    lock_lock(&A, 0);
    return NULL;   /* holding A */
}

static void run2(void *(*f)(void *), void *(*g)(void *), bool together)
{
    pthread_t t1, t2;
    pthread_create(&t1, NULL, f, NULL);
    if (!together)
        pthread_join(t1, NULL);
    pthread_create(&t2, NULL, g, NULL);
    if (together)
        pthread_join(t1, NULL);
    pthread_join(t2, NULL);
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    bool futex = !strncmp(c, "futex-", 6);
    const char *base = futex ? c + 6 : !strncmp(c, "spin-", 5) ? c + 5 : c;
    unsigned cflags = !strcmp(c, "recursive") ? LG_MUTEX_RECURSIVE : 0;
    lock_init(&A, futex, "lock A", cflags);
    lock_init(&B, futex, "lock B", cflags);
    if (!strcmp(c, "spin-abba") || !strcmp(c, "futex-abba") || !strcmp(c, "read-read")) {
        mode = !strcmp(c, "read-read") ? LG_MUTEX_READ : 0;
        run2(ab, ba, false);
    } else if (!strcmp(c, "spin-try")) {
        try_second = true;
        run2(ab, ba, false);
    } else if (!strcmp(c, "spin-deadlock") || !strcmp(c, "futex-deadlock")) {
        pthread_t t1, t2;
        pthread_create(&t1, NULL, dl_ab, NULL);
        pthread_create(&t2, NULL, dl_ba, NULL);
        wait_phase(2);
        printf("ready\n");   /* both hold their first lock: the deadlock is certain */
        fflush(stdout);
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
    } else if (!strcmp(base, "unlock-unheld")) {
        lock_lock(&A, 0);
        lock_unlock(&A, 0);
        lock_unlock(&A, 0);   /* nobody holds A */
    } else if (!strcmp(base, "destroy-held")) {
        lock_lock(&A, 0);
        lg_mutex_destroy(&A, 0);   /* held by this thread */
    } else if (!strcmp(base, "exit-holding")) {
        pthread_t t1;
        pthread_create(&t1, NULL, take_a_and_return, NULL);
        pthread_join(t1, NULL);
    } else if (!strcmp(base, "foreign-unlock")) {
        run2(take_a, release_a, true);
        pthread_t t3;
        pthread_create(&t3, NULL, ba, NULL);
        pthread_join(t3, NULL);
    } else if (!strcmp(c, "spin-contended")) {
        run2(hold_a_until_spun, take_a_when_held, true);
    } else if (!strcmp(c, "self")) {
        lock_lock(&A, 0);
        lock_lock(&A, 0);
    } else if (!strcmp(c, "recursive")) {
        /* The raw lock is not re-entrant itself: the second acquisition is annotated only,
         * as a re-entrant lock's bookkeeping would be. */
        lock_lock(&A, 0);
        lg_mutex_pre_lock(&A, 0);
        lg_mutex_post_lock(&A, 0);
        lock_lock(&B, 0);
        lock_unlock(&B, 0);
        lg_mutex_pre_unlock(&A, 0);
        lg_mutex_post_unlock(&A, 0);
        lock_unlock(&A, 0);
    } else {
        fprintf(stderr, "usage: custom CASE\n");
        return 2;
    }
    printf("%s: done (runtime %s)\n", c, lg_version() ? lg_version() : "none");
    return 0;
}
