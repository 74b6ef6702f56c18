/* hang.c - small programs that hang (or almost hang) on purpose, one per mode, for the tests
 * of every front end: the runtime must catch them as they close, attach/core must explain
 * them afterwards. Each interleaving is forced with a barrier that is not one of the locks
 * under test, so every run hangs the same way (never by luck).
 *
 *   hang MODE [--idle N] [--busy N]
 *
 * Locks are globals with readable names (mutex_a, rw_x, ...) so symbolizers can name them.
 * Threads are named after their role. --idle N adds N threads parked in a condition wait
 * that nobody signals (grouping of identical idle stacks, 1,000-thread attach). The program
 * prints "ready" on stdout once the hang is set up as far as it can tell.
 *
 * Modes for attach/core beyond the deadlock kinds: `read` (a lock holder blocked in read()
 * on a pipe: a chain that ends in another system call), `barrier` (a barrier of 3 that only
 * 2 threads reach), `kinds` (ABBA over a recursive mutex held twice and an errorcheck one),
 * `pshared` (ABBA over an adaptive and a process-shared mutex), `stdio` (a thread holds
 * mutex_a and writes to stdout while another holds stdout's FILE lock with flockfile and
 * wants mutex_a), `futex` (a program's own futex lock, InnoDB style: a word of 2 beside
 * zeros, waited for with a raw futex system call, no glibc mutex), `stack-aa` and `stack-aba`
 * (a thread locks a mutex on its own stack twice, directly or around another one: lockdep's
 * AA and ABA), `procs` (two processes, parent and forked child, deadlocked through two
 * process-shared mutexes in shared memory; prints "child PID" before "ready"), `main-exit`
 * (ABBA between two threads after the main thread has called pthread_exit),
 * `rwlock-prefer-writer` (one writer-preferring rwlock: its reader reads it again behind a
 * queued writer), `fork-held` (a thread holds mutex_a while main forks; the child locks
 * mutex_a and waits forever for a thread it does not have; the parent waits for the child
 * and exits with its status; prints "child PID" before "ready"), `cond-cancel` (a thread
 * cancelled in pthread_cond_wait leaves with cond_mutex re-taken by glibc and no cleanup
 * handler; main joins it, then locks cond_mutex forever), `cond-cancel-clean` (the same with
 * a cleanup handler that unlocks it: main gets the mutex and the program ends).
 * --busy N adds N threads that compute and sleep for microseconds in turn, forever (a busy
 * server for bench/attach-busy.sh).
 */
#include <errno.h>
#include <stdbool.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

pthread_mutex_t mutex_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t mutex_b = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t mutex_c = PTHREAD_MUTEX_INITIALIZER;
pthread_rwlock_t rw_x = PTHREAD_RWLOCK_INITIALIZER;
pthread_rwlock_t rw_y = PTHREAD_RWLOCK_INITIALIZER;
pthread_cond_t cond_never = PTHREAD_COND_INITIALIZER;
pthread_mutex_t cond_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_spinlock_t spin_a, spin_b;
sem_t sem_never;
mtx_t c11_a, c11_b;

/* A program's own futex lock (InnoDB's style): 2 = locked with waiters, then other fields. */
struct own_lock {
    uint32_t word;
    uint32_t fields[9];
} innodb_lock = {2, {0}};

static pthread_barrier_t both_hold;   /* every thread holds its first lock */
static const char *mode;

static void name_self(const char *name)
{
    pthread_setname_np(pthread_self(), name);
}

static void ready(void)
{
    printf("ready\n");
    fflush(stdout);
}

/* ---- two-lock inversions: thread 1 takes first then second, thread 2 the reverse ---- */

typedef struct side {
    const char *name;
    void (*take_first)(void);
    void (*take_second)(void);
} side;

static void *run_side(void *arg)
{
    const side *s = arg;
    name_self(s->name);
    s->take_first();
    pthread_barrier_wait(&both_hold);
    s->take_second();
    return NULL;
}

#define LOCKER(fn, call) __attribute__((noinline)) static void fn(void) { call; }
LOCKER(lock_a, pthread_mutex_lock(&mutex_a))
LOCKER(lock_b, pthread_mutex_lock(&mutex_b))
LOCKER(wrlock_x, pthread_rwlock_wrlock(&rw_x))
LOCKER(wrlock_y, pthread_rwlock_wrlock(&rw_y))
LOCKER(rdlock_x, pthread_rwlock_rdlock(&rw_x))
LOCKER(rdlock_y, pthread_rwlock_rdlock(&rw_y))
LOCKER(spin_lock_a, pthread_spin_lock(&spin_a))
LOCKER(spin_lock_b, pthread_spin_lock(&spin_b))
LOCKER(c11_lock_a, mtx_lock(&c11_a))
LOCKER(c11_lock_b, mtx_lock(&c11_b))

/* abba-warm: main's own pass through the lockers, before the two sides exist. */
__attribute__((noinline)) static void warm_up(void)
{
    lock_a();
    pthread_mutex_unlock(&mutex_a);
    lock_b();
    pthread_mutex_unlock(&mutex_b);
}

/* Recursive mutex_a in `kinds`: lock it twice (depth 2); other modes lock it once. */
__attribute__((noinline)) static void lock_a_twice(void)
{
    pthread_mutex_lock(&mutex_a);
    if (!strcmp(mode, "kinds"))
        pthread_mutex_lock(&mutex_a);
}

__attribute__((noinline)) static void timed_lock_a(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 3600;
    pthread_mutex_timedlock(&mutex_a, &ts);
}

static void two_sides(side s1, side s2)
{
    pthread_t t1, t2;
    /* Main joins the barrier too: both pthread_create calls have returned before either
     * thread takes its second lock, so the runtime knows where each was created when the
     * deadlock closes (it learns it as pthread_create returns). */
    pthread_barrier_init(&both_hold, NULL, 3);
    pthread_create(&t1, NULL, run_side, &s1);
    pthread_create(&t2, NULL, run_side, &s2);
    pthread_barrier_wait(&both_hold);
    ready();
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
}

static void init_mutex_kind(pthread_mutex_t *m, int robust, int protocol)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (robust)
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (protocol)
        pthread_mutexattr_setprotocol(&a, protocol);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
}

/* ---- three-thread ring: t1 A->B, t2 B->C, t3 C->A ---- */

static pthread_barrier_t ring_hold;

static void *ring_member(void *arg)
{
    int i = (int)(long)arg;
    pthread_mutex_t *locks[3] = {&mutex_a, &mutex_b, &mutex_c};
    static const char *const names[3] = {"ring-1", "ring-2", "ring-3"};
    name_self(names[i]);
    pthread_mutex_lock(locks[i]);
    pthread_barrier_wait(&ring_hold);
    pthread_mutex_lock(locks[(i + 1) % 3]);
    return NULL;
}

static void ring3(void)
{
    pthread_t t[3];
    pthread_barrier_init(&ring_hold, NULL, 3);
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, ring_member, (void *)i);
    ready();
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
}

/* ---- single-thread and no-owner hangs ---- */

__attribute__((noinline)) static void relock_self(void)
{
    pthread_mutex_lock(&mutex_a);
    pthread_mutex_lock(&mutex_a);   /* a normal mutex: waits for itself forever */
}

__attribute__((noinline)) static void upgrade_self(void)
{
    pthread_rwlock_rdlock(&rw_x);
    pthread_rwlock_wrlock(&rw_x);   /* waits for its own read lock to go */
}

static void *self_thread(void *arg)
{
    name_self("self-locker");
    ((void (*)(void))arg)();
    return NULL;
}

static void *cond_waiter(void *arg)
{
    (void)arg;
    name_self("cond-waiter");
    pthread_mutex_lock(&cond_mutex);
    for (;;)
        pthread_cond_wait(&cond_never, &cond_mutex);   /* nobody ever signals */
    return NULL;
}

static void *sem_waiter(void *arg)
{
    (void)arg;
    name_self("sem-waiter");
    sem_wait(&sem_never);
    return NULL;
}

static void *lock_and_exit(void *arg)
{
    (void)arg;
    name_self("quitter");
    pthread_mutex_lock(&mutex_a);   /* exits holding it */
    return NULL;
}

static pthread_barrier_t joined_ready;

static void *needs_main_lock(void *arg)
{
    (void)arg;
    name_self("joinee");
    pthread_barrier_wait(&joined_ready);
    pthread_mutex_lock(&mutex_a);   /* held by main, which is joining us */
    return NULL;
}

static int pipe_fds[2];
static pthread_barrier_t three;

static void *read_holder(void *arg)
{
    (void)arg;
    char c;
    name_self("reader");
    pthread_mutex_lock(&mutex_a);
    pthread_barrier_wait(&both_hold);
    if (read(pipe_fds[0], &c, 1) < 0)   /* nobody writes: blocks holding mutex_a */
        perror("read");
    return NULL;
}

static void *needs_a(void *arg)
{
    (void)arg;
    name_self("wants-a");
    pthread_barrier_wait(&both_hold);
    pthread_mutex_lock(&mutex_a);
    return NULL;
}

static void *barrier_member(void *arg)
{
    (void)arg;
    name_self("at-barrier");
    pthread_barrier_wait(&three);   /* 3 expected, only 2 ever come */
    return NULL;
}

static void *idle(void *arg)
{
    (void)arg;
    name_self("idle");
    pthread_mutex_lock(&cond_mutex);
    for (;;)
        pthread_cond_wait(&cond_never, &cond_mutex);
    return NULL;
}

/* ---- a writer-preferring rwlock: the reader holds it, a writer queues, the reader reads it
 * again and queues behind the writer, which waits for the reader: a deadlock on one lock ---- */

static void *queued_writer(void *arg)
{
    (void)arg;
    name_self("writer");
    pthread_barrier_wait(&both_hold);
    wrlock_x();   /* waits for the reader's read lock */
    return NULL;
}

static void *rereader(void *arg)
{
    (void)arg;
    name_self("reader");
    rdlock_x();
    pthread_barrier_wait(&both_hold);
    /* Until the writer is queued in glibc: in a read phase, bit 1 of __readers says a writer
     * waits (glibc-locks.md). Forced by the lock's own state, not by timing. */
    while (!(__atomic_load_n(&rw_x.__data.__readers, __ATOMIC_ACQUIRE) & 2))
        usleep(1000);
    rdlock_x();   /* queued behind the writer */
    return NULL;
}

static void prefer_writer(void)
{
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&rw_x, &a);
    pthread_rwlockattr_destroy(&a);
    pthread_t r, w;
    pthread_barrier_init(&both_hold, NULL, 2);
    pthread_create(&r, NULL, rereader, NULL);
    pthread_create(&w, NULL, queued_writer, NULL);
    ready();
    pthread_join(r, NULL);
    pthread_join(w, NULL);
}

static void start_self(void (*fn)(void))
{
    pthread_t t;
    pthread_create(&t, NULL, self_thread, (void *)fn);
    ready();
    pthread_join(t, NULL);
}

static void start_one(void *(*fn)(void *))
{
    pthread_t t;
    pthread_create(&t, NULL, fn, NULL);
    ready();
    pthread_join(t, NULL);
}

/* ---- stdio: a FILE lock in a cycle with a mutex ---- */

static void ready_raw(void)
{
    /* stdout's lock is part of the deadlock: announce without it */
    if (write(1, "ready\n", 6) != 6)
        _exit(1);
}

__attribute__((noinline)) static void write_line(void)
{
    printf("writer: holds mutex_a\n");   /* blocks: stdout's lock is held by file-holder */
}

static void *stdio_writer(void *arg)
{
    (void)arg;
    name_self("writer");
    pthread_mutex_lock(&mutex_a);
    pthread_barrier_wait(&both_hold);
    write_line();
    return NULL;
}

static void *stdio_holder(void *arg)
{
    (void)arg;
    name_self("file-holder");
    flockfile(stdout);
    pthread_barrier_wait(&both_hold);
    lock_a();
    return NULL;
}

/* ---- a program's own futex lock ---- */

__attribute__((noinline)) static void own_lock_wait(void)
{
    while (__atomic_load_n(&innodb_lock.word, __ATOMIC_ACQUIRE) == 2)
        syscall(SYS_futex, &innodb_lock.word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

static void *futex_waiter(void *arg)
{
    (void)arg;
    name_self("futex-waiter");
    own_lock_wait();
    return NULL;
}

/* ---- mutexes on the stack: lockdep's AA and ABA ---- */

__attribute__((noinline)) static void stack_aa(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    pthread_mutex_lock(&m);   /* waits for itself */
    pthread_mutex_unlock(&m);
}

__attribute__((noinline)) static void stack_aba(void)
{
    pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&a);
    pthread_mutex_lock(&b);
    pthread_mutex_lock(&a);   /* waits for itself, holding b */
    pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
}

/* ---- two processes through process-shared mutexes in shared memory ---- */

static int procs(void)
{
    struct shm {
        pthread_mutex_t m1, m2;
        pthread_barrier_t both;
    } *shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                  -1, 0);
    if (shm == MAP_FAILED)
        return 1;
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&shm->m1, &ma);
    pthread_mutex_init(&shm->m2, &ma);
    pthread_barrierattr_t ba;
    pthread_barrierattr_init(&ba);
    pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
    pthread_barrier_init(&shm->both, &ba, 2);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        name_self("child-ba");
        pthread_mutex_lock(&shm->m2);
        pthread_barrier_wait(&shm->both);
        pthread_mutex_lock(&shm->m1);
        _exit(0);
    }
    name_self("parent-ab");
    pthread_mutex_lock(&shm->m1);
    printf("child %d\n", (int)child);
    ready();
    pthread_barrier_wait(&shm->both);
    pthread_mutex_lock(&shm->m2);
    return 0;
}

/* ---- fork while another thread holds a lock ---- */

static pthread_barrier_t fork_held;

static void *hold_across_fork(void *arg)
{
    (void)arg;
    name_self("holder");
    pthread_mutex_lock(&mutex_a);
    pthread_barrier_wait(&fork_held);
    sem_wait(&sem_never);   /* holds mutex_a in the parent for good */
    return NULL;
}

static int fork_held_lock(void)
{
    pthread_t t;
    pthread_barrier_init(&fork_held, NULL, 2);
    pthread_create(&t, NULL, hold_across_fork, NULL);
    pthread_barrier_wait(&fork_held);   /* the holder holds mutex_a */
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        name_self("forked");
        lock_a();   /* its holder was not copied: nobody here will ever unlock it */
        _exit(0);
    }
    printf("child %d\n", (int)child);
    ready();
    int st;
    while (waitpid(child, &st, 0) < 0)
        if (errno != EINTR)
            return 1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- a thread cancelled inside pthread_cond_wait: glibc re-takes the mutex on the way out ---- */

static int cancel_waiting;

static void unlock_cond_mutex(void *arg)
{
    (void)arg;
    pthread_mutex_unlock(&cond_mutex);
}

static void *cancelled_waiter(void *arg)
{
    (void)arg;
    name_self("cancelled");
    pthread_mutex_lock(&cond_mutex);
    cancel_waiting = 1;
    for (;;)   /* no cleanup handler: leaves holding cond_mutex */
        pthread_cond_wait(&cond_never, &cond_mutex);
    return NULL;
}

static void *cancelled_clean_waiter(void *arg)
{
    (void)arg;
    name_self("cancelled");
    pthread_mutex_lock(&cond_mutex);
    cancel_waiting = 1;
    pthread_cleanup_push(unlock_cond_mutex, NULL);
    for (;;)
        pthread_cond_wait(&cond_never, &cond_mutex);
    pthread_cleanup_pop(0);
    return NULL;
}

static int cond_cancel(bool clean)
{
    pthread_t t;
    pthread_create(&t, NULL, clean ? cancelled_clean_waiter : cancelled_waiter, NULL);
    /* Until the waiter is inside pthread_cond_wait (it has released cond_mutex): forced by
     * the mutex itself, not by timing. */
    for (;;) {
        pthread_mutex_lock(&cond_mutex);
        int in = cancel_waiting;
        pthread_mutex_unlock(&cond_mutex);
        if (in)
            break;
        usleep(1000);
    }
    pthread_cancel(t);
    pthread_join(t, NULL);
    ready();
    pthread_mutex_lock(&cond_mutex);   /* without the handler: held by a thread that is gone */
    pthread_mutex_unlock(&cond_mutex);
    printf("main: took cond_mutex\n");
    return 0;
}

/* ---- a busy server: compute, sleep a few microseconds, again ---- */

static void *busy(void *arg)
{
    (void)arg;
    name_self("busy");
    volatile unsigned long x = 0;
    for (;;) {
        for (unsigned long i = 0; i < 20000; i++)
            x += i * i;
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static int usage(void)
{
    fprintf(stderr, "usage: hang MODE [--idle N] [--busy N]\n"
                    "modes: abba abba-warm rwlock-ww rwlock-rw rwlock-wr ring3 self self-rw robust pi\n"
                    "       timed spin c11 cond sem orphan join idle read barrier kinds pshared\n"
                    "       stdio futex stack-aa stack-aba procs main-exit rwlock-prefer-writer\n"
                    "       fork-held cond-cancel cond-cancel-clean\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    mode = argv[1];
    long nidle = 0, nbusy = 0;
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 < argc && strcmp(argv[i], "--idle") == 0)
            nidle = strtol(argv[i + 1], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--busy") == 0)
            nbusy = strtol(argv[i + 1], NULL, 10);
        else
            return usage();
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_spin_init(&spin_a, 0);
    pthread_spin_init(&spin_b, 0);
    sem_init(&sem_never, 0, 0);
    mtx_init(&c11_a, mtx_plain);
    mtx_init(&c11_b, mtx_plain);
    for (long i = 0; i < nidle; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, idle, NULL) != 0) {
            fprintf(stderr, "hang: cannot create idle thread %ld\n", i);
            return 1;
        }
    }
    for (long i = 0; i < nbusy; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, busy, NULL) != 0) {
            fprintf(stderr, "hang: cannot create busy thread %ld\n", i);
            return 1;
        }
    }

    if (!strcmp(mode, "abba-warm")) {
        /* main takes both through the same lockers first: the lockers' stacks of the
         * deadlock are then reused from main's acquisitions, and must say so */
        warm_up();
        two_sides((side){"locker-ab", lock_a, lock_b}, (side){"locker-ba", lock_b, lock_a});
    } else if (!strcmp(mode, "abba"))
        two_sides((side){"locker-ab", lock_a, lock_b}, (side){"locker-ba", lock_b, lock_a});
    else if (!strcmp(mode, "rwlock-ww"))
        two_sides((side){"writer-xy", wrlock_x, wrlock_y}, (side){"writer-yx", wrlock_y, wrlock_x});
    else if (!strcmp(mode, "rwlock-rw"))   /* each read-holds one and wants to write the other */
        two_sides((side){"reader-x", rdlock_x, wrlock_y}, (side){"reader-y", rdlock_y, wrlock_x});
    else if (!strcmp(mode, "rwlock-wr"))   /* each write-holds one and wants to read the other */
        two_sides((side){"writer-x", wrlock_x, rdlock_y}, (side){"writer-y", wrlock_y, rdlock_x});
    else if (!strcmp(mode, "ring3"))
        ring3();
    else if (!strcmp(mode, "rwlock-prefer-writer"))
        prefer_writer();
    else if (!strcmp(mode, "self"))
        start_self(relock_self);
    else if (!strcmp(mode, "self-rw"))
        start_self(upgrade_self);
    else if (!strcmp(mode, "robust") || !strcmp(mode, "pi")) {
        int robust = !strcmp(mode, "robust");
        init_mutex_kind(&mutex_a, robust, robust ? 0 : PTHREAD_PRIO_INHERIT);
        init_mutex_kind(&mutex_b, robust, robust ? 0 : PTHREAD_PRIO_INHERIT);
        two_sides((side){"locker-ab", lock_a, lock_b}, (side){"locker-ba", lock_b, lock_a});
    } else if (!strcmp(mode, "timed"))   /* a stall: the timed side gives up after an hour */
        two_sides((side){"locker-ab", lock_a, lock_b}, (side){"timed-ba", lock_b, timed_lock_a});
    else if (!strcmp(mode, "spin"))
        two_sides((side){"spinner-ab", spin_lock_a, spin_lock_b},
                  (side){"spinner-ba", spin_lock_b, spin_lock_a});
    else if (!strcmp(mode, "c11"))
        two_sides((side){"c11-ab", c11_lock_a, c11_lock_b}, (side){"c11-ba", c11_lock_b, c11_lock_a});
    else if (!strcmp(mode, "cond"))
        start_one(cond_waiter);
    else if (!strcmp(mode, "sem"))
        start_one(sem_waiter);
    else if (!strcmp(mode, "orphan")) {
        pthread_t t;
        pthread_create(&t, NULL, lock_and_exit, NULL);
        pthread_join(t, NULL);
        ready();
        pthread_mutex_lock(&mutex_a);   /* its owner is gone: never released */
    } else if (!strcmp(mode, "join")) {
        pthread_t t;
        pthread_barrier_init(&joined_ready, NULL, 2);
        pthread_mutex_lock(&mutex_a);
        pthread_create(&t, NULL, needs_main_lock, NULL);
        pthread_barrier_wait(&joined_ready);
        ready();
        pthread_join(t, NULL);          /* t waits for mutex_a, which we hold */
    } else if (!strcmp(mode, "read")) {
        pthread_t t1, t2;
        if (pipe(pipe_fds) != 0)
            return 1;
        pthread_barrier_init(&both_hold, NULL, 2);
        pthread_create(&t1, NULL, read_holder, NULL);
        pthread_create(&t2, NULL, needs_a, NULL);
        ready();
        pthread_join(t2, NULL);
    } else if (!strcmp(mode, "barrier")) {
        pthread_t t1, t2;
        pthread_barrier_init(&three, NULL, 3);
        pthread_create(&t1, NULL, barrier_member, NULL);
        pthread_create(&t2, NULL, barrier_member, NULL);
        ready();
        pthread_join(t1, NULL);
    } else if (!strcmp(mode, "kinds") || !strcmp(mode, "pshared")) {
        pthread_mutexattr_t a, b;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_init(&b);
        if (!strcmp(mode, "kinds")) {
            pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
            pthread_mutexattr_settype(&b, PTHREAD_MUTEX_ERRORCHECK);
        } else {
            pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
            pthread_mutexattr_setpshared(&b, PTHREAD_PROCESS_SHARED);
        }
        pthread_mutex_init(&mutex_a, &a);
        pthread_mutex_init(&mutex_b, &b);
        two_sides((side){"locker-ab", lock_a_twice, lock_b}, (side){"locker-ba", lock_b, lock_a});
    } else if (!strcmp(mode, "stdio")) {
        pthread_t t1, t2;
        pthread_barrier_init(&both_hold, NULL, 2);
        pthread_create(&t1, NULL, stdio_writer, NULL);
        pthread_create(&t2, NULL, stdio_holder, NULL);
        ready_raw();
        pthread_join(t1, NULL);
    } else if (!strcmp(mode, "futex")) {
        start_one(futex_waiter);
    } else if (!strcmp(mode, "stack-aa")) {
        start_self(stack_aa);
    } else if (!strcmp(mode, "stack-aba")) {
        start_self(stack_aba);
    } else if (!strcmp(mode, "main-exit")) {
        pthread_t t1, t2;
        static side s1 = {"locker-ab", lock_a, lock_b}, s2 = {"locker-ba", lock_b, lock_a};
        pthread_barrier_init(&both_hold, NULL, 2);
        pthread_create(&t1, NULL, run_side, &s1);
        pthread_create(&t2, NULL, run_side, &s2);
        ready();
        pthread_exit(NULL);   /* the process lives on in its two deadlocked threads */
    } else if (!strcmp(mode, "procs")) {
        return procs();
    } else if (!strcmp(mode, "fork-held")) {
        return fork_held_lock();
    } else if (!strcmp(mode, "cond-cancel") || !strcmp(mode, "cond-cancel-clean")) {
        return cond_cancel(!strcmp(mode, "cond-cancel-clean"));
    } else if (!strcmp(mode, "idle")) {
        ready();
        pthread_mutex_lock(&cond_mutex);
        pthread_cond_wait(&cond_never, &cond_mutex);
    } else
        return usage();
    return 0;
}
