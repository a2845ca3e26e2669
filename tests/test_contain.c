/*
 * test_contain.c - the per-record loops of pass 1 that have an AVX-512 form
 * (lib/sketch/scan_avx512.c) against their portable form and against a
 * plain definition written here: the anchors (the cap smallest distinct
 * mixed shingle hashes whose low bits are zero), the lead words (the
 * distinct XXH3 hashes of the first tokens, ascending) and the shingle
 * fold, the one-permutation MinHash's bins; and the batched count-min adds
 * against one add at a time. The fast forms must give the same values bit for
 * bit: they feed keys and spills whose every byte reaches the outputs. On a CPU
 * without AVX-512 (or with WINNOW_NO_SIMD=1) both forms are the portable one
 * and the tests still check it against the definition.
 */
#include "common/common.h"
#include "sketch/cms.h"
#include "sketch/contain.h"
#include "sketch/scan_impl.h"
#include "sketch/sketch.h"
#include "winnow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define FROZEN_TOKEN_LENGTHS 0x27bfb31090d9b88cULL

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* The anchors by their definition. */
static size_t anchors_def(const uint64_t *sh, size_t n, unsigned r, size_t cap,
                          uint64_t *out)
{
    uint64_t *all = malloc((n ? n : 1) * sizeof(*all));
    assert_non_null(all);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = wn__mix64(sh[i] ^ WN_ANCHOR_SALT);
        if ((x & (((uint64_t)1 << r) - 1)) == 0)
            all[m++] = x;
    }
    qsort(all, m, sizeof(*all), cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < m && k < cap; i++)
        if (k == 0 || out[k - 1] != all[i])
            out[k++] = all[i];
    free(all);
    return k;
}

static void check_anchors(const uint64_t *sh, size_t n, unsigned r, size_t cap)
{
    uint64_t want[256], a[256], b[256];
    size_t nw = anchors_def(sh, n, r, cap, want);
    size_t na = wn__contain_anchors_variant(sh, n, r, cap, a, true);
    size_t nb = wn__contain_anchors_variant(sh, n, r, cap, b, false);
    assert_int_equal(na, nw);
    assert_int_equal(nb, nw);
    assert_memory_equal(a, want, nw * sizeof(*a));
    assert_memory_equal(b, want, nw * sizeof(*b));
}

/* Random shingle arrays of every size class, with repeats (a record that
 * repeats a passage), at every rate and several caps: records of fewer
 * anchors than the cap, of many more (the buffer is cut, several times for
 * the longest), and repeats that straddle the cuts. */
static void test_anchors_match_definition(void **state)
{
    (void)state;
    uint64_t seed = 0x1234567ULL;
    size_t sizes[] = {0,   1,   2,   7,   8,   9,   63,   64,   65,   255,
                      256, 257, 300, 511, 512, 513, 1000, 2049, 5000, 20000};
    size_t caps[] = {1, 2, 7, 8, 37, 64, 65, 200, 256};
    uint64_t *sh = malloc(20000 * sizeof(*sh));
    assert_non_null(sh);
    for (size_t si = 0; si < sizeof(sizes) / sizeof(*sizes); si++) {
        size_t n = sizes[si];
        for (size_t i = 0; i < n; i++) {
            uint64_t v = rng_next(&seed);
            /* One in four a repeat of an earlier value. */
            sh[i] = i > 0 && (v & 3) == 0 ? sh[(v >> 8) % i] : v;
        }
        for (unsigned r = 0; r <= 16; r += (r < 4 ? 1 : 4))
            for (size_t ci = 0; ci < sizeof(caps) / sizeof(*caps); ci++)
                check_anchors(sh, n, r, caps[ci]);
    }
    /* Every value qualifies at rate 0: equal values at the top of a full
     * selection (the bound the buffer keeps once cut). */
    for (size_t i = 0; i < 3000; i++)
        sh[i] = i % 97;
    check_anchors(sh, 3000, 0, 64);
    check_anchors(sh, 3000, 0, 97);
    check_anchors(sh, 3000, 0, 256);
    uint64_t out[1];
    assert_int_equal(wn__contain_anchors_variant(sh, 3000, 0, 0, out, true), 0);
    free(sh);
}

/* The lead words by their definition. */
static size_t lead_def(const struct wn_tokens *t, uint64_t seed, uint32_t *out)
{
    size_t n = t->n < WN_LEAD_TOKENS ? t->n : WN_LEAD_TOKENS;
    uint64_t ws = wn__mix64(seed ^ 0x4C4541442D574F52ULL);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint32_t)wn__hash64(t->norm + t->tok[i].norm_off,
                                      t->tok[i].norm_len, ws);
    qsort(out, n, sizeof(*out), cmp_u32);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || out[m - 1] != out[i])
            out[m++] = out[i];
    return m;
}

/* Texts of 0..100 words from small and large vocabularies (many repeats,
 * few), words of 1..30 letters (the hash's length classes). */
static void test_lead_words_match_definition(void **state)
{
    (void)state;
    uint64_t seed = 99;
    struct wn_tokens t;
    wn_tokens_init(&t);
    char text[4096];
    for (int round = 0; round < 600; round++) {
        size_t words = (size_t)(rng_next(&seed) % 101);
        uint64_t vocab = round % 3 == 0 ? 5 : round % 3 == 1 ? 60 : 100000;
        size_t len = 0;
        for (size_t w = 0; w < words; w++) {
            uint64_t id = rng_next(&seed) % vocab;
            size_t wl = 1 + (size_t)(id * 7 % 30);
            for (size_t c = 0; c < wl; c++)
                text[len++] = (char)('a' + (id >> (c % 8)) % 26);
            text[len++] = ' ';
        }
        assert_int_equal(wn_tokenize(text, len, WN_TOKENS_WORD, &t), WN_OK);
        for (uint64_t s = 1; s <= 2; s++) {
            uint32_t want[WN_LEAD_TOKENS], a[WN_LEAD_TOKENS], b[WN_LEAD_TOKENS];
            size_t nw = lead_def(&t, s, want);
            assert_int_equal(wn__contain_lead_words_variant(&t, s, a, true),
                             nw);
            assert_int_equal(wn__contain_lead_words_variant(&t, s, b, false),
                             nw);
            assert_memory_equal(a, want, nw * sizeof(*a));
            assert_memory_equal(b, want, nw * sizeof(*b));
            assert_int_equal(wn__contain_lead_words(&t, s, a), nw);
        }
    }
    wn_tokens_release(&t);
}

/* The AVX-512 fold against the portable one: every n-gram size, token
 * counts around the vector width. */
static void test_shingle_fold_forms_agree(void **state)
{
    (void)state;
    uint64_t seed = 7;
    struct wn_tokens t;
    wn_tokens_init(&t);
    char text[8192];
    uint64_t *a = NULL, *b = NULL;
    size_t ca = 0, cb = 0;
    for (size_t words = 0; words < 90; words++) {
        size_t len = 0;
        for (size_t w = 0; w < words; w++) {
            size_t wl = 1 + (size_t)(rng_next(&seed) % 12);
            for (size_t c = 0; c < wl; c++)
                text[len++] = (char)('a' + rng_next(&seed) % 26);
            text[len++] = ' ';
        }
        assert_int_equal(wn_tokenize(text, len, WN_TOKENS_WORD, &t), WN_OK);
        for (unsigned g = 1; g <= 9; g++) {
            size_t na = 0, nb = 0;
            assert_int_equal(wn__shingles_variant(&t, g, 3, &a, &na, &ca, true),
                             WN_OK);
            assert_int_equal(
                wn__shingles_variant(&t, g, 3, &b, &nb, &cb, false), WN_OK);
            assert_int_equal(na, nb);
            assert_memory_equal(a, b, na * sizeof(*a));
            size_t nc = 0;
            assert_int_equal(wn__shingles(&t, g, 3, &a, &nc, &ca), WN_OK);
            assert_int_equal(nc, nb);
            assert_memory_equal(a, b, nc * sizeof(*a));
        }
    }
    wn__free(a);
    wn__free(b);
    wn_tokens_release(&t);
}

/* Frozen shingle hashes of tokens of every length 1..24 (each length class
 * of the token hash: masked words of 1..8 and 9..16 bytes, XXH3 above):
 * the table of masks that replaced computed ones must give the values of
 * the code before it (commit 3f40f7c, where this sum was taken). */
static void test_token_lengths_frozen(void **state)
{
    (void)state;
    char text[1024];
    size_t len = 0;
    for (unsigned n = 1; n <= 24; n++) {
        for (unsigned c = 0; c < n; c++)
            text[len++] = (char)('a' + (n * 7 + c * 3) % 26);
        text[len++] = ' ';
    }
    struct wn_tokens t;
    wn_tokens_init(&t);
    assert_int_equal(wn_tokenize(text, len, WN_TOKENS_WORD, &t), WN_OK);
    assert_int_equal(t.n, 24);
    uint64_t *h = NULL;
    size_t n = 0, cap = 0, sum = 0;
    assert_int_equal(wn__shingles(&t, 1, 5, &h, &n, &cap), WN_OK);
    assert_int_equal(n, 24);
    for (size_t i = 0; i < n; i++)
        sum = wn__mix64(sum ^ h[i]);
    printf("# token lengths 1..24, ngram 1: %016llx\n",
           (unsigned long long)sum);
    assert_true(sum == FROZEN_TOKEN_LENGTHS);
    wn__free(h);
    wn_tokens_release(&t);
}

/* The inverse of wn__mix64 (each step of the finalizer is invertible; an
 * odd multiplier's inverse mod 2^64 by Newton's iteration). */
static uint64_t inv_mul(uint64_t a)
{
    uint64_t x = a; /* correct to 3 bits; each step doubles them */
    for (int i = 0; i < 5; i++)
        x *= 2 - a * x;
    return x;
}

static uint64_t unxorshift(uint64_t y, unsigned r)
{
    uint64_t x = y;
    for (unsigned k = r; k < 64; k += r)
        x = y ^ (x >> r);
    return x;
}

static uint64_t unmix64(uint64_t y)
{
    y = unxorshift(y, 31);
    y *= inv_mul(0x94D049BB133111EBULL);
    y = unxorshift(y, 27);
    y *= inv_mul(0xBF58476D1CE4E5B9ULL);
    return unxorshift(y, 30);
}

/* The AVX-512 bins and values of the one-permutation MinHash against the
 * scalar formula of oph_fill, at every length around the vector width and
 * with values whose low bits are WN_SIG_EMPTY (made by inverting the mix). */
static void test_oph_bins_match_formula(void **state)
{
    (void)state;
#ifdef WN_HAVE_SCAN_AVX512
    if (!wn__scan_avx512()) {
        printf("# no AVX-512 here: the OPH bins kernel is not run\n");
        return;
    }
    uint64_t seed = 11, h[300];
    uint32_t bin[300], val[300];
    uint64_t salt = 0x0123456789ABCDEFULL;
    assert_true(wn__mix64(unmix64(0xDEADBEEFFFFFFFFFULL)) ==
                0xDEADBEEFFFFFFFFFULL);
    for (size_t n = 0; n < 300; n += (n < 40 ? 1 : 37)) {
        for (size_t i = 0; i < n; i++)
            h[i] = i % 7 == 3
                       ? unmix64(rng_next(&seed) << 32 | 0xFFFFFFFFU) ^ salt
                       : rng_next(&seed);
        for (uint32_t k = 1; k <= 4096; k *= 8) {
            memset(bin, 0xAB, sizeof(bin));
            wn__oph_bins_avx512(h, n, salt, k, bin, val);
            for (size_t i = 0; i < n; i++) {
                uint64_t v = wn__mix64(h[i] ^ salt);
                uint32_t want = (uint32_t)v;
                want -= want == WN_SIG_EMPTY;
                assert_int_equal(bin[i], (uint32_t)(((v >> 32) * k) >> 32));
                assert_int_equal(val[i], want);
            }
            /* Nothing written past n. */
            assert_int_equal(bin[n < 300 ? n : 299],
                             n < 300 ? 0xABABABABU : bin[299]);
        }
    }
#else
    printf("# not an x86-64 build: the OPH bins kernel is absent\n");
#endif
}

/* The batched count-min adds give the table of one add at a time: random
 * keys, repeats, and a key past the counters' saturation. */
static void test_cms_add_many_same_table(void **state)
{
    (void)state;
    struct wn_cms a, b;
    assert_int_equal(wn__cms_init(&a, 10, 3), WN_OK);
    assert_int_equal(wn__cms_init(&b, 10, 3), WN_OK);
    uint64_t seed = 5, keys[300];
    for (int round = 0; round < 400; round++) {
        size_t n = (size_t)(rng_next(&seed) % 300);
        for (size_t i = 0; i < n; i++)
            keys[i] = i && i % 5 == 0 ? keys[i / 2] : rng_next(&seed) % 5000;
        for (size_t i = 0; i < n; i++)
            wn__cms_add(&a, keys[i]);
        wn__cms_add_many(&b, keys, n);
    }
    for (size_t i = 0; i < 300; i++)
        keys[i] = 42;
    for (int round = 0; round < 250; round++) {
        for (size_t i = 0; i < 300; i++)
            wn__cms_add(&a, keys[i]);
        wn__cms_add_many(&b, keys, 300);
    }
    assert_int_equal(wn__cms_count(&b, 42), UINT16_MAX);
    assert_int_equal(a.adds, b.adds);
    assert_memory_equal(a.c, b.c, ((size_t)3 << 10) * sizeof(*a.c));
    wn__cms_release(&a);
    wn__cms_release(&b);
}

int main(void)
{
    printf("# AVX-512 loops %s\n",
           wn__scan_avx512() ? "run here: compared with the portable ones"
                             : "absent or off: the portable loops only");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anchors_match_definition),
        cmocka_unit_test(test_lead_words_match_definition),
        cmocka_unit_test(test_shingle_fold_forms_agree),
        cmocka_unit_test(test_cms_add_many_same_table),
        cmocka_unit_test(test_oph_bins_match_formula),
        cmocka_unit_test(test_token_lengths_frozen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
