/*
 * rulejoin.h - the news/web rule's own candidate joins across MPI ranks
 * (lib/dist): the word counts of the flash test added up over the ranks,
 * the anchor join by key range (as the band join: exchange.h) and the
 * flash join by block owner, so that rank 0 needs no other rank's lead
 * words or anchors. The pairs are those of wn__stage_rule_candidates in
 * one process (lib/dedup/candidates.c, whose bucket rule and flash join
 * run here on each rank's share). Called by every rank at once
 * (collective), after the band join and before the verification; the
 * design and the traffic are in docs/SCALING.md ("The rule's joins").
 */
#ifndef WN_DIST_RULEJOIN_H
#define WN_DIST_RULEJOIN_H

#include "dist/verdicts.h"

#include <stdio.h>

struct wn_dist_rule {
    const struct wn_sketcher *sk;
    /* The run's units and this rank's records (lead words, shingle
     * counts): v->wt is set here to the run's word counts. */
    struct wn_dist_verifier *v;
    size_t ndocs;
    const uint8_t *skip; /* documents left out (ndocs / 8 + 1 bytes) */
    /* This rank's word counts of its documents' lead words in, the sum
     * over the ranks out (NULL: none, the sketcher has no lead words). */
    struct wn_cms *words;
    /* This rank's anchors. Rank 0 (job_format): the job's anchor spills,
     * nfiles files of 12-byte entries (le64 key, le32 document number),
     * nanch[f] entries in file f. Another rank: one file of struct
     * wn_keydoc {key, local number of the document, its anchors}. */
    FILE *const *anch_f;
    const uint64_t *nanch;
    uint32_t nfiles;
    bool job_format;
    /* Another rank: its short documents (shingles at most the rule's
     * short_tokens), one bit by local number; rank 0 reads the job's
     * shingle counts (v->docs). */
    const uint8_t *shortb;
    uint32_t anchor_bucket_max, anchor_hits;
    uint64_t memory; /* the run's --memory (0: the default budget) */
    /* The pairs stay on the rank that found them (every rank passes
     * pairs), for wn__dist_pairs_to_owners; else they go to rank 0. */
    bool keep_pairs;
    const char *tmp_dir;
    volatile int *cancel;
    struct wn_dist_traffic *t;
};

/*
 * The rule's candidate pairs of the whole run (collective). On rank 0 they
 * are appended to *pairs (*npairs of room *cap, grown as needed), sorted
 * and distinct among themselves; the other ranks pass pairs NULL. With
 * r->keep_pairs, every rank's pairs are appended to its own *pairs
 * instead (unsorted; another rank may find some of them too). st gets
 * this rank's part of the join's figures (anchor_pairs may count a pair
 * twice when two ranks find it).
 */
WN_INTERNAL int wn__dist_rule_join(const struct wn_dist_rule *r,
                                   wn_docpair **pairs, size_t *npairs,
                                   size_t *cap, struct wn_rule_join_stats *st);

#endif /* WN_DIST_RULEJOIN_H */
