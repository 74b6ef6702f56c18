/* rt.h - the runtime's internal types and cross-file prototypes, grouped by defining file.
 *
 * The runtime (liblockgraph.so) lives inside someone else's program: nothing here may abort,
 * deadlock or lose the program's output. The fast path (fastpath.h) touches only the
 * calling thread's state and two lock-free tables (locks.c, chains.c); everything else runs
 * in the slow path under `rt.graph_lock` (a futex lock, never a pthread mutex) with the
 * thread's re-entry guard set, so pthread calls made by our own code (libdw, stdio) pass
 * straight through to glibc.
 */
#ifndef LG_RT_H
#define LG_RT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "../analysis/lockorder.h"
#include "../model/model.h"
#include "futex-lock.h"
#include "names.h"
#include "published.h"

/* Zeroed private memory for the runtime's own tables and records, or NULL. Straight from the
 * kernel rather than the program's malloc: the runtime must not re-enter an allocator the
 * program may be inside of (or may have replaced), and a forked child inherits it intact. */
static inline void *rt_map(size_t bytes)
{
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

#define RT_EXPORT __attribute__((visibility("default")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- heap.c: the runtime's own malloc family (reached through the linker's --wrap) ---- */
/* Fork: the heap's locks are taken before fork, released (parent) or reset (child) after. */
void rt_heap_fork(int phase);

/* ---- options.c ---- */
typedef enum { RT_ON_DEADLOCK_EXIT, RT_ON_DEADLOCK_ABORT, RT_ON_DEADLOCK_WAIT } rt_on_deadlock;

typedef struct rt_config {
    int exitcode;
    int frames;
    unsigned long max_locks;
    double wait_timeout;
    bool deadlocks;
    bool verbose;
    unsigned misuse;           /* bit m: lg_misuse m is reported (--misuse) */
    rt_on_deadlock on_deadlock;
    const char *log, *json, *suppressions;
} rt_config;

void rt_options_load(rt_config *c);
void rt_options_print(int fd, const rt_config *c);

/* ---- families.c: lock families (families.def: one row each) ---- */
enum {
#define FAMILY(id, name, ops) RT_FAM_##id,
#include "families.def"
#undef FAMILY
    RT_FAM_COUNT
};
/* A lock call tells the runtime its lock type and family in one value (the native family
 * is 0, so a plain lg_lock_type is a native lock). */
#define RT_FT(fam, type) ((unsigned)(fam) << 8 | (unsigned)(type))
#define RT_FT_TYPE(ft) ((lg_lock_type)((unsigned)(ft) & 0xff))
#define RT_FT_FAM(ft) ((unsigned)(ft) >> 8)

/* How a family's waits block (wait.c). Every op is a call of the family's own functions,
 * returning what they return mapped to errno values (0 taken, EBUSY held, else an error). */
typedef struct rt_family {
    /* The program's blocking call; RT_WAIT_TIMED: with the caller's clock and deadline. NULL:
     * the program blocks by itself (annotations): wait.c records the wait and checks it, the
     * program then waits and says when it is over. */
    int (*lock)(void *obj, lg_lock_type type, unsigned mode, int how, clockid_t clk,
                const struct timespec *abstime);
    int (*trylock)(void *obj, lg_lock_type type, unsigned mode);
    /* The wait until `end` (clock clk), ETIMEDOUT past it; NULL when leaving the family's
     * wait and coming back may change what it promises (queued waiters): never sliced. */
    int (*slice)(void *obj, lg_lock_type type, unsigned mode, clockid_t clk,
                 const struct timespec *end);
    bool (*sliceable)(void *obj, lg_lock_type type);   /* NULL: every wait that has slice */
} rt_family;
#define FAMILY(id, name, ops) extern const rt_family ops;
#include "families.def"
#undef FAMILY
const rt_family *rt_family_get(unsigned fam);   /* the native row for an unknown id */
/* The family's name for a lock's attributes ("" native), from its record. */
const char *rt_family_name_of(uintptr_t addr);

/* ---- locks.c: lock identity ---- */
enum {
    RT_LOCK_RECURSIVE = 1u << 0,   /* re-entry by the holder is allowed */
    RT_LOCK_C11 = 1u << 2,
    RT_LOCK_STACK = 1u << 3,       /* lives on a thread stack: identity checked per frame */
    RT_LOCK_UNTRACKED = 1u << 4,   /* over the budget: never checked */
    RT_LOCK_NOTSTACK = 1u << 7,    /* checked: not on any thread stack */
};
/* Flags that force the slow path on every acquisition. */
#define RT_LOCK_SLOWPATH (RT_LOCK_STACK | RT_LOCK_UNTRACKED)

/* What the fast path reads of a lock: 32 bytes, two to a cache line, so a program walking
 * a million locks drags half as much through the cache as it would with everything here. */
typedef struct rt_lock {
    _Atomic uintptr_t addr;
    uint64_t first_key;            /* chain key of its last acquisition with nothing held */
    _Atomic uint32_t gen;          /* bumped when the lock dies: a new identity */
    uint32_t idx;                  /* node id in the lock-order graph */
    uint32_t first_stack;          /* and that acquisition's stack id (a hint: racy is fine) */
    _Atomic uint8_t flags;         /* RT_LOCK_* */
    uint8_t type;                  /* lg_lock_type */
    _Atomic uint8_t life;          /* RT_LIFE_*: what its death has to undo */
    _Atomic uint8_t dead;          /* died, and not born (init) or slow-acquired since */
} rt_lock;
enum {
    RT_LIFE_EDGES = 1u << 0,       /* has (had) edges in the lock-order graph in this gen */
};
_Static_assert(sizeof(rt_lock) == 32, "rt_lock is the fast path's: keep it 32 bytes");

/* What only the slow paths need, kept beside it by idx (rt_lock_cold_of). */
typedef struct rt_lock_cold {
    union {
        uint64_t frame_sig;        /* stack locks: the frame that owns it */
        uintptr_t destroy_pc;      /* while `destroyed` (a death cleared the stack flags, so
                                    * the next acquisition learns frame_sig afresh) */
    };
    _Atomic uint64_t trace;        /* record.c: gen << 32 | trace id in that generation */
    uintptr_t first_pc;            /* call site and mode<<8|flags of the acquisition that */
    uint16_t first_mf;             /* set first_key: a new generation gets its key too */
    _Atomic uint8_t family;        /* RT_FAM_*: whose calls the lock is used through */
    _Atomic uint8_t destroyed;     /* destroyed by the program, not born since (misuse.c) */
    int destroy_tid;               /* and by whom */
} rt_lock_cold;
_Static_assert(sizeof(rt_lock_cold) == 32, "two records a cache line: lock churn touches it");

/* Find or create (slow path). NULL when over the budget or out of memory. */
rt_lock *rt_lock_get(uintptr_t addr, lg_lock_type type);
rt_lock *rt_lock_by_idx(uint32_t idx);
/* The cold record beside l: inline, since every birth and death touches it. */
#define RT_CHUNK_BITS 12
#define RT_CHUNK (1u << RT_CHUNK_BITS)
extern rt_lock_cold *rt_cold_chunks[];
static inline rt_lock_cold *rt_lock_cold_of(const rt_lock *l)
{
    return &rt_cold_chunks[l->idx >> RT_CHUNK_BITS][l->idx & (RT_CHUNK - 1)];
}
/* The last-acquirer hint of a lock the program annotates (annotate.c writes it, wait.c's
 * announcement reads it; the ordering argument is wait.c's, "announced waits"): 0 no
 * thread holds it, a thread record: only that thread may hold it, RT_HINT_MANY: anyone may
 * (shared holds, a hand-over, ...). Never reset to 0 from RT_HINT_MANY. */
#define RT_HINT_MANY ((uintptr_t)1)
_Atomic uintptr_t *rt_lock_hint(const rt_lock *l);
uint32_t rt_lock_count(void);
/* The lock is dead: new identity, edges dropped. Takes the graph lock only when the lock
 * has edges: the caller must not hold it. False when it was dead already. rt_lock_kill
 * (below, inline: a dead lock's second death is every churning init's and free's) calls
 * rt_lock_kill_live for anything but a dead lock with nothing to undo. */
bool rt_lock_kill_live(rt_lock *l);
/* Dead, and no edges (a second death with nothing in between has nothing to undo). */
static inline bool rt_lock_dead_clean(const rt_lock *l)
{
    return atomic_load_explicit(&l->dead, memory_order_relaxed)
           && !(atomic_load_explicit(&l->life, memory_order_relaxed) & RT_LIFE_EDGES);
}
static inline bool rt_lock_kill(rt_lock *l)
{
    if (rt_lock_dead_clean(l)) {
        rt_name_forget(atomic_load_explicit(&l->addr, memory_order_relaxed));
        return false;
    }
    return rt_lock_kill_live(l);
}
/* Edges are about to be added from or to l (graph lock held); false when l died meanwhile
 * (its generation is no longer gen). */
bool rt_lock_mark_edges(rt_lock *l, uint32_t gen);
/* Every lock inside [p, p+n) dies (free(), munmap of a stack). */
void rt_locks_forget_range(uintptr_t p, size_t n);
/* Cheap filter: could [p, p+n) contain a known lock? */
bool rt_locks_maybe_in(uintptr_t p, size_t n);
/* Fork: take the table lock before fork, release (parent) or reset (child) after. */
void rt_locks_fork(int phase);

/* ---- chains.c: the lock-free set of held-lock sequences already checked ---- */
bool rt_chain_lookup(uint64_t key, uint32_t *stack);
void rt_chain_insert(uint64_t key, uint32_t stack);   /* graph lock held */
void rt_chain_add(uint64_t key, uint32_t stack);      /* graph lock not held */
size_t rt_chain_count(void);
unsigned long rt_chain_flushes(void);

/* ---- edgeset.c: the lock-free set of edges one more occurrence cannot change ---- */
/* Would an occurrence (from in generation fgen -> to in tgen, one LG_DEP_* bit, timed or
 * not, by thread tid) change nothing in the graph? false: it may (or is not known). */
bool rt_edge_known(uint32_t from, uint32_t fgen, uint32_t to, uint32_t tgen, unsigned bits,
                   bool timed, int tid);
/* Graph lock held: an occurrence of e (those generations at its ends) changed it, or, with
 * `repeat`, changed nothing. An entry is kept up to date; a new one only for a repeat. */
void rt_edge_note(const lg_lo_edge *e, uint32_t fgen, uint32_t tgen, bool repeat);

/* ---- threads.c: per-thread state ---- */
enum {
    RT_ACQ_TRY = 1u << 0,      /* a successful trylock: no incoming edge */
    RT_ACQ_TIMED = 1u << 1,
    RT_ACQ_COND = 1u << 2,     /* re-acquired on wake-up from a condition wait */
    RT_ACQ_READ_R = 1u << 3,   /* a recursive read (reader-preferring rwlock) */
    RT_ACQ_REENTRY = 1u << 4,  /* may re-enter a lock already held (recursive, read) */
};

typedef struct rt_held {
    uintptr_t addr;
    rt_lock *lock;
    uint32_t gen;
    uint8_t mode;              /* lg_mode */
    uint8_t flags;             /* RT_ACQ_* */
    uint16_t count;            /* recursion depth */
    uint32_t stack;            /* stack id of the acquisition, 0 when unknown */
    uintptr_t pc;              /* return address of the interposed call */
    /* The chain key below this one (RT_KEY_SEED at depth 0). Every writer keeps key the
     * chain hash of (prev, lock->idx, gen, mode << 8 | flags, pc): an entry left above the
     * top is how the fast path knows the same acquisition again (rt_held_again). */
    uint64_t prev;
    uint64_t key;              /* chain key of the sequence up to and including this */
} rt_held;

typedef struct rt_thread rt_thread;
typedef struct rt_wait {
    _Atomic(rt_lock *) lock;   /* what the thread waits for, or NULL */
    _Atomic(rt_thread *) join; /* or the thread it joins, or NULL */
    _Atomic(rt_lock *) cond;   /* in a condition wait on this mutex: re-acquires it on wake-up */
    uintptr_t cond_pc;         /* where that condition wait was called */
    uint8_t mode, flags;
    uint32_t stack;
    /* A seqlock over the fields above: odd while the owner rewrites them, bumped twice at
     * every wait start and end (wait.c, "announced waits"). */
    _Atomic uint64_t seq;
    /* wait.c's own: held[] entries below `depth` cannot change while the wait lasts (the
     * thread is inside the lock call; a signal handler's locks sit above); a timed wait gives
     * up at `deadline` (CLOCK_MONOTONIC ns, INT64_MAX untimed); a join waits for `join_th`
     * (`join` is its record, when it had one at the start). */
    uint32_t depth;
    int64_t deadline;
    pthread_t join_th;
    /* condvars.c: this thread's condition wait in progress, read by another waiter's check
     * (cv 0: none): the condvar, its mutex, the call site, and the condvar's wake count when
     * it began; written by the thread only, cv_seq odd while it writes them. */
    _Atomic uint32_t cv_seq;
    _Atomic uint32_t cv_wakes;
    _Atomic uintptr_t cv, cv_mutex, cv_pc;
    void *cv_entry;            /* and its condvar's entry (condvars.c), this thread's only */
} rt_wait;

#define RT_SAMPLE_FRAMES 32
typedef struct rt_thread {
    rt_held *held;
    uint32_t depth, cap;
    uint32_t fast_cap;         /* cap, or 0 while the thread records (every event slow) */
    struct rt_rec_counts *rec; /* recording without --all-events: the counts (record-count.h) */
    int guard;                 /* > 0: inside the runtime, interposers pass through */
    int tid;
    char name[16];
    bool exited;
    bool registered;
    /* Set by a wait-for view (wait.c, threads_lock held): the record's seq when the view
     * began; the record stayed mid-rewrite then, and the view reads it as waiting for
     * nothing. */
    bool view_skip;
    uint64_t view_seq;
    int forked_from;           /* a thread of this pid when the process forked: not in it */
    uint32_t created_stack;    /* where pthread_create was called for it, 0 unknown */
    rt_wait wait;
    uintptr_t stack_lo, stack_hi;
    pthread_t self;
    struct rt_thread *next;
    /* --wait-timeout's sample of this thread's current stack, written by its own signal
     * handler (sample.c): asked for with sample_want, answered with sample_done. */
    _Atomic uint32_t sample_want, sample_done;
    uint8_t sample_n;
    uintptr_t sample_pcs[RT_SAMPLE_FRAMES];
    /* Locks of this thread that another thread released (ownership.c): their addresses,
     * appended by the releaser under threads_lock, dropped from held[] by this thread at its
     * next slow event (the releaser zeroes fast_cap so that event comes soon). gone_pending
     * mirrors ngone for the owner's lock-free check. */
    uintptr_t *gone;
    uint32_t ngone, capgone;
    _Atomic uint32_t gone_pending;
    /* Odd while the owner moves its held entries outside threads_lock (an out-of-order
     * release): a releaser scanning held[] from another thread retries. */
    _Atomic uint32_t held_seq;
    rt_held inline_held[16];
    struct rt_stack_cache *stack_cache;   /* stacks.c's walks of this thread, or NULL */
} rt_thread;

/* ---- ownership.c: a lock released by another thread than the one holding it ---- */
/* A thread's hold of a lock, copied out for a misuse finding (misuse.h). */
typedef struct rt_holder_info {
    int tid;
    char name[16];
    uint32_t stack;            /* stack id of its acquisition */
    uint8_t mode;              /* lg_mode */
    uint8_t role;              /* lg_site_role */
    int type;                  /* lg_lock_type of addr */
    uintptr_t addr;            /* 0: the finding's lock */
} rt_holder_info;
/* Up to max threads other than `skip` that hold addr (not released for them by another
 * thread), threads_lock taken here; how many there are. */
size_t rt_holders_find(uintptr_t addr, const rt_thread *skip, rt_holder_info *out, size_t max);
/* The same, counting only holds of generation gen of the lock (0: any). */
size_t rt_holders_find_gen(uintptr_t addr, uint32_t gen, const rt_thread *skip,
                           rt_holder_info *out, size_t max);
/* t (the caller, maybe the sentinel) releases addr that it does not hold: find the holder
 * and take the lock out of its state. ft: RT_FT(family, type), or RT_REL_COND. */
void rt_release_foreign(rt_thread *t, uintptr_t addr, int ft, uintptr_t pc);
/* The owner's side: drop what others released. Slow path (or exit) of t itself. */
void rt_gone_drain(rt_thread *t);
static inline void rt_gone_check(rt_thread *t)
{
    if (unlikely(atomic_load_explicit(&t->gone_pending, memory_order_acquire)))
        rt_gone_drain(t);
}
/* Whether t's hold of addr was released by another thread and t has not dropped it yet
 * (threads_lock held by the caller): readers of held[] skip such entries. */
bool rt_held_gone(const rt_thread *t, uintptr_t addr);

/* ---- nested.c: lock calls of a signal handler that interrupted the runtime on its thread ----
 *
 * `rt_busy` is set while the thread runs runtime code that changes its own state (the fast
 * path's push and pop, the slow path, the recording hooks); with it or the guard set, an
 * interposed call is nested (a handler interrupted that code, or the runtime's own calls):
 * it makes the program's call and touches nothing of the interrupted frame, no runtime lock
 * and no shared table. Its locks go on a per-thread stack of their own (TLS, written before
 * its count is published), so a later release, nested or not, finds them; a nested release
 * of a lock held[] lists is posted and done by the thread at its next slow event. Their
 * lock-order edges and trace events are not made (counted: one note at exit). */
#define RT_NEST_HELD 32
#define RT_NEST_REL 16
typedef struct rt_nest {
    uint32_t nheld, nrel;
    uint32_t lost;             /* acquisitions with no room left: their releases find none */
    struct {
        uintptr_t addr;
        uint32_t count;
    } held[RT_NEST_HELD];
    struct {
        uintptr_t addr;
        int type;
    } rel[RT_NEST_REL];
} rt_nest;
/* rt_self (below) and rt_busy live in one TLS block: the fast path reads both in every
 * interposed call, and one block costs one load of its TLS offset (from the GOT, in a shared
 * object) and one register instead of two. Defined in threads.c. */
struct rt_tls {
    struct rt_thread *self;
    uint8_t busy;
};
extern __thread struct rt_tls rt_tls;
#define rt_busy (rt_tls.busy)
extern __thread rt_nest rt_nested;
#define RT_SIGNAL_FENCE() atomic_signal_fence(memory_order_seq_cst)
/* Whether an interposed call is nested: t is the caller's rt_self (maybe the sentinel). */
static inline bool rt_is_nested(const rt_thread *t)
{
    return rt_busy || t->guard;
}
/* The guard (the runtime's own calls pass through) marks the thread busy too, so the fast
 * path, which reads rt_busy only, leaves a call inside a guarded section to nested.c. */
static inline void rt_guard_on(rt_thread *t)
{
    t->guard++;
    rt_busy++;
    RT_SIGNAL_FENCE();
}
static inline void rt_guard_off(rt_thread *t)
{
    RT_SIGNAL_FENCE();
    t->guard--;
    rt_busy--;
}
void rt_nested_acquired(const rt_thread *t, uintptr_t addr, unsigned flags);
void rt_nested_released(const rt_thread *t, uintptr_t addr, int type);
/* Not nested: addr is not in t's held[]; whether a nested acquisition of it was released. */
bool rt_nested_release_own(uintptr_t addr);
/* Not nested, busy: the releases nested calls posted for t's held[]. */
void rt_nested_drain(rt_thread *t);
static inline void rt_nested_check(rt_thread *t)
{
    if (unlikely(rt_nested.nrel))
        rt_nested_drain(t);
}
void rt_nested_dropped(void);   /* a trace event of a nested call */
/* At exit: the one note for everything nested calls did not check or record. */
void rt_nested_note(void);

/* ---- sample.c: another thread's current user stack (by a signal, only when harmless) ---- */
/* Frames into pcs; 0 and the reason in `why` when it was not sampled. */
size_t rt_sample_stack(rt_thread *h, uint64_t *pcs, size_t max, char *why, size_t whylen);

#define rt_self (rt_tls.self)   /* the calling thread's record, or the shared sentinel */
/* The calling thread's record, created if new. Inline: rt_self is the sentinel (never
 * registered) or a registered record, and every birth asks. */
rt_thread *rt_thread_setup_slow(void);
static inline rt_thread *rt_thread_setup(void)
{
    rt_thread *t = rt_self;
    return likely(t->registered) ? t : rt_thread_setup_slow();
}
/* pthread_create made thread th at stack id `stack` (its caller's): kept for findings. */
void rt_thread_created(pthread_t th, uint32_t stack);
/* Where th was created, when its record did not take it over (threads_lock held). */
uint32_t rt_thread_created_pending(pthread_t th);
int rt_thread_grow(rt_thread *t);          /* room for one more held lock; 0 or -1 */
/* Report time only (a system call): t's current name from /proc/self/task/TID/comm;
 * failures leave the known one. */
void rt_thread_refresh_name(rt_thread *t);
/* getpid() as learned at start (and after fork): no system call. */
int rt_pid(void);
/* pthread_setname_np(th, name) succeeded: the name the runtime knows for th. */
void rt_thread_named(pthread_t th, const char *name);
/* Recording started: every registered thread's events take the slow path from now on. */
void rt_threads_recording(void);
/* Registry walk for reports and the wait-for graph: rt.threads_lock held by the caller. */
rt_thread *rt_threads_first(void);
rt_thread *rt_thread_by_tid(int tid);
/* Whether addr lies on a thread's stack (a registered thread's, or the main thread's even
 * before main registers), and whose. Slow path and reports only. */
bool rt_addr_on_stack(uintptr_t addr, int *tid, bool threads_locked);
void rt_threads_after_fork(rt_thread *self);
/* In a forked child: the parent's pid and the stack of the fork() call, when a thread other
 * than the forking one held locks at that moment (their records stay, exited and
 * forked_from the parent: a wait for one of those locks waits for ever). False otherwise. */
bool rt_fork_origin(int *parent, uint32_t *stack);
void rt_threads_init(void);
rt_thread **rt_threads_registry(void);   /* published.c */

/* ---- stackbounds.c: the calling thread's stack range (0, 0 when unknown), allocation-free ---- */
void rt_stack_bounds(uintptr_t *lo, uintptr_t *hi);

/* ---- elfsym.c: a module's .symtab data symbol at addr ("name", "name+off"), no allocation ---- */
bool rt_elf_data_symbol(const char *path, uintptr_t base, uintptr_t addr, char *name,
                        size_t namelen);
void rt_elfsym_fork(int phase);
void rt_elfsym_unloaded(void);   /* a dlclose unloaded a module: load addresses may be reused */
void rt_elfsym_prewarm(void);    /* the main program's file mapped now (record's start) */

/* ---- stacks.c: captured stacks, deduplicated ---- */
/* A stack id with this bit (published.h) is reused from the first acquisition seen along
 * the same chain: the chain set and a lock's first_stack store ids with it, so a fast
 * acquisition that takes its stack from them carries the bit at no cost, and only the slow
 * path's own unwinding gives a held entry a plain id. rt_stack_get ignores it. */
#define RT_STACK_SHARED LG_PUB_STACK_SHARED
static inline bool rt_stack_shared(uint32_t id) { return id & RT_STACK_SHARED; }
uint32_t rt_stack_capture(int skip, uintptr_t pc);  /* 0 when none; pc: first frame */
uint32_t rt_stack_of_pc(uintptr_t pc);   /* the one-frame stack of a call site (no unwind) */
uint32_t rt_stack_intern(const uint64_t *pcs, size_t n);   /* a stack sampled elsewhere */
size_t rt_stack_get(uint32_t id, uint64_t *pcs, size_t max);
void rt_stacks_fork(int phase);
uint64_t rt_stack_frame_sig(uintptr_t addr);  /* owner frame of a stack address, 0 unknown */
void rt_stack_cache_free(rt_thread *t);       /* the thread's capture cache, at its exit */
void rt_stacks_where(void **starts_at, void **count_at, void **arena_at);   /* published.c */

/* ---- published.c: the state readers outside the process find (published.h) ---- */
void rt_publish(void);

/* ---- slowpath.c ---- */
void rt_acquired_slow(rt_thread *t, void *addr, unsigned ft, unsigned mode,
                      unsigned flags, uintptr_t pc);
/* A condition wait releases its mutex: not a release event for a trace. */
#define RT_REL_COND (-1)
void rt_released_slow(rt_thread *t, void *addr, int type, uintptr_t pc);
/* Take t->held[i] out (count already 0): later entries move down, their chain keys are
 * recomputed. Called by t itself only. */
void rt_held_remove(rt_thread *t, uint32_t i);
void rt_lock_created(void *addr, unsigned ft, unsigned lflags);   /* ft: RT_FT or a type */
/* The same with the lock table's record of addr probed already (NULL: none): a record is
 * never freed nor moved to another address, so an earlier probe's answer stays true. */
void rt_lock_born(void *addr, unsigned ft, unsigned lflags, rt_lock *found);
void rt_lock_destroyed(void *addr, uintptr_t pc);   /* before the real destroy */
/* The keys of held locks, used as gate candidates. */
static inline uint64_t rt_lock_key(uint32_t idx, uint32_t gen)
{
    return ((uint64_t)gen << 32 | idx) + 1;
}

/* ---- report.c ---- */
typedef struct rt_cycle_edge {
    uint32_t from, to;         /* lock idx */
    uint8_t bits, flags;
    int tid;
    char tname[16];
    uint32_t from_stack, to_stack;
} rt_cycle_edge;
/* A lock-order cycle found by the slow path; reported (outside the graph lock). The gate,
 * when cls says it is gated, is named from cls->gate. */
void rt_report_cycle(const rt_cycle_edge *edges, size_t n, const lg_lo_class *cls);
void rt_report_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_report_write_json(void);
void rt_report_paths_summary(void);        /* at exit: lock sets grouped per code path */
void rt_report_json_start(void);           /* init and forked child: the JSON file made now */
struct lg_ownfd *rt_report_json_ownfd(void);
void rt_report_tell_defects(void);         /* every ending: the launcher learns the count */
void rt_report_json_forget(void);          /* an exec with nothing written: no placeholder */
int rt_report_defects(void);
bool rt_report_has_content(void);   /* a finding or a note so far */
lg_report *rt_report_begin(void);          /* lock the global report */
void rt_report_lock(void);                 /* report_lock, marked held by this thread */
void rt_report_unlock(void);
void rt_report_init(void);                 /* at runtime init: suppressions, processes */
/* In the process that ran init: defects its forked children found (a note says so). */
int rt_report_child_defects(void);
void rt_report_end(lg_finding *f);         /* print f (if not NULL), unlock */
void rt_report_stack(uint32_t id, lg_stack *out);
void rt_report_pcs(const uint64_t *pcs, size_t n, bool first_exact, lg_stack *out);
bool rt_report_suppressed(const lg_finding *f);
/* The global report with report_lock already held by the caller (lock order: report_lock
 * before threads_lock before graph-independent leaves). rt_report_emit prints, no unlock. */
lg_report *rt_report_locked(void);
void rt_report_emit(lg_finding *f);
enum { RT_FORK_PREPARE, RT_FORK_PARENT, RT_FORK_CHILD };

/* ---- wait.c: a blocking acquisition whose first try failed ---- */
enum { RT_WAIT_PLAIN, RT_WAIT_TIMED };
/* Each is the real call (same result codes, same lock state) while watching for a deadlock.
 * `clk` and `abstime` are the caller's timeout for RT_WAIT_TIMED. */
int rt_wait_mutex(pthread_mutex_t *m, int how, clockid_t clk, const struct timespec *abstime,
                  uintptr_t pc);
int rt_wait_rwlock(pthread_rwlock_t *l, unsigned mode, int how, clockid_t clk,
                   const struct timespec *abstime, uintptr_t pc);
int rt_wait_spin(pthread_spinlock_t *l, uintptr_t pc);
/* A family's blocking lock (RT_FT(family, type)) whose first try failed: its own call. */
int rt_wait_family(void *obj, unsigned ft, unsigned mode, uintptr_t pc);
/* Waits the program makes itself (annotations): announced before, ended after (r: 0 the
 * lock was taken, else the program gave up). flags: RT_ACQ_* of the wait. */
void rt_wait_announce(void *obj, unsigned ft, unsigned mode, unsigned flags, uintptr_t pc);
void rt_wait_announced_end(void *obj, unsigned ft, unsigned mode, int r, uintptr_t pc);
/* pthread_join whose target is still running: a join is a wait for the target thread. */
int rt_wait_join(pthread_t th, void **ret, uintptr_t pc);
/* Whether a timed call's clock and timeout are ones glibc accepts (else it answers EINVAL
 * itself, for some calls even on a free lock: the wrappers then make no first try). */
static inline bool rt_timed_ok(clockid_t clk, const struct timespec *ts)
{
    return ts && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L
           && (clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC);
}
/* threads.c: thread t exits holding locks; a thread already waiting for one is orphaned. */
void rt_wait_holder_exited(rt_thread *t);

/* ---- init.c ---- */
typedef struct rt_state {
    rt_config cfg;
    rt_flock graph_lock;
    rt_flock threads_lock;
    rt_flock report_lock;
    lg_lo_graph graph;
    _Atomic bool ready;
    _Atomic unsigned long counters[9];
    _Atomic bool budget_warned;
} rt_state;
extern rt_state rt;
enum { RT_C_SLOW, RT_C_EDGES, RT_C_SEARCHES, RT_C_FINDINGS, RT_C_WAITS, RT_C_FREED, RT_C_FOREIGN,
       RT_C_NESTED, RT_C_CV_CHECKS };
void rt_init(void);
/* interpose.c may do glibc's trylock of plain mutexes itself: the layout is the known one
 * and lock elision is off (set once by rt_init; false before). */
extern bool rt_inline_trylock;
void rt_write_all(int fd, const char *s, size_t n);

/* ---- fds.c: the runtime's own descriptors (stderr's copy, --log, the trace) ---- */
void rt_fds_resolve(void);
void rt_fds_init(void);                  /* at init: stderr's copy, the log opened */
void rt_out(const char *s, size_t n);    /* a report's text, to the log or stderr's copy */
int rt_out_fd(void);                     /* where rt_out writes now; -1 nowhere */
bool rt_out_lost(void);                  /* the program closed it: reports only in the JSON */
void rt_fds_fork(int phase);
/* ---- ending.c: _exit, exec, fatal signals; init.c: what every ending does ---- */
void rt_ending_resolve(void);
void rt_ending_init(void);                 /* LOCKGRAPH_PRIOR_DEFECTS of an exec'd image */
void rt_ending_signals(void);              /* the fatal-signal handler where the default is */
/* The real sigaction, for the runtime's own handlers (sample.c): not a handler of the
 * program's, so signal sections stay lazy (src/util/sigblock.h). */
int rt_sigaction_own(int sig, const struct sigaction *act, struct sigaction *old);
bool rt_sample_handler(void *fn);           /* fn is sample.c's handler */
void rt_ending_begin(void);                /* the exit handler runs: _exit is ours now */
int rt_ending_prior_defects(int *gen);     /* defects of the images before this exec */
/* The JSON written (always, or when it has a finding or a note); the defects (own, forked
 * children's, the images' before an exec). */
int rt_finish_image(bool always);
int rt_finish(void);                       /* the same, after the --verbose counters */
/* ---- handshake.c: telling the launcher the runtime runs (src/cli/launch.c) ---- */
void rt_handshake_init(void);
void rt_handshake_exec(bool before);       /* an exec starts (true) or failed (false) */
void rt_handshake_defects(int n);          /* "D PID N" at an ending with defects */
/* handshake.c: the descriptor to the launcher (src/cli/launch.c), NULL if none. */
struct lg_ownfd *rt_handshake_ownfd(void);

#endif
