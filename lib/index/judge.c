/*
 * judge.c - the deduplication rule as the index uses it, through the public
 * stages of winnow.h: wn_sketcher_sketch makes the sketch, wn_sketch_encode
 * the blob, wn_sketch_decode reads it back and wn_sketcher_compare decides
 * the pair. Nothing of the rule lives here.
 *
 * The stored form. A blob (winnow.h, "Encoding") is a 24-byte header
 * (magic, format, sketcher id, length, flags) and sections (tag, length,
 * bytes). For a sketcher whose blobs all have one layout (every rule but
 * --verify exact), the header but its flags and the section headers are
 * the same in every blob, and the band keys are what the index looks the
 * record up by: the index stores none of them. The layout is learnt at
 * create from two sketches (an empty text and a sample), whatever sections
 * the sketcher writes; the keys section is the one whose bytes are the
 * sample's band keys. A stored form is then
 *
 *   flags      1 byte (the header's flags)
 *   sections   in the layout's order, the keys section left out: a section
 *              of up to SMALL_SECTION bytes (the exact hash and counts) as
 *              a bit set of its non-zero bytes and those bytes, a larger
 *              one (the verification signature) as it is.
 *
 * wn__judge_verify rebuilds the blob: the header and section headers from
 * the layout, the keys from what the lookup found (the candidate's keys
 * equal the checked record's keys where it was found under them; other
 * keys are set to differ), which is all wn_sketcher_compare reads of them.
 */
#include "index/judge.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#define BLOB_HEADER   24u
#define SECTION_HEAD  8u
#define SMALL_SECTION 64u
#define MAX_SECTIONS  16u

struct wn__judge {
    struct wn_sketcher *sk;
    struct wn_sketcher_info info;
    uint64_t id;
    /* The layout of every blob (compact), learnt at create. */
    int compact;
    unsigned char head[BLOB_HEADER];
    size_t blob_len;
    unsigned nsec;
    struct section {
        uint32_t tag, len;
        int keys; /* the band keys: not stored */
    } sec[MAX_SECTIONS];
};

/* Read the sections of an encoded blob into sec[]; -1 if malformed. */
static int split_blob(const unsigned char *b, size_t len, struct section *sec,
                      unsigned *nsec)
{
    if (len < BLOB_HEADER || wn__get_le32(b + 16) != len)
        return -1;
    unsigned n = 0;
    for (size_t at = BLOB_HEADER; at < len; n++) {
        if (n == MAX_SECTIONS || len - at < SECTION_HEAD)
            return -1;
        uint32_t l = wn__get_le32(b + at + 4);
        if (l > len - at - SECTION_HEAD)
            return -1;
        sec[n].tag = wn__get_le32(b + at);
        sec[n].len = l;
        sec[n].keys = 0;
        at += SECTION_HEAD + l;
    }
    *nsec = n;
    return 0;
}

/* Learn the layout from two sketches; leaves j->compact 0 when the blobs
 * differ in layout or the keys cannot be found among the sections. */
static int learn_layout(struct wn__judge *j)
{
    static const char sample[] =
        "The index learns the layout of the sketches of this rule from an "
        "empty text and from this one, which has words enough for shingles.";
    struct wn_sketch *a = NULL, *b = NULL;
    unsigned char *ba = NULL, *bb = NULL;
    int rc = wn_sketch_create(j->sk, &a);
    if (!rc)
        rc = wn_sketch_create(j->sk, &b);
    if (!rc)
        rc = wn_sketcher_sketch(j->sk, "", 0, a);
    if (!rc)
        rc = wn_sketcher_sketch(j->sk, sample, sizeof(sample) - 1, b);
    size_t la = 0, lb = 0;
    if (!rc) {
        la = wn_sketch_encoded_size(a);
        lb = wn_sketch_encoded_size(b);
        ba = wn__malloc(la);
        bb = wn__malloc(lb);
        rc = ba && bb ? WN_OK : WN_ENOMEM;
    }
    if (!rc)
        rc = wn_sketch_encode(a, ba, la, &la);
    if (!rc)
        rc = wn_sketch_encode(b, bb, lb, &lb);
    struct section sa[MAX_SECTIONS];
    unsigned na = 0;
    size_t nk = 0;
    const uint64_t *keys = rc ? NULL : wn_sketch_band_keys(b, &nk);
    if (!rc && la == lb && !split_blob(ba, la, sa, &na) &&
        !split_blob(bb, lb, j->sec, &j->nsec) && na == j->nsec &&
        wn__get_le32(ba + 20) < 256 && wn__get_le32(bb + 20) < 256 &&
        !memcmp(ba, bb, 20) && wn_sketch_is_empty(a) &&
        !wn_sketch_is_empty(b)) {
        bool same = true;
        unsigned found = 0;
        size_t at = BLOB_HEADER;
        for (unsigned i = 0; i < na; i++) {
            struct section *s = &j->sec[i];
            same = same && sa[i].tag == s->tag && sa[i].len == s->len;
            if (keys && nk && s->len == nk * 8) {
                bool eq = true;
                for (size_t k = 0; k < nk && eq; k++)
                    eq =
                        wn__get_le64(bb + at + SECTION_HEAD + 8 * k) == keys[k];
                if (eq) {
                    s->keys = 1;
                    found++;
                }
            }
            at += SECTION_HEAD + s->len;
        }
        if (same && found == 1) {
            j->compact = 1;
            j->blob_len = lb;
            memcpy(j->head, bb, BLOB_HEADER);
        }
    }
    wn__free(ba);
    wn__free(bb);
    wn_sketch_free(a);
    wn_sketch_free(b);
    return rc;
}

int wn__judge_compact(const struct wn__judge *j)
{
    return j->compact;
}

/* The stored form of blob b (of the layout) into out; its length. */
static size_t store_form(const struct wn__judge *j, const unsigned char *b,
                         unsigned char *out)
{
    unsigned char *p = out;
    *p++ = (unsigned char)wn__get_le32(b + 20);
    size_t at = BLOB_HEADER;
    for (unsigned i = 0; i < j->nsec; i++) {
        const struct section *s = &j->sec[i];
        const unsigned char *d = b + at + SECTION_HEAD;
        at += SECTION_HEAD + s->len;
        if (s->keys)
            continue;
        if (s->len > SMALL_SECTION) {
            memcpy(p, d, s->len);
            p += s->len;
            continue;
        }
        unsigned char *bits = p;
        size_t nb = (s->len + 7) / 8;
        memset(bits, 0, nb);
        p += nb;
        for (uint32_t k = 0; k < s->len; k++)
            if (d[k]) {
                bits[k / 8] |= (unsigned char)(1u << (k % 8));
                *p++ = d[k];
            }
    }
    return (size_t)(p - out);
}

/* The largest stored form of the layout. */
static size_t store_cap(const struct wn__judge *j)
{
    size_t n = 1;
    for (unsigned i = 0; i < j->nsec; i++)
        if (!j->sec[i].keys)
            n += j->sec[i].len + (j->sec[i].len + 7) / 8;
    return n;
}

/* Rebuild the blob of stored form b into w->buf; its length, or 0 when b
 * is malformed. */
static size_t rebuild(const struct wn__judge *j, struct wn__jverify *w,
                      const unsigned char *b, size_t blen,
                      const uint64_t *shared)
{
    unsigned char *o = w->buf;
    if (blen < 1)
        return 0;
    memcpy(o, j->head, BLOB_HEADER);
    wn__put_le32(o + 20, b[0]);
    size_t in = 1, at = BLOB_HEADER;
    for (unsigned i = 0; i < j->nsec; i++) {
        const struct section *s = &j->sec[i];
        wn__put_le32(o + at, s->tag);
        wn__put_le32(o + at + 4, s->len);
        unsigned char *d = o + at + SECTION_HEAD;
        at += SECTION_HEAD + s->len;
        if (s->keys) {
            uint32_t nk = s->len / 8;
            for (uint32_t k = 0; k < nk; k++) {
                uint64_t key = k < w->nakeys ? w->akeys[k] : 0;
                bool eq =
                    k < WN__JUDGE_MAX_KEYS && (shared[k / 64] >> (k % 64) & 1u);
                wn__put_le64(d + 8 * (size_t)k, eq ? key : ~key);
            }
        } else if (s->len > SMALL_SECTION) {
            if (blen - in < s->len)
                return 0;
            memcpy(d, b + in, s->len);
            in += s->len;
        } else {
            size_t nb = (s->len + 7) / 8;
            if (blen - in < nb)
                return 0;
            const unsigned char *bits = b + in;
            in += nb;
            for (uint32_t k = 0; k < s->len; k++) {
                d[k] = 0;
                if (bits[k / 8] >> (k % 8) & 1u) {
                    if (in == blen)
                        return 0;
                    d[k] = b[in++];
                }
            }
        }
    }
    return in == blen ? at : 0;
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
    rc = learn_layout(j);
    if (rc) {
        if (msg && msgcap)
            snprintf(msg, msgcap, "%s", wn_strerror(rc));
        wn_sketcher_free(j->sk);
        wn__free(j);
        return rc;
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
    /* SimHash's bands follow from the Hamming distance: stored for the
     * record, not an option (rows 0 with bands set is invalid). */
    if (t.method == WN_METHOD_SIMHASH)
        t.bands = t.rows = 0;
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
    wn__free(s->stored);
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
    size_t blen = 0;
    rc = wn_sketch_encode(sk, s->blob, s->blob_cap, &blen);
    if (rc)
        return rc;
    s->blob_len = blen;
    size_t scap = j->compact ? store_cap(j) : blen;
    if (s->stored_cap < scap) {
        unsigned char *nb = wn__realloc(s->stored, scap);
        if (!nb)
            return WN_ENOMEM;
        s->stored = nb;
        s->stored_cap = scap;
    }
    if (j->compact && blen == j->blob_len) {
        s->stored_len = store_form(j, s->blob, s->stored);
    } else {
        if (j->compact) /* a blob of another layout: the judge is wrong */
            return WN_EFORMAT;
        memcpy(s->stored, s->blob, blen);
        s->stored_len = blen;
    }
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
    wn__free(w->buf);
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
    int rc = decode(j, &w->a, a, alen);
    if (rc)
        return rc;
    size_t n = 0;
    const uint64_t *keys = wn_sketch_band_keys(w->a, &n);
    w->nakeys = (uint32_t)WN_MIN(n, WN__JUDGE_MAX_KEYS);
    if (w->nakeys)
        memcpy(w->akeys, keys, w->nakeys * sizeof(*keys));
    if (j->compact && w->cap < j->blob_len) {
        unsigned char *nb = wn__realloc(w->buf, j->blob_len);
        if (!nb)
            return WN_ENOMEM;
        w->buf = nb;
        w->cap = j->blob_len;
    }
    return WN_OK;
}

int wn__judge_verify(const struct wn__judge *j, struct wn__jverify *w,
                     const unsigned char *b, size_t blen,
                     const uint64_t *shared, struct wn__verdict *v)
{
    if (j->compact) {
        blen = rebuild(j, w, b, blen, shared);
        if (!blen)
            return WN_EFORMAT;
        b = w->buf;
    }
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
