/*
 * hash128.h - 128-bit content hash for exact duplicates.
 */
#ifndef WN_HASH128_H
#define WN_HASH128_H

#include "common/common.h"

/* XXH3-128 of len bytes with seed; out[0] low, out[1] high 64 bits. */
WN_INTERNAL void wn__hash128(const void *p, size_t len, uint64_t seed,
                             uint64_t out[2]);

#endif /* WN_HASH128_H */
