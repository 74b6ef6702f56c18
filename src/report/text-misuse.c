/* text-misuse.c - printer for lock misuse (LG_KIND_MISUSE), in the family of text-deadlock.c.
 *
 * Skeleton, pinned by tests/model/golden/misuse.txt: banner with the misuse's name; the
 * summary; "Why:" (model.c's one line for the subkind: why it is a bug and what glibc does
 * with it); "glibc refused it (E...)" when glibc answered an error and changed nothing; the
 * locks; one stanza per site (the misusing call, or the free() of the lock's memory; where the
 * lock was acquired by whom, where it was destroyed, the other condition wait), each with its
 * stack; the fix and the notes.
 * The runtime prints one such finding per distinct misuse (subkind and call site).
 */
#include "text-internal.h"

/* What the misusing thread does, by subkind: "thread T <verb> L1 at:". */
static const char *const verbs[LG_MISUSE_COUNT] = {
    [LG_MISUSE_UNLOCK_NOT_HELD] = "unlocks",
    [LG_MISUSE_UNLOCK_NOT_OWNER] = "unlocks",
    [LG_MISUSE_DESTROY_HELD] = "destroys",
    [LG_MISUSE_USE_AFTER_DESTROY] = "uses",
    [LG_MISUSE_REINIT_LIVE] = "initialises",
    [LG_MISUSE_RELOCK_REFUSED] = "locks again",
    [LG_MISUSE_EXIT_HOLDING] = "ends holding",
    [LG_MISUSE_COND_NOT_HELD] = "waits on a condition with",
    [LG_MISUSE_COND_TWO_MUTEXES] = "waits on a condition with",
    [LG_MISUSE_INVALID_LOCK] = "uses",
};

static const char *lock_id(const lg_finding *f, int i)
{
    return i >= 0 && (size_t)i < f->nlocks ? f->locks[i].id : "?";
}

static void site(FILE *out, const lg_report *r, const lg_finding *f, const lg_site *s,
                 const lg_text_options *o)
{
    const char *id = lock_id(f, s->lock);
    switch (s->role) {
    case LG_SITE_MISUSE: {
        const char *v = (unsigned)f->misuse < LG_MISUSE_COUNT && verbs[f->misuse]
                            ? verbs[f->misuse] : "misuses";
        text_thread(out, f, r, s->thread);
        fprintf(out, " %s %s at:\n", v, id);
        break;
    }
    case LG_SITE_ACQUIRED:
        fprintf(out, "%s is held by ", id);
        text_thread(out, f, r, s->thread);
        fprintf(out, ", %s at:\n",
                s->lock >= 0 && (size_t)s->lock < f->nlocks
                    ? text_acquired_verb(&f->locks[s->lock], s->mode) : "locked");
        break;
    case LG_SITE_DESTROYED:
        fprintf(out, "%s was destroyed by ", id);
        text_thread(out, f, r, s->thread);
        fputs(" at:\n", out);
        break;
    case LG_SITE_FREED:
        text_thread(out, f, r, s->thread);
        fprintf(out, " frees the memory of %s at:\n", id);
        break;
    case LG_SITE_OTHER_WAIT:
        fputs("meanwhile ", out);
        text_thread(out, f, r, s->thread);
        fprintf(out, " waits on the same condition with %s at:\n", id);
        break;
    default:
        fprintf(out, "%s at:\n", id);
        break;
    }
    text_stack(out, &s->stack, "    ", o);
}

void text_misuse(FILE *out, const lg_report *r, const lg_finding *f, const lg_text_options *o)
{
    char title[96];
    snprintf(title, sizeof title, "lock misuse (%s)",
             f->misuse != LG_MISUSE_NONE ? lg_misuse_name(f->misuse) : "unknown");
    text_banner(out, title);
    if (f->summary)
        fprintf(out, "%s\n", f->summary);
    if (f->misuse != LG_MISUSE_NONE)
        fprintf(out, "Why: %s.\n", lg_misuse_why(f->misuse));
    if (f->refused)
        fprintf(out, "glibc refused the call (%s): it changed nothing, and the program was told "
                     "so.\n", f->refused);
    fputc('\n', out);
    for (size_t i = 0; i < f->nlocks; i++) {
        fputs("  ", out);
        text_lock(out, &f->locks[i]);
        fputc('\n', out);
    }
    if (f->nlocks)
        fputc('\n', out);
    for (size_t i = 0; i < f->nsites; i++)
        site(out, r, f, &f->sites[i], o);
    if (f->fix)
        fprintf(out, "\nFix: %s\n", f->fix);
    text_notes(out, f->notes, f->nnotes, "");
    fputc('\n', out);
}
