/* modules.c - a library unloaded by dlclose takes its locks with it: the static mutexes of
 * its writable segments (.data, .bss) die like freed memory, so the next library mapped at
 * the same addresses starts with fresh locks (no edges, no names) instead of inheriting the
 * old library's lock order.
 *
 * Before the real dlclose the loaded modules' writable PT_LOAD ranges are noted (into
 * rt_map'd memory: no allocator); after it, every module no longer listed by
 * dl_iterate_phdr is gone, and the locks in its ranges are forgotten. glibc's dlpi_subs
 * (unload counter) tells in one walk when nothing was unloaded, the common case of a
 * dlclose that only drops a reference.
 */
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>

#include "../trace/trace.h"
#include "rt.h"

typedef struct seg {
    uintptr_t base;             /* dlpi_addr and dlpi_phdr: the module's identity */
    const void *phdr;
    uintptr_t lo, hi;           /* a writable PT_LOAD's memory */
    bool present;
} seg;

typedef struct snap {
    seg *segs;
    size_t n, cap;
    unsigned long long subs;
    bool counting;
} snap;

static bool has_subs(size_t size)
{
    return size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(unsigned long long);
}

static int note_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    snap *s = arg;
    if (has_subs(size))
        s->subs = info->dlpi_subs;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || !ph->p_memsz)
            continue;
        if (!s->counting && s->n < s->cap)
            s->segs[s->n] = (seg){info->dlpi_addr, info->dlpi_phdr, info->dlpi_addr + ph->p_vaddr,
                                  info->dlpi_addr + ph->p_vaddr + ph->p_memsz, false};
        s->n++;
    }
    return 0;
}

static int mark_present(struct dl_phdr_info *info, size_t size, void *arg)
{
    snap *s = arg;
    if (has_subs(size))
        s->subs = info->dlpi_subs;
    for (size_t i = 0; i < s->n; i++)
        if (s->segs[i].base == info->dlpi_addr && s->segs[i].phdr == info->dlpi_phdr)
            s->segs[i].present = true;
    return 0;
}

RT_EXPORT int dlclose(void *handle)
{
    static int (*real)(void *);
    if (!real)
        real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
    if (!real)
        return -1;
    rt_thread *t = rt_self;
    if (rt_is_nested(t) || !atomic_load_explicit(&rt.ready, memory_order_acquire))
        return real(handle);   /* our own (libdw's backends), or before the runtime is up */

    snap s = {.counting = true};
    dl_iterate_phdr(note_module, &s);
    s.cap = s.n + 16;          /* room for modules loaded by another thread meanwhile */
    size_t bytes = s.cap * sizeof(seg);
    s.segs = rt_map(bytes);
    s.n = 0;
    s.counting = false;
    if (s.segs)
        dl_iterate_phdr(note_module, &s);
    unsigned long long subs = s.subs;

    int r = real(handle);

    if (s.segs) {
        if (s.n > s.cap)
            s.n = s.cap;
        dl_iterate_phdr(mark_present, &s);
        if (s.subs != subs || !subs) {   /* something was unloaded (or no counter to tell) */
            for (size_t i = 0; i < s.n; i++)
                if (!s.segs[i].present)
                    rt_locks_forget_range(s.segs[i].lo, s.segs[i].hi - s.segs[i].lo);
            rt_elfsym_unloaded();
        }
        munmap(s.segs, bytes);
    }
    if (lg_trace_on)
        lg_trace_modules();
    return r;
}
