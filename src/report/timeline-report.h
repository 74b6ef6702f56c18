/* timeline-report.h - the writers of a recorded timeline (lockgraph report): text tables for
 * people (text-timeline.c), the same tables as JSON (json-timeline.c, keys documented in
 * docs/trace-format.md), and Chrome trace-event JSON for Perfetto UI / chrome://tracing
 * (chrome.c). They render an lg_timeline plus its lg_tl_analysis; stacks are printed from
 * lg_tl_stack.sym, so symbolize first. Each returns 0, or -1 when the stream failed.
 */
#ifndef LG_TIMELINE_REPORT_H
#define LG_TIMELINE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "../analysis/timeline.h"
#include "../model/timeline.h"
#include "report.h"

typedef struct lg_tl_text_options {
    size_t max_waits;        /* longest waits listed; 0 = 10 */
    int max_frames;          /* frames per stack; 0 = all */
    int show_modules;
    size_t max_rows;         /* rows of the threads and locks tables; 0 = 20 */
    bool all_rows;           /* every row (--all) */
} lg_tl_text_options;

int lg_write_timeline_text(FILE *out, const lg_timeline *t, const lg_tl_analysis *a,
                           const lg_tl_text_options *o);
int lg_write_timeline_json(FILE *out, const lg_timeline *t, const lg_tl_analysis *a,
                           size_t max_waits);
/* What the Chrome export holds. By default: every wait, the holds that made them (the
 * holder's when a wait began, the releaser's that ended it) and the wake-up flows, at most
 * max_slices slices (0: 200,000; the longest waits are kept first); all_holds adds every
 * other hold. Whatever was left out is counted in *omitted (waits and holds, optional) and
 * said in the file's otherData. NULL options: the defaults. */
typedef struct lg_tl_chrome_options {
    bool all_holds;
    size_t max_slices;
    size_t omitted_waits, omitted_holds;   /* out */
} lg_tl_chrome_options;
#define LG_TL_CHROME_MAX_SLICES 200000
int lg_write_chrome(FILE *out, const lg_timeline *t, const lg_tl_analysis *a,
                    lg_tl_chrome_options *o);

/* Shared by the three (timeline-common.c). */
void tl_duration(char *buf, size_t n, uint64_t ns);       /* "12.345 ms" */
void tl_lock_label(char *buf, size_t n, const lg_timeline *t, uint32_t id);  /* "L3 mutex name" */
const char *tl_thread_name(const lg_timeline *t, int tid); /* NULL when unnamed */

#endif
