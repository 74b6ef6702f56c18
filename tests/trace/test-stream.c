/* test-stream.c - the streaming report equals the in-memory one, exactly. A trace of every
 * event is written by four threads that contend on shared locks (waits with their owners,
 * failed waits, trylock failures, shared holds, recursive and condition waits, thousands of
 * other locks), then read two ways:
 *   in memory: lg_trace_read_file + lg_tl_analyze (every event and hold kept);
 *   streamed:  lg_trace_stream_open/next + lg_tl_online_* with bounded holds, compacting
 *              every 64 holds so a small trace is compacted hundreds of times.
 * The text, JSON and Chrome outputs (by default, with a small cap, with --all-holds inside the
 * kept first holds) must be byte for byte the same, the streamed analysis must really have
 * dropped holds, and every truncation point tried gives the same status, message and output.
 * Given a path (a trace from `lockgraph record --all-events`), it compares that file too. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/timeline.h"
#include "report/timeline-report.h"
#include "t.h"
#include "trace/reader.h"
#include "trace/trace.h"

#define THREADS 4
#define ROUNDS 6000
#define KEEP_FIRST 300   /* the streamed analysis's first holds kept (the --all-holds cap) */

static int tids[THREADS];
static int ready;

static void spin(unsigned n)
{
    for (volatile unsigned i = 0; i < n; i++)
        ;
}

static void *worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    tids[me] = (int)syscall(SYS_gettid);
    lg_trace_thread(tids[me], "worker");
    __atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < THREADS)
        ;
    uint64_t pcs[2] = {0x401000u + (uint64_t)me, 0x402000};
    uint32_t st = lg_trace_intern_stack(pcs, 2);
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(me + 1);
    for (int r = 0; r < ROUNDS; r++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t hot = 1 + (uint32_t)(x % 5), cold = 100 + (uint32_t)(x >> 8) % 3000;
        int owner = tids[(me + 1 + (int)((x >> 20) % (THREADS - 1))) % THREADS];
        lg_trace_emit(LG_EV_ACQUIRE, cold, LG_MODE_EXCLUSIVE, 0, st);
        if (r % 3 == 0) {   /* a wait for a hot lock, the others' holds inside it */
            lg_trace_emit(LG_EV_WAIT_BEGIN, hot, LG_MODE_EXCLUSIVE, (uint32_t)owner, st);
            spin(200 + (unsigned)(x % 2000));
            if (r % 29 == 0) {
                lg_trace_emit(LG_EV_WAIT_FAIL, hot, LG_MODE_EXCLUSIVE, 0, st);
            } else {
                lg_trace_emit(LG_EV_WAIT_END, hot, LG_MODE_EXCLUSIVE, 0, st);
                if (r % 7 == 0)   /* recursive */
                    lg_trace_emit(LG_EV_ACQUIRE, hot, LG_MODE_EXCLUSIVE, 0, st);
                spin(100);
                if (r % 7 == 0)
                    lg_trace_emit(LG_EV_RELEASE, hot, LG_MODE_EXCLUSIVE, 0, 0);
                lg_trace_emit(LG_EV_RELEASE, hot, LG_MODE_EXCLUSIVE, 0, st);
            }
        } else {
            lg_trace_emit(LG_EV_ACQUIRE, hot, LG_MODE_EXCLUSIVE, 0, st);
            spin((unsigned)(x % 300));
            lg_trace_emit(LG_EV_RELEASE, hot, LG_MODE_EXCLUSIVE, 0, 0);
        }
        if (r % 5 == 0) {   /* a shared lock, held long by several at once */
            lg_trace_emit(LG_EV_ACQUIRE, 50, LG_MODE_SHARED, 0, st);
            spin(500);
            lg_trace_emit(LG_EV_RELEASE, 50, LG_MODE_SHARED, 0, 0);
        }
        if (r % 11 == 0)
            lg_trace_emit(LG_EV_TRYLOCK_FAIL, hot, LG_MODE_EXCLUSIVE, (uint32_t)owner, st);
        if (r % 13 == 0) {   /* a condition wait on 60 with mutex 61 */
            lg_trace_emit(LG_EV_ACQUIRE, 61, LG_MODE_EXCLUSIVE, 0, st);
            lg_trace_emit(LG_EV_COND_WAIT_BEGIN, 60, LG_MODE_EXCLUSIVE, 61, st);
            spin(300);
            lg_trace_emit(LG_EV_COND_WAIT_END, 60, LG_MODE_EXCLUSIVE, 61, st);
            lg_trace_emit(LG_EV_RELEASE, 61, LG_MODE_EXCLUSIVE, 0, 0);
        }
        lg_trace_emit(LG_EV_RELEASE, cold, LG_MODE_EXCLUSIVE, 0, 0);
    }
    if (me == 0)   /* a wait still open at the end, and a hold never released */
        lg_trace_emit(LG_EV_WAIT_BEGIN, 2, LG_MODE_EXCLUSIVE, (uint32_t)tids[1], st);
    if (me == 1)
        lg_trace_emit(LG_EV_ACQUIRE, 3, LG_MODE_EXCLUSIVE, 0, st);
    return NULL;
}

static int write_trace(const char *path)
{
    char err[256];
    lg_trace_options opt = {.no_atexit = 1};
    if (lg_trace_open(path, &opt, err, sizeof err) < 0)
        return 10;
    lg_trace_lock(1, 0x1000, LG_LOCK_MUTEX, "hot one");
    lg_trace_lock(50, 0x5000, LG_LOCK_RWLOCK, "table");
    lg_trace_lock(60, 0x6000, LG_LOCK_CONDVAR, NULL);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    lg_trace_close();
    return 0;
}

/* Every output of one analysis, concatenated. */
static char *outputs(const lg_timeline *t, const lg_tl_analysis *a)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    lg_tl_text_options to = {.max_waits = a->nlongest ? a->nlongest : 1, .all_rows = true};
    lg_write_timeline_text(f, t, a, &to);
    lg_write_timeline_json(f, t, a, 0);
    lg_tl_chrome_options c1 = {0}, c2 = {.max_slices = 40},
                         c3 = {.all_holds = true, .max_slices = KEEP_FIRST};
    lg_write_chrome(f, t, a, &c1);
    lg_write_chrome(f, t, a, &c2);
    lg_write_chrome(f, t, a, &c3);
    fprintf(f, "omitted %zu %zu / %zu %zu / %zu %zu\n", c1.omitted_waits, c1.omitted_holds,
            c2.omitted_waits, c2.omitted_holds, c3.omitted_waits, c3.omitted_holds);
    fclose(f);
    return buf;
}

/* Both ways; the number of holds each kept in *held_mem, *held_stream. */
static void compare(const char *path, size_t *held_mem, size_t *held_stream, size_t *waits)
{
    lg_timeline t1, t2;
    lg_timeline_init(&t1);
    lg_timeline_init(&t2);
    lg_trace_status s1, s2;
    int r1 = lg_trace_read_file(path, &t1, &s1);
    lg_trace_stream *ts = NULL;
    int r2 = lg_trace_stream_open(path, &t2, &s2, &ts);
    CHECK_INT(r2, r1);
    CHECK_STR(s2.error, s1.error);
    CHECK_INT(s2.offset, s1.offset);
    CHECK_INT(s2.events, s1.events);
    CHECK_INT(s2.chunks, s1.chunks);
    CHECK_INT(t2.end_ns, t1.end_ns);
    CHECK_INT(t2.nevents, 0);
    if (r1 < 0 || r2 < 0) {
        lg_trace_stream_close(ts);
        lg_timeline_free(&t1);
        lg_timeline_free(&t2);
        return;
    }
    /* the same events in the same order */
    lg_tl_event e;
    size_t k = 0, same = 0;
    const int *tids_s;
    const uint32_t *locks_s;
    size_t nt, nl;
    lg_trace_stream_ids(ts, &tids_s, &nt, &locks_s, &nl);
    lg_tl_online_options oo = {.retain = true, .keep_first = KEEP_FIRST, .compact_every = 64};
    lg_tl_online *on = lg_tl_online_begin(&t2, tids_s, nt, locks_s, nl, &oo);
    CHECK(on != NULL);
    int nr;
    while ((nr = lg_trace_stream_next(ts, &e)) > 0) {
        const lg_tl_event *m = k < t1.nevents ? &t1.events[k] : NULL;
        if (m && m->ts == e.ts && m->tid == e.tid && m->lock == e.lock && m->stack == e.stack
            && m->arg == e.arg && m->type == e.type && m->mode == e.mode)
            same++;
        k++;
        CHECK(lg_tl_online_event(on, &e) == 0);
    }
    CHECK_INT(nr, 0);
    CHECK_INT(k, t1.nevents);
    CHECK_INT(same, t1.nevents);
    lg_trace_stream_close(ts);
    lg_tl_analysis a1, a2;
    CHECK(lg_tl_analyze(&t1, &a1) == 0);
    CHECK(lg_tl_online_finish(on, &a2) == 0);
    CHECK_INT(a2.nholds_seen, a1.nholds);
    *held_mem = a1.nholds;
    *held_stream = a2.nholds;
    *waits = a1.nwaits;
    char *o1 = outputs(&t1, &a1), *o2 = outputs(&t2, &a2);
    CHECK(o1 && o2);
    if (o1 && o2 && strcmp(o1, o2) != 0) {
        size_t i = 0;
        while (o1[i] && o1[i] == o2[i])
            i++;
        size_t from = i > 200 ? i - 200 : 0;
        fprintf(stderr, "%s: outputs differ at byte %zu:\n--- in memory:\n%.400s\n--- streamed:\n"
                "%.400s\n", path, i, o1 + from, o2 + from);
        CHECK(!"the same output");
        if (getenv("LG_STREAM_DUMP")) {
            FILE *d1 = fopen("/tmp/lg-stream-mem.out", "w"), *d2 = fopen("/tmp/lg-stream-str.out", "w");
            if (d1 && d2) {
                fputs(o1, d1);
                fputs(o2, d2);
            }
            if (d1)
                fclose(d1);
            if (d2)
                fclose(d2);
        }
    }
    free(o1);
    free(o2);
    lg_tl_analysis_free(&a1);
    lg_tl_analysis_free(&a2);
    lg_timeline_free(&t1);
    lg_timeline_free(&t2);
}

int main(int argc, char **argv)
{
    char path[] = "/tmp/lg-trace-stream-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    pid_t child = fork();   /* the writer records one trace per process */
    if (child == 0)
        _exit(write_trace(path));
    int status = -1;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    size_t hm = 0, hs = 0, w = 0;
    compare(path, &hm, &hs, &w);
    fprintf(stderr, "synthetic: %zu holds, %zu kept by the streamed analysis, %zu waits\n", hm,
            hs, w);
    CHECK(w > ROUNDS);          /* the trace has the waits it was written with */
    CHECK(hs > 0 && hs < hm / 2);   /* and holds were really dropped */

    /* damaged: cut short at a few places (mid-chunk, mid-header): same status and output */
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    long cuts[] = {size / 3, size / 2 + 7, size - 30, 70};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        char cut[64];
        snprintf(cut, sizeof cut, "%s.cut", path);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "head -c %ld '%s' > '%s'", cuts[i], path, cut);
        CHECK(system(cmd) == 0);
        compare(cut, &hm, &hs, &w);
        unlink(cut);
    }
    unlink(path);
    for (int i = 1; i < argc; i++) {
        compare(argv[i], &hm, &hs, &w);
        fprintf(stderr, "%s: %zu holds, %zu kept, %zu waits\n", argv[i], hm, hs, w);
    }
    fprintf(stderr, "%d checks, %d failures\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}
