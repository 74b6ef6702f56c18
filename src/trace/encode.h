/* encode.h - turn the hot path's raw records (trace.h) into EVENTS records
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

/* Worst case per raw record: head + 10 (tick) + 5 (lock) + 5 (stack) + 5 (arg). */
#define LG_ENCODE_MAX_BYTES 26

/* Encode the records r[0..n) at p, each tick as the difference from the one before it
 * (*prev: the tick before r[0], updated to the last one). Room needed: n *
 * LG_ENCODE_MAX_BYTES + LG_REC_SLACK. Returns the end; *args = how many of the n records
 * were argument records (so n - *args events). `n` must not split an event from its
 * argument record. */
uint8_t *lg_trace_encode(uint8_t *p, const lg_trace_rec *r, size_t n, uint64_t *prev,
                         size_t *args);

/* The same with the plain one-record-at-a-time code only (no SSE2): for the tests. */
uint8_t *lg_trace_encode_scalar(uint8_t *p, const lg_trace_rec *r, size_t n, uint64_t *prev,
                                size_t *args);

#endif
