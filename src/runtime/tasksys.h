/* tasksys.h - the system call a thread of this process is blocked in (tasksys.c), read with
 * raw system calls only: safe inside an interposed call. */
#ifndef LG_RT_TASKSYS_H
#define LG_RT_TASKSYS_H

#include <stdbool.h>
#include <stdint.h>

enum {
    RT_TASK_UNKNOWN,   /* the file could not be read (gone thread, no /proc) */
    RT_TASK_RUNNING,   /* on a CPU or runnable */
    RT_TASK_BLOCKED,   /* blocked, not in a system call */
    RT_TASK_IN_CALL,   /* blocked in system call c->nr, its first arguments in c->arg */
};

typedef struct rt_task_call {
    long long nr;
    uint64_t arg[3];
} rt_task_call;

/* What thread tid of this process does now: one of the above; *c filled for IN_CALL. */
int rt_task_syscall(int tid, rt_task_call *c);

#endif
