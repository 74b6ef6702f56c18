/* lockgraph.h - the public interface of the lockgraph runtime (liblockgraph.so).
 *
 * Programs need nothing from here to be checked: `lockgraph run -- PROG` preloads the
 * runtime. This header is for programs that want to talk to it: name their locks, or
 * describe custom locks the runtime cannot see. Every function is safe to call when the
 * runtime is not loaded if you declare it weak, e.g. via LG_WEAK below.
 */
#ifndef LOCKGRAPH_H
#define LOCKGRAPH_H

#ifdef __cplusplus
extern "C" {
#endif

#define LOCKGRAPH_VERSION_MAJOR 0
#define LOCKGRAPH_VERSION_MINOR 1

/* The runtime's version string, e.g. "0.1.0". */
const char *lg_version(void);

/* Give the lock at `lock` (any pthread/C11 lock object) a name for reports, e.g.
 * lg_lock_name(&q->mutex, "queue lock"). The name is copied; a later call replaces it; the
 * name goes when the lock is destroyed or its memory freed. */
void lg_lock_name(const void *lock, const char *name);

/* Declare the functions weak to call them only when the runtime is preloaded:
 *   LG_WEAK(lg_lock_name); ... if (lg_lock_name) lg_lock_name(&m, "m"); */
#define LG_WEAK(fn) extern __typeof__(fn) fn __attribute__((weak))

#ifdef __cplusplus
}
#endif

#endif
