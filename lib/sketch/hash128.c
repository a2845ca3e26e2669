/*
 * hash128.c - the 128-bit content hash behind exact-duplicate detection:
 * XXH3-128 of the normalized token stream. At 2^-128 per pair, collisions
 * are not a practical concern even at 10^10 documents (birthday bound
 * about 10^-19).
 */
#include "sketch/hash128.h"

#include <xxhash.h>

void wn__hash128(const void *p, size_t len, uint64_t seed, uint64_t out[2])
{
    XXH128_hash_t h = XXH3_128bits_withSeed(p, len, seed);
    out[0] = h.low64;
    out[1] = h.high64;
}
