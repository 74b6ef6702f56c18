/* ident.c - lock identity and ownership under the runtime (issue 10, points 5 and 8):
 *   rt-ident MODE [ARGS]
 * handoff        a lock released by another thread than its holder: the holder's state
 *                forgets it (no edge from it afterwards, no "exited holding" note)
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

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    if (!strcmp(m, "handoff")) {
        handoff();
    } else {
        fprintf(stderr, "rt-ident: unknown mode '%s'\n", m);
        return 2;
    }
    return 0;
}
