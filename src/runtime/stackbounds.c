/* stackbounds.c - the calling thread's stack range, without the program's allocator.
 *
 * glibc's pthread_getattr_np mallocs (the attribute's CPU set for every thread; a FILE for
 * /proc/self/maps for the main thread), and a thread's first lock call sets up its record: a
 * jemalloc thread's first lock is jemalloc's own arena mutex, so that malloc re-enters
 * jemalloc under it. With glibc's allocator (whose locks are its own, never interposed) the
 * call is exact and cheap, so it is kept; with any other the range comes from
 * /proc/self/maps, read with read(2): the mapping holding the stack pointer (a thread stack
 * is one mapping, its guard page another; the main thread's grows down to RLIMIT_STACK).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"

static int glibc_malloc = -1;   /* whether malloc is glibc's: decided at first use */

static bool malloc_is_glibc(void)
{
    if (glibc_malloc < 0) {
        Dl_info info;
        void *m = dlsym(RTLD_DEFAULT, "malloc");
        glibc_malloc = m && dladdr(m, &info) && info.dli_fname
                       && strstr(info.dli_fname, "/libc.so") != NULL;
    }
    return glibc_malloc == 1;
}

static uintptr_t hex(const char **p)
{
    uintptr_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16u;
        if (d > 15)
            return v;
        v = v << 4 | d;
    }
}

/* The mapping of /proc/self/maps holding `sp`, and the end of the one below it. */
static bool maps_find(uintptr_t sp, uintptr_t *lo, uintptr_t *hi, uintptr_t *below)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[4096];
    size_t have = 0;
    uintptr_t prev_end = 0;
    bool found = false;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have - 1);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        char *line = buf, *nl;
        while (!found && (nl = strchr(line, '\n'))) {
            const char *p = line;
            uintptr_t s = hex(&p);
            uintptr_t e = *p == '-' ? (p++, hex(&p)) : 0;
            if (sp >= s && sp < e) {
                *lo = s;
                *hi = e;
                *below = prev_end;
                found = true;
            }
            prev_end = e;
            line = nl + 1;
        }
        if (found)
            break;
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
        if (have >= sizeof buf - 1)
            have = 0;   /* a line longer than the buffer: a path; its range was seen */
    }
    close(fd);
    return found;
}

void rt_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    *lo = *hi = 0;
    if (malloc_is_glibc()) {
        pthread_attr_t a;
        if (pthread_getattr_np(pthread_self(), &a) == 0) {
            void *base;
            size_t sz;
            if (pthread_attr_getstack(&a, &base, &sz) == 0) {
                *lo = (uintptr_t)base;
                *hi = (uintptr_t)base + sz;
            }
            pthread_attr_destroy(&a);
        }
        return;
    }
    char here;
    uintptr_t s, e, below;
    if (!maps_find((uintptr_t)&here, &s, &e, &below))
        return;
    *lo = s;
    *hi = e;
    if (syscall(SYS_gettid) == getpid()) {
        /* The main thread's stack grows on demand down to the limit (or the mapping below). */
        struct rlimit rl;
        uintptr_t room = getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                             ? (uintptr_t)rl.rlim_cur : (uintptr_t)8 << 20;
        *lo = e - below > room ? e - room : below;
    }
}
