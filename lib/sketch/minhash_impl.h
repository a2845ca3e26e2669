/*
 * minhash_impl.h - private to lib/sketch: what the portable classic MinHash
 * and its SIMD variants share, so that they draw the same hash parameters
 * and stay bit-identical.
 */
#ifndef WN_MINHASH_IMPL_H
#define WN_MINHASH_IMPL_H

#include "sketch/sketch.h"

/*
 * Draw the next m multiply-shift parameters from the splitmix64 state *st
 * into a[0..m-1] and b[0..m-1] (a odd), in the order a_0, b_0, a_1, b_1, ...
 * and pad a and b with zeros up to blk entries, so that a SIMD block can run
 * on whole vectors; a zero a and b give hash 0, whose result is discarded.
 */
static inline void wn__classic_params(uint64_t *st, uint64_t *a, uint64_t *b,
                                      size_t m, size_t blk)
{
    for (size_t j = 0; j < m; j++) {
        a[j] = wn__splitmix64(st) | 1;
        b[j] = wn__splitmix64(st);
    }
    for (size_t j = m; j < blk; j++) {
        a[j] = 0;
        b[j] = 0;
    }
}

/* One multiply-shift hash: the high 32 bits of a * x + b mod 2^64. */
static inline uint32_t wn__classic_hash(uint64_t a, uint64_t b, uint64_t x)
{
    return (uint32_t)((a * x + b) >> 32);
}

/*
 * SIMD kernels of the classic MinHash. They assume checked arguments
 * (1 <= k <= WN_MINHASH_MAX_K, n >= 1) and a CPU with the named extension;
 * minhash.c wraps them with the checks and the dispatch.
 */
#if defined(__x86_64__) || defined(__i386__)
#define WN_HAVE_X86_KERNELS 1
WN_INTERNAL void wn__classic_avx2(const uint64_t *h, size_t n, uint32_t k,
                                  uint64_t seed, uint32_t *sig);
WN_INTERNAL void wn__classic_avx512(const uint64_t *h, size_t n, uint32_t k,
                                    uint64_t seed, uint32_t *sig);
#endif

#endif /* WN_MINHASH_IMPL_H */
