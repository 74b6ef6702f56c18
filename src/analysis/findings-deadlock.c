/* findings-deadlock.c - deadlock and orphaned-lock findings from neutral facts (findings.h).
 *
 * Every word of these findings is chosen here, once: the runtime, attach and core only
 * gather facts. Labels: a lock is its name, else its address; a joined thread is "thread N
 * "name""; a thread is "thread N "name"" (and its process when the facts span several).
 * Locations are lg_finding_where's (model.h): the first frame outside lock wrappers.
 */
#include "findings-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- labels ---- */

void lgf_thread_ref(const lg_thread_fact *t, char *buf, size_t len)
{
    int n = t->name ? snprintf(buf, len, "thread %d \"%s\"", t->tid, t->name)
                    : snprintf(buf, len, "thread %d", t->tid);
    if (t->pid && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " of process %d%s%s%s", t->pid,
                 t->process ? " (" : "", t->process ? t->process : "", t->process ? ")" : "");
}

const lg_thread_fact *lgf_thread_by_tid(const lg_wait_facts *wf, int tid)
{
    for (size_t i = 0; i < wf->nthreads; i++)
        if (wf->threads[i].tid == tid)
            return &wf->threads[i];
    return NULL;
}

void lgf_lock_ref(const lg_wait_facts *wf, int li, char *buf, size_t len)
{
    if (li < 0 || (size_t)li >= wf->nlocks) {
        snprintf(buf, len, "an unknown lock");
        return;
    }
    const lg_lock_fact *l = &wf->locks[li];
    if (l->type == LG_LOCK_THREAD) {
        const lg_thread_fact *t = lgf_thread_by_tid(wf, l->join_tid);
        if (t)
            lgf_thread_ref(t, buf, len);
        else
            snprintf(buf, len, "thread %d", l->join_tid);
    } else if (l->name) {
        snprintf(buf, len, "%s", l->name);
    } else {
        snprintf(buf, len, "0x%llx", (unsigned long long)l->address);
    }
}

/* "lock mutex_a" / "join thread 12 "w"" */
void lgf_wait_ref(const lg_wait_facts *wf, const lg_thread_fact *t, char *buf, size_t len)
{
    char what[256];
    lgf_lock_ref(wf, t->wait_lock, what, sizeof what);
    const lg_lock_fact *l = t->wait_lock >= 0 && (size_t)t->wait_lock < wf->nlocks
                            ? &wf->locks[t->wait_lock] : NULL;
    snprintf(buf, len, "%s %s", l ? lg_acquire_verb(l->type, t->wait_mode) : "wait on", what);
}

/* ---- building ---- */

/* The finding's index of fact lock li (added once), or -1. */
int lgf_add_lock(lg_finding *f, const lg_wait_facts *wf, int li)
{
    if (li < 0 || (size_t)li >= wf->nlocks)
        return -1;
    const lg_lock_fact *l = &wf->locks[li];
    int k = lg_finding_add_lock(f, l->address, l->type, l->name, l->attrs);
    if (k < 0)
        return -1;
    lg_lock *m = &f->locks[k];
    if (l->label)
        snprintf(m->id, sizeof m->id, "%s", l->label);
    m->owner = l->owner;
    m->readers = l->readers;
    m->owner_pid = l->owner_pid;
    m->lock_flags = l->lock_flags;
    if (l->type == LG_LOCK_THREAD && !m->owner)
        m->owner = l->join_tid;   /* the writers name the joined thread by it */
    return k;
}

static bool id_used(const lg_finding *f, size_t except, const char *id)
{
    for (size_t j = 0; j < f->nlocks; j++)
        if (j != except && !strcmp(f->locks[j].id, id))
            return true;
    return false;
}

void lgf_unique_id(lg_finding *f, size_t i)
{
    if (!id_used(f, i, f->locks[i].id))
        return;
    char id[sizeof f->locks[i].id];
    for (unsigned n = 1; n < 100000; n++) {
        snprintf(id, sizeof id, "L%u", n);
        if (!id_used(f, (size_t)-1, id)) {
            snprintf(f->locks[i].id, sizeof f->locks[i].id, "%s", id);
            return;
        }
    }
}

void lgf_unique_ids(lg_finding *f, const lg_wait_facts *wf)
{
    for (size_t i = 0; i < f->nlocks; i++) {
        bool labelled = false;
        for (size_t k = 0; k < wf->nlocks && !labelled; k++)
            labelled = wf->locks[k].label && wf->locks[k].address == f->locks[i].address &&
                       wf->locks[k].type == f->locks[i].type;
        if (!labelled)
            lgf_unique_id(f, i);
    }
}

int lgf_add_thread(lg_finding *f, const lg_thread_fact *t, const char *state)
{
    lg_thread *ft = lg_finding_add_thread(f, t->tid, t->name);
    if (!ft || lg_thread_set(ft, state, NULL) < 0)
        return -1;
    ft->pid = t->pid;
    if (t->created_stack && lg_stack_copy(&ft->created, t->created_stack) < 0)
        return -1;
    return 0;
}

const lg_held_fact *lgf_held_of(const lg_thread_fact *t, int li)
{
    for (size_t i = 0; i < t->nheld; i++)
        if (t->held[i].lock == li)
            return &t->held[i];
    return NULL;
}

static int copy_stack(lg_stack *dst, const lg_stack *src)
{
    return src ? lg_stack_copy(dst, src) : 0;
}

/* The member created first: the lowest tid. */
static size_t first_created(const lg_wait_facts *wf, const size_t *cycle, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (wf->threads[cycle[i]].tid < wf->threads[cycle[best]].tid)
            best = i;
    return best;
}

static bool in_set(const size_t *v, size_t n, size_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* Threads outside the cycle whose waits lead into it: each one note, "waits on a deadlocked
 * thread" (it is not deadlocked itself: it waits for one that is). The rest, for a front
 * end without a threads section, in one note. */
static int outside_notes(lg_finding *f, const lg_wait_facts *wf, const size_t *cyc, size_t n,
                         const char *stuck)
{
    char others[1024] = "";
    size_t no = 0, nother = 0;
    for (size_t i = 0; i < wf->nthreads; i++) {
        if (in_set(cyc, n, i))
            continue;
        const lg_thread_fact *t = &wf->threads[i];
        bool reaches = false;
        int v = t->waits_on;
        for (size_t steps = 0; v >= 0 && (size_t)v < wf->nthreads && steps <= wf->nthreads;
             steps++) {
            if (in_set(cyc, n, (size_t)v)) {
                reaches = true;
                break;
            }
            v = wf->threads[v].waits_on;
        }
        char who[192], what[320];
        lgf_thread_ref(t, who, sizeof who);
        if (reaches) {
            char where[256] = "";
            lgf_wait_ref(wf, t, what, sizeof what);
            if (t->wait_stack)
                lg_finding_where(f, t->wait_stack, where, sizeof where);
            if (lg_finding_add_note(f, "%s waits on %s: it waits to %s%s%s",
                                    who, stuck, what, where[0] ? " at " : "", where) < 0)
                return -1;
            continue;
        }
        if (!wf->note_other_threads)
            continue;
        if (t->wait_lock >= 0)
            lgf_wait_ref(wf, t, what, sizeof what);
        if (nother++ < 16 && no < sizeof others)
            no += (size_t)snprintf(others + no, sizeof others - no, "%s%s %s%s%s",
                                   no ? ", " : "", who, t->state ? t->state : "(state unknown)",
                                   t->wait_lock >= 0 ? ", waits to " : "",
                                   t->wait_lock >= 0 ? what : "");
    }
    if (nother && lg_finding_add_note(f, "other threads: %s%s", others,
                                      nother > 16 ? ", ..." : "") < 0)
        return -1;
    return 0;
}

/* The fix of a cycle of n >= 2 threads read from its first-created thread: cyc[k] waits for
 * lock L(k) = what cyc[k+1] holds. */
static int cycle_fix(lg_finding *f, const lg_wait_facts *wf, const size_t *cyc, size_t n,
                     const int *lk)
{
    char a[256], b[256], who[192], w2[192], where[256] = "an unknown place";
    /* A join in the cycle: the joining thread waits for a thread that waits, through the
     * cycle, for what the joiner holds. */
    for (size_t k = 0; k < n; k++) {
        const lg_lock_fact *l = &wf->locks[lk[k]];
        if (l->type != LG_LOCK_THREAD)
            continue;
        const lg_thread_fact *j = &wf->threads[cyc[k]];
        const lg_thread_fact *target = &wf->threads[cyc[(k + 1) % n]];
        size_t kp = (k + n - 1) % n;
        lgf_thread_ref(j, who, sizeof who);
        lgf_thread_ref(target, w2, sizeof w2);
        if (j->wait_stack)
            lg_finding_where(f, j->wait_stack, where, sizeof where);
        if (wf->locks[lk[kp]].type == LG_LOCK_THREAD)
            return lg_finding_set_fix(f, "do not let %s join %s: it waits to join it at %s, "
                                      "and no thread of a join cycle can end", who, w2, where);
        lgf_lock_ref(wf, lk[kp], a, sizeof a);
        return lg_finding_set_fix(f, "release %s before joining %s: %s holds it while it "
                                  "waits to join at %s, and %s waits %sfor %s", a, w2, who,
                                  where, w2, n > 2 ? "(through the other threads) " : "", a);
    }
    /* Locks only: the first-created thread's order is the program's; the last thread of the
     * cycle holds L(n-2) while it waits for L(n-1), against it. */
    const lg_thread_fact *t = &wf->threads[cyc[n - 1]];
    lgf_thread_ref(t, who, sizeof who);
    lgf_lock_ref(wf, lk[n - 1], a, sizeof a);
    lgf_lock_ref(wf, lk[n - 2], b, sizeof b);
    if (t->wait_stack)
        lg_finding_where(f, t->wait_stack, where, sizeof where);
    if (n == 2)
        return lg_finding_set_fix(f, "acquire %s before %s in every thread: %s holds %s while "
                                  "it waits for %s at %s", a, b, who, b, a, where);
    char order[1024];
    size_t o = (size_t)snprintf(order, sizeof order, "%s", a);
    for (size_t k = 0; k + 1 < n && o < sizeof order; k++) {
        char x[256];
        lgf_lock_ref(wf, lk[k], x, sizeof x);
        o += (size_t)snprintf(order + o, sizeof order - o, ", %s", x);
    }
    return lg_finding_set_fix(f, "keep the order %s in every thread: %s holds %s while it "
                              "waits for %s at %s; take %s before %s there", order, who, b, a,
                              where, a, b);
}

static lg_finding *build_cycle(lg_finding *f, const lg_wait_facts *wf, const size_t *cycle,
                               size_t n, size_t *cyc, int *lk, int *fl);

lg_finding *lg_build_deadlock(lg_report *r, const lg_wait_facts *wf, const size_t *cycle,
                              size_t n)
{
    if (!n || n > wf->nthreads)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (cycle[i] >= wf->nthreads || wf->threads[cycle[i]].wait_lock < 0 ||
            (size_t)wf->threads[cycle[i]].wait_lock >= wf->nlocks)
            return NULL;
    lg_finding *f = lg_report_add_finding(r, LG_KIND_DEADLOCK);
    if (!f)
        return NULL;
    /* The cycle from its first-created thread: cyc[k], the fact lock lk[k] it waits for,
     * that lock's finding index fl[k]. */
    size_t *cyc = malloc(n * sizeof *cyc);
    int *lk = malloc(n * sizeof *lk), *fl = malloc(n * sizeof *fl);
    f = cyc && lk && fl ? build_cycle(f, wf, cycle, n, cyc, lk, fl) : NULL;
    free(cyc);
    free(lk);
    free(fl);
    return f;
}

static lg_finding *build_cycle(lg_finding *f, const lg_wait_facts *wf, const size_t *cycle,
                               size_t n, size_t *cyc, int *lk, int *fl)
{
    size_t r0 = first_created(wf, cycle, n);
    bool timed = false;
    for (size_t k = 0; k < n; k++) {
        cyc[k] = cycle[(r0 + k) % n];
        lk[k] = wf->threads[cyc[k]].wait_lock;
        if ((fl[k] = lgf_add_lock(f, wf, lk[k])) < 0)
            return NULL;
        timed |= (wf->threads[cyc[k]].wait_flags & LG_WAITF_TIMED) != 0;
    }
    if (timed)
        f->flags |= LG_FINDING_TIMED;
    if (n == 1)
        f->flags |= LG_FINDING_SELF;
    for (size_t k = 0; k < n; k++) {
        const lg_thread_fact *t = &wf->threads[cyc[k]];
        if (lgf_add_thread(f, t, "blocked") < 0)
            return NULL;
        size_t kp = (k + n - 1) % n;
        /* t holds what its predecessor waits for; a joined thread holds nothing. */
        bool join = wf->locks[lk[kp]].type == LG_LOCK_THREAD;
        const lg_held_fact *h = join ? NULL : lgf_held_of(t, lk[kp]);
        unsigned flags = LG_EDGE_WAITING | (t->wait_flags & LG_WAITF_TIMED ? LG_EDGE_TIMED : 0)
                         | (t->wait_flags & LG_WAITF_COND ? LG_EDGE_COND : 0);
        lg_edge *e = lg_finding_add_edge(f, t->tid, join ? -1 : fl[kp],
                                         h ? h->mode : LG_MODE_EXCLUSIVE, fl[k],
                                         t->wait_flags & LG_WAITF_COND ? LG_MODE_EXCLUSIVE
                                                                       : t->wait_mode, flags);
        if (!e || copy_stack(&e->stack, t->wait_stack) < 0 ||
            (h && copy_stack(&e->holds_stack, h->stack) < 0))
            return NULL;
    }
    char who[192], what[256];
    const lg_thread_fact *t0 = &wf->threads[cyc[0]];
    lgf_thread_ref(t0, who, sizeof who);
    if (n == 1) {
        const lg_lock_fact *l = &wf->locks[lk[0]];
        lgf_lock_ref(wf, lk[0], what, sizeof what);
        const char *v = lg_acquire_verb(l->type, t0->wait_mode);
        if (lg_finding_set_summary(f, "%s waits to %s %s, which it holds itself", who, v,
                                   what) < 0)
            return NULL;
        if (l->type == LG_LOCK_RWLOCK ? lg_finding_set_fix(f, "do not %s %s again while "
                                                           "holding it (glibc rwlocks cannot "
                                                           "be upgraded)", v, what)
                                      : lg_finding_set_fix(f, "do not %s %s again while "
                                                           "holding it, or make it "
                                                           "recursive", v, what) < 0)
            return NULL;
    } else {
        char chain[2048];
        size_t o = 0;
        for (size_t k = 0; k < n && o < sizeof chain; k++) {
            lgf_thread_ref(&wf->threads[cyc[k]], who, sizeof who);
            if (wf->locks[lk[k]].type == LG_LOCK_THREAD)
                snprintf(what, sizeof what, "(joins)");
            else
                lgf_lock_ref(wf, lk[k], what, sizeof what);
            o += (size_t)snprintf(chain + o, sizeof chain - o, "%s -> %s -> ", who, what);
        }
        if (lg_finding_set_summary(f, "%sthread %d: %zu threads wait for each other%s", chain,
                                   t0->tid, n, timed ? " (one wait is timed: a stall until "
                                   "it gives up)" : "") < 0 ||
            cycle_fix(f, wf, cyc, n, lk) < 0)
            return NULL;
    }
    lgf_unique_ids(f, wf);
    if (outside_notes(f, wf, cyc, n, "a deadlocked thread") < 0)
        return NULL;
    /* What only an outside view infers (attach: glibc does not record read owners), said
     * where it is inferred: cyc[k]'s blocker, the next member, is an inferred reader. */
    for (size_t k = 0; k < n; k++) {
        const lg_thread_fact *t = &wf->threads[cyc[k]];
        if (!(t->wait_flags & LG_WAITF_INFERRED_READER))
            continue;
        const lg_thread_fact *o = &wf->threads[cyc[(k + 1) % n]];
        lgf_thread_ref(o, who, sizeof who);
        lgf_lock_ref(wf, lk[k], what, sizeof what);
        if (lg_finding_add_note(f, "glibc does not record read owners: %s is inferred to "
                                "read-hold %s (no thread can run, and it is the only %s)", who,
                                what, o == t ? "candidate: a read-to-write upgrade"
                                             : "other thread waiting for a lock") < 0)
            return NULL;
    }
    return f;
}

lg_finding *lg_build_orphaned(lg_report *r, const lg_wait_facts *wf, const lg_orphan_fact *of,
                              const size_t *waiters, size_t n)
{
    if (of->lock < 0 || (size_t)of->lock >= wf->nlocks)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (waiters[i] >= wf->nthreads)
            return NULL;
    lg_finding *f = lg_report_add_finding(r, LG_KIND_ORPHANED);
    if (!f)
        return NULL;
    int li = lgf_add_lock(f, wf, of->lock);
    if (li < 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const lg_thread_fact *t = &wf->threads[waiters[i]];
        if (lgf_add_thread(f, t, "blocked") < 0)
            return NULL;
        lg_edge *e = lg_finding_add_edge(f, t->tid, -1, LG_MODE_EXCLUSIVE, li, t->wait_mode,
                                         LG_EDGE_WAITING | (t->wait_flags & LG_WAITF_TIMED
                                                            ? LG_EDGE_TIMED : 0));
        if (!e || copy_stack(&e->stack, t->wait_stack) < 0)
            return NULL;
    }
    /* The owner holds it (the edge says where it took it, when that is known). */
    lg_thread *ot = lg_finding_add_thread(f, of->owner_tid, of->owner_name);
    if (!ot || lg_thread_set(ot, of->forked ? "not in this process" : "exited", NULL) < 0)
        return NULL;
    ot->pid = of->forked ? of->parent_pid : 0;
    if (of->owner_created && lg_stack_copy(&ot->created, of->owner_created) < 0)
        return NULL;
    lg_edge *e = lg_finding_add_edge(f, of->owner_tid, li, LG_MODE_EXCLUSIVE, li,
                                     LG_MODE_EXCLUSIVE, 0);
    if (!e || copy_stack(&e->holds_stack, of->owner_stack) < 0)
        return NULL;
    char what[256], owner[192];
    lgf_lock_ref(wf, of->lock, what, sizeof what);
    if (of->owner_name)
        snprintf(owner, sizeof owner, "thread %d \"%s\"", of->owner_tid, of->owner_name);
    else
        snprintf(owner, sizeof owner, "thread %d", of->owner_tid);
    const char *s = n == 1 ? "" : "s", *vs = n == 1 ? "s" : "";
    if (of->forked) {
        if (lg_finding_set_summary(f, "%s is held by %s of the parent process %d%s%s%s, which "
                                   "held it when this process was forked%s%s%s; that thread "
                                   "does not exist here, so %zu thread%s wait%s for it forever",
                                   what, owner, of->parent_pid, of->parent_comm ? " (" : "",
                                   of->parent_comm ? of->parent_comm : "",
                                   of->parent_comm ? ")" : "", of->fork_where ? " (at " : "",
                                   of->fork_where ? of->fork_where : "",
                                   of->fork_where ? ")" : "", n, s, vs) < 0 ||
            lg_finding_add_note(f, "fork() copies every lock in the state it is in, but only "
                                "the thread that calls fork") < 0 ||
            lg_finding_set_fix(f, "do not use %s in the child of a multithreaded fork (exec at "
                               "once), or take it in a pthread_atfork prepare handler and "
                               "release it in the parent and child handlers", what) < 0)
            return NULL;
    } else if (lg_finding_set_summary(f, "%s is held by %s, which exited without unlocking it; "
                                      "%zu thread%s wait%s for it forever", what, owner, n, s,
                                      vs) < 0 ||
               lg_finding_set_fix(f, "unlock %s on every path out of the thread that takes it "
                                  "(or make it robust and handle EOWNERDEAD)", what) < 0) {
        return NULL;
    }
    if (outside_notes(f, wf, waiters, n, "a thread that waits forever") < 0)
        return NULL;
    return f;
}
