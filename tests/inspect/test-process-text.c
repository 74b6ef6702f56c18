/* test-process-text.c - golden tests for the whole-process layout of attach/core (verdict,
 * contended locks, wait chains, annotated and grouped stacks, last line), and the JSON and
 * DOT forms of the same fixed report. */
#include "t.h"

#include "model/model.h"
#include "report/report.h"

static void frame(lg_thread *t, uint64_t pc, const char *fn, const char *file, int line)
{
    lg_frame *f = lg_stack_push(&t->stack);
    lg_frame_set(f, pc, "/usr/bin/app", pc - 0x400000, fn, 0, file, line);
}

static void build(lg_report *r)
{
    lg_report_init(r);
    char *argv[] = {"/usr/bin/app"};
    lg_report_set_command(r, 1, argv);
    r->pid = 100;
    lg_report_set_verdict(r, "process 100 (app), 6 threads: 1 deadlock; the process cannot "
                          "make progress; stopped for 1.0 ms; glibc 2.36");
    int join = lg_report_add_lock(r, 0x7f0000000990, LG_LOCK_THREAD, "101", NULL);
    int a = lg_report_add_lock(r, 0x404040, LG_LOCK_MUTEX, "mutex_a", "normal");
    int b = lg_report_add_lock(r, 0x404080, LG_LOCK_RWLOCK, "rw_b", NULL);
    int cv = lg_report_add_lock(r, 0x4040c0, LG_LOCK_CONDVAR, "cond_idle", NULL);
    r->locks[join].owner = 101;
    r->locks[a].owner = 102;
    r->locks[b].owner = 101;
    r->locks[cv].lock_flags = LG_LOCK_F_NO_OWNER;

    lg_thread *t = lg_report_add_thread(r, 100, "app");
    lg_thread_set(t, "blocked", "join thread 101 \"mover\"");
    t->blocked_ms = 2500;
    t->wait_lock = join + 1;
    frame(t, 0x7f0000001000, "__pthread_clockjoin_ex", NULL, 0);
    frame(t, 0x401000, "main", "app.c", 20);
    t->wait_frame = 2;
    t = lg_report_add_thread(r, 101, "mover");
    lg_thread_set(t, "blocked", "lock mutex mutex_a (normal), held by thread 102 \"deleter\"");
    t->blocked_ms = 2400;
    t->wait_lock = a + 1;
    frame(t, 0x7f0000002000, "__lll_lock_wait", NULL, 0);
    frame(t, 0x401100, "move", "app.c", 40);
    frame(t, 0x401200, "start", "app.c", 50);
    t->wait_frame = 2;
    t = lg_report_add_thread(r, 102, "deleter");
    lg_thread_set(t, "blocked", "write-lock rwlock rw_b, held by thread 101 \"mover\"");
    t->blocked_ms = 2400;
    t->wait_lock = b + 1;
    t->wait_mode = LG_MODE_EXCLUSIVE;
    frame(t, 0x7f0000003000, "__pthread_rwlock_wrlock_full64", NULL, 0);
    frame(t, 0x401300, "delete", "app.c", 60);
    t->wait_frame = 2;
    for (int i = 0; i < 3; i++) {
        t = lg_report_add_thread(r, 103 + i, "idle");
        lg_thread_set(t, "blocked", "wait on condvar cond_idle, waits for a signal from any "
                      "thread");
        t->blocked_ms = 9000;
        t->wait_lock = cv + 1;
        frame(t, 0x7f0000004000, "pthread_cond_wait", NULL, 0);
        frame(t, 0x401400, "idle_loop", "app.c", 70);
        t->wait_frame = 2;
    }

    lg_finding *f = lg_report_add_finding(r, LG_KIND_DEADLOCK);
    lg_finding_set_summary(f, "thread 101 \"mover\" and thread 102 \"deleter\" wait for each "
                           "other (mutex_a, rw_b)");
    int fa = lg_finding_add_lock(f, 0x404040, LG_LOCK_MUTEX, "mutex_a", "normal");
    int fb = lg_finding_add_lock(f, 0x404080, LG_LOCK_RWLOCK, "rw_b", NULL);
    f->locks[fa].owner = 102;
    f->locks[fb].owner = 101;
    lg_edge *e = lg_finding_add_edge(f, 101, fb, LG_MODE_EXCLUSIVE, fa, LG_MODE_EXCLUSIVE,
                                     LG_EDGE_WAITING);
    lg_stack_copy(&e->stack, &(lg_stack){r->threads[1].stack.frames + 1, 2});
    e = lg_finding_add_edge(f, 102, fa, LG_MODE_EXCLUSIVE, fb, LG_MODE_EXCLUSIVE,
                            LG_EDGE_WAITING);
    lg_stack_copy(&e->stack, &(lg_stack){r->threads[2].stack.frames + 1, 1});
    lg_thread_set(lg_finding_add_thread(f, 101, "mover"), "blocked", NULL);
    lg_thread_set(lg_finding_add_thread(f, 102, "deleter"), "blocked", NULL);
    lg_finding_set_fix(f, "take mutex_a, rw_b in one order in every thread");
    lg_report_add_note(r, "glibc does not record read owners");
}

static char *render(const lg_report *r, int kind)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lg_text_options o = LG_TEXT_DEFAULTS;
    int rc = kind == 0 ? lg_write_text(f, r, &o)
           : kind == 1 ? lg_write_json(f, r, "test") : lg_write_dot(f, r);
    CHECK(rc == 0);
    fclose(f);
    return buf;
}

int main(void)
{
    lg_report r;
    build(&r);
    static const char *const golden[] = {"inspect/golden/process.txt",
                                         "inspect/golden/process.json",
                                         "inspect/golden/process.dot"};
    for (int k = 0; k < 3; k++) {
        char *s = render(&r, k);
        t_golden(golden[k], s);
        free(s);
    }
    char *s = render(&r, 0);
    CHECK(strstr(s, "lockgraph: process 100 (app)") == s);   /* the verdict comes first */
    CHECK(strstr(s, "3 threads with this stack: 103 104 105") != NULL);
    CHECK(strstr(s, "[3 threads like thread 103 \"idle\"] -> [condvar cond_idle]") != NULL);
    CHECK(strstr(s, "!!!Deadlock!!!") != NULL);
    CHECK(strcmp(s + strlen(s) - 18, "Found 1 deadlock.\n") == 0);
    free(s);
    lg_report_free(&r);
    T_DONE();
}
