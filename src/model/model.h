/* model.h - the one data model of lockgraph.
 *
 * Every front end (the preloaded runtime, attach/core, the timeline) produces an lg_report;
 * every writer (text, JSON, DOT, trace JSON) renders one. Nothing here knows where the data
 * came from. A report owns all its memory: strings are copied in, lg_report_free() releases
 * everything. Builders return NULL/-1 only on allocation failure; callers that live inside
 * someone else's program (the runtime) must treat that as "drop the finding", never abort.
 *
 * Not here: graph algorithms (src/analysis), how frames are symbolized (src/symbolize),
 * rendering (src/report).
 */
#ifndef LG_MODEL_H
#define LG_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One stack frame. Unknown string fields are NULL, unknown line is 0. */
typedef struct lg_frame {
    uint64_t address;        /* absolute PC in the target */
    char *module;            /* path of the ELF object containing it */
    uint64_t module_offset;  /* address relative to the module's load bias */
    char *function;          /* demangled name */
    uint64_t function_offset;
    char *file;
    int line;
    bool inlined;            /* a frame inlined into the next (physical) one */
    /* A caller reused from the first acquisition seen at the same call site (with the same
     * locks held): the runtime does not unwind every acquisition, so frames from here on
     * are that one's, not necessarily this one's (JSON "shared"; the text says so). */
    bool shared;
} lg_frame;

typedef struct lg_stack {
    lg_frame *frames;        /* innermost first */
    size_t n;
} lg_stack;

typedef enum lg_lock_type {
    LG_LOCK_MUTEX,           /* pthread mutex of any kind, C11 mtx, std::mutex */
    LG_LOCK_RWLOCK,
    LG_LOCK_SPINLOCK,
    LG_LOCK_SEMAPHORE,
    LG_LOCK_CONDVAR,
    LG_LOCK_THREAD,          /* a pthread_join target */
    LG_LOCK_BARRIER,
    LG_LOCK_FUTEX,           /* a futex word we could not decode */
    LG_LOCK_STDIO,           /* a stdio FILE's lock (glibc _IO_lock_t, flockfile) */
    LG_LOCK_CUSTOM,          /* the program's own lock, described by lockgraph.h's annotations */
    LG_LOCK_TYPE_COUNT
} lg_lock_type;

typedef enum lg_mode {
    LG_MODE_EXCLUSIVE,
    LG_MODE_SHARED,
    LG_MODE_COUNT
} lg_mode;

typedef struct lg_lock {
    char id[16];             /* "L1", "L2", ... unique within a finding */
    uint64_t address;
    lg_lock_type type;
    char *name;              /* symbolic name ("A", "heap 0x... from foo()"), or NULL */
    char *attrs;             /* kind details: "recursive", "robust", "c11", ... or NULL */
    /* Whole-process analyses (attach/core) fill these from the lock's memory; 0 otherwise. */
    int owner;               /* tid of the exclusive owner (writer), 0 none or unknown */
    int readers;             /* read holders counted by the lock (rwlocks), 0 none */
    unsigned lock_flags;     /* LG_LOCK_F_* */
    int owner_pid;           /* the owner's process when it is not the report's, else 0 */
} lg_lock;

/* lg_lock.lock_flags. */
enum {
    LG_LOCK_F_OWNER_EXITED = 1u << 0, /* owner's tid is not a thread of the process */
    LG_LOCK_F_NO_OWNER     = 1u << 1, /* condvar, semaphore: any thread may wake it */
    LG_LOCK_F_UNDECODED    = 1u << 2, /* a futex word of unknown layout ("futex wait on") */
    LG_LOCK_F_OWNER_INFERRED = 1u << 3, /* owner is a read holder inferred, not recorded */
    LG_LOCK_F_OWNERS_FROM_RUNTIME = 1u << 4, /* owner read from the lockgraph runtime's records */
    LG_LOCK_F_OWNER_ELSEWHERE = 1u << 5, /* owner is a thread of another process */
    LG_LOCK_F_OWNER_FORKED = 1u << 6, /* with OWNER_EXITED: a private lock copied locked by
                                         fork(); its owner (owner_pid) is in the parent */
};

typedef struct lg_thread {
    int tid;
    char *name;              /* NULL when unknown (cores carry no names) */
    char *state;             /* "running", "blocked", "exited", ... or NULL */
    char *wait;              /* what it is blocked in, one line, or NULL */
    lg_stack stack;          /* current stack, may be empty */
    lg_stack created;        /* where it was created (pthread_create's caller), may be empty */
    /* Whole-process analyses (attach/core); 0 when unknown or not applicable. */
    int64_t blocked_ms;      /* how long it has been blocked (since it last ran) */
    int wait_frame;          /* 1 + index in stack of the frame that waits */
    int wait_lock;           /* 1 + index into report->locks of what it waits for */
    lg_mode wait_mode;       /* how it waits for wait_lock (rwlocks: shared = read) */
    int pid;                 /* its process when the report spans several, else 0 */
} lg_thread;

/* Edge flags: how the acquisition happened. */
enum {
    LG_EDGE_TRYLOCK    = 1u << 0, /* source-only: a successful trylock never waited */
    LG_EDGE_TIMED      = 1u << 1, /* waits at most until a timeout: a stall, not a hang */
    LG_EDGE_COND       = 1u << 2, /* re-acquisition on wake-up from a condition wait */
    LG_EDGE_WAITING    = 1u << 3, /* a live wait (deadlock), not a past acquisition */
};

/* "thread held `holds` and acquired (or waits for) `acquires`". */
typedef struct lg_edge {
    int thread;              /* tid */
    int holds;               /* index into finding->locks, or -1 */
    lg_mode holds_mode;
    lg_stack holds_stack;    /* where `holds` was acquired */
    int acquires;            /* index into finding->locks */
    lg_mode acquires_mode;
    lg_stack stack;          /* where `acquires` was acquired / is waited for */
    unsigned flags;          /* LG_EDGE_* */
} lg_edge;

typedef enum lg_kind {
    /* defects: exit status 66 */
    LG_KIND_INVERSION,       /* "lock-order-inversion": a cycle in the lock-order graph */
    LG_KIND_DEADLOCK,        /* "deadlock": a cycle in the live wait-for graph */
    LG_KIND_ORPHANED,        /* "orphaned-lock": waits on a lock whose owner exited */
    /* informational: never change the exit status */
    LG_KIND_GATED_CYCLE,     /* "gated-cycle": every edge made under one common lock */
    LG_KIND_LONG_WAIT,       /* "long-wait": a wait longer than --wait-timeout, no cycle */
    LG_KIND_HANG,            /* "no-progress": every thread blocked, no lock cycle */
    LG_KIND_NOTE,            /* "note": anything else worth saying (budget exhausted, ...) */
    /* a defect too (kept last so the older kinds keep their numbers, e.g. SARIF ruleIndex) */
    LG_KIND_MISUSE,          /* "lock-misuse": a lock call POSIX leaves undefined (lg_misuse) */
    LG_KIND_COUNT
} lg_kind;

/* Finding flags. */
enum {
    LG_FINDING_SAME_THREAD = 1u << 0, /* the cycle was formed by one thread's code paths */
    LG_FINDING_TIMED       = 1u << 1, /* a timed acquisition closes it: stalls until timeout */
    LG_FINDING_SELF        = 1u << 2, /* a thread waits for a lock it holds itself */
};

/* Another lock set whose cycle was made at the same acquisition sites as its finding's: one
 * report per code path (a loop taking many locks in rotated orders is one bug, not one per
 * pair). The cycle's lock labels in order: a name, else the id. */
typedef struct lg_lockset {
    char **locks; size_t n;
} lg_lockset;
/* At most this many other sets are kept per finding; the count goes on (sets_seen). */
#define LG_LOCKSETS_KEPT 4096
/* Which misuse a LG_KIND_MISUSE finding is (JSON "misuse"). */
typedef enum lg_misuse {
    LG_MISUSE_NONE,              /* not a misuse finding */
    LG_MISUSE_UNLOCK_NOT_HELD,   /* "unlock-not-held": unlocked while no thread holds it */
    LG_MISUSE_UNLOCK_NOT_OWNER,  /* "unlock-not-owner": unlocked while another thread holds it */
    LG_MISUSE_DESTROY_HELD,      /* "destroy-held": destroyed while a thread holds it */
    LG_MISUSE_USE_AFTER_DESTROY, /* "use-after-destroy": a lock call on a destroyed lock */
    LG_MISUSE_REINIT_LIVE,       /* "reinit-live": initialised again while a thread holds it */
    LG_MISUSE_RELOCK_REFUSED,    /* "relock-refused": its holder locks it again; EDEADLK */
    LG_MISUSE_EXIT_HOLDING,      /* "exit-holding": a thread ended holding it */
    LG_MISUSE_COND_NOT_HELD,     /* "cond-mutex-not-held": a condition wait without its mutex */
    LG_MISUSE_COND_TWO_MUTEXES,  /* "cond-two-mutexes": one condvar, two mutexes at once */
    LG_MISUSE_INVALID_LOCK,      /* "invalid-lock": a lock call on memory holding no lock; EINVAL */
    LG_MISUSE_COUNT
} lg_misuse;

/* A place a misuse finding points at (lg_finding.sites): what happened there. */
typedef enum lg_site_role {
    LG_SITE_MISUSE,          /* "misuse": the call that is the misuse */
    LG_SITE_ACQUIRED,        /* "acquired": where `thread` acquired `lock` (still holds it) */
    LG_SITE_DESTROYED,       /* "destroyed": where `thread` destroyed `lock` */
    LG_SITE_OTHER_WAIT,      /* "other-wait": a wait on the same condvar with another mutex */
    LG_SITE_FREED,           /* "freed": the misusing call is a free() of `lock`'s memory */
    LG_SITE_ROLE_COUNT
} lg_site_role;

typedef struct lg_site {
    lg_site_role role;
    int thread;              /* tid */
    int lock;                /* index into finding->locks, or -1 */
    lg_mode mode;            /* how it was (or is being) acquired */
    lg_stack stack;
} lg_site;

typedef struct lg_finding {
    lg_kind kind;
    unsigned flags;          /* LG_FINDING_* */
    char *summary;           /* one line */
    char *fix;               /* how to restore one order, or NULL */
    lg_lock *locks;     size_t nlocks;
    lg_thread *threads; size_t nthreads;
    lg_edge *edges;     size_t nedges;
    char **notes;       size_t nnotes;   /* extra lines for people */
    lg_lockset *sets;   size_t nsets;    /* other lock sets at the same code path (kept) */
    size_t sets_seen;                    /* every other lock set seen, kept or not */
    /* LG_KIND_MISUSE only: which misuse, the places it involves, and what glibc answered
     * when it refused the call (an errno name such as "EPERM"; NULL: glibc did it). */
    lg_misuse misuse;
    lg_site *sites;     size_t nsites;
    char *refused;
} lg_finding;

typedef struct lg_report {
    char **command;     size_t ncommand; /* argv of the analysed program, may be empty */
    int pid;                             /* 0 when unknown */
    lg_finding *findings; size_t nfindings;
    /* The whole process at one instant (attach, core, a live deadlock): optional. */
    lg_thread *threads; size_t nthreads;
    char **notes;       size_t nnotes;
    /* Whole-process analyses (attach/core): a one-line verdict printed first (NULL for the
     * runtime), and every lock some thread waits for, with owners (lg_thread.wait_lock). */
    char *verdict;
    lg_lock *locks;     size_t nlocks;
    /* Nothing was checked (the runtime was not loaded into the program: static, setuid,
     * LD_PRELOAD removed): why. NULL for every report that checked something. JSON
     * "checked": false with "unchecked_reason". */
    char *unchecked;
} lg_report;

/* Names. kind_name/lock_type_name/mode_name never return NULL. */
const char *lg_kind_name(lg_kind k);
bool lg_kind_is_defect(lg_kind k);
const char *lg_lock_type_name(lg_lock_type t);
const char *lg_mode_name(lg_mode m);
/* The verb for acquiring a lock of type t in mode m, as findings and writers word it: "lock",
 * "read-lock", "write-lock", "join", "wait on". */
const char *lg_acquire_verb(lg_lock_type t, lg_mode m);
int lg_kind_from_name(const char *name);          /* -1 when unknown */
int lg_lock_type_from_name(const char *name);     /* -1 when unknown */
/* "unlock-not-held", ...; "" for LG_MISUSE_NONE. lg_misuse_why: one line saying why it is a
 * bug (for people: text, SARIF). lg_misuse_from_name: -1 when unknown. */
const char *lg_misuse_name(lg_misuse m);
const char *lg_misuse_why(lg_misuse m);
int lg_misuse_from_name(const char *name);
const char *lg_site_role_name(lg_site_role r);
int lg_site_role_from_name(const char *name);     /* -1 when unknown */

/* Reports. */
void lg_report_init(lg_report *r);
void lg_report_free(lg_report *r);
int lg_report_set_command(lg_report *r, int argc, char *const argv[]);
lg_finding *lg_report_add_finding(lg_report *r, lg_kind kind);
lg_thread *lg_report_add_thread(lg_report *r, int tid, const char *name);
int lg_report_add_note(lg_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t lg_report_defects(const lg_report *r);
int lg_report_set_verdict(lg_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int lg_report_set_unchecked(lg_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The report-level lock table (whole-process analyses): returns the index; an address
 * already present returns its existing index; -1 on allocation failure. */
int lg_report_add_lock(lg_report *r, uint64_t address, lg_lock_type type, const char *name,
                       const char *attrs);

/* Findings. Indices stay valid; pointers returned may move on the next add. */
int lg_finding_set_summary(lg_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int lg_finding_set_fix(lg_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Another lock set at this finding's code path: counted always, kept while fewer than
 * LG_LOCKSETS_KEPT are. labels[i] must not be NULL. -1 on allocation failure. */
int lg_finding_add_lockset(lg_finding *f, const char *const *labels, size_t n);
int lg_finding_add_note(lg_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Returns the lock's index; an address already present returns its existing index. */
int lg_finding_add_lock(lg_finding *f, uint64_t address, lg_lock_type type,
                        const char *name, const char *attrs);
int lg_finding_find_lock(const lg_finding *f, uint64_t address);
/* Returns the thread; a tid already present returns the existing entry. */
lg_thread *lg_finding_add_thread(lg_finding *f, int tid, const char *name);
lg_edge *lg_finding_add_edge(lg_finding *f, int tid, int holds, lg_mode holds_mode,
                             int acquires, lg_mode acquires_mode, unsigned flags);
lg_site *lg_finding_add_site(lg_finding *f, lg_site_role role, int tid, int lock, lg_mode mode);
int lg_finding_set_refused(lg_finding *f, const char *errname);

/* Threads and stacks. */
int lg_thread_set(lg_thread *t, const char *state, const char *wait);
int lg_stack_copy(lg_stack *dst, const lg_stack *src);
lg_frame *lg_stack_push(lg_stack *s);     /* a zeroed frame at the end, or NULL */
void lg_stack_share_from(lg_stack *s, size_t from);   /* frames [from, n) are `shared` */
void lg_stack_free(lg_stack *s);
/* Where a stack "is", in one phrase for one-line summaries: the innermost frame in the
 * program's own source (not an installed header such as C++'s <mutex>, not glibc's sources),
 * as "file.c:LINE" (base name); else any frame with a line; else "function()"; else
 * "an unknown place". Always NUL-terminates buf. */
void lg_stack_where(const lg_stack *s, char *buf, size_t len);
/* That frame: the innermost with a line in the program's own source, else any with a line;
 * NULL when no frame has one. */
const lg_frame *lg_stack_best_frame(const lg_stack *s);
/* An installed header or glibc's own source ("/usr/include/...", "./nptl/..."). */
bool lg_source_is_system(const char *file);
/* Where stack s of finding f "is" (where.c), as lg_stack_where, but past lock wrappers: a
 * frame that two acquisition stacks of the finding (its waits when it has any, else all its
 * edges' and sites' stacks; and s) both have as their innermost program frame, reached from
 * different callers, is a helper every acquisition passes through (the demo's
 * lock_exclusive), not a call site, so the next frame out is taken instead, and so on.
 * "threads.c:196", not "threads.c:78". f NULL: lg_stack_where's frame. */
void lg_finding_where(const lg_finding *f, const lg_stack *s, char *buf, size_t len);
/* That frame, or NULL when no frame has a line. */
const lg_frame *lg_finding_where_frame(const lg_finding *f, const lg_stack *s);

/* A finding's identity across runs, processes and machines (fingerprint.c): its kind (and a
 * misuse's subkind and the code location of the misusing call), the code locations of its edges (function and file base name:line; the order of a cycle's
 * edges does not matter) and the names of its locks that are symbols or given names; never
 * addresses, thread or process ids. Two processes that hit the same bug agree on it. */
uint64_t lg_finding_fingerprint(const lg_finding *f);

/* A report read back from its JSON (json-read.c): what the model holds; unknown keys are
 * skipped. With spans, *spans gets each finding's [start, end) in text (malloc'd, one pair a
 * finding). 0, or -1 with a message (not JSON, not a lockgraph report, out of memory). */
int lg_report_read_json(const char *text, size_t len, lg_report *r, size_t (**spans)[2],
                        char *err, size_t errlen);
int lg_frame_set(lg_frame *f, uint64_t address, const char *module, uint64_t module_offset,
                 const char *function, uint64_t function_offset, const char *file, int line);
void lg_frame_free(lg_frame *f);

#endif
