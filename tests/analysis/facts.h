/* facts.h - what the finding builders' unit tests share (test-findings*.c): a stack made
 * frame by frame, and a finding (or the whole report as JSON) rendered as the runtime and
 * the CLI render it. */
#ifndef LG_TEST_FACTS_H
#define LG_TEST_FACTS_H

#include <stdio.h>

#include "model/model.h"
#include "report/report.h"

/* One frame at pc of the test's module T_MODULE (loaded at 0x400000), or an inlined one. */
#ifndef T_MODULE
#define T_MODULE "/usr/bin/app"
#endif
static inline void frame(lg_stack *s, uint64_t pc, const char *fn, const char *file, int line,
                         bool inlined)
{
    lg_frame *f = lg_stack_push(s);
    lg_frame_set(f, pc, inlined ? NULL : T_MODULE, inlined ? 0 : pc - 0x400000, fn, 0, file,
                 line);
    f->inlined = inlined;
}

/* f's text with the default options, or (json) the whole report r as JSON; malloc'd. */
static inline char *t_render(const lg_report *r, const lg_finding *f, bool json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    lg_text_options o = LG_TEXT_DEFAULTS;
    if (json)
        lg_write_json(m, r, "test");
    else
        lg_write_finding_text(m, r, f, &o);
    fclose(m);
    return buf;
}

#endif
