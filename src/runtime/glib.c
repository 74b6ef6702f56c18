/* glib.c - GLib's locks (libglib-2.0): GMutex, GRecMutex, GRWLock and GCond, checked with no
 * change to the program. On Linux GMutex and GCond are futex words of GLib's own (no pthread
 * call at all: invisible to interpose.c); GRecMutex and GRWLock are pthread locks GLib
 * allocates on first use, so without these wrappers they were seen, but as anonymous heap
 * locks instead of the program's objects. Here each is the object the program passes.
 *
 * The real functions are found with dlsym(RTLD_NEXT) at a wrapper's first call: a program
 * without GLib never calls these symbols, so it pays nothing and needs nothing. A wrapper
 * being called means the program linked against some g_mutex_lock, which then follows us in
 * the lookup order. Nothing of GLib is called except the real function being wrapped.
 *
 * GLib calls its own lock functions directly (libglib binds them inside itself), so its
 * internal locks stay invisible, consistently on both sides (lock and unlock); g_cond_wait's
 * internal re-lock is its own, and the wrapper records the re-acquisition (RT_ACQ_COND) as
 * interpose.c does for pthread_cond_wait. The pthread lock GLib keeps inside a GRecMutex or
 * GRWLock is taken with the thread's guard set, so it is not a second lock in the graph.
 *
 * Semantics: GMutex is a plain mutex (a relock by its holder hangs: a self-deadlock); the
 * GRecMutex holder may re-enter; a GRWLock reader is the recursive reader of the
 * reader-preferring pthread rwlock inside it (read-read is never an inversion, readers never
 * block readers). A blocking lock tries first, then waits through wait.c with GLib's own
 * blocking call (rt_family_gmutex ... below), so a deadlock is caught live. */
#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#include "fastpath.h"
#include "record.h"

#define PC ((uintptr_t)__builtin_return_address(0))
#define FT_GMUTEX RT_FT(RT_FAM_GMUTEX, LG_LOCK_MUTEX)
#define FT_GREC RT_FT(RT_FAM_GRECMUTEX, LG_LOCK_MUTEX)
#define FT_GRW RT_FT(RT_FAM_GRWLOCK, LG_LOCK_RWLOCK)

/* GLib's functions, by name: void f(obj), gboolean f(obj), and the condition waits. */
#define GLIB_REAL(X)                                                                       \
    X(g_mutex_init) X(g_mutex_clear) X(g_mutex_lock) X(g_mutex_trylock) X(g_mutex_unlock)  \
    X(g_rec_mutex_init) X(g_rec_mutex_clear) X(g_rec_mutex_lock) X(g_rec_mutex_trylock)    \
    X(g_rec_mutex_unlock) X(g_rw_lock_init) X(g_rw_lock_clear) X(g_rw_lock_writer_lock)    \
    X(g_rw_lock_writer_trylock) X(g_rw_lock_writer_unlock) X(g_rw_lock_reader_lock)        \
    X(g_rw_lock_reader_trylock) X(g_rw_lock_reader_unlock) X(g_cond_wait)                  \
    X(g_cond_wait_until)
enum {
#define X(n) G_##n,
    GLIB_REAL(X)
#undef X
    G_COUNT
};
static const char *const g_names[G_COUNT] = {
#define X(n) #n,
    GLIB_REAL(X)
#undef X
};
static void *_Atomic g_real[G_COUNT];

/* GLib's function i (resolved on first use; every thread resolving at once finds the same
 * one). A wrapper without a GLib behind it cannot do what it was asked: say so and stop,
 * since carrying on would change the program's results. */
static void *g_fn(int i)
{
    void *f = atomic_load_explicit(&g_real[i], memory_order_acquire);
    if (likely(f))
        return f;
    f = dlsym(RTLD_NEXT, g_names[i]);
    if (!f) {
        static const char msg[] = "lockgraph: a GLib lock function was called, but no GLib "
                                  "defines it after the runtime\n";
        rt_out(msg, sizeof msg - 1);   /* stderr as it was at start (fds.c) */
        _exit(127);
    }
    atomic_store_explicit(&g_real[i], f, memory_order_release);
    return f;
}

#define VOID_FN(i) ((void (*)(void *))g_fn(i))
#define BOOL_FN(i) ((int (*)(void *))g_fn(i))

/* GRecMutex and GRWLock lock a pthread object inside: with the guard set, the runtime leaves
 * that one alone (the thread gets its record first, so the guard is its own). */
static rt_thread *inner_begin(void)
{
    rt_thread *t = rt_self;
    if (!t->cap) {
        if (!atomic_load_explicit(&rt.ready, memory_order_acquire))
            rt_init();
        t = rt_thread_setup();
    }
    if (t->cap)
        rt_guard_on(t);
    return t;
}

static void inner_end(rt_thread *t)
{
    if (t->cap)
        rt_guard_off(t);
}

/* ---- the families' ops: how wait.c blocks and tries (no timed GLib lock: no slices) ---- */

static int gmutex_lock(void *o, lg_lock_type type, unsigned mode, int how, clockid_t clk,
                       const struct timespec *abstime)
{
    (void)type, (void)mode, (void)how, (void)clk, (void)abstime;
    VOID_FN(G_g_mutex_lock)(o);
    return 0;
}

static int gmutex_try(void *o, lg_lock_type type, unsigned mode)
{
    (void)type, (void)mode;
    return BOOL_FN(G_g_mutex_trylock)(o) ? 0 : EBUSY;
}

const rt_family rt_family_gmutex = {gmutex_lock, gmutex_try, NULL, NULL};

static int grec_lock(void *o, lg_lock_type type, unsigned mode, int how, clockid_t clk,
                     const struct timespec *abstime)
{
    (void)type, (void)mode, (void)how, (void)clk, (void)abstime;
    rt_thread *t = inner_begin();
    VOID_FN(G_g_rec_mutex_lock)(o);
    inner_end(t);
    return 0;
}

static int grec_try(void *o, lg_lock_type type, unsigned mode)
{
    (void)type, (void)mode;
    rt_thread *t = inner_begin();
    int r = BOOL_FN(G_g_rec_mutex_trylock)(o);
    inner_end(t);
    return r ? 0 : EBUSY;
}

const rt_family rt_family_grecmutex = {grec_lock, grec_try, NULL, NULL};

static int grw_lock(void *o, lg_lock_type type, unsigned mode, int how, clockid_t clk,
                    const struct timespec *abstime)
{
    (void)type, (void)how, (void)clk, (void)abstime;
    rt_thread *t = inner_begin();
    VOID_FN(mode == LG_MODE_SHARED ? G_g_rw_lock_reader_lock : G_g_rw_lock_writer_lock)(o);
    inner_end(t);
    return 0;
}

static int grw_try(void *o, lg_lock_type type, unsigned mode)
{
    (void)type;
    rt_thread *t = inner_begin();
    int r = BOOL_FN(mode == LG_MODE_SHARED ? G_g_rw_lock_reader_trylock
                                           : G_g_rw_lock_writer_trylock)(o);
    inner_end(t);
    return r ? 0 : EBUSY;
}

const rt_family rt_family_grwlock = {grw_lock, grw_try, NULL, NULL};

/* ---- GMutex ---- */

RT_EXPORT void g_mutex_init(void *m)
{
    VOID_FN(G_g_mutex_init)(m);
    rt_lock_created(m, FT_GMUTEX, 0);
}

RT_EXPORT void g_mutex_clear(void *m)
{
    rt_lock_destroyed(m, PC);
    VOID_FN(G_g_mutex_clear)(m);
}

RT_EXPORT void g_mutex_lock(void *m)
{
    if (unlikely(gmutex_try(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE)))
        rt_wait_family(m, FT_GMUTEX, LG_MODE_EXCLUSIVE, PC);
    rt_acquired(m, FT_GMUTEX, LG_MODE_EXCLUSIVE, 0, PC);
}

RT_EXPORT int g_mutex_trylock(void *m)
{
    int r = BOOL_FN(G_g_mutex_trylock)(m);
    if (r)
        rt_acquired(m, FT_GMUTEX, LG_MODE_EXCLUSIVE, RT_ACQ_TRY, PC);
    else
        RT_REC_TRYFAIL(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, PC);
    return r;
}

RT_EXPORT void g_mutex_unlock(void *m)
{
    rt_released(m, (int)FT_GMUTEX, PC);
    VOID_FN(G_g_mutex_unlock)(m);
}

/* ---- GRecMutex ---- */

RT_EXPORT void g_rec_mutex_init(void *m)
{
    rt_thread *t = inner_begin();
    VOID_FN(G_g_rec_mutex_init)(m);
    inner_end(t);
    rt_lock_created(m, FT_GREC, RT_LOCK_RECURSIVE);
}

RT_EXPORT void g_rec_mutex_clear(void *m)
{
    rt_lock_destroyed(m, PC);
    rt_thread *t = inner_begin();
    VOID_FN(G_g_rec_mutex_clear)(m);
    inner_end(t);
}

RT_EXPORT void g_rec_mutex_lock(void *m)
{
    if (unlikely(grec_try(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE)))
        rt_wait_family(m, FT_GREC, LG_MODE_EXCLUSIVE, PC);
    rt_acquired(m, FT_GREC, LG_MODE_EXCLUSIVE, RT_ACQ_REENTRY, PC);
}

RT_EXPORT int g_rec_mutex_trylock(void *m)
{
    int r = !grec_try(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE);
    if (r)
        rt_acquired(m, FT_GREC, LG_MODE_EXCLUSIVE, RT_ACQ_REENTRY | RT_ACQ_TRY, PC);
    else
        RT_REC_TRYFAIL(m, LG_LOCK_MUTEX, LG_MODE_EXCLUSIVE, PC);
    return r;
}

RT_EXPORT void g_rec_mutex_unlock(void *m)
{
    rt_released(m, (int)FT_GREC, PC);
    rt_thread *t = inner_begin();
    VOID_FN(G_g_rec_mutex_unlock)(m);
    inner_end(t);
}

/* ---- GRWLock ---- */

RT_EXPORT void g_rw_lock_init(void *l)
{
    rt_thread *t = inner_begin();
    VOID_FN(G_g_rw_lock_init)(l);
    inner_end(t);
    rt_lock_created(l, FT_GRW, 0);
}

RT_EXPORT void g_rw_lock_clear(void *l)
{
    rt_lock_destroyed(l, PC);
    rt_thread *t = inner_begin();
    VOID_FN(G_g_rw_lock_clear)(l);
    inner_end(t);
}

#define GRW_READ (RT_ACQ_READ_R | RT_ACQ_REENTRY)

static inline void grw_acquire(void *l, unsigned mode, unsigned flags, uintptr_t pc)
{
    if (unlikely(grw_try(l, LG_LOCK_RWLOCK, mode)))
        rt_wait_family(l, FT_GRW, mode, pc);
    rt_acquired(l, FT_GRW, mode, flags, pc);
}

static inline int grw_tryacquire(void *l, unsigned mode, unsigned flags, uintptr_t pc)
{
    int r = !grw_try(l, LG_LOCK_RWLOCK, mode);
    if (r)
        rt_acquired(l, FT_GRW, mode, flags | RT_ACQ_TRY, pc);
    else
        RT_REC_TRYFAIL(l, LG_LOCK_RWLOCK, mode, pc);
    return r;
}

static inline void grw_release(void *l, int which, uintptr_t pc)
{
    rt_released(l, (int)FT_GRW, pc);
    rt_thread *t = inner_begin();
    VOID_FN(which)(l);
    inner_end(t);
}

RT_EXPORT void g_rw_lock_writer_lock(void *l)
{
    grw_acquire(l, LG_MODE_EXCLUSIVE, 0, PC);
}

RT_EXPORT int g_rw_lock_writer_trylock(void *l)
{
    return grw_tryacquire(l, LG_MODE_EXCLUSIVE, 0, PC);
}

RT_EXPORT void g_rw_lock_writer_unlock(void *l)
{
    grw_release(l, G_g_rw_lock_writer_unlock, PC);
}

RT_EXPORT void g_rw_lock_reader_lock(void *l)
{
    grw_acquire(l, LG_MODE_SHARED, GRW_READ, PC);
}

RT_EXPORT int g_rw_lock_reader_trylock(void *l)
{
    return grw_tryacquire(l, LG_MODE_SHARED, GRW_READ, PC);
}

RT_EXPORT void g_rw_lock_reader_unlock(void *l)
{
    grw_release(l, G_g_rw_lock_reader_unlock, PC);
}

/* ---- GCond: its GMutex is released for the wait and re-acquired (by GLib, inside) ---- */

RT_EXPORT void g_cond_wait(void *c, void *m)
{
    rt_released(m, RT_REL_COND, PC);
    rt_cond_enter(m, PC);
    RT_REC_COND(LG_EV_COND_WAIT_BEGIN, c, m, PC);
    ((void (*)(void *, void *))g_fn(G_g_cond_wait))(c, m);
    RT_REC_COND(LG_EV_COND_WAIT_END, c, m, PC);
    rt_cond_leave();
    rt_acquired(m, FT_GMUTEX, LG_MODE_EXCLUSIVE, RT_ACQ_COND, PC);
}

RT_EXPORT int g_cond_wait_until(void *c, void *m, int64_t end_time)
{
    rt_released(m, RT_REL_COND, PC);
    rt_cond_enter(m, PC);
    RT_REC_COND(LG_EV_COND_WAIT_BEGIN, c, m, PC);
    int r = ((int (*)(void *, void *, int64_t))g_fn(G_g_cond_wait_until))(c, m, end_time);
    RT_REC_COND(LG_EV_COND_WAIT_END, c, m, PC);
    rt_cond_leave();
    rt_acquired(m, FT_GMUTEX, LG_MODE_EXCLUSIVE, RT_ACQ_COND, PC);
    return r;
}
