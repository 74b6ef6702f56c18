/* cases.c - one small program per semantic of the runtime, selected by name:
 *   cases MODE
 * Each mode runs to completion (none deadlocks: interleavings are forced sequentially with
 * joins), so the verdict comes only from the lock-order graph. Functions are noinline with
 * readable names so tests can check that the reported stacks name them.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

pthread_mutex_t mutex_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t mutex_b = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t gate_g = PTHREAD_MUTEX_INITIALIZER;
pthread_rwlock_t rw_x = PTHREAD_RWLOCK_INITIALIZER;
pthread_rwlock_t rw_y = PTHREAD_RWLOCK_INITIALIZER;
pthread_cond_t cond_c = PTHREAD_COND_INITIALIZER;
pthread_spinlock_t spin_a, spin_b;
mtx_t c11_a, c11_b;

typedef void (*fn)(void);

typedef struct named_fn {
    const char *name;
    fn f;
} named_fn;

static void *call(void *arg)
{
    const named_fn *n = arg;
    pthread_setname_np(pthread_self(), n->name);   /* before its first lock */
    n->f();
    return NULL;
}

/* Run f in a new thread named `name` and wait for it. */
static void in_thread(const char *name, fn f)
{
    pthread_t t;
    named_fn n = {name, f};
    pthread_create(&t, NULL, call, &n);
    pthread_join(t, NULL);
}

/* stdout's FILE lock against mutex_a: explicit flockfile, then the mutex; the other way
 * round with the mutex held around an explicit flockfile (what printf would take inside,
 * invisibly). */
NOINLINE static void file_then_mutex(void)
{
    flockfile(stdout);
    pthread_mutex_lock(&mutex_a);
    fputs_unlocked("file-then-mutex\n", stdout);
    pthread_mutex_unlock(&mutex_a);
    funlockfile(stdout);
}

NOINLINE static void mutex_then_file(void)
{
    pthread_mutex_lock(&mutex_a);
    flockfile(stdout);
    flockfile(stdout);   /* the FILE lock is recursive: no self-deadlock, no edge */
    fputs_unlocked("mutex-then-file\n", stdout);
    funlockfile(stdout);
    funlockfile(stdout);
    pthread_mutex_unlock(&mutex_a);
}

/* The same pair with printf taking the lock inside glibc: not visible to the runtime. */
NOINLINE static void mutex_then_printf(void)
{
    pthread_mutex_lock(&mutex_a);
    printf("mutex-then-printf\n");
    pthread_mutex_unlock(&mutex_a);
}

NOINLINE static void path_ab(void)
{
    pthread_mutex_lock(&mutex_a);
    pthread_mutex_lock(&mutex_b);
    pthread_mutex_unlock(&mutex_b);
    pthread_mutex_unlock(&mutex_a);
}

NOINLINE static void path_ba(void)
{
    pthread_mutex_lock(&mutex_b);
    pthread_mutex_lock(&mutex_a);
    pthread_mutex_unlock(&mutex_a);
    pthread_mutex_unlock(&mutex_b);
}

NOINLINE static void gated_ab(void)
{
    pthread_mutex_lock(&gate_g);
    path_ab();
    pthread_mutex_unlock(&gate_g);
}

NOINLINE static void gated_ba(void)
{
    pthread_mutex_lock(&gate_g);
    path_ba();
    pthread_mutex_unlock(&gate_g);
}

#define RW(name, f1, l1, f2, l2)                                                           \
    NOINLINE static void name(void)                                                        \
    {                                                                                      \
        f1(&l1);                                                                           \
        f2(&l2);                                                                           \
        pthread_rwlock_unlock(&l2);                                                        \
        pthread_rwlock_unlock(&l1);                                                        \
    }
RW(rd_x_rd_y, pthread_rwlock_rdlock, rw_x, pthread_rwlock_rdlock, rw_y)
RW(rd_y_rd_x, pthread_rwlock_rdlock, rw_y, pthread_rwlock_rdlock, rw_x)
RW(rd_y_wr_x, pthread_rwlock_rdlock, rw_y, pthread_rwlock_wrlock, rw_x)
RW(rd_x_wr_y, pthread_rwlock_rdlock, rw_x, pthread_rwlock_wrlock, rw_y)

NOINLINE static void a_trylock_b(void)
{
    pthread_mutex_lock(&mutex_a);
    if (pthread_mutex_trylock(&mutex_b) == 0)
        pthread_mutex_unlock(&mutex_b);
    pthread_mutex_unlock(&mutex_a);
}

static pthread_barrier_t bar;

static void *hold_b_a_while(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mutex_b);
    pthread_barrier_wait(&bar);
    pthread_barrier_wait(&bar);
    pthread_mutex_unlock(&mutex_b);
    return NULL;
}

/* The long-wait holders (slow-owner, busy-owner, read-owner) keep mutex_a until SIGUSR1
 * releases them: tests/runtime/deadlocks.sh sends it once the long-wait report is out, so the
 * report always finds the holder holding, whatever the machine's load. A holder nobody
 * releases gives up after a minute (a hang guard, not part of the case). */
static atomic_int holder_released;
static int owner_pipe[2] = {-1, -1};

static void release_holder(int sig)
{
    (void)sig;
    int e = errno;
    atomic_store(&holder_released, 1);
    if (owner_pipe[1] >= 0) {   /* wakes the reader */
        ssize_t w = write(owner_pipe[1], "x", 1);
        (void)w;
    }
    errno = e;
}

static void catch_release(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = release_holder;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}

static double since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (b.tv_nsec - a->tv_nsec) / 1e9;
}

static void *hold_a_sleeping(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "sleeper");
    pthread_mutex_lock(&mutex_a);
    pthread_barrier_wait(&bar);
    /* One sleep (the report must find it in nanosleep), cut short by SIGUSR1, which only
     * this thread takes (main blocks it). */
    struct timespec d = {60, 0};
    while (nanosleep(&d, &d) != 0 && !atomic_load(&holder_released))
        ;
    pthread_mutex_unlock(&mutex_a);
    return NULL;
}

/* A real deadlock through a condition variable's re-acquisition: the waiter holds B and
 * waits on cond_c with A; the signaller takes A, signals, then wants B. The waiter wakes and
 * must re-acquire A (inside glibc) while holding B. */
static int cond_ready, cond_go;

static void *cond_waiter_holding_b(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "cond-waiter");
    pthread_mutex_lock(&mutex_b);
    pthread_mutex_lock(&mutex_a);
    cond_ready = 1;
    while (!cond_go)
        pthread_cond_wait(&cond_c, &mutex_a);
    pthread_mutex_unlock(&mutex_a);
    pthread_mutex_unlock(&mutex_b);
    return NULL;
}

static void cond_deadlock(void)
{
    pthread_t t;
    pthread_create(&t, NULL, cond_waiter_holding_b, NULL);
    for (;;) {   /* until the waiter is in its condition wait (it released A) */
        pthread_mutex_lock(&mutex_a);
        if (cond_ready)
            break;
        pthread_mutex_unlock(&mutex_a);
        usleep(1000);
    }
    cond_go = 1;
    pthread_cond_signal(&cond_c);
    pthread_mutex_lock(&mutex_b);   /* held by the waiter, which now waits for A: we hold it */
    pthread_mutex_unlock(&mutex_b);
    pthread_mutex_unlock(&mutex_a);
    pthread_join(t, NULL);
}

/* lock A, trylock B fails (B held elsewhere): leaves no trace. */
static void failed_trylock(void)
{
    pthread_t t;
    pthread_barrier_init(&bar, NULL, 2);
    pthread_create(&t, NULL, hold_b_a_while, NULL);
    pthread_barrier_wait(&bar);
    pthread_mutex_lock(&mutex_a);
    if (pthread_mutex_trylock(&mutex_b) == 0) {
        fprintf(stderr, "cases: trylock unexpectedly succeeded\n");
        exit(3);
    }
    pthread_mutex_unlock(&mutex_a);
    pthread_barrier_wait(&bar);
    pthread_join(t, NULL);
    in_thread("b-then-a", path_ba);
}

NOINLINE static void a_timedlock_b(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pthread_mutex_lock(&mutex_a);
    if (pthread_mutex_timedlock(&mutex_b, &ts) == 0)
        pthread_mutex_unlock(&mutex_b);
    pthread_mutex_unlock(&mutex_a);
}

NOINLINE static void recursive_reentry(void)
{
    pthread_mutex_t r;
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&r, &at);
    pthread_mutex_lock(&r);
    pthread_mutex_lock(&mutex_a);
    pthread_mutex_lock(&r);           /* re-entry while holding A: no A -> r edge */
    pthread_mutex_unlock(&r);
    pthread_mutex_unlock(&mutex_a);
    pthread_mutex_unlock(&r);
    pthread_mutex_lock(&mutex_a);     /* A -> r would close a cycle with r -> A */
    pthread_mutex_unlock(&mutex_a);
    pthread_mutex_destroy(&r);
}

/* Holding B, wait on a condition with A: re-acquiring A while B is held is B -> A. */
NOINLINE static void b_condwait_a(void)
{
    struct timespec ts;
    pthread_mutex_lock(&mutex_a);
    pthread_mutex_lock(&mutex_b);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&cond_c, &mutex_a, &ts);
    pthread_mutex_unlock(&mutex_b);
    pthread_mutex_unlock(&mutex_a);
}

NOINLINE static void c11_ab(void)
{
    mtx_lock(&c11_a);
    mtx_lock(&c11_b);
    mtx_unlock(&c11_b);
    mtx_unlock(&c11_a);
}

NOINLINE static void c11_ba(void)
{
    mtx_lock(&c11_b);
    mtx_lock(&c11_a);
    mtx_unlock(&c11_a);
    mtx_unlock(&c11_b);
}

NOINLINE static void spin_ab(void)
{
    pthread_spin_lock(&spin_a);
    pthread_spin_lock(&spin_b);
    pthread_spin_unlock(&spin_b);
    pthread_spin_unlock(&spin_a);
}

NOINLINE static void spin_ba(void)
{
    pthread_spin_lock(&spin_b);
    pthread_spin_lock(&spin_a);
    pthread_spin_unlock(&spin_a);
    pthread_spin_unlock(&spin_b);
}

/* ---- many locks ---- */

#define MANY 200
static pthread_mutex_t many[MANY];

NOINLINE static void hold_many_then_a(void)
{
    for (int i = 0; i < MANY; i++)
        pthread_mutex_lock(&many[i]);
    pthread_mutex_lock(&mutex_a);      /* every many[i] -> A */
    pthread_mutex_unlock(&mutex_a);
    for (int i = MANY; i-- > 0;)
        pthread_mutex_unlock(&many[i]);
}

NOINLINE static void a_then_many_150(void)
{
    pthread_mutex_lock(&mutex_a);
    pthread_mutex_lock(&many[150]);   /* A -> many[150]: closes a cycle at depth 150 */
    pthread_mutex_unlock(&many[150]);
    pthread_mutex_unlock(&mutex_a);
}

NOINLINE static void hold_many_only(void)
{
    for (int r = 0; r < 3; r++) {
        for (int i = 0; i < MANY; i++)
            pthread_mutex_lock(&many[i]);
        for (int i = MANY; i-- > 0;)
            pthread_mutex_unlock(&many[i]);
    }
}

#define RING 1000
static pthread_mutex_t ring[RING];

NOINLINE static void ring_pairs(void)
{
    for (int i = 0; i < RING; i++) {
        pthread_mutex_lock(&ring[i]);
        pthread_mutex_lock(&ring[(i + 1) % RING]);
        pthread_mutex_unlock(&ring[(i + 1) % RING]);
        pthread_mutex_unlock(&ring[i]);
    }
}

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* A million lock instances, three rounds, with a common lock held over some. */
NOINLINE static void million(void)
{
    const int n = 1000000;
    for (int round = 0; round < 3; round++) {
        pthread_mutex_t **ms = malloc(n * sizeof *ms);
        for (int i = 0; i < n; i++) {
            ms[i] = malloc(sizeof **ms);
            pthread_mutex_init(ms[i], NULL);
            if (i % 1000 == 0)
                pthread_mutex_lock(&mutex_a);
            pthread_mutex_lock(ms[i]);
            pthread_mutex_unlock(ms[i]);
            if (i % 1000 == 0)
                pthread_mutex_unlock(&mutex_a);
        }
        for (int i = 0; i < n; i++) {
            pthread_mutex_destroy(ms[i]);
            free(ms[i]);
        }
        free(ms);
    }
    printf("VmHWM %ld\n", vm_hwm_kb());
}

static void *ab_worker(void *arg)
{
    (void)arg;
    path_ab();
    return NULL;
}

NOINLINE static void threads_1000(void)
{
    for (int batch = 0; batch < 10; batch++) {
        pthread_t t[100];
        for (int i = 0; i < 100; i++)
            if (pthread_create(&t[i], NULL, ab_worker, NULL) != 0)
                exit(4);
        for (int i = 0; i < 100; i++)
            pthread_join(t[i], NULL);
    }
}

/* ---- identity ---- */

NOINLINE static void freed_reuse(void)
{
    pthread_mutex_t *m1 = malloc(sizeof *m1);
    *m1 = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(m1);
    pthread_mutex_lock(&mutex_a);     /* m1 -> A */
    pthread_mutex_unlock(&mutex_a);
    pthread_mutex_unlock(m1);
    free(m1);                         /* no destroy */
    pthread_mutex_t *m2 = malloc(sizeof *m2);
    *m2 = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    printf("reused %d\n", m1 == m2);
    pthread_mutex_lock(&mutex_a);
    pthread_mutex_lock(m2);           /* A -> m2: a new lock, no cycle */
    pthread_mutex_unlock(m2);
    pthread_mutex_unlock(&mutex_a);
    free(m2);
}

NOINLINE static void use_stack_locks(int order)
{
    pthread_mutex_t s1 = PTHREAD_MUTEX_INITIALIZER, s2 = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_t *first = order ? &s2 : &s1, *second = order ? &s1 : &s2;
    pthread_mutex_lock(first);
    pthread_mutex_lock(second);
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    printf("stack %p\n", (void *)&s1);
}

NOINLINE static void stack_reuse(void)
{
    use_stack_locks(0);
    use_stack_locks(1);
}

NOINLINE static void destroy_reinit(void)
{
    pthread_mutex_t m;
    pthread_mutex_init(&m, NULL);
    pthread_mutex_lock(&m);
    pthread_mutex_lock(&mutex_a);
    pthread_mutex_unlock(&mutex_a);
    pthread_mutex_unlock(&m);
    pthread_mutex_destroy(&m);
    pthread_mutex_init(&m, NULL);
    pthread_mutex_lock(&mutex_a);
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    pthread_mutex_unlock(&mutex_a);
    pthread_mutex_destroy(&m);
}

/* ---- process life ---- */

static pthread_mutex_t ctor_x = PTHREAD_MUTEX_INITIALIZER, ctor_y = PTHREAD_MUTEX_INITIALIZER;

__attribute__((constructor)) static void before_main(void)
{
    pthread_mutex_lock(&ctor_x);
    pthread_mutex_lock(&ctor_y);
    pthread_mutex_unlock(&ctor_y);
    pthread_mutex_unlock(&ctor_x);
}

NOINLINE static void ctor_then_main(void)
{
    pthread_mutex_lock(&ctor_y);
    pthread_mutex_lock(&ctor_x);
    pthread_mutex_unlock(&ctor_x);
    pthread_mutex_unlock(&ctor_y);
}

static volatile int spinning = 1;

static void *churn(void *arg)
{
    (void)arg;
    /* New locks all the time: the runtime's slow path (its own locks) is busy at fork. */
    while (spinning) {
        pthread_mutex_t *m = malloc(sizeof *m);
        pthread_mutex_init(m, NULL);
        pthread_mutex_lock(&gate_g);
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
        pthread_mutex_unlock(&gate_g);
        pthread_mutex_destroy(m);
        free(m);
    }
    return NULL;
}

/* Fork while another thread hammers a lock: the child must neither deadlock nor inherit
 * a broken runtime, and finds its own cycle (exit 66); the parent has none. */
NOINLINE static void fork_child_cycle(void)
{
    pthread_t t;
    pthread_create(&t, NULL, churn, NULL);
    int bad = 0;
    for (int i = 0; i < 20; i++) {
        pid_t p = fork();
        if (p == 0) {
            pthread_mutex_t *m = malloc(sizeof *m);   /* the runtime works in the child */
            pthread_mutex_init(m, NULL);
            pthread_mutex_lock(m);
            pthread_mutex_unlock(m);
            if (i == 19) {
                path_ab();
                path_ba();
            }
            exit(0);
        }
        int st;
        waitpid(p, &st, 0);
        int want = i == 19 ? 66 : 0;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != want)
            bad++;
    }
    spinning = 0;
    pthread_join(t, NULL);
    printf("fork bad %d\n", bad);
}

/* The parent takes A then B and forks; the child takes B then A: the inversion is the
 * child's, reported in its own JSON (FILE.<pid>); the parent's report says so. */
NOINLINE static void fork_inversion(void)
{
    path_ab();
    pid_t p = fork();
    if (p == 0) {
        path_ba();
        exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    printf("child %d status %d\n", (int)p, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* A reader read-locks its rwlock again: a self-deadlock hazard only when readers are
 * non-recursive (writer-preferring); harmless on glibc's default rwlock. */
NOINLINE static void reread(void)
{
    pthread_rwlock_rdlock(&rw_x);
    pthread_rwlock_rdlock(&rw_x);
    pthread_rwlock_unlock(&rw_x);
    pthread_rwlock_unlock(&rw_x);
}

/* Holders that keep mutex_a until released doing something else: computing, or reading a
 * pipe (a restartable sleep); --wait-timeout shows their current stack. */
static volatile unsigned long spin_sink;

NOINLINE static void busy_computing(void)
{
    struct timespec a;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        for (int i = 0; i < 100000; i++)
            spin_sink += (unsigned long)i;
    } while (!atomic_load(&holder_released) && since(&a) < 60);
}

NOINLINE static void reading_pipe(void)
{
    char c;
    if (read(owner_pipe[0], &c, 1) != 1)
        printf("read interrupted\n");
}

static void *hold_a_busy(void *arg)
{
    pthread_setname_np(pthread_self(), arg ? "reader" : "computer");
    pthread_mutex_lock(&mutex_a);
    pthread_barrier_wait(&bar);
    if (arg)
        reading_pipe();
    else
        busy_computing();
    pthread_mutex_unlock(&mutex_a);
    return NULL;
}

static void *write_pipe_later(void *arg)   /* the reader's hang guard */
{
    (void)arg;
    struct timespec d = {60, 0};
    while (nanosleep(&d, &d) != 0 && !atomic_load(&holder_released))
        ;
    if (atomic_load(&holder_released))
        return NULL;
    if (write(owner_pipe[1], "x", 1) != 1)
        printf("write failed\n");
    return NULL;
}

NOINLINE static void busy_owner(bool reader)
{
    pthread_t t, w;
    if (reader && pipe(owner_pipe) != 0)
        exit(3);
    catch_release();
    pthread_barrier_init(&bar, NULL, 2);
    pthread_create(&t, NULL, hold_a_busy, reader ? (void *)1 : NULL);
    if (reader) {
        pthread_create(&w, NULL, write_pipe_later, NULL);
        pthread_detach(w);   /* the guard: not waited for once released */
    }
    pthread_barrier_wait(&bar);
    pthread_mutex_lock(&mutex_a);
    pthread_mutex_unlock(&mutex_a);
    pthread_join(t, NULL);
    printf("owner done\n");
}

NOINLINE static void dlopen_lib(const char *path)
{
    void *h = dlopen(path, RTLD_NOW);
    if (!h) {
        fprintf(stderr, "cases: %s\n", dlerror());
        exit(3);
    }
    void (*f)(void) = (void (*)(void))dlsym(h, "plugin_inverts");
    f();
}

NOINLINE static void lots_of_output(void)
{
    for (int i = 0; i < 1000; i++)
        printf("line %d ", i);   /* buffered, no newline: must not be lost at exit */
    in_thread("ab", path_ab);
    in_thread("ba", path_ba);
}

/* Every mutex kind, its state as glibc keeps it (owner, users, count) and its results after
 * each call, printed: the runtime does glibc's plain trylock itself, so the output must be
 * the same with and without it (tests/runtime/life.sh compares the two). */
static pthread_mutex_t *kind_m;
static int kind_other_rc[2];
/* With lock elision on, glibc's unlock of a mutex another thread already unlocked executes
 * XEND outside a transaction (SIGSEGV, bare as well): mutex-kinds-elided leaves that out. */
static bool kind_no_cross_unlock;

static void *kind_other(void *arg)
{
    (void)arg;
    kind_other_rc[0] = pthread_mutex_trylock(kind_m);
    kind_other_rc[1] = kind_no_cross_unlock ? -1 : pthread_mutex_unlock(kind_m);   /* not the owner */
    return NULL;
}

static void mutex_kinds(void)
{
    static const struct {
        const char *name;
        int type, robust, pshared, proto;
    } kinds[] = {
        {"default", -1, 0, 0, 0},
        {"normal", PTHREAD_MUTEX_NORMAL, 0, 0, 0},
        {"errorcheck", PTHREAD_MUTEX_ERRORCHECK, 0, 0, 0},
        {"recursive", PTHREAD_MUTEX_RECURSIVE, 0, 0, 0},
        {"adaptive", PTHREAD_MUTEX_ADAPTIVE_NP, 0, 0, 0},
        {"pshared", PTHREAD_MUTEX_NORMAL, 0, 1, 0},
        {"pshared-errorcheck", PTHREAD_MUTEX_ERRORCHECK, 0, 1, 0},
        {"robust", PTHREAD_MUTEX_NORMAL, 1, 0, 0},
        {"pi", PTHREAD_MUTEX_NORMAL, 0, 0, PTHREAD_PRIO_INHERIT},
    };
    int tid = gettid();
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        pthread_mutex_t m;
        pthread_mutexattr_t a;
        pthread_mutexattr_init(&a);
        if (kinds[i].type >= 0)
            pthread_mutexattr_settype(&a, kinds[i].type);
        if (kinds[i].robust)
            pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
        if (kinds[i].pshared)
            pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        if (kinds[i].proto)
            pthread_mutexattr_setprotocol(&a, kinds[i].proto);
        pthread_mutex_init(&m, kinds[i].type >= 0 || kinds[i].robust || kinds[i].pshared
                                   || kinds[i].proto ? &a : NULL);
        kind_m = &m;
        int lk = pthread_mutex_lock(&m);
        int own = m.__data.__owner == tid, users = m.__data.__nusers, count = m.__data.__count;
        int again = pthread_mutex_trylock(&m);   /* recursive: 0, others EBUSY */
        if (again == 0)
            pthread_mutex_unlock(&m);
        pthread_t th;
        pthread_create(&th, NULL, kind_other, NULL);
        pthread_join(th, NULL);
        int un = pthread_mutex_unlock(&m);
        int after_owner = m.__data.__owner, after_users = m.__data.__nusers;
        int tl = pthread_mutex_trylock(&m);
        int un2 = tl == 0 ? pthread_mutex_unlock(&m) : -1;
        printf("%s: lock %d owner-is-me %d users %d count %d relock-try %d other-try %d "
               "other-unlock %d unlock %d then owner %d users %d; trylock %d unlock %d\n",
               kinds[i].name, lk, own, users, count, again, kind_other_rc[0], kind_other_rc[1],
               un, after_owner, after_users, tl, un2);
        pthread_mutex_destroy(&m);
        pthread_mutexattr_destroy(&a);
    }
}

static void init_prefer_writer(void)
{
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&rw_x, &a);
    pthread_rwlock_init(&rw_y, &a);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *m = argv[1];
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    pthread_spin_init(&spin_a, 0);
    pthread_spin_init(&spin_b, 0);
    mtx_init(&c11_a, mtx_plain);
    mtx_init(&c11_b, mtx_plain);
    for (int i = 0; i < MANY; i++)
        pthread_mutex_init(&many[i], NULL);
    for (int i = 0; i < RING; i++)
        pthread_mutex_init(&ring[i], NULL);

    if (!strcmp(m, "abba")) {
        in_thread("ab-thread", path_ab);
        in_thread("ba-thread", path_ba);
    } else if (!strcmp(m, "stdio-inversion")) {
        in_thread("file-first", file_then_mutex);
        in_thread("mutex-first", mutex_then_file);
    } else if (!strcmp(m, "stdio-printf")) {
        in_thread("file-first", file_then_mutex);
        in_thread("mutex-first", mutex_then_printf);
    } else if (!strcmp(m, "abba-one")) {
        path_ab();
        path_ba();
    } else if (!strcmp(m, "nothing")) {
        path_ab();
        path_ab();
    } else if (!strcmp(m, "gate")) {
        in_thread("g-ab", gated_ab);
        in_thread("g-ba", gated_ba);
    } else if (!strcmp(m, "gate-lost")) {   /* gated once, then the same order ungated */
        in_thread("g-ab", gated_ab);
        in_thread("g-ba", gated_ba);
        in_thread("ba", path_ba);
    } else if (!strcmp(m, "rdrd")) {
        in_thread("r1", rd_x_rd_y);
        in_thread("r2", rd_y_rd_x);
    } else if (!strcmp(m, "rdrd-wr")) {
        in_thread("r1", rd_x_rd_y);
        in_thread("r2", rd_y_wr_x);
    } else if (!strcmp(m, "rdwr")) {
        in_thread("r1", rd_x_wr_y);
        in_thread("r2", rd_y_wr_x);
    } else if (!strcmp(m, "rdrd-prefer-writer")) {
        init_prefer_writer();
        in_thread("r1", rd_x_rd_y);
        in_thread("r2", rd_y_rd_x);
    } else if (!strcmp(m, "trylock")) {
        in_thread("try", a_trylock_b);
        in_thread("ba", path_ba);
    } else if (!strcmp(m, "trylock-failed")) {
        failed_trylock();
    } else if (!strcmp(m, "timed")) {
        in_thread("timed", a_timedlock_b);
        in_thread("ba", path_ba);
    } else if (!strcmp(m, "recursive")) {
        recursive_reentry();
    } else if (!strcmp(m, "cond")) {
        in_thread("cond", b_condwait_a);
        in_thread("ab", path_ab);
    } else if (!strcmp(m, "c11")) {
        in_thread("c11-ab", c11_ab);
        in_thread("c11-ba", c11_ba);
    } else if (!strcmp(m, "spin")) {
        in_thread("spin-ab", spin_ab);
        in_thread("spin-ba", spin_ba);
    } else if (!strcmp(m, "many-held")) {
        hold_many_only();
    } else if (!strcmp(m, "many-cycle")) {
        in_thread("many", hold_many_then_a);
        in_thread("a-many", a_then_many_150);
    } else if (!strcmp(m, "ring1000")) {
        ring_pairs();
    } else if (!strcmp(m, "million")) {
        million();
    } else if (!strcmp(m, "threads1000")) {
        threads_1000();
    } else if (!strcmp(m, "freed-reuse")) {
        freed_reuse();
    } else if (!strcmp(m, "stack-reuse")) {
        stack_reuse();
    } else if (!strcmp(m, "destroy-reinit")) {
        destroy_reinit();
    } else if (!strcmp(m, "ctor")) {
        ctor_then_main();
    } else if (!strcmp(m, "fork")) {
        fork_child_cycle();
    } else if (!strcmp(m, "reread-prefer-writer")) {
        init_prefer_writer();
        reread();
        reread();
    } else if (!strcmp(m, "reread")) {
        reread();
    } else if (!strcmp(m, "busy-owner")) {
        busy_owner(false);
    } else if (!strcmp(m, "read-owner")) {
        busy_owner(true);
    } else if (!strcmp(m, "fork-inversion")) {
        fork_inversion();
    } else if (!strcmp(m, "dlopen") && argc == 3) {
        dlopen_lib(argv[2]);
    } else if (!strcmp(m, "slow-owner")) {   /* a long wait with no cycle */
        pthread_t t;
        catch_release();
        pthread_barrier_init(&bar, NULL, 2);
        pthread_create(&t, NULL, hold_a_sleeping, NULL);
        sigset_t u;
        sigemptyset(&u);
        sigaddset(&u, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &u, NULL);   /* the sleeper takes it */
        pthread_barrier_wait(&bar);
        pthread_mutex_lock(&mutex_a);
        pthread_mutex_unlock(&mutex_a);
        pthread_join(t, NULL);
    } else if (!strcmp(m, "named")) {   /* the public API names locks for reports */
        void (*name)(const void *, const char *) =
            (void (*)(const void *, const char *))dlsym(RTLD_DEFAULT, "lg_lock_name");
        if (name) {
            name(&mutex_a, "queue lock");
            name(&mutex_b, "stats lock");
        }
        in_thread("ab", path_ab);
        in_thread("ba", path_ba);
    } else if (!strcmp(m, "cond-deadlock")) {
        cond_deadlock();
    } else if (!strcmp(m, "term")) {     /* findings, then death by a signal */
        in_thread("ab", path_ab);
        in_thread("ba", path_ba);
        raise(SIGTERM);
    } else if (!strcmp(m, "mutex-kinds") || !strcmp(m, "mutex-kinds-elided")) {
        kind_no_cross_unlock = !strcmp(m, "mutex-kinds-elided");
        mutex_kinds();
    } else if (!strcmp(m, "output")) {
        lots_of_output();
    } else {
        fprintf(stderr, "cases: unknown mode '%s'\n", m);
        return 2;
    }
    return 0;
}
