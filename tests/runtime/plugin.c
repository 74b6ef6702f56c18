/* plugin.c - a library loaded with dlopen by `cases dlopen`: its own locks, inverted. */
#include <pthread.h>

pthread_mutex_t plugin_first = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t plugin_second = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) static void plugin_forward(void)
{
    pthread_mutex_lock(&plugin_first);
    pthread_mutex_lock(&plugin_second);
    pthread_mutex_unlock(&plugin_second);
    pthread_mutex_unlock(&plugin_first);
}

__attribute__((noinline)) static void plugin_backward(void)
{
    pthread_mutex_lock(&plugin_second);
    pthread_mutex_lock(&plugin_first);
    pthread_mutex_unlock(&plugin_first);
    pthread_mutex_unlock(&plugin_second);
}

void plugin_inverts(void)
{
    plugin_forward();
    plugin_backward();
}
