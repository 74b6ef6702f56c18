/* text-common.c - the pieces every text printer shares (declared in text-internal.h): how a
 * lock, a thread, a verb, a stack, a source position, a banner and notes look. A change here
 * changes every kind's layout at once, which is the point: one lock looks the same in an
 * inversion, a deadlock and a misuse report. No printer of a kind lives here (text-<kind>.c).
 */
#include <string.h>

#include "text-internal.h"

void text_banner(FILE *out, const char *title)
{
    fprintf(out, "==================== lockgraph: %s ====================\n", title);
}

void text_lock(FILE *out, const lg_lock *l)
{
    fprintf(out, "%s %s", l->id, lg_lock_type_name(l->type));
    if (l->attrs)
        fprintf(out, " (%s)", l->attrs);
    if (l->name)
        fprintf(out, " %s", l->name);
    fprintf(out, " (0x%llx)", (unsigned long long)l->address);
}

const char *text_lock_short(const lg_lock *l)
{
    return l->name ? l->name : l->id;
}

const lg_thread *text_find_thread(const lg_finding *f, const lg_report *r, int tid)
{
    for (size_t i = 0; f && i < f->nthreads; i++)
        if (f->threads[i].tid == tid)
            return &f->threads[i];
    for (size_t i = 0; r && i < r->nthreads; i++)
        if (r->threads[i].tid == tid)
            return &r->threads[i];
    return NULL;
}

void text_thread(FILE *out, const lg_finding *f, const lg_report *r, int tid)
{
    const lg_thread *t = text_find_thread(f, r, tid);
    fprintf(out, "thread %d", tid);
    if (t && t->name)
        fprintf(out, " \"%s\"", t->name);
    /* a report over several processes: the process, when it is not the report's */
    const lg_thread *rt = r ? text_find_thread(NULL, r, tid) : NULL;
    int pid = t && t->pid ? t->pid : rt ? rt->pid : 0;
    if (pid)
        fprintf(out, " of process %d", pid);
}

const char *text_acquire_verb(const lg_lock *l, lg_mode m)
{
    return lg_acquire_verb(l->type, m);
}

const char *text_acquired_verb(const lg_lock *l, lg_mode m)
{
    static const struct { const char *now, *past; } verbs[] = {
        {"read-lock", "read-locked"}, {"write-lock", "write-locked"}, {"lock", "locked"},
        {"wait on", "waited on"}, {"join", "joined"},
    };
    const char *v = text_acquire_verb(l, m);
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (strcmp(verbs[i].now, v) == 0)
            return verbs[i].past;
    return v;
}

static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void text_stack_range(FILE *out, const lg_stack *s, size_t from, size_t to, const char *indent,
                      const lg_text_options *opt)
{
    for (size_t i = from; i < s->n && i < to; i++) {
        const lg_frame *fr = &s->frames[i];
        if (fr->shared && (i == 0 || !s->frames[i - 1].shared))
            fprintf(out, "%s    callers not unwound for this acquisition; the first one seen at"
                         " this call site came from:\n", indent);
        fprintf(out, "%s#%-2zu ", indent, i);
        if (fr->inlined)
            fprintf(out, "%-18s ", "(inlined)");
        else
            fprintf(out, "0x%016llx ", (unsigned long long)fr->address);
        fprintf(out, "%s", fr->function ? fr->function : "??");
        if (fr->file)
            fprintf(out, " at %s:%d", fr->file, fr->line);
        if ((!opt || opt->show_modules) && fr->module && !fr->inlined)
            fprintf(out, " (%s+0x%llx)", basename_of(fr->module),
                    (unsigned long long)fr->module_offset);
        fputc('\n', out);
    }
}

void text_stack(FILE *out, const lg_stack *s, const char *indent, const lg_text_options *opt)
{
    if (s->n == 0) {
        fprintf(out, "%s(no stack recorded)\n", indent);
        return;
    }
    size_t limit = opt && opt->max_frames > 0 ? (size_t)opt->max_frames : s->n;
    text_stack_range(out, s, 0, limit, indent, opt);
    if (limit < s->n)
        fprintf(out, "%s... %zu more frame%s\n", indent, s->n - limit,
                s->n - limit == 1 ? "" : "s");
}

void text_where(FILE *out, const lg_stack *s)
{
    char buf[512];
    lg_stack_where(s, buf, sizeof buf);
    fputs(buf, out);
}

void text_notes(FILE *out, char *const *notes, size_t n, const char *indent)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s\n", indent, notes[i]);
}
