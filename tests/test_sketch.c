/*
 * test_sketch.c - shingles, exact set measures, MinHash (both schemes, every
 * SIMD variant against the reference, statistical unbiasedness) and SimHash.
 *
 * Every random input comes from a fixed-seed splitmix64 stream, so each run
 * sees the same numbers and the statistical bounds below either always pass
 * or always fail; the margins they pass by are printed as TAP comments.
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

#include "sketch/hash128.h"
#include "sketch/sketch.h"

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
    rng_state = s;
}

static uint64_t rnd(void)
{
    return wn__splitmix64(&rng_state);
}

/* Uniform in [0, 1). */
static double rnd_unit(void)
{
    return (double)(rnd() >> 11) * 0x1.0p-53;
}

/* ------------------------------------------------------------------------ */
/* Token lists built by hand, without the tokenizer                          */
/* ------------------------------------------------------------------------ */

#define MAX_TOK 64

struct toks {
    struct wn_tokens t;
    char norm[1024];
    struct wn_token tok[MAX_TOK];
};

/* Tokens from a space-separated string (no tokenizer involved). */
static void toks_make(struct toks *x, const char *text)
{
    memset(x, 0, sizeof(*x));
    x->t.norm = x->norm;
    x->t.tok = x->tok;
    x->t.cap = MAX_TOK;
    x->t.norm_cap = sizeof(x->norm);
    size_t off = 0;
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != ' ')
            p++;
        size_t len = (size_t)(p - s);
        assert_true(x->t.n < MAX_TOK && off + len + 1 <= sizeof(x->norm));
        memcpy(x->norm + off, s, len);
        x->norm[off + len] = '\0';
        x->tok[x->t.n] = (struct wn_token){(uint32_t)off, (uint32_t)len,
                                           (uint32_t)off, (uint32_t)len};
        x->t.n++;
        off += len + 1;
    }
    x->t.norm_len = off;
}

/* Shingles of text into a fresh array; the caller frees *out. */
static size_t shingle_text(const char *text, unsigned ngram, uint64_t seed,
                           uint64_t **out)
{
    struct toks x;
    size_t n = 0, cap = 0;
    toks_make(&x, text);
    *out = NULL;
    assert_int_equal(wn__shingles(&x.t, ngram, seed, out, &n, &cap), WN_OK);
    return n;
}

static void test_shingles_counts(void **state)
{
    (void)state;
    uint64_t *h;

    assert_int_equal(shingle_text("", 3, 1, &h), 0);
    wn__free(h);
    assert_int_equal(shingle_text("a b c d e f g", 3, 1, &h), 5);
    wn__free(h);
    assert_int_equal(shingle_text("a b c d e f g", 7, 1, &h), 1);
    wn__free(h);
    assert_int_equal(shingle_text("a b c d e f g", 1, 1, &h), 7);
    wn__free(h);
    /* Fewer tokens than n: one shingle of all of them. */
    assert_int_equal(shingle_text("a b", 5, 1, &h), 1);
    wn__free(h);

    struct toks x;
    size_t n = 99, cap = 0;
    uint64_t *out = NULL;
    toks_make(&x, "a b c");
    assert_int_equal(wn__shingles(&x.t, 0, 1, &out, &n, &cap), WN_EINVAL);
    assert_null(out);
    assert_int_equal(n, 99);
}

static void test_shingles_short_text_equals_full_ngram(void **state)
{
    (void)state;
    uint64_t *a, *b, *c;

    /* "x y" at n = 5 is the n-gram "x y", the same as at n = 2, and the same
     * as the 2-gram "x y" inside a longer text. */
    assert_int_equal(shingle_text("x y", 5, 7, &a), 1);
    assert_int_equal(shingle_text("x y", 2, 7, &b), 1);
    assert_int_equal(shingle_text("w x y z", 2, 7, &c), 3);
    assert_true(a[0] == b[0]);
    assert_true(a[0] == c[1]);
    wn__free(a);
    wn__free(b);
    wn__free(c);
}

static void test_shingles_order_position_seed(void **state)
{
    (void)state;
    uint64_t *a, *b, *c, *d;

    assert_int_equal(shingle_text("a b c", 3, 1, &a), 1);
    assert_int_equal(shingle_text("c b a", 3, 1, &b), 1);
    assert_true(a[0] != b[0]);
    assert_int_equal(shingle_text("a b c", 3, 2, &c), 1);
    assert_true(a[0] != c[0]);
    /* The same trigram at another position gives the same hash. */
    assert_int_equal(shingle_text("q r a b c s", 3, 1, &d), 4);
    assert_true(d[2] == a[0]);
    wn__free(a);
    wn__free(b);
    wn__free(c);
    wn__free(d);

    /* Token boundaries count: "ab" is not "a b", "a a" is not "a". */
    assert_int_equal(shingle_text("ab", 2, 1, &a), 1);
    assert_int_equal(shingle_text("a b", 2, 1, &b), 1);
    assert_int_equal(shingle_text("a a", 2, 1, &c), 1);
    assert_int_equal(shingle_text("a", 2, 1, &d), 1);
    assert_true(a[0] != b[0]);
    assert_true(c[0] != d[0]);
    wn__free(a);
    wn__free(b);
    wn__free(c);
    wn__free(d);

    /* n = 1: equal tokens give equal hashes, distinct ones distinct. */
    assert_int_equal(shingle_text("a b a c", 1, 1, &a), 4);
    assert_true(a[0] == a[2]);
    assert_true(a[0] != a[1] && a[1] != a[3] && a[0] != a[3]);
    wn__free(a);
}

static void test_shingles_reuse_and_enomem(void **state)
{
    (void)state;
    struct toks x;
    uint64_t *out = NULL;
    size_t n = 7, cap = 0;

    toks_make(&x, "one two three four five six");
    wn_alloc_fail_after(0);
    assert_int_equal(wn__shingles(&x.t, 2, 1, &out, &n, &cap), WN_ENOMEM);
    wn_alloc_fail_after(-1);
    assert_null(out);
    assert_int_equal(n, 7);
    assert_int_equal(cap, 0);

    assert_int_equal(wn__shingles(&x.t, 2, 1, &out, &n, &cap), WN_OK);
    assert_int_equal(n, 5);
    uint64_t first = out[0];
    /* A second, shorter text reuses the buffer without allocating. */
    toks_make(&x, "one two three");
    wn_alloc_fail_after(0);
    assert_int_equal(wn__shingles(&x.t, 2, 1, &out, &n, &cap), WN_OK);
    wn_alloc_fail_after(-1);
    assert_int_equal(n, 2);
    assert_true(out[0] == first);
    wn__free(out);
}

/* ------------------------------------------------------------------------ */
/* Exact set measures                                                        */
/* ------------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_sort_unique_matches_qsort(void **state)
{
    (void)state;
    rng_seed(11);
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(rnd() % 3000);
        uint64_t *a = malloc((n + 1) * sizeof(*a));
        uint64_t *b = malloc((n + 1) * sizeof(*b));
        int shape = round % 5;
        uint64_t range = round % 3 == 0 ? 8 : UINT64_MAX;
        for (size_t i = 0; i < n; i++) {
            switch (shape) {
            case 0: /* ascending */
                a[i] = i / 3;
                break;
            case 1: /* descending */
                a[i] = n - i / 2;
                break;
            case 2: /* all equal */
                a[i] = 42;
                break;
            default:
                a[i] = range == UINT64_MAX ? rnd() : rnd() % range;
            }
        }
        memcpy(b, a, n * sizeof(*a));
        qsort(b, n, sizeof(*b), cmp_u64);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (m == 0 || b[m - 1] != b[i])
                b[m++] = b[i];
        }
        assert_int_equal(wn__u64_sort_unique(a, n), m);
        assert_memory_equal(a, b, m * sizeof(*a));
        free(a);
        free(b);
    }
}

static void test_jaccard_and_intersection(void **state)
{
    (void)state;
    const uint64_t a[] = {1, 3, 5, 7, 9};
    const uint64_t b[] = {3, 4, 5, 6};
    const uint64_t none[1] = {0};

    assert_int_equal(wn__intersect_sorted(a, 5, b, 4), 2);
    assert_true(fabs(wn__jaccard_sorted(a, 5, b, 4) - 2.0 / 7.0) < 1e-15);
    assert_true(wn__jaccard_sorted(a, 5, a, 5) == 1.0);
    assert_true(wn__jaccard_sorted(none, 0, none, 0) == 1.0);
    assert_true(wn__jaccard_sorted(a, 5, none, 0) == 0.0);
    assert_int_equal(wn__intersect_sorted(a, 5, none, 0), 0);
}

/* ------------------------------------------------------------------------ */
/* MinHash                                                                   */
/* ------------------------------------------------------------------------ */

static void test_minhash_empty_and_invalid(void **state)
{
    (void)state;
    uint32_t sig[130];
    const uint64_t h[1] = {5};

    for (int scheme = 0; scheme < 2; scheme++) {
        memset(sig, 0, sizeof(sig));
        assert_int_equal(wn__minhash(scheme, h, 0, 128, 1, sig), 0);
        for (int i = 0; i < 128; i++)
            assert_true(sig[i] == WN_SIG_EMPTY);
        assert_true(sig[128] == 0);
        assert_int_equal(wn__minhash(scheme, h, 1, 0, 1, sig), WN_EINVAL);
        assert_int_equal(
            wn__minhash(scheme, h, 1, WN_MINHASH_MAX_K + 1, 1, sig), WN_EINVAL);
        assert_int_equal(wn__minhash(scheme, h, 1, 128, 1, sig), 1);
    }
    assert_int_equal(wn__minhash(7, h, 1, 128, 1, sig), WN_EINVAL);
    assert_true(wn__minhash_similarity(sig, sig, 0) == 0.0);
}

/* Densification fills every bin with a value of the set: one shingle
 * fills all of them with its own; a few shingles each keep their value in
 * their bin (or lose it to a smaller one sharing the bin) and are copied. */
static void test_oph_densified_values(void **state)
{
    (void)state;
    uint32_t sig[256], one[256];
    const uint64_t h[5] = {12345, 12345, 12345, 777, 99};

    assert_int_equal(wn__minhash_oph(h, 3, 256, 9, sig), 1);
    for (int i = 0; i < 256; i++) {
        assert_true(sig[i] == sig[0]);
        assert_true(sig[i] != WN_SIG_EMPTY);
    }

    uint32_t own[3];
    for (int e = 0; e < 3; e++) {
        assert_int_equal(wn__minhash_oph(h + 2 + e, 1, 256, 9, one), 1);
        own[e] = one[0];
    }
    assert_int_equal(wn__minhash_oph(h, 5, 256, 9, sig), 1);
    int seen[3] = {0};
    for (int i = 0; i < 256; i++) {
        int match = -1;
        for (int e = 0; e < 3; e++) {
            if (sig[i] == own[e])
                match = e;
        }
        assert_true(match >= 0);
        seen[match]++;
    }
    print_message("# 3 shingles in 256 bins: copies %d %d %d\n", seen[0],
                  seen[1], seen[2]);
}

/*
 * wn__minhash_oph_fine: its coarse signature is wn__minhash_oph's, bit for
 * bit, for any size (empty, sparse, dense) and for k that are and are not
 * powers of two; its fine signature is the undensified OPH of k * m bins
 * (so wn__minhash_oph with k * m bins once every bin is filled). The fine
 * estimate is unbiased and, at J = 0.8, spreads about 1/sqrt(m) as wide as
 * the coarse one on 2000-shingle sets; on 300-shingle sets (most fine bins
 * empty) it is still unbiased and narrower than the coarse one.
 */
static void test_oph_fine(void **state)
{
    (void)state;
    enum { N = 2000 };
    static uint64_t h[N];
    static uint32_t sig[WN_MINHASH_MAX_K], ref[WN_MINHASH_MAX_K],
        fine[WN_MINHASH_MAX_K];
    uint64_t x = 99;
    for (size_t i = 0; i < N; i++)
        h[i] = x = wn__mix64(x + i);
    const uint32_t ks[] = {128, 100, 64, 1000};
    const uint32_t ms[] = {4, 4, 8, 4};
    const size_t ns[] = {0, 1, 3, 20, 100, 300, 700, N};
    for (size_t a = 0; a < sizeof(ks) / sizeof(ks[0]); a++) {
        uint32_t k = ks[a], m = ms[a];
        for (size_t b = 0; b < sizeof(ns) / sizeof(ns[0]); b++) {
            size_t n = ns[b];
            int r = wn__minhash_oph_fine(h, n, k, m, 5, sig, fine);
            assert_int_equal(r, n > 0);
            assert_int_equal(wn__minhash_oph(h, n, k, 5, ref), n > 0);
            assert_memory_equal(sig, ref, k * sizeof(uint32_t));
            size_t filled = 0;
            assert_int_equal(wn__minhash_oph(h, n, k * m, 5, ref), n > 0);
            for (uint32_t i = 0; i < k * m; i++) {
                filled += fine[i] != WN_SIG_EMPTY;
                /* a filled bin holds the bin's minimum, as in OPH */
                if (fine[i] != WN_SIG_EMPTY)
                    assert_int_equal(fine[i], ref[i]);
            }
            assert_true(filled <= n && (n == 0 || filled > 0));
            if (filled == (size_t)k * m)
                assert_memory_equal(fine, ref, k * m * sizeof(uint32_t));
        }
    }
    assert_int_equal(wn__minhash_oph_fine(h, 10, 1024, 8, 1, sig, fine),
                     WN_EINVAL);
    assert_int_equal(wn__minhash_oph_fine(h, 10, 128, 0, 1, sig, fine),
                     WN_EINVAL);

    /* Mean and spread of the two estimates over pairs at J = 0.8: 8s
     * shared shingles and s of each side's own, fresh for every pair. */
    enum { PAIRS = 1000, K = 128, M = 4 };
    static uint64_t sa[2025], sb[2025];
    static uint32_t ca[K], cb[K], fa[K * M], fb[K * M];
    const size_t sizes[] = {2025, 300};
    for (int z = 0; z < 2; z++) {
        size_t n = sizes[z], shared = n * 8 / 9;
        double j = (double)shared / (double)(2 * n - shared);
        double var_c = 0, var_f = 0, mean_f = 0;
        for (int p = 0; p < PAIRS; p++) {
            for (size_t i = 0; i < n; i++) {
                sa[i] = x = wn__mix64(x + 1);
                sb[i] = i < shared ? sa[i] : (x = wn__mix64(x + 1));
            }
            wn__minhash_oph_fine(sa, n, K, M, 3, ca, fa);
            wn__minhash_oph_fine(sb, n, K, M, 3, cb, fb);
            double ec = wn__minhash_similarity(ca, cb, K) - j;
            double ef = wn__minhash_fine_similarity(fa, fb, K * M) - j;
            var_c += ec * ec;
            var_f += ef * ef;
            mean_f += ef;
        }
        double sd_c = sqrt(var_c / PAIRS), sd_f = sqrt(var_f / PAIRS);
        mean_f /= PAIRS;
        print_message("# J = %.3f, %zu shingles, K = 128: spread %.4f coarse, "
                      "%.4f fine (x4), fine mean error %+.4f\n",
                      j, n, sd_c, sd_f, mean_f);
        /* unbiased: mean error within 4 standard errors */
        assert_true(fabs(mean_f) < 4 * sd_f / sqrt(PAIRS));
        assert_true(sd_c > 0.02 && sd_c < 0.045); /* sqrt(0.16/128) */
        assert_true(sd_f < (n > 1000 ? 0.6 : 0.8) * sd_c);
    }
}

/* Signatures depend on the set only: order and repeats do not matter. */
static void test_minhash_set_semantics(void **state)
{
    (void)state;
    enum { N = 300 };
    uint64_t a[N], b[2 * N];
    uint32_t sa[128], sb[128];

    rng_seed(5);
    for (int i = 0; i < N; i++)
        a[i] = rnd();
    for (int i = 0; i < N; i++) {
        b[i] = a[N - 1 - i];
        b[N + i] = a[(i * 7) % N];
    }
    for (int scheme = 0; scheme < 2; scheme++) {
        assert_int_equal(wn__minhash(scheme, a, N, 128, 3, sa), 1);
        assert_int_equal(wn__minhash(scheme, b, 2 * N, 128, 3, sb), 1);
        assert_memory_equal(sa, sb, sizeof(sa));
        assert_true(wn__minhash_similarity(sa, sb, 128) == 1.0);
        /* Another seed gives another signature. */
        assert_int_equal(wn__minhash(scheme, a, N, 128, 4, sb), 1);
        assert_true(wn__minhash_similarity(sa, sb, 128) < 0.1);
    }
}

/* Every SIMD variant equals the portable reference, bit for bit. */
static void test_classic_variants_match_reference(void **state)
{
    (void)state;
    const struct wn_minhash_impl *impls;
    size_t nimpl = wn__minhash_classic_impls(&impls);
    const size_t sizes[] = {0, 1, 2, 3, 5, 7, 31, 33, 100, 257, 1001};
    const uint32_t ks[] = {1, 3, 4, 8, 15, 17, 32, 64, 100, 128, 129, 256};
    uint64_t h[1001];
    uint32_t ref[256], got[256];

    assert_true(nimpl >= 1);
    assert_string_equal(impls[nimpl - 1].name, "portable");
    assert_string_equal(wn__minhash_classic_impl_name(), impls[0].name);
    for (size_t v = 0; v < nimpl; v++)
        print_message("# classic variant available: %s\n", impls[v].name);

    rng_seed(77);
    for (size_t si = 0; si < WN_ARRAY_LEN(sizes); si++) {
        for (size_t ki = 0; ki < WN_ARRAY_LEN(ks); ki++) {
            size_t n = sizes[si];
            uint32_t k = ks[ki];
            for (size_t i = 0; i < n; i++)
                h[i] = rnd();
            /* Extremes of the 64-bit range exercise the carries. */
            if (n > 2) {
                h[0] = 0;
                h[1] = UINT64_MAX;
                h[2] = 0xFFFFFFFFull;
            }
            uint64_t seed = rnd();
            int rc = wn__minhash_classic_ref(h, n, k, seed, ref);
            assert_int_equal(rc, n > 0);
            for (size_t v = 0; v < nimpl; v++) {
                memset(got, 0xA5, sizeof(got));
                assert_int_equal(impls[v].fn(h, n, k, seed, got), rc);
                assert_memory_equal(got, ref, k * sizeof(*ref));
                /* Nothing written past k. */
                if (k < 256)
                    assert_true(got[k] == 0xA5A5A5A5u);
            }
            assert_int_equal(wn__minhash_classic(h, n, k, seed, got), rc);
            assert_memory_equal(got, ref, k * sizeof(*ref));
        }
    }
}

/*
 * Statistical accuracy. PAIRS random pairs of sets with exact Jaccard J
 * spread uniformly over [0, 1] and union sizes log-uniform in [4, 4000], so
 * about half have fewer elements than K (where OPH densifies heavily). For
 * each scheme and each half (union < K, union >= K):
 *
 *  - bias: |mean(est - J)| <= 4 standard errors of the mean, the standard
 *    error being sqrt(max(sum(J(1-J)/K), sum((est - J)^2))) / pairs: the
 *    classic variance or the observed one, whichever is larger;
 *  - spread: R = sum((est - J)^2) / sum(J(1-J)/K). Classic MinHash is a sum
 *    of K independent Bernoulli(J) trials, so R is near 1: we require
 *    0.85 <= R <= 1.15. OPH on unions of at least K elements samples
 *    without replacement into bins and is at or below the classic variance:
 *    we require R <= 1.15 (measured 0.84). OPH on unions smaller than K is
 *    NOT below it: densification copies each non-empty bin into about K/u
 *    bins, so the rare bin that holds a shared and an unshared element
 *    swings the estimate by about 1/u. Measured per union size at J = 0.5
 *    (40000 pairs each), R is 1.6 at u = 4, 1.5 at 8, 1.4 at 16, 1.3 at 32,
 *    1.1 at 64, and an idealized OPH whose probe sequence uses XXH3 instead
 *    of splitmix64 gives the same; so we require R <= 1.5 over the mix of
 *    sizes below K (measured 1.28).
 *
 * With about 1500 pairs per half, R's own relative standard deviation is
 * about sqrt(2 / 1500 * 1.5) = 0.045 (the 1.5 for unequal weights), so
 * 0.15 is more than three of them. The inputs are seeded and fixed, so the
 * outcome is the same on every run; the values are printed below.
 */
#define PAIRS 3000
#define SK    128

struct acc {
    double sum_err, sum_sq, sum_var;
    int n;
};

static void acc_add(struct acc *a, double est, double j)
{
    a->sum_err += est - j;
    a->sum_sq += (est - j) * (est - j);
    a->sum_var += j * (1.0 - j) / SK;
    a->n++;
}

static void acc_print(const struct acc *a, const char *what)
{
    double mean = a->sum_err / a->n;
    double se = sqrt(WN_MAX(a->sum_var, a->sum_sq)) / a->n;
    print_message("# %-20s pairs %4d  mean err %+.5f (%+.2f SE)  "
                  "var ratio %.3f\n",
                  what, a->n, mean, mean / se, a->sum_sq / a->sum_var);
}

static void acc_check(const struct acc *a, bool classic, bool large)
{
    double mean = a->sum_err / a->n;
    double se = sqrt(WN_MAX(a->sum_var, a->sum_sq)) / a->n;
    double ratio = a->sum_sq / a->sum_var;
    assert_true(a->n > PAIRS / 3);
    assert_true(fabs(mean) <= 4.0 * se);
    if (classic)
        assert_true(ratio >= 0.85 && ratio <= 1.15);
    else if (large)
        assert_true(ratio <= 1.15);
    else
        assert_true(ratio <= 1.5);
}

static void test_minhash_unbiased(void **state)
{
    (void)state;
    enum { MAXU = 4000 };
    uint64_t *u = malloc(MAXU * sizeof(*u));
    uint64_t *a = malloc(MAXU * sizeof(*a));
    uint64_t *b = malloc(MAXU * sizeof(*b));
    uint32_t sa[SK], sb[SK];
    struct acc acc[2][2]; /* [scheme][large] */

    memset(acc, 0, sizeof(acc));
    rng_seed(2024);
    for (int p = 0; p < PAIRS; p++) {
        size_t nu = (size_t)lround(exp(log(4.0) + rnd_unit() * log(1000.0)));
        size_t ni = (size_t)lround(rnd_unit() * (double)nu);
        size_t rest = nu - ni;
        size_t only_a = rest ? (size_t)(rnd() % (rest + 1)) : 0;
        /* Both sets non-empty. */
        if (ni == 0 && only_a == 0)
            only_a = 1;
        if (ni == 0 && only_a == rest)
            only_a = rest - 1;
        for (size_t i = 0; i < nu; i++)
            u[i] = rnd();
        /* u = [intersection | A only | B only] */
        size_t na = ni + only_a, nb = nu - only_a;
        memcpy(a, u, na * sizeof(*a));
        memcpy(b, u, ni * sizeof(*b));
        memcpy(b + ni, u + na, (nu - na) * sizeof(*b));

        /* The exact Jaccard from the sets themselves (sorted copies). */
        size_t ua = wn__u64_sort_unique(a, na);
        size_t ub = wn__u64_sort_unique(b, nb);
        assert_int_equal(ua, na);
        assert_int_equal(ub, nb);
        double j = wn__jaccard_sorted(a, na, b, nb);
        assert_true(fabs(j - (double)ni / (double)nu) < 1e-12);

        int large = nu >= SK;
        for (int scheme = 0; scheme < 2; scheme++) {
            uint64_t seed = (uint64_t)p * 2 + (uint64_t)scheme;
            assert_int_equal(wn__minhash(scheme, a, na, SK, seed, sa), 1);
            assert_int_equal(wn__minhash(scheme, b, nb, SK, seed, sb), 1);
            acc_add(&acc[scheme][large], wn__minhash_similarity(sa, sb, SK), j);
        }
    }
    acc_print(&acc[WN_SKETCH_OPH][0], "OPH, union < K");
    acc_print(&acc[WN_SKETCH_OPH][1], "OPH, union >= K");
    acc_print(&acc[WN_SKETCH_CLASSIC][0], "classic, union < K");
    acc_print(&acc[WN_SKETCH_CLASSIC][1], "classic, union >= K");
    acc_check(&acc[WN_SKETCH_OPH][0], false, false);
    acc_check(&acc[WN_SKETCH_OPH][1], false, true);
    acc_check(&acc[WN_SKETCH_CLASSIC][0], true, false);
    acc_check(&acc[WN_SKETCH_CLASSIC][1], true, true);
    free(u);
    free(a);
    free(b);
}

/* ------------------------------------------------------------------------ */
/* Frozen outputs: a change here changes every saved signature and index.    */
/* ------------------------------------------------------------------------ */

#define FROZEN_SH0     0xaea859e78ecc5f25ull
#define FROZEN_SH7     0x7566d10162c9a32aull
#define FROZEN_OPH0    0xc3324719u
#define FROZEN_OPH15   0x42ea77b2u
#define FROZEN_CL0     0x181c3c36u
#define FROZEN_CL15    0x406ff22du
#define FROZEN_SIMHASH 0x262050874298c220ull
#define FROZEN_SIMKEY3 0x00cadbb8d30a74bcull

static void test_frozen_values(void **state)
{
    (void)state;
    uint64_t *h;
    uint32_t sig[16];
    uint64_t keys[4];

    assert_int_equal(shingle_text("the quick brown fox jumps over the lazy "
                                  "dog again",
                                  3, 42, &h),
                     8);
    assert_true(h[0] == FROZEN_SH0);
    assert_true(h[7] == FROZEN_SH7);

    assert_int_equal(wn__minhash_oph(h, 8, 16, 1, sig), 1);
    assert_true(sig[0] == FROZEN_OPH0 && sig[15] == FROZEN_OPH15);
    assert_int_equal(wn__minhash_classic(h, 8, 16, 1, sig), 1);
    assert_true(sig[0] == FROZEN_CL0 && sig[15] == FROZEN_CL15);

    uint64_t fp = wn__simhash64(h, 8);
    assert_true(fp == FROZEN_SIMHASH);
    assert_int_equal(wn__simhash_keys(fp, 3, 1, keys, 4), 4);
    assert_true(keys[3] == FROZEN_SIMKEY3);
    wn__free(h);
}

/* ------------------------------------------------------------------------ */
/* SimHash                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t simhash_naive(const uint64_t *h, size_t n)
{
    uint64_t fp = 0;
    for (int bit = 0; bit < 64; bit++) {
        long vote = 0;
        for (size_t i = 0; i < n; i++)
            vote += (h[i] >> bit & 1) ? 1 : -1;
        if (vote > 0)
            fp |= 1ull << bit;
    }
    return fp;
}

static void test_simhash_matches_naive(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 2, 3, 254, 255, 256, 510, 511, 1000, 2001};
    uint64_t h[2001];

    rng_seed(3);
    for (size_t si = 0; si < WN_ARRAY_LEN(sizes); si++) {
        for (int round = 0; round < 20; round++) {
            size_t n = sizes[si];
            for (size_t i = 0; i < n; i++) {
                h[i] = rnd();
                /* Biased bits and ties, not just coin flips. */
                if (round % 3 == 1)
                    h[i] |= 0xF0F0ull;
                if (round % 3 == 2)
                    h[i] = i % 2 ? ~0ull : 0;
            }
            assert_true(wn__simhash64(h, n) == simhash_naive(h, n));
        }
    }
    assert_true(wn__simhash64(h, 0) == 0);
}

static void test_simhash_distances(void **state)
{
    (void)state;
    enum { N = 400, TRIALS = 200, EDITS = 4 };
    uint64_t a[N], b[N];
    double near = 0, far = 0;
    unsigned near_max = 0;

    rng_seed(99);
    for (int t = 0; t < TRIALS; t++) {
        for (int i = 0; i < N; i++)
            a[i] = rnd();
        memcpy(b, a, sizeof(a));
        assert_int_equal(
            wn__hamming64(wn__simhash64(a, N), wn__simhash64(b, N)), 0);
        for (int e = 0; e < EDITS; e++) {
            size_t at = (size_t)(rnd() % N);
            b[at] = rnd();
        }
        unsigned d = wn__hamming64(wn__simhash64(a, N), wn__simhash64(b, N));
        near += d;
        near_max = d > near_max ? d : near_max;
        for (int i = 0; i < N; i++)
            b[i] = rnd();
        far += wn__hamming64(wn__simhash64(a, N), wn__simhash64(b, N));
    }
    near /= TRIALS;
    far /= TRIALS;
    print_message("# simhash: %d of %d shingles edited: mean distance %.2f, "
                  "max %u; unrelated: mean %.2f\n",
                  EDITS, N, near, near_max, far);
    /* About 3 of 64 bits flip (vote sums of sd 20 moved by about 2.3);
     * unrelated fingerprints differ in 32 bits on average. */
    assert_true(near < 8.0);
    assert_true(near_max < 20);
    assert_true(far > 28.0 && far < 36.0);
}

static unsigned binom(unsigned n, unsigned r)
{
    double c = 1;
    for (unsigned i = 0; i < r; i++)
        c = c * (n - i) / (i + 1);
    return (unsigned)lround(c);
}

static bool share_key(const uint64_t *x, const uint64_t *y, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (x[i] == y[i])
            return true;
    }
    return false;
}

static void test_simhash_keys_cover_distance_k(void **state)
{
    (void)state;
    const unsigned km[][2] = {{3, 1}, {3, 3}, {4, 2}, {2, 6},
                              {6, 2}, {0, 4}, {5, 5}, {7, 1}};
    uint64_t kx[256], ky[256];

    rng_seed(1234);
    for (size_t c = 0; c < WN_ARRAY_LEN(km); c++) {
        unsigned k = km[c][0], m = km[c][1];
        unsigned count = binom(k + m, m);
        assert_true(count <= 256);
        for (int round = 0; round < 2000; round++) {
            uint64_t x = rnd(), y = x;
            /* Flip d <= k distinct bits. */
            unsigned d = (unsigned)(rnd() % (k + 1));
            while (wn__hamming64(x, y) < d)
                y ^= 1ull << (rnd() % 64);
            assert_int_equal(wn__simhash_keys(x, k, m, kx, 256), count);
            assert_int_equal(wn__simhash_keys(y, k, m, ky, 256), count);
            assert_true(share_key(kx, ky, count));
        }
    }

    /* Unrelated fingerprints share no key when the blocks are wide: with
     * (3, 3) each key covers 32 bits, a chance of 20 * 2^-32 per pair. */
    for (int round = 0; round < 2000; round++) {
        assert_int_equal(wn__simhash_keys(rnd(), 3, 3, kx, 256), 20);
        assert_int_equal(wn__simhash_keys(rnd(), 3, 3, ky, 256), 20);
        assert_false(share_key(kx, ky, 20));
    }
    /* The keys of one fingerprint are pairwise distinct across tables. */
    assert_int_equal(wn__simhash_keys(0, 3, 3, kx, 256), 20);
    wn__u64_sort_unique(kx, 20);
    for (int i = 1; i < 20; i++)
        assert_true(kx[i] != kx[i - 1]);
}

static void test_simhash_keys_limits(void **state)
{
    (void)state;
    uint64_t keys[8];

    memset(keys, 0, sizeof(keys));
    assert_int_equal(wn__simhash_keys(1, 3, 3, keys, 5), 20);
    for (int i = 0; i < 5; i++)
        assert_true(keys[i] != 0);
    for (int i = 5; i < 8; i++)
        assert_true(keys[i] == 0);
    assert_int_equal(wn__simhash_keys(1, 3, 0, keys, 8), 0);
    assert_int_equal(wn__simhash_keys(1, 60, 5, keys, 8), 0);
    assert_int_equal(wn__simhash_keys(1, 0, 64, keys, 8), 1);
    /* C(40, 20) is far above the cap of 2^20 keys. */
    assert_int_equal(wn__simhash_keys(1, 20, 20, keys, 8), 0);
    assert_int_equal(wn__simhash_keys(1, 31, 1, NULL, 0), 32);
}

/*
 * The primitives of sketching a large text in pieces (sketcher.c) against
 * their one-pass forms, cut at random points: the streamed XXH3-128, the
 * shingles with carried token hashes (every ngram, cuts down to one token
 * and empty pieces), the OPH fine bins min-merged and the SimHash votes
 * added up.
 */
static void test_pieces_primitives(void **state)
{
    (void)state;
    rng_seed(0xB16C0DE);
    /* The streamed exact hash. */
    unsigned char bytes[3000];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)rnd();
    for (int round = 0; round < 200; round++) {
        size_t len = rnd() % sizeof(bytes);
        uint64_t one[2], st[2];
        wn__hash128(bytes, len, 7, one);
        struct wn_hash128_stream *h = wn__hash128_begin(7);
        assert_non_null(h);
        for (size_t at = 0; at < len;) {
            size_t r = (size_t)(rnd() % 300); /* WN_MIN reads twice */
            size_t k = WN_MIN(len - at, r);
            wn__hash128_update(h, bytes + at, k);
            at += k;
        }
        wn__hash128_end(h, st);
        assert_memory_equal(one, st, sizeof(one));
    }
    /* Shingles: the tokens of one text, handed over in runs. */
    struct wn_tokens t;
    wn_tokens_init(&t);
    char text[4000];
    size_t tl = 0;
    while (tl + 20 < sizeof(text)) {
        size_t w = 1 + rnd() % 18; /* tokens up to 18 bytes */
        for (size_t i = 0; i < w; i++)
            text[tl++] = (char)('a' + rnd() % 4);
        text[tl++] = ' ';
    }
    assert_int_equal(wn_tokenize(text, tl, WN_TOKENS_WORD, &t), WN_OK);
    uint64_t *whole = NULL, *part = NULL, *got = NULL;
    size_t wcap = 0, pcap = 0;
    got = malloc((t.n + 1) * sizeof(*got));
    assert_non_null(got);
    static const unsigned ngrams[] = {1, 2, 3, 5, 9, 64};
    for (size_t g = 0; g < WN_ARRAY_LEN(ngrams); g++) {
        for (int round = 0; round < 60; round++) {
            unsigned ng = ngrams[g];
            /* Texts of 0 to 200 tokens: also fewer than ngram. */
            struct wn_tokens sub = t;
            sub.n = rnd() % WN_MIN(t.n, (size_t)200);
            size_t nw = 0, ngot = 0, np;
            assert_int_equal(wn__shingles(&sub, ng, 3, &whole, &nw, &wcap),
                             WN_OK);
            struct wn_shingle_carry c;
            wn__shingle_carry_init(&c);
            for (size_t at = 0; at <= sub.n;) {
                struct wn_tokens piece = sub;
                piece.tok = sub.tok + at;
                size_t r = (size_t)(rnd() % 12);
                piece.n = WN_MIN(sub.n - at, r);
                assert_int_equal(
                    wn__shingles_piece(&piece, ng, 3, &c, &part, &np, &pcap),
                    WN_OK);
                memcpy(got + ngot, part, np * sizeof(*part));
                ngot += np;
                at += piece.n;
                if (at == sub.n && piece.n == 0)
                    break;
            }
            ngot += (size_t)wn__shingles_last(&c, ng, 3, got + ngot);
            assert_int_equal(ngot, nw);
            if (nw)
                assert_memory_equal(got, whole, nw * sizeof(*got));
        }
    }
    free(got);
    wn__free(whole);
    wn__free(part);
    wn_tokens_release(&t);
    /* OPH fine bins gathered piece by piece. */
    static uint64_t sh[5000];
    for (size_t i = 0; i < WN_ARRAY_LEN(sh); i++)
        sh[i] = rnd();
    uint32_t sig1[128], sig2[128], fine1[512], fine2[512];
    for (int round = 0; round < 100; round++) {
        size_t n = rnd() % WN_ARRAY_LEN(sh);
        int r1 = wn__minhash_oph_fine(sh, n, 128, 4, 9, sig1, fine1);
        for (size_t i = 0; i < 512; i++)
            fine2[i] = WN_SIG_EMPTY;
        for (size_t at = 0; at < n;) {
            size_t r = (size_t)(rnd() % 700);
            size_t k = WN_MIN(n - at, r);
            wn__minhash_oph_update(sh + at, k, 512, 9, fine2);
            at += k;
        }
        int r2 = wn__minhash_oph_fine_finish(fine2, n > 0, 128, 4, 9, sig2);
        assert_int_equal(r1, r2);
        assert_memory_equal(fine1, fine2, sizeof(fine1));
        assert_memory_equal(sig1, sig2, sizeof(sig1));
        /* SimHash votes added piece by piece (ties included: n even). */
        uint32_t ones[64] = {0};
        for (size_t at = 0; at < n;) {
            size_t r = (size_t)(rnd() % 700);
            size_t k = WN_MIN(n - at, r);
            wn__simhash_add(sh + at, k, ones);
            at += k;
        }
        assert_true(wn__simhash_fp(ones, n) == wn__simhash64(sh, n));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shingles_counts),
        cmocka_unit_test(test_shingles_short_text_equals_full_ngram),
        cmocka_unit_test(test_shingles_order_position_seed),
        cmocka_unit_test(test_shingles_reuse_and_enomem),
        cmocka_unit_test(test_sort_unique_matches_qsort),
        cmocka_unit_test(test_jaccard_and_intersection),
        cmocka_unit_test(test_minhash_empty_and_invalid),
        cmocka_unit_test(test_oph_densified_values),
        cmocka_unit_test(test_oph_fine),
        cmocka_unit_test(test_minhash_set_semantics),
        cmocka_unit_test(test_classic_variants_match_reference),
        cmocka_unit_test(test_minhash_unbiased),
        cmocka_unit_test(test_frozen_values),
        cmocka_unit_test(test_simhash_matches_naive),
        cmocka_unit_test(test_simhash_distances),
        cmocka_unit_test(test_simhash_keys_cover_distance_k),
        cmocka_unit_test(test_simhash_keys_limits),
        cmocka_unit_test(test_pieces_primitives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
