/* cmd-attach.c - `lockgraph attach PID`: explain a live, hung process from the outside
 * (src/inspect). Also home of the option handling shared with `core` (cmd-core.c). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd-inspect.h"
#include "../inspect/inspect.h"

enum { OPT_JSON = 1, OPT_DOT, OPT_MAX_FRAMES, OPT_NO_STACKS, OPT_SARIF };

const lg_opt inspect_opts[] = {
    {"json", 0, "FILE", "also write the report as JSON to FILE ('-' for stdout, no text)",
     NULL, OPT_JSON},
    {"dot", 0, "FILE", "also write the wait-for graph for Graphviz to FILE ('-' for stdout)",
     NULL, OPT_DOT},
    {"sarif", 0, "FILE", "also write the findings as SARIF 2.1.0 to FILE ('-' for stdout), "
     "for code-scanning dashboards", NULL, OPT_SARIF},
    {"max-frames", 0, "N", "print at most N frames per stack (default: all)", NULL,
     OPT_MAX_FRAMES},
    {"no-stacks", 0, NULL, "do not unwind (faster; waits are decoded from memory alone)",
     NULL, OPT_NO_STACKS},
    {0},
};

static int opt_fn(void *ctx, const lg_opt *o, const char *v)
{
    inspect_args *a = ctx;
    unsigned long n;
    switch (o->id) {
    case OPT_JSON:
        a->json = v;
        break;
    case OPT_DOT:
        a->dot = v;
        break;
    case OPT_SARIF:
        a->sarif = v;
        break;
    case OPT_MAX_FRAMES:
        if (cli_parse_uint(a->cmd, o, v, 100000, &n) < 0)
            return -1;
        a->max_frames = (int)n;
        break;
    case OPT_NO_STACKS:
        a->opt.no_stacks = true;
        break;
    }
    return 0;
}

/* Options may come before or after the operands: "attach PID --json F". */
int inspect_parse(inspect_args *a, int argc, char **argv, int *status)
{
    a->noperands = 0;
    int i = cli_parse(a->cmd, argc, argv, 1, opt_fn, a, status);
    while (i >= 0 && i < argc) {
        if (a->noperands == (a->max_operands ? a->max_operands : 2)) {
            *status = cli_usage_error(a->cmd, "unexpected argument '%s'", argv[i]);
            return -1;
        }
        a->operands[a->noperands++] = argv[i];
        int j = cli_parse(a->cmd, argc - i, argv + i, 1, opt_fn, a, status);
        i = j < 0 ? -1 : i + j;
    }
    return i < 0 ? -1 : 0;
}

int inspect_finish(inspect_args *a, lg_report *r)
{
    char err[512] = "";
    if (lg_inspect_write_all(r, a->json, a->dot, a->sarif, stdout, a->max_frames, err,
                             sizeof err) < 0) {
        lg_report_free(r);
        return cli_error(a->cmd, "%s", err);
    }
    int st = lg_inspect_status(r);
    lg_report_free(r);
    return st;
}

static int attach_fn(int argc, char **argv)
{
    inspect_args a = {.cmd = &cmd_attach, .max_operands = 64};
    int status;
    if (inspect_parse(&a, argc, argv, &status) < 0)
        return status;
    if (a.noperands < 1)
        return cli_usage_error(&cmd_attach, "missing PID (see --help)");
    int pids[64];
    for (int i = 0; i < a.noperands; i++) {
        char *end;
        long pid = strtol(a.operands[i], &end, 10);
        if (!*a.operands[i] || *end || pid <= 0 || pid > 0x3fffffff)
            return cli_usage_error(&cmd_attach, "invalid pid '%s'", a.operands[i]);
        pids[i] = (int)pid;
    }
    lg_report r;
    lg_report_init(&r);
    char err[512] = "";
    if (lg_inspect_pids(pids, (size_t)a.noperands, &a.opt, &r, NULL, err, sizeof err) < 0) {
        lg_report_free(&r);
        return cli_error(&cmd_attach, "%s", err);
    }
    return inspect_finish(&a, &r);
}

const lg_cmd cmd_attach = {
    .name = "attach", .fn = attach_fn,
    .summary = "explain a hung process: deadlocks, wait chains, every thread's stack",
    .usage = "attach PID... [--json FILE] [--dot FILE]",
    .description =
        "Stops every thread of PID for a moment (ptrace, no signal), reads what each one\n"
        "waits for from the futex arguments and glibc's lock layouts, unwinds every stack,\n"
        "and lets the process go exactly as it was. Reports every wait cycle (deadlock),\n"
        "locks whose owner exited, wait chains, and whether the process can make progress.\n"
        "Several PIDs are analysed as one system; a process-shared lock held in another\n"
        "process leads there too (with the caller's rights), so cycles across processes\n"
        "are found.",
    .opts = inspect_opts,
    .exit_status = LG_EXIT_STATUS_FINDINGS,
};
