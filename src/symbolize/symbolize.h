/* symbolize.h - program counters to frames (function, file:line, inlined frames), shared by
 * every front end: the runtime symbolizes its own process, attach a live one, core a core.
 *
 * Built on elfutils libdwfl; works without debug info (ELF symbols, then module+offset) and
 * uses .build-id debug files when installed (libc6-dbg). Results are cached per PC.
 */
#ifndef LG_SYMBOLIZE_H
#define LG_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"

typedef struct lg_symbolizer lg_symbolizer;
typedef struct Dwfl Dwfl;

/* A live process (pid may be getpid()). NULL with a message in err on failure. */
lg_symbolizer *lg_symbolizer_open_pid(int pid, char *err, size_t errlen);
/* Use a Dwfl session that already reports the target's modules (attach, core); the caller
 * keeps owning it and must close the symbolizer first. */
lg_symbolizer *lg_symbolizer_wrap(Dwfl *dwfl);
/* Modules recorded elsewhere (a trace's module map): each ELF file is reported at its load
 * bias, as it was in the recorded process. Files that cannot be opened, or whose build-id
 * differs from the recorded one, are skipped and counted in *skipped (may be NULL), so their
 * PCs print as addresses. Never NULL except on allocation failure (message in err). */
typedef struct lg_sym_module {
    const char *path;
    uint64_t bias;
    const uint8_t *build_id;  /* may be NULL */
    size_t build_id_len;
} lg_sym_module;
lg_symbolizer *lg_symbolizer_open_modules(const lg_sym_module *mods, size_t n, size_t *skipped,
                                          char *err, size_t errlen);
void lg_symbolizer_close(lg_symbolizer *s);

/* Append the frames for pcs[0..n) to out, innermost first, inlined calls expanded.
 * pcs[0] is an exact PC when first_exact; every other PC is a return address (looked up
 * at pc-1 so the call's line, not the next one, is reported). 0, or -1 on allocation failure. */
int lg_symbolize(lg_symbolizer *s, const uint64_t *pcs, size_t n, bool first_exact,
                 lg_stack *out);

/* Demangle a C++ name if it is one and a demangler is available; else a copy. */
char *lg_demangle(const char *name);

#endif
