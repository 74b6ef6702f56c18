/* names.h - how the runtime names a lock in its reports and its trace (names.c).
 *
 * A lock's display name is, in this order: the name the program gave it (lg_lock_name, or the
 * runtime's own for stdin/stdout/stderr), its global's symbol (dynamic, else .symtab), "stack
 * 0x... of thread N" for a lock on a thread's stack, else "heap 0x...". The attributes beside
 * it say its family and what the record knows ("GMutex", "c11", "stack"). Reports (report.c,
 * wait.c, misuse.c, threads.c) and the recorder (record.c) ask here; locks.c forgets a name
 * when its lock dies.
 */
#ifndef LG_RT_NAMES_H
#define LG_RT_NAMES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"

/* The name and attributes of the lock at addr, never empty (attrs may be). With
 * `threads_locked`, the caller holds threads_lock (the stack lookup then does not take it);
 * otherwise it must not. Takes only the names' own leaf lock. */
void rt_name_describe(uintptr_t addr, lg_lock_type type, unsigned lflags, char *name,
                      size_t namelen, char *attrs, size_t attrslen, bool threads_locked);
/* lg_lock_name: the program's name for the lock at addr (NULL: none again). Copied. */
void rt_name_set(uintptr_t addr, const char *name);
/* The lock at addr died: a new lock there starts unnamed. Inline, one load until a lock is
 * first named (rt_names_given, never cleared): every death asks, churn is millions. */
extern _Atomic bool rt_names_given;
void rt_name_forget_slow(uintptr_t addr);
static inline void rt_name_forget(uintptr_t addr)
{
    if (__builtin_expect(atomic_load_explicit(&rt_names_given, memory_order_relaxed), 0))
        rt_name_forget_slow(addr);
}
/* Fork: the names' lock taken before fork, released (parent) or reset (child) after. */
void rt_names_fork(int phase);

#endif
