/* test-progress.c - the "is this process making progress" probe behind
 * `run --hang-timeout` (lg_progress_*): a child blocked in a futex-free wait (pause) makes no
 * progress; a spinning child does; a gone process gives no sample. Also lg_inspect_pid on the
 * paused child: one thread, blocked, no finding, exit status 0. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

#include "inspect/inspect.h"

static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int stalled(pid_t pid)
{
    lg_progress_sample *a = lg_progress_sample_take(pid);
    nap(300);
    lg_progress_sample *b = lg_progress_sample_take(pid);
    int rc = lg_progress_stalled(a, b);
    lg_progress_sample_free(a);
    lg_progress_sample_free(b);
    return rc;
}

int main(void)
{
    pid_t idle = fork();
    if (idle == 0) {
        alarm(30);   /* never outlive the test */
        for (;;)
            pause();
    }
    pid_t spin = fork();
    if (spin == 0) {
        alarm(30);
        for (volatile unsigned long i = 0;; i++)
            ;
    }
    nap(200);
    CHECK_INT(stalled(idle), 1);
    CHECK_INT(stalled(spin), 0);

    lg_report r;
    lg_report_init(&r);
    char err[256] = "";
    lg_inspect_stats st = {0};
    CHECK_INT(lg_inspect_pid(idle, NULL, &r, &st, err, sizeof err), 0);
    CHECK_INT((long long)r.nthreads, 1);
    CHECK_INT(lg_inspect_status(&r), 0);
    CHECK(r.verdict != NULL);
    CHECK(st.stopped_ms >= 0 && st.nthreads == 1);
    lg_report_free(&r);
    CHECK_INT(stalled(idle), 1);   /* still paused, unharmed */

    kill(idle, SIGKILL);
    kill(spin, SIGKILL);
    waitpid(idle, NULL, 0);
    waitpid(spin, NULL, 0);
    CHECK(lg_progress_sample_take(idle) == NULL);
    lg_report_init(&r);
    CHECK_INT(lg_inspect_pid(idle, NULL, &r, NULL, err, sizeof err), -1);
    CHECK(strstr(err, "no process with pid") != NULL);
    lg_report_free(&r);
    T_DONE();
}
