/* ownfd.h - descriptors lockgraph keeps inside someone else's program (the runtime's copy of
 * stderr, its --log, the trace, the launcher's handshake): moved out of the program's way to
 * a high number, close-on-exec, and remembered by identity (device and inode), so that a
 * program which closes them and opens its own files on the same numbers is detected before
 * anything is written there.
 *
 * Syscalls only (no allocation, no stdio): the runtime uses it at init, at exit and from its
 * fatal-signal handler. Not here: what is written, or what to do when the file is gone.
 */
#ifndef LG_OWNFD_H
#define LG_OWNFD_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct lg_ownfd {
    int fd;        /* -1: none */
    dev_t dev;
    ino_t ino;
} lg_ownfd;

/* The lowest number lockgraph's own descriptors are moved to or above: far above what a
 * program's open() hands out (the lowest free number), below RLIMIT_NOFILE. */
int lg_ownfd_base(void);

/* A close-on-exec copy of fd at lg_ownfd_base() or above, remembered in *o; the original is
 * closed when close_original. 0, or an errno value (then *o is unchanged, fd left open). */
int lg_ownfd_take(int fd, bool close_original, lg_ownfd *o);

/* Whether o->fd is still the file it was taken on (fstat: same device and inode). */
bool lg_ownfd_same(const lg_ownfd *o);

/* Whether fd, opened now, is the file o was taken on. */
bool lg_ownfd_is(const lg_ownfd *o, int fd);

#endif
