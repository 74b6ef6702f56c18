/* encode.c - raw events to EVENTS records (encode.h; bytes in docs/trace-format.md).
 *
 * Does: the per-event encoding, in tiers by cost. A busy thread's events are close in time
 * (tick deltas below 64), on few locks and stacks (ids below 128), so each record is one
 * byte per field: such events are encoded eight at a time with AVX2 when the CPU has it
 * (about 1 cycle each), else four at a time with SSE2 (part of every x86-64, about 2);
 * one alone is built in a register, 3 or 4 bytes at once; anything else goes through
 * lg_put_event (format.h). All tiers write the same bytes: the tests compare them with a
 * plain varint encoder.
 * Does not: know about chunks, buffers or files (writer.c).
 *
 * The blocks read each event's previous tick from the slot before it (an argument slot
 * carries its event's tick, trace.h), so they start at the second slot of a range.
 */
#include "encode.h"

#include <string.h>

#if defined(__x86_64__) && defined(__SSE2__)
#define LG_ENCODE_X86 1
#include <immintrin.h>
#endif

#define INFO_ARG ((uint32_t)LG_REC_HAS_ARG << LG_TRACE_INFO_HEAD_SHIFT)
/* Any of these bits set in info: not the small case (an argument, a stack id >= 128). */
#define INFO_NOT_SMALL (INFO_ARG | (LG_TRACE_INFO_STACK & ~0x7fu))

/* Slot *i (and its argument slot, if any) at p; advances *i past them. */
static inline uint8_t *put_one(uint8_t *p, const uint64_t *tick, const lg_trace_ev *ev,
                               size_t *i, size_t n, uint64_t *prev, size_t *args)
{
    size_t k = *i;
    uint64_t t = tick[k], d = t - *prev;
    uint32_t lock = ev[k].lock, info = ev[k].info;
    *prev = t;
    *i = k + 1;
    /* delta < 64 (zigzag < 128), lock < 128, stack < 128, no argument: one byte each */
    if (__builtin_expect(((d >> 6) | ((lock | (info & INFO_NOT_SMALL)) >> 7)) == 0, 1)) {
        uint32_t has_stack = (info + 0x7f) & LG_REC_HAS_STACK;   /* stack < 128 here */
        uint32_t w = (info >> LG_TRACE_INFO_HEAD_SHIFT) | has_stack | (uint32_t)d << 9
                   | lock << 16 | info << 24;
        memcpy(p, &w, 4);
        return p + 3 + (has_stack >> 7);
    }
    uint32_t arg = 0;
    if ((info & INFO_ARG) && k + 1 < n) {
        arg = ev[k + 1].lock;
        *i = k + 2;
        ++*args;
    }
    unsigned head = (info >> LG_TRACE_INFO_HEAD_SHIFT) & (LG_REC_TYPE_MASK | LG_REC_SHARED);
    return lg_put_event(p, head, lg_zigzag((int64_t)d), lock, info & LG_TRACE_INFO_STACK, arg);
}

/* The loops work on local copies of *prev and *args: through the pointers, every
 * byte stored at p could alias them and the compiler would reload them for each event. */
static uint8_t *encode_scalar(uint8_t *p, const uint64_t *tick, const lg_trace_ev *ev, size_t n,
                              uint64_t *prev, size_t *args)
{
    uint64_t last = *prev;
    size_t nargs = 0;
    for (size_t i = 0; i < n;)
        p = put_one(p, tick, ev, &i, n, &last, &nargs);
    *prev = last;
    *args = nargs;
    return p;
}

#if LG_ENCODE_X86
/* Slots [0, 4) of tick/ev at once when all four are the small case of put_one and either
 * all have a stack (16 bytes) or none has (12 bytes); tick[-1] is the tick before. 0 when
 * they are not (nothing written). */
static inline int put_four(uint8_t **pp, const uint64_t *tick, const lg_trace_ev *ev)
{
    __m128i t01 = _mm_loadu_si128((const __m128i *)tick);
    __m128i t23 = _mm_loadu_si128((const __m128i *)(tick + 2));
    __m128i d01 = _mm_sub_epi64(t01, _mm_loadu_si128((const __m128i *)(tick - 1)));
    __m128i d23 = _mm_sub_epi64(t23, _mm_loadu_si128((const __m128i *)(tick + 1)));
    __m128i dlo = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(d01), _mm_castsi128_ps(d23),
                                                  _MM_SHUFFLE(2, 0, 2, 0)));
    /* the event words are {lock, info} pairs */
    __m128 e01 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)ev));
    __m128 e23 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(ev + 2)));
    __m128i lock = _mm_castps_si128(_mm_shuffle_ps(e01, e23, _MM_SHUFFLE(2, 0, 2, 0)));
    __m128i info = _mm_castps_si128(_mm_shuffle_ps(e01, e23, _MM_SHUFFLE(3, 1, 3, 1)));

    /* deltas < 64 (as 64-bit values), locks < 128, no argument, stacks < 128 */
    __m128i big = _mm_or_si128(
        _mm_andnot_si128(_mm_set1_epi64x(0x3f), _mm_or_si128(d01, d23)),
        _mm_or_si128(_mm_andnot_si128(_mm_set1_epi32(0x7f), lock),
                     _mm_and_si128(info, _mm_set1_epi32((int)INFO_NOT_SMALL))));
    __m128i zero = _mm_setzero_si128();
    if (_mm_movemask_epi8(_mm_cmpeq_epi32(big, zero)) != 0xffff)
        return 0;
    int no_stack = _mm_movemask_epi8(
        _mm_cmpeq_epi32(_mm_and_si128(info, _mm_set1_epi32(LG_TRACE_INFO_STACK)), zero));
    if (no_stack != 0 && no_stack != 0xffff)
        return 0;
    /* per event: head, zigzag delta (2 * delta: it is >= 0), lock, stack */
    __m128i w = _mm_or_si128(_mm_or_si128(_mm_srli_epi32(info, LG_TRACE_INFO_HEAD_SHIFT),
                                          _mm_slli_epi32(dlo, 9)),
                             _mm_or_si128(_mm_slli_epi32(lock, 16), _mm_slli_epi32(info, 24)));
    uint8_t *p = *pp;
    if (!no_stack) {
        _mm_storeu_si128((__m128i *)p, _mm_or_si128(w, _mm_set1_epi32(LG_REC_HAS_STACK)));
        *pp = p + 16;
    } else {
        /* 3 bytes each (the fourth is 0): close the gaps within each 8-byte half */
        __m128i y = _mm_or_si128(_mm_and_si128(w, _mm_set1_epi64x(0xffffff)),
                                 _mm_and_si128(_mm_srli_epi64(w, 8),
                                               _mm_set1_epi64x(0xffffff000000)));
        _mm_storel_epi64((__m128i *)p, y);
        _mm_storel_epi64((__m128i *)(p + 6), _mm_unpackhi_epi64(y, y));
        *pp = p + 12;
    }
    return 1;
}

/* put_four for slots [0, 8), all with a stack (32 bytes); AVX2 only. */
__attribute__((target("avx2"))) static inline int put_eight(uint8_t **pp, const uint64_t *tick,
                                                            const lg_trace_ev *ev)
{
    __m256i t03 = _mm256_loadu_si256((const __m256i *)tick);
    __m256i t47 = _mm256_loadu_si256((const __m256i *)(tick + 4));
    __m256i d03 = _mm256_sub_epi64(t03, _mm256_loadu_si256((const __m256i *)(tick - 1)));
    __m256i d47 = _mm256_sub_epi64(t47, _mm256_loadu_si256((const __m256i *)(tick + 3)));
    /* within each 128-bit half: lanes in the order 0 1 4 5 | 2 3 6 7 */
    __m256i dlo = _mm256_castps_si256(_mm256_shuffle_ps(
        _mm256_castsi256_ps(d03), _mm256_castsi256_ps(d47), _MM_SHUFFLE(2, 0, 2, 0)));
    __m256 e03 = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)ev));
    __m256 e47 = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(ev + 4)));
    __m256i lock = _mm256_castps_si256(_mm256_shuffle_ps(e03, e47, _MM_SHUFFLE(2, 0, 2, 0)));
    __m256i info = _mm256_castps_si256(_mm256_shuffle_ps(e03, e47, _MM_SHUFFLE(3, 1, 3, 1)));

    __m256i big = _mm256_or_si256(
        _mm256_andnot_si256(_mm256_set1_epi64x(0x3f), _mm256_or_si256(d03, d47)),
        _mm256_or_si256(_mm256_andnot_si256(_mm256_set1_epi32(0x7f), lock),
                        _mm256_and_si256(info, _mm256_set1_epi32((int)INFO_NOT_SMALL))));
    if (!_mm256_testz_si256(big, big))
        return 0;
    __m256i stack = _mm256_and_si256(info, _mm256_set1_epi32(LG_TRACE_INFO_STACK));
    if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(stack, _mm256_setzero_si256())))
        return 0;
    __m256i w = _mm256_or_si256(
        _mm256_or_si256(_mm256_srli_epi32(info, LG_TRACE_INFO_HEAD_SHIFT),
                        _mm256_slli_epi32(dlo, 9)),
        _mm256_or_si256(_mm256_slli_epi32(lock, 16), _mm256_slli_epi32(info, 24)));
    w = _mm256_or_si256(w, _mm256_set1_epi32(LG_REC_HAS_STACK));
    /* 64-bit lanes {0 1}{4 5}{2 3}{6 7} back into event order */
    w = _mm256_permute4x64_epi64(w, _MM_SHUFFLE(3, 1, 2, 0));
    _mm256_storeu_si256((__m256i *)*pp, w);
    *pp += 32;
    return 1;
}

/* The encoding loop, for blocks of eight (AVX2) or four. Always inlined into its two
 * callers, so each is compiled for its own instruction set. */
static inline __attribute__((always_inline)) uint8_t *
encode_blocks(uint8_t *p, const uint64_t *tick, const lg_trace_ev *ev, size_t n, uint64_t *prev,
              size_t *args, int eight)
{
    uint64_t last = *prev;
    size_t nargs = 0, i = 0;
    if (n)
        p = put_one(p, tick, ev, &i, n, &last, &nargs);   /* now slot i - 1 holds `last` */
    while (n - i >= 4) {
        if (eight && n - i >= 8 && put_eight(&p, tick + i, ev + i)) {
            i += 8;
            continue;
        }
        if (put_four(&p, tick + i, ev + i)) {
            i += 4;
            continue;
        }
        /* not four small ones: these four (and any argument slot) one by one */
        last = tick[i - 1];
        for (size_t stop = i + 4; i < stop;)
            p = put_one(p, tick, ev, &i, n, &last, &nargs);
    }
    if (i)
        last = tick[i - 1];
    while (i < n)
        p = put_one(p, tick, ev, &i, n, &last, &nargs);
    *prev = last;
    *args = nargs;
    return p;
}

__attribute__((target("avx2"))) static uint8_t *
encode_avx2(uint8_t *p, const uint64_t *tick, const lg_trace_ev *ev, size_t n, uint64_t *prev,
            size_t *args)
{
    return encode_blocks(p, tick, ev, n, prev, args, 1);
}

static uint8_t *encode_sse2(uint8_t *p, const uint64_t *tick, const lg_trace_ev *ev, size_t n,
                            uint64_t *prev, size_t *args)
{
    return encode_blocks(p, tick, ev, n, prev, args, 0);
}

int lg_trace_encode_avx2(void)
{
    static int have = -1;   /* a benign race: every thread computes the same answer */
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx2") != 0;
    }
    return have;
}

uint8_t *lg_trace_encode_with(int blocks, uint8_t *p, const uint64_t *tick,
                              const lg_trace_ev *ev, size_t n, uint64_t *prev, size_t *args)
{
    if (blocks == 8 && lg_trace_encode_avx2())
        return encode_avx2(p, tick, ev, n, prev, args);
    if (blocks >= 4)
        return encode_sse2(p, tick, ev, n, prev, args);
    return encode_scalar(p, tick, ev, n, prev, args);
}
#else
int lg_trace_encode_avx2(void)
{
    return 0;
}

uint8_t *lg_trace_encode_with(int blocks, uint8_t *p, const uint64_t *tick,
                              const lg_trace_ev *ev, size_t n, uint64_t *prev, size_t *args)
{
    (void)blocks;
    return encode_scalar(p, tick, ev, n, prev, args);
}
#endif

uint8_t *lg_trace_encode(uint8_t *p, const uint64_t *tick, const lg_trace_ev *ev, size_t n,
                         uint64_t *prev, size_t *args)
{
    return lg_trace_encode_with(8, p, tick, ev, n, prev, args);
}
