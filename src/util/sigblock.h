/* sigblock.h - signals stay blocked on a thread while it holds one of lockgraph's own locks.
 *
 * The runtime's internal locks (futex locks, the trace writer's spin locks) are held for
 * short sections that never wait for the program. A signal handler of the program that ran
 * inside such a section could: its lock calls then wait for a program lock whose holder
 * (another thread, or the interrupted code itself) waits for the internal lock the handler's
 * thread holds, which it never releases: a deadlock the program does not have. The same for
 * the runtime's own fatal-signal handler, which flushes the trace and writes the JSON under
 * those locks. So the first internal lock a thread takes blocks every signal and its last
 * release restores the program's mask: two system calls, on cold paths only (new lock
 * sequences, contended waits, reports, trace chunks), never on the lock fast path.
 * rt_sigprocmask is a call every threaded program makes (glibc's pthread_create does), so a
 * strict seccomp filter of the program allows it.
 */
#ifndef LG_SIGBLOCK_H
#define LG_SIGBLOCK_H

#include <signal.h>

void lg_sigblock_enter(void);
void lg_sigblock_leave(void);
/* Lazy mode (the runtime, while every handler the program can have is known and none is the
 * program's: ending.c): a section blocks nothing (no system call). The only handlers that can
 * then run are the runtime's own (its fatal-signal and sampling handlers), and each begins
 * with lg_sigblock_defer: inside a section it blocks every signal until the section ends
 * (through the interrupted context's saved mask) and queues its signal again for this thread,
 * with its siginfo, so it is delivered when the section ends, as a blocked one would be.
 * lg_sigblock_lazy_stop ends lazy mode for good (the program installs a handler) and waits
 * until no thread is inside a section begun lazily, so none runs a handler of the program. */
void lg_sigblock_lazy_start(void);
void lg_sigblock_lazy_stop(void);
/* In a handler of the runtime's (SA_SIGINFO): 0 run now; 1 deferred, return at once; 2 a
 * fault of the runtime's own code inside a section: set the default action and return (as a
 * blocked fault does, the instruction faults again and the kernel's default action ends it). */
int lg_sigblock_defer(int sig, siginfo_t *si, void *uc);
/* In a fork child: the forking thread's internal locks are reset, not released; its mask
 * goes back to the program's. */
void lg_sigblock_after_fork(void);

#endif
