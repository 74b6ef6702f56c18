/* switcher.c - a test program that switches user before it has a lock-order inversion, as
 * a server dropping root does: `switcher UID`. Its report must still reach `--json`'s
 * directory, which the new user cannot write (the runtime made the file at the start). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t sw_first = PTHREAD_MUTEX_INITIALIZER, sw_second = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) static void in_order(pthread_mutex_t *a, pthread_mutex_t *b)
{
    pthread_mutex_lock(a);
    pthread_mutex_lock(b);
    pthread_mutex_unlock(b);
    pthread_mutex_unlock(a);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    uid_t uid = (uid_t)atoi(argv[1]);
    if (setgid((gid_t)uid) != 0 || setuid(uid) != 0) {
        perror("switcher: setuid");
        return 1;
    }
    in_order(&sw_first, &sw_second);
    in_order(&sw_second, &sw_first);
    printf("switcher: ran as uid %d\n", (int)getuid());
    return 0;
}
