/*
 * scan_avx512.c - the per-shingle loops of pass 1 on 8 lanes of 64 bits
 * (scan_impl.h). AVX-512DQ multiplies 64-bit lanes (vpmullq), so the fold's
 * multiply-xor chain and the splitmix64 finalizer are the scalar formulas
 * lane by lane: the same bits as the portable loops (tests/test_contain.c
 * and tests/test_sketch.c compare them). Compiled with a target attribute
 * and chosen at run time, so the library builds without -march flags.
 */
#include "sketch/scan_impl.h"

#include <pthread.h>
#include <stdlib.h>

#ifdef WN_HAVE_SCAN_AVX512
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512dq,popcnt")))

TARGET static inline __m512i mix64_v(__m512i x)
{
    const __m512i c1 = _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ULL);
    const __m512i c2 = _mm512_set1_epi64((long long)0x94D049BB133111EBULL);
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 30));
    x = _mm512_mullo_epi64(x, c1);
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 27));
    x = _mm512_mullo_epi64(x, c2);
    return _mm512_xor_si512(x, _mm512_srli_epi64(x, 31));
}

TARGET size_t wn__fold_avx512(uint64_t *h, size_t count, unsigned ngram,
                              uint64_t fseed)
{
    const __m512i mul = _mm512_set1_epi64((long long)WN_FOLD_MUL);
    const __m512i seed = _mm512_set1_epi64((long long)fseed);
    const __m512i cnt = _mm512_set1_epi64((long long)ngram);
    size_t i = 0;
    /* Vector i reads h[i .. i + 7 + ngram - 1] before it writes h[i .. i +
     * 7]; later vectors read from h[i + 8] on. */
    for (; i + 8 <= count; i += 8) {
        __m512i acc = seed;
        for (unsigned j = 0; j < ngram; j++)
            acc = _mm512_mullo_epi64(
                _mm512_xor_si512(acc, _mm512_loadu_si512(h + i + j)), mul);
        _mm512_storeu_si512(h + i, mix64_v(_mm512_xor_si512(acc, cnt)));
    }
    return i;
}

TARGET size_t wn__anchor_scan_avx512(const uint64_t *sh, size_t n,
                                     uint64_t mask, uint64_t thr, uint64_t *buf)
{
    const __m512i salt = _mm512_set1_epi64((long long)WN_ANCHOR_SALT);
    const __m512i vmask = _mm512_set1_epi64((long long)mask);
    const __m512i vthr = _mm512_set1_epi64((long long)thr);
    size_t len = 0, i = 0;
    for (; i < n; i += 8) {
        __mmask8 live =
            i + 8 <= n ? (__mmask8)0xFF : (__mmask8)((1u << (n - i)) - 1);
        __m512i x = mix64_v(
            _mm512_xor_si512(_mm512_maskz_loadu_epi64(live, sh + i), salt));
        __mmask8 k = _mm512_mask_testn_epi64_mask(live, x, vmask);
        k = _mm512_mask_cmple_epu64_mask(k, x, vthr);
        /* The register form of the compress and a whole store: the memory
         * form is microcoded and slow on some cores. */
        _mm512_storeu_si512(buf + len, _mm512_maskz_compress_epi64(k, x));
        len += (size_t)__builtin_popcount(k);
    }
    return len;
}
TARGET void wn__oph_bins_avx512(const uint64_t *h, size_t n, uint64_t salt,
                                uint32_t k, uint32_t *bin, uint32_t *val)
{
    const __m512i vs = _mm512_set1_epi64((long long)salt);
    const __m512i vk = _mm512_set1_epi64((long long)k);
    const __m512i low = _mm512_set1_epi64((long long)UINT32_MAX);
    const __m512i one = _mm512_set1_epi64(1);
    for (size_t i = 0; i < n; i += 8) {
        __mmask8 live =
            i + 8 <= n ? (__mmask8)0xFF : (__mmask8)((1u << (n - i)) - 1);
        __m512i v = mix64_v(
            _mm512_xor_si512(_mm512_maskz_loadu_epi64(live, h + i), vs));
        /* ((v >> 32) * k) >> 32: a 32 x 32 -> 64-bit multiply per lane. */
        __m512i b = _mm512_srli_epi64(
            _mm512_mul_epu32(_mm512_srli_epi64(v, 32), vk), 32);
        /* The low 32 bits; WN_SIG_EMPTY marks empty bins, so a value equal
         * to it becomes one less. */
        __m512i x = _mm512_and_si512(v, low);
        x = _mm512_mask_sub_epi64(x, _mm512_cmpeq_epi64_mask(x, low), x, one);
        _mm512_mask_cvtepi64_storeu_epi32(bin + i, live, b);
        _mm512_mask_cvtepi64_storeu_epi32(val + i, live, x);
    }
}

TARGET void wn__sort_u32_avx512(uint32_t *a, size_t n)
{
    uint32_t in[64];
    memcpy(in, a, n * sizeof(*a));
    __m512i v[4];
    for (unsigned k = 0; k < 4; k++) {
        size_t lo = 16 * (size_t)k, live = n > lo ? WN_MIN(n - lo, 16) : 0;
        v[k] = _mm512_maskz_loadu_epi32((__mmask16)((1u << live) - 1), in + lo);
    }
    uint64_t valid = n == 64 ? ~0ULL : (1ULL << n) - 1;
    for (size_t i = 0; i < n; i++) {
        __m512i b = _mm512_set1_epi32((int)in[i]);
        uint64_t lt = 0, le = 0;
        for (unsigned k = 0; k < 4; k++) {
            lt |= (uint64_t)_mm512_cmplt_epu32_mask(v[k], b) << (16 * k);
            le |= (uint64_t)_mm512_cmple_epu32_mask(v[k], b) << (16 * k);
        }
        /* The stable rank: the values before i that are not above it and
         * the values after i that are below it. */
        uint64_t before = (1ULL << i) - 1;
        a[__builtin_popcountll(((le & before) | (lt & ~before)) & valid)] =
            in[i];
    }
}
TARGET void wn__sort_u64_avx512(uint64_t *a, size_t n)
{
    uint64_t in[64];
    memcpy(in, a, n * sizeof(*a));
    __m512i v[8];
    for (unsigned k = 0; k < 8; k++) {
        size_t lo = 8 * (size_t)k, live = n > lo ? WN_MIN(n - lo, 8) : 0;
        v[k] = _mm512_maskz_loadu_epi64((__mmask8)((1u << live) - 1), in + lo);
    }
    uint64_t valid = n == 64 ? ~0ULL : (1ULL << n) - 1;
    unsigned nv = (unsigned)((n + 7) / 8);
    for (size_t i = 0; i < n; i++) {
        __m512i b = _mm512_set1_epi64((long long)in[i]);
        uint64_t lt = 0, le = 0;
        for (unsigned k = 0; k < nv; k++) {
            lt |= (uint64_t)_mm512_cmplt_epu64_mask(v[k], b) << (8 * k);
            le |= (uint64_t)_mm512_cmple_epu64_mask(v[k], b) << (8 * k);
        }
        uint64_t before = (1ULL << i) - 1;
        a[__builtin_popcountll(((le & before) | (lt & ~before)) & valid)] =
            in[i];
    }
}
#endif /* WN_HAVE_SCAN_AVX512 */

static bool use_avx512;
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
    const char *no_simd = getenv("WINNOW_NO_SIMD");
    bool simd = !(no_simd && *no_simd && strcmp(no_simd, "0") != 0);
#ifdef WN_HAVE_SCAN_AVX512
    __builtin_cpu_init();
    use_avx512 = simd && __builtin_cpu_supports("avx512f") &&
                 __builtin_cpu_supports("avx512dq");
#else
    (void)simd;
#endif
}

bool wn__scan_avx512(void)
{
    pthread_once(&choose_once, choose);
    return use_avx512;
}
