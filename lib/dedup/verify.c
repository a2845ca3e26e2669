/*
 * verify.c - the verification rule of deduplication, once for every user:
 * the batch job checking candidate pairs read back from its spill files,
 * and wn_sketcher_compare() deciding a pair from two sketches in memory.
 *
 * Similarity: exact Jaccard of the shingle sets (WN_VERIFY_EXACT); else
 * estimated from the verification data: the fine OPH bins, not densified
 * (Li, Owen and Zhang 2012), or the 16-bit K-permutation values, each
 * corrected for chance agreement of b-bit values (Li and Koenig 2010); for
 * SimHash 1 - Hamming distance / 64 (Charikar 2002). Containment of the
 * smaller set in the larger comes from the sets, or from the estimate and
 * the set sizes: |A n B| = J (|A| + |B|) / (1 + J).
 *
 * A pair is an edge when its Jaccard reaches the threshold, or (with
 * containment > 0) its containment reaches that; SimHash: when the Hamming
 * distance is at most hamming. O(verification bytes) or O(|A| + |B|) per
 * pair.
 */
#include "dedup/dedup.h"
#include "io/outfile.h"
#include "text/figures.h"
#include "text/text.h"

#include <assert.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

void wn__verify_sets(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
                     struct wn_pair_sim *out)
{
    size_t inter = wn__intersect_sorted(a, na, b, nb);
    size_t uni = na + nb - inter;
    out->jac = uni ? (double)inter / (double)uni : 1.0;
    size_t mn = WN_MIN(na, nb);
    out->cont = mn ? (double)inter / (double)mn : 1.0;
    out->a_in_b = na ? (double)inter / (double)na : 1.0;
    out->b_in_a = nb ? (double)inter / (double)nb : 1.0;
}

/* The set bits of x, which has none but bit 0 of each nibble (without a
 * popcount instruction, which the portable build does not assume). */
static inline uint32_t count_nibbles(uint64_t x)
{
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
}

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_BINS_AVX512 1

/* 128 bins (64 bytes) a step: the empty (0xF) and the differing nibbles
 * as byte masks of the low and the high halves, counted with popcnt. */
__attribute__((target("avx512f,avx512bw,popcnt"))) static uint32_t
bins_avx512(const uint8_t *sa, const uint8_t *sb, uint32_t vk, uint32_t c[3])
{
    const __m512i lo = _mm512_set1_epi8(0x0F), hi = _mm512_set1_epi8(-16);
    uint32_t i = 0;
    for (; i + 128 <= vk; i += 128) {
        __m512i x = _mm512_loadu_si512(sa + i / 2);
        __m512i y = _mm512_loadu_si512(sb + i / 2);
        __m512i nx = _mm512_ternarylogic_epi32(x, x, x, 0x55); /* ~x */
        __m512i ny = _mm512_ternarylogic_epi32(y, y, y, 0x55);
        __m512i z = _mm512_xor_si512(x, y);
        uint64_t ea0 = _mm512_testn_epi8_mask(nx, lo);
        uint64_t ea1 = _mm512_testn_epi8_mask(nx, hi);
        uint64_t eb0 = _mm512_testn_epi8_mask(ny, lo);
        uint64_t eb1 = _mm512_testn_epi8_mask(ny, hi);
        uint64_t ne0 = _mm512_test_epi8_mask(z, lo);
        uint64_t ne1 = _mm512_test_epi8_mask(z, hi);
        c[0] += 128u - (uint32_t)(__builtin_popcountll(ea0 & eb0) +
                                  __builtin_popcountll(ea1 & eb1));
        c[1] += (uint32_t)(__builtin_popcountll(~(ea0 | eb0)) +
                           __builtin_popcountll(~(ea1 | eb1)));
        c[2] += (uint32_t)(__builtin_popcountll(~(ea0 | ne0)) +
                           __builtin_popcountll(~(ea1 | ne1)));
    }
    return i;
}
#endif

void wn__verify_bins(const uint8_t *sa, const uint8_t *sb, uint32_t vk,
                     bool simd, uint32_t c[3])
{
    c[0] = c[1] = c[2] = 0;
    uint32_t i = 0;
#ifdef HAVE_BINS_AVX512
    /* The text layer's choice: AVX-512BW, WINNOW_NO_SIMD unset. */
    if (simd && wn__text_avx512())
        i = bins_avx512(sa, sb, vk, c);
#else
    (void)simd;
#endif
    /* 16 bins per 64-bit word: bit 0 of each nibble of ea is set when the
     * bin is empty (0xF) in a, of ne when the bins differ. The counts are
     * the loop's below, which finishes the odd bins. */
    const uint64_t lo = 0x1111111111111111ULL;
    for (; i + 16 <= vk; i += 16) {
        /* Byte order does not matter: nibbles stay within bytes and both
         * sides are loaded alike. */
        uint64_t x, y;
        memcpy(&x, sa + i / 2, 8);
        memcpy(&y, sb + i / 2, 8);
        uint64_t ea = x & (x >> 1) & (x >> 2) & (x >> 3) & lo;
        uint64_t eb = y & (y >> 1) & (y >> 2) & (y >> 3) & lo;
        uint64_t z = x ^ y;
        uint64_t ne = (z | (z >> 1) | (z >> 2) | (z >> 3)) & lo;
        c[0] += 16u - count_nibbles(ea & eb);
        c[1] += count_nibbles(~(ea | eb) & lo);
        c[2] += count_nibbles(~(ea | ne) & lo);
    }
    for (; i < vk; i++) {
        unsigned sh = (i & 1) * 4;
        unsigned xa = (sa[i >> 1] >> sh) & 0xF;
        unsigned xb = (sb[i >> 1] >> sh) & 0xF;
        bool ea = xa == 0xF, eb = xb == 0xF;
        c[0] += !(ea && eb);
        c[1] += !ea && !eb;
        c[2] += !ea && xa == xb;
    }
}

void wn__verify_data(const struct wn_sketcher *sk, const uint8_t *sa,
                     const uint8_t *sb, uint32_t nsa, uint32_t nsb,
                     struct wn_pair_sim *out)
{
    if (sk->o.method == WN_METHOD_SIMHASH) {
        uint64_t fa = 0, fb = 0;
        for (unsigned i = 0; i < 8; i++) {
            fa |= (uint64_t)sa[i] << (8 * i);
            fb |= (uint64_t)sb[i] << (8 * i);
        }
        int dist = __builtin_popcountll(fa ^ fb);
        out->jac = 1.0 - dist / 64.0;
        out->cont = out->a_in_b = out->b_in_a = out->jac;
        return;
    }
    double j;
    if (sk->vbits == 4) {
        /* Of the `used` bins not empty in both, a fraction J hold the
         * same minimum; of the `both` bins filled in both, those whose
         * minima differ still agree in 4 bits with probability p = 1/15:
         * E[eq] = J used + p (both - J used), solved for J. */
        uint32_t c[3];
        wn__verify_bins(sa, sb, sk->vk, true, c);
        uint32_t used = c[0], both = c[1], eq = c[2];
        const double p = 1.0 / 15.0;
        j = used ? ((double)eq - p * both) / ((double)used * (1.0 - p)) : 1.0;
    } else {
        /* Unequal minima match in 16 bits with probability p = 2^-16:
         * E[matches / K] = J + (1 - J) p, solved for J. */
        uint32_t eq = 0;
        for (size_t i = 0; i < sk->vk; i++)
            eq += (sa[2 * i] == sb[2 * i]) & (sa[2 * i + 1] == sb[2 * i + 1]);
        const double p = 1.0 / 65536.0;
        j = ((double)eq / sk->vk - p) / (1.0 - p);
    }
    j = j < 0 ? 0 : j > 1 ? 1 : j;
    out->jac = j;
    double na = nsa, nb = nsb;
    double inter = j * (na + nb) / (1.0 + j);
    double mn = na < nb ? na : nb;
    out->cont = mn > 0 ? WN_MIN(1.0, inter / mn) : 1.0;
    out->a_in_b = na > 0 ? WN_MIN(1.0, inter / na) : 1.0;
    out->b_in_a = nb > 0 ? WN_MIN(1.0, inter / nb) : 1.0;
}

static void unpack_figures(const uint8_t *p, struct wn_figures *f)
{
    uint32_t w = wn__get_le32(p);
    f->n = (uint16_t)WN_MIN(w & 0xFFFFu, WN_FIG_MAX);
    f->count = (uint16_t)(w >> 16);
    for (unsigned i = 0; i < WN_FIG_MAX; i++)
        f->h[i] = wn__get_le32(p + 4 + (size_t)4 * i);
}

/* The flash test's word facts of a short side (contain.h), from the lead
 * words after the figures. */
static void flash_facts(const struct wn_sketcher *sk, const struct wn_words *wt,
                        const uint8_t *fa, const uint8_t *fb, uint32_t na,
                        uint32_t nb, struct wn_pair_facts *f)
{
    bool sa = na <= sk->qp.short_tokens, sb = nb <= sk->qp.short_tokens;
    if (!sk->lead_bytes || !wt || (!sa && !sb))
        return;
    uint32_t wa[WN_LEAD_TOKENS], wb[WN_LEAD_TOKENS];
    size_t nwa = wn__lead_unpack(fa + sk->fig_bytes, wa);
    size_t nwb = wn__lead_unpack(fb + sk->fig_bytes, wb);
    if (sa)
        wn__contain_flash_words(wt, wa, nwa, wb, nwb, &f->words_a,
                                &f->weight_a);
    if (sb)
        wn__contain_flash_words(wt, wb, nwb, wa, nwa, &f->words_b,
                                &f->weight_b);
}

void wn__verify_rule(const struct wn_sketcher *sk, const struct wn_words *wt,
                     const uint8_t *fa, const uint8_t *fb, uint32_t na,
                     uint32_t nb, const struct wn_pair_sim *sim,
                     struct wn__quality_verdict *v)
{
    struct wn_figures xa, xb;
    unpack_figures(fa, &xa);
    unpack_figures(fb, &xb);
    struct wn_pair_facts f;
    memset(&f, 0, sizeof(f));
    f.jaccard = sim->jac;
    f.cont_a = sim->a_in_b;
    f.cont_b = sim->b_in_a;
    /* The sizes: shingle counts (tokens - ngram + 1 for word shingles). */
    f.tokens_a = na;
    f.tokens_b = nb;
    /* The web profile: figures do not tell template pages apart. */
    if (sk->o.profile != WN_PROFILE_WEB)
        wn__figures_compare(&xa, &xb, &f.figs);
    flash_facts(sk, wt, fa, fb, na, nb, &f);
    wn__quality_decide(&f, &sk->qp, v);
}

int wn__figures_public(enum wn_fig_agreement g)
{
    switch (g) {
    case WN_FIG_EQUAL:
        return WN_FIGURES_EQUAL;
    case WN_FIG_A_IN_B:
    case WN_FIG_B_IN_A:
        return WN_FIGURES_CONTAINED;
    case WN_FIG_CLOSE:
        return WN_FIGURES_CLOSE;
    case WN_FIG_CONFLICT:
        return WN_FIGURES_CONFLICT;
    default:
        return WN_FIGURES_NONE;
    }
}

const char *wn_figures_name(int agreement)
{
    static const char *const names[] = {"none", "equal", "contained", "close",
                                        "conflict"};
    if (agreement < 0 || agreement > WN_FIGURES_CONFLICT)
        return NULL;
    return names[agreement];
}

static int rule_reason(const struct wn__quality_verdict *v)
{
    switch (v->reason) {
    case WN_Q_NEAR:
        return WN_REASON_NEAR;
    case WN_Q_CONTAINED:
        return WN_REASON_CONTAINED;
    case WN_Q_FLASH:
        return WN_REASON_FLASH;
    default:
        return WN_REASON_NONE;
    }
}

bool wn__verify_accept(const struct wn_sketcher *sk,
                       const struct wn_pair_sim *s)
{
    const struct wn_dedup_options *o = &sk->o;
    if (o->method == WN_METHOD_SIMHASH)
        return (1.0 - s->jac) * 64.0 <= o->hamming + 1e-9;
    if (s->jac >= o->threshold)
        return true;
    return o->containment > 0 && s->cont >= o->containment;
}

int wn__verify_reason(const struct wn_sketcher *sk, bool exact,
                      const struct wn_pair_sim *s)
{
    if (exact)
        return WN_REASON_EXACT;
    /* "contained": the pair passes by containment alone. */
    const struct wn_dedup_options *o = &sk->o;
    if (o->containment > 0 && s->jac < o->threshold &&
        s->cont >= o->containment)
        return WN_REASON_CONTAINED;
    return WN_REASON_NEAR;
}

const char *wn_reason_name(int reason)
{
    switch (reason) {
    case WN_REASON_NONE:
        return "none";
    case WN_REASON_EXACT:
        return "exact";
    case WN_REASON_NEAR:
        return "near";
    case WN_REASON_CONTAINED:
        return "contained";
    case WN_REASON_FLASH:
        return "flash";
    default:
        return NULL;
    }
}

struct wn_word_counts {
    uint64_t id; /* the sketcher's */
    struct wn_cms cms;
    struct wn_words wt;
};

int wn_word_counts_create(const struct wn_sketcher *sk,
                          struct wn_word_counts **out)
{
    if (!sk || !out)
        return WN_EINVAL;
    struct wn_word_counts *c = wn__calloc(1, sizeof(*c));
    if (!c)
        return WN_ENOMEM;
    c->id = sk->id;
    int rc = wn__cms_init(&c->cms, WN_WORDS_LOG2_WIDTH, WN_WORDS_DEPTH);
    if (rc) {
        wn__free(c);
        return rc;
    }
    c->wt.cms = &c->cms;
    *out = c;
    return WN_OK;
}

int wn_word_counts_add(struct wn_word_counts *c, const struct wn_sketch *s)
{
    if (!c || !s || !s->valid || s->sk->id != c->id)
        return WN_EINVAL;
    const struct wn_sketcher *sk = s->sk;
    if (!sk->lead_bytes)
        return WN_OK;
    uint32_t w[WN_LEAD_TOKENS];
    size_t nw = wn__lead_unpack(s->vdata + sk->sig_bytes + sk->fig_bytes, w);
    for (size_t k = 0; k < nw; k++)
        wn__cms_add(&c->cms, wn__lead_key(w[k]));
    c->wt.n++;
    return WN_OK;
}

void wn_word_counts_free(struct wn_word_counts *c)
{
    if (c) {
        wn__cms_release(&c->cms);
        wn__free(c);
    }
}

int wn_sketcher_compare(const struct wn_sketcher *sk, const struct wn_sketch *a,
                        const struct wn_sketch *b, struct wn_verdict *v)
{
    return wn_sketcher_compare_counts(sk, NULL, a, b, v);
}

int wn_sketcher_compare_counts(const struct wn_sketcher *sk,
                               const struct wn_word_counts *c,
                               const struct wn_sketch *a,
                               const struct wn_sketch *b, struct wn_verdict *v)
{
    if (!sk || !a || !b || !v || !a->valid || !b->valid ||
        a->sk->id != sk->id || b->sk->id != sk->id || (c && c->id != sk->id))
        return WN_EINVAL;
    struct wn_verdict r;
    memset(&r, 0, sizeof(r));
    /* The batch job joins only non-empty documents, by band index. */
    if (!a->empty && !b->empty)
        for (uint32_t j = 0; j < sk->nkeys && !r.candidate; j++)
            r.candidate = a->keys[j] == b->keys[j];
    /* The rule's anchor join; its flash join is not decided per pair. */
    if (!a->empty && !b->empty && !r.candidate)
        r.candidate = wn__contain_meet(a->anch, a->nanch, b->anch, b->nanch);
    struct wn_pair_sim s = {0, 0, 0, 0};
    bool exact = a->h[0] == b->h[0] && a->h[1] == b->h[1];
    if (exact) {
        s.jac = s.cont = s.a_in_b = s.b_in_a = 1.0;
        r.same = 1;
    } else if (!sk->o.exact_only && !a->empty && !b->empty) {
        if (sk->need_sets)
            wn__verify_sets(a->sh, a->nset, b->sh, b->nset, &s);
        else
            wn__verify_data(sk, a->vdata, b->vdata, a->nsh, b->nsh, &s);
        if (sk->rule) {
            struct wn__quality_verdict q;
            wn__verify_rule(sk, c ? &c->wt : NULL, a->vdata + sk->sig_bytes,
                            b->vdata + sk->sig_bytes, a->nsh, b->nsh, &s, &q);
            r.same = q.same;
            r.reason = rule_reason(&q);
            r.figures = wn__figures_public(q.agreement);
        } else {
            r.same = wn__verify_accept(sk, &s);
        }
    }
    if (!sk->rule || exact || !r.same)
        r.reason = r.same ? wn__verify_reason(sk, exact, &s) : WN_REASON_NONE;
    r.similarity = s.jac;
    r.containment = s.cont;
    r.a_in_b = s.a_in_b;
    r.b_in_a = s.b_in_a;
    *v = r;
    return WN_OK;
}

/* ------------------------------------------------------------------------ */
/* The batch verification, from the spill files                              */
/* ------------------------------------------------------------------------ */

int wn__pair_verifier_init(struct wn_pair_verifier *v,
                           const struct wn_sketcher *sk,
                           const struct wn_docs *docs,
                           const struct wn_spills *sp)
{
    memset(v, 0, sizeof(*v));
    v->sk = sk;
    v->docs = docs;
    v->sig_fd = sp->sig_f ? fileno(sp->sig_f) : -1;
    v->set_fd = sp->set_f ? fileno(sp->set_f) : -1;
    v->sa = wn__malloc(sk->rec_bytes ? sk->rec_bytes : 1);
    v->sb = wn__malloc(sk->rec_bytes ? sk->rec_bytes : 1);
    return v->sa && v->sb ? WN_OK : WN_ENOMEM;
}

void wn__pair_verifier_release(struct wn_pair_verifier *v)
{
    wn__free(v->sa);
    wn__free(v->sb);
    wn__free(v->xa);
    wn__free(v->xb);
    memset(v, 0, sizeof(*v));
}

static int load_set(struct wn_pair_verifier *v, wn_docno d, uint64_t **buf,
                    size_t *cap, size_t *n)
{
    uint64_t a = v->docs->set_off[d], b = v->docs->set_off[d + 1];
    size_t k = (size_t)(b - a);
    if (WN_GROW(*buf, *cap, k ? k : 1))
        return WN_ENOMEM;
    *n = k;
    return wn__pread_full(v->set_fd, *buf, k * sizeof(uint64_t), a * 8);
}

int wn__pair_similarity(struct wn_pair_verifier *v, wn_docno a, wn_docno b,
                        struct wn_pair_sim *out)
{
    int rc = WN_OK;
    size_t bytes = v->sk->rec_bytes;
    if (bytes) {
        rc = wn__pread_full(v->sig_fd, v->sa, bytes, (uint64_t)a * bytes);
        if (!rc)
            rc = wn__pread_full(v->sig_fd, v->sb, bytes, (uint64_t)b * bytes);
    }
    if (rc)
        return rc;
    if (v->sk->need_sets) {
        size_t na, nb;
        rc = load_set(v, a, &v->xa, &v->xacap, &na);
        if (!rc)
            rc = load_set(v, b, &v->xb, &v->xbcap, &nb);
        if (!rc)
            wn__verify_sets(v->xa, na, v->xb, nb, out);
        return rc;
    }
    wn__verify_data(v->sk, v->sa, v->sb, wn__doc_nsh(v->docs, a),
                    wn__doc_nsh(v->docs, b), out);
    return rc;
}

/* The verdict of a pair of this similarity from its records and sizes. */
static void decide_records(const struct wn_sketcher *sk,
                           const struct wn_words *wt, const uint8_t *ra,
                           const uint8_t *rb, uint32_t na, uint32_t nb,
                           struct wn_pair_decision *d)
{
    if (sk->rule) {
        struct wn__quality_verdict q;
        wn__verify_rule(sk, wt, ra + sk->sig_bytes, rb + sk->sig_bytes, na, nb,
                        &d->s, &q);
        d->same = q.same;
        d->reason = d->same ? rule_reason(&q) : WN_REASON_NONE;
        d->figures = wn__figures_public(q.agreement);
        bool cont = q.same && q.reason != WN_Q_NEAR;
        d->a_contained = cont && q.smaller_is_a;
        d->b_contained = cont && !q.smaller_is_a;
    } else {
        d->same = wn__verify_accept(sk, &d->s);
        d->reason =
            d->same ? wn__verify_reason(sk, false, &d->s) : WN_REASON_NONE;
    }
}

/* The verdict of a, b from their similarity and their spilled records. */
static void decide_sim(const struct wn_pair_verifier *v, wn_docno a, wn_docno b,
                       const uint8_t *ra, const uint8_t *rb,
                       struct wn_pair_decision *d)
{
    decide_records(v->sk, v->wt, ra, rb, wn__doc_nsh(v->docs, a),
                   wn__doc_nsh(v->docs, b), d);
}

void wn__verify_records(const struct wn_sketcher *sk, const struct wn_words *wt,
                        const uint8_t *ra, const uint8_t *rb, uint32_t na,
                        uint32_t nb, struct wn_pair_decision *out)
{
    assert(sk && ra && rb && out && !sk->need_sets);
    struct wn_pair_decision d;
    memset(&d, 0, sizeof(d));
    wn__verify_data(sk, ra, rb, na, nb, &d.s);
    decide_records(sk, wt, ra, rb, na, nb, &d);
    *out = d;
}

int wn__pair_decide(struct wn_pair_verifier *v, wn_docno a, wn_docno b,
                    struct wn_pair_decision *out)
{
    struct wn_pair_decision d;
    memset(&d, 0, sizeof(d));
    int rc = wn__pair_similarity(v, a, b, &d.s);
    if (rc)
        return rc;
    decide_sim(v, a, b, v->sa, v->sb, &d);
    *out = d;
    return WN_OK;
}

int wn__stage_verify(struct wn_pair_verifier *v, const wn_docpair *pairs,
                     size_t npairs, struct wn_uf *uf, volatile int *cancel,
                     uint64_t *verified, uint64_t *edges)
{
    int rc = WN_OK;
    for (size_t i = 0; i < npairs && !rc; i++) {
        wn_docno a = wn__pair_a(pairs[i]), b = wn__pair_b(pairs[i]);
        /* Already together: a further edge cannot change the partition. */
        if (wn__uf_find(uf, a) == wn__uf_find(uf, b))
            continue;
        struct wn_pair_decision dd;
        rc = wn__pair_decide(v, a, b, &dd);
        if (rc)
            break;
        (*verified)++;
        if (dd.same) {
            (*edges)++;
            wn__uf_union(uf, a, b);
        }
        if ((i & 0xffff) == 0 && cancel && *cancel)
            rc = WN_EINTR;
    }
    return rc;
}

/* Appends pair p with its flag to e. */
static struct wn_edge_sim edge_sim(const struct wn_pair_decision *d)
{
    struct wn_edge_sim x;
    memset(&x, 0, sizeof(x));
    x.jac = d->s.jac;
    x.cont = d->s.cont;
    x.figures = (int16_t)d->figures;
    x.reason = (int16_t)d->reason;
    return x;
}

int wn__edge_push(struct wn_edges *e, wn_docpair p, uint8_t flag,
                  const struct wn_edge_sim *sim)
{
    size_t cap = e->cap;
    if (WN_GROW(e->pair, e->cap, e->n + 1))
        return WN_ENOMEM;
    if (cap != e->cap) {
        uint8_t *f = wn__realloc(e->flag, e->cap);
        if (!f)
            return WN_ENOMEM;
        e->flag = f;
        struct wn_edge_sim *x =
            wn__reallocarray(e->sim, e->cap, sizeof(*e->sim));
        if (!x)
            return WN_ENOMEM;
        e->sim = x;
    }
    e->pair[e->n] = p;
    e->flag[e->n] = flag;
    if (sim) {
        e->sim[e->n] = *sim;
    } else {
        memset(&e->sim[e->n], 0, sizeof(e->sim[0]));
        e->sim[e->n].reason = -1; /* not known: wn__edges_find says none */
    }
    e->n++;
    return WN_OK;
}

const struct wn_edge_sim *wn__edges_find(const struct wn_edges *e, wn_docno a,
                                         wn_docno b)
{
    assert(e != NULL && a < b);
    wn_docpair key = wn__pair(a, b);
    size_t lo = 0, hi = e->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->pair[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->n && e->pair[lo] == key && e->sim[lo].reason >= 0
               ? &e->sim[lo]
               : NULL;
}

uint8_t wn__edge_flag(const struct wn_pair_decision *d)
{
    return (uint8_t)(d->a_contained ? 1 : d->b_contained ? 2 : 0);
}

/* One pair at a time, two preads each: the reference the blocked stage
 * below must agree with (WINNOW_SIMPLE_VERIFY=1), and the path for exact
 * sets. */
static int verify_edges_simple(struct wn_pair_verifier *v,
                               const wn_docpair *pairs, size_t npairs,
                               volatile int *cancel, uint64_t *verified,
                               struct wn_edges *e)
{
    int rc = WN_OK;
    for (size_t i = 0; i < npairs && !rc; i++) {
        wn_docno a = wn__pair_a(pairs[i]), b = wn__pair_b(pairs[i]);
        struct wn_pair_decision dd;
        rc = wn__pair_decide(v, a, b, &dd);
        if (rc)
            break;
        (*verified)++;
        if (dd.same) {
            struct wn_edge_sim x = edge_sim(&dd);
            rc = wn__edge_push(e, pairs[i], wn__edge_flag(&dd), &x);
        }
        if ((i & 0xffff) == 0 && cancel && *cancel)
            rc = WN_EINTR;
    }
    return rc;
}

/*
 * The blocked stage. Pairs come sorted by a. They are taken in runs whose
 * a lie in one a window (a quarter of the spill, 4 to 16 MiB, on huge
 * pages where the system has them); the a records of a run are read into
 * memory, its pairs are bucketed by b into windows of VERIFY_B_BYTES (a
 * counting sort), and each bucket's b records are read; reads are merged
 * across gaps of up to VERIFY_GAP_BYTES (a read of a few KiB more costs
 * less than a system call). The spill is thus read about spill / window / 2
 * times in large sequential reads instead of with two preads per pair
 * (1.7 M pairs and 3.3 M preads on the generated 1 GB corpus), and memory
 * is the two windows plus 1 byte per pair and 4 per pair of a run. A
 * pair's verdict goes to its index in codes[], and the edges are emitted
 * in pair order afterwards: the same edges, in the same order, as the
 * simple loop (tests/cli/test_news_same.sh compares them).
 *
 * The b windows are copies (pread), not a mapping of the spill: mapping
 * each bucket's span in place (MADV_POPULATE_READ, then MADV_DONTNEED to
 * keep one window resident) changes about 1.4 M page-table entries on the
 * generated 1 GB corpus, and where those cost a trap to the hypervisor
 * (the paravirtual machines this project runs on, 2026-12-07) the stage
 * took 3.0-4.2 s against 0.73-0.89 s for the copies; on a machine with
 * cheap page-table updates the mapping was 0.52 s against 1.25 s. The
 * copies cost at most about a memory copy of what is read, wherever they
 * run (docs/BENCHMARKS.md, "Verification windows").
 */
#define VERIFY_A_BYTES   (16u << 20)
#define VERIFY_A_MIN     (4u << 20)
#define VERIFY_B_BYTES   (1u << 20)
#define VERIFY_GAP_BYTES (16u << 10)
#define VERIFY_RUN_PAIRS (1u << 20)

struct found {
    uint64_t index;
    struct wn_edge_sim sim;
};

struct vblock {
    struct wn_pair_verifier *v;
    size_t rb;        /* record bytes */
    size_t hot;       /* those every pair reads: the signature, the figures */
    uint32_t gap;     /* records read through rather than skipped */
    uint8_t *wa, *wb; /* the windows */
    uint32_t sa, sb;  /* their size in records */
    uint32_t *bucket; /* entries of the run, by bucket */
    uint32_t *start;  /* first entry of each bucket, nbuckets + 1 */
    wn_docno nbuckets;
    uint8_t *mark; /* sb: b records a bucket needs */
    /* The verdicts of the pairs that are edges, by pair index, in the
     * order found (sorted before the edges are emitted). */
    struct found *found;
    size_t nfound, found_cap;
};

/* Reads the records [first, last] into win (record first at win0's slot
 * first - base). */
static int read_span(const struct vblock *k, uint8_t *win, wn_docno base,
                     wn_docno first, wn_docno last)
{
    return wn__pread_full(k->v->sig_fd, win + (size_t)(first - base) * k->rb,
                          (size_t)(last - first + 1) * k->rb,
                          (uint64_t)first * k->rb);
}

/* Reads the a records of pairs[p0..p1) (a ascending) into the a window. */
static int read_a(const struct vblock *k, const wn_docpair *pairs, size_t p0,
                  size_t p1, wn_docno a0)
{
    wn_docno first = wn__pair_a(pairs[p0]), last = first;
    for (size_t i = p0 + 1; i < p1; i++) {
        wn_docno d = wn__pair_a(pairs[i]);
        if (d - last > k->gap) {
            int rc = read_span(k, k->wa, a0, first, last);
            if (rc)
                return rc;
            first = d;
        }
        last = d;
    }
    return read_span(k, k->wa, a0, first, last);
}

/* Reads the records marked in k->mark[0..sb) into the b window (base the
 * first document of the window) and clears the marks. */
static int read_b(const struct vblock *k, wn_docno base)
{
    uint32_t first = UINT32_MAX, last = 0;
    for (uint32_t q = 0; q < k->sb; q++) {
        if (!k->mark[q])
            continue;
        k->mark[q] = 0;
        if (first != UINT32_MAX && q - last > k->gap) {
            int rc = read_span(k, k->wb, base, base + first, base + last);
            if (rc)
                return rc;
            first = UINT32_MAX;
        }
        if (first == UINT32_MAX)
            first = q;
        last = q;
    }
    if (first == UINT32_MAX)
        return WN_OK;
    return read_span(k, k->wb, base, base + first, base + last);
}

#define VERIFY_AHEAD 4
#define HUGE_PAGE    ((size_t)2 << 20)

/* The a window within block (size + HUGE_PAGE bytes), aligned to 2 MiB and
 * marked for transparent huge pages where the system has them: its records
 * are visited out of order, and with 4 KiB pages a window of more than a
 * few MiB costs a TLB miss per record. */
static uint8_t *huge_window(void *block, size_t size)
{
    if (!block)
        return NULL;
    uintptr_t p =
        ((uintptr_t)block + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
#ifdef MADV_HUGEPAGE
    size_t len = size & ~(HUGE_PAGE - 1);
    if (len)
        (void)madvise((void *)p, len, MADV_HUGEPAGE);
#else
    (void)size;
#endif
    return (uint8_t *)p;
}

static inline void prefetch_record(const uint8_t *r, size_t n)
{
    for (size_t o = 0; o < n; o += 64)
        __builtin_prefetch(r + o);
    __builtin_prefetch(r + n - 1);
}

static int verify_run(struct vblock *k, const wn_docpair *pairs, size_t p0,
                      size_t p1, uint8_t *codes, volatile int *cancel)
{
    wn_docno a0 = wn__pair_a(pairs[p0]);
    size_t n = k->v->docs->n;
    int rc = read_a(k, pairs, p0, p1, a0);
    if (rc)
        return rc;
    /* Bucket the run's pairs by the window of b (b > a >= a0). */
    wn_docno nb = (wn_docno)((n - a0 + k->sb - 1) / k->sb);
    assert(nb <= k->nbuckets);
    memset(k->start, 0, ((size_t)nb + 1) * sizeof(*k->start));
    for (size_t i = p0; i < p1; i++)
        k->start[(wn__pair_b(pairs[i]) - a0) / k->sb + 1]++;
    for (wn_docno j = 0; j < nb; j++)
        k->start[j + 1] += k->start[j];
    for (size_t i = p0; i < p1; i++) {
        wn_docno j = (wn__pair_b(pairs[i]) - a0) / k->sb;
        k->bucket[k->start[j]++] = (uint32_t)(i - p0);
    }
    /* start[j] is now the end of bucket j. */
    uint32_t from = 0;
    for (wn_docno j = 0; j < nb && !rc; j++) {
        uint32_t to = k->start[j];
        if (from == to)
            continue;
        wn_docno base = a0 + j * k->sb;
        const uint32_t *e = k->bucket + from;
        size_t m = to - from;
        const uint8_t *wb = k->wb;
        for (size_t q = 0; q < m; q++)
            k->mark[wn__pair_b(pairs[p0 + e[q]]) - base] = 1;
        rc = read_b(k, base);
        for (size_t q = 0; q < m && !rc; q++) {
            size_t i = p0 + e[q];
            wn_docno a = wn__pair_a(pairs[i]), b = wn__pair_b(pairs[i]);
            /* The windows are larger than the caches and the records are
             * visited in no order the hardware guesses: ask for a later
             * pair's records now. */
            if (q + VERIFY_AHEAD < m) {
                wn_docpair x = pairs[p0 + e[q + VERIFY_AHEAD]];
                prefetch_record(k->wa + (size_t)(wn__pair_a(x) - a0) * k->rb,
                                k->hot);
                prefetch_record(wb + (size_t)(wn__pair_b(x) - base) * k->rb,
                                k->hot);
            }
            const uint8_t *ra = k->wa + (size_t)(a - a0) * k->rb;
            const uint8_t *rb = wb + (size_t)(b - base) * k->rb;
            struct wn_pair_decision d;
            memset(&d, 0, sizeof(d));
            wn__verify_data(k->v->sk, ra, rb, wn__doc_nsh(k->v->docs, a),
                            wn__doc_nsh(k->v->docs, b), &d.s);
            decide_sim(k->v, a, b, ra, rb, &d);
            codes[i] = d.same ? (uint8_t)(1 + wn__edge_flag(&d)) : 0;
            if (d.same) {
                if (WN_GROW(k->found, k->found_cap, k->nfound + 1)) {
                    rc = WN_ENOMEM;
                    break;
                }
                k->found[k->nfound].index = i;
                k->found[k->nfound].sim = edge_sim(&d);
                k->nfound++;
            }
        }
        if (cancel && *cancel)
            rc = WN_EINTR;
        from = to;
    }
    return rc;
}
static int found_cmp(const void *x, const void *y)
{
    uint64_t a = ((const struct found *)x)->index;
    uint64_t b = ((const struct found *)y)->index;
    return (a > b) - (a < b);
}

int wn__stage_verify_edges(struct wn_pair_verifier *v, const wn_docpair *pairs,
                           size_t npairs, volatile int *cancel,
                           uint64_t *verified, struct wn_edges *e)
{
    const struct wn_sketcher *sk = v->sk;
    size_t n = v->docs->n;
    bool simple = false;
#ifdef WN_TEST_HOOKS
    /* -Dtest_hooks=true: WINNOW_TEST_SIMPLE_VERIFY=1 verifies pair by pair
     * (tests/cli/test_news_same.sh compares the two). */
    simple = getenv("WINNOW_TEST_SIMPLE_VERIFY") != NULL;
#endif
    if (npairs == 0 || sk->need_sets || sk->rec_bytes == 0 || simple)
        return verify_edges_simple(v, pairs, npairs, cancel, verified, e);
    struct vblock k;
    memset(&k, 0, sizeof(k));
    k.v = v;
    k.rb = sk->rec_bytes;
    /* The lead words after them are read only for a short side (the
     * flash test): fetching them ahead for every pair took memory
     * bandwidth the others wait for. */
    k.hot = WN_MAX((size_t)1, (size_t)sk->sig_bytes + sk->fig_bytes);
    k.gap = (uint32_t)WN_MAX(1u, VERIFY_GAP_BYTES / k.rb);
    /* A quarter of the spill, within [VERIFY_A_MIN, VERIFY_A_BYTES]: the
     * spill is then read at most about twice over below the cap. And at
     * most 24 bytes per document above VERIFY_A_MIN, so that the run
     * stays within issue 12's 100 bytes per record: every run after a
     * window reads the rest of the spill again, so its size sets the
     * bytes copied (gen 1 GB: 16 bytes per document, 9 MiB, 5.9 GB read
     * in 151,606 preads; 28, 15.3 MiB, 4.3 GB; 24, 13.1 MiB, about 20,000
     * preads with the fates' own reads gone; peak RSS 92 bytes per record
     * with the direct writer's buffers, docs/BENCHMARKS.md). */
    size_t wa = WN_MIN((size_t)VERIFY_A_BYTES,
                       WN_MAX((size_t)VERIFY_A_MIN, n * k.rb / 4));
    wa = WN_MIN(wa, WN_MAX((size_t)VERIFY_A_MIN, 24 * n));
    size_t wb = VERIFY_B_BYTES;
#ifdef WN_TEST_HOOKS
    /* -Dtest_hooks=true: WINNOW_TEST_VERIFY_BLOCK=bytes sets the a window
     * (and caps the b window), to test the runs and buckets on small
     * inputs. */
    const char *env = getenv("WINNOW_TEST_VERIFY_BLOCK");
    if (env && *env) {
        wa = WN_MAX((size_t)1, (size_t)strtoull(env, NULL, 10));
        wb = WN_MIN(wb, wa);
    }
#endif
    k.sa = (uint32_t)WN_MIN(n, WN_MAX(1u, wa / k.rb));
    k.sb = (uint32_t)WN_MIN(n, WN_MAX(1u, wb / k.rb));
    k.nbuckets = (wn_docno)((n + k.sb - 1) / k.sb);
    size_t run = WN_MIN(npairs, VERIFY_RUN_PAIRS);
    void *wa_block = wn__malloc((size_t)k.sa * k.rb + HUGE_PAGE);
    k.wa = huge_window(wa_block, (size_t)k.sa * k.rb);
    k.wb = wn__malloc((size_t)k.sb * k.rb);
    k.mark = wn__calloc(k.sb, 1);
    k.bucket = wn__reallocarray(NULL, run, sizeof(*k.bucket));
    k.start = wn__reallocarray(NULL, (size_t)k.nbuckets + 1, sizeof(*k.start));
    uint8_t *codes = wn__malloc(npairs);
    int rc = k.wa && k.wb && k.mark && k.bucket && k.start && codes ? WN_OK
                                                                    : WN_ENOMEM;
    /* Runs of pairs whose a lie within one a window, at most `run` long. */
    for (size_t p0 = 0; p0 < npairs && !rc;) {
        wn_docno a0 = wn__pair_a(pairs[p0]);
        size_t p1 = p0 + 1;
        while (p1 < npairs && p1 - p0 < run &&
               wn__pair_a(pairs[p1]) - a0 < k.sa)
            p1++;
        rc = verify_run(&k, pairs, p0, p1, codes, cancel);
        p0 = p1;
    }
    if (!rc && k.nfound > 1)
        qsort(k.found, k.nfound, sizeof(*k.found), found_cmp);
    size_t f = 0;
    for (size_t i = 0; i < npairs && !rc; i++)
        if (codes[i]) {
            assert(f < k.nfound && k.found[f].index == i);
            rc = wn__edge_push(e, pairs[i], (uint8_t)(codes[i] - 1),
                               &k.found[f++].sim);
        }
    if (!rc)
        *verified += npairs;
    wn__free(k.found);
    wn__free(codes);
    wn__free(wa_block);
    wn__free(k.wb);
    wn__free(k.mark);
    wn__free(k.bucket);
    wn__free(k.start);
    return rc;
}

void wn__edges_release(struct wn_edges *e)
{
    wn__free(e->pair);
    wn__free(e->flag);
    wn__free(e->sim);
    memset(e, 0, sizeof(*e));
}
