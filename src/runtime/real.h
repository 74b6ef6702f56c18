/* real.h - pointers to glibc's own lock functions. Each starts at a resolver stub, so a call
 * made before our constructor ran (another library's constructor) still works: the stub
 * resolves everything, then forwards. */
#ifndef LG_RT_REAL_H
#define LG_RT_REAL_H

#include <pthread.h>
#include <threads.h>
#include <time.h>

#define REAL(ret, name, params, args, ver) extern ret (*real_##name) params;
#include "real.def"
#undef REAL

void rt_resolve_real(void);

#endif
