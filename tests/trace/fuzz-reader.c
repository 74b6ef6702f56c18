/* fuzz-reader.c - fuzz the trace reader and everything downstream of it (analysis, JSON and
 * Chrome writers) with arbitrary bytes. Built two ways:
 *  - with clang, -DLG_LIBFUZZER -fsanitize=fuzzer,address,undefined: a libFuzzer target run
 *    for a bounded time by CTest (fuzz-trace-reader), seeded with tests/trace/corpus;
 *  - with the normal compiler against lgcore_san: a deterministic mutation loop (bit flips,
 *    byte sets, truncations, splices, inserted varints) over the same seeds
 *    (fuzz-trace-mutate), so the test exists even where clang does not.
 * Either fails on a crash, a sanitizer report or a hang (CTest timeout). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/timeline.h"
#include "report/timeline-report.h"
#include "trace/format.h"
#include "trace/reader.h"

static FILE *sink;

/* Recompute the header and chunk checksums of a mutated trace, so that mutations reach the
 * decoders behind them instead of all stopping at the first checksum. */
static void fix_sums(uint8_t *b, size_t n)
{
    if (n < LG_TRACE_HEADER_SIZE)
        return;
    lg_put32(b + LG_HDR_CHECKSUM, lg_trace_sum(b, LG_HDR_CHECKSUM, 0));
    size_t off = LG_TRACE_HEADER_SIZE;
    while (n - off >= LG_TRACE_CHUNK_HEADER) {
        uint8_t *h = b + off;
        uint32_t len = lg_get32(h + 8);
        if (len > n - off - LG_TRACE_CHUNK_HEADER)
            break;
        lg_put32(h + 16, lg_trace_sum(h + LG_TRACE_CHUNK_HEADER, len,
                                      ((uint64_t)h[4] << 32) | lg_get32(h + 12)));
        off += LG_TRACE_CHUNK_HEADER + len;
    }
}

static void one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (copy) {
        memcpy(copy, data, size);
        fix_sums(copy, size);
        one(copy, size);
        free(copy);
    }
    return 0;
}

static void one(const uint8_t *data, size_t size)
{
    if (!sink)
        sink = fopen("/dev/null", "w");
    lg_timeline t;
    lg_timeline_init(&t);
    lg_trace_status st;
    int rc = lg_trace_read(data, size, &t, &st);
    if (rc >= 0) {
        lg_tl_analysis a;
        if (lg_tl_analyze(&t, &a) == 0) {
            lg_write_timeline_json(sink, &t, &a, 0);
            lg_write_chrome(sink, &t, &a, NULL);
            lg_tl_step path[16];
            for (size_t i = 0; i < a.nlongest && i < 8; i++)
                lg_tl_critical_path(&a, a.longest[i], path, 16);
            lg_tl_analysis_free(&a);
        }
    }
    lg_timeline_free(&t);
}

#ifndef LG_LIBFUZZER
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* usage: fuzz-trace-mutate SEED_DIR ITERATIONS */
int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 1;
    }
    uint8_t *seeds[16];
    size_t sizes[16], nseeds = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nseeds < 16) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(p, "rb");
        if (!f)
            continue;
        uint8_t *b = malloc(1 << 20);
        size_t n = fread(b, 1, 1 << 20, f);
        fclose(f);
        seeds[nseeds] = b;
        sizes[nseeds++] = n;
    }
    closedir(d);
    if (!nseeds) {
        fprintf(stderr, "fuzz-trace-mutate: no seeds in %s\n", argv[1]);
        return 1;
    }
    long iters = atol(argv[2]);
    uint8_t *buf = malloc(2 << 20);
    for (long it = 0; it < iters; it++) {
        size_t s = next() % nseeds, n = sizes[s];
        memcpy(buf, seeds[s], n);
        int muts = 1 + (int)(next() % 4);
        for (int m = 0; m < muts && n; m++) {
            size_t at = next() % n;
            switch (next() % 6) {
            case 0: buf[at] ^= (uint8_t)(1u << (next() % 8)); break;
            case 1: buf[at] = (uint8_t)next(); break;
            case 2: n = at; break;                                   /* truncate */
            case 3: buf[at] = 0xff; if (at + 1 < n) buf[at + 1] = 0xff; break;  /* long varint */
            case 4: {                                                /* splice from another */
                size_t o = next() % nseeds, from = next() % sizes[o];
                size_t len = next() % 64;
                if (from + len > sizes[o]) len = sizes[o] - from;
                if (at + len > n) len = n - at;
                memcpy(buf + at, seeds[o] + from, len);
                break;
            }
            default: {                                               /* insert bytes */
                size_t len = 1 + next() % 8;
                if (n + len > (2u << 20)) break;
                memmove(buf + at + len, buf + at, n - at);
                for (size_t k = 0; k < len; k++) buf[at + k] = (uint8_t)next();
                n += len;
            }
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    free(buf);
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i]);
    if (sink)
        fclose(sink);
    fprintf(stderr, "fuzz-trace-mutate: %ld inputs, no crash\n", iters);
    return 0;
}
#endif
