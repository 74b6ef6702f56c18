/* report.h - the writers: one lg_report (model.h) rendered for people or programs.
 *
 * Writers never fail silently: each returns 0, or -1 when the stream reported an error
 * (callers report "cannot write ..."). None of them allocates more than a line's worth.
 */
#ifndef LG_REPORT_H
#define LG_REPORT_H

#include <stdio.h>

#include "../model/model.h"

typedef struct lg_text_options {
    int max_frames;      /* frames printed per stack; 0 = all */
    int show_modules;    /* print (module+offset) after each frame */
} lg_text_options;

/* The JSON report's format number ("format"): raised when a key changes meaning. */
#define LG_JSON_FORMAT 1
#define LG_TEXT_DEFAULTS {.max_frames = 0, .show_modules = 1}

int lg_write_text(FILE *out, const lg_report *r, const lg_text_options *opt);
int lg_write_finding_text(FILE *out, const lg_report *r, const lg_finding *f,
                          const lg_text_options *opt);
int lg_write_json(FILE *out, const lg_report *r, const char *version);
int lg_write_dot(FILE *out, const lg_report *r);
/* A SARIF 2.1.0 log of the distinct findings of n reports (the processes of one run; n = 1
 * for one process); source paths under srcroot (absolute, or NULL) relative to it. */
int lg_write_sarif(FILE *out, const lg_report *const *reports, size_t n, const char *version,
                   const char *srcroot);

/* A JSON string literal for s (escaped, quoted), or null when s is NULL: the one escaper
 * every JSON writer (report, timeline tables, Chrome trace) uses. */
void lg_json_str(FILE *out, const char *s);

#endif
