/* test-sigblock.c - src/util/sigblock.c: an internal-lock section blocks every signal (two
 * system calls), or, in lazy mode, blocks nothing and a handler of the runtime's that
 * interrupts it (lg_sigblock_defer) runs only once the section ends, with its siginfo, while
 * the program's own mask comes back whole. Signals sent to the thread itself are delivered
 * before the sending call returns, so every count here is forced. */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "t.h"
#include "util/sigblock.h"

static volatile int ran, deferred, last_value;

static void handler(int sig, siginfo_t *si, void *uc)
{
    int d = lg_sigblock_defer(sig, si, uc);
    if (d == 1) {
        deferred++;
        return;
    }
    ran++;
    last_value = si->si_value.sival_int;
}

static int blocked(int sig)
{
    sigset_t m;
    pthread_sigmask(SIG_SETMASK, NULL, &m);
    return sigismember(&m, sig);
}

static void send(int sig, int value)
{
    union sigval v = {.sival_int = value};
    pthread_sigqueue(pthread_self(), sig, v);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;   /* re-queued while in its handler: not a loop */
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, NULL);   /* the program's own mask, to come back */

    /* Not lazy: the section blocks, the signal waits in the kernel. */
    lg_sigblock_enter();
    CHECK(blocked(SIGUSR1));
    send(SIGUSR1, 1);
    CHECK_INT(ran, 0);
    lg_sigblock_leave();
    CHECK_INT(ran, 1);
    CHECK_INT(deferred, 0);
    CHECK(!blocked(SIGUSR1));
    CHECK(blocked(SIGHUP));

    /* Lazy: nothing blocked; a signal inside is deferred, then delivered with its value. */
    lg_sigblock_lazy_start();
    ran = 0;
    lg_sigblock_enter();
    CHECK(!blocked(SIGUSR1));
    send(SIGUSR1, 42);
    CHECK_INT(deferred, 1);
    CHECK_INT(ran, 0);
    CHECK(blocked(SIGUSR1));   /* blocked for the rest of the section */
    CHECK(!blocked(32));       /* glibc's SIGCANCEL stays deliverable */
    lg_sigblock_enter();       /* a nested section: still deferred */
    send(SIGUSR2, 7);          /* SA_NODEFER: blocked now, so it waits in the kernel */
    lg_sigblock_leave();
    CHECK_INT(ran, 0);
    lg_sigblock_leave();
    CHECK_INT(ran, 2);         /* both, at the outer section's end */
    CHECK_INT(deferred, 1);
    CHECK(!blocked(SIGUSR1));
    CHECK(!blocked(SIGUSR2));
    CHECK(blocked(SIGHUP));    /* the program's mask, not the handler's */

    /* SA_NODEFER handler deferred itself: queued once, delivered once. */
    ran = 0;
    deferred = 0;
    lg_sigblock_enter();
    send(SIGUSR2, 9);
    CHECK_INT(deferred, 1);
    CHECK_INT(ran, 0);
    lg_sigblock_leave();
    CHECK_INT(ran, 1);
    CHECK_INT(last_value, 9);
    CHECK_INT(deferred, 1);

    /* Outside a section: at once. */
    ran = 0;
    send(SIGUSR1, 3);
    CHECK_INT(ran, 1);
    CHECK_INT(last_value, 3);

    /* A fault of the runtime's own code inside a lazy section cannot wait: 2. */
    siginfo_t fault;
    memset(&fault, 0, sizeof fault);
    fault.si_code = SEGV_MAPERR;
    lg_sigblock_enter();
    CHECK_INT(lg_sigblock_defer(SIGSEGV, &fault, NULL), 2);
    lg_sigblock_leave();
    CHECK_INT(lg_sigblock_defer(SIGSEGV, &fault, NULL), 0);

    /* Lazy mode ended (the program installs a handler): sections block again. */
    lg_sigblock_lazy_stop();
    ran = 0;
    deferred = 0;
    lg_sigblock_enter();
    CHECK(blocked(SIGUSR1));
    send(SIGUSR1, 5);
    CHECK_INT(ran, 0);
    lg_sigblock_leave();
    CHECK_INT(ran, 1);
    CHECK_INT(deferred, 0);
    CHECK(blocked(SIGHUP));

    printf("%d checks, %d failed\n", t_checks, t_failures);
    return t_failures != 0;
}
