/*
 * figures.c - figures of a record and their agreement (see figures.h for the
 * definitions). One pass over the raw bytes; a figure's canonical spelling
 * is built in a small buffer and hashed; the bottom-k of the distinct hashes
 * is kept by insertion into a sorted array of WN_FIG_MAX entries.
 *
 * lib/text does not use xxHash (lib/sketch is its only user), so figures
 * are hashed with FNV-1a 64 followed by the splitmix64 finalizer, which is
 * enough to spread short ASCII strings over 32 bits.
 */
#include "text/figures.h"
#include "text/text.h"

#include <assert.h>
#include <stdio.h>

/* The longest canonical figure hashed; longer ones are cut (and counted). */
#define FIG_BUF 48

static uint32_t fig_hash(const char *s, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001B3ULL;
    }
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 31;
    return (uint32_t)(h >> 32);
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* ASCII letters and every non-ASCII byte make words. */
static bool is_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static bool word_is(const char *w, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i]; i++)
        if (lower((unsigned char)w[i]) != (unsigned char)lit[i])
            return false;
    return i == n && lit[i] == '\0';
}

/* 1-12 for an English month name or abbreviation, else 0. */
static int month_of(const char *w, size_t n)
{
    static const char *const names[] = {
        "jan", "january", "feb", "february", "mar", "march",
        "apr", "april",   "may", "may",      "jun", "june",
        "jul", "july",    "aug", "august",   "sep", "september",
        "oct", "october", "nov", "november", "dec", "december"};
    /* Most words are not months: reject by length and first letter before
     * comparing (this keeps the scan near memory speed). */
    if (n < 3 || n > 9)
        return 0;
    unsigned char c = lower((unsigned char)w[0]);
    if (c != 'j' && c != 'f' && c != 'm' && c != 'a' && c != 's' && c != 'o' &&
        c != 'n' && c != 'd')
        return 0;
    for (size_t i = 0; i < WN_ARRAY_LEN(names); i++)
        if ((unsigned char)names[i][0] == c && word_is(w, n, names[i]))
            return (int)(i / 2) + 1;
    if (word_is(w, n, "sept"))
        return 9;
    return 0;
}

/* 1-12 for a number word one-twelve, else 0. */
static int numword_of(const char *w, size_t n)
{
    static const char *const names[] = {"one",  "two", "three",  "four",
                                        "five", "six", "seven",  "eight",
                                        "nine", "ten", "eleven", "twelve"};
    for (size_t i = 0; i < WN_ARRAY_LEN(names); i++)
        if (word_is(w, n, names[i]))
            return (int)i + 1;
    return 0;
}

/* Length of the number starting at s[0] (a digit), per figures.h. */
static size_t number_len(const unsigned char *s, size_t len)
{
    size_t j = 0;
    while (j < len && is_digit(s[j]))
        j++;
    for (;;) {
        if (j + 1 < len &&
            (s[j] == '.' || s[j] == ',' || s[j] == '/' || s[j] == ':') &&
            is_digit(s[j + 1])) {
            j++;
            while (j < len && is_digit(s[j]))
                j++;
            continue;
        }
        break;
    }
    /* An optional fraction tail: -N/N. */
    if (j + 1 < len && s[j] == '-' && is_digit(s[j + 1])) {
        size_t k = j + 1;
        while (k < len && is_digit(s[k]))
            k++;
        if (k + 1 < len && s[k] == '/' && is_digit(s[k + 1])) {
            k++;
            while (k < len && is_digit(s[k]))
                k++;
            j = k;
        }
    }
    return j;
}

/* The canonical spelling of the number s[0..n) into buf; its length. */
static size_t canon_number(const unsigned char *s, size_t n, char *buf)
{
    size_t m = 0;
    unsigned dots = 0;
    bool other = false;
    for (size_t i = 0; i < n && m < FIG_BUF; i++) {
        if (s[i] == ',') {
            /* A thousands separator: exactly three digits follow. */
            size_t d = 0;
            while (i + 1 + d < n && is_digit(s[i + 1 + d]))
                d++;
            if (d == 3)
                continue;
        }
        if (s[i] == '.')
            dots++;
        else if (!is_digit(s[i]))
            other = true;
        buf[m++] = (char)s[i];
    }
    if (dots == 1 && !other) {
        while (m > 0 && buf[m - 1] == '0')
            m--;
        if (m > 0 && buf[m - 1] == '.')
            m--;
    }
    size_t z = 0;
    while (z < m && buf[z] == '0')
        z++;
    if (z == m) {
        buf[0] = '0';
        return 1;
    }
    memmove(buf, buf + z, m - z);
    return m - z;
}

/* Insert h into the sorted bottom-k sample unless present or too large. */
static void add_hash(struct wn_figures *f, uint32_t h)
{
    unsigned n = f->n;
    if (n == WN_FIG_MAX && h > f->h[n - 1])
        return; /* the common case late in a long record */
    unsigned i = 0;
    while (i < n && f->h[i] < h)
        i++;
    if (i < n && f->h[i] == h)
        return;
    if (i == WN_FIG_MAX)
        return; /* above the k smallest kept */
    unsigned last = n < WN_FIG_MAX ? n : WN_FIG_MAX - 1;
    memmove(f->h + i + 1, f->h + i, (last - i) * sizeof(f->h[0]));
    f->h[i] = h;
    if (n < WN_FIG_MAX)
        f->n = (uint16_t)(n + 1);
}

static void add_figure(struct wn_figures *f, const char *s, size_t n)
{
    add_hash(f, fig_hash(s, n));
}

/* Digits at s[0..max) as a number, or -1 if there are none. */
static int digits_at(const unsigned char *s, size_t len, size_t at, size_t max,
                     size_t *used)
{
    size_t k = 0;
    int v = 0;
    while (at + k < len && k < max && is_digit(s[at + k])) {
        v = v * 10 + (s[at + k] - '0');
        k++;
    }
    *used = k;
    return k > 0 ? v : -1;
}

/*
 * An ISO date YYYY-MM-DD at s[0] (a digit that no digit precedes): the year
 * and the date figure, as "July 31, 2017" gives. Returns the bytes read, 0
 * if there is no such date there.
 */
static size_t iso_date(const unsigned char *s, size_t len, struct wn_figures *f)
{
    size_t ny, nm, nd;
    int y = digits_at(s, len, 0, 5, &ny);
    if (y < 0 || ny != 4 || len < 5 || s[4] != '-')
        return 0;
    int m = digits_at(s, len, 5, 3, &nm);
    if (m < 1 || m > 12 || nm > 2 || 5 + nm >= len || s[5 + nm] != '-')
        return 0;
    size_t at = 6 + nm;
    int d = digits_at(s, len, at, 3, &nd);
    if (d < 1 || d > 31 || nd > 2)
        return 0;
    char buf[16];
    add_figure(f, (const char *)s, 4);
    int k = snprintf(buf, sizeof(buf), "d%d.%d", m, d);
    add_figure(f, buf, (size_t)k);
    return at + nd;
}

/* The distinct count from the kept sample. */
static void set_count(struct wn_figures *f)
{
    if (f->n < WN_FIG_MAX) {
        f->count = f->n;
    } else {
        /* The k-minimum-values estimate of the distinct count, (k-1)/h_k
         * with h_k as a fraction of 2^32, never below k. */
        double est = (double)(WN_FIG_MAX - 1) * 4294967296.0 /
                     ((double)f->h[WN_FIG_MAX - 1] + 1.0);
        if (est < WN_FIG_MAX)
            est = WN_FIG_MAX;
        f->count = est > 65535.0 ? 65535 : (uint16_t)est;
    }
}

/*
 * The reference extractor: a plain byte loop that states the definition of
 * figures.h; the fast one below must give the same fingerprint for every
 * input (tests/test_figures.c compares them over the shared corpora).
 */
void wn__figures_extract_ref(const char *text, size_t len,
                             struct wn_figures *out)
{
    assert(out != NULL && (text != NULL || len == 0));
    struct wn_figures f;
    memset(&f, 0, sizeof(f));
    const unsigned char *s = (const unsigned char *)text;
    int month = 0; /* a month word was the previous token */
    char buf[FIG_BUF + 16];
    size_t i = 0;
    while (i < len) {
        if (is_letter(s[i])) {
            size_t j = i;
            while (j < len && is_letter(s[j]))
                j++;
            int day = month ? numword_of(text + i, j - i) : 0;
            if (day) {
                int m = snprintf(buf, sizeof(buf), "d%d.%d", month, day);
                add_figure(&f, buf, (size_t)m);
                month = 0;
            } else {
                month = month_of(text + i, j - i);
            }
            i = j;
        } else if (is_digit(s[i])) {
            size_t iso = iso_date(s + i, len - i, &f);
            if (iso > 0) {
                month = 0;
                i += iso;
                continue;
            }
            size_t n = number_len(s + i, len - i);
            bool plain = true;
            unsigned v = 0;
            for (size_t k = 0; k < n; k++) {
                if (!is_digit(s[i + k])) {
                    plain = false;
                    break;
                }
                v = v * 10 + (unsigned)(s[i + k] - '0');
                if (v > 31)
                    plain = false;
            }
            if (month && plain && v >= 1 && v <= 31) {
                int m = snprintf(buf, sizeof(buf), "d%d.%u", month, v);
                add_figure(&f, buf, (size_t)m);
            } else {
                size_t m = canon_number(s + i, n, buf);
                add_figure(&f, buf, m);
            }
            month = 0;
            i += n;
        } else {
            i++;
        }
    }
    set_count(&f);
    *out = f;
}

/* ------------------------------------------------------------------------ */
/* The fast extractor                                                        */
/* ------------------------------------------------------------------------ */

/*
 * The reference spends its time deciding, byte by byte, where words end and
 * whether each word is a month. The fast one classifies 64 bytes at a time
 * (fig_masks) and visits only the starts of digit runs and of the few words
 * that may be number words; the month before either is found by looking
 * back (month_before), so no state is carried from word to word. Numbers go
 * through the same functions as in the reference.
 */

/* The date figure "d<month>.<day>", as the reference's snprintf spells it. */
static void add_date(struct wn_figures *f, unsigned month, unsigned day)
{
    assert(month >= 1 && month <= 12 && day >= 1 && day <= 31);
    char buf[8];
    size_t m = 0;
    buf[m++] = 'd';
    if (month >= 10)
        buf[m++] = (char)('0' + month / 10);
    buf[m++] = (char)('0' + month % 10);
    buf[m++] = '.';
    if (day >= 10)
        buf[m++] = (char)('0' + day / 10);
    buf[m++] = (char)('0' + day % 10);
    add_figure(f, buf, m);
}

/*
 * The classes of 80 bytes: bit k of l / d: p[k] is a letter / an ASCII
 * digit; of each letter's mask: p[k] lowercased is that letter, for the
 * 15 letters that begin the number words "one" to "twelve" (o n e, t w o,
 * t h r, f o u, f i v, s i x, s e v, e i g, n i n, t e n, e l e, t w e).
 * Index 0 holds bytes 0-63, index 1 bytes 64-79 (the look-ahead of the
 * last words of the block). Byte | 0x20 lowercases letters and maps no
 * other byte to a lowercase letter.
 */
enum {
    FL_O,
    FL_N,
    FL_E,
    FL_T,
    FL_W,
    FL_H,
    FL_R,
    FL_F,
    FL_U,
    FL_I,
    FL_V,
    FL_S,
    FL_X,
    FL_G,
    FL_L,
    FL_COUNT
};
static const char fig_letters[FL_COUNT + 1] = "onetwhrfuivsxgl";

struct fig_masks {
    uint64_t l[2], d[2];
    uint64_t c[FL_COUNT][2];
};

/* What the scan needs of a block: its letters (80 bits), its digits and
 * the positions where the first three letters of a number word start
 * (bytes 0-63). */
struct fig_block {
    uint64_t l[2], d, w;
};

static void masks_ref(const unsigned char *p, struct fig_masks *m)
{
    memset(m, 0, sizeof(*m));
    for (unsigned k = 0; k < 80; k++) {
        unsigned w = k >> 6, b = k & 63;
        unsigned char c = p[k], lc = (unsigned char)(c | 0x20);
        m->l[w] |= (uint64_t)is_letter(c) << b;
        m->d[w] |= (uint64_t)is_digit(c) << b;
        for (unsigned x = 0; x < FL_COUNT; x++)
            m->c[x][w] |= (uint64_t)(lc == (unsigned char)fig_letters[x]) << b;
    }
}

#if defined(__SSE2__)
#include <emmintrin.h>

#define BITS(v) ((uint64_t)(unsigned)_mm_movemask_epi8(v))

/* The masks of p[0..16) into bits sh.. of m's words w. SSE2 is part of
 * the x86-64 baseline: no run-time dispatch. An unsigned x - lo <= n is
 * min(x - lo, n) == x - lo. */
static inline void chunk_sse2(const unsigned char *p, struct fig_masks *m,
                              unsigned w, unsigned sh)
{
    const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    const __m128i lc = _mm_or_si128(x, _mm_set1_epi8(0x20));
    const __m128i y = _mm_sub_epi8(lc, _mm_set1_epi8('a'));
    const __m128i z = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i az = _mm_cmpeq_epi8(_mm_min_epu8(y, _mm_set1_epi8(25)), y);
    __m128i dg = _mm_cmpeq_epi8(_mm_min_epu8(z, _mm_set1_epi8(9)), z);
    m->l[w] |= (BITS(az) | BITS(x)) << sh;
    m->d[w] |= BITS(dg) << sh;
    for (unsigned c = 0; c < FL_COUNT; c++)
        m->c[c][w] |= BITS(_mm_cmpeq_epi8(lc, _mm_set1_epi8(fig_letters[c])))
                      << sh;
}

static void masks_sse2(const unsigned char *p, struct fig_masks *m)
{
    memset(m, 0, sizeof(*m));
    chunk_sse2(p, m, 0, 0);
    chunk_sse2(p + 16, m, 0, 16);
    chunk_sse2(p + 32, m, 0, 32);
    chunk_sse2(p + 48, m, 0, 48);
    chunk_sse2(p + 64, m, 1, 0);
}
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_MASKS_AVX512 1

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw")))

/* The letters (ASCII letters and every byte >= 0x80) among the 64 bytes
 * x. */
AVX512_TARGET static inline uint64_t letters_avx512(__m512i x)
{
    const __m512i lc = _mm512_or_si512(x, _mm512_set1_epi8(0x20));
    return _mm512_cmple_epu8_mask(_mm512_sub_epi8(lc, _mm512_set1_epi8('a')),
                                  _mm512_set1_epi8(25)) |
           _mm512_movepi8_mask(x);
}

#define EQ512(v, c) _mm512_cmpeq_epi8_mask((v), _mm512_set1_epi8(c))

/* The classes of the block at p (80 bytes) straight into mask registers:
 * the three letters of the trigrams compared at p, p + 1 and p + 2 (the
 * loads stay within the 80 bytes), no letter mask stored. */
AVX512_TARGET static void block_avx512(const unsigned char *p,
                                       struct fig_block *b)
{
    const __m512i or20 = _mm512_set1_epi8(0x20);
    __m512i x0 = _mm512_loadu_si512(p);
    __m512i c0 = _mm512_or_si512(x0, or20);
    __m512i c1 = _mm512_or_si512(_mm512_loadu_si512(p + 1), or20);
    __m512i c2 = _mm512_or_si512(_mm512_loadu_si512(p + 2), or20);
    b->l[0] = letters_avx512(x0);
    /* Bytes 64-79 only: the look-ahead of the last words. */
    b->l[1] = letters_avx512(_mm512_maskz_loadu_epi8(0xFFFFULL, p + 64));
    b->d = _mm512_cmple_epu8_mask(_mm512_sub_epi8(x0, _mm512_set1_epi8('0')),
                                  _mm512_set1_epi8(9));
    __mmask64 e1 = EQ512(c1, 'e'), e2 = EQ512(c2, 'e');
    __mmask64 i1 = EQ512(c1, 'i'), n2 = EQ512(c2, 'n');
    __mmask64 o1 = EQ512(c1, 'o'), v2 = EQ512(c2, 'v');
    __mmask64 t = (EQ512(c1, 'w') & (EQ512(c2, 'o') | e2)) |
                  (EQ512(c1, 'h') & EQ512(c2, 'r')) | (e1 & n2);
    __mmask64 w = EQ512(c0, 'o') & EQ512(c1, 'n') & e2;
    w |= EQ512(c0, 't') & t;
    w |= EQ512(c0, 'f') & ((o1 & EQ512(c2, 'u')) | (i1 & v2));
    w |= EQ512(c0, 's') & ((i1 & EQ512(c2, 'x')) | (e1 & v2));
    w |= EQ512(c0, 'e') & ((i1 & EQ512(c2, 'g')) | (EQ512(c1, 'l') & e2));
    w |= EQ512(c0, 'n') & i1 & n2;
    b->w = w;
}
#undef EQ512
#endif

/* Bits r.. of the 80-bit mask v, from bit 0 (1 <= r <= 16). */
static inline uint64_t from(const uint64_t v[2], unsigned r)
{
    return (v[0] >> r) | (v[1] << (64 - r));
}

/*
 * The positions whose first three letters are those of a number word
 * (one to twelve; "ele" and "twe" cover eleven and twelve), from the
 * letter masks: a word there is worth comparing with numword_fast().
 */
static inline uint64_t numword_starts(const struct fig_masks *m)
{
#define AT0(x) (m->c[FL_##x][0])
#define AT1(x) from(m->c[FL_##x], 1)
#define AT2(x) from(m->c[FL_##x], 2)
    uint64_t t = AT1(W) & (AT2(O) | AT2(E));
    t |= (AT1(H) & AT2(R)) | (AT1(E) & AT2(N));
    uint64_t v = AT0(O) & AT1(N) & AT2(E);
    v |= AT0(T) & t;
    v |= AT0(F) & ((AT1(O) & AT2(U)) | (AT1(I) & AT2(V)));
    v |= AT0(S) & ((AT1(I) & AT2(X)) | (AT1(E) & AT2(V)));
    v |= AT0(E) & ((AT1(I) & AT2(G)) | (AT1(L) & AT2(E)));
    v |= AT0(N) & AT1(I) & AT2(N);
#undef AT0
#undef AT1
#undef AT2
    return v;
}

/* The block at p from the masks of a mask variant. */
static void block_of_masks(const struct fig_masks *m, struct fig_block *b)
{
    b->l[0] = m->l[0];
    b->l[1] = m->l[1];
    b->d = m->d[0];
    b->w = numword_starts(m);
}

/* numword_of() for a word of 3 to 6 letters, by one comparison of the
 * word's lowercased bytes (as a little-endian integer) with each number. */
static int numword_fast(const unsigned char *w, size_t n)
{
#define W3(a, b, c)          ((uint64_t)(a) | (uint64_t)(b) << 8 | (uint64_t)(c) << 16)
#define W6(a, b, c, d, e, f) (W3(a, b, c) | W3(d, e, f) << 24)
    static const uint64_t words[12] = {W3('o', 'n', 'e'),
                                       W3('t', 'w', 'o'),
                                       W6('t', 'h', 'r', 'e', 'e', 0),
                                       W6('f', 'o', 'u', 'r', 0, 0),
                                       W6('f', 'i', 'v', 'e', 0, 0),
                                       W3('s', 'i', 'x'),
                                       W6('s', 'e', 'v', 'e', 'n', 0),
                                       W6('e', 'i', 'g', 'h', 't', 0),
                                       W6('n', 'i', 'n', 'e', 0, 0),
                                       W3('t', 'e', 'n'),
                                       W6('e', 'l', 'e', 'v', 'e', 'n'),
                                       W6('t', 'w', 'e', 'l', 'v', 'e')};
#undef W3
#undef W6
    assert(n >= 3 && n <= 6);
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++)
        v |= (uint64_t)lower(w[k]) << (8 * k);
    for (int d = 0; d < 12; d++)
        if (v == words[d])
            return d + 1;
    return 0;
}

/*
 * What the reference keeps in `month` when it reaches the token at p: the
 * month of the last word if the last token was a word, else 0 (a number or
 * a date resets it, and a number word that made a date is not a month).
 * Found by looking back over the bytes that are neither letters nor digits.
 */
static int month_before(const unsigned char *s, size_t p)
{
    size_t q = p;
    while (q > 0 && !is_letter(s[q - 1]) && !is_digit(s[q - 1]))
        q--;
    if (q == 0 || !is_letter(s[q - 1]))
        return 0;
    size_t b = q;
    while (b > 0 && q - b < 10 && is_letter(s[b - 1]))
        b--;
    return q - b < 10 ? month_of((const char *)s + b, q - b) : 0;
}

/*
 * The common number: a run of digits that no separator of number_len()
 * follows (so it is no ISO date either), within the block's 64 bytes. Its
 * canonical spelling is its digits without leading zeros (canon_number()
 * with no dot, comma or other byte), hashed in place; a value 1-31 after a
 * month is a date, as in the reference. Returns false, having done
 * nothing, for any other number.
 */
static bool is_plain_run(const unsigned char *blk, unsigned k, uint64_t D,
                         size_t *i, size_t p, struct wn_figures *f,
                         const unsigned char *s)
{
    uint64_t rest = ~(D >> k);
    if (rest == 0)
        return false;
    unsigned rl = (unsigned)__builtin_ctzll(rest);
    /* canon_number() cuts at FIG_BUF bytes: leave long runs to it. */
    if (k + rl >= 64 || rl > FIG_BUF)
        return false;
    unsigned char c = blk[k + rl];
    if (c == '.' || c == ',' || c == '/' || c == ':' || c == '-')
        return false;
    const unsigned char *d = blk + k;
    unsigned v = 0;
    unsigned z = 0;
    while (z < rl && d[z] == '0')
        z++;
    if (rl - z <= 2) {
        for (unsigned q = z; q < rl; q++)
            v = v * 10 + (unsigned)(d[q] - '0');
    }
    int month = v >= 1 && v <= 31 ? month_before(s, p) : 0;
    if (month)
        add_date(f, (unsigned)month, v);
    else if (z == rl)
        add_figure(f, "0", 1);
    else
        add_figure(f, (const char *)d + z, rl - z);
    *i = p + rl;
    return true;
}

static void extract_fast(const char *text, size_t len, struct wn_figures *out,
                         int variant)
{
    assert(out != NULL && (text != NULL || len == 0));
    struct wn_figures f;
    memset(&f, 0, sizeof(f));
    const unsigned char *s = (const unsigned char *)text;
    unsigned char pad[128]; /* the last blocks, padded with zeros */
    size_t i = 0;           /* the first byte not yet consumed */
    for (size_t base = 0; base < len;) {
        const unsigned char *blk = s + base;
        if (len - base < 96) {
            memset(pad, 0, sizeof(pad));
            memcpy(pad, blk, len - base);
            blk = pad;
        }
        struct fig_block m;
        struct fig_masks mm;
        switch (variant) {
#if defined(__SSE2__)
        case WN_FIG_MASKS_SSE2:
            masks_sse2(blk, &mm);
            block_of_masks(&mm, &m);
            break;
#endif
#ifdef HAVE_MASKS_AVX512
        case WN_FIG_MASKS_AVX512:
            block_avx512(blk, &m);
            break;
#endif
        default:
            masks_ref(blk, &mm);
            block_of_masks(&mm, &m);
        }
        uint64_t L = m.l[0], D = m.d;
        uint64_t pl = base > 0 && is_letter(s[base - 1]);
        uint64_t pd = base > 0 && is_digit(s[base - 1]);
        /* Words that may be number words: the first three letters of one,
         * 3 to 6 letters. Every other word matters only as the month
         * before a figure, which month_before() finds. */
        uint64_t words =
            L & ~((L << 1) | pl) & m.w &
            ~(from(m.l, 3) & from(m.l, 4) & from(m.l, 5) & from(m.l, 6));
        uint64_t ev = words | (D & ~((D << 1) | pd));
        if (i > base)
            ev &= ~0ULL << (i - base);
        while (ev) {
            unsigned k = (unsigned)__builtin_ctzll(ev);
            size_t p = base + k;
            if ((L >> k) & 1) {
                /* 3 to 6 letters, all within blk's 80 bytes. */
                size_t wl = 3;
                while (wl < 6 && is_letter(blk[k + wl]))
                    wl++;
                int day = numword_fast(s + p, wl);
                int month = day ? month_before(s, p) : 0;
                if (month)
                    add_date(&f, (unsigned)month, (unsigned)day);
                i = p + wl;
            } else if (is_plain_run(blk, k, D, &i, p, &f, s)) {
                /* done: a run of digits alone */
            } else {
                /* iso_date() needs YYYY- first. */
                size_t iso = len - p > 4 && s[p + 4] == '-'
                                 ? iso_date(s + p, len - p, &f)
                                 : 0;
                if (iso > 0) {
                    i = p + iso;
                } else {
                    size_t n = number_len(s + p, len - p);
                    /* Plain: digits only, of value at most 31 ("031"
                     * counts; the reference stops caring above 31). */
                    unsigned v = 0;
                    bool plain = true;
                    for (size_t q = 0; plain && q < n; q++) {
                        plain = is_digit(s[p + q]);
                        v = v * 10 + (unsigned)(s[p + q] - '0');
                        plain = plain && v <= 31;
                    }
                    int month = plain && v >= 1 ? month_before(s, p) : 0;
                    if (month) {
                        add_date(&f, (unsigned)month, v);
                    } else {
                        char buf[FIG_BUF + 16];
                        add_figure(&f, buf, canon_number(s + p, n, buf));
                    }
                    i = p + n;
                }
            }
            if (i >= base + 64)
                break;
            ev &= ~0ULL << (i - base);
        }
        base = i > base + 64 ? i : base + 64;
    }
    set_count(&f);
    *out = f;
}

void wn__figures_extract(const char *text, size_t len, struct wn_figures *out)
{
#ifdef HAVE_MASKS_AVX512
    if (wn__text_avx512()) {
        extract_fast(text, len, out, WN_FIG_MASKS_AVX512);
        return;
    }
#endif
#if defined(__SSE2__)
    extract_fast(text, len, out, WN_FIG_MASKS_SSE2);
#else
    extract_fast(text, len, out, WN_FIG_MASKS_PORTABLE);
#endif
}

int wn__figures_extract_variant(const char *text, size_t len,
                                struct wn_figures *out, int variant)
{
    bool have = variant == WN_FIG_MASKS_PORTABLE;
#if defined(__SSE2__)
    have = have || variant == WN_FIG_MASKS_SSE2;
#endif
#ifdef HAVE_MASKS_AVX512
    have = have || (variant == WN_FIG_MASKS_AVX512 && wn__text_avx512());
#endif
    if (!have)
        return -1;
    extract_fast(text, len, out, variant);
    return 0;
}

void wn__figures_compare(const struct wn_figures *a, const struct wn_figures *b,
                         struct wn_fig_cmp *out)
{
    assert(a != NULL && b != NULL && out != NULL);
    assert(a->n <= WN_FIG_MAX && b->n <= WN_FIG_MAX);
    unsigned only_a = 0, only_b = 0, common = 0;
    unsigned i = 0, j = 0;
    /* The smallest WN_FIG_MAX values of the union of the two samples: each
     * is at most the largest kept value of either side, so membership in
     * a sample is membership in the record. A side that has run out reads
     * as 2^32, above every hash. Without branches in the merge: which side
     * is smaller is a coin toss, and the mispredictions were most of the
     * comparison (called for every candidate pair). */
    const uint64_t end = (uint64_t)1 << 32;
    for (unsigned taken = 0; taken < WN_FIG_MAX; taken++) {
        uint64_t x = i < a->n ? a->h[i] : end;
        uint64_t y = j < b->n ? b->h[j] : end;
        if (x == end && y == end)
            break;
        unsigned lt = x < y, gt = y < x, eq = x == y;
        only_a += lt;
        only_b += gt;
        common += eq;
        i += lt | eq;
        j += gt | eq;
    }
    struct wn_fig_cmp c = {0, 0, 0};
    c.only_a = only_a;
    c.only_b = only_b;
    c.common = common;
    *out = c;
}

enum wn_fig_agreement wn__fig_agreement_of(const struct wn_fig_cmp *c,
                                           double max_conflict)
{
    assert(c != NULL && max_conflict >= 0.0 && max_conflict <= 1.0);
    unsigned u = c->common + c->only_a + c->only_b;
    if (u == 0)
        return WN_FIG_NONE;
    if (c->only_a == 0 && c->only_b == 0)
        return WN_FIG_EQUAL;
    if (c->only_a == 0)
        return WN_FIG_A_IN_B;
    if (c->only_b == 0)
        return WN_FIG_B_IN_A;
    unsigned m = WN_MIN(c->only_a, c->only_b);
    /* m / u <= max_conflict and u * max_conflict >= 1, with a margin for
     * the rounding of max_conflict itself (0.1 is not a binary fraction). */
    if ((double)m <= max_conflict * (double)u + 1e-9 &&
        (double)u * max_conflict >= 1.0 - 1e-9)
        return WN_FIG_CLOSE;
    return WN_FIG_CONFLICT;
}

enum wn_fig_agreement wn__figures_agree(const struct wn_figures *a,
                                        const struct wn_figures *b,
                                        double max_conflict)
{
    struct wn_fig_cmp c;
    wn__figures_compare(a, b, &c);
    return wn__fig_agreement_of(&c, max_conflict);
}

const char *wn__fig_agreement_name(enum wn_fig_agreement g)
{
    switch (g) {
    case WN_FIG_NONE:
        return "none";
    case WN_FIG_EQUAL:
        return "equal";
    case WN_FIG_A_IN_B:
    case WN_FIG_B_IN_A:
        return "contained";
    case WN_FIG_CLOSE:
        return "close";
    case WN_FIG_CONFLICT:
        return "conflict";
    }
    return "unknown";
}
