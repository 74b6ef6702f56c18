/* merged.h - reading lockgraph JSON reports and writing them merged: `lockgraph merge` and
 * the end of `lockgraph run` over a process tree (tree.c) share it. Each distinct finding
 * once (model/merge.c, by fingerprint), with every report that had it. The merged JSON keeps
 * each finding's text as its first report wrote it (the reader's spans), adding its
 * fingerprint and "reports" (indices into the merged report's list of reports), so a finding
 * reads the same merged or not and a newer writer's keys survive a merge by an older one. */
#ifndef LG_CLI_MERGED_H
#define LG_CLI_MERGED_H

#include <stdbool.h>
#include <stdio.h>

#include "../model/merge.h"

typedef struct lg_input {
    const char *path;
    char *text;
    size_t len;
    lg_report r;
    size_t (*spans)[2];
} lg_input;

/* Read in->path (a regular file, bounded, pread): 0, or -1 with a one-line message. The
 * report is initialised either way: lg_input_free it. */
int lg_input_read(lg_input *in, char *err, size_t errlen);
void lg_input_free(lg_input *in);

void lg_merged_write_json(FILE *out, const lg_input *in, size_t n, const lg_merged *m, size_t nm);
/* For people: a count line, then each distinct finding as text with the processes it was
 * seen in (brief: its summary and fix only). */
void lg_merged_write_text(FILE *out, const lg_input *in, size_t n, const lg_merged *m, size_t nm,
                          bool brief);
size_t lg_merged_defects(const lg_merged *m, size_t nm);

/* Outputs: '-' is stdout; files never through a symlink, never another user's. */
FILE *lg_out_open(const char *path, char *err, size_t errlen);
int lg_out_close(FILE *f, const char *path, char *err, size_t errlen);

#endif
