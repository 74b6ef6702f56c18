/* test-model.c - building and freeing reports: names, dedup of locks and threads, ids. */
#include "model/model.h"
#include "t.h"

int main(void)
{
    CHECK_STR(lg_kind_name(LG_KIND_INVERSION), "lock-order-inversion");
    CHECK_STR(lg_kind_name(LG_KIND_DEADLOCK), "deadlock");
    CHECK_STR(lg_kind_name(LG_KIND_ORPHANED), "orphaned-lock");
    CHECK_STR(lg_kind_name((lg_kind)99), "unknown");
    CHECK(lg_kind_is_defect(LG_KIND_DEADLOCK));
    CHECK(!lg_kind_is_defect(LG_KIND_GATED_CYCLE));
    CHECK(!lg_kind_is_defect(LG_KIND_LONG_WAIT));
    CHECK_INT(lg_kind_from_name("orphaned-lock"), LG_KIND_ORPHANED);
    CHECK_INT(lg_kind_from_name("nope"), -1);
    CHECK_INT(lg_lock_type_from_name("rwlock"), LG_LOCK_RWLOCK);
    CHECK_STR(lg_mode_name(LG_MODE_SHARED), "shared");

    lg_report r;
    lg_report_init(&r);
    char *argv[] = {"prog", "--x", NULL};
    CHECK_INT(lg_report_set_command(&r, 2, argv), 0);
    CHECK_INT(r.ncommand, 2);
    lg_finding *f = lg_report_add_finding(&r, LG_KIND_INVERSION);
    CHECK(f != NULL);
    CHECK_INT(lg_finding_add_lock(f, 0x1000, LG_LOCK_MUTEX, "A", NULL), 0);
    CHECK_INT(lg_finding_add_lock(f, 0x2000, LG_LOCK_MUTEX, NULL, NULL), 1);
    CHECK_INT(lg_finding_add_lock(f, 0x1000, LG_LOCK_MUTEX, "A", NULL), 0);  /* dedup */
    CHECK_STR(f->locks[1].id, "L2");
    CHECK_INT(lg_finding_find_lock(f, 0x2000), 1);
    CHECK_INT(lg_finding_find_lock(f, 0x3000), -1);
    lg_thread *t = lg_finding_add_thread(f, 7, NULL);
    CHECK(t && t->name == NULL);
    t = lg_finding_add_thread(f, 7, "late-name");     /* dedup, fills the name in */
    CHECK_INT(f->nthreads, 1);
    CHECK_STR(f->threads[0].name, "late-name");
    lg_edge *e = lg_finding_add_edge(f, 7, 0, LG_MODE_EXCLUSIVE, 1, LG_MODE_SHARED, 0);
    CHECK(e != NULL);
    lg_frame *fr = lg_stack_push(&e->stack);
    CHECK(fr && lg_frame_set(fr, 0x10, "/m", 0x10, "fn", 2, "f.c", 3) == 0);
    CHECK(lg_stack_copy(&e->holds_stack, &e->stack) == 0);
    CHECK_STR(e->holds_stack.frames[0].function, "fn");
    CHECK_INT(e->holds_stack.frames[0].line, 3);
    /* Many adds: growth keeps earlier entries intact. */
    for (int i = 0; i < 1000; i++)
        lg_finding_add_lock(f, 0x10000 + (uint64_t)i * 8, LG_LOCK_RWLOCK, NULL, NULL);
    CHECK_INT(f->nlocks, 1002);
    CHECK_STR(f->locks[0].name, "A");
    CHECK_STR(f->locks[1001].id, "L1002");
    CHECK_INT(lg_finding_set_summary(f, "%d locks", 2), 0);
    CHECK_STR(f->summary, "2 locks");
    lg_report_add_finding(&r, LG_KIND_NOTE);
    CHECK_INT(lg_report_defects(&r), 1);
    CHECK_INT(lg_report_add_note(&r, "n%d", 1), 0);
    lg_report_free(&r);
    CHECK_INT(r.nfindings, 0);
    T_DONE();
}
