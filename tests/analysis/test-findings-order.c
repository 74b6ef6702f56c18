/* test-findings-order.c - the lock-order builder (src/analysis/findings-order.h) from fixed
 * facts: text and JSON of every shape against golden files (tests/analysis/golden/order.*,
 * LG_UPDATE_GOLDEN=1 rewrites them), and the facts the goldens rely on: the fix names the
 * edge that closed the cycle, at its call sites past a lock helper every acquisition goes
 * through; kinds and flags follow the facts; a long cycle's words stay bounded; lock sets
 * name unnamed locks by address and only count past the kept ones. */
#include <stdlib.h>
#include <string.h>

#define T_MODULE "/usr/bin/app"
#include "facts.h"
#include "analysis/findings-order.h"
#include "report/report.h"
#include "t.h"

/* An acquisition through the program's lock helper (app.c:12, inlined into every caller). */
static void via_helper(lg_stack *s, uint64_t pc, const char *caller, int line)
{
    frame(s, 0, "lock_or_die", "/src/app.c", 12, true);
    frame(s, pc, caller, "/src/app.c", line, false);
    frame(s, 0x7f0000001000, "start_thread", "./nptl/pthread_create.c", 442, false);
}

static void append(FILE *m, const lg_report *r, const lg_finding *f)
{
    char *s = t_render(r, f, false);
    fputs(s, m);
    free(s);
}

int main(void)
{
    lg_report r;
    lg_report_init(&r);
    char *all = NULL;
    size_t alllen = 0;
    FILE *m = open_memstream(&all, &alllen);

    /* 1. ABBA through a helper: worker-1 holds A (app.c:30) and read-locks B (app.c:31);
     * worker-2, later, holds B (app.c:50) and takes A (app.c:51). */
    lg_stack s1h = {0}, s1 = {0}, s2h = {0}, s2 = {0};
    via_helper(&s1h, 0x401300, "worker_one", 30);
    via_helper(&s1, 0x401310, "worker_one", 31);
    via_helper(&s2h, 0x401500, "worker_two", 50);
    via_helper(&s2, 0x401510, "worker_two", 51);
    lg_order_lock_fact ab[] = {
        {.address = 0x4040a0, .type = LG_LOCK_MUTEX, .name = "A"},
        {.address = 0x4040e0, .type = LG_LOCK_RWLOCK, .name = "B"},
    };
    lg_order_edge_fact abe[] = {
        {.tid = 101, .thread_name = "worker-1", .holds_mode = LG_MODE_EXCLUSIVE,
         .acquires_mode = LG_MODE_SHARED, .holds_stack = &s1h, .stack = &s1},
        {.tid = 102, .thread_name = "worker-2", .holds_mode = LG_MODE_EXCLUSIVE,
         .acquires_mode = LG_MODE_EXCLUSIVE, .flags = LG_ORDERF_TRY, .holds_stack = &s2h,
         .stack = &s2},
    };
    lg_order_facts abf = {.locks = ab, .edges = abe, .n = 2};
    lg_finding *f = lg_build_order_cycle(&r, &abf);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->kind, LG_KIND_INVERSION);
        CHECK_INT(f->nedges, 2);
        CHECK_INT(f->nlocks, 2);
        CHECK_INT(f->nthreads, 2);
        CHECK(f->edges[1].flags & LG_EDGE_TRYLOCK);
        CHECK_STR(f->summary, "cycle of 2 locks: A => B => A");
        CHECK_STR(f->fix, "acquire A before B everywhere: thread 102 takes A (at app.c:51) "
                  "while holding B (taken at app.c:50); take A first there");
        append(m, &r, f);
    }

    /* 2. Three locks, one thread's code paths, the last re-acquired on a condition wake-up;
     * no stack recorded for one held lock, unnamed locks. */
    lg_stack t1 = {0}, t2 = {0}, t3 = {0}, t3h = {0};
    frame(&t1, 0x401600, "path_one", "/src/ring.c", 20, false);
    frame(&t2, 0x401700, "path_two", "/src/ring.c", 30, false);
    frame(&t3, 0x401800, "path_three", "/src/ring.c", 40, false);
    frame(&t3h, 0x401810, "path_three", "/src/ring.c", 38, false);
    lg_order_lock_fact ring[] = {
        {.address = 0x10, .type = LG_LOCK_MUTEX, .name = "m"},
        {.address = 0x20, .type = LG_LOCK_MUTEX, .attrs = "c11"},
        {.address = 0x30, .type = LG_LOCK_MUTEX, .name = "heap 0x30"},
    };
    lg_order_edge_fact ringe[3];
    for (int i = 0; i < 3; i++)
        ringe[i] = (lg_order_edge_fact){.tid = 7, .thread_name = "solo",
                                        .holds_mode = LG_MODE_EXCLUSIVE,
                                        .acquires_mode = LG_MODE_EXCLUSIVE};
    ringe[0].stack = &t1;
    ringe[1].stack = &t2;
    ringe[2].stack = &t3;
    ringe[2].holds_stack = &t3h;
    ringe[2].flags = LG_ORDERF_COND;
    lg_order_facts ringf = {.locks = ring, .edges = ringe, .n = 3, .same_thread = true};
    f = lg_build_order_cycle(&r, &ringf);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->flags & LG_FINDING_SAME_THREAD);
        CHECK(f->edges[2].flags & LG_EDGE_COND);
        CHECK_STR(f->summary, "cycle of 3 locks: m => L2 => heap 0x30 => m (one thread's code "
                  "paths)");
        CHECK_STR(f->fix, "keep the order m => L2 => heap 0x30 that the other acquisitions "
                  "follow: thread 7 takes m (at ring.c:40) while holding heap 0x30 (taken at "
                  "ring.c:38), against it; take m before heap 0x30 there");
        append(m, &r, f);
    }

    /* 3. The same two locks under a gate, one of them timed: a gated cycle. */
    lg_order_lock_fact gate = {.address = 0x4041a0, .type = LG_LOCK_MUTEX, .name = "big_lock"};
    abe[1].flags = LG_ORDERF_TIMED;
    lg_order_facts gf = {.locks = ab, .edges = abe, .n = 2, .timed = true, .gate = &gate};
    f = lg_build_order_cycle(&r, &gf);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->kind, LG_KIND_GATED_CYCLE);
        CHECK(f->flags & LG_FINDING_TIMED);
        CHECK(f->edges[1].flags & LG_EDGE_TIMED);
        CHECK_INT(f->nnotes, 1);
        if (f->nnotes)
            CHECK_STR(f->notes[0], "every edge was made while holding big_lock (0x4041a0): "
                      "the cycle cannot deadlock");
        CHECK(f->fix == NULL);   /* it cannot deadlock: nothing to fix */
        append(m, &r, f);
    }

    /* 4. A reader read-locks a writer-preferring rwlock again. */
    lg_stack rr = {0}, rrh = {0};
    frame(&rr, 0x401900, "reread", "/src/rw.c", 15, false);
    frame(&rrh, 0x401910, "reread", "/src/rw.c", 12, false);
    lg_order_lock_fact rw = {.address = 0x404200, .type = LG_LOCK_RWLOCK, .name = "rw_x"};
    lg_order_edge_fact rwe = {.tid = 9, .holds_mode = LG_MODE_SHARED,
                              .acquires_mode = LG_MODE_SHARED, .holds_stack = &rrh,
                              .stack = &rr};
    lg_order_facts rwf = {.locks = &rw, .edges = &rwe, .n = 1};
    f = lg_build_order_cycle(&r, &rwf);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->flags & LG_FINDING_SELF);
        CHECK_STR(f->fix, "do not read-lock rw_x again while holding it: thread 9 reads it "
                  "again at rw.c:15, holding it since rw.c:12; release it first, or make it "
                  "reader-preferring");
        append(m, &r, f);
    }

    /* 5. A ring of 10 locks: the words keep its first and last locks. */
    lg_order_lock_fact ten[10];
    lg_order_edge_fact tene[10];
    char names[10][8];
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "r%d", i);
        ten[i] = (lg_order_lock_fact){.address = 0x5000 + 0x40 * (uint64_t)i,
                                      .type = LG_LOCK_MUTEX, .name = names[i]};
        tene[i] = (lg_order_edge_fact){.tid = 200 + i, .holds_mode = LG_MODE_EXCLUSIVE,
                                       .acquires_mode = LG_MODE_EXCLUSIVE};
    }
    lg_order_facts tenf = {.locks = ten, .edges = tene, .n = 10};
    f = lg_build_order_cycle(&r, &tenf);
    CHECK(f != NULL);
    if (f) {
        CHECK_STR(f->summary, "cycle of 10 locks: r0 => r1 => r2 => ... (6 more) => r9 => r0");
        CHECK_STR(f->fix, "keep the order r0 => r1 => r2 => ... (5 more) => r8 => r9 that the "
                  "other acquisitions follow: thread 209 takes r0 (at an unknown place) while "
                  "holding r9 (taken at an unknown place), against it; take r0 before r9 "
                  "there");
        append(m, &r, f);

        /* Lock sets at its code path: names, else addresses; past the kept ones, counted. */
        lg_order_lock_fact set[2] = {{.address = 0x6000, .name = "s0"}, {.address = 0x6040}};
        CHECK_INT(lg_order_add_lockset(f, set, 2), 0);
        CHECK_INT(f->nsets, 1);
        CHECK_INT(f->sets_seen, 1);
        if (f->nsets == 1 && f->sets[0].n == 2) {
            CHECK_STR(f->sets[0].locks[0], "s0");
            CHECK_STR(f->sets[0].locks[1], "0x6040");
        }
        size_t kept = f->nsets;
        f->nsets = LG_LOCKSETS_KEPT;   /* as if full: only counted */
        CHECK_INT(lg_order_add_lockset(f, set, 2), 0);
        CHECK_INT(f->sets_seen, 2);
        f->nsets = kept;
    }
    /* 6. The runtime's labels (node ids): an unnamed lock is its label in every word, the
     * same label as in the process's deadlocks. */
    lg_order_lock_fact lab[] = {
        {.address = 0x7000, .type = LG_LOCK_MUTEX, .label = "L12"},
        {.address = 0x7040, .type = LG_LOCK_MUTEX, .name = "cfg", .label = "L5"},
    };
    lg_order_edge_fact labe[] = {
        {.tid = 31, .holds_mode = LG_MODE_EXCLUSIVE, .acquires_mode = LG_MODE_EXCLUSIVE,
         .holds_stack = &s1h, .stack = &s1},
        {.tid = 32, .holds_mode = LG_MODE_EXCLUSIVE, .acquires_mode = LG_MODE_EXCLUSIVE,
         .holds_stack = &s2h, .stack = &s2},
    };
    lg_order_facts labf = {.locks = lab, .edges = labe, .n = 2};
    f = lg_build_order_cycle(&r, &labf);
    CHECK(f != NULL);
    if (f) {
        CHECK_STR(f->locks[0].id, "L12");
        CHECK_STR(f->locks[1].id, "L5");
        CHECK_STR(f->summary, "cycle of 2 locks: L12 => cfg => L12");
        append(m, &r, f);
    }
    fclose(m);
    t_golden("analysis/golden/order.txt", all);
    free(all);
    char *j = t_render(&r, NULL, true);
    t_golden("analysis/golden/order.json", j);
    free(j);

    /* The same facts give the same words. */
    lg_report r2;
    lg_report_init(&r2);
    abe[1].flags = LG_ORDERF_TRY;
    lg_finding *g = lg_build_order_cycle(&r2, &abf);
    CHECK(g && r.nfindings && g->fix && r.findings[0].fix);
    if (g && r.nfindings && g->fix && r.findings[0].fix) {
        char *a = t_render(&r, &r.findings[0], false), *b = t_render(&r2, g, false);
        CHECK_STR(a, b);
        free(a);
        free(b);
    }
    lg_report_free(&r2);
    lg_report_free(&r);
    lg_stack *st[] = {&s1h, &s1, &s2h, &s2, &t1, &t2, &t3, &t3h, &rr, &rrh};
    for (size_t i = 0; i < sizeof st / sizeof *st; i++)
        lg_stack_free(st[i]);
    T_DONE();
}
