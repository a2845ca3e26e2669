/*
 * similarity.c - exact Jaccard and containment of two texts, with the same
 * normalization and shingles as the dedup pipeline (Broder 1997). Used by
 * `winnow similarity` to score labelled pairs. O(n log n) in the shingles.
 */
#include "sketch/sketch.h"

static int shingle_set(const char *text, size_t len, int mode, unsigned ngram,
                       struct wn_tokens *t, uint64_t **sh, size_t *n,
                       size_t *cap)
{
    int rc = wn_tokenize(text, len, mode, t);
    if (!rc)
        rc = wn__shingles(t, ngram, 1, sh, n, cap);
    if (!rc)
        *n = wn__u64_sort_unique(*sh, *n);
    return rc;
}

int wn_text_similarity(const char *a, size_t alen, const char *b, size_t blen,
                       int token_mode, unsigned ngram,
                       struct wn_similarity *out)
{
    if ((!a && alen) || (!b && blen) || !out || ngram == 0)
        return WN_EINVAL;
    struct wn_tokens t;
    wn_tokens_init(&t);
    uint64_t *sa = NULL, *sb = NULL;
    size_t na = 0, nb = 0, ca = 0, cb = 0;
    int rc =
        shingle_set(a ? a : "", alen, token_mode, ngram, &t, &sa, &na, &ca);
    if (!rc)
        rc =
            shingle_set(b ? b : "", blen, token_mode, ngram, &t, &sb, &nb, &cb);
    if (!rc) {
        size_t shared = wn__intersect_sorted(sa, na, sb, nb);
        size_t uni = na + nb - shared;
        size_t mn = na < nb ? na : nb;
        out->jaccard = uni ? (double)shared / (double)uni : 1.0;
        out->containment = mn ? (double)shared / (double)mn : 1.0;
        out->shingles_a = na;
        out->shingles_b = nb;
        out->shared = shared;
    }
    wn_tokens_release(&t);
    wn__free(sa);
    wn__free(sb);
    return rc;
}
