/*
 * tokenize.c - normalization (NFKC_Casefold) and tokenization in one pass
 * over UTF-8 text, with exact source spans for every token.
 *
 * The text is read as a sequence of segments. A segment starts at a code
 * point that is a normalization boundary (WN__CP_BOUNDARY: its expansion
 * begins with a starter that composes with nothing before it) and takes
 * every following code point that is not, up to SEG_MAX code points.
 * Canonical reordering never crosses a starter and composition never
 * reaches back over one, so normalizing segment by segment and
 * concatenating gives what utf8proc_map gives for the whole text (the
 * differential tests check it). The normalized code points of a segment all
 * map back to the segment's bytes, which is what makes spans exact even
 * when normalization changes lengths ("ﬁ" -> "fi", "e" U+0301 -> "é",
 * "ß" -> "ss").
 *
 * Three ways through a segment, fastest first:
 *  - ASCII: letters and digits are lowercased and copied in a tight loop,
 *    other bytes separate. An ASCII byte is always a boundary; the loop only
 *    stops short of the last byte before a non-ASCII one, which may be a
 *    combining mark that composes with it ("=" U+0338 is "≠").
 *  - One code point that NFKC_Casefold leaves unchanged (WN__CP_STABLE),
 *    such as a Hangul syllable or a lowercase "é": its bytes are copied.
 *  - Anything else goes through utf8proc_decompose and
 *    utf8proc_normalize_utf32 into t->work.
 *
 * Invariants: while a token is open, norm has room for at least one more
 * byte (its '\0'); norm_len stays below UINT32_MAX so that every offset fits
 * a uint32_t. Cost: O(len) time for all inputs (a segment is at most
 * SEG_MAX code points, which bounds utf8proc's quadratic reordering);
 * memory O(len) for the output and O(SEG_MAX) scratch.
 */
#include "text/text.h"

#include <assert.h>

/*
 * Longest segment in code points. Like the Stream-Safe Text Format of
 * UAX #15 (at most 30 non-starters in a row), this cuts only absurd runs of
 * combining marks or ignorables, and keeps reordering O(1) per byte.
 */
#define SEG_MAX 32

/* Longest ASCII run copied under one capacity check. */
#define RUN_MAX 65536

/* Lowercase of an ASCII letter or digit; 0 for every other byte. */
static const unsigned char ascii_fold[256] = {
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0,   0,
    0,   0,   0,   0,   0,   'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j',
    'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y',
    'z', 0,   0,   0,   0,   0,   0,   'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
    'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w',
    'x', 'y', 'z', 0,   0,   0,   0,   0,
};

enum tk_kind {
    TK_NONE = 0, /* no token open */
    TK_WORD,     /* a word: takes further word characters */
    TK_CLUSTER   /* one character: takes only combining marks */
};

/* Tokenizer state over one text. */
struct tk {
    struct wn_tokens *t;
    int mode;       /* enum wn_token_mode */
    int open;       /* enum tk_kind */
    size_t start;   /* offset in norm of the open token */
    size_t src_off; /* source span of the open token so far */
    size_t src_end;
};

WN_API void wn_tokens_init(struct wn_tokens *t)
{
    memset(t, 0, sizeof(*t));
}

WN_API void wn_tokens_release(struct wn_tokens *t)
{
    wn__free(t->norm);
    wn__free(t->tok);
    wn__free(t->work);
    memset(t, 0, sizeof(*t));
}

/* Room for extra more bytes in norm, plus the '\0' that ends a token. */
static int norm_reserve(struct wn_tokens *t, size_t extra)
{
    if (t->norm_cap - t->norm_len > extra)
        return WN_OK;
    if (extra >= (size_t)UINT32_MAX - t->norm_len)
        return WN_ETOOBIG;
    return WN_GROW(t->norm, t->norm_cap, t->norm_len + extra + 1);
}

static void tk_open(struct tk *k, int kind, size_t src_off)
{
    k->open = kind;
    k->start = k->t->norm_len;
    k->src_off = src_off;
}

static int tk_close(struct tk *k)
{
    struct wn_tokens *t = k->t;
    if (!k->open)
        return WN_OK;
    if (t->n == t->cap && WN_GROW(t->tok, t->cap, t->n + 1))
        return WN_ENOMEM;
    assert(t->norm_len < t->norm_cap && t->norm_len > k->start);
    struct wn_token *w = &t->tok[t->n++];
    w->norm_off = (uint32_t)k->start;
    w->norm_len = (uint32_t)(t->norm_len - k->start);
    w->src_off = (uint32_t)k->src_off;
    w->src_len = (uint32_t)(k->src_end - k->src_off);
    t->norm[t->norm_len++] = '\0';
    k->open = TK_NONE;
    return WN_OK;
}

/*
 * Add one normalized code point, encoded in b[0, nb), of class cls, that
 * came from the source bytes [lo, hi).
 */
static int tk_feed(struct tk *k, const unsigned char *b, size_t nb,
                   unsigned cls, size_t lo, size_t hi)
{
    struct wn_tokens *t = k->t;
    int rc;
    if (!(cls & WN__CP_WORD))
        return tk_close(k);
    if (cls & WN__CP_MARK) {
        if (!k->open)
            tk_open(k, k->mode == WN_TOKENS_CHAR ? TK_CLUSTER : TK_WORD, lo);
    } else if (k->mode == WN_TOKENS_CHAR || (cls & WN__CP_NOSPACE)) {
        if ((rc = tk_close(k)))
            return rc;
        tk_open(k, TK_CLUSTER, lo);
    } else if (k->open != TK_WORD) {
        if ((rc = tk_close(k)))
            return rc;
        tk_open(k, TK_WORD, lo);
    }
    if ((rc = norm_reserve(t, nb)))
        return rc;
    memcpy(t->norm + t->norm_len, b, nb);
    t->norm_len += nb;
    k->src_end = hi;
    return WN_OK;
}

/*
 * Decode the code point at p (p < end) and set *n to its length. Returns -1
 * for NUL and for an ill-formed sequence, with *n the length of its maximal
 * subpart (Unicode 15, section 3.9, "U+FFFD Substitution of Maximal
 * Subparts"), so that each replaced subpart is counted once and the
 * following byte is read afresh.
 */
static int32_t utf8_decode(const unsigned char *p, const unsigned char *end,
                           size_t *n)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    *n = 1;
    if (c < 0x80)
        return c ? (int32_t)c : -1;
    if (c < 0xC2) /* continuation byte, or overlong 2-byte lead */
        return -1;
    if (c < 0xE0) {
        if (avail < 2 || (p[1] & 0xC0) != 0x80)
            return -1;
        *n = 2;
        return (int32_t)((c & 0x1F) << 6 | (p[1] & 0x3F));
    }
    if (c < 0xF0) {
        /* E0 excludes overlongs, ED excludes the surrogates. */
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
        unsigned hi = c == 0xED ? 0x9F : 0xBF;
        if (avail < 2 || p[1] < lo || p[1] > hi)
            return -1;
        *n = 2;
        if (avail < 3 || (p[2] & 0xC0) != 0x80)
            return -1;
        *n = 3;
        return (int32_t)((c & 0x0F) << 12 | (p[1] & 0x3Fu) << 6 |
                         (p[2] & 0x3F));
    }
    if (c < 0xF5) {
        /* F0 excludes overlongs, F4 everything above U+10FFFF. */
        unsigned lo = c == 0xF0 ? 0x90 : 0x80;
        unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
        if (avail < 2 || p[1] < lo || p[1] > hi)
            return -1;
        *n = 2;
        if (avail < 3 || (p[2] & 0xC0) != 0x80)
            return -1;
        *n = 3;
        if (avail < 4 || (p[3] & 0xC0) != 0x80)
            return -1;
        *n = 4;
        return (int32_t)((c & 0x07) << 18 | (p[1] & 0x3Fu) << 12 |
                         (p[2] & 0x3Fu) << 6 | (p[3] & 0x3F));
    }
    return -1;
}

/* Normalize the segment s[lo, hi) through utf8proc and feed the result. */
static int normalize_segment(struct tk *k, const unsigned char *s, size_t lo,
                             size_t hi)
{
    struct wn_tokens *t = k->t;
    utf8proc_ssize_t m =
        utf8proc_decompose(s + lo, (utf8proc_ssize_t)(hi - lo), t->work,
                           (utf8proc_ssize_t)t->work_cap, WN__NFKC_CF_OPTIONS);
    if (m > (utf8proc_ssize_t)t->work_cap) {
        if (WN_GROW(t->work, t->work_cap, (size_t)m))
            return WN_ENOMEM;
        m = utf8proc_decompose(s + lo, (utf8proc_ssize_t)(hi - lo), t->work,
                               (utf8proc_ssize_t)t->work_cap,
                               WN__NFKC_CF_OPTIONS);
    }
    /* The segment is well-formed and short: utf8proc cannot fail. */
    assert(m >= 0 && m <= (utf8proc_ssize_t)t->work_cap);
    if (m < 0)
        return WN_EINVAL;
    m = utf8proc_normalize_utf32(t->work, m, WN__NFKC_CF_OPTIONS);
    for (utf8proc_ssize_t i = 0; i < m; i++) {
        unsigned char b[4];
        utf8proc_ssize_t nb = utf8proc_encode_char(t->work[i], b);
        int rc = tk_feed(k, b, (size_t)nb, wn__cp_class(t->work[i]), lo, hi);
        if (rc)
            return rc;
    }
    return WN_OK;
}

/*
 * A run of ASCII letters and digits starting at p, in word mode. Returns
 * where the run stopped: p itself when the only letter is one that a
 * following non-ASCII code point may combine with, for the caller to read
 * as a segment.
 */
static const unsigned char *ascii_word_run(struct tk *k, const unsigned char *s,
                                           const unsigned char *p,
                                           const unsigned char *end, int *rc)
{
    struct wn_tokens *t = k->t;
    if (k->open == TK_CLUSTER && (*rc = tk_close(k)))
        return p;
    size_t want = WN_MIN((size_t)(end - p), (size_t)RUN_MAX);
    if ((*rc = norm_reserve(t, want)))
        return p;
    const unsigned char *q = p, *lim = p + want;
    char *o = t->norm + t->norm_len;
    unsigned char lc;
    while (q < lim && (lc = ascii_fold[*q])) {
        *o++ = (char)lc;
        q++;
    }
    if (q < end && *q >= 0x80) {
        q--;
        o--;
    }
    if (q > p) {
        if (!k->open)
            tk_open(k, TK_WORD, (size_t)(p - s));
        t->norm_len = (size_t)(o - t->norm);
        k->src_end = (size_t)(q - s);
    }
    return q;
}

static int tokenize(struct tk *k, const unsigned char *s, size_t len, bool fast)
{
    struct wn_tokens *t = k->t;
    const unsigned char *p = s, *end = s + len;
    int rc = WN_OK;
    while (p < end) {
        /* ASCII followed by ASCII (or the end) is its own segment. */
        if (fast && *p < 0x80) {
            unsigned char lc = ascii_fold[*p];
            bool alone = p + 1 == end || p[1] < 0x80;
            if (!lc && alone) {
                if (*p == 0)
                    t->invalid_utf8++;
                if ((rc = tk_close(k)))
                    return rc;
                p++;
                continue;
            }
            if (lc && k->mode == WN_TOKENS_WORD) {
                const unsigned char *q = ascii_word_run(k, s, p, end, &rc);
                if (rc)
                    return rc;
                if (q > p) {
                    p = q;
                    continue;
                }
            } else if (lc && alone) {
                rc = tk_feed(k, &lc, 1, WN__CP_WORD, (size_t)(p - s),
                             (size_t)(p + 1 - s));
                if (rc)
                    return rc;
                p++;
                continue;
            }
        }

        size_t n;
        int32_t cp = utf8_decode(p, end, &n);
        if (cp < 0) {
            t->invalid_utf8++;
            if ((rc = tk_close(k)))
                return rc;
            p += n;
            continue;
        }
        size_t lo = (size_t)(p - s);
        unsigned cls = wn__cp_class(cp);
        unsigned count = 1;
        p += n;
        /* Every ASCII byte, NUL included, is a boundary. */
        while (p < end && *p >= 0x80 && count < SEG_MAX) {
            size_t n2;
            int32_t c2 = utf8_decode(p, end, &n2);
            if (c2 < 0 || (wn__cp_class(c2) & WN__CP_BOUNDARY))
                break;
            p += n2;
            count++;
        }
        size_t hi = (size_t)(p - s);
        if (fast && count == 1 && (cls & WN__CP_STABLE)) {
            rc = tk_feed(k, s + lo, n, cls, lo, hi);
        } else if (fast && count == 1 && cp < 0x80) {
            /* An uppercase ASCII letter before a non-ASCII boundary. */
            unsigned char lc = ascii_fold[cp];
            assert(lc);
            rc = tk_feed(k, &lc, 1, WN__CP_WORD, lo, hi);
        } else {
            rc = normalize_segment(k, s, lo, hi);
        }
        if (rc)
            return rc;
    }
    return tk_close(k);
}

int wn__tokenize_ex(const char *text, size_t len, int mode, unsigned flags,
                    struct wn_tokens *t)
{
    if (!t || (!text && len) ||
        (mode != WN_TOKENS_WORD && mode != WN_TOKENS_CHAR))
        return WN_EINVAL;
    if (len > UINT32_MAX)
        return WN_ETOOBIG;
    t->n = 0;
    t->norm_len = 0;
    t->invalid_utf8 = 0;
    if (!len)
        return WN_OK;
    struct tk k = {.t = t, .mode = mode};
    int rc = tokenize(&k, (const unsigned char *)text, len,
                      !(flags & WN__TOKENIZE_NO_FASTPATH));
    if (rc) {
        t->n = 0;
        t->norm_len = 0;
        t->invalid_utf8 = 0;
    }
    return rc;
}

WN_API int wn_tokenize(const char *text, size_t len, int mode,
                       struct wn_tokens *t)
{
    return wn__tokenize_ex(text, len, mode, 0, t);
}
