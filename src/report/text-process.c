/* text-process.c - the whole-process section (report->threads): every thread, its state,
 * what it waits in, and its stack. Used by attach/core and by the runtime's deadlock report
 * for "the other threads".
 *
 * For whole-process analyses (report->verdict set) it prints the full attach/core layout, in
 * the style of the tools people know: the verdict first; the findings; a contended-locks
 * table like WinDbg's !locks; wait chains like Wait Chain Traversal; every thread's stack
 * with the waiting frame annotated, identical idle stacks grouped with a count; last line
 * "Found N deadlock(s)." Everything here is derived from the model alone. */
#include <stdlib.h>
#include <string.h>

#include "text-internal.h"

static const char *lock_label(const lg_lock *l, char *buf, size_t len)
{
    if (l->name)
        snprintf(buf, len, "%s", l->name);
    else
        snprintf(buf, len, "0x%llx", (unsigned long long)l->address);
    return buf;
}

static void thread_tail(FILE *out, const lg_thread *t)
{
    if (t->state)
        fprintf(out, " %s", t->state);
    if (t->blocked_ms >= 1000)
        fprintf(out, " for %.1f s", (double)t->blocked_ms / 1000.0);
    else if (t->blocked_ms > 0)
        fprintf(out, " for %lld ms", (long long)t->blocked_ms);
    if (t->wait)
        fprintf(out, " in %s", t->wait);
}

/* The stack with the waiting frame marked: "<== waits to lock mutex_b, held by ...". */
static void annotated_stack(FILE *out, const lg_report *r, const lg_thread *t,
                            const lg_text_options *o)
{
    if (!t->wait_frame || !t->wait || t->wait_frame > (int)t->stack.n) {
        text_stack(out, &t->stack, "      ", o);
        return;
    }
    size_t k = (size_t)t->wait_frame;   /* frames [0, k) then the mark, then the rest */
    size_t limit = o && o->max_frames > 0 ? (size_t)o->max_frames : t->stack.n;
    text_stack_range(out, &t->stack, 0, k < limit ? k : limit, "      ", o);
    if (k <= limit)
        fprintf(out, "         ^^^ waits here: %s\n", t->wait);
    if (k < limit)
        text_stack_range(out, &t->stack, k, limit, "      ", o);
    if (limit < t->stack.n)
        fprintf(out, "      ... %zu more frame%s\n", t->stack.n - limit,
                t->stack.n - limit == 1 ? "" : "s");
    (void)r;
}

static int same_stack(const lg_stack *a, const lg_stack *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->frames[i].address != b->frames[i].address)
            return 0;
    return 1;
}

/* Threads that need no attention on their own: no cycle, same wait and stack as others. */
static int groupable(const lg_report *r, const lg_thread *t)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (text_find_thread(&r->findings[i], NULL, t->tid))
            return 0;
    return t->stack.n > 0;
}

static void waiter_tids(FILE *out, const lg_report *r, size_t i)
{
    size_t nw = 0;
    for (size_t j = 0; j < r->nthreads; j++) {
        if (r->threads[j].wait_lock != (int)i + 1)
            continue;
        if (nw++ < 8)
            fprintf(out, " %d", r->threads[j].tid);
    }
    if (nw > 8)
        fprintf(out, " ... (%zu)", nw);
    fputc('\n', out);
}

/* Condition variables, semaphores, barriers: waits, not contended locks (no thread holds
 * them; any thread may end the wait). */
static void ownerless_waits(FILE *out, const lg_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nlocks; i++)
        n += (r->locks[i].lock_flags & LG_LOCK_F_NO_OWNER) != 0;
    if (!n)
        return;
    fputs("Waits on condition variables, semaphores and barriers (no owner: any thread may "
          "end them):\n", out);
    fprintf(out, "  %-4s %-10s %-28s %s\n", "ID", "TYPE", "OBJECT", "WAITERS");
    for (size_t i = 0; i < r->nlocks; i++) {
        const lg_lock *l = &r->locks[i];
        if (!(l->lock_flags & LG_LOCK_F_NO_OWNER))
            continue;
        char name[64];
        lock_label(l, name, sizeof name);
        fprintf(out, "  %-4s %-10s %-28s", l->id, lg_lock_type_name(l->type), name);
        waiter_tids(out, r, i);
    }
    fputc('\n', out);
}

/* Locks some thread waits for, with their owners. */
static void owned_locks(FILE *out, const lg_report *r)
{
    fputs("Contended locks:\n", out);
    fprintf(out, "  %-4s %-10s %-28s %-30s %s\n", "ID", "TYPE", "LOCK", "OWNER", "WAITERS");
    for (size_t i = 0; i < r->nlocks; i++) {
        const lg_lock *l = &r->locks[i];
        if (l->lock_flags & LG_LOCK_F_NO_OWNER)
            continue;
        char name[64], owner[128];
        lock_label(l, name, sizeof name);
        if (l->owner) {
            const lg_thread *t = text_find_thread(NULL, r, l->owner);
            int n = snprintf(owner, sizeof owner, "thread %d", l->owner);
            if (t && t->name)
                n += snprintf(owner + n, sizeof owner - n, " \"%s\"", t->name);
            int opid = l->owner_pid ? l->owner_pid : t ? t->pid : 0;
            if (opid && n < (int)sizeof owner)
                snprintf(owner + n, sizeof owner - n, " (pid %d)", opid);
            if (l->lock_flags & LG_LOCK_F_OWNER_FORKED)
                snprintf(owner + strlen(owner), sizeof owner - strlen(owner), " (before fork)");
            else if (l->lock_flags & LG_LOCK_F_OWNER_EXITED)
                snprintf(owner + n, sizeof owner - n, " (exited)");
            else if (l->lock_flags & LG_LOCK_F_OWNER_INFERRED)
                snprintf(owner + strlen(owner), sizeof owner - strlen(owner), " (reader?)");
            else if (l->lock_flags & LG_LOCK_F_OWNERS_FROM_RUNTIME)
                snprintf(owner + strlen(owner), sizeof owner - strlen(owner), " (reader)");
        } else if (l->readers) {
            snprintf(owner, sizeof owner, "%d reader%s (unrecorded)", l->readers,
                     l->readers == 1 ? "" : "s");
        } else {
            snprintf(owner, sizeof owner, "unknown");
        }
        fprintf(out, "  %-4s %-10s %-28s %-30s", l->id, lg_lock_type_name(l->type), name,
                owner);
        waiter_tids(out, r, i);
    }
    fputc('\n', out);
}

static void contended_locks(FILE *out, const lg_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nlocks; i++)
        n += !(r->locks[i].lock_flags & LG_LOCK_F_NO_OWNER);
    if (n)
        owned_locks(out, r);
    ownerless_waits(out, r);
}

static const lg_thread *owner_thread(const lg_report *r, const lg_thread *t)
{
    if (!t->wait_lock || (size_t)t->wait_lock > r->nlocks)
        return NULL;
    const lg_lock *l = &r->locks[t->wait_lock - 1];
    /* An owner that exited (or, for a fork-copied lock, lives on in the parent, where the
     * same TID holds the parent's copy) ends the chain. */
    return l->owner && !(l->lock_flags & LG_LOCK_F_OWNER_EXITED)
           ? text_find_thread(NULL, r, l->owner) : NULL;
}

static void chain_node(FILE *out, const lg_thread *t)
{
    fprintf(out, "[thread %d", t->tid);
    if (t->name)
        fprintf(out, " \"%s\"", t->name);
    if (t->pid)
        fprintf(out, " of process %d", t->pid);
    fputc(']', out);
}

/* Is t on a cycle of the wait-for graph? Walks at most nthreads steps. */
static int on_cycle(const lg_report *r, const lg_thread *t)
{
    const lg_thread *u = t;
    for (size_t k = 0; k < r->nthreads; k++) {
        u = owner_thread(r, u);
        if (!u)
            return 0;
        if (u == t)
            return 1;
    }
    return 0;
}

static int cycle_min(const lg_report *r, const lg_thread *t)
{
    const lg_thread *u = t;
    do {
        if (u->tid < t->tid)
            return 0;
        u = owner_thread(r, u);
    } while (u && u != t);
    return 1;
}

static void chain(FILE *out, const lg_report *r, const lg_thread *s);

/* An owner that is not among the report's threads: where it is, as far as is known. */
static void absent_owner(FILE *out, const lg_lock *l)
{
    if (l->lock_flags & LG_LOCK_F_OWNER_ELSEWHERE && l->owner_pid)
        fprintf(out, " -> [thread %d of process %d] (not inspected)", l->owner, l->owner_pid);
    else if (l->lock_flags & LG_LOCK_F_OWNER_ELSEWHERE)
        fprintf(out, " -> [thread %d] outside this process", l->owner);
    else if (l->lock_flags & LG_LOCK_F_OWNER_FORKED)
        fprintf(out, " -> [thread %d of parent process %d] held it at fork, not copied here",
                l->owner, l->owner_pid);
    else if (l->lock_flags & LG_LOCK_F_OWNER_EXITED)
        fprintf(out, " -> [thread %d] exited holding it", l->owner);
    else
        fprintf(out, " -> [thread %d] (not inspected)", l->owner);
}

/* The rest of a chain after its first thread (for grouped idle chains). */
static void chain_tail(FILE *out, const lg_report *r, const lg_thread *s)
{
    char name[64];
    const lg_lock *l = &r->locks[s->wait_lock - 1];
    fprintf(out, "-> [%s %s]", lg_lock_type_name(l->type), lock_label(l, name, sizeof name));
    if (l->owner) {
        absent_owner(out, l);
        fputc('\n', out);
    } else if (l->readers)
        fprintf(out, " -> [%d reader%s, not recorded by glibc]\n", l->readers,
                l->readers == 1 ? "" : "s");
    else if (l->type == LG_LOCK_BARRIER)
        fputs(" waits for more threads to arrive\n", out);
    else if (l->lock_flags & LG_LOCK_F_NO_OWNER)
        fputs(" waits for a signal from any thread\n", out);
    else
        fputs(" -> [owner unknown]\n", out);
}

static void chain(FILE *out, const lg_report *r, const lg_thread *s)
{
    char name[64];
    const lg_thread *t = s;
    int s_cycle = on_cycle(r, s);
    fputs("  ", out);
    for (size_t steps = 0; steps <= r->nthreads; steps++) {
        chain_node(out, t);
        const lg_lock *l = t->wait_lock && (size_t)t->wait_lock <= r->nlocks
                               ? &r->locks[t->wait_lock - 1] : NULL;
        if (!l) {
            if (t->wait)
                fprintf(out, " blocked in %s", t->wait);
            else if (t->state)
                fprintf(out, " %s", t->state);
            break;
        }
        const lg_thread *o = owner_thread(r, t);
        /* A join waits for the thread itself: one node, not the thread as a lock and again
         * as its owner. */
        if (l->type == LG_LOCK_THREAD && o)
            fputs(" -> [join]", out);
        else
            fprintf(out, " -> [%s %s]", lg_lock_type_name(l->type),
                    lock_label(l, name, sizeof name));
        if (!o) {
            if (l->owner)
                absent_owner(out, l);
            else if (l->readers)
                fprintf(out, " -> [%d reader%s, not recorded by glibc]", l->readers,
                        l->readers == 1 ? "" : "s");
            else if (l->type == LG_LOCK_BARRIER)
                fputs(" waits for more threads to arrive", out);
            else if (l->lock_flags & LG_LOCK_F_NO_OWNER)
                fputs(" waits for a signal from any thread", out);
            else
                fputs(" -> [owner unknown]", out);
            break;
        }
        fputs(" -> ", out);
        if (o == s) {
            chain_node(out, o);
            fputs(" !!!Deadlock!!!", out);
            break;
        }
        if (!s_cycle && on_cycle(r, o)) {
            /* s is not deadlocked itself: it waits for a thread that is. */
            chain_node(out, o);
            fputs(" (deadlocked): waits on a deadlocked thread", out);
            break;
        }
        t = o;
    }
    fputc('\n', out);
}

/* Cycles first (from their lowest tid), then one chain from each waiting thread nobody
 * waits for; threads waiting for nothing start no chain. */
static void wait_chains(FILE *out, const lg_report *r)
{
    int printed = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->nthreads; i++) {
            const lg_thread *s = &r->threads[i];
            if (!s->wait_lock)
                continue;
            int cyc = on_cycle(r, s);
            if (pass == 0 && !(cyc && cycle_min(r, s)))
                continue;
            if (pass == 1) {
                if (cyc)
                    continue;
                int waited_for = 0;
                for (size_t j = 0; j < r->nthreads && !waited_for; j++)
                    waited_for = owner_thread(r, &r->threads[j]) == s;
                if (waited_for)
                    continue;
            }
            /* One-hop chains into the same ownerless lock (idle pools): one line. */
            if (pass == 1 && !owner_thread(r, s)) {
                size_t same = 0, first = 1;
                for (size_t j = 0; j < r->nthreads; j++) {
                    const lg_thread *u = &r->threads[j];
                    if (u->wait_lock == s->wait_lock && !owner_thread(r, u)) {
                        first &= j >= i;
                        same++;
                    }
                }
                if (!first)
                    continue;
                if (same > 2) {
                    if (!printed++)
                        fputs("Wait chains:\n", out);
                    fprintf(out, "  [%zu threads like ", same);
                    text_thread(out, NULL, r, s->tid);
                    fputs("] ", out);
                    chain_tail(out, r, s);
                    continue;
                }
            }
            if (!printed++)
                fputs("Wait chains:\n", out);
            chain(out, r, s);
        }
    }
    if (printed)
        fputc('\n', out);
}

static void threads_grouped(FILE *out, const lg_report *r, const lg_text_options *o)
{
    fprintf(out, "Threads (%zu):\n", r->nthreads);
    char *done = calloc(r->nthreads ? r->nthreads : 1, 1);
    for (size_t i = 0; i < r->nthreads; i++) {
        const lg_thread *t = &r->threads[i];
        if (done && done[i])
            continue;
        size_t same = 1;
        if (done && groupable(r, t))
            for (size_t j = i + 1; j < r->nthreads; j++)
                if (!done[j] && groupable(r, &r->threads[j]) &&
                    same_stack(&t->stack, &r->threads[j].stack) &&
                    !!t->wait == !!r->threads[j].wait)
                    same++;
        if (same > 2) {
            fprintf(out, "  %zu threads with this stack:", same);
            size_t shown = 0;
            for (size_t j = i; j < r->nthreads; j++) {
                const lg_thread *u = &r->threads[j];
                if (done[j] || (j > i && (!groupable(r, u) || !same_stack(&t->stack, &u->stack)
                                          || !!t->wait != !!u->wait)))
                    continue;
                done[j] = 1;
                if (shown++ < 10)
                    fprintf(out, " %d", u->tid);
            }
            if (shown > 10)
                fputs(" ...", out);
            fputc('\n', out);
            fputs("   ", out);
            thread_tail(out, t);
            fputs(":\n", out);
        } else {
            fputs("  ", out);
            text_thread(out, NULL, r, t->tid);
            thread_tail(out, t);
            fputs(t->stack.n ? ":\n" : "\n", out);
        }
        if (t->stack.n)
            annotated_stack(out, r, t, o);
    }
    free(done);
    fputc('\n', out);
}

void text_inspection(FILE *out, const lg_report *r, const lg_text_options *o)
{
    fprintf(out, "lockgraph: %s\n\n", r->verdict);
    for (size_t i = 0; i < r->nfindings; i++)
        lg_write_finding_text(out, r, &r->findings[i], o);
    contended_locks(out, r);
    wait_chains(out, r);
    threads_grouped(out, r, o);
    text_notes(out, r->notes, r->nnotes, "");
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += r->findings[i].kind == LG_KIND_DEADLOCK;
    fprintf(out, "Found %zu deadlock%s.\n", n, n == 1 ? "" : "s");
}

void text_process(FILE *out, const lg_report *r, const lg_text_options *o)
{
    fprintf(out, "Threads (%zu):\n", r->nthreads);
    for (size_t i = 0; i < r->nthreads; i++) {
        const lg_thread *t = &r->threads[i];
        fputs("  ", out);
        text_thread(out, NULL, r, t->tid);
        if (t->state)
            fprintf(out, " %s", t->state);
        if (t->wait)
            fprintf(out, " in %s", t->wait);
        fputs(t->stack.n ? ":\n" : "\n", out);
        if (t->stack.n)
            text_stack(out, &t->stack, "      ", o);
    }
    fputc('\n', out);
}
