/*
 * gather.c - `winnow dedup --report`: report.html gathered during the dedup
 * run and published with its other outputs (wn_dedup_run_report), instead
 * of reading the inputs again afterwards as `winnow report DIR` does.
 *
 * The run's observer (struct wn_dedup_observer, dedup/dedup.h) fills the
 * same struct wn__report as html.c's reading of the files, with the same
 * gathering functions, so the two pages agree:
 *   pass 1    frequent lines (topline.c) from a deterministic sample of the
 *             accepted records, from the text already in hand: every
 *             stride-th record, the stride chosen from the inputs' sizes so
 *             that about line_sample_bytes (default 8 MiB) are counted
 *             (every record of a smaller corpus). When a size is unknown
 *             (standard input, pipes) every record is counted at first and
 *             the stride doubles each time that many more bytes were
 *             counted;
 *   decided   cluster sizes, the largest clusters and their members, the
 *             sampled clusters and their representatives, from the
 *             clustering (two scans of the documents);
 *   pass 2    from the fates: the histogram of similarities and the
 *             sampled pairs; when pass 2 reads the records again, the
 *             sampled texts as they pass;
 *   finish    the sampled texts pass 2 did not read, by pread at the
 *             offsets pass 1 noted (a few records), stats.json as written,
 *             the alignment of the sampled pairs (wn_explain), the page.
 * Costs beyond the dedup run: the line count over the sample (about
 * line_sample_bytes scanned), O(documents) for the cluster scans, and
 * O(sample) reads and alignments; memory O(clusters) for the scans, and the
 * page's bounds otherwise.
 */
#include "dedup/dedup.h"
#include "io/json.h"
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct gather {
    struct wn__report r;
    const struct wn_dedup_options *dopts;
    const char *text_field;
    uint64_t budget;    /* text bytes of the line sample; 0: no limit */
    uint64_t stride;    /* lines: every stride-th record */
    bool size_known;    /* of every input */
    uint64_t counted;   /* text bytes given to the line count */
    uint64_t next_thin; /* unknown size: double the stride here */
    uint64_t *rep_docs; /* representatives of the sampled clusters, sorted */
    size_t nrep_docs;
    struct wn_buf id;   /* scratch: a NUL-terminated id */
    struct wn_buf id2;  /* scratch: another */
    struct wn_buf text; /* scratch: an unescaped text */
    struct wn_buf raw;  /* scratch: a record read by offset */
};

static int on_start(void *ud, const struct wn_frame *f,
                    const struct wn_input_map *m)
{
    struct gather *g = ud;
    uint64_t total = 0;
    g->size_known = true;
    for (size_t i = 0; i < m->ninputs; i++) {
        if (!S_ISREG(m->in_stat[i].st_mode) ||
            (f->spool_path && f->spool_path[i]))
            g->size_known = false;
        else
            total += (uint64_t)m->in_stat[i].st_size;
    }
    g->stride = 1;
    if (g->budget && g->size_known && total > g->budget)
        g->stride = (total + g->budget - 1) / g->budget;
    g->r.lines_stride = g->stride;
    g->next_thin = g->budget;
    return WN_OK;
}

static int on_record(void *ud, uint64_t doc, const struct wn_record *rec)
{
    struct gather *g = ud;
    g->r.records_used++;
    if (doc % g->stride)
        return WN_OK;
    g->counted += rec->text_len;
    if (g->budget && !g->size_known && g->counted >= g->next_thin) {
        g->stride *= 2;
        g->next_thin += g->budget;
        g->r.lines_stride = g->stride;
        g->r.lines_thinned = true;
    }
    return wn__topline_add(&g->r.lines, rec->text, rec->text_len);
}

/* A NUL-terminated copy of id[0, len) in b. */
static const char *cstr(struct wn_buf *b, const char *id, size_t len)
{
    b->len = 0;
    if (wn__buf_append(b, id, len) || wn__buf_putc(b, '\0'))
        return NULL;
    return b->data;
}

/* The id of document i (read from its spill, lib/dedup) as a string in b;
 * NULL on failure. */
static const char *doc_id(struct wn_buf *b, const struct wn_docs *d, size_t i)
{
    struct wn_buf t = {0};
    size_t len;
    const char *id;
    const char *s =
        wn__doc_id_read(d, i, &t, &id, &len) ? NULL : cstr(b, id, len);
    wn__buf_release(&t);
    return s;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* The members previews of the largest clusters: one scan in input order. */
static int previews(struct gather *g, const struct wn_docs *d,
                    const struct wn_clustering *c, wn_docno *slot)
{
    struct wn__report *r = &g->r;
    struct wn_buf *b = wn__calloc(r->nbig ? r->nbig : 1, sizeof(*b));
    bool *full = wn__calloc(r->nbig ? r->nbig : 1, sizeof(*full));
    int rc = b && full ? WN_OK : WN_ENOMEM;
    /* slot[cluster] = 1 + its place among the largest, else 0. */
    for (uint64_t k = 0; k < r->nclusters; k++)
        slot[k] = 0;
    for (size_t i = 0; i < r->nbig; i++)
        slot[r->big[i].cluster] = (wn_docno)i + 1;
    /* Only records in play (c->doc, ascending) can be in a cluster. */
    for (size_t k = 0; !rc && k < c->m; k++) {
        wn_docno id = c->cid[c->root[k]];
        if (!id || !slot[id - 1] || full[slot[id - 1] - 1])
            continue;
        size_t s = slot[id - 1] - 1;
        const char *name = doc_id(&g->id, d, c->doc[k]);
        rc = name ? wn__report_preview_add(&b[s], name, &full[s]) : WN_ENOMEM;
    }
    for (size_t i = 0; !rc && i < r->nbig; i++) {
        rc = wn__buf_putc(&b[i], '\0');
        if (!rc) {
            r->big[i].members = b[i].data;
            b[i] = (struct wn_buf){0};
        }
    }
    for (size_t i = 0; b && i < r->nbig; i++)
        wn__buf_release(&b[i]);
    wn__free(b);
    wn__free(full);
    return rc;
}

static int on_decided(void *ud, const struct wn_dedup_job *j)
{
    struct gather *g = ud;
    struct wn__report *r = &g->r;
    const struct wn_docs *d = &j->docs;
    const struct wn_clustering *c = &j->c;
    uint64_t nc = c->nclusters;
    wn__report_set_clusters(r, nc);
    wn_docno *size = wn__calloc(nc ? nc : 1, sizeof(*size));
    wn_docno *first = wn__calloc(nc ? nc : 1, sizeof(*first));
    g->rep_docs = wn__calloc(r->o->sample_clusters + 1, sizeof(uint64_t));
    int rc = size && first && g->rep_docs ? WN_OK : WN_ENOMEM;
    /* first[]: the index in play (c->doc) of each cluster's first. */
    for (size_t k = 0; !rc && k < c->m; k++) {
        wn_docno id = c->cid[c->root[k]];
        if (id && size[id - 1]++ == 0)
            first[id - 1] = (wn_docno)k;
    }
    for (uint64_t k = 0; !rc && k < nc; k++) {
        wn_docno rep = c->rep[c->root[first[k]]];
        const char *name = doc_id(&g->id, d, rep);
        struct wn__report_sampled *s = NULL;
        rc = name ? wn__report_cluster(r, k, size[k], name, NULL, &s)
                  : WN_ENOMEM;
        if (!rc && s) {
            s->rep_doc = rep;
            g->rep_docs[g->nrep_docs++] = rep;
            struct wn__report_text *t = wn__report_want_text(r, name);
            if (!t)
                rc = WN_ENOMEM;
            else
                t->doc = rep;
        }
    }
    if (!rc)
        qsort(g->rep_docs, g->nrep_docs, sizeof(uint64_t), cmp_u64);
    if (!rc)
        rc = previews(g, d, c, first);
    wn__free(size);
    wn__free(first);
    return rc;
}

/* The text of a record's raw bytes, as the reader takes it: *text and *len
 * (pointing into raw or g->text); WN_OK, WN_EPARSE for a record without a
 * text string, or WN_ENOMEM. */
static int raw_text(struct gather *g, int kind, const char *raw, size_t n,
                    const char **text, size_t *len)
{
    if (kind == WN_RECORD_TEXTFILE) {
        *text = raw;
        *len = n;
        return WN_OK;
    }
    g->text.len = 0;
    if (wn__buf_reserve(&g->text, n + 1))
        return WN_ENOMEM;
    struct wn_json_field f = {.key = g->text_field,
                              .key_len = strlen(g->text_field),
                              .dst = g->text.data};
    size_t off;
    if (wn__json_scan_object(raw, n, &f, 1, &off) || f.type != WN_JSON_STRING)
        return WN_EPARSE;
    if (f.escaped) {
        *text = g->text.data;
        *len = f.dst_len;
    } else {
        *text = raw + f.off + 1;
        *len = f.len - 2;
    }
    return WN_OK;
}

/* Keep t's text from a record read in pass 2 (a record without a text
 * string leaves it not found, as the page then says). */
static int take_text(struct gather *g, struct wn__report_text *t,
                     const struct wn_record *rec)
{
    const char *text;
    size_t len;
    int rc = raw_text(g, rec->kind, rec->raw, rec->raw_len, &text, &len);
    if (rc)
        return rc == WN_EPARSE ? WN_OK : rc;
    return wn__report_set_text(t, text, len);
}

static int on_fate(void *ud, const struct wn_fate *f,
                   const struct wn_record *rec)
{
    struct gather *g = ud;
    struct wn__report *r = &g->r;
    if (!f->removed) {
        if (!rec || !bsearch(&f->index, g->rep_docs, g->nrep_docs,
                             sizeof(uint64_t), cmp_u64))
            return WN_OK;
        const char *id = cstr(&g->id, f->id, f->id_len);
        struct wn__report_text *t =
            id ? wn__report_find_text(r, id, strlen(id)) : NULL;
        if (!id)
            return WN_ENOMEM;
        return t && !t->s && t->doc == f->index ? take_text(g, t, rec) : WN_OK;
    }
    const char *id = cstr(&g->id, f->id, f->id_len);
    const char *rep = cstr(&g->id2, f->duplicate_of, f->duplicate_of_len);
    if (!id || !rep)
        return WN_ENOMEM;
    /* The similarity as removed.jsonl gives it, so that both pages put it
     * in the same bin. */
    char sim[32];
    snprintf(sim, sizeof(sim), "%.4f", f->similarity);
    struct wn__report_pair *p = NULL;
    const char *reason = wn_reason_name(f->reason);
    int rc = wn__report_removed(r, (uint64_t)f->cluster, id, rep,
                                strtod(sim, NULL), reason ? reason : "", &p);
    if (rc || !p)
        return rc;
    struct wn__report_text *t = wn__report_want_text(r, id);
    if (!t)
        return WN_ENOMEM;
    if (t->s)
        return WN_OK;
    t->doc = f->index;
    return rec ? take_text(g, t, rec) : WN_OK;
}

/* Read the texts pass 2 did not: by offset, from the inputs that pass 1
 * found plain JSONL. */
static int read_by_offset(struct gather *g, const struct wn_frame *f,
                          const struct wn_input_map *m)
{
    struct wn__report *r = &g->r;
    int rc = WN_OK;
    for (size_t i = 0; !rc && i < r->ntexts; i++) {
        struct wn__report_text *t = &r->texts[i];
        if (t->s || !m->places || t->doc == UINT64_MAX)
            continue;
        size_t in = 0;
        uint64_t end = m->ninputs ? m->in_docs[0] : 0;
        while (in + 1 < m->ninputs && t->doc >= end)
            end += m->in_docs[++in];
        if (in >= m->ninputs || t->doc >= end || !m->in_plain[in])
            continue;
        uint64_t off;
        uint32_t raw_len;
        if (wn__input_map_place(m, t->doc, &off, &raw_len))
            continue;
        size_t n = raw_len;
        g->raw.len = 0;
        if (wn__buf_reserve(&g->raw, n + 1))
            return WN_ENOMEM;
        int fd = open(f->inputs[in], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* pass 2 checked it: gone since, not found */
        int got = wn__pread_full(fd, g->raw.data, n, off);
        close(fd);
        if (got)
            continue;
        const char *text;
        size_t len;
        rc = raw_text(g, WN_RECORD_JSON, g->raw.data, n, &text, &len);
        rc = rc == WN_EPARSE ? WN_OK
             : rc            ? rc
                             : wn__report_set_text(t, text, len);
    }
    return rc;
}

static int on_finish(void *ud, const struct wn_frame *f,
                     const struct wn_input_map *m, struct wn_outfile *stats,
                     struct wn_outfile *out)
{
    struct gather *g = ud;
    int rc = read_by_offset(g, f, m);
    if (rc)
        return rc;
    if (fflush(stats->f) != 0)
        return wn__io_fail(stats->note, stats->tmp_path, errno,
                           wn__status_from_errno(errno));
    json_error_t err;
    json_t *st = json_load_file(stats->tmp_path, 0, &err);
    g->r.stats = st;
    if (!json_is_object(st))
        return wn__io_fail(stats->note, stats->tmp_path, 0, WN_EPARSE);
    rc = wn__report_align(&g->r);
    if (!rc)
        rc = wn__report_page(&g->r, out->f);
    if (!rc && ferror(out->f))
        rc = wn__io_fail(out->note, out->tmp_path, errno,
                         wn__status_from_errno(errno));
    return rc;
}

int wn_dedup_run_report(const char *const *inputs, size_t n, const char *outdir,
                        const struct wn_dedup_options *opts,
                        const struct wn_report_options *ropts,
                        struct wn_dedup_report *rep)
{
    struct wn_report_options rdef;
    if (!ropts) {
        wn_report_options_init(&rdef);
        ropts = &rdef;
    }
    struct wn_dedup_options ddef;
    if (!opts) {
        wn_dedup_options_init(&ddef);
        opts = &ddef;
    }
    struct gather *g = wn__calloc(1, sizeof(*g));
    if (!g) {
        if (rep)
            memset(rep, 0, sizeof(*rep));
        return WN_ENOMEM;
    }
    g->dopts = opts;
    g->budget = ropts->line_sample_bytes;
    g->text_field = opts->reader.text_field ? opts->reader.text_field : "text";
    int rc = wn__report_init(&g->r, ropts, 0);
    if (rc) {
        if (rep)
            memset(rep, 0, sizeof(*rep));
    } else {
        const struct wn_dedup_observer obs = {
            .output = "report.html",
            .ud = g,
            .start = on_start,
            .record = on_record,
            .decided = on_decided,
            .fate = on_fate,
            .finish = on_finish,
        };
        rc = wn__dedup_run_observed(inputs, n, outdir, opts, &obs, rep);
    }
    wn__report_release(&g->r);
    wn__free(g->rep_docs);
    wn__buf_release(&g->id);
    wn__buf_release(&g->id2);
    wn__buf_release(&g->text);
    wn__buf_release(&g->raw);
    wn__free(g);
    return rc;
}
