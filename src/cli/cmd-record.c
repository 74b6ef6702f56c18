/* cmd-record.c - `lockgraph record -o FILE -- PROG ARGS`: run PROG with the runtime preloaded
 * and recording its lock events to FILE (read it with `lockgraph report FILE`).
 *
 * NOT YET IN commands[] (src/cli/main.c): it needs the preloaded runtime (src/runtime/), which
 * must call lg_trace_open_env() at start-up when LOCKGRAPH_TRACE is set and emit events from
 * its lock paths (contract: docs/trace-format.md, "Runtime contract"). Register it, with a test,
 * once that exists. This file is complete otherwise.
 *
 * What it does: finds liblockgraph.so next to itself, removes a stale FILE (the first process
 * to create FILE owns it; children that exec record to FILE.<pid>), sets LD_PRELOAD and
 * LOCKGRAPH_TRACE (absolute, the program may chdir) [and LOCKGRAPH_TRACE_MAX], forks and
 * execs PROG, forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT to it, and exits with PROG's status
 * (128+N when a signal N killed it). Not here: --sched (kernel scheduler events), not done.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/xalloc.h"
#include "cli.h"

enum { OPT_OUTPUT, OPT_MAX_SIZE };

static const lg_opt opts[] = {
    {"output", 'o', "FILE", "write the trace to FILE (required)", NULL, OPT_OUTPUT},
    {"max-size", 0, "BYTES", "stop recording when the trace reaches BYTES (default 1 GiB)",
     "LOCKGRAPH_TRACE_MAX", OPT_MAX_SIZE},
    {0},
};

typedef struct record_args {
    const char *output;
    unsigned long max_size;
} record_args;

static int on_opt(void *ctx, const lg_opt *o, const char *v)
{
    record_args *r = ctx;
    if (o->id == OPT_OUTPUT) {
        r->output = v;
        return 0;
    }
    return cli_parse_uint(&cmd_record, o, v, ULONG_MAX, &r->max_size);
}

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

/* FILE as an absolute path without requiring it to exist. */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    return lg_asprintf("%s/%s", cwd, path);
}

static int record_fn(int argc, char **argv)
{
    record_args r = {0};
    int status = 0;
    int first = cli_parse(&cmd_record, argc, argv, 1, on_opt, &r, &status);
    if (first < 0)
        return status;
    if (!r.output)
        return cli_usage_error(&cmd_record, "expected -o FILE for the trace");
    if (first >= argc)
        return cli_usage_error(&cmd_record, "expected a program to run after '--'");

    char *lib = cli_runtime_library();
    if (!lib)
        return cli_error(&cmd_record, "cannot find the runtime library 'liblockgraph.so' next "
                         "to lockgraph (set LOCKGRAPH_RUNTIME to its path)");
    char *trace = absolute(r.output);
    if (!trace) {
        free(lib);
        return cli_error(&cmd_record, "cannot resolve '%s': %s", r.output, strerror(errno));
    }
    if (unlink(trace) != 0 && errno != ENOENT) {
        int e = errno;
        free(lib);
        free(trace);
        return cli_error(&cmd_record, "cannot replace '%s': %s", r.output, strerror(e));
    }
    const char *old = getenv("LD_PRELOAD");
    char *preload = old && *old ? lg_asprintf("%s:%s", lib, old) : strdup(lib);
    int env_ok = preload && setenv("LD_PRELOAD", preload, 1) == 0 &&
                 setenv("LOCKGRAPH_TRACE", trace, 1) == 0;
    if (env_ok && r.max_size) {
        char n[32];
        snprintf(n, sizeof n, "%lu", r.max_size);
        env_ok = setenv("LOCKGRAPH_TRACE_MAX", n, 1) == 0;
    }
    free(preload);
    free(lib);
    if (!env_ok) {
        free(trace);
        return cli_error(&cmd_record, "cannot set up the environment: %s", strerror(errno));
    }

    struct sigaction sa = {.sa_handler = forward};
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], &sa, NULL);

    pid_t pid = fork();
    if (pid < 0) {
        free(trace);
        return cli_error(&cmd_record, "cannot fork: %s", strerror(errno));
    }
    if (pid == 0) {
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
            sigaction(sigs[i], &dfl, NULL);
        execvp(argv[first], argv + first);
        fprintf(stderr, "lockgraph record: cannot run '%s': %s\n", argv[first], strerror(errno));
        _exit(127);
    }
    child_pid = pid;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    child_pid = 0;

    struct stat sb;
    if (stat(trace, &sb) != 0)
        fprintf(stderr, "lockgraph record: '%s' recorded no trace (a static program, or one "
                "that cleared LD_PRELOAD, cannot be recorded)\n", argv[first]);
    else
        fprintf(stderr, "lockgraph record: wrote '%s' (%lld bytes); see 'lockgraph report %s'\n",
                r.output, (long long)sb.st_size, r.output);
    free(trace);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WIFEXITED(st) ? WEXITSTATUS(st) : LG_EXIT_ERROR;
}

const lg_cmd cmd_record = {
    .name = "record", .fn = record_fn,
    .summary = "run a program and record its lock events for 'lockgraph report'",
    .usage = "record -o FILE [options] -- PROG [ARGS...]",
    .description =
        "Runs PROG with lockgraph's runtime preloaded, recording every lock acquisition,\n"
        "contended wait (with the holder), release and condition wait, with nanosecond\n"
        "timestamps and stacks, into FILE. Exits with PROG's exit status.",
    .opts = opts,
};
