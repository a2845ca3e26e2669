/*
 * judge.c - the deduplication rule as the index uses it, through the public
 * stages of winnow.h: wn_sketcher_sketch makes the sketch, wn_sketch_encode
 * the blob the index stores, wn_sketch_decode reads it back and
 * wn_sketcher_compare decides the pair. Nothing of the rule lives here.
 */
#include "index/judge.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

struct wn__judge {
    struct wn_sketcher *sk;
    struct wn_sketcher_info info;
    uint64_t id;
};

int wn__judge_create(const struct wn_dedup_options *o, struct wn__judge **out,
                     char *msg, size_t msgcap)
{
    assert(o && out);
    const char *why = NULL;
    if (o->exact_only)
        why = "exact-only indexes are not supported";
    else if (o->verify == WN_VERIFY_EXACT)
        why = "--verify exact needs the shingle sets, which the index does "
              "not store";
    if (why) {
        if (msg && msgcap)
            snprintf(msg, msgcap, "%s", why);
        return WN_EINVAL;
    }
    struct wn__judge *j = wn__calloc(1, sizeof(*j));
    if (!j)
        return WN_ENOMEM;
    int rc = wn_sketcher_create(o, &j->sk);
    if (rc) {
        if (msg && msgcap)
            snprintf(msg, msgcap, "%s",
                     rc == WN_EINVAL ? "invalid rule options (threshold, "
                                       "--num-perm, --bands x --rows, ...)"
                                     : wn_strerror(rc));
        wn__free(j);
        return rc;
    }
    wn_sketcher_get_info(j->sk, &j->info);
    j->id = wn_sketcher_id(j->sk);
    if (j->info.nkeys == 0 || j->info.nkeys > WN__JUDGE_MAX_KEYS) {
        if (msg && msgcap)
            snprintf(msg, msgcap, "too many LSH keys per record");
        wn_sketcher_free(j->sk);
        wn__free(j);
        return WN_EINVAL;
    }
    *out = j;
    return WN_OK;
}

void wn__judge_free(struct wn__judge *j)
{
    if (!j)
        return;
    wn_sketcher_free(j->sk);
    wn__free(j);
}

int wn__judge_params(const struct wn__judge *j, struct wn_buf *b)
{
    const struct wn_sketcher_info *i = &j->info;
    return wn__buf_printf(
        b,
        "method %d\ntokens %d\nngram %u\nnum_perm %u\nthreshold %.17g\n"
        "bands %u\nrows %u\nsketch %d\ncontainment %.17g\nhamming %u\n"
        "seed %llu\nverify %d\nprofile %d\nsketcher_id %016llx\n",
        i->method, i->token_mode, i->ngram, i->num_perm, i->threshold, i->bands,
        i->rows, i->sketch, i->containment, i->hamming,
        (unsigned long long)i->seed, i->verify, i->profile,
        (unsigned long long)j->id);
}

int wn__judge_parse_params(const char *p, size_t len,
                           struct wn_dedup_options *o)
{
    struct wn_dedup_options t;
    wn_dedup_options_init(&t);
    /* Parameters stored without a profile line are the classic rule's. */
    t.profile = WN_PROFILE_CLASSIC;
    char line[128];
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && p[e] != '\n')
            e++;
        if (e - i >= sizeof(line))
            return WN_EFORMAT;
        memcpy(line, p + i, e - i);
        line[e - i] = '\0';
        i = e + 1;
        char name[32];
        char val[64];
        if (sscanf(line, "%31s %63s", name, val) != 2)
            return WN_EFORMAT;
        if (!strcmp(name, "sketcher_id"))
            continue;
        char *end;
        double d = strtod(val, &end);
        unsigned long long u = strtoull(val, NULL, 10);
        if (*end)
            return WN_EFORMAT;
        if (!strcmp(name, "method"))
            t.method = (int)d;
        else if (!strcmp(name, "tokens"))
            t.token_mode = (int)d;
        else if (!strcmp(name, "ngram"))
            t.ngram = (unsigned)u;
        else if (!strcmp(name, "num_perm"))
            t.num_perm = (uint32_t)u;
        else if (!strcmp(name, "threshold"))
            t.threshold = d;
        else if (!strcmp(name, "bands"))
            t.bands = (uint32_t)u;
        else if (!strcmp(name, "rows"))
            t.rows = (uint32_t)u;
        else if (!strcmp(name, "sketch"))
            t.sketch = (int)d;
        else if (!strcmp(name, "containment"))
            t.containment = d;
        else if (!strcmp(name, "hamming"))
            t.hamming = (unsigned)u;
        else if (!strcmp(name, "seed"))
            t.seed = u;
        else if (!strcmp(name, "verify"))
            t.verify = (int)d;
        else if (!strcmp(name, "profile"))
            t.profile = (int)d;
        else
            return WN_EFORMAT;
    }
    *o = t;
    return WN_OK;
}

bool wn__judge_same_id(const struct wn__judge *j, const char *p, size_t len)
{
    char want[40];
    int n = snprintf(want, sizeof(want), "sketcher_id %016llx",
                     (unsigned long long)j->id);
    for (size_t i = 0; i + (size_t)n <= len; i++)
        if ((i == 0 || p[i - 1] == '\n') && !memcmp(p + i, want, (size_t)n))
            return true;
    return false;
}

void wn__jsketch_init(struct wn__jsketch *s)
{
    memset(s, 0, sizeof(*s));
}

void wn__jsketch_trim(struct wn__jsketch *s)
{
    wn_sketch_free(s->scratch);
    s->scratch = NULL;
}

void wn__jsketch_release(struct wn__jsketch *s)
{
    wn__jsketch_trim(s);
    wn__free(s->blob);
    wn__jsketch_init(s);
}

int wn__judge_sketch(const struct wn__judge *j, const char *text, size_t len,
                     struct wn__jsketch *s)
{
    int rc;
    if (!s->scratch) {
        struct wn_sketch *sk = NULL;
        rc = wn_sketch_create(j->sk, &sk);
        if (rc)
            return rc;
        s->scratch = sk;
    }
    struct wn_sketch *sk = s->scratch;
    rc = wn_sketcher_sketch(j->sk, text, len, sk);
    if (rc)
        return rc;
    size_t need = wn_sketch_encoded_size(sk);
    if (s->blob_cap < need) {
        unsigned char *nb = wn__realloc(s->blob, need);
        if (!nb)
            return WN_ENOMEM;
        s->blob = nb;
        s->blob_cap = need;
    }
    rc = wn_sketch_encode(sk, s->blob, s->blob_cap, &s->blob_len);
    if (rc)
        return rc;
    wn_sketch_exact_hash(sk, s->exact);
    s->empty = wn_sketch_is_empty(sk);
    size_t n = 0;
    const uint64_t *keys = wn_sketch_band_keys(sk, &n);
    assert(n <= WN__JUDGE_MAX_KEYS);
    s->nkeys = (uint32_t)n;
    if (n)
        memcpy(s->keys, keys, n * sizeof(*keys));
    return WN_OK;
}

void wn__jverify_init(struct wn__jverify *w)
{
    memset(w, 0, sizeof(*w));
}

void wn__jverify_release(struct wn__jverify *w)
{
    wn_sketch_free(w->a);
    wn_sketch_free(w->b);
    wn__jverify_init(w);
}

static int decode(const struct wn__judge *j, void **slot,
                  const unsigned char *p, size_t len)
{
    if (!*slot) {
        struct wn_sketch *s = NULL;
        int rc = wn_sketch_create(j->sk, &s);
        if (rc)
            return rc;
        *slot = s;
    }
    return wn_sketch_decode(j->sk, p, len, *slot);
}

int wn__judge_verify_prepare(const struct wn__judge *j, struct wn__jverify *w,
                             const unsigned char *a, size_t alen)
{
    return decode(j, &w->a, a, alen);
}

int wn__judge_verify(const struct wn__judge *j, struct wn__jverify *w,
                     const unsigned char *b, size_t blen, struct wn__verdict *v)
{
    int rc = decode(j, &w->b, b, blen);
    if (rc)
        return rc == WN_ENOMEM ? rc : WN_EFORMAT;
    struct wn_verdict d;
    rc = wn_sketcher_compare(j->sk, w->a, w->b, &d);
    if (rc)
        return rc;
    struct wn__verdict r = {WN__VERDICT_NONE, d.similarity, d.containment};
    /* The batch job removes the later record exactly when the pair is the
     * same and it compares them: exact copies always, others when they
     * share a band key. */
    if (d.same && (d.reason == WN_REASON_EXACT || d.candidate))
        r.reason = d.reason == WN_REASON_EXACT       ? WN__VERDICT_EXACT
                   : d.reason == WN_REASON_CONTAINED ? WN__VERDICT_CONTAINED
                                                     : WN__VERDICT_NEAR;
    *v = r;
    return WN_OK;
}
