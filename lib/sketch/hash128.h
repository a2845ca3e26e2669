/*
 * hash128.h - 128-bit content hash for exact duplicates.
 */
#ifndef WN_HASH128_H
#define WN_HASH128_H

#include "common/common.h"

/* XXH3-128 of len bytes with seed; out[0] low, out[1] high 64 bits. */
WN_INTERNAL void wn__hash128(const void *p, size_t len, uint64_t seed,
                             uint64_t out[2]);

/*
 * The same hash of bytes given in pieces (lib/dedup/sketcher.c hashes a
 * large text's normalized stream chunk by chunk): the value after any
 * sequence of updates is wn__hash128 of their concatenation. begin returns
 * NULL when out of memory; end frees the state and may be given NULL out
 * to only free it.
 */
struct wn_hash128_stream;
WN_INTERNAL struct wn_hash128_stream *wn__hash128_begin(uint64_t seed);
WN_INTERNAL void wn__hash128_update(struct wn_hash128_stream *st, const void *p,
                                    size_t len);
WN_INTERNAL void wn__hash128_end(struct wn_hash128_stream *st, uint64_t out[2]);

#endif /* WN_HASH128_H */
