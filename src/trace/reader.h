/* reader.h - read a trace file (docs/trace-format.md) into an lg_timeline.
 *
 * The reader trusts nothing: every length, count, varint and id is checked against the bytes
 * that are there, chunk checksums are verified, and a damaged or truncated file yields what
 * was readable before the damage plus a one-line reason. It never crashes, never loops
 * without consuming input, and allocates at most in proportion to the input's size.
 * Not here: symbolization (the CLI fills lg_tl_stack.sym), analysis (analysis/timeline.h).
 */
#ifndef LG_TRACE_READER_H
#define LG_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "../model/timeline.h"

typedef struct lg_trace_status {
    char error[256];       /* why reading stopped early ("" when complete) */
    uint64_t offset;       /* bytes read and valid: where the damage starts */
    uint64_t size;         /* bytes in the file */
    size_t events;         /* events read */
    size_t chunks;         /* chunks read */
} lg_trace_status;

/* 0: the whole trace was valid. 1: damaged or truncated; `t` holds everything before the
 * damage, st->error says what is wrong. -1: nothing usable (not a trace, unknown version,
 * unreadable file); st->error says why. `t` must be initialized; it is indexed and its
 * events sorted by time on return (also after 1). */
int lg_trace_read(const uint8_t *data, size_t len, lg_timeline *t, lg_trace_status *st);
int lg_trace_read_file(const char *path, lg_timeline *t, lg_trace_status *st);

/* The same trace, its events one at a time instead of in t->events: for a trace too large to
 * hold (lockgraph report). lg_trace_stream_open checks the whole file as lg_trace_read_file
 * does (the same return value, status and messages, and t gets everything but the events:
 * t->nevents stays 0, st->events counts them); then lg_trace_stream_next gives the events in
 * exactly the order lg_trace_read_file sorts them (1 an event, 0 the end, -1 an error: the
 * file changed since, lg_trace_stream_error says so). Memory: the definitions, an index of
 * the event chunks and one decoded chunk per thread (unless some thread's clock went
 * backwards: then the events are read and sorted in memory, as lg_trace_read_file does).
 * lg_trace_stream_ids: every thread and lock id the events use (locks sorted), for the
 * online analysis (analysis/timeline.h). *s is NULL after -1. */
typedef struct lg_trace_stream lg_trace_stream;
int lg_trace_stream_open(const char *path, lg_timeline *t, lg_trace_status *st,
                         lg_trace_stream **s);
void lg_trace_stream_ids(const lg_trace_stream *s, const int **tids, size_t *ntids,
                         const uint32_t **locks, size_t *nlocks);
int lg_trace_stream_next(lg_trace_stream *s, lg_tl_event *e);
const char *lg_trace_stream_error(const lg_trace_stream *s);
void lg_trace_stream_close(lg_trace_stream *s);

#endif
