/* ownership.c - a lock released by another thread than the one that holds it.
 *
 * glibc lets some kinds be released by any thread (a normal or adaptive mutex, a spinlock,
 * a read lock: semaphore-like hand-offs), and the holder's held-lock stack must then forget
 * it, or every later acquisition of the holder adds an edge from a lock it no longer holds
 * (a false lock-order inversion) and its exit is "holding" it.
 *
 * The holder may be running, inside its fast path, which reads and writes its held[] and
 * depth with no lock and no atomic RMW (fastpath.h). So the releaser never writes the
 * holder's held[]; it only
 *   1. finds the holder, under threads_lock (registry walk: a slow path of a rare event),
 *      reading held[] racily; the entry it looks for cannot change under it, because the
 *      lock is still locked (the bookkeeping runs before the real unlock), so the holder
 *      cannot release or re-acquire it; the holder may only *move* it, in an out-of-order
 *      release (held_seq odd: retry the scan) or by growing held[] (under threads_lock);
 *   2. appends the address to the holder's `gone` list (under threads_lock) and publishes
 *      gone_pending;
 *   3. sets the holder's fast_cap to 0, so the holder's next acquisition or release leaves
 *      its fast path (a relaxed store; a store lost to the holder's own fast_cap update in
 *      rt_thread_grow only delays the drain to its next slow event, which checks
 *      gone_pending anyway).
 * The holder drains the list in its own slow path (rt_gone_drain, before anything else
 * reads its held[]), so held[] is only ever modified by its owner. Until then its fast path
 * can only hit chains that exist already (no edge is added there) and readers of held[]
 * that need the truth (the wait-for graph, exit) skip or drain gone entries. A holder that
 * has exited (its record kept for its orphaned locks) cannot race: its entry is removed in
 * place.
 */
#include <string.h>

#include "../trace/trace.h"
#include "../util/glibc-abi.h"
#include "fastpath.h"
#include "misuse.h"

/* glibc's mutex kinds that check the owner on unlock (error-checking, recursive, robust,
 * priority-inherit/-protect): another thread gets EPERM and nothing is released. */
static bool owner_checked(uintptr_t addr, int type)
{
    if (type != LG_LOCK_MUTEX)
        return false;
    int kind = ((const pthread_mutex_t *)addr)->__data.__kind & GLIBC_MUTEX_KIND_PUBLIC;
    return kind != PTHREAD_MUTEX_NORMAL && kind != PTHREAD_MUTEX_ADAPTIVE_NP;
}

/* How many holds of addr t has that are not released yet: its entries' counts minus the
 * releases already posted; *info (when not NULL) gets the outermost entry's stack and mode.
 * Threads_lock held; t's held[] read racily (see above). */
static long holds_of_gen(rt_thread *t, uintptr_t addr, uint32_t gen, rt_holder_info *info);
static long holds_of(rt_thread *t, uintptr_t addr, rt_holder_info *info)
{
    return holds_of_gen(t, addr, 0, info);
}

/* gen not 0: only holds of that generation of the lock (an older one's memory died under
 * its holder: freed, its module unloaded, its frame returned). */
static long holds_of_gen(rt_thread *t, uintptr_t addr, uint32_t gen, rt_holder_info *info)
{
    for (int tries = 0; tries < 1000; tries++) {
        uint32_t s = atomic_load_explicit(&t->held_seq, memory_order_acquire);
        if (s & 1) {
            __builtin_ia32_pause();
            continue;
        }
        long n = 0;
        uint32_t stack = 0, mode = 0;
        uint32_t d = __atomic_load_n(&t->depth, __ATOMIC_ACQUIRE);
        if (d > t->cap)
            d = t->cap;
        for (uint32_t i = 0; i < d; i++)
            if (__atomic_load_n(&t->held[i].addr, __ATOMIC_RELAXED) == addr
                && (!gen || __atomic_load_n(&t->held[i].gen, __ATOMIC_RELAXED) == gen)) {
                if (!n) {
                    stack = __atomic_load_n(&t->held[i].stack, __ATOMIC_RELAXED);
                    mode = __atomic_load_n(&t->held[i].mode, __ATOMIC_RELAXED);
                }
                n += __atomic_load_n(&t->held[i].count, __ATOMIC_RELAXED);
            }
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&t->held_seq, memory_order_relaxed) != s)
            continue;
        for (uint32_t i = 0; i < t->ngone; i++)
            n -= t->gone[i] == addr;
        if (info && n > 0) {
            info->tid = t->tid;
            memcpy(info->name, t->name, sizeof info->name);
            info->name[sizeof info->name - 1] = '\0';
            info->stack = stack;
            info->mode = (uint8_t)mode;
            info->role = LG_SITE_ACQUIRED;
            info->addr = 0;
        }
        return n;
    }
    return 0;   /* the owner kept moving its entries: leave it (it stays "held") */
}

size_t rt_holders_find(uintptr_t addr, const rt_thread *skip, rt_holder_info *out, size_t max)
{
    return rt_holders_find_gen(addr, 0, skip, out, max);
}

size_t rt_holders_find_gen(uintptr_t addr, uint32_t gen, const rt_thread *skip,
                           rt_holder_info *out, size_t max)
{
    size_t n = 0;
    rt_flock_lock(&rt.threads_lock);
    for (rt_thread *x = rt_threads_first(); x; x = x->next) {
        rt_holder_info info;
        if (x == skip || holds_of_gen(x, addr, gen, &info) <= 0)
            continue;
        if (n < max)
            out[n] = info;
        n++;
    }
    rt_flock_unlock(&rt.threads_lock);
    return n;
}

/* Append addr to t's gone list. Threads_lock held. */
static bool post_gone(rt_thread *t, uintptr_t addr)
{
    if (t->ngone == t->capgone) {
        uint32_t cap = t->capgone ? t->capgone * 2 : 512;
        uintptr_t *g = rt_map(cap * sizeof *g);
        if (!g)
            return false;
        if (t->gone) {
            memcpy(g, t->gone, t->ngone * sizeof *g);
            munmap(t->gone, t->capgone * sizeof *g);
        }
        t->gone = g;
        t->capgone = cap;
    }
    t->gone[t->ngone++] = addr;
    atomic_store_explicit(&t->gone_pending, t->ngone, memory_order_release);
    __atomic_store_n(&t->fast_cap, 0, __ATOMIC_RELAXED);
    return true;
}

/* Remove one hold of addr from t's held[] in place: t is an exited thread (no fast path
 * can race) or the caller itself. */
static void drop_hold(rt_thread *t, uintptr_t addr)
{
    for (uint32_t i = t->depth; i-- > 0;)
        if (t->held[i].addr == addr) {
            if (--t->held[i].count == 0)
                rt_held_remove(t, i);
            return;
        }
}

/* The misuse itself: addr released by t, which does not hold it. Another thread holds it
 * (unlock-not-owner; a condition wait: cond-mutex-not-held), or nobody does by the runtime's
 * record and by glibc's lock word (unlock-not-held). An owner-checking mutex is refused by
 * glibc with EPERM (it compares __owner with the caller): still the program's misuse.
 * An annotated lock has no lock word to read: its annotations are the program's own account
 * of every acquisition, so a lock the runtime knows (created or locked through them) that no
 * thread holds by that account is not held. */
static void foreign_release_seen(rt_thread *by, const rt_holder_info *holder, uintptr_t addr,
                                 int type, unsigned fam, bool checked, uintptr_t pc)
{
    bool cond = type == RT_REL_COND;
    int lt = cond ? LG_LOCK_MUTEX : type;
    bool native = cond || fam == RT_FAM_NATIVE;
    if (holder)
        atomic_fetch_add_explicit(&rt.counters[RT_C_FOREIGN], 1, memory_order_relaxed);
    else if (native ? !rt_lock_looks_free(addr, lt)
                    : fam != RT_FAM_CUSTOM || !rt_lock_find(addr))
        return;   /* locked by a thread the runtime never saw take it: no claim */
    rt_misuse m = {
        .what = cond ? LG_MISUSE_COND_NOT_HELD
                     : holder ? LG_MISUSE_UNLOCK_NOT_OWNER : LG_MISUSE_UNLOCK_NOT_HELD,
        .thread = by, .addr = addr, .pc = pc, .type = lt,
        .mode = holder ? holder->mode : LG_MODE_EXCLUSIVE,
        .refused = checked ? "EPERM" : NULL, .holders = holder, .nholders = holder ? 1 : 0,
    };
    if (cond)
        m.cond = rt_misuse_cond;   /* the condition variable of the wait (interpose.c) */
    rt_misuse_report(&m);
}

void rt_release_foreign(rt_thread *t, uintptr_t addr, int ft, uintptr_t pc)
{
    if (!atomic_load_explicit(&rt.ready, memory_order_acquire))
        return;
    bool cond = ft == RT_REL_COND;
    /* glibc's layout is read only for the native family's locks: a condition wait's mutex is
     * one when a pthread or C11 wrapper said which condvar (GLib's GCond does not). */
    if (cond && !rt_misuse_cond)
        return;
    unsigned fam = cond ? RT_FAM_NATIVE : RT_FT_FAM((unsigned)ft);
    bool native = fam == RT_FAM_NATIVE;
    /* A mutex glibc destroyed, or memory whose kind glibc refuses: its unlock or wait is
     * refused (EINVAL) and releases nothing; the wrapper reports the use after destroy or
     * the invalid lock (misuse.c), not a lock nobody holds. */
    if (native && (cond || RT_FT_TYPE((unsigned)ft) == LG_LOCK_MUTEX)
        && rt_mutex_refused((const void *)addr))
        return;
    int type = cond ? RT_REL_COND : (int)RT_FT_TYPE((unsigned)ft);
    bool checked = native && owner_checked(addr, cond ? LG_LOCK_MUTEX : type);
    rt_holder_info holder;
    bool found = false;   /* no guard: nothing here calls an interposed function */
    rt_flock_lock(&rt.threads_lock);
    for (rt_thread *x = rt_threads_first(); x; x = x->next) {
        if (x == t || holds_of(x, addr, &holder) <= 0)
            continue;
        found = true;
        /* glibc releases it for the holder unless it checks the owner (then EPERM, and the
         * holder keeps it); a condition wait's release stays the holder's here. */
        if (cond || checked)
            break;
        if (x->exited) {
            drop_hold(x, addr);
        } else if (!post_gone(x, addr)) {
            found = false;   /* out of memory: the hold stays (a phantom, as before) */
        }
        break;
    }
    rt_flock_unlock(&rt.threads_lock);
    foreign_release_seen(t, found ? &holder : NULL, addr, type, fam, checked, pc);
}
void rt_gone_drain(rt_thread *t)
{
    rt_flock_lock(&rt.threads_lock);
    for (uint32_t i = 0; i < t->ngone; i++)
        drop_hold(t, t->gone[i]);
    t->ngone = 0;
    atomic_store_explicit(&t->gone_pending, 0, memory_order_relaxed);
    t->fast_cap = lg_trace_on ? 0 : t->cap;
    rt_flock_unlock(&rt.threads_lock);
}

bool rt_held_gone(const rt_thread *t, uintptr_t addr)
{
    for (uint32_t i = 0; i < t->ngone; i++)
        if (t->gone[i] == addr)
            return true;
    return false;
}
