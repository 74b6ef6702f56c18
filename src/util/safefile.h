/* safefile.h - opening the files lockgraph writes and reads, so that they cannot be turned
 * against the user running it (a root `lockgraph dump -o /tmp/x` next to a planted symlink or
 * a pre-created 0666 file), and so that a FIFO or device named as input never blocks.
 *
 * Outputs: the last path component is never followed when it is a symbolic link (refused),
 * and an existing file is never written into: a new file is created beside it (same
 * directory, O_EXCL) and renamed over it, so its owner, mode and any descriptor someone
 * already holds on it get nothing. Where the rename is not allowed (another user's file in a
 * sticky directory) the open fails with LG_SAFE_EFOREIGN. Private files (cores, traces: the
 * program's memory) are 0600; reports are 0644 minus the umask, so never group- or
 * world-writable. Appending (logs) opens the file itself, and refuses one that is not a
 * regular file owned by the effective user.
 *
 * Syscalls only: no allocation, no stdio, errors returned as errno values (or the LG_SAFE_E*
 * codes below), so the preloaded runtime can use it too. Not here: messages (the callers
 * print lg_safe_strerror()).
 */
#ifndef LG_SAFEFILE_H
#define LG_SAFEFILE_H

#include <sys/stat.h>

enum {
    LG_SAFE_REPORT = 0,       /* 0644 & ~umask: JSON, DOT, text reports, logs */
    LG_SAFE_PRIVATE = 1,      /* exactly 0600: cores, traces */
};

/* Errors beyond errno's: what was found at the path. */
enum {
    LG_SAFE_ESYMLINK = 4096,  /* the last component is a symbolic link: not followed */
    LG_SAFE_ENOTREG,          /* a FIFO, device or socket where a regular file belongs */
    LG_SAFE_EFOREIGN,         /* owned by another user, and cannot be replaced */
};

/* Create PATH afresh for writing (see above): *fd is open O_WRONLY|O_CLOEXEC on a new, empty
 * file now at PATH. 0, or an error code. */
int lg_safe_create(const char *path, int kind, int *fd);

/* Create PATH only if nothing is there (O_EXCL, no symlink followed). 0, EEXIST, or an
 * error code. */
int lg_safe_create_new(const char *path, int kind, int *fd);

/* Open PATH for appending (created when missing): a regular file of the effective user, never
 * through a symlink; group and world write permissions are dropped. 0, or an error code. */
int lg_safe_append(const char *path, int *fd);

/* Open PATH for reading without blocking on a FIFO or device: a regular file only (EISDIR
 * for a directory, LG_SAFE_ENOTREG otherwise). *st is its fstat. 0, or an error code. */
int lg_safe_open_read(const char *path, int *fd, struct stat *st);

/* Before running anything: would lg_safe_create (append = 0) or lg_safe_append (append = 1)
 * of PATH succeed? Checks what is at PATH and that its directory exists and is writable.
 * Creates nothing. 0, or an error code. */
int lg_safe_check_write(const char *path, int append);

/* The reason for an error code, for "cannot write 'F': REASON". */
const char *lg_safe_strerror(int err);

#endif
