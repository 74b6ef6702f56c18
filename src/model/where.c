/* where.c - where an acquisition of a finding "is": its first frame outside lock wrappers.
 *
 * A program that takes its locks through a helper (the demo's lock_exclusive, a project's
 * own mutex_lock_or_die) has that helper as the innermost frame of its own source in every
 * acquisition: "at threads.c:78" for every stanza says nothing. Which frames are such helpers
 * is read from the finding itself, so it needs no configuration and no list of names: a frame
 * (function, file, line) that is the current frame of two of the finding's acquisition
 * stacks reached from different callers is a place every acquisition passes through, so each
 * of those stacks moves one frame out; repeated until no two stacks share a frame that way.
 * Two stacks at the same frame with the same caller are one call site, taken twice, and stay.
 * For a live finding (deadlock, orphaned lock) the stacks compared are its waits, which every
 * front end has (the runtime also knows where each lock was taken, attach and core do not),
 * so run, attach and core name the same places; else all its acquisition stacks. hang.c's
 * lock_a, one function per lock called from two lines of run_side, stays the place: its two
 * waits are in different functions.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int streq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool same_frame(const lg_frame *a, const lg_frame *b)
{
    return a->line == b->line && streq(a->file, b->file) && streq(a->function, b->function);
}

/* Index of the first frame of the program's own source at or after `from`, or -1. */
static long best_from(const lg_stack *s, size_t from)
{
    for (size_t i = from; i < s->n; i++)
        if (s->frames[i].file && s->frames[i].line > 0 &&
            !lg_source_is_system(s->frames[i].file))
            return (long)i;
    return -1;
}

static void collect(const lg_stack **v, size_t *n, size_t cap, const lg_stack *s)
{
    if (!s || !s->n || *n >= cap)
        return;
    for (size_t i = 0; i < *n; i++)
        if (v[i] == s)
            return;
    v[(*n)++] = s;
}

const lg_frame *lg_finding_where_frame(const lg_finding *f, const lg_stack *s)
{
    const lg_frame *plain = lg_stack_best_frame(s);
    if (!f || !plain)
        return plain;
    size_t cap = 2 * f->nedges + f->nsites + 1, n = 0;
    const lg_stack **v = malloc(cap * sizeof *v);
    long *pos = malloc(cap * sizeof *pos), *next = malloc(cap * sizeof *next);
    bool *move = malloc(cap * sizeof *move);
    if (!v || !pos || !next || !move)
        goto out;
    collect(v, &n, cap, s);   /* v[0] is s */
    /* The waits of a live finding (every front end has them; only some know where the
     * locks were taken), else every acquisition stack. */
    bool waits = false;
    for (size_t i = 0; i < f->nedges; i++)
        waits |= (f->edges[i].flags & LG_EDGE_WAITING) != 0;
    for (size_t i = 0; i < f->nedges; i++) {
        if (waits && !(f->edges[i].flags & LG_EDGE_WAITING))
            continue;
        collect(v, &n, cap, &f->edges[i].stack);
        if (!waits)
            collect(v, &n, cap, &f->edges[i].holds_stack);
    }
    for (size_t i = 0; i < f->nsites && !waits; i++)
        collect(v, &n, cap, &f->sites[i].stack);
    for (size_t k = 0; k < n; k++)
        pos[k] = best_from(v[k], 0);
    for (size_t round = 0; round < 64; round++) {
        for (size_t k = 0; k < n; k++)
            next[k] = pos[k] >= 0 ? best_from(v[k], (size_t)pos[k] + 1) : -1;
        bool any = false;
        for (size_t k = 0; k < n; k++) {
            move[k] = false;
            if (next[k] < 0)
                continue;
            const lg_frame *a = &v[k]->frames[pos[k]], *an = &v[k]->frames[next[k]];
            for (size_t j = 0; j < n && !move[k]; j++)
                move[k] = j != k && next[j] >= 0 && same_frame(a, &v[j]->frames[pos[j]]) &&
                          !same_frame(an, &v[j]->frames[next[j]]);
            any |= move[k];
        }
        if (!any)
            break;
        for (size_t k = 0; k < n; k++)
            if (move[k])
                pos[k] = next[k];
    }
    if (n && pos[0] >= 0)
        plain = &s->frames[pos[0]];
out:
    free(v);
    free(pos);
    free(next);
    free(move);
    return plain;
}

void lg_finding_where(const lg_finding *f, const lg_stack *s, char *buf, size_t len)
{
    const lg_frame *b = lg_finding_where_frame(f, s);
    if (!b) {
        lg_stack_where(s, buf, len);
        return;
    }
    const char *base = strrchr(b->file, '/');
    snprintf(buf, len, "%s:%d", base ? base + 1 : b->file, b->line);
}
