/* test-decode.c - decoding waits from futex arguments + glibc layouts (src/inspect/decode.c)
 * on synthetic threads, one per row of shared/reference/glibc-locks.md: mutex kinds, robust,
 * PI, timed, rwlock reader/writer waits and the val-2/val-3 ambiguities, semaphore, condvar,
 * join, barrier, restart_syscall, other system calls, and an unknown glibc version (no
 * guessing). Runs under ASan/UBSan. */
#include <stdlib.h>

#include "t.h"

#include "inspect/internal.h"

static insp_target tg;

static int no_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    (void)ctx, (void)addr, (void)buf, (void)len;
    return -1;
}

/* A thread blocked in futex(uaddr, op, val) whose memory around uaddr holds `words` (32-bit
 * values from `base`), waiting in function `fn` (NULL: no stack). */
static insp_thread *waiter(int tid, uint64_t uaddr, unsigned op, uint32_t val, uint64_t base,
                           const uint32_t *words, size_t nwords, const char *fn)
{
    insp_thread *t = insp_add_thread(&tg, tid);
    t->nr = 202;
    t->arg[0] = uaddr;
    t->arg[1] = op;
    t->arg[2] = val;
    t->win_base = uaddr - INSP_WINDOW_BEFORE;
    t->win_ok = true;
    memset(t->win, 0, sizeof t->win);
    for (size_t i = 0; i < nwords; i++)
        memcpy(t->win + (base - t->win_base) + 4 * i, &words[i], 4);
    if (fn) {
        lg_frame *f = lg_stack_push(&t->stack);
        lg_frame_set(f, 0x7f0000001000, "/lib/x86_64-linux-gnu/libc.so.6", 0x1000, fn, 0,
                     NULL, 0);
        f = lg_stack_push(&t->stack);
        lg_frame_set(f, 0x401000, "/usr/bin/app", 0x1000, "caller", 0, "app.c", 10);
    }
    return t;
}

static void live(int tid)
{
    insp_add_thread(&tg, tid)->nr = INSP_NR_RUNNING;
}

int main(void)
{
    /* System call names come from the kernel headers' whole table, not a hand-kept few. */
    CHECK_STR(syscall_name(202), "futex");
    CHECK_STR(syscall_name(435), "clone3");
    CHECK_STR(syscall_name(0), "read");
    CHECK(syscall_name(-1) == NULL);
    CHECK(syscall_name(100000) == NULL);
    tg.read = no_read;
    tg.glibc_known = 1;
    tg.cond_signals_off = 40;
    for (int tid = 200; tid < 210; tid++)
        live(tid);
    const uint64_t M = 0x404000;

    /* normal mutex: __lock 2, __owner 201, kind 0 */
    uint32_t m_normal[] = {2, 0, 201, 1, 0};
    insp_thread *t = waiter(100, M, 0x80, 2, M, m_normal, 5, "___pthread_mutex_lock");
    /* recursive, depth 3 */
    uint32_t m_rec[] = {2, 3, 202, 1, 1};
    waiter(101, M + 0x100, 0x80, 2, M + 0x100, m_rec, 5, "__GI___lll_lock_wait");
    /* robust: word = owner | waiters, kind 16 (| pshared 128) */
    uint32_t m_rob[] = {0x80000000u | 203, 0, 203, 1, 16 | 128};
    waiter(102, M + 0x200, 0x0, 0x80000000u | 203, M + 0x200, m_rob, 5, "__pthread_mutex_lock_full");
    /* PI: FUTEX_LOCK_PI, owner in the word */
    uint32_t m_pi[] = {0x80000000u | 204, 0, 204, 1, 32};
    waiter(103, M + 0x300, 0x86, 0, M + 0x300, m_pi, 5, "__pthread_mutex_lock_full");
    /* timed mutex, no stack: val 2 with WAIT_BITSET and a timeout; mutex reading wins */
    uint32_t m_timed[] = {2, 0, 205, 1, 0};
    t = waiter(104, M + 0x400, 0x189, 2, M + 0x400, m_timed, 5, NULL);
    t->arg[3] = 0x7ffd0000;
    /* rwlock: reader waits for a writer (rw+8, val 3), __cur_writer 206 */
    const uint64_t R = 0x405000;
    uint32_t rw_w[] = {(1u << 3) | 3, 0, 3, 0, 0, 0, 206, 0, 0, 0, 0, 0, 0};
    waiter(105, R + 8, 0x189, 3, R, rw_w, 13, "__pthread_rwlock_rdlock_full64");
    /* rwlock: writer waits for a writer (rw+12, val 3) */
    waiter(106, R + 12, 0x189, 3, R, rw_w, 13, "__pthread_rwlock_wrlock_full64");
    /* rwlock: writer waits for 2 readers (rw+8, val 2), no writer */
    const uint64_t R2 = 0x406000;
    uint32_t rw_r[] = {(2u << 3) | 1, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    waiter(107, R2 + 8, 0x189, 2, R2, rw_r, 13, "__pthread_rwlock_wrlock_full64");
    /* no stack, val 3: the base whose __cur_writer is live (rw+12 here) */
    waiter(108, R + 12, 0x189, 3, R, rw_w, 13, NULL);
    /* semaphore: value 0, 1 waiter */
    uint32_t sem[] = {0, 1};
    waiter(109, 0x407000, 0x189, 0, 0x407000, sem, 2, "__new_sem_wait_slow64");
    /* condvar __g_signals[1] at cv+44 */
    uint32_t cv[12] = {0};
    waiter(110, 0x408000 + 44, 0x189, 0, 0x408000, cv, 12, "__pthread_cond_wait_common");
    /* join: the thread's tid word, op 0x109, val = its tid */
    uint32_t tidw[] = {207};
    waiter(111, 0x7f0000000990, 0x109, 207, 0x7f0000000990, tidw, 1, "__pthread_clockjoin_ex");
    /* barrier: in 2 of count 3, waiting on current_round (+4) */
    uint32_t bar[] = {2, 0, 3, 0};
    waiter(112, 0x409004, 0x80, 0, 0x409000, bar, 4, "pthread_barrier_wait");
    /* an owner that is not a thread of the process */
    uint32_t m_gone[] = {2, 0, 999, 1, 0};
    waiter(113, M + 0x500, 0x80, 2, M + 0x500, m_gone, 5, "___pthread_mutex_lock");
    /* a timed wait resumed as restart_syscall (219) keeps its arguments */
    t = waiter(114, M, 0x80, 2, M, m_normal, 5, "___pthread_mutex_lock");
    t->nr = 219;
    /* blocked in read(2) */
    t = insp_add_thread(&tg, 115);
    t->nr = 0;
    t->arg[0] = 7;
    snprintf(t->fd_target, sizeof t->fd_target, "socket:[1234]");

    decode_all(&tg);
    insp_thread *x;
#define W(tid) (&insp_find_thread(&tg, (tid))->w)
    CHECK_INT(W(100)->type, LG_LOCK_MUTEX);
    CHECK_INT(W(100)->owner, 201);
    CHECK_INT(W(100)->lock, M);
    CHECK_STR(W(100)->attrs, "normal");
    CHECK_STR(W(101)->attrs, "recursive, depth 3");
    CHECK_INT(W(101)->owner, 202);
    CHECK_INT(W(102)->owner, 203);
    CHECK(strstr(W(102)->attrs, "robust") && strstr(W(102)->attrs, "process-shared"));
    CHECK_INT(W(103)->owner, 204);
    CHECK(strstr(W(103)->attrs, "priority-inheritance") != NULL);
    CHECK_INT(W(104)->type, LG_LOCK_MUTEX);
    CHECK_INT(W(104)->owner, 205);
    CHECK(W(104)->timed);
    CHECK_INT(W(105)->type, LG_LOCK_RWLOCK);
    CHECK_INT(W(105)->lock, R);
    CHECK_INT(W(105)->mode, LG_MODE_SHARED);
    CHECK_INT(W(105)->owner, 206);
    CHECK_INT(W(106)->lock, R);
    CHECK_INT(W(106)->mode, LG_MODE_EXCLUSIVE);
    CHECK_INT(W(106)->owner, 206);
    CHECK_INT(W(107)->lock, R2);
    CHECK_INT(W(107)->owner, 0);
    CHECK_INT(W(107)->readers, 2);
    CHECK_INT(W(108)->type, LG_LOCK_RWLOCK);
    CHECK_INT(W(108)->lock, R);
    CHECK_INT(W(108)->owner, 206);
    CHECK_INT(W(109)->type, LG_LOCK_SEMAPHORE);
    CHECK(W(109)->lock_flags & LG_LOCK_F_NO_OWNER);
    CHECK_STR(W(109)->attrs, "value 0, 1 waiting");
    CHECK_INT(W(110)->type, LG_LOCK_CONDVAR);
    CHECK_INT(W(110)->lock, 0x408000);
    CHECK_INT(W(111)->type, LG_LOCK_THREAD);
    CHECK_INT(W(111)->owner, 207);
    CHECK_INT(W(112)->type, LG_LOCK_BARRIER);
    CHECK_INT(W(112)->lock, 0x409000);
    CHECK_STR(W(112)->attrs, "2 of 3 arrived");
    CHECK(W(113)->lock_flags & LG_LOCK_F_OWNER_EXITED);
    CHECK_INT(W(114)->type, LG_LOCK_MUTEX);
    CHECK_INT(W(114)->owner, 201);
    x = insp_find_thread(&tg, 115);
    CHECK_INT(x->w.kind, WAIT_SYSCALL);
    CHECK_STR(x->w.desc, "read(fd 7 -> socket:[1234])");
    CHECK_INT(insp_find_thread(&tg, 100)->wait_frame, 2);   /* the caller's frame */

    /* Unknown glibc: no guessing. */
    tg.glibc_known = 0;
    decode_all(&tg);
    CHECK_INT(W(100)->type, LG_LOCK_FUTEX);
    CHECK_INT(W(100)->lock, M);
    CHECK(W(100)->lock_flags & LG_LOCK_F_UNDECODED);
    CHECK_INT(W(100)->owner, 0);
    CHECK_INT(W(105)->type, LG_LOCK_FUTEX);
    CHECK_INT(W(105)->lock, R + 8);

    /* The model built from it: the report has a lock per distinct object and a verdict. */
    tg.glibc_known = 1;
    decode_all(&tg);
    lg_report r;
    lg_report_init(&r);
    CHECK_INT(build_report(&tg, &r, NULL), 0);
    CHECK(r.verdict != NULL);
    CHECK_INT((long long)r.nthreads, (long long)tg.n);
    size_t orphans = 0;
    for (size_t i = 0; i < r.nfindings; i++)
        orphans += r.findings[i].kind == LG_KIND_ORPHANED;
    CHECK_INT((long long)orphans, 1);
    lg_report_free(&r);
    insp_target_free(&tg);
    T_DONE();
}
