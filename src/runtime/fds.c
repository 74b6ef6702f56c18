/* fds.c - the runtime's own descriptors, kept out of the program's way (src/util/ownfd.h).
 *
 * The runtime writes to three descriptors it took at start: a copy of stderr, the --log file,
 * the trace (src/trace/writer.c); all at a high number, close-on-exec, known by device and
 * inode. A program that closes fd 2 and opens a data file there, dup2s a socket over it, or
 * closes every descriptor >= 3 and opens its own files, never gets lockgraph's bytes:
 * - close(), close_range(), closefrom() of one of ours leave it open and answer what the
 *   bare program gets (EBADF for close: there is no such descriptor without the runtime;
 *   a range is closed around it); dup2()/dup3() onto its number first move ours elsewhere;
 * - what the runtime cannot see (a raw syscall) is found before writing: a report checks the
 *   identity first (rt_out_fd: the log is opened again by its path; stderr, when gone, falls
 *   back to fd 2 only if fd 2 is still the original stderr, else reports go only into the
 *   JSON, which says so); the trace writer opens its file again on EBADF.
 * Not here: what is written (report.c, writer.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../trace/trace.h"
#include "../util/ownfd.h"
#include "../util/safefile.h"
#include "rt.h"

static lg_ownfd err_own = {.fd = -1}, log_own = {.fd = -1};
static bool log_wanted;
static _Atomic bool out_lost;
static rt_flock out_lock = RT_FLOCK_INIT;   /* a leaf: reopening the log */

static int (*real_close)(int);
static int (*real_close_range)(unsigned, unsigned, int);
static void (*real_closefrom)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);

void rt_fds_resolve(void)
{
    if (real_close)
        return;
    real_close_range = (int (*)(unsigned, unsigned, int))dlsym(RTLD_NEXT, "close_range");
    real_closefrom = (void (*)(int))dlsym(RTLD_NEXT, "closefrom");
    real_dup2 = (int (*)(int, int))dlsym(RTLD_NEXT, "dup2");
    real_dup3 = (int (*)(int, int, int))dlsym(RTLD_NEXT, "dup3");
    __atomic_store_n(&real_close, (int (*)(int))dlsym(RTLD_NEXT, "close"), __ATOMIC_RELEASE);
}

void rt_fds_init(void)
{
    rt_fds_resolve();
    lg_ownfd_take(2, false, &err_own);   /* fd 2 closed at start: reports go to the JSON */
    if (!rt.cfg.log || !*rt.cfg.log)
        return;
    log_wanted = true;
    /* Appended to: a regular file of ours, never through a symlink (safefile.h). */
    int fd = -1, e = lg_safe_append(rt.cfg.log, &fd);
    if (!e && (e = lg_ownfd_take(fd, true, &log_own)) != 0)
        close(fd);
    if (e) {
        log_wanted = false;   /* then stderr, as before */
        char m[600];
        int n = snprintf(m, sizeof m, "lockgraph: cannot open log file '%s': %s\n", rt.cfg.log,
                         lg_safe_strerror(e));
        if (n > 0)
            rt_out(m, (size_t)n < sizeof m ? (size_t)n : sizeof m - 1);
    }
}

/* Where a report goes now, checked (see above); -1: nowhere but the JSON. */
static int out_fd_locked(void)
{
    if (log_wanted) {
        if (log_own.fd >= 0 && lg_ownfd_same(&log_own))
            return log_own.fd;
        int fd;
        lg_ownfd o;
        if (lg_safe_append(rt.cfg.log, &fd) == 0) {
            if (lg_ownfd_take(fd, true, &o) == 0) {
                log_own = o;   /* the old number is the program's now: not closed */
                return o.fd;
            }
            close(fd);
        }
        atomic_store(&out_lost, true);
        return -1;
    }
    if (err_own.fd >= 0 && lg_ownfd_same(&err_own))
        return err_own.fd;
    if (err_own.fd >= 0 && lg_ownfd_is(&err_own, 2))
        return 2;
    if (err_own.fd >= 0)
        atomic_store(&out_lost, true);
    return -1;
}

void rt_out(const char *s, size_t n)
{
    rt_flock_lock(&out_lock);
    int fd = out_fd_locked();
    if (fd >= 0)
        rt_write_all(fd, s, n);
    rt_flock_unlock(&out_lock);
}

int rt_out_fd(void)
{
    rt_flock_lock(&out_lock);
    int fd = out_fd_locked();
    rt_flock_unlock(&out_lock);
    return fd;
}

bool rt_out_lost(void)
{
    return atomic_load(&out_lost);
}

void rt_fds_fork(int phase)
{
    if (phase == RT_FORK_PREPARE)
        rt_flock_lock(&out_lock);
    else if (phase == RT_FORK_PARENT)
        rt_flock_unlock(&out_lock);
    else
        rt_flock_reset(&out_lock);
}

/* ---- the program's calls on descriptor numbers ---- */

static lg_ownfd *slot(int i)
{
    return i == 0 ? &err_own : i == 1 ? &log_own : i == 2 ? lg_trace_ownfd()
         : i == 3 ? rt_handshake_ownfd() : rt_report_json_ownfd();
}
enum { NSLOTS = 5 };

/* One of ours at number fd (checked by identity: after a raw close the number may be the
 * program's own file, which is then the program's to close). */
static lg_ownfd *ours(int fd)
{
    for (int i = 0; i < NSLOTS; i++) {
        lg_ownfd *o = slot(i);
        if (o && fd >= 0 && __atomic_load_n(&o->fd, __ATOMIC_ACQUIRE) == fd && lg_ownfd_same(o))
            return o;
    }
    return NULL;
}

RT_EXPORT int close(int fd)
{
    if (!__atomic_load_n(&real_close, __ATOMIC_ACQUIRE))
        rt_fds_resolve();
    if (ours(fd)) {
        errno = EBADF;   /* what the bare program gets: it never had this descriptor */
        return -1;
    }
    return real_close(fd);
}

/* The program's dup2/dup3 onto one of our numbers: ours moves first (the call then replaces
 * the old number atomically, as it would have closed nothing of the program's). */
static void move_away(int newfd)
{
    lg_ownfd *o = ours(newfd);
    if (!o)
        return;
    lg_ownfd m;
    int n = lg_ownfd_take(newfd, false, &m) == 0 ? m.fd : -1;
    __atomic_store_n(&o->fd, n, __ATOMIC_RELEASE);
}

RT_EXPORT int dup2(int oldfd, int newfd)
{
    if (!__atomic_load_n(&real_close, __ATOMIC_ACQUIRE))
        rt_fds_resolve();
    if (oldfd != newfd)
        move_away(newfd);
    return real_dup2(oldfd, newfd);
}

RT_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (!__atomic_load_n(&real_close, __ATOMIC_ACQUIRE))
        rt_fds_resolve();
    if (oldfd != newfd)
        move_away(newfd);
    return real_dup3(oldfd, newfd, flags);
}

/* Ours inside [first, last], ascending. */
static int ours_in(unsigned first, unsigned last, unsigned out[NSLOTS])
{
    int n = 0;
    for (int i = 0; i < NSLOTS; i++) {
        lg_ownfd *o = slot(i);
        int fd = o ? __atomic_load_n(&o->fd, __ATOMIC_ACQUIRE) : -1;
        if (fd >= 0 && (unsigned)fd >= first && (unsigned)fd <= last && lg_ownfd_same(o))
            out[n++] = (unsigned)fd;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
            unsigned t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

RT_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    if (!__atomic_load_n(&real_close, __ATOMIC_ACQUIRE))
        rt_fds_resolve();
    if (!real_close_range) {
        errno = ENOSYS;
        return -1;
    }
    unsigned keep[NSLOTS];
    int n = first <= last ? ours_in(first, last, keep) : 0;
    if (!n)
        return real_close_range(first, last, flags);
    /* The range around ours, piece by piece (CLOSE_RANGE_UNSHARE is done by the first). */
    unsigned from = first;
    for (int i = 0; i <= n; i++) {
        unsigned to = i < n ? keep[i] : last + 1u;
        if (to > from && real_close_range(from, to - 1, flags) != 0)
            return -1;
        if (i < n) {
            if (keep[i] == ~0u)
                break;
            from = keep[i] + 1;
        }
    }
    return 0;
}

RT_EXPORT void closefrom(int lowfd)
{
    if (!__atomic_load_n(&real_close, __ATOMIC_ACQUIRE))
        rt_fds_resolve();
    unsigned keep[NSLOTS];
    if (lowfd < 0 || !ours_in((unsigned)lowfd, ~0u, keep)) {
        if (real_closefrom)
            real_closefrom(lowfd);
        return;
    }
    if (close_range((unsigned)lowfd, ~0u, 0) == 0)
        return;
    /* No close_range: one by one up to the limit, around ours (close() skips them). */
    struct rlimit rl;
    long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20) ? (long)rl.rlim_cur
                                                                              : 1L << 20;
    for (long fd = lowfd; fd < max; fd++)
        close((int)fd);
}
