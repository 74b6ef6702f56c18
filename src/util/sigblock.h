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
/* In a fork child: the forking thread's internal locks are reset, not released; its mask
 * goes back to the program's. */
void lg_sigblock_after_fork(void);

#endif
