/* u64map.h - an open-addressing hash map from 64-bit keys to 64-bit values, for the
 * analysis code (edge index, cycle dedupe, stack dedupe).
 *
 * Not thread-safe: callers serialise (the runtime holds its graph lock). Keys 0 and
 * UINT64_MAX are reserved (empty slot, tombstone). Never aborts: an insert that cannot grow
 * the table returns -1 and leaves it unchanged.
 */
#ifndef LG_U64MAP_H
#define LG_U64MAP_H

#include <stddef.h>
#include <stdint.h>

#include "../util/hash.h"   /* lg_mix64: the map's hash, and its users' */

typedef struct lg_u64map {
    uint64_t *keys;
    uint64_t *vals;
    size_t cap;        /* power of two, or 0 */
    size_t used;       /* live keys */
    size_t dead;       /* tombstones */
} lg_u64map;

void lg_u64map_free(lg_u64map *m);
/* 1 and *val set when present, else 0. */
int lg_u64map_get(const lg_u64map *m, uint64_t key, uint64_t *val);
/* Insert or overwrite. 0, or -1 on allocation failure. */
int lg_u64map_put(lg_u64map *m, uint64_t key, uint64_t val);
/* 1 when removed, 0 when absent. */
int lg_u64map_del(lg_u64map *m, uint64_t key);


#endif
