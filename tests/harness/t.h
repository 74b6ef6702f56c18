/* t.h - the unit-test harness: checks that count failures, and golden-file comparison.
 * Each test program is registered with CTest (cmake/lockgraph.cmake: lg_unit_test). */
#ifndef LG_T_H
#define LG_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failures, t_checks;

#define CHECK(c) do { t_checks++; if (!(c)) { t_failures++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); t_checks++; \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { t_failures++; \
    fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
            a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); t_checks++; \
    if (a_ != b_) { t_failures++; \
    fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, b_); } \
    } while (0)

static inline char *t_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

/* Compare `got` with $LG_SRCDIR/tests/<rel>; LG_UPDATE_GOLDEN=1 rewrites the file instead. */
static inline void t_golden(const char *rel, const char *got)
{
    char path[4096];
    const char *src = getenv("LG_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/%s", src ? src : ".", rel);
    if (getenv("LG_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "wb");
        if (f) {
            fputs(got, f);
            fclose(f);
        }
        return;
    }
    char *want = t_read_file(path);
    t_checks++;
    if (!want || strcmp(want, got) != 0) {
        t_failures++;
        fprintf(stderr, "golden mismatch: %s\n--- got ---\n%s--- end ---\n", path, got);
    }
    free(want);
}

#define T_DONE() do { fprintf(stderr, "%d checks, %d failed\n", t_checks, t_failures); \
    return t_failures ? 1 : 0; } while (0)

#endif
