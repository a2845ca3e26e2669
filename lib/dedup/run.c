/*
 * run.c - wn_dedup_run(): the dedup job (dedupjob.c, whose opening comment
 * maps the pipeline) fed by the readers and writing files. The run frame
 * (io/runframe.h) checks the inputs before any output exists, owns the
 * temporary directory, the spill files, the copies of inputs that cannot
 * be read twice and the thread pool, and publishes the outputs together,
 * stats.json last. Pass 1 reads every record once: rejected ones go to
 * rejected.jsonl (their ordinals are kept so that pass 2 can skip them),
 * accepted ones to the job with the place of their bytes in the input.
 * Then the job decides, clusters.jsonl is written, and pass 2 (pass2.c)
 * turns the fates into kept.jsonl and removed.jsonl.
 */
#include "dedup/dedup.h"
#include "io/reader.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

enum { OUT_KEPT, OUT_REMOVED, OUT_CLUSTERS, OUT_REJECTED, OUT_STATS, NOUT };

static const char *const out_names[NOUT] = {"kept.jsonl", "removed.jsonl",
                                            "clusters.jsonl", "rejected.jsonl",
                                            "stats.json"};

struct run {
    struct wn_frame f;
    struct wn_dedup_job job;
    struct wn_input_map m;
    const struct wn_dedup_options *o;
    const struct wn_dedup_observer *obs; /* or NULL */
};

double wn__dedup_keep_value(const char *raw, size_t len, const char *field)
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

static int map_init(struct wn_input_map *m, struct wn_frame *f)
{
    size_t n = f->ninputs;
    m->ninputs = n;
    m->in_docs = wn__calloc(n ? n : 1, sizeof(*m->in_docs));
    m->in_plain = wn__calloc(n ? n : 1, sizeof(*m->in_plain));
    m->in_stat = wn__calloc(n ? n : 1, sizeof(*m->in_stat));
    if (!m->in_docs || !m->in_plain || !m->in_stat)
        return WN_ENOMEM;
    m->places = wn__frame_spill(f, "places", 0);
    if (!m->places)
        return WN_EOPEN; /* the path and errno are in the frame's note */
    for (size_t i = 0; i < n; i++) {
        /* A regular file may be copied from by offset in pass 2, unless
         * a record shows it compressed or not JSONL. */
        m->in_plain[i] = stat(f->inputs[i], &m->in_stat[i]) == 0 &&
                         S_ISREG(m->in_stat[i].st_mode) &&
                         !(f->spool_path && f->spool_path[i]);
    }
    return WN_OK;
}

static void map_release(struct wn_input_map *m)
{
    wn__free(m->in_docs);
    wn__free(m->in_plain);
    wn__free(m->in_stat);
    if (m->places)
        fclose(m->places);
    wn__free(m->rej);
    memset(m, 0, sizeof(*m));
}

/* Note where document d's record is, for pass 2. */
static int map_record(struct wn_input_map *m, size_t d,
                      const struct wn_record *rec, bool plain)
{
    assert(d == m->nplaces);
    unsigned char e[WN_PLACE_BYTES];
    wn__put_le64(e, rec->offset);
    wn__put_le32(e + 8, (uint32_t)WN_MIN(rec->raw_len, (size_t)UINT32_MAX));
    if (fwrite_unlocked(e, 1, sizeof(e), m->places) != sizeof(e))
        return wn__status_from_errno(errno);
    m->nplaces++;
    m->in_docs[rec->input]++;
    if (rec->kind != WN_RECORD_JSON || rec->raw_len >= UINT32_MAX || !plain)
        m->in_plain[rec->input] = false;
    return WN_OK;
}

int wn__input_map_place(const struct wn_input_map *m, uint64_t d, uint64_t *off,
                        uint32_t *len)
{
    assert(m != NULL && off != NULL && len != NULL);
    if (!m->places || d >= m->nplaces)
        return WN_EINVAL;
    unsigned char e[WN_PLACE_BYTES];
    int rc =
        wn__pread_full(fileno(m->places), e, sizeof(e), d * WN_PLACE_BYTES);
    if (rc)
        return rc;
    *off = wn__get_le64(e);
    *len = wn__get_le32(e + 8);
    return WN_OK;
}

static int pass1(struct run *x, struct wn_reader *r,
                 struct wn_dedup_source *src)
{
    const struct wn_dedup_options *o = x->o;
    struct wn_dedup_report *rep = &x->job.rep;
    struct wn_record rec;
    int rc = WN_OK;
    uint64_t units = 0;
    for (;;) {
        if (wn__frame_cancelled(&x->f)) {
            rc = WN_EINTR;
            break;
        }
        const struct wn_sketch *sketch = NULL;
        int got =
            src ? src->next(src->ud, &rec, &sketch) : wn_reader_next(r, &rec);
        if (got < 0) {
            if (!src)
                wn__frame_reader_error(&x->f, r);
            rc = got;
            break;
        }
        if (got == 0)
            break;
        rep->read++;
        uint64_t unit = units++;
        rc = src ? WN_OK : wn__frame_spool(&x->f, &rec);
        if (rc)
            break;
        if (rec.status) {
            rep->rejected++;
            if (WN_GROW(x->m.rej, x->m.rejcap, x->m.nrej + 1)) {
                rc = WN_ENOMEM;
                break;
            }
            x->m.rej[x->m.nrej++] = unit;
            if (o->on_reject)
                o->on_reject(o->ud, &rec);
            rc = wn__frame_reject(&x->f.out[OUT_REJECTED], &rec);
            if (rc)
                break;
            continue;
        }
        rc = map_record(&x->m, x->job.docs.nfill, &rec,
                        !src && wn__reader_plain(r));
        if (rc)
            break;
        struct wn_dedup_record dr = {
            .id = rec.id,
            .id_len = rec.id_len,
            .text = rec.text,
            .text_len = rec.text_len,
        };
        if (o->keep == WN_KEEP_MAX && rec.kind == WN_RECORD_JSON) {
            dr.value =
                !rec.raw && src && src->keep_value
                    ? src->keep_value(src->ud, &rec)
                    : wn__dedup_keep_value(rec.raw, rec.raw_len, o->keep_field);
            dr.has_value = !isnan(dr.value);
        }
        if (x->obs && x->obs->record) {
            rc = x->obs->record(x->obs->ud, x->job.docs.nfill, &rec);
            if (rc)
                break;
        }
        rc = sketch ? wn__dedup_job_add_sketch(&x->job, &dr, sketch)
                    : wn__dedup_job_add(&x->job, &dr);
        if (rc < 0)
            break;
        if (rc == 1 && o->on_progress)
            o->on_progress(o->ud, src ? src->bytes : wn_reader_bytes(r),
                           rep->read);
        rc = WN_OK;
    }
    uint64_t bytes = src ? src->bytes : wn_reader_bytes(r);
    if (!rc && o->on_progress)
        o->on_progress(o->ud, bytes, rep->read);
    rep->blank_lines = src ? src->blank_lines : wn_reader_blank_lines(r);
    rep->bytes = bytes;
    return rc;
}

int wn_dedup_run(const char *const *inputs, size_t ninputs, const char *outdir,
                 const struct wn_dedup_options *opts,
                 struct wn_dedup_report *rep)
{
    return wn__dedup_run_source(inputs, ninputs, outdir, opts, NULL, rep);
}

static int run_impl(const char *const *inputs, size_t ninputs,
                    const char *outdir, const struct wn_dedup_options *opts,
                    struct wn_dedup_source *src,
                    const struct wn_dedup_observer *obs,
                    struct wn_dedup_report *rep);

int wn__dedup_run_source(const char *const *inputs, size_t ninputs,
                         const char *outdir,
                         const struct wn_dedup_options *opts,
                         struct wn_dedup_source *src,
                         struct wn_dedup_report *rep)
{
    return run_impl(inputs, ninputs, outdir, opts, src, NULL, rep);
}

int wn__dedup_run_observed(const char *const *inputs, size_t ninputs,
                           const char *outdir,
                           const struct wn_dedup_options *opts,
                           const struct wn_dedup_observer *obs,
                           struct wn_dedup_report *rep)
{
    return run_impl(inputs, ninputs, outdir, opts, NULL, obs, rep);
}

static int run_impl(const char *const *inputs, size_t ninputs,
                    const char *outdir, const struct wn_dedup_options *opts,
                    struct wn_dedup_source *src,
                    const struct wn_dedup_observer *obs,
                    struct wn_dedup_report *rep)
{
    /* A report, not an out-parameter: written whatever the outcome. */
    if (rep)
        memset(rep, 0, sizeof(*rep));
    struct wn_dedup_options defaults;
    if (!opts) {
        wn_dedup_options_init(&defaults);
        opts = &defaults;
    }
    if (!outdir || (ninputs && !inputs))
        return WN_EINVAL;
    int rc = wn__dedup_validate(opts, true);
    if (rc)
        return rc;
    if (opts->memory && opts->memory < wn_dedup_memory_min(opts))
        return WN_EINVAL; /* the CLI names the smallest that works */
    struct run *x = wn__calloc(1, sizeof(*x));
    if (!x)
        return WN_ENOMEM;
    x->o = opts;
    x->obs = obs;
    /* An observer's output goes before stats.json, the marker. */
    const char *names[NOUT + 1];
    size_t nout = NOUT;
    memcpy(names, out_names, sizeof(out_names));
    if (obs && obs->output) {
        names[NOUT - 1] = obs->output;
        names[NOUT] = out_names[OUT_STATS];
        nout++;
    }
    struct wn_reader *r = NULL;
    /* The parameters first: a banding the job cannot hold fails before
     * any output exists. */
    rc = wn__dedup_job_configure(&x->job, opts);
    if (!rc)
        rc = wn__frame_start(&x->f, inputs, ninputs, &opts->reader, outdir,
                             opts->tmp_dir, names, nout, true, !opts->no_fsync,
                             opts->cancel, opts->threads, &r);
    if (!rc)
        wn__frame_set_progress(&x->f, &opts->progress, r);
    if (!rc && src && src->start)
        rc = src->start(src->ud, &x->f);
    if (!rc)
        rc = map_init(&x->m, &x->f);
    if (!rc && obs && obs->start)
        rc = obs->start(obs->ud, &x->f, &x->m);
    if (!rc)
        rc = wn__dedup_job_start(&x->job, &x->f);
    if (src) {
        x->job.join = src->join;
        x->job.rule_join = src->rule_join;
        x->job.p1.remote = src->remote_sketches;
        x->job.p1.remote_keys = src->remote_keys;
        x->job.join_ud = src->ud;
        x->job.verify = src->verify;
        x->job.decide = src->decide;
        x->job.join_owned = src->join_owned;
        x->job.verify_owned = src->verify_owned;
        x->job.exact = src->exact;
        x->job.p1.remote_hashes = src->exact != NULL;
    }
    if (!rc)
        rc = pass1(x, r, src);
    if (!rc && fflush(x->m.places) != 0)
        rc = wn__status_from_errno(errno);
    wn_reader_free(r);
    if (!rc)
        rc = wn__frame_spool_close(&x->f);
    if (!rc)
        rc = wn__dedup_job_decide(&x->job);

    struct wn_dedup_report *p = &x->job.rep;
    double t3 = wn__now();
    if (!rc)
        rc = wn__write_clusters(&x->job.docs, &x->job.c,
                                &x->f.out[OUT_CLUSTERS]);
    if (!rc && obs && obs->decided)
        rc = obs->decided(obs->ud, &x->job);
    double t4 = wn__now();
    p->stage_seconds[4] += t4 - t3;
    /* Copy by offsets when every input is an uncompressed JSONL file. A
     * -Dtest_hooks=true build forces the reading pass with
     * WINNOW_TEST_NO_COPY_RANGE=1, so that a test compares the two. */
    bool plain = ninputs > 0;
#ifdef WN_TEST_HOOKS
    plain = plain && !getenv("WINNOW_TEST_NO_COPY_RANGE");
#endif
    for (size_t i = 0; i < ninputs && x->m.in_plain; i++)
        plain = plain && x->m.in_plain[i];
    struct wn_pass2_out out = {&x->f.out[OUT_KEPT], &x->f.out[OUT_REMOVED],
                               obs};
    struct wn_outfile *stats = &x->f.out[nout - 1];
    if (!rc && src && src->write)
        rc = src->write(src->ud, &x->job, &x->f, &out);
    else if (!rc)
        rc = plain ? wn__pass2_copy(&x->job, &x->f, &x->m, &out)
                   : wn__pass2_read(&x->job, &x->f, &x->m, &out);
    p->stage_seconds[5] = wn__now() - t4;
    p->seconds = wn__now() - x->f.t0;
    p->peak_rss_bytes = wn__peak_rss();

    if (!rc && p->read != p->kept + p->removed + p->rejected)
        rc = WN_EIO; /* never publish outputs that lose a record */
    if (!rc)
        rc = wn__write_dedup_stats(
            &x->job, &x->f, x->job.pool ? wn__pool_threads(x->job.pool) : 1,
            stats);
    if (!rc && obs && obs->finish)
        rc = obs->finish(obs->ud, &x->f, &x->m, stats, &x->f.out[NOUT - 1]);
    if (!rc)
        rc = wn__frame_commit(&x->f, !opts->no_fsync);
    wn__frame_error(&x->f, rc, p->error_path, sizeof(p->error_path),
                    &p->error_errno);
    if (rep)
        *rep = *p;
    wn__dedup_job_release(&x->job);
    map_release(&x->m);
    wn__frame_release(&x->f);
    wn__free(x);
    return rc;
}
