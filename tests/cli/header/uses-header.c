/* uses-header.c - a user's program built with `pkg-config --cflags lockgraph` alone: it names
 * its locks through the public header, then takes them in both orders (one thread after the
 * other, so it never deadlocks). Without the runtime it runs as a plain program; under
 * `lockgraph run` the runtime reports the inversion with the names given here. */
#include <lockgraph/lockgraph.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t queue = PTHREAD_MUTEX_INITIALIZER, stats = PTHREAD_MUTEX_INITIALIZER;

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
    const char *v = lg_version();
    printf("runtime: %s\n", v ? v : "none");
    pthread_t t;
    pthread_create(&t, NULL, queue_then_stats, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, stats_then_queue, NULL);
    pthread_join(t, NULL);
    puts("done");
    return 0;
}
