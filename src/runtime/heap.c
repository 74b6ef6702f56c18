/* heap.c - the runtime's own heap: malloc, calloc, realloc, free, strdup, strndup, vasprintf,
 * asprintf and qsort for the code linked into liblockgraph.so (the runtime and the core it
 * links: analysis, model, report writers), which reaches these as __wrap_* through the
 * linker's --wrap (src/runtime/CMakeLists.txt). The program's allocator is never entered
 * from inside an interposed call: jemalloc takes its own pthread mutexes (which we
 * interpose) and its init mutex with a trylock from a library constructor, so a runtime that
 * called malloc there re-entered jemalloc on a mutex it held and spun for ever.
 *
 * Shape: regions mapped as needed (MAP_NORESERVE: only touched pages cost memory), carved
 * by an atomic bump pointer, in power-of-two blocks with a 16-byte header; freed
 * blocks go to a free list per size (under a futex lock), big ones give their pages back
 * with madvise. A thread that re-enters while it holds the list lock (a signal handler that
 * reports) carves a fresh block and leaks what it frees: no deadlock, bounded by the rare
 * re-entries. Pointers we did not hand out (libc's strdup of a name, open_memstream's buffer,
 * libdw's results) are passed on to the program's free/realloc.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rt.h"

#define HDR 16u                  /* header size: keeps malloc's 16-byte alignment */
#define MIN_CLASS 5              /* 32-byte blocks */
#define MAX_CLASS 44             /* 16 TiB: beyond any reservation */
#define BIG_CLASS 16             /* 64 KiB and up: pages go back to the kernel on free */
#define HEAP_MAGIC 0x6c67686bu   /* "lghk" */

typedef struct blk {
    uint32_t magic;
    uint32_t cls;
    size_t size;                 /* the size asked for (realloc copies that much) */
} blk;
_Static_assert(sizeof(blk) == HDR, "the header keeps blocks 16-byte aligned");

/* Regions: mapped as needed, each twice the last (4 MiB first), so a program's core (gcore
 * writes every mapping) stays the size of what the runtime uses. */
#define FIRST_REGION ((size_t)4 << 20)
#define MAX_REGIONS 40
typedef struct region {
    char *base;
    size_t size;
    _Atomic size_t used;
} region;
static region regions[MAX_REGIONS];
static _Atomic unsigned nregions;      /* published after the region is filled in */
static rt_flock grow_lock = RT_FLOCK_INIT;
static blk *freelist[MAX_CLASS + 1];   /* next pointer in the first word after the header */
static rt_flock list_lock = RT_FLOCK_INIT;
static __thread int in_list __attribute__((tls_model("initial-exec")));

extern void *__real_malloc(size_t);
extern void *__real_realloc(void *, size_t);
extern void __real_free(void *);

/* A new region for a block of `bs` bytes, unless another thread added one since we saw `n`. */
static int grow(unsigned n, size_t bs)
{
    if (in_list)
        return -1;   /* a signal handler interrupted a thread growing the heap: give up */
    in_list = 1;
    rt_flock_lock(&grow_lock);
    int r = 0;
    if (atomic_load(&nregions) == n) {
        size_t sz = n < 20 ? FIRST_REGION << n : FIRST_REGION << 20;
        while (sz < bs + 4096)
            sz *= 2;
        void *m = n < MAX_REGIONS ? mmap(NULL, sz, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                                  : MAP_FAILED;
        if (m == MAP_FAILED) {
            r = -1;
        } else {
            regions[n].base = m;
            regions[n].size = sz;
            atomic_store_explicit(&regions[n].used, 0, memory_order_relaxed);
            atomic_store_explicit(&nregions, n + 1, memory_order_release);
        }
    }
    rt_flock_unlock(&grow_lock);
    in_list = 0;
    return r;
}

static bool ours(const void *p)
{
    unsigned n = atomic_load_explicit(&nregions, memory_order_acquire);
    for (unsigned i = n; i-- > 0;)
        if ((const char *)p >= regions[i].base && (const char *)p < regions[i].base + regions[i].size)
            return true;
    return false;
}

static unsigned class_of(size_t n)
{
    if (n > ((size_t)1 << MAX_CLASS) - HDR)
        return 0;
    size_t need = n + HDR;
    unsigned c = MIN_CLASS;
    while (((size_t)1 << c) < need)
        c++;
    return c;
}

/* A fresh block from the newest region's bump pointer: lock-free, so safe at any re-entry. */
static blk *carve(unsigned c)
{
    size_t bs = (size_t)1 << c, align = bs < 4096 ? bs : 4096;
    for (;;) {
        unsigned n = atomic_load_explicit(&nregions, memory_order_acquire);
        if (n) {
            region *r = &regions[n - 1];
            size_t off = atomic_load_explicit(&r->used, memory_order_relaxed), start;
            for (;;) {
                start = (off + align - 1) & ~(align - 1);
                if (start + bs > r->size || start + bs < start)
                    break;
                if (atomic_compare_exchange_weak(&r->used, &off, start + bs))
                    return (blk *)(r->base + start);
            }
        }
        if (grow(n, bs) < 0)
            return NULL;
    }
}

static void *heap_alloc(size_t n)
{
    unsigned c = class_of(n);
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    blk *b = NULL;
    if (!in_list) {
        in_list = 1;
        rt_flock_lock(&list_lock);
        b = freelist[c];
        if (b)
            freelist[c] = *(blk **)(b + 1);
        rt_flock_unlock(&list_lock);
        in_list = 0;
    }
    if (!b && !(b = carve(c))) {
        errno = ENOMEM;
        return NULL;
    }
    b->magic = HEAP_MAGIC;
    b->cls = c;
    b->size = n;
    return b + 1;
}

static blk *header(void *p)
{
    blk *b = (blk *)p - 1;
    return b->magic == HEAP_MAGIC ? b : NULL;
}

static void heap_free(void *p)
{
    blk *b = header(p);
    if (!b || in_list)
        return;   /* not a block start (a bug elsewhere: keep going), or a re-entry: leak */
    if (b->cls >= BIG_CLASS) {
        size_t bs = (size_t)1 << b->cls;
        madvise((char *)b + 4096, bs - 4096, MADV_DONTNEED);
    }
    in_list = 1;
    rt_flock_lock(&list_lock);
    *(blk **)(b + 1) = freelist[b->cls];
    freelist[b->cls] = b;
    rt_flock_unlock(&list_lock);
    in_list = 0;
}

void rt_heap_fork(int phase)
{
    if (phase == RT_FORK_PREPARE) {
        rt_flock_lock(&grow_lock);
        rt_flock_lock(&list_lock);
    } else if (phase == RT_FORK_PARENT) {
        rt_flock_unlock(&list_lock);
        rt_flock_unlock(&grow_lock);
    } else {
        rt_flock_reset(&list_lock);
        rt_flock_reset(&grow_lock);
    }
}

void *__wrap_malloc(size_t n)
{
    return heap_alloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (m && n > SIZE_MAX / m) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = heap_alloc(n * m);
    if (p)
        memset(p, 0, n * m);
    return p;
}

void __wrap_free(void *p)
{
    if (!p)
        return;
    if (ours(p))
        heap_free(p);
    else
        __real_free(p);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (!p)
        return heap_alloc(n);
    if (!ours(p))
        return __real_realloc(p, n);
    blk *b = header(p);
    if (!b)
        return NULL;
    if (class_of(n) == b->cls) {
        b->size = n;
        return p;
    }
    void *q = heap_alloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, b->size < n ? b->size : n);
    heap_free(p);
    return q;
}

void *__wrap_reallocarray(void *p, size_t n, size_t m)
{
    if (m && n > SIZE_MAX / m) {
        errno = ENOMEM;
        return NULL;
    }
    return __wrap_realloc(p, n * m);
}

char *__wrap_strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *d = heap_alloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *__wrap_strdup(const char *s)
{
    return __wrap_strndup(s, SIZE_MAX);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    *out = NULL;
    if (n < 0)
        return -1;
    char *s = heap_alloc((size_t)n + 1);
    if (!s)
        return -1;
    if ((size_t)n < sizeof small)
        memcpy(s, small, (size_t)n + 1);
    else
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    *out = s;
    return n;
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = __wrap_vasprintf(out, fmt, ap);
    va_end(ap);
    return n;
}

/* glibc's qsort takes a malloc'd scratch buffer for arrays over 1 KiB: a heap sort here
 * needs none (no caller of ours relies on a stable order: qsort promises none). */
static void swap_bytes(char *a, char *b, size_t n)
{
    while (n--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void sift(char *v, size_t root, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && cmp(v + child * sz, v + (child + 1) * sz) < 0)
            child++;
        if (cmp(v + root * sz, v + child * sz) >= 0)
            return;
        swap_bytes(v + root * sz, v + child * sz, sz);
        root = child;
    }
}

void __wrap_qsort(void *base_, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    char *v = base_;
    if (n < 2 || !sz)
        return;
    for (size_t i = n / 2; i-- > 0;)
        sift(v, i, n, sz, cmp);
    for (size_t end = n - 1; end > 0; end--) {
        swap_bytes(v, v + end * sz, sz);
        sift(v, 0, end, sz, cmp);
    }
}
