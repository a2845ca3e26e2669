/*
 * contain.c - anchors, probes and offers (see contain.h). Probes and
 * offers select with a bounded insertion into the caller's output array, so
 * a record costs O(n x cap) in the worst case and O(n) when few values
 * qualify (offers: rare words); cap is small (<= 64). Anchors (one in 2^r
 * shingles) are appended to a buffer without a branch and sorted once, the
 * buffer cut to the cap smallest whenever it fills: O(n) plus the sorts.
 * The per-shingle loops and the sorts of at most 64 values have AVX-512
 * forms (scan_avx512.c) that give the same values.
 */
#include "sketch/contain.h"

#include <assert.h>
#include <stdlib.h>

#include "sketch/cms.h"
#include "sketch/scan_impl.h"
#include "sketch/sketch.h"

#include <math.h>

/* Inlined: the lead words hash short tokens, where a call costs as much as
 * the hash (XXH3 is the hash wn__hash64 names, so the values are its). */
#define XXH_INLINE_ALL
#include <xxhash.h>

/*
 * Insert v into the ascending distinct array a of *len values, keeping the
 * cap smallest. key orders the values; equal keys are ordered by value.
 */
struct item {
    uint64_t key;
    uint64_t val;
};

static bool item_less(const struct item *x, const struct item *y)
{
    return x->key < y->key || (x->key == y->key && x->val < y->val);
}

static void keep_smallest(struct item *a, size_t *len, size_t cap,
                          struct item v)
{
    size_t n = *len, i = n;
    while (i > 0 && item_less(&v, &a[i - 1]))
        i--;
    if (i > 0 && a[i - 1].val == v.val && a[i - 1].key == v.key)
        return;
    if (i == cap)
        return;
    size_t last = n < cap ? n : cap - 1;
    memmove(a + i + 1, a + i, (last - i) * sizeof(*a));
    a[i] = v;
    if (n < cap)
        *len = n + 1;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* The selections work in a stack buffer of this many items at most. */
#define SEL_MAX 256U

/* Insertion sort of a few 64-bit values (the anchors' buffer). */
static void sort_small_u64(uint64_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

/* Sort a[0..n), drop repeats, keep the cap smallest: the new length. A
 * record's anchors at the end are about 1 in 8 of its shingles, most often
 * 64 or fewer: the AVX-512 rank sort where simd; larger buffers (the cuts of
 * long records) by introsort. */
static size_t sort_unique_cap(uint64_t *a, size_t n, size_t cap, bool simd)
{
    bool sorted = false;
#ifdef WN_HAVE_SCAN_AVX512
    if (simd && n <= 64) {
        wn__sort_u64_avx512(a, n);
        sorted = true;
    }
#else
    (void)simd;
#endif
    if (!sorted && n > 32)
        return WN_MIN(wn__u64_sort_unique(a, n), cap);
    if (!sorted)
        sort_small_u64(a, n);
    size_t m = 0;
    for (size_t i = 0; i < n && m < cap; i++)
        if (m == 0 || a[m - 1] != a[i])
            a[m++] = a[i];
    return m;
}

/* Shingles per scan of the anchors, and the room of their buffer: the
 * values that qualify are appended (a whole chunk may), and the buffer is
 * cut to the cap (<= SEL_MAX) smallest when another chunk might not fit. */
#define ANCH_CHUNK 256U
#define ANCH_BUF   (SEL_MAX + 2 * ANCH_CHUNK + 8)

/* The scalar scan (scan_impl.h): branch-free appends. */
static size_t anchor_scan(const uint64_t *sh, size_t n, uint64_t mask,
                          uint64_t thr, uint64_t *buf)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = wn__mix64(sh[i] ^ WN_ANCHOR_SALT);
        buf[len] = x;
        len += ((x & mask) == 0) & (x <= thr);
    }
    return len;
}

size_t wn__contain_anchors_variant(const uint64_t *sh, size_t n,
                                   unsigned log2_rate, size_t cap,
                                   uint64_t *out, bool simd)
{
    assert((sh != NULL || n == 0) && log2_rate <= 16 && cap <= SEL_MAX);
    assert(out != NULL || cap == 0);
    if (cap == 0)
        return 0;
    simd = simd && wn__scan_avx512();
    /* The cap smallest distinct qualifying values, ascending. Once the
     * buffer has been cut to a full selection, a value above its largest
     * can never enter it: thr keeps such values out of the buffer. */
    uint64_t buf[ANCH_BUF];
    size_t len = 0;
    uint64_t mask = ((uint64_t)1 << log2_rate) - 1, thr = UINT64_MAX;
#ifndef WN_HAVE_SCAN_AVX512
    (void)simd;
#endif
    for (size_t i = 0; i < n; i += ANCH_CHUNK) {
        size_t m = WN_MIN(n - i, (size_t)ANCH_CHUNK);
        if (len > SEL_MAX + ANCH_CHUNK) {
            len = sort_unique_cap(buf, len, cap, simd);
            if (len == cap)
                thr = buf[cap - 1];
        }
#ifdef WN_HAVE_SCAN_AVX512
        if (simd) {
            len += wn__anchor_scan_avx512(sh + i, m, mask, thr, buf + len);
            continue;
        }
#endif
        len += anchor_scan(sh + i, m, mask, thr, buf + len);
    }
    len = sort_unique_cap(buf, len, cap, simd);
    memcpy(out, buf, len * sizeof(*out));
    return len;
}

size_t wn__contain_anchors(const uint64_t *sh, size_t n, unsigned log2_rate,
                           size_t cap, uint64_t *out)
{
    return wn__contain_anchors_variant(sh, n, log2_rate, cap, out, true);
}

size_t wn__contain_probes(const uint64_t *w, const uint32_t *counts, size_t n,
                          size_t q, uint64_t *out)
{
    assert((w != NULL && counts != NULL) || n == 0);
    assert(q <= SEL_MAX && (out != NULL || q == 0));
    struct item sel[SEL_MAX];
    size_t len = 0;
    for (size_t i = 0; i < n && q > 0; i++) {
        /* A word seen twice has the same count: the distinct check of
         * keep_smallest finds it. */
        struct item v = {counts[i], w[i]};
        keep_smallest(sel, &len, q, v);
    }
    for (size_t i = 0; i < len; i++)
        out[i] = sel[i].val;
    return len;
}

size_t wn__contain_offers(const uint64_t *w, const uint32_t *counts, size_t n,
                          uint32_t max_count, size_t cap, uint64_t *out)
{
    assert((w != NULL && counts != NULL) || n == 0);
    assert(cap <= SEL_MAX && (out != NULL || cap == 0));
    struct item sel[SEL_MAX];
    size_t len = 0;
    for (size_t i = 0; i < n && cap > 0; i++) {
        if (counts[i] > max_count)
            continue;
        struct item v = {counts[i], w[i]};
        keep_smallest(sel, &len, cap, v);
    }
    for (size_t i = 0; i < len; i++)
        out[i] = sel[i].val;
    qsort(out, len, sizeof(*out), cmp_u64);
    return len;
}

/* Insertion sort: n <= WN_LEAD_TOKENS (64), where it is several times
 * faster than qsort (glibc's is a merge sort through a comparison
 * callback: 11% of a news run's CPU when it sorted the lead words). The
 * AVX-512 rank sort (scan_avx512.c) is faster still: the values are
 * random, so this loop loses a branch misprediction on nearly every one. */
static void sort_small_u32(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

size_t wn__contain_lead_words_variant(const struct wn_tokens *t, uint64_t seed,
                                      uint32_t *out, bool simd)
{
    assert(t != NULL && out != NULL);
    size_t n = WN_MIN(t->n, (size_t)WN_LEAD_TOKENS);
    uint64_t ws = wn__mix64(seed ^ 0x4C4541442D574F52ULL);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint32_t)XXH3_64bits_withSeed(t->norm + t->tok[i].norm_off,
                                                t->tok[i].norm_len, ws);
#ifdef WN_HAVE_SCAN_AVX512
    if (simd && wn__scan_avx512())
        wn__sort_u32_avx512(out, n);
    else
        sort_small_u32(out, n);
#else
    (void)simd;
    sort_small_u32(out, n);
#endif
    /* Branch-free: a repeated word is rare but unpredictable. */
    if (n == 0)
        return 0;
    size_t m = 1;
    for (size_t i = 1; i < n; i++) {
        out[m] = out[i];
        m += out[i] != out[m - 1];
    }
    return m;
}

size_t wn__contain_lead_words(const struct wn_tokens *t, uint64_t seed,
                              uint32_t *out)
{
    return wn__contain_lead_words_variant(t, seed, out, true);
}

void wn__lead_pack(const uint32_t *w, size_t n, uint8_t *p)
{
    assert(n <= WN_LEAD_TOKENS && (w != NULL || n == 0));
    wn__put_le32(p, (uint32_t)n);
    for (size_t i = 0; i < WN_LEAD_TOKENS; i++)
        wn__put_le32(p + 4 + 4 * i, i < n ? w[i] : 0);
}

size_t wn__lead_unpack(const uint8_t *p, uint32_t *out)
{
    size_t n = WN_MIN((size_t)wn__get_le32(p), (size_t)WN_LEAD_TOKENS);
    for (size_t i = 0; i < n; i++)
        out[i] = wn__get_le32(p + 4 + 4 * i);
    return n;
}

void wn__contain_flash_words(const struct wn_words *wt, const uint32_t *s,
                             size_t ns, const uint32_t *l, size_t nl,
                             double *share, double *weight)
{
    assert(share != NULL && weight != NULL);
    *share = 0;
    *weight = 0;
    if (!wt || !wt->cms || wt->n == 0 || ns == 0)
        return;
    double total = 0, met = 0, n = (double)wt->n;
    size_t j = 0;
    for (size_t i = 0; i < ns; i++) {
        uint32_t df = wn__cms_count(wt->cms, wn__lead_key(s[i]));
        double idf = log(n / (df > 0 ? (double)df : 1.0));
        if (idf < 0)
            idf = 0;
        total += idf;
        while (j < nl && l[j] < s[i])
            j++;
        if (j < nl && l[j] == s[i])
            met += idf;
    }
    *weight = total;
    *share = total > 0 ? met / total : 0;
}

bool wn__contain_meet(const uint64_t *a, size_t na, const uint64_t *b,
                      size_t nb)
{
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j])
            return true;
        if (a[i] < b[j])
            i++;
        else
            j++;
    }
    return false;
}
