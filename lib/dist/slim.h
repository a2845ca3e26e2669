/*
 * slim.h - what stays on the ranks (lib/dist), and a sketch's slim form:
 * what a rank sends rank 0 of a sketch (its counts and empty flag, and
 * the sections not kept on the rank), and its encoding rebuilt on rank 0
 * (slim.c, which says the layout). No MPI: built in every build and
 * tested on its own (tests/test_wire.c).
 */
#ifndef WN_DIST_SLIM_H
#define WN_DIST_SLIM_H

#include "dedup/dedup.h"

/* Whether pairs are verified at the records' owners (verdicts.h): every
 * mode but exact verification (shingle sets) and --exact-only. */
static inline bool wn__dist_verifies_at_owners(const struct wn_sketcher *sk)
{
    return !sk->o.exact_only && !sk->need_sets && sk->rec_bytes > 0;
}

/* Whether the rule's anchor and flash joins run across the ranks
 * (rulejoin.h): whenever the verification does. */
static inline bool wn__dist_rule_at_owners(const struct wn_sketcher *sk)
{
    return wn__dist_verifies_at_owners(sk) && sk->lead_bytes > 0;
}

/* Whether the candidate pairs stay at the owners of their first documents
 * and only the accepted ones go to rank 0 (verdicts.h): under the pair
 * rule whenever the verification is at the owners. The classic rule's
 * union-find takes every pair in order on rank 0 (its counts depend on
 * it), so it keeps the pairs there. */
static inline bool wn__dist_pairs_at_owners(const struct wn_sketcher *sk)
{
    return wn__dist_verifies_at_owners(sk) && sk->rule;
}

/* The bytes of an encoding that are the same for every sketch of one
 * sketcher (magic, format, the sketcher's id). */
#define WN_SLIM_HEAD 16

/* Those bytes for sk, from the encoding of an empty text (s: a sketch of
 * sk, overwritten). */
WN_INTERNAL int wn__slim_head(const struct wn_sketcher *sk, struct wn_sketch *s,
                              uint8_t head[WN_SLIM_HEAD]);
/* The slim form of the encoding b[0, len) of a sketch of sk into out.
 * WN_EFORMAT when b is not such an encoding (a section cut short, no or
 * two cores, a flag past 8 bits). */
WN_INTERNAL int wn__slim_thin(const struct wn_sketcher *sk, const uint8_t *b,
                              size_t len, struct wn_buf *out);
/* The encoding of a sketch of sk from its slim form b[0, len) into out,
 * the hash and the sections left on the rank as zeros (no anchors); head
 * is wn__slim_head's. WN_EFORMAT when the counts are cut short or out of
 * range; the sections are copied as they are, for wn_sketch_decode to
 * check. */
WN_INTERNAL int wn__slim_thicken(const struct wn_sketcher *sk,
                                 const uint8_t head[WN_SLIM_HEAD],
                                 const char *b, size_t len, struct wn_buf *out);

#endif /* WN_DIST_SLIM_H */
