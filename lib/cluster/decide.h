/*
 * decide.h - the pair rule of the news-quality design (issue 12,
 * docs/QUALITY.md "News quality rule"): from what the verifier measured of
 * two candidate records, the verdict "same item" or not and the reason.
 *
 * The rule, with s the smaller record (fewer tokens; on a tie, b) and l the
 * other:
 *   near       J >= t_near and the figures do not conflict (or exactly one
 *              figure is replaced and J >= t_one_fig);
 *   contained  containment of s in l >= t_cont, s at least min_cont_ratio
 *              of l's size, and every figure of s is in l (or neither has
 *              one);
 *   flash      s has at most short_tokens tokens, its words weigh at least
 *              min_weight (idf, nats), the idf-weighted share of them found
 *              in l is >= t_words (>= t_words_nofig when s has no figure),
 *              and every figure of s is in l;
 * else not the same item: reason "figures" when a word test passed but the
 * figures did not, "different" otherwise. Jaccard and containment are over
 * the records' non-boilerplate shingles (boilerplate weighs nothing).
 *
 * Pure function of its inputs, thread-safe, O(1).
 */
#ifndef WN_DECIDE_H
#define WN_DECIDE_H

#include "common/common.h"
#include "text/figures.h"

struct wn_quality_params {
    double t_near;         /* Jaccard for a near copy (0.5) */
    double t_cont;         /* containment for a contained copy (0.7) */
    uint32_t short_tokens; /* a flash has at most this many tokens (40) */
    double t_words;        /* weighted word containment of a flash (0.8) */
    double t_words_nofig;  /* the same when the flash has no figure (0.9) */
    double min_weight;     /* least idf weight of a flash's words (20) */
    double max_conflict;   /* figures replaced / figures, at most (0.1) */
    double t_one_fig; /* Jaccard above which one replaced figure is an update of
                         the same item (0.65) */
    /* Least size of s against l (shingles) for the contained verdict: an
     * estimated containment rests on the bins where both records agree, of
     * which a record much smaller than the other has too few for a verdict
     * (the verifier sets 4 / bins; 0 with exact sets, the default). */
    double min_cont_ratio;
};

/* The measured defaults (bench/quality_proto.py, docs/QUALITY.md). */
WN_INTERNAL void wn__quality_params_default(struct wn_quality_params *p);

/* What the verifier knows of a candidate pair a, b (a before b in input). */
struct wn_pair_facts {
    double jaccard;    /* of the non-boilerplate shingles */
    double cont_a;     /* share of a's shingles in b */
    double cont_b;     /* share of b's shingles in a */
    uint32_t tokens_a; /* tokens of a */
    uint32_t tokens_b;
    double words_a;  /* idf-weighted share of a's words in b */
    double words_b;  /* ... of b's words in a */
    double weight_a; /* idf weight of a's words (nats) */
    double weight_b;
    struct wn_fig_cmp figs; /* a's figures against b's */
};

enum wn_quality_reason {
    WN_Q_NEAR = 0,
    WN_Q_CONTAINED,
    WN_Q_FLASH,
    WN_Q_FIGURES,   /* not the same: the words matched, the figures did not */
    WN_Q_DIFFERENT, /* not the same: the words do not match */
};

struct wn__quality_verdict {
    bool same;
    enum wn_quality_reason reason;
    bool smaller_is_a;               /* s = a (else s = b) */
    enum wn_fig_agreement agreement; /* of a against b */
};

WN_INTERNAL void wn__quality_decide(const struct wn_pair_facts *f,
                                    const struct wn_quality_params *p,
                                    struct wn__quality_verdict *out);

/* "near", "contained", "flash", "figures", "different". */
WN_INTERNAL const char *wn__quality_reason_name(enum wn_quality_reason r);

#endif
