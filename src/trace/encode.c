/* encode.c - raw records to EVENTS records (encode.h; bytes in docs/trace-format.md).
 *
 * Does: the per-event encoding, in three tiers by cost. A busy thread's events are close in
 * time (tick deltas below 64), on few locks and stacks (ids below 128): four such records
 * are encoded at once with SSE2 (part of every x86-64), about 2 cycles each; one such
 * record alone is 3 or 4 bytes built in a register; anything else goes through
 * lg_put_event (format.h). All three write the same bytes: the tests compare them.
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

/* One event (and its argument record, if any) at p; advances *rp past it. */
static inline uint8_t *put_one(uint8_t *p, const lg_trace_rec **rp, const lg_trace_rec *e,
                               uint64_t *prev, size_t *args)
{
    const lg_trace_rec *r = *rp;
    uint64_t t = r->tick, d = t - *prev;
    uint32_t lock = r->lock, info = r->info;
    *prev = t;
    *rp = r + 1;
    /* delta < 64 (zigzag < 128), lock < 128, stack < 128, no argument: one byte each */
    if (__builtin_expect(((d >> 6) | ((lock | (info & INFO_NOT_SMALL)) >> 7)) == 0, 1)) {
        uint32_t has_stack = (info + 0x7f) & LG_REC_HAS_STACK;   /* stack < 128 here */
        uint32_t w = (info >> LG_TRACE_INFO_HEAD_SHIFT) | has_stack | (uint32_t)d << 9
                   | lock << 16 | info << 24;
        memcpy(p, &w, 4);
        return p + 3 + (has_stack >> 7);
    }
    uint32_t arg = 0;
    if ((info & INFO_ARG) && r + 1 < e) {
        arg = r[1].lock;
        *rp = r + 2;
        ++*args;
    }
    unsigned head = (info >> LG_TRACE_INFO_HEAD_SHIFT) & (LG_REC_TYPE_MASK | LG_REC_SHARED);
    return lg_put_event(p, head, lg_zigzag((int64_t)d), lock, info & LG_TRACE_INFO_STACK, arg);
}

#if defined(__SSE2__)
/* Four records r[0..4) at once when all four are the small case of put_one and either all
 * have a stack (16 bytes) or none has (12 bytes). *last holds the tick before r[0] in its
 * low half and becomes r[3]. 0 when they are not (nothing written). */
static inline int put_four(uint8_t **pp, const lg_trace_rec *r, __m128i *last)
{
    /* each record is the dwords {tick low, tick high, lock, info} */
    const __m128i *v = (const __m128i *)r;
    __m128i r0 = _mm_loadu_si128(v), r1 = _mm_loadu_si128(v + 1);
    __m128i r2 = _mm_loadu_si128(v + 2), r3 = _mm_loadu_si128(v + 3);
    __m128i t01 = _mm_unpacklo_epi64(r0, r1), t23 = _mm_unpacklo_epi64(r2, r3);
    __m128i p01 = _mm_unpacklo_epi64(*last, r0);
    __m128i p12 = _mm_castpd_si128(_mm_shuffle_pd(_mm_castsi128_pd(t01), _mm_castsi128_pd(t23), 1));
    __m128i d01 = _mm_sub_epi64(t01, p01), d23 = _mm_sub_epi64(t23, p12);
    __m128i dlo = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(d01), _mm_castsi128_ps(d23),
                                                  _MM_SHUFFLE(2, 0, 2, 0)));
    __m128i li01 = _mm_unpackhi_epi32(r0, r1), li23 = _mm_unpackhi_epi32(r2, r3);
    __m128i lock = _mm_unpacklo_epi64(li01, li23), info = _mm_unpackhi_epi64(li01, li23);

    /* deltas < 64 (as 64-bit values), locks < 128, no argument, stacks < 128 */
    __m128i big = _mm_or_si128(_mm_andnot_si128(_mm_set1_epi64x(0x3f), _mm_or_si128(d01, d23)),
                               _mm_or_si128(_mm_andnot_si128(_mm_set1_epi32(0x7f), lock),
                                            _mm_and_si128(info, _mm_set1_epi32((int)INFO_NOT_SMALL))));
    __m128i zero = _mm_setzero_si128();
    if (_mm_movemask_epi8(_mm_cmpeq_epi32(big, zero)) != 0xffff)
        return 0;
    int no_stack = _mm_movemask_epi8(
        _mm_cmpeq_epi32(_mm_and_si128(info, _mm_set1_epi32(LG_TRACE_INFO_STACK)), zero));
    if (no_stack != 0 && no_stack != 0xffff)
        return 0;
    /* per record: head, zigzag delta (2 * delta: it is >= 0), lock, stack */
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
                                 _mm_and_si128(_mm_srli_epi64(w, 8), _mm_set1_epi64x(0xffffff000000)));
        _mm_storel_epi64((__m128i *)p, y);
        _mm_storel_epi64((__m128i *)(p + 6), _mm_unpackhi_epi64(y, y));
        *pp = p + 12;
    }
    *last = r3;
    return 1;
}
#endif

/* Both entry points work on local copies of *prev and *args: through the pointers, every
 * byte stored at p could alias them and the compiler would reload them each record. */
uint8_t *lg_trace_encode_scalar(uint8_t *p, const lg_trace_rec *r, size_t n, uint64_t *prev,
                                size_t *args)
{
    const lg_trace_rec *e = r + n;
    uint64_t last = *prev;
    size_t nargs = 0;
    while (r < e)
        p = put_one(p, &r, e, &last, &nargs);
    *prev = last;
    *args = nargs;
    return p;
}

uint8_t *lg_trace_encode(uint8_t *p, const lg_trace_rec *r, size_t n, uint64_t *prev,
                         size_t *args)
{
#if defined(__SSE2__)
    const lg_trace_rec *e = r + n;
    uint64_t last = *prev;
    size_t nargs = 0;
    __m128i lastv = _mm_cvtsi64_si128((long long)last);
    while (e - r >= 4) {
        if (put_four(&p, r, &lastv)) {
            r += 4;
            continue;
        }
        /* not four small ones: these four (and any argument record) one by one */
        last = (uint64_t)_mm_cvtsi128_si64(lastv);
        for (const lg_trace_rec *stop = r + 4; r < stop;)
            p = put_one(p, &r, e, &last, &nargs);
        lastv = _mm_cvtsi64_si128((long long)last);
    }
    last = (uint64_t)_mm_cvtsi128_si64(lastv);
    while (r < e)
        p = put_one(p, &r, e, &last, &nargs);
    *prev = last;
    *args = nargs;
    return p;
#else
    return lg_trace_encode_scalar(p, r, n, prev, args);
#endif
}
