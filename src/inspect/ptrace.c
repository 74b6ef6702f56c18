/* ptrace.c - stop every thread of a live process briefly and let it go exactly as it was.
 *
 * PTRACE_SEIZE + PTRACE_INTERRUPT stop a thread without a group stop and without sending a
 * signal; a futex wait interrupted this way restarts transparently after PTRACE_DETACH. A
 * signal that arrives while we hold a thread shows up as a signal-delivery stop: we keep it
 * and hand it back at detach, so nothing is lost. Threads created meanwhile are found by
 * re-reading /proc/PID/task until the list is stable.
 * Not here: what the threads are doing (proc.c, decode.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

enum { STOP_TIMEOUT_MS = 2000 };   /* a thread in uninterruptible sleep may never stop */

static int seize(insp_target *tg, insp_thread *t, char *err, size_t errlen)
{
    if (t->state == 'Z' || t->state == 'X')
        return 0;   /* an exited thread (the main one, say): nothing to stop */
    if (ptrace(PTRACE_SEIZE, t->tid, 0L, 0L) != 0) {
        if (errno == ESRCH)
            return 0;   /* exited meanwhile: nothing to stop */
        int e = errno;
        if (e == EPERM && t == &tg->t[0])
            insp_explain_denied(tg->pid, err, errlen);
        else
            snprintf(err, errlen, "cannot attach to thread %d of process %d: %s", t->tid,
                     tg->pid, strerror(e));
        return -1;
    }
    if (ptrace(PTRACE_INTERRUPT, t->tid, 0L, 0L) != 0) {
        ptrace(PTRACE_DETACH, t->tid, 0L, 0L);
        return 0;
    }
    t->stopped = true;
    return 0;
}

/* Wait for one seized thread's stop. Returns 1 stopped, 0 gone, -1 not yet. */
static int await_stop(insp_thread *t)
{
    int st;
    pid_t r = waitpid(t->tid, &st, __WALL | WNOHANG);
    if (r == 0)
        return -1;
    if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
        t->stopped = false;
        return 0;
    }
    if (WIFSTOPPED(st)) {
        int sig = WSTOPSIG(st);
        /* PTRACE_EVENT_STOP (our interrupt, or a group stop) carries no signal to keep; a
         * signal-delivery stop does, and it must be delivered at detach. */
        if ((st >> 16) != PTRACE_EVENT_STOP && sig != SIGTRAP)
            t->pending_sig = sig;
    }
    return 1;
}

int ptrace_stop_all(insp_target *tg, char *err, size_t errlen)
{
    double t0 = insp_now_ms();
    size_t done = 0;
    for (int round = 0; round < 50; round++) {
        for (size_t i = done; i < tg->n; i++)
            if (seize(tg, &tg->t[i], err, errlen) < 0) {
                ptrace_resume_all(tg);
                return -1;
            }
        done = tg->n;
        /* Threads created while we seized the others. */
        int *tids;
        size_t n;
        if (proc_task_list(tg->pid, &tids, &n) < 0)
            break;
        size_t before = tg->n;
        for (size_t i = 0; i < n; i++)
            if (!insp_find_thread(tg, tids[i]) && !insp_add_thread(tg, tids[i]))
                break;
        free(tids);
        if (tg->n == before)
            break;
    }
    /* Collect the stops, bounded. */
    size_t pending = 0;
    for (size_t i = 0; i < tg->n; i++)
        pending += tg->t[i].stopped;
    bool *seen = calloc(tg->n ? tg->n : 1, 1);
    if (!seen) {
        snprintf(err, errlen, "out of memory");
        ptrace_resume_all(tg);
        return -1;
    }
    while (pending) {
        for (size_t i = 0; i < tg->n; i++) {
            if (!tg->t[i].stopped || seen[i])
                continue;
            int r = await_stop(&tg->t[i]);
            if (r >= 0) {
                seen[i] = true;
                pending--;
            }
        }
        if (!pending)
            break;
        if (insp_now_ms() - t0 > STOP_TIMEOUT_MS) {
            for (size_t i = 0; i < tg->n; i++)
                if (tg->t[i].stopped && !seen[i]) {
                    insp_note(tg, "thread %d did not stop within %d ms (state %c); its stack "
                              "is missing", tg->t[i].tid, STOP_TIMEOUT_MS,
                              tg->t[i].state ? tg->t[i].state : '?');
                    tg->t[i].stopped = false;   /* detach below still releases it */
                    ptrace(PTRACE_DETACH, tg->t[i].tid, 0L, 0L);
                    /* off its CPU all this while: its system call costs no wait now */
                    proc_read_syscall(tg, &tg->t[i]);
                }
            break;
        }
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    free(seen);
    return 0;
}

/* Registers while stopped: the same view a core's NT_PRSTATUS gives. A thread stopped inside
 * a system call has orig_rax >= 0 and rax = -ERESTART*; one stopped in user mode -1. */
void ptrace_read_regs(insp_target *tg)
{
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        struct user_regs_struct r;
        if (!t->stopped || ptrace(PTRACE_GETREGS, t->tid, 0L, &r) != 0)
            continue;
        long nr = (long)r.orig_rax;
        insp_set_dregs(t, &r);
        if (nr < 0) {
            t->nr = INSP_NR_RUNNING;
            t->user_rdi = r.rdi;
            continue;
        }
        /* The system call and its arguments from the registers: the same view a core's
         * NT_PRSTATUS gives, read only now that the thread is stopped. */
        t->nr = nr;
        insp_set_args(t, &r);
    }
}

void ptrace_resume_all(insp_target *tg)
{
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        if (!t->stopped)
            continue;
        ptrace(PTRACE_DETACH, t->tid, 0L, (long)t->pending_sig);
        t->stopped = false;
    }
}
