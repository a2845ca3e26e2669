/*
 * indexrun.c - wn_index_run: the records of inputs through the index, one pass,
 * in transactions of a batch of records. The calling thread reads and
 * sketches; each batch is applied in one transaction (one fsync for the
 * batch), then its records are written out in input order. Outputs follow
 * wn_dedup_run's: a private temporary directory in outdir, files published
 * at the end with stats.json last, nothing published on failure.
 */
/* The feature macro of strptime and timegm, not a name of ours: */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include "index/judge.h"
#include "io/json.h"
#include "io/outfile.h"
#include "io/reader.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define REJECT_RAW_MAX ((size_t)64 << 10)

void wn_index_run_options_init(struct wn_index_run_options *o)
{
    memset(o, 0, sizeof(*o));
    o->add = 1;
    o->batch = 1024;
    o->max_matches = 1;
}

struct pending {
    struct wn_index_item *it;
    char *raw; /* add with outdir: the bytes to write to kept.jsonl */
    size_t raw_len;
    struct wn_record rec; /* for on_result: id, source, line */
    char *id;
    char *source;
};

struct run {
    struct wn_index *ix;
    const struct wn_index_run_options *o;
    struct wn_index_run_report rep;
    bool files;
    bool containment; /* the rule has containment: removed.jsonl says it */
    struct wn_outdir dir;
    struct wn_outfile kept, removed, rejected, stats;
    struct pending *p;
    struct wn_index_item **items;
    struct wn_index_result *res;
    size_t n, cap, icap, rcap;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

static int write_rejected(struct run *r, const struct wn_record *rec,
                          int status)
{
    struct wn_buf b = {0};
    const char *src = rec->source ? rec->source : "-";
    int rc = WN_BUF_LIT(&b, "{\"source\":");
    if (!rc)
        rc = wn__json_escape(src, strlen(src), &b);
    if (!rc)
        rc = wn__buf_printf(
            &b, ",\"line\":%llu,\"reason\":", (unsigned long long)rec->line);
    char reason[160];
    if (status == WN_EPARSE)
        snprintf(reason, sizeof(reason), "%s at byte %zu", wn_strerror(status),
                 rec->error_offset);
    else if (status == WN_ETOOBIG && rec->status == WN_OK)
        snprintf(reason, sizeof(reason), "id longer than 4 KiB");
    else
        snprintf(reason, sizeof(reason), "%s", wn_strerror(status));
    if (!rc)
        rc = wn__json_escape(reason, strlen(reason), &b);
    if (!rc)
        rc = wn__buf_printf(&b, ",\"bytes\":%zu", rec->raw_len);
    size_t show = rec->raw_len;
    if (show > REJECT_RAW_MAX) {
        show = REJECT_RAW_MAX;
        while (show > 0 && ((unsigned char)rec->raw[show] & 0xC0) == 0x80)
            show--;
    }
    if (!rc && printable(rec->raw, show)) {
        rc = WN_BUF_LIT(&b, ",\"raw\":");
        if (!rc)
            rc = wn__json_escape(rec->raw, show, &b);
        if (!rc && show < rec->raw_len)
            rc = WN_BUF_LIT(&b, ",\"raw_truncated\":true");
    }
    if (!rc)
        rc = WN_BUF_LIT(&b, "}\n");
    if (!rc)
        rc = wn__outfile_write(&r->rejected, b.data, b.len);
    wn__buf_release(&b);
    return rc;
}

/* A time field: a number of seconds, a string of digits, or ISO 8601. */
static int read_time(const char *raw, size_t len, const char *field,
                     int64_t *out)
{
    json_error_t err;
    json_t *root = json_loadb(raw, len, JSON_DECODE_ANY, &err);
    if (!root)
        return 0;
    json_t *v = json_is_object(root) ? json_object_get(root, field) : NULL;
    int ok = 0;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        ok = 1;
    } else if (json_is_real(v)) {
        *out = (int64_t)json_real_value(v);
        ok = 1;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        long long x = strtoll(s, &end, 10);
        if (*s && !*end) {
            *out = x;
            ok = 1;
        } else {
            struct tm tm;
            memset(&tm, 0, sizeof(tm));
            const char *e = strptime(s, "%Y-%m-%d", &tm);
            if (e && (*e == 'T' || *e == ' '))
                e = strptime(e + 1, "%H:%M:%S", &tm);
            if (e && (*e == 'Z' || *e == '\0')) {
                *out = (int64_t)timegm(&tm);
                ok = 1;
            }
        }
    }
    json_decref(root);
    return ok;
}

static void pending_release(struct pending *p)
{
    wn_index_item_free(p->it);
    wn__free(p->raw);
    wn__free(p->id);
    wn__free(p->source);
    memset(p, 0, sizeof(*p));
}

static int write_removed(struct run *r, const struct pending *p,
                         const struct wn_index_result *res)
{
    const struct wn_index_match *m = &res->matches[0];
    struct wn_buf b = {0};
    int rc = WN_BUF_LIT(&b, "{\"id\":");
    if (!rc)
        rc = wn__json_escape(p->rec.id, p->rec.id_len, &b);
    if (!rc)
        rc = WN_BUF_LIT(&b, ",\"duplicate_of\":");
    if (!rc)
        rc = wn__json_escape(m->id, m->id_len, &b);
    if (!rc)
        rc = wn__buf_printf(&b, ",\"similarity\":%.4f", m->similarity);
    if (!rc && r->containment)
        rc = wn__buf_printf(&b, ",\"containment\":%.4f", m->containment);
    if (!rc)
        rc = wn__buf_printf(&b, ",\"reason\":\"%s\"}\n",
                            wn_index_reason_name(m->reason));
    if (!rc)
        rc = wn__outfile_write(&r->removed, b.data, b.len);
    wn__buf_release(&b);
    return rc;
}

/* Exact matches a query lists to find a record itself among its exact
 * copies (ties go to the earliest record). */
#define SELF_MATCHES 64u

/*
 * In an add, the records whose id the index already holds (reason id):
 * which of them are the very record indexed, the same id with the same
 * text, found again by a query among its exact copies. Such a record was
 * added by an earlier run over the same input (one that was interrupted
 * after its first transaction, before its outputs were published): it is
 * written to kept.jsonl again, as that run would have, and counted in
 * kept_indexed, never removed as a duplicate of itself. self[i] says so.
 */
static int find_self(struct run *r, bool *self)
{
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++) {
        self[i] = false;
        if (!r->res[i].is_new && r->res[i].n &&
            r->res[i].matches[0].reason == WN_REASON_ID)
            r->items[m++] = r->p[i].it;
    }
    if (!m)
        return WN_OK;
    struct wn_index_result *q = wn__calloc(m, sizeof(*q));
    if (!q)
        return WN_ENOMEM;
    for (size_t k = 0; k < m; k++)
        wn_index_result_init(&q[k]);
    int rc = wn_index_apply(r->ix, r->items, m, 0, SELF_MATCHES, q);
    for (size_t i = 0, k = 0; !rc && i < r->n; i++) {
        if (r->res[i].is_new || !r->res[i].n ||
            r->res[i].matches[0].reason != WN_REASON_ID)
            continue;
        uint64_t rec = r->res[i].matches[0].record;
        for (size_t j = 0; j < q[k].n; j++)
            if (q[k].matches[j].record == rec &&
                q[k].matches[j].reason == WN_REASON_EXACT)
                self[i] = true;
        k++;
    }
    for (size_t k = 0; k < m; k++)
        wn_index_result_release(&q[k]);
    wn__free(q);
    return rc;
}

/* Apply the pending batch and write its records out in order. */
static int flush(struct run *r)
{
    if (!r->n)
        return WN_OK;
    for (size_t i = 0; i < r->n; i++)
        r->items[i] = r->p[i].it;
    int rc = wn_index_apply(r->ix, r->items, r->n, r->o->add,
                            r->o->max_matches ? r->o->max_matches : 1, r->res);
    if (!rc)
        r->rep.transactions++;
    bool *self = NULL;
    if (!rc && r->o->add) {
        self = wn__calloc(r->n, sizeof(*self));
        rc = self ? find_self(r, self) : WN_ENOMEM;
    }
    for (size_t i = 0; !rc && i < r->n; i++) {
        struct pending *p = &r->p[i];
        const struct wn_index_result *res = &r->res[i];
        if (res->is_new || (self && self[i])) {
            r->rep.kept++;
            r->rep.kept_indexed += !res->is_new;
            if (r->files) {
                rc = wn__outfile_write(&r->kept, p->raw, p->raw_len);
                if (!rc)
                    rc = wn__outfile_write(&r->kept, "\n", 1);
            }
        } else {
            r->rep.removed++;
            switch (res->matches[0].reason) {
            case WN_REASON_EXACT:
                r->rep.removed_exact++;
                break;
            case WN_REASON_NEAR:
                r->rep.removed_near++;
                break;
            case WN_REASON_CONTAINED:
                r->rep.removed_contained++;
                break;
            default:
                r->rep.removed_id++;
            }
            if (r->files)
                rc = write_removed(r, p, res);
        }
        if (!rc && r->o->on_result)
            r->o->on_result(r->o->ud, &p->rec, res);
    }
    wn__free(self);
    for (size_t i = 0; i < r->n; i++)
        pending_release(&r->p[i]);
    r->n = 0;
    return rc;
}

static int take(struct run *r, const struct wn_record *rec)
{
    size_t was = r->rcap;
    if (WN_GROW(r->p, r->cap, r->n + 1) ||
        wn__grow((void **)&r->items, &r->icap, r->n + 1,
                 sizeof(struct wn_index_item *)) ||
        WN_GROW(r->res, r->rcap, r->n + 1))
        return WN_ENOMEM;
    for (size_t i = was; i < r->rcap; i++)
        wn_index_result_init(&r->res[i]);
    struct pending *p = &r->p[r->n];
    memset(p, 0, sizeof(*p));
    struct wn_index_doc d = {rec->id,       rec->id_len, rec->text,
                             rec->text_len, 0,           0};
    if (r->o->time_field && rec->kind == WN_RECORD_JSON) {
        d.has_time =
            read_time(rec->raw, rec->raw_len, r->o->time_field, &d.time);
        r->rep.time_missing += !d.has_time;
    }
    int rc = wn_index_item_create(r->ix, &d, 1, &p->it);
    if (rc == WN_ETOOBIG || rc == WN_EINVAL) {
        r->rep.rejected++;
        if (r->o->on_reject) {
            struct wn_record bad = *rec;
            bad.status = rc;
            r->o->on_reject(r->o->ud, &bad);
        }
        return r->files ? write_rejected(r, rec, rc) : WN_OK;
    }
    if (rc)
        return rc;
    p->id = wn__strndup(rec->id, rec->id_len);
    p->source = wn__strdup(rec->source ? rec->source : "-");
    if (r->files && r->o->add && rec->kind == WN_RECORD_TEXTFILE) {
        /* A .txt record is written as {"id", "text"}, as dedup does. */
        struct wn_buf b = {0};
        rc = WN_BUF_LIT(&b, "{\"id\":");
        if (!rc)
            rc = wn__json_escape(rec->id, rec->id_len, &b);
        if (!rc)
            rc = WN_BUF_LIT(&b, ",\"text\":");
        if (!rc)
            rc = wn__json_escape(rec->raw, rec->raw_len, &b);
        if (!rc)
            rc = WN_BUF_LIT(&b, "}");
        if (rc) {
            wn__buf_release(&b);
            pending_release(p);
            return rc;
        }
        p->raw = b.data;
        p->raw_len = b.len;
    } else if (r->files && r->o->add) {
        p->raw = wn__malloc(rec->raw_len ? rec->raw_len : 1);
        if (p->raw)
            memcpy(p->raw, rec->raw, rec->raw_len);
        p->raw_len = rec->raw_len;
    }
    if (!p->id || !p->source || (r->files && r->o->add && !p->raw)) {
        pending_release(p);
        return WN_ENOMEM;
    }
    p->rec = *rec;
    p->rec.raw = NULL;
    p->rec.raw_len = 0;
    p->rec.text = NULL;
    p->rec.text_len = 0;
    p->rec.id = p->id;
    p->rec.source = p->source;
    r->n++;
    return WN_OK;
}

static uint64_t peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024;
}

static int write_stats(struct run *r, double secs)
{
    struct wn_index_stats st;
    int rc = wn_index_stats(r->ix, &st);
    if (rc)
        return rc;
    const struct wn_index_run_report *p = &r->rep;
    struct wn_buf b = {0};
    rc = wn__buf_printf(
        &b,
        "{\n  \"read\": %llu,\n  \"kept\": %llu,\n  \"kept_indexed\": %llu,\n"
        "  \"removed\": %llu,\n"
        "  \"rejected\": %llu,\n  \"removed_exact\": %llu,\n"
        "  \"removed_near\": %llu,\n  \"removed_contained\": %llu,\n"
        "  \"removed_id\": %llu,\n  \"time_missing\": %llu,\n"
        "  \"blank_lines\": %llu,\n  \"bytes\": %llu,\n"
        "  \"transactions\": %llu,\n  \"seconds\": %.3f,\n"
        "  \"peak_rss_bytes\": %llu,\n  \"index\": {\"records\": %llu, "
        "\"bands\": %u, \"rows\": %u, \"used_bytes\": %llu, "
        "\"file_bytes\": %llu}\n}\n",
        (unsigned long long)p->read, (unsigned long long)p->kept,
        (unsigned long long)p->kept_indexed, (unsigned long long)p->removed,
        (unsigned long long)p->rejected, (unsigned long long)p->removed_exact,
        (unsigned long long)p->removed_near,
        (unsigned long long)p->removed_contained,
        (unsigned long long)p->removed_id, (unsigned long long)p->time_missing,
        (unsigned long long)p->blank_lines, (unsigned long long)p->bytes,
        (unsigned long long)p->transactions, secs,
        (unsigned long long)peak_rss(), (unsigned long long)st.records,
        st.bands, st.rows, (unsigned long long)st.used_bytes,
        (unsigned long long)st.file_bytes);
    if (!rc)
        rc = wn__outfile_write(&r->stats, b.data, b.len);
    wn__buf_release(&b);
    return rc;
}

static int run_pass(struct run *r, const char *const *inputs, size_t n)
{
    struct wn_reader *rd = NULL;
    size_t bad = 0;
    int rc = wn_reader_create(inputs, n, &r->o->reader, &rd, &bad);
    if (rc) {
        snprintf(r->rep.error_path, sizeof(r->rep.error_path), "%s",
                 bad < n ? inputs[bad] : "");
        return rc;
    }
    wn__reader_set_progress(rd, &r->o->progress, "read",
                            wn__inputs_bytes(inputs, n));
    size_t batch = r->o->batch ? r->o->batch : 1024;
    struct wn_record rec;
    for (;;) {
        if (r->o->cancel && *r->o->cancel) {
            rc = WN_EINTR;
            break;
        }
        int got = wn_reader_next(rd, &rec);
        if (got < 0) {
            rc = got;
            const char *ep = wn_reader_error_path(rd);
            snprintf(r->rep.error_path, sizeof(r->rep.error_path), "%s",
                     ep ? ep : "");
            break;
        }
        if (got == 0)
            break;
        r->rep.read++;
        if (rec.status != WN_OK) {
            r->rep.rejected++;
            if (r->o->on_reject)
                r->o->on_reject(r->o->ud, &rec);
            if (r->files)
                rc = write_rejected(r, &rec, rec.status);
        } else {
            rc = take(r, &rec);
            if (!rc && r->n >= batch)
                rc = flush(r);
        }
        if (rc)
            break;
    }
    if (!rc)
        rc = flush(r);
    r->rep.bytes = wn_reader_bytes(rd);
    r->rep.blank_lines = wn_reader_blank_lines(rd);
    wn_reader_free(rd);
    return rc;
}

int wn_index_run(struct wn_index *ix, const char *const *inputs, size_t n,
                 const char *outdir, const struct wn_index_run_options *opts,
                 struct wn_index_run_report *rep)
{
    assert(ix && opts && (inputs || !n));
    double t0 = mono();
    struct run r;
    memset(&r, 0, sizeof(r));
    r.ix = ix;
    r.o = opts;
    r.files = outdir != NULL;
    struct wn_dedup_options rule;
    wn_index_rule(ix, &rule);
    r.containment = rule.containment > 0;
    int rc = WN_OK;
    if (r.files) {
        rc = wn__outdir_open(&r.dir, outdir, inputs, n, !opts->no_fsync);
        if (!rc)
            rc = wn__outfile_open(&r.kept, &r.dir, "kept.jsonl");
        if (!rc)
            rc = wn__outfile_open(&r.removed, &r.dir, "removed.jsonl");
        if (!rc)
            rc = wn__outfile_open(&r.rejected, &r.dir, "rejected.jsonl");
        if (!rc)
            rc = wn__outfile_open(&r.stats, &r.dir, "stats.json");
        if (rc)
            snprintf(r.rep.error_path, sizeof(r.rep.error_path), "%s", outdir);
    }
    if (!rc)
        rc = run_pass(&r, inputs, n);
    double secs = mono() - t0;
    r.rep.seconds = secs;
    r.rep.peak_rss_bytes = peak_rss();
    if (!rc && r.files) {
        rc = write_stats(&r, secs);
        bool sync = !opts->no_fsync;
        if (!rc)
            rc = wn__outfile_finish(&r.kept, sync);
        if (!rc)
            rc = wn__outfile_finish(&r.removed, sync);
        if (!rc)
            rc = wn__outfile_finish(&r.rejected, sync);
        if (!rc)
            rc = wn__outfile_finish(&r.stats, sync);
        struct wn_outfile *outs[] = {&r.kept, &r.removed, &r.rejected,
                                     &r.stats};
        if (!rc)
            rc = wn__outfiles_publish(&r.dir, outs, 4);
    }
    for (size_t i = 0; i < r.n; i++)
        pending_release(&r.p[i]);
    for (size_t i = 0; i < r.rcap; i++)
        wn_index_result_release(&r.res[i]);
    wn__free(r.p);
    wn__free(r.items);
    wn__free(r.res);
    if (r.files) {
        wn__outfile_release(&r.kept);
        wn__outfile_release(&r.removed);
        wn__outfile_release(&r.rejected);
        wn__outfile_release(&r.stats);
        wn__outdir_close(&r.dir);
    }
    if (rep)
        *rep = r.rep;
    return rc;
}
