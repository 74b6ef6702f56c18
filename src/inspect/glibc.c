/* glibc.c - which glibc the target runs, and whether we know its lock layouts.
 *
 * The version comes from the libc the target maps (its banner "release version X.Y", the
 * same string gnu_get_libc_version returns). Mutex, rwlock, semaphore and barrier layouts are
 * unchanged on x86_64 from 2.25 to 2.42; the condition variable lost __g_refs in 2.41, so its
 * futex offsets are keyed by version. An unknown version is not guessed at: decode.c then
 * says "futex wait on ADDR". Not here: reading the fields (decode.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/glibc-abi.h"
#include "internal.h"

/* Versions whose layouts were checked (see shared/reference/glibc-locks.md): the x86_64
 * mutex/rwlock/sem layouts of 2.25..2.42 (src/util/glibc-abi.h); __g_signals at +40 up to
 * 2.40. */
static const struct { int minor_lo, minor_hi, cond_signals; } known[] = {
    {GLIBC_ABI_MINOR_LO, 40, 40},
    {41, GLIBC_ABI_MINOR_HI, -1},   /* condvar layout changed: waits named by symbol only */
};

static int find_version(const char *path, char *out, size_t outlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        close(fd);
        return -1;
    }
    const char *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return -1;
    static const char key[] = "release version ";
    const char *p = memmem(m, (size_t)st.st_size, key, sizeof key - 1);
    int rc = -1;
    if (p) {
        p += sizeof key - 1;
        size_t n = 0;
        while (n + 1 < outlen && p + n < m + st.st_size &&
               ((p[n] >= '0' && p[n] <= '9') || p[n] == '.'))
            n++;
        while (n && p[n - 1] == '.')
            n--;
        memcpy(out, p, n);
        out[n] = '\0';
        rc = n ? 0 : -1;
    }
    munmap((void *)m, (size_t)st.st_size);
    return rc;
}

void glibc_identify(insp_target *tg)
{
    tg->glibc_known = 0;
    tg->cond_signals_off = -1;
    if (!tg->libc_path[0]) {
        insp_note(tg, "no glibc mapped: waits are shown as plain futex waits");
        return;
    }
    if (find_version(tg->libc_path, tg->glibc_version, sizeof tg->glibc_version) < 0) {
        insp_note(tg, "cannot tell the glibc version of '%s': waits are shown as plain futex "
                  "waits", tg->libc_path);
        return;
    }
    int major = 0, minor = 0;
    if (sscanf(tg->glibc_version, "%d.%d", &major, &minor) == 2 && major == 2) {
        for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
            if (minor >= known[i].minor_lo && minor <= known[i].minor_hi) {
                tg->glibc_known = 1;
                tg->cond_signals_off = known[i].cond_signals;
            }
        }
    }
    if (!tg->glibc_known)
        insp_note(tg, "glibc %s has lock layouts lockgraph does not know: waits are shown as "
                  "plain futex waits", tg->glibc_version);
}
