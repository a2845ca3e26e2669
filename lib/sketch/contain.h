/*
 * contain.h - candidate keys for contained copies (a lead paragraph, a
 * truncated re-filing, a headline flash inside the story that follows), so
 * that they are found by sorting keys like the LSH bands, without all-pairs
 * comparison and without the low-threshold banding of --containment.
 *
 * Two kinds of keys, joined separately (a key of one kind never meets one of
 * the other: the caller sorts them in two runs or tags them):
 *
 *   anchors  the record's non-boilerplate shingles whose mixed hash has its
 *            low log2_rate bits zero: a content-defined sample (Schleimer,
 *            Wilkerson, Aiken 2003 sample by position; this one by value, so
 *            every copy of a passage samples the same shingles). A record S
 *            inside L has all its anchors in L's, so they share a key as soon
 *            as S has one anchor: probability 1 - (1 - 2^-r)^|S|. Long records
 *            keep the cap smallest anchors, so a copy deep inside a record
 *            longer than about cap x 2^r shingles can be missed.
 *
 *   words    for the flash of a story: a short record (at most short_tokens
 *            tokens) probes with its q rarest words (by the corpus counts of
 *            the count-min sketch); every record offers the rare words of its
 *            first lead_tokens tokens (count <= max_count, at most cap of
 *            them). A probe meeting an offer in >= min(2, q) words is a
 *            candidate pair, verified by the pair rule (decide.h).
 *
 * Pure functions, no allocation, thread-safe. Outputs are sorted ascending
 * and distinct, so keys are the same on every machine and thread count.
 */
#ifndef WN_CONTAIN_H
#define WN_CONTAIN_H

#include "common/common.h"

/*
 * The anchors of the n shingle hashes sh (duplicates allowed) at rate
 * 2^-log2_rate (log2_rate <= 16), at most cap of them, into out (room for
 * cap). Returns how many. The anchor written is the mixed hash, so anchors
 * do not collide with the raw shingle hashes used elsewhere.
 */
WN_INTERNAL size_t wn__contain_anchors(const uint64_t *sh, size_t n,
                                       unsigned log2_rate, size_t cap,
                                       uint64_t *out);

/*
 * The q rarest of the n word hashes w (counts[i] is the sketch count of
 * w[i]; duplicates allowed), rarest first, ties by hash, into out (room for
 * q). Returns how many (fewer when the record has fewer distinct words).
 */
WN_INTERNAL size_t wn__contain_probes(const uint64_t *w, const uint32_t *counts,
                                      size_t n, size_t q, uint64_t *out);

/*
 * The offers of a record: its distinct words among the first n (the caller
 * passes the lead, e.g. 60 tokens) whose count is at most max_count, the
 * cap rarest of them, into out (room for cap), sorted by hash. Returns how
 * many.
 */
WN_INTERNAL size_t wn__contain_offers(const uint64_t *w, const uint32_t *counts,
                                      size_t n, uint32_t max_count, size_t cap,
                                      uint64_t *out);

#endif
