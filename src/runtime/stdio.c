/* stdio.c - a FILE's lock taken by the program's own calls: flockfile, ftrylockfile and
 * funlockfile take part in lock order and live waits like any lock (lock type stdio, the
 * FILE's lock is recursive: its holder may take it again). stdin, stdout and stderr are
 * named so in reports.
 *
 * What is honestly visible: only these explicit calls. glibc's own stdio functions (printf,
 * fputs, ...) take the same lock inline (_IO_flockfile, _IO_lock_lock), which no wrapper
 * sees: a cycle closed by a printf is invisible here, consistently for lock and unlock (no
 * half-known holds), and is found from the outside (`attach`, `run --hang-timeout`: decode.c
 * reads the `_IO_lock_t`). glibc calls its internal lock functions itself, never these
 * symbols, and so does the runtime's own report output (a memory stream and write(2)); the
 * runtime's one explicit use (ftrylockfile(stdout) before it exits on a deadlock) has its
 * guard set and goes straight to glibc.
 *
 * The real functions are found with dlsym(RTLD_NEXT) at first call (libc's). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "fastpath.h"
#include "names.h"
#include "record.h"

#define PC ((uintptr_t)__builtin_return_address(0))
#define FT_STDIO RT_FT(RT_FAM_STDIO, LG_LOCK_STDIO)

enum { S_FLOCK, S_FTRY, S_FUNLOCK, S_COUNT };
static const char *const s_names[S_COUNT] = {"flockfile", "ftrylockfile", "funlockfile"};
static void *_Atomic s_real[S_COUNT];

static void *s_fn(int i)
{
    void *f = atomic_load_explicit(&s_real[i], memory_order_acquire);
    if (likely(f))
        return f;
    f = dlsym(RTLD_NEXT, s_names[i]);
    if (!f) {
        static const char msg[] = "lockgraph: no C library defines flockfile after the "
                                  "runtime\n";
        rt_out(msg, sizeof msg - 1);
        _exit(127);
    }
    atomic_store_explicit(&s_real[i], f, memory_order_release);
    return f;
}

#define REAL_LOCK(f) ((void (*)(FILE *))s_fn(S_FLOCK))(f)
#define REAL_TRY(f) ((int (*)(FILE *))s_fn(S_FTRY))(f)
#define REAL_UNLOCK(f) ((void (*)(FILE *))s_fn(S_FUNLOCK))(f)

static int stdio_lock(void *o, lg_lock_type type, unsigned mode, int how, clockid_t clk,
                      const struct timespec *abstime)
{
    (void)type, (void)mode, (void)how, (void)clk, (void)abstime;
    REAL_LOCK(o);
    return 0;
}

static int stdio_try(void *o, lg_lock_type type, unsigned mode)
{
    (void)type, (void)mode;
    return REAL_TRY(o) == 0 ? 0 : EBUSY;
}

/* No slices: flockfile has no timed form. */
const rt_family rt_family_stdio = {stdio_lock, stdio_try, NULL, NULL};

/* The standard streams are named after themselves the first time a thread locks one. */
static _Atomic int named[3];

static void name_std(FILE *f)
{
    int i = f == stdin ? 0 : f == stdout ? 1 : f == stderr ? 2 : -1;
    if (likely(i < 0 || atomic_load_explicit(&named[i], memory_order_relaxed)))
        return;
    if (atomic_exchange(&named[i], 1))
        return;
    static const char *const n[3] = {"stdin", "stdout", "stderr"};
    rt_thread *t = rt_self;
    t->guard++;
    rt_name_set((uintptr_t)f, n[i]);
    t->guard--;
}

RT_EXPORT void flockfile(FILE *f)
{
    if (unlikely(rt_self->guard)) {
        REAL_LOCK(f);
        return;
    }
    name_std(f);
    if (REAL_TRY(f) != 0)
        rt_wait_family(f, FT_STDIO, LG_MODE_EXCLUSIVE, PC);
    rt_acquired(f, FT_STDIO, LG_MODE_EXCLUSIVE, RT_ACQ_REENTRY, PC);
}

RT_EXPORT int ftrylockfile(FILE *f)
{
    if (unlikely(rt_self->guard))
        return REAL_TRY(f);
    name_std(f);
    int r = REAL_TRY(f);
    if (r == 0)
        rt_acquired(f, FT_STDIO, LG_MODE_EXCLUSIVE, RT_ACQ_REENTRY | RT_ACQ_TRY, PC);
    else
        RT_REC_TRYFAIL(f, LG_LOCK_STDIO, LG_MODE_EXCLUSIVE, PC);
    return r;
}

RT_EXPORT void funlockfile(FILE *f)
{
    if (likely(!rt_self->guard))
        rt_released(f, (int)FT_STDIO, PC);
    REAL_UNLOCK(f);
}
