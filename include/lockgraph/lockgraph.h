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

/* The runtime's version string, e.g. "0.1.0"; NULL when the program runs without it. */
static inline const char *lg_version(void)
{
    return lg_rt_version ? lg_rt_version() : (const char *)0;
}

/* Give the lock at `lock` (any pthread/C11 lock object) a name for reports, e.g.
 * lg_lock_name(&q->mutex, "queue lock"). The name is copied; a later call replaces it; the
 * name goes when the lock is destroyed or its memory freed. Nothing without the runtime. */
static inline void lg_lock_name(const void *lock, const char *name)
{
    if (lg_rt_lock_name)
        lg_rt_lock_name(lock, name);
}

#ifdef __cplusplus
}
#endif

#endif
