/* fuzz-core.c - fuzz the core reader (`lockgraph core`: ELF header, program headers, notes,
 * PT_LOAD memory, the LOCKGRAPH note, libdwfl's module report and unwinding, decoding and the
 * report built from it) with arbitrary bytes. Each input is written to a memfd and read back
 * through /proc/self/fd/N as a core file. Built two ways, like tests/trace/fuzz-reader.c:
 *  - with clang, -DLG_LIBFUZZER -fsanitize=fuzzer,address,undefined: a libFuzzer target run
 *    for a bounded time by CTest (fuzz-core-reader), seeded by `fuzz-core-mutate --seed DIR`;
 *  - with the normal compiler against lginspect_san: a deterministic mutation loop over the
 *    built-in seed (fuzz-core-mutate), so the test exists even where clang does not.
 * The seed is a small synthetic core: a thread in a futex wait on a word inside its one
 * PT_LOAD segment, NT_PRPSINFO, NT_FILE naming libc, NT_AUXV and a LOCKGRAPH note.
 * Either fails on a crash, a sanitizer report or a hang (CTest timeout). */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "inspect/inspect.h"
#include "model/model.h"

enum { SEED_CAP = 16384, SEG_VADDR = 0x7f0000000000ull, SEG_SIZE = 4096 };

static size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc,
                       uint32_t dlen)
{
    uint32_t nl = (uint32_t)strlen(name) + 1, h[3] = {nl, dlen, type};
    memcpy(p, h, 12);
    memset(p + 12, 0, (nl + 3) & ~3u);
    memcpy(p + 12, name, nl);
    size_t off = 12 + ((nl + 3) & ~3u);
    memset(p + off, 0, (dlen + 3) & ~3u);
    memcpy(p + off, desc, dlen);
    return off + ((dlen + 3) & ~3u);
}

static size_t build_seed(uint8_t *b)
{
    memset(b, 0, SEED_CAP);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_CORE;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = sizeof *eh;
    eh->e_ehsize = sizeof *eh;
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 2;
    Elf64_Phdr *ph = (Elf64_Phdr *)(b + sizeof *eh);
    size_t notes = sizeof *eh + 2 * sizeof *ph, n = notes;

    struct elf_prpsinfo ps;
    memset(&ps, 0, sizeof ps);
    ps.pr_pid = 100;
    memcpy(ps.pr_fname, "hang", 5);
    n += put_note(b + n, "CORE", NT_PRPSINFO, &ps, sizeof ps);
    struct elf_prstatus st;
    memset(&st, 0, sizeof st);
    st.pr_pid = 100;
    uint64_t *r = (uint64_t *)&st.pr_reg;   /* user_regs_struct order */
    r[15] = 202;                             /* orig_rax: futex */
    r[14] = SEG_VADDR + 0x100;               /* rdi: the futex word */
    r[13] = 0;                               /* rsi: FUTEX_WAIT */
    r[12] = 2;                               /* rdx: the value */
    r[19] = SEG_VADDR + 0x800;               /* rsp */
    r[4] = SEG_VADDR + 0x900;                /* rbp */
    r[16] = 0x401000;                        /* rip */
    n += put_note(b + n, "CORE", NT_PRSTATUS, &st, sizeof st);
    st.pr_pid = 101;
    r[14] = SEG_VADDR + 0x140;
    n += put_note(b + n, "CORE", NT_PRSTATUS, &st, sizeof st);
    uint8_t file[256] = {0};
    uint64_t fe[5] = {1, 4096, SEG_VADDR, SEG_VADDR + SEG_SIZE, 0};
    memcpy(file, fe, sizeof fe);
    static const char lib[] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    memcpy(file + sizeof fe, lib, sizeof lib);
    n += put_note(b + n, "CORE", NT_FILE, file, (uint32_t)(sizeof fe + sizeof lib));
    uint64_t auxv[6] = {AT_PHDR, SEG_VADDR + 0x40, AT_PHNUM, 2, AT_NULL, 0};
    n += put_note(b + n, "CORE", NT_AUXV, auxv, sizeof auxv);
    static const char lgn[] = "thread 100\tS\t1500\tmain\t\nthread 101\tS\t20\tworker\tread(3)\n";
    n += put_note(b + n, "LOCKGRAPH", 0x4c47, lgn, sizeof lgn - 1);

    ph[0].p_type = PT_NOTE;
    ph[0].p_offset = notes;
    ph[0].p_filesz = n - notes;
    size_t seg = (n + 4095) & ~(size_t)4095;
    ph[1].p_type = PT_LOAD;
    ph[1].p_flags = PF_R | PF_W;
    ph[1].p_offset = seg;
    ph[1].p_vaddr = SEG_VADDR;
    ph[1].p_filesz = ph[1].p_memsz = SEG_SIZE;
    ph[1].p_align = 4096;
    uint32_t word = 2;                       /* a locked mutex with waiters: owner tid 101 */
    memcpy(b + seg + 0x100, &word, 4);
    uint32_t owner = 101;
    memcpy(b + seg + 0x108, &owner, 4);
    owner = 100;
    memcpy(b + seg + 0x148, &owner, 4);
    memcpy(b + seg + 0x140, &word, 4);
    return seg + SEG_SIZE;
}

static void one(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-core", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    lg_report r;
    lg_report_init(&r);
    lg_inspect_options opt = {.no_stacks = size % 2 == 0, .max_frames = 8};
    lg_inspect_core(path, NULL, &opt, &r, NULL, err, sizeof err);
    lg_report_free(&r);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size <= 1 << 20)
        one(data, size);
    return 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#ifdef LG_LIBFUZZER
/* libFuzzer's own main runs; the seed file comes from fuzz-core-mutate --seed. */
#else
/* usage: fuzz-core-mutate ITERATIONS | fuzz-core-mutate --seed FILE */
int main(int argc, char **argv)
{
    static uint8_t seed[SEED_CAP], buf[SEED_CAP];
    size_t n0 = build_seed(seed);
    if (argc == 3 && strcmp(argv[1], "--seed") == 0) {
        FILE *f = fopen(argv[2], "wb");
        if (!f || fwrite(seed, 1, n0, f) != n0 || fclose(f) != 0) {
            perror(argv[2]);
            return 1;
        }
        return 0;
    }
    if (argc != 2)
        return 2;
    long iters = atol(argv[1]);
    one(seed, n0);   /* the seed itself first: it must read back */
    for (long it = 0; it < iters; it++) {
        size_t n = n0;
        memcpy(buf, seed, n);
        int muts = 1 + (int)(next() % 4);
        for (int m = 0; m < muts && n; m++) {
            /* Mostly the headers and notes, where the parsing is. */
            size_t at = next() % 4 ? next() % (n < 1024 ? n : 1024) : next() % n;
            switch (next() % 5) {
            case 0: buf[at] ^= (uint8_t)(1u << (next() % 8)); break;
            case 1: buf[at] = (uint8_t)next(); break;
            case 2: n = at; break;                                    /* truncate */
            case 3: memset(buf + at, 0xff, n - at < 8 ? n - at : 8); break;  /* huge sizes */
            default: {                                                /* a random 32-bit */
                uint32_t v = (uint32_t)next();
                if (at + 4 <= n)
                    memcpy(buf + at, &v, 4);
            }
            }
        }
        one(buf, n);
    }
    printf("fuzz-core-mutate: %ld inputs\n", iters);
    return 0;
}
#endif
