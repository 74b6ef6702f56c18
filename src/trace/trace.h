/* trace.h - the trace WRITER, for the preloaded runtime: record lock events into per-thread
 * buffers and append them to a trace file (format: docs/trace-format.md, read by reader.h).
 *
 * How the runtime uses it (the full contract is in docs/trace-format.md, "Runtime contract"):
 *
 *   at init:           lg_trace_open_env(err, sizeof err)  (LOCKGRAPH_TRACE=FILE set by
 *                      `lockgraph record`); nothing else happens when it is unset
 *   new lock seen:     lg_trace_lock(id, address, type, name)          (cold, once per lock)
 *   new thread/name:   lg_trace_thread(tid, name)                      (cold)
 *   stack captured:    id = lg_trace_intern_stack(pcs, n)              (cold: cache the id)
 *   every lock op:     if (lg_trace_on) lg_trace_emit(LG_EV_..., lock, mode, arg, stack)
 *   after dlopen:      lg_trace_modules()
 *   before execve, on a deadlock report, from a fatal-signal handler:  lg_trace_flush_all()
 *   at exit:           lg_trace_close()  (also registered with atexit by lg_trace_open)
 *
 * Safety inside someone else's program: no malloc (buffers are mmap'd), no pthread locks
 * (spin locks that yield, held with signals blocked (util/sigblock.h), with a per-thread
 * re-entry guard: a signal handler that locks while the writer is busy loses that event
 * instead of deadlocking), write(2) of whole chunks
 * (a thread's chunks batched, up to 128 KiB or 100 ms) to an O_APPEND descriptor, bounded
 * memory (one buffer per live thread, recycled at thread exit, its pages touched only as
 * used), a byte budget that stops recording with one message, and a fork child that stops
 * recording (it never writes into the parent's file). Errors never abort: recording stops.
 *
 * Not here: reading traces (reader.h), deciding what to record (the runtime).
 */
#ifndef LG_TRACE_H
#define LG_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../model/timeline.h"
#include "format.h"

/* Raw events, as the hot path stores them: two parallel arrays of LG_TRACE_BUF_EVENTS
 * slots, the ticks, then one lg_trace_ev each (so the encoder loads four or eight of either
 * with vector loads, without shuffling records apart). Encoded compactly, with the same head
 * byte, when the buffer is full or flushed (encode.h). An event with an argument takes two
 * slots: the event with LG_REC_HAS_ARG in its head, then a slot whose `lock` is the argument
 * and whose tick is the event's. */
#define LG_TRACE_BUF_EVENTS 1024        /* slots per thread: 16 KiB */

typedef struct lg_trace_ev {
    uint32_t lock;
    uint32_t info;           /* stack id (bits 0-23) | the record's head byte << 24 */
} lg_trace_ev;

#define LG_TRACE_INFO_STACK 0xffffffu   /* stack ids stay below 2^21 (intern_stack's cap) */
#define LG_TRACE_INFO_HEAD_SHIFT 24

/* A thread's buffer. Only its owner stores events; `pos` (the next tick slot; its event
 * word is pos[LG_TRACE_BUF_EVENTS]) is published with release order so
 * lg_trace_flush_all() from another thread reads only complete events. */
typedef struct lg_trace_buf {
    uint64_t *pos, *end;
    /* the rest is the slow path's business (writer.c) */
    uint64_t *start, *flushed;
    struct lg_trace_buf *next;
    uint8_t *out;            /* EVENTS chunks waiting to be written together */
    uint64_t out_since;      /* CLOCK_MONOTONIC ns when the first of them was made */
    uint32_t out_len, out_events, out_chunks;
    int tid;
    int in_use;
    int lock;
} lg_trace_buf;

/* The event word of tick slot t. */
static inline lg_trace_ev *lg_trace_ev_of(uint64_t *t)
{
    return (lg_trace_ev *)(t + LG_TRACE_BUF_EVENTS);
}

extern __thread lg_trace_buf *lg_trace_tl __attribute__((tls_model("initial-exec")));
/* Non-zero while recording; the runtime tests it before doing any tracing work. */
extern int lg_trace_on;

/* The clock: TSC cycles on x86-64 (about 10 ns here; calibrated against CLOCK_MONOTONIC at open and
 * at every flush, converted by the reader), CLOCK_MONOTONIC ns elsewhere. */
static inline uint64_t lg_trace_tick(void)
{
#if defined(LG_TRACE_BENCH_NO_CLOCK)
    return 0;   /* bench/trace-bench.sh only: the writer's cost without the clock */
#elif defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

void lg_trace_emit_slow(int type, uint32_t lock, int mode, uint32_t arg, uint32_t stack);

/* The hot path: stamp and store one event. Budget: a TLS load, three compares (the one on
 * `arg` folds away where it is the constant 0: every lock and unlock), the clock read and
 * three stores; anything else (an argument, first use in a thread, a full buffer, recording
 * stopped) is one call into the slow path. `arg` is the owner tid for
 * WAIT_BEGIN/TRYLOCK_FAIL, the mutex id for COND_WAIT_*, the creator tid for THREAD_START,
 * else 0. */
static inline void lg_trace_emit(int type, uint32_t lock, int mode, uint32_t arg,
                                 uint32_t stack)
{
    lg_trace_buf *b = lg_trace_tl;
    uint64_t *t;
    if (__builtin_expect(!b || (t = b->pos) == b->end || arg, 0)) {
        lg_trace_emit_slow(type, lock, mode, arg, stack);
        return;
    }
    uint32_t head = ((uint32_t)type & LG_REC_TYPE_MASK)
                  | (mode == LG_MODE_SHARED ? LG_REC_SHARED : 0u);
    lg_trace_ev *e = lg_trace_ev_of(t);
    *t = lg_trace_tick();
    e->lock = lock;
    e->info = (stack & LG_TRACE_INFO_STACK) | head << LG_TRACE_INFO_HEAD_SHIFT;
    __atomic_store_n(&b->pos, t + 1, __ATOMIC_RELEASE);
}

typedef struct lg_trace_options {
    uint64_t max_bytes;      /* stop recording past this file size; 0 = 1 GiB default */
    int no_atexit;           /* the caller calls lg_trace_close() itself */
    int counted;             /* header flag COUNTED: uncontended acquisitions come as
                                lg_trace_counts() entries, not events */
} lg_trace_options;
/* lg_trace_open_env's `counted` (set by the runtime before it opens: `lockgraph record`
 * without --all-events). */
extern int lg_trace_counted;

/* Start recording to `path` (created; truncated if it exists). 0, or -1 with a one-line
 * message in err. Only one trace per process. */
int lg_trace_open(const char *path, const lg_trace_options *opt, char *err, size_t errlen);
/* Start recording when LOCKGRAPH_TRACE names a file: 1 recording, 0 not requested, -1 error
 * (message in err). The first process to open the file owns it; any other process that
 * inherits the variable (a child that execs, a re-exec) records to FILE.<pid> instead.
 * LOCKGRAPH_TRACE_MAX=BYTES sets the budget. */
int lg_trace_open_env(char *err, size_t errlen);

/* Definitions (cold). Names may be NULL. Calling again for the same id redefines it. */
void lg_trace_thread(int tid, const char *name);
void lg_trace_lock(uint32_t id, uint64_t address, int type, const char *name);
/* A stack id (>= 1) for pcs[0..n) (innermost first), the same id for the same PCs; 0 when
 * not recording or out of room (then events carry no stack). */
uint32_t lg_trace_intern_stack(const uint64_t *pcs, size_t n);
/* Snapshot the loaded ELF modules (path, bias, build-id) for offline symbolization. */
void lg_trace_modules(void);
/* A COUNTS entry (format version 2): `acquisitions` of `lock` by `tid` at `stack` in `mode`
 * since the thread's previous entry for them, `sampled` of them timed (`sampled_ticks` in
 * all, the longest `longest_ticks`). Entries add up in the reader. Cold: written through the
 * definitions buffer. */
typedef struct lg_trace_count {
    int tid, mode;
    uint32_t lock, stack;
    uint64_t acquisitions, sampled, sampled_ticks, longest_ticks;
} lg_trace_count;
void lg_trace_counts(const lg_trace_count *c);
/* Called once by the first lg_trace_close() (or the atexit close), before the end record,
 * while definitions are still taken: the runtime writes its live threads' counts. */
extern void (*lg_trace_before_close_hook)(void);
/* A free-form note shown by `lockgraph report`. */
void lg_trace_note(const char *text);

/* Flush the calling thread's buffer; called at thread exit automatically (a TLS key). */
void lg_trace_flush_thread(void);
/* Flush every thread's complete records and the definitions; safe from any thread, also
 * while other threads keep running (their later events go to their own next flush). */
void lg_trace_flush_all(void);
/* Flush everything, write the end record, stop recording, close the file. Idempotent. */
void lg_trace_close(void);
/* The trace file's descriptor (src/util/ownfd.h): the runtime keeps the program's close(2)
 * and dup2(2) off it, and moves it (o->fd, stored atomically) when the program dup2s onto
 * its number. fd -1 when no trace is open. */
struct lg_ownfd;
/* Where the writer's one-line messages go (NULL: fd 2); the runtime sets its own. */
extern void (*lg_trace_say_hook)(const char *msg);
/* The calling thread's tid (NULL: gettid(2)); the runtime knows it without a system call,
 * which a strict seccomp filter of the program may not allow. */
extern int (*lg_trace_tid_hook)(void);
struct lg_ownfd *lg_trace_ownfd(void);

/* Counters for tests and benchmarks. `buffers` thread buffers exist (live threads' and
 * recycled ones), of which `resident` bytes are in memory (mincore). */
typedef struct lg_trace_stats {
    uint64_t events, dropped, bytes, chunks;
    uint64_t buffers, resident;
} lg_trace_stats;
void lg_trace_get_stats(lg_trace_stats *st);

#endif
