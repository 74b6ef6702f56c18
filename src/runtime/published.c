/* published.c - the exported `lg_runtime_state` (published.h): where attach/core find this
 * runtime's thread records and stack store from outside the process. Offsets are compile-time
 * constants; the three addresses are filled once at init, the magic last. Nothing here runs
 * on any lock path. Not here: the records themselves (threads.c, stacks.c). */
#include <stddef.h>

#include "published.h"
#include "rt.h"

#define OFF(type, field) ((uint16_t)offsetof(type, field))
#define SAME_SIZE(type, field, n) _Static_assert(sizeof(((type *)0)->field) == (n), #field)

/* The widths published.h promises. */
SAME_SIZE(rt_thread, tid, 4);
SAME_SIZE(rt_thread, name, 16);
SAME_SIZE(rt_thread, exited, 1);
SAME_SIZE(rt_thread, depth, 4);
SAME_SIZE(rt_thread, wait.mode, 1);
SAME_SIZE(rt_held, addr, 8);
SAME_SIZE(rt_held, mode, 1);
SAME_SIZE(rt_held, count, 2);
SAME_SIZE(rt_held, stack, 4);
SAME_SIZE(rt_held, pc, 8);
SAME_SIZE(rt_lock, addr, 8);
SAME_SIZE(rt_lock, type, 1);
SAME_SIZE(rt_thread, wait.flags, 1);
SAME_SIZE(rt_thread, wait.seq, 8);
_Static_assert(RT_ACQ_TIMED == LG_PUB_WAIT_TIMED, "published wait flag");
_Static_assert(sizeof(size_t) == 8 && sizeof(void *) == 8, "64-bit layouts only");

RT_EXPORT lg_pub_state lg_runtime_state = {
    .version = LG_PUB_VERSION,
    .size = sizeof(lg_pub_state),
    .thread_size = sizeof(rt_thread),
    .th_next = OFF(rt_thread, next),
    .th_tid = OFF(rt_thread, tid),
    .th_name = OFF(rt_thread, name),
    .th_exited = OFF(rt_thread, exited),
    .th_held = OFF(rt_thread, held),
    .th_depth = OFF(rt_thread, depth),
    .th_wait_lock = OFF(rt_thread, wait.lock),
    .th_wait_mode = OFF(rt_thread, wait.mode),
    .th_wait_cond = OFF(rt_thread, wait.cond),
    .th_wait_flags = OFF(rt_thread, wait.flags),
    .th_wait_join = OFF(rt_thread, wait.join),
    .th_wait_seq = OFF(rt_thread, wait.seq),
    .held_size = sizeof(rt_held),
    .hd_addr = OFF(rt_held, addr),
    .hd_mode = OFF(rt_held, mode),
    .hd_count = OFF(rt_held, count),
    .hd_stack = OFF(rt_held, stack),
    .hd_pc = OFF(rt_held, pc),
    .lk_addr = OFF(rt_lock, addr),
    .lk_type = OFF(rt_lock, type),
};

void rt_publish(void)
{
    void *starts, *count, *arena;
    rt_stacks_where(&starts, &count, &arena);
    lg_runtime_state.registry = (uint64_t)(uintptr_t)rt_threads_registry();
    lg_runtime_state.stack_starts = (uint64_t)(uintptr_t)starts;
    lg_runtime_state.stack_count = (uint64_t)(uintptr_t)count;
    lg_runtime_state.stack_arena = (uint64_t)(uintptr_t)arena;
    __atomic_store_n(&lg_runtime_state.magic, LG_PUB_MAGIC, __ATOMIC_RELEASE);
}
