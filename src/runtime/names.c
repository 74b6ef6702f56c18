/* names.c - a lock's display name (names.h): the program's own (lg_lock_name), its global's
 * symbol, the stack of the thread it lives on, or the heap. Asked by every report and by the
 * recorder when a lock is first defined in the trace, so nothing here allocates except a
 * given name's copy (the runtime's heap), and the symbol lookup reads the ELF file without
 * libelf (elfsym.c).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/u64map.h"
#include "names.h"
#include "rt.h"

static lg_u64map names;   /* lock address -> char * (lg_lock_name), under names_lock */
static rt_flock names_lock = RT_FLOCK_INIT;   /* a leaf: taken under any other lock */

/* A data symbol from the ELF symbol table (.symtab: dladdr sees only dynamic symbols, and
 * the symbolizer's module map misses .bss pages beyond the file mapping); elfsym.c reads it
 * without allocating, since record names locks from inside the lock call. */
static bool symbol_of(uintptr_t addr, char *name, size_t namelen)
{
    Dl_info info;
    if (!dladdr((void *)addr, &info) || !info.dli_fname)
        return false;
    /* The main program's name is its argv[0]: no '/' when it was found on PATH. */
    const char *path = strchr(info.dli_fname, '/') ? info.dli_fname : "/proc/self/exe";
    return rt_elf_data_symbol(path, (uintptr_t)info.dli_fbase, addr, name, namelen);
}

void rt_name_describe(uintptr_t addr, lg_lock_type type, unsigned lflags, char *name,
                      size_t namelen, char *attrs, size_t attrslen, bool threads_locked)
{
    (void)type;
    name[0] = attrs[0] = '\0';
    Dl_info info;
    int tid;
    uint64_t given;
    rt_flock_lock(&names_lock);
    bool named = lg_u64map_get(&names, addr, &given);
    if (named)
        snprintf(name, namelen, "%s", (const char *)(uintptr_t)given);
    rt_flock_unlock(&names_lock);
    if (named) {
    } else if (dladdr((void *)addr, &info) && info.dli_sname && info.dli_saddr) {
        uintptr_t off = addr - (uintptr_t)info.dli_saddr;
        if (off)
            snprintf(name, namelen, "%s+%lu", info.dli_sname, (unsigned long)off);
        else
            snprintf(name, namelen, "%s", info.dli_sname);
    } else if (symbol_of(addr, name, namelen)) {
    } else if (rt_addr_on_stack(addr, &tid, threads_locked)) {
        snprintf(name, namelen, "stack 0x%lx of thread %d", (unsigned long)addr, tid);
    } else {
        snprintf(name, namelen, "heap 0x%lx", (unsigned long)addr);
    }
    const char *fam = rt_family_name_of(addr);   /* "GMutex", "annotated": "" for pthread */
    snprintf(attrs, attrslen, "%s%s%s%s%s",
             fam, fam[0] && (lflags & (RT_LOCK_C11 | RT_LOCK_STACK)) ? ", " : "",
             lflags & RT_LOCK_C11 ? "c11" : "",
             (lflags & RT_LOCK_C11) && (lflags & RT_LOCK_STACK) ? ", " : "",
             lflags & RT_LOCK_STACK ? "stack" : "");
}

_Atomic bool rt_names_given;

/* lg_lock_name (public API): names are looked up when a report names its locks. */
void rt_name_set(uintptr_t addr, const char *name)
{
    char *copy = name ? strdup(name) : NULL;
    if (copy && !atomic_load_explicit(&rt_names_given, memory_order_relaxed))
        atomic_store(&rt_names_given, true);
    rt_flock_lock(&names_lock);
    uint64_t old;
    if (lg_u64map_get(&names, addr, &old)) {
        free((char *)(uintptr_t)old);
        lg_u64map_del(&names, addr);
    }
    if (copy && lg_u64map_put(&names, addr, (uint64_t)(uintptr_t)copy) < 0)
        free(copy);
    rt_flock_unlock(&names_lock);
}

void rt_names_fork(int phase)
{
    if (phase == RT_FORK_PREPARE)
        rt_flock_lock(&names_lock);
    else if (phase == RT_FORK_PARENT)
        rt_flock_unlock(&names_lock);
    else
        rt_flock_reset(&names_lock);
}

void rt_name_forget_slow(uintptr_t addr)
{
    if (!__atomic_load_n(&names.used, __ATOMIC_RELAXED))
        return;
    rt_name_set(addr, NULL);
}
