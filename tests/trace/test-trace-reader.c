/* test-trace-reader.c - the writer and reader together, under ASan/UBSan: a trace written by
 * two threads reads back exactly (events, order, names, stacks, modules); then every
 * truncation and every single-byte corruption of it must be reported as damage (never read
 * as a complete trace) and must never crash, hang, or leak. Also writes the seed corpus of the
 * fuzz target when given a directory (tests/trace/corpus was made this way). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"
#include "trace/reader.h"
#include "trace/trace.h"

#define PER_THREAD 1500

static void *emitter(void *arg)
{
    int me = (int)(intptr_t)arg;
    int tid = (int)syscall(SYS_gettid);
    lg_trace_thread(tid, me ? "second" : "first");
    uint64_t pcs[3] = {0x401000u + (uint64_t)me, 0x402000, 0x7f0000001000ull};
    uint32_t st = lg_trace_intern_stack(pcs, 3);
    for (int i = 0; i < PER_THREAD / 3; i++) {
        lg_trace_emit(LG_EV_WAIT_BEGIN, 1, LG_MODE_EXCLUSIVE, 77, st);
        lg_trace_emit(LG_EV_WAIT_END, 1, LG_MODE_EXCLUSIVE, 0, st);
        lg_trace_emit(LG_EV_RELEASE, 1, LG_MODE_SHARED, 0, 0);
    }
    /* what the runtime writes at thread exit without --all-events: two entries that add up */
    for (int k = 0; k < 2; k++) {
        lg_trace_count c = {.tid = tid, .mode = LG_MODE_SHARED, .lock = 1, .stack = st,
                            .acquisitions = 1000 + (uint64_t)me, .sampled = 3,
                            .sampled_ticks = 3000, .longest_ticks = 1500};
        lg_trace_counts(&c);
    }
    return NULL;
}

/* ---- stress: flush_all from another thread while threads emit (in a child process: the
 * writer records one trace per process) ---- */
#define STRESS_THREADS 3
#define STRESS_EVENTS 200000
static int stress_done;

/* Event i carries i as its lock id, and as its argument every fifth time (two slots, the
 * slow path); the others take the inline hot path. */
static uint32_t stress_arg(uint32_t i)
{
    return i % 5 == 0 ? i : 0;
}

static void *stress_emitter(void *arg)
{
    (void)arg;
    for (uint32_t i = 1; i <= STRESS_EVENTS; i++)
        lg_trace_emit(LG_EV_ACQUIRE, i, LG_MODE_EXCLUSIVE, stress_arg(i), 0);
    __atomic_add_fetch(&stress_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int stress(const char *path)
{
    char err[256];
    lg_trace_options opt = {.no_atexit = 1};
    if (lg_trace_open(path, &opt, err, sizeof err) < 0)
        return 10;
    pthread_t th[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_create(&th[i], NULL, stress_emitter, NULL);
    long flushes = 0;
    while (__atomic_load_n(&stress_done, __ATOMIC_ACQUIRE) < STRESS_THREADS) {
        lg_trace_flush_all();
        flushes++;
    }
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_join(th[i], NULL);
    lg_trace_close();
    lg_timeline t;
    lg_timeline_init(&t);
    lg_trace_status st;
    int rc = lg_trace_read_file(path, &t, &st);
    unlink(path);
    if (rc != 0 || t.nevents != (size_t)STRESS_THREADS * STRESS_EVENTS) {
        fprintf(stderr, "stress: rc %d, %zu events: %s\n", rc, t.nevents, st.error);
        return 11;
    }
    /* every thread's sequence exactly once, in order: no event lost or written twice */
    int tids[STRESS_THREADS] = {0};
    uint32_t next[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++)
        next[i] = 1;
    for (size_t k = 0; k < t.nevents; k++) {
        int i = 0;
        while (i < STRESS_THREADS && tids[i] && tids[i] != t.events[k].tid)
            i++;
        if (i == STRESS_THREADS)
            return 12;
        tids[i] = t.events[k].tid;
        uint32_t due = next[i]++;
        if (t.events[k].lock != due || t.events[k].arg != stress_arg(due)) {
            fprintf(stderr, "stress: thread %d: event %u (arg %u) where %u was due\n", tids[i],
                    t.events[k].lock, t.events[k].arg, due);
            return 13;
        }
    }
    lg_timeline_free(&t);
    fprintf(stderr, "stress: %d x %d events, %ld concurrent flushes: all there, in order\n",
            STRESS_THREADS, STRESS_EVENTS, flushes);
    return 0;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n ? *n : 1);
    if (b && fread(b, 1, *n, f) != *n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static int read_buf(const unsigned char *b, size_t n, size_t *events)
{
    lg_timeline t;
    lg_timeline_init(&t);
    lg_trace_status st;
    int rc = lg_trace_read(b, n, &t, &st);
    *events = t.nevents;
    if (rc != 0 && !st.error[0])
        rc = 99;   /* damage must always come with a reason */
    lg_timeline_free(&t);
    return rc;
}

int main(int argc, char **argv)
{
    char spath[] = "/tmp/lg-trace-stress-XXXXXX";
    int sfd = mkstemp(spath);
    CHECK(sfd >= 0);
    close(sfd);
    pid_t child = fork();
    if (child == 0)
        _exit(stress(spath));
    int status = -1;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);

    char path[] = "/tmp/lg-trace-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    char err[256] = "";
    lg_trace_options opt = {.no_atexit = 1, .counted = 1};
    CHECK(lg_trace_open(path, &opt, err, sizeof err) == 0);
    CHECK(lg_trace_on);
    lg_trace_lock(1, 0x1234, LG_LOCK_RWLOCK, "table");
    pthread_t a, b;
    pthread_create(&a, NULL, emitter, (void *)0);
    pthread_create(&b, NULL, emitter, (void *)1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    lg_trace_close();
    CHECK(!lg_trace_on);
    lg_trace_stats ws;
    lg_trace_get_stats(&ws);
    CHECK_INT(ws.events, 2 * PER_THREAD);
    CHECK_INT(ws.dropped, 0);

    size_t n = 0;
    unsigned char *buf = slurp(path, &n);
    CHECK(buf != NULL);
    unlink(path);
    CHECK_INT(ws.bytes, n);

    lg_timeline t;
    lg_timeline_init(&t);
    lg_trace_status st;
    CHECK_INT(lg_trace_read(buf, n, &t, &st), 0);
    CHECK_STR(st.error, "");
    CHECK(t.closed);
    CHECK(t.counted);
    CHECK_INT(t.pid, getpid());
    CHECK_INT(t.ncounts, 4);
    uint64_t acq = 0, sampled = 0, longest = 0;
    for (size_t i = 0; i < t.ncounts; i++) {
        const lg_tl_count *c = &t.counts[i];
        acq += c->acquisitions;
        sampled += c->sampled;
        CHECK(c->lock == 1 && c->mode == LG_MODE_SHARED && c->stack >= 1);
        CHECK(c->sampled_hold > 0 && c->longest_sampled > 0);   /* ticks converted to ns */
        longest = c->longest_sampled > longest ? c->longest_sampled : longest;
    }
    CHECK_INT(acq, 2 * 1000 + 2 * 1001);
    CHECK_INT(sampled, 12);
    CHECK(longest < 1000000);   /* 1500 ticks is well under a millisecond */
    CHECK_INT(t.nevents, 2 * PER_THREAD);
    CHECK_INT(t.nthreads, 2);
    const lg_tl_lock *l = lg_timeline_lock(&t, 1);
    CHECK(l && l->type == LG_LOCK_RWLOCK && l->address == 0x1234);
    CHECK_STR(l ? l->name : NULL, "table");
    CHECK_INT(t.nstacks, 2);
    const lg_tl_stack *s = &t.stacks[0];
    CHECK(s->n == 3 && s->pcs[1] == 0x402000 && s->pcs[2] == 0x7f0000001000ull);
    CHECK(t.nmodules >= 2);   /* this program and libc at least */
    int with_build_id = 0;
    for (size_t i = 0; i < t.nmodules; i++)
        with_build_id += t.modules[i].build_id_len == 20;
    CHECK(with_build_id >= 1);
    /* time order overall, and each thread's own order kept: begin, end, release */
    int ordered = 1, shared = 0;
    for (size_t i = 1; i < t.nevents; i++)
        ordered &= t.events[i].ts >= t.events[i - 1].ts;
    for (size_t i = 0; i < t.nevents; i++)
        shared += t.events[i].type == LG_EV_RELEASE && t.events[i].mode == LG_MODE_SHARED;
    CHECK(ordered);
    CHECK_INT(shared, 2 * PER_THREAD / 3);
    for (size_t i = 0; i < t.nthreads; i++) {
        int tid = t.threads[i].tid, expect = LG_EV_WAIT_BEGIN, ok = 1;
        for (size_t k = 0; k < t.nevents; k++) {
            if (t.events[k].tid != tid)
                continue;
            ok &= t.events[k].type == expect;
            expect = expect == LG_EV_WAIT_BEGIN ? LG_EV_WAIT_END
                   : expect == LG_EV_WAIT_END ? LG_EV_RELEASE : LG_EV_WAIT_BEGIN;
        }
        CHECK(ok);
    }
    lg_timeline_free(&t);

    if (argc == 2) {   /* write the fuzz seed corpus */
        mkdir(argv[1], 0755);
        char p[4096];
        snprintf(p, sizeof p, "%s/two-threads.trace", argv[1]);
        FILE *f = fopen(p, "wb");
        if (f) {
            fwrite(buf, 1, n < 6000 ? n : 6000, f);
            fclose(f);
        }
    }

    /* Every truncation: never complete (except at the very end), never a crash. */
    int trunc_bad = 0;
    size_t prev_events = 0;
    for (size_t cut = 0; cut < n; cut += cut < 4096 ? 1 : 13) {
        size_t ev = 0;
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        int rc = read_buf(copy, cut, &ev);
        free(copy);
        /* a cut at a chunk boundary is a valid trace without its end record */
        if (rc == 99 || ev > 2 * PER_THREAD || ev < prev_events)
            trunc_bad++;
        prev_events = ev;
    }
    CHECK_INT(trunc_bad, 0);

    /* Every single-byte corruption is noticed (checksums, reserved bytes, magic). */
    int undetected = 0, unexplained = 0;
    for (size_t i = 0; i < n; i += i < 200 ? 1 : 7) {
        size_t ev = 0;
        unsigned char saved = buf[i];
        buf[i] ^= (unsigned char)(1u << (i % 8));
        int rc = read_buf(buf, n, &ev);
        buf[i] = saved;
        undetected += rc == 0;
        unexplained += rc == 99;
    }
    CHECK_INT(undetected, 0);
    CHECK_INT(unexplained, 0);
    free(buf);
    T_DONE();
}
