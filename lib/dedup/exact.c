/*
 * exact.c - exact duplicates: documents whose normalized token streams have
 * equal 128-bit hashes are unioned, and all but the first of each group
 * leave the near-duplicate join (Broder 1997: shingles; removing exact
 * copies first is what every production pipeline does). The hashes wait
 * in their spill file from pass 1 (hash_f); (hash, document) entries are
 * sorted in runs of the memory budget and merged (runs.c), so the stage
 * holds the budget, not 16 bytes per document: O(n log n).
 *
 * Also here: the count of records whose id an earlier record has, by
 * sorted 64-bit hashes of the ids.
 */
#include "dedup/dedup.h"
#include "dedup/runs.h"
#include "io/outfile.h"
#include "sketch/hash128.h"

int wn__count_duplicate_ids(struct wn_frame *f, const struct wn_docs *d,
                            uint64_t budget, uint64_t *count)
{
    if (d->n < 2) {
        *count = 0;
        return WN_OK;
    }
    /* 64-bit hashes of the ids, sorted in runs: a record whose hash an
     * earlier one has is counted. */
    struct wn_runs r;
    struct wn_id_cursor c;
    int rc = wn__runs_init(&r, f, 1, budget);
    if (!rc)
        rc = wn__id_cursor_init(&c, d);
    if (rc)
        return rc;
    for (size_t i = 0; i < d->n && !rc; i++) {
        const char *id;
        size_t len;
        rc = wn__id_cursor_get(&c, i, &id, &len);
        uint64_t h[2];
        if (!rc) {
            wn__hash128(id, len, 0, h);
            rc = wn__runs_add(&r, h);
        }
    }
    wn__id_cursor_release(&c);
    if (!rc)
        rc = wn__runs_finish(&r);
    uint64_t dup = 0, last = 0;
    bool any = false;
    const uint64_t *e;
    int got;
    while (!rc && (got = wn__runs_next(&r, &e)) != 0) {
        if (got < 0) {
            rc = got;
            break;
        }
        dup += any && *e == last;
        last = *e;
        any = true;
    }
    wn__runs_release(&r);
    if (!rc)
        *count = dup;
    return rc;
}

void wn__egroups_release(struct wn_egroups *e)
{
    wn__free(e->doc);
    wn__free(e->first);
    memset(e, 0, sizeof(*e));
}

int wn__egroups_add(struct wn_egroups *e, wn_docno doc, wn_docno first)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 1024;
        wn_docno *a = wn__reallocarray(e->doc, cap, sizeof(wn_docno));
        if (!a)
            return WN_ENOMEM;
        e->doc = a;
        wn_docno *b = wn__reallocarray(e->first, cap, sizeof(wn_docno));
        if (!b)
            return WN_ENOMEM;
        e->first = b;
        e->cap = cap;
    }
    e->doc[e->n] = doc;
    e->first[e->n] = first;
    e->n++;
    return WN_OK;
}

int wn__stage_exact(struct wn_frame *f, int hash_fd, size_t n, uint64_t budget,
                    struct wn_egroups *eg, uint8_t *skip)
{
    /* The two sorts are alive together (the second fills while the first
     * merges): half the budget each. */
    struct wn_runs r, byd;
    int rc = wn__runs_init(&r, f, 3, budget / 2);
    if (!rc)
        rc = wn__runs_init(&byd, f, WN_PAIR_WORDS, budget / 2);
    if (rc)
        return rc;
    /* The hashes come back from their spill a block at a time. */
    enum { BLOCK = 4096 };
    uint64_t *blk = wn__reallocarray(NULL, 2 * (size_t)BLOCK, sizeof(uint64_t));
    if (!blk)
        rc = WN_ENOMEM;
    for (size_t at = 0; at < n && !rc; at += BLOCK) {
        size_t k = WN_MIN((size_t)BLOCK, n - at);
        rc = wn__pread_full(hash_fd, blk, k * 16, (uint64_t)at * 16);
        for (size_t i = 0; i < k && !rc; i++) {
            uint64_t e[3] = {blk[2 * i], blk[2 * i + 1], at + i};
            rc = wn__runs_add(&r, e);
        }
    }
    wn__free(blk);
    if (!rc)
        rc = wn__runs_finish(&r);
    /* Equal hashes are adjacent, in input order: every member but the
     * first goes, as the pair (doc, first), to a second sort by document. */
    uint64_t h0 = 0, h1 = 0;
    wn_docno first = WN_DOCNO_NONE;
    const uint64_t *e;
    int got;
    while (!rc && (got = wn__runs_next(&r, &e)) != 0) {
        if (got < 0) {
            rc = got;
            break;
        }
        wn_docno d = (wn_docno)e[2];
        if (first != WN_DOCNO_NONE && e[0] == h0 && e[1] == h1) {
            uint64_t x[WN_PAIR_WORDS];
            wn__pair_words(wn__pair(d, first), x);
            rc = wn__runs_add(&byd, x);
        } else {
            h0 = e[0];
            h1 = e[1];
            first = d;
        }
    }
    wn__runs_release(&r);
    if (!rc)
        rc = wn__runs_finish(&byd);
    while (!rc && (got = wn__runs_next(&byd, &e)) != 0) {
        if (got < 0) {
            rc = got;
            break;
        }
        wn_docpair x = wn__pair_of_words(e);
        wn__bit_set(skip, wn__pair_a(x));
        rc = wn__egroups_add(eg, wn__pair_a(x), wn__pair_b(x));
    }
    wn__runs_release(&byd);
    return rc;
}
