/* dump.c - `lockgraph dump PID -o FILE`: write an ELF core of a live process without killing
 * it, like gcore, plus what cores lack: a "LOCKGRAPH" note with every thread's name, state,
 * blocked-for time and (for waits outside futexes) what it waits in. Other tools skip notes
 * they do not know; `lockgraph core` reads it.
 *
 * Layout: ELF header, program headers (one PT_NOTE, one PT_LOAD per readable mapping), the
 * notes (per thread NT_PRSTATUS + NT_FPREGSET; NT_PRPSINFO, NT_AUXV, NT_FILE, LOCKGRAPH),
 * then the segments page-aligned. Writable and anonymous mappings keep every page the process
 * touched (runs of present pages per /proc/PID/pagemap, one PT_LOAD each; zero pages stay
 * holes); read-only file mappings keep their first page only (ELF headers and build-id), as
 * the kernel does.
 * Threads stay stopped while their registers and memory are copied.
 * Not here: reading cores (core.c). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include "internal.h"
#include "../util/safefile.h"
#include "../util/xalloc.h"

enum { PAGE = 4096, CHUNK = 1 << 20 };
enum { NT_LOCKGRAPH = 1 };   /* our note type, under the name "LOCKGRAPH" */

typedef struct mapping {
    uint64_t start, end, offset;
    unsigned flags;          /* PF_R | PF_W | PF_X */
    bool file, whole;        /* file-backed; copy all of it (else only the first page) */
    char *path;
} mapping;

/* One PT_LOAD: a run of pages worth keeping. */
typedef struct seg {
    uint64_t start, len, file_off;
    unsigned flags;
} seg;

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static int put(buf *b, const void *d, size_t n)
{
    if (b->n + n + 8 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    while (b->n % 4)
        b->p[b->n++] = 0;
    return 0;
}

static int note(buf *b, const char *name, uint32_t type, const void *desc, size_t n)
{
    Elf64_Nhdr h = {(uint32_t)strlen(name) + 1, (uint32_t)n, type};
    return put(b, &h, sizeof h) || put(b, name, h.n_namesz) || put(b, desc, n) ? -1 : 0;
}

static int read_maps(int pid, mapping **out, size_t *n)
{
    char path[64], line[4096 + 256];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long long s, e, off;
        char perms[8];
        int pos = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s%n", &s, &e, perms, &off, &pos) < 4)
            continue;
        char *name = line + pos;
        while (*name == ' ')
            name++;
        name[strcspn(name, "\n")] = '\0';
        if (perms[0] != 'r' || !strcmp(name, "[vvar]") || !strcmp(name, "[vsyscall]"))
            continue;
        mapping m = {.start = s, .end = e, .offset = off};
        m.flags = PF_R | (perms[1] == 'w' ? PF_W : 0) | (perms[2] == 'x' ? PF_X : 0);
        m.file = name[0] == '/';
        m.whole = !m.file || perms[1] == 'w';
        m.path = m.file ? strdup(name) : NULL;
        if ((m.file && !m.path) || LG_APPEND(*out, *n, &m) < 0) {
            free(m.path);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

static int slurp(const char *path, buf *b)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char tmp[4096];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (b->n + k > b->cap) {
            size_t cap = (b->cap ? b->cap * 2 : 4096) + k;
            char *p = realloc(b->p, cap);
            if (!p) {
                fclose(f);
                return -1;
            }
            b->p = p;
            b->cap = cap;
        }
        memcpy(b->p + b->n, tmp, k);
        b->n += k;
    }
    fclose(f);
    return 0;
}

static int build_notes(insp_target *tg, mapping *maps, size_t nmaps, buf *nb)
{
    /* Per thread: registers as ptrace sees them in the stop. */
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        struct elf_prstatus st;
        memset(&st, 0, sizeof st);
        st.pr_pid = t->tid;
        st.pr_ppid = 0;
        st.pr_pgrp = tg->pid;
        struct user_regs_struct r;
        if (!t->stopped || ptrace(PTRACE_GETREGS, t->tid, 0L, &r) != 0)
            continue;
        memcpy(st.pr_reg, &r, sizeof r);
        if (note(nb, "CORE", NT_PRSTATUS, &st, sizeof st) < 0)
            return -1;
        struct user_fpregs_struct fp;
        if (ptrace(PTRACE_GETFPREGS, t->tid, 0L, &fp) == 0 &&
            note(nb, "CORE", NT_FPREGSET, &fp, sizeof fp) < 0)
            return -1;
    }
    struct elf_prpsinfo ps;
    memset(&ps, 0, sizeof ps);
    ps.pr_pid = tg->pid;
    snprintf(ps.pr_fname, sizeof ps.pr_fname, "%.15s", tg->comm);
    char path[64];
    buf cmd = {0};
    snprintf(path, sizeof path, "/proc/%d/cmdline", tg->pid);
    if (slurp(path, &cmd) == 0) {
        for (size_t i = 0; i < cmd.n && i + 1 < sizeof ps.pr_psargs; i++)
            ps.pr_psargs[i] = cmd.p[i] ? cmd.p[i] : ' ';
    }
    free(cmd.p);
    if (note(nb, "CORE", NT_PRPSINFO, &ps, sizeof ps) < 0)
        return -1;
    buf aux = {0};
    snprintf(path, sizeof path, "/proc/%d/auxv", tg->pid);
    if (slurp(path, &aux) == 0 && aux.n && note(nb, "CORE", NT_AUXV, aux.p, aux.n) < 0) {
        free(aux.p);
        return -1;
    }
    free(aux.p);
    /* NT_FILE: the executable first, as the kernel orders it (by address, the exe is
     * normally lowest anyway). */
    buf fb = {0};
    uint64_t count = 0, page = PAGE;
    for (size_t i = 0; i < nmaps; i++)
        count += maps[i].file;
    int rc = put(&fb, &count, 8) || put(&fb, &page, 8);
    for (size_t i = 0; i < nmaps && !rc; i++) {
        if (!maps[i].file)
            continue;
        uint64_t tri[3] = {maps[i].start, maps[i].end, maps[i].offset / PAGE};
        rc = put(&fb, tri, sizeof tri);
    }
    /* names are NUL-separated, not padded: append raw */
    for (size_t i = 0; i < nmaps && !rc; i++) {
        if (!maps[i].file)
            continue;
        size_t k = strlen(maps[i].path) + 1;
        if (fb.n + k > fb.cap) {
            char *p = realloc(fb.p, fb.cap * 2 + k);
            if (!p) {
                rc = -1;
                break;
            }
            fb.p = p;
            fb.cap = fb.cap * 2 + k;
        }
        memcpy(fb.p + fb.n, maps[i].path, k);
        fb.n += k;
    }
    if (!rc)
        rc = note(nb, "CORE", NT_FILE, fb.p, fb.n);
    free(fb.p);
    if (rc)
        return -1;
    /* LOCKGRAPH: what /proc knew before we stopped the threads, and the calls the registers
     * show. */
    buf lg = {0};
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        char line[512], wait[256] = "";
        if (t->nr >= 0 && !insp_is_futex(t)) {
            const char *n = syscall_name(t->nr);
            if (t->fd_target[0])
                snprintf(wait, sizeof wait, "%s(fd %d -> %s)", n ? n : "syscall",
                         (int)t->arg[0], t->fd_target);
            else if (n)
                snprintf(wait, sizeof wait, "%s", n);
        }
        int k = snprintf(line, sizeof line, "thread %d\t%c\t%lld\t%s\t%s\n", t->tid,
                         t->state ? t->state : '?', (long long)t->blocked_ms, t->name, wait);
        if (lg.n + (size_t)k + 1 > lg.cap) {
            char *p = realloc(lg.p, lg.cap * 2 + (size_t)k + 1);
            if (!p) {
                free(lg.p);
                return -1;
            }
            lg.p = p;
            lg.cap = lg.cap * 2 + (size_t)k + 1;
        }
        memcpy(lg.p + lg.n, line, (size_t)k);
        lg.n += (size_t)k;
    }
    rc = note(nb, "LOCKGRAPH", NT_LOCKGRAPH, lg.p ? lg.p : "", lg.n);
    free(lg.p);
    return rc;
}

static bool all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Copy one segment into the core at its offset; zero pages stay holes. */
static int copy_seg(int pid, int out, const seg *g, char *chunk)
{
    for (uint64_t a = g->start; a < g->start + g->len; a += CHUNK) {
        size_t len = (size_t)(g->start + g->len - a < CHUNK ? g->start + g->len - a : CHUNK);
        for (size_t p = 0; p < len / PAGE; p++) {
            struct iovec lo = {chunk, PAGE}, re = {(void *)(uintptr_t)(a + p * PAGE), PAGE};
            if (process_vm_readv(pid, &lo, 1, &re, 1, 0) != PAGE || all_zero(chunk, PAGE))
                continue;
            if (pwrite(out, chunk, PAGE, (off_t)(g->file_off + (a - g->start) + p * PAGE)) !=
                PAGE)
                return -1;
        }
    }
    return 0;
}

/* The segments of a mapping, like the kernel's core dumper: anonymous and writable mappings
 * keep every page the process touched (present or swapped, per /proc/PID/pagemap), so 1,000
 * thread stacks of 8 MB cost what they use, not 8 GB; read-only private file mappings keep the
 * pages written since mapping (anonymous copies: relocated RELRO data such as .dynamic, which
 * debuggers need to find the shared libraries) and, at file offset 0, the ELF header page.
 * Without pagemap, whole anonymous/writable mappings and header pages. */
enum { PM_PRESENT = 63, PM_SWAPPED = 62, PM_FILE = 61 };

static int mapping_segs(int pagemap, const mapping *m, seg **segs, size_t *n)
{
    uint64_t npages = (m->end - m->start) / PAGE;
    uint64_t run = 0, run_len = 0;
    static uint64_t ent[CHUNK / 8];
    for (uint64_t base = 0; base < npages; base += CHUNK / 8) {
        uint64_t k = npages - base < CHUNK / 8 ? npages - base : CHUNK / 8;
        bool have = pagemap >= 0 &&
                    pread(pagemap, ent, k * 8, (off_t)((m->start / PAGE + base) * 8)) ==
                        (ssize_t)(k * 8);
        for (uint64_t i = 0; i < k; i++) {
            uint64_t e = have ? ent[i] : 0;
            bool touched = (e >> PM_SWAPPED) & 1 || ((e >> PM_PRESENT) & 1);
            bool anon_copy = ((e >> PM_SWAPPED) & 1) ||
                             (((e >> PM_PRESENT) & 1) && !((e >> PM_FILE) & 1));
            bool keep = m->whole ? (!have || touched) : (have && anon_copy);
            if (!m->whole && m->offset == 0 && base + i == 0)
                keep = true;   /* the ELF header and its build-id note */
            uint64_t addr = m->start + (base + i) * PAGE;
            if (keep && run_len && run + run_len == addr) {
                run_len += PAGE;
            } else if (keep) {
                if (run_len) {
                    seg g = {run, run_len, 0, m->flags};
                    if (LG_APPEND(*segs, *n, &g) < 0)
                        return -1;
                }
                run = addr;
                run_len = PAGE;
            }
        }
        if (!have && !m->whole)
            break;   /* header page only */
    }
    if (run_len) {
        seg g = {run, run_len, 0, m->flags};
        return LG_APPEND(*segs, *n, &g);
    }
    return 0;
}

int lg_inspect_dump(int pid, const char *path, lg_inspect_stats *stats, char *err,
                    size_t errlen)
{
    double t0 = insp_now_ms();
    insp_target tg = {.pid = pid, .read = mem_read_live, .read_ctx = (void *)(intptr_t)pid};
    mapping *maps = NULL;
    size_t nmaps = 0, nsegs = 0;
    seg *segs = NULL;
    buf nb = {0};
    char *chunk = NULL;
    int out = -1, pagemap = -1, rc = -1;
    if (pid <= 0 || !proc_exists(pid)) {
        snprintf(err, errlen, "no process with pid %d", pid);
        return -1;
    }
    if (proc_check_target(pid, err, errlen) < 0 || proc_read_threads(&tg, err, errlen) < 0)
        goto done;
    /* A core holds the program's memory: 0600, never into an existing file (safefile.h). */
    int ce = lg_safe_create(path, LG_SAFE_PRIVATE, &out);
    if (ce) {
        snprintf(err, errlen, "cannot create '%s': %s", path, lg_safe_strerror(ce));
        goto done;
    }
    chunk = malloc(CHUNK);
    if (!chunk) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    double s0 = insp_now_ms();
    if (ptrace_stop_all(&tg, err, errlen) < 0)
        goto done;
    if (read_maps(pid, &maps, &nmaps) < 0) {
        snprintf(err, errlen, "process %d exited while being dumped", pid);
        goto resume;
    }
    ptrace_read_regs(&tg);   /* the system calls, now that the threads are stopped */
    proc_fd_targets(&tg);
    if (build_notes(&tg, maps, nmaps, &nb) < 0) {
        snprintf(err, errlen, "out of memory");
        goto resume;
    }
    char pm[64];
    snprintf(pm, sizeof pm, "/proc/%d/pagemap", pid);
    pagemap = open(pm, O_RDONLY | O_CLOEXEC);
    for (size_t i = 0; i < nmaps; i++)
        if (mapping_segs(pagemap, &maps[i], &segs, &nsegs) < 0) {
            snprintf(err, errlen, "out of memory");
            goto resume;
        }
    size_t nph = 1 + nsegs;
    uint64_t off = sizeof(Elf64_Ehdr) + nph * sizeof(Elf64_Phdr);
    uint64_t notes_off = off;
    off = (off + nb.n + PAGE - 1) / PAGE * PAGE;
    for (size_t i = 0; i < nsegs; i++) {
        segs[i].file_off = off;
        off += segs[i].len;
    }
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = (uint16_t)(nph < PN_XNUM ? nph : PN_XNUM);
    Elf64_Phdr *ph = calloc(nph, sizeof *ph);
    if (!ph || nph >= PN_XNUM) {
        free(ph);
        snprintf(err, errlen, nph >= PN_XNUM ? "process %d has too many mappings to dump"
                                             : "out of memory", pid);
        goto resume;
    }
    ph[0] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = nb.n,
                         .p_align = 4};
    for (size_t i = 0; i < nsegs; i++)
        ph[i + 1] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = segs[i].flags,
                                 .p_offset = segs[i].file_off, .p_vaddr = segs[i].start,
                                 .p_filesz = segs[i].len, .p_memsz = segs[i].len,
                                 .p_align = PAGE};
    bool ok = pwrite(out, &eh, sizeof eh, 0) == sizeof eh &&
              pwrite(out, ph, nph * sizeof *ph, sizeof eh) == (ssize_t)(nph * sizeof *ph) &&
              pwrite(out, nb.p, nb.n, (off_t)notes_off) == (ssize_t)nb.n;
    free(ph);
    for (size_t i = 0; i < nsegs && ok; i++)
        ok = copy_seg(pid, out, &segs[i], chunk) == 0;
    if (ok)
        ok = ftruncate(out, (off_t)off) == 0;
    if (!ok) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        goto resume;
    }
    rc = 0;
resume:
    ptrace_resume_all(&tg);
    tg.stopped_ms = insp_now_ms() - s0;
    if (stats) {
        stats->stopped_ms = tg.stopped_ms;
        stats->nthreads = tg.n;
    }
done:
    if (out >= 0 && close(out) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        rc = -1;
    }
    if (rc < 0 && out >= 0)
        unlink(path);
    if (pagemap >= 0)
        close(pagemap);
    for (size_t i = 0; i < nmaps; i++)
        free(maps[i].path);
    free(maps);
    free(segs);
    free(nb.p);
    free(chunk);
    insp_target_free(&tg);
    if (stats)
        stats->total_ms = insp_now_ms() - t0;
    return rc;
}
