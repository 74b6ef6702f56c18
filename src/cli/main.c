/* main.c - entry point: the command table and dispatch. Every command lives in its own
 * cmd-<name>.c; this file only finds it, runs it, and checks that stdout was written. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* In the order a user meets them: catch it while it runs, then explain a hang, then help. */
static const lg_cmd *const commands[] = {
    &cmd_run,
    &cmd_record,
    &cmd_report,
    &cmd_attach,
    &cmd_dump,
    &cmd_core,
    &cmd_merge,
    &cmd_help,
    &cmd_version,
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static const lg_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

/* Edit distance with adjacent transpositions counted as one edit (optimal string
 * alignment), so "versoin" and "rnu" are one typo away from "version" and "run". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return 99;
    size_t d[33][33];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            size_t m = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
                && d[i - 2][j - 2] + 1 < m)
                m = d[i - 2][j - 2] + 1;
            d[i][j] = m;
        }
    }
    return d[la][lb];
}

/* The command a typo most likely meant: a prefix of it, or one edit away (two for names of
 * six letters or more); NULL when nothing is that close ("nope" is not "core"). */
static const lg_cmd *closest_command(const char *name)
{
    const lg_cmd *best = NULL;
    size_t bestd = strlen(name) >= 6 ? 3 : 2;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        size_t d = distance(name, commands[i]->name);
        if (d < bestd || (*name && strncmp(name, commands[i]->name, strlen(name)) == 0)) {
            best = commands[i];
            bestd = d;
        }
    }
    return best;
}

static void main_help(FILE *out)
{
    fputs("usage: lockgraph <command> [options]\n"
          "       lockgraph help <command> | lockgraph <command> --help\n\n"
          "lockgraph finds deadlocks in pthread programs: it predicts lock-order inversions,\n"
          "catches real deadlocks as they happen, and explains processes that are already hung.\n\n"
          "commands:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\noptions:\n"
          "  -h, --help     show this help\n"
          "  -V, --version  print the version\n"
          "\nexit status: each command's own ('lockgraph help COMMAND'); 66 means a defect\n"
          "was found, 1 an error, 2 a usage error\n", out);
}

static int unknown_command(const char *name)
{
    const lg_cmd *c = closest_command(name);
    if (c)
        fprintf(stderr, "lockgraph: unknown command '%s' (did you mean '%s'?)\n", name, c->name);
    else
        fprintf(stderr, "lockgraph: unknown command '%s' (see 'lockgraph --help')\n", name);
    return LG_EXIT_USAGE;
}

static int help_fn(int argc, char **argv)
{
    if (argc < 2) {
        main_help(stdout);
        return LG_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_help(stdout, &cmd_help);
        return LG_EXIT_OK;
    }
    /* --man [COMMAND]: the man page, from the same tables (the build generates man/). */
    if (strcmp(argv[1], "--man") == 0) {
        const lg_cmd *c = argc > 2 ? find_command(argv[2]) : NULL;
        if (argc > 3)
            return cli_usage_error(&cmd_help, "--man takes at most one command name");
        if (argc > 2 && !c)
            return unknown_command(argv[2]);
        cli_man(stdout, c, commands, NCOMMANDS);
        return LG_EXIT_OK;
    }
    if (argc > 2)
        return cli_usage_error(&cmd_help, "expected one command name, got %d", argc - 1);
    const lg_cmd *c = find_command(argv[1]);
    if (!c)
        return unknown_command(argv[1]);
    cli_help(stdout, c);
    return LG_EXIT_OK;
}

static int version_fn(int argc, char **argv)
{
    int status = 0;
    if (cli_parse(&cmd_version, argc, argv, 0, NULL, NULL, &status) < 0)
        return status;
    printf("lockgraph %s\n", LG_VERSION);
    return LG_EXIT_OK;
}

const lg_cmd cmd_help = {
    .name = "help", .fn = help_fn, .summary = "show help for lockgraph or one command",
    .usage = "help [COMMAND] | help --man [COMMAND]",
    .description = "Shows lockgraph's help, or one command's (the same as 'lockgraph COMMAND\n"
                   "--help'). With --man, writes the man page (roff) instead: lockgraph(1), or\n"
                   "lockgraph-COMMAND(1); the installed pages are made this way.",
};

const lg_cmd cmd_version = {
    .name = "version", .fn = version_fn, .summary = "print the version",
    .usage = "version",
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        main_help(stderr);
        return LG_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    else if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        name = "version";
    else if (name[0] == '-') {
        fprintf(stderr, "lockgraph: unknown option '%s' (see 'lockgraph --help')\n", name);
        return LG_EXIT_USAGE;
    }
    const lg_cmd *c = find_command(name);
    if (!c)
        return unknown_command(name);

    int status = c->fn(argc - 1, argv + 1);

    /* Like git: a command whose output could not be written has failed. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "lockgraph: cannot write to standard output: %s\n", strerror(errno));
        return LG_EXIT_ERROR;
    }
    return status;
}
