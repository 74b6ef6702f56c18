/* elfsym.c - the data symbol (.symtab) holding an address of a loaded module, read from the
 * module's file mapped read-only, with no allocation: names locks while the program may be
 * inside its allocator (record defines every lock on first use, from the lock call itself;
 * libelf callocs, and a jemalloc program's first locks are jemalloc's own). dladdr sees only
 * dynamic symbols, which is why the file is read at all.
 *
 * The last few files stay mapped (keyed by device, inode, size and mtime: a rebuilt file is
 * mapped again); every offset read from the file is checked against its size. A module
 * already looked up is found again by its load address with no system call (a strict seccomp
 * filter of the program may allow none; `record` names locks from the lock call), until a
 * dlclose unloads something (rt_elfsym_unloaded); `record` maps the main program's file at
 * its start (rt_elfsym_prewarm), before the program can install a filter.
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt.h"

typedef struct mapped {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    uintptr_t base;       /* the module's load address it was last looked up for; 0 none */
    const unsigned char *data;
    unsigned long used;   /* last use, for eviction */
} mapped;

enum { CACHED = 8 };
static mapped cache[CACHED];
static unsigned long clock_;
static rt_flock cache_lock = RT_FLOCK_INIT;   /* a leaf */

static const unsigned char *map_file(const char *path, size_t *size, uintptr_t base)
{
    for (int i = 0; base && i < CACHED; i++)
        if (cache[i].data && cache[i].base == base) {
            cache[i].used = ++clock_;
            *size = (size_t)cache[i].size;
            return cache[i].data;
        }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    const unsigned char *data = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)sizeof(Elf64_Ehdr)) {
        mapped *victim = &cache[0];
        for (int i = 0; i < CACHED && !data; i++) {
            mapped *m = &cache[i];
            if (m->data && m->dev == st.st_dev && m->ino == st.st_ino && m->size == st.st_size
                && m->mtime.tv_sec == st.st_mtim.tv_sec && m->mtime.tv_nsec == st.st_mtim.tv_nsec) {
                m->used = ++clock_;
                m->base = base;
                data = m->data;
            } else if (m->used < victim->used) {
                victim = m;
            }
        }
        if (!data) {
            void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                if (victim->data)
                    munmap((void *)victim->data, (size_t)victim->size);
                *victim = (mapped){st.st_dev, st.st_ino, st.st_size, st.st_mtim, base, p, ++clock_};
                data = p;
            }
        }
        *size = (size_t)st.st_size;
    }
    close(fd);
    return data;
}

static bool in_file(size_t off, size_t len, size_t size)
{
    return off <= size && len <= size - off;
}

/* The STT_OBJECT symbol of `f` covering file address `want`: "name" or "name+off". */
static bool lookup(const unsigned char *f, size_t size, uint64_t want, char *name, size_t namelen)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64
        || eh->e_shentsize != sizeof(Elf64_Shdr)
        || !in_file(eh->e_shoff, (size_t)eh->e_shnum * sizeof(Elf64_Shdr), size))
        return false;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(f + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_entsize != sizeof(Elf64_Sym)
            || sh[i].sh_link >= eh->e_shnum || !in_file(sh[i].sh_offset, sh[i].sh_size, size))
            continue;
        const Elf64_Shdr *str = &sh[sh[i].sh_link];
        if (!in_file(str->sh_offset, str->sh_size, size) || !str->sh_size)
            continue;
        const char *strs = (const char *)f + str->sh_offset;
        const Elf64_Sym *sym = (const Elf64_Sym *)(f + sh[i].sh_offset);
        size_t n = sh[i].sh_size / sizeof *sym;
        for (size_t j = 0; j < n; j++) {
            const Elf64_Sym *s = &sym[j];
            if (ELF64_ST_TYPE(s->st_info) != STT_OBJECT || want < s->st_value
                || want >= s->st_value + (s->st_size ? s->st_size : 1)
                || s->st_name >= str->sh_size)
                continue;
            const char *sn = strs + s->st_name;
            size_t max = str->sh_size - s->st_name;
            int len = (int)strnlen(sn, max);
            if ((size_t)len == max)
                continue;   /* not terminated inside the table */
            if (want - s->st_value)
                snprintf(name, namelen, "%.*s+%llu", len, sn,
                         (unsigned long long)(want - s->st_value));
            else
                snprintf(name, namelen, "%.*s", len, sn);
            return true;
        }
    }
    return false;
}

bool rt_elf_data_symbol(const char *path, uintptr_t base, uintptr_t addr, char *name,
                        size_t namelen)
{
    rt_flock_lock(&cache_lock);
    size_t size = 0;
    const unsigned char *f = map_file(path, &size, base);
    bool ok = false;
    if (f) {
        const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
        uintptr_t bias = eh->e_type == ET_DYN ? base : 0;
        ok = lookup(f, size, addr - bias, name, namelen);
    }
    rt_flock_unlock(&cache_lock);
    return ok;
}

void rt_elfsym_unloaded(void)
{
    rt_flock_lock(&cache_lock);
    for (int i = 0; i < CACHED; i++)
        cache[i].base = 0;   /* another module may be loaded there now: by identity again */
    rt_flock_unlock(&cache_lock);
}

static int first_module(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    *(const void **)ctx = info->dlpi_phdr;
    return 1;   /* the main program comes first */
}

void rt_elfsym_prewarm(void)
{
    const void *phdr = NULL;
    Dl_info info;
    char name[8];
    dl_iterate_phdr(first_module, &phdr);
    if (phdr && dladdr(phdr, &info) && info.dli_fbase)
        rt_elf_data_symbol("/proc/self/exe", (uintptr_t)info.dli_fbase, 0, name, sizeof name);
}

void rt_elfsym_fork(int phase)
{
    if (phase == RT_FORK_PREPARE)
        rt_flock_lock(&cache_lock);
    else if (phase == RT_FORK_PARENT)
        rt_flock_unlock(&cache_lock);
    else
        rt_flock_reset(&cache_lock);
}
