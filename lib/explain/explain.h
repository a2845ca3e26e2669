/*
 * explain.h - the pieces behind wn_explain(): the alignment of two token
 * lists into maximal shared runs (align.c) and the dedup verdict for a pair
 * (verdict.c). lib/report draws its side-by-side views from them.
 */
#ifndef WN_EXPLAIN_H
#define WN_EXPLAIN_H

#include "common/common.h"

/* A shared run in token coordinates: tokens [a, a + len) of A equal
 * tokens [b, b + len) of B. */
struct wn__align_run {
    size_t a, b, len;
};

/*
 * The maximal shared runs of ta and tb (winnowing seeds extended both ways),
 * chosen longest first, non-overlapping on both sides, at least min_run
 * tokens each, returned in the order of A in *runs (allocated with
 * wn__malloc, *n of them; NULL when none). Fingerprints are hashes of kgram
 * tokens; the minimum of every window of `window` fingerprints is kept.
 * Returns WN_OK or WN_ENOMEM (*runs, *n untouched). kgram, window and
 * min_run are at least 1.
 */
WN_INTERNAL int wn__explain_align(const struct wn_tokens *ta,
                                  const struct wn_tokens *tb, unsigned kgram,
                                  unsigned window, unsigned min_run,
                                  uint64_t seed, struct wn__align_run **runs,
                                  size_t *n);

/*
 * The scores and verdict that `winnow dedup` with the options would give
 * the pair of texts a and b (tokenized as ta, tb), pairwise (no clustering
 * through third records): the verdict is wn_sketcher_compare's, the rule
 * of the batch job, for the options' profile. Returns WN_OK, WN_EINVAL or
 * WN_ENOMEM (*s untouched on error).
 */
WN_INTERNAL int wn__explain_verdict(const char *a, size_t alen, const char *b,
                                    size_t blen, const struct wn_tokens *ta,
                                    const struct wn_tokens *tb,
                                    const struct wn_explain_options *o,
                                    struct wn_explain_scores *s);

#endif /* WN_EXPLAIN_H */
