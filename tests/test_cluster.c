/*
 * test_cluster.c - radix sort, candidate join, union-find and evaluation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster/cluster.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int cmp_kd(const void *a, const void *b)
{
    const struct wn_keydoc *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

static void test_radix_matches_qsort(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        size_t n = (size_t)(rnd() % 5000);
        struct wn_keydoc *a = calloc(n + 1, sizeof(*a));
        struct wn_keydoc *b = calloc(n + 1, sizeof(*b));
        /* Few distinct keys in some rounds, so that runs are long. */
        uint64_t mask = round % 2 ? 0xf : UINT64_MAX;
        for (size_t i = 0; i < n; i++) {
            a[i].key = rnd() & mask;
            if (round % 3 == 0)
                a[i].key <<= 40; /* low digits all equal: skipped passes */
            a[i].doc = (wn_docno)i;
        }
        memcpy(b, a, n * sizeof(*a));
        assert_int_equal(wn__keydoc_sort(a, n), WN_OK);
        qsort(b, n, sizeof(*b), cmp_kd);
        assert_memory_equal(a, b, n * sizeof(*a));
        free(a);
        free(b);
    }
}

static int cmp_pair(const void *a, const void *b)
{
    wn_docpair x = *(const wn_docpair *)a, y = *(const wn_docpair *)b;
    return (x > y) - (x < y);
}

/* The in-place MSD radix sort of packed pairs against qsort: random
 * values (all the bits of a wide build's pairs too), pairs of small
 * document numbers (only low bytes used), many equal values, high bytes
 * only, and sizes around the insertion-sort cut-off. */
static void test_pairs_radix_matches_qsort(void **state)
{
    (void)state;
    const unsigned hi = 2 * WN_DOCNO_BITS - 64; /* bits above the low 64 */
    for (int round = 0; round < 40; round++) {
        size_t n = round < 8 ? (size_t)round * 13 : (size_t)(rnd() % 20000);
        wn_docpair *a = calloc(n + 1, sizeof(*a));
        wn_docpair *b = calloc(n + 1, sizeof(*b));
        for (size_t i = 0; i < n; i++) {
            wn_docpair v = (wn_docpair)rnd() << hi ^ rnd();
            if (round % 4 == 1)
                v = wn__pair((wn_docno)(rnd() & 0xfffff),
                             (wn_docno)(rnd() & 0xfffff));
            else if (round % 4 == 2)
                v &= 0x7;
            else if (round % 4 == 3)
                v &= (wn_docpair)0xff00ff0000000000ull << hi;
            a[i] = v;
        }
        memcpy(b, a, n * sizeof(*a));
        wn__pairs_radix_sort(a, n);
        qsort(b, n, sizeof(*b), cmp_pair);
        assert_memory_equal(a, b, n * sizeof(*a));
        free(a);
        free(b);
    }
}

/* Grouping: equal keys adjacent, each run in input order (stable), and
 * the same multiset of entries; checked against a full (key, doc) sort by
 * sorting the runs found. Keys with equal low bits and different high bits
 * make the insertion fix-up do work. */
static void test_keydoc_group(void **state)
{
    (void)state;
    for (int round = 0; round < 24; round++) {
        size_t n = round == 0 ? 1 : (size_t)(rnd() % 30000);
        struct wn_keydoc *a = calloc(n + 1, sizeof(*a));
        struct wn_keydoc *b = calloc(n + 1, sizeof(*b));
        for (size_t i = 0; i < n; i++) {
            uint64_t k = rnd();
            if (round % 3 == 1)
                k = (k % 50) << 40 | (k & 0x3); /* low bits collide */
            else if (round % 3 == 2)
                k %= 200;
            a[i].key = k;
            a[i].doc = (wn_docno)i;
        }
        memcpy(b, a, n * sizeof(*a));
        assert_int_equal(wn__keydoc_group(a, n), WN_OK);
        /* Runs: a key never reappears after its run ended, docs ascend. */
        for (size_t i = 0; i < n;) {
            size_t e = i + 1;
            while (e < n && a[e].key == a[i].key) {
                assert_true(a[e].doc > a[e - 1].doc);
                e++;
            }
            i = e;
        }
        qsort(a, n, sizeof(*a), cmp_kd);
        qsort(b, n, sizeof(*b), cmp_kd);
        assert_memory_equal(a, b, n * sizeof(*a));
        /* Each key in one run: count runs against distinct keys. */
        memcpy(a, b, n * sizeof(*a));
        for (size_t i = 0; i < n; i++)
            a[i].doc = (wn_docno)i;
        for (size_t i = 0; i < n; i++) { /* shuffle the keys' order */
            size_t j = (size_t)(rnd() % n);
            uint64_t t = a[i].key;
            a[i].key = a[j].key;
            a[j].key = t;
        }
        size_t distinct = 0;
        for (size_t i = 0; i < n; i++)
            distinct += i == 0 || b[i].key != b[i - 1].key;
        assert_int_equal(wn__keydoc_group(a, n), WN_OK);
        size_t runs = 0;
        for (size_t i = 0; i < n; i++)
            runs += i == 0 || a[i].key != a[i - 1].key;
        assert_int_equal(runs, distinct);
        free(a);
        free(b);
    }
}

static size_t join_pairs(const uint64_t *keys, size_t n, uint32_t limit,
                         wn_docpair **pairs, struct wn_join_stats *st)
{
    struct wn_keydoc *v = calloc(n, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        v[i].key = keys[i];
        v[i].doc = (wn_docno)i;
    }
    assert_int_equal(wn__keydoc_sort(v, n), WN_OK);
    size_t np = 0, cap = 0;
    *pairs = NULL;
    memset(st, 0, sizeof(*st));
    assert_int_equal(wn__join_sorted(v, n, limit, NULL, pairs, &np, &cap, st),
                     WN_OK);
    free(v);
    return wn__pairs_sort_unique(*pairs, np);
}

static void test_join_small_bucket_all_pairs(void **state)
{
    (void)state;
    uint64_t keys[] = {5, 9, 5, 7, 5, 9};
    wn_docpair *p;
    struct wn_join_stats st;
    size_t n = join_pairs(keys, 6, 16, &p, &st);
    /* key 5: docs 0,2,4 -> 3 pairs; key 9: docs 1,5 -> 1 pair. */
    wn_docpair want[] = {wn__pair(0, 2), wn__pair(0, 4), wn__pair(1, 5),
                         wn__pair(2, 4)};
    assert_int_equal(n, 4);
    assert_memory_equal(p, want, sizeof(want));
    assert_int_equal(st.buckets, 2);
    assert_int_equal(st.max_bucket, 3);
    assert_int_equal(st.large_buckets, 0);
    free(p);
}

static void test_join_large_bucket_is_linear(void **state)
{
    (void)state;
    size_t n = 10000;
    uint64_t *keys = calloc(n, sizeof(*keys)); /* one key for all */
    wn_docpair *p;
    struct wn_join_stats st;
    size_t np = join_pairs(keys, n, 16, &p, &st);
    assert_true(np <= 2 * n);
    assert_int_equal(st.large_buckets, 1);
    assert_int_equal(st.max_bucket, n);
    /* The pairs still connect every member. */
    struct wn_uf uf;
    assert_int_equal(wn__uf_init(&uf, n), WN_OK);
    for (size_t i = 0; i < np; i++)
        wn__uf_union(&uf, wn__pair_a(p[i]), wn__pair_b(p[i]));
    for (size_t i = 0; i < n; i++)
        assert_int_equal(wn__uf_find(&uf, (wn_docno)i), 0);
    wn__uf_release(&uf);
    free(keys);
    free(p);
}

static void test_join_skip(void **state)
{
    (void)state;
    struct wn_keydoc v[] = {
        {.key = 1, .doc = 0}, {.key = 1, .doc = 1}, {.key = 1, .doc = 2}};
    uint8_t skip[1] = {0x2}; /* doc 1 left out */
    wn_docpair *p = NULL;
    size_t np = 0, cap = 0;
    struct wn_join_stats st = {0};
    assert_int_equal(wn__join_sorted(v, 3, 16, skip, &p, &np, &cap, &st),
                     WN_OK);
    assert_int_equal(np, 1);
    assert_true(p[0] == wn__pair(0, 2));
    free(p);
}

static void test_uf_roots_are_first_members(void **state)
{
    (void)state;
    size_t n = 2000;
    /* The same edges in two orders give the same roots. */
    wn_docpair *edges = calloc(3000, sizeof(*edges));
    for (int i = 0; i < 3000; i++)
        edges[i] = wn__pair((wn_docno)(rnd() % n), (wn_docno)(rnd() % n));
    struct wn_uf a, b;
    assert_int_equal(wn__uf_init(&a, n), WN_OK);
    assert_int_equal(wn__uf_init(&b, n), WN_OK);
    for (int i = 0; i < 3000; i++)
        wn__uf_union(&a, wn__pair_a(edges[i]), wn__pair_b(edges[i]));
    for (int i = 2999; i >= 0; i--)
        wn__uf_union(&b, wn__pair_a(edges[i]), wn__pair_b(edges[i]));
    for (size_t i = 0; i < n; i++) {
        wn_docno r = wn__uf_find(&a, (wn_docno)i);
        assert_int_equal(r, wn__uf_find(&b, (wn_docno)i));
        assert_true(r <= i);
        assert_int_equal(wn__uf_find(&a, r), r);
    }
    wn__uf_release(&a);
    wn__uf_release(&b);
    free(edges);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_eval_clusters_and_pairs(void **state)
{
    (void)state;
    char dir[] = "/tmp/wn-eval-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char truth[256], pred[256], pairs[256];
    snprintf(truth, sizeof(truth), "%s/truth.jsonl", dir);
    snprintf(pred, sizeof(pred), "%s/clusters.jsonl", dir);
    snprintf(pairs, sizeof(pairs), "%s/pairs.jsonl", dir);
    /* Truth {a,b,c} {d,e} {f}; prediction {a,b} {c,d} {e} {f}. */
    write_file(truth,
               "{\"id\":\"a\",\"cluster\":1}\n{\"id\":\"b\",\"cluster\":1}\n"
               "{\"id\":\"c\",\"cluster\":1}\n{\"id\":\"d\",\"cluster\":2}\n"
               "{\"id\":\"e\",\"cluster\":2}\n{\"id\":\"f\",\"cluster\":3}\n");
    write_file(pred, "{\"cluster\":0,\"members\":[\"a\",\"b\"]}\n"
                     "{\"cluster\":1,\"members\":[\"c\",\"d\"]}\n");
    struct wn_eval_result r;
    uint64_t line = 0;
    assert_int_equal(wn_eval_files(pred, truth, NULL, &r, &line, NULL, 0),
                     WN_OK);
    assert_int_equal(r.items, 6);
    assert_int_equal(r.tp, 1); /* (a,b) */
    assert_int_equal(r.fp, 1); /* (c,d) */
    assert_int_equal(r.fn, 3); /* (a,c) (b,c) (d,e) */
    assert_float_equal(r.precision, 0.5, 1e-9);
    assert_float_equal(r.recall, 0.25, 1e-9);
    /* ARI by hand: sum_cells 1, sum_p 2, sum_t 4, C(6,2) = 15:
     * expected 8/15, max 3 -> (1 - 8/15) / (3 - 8/15) = 7/37. */
    assert_float_equal(r.ari, 7.0 / 37.0, 1e-9);

    /* The identical clustering scores 1 everywhere. */
    write_file(pred, "{\"cluster\":0,\"members\":[\"a\",\"b\",\"c\"]}\n"
                     "{\"cluster\":1,\"members\":[\"d\",\"e\"]}\n");
    assert_int_equal(wn_eval_files(pred, truth, NULL, &r, &line, NULL, 0),
                     WN_OK);
    assert_float_equal(r.f1, 1.0, 1e-9);
    assert_float_equal(r.ari, 1.0, 1e-9);

    write_file(pairs, "{\"id_a\":\"a\",\"id_b\":\"c\",\"label\":1}\n"
                      "{\"id_a\":\"d\",\"id_b\":\"e\",\"label\":1}\n"
                      "{\"id_a\":\"a\",\"id_b\":\"d\",\"label\":0}\n"
                      "{\"id_a\":\"x\",\"id_b\":\"f\",\"label\":1}\n");
    assert_int_equal(wn_eval_files(pred, pairs, NULL, &r, &line, NULL, 0),
                     WN_OK);
    assert_true(r.pairs_mode);
    assert_int_equal(r.tp, 2);
    assert_int_equal(r.fp, 0);
    assert_int_equal(r.fn, 1);

    write_file(truth, "{\"id\":\"a\",\"cluster\":1}\nnot json\n");
    char file[256];
    assert_int_equal(
        wn_eval_files(pred, truth, NULL, &r, &line, file, sizeof(file)),
        WN_EPARSE);
    assert_int_equal(line, 2);
    assert_string_equal(file, truth);
    unlink(truth);
    unlink(pred);
    unlink(pairs);
    rmdir(dir);
}

static void count_warning(void *ud, const char *file, uint64_t line,
                          const char *msg)
{
    (void)file;
    (void)msg;
    uint64_t *lines = ud;
    lines[0]++;
    lines[1] = line;
}

/* Ids compare as dedup writes them: a number by its token (0.1, 1.0, 1e2
 * and an integer beyond int64 are ids), a string by its text; conflicts are
 * counted and reported; labelled pairs are scored by kind. */
static void test_eval_ids_conflicts_kinds(void **state)
{
    (void)state;
    char dir[] = "/tmp/wn-eval-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char truth[256], pred[256];
    snprintf(truth, sizeof(truth), "%s/truth.jsonl", dir);
    snprintf(pred, sizeof(pred), "%s/clusters.jsonl", dir);
    write_file(truth,
               "{\"id\":0.1,\"cluster\":1}\n{\"id\":1e2,\"cluster\":1}\n"
               "{\"id\":123456789012345678901234,\"cluster\":1}\n"
               "{\"id\":\"\\u00e9\",\"cluster\":1}\n"
               "{\"id\":1.0,\"cluster\":2}\n{\"id\":0.1,\"cluster\":2}\n");
    write_file(pred, "{\"members\":[\"0.1\",\"1e2\","
                     "\"123456789012345678901234\",\"\xc3\xa9\"]}\n"
                     "{\"members\":[\"1.0\", \"1e2\"]}\n");
    uint64_t warned[2] = {0, 0}, line = 0;
    struct wn_eval_options o;
    memset(&o, 0, sizeof(o));
    o.warn = count_warning;
    o.warn_ud = warned;
    struct wn_eval_report *rep = NULL;
    assert_int_equal(
        wn_eval_report_create(pred, truth, &o, &rep, &line, NULL, 0), WN_OK);
    assert_int_equal(rep->total.items, 5);
    assert_int_equal(rep->total.tp, 6); /* the four ids of cluster 1 */
    assert_int_equal(rep->total.fp, 0);
    assert_int_equal(rep->total.fn, 0);
    assert_int_equal(rep->truth_conflicts, 1); /* 0.1 again, line 6 */
    assert_int_equal(rep->pred_conflicts, 1);  /* 1e2 again, line 2 */
    assert_int_equal(warned[0], 2);
    assert_int_equal(warned[1], 2); /* the last one: clusters.jsonl:2 */
    assert_null(rep->kinds);
    wn_eval_report_free(rep);

    write_file(truth, "{\"id_a\":1,\"id_b\":2,\"label\":1,\"kind\":\"k\"}\n"
                      "{\"id_a\":3,\"id_b\":4,\"label\":0,\"kind\":\"t\"}\n"
                      "{\"id_a\":2,\"id_b\":1,\"label\":0,\"kind\":\"t\"}\n"
                      "{\"id_a\":5,\"id_b\":1,\"label\":true}\n");
    write_file(pred, "{\"members\":[1,2]}\n{\"members\":[\"3\",\"4\"]}\n");
    o.pairs_only = 1;
    rep = NULL;
    assert_int_equal(
        wn_eval_report_create(pred, truth, &o, &rep, &line, NULL, 0), WN_OK);
    assert_true(rep->total.pairs_mode);
    assert_int_equal(rep->total.tp, 1);
    assert_int_equal(rep->total.fp, 1);
    assert_int_equal(rep->total.fn, 1);
    assert_int_equal(rep->truth_conflicts, 1);
    assert_int_equal(rep->missing_ids, 1); /* 5 */
    assert_int_equal(rep->nkinds, 3);
    assert_string_equal(rep->kinds[0].kind, "k");
    assert_int_equal(rep->kinds[0].tp, 1);
    assert_string_equal(rep->kinds[1].kind, "t");
    assert_int_equal(rep->kinds[1].pairs, 1);
    assert_int_equal(rep->kinds[1].fp, 1);
    assert_string_equal(rep->kinds[2].kind, "");
    assert_int_equal(rep->kinds[2].fn, 1);
    wn_eval_report_free(rep);

    /* --pairs with cluster truth: a parse error at line 1. */
    write_file(truth, "{\"id\":\"a\",\"cluster\":1}\n");
    rep = NULL;
    assert_int_equal(
        wn_eval_report_create(pred, truth, &o, &rep, &line, NULL, 0),
        WN_EPARSE);
    assert_null(rep);
    assert_int_equal(line, 1);
    unlink(truth);
    unlink(pred);
    rmdir(dir);
}

/* The join's partitions: a tiny --memory is raised to a floor, so that the
 * tasks' re-reads of a band stay linear in n (issue 13 item 11: --memory 1
 * gave n * 64 partitions and a quadratic join). */
static void test_join_partitions_floor(void **state)
{
    (void)state;
    /* 5,056 records, 2 threads: one partition per thread at any budget. */
    assert_int_equal(wn__join_partitions(5056, 2, 1), 2);
    assert_int_equal(wn__join_partitions(5056, 2, 1ull << 30), 2);
    assert_int_equal(wn__join_partitions(0, 3, 1), 3);
    /* 10M records: the default budget needs 1 partition per thread; a
     * budget of 1 byte is the floor, n / WN_JOIN_BLOCK + 1. */
    assert_int_equal(wn__join_partitions(10000000, 2, 1ull << 30), 2);
    assert_int_equal(wn__join_partitions(10000000, 2, 1),
                     10000000 / WN_JOIN_BLOCK + 1);
    /* Above the floor the budget is what it was: 32 bytes per entry and
     * thread. */
    assert_int_equal(wn__join_partitions(10000000, 2, 64ull << 20),
                     10000000ull * 64 / (64ull << 20) + 1);
    /* Never more than one block's worth of documents per partition
     * missing, whatever the budget and thread count. */
    for (unsigned t = 1; t <= 64; t *= 2)
        for (uint64_t n = 1; n < (1ull << 34); n = n * 7 + 3)
            assert_true(wn__join_partitions(n, t, 1) <=
                        n / WN_JOIN_BLOCK + t + 1);
}

/* wn__key_partition spreads keys whose top bits are fixed (an anchor spill
 * file holds the keys of one value of the top 6 bits) evenly: no
 * partition holds more than twice its share (the reviewer's finding on the
 * first multiply-shift, which read the top bits: one partition took all). */
static void test_key_partition_spreads_fixed_top_bits(void **state)
{
    (void)state;
    static uint32_t count[256];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint64_t parts = 2; parts <= 256; parts *= 2) {
        memset(count, 0, sizeof(count));
        const unsigned n = 100000;
        for (unsigned i = 0; i < n; i++) {
            /* splitmix64 */
            x += 0x9e3779b97f4a7c15ull;
            uint64_t z = x;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            uint64_t key = (z & ~(0x3full << 58)) | (0x2aull << 58);
            uint64_t p = wn__key_partition(key, parts);
            assert_true(p < parts);
            count[p]++;
        }
        for (uint64_t p = 0; p < parts; p++)
            assert_true(count[p] < 2 * n / parts);
    }
    /* The whole range is reached, in order: 0 for key 0, parts - 1 for
     * the largest low half. */
    assert_int_equal(wn__key_partition(0, 7), 0);
    assert_int_equal(wn__key_partition(0xffffffffull, 7), 6);
    assert_int_equal(wn__key_partition(~0ull, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_radix_matches_qsort),
        cmocka_unit_test(test_pairs_radix_matches_qsort),
        cmocka_unit_test(test_keydoc_group),
        cmocka_unit_test(test_join_small_bucket_all_pairs),
        cmocka_unit_test(test_join_large_bucket_is_linear),
        cmocka_unit_test(test_join_skip),
        cmocka_unit_test(test_uf_roots_are_first_members),
        cmocka_unit_test(test_eval_clusters_and_pairs),
        cmocka_unit_test(test_join_partitions_floor),
        cmocka_unit_test(test_key_partition_spreads_fixed_top_bits),
        cmocka_unit_test(test_eval_ids_conflicts_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
