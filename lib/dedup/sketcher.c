/*
 * sketcher.c - the sketch stage of deduplication: the options, the
 * parameters chosen once from them (struct wn_sketcher) and what one text
 * becomes (struct wn_sketch): the 128-bit hash of its normalized token
 * stream, its shingle count, its MinHash signature (one-permutation with
 * optimal densification, Shrivastava 2017, or K permutations, Broder 1997)
 * or SimHash fingerprint (Charikar 2002), the LSH band keys (Manku et al.
 * 2007 block keys for SimHash) and the verification data: b-bit MinHash
 * values (Li and Koenig 2010), the 4-bit fine OPH bins or the fingerprint.
 *
 * A sketch costs O(tokens) to normalize and shingle plus O(shingles) (OPH,
 * SimHash) or O(K shingles) (K permutations) to hash. Its memory is O(text)
 * up to 1 MiB; a longer text is sketched in pieces (sketch_pieces) in
 * O(256 KiB) besides the text, or 8 bytes per shingle more where the
 * sketch keeps the sorted set. Nothing here is shared between threads but
 * the immutable sketcher.
 */
#include "dedup/dedup.h"
#include "sketch/contain.h"
#include "sketch/hash128.h"
#include "text/figures.h"
#include "text/text.h"

#include <assert.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Version of the sketch blob; part of every sketcher id. */
#define SKETCH_FORMAT  2u
#define SKETCH_MAGIC   0x4B534E57u /* "WNSK" little-endian */
#define SKETCH_HEADER  24u         /* magic, version, id, length, flags */
#define SECTION_HEADER 8u          /* tag, length */
#define SECTION_CORE   1u          /* hash, tokens, invalid, shingles */
#define SECTION_KEYS   2u
#define SECTION_VERIFY 3u
#define SECTION_SET    4u
#define SECTION_FIGS   5u /* the figures' fingerprint (news, web rules) */
#define SECTION_LEAD   6u /* lead words (news, web rules) */
#define SECTION_ANCH   7u /* anchors (news, web rules) */
#define FIG_BYTES      (4u + 4u * WN_FIG_MAX)
#define CORE_BYTES     36u
#define FLAG_EMPTY     1u

void wn_dedup_options_init(struct wn_dedup_options *o)
{
    memset(o, 0, sizeof(*o));
    o->method = WN_METHOD_MINHASH;
    o->token_mode = WN_TOKENS_WORD;
    o->ngram = 5;
    o->num_perm = 128;
    /* News is the default (docs/QUALITY.md, phase 3): its rule at its
     * threshold; --profile classic with 0.8 is the rule before issue 12. */
    o->profile = WN_PROFILE_NEWS;
    o->threshold = 0.5;
    o->verify = WN_VERIFY_ESTIMATE;
    o->hamming = 3;
    o->keep = WN_KEEP_FIRST;
    o->seed = 1;
    o->bucket_all_pairs = 16;
    o->weight_fp = WN_LSH_WEIGHT_FP;
    o->weight_fn = WN_LSH_WEIGHT_FN;
}

int wn__dedup_validate(const struct wn_dedup_options *o, bool need_keep_field)
{
    if (o->ngram == 0 || o->ngram > 64)
        return WN_EINVAL;
    if (o->method != WN_METHOD_MINHASH && o->method != WN_METHOD_SIMHASH)
        return WN_EINVAL;
    if (o->method == WN_METHOD_MINHASH &&
        (o->num_perm == 0 || o->num_perm > 4096))
        return WN_EINVAL;
    if (!(o->threshold > 0.0 && o->threshold < 1.0))
        return WN_EINVAL;
    if (o->containment < 0.0 || o->containment > 1.0)
        return WN_EINVAL;
    if (o->sketch != WN_SKETCH_ONE_PERMUTATION &&
        o->sketch != WN_SKETCH_K_PERMUTATIONS)
        return WN_EINVAL;
    if (o->keep != WN_KEEP_FIRST && o->keep != WN_KEEP_LONGEST &&
        o->keep != WN_KEEP_MAX)
        return WN_EINVAL;
    if (need_keep_field && o->keep == WN_KEEP_MAX && !o->keep_field)
        return WN_EINVAL;
    if (o->method == WN_METHOD_SIMHASH && (o->hamming > 16))
        return WN_EINVAL;
    if ((o->bands == 0) != (o->rows == 0))
        return WN_EINVAL;
    if (o->weight_fp < 0 || o->weight_fn < 0 ||
        o->weight_fp + o->weight_fn <= 0)
        return WN_EINVAL;
    if (o->bands && (uint64_t)o->bands * o->rows > o->num_perm)
        return WN_EINVAL;
    if (o->token_mode != WN_TOKENS_WORD && o->token_mode != WN_TOKENS_CHAR)
        return WN_EINVAL;
    if (o->profile != WN_PROFILE_NEWS && o->profile != WN_PROFILE_CLASSIC &&
        o->profile != WN_PROFILE_WEB)
        return WN_EINVAL;
    return WN_OK;
}

static unsigned choose(unsigned n, unsigned k)
{
    unsigned long long r = 1;
    for (unsigned i = 1; i <= k; i++)
        r = r * (n - k + i) / i;
    return (unsigned)r;
}

static uint64_t sketcher_hash(const struct wn_sketcher *sk)
{
    struct wn_sketcher_info in;
    wn_sketcher_get_info(sk, &in);
    unsigned char b[128];
    size_t n = 0;
#define PUT32(v) (wn__put_le32(b + n, (uint32_t)(v)), n += 4)
#define PUT64(v) (wn__put_le64(b + n, (uint64_t)(v)), n += 8)
    uint64_t t, c;
    memcpy(&t, &in.threshold, 8);
    memcpy(&c, &in.containment, 8);
    PUT32(SKETCH_FORMAT);
    PUT32(in.method);
    PUT32(in.sketch);
    PUT32(in.verify);
    PUT32(in.token_mode);
    PUT32(in.exact_only);
    PUT32(in.ngram);
    PUT32(in.num_perm);
    PUT32(in.bands);
    PUT32(in.rows);
    PUT32(in.nkeys);
    PUT32(in.verify_bytes);
    PUT32(in.hamming);
    PUT32(sk->need_unique);
    PUT32(in.profile);
    PUT32(in.figure_bytes);
    PUT64(t);
    PUT64(c);
    PUT64(in.seed);
    /* Only the rule's sketches have these: classic ids stay as they were. */
    if (sk->rule) {
        PUT32(sk->lead_bytes);
        PUT32(sk->anchor_cap);
        PUT32(WN_ANCHOR_LOG2_RATE);
    }
#undef PUT32
#undef PUT64
    assert(n <= sizeof(b));
    return wn__hash64(b, n, 0x57494E4E4F57ULL);
}

int wn__sketcher_init(struct wn_sketcher *sk, const struct wn_dedup_options *o)
{
    memset(sk, 0, sizeof(*sk));
    sk->o = *o;
    sk->o.keep_field = NULL;
    sk->o.tmp_dir = NULL;
    sk->o.cancel = NULL;
    sk->o.on_progress = NULL;
    sk->o.on_reject = NULL;
    sk->o.ud = NULL;
    memset(&sk->o.reader, 0, sizeof(sk->o.reader));
    sk->need_sets = !o->exact_only && o->verify == WN_VERIFY_EXACT;
    sk->need_unique = sk->need_sets || o->containment > 0;
    int rc = WN_OK;
    if (o->exact_only) {
        /* nothing else is computed */
    } else if (o->method == WN_METHOD_SIMHASH) {
        sk->sig_bytes = 8;
        sk->nkeys = choose(o->hamming + WN_SIMHASH_EXTRA_BLOCKS,
                           WN_SIMHASH_EXTRA_BLOCKS);
        sk->bands = sk->nkeys;
        sk->rows = 0;
    } else {
        if (o->sketch == WN_SKETCH_K_PERMUTATIONS) {
            sk->vk = o->num_perm;
            sk->vbits = 16;
            sk->sig_bytes = 2 * o->num_perm;
        } else {
            uint32_t m = WN_MIN(4u, WN_MINHASH_MAX_K / o->num_perm);
            sk->vk = o->num_perm * (m ? m : 1);
            sk->vbits = 4;
            sk->sig_bytes = (sk->vk + 1) / 2;
        }
        if (o->bands) {
            sk->bands = o->bands;
            sk->rows = o->rows;
        } else if (o->profile != WN_PROFILE_CLASSIC) {
            /* The pair rule's banding: rows of 4, at most WN_RULE_BANDS
             * bands (26 x 4 at K = 128, S-curve midpoint 0.44; a pair at
             * J 0.5 is a candidate with probability 0.81, at 0.6 0.97,
             * and the anchors find contained copies besides). 32 x 4 (the
             * whole signature) made 1.27x the candidates for 0.14% more
             * removals on the generated 1 GB corpus and the same Reuters
             * pairs; the S-curve optimum for 0.5 (26 x 3) 3.6x
             * (docs/QUALITY.md, "The banding of the rule"). */
            sk->rows = WN_MIN(4u, o->num_perm);
            sk->bands = WN_MIN(WN_MIN(o->num_perm / sk->rows, WN_RULE_BANDS),
                               WN_DEDUP_MAX_KEYS);
        } else {
            /* With containment, candidates must also be found for a
             * smaller document A inside a larger B, whose Jaccard is
             * lower: for |B| <= 2|A| and containment c,
             * J >= c / (3 - c). */
            double t = o->threshold;
            if (o->containment > 0)
                t = WN_MIN(t, o->containment / (3.0 - o->containment));
            struct wn_lsh_params p;
            rc =
                wn__lsh_optimal(t, o->num_perm, o->weight_fp, o->weight_fn, &p);
            if (!rc) {
                sk->bands = p.bands;
                sk->rows = p.rows;
            }
        }
        sk->nkeys = sk->bands;
        sk->rule = o->profile != WN_PROFILE_CLASSIC;
    }
    if (sk->rule) {
        sk->fig_bytes = FIG_BYTES;
        wn__quality_params_default(&sk->qp);
        sk->qp.t_near = o->threshold;
        if (o->containment > 0)
            sk->qp.t_cont = o->containment;
        /* An estimated containment needs a few bins where the records
         * agree: about 4 expected for a copy s inside l at |s| >= 4/vk |l|
         * (docs/QUALITY.md, phase 3). Exact sets need no floor. */
        if (!sk->need_sets && sk->vk)
            sk->qp.min_cont_ratio = 4.0 / sk->vk;
        sk->lead_bytes = WN_LEAD_BYTES;
        sk->anchor_cap = WN_ANCHOR_CAP;
    }
    sk->rec_bytes = sk->sig_bytes + sk->fig_bytes + sk->lead_bytes;
    if (!rc && sk->nkeys > WN_DEDUP_MAX_KEYS)
        rc = WN_EINVAL;
    sk->id = sketcher_hash(sk);
    return rc;
}

int wn_sketcher_create(const struct wn_dedup_options *opts,
                       struct wn_sketcher **out)
{
    if (!out)
        return WN_EINVAL;
    struct wn_dedup_options defaults;
    if (!opts) {
        wn_dedup_options_init(&defaults);
        opts = &defaults;
    }
    int rc = wn__dedup_validate(opts, false);
    if (rc)
        return rc;
    struct wn_sketcher *sk = wn__malloc(sizeof(*sk));
    if (!sk)
        return WN_ENOMEM;
    rc = wn__sketcher_init(sk, opts);
    if (rc) {
        wn__free(sk);
        return rc;
    }
    *out = sk;
    return WN_OK;
}

void wn_sketcher_free(struct wn_sketcher *sk)
{
    wn__free(sk);
}

void wn_sketcher_get_info(const struct wn_sketcher *sk,
                          struct wn_sketcher_info *info)
{
    const struct wn_dedup_options *o = &sk->o;
    memset(info, 0, sizeof(*info));
    info->method = o->method;
    info->sketch = o->method == WN_METHOD_MINHASH ? o->sketch : 0;
    info->verify = o->verify;
    info->token_mode = o->token_mode;
    info->exact_only = o->exact_only != 0;
    info->ngram = o->ngram;
    info->num_perm = o->method == WN_METHOD_MINHASH ? o->num_perm : 0;
    info->bands = sk->bands;
    info->rows = sk->rows;
    info->nkeys = sk->nkeys;
    info->verify_bytes = sk->sig_bytes;
    info->figure_bytes = sk->fig_bytes;
    info->profile = o->profile;
    info->threshold = o->threshold;
    info->containment = o->containment;
    info->hamming = o->method == WN_METHOD_SIMHASH ? o->hamming : 0;
    info->seed = o->seed;
}

uint64_t wn_sketcher_id(const struct wn_sketcher *sk)
{
    return sk->id;
}

/* ------------------------------------------------------------------------ */
/* Sketches                                                                  */
/* ------------------------------------------------------------------------ */

static uint32_t sig_len(const struct wn_sketcher *sk)
{
    if (sk->o.exact_only)
        return 0;
    return sk->o.method == WN_METHOD_SIMHASH ? 2 : sk->o.num_perm;
}

int wn__sketch_init(struct wn_sketch *s, const struct wn_sketcher *sk)
{
    memset(s, 0, sizeof(*s));
    s->sk = sk;
    wn_tokens_init(&s->tok);
    s->keys = wn__calloc(sk->nkeys ? sk->nkeys : 1, sizeof(*s->keys));
    s->vdata = wn__calloc(sk->rec_bytes ? sk->rec_bytes : 1, 1);
    s->sig = wn__calloc(sig_len(sk) ? sig_len(sk) : 1, sizeof(*s->sig));
    /* An odd vk is padded with one empty bin when packed. */
    s->fine = wn__calloc(sk->vk + 1, sizeof(*s->fine));
    s->anch = wn__calloc(sk->anchor_cap ? sk->anchor_cap : 1, sizeof(*s->anch));
    if (!s->keys || !s->vdata || !s->sig || !s->fine || !s->anch) {
        wn__sketch_release(s);
        return WN_ENOMEM;
    }
    return WN_OK;
}

void wn__sketch_release(struct wn_sketch *s)
{
    wn__free(s->keys);
    wn__free(s->vdata);
    wn__free(s->sig);
    wn__free(s->fine);
    wn__free(s->anch);
    wn__free(s->sh);
    wn_tokens_release(&s->tok);
    memset(s, 0, sizeof(*s));
}

int wn_sketch_create(const struct wn_sketcher *sk, struct wn_sketch **out)
{
    if (!sk || !out)
        return WN_EINVAL;
    struct wn_sketch *s = wn__malloc(sizeof(*s));
    if (!s)
        return WN_ENOMEM;
    int rc = wn__sketch_init(s, sk);
    if (rc) {
        wn__free(s);
        return rc;
    }
    *out = s;
    return WN_OK;
}

void wn_sketch_free(struct wn_sketch *s)
{
    if (s) {
        wn__sketch_release(s);
        wn__free(s);
    }
}

/* Pack the fine OPH bins into 4-bit values, two per byte, the even bin
 * low; 0xF marks an empty bin, values keep 0..0xE. Branch-free. */
static void pack_fine(uint32_t *fine, uint32_t vk, uint32_t nb, uint8_t *out)
{
    if (vk & 1)
        fine[vk] = WN_SIG_EMPTY; /* pad */
    for (size_t j = 0; j < nb; j++) {
        uint32_t fa = fine[2 * j], fb = fine[2 * j + 1];
        uint32_t lo = fa & 0xF, hi = fb & 0xF;
        lo -= lo == 0xF;
        hi -= hi == 0xF;
        lo |= 0xFu & (0u - (uint32_t)(fa == WN_SIG_EMPTY));
        hi |= 0xFu & (0u - (uint32_t)(fb == WN_SIG_EMPTY));
        out[j] = (uint8_t)(lo | hi << 4);
    }
}

/* ------------------------------------------------------------------------ */
/* Large texts in pieces                                                     */
/* ------------------------------------------------------------------------ */

/*
 * A text longer than CHUNK_MIN bytes is sketched in pieces of about
 * CHUNK_BYTES cut where tokenizing restarts (wn__tokenize_cut), so that
 * the normalized bytes and the token array (about 3 times the text) are
 * those of one piece, not of the whole text. What the sketch takes from
 * the whole text is gathered piece by piece, with the same values as in
 * one pass: the exact hash is XXH3-128 streamed over the normalized bytes,
 * the shingles cross the cuts through the carried token hashes
 * (wn__shingles_piece), the first WN_LEAD_TOKENS tokens are copied aside
 * for the lead words, and the MinHash bins (OPH or K permutations) and the
 * anchors keep their minima, SimHash adds up its votes. Where the sketch
 * needs the whole shingle list (the sorted set of --verify exact or
 * --containment), the pieces' shingles are appended to it: 8 bytes per
 * token more.
 */
#define CHUNK_MIN   ((size_t)1 << 20)
#define CHUNK_BYTES ((size_t)256 << 10)

#ifdef WN_TEST_HOOKS
/* -Dtest_hooks=true: WINNOW_TEST_SKETCH_CHUNK=N (or wn__sketch_set_chunk)
 * sketches every text longer than N bytes in pieces of N, so that small
 * inputs take the pieces' path (tests compare it with the whole one).
 * SIZE_MAX: not read yet; 0: off. */
static _Atomic size_t test_chunk = SIZE_MAX;

void wn__sketch_set_chunk(size_t n)
{
    atomic_store_explicit(&test_chunk, n, memory_order_relaxed);
}
#endif

/* The piece size for a text of len bytes, or 0 to sketch it whole. */
static size_t chunk_for(size_t len)
{
#ifdef WN_TEST_HOOKS
    size_t t = atomic_load_explicit(&test_chunk, memory_order_relaxed);
    if (t == SIZE_MAX) {
        const char *env = getenv("WINNOW_TEST_SKETCH_CHUNK");
        t = env && *env ? (size_t)strtoull(env, NULL, 10) : 0;
        atomic_store_explicit(&test_chunk, t, memory_order_relaxed);
    }
    if (t)
        return len > t ? t : 0;
#endif
    return len > CHUNK_MIN ? CHUNK_BYTES : 0;
}

/* What the pieces gather for the sketch's tail (sketch_tail). */
struct gathered {
    /* The pieces' shingles are not kept: sig (K permutations) or fine
     * (OPH) hold their minima, ones their SimHash votes. */
    bool minima;
    uint32_t ones[64];
    uint32_t nanch;        /* anchors gathered in s->anch */
    struct wn_tokens lead; /* the text's first WN_LEAD_TOKENS tokens */
};

/* Append t's tokens to lead while it has fewer than WN_LEAD_TOKENS. */
static int lead_add(struct wn_tokens *lead, const struct wn_tokens *t)
{
    for (size_t i = 0; i < t->n && lead->n < WN_LEAD_TOKENS; i++) {
        const struct wn_token *w = &t->tok[i];
        if (WN_GROW(lead->tok, lead->cap, lead->n + 1) ||
            WN_GROW(lead->norm, lead->norm_cap,
                    lead->norm_len + w->norm_len + 1))
            return WN_ENOMEM;
        memcpy(lead->norm + lead->norm_len, t->norm + w->norm_off,
               w->norm_len + 1);
        lead->tok[lead->n++] = (struct wn_token){
            .norm_off = (uint32_t)lead->norm_len, .norm_len = w->norm_len};
        lead->norm_len += w->norm_len + 1;
    }
    return WN_OK;
}

/* Merge the cap smallest distinct anchors of a piece, b[0, nb), into the
 * gathered ones, a[0, *na): both ascending, the result too. */
static void anchors_merge(uint64_t *a, uint32_t *na, const uint64_t *b,
                          size_t nb, size_t cap)
{
    uint64_t m[2 * WN_ANCHOR_CAP];
    size_t i = 0, j = 0, k = 0;
    assert(cap <= WN_ANCHOR_CAP && *na <= cap && nb <= cap);
    while (k < cap && (i < *na || j < nb)) {
        uint64_t v = j == nb || (i < *na && a[i] <= b[j]) ? a[i] : b[j];
        i += i < *na && a[i] == v;
        j += j < nb && b[j] == v;
        m[k++] = v;
    }
    memcpy(a, m, k * sizeof(*a));
    *na = (uint32_t)k;
}

/* The shingles of one piece, sh[0, n), into what is gathered. */
static int gather_shingles(const struct wn_sketcher *sk, struct wn_sketch *s,
                           struct gathered *g, const uint64_t *sh, size_t n,
                           uint64_t **all, size_t *nall, size_t *allcap)
{
    const struct wn_dedup_options *o = &sk->o;
    if (n == 0)
        return WN_OK;
    if (!g->minima) {
        if (WN_GROW(*all, *allcap, *nall + n))
            return WN_ENOMEM;
        memcpy(*all + *nall, sh, n * sizeof(*sh));
        *nall += n;
        return WN_OK;
    }
    *nall += n;
    if (o->method == WN_METHOD_SIMHASH) {
        wn__simhash_add(sh, n, g->ones);
    } else if (o->sketch == WN_SKETCH_K_PERMUTATIONS) {
        /* s->fine (vk + 1 = num_perm + 1 values) is free here. */
        wn__minhash_classic(sh, n, o->num_perm, o->seed, s->fine);
        for (uint32_t i = 0; i < o->num_perm; i++)
            s->sig[i] = WN_MIN(s->sig[i], s->fine[i]);
    } else {
        wn__minhash_oph_update(sh, n, sk->vk, o->seed, s->fine);
    }
    if (sk->anchor_cap) {
        uint64_t b[WN_ANCHOR_CAP];
        size_t nb =
            wn__contain_anchors(sh, n, WN_ANCHOR_LOG2_RATE, sk->anchor_cap, b);
        anchors_merge(s->anch, &g->nanch, b, nb, sk->anchor_cap);
    }
    return WN_OK;
}

static int sketch_tail(const struct wn_sketcher *sk, const char *text,
                       size_t len, struct wn_sketch *s, size_t n,
                       const struct gathered *g);

/*
 * wn_sketcher_sketch of a text in pieces of about chunk bytes: the same
 * sketch, in O(chunk) memory besides the text (and the shingle list where
 * the sketch keeps one).
 */
static int sketch_pieces(const struct wn_sketcher *sk, const char *text,
                         size_t len, size_t chunk, struct wn_sketch *s)
{
    const struct wn_dedup_options *o = &sk->o;
    bool minima = !o->exact_only && !sk->need_unique;
    struct gathered g = {.minima = minima};
    wn_tokens_init(&g.lead);
    /* With minima gathered, s->sh only holds a piece's shingles; else it
     * is the whole list and the pieces' go to sh first. */
    uint64_t *sh = NULL;
    size_t shcap = 0;
    uint64_t **piece = minima ? &s->sh : &sh;
    size_t *piececap = minima ? &s->shcap : &shcap;
    struct wn_hash128_stream *hs = wn__hash128_begin(o->seed);
    if (!hs)
        return WN_ENOMEM;
    if (minima && o->method == WN_METHOD_SIMHASH) {
        /* ones[] starts at zero with g. */
    } else if (minima && o->sketch == WN_SKETCH_K_PERMUTATIONS) {
        for (uint32_t i = 0; i < o->num_perm; i++)
            s->sig[i] = WN_SIG_EMPTY;
    } else if (minima) {
        for (uint32_t i = 0; i < sk->vk; i++)
            s->fine[i] = WN_SIG_EMPTY;
    }
    struct wn_shingle_carry carry;
    wn__shingle_carry_init(&carry);
    uint64_t tokens = 0, invalid = 0, norm = 0;
    size_t nall = 0;
    int rc = WN_OK;
    for (size_t at = 0; at < len && !rc;) {
        size_t cut = wn__tokenize_cut(text, len, WN_MIN(len, at + chunk));
        rc = wn_tokenize(text + at, cut - at, o->token_mode, &s->tok);
        at = cut;
        if (rc)
            break;
        /* One pass over the whole text would fail past 4 GiB of
         * normalized bytes (wn_tokenize): so does this one. */
        norm += s->tok.norm_len;
        if (norm >= UINT32_MAX) {
            rc = WN_ETOOBIG;
            break;
        }
        tokens += s->tok.n;
        invalid += s->tok.invalid_utf8;
        wn__hash128_update(hs, s->tok.norm, s->tok.norm_len);
        if (o->exact_only)
            continue;
        if (sk->lead_bytes && g.lead.n < WN_LEAD_TOKENS)
            rc = lead_add(&g.lead, &s->tok);
        size_t n = 0;
        if (!rc)
            rc = wn__shingles_piece(&s->tok, o->ngram, o->seed, &carry, piece,
                                    &n, piececap);
        if (!rc)
            rc =
                gather_shingles(sk, s, &g, *piece, n, &s->sh, &nall, &s->shcap);
    }
    uint64_t last;
    if (!rc && !o->exact_only &&
        wn__shingles_last(&carry, o->ngram, o->seed, &last))
        rc = gather_shingles(sk, s, &g, &last, 1, &s->sh, &nall, &s->shcap);
    wn__hash128_end(hs, rc ? NULL : s->h);
    wn__free(sh);
    if (!rc) {
        s->tokens = tokens;
        s->invalid = invalid;
        rc = sketch_tail(sk, text, len, s, nall, &g);
    }
    wn_tokens_release(&g.lead);
    return rc;
}

int wn_sketcher_sketch(const struct wn_sketcher *sk, const char *text,
                       size_t len, struct wn_sketch *s)
{
    if (!sk || !s || s->sk != sk || (!text && len > 0))
        return WN_EINVAL;
    const struct wn_dedup_options *o = &sk->o;
    s->valid = false;
    s->decoded = false;
    if (len > UINT32_MAX)
        return WN_ETOOBIG;
    size_t chunk = chunk_for(len);
    if (chunk)
        return sketch_pieces(sk, text, len, chunk, s);
    int rc = wn_tokenize(text ? text : "", len, o->token_mode, &s->tok);
    if (rc)
        return rc;
    s->invalid = s->tok.invalid_utf8;
    s->tokens = s->tok.n;
    wn__hash128(s->tok.norm, s->tok.norm_len, o->seed, s->h);
    size_t n = 0;
    if (!o->exact_only) {
        rc = wn__shingles(&s->tok, o->ngram, o->seed, &s->sh, &n, &s->shcap);
        if (rc)
            return rc;
    }
    return sketch_tail(sk, text, len, s, n, NULL);
}

/*
 * The rest of a sketch from s->h, s->tokens, s->invalid and the n
 * shingles: those in s->sh, or (g->minima) the MinHash minima and anchors
 * gathered from pieces. The lead words come from s->tok, or from g->lead.
 */
static int sketch_tail(const struct wn_sketcher *sk, const char *text,
                       size_t len, struct wn_sketch *s, size_t n,
                       const struct gathered *g)
{
    const struct wn_dedup_options *o = &sk->o;
    bool minima = g && g->minima;
    s->empty = false;
    s->nsh = 0;
    s->nset = 0;
    s->nanch = 0;
    if (o->exact_only) {
        s->empty = s->tokens == 0;
        s->valid = true;
        return WN_OK;
    }
    if (sk->need_unique)
        n = wn__u64_sort_unique(s->sh, n);
    s->nset = n;
    s->nsh = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    uint8_t *spill = s->vdata;
    uint32_t *sig = s->sig;
    if (n == 0) {
        s->empty = true;
        memset(spill, 0xff, sk->sig_bytes);
        memset(s->keys, 0, sk->nkeys * sizeof(*s->keys));
        for (uint32_t i = 0; i < sig_len(sk); i++)
            sig[i] = WN_SIG_EMPTY;
    } else if (o->method == WN_METHOD_SIMHASH) {
        uint64_t fp =
            minima ? wn__simhash_fp(g->ones, n) : wn__simhash64(s->sh, n);
        for (unsigned i = 0; i < 8; i++)
            spill[i] = (uint8_t)(fp >> (8 * i));
        sig[0] = (uint32_t)fp;
        sig[1] = (uint32_t)(fp >> 32);
        unsigned k = wn__simhash_keys(fp, o->hamming, WN_SIMHASH_EXTRA_BLOCKS,
                                      s->keys, sk->nkeys);
        assert(k == sk->nkeys);
        (void)k;
    } else {
        /* b-bit MinHash: the verification data keeps the low vbits bits
         * of each value, and two different minima agree by chance with
         * probability 2^-vbits, which the verification corrects for. */
        if (o->sketch == WN_SKETCH_K_PERMUTATIONS) {
            if (!minima)
                wn__minhash_classic(s->sh, n, o->num_perm, o->seed, sig);
            for (size_t i = 0; i < o->num_perm; i++) {
                spill[2 * i] = (uint8_t)sig[i];
                spill[2 * i + 1] = (uint8_t)(sig[i] >> 8);
            }
        } else if (minima) {
            wn__minhash_oph_fine_finish(s->fine, true, o->num_perm,
                                        sk->vk / o->num_perm, o->seed, sig);
            pack_fine(s->fine, sk->vk, sk->sig_bytes, spill);
        } else {
            wn__minhash_oph_fine(s->sh, n, o->num_perm, sk->vk / o->num_perm,
                                 o->seed, sig, s->fine);
            pack_fine(s->fine, sk->vk, sk->sig_bytes, spill);
        }
        wn__lsh_band_keys(sig, sk->bands, sk->rows, o->seed, s->keys);
    }
    if (sk->fig_bytes) {
        struct wn_figures f;
        wn__figures_extract(text ? text : "", len, &f);
        uint8_t *p = s->vdata + sk->sig_bytes;
        wn__put_le32(p, (uint32_t)f.n | (uint32_t)f.count << 16);
        for (unsigned i = 0; i < WN_FIG_MAX; i++)
            wn__put_le32(p + 4 + (size_t)4 * i, i < f.n ? f.h[i] : 0);
    }
    if (sk->lead_bytes) {
        /* Contained copies and flashes (contain.h): the anchors are keys of
         * their own join, the lead words go with the verification data. */
        if (minima)
            s->nanch = s->empty ? 0 : g->nanch;
        else
            s->nanch = (uint32_t)wn__contain_anchors(s->sh, s->empty ? 0 : n,
                                                     WN_ANCHOR_LOG2_RATE,
                                                     sk->anchor_cap, s->anch);
        uint32_t w[WN_LEAD_TOKENS];
        size_t nw = wn__contain_lead_words(g ? &g->lead : &s->tok, o->seed, w);
        wn__lead_pack(w, nw, s->vdata + sk->sig_bytes + sk->fig_bytes);
    }
    if (!sk->need_sets)
        s->nset = 0;
    s->valid = true;
    return WN_OK;
}

void wn_sketch_exact_hash(const struct wn_sketch *s, uint64_t h[2])
{
    h[0] = s->valid ? s->h[0] : 0;
    h[1] = s->valid ? s->h[1] : 0;
}

uint64_t wn_sketch_tokens(const struct wn_sketch *s)
{
    return s->valid ? s->tokens : 0;
}

uint32_t wn_sketch_shingles(const struct wn_sketch *s)
{
    return s->valid ? s->nsh : 0;
}

uint64_t wn_sketch_invalid_utf8(const struct wn_sketch *s)
{
    return s->valid ? s->invalid : 0;
}

int wn_sketch_is_empty(const struct wn_sketch *s)
{
    return s->valid && s->empty;
}

const uint64_t *wn_sketch_band_keys(const struct wn_sketch *s, size_t *n)
{
    *n = s->valid ? s->sk->nkeys : 0;
    return s->valid && s->sk->nkeys ? s->keys : NULL;
}

const uint32_t *wn_sketch_signature(const struct wn_sketch *s, size_t *n)
{
    bool have = s->valid && !s->decoded && sig_len(s->sk) > 0;
    *n = have ? sig_len(s->sk) : 0;
    return have ? s->sig : NULL;
}

const uint8_t *wn_sketch_verify_data(const struct wn_sketch *s, size_t *n)
{
    bool have = s->valid && s->sk->sig_bytes > 0;
    *n = have ? s->sk->sig_bytes : 0;
    return have ? s->vdata : NULL;
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                  */
/* ------------------------------------------------------------------------ */

size_t wn_sketch_encoded_size(const struct wn_sketch *s)
{
    const struct wn_sketcher *sk = s->sk;
    size_t n = SKETCH_HEADER + SECTION_HEADER + CORE_BYTES;
    if (sk->nkeys)
        n += SECTION_HEADER + (size_t)sk->nkeys * 8;
    if (sk->sig_bytes)
        n += SECTION_HEADER + sk->sig_bytes;
    if (sk->fig_bytes)
        n += SECTION_HEADER + sk->fig_bytes;
    if (sk->lead_bytes)
        n += SECTION_HEADER + sk->lead_bytes + SECTION_HEADER +
             (s->valid ? s->nanch : 0) * 8;
    if (sk->need_sets)
        n += SECTION_HEADER + (s->valid ? s->nset : 0) * 8;
    return n;
}

static unsigned char *put_section(unsigned char *p, uint32_t tag, size_t len)
{
    wn__put_le32(p, tag);
    wn__put_le32(p + 4, (uint32_t)len);
    return p + SECTION_HEADER;
}

int wn_sketch_encode(const struct wn_sketch *s, void *buf, size_t cap,
                     size_t *len)
{
    if (!s || !s->valid || !len || (!buf && cap))
        return WN_EINVAL;
    const struct wn_sketcher *sk = s->sk;
    size_t need = wn_sketch_encoded_size(s);
    if (cap < need || need > UINT32_MAX)
        return WN_EINVAL;
    unsigned char *b = buf, *p = b;
    wn__put_le32(p, SKETCH_MAGIC);
    wn__put_le32(p + 4, SKETCH_FORMAT);
    wn__put_le64(p + 8, sk->id);
    wn__put_le32(p + 16, (uint32_t)need);
    wn__put_le32(p + 20, s->empty ? FLAG_EMPTY : 0);
    p = put_section(p + SKETCH_HEADER, SECTION_CORE, CORE_BYTES);
    wn__put_le64(p, s->h[0]);
    wn__put_le64(p + 8, s->h[1]);
    wn__put_le64(p + 16, s->tokens);
    wn__put_le64(p + 24, s->invalid);
    wn__put_le32(p + 32, s->nsh);
    p += CORE_BYTES;
    if (sk->nkeys) {
        p = put_section(p, SECTION_KEYS, (size_t)sk->nkeys * 8);
        for (uint32_t j = 0; j < sk->nkeys; j++, p += 8)
            wn__put_le64(p, s->keys[j]);
    }
    if (sk->sig_bytes) {
        p = put_section(p, SECTION_VERIFY, sk->sig_bytes);
        memcpy(p, s->vdata, sk->sig_bytes);
        p += sk->sig_bytes;
    }
    if (sk->fig_bytes) {
        p = put_section(p, SECTION_FIGS, sk->fig_bytes);
        memcpy(p, s->vdata + sk->sig_bytes, sk->fig_bytes);
        p += sk->fig_bytes;
    }
    if (sk->lead_bytes) {
        uint32_t off = sk->sig_bytes + sk->fig_bytes;
        p = put_section(p, SECTION_LEAD, sk->lead_bytes);
        memcpy(p, s->vdata + off, sk->lead_bytes);
        p += sk->lead_bytes;
        p = put_section(p, SECTION_ANCH, (size_t)s->nanch * 8);
        for (uint32_t i = 0; i < s->nanch; i++, p += 8)
            wn__put_le64(p, s->anch[i]);
    }
    if (sk->need_sets) {
        p = put_section(p, SECTION_SET, s->nset * 8);
        for (size_t i = 0; i < s->nset; i++, p += 8)
            wn__put_le64(p, s->sh[i]);
    }
    assert((size_t)(p - b) == need);
    *len = need;
    return WN_OK;
}

int wn_sketch_decode(const struct wn_sketcher *sk, const void *blob, size_t len,
                     struct wn_sketch *s)
{
    if (!sk || !s || s->sk != sk || (!blob && len))
        return WN_EINVAL;
    const unsigned char *b = blob;
    if (len < SKETCH_HEADER || wn__get_le32(b) != SKETCH_MAGIC ||
        wn__get_le32(b + 4) != SKETCH_FORMAT || wn__get_le64(b + 8) != sk->id ||
        wn__get_le32(b + 16) != len || (wn__get_le32(b + 20) & ~FLAG_EMPTY))
        return WN_EFORMAT;
    /* First pass: find the sections and check their sizes. */
    const unsigned char *core = NULL, *keys = NULL, *vdata = NULL, *set = NULL;
    const unsigned char *figs = NULL, *lead = NULL, *anch = NULL;
    size_t nset = 0, nanch = 0;
    size_t at = SKETCH_HEADER;
    while (at < len) {
        if (len - at < SECTION_HEADER)
            return WN_EFORMAT;
        uint32_t tag = wn__get_le32(b + at), n = wn__get_le32(b + at + 4);
        at += SECTION_HEADER;
        if (n > len - at)
            return WN_EFORMAT;
        const unsigned char *p = b + at;
        switch (tag) {
        case SECTION_CORE:
            if (n != CORE_BYTES)
                return WN_EFORMAT;
            core = p;
            break;
        case SECTION_KEYS:
            if (n != (size_t)sk->nkeys * 8)
                return WN_EFORMAT;
            keys = p;
            break;
        case SECTION_VERIFY:
            if (n != sk->sig_bytes)
                return WN_EFORMAT;
            vdata = p;
            break;
        case SECTION_FIGS:
            if (n != sk->fig_bytes)
                return WN_EFORMAT;
            figs = p;
            break;
        case SECTION_LEAD:
            if (n != sk->lead_bytes)
                return WN_EFORMAT;
            lead = p;
            break;
        case SECTION_ANCH:
            if (n % 8 || n / 8 > sk->anchor_cap)
                return WN_EFORMAT;
            anch = p;
            nanch = n / 8;
            break;
        case SECTION_SET:
            if (n % 8)
                return WN_EFORMAT;
            set = p;
            nset = n / 8;
            break;
        default: /* a later version's section */
            break;
        }
        at += n;
    }
    if (!core || (sk->nkeys && !keys) || (sk->sig_bytes && !vdata) ||
        (sk->fig_bytes && !figs) || (sk->lead_bytes && (!lead || !anch)) ||
        (sk->need_sets && !set))
        return WN_EFORMAT;
    if (sk->need_sets && WN_GROW(s->sh, s->shcap, nset ? nset : 1))
        return WN_ENOMEM;
    s->h[0] = wn__get_le64(core);
    s->h[1] = wn__get_le64(core + 8);
    s->tokens = wn__get_le64(core + 16);
    s->invalid = wn__get_le64(core + 24);
    s->nsh = wn__get_le32(core + 32);
    s->empty = (wn__get_le32(b + 20) & FLAG_EMPTY) != 0;
    for (uint32_t j = 0; j < sk->nkeys; j++)
        s->keys[j] = wn__get_le64(keys + 8 * (size_t)j);
    if (sk->sig_bytes)
        memcpy(s->vdata, vdata, sk->sig_bytes);
    if (sk->fig_bytes)
        memcpy(s->vdata + sk->sig_bytes, figs, sk->fig_bytes);
    if (sk->lead_bytes)
        memcpy(s->vdata + sk->sig_bytes + sk->fig_bytes, lead, sk->lead_bytes);
    s->nanch = (uint32_t)nanch;
    for (size_t i = 0; i < nanch; i++)
        s->anch[i] = wn__get_le64(anch + 8 * i);
    s->nset = sk->need_sets ? nset : 0;
    for (size_t i = 0; i < s->nset; i++)
        s->sh[i] = wn__get_le64(set + 8 * i);
    s->decoded = true;
    s->valid = true;
    return WN_OK;
}
