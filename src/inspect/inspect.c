/* inspect.c - the attach pipeline: read /proc, stop every thread, take registers, stacks and
 * the memory around each futex word, let the threads go, then decode and build the report
 * with the target already running again. The target is stopped only for the middle step.
 *
 * Several processes are one system: the PIDs given, and the processes whose threads own what
 * a thread waits for (a process-shared mutex's owner in another process, found through
 * /proc/TID/status). They are stopped together, so the snapshot is one instant; when an
 * owner leads into a process not yet in the set, the round is redone with it (bounded).
 * What cannot be read with the caller's rights is said in a note, and the chain is shown
 * leaving the system there. Not here: cores (core.c), writing cores (dump.c). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <elfutils/libdwfl.h>

#include "internal.h"
#include "../symbolize/symbolize.h"
#include "../util/xalloc.h"

enum {
    MAX_PROCS = 64,      /* processes analysed as one system */
    MAX_ROUNDS = 4,      /* rounds that follow owners into further processes */
};

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

typedef struct sys {
    insp_target *tg[MAX_PROCS];
    size_t n;
    int skipped[MAX_PROCS];   /* processes we could not read: not followed again */
    size_t nskipped;
    char *skip_notes[MAX_PROCS];
} sys;

static void sys_free_targets(sys *s)
{
    for (size_t i = 0; i < s->n; i++) {
        finish(s->tg[i]);
        free(s->tg[i]);
    }
    s->n = 0;
}

static bool sys_has(const sys *s, int pid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->tg[i]->pid == pid)
            return true;
    for (size_t i = 0; i < s->nskipped; i++)
        if (s->skipped[i] == pid)
            return true;
    return false;
}

/* Read one process from /proc (nothing stopped yet). */
static insp_target *open_target(int pid, char *err, size_t errlen)
{
    insp_target *tg = calloc(1, sizeof *tg);
    if (!tg) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    tg->pid = pid;
    tg->read = mem_read_live;
    tg->read_ctx = (void *)(intptr_t)pid;
    if (pid <= 0 || !proc_exists(pid)) {
        snprintf(err, errlen, "no process with pid %d", pid);
        free(tg);
        return NULL;
    }
    if (proc_check_target(pid, err, errlen) < 0 || proc_read_threads(tg, err, errlen) < 0 ||
        proc_read_maps(tg) < 0) {
        if (!err[0])
            snprintf(err, errlen, "process %d exited while being read", pid);
        finish(tg);
        free(tg);
        return NULL;
    }
    glibc_identify(tg);
    return tg;
}

/* Stop every process of the system, read what is needed while stopped, let them go. A
 * process given by the caller that cannot be stopped fails the analysis; one we followed
 * into is dropped with a note. */
static int snapshot(sys *s, size_t ngiven, const lg_inspect_options *opt, double *stopped_ms,
                    char *err, size_t errlen)
{
    double s0 = insp_now_ms();
    for (size_t i = 0; i < s->n; i++) {
        insp_target *tg = s->tg[i];
        char e[512] = "";
        size_t nstopped = 0;
        int rc = ptrace_stop_all(tg, e, sizeof e);
        for (size_t k = 0; rc == 0 && k < tg->n; k++)
            nstopped += tg->t[k].stopped;
        if (rc == 0 && nstopped == 0)
            snprintf(e, sizeof e, "process %d exited while being attached", tg->pid);
        if (rc == 0 && nstopped)
            continue;
        if (i < ngiven) {
            for (size_t k = 0; k < i; k++)
                ptrace_resume_all(s->tg[k]);
            snprintf(err, errlen, "%s", e);
            return -1;
        }
        /* followed into it: say what we could not read, and go on without it */
        if (s->nskipped < MAX_PROCS) {
            s->skipped[s->nskipped] = tg->pid;
            s->skip_notes[s->nskipped++] = lg_asprintf("%s: the wait chain leaves what "
                                                       "lockgraph can read there", e);
        }
        finish(tg);
        free(tg);
        memmove(&s->tg[i], &s->tg[i + 1], (s->n - i - 1) * sizeof *s->tg);
        s->n--;
        i--;
    }
    int rc = 0;
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        insp_target *tg = s->tg[i];
        ptrace_read_regs(tg);
        mem_snapshot(tg);
        rc = unwind_live(tg, opt, err, errlen);
        if (rc == 0)
            rtstate_read(tg);   /* the runtime's records, while nothing can change them */
    }
    for (size_t i = 0; i < s->n; i++)
        ptrace_resume_all(s->tg[i]);
    *stopped_ms = insp_now_ms() - s0;
    return rc;
}

/* Owners in processes not yet analysed: add them. 1 added some, 0 none. */
static int follow_owners(sys *s)
{
    int added = 0;
    for (size_t i = 0, n = s->n; i < n; i++) {
        insp_target *tg = s->tg[i];
        for (size_t k = 0; k < tg->n; k++) {
            const insp_wait *w = &tg->t[k].w;
            if (!(w->lock_flags & LG_LOCK_F_OWNER_ELSEWHERE) || !w->owner_pid ||
                sys_has(s, w->owner_pid) || s->n == MAX_PROCS)
                continue;
            char e[512] = "";
            insp_target *o = open_target(w->owner_pid, e, sizeof e);
            if (!o) {
                if (s->nskipped < MAX_PROCS) {
                    s->skipped[s->nskipped] = w->owner_pid;
                    s->skip_notes[s->nskipped++] = lg_asprintf("%s: the wait chain leaves "
                                                               "what lockgraph can read there",
                                                               e);
                }
                continue;
            }
            s->tg[s->n++] = o;
            added = 1;
        }
    }
    return added;
}

/* Everything after the snapshot, per process: fd names, symbols, decoding. */
static int analyse(sys *s, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->n; i++) {
        insp_target *tg = s->tg[i];
        tg->sys = s->tg;
        tg->nsys = s->n;
        proc_fd_targets(tg);
        if (symbolize_all(tg) < 0) {
            snprintf(err, errlen, "out of memory while symbolizing");
            return -1;
        }
        decode_all(tg);
    }
    return 0;
}

/* One target holding every thread of the system (moved, not copied), for build_report. */
static int merge(sys *s, insp_target *m)
{
    insp_target *first = s->tg[0];
    *m = *first;
    m->t = NULL;
    m->n = m->cap = 0;
    m->rtt = NULL;
    m->nrtt = 0;
    m->notes = NULL;
    m->nnotes = 0;
    m->dwfl = NULL;
    m->sym = NULL;
    m->unwind_cache = NULL;
    m->sys = s->tg;
    m->nsys = s->n;
    size_t nt = 0, nr = 0;
    for (size_t i = 0; i < s->n; i++) {
        nt += s->tg[i]->n;
        nr += s->tg[i]->nrtt;
    }
    m->t = calloc(nt ? nt : 1, sizeof *m->t);
    m->rtt = calloc(nr ? nr : 1, sizeof *m->rtt);
    if (!m->t || !m->rtt)
        return -1;
    m->cap = nt ? nt : 1;
    for (size_t i = 0; i < s->n; i++) {
        insp_target *tg = s->tg[i];
        memcpy(m->t + m->n, tg->t, tg->n * sizeof *tg->t);
        m->n += tg->n;
        tg->n = 0;
        memcpy(m->rtt + m->nrtt, tg->rtt, tg->nrtt * sizeof *tg->rtt);
        m->nrtt += tg->nrtt;
        tg->nrtt = 0;
        if (tg->rt_known && !m->rt_known) {
            m->rt_known = true;
            m->rt_version = tg->rt_version;
            snprintf(m->runtime_path, sizeof m->runtime_path, "%s", tg->runtime_path);
        }
        for (size_t k = 0; k < tg->nnotes; k++) {
            if (s->n > 1)
                insp_note(m, "process %d: %s", tg->pid, tg->notes[k]);
            else
                insp_note(m, "%s", tg->notes[k]);
        }
    }
    for (size_t i = 0; i < s->nskipped; i++)
        if (s->skip_notes[i])
            insp_note(m, "%s", s->skip_notes[i]);
    return 0;
}

int lg_inspect_pids(const int *pids, size_t npids, const lg_inspect_options *opt,
                    lg_report *out, lg_inspect_stats *stats, char *err, size_t errlen)
{
    double t0 = insp_now_ms();
    sys s = {0};
    int rc = -1;
    if (npids == 0 || npids > MAX_PROCS) {
        snprintf(err, errlen, "expected 1 to %d processes", MAX_PROCS);
        return -1;
    }
    double stopped_ms = 0;
    insp_target m = {0};
    bool merged = false;
    for (int round = 0; round < MAX_ROUNDS; round++) {
        /* the processes given, and those the previous round followed owners into */
        int want[MAX_PROCS];
        size_t nwant = 0;
        for (size_t i = 0; i < npids; i++) {
            bool dup = false;
            for (size_t k = 0; k < nwant; k++)
                dup |= want[k] == pids[i];
            if (!dup)
                want[nwant++] = pids[i];
        }
        size_t ngiven = opt && opt->first_required ? 1 : nwant;   /* must be readable */
        for (size_t i = 0; i < s.n && nwant < MAX_PROCS; i++) {
            bool dup = false;
            for (size_t k = 0; k < nwant; k++)
                dup |= want[k] == s.tg[i]->pid;
            if (!dup)
                want[nwant++] = s.tg[i]->pid;
        }
        sys_free_targets(&s);
        for (size_t i = 0; i < nwant; i++) {
            char e[512] = "";
            insp_target *tg = open_target(want[i], e, sizeof e);
            if (!tg && i < ngiven) {
                snprintf(err, errlen, "%s", e);
                goto out;
            }
            if (!tg) {
                if (s.nskipped < MAX_PROCS) {
                    s.skipped[s.nskipped] = want[i];
                    s.skip_notes[s.nskipped++] = lg_asprintf("%s", e);
                }
                continue;
            }
            s.tg[s.n++] = tg;
        }
        if (snapshot(&s, ngiven, opt, &stopped_ms, err, errlen) < 0)
            goto out;
        if (analyse(&s, err, errlen) < 0)
            goto out;
        if (round + 1 == MAX_ROUNDS || !follow_owners(&s))
            break;
        /* the new processes were opened by follow_owners: the next round reopens all */
    }
    if (merge(&s, &m) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    merged = true;
    m.stopped_ms = stopped_ms;
    rc = build_report(&m, out, stats);
    if (rc < 0)
        snprintf(err, errlen, "out of memory while building the report");
out:
    if (merged) {
        m.sys = NULL;
        m.nsys = 0;
        insp_target_free(&m);
    }
    sys_free_targets(&s);
    for (size_t i = 0; i < s.nskipped; i++)
        free(s.skip_notes[i]);
    if (stats)
        stats->total_ms = insp_now_ms() - t0;
    return rc;
}

int lg_inspect_pid(int pid, const lg_inspect_options *opt, lg_report *out,
                   lg_inspect_stats *stats, char *err, size_t errlen)
{
    return lg_inspect_pids(&pid, 1, opt, out, stats, err, errlen);
}
