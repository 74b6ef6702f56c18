/* output.c - programs that get in the way of the runtime's own output (tests/runtime/output.sh).
 * Every mode makes one lock-order inversion (A -> B in one thread, B -> A in another, joined in
 * between, so the order is forced), around what it does to its descriptors or its ending:
 *
 * fd2file PATH   closes fd 2, opens PATH (it lands on 2), writes "data\n" into it
 * fd2pipe        dup2s a pipe's write end over fd 2; prints "pipe N" (bytes that reached it)
 * closeall P Q   closes every descriptor >= 3 (close_range, else one by one), opens P and Q,
 *                writes "p-data\n" / "q-data\n" into them
 * _exit          ends with _exit(0)
 * exec           a thread execs /bin/true (execv) while two others lock in a loop
 * segv, abrt     dies of SIGSEGV (a store through NULL) / SIGABRT (abort()), through a
 *                handler of its own that says so, restores the default and lets the signal
 *                come again (the usual crash-handler shape)
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

static void *ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&a);
    pthread_mutex_lock(&b);
    pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
    return NULL;
}

static void *ba(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&b);
    pthread_mutex_lock(&a);
    pthread_mutex_unlock(&a);
    pthread_mutex_unlock(&b);
    return NULL;
}

static void inversion(void)
{
    pthread_t t;
    pthread_create(&t, NULL, ab, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, ba, NULL);
    pthread_join(t, NULL);
}

static int put(int fd, const char *s)
{
    return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : 1;
}

static void close_from_3(void)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
        return;
#endif
    struct rlimit rl;
    long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (long)rl.rlim_cur : 65536;
    for (long fd = 3; fd < max; fd++)
        close((int)fd);
}

static void crash_handler(int sig)
{
    static const char m[] = "crash handler\n";
    if (write(1, m, sizeof m - 1) < 0)
        _exit(5);
    signal(sig, SIG_DFL);   /* then the default action, when the handler returns */
    raise(sig);
}

static volatile int spin_stop;

static void *spinner(void *arg)
{
    (void)arg;
    while (!spin_stop) {
        pthread_mutex_lock(&a);
        pthread_mutex_unlock(&a);
    }
    return NULL;
}

static void *execer(void *arg)
{
    (void)arg;
    char *argv[] = {"/bin/true", NULL};
    execv("/bin/true", argv);
    perror("execv");
    _exit(1);
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    if (!strcmp(m, "fd2file") && argc == 3) {
        close(2);
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd != 2)
            return 3;
        inversion();
        int r = put(2, "data\n");
        close(2);
        return r;
    }
    if (!strcmp(m, "fd2pipe")) {
        int p[2];
        if (pipe2(p, O_NONBLOCK) != 0 || dup2(p[1], 2) != 2)
            return 3;
        close(p[1]);
        inversion();
        char buf[65536];
        ssize_t n = read(p[0], buf, sizeof buf);
        printf("pipe %zd\n", n < 0 ? (ssize_t)0 : n);
        return 0;
    }
    if (!strcmp(m, "closeall") && argc == 4) {
        close_from_3();
        int p = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int q = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (p < 0 || q < 0)
            return 3;
        inversion();
        for (int i = 0; i < 1000; i++) {   /* locks to record after the files are open */
            pthread_mutex_lock(&a);
            pthread_mutex_unlock(&a);
        }
        int r = put(p, "p-data\n") | put(q, "q-data\n");
        close(p);
        close(q);
        return r;
    }
    if (!strcmp(m, "_exit")) {
        inversion();
        _exit(0);
    }
    if (!strcmp(m, "exec")) {
        inversion();
        pthread_t s[2], e;
        for (int i = 0; i < 2; i++)
            pthread_create(&s[i], NULL, spinner, NULL);
        pthread_create(&e, NULL, execer, NULL);
        pthread_join(e, NULL);   /* never returns: the exec ends every thread */
        return 1;
    }
    if (!strcmp(m, "segv")) {
        signal(SIGSEGV, crash_handler);
        inversion();
        *(volatile int *)strtoul("0", NULL, 10) = 1;   /* a real fault, not raise() */
        return 1;
    }
    if (!strcmp(m, "abrt")) {
        signal(SIGABRT, crash_handler);
        inversion();
        abort();
    }
    fprintf(stderr, "rt-output: unknown mode '%s'\n", m);
    return 2;
}
