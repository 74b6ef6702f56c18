/* loaded.h - whether the runtime ran in the program `run`/`record` launched: a handshake
 * pipe the runtime writes into from every process image that loads it (src/runtime/
 * handshake.c), and the reason when none did (a static or setuid/setgid program, or
 * LD_PRELOAD removed). Used by launch.c. */
#ifndef LG_CLI_LOADED_H
#define LG_CLI_LOADED_H

#include <stdbool.h>
#include <stddef.h>

typedef struct lg_tree_defects {
    size_t images;             /* process images that said they found defects */
    unsigned long defects;     /* the sum of their last counts */
    int first_pid;
} lg_tree_defects;

typedef struct lg_loaded {
    int rfd, wfd;
    lg_tree_defects tree;      /* filled by lg_loaded_verdict */
    int *pids; size_t npids;   /* ...and every pid that ran the runtime (malloc'd) */
} lg_loaded;

/* Before the fork: the pipe, and LOCKGRAPH_HANDSHAKE=FD:INODE in the environment. 0, or -1
 * (then the run goes on without a verdict). */
int lg_loaded_open(lg_loaded *h);
/* In the parent after the fork: its copy of the write end closed. */
void lg_loaded_forked(lg_loaded *h);
/* After the program ended: 1 when some process image still ran the runtime at its end (or
 * no verdict is possible), 0 when none did. *saw_exec: an image exec'd another. */
int lg_loaded_verdict(lg_loaded *h, bool *saw_exec);
/* ...and h->tree: the images that said at their end they found defects ("D PID N"). */
/* Why not: from the program file (static, setuid, setgid), else from the handshake. */
void lg_loaded_reason(const char *path, bool saw_exec, char *buf, size_t len);

#endif
