/*
 * sketch.h - the sketch stage: shingle hashes, exact set measures, MinHash
 * (one-permutation with optimal densification, and classic K-permutation)
 * and SimHash with block-permuted keys.
 *
 * Everything here is deterministic across runs and machines: every random
 * choice comes from a seed argument through fixed integer arithmetic, and
 * byte strings are hashed in little-endian order. The SIMD variants of the
 * classic MinHash give bit-identical output to the portable reference.
 *
 * lib/sketch is the only user of xxHash (XXH3-64). None of these functions
 * keeps a pointer past the call; all are thread-safe (no shared state except
 * the classic MinHash dispatch pointer, which is set once atomically).
 *
 * Papers: Broder 1997 (resemblance and MinHash); Li, Owen, Zhang 2012
 * (one-permutation hashing); Shrivastava 2017 (optimal densification);
 * Charikar 2002 (SimHash); Manku, Jain, Das Sarma 2007 (near-duplicate
 * detection with block-permuted tables).
 */
#ifndef WN_SKETCH_H
#define WN_SKETCH_H

#include "common/common.h"

/* The value every position of an empty set's MinHash signature holds. */
#define WN_SIG_EMPTY 0xFFFFFFFFU

/*
 * The largest number of MinHash values per signature. The one-permutation
 * densification keeps a bitmap of k bits on the stack; 4096 is far above any
 * useful signature length for deduplication.
 */
#define WN_MINHASH_MAX_K 4096U

/* ------------------------------------------------------------------------ */
/* Hashing helpers                                                           */
/* ------------------------------------------------------------------------ */

/*
 * A bijective 64-bit finalizer (the splitmix64 output function, Steele,
 * Lea, Flood 2014): every input bit affects every output bit.
 */
static inline uint64_t wn__mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

/* The next value of the splitmix64 generator whose state is *state. */
static inline uint64_t wn__splitmix64(uint64_t *state)
{
    *state += 0x9E3779B97F4A7C15ULL;
    return wn__mix64(*state);
}

static inline unsigned wn__hamming64(uint64_t a, uint64_t b)
{
    return (unsigned)__builtin_popcountll(a ^ b);
}

/* XXH3-64 of len bytes at p with the given seed. */
WN_INTERNAL uint64_t wn__hash64(const void *p, size_t len, uint64_t seed);

/*
 * A 64-bit hash of n 32-bit values, defined on their little-endian bytes so
 * that it is the same on every machine: XXH3-64 over chunks of at most 64
 * values, each chunk seeded with the hash of the previous one (the first
 * with seed). n = 0 gives the hash of the empty string.
 */
WN_INTERNAL uint64_t wn__hash_u32s(const uint32_t *v, size_t n, uint64_t seed);

/* ------------------------------------------------------------------------ */
/* Shingles and exact set measures                                           */
/* ------------------------------------------------------------------------ */

/*
 * Shingle hashes of a token list. Each token is hashed once (XXH3-64 of its
 * normalized bytes with seed); each run of ngram consecutive tokens is
 * combined, in order, into one 64-bit hash. The combination depends only on
 * the token sequence: the same n-gram gives the same hash wherever it occurs,
 * and a reordered n-gram a different one. A text with 1..ngram-1 tokens gives
 * one shingle of all its tokens (equal to the shingle of that sequence at a
 * smaller ngram); 0 tokens give none.
 *
 * The hashes are written to (*out)[0 .. *n-1], in text order and NOT
 * deduplicated (MinHash does not care; wn__u64_sort_unique does that). *out
 * of *cap elements is grown with WN_GROW as needed and reused across calls;
 * the caller frees it with wn__free. Returns WN_OK, WN_EINVAL (ngram 0) or
 * WN_ENOMEM; on error *out, *n and *cap are unchanged (a grown buffer is
 * still valid). O(tokens * ngram).
 */
WN_INTERNAL int wn__shingles(const struct wn_tokens *t, unsigned ngram,
                             uint64_t seed, uint64_t **out, size_t *n,
                             size_t *cap);
/* The same with the AVX-512 fold (simd, used where the CPU has it and
 * WINNOW_NO_SIMD is unset) or the
 * portable loop: the same values (the tests compare the two). */
WN_INTERNAL int wn__shingles_variant(const struct wn_tokens *t, unsigned ngram,
                                     uint64_t seed, uint64_t **out, size_t *n,
                                     size_t *cap, bool simd);

/*
 * The shingles of a text whose tokens come in pieces (the tokens of
 * consecutive pieces of one text, lib/dedup/sketcher.c): the carry holds
 * the last ngram - 1 token hashes seen, so the windows that cross a cut are
 * made whole. Zero the carry (wn__shingle_carry_init), call
 * wn__shingles_piece for each piece's tokens in order, then
 * wn__shingles_last. The shingles given out, in order, are exactly those
 * of wn__shingles over all the tokens at once: each piece gives the
 * windows that end in it (*n of them in (*out)[0 .. *n-1], *out grown as
 * by wn__shingles), and wn__shingles_last gives the one shingle of a text
 * of 1..ngram-1 tokens (returns 1, its hash in *last) or nothing
 * (returns 0). Errors as wn__shingles; ngram <= WN_SHINGLE_CARRY_MAX + 1.
 */
#define WN_SHINGLE_CARRY_MAX 63
struct wn_shingle_carry {
    uint64_t h[WN_SHINGLE_CARRY_MAX];
    size_t n;      /* hashes held: min(ngram - 1, tokens) */
    uint64_t seen; /* tokens so far */
};
WN_INTERNAL void wn__shingle_carry_init(struct wn_shingle_carry *c);
WN_INTERNAL int wn__shingles_piece(const struct wn_tokens *t, unsigned ngram,
                                   uint64_t seed, struct wn_shingle_carry *c,
                                   uint64_t **out, size_t *n, size_t *cap);
WN_INTERNAL int wn__shingles_last(const struct wn_shingle_carry *c,
                                  unsigned ngram, uint64_t seed,
                                  uint64_t *last);

/* Sort v ascending and remove repeats in place; returns the new count.
 * O(n log n), no allocation. */
WN_INTERNAL size_t wn__u64_sort_unique(uint64_t *v, size_t n);

/* |A ∩ B| of two sorted, duplicate-free arrays. O(na + nb). */
WN_INTERNAL size_t wn__intersect_sorted(const uint64_t *a, size_t na,
                                        const uint64_t *b, size_t nb);

/*
 * |A ∩ B| / |A ∪ B| of two sorted, duplicate-free arrays. Two empty sets are
 * identical, so their Jaccard similarity is 1; one empty set against a
 * non-empty one gives 0. Containment of A in B is
 * wn__intersect_sorted() / na.
 */
WN_INTERNAL double wn__jaccard_sorted(const uint64_t *a, size_t na,
                                      const uint64_t *b, size_t nb);

/* ------------------------------------------------------------------------ */
/* MinHash                                                                   */
/* ------------------------------------------------------------------------ */

enum wn_sketch_scheme {
    WN_SKETCH_OPH = 0,    /* one permutation, optimal densification */
    WN_SKETCH_CLASSIC = 1 /* K independent multiply-shift hashes */
};

/*
 * The default scheme, chosen by measurement (bench/bench_sketch.c, K = 128,
 * 100..2000 shingles per document): OPH runs at about 160 M shingles/s,
 * three times the AVX-512 classic MinHash and twenty times the portable one,
 * and is as accurate or better for documents of K or more shingles (up to
 * 1.6 times the classic variance for much shorter ones; tests/test_sketch.c).
 */
#define WN_SKETCH_DEFAULT WN_SKETCH_OPH

/*
 * The MinHash functions below take n shingle hashes h (repeats allowed),
 * write k values to sig and return 1; when n is 0 they fill sig with
 * WN_SIG_EMPTY and return 0. They fail with WN_EINVAL when k is 0 or larger
 * than WN_MINHASH_MAX_K (sig untouched). Two signatures are comparable only
 * when made by the same scheme, k and seed. The fraction of equal positions
 * (wn__minhash_similarity) estimates the Jaccard similarity of the two
 * shingle sets without bias.
 */

/*
 * One-permutation hashing with optimal densification (Shrivastava 2017).
 * Each hash is remixed with the seed; its high 32 bits pick one of k bins
 * and its low 32 bits are the value kept if it is the bin's minimum (values
 * are capped at 0xFFFFFFFE so that WN_SIG_EMPTY marks an empty bin). An
 * empty bin i then copies the value of the first non-empty bin in a sequence
 * that depends only on (seed, i, attempt): 8k pseudo-random bins, then, in
 * the rare case that all of those are empty, the bins to the right of i
 * circularly (the rotation of Shrivastava and Li 2014). Because the sequence
 * is the same for every document, two documents copy from the same bin
 * whenever it is non-empty in both, which keeps the estimate unbiased. The
 * variance is at or below the classic scheme's when the union has k or more
 * shingles, and above it for much smaller unions: at k = 128, about 1.6
 * times at 4 shingles, 1.4 at 16, 1.3 at 32, 1.1 at 64. With m non-empty
 * bins, O(n + k^2 / m) expected (O(n + k) once n >= k), O(n + 8 k^2) worst.
 */
WN_INTERNAL int wn__minhash_oph(const uint64_t *h, size_t n, uint32_t k,
                                uint64_t seed, uint32_t *sig);

/*
 * The same signature (bit-identical to wn__minhash_oph with k), and in one
 * pass over the shingles a finer one of k * m bins (k * m at most
 * WN_MINHASH_MAX_K) for the verification of candidate pairs: the k-bin
 * signature feeds LSH, the fine one decides the pairs. The fine bins are
 * not densified (WN_SIG_EMPTY where no shingle fell): densifying 4K bins
 * costs more than the rest of the sketching, and the estimator of Li, Owen
 * and Zhang (2012), matches over the bins not empty in both
 * (wn__minhash_fine_similarity), is unbiased without it. Its spread is
 * that of a K-permutation MinHash with as many values as the union fills
 * bins: at J = 0.8, 0.016 for large documents against 0.034 with K = 128.
 */
WN_INTERNAL int wn__minhash_oph_fine(const uint64_t *h, size_t n, uint32_t k,
                                     uint32_t m, uint64_t seed, uint32_t *sig,
                                     uint32_t *fine);
/*
 * wn__minhash_oph_fine in parts, for shingles that come in pieces (a large
 * text sketched chunk by chunk, lib/dedup/sketcher.c): fill the k * m fine
 * bins with WN_SIG_EMPTY, call wn__minhash_oph_update(piece, n, k * m, seed,
 * fine) for every piece (each bin keeps its minimum, so the order and the
 * cut do not matter), then wn__minhash_oph_fine_finish with any = whether
 * some piece had a shingle: sig and fine are bit-identical to those of
 * wn__minhash_oph_fine over the concatenation, and so is the return value.
 */
WN_INTERNAL void wn__minhash_oph_update(const uint64_t *h, size_t n,
                                        uint32_t km, uint64_t seed,
                                        uint32_t *fine);
WN_INTERNAL int wn__minhash_oph_fine_finish(const uint32_t *fine, bool any,
                                            uint32_t k, uint32_t m,
                                            uint64_t seed, uint32_t *sig);
/* Matches over the bins not empty in both fine signatures of k bins. */
WN_INTERNAL double wn__minhash_fine_similarity(const uint32_t *a,
                                               const uint32_t *b, uint32_t k);

/*
 * Classic K-permutation MinHash: sig[i] = min over x of
 * ((a_i * x + b_i) mod 2^64) >> 32, multiply-shift hashing on 64-bit lanes,
 * with a_i (odd) and b_i drawn in the order a_0, b_0, a_1, b_1, ... from
 * splitmix64 started at seed. wn__minhash_classic runs the fastest variant
 * this CPU supports (chosen once, at the first call, with
 * __builtin_cpu_supports); wn__minhash_classic_ref is the portable reference.
 * All variants give bit-identical output. O(n k).
 */
WN_INTERNAL int wn__minhash_classic(const uint64_t *h, size_t n, uint32_t k,
                                    uint64_t seed, uint32_t *sig);
WN_INTERNAL int wn__minhash_classic_ref(const uint64_t *h, size_t n, uint32_t k,
                                        uint64_t seed, uint32_t *sig);

/* A variant of the classic MinHash, for tests and benchmarks. */
struct wn_minhash_impl {
    const char *name; /* "avx512", "avx2", "portable" */
    int (*fn)(const uint64_t *h, size_t n, uint32_t k, uint64_t seed,
              uint32_t *sig);
};

/*
 * The classic variants this CPU can run, fastest first, the portable
 * reference last. *out points to a static array; returns its length (>= 1).
 */
WN_INTERNAL size_t
wn__minhash_classic_impls(const struct wn_minhash_impl **out);

/* The name of the variant wn__minhash_classic uses on this CPU. */
WN_INTERNAL const char *wn__minhash_classic_impl_name(void);

/* wn__minhash_oph or wn__minhash_classic by scheme (WN_EINVAL otherwise). */
WN_INTERNAL int wn__minhash(int scheme, const uint64_t *h, size_t n, uint32_t k,
                            uint64_t seed, uint32_t *sig);

/* Fraction of the k positions where a and b are equal (0 when k is 0). */
WN_INTERNAL double wn__minhash_similarity(const uint32_t *a, const uint32_t *b,
                                          uint32_t k);

/* ------------------------------------------------------------------------ */
/* SimHash                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * SimHash (Charikar 2002): bit j of the fingerprint is 1 when more than half
 * of the n shingle hashes have bit j set (each hash votes on every bit; a
 * tie gives 0). Near-identical shingle multisets give fingerprints at a small
 * Hamming distance. n = 0 gives 0. O(64 n).
 */
WN_INTERNAL uint64_t wn__simhash64(const uint64_t *h, size_t n);
/* wn__simhash64 in parts, for shingles that come in pieces: zero ones[],
 * add every piece's votes, then the fingerprint of the n shingles added in
 * all (the same bits as one call over their concatenation). */
WN_INTERNAL void wn__simhash_add(const uint64_t *h, size_t n,
                                 uint32_t ones[64]);
WN_INTERNAL uint64_t wn__simhash_fp(const uint32_t ones[64], uint64_t n);

/*
 * Table keys for finding fingerprints within Hamming distance k (Manku, Jain,
 * Das Sarma 2007). The 64 bits are split into k + m contiguous blocks (the
 * first 64 mod (k+m) blocks one bit wider). Two fingerprints within distance
 * k differ in at most k blocks, so they agree on at least m whole blocks:
 * one key per choice of m blocks out of k + m (tables in lexicographic order
 * of the chosen blocks), each the hash of the table index and the chosen
 * bits, guarantees that every such pair shares a key in the same table.
 *
 * Writes min(count, cap) keys and returns count = C(k+m, m), or 0 when m is
 * 0, k + m > 64 or count exceeds 2^20. O(count).
 */
WN_INTERNAL unsigned wn__simhash_keys(uint64_t fp, unsigned k, unsigned m,
                                      uint64_t *keys, unsigned cap);

#endif /* WN_SKETCH_H */
