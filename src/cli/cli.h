/* cli.h - the command-line front end: one table of commands (main.c), one table of options
 * per command, one parser (options.c). Libraries return errors; only the CLI prints and exits.
 *
 * Adding a command:
 *   1. write cmd-<name>.c defining `const lg_cmd cmd_<name>` with its option table;
 *   2. declare it below;
 *   3. add it to commands[] in main.c;
 *   4. add tests and a README section with real output.
 */
#ifndef LG_CLI_H
#define LG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit statuses shared by every command (listed in --help). */
enum {
    LG_EXIT_OK = 0,       /* nothing found */
    LG_EXIT_ERROR = 1,    /* operational error */
    LG_EXIT_USAGE = 2,    /* usage error */
    LG_EXIT_DEFECT = 66,  /* a defect was found (same as ThreadSanitizer) */
    LG_EXIT_UNCHECKED = 69, /* run/record: the runtime was not loaded, nothing was checked
                               (EX_UNAVAILABLE), when the program itself exited 0 */
};

typedef struct lg_opt {
    const char *name;     /* long name, without "--" */
    char short_name;      /* 0 for none */
    const char *arg;      /* placeholder for the value ("FILE"), or NULL for a flag */
    const char *help;
    const char *env;      /* environment variable that sets it too, or NULL */
    int id;
} lg_opt;

typedef struct lg_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);   /* argv[0] is the command name */
    const char *summary;                /* one line for the command list */
    const char *usage;                  /* after "usage: lockgraph " */
    const char *description;            /* paragraphs for --help, or NULL */
    const lg_opt *opts;                 /* terminated by {0}; may be NULL */
    const char *exit_status;            /* what this command's exit statuses mean, or NULL:
                                           LG_EXIT_STATUS_PLAIN */
} lg_cmd;

/* The exit statuses of a command that finds nothing (help, version, dump). */
#define LG_EXIT_STATUS_PLAIN "0 success, 1 error, 2 usage error"
/* ... and of one that reports findings (attach, core). */
#define LG_EXIT_STATUS_FINDINGS "0 nothing found, 66 a defect found, 1 error, 2 usage error"

/* Called once per option given; returns 0, or -1 after reporting a bad value. */
typedef int (*cli_opt_fn)(void *ctx, const lg_opt *opt, const char *value);

/* Parse argv[1..] of a command against its table. Stops at "--" (skipped) or at the first
 * operand when stop_at_operand. Returns the index of the first operand (argc when none), or
 * -1 when the caller should return *status at once (--help printed: 0; error printed: 2). */
int cli_parse(const lg_cmd *cmd, int argc, char **argv, int stop_at_operand,
              cli_opt_fn fn, void *ctx, int *status);

void cli_help(FILE *out, const lg_cmd *cmd);
/* The same, as a man page (roff): `lockgraph help --man [COMMAND]`; cmd NULL: lockgraph(1)
 * from the command table. */
void cli_man(FILE *out, const lg_cmd *cmd, const lg_cmd *const *commands, size_t ncommands);
/* "lockgraph CMD: message" on stderr; returns LG_EXIT_USAGE / LG_EXIT_ERROR. */
int cli_usage_error(const lg_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_error(const lg_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse helpers for option values; on failure they report and return -1. */
int cli_parse_uint(const lg_cmd *cmd, const lg_opt *opt, const char *v, unsigned long max,
                   unsigned long *out);
int cli_parse_seconds(const lg_cmd *cmd, const lg_opt *opt, const char *v, double *out);

/* Where things are, relative to this executable (build tree and install tree alike). */
char *cli_runtime_library(void);         /* malloc'd path of liblockgraph.so, or NULL */
char *cli_self_dir(void);                /* malloc'd directory of this executable */
/* PATH made absolute against the current directory, without requiring it to exist
 * (malloc'd; NULL when out of memory or the directory is unknown). */
char *cli_absolute_path(const char *path);
/* The status of a run that found a defect: --exitcode (LOCKGRAPH_EXITCODE), else 66. */
int cli_defect_status(void);

/* The commands. */
extern const lg_cmd cmd_help;
extern const lg_cmd cmd_version;
extern const lg_cmd cmd_attach;
extern const lg_cmd cmd_core;
extern const lg_cmd cmd_dump;
extern const lg_cmd cmd_report;
extern const lg_cmd cmd_record;
extern const lg_cmd cmd_run;
extern const lg_cmd cmd_merge;

#endif
