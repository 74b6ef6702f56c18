/* json.c - the JSON writer: the stable, documented contract (docs/report-format.md).
 *
 * Key order is fixed so output is diffable and golden-testable. Adding keys is allowed;
 * renaming or removing one is a format change and needs a new "format" number.
 */
#include <string.h>

#include "report.h"


void lg_json_str(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':  fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void hex(FILE *out, uint64_t v)
{
    fprintf(out, "\"0x%llx\"", (unsigned long long)v);
}

static void strings(FILE *out, char *const *v, size_t n)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", out);
        lg_json_str(out, v[i]);
    }
    fputc(']', out);
}

static void stack(FILE *out, const lg_stack *s)
{
    fputc('[', out);
    for (size_t i = 0; i < s->n; i++) {
        const lg_frame *f = &s->frames[i];
        fputs(i ? ", " : "", out);
        fputs("{\"address\": ", out);
        hex(out, f->address);
        fputs(", \"module\": ", out);
        lg_json_str(out, f->module);
        fputs(", \"offset\": ", out);
        hex(out, f->module_offset);
        fputs(", \"function\": ", out);
        lg_json_str(out, f->function);
        fputs(", \"file\": ", out);
        lg_json_str(out, f->file);
        fputs(", \"line\": ", out);
        if (f->line > 0)
            fprintf(out, "%d", f->line);
        else
            fputs("null", out);
        if (f->inlined)
            fputs(", \"inlined\": true", out);
        if (f->shared)
            fputs(", \"shared\": true", out);
        fputc('}', out);
    }
    fputc(']', out);
}

/* Whole-process fields (attach/core), only when set, so other reports stay unchanged. */
static void lock_extra(FILE *out, const lg_lock *l)
{
    if (l->owner)
        fprintf(out, ", \"owner\": %d", l->owner);
    if (l->readers)
        fprintf(out, ", \"readers\": %d", l->readers);
    if (l->owner_pid)
        fprintf(out, ", \"owner_pid\": %d", l->owner_pid);
    if (l->lock_flags & LG_LOCK_F_OWNER_ELSEWHERE)
        fputs(", \"owner_elsewhere\": true", out);
    if (l->lock_flags & LG_LOCK_F_OWNER_EXITED)
        fputs(", \"owner_exited\": true", out);
    if (l->lock_flags & LG_LOCK_F_OWNER_FORKED)
        fputs(", \"owner_forked\": true", out);
    if (l->lock_flags & LG_LOCK_F_NO_OWNER)
        fputs(", \"no_owner\": true", out);
    if (l->lock_flags & LG_LOCK_F_UNDECODED)
        fputs(", \"undecoded\": true", out);
    if (l->lock_flags & LG_LOCK_F_OWNER_INFERRED)
        fputs(", \"owner_inferred\": true", out);
    if (l->lock_flags & LG_LOCK_F_OWNERS_FROM_RUNTIME)
        fputs(", \"owners_from_runtime\": true", out);
}

static void lock(FILE *out, const lg_lock *l)
{
    fprintf(out, "{\"id\": \"%s\", \"address\": ", l->id);
    hex(out, l->address);
    fputs(", \"type\": ", out);
    lg_json_str(out, lg_lock_type_name(l->type));
    fputs(", \"name\": ", out);
    lg_json_str(out, l->name);
    fputs(", \"attrs\": ", out);
    lg_json_str(out, l->attrs);
    lock_extra(out, l);
    fputc('}', out);
}

static void thread(FILE *out, const lg_report *json_report, const lg_thread *t,
                   const char *indent)
{
    fprintf(out, "%s{\"tid\": %d, \"name\": ", indent, t->tid);
    lg_json_str(out, t->name);
    if (t->pid)
        fprintf(out, ", \"pid\": %d", t->pid);
    if (t->state) {
        fputs(", \"state\": ", out);
        lg_json_str(out, t->state);
    }
    if (t->wait) {
        fputs(", \"wait\": ", out);
        lg_json_str(out, t->wait);
    }
    if (t->blocked_ms)
        fprintf(out, ", \"blocked_ms\": %lld", (long long)t->blocked_ms);
    if (t->wait_lock && json_report && (size_t)t->wait_lock <= json_report->nlocks) {
        fprintf(out, ", \"wait_lock\": \"%s\", \"wait_mode\": ",
                json_report->locks[t->wait_lock - 1].id);
        lg_json_str(out, lg_mode_name(t->wait_mode));
    }
    if (t->wait_frame)
        fprintf(out, ", \"wait_frame\": %d", t->wait_frame - 1);
    if (t->stack.n) {
        fputs(", \"stack\": ", out);
        stack(out, &t->stack);
    }
    if (t->created.n) {
        fputs(", \"created_stack\": ", out);
        stack(out, &t->created);
    }
    fputc('}', out);
}

static const struct { unsigned bit; const char *name; } edge_flags[] = {
    {LG_EDGE_TRYLOCK, "trylock"}, {LG_EDGE_TIMED, "timed"},
    {LG_EDGE_COND, "cond-reacquire"}, {LG_EDGE_WAITING, "waiting"},
};

static const struct { unsigned bit; const char *name; } finding_flags[] = {
    {LG_FINDING_SAME_THREAD, "same_thread"}, {LG_FINDING_TIMED, "timed"},
    {LG_FINDING_SELF, "self"},
};

static void edge(FILE *out, const lg_finding *f, const lg_edge *e)
{
    fprintf(out, "        {\"thread\": %d, \"holds\": ", e->thread);
    lg_json_str(out, e->holds >= 0 ? f->locks[e->holds].id : NULL);
    fputs(", \"holds_mode\": ", out);
    lg_json_str(out, e->holds >= 0 ? lg_mode_name(e->holds_mode) : NULL);
    fputs(", \"holds_stack\": ", out);
    stack(out, &e->holds_stack);
    fputs(", \"acquires\": ", out);
    lg_json_str(out, f->locks[e->acquires].id);
    fputs(", \"acquires_mode\": ", out);
    lg_json_str(out, lg_mode_name(e->acquires_mode));
    fputs(", \"stack\": ", out);
    stack(out, &e->stack);
    fputs(", \"flags\": [", out);
    int n = 0;
    for (size_t i = 0; i < sizeof edge_flags / sizeof *edge_flags; i++)
        if (e->flags & edge_flags[i].bit)
            fprintf(out, "%s\"%s\"", n++ ? ", " : "", edge_flags[i].name);
    fputs("]}", out);
}

/* A misuse finding's places (model.h: lg_site). */
static void site(FILE *out, const lg_finding *f, const lg_site *s)
{
    fputs("        {\"role\": ", out);
    lg_json_str(out, lg_site_role_name(s->role));
    fprintf(out, ", \"thread\": %d, \"lock\": ", s->thread);
    lg_json_str(out, s->lock >= 0 && (size_t)s->lock < f->nlocks ? f->locks[s->lock].id : NULL);
    fputs(", \"mode\": ", out);
    lg_json_str(out, lg_mode_name(s->mode));
    fputs(", \"stack\": ", out);
    stack(out, &s->stack);
    fputc('}', out);
}

static void finding(FILE *out, const lg_report *r, const lg_finding *f)
{
    fputs("    {\"kind\": ", out);
    lg_json_str(out, lg_kind_name(f->kind));
    fprintf(out, ", \"defect\": %s", lg_kind_is_defect(f->kind) ? "true" : "false");
    for (size_t i = 0; i < sizeof finding_flags / sizeof *finding_flags; i++)
        fprintf(out, ", \"%s\": %s", finding_flags[i].name,
                f->flags & finding_flags[i].bit ? "true" : "false");
    if (f->kind == LG_KIND_MISUSE) {   /* only there: other findings read as before */
        fputs(",\n     \"misuse\": ", out);
        lg_json_str(out, lg_misuse_name(f->misuse));
        fputs(", \"refused\": ", out);
        lg_json_str(out, f->refused);
    }
    fputs(",\n     \"summary\": ", out);
    lg_json_str(out, f->summary ? f->summary : lg_kind_name(f->kind));   /* never null */
    fputs(",\n     \"fix\": ", out);
    lg_json_str(out, f->fix);
    fputs(",\n     \"locks\": [", out);
    for (size_t i = 0; i < f->nlocks; i++) {
        fputs(i ? ",\n               " : "", out);
        lock(out, &f->locks[i]);
    }
    fputs("],\n     \"threads\": [", out);
    for (size_t i = 0; i < f->nthreads; i++) {
        fputs(i ? ",\n" : "\n", out);
        thread(out, r, &f->threads[i], "        ");
    }
    fputs("],\n     \"edges\": [", out);
    for (size_t i = 0; i < f->nedges; i++) {
        fputs(i ? ",\n" : "\n", out);
        edge(out, f, &f->edges[i]);
    }
    if (f->kind == LG_KIND_MISUSE) {
        fputs("],\n     \"sites\": [", out);
        for (size_t i = 0; i < f->nsites; i++) {
            fputs(i ? ",\n" : "\n", out);
            site(out, f, &f->sites[i]);
        }
    }
    fputs("],\n     \"notes\": ", out);
    strings(out, f->notes, f->nnotes);
    if (f->sets_seen) {
        /* One report per code path: how many lock sets share it, and the others' locks. */
        fprintf(out, ",\n     \"lock_sets\": %zu, \"other_lock_sets\": [", f->sets_seen + 1);
        for (size_t i = 0; i < f->nsets; i++) {
            fputs(i ? ",\n       " : "\n       ", out);
            strings(out, f->sets[i].locks, f->sets[i].n);
        }
        fputc(']', out);
    }
    fputc('}', out);
}

int lg_write_json(FILE *out, const lg_report *r, const char *version)
{
    fputs("{\"tool\": \"lockgraph\", \"version\": ", out);
    lg_json_str(out, version);
    fprintf(out, ", \"format\": %d,\n \"command\": ", LG_JSON_FORMAT);
    strings(out, r->command, r->ncommand);
    fprintf(out, ", \"pid\": %d, \"defects\": %zu,", r->pid, lg_report_defects(r));
    if (r->unchecked) {
        /* Only when false: every report without the key checked what it says it did. */
        fputs("\n \"checked\": false, \"unchecked_reason\": ", out);
        lg_json_str(out, r->unchecked);
        fputc(',', out);
    }
    fputs("\n \"findings\": [", out);
    for (size_t i = 0; i < r->nfindings; i++) {
        fputs(i ? ",\n" : "\n", out);
        finding(out, r, &r->findings[i]);
    }
    fputs("],\n \"threads\": [", out);
    for (size_t i = 0; i < r->nthreads; i++) {
        fputs(i ? ",\n" : "\n", out);
        thread(out, r, &r->threads[i], "    ");
    }
    fputs("],\n \"notes\": ", out);
    strings(out, r->notes, r->nnotes);
    if (r->verdict) {
        fputs(",\n \"verdict\": ", out);
        lg_json_str(out, r->verdict);
    }
    if (r->nlocks) {
        fputs(",\n \"locks\": [", out);
        for (size_t i = 0; i < r->nlocks; i++) {
            fputs(i ? ",\n    " : "\n    ", out);
            lock(out, &r->locks[i]);
        }
        fputc(']', out);
    }
    fputs("}\n", out);
    return ferror(out) ? -1 : 0;
}
