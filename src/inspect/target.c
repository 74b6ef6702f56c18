/* target.c - the insp_target every reader fills (internal.h): its threads found or added by
 * tid, its notes, its release, and the clock the pipeline's timings use. Shared by the live
 * readers (proc.c, ptrace.c), the core reader (core.c), the runtime's state (rtstate.c) and
 * what builds the model from it (build.c); no /proc, no ptrace here. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "../util/xalloc.h"

double insp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void insp_note(insp_target *tg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = lg_vasprintf(fmt, ap);
    va_end(ap);
    if (!s || LG_APPEND(tg->notes, tg->nnotes, &s) < 0)
        free(s);
}

insp_thread *insp_find_thread(insp_target *tg, int tid)
{
    for (size_t i = 0; i < tg->n; i++)
        if (tg->t[i].tid == tid)
            return &tg->t[i];
    return NULL;
}

insp_thread *insp_add_thread(insp_target *tg, int tid)
{
    insp_thread *t = insp_find_thread(tg, tid);
    if (t)
        return t;
    if (tg->n == tg->cap) {
        size_t cap = tg->cap ? tg->cap * 2 : 16;
        insp_thread *nt = realloc(tg->t, cap * sizeof *nt);
        if (!nt)
            return NULL;
        tg->t = nt;
        tg->cap = cap;
    }
    t = &tg->t[tg->n++];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->pid = tg->pid;
    t->nr = INSP_NR_UNKNOWN;
    return t;
}

void insp_target_free(insp_target *tg)
{
    for (size_t i = 0; i < tg->n; i++) {
        free(tg->t[i].pcs);
        free(tg->t[i].sps);
        lg_stack_free(&tg->t[i].stack);
    }
    free(tg->t);
    rtstate_free(tg);
    for (size_t i = 0; i < tg->nnotes; i++)
        free(tg->notes[i]);
    free(tg->notes);
}
