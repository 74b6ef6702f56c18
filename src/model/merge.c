/* merge.c - each distinct finding of several reports once (merge.h). */
#include <stdlib.h>

#include "../util/xalloc.h"
#include "merge.h"

static int add(lg_merged **m, size_t *n, const lg_finding *f, uint64_t fp, size_t report)
{
    for (size_t i = 0; i < *n; i++) {
        lg_merged *e = &(*m)[i];
        if (e->fingerprint != fp)
            continue;
        if (e->reports[e->nreports - 1] == report)   /* twice in one report: once */
            return 0;
        return LG_APPEND(e->reports, e->nreports, &report);
    }
    lg_merged e = {.finding = f, .fingerprint = fp};
    if (LG_APPEND(e.reports, e.nreports, &report) < 0)
        return -1;
    if (LG_APPEND(*m, *n, &e) < 0) {
        free(e.reports);
        return -1;
    }
    return 0;
}

int lg_merge_findings(const lg_report *const *reports, size_t n, lg_merged **out, size_t *nout)
{
    lg_merged *m = NULL;
    size_t nm = 0;
    for (int pass = 0; pass < 2; pass++) {          /* defects, then the informational */
        for (size_t r = 0; r < n; r++) {
            for (size_t i = 0; i < reports[r]->nfindings; i++) {
                const lg_finding *f = &reports[r]->findings[i];
                if (lg_kind_is_defect(f->kind) != (pass == 0))
                    continue;
                if (add(&m, &nm, f, lg_finding_fingerprint(f), r) < 0) {
                    lg_merged_free(m, nm);
                    return -1;
                }
            }
        }
    }
    *out = m;
    *nout = nm;
    return 0;
}

void lg_merged_free(lg_merged *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(m[i].reports);
    free(m);
}
