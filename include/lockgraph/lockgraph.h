/* lockgraph.h - the public interface of the lockgraph runtime (liblockgraph.so).
 *
 * Programs need nothing from here to be checked: `lockgraph run -- PROG` preloads the
 * runtime. This header is for programs that want to talk to it, e.g. to name their locks.
 *
 * No link dependency: build with `pkg-config --cflags lockgraph` alone (there is nothing to
 * link). Each call below is a static inline function that goes through a weak reference to
 * the runtime's entry point: without the runtime the reference is null and the call does
 * nothing (one load and a branch); under `lockgraph run` (or with liblockgraph.so in
 * LD_PRELOAD) the dynamic linker binds it to the runtime. This works in position-independent
 * executables (gcc's default on Debian) and shared libraries; in an executable built with
 * -no-pie the linker resolves the weak reference to null at link time, so the calls do
 * nothing even under the runtime.
 *
 *     #include <lockgraph/lockgraph.h>
 *     pthread_mutex_init(&q->mutex, NULL);
 *     lg_lock_name(&q->mutex, "queue lock");       // reports say "queue lock"
 *     if (lg_version()) printf("checked by lockgraph %s\n", lg_version());
 *
 * Locks the runtime cannot see (a spinlock or futex lock of the program's own, any lock-like
 * object) are described with the lg_mutex_* annotations below: then they take part in
 * everything pthread locks do (lock order with the reader and trylock rules, live deadlocks,
 * misuse, names, `lockgraph record`, `attach`). Their
 * shape is ThreadSanitizer's __tsan_mutex_* (lockdep's lock_acquire/lock_release): an
 * existing annotation site maps one to one. A worked example, a test-and-set spinlock:
 *
 *     typedef struct { atomic_int word; } spin_t;
 *     void spin_init(spin_t *s)    { atomic_init(&s->word, 0); lg_mutex_create(s, 0); }
 *     void spin_destroy(spin_t *s) { lg_mutex_destroy(s, 0); }
 *     void spin_lock(spin_t *s)
 *     {
 *         lg_mutex_pre_lock(s, 0);             // about to wait (until acquired)
 *         while (atomic_exchange(&s->word, 1))
 *             ;
 *         lg_mutex_post_lock(s, 0);            // acquired
 *     }
 *     bool spin_trylock(spin_t *s)
 *     {
 *         lg_mutex_pre_lock(s, LG_MUTEX_TRY);  // a try never waits
 *         bool ok = !atomic_exchange(&s->word, 1);
 *         lg_mutex_post_lock(s, LG_MUTEX_TRY | (ok ? 0 : LG_MUTEX_TRY_FAILED));
 *         return ok;
 *     }
 *     void spin_unlock(spin_t *s)
 *     {
 *         lg_mutex_pre_unlock(s, 0);           // before: nobody else can have it yet
 *         atomic_store(&s->word, 0);
 *         lg_mutex_post_unlock(s, 0);
 *     }
 *
 * Contract. pre_lock without LG_MUTEX_TRY announces a wait that ends only with the lock:
 * a thread announced waiting for a lock that a thread waiting for one of its own holds is
 * a deadlock, reported at once (status 66 under `lockgraph run`). So an attempt that may
 * give up (a timed or bounded lock) is announced as a try: LG_MUTEX_TRY at pre_lock, and
 * LG_MUTEX_TRY | LG_MUTEX_TRY_FAILED at post_lock when it gave up. post_lock comes after the
 * lock is taken, pre_unlock before it is released, with the same flags (LG_MUTEX_READ for a
 * shared hold) on both sides of a hold. A shared (read) hold is a recursive reader's:
 * readers never wait for readers, read-read orders are never an inversion.
 * LG_MUTEX_RECURSIVE at create: the holder may take the lock again (at a lock: this
 * acquisition may re-enter). Addresses identify locks: destroy when the memory is reused
 * for something else (freeing it does that too).
 *
 * Misuse. The annotations are taken as the program's account of every acquisition of the
 * lock (annotate every site, from its create on): a pre_unlock by a thread that does not
 * hold it is unlock-not-held (no thread does) or unlock-not-owner (another thread does; the
 * holder no longer holds it afterwards), a destroy while a thread holds it is destroy-held, a
 * thread that ends holding one is exit-holding, and a non-recursive lock its holder locks
 * again is a self-deadlock. A lock that may be released by another thread than its holder
 * is a semaphore, not a mutex: leave its hand-overs unannotated, or turn the claims off
 * (`lockgraph run --misuse all,-unlock-not-owner`).
 */
#ifndef LOCKGRAPH_H
#define LOCKGRAPH_H

#ifdef __cplusplus
extern "C" {
#endif

#define LOCKGRAPH_VERSION_MAJOR 0
#define LOCKGRAPH_VERSION_MINOR 1

/* The runtime's entry points, weak: null when the runtime is not loaded. Call the inline
 * functions below rather than these. */
extern const char *lg_rt_version(void) __attribute__((weak));
extern void lg_rt_lock_name(const void *lock, const char *name) __attribute__((weak));
extern void lg_rt_mutex_create(const void *lock, unsigned flags) __attribute__((weak));
extern void lg_rt_mutex_destroy(const void *lock, unsigned flags) __attribute__((weak));
extern void lg_rt_mutex_pre_lock(const void *lock, unsigned flags) __attribute__((weak));
extern void lg_rt_mutex_post_lock(const void *lock, unsigned flags) __attribute__((weak));
extern void lg_rt_mutex_pre_unlock(const void *lock, unsigned flags) __attribute__((weak));
extern void lg_rt_mutex_post_unlock(const void *lock, unsigned flags) __attribute__((weak));

/* Flags of the lg_mutex_* annotations (TSan's: read_lock, try_lock, try_lock_failed,
 * recursive_lock). */
#define LG_MUTEX_READ 0x1u        /* a shared (read) hold, a recursive reader */
#define LG_MUTEX_TRY 0x2u         /* a try: it does not wait */
#define LG_MUTEX_TRY_FAILED 0x4u  /* post_lock of a try that did not get the lock */
#define LG_MUTEX_RECURSIVE 0x8u   /* create: re-entrant lock; a lock: this one may re-enter */

/* The runtime's version string, e.g. "0.1.0"; NULL when the program runs without it. */
static inline const char *lg_version(void)
{
    return lg_rt_version ? lg_rt_version() : (const char *)0;
}

/* Give the lock at `lock` (any pthread, C11, GLib or annotated lock) a name for reports, e.g.
 * lg_lock_name(&q->mutex, "queue lock"). The name is copied; a later call replaces it; the
 * name goes when the lock is destroyed or its memory freed. Nothing without the runtime. */
static inline void lg_lock_name(const void *lock, const char *name)
{
    if (lg_rt_lock_name)
        lg_rt_lock_name(lock, name);
}

/* The annotations (see the top of the file): each is nothing without the runtime. */
static inline void lg_mutex_create(const void *lock, unsigned flags)
{
    if (lg_rt_mutex_create)
        lg_rt_mutex_create(lock, flags);
}

static inline void lg_mutex_destroy(const void *lock, unsigned flags)
{
    if (lg_rt_mutex_destroy)
        lg_rt_mutex_destroy(lock, flags);
}

static inline void lg_mutex_pre_lock(const void *lock, unsigned flags)
{
    if (lg_rt_mutex_pre_lock)
        lg_rt_mutex_pre_lock(lock, flags);
}

static inline void lg_mutex_post_lock(const void *lock, unsigned flags)
{
    if (lg_rt_mutex_post_lock)
        lg_rt_mutex_post_lock(lock, flags);
}

static inline void lg_mutex_pre_unlock(const void *lock, unsigned flags)
{
    if (lg_rt_mutex_pre_unlock)
        lg_rt_mutex_pre_unlock(lock, flags);
}

static inline void lg_mutex_post_unlock(const void *lock, unsigned flags)
{
    if (lg_rt_mutex_post_unlock)
        lg_rt_mutex_post_unlock(lock, flags);
}

#ifdef __cplusplus
}
#endif

#endif
