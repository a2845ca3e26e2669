/*
 * scan_impl.h - private to lib/sketch: the per-shingle loops of pass 1
 * (the n-gram fold of wn__shingles and the anchors' mix of
 * wn__contain_anchors) in a portable form and an AVX-512 form that gives the
 * same bits, and the choice between them, made once per process
 * (WINNOW_NO_SIMD=1 keeps the portable loops, like the MinHash kernels).
 */
#ifndef WN_SCAN_IMPL_H
#define WN_SCAN_IMPL_H

#include "sketch/sketch.h"

/* An odd 64-bit constant (the golden ratio) for the fold's multiplies. */
#define WN_FOLD_MUL 0x9E3779B97F4A7C15ULL
/* What the anchors xor into a shingle hash before mixing it. */
#define WN_ANCHOR_SALT 0xA0761D6478BD642FULL

/* Whether the AVX-512 loops run here (F and DQ, and not WINNOW_NO_SIMD). */
WN_INTERNAL bool wn__scan_avx512(void);

/*
 * In place, for i < count: h[i] = the fold of h[i .. i + ngram - 1] from
 * fseed (see shingle.c), h holding count + ngram - 1 token hashes. The
 * AVX-512 form does whole vectors of 8 and returns how many shingles it
 * folded (a multiple of 8); the caller folds the rest.
 */
WN_INTERNAL size_t wn__fold_avx512(uint64_t *h, size_t count, unsigned ngram,
                                   uint64_t fseed);

/*
 * Append to buf every x = wn__mix64(sh[i] ^ WN_ANCHOR_SALT), i < n, with
 * (x & mask) == 0 and x <= thr, in order; returns how many. buf has room
 * for n + 8 values (the AVX-512 form stores whole vectors).
 */
WN_INTERNAL size_t wn__anchor_scan_avx512(const uint64_t *sh, size_t n,
                                          uint64_t mask, uint64_t thr,
                                          uint64_t *buf);

/*
 * The one-permutation MinHash's bin and value of each of h[0..n) (see
 * oph_fill in minhash.c): v = wn__mix64(h[i] ^ salt), bin[i] = ((v >> 32)
 * * k) >> 32, val[i] = the low 32 bits of v, one less if they are
 * WN_SIG_EMPTY.
 */
WN_INTERNAL void wn__oph_bins_avx512(const uint64_t *h, size_t n, uint64_t salt,
                                     uint32_t k, uint32_t *bin, uint32_t *val);

/*
 * Sort a[0..n), n <= 64, ascending: each value's stable rank counted with
 * 16-lane compares against all of them, and the value stored at its rank.
 */
WN_INTERNAL void wn__sort_u32_avx512(uint32_t *a, size_t n);
/* The same for 64-bit values, n <= 64. */
WN_INTERNAL void wn__sort_u64_avx512(uint64_t *a, size_t n);

#if defined(__x86_64__)
#define WN_HAVE_SCAN_AVX512 1
#endif

#endif /* WN_SCAN_IMPL_H */
