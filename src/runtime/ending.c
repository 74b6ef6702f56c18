/* ending.c - the ways a program image ends that the exit handler (init.c) does not see:
 * _exit/_Exit, the exec family, fatal signals. Each still delivers the JSON report and the
 * trace.
 *
 * - _exit, _Exit: the same work as the exit handler (rt_finish: JSON, and --exitcode when a
 *   defect was found), then the real call. Not in a vfork child (it shares the parent's
 *   memory: the pid is not the one the runtime knows) nor from the runtime's own exit path.
 * - exec (execve, execv, execvp, execvpe): the trace is flushed, the JSON written (when
 *   this image found or noted something), the launcher told (handshake.c), then the real
 *   call; if it fails, the program goes on as
 *   before. The image that follows is a new process image of the same pid: when this one
 *   found defects, it is told so in LOCKGRAPH_PRIOR_DEFECTS (added to a copy of the
 *   environment passed to the real call), notes them, ends with --exitcode too and writes its
 *   own JSON beside (FILE.exec1, ...: FILE keeps the findings made before the exec).
 * - fatal signals: a handler that writes the JSON and flushes the trace, then re-raises with
 *   the default action, wherever the program's disposition is the default. The program's
 *   sigaction()/signal() calls are passed through and answered with the program's own view:
 *   setting SIG_DFL on one of these signals installs the handler instead, and asking for the
 *   disposition then answers SIG_DFL; any other handler replaces ours.
 * - lazy signal sections (src/util/sigblock.h): every way glibc offers to install a handler
 *   (sigaction, __sigaction, signal, bsd_signal, ssignal, sysv_signal, sigset) tells sigblock
 *   first, which then blocks signals in the runtime's sections again for good; until then
 *   (and when no disposition was a handler at start) they block nothing, and the runtime's
 *   own handlers defer themselves to the section's end.
 * Not here: the normal exit (init.c), the report itself (report.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "record.h"
#include "rt.h"

static void (*real__exit)(int);
static void (*real__Exit)(int);
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static __sighandler_t (*real_signal)(int, __sighandler_t);
static _Atomic int finishing;

void rt_ending_resolve(void)
{
    if (real_sigaction)
        return;
    real__exit = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
    real__Exit = (void (*)(int))dlsym(RTLD_NEXT, "_Exit");
    real_execve = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execve");
    real_execvpe = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execvpe");
    real_signal = (__sighandler_t (*)(int, __sighandler_t))dlsym(RTLD_NEXT, "signal");
    __atomic_store_n(&real_sigaction,
                     (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction"),
                     __ATOMIC_RELEASE);
}

static inline void resolve(void)
{
    if (!__atomic_load_n(&real_sigaction, __ATOMIC_ACQUIRE))
        rt_ending_resolve();
}

/* This process is the one the runtime was set up in (not a vfork child running on the
 * parent's memory, whose fork handlers never ran). */
static bool own_process(void)
{
    return atomic_load_explicit(&rt.ready, memory_order_acquire) && (int)syscall(SYS_getpid) == rt_pid();
}

void rt_ending_begin(void)
{
    atomic_store(&finishing, 1);
}

__attribute__((noreturn)) static void end_now(void (*real)(int), int status)
{
    if (!atomic_exchange(&finishing, 1) && own_process()) {
        rt_guard_on(rt_thread_setup());
        if (lg_trace_on)
            lg_trace_close();
        if (rt_finish() > 0)
            status = rt.cfg.exitcode;
    }
    if (real)
        real(status);
    syscall(SYS_exit_group, status);
    for (;;)
        ;
}

RT_EXPORT void _exit(int status)
{
    resolve();
    end_now(real__exit, status);
}

RT_EXPORT void _Exit(int status)
{
    resolve();
    end_now(real__Exit, status);
}

/* ---- exec ---- */

static int prior_defects, prior_gen;

void rt_ending_init(void)
{
    rt_ending_resolve();
    /* "N:G:PID": N defects in the images before this one of process PID, G images ago. */
    const char *p = secure_getenv("LOCKGRAPH_PRIOR_DEFECTS");
    int n, g, pid;
    if (p && sscanf(p, "%d:%d:%d", &n, &g, &pid) == 3 && pid == rt_pid() && n > 0 && g > 0) {
        prior_defects = n;
        prior_gen = g;
    }
}

int rt_ending_prior_defects(int *gen)
{
    *gen = prior_gen;
    return prior_defects;
}

static const char prior_var[] = "LOCKGRAPH_PRIOR_DEFECTS=";

/* env with LOCKGRAPH_PRIOR_DEFECTS set, in the runtime's own memory (never the program's
 * allocator: exec may be called from a child after fork); *bytes to unmap it. NULL: use env. */
static char **env_with_prior(char *const env[], int defects, size_t *bytes)
{
    size_t n = 0;
    while (env && env[n])
        n++;
    *bytes = (n + 2) * sizeof(char *) + 64;
    char **e = rt_map(*bytes);
    if (!e)
        return NULL;
    char *entry = (char *)(e + n + 2);
    snprintf(entry, 64, "%s%d:%d:%d", prior_var, defects, prior_gen + 1, rt_pid());
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(env[i], prior_var, sizeof prior_var - 1) != 0)
            e[k++] = env[i];
    e[k++] = entry;
    e[k] = NULL;
    return e;
}

/* Before the real exec: the trace flushed, the JSON written, the launcher told. Returns the
 * defects to pass on (0: none, or a vfork child, which changes nothing of the parent's). */
static int before_exec(void)
{
    if (!own_process())
        return 0;
    rt_thread *t = rt_thread_setup();
    rt_guard_on(t);
    RT_REC_FLUSH();
    /* The JSON only when this image has something to say: the next image (the same pid)
     * writes its own, and a fork-exec loop would leave a file per child otherwise. */
    int defects = rt_finish_image(false);
    if (!rt_report_has_content())
        rt_report_json_forget();
    rt_handshake_exec(true);
    rt_guard_off(t);
    return defects;
}

static void after_failed_exec(void)
{
    if (own_process())
        rt_handshake_exec(false);
}

/* One exec through the wrappers: the trace and JSON first, the environment with earlier
 * defects when this image found some (execv/execvp are execve/execvpe of environ), the real
 * call, and the launcher told again when it failed. */
static int exec_through(const char *p, char *const a[], char *const e[], bool search)
{
    resolve();
    int d = before_exec();
    size_t bytes = 0;
    char **env = d ? env_with_prior(e, d, &bytes) : NULL;
    char *const *use = env ? env : e;
    int r = search ? real_execvpe(p, a, use) : real_execve(p, a, use);
    int err = errno;
    if (env)
        munmap(env, bytes);
    after_failed_exec();
    errno = err;
    return r;
}

RT_EXPORT int execve(const char *p, char *const a[], char *const e[])
{
    return exec_through(p, a, e, false);
}

RT_EXPORT int execvpe(const char *p, char *const a[], char *const e[])
{
    return exec_through(p, a, e, true);
}

RT_EXPORT int execv(const char *p, char *const a[])
{
    extern char **environ;
    return exec_through(p, a, environ, false);
}

RT_EXPORT int execvp(const char *p, char *const a[])
{
    extern char **environ;
    return exec_through(p, a, environ, true);
}

/* ---- fatal signals ---- */

static const int fatal[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS,
                            SIGFPE, SIGILL};
static bool watching;                 /* a JSON or a trace to deliver */
static _Atomic bool ours[NSIG];       /* the kernel has on_fatal, the program sees SIG_DFL */
static struct sigaction view[NSIG];   /* what the program last set there (SIG_DFL) */

static bool covered(int sig)
{
    if (!watching || sig <= 0 || sig >= NSIG)
        return false;
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
        if (fatal[i] == sig)
            return true;
    return false;
}

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
    /* Inside a section of the runtime's (lazy signal mode, sigblock.h): after it, as a
     * blocked signal would be; a fault of the runtime's own code there: the default action. */
    int d = lg_sigblock_defer(sig, si, uc);
    if (d == 1)
        return;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    real_sigaction(sig, &dfl, NULL);   /* what SA_RESETHAND did, once not deferred */
    if (d == 2)
        return;
    rt_guard_on(rt_self);
    RT_REC_FLUSH();
    rt_report_write_json();
    raise(sig);
}

/* No SA_RESETHAND: a deferred signal must find the handler again (on_fatal resets it). */
static void our_action(struct sigaction *sa, const sigset_t *mask)
{
    memset(sa, 0, sizeof *sa);
    sa->sa_sigaction = on_fatal;
    if (mask)
        sa->sa_mask = *mask;
    sa->sa_flags = SA_SIGINFO | SA_NODEFER;
}

/* The handler an action installs, if it is a function (not SIG_DFL, SIG_IGN, SIG_HOLD). */
static bool runs_handler(const struct sigaction *act)
{
    uintptr_t h = act->sa_flags & SA_SIGINFO ? (uintptr_t)act->sa_sigaction
                                             : (uintptr_t)act->sa_handler;
    return h > 2 && h != (uintptr_t)SIG_ERR;
}

/* A handler of the program's from now on: sections block signals again (sigblock.h). */
static _Atomic bool program_handlers;

static void program_handler(void)
{
    atomic_store(&program_handlers, true);
    lg_sigblock_lazy_stop();
}

int rt_sigaction_own(int sig, const struct sigaction *act, struct sigaction *old)
{
    resolve();
    return real_sigaction(sig, act, old);
}

/* Lazy signal mode when no handler of the program's is installed (glibc's own SIGCANCEL and
 * SIGSETXID, which sections never block, aside; the runtime's own defer). One query per
 * signal, at start. */
static void lazy_signals(void)
{
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33)
            continue;
        struct sigaction old;
        if (real_sigaction(sig, NULL, &old) != 0)
            continue;
        uintptr_t h = old.sa_flags & SA_SIGINFO ? (uintptr_t)old.sa_sigaction
                                                : (uintptr_t)old.sa_handler;
        if (runs_handler(&old) && h != (uintptr_t)on_fatal && !rt_sample_handler((void *)h))
            return;
    }
    lg_sigblock_lazy_start();
    if (atomic_load(&program_handlers))   /* one installed meanwhile */
        lg_sigblock_lazy_stop();
}

void rt_ending_signals(void)
{
    resolve();
    watching = (rt.cfg.json && *rt.cfg.json) || lg_trace_on;
    if (!watching) {
        lazy_signals();
        return;
    }
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++) {
        struct sigaction old;
        if (real_sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL
            && !(old.sa_flags & SA_SIGINFO)) {
            struct sigaction sa;
            our_action(&sa, NULL);
            view[fatal[i]] = old;
            if (real_sigaction(fatal[i], &sa, NULL) == 0)
                atomic_store(&ours[fatal[i]], true);
        }
    }
    lazy_signals();
}

RT_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    resolve();
    if (act && runs_handler(act))
        program_handler();   /* before it can run */
    if (!covered(sig))
        return real_sigaction(sig, act, old);
    bool was = atomic_load(&ours[sig]);
    struct sigaction prev = view[sig];
    int r;
    if (act && act->sa_handler == SIG_DFL) {
        struct sigaction sa;
        our_action(&sa, &act->sa_mask);
        r = real_sigaction(sig, &sa, was ? NULL : old);
        if (r == 0) {
            view[sig] = *act;
            atomic_store(&ours[sig], true);
        }
    } else {
        r = real_sigaction(sig, act, was ? NULL : old);
        if (r == 0 && act)
            atomic_store(&ours[sig], false);
    }
    if (r == 0 && was && old)
        *old = prev;
    return r;
}

/* glibc's signal() calls its sigaction internally: BSD semantics (SA_RESTART, the signal
 * blocked in its handler), answered through the interposed sigaction above. */
RT_EXPORT __sighandler_t signal(int sig, __sighandler_t h)
{
    resolve();
    if (!covered(sig))
        return real_signal ? real_signal(sig, h) : SIG_ERR;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, sig);
    sa.sa_flags = SA_RESTART;
    if (sigaction(sig, &sa, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* glibc's other ways to set a handler, which call its sigaction internally (not the one
 * above): answered by the same code, or noted before the real call. */
RT_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return sigaction(sig, act, old);
}

RT_EXPORT __sighandler_t bsd_signal(int sig, __sighandler_t h)
{
    return signal(sig, h);
}

RT_EXPORT __sighandler_t ssignal(int sig, __sighandler_t h)
{
    return signal(sig, h);
}

static bool handler_fn(__sighandler_t h)
{
    return (uintptr_t)h > 2 && h != SIG_ERR;
}

RT_EXPORT __sighandler_t sysv_signal(int sig, __sighandler_t h)
{
    static __sighandler_t (*real)(int, __sighandler_t);
    if (!real)
        real = (__sighandler_t (*)(int, __sighandler_t))dlsym(RTLD_NEXT, "sysv_signal");
    if (handler_fn(h))
        program_handler();
    return real ? real(sig, h) : SIG_ERR;
}

RT_EXPORT __sighandler_t __sysv_signal(int sig, __sighandler_t h)
{
    return sysv_signal(sig, h);
}

RT_EXPORT __sighandler_t sigset(int sig, __sighandler_t h)
{
    static __sighandler_t (*real)(int, __sighandler_t);
    if (!real)
        real = (__sighandler_t (*)(int, __sighandler_t))dlsym(RTLD_NEXT, "sigset");
    if (handler_fn(h))
        program_handler();
    return real ? real(sig, h) : SIG_ERR;
}
