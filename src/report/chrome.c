/* chrome.c - `lockgraph report --format chrome`: Chrome trace-event JSON that Perfetto UI and
 * chrome://tracing open. Per thread: its waits ("wait <lock>") on the thread's own track, its
 * holds ("hold <lock>") on companion tracks, and a flow from each release to the wait it
 * ended. Complete (X) slices on one track must nest strictly, and holds need not (lock A,
 * lock B, unlock A): each thread's intervals are dealt onto lanes so that on every lane they
 * nest or follow each other. Lane k > 0 of thread T is the pseudo tid ((k << 22) | T) for
 * waits and (((256 + k) << 22) | T) for holds (kernel tids are below 2^22). Timestamps are
 * microseconds with nanosecond decimals, from the start of the recording.
 * Bounded by default, so a busy server's trace gives a file a browser opens: every wait (the
 * longest first when over the cap), the holds that made each (the holder's when it began,
 * the releaser's that ended it) and the wake-up flows; --all-holds adds every other hold;
 * otherData counts what was left out. The process is named after the program.
 * Not here: the text and JSON tables (text-timeline.c, json-timeline.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "timeline-report.h"

#define LANE_SHIFT 22
#define HOLD_LANES_BASE 256
#define MAX_LANES 255

typedef struct ival { uint64_t begin, end; size_t idx; int tid; } ival;

static int cmp_ival(const void *x, const void *y)
{
    const ival *a = x, *b = y;
    if (a->tid != b->tid)
        return (a->tid > b->tid) - (a->tid < b->tid);
    if (a->begin != b->begin)
        return (a->begin > b->begin) - (a->begin < b->begin);
    if (a->end != b->end)           /* the longer first, so the shorter can nest inside */
        return (a->end < b->end) - (a->end > b->end);
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Lanes: each a stack of open intervals' ends. */
typedef struct lane { uint64_t *ends; size_t n, cap; } lane;

/* Assign a lane to each interval (sorted by cmp_ival); lane[i] = -1 when none fits. */
static int deal(ival *v, size_t n, int *lanes)
{
    lane l[MAX_LANES];
    memset(l, 0, sizeof l);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || v[i].tid != v[i - 1].tid)
            for (int k = 0; k < MAX_LANES; k++)
                l[k].n = 0;
        lanes[v[i].idx] = -1;
        for (int k = 0; k < MAX_LANES; k++) {
            lane *ln = &l[k];
            while (ln->n && ln->ends[ln->n - 1] <= v[i].begin)
                ln->n--;
            if (ln->n && ln->ends[ln->n - 1] < v[i].end)
                continue;   /* would overlap without nesting */
            if (ln->n == ln->cap) {
                size_t cap = ln->cap ? ln->cap * 2 : 8;
                uint64_t *e = realloc(ln->ends, cap * sizeof *e);
                if (!e) {
                    rc = -1;
                    break;
                }
                ln->ends = e;
                ln->cap = cap;
            }
            ln->ends[ln->n++] = v[i].end;
            lanes[v[i].idx] = k;
            break;
        }
    }
    for (int k = 0; k < MAX_LANES; k++)
        free(l[k].ends);
    return rc;
}

static int lane_tid(int tid, int lane, int hold)
{
    if (!hold && lane == 0)
        return tid;
    return (int)(((unsigned)(lane + (hold ? HOLD_LANES_BASE : 0)) << LANE_SHIFT) |
                 ((unsigned)tid & ((1u << LANE_SHIFT) - 1)));
}


static void us(FILE *out, uint64_t ns)
{
    fprintf(out, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

static void thread_label(char *buf, size_t n, const lg_timeline *t, int tid, const char *what)
{
    const char *name = tl_thread_name(t, tid);
    snprintf(buf, n, "%s%s%d%s", name ? name : "", name ? " " : "thread ", tid, what);
}

static void meta(FILE *out, int pid, int tid, const char *label, long sort)
{
    fprintf(out, ",\n{\"ph\": \"M\", \"pid\": %d, \"tid\": %d, \"name\": \"thread_name\", "
            "\"args\": {\"name\": ", pid, tid);
    lg_json_str(out, label);
    fprintf(out, "}},\n{\"ph\": \"M\", \"pid\": %d, \"tid\": %d, \"name\": "
            "\"thread_sort_index\", \"args\": {\"sort_index\": %ld}}", pid, tid, sort);
}

static void slice(FILE *out, int pid, int tid, const char *prefix, const char *lock,
                  const char *cat, uint64_t begin, uint64_t end)
{
    fprintf(out, ",\n{\"ph\": \"X\", \"pid\": %d, \"tid\": %d, \"ts\": ", pid, tid);
    us(out, begin);
    fputs(", \"dur\": ", out);
    us(out, end - begin);
    fprintf(out, ", \"cat\": \"%s\", \"name\": ", cat);
    char name[300];
    snprintf(name, sizeof name, "%s %s", prefix, lock);
    lg_json_str(out, name);
}

/* The hold of `lock` by `tid` that ended at `ts` (holds sorted by tid, lock, end). */
typedef struct hkey { int tid; uint32_t lock; uint64_t end; size_t idx; } hkey;

static int cmp_hkey(const void *x, const void *y)
{
    const hkey *a = x, *b = y;
    if (a->tid != b->tid)
        return (a->tid > b->tid) - (a->tid < b->tid);
    if (a->lock != b->lock)
        return (a->lock > b->lock) - (a->lock < b->lock);
    return (a->end > b->end) - (a->end < b->end);
}

static size_t find_hold(const hkey *k, size_t n, int tid, uint32_t lock, uint64_t end)
{
    hkey want = {tid, lock, end, 0};
    const hkey *h = bsearch(&want, k, n, sizeof *k, cmp_hkey);
    return h ? h->idx : LG_TL_NONE;
}

/* The holds that made wait w: the holder's when it began, and the releaser's that ended it
 * (held before w began, or taken while w waited, and released when w was readied). */
static size_t holds_of_wait(const lg_tl_analysis *a, const lg_tl_wait *w, const hkey *hk,
                            size_t nk, unsigned char *keep)
{
    size_t added = 0;
    if (w->readier) {
        size_t h = find_hold(hk, nk, w->readier, w->lock, w->release_ts);
        if (h != LG_TL_NONE && !keep[h]) {
            keep[h] = 1;
            added++;
        }
    }
    if (!w->owner)
        return added;
    /* holds are by begin time: the owner's hold of the lock that began last before w */
    size_t lo = 0, hi = a->nholds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->holds[mid].begin <= w->begin)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0;) {
        const lg_tl_hold *h = &a->holds[i];
        if (h->tid == w->owner && h->lock == w->lock) {
            /* a look back over every hold would have stopped at the one begun after this
             * (when only the holds that explain waits are kept, it may not be here) */
            uint64_t next = a->next_begin ? a->next_begin[i] : UINT64_MAX;
            if (next <= w->begin && w->begin - next > 10ull * 1000000000ull)
                return added;
            if ((!h->ended || h->end >= w->begin) && !keep[i]) {
                keep[i] = 1;
                added++;
            }
            return added;
        }
        if (w->begin - h->begin > 10ull * 1000000000ull)
            return added;   /* bounded look back: 10 s of holds */
    }
    return added;
}

static int cmp_wait_len(const void *x, const void *y)
{
    const ival *p = x, *q = y;
    uint64_t lp = p->end - p->begin, lq = q->end - q->begin;
    if (lp != lq)
        return lp < lq ? 1 : -1;
    return (p->idx > q->idx) - (p->idx < q->idx);
}

int lg_write_chrome(FILE *out, const lg_timeline *t, const lg_tl_analysis *a,
                    lg_tl_chrome_options *opt)
{
    lg_tl_chrome_options dflt = {0};
    if (!opt)
        opt = &dflt;
    size_t cap = opt->max_slices ? opt->max_slices : LG_TL_CHROME_MAX_SLICES;
    opt->omitted_waits = opt->omitted_holds = 0;
    size_t nw = a->nwaits, nh = a->nholds;
    ival *wv = malloc((nw ? nw : 1) * sizeof *wv), *hv = malloc((nh ? nh : 1) * sizeof *hv);
    int *wl = malloc((nw ? nw : 1) * sizeof *wl), *hl = malloc((nh ? nh : 1) * sizeof *hl);
    hkey *hk = malloc((nh ? nh : 1) * sizeof *hk);
    unsigned char *keepw = NULL, *keeph = NULL;
    int rc = -1;
    if (!wv || !hv || !wl || !hl || !hk)
        goto out;
    keepw = calloc(nw ? nw : 1, 1);
    keeph = calloc(nh ? nh : 1, 1);
    if (!keepw || !keeph)
        goto out;
    size_t nk = 0;
    for (size_t i = 0; i < nh; i++)
        if (a->holds[i].ended)
            hk[nk++] = (hkey){a->holds[i].tid, a->holds[i].lock, a->holds[i].end, i};
    qsort(hk, nk, sizeof *hk, cmp_hkey);
    /* What goes in: the longest waits first, each with the holds that made it, until the
     * cap; then, with --all-holds, the other holds while room is left. */
    for (size_t i = 0; i < nw; i++)
        wv[i] = (ival){a->waits[i].begin, a->waits[i].end, i, a->waits[i].tid};
    qsort(wv, nw, sizeof *wv, cmp_wait_len);
    size_t used_slices = 0;
    for (size_t k = 0; k < nw; k++) {
        if (used_slices >= cap) {
            opt->omitted_waits++;
            continue;
        }
        keepw[wv[k].idx] = 1;
        used_slices += 1 + holds_of_wait(a, &a->waits[wv[k].idx], hk, nk, keeph);
    }
    for (size_t i = 0; i < nh; i++) {
        if (keeph[i])
            continue;
        if (opt->all_holds && used_slices < cap) {
            keeph[i] = 1;
            used_slices++;
        } else {
            opt->omitted_holds++;
        }
    }
    /* holds the analysis did not keep (it keeps the first cap and those that explain waits,
     * so none of them would have been exported) */
    if (a->nholds_seen > nh)
        opt->omitted_holds += a->nholds_seen - nh;
    /* Lanes for what goes in; -1 (not shown) for the rest. */
    size_t nwk = 0, nhk = 0;
    for (size_t i = 0; i < nw; i++) {
        wl[i] = -1;
        if (keepw[i])
            wv[nwk++] = (ival){a->waits[i].begin, a->waits[i].end, i, a->waits[i].tid};
    }
    for (size_t i = 0; i < nh; i++) {
        hl[i] = -1;
        if (keeph[i])
            hv[nhk++] = (ival){a->holds[i].begin, a->holds[i].end, i, a->holds[i].tid};
    }
    qsort(wv, nwk, sizeof *wv, cmp_ival);
    qsort(hv, nhk, sizeof *hv, cmp_ival);
    if (deal(wv, nwk, wl) < 0 || deal(hv, nhk, hl) < 0)
        goto out;

    int pid = t->pid;
    /* The process is named after the program (the trace's first module is the executable). */
    const char *prog = t->nmodules && t->modules[0].path ? t->modules[0].path : NULL;
    const char *base = prog ? strrchr(prog, '/') : NULL;
    char pname[300];
    snprintf(pname, sizeof pname, "%s (pid %d)", base ? base + 1 : prog ? prog : "program", pid);
    fprintf(out, "{\"displayTimeUnit\": \"ns\",\n\"otherData\": {\"generator\": "
            "\"lockgraph report\", \"pid\": %d, \"omitted_waits\": %zu, "
            "\"omitted_holds\": %zu, \"note\": ", pid, opt->omitted_waits, opt->omitted_holds);
    lg_json_str(out, opt->omitted_waits || opt->omitted_holds
                         ? (opt->all_holds ? "more slices than the cap: the longest waits and their holds are kept"
                                           : "the waits, the holds that made them and the wake-ups; every hold with --all-holds")
                         : "everything recorded is here");
    fprintf(out, "},\n\"traceEvents\": [\n"
            "{\"ph\": \"M\", \"pid\": %d, \"tid\": 0, \"name\": \"process_name\", "
            "\"args\": {\"name\": ", pid);
    lg_json_str(out, pname);
    fputs("}}", out);

    /* Track names: every thread, and each extra lane that is used (a bit per lane). */
    uint64_t *used = calloc((a->nthreads ? a->nthreads : 1) * 8, sizeof *used);
    if (!used)
        goto out;
    for (size_t i = 0; i < nw; i++) {
        const lg_tl_thread_stats *ts = lg_tl_thread_stats_of(a, a->waits[i].tid);
        if (ts && wl[i] > 0)
            used[(size_t)(ts - a->threads) * 8 + (size_t)wl[i] / 64] |= 1ull << (wl[i] % 64);
    }
    for (size_t i = 0; i < nh; i++) {
        const lg_tl_thread_stats *ts = lg_tl_thread_stats_of(a, a->holds[i].tid);
        if (ts && hl[i] >= 0)
            used[(size_t)(ts - a->threads) * 8 + 4 + (size_t)hl[i] / 64] |= 1ull << (hl[i] % 64);
    }
    for (size_t i = 0; i < a->nthreads; i++) {
        int tid = a->threads[i].tid;
        char label[300], what[32];
        thread_label(label, sizeof label, t, tid, "");
        meta(out, pid, tid, label, (long)i * 1024);
        for (int k = 0; k < MAX_LANES; k++) {
            if (k > 0 && used[i * 8 + (size_t)k / 64] & (1ull << (k % 64))) {
                snprintf(what, sizeof what, " waits (%d)", k + 1);
                thread_label(label, sizeof label, t, tid, what);
                meta(out, pid, lane_tid(tid, k, 0), label, (long)i * 1024 + k);
            }
            if (used[i * 8 + 4 + (size_t)k / 64] & (1ull << (k % 64))) {
                snprintf(what, sizeof what, " holds%s", k ? " (more)" : "");
                thread_label(label, sizeof label, t, tid, what);
                meta(out, pid, lane_tid(tid, k, 1), label, (long)i * 1024 + 512 + k);
            }
        }
    }
    free(used);

    char lock[256];
    for (size_t i = 0; i < nh; i++) {
        const lg_tl_hold *h = &a->holds[i];
        if (hl[i] < 0)
            continue;
        tl_lock_label(lock, sizeof lock, t, h->lock);
        slice(out, pid, lane_tid(h->tid, hl[i], 1), "hold", lock, "lock-hold", h->begin, h->end);
        fprintf(out, ", \"args\": {\"mode\": \"%s\", \"released\": %s}}",
                lg_mode_name((lg_mode)h->mode), h->ended ? "true" : "false");
    }
    for (size_t i = 0; i < nw; i++) {
        const lg_tl_wait *w = &a->waits[i];
        if (wl[i] < 0)
            continue;
        tl_lock_label(lock, sizeof lock, t, w->lock);
        int cond = w->kind == LG_TL_WAIT_COND;
        slice(out, pid, lane_tid(w->tid, wl[i], 0), cond ? "cond wait" : "wait", lock,
              cond ? "cond-wait" : "lock-wait", w->begin, w->end);
        fprintf(out, ", \"args\": {\"holder_at_start\": %d, \"readied_by\": %d, "
                "\"ended\": %s}}", w->owner, w->readier, w->ended ? "true" : "false");
    }
    /* Flows: release (inside the releasing hold) -> end of the wait it ended (inside it). */
    for (size_t i = 0; i < nw; i++) {
        const lg_tl_wait *w = &a->waits[i];
        if (wl[i] < 0 || !w->readier || !w->acquired)
            continue;
        size_t h = find_hold(hk, nk, w->readier, w->lock, w->release_ts);
        if (h == LG_TL_NONE || hl[h] < 0)
            continue;
        const lg_tl_hold *hd = &a->holds[h];
        uint64_t s_ts = hd->end - (hd->end > hd->begin ? 1 : 0);
        uint64_t f_ts = w->end - (w->end > w->begin ? 1 : 0);
        if (f_ts < s_ts)
            continue;   /* clock skew between cores: a flow must not go back in time */
        fprintf(out, ",\n{\"ph\": \"s\", \"id\": %zu, \"cat\": \"readied\", \"name\": "
                "\"readied\", \"pid\": %d, \"tid\": %d, \"ts\": ", i + 1, pid,
                lane_tid(hd->tid, hl[h], 1));
        us(out, s_ts);
        fprintf(out, "},\n{\"ph\": \"f\", \"bp\": \"e\", \"id\": %zu, \"cat\": \"readied\", "
                "\"name\": \"readied\", \"pid\": %d, \"tid\": %d, \"ts\": ", i + 1, pid,
                lane_tid(w->tid, wl[i], 0));
        us(out, f_ts);
        fputc('}', out);
    }
    fputs("\n]}\n", out);
    rc = ferror(out) ? -1 : 0;
out:
    free(keepw);
    free(keeph);
    free(wv);
    free(hv);
    free(wl);
    free(hl);
    free(hk);
    return rc;
}
