/* xalloc.h - growth of arrays and strings for the model and writers.
 *
 * These never abort: they return NULL/-1 and leave the old array intact, because the same
 * code runs inside the analysed program (the runtime), where failing to record a finding is
 * acceptable and crashing the host is not.
 */
#ifndef LG_XALLOC_H
#define LG_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Make room for one more element in *arr (of *n used, *cap allocated). 0 or -1. */
int lg_grow(void **arr, size_t *cap, size_t n, size_t elem);
#define LG_GROW(arr, cap, n) lg_grow((void **)&(arr), &(cap), (n), sizeof *(arr))

/* Append one element (copied from *elem) to a capacity-less array: grows by powers of two
 * using n alone, so structs need no separate capacity field. 0 or -1. */
int lg_append(void **arr, size_t *n, const void *elem, size_t size);
#define LG_APPEND(arr, n, elem) lg_append((void **)&(arr), &(n), (elem), sizeof *(arr))

char *lg_strdup(const char *s);                 /* NULL stays NULL */
char *lg_vasprintf(const char *fmt, va_list ap);
char *lg_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
