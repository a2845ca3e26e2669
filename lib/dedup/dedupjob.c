/*
 * dedupjob.c - the dedup job: records in, every record's fate out. Both
 * wn_dedup_run (records from the readers, fates to files) and the public
 * in-memory job (wn_dedup_job_*) are this. The map of the pipeline:
 *
 *   pass 1 (pass1.c): records are numbered in input order and sketched in
 *            batches on the run's pool (sketcher.c), committed in order;
 *            every per-document value (exact hash, id, text length,
 *            shingle count, keep value, empty texts), the verification
 *            data and the band keys (one file per band) go to spill files;
 * then, with no text in memory:
 *   exact:   (exact.c) sort (hash, doc) in runs of the budget (runs.c);
 *            equal 128-bit hashes make exact groups, whose members but the
 *            first leave the near-duplicate join; empty texts are exact
 *            duplicates of each other and nothing else;
 *   join:    (candidates.c) per band, sort (key, doc) and emit candidate
 *            pairs from runs of equal keys (lib/cluster); the budget
 *            splits a band into partitions by key so memory stays bounded,
 *            and pair lists past a quarter of it go to sorted runs;
 *   verify:  (verify.c) each distinct pair (a chunk at a time when they
 *            were spilled) is checked (estimated Jaccard from the
 *            verification data, exact Jaccard from the spilled shingle
 *            sets, optional containment): edges (the pair rule) or unions
 *            (classic);
 *   cluster: (clusters.c) over the records in play only (exact groups,
 *            edges): roots, representatives by the keep rule;
 *   fates:   every document in input order: kept, or removed with its
 *            representative, cluster, similarity to it and reason.
 * wn_dedup_run (run.c) adds the frame, rejected records, clusters.jsonl
 * (outputs.c) and the second pass over the inputs that writes kept and
 * removed records from the fates (pass2.c).
 *
 * Memory (docs/SCALING.md, "Memory on one machine"): --memory bounds the
 * run (wn__run_budget; default a quarter of RAM, at least
 * wn_dedup_memory_min). Per document only the join's skip bitmap (1 bit)
 * stays in memory, and the classic rule's union-find (4 bytes); the
 * records in play take 16 bytes each (45 for the star clustering) and 8
 * per exact copy. The stages add the budget (the join's partitions, a
 * sort's buffer, the pairs' quarter), the verification its windows.
 */
#include "dedup/dedup.h"
#include "dedup/runs.h"
#include "io/outfile.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

enum { JOB_ADDING = 0, JOB_DECIDED = 1, JOB_DONE = 2 };

unsigned wn__u32_pages_load(struct wn_u32_pages *p, size_t set, uint64_t page)
{
    unsigned way = p->recent[set] ^ 1u;
    uint64_t first = page * WN_PAGE;
    size_t k =
        first < p->n ? (size_t)WN_MIN((uint64_t)WN_PAGE, p->n - first) : 0;
    uint32_t *dst = p->data[set][way];
    int rc = k ? wn__pread_full(p->fd, dst, k * sizeof(uint32_t),
                                first * sizeof(uint32_t))
               : WN_EINVAL;
    if (rc) {
        memset(dst, 0, WN_PAGE * sizeof(uint32_t));
        if (!p->err)
            p->err = rc;
        p->tag[set][way] = 0;
        return way;
    }
    p->tag[set][way] = page + 1;
    return way;
}

uint64_t wn__run_budget(uint64_t memory)
{
    if (memory)
        return memory;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    uint64_t ram = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize
                                          : (uint64_t)1 << 32;
    return ram / WN_RUN_BUDGET_SHARE;
}

uint64_t wn_dedup_memory_min(const struct wn_dedup_options *o)
{
    unsigned t = o && o->threads ? o->threads : wn__pool_default_threads();
    /* The band join's partitions of 32 bytes per entry, a block of
     * WN_JOIN_BLOCK entries at least, one per thread at once
     * (wn__join_partitions): below that a band is read once per few
     * records, quadratic. Every other stage needs less (runs.h). */
    return (uint64_t)t * 32 * WN_JOIN_BLOCK;
}

static bool cancelled(const struct wn_dedup_job *j)
{
    return j->o.cancel && *j->o.cancel;
}

int wn__dedup_job_configure(struct wn_dedup_job *j,
                            const struct wn_dedup_options *opts)
{
    memset(j, 0, sizeof(*j));
    j->o = *opts;
    return wn__sketcher_init(&j->sk, opts);
}

int wn__dedup_job_start(struct wn_dedup_job *j, struct wn_frame *frame)
{
    const struct wn_dedup_options *opts = &j->o;
    int rc;
    if (frame) {
        j->frame = frame;
    } else {
        rc = wn__frame_start_spill(&j->own, opts->tmp_dir, opts->cancel,
                                   opts->threads);
        j->frame = &j->own;
        if (rc)
            return rc;
    }
    j->t0 = j->frame->t0;
    rc = wn__frame_pool(j->frame, &j->pool);
    if (!rc)
        rc = wn__spills_open(&j->sp, &j->sk, j->frame);
    if (!rc) {
        j->docs.id_fd = fileno(j->sp.id_f);
        j->docs.idend_fd = fileno(j->sp.idend_f);
        j->docs.tlen_fd = fileno(j->sp.tlen_f);
        j->docs.keyval_fd = fileno(j->sp.keyval_f);
        j->docs.empty_fd = fileno(j->sp.empty_f);
        j->docs.nsh = wn__calloc(1, sizeof(*j->docs.nsh));
        if (!j->docs.nsh)
            rc = WN_ENOMEM;
        else
            j->docs.nsh->fd = fileno(j->sp.nsh_f);
    }
    if (!rc)
        rc = wn__pass1_init(&j->p1, &j->sk, j->pool, &j->docs, &j->sp,
                            opts->keep == WN_KEEP_MAX);
    /* The rule's word counts (the flash test), learned in pass 1. */
    if (!rc && j->sk.lead_bytes) {
        rc = wn__cms_init(&j->words, WN_WORDS_LOG2_WIDTH, WN_WORDS_DEPTH);
        j->have_words = rc == WN_OK;
        j->p1.words = j->have_words ? &j->words : NULL;
    }
    return rc;
}

void wn__dedup_job_release(struct wn_dedup_job *j)
{
    wn__pass1_release(&j->p1);
    if (j->have_ver)
        wn__pair_verifier_release(&j->ver);
    wn__clustering_release(&j->c);
    wn__edges_release(&j->edges);
    wn__uf_release(&j->uf);
    wn__egroups_release(&j->eg);
    wn__docs_release(&j->docs);
    wn__spills_close(&j->sp);
    if (j->have_words)
        wn__cms_release(&j->words);
    j->have_words = false;
    if (j->frame == &j->own)
        wn__frame_release(&j->own);
    j->frame = NULL;
}

int wn__dedup_job_add(struct wn_dedup_job *j, const struct wn_dedup_record *rec)
{
    if (j->state != JOB_ADDING)
        return WN_EINVAL; /* finished, or finishing failed */
    if (j->failed)
        return j->failed;
    int rc = cancelled(j) ? WN_EINTR : wn__pass1_add(&j->p1, rec);
    if (rc < 0)
        j->failed = rc;
    else
        j->text_bytes += rec->text_len;
    return rc;
}

int wn__dedup_job_add_sketch(struct wn_dedup_job *j,
                             const struct wn_dedup_record *rec,
                             const struct wn_sketch *s)
{
    if (j->state != JOB_ADDING)
        return WN_EINVAL;
    if (j->failed)
        return j->failed;
    int rc = cancelled(j) ? WN_EINTR : wn__pass1_add_sketch(&j->p1, rec, s);
    if (rc < 0)
        j->failed = rc;
    else
        j->text_bytes += rec->text_len;
    return rc;
}

/*
 * The ids live in two spill files from pass 1 on (8 bytes + the id per
 * record on disk, nothing in memory): the count of duplicate ids and the
 * fates read them in input order through a cursor, representatives and
 * clusters.jsonl one at a time.
 */
/* Blocks of 4 KiB: small enough that a jump (clusters.jsonl goes from
 * cluster to cluster) costs little, large enough for a scan. */
#define ID_BLOCK (4u << 10)

static int read_ends(const struct wn_docs *d, size_t i, uint64_t *start,
                     uint64_t *end)
{
    uint64_t e[2] = {0, 0};
    int rc = i ? wn__pread_full(d->idend_fd, e, sizeof(e), (i - 1) * 8)
               : wn__pread_full(d->idend_fd, e + 1, 8, 0);
    *start = e[0];
    *end = e[1];
    return rc ? rc : e[1] < e[0] ? WN_EIO : WN_OK;
}

int wn__doc_id_read(const struct wn_docs *d, size_t i, struct wn_buf *b,
                    const char **id, size_t *len)
{
    assert(i < d->n);
    uint64_t s, e;
    int rc = read_ends(d, i, &s, &e);
    size_t n = (size_t)(e - s);
    if (!rc && n == 0) {
        *id = "";
        *len = 0;
        return WN_OK;
    }
    if (!rc && wn__buf_reserve(b, n))
        rc = WN_ENOMEM;
    if (!rc)
        rc = wn__pread_full(d->id_fd, b->data, n, s);
    if (rc)
        return rc;
    b->len = n;
    *id = b->data;
    *len = n;
    return WN_OK;
}

int wn__id_cursor_init(struct wn_id_cursor *c, const struct wn_docs *d)
{
    memset(c, 0, sizeof(*c));
    c->d = d;
    c->blk = wn__malloc(ID_BLOCK);
    return c->blk ? WN_OK : WN_ENOMEM;
}

void wn__id_cursor_release(struct wn_id_cursor *c)
{
    wn__free(c->blk);
    wn__buf_release(&c->big);
    memset(c, 0, sizeof(*c));
}

int wn__id_cursor_get(struct wn_id_cursor *c, size_t i, const char **id,
                      size_t *len)
{
    const struct wn_docs *d = c->d;
    assert(i < d->n);
    int rc;
    /* The ends of i - 1 and i, from the block that holds them. */
    size_t want = i ? i - 1 : 0;
    if (want < c->ebase || i >= c->ebase + c->en) {
        size_t k = WN_MIN((size_t)WN_ID_CURSOR_ENDS, d->n - want);
        rc = wn__pread_full(d->idend_fd, c->ends, k * 8, (uint64_t)want * 8);
        if (rc)
            return rc;
        c->ebase = want;
        c->en = k;
    }
    uint64_t e = c->ends[i - c->ebase];
    uint64_t s = i ? c->ends[i - 1 - c->ebase] : 0;
    if (e < s)
        return WN_EIO;
    size_t n = (size_t)(e - s);
    *len = n;
    if (n == 0) {
        *id = "";
        return WN_OK;
    }
    if (n > ID_BLOCK) {
        if (wn__buf_reserve(&c->big, n))
            return WN_ENOMEM;
        rc = wn__pread_full(d->id_fd, c->big.data, n, s);
        *id = c->big.data;
        return rc;
    }
    if (s < c->bbase || e > c->bbase + c->blen) {
        size_t k = (size_t)WN_MIN((uint64_t)ID_BLOCK, d->ids_len - s);
        rc = wn__pread_full(d->id_fd, c->blk, k, s);
        if (rc)
            return rc;
        c->bbase = s;
        c->blen = k;
    }
    *id = c->blk + (s - c->bbase);
    return WN_OK;
}

/* Verify sorted distinct pairs: the rule's edges into e, or the classic
 * rule's into the union-find. */
static int verify_pairs(struct wn_dedup_job *j, const wn_docpair *pairs,
                        size_t npairs, struct wn_edges *e)
{
    struct wn_dedup_report *rep = &j->rep;
    /* lib/dist verifies at the records' owners, in one collective step:
     * its join keeps the pairs in memory, so they come here once. */
    if (j->verify)
        return j->verify(j->join_ud, &j->ver, pairs, npairs,
                         j->sk.rule ? NULL : &j->uf, &rep->verified,
                         &rep->edges, e);
    if (j->sk.rule)
        return wn__stage_verify_edges(&j->ver, pairs, npairs, j->o.cancel,
                                      &rep->verified, e);
    return wn__stage_verify(&j->ver, pairs, npairs, &j->uf, j->o.cancel,
                            &rep->verified, &rep->edges);
}

/* The candidate pairs from their sorted runs (pr, finished), each once,
 * verified a chunk of up to `chunk` pairs at a time, in the order and with
 * the outcome of one verification of them all (edges are appended in
 * order; the classic rule's union-find sees the pairs in the same order). */
static int verify_chunks(struct wn_dedup_job *j, struct wn_runs *pr,
                         uint64_t chunk, struct wn_edges *e)
{
    size_t cap =
        (size_t)WN_MIN((uint64_t)SIZE_MAX / 16, WN_MAX((uint64_t)4096, chunk));
    wn_docpair *v = wn__reallocarray(NULL, cap, sizeof(wn_docpair));
    if (!v)
        return WN_ENOMEM;
    wn_docpair last = 0;
    uint64_t total = 0;
    size_t n = 0;
    int rc = WN_OK, got;
    const uint64_t *p;
    while (!rc && (got = wn__runs_next(pr, &p)) != 0) {
        if (got < 0) {
            rc = got;
            break;
        }
        wn_docpair x = wn__pair_of_words(p);
        if (total && x == last)
            continue;
        last = x;
        total++;
        v[n++] = x;
        if (n == cap) {
            rc = verify_pairs(j, v, n, e);
            n = 0;
        }
    }
    if (!rc && n)
        rc = verify_pairs(j, v, n, e);
    wn__free(v);
    j->rep.candidates = total;
    return rc;
}

void wn__test_pairs_digest(uint64_t digest)
{
#ifdef WN_TEST_HOOKS
    if (getenv("WINNOW_TEST_PAIRS_DIGEST"))
        fprintf(stderr, "winnow: test: candidate pairs digest %016llx\n",
                (unsigned long long)digest);
#else
    (void)digest;
#endif
}

/* What the rule's anchor and flash joins read; the job's word counts are
 * set for the run's documents. */
static struct wn_rule_join_in
rule_join_in(struct wn_dedup_job *j, const uint8_t *skip, const uint64_t *nanch)
{
    const struct wn_docs *d = &j->docs;
    j->wt.cms = j->have_words ? &j->words : NULL;
    j->wt.n = d->n;
    return (struct wn_rule_join_in){
        .sk = &j->sk,
        .n = d->n,
        .docs = d,
        .skip = skip,
        .anch_f = j->sp.anch_f,
        .nanch = nanch,
        .sig_fd = j->sp.sig_f ? fileno(j->sp.sig_f) : -1,
        .wt = &j->wt,
        .anchor_bucket_max = WN_ANCHOR_BUCKET_MAX,
        .anchor_hits = WN_ANCHOR_HITS,
        .memory = j->o.memory,
        .cancel = j->o.cancel,
    };
}

/*
 * The joins are done (candidates pairs, st their figures, t2 when they
 * started; *rc their status): the spills they read go (sig_f stays, for
 * the verification and the fates), their figures go to the report, and
 * unless they failed the verifier is made and the verification stage
 * starts. Returns when it starts.
 */
static double joins_done(struct wn_dedup_job *j, uint64_t candidates,
                         const struct wn_join_stats *st, double t2, int *rc)
{
    struct wn_dedup_report *rep = &j->rep;
    wn__spills_close_keys(&j->sp);
    rep->candidates = candidates;
    rep->large_buckets = st->large_buckets;
    rep->max_bucket = st->max_bucket;
    rep->join_partitions = st->partitions;
    double t3 = wn__now();
    rep->stage_seconds[2] = t3 - t2;
    if (!*rc)
        *rc = wn__pair_verifier_init(&j->ver, &j->sk, &j->docs, &j->sp);
    j->have_ver = true;
    j->ver.wt = j->sk.lead_bytes ? &j->wt : NULL;
    if (!*rc)
        wn__frame_stage(j->frame, "verify", "pairs", 0, candidates);
    return t3;
}

/*
 * The joins and the verification with the pairs kept at their owners
 * (wn_dedup_source.join_owned, .verify_owned: lib/dist), for the pair
 * rule: the same edges, counts and stages as the path through pairs in
 * memory, without the pairs. t2 is when the join stage starts.
 */
static int join_verify_owned(struct wn_dedup_job *j,
                             const struct wn_join_in *in, const uint64_t *nanch,
                             struct wn_edges *e, double t2)
{
    assert(j->join_owned && j->verify_owned && j->sk.rule);
    struct wn_dedup_report *rep = &j->rep;
    const struct wn_docs *d = &j->docs;
    bool lead = j->sk.lead_bytes > 0;
    struct wn_rule_join_in rin = {0};
    if (lead)
        rin = rule_join_in(j, in->skip, nanch);
    struct wn_join_stats st = {0};
    uint64_t candidates = 0;
    wn__frame_stage(j->frame, "join", "records", 0, d->n);
    int rc = j->join_owned(j->join_ud, in, lead ? &rin : NULL,
                           j->have_words ? &j->words : NULL, &candidates, &st,
                           &j->rule_st);
    double t3 = joins_done(j, candidates, &st, t2, &rc);
    if (!rc)
        rc = j->verify_owned(j->join_ud, &j->ver, e);
    if (!rc) {
        rep->verified = candidates;
        rep->edges = e->n;
    }
    if (!rc && d->nsh->err)
        rc = d->nsh->err;
    rep->stage_seconds[3] = wn__now() - t3;
    return rc;
}

int wn__dedup_job_decide(struct wn_dedup_job *j)
{
    if (j->failed)
        return j->failed;
    if (j->state != JOB_ADDING)
        return WN_EINVAL;
    struct wn_dedup_report *rep = &j->rep;
    const struct wn_docs *d = &j->docs;
    int rc = wn__pass1_finish(&j->p1);
    uint64_t nanch[WN_ANCHOR_FILES];
    memcpy(nanch, j->p1.anchors, sizeof(nanch));
    rep->invalid_utf8 = j->p1.invalid_utf8;
    rep->empty_docs = j->p1.empty_docs;
    rep->keep_missing = j->p1.keep_missing;
    /* The batches and the sketching scratch are not needed any more: the
     * later stages' peak memory does not include them. */
    wn__pass1_release(&j->p1);
    /* The spill files are read back with pread from here on. */
    if (!rc)
        rc = wn__spills_flush(&j->sp);
    if (!rc)
        d->nsh->n = d->n; /* flushed: wn__doc_nsh may read */
    if (!rc)
        rc = wn__count_duplicate_ids(j->frame, d, wn__run_budget(j->o.memory),
                                     &rep->duplicate_ids);
    double t1 = wn__now();
    rep->stage_seconds[0] = t1 - j->t0;

    uint8_t *skip = NULL;
    struct wn_edges edges = {0};
    if (!rc) {
        skip = wn__calloc(d->n / 8 + 1, 1);
        if (!skip)
            rc = WN_ENOMEM;
    }
    for (uint64_t at = 0; !rc && at < rep->empty_docs;) {
        wn_docno e[1024];
        size_t k = (size_t)WN_MIN((uint64_t)1024, rep->empty_docs - at);
        rc = wn__pread_full(d->empty_fd, e, k * sizeof(*e), at * sizeof(*e));
        for (size_t q = 0; q < k && !rc; q++)
            wn__bit_set(skip, e[q]);
        at += k;
    }
    /* Empty texts are exact duplicates of each other and nothing else:
     * the exact stage clusters them, the join never sees them. */
    if (!rc)
        wn__frame_stage(j->frame, "exact", "records", 0, d->n);
    if (!rc && j->exact)
        rc = j->exact(j->join_ud, fileno(j->sp.hash_f), d->n, &j->eg, skip);
    else if (!rc)
        rc = wn__stage_exact(j->frame, fileno(j->sp.hash_f), d->n,
                             wn__run_budget(j->o.memory), &j->eg, skip);
    /* The classic rule unions its edges into the exact groups: a
     * union-find over every record (a wn_docno each). The pair rule keeps
     * its edges apart (wn__clustering_star) and needs none. */
    if (!rc && !j->sk.rule) {
        rc = wn__uf_init(&j->uf, d->n);
        for (size_t k = 0; !rc && k < j->eg.n; k++)
            wn__uf_union(&j->uf, j->eg.first[k], j->eg.doc[k]);
    }
    double t2 = wn__now();
    rep->stage_seconds[1] = t2 - t1;
    /* What the band join reads, on either path. */
    struct wn_join_in in = {
        .n = d->n,
        .skip = skip,
        .key_f = j->sp.key_f,
        .nkeys = j->sk.nkeys,
        .bucket_all_pairs = j->o.bucket_all_pairs,
        .memory = j->o.memory,
        .cancel = j->o.cancel,
    };
    if (!rc && !j->o.exact_only && j->join_owned && j->sk.rule) {
        rc = join_verify_owned(j, &in, nanch, &edges, t2);
    } else if (!rc && !j->o.exact_only) {
        /* The candidate pairs get a quarter of the budget: past it, the
         * workers' lists go to sorted runs on disk, merged into the
         * verification a chunk at a time (verify_chunks). */
        uint64_t pair_budget = wn__run_budget(j->o.memory) / 4;
        struct wn_runs pr;
        wn__runs_init(&pr, j->frame, WN_PAIR_WORDS, pair_budget);
        /* Not under lib/dist's join: its verification is one collective
         * step over pairs in memory (verify_pairs). */
        in.pair_runs = j->join ? NULL : &pr;
        in.pair_cap = (size_t)WN_MIN(
            (uint64_t)SIZE_MAX / 16,
            WN_MAX((uint64_t)4096, pair_budget / sizeof(wn_docpair) /
                                       wn__pool_threads(j->pool)));
        wn_docpair *pairs = NULL;
        size_t npairs = 0;
        struct wn_join_stats st = {0};
        wn__frame_stage(j->frame, "join", "records", 0, d->n);
        rc = j->join ? j->join(j->join_ud, &in, &pairs, &npairs, &st)
                     : wn__stage_candidates(&in, j->pool, &pairs, &npairs, &st);
        /* The rule's anchor and flash candidates join the band pairs. */
        if (!rc && j->sk.lead_bytes) {
            struct wn_rule_join_in rin = rule_join_in(j, skip, nanch);
            size_t cap = npairs;
            rc = j->rule_join ? j->rule_join(j->join_ud, &rin,
                                             j->have_words ? &j->words : NULL,
                                             &pairs, &npairs, &cap, &j->rule_st)
                              : wn__stage_rule_candidates(&rin, &pairs, &npairs,
                                                          &cap, &j->rule_st);
            if (!rc)
                npairs = wn__pairs_sort_unique(pairs, npairs);
        }
        /* Pairs on disk: the ones in memory join them. */
        bool spilled = wn__runs_spilled(&pr);
#ifdef WN_TEST_HOOKS
        if (!rc && !spilled)
            wn__test_pairs_digest(wn__pairs_digest(pairs, npairs));
#endif
        if (!rc && spilled) {
            wn__pairs_to_words(pairs, npairs);
            rc = wn__runs_add_run(&pr, pairs, npairs);
            wn__free(pairs);
            pairs = NULL;
            npairs = 0;
            if (!rc)
                rc = wn__runs_finish(&pr);
        }
        double t3 = joins_done(j, npairs, &st, t2, &rc);
        if (!rc && spilled)
            rc =
                verify_chunks(j, &pr, pair_budget / sizeof(wn_docpair), &edges);
        else if (!rc)
            rc = verify_pairs(j, pairs, npairs, &edges);
        if (j->sk.rule)
            rep->edges = edges.n;
        /* A shingle count that could not be read is a failed run. */
        if (!rc && d->nsh->err)
            rc = d->nsh->err;
        wn__free(pairs);
        wn__runs_release(&pr);
        rep->stage_seconds[3] = wn__now() - t3;
    }
    wn__free(skip);
    double t4 = wn__now();
    if (!rc)
        wn__frame_stage(j->frame, "cluster", "records", 0, d->n);
    if (!rc && j->sk.rule)
        rc = wn__clustering_star(d, j->o.keep, &j->eg, &edges, &j->c);
    else if (!rc)
        rc = wn__clustering_build(d, j->o.keep, &j->uf, &j->c);
    /* The verdicts stay for the fates: a removal under the rule is an
     * edge's pair, whose similarity removed.jsonl gives. */
    wn__free(edges.flag);
    edges.flag = NULL;
    j->edges = edges;
    /* The ids of the records in play, in an eighth of the budget: the
     * fates and clusters.jsonl read them at random (representatives,
     * members by cluster), which from the spill costs two reads each. */
    if (!rc)
        rc = wn__clustering_load_ids(d, &j->c, wn__run_budget(j->o.memory) / 8);
    rep->clusters = j->c.nclusters;
    rep->stage_seconds[4] = wn__now() - t4;
    rep->bands = j->sk.bands;
    rep->rows = j->sk.rows;
    if (rc)
        j->failed = rc;
    else
        j->state = JOB_DECIDED;
    return rc;
}

int wn__dedup_job_fates(struct wn_dedup_job *j,
                        int (*on_fate)(void *ud, const struct wn_fate *f),
                        void *ud)
{
    if (j->failed)
        return j->failed;
    if (j->state != JOB_DECIDED)
        return WN_EINVAL;
    const struct wn_docs *d = &j->docs;
    const struct wn_clustering *c = &j->c;
    struct wn_dedup_report *rep = &j->rep;
    struct wn_id_cursor ids;
    struct wn_buf rep_id = {0};
    int rc = wn__id_cursor_init(&ids, d);
    size_t k = 0; /* the next record in play (c->doc) */
    for (size_t i = 0; i < d->n && !rc; i++) {
        /* A record not in play is alone: kept, in no cluster. */
        wn_docno r = (wn_docno)i, cid = 0;
        if (k < c->m && c->doc[k] == i) {
            wn_docno root = c->root[k++];
            r = c->rep[root];
            cid = c->cid[root];
        }
        struct wn_fate f;
        memset(&f, 0, sizeof(f));
        f.index = i;
        rc = wn__id_cursor_get(&ids, i, &f.id, &f.id_len);
        if (rc)
            break;
        f.cluster = cid ? (int64_t)cid - 1 : -1;
        f.similarity = 1.0;
        f.containment = 1.0;
        f.duplicate_of_index = -1;
        if (r == i) {
            rep->kept++;
        } else {
            bool exact =
                wn__egroup_of(&j->eg, (wn_docno)i) == wn__egroup_of(&j->eg, r);
            struct wn_pair_decision pd;
            memset(&pd, 0, sizeof(pd));
            pd.s.jac = pd.s.cont = pd.s.a_in_b = pd.s.b_in_a = 1.0;
            pd.reason = WN_REASON_EXACT;
            /* In input order, as the edge was decided: its verdict when
             * the pair is an edge (the rule's removals), else read again. */
            wn_docno pa = WN_MIN(r, (wn_docno)i), pb = WN_MAX(r, (wn_docno)i);
            const struct wn_edge_sim *es =
                exact || !j->edges.n ? NULL : wn__edges_find(&j->edges, pa, pb);
            if (es) {
                pd.s.jac = es->jac;
                pd.s.cont = es->cont;
                pd.figures = es->figures;
                pd.reason = es->reason;
            } else if (!exact && j->have_ver && j->decide) {
                rc = j->decide(j->join_ud, pa, pb, &pd);
            } else if (!exact && j->have_ver) {
                rc = wn__pair_decide(&j->ver, pa, pb, &pd);
            }
            if (rc)
                break;
            f.removed = 1;
            size_t rk = c->id_off ? wn__clustering_index(c, r) : SIZE_MAX;
            if (rk != SIZE_MAX)
                f.duplicate_of = wn__clustering_id(c, rk, &f.duplicate_of_len);
            else
                rc = wn__doc_id_read(d, r, &rep_id, &f.duplicate_of,
                                     &f.duplicate_of_len);
            if (rc)
                break;
            f.duplicate_of_index = r;
            f.similarity = pd.s.jac;
            f.containment = pd.s.cont;
            f.figures = pd.figures;
            /* Reached through the cluster without passing the rule against
             * the representative (union-find, classic rule): "near". */
            f.reason = pd.reason != WN_REASON_NONE ? pd.reason
                       : exact                     ? WN_REASON_EXACT
                                                   : WN_REASON_NEAR;
            rep->removed++;
            if (exact)
                rep->removed_exact++;
            else
                rep->removed_near++;
            rep->removed_contained += f.reason == WN_REASON_CONTAINED;
        }
        if (on_fate)
            rc = on_fate(ud, &f);
        if (!rc && ((i + 1) & 0xfff) == 0 && cancelled(j))
            rc = WN_EINTR;
    }
    wn__id_cursor_release(&ids);
    wn__buf_release(&rep_id);
    if (!rc && d->nsh->err)
        rc = d->nsh->err;
    if (rc)
        j->failed = rc;
    else
        j->state = JOB_DONE;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The public in-memory job                                                  */
/* ------------------------------------------------------------------------ */

int wn_dedup_job_create(const struct wn_dedup_options *opts,
                        struct wn_dedup_job **out)
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
    if (opts->memory && opts->memory < wn_dedup_memory_min(opts))
        return WN_EINVAL;
    struct wn_dedup_job *j = wn__malloc(sizeof(*j));
    if (!j)
        return WN_ENOMEM;
    rc = wn__dedup_job_configure(j, opts);
    if (!rc)
        rc = wn__dedup_job_start(j, NULL);
    if (rc) {
        wn__dedup_job_release(j);
        wn__free(j);
        return rc;
    }
    *out = j;
    return WN_OK;
}

int wn_dedup_job_add(struct wn_dedup_job *job,
                     const struct wn_dedup_record *rec)
{
    if (!job || !rec || (!rec->text && rec->text_len) ||
        (!rec->id && rec->id_len))
        return WN_EINVAL;
    int rc = wn__dedup_job_add(job, rec);
    return rc < 0 ? rc : WN_OK;
}

int wn_dedup_job_finish(struct wn_dedup_job *job,
                        int (*on_fate)(void *ud, const struct wn_fate *fate),
                        void *ud, struct wn_dedup_report *rep)
{
    if (!job)
        return WN_EINVAL;
    int rc = wn__dedup_job_decide(job);
    double t5 = wn__now();
    if (!rc)
        rc = wn__dedup_job_fates(job, on_fate, ud);
    struct wn_dedup_report *r = &job->rep;
    r->stage_seconds[5] = wn__now() - t5;
    r->read = job->docs.nfill;
    r->bytes = job->text_bytes;
    r->seconds = wn__now() - job->t0;
    r->peak_rss_bytes = wn__peak_rss();
    if (rep)
        *rep = *r;
    return rc;
}

void wn_dedup_job_free(struct wn_dedup_job *job)
{
    if (job) {
        wn__dedup_job_release(job);
        wn__free(job);
    }
}
