/* reload.c - a library loaded, unloaded and another (or the same one again) loaded in its
 * place by `rt-ident dlreuse`: two static mutexes, taken in the order the caller asks for.
 * Built twice (librt-reload-a.so, librt-reload-b.so) from this one file, so both have the
 * same layout and the second one's mutexes land where the first one's were. */
#include <pthread.h>

pthread_mutex_t reload_first = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t reload_second = PTHREAD_MUTEX_INITIALIZER;

void *reload_lock(int i)
{
    return i ? (void *)&reload_second : (void *)&reload_first;
}

void reload_run(int backward)
{
    pthread_mutex_t *a = backward ? &reload_second : &reload_first;
    pthread_mutex_t *b = backward ? &reload_first : &reload_second;
    pthread_mutex_lock(a);
    pthread_mutex_lock(b);
    pthread_mutex_unlock(b);
    pthread_mutex_unlock(a);
}
