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
#include "real.h"
#include "rt.h"

static rt_thread sentinel;
__thread rt_thread *rt_self __attribute__((tls_model("initial-exec"))) = &sentinel;
static rt_thread *registry;
static pthread_key_t exit_key;
static bool key_ok;

static void thread_exit(void *arg)
{
    rt_thread *t = arg;
    t->guard++;
    rt_gone_check(t);   /* locks other threads released for it are not held at exit */
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
        rt_held *h = &t->held[t->depth - 1];
        rt_report_lock_describe(atomic_load(&h->lock->addr), (lg_lock_type)h->lock->type, 0,
                                name, sizeof name, attrs, sizeof attrs, false);
        rt_report_note("thread %d \"%s\" exited holding %u lock%s (%s%s)", t->tid, t->name,
                       t->depth, t->depth > 1 ? "s" : "", name, t->depth > 1 ? ", ..." : "");
    }
    rt_self = &sentinel;
    if (!keep) {
        if (t->gone)
            munmap(t->gone, t->capgone * sizeof *t->gone);
        if (t->held != t->inline_held)
            free(t->held);
        free(t);
    }
}

void rt_threads_init(void)
{
    key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
}

void rt_thread_refresh_name(rt_thread *t)
{
    char name[17] = "";
    if (prctl(PR_GET_NAME, name, 0, 0, 0) == 0)
        memcpy(t->name, name, sizeof t->name);
    t->name[sizeof t->name - 1] = '\0';
}

static __thread int setting_up __attribute__((tls_model("initial-exec")));

rt_thread *rt_thread_setup(void)
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
    t->tid = (int)syscall(SYS_gettid);
    t->self = pthread_self();
    rt_thread_refresh_name(t);
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        void *lo;
        size_t sz;
        if (pthread_attr_getstack(&a, &lo, &sz) == 0) {
            t->stack_lo = (uintptr_t)lo;
            t->stack_hi = (uintptr_t)lo + sz;
        }
        pthread_attr_destroy(&a);
    }
    rt_flock_lock(&rt.threads_lock);
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
static _Atomic uintptr_t main_lo, main_hi;
static _Atomic int main_known;

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
            *tid = (int)getpid();   /* the main thread's tid is the pid */
        }
    }
    return on;
}

/* In the child after fork: only the forking thread exists. Other records are dropped (not
 * freed: another thread may have been inside malloc; leaking them is the safe choice). */
void rt_threads_after_fork(rt_thread *self)
{
    rt_flock_reset(&rt.threads_lock);
    registry = NULL;
    if (self != &sentinel) {
        self->tid = (int)syscall(SYS_gettid);
        self->next = NULL;
        self->fast_cap = self->cap;   /* a forked child never records (trace.h) */
        registry = self;
        atomic_store(&self->wait.lock, NULL);
    }
}

/* published.c: where the registry head lives, for readers outside the process. */
rt_thread **rt_threads_registry(void)
{
    return &registry;
}
