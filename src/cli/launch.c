/* launch.c - run a program with the runtime preloaded (see launch.h): shared by `lockgraph
 * run` and `lockgraph record`.
 *
 * The program is looked up first (so "not found" and "not executable" are lockgraph's own
 * one-line errors with 127 / 126), then fork and execvp; an exec that still fails reports its
 * errno through a close-on-exec pipe. The runtime library is appended to any LD_PRELOAD the
 * user set. Not here: the runtime's own behaviour (src/runtime), the trace (cmd-record.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../runtime/optcheck.h"
#include "../util/safefile.h"
#include "../util/xalloc.h"
#include "../report/report.h"
#include "launch.h"
#include "loaded.h"
#include "run-hang.h"

/* A path the runtime will write (the JSON at exit, the log from the start) or read: checked
 * before launching with the same rules the runtime applies (src/util/safefile.h), so a
 * directory, a FIFO, a symlink, a missing or unwritable directory is a usage error naming the
 * option now, not a report lost at exit or a program that hangs. */
static int check_path(const lg_cmd *cmd, const lg_opt *o, const char *what, const char *path)
{
    int e;
    if (o->id == LAUNCH_OPT_suppressions) {
        int fd;
        struct stat st;
        e = lg_safe_open_read(path, &fd, &st);
        if (!e)
            close(fd);
    } else {
        e = lg_safe_check_write(path, o->id == LAUNCH_OPT_log);
    }
    if (!e)
        return 0;
    cli_usage_error(cmd, "--%s: cannot %s %s '%s': %s", o->name,
                    o->id == LAUNCH_OPT_suppressions ? "read" : "write", what, path,
                    lg_safe_strerror(e));
    return -1;
}

_Static_assert((int)LAUNCH_OPT_COUNT == (int)LG_OPTV_COUNT, "launch.h and optcheck.h index one table");

int lg_launch_set_opt(const lg_cmd *cmd, const lg_opt *o, const char *v)
{
    if (o->id >= 0 && o->id < LAUNCH_OPT_COUNT && v) {
        /* The same check and range as the runtime's (options.def, optcheck.h). */
        const lg_optv *ov = &lg_optv_table[o->id];
        if (lg_optv_check(ov, v, NULL) < 0) {
            char want[160];
            lg_optv_expected(ov, want, sizeof want);
            cli_usage_error(cmd, "invalid value '%s' for --%s: expected %s", v, o->name, want);
            return -1;
        }
    }
    switch (o->id) {
    case LAUNCH_OPT_suppressions:
        /* Checked here so a typo is a usage error, not a note in the program's output. */
        if (*v && check_path(cmd, o, "suppressions file", v) < 0)
            return -1;
        break;
    case LAUNCH_OPT_json:
        if (*v && check_path(cmd, o, "JSON report", v) < 0)
            return -1;
        break;
    case LAUNCH_OPT_log:
        if (*v && check_path(cmd, o, "log file", v) < 0)
            return -1;
        break;
    default:
        break;
    }
    /* Paths the program's processes open themselves are made absolute: a process that
     * changes directory (a test that cds, a daemon that chdirs to /) still finds them. */
    if (v && *v && v[0] != '/' && (o->id == LAUNCH_OPT_json || o->id == LAUNCH_OPT_log
                                   || o->id == LAUNCH_OPT_suppressions)) {
        char *abs = cli_absolute_path(v);
        int rc = setenv(o->env, abs ? abs : v, 1);
        free(abs);
        return rc;
    }
    return setenv(o->env, v ? v : "1", 1);
}

static pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

/* 0 when `prog` names something execvp could run, else the errno to report; *found: its
 * path (malloc'd; NULL when not found). */
static int find_program(const char *prog, char **found)
{
    *found = NULL;
    if (strchr(prog, '/')) {
        int e = access(prog, F_OK) ? errno : access(prog, X_OK) ? errno : 0;
        if (!e)
            *found = lg_strdup(prog);
        return e;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    int err = ENOENT;
    while (*path) {
        size_t n = strcspn(path, ":");
        char *p = lg_asprintf("%.*s/%s", (int)n, n ? path : ".", prog);
        if (p && access(p, F_OK) == 0)
            err = access(p, X_OK) == 0 ? 0 : EACCES;
        if (!err) {
            *found = p;
            return 0;
        }
        free(p);
        path += n + (path[n] == ':');
    }
    return err;
}

/* No process image ran the runtime: one line with the reason, a JSON report that says
 * nothing was checked, and a status CI cannot take for a clean run (the program's own when
 * it failed, else LG_EXIT_UNCHECKED). */
static int not_loaded(const lg_cmd *cmd, char **argv, const char *path, bool saw_exec,
                      int status, const lg_launch_opts *o)
{
    char why[PATH_MAX + 256];
    lg_loaded_reason(path, saw_exec, why, sizeof why);
    fprintf(stderr, "lockgraph %s: nothing was checked: the runtime was not loaded into '%s': "
            "%s\n", cmd->name, argv[0], why);
    if (o->unloaded)
        *o->unloaded = true;
    const char *json = getenv("LOCKGRAPH_JSON");
    if (json && *json) {
        lg_report r;
        lg_report_init(&r);
        int argc = 0;
        while (argv[argc])
            argc++;
        r.pid = (int)child;
        lg_report_set_command(&r, argc, argv);
        lg_report_set_unchecked(&r, "the runtime was not loaded into '%s': %s", argv[0], why);
        int fd, e = lg_safe_create(json, LG_SAFE_REPORT, &fd);
        FILE *f = NULL;
        if (!e && !(f = fdopen(fd, "w"))) {
            e = errno;
            close(fd);
        }
        if (f) {
            lg_write_json(f, &r, LG_VERSION);
            if (fclose(f) != 0)
                e = errno;
        }
        if (e)
            cli_error(cmd, "cannot write JSON report '%s': %s", json, lg_safe_strerror(e));
        lg_report_free(&r);
    }
    return status == 0 ? LG_EXIT_UNCHECKED : status;
}

/* The program exited 0, but processes it ran found defects and it ignored their status (a
 * shell script, a test harness that expects failures): one line, and --exitcode, so CI does
 * not see a clean run. Their reports are in the merged one (tree.c). */
static int tree_defects(const lg_cmd *cmd, const lg_tree_defects *t)
{
    fprintf(stderr, "lockgraph %s: %lu defect%s found in %zu process%s the program ran (first "
            "in pid %d), though it exited 0\n", cmd->name, t->defects,
            t->defects == 1 ? "" : "s", t->images, t->images == 1 ? "" : "es", t->first_pid);
    return cli_defect_status();
}

int lg_launch(const lg_cmd *cmd, char **argv, const lg_launch_opts *o)
{
    static const lg_launch_opts none;
    if (!o)
        o = &none;
    lg_launch_hook before_exec = o->before_exec;
    void *ctx = o->ctx;
    const char *prog = argv[0];
    char *path;
    int err = find_program(prog, &path);
    if (err) {
        cli_error(cmd, "cannot run '%s': %s", prog, strerror(err));
        return err == ENOENT ? 127 : 126;
    }
    char *lib = cli_runtime_library();
    if (!lib) {
        free(path);
        return cli_error(cmd, "cannot find the runtime library 'liblockgraph.so' (set "
                         "LOCKGRAPH_RUNTIME)");
    }
    const char *old = getenv("LD_PRELOAD");
    char *preload = old && *old ? lg_asprintf("%s:%s", old, lib) : lg_strdup(lib);
    free(lib);
    if (!preload || setenv("LD_PRELOAD", preload, 1) < 0) {
        free(preload);
        free(path);
        return cli_error(cmd, "cannot set LD_PRELOAD: %s", strerror(errno));
    }
    free(preload);
    lg_tree tree;
    if (lg_tree_prepare(&tree, o ? o->sarif : NULL) < 0)
        cli_error(cmd, "cannot make a temporary directory for --sarif: %s", strerror(errno));
    lg_loaded hs;
    if (lg_loaded_open(&hs) < 0)
        hs.rfd = hs.wfd = -1;   /* no verdict then: the run itself goes on */

    int pipefd[2], go[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return cli_error(cmd, "cannot create a pipe: %s", strerror(errno));
    if (pipe2(go, O_CLOEXEC) < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return cli_error(cmd, "cannot create a pipe: %s", strerror(errno));
    }
    /* The signals run forwards are blocked from before the fork until their handlers are in
     * place, so one that arrives while the child starts is forwarded once the child exists
     * (and ends it before or after its exec) instead of ending run and leaving the program
     * running without it. The child starts with the mask run was given. */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    sigset_t fwd, mask;
    sigemptyset(&fwd);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaddset(&fwd, sigs[i]);
    sigprocmask(SIG_BLOCK, &fwd, &mask);
    fflush(NULL);
    child = fork();
    if (child < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &mask, NULL);
        free(path);
        return cli_error(cmd, "cannot fork: %s", strerror(e));
    }
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &mask, NULL);
        close(pipefd[0]);
        close(go[1]);
        char c;
        if (before_exec && read(go[0], &c, 1) != 1)
            _exit(LG_EXIT_ERROR);   /* the parent could not set up: it says why */
        execvp(prog, argv);
        int e = errno;
        if (write(pipefd[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = forward;
        sa.sa_flags = SA_RESTART;
        sigaction(sigs[i], &sa, NULL);
    }
    sigprocmask(SIG_SETMASK, &mask, NULL);   /* a signal that came meanwhile is forwarded now */
    close(pipefd[1]);
    close(go[0]);
    lg_loaded_forked(&hs);
    if (before_exec) {
        int hr = before_exec((int)child, ctx);
        if (hr != 0) {
            kill(child, SIGKILL);
            close(go[1]);
            close(pipefd[0]);
            waitpid(child, NULL, 0);
            return hr;
        }
        if (write(go[1], "g", 1) != 1) {
            close(go[1]);
            close(pipefd[0]);
            waitpid(child, NULL, 0);
            return cli_error(cmd, "cannot start '%s': %s", prog, strerror(errno));
        }
    }
    close(go[1]);
    int e = 0;
    ssize_t got = read(pipefd[0], &e, sizeof e);
    close(pipefd[0]);
    if (got == (ssize_t)sizeof e) {
        waitpid(child, NULL, 0);
        cli_error(cmd, "cannot run '%s': %s", prog, strerror(e));
        return e == ENOENT ? 127 : 126;
    }
    int status = lg_run_watch(cmd, child, o->hang_timeout);
    bool saw_exec;
    if (!lg_loaded_verdict(&hs, &saw_exec))
        status = not_loaded(cmd, argv, path, saw_exec, status, o);
    else if (status == 0 && hs.tree.images)
        status = tree_defects(cmd, &hs.tree);
    lg_tree_finish(cmd, &tree, &hs, child);
    free(hs.pids);
    free(path);
    return status;
}
