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
 * into a letter mask and a digit mask and visits only the starts of words
 * and of digit runs; a word is looked at further only when its first two
 * letters and its length fit a month name or a number word (cand_len), which
 * most words do not. What the reference keeps in `month` is the month of the
 * last word when the last token was a word, 0 after a number or a date, and
 * that is what the loop keeps too. Numbers go through the same functions as
 * in the reference.
 */

#define KEY2(a, b)                                                             \
    ((((unsigned)(a) | 0x20u) & 31u) << 5 | (((unsigned)(b) | 0x20u) & 31u))
#define LEN(n) (1u << (n))

/* Bit n set: some month name or number word (one-twelve) of n letters
 * starts with these two letters (case-insensitive). */
static const uint16_t cand_len[1024] = {
    [KEY2('j', 'a')] = LEN(3) | LEN(7),                   /* jan january */
    [KEY2('f', 'e')] = LEN(3) | LEN(8),                   /* feb february */
    [KEY2('m', 'a')] = LEN(3) | LEN(5),                   /* mar march may */
    [KEY2('a', 'p')] = LEN(3) | LEN(5),                   /* apr april */
    [KEY2('j', 'u')] = LEN(3) | LEN(4),                   /* jun(e) jul(y) */
    [KEY2('a', 'u')] = LEN(3) | LEN(6),                   /* aug august */
    [KEY2('s', 'e')] = LEN(3) | LEN(4) | LEN(5) | LEN(9), /* sep(t) seven */
    [KEY2('o', 'c')] = LEN(3) | LEN(7),                   /* oct october */
    [KEY2('n', 'o')] = LEN(3) | LEN(8),                   /* nov november */
    [KEY2('d', 'e')] = LEN(3) | LEN(8),                   /* dec december */
    [KEY2('o', 'n')] = LEN(3),                            /* one */
    [KEY2('t', 'w')] = LEN(3) | LEN(6),                   /* two twelve */
    [KEY2('t', 'h')] = LEN(5),                            /* three */
    [KEY2('f', 'o')] = LEN(4),                            /* four */
    [KEY2('f', 'i')] = LEN(4),                            /* five */
    [KEY2('s', 'i')] = LEN(3),                            /* six */
    [KEY2('e', 'i')] = LEN(5),                            /* eight */
    [KEY2('n', 'i')] = LEN(4),                            /* nine */
    [KEY2('t', 'e')] = LEN(3),                            /* ten */
    [KEY2('e', 'l')] = LEN(6),                            /* eleven */
};

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

/* Bit k of *letter / *digit: p[k] is a letter / an ASCII digit. */
static void masks_ref(const unsigned char *p, uint64_t *letter, uint64_t *digit)
{
    uint64_t l = 0, d = 0;
    for (unsigned k = 0; k < 64; k++) {
        l |= (uint64_t)is_letter(p[k]) << k;
        d |= (uint64_t)is_digit(p[k]) << k;
    }
    *letter = l;
    *digit = d;
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* SSE2 is part of the x86-64 baseline: no run-time dispatch. An unsigned
 * x - lo <= n is min(x - lo, n) == x - lo. */
static void masks_sse2(const unsigned char *p, uint64_t *letter,
                       uint64_t *digit)
{
    const __m128i bit5 = _mm_set1_epi8(0x20), a = _mm_set1_epi8('a');
    const __m128i zero = _mm_set1_epi8('0'), n25 = _mm_set1_epi8(25);
    const __m128i n9 = _mm_set1_epi8(9);
    uint64_t l = 0, d = 0;
    for (unsigned c = 0; c < 4; c++) {
        __m128i x =
            _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * c));
        __m128i y = _mm_sub_epi8(_mm_or_si128(x, bit5), a);
        __m128i z = _mm_sub_epi8(x, zero);
        unsigned az = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_min_epu8(y, n25), y));
        unsigned hi = (unsigned)_mm_movemask_epi8(x);
        unsigned dg =
            (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(z, n9), z));
        l |= (uint64_t)(az | hi) << (16 * c);
        d |= (uint64_t)dg << (16 * c);
    }
    *letter = l;
    *digit = d;
}
#endif

static void extract_fast(const char *text, size_t len, struct wn_figures *out,
                         bool portable)
{
    assert(out != NULL && (text != NULL || len == 0));
    struct wn_figures f;
    memset(&f, 0, sizeof(f));
    const unsigned char *s = (const unsigned char *)text;
    /* The last block, padded, with a byte more for the word test. */
    unsigned char pad[80];
    unsigned month = 0; /* as in the reference */
    size_t i = 0;       /* the first byte not yet consumed */
    size_t base = 0;    /* the 64-byte block being scanned */
    while (base < len) {
        const unsigned char *blk = s + base;
        if (len - base < 65) {
            memset(pad, 0, sizeof(pad));
            memcpy(pad, blk, len - base);
            blk = pad;
        }
        uint64_t L, D;
#if defined(__SSE2__)
        if (!portable)
            masks_sse2(blk, &L, &D);
        else
#endif
            masks_ref(blk, &L, &D);
        (void)portable;
        uint64_t pl = base > 0 && is_letter(s[base - 1]);
        uint64_t pd = base > 0 && is_digit(s[base - 1]);
        /* Starts of words and of digit runs at or after i. */
        uint64_t ev = (L & ~((L << 1) | pl)) | (D & ~((D << 1) | pd));
        if (i > base)
            ev &= ~0ULL << (i - base);
        while (ev) {
            unsigned k = (unsigned)__builtin_ctzll(ev);
            size_t p = base + k;
            if ((L >> k) & 1) {
                uint64_t rest = ~(L >> k);
                size_t j = p + (rest ? (unsigned)__builtin_ctzll(rest) : 64);
                if (j >= base + 64)
                    for (j = base + 64; j < len && is_letter(s[j]);)
                        j++;
                size_t wl = j - p;
                unsigned m = 0;
                /* One rarely taken branch: cand_len has no bit above 9,
                 * nor below 3; blk[k + 1] is in the block or the pad. */
                unsigned w = wl < 15 ? (unsigned)wl : 15;
                if ((cand_len[KEY2(blk[k], blk[k + 1])] >> w) & 1) {
                    int day = month ? numword_of(text + p, wl) : 0;
                    if (day)
                        add_date(&f, month, (unsigned)day);
                    else
                        m = (unsigned)month_of(text + p, wl);
                }
                month = m;
                i = j;
            } else {
                size_t iso = iso_date(s + p, len - p, &f);
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
                    if (month && plain && v >= 1 && v <= 31) {
                        add_date(&f, month, v);
                    } else {
                        char buf[FIG_BUF + 16];
                        add_figure(&f, buf, canon_number(s + p, n, buf));
                    }
                    i = p + n;
                }
                month = 0;
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
    extract_fast(text, len, out, false);
}

void wn__figures_extract_portable(const char *text, size_t len,
                                  struct wn_figures *out)
{
    extract_fast(text, len, out, true);
}

void wn__figures_compare(const struct wn_figures *a, const struct wn_figures *b,
                         struct wn_fig_cmp *out)
{
    assert(a != NULL && b != NULL && out != NULL);
    assert(a->n <= WN_FIG_MAX && b->n <= WN_FIG_MAX);
    struct wn_fig_cmp c = {0, 0, 0};
    unsigned i = 0, j = 0, taken = 0;
    /* The smallest WN_FIG_MAX values of the union of the two samples: each
     * is at most the largest kept value of either side, so membership in
     * a sample is membership in the record. */
    while (taken < WN_FIG_MAX && (i < a->n || j < b->n)) {
        if (j >= b->n || (i < a->n && a->h[i] < b->h[j])) {
            c.only_a++;
            i++;
        } else if (i >= a->n || b->h[j] < a->h[i]) {
            c.only_b++;
            j++;
        } else {
            c.common++;
            i++;
            j++;
        }
        taken++;
    }
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
