/* cmd-inspect.h - what `attach` and `core` share on the command line (cmd-attach.c). */
#ifndef LG_CMD_INSPECT_H
#define LG_CMD_INSPECT_H

#include "cli.h"
#include "../inspect/inspect.h"

typedef struct inspect_args {
    const lg_cmd *cmd;
    const char *json, *dot, *sarif;
    int max_frames;
    lg_inspect_options opt;
    const char *operands[64];   /* attach: PIDs; core: CORE [EXE] */
    int noperands;
    int max_operands;           /* 0: 2 */
} inspect_args;

extern const lg_opt inspect_opts[];
int inspect_parse(inspect_args *a, int argc, char **argv, int *status);
/* Writes the report, frees it, returns the exit status. */
int inspect_finish(inspect_args *a, lg_report *r);

#endif
