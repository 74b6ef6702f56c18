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

typedef struct state {
    lg_timeline *t;
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

static void events_chunk(state *s, cursor *c, int tid)
{
    uint64_t ctick = get_varint(c), cns = get_varint(c);
    uint64_t tick = get_varint(c), n = get_varint(c);
    if (c->err)
        return;
    if (tid <= 0) {
        c->err = "an event chunk has no thread id";
        return;
    }
    if (n > (uint64_t)(c->end - c->p) / 3) {   /* a record is at least 3 bytes */
        c->err = "an event chunk claims more events than it has bytes for";
        return;
    }
    see_calib(s, ctick, cns);
    for (uint64_t i = 0; i < n && !c->err; i++) {
        int head = get_byte(c);
        lg_tl_event e = {.tid = tid};
        e.type = (uint8_t)(head & LG_REC_TYPE_MASK);
        e.mode = head & LG_REC_SHARED ? LG_MODE_SHARED : LG_MODE_EXCLUSIVE;
        tick += (uint64_t)lg_unzigzag(get_varint(c));
        e.ts = tick;   /* converted to ns once every calibration pair is known */
        e.lock = get_u32(c, "a lock id is out of range");
        if (head & LG_REC_HAS_STACK)
            e.stack = get_u32(c, "a stack id is out of range");
        if (head & LG_REC_HAS_ARG)
            e.arg = get_u32(c, "an event argument is out of range");
        if (c->err)
            break;
        if (e.type == LG_EV_NONE || e.type >= LG_EV_TYPE_COUNT) {
            c->err = "an event has an unknown type";
            break;
        }
        if (lg_timeline_add_event(s->t, &e) < 0)
            c->err = "out of memory";
    }
    if (!c->err && c->p != c->end)
        c->err = "an event chunk has bytes after its last event";
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

static void convert_times(state *s)
{
    lg_timeline *t = s->t;
    double k = s->tsc ? (double)s->q32 / 4294967296.0 : 1.0;
    if (s->tsc && s->last.ns > s->start_ns + 5000000 && s->last.tick > s->start_tick)
        k = (double)(s->last.ns - s->start_ns) / (double)(s->last.tick - s->start_tick);
    if (!(k > 0) || k > 1e6)
        k = 1.0;
    uint64_t end = 0;
    for (size_t i = 0; i < t->nevents; i++) {
        uint64_t tick = t->events[i].ts;
        double ns = tick > s->start_tick ? (double)(tick - s->start_tick) * k : 0;
        t->events[i].ts = ns < 1.8e19 ? (uint64_t)ns : UINT64_MAX / 2;
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

static int read_source(source *src, lg_timeline *t, lg_trace_status *st)
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
    state s = {.t = t, .version = version};
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
            events_chunk(&s, &c, tid <= INT_MAX ? (int)tid : -1);
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
    convert_times(&s);
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
    return read_source(&src, t, st);
}

int lg_trace_read_file(const char *path, lg_timeline *t, lg_trace_status *st)
{
    memset(st, 0, sizeof *st);
    /* A regular file only: a FIFO or device is refused at once (/dev/zero would be read
     * forever), and its size bounds every read. */
    int fd;
    struct stat sb;
    int e = lg_safe_open_read(path, &fd, &sb);
    if (e) {
        fail(st, "cannot read trace file '%s': %s", path, lg_safe_strerror(e));
        return -1;
    }
    source src = {.fd = fd, .len = (uint64_t)sb.st_size};
    int rc = read_source(&src, t, st);
    free(src.buf);
    close(fd);
    return rc;
}
