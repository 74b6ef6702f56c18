/* options.c - the one option parser: every command describes its options in a table and
 * gets --help, error messages and value checks from here. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void verror(const lg_cmd *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "lockgraph%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage_error(const lg_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(cmd, fmt, ap);
    va_end(ap);
    return LG_EXIT_USAGE;
}

int cli_error(const lg_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(cmd, fmt, ap);
    va_end(ap);
    return LG_EXIT_ERROR;
}

static const lg_opt *find_long(const lg_cmd *cmd, const char *name, size_t len)
{
    for (const lg_opt *o = cmd->opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static const lg_opt *find_short(const lg_cmd *cmd, char c)
{
    for (const lg_opt *o = cmd->opts; o && o->name; o++)
        if (o->short_name == c)
            return o;
    return NULL;
}

int cli_parse(const lg_cmd *cmd, int argc, char **argv, int stop_at_operand,
              cli_opt_fn fn, void *ctx, int *status)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const lg_opt *o = NULL;
        const char *val = NULL;
        if (strcmp(a, "--") == 0)
            return i + 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_help(stdout, cmd);
            *status = LG_EXIT_OK;
            return -1;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (stop_at_operand)
                return i;
            /* Operands before options are allowed elsewhere; the caller sees them later. */
            *status = cli_usage_error(cmd, "unexpected argument '%s'", a);
            return -1;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            o = find_long(cmd, a + 2, len);
            if (!o) {
                *status = cli_usage_error(cmd, "unknown option '%.*s'", (int)len + 2, a);
                return -1;
            }
            if (eq && !o->arg) {
                *status = cli_usage_error(cmd, "option '--%s' takes no value", o->name);
                return -1;
            }
            val = eq ? eq + 1 : NULL;
        } else {
            o = find_short(cmd, a[1]);
            if (!o) {
                *status = cli_usage_error(cmd, "unknown option '-%c'", a[1]);
                return -1;
            }
            if (a[2])
                val = o->arg ? a + 2 : NULL;
            if (a[2] && !o->arg) {
                *status = cli_usage_error(cmd, "option '-%c' takes no value", a[1]);
                return -1;
            }
        }
        if (o->arg && !val) {
            if (i + 1 >= argc) {
                *status = cli_usage_error(cmd, "option '--%s' needs a value (%s)", o->name,
                                          o->arg);
                return -1;
            }
            val = argv[++i];
        }
        if (fn(ctx, o, val) < 0) {
            *status = LG_EXIT_USAGE;
            return -1;
        }
    }
    return i;
}

int cli_parse_uint(const lg_cmd *cmd, const lg_opt *opt, const char *v, unsigned long max,
                   unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-' || n > max) {
        cli_usage_error(cmd, "invalid value '%s' for --%s: expected a whole number up to %lu",
                        v, opt->name, max);
        return -1;
    }
    *out = n;
    return 0;
}

int cli_parse_seconds(const lg_cmd *cmd, const lg_opt *opt, const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(d) || d < 0) {
        cli_usage_error(cmd, "invalid value '%s' for --%s: expected seconds, e.g. 2.5", v,
                        opt->name);
        return -1;
    }
    *out = d;
    return 0;
}
