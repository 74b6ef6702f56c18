/* unloaded.c - linked statically (tests/runtime/unloaded.sh): a lock-order inversion the
 * runtime cannot see, since nothing preloads it into a static executable; exits with
 * argv[1] (0 by default). */
#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

static void *ab(void *arg)
{
    pthread_mutex_lock(arg ? &b : &a);
    pthread_mutex_lock(arg ? &a : &b);
    pthread_mutex_unlock(arg ? &a : &b);
    pthread_mutex_unlock(arg ? &b : &a);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t;
    pthread_create(&t, NULL, ab, NULL);
    pthread_join(t, NULL);
    static int other_order;
    pthread_create(&t, NULL, ab, &other_order);
    pthread_join(t, NULL);
    return argc > 1 ? atoi(argv[1]) : 0;
}
