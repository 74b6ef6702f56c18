/* hash.h - the few hash mixers lockgraph uses, header-only and inline: the runtime's fast
 * path hashes with them (a call there would cost more than the hash).
 *
 * Two shapes. Multiplicative (Fibonacci) hashing, x * 2^64/phi keeping the top bits, picks a
 * slot of a power-of-two table in one multiply and one shift: good when the keys are
 * addresses or ids that differ in their middle bits. A finaliser (splitmix64's, or one
 * round of MurmurHash3's fmix64) spreads every input bit over every output bit: for keys
 * that are themselves combined hashes, and for masks of the low bits. */
#ifndef LG_HASH_H
#define LG_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 2^64 / phi and 2^32 / phi, odd: the multipliers of Fibonacci hashing. */
#define LG_GOLDEN64 0x9e3779b97f4a7c15ull
#define LG_GOLDEN32 0x9e3779b9u

/* x scrambled by the golden multiplier: its high bits depend on all of x's. */
static inline uint64_t lg_golden(uint64_t x)
{
    return x * LG_GOLDEN64;
}

/* The slot of x in a table of 2^bits slots (1 <= bits <= 64). */
static inline size_t lg_fib_slot(uint64_t x, unsigned bits)
{
    return (size_t)(lg_golden(x) >> (64 - bits));
}

/* The same for 32-bit keys and tables (1 <= bits <= 32). */
static inline uint32_t lg_fib_slot32(uint32_t x, unsigned bits)
{
    return (uint32_t)(x * LG_GOLDEN32) >> (32 - bits);
}

/* A 64-bit mixer (splitmix64's finaliser): good enough to spread pointers and ids. */
#define LG_SPLITMIX_M1 0xbf58476d1ce4e5b9ull
#define LG_SPLITMIX_M2 0x94d049bb133111ebull
static inline uint64_t lg_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= LG_SPLITMIX_M1;
    x ^= x >> 27;
    x *= LG_SPLITMIX_M2;
    x ^= x >> 31;
    return x;
}

/* One round of MurmurHash3's fmix64: cheaper, for finishing a hash built byte by byte. Its
 * output is kept in files (report fingerprints): never change it. */
#define LG_FMIX_M1 0xff51afd7ed558ccdull
static inline uint64_t lg_fmix64_round(uint64_t h)
{
    h ^= h >> 33;
    h *= LG_FMIX_M1;
    h ^= h >> 33;
    return h;
}

#endif
