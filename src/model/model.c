/* model.c - building and freeing the report model (model.h).
 *
 * Ownership is simple on purpose: every string and array hangs off the lg_report and is
 * released by lg_report_free(). No reference counting, no sharing between findings.
 */
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/xalloc.h"

static const struct {
    const char *name;
    bool defect;
} kinds[LG_KIND_COUNT] = {
    [LG_KIND_INVERSION]   = {"lock-order-inversion", true},
    [LG_KIND_DEADLOCK]    = {"deadlock", true},
    [LG_KIND_ORPHANED]    = {"orphaned-lock", true},
    [LG_KIND_GATED_CYCLE] = {"gated-cycle", false},
    [LG_KIND_LONG_WAIT]   = {"long-wait", false},
    [LG_KIND_HANG]        = {"no-progress", false},
    [LG_KIND_NOTE]        = {"note", false},
    [LG_KIND_MISUSE]      = {"lock-misuse", true},
};

static const struct {
    const char *name, *why;
} misuses[LG_MISUSE_COUNT] = {
    [LG_MISUSE_NONE] = {"", ""},
    [LG_MISUSE_UNLOCK_NOT_HELD] = {"unlock-not-held",
        "unlocking a lock that no thread holds is undefined: a normal mutex or an rwlock is "
        "left corrupted (a later lock may pass a thread in or hang it); owner-checking mutexes "
        "answer EPERM"},
    [LG_MISUSE_UNLOCK_NOT_OWNER] = {"unlock-not-owner",
        "only the thread that holds a lock may unlock it: the holder goes on as if it held it, "
        "so what it protects is unprotected; owner-checking mutexes answer EPERM"},
    [LG_MISUSE_DESTROY_HELD] = {"destroy-held",
        "destroying a lock that a thread holds is undefined: its holder will unlock freed or "
        "reused memory; glibc refuses a locked non-robust mutex with EBUSY"},
    [LG_MISUSE_USE_AFTER_DESTROY] = {"use-after-destroy",
        "a destroyed lock must be initialised again before use: glibc answers EINVAL for a "
        "destroyed mutex, and an rwlock or spinlock may be memory reused for something else"},
    [LG_MISUSE_REINIT_LIVE] = {"reinit-live",
        "initialising a lock that a thread holds resets it under its holder: another thread "
        "can take it at once, and the holder's unlock then releases someone else's lock"},
    [LG_MISUSE_RELOCK_REFUSED] = {"relock-refused",
        "the thread already holds this lock and it does not nest: glibc refuses the call with "
        "EDEADLK instead of deadlocking, and a caller that goes on as if it locked it unlocks "
        "it too early"},
    [LG_MISUSE_EXIT_HOLDING] = {"exit-holding",
        "a thread ended holding locks: no thread can unlock them now, and every thread that "
        "takes one of them waits forever"},
    [LG_MISUSE_COND_NOT_HELD] = {"cond-mutex-not-held",
        "a condition wait must be called with its mutex held by the caller: otherwise a wake-up "
        "can be lost between the check and the wait, and a normal mutex is unlocked for "
        "another thread"},
    [LG_MISUSE_COND_TWO_MUTEXES] = {"cond-two-mutexes",
        "concurrent waits on one condition variable must use the same mutex (POSIX: "
        "undefined); a signaller holding one of them does not exclude the other waiters"},
    [LG_MISUSE_INVALID_LOCK] = {"invalid-lock",
        "glibc refused the call with EINVAL: the memory at the lock's address holds no "
        "initialised lock (never initialised, overwritten, or not a lock at all), so nothing "
        "the caller meant it to protect is protected by it"},
};

static const char *const site_roles[LG_SITE_ROLE_COUNT] = {
    [LG_SITE_MISUSE] = "misuse", [LG_SITE_ACQUIRED] = "acquired",
    [LG_SITE_DESTROYED] = "destroyed", [LG_SITE_OTHER_WAIT] = "other-wait",
    [LG_SITE_FREED] = "freed",
};

const char *lg_misuse_name(lg_misuse m)
{
    return (unsigned)m < LG_MISUSE_COUNT ? misuses[m].name : "unknown";
}

const char *lg_misuse_why(lg_misuse m)
{
    return (unsigned)m < LG_MISUSE_COUNT ? misuses[m].why : "";
}

int lg_misuse_from_name(const char *name)
{
    for (int i = 1; name && i < LG_MISUSE_COUNT; i++)
        if (strcmp(misuses[i].name, name) == 0)
            return i;
    return -1;
}

const char *lg_site_role_name(lg_site_role r)
{
    return (unsigned)r < LG_SITE_ROLE_COUNT ? site_roles[r] : "unknown";
}

int lg_site_role_from_name(const char *name)
{
    for (int i = 0; name && i < LG_SITE_ROLE_COUNT; i++)
        if (strcmp(site_roles[i], name) == 0)
            return i;
    return -1;
}

static const char *const lock_types[LG_LOCK_TYPE_COUNT] = {
    [LG_LOCK_MUTEX] = "mutex",         [LG_LOCK_RWLOCK] = "rwlock",
    [LG_LOCK_SPINLOCK] = "spinlock",   [LG_LOCK_SEMAPHORE] = "semaphore",
    [LG_LOCK_CONDVAR] = "condvar",     [LG_LOCK_THREAD] = "thread",
    [LG_LOCK_BARRIER] = "barrier",     [LG_LOCK_FUTEX] = "futex",
    [LG_LOCK_STDIO] = "FILE",          [LG_LOCK_CUSTOM] = "custom",
};

static const char *const modes[LG_MODE_COUNT] = {
    [LG_MODE_EXCLUSIVE] = "exclusive", [LG_MODE_SHARED] = "shared",
};

const char *lg_kind_name(lg_kind k)
{
    return (unsigned)k < LG_KIND_COUNT ? kinds[k].name : "unknown";
}

bool lg_kind_is_defect(lg_kind k)
{
    return (unsigned)k < LG_KIND_COUNT && kinds[k].defect;
}

const char *lg_lock_type_name(lg_lock_type t)
{
    return (unsigned)t < LG_LOCK_TYPE_COUNT ? lock_types[t] : "unknown";
}

const char *lg_mode_name(lg_mode m)
{
    return (unsigned)m < LG_MODE_COUNT ? modes[m] : "unknown";
}

const char *lg_acquire_verb(lg_lock_type t, lg_mode m)
{
    switch (t) {
    case LG_LOCK_RWLOCK:
        return m == LG_MODE_SHARED ? "read-lock" : "write-lock";
    case LG_LOCK_SEMAPHORE:
    case LG_LOCK_CONDVAR:
    case LG_LOCK_BARRIER:
    case LG_LOCK_FUTEX:
        return "wait on";
    case LG_LOCK_THREAD:
        return "join";
    default:
        return "lock";
    }
}

int lg_kind_from_name(const char *name)
{
    for (int i = 0; i < LG_KIND_COUNT; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return i;
    return -1;
}

int lg_lock_type_from_name(const char *name)
{
    for (int i = 0; i < LG_LOCK_TYPE_COUNT; i++)
        if (strcmp(lock_types[i], name) == 0)
            return i;
    return -1;
}

/* ---- frames and stacks ---- */

void lg_frame_free(lg_frame *f)
{
    free(f->module);
    free(f->function);
    free(f->file);
    memset(f, 0, sizeof *f);
}

int lg_frame_set(lg_frame *f, uint64_t address, const char *module, uint64_t module_offset,
                 const char *function, uint64_t function_offset, const char *file, int line)
{
    lg_frame n = {
        .address = address, .module = lg_strdup(module), .module_offset = module_offset,
        .function = lg_strdup(function), .function_offset = function_offset,
        .file = lg_strdup(file), .line = line, .inlined = f->inlined, .shared = f->shared,
    };
    if ((module && !n.module) || (function && !n.function) || (file && !n.file)) {
        lg_frame_free(&n);
        return -1;
    }
    lg_frame_free(f);
    *f = n;
    return 0;
}

lg_frame *lg_stack_push(lg_stack *s)
{
    lg_frame zero = {0};
    if (LG_APPEND(s->frames, s->n, &zero) < 0)
        return NULL;
    return &s->frames[s->n - 1];
}

void lg_stack_share_from(lg_stack *s, size_t from)
{
    for (size_t i = from; i < s->n; i++)
        s->frames[i].shared = true;
}

void lg_stack_free(lg_stack *s)
{
    for (size_t i = 0; i < s->n; i++)
        lg_frame_free(&s->frames[i]);
    free(s->frames);
    s->frames = NULL;
    s->n = 0;
}

/* Source files of the system rather than the program: installed headers (C++'s <mutex> is
 * inlined everywhere) and glibc's own sources, whose debug info names them relatively
 * ("./nptl/...", "../sysdeps/..."). */
bool lg_source_is_system(const char *file)
{
    static const char *const prefixes[] = {"/usr/include/", "/usr/lib/", "/usr/lib64/",
                                           "./", "../"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(file, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

const lg_frame *lg_stack_best_frame(const lg_stack *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->frames[i].file && s->frames[i].line > 0 && !lg_source_is_system(s->frames[i].file))
            return &s->frames[i];
    for (size_t i = 0; i < s->n; i++)
        if (s->frames[i].file && s->frames[i].line > 0)
            return &s->frames[i];
    return NULL;
}

void lg_stack_where(const lg_stack *s, char *buf, size_t len)
{
    const lg_frame *best = lg_stack_best_frame(s);
    if (best) {
        const char *base = strrchr(best->file, '/');
        snprintf(buf, len, "%s:%d", base ? base + 1 : best->file, best->line);
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->frames[i].function) {
            snprintf(buf, len, "%s()", s->frames[i].function);
            return;
        }
    }
    snprintf(buf, len, "an unknown place");
}

int lg_stack_copy(lg_stack *dst, const lg_stack *src)
{
    lg_stack n = {0};
    for (size_t i = 0; i < src->n; i++) {
        const lg_frame *f = &src->frames[i];
        lg_frame *d = lg_stack_push(&n);
        if (!d)
            goto err;
        d->inlined = f->inlined;
        d->shared = f->shared;
        if (lg_frame_set(d, f->address, f->module, f->module_offset, f->function,
                         f->function_offset, f->file, f->line) < 0)
            goto err;
    }
    lg_stack_free(dst);
    *dst = n;
    return 0;
err:
    lg_stack_free(&n);
    return -1;
}

/* ---- threads ---- */

static void thread_free(lg_thread *t)
{
    free(t->name);
    free(t->state);
    free(t->wait);
    lg_stack_free(&t->stack);
    lg_stack_free(&t->created);
}

int lg_thread_set(lg_thread *t, const char *state, const char *wait)
{
    char *s = lg_strdup(state), *w = lg_strdup(wait);
    if ((state && !s) || (wait && !w)) {
        free(s);
        free(w);
        return -1;
    }
    free(t->state);
    free(t->wait);
    t->state = s;
    t->wait = w;
    return 0;
}

static lg_thread *threads_add(lg_thread **arr, size_t *n, int tid, const char *name)
{
    for (size_t i = 0; i < *n; i++) {
        if ((*arr)[i].tid == tid) {
            if (name && !(*arr)[i].name)
                (*arr)[i].name = lg_strdup(name);
            return &(*arr)[i];
        }
    }
    lg_thread t = {.tid = tid, .name = lg_strdup(name)};
    if ((name && !t.name) || LG_APPEND(*arr, *n, &t) < 0) {
        free(t.name);
        return NULL;
    }
    return &(*arr)[*n - 1];
}

/* ---- findings ---- */

static void notes_free(char **notes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(notes[i]);
    free(notes);
}

static int notes_add(char ***notes, size_t *n, const char *fmt, va_list ap)
{
    char *s = lg_vasprintf(fmt, ap);
    if (!s || LG_APPEND(*notes, *n, &s) < 0) {
        free(s);
        return -1;
    }
    return 0;
}

static void finding_free(lg_finding *f)
{
    free(f->summary);
    free(f->fix);
    for (size_t i = 0; i < f->nlocks; i++) {
        free(f->locks[i].name);
        free(f->locks[i].attrs);
    }
    free(f->locks);
    for (size_t i = 0; i < f->nthreads; i++)
        thread_free(&f->threads[i]);
    free(f->threads);
    for (size_t i = 0; i < f->nedges; i++) {
        lg_stack_free(&f->edges[i].holds_stack);
        lg_stack_free(&f->edges[i].stack);
    }
    free(f->edges);
    notes_free(f->notes, f->nnotes);
    for (size_t i = 0; i < f->nsets; i++)
        notes_free(f->sets[i].locks, f->sets[i].n);
    free(f->sets);
    for (size_t i = 0; i < f->nsites; i++)
        lg_stack_free(&f->sites[i].stack);
    free(f->sites);
    free(f->refused);
}

static int set_string(char **dst, const char *fmt, va_list ap)
{
    char *s = lg_vasprintf(fmt, ap);
    if (!s)
        return -1;
    free(*dst);
    *dst = s;
    return 0;
}

int lg_finding_set_summary(lg_finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = set_string(&f->summary, fmt, ap);
    va_end(ap);
    return rc;
}

int lg_finding_set_fix(lg_finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = set_string(&f->fix, fmt, ap);
    va_end(ap);
    return rc;
}

int lg_finding_add_note(lg_finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = notes_add(&f->notes, &f->nnotes, fmt, ap);
    va_end(ap);
    return rc;
}

int lg_finding_add_lockset(lg_finding *f, const char *const *labels, size_t n)
{
    f->sets_seen++;
    if (f->nsets >= LG_LOCKSETS_KEPT)
        return 0;
    lg_lockset set = {calloc(n ? n : 1, sizeof(char *)), 0};
    if (!set.locks)
        return -1;
    for (; set.n < n; set.n++)
        if (!(set.locks[set.n] = strdup(labels[set.n]))) {
            notes_free(set.locks, set.n);
            return -1;
        }
    if (LG_APPEND(f->sets, f->nsets, &set) < 0) {
        notes_free(set.locks, set.n);
        return -1;
    }
    return 0;
}

int lg_finding_find_lock(const lg_finding *f, uint64_t address)
{
    for (size_t i = 0; i < f->nlocks; i++)
        if (f->locks[i].address == address)
            return (int)i;
    return -1;
}

static int locks_add(lg_lock **locks, size_t *n, uint64_t address, lg_lock_type type,
                     const char *name, const char *attrs)
{
    for (size_t i = 0; i < *n; i++)
        if ((*locks)[i].address == address)
            return (int)i;
    lg_lock l = {.address = address, .type = type,
                 .name = lg_strdup(name), .attrs = lg_strdup(attrs)};
    snprintf(l.id, sizeof l.id, "L%zu", *n + 1);
    if ((name && !l.name) || (attrs && !l.attrs) || LG_APPEND(*locks, *n, &l) < 0) {
        free(l.name);
        free(l.attrs);
        return -1;
    }
    return (int)*n - 1;
}

int lg_finding_add_lock(lg_finding *f, uint64_t address, lg_lock_type type, const char *name,
                        const char *attrs)
{
    return locks_add(&f->locks, &f->nlocks, address, type, name, attrs);
}

int lg_report_add_lock(lg_report *r, uint64_t address, lg_lock_type type, const char *name,
                       const char *attrs)
{
    return locks_add(&r->locks, &r->nlocks, address, type, name, attrs);
}

int lg_report_set_unchecked(lg_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = set_string(&r->unchecked, fmt, ap);
    va_end(ap);
    return rc;
}

int lg_report_set_verdict(lg_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = set_string(&r->verdict, fmt, ap);
    va_end(ap);
    return rc;
}

lg_thread *lg_finding_add_thread(lg_finding *f, int tid, const char *name)
{
    return threads_add(&f->threads, &f->nthreads, tid, name);
}

lg_edge *lg_finding_add_edge(lg_finding *f, int tid, int holds, lg_mode holds_mode,
                             int acquires, lg_mode acquires_mode, unsigned flags)
{
    lg_edge e = {.thread = tid, .holds = holds, .holds_mode = holds_mode,
                 .acquires = acquires, .acquires_mode = acquires_mode, .flags = flags};
    if (LG_APPEND(f->edges, f->nedges, &e) < 0)
        return NULL;
    return &f->edges[f->nedges - 1];
}

lg_site *lg_finding_add_site(lg_finding *f, lg_site_role role, int tid, int lock, lg_mode mode)
{
    lg_site s = {.role = role, .thread = tid, .lock = lock, .mode = mode};
    if (LG_APPEND(f->sites, f->nsites, &s) < 0)
        return NULL;
    return &f->sites[f->nsites - 1];
}

int lg_finding_set_refused(lg_finding *f, const char *errname)
{
    char *s = lg_strdup(errname);
    if (errname && !s)
        return -1;
    free(f->refused);
    f->refused = s;
    return 0;
}

/* ---- reports ---- */

void lg_report_init(lg_report *r)
{
    memset(r, 0, sizeof *r);
}

void lg_report_free(lg_report *r)
{
    notes_free(r->command, r->ncommand);
    for (size_t i = 0; i < r->nfindings; i++)
        finding_free(&r->findings[i]);
    free(r->findings);
    for (size_t i = 0; i < r->nthreads; i++)
        thread_free(&r->threads[i]);
    free(r->threads);
    notes_free(r->notes, r->nnotes);
    free(r->verdict);
    free(r->unchecked);
    for (size_t i = 0; i < r->nlocks; i++) {
        free(r->locks[i].name);
        free(r->locks[i].attrs);
    }
    free(r->locks);
    memset(r, 0, sizeof *r);
}

int lg_report_set_command(lg_report *r, int argc, char *const argv[])
{
    notes_free(r->command, r->ncommand);
    r->command = NULL;
    r->ncommand = 0;
    for (int i = 0; i < argc; i++) {
        char *s = strdup(argv[i]);
        if (!s || LG_APPEND(r->command, r->ncommand, &s) < 0) {
            free(s);
            return -1;
        }
    }
    return 0;
}

lg_finding *lg_report_add_finding(lg_report *r, lg_kind kind)
{
    lg_finding f = {.kind = kind};
    if (LG_APPEND(r->findings, r->nfindings, &f) < 0)
        return NULL;
    return &r->findings[r->nfindings - 1];
}

lg_thread *lg_report_add_thread(lg_report *r, int tid, const char *name)
{
    return threads_add(&r->threads, &r->nthreads, tid, name);
}

int lg_report_add_note(lg_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = notes_add(&r->notes, &r->nnotes, fmt, ap);
    va_end(ap);
    return rc;
}

size_t lg_report_defects(const lg_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += lg_kind_is_defect(r->findings[i].kind);
    return n;
}
