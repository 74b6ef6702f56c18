/* json-timeline.c - `lockgraph report --format json`: the timeline tables as JSON for
 * programs. Keys and their meaning are documented in docs/trace-format.md ("Report JSON");
 * key order is fixed so output diffs cleanly. Not here: Chrome trace JSON (chrome.c).
 */
#include <inttypes.h>

#include "timeline-report.h"

#define LG_TL_JSON_VERSION 1
#define TL_PATH_MAX 16


static void stack(FILE *out, const lg_timeline *t, uint32_t id)
{
    const lg_tl_stack *s = id ? lg_timeline_stack(t, id) : NULL;
    fputc('[', out);
    if (s && s->sym.n) {
        for (size_t i = 0; i < s->sym.n; i++) {
            const lg_frame *f = &s->sym.frames[i];
            fprintf(out, "%s{\"address\": \"0x%" PRIx64 "\", \"module\": ", i ? ", " : "",
                    f->address);
            lg_json_str(out, f->module);
            fputs(", \"function\": ", out);
            lg_json_str(out, f->function);
            fputs(", \"file\": ", out);
            lg_json_str(out, f->file);
            if (f->line > 0)
                fprintf(out, ", \"line\": %d", f->line);
            else
                fputs(", \"line\": null", out);
            if (f->inlined)
                fputs(", \"inlined\": true", out);
            fputc('}', out);
        }
    } else if (s) {
        for (size_t i = 0; i < s->n; i++)
            fprintf(out, "%s{\"address\": \"0x%" PRIx64 "\"}", i ? ", " : "", s->pcs[i]);
    }
    fputc(']', out);
}

static void threads(FILE *out, const lg_timeline *t, const lg_tl_analysis *a)
{
    fputs("  \"threads\": [", out);
    for (size_t i = 0; i < a->nthreads; i++) {
        const lg_tl_thread_stats *s = &a->threads[i];
        uint64_t span = s->end - s->begin, waited = s->lock_wait + s->cond_wait;
        fprintf(out, "%s\n    {\"tid\": %d, \"name\": ", i ? "," : "", s->tid);
        lg_json_str(out, tl_thread_name(t, s->tid));
        fprintf(out, ", \"begin_ns\": %" PRIu64 ", \"end_ns\": %" PRIu64
                ", \"lock_wait_ns\": %" PRIu64 ", \"cond_wait_ns\": %" PRIu64
                ", \"not_waiting_ns\": %" PRIu64 ", \"acquisitions\": %zu, \"contended\": %zu",
                s->begin, s->end, s->lock_wait, s->cond_wait, span > waited ? span - waited : 0,
                s->acquisitions, s->contended);
        if (a->sched)   /* the kernel's view (--sched) */
            fprintf(out, ", \"on_cpu_ns\": %" PRIu64 ", \"runnable_ns\": %" PRIu64,
                    s->on_cpu, s->runnable);
        fputc('}', out);
    }
    fputs(a->nthreads ? "\n  ],\n" : "],\n", out);
}

static void locks(FILE *out, const lg_timeline *t, const lg_tl_analysis *a)
{
    fputs("  \"locks\": [", out);
    for (size_t i = 0; i < a->nlocks; i++) {
        const lg_tl_lock_stats *l = &a->locks[i];
        const lg_tl_lock *d = lg_timeline_lock(t, l->lock);
        fprintf(out, "%s\n    {\"id\": %" PRIu32 ", \"address\": \"0x%" PRIx64 "\", \"type\": ",
                i ? "," : "", l->lock, d ? d->address : 0);
        lg_json_str(out, d ? lg_lock_type_name(d->type) : NULL);
        fputs(", \"name\": ", out);
        lg_json_str(out, d ? d->name : NULL);
        fprintf(out, ", \"acquisitions\": %zu, \"contended\": %zu, \"trylock_failed\": %zu"
                ", \"wait_failed\": %zu, \"total_wait_ns\": %" PRIu64
                ", \"longest_wait_ns\": %" PRIu64 ", \"total_hold_ns\": %" PRIu64
                ", \"top_holders\": [",
                l->acquisitions, l->contended, l->trylock_failed, l->wait_failed,
                l->total_wait, l->longest_wait, l->total_hold);
        for (size_t k = 0; k < l->ntop; k++)
            fprintf(out, "%s{\"tid\": %d, \"hold_ns\": %" PRIu64 ", \"holds\": %zu}",
                    k ? ", " : "", l->top[k].tid, l->top[k].hold, l->top[k].count);
        fputs("]}", out);
    }
    fputs(a->nlocks ? "\n  ],\n" : "],\n", out);
}

static void path(FILE *out, const lg_tl_analysis *a, size_t w)
{
    lg_tl_step steps[TL_PATH_MAX];
    size_t n = lg_tl_critical_path(a, w, steps, TL_PATH_MAX);
    fputs("\"critical_path\": [", out);
    for (size_t i = 0; i < n; i++) {
        const lg_tl_step *s = &steps[i];
        const lg_tl_wait *sw = s->wait != LG_TL_NONE ? &a->waits[s->wait] : NULL;
        fprintf(out, "%s{\"tid\": %d, \"lock\": %" PRIu32 ", \"hold_ns\": %" PRIu64
                ", \"wait_ns\": %" PRIu64 ", \"waiting\": %s}", i ? ", " : "", s->tid,
                s->lock, i ? s->release_ts - s->hold_begin : 0,
                sw ? sw->end - sw->begin : 0, sw ? "true" : "false");
    }
    fputc(']', out);
}

static void waits(FILE *out, const lg_timeline *t, const lg_tl_analysis *a, size_t max)
{
    size_t n = max && a->nlongest > max ? max : a->nlongest;
    fputs("  \"waits\": [", out);
    for (size_t i = 0; i < n; i++) {
        const lg_tl_wait *w = &a->waits[a->longest[i]];
        fprintf(out, "%s\n    {\"tid\": %d, \"lock\": %" PRIu32 ", \"begin_ns\": %" PRIu64
                ", \"end_ns\": %" PRIu64 ", \"duration_ns\": %" PRIu64
                ", \"ended\": %s, \"acquired\": %s, \"owner\": %d, \"readier\": %d"
                ", \"release_ns\": %" PRIu64 ", \"longest_holder\": %d"
                ", \"longest_hold_ns\": %" PRIu64 ",\n     %s",
                i ? "," : "", w->tid, w->lock, w->begin, w->end, w->end - w->begin,
                w->ended ? "true" : "false", w->acquired ? "true" : "false", w->owner,
                w->readier, w->release_ts, w->longest_holder, w->longest_hold,
                a->sched ? "" : "\"stack\": ");
        if (a->sched && w->woken)   /* the kernel's view (--sched) */
            fprintf(out, "\"woken_by\": %d, \"woken_ns\": %" PRIu64 ",\n     \"stack\": ",
                    w->woken_by, w->woken_ts);
        else if (a->sched)
            fputs("\"woken_by\": null, \"woken_ns\": null,\n     \"stack\": ", out);
        stack(out, t, w->stack);
        fputs(",\n     \"release_stack\": ", out);
        stack(out, t, w->readier ? w->release_stack : 0);
        fputs(",\n     ", out);
        path(out, a, a->longest[i]);
        fputc('}', out);
    }
    fputs(n ? "\n  ]\n" : "]\n", out);
}

int lg_write_timeline_json(FILE *out, const lg_timeline *t, const lg_tl_analysis *a,
                           size_t max_waits)
{
    fprintf(out, "{\n  \"format\": \"lockgraph-timeline\", \"version\": %d, \"pid\": %d"
            ", \"events\": %zu, \"duration_ns\": %" PRIu64 ", \"closed\": %s"
            ", \"dropped\": %" PRIu64,
            LG_TL_JSON_VERSION, t->pid, a->nevents, a->end_ns, t->closed ? "true" : "false",
            t->dropped);
    if (t->counted)   /* acquisitions from counts, hold times from samples */
        fputs(", \"counted\": true", out);
    fputs(",\n  \"notes\": [", out);
    for (size_t i = 0; i < t->nnotes; i++) {
        fputs(i ? ", " : "", out);
        lg_json_str(out, t->notes[i]);
    }
    fputs("],\n", out);
    threads(out, t, a);
    locks(out, t, a);
    waits(out, t, a, max_waits);
    fputs("}\n", out);
    return ferror(out) ? -1 : 0;
}
