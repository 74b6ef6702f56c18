/* tasksys.c - what the kernel says a thread of this process is doing right now: the system
 * call it is blocked in, from /proc/self/task/TID/syscall.
 *
 * Read from inside interposed calls (condvars.c's evidence), so raw system calls only: no
 * stdio, no allocation, no errno-setting wrapper the program could see, the path and the
 * numbers formatted and parsed here. The descriptor is the runtime's for the few
 * microseconds of the read.
 *
 * The file's three forms (the kernel's proc_pid_syscall): "running" (the thread is on a CPU
 * or runnable: no call to report), "-1 SP PC" (blocked outside a system call, e.g. in a page
 * fault), "NR ARG0 .. ARG5 SP PC" (blocked in system call NR).
 *
 * Not here: what a call means (its callers decide), other threads' stacks (sample.c).
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tasksys.h"

static size_t put_dec(char *p, unsigned v)
{
    char tmp[12];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < sizeof tmp);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* One number at *p (decimal with an optional '-', or hex after "0x"), skipping blanks
 * before it; false when there is none. */
static bool get_num(const char **pp, long long *out)
{
    const char *p = *pp;
    while (*p == ' ')
        p++;
    bool neg = *p == '-';
    if (neg)
        p++;
    unsigned long long v = 0;
    int digits = 0;
    if (p[0] == '0' && p[1] == 'x') {
        for (p += 2;; p++, digits++) {
            int d = *p >= '0' && *p <= '9' ? *p - '0'
                    : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
            if (d < 0)
                break;
            v = v << 4 | (unsigned)d;
        }
    } else {
        for (; *p >= '0' && *p <= '9'; p++, digits++)
            v = v * 10 + (unsigned)(*p - '0');
    }
    if (!digits || (*p != ' ' && *p != '\n' && *p != '\0'))
        return false;
    *out = neg ? -(long long)v : (long long)v;
    *pp = p;
    return true;
}

int rt_task_syscall(int tid, rt_task_call *c)
{
    static const char pre[] = "/proc/self/task/", post[] = "/syscall";
    char path[sizeof pre + sizeof post + 12], buf[256];
    size_t n = sizeof pre - 1;
    __builtin_memcpy(path, pre, n);
    n += put_dec(path + n, (unsigned)tid);
    __builtin_memcpy(path + n, post, sizeof post);
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return RT_TASK_UNKNOWN;
    long got = syscall(SYS_read, (int)fd, buf, sizeof buf - 1);
    syscall(SYS_close, (int)fd);
    if (got <= 0)
        return RT_TASK_UNKNOWN;
    buf[got] = '\0';
    if (__builtin_memcmp(buf, "running", 7) == 0)
        return RT_TASK_RUNNING;
    const char *p = buf;
    long long nr;
    if (!get_num(&p, &nr))
        return RT_TASK_UNKNOWN;
    if (nr < 0)
        return RT_TASK_BLOCKED;
    c->nr = nr;
    for (int i = 0; i < 3; i++) {
        long long a;
        if (!get_num(&p, &a))
            return RT_TASK_UNKNOWN;
        c->arg[i] = (uint64_t)a;
    }
    return RT_TASK_IN_CALL;
}
