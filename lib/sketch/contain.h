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
/* The same with the AVX-512 scan (simd, used where the CPU has it and
 * WINNOW_NO_SIMD is unset) or the
 * portable one: the same anchors (the tests compare the two). */
WN_INTERNAL size_t wn__contain_anchors_variant(const uint64_t *sh, size_t n,
                                               unsigned log2_rate, size_t cap,
                                               uint64_t *out, bool simd);

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

/* ---------------------------------------------------------------------- */
/* Lead words and the flash test's word weights (docs/QUALITY.md phase 3)  */
/* ---------------------------------------------------------------------- */

/* Tokens of a record's lead, and the most distinct words kept of it. */
#define WN_LEAD_TOKENS 64U
/* The lead section of a record's spilled verification data: a 32-bit
 * count, then WN_LEAD_TOKENS 32-bit word hashes, ascending, zero-padded. */
#define WN_LEAD_BYTES (4U + 4U * WN_LEAD_TOKENS)

struct wn_tokens;
struct wn_cms;

/*
 * The distinct 32-bit word hashes of the first WN_LEAD_TOKENS tokens of t
 * (seeded), ascending, into out (room for WN_LEAD_TOKENS). Returns how
 * many.
 */
WN_INTERNAL size_t wn__contain_lead_words(const struct wn_tokens *t,
                                          uint64_t seed, uint32_t *out);
/* The same with the AVX-512 sort (simd, used where the CPU has it and
 * WINNOW_NO_SIMD is unset) or the
 * portable one: the same words (the tests compare the two). */
WN_INTERNAL size_t wn__contain_lead_words_variant(const struct wn_tokens *t,
                                                  uint64_t seed, uint32_t *out,
                                                  bool simd);
/* Pack n lead words (n <= WN_LEAD_TOKENS) into WN_LEAD_BYTES at p, and
 * back: returns the count, words into out (room for WN_LEAD_TOKENS). */
WN_INTERNAL void wn__lead_pack(const uint32_t *w, size_t n, uint8_t *p);
WN_INTERNAL size_t wn__lead_unpack(const uint8_t *p, uint32_t *out);

/* The 64-bit key of a lead word in the word-count sketch. */
static inline uint64_t wn__lead_key(uint32_t w)
{
    return (uint64_t)w * 0x9E3779B97F4A7C15ULL ^ 0xD6E8FEB86659FD93ULL;
}

/* The word document-frequency table: a count-min sketch of the distinct lead
 * words of every record, and the records counted. */
struct wn_words {
    const struct wn_cms *cms;
    uint64_t n;
};

/*
 * The flash test's word facts of a short record s against l: weight is the
 * sum of idf = log(n / df) over s's words (df from the table, at least 1),
 * share the part of that weight whose words are among l's lead words.
 * Both lists ascending. With no table (NULL), weight and share are 0: the
 * flash test does not pass without corpus counts.
 */
WN_INTERNAL void wn__contain_flash_words(const struct wn_words *wt,
                                         const uint32_t *s, size_t ns,
                                         const uint32_t *l, size_t nl,
                                         double *share, double *weight);

/* Whether two ascending key arrays share a value. */
WN_INTERNAL bool wn__contain_meet(const uint64_t *a, size_t na,
                                  const uint64_t *b, size_t nb);

#endif
