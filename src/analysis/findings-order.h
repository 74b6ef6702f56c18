/* findings-order.h - the one builder of the lock-order findings: lock-order-inversion and
 * gated-cycle (a cycle whose every edge was made under one common lock).
 *
 * The front end (the runtime's slow path and lock-order graph, src/analysis/lockorder.c)
 * finds the cycle and gathers neutral facts about it: its locks in cycle order, and per edge
 * the thread that made it, the mode each lock was held or taken in, whether the acquisition
 * was timed, a try or a condition-wait re-acquisition, where the held lock was taken and
 * where the next one was taken while holding it; whether one thread made every edge, and the
 * gate lock. This file turns them into a model finding (src/model/model.h): locks, threads,
 * edges with both stacks, summary, fix, notes. The same facts give the same finding, word
 * for word.
 *
 * Order rule: the edges come in the order the program first made them, so the last edge is
 * the one that closed the cycle against the order the others follow: the fix names it. A
 * one-lock "cycle" is a reader of a writer-preferring rwlock read-locking it again.
 *
 * Pure: no I/O, no globals; unit-tested under ASan/UBSan with golden files
 * (tests/analysis/test-findings-order.c). Not here: finding or classifying the cycle,
 * naming locks, grouping cycles by code path, rendering.
 */
#ifndef LG_FINDINGS_ORDER_H
#define LG_FINDINGS_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"

/* A lock of the cycle (or its gate). */
typedef struct lg_order_lock_fact {
    uint64_t address;
    lg_lock_type type;
    const char *name;        /* symbolic name ("resource1", "heap 0x..."), or NULL */
    const char *attrs;       /* "GMutex", "c11", ... or NULL */
    const char *label;       /* the report's id for it (the runtime: "L<node id + 1>", the
                                same in every finding of the process), or NULL: then the
                                finding numbers its locks L1, L2, ... */
} lg_order_lock_fact;

/* lg_order_edge_fact.flags */
enum {
    LG_ORDERF_TIMED = 1u << 0,   /* every occurrence was a timed acquisition */
    LG_ORDERF_COND  = 1u << 1,   /* first made by a condition-variable re-acquisition */
    LG_ORDERF_TRY   = 1u << 2,   /* made by a successful trylock */
};

/* Edge i of a cycle of n: its thread held locks[i] and took locks[(i + 1) % n]. */
typedef struct lg_order_edge_fact {
    int tid;
    const char *thread_name;       /* NULL unknown */
    lg_mode holds_mode;            /* how locks[i] was held */
    lg_mode acquires_mode;         /* how locks[(i + 1) % n] was taken */
    unsigned flags;                /* LG_ORDERF_* */
    const lg_stack *holds_stack;   /* where locks[i] was taken, or NULL when not recorded */
    const lg_stack *stack;         /* where locks[(i + 1) % n] was taken, or NULL */
} lg_order_edge_fact;

typedef struct lg_order_facts {
    const lg_order_lock_fact *locks;   /* n locks, in cycle order */
    const lg_order_edge_fact *edges;   /* n edges, in the order first made: the last closed it */
    size_t n;
    bool same_thread;                  /* one thread's code paths made every edge */
    bool timed;                        /* a timed acquisition closes it: a stall, not a hang */
    const lg_order_lock_fact *gate;    /* held at every edge: a gated cycle; NULL none */
} lg_order_facts;

/* The finding of the cycle (n >= 1): lock-order-inversion, or gated-cycle when `gate` is set
 * (then no fix: a cycle every edge of which was made under one lock cannot deadlock).
 * Adds it to r and returns it, or NULL when memory ran out before it could be added (what
 * could not be added after that, a stack or a note, is left out of it). */
lg_finding *lg_build_order_cycle(lg_report *r, const lg_order_facts *of);

/* Another cycle at finding f's code path: its lock set (each lock's name, else its address)
 * added to f (lg_finding_add_lockset). 0, or -1 when memory ran out (then only counted). */
int lg_order_add_lockset(lg_finding *f, const lg_order_lock_fact *locks, size_t n);

#endif
