/* test-offline-symbols.c - lg_symbolizer_open_modules(), the symbolizer `lockgraph report`
 * builds from a trace's module map: this program's own executable, reported at its real load
 * bias, names its own function; the same module with a different build-id is refused (its
 * frames would be wrong) and counted as skipped; a missing file is skipped too. */
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "symbolize/symbolize.h"
#include "t.h"

static char exe[4096];
static uint64_t bias;
static uint8_t bid[64];
static size_t bidlen;

static int find_self(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    if (info->dlpi_name && info->dlpi_name[0])
        return 0;   /* the main program has an empty name */
    bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_descsz <= sizeof bid) {
            bidlen = nh->n_descsz;
            memcpy(bid, p + sizeof *nh + ((nh->n_namesz + 3) & ~3u), bidlen);
        }
    }
    return 1;
}

__attribute__((noinline)) int offline_target_function(int x)
{
    return x * 3 + 1;
}

static const char *first_function(lg_symbolizer *s, uint64_t pc, lg_stack *st)
{
    memset(st, 0, sizeof *st);
    if (lg_symbolize(s, &pc, 1, true, st) < 0 || st->n == 0)
        return NULL;
    return st->frames[st->n - 1].function;
}

int main(void)
{
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n > 0 ? n : 0] = '\0';
    dl_iterate_phdr(find_self, NULL);
    CHECK(bidlen == 20);
    uint64_t pc = (uint64_t)(uintptr_t)&offline_target_function + 4;
    char err[256];
    size_t skipped = 99;

    lg_sym_module good = {exe, bias, bid, bidlen};
    lg_symbolizer *s = lg_symbolizer_open_modules(&good, 1, &skipped, err, sizeof err);
    CHECK(s != NULL);
    CHECK_INT(skipped, 0);
    lg_stack st;
    CHECK_STR(first_function(s, pc, &st), "offline_target_function");
    lg_stack_free(&st);
    lg_symbolizer_close(s);

    uint8_t other[20];
    memcpy(other, bid, sizeof other);
    other[0] ^= 0xff;
    lg_sym_module mods[3] = {
        {"/nonexistent/lib.so", 0x7f0000000000ull, NULL, 0},
        {exe, bias, other, sizeof other},
    };
    s = lg_symbolizer_open_modules(mods, 2, &skipped, err, sizeof err);
    CHECK(s != NULL);
    CHECK_INT(skipped, 2);
    const char *fn = s ? first_function(s, pc, &st) : NULL;
    CHECK(fn == NULL);   /* a frame with an address only */
    lg_stack_free(&st);
    lg_symbolizer_close(s);

    /* both listed twice (snapshots after dlopen): reported once, still symbolizes */
    mods[0] = good;
    mods[1] = good;
    s = lg_symbolizer_open_modules(mods, 2, &skipped, err, sizeof err);
    CHECK_INT(skipped, 0);
    CHECK_STR(s ? first_function(s, pc, &st) : NULL, "offline_target_function");
    lg_stack_free(&st);
    lg_symbolizer_close(s);
    T_DONE();
}
