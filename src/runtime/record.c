/* record.c - the runtime's side of `lockgraph record`: turns the interposed calls into trace
 * events for the writer (src/trace/writer.c), as docs/trace-format.md "Runtime contract" asks.
 *
 * Everything here runs only while recording (record.h's hooks test `lg_trace_on` first).
 * - Threads: the first event of a thread defines it (tid, name) and emits THREAD_START; a
 *   thread-specific key created before the writer's own (so its destructor runs first, while
 *   the writer still takes events) emits THREAD_EXIT with the name the thread has by then.
 * - Locks: trace ids are handed out once per lock generation (a lock destroyed and re-created
 *   at the same address is a new lock) and cached in the rt_lock; names are the ones the
 *   runtime reports (lg_lock_name, else the symbol of a global).
 * - Stacks: cached per thread and call site (direct-mapped, bounded): a miss unwinds once.
 *   A helper called from several places of one thread shows its first caller's stack.
 * - Contention is the runtime's: interpose.c tries first, wait.c blocks; a wait that ends
 *   with the lock is WAIT_END, and the acquisition that follows is not a second event.
 * - dlopen is wrapped here too, for the module snapshot (the exec family: ending.c);
 *   pthread_create (while recording only) so a thread starts with THREAD_START naming its
 *   creator, and pthread_setname_np so a rename reaches the trace.
 *
 * Not here: the format and buffering (writer.c), the lock-order and deadlock logic.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util/glibc-abi.h"
#include "../util/hash.h"
#include "fastpath.h"
#include "names.h"
#include "record.h"

#define REC_CACHE_BITS 7
#define REC_CACHE (1u << REC_CACHE_BITS)

#define REC_LOCKS_BITS 6
#define REC_LOCKS (1u << REC_LOCKS_BITS)

#define REC_SMAP_BITS 7
#define REC_SMAP (1u << REC_SMAP_BITS)

/* The slow path's half of a counts slot (record-count.h has the fast half). */
typedef struct rec_cold {
    uint32_t lock, stack;      /* trace ids */
    uint8_t mode;
    bool skip;                 /* a condition wait's re-acquisition: COND_WAIT_END says so */
    uint64_t written;          /* of the slot's count, already in the trace */
    uint64_t sampled, ticks, longest;   /* timed holds not yet in the trace */
} rec_cold;

typedef struct rec_thread {
    int tid;
    const void *waited;        /* the lock a recorded wait just got: its acquisition is done */
    struct rec_site {
        uintptr_t pc;
        uint32_t stack;
    } cache[REC_CACHE];
    /* The locks this thread used last: address -> trace id, valid while the generation is
     * the same (cheaper than the lock table's probe; direct-mapped, a miss looks it up). */
    struct rec_lock {
        uintptr_t addr;
        rt_lock *lock;
        uint32_t gen, id;
    } locks[REC_LOCKS];
    /* The runtime's stack ids (held-lock entries) -> the trace's (direct-mapped). */
    struct rec_smap {
        uint32_t rt, trace;
    } smap[REC_SMAP];
    /* Without --all-events: this thread's counts (rt_thread.rec points at them), written
     * when a slot is reused, at thread exit and at close (the closing thread, under
     * counts_lock, for every thread still listed). */
    rt_rec_counts counts;
    rec_cold *cold;            /* beside counts.hot, the same index */
    rec_cold *dcold;           /* beside counts.dir, the same index */
    rt_flock counts_lock;
    struct rec_thread *cnext, **cprev;   /* counted_list */
} rec_thread;

int rt_rec_counting;
static rt_flock counted_lock = RT_FLOCK_INIT;   /* before any counts_lock */
static rec_thread *counted_list;

static __thread rec_thread *rec_self __attribute__((tls_model("initial-exec")));
static __thread int rec_dead __attribute__((tls_model("initial-exec")));
static pthread_key_t rec_key;
static bool rec_key_ok;
static rt_flock define_lock = RT_FLOCK_INIT;
static _Atomic uint32_t next_lock_id;

/* The runtime's own code (guard > 0) takes locks too: those are not the program's events. */
static rt_thread *rt_enter(void)
{
    rt_thread *t = rt_thread_setup();
    if (t->cap)
        rt_guard_on(t);
    return t;
}

static void rt_leave(rt_thread *t)
{
    if (t->cap)
        rt_guard_off(t);
}

/* The name the runtime knows (pthread_setname_np, or the process name: threads.c), with no
 * system call: a strict seccomp filter of the program must not kill it, on the lock path nor
 * at thread exit. A thread renamed behind glibc's back (prctl(PR_SET_NAME), writing
 * /proc/self/task/TID/comm) keeps its earlier name in the trace; reports read the kernel's
 * (rt_thread_refresh_name). Called at the thread's first event. */
static void thread_name(char name[17])
{
    rt_thread *t = rt_thread_setup();
    memset(name, 0, 17);
    snprintf(name, 17, "%s", t->name);
}

static void counts_write_all_locked(rec_thread *t);

static void rec_thread_exit(void *p)
{
    rec_thread *t = p;
    if (!t)
        return;
    if (t->cprev) {
        rt_flock_lock(&counted_lock);
        rt_flock_lock(&t->counts_lock);
        counts_write_all_locked(t);
        rt_flock_unlock(&t->counts_lock);
        *t->cprev = t->cnext;
        if (t->cnext)
            t->cnext->cprev = t->cprev;
        rt_flock_unlock(&counted_lock);
        if (rt_self->rec == &t->counts)   /* runtime's record not gone yet: stop counting */
            rt_self->rec = NULL;
    }
    if (t->counts.hot) {
        munmap(t->counts.hot, (t->counts.mask + 1) * sizeof *t->counts.hot);
        munmap(t->cold, (t->counts.mask + 1) * sizeof *t->cold);
    }
    if (t->counts.dir) {
        munmap(t->counts.dir, t->counts.dir_n * sizeof *t->counts.dir);
        munmap(t->dcold, t->counts.dir_n * sizeof *t->dcold);
    }
    if (lg_trace_on) {
        /* Its name is in the trace already: defined at its first event and again at each
         * pthread_setname_np (the runtime's own record may be gone by now). */
        lg_trace_emit(LG_EV_THREAD_EXIT, 0, LG_MODE_EXCLUSIVE, 0, 0);
    }
    rec_self = NULL;
    rec_dead = 1;
    munmap(t, sizeof *t);
}

static __attribute__((noinline)) rec_thread *rec_thread_new_by(int creator)
{
    if (rec_dead)
        return NULL;
    rec_thread *t = rt_map(sizeof(rec_thread));
    if (!t)
        return NULL;
    t->tid = rt_thread_setup()->tid;   /* known without asking the kernel (threads.c) */
    t->counts.countdown = RT_REC_SAMPLE;
    t->counts.rng = (uint32_t)t->tid * 2654435761u | 1;
    if (rt_rec_counting) {
        t->counts.hot = rt_map(RT_REC_SLOTS_MIN * sizeof *t->counts.hot);
        t->cold = rt_map(RT_REC_SLOTS_MIN * sizeof *t->cold);
        t->counts.mask = RT_REC_SLOTS_MIN - 1;
        if (!t->counts.hot || !t->cold) {   /* out of memory: this thread is not counted */
            if (t->counts.hot)
                munmap(t->counts.hot, RT_REC_SLOTS_MIN * sizeof *t->counts.hot);
            if (t->cold)
                munmap(t->cold, RT_REC_SLOTS_MIN * sizeof *t->cold);
            t->counts.hot = NULL;
            t->cold = NULL;
        }
    }
    if (rt_rec_counting && t->counts.hot) {
        rt_flock_lock(&counted_lock);
        t->cnext = counted_list;
        if (counted_list)
            counted_list->cprev = &t->cnext;
        t->cprev = &counted_list;
        counted_list = t;
        rt_flock_unlock(&counted_lock);
    }
    rec_self = t;
    if (rec_key_ok)
        pthread_setspecific(rec_key, t);
    char name[17];
    thread_name(name);
    lg_trace_thread(t->tid, name);
    /* creator: 0 for the main thread and threads started before recording */
    lg_trace_emit(LG_EV_THREAD_START, 0, LG_MODE_EXCLUSIVE, (uint32_t)creator, 0);
    return t;
}

static rec_thread *rec_thread_new(void)
{
    return rec_thread_new_by(0);
}

/* The calling thread's state, or NULL when this event is not the program's. */
static inline rec_thread *rec_get(void)
{
    if (rt_self->guard)
        return NULL;
    rec_thread *t = rec_self;
    return t ? t : rec_thread_new();
}

/* "MODULE+0xOFFSET" for an address inside a loaded module's mappings (its .data, .bss). */
static void module_offset(uintptr_t addr, char *name, size_t n)
{
    Dl_info info;
    if (!dladdr((void *)addr, &info) || !info.dli_fbase)
        return;
    const char *path = info.dli_fname && info.dli_fname[0] ? info.dli_fname
                                                             : program_invocation_short_name;
    const char *base = strrchr(path, '/');
    snprintf(name, n, "%s+0x%lx", base ? base + 1 : path,
             (unsigned long)(addr - (uintptr_t)info.dli_fbase));
}

static __attribute__((noinline)) uint32_t define(rt_lock *l, uint32_t gen, lg_lock_type ltype)
{
    rt_flock_lock(&define_lock);
    uint64_t tr = atomic_load_explicit(&rt_lock_cold_of(l)->trace, memory_order_acquire);
    uint32_t id = (uint32_t)tr;
    if (!tr || (uint32_t)(tr >> 32) != gen) {
        id = atomic_fetch_add(&next_lock_id, 1) + 1;
        char name[160], attrs[64];
        rt_name_describe(atomic_load(&l->addr), ltype, atomic_load(&l->flags), name,
                         sizeof name, attrs, sizeof attrs, false);
        /* "heap 0x..." says nothing the address does not; but an address inside a module
         * is a global of a program without symbols (stripped): module+offset, which
         * `nm`/`objdump` of the unstripped build turns into its name. A stack lock's name
         * ("stack 0x... of thread 12", names.c) is kept: it says whose stack, which the
         * address does not. */
        if (!strncmp(name, "heap ", 5))
            module_offset(atomic_load(&l->addr), name, sizeof name);
        bool useful = name[0] && strncmp(name, "heap ", 5);
        lg_trace_lock(id, atomic_load(&l->addr), l->type == ltype ? ltype : (lg_lock_type)l->type,
                      useful ? name : NULL);
        atomic_store_explicit(&rt_lock_cold_of(l)->trace, (uint64_t)gen << 32 | id, memory_order_release);
    }
    rt_flock_unlock(&define_lock);
    return id;
}

static __attribute__((noinline)) uint32_t lock_id_slow(struct rec_lock *c, const void *addr,
                                                       lg_lock_type ltype)
{
    rt_lock *l = rt_lock_find((uintptr_t)addr);
    if (unlikely(!l)) {
        rt_thread *g = rt_enter();
        l = rt_lock_get((uintptr_t)addr, ltype);
        rt_leave(g);
        if (!l)
            return 0;
    }
    uint32_t gen = atomic_load_explicit(&l->gen, memory_order_relaxed);
    uint64_t tr = atomic_load_explicit(&rt_lock_cold_of(l)->trace, memory_order_acquire);
    uint32_t id = (uint32_t)tr;
    if (!tr || (uint32_t)(tr >> 32) != gen) {
        rt_thread *g = rt_enter();
        id = define(l, gen, ltype);
        rt_leave(g);
    }
    if (c)
        *c = (struct rec_lock){.addr = (uintptr_t)addr, .lock = l, .gen = gen, .id = id};
    return id;
}

static inline uint32_t lock_id(rec_thread *t, const void *addr, lg_lock_type ltype)
{
    struct rec_lock *c = &t->locks[lg_fib_slot((uintptr_t)addr, REC_LOCKS_BITS)];
    if (likely(c->addr == (uintptr_t)addr && c->id
               && atomic_load_explicit(&c->lock->gen, memory_order_relaxed) == c->gen))
        return c->id;
    return lock_id_slow(c, addr, ltype);
}

static __attribute__((noinline)) uint32_t capture(struct rec_site *s, uintptr_t pc)
{
    rt_thread *g = rt_enter();
    uint32_t rid = rt_stack_capture(0, pc);
    uint64_t pcs[64];
    size_t n = rid ? rt_stack_get(rid, pcs, 64) : 0;
    rt_leave(g);
    if (!n) {   /* at least the call site */
        pcs[0] = pc;
        n = 1;
    }
    s->stack = lg_trace_intern_stack(pcs, n);
    s->pc = pc;
    return s->stack;
}

static inline uint32_t stack_of(rec_thread *t, uintptr_t pc)
{
    struct rec_site *s = &t->cache[lg_fib_slot(pc, REC_CACHE_BITS)];
    return likely(s->pc == pc) ? s->stack : capture(s, pc);
}

/* Who holds it now, from glibc's own fields (glibc-locks.md): mutexes keep the owner tid,
 * rwlocks the writer's; readers, spinlocks and semaphores have none (0). */
static uint32_t owner_of(const void *addr, lg_lock_type ltype)
{
    if (ltype == LG_LOCK_MUTEX)
        return (uint32_t)((const pthread_mutex_t *)addr)->__data.__owner & GLIBC_FUTEX_TID_MASK;
    if (ltype == LG_LOCK_RWLOCK)
        return (uint32_t)((const pthread_rwlock_t *)addr)->__data.__cur_writer;
    return 0;
}

static inline void record(rec_thread *t, int type, const void *addr, lg_lock_type ltype,
                          unsigned mode, uint32_t arg, uintptr_t pc)
{
    uint32_t id = lock_id(t, addr, ltype);
    if (unlikely(!id))
        return;
    if (type == LG_EV_WAIT_BEGIN || type == LG_EV_TRYLOCK_FAIL)
        arg = owner_of(addr, ltype);
    lg_trace_emit(type, id, (int)mode, arg, stack_of(t, pc));
}

/* The hooks called from outside the slow path (which sets rt_busy itself) take the
 * thread's busy mark: a signal handler interrupting one (its event half-written in the
 * thread's buffer) loses its own event instead (counted). */
static bool busy_enter(void)
{
    if (rt_busy) {
        rt_nested_dropped();
        return false;
    }
    rt_busy = 1;
    RT_SIGNAL_FENCE();
    return true;
}

static void busy_leave(void)
{
    RT_SIGNAL_FENCE();
    rt_busy = 0;
}

static void rec_event(int type, const void *addr, lg_lock_type ltype, unsigned mode, uint32_t arg,
                      uintptr_t pc)
{
    rec_thread *t = rec_get();
    if (t)
        record(t, type, addr, ltype, mode, arg, pc);
}

void rt_rec_event(int type, const void *addr, lg_lock_type ltype, unsigned mode, uint32_t arg,
                  uintptr_t pc)
{
    if (busy_enter()) {
        rec_event(type, addr, ltype, mode, arg, pc);
        busy_leave();
    }
}

void rt_rec_acquired(const void *addr, lg_lock_type ltype, unsigned mode, unsigned flags,
                     uintptr_t pc)
{
    rec_thread *t = rec_get();
    if (!t)
        return;
    if (unlikely(t->waited)) {
        const void *w = t->waited;
        t->waited = NULL;
        if (w == addr)
            return;   /* WAIT_END already said so */
    }
    if (flags & RT_ACQ_COND)
        return;       /* COND_WAIT_END says so */
    record(t, LG_EV_ACQUIRE, addr, ltype, mode, 0, pc);
}

void rt_rec_released(const void *addr, lg_lock_type ltype, uintptr_t pc)
{
    rec_thread *t = rec_get();
    if (!t)
        return;
    unsigned mode = LG_MODE_EXCLUSIVE;
    if (ltype == LG_LOCK_RWLOCK
        && ((const pthread_rwlock_t *)addr)->__data.__cur_writer != t->tid)
        mode = LG_MODE_SHARED;
    record(t, LG_EV_RELEASE, addr, ltype, mode, 0, pc);
}

/* The trace id of a held lock's generation, defined on its first event. */
static inline uint32_t held_lock_id(const rt_held *h, lg_lock_type ltype)
{
    uint64_t tr = atomic_load_explicit(&rt_lock_cold_of(h->lock)->trace, memory_order_acquire);
    if (likely((uint32_t)tr && (uint32_t)(tr >> 32) == h->gen))
        return (uint32_t)tr;
    rt_thread *g = rt_enter();
    uint32_t id = define(h->lock, h->gen, ltype);
    rt_leave(g);
    return id;
}

/* The trace's id for one of the runtime's stack ids (per-thread direct-mapped cache). */
static __attribute__((noinline)) uint32_t map_stack_slow(struct rec_smap *m, uint32_t rid,
                                                         uintptr_t pc)
{
    rt_thread *g = rt_enter();
    uint64_t pcs[64];
    size_t n = rt_stack_get(rid, pcs, 64);
    rt_leave(g);
    if (n > 1 && rt_stack_shared(rid))
        n = 1;   /* the callers are another acquisition's: the trace keeps the call site */
    if (!n) {
        pcs[0] = pc;
        n = 1;
    }
    m->trace = lg_trace_intern_stack(pcs, n);
    m->rt = rid;
    return m->trace;
}

static inline uint32_t map_stack(rec_thread *t, uint32_t rid, uintptr_t pc)
{
    if (unlikely(!rid))
        return stack_of(t, pc);
    struct rec_smap *m = &t->smap[lg_fib_slot32(rid, REC_SMAP_BITS)];
    return likely(m->rt == rid) ? m->trace : map_stack_slow(m, rid, pc);
}

void rt_rec_acquired_held(const rt_held *h, lg_lock_type ltype)
{
    rec_thread *t = rec_get();
    if (unlikely(!t))
        return;
    if (unlikely(t->waited)) {
        const void *w = t->waited;
        t->waited = NULL;
        if ((uintptr_t)w == h->addr)
            return;   /* WAIT_END already said so */
    }
    if (h->flags & RT_ACQ_COND)
        return;       /* COND_WAIT_END says so */
    lg_trace_emit(LG_EV_ACQUIRE, held_lock_id(h, ltype), h->mode, 0, map_stack(t, h->stack, h->pc));
}

void rt_rec_released_held(const rt_held *h, lg_lock_type ltype, uintptr_t pc)
{
    rec_thread *t = rec_get();
    if (likely(t))
        lg_trace_emit(LG_EV_RELEASE, held_lock_id(h, ltype), h->mode, 0, stack_of(t, pc));
}

/* ---- counts (without --all-events): record-count.h's slow half ---- */

/* An entry's acquisitions (n of them since it was filled) and samples since it was last
 * written, as one COUNTS entry. */
static void cold_write(rec_thread *r, uint64_t n, rec_cold *k)
{
    if (k->skip)
        return;
    lg_trace_count c = {.tid = r->tid, .mode = k->mode, .lock = k->lock, .stack = k->stack,
                        .acquisitions = n - k->written, .sampled = k->sampled,
                        .sampled_ticks = k->ticks, .longest_ticks = k->longest};
    if (c.sampled > c.acquisitions)   /* a sample of an acquisition written before */
        c.sampled = c.sampled_ticks = c.longest_ticks = 0;
    if (c.acquisitions)
        lg_trace_counts(&c);
    k->written = n;
    k->sampled = k->ticks = k->longest = 0;
}

static void entry_write(rec_thread *r, rt_rec_hot *h, rec_cold *k)
{
    if (h->key)
        cold_write(r, __atomic_load_n(&h->n, __ATOMIC_RELAXED), k);
}

static void dir_write(rec_thread *r, rt_rec_dir *e, rec_cold *k)
{
    if (__atomic_load_n(&e->site, __ATOMIC_ACQUIRE))   /* filled: see count_held */
        cold_write(r, __atomic_load_n(&e->n, __ATOMIC_RELAXED), k);
}

static void counts_write_all_locked(rec_thread *r)
{
    for (uint32_t i = 0; r->counts.hot && i <= r->counts.mask; i++)
        entry_write(r, &r->counts.hot[i], &r->cold[i]);
    for (uint32_t i = 0; i < r->counts.dir_n; i++)
        dir_write(r, &r->counts.dir[i], &r->dcold[i]);
}

/* The direct table covering lock idx (false: past RT_REC_DIR_MAX, or out of memory: the
 * hashed table takes it). Grows to the power of two above idx; the entries move over. */
static bool dir_cover_locked(rec_thread *r, uint32_t idx)
{
    rt_rec_counts *c = &r->counts;
    if (idx < c->dir_n)
        return true;
    if (idx >= RT_REC_DIR_MAX)
        return false;
    size_t n = RT_REC_DIR_MIN;
    while (n <= idx)
        n *= 2;
    rt_rec_dir *dir = rt_map(n * sizeof *dir);
    rec_cold *cold = dir ? rt_map(n * sizeof *cold) : NULL;
    if (!cold) {
        if (dir)
            munmap(dir, n * sizeof *dir);
        return false;
    }
    if (c->dir) {
        memcpy(dir, c->dir, c->dir_n * sizeof *dir);
        memcpy(cold, r->dcold, c->dir_n * sizeof *cold);
        munmap(c->dir, c->dir_n * sizeof *c->dir);
        munmap(r->dcold, c->dir_n * sizeof *r->dcold);
    }
    c->dir = dir;
    r->dcold = cold;
    c->dir_n = (uint32_t)n;
    return true;
}

/* The slot holding key, or -1. */
static int slot_find(const rt_rec_counts *c, uint64_t key)
{
    uint32_t b = rt_rec_slot(c, key);
    for (uint32_t k = 0; k < RT_REC_WAYS; k++)
        if (c->hot[b + k].key == key)
            return (int)(b + k);
    return -1;
}

/* Where key goes in its bucket: an empty slot, else the least used (written out first). */
static uint32_t slot_victim(const rt_rec_counts *c, uint64_t key)
{
    uint32_t b = rt_rec_slot(c, key), v = b;
    for (uint32_t k = 0; k < RT_REC_WAYS; k++) {
        if (!c->hot[b + k].key)
            return b + k;
        if (c->hot[b + k].n < c->hot[v].n)
            v = b + k;
    }
    return v;
}

/* Four times the slots (to RT_REC_SLOTS_MAX): the thread uses more keys than fit. The
 * entries move over; one whose new bucket is full is written out first. */
static void grow_locked(rec_thread *r)
{
    rt_rec_counts *c = &r->counts;
    size_t old = (size_t)c->mask + 1, n = old * 4 < RT_REC_SLOTS_MAX ? old * 4 : RT_REC_SLOTS_MAX;
    if (n <= old) {
        c->evictions = 0;   /* as large as it gets: evicting is what is left */
        return;
    }
    rt_rec_hot *hot = rt_map(n * sizeof *hot);
    rec_cold *cold = rt_map(n * sizeof *cold);
    if (!hot || !cold) {
        if (hot)
            munmap(hot, n * sizeof *hot);
        if (cold)
            munmap(cold, n * sizeof *cold);
        c->evictions = 0;   /* try again later */
        return;
    }
    rt_rec_counts nc = *c;
    nc.hot = hot;
    nc.mask = (uint32_t)n - 1;
    for (size_t i = 0; i < old; i++) {
        if (!c->hot[i].key)
            continue;
        uint32_t b = rt_rec_slot(&nc, c->hot[i].key), k = 0;
        while (k < RT_REC_WAYS && hot[b + k].key)
            k++;
        if (k == RT_REC_WAYS) {
            entry_write(r, &c->hot[i], &r->cold[i]);
            continue;
        }
        b += k;
        hot[b] = c->hot[i];
        cold[b] = r->cold[i];
    }
    munmap(c->hot, old * sizeof *c->hot);
    munmap(r->cold, old * sizeof *r->cold);
    c->hot = hot;
    c->mask = nc.mask;
    r->cold = cold;
    c->evictions = 0;
}

/* lg_trace_close's first step: every live thread's counts (theirs still change: what they
 * count from now on is not in the trace). */
static void counts_before_close(void)
{
    /* no rt_enter: nothing here calls the program's functions, and a fatal-signal handler
     * must not set a thread up */
    rt_flock_lock(&counted_lock);
    for (rec_thread *r = counted_list; r; r = r->cnext) {
        rt_flock_lock(&r->counts_lock);
        counts_write_all_locked(r);
        rt_flock_unlock(&r->counts_lock);
    }
    rt_flock_unlock(&counted_lock);
}

/* Counts written from here are written once: the slots remember what they wrote. The
 * locks are safe from a signal handler (an rt_flock blocks signals while held, so the
 * handler's own thread never holds one). */
void rt_rec_flush(void)
{
    if (rt_rec_counting)
        counts_before_close();
    lg_trace_flush_all();
}

static uint64_t held_key(const rt_held *h)
{
    return rt_rec_key(h->lock->idx, h->gen, h->pc, (unsigned)h->mode << 8 | h->flags);
}

/* Count held entry h (just pushed, or deepened by a recursive re-lock) in its slot, filling
 * a slot of its bucket first (the bucket's least used key goes to the trace when all four
 * are taken; a table that keeps evicting grows). */
static void count_held(rec_thread *r, const rt_held *h, lg_lock_type ltype)
{
    rt_rec_counts *c = &r->counts;
    uint32_t idx = h->lock->idx;
    uint64_t site = rt_rec_site(h->pc, (unsigned)h->mode << 8 | h->flags);
    uint64_t key = held_key(h);
    if (idx < c->dir_n && c->dir[idx].site == site && c->dir[idx].gen == h->gen
        && !(h->pc >> 48)) {
        rt_rec_dir *e = &c->dir[idx];
        if (e->n == UINT32_MAX) {   /* written out, and counted from 0 again */
            rt_flock_lock(&r->counts_lock);
            dir_write(r, e, &r->dcold[idx]);
            __atomic_store_n(&e->n, 0, __ATOMIC_RELAXED);
            r->dcold[idx].written = 0;
            rt_flock_unlock(&r->counts_lock);
        }
        __atomic_store_n(&e->n, e->n + 1, __ATOMIC_RELAXED);
        return;
    }
    int i = slot_find(c, key);
    if (i < 0 && !(h->pc >> 48)
        && (idx < c->dir_n ? !c->dir[idx].site || c->dir[idx].gen != h->gen
                           : idx < RT_REC_DIR_MAX)) {
        /* new, and the lock's direct entry is free (or an earlier generation's): there */
        uint32_t lock = held_lock_id(h, ltype), stack = map_stack(r, h->stack, h->pc);
        rec_cold k = {.lock = lock, .stack = stack, .mode = h->mode,
                      .skip = (h->flags & RT_ACQ_COND) != 0};
        if (idx < c->dir_n && !c->dir[idx].site) {
            /* A free entry is filled without the lock (a thread's every first touch of a lock
             * comes here): its cold half and count first, the site last with release, so a
             * closing thread that sees the site (acquire, counts_write_all_locked) sees the
             * rest; only this thread writes its entries. */
            rt_rec_dir *e = &c->dir[idx];
            r->dcold[idx] = k;
            e->gen = h->gen;
            __atomic_store_n(&e->n, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&e->site, site, __ATOMIC_RELEASE);
            return;
        }
        rt_flock_lock(&r->counts_lock);
        bool put = dir_cover_locked(r, idx);
        if (put) {
            rt_rec_dir *e = &c->dir[idx];
            if (e->site)
                dir_write(r, e, &r->dcold[idx]);
            e->site = site;
            e->gen = h->gen;
            __atomic_store_n(&e->n, 1, __ATOMIC_RELAXED);
            r->dcold[idx] = k;
        }
        rt_flock_unlock(&r->counts_lock);
        if (put)
            return;
    }
    if (i < 0) {
        uint32_t lock = held_lock_id(h, ltype), stack = map_stack(r, h->stack, h->pc);
        rt_flock_lock(&r->counts_lock);
        uint32_t b = slot_victim(c, key);
        if (c->hot[b].key) {
            entry_write(r, &c->hot[b], &r->cold[b]);
            c->evictions++;
        }
        c->hot[b].key = key;
        __atomic_store_n(&c->hot[b].n, 0, __ATOMIC_RELAXED);
        r->cold[b] = (rec_cold){.lock = lock, .stack = stack, .mode = h->mode,
                                .skip = (h->flags & RT_ACQ_COND) != 0};
        i = (int)b;
        if (c->evictions > c->mask / 2) {
            grow_locked(r);
            i = slot_find(c, key);
        }
        rt_flock_unlock(&r->counts_lock);
        if (i < 0)
            return;
    }
    rt_rec_hot *s = &c->hot[i];
    __atomic_store_n(&s->n, s->n + 1, __ATOMIC_RELAXED);
}

/* The hold being timed is gone without its release (moved, released out of order, a
 * foreign release): forget it. */
static void sample_check(rt_thread *t, rt_rec_counts *c)
{
    uint32_t d = c->sample_depth;
    if (d && (d > t->depth || t->held[d - 1].key != c->sample_chain))
        c->sample_depth = 0;
}

bool rt_rec_acquire_counted(rt_thread *t, void *addr, lg_lock_type ltype, unsigned mode,
                            unsigned flags, uintptr_t pc)
{
    rt_rec_counts *c = t->rec;
    rec_thread *r = NULL;
    if (!t->guard && lg_trace_on && (r = rec_get()) != NULL && r->counts.hot)
        c = &r->counts;   /* (a thread without a table keeps taking this path: counted never) */
    if (c)
        sample_check(t, c);
    t->rec = NULL;   /* the push below must not count: this does */
    uint32_t before = t->depth;
    bool done = rt_acquire_push(t, t->cap, addr, mode, flags, pc);
    t->rec = c;
    if (done && r)
        rt_rec_counted_held(t, addr, before, ltype);
    if (c)
        t->fast_cap = c->sample_depth ? c->sample_depth - 1 : t->cap;
    return done;
}

void rt_rec_counted_held(rt_thread *t, const void *addr, uint32_t before, lg_lock_type ltype)
{
    if (t->guard || !lg_trace_on || !t->depth)
        return;
    rec_thread *r = rec_get();
    if (!r || !r->counts.hot)
        return;
    t->rec = &r->counts;
    rt_rec_counts *c = t->rec;
    rt_held *h = NULL;
    if (t->depth > before) {
        h = &t->held[t->depth - 1];   /* pushed */
    } else {
        for (uint32_t i = t->depth; i-- > 0 && !h;)   /* a recursive re-lock deepened it */
            if (t->held[i].addr == (uintptr_t)addr)
                h = &t->held[i];
    }
    if (!h)
        return;   /* not tracked (out of memory, an untracked lock): not counted */
    count_held(r, h, ltype);
    /* the fast path's countdown ran out, or this slow acquisition (a read lock always is
     * one) ends it */
    if (c->countdown == 0 || --c->countdown == 0 || c->countdown > 2 * RT_REC_SAMPLE) {
        uint32_t x = c->rng;
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        c->rng = x;
        c->countdown = RT_REC_SAMPLE / 2 + x % RT_REC_SAMPLE;   /* [N/2, 3N/2) */
        if (!c->sample_depth && t->depth > before && !(h->flags & RT_ACQ_COND)) {
            c->sample_depth = t->depth;
            c->sample_key = held_key(h);
            c->sample_chain = h->key;
            c->sample_tick = lg_trace_tick();
        }
    }
    t->fast_cap = c->sample_depth ? c->sample_depth - 1 : t->cap;
}

void rt_rec_release_counted(rt_thread *t, void *addr, int type, uintptr_t pc)
{
    rt_rec_counts *c = t->rec;
    rec_thread *r = rec_self;
    if (!c || !r)
        return;
    sample_check(t, c);
    uint32_t d = c->sample_depth;
    if (d && d == t->depth && t->held[d - 1].addr == (uintptr_t)addr
        && t->held[d - 1].count == 1) {
        uint64_t ticks = lg_trace_tick() - c->sample_tick;
        c->sample_depth = 0;
        rt_flock_lock(&r->counts_lock);
        const rt_held *h = &t->held[d - 1];
        uint32_t idx = h->lock->idx;
        rec_cold *k = NULL;
        if (idx < c->dir_n && c->dir[idx].gen == h->gen && !(h->pc >> 48)
            && c->dir[idx].site == rt_rec_site(h->pc, (unsigned)h->mode << 8 | h->flags)) {
            k = &r->dcold[idx];
        } else {
            int i = slot_find(c, c->sample_key);
            k = i >= 0 ? &r->cold[i] : NULL;
        }
        if (k) {
            k->sampled++;
            k->ticks += ticks;
            k->longest = ticks > k->longest ? ticks : k->longest;
        }
        rt_flock_unlock(&r->counts_lock);
    }
    t->fast_cap = c->sample_depth ? c->sample_depth - 1 : t->cap;
    /* A release that readies a waiter is an event: the waiter's wait ends with it. */
    if (type >= 0 && !t->guard && lg_trace_on && rt_rec_waiters(addr, type))
        rt_rec_released(addr, (lg_lock_type)type, pc);
}

/* ---- spinlock waiters (record-count.h) ---- */

uint64_t rt_rec_spin_waiting[RT_REC_SPIN_SLOTS + RT_REC_SPIN_PROBE];

/* The calling thread starts (+1: true when listed) or ends (-1, only after a listed +1)
 * its wait on spinlock addr. Lock-free: a signal handler's wait may interrupt it. */
bool rt_rec_spin_wait(const void *addr, int delta)
{
    uint64_t a = (uint64_t)(uintptr_t)addr;
    if (a >> 48)
        return false;
    uint64_t *s = &rt_rec_spin_waiting[rt_rec_spin_slot(addr)];
    for (int k = 0; k < RT_REC_SPIN_PROBE; k++) {
        uint64_t w = __atomic_load_n(&s[k], __ATOMIC_RELAXED);
        for (;;) {
            uint64_t n;
            if (w >> 16 == a && (w & 0xffff) && (delta < 0 || (w & 0xffff) < 0xffff))
                n = delta < 0 && (w & 0xffff) == 1 ? 0 : w + (uint64_t)(int64_t)delta;
            else if (!w && delta > 0)
                n = a << 16 | 1;
            else
                break;   /* another lock's slot (or full): the next one */
            if (__atomic_compare_exchange_n(&s[k], &w, n, false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_RELAXED))
                return true;
        }
    }
    return false;
}

void rt_rec_wait_begin(const void *addr, lg_lock_type ltype, unsigned mode, uintptr_t pc)
{
    if (unlikely(lg_trace_on))
        rt_rec_event(LG_EV_WAIT_BEGIN, addr, ltype, mode, 0, pc);
}

int rt_rec_wait_end(const void *addr, lg_lock_type ltype, unsigned mode, int r, uintptr_t pc)
{
    if (likely(!lg_trace_on) || !busy_enter())
        return r;
    rec_thread *t = rec_get();
    if (t) {
        bool got = r == 0 || r == EOWNERDEAD;
        record(t, got ? LG_EV_WAIT_END : LG_EV_WAIT_FAIL, addr, ltype, mode, 0, pc);
        t->waited = got ? addr : NULL;
    }
    busy_leave();
    return r;
}

void rt_rec_cond(int type, const void *cond, const void *mutex, uintptr_t pc)
{
    if (!busy_enter())
        return;
    rec_thread *t = rec_get();
    if (t) {
        uint32_t cid = lock_id(t, cond, LG_LOCK_CONDVAR), mid = lock_id(t, mutex, LG_LOCK_MUTEX);
        if (cid)
            lg_trace_emit(type, cid, LG_MODE_EXCLUSIVE, mid, stack_of(t, pc));
    }
    busy_leave();
}

void rt_rec_named(const void *addr)
{
    if (!lg_trace_on)
        return;
    rt_lock *l = rt_lock_find((uintptr_t)addr);
    if (!l)
        return;
    /* Define it again now, with the new name (threads' caches keep the same id). */
    rt_thread *g = rt_enter();
    uint64_t tr = atomic_load_explicit(&rt_lock_cold_of(l)->trace, memory_order_acquire);
    uint32_t gen = atomic_load_explicit(&l->gen, memory_order_relaxed);
    if (tr && (uint32_t)(tr >> 32) == gen) {
        char name[160], attrs[64];
        rt_name_describe(atomic_load(&l->addr), (lg_lock_type)l->type,
                         atomic_load(&l->flags), name, sizeof name, attrs, sizeof attrs,
                         false);
        lg_trace_lock((uint32_t)tr, atomic_load(&l->addr), l->type, name);
    }
    rt_leave(g);
}

static void say(const char *msg)
{
    rt_out(msg, strlen(msg));
}

static int own_tid(void)
{
    return rt_thread_setup()->tid;
}

void rt_rec_init(void)
{
    if (!secure_getenv("LOCKGRAPH_TRACE"))
        return;
    lg_trace_say_hook = say;
    lg_trace_tid_hook = own_tid;
    /* Before the writer's key: thread-specific destructors run in key order. */
    rec_key_ok = pthread_key_create(&rec_key, rec_thread_exit) == 0;
    const char *ev = secure_getenv("LOCKGRAPH_TRACE_EVENTS");
    rt_rec_counting = !(ev && !strcmp(ev, "all"));
    lg_trace_counted = rt_rec_counting;
    if (rt_rec_counting)
        lg_trace_before_close_hook = counts_before_close;
    char err[512];
    int on = lg_trace_open_env(err, sizeof err);
    if (on <= 0)
        rt_rec_counting = 0;
    if (on > 0) {
        /* every thread's next event is slow: with --all-events all of them stay so; else
         * that event gives the thread its counts and the fast path back */
        rt_threads_recording();
        rt_elfsym_prewarm();   /* lock names from the program's .symtab, no syscall later */
    }
    if (on < 0) {
        char m[600];
        int n = snprintf(m, sizeof m, "lockgraph: %s\n", err);
        if (n > 0)
            rt_out(m, (size_t)n < sizeof m ? (size_t)n : sizeof m - 1);
    }
}

/* ---- threads: start (with the creator) and names ---- */

typedef struct rec_start {
    void *(*fn)(void *);
    void *arg;
    int creator;
} rec_start;

static void *rec_trampoline(void *p)
{
    rec_start st = *(rec_start *)p;
    free(p);
    if (lg_trace_on && !rec_self)
        rec_thread_new_by(st.creator);
    return st.fn(st.arg);
}

RT_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *a, void *(*fn)(void *),
                             void *arg)
{
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (!real)
        real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
            dlsym(RTLD_NEXT, "pthread_create");
    if (!real)
        return EAGAIN;
    /* Where the thread is created: a deadlock or orphaned lock it is in shows it. Not from
     * inside the runtime (its own calls, or a handler that interrupted it): nothing of the
     * interrupted state may be touched, and threads_lock may be held. */
    uint32_t where = 0;
    bool nested = rt_is_nested(rt_self);
    if (rt.cfg.deadlocks && !nested) {
        rt_thread *g = rt_enter();
        where = rt_stack_capture(0, (uintptr_t)__builtin_return_address(0));
        rt_leave(g);
    }
    rec_thread *me = lg_trace_on ? rec_get() : NULL;
    rec_start *st = me ? malloc(sizeof *st) : NULL;
    int r;
    if (st) {
        *st = (rec_start){fn, arg, me->tid};
        r = real(th, a, rec_trampoline, st);
        if (r != 0)
            free(st);
    } else {
        r = real(th, a, fn, arg);
    }
    if (r == 0 && where)
        rt_thread_created(*th, where);
    return r;
}

RT_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
    static int (*real)(pthread_t, const char *);
    if (!real)
        real = (int (*)(pthread_t, const char *))dlsym(RTLD_NEXT, "pthread_setname_np");
    if (!real)
        return ENOSYS;
    int r = real(th, name);
    if (r == 0)
        rt_thread_named(th, name);   /* names known without asking the kernel (threads.c) */
    if (r != 0 || !lg_trace_on)
        return r;
    if (pthread_equal(th, pthread_self())) {
        rec_thread *t = rec_get();
        if (t)
            lg_trace_thread(t->tid, name);
        return r;
    }
    /* Another thread: known to the trace only if it has recorded (then the runtime has it). */
    rt_thread *g = rt_enter();
    int tid = 0;
    rt_flock_lock(&rt.threads_lock);
    for (rt_thread *x = rt_threads_first(); x; x = x->next)
        if (!x->exited && pthread_equal(x->self, th))
            tid = x->tid;
    rt_flock_unlock(&rt.threads_lock);
    if (tid)
        lg_trace_thread(tid, name);
    rt_leave(g);
    return r;
}

/* ---- dlopen: the module map changes (exec: ending.c flushes the trace) ---- */

RT_EXPORT void *dlopen(const char *file, int mode)
{
    static void *(*real)(const char *, int);
    if (!real)
        real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    void *h = real ? real(file, mode) : NULL;
    if (h && lg_trace_on)
        lg_trace_modules();
    return h;
}
