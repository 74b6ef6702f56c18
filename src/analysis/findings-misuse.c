/* findings-misuse.c - lock-misuse findings from neutral facts (findings-misuse.h): every
 * word of a misuse finding is chosen here; the runtime only decides and gathers.
 */
#include "findings-misuse.h"
#include "findings-internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *name_of(const lg_finding *f, int li)
{
    return li >= 0 && f->locks[li].name ? f->locks[li].name : "it";
}

/* invalid-lock: the call's memory holds no lock glibc knows; the kind word read is the
 * evidence, said in a note. */
static int describe_invalid(lg_finding *f, const lg_misuse_facts *mf, int li, int tid,
                            const char *typename, const char *n, const char *w)
{
    int rc = 0;
    unsigned long long addr = li >= 0 ? (unsigned long long)f->locks[li].address : 0;
    char where[40];
    snprintf(where, sizeof where, "0x%llx", addr);
    /* A lock named by its address ("heap 0x...") is not given it twice. */
    if (strstr(n, where))
        rc |= lg_finding_set_summary(f, "thread %d uses %s %s at %s: its memory holds no "
                                     "initialised %s", tid, typename, n, w, typename);
    else
        rc |= lg_finding_set_summary(f, "thread %d uses %s %s at %s: the memory at %s holds "
                                     "no initialised %s", tid, typename, n, w, where, typename);
    rc |= lg_finding_set_fix(f, "initialise %s before its first use (a mutex: "
                             "pthread_mutex_init, mtx_init or PTHREAD_MUTEX_INITIALIZER), and "
                             "check that the pointer passed is the lock's: a stale, miscast or "
                             "offset pointer, or memory overwritten since the init, looks the "
                             "same to glibc", n);
    if (mf->has_kind)
        rc |= lg_finding_add_note(f, "its kind word (__kind) holds 0x%x, no kind that "
                                  "pthread_mutex_init, mtx_init or a static initialiser writes "
                                  "(a type 0-3 with the robust, priority-inherit or -protect, "
                                  "process-shared and elision bits), so glibc refuses every "
                                  "lock, trylock and unlock of it%s", mf->kind,
                                  mf->kind == 0xffffffffu ? " (0xffffffff is also what "
                                  "pthread_mutex_destroy leaves behind)" : "");
    return rc;
}

/* The summary and the fix, from the finding's sites (the call's first, then the others). */
static int describe(lg_finding *f, const lg_misuse_facts *mf, int li, const char *cond_name)
{
    char w[256] = "", hw[256] = "";
    const lg_site *ms = NULL, *hs = NULL;
    for (size_t i = 0; i < f->nsites; i++) {
        bool call = f->sites[i].role == LG_SITE_MISUSE || f->sites[i].role == LG_SITE_FREED;
        if (call && !ms)
            ms = &f->sites[i];
        else if (!call && !hs)
            hs = &f->sites[i];
    }
    if (ms)
        lg_stack_where(&ms->stack, w, sizeof w);
    if (hs)
        lg_stack_where(&hs->stack, hw, sizeof hw);
    const char *n = name_of(f, li);
    const char *typename = li >= 0 ? lg_lock_type_name(f->locks[li].type) : "lock";
    const lg_misuse_site_fact *h = mf->nsites ? &mf->sites[0] : NULL;
    int tid = ms ? ms->thread : h ? h->tid : 0;
    char holder[96] = "";
    if (h && h->tid == tid)
        snprintf(holder, sizeof holder, "the thread itself");
    else if (h)
        snprintf(holder, sizeof holder, "thread %d%s%s%s", h->tid, h->thread_name ? " \"" : "",
                 h->thread_name ? h->thread_name : "", h->thread_name ? "\"" : "");
    int rc = 0;
    switch (mf->what) {
    case LG_MISUSE_UNLOCK_NOT_HELD:
        rc |= lg_finding_set_summary(f, "thread %d unlocks %s %s at %s, which no thread holds",
                                     tid, typename, n, w);
        rc |= lg_finding_set_fix(f, "unlock %s only after locking it, once per lock: look for "
                                 "a second unlock on this path, or an unlock on a path that "
                                 "did not lock", n);
        /* A normal mutex's unlock does not check its owner: glibc did it. */
        if (!mf->refused && li >= 0 && f->locks[li].type == LG_LOCK_MUTEX)
            rc |= lg_finding_add_note(f, "glibc unlocked it anyway: a normal mutex does not "
                                      "check its owner, so the next unlock or lock finds it in "
                                      "a state no thread made");
        break;
    case LG_MISUSE_UNLOCK_NOT_OWNER:
        rc |= lg_finding_set_summary(f, "thread %d unlocks %s %s at %s, which %s holds (locked "
                                     "at %s)", tid, typename, n, w, holder, hw);
        rc |= lg_finding_set_fix(f, "let the thread that locks %s unlock it; to hand work or a "
                                 "resource between threads use a semaphore or a condition "
                                 "variable, not a lock held across threads", n);
        break;
    case LG_MISUSE_DESTROY_HELD:
        if (mf->freed) {
            rc |= lg_finding_set_summary(f, "thread %d frees the memory of %s %s at %s while %s "
                                         "holds it (locked at %s)", tid, typename, n, w, holder,
                                         hw);
            rc |= lg_finding_set_fix(f, "unlock %s and destroy it before freeing the memory "
                                     "that holds it, and free it only when no thread can use "
                                     "it any more (after joining them)", n);
            rc |= lg_finding_add_note(f, "free() asks nothing of glibc: the lock's memory is "
                                      "gone with the lock still taken, and its holder's unlock "
                                      "(or a waiter's lock) then writes into freed, maybe "
                                      "reused, memory");
            break;
        }
        rc |= lg_finding_set_summary(f, "thread %d destroys %s %s at %s while %s holds it "
                                     "(locked at %s)", tid, typename, n, w, holder, hw);
        rc |= lg_finding_set_fix(f, "unlock %s before destroying it, and destroy it only when "
                                 "no thread can use it any more (after joining them)", n);
        break;
    case LG_MISUSE_USE_AFTER_DESTROY:
        rc |= lg_finding_set_summary(f, "thread %d uses %s %s at %s, destroyed at %s and not "
                                     "initialised since", tid, typename, n, w, hw);
        rc |= lg_finding_set_fix(f, "initialise %s again (pthread_*_init) before using it after "
                                 "a destroy, or destroy it only after its last use", n);
        break;
    case LG_MISUSE_REINIT_LIVE:
        rc |= lg_finding_set_summary(f, "thread %d initialises %s %s at %s while %s holds it "
                                     "(locked at %s)", tid, typename, n, w, holder, hw);
        rc |= lg_finding_set_fix(f, "initialise %s once, before any thread uses it; to reset "
                                 "it, destroy it first, when no thread holds it", n);
        break;
    case LG_MISUSE_RELOCK_REFUSED:
        rc |= lg_finding_set_summary(f, "thread %d locks %s %s again at %s while holding it "
                                     "(locked at %s)", tid, typename, n, w, hw);
        rc |= lg_finding_set_fix(f, "do not lock %s again while holding it: release it first, "
                                 "or use a recursive mutex if re-entry is intended, and check "
                                 "the result of the lock call", n);
        break;
    case LG_MISUSE_EXIT_HOLDING: {
        const char *tn = h && h->thread_name ? h->thread_name : NULL;
        rc |= lg_finding_set_summary(f, "thread %d%s%s%s ended holding %zu lock%s: %s %s "
                                     "(locked at %s)%s", tid, tn ? " \"" : "", tn ? tn : "",
                                     tn ? "\"" : "", f->nlocks, f->nlocks > 1 ? "s" : "",
                                     typename, n, hw, f->nlocks > 1 ? ", ..." : "");
        rc |= lg_finding_set_fix(f, "unlock every lock before the thread returns or calls "
                                 "pthread_exit (look for an early return or an error path); "
                                 "for cancellation, push a cleanup handler that unlocks it");
        break;
    }
    case LG_MISUSE_COND_NOT_HELD:
        rc |= lg_finding_set_summary(f, "thread %d waits on condition variable %s at %s with "
                                     "mutex %s, which %s%s", tid, cond_name, w, n,
                                     h ? holder : "no thread holds", h ? " holds" : "");
        rc |= lg_finding_set_fix(f, "lock %s before the condition wait and keep it locked "
                                 "around the check of the condition", n);
        break;
    case LG_MISUSE_COND_TWO_MUTEXES:
        rc |= lg_finding_set_summary(f, "thread %d waits on condition variable %s at %s with "
                                     "mutex %s, while %s waits on it with mutex %s (at %s)",
                                     tid, cond_name, w, n, h ? holder : "another thread",
                                     f->nlocks > 2 && f->locks[f->nlocks - 1].name
                                         ? f->locks[f->nlocks - 1].name : "another mutex", hw);
        rc |= lg_finding_set_fix(f, "use one mutex with each condition variable, for all its "
                                 "waiters and for the signaller's changes of the condition: "
                                 "or one condition variable per mutex");
        break;
    case LG_MISUSE_INVALID_LOCK:
        rc |= describe_invalid(f, mf, li, tid, typename, n, w);
        break;
    default:
        break;
    }
    return rc < 0 ? -1 : 0;
}

static int add_lock(lg_finding *f, const lg_misuse_facts *mf, int i)
{
    if (i < 0 || (size_t)i >= mf->nlocks)
        return -1;
    const lg_misuse_lock_fact *l = &mf->locks[i];
    int k = lg_finding_add_lock(f, l->address, l->type, l->name, l->attrs);
    if (k >= 0 && l->label)
        snprintf(f->locks[k].id, sizeof f->locks[k].id, "%s", l->label);
    return k;
}

lg_finding *lg_build_misuse(lg_report *r, const lg_misuse_facts *mf)
{
    if (mf->what <= LG_MISUSE_NONE || mf->what >= LG_MISUSE_COUNT)
        return NULL;
    lg_finding *f = lg_report_add_finding(r, LG_KIND_MISUSE);
    if (!f)
        return NULL;
    f->misuse = mf->what;
    /* The call's lock first, its condition variable next, then the sites' other locks. */
    int li = add_lock(f, mf, mf->lock);
    int cond_li = add_lock(f, mf, mf->cond);
    if (mf->refused)
        lg_finding_set_refused(f, mf->refused);
    if (mf->tid) {
        lg_finding_add_thread(f, mf->tid, mf->thread_name);
        if (mf->stack) {
            lg_site *s = lg_finding_add_site(f, mf->freed ? LG_SITE_FREED : LG_SITE_MISUSE,
                                             mf->tid, li, mf->mode);
            if (s)
                lg_stack_copy(&s->stack, mf->stack);
        }
    }
    for (size_t i = 0; i < mf->nsites; i++) {
        const lg_misuse_site_fact *h = &mf->sites[i];
        int hl = h->lock >= 0 && h->lock != mf->lock ? add_lock(f, mf, h->lock) : li;
        lg_finding_add_thread(f, h->tid, h->thread_name);
        lg_site *s = lg_finding_add_site(f, h->role, h->tid, hl, h->mode);
        if (s && h->stack)
            lg_stack_copy(&s->stack, h->stack);
    }
    char cname[160];
    snprintf(cname, sizeof cname, "%s", cond_li >= 0 && f->locks[cond_li].name
                                           ? f->locks[cond_li].name : "?");
    /* A lock without a report label keeps its finding number unless a labelled one has it. */
    for (size_t i = 0; i < f->nlocks; i++) {
        bool labelled = false;
        for (size_t k = 0; k < mf->nlocks && !labelled; k++)
            labelled = mf->locks[k].label && mf->locks[k].address == f->locks[i].address &&
                       mf->locks[k].type == f->locks[i].type;
        if (!labelled)
            lgf_unique_id(f, i);
    }
    describe(f, mf, li, cname);
    return f;
}
