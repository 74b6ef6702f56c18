/* json-read.c - a report back from its JSON (docs/report-format.md), for merging the reports
 * the processes of one run wrote (model.h: lg_report_read_json).
 *
 * What the model holds is read (kind, flags, summary, fix, locks, threads, edges with their
 * stacks, notes); keys this reader does not know are skipped, so a newer writer's output
 * still reads. Each finding's exact text span is returned too, so a merged JSON can carry the
 * findings as written, fields unknown here included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/json.h"
#include "../util/xalloc.h"
#include "model.h"

static int read_stack(const lg_json *arr, lg_stack *s)
{
    if (!arr || arr->type != LG_JSON_ARRAY)
        return 0;
    for (size_t i = 0; i < arr->n; i++) {
        const lg_json *f = arr->items[i];
        lg_frame *fr = lg_stack_push(s);
        if (!fr)
            return -1;
        const char *addr = lg_json_str_of(f, "address"), *off = lg_json_str_of(f, "offset");
        if (lg_frame_set(fr, addr ? strtoull(addr, NULL, 16) : 0, lg_json_str_of(f, "module"),
                         off ? strtoull(off, NULL, 16) : 0, lg_json_str_of(f, "function"), 0,
                         lg_json_str_of(f, "file"), (int)lg_json_num_of(f, "line", 0)) < 0)
            return -1;
        fr->inlined = lg_json_bool_of(f, "inlined");
        fr->shared = lg_json_bool_of(f, "shared");
    }
    return 0;
}

static int mode_of(const char *s)
{
    return s && strcmp(s, lg_mode_name(LG_MODE_SHARED)) == 0 ? LG_MODE_SHARED : LG_MODE_EXCLUSIVE;
}

static int lock_index(const lg_json *locks, const char *id)
{
    if (!id || !locks || locks->type != LG_JSON_ARRAY)
        return -1;
    for (size_t i = 0; i < locks->n; i++) {
        const char *lid = lg_json_str_of(locks->items[i], "id");
        if (lid && strcmp(lid, id) == 0)
            return (int)i;
    }
    return -1;
}

static int read_thread(const lg_json *t, lg_thread *out)
{
    if (lg_thread_set(out, lg_json_str_of(t, "state"), lg_json_str_of(t, "wait")) < 0)
        return -1;
    out->blocked_ms = (int64_t)lg_json_num_of(t, "blocked_ms", 0);
    if (read_stack(lg_json_get(t, "created_stack"), &out->created) < 0)
        return -1;
    return read_stack(lg_json_get(t, "stack"), &out->stack);
}

static const struct { unsigned bit; const char *name; } edge_flags[] = {
    {LG_EDGE_TRYLOCK, "trylock"}, {LG_EDGE_TIMED, "timed"},
    {LG_EDGE_COND, "cond-reacquire"}, {LG_EDGE_WAITING, "waiting"},
};

static int read_rest(const lg_json *j, lg_finding *f, const lg_json *locks, const int *map);

static int read_finding(const lg_json *j, lg_report *r)
{
    const char *kind = lg_json_str_of(j, "kind");
    int k = kind ? lg_kind_from_name(kind) : -1;
    if (k < 0)
        k = LG_KIND_NOTE;   /* a kind of a newer writer: kept, as a note, with its summary */
    lg_finding *f = lg_report_add_finding(r, (lg_kind)k);
    if (!f)
        return -1;
    f->flags = (lg_json_bool_of(j, "same_thread") ? LG_FINDING_SAME_THREAD : 0)
               | (lg_json_bool_of(j, "timed") ? LG_FINDING_TIMED : 0)
               | (lg_json_bool_of(j, "self") ? LG_FINDING_SELF : 0);
    if (k == LG_KIND_MISUSE) {
        int m = lg_misuse_from_name(lg_json_str_of(j, "misuse"));
        f->misuse = m < 0 ? LG_MISUSE_NONE : (lg_misuse)m;   /* a newer writer's: unnamed */
        const char *refused = lg_json_str_of(j, "refused");
        if (refused && lg_finding_set_refused(f, refused) < 0)
            return -1;
    }
    const char *s = lg_json_str_of(j, "summary"), *fix = lg_json_str_of(j, "fix");
    if ((s && lg_finding_set_summary(f, "%s", s) < 0) || (fix && lg_finding_set_fix(f, "%s", fix) < 0))
        return -1;
    const lg_json *locks = lg_json_get(j, "locks");
    size_t nl = locks && locks->type == LG_JSON_ARRAY ? locks->n : 0;
    int *map = calloc(nl ? nl : 1, sizeof *map);   /* JSON position -> model index */
    if (!map)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nl; i++) {
        const lg_json *l = locks->items[i];
        const char *addr = lg_json_str_of(l, "address"), *type = lg_json_str_of(l, "type");
        int t = type ? lg_lock_type_from_name(type) : -1;
        map[i] = lg_finding_add_lock(f, addr ? strtoull(addr, NULL, 16) : 0,
                                     t < 0 ? LG_LOCK_FUTEX : (lg_lock_type)t,
                                     lg_json_str_of(l, "name"), lg_json_str_of(l, "attrs"));
        if (map[i] < 0) {
            rc = -1;
            break;
        }
        f->locks[map[i]].owner = (int)lg_json_num_of(l, "owner", 0);
        f->locks[map[i]].readers = (int)lg_json_num_of(l, "readers", 0);
    }
    if (rc == 0)
        rc = read_rest(j, f, locks, map);
    free(map);
    return rc;
}

/* Threads, edges and notes of a finding whose locks are read (map: JSON position -> index). */
static int read_rest(const lg_json *j, lg_finding *f, const lg_json *locks, const int *map)
{
    const lg_json *threads = lg_json_get(j, "threads");
    for (size_t i = 0; threads && threads->type == LG_JSON_ARRAY && i < threads->n; i++) {
        const lg_json *t = threads->items[i];
        lg_thread *th = lg_finding_add_thread(f, (int)lg_json_num_of(t, "tid", 0),
                                              lg_json_str_of(t, "name"));
        if (!th || read_thread(t, th) < 0)
            return -1;
    }
    const lg_json *edges = lg_json_get(j, "edges");
    for (size_t i = 0; edges && edges->type == LG_JSON_ARRAY && i < edges->n; i++) {
        const lg_json *e = edges->items[i];
        int acq = lock_index(locks, lg_json_str_of(e, "acquires"));
        int holds = lock_index(locks, lg_json_str_of(e, "holds"));
        if (acq < 0)
            continue;   /* an edge to no lock of this finding: nothing to say about it */
        acq = map[acq];
        holds = holds < 0 ? -1 : map[holds];
        unsigned flags = 0;
        const lg_json *fl = lg_json_get(e, "flags");
        for (size_t x = 0; fl && fl->type == LG_JSON_ARRAY && x < fl->n; x++)
            for (size_t b = 0; b < sizeof edge_flags / sizeof *edge_flags; b++)
                if (fl->items[x]->type == LG_JSON_STRING
                    && strcmp(fl->items[x]->string, edge_flags[b].name) == 0)
                    flags |= edge_flags[b].bit;
        lg_edge *ed = lg_finding_add_edge(f, (int)lg_json_num_of(e, "thread", 0), holds,
                                          (lg_mode)mode_of(lg_json_str_of(e, "holds_mode")), acq,
                                          (lg_mode)mode_of(lg_json_str_of(e, "acquires_mode")),
                                          flags);
        if (!ed || read_stack(lg_json_get(e, "stack"), &ed->stack) < 0
            || read_stack(lg_json_get(e, "holds_stack"), &ed->holds_stack) < 0)
            return -1;
    }
    const lg_json *sites = lg_json_get(j, "sites");
    for (size_t i = 0; sites && sites->type == LG_JSON_ARRAY && i < sites->n; i++) {
        const lg_json *s = sites->items[i];
        int role = lg_site_role_from_name(lg_json_str_of(s, "role"));
        if (role < 0)
            continue;   /* a role of a newer writer: not one this model can say */
        int li = lock_index(locks, lg_json_str_of(s, "lock"));
        lg_site *st = lg_finding_add_site(f, (lg_site_role)role, (int)lg_json_num_of(s, "thread", 0),
                                          li < 0 ? -1 : map[li],
                                          (lg_mode)mode_of(lg_json_str_of(s, "mode")));
        if (!st || read_stack(lg_json_get(s, "stack"), &st->stack) < 0)
            return -1;
    }
    const lg_json *notes = lg_json_get(j, "notes");
    for (size_t i = 0; notes && notes->type == LG_JSON_ARRAY && i < notes->n; i++)
        if (notes->items[i]->type == LG_JSON_STRING
            && lg_finding_add_note(f, "%s", notes->items[i]->string) < 0)
            return -1;
    /* Other lock sets at the same code path; "lock_sets" counts the kept and the dropped. */
    const lg_json *sets = lg_json_get(j, "other_lock_sets");
    for (size_t i = 0; sets && sets->type == LG_JSON_ARRAY && i < sets->n; i++) {
        const lg_json *set = sets->items[i];
        if (set->type != LG_JSON_ARRAY)
            continue;
        const char **labels = calloc(set->n ? set->n : 1, sizeof *labels);
        if (!labels)
            return -1;
        size_t n = 0;
        for (size_t k = 0; k < set->n; k++)
            if (set->items[k]->type == LG_JSON_STRING)
                labels[n++] = set->items[k]->string;
        int rc = lg_finding_add_lockset(f, labels, n);
        free(labels);
        if (rc < 0)
            return -1;
    }
    double total = lg_json_num_of(j, "lock_sets", 0);
    if (total >= 1 && total <= 1e15 && (size_t)total - 1 > f->sets_seen)
        f->sets_seen = (size_t)total - 1;
    return 0;
}

int lg_report_read_json(const char *text, size_t len, lg_report *r, size_t (**spans)[2],
                        char *err, size_t errlen)
{
    lg_json *doc = lg_json_parse(text, len, err, errlen);
    if (!doc)
        return -1;
    const char *tool = lg_json_str_of(doc, "tool");
    const lg_json *findings = lg_json_get(doc, "findings");
    if (!tool || strcmp(tool, "lockgraph") != 0 || !findings || findings->type != LG_JSON_ARRAY) {
        snprintf(err, errlen, "not a lockgraph report");
        lg_json_free(doc);
        return -1;
    }
    size_t(*sp)[2] = spans ? calloc(findings->n ? findings->n : 1, sizeof *sp) : NULL;
    int rc = spans && !sp ? -1 : 0;
    r->pid = (int)lg_json_num_of(doc, "pid", 0);
    const lg_json *cmd = lg_json_get(doc, "command");
    if (rc == 0 && cmd && cmd->type == LG_JSON_ARRAY && cmd->n) {
        char **argv = calloc(cmd->n, sizeof *argv);
        for (size_t i = 0; argv && i < cmd->n; i++)
            argv[i] = cmd->items[i]->type == LG_JSON_STRING ? cmd->items[i]->string : "";
        rc = argv ? lg_report_set_command(r, (int)cmd->n, argv) : -1;
        free(argv);
    }
    for (size_t i = 0; rc == 0 && i < findings->n; i++) {
        rc = read_finding(findings->items[i], r);
        if (sp) {
            sp[i][0] = findings->items[i]->start;
            sp[i][1] = findings->items[i]->end;
        }
    }
    const lg_json *checked = lg_json_get(doc, "checked");
    if (rc == 0 && checked && checked->type == LG_JSON_BOOL && !checked->boolean) {
        const char *why = lg_json_str_of(doc, "unchecked_reason");
        rc = lg_report_set_unchecked(r, "%s", why ? why : "nothing was checked");
    }
    const lg_json *notes = lg_json_get(doc, "notes");
    for (size_t i = 0; rc == 0 && notes && notes->type == LG_JSON_ARRAY && i < notes->n; i++)
        if (notes->items[i]->type == LG_JSON_STRING)
            rc = lg_report_add_note(r, "%s", notes->items[i]->string);
    lg_json_free(doc);
    if (rc < 0) {
        free(sp);
        snprintf(err, errlen, "out of memory, or a report this reader does not understand");
        return -1;
    }
    if (spans)
        *spans = sp;
    return 0;
}
