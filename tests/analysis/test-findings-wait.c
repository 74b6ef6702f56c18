/* test-findings-wait.c - the long-wait and no-progress builders and the words of a wait
 * (src/analysis/findings-wait.c) from fixed facts: text and JSON against golden files
 * (tests/analysis/golden/long-wait.*, no-progress.*; LG_UPDATE_GOLDEN=1 rewrites them), and
 * the facts the goldens rely on: a holder's hold and what it does now, a waiter that holds
 * what it waits for, one no-progress note per chain end in lg_wait_words's words, and each
 * shape of a wait in those words. */
#include <stdlib.h>
#include <string.h>

#define T_MODULE "/usr/bin/app"
#include "facts.h"
#include "analysis/findings.h"
#include "report/report.h"
#include "t.h"

static void append(FILE *m, const lg_report *r, const lg_finding *f)
{
    char *s = t_render(r, f, false);
    fputs(s, m);
    free(s);
}

/* A consumer waits 2 s for queue_lock; the producer holds it (since app.c:40) and sleeps;
 * a second holder case: the reader of a rwlock that is itself blocked, with its current
 * stack; a waiter that holds what it waits for. */
static void test_long_wait(void)
{
    lg_stack w = {0}, h = {0}, cur = {0}, cr = {0}, w2 = {0}, h2 = {0};
    frame(&w, 0x401100, "consume", "/src/app.c", 20, false);
    frame(&w, 0x401180, "worker", "/src/app.c", 60, false);
    frame(&h, 0x401200, "produce", "/src/app.c", 40, false);
    frame(&cur, 0x7f0000002000, "clock_nanosleep", "../sysdeps/unix/sysv/linux/clock_nanosleep.c", 48, false);
    frame(&cur, 0x401220, "produce", "/src/app.c", 44, false);
    frame(&cr, 0x401300, "main", "/src/app.c", 90, false);
    frame(&w2, 0x401400, "refresh", "/src/cache.c", 31, false);
    frame(&h2, 0x401410, "refresh", "/src/cache.c", 25, false);
    lg_lock_fact locks[] = {
        {.address = 0x404040, .type = LG_LOCK_MUTEX, .name = "queue_lock", .label = "L3"},
        {.address = 0x404080, .type = LG_LOCK_RWLOCK, .label = "L9"},
    };
    lg_held_fact ph[] = {{.lock = 0, .mode = LG_MODE_EXCLUSIVE, .stack = &h}};
    lg_held_fact rh[] = {{.lock = 1, .mode = LG_MODE_SHARED, .stack = &h2}};
    lg_thread_fact th[] = {
        {.tid = 300, .name = "consumer", .created_stack = &cr, .state = "blocked",
         .wait_lock = 0, .wait_stack = &w, .waits_on = 1},
        {.tid = 301, .name = "producer", .created_stack = &cr, .state = "sleeping",
         .wait_lock = -1, .waits_on = -1, .held = ph, .nheld = 1},
        {.tid = 302, .name = "cache", .state = "blocked", .wait_lock = 1,
         .wait_mode = LG_MODE_EXCLUSIVE, .wait_flags = LG_WAITF_TIMED, .wait_stack = &w2,
         .waits_on = 2, .held = rh, .nheld = 1},
    };
    lg_wait_facts wf = {.threads = th, .nthreads = 3, .locks = locks, .nlocks = 2};
    lg_report r;
    lg_report_init(&r);
    char *all = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&all, &len);

    lg_holder_now_fact hn[] = {{.thread = 1, .now = "sleeping in hrtimer_nanosleep",
                                .no_stack = "not interrupted: a signal would cut its "
                                            "clock_nanosleep short"}};
    lg_long_wait_fact lw = {.waiter = 0, .timeout_s = 2, .holders = hn, .nholders = 1};
    lg_finding *f = lg_build_long_wait(&r, &wf, &lw);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->kind, LG_KIND_LONG_WAIT);
        CHECK_STR(f->summary, "thread 300 \"consumer\" has waited more than 2 s to lock "
                  "queue_lock, with no deadlock cycle");
        CHECK_INT(f->nedges, 2);
        CHECK_INT(f->nthreads, 2);
        CHECK_STR(f->locks[0].id, "L3");
        if (f->nedges == 2) {
            CHECK(f->edges[0].flags & LG_EDGE_WAITING);
            CHECK_INT(f->edges[0].stack.n, 2);
            CHECK_INT(f->edges[1].thread, 301);
            CHECK_INT(f->edges[1].holds, 0);
            CHECK_INT(f->edges[1].holds_stack.n, 1);
        }
        CHECK_INT(f->nnotes, 1);
        if (f->nnotes)
            CHECK_STR(f->notes[0], "holder thread 301 \"producer\" is sleeping in "
                      "hrtimer_nanosleep now; no current stack: not interrupted: a signal "
                      "would cut its clock_nanosleep short");
        append(m, &r, f);
    }
    /* The holder's current stack shown; the same facts give the same words. */
    hn[0] = (lg_holder_now_fact){.thread = 1, .now = "running", .stack = &cur};
    f = lg_build_long_wait(&r, &wf, &lw);
    lg_finding *g = lg_build_long_wait(&r, &wf, &lw);
    CHECK(f != NULL && g != NULL);
    if (f && g) {
        CHECK_STR(f->summary, g->summary);
        CHECK_STR(f->notes[0], "holder thread 301 \"producer\" is running now; its current "
                  "stack is shown");
        CHECK_INT(f->threads[1].stack.n, 2);
        append(m, &r, f);
    }
    /* A timed write-lock of an unnamed rwlock the waiter itself read-holds. */
    lg_holder_now_fact self[] = {{.thread = 2, .now = "sleeping in futex_wait_queue"}};
    lg_long_wait_fact lw2 = {.waiter = 2, .timeout_s = 0.5, .holders = self, .nholders = 1};
    f = lg_build_long_wait(&r, &wf, &lw2);
    CHECK(f != NULL);
    if (f) {
        CHECK_STR(f->summary, "thread 302 \"cache\" has waited more than 0.5 s to write-lock "
                  "0x404080, with no deadlock cycle");
        CHECK(f->flags & LG_FINDING_TIMED);
        CHECK_INT(f->nedges, 1);
        CHECK_INT(f->nthreads, 1);
        if (f->nedges == 1) {
            CHECK_INT(f->edges[0].holds, 0);
            CHECK_INT(f->edges[0].holds_mode, LG_MODE_SHARED);
        }
        append(m, &r, f);
    }
    /* Facts that do not make a wait: no finding. */
    lg_long_wait_fact bad = {.waiter = 1, .timeout_s = 1};
    size_t before = r.nfindings;
    CHECK(lg_build_long_wait(&r, &wf, &bad) == NULL);
    CHECK_INT(r.nfindings, before);

    fclose(m);
    t_golden("analysis/golden/long-wait.txt", all);
    free(all);
    char *j = t_render(&r, NULL, true);
    t_golden("analysis/golden/long-wait.json", j);
    free(j);
    lg_report_free(&r);
    lg_stack_free(&w);
    lg_stack_free(&h);
    lg_stack_free(&cur);
    lg_stack_free(&cr);
    lg_stack_free(&w2);
    lg_stack_free(&h2);
}

/* Every thread blocked, no cycle: main joins a worker that waits for a lock the other
 * worker holds, which waits on a semaphore nobody posts; a third waits at a barrier. */
static void test_no_progress(void)
{
    lg_lock_fact locks[] = {
        {.address = 0x7f0000a00000, .type = LG_LOCK_THREAD, .name = "41", .join_tid = 41},
        {.address = 0x404100, .type = LG_LOCK_MUTEX, .name = "table", .attrs = "normal",
         .label = "L1", .owner = 42},
        {.address = 0x404200, .type = LG_LOCK_SEMAPHORE, .name = "ready", .label = "L2",
         .lock_flags = LG_LOCK_F_NO_OWNER},
        {.address = 0x404300, .type = LG_LOCK_BARRIER, .name = "start", .label = "L3"},
    };
    lg_thread_fact th[] = {
        {.tid = 40, .name = "main", .state = "blocked", .wait_lock = 0, .waits_on = 1},
        {.tid = 41, .name = "reader", .state = "blocked", .wait_lock = 1, .waits_on = 2},
        {.tid = 42, .name = "writer", .state = "blocked", .wait_lock = 2, .waits_on = -1},
        {.tid = 43, .state = "blocked", .wait_lock = 3, .waits_on = -1},
        {.tid = 44, .name = "idle", .state = "blocked", .wait_lock = -1, .waits_on = -1},
    };
    lg_wait_facts wf = {.threads = th, .nthreads = 5, .locks = locks, .nlocks = 4};
    lg_report r;
    lg_report_init(&r);
    lg_finding *f = lg_build_no_progress(&r, &wf);
    lg_finding *g = lg_build_no_progress(&r, &wf);
    CHECK(f != NULL && g != NULL);
    char *all = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&all, &len);
    if (f && g) {
        CHECK_INT(f->kind, LG_KIND_HANG);
        CHECK_INT(f->nnotes, 3);
        if (f->nnotes == 3) {
            CHECK_STR(f->notes[0], "thread 42 \"writer\": wait on semaphore ready, waits for "
                      "a signal from any thread");
            CHECK_STR(f->notes[1], "thread 43: wait on barrier start, waits for more threads "
                      "to arrive");
            CHECK_STR(f->notes[2], "thread 44 \"idle\": blocked");
        }
        for (size_t i = 0; i < f->nnotes && i < g->nnotes; i++)
            CHECK_STR(f->notes[i], g->notes[i]);
        append(m, &r, f);
    }
    fclose(m);
    t_golden("analysis/golden/no-progress.txt", all);
    free(all);
    lg_report_free(&r);
    /* JSON of the first finding alone. */
    lg_report_init(&r);
    CHECK(lg_build_no_progress(&r, &wf) != NULL);
    char *j = t_render(&r, NULL, true);
    t_golden("analysis/golden/no-progress.json", j);
    free(j);
    lg_report_free(&r);
}

/* Each shape of a wait in lg_wait_words's words. */
static void test_wait_words(void)
{
    lg_lock_fact locks[] = {
        /* 0 */ {.address = 0x1000, .type = LG_LOCK_MUTEX, .name = "mutex_b", .attrs = "normal",
                 .owner = 13},
        /* 1 */ {.address = 0x2000, .type = LG_LOCK_RWLOCK, .owner = 13, .readers = 3},
        /* 2 */ {.address = 0x3000, .type = LG_LOCK_RWLOCK, .name = "rw", .readers = 1},
        /* 3 */ {.address = 0x4000, .type = LG_LOCK_THREAD, .name = "13", .join_tid = 13,
                 .lock_flags = LG_LOCK_F_OWNER_EXITED},
        /* 4 */ {.address = 0x5000, .type = LG_LOCK_SPINLOCK, .name = "spin_a"},
        /* 5 */ {.address = 0x6000, .type = LG_LOCK_FUTEX, .value = 2},
        /* 6 */ {.address = 0x7000, .type = LG_LOCK_MUTEX, .name = "shm", .owner = 5,
                 .owner_pid = 900, .owner_comm = "peer",
                 .lock_flags = LG_LOCK_F_OWNER_ELSEWHERE},
        /* 7 */ {.address = 0x8000, .type = LG_LOCK_MUTEX, .name = "shm2", .owner = 6,
                 .lock_flags = LG_LOCK_F_OWNER_ELSEWHERE},
        /* 8 */ {.address = 0x9000, .type = LG_LOCK_MUTEX, .name = "q", .owner = 7,
                 .lock_flags = LG_LOCK_F_OWNER_EXITED | LG_LOCK_F_OWNER_FORKED},
        /* 9 */ {.address = 0xa000, .type = LG_LOCK_MUTEX, .name = "gone", .owner = 8,
                 .lock_flags = LG_LOCK_F_OWNER_EXITED},
        /* 10 */ {.address = 0xb000, .type = LG_LOCK_CUSTOM, .name = "my_lock", .owner = 13},
    };
    struct { int lock; lg_mode mode; unsigned flags; const char *want; } cases[] = {
        {0, LG_MODE_EXCLUSIVE, 0,
         "lock mutex mutex_b (normal), held by thread 13 \"locker-ba\""},
        {1, LG_MODE_EXCLUSIVE, LG_WAITF_READ_HELD,
         "write-lock rwlock 0x2000, read-held by thread 13 \"locker-ba\" and 2 other readers"},
        {1, LG_MODE_EXCLUSIVE, LG_WAITF_INFERRED_READER,
         "write-lock rwlock 0x2000, read-held (inferred) by thread 13 \"locker-ba\""},
        {2, LG_MODE_EXCLUSIVE, 0,
         "write-lock rwlock rw, read-held by 1 thread (glibc does not record which)"},
        {3, LG_MODE_EXCLUSIVE, 0, "join thread 13 \"locker-ba\" (gone)"},
        {4, LG_MODE_EXCLUSIVE, LG_WAITF_SPINNING,
         "spin on spinlock spin_a (its owner is not recorded)"},
        {5, LG_MODE_EXCLUSIVE, LG_WAITF_TIMED, "futex wait on 0x6000 (value 2, timed)"},
        {6, LG_MODE_EXCLUSIVE, 0, "lock mutex shm, held by thread 5 of process 900 (peer)"},
        {7, LG_MODE_EXCLUSIVE, 0, "lock mutex shm2, held by thread 6, which is not in this "
         "core (the lock is process-shared: the chain leaves the process)"},
        {8, LG_MODE_EXCLUSIVE, 0, "lock mutex q, held by thread 7 in the parent process "
         "before fork (not here)"},
        {9, LG_MODE_EXCLUSIVE, 0, "lock mutex gone, held by thread 8, which exited"},
        {10, LG_MODE_EXCLUSIVE, 0, "lock custom my_lock, held by thread 13 \"locker-ba\""},
    };
    size_t nc = sizeof cases / sizeof cases[0];
    lg_thread_fact th[2] = {
        {.tid = 12, .name = "locker-ab"},
        {.tid = 13, .name = "locker-ba", .wait_lock = -1, .blocked_in = "read(fd 7 -> pipe:[9])"},
    };
    lg_wait_facts wf = {.threads = th, .nthreads = 2, .locks = locks,
                        .nlocks = sizeof locks / sizeof locks[0]};
    char buf[512];
    for (size_t i = 0; i < nc; i++) {
        th[0].wait_lock = cases[i].lock;
        th[0].wait_mode = cases[i].mode;
        th[0].wait_flags = cases[i].flags;
        lg_wait_words(&wf, 0, buf, sizeof buf);
        CHECK_STR(buf, cases[i].want);
    }
    lg_wait_words(&wf, 1, buf, sizeof buf);
    CHECK_STR(buf, "read(fd 7 -> pipe:[9])");
    th[1].blocked_in = NULL;
    lg_wait_words(&wf, 1, buf, sizeof buf);
    CHECK_STR(buf, "");
    /* A short buffer is cut, not overrun. */
    th[0].wait_lock = 6;
    th[0].wait_flags = 0;
    char small[12];
    lg_wait_words(&wf, 0, small, sizeof small);
    CHECK_STR(small, "lock mutex ");
}

int main(void)
{
    test_long_wait();
    test_no_progress();
    test_wait_words();
    T_DONE();
}
