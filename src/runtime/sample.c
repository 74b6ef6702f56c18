/* sample.c - the current user stack of another thread of the program, for --wait-timeout's
 * long-wait report ("what the holder does instead of releasing").
 *
 * The thread is sent a dedicated real-time signal whose handler (SA_RESTART, errno saved)
 * unwinds its own stack into the thread's record (no lock, no allocation: libgcc's unwinder
 * finds unwind tables through glibc's lock-free _dl_find_object) while the asking thread waits
 * up to 100 ms. A signal must not change the program: it is only sent when the thread runs, or
 * sleeps in a call SA_RESTART restarts (futex, read, write), read first from
 * /proc/self/task/TID/syscall; never in a sleep a signal cuts short (nanosleep, poll, select,
 * epoll_wait, ...), never when the thread blocks the signal or the program handles it itself.
 * Then the caller keeps the kernel's state and says why there is no stack.
 *
 * Not here: the report (wait.c), symbolization (report.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include "rt.h"

#define RT_SAMPLE_SIG (SIGRTMAX - 7)

typedef struct sample_walk {
    uintptr_t pcs[RT_SAMPLE_FRAMES + 8];
    int n;
} sample_walk;

static _Unwind_Reason_Code collect(struct _Unwind_Context *ctx, void *arg)
{
    sample_walk *w = arg;
    int before = 0;
    uintptr_t pc = _Unwind_GetIPInfo(ctx, &before);
    if (!pc || w->n >= (int)(sizeof w->pcs / sizeof *w->pcs))
        return _URC_END_OF_STACK;
    w->pcs[w->n++] = pc;
    return _URC_NO_REASON;
}

static void on_sample(int sig, siginfo_t *si, void *ucv)
{
    int saved = errno;
    if (lg_sigblock_defer(sig, si, ucv)) {   /* inside a runtime section: after it */
        errno = saved;
        return;
    }
    rt_thread *t = rt_self;
    uint32_t want = t && t->tid ? atomic_load(&t->sample_want) : 0;
    if (want && want != atomic_load(&t->sample_done) && si->si_code == SI_TKILL &&
        si->si_pid == getpid()) {
        /* Start at the interrupted instruction: the frames of this handler go. */
        uintptr_t at = (uintptr_t)((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
        sample_walk w = {.n = 0};
        _Unwind_Backtrace(collect, &w);
        int from = 0;
        while (from < w.n && w.pcs[from] != at)
            from++;
        int n = 0;
        for (int i = from < w.n ? from : w.n; i < w.n && n < RT_SAMPLE_FRAMES; i++)
            t->sample_pcs[n++] = w.pcs[i];
        t->sample_n = (uint8_t)n;
        atomic_store_explicit(&t->sample_done, want, memory_order_release);
    }
    errno = saved;
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t k = read(fd, buf, len - 1);
    close(fd);
    buf[k > 0 ? k : 0] = '\0';
    return k;
}

/* The system calls SA_RESTART restarts, where a thread may be sampled while it sleeps. */
static bool restartable(long nr)
{
    return nr == SYS_futex || nr == SYS_read || nr == SYS_write;
}

static const char *syscall_name(long nr)
{
    switch (nr) {
    case SYS_nanosleep: return "nanosleep";
    case SYS_clock_nanosleep: return "clock_nanosleep";
    case SYS_poll: return "poll";
    case SYS_ppoll: return "ppoll";
    case SYS_select: return "select";
    case SYS_pselect6: return "pselect6";
    case SYS_epoll_wait: return "epoll_wait";
    case SYS_epoll_pwait: return "epoll_pwait";
    case SYS_pause: return "pause";
    case SYS_rt_sigsuspend: return "sigsuspend";
    case SYS_wait4: return "wait4";
    default: return NULL;
    }
}

bool rt_sample_handler(void *fn)
{
    return fn == (void *)on_sample;
}

static int install(void)
{
    static _Atomic int state;   /* 0 not yet, 1 ours, -1 the program's */
    int s = atomic_load(&state);
    if (s)
        return s;
    struct sigaction old;
    if (rt_sigaction_own(RT_SAMPLE_SIG, NULL, &old) < 0 || old.sa_handler != SIG_DFL) {
        atomic_store(&state, -1);
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sample;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    s = rt_sigaction_own(RT_SAMPLE_SIG, &sa, NULL) == 0 ? 1 : -1;
    atomic_store(&state, s);
    return s;
}

size_t rt_sample_stack(rt_thread *h, uint64_t *pcs, size_t max, char *why, size_t whylen)
{
    char path[64], buf[512];
    why[0] = '\0';
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", h->tid);
    if (read_small(path, buf, sizeof buf) <= 0) {
        snprintf(why, whylen, "its system call is unknown");
        return 0;
    }
    if (strncmp(buf, "running", 7) != 0) {
        long nr = strtol(buf, NULL, 10);
        if (!restartable(nr)) {
            const char *name = syscall_name(nr);
            if (name)
                snprintf(why, whylen, "not interrupted: a signal would cut its %s short", name);
            else
                snprintf(why, whylen, "not interrupted in system call %ld", nr);
            return 0;
        }
    }
    snprintf(path, sizeof path, "/proc/self/task/%d/status", h->tid);
    if (read_small(path, buf, sizeof buf) > 0) {
        const char *blk = strstr(buf, "SigBlk:");
        unsigned long long mask = blk ? strtoull(blk + 7, NULL, 16) : 0;
        if (mask & (1ull << (RT_SAMPLE_SIG - 1))) {
            snprintf(why, whylen, "it blocks signal %d", RT_SAMPLE_SIG);
            return 0;
        }
    }
    if (install() < 0) {
        snprintf(why, whylen, "the program handles signal %d itself", RT_SAMPLE_SIG);
        return 0;
    }
    static _Atomic uint32_t seq;
    uint32_t want = atomic_fetch_add(&seq, 1) + 1;
    if (!want)
        want = atomic_fetch_add(&seq, 1) + 1;
    atomic_store(&h->sample_want, want);
    if (syscall(SYS_tgkill, getpid(), h->tid, RT_SAMPLE_SIG) < 0) {
        snprintf(why, whylen, "cannot signal it: %s", strerror(errno));
        return 0;
    }
    for (int i = 0; i < 100; i++) {
        if (atomic_load_explicit(&h->sample_done, memory_order_acquire) == want) {
            size_t n = h->sample_n < max ? h->sample_n : max;
            for (size_t k = 0; k < n; k++)
                pcs[k] = h->sample_pcs[k];
            if (!n)
                snprintf(why, whylen, "its stack could not be unwound");
            return n;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    snprintf(why, whylen, "it did not answer within 100 ms");
    return 0;
}
