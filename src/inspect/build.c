/* build.c - from decoded waits to the model: the report-level thread and lock tables, the
 * wait-for graph (src/analysis/waitfor.c), one "deadlock" finding per cycle (edges flagged
 * LG_EDGE_WAITING: thread T holds what its predecessor waits for and waits for the next),
 * "orphaned-lock" for locks whose owner exited, "no-progress" when every thread is blocked
 * and none can run, and the verdict line. When the target runs the lockgraph runtime and its
 * published state was read (rtstate.c), read owners and acquisition stacks come from it.
 * Not here: rendering (src/report). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../analysis/findings.h"
#include "../analysis/waitfor.h"
#include "../util/xalloc.h"

typedef struct ctx {
    insp_target *tg;
    lg_report *r;
    char **names;            /* per thread: the name of what it waits for, or NULL */
    int *next;               /* wait-for graph */
} ctx;

/* The name of process pid among the analysed ones, NULL unknown. */
static const char *process_comm(insp_target *tg, int pid)
{
    if (pid == tg->pid)
        return tg->comm[0] ? tg->comm : NULL;
    for (size_t k = 0; k < tg->nsys; k++)
        if (tg->sys[k]->pid == pid)
            return tg->sys[k]->comm[0] ? tg->sys[k]->comm : NULL;
    return NULL;
}

static const char *tname(const insp_thread *t)
{
    return t->name[0] ? t->name : NULL;
}

static void thread_ref(char *buf, size_t len, insp_target *tg, int tid)
{
    insp_thread *t = insp_find_thread(tg, tid);
    int n;
    if (t && t->name[0])
        n = snprintf(buf, len, "thread %d \"%s\"", tid, t->name);
    else
        n = snprintf(buf, len, "thread %d", tid);
    /* A report over several processes names each thread's process but the first's. */
    if (t && t->pid && t->pid != tg->pid && n > 0 && (size_t)n < len) {
        const char *comm = process_comm(tg, t->pid);
        snprintf(buf + n, len - (size_t)n, " of process %d%s%s%s", t->pid, comm ? " (" : "",
                 comm ? comm : "", comm ? ")" : "");
    }
}

/* The owner of what t waits for, as a reader can find it: a thread of this analysis, a
 * thread of another process (by /proc), or outside a core. */
static void owner_ref(char *buf, size_t len, insp_target *tg, const insp_wait *w)
{
    if (!(w->lock_flags & LG_LOCK_F_OWNER_ELSEWHERE)) {
        thread_ref(buf, len, tg, w->owner);
        return;
    }
    if (w->owner_pid)
        snprintf(buf, len, "thread %d of process %d%s%s%s", w->owner, w->owner_pid,
                 w->owner_comm[0] ? " (" : "", w->owner_comm, w->owner_comm[0] ? ")" : "");
    else
        snprintf(buf, len, "thread %d, which is not in this core (the lock is "
                 "process-shared: the chain leaves the process)", w->owner);
}

static const char *verb(lg_lock_type type, lg_mode mode)
{
    switch (type) {
    case LG_LOCK_RWLOCK:
        return mode == LG_MODE_SHARED ? "read-lock" : "write-lock";
    case LG_LOCK_THREAD:
        return "join";
    case LG_LOCK_MUTEX:
    case LG_LOCK_SPINLOCK:
    case LG_LOCK_STDIO:
        return "lock";
    default:
        return "wait on";
    }
}

/* One line: "lock mutex mutex_b (normal), held by thread 13 "locker-ba"". */
static void describe(ctx *c, insp_thread *t, const char *name, char *out, size_t len)
{
    insp_wait *w = &t->w;
    char who[128], obj[256];
    if (w->type == LG_LOCK_THREAD) {
        thread_ref(who, sizeof who, c->tg, w->owner);
        snprintf(out, len, "join %s%s", who,
                 w->lock_flags & LG_LOCK_F_OWNER_EXITED ? " (gone)" : "");
        return;
    }
    if (w->spinning) {
        snprintf(out, len, "spin on spinlock %s (its owner is not recorded)",
                 name ? name : "?");
        return;
    }
    if (w->type == LG_LOCK_FUTEX) {
        snprintf(out, len, "futex wait on 0x%llx (value %u%s)", (unsigned long long)w->lock,
                 w->value, w->timed ? ", timed" : "");
        return;
    }
    size_t n;
    if (name)
        n = (size_t)snprintf(obj, sizeof obj, "%s %s", lg_lock_type_name(w->type), name);
    else
        n = (size_t)snprintf(obj, sizeof obj, "%s 0x%llx", lg_lock_type_name(w->type),
                             (unsigned long long)w->lock);
    if (w->attrs[0] && n < sizeof obj)
        snprintf(obj + n, sizeof obj - n, " (%s)", w->attrs);
    n = (size_t)snprintf(out, len, "%s %s", verb(w->type, w->mode), obj);
    if (n >= len)
        return;
    if (w->owner) {
        owner_ref(who, sizeof who, c->tg, w);
        const char *how = w->owner_inferred ? "read-held (inferred)"
                          : w->held_shared  ? "read-held" : "held";
        n += (size_t)snprintf(out + n, len - n, ", %s by %s%s", how, who,
                              w->owner_forked ? " in the parent process before fork (not here)"
                              : w->lock_flags & LG_LOCK_F_OWNER_EXITED ? ", which exited" : "");
        if (w->held_shared && w->readers > 1 && n < len)
            snprintf(out + n, len - n, " and %d other reader%s", w->readers - 1,
                     w->readers == 2 ? "" : "s");
    } else if (w->readers) {
        snprintf(out + n, len - n, ", read-held by %d thread%s (glibc does not record which)",
                 w->readers, w->readers == 1 ? "" : "s");
    } else if (w->type == LG_LOCK_BARRIER) {
        snprintf(out + n, len - n, ", waits for more threads to arrive");
    } else if (w->lock_flags & LG_LOCK_F_NO_OWNER) {
        snprintf(out + n, len - n, ", waits for a signal from any thread");
    }
}

static int report_lock(ctx *c, insp_thread *t)
{
    insp_wait *w = &t->w;
    int li = lg_report_add_lock(c->r, w->lock, w->type, c->names[t - c->tg->t],
                                w->attrs[0] ? w->attrs : NULL);
    if (li < 0)
        return -1;
    lg_lock *l = &c->r->locks[li];
    if (w->owner)
        l->owner = w->owner;
    if (w->owner_pid)
        l->owner_pid = w->owner_pid;
    if (w->readers > l->readers)
        l->readers = w->readers;
    l->lock_flags |= w->lock_flags;
    return li;
}

static bool can_run(const insp_thread *t)
{
    if (t->w.kind == WAIT_SYSCALL)
        return true;   /* I/O, sleep: an outside event ends it */
    if (t->w.kind == WAIT_LOCK)
        return t->w.timed || t->w.spinning;
    return t->nr == INSP_NR_RUNNING || t->state == 'R';
}

static const char *state_of(const insp_thread *t)
{
    if (t->state == 'Z' || t->state == 'X')
        return "exited";
    if (t->state == 'T' || t->state == 't')
        return "stopped";
    if (t->w.spinning)
        return "running";
    if (t->w.kind != WAIT_NONE)
        return "blocked";
    if (t->nr == INSP_NR_RUNNING || t->state == 'R')
        return "running";
    return t->state == 'S' || t->state == 'D' ? "blocked" : NULL;
}

static int add_threads(ctx *c)
{
    insp_target *tg = c->tg;
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        char desc[512] = "";
        if (t->w.kind == WAIT_LOCK) {
            if (t->w.type == LG_LOCK_THREAD) {
                char n[32];
                snprintf(n, sizeof n, "%d", t->w.owner);
                c->names[i] = lg_strdup(n);
            } else if (t->w.obj[0]) {
                c->names[i] = lg_strdup(t->w.obj);
            }
            describe(c, t, c->names[i], desc, sizeof desc);
        } else if (t->w.kind == WAIT_SYSCALL) {
            snprintf(desc, sizeof desc, "%s", t->w.desc);
        }
        lg_thread *rt = lg_report_add_thread(c->r, t->tid, tname(t));
        if (!rt || lg_thread_set(rt, state_of(t), desc[0] ? desc : NULL) < 0)
            return -1;
        rt->blocked_ms = t->blocked_ms;
        rt->wait_frame = t->wait_frame;
        if (t->pid && t->pid != tg->pid)
            rt->pid = t->pid;
        if (t->w.kind == WAIT_LOCK) {
            int li = report_lock(c, t);
            if (li < 0)
                return -1;
            c->r->threads[c->r->nthreads - 1].wait_lock = li + 1;
            c->r->threads[c->r->nthreads - 1].wait_mode = t->w.mode;
        }
        rt = &c->r->threads[c->r->nthreads - 1];
        if (lg_stack_copy(&rt->stack, &t->stack) < 0)
            return -1;
    }
    return 0;
}

static void lock_label(ctx *c, size_t i, char *buf, size_t len)
{
    if (c->names[i])
        snprintf(buf, len, "%s", c->names[i]);
    else if (c->tg->t[i].w.type == LG_LOCK_THREAD)
        thread_ref(buf, len, c->tg, c->tg->t[i].w.owner);
    else
        snprintf(buf, len, "0x%llx", (unsigned long long)c->tg->t[i].w.lock);
}

/* ---- facts for the finding builder (src/analysis/findings.h) ----
 * Thread i of the target is fact thread i; what it waits for is fact lock i, labelled with
 * the report's lock table id, so a lock reads the same in the finding and in the table. A
 * thread holds what the threads waiting on it wait for (the owner the lock's memory names);
 * where it took it is known only when the runtime inside the target recorded it. */
typedef struct facts {
    lg_wait_facts wf;
    lg_thread_fact *th;
    lg_lock_fact *lk;
    lg_stack *wait;          /* views into each thread's stack, from its waiting frame out */
    lg_held_fact *held;      /* grouped by holder: th[i].held points into it */
} facts;

static void facts_free(facts *fa)
{
    free(fa->th);
    free(fa->lk);
    free(fa->wait);
    free(fa->held);
}

static int facts_gather(ctx *c, facts *fa)
{
    insp_target *tg = c->tg;
    size_t n = tg->n ? tg->n : 1;
    fa->th = calloc(n, sizeof *fa->th);
    fa->lk = calloc(n, sizeof *fa->lk);
    fa->wait = calloc(n, sizeof *fa->wait);
    fa->held = calloc(n, sizeof *fa->held);
    size_t *nheld = calloc(n, sizeof *nheld), *at = calloc(n, sizeof *at);
    if (!fa->th || !fa->lk || !fa->wait || !fa->held || !nheld || !at) {
        free(nheld);
        free(at);
        return -1;
    }
    for (size_t i = 0; i < tg->n; i++)
        if (c->next[i] >= 0)
            nheld[c->next[i]]++;
    for (size_t i = 0, o = 0; i < tg->n; i++) {
        at[i] = o;
        fa->th[i].held = fa->held + o;
        o += nheld[i];
    }
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        lg_thread_fact *f = &fa->th[i];
        f->tid = t->tid;
        f->name = tname(t);
        if (t->pid && t->pid != tg->pid) {
            f->pid = t->pid;
            f->process = process_comm(tg, t->pid);
        }
        f->state = state_of(t);
        f->wait_lock = -1;
        f->waits_on = c->next[i];
        if (t->w.kind != WAIT_LOCK)
            continue;
        lg_lock_fact *l = &fa->lk[i];
        l->address = t->w.lock;
        l->type = t->w.type;
        l->name = c->names[i];
        l->attrs = t->w.attrs[0] ? t->w.attrs : NULL;
        int rl = c->r->threads[i].wait_lock;
        l->label = rl > 0 ? c->r->locks[rl - 1].id : NULL;
        l->join_tid = t->w.type == LG_LOCK_THREAD ? t->w.owner : 0;
        l->owner = t->w.owner;
        l->owner_pid = t->w.owner_pid;
        l->readers = t->w.readers;
        l->lock_flags = t->w.lock_flags;
        f->wait_lock = (int)i;
        f->wait_mode = t->w.mode;
        f->wait_flags = (t->w.timed ? LG_WAITF_TIMED : 0) |
                        (t->w.owner_inferred ? LG_WAITF_INFERRED_READER : 0);
        size_t k = t->wait_frame > 0 && (size_t)t->wait_frame <= t->stack.n
                       ? (size_t)t->wait_frame - 1 : 0;
        fa->wait[i] = (lg_stack){t->stack.frames ? t->stack.frames + k : NULL, t->stack.n - k};
        f->wait_stack = &fa->wait[i];
        int o = c->next[i];
        if (o < 0 || t->w.type == LG_LOCK_THREAD)
            continue;
        /* The owner holds it: read-held when it is an inferred or recorded reader. */
        const insp_rt_held *rh = rtstate_held(tg, tg->t[o].tid, t->w.lock);
        lg_held_fact *h = &fa->held[at[o] + fa->th[o].nheld++];
        h->lock = (int)i;
        h->mode = rh ? rh->mode : t->w.owner_inferred || t->w.held_shared ? LG_MODE_SHARED
                                                                          : LG_MODE_EXCLUSIVE;
        h->stack = rh ? &rh->stack : NULL;
    }
    free(nheld);
    free(at);
    fa->wf = (lg_wait_facts){.threads = fa->th, .nthreads = tg->n, .locks = fa->lk,
                             .nlocks = tg->n};
    return 0;
}

static int add_cycle(ctx *c, facts *fa, const int *cycle_of, int cyc)
{
    insp_target *tg = c->tg;
    size_t *cycle = malloc((tg->n ? tg->n : 1) * sizeof *cycle), len = 0;
    if (!cycle)
        return -1;
    for (size_t i = 0; i < tg->n; i++)
        if (cycle_of[i] == cyc) {
            /* The members in wait order: each waits for what the next holds. */
            for (int v = (int)i; len == 0 || v != (int)cycle[0]; v = c->next[v])
                cycle[len++] = (size_t)v;
            break;
        }
    lg_finding *f = len ? lg_build_deadlock(c->r, &fa->wf, cycle, len) : NULL;
    free(cycle);
    if (!f)
        return -1;
    /* What only the outside view infers, said where it is inferred. */
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        if (cycle_of[i] != cyc || !t->w.owner_inferred)
            continue;
        char o[128], what[256];
        thread_ref(o, sizeof o, tg, t->w.owner);
        lock_label(c, i, what, sizeof what);
        lg_finding_add_note(f, "glibc does not record read owners: %s is inferred to "
                            "read-hold %s (no thread can run, and it is the only %s)", o,
                            what, t->w.owner == t->tid ? "candidate: a read-to-write "
                            "upgrade" : "other thread waiting for a lock");
    }
    return 0;
}

static int add_orphans(ctx *c, facts *fa)
{
    insp_target *tg = c->tg;
    size_t *waiters = malloc((tg->n ? tg->n : 1) * sizeof *waiters);
    if (!waiters)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < tg->n && rc == 0; i++) {
        insp_thread *t = &tg->t[i];
        if (t->w.kind != WAIT_LOCK || !(t->w.lock_flags & LG_LOCK_F_OWNER_EXITED) ||
            t->w.type == LG_LOCK_THREAD)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= tg->t[j].w.kind == WAIT_LOCK && tg->t[j].w.lock == t->w.lock &&
                    (tg->t[j].w.lock_flags & LG_LOCK_F_OWNER_EXITED);
        if (seen)
            continue;
        size_t nw = 0;
        for (size_t j = i; j < tg->n; j++)
            if (tg->t[j].w.kind == WAIT_LOCK && tg->t[j].w.lock == t->w.lock)
                waiters[nw++] = j;
        const insp_rt_thread *me = rtstate_thread(tg, t->w.owner);
        const insp_rt_held *rh = rtstate_held(tg, t->w.owner, t->w.lock);
        lg_orphan_fact of = {
            .lock = (int)i, .owner_tid = t->w.owner,
            .owner_name = me && me->name[0] ? me->name : NULL,
            .forked = t->w.owner_forked, .parent_pid = t->w.owner_pid,
            .parent_comm = t->w.owner_comm[0] ? t->w.owner_comm : NULL,
            .owner_stack = rh ? &rh->stack : NULL,
        };
        if (!lg_build_orphaned(c->r, &fa->wf, &of, waiters, nw))
            rc = -1;
    }
    free(waiters);
    return rc;
}

static bool in_runtime_join(const insp_thread *t)
{
    for (size_t i = 0; i < t->stack.n; i++) {
        const lg_frame *f = &t->stack.frames[i];
        if (f->function && !strcmp(f->function, "rt_wait_join") && f->module &&
            strstr(f->module, "liblockgraph"))
            return true;
    }
    return false;
}

/* Remove one entry from a ", "-separated attribute list. */
static void drop_attr(char *attrs, const char *a)
{
    size_t n = strlen(a);
    for (char *p = attrs; (p = strstr(p, a)) != NULL; p++) {
        bool start = p == attrs || (p >= attrs + 2 && p[-2] == ',' && p[-1] == ' ');
        if (!start || (p[n] && p[n] != ','))
            continue;
        char *from = p[n] ? p + n + 2 : p + n;   /* the entry and its ", " */
        char *to = p[n] || p == attrs ? p : p - 2;
        memmove(to, from, strlen(from) + 1);
        return;
    }
}

/* The lockgraph runtime in the target recorded every held lock, readers included: name the
 * read holders a writer waits for exactly (preferring one that is itself blocked on a lock,
 * the one that matters for the wait-for graph; the thread itself for an upgrade), and
 * cross-check what glibc's memory and the runtime say about owners and waits. */
static void apply_runtime(insp_target *tg, lg_report *r)
{
    size_t agree = 0, differ = 0;
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *w = &tg->t[i];
        const insp_rt_thread *me = rtstate_thread(tg, w->tid);
        if (me && !w->name[0] && me->name[0])   /* plain cores carry no thread names */
            snprintf(w->name, sizeof w->name, "%s", me->name);
        /* The runtime waits in timed slices on the program's behalf: the kernel sees a
         * timeout on every wait it recorded; the program's own call may have none. Its join
         * (pthread_join only: no timeout) is recognised by its frame also when it has no
         * record of the joined thread (one that never took a lock). */
        if (w->w.kind == WAIT_LOCK && w->w.timed &&
            ((me && me->wait_lock && me->wait_lock == w->w.lock && !me->wait_timed) ||
             (w->w.type == LG_LOCK_THREAD &&
              ((me && me->join_tid == w->w.owner) || in_runtime_join(w))))) {
            w->w.timed = false;
            drop_attr(w->w.attrs, "timed");
        }
        if (w->w.kind != WAIT_LOCK || (w->w.type != LG_LOCK_MUTEX && w->w.type != LG_LOCK_RWLOCK
                                       && w->w.type != LG_LOCK_CUSTOM))
            continue;
        if (me && me->wait_lock && me->wait_lock != w->w.lock && ++differ)
            lg_report_add_note(r, "thread %d: the lockgraph runtime records a wait for 0x%llx, "
                               "the kernel shows a wait on 0x%llx", w->tid,
                               (unsigned long long)me->wait_lock,
                               (unsigned long long)w->w.lock);
        else if (me && me->wait_lock)
            agree++;
        int pick = 0, nholders = 0, nshared = 0;
        bool pick_blocked = false, owner_listed = false;
        for (size_t k = 0; k < tg->nrtt; k++) {
            const insp_rt_thread *rt = &tg->rtt[k];
            for (size_t j = 0; j < rt->nheld; j++) {
                if (rt->held[j].addr != w->w.lock)
                    continue;
                nholders++;
                nshared += rt->held[j].mode == LG_MODE_SHARED;
                owner_listed |= rt->tid == w->w.owner;
                insp_thread *ht = insp_find_thread(tg, rt->tid);
                bool blocked = ht && ht->w.kind == WAIT_LOCK;
                if (!pick || (blocked && !pick_blocked)) {
                    pick = rt->tid;
                    pick_blocked = blocked;
                }
                break;
            }
        }
        if (w->w.owner && nholders && !owner_listed && ++differ)
            lg_report_add_note(r, "0x%llx: the lock's memory names thread %d as its owner, "
                               "the lockgraph runtime records thread %d",
                               (unsigned long long)w->w.lock, w->w.owner, pick);
        /* A lock whose memory records no owner (annotated, GLib's GMutex): the runtime's
         * holder is the owner. */
        if (!w->w.owner && pick && !nshared &&
            (w->w.type == LG_LOCK_CUSTOM || (w->w.family && !strcmp(w->w.family, "GMutex")))) {
            w->w.owner = pick;
            w->w.owner_from_runtime = true;
            w->w.lock_flags |= LG_LOCK_F_OWNERS_FROM_RUNTIME;
            drop_attr(w->w.attrs, "owner not recorded by GLib");
            continue;
        }
        if (w->w.type != LG_LOCK_RWLOCK || w->w.owner || !nshared || !pick)
            continue;
        w->w.owner = pick;
        w->w.owner_from_runtime = true;
        w->w.held_shared = true;
        if (nshared > w->w.readers)
            w->w.readers = nshared;
        w->w.lock_flags |= LG_LOCK_F_OWNERS_FROM_RUNTIME;
    }
    size_t nheld = 0;
    for (size_t k = 0; k < tg->nrtt; k++)
        nheld += tg->rtt[k].nheld;
    lg_report_add_note(r, "the target runs the lockgraph runtime (%s): its records (state "
                       "version %u) give %zu held lock%s in %zu thread%s; read owners and "
                       "acquisition stacks come from them%s", tg->runtime_path, tg->rt_version,
                       nheld, nheld == 1 ? "" : "s", tg->nrtt, tg->nrtt == 1 ? "" : "s",
                       agree && !differ ? ", and they agree with the kernel on every "
                                          "recorded wait" : "");
}

/* glibc does not record read owners. When no thread can run, a writer waiting for the
 * readers of R is waiting for threads that are themselves stuck; if exactly one other thread
 * is stuck waiting for a lock (and not for R as a reader), it is the reader we infer; if none
 * is, the writer holds the read lock itself (an upgrade). Inferred owners are flagged, and
 * nothing is inferred while some thread can still run. */
static void infer_readers(insp_target *tg)
{
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *w = &tg->t[i];
        if (w->w.kind != WAIT_LOCK || w->w.type != LG_LOCK_RWLOCK || w->w.owner ||
            w->w.readers <= 0 || w->w.mode != LG_MODE_EXCLUSIVE)
            continue;
        insp_thread *cand = NULL;
        size_t ncand = 0;
        for (size_t j = 0; j < tg->n; j++) {
            insp_thread *c = &tg->t[j];
            if (c == w || c->w.kind != WAIT_LOCK || c->w.spinning ||
                (c->w.type != LG_LOCK_MUTEX && c->w.type != LG_LOCK_RWLOCK) ||
                (c->w.lock == w->w.lock && c->w.mode == LG_MODE_SHARED))
                continue;
            cand = c;
            ncand++;
        }
        if (ncand > 1)
            continue;
        w->w.owner = ncand ? cand->tid : w->tid;
        w->w.lock_flags |= LG_LOCK_F_OWNER_INFERRED;
        w->w.owner_inferred = true;
    }
}

int build_report(insp_target *tg, lg_report *r, lg_inspect_stats *stats)
{
    ctx c = {.tg = tg, .r = r};
    c.names = calloc(tg->n ? tg->n : 1, sizeof *c.names);
    c.next = malloc((tg->n ? tg->n : 1) * sizeof *c.next);
    int *cycle_of = malloc((tg->n ? tg->n : 1) * sizeof *cycle_of);
    int rc = -1;
    if (!c.names || !c.next || !cycle_of)
        goto out;
    r->pid = tg->pid;
    if (tg->exe[0] || tg->comm[0]) {
        char *argv0 = tg->exe[0] ? tg->exe : tg->comm;
        if (lg_report_set_command(r, 1, &argv0) < 0)
            goto out;
    }
    if (tg->rt_known)
        apply_runtime(tg, r);
    size_t can = 0;
    for (size_t i = 0; i < tg->n; i++)
        can += can_run(&tg->t[i]);
    if (tg->n && can == 0)
        infer_readers(tg);
    if (add_threads(&c) < 0)
        goto out;
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        c.next[i] = -1;
        /* An owner that is gone (or, for a private lock, is not a thread of the waiter's
         * process: in a system of several, the same TID is another process's thread) ends the
         * chain. */
        if (t->w.kind == WAIT_LOCK && t->w.owner &&
            !(t->w.lock_flags & LG_LOCK_F_OWNER_EXITED)) {
            insp_thread *o = insp_find_thread(tg, t->w.owner);
            if (o)
                c.next[i] = (int)(o - tg->t);
        }
    }
    size_t ncycles = lg_waitfor_cycles(c.next, tg->n, cycle_of);
    if (ncycles == (size_t)-1)
        goto out;
    facts fa = {0};
    int frc = facts_gather(&c, &fa);
    for (size_t k = 0; k < ncycles && frc == 0; k++)
        frc = add_cycle(&c, &fa, cycle_of, (int)k);
    if (frc == 0)
        frc = add_orphans(&c, &fa);
    facts_free(&fa);
    if (frc < 0)
        goto out;
    size_t runnable = 0;
    for (size_t i = 0; i < tg->n; i++)
        runnable += can_run(&tg->t[i]);
    bool stuck = tg->n > 0 && runnable == 0;
    if (stuck && r->nfindings == 0) {
        lg_finding *f = lg_report_add_finding(r, LG_KIND_HANG);
        if (!f)
            goto out;
        lg_finding_set_summary(f, "every thread is blocked and none can run: the process "
                               "cannot make progress, though no lock cycle closes it");
        for (size_t i = 0; i < tg->n; i++) {
            insp_thread *t = &tg->t[i];
            int entry = -1;
            int end = lg_waitfor_chain_end(c.next, tg->n, (int)i, &entry, NULL);
            if (end < 0 || (size_t)end != i)
                continue;   /* only chain ends: what the others wait for in the end */
            char who[128];
            thread_ref(who, sizeof who, tg, t->tid);
            lg_finding_add_note(f, "%s: %s", who, r->threads[i].wait ? r->threads[i].wait
                                                                     : "blocked");
        }
    }
    for (size_t i = 0; i < tg->nnotes; i++)
        lg_report_add_note(r, "%s", tg->notes[i]);
    size_t ndead = 0, norphan = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        ndead += r->findings[i].kind == LG_KIND_DEADLOCK;
        norphan += r->findings[i].kind == LG_KIND_ORPHANED;
    }
    char what[256], when[128] = "";
    if (ndead)
        snprintf(what, sizeof what, "%zu deadlock%s", ndead, ndead == 1 ? "" : "s");
    else if (norphan)
        snprintf(what, sizeof what, "%zu orphaned lock%s", norphan, norphan == 1 ? "" : "s");
    else
        snprintf(what, sizeof what, "no deadlock");
    if (!tg->is_core)
        snprintf(when, sizeof when, "; stopped for %.1f ms", tg->stopped_ms);
    const char *glibc = tg->glibc_version[0] ? tg->glibc_version : "unknown";
    char prog[96];
    if (stuck)
        snprintf(prog, sizeof prog, "the process%s cannot make progress",
                 tg->nsys > 1 ? "es" : "");
    else
        snprintf(prog, sizeof prog, "%zu thread%s can still run", runnable,
                 runnable == 1 ? "" : "s");
    /* Several processes analysed as one system: name them all. */
    char procs[512];
    size_t np = (size_t)snprintf(procs, sizeof procs, "%s %d (%s)",
                                 tg->is_core ? "core of process"
                                 : tg->nsys > 1 ? "processes" : "process",
                                 tg->pid, tg->comm[0] ? tg->comm : "?");
    for (size_t k = 0; k < tg->nsys && np < sizeof procs; k++)
        if (tg->sys[k]->pid != tg->pid)
            np += (size_t)snprintf(procs + np, sizeof procs - np, "%s %d (%s)",
                                   k + 1 == tg->nsys ? " and" : ",", tg->sys[k]->pid,
                                   tg->sys[k]->comm[0] ? tg->sys[k]->comm : "?");
    if (lg_report_set_verdict(r, "%s, %zu thread%s: %s; %s%s; glibc %s", procs, tg->n,
                              tg->n == 1 ? "" : "s", what, prog, when, glibc) < 0)
        goto out;
    if (stats) {
        stats->nthreads = tg->n;
        stats->ncycles = ncycles;
        stats->stopped_ms = tg->stopped_ms;
        stats->stuck = stuck;
    }
    rc = 0;
out:
    for (size_t i = 0; c.names && i < tg->n; i++)
        free(c.names[i]);
    free(c.names);
    free(c.next);
    free(cycle_of);
    return rc;
}
