/*
 * judge.h - what the index asks of the deduplication rule, through the
 * library's public stages (wn_sketcher, wn_sketch, wn_sketcher_compare):
 * turn a text into its keys and an encoded sketch, and decide a pair from
 * two encoded sketches. The index (index.c) stores and looks up; it never
 * computes a similarity itself, so a record checked against the index gets
 * the decision the batch job gives the same pair.
 *
 * A judge is read-only after wn__judge_create and may be shared by
 * threads; the scratch objects (wn__jsketch, wn__jverify) are per thread.
 */
#ifndef WN_JUDGE_H
#define WN_JUDGE_H

#include "common/common.h"

/* Band keys per record, at most. */
#define WN__JUDGE_MAX_KEYS 256u

enum {
    WN__VERDICT_NONE = 0,
    WN__VERDICT_EXACT = 1,
    WN__VERDICT_NEAR = 2,
    WN__VERDICT_CONTAINED = 3
};

struct wn__judge;

/* Words of a bit set over a record's keys (WN__JUDGE_MAX_KEYS bits). */
#define WN__JUDGE_MASK_WORDS (WN__JUDGE_MAX_KEYS / 64u)

/* The sketch of one text as the index keeps it: the exact-duplicate key,
 * the LSH keys, the encoded sketch (wn_sketch_encode) and its stored form:
 * the encoded sketch without what the index can give back (the blob's
 * header, its section headers and the band keys; see wn__judge_verify).
 * Caller's storage; reused across calls; wn__jsketch_release frees it. */
struct wn__jsketch {
    uint64_t exact[2];
    int empty; /* no shingles: left out of the near-duplicate lookup */
    uint32_t nkeys;
    uint64_t keys[WN__JUDGE_MAX_KEYS];
    unsigned char *blob;
    size_t blob_len, blob_cap;
    unsigned char *stored;
    size_t stored_len, stored_cap;
    void *scratch; /* private: a struct wn_sketch */
};

/* Scratch of the verification: the two sketches decoded, the prepared
 * record's keys and the blob rebuilt from a stored form. */
struct wn__jverify {
    void *a, *b; /* private: struct wn_sketch */
    uint64_t akeys[WN__JUDGE_MAX_KEYS];
    uint32_t nakeys;
    unsigned char *buf;
    size_t cap;
};

struct wn__verdict {
    int reason; /* WN__VERDICT_*; NONE: the batch job would not remove it */
    double similarity;
    double containment;
};

/* A judge for the options (those a wn_sketcher takes). WN_EINVAL, with a
 * sentence in msg, for options the index cannot serve. */
WN_INTERNAL int wn__judge_create(const struct wn_dedup_options *o,
                                 struct wn__judge **out, char *msg,
                                 size_t msgcap);
WN_INTERNAL void wn__judge_free(struct wn__judge *j);

/* The parameters as "name value" lines, the sketcher's id last: what the
 * index stores in its meta database and compares at open. */
WN_INTERNAL int wn__judge_params(const struct wn__judge *j, struct wn_buf *b);

/* The options a params text describes (the inverse of wn__judge_params;
 * the id line is checked by wn__judge_same_id). WN_EFORMAT when a line is
 * malformed. */
WN_INTERNAL int wn__judge_parse_params(const char *p, size_t len,
                                       struct wn_dedup_options *o);
/* Whether the params text names this judge's sketcher id. */
WN_INTERNAL bool wn__judge_same_id(const struct wn__judge *j, const char *p,
                                   size_t len);

WN_INTERNAL void wn__jsketch_init(struct wn__jsketch *s);
WN_INTERNAL void wn__jsketch_release(struct wn__jsketch *s);
/* Free the sketching scratch of s, keeping keys and blob. */
WN_INTERNAL void wn__jsketch_trim(struct wn__jsketch *s);

/* Sketch text[0, len) into s. WN_OK, WN_ENOMEM, WN_ETOOBIG. */
WN_INTERNAL int wn__judge_sketch(const struct wn__judge *j, const char *text,
                                 size_t len, struct wn__jsketch *s);

WN_INTERNAL void wn__jverify_init(struct wn__jverify *w);
WN_INTERNAL void wn__jverify_release(struct wn__jverify *w);
/* Decode the new record's blob into w, for the verifications after it. */
WN_INTERNAL int wn__judge_verify_prepare(const struct wn__judge *j,
                                         struct wn__jverify *w,
                                         const unsigned char *a, size_t alen);
/*
 * Decide the pair (the prepared record, an indexed one's stored form b) as
 * the batch job does: a duplicate when the verifier says so and the batch
 * job would compare the two (exact, or sharing a band key). The stored form
 * has no band keys: shared[] says which of the prepared record's keys the
 * indexed record was found under (bit i: key i), and the indexed record's
 * keys are rebuilt as those, and different ones elsewhere, which is all
 * wn_sketcher_compare reads of them. WN_EFORMAT when b is not a stored
 * sketch of this judge.
 */
WN_INTERNAL int wn__judge_verify(const struct wn__judge *j,
                                 struct wn__jverify *w, const unsigned char *b,
                                 size_t blen, const uint64_t *shared,
                                 struct wn__verdict *v);

/* 1 when the judge stores sketches in the compact form (the blob without
 * header, section headers and band keys), 0 when it stores them as
 * encoded (a sketcher whose blobs vary in layout). */
WN_INTERNAL int wn__judge_compact(const struct wn__judge *j);

#endif /* WN_JUDGE_H */
