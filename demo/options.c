/* options.c - lockgraph-demo's command line: one table of options, a small parser, usage
 * generated from the table. It does not touch the file system except to check --dir. The
 * demo may not link lockgraph's own parser (it stands in for a user's program). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demo.h"

#define DEMO_MAX_FILES 1000000UL
#define DEMO_MAX_WRITES 10000UL

enum opt_id { OPT_FILES, OPT_WRITES, OPT_ORDER, OPT_DIR, OPT_QUIET, OPT_HELP };

typedef struct demo_opt {
    const char *name;   /* long name without "--" */
    const char *arg;    /* value placeholder, or NULL for a flag */
    const char *help;
    enum opt_id id;
} demo_opt;

static const demo_opt opts[] = {
    {"files", "N", "files to create, move and delete (default 1000, at most 1000000)", OPT_FILES},
    {"writes", "M", "15-byte lines written into each file (default 100, at most 10000)", OPT_WRITES},
    {"order", "ORDER", "inconsistent (default: the write-up's deadlock) or consistent (the fix)",
     OPT_ORDER},
    {"dir", "DIR", "where to make folder1/ and folder2/ (default: a new temporary directory)",
     OPT_DIR},
    {"quiet", NULL, "no progress lines, only the summary and errors", OPT_QUIET},
    {"help", NULL, "show this help", OPT_HELP},
    {0},
};

static void usage(FILE *out)
{
    fputs("usage: " DEMO_NAME " [OPTION...]\n\n"
          "Three threads over two reader/writer resources: the creator makes files in folder1\n"
          "(holding resource1), the mover moves them to folder2 (resource1, then resource2),\n"
          "the deleter deletes them there (resource2, then resource1 unless --order consistent).\n"
          "In inconsistent order the mover and the deleter deadlock on every run; Ctrl-C ends it.\n"
          "\noptions:\n", out);
    for (const demo_opt *o = opts; o->name; o++) {
        char left[32];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(out, "  %-16s %s\n", left, o->help);
    }
    fputs("\nexit status: 0 every file created, moved and deleted; 1 error; 2 usage error\n", out);
}

static int parse_count(const demo_opt *o, const char *v, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long n = (v[0] >= '0' && v[0] <= '9') ? strtoul(v, &end, 10) : 0;
    if (v[0] < '0' || v[0] > '9' || *end || errno || n < 1 || n > max) {
        demo_error("invalid value '%s' for --%s: expected a whole number from 1 to %lu", v,
                   o->name, max);
        return -1;
    }
    *out = n;
    return 0;
}

static int check_dir(const char *v)
{
    struct stat st;
    if (stat(v, &st) != 0) {
        demo_error("cannot use '%s' for --dir: %s", v, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        demo_error("cannot use '%s' for --dir: %s", v, strerror(ENOTDIR));
        return -1;
    }
    if (access(v, W_OK | X_OK) != 0) {
        demo_error("cannot use '%s' for --dir: %s", v, strerror(errno));
        return -1;
    }
    return 0;
}

static int apply(demo_config *cfg, const demo_opt *o, const char *v)
{
    switch (o->id) {
    case OPT_FILES:
        return parse_count(o, v, DEMO_MAX_FILES, &cfg->files);
    case OPT_WRITES:
        return parse_count(o, v, DEMO_MAX_WRITES, &cfg->writes);
    case OPT_ORDER:
        if (strcmp(v, "inconsistent") == 0)
            cfg->order = DEMO_ORDER_INCONSISTENT;
        else if (strcmp(v, "consistent") == 0)
            cfg->order = DEMO_ORDER_CONSISTENT;
        else {
            demo_error("invalid value '%s' for --order: expected 'inconsistent' or 'consistent'", v);
            return -1;
        }
        return 0;
    case OPT_DIR:
        if (check_dir(v) != 0)
            return -1;
        cfg->dir = v;
        return 0;
    case OPT_QUIET:
        cfg->quiet = 1;
        return 0;
    case OPT_HELP:
        break;
    }
    return 0;
}

int demo_parse_args(int argc, char **argv, demo_config *cfg)
{
    *cfg = (demo_config){.files = 1000, .writes = 100, .order = DEMO_ORDER_INCONSISTENT};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            demo_error("unexpected argument '%s'", a);
            return 2;
        }
        /* --name VALUE or --name=VALUE */
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        const demo_opt *o = opts;
        while (o->name && !(strlen(o->name) == len && strncmp(o->name, a + 2, len) == 0))
            o++;
        if (!o->name) {
            demo_error("unknown option '%.*s'", (int)(len + 2), a);
            return 2;
        }
        if (o->id == OPT_HELP && !eq) {
            usage(stdout);
            return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
        }
        const char *v = NULL;
        if (o->arg) {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else {
                demo_error("option '--%s' needs a value (%s)", o->name, o->arg);
                return 2;
            }
        } else if (eq) {
            demo_error("option '--%s' takes no value", o->name);
            return 2;
        }
        if (apply(cfg, o, v) != 0)
            return 2;
    }
    return -1;
}
