/* text-timeline.c - `lockgraph report` for people: the answer first (the locks with the most
 * waiting, the longest wait with its holder and releaser, the threads that waited most), then
 * the threads and locks tables sorted by waiting, the top rows only unless --all (a server
 * has thousands of locks; the one with 1.6 s of waiting must not be row 3,000), then the
 * longest waits with holder, readying thread, both stacks and the critical path. Pinned by
 * golden tests. Not here: JSON (json-timeline.c), Chrome (chrome.c).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "text-internal.h"
#include "timeline-report.h"

#define TL_PATH_MAX 16

static void thread_ref(FILE *out, const lg_timeline *t, int tid)
{
    const char *name = tl_thread_name(t, tid);
    fprintf(out, "thread %d", tid);
    if (name)
        fprintf(out, " \"%s\"", name);
}

static void stack_of(FILE *out, const lg_timeline *t, uint32_t id, const lg_tl_text_options *o)
{
    const lg_tl_stack *s = id ? lg_timeline_stack(t, id) : NULL;
    lg_text_options to = {.max_frames = o->max_frames, .show_modules = o->show_modules};
    if (s && s->sym.n == 0 && s->n) {
        for (size_t i = 0; i < s->n && (o->max_frames <= 0 || i < (size_t)o->max_frames); i++)
            fprintf(out, "        #%-2zu 0x%" PRIx64 "\n", i, s->pcs[i]);
        return;
    }
    lg_stack empty = {0};
    text_stack(out, s ? &s->sym : &empty, "        ", &to);
}

#define TL_SUMMARY_TOP 3

/* Threads by time spent waiting (locks and condition variables), most first; ties by tid. */
static const lg_tl_analysis *sort_a;
static int by_thread_wait(const void *x, const void *y)
{
    const lg_tl_thread_stats *p = &sort_a->threads[*(const size_t *)x];
    const lg_tl_thread_stats *q = &sort_a->threads[*(const size_t *)y];
    uint64_t wp = p->lock_wait + p->cond_wait, wq = q->lock_wait + q->cond_wait;
    if (wp != wq)
        return wp < wq ? 1 : -1;
    return (p->tid > q->tid) - (p->tid < q->tid);
}

/* Locks by total wait, then contended acquisitions, then acquisitions, most first; ties by id. */
static int by_lock_wait(const void *x, const void *y)
{
    const lg_tl_lock_stats *p = &sort_a->locks[*(const size_t *)x];
    const lg_tl_lock_stats *q = &sort_a->locks[*(const size_t *)y];
    if (p->total_wait != q->total_wait)
        return p->total_wait < q->total_wait ? 1 : -1;
    if (p->contended != q->contended)
        return p->contended < q->contended ? 1 : -1;
    if (p->acquisitions != q->acquisitions)
        return p->acquisitions < q->acquisitions ? 1 : -1;
    return (p->lock > q->lock) - (p->lock < q->lock);
}

/* Indices 0..n-1 sorted by cmp (single-threaded: the writers run once per report). NULL when
 * out of memory: the callers then keep the analysis's own order. */
static size_t *sorted(const lg_tl_analysis *a, size_t n, int (*cmp)(const void *, const void *))
{
    size_t *ix = malloc((n ? n : 1) * sizeof *ix);
    if (!ix)
        return NULL;
    for (size_t i = 0; i < n; i++)
        ix[i] = i;
    sort_a = a;
    qsort(ix, n, sizeof *ix, cmp);
    return ix;
}

static size_t rows_of(const lg_tl_text_options *o, size_t n)
{
    size_t max = o->max_rows ? o->max_rows : 20;
    return o->all_rows || n <= max ? n : max;
}

/* what: the row's noun in the singular ("thread", "lock"). */
static void more_rows(FILE *out, size_t shown, size_t n, const char *what)
{
    if (shown < n)
        fprintf(out, "  (%zu more %s%s, with less waiting: --all lists every one)\n", n - shown,
                what, n - shown == 1 ? "" : "s");
}

/* The answer first: where the time went. */
static void summary(FILE *out, const lg_timeline *t, const lg_tl_analysis *a,
                    const size_t *lk, const size_t *th)
{
    fputs("summary\n", out);
    size_t shown = 0;
    for (size_t i = 0; i < a->nlocks && shown < TL_SUMMARY_TOP; i++) {
        const lg_tl_lock_stats *l = &a->locks[lk ? lk[i] : i];
        if (!l->total_wait)
            continue;
        char label[256], tw[32], lw[32];
        tl_lock_label(label, sizeof label, t, l->lock);
        tl_duration(tw, sizeof tw, l->total_wait);
        tl_duration(lw, sizeof lw, l->longest_wait);
        size_t waits = 0, open = 0;
        for (size_t k = 0; k < a->nwaits; k++)
            if (a->waits[k].kind == LG_TL_WAIT_LOCK && a->waits[k].lock == l->lock) {
                waits++;
                open += !a->waits[k].ended;
            }
        fprintf(out, "  %-14s %s: %s over %zu wait%s (longest %s", shown ? "" : "most waiting:",
                label, tw, waits, waits == 1 ? "" : "s", lw);
        if (open)
            fprintf(out, "; %zu still waiting when the trace ended", open);
        fputs(")\n", out);
        shown++;
    }
    if (!shown) {
        fputs("  no thread waited for a lock\n\n", out);
        return;
    }
    if (a->nlongest) {
        const lg_tl_wait *w = &a->waits[a->longest[0]];
        char d[32], lock[256];
        tl_duration(d, sizeof d, w->end - w->begin);
        tl_lock_label(lock, sizeof lock, t, w->lock);
        fprintf(out, "  %-14s ", "longest wait:");
        thread_ref(out, t, w->tid);
        fprintf(out, " waited %s for %s", d, lock);
        if (w->owner) {
            fputs("; held by ", out);
            thread_ref(out, t, w->owner);
            fputs(" when it began", out);
        }
        if (w->readier) {
            fputs("; released to it by ", out);
            thread_ref(out, t, w->readier);
        } else if (!w->ended) {
            fputs("; still waiting when the trace ended", out);
        }
        fputc('\n', out);
    }
    shown = 0;
    for (size_t i = 0; i < a->nthreads && shown < TL_SUMMARY_TOP; i++) {
        const lg_tl_thread_stats *s = &a->threads[th ? th[i] : i];
        if (!s->lock_wait && !s->cond_wait)
            continue;
        char lw[32];
        tl_duration(lw, sizeof lw, s->lock_wait + s->cond_wait);
        fprintf(out, "%s", shown ? ", " : "  waited most:   ");
        thread_ref(out, t, s->tid);
        fprintf(out, " %s", lw);
        shown++;
    }
    if (shown)
        fputc('\n', out);
    fputc('\n', out);
}

static void threads_table(FILE *out, const lg_timeline *t, const lg_tl_analysis *a,
                          const size_t *order, const lg_tl_text_options *o)
{
    size_t rows = rows_of(o, a->nthreads);
    fprintf(out, "threads%s\n  %-8s %-16s %12s %12s %12s %12s %9s %9s\n",
            a->nthreads > 1 ? ", most waiting first" : "", "tid", "name",
            "lifetime", "lock wait", "cond wait", "not waiting", "acquired", "contended");
    for (size_t r = 0; r < rows; r++) {
        size_t i = order ? order[r] : r;
        const lg_tl_thread_stats *s = &a->threads[i];
        char life[32], lw[32], cw[32], nw[32];
        uint64_t span = s->end - s->begin, waited = s->lock_wait + s->cond_wait;
        tl_duration(life, sizeof life, span);
        tl_duration(lw, sizeof lw, s->lock_wait);
        tl_duration(cw, sizeof cw, s->cond_wait);
        tl_duration(nw, sizeof nw, span > waited ? span - waited : 0);
        const char *name = tl_thread_name(t, s->tid);
        fprintf(out, "  %-8d %-16.16s %12s %12s %12s %12s %9zu %9zu\n", s->tid,
                name ? name : "-", life, lw, cw, nw, s->acquisitions, s->contended);
    }
    more_rows(out, rows, a->nthreads, "thread");
    fputc('\n', out);
    if (!a->sched)
        return;
    /* the kernel's view (--sched): what "not waiting" was made of */
    fprintf(out, "threads, the kernel's view\n  %-8s %-16s %12s %12s %12s\n", "tid", "name",
            "on cpu", "runnable", "off cpu");
    for (size_t r = 0; r < rows; r++) {
        const lg_tl_thread_stats *s = &a->threads[order ? order[r] : r];
        char on[32], rn[32], off[32];
        uint64_t span = s->end - s->begin, busy = s->on_cpu + s->runnable;
        tl_duration(on, sizeof on, s->on_cpu);
        tl_duration(rn, sizeof rn, s->runnable);
        tl_duration(off, sizeof off, span > busy ? span - busy : 0);
        const char *name = tl_thread_name(t, s->tid);
        fprintf(out, "  %-8d %-16.16s %12s %12s %12s\n", s->tid, name ? name : "-", on, rn, off);
    }
    more_rows(out, rows, a->nthreads, "thread");
    if (a->sched_inferred)
        fprintf(out, "  (%zu switch-in%s missing from the kernel's trace; inferred from the "
                "threads being seen on a CPU later)\n", a->sched_inferred,
                a->sched_inferred == 1 ? " was" : "s were");
    fputc('\n', out);
}

static void locks_table(FILE *out, const lg_timeline *t, const lg_tl_analysis *a,
                        const size_t *order, const lg_tl_text_options *o)
{
    size_t rows = rows_of(o, a->nlocks);
    fprintf(out, "locks%s\n  %-28s %9s %9s %9s %12s %12s  %s\n",
            a->nlocks > 1 ? ", most waiting first" : "", "lock", "acquired", "contended",
            "try-fail", "total wait", "longest", "top holders (time held)");
    for (size_t r = 0; r < rows; r++) {
        const lg_tl_lock_stats *l = &a->locks[order ? order[r] : r];
        char label[256], tw[32], lw[32];
        tl_lock_label(label, sizeof label, t, l->lock);
        tl_duration(tw, sizeof tw, l->total_wait);
        tl_duration(lw, sizeof lw, l->longest_wait);
        fprintf(out, "  %-28.28s %9zu %9zu %9zu %12s %12s ", label, l->acquisitions,
                l->contended, l->trylock_failed, tw, lw);
        for (size_t k = 0; k < l->ntop; k++) {
            char h[32];
            tl_duration(h, sizeof h, l->top[k].hold);
            fprintf(out, "%s%d %s", k ? ", " : " ", l->top[k].tid, h);
        }
        fputc('\n', out);
    }
    more_rows(out, rows, a->nlocks, "lock");
    if (a->counted)
        fprintf(out, "  (times held: the holds that made waits, and estimates from sampled "
                "holds; `lockgraph record --all-events` times every hold)\n");
    fputc('\n', out);
}

static void critical_path(FILE *out, const lg_tl_analysis *a, size_t w)
{
    lg_tl_step steps[TL_PATH_MAX];
    size_t n = lg_tl_critical_path(a, w, steps, TL_PATH_MAX);
    if (n < 2)
        return;
    fprintf(out, "     critical path: %d", steps[0].tid);
    for (size_t i = 1; i < n; i++) {
        char held[32];
        tl_duration(held, sizeof held, steps[i].release_ts - steps[i].hold_begin);
        fprintf(out, " <- %d (held L%" PRIu32 " %s", steps[i].tid, steps[i].lock, held);
        if (steps[i].wait != LG_TL_NONE) {
            const lg_tl_wait *bw = &a->waits[steps[i].wait];
            char waited[32];
            tl_duration(waited, sizeof waited, bw->end - bw->begin);
            fprintf(out, " after waiting %s for L%" PRIu32 ")", waited, bw->lock);
        } else {
            fputs(", not waiting: the root)", out);
        }
    }
    fputc('\n', out);
}

static void one_wait(FILE *out, const lg_timeline *t, const lg_tl_analysis *a, size_t rank,
                     size_t wi, const lg_tl_text_options *o)
{
    const lg_tl_wait *w = &a->waits[wi];
    char d[32], at[32], lock[256];
    tl_duration(d, sizeof d, w->end - w->begin);
    tl_duration(at, sizeof at, w->begin);
    tl_lock_label(lock, sizeof lock, t, w->lock);
    fprintf(out, "  %zu. ", rank);
    thread_ref(out, t, w->tid);
    fprintf(out, " waited %s for %s, from +%s%s\n", d, lock, at,
            !w->ended ? " (still waiting when the trace ended)"
                      : !w->acquired ? " (gave up)" : "");
    if (w->owner) {
        fputs("     holder when the wait began: ", out);
        thread_ref(out, t, w->owner);
        fputc('\n', out);
    }
    if (w->longest_holder && w->longest_holder != w->readier) {
        char held[32];
        tl_duration(held, sizeof held, w->longest_hold);
        fputs("     held longest during the wait: ", out);
        thread_ref(out, t, w->longest_holder);
        fprintf(out, ", %s of it\n", held);
    }
    if (w->readier) {
        char rel[32], held[32];
        tl_duration(rel, sizeof rel, w->release_ts);
        tl_duration(held, sizeof held, w->release_ts - w->readier_hold_begin);
        fputs("     readied by ", out);
        thread_ref(out, t, w->readier);
        fprintf(out, ", which released it at +%s after holding it %s\n", rel, held);
        critical_path(out, a, wi);
    }
    if (a->sched && w->woken) {
        char at2[32];
        tl_duration(at2, sizeof at2, w->woken_ts);
        fputs("     kernel: woken at +", out);
        fputs(at2, out);
        fputs(" by ", out);
        if (w->woken_by)
            thread_ref(out, t, w->woken_by);
        else
            fputs("an interrupt", out);
        fputc('\n', out);
    }
    fputs("     waiter's stack:\n", out);
    stack_of(out, t, w->stack, o);
    if (w->readier) {
        fputs("     readying thread's stack (where it released the lock):\n", out);
        stack_of(out, t, w->release_stack, o);
    }
}

int lg_write_timeline_text(FILE *out, const lg_timeline *t, const lg_tl_analysis *a,
                           const lg_tl_text_options *o)
{
    lg_tl_text_options dflt = {0};
    if (!o)
        o = &dflt;
    char span[32];
    tl_duration(span, sizeof span, a->end_ns);
    fprintf(out, "lockgraph report: pid %d, %zu threads, %zu locks, %zu events over %s\n",
            t->pid, a->nthreads, a->nlocks, a->nevents, span);
    if (!t->closed)
        fputs("note: the trace has no end record: the program did not exit normally; each "
              "thread's events after its last flush are missing\n", out);
    if (t->dropped)
        fprintf(out, "note: the recorder dropped %" PRIu64 " events\n", t->dropped);
    for (size_t i = 0; i < t->nnotes; i++)
        fprintf(out, "note: %s\n", t->notes[i]);
    fputc('\n', out);
    size_t *th = sorted(a, a->nthreads, by_thread_wait), *lk = sorted(a, a->nlocks, by_lock_wait);
    summary(out, t, a, lk, th);
    threads_table(out, t, a, th, o);
    locks_table(out, t, a, lk, o);
    free(th);
    free(lk);
    size_t max = o->max_waits ? o->max_waits : 10, n = a->nlongest < max ? a->nlongest : max;
    if (n == 0) {
        fputs("longest waits: none, no thread waited for a lock\n", out);
    } else {
        fprintf(out, "longest waits (%zu of %zu)\n", n, a->nlongest);
        for (size_t i = 0; i < n; i++)
            one_wait(out, t, a, i + 1, a->longest[i], o);
    }
    return ferror(out) ? -1 : 0;
}
