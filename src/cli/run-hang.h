/* run-hang.h - `lockgraph run --hang-timeout` (run-hang.c), called by cmd-run.c. */
#ifndef LG_RUN_HANG_H
#define LG_RUN_HANG_H

#include <sys/types.h>

#include "cli.h"

/* Exit status of `run` when --hang-timeout ended a program that hung with no lock cycle. */
#define LG_RUN_HANG_STATUS 124

/* Waits for `child` (started by run) like waitpid, watching for no progress for `timeout`
 * seconds (0: not watching, a plain wait); returns run's exit status (the program's: 128+N
 * for signal N; or the hang's after a report). Signals forwarded by the caller's handlers
 * interrupt nothing here (EINTR is retried). */
int lg_run_watch(const lg_cmd *cmd, pid_t child, double timeout);

#endif
