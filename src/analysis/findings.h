/* findings.h - the one builder of the deadlock and orphaned-lock findings.
 *
 * Every front end that sees threads wait (the runtime as a wait closes a cycle, attach and
 * core over a stopped process, `run --hang-timeout` through attach) gathers neutral facts:
 * per thread its tid, name, where it was created, what it waits for and how (a lock in a mode, a
 * join, a condition mutex re-acquired), where, and what it holds since where. This file turns
 * them into a model finding (src/model/model.h): locks, threads, edges, summary, fix, notes.
 * The same facts give the same finding, word for word, whichever front end gathered them.
 *
 * The cycle itself is found by the front end (src/analysis/waitfor.c for a stopped process,
 * the runtime's own search for the thread about to block: it knows read holders and queued
 * writers); the builder is given it as thread indices, each waiting for what the next holds.
 *
 * Order rule (docs/architecture.md, "One builder per finding"): a cycle is read from its
 * thread created first (the lowest tid: Linux hands tids out in increasing order until
 * pid_max wraps), whatever thread closed it; that thread's order (it holds the lock the
 * cycle's last thread waits for, then waits for the next) is taken as the program's; the fix
 * names the one thread of the cycle that takes two of its locks against that order.
 * Deterministic across runs and front ends: creation order is a fact of the program (the demo
 * and most programs create their threads in a fixed order), where "who blocked last" is a
 * race, and attach and core cannot see the order in which the program first used its locks.
 * Every front end knows tids, so run, attach and core read a cycle from the same thread.
 *
 * Pure: no I/O, no globals; unit-tested under ASan/UBSan with golden files
 * (tests/analysis/test-findings.c). Not here: finding the cycle, naming locks, rendering.
 */
#ifndef LG_FINDINGS_H
#define LG_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"

/* A lock (or a joined thread) some thread of the facts waits for or holds. */
typedef struct lg_lock_fact {
    uint64_t address;
    lg_lock_type type;       /* LG_LOCK_THREAD: a pthread_join target (join_tid) */
    const char *name;        /* symbolic name, or NULL */
    const char *attrs;       /* "recursive", "robust", ... or NULL */
    const char *label;       /* the report's id for it ("L3": attach's lock table), or NULL:
                                then the finding numbers its locks L1, L2, ... */
    int join_tid;            /* LG_LOCK_THREAD: the joined thread */
    /* Whole-process fields, copied into lg_lock (attach/core; 0 otherwise): the owner the
     * lock's memory (or the runtime's record) names for the thread that waits for it, its
     * process when it is another one (LG_LOCK_F_OWNER_ELSEWHERE) and that process's name. */
    int owner, readers, owner_pid;
    const char *owner_comm;  /* NULL unknown */
    unsigned lock_flags;     /* LG_LOCK_F_* */
    uint32_t value;          /* LG_LOCK_FUTEX: the word's expected value */
} lg_lock_fact;

/* One lock a thread holds, since where. */
typedef struct lg_held_fact {
    int lock;                /* index into the facts' locks */
    lg_mode mode;
    const lg_stack *stack;   /* where it was acquired, or NULL when not recorded */
} lg_held_fact;

/* lg_thread_fact.wait_flags */
enum {
    LG_WAITF_TIMED = 1u << 0,   /* the wait gives up at a deadline: a stall */
    LG_WAITF_COND  = 1u << 1,   /* re-acquiring its mutex on wake-up from a condition wait */
    LG_WAITF_INFERRED_READER = 1u << 2, /* its blocker is an inferred read holder (attach) */
    LG_WAITF_READ_HELD = 1u << 3,   /* the owner holds the lock for reading */
    LG_WAITF_SPINNING = 1u << 4,    /* spins on a spinlock: it runs, its owner is unknown */
};

typedef struct lg_thread_fact {
    int tid;
    const char *name;          /* NULL unknown */
    const lg_stack *created_stack;   /* where it was created, or NULL (attach, core) */
    int pid;                   /* its process when the facts span several, else 0 */
    const char *process;       /* that process's name, or NULL */
    const char *state;         /* "blocked", "running", "exited", ... or NULL */
    /* What it waits for: a lock index, -1 nothing. */
    int wait_lock;
    lg_mode wait_mode;
    unsigned wait_flags;       /* LG_WAITF_* */
    const lg_stack *wait_stack;   /* where it waits (the caller's frames first), or NULL */
    /* The thread it waits on (the holder of wait_lock, or the joined thread) as an index
     * into the facts' threads, -1 none or unknown: chains outside a cycle follow it. */
    int waits_on;
    const lg_held_fact *held;  /* what it holds, as far as the front end knows */
    size_t nheld;
    /* No lock wait: the system call it is blocked in, as decoded ("read(fd 7 -> pipe:[9])"),
     * or NULL. */
    const char *blocked_in;
} lg_thread_fact;

typedef struct lg_wait_facts {
    const lg_thread_fact *threads; size_t nthreads;
    const lg_lock_fact *locks;     size_t nlocks;
    /* The runtime's report lists every other thread's state in one note (it has no threads
     * section for people); attach/core print a threads section instead. */
    bool note_other_threads;
} lg_wait_facts;

/* A deadlock (or stall) of the cycle cycle[0..n): thread cycle[i] waits for what thread
 * cycle[(i + 1) % n] holds (n == 1: a thread that waits for a lock it holds itself). Adds
 * one finding to r and returns it, or NULL when memory ran out (r keeps what was added). */
lg_finding *lg_build_deadlock(lg_report *r, const lg_wait_facts *wf, const size_t *cycle,
                              size_t n);

/* The owner of an orphaned lock: it exited holding it, or (forked) it is a thread of the
 * parent process that held it when this process was forked. */
typedef struct lg_orphan_fact {
    int lock;                  /* index into the facts' locks */
    int owner_tid;
    const char *owner_name;    /* NULL unknown (attach: the thread is gone) */
    bool forked;               /* copied locked by fork(): the owner lives on in the parent */
    int parent_pid;            /* forked: the parent */
    const char *parent_comm;   /* forked: its name, or NULL */
    const char *fork_where;    /* forked: where the parent forked ("app.c:40"), or NULL */
    const lg_stack *owner_stack;  /* where the owner acquired it, or NULL */
    const lg_stack *owner_created;   /* where the owner was created, or NULL */
} lg_orphan_fact;

/* An orphaned lock: waiters[0..n) are the threads (indices) that wait for it. */
lg_finding *lg_build_orphaned(lg_report *r, const lg_wait_facts *wf, const lg_orphan_fact *of,
                              const size_t *waiters, size_t n);

/* What thread i waits for, in one line, the words every report uses for it (the threads
 * table, no-progress notes): "lock mutex mutex_b (normal), held by thread 13 "locker-ba"",
 * "join thread 12 "w"", a system call's description; "" when it waits for nothing. */
void lg_wait_words(const lg_wait_facts *wf, size_t i, char *out, size_t len);

/* ---- long waits and no progress (findings-wait.c) ---- */

/* A holder of the lock a long wait waits for, as it is now. */
typedef struct lg_holder_now_fact {
    size_t thread;             /* index into the facts' threads */
    const char *now;           /* what the kernel says it does ("sleeping in do_nanosleep") */
    const lg_stack *stack;     /* its current stack, or NULL when it could not be taken */
    const char *no_stack;      /* then why, or NULL */
} lg_holder_now_fact;

typedef struct lg_long_wait_fact {
    size_t waiter;             /* the thread (index) that waits; its wait is the facts' */
    double timeout_s;          /* it has waited longer than this */
    const lg_holder_now_fact *holders;   /* the holders of what it waits for */
    size_t nholders;
} lg_long_wait_fact;

/* A wait longer than the timeout with no deadlock cycle: the waiter's wait, each holder's
 * hold of the lock (from its held facts) and what it does now. Adds one finding to r and
 * returns it, or NULL when memory ran out. */
lg_finding *lg_build_long_wait(lg_report *r, const lg_wait_facts *wf,
                               const lg_long_wait_fact *lw);

/* Every thread of the facts is blocked and none can run, and no lock cycle closes it: one
 * note per thread at the end of a wait chain (what the others wait for in the end), in
 * lg_wait_words's words. Threads' waits_on give the chains. */
lg_finding *lg_build_no_progress(lg_report *r, const lg_wait_facts *wf);

#endif
