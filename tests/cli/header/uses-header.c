/* uses-header.c - a user's program built with `pkg-config --cflags lockgraph` alone: it names
 * its locks through the public header, then takes them in both orders (one thread after the
 * other, so it never deadlocks); its own spinlock, described with the annotations, is taken
 * in both orders with the queue lock too. Without the runtime it runs as a plain program;
 * under `lockgraph run` the runtime reports the inversions with the names given here. */
#include <lockgraph/lockgraph.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

static pthread_mutex_t queue = PTHREAD_MUTEX_INITIALIZER, stats = PTHREAD_MUTEX_INITIALIZER;
static atomic_int journal;   /* a spinlock of the program's own */

static void journal_lock(void)
{
    lg_mutex_pre_lock(&journal, 0);
    while (atomic_exchange(&journal, 1))
        ;
    lg_mutex_post_lock(&journal, 0);
}

static void journal_unlock(void)
{
    lg_mutex_pre_unlock(&journal, 0);
    atomic_store(&journal, 0);
    lg_mutex_post_unlock(&journal, 0);
}

static void *queue_then_journal(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&queue);
    journal_lock();
    journal_unlock();
    pthread_mutex_unlock(&queue);
    return NULL;
}

static void *journal_then_queue(void *arg)
{
    (void)arg;
    journal_lock();
    pthread_mutex_lock(&queue);
    pthread_mutex_unlock(&queue);
    journal_unlock();
    return NULL;
}

static void *queue_then_stats(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&queue);
    pthread_mutex_lock(&stats);
    pthread_mutex_unlock(&stats);
    pthread_mutex_unlock(&queue);
    return NULL;
}

static void *stats_then_queue(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&stats);
    pthread_mutex_lock(&queue);
    pthread_mutex_unlock(&queue);
    pthread_mutex_unlock(&stats);
    return NULL;
}

int main(void)
{
    lg_lock_name(&queue, "queue lock");
    lg_lock_name(&stats, "stats lock");
    lg_mutex_create(&journal, 0);
    lg_lock_name(&journal, "journal spin");
    const char *v = lg_version();
    printf("runtime: %s\n", v ? v : "none");
    pthread_t t;
    pthread_create(&t, NULL, queue_then_stats, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, stats_then_queue, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, queue_then_journal, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, journal_then_queue, NULL);
    pthread_join(t, NULL);
    lg_mutex_destroy(&journal, 0);
    puts("done");
    return 0;
}
