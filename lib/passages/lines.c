/*
 * lines.c - wn_lines_run(): lines or paragraphs that occur in many records
 * of the corpus, the boilerplate of crawled pages ("Link copied",
 * "Comment (0)", cookie notices), found by counting normalized unit hashes
 * over the corpus as CCNet does (Wenzek et al. 2020, "CCNet: Extracting
 * High Quality Monolingual Datasets from Web Crawl Data").
 *
 * Pass 1 tokenizes each record once, splits it into units (job.c), and
 * hashes each unit's tokens: the normalized bytes of its tokens, which lie
 * back to back in wn_tokens.norm with a '\0' between them, so no copy is
 * made. Each unit's (hash, bytes, tokens) goes to a spill file for pass 2;
 * each record's distinct hashes go to the count buffer. Counting is
 * distinct records per hash, so a line repeated inside one record counts
 * once (that is repetition, wn_repeats_run's business). When the buffer is
 * full it is sorted and run-length coded into a sorted run of (hash, count)
 * on disk; at the end the runs are merged, summing counts, and only hashes
 * seen in at least min_docs records are kept, sorted, in memory.
 *
 * Pass 2 reads the records again with their units from the spill file and
 * looks each unit up by binary search.
 *
 * Memory: the count buffer (memory / 16 hashes, with the sort's scratch
 * the whole budget), the frequent hashes (16 bytes each) and one record.
 * Time: O(bytes) for tokenizing and hashing, O(units) for the sorts, the
 * merge O(distinct units * log runs). Hashes are 64-bit: two different
 * units are confused with probability about units^2 / 2^65.
 */
#include "passages/passages.h"
#include "io/json.h"
#include "sketch/sketch.h"

#include <errno.h>
#include <stdlib.h>

#define DEFAULT_MEMORY (UINT64_C(1) << 30)
#define MAX_RECORD     (UINT64_C(4) << 30)
#define MIN_BUFFER     64u

enum { OUT_KEPT, OUT_REMOVED, OUT_LINES, OUT_REJECTED, OUT_STATS, NOUT };

static const char *const out_names[NOUT] = {"kept.jsonl", "removed.jsonl",
                                            "lines.jsonl", "rejected.jsonl",
                                            "stats.json"};

void wn_lines_options_init(struct wn_lines_options *o)
{
    memset(o, 0, sizeof(*o));
    o->mode = WN_SPANS_ANNOTATE;
    o->unit = WN_UNIT_LINE;
    o->token_mode = WN_TOKENS_WORD;
    /* Two records sharing a line are often a quotation or a republished
     * story (dedup's business); a line in three or more unrelated records
     * is almost always the site's template. */
    o->min_docs = 3;
    o->min_length = 20;
    o->memory = DEFAULT_MEMORY;
    o->seed = 1;
}

/* The spill file: per record a header, then its units with tokens. */
struct doc_head {
    uint64_t units, tokens, text_len;
};

struct unit_rec {
    uint64_t hash;
    uint32_t start, end, next, tokens;
};

/* A frequent unit: hash and the number of records it occurs in. */
struct freq {
    uint64_t hash, docs;
};

struct run {
    const struct wn_lines_options *o;
    struct wn_frame job;
    struct wn_lines_report rep;
    FILE *units;
    FILE **runs;
    size_t nruns;
    uint64_t *buf;
    size_t nbuf, buf_cap;
    struct freq *freq;
    size_t nfreq, freq_cap;
    uint64_t ndocs;
    uint64_t invalid_utf8; /* repaired sequences */
};

static int write_all(FILE *f, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, f) != n)
        return wn__status_from_errno(errno);
    return WN_OK;
}

/* ------------------------------------------------------------------------ */
/* Pass 1: hash units, count records per hash                               */
/* ------------------------------------------------------------------------ */

static int keep_freq(struct run *r, uint64_t hash, uint64_t docs)
{
    r->rep.distinct_units++;
    if (docs < r->o->min_docs)
        return WN_OK;
    if (WN_GROW(r->freq, r->freq_cap, r->nfreq + 1))
        return WN_ENOMEM;
    r->freq[r->nfreq].hash = hash;
    r->freq[r->nfreq].docs = docs;
    r->nfreq++;
    return WN_OK;
}

/* Sort the buffer and write it as one run of (hash, count). */
static int spill_run(struct run *r)
{
    int rc = wn__sort_u64(r->buf, r->nbuf);
    if (rc)
        return rc;
    FILE **runs = wn__reallocarray(r->runs, r->nruns + 1, sizeof(FILE *));
    if (!runs)
        return WN_ENOMEM;
    r->runs = runs;
    char name[32];
    snprintf(name, sizeof(name), "line-run-%zu", r->nruns);
    FILE *f = wn__frame_spill(&r->job, name, 0);
    if (!f)
        return WN_EOPEN;
    r->runs[r->nruns++] = f;
    if (wn__frame_cancelled(&r->job))
        rc = WN_EINTR;
    for (size_t i = 0; i < r->nbuf && !rc;) {
        size_t j = i + 1;
        while (j < r->nbuf && r->buf[j] == r->buf[i])
            j++;
        uint64_t e[2] = {r->buf[i], j - i};
        rc = write_all(f, e, sizeof(e));
        i = j;
    }
    r->nbuf = 0;
    return rc;
}

static int count_units(struct run *r, const uint64_t *h, size_t n)
{
    if (n == 0)
        return WN_OK;
    if (r->nbuf + n > r->buf_cap) {
        int rc = spill_run(r);
        if (rc)
            return rc;
        if (n > r->buf_cap) {
            /* One record with more distinct units than the buffer: grow. */
            if (WN_GROW(r->buf, r->buf_cap, n))
                return WN_ENOMEM;
        }
    }
    memcpy(r->buf + r->nbuf, h, n * sizeof(*h));
    r->nbuf += n;
    return WN_OK;
}

struct hasher {
    struct wn_tokens tok;
    struct wn_unit_span *u;
    size_t u_cap;
    struct unit_rec *ur;
    size_t ur_cap;
    uint64_t *h;
    size_t h_cap;
};

static int add_doc(struct run *r, struct hasher *s, const struct wn_record *rec)
{
    int rc = wn_tokenize(rec->text, rec->text_len, r->o->token_mode, &s->tok);
    if (rc)
        return rc;
    r->invalid_utf8 += s->tok.invalid_utf8;
    long nu =
        wn__split_units(rec->text, rec->text_len,
                        r->o->unit == WN_UNIT_PARAGRAPH, &s->u, &s->u_cap);
    if (nu < 0)
        return (int)nu;
    size_t n = 0, t = 0;
    const struct wn_token *tk = s->tok.tok;
    for (size_t i = 0; i < (size_t)nu; i++) {
        const struct wn_unit_span *u = &s->u[i];
        /* Tokens never contain a line feed, so each lies in one unit. */
        while (t < s->tok.n && tk[t].src_off < u->start)
            t++;
        size_t t0 = t;
        while (t < s->tok.n && tk[t].src_off < u->end)
            t++;
        if (t == t0)
            continue; /* no tokens: not a unit for counting */
        if (WN_GROW(s->ur, s->ur_cap, n + 1) || WN_GROW(s->h, s->h_cap, n + 1))
            return WN_ENOMEM;
        const char *a = s->tok.norm + tk[t0].norm_off;
        const char *b = s->tok.norm + tk[t - 1].norm_off + tk[t - 1].norm_len;
        struct unit_rec *x = &s->ur[n];
        x->hash = wn__hash64(a, (size_t)(b - a), r->o->seed);
        x->start = (uint32_t)u->start;
        x->end = (uint32_t)u->end;
        x->next = (uint32_t)u->next;
        x->tokens = (uint32_t)(t - t0);
        s->h[n] = x->hash;
        n++;
    }
    struct doc_head hd = {n, s->tok.n, rec->text_len};
    rc = write_all(r->units, &hd, sizeof(hd));
    if (!rc)
        rc = write_all(r->units, s->ur, n * sizeof(*s->ur));
    if (rc)
        return rc;
    r->rep.units += n;
    r->rep.tokens += s->tok.n;
    /* Distinct hashes of this record. */
    rc = wn__sort_u64(s->h, n);
    if (rc)
        return rc;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || s->h[i] != s->h[m - 1])
            s->h[m++] = s->h[i];
    r->ndocs++;
    return count_units(r, s->h, m);
}

static int pass1(struct run *r, struct wn_reader *rd)
{
    struct hasher s;
    memset(&s, 0, sizeof(s));
    wn_tokens_init(&s.tok);
    struct wn_record rec;
    int rc = WN_OK;
    while (!rc) {
        int got = wn_reader_next(rd, &rec);
        if (got < 0) {
            wn__frame_reader_error(&r->job, rd);
            rc = got;
            break;
        }
        if (got == 0)
            break;
        r->rep.read++;
        rc = wn__frame_spool(&r->job, &rec);
        if (rc)
            break;
        if (rec.status) {
            r->rep.rejected++;
            if (r->o->on_reject)
                r->o->on_reject(r->o->ud, &rec);
            rc = wn__frame_reject(&r->job.out[OUT_REJECTED], &rec);
        } else {
            rc = add_doc(r, &s, &rec);
        }
        if (!rc && wn__frame_cancelled(&r->job))
            rc = WN_EINTR;
    }
    r->rep.blank_lines = wn_reader_blank_lines(rd);
    r->rep.bytes = wn_reader_bytes(rd);
    wn_tokens_release(&s.tok);
    wn__free(s.u);
    wn__free(s.ur);
    wn__free(s.h);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The frequent set                                                          */
/* ------------------------------------------------------------------------ */

struct cursor {
    FILE *f;
    uint64_t e[2];
};

static int cursor_next(struct cursor *c, bool *done)
{
    size_t got = fread(c->e, sizeof(c->e), 1, c->f);
    if (got == 1) {
        *done = false;
        return WN_OK;
    }
    *done = true;
    return ferror(c->f) ? WN_EIO : WN_OK;
}

/* k-way merge of the runs with a binary heap on hashes. */
static int merge_runs(struct run *r)
{
    size_t k = r->nruns;
    struct cursor *c = wn__calloc(k, sizeof(*c));
    size_t *heap = wn__reallocarray(NULL, k, sizeof(size_t));
    int rc = c && heap ? WN_OK : WN_ENOMEM;
    size_t nh = 0;
    for (size_t i = 0; i < k && !rc; i++) {
        c[i].f = r->runs[i];
        if (fflush(c[i].f) != 0 || fseeko(c[i].f, 0, SEEK_SET) != 0) {
            rc = WN_EIO;
            break;
        }
        bool done;
        rc = cursor_next(&c[i], &done);
        if (!rc && !done) {
            /* sift up */
            size_t x = nh++;
            heap[x] = i;
            while (x > 0 && c[heap[(x - 1) / 2]].e[0] > c[heap[x]].e[0]) {
                size_t p = (x - 1) / 2, t = heap[p];
                heap[p] = heap[x];
                heap[x] = t;
                x = p;
            }
        }
    }
    bool have = false;
    uint64_t cur = 0, sum = 0, steps = 0;
    while (nh > 0 && !rc) {
        if ((++steps & 0xffff) == 0 && wn__frame_cancelled(&r->job)) {
            rc = WN_EINTR;
            break;
        }
        struct cursor *top = &c[heap[0]];
        if (have && top->e[0] == cur) {
            sum += top->e[1];
        } else {
            if (have)
                rc = keep_freq(r, cur, sum);
            have = true;
            cur = top->e[0];
            sum = top->e[1];
        }
        bool done;
        if (!rc)
            rc = cursor_next(top, &done);
        if (rc)
            break;
        if (done)
            heap[0] = heap[--nh];
        /* sift down */
        size_t x = 0;
        for (;;) {
            size_t l = 2 * x + 1, m = x;
            if (l < nh && c[heap[l]].e[0] < c[heap[m]].e[0])
                m = l;
            if (l + 1 < nh && c[heap[l + 1]].e[0] < c[heap[m]].e[0])
                m = l + 1;
            if (m == x)
                break;
            size_t t = heap[m];
            heap[m] = heap[x];
            heap[x] = t;
            x = m;
        }
    }
    if (!rc && have)
        rc = keep_freq(r, cur, sum);
    wn__free(c);
    wn__free(heap);
    return rc;
}

static int build_freq(struct run *r)
{
    int rc;
    if (r->nruns == 0) {
        rc = wn__sort_u64(r->buf, r->nbuf);
        for (size_t i = 0; i < r->nbuf && !rc;) {
            size_t j = i + 1;
            while (j < r->nbuf && r->buf[j] == r->buf[i])
                j++;
            rc = keep_freq(r, r->buf[i], j - i);
            i = j;
        }
    } else {
        rc = r->nbuf ? spill_run(r) : WN_OK;
        if (!rc)
            rc = merge_runs(r);
    }
    wn__free(r->buf);
    r->buf = NULL;
    r->rep.frequent_units = r->nfreq;
    r->rep.runs = (uint32_t)r->nruns;
    return rc;
}

/* The number of records unit hash h occurs in, if frequent, else 0. */
static uint64_t lookup(const struct run *r, uint64_t h)
{
    size_t lo = 0, hi = r->nfreq;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->freq[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->nfreq && r->freq[lo].hash == h ? r->freq[lo].docs : 0;
}

/* ------------------------------------------------------------------------ */
/* Pass 2                                                                    */
/* ------------------------------------------------------------------------ */

struct writer {
    struct unit_rec *u;
    size_t u_cap;
    uint64_t *docs; /* per unit: records it occurs in, 0 if not frequent */
    size_t docs_cap;
    struct wn_cut *cuts;
    size_t cuts_cap;
    struct wn_buf line, text, rec;
};

static int write_doc(struct run *r, struct writer *w,
                     const struct wn_record *rec)
{
    struct doc_head hd;
    if (fread(&hd, sizeof(hd), 1, r->units) != 1)
        return WN_EIO;
    if (hd.text_len != rec->text_len)
        return wn__frame_changed(&r->job, rec);
    size_t n = (size_t)hd.units;
    if (WN_GROW(w->u, w->u_cap, n + 1) ||
        WN_GROW(w->docs, w->docs_cap, n + 1) ||
        WN_GROW(w->cuts, w->cuts_cap, n + 1))
        return WN_ENOMEM;
    if (n && fread(w->u, sizeof(*w->u), n, r->units) != n)
        return WN_EIO;
    bool remove = r->o->mode == WN_SPANS_REMOVE;
    size_t nf = 0, cut_tokens = 0;
    for (size_t i = 0; i < n; i++) {
        w->docs[i] = lookup(r, w->u[i].hash);
        if (!w->docs[i])
            continue;
        w->cuts[nf].start = w->u[i].start;
        w->cuts[nf].end = remove ? w->u[i].next : w->u[i].end;
        cut_tokens += w->u[i].tokens;
        nf++;
    }
    size_t left = (size_t)hd.tokens - cut_tokens;
    r->rep.repeated_units += nf;
    r->rep.repeated_tokens += cut_tokens;
    int rc = WN_OK;
    /* "short" in lines.jsonl and short_docs in stats.json say the same, in
     * both modes: in annotate mode, what removal would leave. */
    bool is_short = left > 0 && left < r->o->min_length;
    if (nf) {
        r->rep.docs_with_repeats++;
        r->rep.short_docs += is_short;
        struct wn_buf *b = &w->line;
        b->len = 0;
        rc = WN_BUF_LIT(b, "{\"id\":");
        if (!rc)
            rc = wn__json_escape(rec->id, rec->id_len, b);
        if (!rc)
            rc = wn__buf_printf(b,
                                ",\"tokens\":%llu,\"tokens_left\":%zu,"
                                "\"short\":%s,\"units\":[",
                                (unsigned long long)hd.tokens, left,
                                is_short ? "true" : "false");
        for (size_t i = 0, j = 0; i < n && !rc; i++) {
            if (!w->docs[i])
                continue;
            rc = wn__buf_printf(b, "%s{\"start\":%zu,\"end\":%zu,\"docs\":%llu",
                                j ? "," : "", w->cuts[j].start, w->cuts[j].end,
                                (unsigned long long)w->docs[i]);
            /* The unit itself (without what remove mode cuts after it). */
            if (!rc)
                rc = WN_BUF_LIT(b, ",\"text\":");
            if (!rc)
                rc = wn__json_escape(rec->text + w->u[i].start,
                                     w->u[i].end - w->u[i].start, b);
            if (!rc)
                rc = wn__buf_putc(b, '}');
            j++;
        }
        if (!rc)
            rc = WN_BUF_LIT(b, "]}\n");
        if (!rc)
            rc = wn__outfile_write(&r->job.out[OUT_LINES], b->data, b->len);
        if (rc)
            return rc;
    }
    if (!remove || nf == 0) {
        r->rep.kept++;
        return wn__write_record(&r->job.out[OUT_KEPT], rec,
                                r->job.ro.text_field, NULL, 0, &w->rec);
    }
    if (left == 0 || (is_short && r->o->drop_short)) {
        const char *reason = left > 0 ? "too short after removal"
                             : r->o->unit == WN_UNIT_PARAGRAPH
                                 ? "all paragraphs repeated"
                                 : "all lines repeated";
        r->rep.removed++;
        if (left == 0)
            r->rep.removed_empty++;
        else
            r->rep.removed_short++;
        struct wn_buf *b = &w->line;
        b->len = 0;
        rc = WN_BUF_LIT(b, "{\"id\":");
        if (!rc)
            rc = wn__json_escape(rec->id, rec->id_len, b);
        if (!rc)
            rc = wn__json_kv(b, "reason", reason, strlen(reason));
        if (!rc)
            rc = wn__buf_printf(b, ",\"tokens\":%llu,\"tokens_left\":%zu}\n",
                                (unsigned long long)hd.tokens, left);
        if (!rc)
            rc = wn__outfile_write(&r->job.out[OUT_REMOVED], b->data, b->len);
        return rc;
    }
    for (size_t i = 0; i < nf; i++)
        r->rep.cut_bytes += w->cuts[i].end - w->cuts[i].start;
    rc = wn__apply_cuts(rec->text, rec->text_len, w->cuts, nf, &w->text);
    if (rc)
        return rc;
    r->rep.kept++;
    return wn__write_record(&r->job.out[OUT_KEPT], rec, r->job.ro.text_field,
                            w->text.data ? w->text.data : "", w->text.len,
                            &w->rec);
}

static int pass2(struct run *r)
{
    if (fflush(r->units) != 0 || fseeko(r->units, 0, SEEK_SET) != 0)
        return WN_EIO;
    struct wn_reader *rd = NULL;
    int rc = wn__frame_reopen(&r->job, false, &rd);
    if (rc)
        return rc;
    struct writer w;
    memset(&w, 0, sizeof(w));
    struct wn_record rec;
    uint64_t d = 0;
    while (!rc) {
        int got = wn_reader_next(rd, &rec);
        if (got < 0) {
            wn__frame_reader_error(&r->job, rd);
            rc = got;
            break;
        }
        if (got == 0)
            break;
        if (rec.status)
            continue;
        if (d++ >= r->ndocs) {
            rc = wn__frame_changed(&r->job, &rec);
            break;
        }
        rc = write_doc(r, &w, &rec);
        if (!rc && wn__frame_cancelled(&r->job))
            rc = WN_EINTR;
    }
    if (!rc && d != r->ndocs)
        rc = wn__frame_changed(&r->job, NULL);
    wn_reader_free(rd);
    wn__free(w.u);
    wn__free(w.docs);
    wn__free(w.cuts);
    wn__buf_release(&w.line);
    wn__buf_release(&w.text);
    wn__buf_release(&w.rec);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The run                                                                   */
/* ------------------------------------------------------------------------ */

static int write_stats(struct run *r)
{
    const struct wn_lines_options *o = r->o;
    const struct wn_lines_report *p = &r->rep;
    struct wn_buf b = {0};
    int rc = wn__buf_printf(
        &b,
        "{\n  \"read\": %llu,\n  \"kept\": %llu,\n  \"removed\": %llu,\n"
        "  \"rejected\": %llu,\n  \"removed_empty\": %llu,\n"
        "  \"removed_short\": %llu,\n  \"short_docs\": %llu,\n"
        "  \"blank_lines\": %llu,\n  \"bytes\": %llu,\n"
        "  \"invalid_utf8\": %llu,\n  \"tokens\": %llu,\n"
        "  \"units\": %llu,\n  \"distinct_units\": %llu,\n"
        "  \"frequent_units\": %llu,\n  \"docs_with_repeats\": %llu,\n"
        "  \"repeated_units\": %llu,\n  \"repeated_tokens\": %llu,\n"
        "  \"cut_bytes\": %llu,\n  \"runs\": %u,\n",
        (unsigned long long)p->read, (unsigned long long)p->kept,
        (unsigned long long)p->removed, (unsigned long long)p->rejected,
        (unsigned long long)p->removed_empty,
        (unsigned long long)p->removed_short, (unsigned long long)p->short_docs,
        (unsigned long long)p->blank_lines, (unsigned long long)p->bytes,
        (unsigned long long)r->invalid_utf8, (unsigned long long)p->tokens,
        (unsigned long long)p->units, (unsigned long long)p->distinct_units,
        (unsigned long long)p->frequent_units,
        (unsigned long long)p->docs_with_repeats,
        (unsigned long long)p->repeated_units,
        (unsigned long long)p->repeated_tokens,
        (unsigned long long)p->cut_bytes, p->runs);
    if (!rc)
        rc = wn__buf_printf(
            &b,
            "  \"options\": {\"mode\": \"%s\", \"unit\": \"%s\", "
            "\"tokens\": \"%s\", \"min_docs\": %u, \"min_length\": %u, "
            "\"drop_short\": %s, \"memory\": %llu, \"seed\": %llu},\n",
            o->mode == WN_SPANS_REMOVE ? "remove" : "annotate",
            o->unit == WN_UNIT_PARAGRAPH ? "paragraph" : "line",
            o->token_mode == WN_TOKENS_CHAR ? "char" : "word", o->min_docs,
            o->min_length, o->drop_short ? "true" : "false",
            (unsigned long long)o->memory, (unsigned long long)o->seed);
    if (!rc)
        rc = WN_BUF_LIT(&b, "  \"inputs\": [");
    for (size_t i = 0; i < r->job.ninputs && !rc; i++) {
        if (i)
            rc = WN_BUF_LIT(&b, ", ");
        if (!rc)
            rc =
                wn__json_escape(r->job.inputs[i], strlen(r->job.inputs[i]), &b);
    }
    if (!rc)
        rc = wn__buf_printf(
            &b,
            "],\n  \"seconds\": %.3f,\n  \"stage_seconds\": {\"count\": "
            "%.3f, \"write\": %.3f},\n  \"peak_rss_bytes\": %llu\n}\n",
            p->seconds, p->stage_seconds[0], p->stage_seconds[1],
            (unsigned long long)p->peak_rss_bytes);
    if (!rc)
        rc = wn__outfile_write(&r->job.out[OUT_STATS], b.data, b.len);
    wn__buf_release(&b);
    return rc;
}

static int validate(const struct wn_lines_options *o)
{
    if (o->mode != WN_SPANS_ANNOTATE && o->mode != WN_SPANS_REMOVE)
        return WN_EINVAL;
    if (o->unit != WN_UNIT_LINE && o->unit != WN_UNIT_PARAGRAPH)
        return WN_EINVAL;
    if (o->token_mode != WN_TOKENS_WORD && o->token_mode != WN_TOKENS_CHAR)
        return WN_EINVAL;
    if (o->min_docs == 0)
        return WN_EINVAL;
    if (o->drop_short && o->mode != WN_SPANS_REMOVE)
        return WN_EINVAL;
    if (o->reader.max_record_bytes >= MAX_RECORD)
        return WN_EINVAL; /* offsets are 32-bit */
    return WN_OK;
}

int wn_lines_run(const char *const *inputs, size_t n, const char *outdir,
                 const struct wn_lines_options *opts,
                 struct wn_lines_report *rep)
{
    struct wn_lines_options defaults;
    if (!opts) {
        wn_lines_options_init(&defaults);
        opts = &defaults;
    }
    int rc = validate(opts);
    if (rc)
        return rc;
    struct wn_lines_options o = *opts;
    if (!o.memory)
        o.memory = DEFAULT_MEMORY;
    struct run *r = wn__calloc(1, sizeof(*r));
    if (!r)
        return WN_ENOMEM;
    r->o = &o;
    struct wn_reader *rd = NULL;
    rc = wn__frame_start(&r->job, inputs, n, &o.reader, outdir, o.tmp_dir,
                         out_names, NOUT, true, true, o.cancel, 1, &rd);
    if (!rc)
        wn__frame_set_progress(&r->job, &o.progress, rd);
    if (!rc) {
        r->units = wn__frame_spill(&r->job, "units", 0);
        if (!r->units)
            rc = WN_EOPEN;
    }
    if (!rc) {
        /* The buffer and the sort's scratch share the budget. */
        r->buf_cap = (size_t)WN_MAX(o.memory / 16, MIN_BUFFER);
        r->buf = wn__reallocarray(NULL, r->buf_cap, sizeof(uint64_t));
        if (!r->buf)
            rc = WN_ENOMEM;
    }
    if (!rc)
        rc = pass1(r, rd);
    wn_reader_free(rd);
    if (!rc)
        wn__frame_stage(&r->job, "count", "records", 0, 0);
    if (!rc)
        rc = build_freq(r);
    double t1 = wn__now();
    r->rep.stage_seconds[0] = t1 - r->job.t0;
    if (!rc)
        rc = pass2(r);
    r->rep.stage_seconds[1] = wn__now() - t1;
    r->rep.seconds = wn__now() - r->job.t0;
    r->rep.peak_rss_bytes = wn__peak_rss();
    if (!rc && r->rep.read != r->rep.kept + r->rep.removed + r->rep.rejected)
        rc = WN_EIO;
    if (!rc)
        rc = write_stats(r);
    if (!rc)
        rc = wn__frame_commit(&r->job, true);
    r->rep.invalid_utf8 = r->invalid_utf8;
    wn__frame_error(&r->job, rc, r->rep.error_path, sizeof(r->rep.error_path),
                    &r->rep.error_errno);
    if (rep)
        *rep = r->rep;
    if (r->units)
        fclose(r->units);
    for (size_t i = 0; i < r->nruns; i++)
        fclose(r->runs[i]);
    wn__free(r->runs);
    wn__free(r->buf);
    wn__free(r->freq);
    wn__frame_release(&r->job);
    wn__free(r);
    return rc;
}
