/*
 * join.c - candidate pairs from band keys by sorting, and union-find.
 *
 * Sorting is an LSD radix sort on the 64-bit key with 11-bit digits (six
 * passes whose histograms are counted in one read; a pass where every key
 * has the same digit is skipped; 2048 counters stay in L1), stable, so
 * entries with equal keys keep the document order they were appended in;
 * callers append in document order, which makes the result (key, doc)
 * sorted. O(n) time, n entries of scratch.
 */
#include "cluster/cluster.h"

#include <assert.h>
#include <stdlib.h>

#define RADIX_BITS   11
#define RADIX_SIZE   (1u << RADIX_BITS)
#define RADIX_PASSES 6 /* ceil(64 / 11) */

int wn__keydoc_sort(struct wn_keydoc *v, size_t n)
{
    if (n < 2)
        return WN_OK;
    struct wn_keydoc *tmp = wn__reallocarray(NULL, n, sizeof(*tmp));
    size_t *count =
        wn__calloc((size_t)RADIX_SIZE * RADIX_PASSES, sizeof(*count));
    if (!tmp || !count) {
        wn__free(tmp);
        wn__free(count);
        return WN_ENOMEM;
    }
    /* All six histograms in one read of the input. */
    for (size_t i = 0; i < n; i++) {
        uint64_t k = v[i].key;
        for (unsigned p = 0; p < RADIX_PASSES; p++)
            count[(size_t)p * RADIX_SIZE +
                  ((k >> (p * RADIX_BITS)) & (RADIX_SIZE - 1))]++;
    }
    struct wn_keydoc *src = v, *dst = tmp;
    for (unsigned p = 0; p < RADIX_PASSES; p++) {
        size_t *c = count + (size_t)p * RADIX_SIZE;
        unsigned shift = p * RADIX_BITS;
        /* A digit shared by every key leaves the order as it is. */
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
    wn__free(tmp);
    wn__free(count);
    return WN_OK;
}

static int push_pair(uint64_t **pairs, size_t *npairs, size_t *cap, uint32_t a,
                     uint32_t b)
{
    if (a == b)
        return WN_OK;
    if (a > b) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    if (WN_GROW(*pairs, *cap, *npairs + 1))
        return WN_ENOMEM;
    (*pairs)[(*npairs)++] = (uint64_t)a << 32 | b;
    return WN_OK;
}

static bool skipped(const uint8_t *skip, uint32_t d)
{
    return skip && (skip[d >> 3] >> (d & 7) & 1);
}

int wn__join_sorted(const struct wn_keydoc *v, size_t n, uint32_t all_pairs_max,
                    const uint8_t *skip, uint64_t **pairs, size_t *npairs,
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
                uint32_t first = UINT32_MAX, prev = UINT32_MAX;
                for (size_t a = i; a < j; a++) {
                    uint32_t d = v[a].doc;
                    if (skipped(skip, d))
                        continue;
                    if (first == UINT32_MAX) {
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

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

size_t wn__pairs_sort_unique(uint64_t *p, size_t n)
{
    if (n < 2)
        return n;
    qsort(p, n, sizeof(*p), cmp_u64);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (p[i] != p[k - 1])
            p[k++] = p[i];
    return k;
}

int wn__uf_init(struct wn_uf *uf, size_t n)
{
    if (n > UINT32_MAX)
        return WN_ELIMIT;
    uint32_t *p = wn__reallocarray(NULL, n ? n : 1, sizeof(*p));
    if (!p)
        return WN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint32_t)i;
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

uint32_t wn__uf_find(struct wn_uf *uf, uint32_t x)
{
    assert(x < uf->n);
    uint32_t *p = uf->parent;
    while (p[x] != x) {
        p[x] = p[p[x]]; /* path halving */
        x = p[x];
    }
    return x;
}

int wn__uf_union(struct wn_uf *uf, uint32_t a, uint32_t b)
{
    uint32_t ra = wn__uf_find(uf, a), rb = wn__uf_find(uf, b);
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
