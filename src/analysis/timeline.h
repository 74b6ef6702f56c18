/* timeline.h (analysis) - what a recorded timeline says: per-thread and per-lock totals, every
 * wait with its holder and the release that ended it, hold intervals, and the critical path
 * of a convoy. Input: an lg_timeline (model/timeline.h) with events sorted by time. Output:
 * plain arrays the writers (report/timeline-report.h) render. Pure computation, no I/O.
 *
 * Counting rules (docs/trace-format.md, "Analysis"): an acquisition is an ACQUIRE, a
 * WAIT_END or an ACQUIRE_END event; a contended acquisition is a WAIT_END. A wait still open
 * when the trace ends (a deadlock, a killed program) lasts until the trace's end and is
 * marked not ended. A condition wait releases its mutex at COND_WAIT_BEGIN and takes it back
 * at COND_WAIT_END; that re-acquisition is a hold but not an acquisition.
 * A counted trace (lg_timeline.counted, `lockgraph record` without --all-events) takes
 * acquisitions and holds from its COUNTS entries instead (every acquisition, contended ones
 * included; hold time = each entry's mean sampled hold times its acquisitions, plus the
 * holds its events show); its hold intervals are only those its events show (from a contended acquisition, or from the first
 * wait that found the holder, to a release that readied a waiter), outside the totals; a
 * wait's readier is the last recorded release at or after its begin (only releases that
 * found a waiter are recorded).
 */
#ifndef LG_ANALYSIS_TIMELINE_H
#define LG_ANALYSIS_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/timeline.h"

#define LG_TL_NONE ((size_t)-1)
#define LG_TL_TOP_HOLDERS 3

typedef enum lg_tl_wait_kind { LG_TL_WAIT_LOCK, LG_TL_WAIT_COND } lg_tl_wait_kind;

typedef struct lg_tl_wait {
    int tid;
    uint32_t lock;             /* the lock waited for; the condvar for a cond wait */
    uint32_t mutex;            /* cond waits: the mutex released meanwhile */
    uint8_t kind;              /* lg_tl_wait_kind */
    uint8_t mode;              /* lg_mode */
    bool ended;                /* false: still waiting when the trace ended */
    bool acquired;             /* ended by getting the lock (WAIT_END) */
    uint64_t begin, end;       /* ns; end = trace end when !ended */
    int owner;                 /* holder when the wait began (from the runtime), 0 unknown */
    uint32_t stack;            /* the waiter's stack */
    int readier;               /* thread whose release ended the wait, 0 unknown */
    uint64_t release_ts;       /* ...when it released */
    uint32_t release_stack;    /* ...where it released: the readying thread's stack */
    uint64_t readier_hold_begin; /* ...since when it had held the lock */
    int longest_holder;        /* the thread that held the lock longest during the wait */
    uint64_t longest_hold;     /* ...for how long (within the wait), ns */
    /* The kernel's view (--sched): the last wake-up of the waiter before the wait ended. */
    bool woken;                /* one was seen */
    int woken_by;              /* the task that woke it (0: an interrupt) */
    uint64_t woken_ts;
} lg_tl_wait;

typedef struct lg_tl_hold {
    int tid;
    uint32_t lock;
    uint8_t mode;
    bool ended;                /* false: still held when the trace ended */
    uint64_t begin, end;
    uint32_t stack;            /* where it was acquired */
    uint32_t release_stack;
} lg_tl_hold;

typedef struct lg_tl_thread_stats {
    int tid;
    uint64_t begin, end;       /* first event (or thread start) to exit (or trace end) */
    uint64_t lock_wait, cond_wait;
    size_t acquisitions, contended;
    uint64_t on_cpu;           /* --sched: running on a CPU */
    uint64_t runnable;         /* --sched: woken or preempted, waiting for a CPU */
} lg_tl_thread_stats;

typedef struct lg_tl_holder {
    int tid;
    uint64_t hold;             /* total ns held */
    size_t count;              /* holds */
} lg_tl_holder;

typedef struct lg_tl_lock_stats {
    uint32_t lock;
    size_t acquisitions, contended, trylock_failed, wait_failed;
    uint64_t total_wait, longest_wait, total_hold;
    lg_tl_holder top[LG_TL_TOP_HOLDERS];   /* longest total hold first */
    size_t ntop;
} lg_tl_lock_stats;

/* One link of a critical path: `tid` held `lock` from hold_begin to release_ts and its
 * release readied the previous link; wait is how it got the lock (LG_TL_NONE: it was not
 * waiting, it is the root). The first link is the waiter itself (hold fields unused). */
typedef struct lg_tl_step {
    int tid;
    uint32_t lock;
    size_t wait;
    uint64_t hold_begin, release_ts;
} lg_tl_step;

typedef struct lg_tl_analysis {
    uint64_t end_ns;
    size_t nevents;
    lg_tl_thread_stats *threads; size_t nthreads;   /* by tid */
    lg_tl_lock_stats *locks;     size_t nlocks;     /* by lock id */
    lg_tl_wait *waits;           size_t nwaits;     /* by begin time */
    lg_tl_hold *holds;           size_t nholds;     /* by begin time */
    size_t *longest;             size_t nlongest;   /* lock waits, longest first */
    size_t unmatched_releases;   /* releases of a lock the thread did not hold */
    bool sched;                /* the kernel's view is in (on_cpu, runnable, woken_by) */
    bool counted;              /* acquisitions and hold times from counts (holds estimated) */
    size_t sched_inferred;     /* switch-ins missing from the kernel's trace, inferred */
    size_t nholds_seen;        /* holds in the trace: nholds, or more when only the holds
                                  that explain waits were kept (lg_tl_online_options.retain) */
    /* private: per thread (same index as threads), its acquired lock waits by end time */
    size_t **twaits; size_t *ntwaits;
    /* private, per hold: the begin of the hold that followed it among every hold (UINT64_MAX:
     * none), for the Chrome export's bounded look-back over all of them */
    uint64_t *next_begin;
} lg_tl_analysis;

/* 0, or -1 on allocation failure (a is then empty). Every hold is kept. */
int lg_tl_analyze(const lg_timeline *t, lg_tl_analysis *a);

/* The same analysis fed one event at a time, in time order (as lg_timeline.events are), so
 * the events need not be in memory (the trace reader's stream). `t` gives the definitions,
 * counts, the kernel's view and end_ns (its events are not read); tids and locks are every
 * thread id and lock id the events use (a lock event's lock, a condition wait's mutex), in
 * any order, repeats allowed. With `retain`, only the holds the writers read are kept (see
 * analysis/timeline.c): the text, JSON and Chrome output are the same as over every hold, and
 * memory follows the waits, not the events. */
typedef struct lg_tl_online lg_tl_online;
typedef struct lg_tl_online_options {
    bool retain;               /* keep only the holds that explain waits (and keep_first) */
    size_t keep_first;         /* with retain: the first holds kept too (Chrome's --all-holds
                                  fills its cap with them: LG_TL_CHROME_MAX_SLICES) */
    size_t compact_every;      /* with retain: holds added between compactions at least; 0 =
                                  65536 (tests make it small to compact a small trace often) */
} lg_tl_online_options;
/* NULL on allocation failure. */
lg_tl_online *lg_tl_online_begin(const lg_timeline *t, const int *tids, size_t ntids,
                                 const uint32_t *locks, size_t nlocks,
                                 const lg_tl_online_options *o);
/* 0, or -1 (allocation failure, or an id not declared at begin): finish then fails. */
int lg_tl_online_event(lg_tl_online *o, const lg_tl_event *e);
/* The result; frees o. 0, or -1 on allocation failure (a is then empty). */
int lg_tl_online_finish(lg_tl_online *o, lg_tl_analysis *a);
void lg_tl_online_abort(lg_tl_online *o);   /* frees o without a result; NULL is fine */
void lg_tl_analysis_free(lg_tl_analysis *a);

const lg_tl_thread_stats *lg_tl_thread_stats_of(const lg_tl_analysis *a, int tid);
const lg_tl_lock_stats *lg_tl_lock_stats_of(const lg_tl_analysis *a, uint32_t lock);

/* The kernel's view (t->sched): on-CPU and runnable time per thread, the waker of each wait.
 * Called by lg_tl_analyze when t->has_sched. 0 or -1 (allocation). (timeline-sched.c) */
int lg_tl_kernel_view(const lg_timeline *t, lg_tl_analysis *a);

/* The chain of readying threads behind wait `w`, back to a thread that was not waiting;
 * at most max steps. Returns the number of steps written (0 when w is out of range). */
size_t lg_tl_critical_path(const lg_tl_analysis *a, size_t w, lg_tl_step *out, size_t max);

#endif
