/* published.h - the runtime's published state: how a reader OUTSIDE the process (attach,
 * core, dump) finds the runtime's own per-thread records in the target's memory. Shared by
 * the runtime (which fills it, published.c) and src/inspect (which reads it, rtstate.c).
 *
 * Design: the runtime does not copy anything for outside readers. It exports one data
 * symbol, `lg_runtime_state` (found through liblockgraph.so's dynamic symbol table plus its
 * load address), that says where its registry of thread records and its stack store live
 * and at which offsets the fields a reader needs sit in them (offsetof, filled by the
 * compiler). The records are the ones the runtime keeps anyway (the held-lock stack of
 * every thread, readers included, with each acquisition's stack id and call site, and the
 * lock a thread waits for), so the fast path pays nothing, and a layout change inside the
 * runtime does not break readers as long as the fields still exist: the offsets move with
 * it. `version` changes only when the MEANING of a field changes or one disappears; readers
 * ignore a state whose magic or version they do not know (and then behave as without it).
 *
 * Consistency: attach reads it with every thread stopped, a core is frozen. A record can
 * still be mid-update (a thread stopped inside the runtime), so readers bound every walk and
 * treat unreadable or implausible values as "unknown", never as an error.
 *
 * Include-free except <stdint.h>: the reader's build never sees the runtime's types. Every
 * field is fixed-width so 64-bit layouts match whoever compiled either side. Not here: the
 * runtime's own types (rt.h), how readers use the data (src/inspect/rtstate.c).
 */
#ifndef LG_PUBLISHED_H
#define LG_PUBLISHED_H

#include <stdint.h>

#define LG_PUB_SYMBOL "lg_runtime_state"
#define LG_PUB_MAGIC 0x0a68706172676b6cull   /* "lkgraph\n" little-endian */
#define LG_PUB_VERSION 1u
#define LG_PUB_WAIT_TIMED (1u << 1)   /* th_wait_flags */
/* In a held entry's stack id (hd_stack): the stack is the one unwound at the first
 * acquisition seen with the same call site and locks held below, reused without unwinding;
 * its first PC (the call site) is this acquisition's, its callers that first one's. */
#define LG_PUB_STACK_SHARED 0x80000000u

typedef struct lg_pub_state {
    uint64_t magic;            /* LG_PUB_MAGIC, written last: a reader seeing it sees the rest */
    uint32_t version;          /* LG_PUB_VERSION */
    uint32_t size;             /* sizeof(lg_pub_state) of the writer: fields may be appended */
    uint64_t registry;         /* address of the pointer to the first thread record */

    /* Thread record: a singly linked list through `next`. */
    uint32_t thread_size;
    uint16_t th_next;          /* pointer to the next record, 0 at the end */
    uint16_t th_tid;           /* int32 kernel thread id */
    uint16_t th_name;          /* char[16], NUL-terminated */
    uint16_t th_exited;        /* uint8: the thread exited holding locks (orphans) */
    uint16_t th_held;          /* pointer to the held-lock array */
    uint16_t th_depth;         /* uint32: entries in use, innermost last */
    uint16_t th_wait_lock;     /* pointer to the lock record it waits for, 0 none */
    uint16_t th_wait_mode;     /* uint8 lg_mode of that wait */
    uint16_t th_wait_cond;     /* pointer to the mutex record of a condition wait, 0 none */
    uint16_t th_wait_flags;    /* uint8: LG_PUB_WAIT_TIMED when the program's call has a
                                  timeout (the runtime itself waits in slices: the kernel
                                  shows every wait as timed) */
    uint16_t th_wait_join;     /* pointer to the record of the thread it joins, 0 none */
    uint16_t th_wait_seq;      /* uint64 bumped at every recorded wait's start and end: a
                                  thread that wakes from a wait slice and waits on without
                                  a change made no progress (run --hang-timeout) */

    /* Held-lock entry (array element). */
    uint32_t held_size;
    uint16_t hd_addr;          /* uint64: the lock's address in the program */
    uint16_t hd_mode;          /* uint8 lg_mode: 0 exclusive, 1 shared (read) */
    uint16_t hd_count;         /* uint16 recursion depth */
    uint16_t hd_stack;         /* uint32 stack id of the acquisition, 0 unknown */
    uint16_t hd_pc;            /* uint64 return address of the locking call */
    uint16_t lk_addr;          /* in a lock record: uint64 the lock's address */

    /* Stack store: stack id i (1..count-1) is `starts[i] & 0xff` PCs (uint64) from
     * `arena + (starts[i] >> 8)`. The three are addresses of the runtime's variables (the
     * arrays move as they grow), read through one more indirection. */
    uint64_t stack_starts;     /* address of a (uint64_t *) */
    uint64_t stack_count;      /* address of a size_t */
    uint64_t stack_arena;      /* address of a (uint64_t *) */

    /* Appended (readers check `size`): in a lock record, the uint8 lg_lock_type ("custom"
     * for a lock the program describes with annotations, which no memory layout explains). */
    uint16_t lk_type;
} lg_pub_state;

#endif
