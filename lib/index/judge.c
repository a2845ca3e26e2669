/*
 * judge.c - the deduplication rule as the index uses it: sketch a text,
 * decide a pair from two stored blobs.
 *
 * Blob layout (little-endian): 16 bytes exact hash, 4 bytes shingle count,
 * then the verification sketch: for one-permutation MinHash 4K bins of 4
 * bits (0xF an empty bin), for K-permutation MinHash K values of 16 bits,
 * for SimHash the 64-bit fingerprint. The verification is the batch job's:
 * exact hash equality first, then the estimated Jaccard against the
 * threshold, then containment when asked for.
 */
#include "index/judge.h"

#include "lsh/lsh.h"
#include "sketch/hash128.h"
#include "sketch/sketch.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define SIMHASH_EXTRA_BLOCKS 2u
#define BLOB_HEAD            20u

struct wn__judge {
    struct wn_dedup_options o;
    uint32_t bands, rows, nkeys;
    uint32_t vk, vbits, sig_bytes;
};

struct scratch {
    struct wn_tokens tok;
    uint64_t *sh;
    size_t nsh, cap;
    uint32_t sig[WN_MINHASH_MAX_K];
    uint32_t fine[WN_MINHASH_MAX_K + 1];
};

static unsigned choose(unsigned n, unsigned k)
{
    unsigned long long r = 1;
    for (unsigned i = 1; i <= k; i++)
        r = r * (n - k + i) / i;
    return (unsigned)r;
}

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
    else if (o->ngram == 0 || o->num_perm == 0 ||
             o->num_perm > WN_MINHASH_MAX_K)
        why = "bad --ngram or --num-perm";
    else if (!(o->threshold > 0 && o->threshold < 1))
        why = "--threshold must be in (0, 1)";
    else if (o->containment < 0 || o->containment > 1)
        why = "--containment must be in [0, 1]";
    if (why) {
        if (msg && msgcap)
            snprintf(msg, msgcap, "%s", why);
        return WN_EINVAL;
    }
    struct wn__judge *j = wn__calloc(1, sizeof(*j));
    if (!j)
        return WN_ENOMEM;
    j->o = *o;
    /* Nothing of the caller's is kept: strings and callbacks are dropped. */
    memset(&j->o.reader, 0, sizeof(j->o.reader));
    j->o.keep_field = NULL;
    j->o.tmp_dir = NULL;
    j->o.cancel = NULL;
    j->o.on_progress = NULL;
    j->o.on_reject = NULL;
    j->o.ud = NULL;
    if (o->method == WN_METHOD_SIMHASH) {
        j->sig_bytes = 8;
        j->nkeys =
            choose(o->hamming + SIMHASH_EXTRA_BLOCKS, SIMHASH_EXTRA_BLOCKS);
        j->bands = j->nkeys;
    } else {
        if (o->sketch == WN_SKETCH_K_PERMUTATIONS) {
            j->vk = o->num_perm;
            j->vbits = 16;
            j->sig_bytes = 2 * o->num_perm;
        } else {
            uint32_t m = WN_MIN(4u, WN_MINHASH_MAX_K / o->num_perm);
            j->vk = o->num_perm * (m ? m : 1);
            j->vbits = 4;
            j->sig_bytes = (j->vk + 1) / 2;
        }
        if (o->bands) {
            j->bands = o->bands;
            j->rows = o->rows;
        } else {
            double t = o->threshold;
            if (o->containment > 0)
                t = WN_MIN(t, o->containment / (3.0 - o->containment));
            struct wn_lsh_params p;
            int rc =
                wn__lsh_optimal(t, o->num_perm, o->weight_fp, o->weight_fn, &p);
            if (rc) {
                wn__free(j);
                if (msg && msgcap)
                    snprintf(msg, msgcap, "no LSH banding for the threshold");
                return rc;
            }
            j->bands = p.bands;
            j->rows = p.rows;
        }
        j->nkeys = j->bands;
    }
    if (j->nkeys == 0 || j->nkeys > WN__JUDGE_MAX_KEYS ||
        (o->method != WN_METHOD_SIMHASH &&
         (uint64_t)j->bands * j->rows > o->num_perm)) {
        wn__free(j);
        if (msg && msgcap)
            snprintf(msg, msgcap, "too many LSH keys per record");
        return WN_EINVAL;
    }
    j->o.bands = j->bands;
    j->o.rows = j->rows;
    *out = j;
    return WN_OK;
}

void wn__judge_free(struct wn__judge *j)
{
    wn__free(j);
}

int wn__judge_params(const struct wn__judge *j, struct wn_buf *b)
{
    const struct wn_dedup_options *o = &j->o;
    return wn__buf_printf(
        b,
        "method %d\ntokens %d\nngram %u\nnum_perm %u\nthreshold %.17g\n"
        "bands %u\nrows %u\nsketch %d\ncontainment %.17g\nhamming %u\n"
        "seed %llu\n",
        o->method, o->token_mode, o->ngram, o->num_perm, o->threshold, j->bands,
        j->rows, o->sketch, o->containment, o->hamming,
        (unsigned long long)o->seed);
}

int wn__judge_parse_params(const char *p, size_t len,
                           struct wn_dedup_options *o)
{
    struct wn_dedup_options t;
    wn_dedup_options_init(&t);
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
        else
            return WN_EFORMAT;
    }
    *o = t;
    return WN_OK;
}

void wn__jsketch_init(struct wn__jsketch *s)
{
    memset(s, 0, sizeof(*s));
}

void wn__jsketch_release(struct wn__jsketch *s)
{
    struct scratch *w = s->scratch;
    if (w) {
        wn_tokens_release(&w->tok);
        wn__free(w->sh);
        wn__free(w);
    }
    wn__free(s->blob);
    wn__jsketch_init(s);
}

int wn__judge_sketch(const struct wn__judge *j, const char *text, size_t len,
                     struct wn__jsketch *s)
{
    const struct wn_dedup_options *opt = &j->o;
    if (!s->scratch) {
        s->scratch = wn__calloc(1, sizeof(struct scratch));
        if (!s->scratch)
            return WN_ENOMEM;
    }
    size_t need = BLOB_HEAD + j->sig_bytes;
    if (s->blob_cap < need) {
        unsigned char *nb = wn__realloc(s->blob, need);
        if (!nb)
            return WN_ENOMEM;
        s->blob = nb;
        s->blob_cap = need;
    }
    struct scratch *w = s->scratch;
    int rc = wn_tokenize(text, len, opt->token_mode, &w->tok);
    if (rc)
        return rc;
    wn__hash128(w->tok.norm, w->tok.norm_len, opt->seed, s->exact);
    rc = wn__shingles(&w->tok, opt->ngram, opt->seed, &w->sh, &w->nsh, &w->cap);
    if (rc)
        return rc;
    size_t n = w->nsh;
    if (opt->containment > 0)
        n = wn__u64_sort_unique(w->sh, n);
    uint32_t nsh = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    unsigned char *blob = s->blob;
    wn__put_le64(blob, s->exact[0]);
    wn__put_le64(blob + 8, s->exact[1]);
    wn__put_le32(blob + 16, nsh);
    unsigned char *spill = blob + BLOB_HEAD;
    s->blob_len = need;
    s->nkeys = j->nkeys;
    s->empty = n == 0;
    if (n == 0) {
        memset(spill, 0xff, j->sig_bytes);
        memset(s->keys, 0, j->nkeys * sizeof(*s->keys));
    } else if (opt->method == WN_METHOD_SIMHASH) {
        uint64_t fp = wn__simhash64(w->sh, n);
        wn__put_le64(spill, fp);
        unsigned k = wn__simhash_keys(fp, opt->hamming, SIMHASH_EXTRA_BLOCKS,
                                      s->keys, j->nkeys);
        assert(k == j->nkeys);
        (void)k;
    } else if (opt->sketch == WN_SKETCH_K_PERMUTATIONS) {
        wn__minhash_classic(w->sh, n, opt->num_perm, opt->seed, w->sig);
        for (size_t i = 0; i < opt->num_perm; i++) {
            spill[2 * i] = (uint8_t)w->sig[i];
            spill[2 * i + 1] = (uint8_t)(w->sig[i] >> 8);
        }
        wn__lsh_band_keys(w->sig, j->bands, j->rows, opt->seed, s->keys);
    } else {
        wn__minhash_oph_fine(w->sh, n, opt->num_perm, j->vk / opt->num_perm,
                             opt->seed, w->sig, w->fine);
        if (j->vk & 1)
            w->fine[j->vk] = WN_SIG_EMPTY;
        for (size_t i = 0; i < j->sig_bytes; i++) {
            uint32_t fa = w->fine[2 * i], fb = w->fine[2 * i + 1];
            uint32_t lo = fa & 0xF, hi = fb & 0xF;
            lo -= lo == 0xF;
            hi -= hi == 0xF;
            if (fa == WN_SIG_EMPTY)
                lo = 0xF;
            if (fb == WN_SIG_EMPTY)
                hi = 0xF;
            spill[i] = (uint8_t)(lo | hi << 4);
        }
        wn__lsh_band_keys(w->sig, j->bands, j->rows, opt->seed, s->keys);
    }
    return WN_OK;
}

int wn__judge_verify(const struct wn__judge *j, const unsigned char *a,
                     size_t alen, const unsigned char *b, size_t blen,
                     struct wn__verdict *v)
{
    size_t need = BLOB_HEAD + j->sig_bytes;
    if (alen != need || blen != need)
        return WN_EFORMAT;
    const struct wn_dedup_options *o = &j->o;
    struct wn__verdict r = {WN__VERDICT_NONE, 0, 0};
    if (!memcmp(a, b, 16)) {
        r.reason = WN__VERDICT_EXACT;
        r.similarity = 1;
        r.containment = 1;
        *v = r;
        return WN_OK;
    }
    uint32_t na = wn__get_le32(a + 16), nb = wn__get_le32(b + 16);
    if (na == 0 || nb == 0) {
        *v = r; /* an empty text is only an exact copy of another */
        return WN_OK;
    }
    const unsigned char *sa = a + BLOB_HEAD, *sb = b + BLOB_HEAD;
    double jac;
    if (o->method == WN_METHOD_SIMHASH) {
        int dist = __builtin_popcountll(wn__get_le64(sa) ^ wn__get_le64(sb));
        r.similarity = 1.0 - dist / 64.0;
        r.containment = r.similarity;
        if (dist <= (int)o->hamming)
            r.reason = WN__VERDICT_NEAR;
        *v = r;
        return WN_OK;
    }
    if (j->vbits == 4) {
        uint32_t used = 0, both = 0, eq = 0;
        for (uint32_t i = 0; i < j->vk; i++) {
            unsigned sh = (i & 1) * 4;
            unsigned xa = (sa[i >> 1] >> sh) & 0xF;
            unsigned xb = (sb[i >> 1] >> sh) & 0xF;
            bool ea = xa == 0xF, eb = xb == 0xF;
            used += !(ea && eb);
            both += !ea && !eb;
            eq += !ea && xa == xb;
        }
        const double p = 1.0 / 15.0;
        jac = used ? ((double)eq - p * both) / ((double)used * (1.0 - p)) : 1.0;
    } else {
        uint32_t eq = 0;
        for (size_t i = 0; i < j->vk; i++)
            eq += (sa[2 * i] == sb[2 * i]) & (sa[2 * i + 1] == sb[2 * i + 1]);
        const double p = 1.0 / 65536.0;
        jac = ((double)eq / j->vk - p) / (1.0 - p);
    }
    jac = jac < 0 ? 0 : jac > 1 ? 1 : jac;
    double inter = jac * ((double)na + nb) / (1.0 + jac);
    double mn = na < nb ? na : nb;
    double cont = mn > 0 ? WN_MIN(1.0, inter / mn) : 1.0;
    r.similarity = jac;
    r.containment = cont;
    if (jac >= o->threshold)
        r.reason = WN__VERDICT_NEAR;
    else if (o->containment > 0 && cont >= o->containment)
        r.reason = WN__VERDICT_CONTAINED;
    *v = r;
    return WN_OK;
}
