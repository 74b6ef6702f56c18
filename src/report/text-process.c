/* text-process.c - the whole-process section (report->threads): every thread, its state,
 * what it waits in, and its stack. Used by attach/core and by the runtime's deadlock report
 * for "the other threads". */
#include "text-internal.h"

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
