/*
 * dedupjob.c - the dedup job: records in, every record's fate out. Both
 * wn_dedup_run (records from the readers, fates to files) and the public
 * in-memory job (wn_dedup_job_*) are this. The map of the pipeline:
 *
 *   pass 1 (pass1.c): records are numbered in input order and sketched in
 *            batches on the run's pool (sketcher.c), committed in order;
 *            per document only a 128-bit exact hash, text length, shingle
 *            count, flags and the id stay in memory, the verification data
 *            and band keys are spilled (one file per band);
 * then, with no text in memory:
 *   exact:   (exact.c) sort (hash, doc); equal 128-bit hashes are unioned,
 *            and all but the first leave the near-duplicate join; empty
 *            texts are exact duplicates of each other and nothing else;
 *   join:    (candidates.c) per band, sort (key, doc) and emit candidate
 *            pairs from runs of equal keys (lib/cluster); the budget
 *            splits a band into partitions by key so memory stays bounded;
 *   verify:  (verify.c) each distinct pair whose documents are still apart
 *            is checked (estimated Jaccard from the verification data,
 *            exact Jaccard from the spilled shingle sets, optional
 *            containment) and unioned;
 *   cluster: (clusters.c) union-find roots are the first members; the
 *            representative is chosen by the keep rule;
 *   fates:   every document in input order: kept, or removed with its
 *            representative, cluster, similarity to it and reason.
 * wn_dedup_run (run.c) adds the frame, rejected records, clusters.jsonl
 * (outputs.c) and the second pass over the inputs that writes kept and
 * removed records from the fates (pass2.c).
 *
 * Memory per document: 16 (hash; replaced by a 4-byte exact-group number
 * after the exact stage) + 8 (lengths) + 1 (flags) + 4 (union-find) + 1/4
 * (bitmaps); the id offset (8) and the id's bytes only in pass 1 and from
 * the clustering on (park_ids: in a spill file in between); wn_dedup_run
 * keeps the record's place in its input in a spill file. The joins add
 * their budget (wn__join_budget: 16 bytes per document by default) and the
 * candidate pairs (8 bytes each), the verification its windows, and the
 * clustering 16 after the join has freed its scratch.
 */
#include "dedup/dedup.h"

#include <errno.h>

enum { JOB_ADDING = 0, JOB_DECIDED = 1, JOB_DONE = 2 };

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
    wn__uf_release(&j->uf);
    wn__docs_release(&j->docs);
    if (j->parked_ids)
        fclose(j->parked_ids);
    j->parked_ids = NULL;
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
 * The ids (offsets and bytes) are needed after pass 1 only by the count of
 * duplicate ids and by the fates: between the two they wait in a spill
 * file, out of the peak of the exact stage, the joins and the verification
 * (8 bytes + the id per record: 12 MB of the 60 of a news run on the
 * generated 1 GB corpus).
 */
static int park_ids(struct wn_dedup_job *j)
{
    struct wn_docs *d = &j->docs;
    if (d->n == 0 || !d->id_off)
        return WN_OK;
    FILE *f = wn__frame_spill(j->frame, "ids", 1u << 16);
    if (!f)
        return WN_EOPEN; /* noted by the frame, as every spill */
    size_t noff = d->n + 1;
    if (fwrite(d->id_off, sizeof(*d->id_off), noff, f) != noff ||
        fwrite(d->ids.data ? d->ids.data : "", 1, d->ids.len, f) !=
            d->ids.len ||
        fflush(f) != 0) {
        int rc = wn__status_from_errno(errno);
        fclose(f);
        return rc;
    }
    j->parked_ids = f;
    j->parked_len = d->ids.len;
    wn__free(d->id_off);
    d->id_off = NULL;
    wn__buf_release(&d->ids);
    return WN_OK;
}

static int unpark_ids(struct wn_dedup_job *j)
{
    struct wn_docs *d = &j->docs;
    FILE *f = j->parked_ids;
    if (!f)
        return WN_OK;
    j->parked_ids = NULL;
    size_t noff = d->n + 1, len = (size_t)j->parked_len;
    int rc = WN_OK;
    d->id_off = wn__reallocarray(NULL, noff, sizeof(*d->id_off));
    if (!d->id_off || wn__buf_reserve(&d->ids, len ? len : 1))
        rc = WN_ENOMEM;
    if (!rc && fseeko(f, 0, SEEK_SET) != 0)
        rc = wn__status_from_errno(errno);
    if (!rc && (fread(d->id_off, sizeof(*d->id_off), noff, f) != noff ||
                fread(d->ids.data, 1, len, f) != len))
        rc = ferror(f) ? wn__status_from_errno(errno) : WN_EIO;
    if (!rc)
        d->ids.len = len;
    fclose(f);
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
        rc = wn__count_duplicate_ids(d, &rep->duplicate_ids);
    if (!rc)
        rc = park_ids(j);
    double t1 = wn__now();
    rep->stage_seconds[0] = t1 - j->t0;

    uint8_t *skip = NULL;
    struct wn_edges edges = {0};
    if (!rc)
        rc = wn__uf_init(&j->uf, d->n);
    if (!rc) {
        skip = wn__calloc(d->n / 8 + 1, 1);
        if (!skip)
            rc = WN_ENOMEM;
    }
    for (size_t i = 0; !rc && i < d->n; i++)
        if (d->flags[i] & WN_DOC_EMPTY)
            wn__bit_set(skip, i);
    /* Empty texts are exact duplicates of each other and nothing else:
     * the exact stage clusters them, the join never sees them. */
    if (!rc)
        wn__frame_stage(j->frame, "exact", "records", 0, d->n);
    if (!rc) {
        uint8_t *exact_skip = wn__calloc(d->n / 8 + 1, 1);
        if (!exact_skip) {
            rc = WN_ENOMEM;
        } else {
            rc = wn__stage_exact(d, &j->uf, exact_skip);
            for (size_t k = 0; k < d->n / 8 + 1; k++)
                skip[k] |= exact_skip[k];
            wn__free(exact_skip);
        }
    }
    /* Only exact edges so far: each root is the first of an exact group.
     * 4 bytes per document replace the 16 of the hashes from here on. */
    if (!rc) {
        j->docs.egroup =
            wn__reallocarray(NULL, d->n ? d->n : 1, sizeof(uint32_t));
        if (!j->docs.egroup) {
            rc = WN_ENOMEM;
        } else {
            for (size_t i = 0; i < d->n; i++)
                j->docs.egroup[i] = wn__uf_find(&j->uf, (uint32_t)i);
            wn__free(j->docs.h);
            j->docs.h = NULL;
        }
    }
    double t2 = wn__now();
    rep->stage_seconds[1] = t2 - t1;
    if (!rc && !j->o.exact_only) {
        struct wn_join_in in = {
            .n = d->n,
            .skip = skip,
            .key_f = j->sp.key_f,
            .nkeys = j->sk.nkeys,
            .bucket_all_pairs = j->o.bucket_all_pairs,
            .memory = j->o.memory,
            .cancel = j->o.cancel,
        };
        uint64_t *pairs = NULL;
        size_t npairs = 0;
        struct wn_join_stats st = {0};
        wn__frame_stage(j->frame, "join", "records", 0, d->n);
        rc = j->join ? j->join(j->join_ud, &in, &pairs, &npairs, &st)
                     : wn__stage_candidates(&in, j->pool, &pairs, &npairs, &st);
        /* The rule's anchor and flash candidates join the band pairs. */
        if (!rc && j->sk.lead_bytes) {
            j->wt.cms = j->have_words ? &j->words : NULL;
            j->wt.n = d->n;
            struct wn_rule_join_in rin = {
                .sk = &j->sk,
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
            size_t cap = npairs;
            rc = wn__stage_rule_candidates(&rin, &pairs, &npairs, &cap,
                                           &j->rule_st);
            if (!rc)
                npairs = wn__pairs_sort_unique(pairs, npairs);
        }
        /* The joins are done: the spills they read go (sig_f stays, for
         * the verification and the fates). */
        wn__spills_close_keys(&j->sp);
        rep->candidates = npairs;
        rep->large_buckets = st.large_buckets;
        rep->max_bucket = st.max_bucket;
        rep->join_partitions = st.partitions;
        double t3 = wn__now();
        rep->stage_seconds[2] = t3 - t2;
        if (!rc)
            rc = wn__pair_verifier_init(&j->ver, &j->sk, d, &j->sp);
        j->have_ver = true;
        if (!rc)
            wn__frame_stage(j->frame, "verify", "pairs", 0, npairs);
        j->ver.wt = j->sk.lead_bytes ? &j->wt : NULL;
        if (!rc && j->verify)
            rc = j->verify(j->join_ud, &j->ver, pairs, npairs,
                           j->sk.rule ? NULL : &j->uf, &rep->verified,
                           &rep->edges, &edges);
        else if (!rc && j->sk.rule)
            rc = wn__stage_verify_edges(&j->ver, pairs, npairs, j->o.cancel,
                                        &rep->verified, &edges);
        else if (!rc)
            rc = wn__stage_verify(&j->ver, pairs, npairs, &j->uf, j->o.cancel,
                                  &rep->verified, &rep->edges);
        if (j->sk.rule)
            rep->edges = edges.n;
        wn__free(pairs);
        rep->stage_seconds[3] = wn__now() - t3;
    }
    wn__free(skip);
    double t4 = wn__now();
    if (!rc)
        wn__frame_stage(j->frame, "cluster", "records", 0, d->n);
    if (!rc && j->sk.rule)
        rc = wn__clustering_star(d, j->o.keep, &edges, &j->c);
    else if (!rc)
        rc = wn__clustering_build(d, j->o.keep, &j->uf, &j->c);
    wn__edges_release(&edges);
    if (!rc)
        rc = unpark_ids(j);
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
    int rc = WN_OK;
    for (size_t i = 0; i < d->n && !rc; i++) {
        uint32_t root = c->root[i];
        uint32_t r = c->rep[root];
        struct wn_fate f;
        memset(&f, 0, sizeof(f));
        f.index = i;
        f.id = wn__doc_id(d, i, &f.id_len);
        f.cluster = c->cid[root] ? (int64_t)c->cid[root] - 1 : -1;
        f.similarity = 1.0;
        f.containment = 1.0;
        f.duplicate_of_index = -1;
        if (r == i) {
            rep->kept++;
        } else {
            bool exact = d->egroup[i] == d->egroup[r];
            struct wn_pair_decision pd;
            memset(&pd, 0, sizeof(pd));
            pd.s.jac = pd.s.cont = pd.s.a_in_b = pd.s.b_in_a = 1.0;
            pd.reason = WN_REASON_EXACT;
            /* In input order, as the edge was decided. */
            if (!exact && j->have_ver && j->decide)
                rc = j->decide(j->join_ud, WN_MIN(r, (uint32_t)i),
                               WN_MAX(r, (uint32_t)i), &pd);
            else if (!exact && j->have_ver)
                rc = wn__pair_decide(&j->ver, WN_MIN(r, (uint32_t)i),
                                     WN_MAX(r, (uint32_t)i), &pd);
            if (rc)
                break;
            f.removed = 1;
            f.duplicate_of = wn__doc_id(d, r, &f.duplicate_of_len);
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
