/*
 * sort.c - the sorts of lib/passages: 64-bit keys (line hashes) and
 * 128-bit records (window hashes with their token).
 *
 * Both are least-significant-digit radix sorts with 16-bit digits: four
 * stable counting passes over a scratch array of the same size, a pass
 * skipped when every key has the same digit there (common for small
 * values). O(n) time, n extra elements of memory. Records are ordered by
 * a first; runs of equal a, which the hash sorts only meet for repeated
 * windows, are then ordered by b with an insertion sort when short and
 * qsort when long.
 */
#include "passages/passages.h"

#include <stdlib.h>

#define DIGIT_BITS 16
#define DIGITS     (1u << DIGIT_BITS)
#define SHORT_RUN  16
/* Below this many elements qsort beats clearing the digit counts. */
#define SMALL_SORT 1024

/* Counts of all four digits of the keys in one pass. */
static int count_digits(const void *base, size_t n, size_t stride, size_t **cnt)
{
    size_t *c = wn__calloc((size_t)4 * DIGITS, sizeof(size_t));
    if (!c)
        return WN_ENOMEM;
    const unsigned char *p = base;
    for (size_t i = 0; i < n; i++) {
        uint64_t k;
        memcpy(&k, p + i * stride, sizeof(k));
        for (unsigned d = 0; d < 4; d++)
            c[(size_t)d * DIGITS + ((k >> (d * DIGIT_BITS)) & (DIGITS - 1))]++;
    }
    *cnt = c;
    return WN_OK;
}

/*
 * Sort n records of stride bytes whose first 8 bytes are the key, with
 * scratch space of the same size. The result ends up in base.
 */
static int radix_sort(void *base, size_t n, size_t stride)
{
    if (n < 2)
        return WN_OK;
    size_t *cnt;
    int rc = count_digits(base, n, stride, &cnt);
    if (rc)
        return rc;
    unsigned char *tmp = wn__reallocarray(NULL, n, stride);
    if (!tmp) {
        wn__free(cnt);
        return WN_ENOMEM;
    }
    unsigned char *src = base, *dst = tmp;
    for (unsigned d = 0; d < 4; d++) {
        size_t *c = cnt + (size_t)d * DIGITS;
        uint64_t first;
        memcpy(&first, src, sizeof(first));
        if (c[(first >> (d * DIGIT_BITS)) & (DIGITS - 1)] == n)
            continue; /* one digit value: the pass would not move anything */
        size_t sum = 0;
        for (size_t v = 0; v < DIGITS; v++) {
            size_t x = c[v];
            c[v] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t k;
            memcpy(&k, src + i * stride, sizeof(k));
            size_t at = c[(k >> (d * DIGIT_BITS)) & (DIGITS - 1)]++;
            memcpy(dst + at * stride, src + i * stride, stride);
        }
        unsigned char *t = src;
        src = dst;
        dst = t;
    }
    if (src != base)
        memcpy(base, src, n * stride);
    wn__free(tmp);
    wn__free(cnt);
    return WN_OK;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;
    return (p > q) - (p < q);
}

int wn__sort_u64(uint64_t *v, size_t n)
{
    if (n < SMALL_SORT) {
        if (n > 1)
            qsort(v, n, sizeof(*v), cmp_u64);
        return WN_OK;
    }
    return radix_sort(v, n, sizeof(*v));
}

static int cmp_b(const void *x, const void *y)
{
    const struct wn_pair64 *p = x, *q = y;
    return (p->b > q->b) - (p->b < q->b);
}

static int cmp_ab(const void *x, const void *y)
{
    const struct wn_pair64 *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

int wn__sort_pairs(struct wn_pair64 *v, size_t n)
{
    if (n < SMALL_SORT) {
        if (n > 1)
            qsort(v, n, sizeof(*v), cmp_ab);
        return WN_OK;
    }
    int rc = radix_sort(v, n, sizeof(*v));
    if (rc)
        return rc;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        bool sorted = true;
        while (j < n && v[j].a == v[i].a) {
            sorted &= v[j].b >= v[j - 1].b;
            j++;
        }
        if (!sorted && j - i <= SHORT_RUN) {
            for (size_t x = i + 1; x < j; x++) {
                struct wn_pair64 t = v[x];
                size_t y = x;
                for (; y > i && v[y - 1].b > t.b; y--)
                    v[y] = v[y - 1];
                v[y] = t;
            }
        } else if (!sorted) {
            qsort(v + i, j - i, sizeof(*v), cmp_b);
        }
        i = j;
    }
    return WN_OK;
}
