/* rtstate.c - reading the lockgraph runtime's published state (src/runtime/published.h) out
 * of a target that runs it: every thread's held locks (readers included) with each
 * acquisition's stack, and the lock each thread waits for. Found through the runtime
 * module's dynamic symbol `lg_runtime_state` (the Dwfl already knows where every module is
 * loaded, live or in a core) and read through the target's memory reader, so attach, core
 * and dump all get it the same way.
 *
 * Everything read is untrusted: a thread may have been stopped inside the runtime mid-update,
 * a core may be truncated. Every walk is bounded and an implausible value ends that record or
 * the whole state ("unknown"), never the analysis. Not here: what the report makes of it
 * (build.c).
 */
#include <stdlib.h>
#include <string.h>

#include <elfutils/libdwfl.h>

#include "internal.h"
#include "../runtime/published.h"
#include "../symbolize/symbolize.h"

enum {
    MAX_RT_THREADS = 1 << 16,   /* a registry walk longer than this is a broken list */
    MAX_RT_HELD = 1 << 12,      /* held locks per thread read */
    MAX_RT_HELD_ALL = 1 << 18,  /* held locks read in all: bounds memory on garbage */
    MAX_RT_FRAMES = 64,         /* the runtime captures at most 64 */
};

typedef struct find_ctx {
    uint64_t addr;
} find_ctx;

static int find_symbol(Dwfl_Module *m, void **userdata, const char *name, Dwarf_Addr base,
                       void *arg)
{
    (void)userdata;
    (void)base;
    find_ctx *c = arg;
    const char *slash = name ? strrchr(name, '/') : NULL;
    const char *b = slash ? slash + 1 : name;
    if (!b || strncmp(b, "liblockgraph", 12) != 0)
        return DWARF_CB_OK;
    int n = dwfl_module_getsymtab(m);
    for (int i = 0; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *s = dwfl_module_getsym_info(m, i, &sym, &addr, NULL, NULL, NULL);
        if (s && !strcmp(s, LG_PUB_SYMBOL) && GELF_ST_TYPE(sym.st_info) == STT_OBJECT) {
            c->addr = addr;
            return DWARF_CB_ABORT;
        }
    }
    return DWARF_CB_OK;
}

static bool rd(insp_target *tg, uint64_t addr, void *buf, size_t len)
{
    return addr && tg->read(tg->read_ctx, addr, buf, len) == 0;
}

static bool rd64(insp_target *tg, uint64_t addr, uint64_t *v)
{
    return rd(tg, addr, v, sizeof *v);
}

/* A field at `off` of width `w` inside a record read into `rec` of `size` bytes. */
static uint64_t field(const unsigned char *rec, size_t size, unsigned off, unsigned w)
{
    if (off + w > size)
        return 0;
    uint64_t v = 0;
    memcpy(&v, rec + off, w);   /* little-endian: the low bytes */
    return v;
}

/* Header sanity: every offset inside its record, records of a plausible size. */
static bool plausible(const lg_pub_state *s)
{
    if (s->thread_size == 0 || s->thread_size > 65536 || s->held_size == 0 ||
        s->held_size > 4096)
        return false;
    const unsigned th[] = {s->th_next + 8u, s->th_tid + 4u, s->th_name + 16u,
                           s->th_exited + 1u, s->th_held + 8u, s->th_depth + 4u,
                           s->th_wait_lock + 8u, s->th_wait_mode + 1u, s->th_wait_cond + 8u,
                           s->th_wait_flags + 1u, s->th_wait_join + 8u, s->th_wait_seq + 8u};
    const unsigned hd[] = {s->hd_addr + 8u, s->hd_mode + 1u, s->hd_count + 2u,
                           s->hd_stack + 4u, s->hd_pc + 8u};
    for (size_t i = 0; i < sizeof th / sizeof *th; i++)
        if (th[i] > s->thread_size)
            return false;
    for (size_t i = 0; i < sizeof hd / sizeof *hd; i++)
        if (hd[i] > s->held_size)
            return false;
    return true;
}

typedef struct stack_store {
    uint64_t starts, count, arena;
} stack_store;

/* Stack id -> PCs, or 0 frames when unknown. */
static size_t read_stack(insp_target *tg, const stack_store *ss, uint32_t id, uint64_t *pcs)
{
    uint64_t start;
    if (!id || id >= ss->count || !rd64(tg, ss->starts + (uint64_t)id * 8, &start))
        return 0;
    size_t n = start & 0xff;
    if (n > MAX_RT_FRAMES)
        n = MAX_RT_FRAMES;
    return n && rd(tg, ss->arena + (start >> 8) * 8, pcs, n * 8) ? n : 0;
}

/* The lock address a lock record (rt_lock) stands for, 0 none or unreadable. */
static uint64_t lock_addr(insp_target *tg, const lg_pub_state *s, uint64_t rec)
{
    uint64_t a = 0;
    return rec && rd64(tg, rec + s->lk_addr, &a) ? a : 0;
}

static int read_thread(insp_target *tg, const lg_pub_state *s, const stack_store *ss,
                       const unsigned char *rec, insp_rt_thread *out, size_t *budget)
{
    size_t sz = s->thread_size;
    out->tid = (int)(int32_t)field(rec, sz, s->th_tid, 4);
    memcpy(out->name, rec + s->th_name, sizeof out->name);
    out->name[sizeof out->name - 1] = '\0';
    out->exited = field(rec, sz, s->th_exited, 1) != 0;
    uint64_t wl = field(rec, sz, s->th_wait_lock, 8);
    out->wait_lock = lock_addr(tg, s, wl);
    uint8_t wt;
    out->wait_type = wl && s->size >= offsetof(lg_pub_state, lk_type) + sizeof s->lk_type
                     && rd(tg, wl + s->lk_type, &wt, 1) && wt < LG_LOCK_TYPE_COUNT ? wt : -1;
    out->wait_mode = field(rec, sz, s->th_wait_mode, 1) ? LG_MODE_SHARED : LG_MODE_EXCLUSIVE;
    out->cond_mutex = lock_addr(tg, s, field(rec, sz, s->th_wait_cond, 8));
    out->wait_timed = field(rec, sz, s->th_wait_flags, 1) & LG_PUB_WAIT_TIMED;
    uint64_t join = field(rec, sz, s->th_wait_join, 8);
    int32_t jtid = 0;
    if (join && rd(tg, join + s->th_tid, &jtid, sizeof jtid))
        out->join_tid = jtid;
    uint64_t held = field(rec, sz, s->th_held, 8);
    size_t depth = (size_t)field(rec, sz, s->th_depth, 4);
    if (depth > MAX_RT_HELD)
        depth = MAX_RT_HELD;
    if (depth > *budget)
        depth = *budget;
    if (!depth || !held)
        return 0;
    *budget -= depth;
    unsigned char *arr = malloc(depth * s->held_size);
    out->held = calloc(depth, sizeof *out->held);
    if (!arr || !out->held) {
        free(arr);
        return -1;
    }
    if (!rd(tg, held, arr, depth * s->held_size)) {
        free(arr);
        return 0;   /* unreadable: this thread's locks are unknown */
    }
    uint64_t pcs[MAX_RT_FRAMES];
    for (size_t i = 0; i < depth; i++) {
        const unsigned char *h = arr + i * s->held_size;
        insp_rt_held *o = &out->held[out->nheld];
        o->addr = field(h, s->held_size, s->hd_addr, 8);
        if (!o->addr)
            continue;
        o->mode = field(h, s->held_size, s->hd_mode, 1) ? LG_MODE_SHARED : LG_MODE_EXCLUSIVE;
        o->count = (unsigned)field(h, s->held_size, s->hd_count, 2);
        uint32_t sid = (uint32_t)field(h, s->held_size, s->hd_stack, 4);
        size_t n = read_stack(tg, ss, sid & ~LG_PUB_STACK_SHARED, pcs);
        o->shared = n > 1 && (sid & LG_PUB_STACK_SHARED);
        if (!n) {
            /* No stack stored: at least the call site. */
            pcs[0] = field(h, s->held_size, s->hd_pc, 8);
            n = pcs[0] ? 1 : 0;
        }
        if (n) {
            o->pcs = malloc(n * sizeof *pcs);
            if (!o->pcs) {
                free(arr);
                return -1;
            }
            memcpy(o->pcs, pcs, n * sizeof *pcs);
            o->npcs = n;
        }
        out->nheld++;
    }
    free(arr);
    return 0;
}

void rtstate_read(insp_target *tg)
{
    if (!tg->has_runtime || !tg->dwfl)
        return;
    find_ctx fc = {0};
    dwfl_getmodules(tg->dwfl, find_symbol, &fc, 0);
    rtstate_read_at(tg, fc.addr);
}

void rtstate_read_at(insp_target *tg, uint64_t at)
{
    lg_pub_state s;
    memset(&s, 0, sizeof s);
    if (!at || !rd(tg, at, &s, offsetof(lg_pub_state, version) + 8)) {
        insp_note(tg, "the target runs the lockgraph runtime (%s) but its published state "
                  "(%s) was not found: an older runtime", tg->runtime_path, LG_PUB_SYMBOL);
        return;
    }
    if (s.magic != LG_PUB_MAGIC) {
        insp_note(tg, "the lockgraph runtime in the target (%s) had not published its state "
                  "yet (it was still starting)", tg->runtime_path);
        return;
    }
    tg->rt_version = s.version;
    if (s.version != LG_PUB_VERSION || s.size < sizeof s) {
        insp_note(tg, "the lockgraph runtime in the target (%s) publishes state version %u, "
                  "this lockgraph reads version %u: not used", tg->runtime_path, s.version,
                  LG_PUB_VERSION);
        return;
    }
    if (!rd(tg, at, &s, sizeof s) || !plausible(&s)) {
        insp_note(tg, "the lockgraph runtime's published state in the target is unreadable "
                  "or inconsistent: not used");
        return;
    }
    stack_store ss = {0};
    uint64_t count = 0;
    if (!rd64(tg, s.stack_starts, &ss.starts) || !rd64(tg, s.stack_count, &count) ||
        !rd64(tg, s.stack_arena, &ss.arena))
        ss.count = 0;   /* no stacks: call sites only */
    else
        ss.count = count;
    uint64_t rec_addr = 0;
    if (!rd64(tg, s.registry, &rec_addr))
        return;
    unsigned char *rec = malloc(s.thread_size);
    if (!rec)
        return;
    size_t cap = 0, budget = MAX_RT_HELD_ALL;
    bool broken = false;
    /* Brent's cycle check: a list corrupted into a loop ends at its first repeat. */
    uint64_t mark = rec_addr;
    size_t power = 1, lam = 0;
    for (size_t k = 0; rec_addr && k < MAX_RT_THREADS; k++) {
        if (k && rec_addr == mark) {
            broken = true;
            break;
        }
        if (++lam == power) {
            mark = rec_addr;
            power *= 2;
            lam = 0;
        }
        if (!rd(tg, rec_addr, rec, s.thread_size)) {
            broken = true;
            break;
        }
        if (tg->nrtt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            insp_rt_thread *a = realloc(tg->rtt, nc * sizeof *a);
            if (!a)
                break;
            tg->rtt = a;
            cap = nc;
        }
        insp_rt_thread *t = &tg->rtt[tg->nrtt];
        memset(t, 0, sizeof *t);
        tg->nrtt++;
        if (read_thread(tg, &s, &ss, rec, t, &budget) < 0)
            break;
        rec_addr = field(rec, s.thread_size, s.th_next, 8);
    }
    free(rec);
    tg->rt_known = true;
    if (broken)
        insp_note(tg, "the lockgraph runtime's thread list was cut short (unreadable or "
                  "looping: a thread was stopped while updating it): %zu thread%s read",
                  tg->nrtt, tg->nrtt == 1 ? "" : "s");
}

int rtstate_symbolize(insp_target *tg)
{
    if (!tg->sym)
        return 0;
    for (size_t i = 0; i < tg->nrtt; i++)
        for (size_t j = 0; j < tg->rtt[i].nheld; j++) {
            insp_rt_held *h = &tg->rtt[i].held[j];
            /* Return addresses, the first one included (the call into pthread_*_lock). */
            if (h->shared) {
                /* the call site is this acquisition's; its callers the first one's */
                if (lg_symbolize(tg->sym, h->pcs, 1, false, &h->stack) < 0)
                    return -1;
                size_t own = h->stack.n;
                if (lg_symbolize(tg->sym, h->pcs + 1, h->npcs - 1, false, &h->stack) < 0)
                    return -1;
                lg_stack_share_from(&h->stack, own);
            } else if (h->npcs && lg_symbolize(tg->sym, h->pcs, h->npcs, false, &h->stack) < 0) {
                return -1;
            }
        }
    return 0;
}

void rtstate_free(insp_target *tg)
{
    for (size_t i = 0; i < tg->nrtt; i++) {
        for (size_t j = 0; j < tg->rtt[i].nheld; j++) {
            free(tg->rtt[i].held[j].pcs);
            lg_stack_free(&tg->rtt[i].held[j].stack);
        }
        free(tg->rtt[i].held);
    }
    free(tg->rtt);
    tg->rtt = NULL;
    tg->nrtt = 0;
}

const insp_rt_thread *rtstate_thread(const insp_target *tg, int tid)
{
    for (size_t i = 0; i < tg->nrtt; i++)
        if (tg->rtt[i].tid == tid)
            return &tg->rtt[i];
    return NULL;
}

const insp_rt_held *rtstate_held(const insp_target *tg, int tid, uint64_t lock)
{
    const insp_rt_thread *t = rtstate_thread(tg, tid);
    for (size_t j = 0; t && j < t->nheld; j++)
        if (t->held[j].addr == lock)
            return &t->held[j];
    return NULL;
}

/* ---- the progress probe's view (run --hang-timeout): no Dwfl, no stop ----
 * The runtime waits for a contended lock or a join in slices, waking every 200 ms to search
 * for a cycle, so the kernel counts context switches although nothing moves. The probe reads
 * each thread's recorded wait and its sequence number straight from the running target
 * (process_vm_readv: racy, bounded, only ever a hint for the trigger; the inspection that
 * follows stops the target and decides). */

#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* The runtime module of pid: its path and where it is loaded (the mapping at offset 0). */
static bool runtime_module(int pid, char *path, size_t len, uint64_t *base)
{
    char mp[64], line[4096 + 128];
    snprintf(mp, sizeof mp, "/proc/%d/maps", pid);
    FILE *f = fopen(mp, "re");
    if (!f)
        return false;
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long long start, off;
        char *p = strchr(line, '/');
        if (!p || sscanf(line, "%llx-%*x %*s %llx", &start, &off) != 2 || off != 0)
            continue;
        p[strcspn(p, "\n")] = '\0';
        const char *b = strrchr(p, '/') + 1;
        if (strncmp(b, "liblockgraph", 12) == 0) {
            snprintf(path, len, "%s", p);
            *base = start;
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* st_value of the published symbol in the file's dynamic symbol table, 0 when absent.
 * Cached per file (path, device, inode): the probe runs every few hundred ms. */
static uint64_t published_offset(const char *path)
{
    static char cpath[4096];
    static dev_t cdev;
    static ino_t cino;
    static uint64_t cval;
    struct stat st;
    if (stat(path, &st) < 0)
        return 0;
    if (cpath[0] && !strcmp(cpath, path) && st.st_dev == cdev && st.st_ino == cino)
        return cval;
    uint64_t val = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    for (Elf_Scn *scn = NULL; e && !val && (scn = elf_nextscn(e, scn)) != NULL;) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym sym;
            const char *n;
            if (gelf_getsym(d, (int)i, &sym) &&
                (n = elf_strptr(e, sh.sh_link, sym.st_name)) && !strcmp(n, LG_PUB_SYMBOL)) {
                val = sym.st_value;
                break;
            }
        }
    }
    if (e)
        elf_end(e);
    close(fd);
    snprintf(cpath, sizeof cpath, "%s", path);
    cdev = st.st_dev;
    cino = st.st_ino;
    cval = val;
    return val;
}

size_t rtstate_live_waits(int pid, insp_rt_wait *out, size_t max)
{
    char path[4096];
    uint64_t base, off;
    if (!runtime_module(pid, path, sizeof path, &base) || !(off = published_offset(path)))
        return 0;
    insp_target tg = {.pid = pid, .read = mem_read_live, .read_ctx = (void *)(intptr_t)pid};
    lg_pub_state s;
    if (!rd(&tg, base + off, &s, sizeof s) || s.magic != LG_PUB_MAGIC ||
        s.version != LG_PUB_VERSION || s.size < sizeof s || !plausible(&s))
        return 0;
    unsigned char *rec = malloc(s.thread_size);
    uint64_t at = 0;
    size_t n = 0;
    if (!rec || !rd64(&tg, s.registry, &at)) {
        free(rec);
        return 0;
    }
    for (size_t k = 0; at && k < MAX_RT_THREADS && n < max; k++) {
        if (!rd(&tg, at, rec, s.thread_size))
            break;
        uint64_t lock = field(rec, s.thread_size, s.th_wait_lock, 8);
        uint64_t join = field(rec, s.thread_size, s.th_wait_join, 8);
        if (lock || join) {
            out[n].tid = (int)(int32_t)field(rec, s.thread_size, s.th_tid, 4);
            out[n].seq = field(rec, s.thread_size, s.th_wait_seq, 8);
            n++;
        }
        at = field(rec, s.thread_size, s.th_next, 8);
    }
    free(rec);
    return n;
}
