/* options.c - the runtime's options, from the one table in options.def, read from the
 * environment (getenv is safe in a preloaded constructor: environ is set up by then). A bad
 * value gets one message and the default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

static const char *value(const char *env, const char *def)
{
    const char *v = getenv(env);
    return v && *v ? v : def;
}

static void bad(const char *env, const char *v, const char *want)
{
    char line[300];
    int n = snprintf(line, sizeof line, "lockgraph: invalid value '%s' for %s: expected %s\n",
                     v, env, want);
    if (n > 0)
        rt_write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static long number(const char *env, const char *v, const char *def, long min, long max)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < min || n > max) {
        bad(env, v, "a whole number");
        n = strtol(def, NULL, 10);
    }
    return n;
}

void rt_options_load(rt_config *c)
{
    rt_options o = {
#define LG_OPTION(field, flag, env, arg, def, help) .field = value(env, def),
#include "options.def"
#undef LG_OPTION
    };
    c->log = o.log;
    c->json = o.json;
    c->suppressions = o.suppressions;
    c->exitcode = (int)number("LOCKGRAPH_EXITCODE", o.exitcode, "66", 0, 255);
    c->frames = (int)number("LOCKGRAPH_FRAMES", o.frames, "24", 1, 64);
    c->max_locks = (unsigned long)number("LOCKGRAPH_MAX_LOCKS", o.max_locks, "67108864", 16,
                                         1L << 28);
    c->deadlocks = number("LOCKGRAPH_DEADLOCKS", o.deadlocks, "1", 0, 1) != 0;
    c->verbose = strcmp(o.verbose, "0") != 0;
    char *end;
    c->wait_timeout = strtod(o.wait_timeout, &end);
    if (*end || c->wait_timeout < 0) {
        bad("LOCKGRAPH_WAIT_TIMEOUT", o.wait_timeout, "seconds");
        c->wait_timeout = 0;
    }
    if (!strcmp(o.on_deadlock, "exit"))
        c->on_deadlock = RT_ON_DEADLOCK_EXIT;
    else if (!strcmp(o.on_deadlock, "abort"))
        c->on_deadlock = RT_ON_DEADLOCK_ABORT;
    else if (!strcmp(o.on_deadlock, "wait"))
        c->on_deadlock = RT_ON_DEADLOCK_WAIT;
    else {
        bad("LOCKGRAPH_ON_DEADLOCK", o.on_deadlock, "exit, abort or wait");
        c->on_deadlock = RT_ON_DEADLOCK_EXIT;
    }
}

void rt_options_print(int fd, const rt_config *c)
{
    (void)c;
    char buf[2048];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "lockgraph: runtime %s, options:\n", LG_VERSION);
#define LG_OPTION(field, flag, env, arg, def, help)                                        \
    if (n < sizeof buf)                                                                    \
        n += (size_t)snprintf(buf + n, sizeof buf - n, "lockgraph:   %-14s %s=%s\n", flag, env, \
                              value(env, def));
#include "options.def"
#undef LG_OPTION
    rt_write_all(fd, buf, n < sizeof buf ? n : sizeof buf - 1);
}
