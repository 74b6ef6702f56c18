/* text.c - the text writer for people: the dispatcher by finding kind.
 *
 * Each kind has one printer with a fixed skeleton (text-<kind>.c), in the spirit of
 * lockdep's print_circular_bug, so golden tests pin the layout; the pieces they share are in
 * text-common.c; a kind without a printer of its own gets text-generic.c's. A whole-process
 * analysis (attach, core: `report->verdict` set) has its own layout (text-process.c).
 */
#include "text-internal.h"

int lg_write_finding_text(FILE *out, const lg_report *r, const lg_finding *f,
                          const lg_text_options *opt)
{
    switch (f->kind) {
    case LG_KIND_INVERSION:
    case LG_KIND_GATED_CYCLE:
        text_inversion(out, r, f, opt);
        break;
    case LG_KIND_DEADLOCK:
    case LG_KIND_ORPHANED:
    case LG_KIND_LONG_WAIT:
        text_deadlock(out, r, f, opt);
        break;
    case LG_KIND_MISUSE:
        text_misuse(out, r, f, opt);
        break;
    default:
        text_generic(out, r, f, opt);
        break;
    }
    return ferror(out) ? -1 : 0;
}

int lg_write_text(FILE *out, const lg_report *r, const lg_text_options *opt)
{
    if (r->verdict) {   /* a whole-process analysis (attach/core) has its own layout */
        text_inspection(out, r, opt);
        return ferror(out) ? -1 : 0;
    }
    for (size_t i = 0; i < r->nfindings; i++)
        lg_write_finding_text(out, r, &r->findings[i], opt);
    if (r->nthreads)
        text_process(out, r, opt);
    text_notes(out, r->notes, r->nnotes, "");
    return ferror(out) ? -1 : 0;
}
