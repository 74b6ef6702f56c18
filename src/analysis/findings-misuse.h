/* findings-misuse.h - the one builder of the lock-misuse findings (LG_KIND_MISUSE).
 *
 * The runtime (src/runtime/misuse.c) decides that a call is a misuse, on its own evidence,
 * and gathers neutral facts about it: the kind, the thread that made the call and where, the
 * lock (and condition variable) it was made on, named; the other places it involves (where a
 * thread acquired the lock and still holds it, where it was destroyed, another condition wait),
 * each with its thread, lock and stack; glibc's answer when it refused the call. This file
 * turns them into a model finding: locks, threads, sites, summary, fix, notes. The same facts
 * give the same finding, word for word.
 *
 * Pure: no I/O, no globals; unit-tested under ASan/UBSan with golden files
 * (tests/analysis/test-findings-misuse.c). Not here: deciding it is a misuse, naming locks,
 * one finding per call site, rendering.
 */
#ifndef LG_FINDINGS_MISUSE_H
#define LG_FINDINGS_MISUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"

typedef struct lg_misuse_lock_fact {
    uint64_t address;
    lg_lock_type type;
    const char *name;        /* symbolic name, or NULL */
    const char *attrs;       /* or NULL */
    const char *label;       /* the report's id for it (the runtime: "L<node id + 1>", as in
                                its other findings), or NULL: numbered L1, L2, ... */
} lg_misuse_lock_fact;

/* Another place the misuse involves. */
typedef struct lg_misuse_site_fact {
    lg_site_role role;       /* LG_SITE_ACQUIRED, LG_SITE_DESTROYED, LG_SITE_OTHER_WAIT */
    int tid;
    const char *thread_name; /* NULL unknown */
    int lock;                /* index into the facts' locks */
    lg_mode mode;
    const lg_stack *stack;   /* or NULL */
} lg_misuse_site_fact;

typedef struct lg_misuse_facts {
    lg_misuse what;
    int tid;                 /* the thread that made the call; 0: no call (exit-holding: the
                                exiting thread is in the sites) */
    const char *thread_name; /* NULL unknown */
    const lg_misuse_lock_fact *locks;
    size_t nlocks;
    int lock;                /* the call's lock (index), -1 none */
    int cond;                /* the condition variable of a condition wait (index), -1 none */
    lg_mode mode;            /* the call's mode */
    const lg_stack *stack;   /* the call's stack, NULL when there is no call */
    const char *refused;     /* the errno name glibc answered with, when it refused, or NULL */
    bool freed;              /* the call is free() of the lock's memory (destroy-held): its
                                site is LG_SITE_FREED */
    const lg_misuse_site_fact *sites;
    size_t nsites;
    bool has_kind;           /* invalid-lock: the mutex's kind word (__kind) as read, glibc's */
    uint32_t kind;           /* evidence that it holds no lock */
} lg_misuse_facts;

/* The finding of one misuse: added to r and returned, or NULL when memory ran out before it
 * could be added or the facts are not a misuse (what the builder could not add after that, a
 * stack or a note, is left out of it). */
lg_finding *lg_build_misuse(lg_report *r, const lg_misuse_facts *mf);

#endif
