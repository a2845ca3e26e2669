/*
 * minhash.c - MinHash signatures of shingle-hash sets: one-permutation
 * hashing with optimal densification, classic K-permutation MinHash (the
 * portable reference and the run-time dispatch to its SIMD variants), and
 * the signature similarity.
 *
 * Classic MinHash (Broder 1997) keeps, for each of k hash functions, the
 * minimum over the set; Pr[min equal] = Jaccard, so the fraction of equal
 * positions is an unbiased estimate with variance J(1-J)/k. It costs O(n k).
 *
 * One-permutation hashing (Li, Owen, Zhang 2012) hashes each element once:
 * the hash picks one of k bins and the bin keeps its minimum, O(n + k). Sets
 * with fewer elements than bins leave bins empty; optimal densification
 * (Shrivastava 2017, "Optimal densification for fast and accurate minwise
 * hashing", ICML) fills an empty bin i from the first non-empty bin of a
 * sequence that depends only on (seed, i, attempt). Both documents of a
 * pair walk the same sequence, so the first bin non-empty in either decides
 * the match: equal exactly when that bin's minimum over the union lies in
 * the intersection, which happens with probability J. The estimate stays
 * unbiased. Its variance is below the classic J(1-J)/k for sets of k or
 * more elements (bins sample without replacement) but up to about 1.6 times
 * it for much smaller sets, where each non-empty bin is copied about k/u
 * times and a bin holding a shared and an unshared element swings the
 * estimate by about 1/u (measured in tests/test_sketch.c).
 */
#include "sketch/minhash_impl.h"
#include "sketch/scan_impl.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

/* Salts that keep the seeds of distinct uses of one user seed apart. */
#define OPH_SALT  0x4F50482D42494E53ULL /* bin choice and value */
#define DENS_SALT 0x4F50482D44454E53ULL /* densification sequence */

/* Random probes per empty bin, per bin of the signature, before the
 * circular scan takes over. With m of k bins non-empty the scan is needed
 * with probability (1 - m/k)^(8k) < e^(-8m): 1e-7 at m = 2, 1e-14 at m = 4.
 * A lower cap would hand the sparsest sets to the scan, whose variance is
 * many times higher. */
#define DENS_ATTEMPTS_PER_BIN 8

static bool check_k(uint32_t k)
{
    return k >= 1 && k <= WN_MINHASH_MAX_K;
}

static void fill_empty(uint32_t *sig, uint32_t k)
{
    for (uint32_t i = 0; i < k; i++)
        sig[i] = WN_SIG_EMPTY;
}

/* A bin in [0, k) from the high 32 bits of v (Lemire's multiply-shift
 * range reduction: no division, no modulo bias beyond 2^-32). */
static inline uint32_t reduce(uint64_t v, uint32_t k)
{
    return (uint32_t)(((v >> 32) * k) >> 32);
}

/* Shingles per round of the AVX-512 bins (scan_avx512.c). */
#define OPH_ROUND 256U

/* Fill the k bins of sig with the minima of the shingles that fall in
 * them (WN_SIG_EMPTY where none does). */
static void oph_fill(const uint64_t *h, size_t n, uint32_t k, uint64_t seed,
                     uint32_t *sig)
{
    fill_empty(sig, k);
    wn__minhash_oph_update(h, n, k, seed, sig);
}

/* Lower each of the k bins of sig to the minimum of the shingles that
 * fall in it. */
void wn__minhash_oph_update(const uint64_t *h, size_t n, uint32_t k,
                            uint64_t seed, uint32_t *sig)
{
    uint64_t s = wn__mix64(seed ^ OPH_SALT);
    size_t i = 0;
#ifdef WN_HAVE_SCAN_AVX512
    if (wn__scan_avx512()) {
        /* The mixes 8 lanes at a time, then the same minima. */
        uint32_t bin[OPH_ROUND], val[OPH_ROUND];
        for (; i < n; i += OPH_ROUND) {
            size_t m = WN_MIN(n - i, (size_t)OPH_ROUND);
            wn__oph_bins_avx512(h + i, m, s, k, bin, val);
            for (size_t j = 0; j < m; j++) {
                uint32_t cur = sig[bin[j]];
                sig[bin[j]] = val[j] < cur ? val[j] : cur;
            }
        }
    }
#endif
    for (; i < n; i++) {
        /* The remix is a bijection for a fixed seed, so distinct shingles
         * stay distinct, and each seed gives an unrelated bin layout. */
        uint64_t v = wn__mix64(h[i] ^ s);
        uint32_t bin = reduce(v, k);
        uint32_t val = (uint32_t)v;
        if (val == WN_SIG_EMPTY)
            val--;
        /* Branch-free: whether a value is a new minimum is a coin flip
         * early on, and a mispredicted branch costs more than a store. */
        uint32_t cur = sig[bin];
        sig[bin] = val < cur ? val : cur;
    }
}

/* Bin i's value from the first full bin of its probe sequence. */
static void dens_fill(uint32_t *sig, uint32_t k, const uint64_t *full,
                      uint64_t ds, uint64_t attempts, uint32_t i)
{
    uint32_t src = k;
    for (uint64_t a = 1; a <= attempts; a++) {
        uint32_t j = reduce(wn__mix64(ds + ((uint64_t)i << 32) + a), k);
        if (full[j / 64] >> (j % 64) & 1) {
            src = j;
            break;
        }
    }
    for (uint32_t d = 1; src == k; d++) {
        uint32_t j = (i + d) % k;
        if (full[j / 64] >> (j % 64) & 1)
            src = j;
    }
    sig[i] = sig[src];
}

static void oph_densify(uint32_t *sig, uint32_t k, uint64_t seed)
{
    /* Which bins the shingles filled, before densification copies values
     * into the others: only those may be copied from. */
    uint64_t full[WN_MINHASH_MAX_K / 64];
    uint32_t nfull = 0;
    /* Branch-free (bins are mostly full), each word of the bitmap built
     * in a register: or-ing into full[] in memory made every bin wait for
     * the previous one's store. */
    for (uint32_t w = 0; w < (k + 63) / 64; w++) {
        uint32_t end = WN_MIN(k, w * 64 + 64);
        uint64_t m = 0;
        for (uint32_t i = w * 64; i < end; i++)
            m |= (uint64_t)(sig[i] != WN_SIG_EMPTY) << (i % 64);
        full[w] = m;
        nfull += (uint32_t)__builtin_popcountll(m);
    }
    if (nfull == k)
        return;
    assert(nfull > 0); /* n >= 1 puts a value in some bin */

    if (nfull == 1) {
        /* Every sequence ends at the one non-empty bin: copy it directly,
         * which is also what the probes would find. */
        uint32_t only = 0;
        while (!(full[only / 64] >> (only % 64) & 1))
            only++;
        uint32_t v = sig[only];
        for (uint32_t i = 0; i < k; i++)
            sig[i] = v;
        return;
    }

    uint64_t ds = wn__mix64(seed ^ DENS_SALT);
    uint64_t attempts = (uint64_t)DENS_ATTEMPTS_PER_BIN * k;
    /* The empty bins by bit scans of the bitmap, not a test per bin (a
     * misprediction at each empty one). Each takes its value from a bin
     * that was full, which none of these writes changes: the order is
     * free. */
    for (uint32_t w = 0; w < (k + 63) / 64; w++) {
        uint64_t empty = ~full[w];
        if (w == k / 64)
            empty &= ((uint64_t)1 << (k % 64)) - 1;
        for (; empty; empty &= empty - 1) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(empty);
            dens_fill(sig, k, full, ds, attempts, i);
        }
    }
}

int wn__minhash_oph(const uint64_t *h, size_t n, uint32_t k, uint64_t seed,
                    uint32_t *sig)
{
    if (!check_k(k))
        return WN_EINVAL;
    oph_fill(h, n, k, seed, sig);
    if (n == 0)
        return 0;
    oph_densify(sig, k, seed);
    return 1;
}

int wn__minhash_oph_fine(const uint64_t *h, size_t n, uint32_t k, uint32_t m,
                         uint64_t seed, uint32_t *sig, uint32_t *fine)
{
    if (!check_k(k) || m == 0 || m > WN_MINHASH_MAX_K / k)
        return WN_EINVAL;
    oph_fill(h, n, k * m, seed, fine);
    return wn__minhash_oph_fine_finish(fine, n > 0, k, m, seed, sig);
}

int wn__minhash_oph_fine_finish(const uint32_t *fine, bool any, uint32_t k,
                                uint32_t m, uint64_t seed, uint32_t *sig)
{
    if (!check_k(k) || m == 0 || m > WN_MINHASH_MAX_K / k)
        return WN_EINVAL;
    /* reduce() takes the bin from the high bits: bin b of k holds exactly
     * the shingles of fine bins b*m .. b*m+m-1, with the same values, so
     * the coarse minimum is the minimum of those fine minima. */
    for (uint32_t b = 0; b < k; b++) {
        uint32_t v = fine[(size_t)b * m];
        for (uint32_t j = 1; j < m; j++) {
            uint32_t x = fine[(size_t)b * m + j];
            v = x < v ? x : v;
        }
        sig[b] = v;
    }
    if (!any)
        return 0;
    oph_densify(sig, k, seed);
    return 1;
}

double wn__minhash_fine_similarity(const uint32_t *a, const uint32_t *b,
                                   uint32_t k)
{
    uint32_t used = 0, eq = 0;
    for (uint32_t i = 0; i < k; i++) {
        bool ea = a[i] == WN_SIG_EMPTY, eb = b[i] == WN_SIG_EMPTY;
        used += !(ea && eb);
        eq += !ea && a[i] == b[i];
    }
    return used ? (double)eq / (double)used : 1.0;
}

int wn__minhash_classic_ref(const uint64_t *h, size_t n, uint32_t k,
                            uint64_t seed, uint32_t *sig)
{
    if (!check_k(k))
        return WN_EINVAL;
    if (n == 0) {
        fill_empty(sig, k);
        return 0;
    }
    uint64_t st = seed;
    for (uint32_t i = 0; i < k; i++) {
        uint64_t a, b;
        wn__classic_params(&st, &a, &b, 1, 1);
        uint32_t m = UINT32_MAX;
        for (size_t j = 0; j < n; j++) {
            uint32_t v = wn__classic_hash(a, b, h[j]);
            m = v < m ? v : m;
        }
        sig[i] = m;
    }
    return 1;
}

#ifdef WN_HAVE_X86_KERNELS
static int classic_avx2(const uint64_t *h, size_t n, uint32_t k, uint64_t seed,
                        uint32_t *sig)
{
    if (!check_k(k))
        return WN_EINVAL;
    if (n == 0) {
        fill_empty(sig, k);
        return 0;
    }
    wn__classic_avx2(h, n, k, seed, sig);
    return 1;
}

static int classic_avx512(const uint64_t *h, size_t n, uint32_t k,
                          uint64_t seed, uint32_t *sig)
{
    if (!check_k(k))
        return WN_EINVAL;
    if (n == 0) {
        fill_empty(sig, k);
        return 0;
    }
    wn__classic_avx512(h, n, k, seed, sig);
    return 1;
}
#endif

/* The variants this CPU runs, fastest first; written once by pthread_once
 * and read-only afterwards. */
static struct wn_minhash_impl impls[3];
static size_t nimpls;
static pthread_once_t impls_once = PTHREAD_ONCE_INIT;

static void choose_impls(void)
{
    size_t n = 0;
    /* WINNOW_NO_SIMD=1 keeps only the portable reference: for benchmarks
     * that compare with it end to end, and for checking a suspect kernel. */
    const char *no_simd = getenv("WINNOW_NO_SIMD");
    bool simd = !(no_simd && *no_simd && strcmp(no_simd, "0") != 0);
#ifdef WN_HAVE_X86_KERNELS
    __builtin_cpu_init();
    if (!simd)
        goto portable;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))
        impls[n++] = (struct wn_minhash_impl){"avx512", classic_avx512};
    if (__builtin_cpu_supports("avx2"))
        impls[n++] = (struct wn_minhash_impl){"avx2", classic_avx2};
portable:
#endif
    (void)simd;
    impls[n++] = (struct wn_minhash_impl){"portable", wn__minhash_classic_ref};
    nimpls = n;
}

size_t wn__minhash_classic_impls(const struct wn_minhash_impl **out)
{
    pthread_once(&impls_once, choose_impls);
    *out = impls;
    return nimpls;
}

const char *wn__minhash_classic_impl_name(void)
{
    pthread_once(&impls_once, choose_impls);
    return impls[0].name;
}

int wn__minhash_classic(const uint64_t *h, size_t n, uint32_t k, uint64_t seed,
                        uint32_t *sig)
{
    pthread_once(&impls_once, choose_impls);
    return impls[0].fn(h, n, k, seed, sig);
}

int wn__minhash(int scheme, const uint64_t *h, size_t n, uint32_t k,
                uint64_t seed, uint32_t *sig)
{
    switch (scheme) {
    case WN_SKETCH_OPH:
        return wn__minhash_oph(h, n, k, seed, sig);
    case WN_SKETCH_CLASSIC:
        return wn__minhash_classic(h, n, k, seed, sig);
    default:
        return WN_EINVAL;
    }
}

double wn__minhash_similarity(const uint32_t *a, const uint32_t *b, uint32_t k)
{
    if (k == 0)
        return 0.0;
    uint32_t eq = 0;
    for (uint32_t i = 0; i < k; i++)
        eq += a[i] == b[i];
    return (double)eq / (double)k;
}
