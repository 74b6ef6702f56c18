/* ident.c - lock identity and ownership under the runtime (issue 10, points 5 and 8):
 *   rt-ident MODE [ARGS]
 * handoff        a lock released by another thread than its holder: the holder's state
 *                forgets it (no edge from it afterwards, no "exited holding" note)
 * hold N         N locks held at once (taken in order, released in reverse), 3 rounds;
 *                prints VmHWM
 * churn N        N heap mutexes created, locked, destroyed, freed; then N malloc/init/free
 *                without destroy; prints VmHWM and the count
 * bigfree        locks spread over a 1 MiB block (several pages and 64 KiB regions, a
 *                spinlock at a 4-byte offset), freed without destroy
 * dlreuse A B    dlopen A, its two mutexes in one order, dlclose; dlopen B, the other
 *                order: prints each library's lock addresses (the test checks they coincide)
 * Every mode runs to completion; orders are forced with joins and semaphores.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static pthread_mutex_t hand_m = PTHREAD_MUTEX_INITIALIZER;   /* handed over */
static pthread_mutex_t hand_n = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t hand_exit = PTHREAD_MUTEX_INITIALIZER; /* handed over, then exit */
static pthread_rwlock_t hand_r = PTHREAD_RWLOCK_INITIALIZER; /* read lock handed over */
static sem_t locked, released;

/* Holds M and a read of R, lets the releaser release both, then takes N: with M or R still
 * "held" in its state that would be the edges M -> N and R -> N. */
static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "holder");
    pthread_mutex_lock(&hand_m);
    pthread_rwlock_rdlock(&hand_r);
    sem_post(&locked);
    sem_wait(&released);
    pthread_mutex_lock(&hand_n);
    pthread_mutex_unlock(&hand_n);
    return NULL;
}

/* Holds one lock, which another thread releases; then exits with no event of its own. */
static void *holder_exits(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "exiter");
    pthread_mutex_lock(&hand_exit);
    sem_post(&locked);
    sem_wait(&released);
    return NULL;
}

static void *releaser(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "releaser");
    sem_wait(&locked);
    pthread_mutex_unlock(&hand_m);
    pthread_rwlock_unlock(&hand_r);
    sem_post(&released);
    sem_wait(&locked);
    pthread_mutex_unlock(&hand_exit);
    sem_post(&released);
    return NULL;
}

NOINLINE static void handoff(void)
{
    sem_init(&locked, 0, 0);
    sem_init(&released, 0, 0);
    pthread_t h, e, r;
    pthread_create(&r, NULL, releaser, NULL);
    pthread_create(&h, NULL, holder, NULL);
    pthread_join(h, NULL);
    pthread_create(&e, NULL, holder_exits, NULL);
    pthread_join(e, NULL);
    pthread_join(r, NULL);
    /* The consistent order, N before M and R: an inversion only if M or R stayed held. */
    pthread_mutex_lock(&hand_n);
    pthread_mutex_lock(&hand_m);
    pthread_rwlock_wrlock(&hand_r);
    pthread_rwlock_unlock(&hand_r);
    pthread_mutex_unlock(&hand_m);
    pthread_mutex_unlock(&hand_n);
    printf("handoff done\n");
}

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

NOINLINE static void hold(long n)
{
    pthread_mutex_t *ms = calloc((size_t)n, sizeof *ms);
    for (long i = 0; i < n; i++)
        pthread_mutex_init(&ms[i], NULL);
    for (int round = 0; round < 3; round++) {
        for (long i = 0; i < n; i++)
            pthread_mutex_lock(&ms[i]);
        for (long i = n; i-- > 0;)
            pthread_mutex_unlock(&ms[i]);
    }
    printf("held %ld VmHWM %ld\n", n, vm_hwm_kb());
}

NOINLINE static void churn(long n)
{
    long done = 0;
    for (long i = 0; i < n; i++) {
        pthread_mutex_t *m = malloc(sizeof *m);
        pthread_mutex_init(m, NULL);
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
        pthread_mutex_destroy(m);
        free(m);
        done++;
    }
    for (long i = 0; i < n; i++) {   /* freed without destroy */
        pthread_mutex_t *m = malloc(sizeof *m);
        pthread_mutex_init(m, NULL);
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
        free(m);
        done++;
    }
    printf("churn %ld VmHWM %ld\n", done, vm_hwm_kb());
}

NOINLINE static void bigfree(void)
{
    const size_t size = 1u << 20;
    const size_t at[] = {0, 3 * 65536 + 16, size - 64};   /* mutexes */
    char *b = malloc(size);
    for (size_t i = 0; i < 3; i++)
        pthread_mutex_init((pthread_mutex_t *)(b + at[i]), NULL);
    pthread_spinlock_t *s = (pthread_spinlock_t *)(b + 4096 + 4);
    pthread_spin_init(s, 0);
    for (size_t i = 0; i < 3; i++)
        pthread_mutex_lock((pthread_mutex_t *)(b + at[i]));
    pthread_spin_lock(s);
    pthread_spin_unlock(s);
    for (size_t i = 3; i-- > 0;)
        pthread_mutex_unlock((pthread_mutex_t *)(b + at[i]));
    free(b);
    printf("bigfree done\n");
}

NOINLINE static int load_and_run(const char *path, int backward)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return -1;
    }
    void *(*lock)(int) = (void *(*)(int))dlsym(h, "reload_lock");
    void (*run)(int) = (void (*)(int))dlsym(h, "reload_run");
    if (!lock || !run) {
        fprintf(stderr, "%s: no reload_lock/reload_run\n", path);
        return -1;
    }
    printf("locks %p %p\n", lock(0), lock(1));
    run(backward);
    return dlclose(h);
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    if (!strcmp(m, "handoff")) {
        handoff();
    } else if (!strcmp(m, "hold") && argc == 3) {
        hold(atol(argv[2]));
    } else if (!strcmp(m, "dlreuse") && argc == 4) {
        if (load_and_run(argv[2], 0) != 0 || load_and_run(argv[3], 1) != 0)
            return 1;
    } else if (!strcmp(m, "bigfree")) {
        bigfree();
    } else if (!strcmp(m, "churn") && argc == 3) {
        churn(atol(argv[2]));
    } else {
        fprintf(stderr, "rt-ident: unknown mode '%s'\n", m);
        return 2;
    }
    return 0;
}
