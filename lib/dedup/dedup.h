/*
 * dedup.h - the internal header of lib/dedup: the stages of deduplication,
 * each in its own file behind the narrow struct it needs.
 *
 *   sketcher.c   options, struct wn_sketcher (parameters chosen once) and
 *                struct wn_sketch (one text's hash, counts, signature, band
 *                keys, verification data), encoding of sketches
 *   verify.c     the verification rule: similarity from two sketches'
 *                verification data or shingle sets, accept, reason; the
 *                public wn_sketcher_compare; the batch verification of
 *                candidate pairs read back from the spill files
 *   pass1.c      batches of records sketched on the run's pool and
 *                committed in input order into the document table and the
 *                spill files
 *   exact.c      exact duplicates (equal 128-bit hashes) and duplicate ids,
 *                both sorted in runs on disk (runs.h) within the budget
 *   candidates.c the parallel band join that makes candidate pairs
 *   clusters.c   clusters over the records in play (exact groups, edges):
 *                roots, representatives by the keep rule
 *   dedupjob.c   the job (wn_dedup_job_*): runs the stages in order and
 *                gives every record's fate; its opening comment is the map
 *                of the whole pipeline
 *   outputs.c    removed.jsonl lines, clusters.jsonl, stats.json
 *   pass2.c      the file consumer of the fates: kept.jsonl (copied by
 *                offsets or read again) and removed.jsonl
 *   run.c        wn_dedup_run: the run frame, the readers feeding the job,
 *                rejected records, publishing
 */
#ifndef WN_DEDUP_H
#define WN_DEDUP_H

#include "cluster/cluster.h"
#include "cluster/decide.h"
#include "common/pool.h"
#include "io/runframe.h"
#include "lsh/lsh.h"
#include "sketch/cms.h"
#include "sketch/contain.h"
#include "sketch/sketch.h"

#include <stdio.h>
#include <sys/stat.h>

struct wn_runs;

#define WN_DEDUP_MAX_KEYS 256u
/* Bands of the news and web rules at most (rows of 4; sketcher.c). */
#define WN_RULE_BANDS 26u
/* Anchors of a document (contain.h): 1 in 2^WN_ANCHOR_LOG2_RATE shingles,
 * the WN_ANCHOR_CAP smallest. */
#define WN_ANCHOR_CAP       32u
#define WN_ANCHOR_LOG2_RATE 4u
#define WN_ANCHOR_FILES     64u /* anchor spill files, by the top 6 bits */
/* An anchor spill's entry: the key (le64), the document (wn_docno, le32
 * or le64). */
#define WN_ANCHOR_ENTRY     (8u + sizeof(wn_docno))
#define WN_ANCHOR_FILE(key) ((uint32_t)((key) >> 58) % WN_ANCHOR_FILES)
/* The word document-frequency sketch of the flash test (cms.h). */
#define WN_WORDS_LOG2_WIDTH 19u
#define WN_WORDS_DEPTH      2u
/* m of Manku et al.: SimHash blocks that must match. */
#define WN_SIMHASH_EXTRA_BLOCKS 2u

/* ------------------------------------------------------------------------ */
/* sketcher.c                                                                */
/* ------------------------------------------------------------------------ */

struct wn_sketcher {
    struct wn_dedup_options o; /* a copy; pointers in it are not used */
    /* The verification data of a document: vk values of vbits bits each
     * (b-bit MinHash, Li and Koenig 2010), sig_bytes in all. OPH keeps a
     * fine signature of 4K bins at 4 bits, 0xF marking an empty bin;
     * K-permutation MinHash its K values at 16 bits; SimHash its 64 bits. */
    uint32_t sig_bytes, vk, vbits;
    uint32_t nkeys; /* band keys per document */
    /* The news/web pair rule (cluster/decide.h) decides MinHash pairs:
     * each document's figures fingerprint (fig_bytes) follows its
     * verification data, rec_bytes = sig_bytes + fig_bytes in all. */
    bool rule;
    uint32_t fig_bytes, rec_bytes;
    /* The rule's contained-copy and flash keys: lead words (lead_bytes,
     * after the figures in the verification data) and up to WN_ANCHOR_CAP
     * anchors per document (0 without the rule). */
    uint32_t lead_bytes, anchor_cap;
    struct wn_quality_params qp;
    uint32_t bands, rows;
    bool need_sets;   /* exact verification: sorted shingle sets */
    bool need_unique; /* shingle counts are of distinct shingles */
    uint64_t id;      /* wn_sketcher_id */
};

struct wn_sketch {
    const struct wn_sketcher *sk;
    bool valid, decoded, empty;
    uint64_t h[2];
    uint64_t tokens, invalid;
    uint32_t nsh;   /* shingles, capped at UINT32_MAX */
    uint64_t *keys; /* nkeys */
    uint8_t *vdata; /* rec_bytes: signature, figures, lead words */
    uint64_t *anch; /* anchors (sk->anchor_cap), ascending */
    uint32_t nanch;
    uint32_t *sig;  /* num_perm values (SimHash: 2) */
    uint32_t *fine; /* OPH: vk + 1 fine bins */
    uint64_t *sh;   /* shingle hashes; the sorted set when need_sets */
    size_t nset;    /* entries of sh that are the shingles */
    size_t shcap;
    struct wn_tokens tok;
};

/* The options wn_dedup_run refuses (WN_EINVAL); keep_field is required
 * for WN_KEEP_MAX only when need_keep_field. */
WN_INTERNAL int wn__dedup_validate(const struct wn_dedup_options *o,
                                   bool need_keep_field);
/* Fill sk (caller's storage) from validated options. */
WN_INTERNAL int wn__sketcher_init(struct wn_sketcher *sk,
                                  const struct wn_dedup_options *o);
/* wn_sketch_create into caller's storage; wn__sketch_release frees it. */
WN_INTERNAL int wn__sketch_init(struct wn_sketch *s,
                                const struct wn_sketcher *sk);
WN_INTERNAL void wn__sketch_release(struct wn_sketch *s);
#ifdef WN_TEST_HOOKS
/* Sketch every text longer than n bytes in pieces of n (0: the default,
 * pieces of 256 KiB above 1 MiB), as WINNOW_TEST_SKETCH_CHUNK=n does
 * (sketcher.c). Process-wide; for tests. */
WN_INTERNAL void wn__sketch_set_chunk(size_t n);
#endif

/* ------------------------------------------------------------------------ */
/* verify.c                                                                  */
/* ------------------------------------------------------------------------ */

/* The similarity of a pair as the verification sees it. */
struct wn_pair_sim {
    double jac;    /* Jaccard (SimHash: 1 - Hamming / 64) */
    double cont;   /* containment of the smaller in the larger */
    double a_in_b; /* |A n B| / |A| */
    double b_in_a; /* |A n B| / |B| */
};

/* From two documents' verification data (sig_bytes each) and shingle
 * counts. */
WN_INTERNAL void wn__verify_data(const struct wn_sketcher *sk,
                                 const uint8_t *sa, const uint8_t *sb,
                                 uint32_t na, uint32_t nb,
                                 struct wn_pair_sim *out);
/* The counts of the 4-bit fine bins of wn__verify_data over bins [0, vk)
 * of sa and sb: c[0] bins not empty in both, c[1] filled in both, c[2]
 * filled in a and equal. simd: the AVX-512 loop where the CPU has it (and
 * WINNOW_NO_SIMD is unset), else the portable one; the same counts. */
WN_INTERNAL void wn__verify_bins(const uint8_t *sa, const uint8_t *sb,
                                 uint32_t vk, bool simd, uint32_t c[3]);
/* From two sorted shingle sets (exact verification). */
WN_INTERNAL void wn__verify_sets(const uint64_t *a, size_t na,
                                 const uint64_t *b, size_t nb,
                                 struct wn_pair_sim *out);
/* The news/web rule on a pair of this similarity (from the verification
 * data or the sets): wn__quality_decide with the figures fingerprints fa,
 * fb (fig_bytes each, the lead words after them) and the shingle counts as
 * the sizes; the flash test weighs words by wt (NULL: it does not pass). */
WN_INTERNAL void wn__verify_rule(const struct wn_sketcher *sk,
                                 const struct wn_words *wt, const uint8_t *fa,
                                 const uint8_t *fb, uint32_t na, uint32_t nb,
                                 const struct wn_pair_sim *sim,
                                 struct wn__quality_verdict *v);
/* enum wn_figures_agreement of the rule's agreement. */
WN_INTERNAL int wn__figures_public(enum wn_fig_agreement g);
/* The rule: whether a pair of this similarity is an edge. */
WN_INTERNAL bool wn__verify_accept(const struct wn_sketcher *sk,
                                   const struct wn_pair_sim *s);
/* enum wn_reason of a duplicate (exact: equal hashes). */
WN_INTERNAL int wn__verify_reason(const struct wn_sketcher *sk, bool exact,
                                  const struct wn_pair_sim *s);

/* ------------------------------------------------------------------------ */
/* The document table and the spill files (pass1.c)                          */
/* ------------------------------------------------------------------------ */

enum { WN_DOC_EMPTY = 1 };

/* Per document, in input order among accepted records. */
struct wn_docs {
    size_t n;     /* committed */
    size_t nfill; /* numbered so far (committed or in a batch) */
    size_t cap;   /* of every array below (set_off: cap + 1) */
    /* Shingles of each, read back from their spill through pages
     * (wn__doc_nsh), from the exact stage on. */
    struct wn_u32_pages *nsh;
    /* Spilled (wn_spills): text bytes (u32 each), --keep-max values
     * (double each, WN_KEEP_MAX only), the empty texts' numbers (a
     * wn_docno each, in host order). */
    int tlen_fd, keyval_fd, empty_fd;
    /* The ids are in spill files (wn_spills.id_f, idend_f): their bytes,
     * and the end of each id among them (le64 of this host). */
    uint64_t ids_len; /* bytes of the ids so far */
    int id_fd, idend_fd;
    uint64_t *set_off; /* n + 1, exact verification */
};

/* Spilled per document: the verification data (sig_bytes each) to one
 * file, band keys to one file per band, shingle sets to one file. */
struct wn_spills {
    FILE *hash_f;         /* the 128-bit exact hashes, 16 bytes a document */
    FILE *id_f, *idend_f; /* ids: bytes; ends (8 bytes a document) */
    FILE *tlen_f, *keyval_f, *empty_f; /* wn_docs's tlen_fd, ... */
    FILE *nsh_f; /* shingle counts, u32 each (wn_docs.nsh) */
    FILE *sig_f;
    /* The rule's anchors: (key, document) entries of WN_ANCHOR_ENTRY bytes
     * (le64, and the document's le32 or le64), by the key's top bits into
     * WN_ANCHOR_FILES files, so that the join holds one at a time. */
    FILE *anch_f[WN_ANCHOR_FILES];
    FILE **key_f; /* nkeys */
    uint32_t nkeys;
    FILE *set_f;
    /* The stdio buffers of the band files, the anchors' staged entries
     * (WN_ANCHOR_FILES slices of keybuf, anch_fill bytes each), and the
     * stdio buffers of the others (freed after their files are closed). */
    unsigned char *keybuf, *recbuf, *anch_stage;
    size_t anch_fill[WN_ANCHOR_FILES];
};

WN_INTERNAL int wn__spills_open(struct wn_spills *sp,
                                const struct wn_sketcher *sk,
                                struct wn_frame *frame);
/* Flush for reading back with pread. */
WN_INTERNAL int wn__spills_flush(struct wn_spills *sp);
/* Close the band-key and anchor spills (the joins are done): their pages
 * leave the page cache, which the outputs' writes then reuse (fresh pages
 * cost about 3 times as much to write here). */
WN_INTERNAL void wn__spills_close_keys(struct wn_spills *sp);
WN_INTERNAL void wn__spills_close(struct wn_spills *sp);
WN_INTERNAL void wn__docs_release(struct wn_docs *d);

/* The id of document i (flushed spills), read into b: *id (in b, or a
 * static "" when empty) and *len. WN_OK or an I/O status. */
WN_INTERNAL int wn__doc_id_read(const struct wn_docs *d, size_t i,
                                struct wn_buf *b, const char **id, size_t *len);

/* Ids read in input order a block at a time. */
#define WN_ID_CURSOR_ENDS 512u
struct wn_id_cursor {
    const struct wn_docs *d;
    uint64_t
        ends[WN_ID_CURSOR_ENDS]; /* ends of documents [ebase, ebase + en) */
    size_t ebase, en;
    char *blk; /* id bytes [bbase, bbase + blen) */
    uint64_t bbase;
    size_t blen;
    struct wn_buf big; /* an id longer than the block */
};

WN_INTERNAL int wn__id_cursor_init(struct wn_id_cursor *c,
                                   const struct wn_docs *d);
/* The id of document i (i not decreasing between calls for speed; any
 * order works), valid until the next call. */
WN_INTERNAL int wn__id_cursor_get(struct wn_id_cursor *c, size_t i,
                                  const char **id, size_t *len);
WN_INTERNAL void wn__id_cursor_release(struct wn_id_cursor *c);

/*
 * A per-record array of u32 read from a spill file through a two-way set
 * associative cache of 2 * WN_PAGE_SETS pages of WN_PAGE entries (512 KiB
 * in all; a page of each way per set, the one used less lately replaced):
 * the verification reads shingle counts of the a and b windows it walks,
 * a few pages at a time. Not thread-safe. A failed read gives 0 and
 * leaves its status in err, which the caller checks after the stage.
 */
#define WN_PAGE      4096u
#define WN_PAGE_SETS 16u
struct wn_u32_pages {
    int fd;
    size_t n;
    uint64_t tag[WN_PAGE_SETS][2]; /* page number + 1 held, 0: none */
    uint8_t recent[WN_PAGE_SETS];  /* the way used last */
    uint32_t data[WN_PAGE_SETS][2][WN_PAGE];
    int err;
};

/* Load page into the way of set not used last; returns the way. */
WN_INTERNAL unsigned wn__u32_pages_load(struct wn_u32_pages *p, size_t set,
                                        uint64_t page);

static inline uint32_t wn__doc_nsh(const struct wn_docs *d, size_t i)
{
    struct wn_u32_pages *p = d->nsh;
    uint64_t page = i / WN_PAGE;
    size_t set = (size_t)(page % WN_PAGE_SETS);
    unsigned way = p->tag[set][0] == page + 1 ? 0
                   : p->tag[set][1] == page + 1
                       ? 1
                       : wn__u32_pages_load(p, set, page);
    p->recent[set] = (uint8_t)way;
    return p->data[set][way][i % WN_PAGE];
}

struct wn_batch;

/* Pass 1: what it writes to and what it counts. */
struct wn_pass1 {
    const struct wn_sketcher *sk;
    struct wn_pool *pool;
    struct wn_docs *docs;
    struct wn_spills *sp;
    bool keep_max;
    struct wn_sketch *scratch; /* one per pool slot */
    unsigned nscratch;
    struct wn_batch *batches;
    size_t nbatches;
    struct wn_batch *fill; /* being filled, or NULL */
    size_t *ring;          /* batches in flight, oldest first */
    size_t ring_head, ring_n;
    uint64_t invalid_utf8, empty_docs, keep_missing;
    struct wn_cms *words; /* the rule's word counts (lead words), or NULL */
    uint64_t anchors[WN_ANCHOR_FILES]; /* entries in each anchor spill */
    /* Sketches given to wn__pass1_add_sketch are another process's
     * (lib/dist), which keeps their verification records, anchors and
     * lead words: none is spilled or counted here, so the verification
     * spill holds only the documents sketched here, in their order. */
    bool remote;
    /* Their band keys are joined by the processes that made them (lib/
     * dist's key exchange): none is spilled here, so the key files hold
     * only the documents sketched here, in their order. */
    bool remote_keys;
    /* Their exact hashes stay with the processes that made them (lib/
     * dist's exact stage, wn_dedup_source.exact): the hash file holds only
     * the documents sketched here, in their order. */
    bool remote_hashes;
};

WN_INTERNAL int wn__pass1_init(struct wn_pass1 *p, const struct wn_sketcher *sk,
                               struct wn_pool *pool, struct wn_docs *docs,
                               struct wn_spills *sp, bool keep_max);
/*
 * Number the next accepted record (its document number is docs->nfill)
 * and queue its text for sketching. Returns WN_OK, 1 when it filled a
 * batch that went to the pool, or an error status.
 */
WN_INTERNAL int wn__pass1_add(struct wn_pass1 *p,
                              const struct wn_dedup_record *rec);
/* Number the next accepted record with its sketch s (valid, of p->sk),
 * computed elsewhere (another MPI rank, lib/dist): committed at once,
 * after everything queued before it (with p->remote_keys, without its band
 * keys; with p->remote, without its verification record, anchors and lead
 * words). WN_OK or an error status. */
WN_INTERNAL int wn__pass1_add_sketch(struct wn_pass1 *p,
                                     const struct wn_dedup_record *rec,
                                     const struct wn_sketch *s);
/* Sketch and commit everything queued; docs->n == docs->nfill after. */
WN_INTERNAL int wn__pass1_finish(struct wn_pass1 *p);
/* Wait for batches in flight and free everything. */
WN_INTERNAL void wn__pass1_release(struct wn_pass1 *p);

/* ------------------------------------------------------------------------ */
/* exact.c, candidates.c, verify.c, clusters.c                               */
/* ------------------------------------------------------------------------ */

static inline void wn__bit_set(uint8_t *bm, size_t d)
{
    bm[d >> 3] |= (uint8_t)(1u << (d & 7));
}

static inline bool wn__bit_get(const uint8_t *bm, size_t d)
{
    return bm[d >> 3] >> (d & 7) & 1;
}

/* Pairs as entries of a sorted run (runs.h) of WN_PAIR_WORDS words each:
 * the packed pair itself with 32-bit numbers, a then b with 64-bit ones, so
 * that the runs' order (by words in turn) is the pairs' order. */
#define WN_PAIR_WORDS (WN_DOCNO_BITS / 32)
static inline void wn__pair_words(wn_docpair p, uint64_t *w)
{
#ifdef WN_WIDE_DOCS
    w[0] = wn__pair_a(p);
    w[1] = wn__pair_b(p);
#else
    w[0] = p;
#endif
}

static inline wn_docpair wn__pair_of_words(const uint64_t *w)
{
#ifdef WN_WIDE_DOCS
    return wn__pair(w[0], w[1]);
#else
    return w[0];
#endif
}

/* Rewrite pairs v[0, n) in place as run entries (wn__pair_words), for
 * wn__runs_add_run; they are not pairs any more after. */
static inline void wn__pairs_to_words(wn_docpair *v, size_t n)
{
#ifdef WN_WIDE_DOCS
    for (size_t i = 0; i < n; i++) {
        uint64_t w[2];
        wn__pair_words(v[i], w);
        memcpy(&v[i], w, sizeof(w));
    }
#else
    (void)v;
    (void)n;
#endif
}

/* Records whose id an earlier record has. */
WN_INTERNAL int wn__count_duplicate_ids(struct wn_frame *f,
                                        const struct wn_docs *d,
                                        uint64_t budget, uint64_t *count);
/* The exact groups of two or more: every member but the first, ascending,
 * with the first of its group (8 bytes per exact copy, none per record). */
struct wn_egroups {
    wn_docno *doc, *first;
    size_t n, cap;
};

/* Append (doc, first) to e: doc a copy in the group whose first is first
 * (callers add them by document; lib/dist/exact.c). */
WN_INTERNAL int wn__egroups_add(struct wn_egroups *e, wn_docno doc,
                                wn_docno first);

/* The first document of d's exact group (d itself when it has none). */
static inline wn_docno wn__egroup_of(const struct wn_egroups *e, wn_docno d)
{
    size_t lo = 0, hi = e->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->doc[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->n && e->doc[lo] == d ? e->first[lo] : d;
}

WN_INTERNAL void wn__egroups_release(struct wn_egroups *e);

/* Group documents with equal 128-bit hashes, read from hash_fd (16 bytes
 * for each of n documents, flushed), sorted within budget bytes (spills
 * in f's spill directory) into *eg; all but the first of each group get
 * their bit in skip. */
WN_INTERNAL int wn__stage_exact(struct wn_frame *f, int hash_fd, size_t n,
                                uint64_t budget, struct wn_egroups *eg,
                                uint8_t *skip);

/* What the band join reads and how it may run. */
struct wn_join_in {
    size_t n;            /* documents */
    const uint8_t *skip; /* documents left out */
    FILE *const *key_f;  /* nkeys band files, flushed */
    uint32_t nkeys;
    uint32_t bucket_all_pairs;
    uint64_t memory; /* budget; 0: wn__join_budget's default */
    volatile int *cancel;
    /* NULL, or where a worker's pair list goes as a sorted run once it
     * holds more than pair_cap pairs (under the budget, runs.h); the
     * lists are then all there at the end and *pairs is empty unless
     * nothing went (pair_runs->f NULL). */
    struct wn_runs *pair_runs;
    size_t pair_cap;
};

/* The run's memory budget (dedupjob.c): memory when set, else a quarter
 * of physical RAM (WN_RUN_BUDGET_SHARE). The sorted runs of the exact
 * stage and the count of duplicate ids take all of it. */
#define WN_RUN_BUDGET_SHARE 4u
WN_INTERNAL uint64_t wn__run_budget(uint64_t memory);

/* The joins' memory budget: memory when set, else 16 bytes per record of
 * n, at least 8 MiB and at most 1 GiB. */
WN_INTERNAL uint64_t wn__join_budget(uint64_t memory, size_t n);

/* Distinct candidate pairs (wn__pair(a, b), a < b, sorted) in *pairs. */
WN_INTERNAL int wn__stage_candidates(const struct wn_join_in *in,
                                     struct wn_pool *pool, wn_docpair **pairs,
                                     size_t *npairs, struct wn_join_stats *st);

/*
 * The rule's own candidates (docs/QUALITY.md, phase 3), appended to a pair
 * list: the anchor join (documents sharing an anchor, buckets of more than
 * anchor_bucket_max documents skipped as boilerplate) and the flash join
 * (a short document's probes against the offers of the documents in its
 * block of WN_FLASH_BLOCK and the two beside it, >= 2 words met).
 */
#define WN_FLASH_BLOCK 2048u
/* An anchor held by more records than this is boilerplate: its bucket makes
 * no candidates; a pair must share WN_ANCHOR_HITS anchors (or as many as the
 * one with fewer has) to be a candidate (docs/QUALITY.md, phase 3). */
#define WN_ANCHOR_BUCKET_MAX 8u
#define WN_ANCHOR_HITS       2u
struct wn_flash_reader;
struct wn_rule_join_in {
    const struct wn_sketcher *sk;
    size_t n; /* documents */
    const struct wn_docs *docs;
    const uint8_t *skip;   /* documents left out */
    FILE *const *anch_f;   /* the anchor spills, flushed */
    const uint64_t *nanch; /* entries in each */
    int sig_fd;            /* the verification records (lead words) */
    const struct wn_words *wt;
    uint32_t anchor_bucket_max;
    uint32_t anchor_hits; /* anchors a pair must share (at most either's) */
    uint64_t memory;      /* budget; 0: 1 GiB */
    volatile int *cancel;
    /* NULL, or where the flash join reads its documents instead of sig_fd
     * and docs (lib/dist: each rank joins the blocks it owns). */
    const struct wn_flash_reader *flash;
};
struct wn_rule_join_stats {
    uint64_t anchor_pairs, anchor_skipped; /* pairs; buckets over the cap */
    uint64_t probes, flash_pairs;
};
WN_INTERNAL int wn__stage_rule_candidates(const struct wn_rule_join_in *in,
                                          wn_docpair **pairs, size_t *npairs,
                                          size_t *cap,
                                          struct wn_rule_join_stats *st);

/* The anchors a pair must share to be a candidate: hits (at least 1), or
 * as many as the one with fewer anchors has (na, nb). */
static inline uint32_t wn__anchor_want(uint32_t hits, uint32_t na, uint32_t nb)
{
    uint32_t need = hits ? hits : 1;
    return WN_MIN(need, WN_MIN(na, nb));
}
/*
 * The buckets of the anchor join over entries v[0, m) grouped by key
 * (wn__keydoc_group): for every two entries of distinct documents in a
 * bucket of at most bucket_max entries, emit(ud, a, b), a before b in v
 * (once per shared anchor: the caller counts them against
 * wn__anchor_want); a bigger bucket is boilerplate, counted in
 * st->anchor_skipped. The first status emit returns stops it.
 * (candidates.c; lib/dist joins each rank's key range with it.)
 */
WN_INTERNAL int wn__anchor_buckets(
    const struct wn_keydoc *v, size_t m, uint32_t bucket_max,
    int (*emit)(void *ud, const struct wn_keydoc *a, const struct wn_keydoc *b),
    void *ud, struct wn_rule_join_stats *st);
/* Sort the anchor join's raw pairs (once per shared anchor) and keep at
 * most keep copies of each (more decide nothing): the new count. */
WN_INTERNAL size_t wn__anchor_raw_compact(wn_docpair *raw, size_t n,
                                          uint32_t keep);
/* Where the flash join reads its documents (wn_rule_join_in.flash). */
struct wn_flash_reader {
    /* The verification records (rec_bytes each, of which only the lead
     * words are read) of documents [lo, hi) into rec, their shingle counts
     * into nsh; a document in skip may be given as anything. */
    int (*read)(void *ud, size_t lo, size_t hi, uint8_t *rec, uint32_t *nsh);
    /* Whether this process joins block b (it must then be able to read
     * blocks b - 1 to b + 1): the others' probes are not counted. */
    bool (*mine)(void *ud, uint64_t b);
    void *ud;
};
/* The flash join alone (the second half of wn__stage_rule_candidates). */
WN_INTERNAL int wn__flash_join(const struct wn_rule_join_in *in,
                               wn_docpair **pairs, size_t *npairs, size_t *cap,
                               struct wn_rule_join_stats *st);

/* Similarity of two documents read back from the spill files. */
struct wn_pair_verifier {
    const struct wn_sketcher *sk;
    const struct wn_words *wt; /* the flash test's word counts, or NULL */
    const struct wn_docs *docs;
    int sig_fd, set_fd;
    uint8_t *sa, *sb;
    uint64_t *xa, *xb;
    size_t xacap, xbcap;
};

WN_INTERNAL int wn__pair_verifier_init(struct wn_pair_verifier *v,
                                       const struct wn_sketcher *sk,
                                       const struct wn_docs *docs,
                                       const struct wn_spills *sp);
WN_INTERNAL int wn__pair_similarity(struct wn_pair_verifier *v, wn_docno a,
                                    wn_docno b, struct wn_pair_sim *out);

/* A pair decided by the sketcher's rule. */
struct wn_pair_decision {
    struct wn_pair_sim s;
    bool same;
    int reason;  /* enum wn_reason (WN_REASON_NONE when !same) */
    int figures; /* enum wn_figures_agreement */
    /* the smaller record (by shingles) is mostly inside the other: the
     * star clustering keeps the larger */
    bool a_contained, b_contained;
};

/* The similarity and the verdict of documents a, b (not exact copies). */
WN_INTERNAL int wn__pair_decide(struct wn_pair_verifier *v, wn_docno a,
                                wn_docno b, struct wn_pair_decision *out);
WN_INTERNAL void wn__pair_verifier_release(struct wn_pair_verifier *v);

/* Verify the pairs whose documents are still apart; union the edges. */
WN_INTERNAL int wn__stage_verify(struct wn_pair_verifier *v,
                                 const wn_docpair *pairs, size_t npairs,
                                 struct wn_uf *uf, volatile int *cancel,
                                 uint64_t *verified, uint64_t *edges);

/* The verified edges of the pair rule, for the star clustering: pair
 * (wn__pair(a, b), a < b, ascending) and which side is the contained one. */
/* What removed.jsonl says of an edge's pair when it is a removal's
 * (dedupjob.c): the edge's own verdict, kept so that the fates need not
 * read the two records again. */
struct wn_edge_sim {
    double jac, cont;
    int16_t figures, reason; /* reason -1: not known */
};

struct wn_edges {
    wn_docpair *pair;
    uint8_t *flag; /* 1: a is contained in b, 2: b in a */
    struct wn_edge_sim *sim;
    size_t n, cap;
};

/* The verdict of edge (a, b), a < b, from e (pairs ascending, as
 * wn__stage_verify_edges emits them), or NULL if it is not an edge. */
WN_INTERNAL const struct wn_edge_sim *wn__edges_find(const struct wn_edges *e,
                                                     wn_docno a, wn_docno b);

/* Verify every pair (the rule's edges are not transitive) into e. */
WN_INTERNAL int wn__stage_verify_edges(struct wn_pair_verifier *v,
                                       const wn_docpair *pairs, size_t npairs,
                                       volatile int *cancel, uint64_t *verified,
                                       struct wn_edges *e);
WN_INTERNAL void wn__edges_release(struct wn_edges *e);
/* Append pair p (after e's last) with its flag and verdict to e; sim NULL
 * when the verdict is not at hand (lib/dist: the fates then ask for it). */
WN_INTERNAL int wn__edge_push(struct wn_edges *e, wn_docpair p, uint8_t flag,
                              const struct wn_edge_sim *sim);
/* The edge flag of an accepted pair's decision (1, 2, or 0). */
WN_INTERNAL uint8_t wn__edge_flag(const struct wn_pair_decision *d);
/* The verdict of a pair from its two verification records (rec_bytes
 * each) and shingle counts, without the spill files (lib/dist verifies at
 * the records' owners): what wn__pair_decide gives for documents with
 * those records. Not for exact verification (need_sets). */
WN_INTERNAL void wn__verify_records(const struct wn_sketcher *sk,
                                    const struct wn_words *wt,
                                    const uint8_t *ra, const uint8_t *rb,
                                    uint32_t na, uint32_t nb,
                                    struct wn_pair_decision *out);

/*
 * Clusters over the records that can be in one (clusters.c): those of an
 * exact group of two or more or on a verified edge (the union-find's
 * components of two or more with the classic rule), doc[0, m) ascending;
 * every other record is its own representative, in no cluster. Indices
 * below are into doc.
 */
struct wn_clustering {
    wn_docno *doc; /* the records in play, ascending */
    size_t m;
    wn_docno *root; /* index of each one's root (center) */
    wn_docno *rep;  /* representative (a document number), by root index */
    wn_docno *cid;  /* cluster number + 1, by root index; 0: singleton */
    wn_docno *size; /* component size, by root index */
    uint64_t nclusters;
    /* The ids of the records in play, by index (wn__clustering_load_ids):
     * id k is id_bytes[id_off[k], id_off[k + 1]); NULL when they were
     * over their share of the budget (then read from the spill). */
    uint64_t *id_off;
    char *id_bytes;
};

/* The ids of c's records in play, read from the spill in one pass in input
 * order, if their bytes and offsets fit in budget (else c->id_off stays
 * NULL, which is no error): the fates' representatives and clusters.jsonl
 * then take them from memory instead of two reads each. */
WN_INTERNAL int wn__clustering_load_ids(const struct wn_docs *d,
                                        struct wn_clustering *c,
                                        uint64_t budget);
/* The id of record k in play (c->id_off set). */
static inline const char *wn__clustering_id(const struct wn_clustering *c,
                                            size_t k, size_t *len)
{
    *len = (size_t)(c->id_off[k + 1] - c->id_off[k]);
    return c->id_bytes + c->id_off[k];
}

/* The index of document d in c->doc, or SIZE_MAX when d is not in play. */
WN_INTERNAL size_t wn__clustering_index(const struct wn_clustering *c,
                                        wn_docno d);

/* From the union-find (classic rule): roots are first members. */
WN_INTERNAL int wn__clustering_build(const struct wn_docs *d, int keep,
                                     struct wn_uf *uf, struct wn_clustering *c);
/*
 * Star clustering (docs/QUALITY.md): a record contained in another on a
 * verified edge is demoted; centers are taken non-demoted first, then in
 * the order of the keep rule (first: input order; longest: longer first;
 * max: larger value first; ties in input order); a center absorbs every
 * unassigned neighbour on an edge except one that contains it. Exact
 * copies follow the first of their group (eg).
 * So every removed record is on a verified edge with its representative.
 */
WN_INTERNAL int wn__clustering_star(const struct wn_docs *d, int keep,
                                    const struct wn_egroups *eg,
                                    const struct wn_edges *e,
                                    struct wn_clustering *c);
WN_INTERNAL void wn__clustering_release(struct wn_clustering *c);

/* ------------------------------------------------------------------------ */
/* dedupjob.c: the job                                                       */
/* ------------------------------------------------------------------------ */

struct wn_dedup_job {
    struct wn_dedup_options o;
    struct wn_sketcher sk;
    struct wn_frame own; /* spill-only frame of an in-memory job */
    struct wn_frame *frame;
    struct wn_pool *pool;
    struct wn_docs docs;
    struct wn_spills sp;
    struct wn_pass1 p1;
    struct wn_uf uf; /* classic rule only: exact groups and edges */
    struct wn_egroups eg;
    struct wn_clustering c;
    struct wn_pair_verifier ver;
    bool have_ver;
    /* The rule's edges with their verdicts, from the verification to the
     * fates (a removal's similarity is its edge's; flags freed). */
    struct wn_edges edges;
    /* The band join, when not wn__stage_candidates (lib/dist: the join
     * across MPI ranks, wn_dedup_source.join), with join_ud. */
    int (*join)(void *ud, const struct wn_join_in *in, wn_docpair **pairs,
                size_t *npairs, struct wn_join_stats *st);
    void *join_ud;
    /* The rule's anchor and flash joins, when not
     * wn__stage_rule_candidates (lib/dist: across the ranks,
     * wn_dedup_source.rule_join), with join_ud. */
    int (*rule_join)(void *ud, const struct wn_rule_join_in *in,
                     struct wn_cms *words, wn_docpair **pairs, size_t *npairs,
                     size_t *cap, struct wn_rule_join_stats *st);
    /* The verification and the removals' verdicts, when not from the
     * spill files (lib/dist: at the records' owners,
     * wn_dedup_source.verify and .decide), with join_ud. */
    int (*verify)(void *ud, struct wn_pair_verifier *v, const wn_docpair *pairs,
                  size_t npairs, struct wn_uf *uf, uint64_t *verified,
                  uint64_t *edges, struct wn_edges *e);
    int (*decide)(void *ud, wn_docno a, wn_docno b, struct wn_pair_decision *d);
    /* The joins and verification with the pairs kept at their owners,
     * when set and the rule is the pair rule (lib/dist,
     * wn_dedup_source.join_owned and .verify_owned), with join_ud. */
    int (*join_owned)(void *ud, const struct wn_join_in *in,
                      const struct wn_rule_join_in *rin, struct wn_cms *words,
                      uint64_t *candidates, struct wn_join_stats *st,
                      struct wn_rule_join_stats *rst);
    int (*verify_owned)(void *ud, struct wn_pair_verifier *v,
                        struct wn_edges *e);
    /* The exact stage, when not wn__stage_exact (lib/dist: across the
     * ranks, wn_dedup_source.exact), with join_ud. */
    int (*exact)(void *ud, int hash_fd, size_t n, struct wn_egroups *eg,
                 uint8_t *skip);
    struct wn_cms words; /* the rule's word counts (have_words) */
    bool have_words;
    struct wn_words wt;
    struct wn_rule_join_stats rule_st;
    int state; /* 0 adding, 1 decided, 2 done */
    int failed;
    uint64_t text_bytes;
    double t0;
    struct wn_dedup_report rep;
};

/* Copy the options (valid: wn__dedup_validate) and choose the parameters:
 * WN_EINVAL for a banding the job cannot hold, before anything exists.
 * wn__dedup_job_release() is due whatever this returns. */
WN_INTERNAL int wn__dedup_job_configure(struct wn_dedup_job *j,
                                        const struct wn_dedup_options *opts);
/* Start a configured job on a run's frame (spill files, pool), or on its
 * own (frame NULL: a spill-only frame in opts->tmp_dir). */
WN_INTERNAL int wn__dedup_job_start(struct wn_dedup_job *j,
                                    struct wn_frame *frame);
/* Add one record: WN_OK, 1 when it filled a batch (a moment to report
 * progress), or a status (the job is failed from then on). */
WN_INTERNAL int wn__dedup_job_add(struct wn_dedup_job *j,
                                  const struct wn_dedup_record *rec);
/* wn__dedup_job_add for a record already sketched (s, of the job's
 * sketcher): WN_OK or a status (the job is failed from then on). */
WN_INTERNAL int wn__dedup_job_add_sketch(struct wn_dedup_job *j,
                                         const struct wn_dedup_record *rec,
                                         const struct wn_sketch *s);
/* Pass 1 done: the exact stage, join, verification, clustering. */
WN_INTERNAL int wn__dedup_job_decide(struct wn_dedup_job *j);
/* Every fate in input order (after decide). */
WN_INTERNAL int wn__dedup_job_fates(struct wn_dedup_job *j,
                                    int (*on_fate)(void *ud,
                                                   const struct wn_fate *f),
                                    void *ud);
WN_INTERNAL void wn__dedup_job_release(struct wn_dedup_job *j);

/* ------------------------------------------------------------------------ */
/* outputs.c                                                                 */
/* ------------------------------------------------------------------------ */

/* The removed.jsonl line of a removed record's fate, appended to b. */
WN_INTERNAL int wn__removed_line(const struct wn_sketcher *sk,
                                 const struct wn_fate *f, struct wn_buf *b);
/* clusters.jsonl: every cluster of 2 or more, members in input order. */
WN_INTERNAL int wn__write_clusters(const struct wn_docs *d,
                                   const struct wn_clustering *c,
                                   struct wn_outfile *o);
/* stats.json of a dedup run. */
WN_INTERNAL int wn__write_dedup_stats(const struct wn_dedup_job *j,
                                      const struct wn_frame *f,
                                      unsigned threads, struct wn_outfile *o);

/* ------------------------------------------------------------------------ */
/* pass2.c: the file consumer of the fates                                   */
/* ------------------------------------------------------------------------ */

/* What pass 1 of wn_dedup_run notes for pass 2, besides the job. */
struct wn_input_map {
    size_t ninputs;
    /* Per input: documents numbered from it, whether every one came from
     * an uncompressed JSONL file, and its size and change time. */
    uint64_t *in_docs;
    bool *in_plain;
    struct stat *in_stat;
    /* Per document, in a spill file (not in memory: 12 bytes a record
     * for the whole run): where its record's bytes are in its input, an
     * offset (le64) and a length (le32), for pass 2 to copy kept records
     * without reading them. NULL when the spill could not be made. */
    FILE *places;
    uint64_t nplaces;
    /* Ordinals among all records read of the rejected ones, ascending. */
    uint64_t *rej;
    size_t nrej, rejcap;
};

#define WN_PLACE_BYTES 12u

/* Where document d's record is (wn_input_map.places, flushed): WN_OK, or
 * an I/O status. *off and *len are set only on success. */
WN_INTERNAL int wn__input_map_place(const struct wn_input_map *m, uint64_t d,
                                    uint64_t *off, uint32_t *len);

/* The outputs pass 2 writes. */
/*
 * An observer of wn_dedup_run (the report of lib/report, gather.c), called
 * on the run's thread; any member may be NULL. output is one more output
 * name, published with the others (before stats.json). start: after the
 * frame and the input map exist; record: each accepted record of pass 1
 * with its document number; decided: the job decided (clusters made);
 * fate: each fate of pass 2, with the record as read again (raw only) or
 * NULL when pass 2 copies by offsets; finish: stats.json is written (not
 * flushed), out is the observer's output. A non-zero return stops the run.
 */
struct wn_dedup_observer {
    const char *output;
    void *ud;
    int (*start)(void *ud, const struct wn_frame *f,
                 const struct wn_input_map *m);
    int (*record)(void *ud, uint64_t doc, const struct wn_record *rec);
    int (*decided)(void *ud, const struct wn_dedup_job *j);
    int (*fate)(void *ud, const struct wn_fate *f, const struct wn_record *rec);
    int (*finish)(void *ud, const struct wn_frame *f,
                  const struct wn_input_map *m, struct wn_outfile *stats,
                  struct wn_outfile *out);
};

struct wn_pass2_out {
    struct wn_outfile *kept, *removed;
    const struct wn_dedup_observer *obs; /* or NULL */
};

/*
 * Give every fate of the job (decided) to the outputs: kept records as the
 * bytes they were read as (a text file's as {"id", "text"}), removed ones
 * as removed.jsonl lines. wn__pass2_copy copies kept records by the
 * offsets pass 1 noted, every input being an uncompressed JSONL file;
 * wn__pass2_read reads the inputs (or their copies) again. WN_ECHANGED
 * when an input no longer gives the records of pass 1.
 */
WN_INTERNAL int wn__pass2_copy(struct wn_dedup_job *j, struct wn_frame *f,
                               const struct wn_input_map *m,
                               const struct wn_pass2_out *out);
WN_INTERNAL int wn__pass2_read(struct wn_dedup_job *j, struct wn_frame *f,
                               const struct wn_input_map *m,
                               const struct wn_pass2_out *out);

/* ------------------------------------------------------------------------ */
/* run.c: wn_dedup_run with records from elsewhere                           */
/* ------------------------------------------------------------------------ */

/*
 * Where pass 1 of a run gets its records when not from a reader over the
 * inputs (lib/dist: records of other MPI ranks). start is called once the
 * frame exists (outputs open, temporary directory made); the source then
 * owns the copies (f->spool) of every input: pass 2 reads those, so it must
 * give every input one. next has wn_reader_next's contract, and sets *s to
 * the record's sketch when it is already computed (else NULL: the job
 * sketches the text). bytes and blank_lines are read after the last next.
 */
struct wn_dedup_source {
    int (*start)(void *ud, struct wn_frame *f);
    int (*next)(void *ud, struct wn_record *rec, const struct wn_sketch **s);
    /* NULL, or the band join to run instead of wn__stage_candidates (the
     * same contract: every candidate pair, sorted and distinct). */
    int (*join)(void *ud, const struct wn_join_in *in, wn_docpair **pairs,
                size_t *npairs, struct wn_join_stats *st);
    void *ud;
    uint64_t bytes, blank_lines;
    /* NULL, or the rule's anchor and flash joins to run instead of
     * wn__stage_rule_candidates (the same contract: the rule's pairs
     * appended to *pairs, *cap its capacity); words are the job's word
     * counts (NULL: none), which it may complete (lib/dist adds every
     * rank's to rank 0's). */
    int (*rule_join)(void *ud, const struct wn_rule_join_in *in,
                     struct wn_cms *words, wn_docpair **pairs, size_t *npairs,
                     size_t *cap, struct wn_rule_join_stats *st);
    /* The sketches next gives are other processes' (lib/dist: other
     * ranks'), which keep their verification records, anchors and lead
     * words: the job spills none of these for them (wn_pass1.remote). */
    bool remote_sketches;
    /* Their band keys are joined where they were made (set with join: the
     * job's key files then hold only the documents it sketched, in their
     * order; wn_pass1.remote_keys). */
    bool remote_keys;
    /* NULL, or the verification to run instead of the job's own: the
     * pairs of the join in order, v the job's verifier (its words set),
     * uf NULL for the pair rule (every accepted pair goes to e with its
     * flag, as wn__stage_verify_edges) or the union-find (the pairs whose
     * documents are still apart are counted in *verified and the accepted
     * ones unioned and counted in *edges, as wn__stage_verify). */
    int (*verify)(void *ud, struct wn_pair_verifier *v, const wn_docpair *pairs,
                  size_t npairs, struct wn_uf *uf, uint64_t *verified,
                  uint64_t *edges, struct wn_edges *e);
    /* NULL, or the verdict of documents a < b for a removed record's fate,
     * instead of wn__pair_decide (called in the fates' order). */
    int (*decide)(void *ud, wn_docno a, wn_docno b, struct wn_pair_decision *d);
    /* NULL, or, for the pair rule (the news/web profiles), the joins and
     * the verification with the candidate pairs kept where they were
     * found, instead of join, rule_join and verify (lib/dist: each pair on
     * the rank that read its first document, which verifies it; only the
     * accepted pairs come to the job). join_owned runs the band join and,
     * with rin (NULL when the sketcher has no lead words), the rule's
     * joins, and gives *candidates the number of distinct pairs; then
     * verify_owned puts every accepted pair in e with its flag, in pair
     * order, as wn__stage_verify_edges would (v: the job's verifier, its
     * words set). */
    int (*join_owned)(void *ud, const struct wn_join_in *in,
                      const struct wn_rule_join_in *rin, struct wn_cms *words,
                      uint64_t *candidates, struct wn_join_stats *st,
                      struct wn_rule_join_stats *rst);
    int (*verify_owned)(void *ud, struct wn_pair_verifier *v,
                        struct wn_edges *e);
    /* NULL, or the exact stage to run instead of wn__stage_exact (the same
     * contract: eg and the bits in skip of every copy but the first;
     * lib/dist: across the ranks, which keep their hashes). hash_fd is the
     * job's spill of hashes, 16 bytes per document it sketched, in their
     * order: the job spills no hash of the sketches next gives as other
     * processes' (wn_pass1.remote_hashes). */
    int (*exact)(void *ud, int hash_fd, size_t n, struct wn_egroups *eg,
                 uint8_t *skip);
    /* NULL, or the --keep max value of rec, a JSON record that next gave
     * without its bytes (raw NULL): NaN when it has none. */
    double (*keep_value)(void *ud, const struct wn_record *rec);
    /* NULL, or what writes kept.jsonl and removed.jsonl from the decided
     * job (every fate, wn__dedup_job_fates) instead of pass 2 (pass2.c). */
    int (*write)(void *ud, struct wn_dedup_job *j, struct wn_frame *f,
                 const struct wn_pass2_out *out);
};

/* A digest of a set of distinct pairs that does not depend on their order
 * or on how they are split (a sum of a mix of each). A -Dtest_hooks=true
 * build with WINNOW_TEST_PAIRS_DIGEST=1 prints the digest of the run's
 * candidate pairs on stderr (wn__test_pairs_digest; the job, or rank 0
 * for lib/dist's pairs kept at their owners), so that a test compares one
 * process's candidates with MPI ranks'. */
static inline uint64_t wn__pairs_digest(const wn_docpair *p, size_t n)
{
    uint64_t s = 0;
    if (!p)
        return s;
    for (size_t i = 0; i < n; i++)
        s += wn__mix64((uint64_t)wn__pair_a(p[i]) * 0x9E3779B97F4A7C15u ^
                       (uint64_t)wn__pair_b(p[i]));
    return s;
}
WN_INTERNAL void wn__test_pairs_digest(uint64_t digest);

/* The keep field of a JSON record: a number, or a string holding one
 * ("100", as some exports write numbers); NaN when absent or not numeric. */
WN_INTERNAL double wn__dedup_keep_value(const char *raw, size_t len,
                                        const char *field);

/* wn_dedup_run with pass 1 fed by src (NULL: read the inputs). */
WN_INTERNAL int wn__dedup_run_source(const char *const *inputs, size_t ninputs,
                                     const char *outdir,
                                     const struct wn_dedup_options *opts,
                                     struct wn_dedup_source *src,
                                     struct wn_dedup_report *rep);
/* wn_dedup_run with an observer (obs may be NULL). */
WN_INTERNAL int wn__dedup_run_observed(const char *const *inputs,
                                       size_t ninputs, const char *outdir,
                                       const struct wn_dedup_options *opts,
                                       const struct wn_dedup_observer *obs,
                                       struct wn_dedup_report *rep);

#endif /* WN_DEDUP_H */
