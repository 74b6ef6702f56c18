/* condvars.c - cond-two-mutexes: a condition variable waited on with two different mutexes
 * at once (POSIX: undefined; glibc does not check it, both waits go ahead, and a signaller
 * holding one mutex races with the waiters that hold the other).
 *
 * The rule, POSIX's "dynamic binding": a wait forms a binding between the condition variable
 * and its mutex that lasts while a thread is blocked on the condition variable; a wait with
 * another mutex during it is the misuse. Sequential use with different mutexes (every waiter
 * left, or was woken, before the next wait) is legal and silent. Helgrind's rule is the same
 * with "blocked" read as "inside the wait call"; here a wait counts as blocked only while no
 * signal or broadcast has been sent to its condition variable since it began (a woken waiter
 * re-acquiring its mutex is no longer blocked on the condvar), so a program that signals and
 * then waits with another mutex is not reported.
 *
 * Two layers, so the claim never rests on a counter:
 * - A filter. Each condition variable has a state word, its bound mutex and its waiter count
 *   (mutex << 16 | count), in a lock-free insert-only table keyed by address: a wait with the
 *   bound mutex (or on a condvar nobody waits on) is one CAS at entry and one at exit, and
 *   nothing else happens. Signal and broadcast bump the entry's wake count (one atomic add).
 * - The evidence. A wait with another mutex than the bound one walks the thread registry for
 *   a thread whose published wait (rt_wait.cv*: written by that thread around its wait,
 *   under a sequence count) is on this condvar, with another mutex, and began at the current
 *   wake count. Only that is reported, naming both threads, both mutexes and both call sites
 *   (the other waiter's current stack when sampling it is harmless: sample.c).
 *   A published wait is evidence only while its thread is asleep in it: the kernel shows
 *   that thread blocked in futex(2) on one of the condvar's __g_signals words (where glibc's
 *   waiters, and nothing else, sleep), and its publication and the wake count are unchanged
 *   around that look (asleep_in). A thread can leave a wait without the wrapper's exit path
 *   (a signal handler that siglongjmp's out of it: glibc's longjmp runs the wait's own
 *   cleanup, which re-takes the mutex, but jumps over the wrapper; setcontext; a raw exit):
 *   its record and its count stay, but it is running or asleep elsewhere, never on those
 *   words; its next wrapped wait withdraws the stale record first.
 * So a count that drifts (a wait left that way, a condvar freed or destroyed with waiters, a
 * forked child's copy of its parent's waiters) costs at most a registry walk or a missed
 * report, never a false one; the walk also rebinds the word when no waiter with another
 * mutex is left. A wait whose other waiter is still on its way to glibc's sleep (not yet in
 * futex(2) after a short look, ASLEEP_ROUNDS) is a missed report, never a guess.
 *
 * Not here: calls of a signal handler that interrupted the runtime (rt_is_nested) are not
 * checked; GLib's GCond (not a pthread condvar); process-shared condvars across processes
 * (each process sees its own waiters only); a glibc whose condvar layout differs from this
 * build's <pthread.h> (2.41 changed it): no claim. The table holds CV_FULL condition
 * variables (records are never freed, as in locks.c): over that, one note, and condvars first
 * waited on after it are not checked.
 */
#include <gnu/libc-version.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../util/glibc-abi.h"
#include "../util/hash.h"
#include "condvars.h"
#include "misuse.h"
#include "tasksys.h"

#define CV_BITS 16
#define CV_SLOTS (1u << CV_BITS)
#define CV_FULL (CV_SLOTS / 4 * 3)     /* keeps linear probes short */
#define CV_COUNT_BITS 16
#define CV_COUNT_MASK ((1ull << CV_COUNT_BITS) - 1)
#define CV_MUTEX_LIMIT (1ull << (64 - CV_COUNT_BITS))   /* user addresses are below 2^47 */
#define CV_TRIES 4                     /* word updates raced before giving up on a decision */
#define ASLEEP_ROUNDS 12               /* looks at a waiter on its way to sleep: 4 yields, 8 ms */

typedef struct rt_cv {
    _Atomic uintptr_t addr;            /* the condvar; 0: a free slot (never freed again) */
    _Atomic uint64_t word;             /* bound mutex << 16 | waiters registered on it */
    _Atomic uint32_t wakes;            /* signals, broadcasts, inits, destroys */
    uint32_t pad_;
    uint64_t pad2_;
} rt_cv;
_Static_assert(sizeof(rt_cv) == 32, "two entries a cache line");

static rt_cv *_Atomic table;
static _Atomic uint32_t used;
static _Atomic bool unusable;          /* the table could not be mapped, or is full: noted */

static void give_up(rt_thread *t, const char *why)
{
    if (atomic_exchange(&unusable, true))
        return;
    rt_guard_on(t);
    rt_report_note("%s: cond-two-mutexes is not checked for condition variables first waited "
                   "on from now on; the program goes on", why);
    rt_guard_off(t);
}

static rt_cv *table_get(rt_thread *t)
{
    rt_cv *tab = atomic_load_explicit(&table, memory_order_acquire);
    if (likely(tab) || atomic_load_explicit(&unusable, memory_order_relaxed))
        return tab;
    rt_cv *nt = rt_map(CV_SLOTS * sizeof(rt_cv));   /* pages come as they are touched */
    if (!nt) {
        give_up(t, "no memory for the condition variable table");
        return NULL;
    }
    if (!atomic_compare_exchange_strong(&table, &tab, nt)) {
        munmap(nt, CV_SLOTS * sizeof(rt_cv));
        return tab;
    }
    return nt;
}

/* The entry of cv, inserted when `create` (NULL when absent, or the table is full). Insert
 * only: every finder of an address walks the same probe sequence and claims only the first
 * free slot, so no address ever has two entries. */
static rt_cv *cv_find(rt_cv *tab, uintptr_t cv, bool create, rt_thread *t)
{
    size_t i = lg_fib_slot(cv >> 3, CV_BITS);
    for (size_t k = 0; k < CV_SLOTS; k++, i = (i + 1) & (CV_SLOTS - 1)) {
        uintptr_t a = atomic_load_explicit(&tab[i].addr, memory_order_acquire);
        if (a == cv)
            return &tab[i];
        if (a)
            continue;
        if (!create)
            return NULL;
        if (atomic_load_explicit(&used, memory_order_relaxed) >= CV_FULL) {
            give_up(t, "condition variable table full (49152 condition variables)");
            return NULL;
        }
        if (atomic_compare_exchange_strong(&tab[i].addr, &a, cv)) {
            atomic_fetch_add_explicit(&used, 1, memory_order_relaxed);
            return &tab[i];
        }
        if (a == cv)
            return &tab[i];
    }
    return NULL;
}

/* ---- the thread's published wait: written by the thread only, read by others ---- */

typedef struct cv_rec {
    uintptr_t cv, m, pc;
    uint32_t wakes;
} cv_rec;

static void publish(rt_thread *t, const cv_rec *r)
{
    rt_wait *w = &t->wait;
    uint32_t s = atomic_load_explicit(&w->cv_seq, memory_order_relaxed);
    atomic_store_explicit(&w->cv_seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&w->cv_mutex, r->m, memory_order_relaxed);
    atomic_store_explicit(&w->cv_pc, r->pc, memory_order_relaxed);
    atomic_store_explicit(&w->cv_wakes, r->wakes, memory_order_relaxed);
    atomic_store_explicit(&w->cv, r->cv, memory_order_relaxed);
    atomic_store_explicit(&w->cv_seq, s + 2, memory_order_release);
}

/* A consistent copy of o's published wait, and its sequence in *seq; false while o is
 * writing it. */
static bool read_rec(const rt_thread *o, cv_rec *r, uint32_t *seq)
{
    const rt_wait *w = &o->wait;
    uint32_t s = atomic_load_explicit(&w->cv_seq, memory_order_acquire);
    *seq = s;
    if (s & 1)
        return false;
    r->cv = atomic_load_explicit(&w->cv, memory_order_relaxed);
    r->m = atomic_load_explicit(&w->cv_mutex, memory_order_relaxed);
    r->pc = atomic_load_explicit(&w->cv_pc, memory_order_relaxed);
    r->wakes = atomic_load_explicit(&w->cv_wakes, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&w->cv_seq, memory_order_relaxed) == s;
}

/* ---- the evidence ---- */

/* The offset of __g_signals in pthread_cond_t, where glibc's condition waits sleep (a
 * signaller or destroyer that blocks waits on other words): this build's <pthread.h>'s,
 * used only when the running glibc has the same layout (__g_refs went away in 2.41, and the
 * words moved); -1: another layout, no claim. */
static int signals_offset(void)
{
    static _Atomic int off = -2;
    int o = atomic_load_explicit(&off, memory_order_relaxed);
    if (o != -2)
        return o;
    const char *v = gnu_get_libc_version();   /* a constant string, no lock, no allocation */
    int minor = -1;
    if (v && v[0] == '2' && v[1] == '.' && v[2] >= '0' && v[2] <= '9') {
        minor = 0;
        for (const char *p = v + 2; *p >= '0' && *p <= '9' && minor < 1000; p++)
            minor = minor * 10 + (*p - '0');
    }
    bool same = minor >= GLIBC_ABI_MINOR_LO && minor <= GLIBC_ABI_MINOR_HI
                && (minor >= 41) == (__GLIBC_MINOR__ >= 41);
    o = same ? (int)offsetof(pthread_cond_t, __data.__g_signals) : -1;
    atomic_store_explicit(&off, o, memory_order_relaxed);
    return o;
}

/* Whether o is asleep, now, in its published wait r on cv (read at sequence seq, with the
 * wake count r->wakes): the kernel shows it blocked in futex(2) waiting on one of cv's
 * __g_signals words, and afterwards its publication and cv's wake count are still those. Every
 * wrapped condition wait changes the publication as it begins (it publishes, or withdraws a
 * stale record: rt_cv_wait_begin), so that sleep is r's wait, not a later one; a thread that
 * left r's wait without the wrapper's exit path runs, or sleeps elsewhere. A waiter on its
 * way to the sleep (running, in a page fault, on the condvar's internal lock) is looked at
 * again a few times; one asleep elsewhere is not waited for. */
static bool asleep_in(const rt_thread *o, const cv_rec *r, uint32_t seq, const rt_cv *e)
{
    int off = signals_offset();
    if (off < 0)
        return false;
    uintptr_t word = r->cv + (uintptr_t)off;
    for (int round = 0; round < ASLEEP_ROUNDS; round++) {
        rt_task_call c;
        int st = rt_task_syscall(o->tid, &c);
        bool again = st == RT_TASK_RUNNING || st == RT_TASK_BLOCKED;
        if (st == RT_TASK_IN_CALL && c.nr == SYS_futex) {
            uintptr_t a = (uintptr_t)c.arg[0];
            unsigned cmd = (unsigned)c.arg[1] & ~(unsigned)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
            if ((a == word || a == word + sizeof(unsigned))
                && (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET)) {
                atomic_thread_fence(memory_order_seq_cst);
                return atomic_load(&o->wait.cv_seq) == seq
                       && atomic_load(&e->wakes) == r->wakes;
            }
            again = a >= r->cv && a < r->cv + sizeof(pthread_cond_t);
        }
        if (!again || atomic_load(&o->wait.cv_seq) != seq
            || atomic_load(&e->wakes) != r->wakes)
            return false;
        if (round < 4) {
            syscall(SYS_sched_yield);
        } else {
            struct timespec ms = {0, 1000000};
            syscall(SYS_nanosleep, &ms, NULL);
        }
    }
    return false;
}

enum { CV_ALONE, CV_OTHERS, CV_CONFLICT };

/* Whether another thread waits on cv with another mutex than m, blocked (no wake since its
 * wait began, asleep in it): CV_CONFLICT, with *h and its stack; CV_OTHERS when some wait
 * with another mutex may still be in progress (woken, not seen asleep, or its record being
 * written); else CV_ALONE. */
static int other_waits(rt_thread *t, rt_cv *e, uintptr_t cv, uintptr_t m, uintptr_t pc,
                       rt_holder_info *h)
{
    int res = CV_ALONE;
    uint64_t pcs[RT_SAMPLE_FRAMES];
    size_t np = 0;
    uintptr_t other_pc = 0;
    atomic_fetch_add_explicit(&rt.counters[RT_C_CV_CHECKS], 1, memory_order_relaxed);
    rt_guard_on(t);
    rt_flock_lock(&rt.threads_lock);
    uint32_t wakes = atomic_load_explicit(&e->wakes, memory_order_acquire);
    for (rt_thread *o = rt_threads_first(); o && res != CV_CONFLICT; o = o->next) {
        if (o == t || o->exited || o->forked_from)
            continue;
        cv_rec r;
        uint32_t seq;
        if (!read_rec(o, &r, &seq)) {
            res = CV_OTHERS;
            continue;
        }
        if (r.cv != cv || r.m == m)
            continue;
        res = CV_OTHERS;
        if (r.wakes != wakes)
            continue;   /* woken since it began: POSIX's binding may have ended */
        if (!asleep_in(o, &r, seq, e))
            continue;   /* not seen in the wait: perhaps left without its exit path */
        res = CV_CONFLICT;
        *h = (rt_holder_info){.tid = o->tid, .mode = LG_MODE_EXCLUSIVE,
                              .role = LG_SITE_OTHER_WAIT, .type = LG_LOCK_MUTEX, .addr = r.m};
        memcpy(h->name, o->name, sizeof h->name);
        h->name[sizeof h->name - 1] = '\0';
        other_pc = r.pc;
        if (rt_misuse_reported(LG_MISUSE_COND_TWO_MUTEXES, pc))
            break;   /* reported already: the finding is not made again, no stack needed */
        /* Where it waits: its current stack from its call of the wait on (sampling sends a
         * signal only when that cannot change the program), else that call site alone. */
        char why[128];
        size_t n = rt_sample_stack(o, pcs, RT_SAMPLE_FRAMES, why, sizeof why);
        for (size_t k = 0; k < n; k++)
            if (pcs[k] == r.pc) {
                memmove(pcs, pcs + k, (n - k) * sizeof *pcs);
                np = n - k;
                break;
            }
    }
    rt_flock_unlock(&rt.threads_lock);
    if (res == CV_CONFLICT)
        h->stack = np ? rt_stack_intern(pcs, np) : rt_stack_of_pc(other_pc);
    rt_guard_off(t);
    return res;
}

static void report(rt_thread *t, uintptr_t cv, uintptr_t m, uintptr_t pc,
                   const rt_holder_info *h)
{
    rt_misuse mu = {.what = LG_MISUSE_COND_TWO_MUTEXES, .thread = t, .addr = m, .cond = cv,
                    .pc = pc, .type = LG_LOCK_MUTEX, .mode = LG_MODE_EXCLUSIVE, .holders = h,
                    .nholders = 1};
    rt_misuse_report(&mu);
}

/* ---- the wrappers' calls ---- */

/* glibc refuses the wait before it begins: a destroyed mutex (EINVAL), or an owner-checking
 * one the caller does not own (EPERM: its release fails). No wait to publish: another waiter
 * is not told of a wait that never was. */
static bool glibc_refuses(const pthread_mutex_t *m, int tid)
{
    if (rt_mutex_poisoned(m))
        return true;
    int kind = m->__data.__kind & GLIBC_MUTEX_KIND_PUBLIC;
    return kind != PTHREAD_MUTEX_NORMAL && kind != PTHREAD_MUTEX_ADAPTIVE_NP
           && m->__data.__owner != tid;
}

bool rt_cv_wait_begin(const void *cvp, const void *mp, uintptr_t pc)
{
    rt_thread *t = rt_self;
    uintptr_t cv = (uintptr_t)cvp, m = (uintptr_t)mp;
    /* This thread's earlier wait still published: a signal handler running now interrupted
     * it, or it was left without the wrapper's exit path (a handler that siglongjmp'd out of
     * it). Either way it is withdrawn now, before anything else this call does, so that a
     * sleep of this thread on a condvar is never taken for that wait (asleep_in); the outer
     * wrapper's own end finds nothing left to undo. A handler that interrupted the writing of
     * the record itself (odd sequence) leaves it: a half-written record is never read. */
    if (atomic_load_explicit(&t->wait.cv_seq, memory_order_relaxed) & 1)
        return false;
    if (atomic_load_explicit(&t->wait.cv, memory_order_relaxed))
        rt_cv_wait_end();
    if (!t->cap || rt_is_nested(t) || !cv || !m || m >= CV_MUTEX_LIMIT
        || !rt_misuse_on(LG_MISUSE_COND_TWO_MUTEXES)
        || !atomic_load_explicit(&rt.ready, memory_order_relaxed) || glibc_refuses(mp, t->tid))
        return false;
    rt_cv *tab = table_get(t);
    rt_cv *e = tab ? cv_find(tab, cv, true, t) : NULL;
    if (!e)
        return false;
    /* Published before it is counted: a waiter that sees the count finds the record. */
    cv_rec r = {.cv = cv, .m = m, .pc = pc,
                .wakes = atomic_load_explicit(&e->wakes, memory_order_acquire)};
    publish(t, &r);
    t->wait.cv_entry = e;
    uint64_t w = atomic_load_explicit(&e->word, memory_order_acquire);
    int decided = -1;   /* the registry walk's answer, for the binding it saw */
    uint64_t walked_for = 0;
    rt_holder_info h;
    for (int tries = 0;; tries++) {
        uint64_t n = w & CV_COUNT_MASK, bound = w >> CV_COUNT_BITS;
        uint64_t nw;
        if (n == CV_COUNT_MASK) {   /* 65535 waiters: this one is not counted, nor checked */
            t->wait.cv_entry = NULL;
            rt_cv_wait_end();
            return false;
        }
        if (!n || bound == m) {
            nw = (uint64_t)m << CV_COUNT_BITS | (n + 1);
        } else {
            if (decided < 0 || (walked_for != bound && tries < CV_TRIES)) {
                decided = other_waits(t, e, cv, m, pc, &h);
                walked_for = bound;
            }
            /* Nobody left with the bound mutex (a count that drifted, waiters woken and
             * gone): this wait's mutex is the binding now. */
            nw = decided == CV_ALONE ? (uint64_t)m << CV_COUNT_BITS | (n + 1) : w + 1;
        }
        if (atomic_compare_exchange_weak_explicit(&e->word, &w, nw, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    if (decided == CV_CONFLICT)
        report(t, cv, m, pc, &h);
    return true;
}

void rt_cv_wait_end(void)
{
    rt_thread *t = rt_self;
    rt_cv *e = t->wait.cv_entry;
    cv_rec none = {0};
    publish(t, &none);
    t->wait.cv_entry = NULL;
    if (!e)
        return;
    uint64_t w = atomic_load_explicit(&e->word, memory_order_relaxed);
    for (;;) {
        uint64_t n = w & CV_COUNT_MASK;
        if (!n)
            return;   /* reset by an init or destroy during the wait */
        uint64_t nw = n == 1 ? 0 : w - 1;
        if (atomic_compare_exchange_weak_explicit(&e->word, &w, nw, memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
}

void rt_cv_woken(const void *cv)
{
    rt_cv *tab = atomic_load_explicit(&table, memory_order_acquire);
    rt_cv *e = tab && cv ? cv_find(tab, (uintptr_t)cv, false, NULL) : NULL;
    if (e)   /* after glibc's signal: a waiter it woke began before this */
        atomic_fetch_add_explicit(&e->wakes, 1, memory_order_relaxed);
}

void rt_cv_reset(const void *cv)
{
    rt_cv *tab = atomic_load_explicit(&table, memory_order_acquire);
    rt_cv *e = tab && cv ? cv_find(tab, (uintptr_t)cv, false, NULL) : NULL;
    if (e) {
        atomic_store_explicit(&e->word, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&e->wakes, 1, memory_order_release);
    }
}
