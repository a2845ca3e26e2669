/*
 * test_passages.c - lib/passages: token codes, sorts, the suffix-array
 * windows against a quadratic finder, wn_passages_run on corpora with
 * known repeats (across line breaks, at document edges, overlapping,
 * multi-byte characters at span edges) and on random corpora against a
 * naive span finder, in one part and in many (the cross-part join and the
 * memory bound), remove mode's rewritten records, seed 002, wn_lines_run,
 * the repetition measures and wn_repeats_run, cancellation, and
 * allocation-failure sweeps of the three runs.
 *
 * Fixtures are written at run time into a mkdtemp directory.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "passages/passages.h"

static char tmpdir[64];
static uint64_t rng_state = 0x243F6A8885A308D3ull;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t rndn(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* Rounds of the random tests: n, times WN_TEST_SCALE when set (soak runs). */
static int rounds(int n)
{
    const char *e = getenv("WN_TEST_SCALE");
    int k = e ? atoi(e) : 1;
    return n * (k > 0 ? k : 1);
}

static char *path_of(const char *name)
{
    char *p = malloc(strlen(tmpdir) + strlen(name) + 2);
    sprintf(p, "%s/%s", tmpdir, name);
    return p;
}

static void write_path(const char *p, const void *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static char *read_path(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    struct wn_buf b = {0};
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(wn__buf_append(&b, chunk, k), WN_OK);
    fclose(f);
    assert_int_equal(wn__buf_putc(&b, '\0'), WN_OK);
    if (n)
        *n = b.len - 1;
    return b.data;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void remove_tree(const char *p)
{
    nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Entries of dir other than the published outputs ("." files: temp). */
static int stray_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, ".winnow-tmp", 11))
            n++;
    closedir(d);
    return n;
}

static bool exists(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0;
}

/* Append s[0, n) as a JSON string (quotes, backslash, controls escaped). */
static void put_json(struct wn_buf *b, const char *s, size_t n)
{
    wn__buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            wn__buf_putc(b, '\\');
            wn__buf_putc(b, (char)c);
        } else if (c == '\n') {
            wn__buf_append(b, "\\n", 2);
        } else if (c < 0x20) {
            wn__buf_printf(b, "\\u%04x", c);
        } else {
            wn__buf_putc(b, (char)c);
        }
    }
    wn__buf_putc(b, '"');
}

#define META ",\"meta\":{\"k\":[1,2,3]}}"

/* Write records {"id":"dI","text":...,"meta":...} to path. */
static void write_corpus(const char *path, char *const *texts, size_t n)
{
    struct wn_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        wn__buf_printf(&b, "{\"id\":\"d%zu\",\"text\":", i);
        put_json(&b, texts[i], strlen(texts[i]));
        wn__buf_append(&b, META "\n", strlen(META) + 1);
    }
    write_path(path, b.data, b.len);
    wn__buf_release(&b);
}

/* The lines of a JSONL file as JSON values. */
struct jlines {
    json_t **v;
    char **raw;
    size_t n;
};

static void jlines_load(const char *path, struct jlines *j)
{
    memset(j, 0, sizeof(*j));
    size_t len;
    char *all = read_path(path, &len);
    assert_non_null(all);
    char *p = all;
    while (*p) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        json_error_t err;
        json_t *v = json_loads(p, 0, &err);
        if (!v)
            fail_msg("%s: bad JSON line: %s", path, err.text);
        j->v = realloc(j->v, (j->n + 1) * sizeof(*j->v));
        j->raw = realloc(j->raw, (j->n + 1) * sizeof(*j->raw));
        j->v[j->n] = v;
        j->raw[j->n] = strdup(p);
        j->n++;
        p = nl + 1;
    }
    free(all);
}

static void jlines_free(struct jlines *j)
{
    for (size_t i = 0; i < j->n; i++) {
        json_decref(j->v[i]);
        free(j->raw[i]);
    }
    free(j->v);
    free(j->raw);
}

static json_t *jfind(const struct jlines *j, const char *id)
{
    for (size_t i = 0; i < j->n; i++)
        if (!strcmp(json_string_value(json_object_get(j->v[i], "id")), id))
            return j->v[i];
    return NULL;
}

static long long jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!v || !json_is_integer(v))
        fail_msg("no integer \"%s\"", key);
    return json_integer_value(v);
}

static long long json_num(const char *path, const char *key)
{
    json_error_t err;
    json_t *v = json_load_file(path, 0, &err);
    assert_non_null(v);
    long long x = jint(v, key);
    json_decref(v);
    return x;
}

/* ------------------------------------------------------------------------ */
/* Token codes and sorts                                                     */
/* ------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_codes(void **state)
{
    (void)state;
    struct wn_vocab v;
    wn__vocab_init(&v, SIZE_MAX / 4, 1);
    enum { N = 20000 };
    char **codes = calloc(N, sizeof(char *));
    for (int i = 0; i < N; i++) {
        char tok[16];
        int tl = snprintf(tok, sizeof(tok), "t%d", i);
        unsigned char c[WN_CODE_MAX];
        int len = wn__vocab_code(&v, tok, (size_t)tl, c);
        /* Ids in order of first occurrence; lengths by id. */
        int want = i < 128 ? 1 : i < 128 + 64 * 255 ? 2 : 3;
        assert_int_equal(len, want);
        assert_int_equal(wn__code_len(c[0]), (unsigned)len);
        assert_true(c[0] != WN_CODE_END);
        for (int j = 1; j < len; j++)
            assert_true(c[j] != WN_CODE_END); /* only ever a marker */
        /* The same token again: the same code. */
        unsigned char d[WN_CODE_MAX];
        assert_int_equal(wn__vocab_code(&v, tok, (size_t)tl, d), len);
        assert_memory_equal(c, d, (size_t)len);
        codes[i] = calloc(1, 2 * WN_CODE_MAX + 1);
        for (int j = 0; j < len; j++)
            sprintf(codes[i] + 2 * j, "%02x", c[j]);
    }
    assert_int_equal(v.n, N);
    assert_int_equal(v.hashed, 0);
    /* Distinct tokens, distinct codes. */
    qsort(codes, N, sizeof(char *), cmp_str);
    for (int i = 1; i < N; i++)
        assert_true(strcmp(codes[i - 1], codes[i]) != 0);
    for (int i = 0; i < N; i++)
        free(codes[i]);
    free(codes);
    wn__vocab_release(&v);

    /* A full vocabulary: known tokens keep their codes, new ones are
     * hashed, always the same way. */
    wn__vocab_init(&v, 40000, 7);
    unsigned char first[WN_CODE_MAX], c[WN_CODE_MAX], d[WN_CODE_MAX];
    int fl = wn__vocab_code(&v, "alpha", 5, first);
    assert_int_equal(fl, 1);
    for (int i = 0; i < 5000 && !v.full; i++) {
        char tok[16];
        int tl = snprintf(tok, sizeof(tok), "w%d", i);
        assert_true(wn__vocab_code(&v, tok, (size_t)tl, c) > 0);
    }
    assert_true(v.full);
    assert_true(wn__vocab_bytes(&v) <= 40000);
    uint64_t hashed = v.hashed; /* the token that found it full */
    assert_int_equal(wn__vocab_code(&v, "alpha", 5, c), fl);
    assert_memory_equal(c, first, (size_t)fl);
    assert_int_equal(wn__vocab_code(&v, "neverseen", 9, c), 5);
    assert_true(c[0] >= 0xF0 && c[0] <= 0xF7);
    assert_int_equal(wn__vocab_code(&v, "neverseen", 9, d), 5);
    assert_memory_equal(c, d, 5);
    assert_int_equal(v.hashed, hashed + 2);
    wn__vocab_release(&v);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_pair(const void *a, const void *b)
{
    const struct wn_pair64 *x = a, *y = b;
    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    return (x->b > y->b) - (x->b < y->b);
}

static void test_sorts(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 17, 1023, 1024, 5000, 70000};
    for (size_t s = 0; s < WN_ARRAY_LEN(sizes); s++) {
        for (int round = 0; round < 3; round++) {
            size_t n = sizes[s];
            uint64_t mask = round == 0   ? UINT64_MAX
                            : round == 1 ? 0xFF
                                         : 0xFFull << 40;
            uint64_t *a = malloc((n + 1) * 8), *b = malloc((n + 1) * 8);
            struct wn_pair64 *p = malloc((n + 1) * sizeof(*p));
            struct wn_pair64 *q = malloc((n + 1) * sizeof(*q));
            for (size_t i = 0; i < n; i++) {
                a[i] = b[i] = rnd() & mask;
                p[i].a = rnd() & mask & 0xFFFF00FF00FFull;
                p[i].b = rnd() % 5;
                q[i] = p[i];
            }
            assert_int_equal(wn__sort_u64(a, n), WN_OK);
            if (n)
                qsort(b, n, 8, cmp_u64);
            if (n)
                assert_memory_equal(a, b, n * 8);
            assert_int_equal(wn__sort_pairs(p, n), WN_OK);
            if (n)
                qsort(q, n, sizeof(*q), cmp_pair);
            for (size_t i = 0; i < n; i++)
                assert_true(p[i].a == q[i].a && p[i].b == q[i].b);
            free(a);
            free(b);
            free(p);
            free(q);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Windows against a quadratic finder                                        */
/* ------------------------------------------------------------------------ */

/* A token corpus: doc d holds ids tok[start[d], start[d + 1]). */
struct tcorpus {
    uint32_t *tok;
    size_t *start;
    size_t ndocs, ntok;
};

/* The expected window entry of global token g, found by comparing it with
 * every other window. */
static uint64_t naive_window(const struct tcorpus *c, size_t d, size_t i,
                             uint32_t k)
{
    size_t a = c->start[d] + i;
    if (c->start[d] + i + k > c->start[d + 1])
        return 0;
    uint64_t count = 0, min1 = UINT64_MAX, min2 = UINT64_MAX;
    for (size_t e = 0; e < c->ndocs; e++) {
        for (size_t b = c->start[e]; b + k <= c->start[e + 1]; b++) {
            if (memcmp(c->tok + a, c->tok + b, k * sizeof(uint32_t)) != 0)
                continue;
            count++;
            if (b < min1) {
                min2 = min1;
                min1 = b;
            } else if (b < min2) {
                min2 = b;
            }
        }
    }
    if (count < 2)
        return 0;
    return wn__win_pack(count, a == min1 ? min2 : min1);
}

/* Code the corpus with a vocabulary of max_bytes. */
static unsigned char *code_corpus(const struct tcorpus *c, size_t max_bytes,
                                  size_t *n)
{
    struct wn_vocab v;
    wn__vocab_init(&v, max_bytes, 3);
    struct wn_buf b = {0};
    for (size_t d = 0; d < c->ndocs; d++) {
        for (size_t t = c->start[d]; t < c->start[d + 1]; t++) {
            char s[16];
            int sl = snprintf(s, sizeof(s), "w%u", c->tok[t]);
            unsigned char code[WN_CODE_MAX];
            int len = wn__vocab_code(&v, s, (size_t)sl, code);
            assert_true(len > 0);
            wn__buf_append(&b, code, (size_t)len);
        }
        wn__buf_putc(&b, (char)WN_CODE_END);
    }
    wn__vocab_release(&v);
    *n = b.len;
    return (unsigned char *)b.data;
}

static void check_windows(const struct tcorpus *c, uint32_t k,
                          size_t vocab_bytes, uint64_t base)
{
    size_t n;
    unsigned char *text = code_corpus(c, vocab_bytes, &n);
    uint64_t *win = calloc(c->ntok + 1, sizeof(*win));
    assert_int_equal(wn__part_windows(text, n, c->ntok, k, base, win), WN_OK);
    for (size_t d = 0; d < c->ndocs; d++) {
        for (size_t t = c->start[d]; t < c->start[d + 1]; t++) {
            uint64_t want = naive_window(c, d, t - c->start[d], k);
            if (want)
                want = wn__win_pack(wn__win_count(want),
                                    wn__win_partner(want) + base);
            if (win[t] != want)
                fail_msg("doc %zu token %zu k %u: got count %llu partner "
                         "%llu, want %llu %llu",
                         d, t, k, (unsigned long long)wn__win_count(win[t]),
                         (unsigned long long)wn__win_partner(win[t]),
                         (unsigned long long)wn__win_count(want),
                         (unsigned long long)wn__win_partner(want));
        }
    }
    free(win);
    wn__free(text);
}

static void test_windows_naive(void **state)
{
    (void)state;
    uint64_t saved = wn__sa64_min;
    for (int round = 0; round < rounds(400); round++) {
        struct tcorpus c;
        c.ndocs = 1 + rndn(5);
        c.start = calloc(c.ndocs + 1, sizeof(size_t));
        c.tok = malloc(1);
        c.ntok = 0;
        /* Small alphabets make repeats; some rounds use many ids (2-byte
         * codes) or a vocabulary too small to hold them (hashed codes). */
        uint32_t alpha = round % 7 == 0 ? 400 : 2 + (uint32_t)rndn(3);
        size_t vocab = round % 5 == 0 ? 300 : SIZE_MAX / 4;
        for (size_t d = 0; d < c.ndocs; d++) {
            size_t len = rndn(round % 3 == 0 ? 80 : 30);
            c.tok = realloc(c.tok, (c.ntok + len + 1) * sizeof(uint32_t));
            for (size_t i = 0; i < len; i++)
                c.tok[c.ntok++] = (uint32_t)rndn(alpha);
            c.start[d + 1] = c.ntok;
        }
        /* Plant a copy across documents now and then. */
        if (c.ndocs > 1 && round % 2 == 0) {
            size_t a = c.start[0], la = c.start[1] - a;
            size_t b = c.start[c.ndocs - 1], lb = c.start[c.ndocs] - b;
            size_t len = WN_MIN(la, lb);
            memcpy(c.tok + b + lb - len, c.tok + a, len * 4);
        }
        wn__sa64_min = round % 2 ? 0 : saved; /* the 64-bit sorter too */
        uint32_t k = 1 + (uint32_t)rndn(6);
        check_windows(&c, k, vocab, (uint64_t)rndn(1000));
        free(c.start);
        free(c.tok);
    }
    wn__sa64_min = saved;
}

static void test_windows_bad_input(void **state)
{
    (void)state;
    unsigned char ok[] = {0, 1, 0, WN_CODE_END, 0, WN_CODE_END};
    uint64_t win[8];
    struct wn_part_sa s;
    assert_int_equal(wn__part_windows(ok, sizeof(ok), 4, 1, 0, win), WN_OK);
    assert_int_equal(wn__win_count(win[0]), 3);
    assert_int_equal(wn__win_partner(win[0]), 2);
    assert_int_equal(wn__win_partner(win[2]), 0);
    assert_int_equal(win[1], 0);
    assert_int_equal(wn__part_sort(ok, sizeof(ok), 4, 0, &s), WN_EINVAL);
    assert_int_equal(wn__part_sort(ok, sizeof(ok), 5, 1, &s), WN_EINVAL);
    assert_int_equal(wn__part_sort(ok, sizeof(ok) - 1, 4, 1, &s), WN_EINVAL);
    unsigned char cut[] = {0x80, WN_CODE_END}; /* 0xFF is never a digit */
    assert_int_equal(wn__part_sort(cut, sizeof(cut), 1, 1, &s), WN_EINVAL);
    unsigned char cut2[] = {0, WN_CODE_END, 0xC0, 1}; /* a 3-byte code, cut */
    assert_int_equal(wn__part_sort(cut2, sizeof(cut2), 2, 1, &s), WN_EINVAL);
    assert_int_equal(wn__part_sort(NULL, 0, 0, 3, &s), WN_OK);
    wn__part_sa_release(&s);
}

/* ------------------------------------------------------------------------ */
/* wn_passages_run on known corpora                                          */
/* ------------------------------------------------------------------------ */

static struct wn_passages_options popts(uint32_t k, int mode)
{
    struct wn_passages_options o;
    wn_passages_options_init(&o);
    o.min_span = k;
    o.mode = mode;
    return o;
}

static void run_passages(const char *in, const char *out,
                         const struct wn_passages_options *o,
                         struct wn_passages_report *rep)
{
    remove_tree(out);
    int rc = wn_passages_run(&in, 1, out, o, rep);
    if (rc)
        fail_msg("wn_passages_run: %s (%s)", wn_strerror(rc), rep->error_path);
    assert_true(rep->read == rep->kept + rep->removed + rep->rejected);
}

/* The text a span of record id covers, from the corpus. */
static char *span_text(char *const *texts, json_t *span, json_t *rec)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *t = texts[atoi(id + 1)];
    long long s = jint(span, "start"), e = jint(span, "end");
    assert_true(s >= 0 && s <= e && e <= (long long)strlen(t));
    return strndup(t + s, (size_t)(e - s));
}

static void test_known_spans(void **state)
{
    (void)state;
    char *texts[] = {
        /* d0: a passage crossing a line break */
        "Alpha beta gamma delta.\nEpsilon zeta eta theta iota kappa.",
        /* d1: the same tokens, other case and punctuation */
        "Intro words here: GAMMA, delta; epsilon -- zeta! Outro words.",
        /* d2: the first four tokens of d0: from the very start to the very
         * end of the record */
        "alpha beta gamma delta",
        /* d3: overlapping repeats, from d4 and from d5 */
        "one two three four five six",
        "xx one two three four yy",
        "zz three four five six",
        /* d6, d7: multi-byte characters at both edges */
        "Ünïcode ķey wörds hére end",
        "x Ünïcode ķey wörds hére",
        /* d8, d9: Japanese, one token per character */
        "今日は東京都の天気は晴れです",
        "明日の東京都の天気は雨",
    };
    size_t n = WN_ARRAY_LEN(texts);
    char *in = path_of("known.jsonl"), *out = path_of("known-out");
    write_corpus(in, texts, n);
    struct wn_passages_options o = popts(4, WN_SPANS_ANNOTATE);
    struct wn_passages_report rep;
    run_passages(in, out, &o, &rep);
    assert_int_equal(rep.read, n);
    assert_int_equal(rep.kept, n);
    char *sp = path_of("known-out/spans.jsonl");
    struct jlines j;
    jlines_load(sp, &j);

    struct {
        const char *id, *text;
        long long count;
        const char *where; /* first place's id */
    } want[] = {
        {"d0", "Alpha beta gamma delta.\nEpsilon zeta", 2, "d2"},
        {"d1", "GAMMA, delta; epsilon -- zeta", 2, "d0"},
        {"d2", "alpha beta gamma delta", 2, "d0"},
        {"d3", "one two three four five six", 2, "d4"},
        {"d4", "one two three four", 2, "d3"},
        {"d5", "three four five six", 2, "d3"},
        {"d6", "Ünïcode ķey wörds hére", 2, "d7"},
        {"d7", "Ünïcode ķey wörds hére", 2, "d6"},
        {"d8", "東京都の天気は", 2, "d9"},
        {"d9", "東京都の天気は", 2, "d8"},
    };
    assert_int_equal(j.n, WN_ARRAY_LEN(want));
    for (size_t i = 0; i < WN_ARRAY_LEN(want); i++) {
        json_t *rec = jfind(&j, want[i].id);
        if (!rec)
            fail_msg("%s has no spans", want[i].id);
        json_t *spans = json_object_get(rec, "spans");
        assert_int_equal(json_array_size(spans), 1);
        json_t *s = json_array_get(spans, 0);
        char *got = span_text(texts, s, rec);
        if (strcmp(got, want[i].text))
            fail_msg("%s: span \"%s\", want \"%s\"", want[i].id, got,
                     want[i].text);
        free(got);
        assert_int_equal(jint(s, "count"), want[i].count);
        json_t *w0 = json_array_get(json_object_get(s, "where"), 0);
        assert_string_equal(json_string_value(json_object_get(w0, "id")),
                            want[i].where);
    }
    /* d0's passage "gamma delta epsilon zeta" (tokens 2..5) is in d1, and
     * "alpha beta gamma delta" (0..3) in d2: two places, in span order. */
    json_t *s0 = json_array_get(json_object_get(jfind(&j, "d0"), "spans"), 0);
    json_t *where = json_object_get(s0, "where");
    assert_int_equal(json_array_size(where), 2);
    json_t *w1 = json_array_get(where, 1);
    assert_string_equal(json_string_value(json_object_get(w1, "id")), "d1");
    char *got = strndup(texts[1] + jint(w1, "start"),
                        (size_t)(jint(w1, "end") - jint(w1, "start")));
    assert_string_equal(got, "GAMMA, delta; epsilon -- zeta");
    free(got);
    /* d3 is covered by two overlapping windows from two places. */
    json_t *s3 = json_array_get(json_object_get(jfind(&j, "d3"), "spans"), 0);
    where = json_object_get(s3, "where");
    assert_int_equal(json_array_size(where), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(where, 1), "id")),
        "d5");
    assert_int_equal(jint(s3, "tokens"), 6);
    jlines_free(&j);
    char *st = path_of("known-out/stats.json");
    assert_int_equal(json_num(st, "spans"), 10);
    free(st);

    /* Remove mode: the later copies go, the first ones stay. */
    o = popts(4, WN_SPANS_REMOVE);
    run_passages(in, out, &o, &rep);
    struct jlines kept, removed;
    char *kp = path_of("known-out/kept.jsonl");
    char *rp = path_of("known-out/removed.jsonl");
    jlines_load(kp, &kept);
    jlines_load(rp, &removed);
    struct {
        const char *id, *text;
    } left[] = {
        {"d0", texts[0]},   {"d1", "Intro words here: Outro words."},
        {"d3", texts[3]},   {"d4", "xx yy"},
        {"d5", "zz "},      {"d6", texts[6]},
        {"d7", "x "},       {"d8", texts[8]},
        {"d9", "明日の雨"},
    };
    assert_int_equal(kept.n, WN_ARRAY_LEN(left));
    for (size_t i = 0; i < WN_ARRAY_LEN(left); i++) {
        json_t *rec = jfind(&kept, left[i].id);
        assert_non_null(rec);
        assert_string_equal(json_string_value(json_object_get(rec, "text")),
                            left[i].text);
        /* Every byte but the text value is the input's. */
        char prefix[32];
        snprintf(prefix, sizeof(prefix),
                 "{\"id\":\"%s\",\"text\":", left[i].id);
        const char *raw = kept.raw[i];
        assert_memory_equal(raw, prefix, strlen(prefix));
        assert_string_equal(raw + strlen(raw) - strlen(META), META);
    }
    /* d2 was wholly a copy. */
    assert_int_equal(removed.n, 1);
    assert_non_null(jfind(&removed, "d2"));
    assert_string_equal(
        json_string_value(json_object_get(jfind(&removed, "d2"), "reason")),
        "all text repeated");
    assert_int_equal(rep.removed_empty, 1);
    /* Unchanged records are their input bytes. */
    size_t inlen;
    char *input = read_path(in, &inlen);
    char *line0 = strndup(input, (size_t)(strchr(input, '\n') - input));
    assert_string_equal(kept.raw[0], line0);
    free(line0);
    free(input);
    jlines_free(&kept);
    jlines_free(&removed);
    free(kp);
    free(rp);
    free(sp);
    free(in);
    remove_tree(out);
    free(out);
}

/* Seed 002: two sentences written twice in a row. */
static void test_seed_002(void **state)
{
    (void)state;
    const char *dirs[] = {WN_SOURCE_ROOT "/../shared/seeds",
                          "/work/shared/seeds"};
    char *text = NULL;
    for (size_t i = 0; i < WN_ARRAY_LEN(dirs) && !text; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && !text) {
            if (!strncmp(e->d_name, "002_", 4)) {
                char p[1024];
                snprintf(p, sizeof(p), "%s/%s", dirs[i], e->d_name);
                text = read_path(p, NULL);
            }
        }
        closedir(d);
    }
    if (!text) {
        print_message("# seed 002 not found under ../shared/seeds: "
                      "skipped\n");
        skip();
    }
    /* As a one-file directory of .txt input. */
    char *dir = path_of("seed002"), *f = path_of("seed002/002.txt");
    remove_tree(dir);
    mkdir(dir, 0777);
    write_path(f, text, strlen(text));
    char *out = path_of("seed002-out");
    struct wn_passages_options o = popts(50, WN_SPANS_REMOVE);
    struct wn_passages_report rep;
    run_passages(dir, out, &o, &rep);
    assert_int_equal(rep.read, 1);
    assert_int_equal(rep.kept, 1);
    assert_int_equal(rep.spans, 1);
    /* The cut is exactly the second copy of the two sentences. */
    const char *l2 = strchr(text, '\n') + 1;
    const char *l4 = strchr(strchr(l2, '\n') + 1, '\n') + 1;
    const char *l6 = strchr(strchr(l4, '\n') + 1, '\n') + 1;
    assert_int_equal((size_t)(l4 - l2), (size_t)(l6 - l4));
    assert_memory_equal(l2, l4, (size_t)(l4 - l2));
    char *sp = path_of("seed002-out/spans.jsonl");
    struct jlines j;
    jlines_load(sp, &j);
    assert_int_equal(j.n, 1);
    json_t *s = json_array_get(json_object_get(j.v[0], "spans"), 0);
    assert_int_equal(jint(s, "start"), l4 - text);
    assert_int_equal(jint(s, "end"), l6 - text);
    json_t *w = json_array_get(json_object_get(s, "where"), 0);
    assert_string_equal(json_string_value(json_object_get(w, "id")), "002.txt");
    assert_int_equal(jint(w, "start"), l2 - text);
    jlines_free(&j);
    free(sp);
    /* Annotate mode: both copies are spans. */
    o.mode = WN_SPANS_ANNOTATE;
    run_passages(dir, out, &o, &rep);
    assert_int_equal(rep.spans, 2);
    remove_tree(out);
    remove_tree(dir);
    free(out);
    free(dir);
    free(f);
    free(text);
}

/* ------------------------------------------------------------------------ */
/* Random corpora against a naive span finder                                */
/* ------------------------------------------------------------------------ */

static const char *const words[] = {"a", "b",  "c",  "Ab",  "é",
                                    "ß", "日", "語", "ökö", "x1"};
static const char *const seps[] = {" ",  " ",   " ",    ", ", "\n",
                                   ". ", " — ", "\n\n", "",   "! "};

static char *random_text(size_t ntok, size_t alpha)
{
    struct wn_buf b = {0};
    if (rndn(4) == 0)
        wn__buf_append(&b, "  ", 2);
    for (size_t i = 0; i < ntok; i++) {
        const char *w = words[rndn(alpha)];
        wn__buf_append(&b, w, strlen(w));
        const char *s = seps[rndn(WN_ARRAY_LEN(seps))];
        /* Words run together only where a script boundary splits them. */
        if (!*s)
            s = " ";
        if (i + 1 < ntok || rndn(3) == 0)
            wn__buf_append(&b, s, strlen(s));
    }
    wn__buf_putc(&b, '\0');
    return b.data;
}

/* A naive model of wn_passages_run's spans.jsonl for one record. */
struct ntoks {
    struct wn_tokens t;
    char **norm; /* per token */
};

static bool window_eq(const struct ntoks *x, size_t i, const struct ntoks *y,
                      size_t j, uint32_t k)
{
    for (uint32_t a = 0; a < k; a++)
        if (strcmp(x->norm[i + a], y->norm[j + a]))
            return false;
    return true;
}

struct nwin {
    uint64_t count;
    size_t pdoc, ptok; /* partner */
    bool counted;
};

static void naive_doc_windows(const struct ntoks *d, size_t ndocs, size_t di,
                              uint32_t k, bool remove, struct nwin *out)
{
    const struct ntoks *me = &d[di];
    for (size_t i = 0; i < me->t.n; i++) {
        out[i].counted = false;
        if (i + k > me->t.n)
            continue;
        size_t c = 0, fd = 0, ft = 0, sd = 0, st = 0;
        for (size_t e = 0; e < ndocs; e++) {
            for (size_t j = 0; j + k <= d[e].t.n; j++) {
                if (!window_eq(me, i, &d[e], j, k))
                    continue;
                if (c == 0) {
                    fd = e;
                    ft = j;
                } else if (c == 1) {
                    sd = e;
                    st = j;
                }
                c++;
            }
        }
        if (c < 2)
            continue;
        bool first = fd == di && ft == i;
        if (remove && first)
            continue;
        out[i].counted = true;
        out[i].count = c;
        out[i].pdoc = first ? sd : fd;
        out[i].ptok = first ? st : ft;
    }
}

/* The expected spans.jsonl line of record di, or NULL if none. */
static char *naive_line(const struct ntoks *d, size_t ndocs, size_t di,
                        char *const *texts, uint32_t k, bool remove,
                        uint32_t max_where, size_t *cut_tokens,
                        struct wn_cut *cuts, size_t *ncuts)
{
    const struct ntoks *me = &d[di];
    struct nwin *w = calloc(me->t.n + 1, sizeof(*w));
    naive_doc_windows(d, ndocs, di, k, remove, w);
    const struct wn_token *tk = me->t.tok;
    const char *text = texts[di];
    size_t len = strlen(text);
    struct wn_buf b = {0};
    size_t nsp = 0;
    *cut_tokens = 0;
    *ncuts = 0;
    for (size_t i = 0; i < me->t.n;) {
        if (!w[i].counted) {
            i++;
            continue;
        }
        size_t a = i, e = i + k;
        uint64_t count = 0;
        for (size_t t = i; t < e; t++)
            if (w[t].counted) {
                e = WN_MAX(e, t + k);
                count = WN_MAX(count, w[t].count);
            }
        /* Places: runs of consecutive windows with consecutive partners,
         * [first partner, last partner + k) in tokens. A run that overlaps
         * a listed place of the same record is merged into it (and listed
         * places that then overlap into the earliest); otherwise it is
         * listed, or counted in more past max_where. */
        struct nplace {
            size_t doc, a, b;
        } *pls = calloc(e - a + 1, sizeof(*pls));
        size_t np = 0, more = 0;
        for (size_t t = a; t < e; t++) {
            if (!w[t].counted)
                continue;
            size_t u = t;
            while (u + 1 < e && w[u + 1].counted &&
                   w[u + 1].pdoc == w[u].pdoc && w[u + 1].ptok == w[u].ptok + 1)
                u++;
            struct nplace c = {w[t].pdoc, w[t].ptok, w[u].ptok + k};
            t = u;
            size_t j = 0;
            while (j < np &&
                   !(pls[j].doc == c.doc && pls[j].a < c.b && c.a < pls[j].b))
                j++;
            if (j == np) {
                if (np < max_where)
                    pls[np++] = c;
                else
                    more++;
                continue;
            }
            pls[j].a = WN_MIN(pls[j].a, c.a);
            pls[j].b = WN_MAX(pls[j].b, c.b);
            for (bool merged = true; merged;) {
                merged = false;
                for (size_t x = 0; x < np && !merged; x++)
                    for (size_t y = x + 1; y < np && !merged; y++)
                        if (pls[x].doc == pls[y].doc && pls[x].a < pls[y].b &&
                            pls[y].a < pls[x].b) {
                            pls[x].a = WN_MIN(pls[x].a, pls[y].a);
                            pls[x].b = WN_MAX(pls[x].b, pls[y].b);
                            memmove(&pls[y], &pls[y + 1],
                                    (np - y - 1) * sizeof(*pls));
                            np--;
                            merged = true;
                        }
            }
        }
        struct wn_buf pl = {0};
        for (size_t j = 0; j < np; j++) {
            const struct ntoks *p = &d[pls[j].doc];
            const struct wn_token *pe = &p->t.tok[pls[j].b - 1];
            wn__buf_printf(&pl, "%s{\"id\":\"d%zu\",\"start\":%u,\"end\":%u}",
                           j ? "," : "", pls[j].doc, p->t.tok[pls[j].a].src_off,
                           pe->src_off + pe->src_len);
        }
        free(pls);
        size_t start = tk[a].src_off;
        size_t end = tk[e - 1].src_off + tk[e - 1].src_len;
        if (remove) {
            size_t last = end;
            size_t after = e < me->t.n ? tk[e].src_off : len;
            if (after < last)
                after = last;
            const char *nl =
                after > last ? memchr(text + last, '\n', after - last) : NULL;
            size_t pe = a ? tk[a - 1].src_off + tk[a - 1].src_len : 0;
            bool line_start =
                a == 0 || (start > pe && memchr(text + pe, '\n', start - pe));
            end = !nl          ? after
                  : line_start ? (size_t)(nl - text) + 1
                               : (size_t)(nl - text);
            /* A character split into several tokens goes with the first
             * cut that ends inside it. */
            size_t prev = *ncuts ? cuts[*ncuts - 1].end : 0;
            start = WN_MAX(start, prev);
            end = WN_MAX(end, start);
            cuts[*ncuts].start = start;
            cuts[*ncuts].end = end;
            (*ncuts)++;
        }
        *cut_tokens += e - a;
        wn__buf_printf(&b,
                       "%s{\"start\":%zu,\"end\":%zu,\"tokens\":%zu,"
                       "\"count\":%llu,\"where\":[",
                       nsp ? "," : "", start, end, e - a,
                       (unsigned long long)count);
        if (pl.len)
            wn__buf_append(&b, pl.data, pl.len);
        wn__buf_printf(&b, "],\"more\":%zu}", more);
        wn__buf_release(&pl);
        nsp++;
        i = e;
    }
    free(w);
    if (!nsp) {
        wn__buf_release(&b);
        return NULL;
    }
    struct wn_buf line = {0};
    wn__buf_printf(&line, "{\"id\":\"d%zu\",\"tokens\":%zu", di, me->t.n);
    if (remove) {
        size_t left = me->t.n - *cut_tokens;
        wn__buf_printf(&line, ",\"tokens_left\":%zu,\"short\":%s", left,
                       left > 0 && left < 20 ? "true" : "false");
    }
    wn__buf_printf(&line, ",\"spans\":[");
    wn__buf_append(&line, b.data, b.len);
    wn__buf_printf(&line, "]}");
    wn__buf_putc(&line, '\0');
    wn__buf_release(&b);
    return line.data;
}

static int naive_mode = WN_TOKENS_WORD;

static void ntoks_make(struct ntoks *d, const char *text)
{
    wn_tokens_init(&d->t);
    assert_int_equal(wn_tokenize(text, strlen(text), naive_mode, &d->t), WN_OK);
    d->norm = calloc(d->t.n + 1, sizeof(char *));
    for (size_t i = 0; i < d->t.n; i++)
        d->norm[i] = d->t.norm + d->t.tok[i].norm_off;
}

/* Compare a run's spans.jsonl and kept.jsonl with the naive model. */
static void check_run(const char *out, char *const *texts, size_t n, uint32_t k,
                      bool remove, uint32_t max_where)
{
    struct ntoks *d = calloc(n, sizeof(*d));
    for (size_t i = 0; i < n; i++)
        ntoks_make(&d[i], texts[i]);
    char sp[512], kp[512];
    snprintf(sp, sizeof(sp), "%s/spans.jsonl", out);
    snprintf(kp, sizeof(kp), "%s/kept.jsonl", out);
    size_t len;
    char *got = read_path(sp, &len);
    struct jlines kept;
    jlines_load(kp, &kept);
    char *at = got;
    size_t ki = 0;
    struct wn_cut *cuts = malloc(sizeof(*cuts) * 4096);
    for (size_t i = 0; i < n; i++) {
        size_t cut_tokens, ncuts;
        char *want = naive_line(d, n, i, texts, k, remove, max_where,
                                &cut_tokens, cuts, &ncuts);
        if (want) {
            size_t wl = strlen(want);
            if (strncmp(at, want, wl) || at[wl] != '\n')
                fail_msg("record d%zu, k %u, %s, text \"%s\":\n got  %.*s\n"
                         " want %s",
                         i, k, remove ? "remove" : "annotate", texts[i],
                         (int)strcspn(at, "\n"), at, want);
            at += wl + 1;
            free(want);
        }
        /* kept.jsonl */
        if (remove && cut_tokens == d[i].t.n && d[i].t.n > 0)
            continue; /* removed */
        assert_true(ki < kept.n);
        char id[32];
        snprintf(id, sizeof(id), "d%zu", i);
        assert_string_equal(
            json_string_value(json_object_get(kept.v[ki], "id")), id);
        struct wn_buf t = {0};
        assert_int_equal(wn__apply_cuts(texts[i], strlen(texts[i]), cuts,
                                        remove ? ncuts : 0, &t),
                         WN_OK);
        const char *kt = json_string_value(json_object_get(kept.v[ki], "text"));
        if (strlen(kt) != t.len || (t.len && memcmp(kt, t.data, t.len)))
            fail_msg("kept d%zu: \"%s\", want \"%.*s\"", i, kt, (int)t.len,
                     t.data);
        wn__buf_release(&t);
        ki++;
    }
    assert_int_equal(*at, '\0');
    assert_int_equal(ki, kept.n);
    jlines_free(&kept);
    free(got);
    free(cuts);
    for (size_t i = 0; i < n; i++) {
        wn_tokens_release(&d[i].t);
        free(d[i].norm);
    }
    free(d);
}

static void test_random_corpora(void **state)
{
    (void)state;
    char *in = path_of("random.jsonl"), *out = path_of("random-out");
    int split = 0, joined = 0; /* runs in parts, runs that joined parts */
    for (int round = 0; round < rounds(60); round++) {
        size_t n = 1 + rndn(6);
        char **texts = calloc(n, sizeof(char *));
        size_t alpha = 2 + rndn(WN_ARRAY_LEN(words) - 1);
        for (size_t i = 0; i < n; i++)
            texts[i] = random_text(rndn(round % 4 == 0 ? 60 : 25), alpha);
        write_corpus(in, texts, n);
        uint32_t k = 1 + (uint32_t)rndn(5);
        /* Every fifth round counts characters instead of words. */
        naive_mode = round % 5 == 4 ? WN_TOKENS_CHAR : WN_TOKENS_WORD;
        for (int mode = 0; mode < 2; mode++) {
            struct wn_passages_options o = popts(k, mode);
            o.token_mode = naive_mode;
            o.max_where = 1 + (uint32_t)rndn(3);
            /* One part, then parts of a record or two. */
            for (int mem = 0; mem < 2; mem++) {
                o.memory = mem ? 1500 : 0;
                struct wn_passages_report rep;
                run_passages(in, out, &o, &rep);
                split += mem && rep.parts > 1;
                joined += mem && rep.cross_windows > 0;
                check_run(out, texts, n, k, mode == WN_SPANS_REMOVE,
                          o.max_where);
            }
        }
        for (size_t i = 0; i < n; i++)
            free(texts[i]);
        free(texts);
    }
    print_message("# %d runs in parts, %d joined windows across parts\n", split,
                  joined);
    assert_true(split > 20 && joined > 10);
    remove_tree(out);
    free(in);
    free(out);
}

/* ------------------------------------------------------------------------ */
/* Parts, the cross-part join and the memory bound                           */
/* ------------------------------------------------------------------------ */

/* A generated corpus of nd records of about 150 words, a tenth of which
 * copy a 60-word passage of an earlier record. */
static void generated_corpus(const char *path, size_t nd)
{
    char vocab[500][12];
    for (int i = 0; i < 500; i++) {
        int l = 2 + (int)rndn(8);
        for (int c = 0; c < l; c++)
            vocab[i][c] = (char)('a' + rndn(26));
        vocab[i][l] = '\0';
    }
    char **texts = calloc(nd, sizeof(char *));
    for (size_t d = 0; d < nd; d++) {
        struct wn_buf b = {0};
        size_t nw = 100 + rndn(100);
        for (size_t w = 0; w < nw; w++) {
            const char *x = vocab[rndn(500)];
            wn__buf_append(&b, x, strlen(x));
            wn__buf_append(&b, w % 17 == 16 ? ".\n" : " ",
                           w % 17 == 16 ? 2 : 1);
        }
        if (d > 0 && rndn(10) == 0) {
            /* A passage of an earlier record: from its 10th space on. */
            const char *src = texts[rndn(d)];
            const char *p = src;
            for (int s = 0; s < 10 && p; s++)
                p = strchr(p + 1, ' ');
            if (p)
                wn__buf_append(&b, p, WN_MIN(strlen(p), (size_t)400));
        }
        wn__buf_putc(&b, '\0');
        texts[d] = b.data;
    }
    write_corpus(path, texts, nd);
    for (size_t d = 0; d < nd; d++)
        wn__free(texts[d]);
    free(texts);
}

static void same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = read_path(a, &la), *y = read_path(b, &lb);
    assert_non_null(x);
    assert_non_null(y);
    if (la != lb || memcmp(x, y, la))
        fail_msg("%s and %s differ", a, b);
    free(x);
    free(y);
}

static void test_memory_bound(void **state)
{
    (void)state;
    char *in = path_of("gen.jsonl");
    generated_corpus(in, 2500);
    char *one = path_of("gen-one"), *many = path_of("gen-many");
    for (int mode = 0; mode < 2; mode++) {
        struct wn_passages_options o = popts(30, mode);
        struct wn_passages_report r1, r2;
        run_passages(in, one, &o, &r1);
        assert_int_equal(r1.parts, 1);
        assert_true(r1.spans > 100);
        o.memory = 1u << 20; /* about a quarter of the corpus */
        run_passages(in, many, &o, &r2);
        print_message("# %s: %u parts, planned peak %llu bytes of %llu, %llu "
                      "windows joined across parts\n",
                      mode ? "remove" : "annotate", r2.parts,
                      (unsigned long long)r2.part_peak_bytes,
                      (unsigned long long)o.memory,
                      (unsigned long long)r2.cross_windows);
        assert_true(r2.parts >= 4);
        assert_true(r2.part_peak_bytes <= o.memory);
        assert_true(r2.cross_windows > 0);
        static const char *const names[] = {"kept.jsonl", "removed.jsonl",
                                            "spans.jsonl"};
        for (size_t i = 0; i < 3; i++) {
            char a[512], b[512];
            snprintf(a, sizeof(a), "%s/%s", one, names[i]);
            snprintf(b, sizeof(b), "%s/%s", many, names[i]);
            same_file(a, b);
        }
        assert_int_equal(r1.spans, r2.spans);
        assert_int_equal(r1.windows, r2.windows);
        /* The cap on a part's code bytes splits the corpus whatever the
         * budget (it bounds the time between looks at the cancel flag),
         * with the same outputs. */
        uint64_t saved = wn__part_max_code;
        wn__part_max_code = 64u << 10;
        o.memory = 0; /* the default, 1 GiB */
        run_passages(in, many, &o, &r2);
        wn__part_max_code = saved;
        print_message("# %s, parts of at most 64 KiB of code: %u parts\n",
                      mode ? "remove" : "annotate", r2.parts);
        assert_true(r2.parts >= 4);
        assert_true(r2.cross_windows > 0);
        for (size_t i = 0; i < 3; i++) {
            char a[512], b[512];
            snprintf(a, sizeof(a), "%s/%s", one, names[i]);
            snprintf(b, sizeof(b), "%s/%s", many, names[i]);
            same_file(a, b);
        }
    }
    remove_tree(one);
    remove_tree(many);
    free(one);
    free(many);
    free(in);
}

/* ------------------------------------------------------------------------ */
/* Lines                                                                     */
/* ------------------------------------------------------------------------ */

static void test_lines(void **state)
{
    (void)state;
    char *texts[] = {
        "Link copied\nThe council met on Tuesday to discuss the budget for "
        "the coming year and the repairs.\nComment (0)",
        "LINK COPIED!\nHeavy rain flooded several streets in the harbour "
        "district overnight.\ncomment 0\nShare this",
        "Link copied\nComment (0)\nShare this",
        "A quoted line that two records share.\nSomething else.",
        "A quoted line that two records share!\nComment: (0)",
        "Link  copied\n\nFirst paragraph, line one.\nline two\n\nShare "
        "this",
    };
    size_t n = WN_ARRAY_LEN(texts);
    char *in = path_of("lines.jsonl"), *out = path_of("lines-out");
    write_corpus(in, texts, n);
    struct wn_lines_options o;
    wn_lines_options_init(&o);
    struct wn_lines_report rep;
    remove_tree(out);
    assert_int_equal(wn_lines_run((const char *[]){in}, 1, out, &o, &rep),
                     WN_OK);
    assert_int_equal(rep.read, n);
    assert_int_equal(rep.kept, n);
    /* "link copied" in 4 records, "comment 0" in 4, "share this" in 3; the
     * quoted line in only 2. */
    assert_int_equal(rep.frequent_units, 3);
    char *lp = path_of("lines-out/lines.jsonl");
    struct jlines j;
    jlines_load(lp, &j);
    json_t *r0 = jfind(&j, "d0");
    json_t *units = json_object_get(r0, "units");
    assert_int_equal(json_array_size(units), 2);
    json_t *u = json_array_get(units, 0);
    assert_int_equal(jint(u, "start"), 0);
    assert_int_equal(jint(u, "end"), 11);
    assert_int_equal(jint(u, "docs"), 4);
    u = json_array_get(units, 1);
    assert_int_equal(jint(u, "docs"), 4);
    assert_null(jfind(&j, "d3"));
    assert_int_equal(json_array_size(json_object_get(jfind(&j, "d2"), "units")),
                     3);
    jlines_free(&j);

    /* Remove mode: d2 is nothing but boilerplate. */
    o.mode = WN_SPANS_REMOVE;
    o.min_length = 5;
    remove_tree(out);
    assert_int_equal(wn_lines_run((const char *[]){in}, 1, out, &o, &rep),
                     WN_OK);
    assert_int_equal(rep.removed, 1);
    assert_int_equal(rep.removed_empty, 1);
    char *kp = path_of("lines-out/kept.jsonl");
    struct jlines kept;
    jlines_load(kp, &kept);
    assert_int_equal(kept.n, n - 1);
    assert_string_equal(
        json_string_value(json_object_get(jfind(&kept, "d0"), "text")),
        "The council met on Tuesday to discuss the budget for the coming "
        "year and the repairs.\n");
    assert_string_equal(
        json_string_value(json_object_get(jfind(&kept, "d5"), "text")),
        "First paragraph, line one.\nline two\n\n");
    assert_string_equal(kept.raw[2], "{\"id\":\"d3\",\"text\":\"A quoted line "
                                     "that two records share.\\nSomething "
                                     "else.\"" META);
    jlines_free(&kept);
    /* d4 keeps 8 tokens; with --min-length 10 it is short. */
    o.min_length = 10;
    o.drop_short = 1;
    remove_tree(out);
    assert_int_equal(wn_lines_run((const char *[]){in}, 1, out, &o, &rep),
                     WN_OK);
    assert_int_equal(rep.removed_short, 2);
    assert_int_equal(rep.short_docs, 2);
    char *rp = path_of("lines-out/removed.jsonl");
    struct jlines rem;
    jlines_load(rp, &rem);
    assert_string_equal(
        json_string_value(json_object_get(jfind(&rem, "d4"), "reason")),
        "too short after removal");
    jlines_free(&rem);

    /* Paragraphs: "link copied" stands alone as a paragraph in d5 only. */
    wn_lines_options_init(&o);
    o.unit = WN_UNIT_PARAGRAPH;
    o.min_docs = 1;
    remove_tree(out);
    assert_int_equal(wn_lines_run((const char *[]){in}, 1, out, &o, &rep),
                     WN_OK);
    assert_int_equal(rep.units, 8); /* 1+1+1+1+1+3 paragraphs */
    jlines_load(lp, &j);
    json_t *u5 = json_object_get(jfind(&j, "d5"), "units");
    assert_int_equal(json_array_size(u5), 3);
    assert_int_equal(jint(json_array_get(u5, 1), "start"), 14);
    assert_int_equal(jint(json_array_get(u5, 1), "end"), 49);
    jlines_free(&j);
    free(lp);
    free(kp);
    free(rp);
    remove_tree(out);
    free(out);
    free(in);
}

/* The count spills sorted runs when its budget is small. */
static void test_lines_bounded(void **state)
{
    (void)state;
    enum { N = 400 };
    char **texts = calloc(N, sizeof(char *));
    for (size_t i = 0; i < N; i++) {
        struct wn_buf b = {0};
        wn__buf_printf(&b,
                       "Site header %zu\nStory %zu line one\nStory %zu "
                       "line two\nShared footer\n",
                       i % 5, i, i);
        wn__buf_putc(&b, '\0');
        texts[i] = b.data;
    }
    char *in = path_of("lb.jsonl"), *a = path_of("lb-a"), *b = path_of("lb-b");
    write_corpus(in, texts, N);
    struct wn_lines_options o;
    wn_lines_options_init(&o);
    o.mode = WN_SPANS_REMOVE;
    struct wn_lines_report ra, rb;
    remove_tree(a);
    remove_tree(b);
    assert_int_equal(wn_lines_run((const char *[]){in}, 1, a, &o, &ra), WN_OK);
    o.memory = 1; /* the smallest buffer */
    assert_int_equal(wn_lines_run((const char *[]){in}, 1, b, &o, &rb), WN_OK);
    assert_int_equal(ra.runs, 0);
    assert_true(rb.runs > 4);
    assert_int_equal(ra.frequent_units, 6);
    assert_int_equal(ra.distinct_units, rb.distinct_units);
    assert_int_equal(ra.distinct_units, 6 + 2 * N);
    static const char *const names[] = {"kept.jsonl", "lines.jsonl",
                                        "removed.jsonl"};
    for (size_t i = 0; i < 3; i++) {
        char x[512], y[512];
        snprintf(x, sizeof(x), "%s/%s", a, names[i]);
        snprintf(y, sizeof(y), "%s/%s", b, names[i]);
        same_file(x, y);
    }
    for (size_t i = 0; i < N; i++)
        wn__free(texts[i]);
    free(texts);
    remove_tree(a);
    remove_tree(b);
    free(a);
    free(b);
    free(in);
}

/* ------------------------------------------------------------------------ */
/* Repetition                                                                */
/* ------------------------------------------------------------------------ */

static void measure(const char *text, struct wn_repetition *m)
{
    assert_int_equal(
        wn_repetition_measure(text, strlen(text), WN_TOKENS_WORD, m), WN_OK);
}

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_repetition(void **state)
{
    (void)state;
    struct wn_repetition m;
    measure("a b\nA, b!\nc d\n", &m);
    assert_int_equal(m.lines, 3);
    assert_int_equal(m.chars, 14);
    NEAR(m.frac[WN_REP_DUP_LINE_FRAC], 1.0 / 3);
    NEAR(m.frac[WN_REP_DUP_LINE_CHAR_FRAC], 5.0 / 14);
    NEAR(m.frac[WN_REP_DUP_PARA_FRAC], 0.0);
    assert_int_equal(m.paragraphs, 1);

    measure("x y\n\nx y\n\nz", &m);
    assert_int_equal(m.paragraphs, 3);
    NEAR(m.frac[WN_REP_DUP_PARA_FRAC], 1.0 / 3);
    NEAR(m.frac[WN_REP_DUP_PARA_CHAR_FRAC], 3.0 / 11);

    /* a b a b a b c: "a b" three times covers 6 of 7 characters; the 3-gram
     * tie goes to "a b a", the first; no 5-gram repeats. */
    measure("a b a b a b c", &m);
    NEAR(m.frac[WN_REP_TOP_2GRAM_CHAR_FRAC], 6.0 / 7);
    NEAR(m.frac[WN_REP_TOP_3GRAM_CHAR_FRAC], 5.0 / 7);
    NEAR(m.frac[WN_REP_TOP_4GRAM_CHAR_FRAC], 6.0 / 7);
    NEAR(m.frac[WN_REP_DUP_5GRAM_CHAR_FRAC], 0.0);

    /* The second copy of a 5-word sentence: half of the characters. Words
     * of different lengths: characters, not words, are counted. */
    measure("pp q r s t pp q r s t", &m);
    NEAR(m.frac[WN_REP_DUP_5GRAM_CHAR_FRAC], 0.5);
    NEAR(m.frac[WN_REP_DUP_6GRAM_CHAR_FRAC], 0.0);
    NEAR(m.frac[WN_REP_TOP_2GRAM_CHAR_FRAC], 0.5); /* "pp q", twice */
    measure("pp q r s t u pp q r s t u", &m);
    NEAR(m.frac[WN_REP_DUP_6GRAM_CHAR_FRAC], 0.5);
    NEAR(m.frac[WN_REP_DUP_10GRAM_CHAR_FRAC], 0.0);

    /* Unique n-grams have no top n-gram; empty text is all zeros. */
    measure("one two three four", &m);
    for (int i = 0; i < WN_REP_COUNT; i++)
        NEAR(m.frac[i], 0.0);
    measure("", &m);
    assert_int_equal(m.tokens, 0);
    for (int i = 0; i < WN_REP_COUNT; i++)
        NEAR(m.frac[i], 0.0);

    assert_string_equal(wn_repetition_name(WN_REP_DUP_LINE_FRAC),
                        "dup_line_frac");
    assert_string_equal(wn_repetition_name(WN_REP_DUP_10GRAM_CHAR_FRAC),
                        "dup_10gram_char_frac");
    assert_null(wn_repetition_name(WN_REP_COUNT));
    NEAR(wn_repetition_gopher(WN_REP_TOP_3GRAM_CHAR_FRAC), 0.18);
    NEAR(wn_repetition_gopher(-1), -1);
    assert_int_equal(wn_repetition_measure(NULL, 3, 0, &m), WN_EINVAL);
}

static void test_repeats_run(void **state)
{
    (void)state;
    char *texts[] = {
        "A normal record with no repetition at all in it, just words.",
        "Buy now\nBuy now\nBuy now\nBuy now\nLast line",
        "one two three four five six one two three four five six",
    };
    char *in = path_of("rep.jsonl"), *out = path_of("rep-out");
    size_t inlen;
    write_corpus(in, texts, 3);
    char *input = read_path(in, &inlen);
    /* Append a rejected line. */
    FILE *f = fopen(in, "ab");
    fputs("{\"id\":\"bad\",\"body\":1}\n", f);
    fclose(f);
    struct wn_repeats_options o;
    wn_repeats_options_init(&o);
    o.max[WN_REP_DUP_LINE_FRAC] = wn_repetition_gopher(WN_REP_DUP_LINE_FRAC);
    struct wn_repeats_report rep;
    remove_tree(out);
    assert_int_equal(wn_repeats_run((const char *[]){in}, 1, out, &o, &rep),
                     WN_OK);
    assert_int_equal(rep.read, 4);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(rep.removed, 1);
    assert_int_equal(rep.kept, 2);
    assert_int_equal(rep.exceeded[WN_REP_DUP_LINE_FRAC], 1);
    char *rp = path_of("rep-out/removed.jsonl");
    struct jlines j;
    jlines_load(rp, &j);
    assert_int_equal(j.n, 1);
    json_t *ex = json_array_get(json_object_get(j.v[0], "exceeded"), 0);
    assert_string_equal(json_string_value(json_object_get(ex, "measure")),
                        "dup_line_frac");
    NEAR(json_real_value(json_object_get(ex, "value")), 0.6);
    jlines_free(&j);
    char *mp = path_of("rep-out/repetition.jsonl");
    jlines_load(mp, &j);
    assert_int_equal(j.n, 3);
    NEAR(json_number_value(
             json_object_get(jfind(&j, "d2"), "dup_6gram_char_frac")),
         0.5);
    jlines_free(&j);
    /* Kept records are the input bytes. */
    char *kp = path_of("rep-out/kept.jsonl");
    size_t klen;
    char *kept = read_path(kp, &klen);
    const char *l2 = strchr(input, '\n') + 1;
    const char *l3 = strchr(l2, '\n') + 1;
    assert_memory_equal(kept, input, (size_t)(l2 - input));
    assert_memory_equal(kept + (l2 - input), l3, strlen(l3));
    free(kept);
    free(input);
    free(kp);
    free(mp);
    free(rp);
    remove_tree(out);
    free(out);
    free(in);
}

/* ------------------------------------------------------------------------ */
/* Cancellation and allocation failures                                      */
/* ------------------------------------------------------------------------ */

static void test_cancel(void **state)
{
    (void)state;
    char *in = path_of("cancel.jsonl"), *out = path_of("cancel-out");
    generated_corpus(in, 3000);
    volatile int stop = 1;
    struct wn_passages_options o = popts(20, WN_SPANS_REMOVE);
    o.cancel = &stop;
    remove_tree(out);
    assert_int_equal(wn_passages_run((const char *[]){in}, 1, out, &o, NULL),
                     WN_EINTR);
    assert_false(exists(out, "stats.json"));
    assert_false(exists(out, "kept.jsonl"));
    assert_int_equal(stray_entries(out), 0);
    struct wn_lines_options lo;
    wn_lines_options_init(&lo);
    lo.cancel = &stop;
    assert_int_equal(wn_lines_run((const char *[]){in}, 1, out, &lo, NULL),
                     WN_EINTR);
    assert_false(exists(out, "stats.json"));
    struct wn_repeats_options ro;
    wn_repeats_options_init(&ro);
    ro.cancel = &stop;
    assert_int_equal(wn_repeats_run((const char *[]){in}, 1, out, &ro, NULL),
                     WN_EINTR);
    assert_false(exists(out, "stats.json"));
    assert_int_equal(stray_entries(out), 0);
    /* Bad options and inputs fail before anything is written. */
    o = popts(0, WN_SPANS_ANNOTATE);
    assert_int_equal(wn_passages_run((const char *[]){in}, 1, out, &o, NULL),
                     WN_EINVAL);
    o = popts(5, WN_SPANS_ANNOTATE);
    o.drop_short = 1;
    assert_int_equal(wn_passages_run((const char *[]){in}, 1, out, &o, NULL),
                     WN_EINVAL);
    struct wn_passages_report rep;
    o = popts(5, WN_SPANS_ANNOTATE);
    char *missing = path_of("no-such-file.jsonl");
    assert_int_equal(
        wn_passages_run((const char *[]){missing}, 1, out, &o, &rep), WN_EOPEN);
    assert_string_equal(rep.error_path, missing);
    free(missing);
    remove_tree(out);
    free(out);
    free(in);
}

/* As in test_dedup: true when the injected failure is still pending. */
static bool injection_pending(long n)
{
    for (long i = 0; i <= n; i++) {
        void *p = wn__malloc(1);
        if (!p)
            return true;
        wn__free(p);
    }
    wn_alloc_fail_after(-1);
    return false;
}

static long sweep_step(void)
{
    const char *e = getenv("WN_SWEEP_STEP");
    long k = e ? atol(e) : 1;
    return k > 0 ? k : 1;
}

enum { SWEEP_PASSAGES, SWEEP_PASSAGES_PARTS, SWEEP_LINES, SWEEP_REPEATS };

static int sweep_run(int which, const char *in, const char *out)
{
    const char *inputs[] = {in};
    switch (which) {
    case SWEEP_PASSAGES:
    case SWEEP_PASSAGES_PARTS: {
        struct wn_passages_options o = popts(3, WN_SPANS_REMOVE);
        if (which == SWEEP_PASSAGES_PARTS)
            o.memory = 600;
        return wn_passages_run(inputs, 1, out, &o, NULL);
    }
    case SWEEP_LINES: {
        struct wn_lines_options o;
        wn_lines_options_init(&o);
        o.mode = WN_SPANS_REMOVE;
        o.min_docs = 2;
        o.memory = 1;
        return wn_lines_run(inputs, 1, out, &o, NULL);
    }
    default: {
        struct wn_repeats_options o;
        wn_repeats_options_init(&o);
        o.max[WN_REP_DUP_LINE_FRAC] = 0.1;
        return wn_repeats_run(inputs, 1, out, &o, NULL);
    }
    }
}

static void sweep(int which, const char *label)
{
    char *texts[] = {
        "Link copied\nalpha beta gamma delta epsilon\nLink copied",
        "x alpha beta gamma delta y\nLink copied",
        "Nothing here.\n\nNothing here.",
        "alpha beta gamma delta epsilon",
    };
    char *in = path_of("sweep.jsonl"), *out = path_of("sweep-out");
    write_corpus(in, texts, WN_ARRAY_LEN(texts));
    FILE *f = fopen(in, "ab");
    fputs("not json\n", f);
    fclose(f);
    remove_tree(out);
    assert_int_equal(sweep_run(which, in, out), WN_OK);
    remove_tree(out);
    long step = sweep_step(), n;
    for (n = 0;; n += step) {
        if (n > 100000)
            fail_msg("%s: no successful run after %ld failures", label, n);
        wn_alloc_fail_after(n);
        int rc = sweep_run(which, in, out);
        if (rc == WN_OK) {
            if (!injection_pending(n))
                fail_msg("%s: allocation %ld failed but the run succeeded",
                         label, n);
            break;
        }
        wn_alloc_fail_after(-1);
        if (rc != WN_ENOMEM)
            fail_msg("%s: allocation %ld failed: got %s", label, n,
                     wn_strerror(rc));
        if (exists(out, "stats.json") || exists(out, "kept.jsonl"))
            fail_msg("%s: allocation %ld: outputs published", label, n);
        if (stray_entries(out) != 0)
            fail_msg("%s: allocation %ld: temporary files left", label, n);
    }
    print_message("# %s: %ld allocations, each failed in turn (step %ld)\n",
                  label, n, step);
    remove_tree(out);
    free(out);
    free(in);
}

static void test_sweep_passages(void **state)
{
    (void)state;
    sweep(SWEEP_PASSAGES, "passages");
    sweep(SWEEP_PASSAGES_PARTS, "passages in parts");
}

static void test_sweep_lines(void **state)
{
    (void)state;
    sweep(SWEEP_LINES, "lines");
    sweep(SWEEP_REPEATS, "repeats");
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/winnow-passages.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    remove_tree(tmpdir);
    return 0;
}

/* The three commands count repaired UTF-8 in their reports, as dedup does:
 * two ill-formed sequences in one record. */
static void test_reports_invalid_utf8(void **state)
{
    (void)state;
    const char *data =
        "{\"id\":\"u\",\"text\":\"caf\xc3 and na\xffve words here\"}\n"
        "{\"id\":\"v\",\"text\":\"clean text of another record\"}\n";
    char *in = path_of("bad-utf8.jsonl");
    write_path(in, data, strlen(data));
    const char *inputs[] = {in};
    char *out = path_of("bad-utf8-out");

    struct wn_passages_options po;
    wn_passages_options_init(&po);
    struct wn_passages_report pr;
    remove_tree(out);
    assert_int_equal(wn_passages_run(inputs, 1, out, &po, &pr), WN_OK);
    assert_int_equal(pr.invalid_utf8, 2);

    struct wn_lines_options lo;
    wn_lines_options_init(&lo);
    struct wn_lines_report lr;
    remove_tree(out);
    assert_int_equal(wn_lines_run(inputs, 1, out, &lo, &lr), WN_OK);
    assert_int_equal(lr.invalid_utf8, 2);

    struct wn_repeats_options ro;
    wn_repeats_options_init(&ro);
    struct wn_repeats_report rr;
    remove_tree(out);
    assert_int_equal(wn_repeats_run(inputs, 1, out, &ro, &rr), WN_OK);
    assert_int_equal(rr.invalid_utf8, 2);
    free(out);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_reports_invalid_utf8),
        cmocka_unit_test(test_sorts),
        cmocka_unit_test(test_windows_naive),
        cmocka_unit_test(test_windows_bad_input),
        cmocka_unit_test(test_known_spans),
        cmocka_unit_test(test_seed_002),
        cmocka_unit_test(test_random_corpora),
        cmocka_unit_test(test_memory_bound),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_lines_bounded),
        cmocka_unit_test(test_repetition),
        cmocka_unit_test(test_repeats_run),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_sweep_passages),
        cmocka_unit_test(test_sweep_lines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
