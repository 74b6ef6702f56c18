/* report.c - findings of the runtime: built into the one model (src/model), rendered by the
 * shared writers (src/report), written with write(2) so the program's stdio locks are never
 * taken. One global lg_report accumulates every finding for the JSON file written at exit.
 *
 * Stacks are symbolized only here, when a finding is reported, with one in-process
 * symbolizer opened lazily. Lock names come from names.c. A lock-order cycle's facts are
 * gathered here and its finding built by src/analysis/findings-order.c; this file keeps the
 * grouping by code path (one report per path, the other lock sets counted).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>


#include "../analysis/findings-order.h"
#include "../analysis/u64map.h"
#include "../report/report.h"
#include "../symbolize/symbolize.h"
#include "../util/ownfd.h"
#include "../util/safefile.h"
#include "names.h"
#include "rt.h"

static lg_report report;
static lg_u64map paths;   /* code path of a reported cycle -> its finding's index (report_lock) */
static bool report_ready;
/* This thread holds report_lock (rt_report_begin/rt_report_lock): a note made meanwhile (from
 * an emit, a lock description, the lock budget) goes into the report without re-taking it. */
static __thread bool report_held;
static lg_symbolizer *symbolizer;
static bool symbolizer_failed;

/* Suppressions: "function:GLOB", "file:GLOB", "module:GLOB", one per line, # comments. */
typedef struct supp {
    int what;   /* 0 function, 1 file, 2 module */
    char *glob;
} supp;
static supp *supps;
static size_t nsupps;

void rt_write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void rt_report_lock(void)
{
    rt_flock_lock(&rt.report_lock);
    report_held = true;
}

void rt_report_unlock(void)
{
    report_held = false;
    rt_flock_unlock(&rt.report_lock);
}

lg_report *rt_report_begin(void)
{
    rt_report_lock();
    return rt_report_locked();
}

lg_report *rt_report_locked(void)
{
    if (!report_ready) {
        lg_report_init(&report);
        report.pid = rt_pid();   /* no system call at exit: a seccomp'd program */
        report_ready = true;
    }
    return &report;
}

/* One suppression line: "function:GLOB", "file:GLOB" or "module:GLOB"; false if malformed. */
static bool add_suppression(char *p)
{
    static const char *const kinds[] = {"function:", "file:", "module:"};
    int k = 0;
    while (k < 3 && strncmp(p, kinds[k], strlen(kinds[k])) != 0)
        k++;
    const char *glob = k < 3 ? p + strlen(kinds[k]) : NULL;
    if (!glob || !*glob)
        return false;
    supp *ns = realloc(supps, (nsupps + 1) * sizeof *ns);   /* the runtime's heap (heap.c) */
    if (!ns)
        return true;
    supps = ns;
    supps[nsupps].what = k;
    supps[nsupps].glob = strdup(glob);
    if (supps[nsupps].glob)
        nsupps++;
    return true;
}

typedef struct supp_reader {
    char line[1024];
    size_t len;
    bool toolong;
    unsigned lineno, bad, first_bad;
} supp_reader;

static void supp_line_end(supp_reader *r)
{
    r->line[r->len] = '\0';
    r->lineno++;
    char *p = r->line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p && *p != '#' && (r->toolong || !add_suppression(p)) && !r->bad++)
        r->first_bad = r->lineno;
    r->len = 0;
    r->toolong = false;
}

/* Loaded once at runtime init, not at the first finding: a problem with the file is known at
 * once, and its note is never made from inside an emit. One note names the file and the first
 * malformed line; the program goes on without those suppressions. Read with read(2), not
 * stdio: init may run inside the program's allocator (a FILE is malloc'd). */
static void load_suppressions(void)
{
    if (!rt.cfg.suppressions || !*rt.cfg.suppressions)
        return;
    /* A regular file only: a FIFO would block the program's start (safefile.h). */
    int fd;
    struct stat sb;
    int e = lg_safe_open_read(rt.cfg.suppressions, &fd, &sb);
    if (e) {
        rt_report_note("cannot open suppressions file '%s': %s; going on without suppressions",
                     rt.cfg.suppressions, lg_safe_strerror(e));
        return;
    }
    static supp_reader r;   /* once, at init: 1 KiB off the stack of whatever called us */
    char buf[1024];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (r.len)
                supp_line_end(&r);   /* a last line without a newline */
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n')
                supp_line_end(&r);
            else if (buf[i] == '\r')
                continue;
            else if (r.len + 1 < sizeof r.line)
                r.line[r.len++] = buf[i];
            else
                r.toolong = true;
        }
    }
    close(fd);
    if (r.bad)
        rt_report_note("suppressions file '%s' line %u: expected function:GLOB, file:GLOB or "
                     "module:GLOB; line ignored%s", rt.cfg.suppressions, r.first_bad,
                     r.bad > 1 ? " (and more malformed lines)" : "");
}

/* Processes: the runtime's first process in a tree (the one `lockgraph run` started, found
 * through LOCKGRAPH_ROOT_PID, which it adds for its descendants) writes the JSON to FILE; every
 * other one, forked or exec'd, to FILE.<pid>, so no process overwrites another's report. A
 * forked child's defects are counted in a page shared with the process that created it at
 * init, so that process says so at exit and ends with --exitcode too. */
typedef struct rt_shared {
    _Atomic unsigned long child_defects;
    _Atomic int child_pid;   /* the first child that found one */
} rt_shared;
static rt_shared *shared;
static pid_t init_pid, root_pid;

/* LOCKGRAPH_ROOT_PID=pid for the processes this one execs, without setenv (which reallocs
 * the environment with the program's allocator, and init may run inside it): a copy of
 * environ with the entry added, in our own memory. glibc's setenv copies an environ it did
 * not allocate, so a later setenv of the program keeps working. Init runs before the
 * program's threads (a constructor, or a call from one), so nothing reads environ meanwhile. */
static void mark_root(pid_t pid)
{
    extern char **environ;
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = rt_map((n + 2) * sizeof *env + 48);
    if (!env)
        return;   /* then exec'd children write FILE too: the report of the last one stays */
    char *entry = (char *)(env + n + 2);
    snprintf(entry, 48, "LOCKGRAPH_ROOT_PID=%d", (int)pid);
    if (n)
        memcpy(env, environ, n * sizeof *env);
    env[n] = entry;
    env[n + 1] = NULL;
    environ = env;
}

void rt_report_init(void)
{
    init_pid = getpid();
    const char *root = secure_getenv("LOCKGRAPH_ROOT_PID");
    root_pid = root && *root ? (pid_t)atoi(root) : init_pid;
    if (!root || !*root)
        mark_root(init_pid);
    void *p = mmap(NULL, sizeof(rt_shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    shared = p == MAP_FAILED ? NULL : p;
    load_suppressions();
    int gen, prior = rt_ending_prior_defects(&gen);
    if (prior > 0) {
        char path[PATH_MAX + 32] = "";
        if (rt.cfg.json && *rt.cfg.json) {
            snprintf(path, sizeof path, "%s", rt.cfg.json);
            if (init_pid != root_pid)
                snprintf(path + strlen(path), sizeof path - strlen(path), ".%d", (int)init_pid);
            if (gen > 1)
                snprintf(path + strlen(path), sizeof path - strlen(path), ".exec%d", gen - 1);
        }
        rt_report_note("%d defect%s found by this process before it exec'd this program%s%s",
                       prior, prior > 1 ? "s were" : " was", path[0] ? "; their JSON report: " : "",
                       path);
    }
}

static void count_child_defect(const lg_finding *f)
{
    if (!shared || !lg_kind_is_defect(f->kind) || getpid() == init_pid)
        return;
    int none = 0;
    atomic_compare_exchange_strong(&shared->child_pid, &none, (int)getpid());
    atomic_fetch_add(&shared->child_defects, 1);
}

/* The JSON file of process `pid` (see above). */
static void json_path_of(pid_t pid, char *buf, size_t len)
{
    if (pid == root_pid)
        snprintf(buf, len, "%s", rt.cfg.json);
    else
        snprintf(buf, len, "%s.%d", rt.cfg.json, (int)pid);
    /* An image exec'd after one that found defects (ending.c): beside that one's report. */
    int gen;
    if (pid == init_pid && rt_ending_prior_defects(&gen) > 0) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, ".exec%d", gen);
    }
}

int rt_report_child_defects(void)
{
    if (!shared || rt_pid() != init_pid)
        return 0;
    unsigned long n = atomic_load(&shared->child_defects);
    if (n) {
        int pid = atomic_load(&shared->child_pid);
        char path[PATH_MAX + 32] = "";
        if (rt.cfg.json && *rt.cfg.json)
            json_path_of(pid, path, sizeof path);
        rt_report_note("%lu defect%s found in forked child processes, first in pid %d%s%s", n,
                       n > 1 ? "s" : "", pid, path[0] ? "; its JSON report: " : "", path);
    }
    return (int)n > 0 ? (int)n : 0;
}

static bool frame_matches(const lg_frame *fr)
{
    for (size_t i = 0; i < nsupps; i++) {
        const char *s = supps[i].what == 0 ? fr->function : supps[i].what == 1 ? fr->file : fr->module;
        if (!s)
            continue;
        const char *base = strrchr(s, '/');
        if (fnmatch(supps[i].glob, s, 0) == 0 || (base && fnmatch(supps[i].glob, base + 1, 0) == 0))
            return true;
    }
    return false;
}

bool rt_report_suppressed(const lg_finding *f)
{
    if (!nsupps)
        return false;
    for (size_t i = 0; i < f->nedges; i++) {
        const lg_edge *e = &f->edges[i];
        for (size_t j = 0; j < e->stack.n; j++)
            if (frame_matches(&e->stack.frames[j]))
                return true;
        for (size_t j = 0; j < e->holds_stack.n; j++)
            if (frame_matches(&e->holds_stack.frames[j]))
                return true;
    }
    for (size_t i = 0; i < f->nsites; i++)   /* lock misuse: its call and the holders' */
        for (size_t j = 0; j < f->sites[i].stack.n; j++)
            if (frame_matches(&f->sites[i].stack.frames[j]))
                return true;
    return false;
}

static void emit(const char *s, size_t n)
{
    rt_out(s, n);   /* the runtime's own descriptor, checked (fds.c) */
}

void rt_report_end(lg_finding *f)
{
    rt_report_emit(f);
    rt_report_unlock();
}

void rt_report_emit(lg_finding *f)
{
    if (f && rt_report_suppressed(f)) {
        /* Drop it: it is the last finding added. */
        lg_report tmp;
        lg_report_init(&tmp);
        report.nfindings--;
        /* Free its contents through a temporary report that owns only it. */
        lg_finding copy = *f;
        tmp.findings = malloc(sizeof copy);
        if (tmp.findings) {
            *tmp.findings = copy;
            tmp.nfindings = 1;
            lg_report_free(&tmp);
        }
        f = NULL;
    }
    if (f) {
        atomic_fetch_add(&rt.counters[RT_C_FINDINGS], 1);
        count_child_defect(f);
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (m) {
            lg_text_options o = LG_TEXT_DEFAULTS;
            lg_write_finding_text(m, &report, f, &o);
            fclose(m);
            emit(buf, len);
            free(buf);
        }
    }
}

void rt_report_note(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (report_held) {
        lg_report_add_note(rt_report_locked(), "%s", line);
    } else {
        lg_report_add_note(rt_report_begin(), "%s", line);
        rt_report_unlock();
    }
    char out[600];
    int n = snprintf(out, sizeof out, "lockgraph: %s\n", line);
    emit(out, n > 0 && (size_t)n < sizeof out ? (size_t)n : strlen(out));
}

/* The public header's inline wrappers (lg_mutex_pre_lock ...) inlined at the top of a stack:
 * the program's own frame that called them is where it locks (and what a report's "at"
 * names), so they are left out. */
static void drop_header_frames(lg_stack *s)
{
    static const char hdr[] = "/lockgraph/lockgraph.h";
    size_t k = 0;
    while (k + 1 < s->n && s->frames[k].inlined && s->frames[k].file
           && strlen(s->frames[k].file) >= sizeof hdr - 1
           && !strcmp(s->frames[k].file + strlen(s->frames[k].file) - (sizeof hdr - 1), hdr))
        k++;
    if (!k)
        return;
    for (size_t i = 0; i < k; i++)
        lg_frame_free(&s->frames[i]);
    memmove(s->frames, s->frames + k, (s->n - k) * sizeof *s->frames);
    s->n -= k;
}

void rt_report_pcs(const uint64_t *pcs, size_t n, bool first_exact, lg_stack *out)
{
    if (!symbolizer && !symbolizer_failed) {
        char err[256];
        symbolizer = lg_symbolizer_open_pid(getpid(), err, sizeof err);
        symbolizer_failed = !symbolizer;
    }
    if (symbolizer && lg_symbolize(symbolizer, pcs, n, first_exact, out) == 0) {
        drop_header_frames(out);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        lg_frame *f = lg_stack_push(out);
        if (f)
            f->address = pcs[i];
    }
}

void rt_report_stack(uint32_t id, lg_stack *out)
{
    uint64_t pcs[64];
    size_t n = rt_stack_get(id, pcs, 64);
    if (n && rt_stack_shared(id) && n > 1) {
        rt_report_pcs(pcs, 1, false, out);   /* the call site: this acquisition's */
        size_t own = out->n;
        rt_report_pcs(pcs + 1, n - 1, false, out);
        lg_stack_share_from(out, own);
    } else if (n) {
        rt_report_pcs(pcs, n, false, out);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The code path of a cycle: the multiset of its edges' (holding site, acquiring site) stack
 * pairs, whatever the locks. 0 when a stack is missing: such a cycle is never grouped. */
static uint64_t path_key(const rt_cycle_edge *edges, size_t n, const lg_lo_class *cls)
{
    uint64_t one[8], *keys = n <= 8 ? one : malloc(n * sizeof *keys);
    if (!keys)
        return 0;
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++) {
        if (!edges[i].from_stack || !edges[i].to_stack)
            goto out;
        /* by the stacks, whether unwound or reused (RT_STACK_SHARED) */
        uint32_t from = edges[i].from_stack & ~RT_STACK_SHARED, to = edges[i].to_stack & ~RT_STACK_SHARED;
        keys[i] = lg_mix64(((uint64_t)from << 32 | to)
                           ^ (uint64_t)edges[i].bits << 24);
    }
    qsort(keys, n, sizeof *keys, cmp_u64);
    h = 0x51ed270b27a1f2c5ull ^ n ^ (cls->gated ? 0x8000 : 0) ^ (cls->same_thread ? 0x4000 : 0);
    for (size_t i = 0; i < n; i++)
        h = lg_mix64(h ^ keys[i]);
    h = h == UINT64_MAX ? 3 : h | 1;   /* 0 and UINT64_MAX are the map's own */
out:
    if (keys != one)
        free(keys);
    return h;
}

/* The facts of a cycle's locks (lg_order_lock_fact), named by names.c. */
typedef struct cycle_locks {
    lg_order_lock_fact *lk;
    char (*names)[160], (*attrs)[64], (*labels)[16];
} cycle_locks;

static void cycle_locks_free(cycle_locks *c)
{
    free(c->lk);
    free(c->names);
    free(c->attrs);
    free(c->labels);
}

/* label: the lock's report id, its node id (as deadlocks label it: one per process). */
static void lock_fact(uint32_t idx, lg_order_lock_fact *lf, char *name, size_t namelen,
                      char *attrs, size_t attrslen, char *label, size_t labellen)
{
    rt_lock *l = rt_lock_by_idx(idx);
    uintptr_t addr = l ? atomic_load(&l->addr) : 0;
    lg_lock_type type = l ? (lg_lock_type)l->type : LG_LOCK_MUTEX;
    rt_name_describe(addr, type, l ? atomic_load(&l->flags) : 0, name, namelen, attrs,
                     attrslen, false);
    if (label)
        snprintf(label, labellen, "L%u", idx + 1);
    *lf = (lg_order_lock_fact){.address = addr, .type = type, .name = name[0] ? name : NULL,
                               .attrs = attrs[0] ? attrs : NULL, .label = label};
}

static int cycle_locks_of(cycle_locks *c, const rt_cycle_edge *edges, size_t n)
{
    c->lk = calloc(n, sizeof *c->lk);
    c->names = calloc(n, sizeof *c->names);
    c->attrs = calloc(n, sizeof *c->attrs);
    c->labels = calloc(n, sizeof *c->labels);
    if (!c->lk || !c->names || !c->attrs || !c->labels)
        return -1;
    for (size_t i = 0; i < n; i++)
        lock_fact(edges[i].from, &c->lk[i], c->names[i], sizeof c->names[i], c->attrs[i],
                  sizeof c->attrs[i], c->labels[i], sizeof c->labels[i]);
    return 0;
}

/* A cycle at the code path of finding `f`: one more lock set for it, no new report. Under
 * report_lock. Past LG_LOCKSETS_KEPT sets only the count grows, so no lock is described. */
static void add_lockset(lg_finding *f, const rt_cycle_edge *edges, size_t n)
{
    if (f->nsets >= LG_LOCKSETS_KEPT) {
        f->sets_seen++;
        return;
    }
    cycle_locks c = {0};
    if (cycle_locks_of(&c, edges, n) == 0)
        lg_order_add_lockset(f, c.lk, n);
    else
        f->sets_seen++;
    cycle_locks_free(&c);
}

/* The modes of an edge from its LG_DEP_* bits: the holder's, and the acquirer's. */
static void edge_modes(const rt_cycle_edge *c, lg_mode *hm, lg_mode *am)
{
    *hm = (c->bits & LG_DEP_FROM_E) ? LG_MODE_EXCLUSIVE : LG_MODE_SHARED;
    /* N is a write or a non-recursive read (LG_DEP_N_READ): both block behind a queued
     * writer, only the write is exclusive. */
    *am = (c->bits & LG_DEP_TO_N) && !(c->bits & (LG_DEP_TO_R | LG_DEP_N_READ))
              ? LG_MODE_EXCLUSIVE : LG_MODE_SHARED;
    rt_lock *to = rt_lock_by_idx(c->to);
    if (to && to->type != LG_LOCK_RWLOCK)
        *am = LG_MODE_EXCLUSIVE;
}

/* The runtime gathers the cycle's facts (locks named, stacks symbolized, modes from the
 * edge bits, the gate); src/analysis/findings-order.c builds the finding. */
void rt_report_cycle(const rt_cycle_edge *edges, size_t n, const lg_lo_class *cls)
{
    lg_report *r = rt_report_begin();
    uint64_t pk = path_key(edges, n, cls), idx;
    if (pk && lg_u64map_get(&paths, pk, &idx) && idx < r->nfindings) {
        add_lockset(&r->findings[idx], edges, n);
        rt_report_unlock();
        return;
    }
    cycle_locks c = {0};
    lg_order_edge_fact *ef = calloc(n, sizeof *ef);
    lg_stack *stacks = calloc(2 * n, sizeof *stacks);
    lg_finding *f = NULL;
    if (cycle_locks_of(&c, edges, n) == 0 && ef && stacks) {
        for (size_t i = 0; i < n; i++) {
            const rt_cycle_edge *e = &edges[i];
            rt_report_stack(e->to_stack, &stacks[2 * i]);
            rt_report_stack(e->from_stack, &stacks[2 * i + 1]);
            ef[i] = (lg_order_edge_fact){
                .tid = e->tid, .thread_name = e->tname[0] ? e->tname : NULL,
                .flags = (e->flags & LG_LO_TIMED ? LG_ORDERF_TIMED : 0)
                         | (e->flags & LG_LO_COND ? LG_ORDERF_COND : 0),
                .stack = &stacks[2 * i], .holds_stack = &stacks[2 * i + 1]};
            edge_modes(e, &ef[i].holds_mode, &ef[i].acquires_mode);
        }
        lg_order_lock_fact gate;
        char gname[160], gattrs[64];
        if (cls->gated)
            lock_fact((uint32_t)((cls->gate - 1) & 0xffffffffu), &gate, gname, sizeof gname,
                      gattrs, sizeof gattrs, NULL, 0);
        lg_order_facts of = {.locks = c.lk, .edges = ef, .n = n,
                             .same_thread = cls->same_thread, .timed = cls->timed,
                             .gate = cls->gated ? &gate : NULL};
        f = lg_build_order_cycle(r, &of);
    }
    for (size_t i = 0; stacks && i < 2 * n; i++)
        lg_stack_free(&stacks[i]);
    free(stacks);
    free(ef);
    cycle_locks_free(&c);
    if (!f) {
        rt_report_end(NULL);
        return;
    }
    size_t at = r->nfindings - 1;
    rt_report_emit(f);
    if (pk && r->nfindings > at)   /* reported, not suppressed: its code path is known now */
        lg_u64map_put(&paths, pk, at);
    rt_report_unlock();
}

/* At exit: each finding whose code path made cycles on other lock sets says how many, once
 * (the first report was printed when its cycle closed; the JSON lists the others). */
void rt_report_paths_summary(void)
{
    lg_report *r = rt_report_begin();
    for (size_t i = 0; i < r->nfindings; i++) {
        const lg_finding *f = &r->findings[i];
        if (!f->sets_seen)
            continue;
        char m[1400];
        int k = snprintf(m, sizeof m, "lockgraph: the same code paths as \"%s\" made that cycle "
                         "on %zu more lock set%s (one report per code path%s)\n",
                         f->summary ? f->summary : lg_kind_name(f->kind), f->sets_seen,
                         f->sets_seen == 1 ? "" : "s",
                         rt.cfg.json && *rt.cfg.json ? "; the JSON report lists them" : "");
        if (k > 0)
            emit(m, (size_t)k < sizeof m ? (size_t)k : sizeof m - 1);
    }
    rt_report_unlock();
}

bool rt_report_has_content(void)
{
    lg_report *r = rt_report_begin();
    bool any = r->nfindings || r->nnotes;
    rt_report_unlock();
    return any;
}

int rt_report_defects(void)
{
    lg_report *r = rt_report_begin();
    int n = (int)lg_report_defects(r);
    rt_report_unlock();
    return n;
}

/* The JSON file is created when the process starts (rt_report_json_start: at init, and in a
 * forked child at fork), while it still has the credentials it started with: a program that
 * then switches user (a server dropping root, a test that runs as nobody) can no longer
 * create files where --json points, but keeps this descriptor. Until the process's end
 * replaces it, the file is a report that says nothing was checked because the process did
 * not reach its end (killed by SIGKILL, or ended in a way the runtime does not see), so a
 * merged report never takes a killed process for a clean one. */
static lg_ownfd json_own = {.fd = -1};

struct lg_ownfd *rt_report_json_ownfd(void)
{
    return &json_own;
}

void rt_report_json_start(void)
{
    if (json_own.fd >= 0) {   /* a forked child: the parent's file stays the parent's */
        close(json_own.fd);
        json_own.fd = -1;
    }
    if (!rt.cfg.json || !*rt.cfg.json)
        return;
    char path[PATH_MAX + 32];
    json_path_of(getpid(), path, sizeof path);
    int fd;
    if (lg_safe_create(path, LG_SAFE_REPORT, &fd) != 0)
        return;   /* the end tries again by its path, and says why if it cannot */
    /* No stdio here (init may run inside the program's allocator): one formatted write. */
    char buf[1024];
    int n = snprintf(buf, sizeof buf,
                     "{\"tool\": \"lockgraph\", \"version\": \"%s\", \"format\": %d,\n"
                     " \"command\": [], \"pid\": %d, \"defects\": 0,\n"
                     " \"checked\": false, \"unchecked_reason\": \"process %d did not reach its "
                     "end while lockgraph watched it (killed by SIGKILL, or ended in a way the "
                     "runtime cannot see): its findings, if any, are lost\",\n"
                     " \"findings\": [],\n \"threads\": [],\n \"notes\": []}\n",
                     LG_VERSION, LG_JSON_FORMAT, (int)getpid(), (int)getpid());
    if (n > 0 && (size_t)n < sizeof buf)
        rt_write_all(fd, buf, (size_t)n);
    if (lg_ownfd_take(fd, true, &json_own) != 0)
        close(fd);
}

/* An exec with nothing to report: the next image (the same pid) makes its own file if it
 * loads the runtime; if it does not, no placeholder may claim it "did not reach its end". */
void rt_report_json_forget(void)
{
    if (json_own.fd < 0)
        return;
    char path[PATH_MAX + 32];
    struct stat st;
    json_path_of(getpid(), path, sizeof path);
    if (lg_ownfd_same(&json_own) && lstat(path, &st) == 0 && st.st_dev == json_own.dev
        && st.st_ino == json_own.ino)
        unlink(path);
    close(json_own.fd);
    json_own.fd = -1;
}

/* The report at exit: a file that cannot be written gets one message (on stderr or --log),
 * never silence. Not a note: the report is being written. */
static void write_json_to(lg_report *r, const char *path)
{
    int fd = -1, err = 0;
    FILE *f = NULL;
    /* The file made at the start, when it is still that file and still this process's. */
    if (json_own.fd >= 0 && lg_ownfd_same(&json_own) && ftruncate(json_own.fd, 0) == 0
        && lseek(json_own.fd, 0, SEEK_SET) == 0 && (fd = dup(json_own.fd)) >= 0) {
        if (!(f = fdopen(fd, "w"))) {
            close(fd);
            fd = -1;
        }
    }
    /* Else never through a symlink nor into an existing file (another user's FILE.<pid>
     * planted in /tmp gets nothing): a new file, renamed over it (safefile.h). */
    if (!f) {
        err = lg_safe_create(path, LG_SAFE_REPORT, &fd);
        if (!err && !(f = fdopen(fd, "w"))) {
            err = errno;
            close(fd);
        }
    }
    if (f) {
        lg_write_json(f, r, LG_VERSION);
        if (ferror(f))
            err = errno ? errno : EIO;
        if (fclose(f) != 0 && !err)
            err = errno;
    }
    if (err) {
        char m[600];
        int n = snprintf(m, sizeof m, "lockgraph: cannot write JSON report '%s': %s\n", path,
                         lg_safe_strerror(err));
        if (n > 0)
            emit(m, (size_t)n < sizeof m ? (size_t)n : sizeof m - 1);
    }
}

void rt_report_write_json(void)
{
    rt_report_tell_defects();
    if (!rt.cfg.json || !*rt.cfg.json)
        return;
    lg_report *r = rt_report_begin();
    static bool lost_noted;
    if (rt_out_lost() && !lost_noted) {
        lost_noted = true;
        lg_report_add_note(r, "the program closed or replaced the descriptor lockgraph's reports "
                           "went to (its stderr or --log file at start): some reports are only "
                           "in this file");
    }
    if (!r->ncommand) {
        char buf[4096];
        int fd = open("/proc/self/cmdline", 0);
        if (fd >= 0) {
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n > 0) {
                buf[n] = '\0';
                char *argv[64];
                int argc = 0;
                for (char *p = buf; p < buf + n && argc < 64; p += strlen(p) + 1)
                    argv[argc++] = p;
                lg_report_set_command(r, argc, argv);
            }
        }
    }
    char path[PATH_MAX + 32];
    json_path_of(getpid(), path, sizeof path);
    write_json_to(r, path);
    rt_report_unlock();
}

/* The launcher learns this process image's defects through the handshake, so `run` does
 * not exit 0 when a process the program ran found one and the program ignored its status
 * (a shell script, a test harness). Every ending calls it; the last count stands. */
void rt_report_tell_defects(void)
{
    int n = rt_report_defects() + rt_ending_prior_defects(&(int){0});
    if (n > 0)
        rt_handshake_defects(n);
}
