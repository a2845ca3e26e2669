/*
 * verdict.c - the scores and the verdict `winnow dedup` would give a pair of
 * texts, computed from the same pieces as lib/dedup/engine.c: the 128-bit
 * hash of the normalized tokens (exact stage), word n-gram shingles, the
 * one-permutation MinHash with its fine verification bins kept at 4 bits
 * (b-bit MinHash, Li and Koenig 2010; estimator of Li, Owen and Zhang
 * 2012), the LSH banding chosen from the threshold, and the acceptance rule
 * (Jaccard at or above the threshold, or containment when it is on).
 *
 * wn__explain_verdict() is the one place that knows that rule. It copies
 * engine.c's similarity() and accept() as of this writing; when lib/dedup
 * exposes its verifier (wn_sketcher/compare in include/winnow.h), this
 * function should call it instead and keep only the exact scores.
 */
#include "explain/explain.h"
#include "lsh/lsh.h"
#include "sketch/hash128.h"
#include "sketch/sketch.h"

#include <stdio.h>
#include <string.h>

/* The fine bins per coarse one (engine.c: configure()). */
#define FINE_PER_BIN 4u

struct side {
    uint64_t *sh;
    size_t n, cap;
    uint32_t sig[WN_MINHASH_MAX_K];
    uint32_t fine[WN_MINHASH_MAX_K];
    uint64_t keys[WN_MINHASH_MAX_K];
};

static int sketch_side(const struct wn_tokens *t,
                       const struct wn_explain_options *o, uint32_t vk,
                       uint32_t bands, uint32_t rows, struct side *s)
{
    int rc = wn__shingles(t, o->ngram, o->seed, &s->sh, &s->n, &s->cap);
    if (rc)
        return rc;
    s->n = wn__u64_sort_unique(s->sh, s->n);
    rc = wn__minhash_oph_fine(s->sh, s->n, o->num_perm, vk / o->num_perm,
                              o->seed, s->sig, s->fine);
    if (rc < 0)
        return rc;
    wn__lsh_band_keys(s->sig, bands, rows, o->seed, s->keys);
    return WN_OK;
}

/* A fine bin as engine.c spills it: 4 bits, 0xF for an empty bin. */
static unsigned nibble(uint32_t v)
{
    if (v == WN_SIG_EMPTY)
        return 0xF;
    unsigned x = v & 0xF;
    return x == 0xF ? 0xE : x;
}

/* engine.c similarity(), the OPH branch: the estimate from 4-bit bins. */
static double estimate(const uint32_t *fa, const uint32_t *fb, uint32_t vk)
{
    uint32_t used = 0, both = 0, eq = 0;
    for (uint32_t i = 0; i < vk; i++) {
        unsigned xa = nibble(fa[i]), xb = nibble(fb[i]);
        bool ea = xa == 0xF, eb = xb == 0xF;
        used += !(ea && eb);
        both += !ea && !eb;
        eq += !ea && xa == xb;
    }
    const double p = 1.0 / 15.0;
    double j =
        used ? ((double)eq - p * both) / ((double)used * (1.0 - p)) : 1.0;
    return j < 0 ? 0 : j > 1 ? 1 : j;
}

int wn__explain_verdict(const struct wn_tokens *ta, const struct wn_tokens *tb,
                        const struct wn_explain_options *o,
                        struct wn_explain_scores *out)
{
    if (o->ngram == 0 || o->num_perm == 0 || o->num_perm > WN_MINHASH_MAX_K ||
        !(o->threshold > 0 && o->threshold < 1))
        return WN_EINVAL;
    struct wn_explain_scores s;
    memset(&s, 0, sizeof(s));
    /* The banding dedup would choose (engine.c: configure()). */
    double t = o->threshold;
    if (o->containment > 0)
        t = WN_MIN(t, o->containment / (3.0 - o->containment));
    struct wn_lsh_params lp;
    int rc = wn__lsh_optimal(t, o->num_perm, WN_LSH_WEIGHT_FP, WN_LSH_WEIGHT_FN,
                             &lp);
    if (rc)
        return rc;
    s.bands = lp.bands;
    s.rows = lp.rows;
    uint32_t m = WN_MIN(FINE_PER_BIN, WN_MINHASH_MAX_K / o->num_perm);
    uint32_t vk = o->num_perm * (m ? m : 1);

    struct side *a = wn__calloc(1, sizeof(*a)), *b = wn__calloc(1, sizeof(*b));
    rc = a && b ? WN_OK : WN_ENOMEM;
    if (!rc)
        rc = sketch_side(ta, o, vk, s.bands, s.rows, a);
    if (!rc)
        rc = sketch_side(tb, o, vk, s.bands, s.rows, b);
    if (!rc) {
        uint64_t ha[2], hb[2];
        wn__hash128(ta->norm, ta->norm_len, o->seed, ha);
        wn__hash128(tb->norm, tb->norm_len, o->seed, hb);
        s.exact = ha[0] == hb[0] && ha[1] == hb[1];
        s.tokens_a = ta->n;
        s.tokens_b = tb->n;
        s.shingles_a = a->n;
        s.shingles_b = b->n;
        s.shared = wn__intersect_sorted(a->sh, a->n, b->sh, b->n);
        uint64_t uni = a->n + b->n - s.shared;
        s.jaccard = uni ? (double)s.shared / (double)uni : 1.0;
        s.containment_a = a->n ? (double)s.shared / (double)a->n : 1.0;
        s.containment_b = b->n ? (double)s.shared / (double)b->n : 1.0;
        s.jaccard_estimate = estimate(a->fine, b->fine, vk);
        double inter = s.jaccard_estimate * (double)(a->n + b->n) /
                       (1.0 + s.jaccard_estimate);
        double mn = (double)WN_MIN(a->n, b->n);
        s.containment_estimate = mn > 0 ? WN_MIN(1.0, inter / mn) : 1.0;
        for (uint32_t i = 0; i < s.bands; i++)
            s.bands_shared += a->keys[i] == b->keys[i];
        s.candidate_probability =
            wn__lsh_candidate_prob(s.jaccard, s.bands, s.rows);

        /* The rule: engine.c's exact stage, then the join, similarity()
         * and accept(). */
        bool exact_verify = o->verify == WN_VERIFY_EXACT;
        double jac = exact_verify ? s.jaccard : s.jaccard_estimate;
        double cont = exact_verify ? WN_MAX(s.containment_a, s.containment_b)
                                   : s.containment_estimate;
        const char *how = exact_verify ? "exact" : "estimated";
        if (s.exact) {
            s.verdict = WN_VERDICT_EXACT;
            snprintf(s.reason, sizeof(s.reason),
                     "exact duplicate: the normalized texts are the same");
        } else if (ta->n == 0 || tb->n == 0) {
            s.verdict = WN_VERDICT_EMPTY;
            snprintf(s.reason, sizeof(s.reason),
                     "kept apart: text %s has no tokens, and dedup compares "
                     "empty texts only with each other",
                     ta->n == 0 ? "A" : "B");
        } else if (s.bands_shared == 0) {
            s.verdict = WN_VERDICT_DISTINCT;
            snprintf(s.reason, sizeof(s.reason),
                     "not a candidate: no LSH band of %u rows agrees "
                     "(probability %.3f at Jaccard %.3f)",
                     s.rows, s.candidate_probability, s.jaccard);
        } else if (jac >= o->threshold) {
            s.verdict = WN_VERDICT_NEAR;
            snprintf(s.reason, sizeof(s.reason),
                     "near duplicate: %s Jaccard %.4f >= threshold %.2f", how,
                     jac, o->threshold);
        } else if (o->containment > 0 && cont >= o->containment) {
            s.verdict = WN_VERDICT_CONTAINED;
            snprintf(s.reason, sizeof(s.reason),
                     "contained: %s Jaccard %.4f < %.2f but containment "
                     "%.4f >= %.2f",
                     how, jac, o->threshold, cont, o->containment);
        } else {
            s.verdict = WN_VERDICT_DISTINCT;
            snprintf(s.reason, sizeof(s.reason),
                     "distinct: %s Jaccard %.4f < threshold %.2f%s", how, jac,
                     o->threshold,
                     o->containment > 0 ? " and containment below its bound"
                                        : "");
        }
        *out = s;
    }
    if (a)
        wn__free(a->sh);
    if (b)
        wn__free(b->sh);
    wn__free(a);
    wn__free(b);
    return rc;
}
