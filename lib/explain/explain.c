/*
 * explain.c - wn_explain(): tokenize both texts once, score them
 * (verdict.c), align them (align.c), and turn token runs into byte offsets
 * and line numbers of the original texts, with the stretches only one text
 * holds. O((n + m) log(n + m)) in the tokens plus the alignment.
 */
#include "explain/explain.h"

#include <stdlib.h>
#include <string.h>

struct wn_explanation {
    struct wn_explain_scores scores;
    struct wn_explain_run *runs;
    size_t nruns;
    struct wn_explain_span *only[2];
    size_t nonly[2];
};

void wn_explain_options_init(struct wn_explain_options *o)
{
    memset(o, 0, sizeof(*o));
    /* The rule's fields are dedup's defaults: the verdict is the one
     * `winnow dedup` gives with no options. */
    struct wn_dedup_options d;
    wn_dedup_options_init(&d);
    o->token_mode = d.token_mode;
    o->ngram = d.ngram;
    o->num_perm = d.num_perm;
    o->threshold = d.threshold;
    o->containment = d.containment;
    o->verify = d.verify;
    o->seed = d.seed;
    o->profile = d.profile;
    o->kgram = 5;
    o->window = 4;
    o->min_run = 0; /* kgram */
}

/* Byte offsets where lines start (the first is 0). */
static int line_starts(const char *s, size_t len, size_t **out, size_t *n)
{
    size_t cnt = 1;
    for (size_t i = 0; i < len; i++)
        cnt += s[i] == '\n';
    size_t *v = wn__malloc(cnt * sizeof(*v));
    if (!v)
        return WN_ENOMEM;
    size_t k = 0;
    v[k++] = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\n')
            v[k++] = i + 1;
    *out = v;
    *n = k;
    return WN_OK;
}

/* The 1-based line holding byte off. */
static uint64_t line_of(const size_t *starts, size_t n, size_t off)
{
    size_t lo = 0, hi = n; /* the first start > off */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (starts[mid] <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct wn_explain_span span_of(const struct wn_tokens *t,
                                      const size_t *starts, size_t nstarts,
                                      size_t tok, size_t len)
{
    struct wn_explain_span s;
    const struct wn_token *first = &t->tok[tok], *last = &t->tok[tok + len - 1];
    s.start = first->src_off;
    s.end = (uint64_t)last->src_off + last->src_len;
    s.line = line_of(starts, nstarts, (size_t)s.start);
    s.line_end = line_of(starts, nstarts, (size_t)(s.end ? s.end - 1 : 0));
    if (s.line_end < s.line)
        s.line_end = s.line;
    s.tok = tok;
    s.tokens = len;
    return s;
}

/* The token stretches of one side between the runs (sorted by start). */
static int gaps(const struct wn_tokens *t, const size_t *starts, size_t ns,
                const size_t *run_start, const size_t *run_len, size_t nruns,
                struct wn_explain_span **out, size_t *nout)
{
    struct wn_explain_span *v = NULL;
    size_t n = 0, cap = 0, at = 0;
    for (size_t i = 0; i <= nruns; i++) {
        size_t end = i < nruns ? run_start[i] : t->n;
        if (end > at) {
            if (WN_GROW(v, cap, n + 1)) {
                wn__free(v);
                return WN_ENOMEM;
            }
            v[n++] = span_of(t, starts, ns, at, end - at);
        }
        if (i < nruns)
            at = run_start[i] + run_len[i];
    }
    *out = v;
    *nout = n;
    return WN_OK;
}

static int cmp_size(const void *x, const void *y)
{
    const size_t *a = x, *b = y;
    return a[0] < b[0] ? -1 : a[0] > b[0];
}

int wn_explain(const char *a, size_t alen, const char *b, size_t blen,
               const struct wn_explain_options *opts,
               struct wn_explanation **out)
{
    struct wn_explain_options o;
    if (opts)
        o = *opts;
    else
        wn_explain_options_init(&o);
    if ((!a && alen) || (!b && blen) || !out || o.kgram == 0 || o.window == 0 ||
        o.ngram == 0 || o.num_perm == 0 || o.num_perm > 4096 ||
        !(o.threshold > 0 && o.threshold < 1))
        return WN_EINVAL;
    if (o.min_run == 0)
        o.min_run = o.kgram;
    a = a ? a : "";
    b = b ? b : "";

    struct wn_tokens ta, tb;
    wn_tokens_init(&ta);
    wn_tokens_init(&tb);
    struct wn_explanation *x = wn__calloc(1, sizeof(*x));
    struct wn__align_run *runs = NULL;
    size_t nruns = 0, *sa = NULL, *sb = NULL, nsa = 0, nsb = 0;
    size_t *pos = NULL;
    int rc = x ? WN_OK : WN_ENOMEM;
    if (!rc)
        rc = wn_tokenize(a, alen, o.token_mode, &ta);
    if (!rc)
        rc = wn_tokenize(b, blen, o.token_mode, &tb);
    if (!rc)
        rc = wn__explain_verdict(a, alen, b, blen, &ta, &tb, &o, &x->scores);
    if (!rc)
        rc = wn__explain_align(&ta, &tb, o.kgram, o.window, o.min_run, o.seed,
                               &runs, &nruns);
    if (!rc)
        rc = line_starts(a, alen, &sa, &nsa);
    if (!rc)
        rc = line_starts(b, blen, &sb, &nsb);
    if (!rc && nruns) {
        x->runs = wn__malloc(nruns * sizeof(*x->runs));
        pos = wn__malloc(nruns * 2 * sizeof(*pos));
        if (!x->runs || !pos)
            rc = WN_ENOMEM;
    }
    if (!rc) {
        x->nruns = nruns;
        for (size_t i = 0; i < nruns; i++) {
            x->runs[i].a = span_of(&ta, sa, nsa, runs[i].a, runs[i].len);
            x->runs[i].b = span_of(&tb, sb, nsb, runs[i].b, runs[i].len);
        }
        /* Side A: the runs are in the order of A already. */
        size_t *st = pos, *ln = pos ? pos + nruns : NULL;
        for (size_t i = 0; i < nruns; i++) {
            st[i] = runs[i].a;
            ln[i] = runs[i].len;
        }
        rc = gaps(&ta, sa, nsa, st, ln, nruns, &x->only[0], &x->nonly[0]);
        /* Side B: sort (start, len) pairs by start. */
        if (!rc && nruns) {
            size_t *pairs = wn__malloc(nruns * 2 * sizeof(*pairs));
            if (!pairs) {
                rc = WN_ENOMEM;
            } else {
                for (size_t i = 0; i < nruns; i++) {
                    pairs[2 * i] = runs[i].b;
                    pairs[2 * i + 1] = runs[i].len;
                }
                qsort(pairs, nruns, 2 * sizeof(*pairs), cmp_size);
                for (size_t i = 0; i < nruns; i++) {
                    st[i] = pairs[2 * i];
                    ln[i] = pairs[2 * i + 1];
                }
                wn__free(pairs);
            }
        }
        if (!rc)
            rc = gaps(&tb, sb, nsb, st, ln, nruns, &x->only[1], &x->nonly[1]);
    }
    wn_tokens_release(&ta);
    wn_tokens_release(&tb);
    wn__free(runs);
    wn__free(sa);
    wn__free(sb);
    wn__free(pos);
    if (rc) {
        wn_explanation_free(x);
        return rc;
    }
    *out = x;
    return WN_OK;
}

const struct wn_explain_scores *
wn_explanation_scores(const struct wn_explanation *x)
{
    return &x->scores;
}

size_t wn_explanation_runs(const struct wn_explanation *x,
                           const struct wn_explain_run **runs)
{
    *runs = x->runs;
    return x->nruns;
}

size_t wn_explanation_only(const struct wn_explanation *x, int side,
                           const struct wn_explain_span **spans)
{
    int s = side ? 1 : 0;
    *spans = x->only[s];
    return x->nonly[s];
}

void wn_explanation_free(struct wn_explanation *x)
{
    if (!x)
        return;
    wn__free(x->runs);
    wn__free(x->only[0]);
    wn__free(x->only[1]);
    wn__free(x);
}
