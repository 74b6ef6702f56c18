/* test-trace-writer.c - the writer's own machinery, under ASan/UBSan:
 *  - the encoder (src/trace/encode.c): its AVX2, SSE2 and register tiers and the plain path
 *    write exactly the bytes of a naive encoder written here from docs/trace-format.md, for every
 *    kind of event (small and large ids and deltas, backwards ticks, arguments, with and
 *    without stacks, mixed), into a buffer of exactly the documented size;
 *  - an event with an argument arriving when one slot is left in the buffer;
 *  - many threads that each record a few events touch only a few pages each;
 *  - a thread that records slowly reaches the file without any explicit flush.
 * Each writer scenario runs in a child process (the writer records one trace per process). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t.h"
#include "trace/encode.h"
#include "trace/reader.h"
#include "trace/trace.h"

/* ---- the reference: one field at a time, as the format document says ---- */

static uint8_t *ref_varint(uint8_t *p, uint64_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        *p++ = b | (v ? 0x80 : 0);
    } while (v);
    return p;
}

static size_t ref_encode(uint8_t *out, const uint64_t *tick, const lg_trace_ev *ev, size_t n,
                         uint64_t prev, size_t *args)
{
    uint8_t *p = out;
    *args = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t t = tick[i];
        uint32_t lock = ev[i].lock, head = ev[i].info >> 24, stack = ev[i].info & 0xffffff;
        uint32_t arg = 0;
        if (head & LG_REC_HAS_ARG) {
            arg = ev[++i].lock;
            ++*args;
        }
        *p++ = (uint8_t)((head & (LG_REC_TYPE_MASK | LG_REC_SHARED)) |
                         (stack ? LG_REC_HAS_STACK : 0) | (arg ? LG_REC_HAS_ARG : 0));
        int64_t d = (int64_t)(t - prev);
        prev = t;
        p = ref_varint(p, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
        p = ref_varint(p, lock);
        if (stack)
            p = ref_varint(p, stack);
        if (arg)
            p = ref_varint(p, arg);
    }
    return (size_t)(p - out);
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* A small value (`small` percent of the time), else one at the edges that matter: the
 * tiers switch at 128 (one byte) and 2^14 (two bytes). */
static uint32_t pick(int small, uint32_t max_small)
{
    if ((int)(rnd() % 100) < small)
        return rnd() % (max_small + 1);
    static const uint32_t edges[] = {63, 64, 127, 128, 129, 16383, 16384, 1u << 21,
                                     0xffffff, 0xffffffffu};
    return edges[rnd() % (sizeof edges / sizeof *edges)];
}

typedef struct kind {
    const char *name;
    int small;           /* percent of small fields */
    int stacks;          /* percent of events with a stack */
    int args;            /* percent of events with an argument */
} kind;

static int encode_case(const kind *k, size_t n, uint64_t prev)
{
    uint64_t *tick = calloc(n + 1, sizeof *tick);
    lg_trace_ev *ev = calloc(n + 1, sizeof *ev);
    size_t m = 0;
    uint64_t t = prev;
    while (m < n) {
        int small = (int)(rnd() % 100) < k->small;
        int64_t d = small ? (int64_t)(rnd() % 64)
                  : (int64_t[]){64, 65, 8191, 8192, -1, -5000, 1ll << 40, INT64_MIN}[rnd() % 8];
        t += (uint64_t)d;
        uint32_t stack = (int)(rnd() % 100) < k->stacks ? pick(k->small, 127) : 0;
        if (stack > 0xffffff)
            stack = 0xffffff;
        uint32_t head = (1 + rnd() % (LG_EV_TYPE_COUNT - 1)) | (rnd() % 2 ? LG_REC_SHARED : 0);
        int arg = m + 1 < n && (int)(rnd() % 100) < k->args;
        tick[m] = t;
        ev[m].lock = pick(k->small, 127);
        ev[m].info = stack | (head | (arg ? LG_REC_HAS_ARG : 0)) << 24;
        if (arg) {
            ++m;
            tick[m] = t;
            ev[m] = (lg_trace_ev){pick(30, 127) | 1, 0};
        }
        ++m;
    }
    /* exactly the documented room: ASan reports any store past it */
    size_t room = n * LG_ENCODE_MAX_BYTES + LG_REC_SLACK;
    uint8_t *want = malloc(room);
    size_t wargs;
    size_t wn = ref_encode(want, tick, ev, n, prev, &wargs);
    int bad = 0;
    static const int blocks[] = {1, 4, 8};
    for (int b = 0; b < 3; b++) {
        uint8_t *got = malloc(room);
        size_t gargs;
        uint64_t gprev = prev;
        size_t gn = (size_t)(lg_trace_encode_with(blocks[b], got, tick, ev, n, &gprev, &gargs)
                             - got);
        if (gn != wn || memcmp(got, want, wn) != 0 || gargs != wargs || gprev != t) {
            fprintf(stderr, "encode %s, %zu slots, blocks of %d: %zu bytes (want %zu), %zu args "
                    "(want %zu)\n", k->name, n, blocks[b], gn, wn, gargs, wargs);
            bad = 1;
        }
        free(got);
    }
    if (n) {   /* and what the writer calls */
        uint8_t *got = malloc(room);
        size_t gargs;
        uint64_t gprev = prev;
        bad |= (size_t)(lg_trace_encode(got, tick, ev, n, &gprev, &gargs) - got) != wn
            || memcmp(got, want, wn) != 0;
        free(got);
    }
    free(want);
    free(tick);
    free(ev);
    return bad;
}

static void test_encoder(void)
{
    static const kind kinds[] = {
        {"small, stacks", 100, 100, 0},      /* four at once, 16 bytes */
        {"small, no stacks", 100, 0, 0},     /* four at once, 12 bytes */
        {"small, some stacks", 100, 50, 0},  /* one at a time */
        {"mostly small", 90, 90, 3},
        {"half", 50, 70, 10},
        {"large", 0, 100, 30},
        {"arguments", 100, 100, 50},
    };
    int bad = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        for (int round = 0; round < 200; round++)
            bad += encode_case(&kinds[k], 1 + rnd() % 300, round % 2 ? rnd() : 0);
    for (size_t n = 0; n < 20; n++)   /* every tail length around the blocks */
        bad += encode_case(&kinds[0], n, 5);
    CHECK_INT(bad, 0);
    fprintf(stderr, "encoder: blocks of 8 (AVX2) %s on this CPU\n",
            lg_trace_encode_avx2() ? "used and compared" : "not available");
}

/* ---- writer scenarios, one child process each ---- */

static int read_trace(const char *path, lg_timeline *t)
{
    lg_timeline_init(t);
    lg_trace_status st;
    int rc = lg_trace_read_file(path, t, &st);
    if (rc != 0)
        fprintf(stderr, "reading %s: %s\n", path, st.error);
    return rc;
}

/* One slot left when an event with an argument comes: it must not be split. */
static int straddle(const char *path)
{
    char err[256];
    lg_trace_options opt = {.no_atexit = 1};
    if (lg_trace_open(path, &opt, err, sizeof err) < 0)
        return 10;
    lg_trace_emit(LG_EV_ACQUIRE, 1, LG_MODE_EXCLUSIVE, 0, 0);
    for (uint32_t i = 1; i <= 3000; i++)   /* 2 slots each: the 512th has 1 slot left */
        lg_trace_emit(LG_EV_WAIT_BEGIN, 2, LG_MODE_EXCLUSIVE, i, 0);
    lg_trace_close();
    lg_timeline t;
    if (read_trace(path, &t) != 0 || t.nevents != 3001)
        return 11;
    for (uint32_t i = 1; i <= 3000; i++)
        if (t.events[i].arg != i || t.events[i].lock != 2 || t.events[i].type != LG_EV_WAIT_BEGIN)
            return 12;
    lg_timeline_free(&t);
    return 0;
}

#define MANY 1000
static pthread_barrier_t many_bar;

static void *few_events(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        lg_trace_emit(LG_EV_ACQUIRE, (uint32_t)i + 1, LG_MODE_EXCLUSIVE, 0, 0);
    pthread_barrier_wait(&many_bar);   /* all alive at once: no buffer recycled yet */
    pthread_barrier_wait(&many_bar);
    return NULL;
}

/* 1000 threads with a few events each: a few pages each, not the whole buffer. */
static int many_threads(const char *path)
{
    char err[256];
    lg_trace_options opt = {.no_atexit = 1};
    if (lg_trace_open(path, &opt, err, sizeof err) < 0)
        return 20;
    pthread_barrier_init(&many_bar, NULL, MANY + 1);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 << 10);
    static pthread_t th[MANY];
    for (int i = 0; i < MANY; i++)
        if (pthread_create(&th[i], &a, few_events, NULL) != 0)
            return 21;
    pthread_barrier_wait(&many_bar);
    lg_trace_stats st;
    lg_trace_get_stats(&st);
    pthread_barrier_wait(&many_bar);
    for (int i = 0; i < MANY; i++)
        pthread_join(th[i], NULL);
    lg_trace_close();
    fprintf(stderr, "many threads: %llu buffers, %llu KiB resident (%.1f KiB each)\n",
            (unsigned long long)st.buffers, (unsigned long long)st.resident >> 10,
            (double)st.resident / 1024 / (double)(st.buffers ? st.buffers : 1));
    if (st.buffers < MANY || st.resident > st.buffers * (16u << 10))
        return 22;
    lg_timeline t;
    if (read_trace(path, &t) != 0 || t.nevents != 3 * MANY)
        return 23;
    lg_timeline_free(&t);
    return 0;
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* A thread whose buffer filled long ago has its events in the file by the next time it
 * fills, without waiting for a whole batch. */
static int slow_thread(const char *path)
{
    char err[256];
    lg_trace_options opt = {.no_atexit = 1};
    if (lg_trace_open(path, &opt, err, sizeof err) < 0)
        return 30;
    for (int i = 0; i < LG_TRACE_BUF_EVENTS + 1; i++)   /* fills the buffer once */
        lg_trace_emit(LG_EV_ACQUIRE, 1, LG_MODE_EXCLUSIVE, 0, 0);
    off_t before = file_size(path);
    nanosleep(&(struct timespec){0, 150 * 1000 * 1000}, NULL);
    for (int i = 0; i < LG_TRACE_BUF_EVENTS; i++)       /* fills it again */
        lg_trace_emit(LG_EV_RELEASE, 1, LG_MODE_EXCLUSIVE, 0, 0);
    off_t after = file_size(path);
    lg_trace_close();
    fprintf(stderr, "slow thread: %lld bytes before the pause, %lld after\n",
            (long long)before, (long long)after);
    /* at least the first buffer's 1024 events, 3 bytes each */
    return after - before >= 3 * LG_TRACE_BUF_EVENTS ? 0 : 31;
}

static int in_child(int (*fn)(const char *))
{
    char path[] = "/tmp/lg-trace-writer-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(path));
    int status = -1;
    waitpid(pid, &status, 0);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void)
{
    test_encoder();
    CHECK_INT(in_child(straddle), 0);
    CHECK_INT(in_child(many_threads), 0);
    CHECK_INT(in_child(slow_thread), 0);
    T_DONE();
}
