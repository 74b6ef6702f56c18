/* timeline.h - the recorded timeline: what a trace file holds once read (src/trace/reader.c)
 * and what the timeline analysis (src/analysis/timeline.c) and its writers consume.
 *
 * It sits beside model.h, not inside it: lg_report is the model of findings (a cycle, a hang)
 * at one instant; a timeline is a sequence of lock events over time. The two meet in the
 * writers: stacks are symbolized into the same lg_stack, locks use the same lg_lock_type, and a
 * deadlock found while recording is reported by the runtime as an lg_report (see
 * docs/architecture.md). Not here: decoding (src/trace), analysis (src/analysis/timeline.h).
 */
#ifndef LG_MODEL_TIMELINE_H
#define LG_MODEL_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Event types. The numbers are part of the trace format (docs/trace-format.md): append only. */
typedef enum lg_ev_type {
    LG_EV_NONE = 0,
    LG_EV_ACQUIRE = 1,         /* acquired at once, no wait (the uncontended fast path) */
    LG_EV_ACQUIRE_BEGIN = 2,   /* a blocking acquisition started; may or may not wait */
    LG_EV_ACQUIRE_END = 3,     /* ...and completed (acquired) */
    LG_EV_WAIT_BEGIN = 4,      /* found the lock held, about to block; arg = owner tid or 0 */
    LG_EV_WAIT_END = 5,        /* the wait ended and the lock is acquired (contended acq.) */
    LG_EV_WAIT_FAIL = 6,       /* the wait ended without the lock (timeout, error) */
    LG_EV_RELEASE = 7,         /* unlock */
    LG_EV_TRYLOCK_FAIL = 8,    /* trylock found it held; arg = owner tid or 0 */
    LG_EV_COND_WAIT_BEGIN = 9, /* lock = condvar; arg = mutex id (released by the wait) */
    LG_EV_COND_WAIT_END = 10,  /* lock = condvar; arg = mutex id (re-acquired) */
    LG_EV_THREAD_START = 11,   /* arg = creating thread's tid or 0 */
    LG_EV_THREAD_EXIT = 12,
    LG_EV_TYPE_COUNT
} lg_ev_type;

const char *lg_ev_type_name(int type);    /* never NULL ("?" when unknown) */

typedef struct lg_tl_event {
    uint64_t ts;               /* ns since the trace started (CLOCK_MONOTONIC based) */
    int tid;
    uint32_t lock;             /* lock id (lg_tl_lock.id), 0 for thread events */
    uint32_t stack;            /* stack id (lg_tl_stack.id), 0 = none */
    uint32_t arg;              /* owner tid, mutex id, creator tid: see lg_ev_type */
    uint8_t type;              /* lg_ev_type */
    uint8_t mode;              /* lg_mode */
} lg_tl_event;

typedef struct lg_tl_thread {
    int tid;
    char *name;                /* NULL when never named */
} lg_tl_thread;

typedef struct lg_tl_lock {
    uint32_t id;
    uint64_t address;
    lg_lock_type type;
    char *name;                /* NULL when unknown */
} lg_tl_lock;

typedef struct lg_tl_stack {
    uint32_t id;
    uint64_t *pcs;             /* innermost first; pcs[0] is a return address too */
    size_t n;
    lg_stack sym;              /* symbolized frames, filled by the caller (may stay empty) */
} lg_tl_stack;

typedef struct lg_tl_module {
    uint64_t start, end;       /* executable mapping */
    uint64_t bias;             /* load bias (dlpi_addr): address = ELF vaddr + bias */
    char *path;
    uint8_t build_id[64];
    size_t build_id_len;
} lg_tl_module;

/* The kernel's view (`lockgraph record --sched`): context switches and wake-ups of the
 * program's threads. The kinds are part of the trace format: append only. */
typedef enum lg_tl_sched_kind { LG_TL_SCHED_SWITCH = 1, LG_TL_SCHED_WAKING = 2 } lg_tl_sched_kind;

typedef struct lg_tl_sched {
    uint64_t ts;               /* ns since the trace started (CLOCK_MONOTONIC, us precision) */
    uint8_t kind;              /* lg_tl_sched_kind */
    char state;                /* switch: the state prev left in ('R' preempted, 'S', 'D', ...) */
    int a;                     /* switch: tid switched out; waking: the waker (0: interrupt) */
    int b;                     /* switch: tid switched in (0: idle); waking: the woken tid */
    uint32_t order;            /* position as read: the kernel's own order among events of
                                  the same microsecond (a wake-up before its switch-in) */
} lg_tl_sched;

/* A COUNTS entry (format version 2, `lockgraph record` by default): acquisitions of one lock
 * by one thread at one call site that have no events of their own, and the hold times of a
 * sample of them (1 in N, timed by the runtime). Entries for the same key add up. */
typedef struct lg_tl_count {
    int tid;
    uint32_t lock;
    uint32_t stack;            /* the acquisition's stack, 0 = none */
    uint8_t mode;              /* lg_mode */
    uint64_t acquisitions;     /* every acquisition, the contended ones (WAIT_END) included */
    uint64_t sampled;          /* holds whose time was measured */
    uint64_t sampled_hold;     /* their total, ns (ticks until the reader converts them) */
    uint64_t longest_sampled;  /* the longest of them, ns */
} lg_tl_count;

typedef struct lg_timeline {
    int pid;
    uint64_t start_real_ns;    /* CLOCK_REALTIME when recording started */
    uint64_t end_ns;           /* last timestamp seen (events or the closing record) */
    bool closed;               /* the writer closed the trace (an end record was read) */
    uint64_t dropped;          /* events the writer dropped (budget, fork, errors) */
    lg_tl_event *events;   size_t nevents;     /* sorted by ts, per-thread order kept */
    lg_tl_thread *threads; size_t nthreads;
    lg_tl_lock *locks;     size_t nlocks;
    lg_tl_stack *stacks;   size_t nstacks;
    lg_tl_module *modules; size_t nmodules;
    char **notes;          size_t nnotes;
    lg_tl_sched *sched;    size_t nsched;      /* sorted by ts */
    bool has_sched;        /* the kernel's view was recorded (even if empty) */
    /* Uncontended acquisitions counted, not recorded as events (LG_TRACE_FLAG_COUNTED): the
     * counts say how often locks were taken, and only waits, failed trylocks, condition waits
     * and the releases that woke a waiter are events. */
    bool counted;
    lg_tl_count *counts;   size_t ncounts;
} lg_timeline;

void lg_timeline_init(lg_timeline *t);
void lg_timeline_free(lg_timeline *t);
/* Lookups (linear or binary; NULL when unknown). The sorted ones need lg_timeline_index(). */
void lg_timeline_index(lg_timeline *t);   /* sorts threads, locks, stacks by id */
const lg_tl_thread *lg_timeline_thread(const lg_timeline *t, int tid);
const lg_tl_lock *lg_timeline_lock(const lg_timeline *t, uint32_t id);
const lg_tl_stack *lg_timeline_stack(const lg_timeline *t, uint32_t id);

/* Builders used by the reader and by tests; they copy strings. A repeated id replaces the
 * earlier entry's attributes (a thread renamed later, a lock named later). 0 or -1. */
int lg_timeline_add_thread(lg_timeline *t, int tid, const char *name);
int lg_timeline_add_lock(lg_timeline *t, uint32_t id, uint64_t address, lg_lock_type type,
                         const char *name);
int lg_timeline_add_stack(lg_timeline *t, uint32_t id, const uint64_t *pcs, size_t n);
int lg_timeline_add_event(lg_timeline *t, const lg_tl_event *e);
int lg_timeline_add_count(lg_timeline *t, const lg_tl_count *c);
int lg_timeline_add_note(lg_timeline *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
