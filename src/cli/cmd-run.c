/* cmd-run.c - `lockgraph run [OPTIONS] -- PROG ARGS`: run a program with the runtime preloaded.
 *
 * The options are generated from the runtime's own table (src/runtime/options.def): each flag
 * is passed on as its LOCKGRAPH_* environment variable, so setting the variable directly
 * (or plain LD_PRELOAD=liblockgraph.so) is equivalent. The runtime library is appended to
 * any LD_PRELOAD already set. Signals that end a terminal job are forwarded to the program.
 * Exit status: the program's (128+N if it died of signal N; 66, or --exitcode, when the
 * runtime found a defect); 127 when the program cannot be found, 126 when it cannot be
 * executed, 1 when the runtime library is missing, 2 for bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/xalloc.h"
#include "cli.h"
#include "run-hang.h"

enum {
#define LG_OPTION(field, flag, env, arg, def, help) RUN_OPT_##field,
#include "../runtime/options.def"
#undef LG_OPTION
    RUN_OPT_hang_timeout,   /* run's own (the parent watches): not a runtime option */
};

static const lg_opt run_opts[] = {
#define LG_OPTION(field, flag, env, arg, def, help) {flag, 0, arg, help, env, RUN_OPT_##field},
#include "../runtime/options.def"
#undef LG_OPTION
    {"hang-timeout", 0, "SECONDS", "when no thread makes progress for SECONDS, explain the "
     "hang as attach does, report and end the program (0: off)", NULL, RUN_OPT_hang_timeout},
    {0},
};

static double hang_timeout;

static int set_opt(void *ctx, const lg_opt *o, const char *v)
{
    (void)ctx;
    unsigned long n;
    double d;
    switch (o->id) {
    case RUN_OPT_exitcode:
        if (cli_parse_uint(&cmd_run, o, v, 255, &n) < 0)
            return -1;
        break;
    case RUN_OPT_frames:
        if (cli_parse_uint(&cmd_run, o, v, 64, &n) < 0)
            return -1;
        break;
    case RUN_OPT_max_locks:
        if (cli_parse_uint(&cmd_run, o, v, 1ul << 28, &n) < 0)
            return -1;
        break;
    case RUN_OPT_deadlocks:
        if (cli_parse_uint(&cmd_run, o, v, 1, &n) < 0)
            return -1;
        break;
    case RUN_OPT_wait_timeout:
        if (cli_parse_seconds(&cmd_run, o, v, &d) < 0)
            return -1;
        break;
    case RUN_OPT_hang_timeout:
        return cli_parse_seconds(&cmd_run, o, v, &hang_timeout);
    case RUN_OPT_on_deadlock:
        if (strcmp(v, "exit") && strcmp(v, "abort") && strcmp(v, "wait")) {
            cli_usage_error(&cmd_run, "invalid value '%s' for --on-deadlock: expected exit, "
                            "abort or wait", v);
            return -1;
        }
        break;
    default:
        break;
    }
    return setenv(o->env, v ? v : "1", 1);
}

static pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

/* 0 when `prog` names something execvp could run, else the errno to report. */
static int find_program(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, F_OK) ? errno : access(prog, X_OK) ? errno : 0;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    int err = ENOENT;
    while (*path) {
        size_t n = strcspn(path, ":");
        char *p = lg_asprintf("%.*s/%s", (int)n, n ? path : ".", prog);
        if (p && access(p, F_OK) == 0)
            err = access(p, X_OK) == 0 ? 0 : EACCES;
        free(p);
        if (!err)
            return 0;
        path += n + (path[n] == ':');
    }
    return err;
}

static int run_fn(int argc, char **argv)
{
    int status = 0;
    int first = cli_parse(&cmd_run, argc, argv, 1, set_opt, NULL, &status);
    if (first < 0)
        return status;
    if (first >= argc)
        return cli_usage_error(&cmd_run, "no program given (usage: lockgraph %s)", cmd_run.usage);
    const char *prog = argv[first];
    int err = find_program(prog);
    if (err) {
        cli_error(&cmd_run, "cannot run '%s': %s", prog, strerror(err));
        return err == ENOENT ? 127 : 126;
    }
    char *lib = cli_runtime_library();
    if (!lib)
        return cli_error(&cmd_run, "cannot find the runtime library 'liblockgraph.so' (set "
                         "LOCKGRAPH_RUNTIME)");
    const char *old = getenv("LD_PRELOAD");
    char *preload = old && *old ? lg_asprintf("%s:%s", old, lib) : lg_strdup(lib);
    free(lib);
    if (!preload || setenv("LD_PRELOAD", preload, 1) < 0) {
        free(preload);
        return cli_error(&cmd_run, "cannot set LD_PRELOAD: %s", strerror(errno));
    }
    free(preload);

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return cli_error(&cmd_run, "cannot create a pipe: %s", strerror(errno));
    fflush(NULL);
    child = fork();
    if (child < 0)
        return cli_error(&cmd_run, "cannot fork: %s", strerror(errno));
    if (child == 0) {
        close(pipefd[0]);
        execvp(prog, argv + first);
        int e = errno;
        if (write(pipefd[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    close(pipefd[1]);
    int e = 0;
    ssize_t got = read(pipefd[0], &e, sizeof e);
    close(pipefd[0]);
    if (got == (ssize_t)sizeof e) {
        waitpid(child, NULL, 0);
        cli_error(&cmd_run, "cannot run '%s': %s", prog, strerror(e));
        return e == ENOENT ? 127 : 126;
    }
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = forward;
        sa.sa_flags = SA_RESTART;
        sigaction(sigs[i], &sa, NULL);
    }
    if (hang_timeout > 0)
        return lg_run_watch(&cmd_run, child, hang_timeout);
    int ws;
    while (waitpid(child, &ws, 0) < 0) {
        if (errno != EINTR)
            return cli_error(&cmd_run, "cannot wait for '%s': %s", prog, strerror(errno));
    }
    if (WIFEXITED(ws))
        return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws))
        return 128 + WTERMSIG(ws);
    return LG_EXIT_ERROR;
}

const lg_cmd cmd_run = {
    .name = "run", .fn = run_fn,
    .summary = "run a program and report lock-order inversions and deadlocks",
    .usage = "run [OPTIONS] [--] PROGRAM [ARGS...]",
    .description =
        "Runs PROGRAM with the lockgraph runtime preloaded (no recompilation). Every\n"
        "lock-order inversion is reported on stderr (or --log) when its closing edge is\n"
        "first made; a real deadlock is reported the moment it closes and ends the program.\n"
        "Every option can also be set through its environment variable, also when\n"
        "preloading liblockgraph.so by hand.\n\n"
        "Exit status: PROGRAM's own; --exitcode (66) when a defect was found; 128+N when\n"
        "PROGRAM died of signal N; 127 program not found, 126 not executable; with\n"
        "--hang-timeout, 124 when PROGRAM hung with no lock cycle and was ended (like\n"
        "timeout(1)), --exitcode when the hang is a deadlock or an orphaned lock.",
    .opts = run_opts,
};
