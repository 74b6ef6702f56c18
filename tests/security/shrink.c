/* shrink.c - LD_PRELOADed into `lockgraph core` by readers.sh: when lockgraph hands the core
 * to libdwfl (after it checked the headers against the file's size and read the notes), the
 * file named by LG_SHRINK_FILE is cut to LG_SHRINK_SIZE bytes, as if another process
 * truncated it at that moment. Deterministic: the same point of every run. */
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct Dwfl Dwfl;
typedef struct Elf Elf;

int dwfl_core_file_report(Dwfl *dwfl, Elf *elf, const char *executable);
int dwfl_core_file_report(Dwfl *dwfl, Elf *elf, const char *executable)
{
    int (*real)(Dwfl *, Elf *, const char *) =
        (int (*)(Dwfl *, Elf *, const char *))dlsym(RTLD_NEXT, "dwfl_core_file_report");
    const char *file = getenv("LG_SHRINK_FILE"), *size = getenv("LG_SHRINK_SIZE");
    if (file && size && truncate(file, atoll(size)) != 0)
        _exit(99);
    return real ? real(dwfl, elf, executable) : -1;
}
