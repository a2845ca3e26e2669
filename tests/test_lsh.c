/*
 * test_lsh.c - the S-curve, the error areas against an independent
 * quadrature, the optimal banding (constraints and local optimality) and
 * band keys.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lsh/lsh.h"

/* The S-curve by the textbook formula, with pow only. */
static double prob_naive(double s, unsigned b, unsigned r)
{
    return 1.0 - pow(1.0 - pow(s, r), b);
}

/*
 * Composite Simpson's rule with STEPS intervals on each side of t: an
 * integrator independent of the library's Gauss-Legendre one. Its error is
 * about h^4 max|f''''| / 180 < 1e-9 for the curves used here.
 */
#define STEPS 20000

static void areas_simpson(double t, unsigned b, unsigned r, double *fp,
                          double *fn)
{
    double h = t / STEPS, sum = 0;
    for (int i = 0; i <= STEPS; i++) {
        double w = (i == 0 || i == STEPS) ? 1 : (i % 2 ? 4 : 2);
        sum += w * prob_naive(i * h, b, r);
    }
    *fp = sum * h / 3;
    h = (1 - t) / STEPS;
    sum = 0;
    for (int i = 0; i <= STEPS; i++) {
        double w = (i == 0 || i == STEPS) ? 1 : (i % 2 ? 4 : 2);
        sum += w * (1 - prob_naive(t + i * h, b, r));
    }
    *fn = sum * h / 3;
}

static void test_candidate_prob(void **state)
{
    (void)state;
    assert_true(fabs(wn__lsh_candidate_prob(0.5, 2, 2) - 0.4375) < 1e-15);
    assert_true(wn__lsh_candidate_prob(0.0, 20, 5) == 0.0);
    assert_true(wn__lsh_candidate_prob(1.0, 20, 5) == 1.0);
    assert_true(wn__lsh_candidate_prob(-0.5, 20, 5) == 0.0);
    assert_true(wn__lsh_candidate_prob(1.5, 20, 5) == 1.0);
    const unsigned br[][2] = {{1, 1}, {20, 5}, {9, 13}, {128, 1}, {1, 128}};
    for (size_t c = 0; c < WN_ARRAY_LEN(br); c++) {
        double prev = 0;
        for (int i = 1; i < 100; i++) {
            double s = i / 100.0;
            double p = wn__lsh_candidate_prob(s, br[c][0], br[c][1]);
            assert_true(fabs(p - prob_naive(s, br[c][0], br[c][1])) < 1e-12);
            assert_true(p >= prev);
            prev = p;
        }
    }
    /* One band of one row: the similarity itself. */
    assert_true(fabs(wn__lsh_candidate_prob(0.3, 1, 1) - 0.3) < 1e-15);
}

static void test_error_areas_match_simpson(void **state)
{
    (void)state;
    const double ts[] = {0.3, 0.5, 0.8, 0.9};
    const unsigned br[][2] = {{1, 1},  {16, 8},  {9, 13},
                              {32, 8}, {1, 256}, {256, 1}};
    for (size_t i = 0; i < WN_ARRAY_LEN(ts); i++) {
        for (size_t c = 0; c < WN_ARRAY_LEN(br); c++) {
            double fp, fn, sfp, sfn;
            assert_int_equal(
                wn__lsh_error_areas(ts[i], br[c][0], br[c][1], &fp, &fn),
                WN_OK);
            areas_simpson(ts[i], br[c][0], br[c][1], &sfp, &sfn);
            assert_true(fabs(fp - sfp) < 1e-9);
            assert_true(fabs(fn - sfn) < 1e-9);
        }
    }
    /* b = r = 1: P(s) = s, so FP = t^2/2 and FN = (1-t)^2/2. */
    double fp, fn;
    assert_int_equal(wn__lsh_error_areas(0.6, 1, 1, &fp, &fn), WN_OK);
    assert_true(fabs(fp - 0.18) < 1e-14);
    assert_true(fabs(fn - 0.08) < 1e-14);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    struct wn_lsh_params p = {7, 7, 7, 7};
    double fp = 5, fn = 5;

    assert_int_equal(wn__lsh_optimal(0.0, 128, 0.5, 0.5, &p), WN_EINVAL);
    assert_int_equal(wn__lsh_optimal(1.0, 128, 0.5, 0.5, &p), WN_EINVAL);
    assert_int_equal(wn__lsh_optimal(NAN, 128, 0.5, 0.5, &p), WN_EINVAL);
    assert_int_equal(wn__lsh_optimal(0.5, 0, 0.5, 0.5, &p), WN_EINVAL);
    assert_int_equal(wn__lsh_optimal(0.5, WN_MINHASH_MAX_K + 1, 0.5, 0.5, &p),
                     WN_EINVAL);
    assert_int_equal(wn__lsh_optimal(0.5, 128, -0.1, 0.5, &p), WN_EINVAL);
    assert_int_equal(wn__lsh_optimal(0.5, 128, 0.0, 0.0, &p), WN_EINVAL);
    assert_int_equal(wn__lsh_optimal(0.5, 128, INFINITY, 0.5, &p), WN_EINVAL);
    assert_int_equal(p.bands, 7);
    assert_int_equal(wn__lsh_error_areas(0.5, 0, 4, &fp, &fn), WN_EINVAL);
    assert_int_equal(wn__lsh_error_areas(1.5, 4, 4, &fp, &fn), WN_EINVAL);
    assert_true(fp == 5 && fn == 5);
}

static double werr(double t, int b, int r)
{
    double fp, fn;
    areas_simpson(t, (unsigned)b, (unsigned)r, &fp, &fn);
    return 0.5 * fp + 0.5 * fn;
}

static void test_optimal_is_locally_optimal(void **state)
{
    (void)state;
    const struct {
        double t;
        uint32_t k;
    } cases[] = {{0.8, 128}, {0.5, 128}, {0.9, 256}};

    for (size_t c = 0; c < WN_ARRAY_LEN(cases); c++) {
        double t = cases[c].t;
        uint32_t k = cases[c].k;
        struct wn_lsh_params p, q;
        assert_int_equal(wn__lsh_optimal(t, k, 0.5, 0.5, &p), WN_OK);
        /* Deterministic: the same answer twice. */
        assert_int_equal(wn__lsh_optimal(t, k, 0.5, 0.5, &q), WN_OK);
        assert_memory_equal(&p, &q, sizeof(p));
        print_message("# t=%.2f K=%u: bands %u rows %u  FP area %.5f  "
                      "FN area %.5f  curve midpoint (1/b)^(1/r) %.3f\n",
                      t, k, p.bands, p.rows, p.fp_area, p.fn_area,
                      pow(1.0 / p.bands, 1.0 / p.rows));
        assert_true(p.bands >= 1 && p.rows >= 1);
        assert_true((uint64_t)p.bands * p.rows <= k);
        /* The steep part of the S-curve sits near the threshold. */
        assert_true(fabs(pow(1.0 / p.bands, 1.0 / p.rows) - t) < 0.1);

        /* The areas agree with the independent quadrature, and no feasible
         * neighbour does better (1e-9: the quadratures' error). */
        double best = werr(t, (int)p.bands, (int)p.rows);
        assert_true(fabs(best - (0.5 * p.fp_area + 0.5 * p.fn_area)) < 1e-9);
        for (int db = -1; db <= 1; db++) {
            for (int dr = -1; dr <= 1; dr++) {
                int b = (int)p.bands + db, r = (int)p.rows + dr;
                if ((db == 0 && dr == 0) || b < 1 || r < 1 ||
                    (uint64_t)b * (uint64_t)r > k)
                    continue;
                assert_true(werr(t, b, r) >= best - 1e-9);
            }
        }
    }
}

/* With only false negatives weighted, the most permissive banding wins:
 * K bands of one row have the highest candidate probability everywhere. */
static void test_optimal_extreme_weights(void **state)
{
    (void)state;
    struct wn_lsh_params p;

    assert_int_equal(wn__lsh_optimal(0.7, 64, 0.0, 1.0, &p), WN_OK);
    assert_int_equal(p.bands, 64);
    assert_int_equal(p.rows, 1);
    /* Only false positives weighted: one band of all K rows. */
    assert_int_equal(wn__lsh_optimal(0.7, 64, 1.0, 0.0, &p), WN_OK);
    assert_int_equal(p.bands, 1);
    assert_int_equal(p.rows, 64);
    /* K = 1 leaves one choice. */
    assert_int_equal(wn__lsh_optimal(0.5, 1, 0.5, 0.5, &p), WN_OK);
    assert_int_equal(p.bands, 1);
    assert_int_equal(p.rows, 1);
}

#define FROZEN_BAND0 0x81872d54f2ed033aull
#define FROZEN_BAND3 0x50038350dc7cc67eull

static void test_band_keys(void **state)
{
    (void)state;
    uint32_t sig[256], other[256];
    uint64_t k1[64], k2[64];

    /* Identical rows in every band: still a different key per band. */
    for (int i = 0; i < 256; i++)
        sig[i] = 0xDEADBEEF;
    wn__lsh_band_keys(sig, 64, 4, 1, k1);
    wn__lsh_band_keys(sig, 64, 4, 1, k2);
    assert_memory_equal(k1, k2, sizeof(k1));
    wn__u64_sort_unique(k2, 64);
    for (int j = 1; j < 64; j++)
        assert_true(k2[j] != k2[j - 1]);

    /* A change in band 5 changes key 5 and no other. */
    memcpy(other, sig, sizeof(sig));
    other[5 * 4 + 2] ^= 1;
    wn__lsh_band_keys(other, 64, 4, 1, k2);
    for (int j = 0; j < 64; j++)
        assert_true((k1[j] == k2[j]) == (j != 5));

    /* Another seed, other keys. */
    wn__lsh_band_keys(sig, 64, 4, 2, k2);
    for (int j = 0; j < 64; j++)
        assert_true(k1[j] != k2[j]);

    /* Long bands go through several hash chunks; the last value counts. */
    for (int i = 0; i < 256; i++)
        sig[i] = (uint32_t)i * 2654435761u;
    memcpy(other, sig, sizeof(sig));
    other[199] ^= 0x80000000u;
    wn__lsh_band_keys(sig, 1, 200, 3, k1);
    wn__lsh_band_keys(other, 1, 200, 3, k2);
    assert_true(k1[0] != k2[0]);
    other[200] ^= 1; /* outside the band */
    wn__lsh_band_keys(other, 1, 200, 3, k1);
    assert_true(k1[0] == k2[0]);

    /* Frozen: saved indexes depend on these values. */
    const uint32_t s8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    wn__lsh_band_keys(s8, 4, 2, 9, k1);
    assert_true(k1[0] == FROZEN_BAND0);
    assert_true(k1[3] == FROZEN_BAND3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_candidate_prob),
        cmocka_unit_test(test_error_areas_match_simpson),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_optimal_is_locally_optimal),
        cmocka_unit_test(test_optimal_extreme_weights),
        cmocka_unit_test(test_band_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
