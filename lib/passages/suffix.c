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
 * ones that do not start a code are dropped while the array is read, and
 * the kept ones become token indices through a rank directory over a bitmap
 * of code starts. Dropping them in place leaves the first m slots, and the
 * array is shrunk to them.
 *
 * Cost per part of n code bytes and m tokens: time O(n log n) worst case
 * for the sort (divsufsort is near linear on text) plus O(n + repeats * k);
 * peak memory max(n + 4n (8n for the 64-bit sort) + n/5, 12 m) bytes,
 * counting the text and the window entries: about 2.1 bytes per input byte
 * on English news.
 */
#include "passages/passages.h"

#include <divsufsort.h>
#include <divsufsort64.h>

uint64_t wn__sa64_min = (UINT64_C(1) << 31) - 1;

static uint64_t rank_words(uint64_t n)
{
    return n / 64 + 1;
}

uint64_t wn__part_bytes(uint64_t n, uint64_t m)
{
    uint64_t sa = n * (n >= wn__sa64_min ? 8 : 4);
    uint64_t sort = n + sa + rank_words(n) * 12;
    uint64_t assign = 12 * m;
    return WN_MAX(sort, assign);
}

/* Whether the suffixes at p and q begin with the same k token codes. */
static bool same_window(const unsigned char *t, size_t p, size_t q,
                        uint32_t k)
{
    for (uint32_t i = 0; i < k; i++) {
        unsigned char c = t[p];
        if (c != t[q] || c == WN_CODE_END)
            return false;
        unsigned len = wn__code_len(c);
        for (unsigned j = 1; j < len; j++)
            if (t[p + j] != t[q + j])
                return false;
        p += len;
        q += len;
    }
    return true;
}

/* Bitmap of code starts with the count of starts before each word. */
struct rank_dir {
    uint64_t *bits;
    uint32_t *before;
};

static int rank_build(const unsigned char *t, size_t n, size_t m,
                      struct rank_dir *r)
{
    size_t words = (size_t)rank_words(n);
    r->bits = wn__calloc(words, sizeof(uint64_t));
    r->before = wn__reallocarray(NULL, words, sizeof(uint32_t));
    if (!r->bits || !r->before)
        return WN_ENOMEM;
    size_t p = 0, tokens = 0;
    while (p < n) {
        unsigned char c = t[p];
        if (c != WN_CODE_END) {
            r->bits[p >> 6] |= UINT64_C(1) << (p & 63);
            tokens++;
        }
        p += wn__code_len(c);
    }
    if (p != n || tokens != m)
        return WN_EINVAL;
    uint32_t sum = 0;
    for (size_t w = 0; w < words; w++) {
        r->before[w] = sum;
        sum += (uint32_t)__builtin_popcountll(r->bits[w]);
    }
    return WN_OK;
}

static bool is_start(const struct rank_dir *r, size_t p)
{
    return r->bits[p >> 6] >> (p & 63) & 1;
}

static uint32_t rank_of(const struct rank_dir *r, size_t p)
{
    uint64_t below = r->bits[p >> 6] & ((UINT64_C(1) << (p & 63)) - 1);
    return r->before[p >> 6] + (uint32_t)__builtin_popcountll(below);
}

static void rank_release(struct rank_dir *r)
{
    wn__free(r->bits);
    wn__free(r->before);
}

/*
 * Read the suffix array sa (32- or 64-bit entries) in order and write the
 * token entries to e, which is the same memory: entry j is written after
 * entry i >= j was read, and 4 j < 4 (i + 1), so nothing unread is
 * overwritten. Entries are read with memcpy, which may alias anything.
 */
static size_t filter(const unsigned char *t, const void *sa, bool big,
                     size_t n, uint32_t k, const struct rank_dir *r,
                     uint32_t *e)
{
    const unsigned char *raw = sa;
    size_t j = 0, prev = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t p;
        if (big) {
            int64_t v;
            memcpy(&v, raw + i * sizeof(v), sizeof(v));
            p = (size_t)v;
        } else {
            int32_t v;
            memcpy(&v, raw + i * sizeof(v), sizeof(v));
            p = (size_t)v;
        }
        if (!is_start(r, p))
            continue;
        bool same = prev != SIZE_MAX && same_window(t, prev, p, k);
        uint32_t x = rank_of(r, p) | (same ? WN_PART_SAME : 0);
        memcpy((unsigned char *)e + j * sizeof(x), &x, sizeof(x));
        j++;
        prev = p;
    }
    return j;
}

int wn__part_sort(const unsigned char *text, size_t n, size_t m, uint32_t k,
                  struct wn_part_sa *out)
{
    if (k == 0 || (n > 0 && text[n - 1] != WN_CODE_END))
        return WN_EINVAL;
    if (m >= WN_PART_SAME || (uint64_t)n > (uint64_t)INT64_MAX)
        return WN_ELIMIT;
    struct wn_part_sa s = {NULL, m};
    if (m == 0) {
        *out = s;
        return WN_OK;
    }
    struct rank_dir r = {NULL, NULL};
    int rc = rank_build(text, n, m, &r);
    bool big = (uint64_t)n >= wn__sa64_min;
    void *sa = NULL;
    if (!rc) {
        sa = wn__reallocarray(NULL, n, big ? sizeof(int64_t) : sizeof(int32_t));
        if (!sa)
            rc = WN_ENOMEM;
    }
    if (!rc) {
        /* divsufsort allocates only its small bucket arrays itself. */
        int d = big ? divsufsort64(text, sa, (saidx64_t)n)
                    : divsufsort(text, sa, (saidx_t)n);
        if (d == -2)
            rc = WN_ENOMEM;
        else if (d != 0)
            rc = WN_EINVAL;
    }
    if (!rc) {
        size_t got = filter(text, sa, big, n, k, &r, sa);
        if (got != m)
            rc = WN_EINVAL;
    }
    rank_release(&r);
    if (rc) {
        wn__free(sa);
        return rc;
    }
    /* Give back the tail: from 4 or 8 bytes per code byte to 4 per token. */
    void *shrunk = wn__realloc(sa, m * sizeof(uint32_t));
    s.e = shrunk ? shrunk : sa;
    *out = s;
    return WN_OK;
}

void wn__part_assign(const struct wn_part_sa *s, uint64_t tok_base,
                     uint64_t *win)
{
    const uint32_t *e = s->e;
    size_t m = s->m;
    memset(win, 0, m * sizeof(*win));
    for (size_t i = 0; i < m;) {
        size_t j = i + 1;
        while (j < m && (e[j] & WN_PART_SAME))
            j++;
        if (j - i >= 2) {
            /* The partner of every occurrence is the first one in text
             * order; the first one's partner is the second. */
            uint32_t min1 = UINT32_MAX, min2 = UINT32_MAX;
            for (size_t x = i; x < j; x++) {
                uint32_t t = e[x] & ~WN_PART_SAME;
                if (t < min1) {
                    min2 = min1;
                    min1 = t;
                } else if (t < min2) {
                    min2 = t;
                }
            }
            for (size_t x = i; x < j; x++) {
                uint32_t t = e[x] & ~WN_PART_SAME;
                uint32_t partner = t == min1 ? min2 : min1;
                win[t] = wn__win_pack(j - i, tok_base + partner);
            }
        }
        i = j;
    }
}

void wn__part_sa_release(struct wn_part_sa *s)
{
    wn__free(s->e);
    s->e = NULL;
    s->m = 0;
}

int wn__part_windows(const unsigned char *text, size_t n, size_t m,
                     uint32_t k, uint64_t tok_base, uint64_t *win)
{
    struct wn_part_sa s;
    int rc = wn__part_sort(text, n, m, k, &s);
    if (rc)
        return rc;
    wn__part_assign(&s, tok_base, win);
    wn__part_sa_release(&s);
    return WN_OK;
}
