/* sarif.c - the findings of one or more reports as a SARIF 2.1.0 log, for the code-scanning
 * dashboards of CI systems.
 *
 * One run (the tool: lockgraph), one rule per finding kind (lock misuse: one per subkind,
 * "lock-misuse/unlock-not-held", after the kinds' rules), one result per distinct finding
 * (merge.h: the same finding in several processes is one result whose properties list them).
 * A result's location is where its first edge acquires (the frame lg_stack_best_frame picks);
 * every edge adds the acquisition and the hold as related locations with a message saying
 * which thread took which lock. partialFingerprints carries lg_finding_fingerprint, stable
 * across runs and machines. Source paths under `srcroot` are written relative to the base id
 * SRCROOT (declared in originalUriBaseIds), others as file:// URIs.
 *
 * Not here: which reports (the CLI gathers them), schema validation (tests/report).
 */
#include <stdlib.h>
#include <string.h>

#include "../model/merge.h"
#include "report.h"

static const struct {
    const char *title, *help;
} rule_text[LG_KIND_COUNT] = {
    [LG_KIND_INVERSION] = {"Lock-order inversion (potential deadlock)",
                           "Two or more locks are taken in different orders on different code "
                           "paths; when those paths run at the same time they can deadlock. "
                           "Take the locks in one order everywhere."},
    [LG_KIND_DEADLOCK] = {"Deadlock", "Threads wait for each other in a cycle and none can go "
                                      "on. Take the locks in one order everywhere."},
    [LG_KIND_ORPHANED] = {"Orphaned lock", "A thread waits for a lock whose owner exited "
                                           "without releasing it; nothing can release it now."},
    [LG_KIND_GATED_CYCLE] = {"Lock-order cycle under a common lock",
                             "A lock-order cycle whose edges were all made while holding one "
                             "common lock: it cannot deadlock while that lock is kept."},
    [LG_KIND_LONG_WAIT] = {"Long lock wait", "A lock wait lasted longer than --wait-timeout "
                                             "with no cycle."},
    [LG_KIND_HANG] = {"No progress", "Every thread is blocked and none can run, with no lock "
                                     "cycle."},
    [LG_KIND_NOTE] = {"Note", "Something lockgraph could not check or wants to say."},
    /* LG_KIND_MISUSE: a rule per subkind (misuse_title, lg_misuse_why), none of its own */
};

static const char *const misuse_title[LG_MISUSE_COUNT] = {
    [LG_MISUSE_UNLOCK_NOT_HELD] = "Unlock of a lock no thread holds",
    [LG_MISUSE_UNLOCK_NOT_OWNER] = "Unlock of a lock another thread holds",
    [LG_MISUSE_DESTROY_HELD] = "Destroy of a held lock",
    [LG_MISUSE_USE_AFTER_DESTROY] = "Use of a destroyed lock",
    [LG_MISUSE_REINIT_LIVE] = "Initialisation of a held lock",
    [LG_MISUSE_RELOCK_REFUSED] = "Relock refused with EDEADLK",
    [LG_MISUSE_EXIT_HOLDING] = "Thread ended holding locks",
    [LG_MISUSE_COND_NOT_HELD] = "Condition wait without its mutex",
    [LG_MISUSE_COND_TWO_MUTEXES] = "Condition variable used with two mutexes",
    [LG_MISUSE_INVALID_LOCK] = "Lock call on memory that holds no lock",
};

/* Rules: every kind but LG_KIND_MISUSE in kind order (their indices stay the kinds'), then
 * one per misuse subkind. */
#define NRULES (LG_KIND_COUNT - 1 + LG_MISUSE_COUNT - 1)
_Static_assert(LG_KIND_MISUSE == LG_KIND_COUNT - 1, "misuse rules follow the kinds' rules");

static int rule_index(const lg_finding *f)
{
    if (f->kind != LG_KIND_MISUSE)
        return (int)f->kind;
    lg_misuse m = f->misuse != LG_MISUSE_NONE ? f->misuse : LG_MISUSE_UNLOCK_NOT_HELD;
    return LG_KIND_COUNT - 1 + (int)m - 1;
}

static void rule_id(FILE *out, int rule)
{
    if (rule < LG_KIND_COUNT - 1)
        fputs(lg_kind_name((lg_kind)rule), out);
    else
        fprintf(out, "%s/%s", lg_kind_name(LG_KIND_MISUSE),
                lg_misuse_name((lg_misuse)(rule - (LG_KIND_COUNT - 1) + 1)));
}

static const char *level(lg_kind k)
{
    if (lg_kind_is_defect(k))
        return "error";
    return k == LG_KIND_NOTE ? "note" : "warning";
}

/* A URI (or URI reference) for a path: unreserved characters and '/' as they are, the rest
 * percent-encoded. */
static void uri_chars(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
            || strchr("-._~/", *p))
            fputc(*p, out);
        else
            fprintf(out, "%%%02X", *p);
    }
}

static void artifact(FILE *out, const char *file, const char *srcroot)
{
    size_t rl = srcroot ? strlen(srcroot) : 0;
    while (rl > 1 && srcroot[rl - 1] == '/')
        rl--;
    fputs("{\"uri\": \"", out);
    if (rl && file[0] == '/' && strncmp(file, srcroot, rl) == 0 && file[rl] == '/') {
        uri_chars(out, file + rl + 1);
        fputs("\", \"uriBaseId\": \"SRCROOT\"}", out);
    } else if (file[0] == '/') {
        fputs("file://", out);
        uri_chars(out, file);
        fputs("\"}", out);
    } else {   /* relative already (glibc's "./nptl/..."): as it is */
        uri_chars(out, file[0] == '.' && file[1] == '/' ? file + 2 : file);
        fputs("\"}", out);
    }
}

/* A location object for a stack's best frame; 0 when the stack has no frame with a line. */
static int location(FILE *out, const lg_stack *s, const char *srcroot, const char *msg,
                    bool comma)
{
    const lg_frame *f = lg_stack_best_frame(s);
    if (!f)
        return 0;
    fputs(comma ? ", " : "", out);
    fputs("{\"physicalLocation\": {\"artifactLocation\": ", out);
    artifact(out, f->file, srcroot);
    fprintf(out, ", \"region\": {\"startLine\": %d}}", f->line);
    if (f->function) {
        fputs(", \"logicalLocations\": [{\"name\": ", out);
        lg_json_str(out, f->function);
        fputs(", \"kind\": \"function\"}]", out);
    }
    if (msg) {
        fputs(", \"message\": {\"text\": ", out);
        lg_json_str(out, msg);
        fputc('}', out);
    }
    fputc('}', out);
    return 1;
}

static const char *lock_label(const lg_finding *f, int i)
{
    if (i < 0 || (size_t)i >= f->nlocks)
        return "?";
    return f->locks[i].name ? f->locks[i].name : f->locks[i].id;
}

static void result(FILE *out, const lg_merged *m, const lg_report *const *reports,
                   const char *srcroot)
{
    const lg_finding *f = m->finding;
    char *msg = NULL;
    size_t len = 0;
    FILE *ms = open_memstream(&msg, &len);
    if (ms) {
        fputs(f->summary ? f->summary : lg_kind_name(f->kind), ms);
        if (f->fix)
            fprintf(ms, ". Fix: %s", f->fix);
        if (fclose(ms) != 0) {
            free(msg);
            msg = NULL;
        }
    }
    fputs("    {\"ruleId\": \"", out);
    rule_id(out, rule_index(f));
    fprintf(out, "\", \"ruleIndex\": %d, \"level\": \"%s\",\n"
                 "     \"message\": {\"text\": ", rule_index(f), level(f->kind));
    lg_json_str(out, msg ? msg : lg_kind_name(f->kind));
    free(msg);
    fputs("},\n     \"locations\": [", out);
    bool located = false;
    for (size_t i = 0; i < f->nsites && !located; i++)   /* a misuse: its call, else a hold */
        located = location(out, &f->sites[i].stack, srcroot, NULL, false);
    for (size_t i = 0; i < f->nedges && !located; i++)
        located = location(out, &f->edges[i].stack, srcroot, NULL, false);
    fputs("],\n     \"relatedLocations\": [", out);
    bool any = false;
    for (size_t i = 0; i < f->nsites; i++) {
        const lg_site *st = &f->sites[i];
        char text[256];
        snprintf(text, sizeof text, "thread %d: %s %s", st->thread, lg_site_role_name(st->role),
                 lock_label(f, st->lock));
        if (location(out, &st->stack, srcroot, text, any))
            any = true;
    }
    for (size_t i = 0; i < f->nedges; i++) {
        const lg_edge *e = &f->edges[i];
        char text[256];
        snprintf(text, sizeof text, "thread %d %s %s", e->thread,
                 e->flags & LG_EDGE_WAITING ? "waits for" : "acquires", lock_label(f, e->acquires));
        if (e->holds >= 0)
            snprintf(text + strlen(text), sizeof text - strlen(text), " while holding %s",
                     lock_label(f, e->holds));
        if (location(out, &e->stack, srcroot, text, any))
            any = true;
        if (e->holds >= 0) {
            snprintf(text, sizeof text, "thread %d acquired %s here", e->thread,
                     lock_label(f, e->holds));
            if (location(out, &e->holds_stack, srcroot, text, any))
                any = true;
        }
    }
    fprintf(out, "],\n     \"partialFingerprints\": {\"lockgraph/v1\": \"%016llx\"},\n"
                 "     \"properties\": {\"processes\": [",
            (unsigned long long)m->fingerprint);
    for (size_t i = 0; i < m->nreports; i++) {
        const lg_report *r = reports[m->reports[i]];
        fprintf(out, "%s{\"pid\": %d, \"command\": ", i ? ", " : "", r->pid);
        lg_json_str(out, r->ncommand ? r->command[0] : NULL);
        fputc('}', out);
    }
    fputs("], \"locks\": [", out);
    for (size_t i = 0; i < f->nlocks; i++) {
        fputs(i ? ", " : "", out);
        lg_json_str(out, lock_label(f, (int)i));
    }
    fputs("]}}", out);
}

int lg_write_sarif(FILE *out, const lg_report *const *reports, size_t n, const char *version,
                   const char *srcroot)
{
    lg_merged *m = NULL;
    size_t nm = 0;
    if (lg_merge_findings(reports, n, &m, &nm) < 0)
        return -1;
    fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
          "  \"version\": \"2.1.0\",\n  \"runs\": [{\n"
          "   \"tool\": {\"driver\": {\"name\": \"lockgraph\", \"version\": ", out);
    lg_json_str(out, version);
    fputs(",\n    \"rules\": [\n", out);
    for (int k = 0; k < NRULES; k++) {
        bool mis = k >= LG_KIND_COUNT - 1;
        lg_misuse m = mis ? (lg_misuse)(k - (LG_KIND_COUNT - 1) + 1) : LG_MISUSE_NONE;
        const char *title = mis ? misuse_title[m] : rule_text[k].title;
        const char *help = mis ? lg_misuse_why(m) : rule_text[k].help;
        fputs("     {\"id\": \"", out);
        rule_id(out, k);
        fputs("\", \"shortDescription\": {\"text\": ", out);
        /* a kind added without its text still gets a valid rule */
        lg_json_str(out, title ? title : lg_kind_name(k));
        fputs("}, \"fullDescription\": {\"text\": ", out);
        lg_json_str(out, help && *help ? help : lg_kind_name(k));
        fprintf(out, "}, \"defaultConfiguration\": {\"level\": \"%s\"}}%s\n",
                level(mis ? LG_KIND_MISUSE : (lg_kind)k), k + 1 < NRULES ? "," : "");
    }
    fputs("    ]}},\n", out);
    if (srcroot && srcroot[0] == '/') {
        fputs("   \"originalUriBaseIds\": {\"SRCROOT\": {\"uri\": \"file://", out);
        uri_chars(out, srcroot);
        fputs(srcroot[strlen(srcroot) - 1] == '/' ? "\"}},\n" : "/\"}},\n", out);
    }
    /* A program the runtime was not loaded into: the run did not happen, whatever the
     * (empty) results say; SARIF consumers show a failed invocation. */
    bool unchecked = false;
    for (size_t i = 0; i < n; i++)
        if (reports[i]->unchecked) {
            fputs(unchecked ? ", " : "   \"invocations\": [{\"executionSuccessful\": false, "
                                     "\"toolExecutionNotifications\": [", out);
            fputs("{\"level\": \"error\", \"message\": {\"text\": ", out);
            lg_json_str(out, reports[i]->unchecked);
            fputs("}}", out);
            unchecked = true;
        }
    if (unchecked)
        fputs("]}],\n", out);
    fputs("   \"results\": [\n", out);
    for (size_t i = 0; i < nm; i++) {
        result(out, &m[i], reports, srcroot);
        fputs(i + 1 < nm ? ",\n" : "\n", out);
    }
    fputs("   ]\n  }]\n}\n", out);
    lg_merged_free(m, nm);
    return ferror(out) ? -1 : 0;
}
