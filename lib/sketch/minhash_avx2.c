/*
 * minhash_avx2.c - the classic MinHash kernel for AVX2, compiled with a
 * target attribute and chosen at run time (never -march for the library).
 *
 * AVX2 has no 64-bit multiply, so the high half of a * x + b mod 2^64 is
 * built from three 32x32->64 products (vpmuludq):
 *   a * x + b = (alo*xlo + b) + 2^32 (ahi*xlo + alo*xhi)   (mod 2^64)
 * and bits 32..63 of that are hi32(alo*xlo + b) + lo32(cross terms), the
 * carry out of bit 63 being discarded in both. The sum is exact in the low
 * 32 bits of each 64-bit lane; the high 32 bits hold garbage that the
 * unsigned 32-bit minimum keeps in lanes that are never read.
 *
 * Layout: permutations in blocks of BLOCK (NVEC vectors of 4 lanes), each
 * block streaming over all n shingles with its parameters and minima in
 * registers: O(n k / 4) vector steps, the shingles re-read from L1 once per
 * block. Bit-identical to wn__minhash_classic_ref (tests/test_sketch.c).
 */
#include "sketch/minhash_impl.h"

#ifdef WN_HAVE_X86_KERNELS
#include <immintrin.h>

#define VEC 4 /* 64-bit lanes per vector */
/* Vectors per block: 2 (8 permutations) measured fastest of 2, 3, 4, 6 and 8
 * (bench/bench_sketch.c); four values per vector fit the 16 ymm registers. */
#define NVEC  2
#define BLOCK ((size_t)VEC * NVEC)

__attribute__((target("avx2"))) static void
block_avx2(const uint64_t *h, size_t n, const uint64_t *a, const uint64_t *b,
           uint32_t *out)
{
    __m256i va[NVEC], vah[NVEC], vb[NVEC], vm[NVEC];

    for (size_t v = 0; v < NVEC; v++) {
        va[v] = _mm256_loadu_si256((const __m256i *)(a + v * VEC));
        vah[v] = _mm256_srli_epi64(va[v], 32);
        vb[v] = _mm256_loadu_si256((const __m256i *)(b + v * VEC));
        vm[v] = _mm256_set1_epi32(-1);
    }
    for (size_t i = 0; i < n; i++) {
        __m256i xlo = _mm256_set1_epi64x((long long)h[i]);
        __m256i xhi = _mm256_srli_epi64(xlo, 32);
        for (size_t v = 0; v < NVEC; v++) {
            __m256i lo = _mm256_add_epi64(_mm256_mul_epu32(va[v], xlo), vb[v]);
            __m256i cross = _mm256_add_epi32(_mm256_mul_epu32(vah[v], xlo),
                                             _mm256_mul_epu32(va[v], xhi));
            __m256i r = _mm256_add_epi32(_mm256_srli_epi64(lo, 32), cross);
            vm[v] = _mm256_min_epu32(vm[v], r);
        }
    }
    for (size_t v = 0; v < NVEC; v++) {
        uint32_t lanes[2 * VEC];
        _mm256_storeu_si256((__m256i *)lanes, vm[v]);
        /* x86 is little-endian: the low half of lane l is element 2l. */
        for (size_t l = 0; l < VEC; l++)
            out[v * VEC + l] = lanes[2 * l];
    }
}

void wn__classic_avx2(const uint64_t *h, size_t n, uint32_t k, uint64_t seed,
                      uint32_t *sig)
{
    uint64_t st = seed;
    uint64_t a[BLOCK], b[BLOCK];
    uint32_t out[BLOCK];

    for (uint32_t i = 0; i < k; i += BLOCK) {
        size_t m = WN_MIN((size_t)(k - i), BLOCK);
        wn__classic_params(&st, a, b, m, BLOCK);
        block_avx2(h, n, a, b, out);
        memcpy(sig + i, out, m * sizeof(*sig));
    }
}
#endif /* WN_HAVE_X86_KERNELS */
