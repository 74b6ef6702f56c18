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

#include "../model/merge.h"
#include "../report/report.h"
#include "../util/safefile.h"
#include "cli.h"

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

/* One input: its text (the merged JSON copies findings from it), the report read from it,
 * and each finding's span in the text. */
typedef struct input {
    const char *path;
    char *text;
    size_t len;
    lg_report r;
    size_t (*spans)[2];
} input;

/* Reports are small: a bound keeps `merge /dev/zero`-style inputs from eating memory. */
#define MERGE_MAX_BYTES (256u << 20)

static int read_input(input *in, char *err, size_t errlen)
{
    int fd;
    struct stat st;
    int e = lg_safe_open_read(in->path, &fd, &st);
    if (e) {
        snprintf(err, errlen, "cannot read '%s': %s", in->path,
                 e == EISDIR ? "is a directory" : lg_safe_strerror(e));
        return -1;
    }
    if ((unsigned long long)st.st_size > MERGE_MAX_BYTES) {
        close(fd);
        snprintf(err, errlen, "'%s' is %lld bytes: too large for a lockgraph report", in->path,
                 (long long)st.st_size);
        return -1;
    }
    in->text = malloc((size_t)st.st_size + 1);
    if (!in->text) {
        close(fd);
        snprintf(err, errlen, "out of memory reading '%s'", in->path);
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(fd, in->text + got, (size_t)st.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;   /* a file that shrank: what is there is parsed, and must still be JSON */
        got += (size_t)n;
    }
    close(fd);
    in->text[got] = '\0';
    in->len = got;
    char why[256] = "";
    lg_report_init(&in->r);
    if (lg_report_read_json(in->text, in->len, &in->r, &in->spans, why, sizeof why) < 0) {
        snprintf(err, errlen, "'%s' is not a lockgraph JSON report: %s", in->path, why);
        return -1;
    }
    return 0;
}

static void write_merged_json(FILE *out, const input *in, size_t n, const lg_merged *m,
                              size_t nm)
{
    size_t defects = 0;
    for (size_t i = 0; i < nm; i++)
        defects += lg_kind_is_defect(m[i].finding->kind);
    fputs("{\"tool\": \"lockgraph\", \"version\": ", out);
    lg_json_str(out, LG_VERSION);
    fprintf(out, ", \"format\": %d, \"merged\": true, \"defects\": %zu,\n \"reports\": [",
            LG_JSON_FORMAT, defects);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",\n  " : "\n  ", out);
        fputs("{\"file\": ", out);
        lg_json_str(out, in[i].path);
        fprintf(out, ", \"pid\": %d, \"command\": [", in[i].r.pid);
        for (size_t k = 0; k < in[i].r.ncommand; k++) {
            fputs(k ? ", " : "", out);
            lg_json_str(out, in[i].r.command[k]);
        }
        fprintf(out, "], \"findings\": %zu}", in[i].r.nfindings);
    }
    fputs("],\n \"findings\": [", out);
    for (size_t i = 0; i < nm; i++) {
        const input *src = &in[m[i].reports[0]];
        size_t fi = (size_t)(m[i].finding - src->r.findings);
        size_t a = src->spans[fi][0], b = src->spans[fi][1];
        fputs(i ? ",\n" : "\n", out);
        /* The object as written, its closing brace replaced by the list of reports. */
        while (b > a && src->text[b - 1] != '}')
            b--;
        fwrite(src->text + a, 1, b > a ? b - a - 1 : 0, out);
        fprintf(out, ",\n     \"fingerprint\": \"%016llx\", \"reports\": [",
                (unsigned long long)m[i].fingerprint);
        for (size_t k = 0; k < m[i].nreports; k++)
            fprintf(out, "%s%zu", k ? ", " : "", m[i].reports[k]);
        fputs("]}", out);
    }
    fputs("]}\n", out);
}

static void write_text(FILE *out, const input *in, size_t n, const lg_merged *m, size_t nm)
{
    size_t defects = 0;
    for (size_t i = 0; i < nm; i++)
        defects += lg_kind_is_defect(m[i].finding->kind);
    fprintf(out, "lockgraph merge: %zu report%s, %zu distinct finding%s (%zu defect%s)\n", n,
            n == 1 ? "" : "s", nm, nm == 1 ? "" : "s", defects, defects == 1 ? "" : "s");
    for (size_t i = 0; i < nm; i++) {
        const input *src = &in[m[i].reports[0]];
        fputc('\n', out);
        lg_text_options o = LG_TEXT_DEFAULTS;
        lg_write_finding_text(out, &src->r, m[i].finding, &o);
        fprintf(out, "  seen in %zu process%s:", m[i].nreports, m[i].nreports == 1 ? "" : "es");
        for (size_t k = 0; k < m[i].nreports && k < 8; k++) {
            const lg_report *r = &in[m[i].reports[k]].r;
            const char *cmd = r->ncommand ? r->command[0] : in[m[i].reports[k]].path;
            const char *base = strrchr(cmd, '/');
            fprintf(out, "%s pid %d (%s)", k ? "," : "", r->pid, base ? base + 1 : cmd);
        }
        if (m[i].nreports > 8)
            fprintf(out, " and %zu more", m[i].nreports - 8);
        fputc('\n', out);
    }
}

/* Open FILE for a writer ('-' is stdout): never through a symlink, never another user's. */
static FILE *open_out(const char *path, char *err, size_t errlen)
{
    if (!strcmp(path, "-"))
        return stdout;
    int fd, e = lg_safe_create(path, LG_SAFE_REPORT, &fd);
    FILE *f = e ? NULL : fdopen(fd, "w");
    if (!f) {
        if (!e) {
            e = errno;
            close(fd);
        }
        snprintf(err, errlen, "cannot write '%s': %s", path, lg_safe_strerror(e));
    }
    return f;
}

static int close_out(FILE *f, const char *path, char *err, size_t errlen)
{
    int bad = ferror(f);
    if (f == stdout)
        bad |= fflush(f) != 0;
    else
        bad |= fclose(f) != 0;
    if (bad)
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno ? errno : EIO));
    return bad ? -1 : 0;
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

static int merge_paths(const merge_args *ap, char **paths, size_t n)
{
    merge_args a = *ap;
    if (!n)
        return cli_usage_error(&cmd_merge, "no report given (usage: lockgraph %s)", cmd_merge.usage);
    if (a.json && a.sarif && !strcmp(a.json, "-") && !strcmp(a.sarif, "-"))
        return cli_usage_error(&cmd_merge, "--json and --sarif cannot both be '-'");
    input *in = calloc(n, sizeof *in);
    if (!in)
        return cli_error(&cmd_merge, "out of memory");
    char err[1024] = "";
    int rc = LG_EXIT_OK;
    size_t nread = 0;
    for (; nread < n; nread++) {
        in[nread].path = paths[nread];
        if (read_input(&in[nread], err, sizeof err) < 0) {
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
    bool stdout_taken = (a.json && !strcmp(a.json, "-")) || (a.sarif && !strcmp(a.sarif, "-"));
    if (!a.quiet && !stdout_taken)
        write_text(stdout, in, n, m, nm);
    if (a.json) {
        FILE *f = open_out(a.json, err, sizeof err);
        if (!f || (write_merged_json(f, in, n, m, nm), close_out(f, a.json, err, sizeof err)) < 0)
            rc = cli_error(&cmd_merge, "%s", err);
    }
    if (a.sarif && rc == LG_EXIT_OK) {
        char cwd[4096];
        FILE *f = open_out(a.sarif, err, sizeof err);
        if (!f || lg_write_sarif(f, reps, n, LG_VERSION, getcwd(cwd, sizeof cwd) ? cwd : NULL) < 0
            || close_out(f, a.sarif, err, sizeof err) < 0)
            rc = cli_error(&cmd_merge, "%s", err[0] ? err : "cannot write the SARIF file");
    }
    if (rc == LG_EXIT_OK)
        for (size_t i = 0; i < nm; i++)
            if (lg_kind_is_defect(m[i].finding->kind))
                rc = LG_EXIT_DEFECT;
    lg_merged_free(m, nm);
    free(reps);
out:
    for (size_t i = 0; i < nread; i++) {
        lg_report_free(&in[i].r);
        free(in[i].spans);
        free(in[i].text);
    }
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
