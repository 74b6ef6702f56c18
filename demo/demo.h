/* demo.h - lockgraph-demo: the three-thread ERESOURCE scenario from the classic write-up,
 * rebuilt with pthreads. A stand-in for a user's program: it must not depend on lockgraph.
 *
 * Files: options.c (the option table and its parser), threads.c (the two resources, the
 * three threads and the handshake that forces the write-up's interleaving), main.c (folders,
 * running the threads, checking the counts, the summary). */
#ifndef DEMO_H
#define DEMO_H

#include <pthread.h>
#include <stdatomic.h>

#define DEMO_NAME "lockgraph-demo"
/* The line the write-up's creation thread writes, CR LF included: 15 bytes. */
#define DEMO_LINE "Hello, World!\r\n"
#define DEMO_LINE_LEN 15

enum demo_order {
    DEMO_ORDER_INCONSISTENT,  /* mover 1 then 2, deleter 2 then 1: the write-up's deadlock */
    DEMO_ORDER_CONSISTENT,    /* the fix: both take 1 then 2 */
};

typedef struct demo_config {
    unsigned long files;      /* --files */
    unsigned long writes;     /* --writes, lines per file */
    enum demo_order order;    /* --order */
    const char *dir;          /* --dir, or NULL for a new temporary directory */
    int quiet;                /* --quiet */
} demo_config;

/* What the three threads did; written by one thread each, read by main after the joins. */
typedef struct demo_counts {
    unsigned long created;
    unsigned long moved;
    unsigned long deleted;
} demo_counts;

/* The two reader/writer resources (ERESOURCEs in the write-up). Global, with symbol names,
 * so outside tools (nm, a debugger, lockgraph) can name them. */
extern pthread_rwlock_t resource1;
extern pthread_rwlock_t resource2;

/* options.c: parse argv into cfg. Returns -1 to continue, else the exit status to return
 * at once (0 after --help, 2 after a one-line error on stderr). */
int demo_parse_args(int argc, char **argv, demo_config *cfg);

/* threads.c: run the three threads over folder1 -> folder2 and wait for them. In
 * inconsistent order this never returns (that is the point). Returns 0, or -1 after a
 * one-line error on stderr. */
int demo_run_threads(const demo_config *cfg, const char *folder1, const char *folder2,
                     demo_counts *counts);

/* main.c: a progress line on stdout, flushed at once so it is visible before a hang. */
void demo_say(const demo_config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* main.c: a one-line error "lockgraph-demo: ..." on stderr. */
void demo_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
