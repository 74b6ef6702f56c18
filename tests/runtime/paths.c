/* paths.c - one report per code path (issue 15): the shape of ThreadSanitizer's stress test
 * T19, 45 locks taken nested in rotated orders by one loop, so every pair of locks is taken in
 * both orders at the same two call sites. lockgraph must say it once, with the count of lock
 * sets, and still tell two different code paths apart.
 *
 *   paths rotated   - three threads in turn, each the whole ring from its own start
 *   paths two-sites - the rotated ring, then an ABBA of two other locks at other sites
 *   paths same-depth - an ABBA whose lock p is taken at one call site (grab) reached from two
 *                     callers at the same stack depth: the report names each caller where it
 *                     took p (the runtime's capture cache must not hand one walk to the other)
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define N 45
static pthread_mutex_t ring[N];
static pthread_mutex_t x = PTHREAD_MUTEX_INITIALIZER, y = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) static void take(int i)
{
    pthread_mutex_lock(&ring[i]);
}

static void *rotation(void *arg)
{
    int start = (int)(long)arg;
    for (int k = 0; k < N; k++)
        take((start + k) % N);
    for (int k = N; k-- > 0;)
        pthread_mutex_unlock(&ring[(start + k) % N]);
    return NULL;
}

__attribute__((noinline)) static void xy(void)
{
    pthread_mutex_lock(&x);
    pthread_mutex_lock(&y);
    pthread_mutex_unlock(&y);
    pthread_mutex_unlock(&x);
}

__attribute__((noinline)) static void yx(void)
{
    pthread_mutex_lock(&y);
    pthread_mutex_lock(&x);
    pthread_mutex_unlock(&x);
    pthread_mutex_unlock(&y);
}

static pthread_mutex_t p = PTHREAD_MUTEX_INITIALIZER, q = PTHREAD_MUTEX_INITIALIZER;

/* Built at -O1: no sibling calls, no identical-code folding, so grab returns into via_a or
 * via_b, whose frames (like order_pq's and order_qp's) are alike. */
__attribute__((noinline)) static void grab(pthread_mutex_t *m)
{
    pthread_mutex_lock(m);
}

__attribute__((noinline)) static void via_a(pthread_mutex_t *m)
{
    grab(m);
}

__attribute__((noinline)) static void via_b(pthread_mutex_t *m)
{
    grab(m);
}

__attribute__((noinline)) static void order_pq(void)
{
    via_a(&p);
    pthread_mutex_lock(&q);
    pthread_mutex_unlock(&q);
    pthread_mutex_unlock(&p);
}

__attribute__((noinline)) static void order_qp(void)
{
    pthread_mutex_lock(&q);
    via_b(&p);
    pthread_mutex_unlock(&p);
    pthread_mutex_unlock(&q);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "same-depth")) {
        order_pq();
        order_qp();
        printf("done\n");
        return 0;
    }
    for (int i = 0; i < N; i++)
        pthread_mutex_init(&ring[i], NULL);
    /* One thread at a time (joined): the edges, hence the cycles, arrive in one order. */
    static const long starts[] = {0, 15, 30};
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) {
        pthread_t t;
        pthread_create(&t, NULL, rotation, (void *)starts[i]);
        pthread_join(t, NULL);
    }
    if (!strcmp(argv[1], "two-sites")) {
        xy();
        yx();
    }
    printf("done\n");
    return 0;
}
