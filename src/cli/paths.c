/* paths.c - find our own files relative to the executable, so the build tree and any
 * install prefix work the same way (bin/lockgraph next to lib/liblockgraph.so). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/xalloc.h"
#include "cli.h"

char *cli_self_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    return strdup(buf);
}

char *cli_runtime_library(void)
{
    const char *env = getenv("LOCKGRAPH_RUNTIME");
    if (env && *env)
        return access(env, R_OK) == 0 ? strdup(env) : NULL;
    char *dir = cli_self_dir();
    if (!dir)
        return NULL;
    char *p = lg_asprintf("%s/../lib/liblockgraph.so", dir);
    free(dir);
    if (p && access(p, R_OK) != 0) {
        free(p);
        return NULL;
    }
    char *real = p ? realpath(p, NULL) : NULL;
    free(p);
    return real;
}

char *cli_absolute_path(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    return lg_asprintf("%s/%s", cwd, path);
}

int cli_defect_status(void)
{
    const char *ec = getenv("LOCKGRAPH_EXITCODE");
    return ec && *ec ? atoi(ec) : LG_EXIT_DEFECT;
}
