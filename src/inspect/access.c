/* access.c - whether a process can be inspected at all, and if not, why, in one line that
 * says what happened: lockgraph itself, a kernel thread, a zombie, a process whose main
 * thread has exited (its other threads still can be), one traced by another debugger, and
 * ptrace refused (EPERM) with the right that is missing: another user's process without
 * CAP_SYS_PTRACE, kernel.yama.ptrace_scope where present, a process that is not dumpable.
 * Not here: the attaching itself (ptrace.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

enum { PF_KTHREAD_FLAG = 0x00200000 };   /* include/linux/sched.h */
enum { CAP_SYS_PTRACE_BIT = 19 };

/* A "Key:\tvalue" line of /proc/PID/status, as a number; -1 when absent. */
static long status_field(const char *status, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\n%s:", key);
    const char *p = strstr(status, k);
    return p ? strtol(p + strlen(k), NULL, 10) : -1;
}

static void comm_of(int pid, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    if (proc_read_small(path, out, len) < 0)
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

static bool has_cap_ptrace(void)
{
    char st[4096];
    if (proc_read_small("/proc/self/status", st, sizeof st) < 0)
        return false;
    const char *p = strstr(st, "\nCapEff:");
    return p && (strtoull(p + 8, NULL, 16) >> CAP_SYS_PTRACE_BIT) & 1;
}

void insp_explain_denied(int pid, char *err, size_t errlen)
{
    char path[64], st[4096], comm[64], tcomm[64];
    comm_of(pid, comm, sizeof comm);
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (proc_read_small(path, st, sizeof st) < 0) {
        snprintf(err, errlen, "process %d has exited", pid);
        return;
    }
    long tracer = status_field(st, "TracerPid");
    if (tracer > 0) {
        comm_of((int)tracer, tcomm, sizeof tcomm);
        snprintf(err, errlen, "cannot attach to process %d (%s): it is already traced by "
                 "process %ld (%s), and a process has one tracer at a time", pid, comm,
                 tracer, tcomm[0] ? tcomm : "?");
        return;
    }
    bool cap = has_cap_ptrace();
    long uid = status_field(st, "Uid");   /* the real uid; effective and saved follow */
    const char *u = strstr(st, "\nUid:");
    unsigned long uids[4] = {0};
    if (u)
        sscanf(u + 5, "%lu %lu %lu %lu", &uids[0], &uids[1], &uids[2], &uids[3]);
    bool other = false;
    for (int i = 0; i < 3; i++)
        other |= uids[i] != (unsigned long)getuid();
    if (other && !cap) {
        snprintf(err, errlen, "cannot attach to process %d (%s): not permitted: it runs as "
                 "uid %ld and lockgraph as uid %lu without CAP_SYS_PTRACE (run lockgraph as "
                 "the same user, or as root)", pid, comm, uid, (unsigned long)getuid());
        return;
    }
    char y[16];
    long scope = proc_read_small("/proc/sys/kernel/yama/ptrace_scope", y, sizeof y) > 0
                     ? strtol(y, NULL, 10) : -1;
    if (scope == 3) {
        snprintf(err, errlen, "cannot attach to process %d (%s): not permitted: "
                 "kernel.yama.ptrace_scope is 3 (no process may be traced until reboot)",
                 pid, comm);
    } else if (scope == 2 && !cap) {
        snprintf(err, errlen, "cannot attach to process %d (%s): not permitted: "
                 "kernel.yama.ptrace_scope is 2 (only CAP_SYS_PTRACE may trace)", pid, comm);
    } else if (scope == 1 && !cap) {
        snprintf(err, errlen, "cannot attach to process %d (%s): not permitted: "
                 "kernel.yama.ptrace_scope is 1 (only an ancestor may trace it: start it "
                 "under `lockgraph run`, give lockgraph CAP_SYS_PTRACE, or set the sysctl to "
                 "0)", pid, comm);
    } else {
        snprintf(err, errlen, "cannot attach to process %d (%s): not permitted: it is not "
                 "dumpable (a setuid or setgid program, or prctl(PR_SET_DUMPABLE, 0)), or "
                 "lockgraph lacks CAP_SYS_PTRACE over its user namespace", pid, comm);
    }
}

int proc_check_target(int pid, char *err, size_t errlen)
{
    char path[64], buf[1024], comm[64];
    comm_of(pid, comm, sizeof comm);
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    char st[4096];
    long tgid = proc_read_small(path, st, sizeof st) > 0 ? status_field(st, "Tgid") : -1;
    if (pid == getpid() || tgid == getpid()) {
        snprintf(err, errlen, "process %d is lockgraph itself: run `lockgraph attach` from "
                 "another process", pid);
        return -1;
    }
    if (tgid > 0 && tgid != pid) {
        snprintf(err, errlen, "%d is a thread of process %ld (%s): give the process id", pid,
                 tgid, comm);
        return -1;
    }
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (proc_read_small(path, buf, sizeof buf) <= 0) {
        snprintf(err, errlen, "no process with pid %d", pid);
        return -1;
    }
    const char *q = strrchr(buf, ')');
    char state = q && q[1] == ' ' ? q[2] : '?';
    int ppid = 0;
    unsigned long flags = 0;
    if (q)
        sscanf(q + 2, "%*c %d %*d %*d %*d %*d %lu", &ppid, &flags);
    if (flags & PF_KTHREAD_FLAG) {
        snprintf(err, errlen, "process %d (%s) is a kernel thread: it has no user-space "
                 "locks to inspect", pid, comm);
        return -1;
    }
    if (state == 'Z' || state == 'X') {
        /* The main thread has exited; are other threads left? */
        int *tids;
        size_t n;
        size_t live = 0;
        if (proc_task_list(pid, &tids, &n) == 0) {
            for (size_t i = 0; i < n; i++) {
                snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tids[i]);
                if (proc_read_small(path, buf, sizeof buf) > 0 && (q = strrchr(buf, ')')) &&
                    q[1] == ' ' && q[2] != 'Z' && q[2] != 'X')
                    live++;
            }
            free(tids);
        }
        if (!live) {
            snprintf(err, errlen, "process %d (%s) is a zombie: it has exited and waits for "
                     "its parent (process %d) to collect its status; nothing is left to "
                     "inspect", pid, comm, ppid);
            return -1;
        }
    }
    /* Its memory map is what ptrace rights also guard: say why now, not "exited" later. */
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f && (errno == EACCES || errno == EPERM)) {
        insp_explain_denied(pid, err, errlen);
        return -1;
    }
    if (f)
        fclose(f);
    return 0;
}
