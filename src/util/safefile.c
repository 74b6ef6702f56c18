/* safefile.c - safe creation, appending and reading of files (see safefile.h for the rules and
 * why). Syscalls only, so the preloaded runtime can call it at exit or from a signal handler's
 * path: no malloc, no stdio, no locks; paths are built in stack buffers of PATH_MAX.
 */
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>   /* rename(2) only: no stream is used */
#include <string.h>
#include <unistd.h>

static mode_t mode_of(int kind)
{
    return kind == LG_SAFE_PRIVATE ? 0600 : 0644;
}

/* A private file is exactly 0600 whatever the umask (fchmod); a report keeps 0644 & ~umask,
 * which never has group or world write. */
static int finish_new(int fd, int kind)
{
    if (kind == LG_SAFE_PRIVATE && fchmod(fd, 0600) < 0)
        return errno;
    return 0;
}

int lg_safe_create_new(const char *path, int kind, int *fd)
{
    *fd = -1;
    int f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_of(kind));
    if (f < 0)
        return errno;
    int e = finish_new(f, kind);
    if (e) {
        close(f);
        unlink(path);
        return e;
    }
    *fd = f;
    return 0;
}

/* Append the decimal digits of v at p; returns the new end. */
static char *put_dec(char *p, unsigned long v)
{
    char d[24];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < (int)sizeof d);
    while (n)
        *p++ = d[--n];
    return p;
}

/* "DIR/.lockgraph-PID-N.tmp" beside path; 0 or ENAMETOOLONG. */
static int temp_name(const char *path, unsigned long n, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    static const char pre[] = ".lockgraph-";
    if (dlen + sizeof pre + 2 * 24 + 8 > cap)
        return ENAMETOOLONG;
    memcpy(out, path, dlen);
    char *p = out + dlen;
    memcpy(p, pre, sizeof pre - 1);
    p = put_dec(p + sizeof pre - 1, (unsigned long)getpid());
    *p++ = '-';
    p = put_dec(p, n);
    memcpy(p, ".tmp", 5);
    return 0;
}

static int classify(const struct stat *st)
{
    if (S_ISLNK(st->st_mode))
        return LG_SAFE_ESYMLINK;
    if (S_ISDIR(st->st_mode))
        return EISDIR;
    return S_ISREG(st->st_mode) ? 0 : LG_SAFE_ENOTREG;
}

/* An existing regular file at path: a new one beside it, renamed over it. */
static int replace(const char *path, int kind, const struct stat *old, int *fd)
{
    static _Atomic unsigned long seq;
    char tmp[PATH_MAX];
    for (int tries = 0; tries < 64; tries++) {
        int e = temp_name(path, atomic_fetch_add(&seq, 1), tmp, sizeof tmp);
        if (e)
            return e;
        int f = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_of(kind));
        if (f < 0 && errno == EEXIST)
            continue;
        if (f < 0)
            return errno;
        e = finish_new(f, kind);
        if (!e && rename(tmp, path) < 0)
            e = errno;
        if (e) {
            unlink(tmp);
            close(f);
            /* A sticky directory (/tmp) lets nobody but the owner replace a file. */
            return e == EPERM && old->st_uid != geteuid() ? LG_SAFE_EFOREIGN : e;
        }
        *fd = f;
        return 0;
    }
    return EEXIST;
}

int lg_safe_create(const char *path, int kind, int *fd)
{
    *fd = -1;
    /* A file removed between the two steps is created on the next turn. */
    for (int turn = 0; turn < 4; turn++) {
        int e = lg_safe_create_new(path, kind, fd);
        if (e != EEXIST)
            return e;
        struct stat st;
        if (lstat(path, &st) < 0) {
            if (errno == ENOENT)
                continue;
            return errno;
        }
        e = classify(&st);
        if (e)
            return e;
        return replace(path, kind, &st, fd);
    }
    return EEXIST;
}

int lg_safe_append(const char *path, int *fd)
{
    *fd = -1;
    struct stat st;
    /* Looked at before opening: a device is never opened, another user's file never touched
     * (fs.protected_regular would refuse root's O_CREAT there anyway, less clearly). */
    if (lstat(path, &st) == 0) {
        int e = classify(&st);
        if (e)
            return e;
        if (st.st_uid != geteuid())
            return LG_SAFE_EFOREIGN;
    } else if (errno != ENOENT) {
        return errno;
    }
    int f = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (f < 0)
        return errno == ELOOP ? LG_SAFE_ESYMLINK : errno == ENXIO ? LG_SAFE_ENOTREG : errno;
    /* The file itself, whatever was swapped in since the lstat. */
    int e = fstat(f, &st) < 0 ? errno : classify(&st);
    if (!e && st.st_uid != geteuid())
        e = LG_SAFE_EFOREIGN;
    if (!e && (st.st_mode & 022) && fchmod(f, st.st_mode & 07755) < 0)
        e = errno;
    if (!e && fcntl(f, F_SETFL, O_APPEND) < 0)
        e = errno;
    if (e) {
        close(f);
        return e;
    }
    *fd = f;
    return 0;
}

int lg_safe_open_read(const char *path, int *fd, struct stat *st)
{
    *fd = -1;
    /* O_NONBLOCK: a FIFO opens at once (and is then refused) instead of waiting for a writer. */
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0)
        return errno;
    int e = fstat(f, st) < 0 ? errno : classify(st);
    if (!e && fcntl(f, F_SETFL, 0) < 0)
        e = errno;
    if (e) {
        close(f);
        return e;
    }
    *fd = f;
    return 0;
}

int lg_safe_check_write(const char *path, int append)
{
    if (!*path)
        return ENOENT;
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + (slash == path) : 1;
    if (dlen >= sizeof dir)
        return ENAMETOOLONG;
    memcpy(dir, slash ? path : ".", dlen);
    dir[dlen] = '\0';
    struct stat st, ds;
    int exists = lstat(path, &st) == 0;
    if (!exists && errno != ENOENT && errno != ENOTDIR)
        return errno;
    if (stat(dir, &ds) < 0)
        return errno;
    if (!S_ISDIR(ds.st_mode))
        return ENOTDIR;
    if (exists) {
        int e = classify(&st);
        if (e)
            return e;
        if (append) {
            if (st.st_uid != geteuid())
                return LG_SAFE_EFOREIGN;
            return faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0 ? errno : 0;
        }
        /* Replacing another user's file in a sticky directory is refused by the kernel. */
        if (st.st_uid != geteuid() && geteuid() != 0 && (ds.st_mode & S_ISVTX) &&
            ds.st_uid != geteuid())
            return LG_SAFE_EFOREIGN;
    }
    return faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0 ? errno : 0;
}

const char *lg_safe_strerror(int err)
{
    switch (err) {
    case LG_SAFE_ESYMLINK:
        return "it is a symbolic link (not followed)";
    case LG_SAFE_ENOTREG:
        return "not a regular file";
    case LG_SAFE_EFOREIGN:
        return "it belongs to another user (not written into)";
    default:
        return strerror(err);
    }
}
