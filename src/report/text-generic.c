/* text-generic.c - the printer of the kinds without one of their own (no-progress, note, and
 * any kind a newer model adds before its printer): the banner, the summary, the locks, each
 * edge with its stack, each thread's current stack and the notes, in the shared pieces'
 * words (text-common.c).
 */
#include "text-internal.h"

void text_generic(FILE *out, const lg_report *r, const lg_finding *f, const lg_text_options *o)
{
    text_banner(out, lg_kind_name(f->kind));
    if (f->summary)
        fprintf(out, "%s\n", f->summary);
    for (size_t i = 0; i < f->nlocks; i++) {
        fputs("  ", out);
        text_lock(out, &f->locks[i]);
        fputc('\n', out);
    }
    for (size_t i = 0; i < f->nedges; i++) {
        const lg_edge *e = &f->edges[i];
        fputs("  ", out);
        text_thread(out, f, r, e->thread);
        fprintf(out, " %s %s", f->kind == LG_KIND_LONG_WAIT ? "waits to" : "acquires",
                text_acquire_verb(&f->locks[e->acquires], e->acquires_mode));
        fprintf(out, " %s at:\n", f->locks[e->acquires].id);
        text_stack(out, &e->stack, "      ", o);
    }
    for (size_t i = 0; i < f->nthreads; i++) {
        const lg_thread *t = &f->threads[i];
        if (!t->stack.n)
            continue;
        fputs("  ", out);
        text_thread(out, f, r, t->tid);
        fprintf(out, "%s%s, now at:\n", t->state ? " " : "", t->state ? t->state : "");
        text_stack(out, &t->stack, "      ", o);
    }
    text_notes(out, f->notes, f->nnotes, "  ");
    fputc('\n', out);
}
