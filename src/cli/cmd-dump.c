/* cmd-dump.c - `lockgraph dump PID -o FILE`: write a core of a live process without killing
 * it (src/inspect/dump.c), for `lockgraph core` later or elsewhere. */
#include <stdlib.h>

#include "cli.h"
#include "../inspect/inspect.h"

enum { OPT_OUTPUT = 1 };

static const lg_opt dump_opts[] = {
    {"output", 'o', "FILE", "write the core to FILE (required): a new file, mode 0600, never through a symlink", NULL, OPT_OUTPUT},
    {0},
};

static int opt_fn(void *ctx, const lg_opt *o, const char *v)
{
    if (o->id == OPT_OUTPUT)
        *(const char **)ctx = v;
    return 0;
}

static int dump_fn(int argc, char **argv)
{
    const char *outp = NULL, *pidarg = NULL;
    int status;
    int i = cli_parse(&cmd_dump, argc, argv, 1, opt_fn, &outp, &status);
    while (i >= 0 && i < argc) {
        if (pidarg)
            return cli_usage_error(&cmd_dump, "unexpected argument '%s'", argv[i]);
        pidarg = argv[i];
        int j = cli_parse(&cmd_dump, argc - i, argv + i, 1, opt_fn, &outp, &status);
        i = j < 0 ? -1 : i + j;
    }
    if (i < 0)
        return status;
    if (!pidarg)
        return cli_usage_error(&cmd_dump, "missing PID (see --help)");
    if (!outp)
        return cli_usage_error(&cmd_dump, "missing output file (-o FILE)");
    char *end;
    long pid = strtol(pidarg, &end, 10);
    if (!*pidarg || *end || pid <= 0 || pid > 0x3fffffff)
        return cli_usage_error(&cmd_dump, "invalid pid '%s'", pidarg);
    char err[512] = "";
    lg_inspect_stats st = {0};
    if (lg_inspect_dump((int)pid, outp, &st, err, sizeof err) < 0)
        return cli_error(&cmd_dump, "%s", err);
    fprintf(stderr, "lockgraph dump: wrote '%s' (%zu threads; process stopped for %.1f ms)\n",
            outp, st.nthreads, st.stopped_ms);
    return LG_EXIT_OK;
}

const lg_cmd cmd_dump = {
    .name = "dump", .fn = dump_fn,
    .summary = "write a core of a live process without killing it",
    .usage = "dump PID -o FILE",
    .description =
        "Stops every thread of PID for a moment, writes an ELF core (readable by gdb,\n"
        "eu-stack and `lockgraph core`) with a LOCKGRAPH note carrying thread names,\n"
        "states and blocked-for times, and lets the process go on as it was.",
    .opts = dump_opts,
};
