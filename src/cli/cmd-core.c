/* cmd-core.c - `lockgraph core CORE [EXE]`: the attach analysis from an ELF core file
 * (src/inspect/core.c); cores from `lockgraph dump`, gcore or the kernel. */
#include "cli.h"
#include "cmd-inspect.h"

static int core_fn(int argc, char **argv)
{
    inspect_args a = {.cmd = &cmd_core};
    int status;
    if (inspect_parse(&a, argc, argv, &status) < 0)
        return status;
    if (a.noperands < 1)
        return cli_usage_error(&cmd_core, "missing core file (see --help)");
    lg_report r;
    lg_report_init(&r);
    char err[512] = "";
    if (lg_inspect_core(a.operands[0], a.noperands > 1 ? a.operands[1] : NULL, &a.opt, &r,
                        NULL, err, sizeof err) < 0) {
        lg_report_free(&r);
        return cli_error(&cmd_core, "%s", err);
    }
    return inspect_finish(&a, &r);
}

const lg_cmd cmd_core = {
    .name = "core", .fn = core_fn,
    .summary = "explain a hang from a core file (lockgraph dump, gcore, kernel)",
    .usage = "core CORE [EXE] [--json FILE] [--dot FILE]",
    .description =
        "The same analysis as `lockgraph attach`, from an ELF core: registers from the\n"
        "core's NT_PRSTATUS notes, memory from its segments. EXE, when given, must be the\n"
        "program the core was dumped from (checked by build-id). Cores written by\n"
        "`lockgraph dump` also carry thread names, states and blocked-for times.",
    .opts = inspect_opts,
    .exit_status = LG_EXIT_STATUS_FINDINGS,
};
