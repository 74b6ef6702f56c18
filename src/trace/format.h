/* format.h - the on-disk trace format shared by the writer and the reader: constants, the
 * checksum, varint and zigzag coding, one event record. docs/trace-format.md is the prose
 * version; change both together and bump LG_TRACE_VERSION on any incompatible change.
 *
 * Not here: buffering (writer.c), the fast encoders (encode.c) or validation (reader.c). All
 * integers are little-endian.
 */
#ifndef LG_TRACE_FORMAT_H
#define LG_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../util/hash.h"

#define LG_TRACE_MAGIC "LGTRACE\0"      /* 8 bytes at offset 0 */
#define LG_TRACE_VERSION 2           /* the reader also reads 1 (no COUNTS entries) */
#define LG_TRACE_VERSION_MIN 1
#define LG_TRACE_HEADER_SIZE 64
#define LG_TRACE_CHUNK_MAGIC 0x4b43474cu  /* "LGCK" little-endian */
#define LG_TRACE_CHUNK_HEADER 20
#define LG_TRACE_MAX_PAYLOAD (16u << 20)  /* the reader rejects larger chunks */
#define LG_TRACE_MAX_FRAMES 256           /* per interned stack */
#define LG_TRACE_MAX_NAME 4096            /* lock/thread names, module paths */

/* Header flags. */
enum {
    LG_TRACE_FLAG_TSC = 1u << 0,   /* event ticks are TSC cycles, converted by calibration */
    LG_TRACE_FLAG_COUNTED = 1u << 1, /* uncontended acquisitions are COUNTS entries, not
                                        events (`lockgraph record` without --all-events) */
};

/* Chunk types. */
enum {
    LG_CHUNK_META = 1,     /* tagged definitions: threads, locks, stacks, modules, notes, end */
    LG_CHUNK_EVENTS = 2,   /* one thread's events */
    LG_CHUNK_SCHED = 3,    /* the kernel's scheduler events (`lockgraph record --sched`) */
};

/* Tags of META entries. */
enum {
    LG_META_THREAD = 1,    /* tid, name */
    LG_META_LOCK = 2,      /* id, address, type, name */
    LG_META_STACK = 3,     /* id, n, zigzag deltas of the PCs */
    LG_META_MODULE = 4,    /* start, end, bias, path, build-id */
    LG_META_NOTE = 5,      /* text from the writer (budget exhausted, ...) */
    LG_META_END = 6,       /* events written, events dropped, final tick, final mono ns */
    LG_META_COUNTS = 7,    /* version 2: tid, lock, stack, mode, acquisitions, sampled holds,
                              their ticks, the longest's ticks (entries add up) */
};

/* The head byte of an event record. */
#define LG_REC_TYPE_MASK 0x1fu
#define LG_REC_SHARED    0x20u     /* mode is LG_MODE_SHARED */
#define LG_REC_HAS_ARG   0x40u     /* a varint arg follows the stack */
#define LG_REC_HAS_STACK 0x80u     /* a varint stack id follows the lock */

/* Header layout (offsets). */
enum {
    LG_HDR_MAGIC = 0, LG_HDR_VERSION = 8, LG_HDR_SIZE = 10, LG_HDR_FLAGS = 12, LG_HDR_PID = 16,
    LG_HDR_CLOCK = 20, LG_HDR_START_NS = 24, LG_HDR_START_REAL = 32, LG_HDR_START_TICK = 40,
    LG_HDR_NS_PER_TICK_Q32 = 48, LG_HDR_RESERVED = 56, LG_HDR_CHECKSUM = 60,
};

static inline void lg_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void lg_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t lg_get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t lg_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t lg_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* A word-at-a-time checksum: cheap enough to run on every flushed chunk, strong enough to
 * notice torn writes and flipped bits. Not cryptographic. One word is a multiply and a shift
 * (6 cycles of latency, about 0.2 ns per byte): the writer runs eight chunks side by side
 * (lg_trace_sum_lanes) to overlap them. */
#define LG_SUM_SEED LG_GOLDEN64

static inline uint64_t lg_trace_sum_word(uint64_t h, const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

/* The last n % 8 bytes of p[0..n) and the length. */
static inline uint32_t lg_trace_sum_end(uint64_t h, const uint8_t *p, size_t n)
{
    size_t i = n & ~(size_t)7;
    uint64_t tail = 0;
    memcpy(&tail, p + i, n - i);
    h = (h ^ tail ^ ((uint64_t)n << 56)) * LG_FMIX_M1;
    h ^= h >> 32;
    return (uint32_t)h;
}

static inline uint32_t lg_trace_sum(const uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t h = seed ^ LG_SUM_SEED;
    for (size_t i = 0; i + 8 <= n; i += 8)
        h = lg_trace_sum_word(h, p + i);
    return lg_trace_sum_end(h, p, n);
}

/* lg_trace_sum of LG_SUM_LANES buffers at once (the same results): independent chains keep
 * the multiplier busy instead of waiting on one. A lane with n = 0 is a no-op. */
#define LG_SUM_LANES 8
static inline void lg_trace_sum_lanes(const uint8_t *const p[LG_SUM_LANES],
                                      const size_t n[LG_SUM_LANES],
                                      const uint64_t seed[LG_SUM_LANES],
                                      uint32_t sum[LG_SUM_LANES])
{
    uint64_t h[LG_SUM_LANES];
    size_t all = n[0], i = 0;
#pragma GCC unroll 8
    for (int k = 0; k < LG_SUM_LANES; k++) {
        h[k] = seed[k] ^ LG_SUM_SEED;
        all = n[k] < all ? n[k] : all;
    }
    for (; i + 8 <= all; i += 8) {
#pragma GCC unroll 8
        for (int k = 0; k < LG_SUM_LANES; k++)
            h[k] = lg_trace_sum_word(h[k], p[k] + i);
    }
    for (int k = 0; k < LG_SUM_LANES; k++) {
        for (size_t j = i; j + 8 <= n[k]; j += 8)
            h[k] = lg_trace_sum_word(h[k], p[k] + j);
        sum[k] = lg_trace_sum_end(h[k], p[k], n[k]);
    }
}

static inline uint8_t *lg_put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* The varint of v < 2^14 in the low bytes of the result; *n = its length, 1 or 2. No
 * branches: the record encoder below runs once per event. */
static inline uint64_t lg_varint14(uint64_t v, unsigned *n)
{
    uint64_t hi = v >> 7;
    *n = 1 + (hi != 0);
    return (v & 0x7f) | (uint64_t)(hi != 0) << 7 | hi << 8;
}

/* Bytes lg_put_event may store past the end of the record it writes (the fast case stores a
 * whole 8-byte word): leave this much room after the last record. */
#define LG_REC_SLACK 8

/* One EVENTS record (docs/trace-format.md): head byte without the stack and arg bits (added
 * here), the zigzag tick delta, lock, stack (0 = none), arg (0 = none). Returns the end.
 * Fast case, nearly every event: the delta, lock and stack each fit 2 bytes and there is no
 * arg, so the record (at most 7 bytes) is built in a register and stored at once. */
static inline uint8_t *lg_put_event(uint8_t *p, unsigned head, uint64_t dzz, uint32_t lock,
                                    uint32_t stack, uint32_t arg)
{
    if (__builtin_expect((((dzz | lock | stack) >> 14) | arg) == 0, 1)) {
        unsigned n, k;
        uint64_t w = head | (stack ? LG_REC_HAS_STACK : 0u);
        w |= lg_varint14(dzz, &n) << 8;
        k = 1 + n;
        w |= lg_varint14(lock, &n) << (8 * k);
        k += n;
        w |= lg_varint14(stack, &n) << (8 * k);   /* 0 when there is no stack */
        k += stack ? n : 0;
        memcpy(p, &w, 8);
        return p + k;
    }
    *p++ = (uint8_t)(head | (stack ? LG_REC_HAS_STACK : 0u) | (arg ? LG_REC_HAS_ARG : 0u));
    p = lg_put_varint(p, dzz);
    p = lg_put_varint(p, lock);
    if (stack)
        p = lg_put_varint(p, stack);
    if (arg)
        p = lg_put_varint(p, arg);
    return p;
}

static inline uint64_t lg_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t lg_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

#endif
