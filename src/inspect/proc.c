/* proc.c - what /proc tells about a live process without stopping it: its threads, their
 * names, states, the system call each is blocked in with its arguments, how long each has
 * been blocked (sched exec_start, which a ptrace attach would reset, so read first), the
 * file behind a descriptor, and the mapped libc / lockgraph runtime; for `run --hang-timeout`
 * the progress samples and the process tree.
 * Not here: stopping threads (ptrace.c), reading memory (memory.c), the insp_target shape's
 * own helpers (target.c). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "../util/xalloc.h"

int proc_exists(int pid)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    return stat(path, &st) == 0;
}

int proc_read_small(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (int)n;
}

int proc_task_list(int pid, int **tids, size_t *n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    *tids = NULL;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int tid = atoi(e->d_name);
        if (LG_APPEND(*tids, *n, &tid) < 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return 0;
}

/* se.exec_start of a task, in ms of the scheduler clock; < 0 when unavailable. */
static double exec_start(const char *path)
{
    char buf[4096];
    if (proc_read_small(path, buf, sizeof buf) < 0)
        return -1;
    const char *p = strstr(buf, "se.exec_start");
    if (!p || !(p = strchr(p, ':')))
        return -1;
    return strtod(p + 1, NULL);
}

void proc_fd_target(int pid, int fd, char *out, size_t outlen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    ssize_t n = readlink(path, out, outlen - 1);
    out[n > 0 ? n : 0] = '\0';
}

/* Syscalls whose first argument is a descriptor worth naming. */
static bool fd_syscall(long nr)
{
    static const long fd_calls[] = {0, 1, 17, 18, 19, 20, 42, 43, 44, 45, 46, 47, 72, 73, 74,
                                    288, 295, 296};
    for (size_t i = 0; i < sizeof fd_calls / sizeof *fd_calls; i++)
        if (fd_calls[i] == nr)
            return true;
    return false;
}

/* /proc/PID/task/TID/syscall: only for a thread that is not running (stopped, or blocked
 * for good): reading it makes the kernel wait until the thread is off its CPU. */
void proc_read_syscall(insp_target *tg, insp_thread *t)
{
    char path[128], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", tg->pid, t->tid);
    if (proc_read_small(path, buf, sizeof buf) <= 0)
        return;
    if (strncmp(buf, "running", 7) == 0) {
        t->nr = INSP_NR_RUNNING;
        return;
    }
    unsigned long long a[6] = {0}, sp = 0;
    long nr = -3;
    if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2], &a[3],
               &a[4], &a[5], &sp) >= 1) {
        t->nr = nr < 0 ? INSP_NR_RUNNING : nr;
        t->sp = sp;
        for (int i = 0; i < 6; i++)
            t->arg[i] = a[i];
    }
}

/* The descriptors blocking system calls name, once the registers gave the calls. */
void proc_fd_targets(insp_target *tg)
{
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        if (t->nr >= 0 && fd_syscall(t->nr))
            proc_fd_target(tg->pid, (int)t->arg[0], t->fd_target, sizeof t->fd_target);
    }
}

/* Seconds since boot now, and clock ticks per second; for the age of a thread. */
static double uptime_s(void)
{
    char buf[128];
    return proc_read_small("/proc/uptime", buf, sizeof buf) > 0 ? strtod(buf, NULL) : -1;
}

/* Field 22 of a stat line (starttime, clock ticks after boot); -1 unknown. */
static double stat_start_s(const char *stat)
{
    const char *p = strrchr(stat, ')');
    if (!p)
        return -1;
    /* after ")": state(3) is field 1 of the rest; starttime is field 22 -> 20th after it */
    p += 2;
    for (int f = 3; f < 22 && p; f++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    if (!p)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? strtod(p, NULL) / (double)hz : -1;
}

/* Before stopping anything, what costs the target nothing: name, state, and how long the
 * thread has been off its CPU (sched's se.exec_start: when it last ran, which an attach
 * would reset). Not its system call: reading that waits for a running thread to stop
 * running (task_current_syscall); the registers give it once the thread is stopped. */
static void read_task(insp_target *tg, insp_thread *t, double self_start, double up)
{
    char path[128], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", tg->pid, t->tid);
    if (proc_read_small(path, buf, sizeof buf) > 0) {
        buf[strcspn(buf, "\n")] = '\0';
        buf[sizeof t->name - 1] = '\0';
        memcpy(t->name, buf, strlen(buf) + 1);
    }
    double started = -1;
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", tg->pid, t->tid);
    if (proc_read_small(path, buf, sizeof buf) > 0) {
        const char *p = strrchr(buf, ')');   /* the name may hold spaces and parentheses */
        if (p && p[1] == ' ')
            t->state = p[2];
        started = stat_start_s(buf);
    }
    if (self_start >= 0 && t->state != 'R') {
        snprintf(path, sizeof path, "/proc/%d/task/%d/sched", tg->pid, t->tid);
        double s = exec_start(path);
        if (s >= 0 && self_start > s)
            t->blocked_ms = (int64_t)(self_start - s);
        /* Off its CPU since then, but never longer than the thread has existed (the two
         * clocks are not the same: sched's is per CPU). */
        if (t->blocked_ms && started >= 0 && up >= started &&
            t->blocked_ms > (int64_t)((up - started) * 1e3))
            t->blocked_ms = (int64_t)((up - started) * 1e3);
    }
}

int proc_read_threads(insp_target *tg, char *err, size_t errlen)
{
    int *tids;
    size_t n;
    if (proc_task_list(tg->pid, &tids, &n) < 0) {
        snprintf(err, errlen, "no process with pid %d", tg->pid);
        return -1;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", tg->pid);
    if (proc_read_small(path, tg->comm, sizeof tg->comm) > 0)
        tg->comm[strcspn(tg->comm, "\n")] = '\0';
    snprintf(path, sizeof path, "/proc/%d/exe", tg->pid);
    ssize_t len = readlink(path, tg->exe, sizeof tg->exe - 1);
    tg->exe[len > 0 ? len : 0] = '\0';
    double self_start = exec_start("/proc/thread-self/sched");
    double up = uptime_s();
    for (size_t i = 0; i < n; i++) {
        insp_thread *t = insp_add_thread(tg, tids[i]);
        if (!t) {
            free(tids);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        read_task(tg, t, self_start, up);
    }
    free(tids);
    if (tg->n == 0) {
        snprintf(err, errlen, "process %d has exited", tg->pid);
        return -1;
    }
    insp_thread *leader = insp_find_thread(tg, tg->pid);
    tg->mm_pid = tg->pid;
    if (leader && (leader->state == 'Z' || leader->state == 'X')) {
        /* The main thread's /proc/PID/maps and memory went with it (its mm is dropped at its
         * exit); every live thread shares the process's: read through one of them. */
        for (size_t i = 0; i < tg->n && tg->mm_pid == tg->pid; i++)
            if (tg->t[i].state != 'Z' && tg->t[i].state != 'X')
                tg->mm_pid = tg->t[i].tid;
        if (tg->mm_pid == tg->pid) {
            snprintf(err, errlen, "process %d has exited (its main thread is a zombie and no "
                     "other thread lives)", tg->pid);
            return -1;
        }
        tg->read_ctx = (void *)(intptr_t)tg->mm_pid;
        insp_note(tg, "the main thread of process %d has exited; its other %zu thread%s "
                  "are inspected", tg->pid, tg->n - 1, tg->n == 2 ? "" : "s");
    }
    return 0;
}

int proc_read_maps(insp_target *tg)
{
    char path[64], line[4096 + 128];
    snprintf(path, sizeof path, "/proc/%d/maps", tg->mm_pid ? tg->mm_pid : tg->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        char *p = strchr(line, '/');
        if (!p)
            continue;
        p[strcspn(p, "\n")] = '\0';
        const char *base = strrchr(p, '/') + 1;
        if (!tg->libc_path[0] && strncmp(base, "libc.so", 7) == 0)
            snprintf(tg->libc_path, sizeof tg->libc_path, "%s", p);
        if (!tg->has_runtime && strncmp(base, "liblockgraph", 12) == 0) {
            tg->has_runtime = true;
            snprintf(tg->runtime_path, sizeof tg->runtime_path, "%s", p);
        }
    }
    fclose(f);
    return 0;
}

/* ---- progress probe (run --hang-timeout) ---- */

typedef struct probe_task {
    int tid;
    char state;
    unsigned long long cpu, ctxsw;
    long nr;                 /* system call it sits in (/proc/.../syscall), -1 none */
    uint64_t futex;          /* a timed futex wait: its word */
    bool rt_wait;            /* in a wait the lockgraph runtime recorded (it wakes in slices) */
    uint64_t rt_seq;         /* that wait's sequence number */
} probe_task;

struct lg_progress_sample {
    int pid;
    probe_task *t;
    size_t n;
};

/* Append the tasks of one process to a sample. 0, or -1 when the process is gone. */
static int sample_process(lg_progress_sample *s, int pid)
{
    int *tids;
    size_t n;
    if (proc_task_list(pid, &tids, &n) < 0 || n == 0)
        return -1;
    probe_task *nt = realloc(s->t, (s->n + n) * sizeof *nt);
    if (!nt) {
        free(tids);
        return -1;
    }
    s->t = nt;
    size_t first = s->n;
    for (size_t i = 0; i < n; i++) {
        char path[96], buf[1024];
        probe_task *p = &s->t[s->n];
        memset(p, 0, sizeof *p);
        p->tid = tids[i];
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tids[i]);
        if (proc_read_small(path, buf, sizeof buf) <= 0)
            continue;   /* exited meanwhile */
        const char *q = strrchr(buf, ')');
        if (!q)
            continue;
        unsigned long long ut = 0, st = 0;
        /* after ")": state(3) ... utime(14) stime(15) */
        if (sscanf(q + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &p->state,
                   &ut, &st) != 3)
            continue;
        p->cpu = ut + st;
        p->nr = -1;
        snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", pid, tids[i]);
        /* a running thread is not in a wait: its syscall file would make us wait for it */
        if (p->state != 'R' && proc_read_small(path, buf, sizeof buf) > 0) {
            unsigned long long a[4];
            if (sscanf(buf, "%ld %llx %llx %llx %llx", &p->nr, &a[0], &a[1], &a[2], &a[3]) == 5 &&
                p->nr == 202 && a[3] != 0)
                p->futex = a[0];
        }
        snprintf(path, sizeof path, "/proc/%d/task/%d/status", pid, tids[i]);
        if (proc_read_small(path, buf, sizeof buf) > 0) {
            const char *v = strstr(buf, "voluntary_ctxt_switches:");
            const char *nv = strstr(buf, "nonvoluntary_ctxt_switches:");
            if (v)
                p->ctxsw += strtoull(v + 24, NULL, 10);
            if (nv)
                p->ctxsw += strtoull(nv + 27, NULL, 10);
        }
        s->n++;
    }
    free(tids);
    size_t mine = s->n - first;
    insp_rt_wait *w = calloc(mine ? mine : 1, sizeof *w);
    size_t nw = w ? rtstate_live_waits(pid, w, mine) : 0;
    for (size_t i = 0; i < nw; i++)
        for (size_t j = first; j < s->n; j++)
            if (s->t[j].tid == w[i].tid) {
                s->t[j].rt_wait = true;
                s->t[j].rt_seq = w[i].seq;
            }
    free(w);
    return 0;
}

lg_progress_sample *lg_progress_sample_take(int pid)
{
    lg_progress_sample *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->pid = pid;
    if (sample_process(s, pid) < 0) {
        lg_progress_sample_free(s);
        return NULL;
    }
    return s;
}

/* The children of every thread of pid (/proc/PID/task/TID/children), else, when the kernel
 * lacks that file, every process whose parent is pid (/proc/N/stat). */
static int children_of(int pid, int **out, size_t *nout)
{
    int *tids;
    size_t n;
    if (proc_task_list(pid, &tids, &n) < 0)
        return -1;
    bool have = false;
    for (size_t i = 0; i < n; i++) {
        char path[96], buf[4096];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, tids[i]);
        if (proc_read_small(path, buf, sizeof buf) < 0)
            continue;
        have = true;
        for (char *p = buf, *e; *p; p = e) {
            long c = strtol(p, &e, 10);
            if (e == p)
                break;
            int ci = (int)c;
            if (c > 0 && LG_APPEND(*out, *nout, &ci) < 0)
                break;
        }
    }
    free(tids);
    if (have)
        return 0;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        const char *q;
        int ppid = 0;
        if (proc_read_small(path, buf, sizeof buf) > 0 && (q = strrchr(buf, ')')) &&
            sscanf(q + 2, "%*c %d", &ppid) == 1 && ppid == pid) {
            int c = atoi(e->d_name);
            if (LG_APPEND(*out, *nout, &c) < 0)
                break;
        }
    }
    closedir(d);
    return 0;
}

static bool zombie(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    const char *q;
    return proc_read_small(path, buf, sizeof buf) <= 0 || !(q = strrchr(buf, ')')) ||
           q[1] != ' ' || q[2] == 'Z' || q[2] == 'X';
}

int lg_process_tree(int pid, int **pids, size_t *n)
{
    *pids = NULL;
    *n = 0;
    if (LG_APPEND(*pids, *n, &pid) < 0)
        return -1;
    for (size_t i = 0; i < *n && *n < 4096; i++) {   /* breadth first; bounded */
        size_t from = *n;
        children_of((*pids)[i], pids, n);
        /* exited children waiting to be reaped have nothing to inspect */
        size_t k = from;
        for (size_t j = from; j < *n; j++)
            if (!zombie((*pids)[j]))
                (*pids)[k++] = (*pids)[j];
        *n = k;
    }
    return 0;
}

lg_progress_sample *lg_progress_sample_take_tree(int pid)
{
    int *pids;
    size_t n;
    if (lg_process_tree(pid, &pids, &n) < 0)
        return NULL;
    lg_progress_sample *s = calloc(1, sizeof *s);
    if (!s) {
        free(pids);
        return NULL;
    }
    s->pid = pid;
    bool root = false;
    for (size_t i = 0; i < n; i++) {
        int rc = sample_process(s, pids[i]);
        root |= i == 0 && rc == 0;
    }
    free(pids);
    if (!root) {
        lg_progress_sample_free(s);
        return NULL;
    }
    return s;
}

int lg_progress_stalled(const lg_progress_sample *a, const lg_progress_sample *b)
{
    if (!a || !b || a->pid != b->pid)
        return -1;
    if (a->n != b->n)
        return 0;   /* threads came or went */
    for (size_t i = 0; i < b->n; i++) {
        const probe_task *y = &b->t[i];
        const probe_task *x = NULL;
        for (size_t j = 0; j < a->n && !x; j++)
            if (a->t[j].tid == y->tid)
                x = &a->t[j];
        if (!x)
            return 0;
        /* Still in the same wait the runtime recorded: its slice wake-ups are not progress.
         * Nor are a timed futex wait's time-outs on the same word with no CPU used (the
         * runtime's join of a thread it has no record of also waits in slices). An untimed
         * wait woken again is progress: someone woke it. */
        if (x->rt_wait && y->rt_wait && x->rt_seq == y->rt_seq)
            continue;
        if (y->state != 'R' && x->futex && x->futex == y->futex && x->cpu == y->cpu)
            continue;
        if (y->state == 'R' || x->cpu != y->cpu || x->ctxsw != y->ctxsw)
            return 0;
    }
    return 1;
}

void lg_progress_sample_free(lg_progress_sample *s)
{
    if (s)
        free(s->t);
    free(s);
}
