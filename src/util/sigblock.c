/* sigblock.c - see sigblock.h. Per thread: how many internal locks it holds, and the mask
 * to restore when that count returns to 0; in lazy mode, whether a handler of ours found
 * the thread inside a section and blocked signals for the rest of it. */
#include "sigblock.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static __thread unsigned tl_depth __attribute__((tls_model("initial-exec")));
static __thread sigset_t tl_saved __attribute__((tls_model("initial-exec")));
static __thread _Bool tl_blocked __attribute__((tls_model("initial-exec")));
/* Lazy mode: this section runs with the program's mask (no system call); tl_deferred is set
 * by a handler of ours that found the thread inside it, which left every signal blocked for
 * the rest of the section and queued its signal again; tl_lazy_mask is the mask to give back
 * then (the intersection of the masks the handlers interrupted: an inner handler's is the
 * outer one's plus what the outer blocked, so the intersection is the section's own). */
static __thread _Bool tl_lazy __attribute__((tls_model("initial-exec")));
static __thread volatile sig_atomic_t tl_deferred __attribute__((tls_model("initial-exec")));
static __thread volatile uint64_t tl_lazy_mask __attribute__((tls_model("initial-exec"))) = ~(uint64_t)0;

static _Atomic int lazy_on;      /* no handler but ours can run: sections need not block */
static _Atomic long inflight;    /* threads inside a lazy section */

static void block_all(void)
{
    sigset_t all;
    sigfillset(&all);
    /* glibc keeps its own SIGCANCEL and SIGSETXID deliverable. A failure leaves the mask
     * as it was: the section then runs unprotected, and nothing is restored. */
    tl_blocked = pthread_sigmask(SIG_BLOCK, &all, &tl_saved) == 0;
}

void lg_sigblock_enter(void)
{
    if (tl_depth++ != 0)
        return;
    atomic_signal_fence(memory_order_seq_cst);   /* a handler sees the section begun */
    if (atomic_load_explicit(&lazy_on, memory_order_relaxed)) {
        atomic_fetch_add(&inflight, 1);
        if (atomic_load(&lazy_on)) {   /* seq_cst: or lg_sigblock_lazy_stop sees us */
            tl_lazy = 1;
            return;
        }
        atomic_fetch_sub(&inflight, 1);
    }
    tl_lazy = 0;
    block_all();
}

void lg_sigblock_leave(void)
{
    if (!tl_depth)
        return;
    if (tl_depth > 1 || !tl_lazy) {
        if (--tl_depth == 0 && tl_blocked)
            pthread_sigmask(SIG_SETMASK, &tl_saved, NULL);
        return;
    }
    /* The outermost lazy section ends (its lock released): from tl_lazy = 0 on, a handler of
     * ours runs at once, and a section of its own is a nested one here (tl_depth is still 1),
     * so inflight is given back once. */
    tl_lazy = 0;
    atomic_signal_fence(memory_order_seq_cst);
    tl_depth = 0;
    atomic_fetch_sub(&inflight, 1);
    if (tl_deferred) {
        /* A handler of ours blocked everything for the rest of the section: the program's
         * mask back, and the signals it queued are delivered now, as after a block. */
        sigset_t m;
        sigemptyset(&m);
        uint64_t w = tl_lazy_mask;
        memcpy(&m, &w, sizeof w);
        tl_lazy_mask = ~(uint64_t)0;
        tl_deferred = 0;
        pthread_sigmask(SIG_SETMASK, &m, NULL);
    }
}

void lg_sigblock_lazy_start(void)
{
    atomic_store(&lazy_on, 1);
}

void lg_sigblock_lazy_stop(void)
{
    if (!atomic_load(&lazy_on))
        return;
    atomic_store(&lazy_on, 0);
    /* Sections already begun lazily end soon (they never wait for the program); the calling
     * thread's own one, if any, is not waited for. */
    long self = tl_depth && tl_lazy ? 1 : 0;
    while (atomic_load(&inflight) > self)
        sched_yield();
}

int lg_sigblock_defer(int sig, siginfo_t *si, void *ucv)
{
    if (!tl_depth || !tl_lazy)
        return 0;
    bool fault = (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
                  sig == SIGTRAP) && si && si->si_code > 0;
    if (fault)
        return 2;   /* the runtime's own fault: as when blocked, the default action */
    ucontext_t *uc = ucv;
    uint64_t w;
    memcpy(&w, &uc->uc_sigmask, sizeof w);
    tl_lazy_mask &= w;
    tl_deferred = 1;
    /* Every signal blocked when this handler returns (the kernel restores uc_sigmask), but
     * glibc's SIGCANCEL and SIGSETXID, as pthread_sigmask keeps them. */
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, 32);
    sigdelset(&all, 33);
    pthread_sigmask(SIG_BLOCK, &all, NULL);   /* not again into this handler (SA_NODEFER) */
    memcpy(&uc->uc_sigmask, &all, sizeof w);
    /* Pending again, with its siginfo, for this thread: delivered at the section's end. */
    if (syscall(SYS_rt_tgsigqueueinfo, (long)getpid(), (long)syscall(SYS_gettid), (long)sig, si) != 0)
        syscall(SYS_tgkill, (long)getpid(), (long)syscall(SYS_gettid), (long)sig);
    return 1;
}

void lg_sigblock_after_fork(void)
{
    atomic_store(&inflight, 0);   /* the parent's other threads are not here */
    if (tl_depth) {
        tl_depth = 0;
        if (tl_lazy) {
            tl_lazy = 0;
            if (tl_deferred) {
                sigset_t m;
                sigemptyset(&m);
                uint64_t w = tl_lazy_mask;
                memcpy(&m, &w, sizeof w);
                tl_lazy_mask = ~(uint64_t)0;
                tl_deferred = 0;
                pthread_sigmask(SIG_SETMASK, &m, NULL);
            }
        } else if (tl_blocked) {
            pthread_sigmask(SIG_SETMASK, &tl_saved, NULL);
        }
    }
}
