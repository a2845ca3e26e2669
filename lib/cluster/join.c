/*
 * join.c - candidate pairs from band keys by sorting, and union-find.
 *
 * Sorting is an LSD radix sort on the 64-bit key with 11-bit digits (six
 * passes whose histograms are counted in one read; a pass where every key
 * has the same digit is skipped; 2048 counters stay in L1), stable, so
 * entries with equal keys keep the document order they were appended in;
 * callers append in document order, which makes the result (key, doc)
 * sorted. O(n) time, n entries of scratch. The joins only need equal keys
 * together (wn__keydoc_group): the low 22 bits in 2 passes, then the short
 * runs of equal low bits by insertion. Pair lists (packed wn_docpair
 * values) and 64-bit words are sorted in place by an MSD radix sort
 * (wn__pairs_radix_sort, wn__u64_radix_sort).
 */
#include "cluster/cluster.h"

#include <assert.h>
#include <stdlib.h>

#define RADIX_BITS   11
#define RADIX_SIZE   (1u << RADIX_BITS)
#define RADIX_PASSES 6 /* ceil(64 / 11) */

/* The first passes digits of an LSD radix sort of v (tmp: n entries of
 * scratch): stable, so entries with equal digits keep their order. The
 * histograms of all passes are counted in one read; a pass where every
 * key has the same digit is skipped. */
static int radix_lsd(struct wn_keydoc *v, struct wn_keydoc *tmp, size_t n,
                     unsigned passes)
{
    assert(n >= 2 && tmp != NULL && passes <= RADIX_PASSES);
    size_t *count = wn__calloc((size_t)RADIX_SIZE * passes, sizeof(*count));
    if (!count)
        return WN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = v[i].key;
        for (unsigned p = 0; p < passes; p++)
            count[(size_t)p * RADIX_SIZE +
                  ((k >> (p * RADIX_BITS)) & (RADIX_SIZE - 1))]++;
    }
    struct wn_keydoc *src = v, *dst = tmp;
    for (unsigned p = 0; p < passes; p++) {
        size_t *c = count + (size_t)p * RADIX_SIZE;
        unsigned shift = p * RADIX_BITS;
        if (c[(src[0].key >> shift) & (RADIX_SIZE - 1)] == n)
            continue;
        size_t sum = 0;
        for (size_t d = 0; d < RADIX_SIZE; d++) {
            size_t x = c[d];
            c[d] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].key >> shift) & (RADIX_SIZE - 1)]++] = src[i];
        struct wn_keydoc *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof(*v));
    wn__free(count);
    return WN_OK;
}

int wn__keydoc_sort(struct wn_keydoc *v, size_t n)
{
    if (n < 2)
        return WN_OK;
    struct wn_keydoc *tmp = wn__reallocarray(NULL, n, sizeof(*tmp));
    if (!tmp)
        return WN_ENOMEM;
    int rc = radix_lsd(v, tmp, n, RADIX_PASSES);
    wn__free(tmp);
    return rc;
}

int wn__keydoc_group(struct wn_keydoc *v, size_t n)
{
    if (n < 2)
        return WN_OK;
    struct wn_keydoc *tmp = wn__reallocarray(NULL, n, sizeof(*tmp));
    if (!tmp)
        return WN_ENOMEM;
    int rc = wn__keydoc_group_with(v, n, tmp);
    wn__free(tmp);
    return rc;
}

int wn__keydoc_group_with(struct wn_keydoc *v, size_t n, struct wn_keydoc *tmp)
{
    assert(tmp != NULL || n < 2);
    if (n < 2)
        return WN_OK;
    /* Enough low bits that a run of equal low bits is short: at least 4
     * values of them per entry. */
    unsigned bits = 2;
    while (bits < 64 && ((size_t)1 << (bits - 2)) < n)
        bits++;
    unsigned passes = (bits + RADIX_BITS - 1) / RADIX_BITS;
    if (passes >= RADIX_PASSES)
        return radix_lsd(v, tmp, n, RADIX_PASSES);
    int rc = radix_lsd(v, tmp, n, passes);
    if (rc)
        return rc;
    /* Runs of equal low digits: a stable insertion sort by the whole key
     * brings equal keys together, in the order they came. */
    uint64_t mask = passes * RADIX_BITS >= 64
                        ? UINT64_MAX
                        : ((uint64_t)1 << (passes * RADIX_BITS)) - 1;
    for (size_t i = 0; i < n;) {
        size_t e = i + 1;
        uint64_t low = v[i].key & mask;
        bool mixed = false;
        while (e < n && (v[e].key & mask) == low) {
            mixed |= v[e].key != v[i].key;
            e++;
        }
        if (mixed) {
            for (size_t a = i + 1; a < e; a++) {
                struct wn_keydoc x = v[a];
                size_t b = a;
                while (b > i && v[b - 1].key > x.key) {
                    v[b] = v[b - 1];
                    b--;
                }
                v[b] = x;
            }
        }
        i = e;
    }
    return WN_OK;
}

static int push_pair(wn_docpair **pairs, size_t *npairs, size_t *cap,
                     wn_docno a, wn_docno b)
{
    if (a == b)
        return WN_OK;
    if (a > b) {
        wn_docno t = a;
        a = b;
        b = t;
    }
    if (WN_GROW(*pairs, *cap, *npairs + 1))
        return WN_ENOMEM;
    (*pairs)[(*npairs)++] = wn__pair(a, b);
    return WN_OK;
}

static bool skipped(const uint8_t *skip, wn_docno d)
{
    return skip && (skip[d >> 3] >> (d & 7) & 1);
}

int wn__join_sorted(const struct wn_keydoc *v, size_t n, uint32_t all_pairs_max,
                    const uint8_t *skip, wn_docpair **pairs, size_t *npairs,
                    size_t *cap, struct wn_join_stats *st)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && v[j].key == v[i].key)
            j++;
        /* Members of the run that take part in the join. */
        size_t m = 0;
        for (size_t k = i; k < j; k++)
            m += !skipped(skip, v[k].doc);
        if (m >= 2) {
            st->buckets++;
            if (m > st->max_bucket)
                st->max_bucket = m;
            if (m <= all_pairs_max) {
                for (size_t a = i; a < j; a++) {
                    if (skipped(skip, v[a].doc))
                        continue;
                    for (size_t b = a + 1; b < j; b++) {
                        if (skipped(skip, v[b].doc))
                            continue;
                        if (push_pair(pairs, npairs, cap, v[a].doc, v[b].doc))
                            return WN_ENOMEM;
                        st->pairs++;
                    }
                }
            } else {
                st->large_buckets++;
                wn_docno first = WN_DOCNO_NONE, prev = WN_DOCNO_NONE;
                for (size_t a = i; a < j; a++) {
                    wn_docno d = v[a].doc;
                    if (skipped(skip, d))
                        continue;
                    if (first == WN_DOCNO_NONE) {
                        first = prev = d;
                        continue;
                    }
                    if (push_pair(pairs, npairs, cap, first, d))
                        return WN_ENOMEM;
                    if (prev != first && push_pair(pairs, npairs, cap, prev, d))
                        return WN_ENOMEM;
                    st->pairs += 1 + (prev != first);
                    prev = d;
                }
            }
        }
        i = j;
    }
    return WN_OK;
}

#define RADIX_SMALL 48

/*
 * The in-place MSD radix sort of values of type T, as the static functions
 * insertion_NAME (a short run, n <= RADIX_SMALL) and msd_NAME: on the byte
 * at shift and below (American flag sort), a counting pass, a permutation
 * by cycles, then each bucket. Made for uint64_t, and for wn_docpair when
 * it is wider (-Dwide_docs=true).
 */
#define MSD_SORT(T, NAME)                                                      \
    static void insertion_##NAME(T *a, size_t n)                               \
    {                                                                          \
        for (size_t i = 1; i < n; i++) {                                       \
            T x = a[i];                                                        \
            size_t j = i;                                                      \
            while (j > 0 && a[j - 1] > x) {                                    \
                a[j] = a[j - 1];                                               \
                j--;                                                           \
            }                                                                  \
            a[j] = x;                                                          \
        }                                                                      \
    }                                                                          \
                                                                               \
    static void msd_##NAME(T *a, size_t n, unsigned shift)                     \
    {                                                                          \
        for (;;) {                                                             \
            if (n <= RADIX_SMALL) {                                            \
                insertion_##NAME(a, n);                                        \
                return;                                                        \
            }                                                                  \
            size_t count[256] = {0};                                           \
            for (size_t i = 0; i < n; i++)                                     \
                count[(a[i] >> shift) & 255]++;                                \
            if (count[(a[0] >> shift) & 255] == n) {                           \
                /* One bucket: nothing to move at this byte. */                \
                if (shift == 0)                                                \
                    return;                                                    \
                shift -= 8;                                                    \
                continue;                                                      \
            }                                                                  \
            size_t next[256], end[256], sum = 0;                               \
            for (unsigned b = 0; b < 256; b++) {                               \
                next[b] = sum;                                                 \
                sum += count[b];                                               \
                end[b] = sum;                                                  \
            }                                                                  \
            for (unsigned b = 0; b < 256; b++) {                               \
                while (next[b] < end[b]) {                                     \
                    T v = a[next[b]];                                          \
                    unsigned d = (unsigned)(v >> shift) & 255;                 \
                    while (d != b) {                                           \
                        T t = a[next[d]];                                      \
                        a[next[d]++] = v;                                      \
                        v = t;                                                 \
                        d = (unsigned)(v >> shift) & 255;                      \
                    }                                                          \
                    a[next[b]++] = v;                                          \
                }                                                              \
            }                                                                  \
            if (shift == 0)                                                    \
                return;                                                        \
            size_t lo = 0;                                                     \
            for (unsigned b = 0; b < 256; b++) {                               \
                if (count[b] > 1)                                              \
                    msd_##NAME(a + lo, count[b], shift - 8);                   \
                lo += count[b];                                                \
            }                                                                  \
            return;                                                            \
        }                                                                      \
    }

MSD_SORT(uint64_t, u64)

void wn__u64_radix_sort(uint64_t *a, size_t n)
{
    assert(a != NULL || n == 0);
    if (n < 2)
        return;
    uint64_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= a[i];
    unsigned top = any ? 63u - (unsigned)__builtin_clzll(any) : 0;
    msd_u64(a, n, top / 8 * 8);
}

#ifdef WN_WIDE_DOCS
MSD_SORT(wn_docpair, pairs)

void wn__pairs_radix_sort(wn_docpair *a, size_t n)
{
    assert(a != NULL || n == 0);
    if (n < 2)
        return;
    wn_docpair any = 0;
    for (size_t i = 0; i < n; i++)
        any |= a[i];
    uint64_t hi = (uint64_t)(any >> 64), lo = (uint64_t)any;
    unsigned top = hi   ? 127u - (unsigned)__builtin_clzll(hi)
                   : lo ? 63u - (unsigned)__builtin_clzll(lo)
                        : 0;
    msd_pairs(a, n, top / 8 * 8);
}
#endif

size_t wn__pairs_sort_unique(wn_docpair *p, size_t n)
{
    if (n < 2)
        return n;
    wn__pairs_radix_sort(p, n);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (p[i] != p[k - 1])
            p[k++] = p[i];
    return k;
}

int wn__uf_init(struct wn_uf *uf, size_t n)
{
    if ((uint64_t)n > WN_DOCNO_NONE)
        return WN_ELIMIT;
    wn_docno *p = wn__reallocarray(NULL, n ? n : 1, sizeof(*p));
    if (!p)
        return WN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        p[i] = (wn_docno)i;
    uf->parent = p;
    uf->n = n;
    return WN_OK;
}

void wn__uf_release(struct wn_uf *uf)
{
    wn__free(uf->parent);
    uf->parent = NULL;
    uf->n = 0;
}

wn_docno wn__uf_find(struct wn_uf *uf, wn_docno x)
{
    assert(x < uf->n);
    wn_docno *p = uf->parent;
    while (p[x] != x) {
        p[x] = p[p[x]]; /* path halving */
        x = p[x];
    }
    return x;
}

int wn__uf_union(struct wn_uf *uf, wn_docno a, wn_docno b)
{
    wn_docno ra = wn__uf_find(uf, a), rb = wn__uf_find(uf, b);
    if (ra == rb)
        return 0;
    /* The smaller root wins, so a component's root is its first member. */
    if (ra < rb)
        uf->parent[rb] = ra;
    else
        uf->parent[ra] = rb;
    return 1;
}

uint64_t wn__join_partitions(uint64_t n, unsigned nthreads, uint64_t budget)
{
    assert(nthreads > 0);
    uint64_t floor = (uint64_t)nthreads * 32 * WN_JOIN_BLOCK;
    if (budget < floor)
        budget = floor;
    uint64_t parts = n * 32 * nthreads / budget + 1;
    return parts < nthreads ? nthreads : parts;
}
