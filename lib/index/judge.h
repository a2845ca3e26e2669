/*
 * judge.h - what the index asks of the deduplication rule: turn a text into
 * its keys and a compact verification blob, and decide a pair from two
 * blobs. The persistent index (index.c) stores and looks up; it never
 * computes a similarity itself, so a record checked against the index gets
 * the decision the batch job gives the same pair.
 *
 * Everything here is thread-safe for distinct scratch objects; a judge is
 * read-only after wn__judge_init.
 */
#ifndef WN_JUDGE_H
#define WN_JUDGE_H

#include "common/common.h"

/* Band keys per record, at most (SimHash tables or MinHash bands). */
#define WN__JUDGE_MAX_KEYS 256u

enum wn_index_reason_internal {
    WN__VERDICT_NONE = 0,
    WN__VERDICT_EXACT = 1,
    WN__VERDICT_NEAR = 2,
    WN__VERDICT_CONTAINED = 3
};

struct wn__judge;

/* The sketch of one text: the exact-duplicate key, the LSH keys and the
 * verification blob the index stores. Caller's storage; reused across
 * calls; wn__jsketch_release frees it. */
struct wn__jsketch {
    uint64_t exact[2];
    int empty; /* no shingles: left out of the near-duplicate lookup */
    uint32_t nkeys;
    uint64_t keys[WN__JUDGE_MAX_KEYS];
    unsigned char *blob;
    size_t blob_len, blob_cap;
    void *scratch; /* private */
};

struct wn__verdict {
    int reason; /* WN__VERDICT_*; NONE: not a duplicate */
    double similarity;
    double containment;
};

/* A judge for the options (the dedup ones: method, tokens, ngram, K,
 * threshold, bands/rows, sketch, verify, containment, hamming, seed).
 * WN_EINVAL for options the index cannot serve, with a reason in msg. */
WN_INTERNAL int wn__judge_create(const struct wn_dedup_options *o,
                                 struct wn__judge **out, char *msg,
                                 size_t msgcap);
WN_INTERNAL void wn__judge_free(struct wn__judge *j);

/* The parameters as "name value" lines: what the index stores in its meta
 * database and compares at open. */
WN_INTERNAL int wn__judge_params(const struct wn__judge *j, struct wn_buf *b);

/* The options a params text describes (the inverse of wn__judge_params);
 * WN_EFORMAT when a line is unknown or malformed. */
WN_INTERNAL int wn__judge_parse_params(const char *p, size_t len,
                                       struct wn_dedup_options *o);

WN_INTERNAL void wn__jsketch_init(struct wn__jsketch *s);
WN_INTERNAL void wn__jsketch_release(struct wn__jsketch *s);

/* Sketch text[0, len) into s. WN_OK, WN_ENOMEM, WN_ETOOBIG. */
WN_INTERNAL int wn__judge_sketch(const struct wn__judge *j, const char *text,
                                 size_t len, struct wn__jsketch *s);

/* Decide the pair (a, the new record; b, an indexed one) from their blobs.
 * WN_EFORMAT when a blob has the wrong size. */
WN_INTERNAL int wn__judge_verify(const struct wn__judge *j,
                                 const unsigned char *a, size_t alen,
                                 const unsigned char *b, size_t blen,
                                 struct wn__verdict *v);

#endif /* WN_JUDGE_H */
