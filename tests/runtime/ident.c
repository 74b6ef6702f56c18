/* ident.c - lock identity and ownership under the runtime (issue 10, points 5 and 8):
 *   rt-ident MODE [ARGS]
 * handoff        a lock released by another thread than its holder: the holder's state
 *                forgets it (no edge from it afterwards, no "exited holding" note)
 * hold N         N locks held at once (taken in order, released in reverse), 3 rounds;
 *                prints VmHWM
 * churn N        N heap mutexes created, locked, destroyed, freed; then N malloc/init/free
 *                without destroy; prints VmHWM and the count
 * bigfree        locks spread over a 1 MiB block (several pages and 64 KiB regions, a
 *                spinlock at a 4-byte offset), freed without destroy
 * dlreuse A B    dlopen A, its two mutexes in one order, dlclose; dlopen B, the other
 *                order: prints each library's lock addresses (the test checks they coincide)
 * seccomp [bad]  installs a strict seccomp filter (only the system calls this program makes
 *                itself, else the process is killed), then locks in threads; `bad` then
 *                makes one call outside the filter (the filter is real: it must be killed)
 * Every mode runs to completion; orders are forced with joins and semaphores.
 */
#include <dlfcn.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static pthread_mutex_t hand_m = PTHREAD_MUTEX_INITIALIZER;   /* handed over */
static pthread_mutex_t hand_n = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t hand_exit = PTHREAD_MUTEX_INITIALIZER; /* handed over, then exit */
static pthread_rwlock_t hand_r = PTHREAD_RWLOCK_INITIALIZER; /* read lock handed over */
static sem_t locked, released;

/* Holds M and a read of R, lets the releaser release both, then takes N: with M or R still
 * "held" in its state that would be the edges M -> N and R -> N. */
static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "holder");
    pthread_mutex_lock(&hand_m);
    pthread_rwlock_rdlock(&hand_r);
    sem_post(&locked);
    sem_wait(&released);
    pthread_mutex_lock(&hand_n);
    pthread_mutex_unlock(&hand_n);
    return NULL;
}

/* Holds one lock, which another thread releases; then exits with no event of its own. */
static void *holder_exits(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "exiter");
    pthread_mutex_lock(&hand_exit);
    sem_post(&locked);
    sem_wait(&released);
    return NULL;
}

static void *releaser(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "releaser");
    sem_wait(&locked);
    pthread_mutex_unlock(&hand_m);
    pthread_rwlock_unlock(&hand_r);
    sem_post(&released);
    sem_wait(&locked);
    pthread_mutex_unlock(&hand_exit);
    sem_post(&released);
    return NULL;
}

NOINLINE static void handoff(void)
{
    sem_init(&locked, 0, 0);
    sem_init(&released, 0, 0);
    pthread_t h, e, r;
    pthread_create(&r, NULL, releaser, NULL);
    pthread_create(&h, NULL, holder, NULL);
    pthread_join(h, NULL);
    pthread_create(&e, NULL, holder_exits, NULL);
    pthread_join(e, NULL);
    pthread_join(r, NULL);
    /* The consistent order, N before M and R: an inversion only if M or R stayed held. */
    pthread_mutex_lock(&hand_n);
    pthread_mutex_lock(&hand_m);
    pthread_rwlock_wrlock(&hand_r);
    pthread_rwlock_unlock(&hand_r);
    pthread_mutex_unlock(&hand_m);
    pthread_mutex_unlock(&hand_n);
    printf("handoff done\n");
}

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

NOINLINE static void hold(long n)
{
    pthread_mutex_t *ms = calloc((size_t)n, sizeof *ms);
    for (long i = 0; i < n; i++)
        pthread_mutex_init(&ms[i], NULL);
    for (int round = 0; round < 3; round++) {
        for (long i = 0; i < n; i++)
            pthread_mutex_lock(&ms[i]);
        for (long i = n; i-- > 0;)
            pthread_mutex_unlock(&ms[i]);
    }
    printf("held %ld VmHWM %ld\n", n, vm_hwm_kb());
}

NOINLINE static void churn(long n)
{
    long done = 0;
    for (long i = 0; i < n; i++) {
        pthread_mutex_t *m = malloc(sizeof *m);
        pthread_mutex_init(m, NULL);
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
        pthread_mutex_destroy(m);
        free(m);
        done++;
    }
    for (long i = 0; i < n; i++) {   /* freed without destroy */
        pthread_mutex_t *m = malloc(sizeof *m);
        pthread_mutex_init(m, NULL);
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
        free(m);
        done++;
    }
    printf("churn %ld VmHWM %ld\n", done, vm_hwm_kb());
}

NOINLINE static void bigfree(void)
{
    const size_t size = 1u << 20;
    const size_t at[] = {0, 3 * 65536 + 16, size - 64};   /* mutexes */
    char *b = malloc(size);
    for (size_t i = 0; i < 3; i++)
        pthread_mutex_init((pthread_mutex_t *)(b + at[i]), NULL);
    pthread_spinlock_t *s = (pthread_spinlock_t *)(b + 4096 + 4);
    pthread_spin_init(s, 0);
    for (size_t i = 0; i < 3; i++)
        pthread_mutex_lock((pthread_mutex_t *)(b + at[i]));
    pthread_spin_lock(s);
    pthread_spin_unlock(s);
    for (size_t i = 3; i-- > 0;)
        pthread_mutex_unlock((pthread_mutex_t *)(b + at[i]));
    free(b);
    printf("bigfree done\n");
}

NOINLINE static int load_and_run(const char *path, int backward)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return -1;
    }
    void *(*lock)(int) = (void *(*)(int))dlsym(h, "reload_lock");
    void (*run)(int) = (void (*)(int))dlsym(h, "reload_run");
    if (!lock || !run) {
        fprintf(stderr, "%s: no reload_lock/reload_run\n", path);
        return -1;
    }
    printf("locks %p %p\n", lock(0), lock(1));
    run(backward);
    return dlclose(h);
}

/* What this program's own code and glibc need after start-up: output, futexes, threads
 * (stacks, guard pages, robust lists, rseq, signal masks), malloc, exit. Nothing for the
 * runtime. */
static const int allowed[] = {
    SYS_write, SYS_futex, SYS_exit, SYS_exit_group, SYS_rt_sigreturn, SYS_rt_sigprocmask, SYS_rt_sigaction,
    SYS_mmap, SYS_munmap, SYS_mprotect, SYS_madvise, SYS_brk, SYS_clone,
#ifdef SYS_clone3
    SYS_clone3,
#endif
#ifdef SYS_rseq
    SYS_rseq,
#endif
    SYS_set_robust_list, SYS_sched_yield, SYS_getrandom,
};

static int strict_filter(void)
{
    enum { N = sizeof allowed / sizeof *allowed };
    struct sock_filter f[4 + 2 * N + 1];
    size_t k = 0;
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (size_t i = 0; i < N; i++) {
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)allowed[i], 0, 1);
        f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    struct sock_fprog prog = {.len = (unsigned short)k, .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static pthread_mutex_t sc_a = PTHREAD_MUTEX_INITIALIZER, sc_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t sc_rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t sc_done;

static void *sc_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&sc_a);
        pthread_mutex_lock(&sc_b);
        pthread_mutex_unlock(&sc_b);
        pthread_mutex_unlock(&sc_a);
        pthread_rwlock_rdlock(&sc_rw);
        pthread_rwlock_unlock(&sc_rw);
        pthread_mutex_t m;   /* a new lock on the thread's stack, and one on the heap */
        pthread_mutex_init(&m, NULL);
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
        pthread_mutex_destroy(&m);
        pthread_mutex_t *h = malloc(sizeof *h);
        pthread_mutex_init(h, NULL);
        pthread_mutex_lock(&sc_a);
        pthread_mutex_lock(h);
        pthread_mutex_unlock(h);
        pthread_mutex_unlock(&sc_a);
        free(h);
    }
    sem_post(&sc_done);
    return NULL;
}

NOINLINE static int seccomp_run(bool bad)
{
    sem_init(&sc_done, 0, 0);
    if (strict_filter() != 0) {
        perror("seccomp");
        return 1;
    }
    if (bad)
        syscall(SYS_getppid);   /* not in the filter: killed here */
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, sc_worker, NULL);
    for (int i = 0; i < 4; i++)
        sem_wait(&sc_done);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    pthread_mutex_lock(&sc_b);   /* the main thread's first locks, after the filter */
    pthread_mutex_unlock(&sc_b);
    static const char msg[] = "seccomp done\n";
    return write(1, msg, sizeof msg - 1) == sizeof msg - 1 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    if (!strcmp(m, "handoff")) {
        handoff();
    } else if (!strcmp(m, "hold") && argc == 3) {
        hold(atol(argv[2]));
    } else if (!strcmp(m, "dlreuse") && argc == 4) {
        if (load_and_run(argv[2], 0) != 0 || load_and_run(argv[3], 1) != 0)
            return 1;
    } else if (!strcmp(m, "seccomp")) {
        return seccomp_run(argc > 2 && !strcmp(argv[2], "bad"));
    } else if (!strcmp(m, "bigfree")) {
        bigfree();
    } else if (!strcmp(m, "churn") && argc == 3) {
        churn(atol(argv[2]));
    } else {
        fprintf(stderr, "rt-ident: unknown mode '%s'\n", m);
        return 2;
    }
    return 0;
}
