/* condvars.h - cond-two-mutexes (condvars.c): one condition variable waited on with two
 * mutexes at once. What the condition-wait wrappers (interpose.c) and the signal, broadcast,
 * init and destroy wrappers call. */
#ifndef LG_RT_CONDVARS_H
#define LG_RT_CONDVARS_H

#include "rt.h"

/* A condition wait on cv with mutex m, called at pc, is about to go to glibc (its mutex
 * release already told to the runtime): counted in cv's state word, this thread's wait
 * published for the other waiters' check, the misuse reported when a wait with another
 * mutex is in progress. True when this call registered the wait: then rt_cv_wait_end must
 * follow it (normal return or cancellation). */
bool rt_cv_wait_begin(const void *cv, const void *m, uintptr_t pc);
/* The registered wait is over (glibc returned, or the cancelled wait unwinds). */
void rt_cv_wait_end(void);
/* pthread_cond_signal / broadcast of cv returned: a waiter may be unblocked by it now, so
 * no wait that began before this counts as blocked any more (POSIX's dynamic binding lasts
 * only while a thread is blocked on the condition variable). */
void rt_cv_woken(const void *cv);
/* pthread_cond_init / destroy of cv: a new condition variable, no binding. */
void rt_cv_reset(const void *cv);

#endif
