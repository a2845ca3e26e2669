/*
 * fuzz_text.c - libFuzzer target for UTF-8 decoding, NFKC_Casefold
 * normalization and tokenization (lib/text/tokenize.c).
 *
 * Input: one configuration byte (bit 0: word or character tokens), then the
 * text, any bytes at all. What must hold, beyond no crash, no hang and no
 * leak:
 *  - tokens are well-formed: non-empty, valid UTF-8 without U+FFFD,
 *    NUL-terminated in norm, in text order, spans inside the text;
 *  - the ASCII fast path changes nothing: tokens, spans and the count of
 *    repaired sequences equal those of the path that sends every byte
 *    through utf8proc;
 *  - normalization is idempotent: the tokens joined by spaces tokenize to
 *    the same tokens, with nothing left to repair;
 *  - a token's span tokenized alone gives that token (among the tokens of
 *    that span, when one character expands into several).
 * Cost per input: O(size) for the passes, plus one small tokenization per
 * token for the span check (limited to the first 256 tokens).
 */
#include "fuzz_util.h"

#include "common/common.h"
#include "text/text.h"

#define SPAN_CHECKS 256

static void check_tokens(const struct wn_tokens *t, size_t len)
{
    uint32_t prev_src = 0, prev_end = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct wn_token *k = &t->tok[i];
        FZ_CHECK(k->norm_len > 0);
        FZ_CHECK((size_t)k->norm_off + k->norm_len < t->norm_len + 1);
        FZ_CHECK(k->norm_off >= prev_end);
        prev_end = k->norm_off + k->norm_len + 1;
        const char *s = t->norm + k->norm_off;
        FZ_CHECK(s[k->norm_len] == '\0' && strlen(s) == k->norm_len);
        FZ_CHECK(k->src_off >= prev_src);
        prev_src = k->src_off;
        FZ_CHECK((size_t)k->src_off + k->src_len <= len);
        FZ_CHECK(k->src_len > 0);
        /* Valid UTF-8, and never the replacement character: U+FFFD is
         * not a word character, so it always separates. */
        const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
        utf8proc_ssize_t left = (utf8proc_ssize_t)k->norm_len;
        while (left > 0) {
            utf8proc_int32_t cp;
            utf8proc_ssize_t m = utf8proc_iterate(u, left, &cp);
            FZ_CHECK(m > 0 && cp != 0xfffd);
            u += m;
            left -= m;
        }
    }
}

static bool same_token_text(const struct wn_tokens *a, size_t i,
                            const struct wn_tokens *b, size_t j)
{
    const struct wn_token *x = &a->tok[i], *y = &b->tok[j];
    return x->norm_len == y->norm_len &&
           memcmp(a->norm + x->norm_off, b->norm + y->norm_off, x->norm_len) ==
               0;
}

/* A run of more than 30 code points that are not normalization boundaries
 * (WN__CP_BOUNDARY: combining marks, ignorables, and characters that
 * compose with what precedes them, such as Hangul vowel jamo): inside one
 * the tokenizer cuts segments every 32 code points, so joining tokens can
 * move a cut. (Counting only combining class and ignorables here missed a
 * Hangul vowel jamo inside a run of U+0301: finding
 * text/jamo-inside-combining-run.) */
static bool has_long_nonstarter_run(const char *s, size_t n)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)n;
    int run = 0;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t m = utf8proc_iterate(u, left, &cp);
        if (m <= 0) {
            /* An ill-formed byte: U+FFFD, a starter. */
            run = 0;
            u++;
            left--;
            continue;
        }
        bool boundary = (wn__cp_class(cp) & WN__CP_BOUNDARY) != 0;
        run = boundary ? 0 : run + 1;
        if (run >= 31)
            return true;
        u += m;
        left -= m;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_input in = {data, size};
    int mode = fz_byte(&in) & 1 ? WN_TOKENS_CHAR : WN_TOKENS_WORD;
    const char *text = (const char *)in.p;
    size_t len = in.n;

    struct wn_tokens t, slow, again, part;
    wn_tokens_init(&t);
    wn_tokens_init(&slow);
    wn_tokens_init(&again);
    wn_tokens_init(&part);
    FZ_CHECK(wn_tokenize(text, len, mode, &t) == WN_OK);
    check_tokens(&t, len);

    /* The fast path agrees with the slow one in everything. */
    FZ_CHECK(wn__tokenize_ex(text, len, mode, WN__TOKENIZE_NO_FASTPATH,
                             &slow) == WN_OK);
    FZ_CHECK(slow.n == t.n && slow.invalid_utf8 == t.invalid_utf8);
    for (size_t i = 0; i < t.n; i++) {
        FZ_CHECK(same_token_text(&t, i, &slow, i));
        FZ_CHECK(t.tok[i].src_off == slow.tok[i].src_off &&
                 t.tok[i].src_len == slow.tok[i].src_len);
    }

    /* Idempotence: normalizing normalized tokens changes nothing. */
    struct wn_buf joined = {0};
    for (size_t i = 0; i < t.n; i++) {
        if (i)
            FZ_CHECK(wn__buf_putc(&joined, ' ') == WN_OK);
        FZ_CHECK(wn__buf_append(&joined, t.norm + t.tok[i].norm_off,
                                t.tok[i].norm_len) == WN_OK);
    }
    FZ_CHECK(wn_tokenize(joined.data, joined.len, mode, &again) == WN_OK);
    FZ_CHECK(again.invalid_utf8 == 0);
    /* Inputs whose long runs were cut (the documented exception) are
     * exempt, whether the run is in the input or in the joined tokens. */
    if (!has_long_nonstarter_run(text, len) &&
        !has_long_nonstarter_run(joined.data, joined.len)) {
        FZ_CHECK(again.n == t.n);
        for (size_t i = 0; i < t.n; i++)
            FZ_CHECK(same_token_text(&t, i, &again, i));
    }

    /* Spans: a token's source span alone gives that token. */
    for (size_t i = 0; i < t.n && i < SPAN_CHECKS; i++) {
        const struct wn_token *k = &t.tok[i];
        if (has_long_nonstarter_run(text + k->src_off, k->src_len))
            continue;
        FZ_CHECK(wn_tokenize(text + k->src_off, k->src_len, mode, &part) ==
                 WN_OK);
        bool found = false;
        for (size_t j = 0; j < part.n && !found; j++)
            found = same_token_text(&t, i, &part, j);
        FZ_CHECK(found);
    }

    wn__buf_release(&joined);
    wn_tokens_release(&t);
    wn_tokens_release(&slow);
    wn_tokens_release(&again);
    wn_tokens_release(&part);
    return 0;
}
