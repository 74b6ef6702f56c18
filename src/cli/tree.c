/* tree.c - the end of `lockgraph run` over a process tree (a test suite under `run -- ctest`,
 * `make check`, any script): one report for the whole tree.
 *
 * Every process that ran the runtime wrote its own JSON (FILE for the first, FILE.<pid> for
 * every other, FILE[.<pid>].execN after an exec that followed defects: src/runtime/report.c).
 * When there is more than one, they are merged (merged.c: each distinct finding once, by
 * fingerprint, with the processes that had it): FILE becomes the merged report, the first
 * process's own moves to FILE.<pid>, and one summary goes to stderr. Only the files of this
 * run's processes count (the pids the handshake named), never a stale FILE.<pid> of an
 * earlier run. --sarif writes the same findings as SARIF; without --json the reports go to a
 * private temporary directory, removed at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../report/report.h"
#include "launch.h"
#include "merged.h"

static bool ran_here(const lg_loaded *h, long pid)
{
    for (size_t i = 0; i < h->npids; i++)
        if (h->pids[i] == pid)
            return true;
    return false;
}

/* A report file of this run: "BASE", "BASE.execN", "BASE.PID" or "BASE.PID.execN". */
static bool ours(const char *name, const char *base, const lg_loaded *h, int root)
{
    size_t bl = strlen(base);
    if (strncmp(name, base, bl) != 0)
        return false;
    const char *p = name + bl;
    long pid = root;
    if (*p == '.' && p[1] >= '0' && p[1] <= '9') {
        char *end;
        pid = strtol(p + 1, &end, 10);
        p = end;
    }
    if (!strncmp(p, ".exec", 5)) {
        char *end;
        strtol(p + 5, &end, 10);
        if (end == p + 5)
            return false;
        p = end;
    }
    return *p == '\0' && ran_here(h, pid);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths of this run's reports, the first process's FILE first. */
static char **list_reports(const char *json, const lg_loaded *h, int root, size_t *n)
{
    *n = 0;
    char dir[PATH_MAX], base[NAME_MAX + 1];
    const char *slash = strrchr(json, '/');
    if (slash) {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - json) ? (int)(slash - json) : 1, json);
        snprintf(base, sizeof base, "%s", slash + 1);
    } else {
        snprintf(dir, sizeof dir, ".");
        snprintf(base, sizeof base, "%s", json);
    }
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ours(e->d_name, base, h, root))
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv)
                break;
            v = nv;
            cap = nc;
        }
        char *p = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!p)
            break;
        sprintf(p, "%s/%s", dir, e->d_name);
        v[(*n)++] = p;
        if (!strcmp(e->d_name, base) && *n > 1) {   /* FILE first */
            char *t = v[0];
            v[0] = v[*n - 1];
            v[*n - 1] = t;
        }
    }
    closedir(d);
    if (*n > 2)   /* a stable order: FILE first, then by name */
        qsort(v + 1, *n - 1, sizeof *v, by_name);
    return v;
}

static void remove_tree_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[PATH_MAX + NAME_MAX + 2];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

int lg_tree_prepare(lg_tree *t, const char *sarif)
{
    t->sarif = sarif;
    t->tmpdir[0] = '\0';
    const char *json = getenv("LOCKGRAPH_JSON");
    if (!sarif || (json && *json))
        return 0;
    /* SARIF without --json: the processes' reports go somewhere private, for the end. */
    const char *tmp = getenv("TMPDIR");
    snprintf(t->tmpdir, sizeof t->tmpdir, "%s/lockgraph-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t->tmpdir)) {
        t->tmpdir[0] = '\0';
        return -1;
    }
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/report.json", t->tmpdir);
    return setenv("LOCKGRAPH_JSON", path, 1);
}

void lg_tree_finish(const lg_cmd *cmd, lg_tree *t, const lg_loaded *h, int root)
{
    const char *json = getenv("LOCKGRAPH_JSON");
    if (!json || !*json || !h->npids)
        goto out;
    size_t n = 0;
    char **paths = list_reports(json, h, root, &n);
    if (!n || (n == 1 && !t->sarif)) {
        for (size_t i = 0; i < n; i++)
            free(paths[i]);
        free(paths);
        goto out;
    }
    lg_input *in = calloc(n, sizeof *in);
    const lg_report **reps = calloc(n, sizeof *reps);
    size_t nin = 0;
    char err[1024];
    for (size_t i = 0; in && reps && i < n; i++) {
        in[nin].path = paths[i];
        if (lg_input_read(&in[nin], err, sizeof err) < 0) {
            cli_error(cmd, "%s (left out of the merged report)", err);
            lg_input_free(&in[nin]);
            continue;
        }
        reps[nin] = &in[nin].r;
        nin++;
    }
    lg_merged *m = NULL;
    size_t nm = 0;
    if (nin && lg_merge_findings(reps, nin, &m, &nm) == 0) {
        bool own_dir = t->tmpdir[0] != '\0';
        if (nin > 1 && !own_dir) {
            /* FILE becomes the merged report; the first process's own is kept beside it. */
            char moved[PATH_MAX + 32] = "";
            if (!strcmp(in[0].path, json)) {
                snprintf(moved, sizeof moved, "%s.%d", json, root);
                if (rename(json, moved) == 0)
                    in[0].path = moved;   /* the merged report names where it is now */
            }
            FILE *f = lg_out_open(json, err, sizeof err);
            if (!f || (lg_merged_write_json(f, in, nin, m, nm), lg_out_close(f, json, err, sizeof err)) < 0)
                cli_error(cmd, "%s", err);
            size_t d = lg_merged_defects(m, nm);
            fprintf(stderr, "lockgraph %s: %zu process%s reported, %zu distinct finding%s (%zu "
                    "defect%s); one merged report: %s\n", cmd->name, nin, nin == 1 ? "" : "es",
                    nm, nm == 1 ? "" : "s",
                    d, d == 1 ? "" : "s", json);
            lg_merged_write_text(stderr, in, nin, m, nm, true);
            if (moved[0])
                in[0].path = paths[0];
        }
        if (t->sarif) {
            char cwd[PATH_MAX];
            FILE *f = lg_out_open(t->sarif, err, sizeof err);
            if (!f || lg_write_sarif(f, reps, nin, LG_VERSION, getcwd(cwd, sizeof cwd) ? cwd : NULL) < 0
                || lg_out_close(f, t->sarif, err, sizeof err) < 0)
                cli_error(cmd, "%s", err[0] ? err : "cannot write the SARIF file");
        }
        lg_merged_free(m, nm);
    }
    for (size_t i = 0; i < nin; i++)
        lg_input_free(&in[i]);
    free(in);
    free(reps);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
out:
    if (t->tmpdir[0])
        remove_tree_dir(t->tmpdir);
}
