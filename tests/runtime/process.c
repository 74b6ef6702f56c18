/* process.c - programs for the runtime's process life: allocators, its own descriptors,
 * the ways a process ends or replaces itself. One mode per run:
 *   rt-process MODE [ARGS]
 * Output on stdout is deterministic (tests compare it with a bare run).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t slot_lock[8];

/* Threads that allocate, resize and free under locks taken in one order (no finding): an
 * allocator's own mutexes (jemalloc's) are taken inside the program's lock calls and ours. */
static void *alloc_worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg, seed = id * 2654435761u + 1;
    unsigned long sum = 0;
    void *keep[64] = {0};
    for (int i = 0; i < 4000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = seed >> 26, size = 16 + (seed >> 8) % 3000;
        pthread_mutex_lock(&gate);
        pthread_mutex_lock(&slot_lock[k % 8]);
        free(keep[k]);
        keep[k] = malloc(size);
        memset(keep[k], (int)(i & 0xff), size);
        if (i % 7 == 0)
            keep[k] = realloc(keep[k], size * 2);
        sum += ((unsigned char *)keep[k])[size - 1];
        pthread_mutex_unlock(&slot_lock[k % 8]);
        pthread_mutex_unlock(&gate);
    }
    for (int k = 0; k < 64; k++)
        free(keep[k]);
    return (void *)sum;
}

NOINLINE static int alloc_threads(void)
{
    for (int i = 0; i < 8; i++)
        pthread_mutex_init(&slot_lock[i], NULL);
    pthread_t t[4];
    for (unsigned i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, alloc_worker, (void *)(uintptr_t)i);
    unsigned long total = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (unsigned long)r;
    }
    printf("alloc-threads: 4 threads, sum %lu\n", total);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rt-process MODE [ARGS]\n");
        return 2;
    }
    const char *m = argv[1];
    if (!strcmp(m, "alloc-threads"))
        return alloc_threads();
    fprintf(stderr, "rt-process: unknown mode '%s'\n", m);
    return 2;
}
