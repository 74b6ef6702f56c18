/* threads.c - per-thread state: the held-lock stack, the live wait, name and stack bounds.
 *
 * Every thread starts pointing at a static sentinel with no room for held locks, so its first
 * event falls into the slow path, which creates its record (mimalloc's trick: the fast path
 * never asks "initialised yet?"). Records are linked in a registry for the wait-for graph
 * and reports. A thread-specific key's destructor notices thread exit: a thread that exits
 * holding locks stays registered (its locks are orphaned); others are unlinked and freed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../trace/trace.h"
#include "names.h"
#include "real.h"
#include "misuse.h"
#include "rt.h"

static rt_thread sentinel;
__thread struct rt_tls rt_tls __attribute__((tls_model("initial-exec"))) = {.self = &sentinel};
static rt_thread *registry;
static pthread_key_t exit_key;
static bool key_ok;

static void thread_exit(void *arg)
{
    rt_thread *t = arg;
    rt_guard_on(t);
    rt_gone_check(t);   /* locks other threads released for it are not held at exit */
    rt_nested_check(t); /* nor those its signal handlers released */
    rt_flock_lock(&rt.threads_lock);
    t->exited = true;
    bool keep = t->depth > 0;   /* orphaned locks: the wait-for graph still needs them */
    for (rt_thread *x = registry; x && !keep; x = x->next) {
        rt_thread *me = t;   /* joiners stop pointing at a record about to be freed */
        atomic_compare_exchange_strong(&x->wait.join, &me, NULL);
    }
    if (!keep) {
        for (rt_thread **p = &registry; *p; p = &(*p)->next)
            if (*p == t) {
                *p = t->next;
                break;
            }
    }
    rt_flock_unlock(&rt.threads_lock);
    if (keep) {
        /* Noted now; a thread that later waits for one of these gets `orphaned-lock`. */
        char name[160], attrs[64];
        rt_thread_refresh_name(t);   /* a note: the kernel may be asked now */
        rt_held *h = &t->held[t->depth - 1];
        rt_name_describe(atomic_load(&h->lock->addr), (lg_lock_type)h->lock->type, 0,
                         name, sizeof name, attrs, sizeof attrs, false);
        if (rt_misuse_on(LG_MISUSE_EXIT_HOLDING))
            rt_misuse_exit(t);   /* the finding says it all */
        else
            rt_report_note("thread %d \"%s\" exited holding %u lock%s (%s%s)", t->tid, t->name,
                           t->depth, t->depth > 1 ? "s" : "", name, t->depth > 1 ? ", ..." : "");
        rt_wait_holder_exited(t);   /* a thread already waiting for one waits forever */
    }
    rt_self = &sentinel;
    RT_SIGNAL_FENCE();
    rt_busy--;   /* the guard went with the record; later calls start from the sentinel */
    if (!keep) {
        if (t->gone)
            munmap(t->gone, t->capgone * sizeof *t->gone);
        if (t->held != t->inline_held)
            free(t->held);
        rt_stack_cache_free(t);
        free(t);
    }
}

/* A thread's first lock makes no system call that the program would not make itself (a
 * program under a strict seccomp filter must not die of the runtime): its tid is the
 * `__owner` glibc writes into a private mutex, its name is the one known without asking
 * the kernel (the process's at start, or what pthread_setname_np set: rt_thread_named),
 * its stack bounds come from glibc's thread descriptor (below), the main thread's from
 * the start. Names are read from the kernel only when a report is made
 * (rt_thread_refresh_name). */
static char process_name[16];
static int process_pid;

/* Names given with pthread_setname_np to a thread with no record yet (another thread named
 * it before its first lock): taken over at its setup. Threads_lock. */
#define RT_PENDING_NAMES 64
static struct {
    pthread_t th;
    bool used;
    char name[16];
} pending_names[RT_PENDING_NAMES];
static unsigned pending_next;
static __thread char own_pending[16] __attribute__((tls_model("initial-exec")));

/* Where threads were created (pthread_create's caller, record.c), for the findings they
 * appear in: kept in the thread's record, or here until the thread makes its record (most
 * threads run before pthread_create returns to its caller). The last RT_PENDING_CREATED
 * creations of threads with no record yet are kept: a thread that never takes a lock is in no
 * finding, and one whose entry was overwritten is shown without where it was created.
 * Threads_lock. */
#define RT_PENDING_CREATED 64
static struct {
    pthread_t th;
    uint32_t stack;
} pending_created[RT_PENDING_CREATED];
static unsigned created_next;

static _Atomic uintptr_t main_lo, main_hi;
static _Atomic int main_known;
static void main_stack_learn(void);

void rt_threads_init(void)
{
    key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
    process_pid = (int)getpid();
    if (prctl(PR_GET_NAME, process_name, 0, 0, 0) != 0)   /* at start: allowed */
        process_name[0] = '\0';
    process_name[sizeof process_name - 1] = '\0';
    main_stack_learn();
}

int rt_pid(void)
{
    return process_pid ? process_pid : (int)getpid();
}

void rt_thread_refresh_name(rt_thread *t)
{
    char path[64], name[17];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", t->tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;   /* exited, or not allowed: the known name stays */
    ssize_t n = read(fd, name, sizeof name - 1);
    close(fd);
    if (n <= 0)
        return;
    while (n > 0 && (name[n - 1] == '\n' || name[n - 1] == '\0'))
        n--;
    name[n] = '\0';
    memcpy(t->name, name, sizeof t->name);
    t->name[sizeof t->name - 1] = '\0';
}

void rt_thread_named(pthread_t th, const char *name)
{
    char n[16] = "";
    if (name)
        strncpy(n, name, sizeof n - 1);
    if (pthread_equal(th, pthread_self())) {
        if (rt_self->cap)
            memcpy(rt_self->name, n, sizeof n);
        else
            memcpy(own_pending, n, sizeof n);
        return;
    }
    rt_flock_lock(&rt.threads_lock);
    rt_thread *x = registry;
    while (x && (x->exited || !pthread_equal(x->self, th)))
        x = x->next;
    if (x) {
        memcpy(x->name, n, sizeof n);
    } else {
        unsigned i = 0;
        while (i < RT_PENDING_NAMES &&
               !(pending_names[i].used && pthread_equal(pending_names[i].th, th)))
            i++;
        if (i == RT_PENDING_NAMES)
            i = pending_next++ % RT_PENDING_NAMES;   /* full: an old one goes */
        pending_names[i].th = th;
        pending_names[i].used = true;
        memcpy(pending_names[i].name, n, sizeof n);
    }
    rt_flock_unlock(&rt.threads_lock);
}

void rt_thread_created(pthread_t th, uint32_t stack)
{
    rt_flock_lock(&rt.threads_lock);
    rt_thread *x = registry;
    while (x && (x->exited || !pthread_equal(x->self, th)))
        x = x->next;
    if (x) {
        x->created_stack = stack;
    } else {
        unsigned i = 0;
        while (i < RT_PENDING_CREATED && !(pending_created[i].stack &&
                                           pthread_equal(pending_created[i].th, th)))
            i++;
        if (i == RT_PENDING_CREATED)
            i = created_next++ % RT_PENDING_CREATED;   /* an old one goes */
        pending_created[i].th = th;
        pending_created[i].stack = stack;
    }
    rt_flock_unlock(&rt.threads_lock);
}

uint32_t rt_thread_created_pending(pthread_t th)
{
    for (unsigned i = 0; i < RT_PENDING_CREATED; i++)
        if (pending_created[i].stack && pthread_equal(pending_created[i].th, th))
            return pending_created[i].stack;
    return 0;
}

/* The calling thread's kernel tid without gettid(2): glibc's trylock writes its cached tid
 * into `__owner`. */
static int own_tid(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    int tid = 0;
    if (real_pthread_mutex_trylock(&m) == 0) {
        tid = m.__data.__owner;
        real_pthread_mutex_unlock(&m);
    }
    return tid > 0 ? tid : (int)syscall(SYS_gettid);
}

/* A non-main thread's stack block without pthread_getattr_np (which asks the kernel for the
 * thread's CPU affinity): glibc's descriptor (pthread_self()) sits at the top of the block
 * and holds the block's start and size side by side (offset 1680 in 2.36). The offset is
 * found once by what only that pair satisfies (a page-aligned start and size whose block
 * holds both the descriptor and the current stack pointer) and checked the same way for
 * every later thread; a miss falls back to pthread_getattr_np. The descriptor is larger
 * than the 2 KiB searched (2,368 bytes in 2.36), so the search stays inside it. */
static _Atomic int block_off = -1;

static bool block_at(const uintptr_t *w, int i, uintptr_t self, uintptr_t sp)
{
    uintptr_t lo = w[i], sz = w[i + 1];
    return lo && !(lo & 4095) && !(sz & 4095) && sz >= 16384 && sz < ((uintptr_t)1 << 40) &&
           lo <= sp && sp - lo < sz && lo <= self && self - lo < sz;
}

static bool stack_from_descriptor(rt_thread *t)
{
    uintptr_t self = (uintptr_t)pthread_self(), sp = (uintptr_t)__builtin_frame_address(0);
    const uintptr_t *w = (const uintptr_t *)self;
    int off = atomic_load_explicit(&block_off, memory_order_relaxed);
    if (off < 0 || !block_at(w, off, self, sp)) {
        off = -1;
        for (int i = 0; i + 1 < 2048 / 8 && off < 0; i++)
            if (block_at(w, i, self, sp))
                off = i;
        if (off < 0)
            return false;
        atomic_store_explicit(&block_off, off, memory_order_relaxed);
    }
    t->stack_lo = w[off];
    t->stack_hi = w[off] + w[off + 1];
    return true;
}

static __thread int setting_up __attribute__((tls_model("initial-exec")));

rt_thread *rt_thread_setup_slow(void)
{
    if (rt_self != &sentinel || setting_up)
        return rt_self;
    setting_up = 1;   /* calloc, pthread_getattr_np may come back here (free, locks) */
    rt_thread *t = calloc(1, sizeof *t);
    if (!t) {
        setting_up = 0;
        return &sentinel;
    }
    t->held = t->inline_held;
    t->cap = sizeof t->inline_held / sizeof *t->inline_held;
    t->fast_cap = lg_trace_on ? 0 : t->cap;
    t->tid = own_tid();
    t->self = pthread_self();
    memcpy(t->name, own_pending[0] ? own_pending : process_name, sizeof t->name);
    if (!process_pid)
        process_pid = (int)getpid();   /* set up before init: still the program's start */
    if (t->tid == process_pid) {
        if (!atomic_load(&main_known))
            main_stack_learn();
        t->stack_lo = atomic_load(&main_lo);
        t->stack_hi = atomic_load(&main_hi);
    } else if (!stack_from_descriptor(t)) {
        rt_stack_bounds(&t->stack_lo, &t->stack_hi);   /* no program malloc (stackbounds.c) */
    }
    rt_flock_lock(&rt.threads_lock);
    for (unsigned i = 0; i < RT_PENDING_NAMES; i++)
        if (pending_names[i].used && pthread_equal(pending_names[i].th, t->self)) {
            memcpy(t->name, pending_names[i].name, sizeof t->name);
            pending_names[i].used = false;
        }
    for (unsigned i = 0; i < RT_PENDING_CREATED; i++)
        if (pending_created[i].stack && pthread_equal(pending_created[i].th, t->self)) {
            t->created_stack = pending_created[i].stack;
            pending_created[i].stack = 0;
        }
    t->next = registry;
    registry = t;
    t->registered = true;
    rt_flock_unlock(&rt.threads_lock);
    rt_self = t;
    if (key_ok)
        pthread_setspecific(exit_key, t);
    setting_up = 0;
    return t;
}

int rt_thread_grow(rt_thread *t)
{
    /* The old array is kept when it is the inline one; a grown one is replaced, and the
     * wait-for scan reads held[] only under threads_lock, which we take to swap. */
    uint32_t cap = t->cap * 2;
    rt_held *h = malloc(cap * sizeof *h);
    if (!h)
        return -1;
    memcpy(h, t->held, t->depth * sizeof *h);
    /* entries above the top are read by rt_held_again: none left undefined */
    memset(h + t->depth, 0, (cap - t->depth) * sizeof *h);
    rt_flock_lock(&rt.threads_lock);
    rt_held *old = t->held;
    t->held = h;
    t->cap = cap;
    if (t->fast_cap)
        t->fast_cap = cap;
    rt_flock_unlock(&rt.threads_lock);
    if (old != t->inline_held)
        free(old);
    return 0;
}

void rt_threads_recording(void)
{
    rt_flock_lock(&rt.threads_lock);
    for (rt_thread *t = registry; t; t = t->next)
        t->fast_cap = 0;
    rt_flock_unlock(&rt.threads_lock);
}

rt_thread *rt_threads_first(void)
{
    return registry;
}

rt_thread *rt_thread_by_tid(int tid)
{
    for (rt_thread *t = registry; t; t = t->next)
        if (t->tid == tid)
            return t;
    return NULL;
}

/* The main thread's stack, known even before (or without) main taking a lock: the
 * "[stack]" mapping, read once with plain read(2) (no malloc: this runs in the slow path),
 * extended down to the stack rlimit since the mapping grows on demand. 0/0 when unknown. */
static void main_stack_learn(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    char buf[4096], line[256];
    size_t ll = 0;
    unsigned long lo = 0, hi = 0;
    ssize_t n;
    while (fd >= 0 && !hi && (n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n && !hi; i++) {
            if (buf[i] != '\n') {
                if (ll < sizeof line - 1)
                    line[ll++] = buf[i];
                continue;
            }
            line[ll] = '\0';
            ll = 0;
            if (!strstr(line, "[stack]") || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
                lo = hi = 0;
        }
    }
    if (fd >= 0)
        close(fd);
    struct rlimit rl;
    if (hi && getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < hi && hi - rl.rlim_cur < lo)
        lo = hi - rl.rlim_cur;
    atomic_store(&main_lo, lo);
    atomic_store(&main_hi, hi);
    atomic_store(&main_known, 1);
}

bool rt_addr_on_stack(uintptr_t addr, int *tid, bool threads_locked)
{
    bool on = false;
    if (!threads_locked)
        rt_flock_lock(&rt.threads_lock);
    for (rt_thread *t = registry; t && !on; t = t->next)
        if (addr >= t->stack_lo && addr < t->stack_hi) {
            on = true;
            *tid = t->tid;
        }
    if (!threads_locked)
        rt_flock_unlock(&rt.threads_lock);
    if (!on) {
        if (!atomic_load(&main_known))
            main_stack_learn();
        if (addr >= atomic_load(&main_lo) && addr < atomic_load(&main_hi)) {
            on = true;
            *tid = process_pid;   /* the main thread's tid is the pid */
        }
    }
    return on;
}

/* In the child after fork: only the forking thread exists. Records of threads that held
 * nothing are dropped (not freed: another thread may have been inside malloc; leaking them is
 * the safe choice). A thread that held locks at fork time is not copied, but its locks are:
 * still locked in the child's memory, with nobody here to release them. Its record stays,
 * exited and marked forked_from the parent, so that a wait for one of them is reported as
 * the orphan it is, naming the parent's holder, its acquisition stack and the fork site.
 * fork_prepare held threads_lock, so no record was being linked or unlinked; a record whose
 * held entries were being moved (held_seq odd) cannot be trusted and is dropped. */
static int fork_parent_pid;
static uint32_t fork_site;

void rt_threads_after_fork(rt_thread *self)
{
    rt_flock_reset(&rt.threads_lock);
    rt_thread *old = registry;
    int parent = process_pid ? process_pid : (int)getppid();
    registry = NULL;
    process_pid = (int)getpid();
    bool kept = false;
    for (rt_thread *t = old, *next; t; t = next) {
        next = t->next;
        if (t == self || t->depth == 0 || t->depth > t->cap
            || (atomic_load(&t->held_seq) & 1))
            continue;
        if (!t->exited)
            t->forked_from = parent;
        t->exited = true;
        t->fast_cap = 0;
        atomic_store(&t->wait.lock, NULL);
        atomic_store(&t->wait.join, NULL);
        atomic_store(&t->wait.cond, NULL);
        t->wait.join_th = 0;
        /* A record its thread was rewriting without threads_lock (wait.c's views) when the
         * process forked: no one finishes it in the child. */
        if (atomic_load(&t->wait.seq) & 1)
            atomic_fetch_add(&t->wait.seq, 1);
        t->next = registry;
        registry = t;
        kept |= t->forked_from != 0;
    }
    fork_parent_pid = kept ? parent : 0;
    /* fork_child <- glibc's fork handlers <- fork <- the program: skip the first two */
    fork_site = kept ? rt_stack_capture(2, 0) : 0;
    if (self != &sentinel) {
        self->tid = (int)syscall(SYS_gettid);
        self->next = registry;
        self->fast_cap = self->cap;   /* a forked child never records (trace.h) */
        registry = self;
        atomic_store(&self->wait.lock, NULL);
    }
}

bool rt_fork_origin(int *parent, uint32_t *stack)
{
    *parent = fork_parent_pid;
    *stack = fork_site;
    return fork_parent_pid != 0;
}

/* published.c: where the registry head lives, for readers outside the process. */
rt_thread **rt_threads_registry(void)
{
    return &registry;
}
