/* encode.c - raw events to EVENTS records (encode.h; bytes in docs/trace-format.md).
 *
 * Does: the per-event encoding, in three tiers by cost. A busy thread's events are close in
 * time (tick deltas below 64), on few locks and stacks (ids below 128), so each record is
 * one byte per field: four such events are encoded at once with SSE2 (part of every
 * x86-64), about 2 cycles each; one alone is built in a register, 3 or 4 bytes at once;
 * anything else goes through lg_put_event (format.h). All tiers write the same bytes: the
 * tests compare them with a plain varint encoder.
 * Does not: know about chunks, buffers or files (writer.c).
 */
#include "encode.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
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

#if defined(__SSE2__)
/* Slots [i, i + 4) at once when all four are the small case of put_one and either all have
 * a stack (16 bytes) or none has (12 bytes). The high half of *last is the tick before
 * slot i; it becomes slot i + 3's. 0 when they are not (nothing written). */
static inline int put_four(uint8_t **pp, const uint64_t *tick, const lg_trace_ev *ev,
                           __m128i *last)
{
    __m128i t01 = _mm_loadu_si128((const __m128i *)tick);
    __m128i t23 = _mm_loadu_si128((const __m128i *)tick + 1);
    __m128d t01d = _mm_castsi128_pd(t01), t23d = _mm_castsi128_pd(t23);
    __m128i p01 = _mm_castpd_si128(_mm_shuffle_pd(_mm_castsi128_pd(*last), t01d, 1));
    __m128i p12 = _mm_castpd_si128(_mm_shuffle_pd(t01d, t23d, 1));
    __m128i d01 = _mm_sub_epi64(t01, p01), d23 = _mm_sub_epi64(t23, p12);
    __m128i dlo = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(d01), _mm_castsi128_ps(d23),
                                                  _MM_SHUFFLE(2, 0, 2, 0)));
    /* the event words are {lock, info} pairs */
    __m128 e01 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)ev));
    __m128 e23 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)ev + 1));
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
    *last = t23;
    return 1;
}
#endif

/* Both entry points work on local copies of *prev and *args: through the pointers, every
 * byte stored at p could alias them and the compiler would reload them for each event. */
uint8_t *lg_trace_encode_scalar(uint8_t *p, const uint64_t *tick, const lg_trace_ev *ev,
                                size_t n, uint64_t *prev, size_t *args)
{
    uint64_t last = *prev;
    size_t nargs = 0;
    for (size_t i = 0; i < n;)
        p = put_one(p, tick, ev, &i, n, &last, &nargs);
    *prev = last;
    *args = nargs;
    return p;
}

uint8_t *lg_trace_encode(uint8_t *p, const uint64_t *tick, const lg_trace_ev *ev, size_t n,
                         uint64_t *prev, size_t *args)
{
#if defined(__SSE2__)
    uint64_t last = *prev;
    size_t nargs = 0, i = 0;
    __m128i lastv = _mm_set_epi64x((long long)last, 0);
    while (n - i >= 4) {
        if (put_four(&p, tick + i, ev + i, &lastv)) {
            i += 4;
            continue;
        }
        /* not four small ones: these four (and any argument slot) one by one */
        last = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(lastv, lastv));
        for (size_t stop = i + 4; i < stop;)
            p = put_one(p, tick, ev, &i, n, &last, &nargs);
        lastv = _mm_set_epi64x((long long)last, 0);
    }
    last = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(lastv, lastv));
    while (i < n)
        p = put_one(p, tick, ev, &i, n, &last, &nargs);
    *prev = last;
    *args = nargs;
    return p;
#else
    return lg_trace_encode_scalar(p, tick, ev, n, prev, args);
#endif
}
