/* decode.c - what each blocked thread waits for: the futex arguments (uaddr, op, val) read
 * from /proc or the registers, the glibc layout around uaddr (glibc-locks.md), and the
 * waiting function on the stack to break the layout's ambiguities.
 *
 * The waiting frame decides the object's kind when the stack names one (libc's dynamic
 * symbols are always there, even for stripped programs); the layout then gives the object's
 * base, owner, reader count and kind bits. Without a known glibc version nothing is
 * guessed: the wait stays "futex wait on ADDR". Not here: names and the graph (build.c). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/glibc-abi.h"
#include "internal.h"

/* futex(2) operations, as the kernel spells them. */
enum {
    FUTEX_WAIT_OP = 0,
    FUTEX_LOCK_PI_OP = 6,
    FUTEX_WAIT_BITSET_OP = 9,
    FUTEX_LOCK_PI2_OP = 13,
    FUTEX_PRIVATE = 128,
    FUTEX_CLOCK_RT = 256,
};

/* A FILE from fopen/fdopen is glibc's `struct locked_FILE { struct _IO_FILE_plus fp;
 * _IO_lock_t lock; ... }`: its lock follows the FILE and its vtable pointer. The FILE's
 * fields come from the system's own <stdio.h> (struct _IO_FILE). */
enum { FILE_MAGIC_MASK = (int)0xffff0000u, FILE_MAGIC = (int)0xfbad0000u };
#define LOCKED_FILE_LOCK (sizeof(FILE) + sizeof(void *))

typedef enum api {
    API_NONE, API_MUTEX, API_RDLOCK, API_WRLOCK, API_COND, API_SEM, API_JOIN, API_BARRIER,
    API_LLL_PRIVATE,         /* a libc-internal lock (stdio's FILE locks among them) */
} api;

/* Waiting functions by name prefix, after leading underscores and "GI_" are dropped. The
 * innermost match wins: a condition wait re-taking its mutex shows lll_lock_wait first. */
static const struct { const char *prefix; api a; } api_names[] = {
    {"lll_lock_wait_private", API_LLL_PRIVATE},   /* before its prefix lll_lock_wait */
    {"lll_lock_wait", API_MUTEX}, {"lll_robust_lock", API_MUTEX},
    {"pthread_mutex_lock", API_MUTEX}, {"pthread_mutex_timedlock", API_MUTEX},
    {"pthread_mutex_clocklock", API_MUTEX}, {"mutex_lock_full", API_MUTEX},
    {"mtx_lock", API_MUTEX}, {"mtx_timedlock", API_MUTEX},
    {"pthread_rwlock_rdlock", API_RDLOCK}, {"pthread_rwlock_timedrdlock", API_RDLOCK},
    {"pthread_rwlock_clockrdlock", API_RDLOCK},
    {"pthread_rwlock_wrlock", API_WRLOCK}, {"pthread_rwlock_timedwrlock", API_WRLOCK},
    {"pthread_rwlock_clockwrlock", API_WRLOCK},
    {"pthread_cond_wait", API_COND}, {"pthread_cond_timedwait", API_COND},
    {"pthread_cond_clockwait", API_COND}, {"cnd_wait", API_COND}, {"cnd_timedwait", API_COND},
    {"new_sem_wait", API_SEM}, {"sem_wait", API_SEM}, {"sem_timedwait", API_SEM},
    {"sem_clockwait", API_SEM},
    {"pthread_join", API_JOIN}, {"pthread_timedjoin", API_JOIN},
    {"pthread_clockjoin", API_JOIN}, {"thrd_join", API_JOIN},
    {"pthread_barrier_wait", API_BARRIER},
};

static const char *strip_name(const char *n)
{
    while (*n == '_')
        n++;
    if (strncmp(n, "GI_", 3) == 0)
        n += 3;
    while (*n == '_')
        n++;
    return n;
}

/* libc's frames, and the lockgraph runtime's interposers around them: not the caller's code
 * (the wait is annotated at the first frame past both). */
static bool is_libc(const lg_frame *f)
{
    const char *m = f->module ? strrchr(f->module, '/') : NULL;
    m = m ? m + 1 : f->module;
    return m && (strncmp(m, "libc.so", 7) == 0 || strncmp(m, "libpthread", 10) == 0 ||
                 strncmp(m, "liblockgraph", 12) == 0);
}

/* The waiting function and where to annotate: the first frame of the caller's own code. */
static api find_api(insp_thread *t, bool *c11)
{
    *c11 = false;
    for (size_t i = 0; i < t->stack.n; i++) {
        const char *fn = t->stack.frames[i].function;
        if (!fn)
            continue;
        const char *s = strip_name(fn);
        for (size_t k = 0; k < sizeof api_names / sizeof *api_names; k++) {
            size_t len = strlen(api_names[k].prefix);
            if (strncmp(s, api_names[k].prefix, len) != 0)
                continue;
            size_t j = i + 1;
            while (j < t->stack.n && is_libc(&t->stack.frames[j])) {
                const char *o = t->stack.frames[j].function;
                if (o && strncmp(strip_name(o), "mtx_", 4) == 0)
                    *c11 = true;
                j++;
            }
            t->wait_frame = (int)(j < t->stack.n ? j : i) + 1;
            return api_names[k].a;
        }
    }
    return API_NONE;
}

static bool has_tid(const insp_target *tg, int tid)
{
    for (size_t i = 0; i < tg->n; i++)
        if (tg->t[i].tid == tid)
            return true;
    return false;
}

bool insp_tid_here(const insp_target *tg, int tid)
{
    if (tid <= 0)
        return false;
    if (has_tid(tg, tid))
        return true;
    for (size_t k = 0; k < tg->nsys; k++)
        if (has_tid(tg->sys[k], tid))
            return true;
    return false;
}

bool insp_tid_elsewhere(const insp_target *tg, int tid, int *pid, char *comm, size_t commlen)
{
    if (tg->is_core || tid <= 0)
        return false;
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/status", tid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strstr(buf, "\nTgid:");
    int tgid = p ? atoi(p + 6) : 0;
    if (tgid <= 0 || tgid == tg->pid)
        return false;
    *pid = tgid;
    comm[0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/comm", tgid);
    if ((f = fopen(path, "re"))) {
        if (fgets(comm, (int)commlen, f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
    }
    return true;
}

static bool live_tid(insp_target *tg, uint32_t tid)
{
    return insp_tid_here(tg, (int)tid);
}

static void add_attr(insp_wait *w, const char *a)
{
    size_t n = strlen(w->attrs);
    snprintf(w->attrs + n, sizeof w->attrs - n, "%s%s", n ? ", " : "", a);
}

static bool decode_mutex(insp_thread *t, insp_wait *w, bool c11, bool pi_op)
{
    uint64_t b = t->arg[0];
    uint32_t word, count, owner, kind;
    if (!mem_get32(t, b + GLIBC_MUTEX_LOCK, &word) || !mem_get32(t, b + GLIBC_MUTEX_COUNT, &count)
        || !mem_get32(t, b + GLIBC_MUTEX_OWNER, &owner)
        || !mem_get32(t, b + GLIBC_MUTEX_KIND, &kind))
        return false;
    if (kind & ~(uint32_t)GLIBC_MUTEX_KIND_KNOWN_BITS)
        return false;
    static const char *const types[] = {"normal", "recursive", "errorcheck", "adaptive"};
    w->type = LG_LOCK_MUTEX;
    w->lock = b;
    w->mode = LG_MODE_EXCLUSIVE;
    add_attr(w, c11 ? "c11" : types[kind & GLIBC_MUTEX_KIND_TYPE]);
    if (kind & GLIBC_MUTEX_KIND_ROBUST)
        add_attr(w, "robust");
    if ((kind & GLIBC_MUTEX_KIND_PI) || pi_op)
        add_attr(w, "priority-inheritance");
    if (kind & GLIBC_MUTEX_KIND_PP)
        add_attr(w, "priority-protect");
    if (kind & GLIBC_MUTEX_KIND_PSHARED) {
        add_attr(w, "process-shared");
        w->pshared = true;
    }
    if (w->timed)
        add_attr(w, "timed");
    if ((kind & GLIBC_MUTEX_KIND_TYPE) == 1 && count > 1) {
        char d[32];
        snprintf(d, sizeof d, "depth %u", count);
        add_attr(w, d);
    }
    /* Robust and PI mutexes keep the owner in the futex word; others in __owner. */
    if ((kind & (GLIBC_MUTEX_KIND_ROBUST | GLIBC_MUTEX_KIND_PI)) || pi_op)
        w->owner = (int)(word & GLIBC_FUTEX_TID_MASK);
    else
        w->owner = owner < GLIBC_MUTEX_NOT_RECOVERABLE ? (int)owner : 0;
    if (owner == GLIBC_MUTEX_OWNER_DIED || (word & GLIBC_FUTEX_OWNER_DIED)) {
        w->owner_died = true;
        add_attr(w, "owner died");
    }
    return true;
}

/* A PI or robust lock the kernel refused with EDEADLK (or ESRCH): glibc then parks the
 * thread forever on a word of its own stack. Which mutex it wanted is no longer in the
 * futex arguments; find it among the callee-saved registers and the pointers saved in the
 * waiting frames: a plausible PI or robust mutex whose futex word names another live
 * thread. */
static bool decode_parked(insp_target *tg, insp_thread *t, insp_wait *w)
{
    enum { SCAN = 1024, NREGS = 6 };
    uint64_t words[NREGS + SCAN / 8];
    memcpy(words, t->callee, sizeof t->callee);
    if (!t->sp || tg->read(tg->read_ctx, t->sp, words + NREGS, SCAN) < 0)
        memset(words + NREGS, 0, SCAN);
    /* glibc keeps &mutex or &mutex->__kind (+16) live across the call. */
    static const uint64_t back[] = {0, GLIBC_MUTEX_KIND};
    for (size_t i = 0; i < NREGS + SCAN / 8; i++) {
        for (size_t b = 0; b < sizeof back / sizeof *back; b++) {
            uint64_t a = words[i] - back[b];
            uint32_t m[5];
            if (words[i] < 4096 || a % 8 || tg->read(tg->read_ctx, a, m, sizeof m) < 0)
                continue;
            uint32_t word = m[0], kind = m[4];
            int owner = (int)(word & GLIBC_FUTEX_TID_MASK);
            if ((kind & ~(uint32_t)GLIBC_MUTEX_KIND_KNOWN_BITS) ||
                !(kind & (GLIBC_MUTEX_KIND_PI | GLIBC_MUTEX_KIND_ROBUST)) || owner == t->tid ||
                !live_tid(tg, (uint32_t)owner))
                continue;
            w->type = LG_LOCK_MUTEX;
            w->lock = a;
            w->mode = LG_MODE_EXCLUSIVE;
            w->owner = owner;
            snprintf(w->attrs, sizeof w->attrs, "%s%s, the kernel refused it with EDEADLK",
                     kind & GLIBC_MUTEX_KIND_PI ? "priority-inheritance" : "robust",
                     kind & GLIBC_MUTEX_KIND_PSHARED && !(kind & GLIBC_MUTEX_KIND_ROBUST)
                         ? ", process-shared" : "");
            return true;
        }
    }
    return false;
}

/* glibc's parking spot after EDEADLK: `lll_timedwait(&(int){0}, 0, ...)`, a zero word on
 * the thread's own stack waited for with value 0. A mutex that merely lives on the stack
 * (a local) has its real lock word there: 2, or an owner TID. */
static bool parked(const insp_thread *t)
{
    uint32_t word = 1;
    return t->sp && t->arg[0] >= t->sp - 4096 && t->arg[0] < t->sp + (1u << 20) &&
           (uint32_t)t->arg[2] == 0 && mem_get32(t, t->arg[0], &word) && word == 0;
}

static bool rw_plausible(const insp_thread *t, uint64_t b)
{
    uint32_t flags, shared;
    return mem_get32(t, b + GLIBC_RW_FLAGS, &flags) && mem_get32(t, b + GLIBC_RW_SHARED, &shared) &&
           flags <= 2 && shared <= 1;
}

static bool rw_shared(const insp_thread *t, uint64_t b)
{
    uint32_t shared = 0;
    return mem_get32(t, b + GLIBC_RW_SHARED, &shared) && shared == 1;
}

static bool rw_fill(insp_thread *t, insp_wait *w, uint64_t b, lg_mode mode)
{
    uint32_t readers, writer;
    if (!rw_plausible(t, b) || !mem_get32(t, b + GLIBC_RW_READERS, &readers) ||
        !mem_get32(t, b + GLIBC_RW_CUR_WRITER, &writer))
        return false;
    w->type = LG_LOCK_RWLOCK;
    w->lock = b;
    w->mode = mode;
    w->owner = (int)writer;
    w->pshared = rw_shared(t, b);
    if (w->pshared)
        add_attr(w, "process-shared");
    w->readers = (int)(readers >> GLIBC_RW_READER_SHIFT);
    /* While write-locked nobody read-holds it: the count is of readers waiting. */
    if (writer)
        w->readers = 0;
    if (w->timed)
        add_attr(w, "timed");
    return true;
}

static bool decode_rwlock(insp_target *tg, insp_thread *t, insp_wait *w, api a)
{
    uint64_t ua = t->arg[0];
    uint32_t val = (uint32_t)t->arg[2], cur;
    if (a == API_RDLOCK) {
        if (val == 3 && rw_fill(t, w, ua - GLIBC_RW_WRPHASE, LG_MODE_SHARED))
            return true;
        return mem_get32(t, ua, &cur) && cur == val && rw_fill(t, w, ua, LG_MODE_SHARED);
    }
    if (a == API_WRLOCK) {
        if (val == 3)
            return rw_fill(t, w, ua - GLIBC_RW_WRITERS_FUTEX, LG_MODE_EXCLUSIVE);
        return rw_fill(t, w, ua - GLIBC_RW_WRPHASE, LG_MODE_EXCLUSIVE);
    }
    /* No waiting frame: val 3 is a reader on rw+8 or a writer on rw+12; the base whose
     * __cur_writer is a live thread is the right one. */
    if (val == 3) {
        uint32_t w8 = 0, w12 = 0;
        mem_get32(t, ua - GLIBC_RW_WRPHASE + GLIBC_RW_CUR_WRITER, &w8);
        mem_get32(t, ua - GLIBC_RW_WRITERS_FUTEX + GLIBC_RW_CUR_WRITER, &w12);
        if (live_tid(tg, w12) && rw_plausible(t, ua - GLIBC_RW_WRITERS_FUTEX))
            return rw_fill(t, w, ua - GLIBC_RW_WRITERS_FUTEX, LG_MODE_EXCLUSIVE);
        if (live_tid(tg, w8))
            return rw_fill(t, w, ua - GLIBC_RW_WRPHASE, LG_MODE_SHARED);
        return false;
    }
    if (val == 2)
        return rw_fill(t, w, ua - GLIBC_RW_WRPHASE, LG_MODE_EXCLUSIVE);
    return false;
}

static bool decode_cond(insp_target *tg, insp_thread *t, insp_wait *w)
{
    uint64_t ua = t->arg[0];
    w->type = LG_LOCK_CONDVAR;
    w->lock_flags |= LG_LOCK_F_NO_OWNER;
    /* __g_signals[2] follow 8-byte fields: [0] is 8-aligned, [1] is not. */
    if (tg->cond_signals_off >= 0)
        w->lock = ua - (uint64_t)tg->cond_signals_off - (ua % 8 ? 4 : 0);
    else
        w->lock = ua;
    if (w->timed)
        add_attr(w, "timed");
    return true;
}

static bool decode_sem(insp_thread *t, insp_wait *w)
{
    uint32_t value, nwaiters;
    w->type = LG_LOCK_SEMAPHORE;
    w->lock = t->arg[0];
    w->lock_flags |= LG_LOCK_F_NO_OWNER;
    if (mem_get32(t, t->arg[0], &value) && mem_get32(t, t->arg[0] + 4, &nwaiters)) {
        snprintf(w->attrs, sizeof w->attrs, "value %u, %u waiting", value, nwaiters);
    }
    return true;
}

static bool decode_barrier(insp_thread *t, insp_wait *w)
{
    uint32_t in, count;
    w->type = LG_LOCK_BARRIER;
    w->lock = t->arg[0] - GLIBC_BAR_ROUND;
    w->lock_flags |= LG_LOCK_F_NO_OWNER;
    if (mem_get32(t, w->lock + GLIBC_BAR_IN, &in)
        && mem_get32(t, w->lock + GLIBC_BAR_COUNT, &count) && count >= in)
        snprintf(w->attrs, sizeof w->attrs, "%u of %u arrived", in % (count ? count : 1),
                 count);
    return true;
}

/* The owner is not a thread here: a process-shared object's owner may be a thread of
 * another process (named so), or, in a core, outside the core. A private lock's owner TID
 * in another process is a reused TID: its real owner exited. */
static bool owner_elsewhere(insp_target *tg, insp_wait *w)
{
    if (!w->pshared)
        return false;
    if (insp_tid_elsewhere(tg, w->owner, &w->owner_pid, w->owner_comm, sizeof w->owner_comm) ||
        tg->is_core) {
        w->lock_flags |= LG_LOCK_F_OWNER_ELSEWHERE;
        return true;
    }
    return false;
}

/* The owner of w holds it here: a private lock's owner is a thread of this very process
 * (another process's thread with the same TID cannot own this copy), a process-shared one's
 * a thread of any process analysed with it. */
static bool owner_here(insp_target *tg, const insp_wait *w)
{
    return w->pshared ? live_tid(tg, (uint32_t)w->owner) : has_tid(tg, w->owner);
}

/* A private lock whose owner is a live thread of this process's parent: the lock was copied
 * locked by fork() while that thread held it (only the forking thread is copied). */
static void owner_in_parent(insp_target *tg, insp_wait *w)
{
    int pid = 0, ppid = 0;
    char comm[64], path[64], buf[512];
    const char *q;
    if (tg->is_core || !insp_tid_elsewhere(tg, w->owner, &pid, comm, sizeof comm))
        return;
    snprintf(path, sizeof path, "/proc/%d/stat", tg->pid);
    if (proc_read_small(path, buf, sizeof buf) <= 0 || !(q = strrchr(buf, ')')) ||
        sscanf(q + 2, "%*c %d", &ppid) != 1 || ppid != pid)
        return;
    w->owner_forked = true;
    w->lock_flags |= LG_LOCK_F_OWNER_FORKED;
    w->owner_pid = pid;
    snprintf(w->owner_comm, sizeof w->owner_comm, "%s", comm);
}

/* A caller that works on a FILE: glibc takes FILE locks inline inside these. */
static bool stdio_function(const char *fn)
{
    static const char *const words[] = {
        "IO_", "flockfile", "ftrylockfile", "funlockfile", "printf", "scanf", "puts", "putc",
        "getc", "fwrite", "fread", "fgets", "fflush", "fclose", "fseek", "ftell", "getline",
        "getdelim", "perror", "setvbuf", "putchar", "getchar", "ungetc", "fgetpos", "fsetpos",
        "rewind", "fileno", "feof", "ferror", "clearerr", "fputs", "fputc", "fgetc",
    };
    const char *s = strip_name(fn);
    if (strncmp(s, "IO_", 3) == 0)
        return true;
    for (size_t i = 1; i < sizeof words / sizeof *words; i++)
        if (strstr(s, words[i]))
            return true;
    return false;
}

/* The thread whose descriptor (fs base) is `desc`, 0 none. */
static int thread_of_descriptor(const insp_target *tg, uint64_t desc, bool *all_known)
{
    *all_known = true;
    for (size_t i = 0; i < tg->n; i++) {
        if (!tg->t[i].fs_base)
            *all_known = false;
        else if (tg->t[i].fs_base == desc)
            return tg->t[i].tid;
    }
    return 0;
}

/* A wait in __lll_lock_wait_private: one of libc's own locks. It is a FILE's lock
 * (_IO_lock_t) only on evidence: libc's symbol of the standard streams' locks, a FILE
 * around it whose _lock points back at it, a stdio function calling, or an owner that is a
 * thread's descriptor; and the layout agrees (locked, count >= 1, an owner). */
static bool decode_stdio(insp_target *tg, insp_thread *t, insp_wait *w, bool lll_frame)
{
    uint64_t b = t->arg[0];
    uint32_t word, cnt, lo, hi;
    if (!mem_get32(t, b + GLIBC_IOLOCK_LOCK, &word) || !mem_get32(t, b + GLIBC_IOLOCK_CNT, &cnt)
        || !mem_get32(t, b + GLIBC_IOLOCK_OWNER, &lo)
        || !mem_get32(t, b + GLIBC_IOLOCK_OWNER + 4, &hi))
        return false;
    uint64_t owner = lo | (uint64_t)hi << 32;
    bool all_known = false;
    int tid = owner ? thread_of_descriptor(tg, owner, &all_known) : 0;
    static const char *const streams[] = {"stdin", "stdout", "stderr"};
    unsigned char fb[sizeof(FILE)];
    FILE *fp = (FILE *)fb;
    if (!tg->std_locks_read) {
        /* libc exports the standard FILEs (_IO_2_1_stdout_, ...); their locks are static
         * (_IO_stdfile_1_lock, a local symbol only debug info names) */
        static const char *const files[] = {"_IO_2_1_stdin_", "_IO_2_1_stdout_",
                                            "_IO_2_1_stderr_"};
        tg->std_locks_read = true;
        for (int k = 0; k < 3; k++) {
            uint64_t a = libc_symbol(tg, files[k]);
            if (a && tg->read(tg->read_ctx, a, fb, sizeof fb) == 0)
                tg->std_locks[k] = (uint64_t)(uintptr_t)fp->_lock;
        }
    }
    const char *stream = NULL;
    for (int k = 0; k < 3; k++)
        if (tg->std_locks[k] == b)
            stream = streams[k];
    uint64_t file = 0;
    if (!stream && b > LOCKED_FILE_LOCK &&
        tg->read(tg->read_ctx, b - LOCKED_FILE_LOCK, fb, sizeof fb) == 0 &&
        (fp->_flags & FILE_MAGIC_MASK) == FILE_MAGIC && (uint64_t)(uintptr_t)fp->_lock == b)
        file = b - LOCKED_FILE_LOCK;
    bool caller = false;
    if (t->wait_frame > 1 && (size_t)t->wait_frame <= t->stack.n)
        for (int i = 0; i < t->wait_frame - 1 && !caller; i++)
            caller = is_libc(&t->stack.frames[i]) && t->stack.frames[i].function &&
                     stdio_function(t->stack.frames[i].function);
    if (!stream && !file && (!lll_frame || (!caller && !tid)))
        return false;
    if (word == 0 || cnt == 0 || !owner)
        return false;
    w->type = LG_LOCK_STDIO;
    w->lock = b;
    w->mode = LG_MODE_EXCLUSIVE;
    w->owner = tid;
    if (stream)
        snprintf(w->obj, sizeof w->obj, "%s", stream);
    else if (file) {
        char *fs = symbolize_data(tg, file);
        if (fs && !strchr(fs, '+'))
            snprintf(w->obj, sizeof w->obj, "%s", fs);
        else
            snprintf(w->obj, sizeof w->obj, "0x%llx", (unsigned long long)file);
        free(fs);
    }
    if (cnt > 1) {
        char d[32];
        snprintf(d, sizeof d, "depth %u", cnt);
        add_attr(w, d);
    }
    if (!tid && all_known) {
        /* FILE locks are private to a process and every thread's descriptor is known: the
         * owner is gone. */
        char d[64];
        snprintf(d, sizeof d, "owner descriptor 0x%llx: no thread has it",
                 (unsigned long long)owner);
        add_attr(w, d);
        w->lock_flags |= LG_LOCK_F_OWNER_EXITED;
    } else if (!tid) {
        char d[64];
        snprintf(d, sizeof d, "owner descriptor 0x%llx", (unsigned long long)owner);
        add_attr(w, d);
    }
    return true;
}

/* GLib's locks (libglib-2.0). GMutex and GCond are GLib's own futex words: a wait with no
 * glibc locking function on the stack whose first frame past libc is in libglib. A GMutex
 * waiter is in g_mutex_lock's slow path (static: unnamed without debug info, since
 * g_mutex_lock tail-calls it), which waits with FUTEX_WAIT_PRIVATE for the value 2; a GCond
 * waiter in g_cond_wait or g_cond_wait_until (exported: named). GLib's other futex waits
 * (g_bit_lock, g_pointer_bit_lock) are named functions of their own and stay undecoded.
 * GLib's GMutex word records no owner, so none is given. GRecMutex and GRWLock are pthread
 * objects GLib allocates: glibc's waiting function decodes them, and the frame past libc
 * says whose they are. */
static const lg_frame *wait_frame_of(const insp_thread *t)
{
    return t->wait_frame > 0 && (size_t)t->wait_frame <= t->stack.n
           ? &t->stack.frames[t->wait_frame - 1] : NULL;
}

static bool in_glib(const lg_frame *f)
{
    const char *m = f->module ? strrchr(f->module, '/') : NULL;
    m = m ? m + 1 : f->module;
    return m && strncmp(m, "libglib-2.0.so", 14) == 0;
}

static bool decode_glib_futex(insp_thread *t, insp_wait *w, unsigned cmd, unsigned op,
                              uint32_t val)
{
    const lg_frame *f = wait_frame_of(t);
    if (!f || !in_glib(f) || cmd != FUTEX_WAIT_OP || !(op & FUTEX_PRIVATE))
        return false;
    const char *fn = f->function ? strip_name(f->function) : NULL;
    w->lock = t->arg[0];
    if (fn && strncmp(fn, "g_cond_wait", 11) == 0) {
        w->type = LG_LOCK_CONDVAR;
        w->family = "GCond";
        w->lock_flags |= LG_LOCK_F_NO_OWNER;
        return true;
    }
    if ((fn && strncmp(fn, "g_mutex_lock", 12) != 0) || val != 2)
        return false;
    w->type = LG_LOCK_MUTEX;
    w->mode = LG_MODE_EXCLUSIVE;
    w->family = "GMutex";
    add_attr(w, "owner not recorded by GLib");
    return true;
}

/* A pthread wait inside GLib's GRecMutex or GRWLock (glibc decoded it). */
static void glib_pthread_family(insp_thread *t, insp_wait *w)
{
    const lg_frame *f = wait_frame_of(t);
    const char *fn = f && in_glib(f) && f->function ? strip_name(f->function) : NULL;
    if (!fn)
        return;
    if (strncmp(fn, "g_rec_mutex_", 12) == 0)
        w->family = "GRecMutex's pthread mutex";
    else if (strncmp(fn, "g_rw_lock_", 10) == 0)
        w->family = "GRWLock's pthread rwlock";
}

/* Where a wait that no glibc function explains is annotated: the first frame past libc. */
static void raw_wait_frame(insp_thread *t)
{
    size_t j = 0;
    while (j < t->stack.n && is_libc(&t->stack.frames[j]))
        j++;
    t->wait_frame = j < t->stack.n ? (int)j + 1 : 0;
}

static void decode_futex(insp_target *tg, insp_thread *t)
{
    insp_wait *w = &t->w;
    uint64_t ua = t->arg[0];
    unsigned op = (unsigned)t->arg[1];
    unsigned cmd = op & ~(unsigned)(FUTEX_PRIVATE | FUTEX_CLOCK_RT);
    uint32_t val = (uint32_t)t->arg[2];
    w->kind = WAIT_LOCK;
    w->timed = t->arg[3] != 0;   /* the timeout pointer (NULL: waits forever) */
    bool c11 = false;
    api a = find_api(t, &c11);
    /* The stack is evidence when libc's frames are named: then no waiting glibc function
     * means the program waits on a futex of its own (InnoDB, GLib, Qt, Rust keep their own
     * futex locks), whatever the word's neighbours look like. */
    bool stack_named = t->stack.n && t->stack.frames[0].function;
    bool ok = false;
    if (a == API_NONE && stack_named) {
        raw_wait_frame(t);
        ok = decode_glib_futex(t, w, cmd, op, val);
    } else if (tg->glibc_known) {
        bool pi = cmd == FUTEX_LOCK_PI_OP || cmd == FUTEX_LOCK_PI2_OP;
        switch (pi ? API_MUTEX : a) {
        case API_MUTEX:
            if (!pi && parked(t))
                ok = decode_parked(tg, t, w);
            else
                ok = decode_mutex(t, w, c11, pi);
            break;
        case API_RDLOCK:
        case API_WRLOCK:
            ok = decode_rwlock(tg, t, w, a);
            break;
        case API_COND:
            ok = decode_cond(tg, t, w);
            break;
        case API_SEM:
            ok = decode_sem(t, w);
            break;
        case API_BARRIER:
            ok = decode_barrier(t, w);
            break;
        case API_LLL_PRIVATE:
            ok = decode_stdio(tg, t, w, true);
            break;
        case API_JOIN:
            w->type = LG_LOCK_THREAD;
            w->lock = ua;
            w->owner = (int)val;
            ok = true;
            break;
        case API_NONE: {
            /* No waiting frame (no symbols at all): the layout rules alone. */
            uint32_t word = 0, nw = 0;
            mem_get32(t, ua, &word);
            if (cmd == FUTEX_WAIT_OP && (op & FUTEX_PRIVATE) && decode_stdio(tg, t, w, false)) {
                ok = true;   /* the lock of a FILE: libc's stdout, or a FILE around it */
            } else if (cmd == FUTEX_WAIT_BITSET_OP && !(op & FUTEX_PRIVATE) && word == val &&
                       live_tid(tg, val)) {
                w->type = LG_LOCK_THREAD;
                w->lock = ua;
                w->owner = (int)val;
                ok = true;
            } else if ((val == 2 || (val & (uint32_t)GLIBC_FUTEX_WAITERS)) &&
                       decode_mutex(t, w, false, false) && w->owner &&
                       (live_tid(tg, (uint32_t)w->owner) ||
                        (w->pshared && owner_elsewhere(tg, w)))) {
                /* Layout alone: only a mutex whose owner is a live thread. A word of 2
                 * beside zeros is any program's own futex lock just as well. */
                ok = true;
            } else if (cmd == FUTEX_WAIT_BITSET_OP && (val == 2 || val == 3)) {
                memset(w->attrs, 0, sizeof w->attrs);
                ok = decode_rwlock(tg, t, w, API_NONE);
            } else if (cmd == FUTEX_WAIT_BITSET_OP && val == 0 && word == 0 &&
                       mem_get32(t, ua + 4, &nw) && nw >= 1) {
                ok = decode_sem(t, w);
            } else if (cmd == FUTEX_WAIT_BITSET_OP && val % 2 == 0) {
                ok = decode_cond(tg, t, w);
            }
            break;
        }
        }
    }
    if (!ok) {
        memset(w, 0, sizeof *w);
        w->kind = WAIT_LOCK;
        w->type = LG_LOCK_FUTEX;
        w->lock = ua;
        w->value = val;
        w->timed = t->arg[3] != 0;
        w->lock_flags = LG_LOCK_F_UNDECODED;
        return;
    }
    if (w->owner && !(w->type == LG_LOCK_THREAD ? has_tid(tg, w->owner) : owner_here(tg, w))
        && !owner_elsewhere(tg, w)) {
        w->lock_flags |= LG_LOCK_F_OWNER_EXITED;
        if (w->type != LG_LOCK_THREAD && !w->pshared)
            owner_in_parent(tg, w);
    }
    if (!w->family)
        glib_pthread_family(t, w);
}

/* Every x86_64 system call, generated at build time from the kernel headers
 * (src/inspect/CMakeLists.txt). */
const char *syscall_name(long nr)
{
    static const struct { long nr; const char *name; } names[] = {
#include "lg-syscalls.h"
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (names[i].nr == nr)
            return names[i].name;
    return NULL;
}

/* pthread_spin_lock spins in user mode with the lock's address in rdi (glibc's x86_64
 * assembly); nothing records the owner. */
static void decode_spin(insp_thread *t)
{
    if (!t->stack.n || !t->user_rdi || !t->stack.frames[0].function ||
        strncmp(strip_name(t->stack.frames[0].function), "pthread_spin_lock", 17) != 0)
        return;
    insp_wait *w = &t->w;
    w->kind = WAIT_LOCK;
    w->type = LG_LOCK_SPINLOCK;
    w->lock = t->user_rdi;
    w->mode = LG_MODE_EXCLUSIVE;
    w->spinning = true;
    size_t j = 1;
    while (j < t->stack.n && is_libc(&t->stack.frames[j]))
        j++;
    t->wait_frame = (int)(j < t->stack.n ? j : 0) + 1;
}

/* The lockgraph runtime in the target recorded this thread's wait (rtstate.c) for a lock the
 * program describes with annotations: no memory layout explains it, and the kernel shows at
 * most a futex wait on its word, or nothing at all (a thread spinning on it). The runtime's
 * record is then the wait; build.c names its holder from the runtime's held locks. */
static void runtime_wait(insp_target *tg, insp_thread *t)
{
    const insp_rt_thread *me = rtstate_thread(tg, t->tid);
    insp_wait *w = &t->w;
    if (!me || !me->wait_lock || me->wait_type != LG_LOCK_CUSTOM)
        return;
    bool spinning = w->kind == WAIT_NONE;
    if (!spinning && !(w->kind == WAIT_LOCK && w->type == LG_LOCK_FUTEX && w->lock == me->wait_lock))
        return;
    memset(w, 0, sizeof *w);
    w->kind = WAIT_LOCK;
    w->type = LG_LOCK_CUSTOM;
    w->lock = me->wait_lock;
    w->mode = me->wait_mode;
    w->spinning = spinning;
    add_attr(w, "wait announced to the lockgraph runtime");
}

void decode_all(insp_target *tg)
{
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        memset(&t->w, 0, sizeof t->w);
        if (t->nr == INSP_NR_RUNNING) {
            decode_spin(t);
        } else if (insp_is_futex(t)) {
            decode_futex(tg, t);
        } else if (t->nr >= 0) {
            insp_wait *w = &t->w;
            w->kind = WAIT_SYSCALL;
            const char *n = syscall_name(t->nr);
            char name[32];
            if (!n) {
                snprintf(name, sizeof name, "syscall %ld", t->nr);
                n = name;
            }
            if (t->note_wait[0])
                snprintf(w->desc, sizeof w->desc, "%s", t->note_wait);
            else if (t->fd_target[0])
                snprintf(w->desc, sizeof w->desc, "%s(fd %d -> %s)", n, (int)t->arg[0],
                         t->fd_target);
            else
                snprintf(w->desc, sizeof w->desc, "%s", n);
        }
        runtime_wait(tg, t);
        /* Names now, while this process's modules and stacks are at hand (a report over
         * several processes is built from all their threads at once). */
        insp_wait *w = &t->w;
        if (w->kind == WAIT_LOCK && !w->obj[0] && w->type != LG_LOCK_THREAD &&
            w->type != LG_LOCK_FUTEX) {
            char *name = symbolize_data(tg, w->lock);
            if (w->family)
                snprintf(w->obj, sizeof w->obj, "%s at 0x%llx%s%s%s", w->family,
                         (unsigned long long)w->lock, name ? " (" : "", name ? name : "",
                         name ? ")" : "");
            else if (name)
                snprintf(w->obj, sizeof w->obj, "%s", name);
            free(name);
        }
    }
}
