/* memory.c - reading the target's memory through one interface for live processes
 * (process_vm_readv, while the threads are stopped) and cores (core.c supplies a reader over
 * the PT_LOAD segments). Each futex waiter gets a snapshot of the bytes around its futex word,
 * enough for every glibc layout decode.c reads, so decoding never touches the target again.
 * Not here: which bytes mean what (glibc.c, decode.c). */
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "internal.h"

int mem_read_live(void *ctx, uint64_t addr, void *buf, size_t len)
{
    int pid = (int)(intptr_t)ctx;
    struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    return n == (ssize_t)len ? 0 : -1;
}

void mem_snapshot(insp_target *tg)
{
    for (size_t i = 0; i < tg->n; i++) {
        insp_thread *t = &tg->t[i];
        if (!insp_is_futex(t) || t->arg[0] < INSP_WINDOW_BEFORE)
            continue;
        t->win_base = t->arg[0] - INSP_WINDOW_BEFORE;
        t->win_ok = tg->read(tg->read_ctx, t->win_base, t->win, INSP_WINDOW) == 0;
        if (!t->win_ok) {
            /* The object may sit at the start of a mapping: try from the word itself. */
            t->win_base = t->arg[0];
            t->win_ok = tg->read(tg->read_ctx, t->win_base, t->win,
                                 INSP_WINDOW - INSP_WINDOW_BEFORE) == 0;
        }
    }
}

bool mem_get32(const insp_thread *t, uint64_t addr, uint32_t *v)
{
    size_t have = t->win_base == t->arg[0] ? INSP_WINDOW - INSP_WINDOW_BEFORE : INSP_WINDOW;
    if (!t->win_ok || addr < t->win_base || addr + 4 > t->win_base + have)
        return false;
    memcpy(v, t->win + (addr - t->win_base), 4);
    return true;
}

void insp_set_dregs(insp_thread *t, const struct user_regs_struct *r)
{
    const uint64_t d[17] = {r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp,
                            r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
                            r->rip};
    memcpy(t->dregs, d, sizeof d);
    t->have_regs = true;
    t->fs_base = r->fs_base;
    t->sp = r->rsp;
    const uint64_t callee[6] = {r->rbx, r->rbp, r->r12, r->r13, r->r14, r->r15};
    memcpy(t->callee, callee, sizeof callee);
}

void insp_set_args(insp_thread *t, const struct user_regs_struct *r)
{
    const uint64_t a[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
    memcpy(t->arg, a, sizeof a);
}
