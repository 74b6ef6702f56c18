/* xalloc.c - non-aborting growth helpers (see xalloc.h for why they never abort). */
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lg_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap > SIZE_MAX / elem)
        return -1;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

int lg_append(void **arr, size_t *n, const void *elem, size_t size)
{
    /* Capacity is implicit: the next power of two >= n (at least 4). */
    size_t cap = 4;
    while (cap < *n)
        cap *= 2;
    if (*n == 0 || *n == cap) {
        size_t ncap = *n == 0 ? 4 : cap * 2;
        if (ncap > SIZE_MAX / size)
            return -1;
        void *p = realloc(*arr, ncap * size);
        if (!p)
            return -1;
        *arr = p;
    }
    memcpy((char *)*arr + *n * size, elem, size);
    (*n)++;
    return 0;
}

char *lg_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *lg_vasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

char *lg_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = lg_vasprintf(fmt, ap);
    va_end(ap);
    return s;
}
