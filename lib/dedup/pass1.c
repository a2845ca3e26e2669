/*
 * pass1.c - the first pass of the dedup job: records are numbered as they
 * come and their texts copied into batches; a full batch is sketched as
 * one task of the run's pool (one scratch sketch per pool slot) and
 * batches are committed strictly in order, so every document gets the
 * number of its position among accepted records and the spill files the
 * same bytes whatever the thread count. At most 2t + 1 batches (t threads)
 * are in flight; when none is free the owner commits the oldest, running
 * queued batches itself while it waits. A record larger than a batch
 * (BATCH_TEXT_BYTES) is not copied: it is sketched on the owner from the
 * reader's text once the batches before it are committed (add_large), so
 * its cost is the reader's copy plus the sketcher's pieces
 * (docs/SCALING.md, "Large records"). With one thread no text is copied:
 * each record is sketched as it is added, from the reader's text, and the
 * batch holds only the results.
 *
 * What grows with the corpus is kept small in memory (per document: a
 * 128-bit exact hash, text length, shingle count, flags, the id) and the
 * rest is spilled: verification data to one file, band keys to one file
 * per band, shingle sets (exact verification) to one file.
 */
#include "dedup/dedup.h"

#include <assert.h>
#include <errno.h>
#include <math.h>

#define BATCH_TEXT_BYTES (2u << 20) /* text per batch */
#define BATCH_MAX_DOCS   4096u

/* What a task computes for one document. */
struct doc_out {
    uint64_t h[2];    /* 128-bit hash of the normalized token stream */
    uint32_t nsh;     /* shingles (distinct when sets are needed) */
    uint32_t flags;   /* WN_DOC_EMPTY */
    uint64_t invalid; /* repaired UTF-8 sequences */
};

struct wn_batch {
    struct wn_pass1 *p;
    size_t n;
    struct wn_buf text;
    size_t *off; /* text offsets, n + 1 */
    size_t cap;
    struct doc_out *out;
    uint8_t *sigs;  /* n * sig_bytes */
    uint64_t *keys; /* band-major: key j of doc i at j * cap + i */
    uint64_t *anch; /* the rule's anchors: doc i's at i * anchor_cap */
    uint32_t *nanch;
    uint64_t *sets; /* exact verification: sorted shingle sets */
    size_t nsets, setcap;
    size_t *set_off; /* n + 1 */
    int status;
    size_t done; /* records sketched as they came (one thread: no text) */
    bool busy;   /* queued, running or waiting to be committed */
    struct wn_pool_task task;
};

/* ------------------------------------------------------------------------ */
/* Spill files and the document table                                        */
/* ------------------------------------------------------------------------ */

/* Stdio buffers of the band and anchor spills, and of the per-record
 * ones (the signatures are written a batch at a time, past any buffer). */
#define SPILL_KEY_BUFFER ((size_t)32 << 10)
#define SPILL_REC_BUFFER ((size_t)64 << 10)

static int spills_make(struct wn_spills *sp, const struct wn_sketcher *sk,
                       struct wn_frame *frame);

/* Gives f a buffer of `size` bytes from *at (the block's next slice). */
static void give_buffer(FILE *f, unsigned char **at, size_t size)
{
    assert(*at != NULL);
    if (f) {
        (void)setvbuf(f, (char *)*at, _IOFBF, size);
        *at += size;
    }
}

int wn__spills_open(struct wn_spills *sp, const struct wn_sketcher *sk,
                    struct wn_frame *frame)
{
    memset(sp, 0, sizeof(*sp));
    int rc = spills_make(sp, sk, frame);
    if (rc)
        return rc;
    /* Real stdio buffers: glibc's setvbuf with no buffer keeps its own of
     * the file system's block size (4 KiB), and each 4 KiB write(2) of the
     * band keys, the anchors' entries and the per-record spills
     * cost a system call: about 60,000 a GB of input. Two blocks, so that
     * the band and anchor files' buffers leave with them after the joins
     * (wn__spills_close_keys), before the verification's peak. */
    size_t nk = sk->o.exact_only
                    ? 0
                    : sk->nkeys + (sk->anchor_cap ? WN_ANCHOR_FILES : 0);
    if (nk) {
        sp->keybuf = wn__malloc(nk * SPILL_KEY_BUFFER);
        if (!sp->keybuf)
            return WN_ENOMEM;
        unsigned char *at = sp->keybuf;
        for (uint32_t j = 0; j < sk->nkeys; j++)
            give_buffer(sp->key_f[j], &at, SPILL_KEY_BUFFER);
        /* The anchors' slices stage their entries, written a
         * slice at a time (past stdio's buffer): an fwrite per entry was
         * 1.4% of a news run. */
        if (sk->anchor_cap)
            sp->anch_stage = at;
    }
    FILE *per[] = {sp->hash_f,   sp->id_f,    sp->idend_f, sp->tlen_f,
                   sp->keyval_f, sp->empty_f, sp->nsh_f,   sp->set_f};
    sp->recbuf = wn__malloc(WN_ARRAY_LEN(per) * SPILL_REC_BUFFER);
    if (!sp->recbuf)
        return WN_ENOMEM;
    unsigned char *at = sp->recbuf;
    for (size_t i = 0; i < WN_ARRAY_LEN(per); i++)
        give_buffer(per[i], &at, SPILL_REC_BUFFER);
    return WN_OK;
}

static int spills_make(struct wn_spills *sp, const struct wn_sketcher *sk,
                       struct wn_frame *frame)
{
    if (!sk->o.exact_only) {
        sp->sig_f = wn__frame_spill(frame, "signatures", 0);
        if (!sp->sig_f)
            return WN_EOPEN;
        sp->key_f = wn__calloc(sk->nkeys ? sk->nkeys : 1, sizeof(FILE *));
        if (!sp->key_f)
            return WN_ENOMEM;
        sp->nkeys = sk->nkeys;
        for (uint32_t f = 0; sk->anchor_cap && f < WN_ANCHOR_FILES; f++) {
            char name[32];
            snprintf(name, sizeof(name), "anchors-%u", f);
            sp->anch_f[f] = wn__frame_spill(frame, name, 0);
            if (!sp->anch_f[f])
                return WN_EOPEN;
        }
        for (uint32_t j = 0; j < sk->nkeys; j++) {
            char name[32];
            snprintf(name, sizeof(name), "band-%u", j);
            sp->key_f[j] = wn__frame_spill(frame, name, 0);
            if (!sp->key_f[j])
                return WN_EOPEN;
        }
    }
    /* The exact hashes (16 bytes a record), for the exact stage's sort. */
    sp->hash_f = wn__frame_spill(frame, "hashes", 0);
    if (!sp->hash_f)
        return WN_EOPEN;
    /* The ids: their bytes, and where each ends (8 bytes a record); text
     * lengths (4), --keep-max values (8) and the numbers of the empty
     * texts (4 each) for the clustering and the exact stage. */
    sp->id_f = wn__frame_spill(frame, "ids", 0);
    sp->idend_f = wn__frame_spill(frame, "id-ends", 0);
    sp->tlen_f = wn__frame_spill(frame, "lengths", 0);
    sp->keyval_f = wn__frame_spill(frame, "keep-values", 0);
    sp->empty_f = wn__frame_spill(frame, "empty", 0);
    sp->nsh_f = wn__frame_spill(frame, "shingle-counts", 0);
    if (!sp->id_f || !sp->idend_f || !sp->tlen_f || !sp->keyval_f ||
        !sp->empty_f || !sp->nsh_f)
        return WN_EOPEN;
    if (sk->need_sets) {
        sp->set_f = wn__frame_spill(frame, "shingle-sets", 0);
        if (!sp->set_f)
            return WN_EOPEN;
    }
    return WN_OK;
}

/* Writes anchor file f's staged entries. */
static int flush_anchors(struct wn_spills *sp, uint32_t f)
{
    size_t n = sp->anch_fill[f];
    sp->anch_fill[f] = 0;
    if (n && fwrite_unlocked(sp->anch_stage + (size_t)f * SPILL_KEY_BUFFER, 1,
                             n, sp->anch_f[f]) != n)
        return wn__status_from_errno(errno);
    return WN_OK;
}

int wn__spills_flush(struct wn_spills *sp)
{
    for (uint32_t f = 0; sp->anch_stage && f < WN_ANCHOR_FILES; f++) {
        int rc = flush_anchors(sp, f);
        if (rc)
            return rc;
    }
    if ((sp->hash_f && fflush(sp->hash_f) != 0) ||
        (sp->id_f && fflush(sp->id_f) != 0) ||
        (sp->idend_f && fflush(sp->idend_f) != 0) ||
        (sp->tlen_f && fflush(sp->tlen_f) != 0) ||
        (sp->keyval_f && fflush(sp->keyval_f) != 0) ||
        (sp->empty_f && fflush(sp->empty_f) != 0) ||
        (sp->nsh_f && fflush(sp->nsh_f) != 0))
        return wn__status_from_errno(errno);
    if (sp->sig_f && fflush(sp->sig_f) != 0)
        return wn__status_from_errno(errno);
    if (sp->set_f && fflush(sp->set_f) != 0)
        return wn__status_from_errno(errno);
    for (uint32_t f = 0; f < WN_ANCHOR_FILES; f++)
        if (sp->anch_f[f] && fflush(sp->anch_f[f]) != 0)
            return wn__status_from_errno(errno);
    for (uint32_t j = 0; sp->key_f && j < sp->nkeys; j++)
        if (fflush(sp->key_f[j]) != 0)
            return wn__status_from_errno(errno);
    return WN_OK;
}

void wn__spills_close_keys(struct wn_spills *sp)
{
    if (sp->key_f) {
        for (uint32_t j = 0; j < sp->nkeys; j++)
            if (sp->key_f[j])
                fclose(sp->key_f[j]);
        wn__free(sp->key_f);
        sp->key_f = NULL;
    }
    for (uint32_t f = 0; f < WN_ANCHOR_FILES; f++)
        if (sp->anch_f[f])
            fclose(sp->anch_f[f]);
    memset(sp->anch_f, 0, sizeof(sp->anch_f));
    wn__free(sp->keybuf); /* after the files that wrote through it */
    sp->keybuf = NULL;
    sp->anch_stage = NULL;
}

void wn__spills_close(struct wn_spills *sp)
{
    if (sp->hash_f)
        fclose(sp->hash_f);
    if (sp->id_f)
        fclose(sp->id_f);
    if (sp->idend_f)
        fclose(sp->idend_f);
    if (sp->tlen_f)
        fclose(sp->tlen_f);
    if (sp->keyval_f)
        fclose(sp->keyval_f);
    if (sp->empty_f)
        fclose(sp->empty_f);
    if (sp->nsh_f)
        fclose(sp->nsh_f);
    if (sp->sig_f)
        fclose(sp->sig_f);
    if (sp->key_f) {
        for (uint32_t j = 0; j < sp->nkeys; j++)
            if (sp->key_f[j])
                fclose(sp->key_f[j]);
        wn__free(sp->key_f);
    }
    if (sp->set_f)
        fclose(sp->set_f);
    for (uint32_t f = 0; f < WN_ANCHOR_FILES; f++)
        if (sp->anch_f[f])
            fclose(sp->anch_f[f]);
    wn__free(sp->keybuf);
    wn__free(sp->recbuf);
    memset(sp, 0, sizeof(*sp));
}

void wn__docs_release(struct wn_docs *d)
{
    wn__free(d->nsh);
    wn__free(d->set_off);
    memset(d, 0, sizeof(*d));
}

static int grow_docs(struct wn_pass1 *p, size_t need)
{
    struct wn_docs *e = p->docs;
    if (need <= e->cap)
        return WN_OK;
    uint64_t limit = wn__docs_limit();
    if (need > limit)
        return WN_ELIMIT;
    size_t cap = e->cap ? e->cap * 2 : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > limit + 1)
        cap = (size_t)limit + 1;
    void *q;
#define GROW_ARRAY(field, per)                                                 \
    q = wn__reallocarray(e->field, cap * (per), sizeof(*e->field));            \
    if (!q)                                                                    \
        return WN_ENOMEM;                                                      \
    e->field = q;
    if (p->sk->need_sets) {
        GROW_ARRAY(set_off, 1)
    }
#undef GROW_ARRAY
    e->cap = cap - 1; /* set_off holds n + 1 entries */
    return WN_OK;
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                   */
/* ------------------------------------------------------------------------ */

static int batch_alloc(struct wn_pass1 *p, struct wn_batch *b)
{
    const struct wn_sketcher *sk = p->sk;
    memset(b, 0, sizeof(*b));
    b->p = p;
    size_t m = BATCH_MAX_DOCS;
    b->cap = m;
    b->off = wn__reallocarray(NULL, m + 1, sizeof(*b->off));
    b->out = wn__reallocarray(NULL, m, sizeof(*b->out));
    b->sigs = wn__reallocarray(NULL, m, sk->rec_bytes ? sk->rec_bytes : 1);
    b->keys = wn__reallocarray(NULL, m * (sk->nkeys ? sk->nkeys : 1),
                               sizeof(*b->keys));
    b->set_off = wn__reallocarray(NULL, m + 1, sizeof(*b->set_off));
    b->anch = wn__reallocarray(NULL, m * (sk->anchor_cap ? sk->anchor_cap : 1),
                               sizeof(*b->anch));
    b->nanch = wn__reallocarray(NULL, m, sizeof(*b->nanch));
    if (!b->off || !b->out || !b->sigs || !b->keys || !b->set_off || !b->anch ||
        !b->nanch)
        return WN_ENOMEM;
    return wn__buf_reserve(&b->text, BATCH_TEXT_BYTES);
}

static void batch_free(struct wn_batch *b)
{
    wn__free(b->off);
    wn__free(b->out);
    wn__free(b->sigs);
    wn__free(b->keys);
    wn__free(b->set_off);
    wn__free(b->anch);
    wn__free(b->nanch);
    wn__free(b->sets);
    wn__buf_release(&b->text);
}

/* Sketch every document of b with the slot's scratch sketch (a task). */
/* Sketches record i of b from text into its slots of b. */
static int sketch_one(struct wn_batch *b, size_t i, const char *text,
                      size_t len, struct wn_sketch *s)
{
    const struct wn_sketcher *sk = b->p->sk;
    if (sk->need_sets)
        b->set_off[i] = b->nsets;
    int rc = wn_sketcher_sketch(sk, text, len, s);
    if (rc)
        return rc;
    struct doc_out *o = &b->out[i];
    o->h[0] = s->h[0];
    o->h[1] = s->h[1];
    o->nsh = s->nsh;
    o->flags = s->empty ? WN_DOC_EMPTY : 0;
    o->invalid = s->invalid;
    if (sk->o.exact_only)
        return WN_OK;
    memcpy(b->sigs + i * sk->rec_bytes, s->vdata, sk->rec_bytes);
    /* Band-major, so that each band's keys go out in one write. */
    for (uint32_t j = 0; j < sk->nkeys; j++)
        b->keys[(size_t)j * b->cap + i] = s->keys[j];
    b->nanch[i] = s->nanch;
    if (s->nanch)
        memcpy(b->anch + i * sk->anchor_cap, s->anch,
               s->nanch * sizeof(*s->anch));
    if (sk->need_sets) {
        if (WN_GROW(b->sets, b->setcap, b->nsets + s->nset))
            return WN_ENOMEM;
        memcpy(b->sets + b->nsets, s->sh, s->nset * sizeof(*s->sh));
        b->nsets += s->nset;
    }
    return WN_OK;
}

/* The pool task: the records of b not sketched as they came. */
static void process_batch(void *arg, unsigned slot)
{
    struct wn_batch *b = arg;
    const struct wn_pass1 *p = b->p;
    struct wn_sketch *s = &p->scratch[slot];
    for (size_t i = b->done; i < b->n && !b->status; i++)
        b->status = sketch_one(b, i, b->text.data + b->off[i],
                               b->off[i + 1] - b->off[i], s);
    if (p->sk->need_sets)
        b->set_off[b->n] = b->nsets;
}

static int write_all(FILE *f, const void *q, size_t n)
{
    if (n && fwrite(q, 1, n, f) != n)
        return wn__status_from_errno(errno);
    return WN_OK;
}

/*
 * The rule's per-document keys at commit, in document order: the anchors
 * go to their spill as (key, document) entries of WN_ANCHOR_ENTRY bytes,
 * and the lead words (in the verification record vrec) are counted in the
 * word sketch.
 */
static int commit_rule_keys(struct wn_pass1 *p, wn_docno doc,
                            const uint64_t *anch, uint32_t nanch,
                            const uint8_t *vrec)
{
    const struct wn_sketcher *sk = p->sk;
    if (!sk->anchor_cap)
        return WN_OK;
    int rc = WN_OK;
    /* Only this thread writes the spill files (commits are in order):
     * the unlocked stdio calls skip a lock per entry. */
    struct wn_spills *sp = p->sp;
    for (uint32_t k = 0; k < nanch && !rc; k++) {
        uint32_t f = WN_ANCHOR_FILE(anch[k]);
        if (sp->anch_fill[f] + WN_ANCHOR_ENTRY > SPILL_KEY_BUFFER)
            rc = flush_anchors(sp, f);
        unsigned char *e =
            sp->anch_stage + (size_t)f * SPILL_KEY_BUFFER + sp->anch_fill[f];
        wn__put_le64(e, anch[k]);
#ifdef WN_WIDE_DOCS
        wn__put_le64(e + 8, doc);
#else
        wn__put_le32(e + 8, doc);
#endif
        sp->anch_fill[f] += WN_ANCHOR_ENTRY;
        p->anchors[f]++;
    }
    if (p->words) {
        uint32_t w[WN_LEAD_TOKENS];
        uint64_t keys[WN_LEAD_TOKENS];
        size_t nw = wn__lead_unpack(vrec + sk->sig_bytes + sk->fig_bytes, w);
        for (size_t k = 0; k < nw; k++)
            keys[k] = wn__lead_key(w[k]);
        wn__cms_add_many(p->words, keys, nw);
    }
    return rc;
}

/* Append a finished batch to the document table and the spill files. */
static int commit_batch(struct wn_pass1 *p, struct wn_batch *b)
{
    if (b->status)
        return b->status;
    struct wn_docs *e = p->docs;
    const struct wn_sketcher *sk = p->sk;
    size_t base = e->n;
    int rc = WN_OK;
    for (size_t i = 0; i < b->n && !rc; i++) {
        size_t d = base + i;
        rc = write_all(p->sp->hash_f, b->out[i].h, sizeof(b->out[i].h));
        if (!rc)
            rc = write_all(p->sp->nsh_f, &b->out[i].nsh, sizeof(uint32_t));
        wn_docno dn = (wn_docno)d;
        if (!rc && (b->out[i].flags & WN_DOC_EMPTY))
            rc = write_all(p->sp->empty_f, &dn, sizeof(dn));
        p->invalid_utf8 += b->out[i].invalid;
        p->empty_docs += (b->out[i].flags & WN_DOC_EMPTY) != 0;
    }
    if (!rc && !sk->o.exact_only) {
        rc = write_all(p->sp->sig_f, b->sigs, b->n * sk->rec_bytes);
        /* One file per band. */
        for (uint32_t j = 0; j < sk->nkeys && !rc; j++)
            rc = write_all(p->sp->key_f[j], b->keys + (size_t)j * b->cap,
                           b->n * sizeof(uint64_t));
        for (size_t i = 0; i < b->n && !rc; i++)
            rc = commit_rule_keys(p, (wn_docno)(base + i),
                                  b->anch + i * sk->anchor_cap, b->nanch[i],
                                  b->sigs + i * sk->rec_bytes);
    }
    if (!rc && sk->need_sets) {
        uint64_t start = e->n ? e->set_off[e->n] : 0;
        for (size_t i = 0; i < b->n; i++)
            e->set_off[base + i] = start + b->set_off[i];
        e->set_off[base + b->n] = start + b->set_off[b->n];
        rc = write_all(p->sp->set_f, b->sets, b->nsets * sizeof(uint64_t));
    }
    e->n += b->n;
    return rc;
}

/* Commit the oldest batch in flight, after waiting for it. */
static int commit_oldest(struct wn_pass1 *p)
{
    struct wn_batch *b = &p->batches[p->ring[p->ring_head]];
    wn__pool_wait_task(p->pool, &b->task);
    p->ring_head = p->ring_head + 1 < p->nbatches ? p->ring_head + 1 : 0;
    p->ring_n--;
    int rc = commit_batch(p, b);
    b->busy = false;
    return rc;
}

static void submit(struct wn_pass1 *p, struct wn_batch *b)
{
    size_t idx = (size_t)(b - p->batches);
    size_t at = p->ring_head + p->ring_n; /* < 2 nbatches */
    p->ring[at < p->nbatches ? at : at - p->nbatches] = idx;
    p->ring_n++;
    b->busy = true;
    wn__pool_submit(p->pool, &b->task, process_batch, b);
}

int wn__pass1_init(struct wn_pass1 *p, const struct wn_sketcher *sk,
                   struct wn_pool *pool, struct wn_docs *docs,
                   struct wn_spills *sp, bool keep_max)
{
    memset(p, 0, sizeof(*p));
    p->sk = sk;
    p->pool = pool;
    p->docs = docs;
    p->sp = sp;
    p->keep_max = keep_max;
    unsigned t = wn__pool_threads(pool);
    p->scratch = wn__calloc(t, sizeof(*p->scratch));
    if (!p->scratch)
        return WN_ENOMEM;
    for (unsigned i = 0; i < t; i++) {
        int rc = wn__sketch_init(&p->scratch[i], sk);
        if (rc)
            return rc;
        p->nscratch = i + 1;
    }
    /* The owner also sketches while it waits, so with one thread one
     * batch is enough; with t, 2t + 1 keep every thread busy. */
    size_t nb = t > 1 ? 2 * (size_t)t + 1 : 1;
    p->batches = wn__calloc(nb, sizeof(*p->batches));
    p->ring = wn__calloc(nb, sizeof(*p->ring));
    if (!p->batches || !p->ring)
        return WN_ENOMEM;
    for (size_t i = 0; i < nb; i++) {
        p->nbatches = i + 1;
        if (batch_alloc(p, &p->batches[i]))
            return WN_ENOMEM;
    }
    return WN_OK;
}

static bool batch_full(const struct wn_batch *b)
{
    return b->n >= b->cap || b->text.len >= BATCH_TEXT_BYTES;
}

/* The document-table entries of the next record (number e->nfill) that
 * come from the record itself: id, text length, keep value. The caller
 * counts it in nfill once it is queued or committed. */
static int number_doc(struct wn_pass1 *p, const struct wn_dedup_record *rec)
{
    struct wn_docs *e = p->docs;
    size_t d = e->nfill;
    int rc = grow_docs(p, d + 1);
    if (rc)
        return rc;
    if (rec->text_len > UINT32_MAX)
        return WN_ETOOBIG;
    /* The id goes to its spill (dedup.h, wn__doc_id_read). */
    e->ids_len += rec->id_len;
    rc = rec->id_len ? write_all(p->sp->id_f, rec->id, rec->id_len) : WN_OK;
    if (!rc)
        rc = write_all(p->sp->idend_f, &e->ids_len, sizeof(e->ids_len));
    if (rc)
        return rc;
    uint32_t tlen = (uint32_t)rec->text_len;
    rc = write_all(p->sp->tlen_f, &tlen, sizeof(tlen));
    if (rc)
        return rc;
    if (p->keep_max) {
        /* Records without the value rank below all others, and are
         * counted so that a misspelt field does not pass unnoticed. */
        double v = rec->has_value ? rec->value : NAN;
        if (isnan(v)) {
            p->keep_missing++;
            v = -INFINITY;
        }
        rc = write_all(p->sp->keyval_f, &v, sizeof(v));
    }
    return rc;
}

static int add_sketch(struct wn_pass1 *p, const struct wn_dedup_record *rec,
                      const struct wn_sketch *s, bool remote);

/*
 * A record larger than a batch's text is not copied into one (the batch's
 * buffer would grow to its size and keep it): the batches before it are
 * committed, it is sketched from the caller's text on this thread with
 * slot 0's scratch sketch (no task runs now), and committed as a sketch.
 * Its shingle list, when the sketch keeps one, is not kept past it.
 */
static int add_large(struct wn_pass1 *p, const struct wn_dedup_record *rec)
{
    int rc = wn__pass1_finish(p);
    if (rc)
        return rc;
    struct wn_sketch *s = &p->scratch[0];
    rc = wn_sketcher_sketch(p->sk, rec->text, rec->text_len, s);
    if (!rc)
        rc = add_sketch(p, rec, s, false);
    if (s->shcap > BATCH_TEXT_BYTES / sizeof(*s->sh)) {
        wn__free(s->sh);
        s->sh = NULL;
        s->shcap = 0;
        s->nset = 0;
    }
    return rc ? rc : 1;
}

int wn__pass1_add(struct wn_pass1 *p, const struct wn_dedup_record *rec)
{
    struct wn_docs *e = p->docs;
    int rc;
    if (rec->text_len > BATCH_TEXT_BYTES)
        return add_large(p, rec);
    if (!p->fill) {
        struct wn_batch *b = NULL;
        for (size_t i = 0; i < p->nbatches && !b; i++)
            if (!p->batches[i].busy)
                b = &p->batches[i];
        if (!b) {
            /* Every batch is in flight: the oldest becomes free. */
            size_t oldest = p->ring[p->ring_head];
            rc = commit_oldest(p);
            if (rc)
                return rc;
            b = &p->batches[oldest];
        }
        b->n = 0;
        b->text.len = 0;
        b->off[0] = 0;
        b->done = 0;
        b->nsets = 0;
        b->status = WN_OK;
        p->fill = b;
    }
    struct wn_batch *b = p->fill;
    rc = number_doc(p, rec);
    if (rc)
        return rc;
    if (p->nscratch == 1) {
        /* One thread: no task runs while a batch fills (the only one is
         * committed before it is filled again), so the record is sketched
         * now, from the caller's text, while it is in the cache, instead
         * of being copied into the batch. */
        rc = sketch_one(b, b->n, rec->text, rec->text_len, &p->scratch[0]);
        if (rc)
            return rc;
        b->n++;
        b->done = b->n;
        b->off[b->n] = b->text.len;
    } else {
        b->off[b->n] = b->text.len;
        rc = wn__buf_append(&b->text, rec->text, rec->text_len);
        if (rc)
            return rc;
        b->n++;
        b->off[b->n] = b->text.len;
    }
    e->nfill++;
    if (!batch_full(b))
        return WN_OK;
    submit(p, b);
    p->fill = NULL;
    return 1;
}

int wn__pass1_finish(struct wn_pass1 *p)
{
    int rc = WN_OK;
    if (p->fill && p->fill->n)
        submit(p, p->fill);
    p->fill = NULL;
    while (p->ring_n && !rc)
        rc = commit_oldest(p);
    return rc;
}

void wn__pass1_release(struct wn_pass1 *p)
{
    /* On error, let queued batches drain before their memory goes. */
    if (p->pool)
        wn__pool_wait(p->pool);
    for (size_t i = 0; p->batches && i < p->nbatches; i++)
        batch_free(&p->batches[i]);
    wn__free(p->batches);
    wn__free(p->ring);
    for (unsigned i = 0; i < p->nscratch; i++)
        wn__sketch_release(&p->scratch[i]);
    wn__free(p->scratch);
    memset(p, 0, sizeof(*p));
}

int wn__pass1_add_sketch(struct wn_pass1 *p, const struct wn_dedup_record *rec,
                         const struct wn_sketch *s)
{
    return add_sketch(p, rec, s, true);
}

/* Commit s (other: another process's, whose band keys it joins itself
 * with p->remote_keys, and whose verification record, anchors and lead
 * words stay there with p->remote). */
static int add_sketch(struct wn_pass1 *p, const struct wn_dedup_record *rec,
                      const struct wn_sketch *s, bool other)
{
    bool remote = other && p->remote, remote_keys = other && p->remote_keys;
    bool remote_hash = other && p->remote_hashes;
    const struct wn_sketcher *sk = p->sk;
    struct wn_docs *e = p->docs;
    assert(s->valid && s->sk->id == sk->id);
    /* Records queued before this one are committed first: numbers and
     * spill files stay in input order. */
    int rc = wn__pass1_finish(p);
    if (rc)
        return rc;
    size_t d = e->nfill;
    rc = number_doc(p, rec);
    if (rc)
        return rc;
    if (!remote_hash)
        rc = write_all(p->sp->hash_f, s->h, sizeof(s->h));
    if (rc)
        return rc;
    rc = write_all(p->sp->nsh_f, &s->nsh, sizeof(s->nsh));
    if (rc)
        return rc;
    wn_docno dn = (wn_docno)d;
    if (s->empty && (rc = write_all(p->sp->empty_f, &dn, sizeof(dn))) != 0)
        return rc;
    p->invalid_utf8 += s->invalid;
    p->empty_docs += s->empty;
    if (!sk->o.exact_only) {
        if (!remote)
            rc = write_all(p->sp->sig_f, s->vdata, sk->rec_bytes);
        for (uint32_t j = 0; j < sk->nkeys && !rc && !remote_keys; j++)
            rc = write_all(p->sp->key_f[j], &s->keys[j], sizeof(uint64_t));
        if (!rc && !remote)
            rc = commit_rule_keys(p, (wn_docno)d, s->anch, s->nanch, s->vdata);
    }
    if (!rc && sk->need_sets) {
        uint64_t start = e->n ? e->set_off[e->n] : 0;
        e->set_off[d] = start;
        e->set_off[d + 1] = start + s->nset;
        rc = write_all(p->sp->set_f, s->sh, s->nset * sizeof(uint64_t));
    }
    if (rc)
        return rc;
    e->nfill++;
    e->n++;
    return WN_OK;
}
