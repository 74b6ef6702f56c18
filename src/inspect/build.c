/* build.c - from decoded waits to the model: the report-level thread and lock tables, the
 * wait-for graph (src/analysis/waitfor.c), and the facts the finding builders
 * (src/analysis/findings.h) turn into one "deadlock" finding per cycle, "orphaned-lock" for
 * locks whose owner exited, "no-progress" when every thread is blocked and none can run, and
 * each thread's wait in the table; then the verdict line. Every word of a finding or a wait
 * is the builders'. When the target runs the lockgraph runtime and its
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
        if (t->w.kind == WAIT_LOCK) {
            if (t->w.type == LG_LOCK_THREAD) {
                char n[32];
                snprintf(n, sizeof n, "%d", t->w.owner);
                c->names[i] = lg_strdup(n);
            } else if (t->w.obj[0]) {
                c->names[i] = lg_strdup(t->w.obj);
            }
        }
        /* What it waits for is said once the facts are gathered (wait_words). */
        lg_thread *rt = lg_report_add_thread(c->r, t->tid, tname(t));
        if (!rt || lg_thread_set(rt, state_of(t), NULL) < 0)
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
        f->blocked_in = t->w.kind == WAIT_SYSCALL && t->w.desc[0] ? t->w.desc : NULL;
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
        l->owner_comm = t->w.owner_comm[0] ? t->w.owner_comm : NULL;
        l->readers = t->w.readers;
        l->lock_flags = t->w.lock_flags;
        l->value = t->w.value;
        f->wait_lock = (int)i;
        f->wait_mode = t->w.mode;
        f->wait_flags = (t->w.timed ? LG_WAITF_TIMED : 0) |
                        (t->w.owner_inferred ? LG_WAITF_INFERRED_READER : 0) |
                        (t->w.held_shared ? LG_WAITF_READ_HELD : 0) |
                        (t->w.spinning ? LG_WAITF_SPINNING : 0);
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
    return f ? 0 : -1;
}

/* Each thread's wait in the threads table, in the builder's words (lg_wait_words). */
static int wait_words(ctx *c, facts *fa)
{
    for (size_t i = 0; i < c->tg->n; i++) {
        char desc[640];
        lg_wait_words(&fa->wf, i, desc, sizeof desc);
        lg_thread *rt = &c->r->threads[i];
        if (desc[0] && lg_thread_set(rt, rt->state, desc) < 0)
            return -1;
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
    if (frc == 0)
        frc = wait_words(&c, &fa);
    for (size_t k = 0; k < ncycles && frc == 0; k++)
        frc = add_cycle(&c, &fa, cycle_of, (int)k);
    if (frc == 0)
        frc = add_orphans(&c, &fa);
    size_t runnable = 0;
    for (size_t i = 0; i < tg->n; i++)
        runnable += can_run(&tg->t[i]);
    bool stuck = tg->n > 0 && runnable == 0;
    if (frc == 0 && stuck && r->nfindings == 0 && !lg_build_no_progress(r, &fa.wf))
        frc = -1;
    facts_free(&fa);
    if (frc < 0)
        goto out;
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
