/* suid.c - linked against liblockgraph.so (DT_NEEDED: the loader brings the runtime in even
 * where LD_PRELOAD is ignored), run setuid/setgid by security.sh: makes a lock-order inversion,
 * which the runtime would report to LOCKGRAPH_LOG and LOCKGRAPH_JSON, and says whether the
 * runtime is loaded and whether the kernel marked the process AT_SECURE, so the test knows
 * the case it checks really happened. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/auxv.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
    pthread_mutex_lock(&a);
    pthread_mutex_lock(&b);
    pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
    pthread_mutex_lock(&b);
    pthread_mutex_lock(&a);
    pthread_mutex_unlock(&a);
    pthread_mutex_unlock(&b);
    printf("runtime %s, secure %lu\n", dlsym(RTLD_DEFAULT, "lg_runtime_state") ? "loaded" : "absent",
           getauxval(AT_SECURE));
    return 0;
}
