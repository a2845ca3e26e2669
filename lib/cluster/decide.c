/*
 * decide.c - the pair rule (see decide.h). Kept apart from the verifier so
 * that the batch engine, the streaming index and the tests ask the same
 * question the same way.
 */
#include "cluster/decide.h"

#include <assert.h>

void wn__quality_params_default(struct wn_quality_params *p)
{
    assert(p != NULL);
    p->t_near = 0.5;
    p->t_cont = 0.7;
    p->short_tokens = 40;
    p->t_words = 0.8;
    p->t_words_nofig = 0.9;
    p->min_weight = 20.0;
    p->max_conflict = 0.1;
    p->t_one_fig = 0.65;
    p->min_cont_ratio = 0;
}

void wn__quality_decide(const struct wn_pair_facts *f,
                        const struct wn_quality_params *p,
                        struct wn__quality_verdict *out)
{
    assert(f != NULL && p != NULL && out != NULL);
    struct wn__quality_verdict v;
    v.smaller_is_a = f->tokens_a < f->tokens_b;
    v.agreement = wn__fig_agreement_of(&f->figs, p->max_conflict);
    /* Seen from s: its figures that l lacks, and whether it has any. */
    unsigned s_only = v.smaller_is_a ? f->figs.only_a : f->figs.only_b;
    unsigned s_figs = f->figs.common + s_only;
    double cont_s = v.smaller_is_a ? f->cont_a : f->cont_b;
    double words_s = v.smaller_is_a ? f->words_a : f->words_b;
    double weight_s = v.smaller_is_a ? f->weight_a : f->weight_b;
    uint32_t tokens_s = v.smaller_is_a ? f->tokens_a : f->tokens_b;
    /* One updated figure (a corrected amount, a later time) in a text that
     * is otherwise a close copy does not make another item. */
    bool near_figs = v.agreement != WN_FIG_CONFLICT ||
                     (WN_MIN(f->figs.only_a, f->figs.only_b) == 1 &&
                      f->jaccard >= p->t_one_fig);
    bool cont_figs = s_only == 0;

    bool near_words = f->jaccard >= p->t_near;
    uint32_t tokens_l = v.smaller_is_a ? f->tokens_b : f->tokens_a;
    bool cont_words = cont_s >= p->t_cont &&
                      (double)tokens_s >= p->min_cont_ratio * (double)tokens_l;
    bool flash_words = tokens_s <= p->short_tokens &&
                       weight_s >= p->min_weight &&
                       words_s >= (s_figs > 0 ? p->t_words : p->t_words_nofig);

    v.same = true;
    if (near_words && near_figs)
        v.reason = WN_Q_NEAR;
    else if (cont_words && cont_figs)
        v.reason = WN_Q_CONTAINED;
    else if (flash_words && cont_figs)
        v.reason = WN_Q_FLASH;
    else {
        v.same = false;
        v.reason = (near_words || cont_words || flash_words) ? WN_Q_FIGURES
                                                             : WN_Q_DIFFERENT;
    }
    *out = v;
}

const char *wn__quality_reason_name(enum wn_quality_reason r)
{
    switch (r) {
    case WN_Q_NEAR:
        return "near";
    case WN_Q_CONTAINED:
        return "contained";
    case WN_Q_FLASH:
        return "flash";
    case WN_Q_FIGURES:
        return "figures";
    case WN_Q_DIFFERENT:
        return "different";
    }
    return "unknown";
}
