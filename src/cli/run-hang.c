/* run-hang.c - `lockgraph run --hang-timeout SECONDS`: wait for the program while watching
 * it for a hang the runtime cannot see (a condition variable nobody signals, a semaphore,
 * a lock inside glibc), and when it makes no progress that long, explain it from the
 * outside (src/inspect, as `attach` does), report, and end it.
 *
 * Flow: every tick (a quarter of the timeout, at most 250 ms) reap the child if it ended
 * (waitpid on its pid with WNOHANG: never waitpid(-1), lg_inspect_pid reaps the ptrace stops
 * itself) and take a progress sample. When no sample has shown progress for SECONDS since
 * the window opened (lg_progress_stalled: no thread ran, used CPU or switched context, and
 * the runtime's own sliced waits did not move), attach. The probe is only the trigger: a
 * thread asleep or in I/O also shows no activity, so the inspection decides. The program is
 * ended (SIGKILL) only when the report has a defect (a deadlock, an orphaned lock) or no
 * thread can ever run again (stats.stuck: every wait lacks a timeout and no outside event
 * can end it); otherwise the window reopens and watching goes on.
 *
 * Report: text to --log (appended) or stderr, JSON to --json when given (the runtime never
 * writes its own JSON: the program is killed). Exit status: --exitcode (66) for a defect,
 * 124 for a hang with no lock cycle (like timeout(1): the program was ended for taking
 * forever, not for a lock-order defect). The whole process tree is watched and analysed as
 * one system (the child, its children, theirs: a deadlock may cross them through
 * process-shared locks), and ended as a whole.
 * Not here: the launcher (cmd-run.c), the analysis (src/inspect).
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util/safefile.h"
#include "../inspect/inspect.h"
#include "cli.h"
#include "run-hang.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* The child exited and waits to be reaped (or is gone). */
static bool ended(pid_t child)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
    FILE *f = fopen(path, "re");
    if (!f)
        return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *q = strrchr(buf, ')');
    return !q || q[1] != ' ' || q[2] == 'Z' || q[2] == 'X';
}

/* Inspect, and when it is a hang, report. 1 reported (status in *status), 0 not a hang
 * (keep watching), -1 the inspection failed (message printed; keep watching). */
static int explain(const lg_cmd *cmd, pid_t child, double timeout, int *status, int **tree,
                   size_t *ntree)
{
    lg_report r;
    lg_report_init(&r);
    lg_inspect_stats st = {0};
    lg_inspect_options opt = {0};
    char err[512] = "";
    if (lg_process_tree((int)child, tree, ntree) < 0)
        *ntree = 0;
    size_t n = *ntree > 64 ? 64 : *ntree;   /* the analysis takes at most 64 processes */
    opt.first_required = true;              /* descendants may end meanwhile */
    if (!n || lg_inspect_pids(*tree, n, &opt, &r, &st, err, sizeof err) < 0) {
        lg_report_free(&r);
        /* It just ended (the next waitpid reaps it): nothing to say. Otherwise say it once
         * (e.g. ptrace not permitted here) and keep watching. */
        static bool warned;
        if (!ended(child) && !warned) {
            warned = true;
            cli_error(cmd, "--hang-timeout: cannot inspect process %d: %s", (int)child, err);
        }
        return -1;
    }
    bool defect = lg_inspect_status(&r) != 0;
    if (!defect && !st.stuck) {
        lg_report_free(&r);
        return 0;
    }
    lg_report_add_note(&r, "lockgraph run --hang-timeout %g: no thread made progress for %g s; "
                       "the program was ended (SIGKILL) after this report", timeout, timeout);
    const char *log = getenv("LOCKGRAPH_LOG");
    const char *json = getenv("LOCKGRAPH_JSON");
    FILE *text = stderr;
    if (log && *log) {
        int fd, e = lg_safe_append(log, &fd);   /* the runtime's rules (safefile.h) */
        if (!e && !(text = fdopen(fd, "a"))) {
            e = errno;
            close(fd);
        }
        if (e) {
            cli_error(cmd, "cannot open log file '%s': %s", log, lg_safe_strerror(e));
            text = stderr;
        }
    }
    if (lg_inspect_write(&r, json && *json ? json : NULL, NULL, text, 0, err, sizeof err) < 0)
        cli_error(cmd, "%s", err);
    if (text != stderr)
        fclose(text);
    *status = defect ? cli_defect_status() : LG_RUN_HANG_STATUS;
    lg_report_free(&r);
    return 1;
}

static int exit_status(int ws)
{
    if (WIFEXITED(ws))
        return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws))
        return 128 + WTERMSIG(ws);
    return LG_EXIT_ERROR;
}

int lg_run_watch(const lg_cmd *cmd, pid_t child, double timeout)
{
    if (timeout <= 0) {   /* not watching: a plain wait */
        int ws;
        while (waitpid(child, &ws, 0) < 0)
            if (errno != EINTR)
                return cli_error(cmd, "cannot wait for process %d: %s", (int)child,
                                 strerror(errno));
        return exit_status(ws);
    }
    double tick = timeout / 4 < 0.25 ? timeout / 4 : 0.25;
    lg_progress_sample *base = NULL;
    double since = now_s();
    for (;;) {
        int ws;
        pid_t got = waitpid(child, &ws, WNOHANG);
        if (got == child) {
            lg_progress_sample_free(base);
            return exit_status(ws);
        }
        if (got < 0 && errno != EINTR) {
            lg_progress_sample_free(base);
            return cli_error(cmd, "cannot wait for process %d: %s", (int)child, strerror(errno));
        }
        lg_progress_sample *cur = lg_progress_sample_take_tree((int)child);
        if (!base || !cur || lg_progress_stalled(base, cur) != 1) {
            lg_progress_sample_free(base);   /* progress (or nothing to compare): reopen */
            base = cur;
            since = now_s();
        } else {
            lg_progress_sample_free(cur);
            if (now_s() - since >= timeout) {
                int status;
                int *tree = NULL;
                size_t ntree = 0;
                int ex = explain(cmd, child, timeout, &status, &tree, &ntree);
                if (ex == 1) {
                    /* The whole tree: a descendant left behind would hang forever. All are
                     * stopped before any is killed, so none sees another die and runs on
                     * (a parent whose waitpid returned would exit and write its runtime's
                     * report over this one). */
                    kill(child, SIGSTOP);
                    for (size_t i = 1; i < ntree; i++)
                        kill(tree[i], SIGSTOP);
                    for (size_t i = 1; i < ntree; i++)
                        kill(tree[i], SIGKILL);
                    kill(child, SIGKILL);
                }
                free(tree);
                if (ex == 1) {
                    while (waitpid(child, &ws, 0) < 0 && errno == EINTR) {
                    }
                    lg_progress_sample_free(base);
                    return status;
                }
                /* Not a hang (a sleep, I/O, a timed wait): watch a whole new window. */
                lg_progress_sample_free(base);
                base = lg_progress_sample_take_tree((int)child);
                since = now_s();
            }
        }
        nap(tick);
    }
}
