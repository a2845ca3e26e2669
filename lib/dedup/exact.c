/*
 * exact.c - exact duplicates: documents whose normalized token streams have
 * equal 128-bit hashes are unioned, and all but the first of each group
 * leave the near-duplicate join (Broder 1997: shingles; removing exact
 * copies first is what every production pipeline does). Sort of (hash,
 * document) pairs: O(n) radix passes, 16 bytes per document at once.
 *
 * Also here: the count of records whose id an earlier record has, by
 * sorted 64-bit hashes of the ids.
 */
#include "dedup/dedup.h"
#include "sketch/hash128.h"

int wn__count_duplicate_ids(const struct wn_docs *d, uint64_t *count)
{
    if (d->n < 2) {
        *count = 0;
        return WN_OK;
    }
    uint64_t *v = wn__reallocarray(NULL, d->n, sizeof(*v));
    if (!v)
        return WN_ENOMEM;
    for (size_t i = 0; i < d->n; i++) {
        size_t len;
        const char *id = wn__doc_id(d, i, &len);
        uint64_t h[2];
        wn__hash128(id, len, 0, h);
        v[i] = h[0];
    }
    *count = d->n - wn__u64_sort_unique(v, d->n);
    wn__free(v);
    return WN_OK;
}

int wn__stage_exact(const struct wn_docs *d, struct wn_uf *uf, uint8_t *skip)
{
    struct wn_keydoc *v = wn__reallocarray(NULL, d->n ? d->n : 1, sizeof(*v));
    if (!v)
        return WN_ENOMEM;
    for (size_t i = 0; i < d->n; i++) {
        v[i].key = d->h[2 * i];
        v[i].doc = (uint32_t)i;
        v[i].pad = 0;
    }
    int rc = wn__keydoc_group(v, d->n);
    if (rc) {
        wn__free(v);
        return rc;
    }
    for (size_t i = 0; i < d->n;) {
        size_t j = i + 1;
        while (j < d->n && v[j].key == v[i].key)
            j++;
        /* Within a run of equal first halves, group by the second half;
         * runs are tiny unless there are many copies. */
        for (size_t a = i; a < j; a++) {
            uint32_t da = v[a].doc;
            if (wn__bit_get(skip, da))
                continue;
            for (size_t c = a + 1; c < j; c++) {
                uint32_t dc = v[c].doc;
                if (d->h[2 * dc + 1] != d->h[2 * da + 1])
                    continue;
                if (wn__bit_get(skip, dc))
                    continue;
                wn__uf_union(uf, da, dc);
                wn__bit_set(skip, dc); /* dc > da: sorted by doc in a run */
            }
        }
        i = j;
    }
    wn__free(v);
    return WN_OK;
}
