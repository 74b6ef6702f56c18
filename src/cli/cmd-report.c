/* cmd-report.c - `lockgraph report FILE`: read a trace written by `lockgraph record`, analyse
 * the timeline, and print it as tables (text, JSON) or as a Chrome trace for Perfetto UI.
 *
 * Exit status: 0 the whole trace was read; 1 it could not be read at all, or it is damaged
 * or truncated (then the tables of what was readable are printed after a warning line);
 * 2 usage. A timeline is not a defect finding, so never 66.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../analysis/timeline.h"
#include "../report/timeline-report.h"
#include "../symbolize/symbolize.h"
#include "../trace/reader.h"
#include "../util/safefile.h"
#include "cli.h"

enum { OPT_FORMAT, OPT_OUTPUT, OPT_MAX_WAITS, OPT_MAX_FRAMES, OPT_NO_SYMBOLS, OPT_ALL,
       OPT_ALL_HOLDS };
enum { FMT_TEXT, FMT_JSON, FMT_CHROME };

static const lg_opt opts[] = {
    {"format", 'f', "FORMAT", "text (default), json (the tables), or chrome (trace-event JSON "
     "for Perfetto UI and chrome://tracing)", NULL, OPT_FORMAT},
    {"output", 'o', "FILE", "write to FILE instead of standard output (a new file, 0644 minus the umask, never through a symlink)", NULL, OPT_OUTPUT},
    {"max-waits", 0, "N", "longest waits listed (default 10; 0 = all)", NULL,
     OPT_MAX_WAITS},
    {"max-frames", 0, "N", "frames printed per stack (default: all)", NULL, OPT_MAX_FRAMES},
    {"no-symbols", 0, NULL, "print stacks as addresses, without reading the program's ELF files",
     NULL, OPT_NO_SYMBOLS},
    {"all", 'a', NULL, "every row of the threads and locks tables (default: the 20 with the most "
     "waiting)", NULL, OPT_ALL},
    {"all-holds", 0, NULL, "chrome: every hold of every lock (default: the waits, the holds that "
     "made them and the wake-ups, at most " "200,000 slices)", NULL, OPT_ALL_HOLDS},
    {0},
};

typedef struct report_args {
    int format;
    const char *output;
    unsigned long max_waits, max_frames;
    int max_waits_set;
    int no_symbols;
    bool all, all_holds;
} report_args;

static int on_opt(void *ctx, const lg_opt *o, const char *v)
{
    report_args *r = ctx;
    switch (o->id) {
    case OPT_FORMAT:
        if (strcmp(v, "text") == 0)
            r->format = FMT_TEXT;
        else if (strcmp(v, "json") == 0)
            r->format = FMT_JSON;
        else if (strcmp(v, "chrome") == 0)
            r->format = FMT_CHROME;
        else {
            cli_usage_error(&cmd_report, "invalid value '%s' for --format: expected text, json "
                            "or chrome", v);
            return -1;
        }
        return 0;
    case OPT_OUTPUT:
        r->output = v;
        return 0;
    case OPT_MAX_WAITS:
        r->max_waits_set = 1;
        return cli_parse_uint(&cmd_report, o, v, 1000000, &r->max_waits);
    case OPT_MAX_FRAMES:
        return cli_parse_uint(&cmd_report, o, v, 1000, &r->max_frames);
    case OPT_NO_SYMBOLS:
        r->no_symbols = 1;
        return 0;
    case OPT_ALL:
        r->all = true;
        return 0;
    case OPT_ALL_HOLDS:
        r->all_holds = true;
        return 0;
    }
    return 0;
}

/* Where each unnamed lock was first taken, as the events stream by: the first event of it
 * (in time order) that has a stack. Locks by their index in t->locks (indexed). */
typedef struct first_sites {
    uint32_t *site;            /* per lock index: a stack id, 0 none yet */
    uint32_t *ix; uint32_t base; size_t span;   /* lock id - base -> index + 1, when dense */
} first_sites;

static int sites_init(first_sites *f, const lg_timeline *t)
{
    memset(f, 0, sizeof *f);
    size_t n = t->nlocks;
    if (!(f->site = calloc(n ? n : 1, sizeof *f->site)))
        return -1;
    if (n && n < UINT32_MAX) {
        uint64_t span = (uint64_t)t->locks[n - 1].id - t->locks[0].id + 1;
        if (span <= 4 * (uint64_t)n + 4096 && (f->ix = calloc(span, sizeof *f->ix))) {
            f->base = t->locks[0].id;
            f->span = span;
            for (size_t i = 0; i < n; i++)
                f->ix[t->locks[i].id - f->base] = (uint32_t)i + 1;
        }
    }
    return 0;
}

static void sites_event(first_sites *f, const lg_timeline *t, const lg_tl_event *e)
{
    if (!e->stack || !f->site)
        return;
    const lg_tl_lock *l;
    if (f->ix) {
        uint64_t k = (uint64_t)e->lock - f->base;
        l = e->lock >= f->base && k < f->span && f->ix[k] ? &t->locks[f->ix[k] - 1] : NULL;
    } else {
        l = lg_timeline_lock(t, e->lock);
    }
    if (l && !l->name && !f->site[l - t->locks])
        f->site[l - t->locks] = e->stack;
}

static void sites_free(first_sites *f)
{
    free(f->site);
    free(f->ix);
    memset(f, 0, sizeof *f);
}

/* A lock the trace has no name for (a heap lock; a global of a stripped program is named
 * module+offset by the runtime already) is named by the call site that first took it: its
 * first event's stack (from `first`), else (a counted trace, where uncontended acquisitions
 * have no event) its most frequent call site's. One symbolized frame per such lock. */
static void name_locks(lg_timeline *t, lg_symbolizer *s, const first_sites *first)
{
    size_t n = t->nlocks;
    uint32_t *site = calloc(n ? n : 1, sizeof *site);
    uint64_t *most = calloc(n ? n : 1, sizeof *most);
    if (!site || !most) {
        free(site);
        free(most);
        return;
    }
    if (first->site)
        memcpy(site, first->site, n * sizeof *site);
    for (size_t i = 0; i < t->ncounts; i++) {
        const lg_tl_count *c = &t->counts[i];
        const lg_tl_lock *l = c->stack ? lg_timeline_lock(t, c->lock) : NULL;
        size_t k = l ? (size_t)(l - t->locks) : 0;
        if (l && !l->name && (!site[k] || most[k]) && c->acquisitions > most[k]) {
            site[k] = c->stack;
            most[k] = c->acquisitions;
        }
    }
    for (size_t k = 0; k < n; k++) {
        const lg_tl_stack *st = site[k] ? lg_timeline_stack(t, site[k]) : NULL;
        if (!st || !st->n)
            continue;
        lg_stack one = {0};
        lg_symbolize(s, st->pcs, 1, false, &one);
        const lg_frame *f = one.n ? &one.frames[one.n - 1] : NULL;   /* the physical frame */
        char name[512];
        const char *what = t->locks[k].type == LG_LOCK_CONDVAR ? "used" : "taken";
        if (f && f->function && f->file)
            snprintf(name, sizeof name, "heap, first %s in %s (%s:%d)", what, f->function,
                     strrchr(f->file, '/') ? strrchr(f->file, '/') + 1 : f->file, f->line);
        else if (f && f->function)
            snprintf(name, sizeof name, "heap, first %s in %s", what, f->function);
        else if (f && f->module)
            snprintf(name, sizeof name, "heap, first %s at %s+0x%" PRIx64, what,
                     strrchr(f->module, '/') ? strrchr(f->module, '/') + 1 : f->module,
                     f->module_offset);
        else
            snprintf(name, sizeof name, "heap, first %s at 0x%" PRIx64, what, st->pcs[0]);
        lg_stack_free(&one);
        char *copy = strdup(name);
        if (copy) {
            free(t->locks[k].name);
            t->locks[k].name = copy;
        }
    }
    free(site);
    free(most);
}

/* Symbolize the stacks the chosen waits print, from the trace's module map, and name the
 * locks that have no name. */
static void symbolize(lg_timeline *t, const lg_tl_analysis *a, size_t nwaits, bool stacks,
                      const first_sites *first)
{
    lg_sym_module *mods = calloc(t->nmodules ? t->nmodules : 1, sizeof *mods);
    if (!mods)
        return;
    for (size_t i = 0; i < t->nmodules; i++)
        mods[i] = (lg_sym_module){t->modules[i].path, t->modules[i].bias,
                                  t->modules[i].build_id, t->modules[i].build_id_len};
    char err[256];
    size_t skipped = 0;
    lg_symbolizer *s = lg_symbolizer_open_modules(mods, t->nmodules, &skipped, err, sizeof err);
    free(mods);
    if (!s)
        return;
    if (skipped)
        lg_timeline_add_note(t, "%zu of the recorded program's modules could not be read or "
                             "changed since: their frames show as addresses", skipped);
    name_locks(t, s, first);
    for (size_t i = 0; stacks && i < nwaits && i < a->nlongest; i++) {
        const lg_tl_wait *w = &a->waits[a->longest[i]];
        uint32_t ids[2] = {w->stack, w->readier ? w->release_stack : 0};
        for (int k = 0; k < 2; k++) {
            lg_tl_stack *st = (lg_tl_stack *)lg_timeline_stack(t, ids[k]);
            if (st && st->n && !st->sym.n)
                lg_symbolize(s, st->pcs, st->n, false, &st->sym);
        }
    }
    lg_symbolizer_close(s);
}

/* Operands and options mix ("report FILE -f json"): split them before parsing. */
static int report_main(int argc, char **argv)
{
    char **opts_argv = calloc((size_t)argc + 1, sizeof *opts_argv);
    if (!opts_argv)
        return cli_error(&cmd_report, "out of memory");
    int n = 0;
    const char *file = NULL;
    int nfiles = 0;
    opts_argv[n++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int takes_value = 0;
        if (a[0] == '-' && a[1]) {
            for (const lg_opt *o = opts; o->name; o++)
                if (o->arg && ((a[1] == '-' && strcmp(a + 2, o->name) == 0) ||
                               (a[1] == o->short_name && a[2] == '\0')))
                    takes_value = 1;
            opts_argv[n++] = argv[i];
            if (takes_value && i + 1 < argc)
                opts_argv[n++] = argv[++i];
        } else {
            file = a;
            nfiles++;
        }
    }
    report_args r = {.format = FMT_TEXT};
    int status = 0;
    int rc = cli_parse(&cmd_report, n, opts_argv, 0, on_opt, &r, &status);
    free(opts_argv);
    if (rc < 0)
        return status;
    if (nfiles == 0)
        return cli_usage_error(&cmd_report, "expected a trace file (see 'lockgraph report --help')");
    if (nfiles > 1)
        return cli_usage_error(&cmd_report, "expected one trace file, got %d", nfiles);

    lg_timeline t;
    lg_timeline_init(&t);
    lg_trace_status st;
    lg_trace_stream *ts = NULL;
    int read = lg_trace_stream_open(file, &t, &st, &ts);
    if (read < 0) {
        lg_timeline_free(&t);
        if (strncmp(st.error, "cannot ", 7) == 0)
            return cli_error(&cmd_report, "%s", st.error);
        return cli_error(&cmd_report, "cannot read trace file '%s': %s", file, st.error);
    }
    if (read > 0)
        fprintf(stderr, "lockgraph report: warning: trace file '%s' is damaged after %zu events "
                "(at byte %llu of %llu): %s; reporting what was readable\n", file, st.events,
                (unsigned long long)st.offset, (unsigned long long)st.size, st.error);

    /* The events stream from the reader into the analysis: never all in memory. Only the
     * holds the writers read are kept (the Chrome export's cap of first holds included). */
    lg_tl_analysis a;
    first_sites first = {0};
    const int *tids;
    const uint32_t *lids;
    size_t ntids, nlids;
    lg_trace_stream_ids(ts, &tids, &ntids, &lids, &nlids);
    lg_tl_online_options oo = {.retain = true, .keep_first = LG_TL_CHROME_MAX_SLICES};
    lg_tl_online *on = lg_tl_online_begin(&t, tids, ntids, lids, nlids, &oo);
    int arc = on && (r.no_symbols || sites_init(&first, &t) == 0) ? 0 : -1;
    lg_tl_event ev;
    int nr = 0;
    while (arc == 0 && (nr = lg_trace_stream_next(ts, &ev)) > 0) {
        sites_event(&first, &t, &ev);
        arc = lg_tl_online_event(on, &ev);
    }
    if (nr < 0) {
        char why[256];
        snprintf(why, sizeof why, "%s", lg_trace_stream_error(ts));
        lg_trace_stream_close(ts);
        lg_tl_online_abort(on);
        sites_free(&first);
        lg_timeline_free(&t);
        return cli_error(&cmd_report, "cannot read trace file '%s': %s", file, why);
    }
    lg_trace_stream_close(ts);
    if (arc < 0 || lg_tl_online_finish(on, &a) < 0) {
        if (arc < 0)
            lg_tl_online_abort(on);
        sites_free(&first);
        lg_timeline_free(&t);
        return cli_error(&cmd_report, "out of memory while analysing '%s'", file);
    }
    size_t max_waits = r.max_waits_set ? r.max_waits : 10;
    size_t shown = r.format == FMT_JSON && r.max_waits_set && r.max_waits == 0 ? a.nlongest
                                                                               : max_waits;
    if (!r.no_symbols)
        symbolize(&t, &a, shown, r.format != FMT_CHROME, &first);
    sites_free(&first);

    FILE *out = stdout;
    if (r.output) {
        int fd, e = lg_safe_create(r.output, LG_SAFE_REPORT, &fd);
        if (!e && !(out = fdopen(fd, "w"))) {
            e = errno;
            close(fd);
        }
        if (e) {
            lg_tl_analysis_free(&a);
            lg_timeline_free(&t);
            return cli_error(&cmd_report, "cannot create '%s': %s", r.output,
                             lg_safe_strerror(e));
        }
    }
    int wrc;
    if (r.format == FMT_JSON) {
        wrc = lg_write_timeline_json(out, &t, &a, shown);
    } else if (r.format == FMT_CHROME) {
        lg_tl_chrome_options co = {.all_holds = r.all_holds};
        wrc = lg_write_chrome(out, &t, &a, &co);
        if (wrc == 0 && (co.omitted_waits || co.omitted_holds)) {
            /* only the parts left out: "0 waits and 56 holds" says nothing about waits */
            char w[48] = "", h[48] = "";
            if (co.omitted_waits)
                snprintf(w, sizeof w, "%zu wait%s", co.omitted_waits,
                         co.omitted_waits == 1 ? "" : "s");
            if (co.omitted_holds)
                snprintf(h, sizeof h, "%zu hold%s", co.omitted_holds,
                         co.omitted_holds == 1 ? "" : "s");
            fprintf(stderr, "lockgraph report: the Chrome trace leaves out %s%s%s (at most %d "
                    "slices%s); the tables count every one\n", w, w[0] && h[0] ? " and " : "",
                    h, LG_TL_CHROME_MAX_SLICES,
                    r.all_holds ? "" : "; only the holds that made a wait are exported without "
                    "--all-holds");
        }
    } else {
        lg_tl_text_options o = {.max_waits = max_waits ? max_waits : a.nlongest,
                                .max_frames = (int)r.max_frames, .show_modules = 1,
                                .all_rows = r.all};
        wrc = lg_write_timeline_text(out, &t, &a, &o);
    }
    if (out != stdout && fclose(out) != 0)
        wrc = -1;
    lg_tl_analysis_free(&a);
    lg_timeline_free(&t);
    if (wrc < 0)
        return cli_error(&cmd_report, "cannot write '%s': %s", r.output ? r.output : "stdout",
                         strerror(errno));
    return read > 0 ? LG_EXIT_ERROR : LG_EXIT_OK;
}

const lg_cmd cmd_report = {
    .name = "report", .fn = report_main,
    .summary = "show the wait timeline recorded by 'lockgraph record'",
    .usage = "report [options] FILE",
    .description =
        "Tables per thread (time waiting for locks and condition variables), per lock\n"
        "(acquisitions, contended acquisitions, waits, top holders) and the longest waits,\n"
        "each with the holder, the thread whose release ended it and both stacks, and the\n"
        "critical path of a convoy. --format chrome writes a timeline for Perfetto UI.\n"
        "A damaged or truncated trace gives a warning, the tables of what was readable, and\n"
        "exit status 1.",
    .opts = opts,
    .exit_status = "0 the whole trace was read; 1 an error, or a damaged or truncated "
                   "trace (what was readable is shown); 2 usage error.",
};
