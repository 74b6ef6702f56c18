/* unwind.c - every thread's stack with elfutils libdwfl: a live process whose threads
 * ptrace.c holds stopped (dwfl_linux_proc_attach with assume_ptrace_stopped), or a core
 * (dwfl_core_file_attach). .eh_frame is enough: no frame pointers or debug info needed.
 * Frames are kept as raw PCs while the target is stopped and symbolized after it runs again
 * (src/symbolize, cached per PC). Also names data addresses (the lock objects).
 * Not here: deciding what a stack waits for (decode.c). */
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../symbolize/symbolize.h"
#include "../util/xalloc.h"

enum { DEFAULT_MAX_FRAMES = 64 };

typedef struct walk {
    insp_target *tg;
    insp_thread *t;
    size_t max;
} walk;

static int frame_cb(Dwfl_Frame *frame, void *arg)
{
    walk *w = arg;
    Dwarf_Addr pc;
    bool activation;
    if (!dwfl_frame_pc(frame, &pc, &activation))
        return DWARF_CB_ABORT;
    uint64_t v = pc;
    /* lg_symbolize looks every frame but the first up at pc-1 (a return address); an
     * activation (signal frame) is exact, so compensate. */
    if (activation && w->t->npcs > 0)
        v = pc + 1;
    if (LG_APPEND(w->t->pcs, w->t->npcs, &v) < 0)
        return DWARF_CB_ABORT;
    return w->t->npcs >= w->max ? DWARF_CB_ABORT : DWARF_CB_OK;
}

static int thread_cb(Dwfl_Thread *thread, void *arg)
{
    walk *w = arg;
    insp_thread *t = insp_find_thread(w->tg, (int)dwfl_thread_tid(thread));
    if (!t || (!w->tg->is_core && !t->stopped))
        return DWARF_CB_OK;
    w->t = t;
    dwfl_thread_getframes(thread, frame_cb, w);   /* a partial stack is still useful */
    return DWARF_CB_OK;
}

static const Dwfl_Callbacks proc_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

static const Dwfl_Callbacks core_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

static int walk_all(insp_target *tg, const lg_inspect_options *opt)
{
    walk w = {.tg = tg, .max = opt && opt->max_frames > 0 ? (size_t)opt->max_frames
                                                          : DEFAULT_MAX_FRAMES};
    int rc = dwfl_getthreads(tg->dwfl, thread_cb, &w);
    return rc == 0 || rc == DWARF_CB_ABORT ? 0 : -1;
}

int unwind_live(insp_target *tg, const lg_inspect_options *opt, char *err, size_t errlen)
{
    tg->dwfl = dwfl_begin(&proc_callbacks);
    if (!tg->dwfl) {
        snprintf(err, errlen, "cannot start libdwfl: %s", dwfl_errmsg(-1));
        return -1;
    }
    dwfl_report_begin(tg->dwfl);
    int rc = dwfl_linux_proc_report(tg->dwfl, tg->pid);
    dwfl_report_end(tg->dwfl, NULL, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the modules of process %d: %s", tg->pid,
                 rc > 0 ? strerror(rc) : dwfl_errmsg(-1));
        return -1;
    }
    if (opt && opt->no_stacks)
        return 0;
    rc = dwfl_linux_proc_attach(tg->dwfl, tg->pid, true);
    if (rc != 0) {
        insp_note(tg, "cannot unwind process %d: %s", tg->pid,
                  rc > 0 ? strerror(rc) : dwfl_errmsg(-1));
        return 0;
    }
    if (walk_all(tg, opt) < 0)
        insp_note(tg, "unwinding stopped early: %s", dwfl_errmsg(-1));
    return 0;
}

int unwind_core(insp_target *tg, void *elf, const char *exe, const lg_inspect_options *opt,
                char *err, size_t errlen)
{
    tg->dwfl = dwfl_begin(&core_callbacks);
    if (!tg->dwfl) {
        snprintf(err, errlen, "cannot start libdwfl: %s", dwfl_errmsg(-1));
        return -1;
    }
    dwfl_report_begin(tg->dwfl);
    int rc = dwfl_core_file_report(tg->dwfl, elf, exe);
    dwfl_report_end(tg->dwfl, NULL, NULL);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read the modules of the core: %s", dwfl_errmsg(-1));
        return -1;
    }
    if (opt && opt->no_stacks)
        return 0;
    rc = dwfl_core_file_attach(tg->dwfl, elf);
    if (rc < 0) {
        insp_note(tg, "cannot unwind the core: %s", dwfl_errmsg(-1));
        return 0;
    }
    if (walk_all(tg, opt) < 0)
        insp_note(tg, "unwinding stopped early: %s", dwfl_errmsg(-1));
    return 0;
}

int symbolize_all(insp_target *tg)
{
    if (!tg->dwfl)
        return 0;
    tg->sym = lg_symbolizer_wrap(tg->dwfl);
    if (!tg->sym)
        return -1;
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        if (t->npcs && lg_symbolize(tg->sym, t->pcs, t->npcs, true, &t->stack) < 0)
            return -1;
    }
    return 0;
}

char *symbolize_data(insp_target *tg, uint64_t addr)
{
    if (!tg->dwfl)
        return NULL;
    Dwfl_Module *m = dwfl_addrmodule(tg->dwfl, addr);
    if (!m)
        return NULL;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(m, addr, &off, &sym, NULL, NULL, NULL);
    char buf[512];
    if (name && off == 0)
        return lg_strdup(name);
    if (name)
        snprintf(buf, sizeof buf, "%s+0x%llx", name, (unsigned long long)off);
    else {
        Dwarf_Addr start = 0;
        const char *mod = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
        const char *base = mod && strrchr(mod, '/') ? strrchr(mod, '/') + 1 : mod;
        snprintf(buf, sizeof buf, "%s+0x%llx", base ? base : "?",
                 (unsigned long long)(addr - start));
    }
    return lg_strdup(buf);
}
