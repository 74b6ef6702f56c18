/* main.c - lockgraph-demo's driver: parse the options, make folder1/ and folder2/, run the
 * three threads (threads.c), check that every file was created, moved and deleted and that
 * both folders ended empty, print the summary. It takes no locks itself. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

void demo_say(const demo_config *cfg, const char *fmt, ...)
{
    if (cfg->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    flockfile(stdout); /* one whole line per call, even with three threads printing */
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    funlockfile(stdout);
    va_end(ap);
}

void demo_error(const char *fmt, ...)
{
    char msg[PATH_MAX + 512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, DEMO_NAME ": %s\n", msg);
}

/* Entries in DIR other than . and ..; -1 after reporting an error. */
static long count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        demo_error("cannot open directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* A fresh folder, or an existing empty one (a second run with the same --dir). */
static int make_folder(const char *path)
{
    if (mkdir(path, 0755) == 0)
        return 0;
    if (errno != EEXIST) {
        demo_error("cannot create directory '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        demo_error("cannot use '%s': it exists and is not a directory", path);
        return -1;
    }
    long n = count_entries(path);
    if (n != 0) {
        if (n > 0)
            demo_error("cannot use '%s': it is not empty (%ld entries; left by an earlier run?)",
                       path, n);
        return -1;
    }
    return 0;
}

static int check_counts(const demo_config *cfg, const demo_counts *c, const char *f1,
                        const char *f2)
{
    if (c->created != cfg->files || c->moved != cfg->files || c->deleted != cfg->files) {
        demo_error("expected %lu files created, moved and deleted, got %lu, %lu and %lu",
                   cfg->files, c->created, c->moved, c->deleted);
        return -1;
    }
    const char *folders[] = {f1, f2};
    for (int i = 0; i < 2; i++) {
        long n = count_entries(folders[i]);
        if (n != 0) {
            if (n > 0)
                demo_error("'%s' should be empty but has %ld entries", folders[i], n);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    demo_config cfg;
    int st = demo_parse_args(argc, argv, &cfg);
    if (st >= 0)
        return st;

    char base[PATH_MAX], f1[PATH_MAX], f2[PATH_MAX];
    if (cfg.dir) {
        snprintf(base, sizeof base, "%s", cfg.dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
            tmp = "/tmp";
        snprintf(base, sizeof base, "%s/" DEMO_NAME ".XXXXXX", tmp);
        if (!mkdtemp(base)) {
            demo_error("cannot create a temporary directory in '%s': %s", tmp, strerror(errno));
            return 1;
        }
    }
    if ((size_t)snprintf(f1, sizeof f1, "%s/folder1", base) >= sizeof f1 - 16 ||
        (size_t)snprintf(f2, sizeof f2, "%s/folder2", base) >= sizeof f2 - 16) {
        demo_error("directory name too long: '%s'", base);
        return 2;
    }
    if (make_folder(f1) != 0 || make_folder(f2) != 0)
        return 1;

    int consistent = cfg.order == DEMO_ORDER_CONSISTENT;
    demo_say(&cfg, DEMO_NAME ": %lu files x %lu writes in %s, %s order (%s)", cfg.files,
             cfg.writes, base, consistent ? "consistent" : "inconsistent",
             consistent ? "mover and deleter: resource1 then resource2"
                        : "mover: resource1 then resource2; deleter: resource2 then resource1");

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    demo_counts counts = {0};
    if (demo_run_threads(&cfg, f1, f2, &counts) != 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    if (check_counts(&cfg, &counts, f1, f2) != 0)
        return 1;
    if (!cfg.dir && (rmdir(f1) != 0 || rmdir(f2) != 0 || rmdir(base) != 0)) {
        demo_error("cannot remove temporary directory '%s': %s", base, strerror(errno));
        return 1;
    }
    printf("summary: %lu files created, %lu moved, %lu deleted, %lu bytes each, in %.3f s; "
           "folder1 and folder2 %s\n",
           counts.created, counts.moved, counts.deleted, cfg.writes * DEMO_LINE_LEN, secs,
           cfg.dir ? "are empty" : "were empty and are removed");
    if (fflush(stdout) != 0 || ferror(stdout)) {
        demo_error("cannot write to standard output: %s", strerror(errno));
        return 1;
    }
    return 0;
}
