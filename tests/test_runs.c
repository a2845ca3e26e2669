/*
 * test_runs.c - sorted runs on disk (lib/dedup/runs.c): the merge gives
 * what one sort in memory gives, spilled or not, for every entry width.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dedup/runs.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t g_words;

static int cmp_ref(const void *x, const void *y)
{
    const uint64_t *a = x, *b = y;
    for (size_t k = 0; k < g_words; k++)
        if (a[k] != b[k])
            return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* n entries of words words (few distinct first words when dense) through
 * runs of budget bytes against qsort; returns the bytes spilled. */
static uint64_t check(size_t n, size_t words, uint64_t budget, bool dense)
{
    uint64_t *v = calloc(n * words + 1, sizeof(uint64_t));
    assert_non_null(v);
    for (size_t i = 0; i < n * words; i++)
        v[i] = dense ? rnd() % 7 : rnd();
    /* Random first words but for one entry in three, whose first word
     * differs from others' only in its middle bytes: the radix sort's
     * buckets split at several depths, and some end with equal first
     * words. */
    for (size_t i = 0; !dense && i < n; i += 3)
        v[i * words] = (rnd() % 600) << 20;
    struct wn_runs r;
    assert_int_equal(wn__runs_init(&r, NULL, words, budget), WN_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(wn__runs_add(&r, v + i * words), WN_OK);
    assert_int_equal(wn__runs_finish(&r), WN_OK);
    g_words = words;
    qsort(v, n, words * sizeof(uint64_t), cmp_ref);
    const uint64_t *e = NULL;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(wn__runs_next(&r, &e), 1);
        assert_memory_equal(e, v + i * words, words * sizeof(uint64_t));
    }
    assert_int_equal(wn__runs_next(&r, &e), 0);
    assert_int_equal(wn__runs_next(&r, &e), 0);
    assert_int_equal(r.total, n);
    uint64_t spilled = r.spilled_bytes;
    wn__runs_release(&r);
    free(v);
    return spilled;
}

static void test_in_memory(void **state)
{
    (void)state;
    for (size_t w = 1; w <= 4; w++) {
        assert_int_equal(check(0, w, 1 << 20, false), 0);
        assert_int_equal(check(1, w, 1 << 20, false), 0);
        assert_int_equal(check(5000, w, 1 << 20, w % 2), 0);
    }
}

static void test_spilled_runs_merge(void **state)
{
    (void)state;
    /* The smallest buffer holds 8192 one-word entries: 3 runs and more,
     * a last run shorter than the others, and many equal entries. */
    for (size_t w = 1; w <= 4; w++) {
        size_t n = 3 * (WN_RUNS_MIN_BYTES / (8 * w)) + 17;
        assert_true(check(n, w, 0, false) == (uint64_t)n * 8 * w);
        assert_true(check(n, w, 0, true) > 0);
    }
    /* Exactly full buffers. */
    size_t full = WN_RUNS_MIN_BYTES / 24;
    assert_true(check(2 * full, 3, 0, false) > 0);
}

static void test_many_runs_small_windows(void **state)
{
    (void)state;
    /* 200 runs: budget / k is below the smallest window, which holds. */
    size_t per = WN_RUNS_MIN_BYTES / 8;
    assert_true(check(200 * per + 3, 1, 0, false) > 0);
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static void test_sorted_runs_added_whole(void **state)
{
    (void)state;
    /* Sorted blocks added as runs, between entries added one by one: the
     * merge gives every one of them in order. */
    size_t n = 50000, at = 0;
    uint64_t *v = calloc(n, sizeof(uint64_t));
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = rnd() % 100000;
    struct wn_runs r;
    assert_int_equal(wn__runs_init(&r, NULL, 1, 0), WN_OK);
    while (at < n) {
        size_t k = WN_MIN(n - at, (size_t)(rnd() % 7000));
        if (rnd() % 2) {
            qsort(v + at, k, sizeof(uint64_t), cmp_u64);
            assert_int_equal(wn__runs_add_run(&r, v + at, k), WN_OK);
        } else {
            for (size_t i = 0; i < k; i++)
                assert_int_equal(wn__runs_add(&r, v + at + i), WN_OK);
        }
        at += k;
    }
    assert_int_equal(wn__runs_finish(&r), WN_OK);
    assert_int_equal(r.total, n);
    qsort(v, n, sizeof(uint64_t), cmp_u64);
    const uint64_t *e;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(wn__runs_next(&r, &e), 1);
        assert_true(*e == v[i]);
    }
    assert_int_equal(wn__runs_next(&r, &e), 0);
    wn__runs_release(&r);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_memory),
        cmocka_unit_test(test_spilled_runs_merge),
        cmocka_unit_test(test_many_runs_small_windows),
        cmocka_unit_test(test_sorted_runs_added_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
