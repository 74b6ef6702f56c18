/* merge.h - the findings of several reports (the processes of one run), each distinct
 * finding once.
 *
 * Distinct means a different lg_finding_fingerprint (model.h): the same inversion hit by two
 * test programs, or by a parent and its forked child, is one entry that lists both reports.
 * The reports are borrowed, not copied: they must outlive the merge.
 */
#ifndef LG_MERGE_H
#define LG_MERGE_H

#include "model.h"

typedef struct lg_merged {
    const lg_finding *finding;     /* as the first report that had it tells it */
    uint64_t fingerprint;
    size_t *reports;               /* indices of every report that had it, in report order */
    size_t nreports;
} lg_merged;

/* Defects first, then the rest; each group in order of first appearance. 0, or -1 when out
 * of memory (nothing to free then). */
int lg_merge_findings(const lg_report *const *reports, size_t n, lg_merged **out, size_t *nout);
void lg_merged_free(lg_merged *m, size_t n);

#endif
