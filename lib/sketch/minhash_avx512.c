/*
 * minhash_avx512.c - the classic MinHash kernel for AVX-512 (F and DQ),
 * compiled with a target attribute and chosen at run time.
 *
 * AVX-512DQ multiplies 64-bit lanes directly (vpmullq), so each lane is the
 * reference formula ((a * x + b) mod 2^64) >> 32, and the result, below
 * 2^32, is reduced with an unsigned 64-bit minimum.
 *
 * Layout: permutations in blocks of BLOCK (NVEC vectors of 8 lanes), each
 * block streaming over all n shingles with parameters and minima held in
 * registers: O(n k / 8) vector steps. Bit-identical to
 * wn__minhash_classic_ref (tests/test_sketch.c).
 */
#include "sketch/minhash_impl.h"

#ifdef WN_HAVE_X86_KERNELS
#include <immintrin.h>

#define VEC 8 /* 64-bit lanes per vector */
/* Vectors per block: 4 (32 permutations) measured as fast as 8 and faster
 * than 2, 3 and 6 (bench/bench_sketch.c); vpmullq throughput is the limit. */
#define NVEC  4
#define BLOCK ((size_t)VEC * NVEC)

__attribute__((target("avx512f,avx512dq"))) static void
block_avx512(const uint64_t *h, size_t n, const uint64_t *a, const uint64_t *b,
             uint32_t *out)
{
    __m512i va[NVEC], vb[NVEC], vm[NVEC];

    for (size_t v = 0; v < NVEC; v++) {
        va[v] = _mm512_loadu_si512(a + v * VEC);
        vb[v] = _mm512_loadu_si512(b + v * VEC);
        vm[v] = _mm512_set1_epi64(UINT32_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        __m512i x = _mm512_set1_epi64((long long)h[i]);
        for (size_t v = 0; v < NVEC; v++) {
            __m512i p = _mm512_add_epi64(_mm512_mullo_epi64(va[v], x), vb[v]);
            vm[v] = _mm512_min_epu64(vm[v], _mm512_srli_epi64(p, 32));
        }
    }
    for (size_t v = 0; v < NVEC; v++) {
        uint64_t lanes[VEC];
        _mm512_storeu_si512(lanes, vm[v]);
        for (size_t l = 0; l < VEC; l++)
            out[v * VEC + l] = (uint32_t)lanes[l];
    }
}

void wn__classic_avx512(const uint64_t *h, size_t n, uint32_t k, uint64_t seed,
                        uint32_t *sig)
{
    uint64_t st = seed;
    uint64_t a[BLOCK], b[BLOCK];
    uint32_t out[BLOCK];

    for (uint32_t i = 0; i < k; i += BLOCK) {
        size_t m = WN_MIN((size_t)(k - i), BLOCK);
        wn__classic_params(&st, a, b, m, BLOCK);
        block_avx512(h, n, a, b, out);
        memcpy(sig + i, out, m * sizeof(*sig));
    }
}
#endif /* WN_HAVE_X86_KERNELS */
