/* text-internal.h - pieces shared by the text printers (text-*.c), one per finding kind. */
#ifndef LG_TEXT_INTERNAL_H
#define LG_TEXT_INTERNAL_H

#include "report.h"

/* "mutex A (0x5555...)" / "rwlock 0x7fff..." / with attrs "mutex (recursive) ..." */
void text_lock(FILE *out, const lg_lock *l);
/* Short name for scenario columns: the symbol, else the id. */
const char *text_lock_short(const lg_lock *l);
/* thread 1234 "name" */
void text_thread(FILE *out, const lg_finding *f, const lg_report *r, int tid);
const lg_thread *text_find_thread(const lg_finding *f, const lg_report *r, int tid);
/* The verb for acquiring in a mode: "lock", "read-lock", "write-lock", "wait on". */
const char *text_acquire_verb(const lg_lock *l, lg_mode m);
/* The same verb in the past tense: "locked", "read-locked", "waited on". */
const char *text_acquired_verb(const lg_lock *l, lg_mode m);
/* One frame per line, indented; "(no stack recorded)" when empty. */
void text_stack(FILE *out, const lg_stack *s, const char *indent, const lg_text_options *opt);
/* Frames [from, to) of a stack, numbered by their index in the stack (no "more" line). */
void text_stack_range(FILE *out, const lg_stack *s, size_t from, size_t to, const char *indent,
                      const lg_text_options *opt);
/* "file:line" of the first frame with a source position, else function, else "?". */
void text_where(FILE *out, const lg_stack *s);
void text_banner(FILE *out, const char *title);
void text_notes(FILE *out, char *const *notes, size_t n, const char *indent);

void text_inversion(FILE *out, const lg_report *r, const lg_finding *f, const lg_text_options *o);
void text_deadlock(FILE *out, const lg_report *r, const lg_finding *f, const lg_text_options *o);
void text_misuse(FILE *out, const lg_report *r, const lg_finding *f, const lg_text_options *o);
void text_generic(FILE *out, const lg_report *r, const lg_finding *f, const lg_text_options *o);
void text_process(FILE *out, const lg_report *r, const lg_text_options *o);
/* The whole attach/core layout, when report->verdict is set (text-process.c). */
void text_inspection(FILE *out, const lg_report *r, const lg_text_options *o);

#endif
