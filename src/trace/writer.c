/* writer.c - the trace writer's slow path: buffers, chunks, definitions, budget, fork, exit
 * (API and safety rules in trace.h; the bytes in docs/trace-format.md).
 *
 * Does: hand each thread an mmap'd buffer (recycled when the thread exits), encode full
 * buffers into compact EVENTS chunks (encode.c), checksum and append a thread's chunks
 * together with one write(2) once they are many or old, batch the definitions (threads,
 * locks, interned stacks, modules) into META chunks written before any events that could
 * refer to them, stop with one message when the byte budget is spent.
 * Does not: allocate with malloc, take pthread locks, or ever abort the host program.
 */
#include "trace.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "encode.h"
#include "format.h"
#include "../util/ownfd.h"
#include "../util/safefile.h"
#include "../util/sigblock.h"

#define EVENTS_PREFIX_MAX 40          /* four varints before the records */
#define CHUNK_MAX_BYTES (LG_TRACE_CHUNK_HEADER + EVENTS_PREFIX_MAX \
                         + LG_TRACE_BUF_EVENTS * LG_ENCODE_MAX_BYTES)
/* A thread's chunks are written together, with one write(2), once they reach OUT_WRITE_AT
 * bytes (about 32 full buffers of small events): write(2) to ext4 takes 3.6 us for 4 KiB and
 * 24 us for 128 KiB here, 0.87 against 0.19 ns per byte. A busy thread's buffer is then
 * about 150 KiB in memory; one that records a few events touches two or three pages. */
#define OUT_WRITE_AT (128u << 10)
/* ...or once the oldest is this old, so a thread that records slowly still reaches the file
 * (a killed program loses what was not written) at most this late after its buffer filled. */
#define OUT_MAX_AGE_NS 100000000ull
#define OUT_BYTES (OUT_WRITE_AT + CHUNK_MAX_BYTES + LG_REC_SLACK)
#define META_BYTES (64u << 10)
#define STACK_POOL_BLOCK (1u << 20)
#define MAX_STACKS (1u << 20)
#define DEFAULT_MAX_BYTES (1ull << 30)

enum { ST_OFF, ST_ON, ST_CLOSED, ST_FORKED };

__thread lg_trace_buf *lg_trace_tl __attribute__((tls_model("initial-exec")));
/* Set while this thread holds a writer lock: a signal handler re-entering drops its event
 * instead of spinning on a lock its own thread holds. */
static __thread int tl_busy __attribute__((tls_model("initial-exec")));
/* Set once this thread's buffer went back at thread exit: later events (other TLS destructors
 * that lock) are dropped rather than taking a buffer nobody would ever give back. */
static __thread int tl_exited __attribute__((tls_model("initial-exec")));
int lg_trace_on;
int lg_trace_counted;

static int g_state;
static int g_inflight;             /* write_chunk calls in progress: close waits for them */
static __thread int tl_closing __attribute__((tls_model("initial-exec")));
static int g_full;                 /* budget spent or write failed: only the end record now */
static char g_full_why[160];
/* The trace file: at a high number, close-on-exec, by identity (src/util/ownfd.h); its path
 * to open it again when the program closed the descriptor (close_range(2), closing every
 * descriptor). */
static lg_ownfd g_own = {.fd = -1};
#define g_fd g_own.fd
static char g_path[4096];
static int g_reopen_lock;
static uint64_t g_max_bytes;
static uint64_t g_bytes, g_events, g_dropped, g_chunks;
static lg_trace_buf *g_bufs;       /* every buffer ever made; never unmapped */
static pthread_key_t g_key;
static int g_key_ok;

static int g_meta_lock;            /* guards the META buffer and the stack table */
static uint8_t *g_meta;
static size_t g_meta_len;

typedef struct stack_slot {
    uint64_t hash;
    uint64_t *pcs;
    uint32_t id, n;
} stack_slot;
static stack_slot *g_stk;
static size_t g_stk_cap, g_stk_count;
static uint8_t *g_pool;
static size_t g_pool_used = STACK_POOL_BLOCK;
static int g_stk_full_noted;

/* ---- small helpers ---- */

static void *map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static uint64_t mono_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every public entry point runs between enter() and leave(); a re-entry from a signal handler
 * on the same thread is refused, so the spin locks below are never taken twice by a thread. */
static int enter(void)
{
    if (tl_busy)
        return -1;
    tl_busy = 1;
    return 0;
}

static void leave(void)
{
    tl_busy = 0;
}

/* Lock order: a thread buffer's lock, then the meta lock. */
static void spin_lock(int *l)
{
    lg_sigblock_enter();   /* no handler runs on a thread holding it (sigblock.h) */
    for (unsigned n = 0; __atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE); n++)
        if (n > 64)
            sched_yield();
}

static void spin_unlock(int *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
    lg_sigblock_leave();
}

void (*lg_trace_say_hook)(const char *msg);

static void say(const char *msg)
{
    if (lg_trace_say_hook) {   /* the runtime's own checked descriptor (src/runtime/fds.c) */
        lg_trace_say_hook(msg);
        return;
    }
    /* stderr may be anything; one write, errors ignored: this is a courtesy message */
    ssize_t rc = write(2, msg, strlen(msg));
    (void)rc;
}

static void update_on(void)
{
    __atomic_store_n(&lg_trace_on, g_state == ST_ON && !__atomic_load_n(&g_full, __ATOMIC_ACQUIRE),
                     __ATOMIC_RELEASE);
}

/* ---- chunks ---- */

/* The program closed the trace's descriptor (a raw close_range, or a close the runtime did
 * not see): the same file again by its path, at a high number; never another file that now
 * has the name. 0, or -1 with errno. */
static int reopen(int bad)
{
    spin_lock(&g_reopen_lock);
    int rc = 0;
    if (__atomic_load_n(&g_own.fd, __ATOMIC_ACQUIRE) == bad) {
        int fd = open(g_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
        lg_ownfd o = g_own;
        if (fd < 0 || !lg_ownfd_is(&g_own, fd) || lg_ownfd_take(fd, true, &o) != 0) {
            if (fd >= 0 && o.fd != fd)
                close(fd);
            errno = EBADF;
            rc = -1;
        } else {
            __atomic_store_n(&g_own.fd, o.fd, __ATOMIC_RELEASE);
        }
    }
    spin_unlock(&g_reopen_lock);
    return rc;
}

static int write_all(const uint8_t *p, size_t n)
{
    int reopened = 0;
    while (n) {
        int fd = __atomic_load_n(&g_own.fd, __ATOMIC_ACQUIRE);
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EBADF && !reopened++ && reopen(fd) == 0)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void stop_full(const char *why)
{
    if (__atomic_exchange_n(&g_full, 1, __ATOMIC_ACQ_REL))
        return;
    update_on();
    snprintf(g_full_why, sizeof g_full_why, "%s", why);
    char msg[256];
    snprintf(msg, sizeof msg, "lockgraph: %s; recording stopped, the trace keeps what came before\n",
             why);
    say(msg);
}

/* Writing is allowed while recording, and to the closing thread during close. */
static int may_write(void)
{
    return tl_closing || __atomic_load_n(&g_state, __ATOMIC_SEQ_CST) == ST_ON;
}

/* Count n more bytes against the budget: 0, or -1 (not counted) when they would cross it. */
static int budget_take(size_t n)
{
    if (__atomic_add_fetch(&g_bytes, n, __ATOMIC_RELAXED) <= g_max_bytes)
        return 0;
    __atomic_sub_fetch(&g_bytes, n, __ATOMIC_RELAXED);
    return -1;
}

static void budget_spent(void)
{
    char why[128];
    snprintf(why, sizeof why, "trace budget of %llu bytes exhausted",
             (unsigned long long)g_max_bytes);
    stop_full(why);
}

static int append(const uint8_t *p, size_t n)
{
    if (write_all(p, n) == 0)
        return 0;
    char why[160];
    snprintf(why, sizeof why, "cannot write the trace: %s", strerror(errno));
    stop_full(why);
    return -1;
}

/* Fill in the header of the chunk whose payload (len bytes) follows it at `c`. */
static void seal(uint8_t *c, int type, int tid, size_t len)
{
    lg_put32(c, LG_TRACE_CHUNK_MAGIC);
    c[4] = (uint8_t)type;
    c[5] = 0;
    c[6] = c[7] = 0;
    lg_put32(c + 8, (uint32_t)len);
    lg_put32(c + 12, (uint32_t)tid);
    lg_put32(c + 16, lg_trace_sum(c + LG_TRACE_CHUNK_HEADER, len,
                                  ((uint64_t)type << 32) | (uint32_t)tid));
}

/* Seal the chunk whose payload follows a reserved header at `c` and write it. `force` writes
 * even when the budget is spent (the note and end records, a few bytes). */
static int write_chunk(uint8_t *c, int type, int tid, size_t len, int force)
{
    __atomic_add_fetch(&g_inflight, 1, __ATOMIC_SEQ_CST);
    int rc = -1;
    size_t total = LG_TRACE_CHUNK_HEADER + len;
    if (may_write() && g_fd >= 0 && (force || !__atomic_load_n(&g_full, __ATOMIC_ACQUIRE))) {
        if (force)
            __atomic_add_fetch(&g_bytes, total, __ATOMIC_RELAXED);
        if (force || budget_take(total) == 0) {
            seal(c, type, tid, len);
            if ((rc = append(c, total)) == 0)
                __atomic_add_fetch(&g_chunks, 1, __ATOMIC_RELAXED);
        } else {
            budget_spent();
        }
    }
    __atomic_sub_fetch(&g_inflight, 1, __ATOMIC_SEQ_CST);
    return rc;
}

/* ---- META ---- */

static void meta_flush_locked(int force)
{
    if (g_meta && g_meta_len)
        write_chunk(g_meta, LG_CHUNK_META, 0, g_meta_len, force);
    g_meta_len = 0;
}

/* Append one entry (already encoded in `e`) under the meta lock. */
static void meta_add_locked(const uint8_t *e, size_t n)
{
    if (!g_meta || n > META_BYTES - LG_TRACE_CHUNK_HEADER)
        return;
    if (LG_TRACE_CHUNK_HEADER + g_meta_len + n > META_BYTES)
        meta_flush_locked(0);
    memcpy(g_meta + LG_TRACE_CHUNK_HEADER + g_meta_len, e, n);
    g_meta_len += n;
}

/* Encode an entry of at most `max` bytes in place (no copy on the caller's stack, which may be
 * a small thread stack inside the host program): reserve, write, commit. NULL: no room. */
static uint8_t *meta_reserve_locked(size_t max)
{
    if (!g_meta || max > META_BYTES - LG_TRACE_CHUNK_HEADER)
        return NULL;
    if (LG_TRACE_CHUNK_HEADER + g_meta_len + max > META_BYTES)
        meta_flush_locked(0);
    return g_meta + LG_TRACE_CHUNK_HEADER + g_meta_len;
}

static void meta_commit_locked(const uint8_t *start, const uint8_t *end)
{
    g_meta_len += (size_t)(end - start);
}

/* Names of threads and locks, and notes, are cut at 255 bytes by the writer (the format
 * allows 4095: module paths use more). */
#define NAME_MAX_BYTES 255

static uint8_t *put_name(uint8_t *p, const char *s)
{
    size_t n = s ? strnlen(s, NAME_MAX_BYTES) : 0;
    p = lg_put_varint(p, n);
    if (n)
        memcpy(p, s, n);
    return p + n;
}

static uint8_t *put_str(uint8_t *p, const char *s)
{
    size_t n = s ? strnlen(s, LG_TRACE_MAX_NAME - 1) : 0;
    p = lg_put_varint(p, n);
    if (n)
        memcpy(p, s, n);
    return p + n;
}

static int defining(void)
{
    return __atomic_load_n(&lg_trace_on, __ATOMIC_ACQUIRE);
}

void lg_trace_thread(int tid, const char *name)
{
    if (!defining() || enter() < 0)
        return;
    spin_lock(&g_meta_lock);
    uint8_t *e = meta_reserve_locked(NAME_MAX_BYTES + 16), *p = e;
    if (e) {
        *p++ = LG_META_THREAD;
        p = lg_put_varint(p, (uint32_t)tid);
        p = put_name(p, name);
        meta_commit_locked(e, p);
    }
    spin_unlock(&g_meta_lock);
    leave();
}

void lg_trace_lock(uint32_t id, uint64_t address, int type, const char *name)
{
    if (!defining() || enter() < 0)
        return;
    spin_lock(&g_meta_lock);
    uint8_t *e = meta_reserve_locked(NAME_MAX_BYTES + 32), *p = e;
    if (e) {
        *p++ = LG_META_LOCK;
        p = lg_put_varint(p, id);
        p = lg_put_varint(p, address);
        *p++ = (uint8_t)type;
        p = put_name(p, name);
        meta_commit_locked(e, p);
    }
    spin_unlock(&g_meta_lock);
    leave();
}

void lg_trace_counts(const lg_trace_count *c)
{
    if (!defining() || enter() < 0)
        return;
    spin_lock(&g_meta_lock);
    uint8_t *e = meta_reserve_locked(80), *p = e;
    if (e) {
        *p++ = LG_META_COUNTS;
        p = lg_put_varint(p, (uint32_t)c->tid);
        p = lg_put_varint(p, c->lock);
        p = lg_put_varint(p, c->stack);
        *p++ = (uint8_t)c->mode;
        p = lg_put_varint(p, c->acquisitions);
        p = lg_put_varint(p, c->sampled);
        p = lg_put_varint(p, c->sampled_ticks);
        p = lg_put_varint(p, c->longest_ticks);
        meta_commit_locked(e, p);
    }
    spin_unlock(&g_meta_lock);
    leave();
}

void lg_trace_note(const char *text)
{
    if (!defining() || enter() < 0)
        return;
    spin_lock(&g_meta_lock);
    uint8_t *e = meta_reserve_locked(NAME_MAX_BYTES + 16), *p = e;
    if (e) {
        *p++ = LG_META_NOTE;
        p = put_name(p, text);
        meta_commit_locked(e, p);
    }
    spin_unlock(&g_meta_lock);
    leave();
}

/* ---- stacks ---- */

static uint64_t hash_pcs(const uint64_t *pcs, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ pcs[i]) * 0x100000001b3ull;
        h ^= h >> 31;
    }
    return h | 1;   /* 0 marks an empty slot */
}

static int stk_grow_locked(void)
{
    size_t cap = g_stk_cap ? g_stk_cap * 2 : 1024;
    stack_slot *t = map(cap * sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < g_stk_cap; i++) {
        if (!g_stk[i].hash)
            continue;
        size_t j = g_stk[i].hash & (cap - 1);
        while (t[j].hash)
            j = (j + 1) & (cap - 1);
        t[j] = g_stk[i];
    }
    if (g_stk)
        munmap(g_stk, g_stk_cap * sizeof *g_stk);
    g_stk = t;
    g_stk_cap = cap;
    return 0;
}

static uint64_t *pool_alloc_locked(size_t n)
{
    size_t bytes = n * sizeof(uint64_t);
    if (g_pool_used + bytes > STACK_POOL_BLOCK) {
        uint8_t *b = map(STACK_POOL_BLOCK);
        if (!b)
            return NULL;
        g_pool = b;
        g_pool_used = 0;
    }
    uint64_t *p = (uint64_t *)(g_pool + g_pool_used);
    g_pool_used += bytes;
    return p;
}

uint32_t lg_trace_intern_stack(const uint64_t *pcs, size_t n)
{
    if (!defining() || !pcs)
        return 0;
    if (n > LG_TRACE_MAX_FRAMES)
        n = LG_TRACE_MAX_FRAMES;
    uint64_t h = hash_pcs(pcs, n);
    if (enter() < 0)
        return 0;
    spin_lock(&g_meta_lock);
    uint32_t id = 0;
    if ((g_stk_count + 1) * 2 > g_stk_cap && stk_grow_locked() < 0)
        goto out;
    size_t j = h & (g_stk_cap - 1);
    for (; g_stk[j].hash; j = (j + 1) & (g_stk_cap - 1)) {
        stack_slot *s = &g_stk[j];
        if (s->hash == h && s->n == n && memcmp(s->pcs, pcs, n * sizeof *pcs) == 0) {
            id = s->id;
            goto out;
        }
    }
    if (g_stk_count >= MAX_STACKS) {
        if (!g_stk_full_noted++) {
            uint8_t e[128], *p = e;
            *p++ = LG_META_NOTE;
            p = put_str(p, "more than 1048576 distinct stacks: later events carry no stack");
            meta_add_locked(e, (size_t)(p - e));
        }
        goto out;
    }
    uint64_t *copy = pool_alloc_locked(n ? n : 1);
    if (!copy)
        goto out;
    memcpy(copy, pcs, n * sizeof *pcs);
    id = (uint32_t)++g_stk_count;
    g_stk[j] = (stack_slot){.hash = h, .pcs = copy, .id = id, .n = (uint32_t)n};

    uint8_t *e = meta_reserve_locked(16 + n * 10), *p = e;
    if (e) {
        *p++ = LG_META_STACK;
        p = lg_put_varint(p, id);
        p = lg_put_varint(p, n);
        uint64_t prev = 0;
        for (size_t i = 0; i < n; i++) {
            p = lg_put_varint(p, lg_zigzag((int64_t)(pcs[i] - prev)));
            prev = pcs[i];
        }
        meta_commit_locked(e, p);
    }
out:
    spin_unlock(&g_meta_lock);
    leave();
    return id;
}

/* ---- modules ---- */

static size_t note_build_id(const struct dl_phdr_info *info, const ElfW(Phdr) *ph,
                            uint8_t *out, size_t cap)
{
    const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
    size_t left = ph->p_memsz;
    while (left >= sizeof(ElfW(Nhdr))) {
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
        size_t nsz = (nh->n_namesz + 3) & ~3u, dsz = (nh->n_descsz + 3) & ~3u;
        size_t total = sizeof *nh + nsz + dsz;
        if (total > left)
            break;
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
            memcmp(p + sizeof *nh, "GNU", 4) == 0) {
            size_t n = nh->n_descsz < cap ? nh->n_descsz : cap;
            memcpy(out, p + sizeof *nh + nsz, n);
            return n;
        }
        p += total;
        left -= total;
    }
    return 0;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    char exe[1024];
    const char *path = info->dlpi_name;
    if (!path || !*path) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            return 0;
        exe[n] = '\0';
        path = exe;
    }
    if (path[0] != '/')
        return 0;   /* the vDSO and other objects without a file */
    uint64_t lo = UINT64_MAX, hi = 0;
    uint8_t bid[64];
    size_t bidlen = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            uint64_t s = info->dlpi_addr + ph->p_vaddr;
            lo = s < lo ? s : lo;
            hi = s + ph->p_memsz > hi ? s + ph->p_memsz : hi;
        } else if (ph->p_type == PT_NOTE && !bidlen) {
            bidlen = note_build_id(info, ph, bid, sizeof bid);
        }
    }
    if (lo >= hi)
        return 0;
    uint8_t *e = meta_reserve_locked(LG_TRACE_MAX_NAME + 128), *p = e;
    if (!e)
        return 0;
    *p++ = LG_META_MODULE;
    p = lg_put_varint(p, lo);
    p = lg_put_varint(p, hi);
    p = lg_put_varint(p, info->dlpi_addr);
    p = put_str(p, path);
    p = lg_put_varint(p, bidlen);
    memcpy(p, bid, bidlen);
    p += bidlen;
    meta_commit_locked(e, p);
    return 0;
}

void lg_trace_modules(void)
{
    if (!defining() || enter() < 0)
        return;
    spin_lock(&g_meta_lock);
    dl_iterate_phdr(module_cb, NULL);
    spin_unlock(&g_meta_lock);
    leave();
}

/* ---- thread buffers ---- */

static size_t buf_bytes(void)
{
    return sizeof(lg_trace_buf) + LG_TRACE_BUF_EVENTS * (sizeof(uint64_t) + sizeof(lg_trace_ev))
           + OUT_BYTES;
}

int (*lg_trace_tid_hook)(void);

static lg_trace_buf *buf_acquire(void)
{
    int tid = lg_trace_tid_hook ? lg_trace_tid_hook() : (int)syscall(SYS_gettid);
    lg_trace_buf *b = __atomic_load_n(&g_bufs, __ATOMIC_ACQUIRE);
    for (; b; b = b->next) {
        int zero = 0;
        if (__atomic_compare_exchange_n(&b->in_use, &zero, 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            break;
    }
    if (!b) {
        b = map(buf_bytes());
        if (!b)
            return NULL;
        b->start = (uint64_t *)(b + 1);   /* the ticks, then the event words */
        b->out = (uint8_t *)(lg_trace_ev_of(b->start) + LG_TRACE_BUF_EVENTS);
        b->in_use = 1;
        b->next = __atomic_load_n(&g_bufs, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&g_bufs, &b->next, b, 1, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED))
            ;
    }
    spin_lock(&b->lock);
    b->tid = tid;
    b->flushed = b->start;
    b->end = b->start + LG_TRACE_BUF_EVENTS;
    __atomic_store_n(&b->pos, b->start, __ATOMIC_RELEASE);
    spin_unlock(&b->lock);
    return b;
}

/* The event count of an EVENTS chunk this writer made: the fourth varint. */
static uint32_t chunk_events(const uint8_t *c)
{
    const uint8_t *p = c + LG_TRACE_CHUNK_HEADER;
    for (int skip = 3; skip; p++)
        skip -= !(*p & 0x80);
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7, p++) {
        v |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p & 0x80))
            break;
    }
    return (uint32_t)v;
}

/* Checksum the chunks in out[0..len) into their headers, LG_SUM_LANES at a time. */
static void seal_events(uint8_t *out, size_t len)
{
    uint8_t *c[LG_SUM_LANES];
    const uint8_t *pay[LG_SUM_LANES];
    size_t n[LG_SUM_LANES];
    uint64_t seed[LG_SUM_LANES];
    uint32_t sum[LG_SUM_LANES];
    size_t off = 0;
    while (off < len) {
        int k = 0;
        for (; k < LG_SUM_LANES && off < len; k++) {
            c[k] = out + off;
            pay[k] = c[k] + LG_TRACE_CHUNK_HEADER;
            n[k] = lg_get32(c[k] + 8);
            seed[k] = ((uint64_t)LG_CHUNK_EVENTS << 32) | lg_get32(c[k] + 12);
            off += LG_TRACE_CHUNK_HEADER + n[k];
        }
        for (int i = k; i < LG_SUM_LANES; i++) {   /* fewer chunks left: empty lanes */
            pay[i] = out;
            n[i] = 0;
            seed[i] = 0;
        }
        lg_trace_sum_lanes(pay, n, seed, sum);
        for (int i = 0; i < k; i++)
            lg_put32(c[i] + 16, sum[i]);
    }
}

/* Write the chunks waiting in b->out with one write(2) (those that fit when the budget runs
 * out), definitions first, so every event on disk comes after the stacks and locks it
 * names. Called with b->lock held. */
static void out_write_locked(lg_trace_buf *b)
{
    if (!b->out_len)
        return;
    spin_lock(&g_meta_lock);
    meta_flush_locked(0);
    spin_unlock(&g_meta_lock);
    __atomic_add_fetch(&g_inflight, 1, __ATOMIC_SEQ_CST);
    uint32_t written = 0;
    if (may_write() && g_fd >= 0 && !__atomic_load_n(&g_full, __ATOMIC_ACQUIRE)) {
        size_t n = b->out_len;
        uint32_t events = b->out_events, chunks = b->out_chunks;
        int over = budget_take(n) < 0;
        if (over) {
            /* the whole chunks that still fit */
            uint64_t used = __atomic_load_n(&g_bytes, __ATOMIC_RELAXED);
            uint64_t room = used < g_max_bytes ? g_max_bytes - used : 0;
            n = 0;
            events = chunks = 0;
            while (n < b->out_len) {
                const uint8_t *c = b->out + n;
                size_t total = LG_TRACE_CHUNK_HEADER + lg_get32(c + 8);
                if (n + total > room)
                    break;
                n += total;
                events += chunk_events(c);
                chunks++;
            }
            if (n && budget_take(n) < 0)
                n = 0;
        }
        seal_events(b->out, n);
        if (n && append(b->out, n) == 0) {
            written = events;
            __atomic_add_fetch(&g_chunks, chunks, __ATOMIC_RELAXED);
        }
        if (over)
            budget_spent();
    }
    __atomic_sub_fetch(&g_inflight, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&g_events, written, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_dropped, b->out_events - written, __ATOMIC_RELAXED);
    b->out_len = b->out_events = b->out_chunks = 0;
}

/* How many events slots [t, t + n) hold: argument slots are not events. */
static size_t events_in(uint64_t *t, size_t n)
{
    const lg_trace_ev *e = lg_trace_ev_of(t);
    size_t args = 0;
    for (size_t i = 0; i < n; i++)
        args += (e[i].info >> LG_TRACE_INFO_HEAD_SHIFT & LG_REC_HAS_ARG) != 0;
    return n - args;
}

/* Encode slots [b->flushed, upto) as one EVENTS chunk appended to b->out (its checksum comes
 * when it is written). Called with b->lock held; b->out has room (it is written once it
 * holds OUT_WRITE_AT bytes). */
static void buf_encode_locked(lg_trace_buf *b, uint64_t *upto)
{
    uint64_t *t = b->flushed;
    size_t n = (size_t)(upto - t);
    if (!n)
        return;
    b->flushed = upto;
    if (!may_write() || __atomic_load_n(&g_full, __ATOMIC_ACQUIRE)) {
        __atomic_add_fetch(&g_dropped, events_in(t, n), __ATOMIC_RELAXED);
        return;
    }
    uint8_t *c = b->out + b->out_len, *p = c + LG_TRACE_CHUNK_HEADER;
    uint64_t now = mono_ns(CLOCK_MONOTONIC);
    if (!b->out_len)
        b->out_since = now;
    p = lg_put_varint(p, lg_trace_tick());
    p = lg_put_varint(p, now);
    uint64_t prev = *t;
    p = lg_put_varint(p, prev);
    /* the count assumes no argument records; corrected below when there were some */
    uint8_t *count = p;
    p = lg_put_varint(p, n);
    uint8_t *recs = p;
    size_t args;
    p = lg_trace_encode(p, t, lg_trace_ev_of(t), n, &prev, &args);
    if (args) {
        uint8_t fix[10];
        size_t had = (size_t)(recs - count), has = (size_t)(lg_put_varint(fix, n - args) - fix);
        if (has < had)
            memmove(count + has, recs, (size_t)(p - recs));
        memcpy(count, fix, has);
        p -= had - has;
        n -= args;
    }
    size_t len = (size_t)(p - c) - LG_TRACE_CHUNK_HEADER;
    lg_put32(c, LG_TRACE_CHUNK_MAGIC);
    lg_put32(c + 4, LG_CHUNK_EVENTS);   /* type, then three reserved zero bytes */
    lg_put32(c + 8, (uint32_t)len);
    lg_put32(c + 12, (uint32_t)b->tid);
    b->out_len += (uint32_t)(LG_TRACE_CHUNK_HEADER + len);
    b->out_events += (uint32_t)n;
    b->out_chunks++;
}

/* Encode what the buffer holds; write the waiting chunks when `all` or when they are many. */
static void buf_flush(lg_trace_buf *b, int owner, int all)
{
    spin_lock(&b->lock);
    buf_encode_locked(b, __atomic_load_n(&b->pos, __ATOMIC_ACQUIRE));
    if (all || b->out_len >= OUT_WRITE_AT
        || (b->out_len && mono_ns(CLOCK_MONOTONIC) - b->out_since >= OUT_MAX_AGE_NS))
        out_write_locked(b);
    if (owner) {
        /* only the owner moves pos back: others may be reading up to it */
        b->flushed = b->start;
        __atomic_store_n(&b->pos, b->start, __ATOMIC_RELEASE);
    }
    spin_unlock(&b->lock);
}

/* Everything lg_trace_emit does not do itself: a thread's first event (take a buffer), a
 * full buffer (encode it), an event with an argument (two records), recording stopped. */
void lg_trace_emit_slow(int type, uint32_t lock, int mode, uint32_t arg, uint32_t stack)
{
    if (!__atomic_load_n(&lg_trace_on, __ATOMIC_ACQUIRE) || enter() < 0) {
        __atomic_add_fetch(&g_dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    lg_trace_buf *b = lg_trace_tl;
    if (!b && tl_exited) {
        __atomic_add_fetch(&g_dropped, 1, __ATOMIC_RELAXED);
        leave();
        return;
    }
    if (!b) {
        b = buf_acquire();
        if (!b) {
            __atomic_add_fetch(&g_dropped, 1, __ATOMIC_RELAXED);
            leave();
            return;
        }
        lg_trace_tl = b;
        if (g_key_ok)
            pthread_setspecific(g_key, b);   /* flush at thread exit */
    } else if (b->end - b->pos < 2) {
        buf_flush(b, 1, 0);   /* full, or no room for an event with its argument */
    }
    leave();
    uint64_t *t = b->pos;
    if (b->end - t < 1 + (arg != 0)) {
        /* a signal handler filled the buffer since: never store past its end */
        __atomic_add_fetch(&g_dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    lg_trace_ev *e = lg_trace_ev_of(t);
    uint32_t head = ((uint32_t)type & LG_REC_TYPE_MASK)
                  | (mode == LG_MODE_SHARED ? LG_REC_SHARED : 0u) | (arg ? LG_REC_HAS_ARG : 0u);
    t[0] = lg_trace_tick();
    e[0] = (lg_trace_ev){lock, (stack & LG_TRACE_INFO_STACK) | head << LG_TRACE_INFO_HEAD_SHIFT};
    if (arg) {
        t[1] = t[0];
        e[1] = (lg_trace_ev){arg, 0};
    }
    __atomic_store_n(&b->pos, t + 1 + (arg != 0), __ATOMIC_RELEASE);
}

void lg_trace_flush_thread(void)
{
    lg_trace_buf *b = lg_trace_tl;
    if (!b || enter() < 0)
        return;
    buf_flush(b, 1, 1);
    leave();
}

/* TLS key destructor: the thread is exiting; flush and give the buffer back. */
static void thread_exit(void *p)
{
    lg_trace_buf *b = p;
    if (!b || enter() < 0)
        return;
    buf_flush(b, 1, 1);
    lg_trace_tl = NULL;
    tl_exited = 1;
    spin_lock(&b->lock);
    b->tid = 0;
    spin_unlock(&b->lock);
    __atomic_store_n(&b->in_use, 0, __ATOMIC_RELEASE);
    leave();
}

static void flush_all_entered(void)
{
    for (lg_trace_buf *b = __atomic_load_n(&g_bufs, __ATOMIC_ACQUIRE); b; b = b->next)
        if (__atomic_load_n(&b->in_use, __ATOMIC_ACQUIRE))
            buf_flush(b, b == lg_trace_tl, 1);
    spin_lock(&g_meta_lock);
    meta_flush_locked(0);
    spin_unlock(&g_meta_lock);
}

void lg_trace_flush_all(void)
{
    if (g_state != ST_ON || enter() < 0)
        return;
    flush_all_entered();
    leave();
}

static void finish(int close_fd);

void lg_trace_close(void)
{
    finish(1);
}

/* At exit the kernel closes the file: no close(2) (a seccomp'd program may not allow it). */
static void close_at_exit(void)
{
    finish(0);
}

void (*lg_trace_before_close_hook)(void);
static int g_hook_ran;

static void finish(int close_fd)
{
    if (tl_busy)
        return;   /* from a signal handler that interrupted the writer: nothing is safe */
    /* The recorder's last words (every live thread's counts) while definitions are taken. */
    if (lg_trace_before_close_hook && __atomic_load_n(&g_state, __ATOMIC_ACQUIRE) == ST_ON
        && !__atomic_exchange_n(&g_hook_ran, 1, __ATOMIC_ACQ_REL))
        lg_trace_before_close_hook();
    int on = ST_ON;
    if (!__atomic_compare_exchange_n(&g_state, &on, ST_CLOSED, 0, __ATOMIC_SEQ_CST,
                                     __ATOMIC_RELAXED))
        return;
    enter();
    /* From here only this thread writes (tl_closing); others drop their late events. */
    tl_closing = 1;
    __atomic_store_n(&lg_trace_on, 0, __ATOMIC_SEQ_CST);
    flush_all_entered();
    while (__atomic_load_n(&g_inflight, __ATOMIC_SEQ_CST))
        sched_yield();   /* a chunk another thread started before the state changed */
    spin_lock(&g_meta_lock);
    uint8_t e[64], *p = e;
    *p++ = LG_META_END;
    p = lg_put_varint(p, __atomic_load_n(&g_events, __ATOMIC_RELAXED));
    p = lg_put_varint(p, __atomic_load_n(&g_dropped, __ATOMIC_RELAXED));
    p = lg_put_varint(p, lg_trace_tick());
    p = lg_put_varint(p, mono_ns(CLOCK_MONOTONIC));
    int full = __atomic_load_n(&g_full, __ATOMIC_ACQUIRE);
    if (full) {
        /* what is still buffered, then why the trace stops early */
        meta_flush_locked(1);
        uint8_t n[256], *q = n;
        *q++ = LG_META_NOTE;
        q = put_str(q, g_full_why);
        meta_add_locked(n, (size_t)(q - n));
    }
    meta_add_locked(e, (size_t)(p - e));
    meta_flush_locked(1);
    spin_unlock(&g_meta_lock);
    int fd = g_fd;
    g_fd = -1;
    if (close_fd)
        close(fd);
    tl_closing = 0;
    leave();
}

/* The child of fork() must not write into the parent's file: it stops recording. The
 * buffers it inherited are the parent's to write; the child drops them. */
static void at_fork_child(void)
{
    if (g_state != ST_ON)
        return;
    g_state = ST_FORKED;
    lg_trace_on = 0;
    lg_trace_tl = NULL;
    tl_busy = 0;
    int fd = g_fd;
    g_fd = -1;   /* first: the runtime's close() then closes it for real */
    if (fd >= 0)
        close(fd);
}

static uint64_t calibrate_q32(uint64_t *tick0, uint64_t *ns0)
{
#if defined(__x86_64__)
    uint64_t t0 = lg_trace_tick(), n0 = mono_ns(CLOCK_MONOTONIC), t1, n1;
    do {   /* 200 us: enough for 0.1%; the reader refines it from later calibration pairs */
        t1 = lg_trace_tick();
        n1 = mono_ns(CLOCK_MONOTONIC);
    } while (n1 - n0 < 200000);
    *tick0 = t0;
    *ns0 = n0;
    return t1 > t0 ? (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0)) : 1ull << 32;
#else
    *ns0 = mono_ns(CLOCK_MONOTONIC);
    *tick0 = *ns0;
    return 1ull << 32;
#endif
}

int lg_trace_open(const char *path, const lg_trace_options *opt, char *err, size_t errlen)
{
    if (g_state != ST_OFF) {
        snprintf(err, errlen, "a trace is already being recorded");
        return -1;
    }
    /* The program's memory and stacks: 0600, never through a symlink nor into an existing
     * file (src/util/safefile.h). Appended to by every thread's write(2). */
    int fd, ce = lg_safe_create(path, LG_SAFE_PRIVATE, &fd);
    if (!ce && fcntl(fd, F_SETFL, O_APPEND) < 0)
        ce = errno;
    /* Out of the program's way: a program that closes every descriptor >= 3 and opens its own
     * files gets the low numbers, never this one (ownfd.h). */
    lg_ownfd own = {.fd = -1};
    if (!ce && (ce = lg_ownfd_take(fd, true, &own)) == 0)
        fd = own.fd;
    if (ce) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "cannot create trace file '%s': %s", path, lg_safe_strerror(ce));
        return -1;
    }
    g_meta = map(META_BYTES);
    if (!g_meta) {
        snprintf(err, errlen, "cannot allocate trace buffers: %s", strerror(errno));
        close(fd);
        return -1;
    }
    uint8_t h[LG_TRACE_HEADER_SIZE] = {0};
    uint64_t tick0, ns0;
    uint64_t q32 = calibrate_q32(&tick0, &ns0);
    memcpy(h + LG_HDR_MAGIC, LG_TRACE_MAGIC, 8);
    h[LG_HDR_VERSION] = LG_TRACE_VERSION;
    h[LG_HDR_SIZE] = LG_TRACE_HEADER_SIZE;
    uint32_t flags = opt && opt->counted ? LG_TRACE_FLAG_COUNTED : 0;
#if defined(__x86_64__)
    flags |= LG_TRACE_FLAG_TSC;
#endif
    lg_put32(h + LG_HDR_FLAGS, flags);
    lg_put32(h + LG_HDR_PID, (uint32_t)getpid());
    lg_put32(h + LG_HDR_CLOCK, CLOCK_MONOTONIC);
    lg_put64(h + LG_HDR_START_NS, ns0);
    lg_put64(h + LG_HDR_START_REAL, mono_ns(CLOCK_REALTIME));
    lg_put64(h + LG_HDR_START_TICK, tick0);
    lg_put64(h + LG_HDR_NS_PER_TICK_Q32, q32);
    lg_put32(h + LG_HDR_CHECKSUM, lg_trace_sum(h, LG_HDR_CHECKSUM, 0));
    g_own = own;
    snprintf(g_path, sizeof g_path, "%s", path);
    if (write_all(h, sizeof h) < 0) {
        snprintf(err, errlen, "cannot write trace file '%s': %s", path, strerror(errno));
        close(fd);
        g_fd = -1;
        return -1;
    }
    g_bytes = sizeof h;
    g_max_bytes = opt && opt->max_bytes ? opt->max_bytes : DEFAULT_MAX_BYTES;
    if (!g_key_ok && pthread_key_create(&g_key, thread_exit) == 0)
        g_key_ok = 1;
    static int atfork_done;
    if (!atfork_done++)
        pthread_atfork(NULL, NULL, at_fork_child);
    g_state = ST_ON;
    update_on();
    lg_trace_modules();
    if (!(opt && opt->no_atexit))
        atexit(close_at_exit);
    return 0;
}

int lg_trace_open_env(char *err, size_t errlen)
{
    /* secure_getenv: nothing is recorded in a setuid/setgid program (its caller's settings). */
    const char *path = secure_getenv("LOCKGRAPH_TRACE");
    if (!path || !*path)
        return 0;
    lg_trace_options opt = {.counted = lg_trace_counted};
    const char *max = secure_getenv("LOCKGRAPH_TRACE_MAX");
    if (max && *max) {
        char *end;
        unsigned long long v = strtoull(max, &end, 10);
        if (*end || !v) {
            snprintf(err, errlen, "invalid LOCKGRAPH_TRACE_MAX '%s': expected a byte count", max);
            return -1;
        }
        opt.max_bytes = v;
    }
    /* The first process claims FILE (O_EXCL); any other that inherited the variable writes
     * FILE.<pid>, so a child that execs never truncates its parent's trace. */
    char own[4096];
    int fd;
    if (lg_safe_create_new(path, LG_SAFE_PRIVATE, &fd) == 0) {
        close(fd);
        snprintf(own, sizeof own, "%s", path);
    } else {
        snprintf(own, sizeof own, "%s.%d", path, (int)getpid());
    }
    return lg_trace_open(own, &opt, err, errlen) == 0 ? 1 : -1;
}

void lg_trace_get_stats(lg_trace_stats *st)
{
    st->events = __atomic_load_n(&g_events, __ATOMIC_RELAXED);
    st->dropped = __atomic_load_n(&g_dropped, __ATOMIC_RELAXED);
    st->bytes = __atomic_load_n(&g_bytes, __ATOMIC_RELAXED);
    st->chunks = __atomic_load_n(&g_chunks, __ATOMIC_RELAXED);
    st->buffers = st->resident = 0;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (buf_bytes() + page - 1) / page;
    unsigned char in[1024];
    for (lg_trace_buf *b = __atomic_load_n(&g_bufs, __ATOMIC_ACQUIRE); b; b = b->next) {
        st->buffers++;
        if (pages <= sizeof in && mincore(b, buf_bytes(), in) == 0)
            for (size_t i = 0; i < pages; i++)
                st->resident += (in[i] & 1) ? page : 0;
    }
}

struct lg_ownfd *lg_trace_ownfd(void)
{
    return &g_own;
}
