/*
 * verdict.c - the scores and the verdict `winnow dedup` would give a pair of
 * texts. The verdict is the dedup rule itself: both texts are sketched by a
 * wn_sketcher made from the options (profile news, classic or web) and the
 * pair is decided by wn_sketcher_compare, the verifier the batch job and
 * the index use, so explain cannot drift from dedup. Beside it, the exact
 * scores of the shingle sets (Jaccard, containment both ways), which the
 * rule estimates from its sketches.
 *
 * The batch job removes the later record of a pair when the rule says
 * "same" and the pair is exact or a candidate (the sketches share a band
 * key); the verdict says which of those held.
 */
#include "explain/explain.h"
#include "sketch/sketch.h"

#include <stdio.h>
#include <string.h>

static const char *profile_name(int p)
{
    return p == WN_PROFILE_NEWS  ? "news"
           : p == WN_PROFILE_WEB ? "web"
                                 : "classic";
}

/* The exact scores of the shingle sets. */
static int exact_scores(const struct wn_tokens *ta, const struct wn_tokens *tb,
                        const struct wn_explain_options *o,
                        struct wn_explain_scores *s)
{
    uint64_t *sa = NULL, *sb = NULL;
    size_t na = 0, nb = 0, ca = 0, cb = 0;
    int rc = wn__shingles(ta, o->ngram, o->seed, &sa, &na, &ca);
    if (!rc)
        rc = wn__shingles(tb, o->ngram, o->seed, &sb, &nb, &cb);
    if (!rc) {
        na = wn__u64_sort_unique(sa, na);
        nb = wn__u64_sort_unique(sb, nb);
        s->tokens_a = ta->n;
        s->tokens_b = tb->n;
        s->shingles_a = na;
        s->shingles_b = nb;
        s->shared = wn__intersect_sorted(sa, na, sb, nb);
        uint64_t uni = na + nb - s->shared;
        s->jaccard = uni ? (double)s->shared / (double)uni : 1.0;
        s->containment_a = na ? (double)s->shared / (double)na : 1.0;
        s->containment_b = nb ? (double)s->shared / (double)nb : 1.0;
    }
    wn__free(sa);
    wn__free(sb);
    return rc;
}

/* The verdict and its sentence from the rule's answer. */
static void decide(struct wn_explain_scores *s, const struct wn_verdict *v,
                   const struct wn_sketcher_info *in, bool empty_a,
                   bool empty_b)
{
    const char *rule = profile_name(in->profile);
    const char *how = in->verify == WN_VERIFY_EXACT ? "exact" : "estimated";
    /* The web rule is the news rule without the figure test. */
    bool figs = in->profile == WN_PROFILE_NEWS;
    char fig[40] = "";
    if (figs)
        snprintf(fig, sizeof(fig), ", figures %s", wn_figures_name(v->figures));
    if (v->same && v->reason == WN_REASON_EXACT) {
        s->verdict = WN_VERDICT_EXACT;
        snprintf(s->reason, sizeof(s->reason),
                 "exact duplicate: the normalized texts are the same");
    } else if (!v->same && (empty_a || empty_b)) {
        s->verdict = WN_VERDICT_EMPTY;
        snprintf(s->reason, sizeof(s->reason),
                 "kept apart: text %s has no shingle, and dedup compares "
                 "empty texts only with each other",
                 empty_a ? "A" : "B");
    } else if (!v->candidate) {
        s->verdict = WN_VERDICT_DISTINCT;
        snprintf(s->reason, sizeof(s->reason),
                 "not a candidate: no LSH band of %u rows agrees "
                 "(probability %.3f at Jaccard %.3f)%s",
                 s->rows, s->candidate_probability, s->jaccard,
                 v->same ? ", though the rule alone would pass it" : "");
    } else if (v->same && v->reason == WN_REASON_NEAR) {
        s->verdict = WN_VERDICT_NEAR;
        snprintf(s->reason, sizeof(s->reason),
                 "near duplicate (%s rule): %s Jaccard %.4f >= threshold "
                 "%.2f%s",
                 rule, how, v->similarity, in->threshold, fig);
    } else if (v->same && v->reason == WN_REASON_CONTAINED) {
        s->verdict = WN_VERDICT_CONTAINED;
        /* The news and web rules take 0 for their default, 0.7. */
        double c = in->containment > 0 ? in->containment : 0.7;
        snprintf(s->reason, sizeof(s->reason),
                 "contained (%s rule): %s Jaccard %.4f < %.2f but "
                 "containment %.4f >= %.2f%s",
                 rule, how, v->similarity, in->threshold, v->containment, c,
                 fig);
    } else if (v->same) {
        s->verdict = WN_VERDICT_FLASH;
        snprintf(s->reason, sizeof(s->reason),
                 "flash (%s rule): the shorter text's rare words lead the "
                 "other (%s Jaccard %.4f)%s",
                 rule, how, v->similarity, fig);
    } else {
        s->verdict = WN_VERDICT_DISTINCT;
        bool conflict = figs && v->figures == WN_FIGURES_CONFLICT &&
                        v->similarity >= in->threshold;
        snprintf(s->reason, sizeof(s->reason),
                 "distinct (%s rule): %s Jaccard %.4f %s threshold %.2f, "
                 "containment %.4f%s",
                 rule, how, v->similarity, conflict ? ">=" : "<", in->threshold,
                 v->containment, conflict ? ", but the figures conflict" : "");
    }
}

int wn__explain_verdict(const char *a, size_t alen, const char *b, size_t blen,
                        const struct wn_tokens *ta, const struct wn_tokens *tb,
                        const struct wn_explain_options *o,
                        struct wn_explain_scores *out)
{
    struct wn_dedup_options d;
    wn_dedup_options_init(&d);
    d.token_mode = o->token_mode;
    d.ngram = o->ngram;
    d.num_perm = o->num_perm;
    d.threshold = o->threshold;
    d.containment = o->containment;
    d.verify = o->verify;
    d.seed = o->seed;
    d.profile = o->profile;
    d.threads = 1;
    struct wn_explain_scores s;
    memset(&s, 0, sizeof(s));
    struct wn_sketcher *sk = NULL;
    struct wn_sketch *ka = NULL, *kb = NULL;
    int rc = wn_sketcher_create(&d, &sk);
    if (!rc)
        rc = wn_sketch_create(sk, &ka);
    if (!rc)
        rc = wn_sketch_create(sk, &kb);
    if (!rc)
        rc = wn_sketcher_sketch(sk, a, alen, ka);
    if (!rc)
        rc = wn_sketcher_sketch(sk, b, blen, kb);
    struct wn_verdict v;
    memset(&v, 0, sizeof(v));
    if (!rc)
        rc = wn_sketcher_compare(sk, ka, kb, &v);
    if (!rc)
        rc = exact_scores(ta, tb, o, &s);
    if (!rc) {
        struct wn_sketcher_info in;
        wn_sketcher_get_info(sk, &in);
        s.profile = in.profile;
        s.figures = v.figures;
        s.bands = in.bands;
        s.rows = in.rows;
        size_t nka = 0, nkb = 0;
        const uint64_t *keys_a = wn_sketch_band_keys(ka, &nka);
        const uint64_t *keys_b = wn_sketch_band_keys(kb, &nkb);
        for (size_t i = 0; i < nka && i < nkb; i++)
            s.bands_shared += keys_a[i] == keys_b[i];
        s.candidate_probability =
            wn_lsh_probability(s.jaccard, s.bands, s.rows);
        s.exact = v.same && v.reason == WN_REASON_EXACT;
        s.jaccard_estimate = v.similarity;
        s.containment_estimate = v.containment;
        decide(&s, &v, &in, wn_sketch_is_empty(ka), wn_sketch_is_empty(kb));
        *out = s;
    }
    wn_sketch_free(ka);
    wn_sketch_free(kb);
    wn_sketcher_free(sk);
    return rc;
}
