/* sched.c - `lockgraph record --sched`: a private tracefs instance for sched_switch and
 * sched_waking of one process tree, its text output parsed into lg_tl_sched records, and the
 * SCHED chunk appended to a trace (see sched.h; format in docs/trace-format.md).
 *
 * Why tracefs and not perf_event_open: an instance is private (it never touches the global
 * buffer other tools use), set_event_pid + options/event-fork follows every thread and child
 * the program makes, and with trace_clock "mono" its timestamps are CLOCK_MONOTONIC, the
 * clock the trace is calibrated against. Its text output has microsecond precision.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/safefile.h"
#include "../util/xalloc.h"
#include "format.h"
#include "sched.h"

#define SCHED_BUFFER_KB "16384"   /* per CPU */

static int put(const lg_sched_session *s, const char *file, const char *value, char *err,
               size_t errlen)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", s->dir, file);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t n = strlen(value);
    ssize_t w = write(fd, value, n);
    int e = errno;
    close(fd);
    if (w != (ssize_t)n) {
        snprintf(err, errlen, "cannot write '%s' to '%s': %s", value, path,
                 w < 0 ? strerror(e) : "short write");
        return -1;
    }
    return 0;
}

int lg_sched_start(lg_sched_session *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    snprintf(s->root, sizeof s->root, "/sys/kernel/tracing");
    struct stat sb;
    char probe[128];
    snprintf(probe, sizeof probe, "%s/instances", s->root);
    if (stat(probe, &sb) != 0) {
        if (geteuid() != 0) {
            snprintf(err, errlen, "needs root (tracefs at %s)", s->root);
            return -1;
        }
        if (mount("nodev", s->root, "tracefs", 0, NULL) != 0) {
            snprintf(err, errlen, "cannot mount tracefs at %s: %s", s->root, strerror(errno));
            return -1;
        }
        s->mounted = true;
        if (stat(probe, &sb) != 0) {
            snprintf(err, errlen, "tracefs at %s has no instances: %s", s->root, strerror(errno));
            lg_sched_stop(s);
            return -1;
        }
    }
    snprintf(probe, sizeof probe, "%s/events/sched/sched_switch", s->root);
    if (stat(probe, &sb) != 0) {
        snprintf(err, errlen, "the kernel has no sched_switch event (%s)", probe);
        lg_sched_stop(s);
        return -1;
    }
    snprintf(s->dir, sizeof s->dir, "%s/instances/lockgraph-%d", s->root, (int)getpid());
    if (mkdir(s->dir, 0700) != 0) {
        snprintf(err, errlen, "cannot make the tracefs instance '%s': %s", s->dir,
                 errno == EACCES || errno == EPERM ? "needs root" : strerror(errno));
        lg_sched_stop(s);
        return -1;
    }
    s->made = true;
    if (put(s, "tracing_on", "0", err, errlen) < 0 || put(s, "trace_clock", "mono", err, errlen) < 0
        || put(s, "buffer_size_kb", SCHED_BUFFER_KB, err, errlen) < 0
        || put(s, "options/event-fork", "1", err, errlen) < 0) {
        lg_sched_stop(s);
        return -1;
    }
    return 0;
}

int lg_sched_follow(lg_sched_session *s, pid_t pid, char *err, size_t errlen)
{
    char p[32];
    snprintf(p, sizeof p, "%d", (int)pid);
    if (put(s, "set_event_pid", p, err, errlen) < 0
        || put(s, "events/sched/sched_switch/enable", "1", err, errlen) < 0
        || put(s, "events/sched/sched_waking/enable", "1", err, errlen) < 0
        || put(s, "tracing_on", "1", err, errlen) < 0)
        return -1;
    return 0;
}

static int parse_int_after(const char *from, const char *key, int *out)
{
    const char *p = strstr(from, key);
    if (!p)
        return -1;
    char *end;
    long v = strtol(p + strlen(key), &end, 10);
    if (end == p + strlen(key) || v < 0 || v > INT32_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

/* "          comm-1234    [001] d..2.  4764.148961: sched_switch: prev_comm=... prev_pid=1234
 *  prev_prio=120 prev_state=S ==> next_comm=... next_pid=0 next_prio=120" */
int lg_sched_parse_line(const char *line, lg_tl_sched *out)
{
    if (line[0] == '#')
        return 0;
    const char *ev = strstr(line, ": sched_switch: ");
    int kind = LG_TL_SCHED_SWITCH;
    if (!ev) {
        ev = strstr(line, ": sched_waking: ");
        kind = LG_TL_SCHED_WAKING;
    }
    if (!ev)
        return 0;
    /* the timestamp: the token just before ": sched_" */
    const char *t = ev;
    while (t > line && t[-1] != ' ')
        t--;
    char *end;
    unsigned long long sec = strtoull(t, &end, 10);
    if (end == t || *end != '.')
        return 0;
    const char *f = end + 1;
    unsigned long long frac = strtoull(f, &end, 10);
    int digits = (int)(end - f);
    if (digits < 1 || digits > 9 || end != ev)
        return 0;
    for (int i = digits; i < 9; i++)
        frac *= 10;
    /* the current task: "comm-PID" before " [CPU]" */
    const char *br = strstr(line, " [");
    if (!br || br > t)
        return 0;
    const char *q = br;
    while (q > line && q[-1] == ' ')
        q--;
    const char *d = q;
    while (d > line && d[-1] >= '0' && d[-1] <= '9')
        d--;
    if (d == q || d == line || d[-1] != '-')
        return 0;
    int cur = atoi(d);
    /* irq-context flags ("d.h3.": h hardirq, s softirq, H both): no task did the wake-up */
    const char *flags = br + 2;
    while (*flags && *flags != ']')
        flags++;
    while (*flags == ']' || *flags == ' ')
        flags++;
    bool irq = flags[0] && flags[1] && (flags[2] == 'h' || flags[2] == 's' || flags[2] == 'H');
    lg_tl_sched r = {.ts = sec * 1000000000ull + frac, .kind = (uint8_t)kind};
    const char *args = ev + 16;
    if (kind == LG_TL_SCHED_SWITCH) {
        const char *arrow = strstr(args, " ==> ");
        const char *st = strstr(args, "prev_state=");
        if (!arrow || !st || parse_int_after(args, "prev_pid=", &r.a) < 0
            || parse_int_after(arrow, "next_pid=", &r.b) < 0)
            return 0;
        r.state = st[11] && st[11] != ' ' ? st[11] : '?';
    } else {
        if (parse_int_after(args, " pid=", &r.b) < 0)
            return 0;
        r.a = irq ? 0 : cur;   /* the waker: the task that ran the wake-up (0: an interrupt) */
        r.state = 0;
    }
    *out = r;
    return 1;
}

static uint64_t overruns(const lg_sched_session *s)
{
    uint64_t total = 0;
    for (int cpu = 0; cpu < 4096; cpu++) {
        char path[256];
        snprintf(path, sizeof path, "%s/per_cpu/cpu%d/stats", s->dir, cpu);
        FILE *f = fopen(path, "re");
        if (!f)
            break;
        char line[128];
        unsigned long long v;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "overrun: %llu", &v) == 1)
                total += v;
        fclose(f);
    }
    return total;
}

int lg_sched_collect(lg_sched_session *s, lg_tl_sched **out, size_t *n, uint64_t *lost,
                     char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    *lost = 0;
    if (put(s, "tracing_on", "0", err, errlen) < 0)
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/trace", s->dir);
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    lg_tl_sched *arr = NULL;
    size_t cnt = 0;
    while (getline(&line, &cap, f) > 0) {
        lg_tl_sched r;
        if (lg_sched_parse_line(line, &r) == 1 && LG_APPEND(arr, cnt, &r) < 0) {
            snprintf(err, errlen, "out of memory reading '%s'", path);
            free(arr);
            free(line);
            fclose(f);
            return -1;
        }
    }
    free(line);
    fclose(f);
    *lost = overruns(s);
    *out = arr;
    *n = cnt;
    return 0;
}

void lg_sched_stop(lg_sched_session *s)
{
    if (s->made) {
        char e[256];
        put(s, "tracing_on", "0", e, sizeof e);
        put(s, "events/sched/sched_switch/enable", "0", e, sizeof e);
        put(s, "events/sched/sched_waking/enable", "0", e, sizeof e);
        rmdir(s->dir);
        s->made = false;
    }
    if (s->mounted) {
        umount(s->root);
        s->mounted = false;
    }
}

static uint8_t *put_chunk_header(uint8_t *h, uint32_t len, const uint8_t *payload)
{
    lg_put32(h, LG_TRACE_CHUNK_MAGIC);
    h[4] = LG_CHUNK_SCHED;
    h[5] = h[6] = h[7] = 0;
    lg_put32(h + 8, len);
    lg_put32(h + 12, 0);
    lg_put32(h + 16, lg_trace_sum(payload, len, (uint64_t)LG_CHUNK_SCHED << 32));
    return h;
}

int lg_sched_append(const char *path, const lg_tl_sched *r, size_t n, uint64_t lost, char *err,
                    size_t errlen)
{
    /* The trace the runtime wrote: ours and regular, never reached through a symlink. */
    int fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    uint8_t hdr[8];
    struct stat sb;
    const char *why = fd < 0 ? (errno == ELOOP ? lg_safe_strerror(LG_SAFE_ESYMLINK) : strerror(errno))
                      : fstat(fd, &sb) < 0 ? strerror(errno)
                      : !S_ISREG(sb.st_mode) ? lg_safe_strerror(LG_SAFE_ENOTREG)
                      : sb.st_uid != geteuid() ? lg_safe_strerror(LG_SAFE_EFOREIGN)
                      : pread(fd, hdr, 8, 0) != 8 || memcmp(hdr, LG_TRACE_MAGIC, 8) != 0
                          ? "not a lockgraph trace" : NULL;
    if (why) {
        snprintf(err, errlen, "cannot add the scheduler events to '%s': %s", path, why);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* Chunks of at most 200000 records (at most 23 bytes each: well under the 16 MiB cap);
     * an empty recording still writes one chunk, so the report knows --sched was on. */
    const size_t per = 200000;
    uint8_t *buf = malloc(LG_TRACE_CHUNK_HEADER + 32 + per * 23);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t i = 0;
    int rc = 0;
    do {
        size_t k = n - i < per ? n - i : per;
        uint8_t *p = buf + LG_TRACE_CHUNK_HEADER;
        p = lg_put_varint(p, i == 0 ? lost : 0);
        p = lg_put_varint(p, k);
        uint64_t prev = 0;
        for (size_t j = i; j < i + k; j++) {
            *p++ = r[j].kind;
            p = lg_put_varint(p, lg_zigzag((int64_t)(r[j].ts - prev)));
            prev = r[j].ts;
            *p++ = (uint8_t)r[j].state;
            p = lg_put_varint(p, (uint64_t)r[j].a);
            p = lg_put_varint(p, (uint64_t)r[j].b);
        }
        uint32_t len = (uint32_t)(p - buf - LG_TRACE_CHUNK_HEADER);
        put_chunk_header(buf, len, buf + LG_TRACE_CHUNK_HEADER);
        size_t total = LG_TRACE_CHUNK_HEADER + len;
        if (write(fd, buf, total) != (ssize_t)total) {
            snprintf(err, errlen, "cannot add the scheduler events to '%s': %s", path,
                     strerror(errno));
            rc = -1;
            break;
        }
        i += k;
    } while (i < n);
    free(buf);
    close(fd);
    return rc;
}
