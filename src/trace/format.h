/* format.h - the on-disk trace format shared by the writer and the reader: constants, the
 * checksum, varint and zigzag coding. docs/trace-format.md is the prose version; change both
 * together and bump LG_TRACE_VERSION on any incompatible change.
 *
 * Not here: buffering (writer.c) or validation (reader.c). All integers are little-endian.
 */
#ifndef LG_TRACE_FORMAT_H
#define LG_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LG_TRACE_MAGIC "LGTRACE\0"      /* 8 bytes at offset 0 */
#define LG_TRACE_VERSION 1
#define LG_TRACE_HEADER_SIZE 64
#define LG_TRACE_CHUNK_MAGIC 0x4b43474cu  /* "LGCK" little-endian */
#define LG_TRACE_CHUNK_HEADER 20
#define LG_TRACE_MAX_PAYLOAD (16u << 20)  /* the reader rejects larger chunks */
#define LG_TRACE_MAX_FRAMES 256           /* per interned stack */
#define LG_TRACE_MAX_NAME 4096            /* lock/thread names, module paths */

/* Header flags. */
enum {
    LG_TRACE_FLAG_TSC = 1u << 0,   /* event ticks are TSC cycles, converted by calibration */
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

/* A word-at-a-time checksum: cheap enough to run on every flushed chunk (about one cycle per
 * 8 bytes), strong enough to notice torn writes and flipped bits. Not cryptographic. */
static inline uint32_t lg_trace_sum(const uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    uint64_t tail = 0;
    memcpy(&tail, p + i, n - i);
    h = (h ^ tail ^ ((uint64_t)n << 56)) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    return (uint32_t)h;
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

static inline uint64_t lg_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t lg_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

#endif
