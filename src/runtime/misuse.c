/* misuse.c - lock misuse findings (LG_KIND_MISUSE): calls POSIX leaves undefined or glibc
 * refuses, that the program really made.
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

static const char *where_of(const lg_stack *s, char *buf, size_t len)
{
    lg_stack_where(s, buf, len);
    return buf;
}

static const char *name_of(const lg_finding *f, int li)
{
    return li >= 0 && f->locks[li].name ? f->locks[li].name : "it";
}

/* The summary and the fix, from the finding's sites (already symbolized). */
static void describe(lg_finding *f, lg_misuse m, int li, const char *typename,
                     const rt_holder_info *h, size_t nh, const char *cond_name)
{
    char w[256] = "", hw[256] = "";
    const lg_site *ms = NULL, *hs = NULL;
    bool freed = false;
    for (size_t i = 0; i < f->nsites; i++) {
        bool mis = f->sites[i].role == LG_SITE_MISUSE || f->sites[i].role == LG_SITE_FREED;
        if (mis && !ms) {
            ms = &f->sites[i];
            freed = ms->role == LG_SITE_FREED;
        } else if (!mis && !hs) {
            hs = &f->sites[i];
        }
    }
    if (ms)
        where_of(&ms->stack, w, sizeof w);
    if (hs)
        where_of(&hs->stack, hw, sizeof hw);
    const char *n = name_of(f, li);
    int tid = ms ? ms->thread : nh ? h[0].tid : 0;
    char holder[96] = "";
    if (nh && h[0].tid == tid)
        snprintf(holder, sizeof holder, "the thread itself");
    else if (nh)
        snprintf(holder, sizeof holder, "thread %d%s%s%s", h[0].tid, h[0].name[0] ? " \"" : "",
                 h[0].name, h[0].name[0] ? "\"" : "");
    switch (m) {
    case LG_MISUSE_UNLOCK_NOT_HELD:
        lg_finding_set_summary(f, "thread %d unlocks %s %s at %s, which no thread holds", tid,
                               typename, n, w);
        lg_finding_set_fix(f, "unlock %s only after locking it, once per lock: look for a second "
                           "unlock on this path, or an unlock on a path that did not lock", n);
        break;
    case LG_MISUSE_UNLOCK_NOT_OWNER:
        lg_finding_set_summary(f, "thread %d unlocks %s %s at %s, which %s holds (locked at %s)",
                               tid, typename, n, w, holder, hw);
        lg_finding_set_fix(f, "let the thread that locks %s unlock it; to hand work or a "
                           "resource between threads use a semaphore or a condition variable, "
                           "not a lock held across threads", n);
        break;
    case LG_MISUSE_DESTROY_HELD:
        if (freed) {
            lg_finding_set_summary(f, "thread %d frees the memory of %s %s at %s while %s holds "
                                   "it (locked at %s)", tid, typename, n, w, holder, hw);
            lg_finding_set_fix(f, "unlock %s and destroy it before freeing the memory that "
                               "holds it, and free it only when no thread can use it any more "
                               "(after joining them)", n);
            break;
        }
        lg_finding_set_summary(f, "thread %d destroys %s %s at %s while %s holds it (locked at "
                               "%s)", tid, typename, n, w, holder, hw);
        lg_finding_set_fix(f, "unlock %s before destroying it, and destroy it only when no "
                           "thread can use it any more (after joining them)", n);
        break;
    case LG_MISUSE_USE_AFTER_DESTROY:
        lg_finding_set_summary(f, "thread %d uses %s %s at %s, destroyed at %s and not "
                               "initialised since", tid, typename, n, w, hw);
        lg_finding_set_fix(f, "initialise %s again (pthread_*_init) before using it after a "
                           "destroy, or destroy it only after its last use", n);
        break;
    case LG_MISUSE_REINIT_LIVE:
        lg_finding_set_summary(f, "thread %d initialises %s %s at %s while %s holds it (locked "
                               "at %s)", tid, typename, n, w, holder, hw);
        lg_finding_set_fix(f, "initialise %s once, before any thread uses it; to reset it, "
                           "destroy it first, when no thread holds it", n);
        break;
    case LG_MISUSE_RELOCK_REFUSED:
        lg_finding_set_summary(f, "thread %d locks %s %s again at %s while holding it (locked "
                               "at %s)", tid, typename, n, w, hw);
        lg_finding_set_fix(f, "do not lock %s again while holding it: release it first, or use "
                           "a recursive mutex if re-entry is intended, and check the result of "
                           "the lock call", n);
        break;
    case LG_MISUSE_EXIT_HOLDING:
        lg_finding_set_summary(f, "thread %d%s%s%s ended holding %zu lock%s: %s %s (locked at %s)%s",
                               tid, nh && h[0].name[0] ? " \"" : "", nh ? h[0].name : "",
                               nh && h[0].name[0] ? "\"" : "", f->nlocks,
                               f->nlocks > 1 ? "s" : "", typename, n, hw,
                               f->nlocks > 1 ? ", ..." : "");
        lg_finding_set_fix(f, "unlock every lock before the thread returns or calls "
                           "pthread_exit (look for an early return or an error path); for "
                           "cancellation, push a cleanup handler that unlocks it");
        break;
    case LG_MISUSE_COND_NOT_HELD:
        lg_finding_set_summary(f, "thread %d waits on condition variable %s at %s with mutex %s, "
                               "which %s%s", tid, cond_name ? cond_name : "?", w, n,
                               nh ? holder : "no thread holds", nh ? " holds" : "");
        lg_finding_set_fix(f, "lock %s before the condition wait and keep it locked around "
                           "the check of the condition", n);
        break;
    case LG_MISUSE_COND_TWO_MUTEXES:
        lg_finding_set_summary(f, "thread %d waits on condition variable %s at %s with mutex %s, "
                               "while %s waits on it with mutex %s (at %s)", tid,
                               cond_name ? cond_name : "?", w, n,
                               nh ? holder : "another thread",
                               f->nlocks > 2 && f->locks[f->nlocks - 1].name
                                   ? f->locks[f->nlocks - 1].name : "another mutex", hw);
        lg_finding_set_fix(f, "use one mutex with each condition variable, for all its "
                           "waiters and for the signaller's changes of the condition: or one "
                           "condition variable per mutex");
        break;
    default:
        break;
    }
}

static int add_lock(lg_finding *f, uintptr_t addr, int type, bool threads_locked)
{
    char name[160], attrs[64];
    rt_lock *l = rt_lock_find(addr);
    rt_name_describe(addr, (lg_lock_type)type, l ? atomic_load(&l->flags) : 0, name,
                     sizeof name, attrs, sizeof attrs, threads_locked);
    return lg_finding_add_lock(f, addr, (lg_lock_type)type, name[0] ? name : NULL,
                               attrs[0] ? attrs : NULL);
}

void rt_misuse_report(const rt_misuse *mu)
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
    lg_finding *f = dup ? NULL : lg_report_add_finding(r, LG_KIND_MISUSE);
    if (!f) {
        rt_report_end(NULL);
        if (t)
            t->guard--;
        return;
    }
    f->misuse = m;
    const char *typename = lg_lock_type_name((lg_lock_type)mu->type);
    int li = mu->addr ? add_lock(f, mu->addr, mu->type, false) : -1;
    int cond_li = mu->cond ? add_lock(f, mu->cond, LG_LOCK_CONDVAR, false) : -1;
    if (mu->refused)
        lg_finding_set_refused(f, mu->refused);
    if (t) {
        lg_finding_add_thread(f, t->tid, t->name[0] ? t->name : NULL);
        if (mu->pc) {
            lg_site *s = lg_finding_add_site(f, mu->freed ? LG_SITE_FREED : LG_SITE_MISUSE,
                                             t->tid, li, (lg_mode)mu->mode);
            if (s)
                rt_report_stack(stack, &s->stack);
        }
    }
    for (size_t i = 0; i < mu->nholders; i++) {
        const rt_holder_info *h = &mu->holders[i];
        int hl = h->addr && h->addr != mu->addr ? add_lock(f, h->addr, h->type, false) : li;
        lg_finding_add_thread(f, h->tid, h->name[0] ? h->name : NULL);
        lg_site *s = lg_finding_add_site(f, h->role, h->tid, hl, (lg_mode)h->mode);
        if (s)
            rt_report_stack(h->stack, &s->stack);
    }
    char cname[160];
    snprintf(cname, sizeof cname, "%s", cond_li >= 0 && f->locks[cond_li].name
                                           ? f->locks[cond_li].name : "?");
    describe(f, m, li, typename, mu->holders, mu->nholders, mu->cond ? cname : NULL);
    if (mu->freed)
        lg_finding_add_note(f, "free() asks nothing of glibc: the lock's memory is gone with the "
                               "lock still taken, and its holder's unlock (or a waiter's lock) "
                               "then writes into freed, maybe reused, memory");
    if (m == LG_MISUSE_UNLOCK_NOT_HELD && !mu->refused && mu->type == LG_LOCK_MUTEX)
        lg_finding_add_note(f, "glibc unlocked it anyway: a normal mutex does not check its "
                               "owner, so the next unlock or lock finds it in a state no thread "
                               "made");
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
