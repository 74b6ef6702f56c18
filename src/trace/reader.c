/* reader.c - decode and validate a trace file (see reader.h; bytes in docs/trace-format.md).
 *
 * Does: check the header, walk the chunks (magic, bounds, checksum, then the payload with
 * bounded varints), convert ticks to nanoseconds from the calibration pairs, sort the events by
 * time keeping each thread's order. A bad chunk stops the walk: everything before it is kept,
 * nothing of it. Does not: symbolize, analyse, or print.
 */
#include "reader.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/safefile.h"
#include "../util/xalloc.h"
#include "format.h"

typedef struct cursor {
    const uint8_t *p, *end;
    const char *err;       /* first problem, static string */
} cursor;

static uint64_t get_varint(cursor *c)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end) {
            c->err = c->err ? c->err : "a number runs past the end of its chunk";
            return 0;
        }
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    c->err = c->err ? c->err : "a number is longer than 10 bytes";
    return 0;
}

static uint32_t get_u32(cursor *c, const char *what)
{
    uint64_t v = get_varint(c);
    if (v > UINT32_MAX && !c->err)
        c->err = what;
    return (uint32_t)v;
}

static int get_byte(cursor *c)
{
    if (c->p >= c->end) {
        c->err = c->err ? c->err : "an entry runs past the end of its chunk";
        return 0;
    }
    return *c->p++;
}

/* A length-prefixed string, copied and NUL-terminated (NUL bytes inside end it). */
static char *get_str(cursor *c, int *present)
{
    uint64_t n = get_varint(c);
    *present = 0;
    if (c->err)
        return NULL;
    if (n >= LG_TRACE_MAX_NAME || n > (uint64_t)(c->end - c->p)) {
        c->err = "a name is longer than its chunk or the 4096-byte limit";
        return NULL;
    }
    char *s = malloc(n + 1);
    if (!s) {
        c->err = "out of memory";
        return NULL;
    }
    memcpy(s, c->p, n);
    s[n] = '\0';
    c->p += n;
    *present = n > 0;
    return s;
}

typedef struct calib { uint64_t tick, ns; } calib;

typedef struct scan scan;

typedef struct state {
    lg_timeline *t;
    scan *sc;              /* streaming (lg_trace_stream_open): events are checked, not kept */
    uint64_t start_tick, start_ns, q32;
    int tsc;
    unsigned version;
    calib last;            /* the calibration pair latest in time */
    uint64_t end_tick;     /* from the end record */
    int have_end_tick;
} state;

static void see_calib(state *s, uint64_t tick, uint64_t ns)
{
    if (ns > s->last.ns && tick > s->start_tick)
        s->last = (calib){tick, ns};
}

static void meta_chunk(state *s, cursor *c)
{
    lg_timeline *t = s->t;
    while (c->p < c->end && !c->err) {
        int tag = get_byte(c), present;
        switch (tag) {
        case LG_META_THREAD: {
            uint32_t tid = get_u32(c, "a thread id is out of range");
            char *name = get_str(c, &present);
            if (!c->err && (tid > INT_MAX || lg_timeline_add_thread(t, (int)tid, present ? name : NULL) < 0))
                c->err = tid > INT_MAX ? "a thread id is out of range" : "out of memory";
            free(name);
            break;
        }
        case LG_META_LOCK: {
            uint32_t id = get_u32(c, "a lock id is out of range");
            uint64_t addr = get_varint(c);
            int type = get_byte(c);
            char *name = get_str(c, &present);
            if (!c->err && type >= LG_LOCK_TYPE_COUNT)
                c->err = "a lock has an unknown type";
            if (!c->err && lg_timeline_add_lock(t, id, addr, (lg_lock_type)type,
                                                present ? name : NULL) < 0)
                c->err = "out of memory";
            free(name);
            break;
        }
        case LG_META_STACK: {
            uint32_t id = get_u32(c, "a stack id is out of range");
            uint64_t n = get_varint(c);
            if (c->err)
                break;
            if (n > LG_TRACE_MAX_FRAMES || n > (uint64_t)(c->end - c->p)) {
                c->err = "a stack has more frames than its chunk or the 256-frame limit";
                break;
            }
            uint64_t pcs[LG_TRACE_MAX_FRAMES], prev = 0;
            for (uint64_t i = 0; i < n && !c->err; i++)
                prev = pcs[i] = prev + (uint64_t)lg_unzigzag(get_varint(c));
            if (!c->err && lg_timeline_add_stack(t, id, pcs, (size_t)n) < 0)
                c->err = "out of memory";
            break;
        }
        case LG_META_MODULE: {
            lg_tl_module m = {0};
            m.start = get_varint(c);
            m.end = get_varint(c);
            m.bias = get_varint(c);
            char *path = get_str(c, &present);
            uint64_t bl = get_varint(c);
            if (!c->err && (bl > sizeof m.build_id || bl > (uint64_t)(c->end - c->p)))
                c->err = "a module build-id is longer than 64 bytes or its chunk";
            if (!c->err && (!present || m.end <= m.start))
                c->err = "a module has no path or an empty address range";
            if (c->err) {
                free(path);
                break;
            }
            memcpy(m.build_id, c->p, bl);
            m.build_id_len = bl;
            c->p += bl;
            m.path = path;
            if (LG_APPEND(t->modules, t->nmodules, &m) < 0) {
                free(path);
                c->err = "out of memory";
            }
            break;
        }
        case LG_META_NOTE: {
            char *text = get_str(c, &present);
            if (!c->err && present && lg_timeline_add_note(t, "%s", text) < 0)
                c->err = "out of memory";
            free(text);
            break;
        }
        case LG_META_END: {
            uint64_t ev = get_varint(c), dropped = get_varint(c);
            uint64_t tick = get_varint(c), ns = get_varint(c);
            (void)ev;
            if (c->err)
                break;
            t->closed = true;
            t->dropped = dropped;
            s->end_tick = tick;
            s->have_end_tick = 1;
            see_calib(s, tick, ns);
            break;
        }
        case LG_META_COUNTS: {
            if (s->version < 2) {
                c->err = "a definition has an unknown tag";
                break;
            }
            lg_tl_count k = {0};
            uint32_t tid = get_u32(c, "a thread id is out of range");
            k.lock = get_u32(c, "a lock id is out of range");
            k.stack = get_u32(c, "a stack id is out of range");
            int mode = get_byte(c);
            k.acquisitions = get_varint(c);
            k.sampled = get_varint(c);
            k.sampled_hold = get_varint(c);    /* ticks: converted with the events */
            k.longest_sampled = get_varint(c);
            if (c->err)
                break;
            if (tid == 0 || tid > INT_MAX || k.lock == 0 || mode > LG_MODE_SHARED
                || k.sampled > k.acquisitions) {
                c->err = "a counts entry is invalid";
                break;
            }
            k.tid = (int)tid;
            k.mode = (uint8_t)mode;
            if (lg_timeline_add_count(t, &k) < 0)
                c->err = "out of memory";
            break;
        }
        default:
            c->err = c->err ? c->err : "a definition has an unknown tag";
        }
    }
}

/* `lockgraph record --sched`: varint events the kernel lost, varint count, then per record a kind byte, a zigzag varint of
 * CLOCK_MONOTONIC ns minus the previous record's (the first: minus 0), a state byte, and the
 * two tids as varints. All or nothing: a malformed chunk adds no record. */
static void sched_chunk(state *s, cursor *c)
{
    lg_timeline *t = s->t;
    uint64_t lost = get_varint(c), n = get_varint(c);
    if (c->err)
        return;
    if (n > (uint64_t)(c->end - c->p) / 5) {
        c->err = "the scheduler record count is larger than the chunk";
        return;
    }
    size_t before = t->nsched;
    uint64_t prev = 0;
    for (uint64_t i = 0; i < n && !c->err; i++) {
        int kind = get_byte(c);
        uint64_t ts = prev + (uint64_t)lg_unzigzag(get_varint(c));
        int state = get_byte(c);
        uint64_t a = get_varint(c), b = get_varint(c);
        if (c->err)
            break;
        if ((kind != LG_TL_SCHED_SWITCH && kind != LG_TL_SCHED_WAKING) || a > INT_MAX
            || b > INT_MAX) {
            c->err = "a scheduler record is invalid";
            break;
        }
        prev = ts;
        lg_tl_sched r = {.ts = ts > s->start_ns ? ts - s->start_ns : 0, .kind = (uint8_t)kind,
                         .state = (char)state, .a = (int)a, .b = (int)b,
                         .order = (uint32_t)t->nsched};
        if (LG_APPEND(t->sched, t->nsched, &r) < 0)
            c->err = "out of memory";
    }
    if (c->err) {
        t->nsched = before;
        return;
    }
    t->has_sched = true;
    if (lost && lg_timeline_add_note(t, "the kernel's scheduler trace lost %" PRIu64
                                     " events (its buffer overran)", lost) < 0)
        c->err = "out of memory";
}

/* By time, then as read: timestamps have microsecond precision, and qsort is not stable, so
 * without the tie-break a wake-up and the switch-in that follows it can swap. */
static int cmp_sched(const void *x, const void *y)
{
    const lg_tl_sched *a = x, *b = y;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* One event record at c (tick: the previous record's, updated). 0, or -1 with c->err set. */
static int get_event(cursor *c, uint64_t *tick, int tid, lg_tl_event *e)
{
    int head = get_byte(c);
    *e = (lg_tl_event){.tid = tid};
    e->type = (uint8_t)(head & LG_REC_TYPE_MASK);
    e->mode = head & LG_REC_SHARED ? LG_MODE_SHARED : LG_MODE_EXCLUSIVE;
    *tick += (uint64_t)lg_unzigzag(get_varint(c));
    e->ts = *tick;   /* converted to ns once every calibration pair is known */
    e->lock = get_u32(c, "a lock id is out of range");
    if (head & LG_REC_HAS_STACK)
        e->stack = get_u32(c, "a stack id is out of range");
    if (head & LG_REC_HAS_ARG)
        e->arg = get_u32(c, "an event argument is out of range");
    if (c->err)
        return -1;
    if (e->type == LG_EV_NONE || e->type >= LG_EV_TYPE_COUNT) {
        c->err = "an event has an unknown type";
        return -1;
    }
    return 0;
}

/* An event chunk's header: calibration pair, first tick, count. 0, or -1 with c->err. */
static int events_header(cursor *c, int tid, uint64_t *ctick, uint64_t *cns, uint64_t *tick,
                         uint64_t *n)
{
    *ctick = get_varint(c);
    *cns = get_varint(c);
    *tick = get_varint(c);
    *n = get_varint(c);
    if (c->err)
        return -1;
    if (tid <= 0) {
        c->err = "an event chunk has no thread id";
        return -1;
    }
    if (*n > (uint64_t)(c->end - c->p) / 3) {   /* a record is at least 3 bytes */
        c->err = "an event chunk claims more events than it has bytes for";
        return -1;
    }
    return 0;
}

static void scan_event(scan *sc, const lg_tl_event *e);
static int scan_chunk(scan *sc, uint64_t off, uint32_t plen, int tid, uint64_t n,
                      uint64_t first_tick, uint64_t last_tick, uint64_t max_tick, bool ordered);
static void scan_chunk_failed(scan *sc);

static void events_chunk(state *s, cursor *c, int tid, uint64_t off)
{
    uint64_t ctick, cns, tick, n;
    const uint8_t *start = c->p;
    if (events_header(c, tid, &ctick, &cns, &tick, &n) < 0)
        return;
    see_calib(s, ctick, cns);
    uint64_t first = tick, prev = 0, max = 0;
    bool ordered = true;
    for (uint64_t i = 0; i < n && !c->err; i++) {
        lg_tl_event e;
        if (get_event(c, &tick, tid, &e) < 0)
            break;
        if (i == 0)
            first = e.ts;
        else if (e.ts < prev)
            ordered = false;
        prev = e.ts;
        if (e.ts > max)
            max = e.ts;
        if (s->sc)
            scan_event(s->sc, &e);
        else if (lg_timeline_add_event(s->t, &e) < 0)
            c->err = "out of memory";
    }
    if (!c->err && c->p != c->end)
        c->err = "an event chunk has bytes after its last event";
    if (s->sc && !c->err && scan_chunk(s->sc, off, (uint32_t)(c->end - start), tid, n, first,
                                       prev, max, ordered) < 0)
        c->err = "out of memory";
    if (s->sc && c->err)
        scan_chunk_failed(s->sc);
}

/* Undo a chunk that turned out bad: drop whatever it added. */
typedef struct counts { size_t ev, th, lk, st, mo, no, co; } counts;

static counts count_of(const lg_timeline *t)
{
    return (counts){t->nevents, t->nthreads, t->nlocks, t->nstacks, t->nmodules, t->nnotes,
                    t->ncounts};
}

static void roll_back(lg_timeline *t, counts c)
{
    t->nevents = c.ev;
    t->ncounts = c.co;
    while (t->nthreads > c.th)
        free(t->threads[--t->nthreads].name);
    while (t->nlocks > c.lk)
        free(t->locks[--t->nlocks].name);
    while (t->nstacks > c.st)
        free(t->stacks[--t->nstacks].pcs);
    while (t->nmodules > c.mo)
        free(t->modules[--t->nmodules].path);
    while (t->nnotes > c.no)
        free(t->notes[--t->nnotes]);
}

static void fail(lg_trace_status *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(lg_trace_status *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->error, sizeof st->error, fmt, ap);
    va_end(ap);
}

/* Stable merge sort by time: events of one thread keep their recorded order. */
static void sort_events(lg_timeline *t)
{
    size_t n = t->nevents;
    if (n < 2)
        return;
    lg_tl_event *a = t->events, *b = malloc(n * sizeof *b);
    if (!b)
        return;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                b[k++] = a[j].ts < a[i].ts ? a[j++] : a[i++];
            while (i < mid)
                b[k++] = a[i++];
            while (j < hi)
                b[k++] = a[j++];
        }
        lg_tl_event *tmp = a;
        a = b;
        b = tmp;
    }
    if (a != t->events) {
        memcpy(t->events, a, n * sizeof *a);
        free(a);
    } else {
        free(b);
    }
}

/* ns per tick: the calibration pair latest in time against the start (TSC), else 1. */
static double tick_scale(const state *s)
{
    double k = s->tsc ? (double)s->q32 / 4294967296.0 : 1.0;
    if (s->tsc && s->last.ns > s->start_ns + 5000000 && s->last.tick > s->start_tick)
        k = (double)(s->last.ns - s->start_ns) / (double)(s->last.tick - s->start_tick);
    if (!(k > 0) || k > 1e6)
        k = 1.0;
    return k;
}

/* A tick as ns since the start (never decreasing in the tick). */
static uint64_t tick_ns(uint64_t start_tick, double k, uint64_t tick)
{
    double ns = tick > start_tick ? (double)(tick - start_tick) * k : 0;
    return ns < 1.8e19 ? (uint64_t)ns : UINT64_MAX / 2;
}

/* max_tick: the latest event's tick when the events are not in t (streaming), else 0. */
static void convert_times(state *s, uint64_t max_tick, bool have_max)
{
    lg_timeline *t = s->t;
    double k = tick_scale(s);
    uint64_t end = have_max ? tick_ns(s->start_tick, k, max_tick) : 0;
    for (size_t i = 0; i < t->nevents; i++) {
        t->events[i].ts = tick_ns(s->start_tick, k, t->events[i].ts);
        if (t->events[i].ts > end)
            end = t->events[i].ts;
    }
    /* Hold-time samples are durations: scaled, not shifted. */
    for (size_t i = 0; i < t->ncounts; i++) {
        lg_tl_count *n = &t->counts[i];
        double h = (double)n->sampled_hold * k, m = (double)n->longest_sampled * k;
        n->sampled_hold = h < 1.8e19 ? (uint64_t)h : UINT64_MAX / 2;
        n->longest_sampled = m < 1.8e19 ? (uint64_t)m : UINT64_MAX / 2;
    }
    /* Without an end record the trace ends at its last flush (a deadlock's or a fatal
     * signal's): waits still open then lasted at least until that moment. */
    uint64_t end_tick = s->have_end_tick ? s->end_tick : s->last.tick;
    if (end_tick > s->start_tick) {
        double ns = (double)(end_tick - s->start_tick) * k;
        if (ns < 1.8e19 && (uint64_t)ns > end)
            end = (uint64_t)ns;
    }
    t->end_ns = end;
}

/* Where the bytes come from: a buffer (lg_trace_read, the fuzzer) or a file read chunk by
 * chunk with pread (lg_trace_read_file), so memory follows the chunks that are really there
 * (a 100 GB sparse file stops at its first hole, having read 84 bytes), and a file that
 * shrinks while being read is a short read, never a fault. */
typedef struct source {
    const uint8_t *data;   /* the whole trace, or NULL: read from fd */
    int fd;
    uint64_t len;          /* bytes there: the buffer's, or the file's size when opened */
    uint8_t *buf;          /* fd: the bytes of the last read */
    size_t cap;
    int err;               /* fd: errno of a failed read, -1 for a short one */
} source;

/* n bytes at off, or NULL (s->err says why) when they are not all there. */
static const uint8_t *src_at(source *s, uint64_t off, size_t n)
{
    if (off > s->len || n > s->len - off) {
        s->err = -1;
        return NULL;
    }
    if (s->data)
        return s->data + off;
    if (n == 0)
        return (const uint8_t *)"";
    if (n > s->cap) {
        uint8_t *nb = realloc(s->buf, n);
        if (!nb) {
            s->err = ENOMEM;
            return NULL;
        }
        s->buf = nb;
        s->cap = n;
    }
    for (size_t got = 0; got < n;) {
        ssize_t r = pread(s->fd, s->buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            s->err = r < 0 ? errno : -1;
            return NULL;
        }
        got += (size_t)r;
    }
    return s->buf;
}

/* Why src_at failed, for "the chunk at offset N is cut short (...)". */
static const char *src_why(const source *s)
{
    if (s->err == -1)
        return s->data ? "the data ends" : "the file ended early: it shrank while being read";
    return strerror(s->err);
}

static void scan_done(scan *sc, state *s, lg_trace_status *st);

static int read_source(source *src, lg_timeline *t, lg_trace_status *st, scan *sc)
{
    uint64_t len = src->len;
    st->size = len;
    const uint8_t *data = src_at(src, 0, len < LG_TRACE_HEADER_SIZE ? (size_t)len
                                                                      : LG_TRACE_HEADER_SIZE);
    if (!data) {
        fail(st, "cannot read the header: %s", src_why(src));
        return -1;
    }
    if (len < 8 || memcmp(data, LG_TRACE_MAGIC, 8) != 0) {
        fail(st, "not a lockgraph trace (bad magic)");
        return -1;
    }
    if (len < LG_TRACE_HEADER_SIZE) {
        fail(st, "the header is truncated (%llu of %d bytes)", (unsigned long long)len,
             LG_TRACE_HEADER_SIZE);
        return -1;
    }
    unsigned version = lg_get16(data + LG_HDR_VERSION);
    if (version < LG_TRACE_VERSION_MIN || version > LG_TRACE_VERSION) {
        fail(st, "unsupported trace format version %u (this lockgraph reads versions %d to %d)",
             version, LG_TRACE_VERSION_MIN, LG_TRACE_VERSION);
        return -1;
    }
    if (lg_get32(data + LG_HDR_CHECKSUM) != lg_trace_sum(data, LG_HDR_CHECKSUM, 0) ||
        lg_get16(data + LG_HDR_SIZE) != LG_TRACE_HEADER_SIZE) {
        fail(st, "the header is corrupt (checksum mismatch)");
        return -1;
    }
    state s = {.t = t, .sc = sc, .version = version};
    s.tsc = (lg_get32(data + LG_HDR_FLAGS) & LG_TRACE_FLAG_TSC) != 0;
    t->counted = version >= 2 && (lg_get32(data + LG_HDR_FLAGS) & LG_TRACE_FLAG_COUNTED);
    s.start_ns = lg_get64(data + LG_HDR_START_NS);
    s.start_tick = lg_get64(data + LG_HDR_START_TICK);
    s.q32 = lg_get64(data + LG_HDR_NS_PER_TICK_Q32);
    s.last = (calib){s.start_tick, s.start_ns};
    t->pid = (int)lg_get32(data + LG_HDR_PID);
    t->start_real_ns = lg_get64(data + LG_HDR_START_REAL);

    uint64_t off = LG_TRACE_HEADER_SIZE;
    unsigned long long o;
    int rc = 0;
    while (off < len) {
        o = off;
        if (len - off < LG_TRACE_CHUNK_HEADER) {
            fail(st, "the chunk at offset %llu is cut short (%llu of %d header bytes)", o,
                 (unsigned long long)(len - off), LG_TRACE_CHUNK_HEADER);
            rc = 1;
            break;
        }
        uint8_t h[LG_TRACE_CHUNK_HEADER];
        const uint8_t *hp = src_at(src, off, sizeof h);
        if (!hp) {
            fail(st, "the chunk at offset %llu is cut short (%s)", o, src_why(src));
            rc = 1;
            break;
        }
        memcpy(h, hp, sizeof h);
        uint32_t plen = lg_get32(h + 8), tid = lg_get32(h + 12);
        int type = h[4];
        if (lg_get32(h) != LG_TRACE_CHUNK_MAGIC) {
            fail(st, "no chunk starts at offset %llu (bad chunk magic)", o);
            rc = 1;
            break;
        }
        if (plen > LG_TRACE_MAX_PAYLOAD) {
            fail(st, "the chunk at offset %llu claims %u bytes (the limit is %u)", o, plen,
                 LG_TRACE_MAX_PAYLOAD);
            rc = 1;
            break;
        }
        /* Checked against the size before anything is allocated for it. */
        if (plen > len - off - LG_TRACE_CHUNK_HEADER) {
            fail(st, "the chunk at offset %llu is cut short (%llu of %u bytes)", o,
                 (unsigned long long)(len - off - LG_TRACE_CHUNK_HEADER), plen);
            rc = 1;
            break;
        }
        if (h[5] || h[6] || h[7]) {
            fail(st, "the chunk at offset %llu is corrupt (reserved header bytes are set)", o);
            rc = 1;
            break;
        }
        const uint8_t *payload = plen ? src_at(src, off + LG_TRACE_CHUNK_HEADER, plen) : h;
        if (!payload) {
            fail(st, "the chunk at offset %llu is cut short (%s)", o, src_why(src));
            rc = 1;
            break;
        }
        if (lg_get32(h + 16) != lg_trace_sum(payload, plen, ((uint64_t)type << 32) | tid)) {
            fail(st, "the chunk at offset %llu is corrupt (checksum mismatch)", o);
            rc = 1;
            break;
        }
        cursor c = {payload, payload + plen, NULL};
        counts before = count_of(t);
        if (type == LG_CHUNK_META)
            meta_chunk(&s, &c);
        else if (type == LG_CHUNK_EVENTS)
            events_chunk(&s, &c, tid <= INT_MAX ? (int)tid : -1, off);
        else if (type == LG_CHUNK_SCHED)
            sched_chunk(&s, &c);
        /* other types: from a newer writer, skipped (their checksum held) */
        if (c.err) {
            roll_back(t, before);
            fail(st, "the chunk at offset %llu is malformed: %s", o, c.err);
            rc = 1;
            break;
        }
        st->chunks++;
        off += LG_TRACE_CHUNK_HEADER + plen;
    }
    st->offset = off;
    st->events = t->nevents;
    if (sc)
        scan_done(sc, &s, st);
    else
        convert_times(&s, 0, false);
    sort_events(t);
    if (t->nsched)
        qsort(t->sched, t->nsched, sizeof *t->sched, cmp_sched);
    lg_timeline_index(t);
    return rc;
}

int lg_trace_read(const uint8_t *data, size_t len, lg_timeline *t, lg_trace_status *st)
{
    memset(st, 0, sizeof *st);
    source src = {.data = data ? data : (const uint8_t *)"", .fd = -1, .len = len};
    return read_source(&src, t, st, NULL);
}

/* A trace file, regular only: a FIFO or device is refused at once (/dev/zero would be read
 * forever), and its size bounds every read. -1 with st's message when it cannot be opened. */
static int open_trace(const char *path, lg_trace_status *st, int *fd, struct stat *sb)
{
    int e = lg_safe_open_read(path, fd, sb);
    if (e) {
        fail(st, "cannot read trace file '%s': %s", path, lg_safe_strerror(e));
        return -1;
    }
    return 0;
}

int lg_trace_read_file(const char *path, lg_timeline *t, lg_trace_status *st)
{
    memset(st, 0, sizeof *st);
    int fd;
    struct stat sb;
    if (open_trace(path, st, &fd, &sb) < 0)
        return -1;
    source src = {.fd = fd, .len = (uint64_t)sb.st_size};
    int rc = read_source(&src, t, st, NULL);
    free(src.buf);
    close(fd);
    return rc;
}

/* ---- Streaming (lg_trace_stream_*): the same walk, twice. ----
 * The first walk checks every chunk as lg_trace_read_file does (same messages, same place to
 * stop), keeps the definitions, and of the events only an index: each good event chunk's
 * offset and thread, the ids the events use, the latest tick. The second walk merges the
 * threads' chunks by time: a thread's events are in time order in the file (its chunks follow
 * each other, and the writer stamps them in order), so a k-way merge keyed by (ns, position
 * in the file) yields exactly the order of the stable sort of the in-memory reader. A trace
 * where some thread's ticks go backwards falls back to that sort. Memory: the definitions,
 * the index and one decoded chunk per thread. */

#define SCAN_BITS (1u << 22)   /* lock ids below this are kept in a bitmap, others in a list */

typedef struct chunk_ref { uint64_t off; uint32_t plen; int tid; } chunk_ref;

struct scan {
    chunk_ref *chunks; size_t nchunks;
    int *tids; size_t ntids;               /* distinct (chunk tids, few) */
    uint64_t *bits;                        /* lock ids < SCAN_BITS */
    uint32_t *big; size_t nbig, big_sorted;  /* lock ids >= SCAN_BITS */
    uint32_t *pend; size_t npend, pend_cap;   /* this chunk's lock ids, until it is good */
    uint32_t last_lock; bool have_last;
    size_t nevents;
    uint64_t max_tick;
    bool unordered;
    bool oom;
    /* per tid: its last tick so far (tids parallel) */
    uint64_t *tid_last;
    double k;
    uint64_t start_tick;
};

static void scan_lock(scan *sc, uint32_t id)
{
    if (sc->have_last && id == sc->last_lock)
        return;
    if (LG_GROW(sc->pend, sc->pend_cap, sc->npend) < 0)
        sc->oom = true;
    else
        sc->pend[sc->npend++] = id;
    sc->last_lock = id;
    sc->have_last = true;
}

static void scan_event(scan *sc, const lg_tl_event *e)
{
    if (e->type != LG_EV_THREAD_START && e->type != LG_EV_THREAD_EXIT)
        scan_lock(sc, e->lock);
    if (e->type == LG_EV_COND_WAIT_BEGIN || e->type == LG_EV_COND_WAIT_END)
        scan_lock(sc, e->arg);
}

static void scan_chunk_failed(scan *sc)
{
    sc->npend = 0;
    sc->have_last = false;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* Sort and unique the list of large ids (done when it doubles, so it stays near distinct). */
static void big_unique(scan *sc)
{
    if (sc->nbig < 2)
        return;
    qsort(sc->big, sc->nbig, sizeof *sc->big, cmp_u32);
    size_t k = 1;
    for (size_t i = 1; i < sc->nbig; i++)
        if (sc->big[i] != sc->big[k - 1])
            sc->big[k++] = sc->big[i];
    sc->nbig = k;
    sc->big_sorted = k;
}

static int scan_chunk(scan *sc, uint64_t off, uint32_t plen, int tid, uint64_t n,
                      uint64_t first_tick, uint64_t last_tick, uint64_t max_tick, bool ordered)
{
    (void)plen;
    for (size_t i = 0; i < sc->npend; i++) {
        uint32_t id = sc->pend[i];
        if (id < SCAN_BITS) {
            if (!sc->bits && !(sc->bits = calloc(SCAN_BITS / 64, sizeof *sc->bits)))
                return -1;
            sc->bits[id / 64] |= 1ull << (id % 64);
        } else if (LG_APPEND(sc->big, sc->nbig, &id) < 0) {
            return -1;
        } else if (sc->nbig >= 2 * sc->big_sorted + 1024) {
            big_unique(sc);
        }
    }
    scan_chunk_failed(sc);
    if (sc->oom)
        return -1;
    if (n == 0)
        return 0;
    size_t ti = 0;
    while (ti < sc->ntids && sc->tids[ti] != tid)
        ti++;
    if (ti == sc->ntids) {
        uint64_t zero = 0;
        size_t nt = sc->ntids;
        if (LG_APPEND(sc->tids, sc->ntids, &tid) < 0)
            return -1;
        if (LG_APPEND(sc->tid_last, nt, &zero) < 0) {
            sc->ntids--;
            return -1;
        }
    } else if (first_tick < sc->tid_last[ti]) {
        sc->unordered = true;
    }
    if (!ordered)
        sc->unordered = true;
    sc->tid_last[ti] = last_tick;
    chunk_ref r = {off, plen, tid};
    if (LG_APPEND(sc->chunks, sc->nchunks, &r) < 0)
        return -1;
    sc->nevents += (size_t)n;
    if (max_tick > sc->max_tick)
        sc->max_tick = max_tick;
    return 0;
}

static void scan_done(scan *sc, state *s, lg_trace_status *st)
{
    st->events = sc->nevents;
    convert_times(s, sc->max_tick, sc->nevents > 0);
    sc->k = tick_scale(s);
    sc->start_tick = s->start_tick;
    big_unique(sc);
}

static void scan_free(scan *sc)
{
    free(sc->chunks);
    free(sc->tids);
    free(sc->bits);
    free(sc->big);
    free(sc->pend);
    free(sc->tid_last);
}

/* One thread's place in the merge. */
typedef struct tcur {
    int tid;
    size_t *chunks; size_t nchunks, next;  /* indices into the chunk index, in file order */
    uint8_t *buf; size_t cap;
    cursor c;
    uint64_t tick, left;                   /* the current chunk's decoder */
    uint64_t off, idx;                     /* the head event's chunk and place in it */
    lg_tl_event head;
} tcur;

struct lg_trace_stream {
    int fd;
    scan sc;
    tcur *cur; size_t ncur;
    tcur **heap; size_t nheap;
    uint32_t *locks; size_t nlocks;        /* the ids the events use, sorted */
    char error[256];
    /* the fallback: every event in memory, sorted */
    lg_timeline all;
    bool in_memory;
    size_t at;
};

static bool cur_before(const tcur *a, const tcur *b)
{
    if (a->head.ts != b->head.ts)
        return a->head.ts < b->head.ts;
    if (a->off != b->off)
        return a->off < b->off;
    return a->idx < b->idx;
}

static void heap_down(lg_trace_stream *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && cur_before(s->heap[l], s->heap[m]))
            m = l;
        if (r < s->nheap && cur_before(s->heap[r], s->heap[m]))
            m = r;
        if (m == i)
            return;
        tcur *tmp = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = tmp;
        i = m;
    }
}

/* Load cursor u's next event into its head. 1 loaded, 0 the thread has no more, -1 error. */
static int cur_advance(lg_trace_stream *s, tcur *u)
{
    while (u->left == 0) {
        if (u->next == u->nchunks) {
            free(u->buf);
            u->buf = NULL;
            u->cap = 0;
            return 0;
        }
        const chunk_ref *r = &s->sc.chunks[u->chunks[u->next++]];
        if (r->plen > u->cap) {
            uint8_t *nb = realloc(u->buf, r->plen);
            if (!nb) {
                snprintf(s->error, sizeof s->error, "out of memory");
                return -1;
            }
            u->buf = nb;
            u->cap = r->plen;
        }
        uint8_t h[LG_TRACE_CHUNK_HEADER];
        int bad = 0;
        for (size_t got = 0; !bad && got < sizeof h + r->plen;) {
            uint8_t *dst = got < sizeof h ? h + got : u->buf + (got - sizeof h);
            size_t want = got < sizeof h ? sizeof h - got : r->plen - (got - sizeof h);
            ssize_t n = pread(s->fd, dst, want, (off_t)(r->off + got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                bad = 1;
            else
                got += (size_t)n;
        }
        if (bad || lg_get32(h + 16) != lg_trace_sum(u->buf, r->plen,
                                                     ((uint64_t)LG_CHUNK_EVENTS << 32) | (uint32_t)r->tid)) {
            snprintf(s->error, sizeof s->error, "the trace file changed while being read (the "
                     "chunk at offset %llu)", (unsigned long long)r->off);
            return -1;
        }
        u->c = (cursor){u->buf, u->buf + r->plen, NULL};
        uint64_t ctick, cns;
        if (events_header(&u->c, r->tid, &ctick, &cns, &u->tick, &u->left) < 0) {
            snprintf(s->error, sizeof s->error, "the trace file changed while being read");
            return -1;
        }
        u->off = r->off;
        u->idx = 0;
    }
    if (get_event(&u->c, &u->tick, u->tid, &u->head) < 0) {
        snprintf(s->error, sizeof s->error, "the trace file changed while being read");
        return -1;
    }
    u->head.ts = tick_ns(s->sc.start_tick, s->sc.k, u->head.ts);
    u->left--;
    u->idx++;
    return 1;
}

int lg_trace_stream_open(const char *path, lg_timeline *t, lg_trace_status *st,
                         lg_trace_stream **out)
{
    memset(st, 0, sizeof *st);
    *out = NULL;
    int fd;
    struct stat sb;
    if (open_trace(path, st, &fd, &sb) < 0)
        return -1;
    lg_trace_stream *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        fail(st, "out of memory");
        return -1;
    }
    s->fd = fd;
    source src = {.fd = fd, .len = (uint64_t)sb.st_size};
    int rc = read_source(&src, t, st, &s->sc);
    free(src.buf);
    if (rc < 0) {
        lg_trace_stream_close(s);
        return rc;
    }
    /* the lock ids the events use, sorted */
    size_t nl = s->sc.nbig;
    if (s->sc.bits)
        for (size_t w = 0; w < SCAN_BITS / 64; w++)
            nl += (size_t)__builtin_popcountll(s->sc.bits[w]);
    s->locks = malloc((nl ? nl : 1) * sizeof *s->locks);
    if (!s->locks)
        goto oom;
    if (s->sc.bits)
        for (size_t w = 0; w < SCAN_BITS / 64; w++)
            for (uint64_t b = s->sc.bits[w]; b; b &= b - 1)
                s->locks[s->nlocks++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
    for (size_t i = 0; i < s->sc.nbig; i++)
        s->locks[s->nlocks++] = s->sc.big[i];
    free(s->sc.bits);
    s->sc.bits = NULL;
    if (s->sc.unordered) {
        /* some thread's clock went backwards: the in-memory reader's sort decides */
        lg_trace_status st2;
        lg_timeline_init(&s->all);
        if (lg_trace_read_file(path, &s->all, &st2) < 0 || st2.events != st->events) {
            snprintf(s->error, sizeof s->error, "the trace file changed while being read");
            s->all.nevents = 0;
        }
        s->in_memory = true;
        *out = s;
        return rc;
    }
    /* one cursor per thread, its chunks in file order */
    s->cur = calloc(s->sc.ntids ? s->sc.ntids : 1, sizeof *s->cur);
    s->heap = calloc(s->sc.ntids ? s->sc.ntids : 1, sizeof *s->heap);
    if (!s->cur || !s->heap)
        goto oom;
    s->ncur = s->sc.ntids;
    for (size_t i = 0; i < s->ncur; i++)
        s->cur[i].tid = s->sc.tids[i];
    for (size_t ci = 0; ci < s->sc.nchunks; ci++) {
        size_t i = 0;
        while (s->cur[i].tid != s->sc.chunks[ci].tid)
            i++;
        if (LG_APPEND(s->cur[i].chunks, s->cur[i].nchunks, &ci) < 0)
            goto oom;
    }
    for (size_t i = 0; i < s->ncur; i++) {
        int r = cur_advance(s, &s->cur[i]);
        if (r < 0)
            break;
        if (r > 0)
            s->heap[s->nheap++] = &s->cur[i];
    }
    for (size_t i = s->nheap / 2; i-- > 0;)
        heap_down(s, i);
    *out = s;
    return rc;
oom:
    lg_trace_stream_close(s);
    fail(st, "out of memory");
    return -1;
}

void lg_trace_stream_ids(const lg_trace_stream *s, const int **tids, size_t *ntids,
                         const uint32_t **locks, size_t *nlocks)
{
    *tids = s->sc.tids;
    *ntids = s->sc.ntids;
    *locks = s->locks;
    *nlocks = s->nlocks;
}

int lg_trace_stream_next(lg_trace_stream *s, lg_tl_event *e)
{
    if (s->error[0])
        return -1;
    if (s->in_memory) {
        if (s->at == s->all.nevents)
            return 0;
        *e = s->all.events[s->at++];
        return 1;
    }
    if (s->nheap == 0)
        return 0;
    tcur *u = s->heap[0];
    *e = u->head;
    int r = cur_advance(s, u);
    if (r < 0)
        return -1;
    if (r == 0)
        s->heap[0] = s->heap[--s->nheap];
    heap_down(s, 0);
    return 1;
}

const char *lg_trace_stream_error(const lg_trace_stream *s)
{
    return s->error;
}

void lg_trace_stream_close(lg_trace_stream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ncur; i++) {
        free(s->cur[i].chunks);
        free(s->cur[i].buf);
    }
    free(s->cur);
    free(s->heap);
    free(s->locks);
    scan_free(&s->sc);
    lg_timeline_free(&s->all);
    close(s->fd);
    free(s);
}
