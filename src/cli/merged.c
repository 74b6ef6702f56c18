/* merged.c - see merged.h. */
#include "merged.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../report/report.h"
#include "../util/safefile.h"

/* Reports are small: a bound keeps `merge /dev/zero`-style inputs from eating memory. */
#define MERGE_MAX_BYTES (256u << 20)

int lg_input_read(lg_input *in, char *err, size_t errlen)
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

void lg_input_free(lg_input *in)
{
    lg_report_free(&in->r);
    free(in->spans);
    free(in->text);
    in->spans = NULL;
    in->text = NULL;
}

size_t lg_merged_defects(const lg_merged *m, size_t nm)
{
    size_t d = 0;
    for (size_t i = 0; i < nm; i++)
        d += lg_kind_is_defect(m[i].finding->kind);
    return d;
}

void lg_merged_write_json(FILE *out, const lg_input *in, size_t n, const lg_merged *m, size_t nm)
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
        const lg_input *src = &in[m[i].reports[0]];
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

void lg_merged_write_text(FILE *out, const lg_input *in, size_t n, const lg_merged *m, size_t nm,
                          bool brief)
{
    size_t defects = 0;
    for (size_t i = 0; i < nm; i++)
        defects += lg_kind_is_defect(m[i].finding->kind);
    if (!brief)
        fprintf(out, "lockgraph merge: %zu report%s, %zu distinct finding%s (%zu defect%s)\n", n,
                n == 1 ? "" : "s", nm, nm == 1 ? "" : "s", defects, defects == 1 ? "" : "s");
    for (size_t i = 0; i < nm; i++) {
        const lg_input *src = &in[m[i].reports[0]];
        if (brief) {
            fprintf(out, "  %s: %s\n", lg_kind_name(m[i].finding->kind),
                    m[i].finding->summary ? m[i].finding->summary : "");
        } else {
            fputc('\n', out);
            lg_text_options o = LG_TEXT_DEFAULTS;
            lg_write_finding_text(out, &src->r, m[i].finding, &o);
        }
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
FILE *lg_out_open(const char *path, char *err, size_t errlen)
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

int lg_out_close(FILE *f, const char *path, char *err, size_t errlen)
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

