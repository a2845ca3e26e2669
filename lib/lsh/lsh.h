/*
 * lsh.h - locality-sensitive hashing of MinHash signatures: the banding
 * parameters chosen from a similarity threshold, and the band keys that the
 * candidate join groups documents by.
 *
 * A signature of b * r values is cut into b bands of r rows; two documents
 * become candidates when all rows of at least one band agree, which for
 * Jaccard similarity s happens with probability 1 - (1 - s^r)^b, an S-curve
 * whose steep part sits near (1/b)^(1/r) (Leskovec, Rajaraman, Ullman,
 * "Mining of Massive Datasets", ch. 3). All functions are pure and
 * thread-safe; nothing is kept past a call.
 */
#ifndef WN_LSH_H
#define WN_LSH_H

#include "sketch/sketch.h"

struct wn_lsh_params {
    uint32_t bands, rows;
    double fp_area; /* integral of the candidate probability over [0, t] */
    double fn_area; /* integral of its complement over [t, 1] */
};

/* Probability that a pair with Jaccard similarity s (clamped to [0, 1])
 * shares at least one band: 1 - (1 - s^rows)^bands. */
WN_INTERNAL double wn__lsh_candidate_prob(double s, uint32_t bands,
                                          uint32_t rows);

/*
 * The false-positive area (integral of the candidate probability over
 * [0, threshold]) and false-negative area (integral of one minus it over
 * [threshold, 1]) of a banding, by composite Gauss-Legendre quadrature
 * (16 panels of 16 nodes on each side; the integrand is a polynomial of
 * degree bands * rows, and the error is far below 1e-9). WN_EINVAL when
 * threshold is outside (0, 1) or bands or rows is 0.
 */
WN_INTERNAL int wn__lsh_error_areas(double threshold, uint32_t bands,
                                    uint32_t rows, double *fp_area,
                                    double *fn_area);

/*
 * The banding (bands, rows), bands * rows <= num_perm, that minimizes
 * w_fp * fp_area + w_fn * fn_area: the criterion of datasketch's MinHashLSH
 * (ekzhu/datasketch, lsh.py, _optimal_param), with the same search order
 * (bands ascending, then rows ascending) and the first minimum kept on ties.
 * Deterministic: a fixed quadrature and a fixed search order.
 * O(num_perm log num_perm) area evaluations (about 16 ms at num_perm 256).
 *
 * Fails with WN_EINVAL when threshold is outside (0, 1), num_perm is 0 or
 * above WN_MINHASH_MAX_K, or a weight is negative or not finite or both are
 * 0; *out is untouched then.
 */
WN_INTERNAL int wn__lsh_optimal(double threshold, uint32_t num_perm,
                                double w_fp, double w_fn,
                                struct wn_lsh_params *out);

/*
 * Band keys of a signature of at least bands * rows values: keys[j] is the
 * 64-bit hash (wn__hash_u32s) of sig[j*rows .. j*rows + rows - 1] seeded
 * with a value derived from seed and j, so equal rows in different bands
 * give different keys and one sorted key space can hold every band. Empty
 * documents (all WN_SIG_EMPTY) share all their keys; callers leave them out
 * of the join. O(bands * rows).
 */
WN_INTERNAL void wn__lsh_band_keys(const uint32_t *sig, uint32_t bands,
                                   uint32_t rows, uint64_t seed,
                                   uint64_t *keys);

#endif /* WN_LSH_H */
