/*
 * engine.c - the deduplication pipeline behind wn_dedup_run().
 *
 * Pass 1 streams the records once. The calling thread reads and fills
 * batches; worker threads normalize, shingle and sketch them; the calling
 * thread commits finished batches strictly in order, so every document gets
 * the number of its position among accepted records whatever the thread
 * count. What grows with the corpus is kept small in memory (per document: a
 * 128-bit exact hash, text length, shingle count, the id) and the rest is
 * spilled: signatures to one file, band keys to one file per band.
 *
 * Then, with no text in memory:
 *   exact:   sort (hash, doc); equal 128-bit hashes are unioned, and all but
 *            the first leave the near-duplicate join (Broder 1997: shingles;
 *            exact copies first is what every production pipeline does);
 *   join:    per band, sort (key, doc) and emit candidate pairs from runs of
 *            equal keys (lib/cluster); the budget splits a band into
 *            partitions by key so memory stays bounded;
 *   verify:  each distinct pair whose documents are still apart is checked
 *            (estimated Jaccard from signatures, exact Jaccard from the
 *            spilled shingle sets, optional containment) and unioned;
 *   cluster: union-find roots are the first members; the representative is
 *            chosen by the keep rule.
 * Pass 2 reads the inputs again without parsing and writes kept records as
 * the bytes they were read as, removed.jsonl in input order, then
 * clusters.jsonl and stats.json. Standard input, pipes and other inputs
 * that are neither regular files nor directories cannot be read twice, so
 * pass 1 spools them to temporary files.
 *
 * Memory per document: 16 (hash; replaced by a 4-byte exact-group number
 * after the exact stage) + 8 (lengths) + 1 (flags) + 8 (id offset) + id
 * bytes + 12 (the record's place in its input) + 4 (union-find) + 1/4
 * (bitmaps); the join adds 32 bytes per document in all (entries and radix
 * scratch of one partition per thread), and the clustering 16 after the
 * join has freed its scratch.
 */
/* The feature macro of copy_file_range, not a name of ours: */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include "io/outfile.h"
#include "io/spill.h"
#include "io/reader.h"
#include "cluster/cluster.h"
#include "io/json.h"
#include "lsh/lsh.h"
#include "sketch/hash128.h"
#include "sketch/sketch.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH_TEXT_BYTES (2u << 20) /* text per batch */
#define BATCH_MAX_DOCS   4096u
#define SIMHASH_EXTRA_BLOCKS                                                   \
    2u /* m of Manku et al.: blocks that must match                            \
        */
#define MAX_KEYS 256u

enum { DOC_EMPTY = 1, DOC_SKIP = 2 };

void wn_dedup_options_init(struct wn_dedup_options *o)
{
    memset(o, 0, sizeof(*o));
    o->method = WN_METHOD_MINHASH;
    o->token_mode = WN_TOKENS_WORD;
    o->ngram = 5;
    o->num_perm = 128;
    o->threshold = 0.8;
    o->verify = WN_VERIFY_ESTIMATE;
    o->hamming = 3;
    o->keep = WN_KEEP_FIRST;
    o->seed = 1;
    o->bucket_all_pairs = 16;
    o->weight_fp = WN_LSH_WEIGHT_FP;
    o->weight_fn = WN_LSH_WEIGHT_FN;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* What a worker computes for one document. */
struct doc_out {
    uint64_t h[2];    /* 128-bit hash of the normalized token stream */
    uint32_t nsh;     /* shingles (distinct when sets are needed) */
    uint32_t flags;   /* DOC_EMPTY */
    uint64_t invalid; /* repaired UTF-8 sequences */
};

struct batch {
    size_t n;
    struct wn_buf text;
    size_t *off; /* text offsets, n + 1 */
    size_t cap;
    struct doc_out *out;
    uint8_t *sigs;  /* n * sig_bytes: the spilled verification sketches */
    uint64_t *keys; /* n * nkeys */
    uint64_t *sets; /* exact verification: sorted shingle sets */
    size_t nsets, setcap;
    size_t *set_off; /* n + 1 */
    int status;
    int state; /* 0 free, 1 queued, 2 running, 3 done */
    uint64_t seq;
};

struct worker_scratch {
    struct wn_tokens tok;
    uint32_t sig[WN_MINHASH_MAX_K];  /* the full 32-bit signature */
    uint32_t fine[WN_MINHASH_MAX_K]; /* OPH: the fine verification one */
    uint64_t *sh;
    size_t nsh, cap;
};

struct engine {
    const struct wn_dedup_options *o;
    /* The verification sketch spilled per document: vk values of vbits
     * bits each (b-bit MinHash, Li and Koenig 2010), sig_bytes in all.
     * OPH spills a fine signature of 4K bins at 4 bits, 0xF marking an
     * empty bin (the estimate spreads half as wide as K bins would, in the
     * 2K bytes that K values of 16 bits took); K-permutation MinHash
     * spills its K values at 16 bits; SimHash its 64 bits. */
    uint32_t sig_bytes, vk, vbits;
    uint32_t nkeys; /* band keys per document */
    uint32_t bands, rows;
    bool need_sets; /* exact verification */
    bool need_unique;

    /* per document */
    size_t n, cap;
    size_t nfill;     /* documents numbered so far (committed or not) */
    uint64_t *h;      /* 2 per doc; freed after the exact stage */
    uint32_t *egroup; /* first document of each one's exact group */
    uint32_t *tlen;
    uint32_t *nsh;
    uint8_t *flags;
    double *keyval;
    uint64_t *id_off; /* n + 1 */
    /* Where each record's bytes are in its input, for the second pass to
     * copy kept records without reading them (see pass2_plain). */
    uint64_t *rec_off;
    uint32_t *rec_len;
    struct wn_buf ids;
    uint64_t *set_off; /* n + 1, exact verification */

    /* record ordinals of rejected records, ascending */
    uint64_t *rej;
    size_t nrej, rejcap;
    uint64_t units;

    struct wn_outdir od; /* the output directory, its lock and tmpdir */
    int sig_fd;
    FILE *sig_f;
    FILE **key_f;
    FILE *set_f;
    /* Copies of the inputs that cannot be read twice, by input; NULL
     * entries for the others. */
    FILE **spool_f;
    char **spool_path;
    size_t ninputs;
    /* Per input: records numbered from it, whether every one came from an
     * uncompressed JSONL file, and its size and change time in pass 1. */
    uint64_t *in_docs;
    bool *in_plain;
    struct stat *in_stat;
    struct wn_outfile out_kept, out_removed, out_clusters, out_rejected,
        out_stats;

    /* thread pool */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    struct batch *batches;
    size_t nbatches;
    pthread_t *threads;
    unsigned nthreads;
    bool stop;

    struct wn_uf uf;
    struct wn_dedup_report rep;
};

/* ------------------------------------------------------------------------ */
/* Per-document sketching (runs on worker threads)                           */
/* ------------------------------------------------------------------------ */

static int sketch_doc(const struct engine *e, struct worker_scratch *w,
                      const char *text, size_t len, struct doc_out *o,
                      uint8_t *spill, uint64_t *keys, struct batch *b)
{
    uint32_t *sig = w->sig;
    const struct wn_dedup_options *opt = e->o;
    int rc = wn_tokenize(text, len, opt->token_mode, &w->tok);
    if (rc)
        return rc;
    memset(o, 0, sizeof(*o));
    o->invalid = w->tok.invalid_utf8;
    wn__hash128(w->tok.norm, w->tok.norm_len, opt->seed, o->h);
    if (opt->exact_only) {
        if (w->tok.n == 0)
            o->flags |= DOC_EMPTY;
        return WN_OK;
    }
    rc = wn__shingles(&w->tok, opt->ngram, opt->seed, &w->sh, &w->nsh, &w->cap);
    if (rc)
        return rc;
    size_t n = w->nsh;
    if (e->need_unique)
        n = wn__u64_sort_unique(w->sh, n);
    o->nsh = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    if (n == 0) {
        o->flags |= DOC_EMPTY;
        memset(spill, 0xff, e->sig_bytes);
        memset(keys, 0, e->nkeys * sizeof(*keys));
    } else if (opt->method == WN_METHOD_SIMHASH) {
        uint64_t fp = wn__simhash64(w->sh, n);
        for (unsigned i = 0; i < 8; i++)
            spill[i] = (uint8_t)(fp >> (8 * i));
        unsigned k = wn__simhash_keys(fp, opt->hamming, SIMHASH_EXTRA_BLOCKS,
                                      keys, e->nkeys);
        assert(k == e->nkeys);
        (void)k;
    } else {
        /* b-bit MinHash: the spill keeps the low vbits bits of each
         * value, and two different minima agree by chance with
         * probability 2^-vbits, which similarity() corrects for. */
        if (opt->sketch == WN_SKETCH_K_PERMUTATIONS) {
            wn__minhash_classic(w->sh, n, opt->num_perm, opt->seed, sig);
            for (size_t i = 0; i < opt->num_perm; i++) {
                spill[2 * i] = (uint8_t)sig[i];
                spill[2 * i + 1] = (uint8_t)(sig[i] >> 8);
            }
        } else {
            wn__minhash_oph_fine(w->sh, n, opt->num_perm, e->vk / opt->num_perm,
                                 opt->seed, sig, w->fine);
            /* Two 4-bit values per byte, the even bin low; 0xF marks an
             * empty bin, values keep 0..0xE. Branch-free. */
            const uint32_t *f = w->fine;
            const uint32_t vk = e->vk, nb = e->sig_bytes; /* spill aliases */
            if (vk & 1)
                w->fine[vk] = WN_SIG_EMPTY; /* pad: an odd vk is < MAX_K */
            for (size_t j = 0; j < nb; j++) {
                uint32_t fa = f[2 * j], fb = f[2 * j + 1];
                uint32_t lo = fa & 0xF, hi = fb & 0xF;
                lo -= lo == 0xF;
                hi -= hi == 0xF;
                lo |= 0xFu & (0u - (uint32_t)(fa == WN_SIG_EMPTY));
                hi |= 0xFu & (0u - (uint32_t)(fb == WN_SIG_EMPTY));
                spill[j] = (uint8_t)(lo | hi << 4);
            }
        }
        wn__lsh_band_keys(sig, e->bands, e->rows, opt->seed, keys);
    }
    if (e->need_sets) {
        if (WN_GROW(b->sets, b->setcap, b->nsets + n))
            return WN_ENOMEM;
        memcpy(b->sets + b->nsets, w->sh, n * sizeof(*w->sh));
        b->nsets += n;
    }
    return WN_OK;
}

static void process_batch(const struct engine *e, struct worker_scratch *w,
                          struct batch *b)
{
    b->nsets = 0;
    b->status = WN_OK;
    for (size_t i = 0; i < b->n; i++) {
        if (e->need_sets)
            b->set_off[i] = b->nsets;
        uint64_t keys[MAX_KEYS] = {0};
        int rc = sketch_doc(e, w, b->text.data + b->off[i],
                            b->off[i + 1] - b->off[i], &b->out[i],
                            b->sigs + i * e->sig_bytes, keys, b);
        if (rc) {
            b->status = rc;
            return;
        }
        /* Band-major, so that each band's keys go out in one write. */
        for (uint32_t j = 0; j < e->nkeys; j++)
            b->keys[(size_t)j * b->cap + i] = keys[j];
    }
    if (e->need_sets)
        b->set_off[b->n] = b->nsets;
}

static void *worker_main(void *arg)
{
    struct engine *e = arg;
    struct worker_scratch w;
    memset(&w, 0, sizeof(w));
    wn_tokens_init(&w.tok);
    pthread_mutex_lock(&e->mu);
    for (;;) {
        struct batch *pick = NULL;
        for (size_t i = 0; i < e->nbatches; i++) {
            struct batch *b = &e->batches[i];
            if (b->state == 1 && (!pick || b->seq < pick->seq))
                pick = b;
        }
        if (!pick) {
            if (e->stop)
                break;
            pthread_cond_wait(&e->cv_work, &e->mu);
            continue;
        }
        pick->state = 2;
        pthread_mutex_unlock(&e->mu);
        process_batch(e, &w, pick);
        pthread_mutex_lock(&e->mu);
        pick->state = 3;
        pthread_cond_broadcast(&e->cv_done);
    }
    pthread_mutex_unlock(&e->mu);
    wn_tokens_release(&w.tok);
    wn__free(w.sh);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Pass 1: read, sketch, commit in order                                     */
/* ------------------------------------------------------------------------ */

static int batch_alloc(struct engine *e, struct batch *b)
{
    memset(b, 0, sizeof(*b));
    size_t m = BATCH_MAX_DOCS;
    b->cap = m;
    b->off = wn__reallocarray(NULL, m + 1, sizeof(*b->off));
    b->out = wn__reallocarray(NULL, m, sizeof(*b->out));
    b->sigs = wn__reallocarray(NULL, m, e->sig_bytes ? e->sig_bytes : 1);
    b->keys =
        wn__reallocarray(NULL, m * (e->nkeys ? e->nkeys : 1), sizeof(*b->keys));
    b->set_off = wn__reallocarray(NULL, m + 1, sizeof(*b->set_off));
    if (!b->off || !b->out || !b->sigs || !b->keys || !b->set_off)
        return WN_ENOMEM;
    return wn__buf_reserve(&b->text, BATCH_TEXT_BYTES);
}

static void batch_free(struct batch *b)
{
    wn__free(b->off);
    wn__free(b->out);
    wn__free(b->sigs);
    wn__free(b->keys);
    wn__free(b->set_off);
    wn__free(b->sets);
    wn__buf_release(&b->text);
}

static int grow_docs(struct engine *e, size_t need)
{
    if (need <= e->cap)
        return WN_OK;
    if (need > UINT32_MAX - 1)
        return WN_ELIMIT;
    size_t cap = e->cap ? e->cap * 2 : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    void *p;
#define GROW_ARRAY(field, per)                                                 \
    p = wn__reallocarray(e->field, cap * (per), sizeof(*e->field));            \
    if (!p)                                                                    \
        return WN_ENOMEM;                                                      \
    e->field = p;
    GROW_ARRAY(h, 2)
    GROW_ARRAY(tlen, 1)
    GROW_ARRAY(nsh, 1)
    GROW_ARRAY(flags, 1)
    GROW_ARRAY(id_off, 1)
    GROW_ARRAY(rec_off, 1)
    GROW_ARRAY(rec_len, 1)
    if (e->o->keep == WN_KEEP_MAX) {
        GROW_ARRAY(keyval, 1)
    }
    if (e->need_sets) {
        GROW_ARRAY(set_off, 1)
    }
#undef GROW_ARRAY
    e->cap = cap - 1; /* id_off and set_off hold n + 1 entries */
    return WN_OK;
}

static int write_all(FILE *f, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, f) != n)
        return wn__status_from_errno(errno);
    return WN_OK;
}

/* Append a finished batch to the per-document arrays and spill files. */
static int commit_batch(struct engine *e, struct batch *b)
{
    if (b->status)
        return b->status;
    size_t base = e->n;
    for (size_t i = 0; i < b->n; i++) {
        size_t d = base + i;
        e->h[2 * d] = b->out[i].h[0];
        e->h[2 * d + 1] = b->out[i].h[1];
        e->nsh[d] = b->out[i].nsh;
        e->flags[d] = (uint8_t)(b->out[i].flags & DOC_EMPTY);
        e->rep.invalid_utf8 += b->out[i].invalid;
        e->rep.empty_docs += (b->out[i].flags & DOC_EMPTY) != 0;
    }
    int rc = WN_OK;
    if (!e->o->exact_only) {
        rc = write_all(e->sig_f, b->sigs, b->n * e->sig_bytes);
        /* One file per band. */
        for (uint32_t j = 0; j < e->nkeys && !rc; j++)
            rc = write_all(e->key_f[j], b->keys + (size_t)j * b->cap,
                           b->n * sizeof(uint64_t));
    }
    if (!rc && e->need_sets) {
        uint64_t start = e->n ? e->set_off[e->n] : 0;
        for (size_t i = 0; i < b->n; i++)
            e->set_off[base + i] = start + b->set_off[i];
        e->set_off[base + b->n] = start + b->set_off[b->n];
        rc = write_all(e->set_f, b->sets, b->nsets * sizeof(uint64_t));
    }
    e->n += b->n;
    return rc;
}

#define REJECT_RAW_MAX ((size_t)64 << 10)

static bool printable_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t')
            return false;
        if (c == 0x7f)
            return false;
    }
    return true;
}

static int write_rejected(struct engine *e, const struct wn_record *rec)
{
    struct wn_buf b = {0};
    int rc = WN_BUF_LIT(&b, "{\"source\":");
    if (!rc)
        rc = wn__json_escape(rec->source ? rec->source : "-",
                             strlen(rec->source ? rec->source : "-"), &b);
    if (!rc)
        rc = wn__buf_printf(
            &b, ",\"line\":%llu,\"reason\":", (unsigned long long)rec->line);
    char reason[160];
    if (rec->status == WN_EPARSE)
        snprintf(reason, sizeof(reason), "%s at byte %zu",
                 wn_strerror(rec->status), rec->error_offset);
    else
        snprintf(reason, sizeof(reason), "%s", wn_strerror(rec->status));
    if (!rc)
        rc = wn__json_escape(reason, strlen(reason), &b);
    if (!rc)
        rc = wn__buf_printf(&b, ",\"bytes\":%zu", rec->raw_len);
    /* The raw bytes, when printable, up to REJECT_RAW_MAX: an over-long
     * line is rejected at the cap, and copying megabytes of it into
     * rejected.jsonl helps nobody. The cut falls on a character boundary. */
    size_t show = rec->raw_len;
    if (show > REJECT_RAW_MAX) {
        show = REJECT_RAW_MAX;
        while (show > 0 && ((unsigned char)rec->raw[show] & 0xC0) == 0x80)
            show--;
    }
    if (!rc && printable_utf8(rec->raw, show)) {
        rc = WN_BUF_LIT(&b, ",\"raw\":");
        if (!rc)
            rc = wn__json_escape(rec->raw, show, &b);
        if (!rc && show < rec->raw_len)
            rc = WN_BUF_LIT(&b, ",\"raw_truncated\":true");
    }
    if (!rc)
        rc = WN_BUF_LIT(&b, "}\n");
    if (!rc)
        rc = wn__outfile_write(&e->out_rejected, b.data, b.len);
    wn__buf_release(&b);
    return rc;
}

/* The keep field of a JSON record: a number, or a string holding one
 * ("100", as some exports write numbers); NaN when absent or not numeric. */
static double keep_value(const char *raw, size_t len, const char *field)
{
    json_error_t err;
    json_t *root = json_loadb(raw, len, 0, &err);
    double v = NAN;
    if (root) {
        json_t *f = json_object_get(root, field);
        if (f && json_is_number(f)) {
            v = json_number_value(f);
        } else if (f && json_is_string(f) && json_string_length(f) > 0) {
            const char *str = json_string_value(f);
            char *end = NULL;
            errno = 0;
            double x = strtod(str, &end);
            if (end && *end == '\0' && errno == 0 && isfinite(x))
                v = x;
        }
        json_decref(root);
    }
    return v;
}

/* Take one accepted record into the batch being filled. */
static int add_record(struct engine *e, struct batch *b,
                      const struct wn_record *rec, bool plain)
{
    size_t d = e->nfill; /* its document number once committed */
    int rc = grow_docs(e, d + 1);
    if (rc)
        return rc;
    if (rec->text_len > UINT32_MAX)
        return WN_ETOOBIG;
    if (d == 0)
        e->id_off[0] = 0;
    rc = wn__buf_append(&e->ids, rec->id, rec->id_len);
    if (rc)
        return rc;
    e->id_off[d + 1] = e->ids.len;
    e->tlen[d] = (uint32_t)rec->text_len;
    e->rec_off[d] = rec->offset;
    e->rec_len[d] = (uint32_t)WN_MIN(rec->raw_len, (size_t)UINT32_MAX);
    e->in_docs[rec->input]++;
    if (rec->kind != WN_RECORD_JSON || rec->raw_len >= UINT32_MAX || !plain)
        e->in_plain[rec->input] = false;
    if (e->o->keep == WN_KEEP_MAX) {
        /* Records without the value rank below all others, and are
         * counted so that a misspelt field does not pass unnoticed. */
        double v = rec->kind == WN_RECORD_JSON
                       ? keep_value(rec->raw, rec->raw_len, e->o->keep_field)
                       : NAN;
        if (isnan(v)) {
            e->rep.keep_missing++;
            v = -INFINITY;
        }
        e->keyval[d] = v;
    }
    b->off[b->n] = b->text.len;
    rc = wn__buf_append(&b->text, rec->text, rec->text_len);
    if (rc)
        return rc;
    b->n++;
    b->off[b->n] = b->text.len;
    e->nfill++;
    return WN_OK;
}

static bool batch_full(const struct batch *b)
{
    return b->n >= b->cap || b->text.len >= BATCH_TEXT_BYTES;
}

static bool cancelled(const struct engine *e)
{
    return e->o->cancel && *e->o->cancel;
}

static int pass1(struct engine *e, struct wn_reader *r)
{
    int rc = WN_OK;
    uint64_t seq_fill = 0, seq_commit = 0;
    struct worker_scratch inline_w;
    memset(&inline_w, 0, sizeof(inline_w));
    wn_tokens_init(&inline_w.tok);
    bool eof = false;
    struct wn_record rec;

    while (!rc && (!eof || seq_commit < seq_fill)) {
        /* Fill a free batch, if there is one and input is left. */
        struct batch *b = NULL;
        if (!eof) {
            pthread_mutex_lock(&e->mu);
            for (size_t i = 0; i < e->nbatches && !b; i++)
                if (e->batches[i].state == 0)
                    b = &e->batches[i];
            pthread_mutex_unlock(&e->mu);
        }
        if (b) {
            b->n = 0;
            b->text.len = 0;
            b->off[0] = 0;
            while (!batch_full(b)) {
                if (cancelled(e)) {
                    rc = WN_EINTR;
                    break;
                }
                int got = wn_reader_next(r, &rec);
                if (got < 0) {
                    const char *p = wn_reader_error_path(r);
                    snprintf(e->rep.error_path, sizeof(e->rep.error_path), "%s",
                             p ? p : "");
                    rc = got;
                    break;
                }
                if (got == 0) {
                    eof = true;
                    break;
                }
                e->rep.read++;
                uint64_t unit = e->units++;
                FILE *spool = e->spool_f ? e->spool_f[rec.input] : NULL;
                if (spool) {
                    /* Keep a non-blank line per unit so that pass 2
                     * sees the same sequence of records. */
                    int w = rec.status ? write_all(spool, "-", 1)
                                       : write_all(spool, rec.raw, rec.raw_len);
                    if (!w)
                        w = write_all(spool, "\n", 1);
                    if (w) {
                        rc = w;
                        break;
                    }
                }
                if (rec.status) {
                    e->rep.rejected++;
                    if (WN_GROW(e->rej, e->rejcap, e->nrej + 1)) {
                        rc = WN_ENOMEM;
                        break;
                    }
                    e->rej[e->nrej++] = unit;
                    if (e->o->on_reject)
                        e->o->on_reject(e->o->ud, &rec);
                    rc = write_rejected(e, &rec);
                    if (rc)
                        break;
                    continue;
                }
                rc = add_record(e, b, &rec, wn__reader_plain(r));
                if (rc)
                    break;
            }
            if (rc)
                break;
            if (e->o->on_progress)
                e->o->on_progress(e->o->ud, wn_reader_bytes(r), e->rep.read);
            if (b->n == 0)
                continue;
            if (e->nthreads == 0) {
                process_batch(e, &inline_w, b);
                rc = commit_batch(e, b);
                continue;
            }
            pthread_mutex_lock(&e->mu);
            b->seq = seq_fill++;
            b->state = 1;
            pthread_cond_signal(&e->cv_work);
            pthread_mutex_unlock(&e->mu);
            continue;
        }
        /* No free batch or no input left: commit the oldest in flight. */
        if (seq_commit < seq_fill) {
            struct batch *c = NULL;
            pthread_mutex_lock(&e->mu);
            for (;;) {
                for (size_t i = 0; i < e->nbatches && !c; i++)
                    if (e->batches[i].state == 3 &&
                        e->batches[i].seq == seq_commit)
                        c = &e->batches[i];
                if (c)
                    break;
                /* Rather than wait, the reading thread sketches a queued
                 * batch itself: it is one of the --threads workers. */
                struct batch *q = NULL;
                for (size_t i = 0; i < e->nbatches; i++)
                    if (e->batches[i].state == 1 &&
                        (!q || e->batches[i].seq < q->seq))
                        q = &e->batches[i];
                if (q) {
                    q->state = 2;
                    pthread_mutex_unlock(&e->mu);
                    process_batch(e, &inline_w, q);
                    pthread_mutex_lock(&e->mu);
                    q->state = 3;
                    pthread_cond_broadcast(&e->cv_done);
                    continue;
                }
                pthread_cond_wait(&e->cv_done, &e->mu);
            }
            pthread_mutex_unlock(&e->mu);
            rc = commit_batch(e, c);
            seq_commit++;
            pthread_mutex_lock(&e->mu);
            c->state = 0;
            pthread_mutex_unlock(&e->mu);
        }
    }
    /* On error, let queued batches drain before the pool is stopped. */
    if (e->nthreads) {
        pthread_mutex_lock(&e->mu);
        for (;;) {
            bool busy = false;
            for (size_t i = 0; i < e->nbatches; i++)
                busy |= e->batches[i].state == 1 || e->batches[i].state == 2;
            if (!busy)
                break;
            pthread_cond_wait(&e->cv_done, &e->mu);
        }
        pthread_mutex_unlock(&e->mu);
    }
    wn_tokens_release(&inline_w.tok);
    wn__free(inline_w.sh);
    e->rep.blank_lines = wn_reader_blank_lines(r);
    e->rep.bytes = wn_reader_bytes(r);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Exact duplicates, join, verification                                      */
/* ------------------------------------------------------------------------ */

/*
 * Records whose id an earlier record has: the outputs name records by id,
 * so the user is told when that is ambiguous. By 64-bit hashes of the ids,
 * sorted (8 bytes per document, freed at once).
 */
static int count_duplicate_ids(struct engine *e)
{
    if (e->n < 2)
        return WN_OK;
    uint64_t *v = wn__reallocarray(NULL, e->n, sizeof(*v));
    if (!v)
        return WN_ENOMEM;
    const char *ids = e->ids.data ? e->ids.data : ""; /* all ids empty */
    for (size_t d = 0; d < e->n; d++) {
        uint64_t h[2];
        wn__hash128(ids + e->id_off[d],
                    (size_t)(e->id_off[d + 1] - e->id_off[d]), 0, h);
        v[d] = h[0];
    }
    e->rep.duplicate_ids = e->n - wn__u64_sort_unique(v, e->n);
    wn__free(v);
    return WN_OK;
}

static void set_bit(uint8_t *bm, size_t d)
{
    bm[d >> 3] |= (uint8_t)(1u << (d & 7));
}

static int stage_exact(struct engine *e, uint8_t *skip)
{
    struct wn_keydoc *v = wn__reallocarray(NULL, e->n ? e->n : 1, sizeof(*v));
    if (!v)
        return WN_ENOMEM;
    for (size_t d = 0; d < e->n; d++) {
        v[d].key = e->h[2 * d];
        v[d].doc = (uint32_t)d;
        v[d].pad = 0;
    }
    int rc = wn__keydoc_sort(v, e->n);
    if (rc) {
        wn__free(v);
        return rc;
    }
    for (size_t i = 0; i < e->n;) {
        size_t j = i + 1;
        while (j < e->n && v[j].key == v[i].key)
            j++;
        /* Within a run of equal first halves, group by the second half;
         * runs are tiny unless there are many copies. */
        for (size_t a = i; a < j; a++) {
            uint32_t da = v[a].doc;
            if (skip[da >> 3] >> (da & 7) & 1)
                continue;
            for (size_t c = a + 1; c < j; c++) {
                uint32_t dc = v[c].doc;
                if (e->h[2 * dc + 1] != e->h[2 * da + 1])
                    continue;
                if (skip[dc >> 3] >> (dc & 7) & 1)
                    continue;
                wn__uf_union(&e->uf, da, dc);
                set_bit(skip, dc); /* dc > da: sorted by doc in a run */
            }
        }
        i = j;
    }
    wn__free(v);
    return WN_OK;
}

struct verifier {
    struct engine *e;
    int sig_fd, set_fd;
    uint8_t *sa, *sb;
    uint64_t *xa, *xb;
    size_t xacap, xbcap;
};

static int load_set(struct verifier *v, uint32_t d, uint64_t **buf, size_t *cap,
                    size_t *n)
{
    struct engine *e = v->e;
    uint64_t a = e->set_off[d], b = e->set_off[d + 1];
    size_t k = (size_t)(b - a);
    if (WN_GROW(*buf, *cap, k ? k : 1))
        return WN_ENOMEM;
    *n = k;
    return wn__pread_full(v->set_fd, *buf, k * sizeof(uint64_t), a * 8);
}

/*
 * Similarity of two documents as the verification sees it: Jaccard (or
 * 1 - Hamming/64 for SimHash), and containment of the smaller in the larger.
 */
static int similarity(struct verifier *v, uint32_t a, uint32_t b, double *jac,
                      double *cont)
{
    struct engine *e = v->e;
    const struct wn_dedup_options *o = e->o;
    int rc;
    if (e->need_sets) {
        size_t na, nb;
        rc = load_set(v, a, &v->xa, &v->xacap, &na);
        if (!rc)
            rc = load_set(v, b, &v->xb, &v->xbcap, &nb);
        if (rc)
            return rc;
        size_t inter = wn__intersect_sorted(v->xa, na, v->xb, nb);
        size_t uni = na + nb - inter;
        *jac = uni ? (double)inter / (double)uni : 1.0;
        size_t mn = WN_MIN(na, nb);
        *cont = mn ? (double)inter / (double)mn : 1.0;
        return WN_OK;
    }
    size_t bytes = e->sig_bytes;
    rc = wn__pread_full(v->sig_fd, v->sa, bytes, (uint64_t)a * bytes);
    if (!rc)
        rc = wn__pread_full(v->sig_fd, v->sb, bytes, (uint64_t)b * bytes);
    if (rc)
        return rc;
    if (o->method == WN_METHOD_SIMHASH) {
        uint64_t fa = 0, fb = 0;
        for (unsigned i = 0; i < 8; i++) {
            fa |= (uint64_t)v->sa[i] << (8 * i);
            fb |= (uint64_t)v->sb[i] << (8 * i);
        }
        int dist = __builtin_popcountll(fa ^ fb);
        *jac = 1.0 - dist / 64.0;
        *cont = *jac;
        return WN_OK;
    }
    double j;
    if (e->vbits == 4) {
        /* The fine OPH bins, not densified (Li, Owen and Zhang 2012): of
         * the `used` bins not empty in both, a fraction J hold the same
         * minimum; of the `both` bins filled in both, those whose minima
         * differ still agree in 4 bits with probability p = 1/15:
         * E[eq] = J used + p (both - J used), solved for J. */
        uint32_t used = 0, both = 0, eq = 0;
        for (uint32_t i = 0; i < e->vk; i++) {
            unsigned sh = (i & 1) * 4;
            unsigned xa = (v->sa[i >> 1] >> sh) & 0xF;
            unsigned xb = (v->sb[i >> 1] >> sh) & 0xF;
            bool ea = xa == 0xF, eb = xb == 0xF;
            used += !(ea && eb);
            both += !ea && !eb;
            eq += !ea && xa == xb;
        }
        const double p = 1.0 / 15.0;
        j = used ? ((double)eq - p * both) / ((double)used * (1.0 - p)) : 1.0;
    } else {
        /* Unequal minima match in 16 bits with probability p = 2^-16:
         * E[matches / K] = J + (1 - J) p, solved for J. */
        uint32_t eq = 0;
        for (size_t i = 0; i < e->vk; i++)
            eq += (v->sa[2 * i] == v->sb[2 * i]) &
                  (v->sa[2 * i + 1] == v->sb[2 * i + 1]);
        const double p = 1.0 / 65536.0;
        j = ((double)eq / e->vk - p) / (1.0 - p);
    }
    j = j < 0 ? 0 : j > 1 ? 1 : j;
    *jac = j;
    /* |A n B| = J (|A| + |B|) / (1 + J), from the estimate and set sizes. */
    double na = e->nsh[a], nb = e->nsh[b];
    double inter = j * (na + nb) / (1.0 + j);
    double mn = na < nb ? na : nb;
    *cont = mn > 0 ? WN_MIN(1.0, inter / mn) : 1.0;
    return WN_OK;
}

static bool accept(const struct engine *e, double jac, double cont)
{
    const struct wn_dedup_options *o = e->o;
    if (o->method == WN_METHOD_SIMHASH)
        return (1.0 - jac) * 64.0 <= o->hamming + 1e-9;
    if (jac >= o->threshold)
        return true;
    return o->containment > 0 && cont >= o->containment;
}

static int verifier_init(struct verifier *v, struct engine *e)
{
    memset(v, 0, sizeof(*v));
    v->e = e;
    v->sig_fd = e->sig_fd;
    v->set_fd = e->set_f ? fileno(e->set_f) : -1;
    v->sa = wn__malloc(e->sig_bytes ? e->sig_bytes : 1);
    v->sb = wn__malloc(e->sig_bytes ? e->sig_bytes : 1);
    return v->sa && v->sb ? WN_OK : WN_ENOMEM;
}

static void verifier_release(struct verifier *v)
{
    wn__free(v->sa);
    wn__free(v->sb);
    wn__free(v->xa);
    wn__free(v->xb);
}

/*
 * The join runs as tasks, one per (band, partition), on the engine's thread
 * count. Each task reads its band's keys with pread, sorts and joins them
 * into the thread's own pair list; the lists are concatenated and sorted at
 * the end, so the result does not depend on which thread ran which task.
 */
struct join_shared {
    struct engine *e;
    const uint8_t *skip;
    uint64_t parts;
    uint64_t ntasks;
    uint64_t next; /* next task, taken under mu */
    pthread_mutex_t mu;
    int rc;
};

struct join_worker {
    struct join_shared *sh;
    uint64_t *pairs;
    size_t npairs, cap;
    struct wn_join_stats st;
    int rc;
};

static int join_task(struct join_worker *w, uint32_t band, uint64_t part,
                     struct wn_keydoc **v, size_t *vcap, uint64_t *keys)
{
    struct join_shared *sh = w->sh;
    struct engine *e = sh->e;
    int fd = fileno(e->key_f[band]);
    size_t m = 0;
    for (size_t d = 0; d < e->n;) {
        size_t want = WN_MIN((size_t)65536, e->n - d);
        int rc = wn__pread_full(fd, keys, want * sizeof(*keys),
                                (uint64_t)d * sizeof(*keys));
        if (rc)
            return rc;
        for (size_t i = 0; i < want; i++, d++) {
            if (sh->skip[d >> 3] >> (d & 7) & 1)
                continue;
            if (sh->parts > 1 && (keys[i] >> 32) % sh->parts != part)
                continue;
            if (m == *vcap && WN_GROW(*v, *vcap, m + 1))
                return WN_ENOMEM;
            (*v)[m].key = keys[i];
            (*v)[m].doc = (uint32_t)d;
            (*v)[m].pad = 0;
            m++;
        }
    }
    int rc = wn__keydoc_sort(*v, m);
    if (!rc)
        rc = wn__join_sorted(*v, m, e->o->bucket_all_pairs, NULL, &w->pairs,
                             &w->npairs, &w->cap, &w->st);
    /* Keep the pair list small as bands accumulate. */
    if (!rc && w->npairs > (1u << 22))
        w->npairs = wn__pairs_sort_unique(w->pairs, w->npairs);
    return rc;
}

static void *join_main(void *arg)
{
    struct join_worker *w = arg;
    struct join_shared *sh = w->sh;
    struct wn_keydoc *v = NULL;
    size_t vcap = 0;
    uint64_t *keys = wn__reallocarray(NULL, 65536, sizeof(*keys));
    w->rc = keys ? WN_OK : WN_ENOMEM;
    while (!w->rc) {
        pthread_mutex_lock(&sh->mu);
        uint64_t t = sh->rc ? sh->ntasks : sh->next++;
        pthread_mutex_unlock(&sh->mu);
        if (t >= sh->ntasks)
            break;
        w->rc = join_task(w, (uint32_t)(t / sh->parts), t % sh->parts, &v,
                          &vcap, keys);
        if (!w->rc && cancelled(sh->e))
            w->rc = WN_EINTR;
        if (w->rc) {
            pthread_mutex_lock(&sh->mu);
            sh->rc = w->rc;
            pthread_mutex_unlock(&sh->mu);
        }
    }
    wn__free(v);
    wn__free(keys);
    return NULL;
}

static int stage_join_verify(struct engine *e, const uint8_t *skip)
{
    const struct wn_dedup_options *o = e->o;
    uint64_t budget = o->memory ? o->memory : (1ull << 30);
    unsigned nthreads = e->nthreads + 1;
    /* Entries and radix scratch: 32 bytes per document, per partition and
     * thread. */
    uint64_t parts = (uint64_t)e->n * 32 * nthreads / budget + 1;
    /* With t threads at once, t partitions per band keep the scratch at 32
     * bytes per document in all: each task re-reads its band's keys
     * (8 bytes per document, from the page cache) to pick its share. */
    if (parts < nthreads)
        parts = nthreads;
    struct join_shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.e = e;
    sh.skip = skip;
    sh.parts = parts;
    sh.ntasks = (uint64_t)e->nkeys * parts;
    pthread_mutex_init(&sh.mu, NULL);
    struct join_worker *w = wn__calloc(nthreads, sizeof(*w));
    pthread_t *tid = wn__calloc(nthreads, sizeof(*tid));
    int rc = w && tid ? WN_OK : WN_ENOMEM;
    double t0 = now_seconds();
    unsigned started = 0;
    for (unsigned i = 0; i < nthreads && !rc; i++)
        w[i].sh = &sh;
    /* Thread 0 is the calling thread. */
    for (unsigned i = 1; i < nthreads && !rc; i++) {
        if (pthread_create(&tid[i], NULL, join_main, &w[i]) != 0)
            break;
        started = i;
    }
    if (!rc)
        join_main(&w[0]);
    for (unsigned i = 1; i <= started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&sh.mu);

    uint64_t *pairs = NULL;
    size_t npairs = 0, paircap = 0;
    struct wn_join_stats st = {0};
    for (unsigned i = 0; i < nthreads && w && !rc; i++) {
        rc = w[i].rc;
        if (!rc && w[i].npairs &&
            (rc = WN_GROW(pairs, paircap, npairs + w[i].npairs)) == WN_OK) {
            memcpy(pairs + npairs, w[i].pairs, w[i].npairs * sizeof(*pairs));
            npairs += w[i].npairs;
        }
        st.large_buckets += w[i].st.large_buckets;
        st.max_bucket = WN_MAX(st.max_bucket, w[i].st.max_bucket);
    }
    for (unsigned i = 0; i < nthreads && w; i++)
        wn__free(w[i].pairs);
    wn__free(w);
    wn__free(tid);
    if (!rc)
        npairs = wn__pairs_sort_unique(pairs, npairs);
    e->rep.candidates = npairs;
    e->rep.large_buckets = st.large_buckets;
    e->rep.max_bucket = st.max_bucket;
    double t1 = now_seconds();
    e->rep.stage_seconds[2] = t1 - t0;

    struct verifier ver;
    memset(&ver, 0, sizeof(ver));
    if (!rc)
        rc = verifier_init(&ver, e);
    for (size_t i = 0; pairs && i < npairs && !rc; i++) {
        uint32_t a = (uint32_t)(pairs[i] >> 32), b = (uint32_t)pairs[i];
        /* Already together: a further edge cannot change the partition. */
        if (wn__uf_find(&e->uf, a) == wn__uf_find(&e->uf, b))
            continue;
        double jac, cont;
        rc = similarity(&ver, a, b, &jac, &cont);
        if (rc)
            break;
        e->rep.verified++;
        if (accept(e, jac, cont)) {
            e->rep.edges++;
            wn__uf_union(&e->uf, a, b);
        }
        if ((i & 0xffff) == 0 && cancelled(e))
            rc = WN_EINTR;
    }
    verifier_release(&ver);
    wn__free(pairs);
    e->rep.stage_seconds[3] = now_seconds() - t1;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Clusters, representatives and outputs                                     */
/* ------------------------------------------------------------------------ */

struct clustering {
    uint32_t *root; /* root of each document */
    uint32_t *rep;  /* representative, indexed by root */
    uint32_t *cid;  /* cluster number + 1, indexed by root; 0: singleton */
    uint32_t *size; /* component size, indexed by root */
    uint64_t nclusters;
};

static bool better_rep(const struct engine *e, uint32_t cand, uint32_t cur)
{
    switch (e->o->keep) {
    case WN_KEEP_LONGEST:
        return e->tlen[cand] > e->tlen[cur];
    case WN_KEEP_MAX:
        return e->keyval[cand] > e->keyval[cur];
    default:
        return false;
    }
}

static int build_clustering(struct engine *e, struct clustering *c)
{
    size_t n = e->n ? e->n : 1;
    c->root = wn__reallocarray(NULL, n, sizeof(uint32_t));
    c->rep = wn__reallocarray(NULL, n, sizeof(uint32_t));
    c->cid = wn__calloc(n, sizeof(uint32_t));
    c->size = wn__calloc(n, sizeof(uint32_t));
    if (!c->root || !c->rep || !c->cid || !c->size)
        return WN_ENOMEM;
    for (size_t d = 0; d < e->n; d++) {
        uint32_t r = wn__uf_find(&e->uf, (uint32_t)d);
        c->root[d] = r;
        /* The first member seen is the root itself (roots are first
         * members); later ones replace it only by the keep rule. */
        if (c->size[r]++ == 0 || better_rep(e, (uint32_t)d, c->rep[r]))
            c->rep[r] = (uint32_t)d;
    }
    uint32_t next = 0;
    for (size_t d = 0; d < e->n; d++)
        if (c->root[d] == d && c->size[d] >= 2)
            c->cid[d] = ++next;
    c->nclusters = next;
    return WN_OK;
}

static void clustering_release(struct clustering *c)
{
    wn__free(c->root);
    wn__free(c->rep);
    wn__free(c->cid);
    wn__free(c->size);
}

static int append_id(const struct engine *e, uint32_t d, struct wn_buf *b)
{
    return wn__json_escape(e->ids.data + e->id_off[d],
                           (size_t)(e->id_off[d + 1] - e->id_off[d]), b);
}

static int write_clusters(struct engine *e, const struct clustering *c)
{
    /* Members grouped by cluster with a counting sort, in input order. */
    uint64_t nc = c->nclusters;
    uint64_t *start = wn__calloc(nc + 2, sizeof(uint64_t));
    if (!start)
        return WN_ENOMEM;
    size_t total = 0;
    for (size_t d = 0; d < e->n; d++) {
        uint32_t id = c->cid[c->root[d]];
        if (id) {
            start[id + 1]++;
            total++;
        }
    }
    for (uint64_t k = 1; k <= nc + 1; k++)
        start[k] += start[k - 1];
    uint32_t *mem = wn__reallocarray(NULL, total ? total : 1, sizeof(uint32_t));
    if (!mem) {
        wn__free(start);
        return WN_ENOMEM;
    }
    for (size_t d = 0; d < e->n; d++) {
        uint32_t id = c->cid[c->root[d]];
        if (id)
            mem[start[id]++] = (uint32_t)d;
    }
    /* start[id] now ends cluster id; cluster id begins at start[id-1]. */
    struct wn_buf b = {0};
    int rc = WN_OK;
    uint64_t from = 0;
    for (uint64_t id = 1; id <= nc && !rc; id++) {
        uint64_t to = start[id];
        uint32_t first = mem[from];
        uint32_t rep = c->rep[c->root[first]];
        b.len = 0;
        rc = wn__buf_printf(&b, "{\"cluster\":%llu,\"representative\":",
                            (unsigned long long)id - 1);
        if (!rc)
            rc = append_id(e, rep, &b);
        if (!rc)
            rc = wn__buf_printf(&b, ",\"size\":%llu,\"members\":[",
                                (unsigned long long)(to - from));
        for (uint64_t k = from; k < to && !rc; k++) {
            if (k > from)
                rc = wn__buf_putc(&b, ',');
            if (!rc)
                rc = append_id(e, mem[k], &b);
        }
        if (!rc)
            rc = WN_BUF_LIT(&b, "]}\n");
        if (!rc)
            rc = wn__outfile_write(&e->out_clusters, b.data, b.len);
        from = to;
    }
    wn__buf_release(&b);
    wn__free(mem);
    wn__free(start);
    return rc;
}

/* Account for removed document d and write its removed.jsonl line. */
static int write_removed(struct engine *e, struct verifier *ver,
                         const struct clustering *c, uint32_t d,
                         struct wn_buf *b)
{
    uint32_t root = c->root[d];
    uint32_t rep = c->rep[root];
    int rc = WN_OK;
    b->len = 0;
    e->rep.removed++;
    bool exact = e->egroup[d] == e->egroup[rep];
    double jac = 1.0, cont = 1.0;
    if (!exact && ver)
        rc = similarity(ver, rep, d, &jac, &cont);
    if (exact)
        e->rep.removed_exact++;
    else
        e->rep.removed_near++;
    if (!rc)
        rc = WN_BUF_LIT(b, "{\"id\":");
    if (!rc)
        rc = append_id(e, d, b);
    if (!rc)
        rc = WN_BUF_LIT(b, ",\"duplicate_of\":");
    if (!rc)
        rc = append_id(e, rep, b);
    /* "contained": the pair passed by containment alone. Members joined
     * through others may pass neither ("near"). */
    bool contained = !exact && e->o->containment > 0 && jac < e->o->threshold &&
                     cont >= e->o->containment;
    e->rep.removed_contained += contained;
    if (!rc)
        rc = wn__buf_printf(b, ",\"cluster\":%u,\"similarity\":%.4f",
                            c->cid[root] - 1, jac);
    if (!rc && e->o->containment > 0)
        rc = wn__buf_printf(b, ",\"containment\":%.4f", cont);
    if (!rc)
        rc = wn__buf_printf(b, ",\"reason\":\"%s\"}\n",
                            exact       ? "exact"
                            : contained ? "contained"
                                        : "near");
    if (!rc)
        rc = wn__outfile_write(&e->out_removed, b->data, b->len);
    return rc;
}

/* Copy bytes [off, off + len) of in_fd to the end of out_fd: in the
 * kernel (copy_file_range) where the file systems allow it, else through a
 * buffer. */
static int copy_range(int in_fd, int out_fd, uint64_t off, uint64_t len)
{
    bool kernel = true;
    char buf[1 << 16];
    while (len) {
        size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
        ssize_t k = -1;
        if (kernel) {
            loff_t o = (loff_t)off;
            k = copy_file_range(in_fd, &o, out_fd, NULL, want, 0);
            if (k < 0 && (errno == EXDEV || errno == ENOSYS ||
                          errno == EOPNOTSUPP || errno == EINVAL)) {
                kernel = false;
                continue;
            }
        } else {
            k = pread(in_fd, buf, WN_MIN(want, sizeof(buf)), (off_t)off);
            for (ssize_t w = 0; k > 0 && w < k;) {
                ssize_t x = write(out_fd, buf + w, (size_t)(k - w));
                if (x < 0 && errno == EINTR)
                    continue;
                if (x <= 0)
                    return x < 0 ? wn__status_from_errno(errno) : WN_EIO;
                w += x;
            }
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return wn__status_from_errno(errno);
        if (k == 0)
            return WN_ECHANGED; /* the input is shorter than in pass 1 */
        off += (uint64_t)k;
        len -= (uint64_t)k;
    }
    return WN_OK;
}

/*
 * Pass 2 when every input is an uncompressed JSONL file: the kept records
 * are copied by the offsets pass 1 noted, runs of adjacent records in one
 * copy, without reading them into memory (the same bytes as pass2(): each
 * record and its line feed).
 */
static int pass2_plain(struct engine *e, const char *const *inputs,
                       size_t ninputs, const struct clustering *c)
{
    struct verifier ver;
    bool have_ver = !e->o->exact_only;
    int rc = WN_OK;
    if (have_ver && (rc = verifier_init(&ver, e)) != WN_OK) {
        verifier_release(&ver);
        return rc;
    }
    if (fflush(e->out_kept.f) != 0)
        rc = wn__status_from_errno(errno);
    int out_fd = fileno(e->out_kept.f);
    struct wn_buf b = {0};
    size_t d = 0;
    for (size_t i = 0; i < ninputs && !rc; i++) {
        int fd = open(inputs[i], O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            rc = WN_EOPEN;
        } else if (st.st_size != e->in_stat[i].st_size ||
                   st.st_mtim.tv_sec != e->in_stat[i].st_mtim.tv_sec ||
                   st.st_mtim.tv_nsec != e->in_stat[i].st_mtim.tv_nsec) {
            rc = WN_ECHANGED;
        }
        if (rc) {
            snprintf(e->rep.error_path, sizeof(e->rep.error_path), "%s",
                     inputs[i]);
            if (fd >= 0)
                close(fd);
            break;
        }
        uint64_t size = (uint64_t)st.st_size;
        uint64_t run_off = 0, run_len = 0; /* kept bytes not yet copied */
        for (uint64_t k = 0; k < e->in_docs[i] && !rc; k++, d++) {
            uint32_t rep = c->rep[c->root[d]];
            if (rep == d) {
                e->rep.kept++;
                uint64_t o = e->rec_off[d], n = (uint64_t)e->rec_len[d] + 1;
                if (run_len && run_off + run_len == o) {
                    run_len += n;
                    continue;
                }
                if (run_len)
                    rc = copy_range(fd, out_fd, run_off, run_len);
                run_off = o;
                run_len = n;
            } else {
                rc = write_removed(e, have_ver ? &ver : NULL, c, (uint32_t)d,
                                   &b);
            }
            if (((d + 1) & 0xfff) == 0 && cancelled(e))
                rc = WN_EINTR;
        }
        if (!rc && run_len) {
            /* The last line may lack its line feed: copy what the file
             * has and add it. */
            bool lf = run_off + run_len > size;
            rc = copy_range(fd, out_fd, run_off, run_len - lf);
            if (!rc && lf && write(out_fd, "\n", 1) != 1)
                rc = wn__status_from_errno(errno);
        }
        close(fd);
    }
    if (!rc && d != e->n)
        rc = WN_ECHANGED;
    if (rc && rc != WN_EINTR && rc != WN_ECHANGED && !e->out_kept.err)
        e->out_kept.err = rc;
    wn__buf_release(&b);
    if (have_ver)
        verifier_release(&ver);
    return rc;
}

static int pass2(struct engine *e, const char *const *inputs, size_t ninputs,
                 const struct clustering *c)
{
    const char **paths = wn__reallocarray(NULL, ninputs, sizeof(char *));
    if (!paths)
        return WN_ENOMEM;
    for (size_t i = 0; i < ninputs; i++)
        paths[i] = e->spool_path[i] ? e->spool_path[i] : inputs[i];
    struct wn_reader_options ro = e->o->reader;
    ro.raw_only = 1;
    struct wn_reader *r = NULL;
    size_t bad = 0;
    int rc = wn_reader_create(paths, ninputs, &ro, &r, &bad);
    wn__free(paths);
    if (rc)
        return rc;
    struct verifier ver;
    bool have_ver = !e->o->exact_only;
    if (have_ver && (rc = verifier_init(&ver, e)) != WN_OK) {
        verifier_release(&ver);
        wn_reader_free(r);
        return rc;
    }
    struct wn_buf b = {0};
    struct wn_record rec;
    uint64_t unit = 0;
    size_t ri = 0, d = 0;
    while (!rc) {
        int got = wn_reader_next(r, &rec);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got == 0)
            break;
        uint64_t u = unit++;
        if (ri < e->nrej && e->rej[ri] == u) {
            ri++;
            continue;
        }
        if (d >= e->n) {
            rc = WN_ECHANGED;
            snprintf(e->rep.error_path, sizeof(e->rep.error_path), "%s",
                     rec.source ? rec.source : "");
            break;
        }
        uint32_t root = c->root[d];
        uint32_t rep = c->rep[root];
        b.len = 0;
        if (rep == d) {
            e->rep.kept++;
            if (rec.kind == WN_RECORD_TEXTFILE) {
                rc = WN_BUF_LIT(&b, "{\"id\":");
                if (!rc)
                    rc = append_id(e, (uint32_t)d, &b);
                if (!rc)
                    rc = WN_BUF_LIT(&b, ",\"text\":");
                if (!rc)
                    rc = wn__json_escape(rec.raw, rec.raw_len, &b);
                if (!rc)
                    rc = WN_BUF_LIT(&b, "}\n");
                if (!rc)
                    rc = wn__outfile_write(&e->out_kept, b.data, b.len);
            } else {
                rc = wn__outfile_write(&e->out_kept, rec.raw, rec.raw_len);
                if (!rc)
                    rc = wn__outfile_write(&e->out_kept, "\n", 1);
            }
        } else {
            rc = write_removed(e, have_ver ? &ver : NULL, c, (uint32_t)d, &b);
        }
        d++;
        if ((d & 0xfff) == 0 && cancelled(e))
            rc = WN_EINTR;
    }
    if (!rc && (d != e->n || ri != e->nrej))
        rc = WN_ECHANGED;
    wn__buf_release(&b);
    if (have_ver)
        verifier_release(&ver);
    wn_reader_free(r);
    return rc;
}

static int write_stats(struct engine *e, const char *const *inputs,
                       size_t ninputs)
{
    const struct wn_dedup_options *o = e->o;
    const struct wn_dedup_report *p = &e->rep;
    struct wn_buf b = {0};
    int rc = wn__buf_printf(
        &b,
        "{\n  \"read\": %llu,\n  \"kept\": %llu,\n  \"removed\": %llu,\n"
        "  \"rejected\": %llu,\n  \"removed_exact\": %llu,\n"
        "  \"removed_near\": %llu,\n  \"clusters\": %llu,\n"
        "  \"blank_lines\": %llu,\n  \"bytes\": %llu,\n"
        "  \"empty_docs\": %llu,\n  \"invalid_utf8\": %llu,\n"
        "  \"candidates\": %llu,\n  \"verified\": %llu,\n"
        "  \"edges\": %llu,\n  \"large_buckets\": %llu,\n"
        "  \"max_bucket\": %llu,\n  \"removed_contained\": %llu,\n"
        "  \"duplicate_ids\": %llu,\n  \"keep_missing\": %llu,\n",
        (unsigned long long)p->read, (unsigned long long)p->kept,
        (unsigned long long)p->removed, (unsigned long long)p->rejected,
        (unsigned long long)p->removed_exact,
        (unsigned long long)p->removed_near, (unsigned long long)p->clusters,
        (unsigned long long)p->blank_lines, (unsigned long long)p->bytes,
        (unsigned long long)p->empty_docs, (unsigned long long)p->invalid_utf8,
        (unsigned long long)p->candidates, (unsigned long long)p->verified,
        (unsigned long long)p->edges, (unsigned long long)p->large_buckets,
        (unsigned long long)p->max_bucket,
        (unsigned long long)p->removed_contained,
        (unsigned long long)p->duplicate_ids,
        (unsigned long long)p->keep_missing);
    static const char *const method[] = {"minhash", "simhash"};
    static const char *const keep[] = {"first", "longest", "max"};
    if (!rc)
        rc = wn__buf_printf(
            &b,
            "  \"options\": {\"method\": \"%s\", \"exact_only\": %s, "
            "\"tokens\": \"%s\", \"ngram\": %u, \"num_perm\": %u, "
            "\"threshold\": %g, \"bands\": %u, \"rows\": %u, "
            "\"verify\": \"%s\", \"containment\": %g, \"hamming\": %u, "
            "\"keep\": \"%s\", \"seed\": %llu, \"sketch\": \"%s\", "
            "\"fn_weight\": %g, \"threads\": %u},\n",
            method[o->method], o->exact_only ? "true" : "false",
            o->token_mode == WN_TOKENS_CHAR ? "char" : "word", o->ngram,
            o->num_perm, o->threshold, e->bands, e->rows,
            o->verify == WN_VERIFY_EXACT ? "exact" : "estimate", o->containment,
            o->hamming, keep[o->keep], (unsigned long long)o->seed,
            o->sketch == WN_SKETCH_K_PERMUTATIONS ? "kperm" : "oph",
            o->weight_fn, e->nthreads + 1);
    if (!rc)
        rc = WN_BUF_LIT(&b, "  \"inputs\": [");
    for (size_t i = 0; i < ninputs && !rc; i++) {
        if (i)
            rc = WN_BUF_LIT(&b, ", ");
        if (!rc)
            rc = wn__json_escape(inputs[i], strlen(inputs[i]), &b);
    }
    if (!rc)
        rc = wn__buf_printf(
            &b,
            "],\n  \"seconds\": %.3f,\n  \"stage_seconds\": {\"read_sketch\": "
            "%.3f, \"exact\": %.3f, \"join\": %.3f, \"verify\": %.3f, "
            "\"cluster\": %.3f, \"write\": %.3f},\n  \"peak_rss_bytes\": "
            "%llu\n}\n",
            p->seconds, p->stage_seconds[0], p->stage_seconds[1],
            p->stage_seconds[2], p->stage_seconds[3], p->stage_seconds[4],
            p->stage_seconds[5], (unsigned long long)p->peak_rss_bytes);
    if (!rc)
        rc = wn__outfile_write(&e->out_stats, b.data, b.len);
    wn__buf_release(&b);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Setup and the whole run                                                   */
/* ------------------------------------------------------------------------ */

static FILE *spill_open(struct engine *e, const char *name)
{
    return wn__spill_create(e->o->tmp_dir ? e->o->tmp_dir : e->od.tmpdir, name,
                            1u << 16, &e->od.note);
}

static int validate(const struct wn_dedup_options *o)
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
    if (o->keep == WN_KEEP_MAX && !o->keep_field)
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
    return WN_OK;
}

static unsigned choose(unsigned n, unsigned k)
{
    unsigned long long r = 1;
    for (unsigned i = 1; i <= k; i++)
        r = r * (n - k + i) / i;
    return (unsigned)r;
}

static int configure(struct engine *e)
{
    const struct wn_dedup_options *o = e->o;
    e->need_sets = !o->exact_only && o->verify == WN_VERIFY_EXACT;
    e->need_unique = e->need_sets || o->containment > 0;
    if (o->exact_only)
        return WN_OK;
    if (o->method == WN_METHOD_SIMHASH) {
        e->sig_bytes = 8;
        e->nkeys =
            choose(o->hamming + SIMHASH_EXTRA_BLOCKS, SIMHASH_EXTRA_BLOCKS);
        e->bands = e->nkeys;
        e->rows = 0;
        return e->nkeys <= MAX_KEYS ? WN_OK : WN_EINVAL;
    }
    if (o->sketch == WN_SKETCH_K_PERMUTATIONS) {
        e->vk = o->num_perm;
        e->vbits = 16;
        e->sig_bytes = 2 * o->num_perm;
    } else {
        uint32_t m = WN_MIN(4u, WN_MINHASH_MAX_K / o->num_perm);
        e->vk = o->num_perm * (m ? m : 1);
        e->vbits = 4;
        e->sig_bytes = (e->vk + 1) / 2;
    }
    if (o->bands) {
        e->bands = o->bands;
        e->rows = o->rows;
    } else {
        /* With containment, candidates must also be found for a smaller
         * document A inside a larger B, whose Jaccard is lower: for
         * |B| <= 2|A| and containment c, J >= c / (3 - c). */
        double t = o->threshold;
        if (o->containment > 0)
            t = WN_MIN(t, o->containment / (3.0 - o->containment));
        struct wn_lsh_params p;
        int rc =
            wn__lsh_optimal(t, o->num_perm, o->weight_fp, o->weight_fn, &p);
        if (rc)
            return rc;
        e->bands = p.bands;
        e->rows = p.rows;
    }
    e->nkeys = e->bands;
    return e->nkeys <= MAX_KEYS ? WN_OK : WN_EINVAL;
}

static int start_pool(struct engine *e)
{
    unsigned t = e->o->threads;
    if (t == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        t = c > 0 ? (unsigned)c : 1;
    }
    if (t > 256)
        t = 256;
    /* The reading thread also sketches while it waits, so t threads are
     * the caller plus t - 1 workers; one thread: everything inline. */
    e->nthreads = t > 1 ? t - 1 : 0;
    e->nbatches = e->nthreads ? 2 * t + 1 : 1;
    e->batches = wn__calloc(e->nbatches, sizeof(*e->batches));
    if (!e->batches)
        return WN_ENOMEM;
    for (size_t i = 0; i < e->nbatches; i++)
        if (batch_alloc(e, &e->batches[i]))
            return WN_ENOMEM;
    if (!e->nthreads)
        return WN_OK;
    e->threads = wn__calloc(e->nthreads, sizeof(pthread_t));
    if (!e->threads)
        return WN_ENOMEM;
    for (unsigned i = 0; i < e->nthreads; i++) {
        if (pthread_create(&e->threads[i], NULL, worker_main, e) != 0) {
            e->nthreads = i;
            return WN_ENOMEM;
        }
    }
    return WN_OK;
}

static void stop_pool(struct engine *e)
{
    if (e->threads) {
        pthread_mutex_lock(&e->mu);
        e->stop = true;
        pthread_cond_broadcast(&e->cv_work);
        pthread_mutex_unlock(&e->mu);
        for (unsigned i = 0; i < e->nthreads; i++)
            pthread_join(e->threads[i], NULL);
        wn__free(e->threads);
        e->threads = NULL;
    }
    if (e->batches) {
        for (size_t i = 0; i < e->nbatches; i++)
            batch_free(&e->batches[i]);
        wn__free(e->batches);
        e->batches = NULL;
    }
}

static void engine_release(struct engine *e)
{
    stop_pool(e);
    wn__free(e->h);
    wn__free(e->egroup);
    wn__free(e->tlen);
    wn__free(e->nsh);
    wn__free(e->flags);
    wn__free(e->keyval);
    wn__free(e->id_off);
    wn__free(e->rec_off);
    wn__free(e->rec_len);
    wn__free(e->in_docs);
    wn__free(e->in_plain);
    wn__free(e->in_stat);
    wn__free(e->set_off);
    wn__free(e->rej);
    wn__buf_release(&e->ids);
    if (e->sig_f)
        fclose(e->sig_f);
    if (e->key_f) {
        for (uint32_t j = 0; j < e->nkeys; j++)
            if (e->key_f[j])
                fclose(e->key_f[j]);
        wn__free(e->key_f);
    }
    if (e->set_f)
        fclose(e->set_f);
    for (size_t i = 0; i < e->ninputs; i++) {
        if (e->spool_f && e->spool_f[i])
            fclose(e->spool_f[i]);
        if (e->spool_path && e->spool_path[i]) {
            unlink(e->spool_path[i]);
            wn__free(e->spool_path[i]);
        }
    }
    wn__free(e->spool_f);
    wn__free(e->spool_path);
    wn__outfile_release(&e->out_kept);
    wn__outfile_release(&e->out_removed);
    wn__outfile_release(&e->out_clusters);
    wn__outfile_release(&e->out_rejected);
    wn__outfile_release(&e->out_stats);
    wn__uf_release(&e->uf);
    wn__outdir_close(&e->od);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv_work);
    pthread_cond_destroy(&e->cv_done);
}

static int open_outputs(struct engine *e)
{
    int rc = wn__outfile_open(&e->out_kept, &e->od, "kept.jsonl");
    if (!rc)
        rc = wn__outfile_open(&e->out_removed, &e->od, "removed.jsonl");
    if (!rc)
        rc = wn__outfile_open(&e->out_clusters, &e->od, "clusters.jsonl");
    if (!rc)
        rc = wn__outfile_open(&e->out_rejected, &e->od, "rejected.jsonl");
    if (!rc)
        rc = wn__outfile_open(&e->out_stats, &e->od, "stats.json");
    return rc;
}

/* Standard input, pipes, sockets, devices: anything but a regular file or
 * a directory may not give the same bytes twice. */
static bool needs_spool(const char *path)
{
    if (strcmp(path, "-") == 0)
        return true;
    struct stat st;
    if (stat(path, &st) != 0)
        return false; /* the reader has checked it; it reports errors */
    return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

static int open_spills(struct engine *e, const char *const *inputs,
                       size_t ninputs)
{
    if (!e->o->exact_only) {
        e->sig_f = spill_open(e, "signatures");
        if (!e->sig_f)
            return WN_EOPEN;
        e->sig_fd = fileno(e->sig_f);
        e->key_f = wn__calloc(e->nkeys, sizeof(FILE *));
        if (!e->key_f)
            return WN_ENOMEM;
        for (uint32_t j = 0; j < e->nkeys; j++) {
            char name[32];
            snprintf(name, sizeof(name), "band-%u", j);
            e->key_f[j] = spill_open(e, name);
            if (!e->key_f[j])
                return WN_EOPEN;
        }
    }
    if (e->need_sets) {
        e->set_f = spill_open(e, "shingle-sets");
        if (!e->set_f)
            return WN_EOPEN;
    }
    e->ninputs = ninputs;
    e->spool_f = wn__calloc(ninputs ? ninputs : 1, sizeof(FILE *));
    e->spool_path = wn__calloc(ninputs ? ninputs : 1, sizeof(char *));
    e->in_docs = wn__calloc(ninputs ? ninputs : 1, sizeof(*e->in_docs));
    e->in_plain = wn__calloc(ninputs ? ninputs : 1, sizeof(*e->in_plain));
    e->in_stat = wn__calloc(ninputs ? ninputs : 1, sizeof(*e->in_stat));
    if (!e->spool_f || !e->spool_path || !e->in_docs || !e->in_plain ||
        !e->in_stat)
        return WN_ENOMEM;
    for (size_t i = 0; i < ninputs; i++) {
        /* A regular file may be copied from by offset in pass 2, unless
         * a record shows it compressed or not JSONL (add_record). */
        e->in_plain[i] = stat(inputs[i], &e->in_stat[i]) == 0 &&
                         S_ISREG(e->in_stat[i].st_mode);
        if (!needs_spool(inputs[i]))
            continue;
        e->in_plain[i] = false;
        /* Read once; pass 2 reads this copy. */
        size_t len = strlen(e->od.tmpdir) + 32;
        e->spool_path[i] = wn__malloc(len);
        if (!e->spool_path[i])
            return WN_ENOMEM;
        snprintf(e->spool_path[i], len, "%s/input-%zu", e->od.tmpdir, i);
        e->spool_f[i] = fopen(e->spool_path[i], "wb");
        if (!e->spool_f[i])
            return wn__io_fail(&e->od.note, e->spool_path[i], errno, WN_EOPEN);
        setvbuf(e->spool_f[i], NULL, _IOFBF, 1u << 20);
    }
    return WN_OK;
}

static uint64_t peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024;
}

int wn_dedup_run(const char *const *inputs, size_t ninputs, const char *outdir,
                 const struct wn_dedup_options *opts,
                 struct wn_dedup_report *rep)
{
    double t0 = now_seconds();
    struct wn_dedup_options defaults;
    if (!opts) {
        wn_dedup_options_init(&defaults);
        opts = &defaults;
    }
    if (!outdir || (ninputs && !inputs))
        return WN_EINVAL;
    int rc = validate(opts);
    if (rc)
        return rc;
    size_t stdin_inputs = 0;
    for (size_t i = 0; i < ninputs; i++)
        stdin_inputs += strcmp(inputs[i], "-") == 0;
    if (stdin_inputs > 1)
        return WN_EINVAL; /* standard input can be read only once */

    struct engine *e = wn__calloc(1, sizeof(*e));
    if (!e)
        return WN_ENOMEM;
    e->o = opts;
    e->sig_fd = -1;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv_work, NULL);
    pthread_cond_init(&e->cv_done, NULL);

    /* Inputs are checked before any output exists. */
    struct wn_reader *r = NULL;
    size_t bad = 0;
    rc = wn_reader_create(inputs, ninputs, &opts->reader, &r, &bad);
    if (!rc && opts->cancel)
        wn__reader_set_cancel(r, opts->cancel); /* a silent pipe must stop */
    if (rc) {
        if (bad < ninputs)
            snprintf(e->rep.error_path, sizeof(e->rep.error_path), "%s",
                     inputs[bad]);
        goto done;
    }
    rc = configure(e);
    if (!rc)
        rc = wn__outdir_open(&e->od, outdir, inputs, ninputs, !opts->no_fsync);
    if (!rc)
        rc = open_outputs(e);
    if (!rc)
        rc = open_spills(e, inputs, ninputs);
    if (!rc)
        rc = start_pool(e);
    if (!rc)
        rc = pass1(e, r);
    wn_reader_free(r);
    r = NULL;
    stop_pool(e);
    for (size_t i = 0; !rc && e->spool_f && i < e->ninputs; i++) {
        if (e->spool_f[i]) {
            rc = fclose(e->spool_f[i]) == 0 ? WN_OK
                                            : wn__status_from_errno(errno);
            e->spool_f[i] = NULL;
        }
    }
    /* The spill files are read back with pread from here on. */
    if (!rc && e->sig_f && fflush(e->sig_f) != 0)
        rc = wn__status_from_errno(errno);
    if (!rc && e->set_f && fflush(e->set_f) != 0)
        rc = wn__status_from_errno(errno);
    for (uint32_t j = 0; !rc && e->key_f && j < e->nkeys; j++)
        if (fflush(e->key_f[j]) != 0)
            rc = wn__status_from_errno(errno);
    if (!rc)
        rc = count_duplicate_ids(e);
    double t1 = now_seconds();
    e->rep.stage_seconds[0] = t1 - t0;

    uint8_t *skip = NULL;
    if (!rc)
        rc = wn__uf_init(&e->uf, e->n);
    if (!rc) {
        skip = wn__calloc(e->n / 8 + 1, 1);
        if (!skip)
            rc = WN_ENOMEM;
    }
    for (size_t d = 0; !rc && d < e->n; d++)
        if (e->flags[d] & DOC_EMPTY)
            set_bit(skip, d);
    /* Empty texts are exact duplicates of each other and nothing else:
     * the exact stage clusters them, the join never sees them. */
    if (!rc) {
        uint8_t *exact_skip = wn__calloc(e->n / 8 + 1, 1);
        if (!exact_skip) {
            rc = WN_ENOMEM;
        } else {
            rc = stage_exact(e, exact_skip);
            for (size_t k = 0; k < e->n / 8 + 1; k++)
                skip[k] |= exact_skip[k];
            wn__free(exact_skip);
        }
    }
    /* Only exact edges so far: each root is the first of an exact group.
     * 4 bytes per document replace the 16 of the hashes from here on. */
    if (!rc) {
        e->egroup = wn__reallocarray(NULL, e->n ? e->n : 1, sizeof(uint32_t));
        if (!e->egroup) {
            rc = WN_ENOMEM;
        } else {
            for (size_t d = 0; d < e->n; d++)
                e->egroup[d] = wn__uf_find(&e->uf, (uint32_t)d);
            wn__free(e->h);
            e->h = NULL;
        }
    }
    double t2 = now_seconds();
    e->rep.stage_seconds[1] = t2 - t1;
    if (!rc && !opts->exact_only)
        rc = stage_join_verify(e, skip);
    wn__free(skip);

    double t3 = now_seconds();
    struct clustering c;
    memset(&c, 0, sizeof(c));
    if (!rc)
        rc = build_clustering(e, &c);
    e->rep.clusters = c.nclusters;
    if (!rc)
        rc = write_clusters(e, &c);
    double t4 = now_seconds();
    e->rep.stage_seconds[4] = t4 - t3;
    /* Copy by offsets when every input is an uncompressed JSONL file
     * (WINNOW_NO_COPY_RANGE=1 forces the reading pass, for comparison). */
    bool plain = ninputs > 0 && !getenv("WINNOW_NO_COPY_RANGE");
    for (size_t i = 0; i < ninputs && e->in_plain; i++)
        plain = plain && e->in_plain[i];
    if (!rc)
        rc = plain ? pass2_plain(e, inputs, ninputs, &c)
                   : pass2(e, inputs, ninputs, &c);
    clustering_release(&c);
    e->rep.bands = e->bands;
    e->rep.rows = e->rows;
    e->rep.stage_seconds[5] = now_seconds() - t4;
    e->rep.seconds = now_seconds() - t0;
    e->rep.peak_rss_bytes = peak_rss();

    if (!rc && e->rep.read != e->rep.kept + e->rep.removed + e->rep.rejected)
        rc = WN_EIO; /* never publish outputs that lose a record */
    if (!rc)
        rc = write_stats(e, inputs, ninputs);
    struct wn_outfile *outs[] = {&e->out_kept, &e->out_removed,
                                 &e->out_clusters, &e->out_rejected,
                                 &e->out_stats};
    for (size_t i = 0; i < WN_ARRAY_LEN(outs) && !rc; i++)
        rc = wn__outfile_finish(outs[i], !opts->no_fsync);
    if (!rc && cancelled(e))
        rc = WN_EINTR;
    /* stats.json last: its presence means the set is complete. */
    if (!rc)
        rc = wn__outfiles_publish(&e->od, outs, WN_ARRAY_LEN(outs));
done:
    wn_reader_free(r);
    /* Errors past the inputs: the file and the reason, as noted. */
    if (rc && !e->rep.error_path[0])
        wn__io_report(&e->od.note, rc, opts->tmp_dir ? opts->tmp_dir : outdir,
                      e->rep.error_path, sizeof(e->rep.error_path),
                      &e->rep.error_errno);
    if (rep)
        *rep = e->rep;
    engine_release(e);
    wn__free(e);
    return rc;
}

int wn_lsh_params(double threshold, uint32_t num_perm, double w_fp, double w_fn,
                  uint32_t *bands, uint32_t *rows, double *fp_area,
                  double *fn_area)
{
    struct wn_lsh_params p;
    if (w_fp < 0 || w_fn < 0 || w_fp + w_fn <= 0)
        return WN_EINVAL;
    int rc = wn__lsh_optimal(threshold, num_perm, w_fp, w_fn, &p);
    if (rc)
        return rc;
    *bands = p.bands;
    *rows = p.rows;
    if (fp_area)
        *fp_area = p.fp_area;
    if (fn_area)
        *fn_area = p.fn_area;
    return WN_OK;
}

double wn_lsh_probability(double s, uint32_t bands, uint32_t rows)
{
    return wn__lsh_candidate_prob(s, bands, rows);
}
