/* core.c - the attach analysis from an ELF core file: registers from NT_PRSTATUS (orig_rax,
 * rdi, rsi, rdx, r10, rsp and the callee-saved ones, exactly what ptrace gives a live
 * attach), memory from the PT_LOAD segments, the mapped files from NT_FILE, and, in cores
 * written by `lockgraph dump`, thread names, states, blocked-for times and other waits from
 * the LOCKGRAPH note. Cores from gcore or the kernel work too (they lack those).
 *
 * Validates before trusting: not an ELF core, a truncated core, a core of another executable
 * (build-ids differ) each give one line. Not here: writing cores (dump.c). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>

#include "internal.h"
#include "../symbolize/symbolize.h"
#include "../util/safefile.h"
#include "../util/xalloc.h"

typedef struct segment {
    uint64_t vaddr, memsz, offset, filesz;
} segment;

typedef struct core_file {
    int fd;
    segment *seg;
    size_t nseg;
    uint64_t at_phdr, at_phnum;
    uint64_t need;         /* bytes the program headers say the file holds */
    bool shrank;           /* a read the headers promised came back short */
} core_file;

static int core_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    core_file *cf = ctx;
    for (size_t i = 0; i < cf->nseg; i++) {
        const segment *s = &cf->seg[i];
        if (addr < s->vaddr || addr + len > s->vaddr + s->memsz)
            continue;
        uint64_t off = addr - s->vaddr;
        if (off + len > s->filesz)
            return -1;   /* not dumped (e.g. read-only file pages) */
        if (pread(cf->fd, buf, len, (off_t)(s->offset + off)) == (ssize_t)len)
            return 0;
        cf->shrank = true;   /* open_core checked these bytes were there */
        return -1;
    }
    return -1;
}

static void thread_from_prstatus(insp_target *tg, const void *desc, size_t len)
{
    struct elf_prstatus st;
    if (len < sizeof st)
        return;
    memcpy(&st, desc, sizeof st);
    struct user_regs_struct r;
    memcpy(&r, st.pr_reg, sizeof r);
    insp_thread *t = insp_add_thread(tg, st.pr_pid);
    if (!t)
        return;
    long nr = (long)r.orig_rax;
    insp_set_dregs(t, &r);
    t->nr = nr >= 0 ? nr : INSP_NR_RUNNING;
    t->user_rdi = r.rdi;
    insp_set_args(t, &r);
}

/* NT_FILE: count, page size, then (start, end, page offset) triples, then the names. */
static void files_from_nt_file(insp_target *tg, const char *desc, size_t len)
{
    if (len < 16)
        return;
    uint64_t count;
    memcpy(&count, desc, 8);
    if (count > len / 24)
        return;
    const char *name = desc + 16 + count * 24, *end = desc + len;
    for (uint64_t i = 0; i < count && name < end; i++) {
        /* The last name may run to the end of the note unterminated: every look stays
         * inside its n bytes. */
        size_t n = strnlen(name, (size_t)(end - name));
        const char *base = memrchr(name, '/', n);
        base = base ? base + 1 : name;
        size_t bn = (size_t)(name + n - base);
        if (!tg->libc_path[0] && bn >= 7 && memcmp(base, "libc.so", 7) == 0)
            snprintf(tg->libc_path, sizeof tg->libc_path, "%.*s", (int)n, name);
        if (!tg->has_runtime && bn >= 12 && memcmp(base, "liblockgraph", 12) == 0) {
            tg->has_runtime = true;
            snprintf(tg->runtime_path, sizeof tg->runtime_path, "%.*s", (int)n, name);
        }
        if (i == 0 && !tg->exe[0])   /* the kernel and gdb list the executable first */
            snprintf(tg->exe, sizeof tg->exe, "%.*s", (int)n, name);
        name += n + 1;
    }
}

/* The LOCKGRAPH note (dump.c): "thread TID\tSTATE\tBLOCKED_MS\tNAME\tWAIT" lines. */
static void from_lockgraph_note(insp_target *tg, const char *desc, size_t len)
{
    char *text = strndup(desc, len);
    if (!text)
        return;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "thread ", 7) != 0)
            continue;
        char *f[5] = {0};
        char *p = line + 7;
        for (int k = 0; k < 5 && p; k++) {
            f[k] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        insp_thread *t = f[0] ? insp_find_thread(tg, atoi(f[0])) : NULL;
        if (!t)
            continue;
        if (f[1])
            t->state = f[1][0];
        if (f[2])
            t->blocked_ms = strtoll(f[2], NULL, 10);
        if (f[3])
            snprintf(t->name, sizeof t->name, "%.*s", (int)sizeof t->name - 1, f[3]);
        if (f[4])
            snprintf(t->note_wait, sizeof t->note_wait, "%.*s", (int)sizeof t->note_wait - 1,
                     f[4]);
    }
    free(text);
}

static void read_notes(insp_target *tg, core_file *cf, Elf *elf, const GElf_Phdr *ph)
{
    Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph->p_offset, ph->p_filesz, ELF_T_NHDR);
    if (!d)
        return;
    GElf_Nhdr nh;
    size_t off = 0, name_off, desc_off;
    const char *buf = d->d_buf;
    /* PRSTATUS notes come first; the LOCKGRAPH note refers to their threads: two passes. */
    for (int pass = 0; pass < 2; pass++) {
        off = 0;
        while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
            const char *name = buf + name_off, *desc = buf + desc_off;
            bool core = nh.n_namesz == 5 && memcmp(name, "CORE", 4) == 0;
            if (pass == 0 && core && nh.n_type == NT_PRSTATUS) {
                thread_from_prstatus(tg, desc, nh.n_descsz);
            } else if (pass == 0 && core && nh.n_type == NT_PRPSINFO &&
                       nh.n_descsz >= sizeof(struct elf_prpsinfo)) {
                struct elf_prpsinfo ps;
                memcpy(&ps, desc, sizeof ps);
                tg->pid = ps.pr_pid;
                snprintf(tg->comm, sizeof tg->comm, "%.*s", (int)sizeof ps.pr_fname,
                         ps.pr_fname);
            } else if (pass == 0 && core && nh.n_type == NT_FILE) {
                files_from_nt_file(tg, desc, nh.n_descsz);
            } else if (pass == 0 && core && nh.n_type == NT_AUXV) {
                for (size_t k = 0; k + 16 <= nh.n_descsz; k += 16) {
                    uint64_t kv[2];
                    memcpy(kv, desc + k, 16);
                    if (kv[0] == AT_PHDR)
                        cf->at_phdr = kv[1];
                    else if (kv[0] == AT_PHNUM)
                        cf->at_phnum = kv[1];
                }
            } else if (pass == 1 && nh.n_namesz == 10 && memcmp(name, "LOCKGRAPH", 9) == 0) {
                from_lockgraph_note(tg, desc, nh.n_descsz);
            }
        }
    }
}

/* GNU build-id of an ELF file on disk; length, 0 when it has none. */
static size_t file_build_id(Elf *elf, unsigned char *out, size_t max)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        GElf_Nhdr nh;
        size_t off = 0, no, dof;
        while (d && (off = gelf_getnote(d, off, &nh, &no, &dof)) > 0) {
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                memcmp((char *)d->d_buf + no, "GNU", 4) == 0 && nh.n_descsz <= max) {
                memcpy(out, (char *)d->d_buf + dof, nh.n_descsz);
                return nh.n_descsz;
            }
        }
    }
    return 0;
}

/* The build-id of the core's executable, from its program headers in the core's memory
 * (AT_PHDR). 0 when the core did not keep those pages. */
static size_t core_build_id(core_file *cf, unsigned char *out, size_t max)
{
    if (!cf->at_phdr || !cf->at_phnum || cf->at_phnum > 64)
        return 0;
    Elf64_Phdr ph[64];
    if (core_read(cf, cf->at_phdr, ph, cf->at_phnum * sizeof *ph) < 0)
        return 0;
    uint64_t bias = 0;
    for (size_t i = 0; i < cf->at_phnum; i++)
        if (ph[i].p_type == PT_PHDR)
            bias = cf->at_phdr - ph[i].p_vaddr;
    for (size_t i = 0; i < cf->at_phnum; i++) {
        if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > 4096)
            continue;
        unsigned char buf[4096];
        if (core_read(cf, bias + ph[i].p_vaddr, buf, ph[i].p_filesz) < 0)
            continue;
        for (size_t off = 0; off + 12 <= ph[i].p_filesz;) {
            uint32_t nn, nd, type;
            memcpy(&nn, buf + off, 4);
            memcpy(&nd, buf + off + 4, 4);
            memcpy(&type, buf + off + 8, 4);
            size_t name = off + 12, desc = name + ((nn + 3) & ~3u);
            if (desc + nd > ph[i].p_filesz)
                break;
            if (type == NT_GNU_BUILD_ID && nn == 4 && memcmp(buf + name, "GNU", 4) == 0 &&
                nd <= max) {
                memcpy(out, buf + desc, nd);
                return nd;
            }
            off = desc + ((nd + 3) & ~3u);
        }
    }
    return 0;
}

static int check_exe(insp_target *tg, core_file *cf, const char *exe, char *err, size_t errlen)
{
    int fd;
    struct stat st;
    int oe = lg_safe_open_read(exe, &fd, &st);
    if (oe) {
        snprintf(err, errlen, "cannot open executable '%s': %s", exe, lg_safe_strerror(oe));
        return -1;
    }
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);   /* pread, not mmap: see open_core */
    GElf_Ehdr eh;
    if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
        (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
        if (e)
            elf_end(e);
        close(fd);
        snprintf(err, errlen, "'%s' is not an ELF executable", exe);
        return -1;
    }
    unsigned char a[64], b[64];
    size_t na = file_build_id(e, a, sizeof a), nb = core_build_id(cf, b, sizeof b);
    elf_end(e);
    close(fd);
    if (na && nb && (na != nb || memcmp(a, b, na) != 0)) {
        snprintf(err, errlen, "core is not from '%s': its build-id differs from the "
                 "executable's", exe);
        return -1;
    }
    if (!na || !nb) {
        /* No build-ids to compare: fall back to the name the kernel recorded. */
        const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
        if (tg->comm[0] && strncmp(base, tg->comm, strlen(tg->comm)) != 0) {
            snprintf(err, errlen, "core is not from '%s': it was dumped from '%s'", exe,
                     tg->comm);
            return -1;
        }
        insp_note(tg, "cannot compare build-ids of the core and '%s'", exe);
    }
    return 0;
}

static int open_core(const char *path, core_file *cf, Elf **elfp, char *err, size_t errlen)
{
    /* A regular file only: a FIFO or device is one line at once, not a wait or an endless
     * read. */
    struct stat st;
    int oe = lg_safe_open_read(path, &cf->fd, &st);
    if (oe) {
        snprintf(err, errlen, "cannot open core file '%s': %s", path, lg_safe_strerror(oe));
        return -1;
    }
    unsigned char ident[EI_NIDENT] = {0};
    if (pread(cf->fd, ident, sizeof ident, 0) != sizeof ident ||
        memcmp(ident, ELFMAG, SELFMAG) != 0) {
        snprintf(err, errlen, "'%s' is not an ELF core file", path);
        return -1;
    }
    /* ELF_C_READ: libelf and libdwfl read with pread. A mapping of the file would die of
     * SIGBUS when the file shrinks while it is read; a short read is checked instead
     * (core_changed). */
    Elf *elf = elf_begin(cf->fd, ELF_C_READ, NULL);
    GElf_Ehdr eh;
    if (!elf || !gelf_getehdr(elf, &eh)) {
        if (elf)
            elf_end(elf);
        snprintf(err, errlen, "'%s' is not a readable ELF file (truncated?)", path);
        return -1;
    }
    *elfp = elf;
    if (eh.e_type != ET_CORE) {
        snprintf(err, errlen, "'%s' is an ELF file but not a core", path);
        return -1;
    }
    if (eh.e_machine != EM_X86_64) {
        snprintf(err, errlen, "'%s' is a core of another architecture (machine %d)", path,
                 eh.e_machine);
        return -1;
    }
    size_t nph = 0;
    if (elf_getphdrnum(elf, &nph) != 0 || nph == 0) {
        snprintf(err, errlen, "core file '%s' has no program headers (truncated?)", path);
        return -1;
    }
    uint64_t need = 0;
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph)) {
            snprintf(err, errlen, "core file '%s' is truncated (program headers)", path);
            return -1;
        }
        if (ph.p_filesz && ph.p_offset + ph.p_filesz > need)
            need = ph.p_offset + ph.p_filesz;
        if (ph.p_type == PT_LOAD) {
            segment s = {ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz};
            if (LG_APPEND(cf->seg, cf->nseg, &s) < 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    if ((uint64_t)st.st_size < need) {
        snprintf(err, errlen, "core file '%s' is truncated (%lld of %llu bytes)", path,
                 (long long)st.st_size, (unsigned long long)need);
        return -1;
    }
    cf->need = need;
    return 0;
}

/* After reading: a core that shrank (or was rewritten shorter) meanwhile gave short reads;
 * whatever was built from it is not the process's state. -1 with the message. */
static int core_changed(const core_file *cf, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(cf->fd, &st) == 0 && !cf->shrank && (uint64_t)st.st_size >= cf->need)
        return 0;
    snprintf(err, errlen, "core file '%s' changed while being read (now %lld of %llu bytes)",
             path, (long long)st.st_size, (unsigned long long)cf->need);
    return -1;
}

int lg_inspect_core(const char *path, const char *exe, const lg_inspect_options *opt,
                    lg_report *out, lg_inspect_stats *stats, char *err, size_t errlen)
{
    double t0 = insp_now_ms();
    elf_version(EV_CURRENT);
    core_file cf = {.fd = -1};
    Elf *elf = NULL;
    insp_target tg = {.is_core = true, .read = core_read, .read_ctx = &cf};
    int rc = -1;
    if (open_core(path, &cf, &elf, err, errlen) < 0)
        goto out_unread;
    size_t nph = 0;
    elf_getphdrnum(elf, &nph);
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_NOTE)
            read_notes(&tg, &cf, elf, &ph);
    }
    if (tg.n == 0) {
        snprintf(err, errlen, "core file '%s' holds no threads (no NT_PRSTATUS notes)", path);
        goto out;
    }
    if (!tg.pid)
        tg.pid = tg.t[0].tid;
    if (exe) {
        if (check_exe(&tg, &cf, exe, err, errlen) < 0)
            goto out;
        snprintf(tg.exe, sizeof tg.exe, "%s", exe);
    }
    glibc_identify(&tg);
    mem_snapshot(&tg);
    if (unwind_core(&tg, elf, exe, opt, err, errlen) < 0)
        goto out;
    rtstate_read(&tg);
    if (symbolize_all(&tg) < 0) {
        snprintf(err, errlen, "out of memory while symbolizing");
        goto out;
    }
    decode_all(&tg);
    if (core_changed(&cf, path, err, errlen) < 0)
        goto out;
    rc = build_report(&tg, out, stats);
    if (rc < 0)
        snprintf(err, errlen, "out of memory while building the report");
out:
    /* A failure caused by the file shrinking says so, not what it broke downstream. */
    if (rc < 0 && cf.need)
        core_changed(&cf, path, err, errlen);
out_unread:
    lg_symbolizer_close(tg.sym);
    if (tg.dwfl)
        dwfl_end(tg.dwfl);
    free(tg.unwind_cache);
    insp_target_free(&tg);
    if (elf)
        elf_end(elf);
    if (cf.fd >= 0)
        close(cf.fd);
    free(cf.seg);
    if (stats)
        stats->total_ms = insp_now_ms() - t0;
    return rc;
}
