/* ownfd.c - lockgraph's own descriptors inside a program (see ownfd.h). */
#include "ownfd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

int lg_ownfd_base(void)
{
    /* 1000 when the limit allows: open() gives the lowest free number, so a program reaches
     * it only with about a thousand files open; and not near a huge limit (a descriptor at
     * 1,000,000 would make the kernel size the process's table for it). */
    struct rlimit rl;
    long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long)rl.rlim_cur : 1024;
    if (lim > 1100)
        return 1000;
    return lim > 64 ? (int)(lim * 3 / 4) : 3;
}

int lg_ownfd_take(int fd, bool close_original, lg_ownfd *o)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return fd < 0 ? EBADF : errno;
    int n = fcntl(fd, F_DUPFD_CLOEXEC, lg_ownfd_base());
    if (n < 0)
        n = fcntl(fd, F_DUPFD_CLOEXEC, 3);   /* a tight limit: at least close-on-exec */
    if (n < 0)
        return errno;
    if (close_original)
        close(fd);
    o->fd = n;
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    return 0;
}

bool lg_ownfd_is(const lg_ownfd *o, int fd)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino;
}

bool lg_ownfd_same(const lg_ownfd *o)
{
    return lg_ownfd_is(o, o->fd);
}
