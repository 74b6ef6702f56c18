/* cmd-record.c - `lockgraph record -o FILE [OPTIONS] -- PROG ARGS`: run PROG with the runtime
 * preloaded and recording its lock events to FILE (read it with `lockgraph report FILE`).
 *
 * What it adds to launch.c (shared with `lockgraph run`, whose runtime options it accepts
 * too: a deadlock is still caught and ends the program, and the trace keeps the waits up to
 * it): removes a stale FILE (the first process to create FILE owns it; children that exec
 * record to FILE.<pid>), sets LOCKGRAPH_TRACE (absolute: the program may chdir) and
 * LOCKGRAPH_TRACE_MAX, and says how big the trace is. The runtime side is
 * src/runtime/record.c. --sched adds the kernel's view (src/trace/sched.h): a private
 * tracefs instance follows the program from before its exec, and its sched_switch and
 * sched_waking events are appended to FILE after it ends.
 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/safefile.h"
#include "../util/xalloc.h"
#include "../trace/sched.h"
#include "launch.h"

enum { OPT_OUTPUT = LAUNCH_OPT_COUNT, OPT_MAX_SIZE, OPT_SCHED, OPT_ALL_EVENTS };

static const lg_opt opts[] = {
    {"output", 'o', "FILE", "write the trace to FILE (required): a new file, mode 0600, never through a symlink", NULL, OPT_OUTPUT},
    {"max-size", 0, "BYTES", "stop recording when the trace reaches BYTES (default 1 GiB)",
     "LOCKGRAPH_TRACE_MAX", OPT_MAX_SIZE},
    {"sched", 0, NULL, "also record the kernel's view (root): context switches and wake-ups of "
     "the program's threads, from a private tracefs instance removed afterwards", NULL,
     OPT_SCHED},
    {"all-events", 0, NULL, "record every acquisition and release with its time and stack "
     "(every hold in the report, traces about 30x larger); by default uncontended "
     "acquisitions are counted per lock and call site, about 1 hold in 256 timed",
     "LOCKGRAPH_TRACE_EVENTS=all", OPT_ALL_EVENTS},
#define LG_OPTION(field, flag, env, arg, def, check, help) LG_LAUNCH_OPT(field, flag, env, arg, help)
#include "../runtime/options.def"
#undef LG_OPTION
    {0},
};

typedef struct record_args {
    const char *output;
    unsigned long max_size;
    bool sched, all_events;
    lg_sched_session ss;
} record_args;

static int on_opt(void *ctx, const lg_opt *o, const char *v)
{
    record_args *r = ctx;
    if (o->id == OPT_OUTPUT) {
        r->output = v;
        return 0;
    }
    if (o->id == OPT_SCHED) {
        r->sched = true;
        return 0;
    }
    if (o->id == OPT_ALL_EVENTS) {
        r->all_events = true;
        return 0;
    }
    if (o->id == OPT_MAX_SIZE)
        return cli_parse_uint(&cmd_record, o, v, ULONG_MAX, &r->max_size);
    return lg_launch_set_opt(&cmd_record, o, v);
}

static int follow(int pid, void *ctx)
{
    record_args *r = ctx;
    char err[512];
    if (lg_sched_follow(&r->ss, pid, err, sizeof err) < 0) {
        lg_sched_stop(&r->ss);
        return cli_error(&cmd_record, "--sched: %s", err);
    }
    return 0;
}

/* After the program: the kernel's events into the trace, the instance removed. */
static void sched_finish(record_args *r, const char *trace)
{
    char err[512];
    lg_tl_sched *recs = NULL;
    size_t n = 0;
    uint64_t lost = 0;
    if (lg_sched_collect(&r->ss, &recs, &n, &lost, err, sizeof err) < 0
        || lg_sched_append(trace, recs, n, lost, err, sizeof err) < 0)
        fprintf(stderr, "lockgraph record: --sched: %s\n", err);
    else if (lost)
        fprintf(stderr, "lockgraph record: warning: the kernel's scheduler trace lost %llu "
                "events (its buffer overran)\n", (unsigned long long)lost);
    free(recs);
    lg_sched_stop(&r->ss);
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

    char *trace = cli_absolute_path(r.output);
    if (!trace)
        return cli_error(&cmd_record, "cannot resolve '%s': %s", r.output, strerror(errno));
    /* The same rules as the writer's (src/util/safefile.h), checked before the program
     * starts: a symlink, a FIFO, a directory, a missing or unwritable directory. */
    int ce = lg_safe_check_write(trace, 0);
    if (ce) {
        free(trace);
        return cli_usage_error(&cmd_record, "--output: cannot write trace file '%s': %s",
                               r.output, lg_safe_strerror(ce));
    }
    /* A stale FILE goes (the first process to create FILE owns it; others write FILE.<pid>).
     * Not another user's in a sticky directory: the check refused that. */
    if (unlink(trace) != 0 && errno != ENOENT) {
        int e = errno;
        free(trace);
        return cli_error(&cmd_record, "cannot replace '%s': %s", r.output, strerror(e));
    }
    int env_ok = setenv("LOCKGRAPH_TRACE", trace, 1) == 0;
    if (env_ok)
        env_ok = r.all_events ? setenv("LOCKGRAPH_TRACE_EVENTS", "all", 1) == 0
                              : unsetenv("LOCKGRAPH_TRACE_EVENTS") == 0;
    if (env_ok && r.max_size) {
        char n[32];
        snprintf(n, sizeof n, "%lu", r.max_size);
        env_ok = setenv("LOCKGRAPH_TRACE_MAX", n, 1) == 0;
    }
    if (!env_ok) {
        free(trace);
        return cli_error(&cmd_record, "cannot set up the environment: %s", strerror(errno));
    }
    if (r.sched) {
        char err[512];
        if (lg_sched_start(&r.ss, err, sizeof err) < 0) {
            free(trace);
            return cli_error(&cmd_record, "--sched: %s", err);
        }
    }
    bool unloaded = false;
    lg_launch_opts lo = {.before_exec = r.sched ? follow : NULL, .ctx = &r, .unloaded = &unloaded};
    int st = lg_launch(&cmd_record, argv + first, &lo);
    if (r.sched && r.ss.made) {
        struct stat tb;
        if (stat(trace, &tb) == 0)
            sched_finish(&r, trace);
        lg_sched_stop(&r.ss);
    }

    struct stat sb;
    if (unloaded || (stat(trace, &sb) != 0 && (st == 126 || st == 127 || st == LG_EXIT_ERROR)))
        ;   /* not run at all, or not under the runtime: launch.c said why */
    else if (stat(trace, &sb) != 0)
        fprintf(stderr, "lockgraph record: '%s' recorded no trace (a static program, or one "
                "that cleared LD_PRELOAD, cannot be recorded)\n", argv[first]);
    else
        fprintf(stderr, "lockgraph record: wrote '%s' (%lld bytes); see 'lockgraph report %s'\n",
                r.output, (long long)sb.st_size, r.output);
    free(trace);
    return st;
}

const lg_cmd cmd_record = {
    .name = "record", .fn = record_fn,
    .summary = "run a program and record its lock events for 'lockgraph report'",
    .usage = "record -o FILE [options] -- PROG [ARGS...]",
    .description =
        "Runs PROG with lockgraph's runtime preloaded, recording what explains waiting\n"
        "into FILE: every contended wait (with the holder when it began, and the thread\n"
        "and stack of the release that ended it), failed trylock and condition wait, with\n"
        "nanosecond timestamps and stacks; uncontended acquisitions are counted per lock\n"
        "and call site, and about 1 hold in 256 is timed. --all-events records every acquisition\n"
        "and release instead. The runtime keeps watching for deadlocks as\n"
        "with 'lockgraph run' (its options are accepted here too); a deadlocked program\n"
        "is reported and ended, and FILE keeps the waits up to the deadlock.\n"
        "With --sched (root), the kernel's context switches and wake-ups of PROG's\n"
        "threads are recorded too (a private tracefs instance, removed afterwards).",
    .opts = opts,
    .exit_status = "PROG's own; --exitcode (66) when a defect was found; 128+N when PROG "
                   "died of signal N; 127 program not found, 126 not executable; 69 when "
                   "the runtime could not be loaded into PROG (static, setuid/setgid, "
                   "LD_PRELOAD removed: nothing recorded or checked, one line says why) and "
                   "PROG exited 0; 1 when FILE cannot be written or the runtime is missing; "
                   "2 usage error.",
};
