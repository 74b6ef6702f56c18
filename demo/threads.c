/* threads.c - the two resources and the three threads of the write-up: creator, mover,
 * deleter; and the handshake that makes the inconsistent order deadlock on every run.
 * It does not pick folders, check the final counts or print the summary (main.c does).
 *
 * How the inconsistent interleaving is forced, and why it stays a real deadlock:
 *   1. the creator takes resource1 (exclusive) and posts creator_holds_r1; it keeps it for its
 *      whole creation run, as in the write-up;
 *   2. once the creator holds resource1, the deleter takes resource2 (exclusive; nobody else
 *      has asked for it yet) and posts deleter_holds_r2 (so the program first uses resource1,
 *      then resource2, on every run, as in the write-up);
 *   3. the mover waits for both posts, so resource1 is already the creator's and resource2
 *      already the deleter's when it asks; then it posts mover_asks_r1 and blocks in
 *      pthread_rwlock_wrlock(&resource1) until the creator releases it (the creator waits for
 *      mover_asks_r1 and then for glibc's rwlock to show a queued writer before releasing, so
 *      the mover is blocked on the creator's run);
 *   4. holding resource1, the mover posts mover_holds_r1 and asks for resource2: it blocks;
 *   5. the deleter, which waited for mover_holds_r1 while holding resource2, asks for
 *      resource1: it blocks. Neither can go on.
 * Every semaphore is posted before the two final requests, so at the end no thread waits on
 * the handshake: the mover and the deleter both sit in pthread_rwlock_wrlock on the other's
 * resource while holding their own. A lock-order detector sees resource1 -> resource2 (mover)
 * and resource2 -> resource1 (deleter); a wait-for detector sees the cycle. The semaphores
 * only remove the luck, they never stand in for the resources.
 *
 * Consistent order (the fix): both the mover and the deleter take resource1 then resource2,
 * per batch of files, so the two contend for the resources while the work overlaps: the mover
 * posts batch_moved after each batch, the deleter deletes whatever has been moved so far. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

/* Default attributes, as ERESOURCEs have no options worth showing here. */
pthread_rwlock_t resource1 = PTHREAD_RWLOCK_INITIALIZER;
pthread_rwlock_t resource2 = PTHREAD_RWLOCK_INITIALIZER;

/* The handshake (see the top of the file); none of it uses the two resources. */
static sem_t creator_holds_r1, deleter_holds_r2, mover_asks_r1, mover_holds_r1;
/* Consistent order: one post per batch moved, so the deleter sleeps instead of polling. */
static sem_t batch_moved;

typedef struct demo_job {
    const demo_config *cfg;
    const char *folder1, *folder2;
    demo_counts *counts;
    unsigned long batch;        /* files per move/delete batch */
    unsigned long moved_so_far; /* written by the mover, read by the deleter, under resource2 */
} demo_job;

/* An I/O failure leaves nothing sensible to do: report it and end the process at once
 * (_exit: other threads may hold stdio or the resources). */
__attribute__((noreturn, format(printf, 1, 2))) static void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[PATH_MAX + 256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    demo_error("%s", msg);
    fflush(stdout);
    _exit(1);
}

static void file_path(char *out, const char *folder, unsigned long i)
{
    snprintf(out, PATH_MAX, "%s/file%07lu.txt", folder, i);
}

static void lock_exclusive(pthread_rwlock_t *r, const char *name)
{
    int e = pthread_rwlock_wrlock(r);
    if (e)
        fatal("cannot take %s: %s", name, strerror(e));
}

static void unlock(pthread_rwlock_t *r, const char *name)
{
    int e = pthread_rwlock_unlock(r);
    if (e)
        fatal("cannot release %s: %s", name, strerror(e));
}

static void post(sem_t *s)
{
    if (sem_post(s) != 0)
        fatal("sem_post: %s", strerror(errno));
}

static void await(sem_t *s)
{
    while (sem_wait(s) != 0)
        if (errno != EINTR)
            fatal("sem_wait: %s", strerror(errno));
}

/* Until a writer is queued on r (glibc: __writers_futex is 1 while a writer holds it, 3 once
 * another writer sleeps on it), or 10 s at most. Posting mover_asks_r1 comes just before the
 * mover's wrlock; without this the creator could release in between on a loaded machine, and
 * the mover would take resource1 without waiting: the trace's "who readied whom" story
 * (the creator's release wakes the mover) would then depend on the scheduler. Only the mover
 * can queue on resource1 while the creator holds it. */
static void until_writer_queued(pthread_rwlock_t *r)
{
    const volatile unsigned *w = &r->__data.__writers_futex;
    for (int i = 0; i < 10000 && *w != 3; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
}

static void check_size(const demo_job *j, const char *path)
{
    struct stat st;
    off_t want = (off_t)(j->cfg->writes * DEMO_LINE_LEN);
    if (stat(path, &st) != 0)
        fatal("cannot stat '%s': %s", path, strerror(errno));
    if (st.st_size != want)
        fatal("file '%s' has %lld bytes, expected %lld", path, (long long)st.st_size,
              (long long)want);
}

/* The write-up's creation work: N files, M writes of one line each (real write calls). */
__attribute__((noinline)) static void create_files(demo_job *j)
{
    char path[PATH_MAX];
    for (unsigned long i = 0; i < j->cfg->files; i++) {
        file_path(path, j->folder1, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            fatal("cannot create '%s': %s", path, strerror(errno));
        for (unsigned long w = 0; w < j->cfg->writes; w++) {
            ssize_t n = write(fd, DEMO_LINE, DEMO_LINE_LEN);
            if (n != DEMO_LINE_LEN)
                fatal("cannot write '%s': %s", path, n < 0 ? strerror(errno) : "short write");
        }
        if (close(fd) != 0)
            fatal("cannot close '%s': %s", path, strerror(errno));
        j->counts->created++;
    }
}

/* Files [from, to) from folder1 to folder2; called holding both resources. */
__attribute__((noinline)) static void move_files(demo_job *j, unsigned long from, unsigned long to)
{
    char src[PATH_MAX], dst[PATH_MAX];
    for (unsigned long i = from; i < to; i++) {
        file_path(src, j->folder1, i);
        file_path(dst, j->folder2, i);
        check_size(j, src);
        if (rename(src, dst) != 0)
            fatal("cannot move '%s' to '%s': %s", src, dst, strerror(errno));
        j->counts->moved++;
    }
}

/* Files [from, to) in folder2; called holding both resources. */
__attribute__((noinline)) static void delete_files(demo_job *j, unsigned long from, unsigned long to)
{
    char path[PATH_MAX];
    for (unsigned long i = from; i < to; i++) {
        file_path(path, j->folder2, i);
        check_size(j, path);
        if (unlink(path) != 0)
            fatal("cannot delete '%s': %s", path, strerror(errno));
        j->counts->deleted++;
    }
}

static void *creator_main(void *arg)
{
    demo_job *j = arg;
    pthread_setname_np(pthread_self(), "creator");
    lock_exclusive(&resource1, "resource1");
    demo_say(j->cfg, "creator: holds resource1, creating %lu files in %s", j->cfg->files,
             j->folder1);
    post(&creator_holds_r1);   /* for the mover */
    if (j->cfg->order == DEMO_ORDER_INCONSISTENT)
        post(&creator_holds_r1);   /* and for the deleter */
    create_files(j);
    /* Release only once the mover has asked for resource1, so it waits on this run. */
    await(&mover_asks_r1);
    until_writer_queued(&resource1);
    demo_say(j->cfg, "creator: created %lu files in %s, releasing resource1", j->counts->created,
             j->folder1);
    unlock(&resource1, "resource1");
    return NULL;
}

static void *mover_main(void *arg)
{
    demo_job *j = arg;
    int inconsistent = j->cfg->order == DEMO_ORDER_INCONSISTENT;
    pthread_setname_np(pthread_self(), "mover");
    await(&creator_holds_r1);
    if (inconsistent)
        await(&deleter_holds_r2);
    demo_say(j->cfg, "mover: waiting for resource1");
    post(&mover_asks_r1);
    for (unsigned long next = 0; next < j->cfg->files;) {
        lock_exclusive(&resource1, "resource1");
        if (inconsistent && next == 0) {
            demo_say(j->cfg, "mover: holds resource1, waiting for resource2");
            post(&mover_holds_r1);
        }
        lock_exclusive(&resource2, "resource2");
        unsigned long end = next + j->batch < j->cfg->files ? next + j->batch : j->cfg->files;
        move_files(j, next, end);
        next = end;
        j->moved_so_far = next;
        if (next == j->cfg->files) /* still holding both, so it prints before the deleter's */
            demo_say(j->cfg, "mover: moved %lu files to %s", j->counts->moved, j->folder2);
        unlock(&resource2, "resource2");
        unlock(&resource1, "resource1");
        post(&batch_moved);
    }
    return NULL;
}

static void *deleter_main(void *arg)
{
    demo_job *j = arg;
    int inconsistent = j->cfg->order == DEMO_ORDER_INCONSISTENT;
    pthread_setname_np(pthread_self(), "deleter");
    for (unsigned long next = 0, round = 0; next < j->cfg->files; round++) {
        if (inconsistent) {
            /* The write-up's order: resource2, then resource1. */
            await(round > 0 ? &batch_moved : &creator_holds_r1);
            lock_exclusive(&resource2, "resource2");
            if (round == 0) {
                demo_say(j->cfg, "deleter: holds resource2");
                post(&deleter_holds_r2);
                await(&mover_holds_r1);
                demo_say(j->cfg, "deleter: holds resource2, waiting for resource1");
            }
            lock_exclusive(&resource1, "resource1");
        } else {
            await(&batch_moved);
            lock_exclusive(&resource1, "resource1");
            lock_exclusive(&resource2, "resource2");
        }
        unsigned long upto = j->moved_so_far;
        delete_files(j, next, upto);
        next = upto;
        unlock(&resource2, "resource2");
        unlock(&resource1, "resource1");
    }
    demo_say(j->cfg, "deleter: deleted %lu files in %s", j->counts->deleted, j->folder2);
    return NULL;
}

int demo_run_threads(const demo_config *cfg, const char *folder1, const char *folder2,
                     demo_counts *counts)
{
    sem_t *sems[] = {&creator_holds_r1, &deleter_holds_r2, &mover_asks_r1, &mover_holds_r1,
                     &batch_moved};
    for (size_t i = 0; i < sizeof sems / sizeof sems[0]; i++)
        if (sem_init(sems[i], 0, 0) != 0) {
            demo_error("sem_init: %s", strerror(errno));
            return -1;
        }
    /* About 20 batches, so the mover and the deleter take turns on the resources. */
    unsigned long batch = cfg->files / 20;
    demo_job job = {.cfg = cfg, .folder1 = folder1, .folder2 = folder2, .counts = counts,
                    .batch = batch < 1 ? 1 : batch > 50 ? 50 : batch};
    void *(*mains[])(void *) = {creator_main, mover_main, deleter_main};
    const char *names[] = {"creator", "mover", "deleter"};
    pthread_t tids[3];
    for (int i = 0; i < 3; i++) {
        int e = pthread_create(&tids[i], NULL, mains[i], &job);
        if (e) {
            demo_error("cannot start the %s thread: %s", names[i], strerror(e));
            fflush(stdout);
            _exit(1); /* the threads already started would wait forever */
        }
    }
    for (int i = 0; i < 3; i++)
        pthread_join(tids[i], NULL);
    for (size_t i = 0; i < sizeof sems / sizeof sems[0]; i++)
        sem_destroy(sems[i]);
    return 0;
}
