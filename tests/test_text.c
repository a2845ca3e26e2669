/*
 * test_text.c - tests of lib/text: normalization and tokenization.
 *
 * Fixed examples (English punctuation, CJK mixed with Latin, Hangul, Thai,
 * full-width forms and ligatures, combining marks, mojibake, invalid UTF-8)
 * and seeded random tests against a reference that is as naive as possible:
 * replace ill-formed UTF-8 by U+FFFD, run utf8proc_map over the whole text,
 * then split by general category. The fast paths are compared with the
 * utf8proc-only path of the same tokenizer, the code point class table with
 * utf8proc for every code point, and the allocation failure paths are swept
 * one allocation at a time.
 */
#include "common/common.h"
#include "text/text.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

static const char *tok_text(const struct wn_tokens *t, size_t i)
{
    return t->norm + t->tok[i].norm_off;
}

/* xorshift64*: a small seeded generator, so failures replay. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

/* A malloc'd growable string for building inputs (not library memory). */
struct str {
    char *p;
    size_t len, cap;
};

static void str_add(struct str *s, const void *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->p = realloc(s->p, s->cap);
        assert_non_null(s->p);
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void str_adds(struct str *s, const char *z)
{
    str_add(s, z, strlen(z));
}

static void str_add_cp(struct str *s, int32_t cp)
{
    utf8proc_uint8_t b[4];
    utf8proc_ssize_t n = utf8proc_encode_char(cp, b);
    str_add(s, b, (size_t)n);
}

/* Tokenize and compare the normalized tokens with a NULL-ended list. */
static void check_tokens_mode(const char *text, int mode, ...)
{
    struct wn_tokens t;
    wn_tokens_init(&t);
    assert_int_equal(wn_tokenize(text, strlen(text), mode, &t), WN_OK);
    va_list ap;
    va_start(ap, mode);
    size_t i = 0;
    for (const char *want; (want = va_arg(ap, const char *)); i++) {
        if (i >= t.n)
            fail_msg("\"%s\": missing token %zu \"%s\"", text, i, want);
        assert_string_equal(tok_text(&t, i), want);
        assert_int_equal(t.tok[i].norm_len, strlen(want));
    }
    va_end(ap);
    if (t.n != i)
        fail_msg("\"%s\": %zu tokens, expected %zu", text, t.n, i);
    wn_tokens_release(&t);
}

#define check_tokens(text, ...)                                                \
    check_tokens_mode(text, WN_TOKENS_WORD, __VA_ARGS__, (const char *)NULL)
#define check_chars(text, ...)                                                 \
    check_tokens_mode(text, WN_TOKENS_CHAR, __VA_ARGS__, (const char *)NULL)

/* The source span of token i, as a string. */
static void check_span(const char *text, int mode, size_t i, size_t off,
                       size_t len)
{
    struct wn_tokens t;
    wn_tokens_init(&t);
    assert_int_equal(wn_tokenize(text, strlen(text), mode, &t), WN_OK);
    assert_true(i < t.n);
    assert_int_equal(t.tok[i].src_off, off);
    assert_int_equal(t.tok[i].src_len, len);
    wn_tokens_release(&t);
}

/* ---------------------------------------------------------------------- */
/* The naive reference                                                    */
/* ---------------------------------------------------------------------- */

/*
 * Well-formed UTF-8 sequences, Unicode Table 3-7: the allowed range of each
 * byte. A maximal subpart is the longest prefix of a row that the input
 * matches.
 */
static const struct {
    unsigned char lo[4], hi[4];
    size_t n;
} wellformed[] = {
    {{0x00}, {0x7F}, 1},
    {{0xC2, 0x80}, {0xDF, 0xBF}, 2},
    {{0xE0, 0xA0, 0x80}, {0xE0, 0xBF, 0xBF}, 3},
    {{0xE1, 0x80, 0x80}, {0xEC, 0xBF, 0xBF}, 3},
    {{0xED, 0x80, 0x80}, {0xED, 0x9F, 0xBF}, 3},
    {{0xEE, 0x80, 0x80}, {0xEF, 0xBF, 0xBF}, 3},
    {{0xF0, 0x90, 0x80, 0x80}, {0xF0, 0xBF, 0xBF, 0xBF}, 4},
    {{0xF1, 0x80, 0x80, 0x80}, {0xF3, 0xBF, 0xBF, 0xBF}, 4},
    {{0xF4, 0x80, 0x80, 0x80}, {0xF4, 0x8F, 0xBF, 0xBF}, 4},
};

/* Copy s with every maximal ill-formed subpart and NUL replaced. */
static size_t ref_sanitize(const unsigned char *s, size_t len, struct str *out)
{
    size_t bad = 0;
    for (size_t i = 0; i < len;) {
        size_t m = 0, n = 0;
        for (size_t r = 0; r < WN_ARRAY_LEN(wellformed); r++) {
            if (s[i] < wellformed[r].lo[0] || s[i] > wellformed[r].hi[0])
                continue;
            n = wellformed[r].n;
            for (m = 1; m < n && i + m < len; m++)
                if (s[i + m] < wellformed[r].lo[m] ||
                    s[i + m] > wellformed[r].hi[m])
                    break;
            break;
        }
        if (n && m == n && s[i]) {
            str_add(out, s + i, n);
            i += n;
        } else {
            str_adds(out, "\xEF\xBF\xBD");
            bad++;
            i += m ? m : 1;
        }
    }
    return bad;
}

/* The reference tokens: a '\n'-separated list of normalized tokens. */
static void ref_tokenize(const char *text, size_t len, int mode,
                         struct str *out, size_t *bad)
{
    struct str clean = {0};
    str_add(&clean, "", 0);
    *bad = ref_sanitize((const unsigned char *)text, len, &clean);
    utf8proc_uint8_t *norm = NULL;
    utf8proc_ssize_t nlen =
        utf8proc_map((const utf8proc_uint8_t *)clean.p,
                     (utf8proc_ssize_t)clean.len, &norm, WN__NFKC_CF_OPTIONS);
    assert_true(nlen >= 0);
    /* 0: outside a token, 1: in a word, 2: in a one-character token. */
    int state = 0;
    for (utf8proc_ssize_t i = 0; i < nlen;) {
        int32_t cp;
        i += utf8proc_iterate(norm + i, nlen - i, &cp);
        utf8proc_category_t cat = utf8proc_category(cp);
        bool mark = cat == UTF8PROC_CATEGORY_MN ||
                    cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME;
        bool word =
            mark ||
            (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
            (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
        bool single = mode == WN_TOKENS_CHAR || wn__cp_is_nospace_script(cp);
        int next;
        if (!word)
            next = 0;
        else if (mark)
            next = state ? state : (mode == WN_TOKENS_CHAR ? 2 : 1);
        else if (single)
            next = 3; /* always a new token */
        else
            next = state == 1 ? 1 : 4; /* 4: a new word */
        if (state && next != state)
            str_adds(out, "\n");
        if (next == 3)
            next = 2;
        else if (next == 4)
            next = 1;
        if (next)
            str_add_cp(out, cp);
        state = next;
    }
    if (state)
        str_adds(out, "\n");
    free(norm);
    free(clean.p);
}

/* The tokens of t in the reference's format. */
static void tokens_joined(const struct wn_tokens *t, struct str *out)
{
    for (size_t i = 0; i < t->n; i++) {
        str_add(out, tok_text(t, i), t->tok[i].norm_len);
        str_adds(out, "\n");
    }
}

/* Spans checked by normalizing them alone (to show the check runs). */
static size_t spans_normalized;

static void check_against_reference(const char *text, size_t len, int mode)
{
    struct wn_tokens fast, slow;
    wn_tokens_init(&fast);
    wn_tokens_init(&slow);
    assert_int_equal(wn_tokenize(text, len, mode, &fast), WN_OK);
    assert_int_equal(
        wn__tokenize_ex(text, len, mode, WN__TOKENIZE_NO_FASTPATH, &slow),
        WN_OK);

    /* The fast paths change nothing, spans included. */
    assert_int_equal(fast.n, slow.n);
    assert_int_equal(fast.norm_len, slow.norm_len);
    assert_memory_equal(fast.norm, slow.norm, fast.norm_len);
    if (fast.n)
        assert_memory_equal(fast.tok, slow.tok, fast.n * sizeof(*fast.tok));
    assert_int_equal(fast.invalid_utf8, slow.invalid_utf8);
    /* The SWAR blocks give what the AVX-512 ones give (where they run). */
    struct wn_tokens swar;
    wn_tokens_init(&swar);
    assert_int_equal(
        wn__tokenize_ex(text, len, mode, WN__TOKENIZE_NO_SIMD, &swar), WN_OK);
    assert_int_equal(swar.n, fast.n);
    assert_int_equal(swar.norm_len, fast.norm_len);
    assert_memory_equal(swar.norm, fast.norm, fast.norm_len);
    if (fast.n)
        assert_memory_equal(swar.tok, fast.tok, fast.n * sizeof(*fast.tok));
    assert_int_equal(swar.invalid_utf8, fast.invalid_utf8);
    wn_tokens_release(&swar);

    struct str want = {0}, got = {0};
    size_t bad = 0;
    str_add(&want, "", 0);
    str_add(&got, "", 0);
    ref_tokenize(text, len, mode, &want, &bad);
    tokens_joined(&fast, &got);
    if (strcmp(want.p, got.p) != 0)
        fail_msg("reference:\n%s\ntokenizer:\n%s", want.p, got.p);
    assert_int_equal(fast.invalid_utf8, bad);

    /* Every token comes from its span: tokenizing the span alone gives it,
     * and spans are in order and inside the text. */
    struct wn_tokens part;
    wn_tokens_init(&part);
    for (size_t i = 0; i < fast.n; i++) {
        const struct wn_token *w = &fast.tok[i];
        assert_true((size_t)w->src_off + w->src_len <= len);
        assert_true(w->src_len > 0);
        assert_true(w->norm_len > 0);
        assert_int_equal(fast.norm[w->norm_off + w->norm_len], '\0');
        if (i)
            assert_true(w->src_off >= fast.tok[i - 1].src_off);
        assert_int_equal(
            wn_tokenize(text + w->src_off, w->src_len, mode, &part), WN_OK);
        bool found = false;
        for (size_t j = 0; j < part.n && !found; j++)
            found = part.tok[j].norm_len == w->norm_len &&
                    memcmp(tok_text(&part, j), tok_text(&fast, i),
                           w->norm_len) == 0;
        if (!found)
            fail_msg("token %zu \"%s\" not in its span [%u, +%u)", i,
                     tok_text(&fast, i), w->src_off, w->src_len);
        /* Stronger where the span is a single token of word characters
         * (the usual case): normalizing it alone gives the token. */
        struct str span = {0};
        str_add(&span, "", 0);
        if (ref_sanitize((const unsigned char *)text + w->src_off, w->src_len,
                         &span) == 0 &&
            part.n == 1 && mode == WN_TOKENS_WORD) {
            utf8proc_uint8_t *m = NULL;
            utf8proc_ssize_t ml = utf8proc_map((const utf8proc_uint8_t *)span.p,
                                               (utf8proc_ssize_t)span.len, &m,
                                               WN__NFKC_CF_OPTIONS);
            bool all_word = ml >= 0;
            for (utf8proc_ssize_t j = 0; all_word && j < ml;) {
                int32_t cp;
                j += utf8proc_iterate(m + j, ml - j, &cp);
                all_word = wn__cp_class(cp) & WN__CP_WORD;
            }
            if (all_word) {
                assert_int_equal(ml, w->norm_len);
                assert_memory_equal(m, tok_text(&fast, i), w->norm_len);
                spans_normalized++;
            }
            free(m);
        }
        free(span.p);
    }

    /* Idempotence: the tokens, one per line, tokenize to themselves. */
    assert_int_equal(wn_tokenize(got.p, got.len, mode, &part), WN_OK);
    struct str again = {0};
    str_add(&again, "", 0);
    tokens_joined(&part, &again);
    if (strcmp(again.p, got.p) != 0)
        fail_msg("not idempotent:\n%s\nthen:\n%s", got.p, again.p);

    free(again.p);
    free(want.p);
    free(got.p);
    wn_tokens_release(&part);
    wn_tokens_release(&fast);
    wn_tokens_release(&slow);
}

/* ---------------------------------------------------------------------- */
/* Random texts                                                           */
/* ---------------------------------------------------------------------- */

/*
 * Pieces that exercise one rule each: case, compatibility forms that change
 * lengths, combining marks in and out of canonical order, marks that
 * compose with ASCII punctuation, Hangul jamo in all forms, scripts without
 * spaces, default-ignorables, and separators of every kind.
 */
static const char *const pieces[] = {
    "a",
    "B",
    "z",
    "Q",
    "0",
    "7",
    " ",
    " ",
    "  ",
    "\n",
    "\t",
    ".",
    ",",
    "'",
    "-",
    "=",
    "<",
    ">",
    "_",
    "\"",
    "(",
    ")",
    "Monday",
    "THE",
    "U.S.",
    "Korea's",
    "x86",
    "\xC3\xA9",         /* é */
    "\xC3\x89",         /* É */
    "\xC3\x9F",         /* ß */
    "\xE1\xBA\x9E",     /* ẞ */
    "\xC3\x85",         /* Å */
    "\xE2\x84\xAB",     /* Å ANGSTROM SIGN */
    "\xE2\x84\xAA",     /* K KELVIN SIGN */
    "\xC4\xB0",         /* İ */
    "\xCE\xA3",         /* Σ */
    "\xCF\x82",         /* ς */
    "\xC2\xB5",         /* µ */
    "\xEF\xAC\x81",     /* ﬁ */
    "\xEF\xAC\x83",     /* ﬃ */
    "\xEF\xBC\xA1",     /* Ａ */
    "\xEF\xBD\x9A",     /* ｚ */
    "\xEF\xBC\x91",     /* １ */
    "\xE3\x80\x80",     /* ideographic space */
    "\xC2\xBD",         /* ½ */
    "\xE2\x91\xB4",     /* ⑴ */
    "\xE3\x8E\x92",     /* ㎒ */
    "\xEF\xB7\xBA",     /* U+FDFA, 18 code points in NFKC */
    "\xCC\x81",         /* U+0301 acute, ccc 230 */
    "\xCC\xA3",         /* U+0323 dot below, ccc 220 */
    "\xCC\x9B",         /* U+031B horn, ccc 216 */
    "\xCD\x85",         /* U+0345 ypogegrammeni, folds to iota */
    "\xCC\xB8",         /* U+0338 long solidus overlay */
    "\xCD\x8F",         /* U+034F CGJ, ignorable mark */
    "\xC2\xAD",         /* soft hyphen */
    "\xE2\x80\x8B",     /* zero-width space */
    "\xE2\x80\x8D",     /* zero-width joiner */
    "\xEF\xB8\x8F",     /* variation selector 16 */
    "\xEF\xBB\xBF",     /* BOM / ZWNBSP */
    "\xEA\xB0\x80",     /* 가 */
    "\xED\x95\x9C",     /* 한 */
    "\xEA\xB5\xAD",     /* 국 */
    "\xE1\x84\x80",     /* U+1100 choseong kiyeok (L) */
    "\xE1\x85\xA1",     /* U+1161 jungseong a (V) */
    "\xE1\x86\xA8",     /* U+11A8 jongseong kiyeok (T) */
    "\xE1\x86\xA7",     /* U+11A7 */
    "\xE3\x84\xB1",     /* ㄱ compatibility jamo */
    "\xE3\x85\x8F",     /* ㅏ compatibility jamo */
    "\xE4\xB8\xAD",     /* 中 */
    "\xE6\x96\x87",     /* 文 */
    "\xE3\x80\x85",     /* 々 */
    "\xE3\x81\x8B",     /* か */
    "\xE3\x82\x99",     /* U+3099 combining voiced mark */
    "\xE3\x82\x9B",     /* U+309B spacing voiced mark */
    "\xE3\x82\xAB",     /* カ */
    "\xE3\x83\xBC",     /* ー */
    "\xEF\xBD\xB6",     /* ｶ half-width */
    "\xEF\xBE\x9E",     /* ﾞ half-width voiced mark */
    "\xE0\xB8\x81",     /* ก */
    "\xE0\xB8\xB4",     /* U+0E34 Thai vowel mark */
    "\xE0\xB8\xB3",     /* U+0E33 SARA AM */
    "\xE0\xB9\x89",     /* U+0E49 tone mark */
    "\xE0\xBA\x81",     /* Lao ko */
    "\xE1\x9E\x80",     /* Khmer ka */
    "\xE0\xB5\x86",     /* U+0D46 Malayalam vowel sign e */
    "\xE0\xB4\xBE",     /* U+0D3E Malayalam vowel sign aa */
    "\xE0\xA4\x95",     /* Devanagari ka */
    "\xE0\xA4\xBC",     /* nukta */
    "\xD8\xB9",         /* Arabic ain */
    "\xEF\xBB\xB7",     /* Arabic ligature lam-alef form */
    "\xE2\x80\x99",     /* right quote */
    "\xE2\x80\x94",     /* em dash */
    "\xE2\x82\xAC",     /* € */
    "\xC3\x82\xC2\xA3", /* mojibake Â£ */
    "\xEF\xBF\xBD",     /* U+FFFD itself */
    "\xF0\x9F\x98\x80", /* emoji */
    "\xF0\xA0\x80\x80", /* U+20000 */
    "\xE1\x8F\xB8",     /* U+13F8 Cherokee small ye */
    "\xE1\x8E\xA0",     /* U+13A0 Cherokee A */
};

static const char *const bad_bytes[] = {
    "\x80",
    "\xBF",
    "\xC0\xAF",
    "\xC1",
    "\xC3",
    "\xE0\x80\x80",
    "\xE0\xA0",
    "\xED\xA0\x80",
    "\xED\xBF\xBF",
    "\xEF\xBF",
    "\xF0\x80",
    "\xF0\x9F\x98",
    "\xF4\x90\x80\x80",
    "\xF5",
    "\xFF",
    "\xFE",
};

/* A random text of about n pieces; invalid bytes only if bad. */
static void random_text(uint64_t *rng, size_t n, bool bad, struct str *out)
{
    for (size_t i = 0; i < n; i++) {
        size_t r = rng_below(rng, 100);
        if (r < 70) {
            str_adds(out, pieces[rng_below(rng, WN_ARRAY_LEN(pieces))]);
        } else if (r < 80) {
            /* Any assigned or unassigned scalar value in the BMP. */
            int32_t cp = (int32_t)rng_below(rng, 0x10000);
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 'x';
            str_add_cp(out, cp ? cp : ' ');
        } else if (r < 85) {
            int32_t cp = (int32_t)rng_below(rng, 0x110000);
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 'y';
            str_add_cp(out, cp ? cp : ' ');
        } else if (r < 90 && bad) {
            str_adds(out, bad_bytes[rng_below(rng, WN_ARRAY_LEN(bad_bytes))]);
        } else if (r < 91 && bad) {
            str_add(out, "", 1); /* NUL */
        } else {
            char c = (char)(' ' + rng_below(rng, 95));
            str_add(out, &c, 1);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                  */
/* ---------------------------------------------------------------------- */

static void test_english(void **state)
{
    (void)state;
    check_tokens("Monday.The", "monday", "the");
    check_tokens("Korea's", "korea", "s");
    check_tokens("U.S.", "u", "s");
    check_tokens("  Hello, World!  It's 2024 -- x86_64\n", "hello", "world",
                 "it", "s", "2024", "x86", "64");
    check_tokens("New\xE2\x80\x99s \xE2\x80\x9Cquoted\xE2\x80\x9D", "new", "s",
                 "quoted");
    check_tokens("co\xC2\xADoperate zero\xE2\x80\x8Bwidth", "cooperate",
                 "zerowidth");
    check_span("Monday.The", WN_TOKENS_WORD, 1, 7, 3);
    check_span("co\xC2\xADoperate", WN_TOKENS_WORD, 0, 0, 11);

    struct wn_tokens t;
    wn_tokens_init(&t);
    assert_int_equal(wn_tokenize("", 0, WN_TOKENS_WORD, &t), WN_OK);
    assert_int_equal(t.n, 0);
    assert_int_equal(wn_tokenize(NULL, 0, WN_TOKENS_WORD, &t), WN_OK);
    assert_int_equal(wn_tokenize(" .,;", 4, WN_TOKENS_WORD, &t), WN_OK);
    assert_int_equal(t.n, 0);
    wn_tokens_release(&t);
}

static void test_cjk_mixed(void **state)
{
    (void)state;
    /* 東京タワーはTokyo Towerです */
    const char *s = "\xE6\x9D\xB1\xE4\xBA\xAC\xE3\x82\xBF\xE3\x83\xAF\xE3"
                    "\x83\xBC\xE3\x81\xAFTokyo Tower\xE3\x81\xA7\xE3\x81\x99";
    check_tokens(s, "\xE6\x9D\xB1", "\xE4\xBA\xAC", "\xE3\x82\xBF",
                 "\xE3\x83\xAF", "\xE3\x83\xBC", "\xE3\x81\xAF", "tokyo",
                 "tower", "\xE3\x81\xA7", "\xE3\x81\x99");
    check_span(s, WN_TOKENS_WORD, 1, 3, 3);
    check_span(s, WN_TOKENS_WORD, 6, 18, 5);
    /* 中文abc中: Latin between Han characters is one word. */
    check_tokens("\xE4\xB8\xAD\xE6\x96\x87"
                 "abc\xE4\xB8\xAD",
                 "\xE4\xB8\xAD", "\xE6\x96\x87", "abc", "\xE4\xB8\xAD");
    /* Half-width ｶﾞ becomes one full-width ガ, spanning both. */
    check_tokens("\xEF\xBD\xB6\xEF\xBE\x9E", "\xE3\x82\xAC");
    check_span("\xEF\xBD\xB6\xEF\xBE\x9E", WN_TOKENS_WORD, 0, 0, 6);
    /* か + combining voiced mark composes to が. */
    check_tokens("\xE3\x81\x8B\xE3\x82\x99\xE3\x81\x8B", "\xE3\x81\x8C",
                 "\xE3\x81\x8B");
}

static void test_hangul(void **state)
{
    (void)state;
    /* 대한민국의 수도는 서울이다. */
    check_tokens("\xEB\x8C\x80\xED\x95\x9C\xEB\xAF\xBC\xEA\xB5\xAD\xEC\x9D\x98"
                 " \xEC\x88\x98\xEB\x8F\x84\xEB\x8A\x94 \xEC\x84\x9C\xEC\x9A"
                 "\xB8\xEC\x9D\xB4\xEB\x8B\xA4.",
                 "\xEB\x8C\x80\xED\x95\x9C\xEB\xAF\xBC\xEA\xB5\xAD\xEC\x9D\x98",
                 "\xEC\x88\x98\xEB\x8F\x84\xEB\x8A\x94",
                 "\xEC\x84\x9C\xEC\x9A\xB8\xEC\x9D\xB4\xEB\x8B\xA4");
    /* 한국어 2024년: digits and Hangul in one word. */
    check_tokens("\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 2024\xEB\x85\x84",
                 "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", "2024\xEB\x85\x84");
    /* Conjoining jamo L V T compose to the syllable 각. */
    check_tokens("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8 x", "\xEA\xB0\x81", "x");
    check_span("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8 x", WN_TOKENS_WORD, 0, 0,
               9);
    /* A syllable 가 followed by a trailing consonant jamo: 각. */
    check_tokens("\xEA\xB0\x80\xE1\x86\xA8", "\xEA\xB0\x81");
}

static void test_thai(void **state)
{
    (void)state;
    /* กิน: the vowel mark stays with its consonant. */
    check_tokens("\xE0\xB8\x81\xE0\xB8\xB4\xE0\xB8\x99",
                 "\xE0\xB8\x81\xE0\xB8"
                 "\xB4",
                 "\xE0\xB8\x99");
    check_span("\xE0\xB8\x81\xE0\xB8\xB4\xE0\xB8\x99", WN_TOKENS_WORD, 0, 0, 6);
    /* ภาษาไทย and Thai digits next to Latin. */
    check_tokens("\xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA9\xE0\xB8\xB2\xE0\xB9\x84"
                 "\xE0\xB8\x97\xE0\xB8\xA2 Thai",
                 "\xE0\xB8\xA0", "\xE0\xB8\xB2", "\xE0\xB8\xA9", "\xE0\xB8\xB2",
                 "\xE0\xB9\x84", "\xE0\xB8\x97", "\xE0\xB8\xA2", "thai");
}

static void test_fullwidth_ligatures(void **state)
{
    (void)state;
    /* Ｈｅｌｌｏ　ＷＯＲＬＤ１２ */
    const char *fw = "\xEF\xBC\xA8\xEF\xBD\x85\xEF\xBD\x8C\xEF\xBD\x8C\xEF\xBD"
                     "\x8F\xE3\x80\x80\xEF\xBC\xB7\xEF\xBC\xAF\xEF\xBC\xB2\xEF"
                     "\xBC\xAC\xEF\xBC\xA4\xEF\xBC\x91\xEF\xBC\x92";
    check_tokens(fw, "hello", "world12");
    check_span(fw, WN_TOKENS_WORD, 0, 0, 15);
    check_span(fw, WN_TOKENS_WORD, 1, 18, 21);
    /* ﬁnancial ﬂow, Straße, ẞ */
    check_tokens("\xEF\xAC\x81nancial \xEF\xAC\x82ow Stra\xC3\x9F"
                 "e \xE1\xBA\x9E",
                 "financial", "flow", "strasse", "ss");
    check_span("\xEF\xAC\x81nancial", WN_TOKENS_WORD, 0, 0, 10);
    check_span("Stra\xC3\x9F"
               "e!",
               WN_TOKENS_WORD, 0, 0, 7);
    /* ½ gives two tokens that share the span of one character. */
    check_tokens("\xC2\xBD", "1", "2");
    check_span("x \xC2\xBD", WN_TOKENS_WORD, 1, 2, 2);
    check_span("x \xC2\xBD", WN_TOKENS_WORD, 2, 2, 2);
    /* Kelvin and Angstrom signs, micro sign, final sigma. */
    check_tokens("\xE2\x84\xAA \xE2\x84\xAB \xC2\xB5 \xCE\xA3\xCF\x82", "k",
                 "\xC3\xA5", "\xCE\xBC", "\xCF\x83\xCF\x83");
}

static void test_combining(void **state)
{
    (void)state;
    /* cafe + U+0301, resume with decomposed accents: composed (NFC). */
    const char *s = "cafe\xCC\x81 re\xCC\x81sume\xCC\x81";
    check_tokens(s, "caf\xC3\xA9", "r\xC3\xA9sum\xC3\xA9");
    check_span(s, WN_TOKENS_WORD, 0, 0, 6);
    check_span(s, WN_TOKENS_WORD, 1, 7, 10);
    /* Marks out of canonical order are reordered: q + dot below + acute. */
    check_tokens("q\xCC\x81\xCC\xA3", "q\xCC\xA3\xCC\x81");
    /* A mark composes with ASCII punctuation: "=" U+0338 is "≠", which
     * separates. */
    check_tokens("a=\xCC\xB8"
                 "b",
                 "a", "b");
    /* A mark with no base starts a token of its own. */
    check_tokens("- \xCC\x81x", "\xCC\x81x");
    /* Uppercase before a mark: E + U+0301 is é. */
    check_tokens("E\xCC\x81T\xC3\x89", "\xC3\xA9t\xC3\xA9");
}

static void test_char_mode(void **state)
{
    (void)state;
    /* Ｔｈé ﬁ */
    const char *s = "\xEF\xBC\xB4\xEF\xBD\x88\xC3\xA9 \xEF\xAC\x81";
    check_chars(s, "t", "h", "\xC3\xA9", "f", "i");
    check_span(s, WN_TOKENS_CHAR, 0, 0, 3);
    check_span(s, WN_TOKENS_CHAR, 2, 6, 2);
    check_span(s, WN_TOKENS_CHAR, 3, 9, 3);
    check_span(s, WN_TOKENS_CHAR, 4, 9, 3);
    /* c + U+0301 is one character, ć. */
    check_chars("Ab, c\xCC\x81!", "a", "b", "\xC4\x87");
}

static void test_mojibake(void **state)
{
    (void)state;
    /* BBC's "Â£600m" stays Â (folded to â) and £ separates: not repaired. */
    check_tokens("$1.13bn (\xC3\x82\xC2\xA3"
                 "600m)",
                 "1", "13bn", "\xC3\xA2", "600m");
    check_span("(\xC3\x82\xC2\xA3"
               "600m)",
               WN_TOKENS_WORD, 0, 1, 2);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        size_t bad;
        size_t tokens;
    } cases[] = {
        {"\xFF", 1, 1, 0},
        {"a\xFF"
         "b",
         3, 1, 2},
        {"\xC0\xAF", 2, 2, 0},         /* overlong "/" */
        {"\xE0\x80\xAF", 3, 3, 0},     /* overlong, 3 bytes */
        {"\xED\xA0\x80", 3, 3, 0},     /* surrogate */
        {"\xE2\x82", 2, 1, 0},         /* truncated at the end */
        {"\xE2\x82x", 3, 1, 1},        /* truncated before ASCII */
        {"\xF0\x9F\x98x", 4, 1, 1},    /* truncated 4-byte */
        {"\xF4\x90\x80\x80", 4, 4, 0}, /* above U+10FFFF */
        {"a\0b", 3, 1, 2},             /* NUL */
        {"\x80\x80\x80", 3, 3, 0},     /* stray continuations */
        {"caf\xC3", 4, 1, 1},
        {"\xC3\xA9\xC3", 3, 1, 1},
    };
    struct wn_tokens t;
    wn_tokens_init(&t);
    for (size_t i = 0; i < WN_ARRAY_LEN(cases); i++) {
        assert_int_equal(
            wn_tokenize(cases[i].s, cases[i].len, WN_TOKENS_WORD, &t), WN_OK);
        if (t.invalid_utf8 != cases[i].bad || t.n != cases[i].tokens)
            fail_msg("case %zu: %zu invalid, %zu tokens", i, t.invalid_utf8,
                     t.n);
        check_against_reference(cases[i].s, cases[i].len, WN_TOKENS_WORD);
    }
    wn_tokens_release(&t);

    /* Random bytes: no crash, the same count as the reference. */
    uint64_t rng = 0x5EED0001;
    for (int round = 0; round < 300; round++) {
        size_t len = rng_below(&rng, 200);
        unsigned char buf[200];
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)rng_next(&rng);
        check_against_reference((const char *)buf, len, WN_TOKENS_WORD);
        check_against_reference((const char *)buf, len, WN_TOKENS_CHAR);
    }
    /* Random text with invalid pieces: counts > 0 where bad bytes went in. */
    for (int round = 0; round < 300; round++) {
        struct str s = {0};
        str_add(&s, "", 0);
        random_text(&rng, 1 + rng_below(&rng, 40), true, &s);
        str_adds(&s, "\xC3"); /* always ends truncated */
        check_against_reference(s.p, s.len, WN_TOKENS_WORD);
        struct wn_tokens u;
        wn_tokens_init(&u);
        assert_int_equal(wn_tokenize(s.p, s.len, WN_TOKENS_WORD, &u), WN_OK);
        assert_true(u.invalid_utf8 > 0);
        wn_tokens_release(&u);
        free(s.p);
    }
}

static void test_differential_ascii(void **state)
{
    (void)state;
    uint64_t rng = 0x5EED0002;
    for (int round = 0; round < 2000; round++) {
        size_t len = rng_below(&rng, 120);
        char buf[120];
        for (size_t i = 0; i < len; i++) {
            size_t r = rng_below(&rng, 10);
            /* Mostly letters and spaces, some of every ASCII byte. */
            buf[i] = r < 6   ? (char)('A' + rng_below(&rng, 58))
                     : r < 8 ? ' '
                             : (char)(1 + rng_below(&rng, 127));
        }
        check_against_reference(buf, len, WN_TOKENS_WORD);
        check_against_reference(buf, len, WN_TOKENS_CHAR);
    }
}

static void test_differential_unicode(void **state)
{
    (void)state;
    uint64_t rng = 0x5EED0003;
    for (int round = 0; round < 3000; round++) {
        struct str s = {0};
        str_add(&s, "", 0);
        random_text(&rng, rng_below(&rng, 60), false, &s);
        check_against_reference(s.p, s.len, WN_TOKENS_WORD);
        check_against_reference(s.p, s.len, WN_TOKENS_CHAR);
        free(s.p);
    }
    assert_true(spans_normalized > 10000);
}

/*
 * Long ASCII words and runs, for the 64-byte block loop: words across block
 * edges, longer than a block, blocks that are all word or all space, a
 * non-ASCII code point right after a block (a mark that composes with its
 * last byte), a Han character before one, NUL inside one.
 */
static void test_differential_blocks(void **state)
{
    (void)state;
    static const char *const odd[] = {
        "\xCC\x81",     "\xCC\xB8",     "\xE4\xB8\xAD", "\xC3\xA9",
        "\xEF\xBC\xA1", "\xE2\x80\x94", "\xC2\xAD",     "\xFF",
    };
    uint64_t rng = 0x5EED0005;
    for (int round = 0; round < 1500; round++) {
        struct str s = {0};
        str_add(&s, "", 0);
        size_t target = rng_below(&rng, 700);
        while (s.len < target) {
            size_t r = rng_below(&rng, 100);
            size_t n = r < 60   ? 1 + rng_below(&rng, 9)
                       : r < 90 ? 1 + rng_below(&rng, 80)
                                : 60 + rng_below(&rng, 140);
            for (size_t i = 0; i < n; i++) {
                char c = (char)((rng_below(&rng, 4) ? 'a' : 'A') +
                                rng_below(&rng, 26));
                if (rng_below(&rng, 10) == 0)
                    c = (char)('0' + rng_below(&rng, 10));
                str_add(&s, &c, 1);
            }
            r = rng_below(&rng, 100);
            if (r < 70)
                str_adds(&s, " ");
            else if (r < 80)
                str_adds(&s, ", ");
            else if (r < 85)
                str_adds(&s, "                                          ");
            else if (r < 88)
                str_add(&s, "", 1);
            else
                str_adds(&s, odd[rng_below(&rng, WN_ARRAY_LEN(odd))]);
        }
        check_against_reference(s.p, s.len, WN_TOKENS_WORD);
        check_against_reference(s.p, s.len, WN_TOKENS_CHAR);
        free(s.p);
    }
}

/*
 * A code point that combines with the ASCII byte before it, at every
 * offset: whatever the block alignment, the byte must not be tokenized
 * before the mark is seen.
 */
static void test_mark_after_ascii(void **state)
{
    (void)state;
    static const char *const marks[] = {"\xCC\x81", "\xCC\xB8", "\xEF\xBE\x9E"};
    static const char *const lead[] = {"", " ", "Ab, ", "\xE4\xB8\xAD"};
    for (size_t m = 0; m < WN_ARRAY_LEN(marks); m++) {
        for (size_t l = 0; l < WN_ARRAY_LEN(lead); l++) {
            for (size_t k = 1; k < 200; k++) {
                struct str s = {0};
                str_adds(&s, lead[l]);
                for (size_t i = 0; i < k; i++)
                    str_adds(&s, i % 9 == 8 ? " " : i % 5 ? "e" : "=");
                str_adds(&s, marks[m]);
                str_adds(&s, "x E");
                check_against_reference(s.p, s.len, WN_TOKENS_WORD);
                check_against_reference(s.p, s.len, WN_TOKENS_CHAR);
                free(s.p);
            }
        }
    }
}

/* A text long enough to grow every buffer, with work for utf8proc. */
static void mixed_text(struct str *s, int copies)
{
    for (int i = 0; i < copies; i++) {
        str_adds(s, "Shares in the company rose sharply on Monday after it "
                    "reported record quarterly profits, analysts said. ");
        str_adds(s, "The U.S. economy grew 3.1% in Q2; \xEF\xAC\x81nancial "
                    "markets \xE2\x80\x94 caf\xC3\xA9 cafe\xCC\x81 "
                    "\xEB\x8C\x80\xED\x95\x9C\xEB\xAF\xBC\xEA\xB5\xAD "
                    "\xE6\x9D\xB1\xE4\xBA\xAC \xE0\xB8\x81\xE0\xB8\xB4 "
                    "\xEF\xBC\xA8\xEF\xBD\x85 \xFF q\xCC\x81\xCC\xA3\n");
    }
}

static void test_alloc_failures(void **state)
{
    (void)state;
    struct str s = {0};
    str_add(&s, "", 0);
    mixed_text(&s, 40);
    for (int mode = WN_TOKENS_WORD; mode <= WN_TOKENS_CHAR; mode++) {
        struct wn_tokens want;
        wn_tokens_init(&want);
        assert_int_equal(wn_tokenize(s.p, s.len, mode, &want), WN_OK);
        for (long n = 0;; n++) {
            struct wn_tokens t;
            wn_tokens_init(&t);
            wn_alloc_fail_after(n);
            int rc = wn_tokenize(s.p, s.len, mode, &t);
            wn_alloc_fail_after(-1);
            if (rc == WN_OK) {
                assert_int_equal(t.n, want.n);
                assert_memory_equal(t.norm, want.norm, want.norm_len);
                wn_tokens_release(&t);
                assert_true(n > 2); /* norm, tok and work were grown */
                break;
            }
            assert_int_equal(rc, WN_ENOMEM);
            assert_int_equal(t.n, 0);
            /* t stays usable after the failure. */
            assert_int_equal(wn_tokenize("ok", 2, mode, &t), WN_OK);
            assert_int_equal(t.n, mode == WN_TOKENS_WORD ? 1 : 2);
            wn_tokens_release(&t);
        }
        wn_tokens_release(&want);
    }
    free(s.p);
}

static void test_reuse_and_args(void **state)
{
    (void)state;
    struct wn_tokens t;
    wn_tokens_init(&t);
    assert_int_equal(wn_tokenize("x", 1, 7, &t), WN_EINVAL);
    assert_int_equal(wn_tokenize(NULL, 1, WN_TOKENS_WORD, &t), WN_EINVAL);
    assert_int_equal(wn_tokenize("x", 1, WN_TOKENS_WORD, NULL), WN_EINVAL);
    /* Checked before any byte is read. */
    if (SIZE_MAX > UINT32_MAX)
        assert_int_equal(
            wn_tokenize("x", (size_t)UINT32_MAX + 1, WN_TOKENS_WORD, &t),
            WN_ETOOBIG);
    /* Buffers are reused: a second call replaces the first's tokens. */
    assert_int_equal(wn_tokenize("one two three", 13, WN_TOKENS_WORD, &t),
                     WN_OK);
    assert_int_equal(t.n, 3);
    assert_int_equal(wn_tokenize("four", 4, WN_TOKENS_WORD, &t), WN_OK);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.norm, "four");
    assert_int_equal(t.norm_len, 5);
    wn_tokens_release(&t);
    wn_tokens_release(&t); /* released twice is fine */
}

/*
 * Runs of combining marks are cut every 32 code points, which keeps a
 * pathological text linear. 200k marks in descending combining class would
 * take utf8proc's reordering about 10^10 swaps as one sequence.
 */
static void test_long_mark_runs(void **state)
{
    (void)state;
    struct str s = {0};
    str_adds(&s, "a");
    for (int i = 0; i < 100000; i++)
        str_adds(&s, "\xCC\x81\xCC\xA3");
    str_adds(&s, " b");
    struct wn_tokens t;
    wn_tokens_init(&t);
    assert_int_equal(wn_tokenize(s.p, s.len, WN_TOKENS_WORD, &t), WN_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.tok[0].src_len, s.len - 2);
    assert_string_equal(tok_text(&t, 1), "b");
    wn_tokens_release(&t);
    free(s.p);
}

/*
 * The class table against utf8proc, for every code point: word characters,
 * marks, stability. And the claim that makes segments sound: for every
 * composition utf8proc knows (every canonical decomposition, cut at every
 * point), normalizing the two sides apart gives the same text whenever the
 * right side starts at a code point flagged as a boundary. (In practice no
 * cut is flagged: the seconds of all composition pairs are marks or jamo.)
 */
/*
 * wn__tokenize_cut: at every cut point it gives, the tokens of the text are
 * those of its two sides, byte for byte, with the invalid sequences counted
 * once; and the last tokens of a text hash as any other (16 bytes of room
 * after them, whatever the buffer held before).
 */
static void check_cuts(const char *text, size_t len, int mode, size_t *cuts)
{
    struct wn_tokens w, a, b;
    wn_tokens_init(&w);
    wn_tokens_init(&a);
    wn_tokens_init(&b);
    assert_int_equal(wn_tokenize(text, len, mode, &w), WN_OK);
    assert_true(len == 0 || w.norm_cap >= w.norm_len + 16);
    for (size_t from = 0; from <= len; from++) {
        size_t c = wn__tokenize_cut(text, len, from);
        assert_true(c >= from && c <= len);
        if (c == len || c == 0)
            continue;
        (*cuts)++;
        assert_int_equal(wn_tokenize(text, c, mode, &a), WN_OK);
        assert_int_equal(wn_tokenize(text + c, len - c, mode, &b), WN_OK);
        if (a.n + b.n != w.n || a.norm_len + b.norm_len != w.norm_len ||
            a.invalid_utf8 + b.invalid_utf8 != w.invalid_utf8)
            fail_msg("cut %zu of %zu: %zu + %zu tokens, whole %zu", c, len, a.n,
                     b.n, w.n);
        assert_memory_equal(a.norm, w.norm, a.norm_len);
        assert_memory_equal(b.norm, w.norm + a.norm_len, b.norm_len);
        for (size_t i = 0; i < w.n; i++) {
            const struct wn_token *x = i < a.n ? &a.tok[i] : &b.tok[i - a.n];
            size_t off = i < a.n ? 0 : a.norm_len;
            assert_int_equal(x->norm_off + off, w.tok[i].norm_off);
            assert_int_equal(x->norm_len, w.tok[i].norm_len);
        }
        /* The next cut is past this one. */
        from = c;
    }
    wn_tokens_release(&w);
    wn_tokens_release(&a);
    wn_tokens_release(&b);
}

static void test_cut_points(void **state)
{
    (void)state;
    static const char *const fixed[] = {
        /* Chinese and Japanese without ASCII: cut before ideographs. */
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE6\x96\x87\xE7"
        "\xAB\xA0\xE3\x80\x82\xE4\xB8\xAD\xE6\x96\x87\xE6\x96\x87\xE6\x9C"
        "\xAC",
        /* Marks after separators and letters, "=" U+0338 is one token. */
        "a =\xCC\xB8 b, \xCC\x81x e\xCC\x81 \xE4\xB8\xAD\xCC\x81\xE6\x96\x87",
        /* Hangul jamo that compose, a Han character between. */
        "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8\xE4\xB8\xAD\xE1\x84\x80\xE1"
        "\x85\xA1",
        /* Full-width forms (not stable) and ligatures. */
        "\xEF\xBC\xB4\xEF\xBD\x88\xC3\xA9 \xEF\xAC\x81 \xEF\xBC\xA1\xE4\xB8"
        "\xAD\xEF\xBC\xA1",
        /* Thai. */
        "\xE0\xB8\x81\xE0\xB8\xB4\xE0\xB8\x99\xE0\xB8\x82\xE0\xB9\x89\xE0"
        "\xB8\xB2\xE0\xB8\xA7",
    };
    /* Truncated and stray sequences next to Han, NUL, ASCII. */
    static const char bad[] = "\xE6\x97\xE6\x97\xA5 \xC3\xE4\xB8\xAD\x80x\0y"
                              "\xED\xA0\x80\xE4\xB8\xAD.";
    size_t cuts = 0;
    for (size_t i = 0; i < WN_ARRAY_LEN(fixed); i++) {
        check_cuts(fixed[i], strlen(fixed[i]), WN_TOKENS_WORD, &cuts);
        check_cuts(fixed[i], strlen(fixed[i]), WN_TOKENS_CHAR, &cuts);
    }
    check_cuts(bad, sizeof(bad) - 1, WN_TOKENS_WORD, &cuts);
    check_cuts(bad, sizeof(bad) - 1, WN_TOKENS_CHAR, &cuts);
    size_t before = cuts;
    check_cuts(fixed[0], strlen(fixed[0]), WN_TOKENS_WORD, &cuts);
    assert_true(cuts - before >= 5); /* text without ASCII can be cut */
    uint64_t rng = 0x5EED0C07;
    for (int round = 0; round < 400; round++) {
        struct str s = {0};
        str_add(&s, "", 0);
        random_text(&rng, rng_below(&rng, 80), round % 2 == 0, &s);
        check_cuts(s.p, s.len, WN_TOKENS_WORD, &cuts);
        check_cuts(s.p, s.len, WN_TOKENS_CHAR, &cuts);
        free(s.p);
    }
    struct str m = {0};
    mixed_text(&m, 3);
    check_cuts(m.p, m.len, WN_TOKENS_WORD, &cuts);
    check_cuts(m.p, m.len, WN_TOKENS_CHAR, &cuts);
    free(m.p);
    assert_true(cuts > 5000);
}

static void test_class_table(void **state)
{
    (void)state;
    for (int32_t cp = 0; cp < WN__CP_COUNT; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        unsigned c = wn__cp_class(cp);
        assert_true(c & WN__CP_KNOWN);
        utf8proc_category_t cat = utf8proc_category(cp);
        bool mark = cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME;
        bool word =
            mark ||
            (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
            (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
        assert_int_equal(!!(c & WN__CP_WORD), word);
        assert_int_equal(!!(c & WN__CP_MARK), mark);
        if (cp < 0x80)
            assert_true(c & WN__CP_BOUNDARY);

        utf8proc_uint8_t u[4], *m = NULL;
        utf8proc_ssize_t ulen = utf8proc_encode_char(cp, u);
        utf8proc_ssize_t mlen = utf8proc_map(u, ulen, &m, WN__NFKC_CF_OPTIONS);
        assert_true(mlen >= 0 && mlen <= 18 * 4);
        bool stable = mlen == ulen && memcmp(m, u, (size_t)ulen) == 0;
        if (stable != !!(c & WN__CP_STABLE))
            fail_msg("U+%04X: stable %d", (unsigned)cp, stable);
        free(m);
    }

    size_t cuts = 0;
    for (int32_t z = 0x80; z < WN__CP_COUNT; z++) {
        if (z >= 0xD800 && z <= 0xDFFF)
            continue;
        utf8proc_int32_t d[8];
        int bc = 0;
        utf8proc_ssize_t n =
            utf8proc_decompose_char(z, d, 8, UTF8PROC_DECOMPOSE, &bc);
        if (n < 2 || n > 8)
            continue;
        for (utf8proc_ssize_t cut = 1; cut < n; cut++) {
            cuts++;
            if (!(wn__cp_class(d[cut]) & WN__CP_BOUNDARY))
                continue;
            struct str left = {0}, right = {0}, both = {0};
            str_add(&left, "", 0);
            str_add(&right, "", 0);
            for (utf8proc_ssize_t i = 0; i < n; i++)
                str_add_cp(i < cut ? &left : &right, d[i]);
            str_add(&both, left.p, left.len);
            str_add(&both, right.p, right.len);
            utf8proc_uint8_t *a = NULL, *b = NULL, *ab = NULL;
            utf8proc_ssize_t la = utf8proc_map((utf8proc_uint8_t *)left.p,
                                               (utf8proc_ssize_t)left.len, &a,
                                               WN__NFKC_CF_OPTIONS);
            utf8proc_ssize_t lb = utf8proc_map((utf8proc_uint8_t *)right.p,
                                               (utf8proc_ssize_t)right.len, &b,
                                               WN__NFKC_CF_OPTIONS);
            utf8proc_ssize_t lab = utf8proc_map((utf8proc_uint8_t *)both.p,
                                                (utf8proc_ssize_t)both.len, &ab,
                                                WN__NFKC_CF_OPTIONS);
            assert_true(la >= 0 && lb >= 0 && lab == la + lb);
            assert_memory_equal(ab, a, (size_t)la);
            assert_memory_equal(ab + la, b, (size_t)lb);
            free(a);
            free(b);
            free(ab);
            free(left.p);
            free(right.p);
            free(both.p);
        }
    }
    /* Hangul syllables alone give more than 11,000 cuts. */
    assert_true(cuts > 11000);
}

struct thread_job {
    const char *text;
    size_t len;
    size_t n;
    int rc;
};

static void *thread_main(void *arg)
{
    struct thread_job *j = arg;
    struct wn_tokens t;
    wn_tokens_init(&t);
    for (int i = 0; i < 20 && !j->rc; i++)
        j->rc = wn_tokenize(j->text, j->len, WN_TOKENS_WORD, &t);
    j->n = t.n;
    wn_tokens_release(&t);
    return NULL;
}

/* Distinct wn_tokens on distinct threads, sharing the class memo. */
static void test_threads(void **state)
{
    (void)state;
    struct str s = {0};
    str_add(&s, "", 0);
    uint64_t rng = 0x5EED0004;
    random_text(&rng, 5000, true, &s);
    struct wn_tokens t;
    wn_tokens_init(&t);
    assert_int_equal(wn_tokenize(s.p, s.len, WN_TOKENS_WORD, &t), WN_OK);
    pthread_t th[4];
    struct thread_job job[4];
    for (int i = 0; i < 4; i++) {
        job[i] = (struct thread_job){.text = s.p, .len = s.len};
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &job[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(job[i].rc, WN_OK);
        assert_int_equal(job[i].n, t.n);
    }
    wn_tokens_release(&t);
    free(s.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_english),
        cmocka_unit_test(test_cjk_mixed),
        cmocka_unit_test(test_hangul),
        cmocka_unit_test(test_thai),
        cmocka_unit_test(test_fullwidth_ligatures),
        cmocka_unit_test(test_combining),
        cmocka_unit_test(test_char_mode),
        cmocka_unit_test(test_mojibake),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_differential_ascii),
        cmocka_unit_test(test_differential_unicode),
        cmocka_unit_test(test_differential_blocks),
        cmocka_unit_test(test_mark_after_ascii),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_reuse_and_args),
        cmocka_unit_test(test_long_mark_runs),
        cmocka_unit_test(test_cut_points),
        cmocka_unit_test(test_class_table),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
