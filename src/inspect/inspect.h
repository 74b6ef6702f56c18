/* inspect.h - explain a hung process from the outside: attach to a live one, read a core,
 * or write a core of a live one. The public calls of src/inspect, used by the CLI (attach,
 * core, dump) and by `run --hang-timeout`.
 *
 * Every call leaves a live target as it found it (same waits, pending signals re-delivered)
 * and returns an error message instead of printing. Not here: rendering (src/report).
 */
#ifndef LG_INSPECT_H
#define LG_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../model/model.h"

typedef struct lg_inspect_options {
    bool no_stacks;          /* skip unwinding (faster; no frames, no symbol tie-breaks) */
    int max_frames;          /* frames kept per thread; 0 = 64 */
    bool first_required;     /* lg_inspect_pids: only the first process must be readable;
                                the others are dropped with a note when they are not */
} lg_inspect_options;

/* What the analysis measured, for the verdict and bench/. */
typedef struct lg_inspect_stats {
    double stopped_ms;       /* how long the target's threads were stopped (attach/dump) */
    double total_ms;         /* the whole analysis */
    size_t nthreads;
    size_t ncycles;
    bool stuck;              /* every thread is blocked and none can run (no timeout, no
                                outside event such as I/O or a sleep can end its wait) */
} lg_inspect_stats;

/* Attach to a live process, stop every thread briefly, unwind, detach, analyse. Fills `out`
 * (lg_report_init'ed by the caller). 0, or -1 with a one-line message in err. */
int lg_inspect_pid(int pid, const lg_inspect_options *opt, lg_report *out,
                   lg_inspect_stats *stats, char *err, size_t errlen);

/* Several live processes as one system (a wait chain may cross them through process-shared
 * locks); owners found in further processes are followed there too. */
int lg_inspect_pids(const int *pids, size_t npids, const lg_inspect_options *opt,
                    lg_report *out, lg_inspect_stats *stats, char *err, size_t errlen);

/* The same analysis from an ELF core file; exe may be NULL (use the paths in the core). */
int lg_inspect_core(const char *core, const char *exe, const lg_inspect_options *opt,
                    lg_report *out, lg_inspect_stats *stats, char *err, size_t errlen);

/* Write a core of a live process without killing it, with a LOCKGRAPH note carrying thread
 * names, states, blocked-for times and what each waits in. */
int lg_inspect_dump(int pid, const char *path, lg_inspect_stats *stats, char *err,
                    size_t errlen);

/* Progress probe for `run --hang-timeout`: take a sample now, compare with the previous one.
 * A process makes no progress when every thread is blocked (not running) and no thread's
 * CPU time or context-switch count changed between two samples; a thread that stayed in
 * the same wait recorded by the lockgraph runtime (which wakes in slices) counts as not
 * progressing either. A thread asleep (nanosleep) or in I/O makes no progress here too: the
 * probe is only the trigger, lg_inspect_pid decides (stats.stuck). */
typedef struct lg_progress_sample lg_progress_sample;
lg_progress_sample *lg_progress_sample_take(int pid);   /* NULL when the process is gone */
/* 1 no progress between a and b (taken later), 0 progress, -1 error. */
int lg_progress_stalled(const lg_progress_sample *a, const lg_progress_sample *b);
/* The same over the whole process tree rooted at pid (its children, theirs, ...): threads
 * of processes that come or go count as progress. NULL when pid itself is gone. */
lg_progress_sample *lg_progress_sample_take_tree(int pid);
/* pid and its live descendants, pid first (malloc'ed). 0, or -1 out of memory. */
int lg_process_tree(int pid, int **pids, size_t *n);
void lg_progress_sample_free(lg_progress_sample *s);

/* Render: JSON and/or DOT to files ("-" = stdout), text to `text` (NULL: none) unless JSON
 * or DOT took stdout. max_frames limits the text stacks (0 = all). 0, or -1 with a message. */
int lg_inspect_write(const lg_report *r, const char *json, const char *dot, FILE *text,
                     int max_frames, char *err, size_t errlen);
/* The same, plus a SARIF 2.1.0 log to `sarif` (NULL: none; source paths relative to the
 * working directory where they lie under it). */
int lg_inspect_write_all(const lg_report *r, const char *json, const char *dot,
                         const char *sarif, FILE *text, int max_frames, char *err,
                         size_t errlen);

/* Exit status for a report produced here: 66 when it holds a defect, else 0. */
int lg_inspect_status(const lg_report *r);

#endif
