/* sched.h - the kernel's view for `lockgraph record --sched`: a private tracefs instance
 * that records sched_switch and sched_waking for one process and its threads (set_event_pid
 * with event-fork), read back after the program ends and appended to the trace as a SCHED
 * chunk (docs/trace-format.md). Needs root (tracefs). The instance is removed afterwards,
 * and tracefs unmounted again if this mounted it.
 *
 * Not here: the analysis of these events (src/analysis/timeline.c: on-CPU time, the waker of
 * each wait), the program's own lock events (trace.h).
 */
#ifndef LG_TRACE_SCHED_H
#define LG_TRACE_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../model/timeline.h"

typedef struct lg_sched_session {
    char root[64];             /* the tracefs mount point */
    char dir[128];             /* our instance */
    bool mounted;              /* we mounted tracefs: unmount at the end */
    bool made;                 /* the instance exists */
} lg_sched_session;

/* Make the instance (clock "mono" = CLOCK_MONOTONIC, buffer, event-fork), nothing enabled
 * yet. 0, or -1 with a one-line message (nothing left behind). */
int lg_sched_start(lg_sched_session *s, char *err, size_t errlen);
/* Follow `pid` and its threads and children, and start recording. 0 or -1 (message). */
int lg_sched_follow(lg_sched_session *s, pid_t pid, char *err, size_t errlen);
/* Stop, read what was recorded (ts = CLOCK_MONOTONIC ns; malloc'd array in *out) and the
 * number of events the kernel lost (buffer overrun). 0 or -1 (message). */
int lg_sched_collect(lg_sched_session *s, lg_tl_sched **out, size_t *n, uint64_t *lost,
                     char *err, size_t errlen);
/* Remove the instance (and unmount tracefs if we mounted it). Safe to call twice. */
void lg_sched_stop(lg_sched_session *s);

/* Append records (ts = CLOCK_MONOTONIC ns) to the trace file at `path` as SCHED chunks.
 * 0, or -1 with a message. */
int lg_sched_append(const char *path, const lg_tl_sched *r, size_t n, uint64_t lost, char *err,
                    size_t errlen);

/* Parse one line of tracefs' `trace` text; 1 a record, 0 not one of ours (headers, other
 * events). Exposed for the unit test. */
int lg_sched_parse_line(const char *line, lg_tl_sched *out);

#endif
