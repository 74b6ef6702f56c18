/* test-timeline.c - the timeline analysis and its writers on hand-built event sequences whose
 * answers are known: a three-thread convoy (critical path back to the slow holder), a
 * condition wait that gives its mutex away, a recursive lock, overlapping holds (Chrome lanes),
 * and a wait that never ends (a deadlock cut short by the end of the trace). */
#include <stdio.h>
#include <stdlib.h>

#include "analysis/timeline.h"
#include "model/timeline.h"
#include "report/timeline-report.h"
#include "t.h"

static void ev(lg_timeline *t, uint64_t ts, int tid, int type, uint32_t lock, uint32_t arg,
               uint32_t stack)
{
    lg_tl_event e = {.ts = ts, .tid = tid, .type = (uint8_t)type, .lock = lock, .arg = arg,
                     .stack = stack};
    CHECK(lg_timeline_add_event(t, &e) == 0);
}

static void frame(lg_timeline *t, uint32_t id, const char *fn, const char *file, int line)
{
    uint64_t pc = 0x401000 + id * 16;
    CHECK(lg_timeline_add_stack(t, id, &pc, 1) == 0);
    lg_timeline_index(t);
    lg_tl_stack *s = (lg_tl_stack *)lg_timeline_stack(t, id);
    lg_frame *f = lg_stack_push(&s->sym);
    lg_frame_set(f, pc, "/usr/bin/prog", pc - 0x400000, fn, 4, file, line);
}

static void build(lg_timeline *t)
{
    lg_timeline_init(t);
    t->pid = 42;
    t->closed = true;
    lg_timeline_add_thread(t, 100, "slow");
    lg_timeline_add_thread(t, 200, "middle");
    lg_timeline_add_thread(t, 300, "last");
    lg_timeline_add_lock(t, 1, 0x1000, LG_LOCK_MUTEX, "convoy");
    lg_timeline_add_lock(t, 2, 0x2000, LG_LOCK_MUTEX, "queue");
    lg_timeline_add_lock(t, 3, 0x3000, LG_LOCK_CONDVAR, "nonempty");
    lg_timeline_add_lock(t, 4, 0x4000, LG_LOCK_MUTEX, "stuck");
    frame(t, 1, "slow_work", "prog.c", 10);
    frame(t, 2, "middle_work", "prog.c", 20);
    frame(t, 3, "last_work", "prog.c", 30);
    frame(t, 4, "slow_done", "prog.c", 11);
    frame(t, 5, "middle_done", "prog.c", 21);
    /* convoy on lock 1: 100 holds it 1000 ns; 200 then 300 queue behind it */
    ev(t, 0, 100, LG_EV_ACQUIRE, 1, 0, 1);
    ev(t, 100, 200, LG_EV_WAIT_BEGIN, 1, 100, 2);
    ev(t, 200, 300, LG_EV_WAIT_BEGIN, 1, 100, 3);
    ev(t, 1000, 100, LG_EV_RELEASE, 1, 0, 4);
    ev(t, 1010, 200, LG_EV_WAIT_END, 1, 0, 2);
    ev(t, 1500, 200, LG_EV_RELEASE, 1, 0, 5);
    ev(t, 1510, 300, LG_EV_WAIT_END, 1, 0, 3);
    ev(t, 1600, 300, LG_EV_RELEASE, 1, 0, 3);
    /* condition wait: 400 gives the queue lock to 500 while waiting */
    ev(t, 2000, 400, LG_EV_ACQUIRE, 2, 0, 0);
    ev(t, 2100, 400, LG_EV_COND_WAIT_BEGIN, 3, 2, 0);
    ev(t, 2200, 500, LG_EV_ACQUIRE, 2, 0, 0);
    ev(t, 2300, 500, LG_EV_RELEASE, 2, 0, 0);
    ev(t, 2400, 400, LG_EV_COND_WAIT_END, 3, 2, 0);
    ev(t, 2500, 400, LG_EV_RELEASE, 2, 0, 0);
    /* recursive lock 5 by 700; overlapping holds of 6 and 7 by 800 */
    ev(t, 2600, 700, LG_EV_ACQUIRE, 5, 0, 0);
    ev(t, 2610, 700, LG_EV_ACQUIRE, 5, 0, 0);
    ev(t, 2620, 700, LG_EV_RELEASE, 5, 0, 0);
    ev(t, 2630, 700, LG_EV_RELEASE, 5, 0, 0);
    ev(t, 2700, 800, LG_EV_ACQUIRE, 6, 0, 0);
    ev(t, 2710, 800, LG_EV_ACQUIRE, 7, 0, 0);
    ev(t, 2720, 800, LG_EV_RELEASE, 6, 0, 0);
    ev(t, 2730, 800, LG_EV_RELEASE, 7, 0, 0);
    ev(t, 2740, 800, LG_EV_TRYLOCK_FAIL, 6, 900, 0);
    /* 900 takes lock 4 and 600 waits for it until the trace ends */
    ev(t, 2900, 900, LG_EV_ACQUIRE, 4, 0, 0);
    ev(t, 3000, 600, LG_EV_WAIT_BEGIN, 4, 900, 0);
    t->end_ns = 4000;
    lg_timeline_index(t);
}

static char *render(int which, const lg_timeline *t, const lg_tl_analysis *a)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lg_tl_text_options o = {.max_waits = 10, .show_modules = 1};
    int rc = which == 0 ? lg_write_timeline_text(f, t, a, &o)
           : which == 1 ? lg_write_timeline_json(f, t, a, 0) : lg_write_chrome(f, t, a, NULL);
    CHECK(rc == 0);
    fclose(f);
    return buf;
}

int main(void)
{
    lg_timeline t;
    build(&t);
    lg_tl_analysis a;
    CHECK(lg_tl_analyze(&t, &a) == 0);
    CHECK_INT(a.end_ns, 4000);

    const lg_tl_lock_stats *l1 = lg_tl_lock_stats_of(&a, 1);
    CHECK(l1 != NULL);
    CHECK_INT(l1->acquisitions, 3);
    CHECK_INT(l1->contended, 2);
    CHECK_INT(l1->total_wait, 910 + 1310);
    CHECK_INT(l1->longest_wait, 1310);
    CHECK_INT(l1->ntop, 3);
    CHECK_INT(l1->top[0].tid, 100);
    CHECK_INT(l1->top[0].hold, 1000);
    CHECK_INT(l1->top[1].tid, 200);
    CHECK_INT(l1->top[1].hold, 490);
    CHECK_INT(l1->top[2].hold, 90);

    /* the longest wait is 300's, readied by 200's release, whose path leads back to 100 */
    CHECK(a.nlongest >= 3);
    const lg_tl_wait *w = &a.waits[a.longest[1]];
    CHECK_INT(w->tid, 600);             /* the never-ending wait: 3000..4000 */
    CHECK(!w->ended);
    CHECK_INT(w->end - w->begin, 1000);
    CHECK_INT(w->owner, 900);
    CHECK_INT(w->readier, 0);
    CHECK_INT(w->longest_holder, 900);
    CHECK_INT(w->longest_hold, 1000);
    w = &a.waits[a.longest[0]];
    CHECK_INT(w->tid, 300);
    CHECK_INT(w->end - w->begin, 1310);
    CHECK_INT(w->owner, 100);
    CHECK_INT(w->readier, 200);
    CHECK_INT(w->release_ts, 1500);
    CHECK_INT(w->release_stack, 5);
    CHECK_INT(w->stack, 3);
    CHECK_INT(w->longest_holder, 100);  /* 800 ns of the wait, against 200's 490 */
    CHECK_INT(w->longest_hold, 800);
    lg_tl_step path[8];
    size_t n = lg_tl_critical_path(&a, a.longest[0], path, 8);
    CHECK_INT(n, 3);
    CHECK_INT(path[0].tid, 300);
    CHECK_INT(path[1].tid, 200);
    CHECK(path[1].wait != LG_TL_NONE);
    CHECK_INT(path[1].release_ts - path[1].hold_begin, 490);
    CHECK_INT(path[2].tid, 100);
    CHECK(path[2].wait == LG_TL_NONE);
    CHECK_INT(path[2].release_ts - path[2].hold_begin, 1000);
    w = &a.waits[a.longest[2]];
    CHECK_INT(w->tid, 200);
    CHECK_INT(w->readier, 100);
    CHECK_INT(w->release_stack, 4);

    const lg_tl_thread_stats *s300 = lg_tl_thread_stats_of(&a, 300);
    CHECK_INT(s300->lock_wait, 1310);
    CHECK_INT(s300->acquisitions, 1);
    CHECK_INT(s300->contended, 1);
    CHECK_INT(s300->begin, 200);
    CHECK_INT(s300->end, 4000);

    /* the condition wait released the queue lock, re-took it without counting it */
    const lg_tl_thread_stats *s400 = lg_tl_thread_stats_of(&a, 400);
    CHECK_INT(s400->cond_wait, 300);
    CHECK_INT(s400->lock_wait, 0);
    const lg_tl_lock_stats *l2 = lg_tl_lock_stats_of(&a, 2);
    CHECK_INT(l2->acquisitions, 2);
    CHECK_INT(l2->contended, 0);
    CHECK_INT(l2->total_hold, 100 + 100 + 100);
    CHECK_INT(a.unmatched_releases, 0);

    const lg_tl_lock_stats *l5 = lg_tl_lock_stats_of(&a, 5);
    CHECK_INT(l5->acquisitions, 2);
    CHECK_INT(l5->total_hold, 30);
    CHECK_INT(lg_tl_lock_stats_of(&a, 6)->trylock_failed, 1);
    CHECK_INT(lg_tl_thread_stats_of(&a, 600)->lock_wait, 1000);
    CHECK_INT(lg_tl_lock_stats_of(&a, 4)->total_wait, 1000);

    char *text = render(0, &t, &a), *json = render(1, &t, &a), *chrome = render(2, &t, &a);
    t_golden("trace/golden/timeline.txt", text);
    t_golden("trace/golden/timeline-json.golden", json);
    t_golden("trace/golden/timeline-chrome.golden", chrome);
    free(text);
    free(json);
    free(chrome);

    /* The Chrome export's bound: by default the waits and the holds that made them (the
     * holder's when each began, the releaser's); --all-holds every hold; a cap keeps the
     * longest waits first and counts the rest. */
    {
        FILE *sink = fopen("/dev/null", "w");
        lg_tl_chrome_options co = {0};
        CHECK_INT(lg_write_chrome(sink, &t, &a, &co), 0);
        CHECK_INT(co.omitted_waits, 0);
        CHECK_INT(co.omitted_holds, (long long)a.nholds - 3);   /* 100's, 200's, 900's kept */
        lg_tl_chrome_options all = {.all_holds = true};
        CHECK_INT(lg_write_chrome(sink, &t, &a, &all), 0);
        CHECK_INT(all.omitted_waits + all.omitted_holds, 0);
        lg_tl_chrome_options capped = {.max_slices = 2};
        CHECK_INT(lg_write_chrome(sink, &t, &a, &capped), 0);
        CHECK_INT(capped.omitted_waits, (long long)a.nwaits - 1);   /* the longest one stays */
        fclose(sink);
    }

    lg_tl_analysis_free(&a);
    lg_timeline_free(&t);

    /* an empty timeline analyses and renders */
    lg_timeline e;
    lg_timeline_init(&e);
    CHECK(lg_tl_analyze(&e, &a) == 0);
    text = render(0, &e, &a);
    CHECK(strstr(text, "no thread waited") != NULL);
    free(text);
    free(render(2, &e, &a));
    lg_tl_analysis_free(&a);
    lg_timeline_free(&e);
    T_DONE();
}
