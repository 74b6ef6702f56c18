/* test-writers.c - golden tests for the text and JSON writers over fixed reports, plus a
 * DOT smoke check. LG_UPDATE_GOLDEN=1 rewrites the expected files after a deliberate change. */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "report/report.h"
#include "t.h"

static void frame(lg_stack *s, uint64_t pc, const char *fn, const char *file, int line)
{
    lg_frame *f = lg_stack_push(s);
    lg_frame_set(f, pc, "/usr/bin/app", pc - 0x400000, fn, 4, file, line);
}

static void inversion(lg_report *r)
{
    lg_finding *f = lg_report_add_finding(r, LG_KIND_INVERSION);
    int a = lg_finding_add_lock(f, 0x4040a0, LG_LOCK_MUTEX, "A", NULL);
    int b = lg_finding_add_lock(f, 0x4040e0, LG_LOCK_RWLOCK, "B", NULL);
    lg_finding_add_thread(f, 101, "worker-1");
    lg_finding_add_thread(f, 102, "worker-2");
    lg_finding_set_summary(f, "cycle of 2 locks: A => B => A");
    lg_edge *e = lg_finding_add_edge(f, 101, a, LG_MODE_EXCLUSIVE, b, LG_MODE_SHARED, 0);
    frame(&e->stack, 0x401200, "take_b", "app.c", 20);
    frame(&e->stack, 0x401300, "worker_one", "app.c", 40);
    frame(&e->holds_stack, 0x401100, "take_a", "app.c", 10);
    e = lg_finding_add_edge(f, 102, b, LG_MODE_EXCLUSIVE, a, LG_MODE_EXCLUSIVE, LG_EDGE_TIMED);
    frame(&e->stack, 0x401500, "take_a_timed", "app.c", 60);
    lg_finding_set_fix(f, "acquire A before B everywhere: thread 102 takes B first at app.c:55");
    f = lg_report_add_finding(r, LG_KIND_GATED_CYCLE);
    a = lg_finding_add_lock(f, 0x10, LG_LOCK_MUTEX, NULL, NULL);
    b = lg_finding_add_lock(f, 0x20, LG_LOCK_MUTEX, NULL, "recursive");
    lg_finding_add_edge(f, 1, a, LG_MODE_EXCLUSIVE, b, LG_MODE_EXCLUSIVE, LG_EDGE_TRYLOCK);
    lg_finding_add_edge(f, 1, b, LG_MODE_EXCLUSIVE, a, LG_MODE_EXCLUSIVE, 0);
    f->flags |= LG_FINDING_SAME_THREAD;
    lg_finding_add_note(f, "every edge was made while holding G (0x30)");
}

static void deadlock(lg_report *r)
{
    lg_finding *f = lg_report_add_finding(r, LG_KIND_DEADLOCK);
    int r1 = lg_finding_add_lock(f, 0x7000, LG_LOCK_RWLOCK, "resource1", NULL);
    int r2 = lg_finding_add_lock(f, 0x7040, LG_LOCK_RWLOCK, "resource2", NULL);
    lg_thread *t = lg_finding_add_thread(f, 1234, "mover");
    lg_thread_set(t, "blocked", NULL);
    t = lg_finding_add_thread(f, 1235, "deleter");
    lg_thread_set(t, "blocked", NULL);
    lg_finding_set_summary(f, "2 threads wait for each other: mover and deleter");
    lg_edge *e = lg_finding_add_edge(f, 1234, r1, LG_MODE_EXCLUSIVE, r2, LG_MODE_EXCLUSIVE,
                                     LG_EDGE_WAITING);
    frame(&e->stack, 0x402000, "move_files", "demo.c", 88);
    frame(&e->holds_stack, 0x401f00, "move_files", "demo.c", 85);
    e = lg_finding_add_edge(f, 1235, r2, LG_MODE_EXCLUSIVE, r1, LG_MODE_SHARED, LG_EDGE_WAITING);
    frame(&e->stack, 0x403000, "delete_files", "demo.c", 117);
    lg_finding_set_fix(f, "take resource1 before resource2 in delete_files (demo.c:117)");
    lg_thread *p = lg_report_add_thread(r, 1233, "creator");
    lg_thread_set(p, "exited", NULL);
    p = lg_report_add_thread(r, 1232, "main");
    lg_thread_set(p, "blocked", "pthread_join");
    frame(&p->stack, 0x401000, "main", "demo.c", 200);
    lg_report_add_note(r, "Found 1 deadlock.");
}

/* One misuse of each shape: a call with a holder elsewhere, a thread ending with locks. */
static void misuses(lg_report *r)
{
    lg_finding *f = lg_report_add_finding(r, LG_KIND_MISUSE);
    f->misuse = LG_MISUSE_UNLOCK_NOT_OWNER;
    int q = lg_finding_add_lock(f, 0x4041a0, LG_LOCK_MUTEX, "queue_lock", "errorcheck");
    lg_finding_add_thread(f, 201, "drainer");
    lg_finding_add_thread(f, 202, "filler");
    lg_finding_set_refused(f, "EPERM");
    lg_finding_set_summary(f, "thread 201 unlocks mutex queue_lock at queue.c:40, which thread "
                              "202 \"filler\" holds (locked at queue.c:12)");
    lg_finding_set_fix(f, "let the thread that locks queue_lock unlock it");
    lg_site *s = lg_finding_add_site(f, LG_SITE_MISUSE, 201, q, LG_MODE_EXCLUSIVE);
    frame(&s->stack, 0x401800, "drain", "queue.c", 40);
    frame(&s->stack, 0x401900, "drainer_main", "queue.c", 60);
    s = lg_finding_add_site(f, LG_SITE_ACQUIRED, 202, q, LG_MODE_EXCLUSIVE);
    frame(&s->stack, 0x401a00, "fill", "queue.c", 12);

    f = lg_report_add_finding(r, LG_KIND_MISUSE);
    f->misuse = LG_MISUSE_EXIT_HOLDING;
    int a = lg_finding_add_lock(f, 0x4040a0, LG_LOCK_MUTEX, "A", NULL);
    int b = lg_finding_add_lock(f, 0x4040e0, LG_LOCK_RWLOCK, "B", NULL);
    lg_finding_add_thread(f, 203, "worker");
    lg_finding_set_summary(f, "thread 203 \"worker\" ended holding 2 locks: mutex A (locked at "
                              "app.c:10), ...");
    s = lg_finding_add_site(f, LG_SITE_ACQUIRED, 203, a, LG_MODE_EXCLUSIVE);
    frame(&s->stack, 0x401100, "take_a", "app.c", 10);
    s = lg_finding_add_site(f, LG_SITE_ACQUIRED, 203, b, LG_MODE_SHARED);
    lg_finding_add_note(f, "a note");
}

static char *render(const lg_report *r, int json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lg_text_options o = LG_TEXT_DEFAULTS;
    int rc = json ? lg_write_json(f, r, "test") : lg_write_text(f, r, &o);
    CHECK_INT(rc, 0);
    fclose(f);
    return buf;
}

int main(void)
{
    lg_report r;
    lg_report_init(&r);
    char *argv[] = {"./app", "--flag \"quoted\""};
    lg_report_set_command(&r, 2, argv);
    r.pid = 4242;
    inversion(&r);
    char *s = render(&r, 0);
    t_golden("model/golden/inversion.txt", s);
    free(s);
    s = render(&r, 1);
    t_golden("model/golden/inversion.json", s);
    free(s);
    lg_report_free(&r);

    lg_report_init(&r);
    r.pid = 77;
    misuses(&r);
    s = render(&r, 0);
    t_golden("model/golden/misuse.txt", s);
    free(s);
    s = render(&r, 1);
    t_golden("model/golden/misuse.json", s);
    /* What the JSON says reads back as the same findings. */
    lg_report back;
    lg_report_init(&back);
    char err[128];
    CHECK_INT(lg_report_read_json(s, strlen(s), &back, NULL, err, sizeof err), 0);
    CHECK_INT(back.nfindings, 2);
    if (back.nfindings == 2) {
        const lg_finding *b0 = &back.findings[0], *o0 = &r.findings[0];
        CHECK_INT(b0->kind, LG_KIND_MISUSE);
        CHECK_INT(b0->misuse, LG_MISUSE_UNLOCK_NOT_OWNER);
        CHECK(b0->refused && strcmp(b0->refused, "EPERM") == 0);
        CHECK_INT(b0->nsites, 2);
        CHECK_INT(back.findings[1].misuse, LG_MISUSE_EXIT_HOLDING);
        CHECK(back.findings[1].refused == NULL);
        CHECK_INT(back.findings[1].nsites, 2);
        if (back.findings[1].nsites == 2) {
            CHECK_INT(back.findings[1].sites[1].lock, 1);
            CHECK_INT(back.findings[1].sites[1].mode, LG_MODE_SHARED);
        }
        if (b0->nsites == 2) {
            CHECK_INT(b0->sites[1].role, LG_SITE_ACQUIRED);
            CHECK_INT(b0->sites[1].thread, 202);
            CHECK_INT(b0->sites[0].stack.n, 2);
        }
        CHECK(lg_finding_fingerprint(b0) == lg_finding_fingerprint(o0));
        /* and renders the same text */
        char *again = render(&back, 0), *orig = render(&r, 0);
        CHECK_STR(again, orig);
        free(again);
        free(orig);
    }
    lg_report_free(&back);
    free(s);
    lg_report_free(&r);

    lg_report_init(&r);
    r.pid = 1231;
    deadlock(&r);
    s = render(&r, 0);
    t_golden("model/golden/deadlock.txt", s);
    free(s);
    s = render(&r, 1);
    t_golden("model/golden/deadlock.json", s);
    free(s);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_INT(lg_write_dot(f, &r), 0);
    fclose(f);
    CHECK(strstr(buf, "digraph lockgraph") != NULL);
    CHECK(strstr(buf, "f0_t1234 -> f0_L2 [label=\"waits (exclusive)\"") != NULL);
    CHECK(strstr(buf, "f0_L1 -> f0_t1234 [label=\"held by\"]") != NULL);
    free(buf);
    lg_report_free(&r);
    T_DONE();
}
