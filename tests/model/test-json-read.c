/* test-json-read.c - reports read back from their JSON (model/json-read.c, util/json.c):
 * every finding of the golden reports reads back and writes out again byte for byte, with the
 * same fingerprint; the spans point at each finding's text; every truncation and a set of
 * malformed texts are refused with a message (under ASan/UBSan: never a crash). */
#include <stdlib.h>

#include "model/model.h"
#include "report/report.h"
#include "util/json.h"
#include "t.h"

static char *render(const lg_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lg_write_json(f, r, "test");
    fclose(f);
    return buf;
}

static void round_trip(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/%s", getenv("LG_SRCDIR") ? getenv("LG_SRCDIR") : ".", rel);
    char *text = t_read_file(path);
    CHECK(text != NULL);
    if (!text)
        return;
    lg_report r;
    lg_report_init(&r);
    size_t(*sp)[2] = NULL;
    char err[256] = "";
    CHECK_INT(lg_report_read_json(text, strlen(text), &r, &sp, err, sizeof err), 0);
    char *again = render(&r);
    lg_report r2;
    lg_report_init(&r2);
    size_t(*sp2)[2] = NULL;
    CHECK_INT(lg_report_read_json(again, strlen(again), &r2, &sp2, err, sizeof err), 0);
    CHECK_INT(r2.nfindings, r.nfindings);
    for (size_t i = 0; i < r.nfindings && i < r2.nfindings; i++) {
        size_t n1 = sp[i][1] - sp[i][0], n2 = sp2[i][1] - sp2[i][0];
        t_checks++;
        if (n1 != n2 || memcmp(text + sp[i][0], again + sp2[i][0], n1) != 0) {
            t_failures++;
            fprintf(stderr, "%s: finding %zu differs after a round trip:\n%.*s\n---\n%.*s\n", rel,
                    i, (int)n1, text + sp[i][0], (int)n2, again + sp2[i][0]);
        }
        CHECK(lg_finding_fingerprint(&r.findings[i]) == lg_finding_fingerprint(&r2.findings[i]));
        CHECK(text[sp[i][0]] == '{' && text[sp[i][1] - 1] == '}');
    }
    CHECK_INT(r.pid, r2.pid);
    CHECK_INT(r.ncommand, r2.ncommand);
    free(sp);
    free(sp2);
    free(again);
    /* every truncation is refused, with a message */
    size_t len = strlen(text);
    for (size_t cut = 0; cut + 1 < len; cut += 1 + cut / 64) {
        lg_report t;
        lg_report_init(&t);
        err[0] = '\0';
        int rc = lg_report_read_json(text, cut, &t, NULL, err, sizeof err);
        t_checks++;
        if (rc != -1 || !err[0]) {
            t_failures++;
            fprintf(stderr, "%s cut at %zu: rc %d, err '%s'\n", rel, cut, rc, err);
        }
        lg_report_free(&t);
    }
    lg_report_free(&r);
    lg_report_free(&r2);
    free(text);
}

static void refused(const char *text, const char *why)
{
    char err[256] = "";
    lg_json *v = lg_json_parse(text, strlen(text), err, sizeof err);
    t_checks++;
    if (v || !strstr(err, why)) {
        t_failures++;
        fprintf(stderr, "'%s': parsed %p, err '%s', want '%s'\n", text, (void *)v, err, why);
    }
    lg_json_free(v);
}

int main(void)
{
    round_trip("model/golden/inversion.json");
    round_trip("model/golden/deadlock.json");
    round_trip("inspect/golden/process.json");

    char err[256];
    const char *ok = "{\"a\": [1, -2.5e3, true, null, \"x\\u00e9\\ud83d\\ude00\\n\"]}";
    lg_json *v = lg_json_parse(ok, strlen(ok), err, sizeof err);
    CHECK(v != NULL);
    const lg_json *a = lg_json_get(v, "a");
    CHECK(a && a->type == LG_JSON_ARRAY && a->n == 5);
    if (a && a->n == 5) {
        CHECK(a->items[1]->number == -2500);
        CHECK(a->items[2]->boolean);
        CHECK_STR(a->items[4]->string, "x\xc3\xa9\xf0\x9f\x98\x80\n");
    }
    lg_json_free(v);

    refused("{\"a\": 1,}", "expected a key");
    refused("[1 2]", "expected ',' or ']'");
    refused("\"\\ud800\"", "lone surrogate");
    refused("\"\\udc00x\"", "lone surrogate");
    refused("\"\\q\"", "bad escape");
    refused("\"a\tb\"", "control character");
    refused("01", "trailing characters");
    refused("-", "bad number");
    refused("1.", "bad number");
    refused("[] []", "trailing characters");
    refused("", "unexpected end");
    char deep[200];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    refused(deep, "nested too deeply");

    lg_report r;
    lg_report_init(&r);
    CHECK_INT(lg_report_read_json("{\"tool\": \"other\", \"findings\": []}", 33, &r, NULL, err, sizeof err), -1);
    CHECK_STR(err, "not a lockgraph report");
    lg_report_free(&r);

    /* Nothing checked (the runtime not loaded): "checked": false and the reason read back;
     * a report without the key checked what it says; SARIF shows a failed invocation. */
    lg_report u;
    lg_report_init(&u);
    u.pid = 7;
    CHECK_INT(lg_report_set_unchecked(&u, "'p' is statically linked"), 0);
    char *ut = render(&u);
    CHECK(strstr(ut, "\"checked\": false, \"unchecked_reason\": \"'p' is statically linked\"") != NULL);
    lg_report u2;
    lg_report_init(&u2);
    CHECK_INT(lg_report_read_json(ut, strlen(ut), &u2, NULL, err, sizeof err), 0);
    CHECK_STR(u2.unchecked, "'p' is statically linked");
    char *sarif = NULL;
    size_t slen = 0;
    FILE *sf = open_memstream(&sarif, &slen);
    const lg_report *one[] = {&u2};
    CHECK_INT(lg_write_sarif(sf, one, 1, "test", NULL), 0);
    fclose(sf);
    CHECK(strstr(sarif, "\"executionSuccessful\": false") != NULL);
    CHECK(strstr(sarif, "'p' is statically linked") != NULL);
    free(sarif);
    free(ut);
    lg_report_free(&u);
    lg_report_free(&u2);
    lg_report c;
    lg_report_init(&c);
    CHECK_INT(lg_report_read_json("{\"tool\": \"lockgraph\", \"findings\": []}", 37, &c, NULL, err, sizeof err), 0);
    CHECK(c.unchecked == NULL);
    lg_report_free(&c);
    T_DONE();
}
