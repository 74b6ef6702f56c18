/* test-sched.c - the kernel's view without root: tracefs lines parsed (switch, wake-up from a
 * task and from an interrupt, headers), SCHED chunks appended to a real trace and read back,
 * and the analysis's on-CPU / runnable time and the waker of a wait, on known numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/timeline.h"
#include "t.h"
#include "util/xalloc.h"
#include "trace/reader.h"
#include "trace/sched.h"
#include "trace/trace.h"

static void parse(void)
{
    lg_tl_sched r;
    CHECK_INT(lg_sched_parse_line("# tracer: nop\n", &r), 0);
    CHECK_INT(lg_sched_parse_line("           sleep-12332   [001] d..2.  4764.148961: sched_switch: "
                                  "prev_comm=sleep prev_pid=12332 prev_prio=120 prev_state=S ==> "
                                  "next_comm=swapper/1 next_pid=0 next_prio=120\n", &r), 1);
    CHECK_INT(r.kind, LG_TL_SCHED_SWITCH);
    CHECK(r.ts == 4764148961000ull);
    CHECK_INT(r.a, 12332);
    CHECK_INT(r.b, 0);
    CHECK_INT(r.state, 'S');
    /* a comm with a dash and spaces; preempted (R+) */
    CHECK_INT(lg_sched_parse_line("  my-prog x-7 [000] d..2.  1.000002: sched_switch: prev_comm=my-prog x "
                                  "prev_pid=7 prev_prio=120 prev_state=R+ ==> next_comm=b next_pid=8 "
                                  "next_prio=120\n", &r), 1);
    CHECK_INT(r.a, 7);
    CHECK_INT(r.b, 8);
    CHECK_INT(r.state, 'R');
    CHECK(r.ts == 1000002000ull);
    CHECK_INT(lg_sched_parse_line("          <idle>-0       [001] d.h3.  4764.348946: sched_waking: "
                                  "comm=sleep pid=12332 prio=120 target_cpu=001\n", &r), 1);
    CHECK_INT(r.kind, LG_TL_SCHED_WAKING);
    CHECK_INT(r.a, 0);
    CHECK_INT(r.b, 12332);
    /* a task's wake-up in an interrupt is the interrupt's, not the task's */
    CHECK_INT(lg_sched_parse_line("           busy-55    [000] d.s4.  10.000001: sched_waking: comm=w "
                                  "pid=66 prio=120 target_cpu=000\n", &r), 1);
    CHECK_INT(r.a, 0);
    CHECK_INT(lg_sched_parse_line("           sleep-12332   [001] dN.5.  4764.349218: sched_waking: "
                                  "comm=bash pid=12331 prio=120 target_cpu=000\n", &r), 1);
    CHECK_INT(r.a, 12332);
    CHECK_INT(r.b, 12331);
    CHECK_INT(lg_sched_parse_line("   x-1 [000] ....  1.5: sched_wakeup: comm=a pid=2\n", &r), 0);
    CHECK_INT(lg_sched_parse_line("garbage: sched_switch: \n", &r), 0);
}

/* A trace with one wait of thread 101 on lock 1 held by 102, then the kernel's events:
 * 101 runs, blocks, is woken by 102, waits 2 ms for a CPU, runs. */
static void round_trip(void)
{
    char path[] = "/tmp/lg-test-sched-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    char err[256];
    CHECK_INT(lg_trace_open(path, NULL, err, sizeof err), 0);
    lg_trace_thread(101, "waiter");
    lg_trace_lock(1, 0x1000, LG_LOCK_MUTEX, "m");
    lg_trace_close();
    lg_timeline t0;
    lg_timeline_init(&t0);
    lg_trace_status st;
    CHECK_INT(lg_trace_read_file(path, &t0, &st), 0);
    CHECK(!t0.has_sched);
    lg_timeline_free(&t0);

    /* the trace's start, from its header: the records are CLOCK_MONOTONIC ns */
    FILE *f = fopen(path, "rb");
    unsigned char h[64];
    CHECK(f && fread(h, 1, 64, f) == 64);
    fclose(f);
    uint64_t start;
    memcpy(&start, h + 24, 8);
    const uint64_t ms = 1000000;
    lg_tl_sched recs[] = {
        {start + 1 * ms, LG_TL_SCHED_SWITCH, 'R', 0, 101, 0},    /* 101 on */
        {start + 3 * ms, LG_TL_SCHED_SWITCH, 'S', 101, 102, 0},  /* 101 blocks, 102 on */
        {start + 9 * ms, LG_TL_SCHED_WAKING, 0, 102, 101, 0},    /* 102 wakes 101 */
        {start + 11 * ms, LG_TL_SCHED_SWITCH, 'S', 102, 101, 0}, /* 101 on after 2 ms ready */
        {start + 12 * ms, LG_TL_SCHED_SWITCH, 'S', 101, 0, 0},
    };
    CHECK_INT(lg_sched_append(path, recs, 5, 3, err, sizeof err), 0);

    lg_timeline t;
    lg_timeline_init(&t);
    CHECK_INT(lg_trace_read_file(path, &t, &st), 0);
    CHECK(t.has_sched);
    CHECK_INT(t.nsched, 5);
    CHECK(t.nsched == 5 && t.sched[0].ts == 1 * ms && t.sched[4].ts == 12 * ms);
    CHECK(t.nsched == 5 && t.sched[2].kind == LG_TL_SCHED_WAKING && t.sched[2].a == 102);
    bool noted = false;
    for (size_t i = 0; i < t.nnotes; i++)
        noted |= strstr(t.notes[i], "lost 3 events") != NULL;
    CHECK(noted);

    /* the analysis, on events added by hand: 101 waits for lock 1 from 3 ms to 11.5 ms */
    lg_tl_event ev[] = {
        {.ts = 0, .tid = 101, .type = LG_EV_THREAD_START},
        {.ts = 0, .tid = 102, .lock = 1, .type = LG_EV_ACQUIRE},
        {.ts = 3 * ms, .tid = 101, .lock = 1, .type = LG_EV_WAIT_BEGIN, .arg = 102},
        {.ts = 9 * ms - 1000, .tid = 102, .lock = 1, .type = LG_EV_RELEASE},
        {.ts = 11 * ms + 500000, .tid = 101, .lock = 1, .type = LG_EV_WAIT_END},
        {.ts = 13 * ms, .tid = 101, .lock = 1, .type = LG_EV_RELEASE},
    };
    for (size_t i = 0; i < sizeof ev / sizeof *ev; i++)
        CHECK_INT(lg_timeline_add_event(&t, &ev[i]), 0);
    t.end_ns = 13 * ms;
    lg_tl_analysis a;
    CHECK_INT(lg_tl_analyze(&t, &a), 0);
    CHECK(a.sched);
    const lg_tl_thread_stats *w = lg_tl_thread_stats_of(&a, 101);
    CHECK(w != NULL);
    if (w) {
        CHECK(w->on_cpu == 3 * ms);   /* 1-3 and 11-12 */
        CHECK(w->runnable == 2 * ms); /* 9-11 */
    }
    CHECK_INT(a.nwaits, 1);
    if (a.nwaits == 1) {
        CHECK(a.waits[0].woken);
        CHECK_INT(a.waits[0].woken_by, 102);
        CHECK(a.waits[0].woken_ts == 9 * ms);
        CHECK_INT(a.waits[0].readier, 102);
    }
    lg_tl_analysis_free(&a);
    lg_timeline_free(&t);

    /* Switch-ins missing from the kernel's trace: 201 blocks at 1 ms; its next switch-in is
     * lost; at 5 ms it wakes 202 (so it is on a CPU), then runs without a switch until 9 ms.
     * It ran 0-1 and 5-9 ms at least: the wake-up it did is the evidence. */
    lg_timeline_init(&t);
    lg_tl_event ev2[] = {
        {.ts = 0, .tid = 201, .type = LG_EV_THREAD_START},
        {.ts = 0, .tid = 202, .type = LG_EV_THREAD_START},
    };
    for (size_t i = 0; i < sizeof ev2 / sizeof *ev2; i++)
        CHECK_INT(lg_timeline_add_event(&t, &ev2[i]), 0);
    lg_tl_sched lost[] = {
        {0, LG_TL_SCHED_SWITCH, 'R', 0, 201, 0},
        {1 * ms, LG_TL_SCHED_SWITCH, 'D', 201, 0, 1},
        {5 * ms, LG_TL_SCHED_WAKING, 0, 201, 202, 2},
        {9 * ms, LG_TL_SCHED_SWITCH, 'S', 201, 0, 3},
    };
    for (size_t i = 0; i < sizeof lost / sizeof *lost; i++)
        CHECK_INT(LG_APPEND(t.sched, t.nsched, &lost[i]), 0);
    t.has_sched = true;
    t.end_ns = 10 * ms;
    CHECK_INT(lg_tl_analyze(&t, &a), 0);
    w = lg_tl_thread_stats_of(&a, 201);
    CHECK(w != NULL);
    if (w)
        CHECK_INT(w->on_cpu, 5 * ms);
    CHECK_INT(a.sched_inferred, 1);
    lg_tl_analysis_free(&a);
    lg_timeline_free(&t);

    /* a damaged SCHED chunk adds nothing and is reported */
    f = fopen(path, "r+b");
    CHECK(f != NULL);
    fseek(f, -3, SEEK_END);
    fputc(0x7f, f);
    fclose(f);
    lg_timeline_init(&t);
    CHECK_INT(lg_trace_read_file(path, &t, &st), 1);
    CHECK_INT(t.nsched, 0);
    lg_timeline_free(&t);
    CHECK(lg_sched_append("/nonexistent/x", recs, 1, 0, err, sizeof err) < 0);
    CHECK(strstr(err, "cannot add the scheduler events to '/nonexistent/x'") != NULL);
    unlink(path);
}

int main(void)
{
    parse();
    round_trip();
    printf("%d checks, %d failed\n", t_checks, t_failures);
    return t_failures != 0;
}
