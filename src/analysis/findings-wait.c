/* findings-wait.c - the words of a wait, and the long-wait and no-progress findings, from
 * neutral facts (findings.h).
 *
 * lg_wait_words is how every report says what a thread waits for (attach's threads table,
 * the runtime's report threads, the no-progress notes). lg_build_long_wait is the runtime's
 * --wait-timeout finding; lg_build_no_progress attach's, core's and run --hang-timeout's
 * "every thread is blocked, no cycle". The front ends gather facts only.
 */
#include "findings-internal.h"

#include <stdio.h>
#include <string.h>

/* ---- the words of one wait ---- */

/* The owner of what thread t waits for: a thread of the facts, a thread of another process,
 * or outside a core. */
static void owner_ref(const lg_wait_facts *wf, const lg_lock_fact *l, char *buf, size_t len)
{
    if (!(l->lock_flags & LG_LOCK_F_OWNER_ELSEWHERE)) {
        const lg_thread_fact *o = lgf_thread_by_tid(wf, l->owner);
        if (o)
            lgf_thread_ref(o, buf, len);
        else
            snprintf(buf, len, "thread %d", l->owner);
        return;
    }
    if (l->owner_pid)
        snprintf(buf, len, "thread %d of process %d%s%s%s", l->owner, l->owner_pid,
                 l->owner_comm ? " (" : "", l->owner_comm ? l->owner_comm : "",
                 l->owner_comm ? ")" : "");
    else
        snprintf(buf, len, "thread %d, which is not in this core (the lock is "
                 "process-shared: the chain leaves the process)", l->owner);
}

void lg_wait_words(const lg_wait_facts *wf, size_t i, char *out, size_t len)
{
    if (!len)
        return;
    out[0] = '\0';
    if (i >= wf->nthreads)
        return;
    const lg_thread_fact *t = &wf->threads[i];
    if (t->wait_lock < 0 || (size_t)t->wait_lock >= wf->nlocks) {
        snprintf(out, len, "%s", t->blocked_in ? t->blocked_in : "");
        return;
    }
    const lg_lock_fact *l = &wf->locks[t->wait_lock];
    char who[256], obj[320];
    if (l->type == LG_LOCK_THREAD) {
        lgf_lock_ref(wf, t->wait_lock, who, sizeof who);
        snprintf(out, len, "join %s%s", who,
                 l->lock_flags & LG_LOCK_F_OWNER_EXITED ? " (gone)" : "");
        return;
    }
    if (t->wait_flags & LG_WAITF_SPINNING) {
        lgf_lock_ref(wf, t->wait_lock, who, sizeof who);
        snprintf(out, len, "spin on spinlock %s (its owner is not recorded)", who);
        return;
    }
    if (l->type == LG_LOCK_FUTEX) {
        snprintf(out, len, "futex wait on 0x%llx (value %u%s)", (unsigned long long)l->address,
                 l->value, t->wait_flags & LG_WAITF_TIMED ? ", timed" : "");
        return;
    }
    size_t n;
    if (l->name)
        n = (size_t)snprintf(obj, sizeof obj, "%s %s", lg_lock_type_name(l->type), l->name);
    else
        n = (size_t)snprintf(obj, sizeof obj, "%s 0x%llx", lg_lock_type_name(l->type),
                             (unsigned long long)l->address);
    if (l->attrs && n < sizeof obj)
        snprintf(obj + n, sizeof obj - n, " (%s)", l->attrs);
    n = (size_t)snprintf(out, len, "%s %s", lg_acquire_verb(l->type, t->wait_mode), obj);
    if (n >= len)
        return;
    bool shared = (t->wait_flags & LG_WAITF_READ_HELD) != 0;
    if (l->owner) {
        owner_ref(wf, l, who, sizeof who);
        const char *how = t->wait_flags & LG_WAITF_INFERRED_READER ? "read-held (inferred)"
                          : shared ? "read-held" : "held";
        n += (size_t)snprintf(out + n, len - n, ", %s by %s%s", how, who,
                              l->lock_flags & LG_LOCK_F_OWNER_FORKED
                              ? " in the parent process before fork (not here)"
                              : l->lock_flags & LG_LOCK_F_OWNER_EXITED ? ", which exited" : "");
        if (shared && l->readers > 1 && n < len)
            snprintf(out + n, len - n, " and %d other reader%s", l->readers - 1,
                     l->readers == 2 ? "" : "s");
    } else if (l->readers) {
        snprintf(out + n, len - n, ", read-held by %d thread%s (glibc does not record which)",
                 l->readers, l->readers == 1 ? "" : "s");
    } else if (l->type == LG_LOCK_BARRIER) {
        snprintf(out + n, len - n, ", waits for more threads to arrive");
    } else if (l->lock_flags & LG_LOCK_F_NO_OWNER) {
        snprintf(out + n, len - n, ", waits for a signal from any thread");
    }
}

/* ---- long wait ---- */

lg_finding *lg_build_long_wait(lg_report *r, const lg_wait_facts *wf,
                               const lg_long_wait_fact *lw)
{
    if (lw->waiter >= wf->nthreads)
        return NULL;
    const lg_thread_fact *t = &wf->threads[lw->waiter];
    if (t->wait_lock < 0 || (size_t)t->wait_lock >= wf->nlocks)
        return NULL;
    for (size_t i = 0; i < lw->nholders; i++)
        if (lw->holders[i].thread >= wf->nthreads)
            return NULL;
    lg_finding *f = lg_report_add_finding(r, LG_KIND_LONG_WAIT);
    if (!f)
        return NULL;
    int li = lgf_add_lock(f, wf, t->wait_lock);
    if (li < 0 || lgf_add_thread(f, t, "blocked") < 0)
        return NULL;
    unsigned flags = LG_EDGE_WAITING | (t->wait_flags & LG_WAITF_TIMED ? LG_EDGE_TIMED : 0) |
                     (t->wait_flags & LG_WAITF_COND ? LG_EDGE_COND : 0);
    lg_edge *e = lg_finding_add_edge(f, t->tid, -1, LG_MODE_EXCLUSIVE, li, t->wait_mode, flags);
    if (!e || (t->wait_stack && lg_stack_copy(&e->stack, t->wait_stack) < 0))
        return NULL;
    if (t->wait_flags & LG_WAITF_TIMED)
        f->flags |= LG_FINDING_TIMED;
    for (size_t i = 0; i < lw->nholders; i++) {
        const lg_holder_now_fact *hn = &lw->holders[i];
        const lg_thread_fact *h = &wf->threads[hn->thread];
        char who[256];
        lgf_thread_ref(h, who, sizeof who);
        const char *now = hn->now ? hn->now : "in an unknown state";
        if (h != t) {
            lg_thread *ft = lg_finding_add_thread(f, h->tid, h->name);
            if (!ft || lgf_add_thread(f, h, h->wait_lock >= 0 ? "blocked" : now) < 0 ||
                (hn->stack && !ft->stack.n && lg_stack_copy(&ft->stack, hn->stack) < 0))
                return NULL;
        }
        if (hn->stack ? lg_finding_add_note(f, "holder %s is %s now; its current stack is "
                                            "shown", who, now) < 0
                      : lg_finding_add_note(f, "holder %s is %s now%s%s", who, now,
                                            hn->no_stack ? "; no current stack: " : "",
                                            hn->no_stack ? hn->no_stack : "") < 0)
            return NULL;
        /* "h holds L (acquired at ...)": its own wait edge when it waits for what it holds. */
        const lg_held_fact *held = lgf_held_of(h, t->wait_lock);
        if (!held)
            continue;
        lg_edge *he = h == t ? &f->edges[0] : NULL;
        if (he) {
            he->holds = li;
            he->holds_mode = held->mode;
        } else if (!(he = lg_finding_add_edge(f, h->tid, li, held->mode, li, held->mode, 0))) {
            return NULL;
        }
        if (held->stack && lg_stack_copy(&he->holds_stack, held->stack) < 0)
            return NULL;
    }
    char who[256], what[256];
    lgf_thread_ref(t, who, sizeof who);
    lgf_wait_ref(wf, t, what, sizeof what);
    if (lg_finding_set_summary(f, "%s has waited more than %g s to %s, with no deadlock cycle",
                               who, lw->timeout_s, what) < 0)
        return NULL;
    lgf_unique_ids(f, wf);
    return f;
}

/* ---- no progress ---- */

lg_finding *lg_build_no_progress(lg_report *r, const lg_wait_facts *wf)
{
    lg_finding *f = lg_report_add_finding(r, LG_KIND_HANG);
    if (!f || lg_finding_set_summary(f, "every thread is blocked and none can run: the "
                                     "process cannot make progress, though no lock cycle "
                                     "closes it") < 0)
        return NULL;
    /* Only chain ends: what the others wait for in the end (a thread in a cycle has one
     * to wait on, so none of a cycle is listed). */
    for (size_t i = 0; i < wf->nthreads; i++) {
        const lg_thread_fact *t = &wf->threads[i];
        if (t->waits_on >= 0 && (size_t)t->waits_on < wf->nthreads)
            continue;
        char who[256], what[640];
        lgf_thread_ref(t, who, sizeof who);
        lg_wait_words(wf, i, what, sizeof what);
        if (lg_finding_add_note(f, "%s: %s", who, what[0] ? what : "blocked") < 0)
            return NULL;
    }
    return f;
}
