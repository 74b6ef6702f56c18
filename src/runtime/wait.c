/* wait.c - blocking acquisitions whose first try failed: the live wait-for view.
 *
 * The uncontended path never comes here (interpose.c tries first). A contended wait records
 * what it waits for (the lock, its mode, its stack, the held-lock depth below which its
 * entries cannot change while it waits), tries once more, searches the wait-for graph
 * (thread -> lock -> the threads that hold it, or a queued writer ahead of a non-recursive
 * reader -> the lock they wait for ...) and then makes the program's own call: glibc's
 * untimed lock, or its timed lock with the caller's clock and deadline. So a waiting thread
 * stays queued in glibc for its whole wait, exactly as without the runtime (a writer of a
 * writer-preferring rwlock keeps later readers out), and the call returns what glibc returns.
 *
 * The thread that closes a cycle sees it, before it blocks: every wait is recorded before its
 * thread blocks (under threads_lock, or for an announced wait without it, by the orders
 * argued at "announced waits"), so of the threads of a cycle the last one to record its
 * wait sees all the others recorded. Its view cannot be stale (a view confirms what it
 * read: "wait-for views"). Let C be that thread,
 * waiting for L0 held by A1, A1 for L1 held by A2, ..., A(n-1) for L(n-1), which C holds (C's
 * own state is exact). A recorded wait ends only when its lock call returns; an untimed call
 * returns only with the lock (the immediate errors, EDEADLK for the holder itself, EINVAL,
 * EAGAIN, EOWNERDEAD, are decided before or excluded from the graph), and a thread cannot
 * release a lock before its wait ends, so A(n-1) cannot have acquired L(n-1) during its
 * recorded wait (C could not hold it then) and cannot until C releases it: it is stuck for as
 * long as C is. A thread stuck inside its lock call does not run its program's code, so its
 * held locks below its recorded depth stay held (a signal handler's locks sit above it and
 * do not count): A(n-1) keeps L(n-2), so A(n-2) is stuck, and so on to A1, which keeps L0.
 * C then blocks forever: the deadlock is certain, whatever order the view was read in. For
 * a reader of a writer-preferring (non-recursive) rwlock, the "holder" is a writer recorded
 * as waiting for the same lock: glibc queues such readers behind a waiting writer, and C's
 * second try (tryrdlock: EBUSY in a read phase only when a writer is queued) confirms that one
 * is. A timed wait makes the cycle a stall (reported as such, only while its deadline is
 * still ahead); a holder that exited holding the lock makes it `orphaned-lock` (not for
 * robust mutexes: glibc answers EOWNERDEAD).
 *
 * What no closer can see alone: a thread in a condition wait re-acquires its mutex inside
 * glibc (the view asks the kernel, /proc/self/task/TID/syscall: futex on the mutex word,
 * which proves the wait while the mutex's holder is stuck), a holder exits after its waiter
 * blocked (threads.c calls rt_wait_holder_exited), and --wait-timeout's long waits. For the
 * first and the last, a wait that needs watching re-checks every 200 ms, but only where
 * leaving the wait and coming back changes nothing glibc promises: a mutex that is not
 * priority-inheriting (no queue: glibc's waiters re-contend for the word, which stays 2, so
 * a wake-up is never lost), a spinlock (no queue at all) and a join (slices of
 * pthread_timedjoin_np, bounded by the caller's deadline when it has one. Rwlock and PI waits
 * always make the untimed call: a cycle they close only through a condition wait's
 * re-acquisition, or their long waits, are not reported. Not covered: semaphores and
 * barriers (no owner).
 *
 * Re-entrancy: a signal handler that interrupts a recorded wait and waits itself records its
 * own wait over the outer one (saved on its stack, restored when it ends): the view shows the
 * innermost wait, which is what the thread does. While the runtime updates the record its
 * guard is set, so a handler's lock calls then go straight to glibc (nested.c tracks what
 * they hold); the threads_lock sections run with signals blocked (futex-lock.h), so no
 * handler ever waits for a program lock while its thread holds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../analysis/findings.h"
#include "../util/glibc-abi.h"
#include "fastpath.h"
#include "names.h"
#include "record.h"
#include "real.h"

#define RT_SLICE_NS (200 * 1000000L)    /* a watched wait re-checks this often */
#define RT_MAX_WF 64                    /* threads on a cycle the search follows */
#define RT_WF_HOLDERS 16                /* holders of one lock it follows */
#define RT_WF_VISITED 1024
#if defined(__x86_64__) || defined(__i386__)
#define RT_CPU_RELAX() __builtin_ia32_pause()
#else
#define RT_CPU_RELAX() atomic_signal_fence(memory_order_seq_cst)
#endif

enum {
    WAIT_ROBUST = 1u << 5,   /* a robust mutex: a holder's death hands it on (EOWNERDEAD) */
    WAIT_NOSELF = 1u << 6,   /* a relock by the holder returns EDEADLK: not a hang */
    WAIT_NONREC = 1u << 7,   /* a reader of a writer-preferring rwlock: queued writers block it */
};

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

static int64_t ns_of(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* ---- wait-for views: reading other threads' wait records (threads_lock held) ----
 *
 * A wait record (rt_wait) is written by its own thread only: under threads_lock
 * (record_wait, end_wait: contended waits, joins), or without it (an announced wait,
 * record_wait_free / end_wait_free: "announced waits" below). Its seq is a seqlock: the
 * writer makes it odd (relaxed), a release fence, the fields (relaxed atomic stores), then
 * even again (release). A view is a threads_lock section that reads other threads'
 * records: the wait-for search, the orphan and long-wait reports. It opens by waiting, per
 * thread, for a write in flight to end (a few stores: the writer runs with its guard set,
 * so a handler on its thread cannot start another; a bounded spin, then the record is read
 * as waiting for nothing, view_skip: a writer may be preempted, or interrupted by a handler
 * that blocks in a lock call of the program, maybe for a lock the viewer holds), and notes
 * each seq it saw (view_seq). Lock-free writes may go on while the view lasts, so the view
 * may read a record half old and half new, or one whose wait has just ended. What it finds
 * from them is claimed only when it is confirmed (view_unchanged): after the search, an
 * acquire fence, then every record the finding rests on still has the seq the view began
 * with, so each of those waits lasted from the view's start to that point, and with it the
 * held[] entries below its depth: the cycle was whole at that instant, which is all the
 * argument at the top needs. An unconfirmed cycle is searched again in a new view (a few
 * times). What a half-written record can hide (no cycle found) is no loss: its thread is
 * starting a wait, and makes its own check after its record is whole (the ordering
 * argument of announced waits), or ending one, and then no cycle runs through it. */
static void view_lock(void)
{
    rt_flock_lock(&rt.threads_lock);
    /* The viewer's own record was written before this (under threads_lock or not), the
     * records and hints it reads come after: the fence of the ordering argument at
     * "announced waits", for a viewer whose record record_wait wrote. */
    atomic_thread_fence(memory_order_seq_cst);
    for (rt_thread *x = rt_threads_first(); x; x = x->next) {
        unsigned spins = 0;
        uint64_t s;
        while (((s = atomic_load_explicit(&x->wait.seq, memory_order_acquire)) & 1)
               && spins++ < 256) {
            if (spins > 192)
                sched_yield();
            else
                RT_CPU_RELAX();
        }
        x->view_seq = s;
        x->view_skip = s & 1;
    }
}

static void view_unlock(void)
{
    rt_flock_unlock(&rt.threads_lock);
}

/* The records of ths[0..n) did not change since the view began (none was skipped). */
static bool view_unchanged(rt_thread *const *ths, size_t n)
{
    atomic_thread_fence(memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        if (ths[i]->view_skip
            || atomic_load_explicit(&ths[i]->wait.seq, memory_order_relaxed) != ths[i]->view_seq)
            return false;
    return true;
}
#define RT_VIEW_TRIES 4   /* views a finding is searched in before it is given up for now */

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

/* The record of the thread a join waits for, while it lives. */
static rt_thread *join_target(rt_thread *w)
{
    rt_thread *j = atomic_load(&w->wait.join);
    if (j)
        return j->exited ? NULL : j;
    if (!w->wait.join_th)
        return NULL;
    for (rt_thread *x = rt_threads_first(); x; x = x->next)
        if (!x->exited && pthread_equal(x->self, w->wait.join_th))
            return x;
    return NULL;
}

static bool recorded_wait(const rt_thread *t)
{
    if (t->view_skip)
        return false;   /* its record was mid-rewrite when the view began (view_lock) */
    return atomic_load(&t->wait.lock) || atomic_load(&t->wait.join) || t->wait.join_th;
}

/* The lock a thread's record says it waits for, in a view. */
static rt_lock *recorded_lock(const rt_thread *t)
{
    return t->view_skip ? NULL : atomic_load(&t->wait.lock);
}

/* What a thread waits for: a lock, or its condition mutex being re-acquired (then *cond). */
static rt_lock *wait_lock(rt_thread *t, bool *cond)
{
    rt_lock *l = recorded_lock(t);
    *cond = false;
    if (!l && !recorded_wait(t) && (l = reacquiring(t)))
        *cond = true;
    return l;
}

/* The held entries of h that cannot change under the reader: below its recorded depth while
 * it waits, all of them for an exited thread; a running thread's are read as they are. */
static uint32_t stable_depth(rt_thread *h)
{
    uint32_t d = recorded_wait(h) ? h->wait.depth : __atomic_load_n(&h->depth, __ATOMIC_ACQUIRE);
    return d > h->cap ? h->cap : d;
}

static bool holds(rt_thread *h, rt_lock *l, uint32_t gen, lg_mode *mode)
{
    uint32_t d = stable_depth(h);
    for (uint32_t i = 0; i < d; i++) {
        const rt_held *e = &h->held[i];
        if (e->lock == l && e->gen == gen && !rt_held_gone(h, e->addr)) {   /* gone: released for it by another thread */
            *mode = (lg_mode)e->mode;
            return true;
        }
    }
    return false;
}

/* The threads w waits for (its lock's holders that block it, or the joined thread), up to
 * max into out; how many there are. A reader is blocked by a write holder only, and a
 * non-recursive reader also by the writers recorded as waiting for the lock (glibc queues it
 * behind them); a writer or a re-acquiring condition waiter by every holder. */
static size_t holders_of(rt_thread *w, rt_thread **out, size_t max, bool *cond_out)
{
    rt_thread *j = join_target(w);
    if (j || atomic_load(&w->wait.join) || w->wait.join_th) {
        if (j && max)
            out[0] = j;
        return j ? 1 : 0;
    }
    bool cond;
    rt_lock *l = wait_lock(w, &cond);
    if (cond_out)
        *cond_out = cond;
    if (!l)
        return 0;
    uint32_t gen = atomic_load(&l->gen);
    bool reader = !cond && w->wait.mode == LG_MODE_SHARED;
    bool nonrec = reader && (w->wait.flags & WAIT_NONREC);
    size_t n = 0;
    for (rt_thread *h = rt_threads_first(); h; h = h->next) {
        lg_mode m;
        bool blocks;
        if (holds(h, l, gen, &m))
            blocks = !(reader && m == LG_MODE_SHARED) && !(h == w && (w->wait.flags & WAIT_NOSELF));
        else
            blocks = nonrec && h != w && recorded_lock(h) == l
                     && h->wait.mode == LG_MODE_EXCLUSIVE;
        if (!blocks)
            continue;
        if (n < max)
            out[n] = h;
        n++;
    }
    return n;
}

/* Depth-first search for a cycle back to `start` through recorded waits (and condition
 * waiters seen re-acquiring). The search state lives in a per-thread mapping (it runs with
 * the guard set, so never nested), not on a stack a signal handler may have made small, and
 * never in the program's allocator. *unsure: the search met a condition waiter that is not
 * (yet) re-acquiring, which only a later look can settle. */
typedef struct wf_frame {
    rt_thread *t;
    uint8_t n, next;
    rt_thread *h[RT_WF_HOLDERS];
} wf_frame;
typedef struct wf_scratch {
    wf_frame st[RT_MAX_WF];
    rt_thread *visited[RT_WF_VISITED];
} wf_scratch;
static __thread wf_scratch *scratch __attribute__((tls_model("initial-exec")));

static bool waits(rt_thread *t)
{
    bool cond;
    return recorded_wait(t) || wait_lock(t, &cond);
}

static size_t find_cycle(rt_thread *start, rt_thread **cyc, bool *unsure)
{
    if (!scratch && !(scratch = rt_map(sizeof *scratch)))
        return 0;
    wf_scratch *s = scratch;
    size_t depth = 1, nv = 1;
    s->st[0].t = start;
    s->st[0].next = 0;
    size_t nh = holders_of(start, s->st[0].h, RT_WF_HOLDERS, NULL);
    s->st[0].n = (uint8_t)(nh < RT_WF_HOLDERS ? nh : RT_WF_HOLDERS);
    s->visited[0] = start;
    while (depth) {
        wf_frame *f = &s->st[depth - 1];
        if (f->next >= f->n) {
            depth--;
            continue;
        }
        rt_thread *h = f->h[f->next++];
        if (h == start) {
            for (size_t i = 0; i < depth; i++)
                cyc[i] = s->st[i].t;
            return depth;
        }
        bool seen = false;
        for (size_t i = 0; i < nv && !seen; i++)
            seen = s->visited[i] == h;
        if (seen || depth >= RT_MAX_WF || nv >= RT_WF_VISITED)
            continue;
        s->visited[nv++] = h;
        if (!waits(h)) {
            if (atomic_load(&h->wait.cond))
                *unsure = true;   /* may re-acquire its mutex later, inside glibc */
            continue;
        }
        wf_frame *n = &s->st[depth++];
        n->t = h;
        n->next = 0;
        nh = holders_of(h, n->h, RT_WF_HOLDERS, NULL);
        n->n = (uint8_t)(nh < RT_WF_HOLDERS ? nh : RT_WF_HOLDERS);
    }
    return 0;
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
                       ? "in uninterruptible wait" : state == 'T' || state == 't' ? "stopped"
                       : "in an unknown state";
    if (wchan[0] && strcmp(wchan, "0"))
        snprintf(buf, n, "%s in %s", what, wchan);
    else
        snprintf(buf, n, "%s", what);
}

/* ---- findings: facts for the builder (src/analysis/findings.h) ----
 * Every thread of the process is a fact thread (what it waits for, whom it waits on, what
 * the cycle needs of what it holds); the words are the builder's. Stacks are symbolized only
 * for the threads of the finding and those that wait on them. */

typedef struct rt_facts {
    rt_thread **all;
    lg_thread_fact *th;
    lg_lock_fact *lk;        /* lk[i]: what thread i waits for */
    char (*names)[160], (*attrs)[64], (*labels)[16], (*states)[96];
    lg_stack *wait;          /* symbolized wait stacks */
    lg_held_fact *held;      /* one per thread at most: what the finding needs it to hold */
    uint32_t *created;       /* stack ids of where each was created, 0 unknown */
    lg_stack *created_stack;
    lg_stack *held_stack;
    size_t n;
} rt_facts;

static void facts_free(rt_facts *fa)
{
    for (size_t i = 0; i < fa->n; i++) {
        if (fa->wait)
            lg_stack_free(&fa->wait[i]);
        if (fa->held_stack)
            lg_stack_free(&fa->held_stack[i]);
        if (fa->created_stack)
            lg_stack_free(&fa->created_stack[i]);
    }
    free(fa->created);
    free(fa->created_stack);
    free(fa->all);
    free(fa->th);
    free(fa->lk);
    free(fa->names);
    free(fa->attrs);
    free(fa->labels);
    free(fa->states);
    free(fa->wait);
    free(fa->held);
    free(fa->held_stack);
}

static long fact_index(const rt_facts *fa, const rt_thread *t)
{
    for (size_t i = 0; i < fa->n; i++)
        if (fa->all[i] == t)
            return (long)i;
    return -1;
}

/* t holds l: its hold of it, with the acquisition's stack, as what the finding needs. */
static void fact_held(rt_facts *fa, size_t i, int li, rt_lock *l)
{
    rt_thread *t = fa->all[i];
    for (uint32_t k = 0; k < t->depth && k < t->cap; k++) {
        rt_held *e = &t->held[k];
        if (e->lock != l)
            continue;
        rt_report_stack(e->stack, &fa->held_stack[i]);
        fa->held[i] = (lg_held_fact){.lock = li, .mode = (lg_mode)e->mode,
                                     .stack = &fa->held_stack[i]};
        fa->th[i].held = &fa->held[i];
        fa->th[i].nheld = 1;
        return;
    }
}

static int facts_gather(rt_facts *fa)
{
    size_t n = 0;
    for (rt_thread *t = rt_threads_first(); t; t = t->next)
        n++;
    size_t m = n ? n : 1;
    fa->all = calloc(m, sizeof *fa->all);
    fa->th = calloc(m, sizeof *fa->th);
    fa->lk = calloc(m, sizeof *fa->lk);
    fa->names = calloc(m, sizeof *fa->names);
    fa->attrs = calloc(m, sizeof *fa->attrs);
    fa->labels = calloc(m, sizeof *fa->labels);
    fa->states = calloc(m, sizeof *fa->states);
    fa->wait = calloc(m, sizeof *fa->wait);
    fa->held = calloc(m, sizeof *fa->held);
    fa->held_stack = calloc(m, sizeof *fa->held_stack);
    fa->created = calloc(m, sizeof *fa->created);
    fa->created_stack = calloc(m, sizeof *fa->created_stack);
    if (!fa->all || !fa->th || !fa->lk || !fa->names || !fa->attrs || !fa->labels || !fa->states || !fa->wait || !fa->held
        || !fa->held_stack || !fa->created || !fa->created_stack)
        return -1;
    fa->n = n;
    size_t i = 0;
    for (rt_thread *t = rt_threads_first(); t && i < n; t = t->next)
        fa->all[i++] = t;
    for (i = 0; i < n; i++) {
        rt_thread *t = fa->all[i];
        lg_thread_fact *f = &fa->th[i];
        bool cond;
        rt_lock *l = wait_lock(t, &cond);
        rt_thread *j = l ? NULL : join_target(t);
        f->tid = t->tid;
        f->name = t->name[0] ? t->name : NULL;
        /* A thread without a recorded wait may still be blocked (a semaphore, a system
         * call): what the kernel says it does. */
        if (!t->forked_from && !t->exited && !l && !j)
            kernel_state(t->tid, fa->states[i], sizeof fa->states[i]);
        f->state = t->forked_from ? "not in this process" : t->exited ? "exited"
                   : l || j ? "blocked" : fa->states[i];
        fa->created[i] = t->created_stack ? t->created_stack
                                          : rt_thread_created_pending(t->self);
        f->wait_lock = -1;
        f->waits_on = -1;
        if (!l && !j)
            continue;
        lg_lock_fact *lf = &fa->lk[i];
        if (l) {
            uintptr_t addr = atomic_load(&l->addr);
            rt_name_describe(addr, (lg_lock_type)l->type, atomic_load(&l->flags), fa->names[i],
                             sizeof fa->names[i], fa->attrs[i], sizeof fa->attrs[i], true);
            /* The lock's label is its node id, the same in every finding of the process. */
            snprintf(fa->labels[i], sizeof fa->labels[i], "L%u", l->idx + 1);
            *lf = (lg_lock_fact){.address = addr, .type = (lg_lock_type)l->type,
                                 .name = fa->names[i][0] ? fa->names[i] : NULL,
                                 .attrs = fa->attrs[i][0] ? fa->attrs[i] : NULL,
                                 .label = fa->labels[i]};
            f->wait_mode = cond ? LG_MODE_EXCLUSIVE : (lg_mode)t->wait.mode;
            f->wait_flags = cond ? LG_WAITF_COND
                            : t->wait.flags & RT_ACQ_TIMED ? LG_WAITF_TIMED : 0;
        } else {
            snprintf(fa->names[i], sizeof fa->names[i], "%d", j->tid);
            *lf = (lg_lock_fact){.address = (uint64_t)j->self, .type = LG_LOCK_THREAD,
                                 .name = fa->names[i], .join_tid = j->tid};
        }
        f->wait_lock = (int)i;
        rt_thread *h[1];
        if (holders_of(t, h, 1, NULL))
            f->waits_on = (int)fact_index(fa, h[0]);
    }
    return 0;
}

static void fact_wait_stack(rt_facts *fa, size_t i)
{
    rt_thread *t = fa->all[i];
    if (fa->created[i] && !fa->th[i].created_stack) {
        rt_report_stack(fa->created[i], &fa->created_stack[i]);
        fa->th[i].created_stack = &fa->created_stack[i];
    }
    if (fa->th[i].wait_stack)
        return;
    if (fa->th[i].wait_flags & LG_WAITF_COND) {   /* blocked inside glibc: where its
                                                      condition wait was called */
        uint64_t pc = t->wait.cond_pc;
        rt_report_pcs(&pc, 1, false, &fa->wait[i]);
    } else {
        rt_report_stack(t->wait.stack, &fa->wait[i]);
    }
    fa->th[i].wait_stack = &fa->wait[i];
}

/* Report a cycle of n waiting threads (or, orphan, ths[0] waiting for what `dead` holds).
 * The caller holds report_lock, then threads_lock (the runtime's lock order), and releases
 * both before acting on it. */
static void report_cycle(rt_thread **ths, size_t n, bool orphan, rt_thread *dead)
{
    lg_report *r = rt_report_locked();
    rt_facts fa = {0};
    size_t cyc[RT_MAX_WF];
    lg_finding *f = NULL;
    if (facts_gather(&fa) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        long k = fact_index(&fa, ths[i]);
        if (k < 0 || fa.th[k].wait_lock < 0)
            goto out;
        cyc[i] = (size_t)k;
    }
    /* The stacks the finding shows: the cycle's waits, and those that wait on it. */
    for (size_t i = 0; i < fa.n; i++) {
        int v = (int)i;
        for (size_t steps = 0; v >= 0 && steps <= fa.n; steps++, v = fa.th[v].waits_on) {
            bool in = false;
            for (size_t k = 0; k < n; k++)
                in |= cyc[k] == (size_t)v;
            if (in) {
                fact_wait_stack(&fa, i);
                break;
            }
        }
    }
    lg_wait_facts wf = {.threads = fa.th, .nthreads = fa.n, .locks = fa.lk, .nlocks = fa.n,
                        .note_other_threads = true};
    if (orphan) {
        long d = dead ? fact_index(&fa, dead) : -1;
        bool c_;
        rt_lock *l = wait_lock(ths[0], &c_);
        lg_stack owner_stack = {0};
        char where[256] = "";
        lg_orphan_fact of = {.lock = fa.th[cyc[0]].wait_lock, .owner_tid = dead ? dead->tid : 0,
                             .owner_name = dead && dead->name[0] ? dead->name : NULL};
        if (d >= 0 && l) {
            fact_held(&fa, (size_t)d, of.lock, l);
            of.owner_stack = fa.th[d].nheld ? fa.held[d].stack : NULL;
        }
        if (d >= 0 && fa.created[d]) {   /* where the owner was created */
            if (!fa.created_stack[d].n)
                rt_report_stack(fa.created[d], &fa.created_stack[d]);
            of.owner_created = &fa.created_stack[d];
        }
        int parent;
        uint32_t site = 0;
        if (dead && dead->forked_from) {
            of.forked = true;
            of.parent_pid = dead->forked_from;
            if (rt_fork_origin(&parent, &site) && site) {
                rt_report_stack(site, &owner_stack);
                lg_stack_where(&owner_stack, where, sizeof where);
                of.fork_where = where;
            }
        }
        f = lg_build_orphaned(r, &wf, &of, cyc, 1);
        lg_stack_free(&owner_stack);
    } else {
        /* Each member holds what its predecessor waits for (a joined thread holds nothing). */
        for (size_t i = 0; i < n; i++) {
            bool c_;
            rt_lock *l = wait_lock(ths[i], &c_);
            if (l)
                fact_held(&fa, cyc[(i + 1) % n], fa.th[cyc[i]].wait_lock, l);
        }
        f = lg_build_deadlock(r, &wf, cyc, n);
    }
    /* Every other thread, with its state, in the report (JSON). */
    for (size_t i = 0; f && i < fa.n; i++) {
        bool in = fa.all[i] == dead;
        for (size_t k = 0; k < n; k++)
            in |= cyc[k] == i;
        if (in)
            continue;
        char buf[640];
        rt_thread *t = fa.all[i];
        lg_wait_words(&wf, i, buf, sizeof buf);
        lg_thread *rt_ = lg_report_add_thread(r, t->tid, t->name);
        if (rt_)
            lg_thread_set(rt_, fa.th[i].state, buf[0] ? buf : NULL);
    }
out:
    facts_free(&fa);
    if (f)
        rt_report_emit(f);
}

/* ---- long waits (--wait-timeout) ---- */

/* The facts of t's long wait: its wait, each holder's hold of the lock (with where it took
 * it), what the holder does now (the kernel's state; its current stack when sampling it by a
 * signal cannot change the program, sample.c, else why not). The words are the builder's
 * (lg_build_long_wait). threads_lock is held (a view). */
static bool long_wait(rt_thread *t)
{
    lg_report *r = rt_report_begin();
    view_lock();
    rt_facts fa = {0};
    rt_thread *hs[RT_WF_HOLDERS];
    size_t nh = holders_of(t, hs, RT_WF_HOLDERS, NULL);
    lg_holder_now_fact hn[RT_WF_HOLDERS];
    char now[RT_WF_HOLDERS][128], why[RT_WF_HOLDERS][128];
    lg_stack cur[RT_WF_HOLDERS];
    memset(cur, 0, sizeof cur);
    lg_finding *f = NULL;
    long w = -1;
    bool c_;
    rt_lock *l = wait_lock(t, &c_);
    bool gone = false;   /* every holder released the lock while it was looked at */
    if (l && facts_gather(&fa) == 0 && (w = fact_index(&fa, t)) >= 0 && fa.th[w].wait_lock >= 0) {
        fact_wait_stack(&fa, (size_t)w);
        uint32_t gen = atomic_load(&l->gen);
        size_t k = 0;
        for (size_t i = 0; i < nh && i < RT_WF_HOLDERS; i++) {
            rt_thread *h = hs[i];
            long hi = fact_index(&fa, h);
            if (hi < 0)
                continue;
            lg_mode m_;
            bool held = holds(h, l, gen, &m_);   /* else a queued writer before a reader */
            why[k][0] = '\0';
            kernel_state(h->tid, now[k], sizeof now[k]);
            uint64_t pcs[RT_SAMPLE_FRAMES];
            size_t np = h == t || h->exited ? 0 : rt_sample_stack(h, pcs, RT_SAMPLE_FRAMES,
                                                                  why[k], sizeof why[k]);
            /* A holder read while running can release the lock meanwhile (and then wait
             * for this view, in its exit): what it does now is only said of a holder that
             * still holds it once its state and stack were read. */
            if (held && !holds(h, l, gen, &m_))
                continue;
            if (np)
                rt_report_pcs(pcs, np, true, &cur[k]);
            fact_held(&fa, (size_t)hi, fa.th[w].wait_lock, l);
            fact_wait_stack(&fa, (size_t)hi);   /* and where it was created */
            hn[k] = (lg_holder_now_fact){.thread = (size_t)hi, .now = now[k],
                                         .stack = np ? &cur[k] : NULL,
                                         .no_stack = why[k][0] ? why[k] : NULL};
            k++;
        }
        gone = nh && !k;   /* the wait is about to end: no report, the next slice looks again */
        lg_wait_facts wf = {.threads = fa.th, .nthreads = fa.n, .locks = fa.lk, .nlocks = fa.n};
        lg_long_wait_fact lw = {.waiter = (size_t)w, .timeout_s = rt.cfg.wait_timeout,
                                .holders = hn, .nholders = k};
        if (!gone)
            f = lg_build_long_wait(r, &wf, &lw);
    }
    for (size_t i = 0; i < RT_WF_HOLDERS; i++)
        lg_stack_free(&cur[i]);
    facts_free(&fa);
    rt_report_emit(f);
    view_unlock();
    rt_report_unlock();
    return !gone;
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
        rt_ending_begin();   /* the real _exit: the trace ends at the deadlock, unclosed */
        _exit(rt.cfg.exitcode);
    }
}

/* A thread's name as it is now (threads rename themselves; reading another's costs nothing
 * on the lock paths: only a report comes here). */
static void name_now(rt_thread *t)
{
    char path[64], buf[32];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", t->tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    if (buf[n - 1] == '\n')
        n--;
    buf[n < (ssize_t)sizeof t->name ? n : (ssize_t)sizeof t->name - 1] = '\0';
    memcpy(t->name, buf, sizeof t->name);
    t->name[sizeof t->name - 1] = '\0';
}

/* Whether one report per set of threads is still to be made (whichever member sees it). */
static bool first_report(rt_thread **ths, size_t n)
{
    uint64_t set = 0;
    for (size_t i = 0; i < n; i++)
        set += lg_mix64((uint64_t)(uintptr_t)ths[i]);
    for (int i = 0; i < 64; i++)
        if (atomic_load(&reported_sets[i]) == set)
            return false;
    int slot = atomic_fetch_add(&deadlock_seen, 1);
    if (slot < 64)
        atomic_store(&reported_sets[slot], set);
    return true;
}

/* A holder of the lock t waits for that exited holding it (not a robust mutex: glibc
 * answers EOWNERDEAD there). */
static rt_thread *dead_holder(rt_thread *t)
{
    rt_lock *l = recorded_lock(t);
    /* A robust mutex's dead owner is answered with EOWNERDEAD: by the first try, before any
     * wait is recorded, when it died before; by waking the waiter (the kernel's robust list)
     * when it dies during the wait, which WAIT_ROBUST (the mutex's kind, read at the wait's
     * start) says. */
    if (!l || (t->wait.flags & WAIT_ROBUST))
        return NULL;
    rt_thread *hs[RT_WF_HOLDERS];
    size_t nh = holders_of(t, hs, RT_WF_HOLDERS, NULL);
    for (size_t i = 0; i < nh && i < RT_WF_HOLDERS; i++)
        if (hs[i]->exited)
            return hs[i];
    return NULL;
}

enum { CHECK_REPORTED = 1, CHECK_WATCH = 2 };

/* The view from t, which has recorded its wait and is about to block (or re-checks a watched
 * wait): a cycle through it is reported (see the top of the file for why it is certain), as
 * is an exited holder. CHECK_WATCH: nothing certain, but a later look may find something
 * (a condition waiter on the way may re-acquire its mutex; --wait-timeout). The search runs
 * under threads_lock alone; only a finding takes report_lock (the runtime's lock order:
 * report_lock before threads_lock), and the search is repeated under both. */
static int check(rt_thread *t)
{
    rt_thread *ths[RT_MAX_WF];
    bool unsure = false;
    view_lock();
    size_t n = find_cycle(t, ths, &unsure);
    rt_thread *dead = n ? NULL : dead_holder(t);
    view_unlock();
    if (!n && !dead)
        return unsure ? CHECK_WATCH : 0;
    rt_report_lock();
    for (int tries = 1;; tries++) {
        view_lock();
        n = find_cycle(t, ths, &unsure);
        dead = n ? NULL : dead_holder(t);
        rt_thread *pair[2] = {t, dead};
        if (n ? view_unchanged(ths, n) : !dead || view_unchanged(pair, 2))
            break;
        if (tries == RT_VIEW_TRIES) {
            n = 0;   /* records kept changing: look again later (a watched wait) */
            unsure = true;
            dead = NULL;
            break;
        }
        view_unlock();
    }
    bool timed = false, expired = false;
    int64_t now = now_ns(CLOCK_MONOTONIC);
    for (size_t i = 0; i < n; i++)
        if (atomic_load(&ths[i]->wait.lock) && (ths[i]->wait.flags & RT_ACQ_TIMED)) {
            timed = true;
            expired |= ths[i]->wait.deadline <= now;   /* it is giving up: no stall to tell */
        }
    bool report = (n || dead) && !expired;
    if (report)
        report = dead ? first_report(&dead, 1) : first_report(ths, n);
    if (report) {
        for (size_t i = 0; i < n; i++)
            name_now(ths[i]);
        name_now(t);
        if (dead) {
            ths[0] = t;
            report_cycle(ths, 1, true, dead);
        } else {
            report_cycle(ths, n, false, NULL);
        }
    }
    view_unlock();
    rt_report_unlock();
    if (report)
        act(timed && !dead);
    return n || dead ? CHECK_REPORTED : unsure ? CHECK_WATCH : 0;
}

/* threads.c: t exits holding locks (its record stays). A thread already waiting for one of
 * them waits forever: the exiting thread closes that, so it reports it. */
void rt_wait_holder_exited(rt_thread *t)
{
    if (!rt.cfg.deadlocks)
        return;
    rt_thread *waiter = NULL;
    view_lock();
    for (rt_thread *w = rt_threads_first(); w && !waiter; w = w->next)
        if (w != t && !w->exited && recorded_lock(w) && dead_holder(w) == t)
            waiter = w;
    view_unlock();
    if (!waiter)
        return;
    rt_report_lock();
    bool report = false;
    for (int tries = 1;; tries++) {
        view_lock();
        report = recorded_lock(waiter) && dead_holder(waiter) == t;
        if (!report || view_unchanged(&waiter, 1))
            break;
        report = false;
        if (tries == RT_VIEW_TRIES)
            break;
        view_unlock();
    }
    report = report && first_report(&t, 1);
    if (report) {
        rt_thread *ths[1] = {waiter};
        name_now(waiter);
        report_cycle(ths, 1, true, t);
    }
    view_unlock();
    rt_report_unlock();
    if (report)
        act(false);
}

/* ---- recording a wait (re-entrant: a handler's wait saves the outer one) ---- */

typedef struct saved_wait {
    rt_lock *lock;
    rt_thread *join;
    pthread_t join_th;
    uint8_t mode, flags;
    uint32_t stack, depth;
    int64_t deadline;
} saved_wait;

/* Guard set by the caller. Under threads_lock, so no view reads it meanwhile; seq goes odd
 * and even again all the same (views compare it). */
static void record_wait(rt_thread *t, saved_wait *sv, rt_lock *l, rt_thread *join,
                        pthread_t join_th, unsigned mode, unsigned flags, int64_t deadline,
                        uint32_t stack)
{
    rt_flock_lock(&rt.threads_lock);
    *sv = (saved_wait){atomic_load(&t->wait.lock), atomic_load(&t->wait.join), t->wait.join_th,
                       t->wait.mode, t->wait.flags, t->wait.stack, t->wait.depth,
                       t->wait.deadline};
    atomic_fetch_add(&t->wait.seq, 1);
    t->wait.mode = (uint8_t)mode;
    t->wait.flags = (uint8_t)flags;
    t->wait.stack = stack;
    t->wait.depth = t->depth;
    t->wait.deadline = deadline;
    t->wait.join_th = join_th;
    atomic_store(&t->wait.join, join);
    atomic_store(&t->wait.lock, l);
    atomic_fetch_add(&t->wait.seq, 1);
    rt_flock_unlock(&rt.threads_lock);
    atomic_fetch_add_explicit(&rt.counters[RT_C_WAITS], 1, memory_order_relaxed);
}

static void restore_fields(rt_thread *t, const saved_wait *sv)
{
    __atomic_store_n(&t->wait.join_th, sv->join_th, __ATOMIC_RELAXED);
    __atomic_store_n(&t->wait.mode, sv->mode, __ATOMIC_RELAXED);
    __atomic_store_n(&t->wait.flags, sv->flags, __ATOMIC_RELAXED);
    __atomic_store_n(&t->wait.stack, sv->stack, __ATOMIC_RELAXED);
    __atomic_store_n(&t->wait.depth, sv->depth, __ATOMIC_RELAXED);
    __atomic_store_n(&t->wait.deadline, sv->deadline, __ATOMIC_RELAXED);
}

static void end_wait(rt_thread *t, const saved_wait *sv)
{
    rt_guard_on(t);
    rt_flock_lock(&rt.threads_lock);
    atomic_fetch_add(&t->wait.seq, 1);
    atomic_store(&t->wait.lock, sv->lock);
    atomic_store(&t->wait.join, sv->join);
    restore_fields(t, sv);
    atomic_fetch_add(&t->wait.seq, 1);
    rt_flock_unlock(&rt.threads_lock);
    rt_guard_off(t);
}

/* The owner starts rewriting its record without threads_lock (the views' top): seq odd,
 * then a release fence, so a view that reads any of the new values sees seq changed.
 * Guard set by the caller. Returns the even seq the write started from. */
static uint64_t rewrite_begin(rt_thread *t)
{
    uint64_t s = atomic_load_explicit(&t->wait.seq, memory_order_relaxed);
    atomic_store_explicit(&t->wait.seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    return s;
}

/* record_wait without threads_lock, for an announced wait (no join, no deadline). */
static void record_wait_free(rt_thread *t, saved_wait *sv, rt_lock *l, unsigned mode,
                             unsigned flags, uint32_t stack)
{
    uint64_t s = rewrite_begin(t);
    *sv = (saved_wait){atomic_load_explicit(&t->wait.lock, memory_order_relaxed),
                       atomic_load_explicit(&t->wait.join, memory_order_relaxed),
                       t->wait.join_th, t->wait.mode, t->wait.flags, t->wait.stack,
                       t->wait.depth, t->wait.deadline};
    __atomic_store_n(&t->wait.mode, (uint8_t)mode, __ATOMIC_RELAXED);
    __atomic_store_n(&t->wait.flags, (uint8_t)flags, __ATOMIC_RELAXED);
    __atomic_store_n(&t->wait.stack, stack, __ATOMIC_RELAXED);
    __atomic_store_n(&t->wait.depth, t->depth, __ATOMIC_RELAXED);
    __atomic_store_n(&t->wait.deadline, INT64_MAX, __ATOMIC_RELAXED);
    __atomic_store_n(&t->wait.join_th, (pthread_t)0, __ATOMIC_RELAXED);
    atomic_store_explicit(&t->wait.join, NULL, memory_order_relaxed);
    /* The lock last, with release: a view that reads it sees the fields with it. */
    atomic_store_explicit(&t->wait.lock, l, memory_order_release);
    atomic_store_explicit(&t->wait.seq, s + 2, memory_order_release);
}

/* end_wait without threads_lock. Guard set by the caller. */
static void end_wait_free(rt_thread *t, const saved_wait *sv)
{
    uint64_t s = rewrite_begin(t);
    atomic_store_explicit(&t->wait.lock, NULL, memory_order_relaxed);   /* first: no wait */
    atomic_thread_fence(memory_order_release);
    restore_fields(t, sv);
    atomic_store_explicit(&t->wait.join, sv->join, memory_order_relaxed);
    atomic_store_explicit(&t->wait.lock, sv->lock, memory_order_release);
    atomic_store_explicit(&t->wait.seq, s + 2, memory_order_release);
}

/* ---- the program's calls ---- */

typedef struct wait_call {
    void *obj;
    lg_lock_type type;
    unsigned fam;                     /* RT_FAM_*: how it blocks (families.def) */
    unsigned mode;
    int how;
    clockid_t clk;
    const struct timespec *abstime;   /* the caller's, for RT_WAIT_TIMED */
} wait_call;

/* The program's own call: what its lock family answers is the answer. */
static int real_call(const wait_call *c)
{
    return rt_family_get(c->fam)->lock(c->obj, c->type, c->mode, c->how, c->clk, c->abstime);
}

static int real_try(const wait_call *c)
{
    return rt_family_get(c->fam)->trylock(c->obj, c->type, c->mode);
}

/* Waits that may leave the family's call and come back unobserved (see the top). */
static bool can_watch(const wait_call *c)
{
    const rt_family *f = rt_family_get(c->fam);
    return f->slice && (!f->sliceable || f->sliceable(c->obj, c->type));
}

/* A watched wait: the call in 200 ms pieces (never past the caller's deadline, in the
 * caller's clock), re-checking between them. */
static int watched_call(const wait_call *c, rt_thread *t)
{
    clockid_t clk = c->how == RT_WAIT_TIMED ? c->clk : CLOCK_MONOTONIC;
    int64_t user_end = c->how == RT_WAIT_TIMED ? ns_of(c->abstime) : INT64_MAX;
    int64_t start = now_ns(CLOCK_MONOTONIC);
    bool long_reported = false, stop = false;
    for (;;) {
        int64_t now = now_ns(clk);
        int64_t end = user_end - now > RT_SLICE_NS ? now + RT_SLICE_NS : user_end;
        if (stop)
            return real_call(c);
        struct timespec dl = ts_of(end);
        int r = rt_family_get(c->fam)->slice(c->obj, c->type, c->mode, clk, &dl);
        if (r != ETIMEDOUT || end == user_end)
            return r;
        rt_guard_on(t);
        int k = check(t);
        if (rt.cfg.wait_timeout > 0 && !long_reported && !(k & CHECK_REPORTED)
            && now_ns(CLOCK_MONOTONIC) - start > (int64_t)(rt.cfg.wait_timeout * 1e9)) {
            long_reported = long_wait(t);
        }
        /* Nothing more to look for: the rest of the wait is the plain call. */
        stop = (k & CHECK_REPORTED) || (!(k & CHECK_WATCH) && (long_reported || rt.cfg.wait_timeout <= 0));
        rt_guard_off(t);
    }
}

static int wait_for(const wait_call *c, unsigned wflags, uintptr_t pc)
{
    rt_thread *t = rt_self;
    bool timed = c->how == RT_WAIT_TIMED;
    if (!rt.cfg.deadlocks || rt_is_nested(t) || (timed && !rt_timed_ok(c->clk, c->abstime)))
        return real_call(c);   /* glibc says EINVAL itself (or takes a free lock) */
    if (c->type == LG_LOCK_MUTEX
        && ((pthread_mutex_t *)c->obj)->__data.__owner == GLIBC_MUTEX_NOT_RECOVERABLE)
        return real_call(c);   /* ENOTRECOVERABLE at once (a trylock would leave it locked) */
    int64_t deadline = INT64_MAX;
    if (timed) {
        int64_t left = ns_of(c->abstime) - now_ns(c->clk);
        if (left <= 0)
            return real_call(c);   /* ETIMEDOUT at once, or the lock: no wait to watch */
        deadline = now_ns(CLOCK_MONOTONIC) + left;
    }
    t = rt_thread_setup();
    if (t->cap == 0)
        return real_call(c);
    rt_guard_on(t);
    rt_lock *l = rt_lock_get((uintptr_t)c->obj, c->type);
    if (!l) {
        rt_guard_off(t);
        return real_call(c);
    }
    if (c->fam)
        atomic_store_explicit(&rt_lock_cold_of(l)->family, (uint8_t)c->fam, memory_order_relaxed);
    uint32_t stack = rt_stack_capture(3, pc);
    saved_wait sv;
    record_wait(t, &sv, l, NULL, 0, c->mode, wflags | (timed ? RT_ACQ_TIMED : 0), deadline,
                stack);
    /* Once more, now that the wait is recorded: a lock freed meanwhile is taken like the real
     * call would (the same answers: 0, EOWNERDEAD, EAGAIN, ENOTRECOVERABLE), and a reader's
     * EBUSY here proves the writer it would queue behind. */
    int r = real_try(c);
    if (r != EBUSY) {
        rt_guard_off(t);
        end_wait(t, &sv);
        return r;
    }
    int k = check(t);
    rt_guard_off(t);
    if (((k & CHECK_WATCH) || rt.cfg.wait_timeout > 0) && !(k & CHECK_REPORTED) && can_watch(c))
        r = watched_call(c, t);
    else
        r = real_call(c);
    end_wait(t, &sv);
    return r;
}

int rt_wait_mutex(pthread_mutex_t *m, int how, clockid_t clk, const struct timespec *abstime,
                  uintptr_t pc)
{
    int k = m->__data.__kind;
    unsigned wf = ((k & GLIBC_MUTEX_KIND_TYPE) == GLIBC_MUTEX_KIND_ERRORCHECK
                   || (k & GLIBC_MUTEX_KIND_ROBUST)) ? WAIT_NOSELF : 0;
    if (k & GLIBC_MUTEX_KIND_ROBUST)
        wf |= WAIT_ROBUST;
    wait_call c = {m, LG_LOCK_MUTEX, RT_FAM_NATIVE, LG_MODE_EXCLUSIVE, how, clk, abstime};
    rt_rec_wait_begin(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, pc);
    return rt_rec_wait_end(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, wait_for(&c, wf, pc), pc);
}

int rt_wait_rwlock(pthread_rwlock_t *l, unsigned mode, int how, clockid_t clk,
                   const struct timespec *abstime, uintptr_t pc)
{
    /* glibc returns EDEADLK when the write holder asks again, to read or to write: only a
     * reader's upgrade hangs. */
    unsigned wf = 0;
    if (l->__data.__cur_writer == (int)rt_self->tid && rt_self->tid)
        wf |= WAIT_NOSELF;
    if (mode == LG_MODE_SHARED && l->__data.__flags == GLIBC_RW_PREFER_WRITER_NONREC)
        wf |= WAIT_NONREC;
    wait_call c = {l, LG_LOCK_RWLOCK, RT_FAM_NATIVE, mode, how, clk, abstime};
    rt_rec_wait_begin(l, LG_LOCK_RWLOCK, mode, pc);
    return rt_rec_wait_end(l, LG_LOCK_RWLOCK, mode, wait_for(&c, wf, pc), pc);
}

int rt_wait_spin(pthread_spinlock_t *l, uintptr_t pc)
{
    wait_call c = {(void *)l, LG_LOCK_SPINLOCK, RT_FAM_NATIVE, LG_MODE_EXCLUSIVE, RT_WAIT_PLAIN, 0, NULL};
    rt_rec_wait_begin((void *)l, LG_LOCK_SPINLOCK, LG_MODE_EXCLUSIVE, pc);
    /* Recorded without --all-events, the holder's release is an event only when it knows
     * a waiter (record-count.h): listed before the spin, unlisted once it is over. */
    bool listed = unlikely(lg_trace_on) && rt_rec_counting && rt_rec_spin_wait((void *)l, 1);
    int r = wait_for(&c, 0, pc);
    if (listed)
        rt_rec_spin_wait((void *)l, -1);
    return rt_rec_wait_end((void *)l, LG_LOCK_SPINLOCK, LG_MODE_EXCLUSIVE, r, pc);
}

/* A family's blocking lock whose first try failed (glib.c): the family's own call, watched
 * like a pthread one. */
int rt_wait_family(void *obj, unsigned ft, unsigned mode, uintptr_t pc)
{
    wait_call c = {obj, RT_FT_TYPE(ft), RT_FT_FAM(ft), mode, RT_WAIT_PLAIN, 0, NULL};
    rt_rec_wait_begin(obj, c.type, mode, pc);
    return rt_rec_wait_end(obj, c.type, mode, wait_for(&c, 0, pc), pc);
}

/* ---- waits the program makes by itself (annotate.c): announced waits ----
 * The program says "about to wait for obj" and later "acquired it" (or "gave up"): between
 * the two it spins or sleeps in its own code. The wait is recorded and the wait-for graph
 * checked at the announcement, exactly as wait_for does before a blocking call (the top of
 * the file argues why the thread that closes a cycle sees it then), and the record is ended
 * at the acquisition. One announced wait per thread at a time: a nested announcement (a
 * signal handler's, or a lock that waits on another inside its own wait) is not recorded.
 *
 * The program announces every acquisition, contended or not, so the uncontended one must
 * cost no system call: no threads_lock (whose sections block signals, futex-lock.h). Its
 * record is written without the lock (record_wait_free, the views' top), and whether the
 * search must run at all is decided by the lock's last-acquirer hint (rt_lock_hint,
 * written by annotate.c: a successful post_lock by thread T moves it from 0 to T with a
 * CAS, leaves it at T, or makes it RT_HINT_MANY; T's pre_unlock that leaves T holding
 * nothing moves it from T back to 0 with a CAS; both after T's held[] push or pop, with
 * release). The announcer C writes its record, then a seq_cst fence, then reads the hint:
 * 0, or C itself while C holds nothing of the lock, means no other thread holds it, so no
 * cycle closes through this wait now, and the search is skipped; anything else runs it
 * (the view, exactly as before). Why a skipped search loses no cycle: every other member
 * H of a cycle through C acquired what it holds (push, then hint store) before it wrote
 * its own wait record and made its own fence (an announcement's, or view_lock's for a wait
 * that record_wait wrote: such a wait always searches). Take the member M whose fence
 * comes last in the single order of seq_cst fences: the records of all the others, and
 * their hint stores, precede their fences, so M's hint read sees its lock's holder (not
 * 0, not M: the holder is stuck, so nothing moves the hint on until it releases, and a
 * second holder makes it RT_HINT_MANY), M runs the search, and its view reads every other
 * record whole (written before a fence that precedes M's) and unchanging (its thread is
 * stuck), so the view confirms the cycle. A hint read that is stale the other way (a
 * holder's release not seen yet) only runs a search that finds nothing. Ending the wait
 * (end_wait_free) is the seqlock write alone, no fence: a view that read the wait just
 * ended sees its seq moved and does not confirm what it found from it. The hint counts
 * the acquisitions made through the annotations (post_lock): an address that a program
 * also locks through interposed pthread calls is two kinds of lock at once, outside this
 * argument.
 * Signals: both rewrites run with the guard set, so a handler interrupting them takes
 * nested.c's path (no announcement, no record); a handler's announcement over a wait of
 * the interrupted code (not busy then) saves that record and restores it, as record_wait
 * does. */
static __thread struct announced {
    saved_wait sv;
    uintptr_t addr;
    bool on, recorded, traced;
    uintptr_t site;          /* the last call site and its one-frame stack id */
    uint32_t site_stack;
} announced __attribute__((tls_model("initial-exec")));

/* Whether a holder blocks what t waits for (its recorded wait): t itself (a relock) or
 * *other, another thread (the evidence that an announced wait is a contended one: the
 * program announces every acquisition, contended or not). */
static bool blocked_now(rt_thread *t, bool *other)
{
    rt_thread *hs[RT_WF_HOLDERS];
    view_lock();
    size_t n = holders_of(t, hs, RT_WF_HOLDERS, NULL);
    *other = false;
    for (size_t i = 0; i < n && i < RT_WF_HOLDERS; i++)
        *other |= hs[i] != t;
    view_unlock();
    return n > 0;
}

static bool holds_addr(const rt_thread *t, uintptr_t addr)
{
    for (uint32_t i = t->depth; i-- > 0;)
        if (t->held[i].addr == addr)
            return true;
    return false;
}

void rt_wait_announce(void *obj, unsigned ft, unsigned mode, unsigned flags, uintptr_t pc)
{
    rt_thread *t = rt_self;
    lg_lock_type type = RT_FT_TYPE(ft);
    if (rt_is_nested(t) || announced.on)
        return;
    announced.addr = (uintptr_t)obj;
    announced.on = true;
    announced.recorded = announced.traced = false;
    if (!rt.cfg.deadlocks)
        return;
    t = rt_thread_setup();
    if (t->cap == 0)
        return;
    rt_guard_on(t);
    rt_lock *l = rt_lock_get((uintptr_t)obj, type);
    if (l) {
        _Atomic uint8_t *fam = &rt_lock_cold_of(l)->family;
        if (atomic_load_explicit(fam, memory_order_relaxed) != (uint8_t)RT_FT_FAM(ft))
            atomic_store_explicit(fam, (uint8_t)RT_FT_FAM(ft), memory_order_relaxed);
        /* Every acquisition is announced, contended or not: the wait is recorded with its
         * call site only (no unwinding), and its whole stack is captured when another
         * thread holds the lock (the waits a report can be about; one whose lock is taken
         * by another thread only after the announcement keeps its call site). */
        if (announced.site != pc || !announced.site_stack) {
            announced.site = pc;
            announced.site_stack = rt_stack_of_pc(pc);
        }
        announced.recorded = true;
        record_wait_free(t, &announced.sv, l, mode, flags, announced.site_stack);
        atomic_thread_fence(memory_order_seq_cst);   /* record, then hint (above) */
        uintptr_t h = atomic_load_explicit(rt_lock_hint(l), memory_order_acquire);
        if (h == 0 || (h == (uintptr_t)t && !holds_addr(t, (uintptr_t)obj))) {
            rt_guard_off(t);
            return;   /* nobody else holds it: no search (above) */
        }
        bool contended = false;
        if (blocked_now(t, &contended)) {
            /* Only a held lock can close a cycle now; a later one is closed by a later
             * wait, whose check sees this one recorded. */
            uint32_t stack = rt_stack_capture(2, pc);
            rt_flock_lock(&rt.threads_lock);
            t->wait.stack = stack;
            rt_flock_unlock(&rt.threads_lock);
            if (contended)
                atomic_fetch_add_explicit(&rt.counters[RT_C_WAITS], 1, memory_order_relaxed);
            check(t);
        }
        /* A trace shows the wait only when it is one: the lock held by another thread. */
        announced.traced = contended && lg_trace_on;
    }
    rt_guard_off(t);
    if (announced.traced)
        rt_rec_wait_begin(obj, type, mode, pc);
}

void rt_wait_announced_end(void *obj, unsigned ft, unsigned mode, int r, uintptr_t pc)
{
    if (!announced.on || announced.addr != (uintptr_t)obj)
        return;
    announced.on = false;
    if (announced.recorded) {
        rt_thread *t = rt_self;
        rt_guard_on(t);
        end_wait_free(t, &announced.sv);
        rt_guard_off(t);
    }
    if (announced.traced)
        rt_rec_wait_end(obj, RT_FT_TYPE(ft), mode, r, pc);
}

/* A join is a wait for the joined thread; leaving pthread_timedjoin_np and coming back
 * changes nothing, so a watched join waits in slices. */
int rt_wait_join(pthread_t th, void **ret, uintptr_t pc)
{
    rt_thread *t = rt_self;
    if (!rt.cfg.deadlocks || rt_is_nested(t))
        return real_pthread_join(th, ret);
    t = rt_thread_setup();
    if (t->cap == 0)
        return real_pthread_join(th, ret);
    rt_guard_on(t);
    rt_thread *target = NULL;
    rt_flock_lock(&rt.threads_lock);
    for (rt_thread *x = rt_threads_first(); x; x = x->next)
        if (!x->exited && pthread_equal(x->self, th))
            target = x;
    rt_flock_unlock(&rt.threads_lock);
    uint32_t stack = rt_stack_capture(1, pc);
    saved_wait sv;
    record_wait(t, &sv, NULL, target, th, LG_MODE_EXCLUSIVE, 0, INT64_MAX, stack);
    int r = pthread_tryjoin_np(th, ret);
    if (r != EBUSY) {
        rt_guard_off(t);
        end_wait(t, &sv);
        return r;
    }
    int k = check(t);
    rt_guard_off(t);
    if (!(k & CHECK_WATCH) || (k & CHECK_REPORTED)) {
        r = real_pthread_join(th, ret);
    } else {
        for (;;) {
            struct timespec dl = ts_of(now_ns(CLOCK_REALTIME) + RT_SLICE_NS);
            r = pthread_timedjoin_np(th, ret, &dl);
            if (r != ETIMEDOUT)
                break;
            rt_guard_on(t);
            k = check(t);
            rt_guard_off(t);
            if (!(k & CHECK_WATCH) || (k & CHECK_REPORTED)) {
                r = real_pthread_join(th, ret);
                break;
            }
        }
    }
    end_wait(t, &sv);
    return r;
}
