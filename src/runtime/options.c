/* options.c - the runtime's options, from the one table in options.def, read from the
 * environment (getenv is safe in a preloaded constructor: environ is set up by then; it
 * takes no lock and allocates nothing, so it is safe when init runs inside the program's
 * allocator too) and copied. Values are checked against the table's valid values
 * (optcheck.h, shared with `lockgraph run`); a bad value gets one message naming the
 * variable and the valid range, and the default.
 * --verbose prints the values in force, not the raw environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "optcheck.h"
#include "rt.h"

/* A setuid/setgid program (AT_SECURE: the kernel says so) runs with its caller's environment:
 * nothing in it is trusted, so every option keeps its default and the runtime writes no file
 * (no --log, no --json; the trace writer uses secure_getenv). The one place to keep this
 * check if the environment is ever read another way. */
static bool secure_mode(void)
{
    return getauxval(AT_SECURE) != 0;
}

static const char *env_value(const char *name)
{
    return secure_mode() ? NULL : getenv(name);
}

/* The value in force for each option (the environment's when valid, else the default). */
static const char *in_force[LG_OPTV_COUNT];

static const char *value(const lg_optv *o, double *num)
{
    const char *v = env_value(o->env);
    if (!v || !*v)
        v = o->def;
    if (lg_optv_check(o, v, num) < 0) {
        char want[160], line[512];
        lg_optv_expected(o, want, sizeof want);
        int n = snprintf(line, sizeof line, "lockgraph: invalid value '%s' for %s: expected "
                         "%s; using the default %s\n", v, o->env, want, o->def);
        if (n > 0)
            rt_write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        v = o->def;
        lg_optv_check(o, v, num);
    }
    return v;
}

void rt_options_load(rt_config *c)
{
    double num[LG_OPTV_COUNT] = {0};
    for (int i = 0; i < LG_OPTV_COUNT; i++) {
        /* A copy in our own heap: programs rewrite their environment strings in place (redis
         * writes its process title over them), and the JSON path is needed at exit. */
        const char *v = value(&lg_optv_table[i], &num[i]);
        char *copy = strdup(v);
        in_force[i] = copy ? copy : v;
    }
    c->log = in_force[LG_OPTV_log];
    c->json = in_force[LG_OPTV_json];
    c->suppressions = in_force[LG_OPTV_suppressions];
    c->exitcode = (int)num[LG_OPTV_exitcode];
    c->frames = (int)num[LG_OPTV_frames];
    c->max_locks = (unsigned long)num[LG_OPTV_max_locks];
    c->deadlocks = num[LG_OPTV_deadlocks] != 0;
    c->verbose = strcmp(in_force[LG_OPTV_verbose], "0") != 0;
    c->wait_timeout = num[LG_OPTV_wait_timeout];
    /* The list's bits are its choices' positions; the model names the subkinds. */
    unsigned long set = (unsigned long)num[LG_OPTV_misuse];
    c->misuse = 0;
    for (int m = 1; m < LG_MISUSE_COUNT; m++) {
        const char *name = lg_misuse_name((lg_misuse)m);
        int ch = lg_optv_choice(lg_optv_table[LG_OPTV_misuse].choices, name, strlen(name));
        if (ch >= 0 && (set >> ch & 1))
            c->misuse |= 1u << m;
    }
    static const rt_on_deadlock actions[] = {RT_ON_DEADLOCK_EXIT, RT_ON_DEADLOCK_ABORT,
                                             RT_ON_DEADLOCK_WAIT};
    c->on_deadlock = actions[(int)num[LG_OPTV_on_deadlock]];
}

void rt_options_print(int fd, const rt_config *c)
{
    (void)c;
    char buf[2048];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "lockgraph: runtime %s, options:\n", LG_VERSION);
    for (int i = 0; i < LG_OPTV_COUNT && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "lockgraph:   %-14s %s=%s\n",
                              lg_optv_table[i].flag, lg_optv_table[i].env,
                              in_force[i] ? in_force[i] : lg_optv_table[i].def);
    rt_write_all(fd, buf, n < sizeof buf ? n : sizeof buf - 1);
}
