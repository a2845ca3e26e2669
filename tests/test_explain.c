/*
 * test_explain.c - the alignment of two texts (against a quadratic search
 * on seeded random token lists), byte offsets and lines in the original
 * texts, the verdict against what wn_dedup_run decides for the same pair,
 * argument checks, the allocation-failure sweep, and the frequent-line
 * summary of the report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "explain/explain.h"
#include "report/report.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 42;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

/* A text of n words drawn from a vocabulary of v words "w0".."w<v-1>". */
static void random_words(char *buf, size_t cap, const uint32_t *w, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%sw%u", i ? " " : "", w[i]);
}

struct pair_case {
    struct wn_tokens ta, tb;
};

static void tokenize_pair(struct pair_case *c, const char *a, const char *b)
{
    wn_tokens_init(&c->ta);
    wn_tokens_init(&c->tb);
    assert_int_equal(wn_tokenize(a, strlen(a), WN_TOKENS_WORD, &c->ta), WN_OK);
    assert_int_equal(wn_tokenize(b, strlen(b), WN_TOKENS_WORD, &c->tb), WN_OK);
}

static void release_pair(struct pair_case *c)
{
    wn_tokens_release(&c->ta);
    wn_tokens_release(&c->tb);
}

static bool teq(const struct wn_tokens *ta, size_t i,
                const struct wn_tokens *tb, size_t j)
{
    const struct wn_token *x = &ta->tok[i], *y = &tb->tok[j];
    return x->norm_len == y->norm_len &&
           !memcmp(ta->norm + x->norm_off, tb->norm + y->norm_off, x->norm_len);
}

/* The longest common run of tokens free on both sides, by dynamic
 * programming: the naive reference. */
static size_t longest_free_common(const struct wn_tokens *ta,
                                  const struct wn_tokens *tb, const uint8_t *ca,
                                  const uint8_t *cb)
{
    size_t best = 0;
    size_t *prev = calloc(tb->n + 1, sizeof(size_t));
    size_t *cur = calloc(tb->n + 1, sizeof(size_t));
    assert_non_null(prev);
    assert_non_null(cur);
    for (size_t i = 1; i <= ta->n; i++) {
        for (size_t j = 1; j <= tb->n; j++) {
            bool m = !ca[i - 1] && !cb[j - 1] && teq(ta, i - 1, tb, j - 1);
            cur[j] = m ? prev[j - 1] + 1 : 0;
            if (cur[j] > best)
                best = cur[j];
        }
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    free(prev);
    free(cur);
    return best;
}

/* Runs are equal token stretches, disjoint on each side, in A order, at
 * least min_run long, and no free common run of window + kgram - 1 tokens
 * is left. */
static void check_alignment(const struct wn_tokens *ta,
                            const struct wn_tokens *tb,
                            const struct wn__align_run *r, size_t n,
                            unsigned kgram, unsigned window, unsigned min_run)
{
    uint8_t *ca = calloc(ta->n + 1, 1), *cb = calloc(tb->n + 1, 1);
    assert_non_null(ca);
    assert_non_null(cb);
    for (size_t i = 0; i < n; i++) {
        assert_true(r[i].len >= min_run);
        assert_true(r[i].a + r[i].len <= ta->n);
        assert_true(r[i].b + r[i].len <= tb->n);
        if (i)
            assert_true(r[i - 1].a < r[i].a);
        for (size_t k = 0; k < r[i].len; k++) {
            assert_true(teq(ta, r[i].a + k, tb, r[i].b + k));
            assert_int_equal(ca[r[i].a + k], 0);
            assert_int_equal(cb[r[i].b + k], 0);
            ca[r[i].a + k] = 1;
            cb[r[i].b + k] = 1;
        }
    }
    assert_true(longest_free_common(ta, tb, ca, cb) < window + kgram - 1);
    free(ca);
    free(cb);
}

/* ------------------------------------------------------------------------ */
/* Alignment                                                                 */
/* ------------------------------------------------------------------------ */

static void test_align_identical_and_disjoint(void **state)
{
    (void)state;
    struct pair_case c;
    tokenize_pair(&c, "one two three four five six seven eight nine ten",
                  "One, two; THREE four five six seven eight nine ten.");
    struct wn__align_run *r = NULL;
    size_t n = 0;
    assert_int_equal(wn__explain_align(&c.ta, &c.tb, 5, 4, 5, 1, &r, &n),
                     WN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].a, 0);
    assert_int_equal(r[0].b, 0);
    assert_int_equal(r[0].len, 10);
    wn__free(r);
    release_pair(&c);

    tokenize_pair(&c, "alpha beta gamma delta epsilon zeta eta theta",
                  "one two three four five six seven eight nine ten");
    r = NULL;
    n = 7;
    assert_int_equal(wn__explain_align(&c.ta, &c.tb, 5, 4, 5, 1, &r, &n),
                     WN_OK);
    assert_int_equal(n, 0);
    assert_null(r);
    release_pair(&c);

    /* Texts shorter than one k-gram share nothing reportable. */
    tokenize_pair(&c, "short text", "short text");
    assert_int_equal(wn__explain_align(&c.ta, &c.tb, 5, 4, 5, 1, &r, &n),
                     WN_OK);
    assert_int_equal(n, 0);
    release_pair(&c);
}

/* A passage A holds twice and B once is matched once, to the copy with the
 * longer context; the other copy is left over. */
static void test_align_passage_twice(void **state)
{
    (void)state;
    const char *cap = "the minister speaks to reporters in the harbour town";
    char a[512], b[512];
    snprintf(a, sizeof(a),
             "%s and more words about the fishing talks that follow here "
             "now %s",
             cap, cap);
    snprintf(b, sizeof(b),
             "masthead of the paper %s and more words about the fishing "
             "talks that follow here now",
             cap);
    struct pair_case c;
    tokenize_pair(&c, a, b);
    struct wn__align_run *r = NULL;
    size_t n = 0;
    assert_int_equal(wn__explain_align(&c.ta, &c.tb, 5, 4, 5, 1, &r, &n),
                     WN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].a, 0);
    assert_int_equal(r[0].b, 4); /* after "masthead of the paper" */
    assert_int_equal(r[0].len, 9 + 11);
    check_alignment(&c.ta, &c.tb, r, n, 5, 4, 5);
    wn__free(r);
    release_pair(&c);
}

/* Seeded random pairs: B is made of pieces of A (some repeated, some
 * changed) and new words; the result is checked against the quadratic
 * search. */
static void test_align_random_against_naive(void **state)
{
    (void)state;
    enum { N = 300 };
    static uint32_t wa[N], wb[2 * N];
    static char a[8 * N], b[16 * N];
    for (int round = 0; round < 200; round++) {
        uint32_t vocab = 20 + rnd(2000);
        size_t na = 20 + rnd(N - 20);
        for (size_t i = 0; i < na; i++)
            wa[i] = rnd(vocab);
        size_t nb = 0;
        while (nb < N) {
            if (rnd(3) == 0) {
                size_t s = rnd((uint32_t)na), len = 1 + rnd(40);
                for (size_t k = 0; k < len && s + k < na && nb < 2 * N; k++)
                    wb[nb++] = wa[s + k];
            } else {
                size_t len = 1 + rnd(10);
                for (size_t k = 0; k < len && nb < 2 * N; k++)
                    wb[nb++] = vocab + rnd(50);
            }
        }
        random_words(a, sizeof(a), wa, na);
        random_words(b, sizeof(b), wb, nb);
        unsigned kgram = 1 + rnd(6), window = 1 + rnd(6);
        unsigned min_run = 1 + rnd(kgram + window - 1);
        struct pair_case c;
        tokenize_pair(&c, a, b);
        struct wn__align_run *r = NULL;
        size_t n = 0;
        assert_int_equal(wn__explain_align(&c.ta, &c.tb, kgram, window, min_run,
                                           rnd(1000), &r, &n),
                         WN_OK);
        check_alignment(&c.ta, &c.tb, r, n, kgram, window, min_run);
        wn__free(r);
        release_pair(&c);
    }
}

/* ------------------------------------------------------------------------ */
/* wn_explain: offsets, lines, what only one side has                        */
/* ------------------------------------------------------------------------ */

static const char STORY[] =
    "Quarry Lane bridge to close for six weeks of repairs\n"
    "\n"
    "The bridge over the Tallow River will close to all traffic from "
    "Monday while engineers replace its worn bearings, the county said.\n"
    "Buses will divert through Millbrook, adding about ten minutes to each "
    "journey, and a footbridge will stay open.\n";

static void test_explain_offsets_and_lines(void **state)
{
    (void)state;
    char b[1024];
    const char *head = "THE GAZETTE — Local news\nLink copied\n";
    snprintf(b, sizeof(b), "%s%s", head, STORY);
    struct wn_explanation *x = NULL;
    assert_int_equal(wn_explain(STORY, strlen(STORY), b, strlen(b), NULL, &x),
                     WN_OK);
    const struct wn_explain_run *runs;
    size_t n = wn_explanation_runs(x, &runs);
    assert_int_equal(n, 1);
    size_t shift = strlen(head);
    assert_int_equal(runs[0].a.start, 0);
    assert_int_equal(runs[0].a.end, strlen(STORY) - 2); /* before ".\n" */
    assert_int_equal(runs[0].b.start, shift);
    assert_int_equal(runs[0].b.end, shift + strlen(STORY) - 2);
    assert_int_equal(runs[0].a.line, 1);
    assert_int_equal(runs[0].a.line_end, 4);
    assert_int_equal(runs[0].b.line, 3);
    assert_int_equal(runs[0].b.line_end, 6);
    assert_int_equal(runs[0].a.tokens, runs[0].b.tokens);
    const struct wn_explain_span *only;
    assert_int_equal(wn_explanation_only(x, 0, &only), 0);
    assert_int_equal(wn_explanation_only(x, 1, &only), 1);
    /* The header, from its first token to its last, on lines 1-2. */
    assert_int_equal(only[0].start, 0);
    assert_int_equal(only[0].end, strlen(head) - 1);
    assert_memory_equal(b + only[0].start, "THE GAZETTE", 11);
    assert_int_equal(only[0].line, 1);
    assert_int_equal(only[0].line_end, 2);
    assert_int_equal(only[0].tokens, 6);
    const struct wn_explain_scores *s = wn_explanation_scores(x);
    assert_int_equal(s->exact, 0);
    assert_true(s->containment_a == 1.0);
    assert_true(s->containment_b < 1.0);
    wn_explanation_free(x);
}

/* Multi-byte characters: offsets are bytes, on character boundaries. */
static void test_explain_multibyte(void **state)
{
    (void)state;
    const char *a = "서울시는 한강 공원을 따라 이어지는 새 자전거 도로를 "
                    "다음 주 월요일부터 개통한다고 밝혔다";
    char b[512];
    snprintf(b, sizeof(b), "한빛일보 | 사회\n%s\n링크가 복사되었습니다", a);
    struct wn_explanation *x = NULL;
    assert_int_equal(wn_explain(a, strlen(a), b, strlen(b), NULL, &x), WN_OK);
    const struct wn_explain_run *runs;
    assert_int_equal(wn_explanation_runs(x, &runs), 1);
    size_t off = strlen("한빛일보 | 사회\n");
    assert_int_equal(runs[0].b.start, off);
    assert_int_equal(runs[0].b.end, off + strlen(a));
    assert_int_equal(runs[0].a.end, strlen(a));
    assert_int_equal(runs[0].b.line, 2);
    const struct wn_explain_span *only;
    assert_int_equal(wn_explanation_only(x, 1, &only), 2);
    assert_memory_equal(b + only[1].start, "링크가", strlen("링크가"));
    assert_int_equal(only[1].end, strlen(b));
    wn_explanation_free(x);
}

/* ------------------------------------------------------------------------ */
/* The verdict against wn_dedup_run                                          */
/* ------------------------------------------------------------------------ */

static void json_text(FILE *f, const char *id, const char *s)
{
    fprintf(f, "{\"id\":\"%s\",\"text\":\"", id);
    for (; *s; s++) {
        if (*s == '\n')
            fputs("\\n", f);
        else if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else
            fputc(*s, f);
    }
    fputs("\"}\n", f);
}

/* dedup on the two texts: 1 when B was removed, with its similarity. */
static int dedup_pair(const char *a, const char *b, double containment,
                      double *sim)
{
    char dir[] = "/tmp/wn-test-explain-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char in[256], out[256], rm[300];
    snprintf(in, sizeof(in), "%s/in.jsonl", dir);
    snprintf(out, sizeof(out), "%s/out", dir);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    json_text(f, "a", a);
    json_text(f, "b", b);
    fclose(f);
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    /* wn_explain's verdict is the classic rule's (its options have no
     * profile): compared with dedup under --profile classic. */
    o.profile = WN_PROFILE_CLASSIC;
    o.threshold = 0.8;
    o.threads = 1;
    o.no_fsync = 1;
    o.containment = containment;
    const char *inputs[] = {in};
    assert_int_equal(wn_dedup_run(inputs, 1, out, &o, NULL), WN_OK);
    snprintf(rm, sizeof(rm), "%s/removed.jsonl", out);
    f = fopen(rm, "r");
    assert_non_null(f);
    char line[512] = "";
    int removed = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    *sim = -1;
    const char *p = strstr(line, "\"similarity\":");
    if (p)
        *sim = strtod(p + 13, NULL);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return removed;
}

static void test_verdict_matches_dedup(void **state)
{
    (void)state;
    char hdr[2048], cut[2048], other[2048], tail[2048];
    snprintf(hdr, sizeof(hdr), "THE GAZETTE\nBy A. Writer\n%s", STORY);
    snprintf(cut, sizeof(cut), "%.*s", (int)(strlen(STORY) * 6 / 10), STORY);
    snprintf(other, sizeof(other),
             "Orchard growers expect a record apple harvest after a mild "
             "spring and steady rain through July, the association said. "
             "%s",
             "Picking began early this week on the southern slopes.");
    snprintf(tail, sizeof(tail), "%s%s", STORY,
             "Share this story. Comment (0). Related articles: a ferry "
             "fare rise and a museum that reopens.");
    const char *bs[] = {STORY, hdr, cut, other, tail};
    const double conts[] = {0, 0.9};
    for (size_t ci = 0; ci < 2; ci++) {
        for (size_t i = 0; i < WN_ARRAY_LEN(bs); i++) {
            struct wn_explain_options eo;
            wn_explain_options_init(&eo);
            eo.containment = conts[ci];
            struct wn_explanation *x = NULL;
            assert_int_equal(
                wn_explain(STORY, strlen(STORY), bs[i], strlen(bs[i]), &eo, &x),
                WN_OK);
            const struct wn_explain_scores *s = wn_explanation_scores(x);
            double sim;
            int removed = dedup_pair(STORY, bs[i], conts[ci], &sim);
            bool dup = s->verdict == WN_VERDICT_EXACT ||
                       s->verdict == WN_VERDICT_NEAR ||
                       s->verdict == WN_VERDICT_CONTAINED;
            if (dup != (removed == 1))
                fail_msg("pair %zu, containment %.1f: explain says %s, "
                         "dedup %s",
                         i, conts[ci], s->reason,
                         removed ? "removed B" : "kept both");
            if (removed && s->verdict == WN_VERDICT_NEAR)
                assert_true(fabs(sim - s->jaccard_estimate) < 1e-4);
            wn_explanation_free(x);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Arguments and allocation failures                                         */
/* ------------------------------------------------------------------------ */

static void test_explain_args(void **state)
{
    (void)state;
    struct wn_explanation *x = (struct wn_explanation *)&x;
    struct wn_explain_options o;
    wn_explain_options_init(&o);
    assert_int_equal(wn_explain(NULL, 3, "a", 1, NULL, &x), WN_EINVAL);
    assert_int_equal(wn_explain("a", 1, "b", 1, NULL, NULL), WN_EINVAL);
    o.window = 0;
    assert_int_equal(wn_explain("a", 1, "b", 1, &o, &x), WN_EINVAL);
    wn_explain_options_init(&o);
    o.threshold = 1.0;
    assert_int_equal(wn_explain("a", 1, "b", 1, &o, &x), WN_EINVAL);
    assert_ptr_equal(x, (struct wn_explanation *)&x); /* untouched */
    /* Empty texts: two are exact copies, one against text is kept apart. */
    assert_int_equal(wn_explain(NULL, 0, "", 0, NULL, &x), WN_OK);
    assert_int_equal(wn_explanation_scores(x)->verdict, WN_VERDICT_EXACT);
    wn_explanation_free(x);
    assert_int_equal(wn_explain("", 0, "some words here", 15, NULL, &x), WN_OK);
    assert_int_equal(wn_explanation_scores(x)->verdict, WN_VERDICT_EMPTY);
    const struct wn_explain_span *only;
    assert_int_equal(wn_explanation_only(x, 1, &only), 1);
    wn_explanation_free(x);
    wn_explanation_free(NULL);
}

static void test_explain_alloc_sweep(void **state)
{
    (void)state;
    char b[1024];
    snprintf(b, sizeof(b), "Masthead\n%s and a tail", STORY);
    int failures = 0;
    for (long n = 0;; n++) {
        struct wn_explanation *x = (struct wn_explanation *)&failures;
        wn_alloc_fail_after(n);
        int rc = wn_explain(STORY, strlen(STORY), b, strlen(b), NULL, &x);
        wn_alloc_fail_after(-1);
        if (rc == WN_OK) {
            assert_true(x != (struct wn_explanation *)&failures);
            wn_explanation_free(x);
            break;
        }
        assert_int_equal(rc, WN_ENOMEM);
        assert_ptr_equal(x, (struct wn_explanation *)&failures);
        failures++;
    }
    assert_true(failures > 5);
}

/* ------------------------------------------------------------------------ */
/* The report's frequent lines                                               */
/* ------------------------------------------------------------------------ */

static void test_topline_exact_when_small(void **state)
{
    (void)state;
    struct wn__topline t;
    assert_int_equal(wn__topline_init(&t, 64), WN_OK);
    for (int i = 0; i < 10; i++) {
        char rec[256];
        /* "Link copied" in all 10 (case and spacing vary, twice in some),
         * "Comment (0)" in the even ones. */
        snprintf(rec, sizeof(rec), "%s\nstory number %d\n%s%s",
                 i % 3 ? "Link copied" : "  LINK   copied!", i,
                 i % 2 ? "" : "Comment (0)\n", i % 4 ? "" : "link copied\n");
        assert_int_equal(wn__topline_add(&t, rec, strlen(rec)), WN_OK);
    }
    struct wn__topline_entry top[3];
    size_t n = wn__topline_top(&t, top, 3);
    assert_int_equal(n, 3);
    assert_int_equal(top[0].count, 10);
    assert_int_equal(top[1].count, 5);
    assert_int_equal(top[2].count, 1);
    assert_memory_equal(top[1].text, "Comment (0)", 11);
    assert_int_equal(t.rounds, 0);
    wn__topline_release(&t);
}

/* Past its capacity the summary still finds the lines held by many
 * records, with counts short by at most `rounds`. */
static void test_topline_bounded(void **state)
{
    (void)state;
    struct wn__topline t;
    assert_int_equal(wn__topline_init(&t, 16), WN_OK);
    enum { RECORDS = 3000 };
    for (int i = 0; i < RECORDS; i++) {
        char rec[256];
        snprintf(rec, sizeof(rec), "unique line %d\nanother unique %d\n%s%s", i,
                 i * 7, "Subscribe to our newsletter\n",
                 i % 2 ? "Share on social media\n" : "");
        assert_int_equal(wn__topline_add(&t, rec, strlen(rec)), WN_OK);
    }
    assert_true(t.rounds > 0);
    struct wn__topline_entry top[2];
    assert_int_equal(wn__topline_top(&t, top, 2), 2);
    assert_memory_equal(top[0].text, "Subscribe", 9);
    assert_memory_equal(top[1].text, "Share", 5);
    assert_true(top[0].count <= RECORDS && top[0].count + t.rounds >= RECORDS);
    assert_true(top[1].count <= RECORDS / 2 &&
                top[1].count + t.rounds >= RECORDS / 2);
    wn__topline_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_align_identical_and_disjoint),
        cmocka_unit_test(test_align_passage_twice),
        cmocka_unit_test(test_align_random_against_naive),
        cmocka_unit_test(test_explain_offsets_and_lines),
        cmocka_unit_test(test_explain_multibyte),
        cmocka_unit_test(test_verdict_matches_dedup),
        cmocka_unit_test(test_explain_args),
        cmocka_unit_test(test_explain_alloc_sweep),
        cmocka_unit_test(test_topline_exact_when_small),
        cmocka_unit_test(test_topline_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
