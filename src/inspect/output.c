/* output.c - writing an inspection report in the forms the commands offer: text to a stream,
 * JSON and DOT to files ("-" for stdout). Returns errors; the CLI prints them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inspect.h"
#include "../report/report.h"
#include "../util/safefile.h"

enum { FORM_DOT, FORM_JSON, FORM_SARIF };

/* SARIF paths are relative to the working directory when the sources lie under it. */
static int write_sarif(FILE *f, const lg_report *r)
{
    char cwd[4096];
    const lg_report *one[] = {r};
    return lg_write_sarif(f, one, 1, LG_VERSION, getcwd(cwd, sizeof cwd) ? cwd : NULL);
}

static int write_to(const char *path, const lg_report *r, int form, char *err, size_t errlen)
{
    FILE *f = stdout;
    if (strcmp(path, "-") != 0) {
        /* Not through a symlink, never into an existing file, never group/world-writable. */
        int fd, e = lg_safe_create(path, LG_SAFE_REPORT, &fd);
        if (!e && !(f = fdopen(fd, "w"))) {
            e = errno;
            close(fd);
        }
        if (e) {
            snprintf(err, errlen, "cannot create '%s': %s", path, lg_safe_strerror(e));
            return -1;
        }
    }
    int rc = form == FORM_JSON    ? lg_write_json(f, r, LG_VERSION)
             : form == FORM_SARIF ? write_sarif(f, r)
                                  : lg_write_dot(f, r);
    if (f != stdout && fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
    return rc;
}

int lg_inspect_write(const lg_report *r, const char *json, const char *dot, FILE *text,
                     int max_frames, char *err, size_t errlen)
{
    return lg_inspect_write_all(r, json, dot, NULL, text, max_frames, err, errlen);
}

int lg_inspect_write_all(const lg_report *r, const char *json, const char *dot,
                         const char *sarif, FILE *text, int max_frames, char *err,
                         size_t errlen)
{
    if (json && write_to(json, r, FORM_JSON, err, errlen) < 0)
        return -1;
    if (dot && write_to(dot, r, FORM_DOT, err, errlen) < 0)
        return -1;
    if (sarif && write_to(sarif, r, FORM_SARIF, err, errlen) < 0)
        return -1;
    bool to_stdout = (json && strcmp(json, "-") == 0) || (dot && strcmp(dot, "-") == 0)
                     || (sarif && strcmp(sarif, "-") == 0);
    if (text && !(to_stdout && text == stdout)) {
        lg_text_options o = LG_TEXT_DEFAULTS;
        o.max_frames = max_frames;
        if (lg_write_text(text, r, &o) < 0 || fflush(text) != 0) {
            snprintf(err, errlen, "cannot write the report: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}
