/* fingerprint.c - a finding's stable identity (model.h: lg_finding_fingerprint).
 *
 * Used to say "the same bug" across the processes of one run (merged reports) and across
 * runs and machines (SARIF partialFingerprints). So it is built from what the program's
 * source decides, never from what the run decides: no addresses (ASLR, heap), no thread or
 * process ids, no absolute paths (file base names only). A cycle found from another thread
 * starts at another edge, so edges are combined by a sum, which does not depend on order.
 */
#include <string.h>

#include "../util/hash.h"
#include "model.h"

/* FNV-1a over bytes, then a final mix; stable by definition (never a pointer hash). */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull;   /* a separator: "ab","c" is not "a","bc" */
}

static uint64_t fnv_u(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        h = (h ^ (v & 0xff)) * 0x100000001b3ull;
    return h;
}

static uint64_t finish(uint64_t h)
{
    return lg_fmix64_round(h);
}

#define FNV_BASIS 0xcbf29ce484222325ull

/* Where a stack is, as the source says it: function, file base name, line. */
static uint64_t where(uint64_t h, const lg_stack *s)
{
    const lg_frame *f = lg_stack_best_frame(s);
    if (!f) {   /* no line anywhere: the first named function */
        for (size_t i = 0; i < s->n && !f; i++)
            if (s->frames[i].function)
                f = &s->frames[i];
        return f ? fnv(h, f->function) : fnv(h, "?");
    }
    const char *base = strrchr(f->file, '/');
    h = fnv(h, f->function);
    h = fnv(h, base ? base + 1 : f->file);
    return fnv_u(h, (uint64_t)f->line);
}

/* A lock's name when it means the same in every run: a symbol or a name the program gave;
 * not "heap 0x...", "stack 0x... of thread N" or a module+offset. */
static bool stable_name(const char *n)
{
    return n && *n && !strstr(n, "0x") && !strstr(n, "thread ");
}

uint64_t lg_finding_fingerprint(const lg_finding *f)
{
    uint64_t h = fnv(FNV_BASIS, lg_kind_name(f->kind));
    uint64_t edges = 0, names = 0;
    for (size_t i = 0; i < f->nedges; i++) {
        const lg_edge *e = &f->edges[i];
        uint64_t eh = where(FNV_BASIS, &e->stack);
        eh = where(eh, &e->holds_stack);
        eh = fnv_u(eh, (uint64_t)e->acquires_mode << 8 | (uint64_t)e->holds_mode << 4
                           | (e->flags & (LG_EDGE_TRYLOCK | LG_EDGE_TIMED | LG_EDGE_COND)));
        edges += finish(eh);
    }
    for (size_t i = 0; i < f->nlocks; i++)
        if (stable_name(f->locks[i].name))
            names += finish(fnv(fnv_u(FNV_BASIS, f->locks[i].type), f->locks[i].name));
    if (f->kind == LG_KIND_MISUSE) {
        /* One misuse per subkind and code location of the misusing call: the places where
         * the lock was taken or destroyed vary with the run (which thread got there first). */
        h = fnv(h, lg_misuse_name(f->misuse));
        bool any = false;   /* exit-holding has no call: the acquisitions left held */
        for (size_t i = 0; i < f->nsites; i++)
            any |= f->sites[i].role == LG_SITE_MISUSE;
        for (size_t i = 0; i < f->nsites; i++)
            if (f->sites[i].role == (any ? LG_SITE_MISUSE : LG_SITE_ACQUIRED))
                edges += finish(where(FNV_BASIS, &f->sites[i].stack));
    }
    h = fnv_u(h, edges);
    h = fnv_u(h, names);
    /* Not LG_FINDING_SAME_THREAD: the same code paths are the same bug whether one thread
     * or two happened to run them (a test suite sees both; a racy run flips between them). */
    return finish(fnv_u(h, f->flags & (LG_FINDING_TIMED | LG_FINDING_SELF)));
}
