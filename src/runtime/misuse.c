/* misuse.c - lock misuse findings (LG_KIND_MISUSE): calls POSIX leaves undefined or glibc
 * refuses, that the program really made. This file decides that a call is one and gathers
 * its facts (the locks named, the call's and the other places' stacks symbolized); every word
 * of the finding is src/analysis/findings-misuse.c's (lg_build_misuse).
 *
 * Evidence before a claim. Each finding rests on what the runtime saw (its own record of
 * who holds what: threads.c, ownership.c) and, for "nobody holds it", on glibc's own lock
 * word saying the lock is free too (rt_lock_looks_free): a lock taken before the runtime was
 * loaded, or one whose acquisition the runtime could not record, is locked in glibc's memory,
 * so it is never called "not held". Nothing here changes a call: the wrappers make glibc's
 * call with the same arguments and return its answer; a misuse glibc refuses (EPERM, EBUSY,
 * EDEADLK) is still reported, saying so (lg_finding.refused).
 *
 * One finding per distinct misuse: subkind and the misusing call site (its return address),
 * checked first in a small lock-free cache of keys already reported, then under report_lock.
 * The subkinds reported are --misuse's (options.def; all by default).
 *
 * Called from the slow paths (slowpath.c, ownership.c, threads.c, interpose.c's error
 * branches) with no runtime lock held; the thread's guard is raised while the finding is
 * built, so the symbolizer's own lock calls pass straight to glibc.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../analysis/findings-misuse.h"
#include "../analysis/u64map.h"
#include "../util/glibc-abi.h"
#include "fastpath.h"
#include "misuse.h"
#include "names.h"
#include "real.h"

/* Keys already reported: a direct-mapped cache read without a lock (a repeat costs a load),
 * then the map under report_lock decides. */
static _Atomic uint64_t seen_cache[256];
static lg_u64map seen;   /* under report_lock */

static uint64_t misuse_key(lg_misuse m, uintptr_t pc, uintptr_t extra)
{
    uint64_t k = lg_mix64(((uint64_t)m << 56) ^ pc ^ lg_mix64(extra)) | 1;
    return k == UINT64_MAX ? 3 : k;
}

static bool seen_before(uint64_t key)
{
    return atomic_load_explicit(&seen_cache[key & 255], memory_order_relaxed) == key;
}

bool rt_misuse_reported(lg_misuse m, uintptr_t pc)
{
    return seen_before(misuse_key(m, pc, 0));
}

/* ---- facts for the builder (src/analysis/findings-misuse.h): the words are its ---- */

#define RT_MISUSE_FACT_SITES 8

typedef struct misuse_facts {
    lg_misuse_lock_fact lk[2 + RT_MISUSE_FACT_SITES];
    char names[2 + RT_MISUSE_FACT_SITES][160], attrs[2 + RT_MISUSE_FACT_SITES][64];
    char labels[2 + RT_MISUSE_FACT_SITES][16];
    size_t nlk;
    lg_misuse_site_fact sites[RT_MISUSE_FACT_SITES];
    lg_stack stacks[1 + RT_MISUSE_FACT_SITES];   /* [0] the call's */
} misuse_facts;

/* The fact index of the lock at addr (named once), or -1. */
static int lock_fact(misuse_facts *fa, uintptr_t addr, int type)
{
    for (size_t i = 0; i < fa->nlk; i++)
        if (fa->lk[i].address == addr && fa->lk[i].type == (lg_lock_type)type)
            return (int)i;
    if (fa->nlk == sizeof fa->lk / sizeof fa->lk[0])
        return -1;
    size_t i = fa->nlk++;
    rt_lock *l = rt_lock_find(addr);
    rt_name_describe(addr, (lg_lock_type)type, l ? atomic_load(&l->flags) : 0, fa->names[i],
                     sizeof fa->names[i], fa->attrs[i], sizeof fa->attrs[i], false);
    /* Its label is its node id, as in the process's other findings. */
    if (l)
        snprintf(fa->labels[i], sizeof fa->labels[i], "L%u", l->idx + 1);
    fa->lk[i] = (lg_misuse_lock_fact){.address = addr, .type = (lg_lock_type)type,
                                      .name = fa->names[i][0] ? fa->names[i] : NULL,
                                      .attrs = fa->attrs[i][0] ? fa->attrs[i] : NULL,
                                      .label = l ? fa->labels[i] : NULL};
    return (int)i;
}

static void misuse_report(const rt_misuse *mu);

/* The program goes on after a misuse: the report (symbolizing, writing) leaves its errno as
 * it was, as glibc's call did. */
void rt_misuse_report(const rt_misuse *mu)
{
    int e = errno;
    misuse_report(mu);
    errno = e;
}

static void misuse_report(const rt_misuse *mu)
{
    lg_misuse m = mu->what;
    if (!rt_misuse_on(m))
        return;
    uint64_t key = misuse_key(m, mu->pc, mu->pc ? 0 : mu->key_extra);
    if (seen_before(key))
        return;
    rt_thread *t = mu->thread;
    if (t && !t->cap) {
        if (!atomic_load_explicit(&rt.ready, memory_order_acquire))
            return;
        t = rt_thread_setup();   /* its first event is the misuse */
    }
    if (t && (!t->cap || t->guard))
        return;
    if (t)
        t->guard++;
    uint32_t stack = mu->pc ? rt_stack_capture(3, mu->pc) : 0;
    if (t)
        rt_thread_refresh_name(t);
    lg_report *r = rt_report_begin();
    bool dup = lg_u64map_get(&seen, key, NULL);
    if (!dup) {
        lg_u64map_put(&seen, key, 1);
        atomic_store_explicit(&seen_cache[key & 255], key, memory_order_relaxed);
    }
    lg_finding *f = NULL;
    static misuse_facts fa;   /* under report_lock: one finding at a time */
    if (!dup) {
        memset(&fa, 0, sizeof fa);
        int li = mu->addr ? lock_fact(&fa, mu->addr, mu->type) : -1;
        int ci = mu->cond ? lock_fact(&fa, mu->cond, LG_LOCK_CONDVAR) : -1;
        size_t ns = mu->nholders < RT_MISUSE_FACT_SITES ? mu->nholders : RT_MISUSE_FACT_SITES;
        for (size_t i = 0; i < ns; i++) {
            const rt_holder_info *h = &mu->holders[i];
            int hl = h->addr && h->addr != mu->addr ? lock_fact(&fa, h->addr, h->type) : li;
            rt_report_stack(h->stack, &fa.stacks[1 + i]);
            fa.sites[i] = (lg_misuse_site_fact){
                .role = (lg_site_role)h->role, .tid = h->tid,
                .thread_name = h->name[0] ? h->name : NULL, .lock = hl,
                .mode = (lg_mode)h->mode, .stack = &fa.stacks[1 + i]};
        }
        if (t && mu->pc)
            rt_report_stack(stack, &fa.stacks[0]);
        lg_misuse_facts mf = {
            .what = m, .tid = t ? t->tid : 0, .thread_name = t && t->name[0] ? t->name : NULL,
            .locks = fa.lk, .nlocks = fa.nlk, .lock = li, .cond = ci,
            .mode = (lg_mode)mu->mode, .stack = t && mu->pc ? &fa.stacks[0] : NULL,
            .refused = mu->refused, .freed = mu->freed, .sites = fa.sites, .nsites = ns,
            .has_kind = mu->has_kind, .kind = mu->kind};
        f = lg_build_misuse(r, &mf);
        for (size_t i = 0; i < sizeof fa.stacks / sizeof fa.stacks[0]; i++)
            lg_stack_free(&fa.stacks[i]);
    }
    if (!f) {
        rt_report_end(NULL);
        if (t)
            t->guard--;
        return;
    }
    rt_report_end(f);
    if (t)
        t->guard--;
}

__thread uintptr_t rt_misuse_cond __attribute__((tls_model("initial-exec")));

#define RT_MISUSE_HOLDERS 8

int rt_misuse_destroy(rt_thread *t, uintptr_t addr, int type, uintptr_t pc)
{
    /* A free lock (the usual destroy) costs one load: no registry walk. */
    if (!atomic_load_explicit(&rt.ready, memory_order_relaxed) || t->guard
        || rt_lock_looks_free(addr, type))
        return 0;
    int refused = 0;
    if (type == LG_LOCK_MUTEX) {
        const pthread_mutex_t *mx = (const pthread_mutex_t *)addr;
        /* glibc: a non-robust mutex with users is not destroyed (EBUSY). */
        if (!(mx->__data.__kind & GLIBC_MUTEX_KIND_ROBUST) && mx->__data.__nusers != 0)
            refused = EBUSY;
    }
    if (!rt_misuse_on(LG_MISUSE_DESTROY_HELD))
        return refused;
    rt_holder_info h[RT_MISUSE_HOLDERS];
    size_t n = rt_holders_find(addr, NULL, h, RT_MISUSE_HOLDERS);
    if (!n)
        return refused;   /* locked, but by no thread the runtime saw lock it: no claim */
    rt_misuse m = {.what = LG_MISUSE_DESTROY_HELD, .thread = t, .addr = addr, .pc = pc,
                   .type = type, .mode = h[0].mode, .refused = refused ? "EBUSY" : NULL,
                   .holders = h, .nholders = n < RT_MISUSE_HOLDERS ? n : RT_MISUSE_HOLDERS};
    rt_misuse_report(&m);
    return refused;
}

void rt_misuse_freed(rt_thread *t, uintptr_t addr, int type, uint32_t gen, uintptr_t pc)
{
    if (!rt_misuse_on(LG_MISUSE_DESTROY_HELD) || rt_misuse_reported(LG_MISUSE_DESTROY_HELD, pc))
        return;
    rt_holder_info h[RT_MISUSE_HOLDERS];
    size_t n = rt_holders_find_gen(addr, gen, NULL, h, RT_MISUSE_HOLDERS);
    if (!n)
        return;   /* taken in glibc's word, by no thread the runtime saw take it: no claim */
    rt_misuse m = {.what = LG_MISUSE_DESTROY_HELD, .thread = t, .addr = addr, .pc = pc,
                   .type = type, .mode = h[0].mode, .freed = true, .holders = h,
                   .nholders = n < RT_MISUSE_HOLDERS ? n : RT_MISUSE_HOLDERS};
    rt_misuse_report(&m);
}

void rt_misuse_exit(rt_thread *t)
{
    if (!rt_misuse_on(LG_MISUSE_EXIT_HOLDING))
        return;
    rt_holder_info h[RT_MISUSE_HOLDERS];
    size_t n = 0;
    uintptr_t first = 0;
    uint64_t sites = 0;
    for (uint32_t i = 0; i < t->depth && n < RT_MISUSE_HOLDERS; i++) {
        const rt_held *e = &t->held[i];
        rt_lock *l = e->lock;
        /* A lock that died since (destroyed, freed: already its own finding, and its memory
         * may be gone) is no longer held; a robust mutex is glibc's to recover: the next
         * locker gets EOWNERDEAD, which is what robust mutexes are for. */
        if (!l || atomic_load(&l->gen) != e->gen)
            continue;
        if (l->type == LG_LOCK_MUTEX && rt_lock_cold_of(l)->family == 0
            && (((const pthread_mutex_t *)e->addr)->__data.__kind & GLIBC_MUTEX_KIND_ROBUST))
            continue;
        /* A pthread lock glibc's word shows free is held by nobody, whatever the record
         * says: another thread's condition wait with it released it (glibc does not check a
         * normal mutex's owner there; ownership.c leaves such a hold to its holder). */
        if (rt_lock_cold_of(l)->family == 0 && rt_lock_looks_free(e->addr, l->type))
            continue;
        h[n] = (rt_holder_info){.tid = t->tid, .stack = e->stack, .mode = e->mode,
                                .role = LG_SITE_ACQUIRED, .type = l->type, .addr = e->addr};
        memcpy(h[n].name, t->name, sizeof h[n].name);
        h[n].name[sizeof h[n].name - 1] = '\0';
        if (!first)
            first = e->addr;
        sites = lg_mix64(sites ^ e->pc);
        n++;
    }
    if (!n)
        return;
    h[0].addr = 0;   /* the finding's lock */
    rt_misuse m = {.what = LG_MISUSE_EXIT_HOLDING, .thread = NULL, .addr = first,
                   .key_extra = sites, .type = h[0].type, .mode = h[0].mode,
                   .holders = h, .nholders = n};
    /* The exiting thread's guard is raised by its caller: report without a thread record. */
    rt_misuse_report(&m);
}

void rt_misuse_relock(uintptr_t addr, int type, unsigned mode, uintptr_t pc)
{
    rt_thread *t = rt_self;
    if (!t->cap || t->guard || !rt_misuse_on(LG_MISUSE_RELOCK_REFUSED))
        return;
    rt_holder_info h;
    bool held = false;
    for (uint32_t i = 0; i < t->depth && !held; i++)
        if (t->held[i].addr == addr) {
            h = (rt_holder_info){.tid = t->tid, .stack = t->held[i].stack,
                                 .mode = t->held[i].mode, .role = LG_SITE_ACQUIRED};
            memcpy(h.name, t->name, sizeof h.name);
            h.name[sizeof h.name - 1] = '\0';
            held = true;
        }
    if (!held)
        return;   /* EDEADLK for another reason (a PI mutex's kernel answer): no claim */
    rt_misuse m = {.what = LG_MISUSE_RELOCK_REFUSED, .thread = t, .addr = addr, .pc = pc,
                   .type = type, .mode = mode, .refused = "EDEADLK", .holders = &h,
                   .nholders = 1};
    rt_misuse_report(&m);
}

bool rt_misuse_after_destroy(uintptr_t addr, int type, uintptr_t pc, const char *refused)
{
    /* Only a mutex: glibc 2.36's rwlock and spinlock destroys change nothing in the lock, so
     * a lock re-initialised by assignment (a loop's local, a pooled object) looks exactly
     * like a destroyed one; only the mutex carries glibc's mark, reset by any new init. */
    if (type != LG_LOCK_MUTEX || !addr || !rt_mutex_poisoned((const void *)addr))
        return false;
    rt_thread *t = rt_self;
    if (!atomic_load_explicit(&rt.ready, memory_order_acquire) || t->guard)
        return false;
    rt_lock *l = rt_lock_find(addr);
    if (!l)
        return false;
    rt_lock_cold *c = rt_lock_cold_of(l);
    /* The runtime's own record too: a destroy it saw, and no free(), returned frame or init
     * since (each ends it: rt_lock_kill). glibc's mark alone could be a freed block's left-
     * over bytes. */
    if (!atomic_load_explicit(&c->destroyed, memory_order_acquire))
        return false;
    if (!rt_misuse_on(LG_MISUSE_USE_AFTER_DESTROY))
        return true;
    rt_holder_info h = {.tid = c->destroy_tid, .mode = LG_MODE_EXCLUSIVE,
                        .role = LG_SITE_DESTROYED, .type = type};
    rt_flock_lock(&rt.threads_lock);
    rt_thread *d = rt_thread_by_tid(c->destroy_tid);
    if (d) {
        memcpy(h.name, d->name, sizeof h.name);
        h.name[sizeof h.name - 1] = '\0';
    }
    rt_flock_unlock(&rt.threads_lock);
    t->guard++;
    h.stack = rt_stack_of_pc(c->destroy_pc);   /* the destroy's call site */
    t->guard--;
    rt_misuse m = {.what = LG_MISUSE_USE_AFTER_DESTROY, .thread = t, .addr = addr, .pc = pc,
                   .type = type, .mode = LG_MODE_EXCLUSIVE, .refused = refused, .holders = &h,
                   .nholders = 1};
    rt_misuse_report(&m);
    return true;
}

/* Held, not merely initialised: an init of a free lock (a static initialiser followed by an
 * init, a pooled object set up again, a memset struct) only rewrites memory no thread is
 * using, and is everywhere in real code; an init of a held lock throws away the holder's
 * lock (glibc writes a free lock over it), so its unlock and any waiter go wrong. */
void rt_misuse_reinit_live(rt_lock *l, uintptr_t addr, int type, uintptr_t pc)
{
    rt_thread *t = rt_self;
    /* Only glibc's own locks: the lock word is read. */
    if (!atomic_load_explicit(&rt.ready, memory_order_acquire) || rt_is_nested(t)
        || !rt_misuse_on(LG_MISUSE_REINIT_LIVE)
        || atomic_load_explicit(&rt_lock_cold_of(l)->family, memory_order_relaxed) != RT_FAM_NATIVE
        || rt_lock_looks_free(addr, type))
        return;
    rt_holder_info h[RT_MISUSE_HOLDERS];
    size_t n = rt_holders_find_gen(addr, atomic_load(&l->gen), NULL, h, RT_MISUSE_HOLDERS);
    if (!n)
        return;   /* locked, but by no thread the runtime saw lock it: no claim */
    rt_misuse m = {.what = LG_MISUSE_REINIT_LIVE, .thread = t, .addr = addr, .pc = pc,
                   .type = type, .mode = h[0].mode, .holders = h,
                   .nholders = n < RT_MISUSE_HOLDERS ? n : RT_MISUSE_HOLDERS};
    rt_misuse_report(&m);
}

void rt_misuse_invalid(uintptr_t addr, int type, uintptr_t pc)
{
    /* Only a mutex (pthread or C11): glibc's rwlock and spinlock calls never answer EINVAL
     * for what their memory holds (2.36: an rwlock's only EINVAL is a bad clock or timeout),
     * so there is no refusal to stand on, and garbage there is not guessed at. */
    if (type != LG_LOCK_MUTEX || !addr)
        return;
    int kind = rt_mutex_kind_of((const void *)addr);
    if (!rt_mutex_kind_refused(kind))
        return;   /* a kind glibc knows: the EINVAL is about something else (a PP ceiling) */
    rt_thread *t = rt_self;
    if (!atomic_load_explicit(&rt.ready, memory_order_acquire) || t->guard
        || !rt_misuse_on(LG_MISUSE_INVALID_LOCK))
        return;
    /* A lock the runtime saw initialised or taken here, alive since: its memory was a lock
     * glibc accepted and nothing the runtime sees ended it; no claim. A dead one (destroyed
     * and re-used, freed, its frame returned) or none: the memory holds no lock now. */
    rt_lock *l = rt_lock_find(addr);
    if (l && !atomic_load_explicit(&l->dead, memory_order_acquire))
        return;
    rt_misuse m = {.what = LG_MISUSE_INVALID_LOCK, .thread = t, .addr = addr, .pc = pc,
                   .type = type, .mode = LG_MODE_EXCLUSIVE, .refused = "EINVAL",
                   .has_kind = true, .kind = (uint32_t)kind};
    rt_misuse_report(&m);
}
