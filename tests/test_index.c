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
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <lmdb.h>

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

/* Open the index's LMDB environment directly (what an older or newer
 * winnow would have written). */
static MDB_env *raw_env(const char *dir)
{
    MDB_env *env = NULL;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0666), 0);
    return env;
}

/* The stored layout: records hold the compact form of the sketch (no band
 * keys, no blob header), and an index of another format version is
 * refused with a message. */
static void test_format(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    struct wn_index *ix = open_new(dir);
    unsigned w[400];
    char text[8000];
    gen_words(w, 400);
    size_t at = 0;
    for (size_t i = 0; i < 400; i++)
        at += (size_t)snprintf(text + at, sizeof(text) - at, "w%u ", w[i]);
    struct wn_index_doc d = doc_of("rec-1", text);
    struct wn_index_result r;
    wn_index_result_init(&r);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_true(r.added);
    /* The same text again, found under its keys and decided exact, and a
     * near copy (a few words changed) decided near. */
    d = doc_of("rec-2", text);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_false(r.is_new);
    assert_int_equal(r.matches[0].reason, WN_REASON_EXACT);
    text[1] = text[1] == '1' ? '2' : '1';
    d = doc_of("rec-3", text);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_false(r.is_new);
    assert_int_equal(r.matches[0].reason, WN_REASON_NEAR);
    assert_string_equal(r.matches[0].id, "rec-1");
    /* Times are stored as zigzag varints: one before 1970 and a large
     * one come back as they were. */
    const int64_t times[2] = {-31536000 - 7, (int64_t)1 << 40};
    for (int k = 0; k < 2; k++) {
        char other[64];
        snprintf(other, sizeof(other), "a record of its own, number %d", k);
        struct wn_index_doc td = doc_of(k ? "t1" : "t0", other);
        td.has_time = 1;
        td.time = times[k];
        assert_int_equal(wn_index_check(ix, &td, &r), WN_OK);
        assert_true(r.added);
        assert_int_equal(wn_index_query(ix, &td, 1, &r), WN_OK);
        assert_false(r.is_new);
        assert_int_equal(r.matches[0].time, times[k]);
    }
    /* Warming (every page read, the pending table loaded) changes nothing
     * of the answers. */
    assert_int_equal(wn_index_warm(ix), WN_OK);
    d = doc_of("rec-4", text);
    assert_int_equal(wn_index_query(ix, &d, 3, &r), WN_OK);
    assert_int_equal(r.n, 1); /* rec-2 and rec-3 were not added */
    assert_string_equal(r.matches[0].id, "rec-1");
    wn_index_result_release(&r);
    wn_index_free(ix);

    /* The default rule's sketch encodes to 468 bytes (16 band keys of 8,
     * a 256-byte signature, the header and hashes); its stored form is the
     * signature and under 40 bytes more. */
    MDB_env *env = raw_env(dir);
    MDB_txn *txn;
    MDB_dbi recs, meta;
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "records", MDB_INTEGERKEY, &recs), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    MDB_cursor *cur;
    assert_int_equal(mdb_cursor_open(txn, recs, &cur), 0);
    MDB_val k, v;
    assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
    mdb_cursor_close(cur);
    assert_true(v.mv_size >= 256 + 5);
    assert_true(v.mv_size <= 256 + 40);
    /* Another format version: refused, with a message. */
    unsigned char one[4] = {1, 0, 0, 0};
    MDB_val vk = {7, (void *)"version"}, vv = {4, one};
    assert_int_equal(mdb_put(txn, meta, &vk, &vv, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    struct wn_index_options o;
    wn_index_options_init(&o);
    char msg[256];
    ix = NULL;
    assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_EFORMAT);
    assert_null(ix);
    assert_non_null(strstr(msg, "format version 1"));
    assert_non_null(strstr(msg, "make the index again"));
    rm_rf(dir);
    free(dir);
}

/* Other rules: SimHash, the news profile (figures in the sketch), k
 * permutations. Each index reopens with its stored rule (no options) and
 * finds a copy and a near copy of what it holds. */
static void test_other_rules(void **state)
{
    (void)state;
    unsigned w[300];
    gen_words(w, 300);
    char *text = render(w, 300);
    for (int rule = 0; rule < 3; rule++) {
        char *dir = tmpdir_make();
        struct wn_index_options o;
        wn_index_options_init(&o);
        o.create = 1;
        o.no_sync = 1;
        if (rule == 0)
            o.dedup.method = WN_METHOD_SIMHASH;
        else if (rule == 1)
            o.dedup.profile = WN_PROFILE_NEWS;
        else
            o.dedup.sketch = WN_SKETCH_K_PERMUTATIONS;
        struct wn_index *ix = NULL;
        char msg[256];
        assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_OK);
        struct wn_index_result r;
        wn_index_result_init(&r);
        struct wn_index_doc d = doc_of("orig", text);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_true(r.added);
        wn_index_free(ix);
        wn_index_options_init(&o);
        ix = NULL;
        assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_OK);
        struct wn_dedup_options rule_back;
        wn_index_rule(ix, &rule_back);
        assert_int_equal(rule_back.method,
                         rule == 0 ? WN_METHOD_SIMHASH : WN_METHOD_MINHASH);
        assert_int_equal(rule_back.profile,
                         rule == 1 ? WN_PROFILE_NEWS : WN_PROFILE_CLASSIC);
        d = doc_of("copy", text);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_false(r.is_new);
        assert_string_equal(r.matches[0].id, "orig");
        assert_int_equal(r.matches[0].reason, WN_REASON_EXACT);
        /* Near copies (one word changed, at 20 places): what the pair
         * rule says of the two sketches (a duplicate when the same and
         * sharing a band key), the index says; some are duplicates. */
        struct wn_sketcher *sk = NULL;
        struct wn_sketch *sa = NULL, *sb = NULL;
        assert_int_equal(wn_sketcher_create(&rule_back, &sk), WN_OK);
        assert_int_equal(wn_sketch_create(sk, &sa), WN_OK);
        assert_int_equal(wn_sketch_create(sk, &sb), WN_OK);
        assert_int_equal(wn_sketcher_sketch(sk, text, strlen(text), sa), WN_OK);
        int dups = 0;
        for (int at = 0; at < 20; at++) {
            unsigned keep = w[at * 13];
            w[at * 13] = 5000 + (unsigned)at;
            char *near = render(w, 300);
            w[at * 13] = keep;
            assert_int_equal(wn_sketcher_sketch(sk, near, strlen(near), sb),
                             WN_OK);
            struct wn_verdict v;
            assert_int_equal(wn_sketcher_compare(sk, sb, sa, &v), WN_OK);
            int is_dup = v.same && v.candidate;
            dups += is_dup;
            d = doc_of("near", near);
            assert_int_equal(wn_index_query(ix, &d, 1, &r), WN_OK);
            assert_int_equal(!r.is_new, is_dup);
            if (is_dup) {
                assert_string_equal(r.matches[0].id, "orig");
                assert_int_not_equal(r.matches[0].reason, WN_REASON_EXACT);
            }
            free(near);
        }
        assert_true(dups > 0);
        wn_sketch_free(sa);
        wn_sketch_free(sb);
        wn_sketcher_free(sk);
        wn_index_result_release(&r);
        wn_index_free(ix);
        rm_rf(dir);
        free(dir);
    }
    free(text);
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

/* A near copy of text (its second byte changed: one word of many). */
static int near_found(struct wn_index *ix, const char *text, const char *id)
{
    char *t = strdup(text);
    t[1] = t[1] == '1' ? '2' : '1';
    struct wn_index_doc d = doc_of("q", t);
    struct wn_index_result r;
    wn_index_result_init(&r);
    int found = wn_index_query(ix, &d, 1, &r) == WN_OK && !r.is_new &&
                !strcmp(r.matches[0].id, id);
    wn_index_result_release(&r);
    free(t);
    return found;
}

static void add_range(struct wn_index *ix, char **texts, int from, int to)
{
    struct wn_index_result r;
    wn_index_result_init(&r);
    for (int i = from; i < to; i++) {
        char id[16];
        snprintf(id, sizeof(id), "m%d", i);
        struct wn_index_doc d = doc_of(id, texts[i]);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_true(r.added);
    }
    wn_index_result_release(&r);
}

/* The main tier's key filter of a warm handle: every merged record is
 * still found, after this handle's merges (which add to the filter) and
 * after another process's (which leave it behind, unused); fresh texts
 * are new. */
static void test_warm_filter(void **state)
{
    (void)state;
    rng_state = 23;
    char *dir = tmpdir_make();
    struct wn_index *ix = open_new(dir);
    enum { N1 = 300, N2 = 100, N3 = 100, NF = 50 };
    enum { NT = N1 + N2 + N3 + NF };
    char *texts[NT];
    unsigned w[120];
    for (int i = 0; i < NT; i++) {
        gen_words(w, 120);
        texts[i] = render(w, 120);
    }
    add_range(ix, texts, 0, N1);
    assert_int_equal(wn_index_merge(ix, 1), WN_OK);
    assert_int_equal(wn_index_warm(ix), WN_OK);
    char id[16];
    for (int i = 0; i < N1; i++) {
        snprintf(id, sizeof(id), "m%d", i);
        assert_true(near_found(ix, texts[i], id));
    }
    struct wn_index_result r;
    wn_index_result_init(&r);
    for (int i = N1 + N2 + N3; i < NT; i++) {
        struct wn_index_doc d = doc_of("fresh", texts[i]);
        assert_int_equal(wn_index_query(ix, &d, 1, &r), WN_OK);
        assert_true(r.is_new);
    }
    /* This handle's merge: into the tree and the filter. */
    add_range(ix, texts, N1, N1 + N2);
    assert_int_equal(wn_index_merge(ix, 1), WN_OK);
    struct wn_index_stats st;
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.pending, 0);
    for (int i = 0; i < N1 + N2; i++) {
        snprintf(id, sizeof(id), "m%d", i);
        assert_true(near_found(ix, texts[i], id));
    }
    /* Another process adds and merges. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct wn_index_options o;
        wn_index_options_init(&o);
        o.no_sync = 1;
        struct wn_index *other = NULL;
        int ok = wn_index_open(dir, &o, &other, NULL, 0) == WN_OK;
        struct wn_index_result cr;
        wn_index_result_init(&cr);
        for (int i = N1 + N2; ok && i < N1 + N2 + N3; i++) {
            snprintf(id, sizeof(id), "m%d", i);
            struct wn_index_doc d = doc_of(id, texts[i]);
            ok = wn_index_check(other, &d, &cr) == WN_OK && cr.added;
        }
        ok = ok && wn_index_merge(other, 1) == WN_OK;
        wn_index_free(other);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.pending, 0);
    for (int i = 0; i < N1 + N2 + N3; i++) {
        snprintf(id, sizeof(id), "m%d", i);
        assert_true(near_found(ix, texts[i], id));
    }
    wn_index_result_release(&r);
    wn_index_free(ix);
    for (int i = 0; i < NT; i++)
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

static void threads_run(int wal)
{
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
    o.no_sync = !wal;
    o.wal = wal;
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

static void test_threads(void **state)
{
    (void)state;
    threads_run(0);
}

/* The same through the write-ahead log, checkpointed over and over (a
 * forced merge checkpoints first) while the threads check and query. */
static void test_threads_wal(void **state)
{
    (void)state;
    threads_run(1);
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
static int count_logs(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "exit $(ls '%s' | grep -c '^wal-.*\\.log$')",
             dir);
    int st = system(cmd);
    return WEXITSTATUS(st);
}

/* What a kill -9 leaves: the data file and the log files as they are. */
static char *crash_copy(const char *dir, const char *name)
{
    char *to = malloc(strlen(dir) + 32);
    sprintf(to, "%s.%s", dir, name);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "rm -rf '%s' && mkdir '%s' && cp '%s'/data.mdb '%s'/wal-*.log "
             "'%s'/",
             to, to, dir, dir, to);
    assert_int_equal(system(cmd), 0);
    return to;
}

/* Where a log file's frames end (u32 length, u64 check, payload; zeros
 * after them in a new file). */
static long frames_end(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    long off = 0;
    unsigned char h[12];
    while (fseek(f, off, SEEK_SET) == 0 && fread(h, 1, 12, f) == 12) {
        uint32_t n = (uint32_t)h[0] | (uint32_t)h[1] << 8 |
                     (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
        if (n == 0)
            break;
        off += 12 + (long)n;
    }
    fclose(f);
    return off;
}

static uint64_t records_of(const char *dir, int read_only)
{
    struct wn_index_options o;
    wn_index_options_init(&o);
    o.read_only = read_only;
    o.no_sync = 1;
    struct wn_index *ix = NULL;
    char msg[256];
    assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_OK);
    struct wn_index_stats st;
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    wn_index_free(ix);
    return st.records;
}

/* The write-ahead log: a check's add is answered once its frame is synced
 * in the log, seen by the next checks and by readers at once; what a crash
 * leaves opens with every add (a writer puts the log into LMDB), a torn or
 * corrupt last frame is dropped and the rest kept; a checkpoint empties
 * the log; one writer at a time. */
static void test_wal(void **state)
{
    (void)state;
    rng_state = 31;
    char *dir = tmpdir_make();
    enum { N = 40, M = 10 };
    char *texts[N + M + 1];
    unsigned w[150];
    for (int i = 0; i < N + M + 1; i++) {
        gen_words(w, 150);
        texts[i] = render(w, 150);
    }
    struct wn_index_options o;
    wn_index_options_init(&o);
    o.create = 1;
    o.wal = 1;
    o.no_auto_merge = 1; /* no checkpoint but ours */
    struct wn_index *ix = NULL;
    char msg[256];
    assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_OK);
    struct wn_index_result r;
    wn_index_result_init(&r);
    char id[16];
    char log_path[600], log[700];
    snprintf(log_path, sizeof(log_path), "%s/wal-0000000000000001.log", dir);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "t%d", i);
        struct wn_index_doc d = doc_of(id, texts[i]);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_true(r.added);
        assert_int_equal(r.record, i);
    }
    /* The logged records answer lookups: by text and by id. */
    struct wn_index_doc d = doc_of("copy", texts[7]);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_false(r.added);
    assert_int_equal(r.matches[0].reason, WN_REASON_EXACT);
    assert_string_equal(r.matches[0].id, "t7");
    d = doc_of("t5", texts[9]);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_false(r.added);
    assert_int_equal(r.matches[0].reason, WN_REASON_ID);
    struct wn_index_stats st;
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, N);
    assert_int_equal(st.log_records, N);
    assert_true(st.oldest > 0 && st.newest >= st.oldest); /* from the log */
    assert_true(st.log_bytes > (uint64_t)N * 300);
    assert_true(frames_end(log_path) > N * 300);
    /* The current file and the next one, made at open for the first
     * checkpoint. */
    assert_int_equal(count_logs(dir), 2);
    snprintf(log, sizeof(log), "%s/wal-0000000000000002.log", dir);
    assert_int_equal(frames_end(log), 0);

    /* One writer at a time; readers see the log. */
    struct wn_index_options p;
    wn_index_options_init(&p);
    struct wn_index *other = NULL;
    assert_int_equal(wn_index_open(dir, &p, &other, msg, sizeof(msg)),
                     WN_EBUSY);
    assert_non_null(strstr(msg, "write-ahead log"));
    p.wal = 1;
    assert_int_equal(wn_index_open(dir, &p, &other, msg, sizeof(msg)),
                     WN_EBUSY);
    assert_null(other);
    assert_int_equal(records_of(dir, 1), N);

    /* A crash: the writer's files as they are. */
    char *crash = crash_copy(dir, "crash");
    char *torn = crash_copy(dir, "torn");
    char *bad = crash_copy(dir, "bad");
    snprintf(log, sizeof(log), "%s/wal-0000000000000001.log", torn);
    long end = frames_end(log);
    assert_true(end > 0);
    assert_int_equal(truncate(log, end - 5), 0); /* a torn write */
    snprintf(log, sizeof(log), "%s/wal-0000000000000001.log", bad);
    FILE *f = fopen(log, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, end - 40, SEEK_SET), 0);
    int ch = fgetc(f);
    assert_int_equal(fseek(f, end - 40, SEEK_SET), 0);
    fputc(ch ^ 0x5a, f); /* a sector that was never written */
    fclose(f);
    assert_int_equal(records_of(torn, 1), N - 1); /* read as it is */
    assert_int_equal(records_of(bad, 1), N - 1);
    assert_int_equal(records_of(crash, 0), N); /* replayed into LMDB */
    assert_int_equal(count_logs(crash), 0);
    assert_int_equal(records_of(crash, 1), N);
    assert_int_equal(records_of(torn, 0), N - 1);
    assert_int_equal(count_logs(torn), 0);
    {
        struct wn_index_options ro;
        wn_index_options_init(&ro);
        ro.read_only = 1;
        struct wn_index *rix = NULL;
        assert_int_equal(wn_index_open(crash, &ro, &rix, NULL, 0), WN_OK);
        for (int i = 0; i < N; i++) {
            snprintf(id, sizeof(id), "q%d", i);
            d = doc_of(id, texts[i]);
            assert_int_equal(wn_index_query(rix, &d, 1, &r), WN_OK);
            snprintf(id, sizeof(id), "t%d", i);
            assert_int_equal(r.n, 1);
            assert_string_equal(r.matches[0].id, id);
        }
        wn_index_free(rix);
    }

    /* A checkpoint: into LMDB, the log emptied; later adds are logged and
     * see the checkpointed ones. */
    assert_int_equal(wn_index_logged(ix), N);
    assert_int_equal(wn_index_checkpoint(ix, 1), WN_OK);
    assert_int_equal(wn_index_logged(ix), 0);
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, N);
    assert_int_equal(st.log_records, 0);
    assert_int_equal(count_logs(dir), 1); /* the new, empty file */
    for (int i = N; i < N + M; i++) {
        snprintf(id, sizeof(id), "t%d", i);
        d = doc_of(id, texts[i]);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_true(r.added);
        assert_int_equal(r.record, i);
    }
    d = doc_of("copy2", texts[3]);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_string_equal(r.matches[0].id, "t3");
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, N + M);
    assert_int_equal(st.log_records, M);
    assert_int_equal(wn_index_logged(ix), M);
    char *after = crash_copy(dir, "after");
    assert_int_equal(records_of(after, 0), N + M);
    /* Again: the third file is the first one recycled (its old frames,
     * of another file number, end the new ones). */
    assert_int_equal(wn_index_checkpoint(ix, 1), WN_OK);
    snprintf(log, sizeof(log), "%s/wal-0000000000000003.log", dir);
    assert_true(frames_end(log) > 0); /* the old frames, not zeros */
    d = doc_of("extra", texts[N + M]);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_true(r.added);
    assert_int_equal(r.record, N + M);
    char *again = crash_copy(dir, "again");
    assert_int_equal(records_of(again, 1), N + M + 1);
    assert_int_equal(records_of(again, 0), N + M + 1);
    wn_index_free(ix); /* a clean close: checkpointed, no log */
    assert_int_equal(count_logs(dir), 0);
    assert_int_equal(records_of(dir, 1), N + M + 1);

    /* Reopened with the log again: the numbers go on. */
    assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_OK);
    d = doc_of("last", texts[0]);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_string_equal(r.matches[0].id, "t0");
    wn_index_free(ix);

    wn_index_result_release(&r);
    for (int i = 0; i < N + M + 1; i++)
        free(texts[i]);
    const char *dirs[] = {crash, torn, bad, after, again};
    for (size_t i = 0; i < 5; i++) {
        rm_rf(dirs[i]);
        free((void *)dirs[i]);
    }
    rm_rf(dir);
    free(dir);
}

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

/* A log file that cannot be started after its name exists (a full file
 * table, a failed directory sync: the test hook WINNOW_TEST_WAL_START_FAIL)
 * leaves no orphan that fails every later rotation: the next checkpoint
 * succeeds and empties the log (the reviewer's finding 4). */
static void test_wal_start_fails(void **state)
{
    (void)state;
#ifndef WN_TEST_HOOKS
    skip();
#else
    rng_state = 37;
    char *dir = tmpdir_make();
    enum { N = 12 };
    char *texts[N];
    unsigned w[120];
    for (int i = 0; i < N; i++) {
        gen_words(w, 120);
        texts[i] = render(w, 120);
    }
    struct wn_index_options o;
    wn_index_options_init(&o);
    o.create = 1;
    o.wal = 1;
    o.no_auto_merge = 1;
    struct wn_index *ix = NULL;
    assert_int_equal(wn_index_open(dir, &o, &ix, NULL, 0), WN_OK);
    struct wn_index_result r;
    wn_index_result_init(&r);
    char id[16];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "s%d", i);
        struct wn_index_doc d = doc_of(id, texts[i]);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        assert_true(r.added);
    }
    setenv("WINNOW_TEST_WAL_START_FAIL", "1", 1);
    /* The first rotation takes the file made ahead at open; making the
     * one after it fails from then on, once per checkpoint. */
    assert_int_equal(wn_index_checkpoint(ix, 1), WN_OK);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "u%d", i);
        struct wn_index_doc d = doc_of(id, texts[(i * 5) % N]);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    }
    gen_words(w, 120);
    char *fresh = render(w, 120);
    struct wn_index_doc fd = doc_of("fresh", fresh);
    assert_int_equal(wn_index_check(ix, &fd, &r), WN_OK);
    assert_true(r.added);
    assert_int_not_equal(wn_index_checkpoint(ix, 1), WN_OK);
    assert_int_not_equal(wn_index_checkpoint(ix, 1), WN_OK);
    unsetenv("WINNOW_TEST_WAL_START_FAIL");
    struct wn_index_stats st;
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, N + 1); /* nothing lost meanwhile */
    assert_true(st.log_records > 0);
    assert_int_equal(wn_index_checkpoint(ix, 1), WN_OK);
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.records, N + 1);
    assert_int_equal(st.log_records, 0);
    /* No file left behind by the failures: the current one and at most
     * the one made ahead. */
    assert_true(count_logs(dir) <= 2);
    free(fresh);
    struct wn_index_doc d = doc_of("again", texts[3]);
    assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
    assert_false(r.added);
    assert_string_equal(r.matches[0].id, "s3");
    wn_index_result_release(&r);
    wn_index_free(ix);
    assert_int_equal(count_logs(dir), 0);
    for (int i = 0; i < N; i++)
        free(texts[i]);
    rm_rf(dir);
    free(dir);
#endif
}

/* Checkpoints in the background: below the overlay's cap (32768 logged
 * records) and above it, each puts everything into LMDB and leaves the
 * calling thread's scheduling as it was. */
static void test_background(void **state)
{
    (void)state;
    rng_state = 29;
    char *dir = tmpdir_make();
    wn_index_free(open_new(dir));
    struct wn_index_options o;
    wn_index_options_init(&o);
    o.wal = 1;
    o.sync_later = 1; /* no sync per check: this test is about checkpoints */
    o.no_auto_merge = 1;
    o.background = 1;
    struct wn_index *ix = NULL;
    char msg[256];
    assert_int_equal(wn_index_open(dir, &o, &ix, msg, sizeof(msg)), WN_OK);
    int policy = sched_getscheduler(0);
    struct wn_index_result r;
    wn_index_result_init(&r);
    enum { N1 = 9000, N2 = 33000 };
    unsigned w[30];
    char id[16];
    size_t added = 0;
    for (int i = 0; i < N1 + N2; i++) {
        gen_words(w, 30);
        char *t = render(w, 30);
        snprintf(id, sizeof(id), "b%d", i);
        struct wn_index_doc d = doc_of(id, t);
        assert_int_equal(wn_index_check(ix, &d, &r), WN_OK);
        added += r.added;
        free(t);
        if (i == N1 - 1) {
            assert_int_equal(wn_index_sync(ix), WN_OK);
            assert_int_equal(wn_index_logged(ix), added);
            assert_int_equal(wn_index_checkpoint(ix, 0), WN_OK);
            assert_int_equal(wn_index_logged(ix), 0);
            assert_int_equal(sched_getscheduler(0), policy);
        }
    }
    assert_int_equal(wn_index_sync(ix), WN_OK);
    assert_true(wn_index_logged(ix) > 32768); /* the cap */
    assert_int_equal(wn_index_checkpoint(ix, 0), WN_OK);
    assert_int_equal(wn_index_logged(ix), 0);
    assert_int_equal(sched_getscheduler(0), policy);
    struct wn_index_stats st;
    assert_int_equal(wn_index_stats(ix, &st), WN_OK);
    assert_int_equal(st.log_records, 0);
    uint64_t records = st.records;
    assert_int_equal(records, added);
    assert_true(added > (N1 + N2) * 9 / 10);
    wn_index_free(ix);
    assert_int_equal(records_of(dir, 1), records);
    wn_index_result_release(&r);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_stored),
        cmocka_unit_test(test_check_query_reopen),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_other_rules),
        cmocka_unit_test(test_expire),
        cmocka_unit_test(test_map_grows),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_wal),
        cmocka_unit_test(test_wal_start_fails),
        cmocka_unit_test(test_warm_filter),
        cmocka_unit_test(test_background),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_threads_wal),
        cmocka_unit_test(test_pair_decision_equals_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
