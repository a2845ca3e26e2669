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
 *  - ASCII, where a byte is a segment: letters and digits are lowercased,
 *    everything else separates. Runs of 64 bytes are classified at once
 *    (SWAR, portable C, or one AVX-512BW vector where the CPU has it) and
 *    their tokens found with bit scans, so English
 *    costs no branch per byte. The ASCII loop stops short of the last byte
 *    before a non-ASCII one, which may be a combining mark that composes
 *    with it ("=" U+0338 is "≠").
 *  - One code point that NFKC_Casefold leaves unchanged (WN__CP_STABLE),
 *    such as a Hangul syllable or a lowercase "é": its bytes are copied.
 *  - Anything else goes through utf8proc_decompose and
 *    utf8proc_normalize_utf32 into t->work.
 *
 * Invariants: while a token is open, norm has room for at least one more
 * byte (its '\0'); norm_len stays below UINT32_MAX so that every offset fits
 * a uint32_t. The only global state is the class memo (charclass.c).
 * Cost: O(len) time for all inputs (a segment is at most
 * SEG_MAX code points, which bounds utf8proc's quadratic reordering);
 * memory O(len) for the output and O(SEG_MAX) scratch.
 */
#include "text/text.h"

#include <assert.h>
#include <stdlib.h>

/*
 * Longest segment in code points. Like the Stream-Safe Text Format of
 * UAX #15 (at most 30 non-starters in a row), this cuts only absurd runs of
 * combining marks or ignorables, and keeps reordering O(1) per byte.
 */
#define SEG_MAX 32

/* Room kept after the last token for the shingles' 16-byte loads. */
#define TAIL_SLACK 16

/* ASCII bytes tokenized under one capacity check. */
#define ASCII_CHUNK 4096

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
    bool simd;      /* ascii_block_avx512 for ascii_block */
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
    /* First: the capacity may already exceed what offsets can address. */
    if (extra >= (size_t)UINT32_MAX - t->norm_len)
        return WN_ETOOBIG;
    if (t->norm_cap - t->norm_len > extra)
        return WN_OK;
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
 * came from the source bytes [lo, hi). b must be readable for 4 bytes.
 */
static inline __attribute__((always_inline)) int
tk_feed(struct tk *k, const unsigned char *b, size_t nb, unsigned cls,
        size_t lo, size_t hi)
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
    /* Copy a fixed 4 bytes (b always has 4) so that no memcpy call is
     * made for one code point. */
    assert(nb <= 4);
    if ((rc = norm_reserve(t, 4)))
        return rc;
    memcpy(t->norm + t->norm_len, b, 4);
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
static inline __attribute__((always_inline)) int32_t
utf8_decode(const unsigned char *p, const unsigned char *end, size_t *n)
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
 * SWAR classification of 64 ASCII bytes at a time, in portable C: the bytes
 * of a uint64_t are compared with constants by adding (0x80 - k), which sets
 * a byte's high bit exactly when the byte is >= k (no carry crosses bytes
 * while every byte is below 0x80). This lets the word loop find token
 * boundaries with bit scans instead of one unpredictable branch per byte.
 */
#define SWAR_ONES     0x0101010101010101ULL
#define SWAR_HIGH     0x8080808080808080ULL
#define SWAR_GE(x, k) (((x) + SWAR_ONES * (0x80 - (k))) & SWAR_HIGH)

/* Room copy_short may write past the end of a copy. */
#define COPY_SLACK 16

static inline uint64_t load_le64(const unsigned char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

static inline void store_le64(unsigned char *p, uint64_t x)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    memcpy(p, &x, 8);
}

/*
 * Classify the 64 bytes at q: on success, bit i of *word is set when byte i
 * is an ASCII letter or digit and fold[i] holds the byte lowercased. Fails
 * when a byte is NUL or not ASCII, which the byte-wise loop handles.
 */
static bool ascii_block(const unsigned char *q, uint64_t *word,
                        unsigned char *fold)
{
    uint64_t w = 0;
    for (unsigned j = 0; j < 8; j++) {
        uint64_t x = load_le64(q + (size_t)8 * j);
        if ((x & SWAR_HIGH) | (SWAR_GE(x, 1) ^ SWAR_HIGH))
            return false;
        uint64_t up = SWAR_GE(x, 'A') & ~SWAR_GE(x, 'Z' + 1);
        uint64_t lo = SWAR_GE(x, 'a') & ~SWAR_GE(x, 'z' + 1);
        uint64_t dg = SWAR_GE(x, '0') & ~SWAR_GE(x, '9' + 1);
        store_le64(fold + (size_t)8 * j, x | up >> 2);
        /* Gather the high bit of byte i into bit i. */
        uint64_t m = ((up | lo | dg) >> 7) * 0x0102040810204080ULL >> 56;
        w |= m << (8 * j);
    }
    *word = w;
    return true;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_BLOCK_AVX512 1

/* ascii_block() on one 64-byte vector (AVX-512BW byte compares into mask
 * registers): the same word mask and folded bytes. */
__attribute__((target("avx512f,avx512bw"))) static bool
ascii_block_avx512(const unsigned char *q, uint64_t *word, unsigned char *fold)
{
    const __m512i x = _mm512_loadu_si512(q);
    /* A byte with the high bit set, or NUL: the byte-wise loop's. */
    if (_mm512_movepi8_mask(x) | _mm512_testn_epi8_mask(x, x))
        return false;
    __mmask64 up = _mm512_cmple_epu8_mask(
        _mm512_sub_epi8(x, _mm512_set1_epi8('A')), _mm512_set1_epi8(25));
    __mmask64 lo = _mm512_cmple_epu8_mask(
        _mm512_sub_epi8(x, _mm512_set1_epi8('a')), _mm512_set1_epi8(25));
    __mmask64 dg = _mm512_cmple_epu8_mask(
        _mm512_sub_epi8(x, _mm512_set1_epi8('0')), _mm512_set1_epi8(9));
    _mm512_storeu_si512(fold,
                        _mm512_mask_blend_epi8(
                            up, x, _mm512_or_si512(x, _mm512_set1_epi8(0x20))));
    *word = (uint64_t)(up | lo | dg);
    return true;
}
#endif

/* wn__text_avx512: decided once, atomically (every thread that decides
 * stores the same value). 0 undecided, 1 no, 2 yes. */
static _Atomic int block_simd;

bool wn__text_avx512(void)
{
    int v = atomic_load_explicit(&block_simd, memory_order_relaxed);
    if (v == 0) {
        const char *no = getenv("WINNOW_NO_SIMD");
        bool simd = !(no && *no && strcmp(no, "0") != 0);
#ifdef HAVE_BLOCK_AVX512
        __builtin_cpu_init();
        simd = simd && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw");
#else
        simd = false;
#endif
        v = simd ? 2 : 1;
        atomic_store_explicit(&block_simd, v, memory_order_relaxed);
    }
    return v == 2;
}

/* ascii_block() or its AVX-512 twin, as chosen for the run. */
static inline bool classify_block(const struct tk *k, const unsigned char *q,
                                  uint64_t *word, unsigned char *fold)
{
#ifdef HAVE_BLOCK_AVX512
    if (k->simd)
        return ascii_block_avx512(q, word, fold);
#else
    (void)k;
#endif
    return ascii_block(q, word, fold);
}

/* Copy n bytes, possibly writing up to COPY_SLACK - 1 bytes more. */
static inline void copy_short(char *dst, const unsigned char *src, size_t n)
{
    /* The first 16 bytes apart: the compiler turned the whole loop into a
     * call of memcpy, a call per token for words that nearly all fit in
     * one 16-byte copy. */
    memcpy(dst, src, 16);
    for (size_t i = 16; i < n; i += 16)
        memcpy(dst + i, src + i, 16);
}

/*
 * Tokenize ASCII from p on, in chunks of at most ASCII_CHUNK bytes whose
 * worst case (every byte a token in char mode, every other byte in word
 * mode) is reserved up front, so that the loop itself checks no capacity.
 * Stops before the first byte that is not ASCII, and before an ASCII byte
 * that the following code point may combine with; returns where it stopped
 * (p itself if at once) and sets *rc on failure.
 */
static const unsigned char *ascii_chunk(struct tk *k, const unsigned char *s,
                                        const unsigned char *p,
                                        const unsigned char *end, int *rc)
{
    struct wn_tokens *t = k->t;
    bool words = k->mode == WN_TOKENS_WORD;
    size_t chunk = WN_MIN((size_t)(end - p), (size_t)ASCII_CHUNK);
    size_t max_tokens = words ? chunk / 2 + 2 : chunk + 1;
    if (t->cap - t->n < max_tokens &&
        WN_GROW(t->tok, t->cap, t->n + max_tokens)) {
        *rc = WN_ENOMEM;
        return p;
    }
    if ((*rc =
             norm_reserve(t, (words ? chunk + 2 : 2 * chunk + 2) + COPY_SLACK)))
        return p;

    const unsigned char *q = p, *lim = p + chunk;
    char *norm = t->norm;
    struct wn_token *w = t->tok + t->n;
    size_t o = t->norm_len;
    int open = k->open;
    size_t start = k->start, src_off = k->src_off, src_end = k->src_end;
    /* No 64-byte block is tried before this point. */
    const unsigned char *block_from = p;
    /* Two blocks' folded bytes: the next block is classified before this
     * one's tokens are copied, so that its stores have retired when its
     * own tokens are loaded from it (16-byte loads from a 64-byte vector
     * just stored: 4% less tokenizer time, bench_news_sketch). */
    unsigned char folds[2][64 + COPY_SLACK];
    const unsigned char *ahead_q = NULL; /* the block classified ahead */
    bool ahead_ok = false;
    uint64_t ahead_wm = 0;
    unsigned ahead_buf = 0;

#define CLOSE_TOKEN()                                                          \
    do {                                                                       \
        w->norm_off = (uint32_t)start;                                         \
        w->norm_len = (uint32_t)(o - start);                                   \
        w->src_off = (uint32_t)src_off;                                        \
        w->src_len = (uint32_t)(src_end - src_off);                            \
        w++;                                                                   \
        norm[o++] = '\0';                                                      \
        open = TK_NONE;                                                        \
    } while (0)

    while (q < lim) {
        /* A block is taken whole only if the byte after it is ASCII too:
         * a combining mark could join its last byte. */
        uint64_t wm;
        if (words && q >= block_from && lim - q >= 64 &&
            (q + 64 == end || q[64] < 0x80)) {
            bool ok;
            const unsigned char *fold;
            if (q == ahead_q) {
                ok = ahead_ok;
                wm = ahead_wm;
                fold = folds[ahead_buf];
            } else {
                ahead_buf ^= 1;
                ok = classify_block(k, q, &wm, folds[ahead_buf]);
                fold = folds[ahead_buf];
            }
            ahead_q = NULL;
            if (!ok) {
                block_from = q + 64;
                goto bytewise;
            }
            /* The next block, under the test above, into the other
             * buffer. */
            const unsigned char *nq = q + 64;
            if (lim - nq >= 64 && (nq + 64 == end || nq[64] < 0x80)) {
                ahead_buf ^= 1;
                ahead_ok = classify_block(k, nq, &ahead_wm, folds[ahead_buf]);
                ahead_q = nq;
            }
            size_t base = (size_t)(q - s);
            if (open == TK_CLUSTER)
                CLOSE_TOKEN();
            if (open == TK_WORD) {
                if (!~wm) {
                    copy_short(norm + o, fold, 64);
                    o += 64;
                    src_end = base + 64;
                    q += 64;
                    continue;
                }
                unsigned e = (unsigned)__builtin_ctzll(~wm);
                copy_short(norm + o, fold, e);
                o += e;
                src_end = base + e; /* unchanged when e == 0 */
                CLOSE_TOKEN();
                wm &= ~0ULL << e;
            }
            while (wm) {
                unsigned b = (unsigned)__builtin_ctzll(wm);
                uint64_t seps = ~wm & (~0ULL << b);
                start = o;
                src_off = base + b;
                if (!seps) {
                    /* The last word may go on in the next block. */
                    copy_short(norm + o, fold + b, 64 - b);
                    o += 64 - b;
                    src_end = base + 64;
                    open = TK_WORD;
                    break;
                }
                unsigned e = (unsigned)__builtin_ctzll(seps);
                copy_short(norm + o, fold + b, e - b);
                o += e - b;
                src_end = base + e;
                CLOSE_TOKEN();
                wm &= ~0ULL << e;
            }
            q += 64;
            continue;
        }
    bytewise:;
        unsigned c = *q;
        unsigned char lc = ascii_fold[c];
        if (lc && words) {
            if (open != TK_WORD) {
                if (open)
                    CLOSE_TOKEN();
                open = TK_WORD;
                start = o;
                src_off = (size_t)(q - s);
            }
            const unsigned char *r = q;
            do {
                norm[o++] = (char)lc;
                r++;
            } while (r < lim && (lc = ascii_fold[*r]));
            if (r < end && *r >= 0x80) {
                /* The last letter may take a following combining mark. */
                r--;
                o--;
                if (o == start)
                    open = TK_NONE;
                else
                    src_end = (size_t)(r - s);
                q = r;
                break;
            }
            src_end = (size_t)(r - s);
            q = r;
            continue;
        }
        if (c >= 0x80 || (c && q + 1 < end && q[1] >= 0x80))
            break;
        if (open)
            CLOSE_TOKEN();
        if (lc) {
            /* Char mode: one token per letter or digit. */
            start = o;
            src_off = (size_t)(q - s);
            src_end = src_off + 1;
            norm[o++] = (char)lc;
            CLOSE_TOKEN();
        } else if (!c) {
            t->invalid_utf8++;
        }
        q++;
    }
#undef CLOSE_TOKEN

    assert(o < t->norm_cap && (size_t)(w - t->tok) <= t->cap);
    t->n = (size_t)(w - t->tok);
    t->norm_len = o;
    k->open = open;
    k->start = start;
    k->src_off = src_off;
    k->src_end = src_end;
    return q;
}

static int tokenize(struct tk *k, const unsigned char *s, size_t len, bool fast)
{
    const unsigned char *p = s, *end = s + len;
    /* The boundary that ended the previous segment, decoded already. */
    const unsigned char *next = NULL;
    int32_t next_cp = 0;
    size_t next_n = 0;
    unsigned next_cls = 0;
    int rc = WN_OK;
    while (p < end) {
        if (fast && *p < 0x80) {
            const unsigned char *q = ascii_chunk(k, s, p, end, &rc);
            if (rc)
                return rc;
            if (q > p) {
                p = q;
                continue;
            }
        }

        size_t n;
        int32_t cp;
        unsigned cls;
        if (p == next) {
            cp = next_cp;
            n = next_n;
            cls = next_cls;
        } else {
            cp = utf8_decode(p, end, &n);
            if (cp < 0) {
                k->t->invalid_utf8++;
                if ((rc = tk_close(k)))
                    return rc;
                p += n;
                continue;
            }
            cls = wn__cp_class(cp);
        }
        size_t lo = (size_t)(p - s);
        unsigned count = 1;
        p += n;
        /* Every ASCII byte, NUL included, is a boundary. */
        while (p < end && *p >= 0x80 && count < SEG_MAX) {
            size_t n2;
            int32_t c2 = utf8_decode(p, end, &n2);
            if (c2 < 0)
                break;
            unsigned cls2 = wn__cp_class(c2);
            if (cls2 & WN__CP_BOUNDARY) {
                next = p;
                next_cp = c2;
                next_n = n2;
                next_cls = cls2;
                break;
            }
            p += n2;
            count++;
        }
        size_t hi = (size_t)(p - s);
        if (fast && count == 1 && (cls & WN__CP_STABLE)) {
            /* Copied as it is; tk_feed reads 4 bytes. */
            unsigned char last[4] = {0};
            const unsigned char *b = s + lo;
            if (len - lo < 4) {
                memcpy(last, b, n);
                b = last;
            }
            rc = tk_feed(k, b, n, cls, lo, hi);
        } else if (fast && count == 1 && cp < 0x80) {
            /* An uppercase ASCII letter before a non-ASCII boundary. */
            unsigned char lc[4] = {ascii_fold[cp]};
            assert(lc[0]);
            rc = tk_feed(k, lc, 1, WN__CP_WORD, lo, hi);
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
    struct tk k = {.t = t,
                   .mode = mode,
                   .simd =
                       !(flags & WN__TOKENIZE_NO_SIMD) && wn__text_avx512()};
    int rc = tokenize(&k, (const unsigned char *)text, len,
                      !(flags & WN__TOKENIZE_NO_FASTPATH));
    /* The shingles read every token of at most 16 bytes as two 8-byte
     * words when they lie inside norm_cap (shingle.c, token_hash), and
     * hash it otherwise with XXH3, another value: without this room a
     * text's last tokens hashed by its buffer's capacity, so by what the
     * buffer had held before (a fresh one gave "本" another hash). */
    if (!rc)
        rc = norm_reserve(t, TAIL_SLACK);
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

/*
 * A cut is safe at c when the tokenizer's state there is the one it starts
 * with: no token open, no segment (normalization run) crossing c, no
 * ill-formed sequence crossing c. Two kinds of point have it:
 *  - after an ASCII byte that is not a letter or digit (it closes any open
 *    token and is a segment of its own) and before an ASCII byte (always a
 *    boundary, never a mark: nothing composes across it);
 *  - before a code point that is a normalization boundary, maps to itself
 *    (WN__CP_STABLE, so the class tk_feed sees is its own) and is a word
 *    character of a script without spaces that is not a mark: in either
 *    mode it closes the token before it and opens its own, and a boundary
 *    starts a segment. This keeps Chinese or Japanese text without ASCII
 *    cuttable.
 * A maximal ill-formed subpart never takes an ASCII byte or a lead byte, so
 * none crosses either kind of point.
 */
size_t wn__tokenize_cut(const char *text, size_t len, size_t from)
{
    const unsigned char *s = (const unsigned char *)text;
    assert(from <= len);
    for (size_t c = WN_MAX(from, (size_t)1); c < len; c++) {
        unsigned b = s[c];
        if (b < 0x80) {
            if (s[c - 1] < 0x80 && !ascii_fold[s[c - 1]])
                return c;
            continue;
        }
        if (b < 0xC2 || b > 0xF4)
            continue; /* a continuation byte or not a lead byte */
        size_t n;
        int32_t cp = utf8_decode(s + c, s + len, &n);
        if (cp < 0)
            continue;
        unsigned cls = wn__cp_class(cp);
        const unsigned want =
            WN__CP_BOUNDARY | WN__CP_STABLE | WN__CP_WORD | WN__CP_NOSPACE;
        if ((cls & (want | WN__CP_MARK)) == want)
            return c;
        c += n - 1;
    }
    return len;
}
