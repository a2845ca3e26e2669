/*
 * test_index.c - the persistent index: check, query, reopen, parameter
 * mismatch, ids, expiry, map growth, threads, and the decision of a pair
 * against the batch job's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "winnow.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A text of n words from a vocabulary of 5000 made-up words. */
static void gen_words(unsigned *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (unsigned)(rnd() % 5000);
}

static char *render(const unsigned *w, size_t n)
{
    char *s = malloc(n * 12 + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(s + len, "%sw%ux", i ? " " : "", w[i]);
    s[len] = '\0';
    return s;
}

static char *tmpdir_make(void)
{
    char tmpl[] = "/tmp/winnow-index-test.XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void rm_rf(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
}

static struct wn_index *open_new(const char *dir)
{
    struct wn_index_options o;
    wn_index_options_init(&o);
    o.create = 1;
    o.no_sync = 1;
    struct wn_index *ix = NULL;
    char msg[256];
    assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_OK);
    return ix;
}

static struct wn_index_doc doc_of(const char *id, const char *text)
{
    struct wn_index_doc d = {id, strlen(id), text, strlen(text), 0, 0};
    return d;
}

static void test_check_query_reopen(void **state)
{
    (void)state;
    rng_state = 1;
    char *dir = tmpdir_make();
    unsigned w[300];
    gen_words(w, 300);
    char *a = render(w, 300);
    w[150] = 4999; /* one word changed: a near copy */
    w[10] = 4998;
    char *b = render(w, 300);
    gen_words(w, 300);
    char *c = render(w, 300);

    struct wn_index *ix = open_new(dir);
    struct wn_index_result r;
    wn_index_result_init(&r);
    struct wn_index_doc d = doc_of("a", a);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_true(r.is_new && r.added);
    assert_int_equal(r.n, 0);

    d = doc_of("a2", a); /* exact copy */
    assert_int_equal(wn_index_query(ix, &d, 4, &r), WN_OK);
    assert_false(r.is_new);
    assert_false(r.added);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.matches[0].reason, WN_REASON_EXACT);
    assert_string_equal(r.matches[0].id, "a");

    d = doc_of("b", b);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_false(r.is_new);
    assert_false(r.added);
    assert_int_equal(r.matches[0].reason, WN_REASON_NEAR);
    assert_true(r.matches[0].similarity >= 0.8 &&
                r.matches[0].similarity < 1.0);

    d = doc_of("c", c);
    assert_int_equal(wn_index_query(ix, &d, 4, &r), WN_OK);
    assert_true(r.is_new); /* a query adds nothing ... */
    assert_int_equal(wn_index_query(ix, &d, 4, &r), WN_OK);
    assert_true(r.is_new);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK); /* ... a check does */
    assert_true(r.added);

    d = doc_of("c", a); /* a retried id: answered, not added again */
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_false(r.added);
    assert_int_equal(r.matches[0].reason, WN_REASON_ID);
    assert_string_equal(r.matches[0].id, "c");

    struct wn_index_stats st;
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.bands, 16);
    assert_int_equal(st.rows, 8);
    wn_index_free(ix);

    /* Reopened without parameters: the stored rule, the same answers. */
    struct wn_index_options o;
    wn_index_options_init(&o);
    o.dedup.threshold = 0.5; /* ignored: check_params is 0 */
    ix = NULL;
    assert_int_equal(wn_index_open(dir, &o, &ix, NULL, 0), WN_OK);
    struct wn_dedup_options rule;
    wn_index_rule(ix, &rule);
    assert_true(rule.threshold == 0.8);
    d = doc_of("b2", b);
    assert_int_equal(wn_index_query(ix, &d, 1, &r), WN_OK);
    assert_int_equal(r.matches[0].reason, WN_REASON_NEAR);
    assert_string_equal(r.matches[0].id, "a");
    wn_index_free(ix);

    wn_index_result_release(&r);
    free(a);
    free(b);
    free(c);
    rm_rf(dir);
    free(dir);
}

static void test_open_errors(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    struct wn_index_options o;
    wn_index_options_init(&o);
    struct wn_index *ix = NULL;
    char msg[256];
    /* No index there, and not asked to create one. */
    assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_EOPEN);
    assert_null(ix);
    assert_non_null(strstr(msg, "no index"));

    wn_index_free(open_new(dir));
    /* A different rule, checked: named in the message. */
    o.check_params = 1;
    o.dedup.ngram = 3;
    assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)),
                     WN_EMISMATCH);
    assert_null(ix);
    assert_non_null(strstr(msg, "ngram 5"));
    assert_non_null(strstr(msg, "ngram 3"));
    o.dedup.ngram = 5;
    o.dedup.threshold = 0.7;
    assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)),
                     WN_EMISMATCH);
    assert_non_null(strstr(msg, "threshold 0.8"));
    o.dedup.threshold = 0.8;
    assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_OK);
    wn_index_free(ix);
    ix = NULL;

    /* A rule the index cannot serve. */
    char *dir2 = tmpdir_make();
    wn_index_options_init(&o);
    o.create = 1;
    o.dedup.verify = WN_VERIFY_EXACT;
    assert_int_equal(wn_index_open(dir2, &o, &ix, msg, sizeof(msg)), WN_EINVAL);
    assert_non_null(strstr(msg, "verify"));

    /* Not an index: a data.mdb of garbage. */
    char path[600];
    snprintf(path, sizeof(path), "%s/data.mdb", dir2);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 20000; i++)
        fputc(i * 7 & 0xff, f);
    fclose(f);
    wn_index_options_init(&o);
    int rc = wn_index_open(dir2, &o, &ix, msg, sizeof(msg));
    assert_true(rc == WN_EFORMAT || rc == WN_EOPEN);
    assert_null(ix);
    rm_rf(dir);
    rm_rf(dir2);
    free(dir);
    free(dir2);
}

static void test_expire(void **state)
{
    (void)state;
    rng_state = 7;
    char *dir = tmpdir_make();
    struct wn_index *ix = open_new(dir);
    struct wn_index_result r;
    wn_index_result_init(&r);
    char *texts[20];
    for (int i = 0; i < 20; i++) {
        unsigned w[100];
        gen_words(w, 100);
        texts[i] = render(w, 100);
        char id[16];
        snprintf(id, sizeof(id), "r%d", i);
        struct wn_index_doc d = doc_of(id, texts[i]);
        d.has_time = 1;
        d.time = 1000 + i * 10; /* r0 at 1000 ... r19 at 1190 */
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_true(r.added);
    }
    uint64_t removed = 99;
    assert_int_equal(wn_index_expire(ix, 1100, &removed), WN_OK);
    assert_int_equal(removed, 10);
    struct wn_index_stats st;
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, 10);
    assert_int_equal(st.oldest, 1100);
    assert_int_equal(st.newest, 1190);
    /* Expired texts are new again, and so are their ids; the others are
     * still found, by text and by id. */
    for (int i = 0; i < 20; i++) {
        struct wn_index_doc d = doc_of("q", texts[i]);
        assert_int_equal(wn_index_query(ix, &d, 1, &r), WN_OK);
        assert_int_equal(r.is_new, i < 10);
        char id[16];
        snprintf(id, sizeof(id), "r%d", i);
        char other[64];
        snprintf(other, sizeof(other), "unrelated words %d", i);
        d = doc_of(id, other);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_int_equal(r.added, i < 10);
    }
    /* Every key entry of an expired record went with it. */
    assert_int_equal(wn_index_expire(ix, INT64_MAX, &removed), WN_OK);
    assert_int_equal(removed, 20);
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.key_values, 0);
    wn_index_free(ix);
    wn_index_result_release(&r);
    for (int i = 0; i < 20; i++)
        free(texts[i]);
    rm_rf(dir);
    free(dir);
}

static void test_map_grows(void **state)
{
    (void)state;
    rng_state = 11;
    char *dir = tmpdir_make();
    struct wn_index_options o;
    wn_index_options_init(&o);
    o.create = 1;
    o.no_sync = 1;
    o.map_size = 64 << 10; /* 64 KiB: full after a few dozen records */
    struct wn_index *ix = NULL;
    assert_int_equal(wn_index_open(dir, &o, &ix, NULL, 0), WN_OK);
    struct wn_index_result r;
    wn_index_result_init(&r);
    for (int i = 0; i < 3000; i++) {
        unsigned w[60];
        gen_words(w, 60);
        char *t = render(w, 60);
        char id[16];
        snprintf(id, sizeof(id), "g%d", i);
        struct wn_index_doc d = doc_of(id, t);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_true(r.added);
        free(t);
    }
    struct wn_index_stats st;
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, 3000);
    assert_true(st.map_size > (64 << 10));
    wn_index_free(ix);
    wn_index_result_release(&r);
    rm_rf(dir);
    free(dir);
}

/* The pending tier and its merge: records are found before and after a
 * merge, in either tier, from a reopened handle too, and expire empties
 * both. */
static void test_merge(void **state)
{
    (void)state;
    rng_state = 19;
    char *dir = tmpdir_make();
    struct wn_index *ix = open_new(dir);
    struct wn_index_result r;
    wn_index_result_init(&r);
    enum { N1 = 300, N2 = 100 };
    char *texts[N1 + N2];
    unsigned w[120];
    for (int i = 0; i < N1 + N2; i++) {
        gen_words(w, 120);
        texts[i] = render(w, 120);
    }
    for (int i = 0; i < N1; i++) {
        char id[16];
        snprintf(id, sizeof(id), "m%d", i);
        struct wn_index_doc d = doc_of(id, texts[i]);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_true(r.added);
    }
    struct wn_index_stats st;
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.pending, N1);
    assert_int_equal(st.key_values, 0);
    assert_int_equal(wn_index_merge(ix, 1), WN_OK);
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.key_values, 17 * N1); /* 16 bands and the exact key */
    for (int i = N1; i < N1 + N2; i++) {
        char id[16];
        snprintf(id, sizeof(id), "m%d", i);
        struct wn_index_doc d = doc_of(id, texts[i]);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_true(r.added);
    }
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) { /* a new handle loads the pending tier afresh */
            wn_index_free(ix);
            ix = NULL;
            struct wn_index_options o;
            wn_index_options_init(&o);
            assert_int_equal(wn_index_open(dir, &o, &ix, NULL, 0), WN_OK);
        }
        for (int i = 0; i < N1 + N2; i++) {
            char id[16];
            snprintf(id, sizeof(id), "m%d", i);
            /* A near copy: one word of 120 changed. */
            char *t = strdup(texts[i]);
            t[1] = t[1] == '1' ? '2' : '1';
            struct wn_index_doc d = doc_of("q", t);
            assert_int_equal(wn_index_query(ix, &d, 1, &r), WN_OK);
            assert_false(r.is_new);
            assert_string_equal(r.matches[0].id, id);
            free(t);
        }
    }
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.pending, N2);
    uint64_t removed = 0;
    assert_int_equal(wn_index_expire(ix, INT64_MAX, &removed), WN_OK);
    assert_int_equal(removed, N1 + N2);
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.key_values, 0);
    assert_int_equal(st.pending, 0);
    wn_index_free(ix);
    wn_index_result_release(&r);
    for (int i = 0; i < N1 + N2; i++)
        free(texts[i]);
    rm_rf(dir);
    free(dir);
}

/* Threads check overlapping sets of texts: each distinct text is added
 * exactly once, whatever the interleaving. */
#define NTHREADS 4
#define NTEXTS   200
static char *shared_texts[NTEXTS];

struct thr {
    struct wn_index *ix;
    int t;
    int added;
    int rc;
};

static volatile int workers_done;

/* Merges the pending tier over and over while the workers run. */
static void *merger_main(void *arg)
{
    struct thr *a = arg;
    while (!workers_done && !a->rc)
        a->rc = wn_index_merge(a->ix, 1);
    return NULL;
}

static void *thr_main(void *arg)
{
    struct thr *a = arg;
    struct wn_index_result r;
    wn_index_result_init(&r);
    for (int k = 0; k < NTEXTS && !a->rc; k++) {
        int i = (k * 7 + a->t * 13) % NTEXTS;
        char id[32];
        snprintf(id, sizeof(id), "t%d-%d", a->t, i);
        struct wn_index_doc d = doc_of(id, shared_texts[i]);
        if (k % 3 == 0) {
            a->rc = wn_index_query(a->ix, &d, 1, &r);
            continue;
        }
        a->rc = wn_index_check(a->ix, &d, &r);
        a->added += r.added;
    }
    wn_index_result_release(&r);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    rng_state = 13;
    for (int i = 0; i < NTEXTS; i++) {
        unsigned w[80];
        gen_words(w, 80);
        shared_texts[i] = render(w, 80);
    }
    char *dir = tmpdir_make();
    struct wn_index_options o;
    wn_index_options_init(&o);
    o.create = 1;
    o.no_sync = 1;
    o.map_size = 256 << 10; /* so that the map grows under the threads */
    struct wn_index *ix = NULL;
    assert_int_equal(wn_index_open(dir, &o, &ix, NULL, 0), WN_OK);
    pthread_t th[NTHREADS], mth;
    struct thr a[NTHREADS], m = {ix, -1, 0, 0};
    workers_done = 0;
    assert_int_equal(pthread_create(&mth, NULL, merger_main, &m), 0);
    for (int t = 0; t < NTHREADS; t++) {
        a[t] = (struct thr){ix, t, 0, 0};
        assert_int_equal(pthread_create(&th[t], NULL, thr_main, &a[t]), 0);
    }
    int added = 0;
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(a[t].rc, WN_OK);
        added += a[t].added;
    }
    workers_done = 1;
    pthread_join(mth, NULL);
    assert_int_equal(m.rc, WN_OK);
    /* Every text is checked (k % 3 != 0) by some thread. */
    assert_int_equal(added, NTEXTS);
    struct wn_index_stats st;
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, NTEXTS);
    wn_index_free(ix);
    for (int i = 0; i < NTEXTS; i++)
        free(shared_texts[i]);
    rm_rf(dir);
    free(dir);
}

/* The decision of the index for a pair equals the batch job's: wn_dedup_run
 * over the two records removes the second exactly when the index, holding
 * the first, says the second is not new. */
static void test_pair_decision_equals_batch(void **state)
{
    (void)state;
    rng_state = 17;
    char *dir = tmpdir_make();
    char in[600], out[600], idx[600], removed[700];
    snprintf(in, sizeof(in), "%s/pair.jsonl", dir);
    snprintf(out, sizeof(out), "%s/out", dir);
    snprintf(removed, sizeof(removed), "%s/out/removed.jsonl", dir);
    int agree = 0, dups = 0;
    for (int round = 0; round < 40; round++) {
        size_t n = 40 + (size_t)(rnd() % 200);
        unsigned w[240];
        gen_words(w, n);
        char *a = render(w, n);
        /* Change a few words: a 5-gram Jaccard of 1 down to about 0.5. */
        size_t changes = (size_t)(rnd() % (n / 25 + 2));
        if (round % 8 == 0)
            changes = 0;
        for (size_t c = 0; c < changes; c++)
            w[rnd() % n] = (unsigned)(rnd() % 5000);
        char *b = render(w, n);
        FILE *f = fopen(in, "w");
        assert_non_null(f);
        fprintf(f, "{\"id\":\"a\",\"text\":\"%s\"}\n", a);
        fprintf(f, "{\"id\":\"b\",\"text\":\"%s\"}\n", b);
        fclose(f);
        struct wn_dedup_options o;
        wn_dedup_options_init(&o);
        /* The index is the classic rule (wn_index_options_init): so is the
         * batch job it is compared with. */
        o.profile = WN_PROFILE_CLASSIC;
        o.threshold = 0.8;
        o.threads = 1;
        o.no_fsync = 1;
        const char *inputs[] = {in};
        assert_int_equal(wn_dedup_run(inputs, 1, out, &o, NULL), WN_OK);
        struct stat sb;
        assert_int_equal(stat(removed, &sb), 0);
        int batch_dup = sb.st_size > 0;

        snprintf(idx, sizeof(idx), "%s/ix%d", dir, round);
        struct wn_index *ix = open_new(idx);
        struct wn_index_result r;
        wn_index_result_init(&r);
        struct wn_index_doc d = doc_of("a", a);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        d = doc_of("b", b);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        int index_dup = !r.is_new;
        wn_index_result_release(&r);
        wn_index_free(ix);
        if (batch_dup != index_dup)
            fprintf(stderr, "# round %d: batch %d, index %d\n", round,
                    batch_dup, index_dup);
        agree += batch_dup == index_dup;
        dups += batch_dup;
        free(a);
        free(b);
    }
    fprintf(stderr, "# %d of 40 pairs are duplicates\n", dups);
    assert_int_equal(agree, 40);
    assert_true(dups > 5 && dups < 35); /* both answers were exercised */
    rm_rf(dir);
    free(dir);
}

/* The stored rule includes the profile: an index made with the news rule
 * reopens as the news rule (stored parameters without a profile line are
 * the classic rule's, as every index made before the profile existed). */
static void test_profile_stored(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        char *dir = tmpdir_make();
        struct wn_index_options o;
        wn_index_options_init(&o);
        o.create = 1;
        o.no_sync = 1;
        o.dedup.profile = k ? WN_PROFILE_NEWS : WN_PROFILE_CLASSIC;
        o.dedup.threshold = k ? 0.5 : 0.8;
        struct wn_index *ix = NULL;
        char msg[256];
        assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_OK);
        wn_index_free(ix);
        struct wn_index_options r;
        wn_index_options_init(&r);
        ix = NULL;
        assert_int_equal(wn_index_open(dir, &r, &ix, msg, sizeof(msg)), WN_OK);
        struct wn_dedup_options rule;
        wn_index_rule(ix, &rule);
        assert_int_equal(rule.profile, o.dedup.profile);
        assert_true(rule.threshold == o.dedup.threshold);
        wn_index_free(ix);
        rm_rf(dir);
        free(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_stored),
        cmocka_unit_test(test_check_query_reopen),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_expire),
        cmocka_unit_test(test_map_grows),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_pair_decision_equals_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
