/* wait.c - blocking acquisitions whose first try failed: the live wait-for view.
 *
 * The uncontended path never comes here (interpose.c tries first). A contended wait first
 * blocks for a short grace period like the real call; if it is still waiting after that, it
 * records what it waits for (with its stack) and keeps waiting in slices, and between slices
 * searches the wait-for graph (thread -> lock -> holders -> the locks they wait for ...). A
 * cycle is reported only when it is seen twice with no thread in it having moved (every wait
 * has a sequence number), so a transient view never produces a false deadlock. The thread
 * that sees the cycle reports it and applies --on-deadlock. Waits on a lock whose holder
 * exited are `orphaned-lock`; a timed wait in a cycle is a stall; --wait-timeout reports long
 * waits with no cycle.
 *
 * Joins are waits for the joined thread. A thread in a condition wait records its mutex;
 * glibc re-acquires it internally, so the view asks the kernel (/proc/self/task/TID/syscall:
 * futex on the mutex word) whether it is blocked re-acquiring it rather than waiting for a
 * signal. Not covered: semaphores and barriers (no owner).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../analysis/waitfor.h"
#include "fastpath.h"
#include "record.h"
#include "real.h"

#define RT_GRACE_NS (20 * 1000000L)     /* block like the real call this long first */
#define RT_SLICE_NS (200 * 1000000L)    /* then re-check this often */
#define RT_CONFIRM_NS (30 * 1000000L)   /* a suspected cycle is re-checked this soon */
#define RT_MAX_WF 256

enum { WAIT_NOSELF = 1u << 6 };   /* a relock by the holder returns EDEADLK: not a hang */

typedef int (*attempt_fn)(void *obj, unsigned mode, const struct timespec *realtime_deadline);

static int attempt_mutex(void *obj, unsigned mode, const struct timespec *dl)
{
    (void)mode;
    return dl ? real_pthread_mutex_timedlock(obj, dl) : real_pthread_mutex_lock(obj);
}

static int attempt_rwlock(void *obj, unsigned mode, const struct timespec *dl)
{
    if (mode == LG_MODE_SHARED)
        return dl ? real_pthread_rwlock_clockrdlock(obj, CLOCK_REALTIME, dl)
                  : real_pthread_rwlock_rdlock(obj);
    return dl ? real_pthread_rwlock_clockwrlock(obj, CLOCK_REALTIME, dl)
              : real_pthread_rwlock_wrlock(obj);
}

static int attempt_spin(void *obj, unsigned mode, const struct timespec *dl)
{
    (void)mode;
    if (!dl)
        return real_pthread_spin_lock(obj);
    for (unsigned i = 0;; i++) {
        if (real_pthread_spin_trylock(obj) == 0)
            return 0;
        __builtin_ia32_pause();
        if ((i & 1023) == 1023) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            if (now.tv_sec > dl->tv_sec || (now.tv_sec == dl->tv_sec && now.tv_nsec >= dl->tv_nsec))
                return ETIMEDOUT;
            sched_yield();
        }
    }
}

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec ts_of(int64_t ns)
{
    return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

/* ---- the wait-for graph over the thread registry (threads_lock held) ---- */

/* A thread in a condition wait is blocked re-acquiring its mutex (not waiting for a signal)
 * when the kernel shows it in futex(2) on the mutex word (glibc-locks.md). */
static rt_lock *reacquiring(rt_thread *t)
{
    rt_lock *l = atomic_load(&t->wait.cond);
    if (!l || t->exited)
        return NULL;
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", t->tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    unsigned long nr = 0, uaddr = 0;
    if (sscanf(buf, "%lu %lx", &nr, &uaddr) != 2 || nr != SYS_futex)
        return NULL;
    return uaddr == atomic_load(&l->addr) ? l : NULL;   /* __lock is the mutex's first word */
}

/* What a thread waits for: a lock, or its condition mutex being re-acquired. */
static rt_lock *wait_lock(rt_thread *t, bool *cond)
{
    rt_lock *l = atomic_load(&t->wait.lock);
    *cond = false;
    if (!l && !atomic_load(&t->wait.join) && (l = reacquiring(t)))
        *cond = true;
    return l;
}

static uint64_t wf_waits_for(void *ctx, uint64_t th)
{
    (void)ctx;
    rt_thread *t = (rt_thread *)(uintptr_t)th;
    /* The "lock" handle is the waiting thread itself: holders depend on its wait mode. */
    bool cond;
    return wait_lock(t, &cond) || atomic_load(&t->wait.join) ? th : 0;
}

static bool holds(rt_thread *h, rt_lock *l, uint32_t gen, bool shared_only_blocks_writer,
                  lg_mode *mode)
{
    uint32_t d = __atomic_load_n(&h->depth, __ATOMIC_ACQUIRE);
    if (d > h->cap)
        d = h->cap;
    for (uint32_t i = 0; i < d; i++) {
        const rt_held *e = &h->held[i];
        if (e->lock != l || e->gen != gen || rt_held_gone(h, e->addr))
            continue;   /* (gone: released for it by another thread) */
        if (shared_only_blocks_writer && e->mode == LG_MODE_SHARED)
            continue;
        if (mode)
            *mode = e->mode;
        return true;
    }
    return false;
}

static size_t wf_holders(void *ctx, uint64_t handle, uint64_t *out, size_t max)
{
    (void)ctx;
    rt_thread *w = (rt_thread *)(uintptr_t)handle;
    rt_thread *j = atomic_load(&w->wait.join);
    if (j) {   /* a join waits for the target thread itself, while it lives */
        if (j->exited || !max)
            return 0;
        out[0] = (uint64_t)(uintptr_t)j;
        return 1;
    }
    bool cond;
    rt_lock *l = wait_lock(w, &cond);
    if (!l)
        return 0;
    uint32_t gen = atomic_load(&l->gen);
    /* A recursive reader is blocked only by a writer that holds the lock; a writer or a
     * non-recursive reader by any holder. */
    bool reader = !cond && w->wait.mode == LG_MODE_SHARED;
    size_t n = 0;
    for (rt_thread *h = rt_threads_first(); h; h = h->next) {
        lg_mode m;
        if (!holds(h, l, gen, reader, &m))
            continue;
        if (h == w && (w->wait.flags & WAIT_NOSELF))
            continue;
        if (n < max)
            out[n] = (uint64_t)(uintptr_t)h;
        n++;
    }
    return n;
}

/* ---- findings ---- */

static void add_held_stack(lg_finding *f, rt_thread *t, rt_lock *l, int li, int other_li)
{
    /* The edge "t holds L (acquired at ...)": recovered from its held stack. */
    (void)other_li;
    for (uint32_t i = 0; i < t->depth && i < t->cap; i++) {
        rt_held *e = &t->held[i];
        if (e->lock != l)
            continue;
        lg_edge *ed = NULL;
        for (size_t k = 0; k < f->nedges; k++)
            if (f->edges[k].thread == t->tid && f->edges[k].holds == -1
                && (f->edges[k].flags & LG_EDGE_WAITING)) {
                ed = &f->edges[k];
                break;
            }
        if (!ed)
            ed = lg_finding_add_edge(f, t->tid, li, (lg_mode)e->mode, li, (lg_mode)e->mode, 0);
        else {
            ed->holds = li;
            ed->holds_mode = (lg_mode)e->mode;
        }
        if (ed)
            rt_report_stack(e->stack, &ed->holds_stack);
        return;
    }
}

static int lock_index(lg_finding *f, rt_lock *l)
{
    char name[160], attrs[64];
    rt_report_lock_describe(atomic_load(&l->addr), (lg_lock_type)l->type, atomic_load(&l->flags),
                            name, sizeof name, attrs, sizeof attrs, true);
    return lg_finding_add_lock(f, atomic_load(&l->addr), (lg_lock_type)l->type,
                               name[0] ? name : NULL, attrs[0] ? attrs : NULL);
}

static const char *verb(rt_lock *l, unsigned mode)
{
    if (!l)
        return "join";
    if (l->type == LG_LOCK_RWLOCK)
        return mode == LG_MODE_SHARED ? "read-lock" : "write-lock";
    return "lock";
}

/* Report a cycle of n waiting threads. The caller holds report_lock, then threads_lock (the
 * runtime's lock order), and releases both before acting on it. */
static void report_cycle(rt_thread **ths, size_t n, bool orphan, rt_thread *dead)
{
    lg_report *r = rt_report_locked();
    bool timed = false;
    for (size_t i = 0; i < n; i++)
        timed |= atomic_load(&ths[i]->wait.lock) && (ths[i]->wait.flags & RT_ACQ_TIMED);
    lg_finding *f = lg_report_add_finding(r, orphan ? LG_KIND_ORPHANED : LG_KIND_DEADLOCK);
    if (!f)
        return;
    if (timed)
        f->flags |= LG_FINDING_TIMED;
    if (n == 1 && !orphan)
        f->flags |= LG_FINDING_SELF;
    int li[RT_MAX_WF];
    for (size_t i = 0; i < n; i++) {
        rt_thread *t = ths[i];
        bool cond;
        rt_lock *l = wait_lock(t, &cond);
        rt_thread *j = atomic_load(&t->wait.join);
        if (l) {
            li[i] = lock_index(f, l);
        } else {
            char name[64];
            snprintf(name, sizeof name, "%d \"%s\"", j ? j->tid : 0, j ? j->name : "?");
            li[i] = lg_finding_add_lock(f, j ? (uint64_t)j->self : 0, LG_LOCK_THREAD, name, NULL);
        }
        lg_thread *ft = lg_finding_add_thread(f, t->tid, t->name);
        if (ft)
            lg_thread_set(ft, "blocked", NULL);
        lg_edge *e = lg_finding_add_edge(f, t->tid, -1, LG_MODE_EXCLUSIVE, li[i],
                                         cond ? LG_MODE_EXCLUSIVE : (lg_mode)t->wait.mode,
                                         LG_EDGE_WAITING | (cond ? LG_EDGE_COND : 0)
                                         | (!cond && t->wait.flags & RT_ACQ_TIMED ? LG_EDGE_TIMED : 0));
        if (e && cond) {   /* blocked inside glibc: where its condition wait was called */
            uint64_t pc = t->wait.cond_pc;
            rt_report_pcs(&pc, 1, false, &e->stack);
        } else if (e) {
            rt_report_stack(t->wait.stack, &e->stack);
        }
    }
    /* Who holds what: thread i+1 holds the lock thread i waits for. */
    for (size_t i = 0; i < n && !orphan; i++) {
        rt_thread *holder = ths[(i + 1) % n];
        bool cond;
        rt_lock *l = wait_lock(ths[i], &cond);
        if (l) {
            add_held_stack(f, holder, l, li[i], -1);
            continue;
        }
        /* Joined: the target "holds" itself until it returns. */
        for (size_t k = 0; k < f->nedges; k++)
            if (f->edges[k].thread == holder->tid && f->edges[k].holds == -1) {
                f->edges[k].holds = li[i];
                break;
            }
    }
    if (orphan && dead) {
        lg_thread *ft = lg_finding_add_thread(f, dead->tid, dead->name);
        if (ft)
            lg_thread_set(ft, "exited", NULL);
        add_held_stack(f, dead, atomic_load(&ths[0]->wait.lock), li[0], -1);
    }
    /* Every other thread, with its state: in the report (JSON) and as one note line. */
    char others[1024];
    size_t no = 0, nother = 0;
    others[0] = '\0';
    for (rt_thread *t = rt_threads_first(); t; t = t->next) {
        bool in = t == dead;
        for (size_t i = 0; i < n; i++)
            in |= ths[i] == t;
        if (in)
            continue;
        rt_lock *w = atomic_load(&t->wait.lock);
        rt_thread *j = atomic_load(&t->wait.join);
        const char *state = t->exited ? "exited" : w || j ? "blocked" : "running";
        char buf[64] = "";
        if (w)
            snprintf(buf, sizeof buf, "waits for lock 0x%lx", (unsigned long)atomic_load(&w->addr));
        else if (j)
            snprintf(buf, sizeof buf, "joins thread %d", j->tid);
        lg_thread *rt_ = lg_report_add_thread(r, t->tid, t->name);
        if (rt_)
            lg_thread_set(rt_, state, buf[0] ? buf : NULL);
        if (nother++ < 16 && no < sizeof others)
            no += (size_t)snprintf(others + no, sizeof others - no, "%s%d \"%s\" %s%s%s",
                                   no ? ", " : "", t->tid, t->name, state, buf[0] ? ": " : "", buf);
    }
    if (nother)
        lg_finding_add_note(f, "other threads: %s%s", others, nother > 16 ? ", ..." : "");
    rt_lock *l0 = atomic_load(&ths[0]->wait.lock);
    if (orphan) {
        lg_finding_set_summary(f, "thread %d \"%s\" waits to %s %s, held by thread %d \"%s\", "
                               "which exited without releasing it", ths[0]->tid, ths[0]->name,
                               verb(l0, ths[0]->wait.mode), f->locks[li[0]].name ? f->locks[li[0]].name : f->locks[li[0]].id,
                               dead ? dead->tid : 0, dead ? dead->name : "?");
        lg_finding_set_fix(f, "release %s before thread %d exits (or use a robust mutex and "
                           "handle EOWNERDEAD)", f->locks[li[0]].name ? f->locks[li[0]].name : f->locks[li[0]].id,
                           dead ? dead->tid : 0);
    } else if (n == 1) {
        lg_finding_set_summary(f, "thread %d \"%s\" waits to %s %s, which it holds itself",
                               ths[0]->tid, ths[0]->name, verb(l0, ths[0]->wait.mode),
                               f->locks[li[0]].name ? f->locks[li[0]].name : f->locks[li[0]].id);
        lg_finding_set_fix(f, "%s", l0->type == LG_LOCK_RWLOCK
                           ? "release the read lock before write-locking (rwlocks cannot be upgraded)"
                           : "do not re-lock a mutex you hold (or make it recursive)");
    } else {
        char chain[1024];
        size_t o = 0;
        for (size_t i = 0; i < n && o < sizeof chain; i++)
            o += (size_t)snprintf(chain + o, sizeof chain - o, "thread %d \"%s\" -> %s -> ",
                                  ths[i]->tid, ths[i]->name,
                                  f->locks[li[i]].type == LG_LOCK_THREAD ? "(joins)"
                                  : f->locks[li[i]].name ? f->locks[li[i]].name : f->locks[li[i]].id);
        lg_finding_set_summary(f, "%sthread %d: %zu threads wait for each other%s", chain,
                               ths[0]->tid, n,
                               timed ? " (one wait is timed: a stall until it gives up)" : "");
        /* One global order: the order in which the program first used these locks (a lock's
         * index is given at first sight), which is deterministic where "who blocked last" is
         * a race. Thread k holds li[k-1] (what its predecessor waits for) and waits for li[k];
         * the fix changes a thread that holds a later-seen lock while waiting for an earlier
         * one (a cycle has at least one), keeping everybody else's order. */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            rt_lock *want = atomic_load(&ths[i]->wait.lock);
            rt_lock *held = atomic_load(&ths[(i + n - 1) % n]->wait.lock);
            if (want && held && held->idx > want->idx) {
                k = i;
                break;
            }
        }
        size_t kp = (k + n - 1) % n;
        const char *a = f->locks[li[k]].name ? f->locks[li[k]].name : f->locks[li[k]].id;
        const char *b = f->locks[li[kp]].name ? f->locks[li[kp]].name : f->locks[li[kp]].id;
        char where[256] = "an unknown place";
        for (size_t e_i = 0; e_i < f->nedges; e_i++) {
            const lg_edge *e = &f->edges[e_i];
            if (e->thread == ths[k]->tid && e->holds == li[kp]) {
                lg_stack_where(&e->holds_stack, where, sizeof where);
                break;
            }
        }
        lg_finding_set_fix(f, "acquire %s before %s in every thread: thread %d \"%s\" takes %s "
                           "first (at %s), then waits for %s", a, b, ths[k]->tid, ths[k]->name,
                           b, where, a);
    }
    rt_report_emit(f);
}

static uint64_t cycle_sig(rt_thread **ths, size_t n)
{
    uint64_t h = 77;
    for (size_t i = 0; i < n; i++)
        h = lg_mix64(h ^ (uint64_t)(uintptr_t)ths[i] ^ atomic_load(&ths[i]->wait.seq) << 1);
    return h | 1;
}

static _Atomic int deadlock_seen;
static _Atomic uint64_t reported_sets[64];

static void act(bool timed)
{
    RT_REC_FLUSH();   /* the trace keeps the waits up to the deadlock */
    if (timed)
        return;   /* a stall ends by itself */
    switch (rt.cfg.on_deadlock) {
    case RT_ON_DEADLOCK_WAIT:
        return;
    case RT_ON_DEADLOCK_ABORT:
        rt_report_write_json();
        signal(SIGABRT, SIG_DFL);
        abort();
    case RT_ON_DEADLOCK_EXIT:
    default:
        /* Other threads may hold stdio locks: flush only what we can lock. */
        if (ftrylockfile(stdout) == 0) {
            fflush_unlocked(stdout);
            funlockfile(stdout);
        }
        rt_report_write_json();
        _exit(rt.cfg.exitcode);
    }
}

/* 1: the caller should stop checking (reported; keep waiting). */
static int check(rt_thread *t, uint64_t *candidate)
{
    rt_thread *ths[RT_MAX_WF];
    uint64_t tv[RT_MAX_WF], lv[RT_MAX_WF];
    lg_wf_ops ops = {wf_waits_for, wf_holders, NULL};
    rt_report_lock();
    rt_flock_lock(&rt.threads_lock);
    size_t n = lg_wf_find_cycle(&ops, (uint64_t)(uintptr_t)t, tv, lv, RT_MAX_WF);
    /* Orphaned: a holder of our lock has exited. */
    rt_thread *dead = NULL;
    if (!n) {
        uint64_t hs[16];
        size_t nh = wf_holders(NULL, (uint64_t)(uintptr_t)t, hs, 16);
        for (size_t i = 0; i < nh && i < 16; i++)
            if (((rt_thread *)(uintptr_t)hs[i])->exited)
                dead = (rt_thread *)(uintptr_t)hs[i];
        if (dead) {
            ths[0] = t;
            report_cycle(ths, 1, true, dead);
            rt_flock_unlock(&rt.threads_lock);
            rt_report_unlock();
            act(false);
            return 1;
        }
        rt_flock_unlock(&rt.threads_lock);
        rt_report_unlock();
        *candidate = 0;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        ths[i] = (rt_thread *)(uintptr_t)tv[i];
    uint64_t sig = cycle_sig(ths, n);
    if (sig != *candidate) {
        *candidate = sig;   /* seen once: confirm on the next, short, slice */
        rt_flock_unlock(&rt.threads_lock);
        rt_report_unlock();
        return 0;
    }
    bool timed = false;
    for (size_t i = 0; i < n; i++)
        timed |= atomic_load(&ths[i]->wait.lock) && (ths[i]->wait.flags & RT_ACQ_TIMED);
    /* One report per cycle (by its set of threads), whichever member sees it first. */
    uint64_t set = 0;
    for (size_t i = 0; i < n; i++)
        set += lg_mix64((uint64_t)(uintptr_t)ths[i]);
    bool first = true;
    for (int i = 0; i < 64 && first; i++)
        first = atomic_load(&reported_sets[i]) != set;
    if (first) {
        int slot = atomic_fetch_add(&deadlock_seen, 1);
        if (slot < 64)
            atomic_store(&reported_sets[slot], set);
    }
    if (first)
        report_cycle(ths, n, false, NULL);
    rt_flock_unlock(&rt.threads_lock);
    rt_report_unlock();
    if (first)
        act(timed);
    return 1;
}

/* What a thread is doing now, as the kernel sees it: "sleeping in hrtimer_nanosleep". Its
 * user stack comes from sample.c, which signals it only where that changes nothing. */
static void kernel_state(int tid, char *buf, size_t n)
{
    char path[64], st[512] = "", wchan[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t k = read(fd, st, sizeof st - 1);
        close(fd);
        st[k > 0 ? k : 0] = '\0';
    }
    snprintf(path, sizeof path, "/proc/self/task/%d/wchan", tid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t k = read(fd, wchan, sizeof wchan - 1);
        close(fd);
        wchan[k > 0 ? k : 0] = '\0';
    }
    const char *paren = strrchr(st, ')');
    char state = paren && paren[1] && paren[2] ? paren[2] : '?';
    const char *what = state == 'R' ? "running" : state == 'S' ? "sleeping" : state == 'D'
                       ? "in uninterruptible wait" : state == 'T' || state == 't' ? "stopped" : "?";
    if (wchan[0] && strcmp(wchan, "0"))
        snprintf(buf, n, "%s in %s", what, wchan);
    else
        snprintf(buf, n, "%s", what);
}

static void long_wait(rt_thread *t)
{
    lg_report *r = rt_report_begin();
    rt_flock_lock(&rt.threads_lock);
    uint64_t hs[16];
    size_t nh = wf_holders(NULL, (uint64_t)(uintptr_t)t, hs, 16);
    lg_finding *f = lg_report_add_finding(r, LG_KIND_LONG_WAIT);
    if (f) {
        rt_lock *l = atomic_load(&t->wait.lock);
        int li = lock_index(f, l);
        lg_finding_add_thread(f, t->tid, t->name);
        lg_edge *e = lg_finding_add_edge(f, t->tid, -1, LG_MODE_EXCLUSIVE, li,
                                         (lg_mode)t->wait.mode, LG_EDGE_WAITING);
        if (e)
            rt_report_stack(t->wait.stack, &e->stack);
        for (size_t i = 0; i < nh && i < 16; i++) {
            rt_thread *h = (rt_thread *)(uintptr_t)hs[i];
            lg_thread *ft = lg_finding_add_thread(f, h->tid, h->name);
            char now[128], why[128] = "";
            kernel_state(h->tid, now, sizeof now);
            if (ft)
                lg_thread_set(ft, atomic_load(&h->wait.lock) ? "blocked" : now, NULL);
            /* What it does instead of releasing: its current stack, when sampling it by a
             * signal cannot change the program (sample.c); else the kernel's state and why. */
            uint64_t pcs[RT_SAMPLE_FRAMES];
            size_t np = h == t || h->exited ? 0 : rt_sample_stack(h, pcs, RT_SAMPLE_FRAMES, why,
                                                                  sizeof why);
            if (np && ft)
                rt_report_pcs(pcs, np, true, &ft->stack);
            if (np)
                lg_finding_add_note(f, "holder thread %d \"%s\" is %s now; its current stack "
                                    "is shown", h->tid, h->name, now);
            else
                lg_finding_add_note(f, "holder thread %d \"%s\" is %s now%s%s", h->tid, h->name,
                                    now, why[0] ? "; no current stack: " : "", why);
            add_held_stack(f, h, l, li, -1);
        }
        lg_finding_set_summary(f, "thread %d \"%s\" has waited more than %g s to %s %s, with no "
                               "deadlock cycle", t->tid, t->name, rt.cfg.wait_timeout,
                               verb(l, t->wait.mode), f->locks[li].name ? f->locks[li].name : f->locks[li].id);
    }
    rt_report_emit(f);
    rt_flock_unlock(&rt.threads_lock);
    rt_report_unlock();
}

static int wait_loop(void *obj, lg_lock_type type, unsigned mode, unsigned wflags, int how,
                     clockid_t clk, const struct timespec *abstime, attempt_fn attempt,
                     uintptr_t pc)
{
    if (how == RT_WAIT_TIMED && (!abstime || abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000))
        return EINVAL;
    int64_t user_end = INT64_MAX;   /* monotonic */
    if (how == RT_WAIT_TIMED) {
        int64_t left = (int64_t)abstime->tv_sec * 1000000000 + abstime->tv_nsec - now_ns(clk);
        user_end = now_ns(CLOCK_MONOTONIC) + (left > 0 ? left : 0);
    }
    rt_thread *t = rt_self;
    if (!rt.cfg.deadlocks || t->guard || t == NULL) {
        if (how != RT_WAIT_TIMED)
            return attempt(obj, mode, NULL);
        struct timespec dl = ts_of(now_ns(CLOCK_REALTIME) + (user_end - now_ns(CLOCK_MONOTONIC)));
        return attempt(obj, mode, &dl);
    }
    if (how != RT_WAIT_TIMED) {
        /* The common contended case: one clock read, one bounded wait like the real call. */
        struct timespec dl = ts_of(now_ns(CLOCK_REALTIME) + RT_GRACE_NS);
        int r = attempt(obj, mode, &dl);
        if (r != ETIMEDOUT)
            return r;
    }
    int64_t start = now_ns(CLOCK_MONOTONIC);
    int64_t slice = how == RT_WAIT_TIMED ? RT_GRACE_NS : 0;
    bool registered = false, stop = false, long_reported = false;
    uint64_t candidate = 0;
    int r;
    for (;;) {
        int64_t now = now_ns(CLOCK_MONOTONIC);
        if (now >= user_end) {
            r = ETIMEDOUT;
            break;
        }
        if (stop) {
            /* Reported with on-deadlock=wait (or a stall): wait like the real call. */
            if (user_end == INT64_MAX) {
                r = attempt(obj, mode, NULL);
                break;
            }
            slice = user_end - now;
        }
        int64_t len = slice < user_end - now ? slice : user_end - now;
        if (len > 0) {   /* (0: the grace period was already spent above) */
            struct timespec dl = ts_of(now_ns(CLOCK_REALTIME) + len);
            r = attempt(obj, mode, &dl);
            if (r != ETIMEDOUT)
                break;
        }
        if (stop)
            continue;
        t = rt_thread_setup();
        if (t->cap == 0)
            continue;
        t->guard++;
        if (!registered) {
            rt_lock *l = rt_lock_get((uintptr_t)obj, type);
            if (!l) {
                t->guard--;
                stop = true;
                continue;
            }
            t->wait.mode = (uint8_t)mode;
            t->wait.flags = (uint8_t)(wflags | (how == RT_WAIT_TIMED ? RT_ACQ_TIMED : 0));
            t->wait.stack = rt_stack_capture(3, pc);
            rt_flock_lock(&rt.threads_lock);
            atomic_fetch_add(&t->wait.seq, 1);
            atomic_store(&t->wait.lock, l);
            rt_flock_unlock(&rt.threads_lock);
            atomic_fetch_add_explicit(&rt.counters[RT_C_WAITS], 1, memory_order_relaxed);
            registered = true;
        }
        stop = check(t, &candidate) != 0;
        if (!stop && !long_reported && rt.cfg.wait_timeout > 0
            && now_ns(CLOCK_MONOTONIC) - start > (int64_t)(rt.cfg.wait_timeout * 1e9)) {
            long_wait(t);
            long_reported = true;
        }
        t->guard--;
        slice = candidate ? RT_CONFIRM_NS : RT_SLICE_NS;
    }
    if (registered) {
        rt_flock_lock(&rt.threads_lock);
        atomic_store(&t->wait.lock, NULL);
        atomic_fetch_add(&t->wait.seq, 1);
        rt_flock_unlock(&rt.threads_lock);
    }
    return r;
}

/* glibc's mutex kind (__kind & 3) 2 = error-checking; robust mutexes (16) report EDEADLK too. */
#define RT_MUTEX_ERRORCHECK 2
#define RT_MUTEX_ROBUST_BIT 16

int rt_wait_mutex(pthread_mutex_t *m, int how, clockid_t clk, const struct timespec *abstime,
                  uintptr_t pc)
{
    int k = m->__data.__kind;
    unsigned wf = ((k & 3) == RT_MUTEX_ERRORCHECK || (k & RT_MUTEX_ROBUST_BIT)) ? WAIT_NOSELF : 0;
    rt_rec_wait_begin(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, pc);
    return rt_rec_wait_end(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE,
                           wait_loop(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, wf, how, clk, abstime, attempt_mutex, pc), pc);
}

int rt_wait_rwlock(pthread_rwlock_t *l, unsigned mode, int how, clockid_t clk,
                   const struct timespec *abstime, uintptr_t pc)
{
    /* glibc returns EDEADLK when the write holder asks again: only a reader's upgrade hangs. */
    unsigned wf = 0;
    if (mode == LG_MODE_SHARED && l->__data.__cur_writer == (int)rt_self->tid)
        wf = WAIT_NOSELF;
    rt_rec_wait_begin(l, LG_LOCK_RWLOCK, mode, pc);
    return rt_rec_wait_end(l, LG_LOCK_RWLOCK, mode,
                           wait_loop(l, LG_LOCK_RWLOCK, mode, wf, how, clk, abstime, attempt_rwlock, pc), pc);
}

int rt_wait_spin(pthread_spinlock_t *l, uintptr_t pc)
{
    rt_rec_wait_begin((void *)l, LG_LOCK_SPINLOCK, LG_MODE_EXCLUSIVE, pc);
    return rt_rec_wait_end((void *)l, LG_LOCK_SPINLOCK, LG_MODE_EXCLUSIVE,
                           wait_loop((void *)l, LG_LOCK_SPINLOCK, LG_MODE_EXCLUSIVE, 0, RT_WAIT_PLAIN, 0, NULL,
                                     attempt_spin, pc), pc);
}

int rt_wait_join(pthread_t th, void **ret, uintptr_t pc)
{
    rt_thread *t = rt_self;
    if (!rt.cfg.deadlocks || t->guard)
        return real_pthread_join(th, ret);
    int64_t slice = RT_GRACE_NS;
    bool registered = false, stop = false;
    uint64_t candidate = 0;
    int r;
    for (;;) {
        if (stop) {
            r = real_pthread_join(th, ret);
            break;
        }
        struct timespec dl = ts_of(now_ns(CLOCK_REALTIME) + slice);
        r = pthread_timedjoin_np(th, ret, &dl);
        if (r != ETIMEDOUT)
            break;
        t = rt_thread_setup();
        if (t->cap == 0) {
            stop = true;
            continue;
        }
        t->guard++;
        if (!registered) {
            rt_flock_lock(&rt.threads_lock);
            rt_thread *target = NULL;
            for (rt_thread *x = rt_threads_first(); x; x = x->next)
                if (!x->exited && pthread_equal(x->self, th))
                    target = x;
            if (target) {
                t->wait.mode = LG_MODE_EXCLUSIVE;
                t->wait.flags = 0;
                atomic_fetch_add(&t->wait.seq, 1);
                atomic_store(&t->wait.join, target);
                registered = true;
            }
            rt_flock_unlock(&rt.threads_lock);
            if (!registered) {   /* not seen yet (its record is made at its first event) */
                t->guard--;
                slice = RT_SLICE_NS;
                continue;
            }
            t->wait.stack = rt_stack_capture(1, pc);
        }
        stop = check(t, &candidate) != 0;
        t->guard--;
        slice = candidate ? RT_CONFIRM_NS : RT_SLICE_NS;
    }
    if (registered) {
        rt_flock_lock(&rt.threads_lock);
        atomic_store(&t->wait.join, NULL);
        atomic_fetch_add(&t->wait.seq, 1);
        rt_flock_unlock(&rt.threads_lock);
    }
    return r;
}
