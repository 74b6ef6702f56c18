/* handshake.c - telling `lockgraph run`/`record` that the runtime runs in a process image.
 *
 * The launcher (src/cli/launch.c) hands every process a pipe's write end at a high number
 * and LOCKGRAPH_HANDSHAKE=FD:INODE. Each image that loads the runtime writes "L PID\n" at
 * init; an exec through the interposed exec family writes "X PID\n" before the real call
 * (and "L PID\n" again if it failed): the image that follows may not load it (LD_PRELOAD
 * removed from its environment, a static or setuid program). From these the launcher knows
 * whether any process image of the tree still ran the runtime at its end; none, or no
 * message at all, is "not loaded": nothing was checked. At its end an image that found
 * defects says "D PID N", so the launcher can end with --exitcode when the program's own
 * status hid them.
 *
 * The descriptor is used only when it is still that pipe (fstat: a FIFO with that inode),
 * so a process that inherited the variable but not the descriptor writes nothing into a file
 * that now has the number. It is close-on-exec except across an interposed exec (the next
 * image must find it), and the program's close()/dup2() leave it alone (fds.c). Writes are
 * non-blocking (the launcher made the pipe so): a full pipe loses a message, never blocks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/ownfd.h"
#include "rt.h"

static lg_ownfd hs = {.fd = -1};

struct lg_ownfd *rt_handshake_ownfd(void)
{
    return &hs;
}

static void say_n(char what, int count)
{
    char m[48];
    int n = count ? snprintf(m, sizeof m, "%c %d %d\n", what, rt_pid(), count)
                  : snprintf(m, sizeof m, "%c %d\n", what, rt_pid());
    if (hs.fd >= 0 && n > 0 && lg_ownfd_same(&hs)) {
        ssize_t w = write(hs.fd, m, (size_t)n);
        (void)w;   /* a full pipe: the launcher then counts the tree as loaded */
    }
}

static void say(char what)
{
    say_n(what, 0);
}

/* "D PID N": this image found N defects (or inherited them across an exec). */
void rt_handshake_defects(int n)
{
    if (n > 0)
        say_n('D', n);
}

void rt_handshake_init(void)
{
    const char *v = secure_getenv("LOCKGRAPH_HANDSHAKE");
    int fd;
    unsigned long ino;
    struct stat st;
    if (!v || sscanf(v, "%d:%lu", &fd, &ino) != 2 || fd < 0 || fstat(fd, &st) != 0
        || !S_ISFIFO(st.st_mode) || (unsigned long)st.st_ino != ino)
        return;
    hs = (lg_ownfd){.fd = fd, .dev = st.st_dev, .ino = st.st_ino};
    fcntl(fd, F_SETFD, FD_CLOEXEC);   /* not for what the program runs without our exec */
    say('L');
}

void rt_handshake_exec(bool before)
{
    if (hs.fd < 0 || !lg_ownfd_same(&hs))
        return;
    say(before ? 'X' : 'L');
    fcntl(hs.fd, F_SETFD, before ? 0 : FD_CLOEXEC);
}
