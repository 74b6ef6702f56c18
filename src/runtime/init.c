/* init.c - process life: resolving glibc's functions, the constructor, fork, exit.
 *
 * Exit: an atexit handler registered from our constructor runs after every handler and
 * destructor registered later (all of the program's). If a defect was found it flushes the
 * program's stdio, writes the JSON report and ends with --exitcode; otherwise it only writes
 * the JSON and lets the program's own status stand. _exit, exec and fatal signals: ending.c.
 *
 * Fork: the prepare handler takes the runtime's locks so the child never inherits one held by
 * a thread that does not exist there; the child resets them and keeps only its own thread.
 */
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/safefile.h"
#include "names.h"
#include "real.h"
#include "record.h"
#include "rt.h"

rt_state rt;

/* Resolver stubs: every real_* pointer starts at a stub that resolves all, then forwards. */
#define REAL(ret, name, params, args, ver)                                                 \
    static ret stub_##name params;                                                         \
    ret (*real_##name) params = stub_##name;                                               \
    static ret stub_##name params                                                          \
    {                                                                                      \
        rt_resolve_real();                                                                 \
        return real_##name args;                                                           \
    }
#include "real.def"
#undef REAL

void rt_resolve_real(void)
{
    static _Atomic int done;
    if (atomic_load(&done))
        return;
#define REAL(ret, name, params, args, ver)                                                 \
    {                                                                                      \
        void *p = ver ? dlvsym(RTLD_NEXT, #name, ver ? ver : "") : NULL;                  \
        if (!p)                                                                            \
            p = dlsym(RTLD_NEXT, #name);                                                   \
        if (p)                                                                             \
            real_##name = (ret(*) params)p;                                                \
    }
#include "real.def"
#undef REAL
    atomic_store(&done, 1);
}

bool rt_inline_trylock;

/* Whether glibc's plain-mutex trylock may be done inline (interpose.c): x86-64 glibc 2 (the
 * pthread_mutex_t layout of glibc-locks.md, unchanged since NPTL), and no lock elision asked
 * for (an elided mutex records no owner; glibc's own trylock handles it). */
static bool inline_trylock_ok(void)
{
#if defined(__x86_64__)
    const char *v = gnu_get_libc_version();
    const char *tun = getenv("GLIBC_TUNABLES");
    return v && v[0] == '2' && v[1] == '.' && !(tun && strstr(tun, "elision"));
#else
    return false;
#endif
}

/* The runtime's lock order, which fork_prepare follows: report -> graph -> threads ->
 * the leaves (lock table, stack store, names). */
static void fork_prepare(void)
{
    /* Until the parent or child handler: lock calls of this thread pass straight through. A
     * prepare handler registered before ours runs after it and may lock (jemalloc takes
     * every arena mutex): with our locks held, their slow path would wait for ever. */
    rt_guard_on(rt_thread_setup());
    rt_flock_lock(&rt.report_lock);
    rt_flock_lock(&rt.graph_lock);
    rt_flock_lock(&rt.threads_lock);
    rt_locks_fork(RT_FORK_PREPARE);
    rt_stacks_fork(RT_FORK_PREPARE);
    rt_names_fork(RT_FORK_PREPARE);
    rt_elfsym_fork(RT_FORK_PREPARE);
    rt_heap_fork(RT_FORK_PREPARE);
    rt_fds_fork(RT_FORK_PREPARE);
}

static void fork_parent(void)
{
    rt_fds_fork(RT_FORK_PARENT);
    rt_heap_fork(RT_FORK_PARENT);
    rt_elfsym_fork(RT_FORK_PARENT);
    rt_names_fork(RT_FORK_PARENT);
    rt_stacks_fork(RT_FORK_PARENT);
    rt_locks_fork(RT_FORK_PARENT);
    rt_flock_unlock(&rt.threads_lock);
    rt_flock_unlock(&rt.graph_lock);
    rt_flock_unlock(&rt.report_lock);
    rt_guard_off(rt_self);
}

static void fork_child(void)
{
    rt_fds_fork(RT_FORK_CHILD);
    rt_heap_fork(RT_FORK_CHILD);
    rt_elfsym_fork(RT_FORK_CHILD);
    rt_names_fork(RT_FORK_CHILD);
    rt_stacks_fork(RT_FORK_CHILD);
    rt_locks_fork(RT_FORK_CHILD);
    rt_flock_reset(&rt.threads_lock);
    rt_flock_reset(&rt.graph_lock);
    rt_flock_reset(&rt.report_lock);
    lg_sigblock_after_fork();
    rt_threads_after_fork(rt_self);
    rt_report_json_start();   /* FILE.<pid> of the child, made before it can switch user */
    rt_guard_off(rt_self);
}

int rt_finish_image(bool always)
{
    int children = rt_report_child_defects();   /* noted before the JSON is written */
    int gen, prior = rt_ending_prior_defects(&gen);
    if (always || rt_report_has_content())
        rt_report_write_json();
    return rt_report_defects() + children + prior;
}

int rt_finish(void)
{
    if (rt.cfg.verbose) {
        char buf[512];
        int n = snprintf(buf, sizeof buf,
                         "lockgraph: %u locks, %zu chains (%lu flushes), %zu edges, %lu slow paths, %lu "
                         "searches, %lu contended waits, %lu freed locks, %lu condvar checks, %lu findings\n",
                         rt_lock_count(), rt_chain_count(), rt_chain_flushes(), rt.graph.live_edges,
                         atomic_load(&rt.counters[RT_C_SLOW]), atomic_load(&rt.counters[RT_C_SEARCHES]),
                         atomic_load(&rt.counters[RT_C_WAITS]), atomic_load(&rt.counters[RT_C_FREED]),
                         atomic_load(&rt.counters[RT_C_CV_CHECKS]),
                         atomic_load(&rt.counters[RT_C_FINDINGS]));
        if (n > 0)
            rt_out(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    }
    rt_nested_note();
    rt_report_paths_summary();
    return rt_finish_image(true);
}

static void at_exit(void)
{
    rt_thread *t = rt_self;
    rt_guard_on(t);
    rt_ending_begin();   /* from here an _exit is the runtime's own, below */
    if (rt_finish() > 0) {
        fflush(NULL);
        _exit(rt.cfg.exitcode);
    }
    rt_guard_off(t);
}

void rt_init(void)
{
    static _Atomic int once;
    if (atomic_exchange(&once, 1))
        return;
    rt_resolve_real();
    rt_inline_trylock = inline_trylock_ok();
    rt_options_load(&rt.cfg);
    rt_threads_init();
    rt_publish();
    rt_fds_init();
    rt_ending_init();
    rt_report_init();
    rt_report_json_start();
    lg_lo_init(&rt.graph);
    rt.graph.max_visits = 0;
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    atexit(at_exit);
    rt_rec_init();
    rt_ending_signals();
    rt_handshake_init();
    if (rt.cfg.verbose)
        rt_options_print(rt_out_fd(), &rt.cfg);
    atomic_store_explicit(&rt.ready, true, memory_order_release);
}

__attribute__((constructor(101))) static void rt_constructor(void)
{
    rt_init();
}
