/* cmd-merge.c - `lockgraph merge REPORT...`: the JSON reports of one run (a test suite under
 * `lockgraph run --json FILE`: FILE from the first process, FILE.<pid> from every other) or of
 * several runs as one report: each distinct finding once (model/merge.c, by fingerprint),
 * with every process that hit it, as text, one merged JSON and one SARIF file.
 *
 * The merged JSON keeps each finding's text as its first report wrote it (the reader's
 * spans), adding "reports": the indices of the processes that had it. So a finding reads
 * the same merged or not, and a newer writer's keys survive a merge by an older lockgraph.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../report/report.h"
#include "cli.h"
#include "merged.h"

enum { MERGE_JSON, MERGE_SARIF, MERGE_QUIET };

static const lg_opt merge_opts[] = {
    {"json", 'o', "FILE", "write the merged report as JSON to FILE ('-' for stdout)", NULL,
     MERGE_JSON},
    {"sarif", 0, "FILE", "write the merged findings as SARIF 2.1.0 to FILE ('-' for stdout), "
     "for code scanning", NULL, MERGE_SARIF},
    {"quiet", 'q', NULL, "no text on stdout (only the files and the exit status)", NULL,
     MERGE_QUIET},
    {0},
};

typedef struct merge_args {
    const char *json, *sarif;
    bool quiet;
} merge_args;

static int set_opt(void *ctx, const lg_opt *o, const char *v)
{
    merge_args *a = ctx;
    if (o->id == MERGE_JSON)
        a->json = v;
    else if (o->id == MERGE_SARIF)
        a->sarif = v;
    else
        a->quiet = true;
    return 0;
}

static int merge_paths(const merge_args *a, char **paths, size_t n);

static int merge_fn(int argc, char **argv)
{
    merge_args a = {0};
    int status;
    /* Options may come before, between or after the reports ("merge A B --sarif S"). */
    char **paths = calloc((size_t)argc, sizeof *paths);
    if (!paths)
        return cli_error(&cmd_merge, "out of memory");
    size_t n = 0;
    int i = cli_parse(&cmd_merge, argc, argv, 1, set_opt, &a, &status);
    while (i >= 0 && i < argc) {
        paths[n++] = argv[i];
        int j = cli_parse(&cmd_merge, argc - i, argv + i, 1, set_opt, &a, &status);
        i = j < 0 ? -1 : i + j;
    }
    if (i < 0) {
        free(paths);
        return status;
    }
    int rc = merge_paths(&a, paths, n);
    free(paths);
    return rc;
}

static int merge_paths(const merge_args *a, char **paths, size_t n)
{
    if (!n)
        return cli_usage_error(&cmd_merge, "no report given (usage: lockgraph %s)", cmd_merge.usage);
    if (a->json && a->sarif && !strcmp(a->json, "-") && !strcmp(a->sarif, "-"))
        return cli_usage_error(&cmd_merge, "--json and --sarif cannot both be '-'");
    lg_input *in = calloc(n, sizeof *in);
    if (!in)
        return cli_error(&cmd_merge, "out of memory");
    char err[1024] = "";
    int rc = LG_EXIT_OK;
    size_t nread = 0;
    for (; nread < n; nread++) {
        in[nread].path = paths[nread];
        if (lg_input_read(&in[nread], err, sizeof err) < 0) {
            nread++;   /* its report is initialised: freed below */
            rc = cli_error(&cmd_merge, "%s", err);
            goto out;
        }
    }
    const lg_report **reps = calloc(n, sizeof *reps);
    lg_merged *m = NULL;
    size_t nm = 0;
    if (!reps) {
        rc = cli_error(&cmd_merge, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        reps[i] = &in[i].r;
    if (lg_merge_findings(reps, n, &m, &nm) < 0) {
        free(reps);
        rc = cli_error(&cmd_merge, "out of memory");
        goto out;
    }
    bool stdout_taken = (a->json && !strcmp(a->json, "-")) || (a->sarif && !strcmp(a->sarif, "-"));
    if (!a->quiet && !stdout_taken)
        lg_merged_write_text(stdout, in, n, m, nm, false);
    if (a->json) {
        FILE *f = lg_out_open(a->json, err, sizeof err);
        if (!f || (lg_merged_write_json(f, in, n, m, nm), lg_out_close(f, a->json, err, sizeof err)) < 0)
            rc = cli_error(&cmd_merge, "%s", err);
    }
    if (a->sarif && rc == LG_EXIT_OK) {
        char cwd[4096];
        FILE *f = lg_out_open(a->sarif, err, sizeof err);
        if (!f || lg_write_sarif(f, reps, n, LG_VERSION, getcwd(cwd, sizeof cwd) ? cwd : NULL) < 0
            || lg_out_close(f, a->sarif, err, sizeof err) < 0)
            rc = cli_error(&cmd_merge, "%s", err[0] ? err : "cannot write the SARIF file");
    }
    if (rc == LG_EXIT_OK)
        for (size_t i = 0; i < nm; i++)
            if (lg_kind_is_defect(m[i].finding->kind))
                rc = LG_EXIT_DEFECT;
    lg_merged_free(m, nm);
    free(reps);
out:
    for (size_t i = 0; i < nread; i++)
        lg_input_free(&in[i]);
    free(in);
    return rc;
}

const lg_cmd cmd_merge = {
    .name = "merge", .fn = merge_fn,
    .summary = "merge the JSON reports of a run (a test suite) into one report and SARIF",
    .usage = "merge [OPTIONS] REPORT...",
    .description =
        "Reads lockgraph JSON reports (from `run --json FILE`: FILE is the first process's,\n"
        "FILE.<pid> every other's; or from attach/core --json) and prints each distinct\n"
        "finding once, with every process that hit it: the same inversion in two test\n"
        "programs, or in a parent and its forked child, is one finding. Distinct means a\n"
        "different fingerprint (the kind, the locks' names and the code locations).\n"
        "--json writes the merged report (each finding as first written, plus the\n"
        "processes that had it); --sarif one SARIF file for code scanning.\n"
        "For a whole test suite:\n"
        "  lockgraph run --json out/lg.json -- make check\n"
        "  lockgraph merge --sarif lockgraph.sarif out/lg.json out/lg.json.*",
    .opts = merge_opts,
    .exit_status = "0 no defect in any report, 66 a defect in some report, 1 a report "
                   "unreadable or an output unwritable, 2 usage error",
};
