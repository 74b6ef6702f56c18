/* optcheck.h - checking a runtime option's value against the "valid values" column of
 * options.def. Shared, header-only, by the runtime (options.c: values from the environment)
 * and `lockgraph run` / `record` (src/cli/launch.c: values from flags), so both accept the
 * same values and describe the same range. Not here: what a caller does with a bad value (the
 * CLI: usage error; the runtime: one message and the default), nor the values' meaning.
 */
#ifndef LG_RT_OPTCHECK_H
#define LG_RT_OPTCHECK_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    LG_OPTV_TEXT,      /* anything */
    LG_OPTV_FLAG,      /* no value; "0" means off */
    LG_OPTV_UINT,      /* a whole number from min to max */
    LG_OPTV_SECONDS,   /* a number of seconds from min up */
    LG_OPTV_ENUM,      /* one of the '|'-separated choices */
    LG_OPTV_LIST,      /* comma-separated choices, each may be "-CHOICE" (turned off);
                        * choices 0 and 1 are "all" and "none"; *num is the bit set
                        * (bit i = choice i) after applying the items left to right */
} lg_optv_type;

typedef struct lg_optv {
    const char *flag, *env, *def;
    lg_optv_type type;
    double min, max;
    const char *choices;
} lg_optv;

/* The table, one entry per options.def line, indexed by LG_OPTV_<field>. */
enum {
#define LG_OPTION(field, flag, env, arg, def, check, help) LG_OPTV_##field,
#include "options.def"
#undef LG_OPTION
    LG_OPTV_COUNT
};

#define LG_CHECK(type, min, max, choices) LG_OPTV_##type, (double)(min), (double)(max), choices
static const lg_optv lg_optv_table[LG_OPTV_COUNT] = {
#define LG_OPTION(field, flag, env, arg, def, check, help) {flag, env, def, check},
#include "options.def"
#undef LG_OPTION
};
#undef LG_CHECK

/* What a valid value looks like, for an error message: "a whole number from 1 to 64". */
static inline void lg_optv_expected(const lg_optv *o, char *buf, size_t len)
{
    switch (o->type) {
    case LG_OPTV_UINT:
        snprintf(buf, len, "a whole number from %.0f to %.0f", o->min, o->max);
        break;
    case LG_OPTV_SECONDS:
        snprintf(buf, len, "seconds (%g or more), e.g. 2.5", o->min);
        break;
    case LG_OPTV_ENUM: {
        /* "exit|abort|wait" -> "exit, abort or wait" */
        size_t n = 0;
        const char *p = o->choices;
        buf[0] = '\0';
        while (*p && n + 1 < len) {
            size_t w = strcspn(p, "|");
            const char *sep = !p[w] ? "" : strchr(p + w + 1, '|') ? ", " : " or ";
            n += (size_t)snprintf(buf + n, len - n, "%.*s%s", (int)w, p, sep);
            p += w + (p[w] == '|');
        }
        break;
    }
    case LG_OPTV_LIST: {
        size_t n = (size_t)snprintf(buf, len, "a comma-separated list of ");
        for (const char *p = o->choices; *p && n + 1 < len;) {
            size_t w = strcspn(p, "|");
            n += (size_t)snprintf(buf + n, len - n, "%.*s%s", (int)w, p, p[w] ? ", " : "");
            p += w + (p[w] == '|');
        }
        if (n + 1 < len)
            snprintf(buf + n, len - n, " (-NAME turns NAME off)");
        break;
    }
    default:
        snprintf(buf, len, "any value");
        break;
    }
}

/* Index of the choice v[0..vl) in '|'-separated choices, or -1. */
static inline int lg_optv_choice(const char *choices, const char *v, size_t vl)
{
    const char *p = choices;
    for (int i = 0; *p; i++) {
        size_t w = strcspn(p, "|");
        if (w == vl && !strncmp(p, v, w))
            return i;
        p += w + (p[w] == '|');
    }
    return -1;
}

/* 0 when `v` is valid for `o`, else -1. For UINT and SECONDS *num gets the number, for ENUM
 * the index of the choice. */
static inline int lg_optv_check(const lg_optv *o, const char *v, double *num)
{
    double d = 0;
    char *end;
    switch (o->type) {
    case LG_OPTV_UINT: {
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if (!*v || *end || errno || v[0] == '-' || v[0] == '+' || (double)n < o->min ||
            (double)n > o->max)
            return -1;
        d = (double)n;
        break;
    }
    case LG_OPTV_SECONDS:
        errno = 0;
        d = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(d) || d < o->min)
            return -1;
        break;
    case LG_OPTV_LIST: {
        unsigned long all = 0, set = 0;
        int nch = 0;
        for (const char *p = o->choices; *p; nch++) {
            size_t w = strcspn(p, "|");
            p += w + (p[w] == '|');
        }
        for (int i = 2; i < nch && i < 31; i++)
            all |= 1ul << i;
        if (!*v)
            return -1;
        for (const char *p = v;;) {
            size_t w = strcspn(p, ",");
            bool off = w && *p == '-';
            int c = lg_optv_choice(o->choices, p + off, w - off);
            if (c < 0 || (off && c < 2))
                return -1;
            set = c == 0 ? all : c == 1 ? 0 : off ? set & ~(1ul << c) : set | 1ul << c;
            if (!p[w])
                break;
            p += w + 1;
        }
        d = (double)set;
        break;
    }
    case LG_OPTV_ENUM: {
        const char *p = o->choices;
        size_t vl = strlen(v);
        for (int i = 0; *p; i++) {
            size_t w = strcspn(p, "|");
            if (w == vl && !strncmp(p, v, w)) {
                d = i;
                break;
            }
            p += w + (p[w] == '|');
            if (!*p)
                return -1;
        }
        break;
    }
    default:
        break;
    }
    if (num)
        *num = d;
    return 0;
}

#endif
