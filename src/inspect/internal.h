/* internal.h - what the files of src/inspect share: the target (live or core), its threads,
 * their raw waits and decoded waits. One shape for live processes and cores, so everything
 * after "read the target" (decode, graph, model) is a single code path. */
#ifndef LG_INSPECT_INTERNAL_H
#define LG_INSPECT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inspect.h"

typedef struct Dwfl Dwfl;
typedef struct lg_symbolizer lg_symbolizer;

enum { INSP_NR_RUNNING = -1, INSP_NR_UNKNOWN = -2 };
enum { INSP_WINDOW_BEFORE = 48, INSP_WINDOW = 128 };   /* memory kept around a futex word */

/* What a thread waits for, after decoding. */
typedef enum insp_wait_kind {
    WAIT_NONE,               /* running, or state unknown */
    WAIT_LOCK,               /* a futex wait we decoded (lock, condvar, sem, join, barrier) */
    WAIT_SYSCALL,            /* blocked in another system call (desc says which) */
} insp_wait_kind;

typedef struct insp_wait {
    insp_wait_kind kind;
    lg_lock_type type;
    uint64_t lock;           /* the object's address (mutex base, rwlock base, ...) */
    lg_mode mode;
    int owner;               /* tid that must release it, 0 none/unknown */
    int readers;             /* rwlock read holders counted */
    bool timed;              /* the wait has a timeout: it ends by itself */
    bool owner_died;         /* robust mutex whose owner died */
    bool spinning;           /* a spinlock: the thread runs, it is not blocked */
    bool owner_inferred;     /* owner is a read holder inferred by build.c */
    bool owner_from_runtime; /* owner named by the lockgraph runtime's records (rtstate.c) */
    bool held_shared;        /* ... and it holds the lock for reading */
    unsigned lock_flags;     /* LG_LOCK_F_* */
    uint32_t value;          /* the futex word's expected value (undecoded waits) */
    int owner_pid;           /* the owner's process when it is another one, else 0 */
    char owner_comm[64];     /* ... and that process's name, "" unknown */
    bool pshared;            /* a process-shared object (its owner may be in another process) */
    bool owner_forked;       /* private lock, owner a live thread of the parent process
                                (owner_pid): held there when this process was forked */
    char obj[160];           /* the object's name ("mutex_a", "stdout", "stack of thread 7 in
                                f"), "" none: filled by decode_all while the modules are known */
    char attrs[96];
    const char *family;      /* a library's lock around the wait ("GMutex", "GRecMutex"), or
                                NULL: named "FAMILY at ADDR (SYMBOL)" */
    char desc[200];          /* one line: "pthread_join(thread 12)", "read(fd 7 -> pipe:[9])" */
} insp_wait;

typedef struct insp_thread {
    int tid;
    char name[64];           /* "" when unknown (plain cores) */
    char state;              /* /proc state letter; 0 unknown */
    long nr;                 /* syscall it is blocked in, INSP_NR_RUNNING, INSP_NR_UNKNOWN */
    uint64_t arg[6];
    uint64_t sp;             /* user stack pointer at the system call */
    uint64_t callee[6];      /* rbx rbp r12 r13 r14 r15 at the stop (0 unknown) */
    uint64_t user_rdi;       /* rdi of a thread stopped in user mode (a spinlock's address) */
    uint64_t dregs[17];      /* registers in DWARF order (rax rdx rcx rbx rsi rdi rbp rsp
                                r8..r15 rip), for unwinding */
    bool have_regs;
    uint64_t fs_base;        /* its thread descriptor (THREAD_SELF), 0 unknown */
    int pid;                 /* the process it belongs to */
    int64_t blocked_ms;      /* 0 unknown */
    char fd_target[128];     /* for fd syscalls: readlink of /proc/PID/fd/N */
    char note_wait[200];     /* wait description carried by a LOCKGRAPH core note */
    bool stopped;            /* we hold it in a ptrace stop */
    int pending_sig;         /* signal to re-deliver at detach */
    uint64_t win_base;       /* memory snapshot [win_base, win_base + INSP_WINDOW) */
    bool win_ok;
    unsigned char win[INSP_WINDOW];
    uint64_t *pcs;
    uint64_t *sps;           /* each frame's stack pointer (CFA side), same length as pcs */
    size_t npcs;
    lg_stack stack;
    int wait_frame;          /* 1 + index of the frame where it waits, 0 unknown */
    insp_wait w;
} insp_thread;

/* What the lockgraph runtime inside the target records (rtstate.c, published.h). */
typedef struct insp_rt_held {
    uint64_t addr;           /* the lock */
    lg_mode mode;
    unsigned count;          /* recursion depth */
    uint64_t *pcs;           /* the acquisition's stack (innermost first), or NULL */
    size_t npcs;
    bool shared;             /* pcs[1..] are the first acquisition's at that call site
                                (LG_PUB_STACK_SHARED): frames after the call site's are marked */
    lg_stack stack;          /* symbolized */
} insp_rt_held;

typedef struct insp_rt_thread {
    int tid;
    char name[16];
    bool exited;             /* exited holding locks */
    uint64_t wait_lock;      /* the lock it waits for per the runtime, 0 none */
    int wait_type;           /* its lg_lock_type, -1 unknown (an older runtime) */
    lg_mode wait_mode;
    uint64_t cond_mutex;     /* in a condition wait on this mutex, 0 none */
    bool wait_timed;         /* the program's call has a timeout */
    int join_tid;            /* the thread it joins per the runtime, 0 none */
    insp_rt_held *held;
    size_t nheld;
} insp_rt_thread;

/* Reads target memory (process_vm_readv for live processes, PT_LOAD segments for cores). */
typedef int (*insp_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

typedef struct insp_target {
    int pid;
    int mm_pid;              /* live: the task whose /proc maps and memory are the process's
                                (pid, or a live thread once the main thread has exited) */
    bool is_core;
    char comm[64];
    char exe[4096];
    insp_thread *t;
    size_t n, cap;
    insp_read_fn read;
    void *read_ctx;
    char libc_path[4096];
    char glibc_version[32];  /* "" unknown */
    int glibc_known;         /* 1 when the layouts of this version are known */
    int cond_signals_off;    /* offset of __g_signals in pthread_cond_t, -1 unknown */
    bool has_runtime;        /* liblockgraph.so is mapped */
    char runtime_path[4096];
    bool rt_known;           /* its published state was found and understood */
    uint32_t rt_version;     /* the version it published (also when unknown to us) */
    insp_rt_thread *rtt;
    size_t nrtt;
    Dwfl *dwfl;
    void *unwind_cache;      /* unwind.c's page cache, freed after dwfl_end */
    lg_symbolizer *sym;
    double stopped_ms;
    char **notes;            /* notes for the report, collected on the way */
    size_t nnotes;
    uint64_t std_locks[3];   /* the locks of stdin, stdout, stderr (decode.c), 0 unknown */
    bool std_locks_read;
    struct insp_target *const *sys;   /* the other processes analysed with it, or NULL */
    size_t nsys;
} insp_target;

/* target.c */
insp_thread *insp_add_thread(insp_target *tg, int tid);
insp_thread *insp_find_thread(insp_target *tg, int tid);
void insp_target_free(insp_target *tg);
void insp_note(insp_target *tg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double insp_now_ms(void);

/* proc.c */
int proc_exists(int pid);
/* A small /proc (or other) file into buf, NUL-terminated: its length, or -1. */
int proc_read_small(const char *path, char *buf, size_t len);
int proc_read_threads(insp_target *tg, char *err, size_t errlen);
int proc_read_maps(insp_target *tg);            /* libc path, runtime, exe */
void proc_fd_target(int pid, int fd, char *out, size_t outlen);
void proc_fd_targets(insp_target *tg);           /* after the registers gave the calls */
void proc_read_syscall(insp_target *tg, insp_thread *t);   /* a thread not running only */

/* access.c */
int proc_check_target(int pid, char *err, size_t errlen);   /* one line why not, -1 */
void insp_explain_denied(int pid, char *err, size_t errlen);
int proc_task_list(int pid, int **tids, size_t *n);

/* ptrace.c */
int ptrace_stop_all(insp_target *tg, char *err, size_t errlen);
void ptrace_read_regs(insp_target *tg);
void ptrace_resume_all(insp_target *tg);

/* A futex wait: syscall 202, or 219 (restart_syscall) after a timed futex wait was
 * interrupted (by an earlier attach, gcore, a signal): the argument registers still hold the
 * original futex arguments then. */
static inline bool insp_is_futex(const insp_thread *t)
{
    unsigned cmd = (unsigned)t->arg[1] & ~0x180u;
    return t->nr == 202 || (t->nr == 219 && (cmd == 0 || cmd == 9 || cmd == 6 || cmd == 13));
}

/* user_regs_struct -> DWARF register order (x86_64 psABI numbering 0..16). */
struct user_regs_struct;
/* Also the stack pointer and the callee-saved registers the unwinder starts from. */
void insp_set_dregs(insp_thread *t, const struct user_regs_struct *r);
/* The six system-call arguments (rdi, rsi, rdx, r10, r8, r9). */
void insp_set_args(insp_thread *t, const struct user_regs_struct *r);

/* memory.c */
int mem_read_live(void *ctx, uint64_t addr, void *buf, size_t len);   /* ctx: pid as intptr */
void mem_snapshot(insp_target *tg);                /* fills every futex waiter's window */
bool mem_get32(const insp_thread *t, uint64_t addr, uint32_t *v);

/* glibc.c */
void glibc_identify(insp_target *tg);

/* unwind.c */
int unwind_live(insp_target *tg, const lg_inspect_options *opt, char *err, size_t errlen);
int unwind_core(insp_target *tg, void *elf, const char *exe, const lg_inspect_options *opt,
                char *err, size_t errlen);
int symbolize_all(insp_target *tg);
char *symbolize_data(insp_target *tg, uint64_t addr);   /* "mutex_a", "hang+0x4060", NULL */
uint64_t libc_symbol(insp_target *tg, const char *name);   /* absolute address, 0 none */

/* rtstate.c: the runtime's published state. rtstate_read while the target is stopped (or a
 * core) and after the Dwfl is set up; rtstate_symbolize once the symbolizer exists. Both
 * leave rt_known false (and say why in a note) when the state is absent or not understood. */
void rtstate_read(insp_target *tg);
void rtstate_read_at(insp_target *tg, uint64_t state_addr);   /* the header's address known */
int rtstate_symbolize(insp_target *tg);
void rtstate_free(insp_target *tg);
const insp_rt_thread *rtstate_thread(const insp_target *tg, int tid);
const insp_rt_held *rtstate_held(const insp_target *tg, int tid, uint64_t lock);
/* For the progress probe, without stopping the target: the threads the runtime has in a
 * recorded (sliced) wait, with the wait's sequence number. Up to max; 0 when none or no
 * runtime. */
typedef struct insp_rt_wait {
    int tid;
    uint64_t seq;
} insp_rt_wait;
size_t rtstate_live_waits(int pid, insp_rt_wait *out, size_t max);

/* decode.c */
void decode_all(insp_target *tg);
/* Is tid a live thread of the target (or of the system it is analysed with)? */
bool insp_tid_here(const insp_target *tg, int tid);
/* A live thread of another process: its process id and name. */
bool insp_tid_elsewhere(const insp_target *tg, int tid, int *pid, char *comm, size_t commlen);
const char *syscall_name(long nr);

/* build.c */
int build_report(insp_target *tg, lg_report *out, lg_inspect_stats *stats);

#endif
