/* loaded.c - did the runtime run in the launched program? (see loaded.h)
 *
 * The handshake is the ground truth: root running a setuid-root program gets no AT_SECURE and
 * the runtime loads; a program may clear LD_PRELOAD for what it execs. Every image that loads
 * the runtime writes "L PID" into the pipe, every exec through the runtime's wrappers "X PID"
 * first (src/runtime/handshake.c). The tree ran the runtime when some process's last message
 * is L. The program file itself only explains a "no": statically linked (no PT_INTERP), or
 * setuid/setgid to someone else (the loader then ignores LD_PRELOAD).
 */
#include "loaded.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/ownfd.h"

int lg_loaded_open(lg_loaded *h)
{
    h->rfd = h->wfd = -1;
    h->pids = NULL;
    h->npids = 0;
    int p[2];
    struct stat st;
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    /* The write end at a high number, inherited across exec (the runtime makes it
     * close-on-exec in the program, except across its own exec wrappers). */
    int w = fcntl(p[1], F_DUPFD, lg_ownfd_base());
    close(p[1]);
    char v[64];
    if (w < 0 || fstat(p[0], &st) < 0
        || snprintf(v, sizeof v, "%d:%lu", w, (unsigned long)st.st_ino) <= 0
        || setenv("LOCKGRAPH_HANDSHAKE", v, 1) < 0) {
        close(p[0]);
        if (w >= 0)
            close(w);
        return -1;
    }
    h->rfd = p[0];
    h->wfd = w;
    return 0;
}

void lg_loaded_forked(lg_loaded *h)
{
    if (h->wfd >= 0)
        close(h->wfd);
    h->wfd = -1;
}

typedef struct pidstate {
    int pid;
    char last;
    unsigned long defects;   /* the last "D" count of this pid (an exec'd image adds on) */
} pidstate;

int lg_loaded_verdict(lg_loaded *h, bool *saw_exec)
{
    *saw_exec = false;
    if (h->rfd < 0)
        return 1;   /* no handshake was possible: nothing to contradict a run */
    pidstate *ps = NULL;
    size_t n = 0, cap = 0, total = 0;
    char buf[4096], line[64];
    size_t ll = 0;
    for (;;) {
        ssize_t got = read(h->rfd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;   /* EAGAIN: a process still holds the write end; all written is here */
        total += (size_t)got;
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] != '\n') {
                if (ll + 1 < sizeof line)
                    line[ll++] = buf[i];
                continue;
            }
            line[ll] = '\0';
            ll = 0;
            char what;
            int pid;
            unsigned long count = 0;
            if (sscanf(line, "%c %d %lu", &what, &pid, &count) < 2
                || (what != 'L' && what != 'X' && what != 'D'))
                continue;
            if (what == 'X')
                *saw_exec = true;
            size_t k = 0;
            while (k < n && ps[k].pid != pid)
                k++;
            if (k == n) {
                if (what == 'X')
                    continue;   /* a process that never ran it execs: changes nothing */
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    pidstate *np = realloc(ps, nc * sizeof *np);
                    if (!np) {
                        free(ps);
                        close(h->rfd);
                        h->rfd = -1;
                        return 1;   /* cannot tell: not a "not loaded" claim */
                    }
                    ps = np;
                    cap = nc;
                }
                ps[n++] = (pidstate){.pid = pid};
            }
            if (what == 'D') {
                ps[k].defects = count;
                continue;   /* not a load state: the image still ran the runtime */
            }
            ps[k].last = what;
        }
    }
    close(h->rfd);
    h->rfd = -1;
    int loaded = 0;
    h->tree = (lg_tree_defects){0};
    free(h->pids);
    h->pids = malloc((n ? n : 1) * sizeof *h->pids);
    h->npids = 0;
    for (size_t k = 0; h->pids && k < n; k++)
        h->pids[h->npids++] = ps[k].pid;
    for (size_t k = 0; k < n; k++) {
        if (ps[k].last == 'L')
            loaded = 1;
        if (ps[k].defects) {
            if (!h->tree.images)
                h->tree.first_pid = ps[k].pid;
            h->tree.images++;
            h->tree.defects += ps[k].defects;
        }
    }
    free(ps);
    /* A pipe that filled up may have lost the last messages: then it ran. */
    if (total >= 60000)
        loaded = 1;
    return loaded;
}

/* Whether the ELF file at fd has a PT_INTERP: 1 yes, 0 no, -1 not a readable ELF. */
static int has_interp(int fd)
{
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG)
        || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr)
        || eh.e_phnum == 0 || eh.e_phnum > 512)
        return -1;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph)
            return -1;
        if (ph.p_type == PT_INTERP)
            return 1;
    }
    return 0;
}

void lg_loaded_reason(const char *path, bool saw_exec, char *buf, size_t len)
{
    struct stat st;
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        int interp = has_interp(fd);
        close(fd);
        if ((st.st_mode & S_ISUID) && st.st_uid != geteuid()) {
            snprintf(buf, len, "'%s' is setuid (owner uid %u): the dynamic loader ignores "
                     "LD_PRELOAD for it", path, (unsigned)st.st_uid);
            return;
        }
        if ((st.st_mode & S_ISGID) && st.st_gid != getegid()) {
            snprintf(buf, len, "'%s' is setgid (group %u): the dynamic loader ignores "
                     "LD_PRELOAD for it", path, (unsigned)st.st_gid);
            return;
        }
        if (interp == 0) {
            snprintf(buf, len, "'%s' is statically linked: no dynamic loader preloads the "
                     "runtime into it", path);
            return;
        }
    } else if (fd >= 0) {
        close(fd);
    }
    if (saw_exec)
        snprintf(buf, len, "every process that ran it exec'd a program without it "
                 "(LD_PRELOAD removed from the environment, or a static or setuid program)");
    else
        snprintf(buf, len, "it did not start in any process (LD_PRELOAD removed or ignored)");
}
