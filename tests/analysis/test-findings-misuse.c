/* test-findings-misuse.c - the misuse builder (src/analysis/findings-misuse.h) from fixed
 * facts: one finding per misuse kind, text and JSON against golden files
 * (tests/analysis/golden/misuse.*, LG_UPDATE_GOLDEN=1 rewrites them), and the facts the
 * goldens rely on: the call's site first, its lock first, the holder named (or "the thread
 * itself"), glibc's refusal kept, the normal-mutex note only when glibc did the unlock, and
 * the same facts give the same words. */
#include <stdlib.h>
#include <string.h>

#define T_MODULE "/usr/bin/app"
#include "facts.h"
#include "analysis/findings-misuse.h"
#include "report/report.h"
#include "t.h"

static void append(FILE *m, const lg_report *r, const lg_finding *f)
{
    char *s = t_render(r, f, false);
    fputs(s, m);
    free(s);
}

int main(void)
{
    lg_stack call = {0}, held = {0}, destroyed = {0}, other = {0}, held2 = {0};
    frame(&call, 0x401100, "release", "/src/pool.c", 30, false);
    frame(&call, 0x401180, "worker", "/src/pool.c", 80, false);
    frame(&held, 0x401200, "acquire", "/src/pool.c", 20, false);
    frame(&destroyed, 0x401300, "teardown", "/src/pool.c", 50, false);
    frame(&other, 0x401400, "wait_ready", "/src/pool.c", 60, false);
    frame(&held2, 0x401210, "acquire_cfg", "/src/pool.c", 24, false);
    lg_misuse_lock_fact locks[] = {
        {.address = 0x404000, .type = LG_LOCK_MUTEX, .name = "pool_lock", .attrs = "normal"},
        {.address = 0x404040, .type = LG_LOCK_RWLOCK, .name = "table"},
        {.address = 0x404080, .type = LG_LOCK_CONDVAR, .name = "ready"},
        {.address = 0x4040c0, .type = LG_LOCK_MUTEX, .name = "other_lock", .label = "L9"},
        {.address = 0x404100, .type = LG_LOCK_MUTEX},
        {.address = 0x404141, .type = LG_LOCK_MUTEX, .name = "heap 0x404141"},
    };
    lg_report r;
    lg_report_init(&r);
    char *all = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&all, &len);
    lg_misuse_site_fact holder = {.role = LG_SITE_ACQUIRED, .tid = 12, .thread_name = "owner",
                                  .lock = 0, .stack = &held};
    lg_misuse_site_fact self = {.role = LG_SITE_ACQUIRED, .tid = 11, .thread_name = "worker",
                                .lock = 0, .stack = &held};
    struct { const char *want; lg_misuse_facts mf; } cases[LG_MISUSE_COUNT + 1];
    size_t nc = 0;
#define CASE(W, ...) do { cases[nc].want = W; \
                          cases[nc].mf = (lg_misuse_facts){__VA_ARGS__}; nc++; } while (0)
    CASE("thread 11 unlocks mutex pool_lock at pool.c:30, which no thread holds",
         .what = LG_MISUSE_UNLOCK_NOT_HELD, .tid = 11, .thread_name = "worker", .locks = locks,
         .nlocks = 5, .lock = 0, .cond = -1, .stack = &call);
    CASE("thread 11 unlocks mutex pool_lock at pool.c:30, which thread 12 \"owner\" holds "
         "(locked at pool.c:20)",
         .what = LG_MISUSE_UNLOCK_NOT_OWNER, .tid = 11, .thread_name = "worker", .locks = locks,
         .nlocks = 5, .lock = 0, .cond = -1, .stack = &call, .refused = "EPERM",
         .sites = &holder, .nsites = 1);
    CASE("thread 11 destroys mutex pool_lock at pool.c:30 while thread 12 \"owner\" holds it "
         "(locked at pool.c:20)",
         .what = LG_MISUSE_DESTROY_HELD, .tid = 11, .locks = locks, .nlocks = 5, .lock = 0,
         .cond = -1, .stack = &call, .refused = "EBUSY", .sites = &holder, .nsites = 1);
    lg_misuse_site_fact gone = {.role = LG_SITE_DESTROYED, .tid = 13, .lock = 0,
                                .stack = &destroyed};
    CASE("thread 11 uses mutex pool_lock at pool.c:30, destroyed at pool.c:50 and not "
         "initialised since",
         .what = LG_MISUSE_USE_AFTER_DESTROY, .tid = 11, .locks = locks, .nlocks = 5,
         .lock = 0, .cond = -1, .stack = &call, .refused = "EINVAL", .sites = &gone,
         .nsites = 1);
    lg_misuse_site_fact reader = {.role = LG_SITE_ACQUIRED, .tid = 12, .thread_name = "owner",
                                  .lock = 1, .mode = LG_MODE_SHARED, .stack = &held};
    CASE("thread 11 initialises rwlock table at pool.c:30 while thread 12 \"owner\" holds it "
         "(locked at pool.c:20)",
         .what = LG_MISUSE_REINIT_LIVE, .tid = 11, .locks = locks, .nlocks = 5, .lock = 1,
         .cond = -1, .stack = &call, .sites = &reader, .nsites = 1);
    CASE("thread 11 locks mutex pool_lock again at pool.c:30 while holding it (locked at "
         "pool.c:20)",
         .what = LG_MISUSE_RELOCK_REFUSED, .tid = 11, .locks = locks, .nlocks = 5, .lock = 0,
         .cond = -1, .stack = &call, .refused = "EDEADLK", .sites = &self, .nsites = 1);
    lg_misuse_site_fact exits[] = {
        {.role = LG_SITE_ACQUIRED, .tid = 14, .thread_name = "leaver", .lock = 0,
         .stack = &held},
        {.role = LG_SITE_ACQUIRED, .tid = 14, .thread_name = "leaver", .lock = 4,
         .stack = &held2},
    };
    CASE("thread 14 \"leaver\" ended holding 2 locks: mutex pool_lock (locked at pool.c:20), ...",
         .what = LG_MISUSE_EXIT_HOLDING, .locks = locks, .nlocks = 5, .lock = 0, .cond = -1,
         .sites = exits, .nsites = 2);
    CASE("thread 11 waits on condition variable ready at pool.c:30 with mutex pool_lock, which "
         "no thread holds",
         .what = LG_MISUSE_COND_NOT_HELD, .tid = 11, .locks = locks, .nlocks = 5, .lock = 0,
         .cond = 2, .stack = &call, .refused = "EPERM");
    lg_misuse_site_fact ow = {.role = LG_SITE_OTHER_WAIT, .tid = 15, .thread_name = "waiter",
                              .lock = 3, .stack = &other};
    CASE("thread 11 waits on condition variable ready at pool.c:30 with mutex pool_lock, while "
         "thread 15 \"waiter\" waits on it with mutex other_lock (at pool.c:60)",
         .what = LG_MISUSE_COND_TWO_MUTEXES, .tid = 11, .locks = locks, .nlocks = 5,
         .lock = 0, .cond = 2, .stack = &call, .sites = &ow, .nsites = 1);
    /* destroy-held by a free() of the lock's memory: its own words, site and note */
    CASE("thread 11 frees the memory of mutex pool_lock at pool.c:30 while thread 12 \"owner\" "
         "holds it (locked at pool.c:20)",
         .what = LG_MISUSE_DESTROY_HELD, .tid = 11, .locks = locks, .nlocks = 5, .lock = 0,
         .cond = -1, .stack = &call, .freed = true, .sites = &holder, .nsites = 1);
    /* invalid-lock: memory with a kind glibc refuses, named by its address (no label) */
    CASE("thread 11 uses mutex heap 0x404141 at pool.c:30: its memory holds no initialised "
         "mutex",
         .what = LG_MISUSE_INVALID_LOCK, .tid = 11, .thread_name = "worker", .locks = locks,
         .nlocks = 6, .lock = 5, .cond = -1, .stack = &call, .refused = "EINVAL",
         .has_kind = true, .kind = 0xffffffffu);
#undef CASE
    CHECK_INT(nc, LG_MISUSE_COUNT);   /* every kind, and destroy-held's free */
    for (size_t i = 0; i < nc; i++) {
        lg_finding *f = lg_build_misuse(&r, &cases[i].mf);
        CHECK(f != NULL);
        if (!f)
            continue;
        CHECK_INT(f->kind, LG_KIND_MISUSE);
        CHECK_INT(f->misuse, cases[i].mf.what);
        CHECK_STR(f->summary, cases[i].want);
        CHECK(f->fix != NULL);
        CHECK_STR(f->locks[0].name, locks[cases[i].mf.lock].name);
        if (cases[i].mf.what == LG_MISUSE_COND_TWO_MUTEXES)   /* the report's label kept */
            CHECK_STR(f->locks[f->nlocks - 1].id, "L9");
        if (cases[i].mf.refused)
            CHECK_STR(f->refused, cases[i].mf.refused);
        if (cases[i].mf.stack) {
            CHECK(f->nsites >= 1 && f->sites[0].role == (cases[i].mf.freed ? LG_SITE_FREED
                                                                           : LG_SITE_MISUSE));
        }
        /* glibc did the unlock of a normal mutex: said in a note, and only then. */
        /* A free: that free() asks nothing of glibc, also in a note. */
        /* The kind word an invalid lock holds: its evidence, in a note. */
        CHECK_INT(f->nnotes, cases[i].mf.what == LG_MISUSE_UNLOCK_NOT_HELD || cases[i].mf.freed
                             || cases[i].mf.has_kind);
        append(m, &r, f);
    }
    /* The same facts give the same words. */
    lg_report r2;
    lg_report_init(&r2);
    lg_finding *g = lg_build_misuse(&r2, &cases[1].mf);
    CHECK(g != NULL && r.nfindings > 1);
    if (g && r.nfindings > 1) {
        char *a = t_render(&r, &r.findings[1], false), *b = t_render(&r2, g, false);
        CHECK_STR(a, b);
        free(a);
        free(b);
    }
    /* Refused unlock of a normal mutex: no "glibc unlocked it anyway". */
    lg_misuse_facts refused = cases[0].mf;
    refused.refused = "EPERM";
    g = lg_build_misuse(&r2, &refused);
    CHECK(g != NULL && g->nnotes == 0);
    /* Not a misuse: no finding. */
    lg_misuse_facts none = {.what = LG_MISUSE_NONE, .lock = -1, .cond = -1};
    size_t before = r2.nfindings;
    CHECK(lg_build_misuse(&r2, &none) == NULL);
    CHECK_INT(r2.nfindings, before);
    lg_report_free(&r2);

    fclose(m);
    t_golden("analysis/golden/misuse.txt", all);
    free(all);
    char *j = t_render(&r, NULL, true);
    t_golden("analysis/golden/misuse.json", j);
    free(j);
    lg_report_free(&r);
    lg_stack *st[] = {&call, &held, &destroyed, &other, &held2};
    for (size_t i = 0; i < sizeof st / sizeof *st; i++)
        lg_stack_free(st[i]);
    T_DONE();
}
