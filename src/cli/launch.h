/* launch.h - running a program under the preloaded runtime, shared by `lockgraph run` and
 * `lockgraph record`: the runtime's options (one table, src/runtime/options.def, passed on as
 * LOCKGRAPH_* variables), LD_PRELOAD, fork/exec, signal forwarding, the exit status.
 *
 * Not here: what a command adds to the environment (record: LOCKGRAPH_TRACE).
 */
#ifndef LG_CLI_LAUNCH_H
#define LG_CLI_LAUNCH_H

#include "cli.h"

/* Option ids of the runtime's options: LAUNCH_OPT_<field>, below LAUNCH_OPT_COUNT; a
 * command's own options use ids from LAUNCH_OPT_COUNT up. */
enum {
#define LG_OPTION(field, flag, env, arg, def, check, help) LAUNCH_OPT_##field,
#include "../runtime/options.def"
#undef LG_OPTION
    LAUNCH_OPT_COUNT
};

/* In a command's option table, the runtime's options are:
 *   #define LG_OPTION(field, flag, env, arg, def, check, help) LG_LAUNCH_OPT(field, flag, env, arg, help)
 *   #include "../runtime/options.def"
 *   #undef LG_OPTION */
#define LG_LAUNCH_OPT(field, flag, env, arg, help) {flag, 0, arg, help, env, LAUNCH_OPT_##field},

/* Check a runtime option's value and set its variable; 0, or -1 after a usage error. */
int lg_launch_set_opt(const lg_cmd *cmd, const lg_opt *o, const char *v);

typedef int (*lg_launch_hook)(int pid, void *ctx);

typedef struct lg_launch_opts {
    /* Called after the fork and before the child execs (the child waits for it); a non-zero
     * return kills the child and becomes the exit status. NULL: none. */
    lg_launch_hook before_exec;
    void *ctx;
    /* Seconds without progress after which the hang is explained and the program ended
     * (run --hang-timeout, run-hang.c); 0: a plain wait. */
    double hang_timeout;
    /* Set to true when no process image ran the runtime (launch.c said so); may be NULL. */
    bool *unloaded;
    /* run --sarif FILE: the tree's findings as SARIF at the end (tree.c); NULL: none. */
    const char *sarif;
} lg_launch_opts;

/* The end of a run over a process tree (tree.c): the processes' reports merged into one
 * (--json FILE), and SARIF. */
#include "loaded.h"
typedef struct lg_tree {
    const char *sarif;
    char tmpdir[4096];   /* --sarif without --json: where the reports go meanwhile */
} lg_tree;
/* Before the launch: 0, or -1 (no temporary directory: no SARIF). */
int lg_tree_prepare(lg_tree *t, const char *sarif);
/* After the program ended; root is the pid of the program's first process. */
void lg_tree_finish(const lg_cmd *cmd, lg_tree *t, const lg_loaded *h, int root);

/* Run argv[0..] (a NULL-terminated vector) with liblockgraph.so preloaded, forwarding
 * SIGINT/SIGTERM/SIGHUP/SIGQUIT to it; `o` may be NULL. Returns the exit status to use: the
 * program's, 128+N when it died of signal N, 127 not found, 126 not executable (one error
 * line), 1 when the runtime library is missing or fork fails, or the hang watcher's. */
int lg_launch(const lg_cmd *cmd, char **argv, const lg_launch_opts *o);

#endif
