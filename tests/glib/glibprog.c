/* glibprog.c - GLib's locks, used as GLib programs use them (no lockgraph header, nothing
 * changed for the runtime): glib.sh runs each case under `lockgraph run`, and the hung one
 * under `lockgraph attach`.
 *
 *   gmutex-abba        thread 1 takes GMutex A then B; after it ended, thread 2 B then A
 *   grwlock-read-read  the same orders with two GRWLocks, both times as a reader
 *   grecmutex-reentry  a GRecMutex taken twice by its holder, then another GMutex
 *   gcond              holding A then B, a condition wait on A: its re-acquisition is B -> A
 *   gmutex-deadlock    two threads take A and B in opposite orders, each waiting until the
 *                      other has its first: a real deadlock (hangs without the runtime;
 *                      prints "ready" once both hold their first lock)
 *   grwlock-writer-abba  writers of two GRWLocks in opposite orders (one thread after the
 *                      other): an inversion
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

static GMutex A, B;
static GRWLock RA, RB;
static GRecMutex R;
static GCond C;
static gint phase;

static gpointer ab(gpointer p)
{
    (void)p;
    g_mutex_lock(&A);
    g_mutex_lock(&B);
    g_mutex_unlock(&B);
    g_mutex_unlock(&A);
    return NULL;
}

static gpointer ba(gpointer p)
{
    (void)p;
    g_mutex_lock(&B);
    g_mutex_lock(&A);
    g_mutex_unlock(&A);
    g_mutex_unlock(&B);
    return NULL;
}

static gpointer rd_ab(gpointer p)
{
    gboolean write = p != NULL;
    if (write) {
        g_rw_lock_writer_lock(&RA);
        g_rw_lock_writer_lock(&RB);
        g_rw_lock_writer_unlock(&RB);
        g_rw_lock_writer_unlock(&RA);
    } else {
        g_rw_lock_reader_lock(&RA);
        g_rw_lock_reader_lock(&RB);
        g_rw_lock_reader_unlock(&RB);
        g_rw_lock_reader_unlock(&RA);
    }
    return NULL;
}

static gpointer rd_ba(gpointer p)
{
    gboolean write = p != NULL;
    if (write) {
        g_rw_lock_writer_lock(&RB);
        g_rw_lock_writer_lock(&RA);
        g_rw_lock_writer_unlock(&RA);
        g_rw_lock_writer_unlock(&RB);
    } else {
        g_rw_lock_reader_lock(&RB);
        g_rw_lock_reader_lock(&RA);
        g_rw_lock_reader_unlock(&RA);
        g_rw_lock_reader_unlock(&RB);
    }
    return NULL;
}

static void wait_phase(gint p)
{
    while (g_atomic_int_get(&phase) < p)
        g_usleep(1000);
}

static gpointer dl_ab(gpointer p)
{
    (void)p;
    g_mutex_lock(&A);
    g_atomic_int_inc(&phase);
    wait_phase(2);
    g_mutex_lock(&B);   /* never returns */
    return NULL;
}

static gpointer dl_ba(gpointer p)
{
    (void)p;
    g_mutex_lock(&B);
    g_atomic_int_inc(&phase);
    wait_phase(2);
    g_mutex_lock(&A);
    return NULL;
}

static void one_after_other(GThreadFunc f, GThreadFunc g, gpointer arg)
{
    g_thread_join(g_thread_new("first", f, arg));
    g_thread_join(g_thread_new("second", g, arg));
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (!strcmp(c, "gmutex-abba")) {
        one_after_other(ab, ba, NULL);
    } else if (!strcmp(c, "grwlock-read-read")) {
        one_after_other(rd_ab, rd_ba, NULL);
    } else if (!strcmp(c, "grwlock-writer-abba")) {
        one_after_other(rd_ab, rd_ba, &RA);
    } else if (!strcmp(c, "grecmutex-reentry")) {
        g_rec_mutex_lock(&R);
        g_rec_mutex_lock(&R);
        g_mutex_lock(&A);
        g_rec_mutex_lock(&R);    /* R taken again, holding A: a re-entry, no A -> R */
        g_rec_mutex_unlock(&R);
        g_mutex_unlock(&A);
        g_rec_mutex_unlock(&R);
        g_rec_mutex_unlock(&R);
    } else if (!strcmp(c, "gcond")) {
        g_mutex_lock(&A);
        g_mutex_lock(&B);
        g_cond_wait_until(&C, &A, g_get_monotonic_time() + 1000);   /* times out */
        g_mutex_unlock(&B);
        g_mutex_unlock(&A);
    } else if (!strcmp(c, "gmutex-deadlock")) {
        GThread *t1 = g_thread_new("locker-ab", dl_ab, NULL);
        GThread *t2 = g_thread_new("locker-ba", dl_ba, NULL);
        wait_phase(2);
        printf("ready\n");   /* both hold their first lock: the deadlock is certain */
        fflush(stdout);
        g_thread_join(t1);
        g_thread_join(t2);
    } else {
        fprintf(stderr, "usage: glibprog CASE\n");
        return 2;
    }
    printf("%s: done\n", c);
    return 0;
}
