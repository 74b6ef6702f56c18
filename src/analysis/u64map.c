/* u64map.c - open addressing with linear probing and tombstones; rebuilt at 50% load
 * (live + dead) so probes stay short. See u64map.h. */
#include <stdlib.h>

#include "u64map.h"

#define EMPTY 0
#define TOMB UINT64_MAX

void lg_u64map_free(lg_u64map *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = m->vals = NULL;
    m->cap = m->used = m->dead = 0;
}

static size_t slot_of(const lg_u64map *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    size_t i = lg_mix64(key) & mask;
    while (m->keys[i] != EMPTY && m->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

int lg_u64map_get(const lg_u64map *m, uint64_t key, uint64_t *val)
{
    if (!m->cap)
        return 0;
    size_t i = slot_of(m, key);
    if (m->keys[i] != key)
        return 0;
    if (val)
        *val = m->vals[i];
    return 1;
}

static int rebuild(lg_u64map *m, size_t cap)
{
    uint64_t *k = calloc(cap, sizeof *k), *v = calloc(cap, sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    lg_u64map n = {k, v, cap, 0, 0};
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == EMPTY || m->keys[i] == TOMB)
            continue;
        size_t j = slot_of(&n, m->keys[i]);
        n.keys[j] = m->keys[i];
        n.vals[j] = m->vals[i];
        n.used++;
    }
    lg_u64map_free(m);
    *m = n;
    return 0;
}

int lg_u64map_put(lg_u64map *m, uint64_t key, uint64_t val)
{
    if ((m->used + m->dead + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap : 16;
        while ((m->used + 1) * 2 > cap)
            cap *= 2;
        if (m->used * 4 > cap)
            cap *= 2;
        if (rebuild(m, cap) < 0)
            return -1;
    }
    size_t mask = m->cap - 1, i = lg_mix64(key) & mask, tomb = SIZE_MAX;
    while (m->keys[i] != EMPTY && m->keys[i] != key) {
        if (m->keys[i] == TOMB && tomb == SIZE_MAX)
            tomb = i;
        i = (i + 1) & mask;
    }
    if (m->keys[i] == key) {
        m->vals[i] = val;
        return 0;
    }
    if (tomb != SIZE_MAX) {
        i = tomb;
        m->dead--;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->used++;
    return 0;
}

int lg_u64map_del(lg_u64map *m, uint64_t key)
{
    if (!m->cap)
        return 0;
    size_t i = slot_of(m, key);
    if (m->keys[i] != key)
        return 0;
    m->keys[i] = TOMB;
    m->used--;
    m->dead++;
    return 1;
}
