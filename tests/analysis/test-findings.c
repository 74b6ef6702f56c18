/* test-findings.c - the deadlock and orphaned-lock builder (src/analysis/findings.h) from
 * fixed facts: text and JSON against golden files (tests/analysis/golden/, LG_UPDATE_GOLDEN=1
 * rewrites them), and the properties the goldens rely on: the same facts give the same words
 * whichever thread of the cycle closed it; the fix keeps the first-created thread's order;
 * a lock wrapper every acquisition passes through is not the place named. */
#include <stdlib.h>
#include <string.h>

#define T_MODULE "/usr/bin/demo"
#include "facts.h"
#include "analysis/findings.h"
#include "report/report.h"
#include "t.h"

/* A stack into the demo's lock helper (threads.c:78, inlined into every caller). */
static void via_helper(lg_stack *s, uint64_t pc, const char *caller, int line)
{
    frame(s, 0, "lock_exclusive", "/src/demo/threads.c", 78, true);
    frame(s, pc, caller, "/src/demo/threads.c", line, false);
    frame(s, 0x7f0000001000, "start_thread", "./nptl/pthread_create.c", 442, false);
}

/* The demo's deadlock as the runtime sees it: the mover (created before the deleter) holds
 * resource1 since threads.c:191 and waits for resource2 at :196; the deleter holds
 * resource2 since :219 and waits for resource1 at :226; main joins the mover. */
typedef struct demo {
    lg_stack w_mover, w_deleter, h_mover, h_deleter, w_main, c_mover, c_deleter;
    lg_lock_fact locks[3];
    lg_held_fact held_mover[1], held_deleter[1];
    lg_thread_fact th[4];
    lg_wait_facts wf;
} demo;

static void demo_facts(demo *d)
{
    memset(d, 0, sizeof *d);
    via_helper(&d->w_mover, 0x4019d5, "mover_main", 196);
    via_helper(&d->h_mover, 0x401994, "mover_main", 191);
    via_helper(&d->w_deleter, 0x4016d5, "deleter_main", 226);
    via_helper(&d->h_deleter, 0x4016b8, "deleter_main", 219);
    frame(&d->w_main, 0x401a40, "run_threads", "/src/demo/threads.c", 268, false);
    frame(&d->c_mover, 0x401a00, "start_named", "/src/demo/threads.c", 250, false);
    frame(&d->c_deleter, 0x401a00, "start_named", "/src/demo/threads.c", 250, false);
    d->locks[0] = (lg_lock_fact){.address = 0x4071c0, .type = LG_LOCK_RWLOCK,
                                 .name = "resource2"};
    d->locks[1] = (lg_lock_fact){.address = 0x407200, .type = LG_LOCK_RWLOCK,
                                 .name = "resource1"};
    d->locks[2] = (lg_lock_fact){.address = 0x7f00000a0000, .type = LG_LOCK_THREAD,
                                 .name = "1001", .join_tid = 1001};
    d->held_mover[0] = (lg_held_fact){.lock = 1, .mode = LG_MODE_EXCLUSIVE,
                                      .stack = &d->h_mover};
    d->held_deleter[0] = (lg_held_fact){.lock = 0, .mode = LG_MODE_EXCLUSIVE,
                                        .stack = &d->h_deleter};
    d->th[0] = (lg_thread_fact){.tid = 1000, .name = "lockgraph-demo", .state = "blocked", .wait_lock = 2, .wait_stack = &d->w_main,
                                .waits_on = 2};
    d->th[1] = (lg_thread_fact){.tid = 1003, .name = "deleter",
                                .created_stack = &d->c_deleter, .state = "blocked",
                                .wait_lock = 1, .wait_mode = LG_MODE_EXCLUSIVE,
                                .wait_stack = &d->w_deleter, .waits_on = 2,
                                .held = d->held_deleter, .nheld = 1};
    d->th[2] = (lg_thread_fact){.tid = 1001, .name = "mover",
                                .created_stack = &d->c_mover, .state = "blocked",
                                .wait_lock = 0, .wait_mode = LG_MODE_EXCLUSIVE,
                                .wait_stack = &d->w_mover, .waits_on = 1,
                                .held = d->held_mover, .nheld = 1};
    d->th[3] = (lg_thread_fact){.tid = 1002, .name = "creator", .state = "exited", .wait_lock = -1, .waits_on = -1};
    d->wf = (lg_wait_facts){.threads = d->th, .nthreads = 4, .locks = d->locks, .nlocks = 3,
                            .note_other_threads = true};
}

static void demo_free(demo *d)
{
    lg_stack *s[] = {&d->w_mover, &d->w_deleter, &d->h_mover, &d->h_deleter, &d->w_main,
                     &d->c_mover, &d->c_deleter};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        lg_stack_free(s[i]);
}

/* The same deadlock whichever thread closed it. */
static void test_demo(void)
{
    char *first = NULL;
    for (int variant = 0; variant < 2; variant++) {
        demo d;
        demo_facts(&d);
        size_t cyc_a[] = {1, 2}, cyc_b[] = {2, 1};   /* the deleter closed it, or the mover */
        lg_report r;
        lg_report_init(&r);
        lg_finding *f = lg_build_deadlock(&r, &d.wf, variant == 1 ? cyc_b : cyc_a, 2);
        CHECK(f != NULL);
        if (f) {
            CHECK_STR(f->fix, "acquire resource1 before resource2 in every thread: thread "
                      "1003 \"deleter\" holds resource2 while it waits for resource1 at "
                      "threads.c:226");
            CHECK_INT(f->nedges, 2);
            CHECK_INT(f->edges[0].thread, 1001);   /* read from the first-created thread */
            char where[64];
            lg_finding_where(f, &f->edges[0].stack, where, sizeof where);
            CHECK_STR(where, "threads.c:196");
            lg_finding_where(f, &f->edges[0].holds_stack, where, sizeof where);
            CHECK_STR(where, "threads.c:191");
            char *s = t_render(&r, f, false);
            if (!first) {
                first = s;
                t_golden("analysis/golden/demo-deadlock.txt", s);
                char *j = t_render(&r, NULL, true);
                t_golden("analysis/golden/demo-deadlock.json", j);
                free(j);
            } else {
                CHECK_STR(s, first);   /* closed by the other thread: the same words */
                free(s);
            }
        }
        lg_report_free(&r);
        demo_free(&d);
    }
    free(first);
}

/* A lock helper taken from one call site only is not skipped: with one acquisition stack per
 * helper frame, or the same caller for both, the helper's own line is the place. */
static void test_where_single(void)
{
    lg_stack a = {0}, b = {0};
    frame(&a, 0x401100, "lock_a", "/src/hang.c", 72, false);
    frame(&a, 0x401200, "run_side", "/src/hang.c", 67, false);
    frame(&b, 0x401100, "lock_a", "/src/hang.c", 72, false);
    frame(&b, 0x401200, "run_side", "/src/hang.c", 67, false);
    lg_report r;
    lg_report_init(&r);
    lg_finding *f = lg_report_add_finding(&r, LG_KIND_DEADLOCK);
    int l = lg_finding_add_lock(f, 0x10, LG_LOCK_MUTEX, "mutex_a", NULL);
    lg_edge *e = lg_finding_add_edge(f, 1, l, LG_MODE_EXCLUSIVE, l, LG_MODE_EXCLUSIVE,
                                     LG_EDGE_WAITING);
    lg_stack_copy(&e->stack, &a);
    lg_stack_copy(&e->holds_stack, &b);
    char where[64];
    lg_finding_where(f, &e->stack, where, sizeof where);
    CHECK_STR(where, "hang.c:72");
    lg_finding_where(NULL, &a, where, sizeof where);
    CHECK_STR(where, "hang.c:72");
    lg_report_free(&r);
    lg_stack_free(&a);
    lg_stack_free(&b);
}

/* main holds m and joins the worker, which waits for m; a ring of three mutexes; a thread
 * that write-locks an rwlock it holds. */
static void test_shapes(void)
{
    lg_stack w0 = {0}, w1 = {0}, w2 = {0}, h0 = {0};
    frame(&w0, 0x401000, "main", "/src/join.c", 40, false);
    frame(&w1, 0x401100, "worker", "/src/join.c", 20, false);
    frame(&w2, 0x401200, "worker2", "/src/join.c", 30, false);
    frame(&h0, 0x401050, "main", "/src/join.c", 38, false);
    lg_lock_fact locks[] = {
        {.address = 0x7f0000, .type = LG_LOCK_THREAD, .name = "11", .join_tid = 11},
        {.address = 0x404000, .type = LG_LOCK_MUTEX, .name = "m", .attrs = "normal"},
        {.address = 0x404040, .type = LG_LOCK_MUTEX, .name = "n"},
        {.address = 0x404080, .type = LG_LOCK_MUTEX},
        {.address = 0x4040c0, .type = LG_LOCK_RWLOCK, .name = "table"},
    };
    lg_held_fact hm[] = {{.lock = 1, .mode = LG_MODE_EXCLUSIVE, .stack = &h0}};
    lg_thread_fact th[] = {
        {.tid = 10, .name = "main", .wait_lock = 0, .wait_stack = &w0, .waits_on = 1,
         .held = hm, .nheld = 1},
        {.tid = 11, .name = "worker", .wait_lock = 1, .wait_stack = &w1, .waits_on = 0},
    };
    lg_wait_facts wf = {.threads = th, .nthreads = 2, .locks = locks, .nlocks = 5};
    lg_report r;
    lg_report_init(&r);
    size_t cyc[] = {1, 0};
    lg_finding *f = lg_build_deadlock(&r, &wf, cyc, 2);
    CHECK(f != NULL);
    char *all = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&all, &len);
    if (f) {
        CHECK_STR(f->fix, "release m before joining thread 11 \"worker\": thread 10 \"main\" "
                  "holds it while it waits to join at join.c:40, and thread 11 \"worker\" "
                  "waits for m");
        char *s = t_render(&r, f, false);
        fputs(s, m);
        free(s);
    }
    /* a ring: 10 waits n held by 11, 11 waits the unnamed lock held by 12, 12 waits m held
     * by 10; cycle given from 12 */
    lg_held_fact h10[] = {{.lock = 1, .mode = LG_MODE_EXCLUSIVE}};
    lg_held_fact h11[] = {{.lock = 2, .mode = LG_MODE_EXCLUSIVE}};
    lg_held_fact h12[] = {{.lock = 3, .mode = LG_MODE_EXCLUSIVE}};
    lg_thread_fact ring[] = {
        {.tid = 10, .name = "ring-1", .wait_lock = 2, .wait_stack = &w0, .waits_on = 1,
         .held = h10, .nheld = 1},
        {.tid = 11, .name = "ring-2", .wait_lock = 3, .wait_stack = &w1, .waits_on = 2,
         .held = h11, .nheld = 1},
        {.tid = 12, .name = "ring-3", .wait_lock = 1, .wait_stack = &w2, .waits_on = 0,
         .held = h12, .nheld = 1},
    };
    lg_wait_facts rf = {.threads = ring, .nthreads = 3, .locks = locks, .nlocks = 5};
    size_t rc[] = {2, 0, 1};
    f = lg_build_deadlock(&r, &rf, rc, 3);
    CHECK(f != NULL);
    if (f) {
        CHECK_STR(f->fix, "keep the order m, n, 0x404080 in every thread: thread 12 \"ring-3\" "
                  "holds 0x404080 while it waits for m at join.c:30; take m before 0x404080 "
                  "there");
        char *s = t_render(&r, f, false);
        fputs(s, m);
        free(s);
    }
    lg_held_fact hs[] = {{.lock = 4, .mode = LG_MODE_SHARED, .stack = &h0}};
    lg_thread_fact self[] = {
        {.tid = 10, .name = "main", .wait_lock = 4, .wait_mode = LG_MODE_EXCLUSIVE,
         .wait_flags = LG_WAITF_TIMED, .wait_stack = &w0, .waits_on = 0, .held = hs,
         .nheld = 1},
    };
    lg_wait_facts sf = {.threads = self, .nthreads = 1, .locks = locks, .nlocks = 5};
    size_t sc[] = {0};
    f = lg_build_deadlock(&r, &sf, sc, 1);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->flags & LG_FINDING_SELF);
        CHECK(f->flags & LG_FINDING_TIMED);
        char *s = t_render(&r, f, false);
        fputs(s, m);
        free(s);
    }
    fclose(m);
    t_golden("analysis/golden/shapes.txt", all);
    free(all);
    char *j = t_render(&r, NULL, true);
    t_golden("analysis/golden/shapes.json", j);
    free(j);
    lg_report_free(&r);
    lg_stack_free(&w0);
    lg_stack_free(&w1);
    lg_stack_free(&w2);
    lg_stack_free(&h0);
}

/* An owner that exited holding the lock (two waiters, one chained behind a waiter), and a
 * lock copied locked by fork(). */
static void test_orphans(void)
{
    lg_stack w0 = {0}, w1 = {0}, hs = {0};
    frame(&w0, 0x401000, "consumer", "/src/orphan.c", 30, false);
    frame(&w1, 0x401100, "child_main", "/src/orphan.c", 60, false);
    frame(&hs, 0x401200, "producer", "/src/orphan.c", 12, false);
    lg_lock_fact locks[] = {
        {.address = 0x404000, .type = LG_LOCK_MUTEX, .name = "queue", .label = "L7",
         .owner = 9, .lock_flags = LG_LOCK_F_OWNER_EXITED},
        {.address = 0x7f0000, .type = LG_LOCK_THREAD, .name = "20", .join_tid = 20},
    };
    lg_thread_fact th[] = {
        {.tid = 20, .name = "consumer", .wait_lock = 0, .wait_stack = &w0, .waits_on = -1},
        {.tid = 21, .name = "consumer-2", .wait_lock = 0, .wait_stack = &w1, .waits_on = -1},
        {.tid = 8, .name = "main", .wait_lock = 1, .wait_stack = &w1, .waits_on = 0},
    };
    lg_wait_facts wf = {.threads = th, .nthreads = 3, .locks = locks, .nlocks = 2};
    lg_orphan_fact of = {.lock = 0, .owner_tid = 9, .owner_name = "producer",
                         .owner_stack = &hs, .owner_created = &w0};
    size_t waiters[] = {0, 1};
    lg_report r;
    lg_report_init(&r);
    lg_finding *f = lg_build_orphaned(&r, &wf, &of, waiters, 2);
    CHECK(f != NULL);
    char *all = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&all, &len);
    if (f) {
        CHECK_STR(f->locks[0].id, "L7");
        char *s = t_render(&r, f, false);
        fputs(s, m);
        free(s);
    }
    lg_orphan_fact ff = {.lock = 0, .owner_tid = 9, .forked = true, .parent_pid = 77,
                         .parent_comm = "server", .fork_where = "server.c:99"};
    f = lg_build_orphaned(&r, &wf, &ff, waiters + 1, 1);
    CHECK(f != NULL);
    if (f) {
        char *s = t_render(&r, f, false);
        fputs(s, m);
        free(s);
    }
    fclose(m);
    t_golden("analysis/golden/orphaned.txt", all);
    free(all);
    char *j = t_render(&r, NULL, true);
    t_golden("analysis/golden/orphaned.json", j);
    free(j);
    lg_report_free(&r);
    lg_stack_free(&w0);
    lg_stack_free(&w1);
    lg_stack_free(&hs);
}

int main(void)
{
    test_demo();
    test_where_single();
    test_shapes();
    test_orphans();
    T_DONE();
}
