/* inspect.c - the attach pipeline: read /proc, stop every thread, take registers, stacks and
 * the memory around each futex word, let the threads go, then decode and build the report
 * with the target already running again. The target is stopped only for the middle step.
 * Not here: cores (core.c), writing cores (dump.c). */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <elfutils/libdwfl.h>

#include "internal.h"
#include "../symbolize/symbolize.h"

int lg_inspect_status(const lg_report *r)
{
    return lg_report_defects(r) ? 66 : 0;
}

static void finish(insp_target *tg)
{
    lg_symbolizer_close(tg->sym);
    tg->sym = NULL;
    if (tg->dwfl)
        dwfl_end(tg->dwfl);
    tg->dwfl = NULL;
    free(tg->unwind_cache);
    tg->unwind_cache = NULL;
    insp_target_free(tg);
}

int lg_inspect_pid(int pid, const lg_inspect_options *opt, lg_report *out,
                   lg_inspect_stats *stats, char *err, size_t errlen)
{
    double t0 = insp_now_ms();
    insp_target tg = {.pid = pid, .read = mem_read_live, .read_ctx = (void *)(intptr_t)pid};
    if (pid <= 0 || !proc_exists(pid)) {
        snprintf(err, errlen, "no process with pid %d", pid);
        return -1;
    }
    if (proc_read_threads(&tg, err, errlen) < 0 || proc_read_maps(&tg) < 0) {
        if (!err[0])
            snprintf(err, errlen, "process %d exited while being read", pid);
        finish(&tg);
        return -1;
    }
    glibc_identify(&tg);

    double s0 = insp_now_ms();
    if (ptrace_stop_all(&tg, err, errlen) < 0) {
        finish(&tg);
        return -1;
    }
    size_t nstopped = 0;
    for (size_t i = 0; i < tg.n; i++)
        nstopped += tg.t[i].stopped;
    if (nstopped == 0) {
        snprintf(err, errlen, "process %d exited while being attached", pid);
        finish(&tg);
        return -1;
    }
    ptrace_read_regs(&tg);
    mem_snapshot(&tg);
    int rc = unwind_live(&tg, opt, err, errlen);
    if (rc == 0)
        rtstate_read(&tg);   /* the runtime's records, while nothing can change them */
    ptrace_resume_all(&tg);
    tg.stopped_ms = insp_now_ms() - s0;
    if (rc < 0) {
        finish(&tg);
        return -1;
    }
    /* Threads that exited while stopped: keep only those we saw stopped or blocked. */
    if (symbolize_all(&tg) < 0) {
        snprintf(err, errlen, "out of memory while symbolizing");
        finish(&tg);
        return -1;
    }
    decode_all(&tg);
    rc = build_report(&tg, out, stats);
    if (rc < 0)
        snprintf(err, errlen, "out of memory while building the report");
    finish(&tg);
    if (stats)
        stats->total_ms = insp_now_ms() - t0;
    return rc;
}
