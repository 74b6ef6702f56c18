/* unwind.c - every thread's stack with elfutils libdwfl, for live processes and cores alike:
 * our own Dwfl_Thread_Callbacks hand libdwfl the registers we already read (PTRACE_GETREGS
 * while stopped, or NT_PRSTATUS) and our memory reader (process_vm_readv, or the core's
 * segments) behind a small page cache. That is one path for both, and it avoids libdwfl's
 * word-by-word PTRACE_PEEKDATA and its per-read core chunk list (quadratic with 1,000
 * threads). .eh_frame is enough: no frame pointers or debug info needed.
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
    /* The frame's stack pointer: which function's frame a stack address (a lock on the
     * stack) lies in. 0 when libdwfl does not know it. */
    Dwarf_Word sp = 0;
    if (dwfl_frame_reg(frame, 7, &sp) != 0)
        sp = 0;
    size_t nsp = w->t->npcs;
    if (LG_APPEND(w->t->sps, nsp, &sp) < 0)
        return DWARF_CB_ABORT;
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

/* ---- thread callbacks over insp_target ---- */

enum { CACHE_PAGES = 256, CPAGE = 4096 };

typedef struct page_cache {
    insp_target *tg;
    uint64_t tag[CACHE_PAGES];   /* page number + 1; 0 empty */
    bool ok[CACHE_PAGES];
    unsigned char data[CACHE_PAGES][CPAGE];
} page_cache;

static bool cached_read(page_cache *pc, uint64_t addr, void *out, size_t len)
{
    unsigned char *dst = out;
    while (len) {
        uint64_t page = addr / CPAGE, off = addr % CPAGE;
        size_t k = (size_t)(page % CACHE_PAGES);
        if (pc->tag[k] != page + 1) {
            pc->tag[k] = page + 1;
            pc->ok[k] = pc->tg->read(pc->tg->read_ctx, page * CPAGE, pc->data[k], CPAGE) == 0;
        }
        size_t n = CPAGE - off < len ? CPAGE - off : len;
        if (!pc->ok[k]) {
            /* a page only partly readable (end of a segment): read exactly */
            if (pc->tg->read(pc->tg->read_ctx, addr, dst, n) != 0)
                return false;
        } else {
            memcpy(dst, pc->data[k] + off, n);
        }
        dst += n;
        addr += n;
        len -= n;
    }
    return true;
}

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
    (void)dwfl;
    page_cache *pc = arg;
    insp_target *tg = pc->tg;
    insp_thread *t = *thread_argp;
    for (size_t i = t ? (size_t)(t - tg->t) + 1 : 0; i < tg->n; i++) {
        if (tg->t[i].have_regs) {
            *thread_argp = &tg->t[i];
            return tg->t[i].tid;
        }
    }
    return 0;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
    (void)dwfl;
    return cached_read(arg, addr, result, sizeof *result);
}

static bool initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
    insp_thread *t = thread_arg;
    Dwarf_Word regs[17];
    for (int i = 0; i < 17; i++)
        regs[i] = t->dregs[i];
    if (!dwfl_thread_state_registers(thread, 0, 17, regs))
        return false;
    dwfl_thread_state_register_pc(thread, t->dregs[16]);
    return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
    .next_thread = next_thread,
    .memory_read = memory_read,
    .set_initial_registers = initial_registers,
};

static int walk_all(insp_target *tg, const lg_inspect_options *opt)
{
    page_cache *pc = calloc(1, sizeof *pc);
    if (!pc) {
        insp_note(tg, "out of memory: no stacks");
        return 0;
    }
    pc->tg = tg;
    if (!dwfl_attach_state(tg->dwfl, NULL, tg->mm_pid ? tg->mm_pid : tg->pid, &thread_callbacks, pc)) {
        insp_note(tg, "cannot unwind: %s", dwfl_errmsg(-1));
        free(pc);
        return 0;
    }
    walk w = {.tg = tg, .max = opt && opt->max_frames > 0 ? (size_t)opt->max_frames
                                                          : DEFAULT_MAX_FRAMES};
    int rc = dwfl_getthreads(tg->dwfl, thread_cb, &w);
    if (rc != 0 && rc != DWARF_CB_ABORT)
        insp_note(tg, "unwinding stopped early: %s", dwfl_errmsg(-1));
    tg->unwind_cache = pc;   /* libdwfl keeps the pointer until dwfl_end */
    return 0;
}

int unwind_live(insp_target *tg, const lg_inspect_options *opt, char *err, size_t errlen)
{
    tg->dwfl = dwfl_begin(&proc_callbacks);
    if (!tg->dwfl) {
        snprintf(err, errlen, "cannot start libdwfl: %s", dwfl_errmsg(-1));
        return -1;
    }
    dwfl_report_begin(tg->dwfl);
    int rc = dwfl_linux_proc_report(tg->dwfl, tg->mm_pid ? tg->mm_pid : tg->pid);
    dwfl_report_end(tg->dwfl, NULL, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the modules of process %d: %s", tg->pid,
                 rc > 0 ? strerror(rc) : dwfl_errmsg(-1));
        return -1;
    }
    if (opt && opt->no_stacks)
        return 0;
    return walk_all(tg, opt);
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
    return walk_all(tg, opt);
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
    return rtstate_symbolize(tg);
}

/* A lock on a thread's stack: the thread whose frames span the address, and the function
 * whose frame holds it (the innermost frame whose stack pointer is at or below it, looking
 * outwards: a local lives between its function's stack pointer and its caller's). */
static char *stack_name(insp_target *tg, uint64_t addr)
{
    /* Without frames (--no-stacks): the thread whose stack pointer is closest below. */
    insp_thread *near = NULL;
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        if (!t->npcs && t->sp && addr >= t->sp && addr - t->sp < (256u << 10) &&
            (!near || t->sp > near->sp))
            near = t;
    }
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        if (!t->npcs || !t->sps || !t->sp || addr < t->sp)
            continue;
        size_t k = 0;
        uint64_t top = 0;
        for (size_t j = 0; j < t->npcs; j++)
            if (t->sps[j] > top)
                top = t->sps[j];
        /* the outermost frame's locals lie a little above its stack pointer */
        if (addr >= top + 4096 || addr - t->sp > (64u << 20))
            continue;
        for (size_t j = 1; j < t->npcs; j++) {
            if (!t->sps[j] || t->sps[j] > addr)
                break;
            k = j;
        }
        /* frame k's stack pointer is at or below addr and frame k+1's above it: frame k's
         * function owns the bytes in between */
        size_t f = k;
        const lg_frame *fr = NULL;
        if (t->stack.n) {
            /* symbolized stacks include inlined frames: map the physical index */
            size_t phys = 0;
            for (size_t s = 0; s < t->stack.n; s++) {
                if (t->stack.frames[s].inlined)
                    continue;
                if (phys == f) {
                    fr = &t->stack.frames[s];
                    break;
                }
                phys++;
            }
        }
        char buf[512];
        if (fr && fr->function)
            snprintf(buf, sizeof buf, "stack of thread %d in %s", t->tid, fr->function);
        else
            snprintf(buf, sizeof buf, "stack of thread %d", t->tid);
        return lg_strdup(buf);
    }
    return near ? lg_asprintf("stack of thread %d", near->tid) : NULL;
}

char *symbolize_data(insp_target *tg, uint64_t addr)
{
    char *st = stack_name(tg, addr);
    if (st)
        return st;
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
    {
        /* MAP_SHARED anonymous memory shows as the module "/dev/zero (deleted)" */
        Dwarf_Addr start = 0;
        const char *mod = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
        const char *base = mod && strrchr(mod, '/') ? strrchr(mod, '/') + 1 : mod;
        if (!name && base && (!strcmp(base, "zero (deleted)") || !strncmp(base, "SYSV", 4) ||
                              !strncmp(base, "memfd:", 6)))
            return lg_asprintf("shared memory 0x%llx+0x%llx", (unsigned long long)start,
                               (unsigned long long)(addr - start));
    }
    if (name)
        snprintf(buf, sizeof buf, "%s+0x%llx", name, (unsigned long long)off);
    else {
        Dwarf_Addr start = 0, end = 0;
        const char *mod = dwfl_module_info(m, NULL, &start, &end, NULL, NULL, NULL, NULL);
        if (addr < start || addr >= end)
            return NULL;   /* not inside the module after all: no name beats a wrong one */
        const char *base = mod && strrchr(mod, '/') ? strrchr(mod, '/') + 1 : mod;
        snprintf(buf, sizeof buf, "%s+0x%llx", base ? base : "?",
                 (unsigned long long)(addr - start));
    }
    return lg_strdup(buf);
}

typedef struct sym_find {
    const char *name;
    uint64_t addr;
} sym_find;

static int libc_module_symbol(Dwfl_Module *m, void **userdata, const char *name,
                              Dwarf_Addr base, void *arg)
{
    (void)userdata;
    (void)base;
    sym_find *f = arg;
    const char *slash = name ? strrchr(name, '/') : NULL;
    const char *b = slash ? slash + 1 : name;
    if (!b || strncmp(b, "libc.so", 7) != 0)
        return DWARF_CB_OK;
    int n = dwfl_module_getsymtab(m);
    for (int i = 0; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *s = dwfl_module_getsym_info(m, i, &sym, &addr, NULL, NULL, NULL);
        if (s && !strcmp(s, f->name)) {
            f->addr = addr;
            return DWARF_CB_ABORT;
        }
    }
    return DWARF_CB_ABORT;   /* the one libc searched */
}

uint64_t libc_symbol(insp_target *tg, const char *name)
{
    if (!tg->dwfl)
        return 0;
    sym_find f = {name, 0};
    dwfl_getmodules(tg->dwfl, libc_module_symbol, &f, 0);
    return f.addr;
}
