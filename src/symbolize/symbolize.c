/* symbolize.c - libdwfl-based symbolization with a per-PC cache (see symbolize.h).
 *
 * Does: module + ELF-relative offset, the ELF symbol, DWARF file:line, and inlined frames
 * (from the DIE scopes at the PC, like eu-addr2line -i). Does not: unwind (src/inspect does),
 * or fetch debug info from the network.
 */
#include "symbolize.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/hash.h"
#include "../util/xalloc.h"

typedef struct cache_entry {
    uint64_t pc;             /* lookup PC (already adjusted for return addresses) */
    lg_stack frames;
    struct cache_entry *next;
} cache_entry;

struct lg_symbolizer {
    Dwfl *dwfl;
    bool owned;
    int pid;                 /* live process we may re-report after dlopen; 0 otherwise */
    cache_entry **buckets;
    size_t nbuckets, count;
};

static const Dwfl_Callbacks proc_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

static int report_pid(Dwfl *dwfl, int pid)
{
    dwfl_report_begin(dwfl);
    int rc = dwfl_linux_proc_report(dwfl, pid);
    if (dwfl_report_end(dwfl, NULL, NULL) != 0)
        rc = -1;
    return rc;
}

/* A symbolizer that owns (and on failure ends) its Dwfl session. */
static lg_symbolizer *wrap_owned(Dwfl *dwfl, char *err, size_t errlen)
{
    lg_symbolizer *s = lg_symbolizer_wrap(dwfl);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        dwfl_end(dwfl);
        return NULL;
    }
    s->owned = true;
    return s;
}

lg_symbolizer *lg_symbolizer_open_pid(int pid, char *err, size_t errlen)
{
    Dwfl *dwfl = dwfl_begin(&proc_callbacks);
    if (!dwfl) {
        snprintf(err, errlen, "cannot start libdwfl: %s", dwfl_errmsg(-1));
        return NULL;
    }
    int rc = report_pid(dwfl, pid);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the modules of process %d: %s", pid,
                 rc > 0 ? strerror(rc) : dwfl_errmsg(-1));
        dwfl_end(dwfl);
        return NULL;
    }
    lg_symbolizer *s = wrap_owned(dwfl, err, errlen);
    if (!s)
        return NULL;
    s->pid = pid;
    return s;
}

lg_symbolizer *lg_symbolizer_wrap(Dwfl *dwfl)
{
    lg_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->dwfl = dwfl;
    return s;
}

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

lg_symbolizer *lg_symbolizer_open_modules(const lg_sym_module *mods, size_t n, size_t *skipped,
                                          char *err, size_t errlen)
{
    size_t bad = 0;
    Dwfl *dwfl = dwfl_begin(&offline_callbacks);
    if (!dwfl) {
        snprintf(err, errlen, "cannot start libdwfl: %s", dwfl_errmsg(-1));
        return NULL;
    }
    dwfl_report_begin(dwfl);
    for (size_t i = 0; i < n; i++) {
        /* the same module may be listed twice (snapshots after dlopen): report it once */
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = mods[j].bias == mods[i].bias && strcmp(mods[j].path, mods[i].path) == 0;
        if (dup)
            continue;
        Dwfl_Module *m = dwfl_report_elf(dwfl, mods[i].path, mods[i].path, -1,
                                         (GElf_Addr)mods[i].bias, false);
        if (!m) {
            bad++;
            continue;
        }
        const unsigned char *bits = NULL;
        GElf_Addr vaddr;
        int len = dwfl_module_build_id(m, &bits, &vaddr);
        if (mods[i].build_id_len && (len != (int)mods[i].build_id_len ||
                                     memcmp(bits, mods[i].build_id, (size_t)len) != 0)) {
            /* a different build of the file now: its symbols would be wrong */
            bad++;
            dwfl_report_end(dwfl, NULL, NULL);
            dwfl_end(dwfl);
            lg_sym_module *rest = malloc(n * sizeof *rest);
            if (!rest) {
                snprintf(err, errlen, "out of memory");
                return NULL;
            }
            size_t k = 0;
            for (size_t j = 0; j < n; j++)
                if (j != i)
                    rest[k++] = mods[j];
            size_t more = 0;
            lg_symbolizer *s = lg_symbolizer_open_modules(rest, k, &more, err, errlen);
            free(rest);
            if (skipped)   /* the retry counts again the files that failed before this one */
                *skipped = 1 + more;
            return s;
        }
    }
    dwfl_report_end(dwfl, NULL, NULL);
    lg_symbolizer *s = wrap_owned(dwfl, err, errlen);
    if (!s)
        return NULL;
    if (skipped)
        *skipped = bad;
    return s;
}

void lg_symbolizer_close(lg_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (cache_entry *e = s->buckets[i], *next; e; e = next) {
            next = e->next;
            lg_stack_free(&e->frames);
            free(e);
        }
    }
    free(s->buckets);
    if (s->owned)
        dwfl_end(s->dwfl);
    free(s);
}

/* ---- demangling ----
 * The demangler lives in libstdc++. A C++ target has it loaded already; otherwise we load it
 * on first use, and do without (mangled names) when it is not installed. */
typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);

char *lg_demangle(const char *name)
{
    static demangle_fn fn;
    static int looked;
    if (!name)
        return NULL;
    if (strncmp(name, "_Z", 2) != 0)
        return strdup(name);
    if (!looked) {
        fn = (demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
        if (!fn) {
            void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
            if (h)
                fn = (demangle_fn)dlsym(h, "__cxa_demangle");
        }
        looked = 1;
    }
    int status = -1;
    char *d = fn ? fn(name, NULL, NULL, &status) : NULL;
    if (d && status == 0)
        return d;
    free(d);
    return strdup(name);
}

/* ---- one PC ---- */

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (!n)
        n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    if (!n)
        n = dwarf_diename(die);
    return n;
}

static int push(lg_stack *out, uint64_t pc, const char *module, uint64_t off, const char *fn,
                uint64_t fnoff, const char *file, int line, bool inlined)
{
    lg_frame *f = lg_stack_push(out);
    if (!f)
        return -1;
    f->inlined = inlined;
    char *d = lg_demangle(fn);
    int rc = lg_frame_set(f, pc, module, off, d, fnoff, file, line);
    free(d);
    return rc;
}

static int resolve(lg_symbolizer *s, uint64_t pc, uint64_t lookup, lg_stack *out)
{
    Dwfl_Module *m = dwfl_addrmodule(s->dwfl, lookup);
    if (!m && s->pid) {
        /* A library dlopen()ed after we last looked: read the maps again. */
        report_pid(s->dwfl, s->pid);
        m = dwfl_addrmodule(s->dwfl, lookup);
    }
    if (!m)
        return push(out, pc, NULL, 0, NULL, 0, NULL, 0, false);

    Dwarf_Addr start = 0;
    const char *modname = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
    Dwarf_Addr bias = 0;
    uint64_t off = dwfl_module_getelf(m, &bias) ? pc - bias : pc - start;

    GElf_Off symoff = 0;
    GElf_Sym sym;
    const char *symname = dwfl_module_addrinfo(m, lookup, &symoff, &sym, NULL, NULL, NULL);
    if (symname && lookup != pc)
        symoff += 1;   /* report the offset of the return address itself */

    const char *file = NULL;
    int line = 0;
    Dwfl_Line *dl = dwfl_module_getsrc(m, lookup);
    if (dl)
        file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);

    /* Inlined frames: walk the scopes at the PC from the innermost out. Each inlined
     * subroutine is a frame at the current position; its call site becomes the position of
     * the next frame out. */
    Dwarf_Addr dbias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(m, lookup, &dbias);
    Dwarf_Die *scopes = NULL;
    int nscopes = cu ? dwarf_getscopes(cu, lookup - dbias, &scopes) : 0;
    if (nscopes > 0) {
        /* By PC, the scope list continues into an inlined function's abstract definition
         * (its own enclosing scopes), not into the function it was inlined into. The
         * concrete chain, every inlined level up to the real subprogram, is the list of DIEs
         * containing the innermost scope (what eu-addr2line -i does). */
        Dwarf_Die inner = scopes[0];
        free(scopes);
        scopes = NULL;
        nscopes = dwarf_getscopes_die(&inner, &scopes);
    }
    Dwarf_Files *files = NULL;
    if (nscopes > 0)
        dwarf_getsrcfiles(cu, &files, NULL);
    int rc = 0;
    bool emitted = false;
    for (int i = 0; i < nscopes && rc == 0; i++) {
        Dwarf_Die *d = &scopes[i];
        int tag = dwarf_tag(d);
        if (tag == DW_TAG_inlined_subroutine) {
            rc = push(out, pc, modname, off, die_name(d), 0, file, line, true);
            Dwarf_Attribute a;
            Dwarf_Word cf = 0, cl = 0;
            if (dwarf_formudata(dwarf_attr(d, DW_AT_call_file, &a), &cf) == 0 && files)
                file = dwarf_filesrc(files, cf, NULL, NULL);
            if (dwarf_formudata(dwarf_attr(d, DW_AT_call_line, &a), &cl) == 0)
                line = (int)cl;
        } else if (tag == DW_TAG_subprogram) {
            const char *n = symname ? symname : die_name(d);
            rc = push(out, pc, modname, off, n, symname ? symoff : 0, file, line, false);
            emitted = true;
            break;
        }
    }
    free(scopes);
    if (rc == 0 && !emitted)
        rc = push(out, pc, modname, off, symname, symoff, file, line, false);
    /* In the model, the physical frame is the last of its group and inlined ones precede it;
     * "inlined" marks frames that share the physical frame's PC. */
    return rc;
}

static size_t hash_pc(uint64_t pc, size_t nbuckets)
{
    return (size_t)(lg_fmix64_round(pc) & (nbuckets - 1));
}

static cache_entry *cache_get(lg_symbolizer *s, uint64_t pc, uint64_t lookup)
{
    if (s->nbuckets) {
        for (cache_entry *e = s->buckets[hash_pc(lookup, s->nbuckets)]; e; e = e->next)
            if (e->pc == lookup && (e->frames.n == 0 || e->frames.frames[0].address == pc))
                return e;
    }
    if (s->count >= s->nbuckets) {
        size_t nb = s->nbuckets ? s->nbuckets * 2 : 256;
        cache_entry **b = calloc(nb, sizeof *b);
        if (!b)
            return NULL;
        for (size_t i = 0; i < s->nbuckets; i++) {
            for (cache_entry *e = s->buckets[i], *next; e; e = next) {
                next = e->next;
                size_t h = hash_pc(e->pc, nb);
                e->next = b[h];
                b[h] = e;
            }
        }
        free(s->buckets);
        s->buckets = b;
        s->nbuckets = nb;
    }
    cache_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->pc = lookup;
    if (resolve(s, pc, lookup, &e->frames) < 0) {
        lg_stack_free(&e->frames);
        free(e);
        return NULL;
    }
    size_t h = hash_pc(lookup, s->nbuckets);
    e->next = s->buckets[h];
    s->buckets[h] = e;
    s->count++;
    return e;
}

int lg_symbolize(lg_symbolizer *s, const uint64_t *pcs, size_t n, bool first_exact,
                 lg_stack *out)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t pc = pcs[i];
        uint64_t lookup = (i == 0 && first_exact) || pc == 0 ? pc : pc - 1;
        cache_entry *e = cache_get(s, pc, lookup);
        if (!e)
            return -1;
        for (size_t j = 0; j < e->frames.n; j++) {
            const lg_frame *f = &e->frames.frames[j];
            lg_frame *d = lg_stack_push(out);
            if (!d)
                return -1;
            d->inlined = f->inlined;
            if (lg_frame_set(d, f->address, f->module, f->module_offset, f->function,
                             f->function_offset, f->file, f->line) < 0)
                return -1;
        }
    }
    return 0;
}
