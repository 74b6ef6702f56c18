/* sigblock.c - see sigblock.h. Per thread: how many internal locks it holds, and the mask
 * to restore when that count returns to 0. */
#include "sigblock.h"

#include <pthread.h>

static __thread unsigned tl_depth __attribute__((tls_model("initial-exec")));
static __thread sigset_t tl_saved __attribute__((tls_model("initial-exec")));
static __thread _Bool tl_blocked __attribute__((tls_model("initial-exec")));

void lg_sigblock_enter(void)
{
    if (tl_depth++ == 0) {
        sigset_t all;
        sigfillset(&all);
        /* glibc keeps its own SIGCANCEL and SIGSETXID deliverable. A failure leaves the mask
         * as it was: the section then runs unprotected, and nothing is restored. */
        tl_blocked = pthread_sigmask(SIG_BLOCK, &all, &tl_saved) == 0;
    }
}

void lg_sigblock_leave(void)
{
    if (tl_depth && --tl_depth == 0 && tl_blocked)
        pthread_sigmask(SIG_SETMASK, &tl_saved, NULL);
}

void lg_sigblock_after_fork(void)
{
    if (tl_depth) {
        tl_depth = 0;
        if (tl_blocked)
            pthread_sigmask(SIG_SETMASK, &tl_saved, NULL);
    }
}
