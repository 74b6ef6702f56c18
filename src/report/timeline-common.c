/* timeline-common.c - small formatting pieces shared by the timeline writers: durations,
 * lock labels, thread names. No layout decisions here; those belong to each writer. */
#include <inttypes.h>

#include "timeline-report.h"

void tl_duration(char *buf, size_t n, uint64_t ns)
{
    if (ns < 1000)
        snprintf(buf, n, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, n, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, n, "%.3f ms", (double)ns / 1e6);
    else
        snprintf(buf, n, "%.3f s", (double)ns / 1e9);
}

void tl_lock_label(char *buf, size_t n, const lg_timeline *t, uint32_t id)
{
    const lg_tl_lock *l = lg_timeline_lock(t, id);
    if (!l)
        snprintf(buf, n, "L%" PRIu32, id);
    else if (l->name)
        snprintf(buf, n, "L%" PRIu32 " %s %s", id, lg_lock_type_name(l->type), l->name);
    else
        snprintf(buf, n, "L%" PRIu32 " %s 0x%" PRIx64, id, lg_lock_type_name(l->type),
                 l->address);
}

const char *tl_thread_name(const lg_timeline *t, int tid)
{
    const lg_tl_thread *th = lg_timeline_thread(t, tid);
    return th ? th->name : NULL;
}
