/* timeline.c - building, indexing and freeing an lg_timeline (see timeline.h).
 *
 * Adds append without searching (a trace may define millions of locks); lg_timeline_index()
 * then sorts each table by id and keeps the LAST definition of a repeated id, so a thread
 * renamed after it started shows its final name. No I/O and no decoding here.
 */
#include "timeline.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../util/xalloc.h"

static const char *const ev_names[LG_EV_TYPE_COUNT] = {
    [LG_EV_NONE] = "none", [LG_EV_ACQUIRE] = "acquire",
    [LG_EV_ACQUIRE_BEGIN] = "acquire-begin", [LG_EV_ACQUIRE_END] = "acquire-end",
    [LG_EV_WAIT_BEGIN] = "wait-begin", [LG_EV_WAIT_END] = "wait-end",
    [LG_EV_WAIT_FAIL] = "wait-fail", [LG_EV_RELEASE] = "release",
    [LG_EV_TRYLOCK_FAIL] = "trylock-fail", [LG_EV_COND_WAIT_BEGIN] = "cond-wait-begin",
    [LG_EV_COND_WAIT_END] = "cond-wait-end", [LG_EV_THREAD_START] = "thread-start",
    [LG_EV_THREAD_EXIT] = "thread-exit",
};

const char *lg_ev_type_name(int type)
{
    return type >= 0 && type < LG_EV_TYPE_COUNT && ev_names[type] ? ev_names[type] : "?";
}

void lg_timeline_init(lg_timeline *t)
{
    memset(t, 0, sizeof *t);
}

void lg_timeline_free(lg_timeline *t)
{
    for (size_t i = 0; i < t->nthreads; i++)
        free(t->threads[i].name);
    for (size_t i = 0; i < t->nlocks; i++)
        free(t->locks[i].name);
    for (size_t i = 0; i < t->nstacks; i++) {
        free(t->stacks[i].pcs);
        lg_stack_free(&t->stacks[i].sym);
    }
    for (size_t i = 0; i < t->nmodules; i++)
        free(t->modules[i].path);
    for (size_t i = 0; i < t->nnotes; i++)
        free(t->notes[i]);
    free(t->events);
    free(t->threads);
    free(t->locks);
    free(t->stacks);
    free(t->modules);
    free(t->notes);
    free(t->sched);
    free(t->counts);
    lg_timeline_init(t);
}

int lg_timeline_add_thread(lg_timeline *t, int tid, const char *name)
{
    lg_tl_thread th = {.tid = tid, .name = lg_strdup(name)};
    if ((name && !th.name) || LG_APPEND(t->threads, t->nthreads, &th) < 0) {
        free(th.name);
        return -1;
    }
    return 0;
}

int lg_timeline_add_lock(lg_timeline *t, uint32_t id, uint64_t address, lg_lock_type type,
                         const char *name)
{
    lg_tl_lock l = {.id = id, .address = address, .type = type, .name = lg_strdup(name)};
    if ((name && !l.name) || LG_APPEND(t->locks, t->nlocks, &l) < 0) {
        free(l.name);
        return -1;
    }
    return 0;
}

int lg_timeline_add_stack(lg_timeline *t, uint32_t id, const uint64_t *pcs, size_t n)
{
    lg_tl_stack s = {.id = id, .n = n};
    s.pcs = malloc((n ? n : 1) * sizeof *pcs);
    if (!s.pcs)
        return -1;
    if (n)
        memcpy(s.pcs, pcs, n * sizeof *pcs);
    if (LG_APPEND(t->stacks, t->nstacks, &s) < 0) {
        free(s.pcs);
        return -1;
    }
    return 0;
}

int lg_timeline_add_event(lg_timeline *t, const lg_tl_event *e)
{
    return LG_APPEND(t->events, t->nevents, e);
}

int lg_timeline_add_count(lg_timeline *t, const lg_tl_count *c)
{
    return LG_APPEND(t->counts, t->ncounts, c);
}

int lg_timeline_add_note(lg_timeline *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = lg_vasprintf(fmt, ap);
    va_end(ap);
    if (!s || LG_APPEND(t->notes, t->nnotes, &s) < 0) {
        free(s);
        return -1;
    }
    return 0;
}

/* qsort is not stable: tag each entry with its position through a parallel sort. */
typedef struct pos_key { uint64_t key; size_t pos; } pos_key;

static int cmp_pos(const void *a, const void *b)
{
    const pos_key *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Reorder `arr` (n elements of `size`) by key, stably, and drop all but the last of each key.
 * `drop` frees an entry's owned memory. Returns the new count. */
static size_t sort_dedup(void *arr, size_t n, size_t size, uint64_t (*key)(const void *),
                         void (*drop)(void *))
{
    if (n < 2)
        return n;
    pos_key *k = malloc(n * sizeof *k);
    char *tmp = malloc(n * size);
    if (!k || !tmp) {
        free(k);
        free(tmp);
        return n;   /* unsorted but intact; only lookups suffer */
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (pos_key){key((char *)arr + i * size), i};
    qsort(k, n, sizeof *k, cmp_pos);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        char *src = (char *)arr + k[i].pos * size;
        if (i + 1 < n && k[i + 1].key == k[i].key) {
            drop(src);
            continue;
        }
        memcpy(tmp + out * size, src, size);
        out++;
    }
    memcpy(arr, tmp, out * size);
    free(tmp);
    free(k);
    return out;
}

static uint64_t key_thread(const void *p) { return (uint64_t)(uint32_t)((const lg_tl_thread *)p)->tid; }
static uint64_t key_lock(const void *p) { return ((const lg_tl_lock *)p)->id; }
static uint64_t key_stack(const void *p) { return ((const lg_tl_stack *)p)->id; }
static void drop_thread(void *p) { free(((lg_tl_thread *)p)->name); }
static void drop_lock(void *p) { free(((lg_tl_lock *)p)->name); }
static void drop_stack(void *p)
{
    free(((lg_tl_stack *)p)->pcs);
    lg_stack_free(&((lg_tl_stack *)p)->sym);
}

void lg_timeline_index(lg_timeline *t)
{
    t->nthreads = sort_dedup(t->threads, t->nthreads, sizeof *t->threads, key_thread, drop_thread);
    t->nlocks = sort_dedup(t->locks, t->nlocks, sizeof *t->locks, key_lock, drop_lock);
    t->nstacks = sort_dedup(t->stacks, t->nstacks, sizeof *t->stacks, key_stack, drop_stack);
}

/* Binary search over a table sorted by lg_timeline_index(). */
#define LOOKUP(fn, type, arr, n, field, keytype, cmp)                                        \
    const type *fn(const lg_timeline *t, keytype id)                                         \
    {                                                                                        \
        size_t lo = 0, hi = t->n;                                                            \
        while (lo < hi) {                                                                    \
            size_t mid = lo + (hi - lo) / 2;                                                 \
            if (t->arr[mid].field == id)                                                     \
                return &t->arr[mid];                                                         \
            if (cmp(t->arr[mid].field, id))                                                  \
                lo = mid + 1;                                                                \
            else                                                                             \
                hi = mid;                                                                    \
        }                                                                                    \
        return NULL;                                                                         \
    }
#define LESS_U32(a, b) ((uint32_t)(a) < (uint32_t)(b))
LOOKUP(lg_timeline_thread, lg_tl_thread, threads, nthreads, tid, int, LESS_U32)
LOOKUP(lg_timeline_lock, lg_tl_lock, locks, nlocks, id, uint32_t, LESS_U32)
LOOKUP(lg_timeline_stack, lg_tl_stack, stacks, nstacks, id, uint32_t, LESS_U32)
