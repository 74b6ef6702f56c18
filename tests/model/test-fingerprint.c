/* test-fingerprint.c - a finding's fingerprint (model/fingerprint.c) and the merge of
 * several reports' findings (model/merge.c): what must not change it (addresses, thread ids,
 * absolute paths, the edge a cycle starts at, heap names) and what must (a line, a kind, a
 * symbol); the SARIF writer over two processes with one shared finding, golden-tested. */
#include <stdlib.h>

#include "model/merge.h"
#include "model/model.h"
#include "report/report.h"
#include "t.h"

typedef struct {
    uint64_t base;       /* shifts every address: another run, another layout */
    int tid0;            /* thread ids of this run */
    const char *dir;     /* where the sources were built */
    int line_b;          /* the line that takes B */
    bool rotate;         /* the cycle found from the other thread */
    const char *name_a;
} variant;

static void frame(lg_stack *s, uint64_t pc, const char *fn, const char *dir, const char *file,
                  int line)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    lg_frame_set(lg_stack_push(s), pc, "/usr/bin/app", 0x1000, fn, 4, path, line);
}

static void abba(lg_report *r, const variant *v)
{
    lg_finding *f = lg_report_add_finding(r, LG_KIND_INVERSION);
    int a = lg_finding_add_lock(f, v->base + 0xa0, LG_LOCK_MUTEX, v->name_a, NULL);
    int b = lg_finding_add_lock(f, v->base + 0xe0, LG_LOCK_MUTEX, "heap 0x5555aa00", NULL);
    lg_finding_set_summary(f, "cycle of 2 locks: A => B => A");
    lg_finding_set_fix(f, "acquire A before B in every thread");
    for (int k = 0; k < 2; k++) {
        int i = v->rotate ? 1 - k : k;
        lg_edge *e = i == 0 ? lg_finding_add_edge(f, v->tid0, a, LG_MODE_EXCLUSIVE, b,
                                                  LG_MODE_EXCLUSIVE, 0)
                            : lg_finding_add_edge(f, v->tid0 + 1, b, LG_MODE_EXCLUSIVE, a,
                                                  LG_MODE_EXCLUSIVE, 0);
        if (i == 0) {
            frame(&e->stack, v->base + 0x10, "take_b", v->dir, "app.c", v->line_b);
            frame(&e->holds_stack, v->base + 0x20, "take_a", v->dir, "app.c", 10);
        } else {
            frame(&e->stack, v->base + 0x30, "take_a_late", v->dir, "app.c", 30);
            frame(&e->holds_stack, v->base + 0x40, "take_b_first", v->dir, "app.c", 25);
        }
    }
}

/* A misuse: an unlock by a thread that does not hold the lock, in both processes alike. */
static lg_finding *misuse(lg_report *r, lg_misuse m, int line, int held_line, int tid)
{
    lg_finding *f = lg_report_add_finding(r, LG_KIND_MISUSE);
    f->misuse = m;
    int l = lg_finding_add_lock(f, 0x4000 + (uint64_t)tid, LG_LOCK_MUTEX, "queue_lock", NULL);
    lg_finding_set_summary(f, "thread %d unlocks mutex queue_lock, which thread %d holds", tid,
                           tid + 1);
    lg_finding_set_refused(f, "EPERM");
    lg_site *s = lg_finding_add_site(f, LG_SITE_MISUSE, tid, l, LG_MODE_EXCLUSIVE);
    frame(&s->stack, 0x70, "drain", "/src/app", "queue.c", line);
    s = lg_finding_add_site(f, LG_SITE_ACQUIRED, tid + 1, l, LG_MODE_EXCLUSIVE);
    frame(&s->stack, 0x80, "fill", "/src/app", "queue.c", held_line);
    return f;
}

static uint64_t misuse_fp(lg_misuse m, int line, int held_line, int tid)
{
    lg_report r;
    lg_report_init(&r);
    uint64_t h = lg_finding_fingerprint(misuse(&r, m, line, held_line, tid));
    lg_report_free(&r);
    return h;
}

static uint64_t fp(const variant *v)
{
    lg_report r;
    lg_report_init(&r);
    abba(&r, v);
    uint64_t h = lg_finding_fingerprint(&r.findings[0]);
    lg_report_free(&r);
    return h;
}

int main(void)
{
    const variant base = {0x400000, 100, "/src/app", 20, false, "A"};
    uint64_t h = fp(&base);
    variant v = base;
    v.base = 0x7f0000000000;
    CHECK(fp(&v) == h);                  /* another address layout */
    v = base;
    v.tid0 = 90210;
    CHECK(fp(&v) == h);                  /* other thread ids */
    v = base;
    v.dir = "/home/ci/build-42/app";
    CHECK(fp(&v) == h);                  /* built elsewhere */
    v = base;
    v.rotate = true;
    CHECK(fp(&v) == h);                  /* the cycle seen from the other thread */
    v = base;
    v.line_b = 21;
    CHECK(fp(&v) != h);                  /* another code path */
    v = base;
    v.name_a = "queue lock";
    CHECK(fp(&v) != h);                  /* another named lock */

    /* A misuse is its subkind and the place of the misusing call; not where the lock was
     * taken (which thread got it first varies), not the thread ids. */
    uint64_t mh = misuse_fp(LG_MISUSE_UNLOCK_NOT_OWNER, 40, 12, 300);
    CHECK(misuse_fp(LG_MISUSE_UNLOCK_NOT_OWNER, 40, 13, 8000) == mh);
    CHECK(misuse_fp(LG_MISUSE_UNLOCK_NOT_OWNER, 41, 12, 300) != mh);
    CHECK(misuse_fp(LG_MISUSE_UNLOCK_NOT_HELD, 40, 12, 300) != mh);

    /* Two processes: the same inversion in both, a deadlock only in the second; the same
     * misuse in both. */
    lg_report r1, r2;
    lg_report_init(&r1);
    lg_report_init(&r2);
    char *argv1[] = {"/usr/bin/test-one"}, *argv2[] = {"/usr/bin/test-two"};
    lg_report_set_command(&r1, 1, argv1);
    lg_report_set_command(&r2, 1, argv2);
    r1.pid = 501;
    r2.pid = 502;
    abba(&r1, &base);
    v = base;
    v.base = 0x7f0000000000;
    v.tid0 = 700;
    v.rotate = true;
    abba(&r2, &v);
    lg_finding *g = lg_report_add_finding(&r2, LG_KIND_NOTE);
    lg_finding_set_summary(g, "lock budget exhausted");
    lg_finding *d = lg_report_add_finding(&r2, LG_KIND_DEADLOCK);
    int l1 = lg_finding_add_lock(d, 0x10, LG_LOCK_RWLOCK, "resource1", NULL);
    int l2 = lg_finding_add_lock(d, 0x20, LG_LOCK_RWLOCK, "resource2", NULL);
    lg_finding_set_summary(d, "2 threads wait for each other");
    lg_edge *e = lg_finding_add_edge(d, 701, l1, LG_MODE_EXCLUSIVE, l2, LG_MODE_EXCLUSIVE,
                                     LG_EDGE_WAITING);
    frame(&e->stack, 0x50, "move_files", "/src/app", "dir with space.c", 88);
    frame(&e->holds_stack, 0x60, "move_files", "/elsewhere", "demo.c", 85);

    const lg_report *both[] = {&r1, &r2};
    lg_merged *m = NULL;
    size_t nm = 0;
    CHECK_INT(lg_merge_findings(both, 2, &m, &nm), 0);
    CHECK_INT(nm, 3);
    if (nm == 3) {
        CHECK_INT(m[0].finding->kind, LG_KIND_INVERSION);
        CHECK_INT(m[0].nreports, 2);
        CHECK_INT(m[1].finding->kind, LG_KIND_DEADLOCK);   /* defects before the note */
        CHECK_INT(m[1].nreports, 1);
        CHECK_INT(m[1].reports[0], 1);
        CHECK_INT(m[2].finding->kind, LG_KIND_NOTE);
    }
    lg_merged_free(m, nm);

    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    CHECK_INT(lg_write_sarif(out, both, 2, "test", "/src/app"), 0);
    fclose(out);
    t_golden("model/golden/two-processes.sarif", buf);
    free(buf);
    lg_report_free(&r1);
    lg_report_free(&r2);
    T_DONE();
}
