/*
 * suffix.c - repeated windows of k tokens in one part of the coded corpus,
 * with a suffix array (Manber and Myers 1993) built by libdivsufsort, as in
 * Lee et al. 2022, "Deduplicating Training Data Makes Language Models
 * Better".
 *
 * All suffixes that begin with the same k token codes are neighbours in
 * suffix order, so the occurrences of every window form one run of the
 * array, and a run is found by comparing each token-aligned suffix with the
 * token-aligned suffix before it, k codes at most. No LCP array is needed:
 * neighbours usually differ within a few bytes, and a comparison that gets
 * to k codes has found a repeat. Windows never cross a document: a
 * comparison stops at the end marker, so fewer than k tokens before it
 * never match.
 *
 * The array holds every byte suffix (libdivsufsort sorts them all); the
 * ones that do not start a code are dropped while the array is read, in
 * place, and the array is shrunk to the m kept ones. Positions become token
 * numbers through a rank directory over a bitmap of code starts, only for
 * the members of runs. Reading the array touches the text and the bitmap
 * at random places, so both are prefetched a few entries ahead.
 *
 * Cost per part of n code bytes and m tokens: time O(n log n) worst case
 * for the sort (divsufsort is near linear on text) plus O(n + repeats * k);
 * peak memory (wn__part_bytes) max(n + 4n + 3n/16, 12m + 3n/16) bytes counting
 * the text and the window entries, 8n and 16m with the 64-bit sorter:
 * about 2 bytes per input byte on English news.
 */
#include "passages/passages.h"

#include <divsufsort.h>
#include <divsufsort64.h>

#define PREFETCH ((size_t)16) /* entries read ahead */
#define SAME32   UINT32_C(0x80000000)
#define SAME64   (UINT64_C(1) << 63)

uint64_t wn__sa64_min = (UINT64_C(1) << 31) - 1;

static uint64_t rank_bytes(uint64_t n)
{
    return (n / 64 + 1) * (sizeof(uint64_t) + sizeof(uint32_t));
}

uint64_t wn__part_bytes(uint64_t n, uint64_t m)
{
    uint64_t w = n >= wn__sa64_min ? 8 : 4;
    uint64_t sort = n + n * w + rank_bytes(n);
    uint64_t assign = m * w + m * 8 + rank_bytes(n);
    return WN_MAX(sort, assign);
}

/* The length of the common prefix of the suffixes at p and q, at most
 * max: eight bytes at a time, the first differing byte found from the
 * lowest set bit of their XOR on little-endian machines. */
static size_t common_prefix(const unsigned char *t, size_t n, size_t p,
                            size_t q, size_t max)
{
    size_t lim = WN_MIN(max, n - WN_MAX(p, q));
    size_t l = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; l + 8 <= lim; l += 8) {
        uint64_t a, b;
        memcpy(&a, t + p + l, 8);
        memcpy(&b, t + q + l, 8);
        if (a != b)
            return l + (size_t)(__builtin_ctzll(a ^ b) >> 3);
    }
#endif
    while (l < lim && t[p + l] == t[q + l])
        l++;
    return l;
}

/* The position of the set bit number r (from 0) at or after p, or SIZE_MAX
 * when there is none before lim. */
static size_t select_from(const uint64_t *bits, size_t p, size_t r, size_t lim)
{
    size_t w = p >> 6;
    uint64_t x = bits[w] & (~UINT64_C(0) << (p & 63));
    for (;;) {
        unsigned c = (unsigned)__builtin_popcountll(x);
        if (r < c) {
            while (r--)
                x &= x - 1;
            size_t at = (w << 6) + (size_t)__builtin_ctzll(x);
            return at < lim ? at : SIZE_MAX;
        }
        r -= c;
        if ((++w << 6) >= lim)
            return SIZE_MAX;
        x = bits[w];
    }
}

/*
 * Whether the suffixes at p and q (token starts) begin with the same k
 * token codes: the k codes from p lie inside the common prefix and no
 * document ends among them. Neighbours that differ early cost a word
 * compare; the rest a walk over the bitmap, 64 positions a step, to the
 * start of the k-th code, and a memchr for an end marker over bytes just
 * compared.
 */
static bool same_window(const unsigned char *t, size_t n, size_t p, size_t q,
                        uint32_t k, const uint64_t *bits)
{
    size_t l = common_prefix(t, n, p, q, (size_t)k * WN_CODE_MAX);
    if (l < k)
        return false; /* every code is at least a byte */
    size_t last = select_from(bits, p, k - 1, p + l);
    if (last == SIZE_MAX || last + wn__code_len(t[last]) > p + l)
        return false;
    return memchr(t + p, WN_CODE_END, last - p) == NULL;
}

/* The bitmap of code starts and the count of starts before each word. */
static int rank_build(const unsigned char *t, size_t n, size_t m,
                      struct wn_part_sa *s)
{
    size_t words = n / 64 + 1;
    s->bits = wn__calloc(words, sizeof(uint64_t));
    s->before = wn__reallocarray(NULL, words, sizeof(uint32_t));
    if (!s->bits || !s->before)
        return WN_ENOMEM;
    size_t p = 0, tokens = 0;
    bool ended = true; /* the last code read was an end marker */
    while (p < n) {
        unsigned char c = t[p];
        ended = c == WN_CODE_END;
        if (!ended) {
            s->bits[p >> 6] |= UINT64_C(1) << (p & 63);
            tokens++;
        }
        unsigned len = wn__code_len(c);
        if (len > n - p || memchr(t + p + 1, WN_CODE_END, len - 1))
            return WN_EINVAL; /* a cut code, or 0xFF as a digit */
        p += len;
    }
    /* Comparisons stop at end markers, never at the end of the text: the
     * text must be whole codes and end with a marker. */
    if (!ended || tokens != m)
        return WN_EINVAL;
    uint32_t sum = 0;
    for (size_t w = 0; w < words; w++) {
        s->before[w] = sum;
        sum += (uint32_t)__builtin_popcountll(s->bits[w]);
    }
    return WN_OK;
}

static bool is_start(const uint64_t *bits, size_t p)
{
    return bits[p >> 6] >> (p & 63) & 1;
}

static uint32_t rank_of(const struct wn_part_sa *s, uint64_t p)
{
    uint64_t below = s->bits[p >> 6] & ((UINT64_C(1) << (p & 63)) - 1);
    return s->before[p >> 6] + (uint32_t)__builtin_popcountll(below);
}

static uint64_t sa_get(const unsigned char *raw, bool big, size_t i)
{
    if (big) {
        int64_t v;
        memcpy(&v, raw + i * sizeof(v), sizeof(v));
        return (uint64_t)v;
    }
    int32_t v;
    memcpy(&v, raw + i * sizeof(v), sizeof(v));
    return (uint64_t)(uint32_t)v;
}

/*
 * Read the suffix array (32- or 64-bit entries) in order and write the kept
 * entries over it, same width: entry j is written after entry i >= j was
 * read, so nothing unread is overwritten. Entries go through memcpy, which
 * may alias anything.
 */
static size_t filter(const unsigned char *t, void *sa, bool big, size_t n,
                     uint32_t k, const struct wn_part_sa *s)
{
    const uint64_t *bits = s->bits;
    unsigned char *raw = sa;
    size_t j = 0, prev = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        /* The bitmap word two strides ahead, the text of a token start
         * (whose word is in cache by then) one stride ahead. */
        if (i + 2 * PREFETCH < n)
            __builtin_prefetch(bits +
                               (sa_get(raw, big, i + 2 * PREFETCH) >> 6));
        if (i + PREFETCH < n) {
            uint64_t q = sa_get(raw, big, i + PREFETCH);
            if (is_start(bits, (size_t)q))
                __builtin_prefetch(t + q);
        }
        size_t p = (size_t)sa_get(raw, big, i);
        if (!is_start(bits, p))
            continue;
        bool same = prev != SIZE_MAX && same_window(t, n, prev, p, k, bits);
        if (big) {
            uint64_t x = p | (same ? SAME64 : 0);
            memcpy(raw + j * sizeof(x), &x, sizeof(x));
        } else {
            uint32_t x = (uint32_t)p | (same ? SAME32 : 0);
            memcpy(raw + j * sizeof(x), &x, sizeof(x));
        }
        j++;
        prev = p;
    }
    return j;
}

void wn__part_sa_release(struct wn_part_sa *s)
{
    wn__free(s->e);
    wn__free(s->bits);
    wn__free(s->before);
    memset(s, 0, sizeof(*s));
}

int wn__part_sort(const unsigned char *text, size_t n, size_t m, uint32_t k,
                  struct wn_part_sa *out)
{
    if (k == 0)
        return WN_EINVAL;
    if (m >= SAME32 || (uint64_t)n > (uint64_t)INT64_MAX)
        return WN_ELIMIT;
    struct wn_part_sa s;
    memset(&s, 0, sizeof(s));
    s.m = m;
    s.big = (uint64_t)n >= wn__sa64_min;
    int rc = rank_build(text, n, m, &s);
    if (!rc && m == 0) {
        *out = s;
        return WN_OK;
    }
    size_t w = s.big ? sizeof(int64_t) : sizeof(int32_t);
    void *sa = NULL;
    if (!rc) {
        sa = wn__reallocarray(NULL, n, w);
        if (!sa)
            rc = WN_ENOMEM;
    }
    if (!rc) {
        /* divsufsort allocates only its small bucket arrays itself. */
        int d = s.big ? divsufsort64(text, sa, (saidx64_t)n)
                      : divsufsort(text, sa, (saidx_t)n);
        if (d == -2)
            rc = WN_ENOMEM;
        else if (d != 0)
            rc = WN_EINVAL;
    }
    if (!rc && filter(text, sa, s.big, n, k, &s) != m)
        rc = WN_EINVAL;
    if (!rc) {
        /* Give back the tail: from w bytes per code byte to w per token.
         * (A failed shrink is reported like any failed allocation, so that
         * the allocation sweep can tell that every failure is seen.) */
        void *shrunk = wn__realloc(sa, m * w);
        if (shrunk)
            sa = shrunk;
        else
            rc = WN_ENOMEM;
    }
    if (rc) {
        wn__free(sa);
        wn__part_sa_release(&s);
        return rc;
    }
    s.e = sa;
    *out = s;
    return WN_OK;
}

static uint64_t entry(const struct wn_part_sa *s, size_t i, bool *same)
{
    if (s->big) {
        uint64_t x = ((const uint64_t *)s->e)[i];
        *same = (x & SAME64) != 0;
        return x & ~SAME64;
    }
    uint32_t x = ((const uint32_t *)s->e)[i];
    *same = (x & SAME32) != 0;
    return x & ~SAME32;
}

void wn__part_assign(const struct wn_part_sa *s, uint64_t tok_base,
                     uint64_t *win)
{
    size_t m = s->m;
    memset(win, 0, m * sizeof(*win));
    bool same;
    uint64_t p = m ? entry(s, 0, &same) : 0;
    for (size_t i = 0; i < m;) {
        /* The run of entries i .. j - 1: positions, and the two smallest.
         * Position order is token order. */
        uint64_t min1 = p, min2 = UINT64_MAX;
        size_t j = i + 1;
        for (; j < m; j++) {
            p = entry(s, j, &same);
            if (!same)
                break;
            if (p < min1) {
                min2 = min1;
                min1 = p;
            } else if (p < min2) {
                min2 = p;
            }
        }
        if (j - i >= 2) {
            /* The partner of every occurrence is the first one in text
             * order; the first one's partner is the second. */
            uint64_t t1 = tok_base + rank_of(s, min1);
            uint64_t t2 = tok_base + rank_of(s, min2);
            for (size_t x = i; x < j; x++) {
                uint64_t q = entry(s, x, &same);
                uint32_t t = rank_of(s, q);
                win[t] = wn__win_pack(j - i, q == min1 ? t2 : t1);
            }
        }
        i = j;
    }
}

int wn__part_windows(const unsigned char *text, size_t n, size_t m, uint32_t k,
                     uint64_t tok_base, uint64_t *win)
{
    struct wn_part_sa s;
    int rc = wn__part_sort(text, n, m, k, &s);
    if (rc)
        return rc;
    wn__part_assign(&s, tok_base, win);
    wn__part_sa_release(&s);
    return WN_OK;
}
