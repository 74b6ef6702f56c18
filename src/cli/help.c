/* help.c - every command's --help and man page, both from the command's table (lg_cmd) and
 * its option table, so the two never disagree with the parser.
 *
 * --help is reflowed to 80 columns: descriptions are paragraphs (a blank line between them;
 * single newlines are spaces), option help wraps under its own column, and an option's
 * environment variable is its own line. The man page carries the same words as roff, which
 * man reflows itself. */
#include <string.h>

#include "cli.h"

#define HELP_WIDTH 80
#define OPT_COLUMN 29   /* where option help starts: "  -o, --output FILE" fits in 27 */

/* Print text from column `col` (the cursor's), wrapping at HELP_WIDTH with continuation lines
 * indented to `indent`; "\n\n" starts a new paragraph (a blank line), a single "\n" is a
 * space. Ends with a newline. */
static void wrap(FILE *out, const char *text, int col, int indent)
{
    const char *p = text;
    bool line_empty = true;
    while (*p) {
        if (p[0] == '\n' && p[1] == '\n') {
            fputs("\n\n", out);
            for (col = 0; col < indent; col++)
                fputc(' ', out);
            line_empty = true;
            p += 2;
            continue;
        }
        if (*p == ' ' || *p == '\n') {
            p++;
            continue;
        }
        size_t len = strcspn(p, " \n");
        if (!line_empty && col + 1 + (int)len > HELP_WIDTH) {
            fputc('\n', out);
            for (col = 0; col < indent; col++)
                fputc(' ', out);
            line_empty = true;
        }
        if (!line_empty) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, len, out);
        col += (int)len;
        line_empty = false;
        p += len;
    }
    fputc('\n', out);
}

/* From column `from`, pad to column `to`, on a new line when less than one space is left. */
static void indent_to(FILE *out, int from, int to)
{
    if (from + 1 > to) {
        fputc('\n', out);
        from = 0;
    }
    for (; from < to; from++)
        fputc(' ', out);
}

static int opt_left(char *buf, size_t len, const lg_opt *o)
{
    int n = o->short_name ? snprintf(buf, len, "-%c, ", o->short_name) : snprintf(buf, len, "    ");
    n += snprintf(buf + n, len - (size_t)n, "--%s%s%s", o->name, o->arg ? " " : "",
                  o->arg ? o->arg : "");
    return n;
}

static const char *exit_status(const lg_cmd *cmd)
{
    return cmd->exit_status ? cmd->exit_status : LG_EXIT_STATUS_PLAIN;
}

void cli_help(FILE *out, const lg_cmd *cmd)
{
    fprintf(out, "usage: lockgraph %s\n\n", cmd->usage);
    wrap(out, cmd->summary, 0, 0);
    if (cmd->description) {
        fputc('\n', out);
        wrap(out, cmd->description, 0, 0);
    }
    fputs("\noptions:\n", out);
    for (const lg_opt *o = cmd->opts; o && o->name; o++) {
        char left[64];
        int n = opt_left(left, sizeof left, o);
        fprintf(out, "  %s", left);
        indent_to(out, 2 + n, OPT_COLUMN);
        wrap(out, o->help, OPT_COLUMN, OPT_COLUMN);
        if (o->env) {
            fprintf(out, "%*senv: %s\n", OPT_COLUMN, "", o->env);
        }
    }
    fprintf(out, "  %-*s%s\n", OPT_COLUMN - 2, "-h, --help", "show this help");
    fputs("\nexit status: ", out);
    wrap(out, exit_status(cmd), 13, 2);
}

/* roff text: a backslash is \e, a line starting with '.' or '\'' is protected, '-' is a
 * real minus (options), and single newlines are spaces (man reflows); "\n\n" is .PP. */
static void roff(FILE *out, const char *s)
{
    bool bol = true;
    for (; *s; s++) {
        if (s[0] == '\n' && s[1] == '\n') {
            fputs("\n.PP\n", out);
            s++;
            bol = true;
            continue;
        }
        if (*s == '\n') {
            fputc('\n', out);
            bol = true;
            continue;
        }
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", out);
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
        bol = false;
    }
    fputc('\n', out);
}

static void man_header(FILE *out, const char *page, const char *summary)
{
    fprintf(out, ".TH %s 1 \"\" \"lockgraph %s\" \"User Commands\"\n.SH NAME\n", page,
            LG_VERSION);
    fprintf(out, "%s \\- ", page);
    roff(out, summary);
}

void cli_man(FILE *out, const lg_cmd *cmd, const lg_cmd *const *commands, size_t ncommands)
{
    if (!cmd) {
        man_header(out, "lockgraph", "deadlock detective for pthread programs");
        fputs(".SH SYNOPSIS\n.B lockgraph\n.I command\n[\\fIoptions\\fR]\n.SH DESCRIPTION\n", out);
        roff(out, "lockgraph finds deadlocks in pthread programs: it predicts lock-order "
                  "inversions, catches real deadlocks as they happen, and explains processes "
                  "that are already hung.");
        fputs(".SH COMMANDS\n", out);
        for (size_t i = 0; i < ncommands; i++) {
            fprintf(out, ".TP\n.BR lockgraph\\-%s (1)\n", commands[i]->name);
            roff(out, commands[i]->summary);
        }
        fputs(".SH OPTIONS\n.TP\n.BR \\-h \", \" \\-\\-help\nshow help\n"
              ".TP\n.BR \\-V \", \" \\-\\-version\nprint the version\n"
              ".SH \"EXIT STATUS\"\n", out);
        roff(out, "Each command's page says what its exit statuses mean; commands that find "
                  "defects use 66 for a defect found, as ThreadSanitizer does.");
        return;
    }
    char page[64];
    snprintf(page, sizeof page, "lockgraph-%s", cmd->name);
    man_header(out, page, cmd->summary);
    fputs(".SH SYNOPSIS\n.B lockgraph\n", out);
    roff(out, cmd->usage);
    if (cmd->description) {
        fputs(".SH DESCRIPTION\n", out);
        roff(out, cmd->description);
    }
    fputs(".SH OPTIONS\n", out);
    for (const lg_opt *o = cmd->opts; o && o->name; o++) {
        char left[64];
        opt_left(left, sizeof left, o);
        fputs(".TP\n.B ", out);
        roff(out, left + (o->short_name ? 0 : 4));
        roff(out, o->help);
        if (o->env)
            fprintf(out, ".br\nEnvironment: \\fB%s\\fR\n", o->env);
    }
    fputs(".TP\n.B \\-h, \\-\\-help\nshow the help\n.SH \"EXIT STATUS\"\n", out);
    roff(out, exit_status(cmd));
    fputs(".SH \"SEE ALSO\"\n.BR lockgraph (1)\n", out);
}
