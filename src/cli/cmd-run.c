/* cmd-run.c - `lockgraph run [OPTIONS] -- PROG ARGS`: run a program with the runtime preloaded.
 *
 * The options are generated from the runtime's own table (src/runtime/options.def): each flag
 * is passed on as its LOCKGRAPH_* environment variable, so setting the variable directly
 * (or plain LD_PRELOAD=liblockgraph.so) is equivalent. The runtime library is appended to
 * any LD_PRELOAD already set. Signals that end a terminal job are forwarded to the program.
 * Exit status: the program's (128+N if it died of signal N; 66, or --exitcode, when the
 * runtime found a defect); 127 when the program cannot be found, 126 when it cannot be
 * executed, 1 when the runtime library is missing, 2 for bad usage. The launching itself is
 * launch.c, shared with `lockgraph record`; --hang-timeout is run-hang.c (the parent watches).
 */
#include <stdlib.h>

#include "../util/safefile.h"
#include "launch.h"

enum { RUN_OPT_hang_timeout = LAUNCH_OPT_COUNT, RUN_OPT_sarif };   /* run's own */

static const lg_opt run_opts[] = {
#define LG_OPTION(field, flag, env, arg, def, check, help) LG_LAUNCH_OPT(field, flag, env, arg, help)
#include "../runtime/options.def"
#undef LG_OPTION
    {"hang-timeout", 0, "SECONDS", "when no thread makes progress for SECONDS, explain the "
     "hang as attach does, report and end the program (0: off)", "LOCKGRAPH_HANG_TIMEOUT",
     RUN_OPT_hang_timeout},
    {"sarif", 0, "FILE", "at the end, every distinct finding of the process tree as SARIF "
     "2.1.0 in FILE, for code scanning", NULL, RUN_OPT_sarif},
    {0},
};

static int set_opt(void *ctx, const lg_opt *o, const char *v)
{
    lg_launch_opts *lo = ctx;
    if (o->id == RUN_OPT_hang_timeout)
        return cli_parse_seconds(&cmd_run, o, v, &lo->hang_timeout);
    if (o->id == RUN_OPT_sarif) {
        int e = lg_safe_check_write(v, 0);
        if (e) {
            cli_usage_error(&cmd_run, "--sarif: cannot write '%s': %s", v, lg_safe_strerror(e));
            return -1;
        }
        lo->sarif = v;
        return 0;
    }
    return lg_launch_set_opt(&cmd_run, o, v);
}

static int run_fn(int argc, char **argv)
{
    int status = 0;
    lg_launch_opts lo = {0};
    /* The environment first, so that the flag overrides it. */
    const char *env = getenv("LOCKGRAPH_HANG_TIMEOUT");
    if (env && *env && set_opt(&lo, &run_opts[RUN_OPT_hang_timeout], env) < 0)
        return LG_EXIT_USAGE;
    int first = cli_parse(&cmd_run, argc, argv, 1, set_opt, &lo, &status);
    if (first < 0)
        return status;
    if (first >= argc)
        return cli_usage_error(&cmd_run, "no program given (usage: lockgraph %s)", cmd_run.usage);
    return lg_launch(&cmd_run, argv + first, &lo);
}

const lg_cmd cmd_run = {
    .name = "run", .fn = run_fn,
    .summary = "run a program and report lock-order inversions and deadlocks",
    .usage = "run [OPTIONS] [--] PROGRAM [ARGS...]",
    .description =
        "Runs PROGRAM with the lockgraph runtime preloaded (no recompilation). Every\n"
        "lock-order inversion is reported on stderr (or --log) when its closing edge is\n"
        "first made; a real deadlock is reported the moment it closes and ends the program.\n"
        "Under --json FILE every process of the tree writes FILE.<pid>; at the end, when\n"
        "there are several, FILE is their merged report (each distinct finding once, with\n"
        "the processes that had it) and a summary goes to stderr; --sarif FILE writes the\n"
        "same findings as SARIF.\n"
        "Reports go to a copy of stderr (or --log) taken at start, never into a file or\n"
        "socket the program puts on fd 2 later; _exit, exec and fatal signals still write\n"
        "the JSON. When no process of the program loaded the runtime (a static or\n"
        "setuid program, LD_PRELOAD removed), one line says so and the exit status is 69.\n"
        "Lock misuse (an unlock of a lock the thread does not hold, a destroy of a held\n"
        "lock, a thread ending with locks held, ...: --misuse) is reported as it happens;\n"
        "every call still returns what glibc returns.\n"
        "Every option can also be set through the environment variable shown with it,\n"
        "also when preloading liblockgraph.so by hand (--hang-timeout: by lockgraph run\n"
        "only, which watches the program from outside).",
    .opts = run_opts,
    .exit_status = "PROGRAM's own; --exitcode (66) when a defect (an inversion, a "
                   "deadlock, an orphaned lock, a lock misuse) was found (also by a "
                   "forked child: its JSON is FILE.<pid>, the parent's report names it; "
                   "also when PROGRAM exited 0 but a process it ran found one); "
                   "128+N when PROGRAM died of signal N; 127 program not found, 126 not "
                   "executable; with --hang-timeout, 124 when PROGRAM hung with no lock "
                   "cycle and was ended (like timeout(1)), --exitcode when the hang is a "
                   "deadlock or an orphaned lock; 69 when the runtime could not be loaded "
                   "into PROGRAM (a static or setuid/setgid program, LD_PRELOAD removed: "
                   "nothing was checked, one line says why, the JSON has \"checked\": "
                   "false) and PROGRAM exited 0, else PROGRAM's failing status; 1 when the "
                   "runtime is missing; 2 usage error.",
};
