/* encode.h - turn the hot path's raw events (trace.h) into EVENTS records
 * (docs/trace-format.md): the writer's per-event work, kept apart so it can be tested
 * byte for byte against the format (tests/trace/test-trace-encode.c).
 *
 * Not here: chunk headers, prefixes, checksums, buffering (writer.c).
 */
#ifndef LG_TRACE_ENCODE_H
#define LG_TRACE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

/* Worst case per slot: head + 10 (tick) + 5 (lock) + 5 (stack) + 5 (arg). */
#define LG_ENCODE_MAX_BYTES 26

/* Encode the raw events in slots [0, n) of tick[] and ev[] at p, each tick as the
 * difference from the one before it (*prev: the tick before tick[0], updated to the last
 * one). Room needed: n * LG_ENCODE_MAX_BYTES + LG_REC_SLACK. Returns the end; *args = how
 * many of the n slots were arguments (so n - *args events). `n` must not split an event
 * from its argument slot. */
uint8_t *lg_trace_encode(uint8_t *p, const uint64_t *tick, const lg_trace_ev *ev, size_t n,
                         uint64_t *prev, size_t *args);

/* lg_trace_encode with blocks of at most `blocks` events (8: AVX2 when the CPU has it, 4:
 * SSE2, 1: one at a time; all that a CPU lacks falls back to the next): for the tests,
 * which compare all of them. */
uint8_t *lg_trace_encode_with(int blocks, uint8_t *p, const uint64_t *tick,
                              const lg_trace_ev *ev, size_t n, uint64_t *prev, size_t *args);
/* Whether this CPU (and the kernel) runs AVX2, i.e. whether blocks of 8 are used. */
int lg_trace_encode_avx2(void);

#endif
