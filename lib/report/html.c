/*
 * html.c - report.html for a finished dedup run: one self-contained page
 * (inline style and SVG, no script, no network) drawn from the run's
 * outputs and its inputs.
 *
 * What it reads, each once, streaming:
 *   stats.json      the summary, the options, the inputs;
 *   clusters.jsonl  the size distribution, the largest clusters (a bounded
 *                   heap), the representatives of the sampled clusters;
 *   removed.jsonl   the histogram of verified similarities by reason, and
 *                   the first members of the sampled clusters;
 *   the inputs      every accepted record's lines into a bounded frequent-
 *                   line summary (topline.c), and the texts of the sampled
 *                   records, which are then aligned with wn_explain().
 * The sample is every (clusters / sample_clusters)-th cluster, so it spreads
 * over the run rather than showing only its start. Memory and page size are
 * bounded by the options (sample sizes, text_cap) whatever the corpus: at
 * the defaults the page stays near 1 MB at most.
 *
 * The page is written to a temporary file in outdir, fsync'ed and renamed
 * to report.html, so a reader sees the old page or the new one.
 *
 * `winnow dedup --report` fills the same struct wn__report during the run
 * instead (gather.c) and writes the page with the other outputs; the
 * gathering functions below are shared, so the two pages agree.
 */
#include "io/outfile.h"
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIM_BINS   WN__REPORT_SIM_BINS
#define SIZE_BINS  WN__REPORT_SIZE_BINS
#define REASONS    WN__REPORT_REASONS
#define TOPLINES   8192
#define PREVIEW    300 /* bytes of members listed per cluster */
#define SVG_W      560
#define SVG_H      220
#define SVG_MARGIN 40

static const char *const reason_names[REASONS] = {"exact", "near", "contained"};
static const char *const reason_colors[REASONS] = {"#4c72b0", "#dd8452",
                                                   "#55a868"};

void wn_report_options_init(struct wn_report_options *o)
{
    memset(o, 0, sizeof(*o));
    o->sample_clusters = 8;
    o->sample_members = 4;
    o->top_clusters = 20;
    o->top_lines = 30;
    o->text_cap = 16u << 10;
    o->line_sample_bytes = (uint64_t)8 << 20;
}

static uint64_t jnum(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return (uint64_t)json_integer_value(v);
    if (json_is_real(v))
        return (uint64_t)json_real_value(v);
    return 0;
}

static double jreal(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ------------------------------------------------------------------------ */
/* What the page shows, gathered from either source                          */
/* ------------------------------------------------------------------------ */

void wn__report_set_clusters(struct wn__report *r, uint64_t nclusters)
{
    uint64_t s = r->o->sample_clusters ? r->o->sample_clusters : 1;
    r->nclusters = nclusters;
    r->every = nclusters > s ? nclusters / s : 1;
}

int wn__report_init(struct wn__report *r, const struct wn_report_options *opts,
                    uint64_t nclusters)
{
    memset(r, 0, sizeof(*r));
    r->o = opts;
    r->lines_stride = 1;
    wn__report_set_clusters(r, nclusters);
    int rc = wn__topline_init(&r->lines, TOPLINES);
    r->big = wn__calloc(opts->top_clusters + 1, sizeof(*r->big));
    r->smp = wn__calloc(opts->sample_clusters + 1, sizeof(*r->smp));
    return rc ? rc : r->big && r->smp ? WN_OK : WN_ENOMEM;
}

void wn__report_release(struct wn__report *r)
{
    json_decref(r->stats);
    for (size_t i = 0; i < r->nbig; i++) {
        wn__free(r->big[i].rep);
        wn__free(r->big[i].members);
    }
    wn__free(r->big);
    for (size_t i = 0; i < r->nsmp; i++)
        wn__free(r->smp[i].rep);
    wn__free(r->smp);
    for (size_t i = 0; i < r->npairs; i++) {
        wn__free(r->pairs[i].id);
        wn__free(r->pairs[i].rep);
        wn_explanation_free(r->pairs[i].x);
    }
    wn__free(r->pairs);
    for (size_t i = 0; i < r->ntexts; i++) {
        wn__free(r->texts[i].id);
        wn__free(r->texts[i].s);
    }
    wn__free(r->texts);
    wn__topline_release(&r->lines);
    memset(r, 0, sizeof(*r));
}

static int big_before(const struct wn__report_big *a,
                      const struct wn__report_big *b)
{
    return a->size != b->size ? a->size > b->size : a->cluster < b->cluster;
}

int wn__report_preview_add(struct wn_buf *b, const char *id, bool *full)
{
    size_t n = strlen(id);
    if (b->len + n + 2 > PREVIEW) {
        *full = true;
        return WN_BUF_LIT(b, ", ..."); /* a shorter preview otherwise */
    }
    if (b->len && WN_BUF_LIT(b, ", "))
        return WN_ENOMEM;
    return wn__buf_append(b, id, n);
}

int wn__report_cluster(struct wn__report *r, uint64_t c, uint64_t size,
                       const char *rep, const char *members,
                       struct wn__report_sampled **sampled)
{
    if (sampled)
        *sampled = NULL;
    unsigned bin = 0;
    while (bin + 1 < SIZE_BINS && (2ull << bin) < size)
        bin++;
    r->size_bins[bin]++;
    /* The largest clusters: a sorted array, the smallest last. */
    size_t k = r->o->top_clusters;
    struct wn__report_big cand = {c, size, NULL, NULL};
    if (k && (r->nbig < k || big_before(&cand, &r->big[r->nbig - 1]))) {
        cand.rep = wn__strdup(rep);
        cand.members = members ? wn__strdup(members) : NULL;
        if (!cand.rep || (members && !cand.members)) {
            wn__free(cand.rep);
            wn__free(cand.members);
            return WN_ENOMEM;
        }
        if (r->nbig == k) {
            wn__free(r->big[k - 1].rep);
            wn__free(r->big[k - 1].members);
            r->nbig--;
        }
        size_t i = r->nbig++;
        while (i > 0 && big_before(&cand, &r->big[i - 1])) {
            r->big[i] = r->big[i - 1];
            i--;
        }
        r->big[i] = cand;
    }
    if (r->nsmp < r->o->sample_clusters && c % r->every == 0) {
        struct wn__report_sampled *s = &r->smp[r->nsmp];
        memset(s, 0, sizeof(*s));
        s->rep = wn__strdup(rep);
        if (!s->rep)
            return WN_ENOMEM;
        s->cluster = c;
        s->size = size;
        r->nsmp++;
        if (sampled)
            *sampled = s;
    }
    return WN_OK;
}

static struct wn__report_sampled *find_sampled(struct wn__report *r, uint64_t c)
{
    for (size_t i = 0; i < r->nsmp; i++)
        if (r->smp[i].cluster == c)
            return &r->smp[i];
    return NULL;
}

int wn__report_removed(struct wn__report *r, uint64_t cluster, const char *id,
                       const char *rep, double s, const char *reason,
                       struct wn__report_pair **pair)
{
    if (pair)
        *pair = NULL;
    unsigned k = 1;
    for (unsigned i = 0; i < REASONS; i++)
        if (!strcmp(reason, reason_names[i]))
            k = i;
    int bin = (int)(s * SIM_BINS);
    bin = bin < 0 ? 0 : bin >= SIM_BINS ? SIM_BINS - 1 : bin;
    r->sim_bins[k][bin]++;
    r->removed_lines++;
    struct wn__report_sampled *sm = find_sampled(r, cluster);
    if (!sm || sm->npairs >= r->o->sample_members)
        return WN_OK;
    if (WN_GROW(r->pairs, r->paircap, r->npairs + 1))
        return WN_ENOMEM;
    struct wn__report_pair *p = &r->pairs[r->npairs];
    memset(p, 0, sizeof(*p));
    p->cluster = sm->cluster;
    p->id = wn__strdup(id);
    p->rep = wn__strdup(rep);
    p->similarity = s;
    snprintf(p->reason, sizeof(p->reason), "%s", reason);
    r->npairs++;
    sm->npairs++;
    if (pair)
        *pair = p;
    return p->id && p->rep ? WN_OK : WN_ENOMEM;
}

struct wn__report_text *wn__report_find_text(struct wn__report *r,
                                             const char *id, size_t len)
{
    for (size_t i = 0; i < r->ntexts; i++)
        if (r->texts[i].id_len == len && !memcmp(r->texts[i].id, id, len))
            return &r->texts[i];
    return NULL;
}

struct wn__report_text *wn__report_want_text(struct wn__report *r,
                                             const char *id)
{
    struct wn__report_text *t = wn__report_find_text(r, id, strlen(id));
    if (t)
        return t;
    if (WN_GROW(r->texts, r->textcap, r->ntexts + 1))
        return NULL;
    t = &r->texts[r->ntexts];
    memset(t, 0, sizeof(*t));
    t->id = wn__strdup(id);
    if (!t->id)
        return NULL;
    t->id_len = strlen(id);
    t->doc = UINT64_MAX;
    r->ntexts++;
    return t;
}

int wn__report_set_text(struct wn__report_text *t, const char *text, size_t len)
{
    size_t keep = WN_MIN(len, WN__REPORT_TEXT_MAX);
    char *s = wn__malloc(keep + 1);
    if (!s)
        return WN_ENOMEM;
    memcpy(s, text, keep);
    s[keep] = '\0';
    wn__free(t->s);
    t->s = s;
    t->len = keep;
    t->full_len = len;
    return WN_OK;
}

int wn__report_align(struct wn__report *r)
{
    /* Align each sampled pair as the dedup options compare them. */
    struct wn_explain_options eo;
    wn_explain_options_init(&eo);
    json_t *o = json_object_get(r->stats, "options");
    if (json_is_object(o)) {
        if (jnum(o, "ngram"))
            eo.ngram = (unsigned)jnum(o, "ngram");
        if (jnum(o, "num_perm") && jnum(o, "num_perm") <= 4096)
            eo.num_perm = (uint32_t)jnum(o, "num_perm");
        double t = jreal(o, "threshold");
        if (t > 0 && t < 1)
            eo.threshold = t;
        eo.containment = jreal(o, "containment");
        eo.verify = !strcmp(jstr(o, "verify"), "exact") ? WN_VERIFY_EXACT
                                                        : WN_VERIFY_ESTIMATE;
        eo.token_mode = !strcmp(jstr(o, "tokens"), "char") ? WN_TOKENS_CHAR
                                                           : WN_TOKENS_WORD;
        if (jnum(o, "seed"))
            eo.seed = jnum(o, "seed");
        const char *pf = jstr(o, "profile");
        eo.profile = !strcmp(pf, "news")  ? WN_PROFILE_NEWS
                     : !strcmp(pf, "web") ? WN_PROFILE_WEB
                                          : WN_PROFILE_CLASSIC;
    }
    int rc = WN_OK;
    for (size_t i = 0; !rc && i < r->npairs; i++) {
        struct wn__report_pair *p = &r->pairs[i];
        const struct wn__report_text *ta =
            wn__report_find_text(r, p->rep, strlen(p->rep));
        const struct wn__report_text *tb =
            wn__report_find_text(r, p->id, strlen(p->id));
        if (ta && tb && ta->s && tb->s)
            rc = wn_explain(ta->s, ta->len, tb->s, tb->len, &eo, &p->x);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* From a finished run's files (winnow report DIR)                           */
/* ------------------------------------------------------------------------ */

struct files {
    struct wn__report r;
    const char *outdir;
    char *error_path;
    size_t cap;
};

static int fail(struct files *x, int rc, const char *path)
{
    if (x->error_path && x->cap)
        snprintf(x->error_path, x->cap, "%s", path);
    return rc;
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = wn__malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Call fn on every line of outdir/name, parsed. */
static int each_line(struct files *x, const char *name,
                     int (*fn)(struct wn__report *, json_t *))
{
    char *p = path_in(x->outdir, name);
    if (!p)
        return WN_ENOMEM;
    FILE *f = fopen(p, "r");
    if (!f) {
        int rc = fail(x, WN_EOPEN, p);
        wn__free(p);
        return rc;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    int rc = WN_OK;
    while (!rc && (n = getline(&line, &lcap, f)) > 0) {
        json_error_t err;
        json_t *o = json_loadb(line, (size_t)n, 0, &err);
        if (!json_is_object(o)) {
            json_decref(o);
            rc = fail(x, WN_EPARSE, p);
            break;
        }
        rc = fn(&x->r, o);
        json_decref(o);
    }
    if (!rc && ferror(f))
        rc = fail(x, WN_EIO, p);
    free(line);
    fclose(f);
    wn__free(p);
    return rc;
}

static int on_cluster(struct wn__report *r, json_t *o)
{
    struct wn_buf b = {0};
    bool full = false;
    size_t i;
    json_t *v;
    int rc = WN_OK;
    json_array_foreach(json_object_get(o, "members"), i, v)
    {
        const char *s = json_string_value(v);
        if (s && !full)
            rc = rc ? rc : wn__report_preview_add(&b, s, &full);
    }
    if (!rc)
        rc = wn__buf_putc(&b, '\0');
    if (!rc)
        rc = wn__report_cluster(r, jnum(o, "cluster"), jnum(o, "size"),
                                jstr(o, "representative"), b.data, NULL);
    wn__buf_release(&b);
    return rc;
}

static int on_removed(struct wn__report *r, json_t *o)
{
    return wn__report_removed(r, jnum(o, "cluster"), jstr(o, "id"),
                              jstr(o, "duplicate_of"), jreal(o, "similarity"),
                              jstr(o, "reason"), NULL);
}

/* Read the inputs once: frequent lines, and the sampled texts. */
static int read_inputs(struct files *x)
{
    struct wn__report *r = &x->r;
    const char **paths = NULL;
    size_t n = r->o->ninputs;
    if (n) {
        paths = (const char **)r->o->inputs;
    } else {
        json_t *in = json_object_get(r->stats, "inputs");
        n = json_array_size(in);
        if (n == 0)
            return fail(x, WN_EOPEN, "stats.json: no inputs recorded");
        paths = wn__calloc(n, sizeof(*paths));
        if (!paths)
            return WN_ENOMEM;
        for (size_t i = 0; i < n; i++)
            paths[i] = json_string_value(json_array_get(in, i));
        for (size_t i = 0; i < n; i++)
            if (!paths[i]) {
                wn__free(paths);
                return fail(x, WN_EPARSE, "stats.json");
            }
    }
    struct wn_reader *rd = NULL;
    size_t bad = 0;
    int rc = wn_reader_create(paths, n, &r->o->reader, &rd, &bad);
    if (rc)
        fail(x, rc, paths[bad < n ? bad : 0]);
    struct wn_record rec;
    int got = 0;
    while (!rc && (got = wn_reader_next(rd, &rec)) > 0) {
        if (rec.status)
            continue;
        r->records_used++;
        rc = wn__topline_add(&r->lines, rec.text, rec.text_len);
        struct wn__report_text *t = wn__report_find_text(r, rec.id, rec.id_len);
        if (!rc && t && !t->s)
            rc = wn__report_set_text(t, rec.text, rec.text_len);
    }
    if (!rc && got < 0) {
        const char *p = wn_reader_error_path(rd);
        rc = fail(x, got, p ? p : "input");
    }
    wn_reader_free(rd);
    if (!r->o->ninputs)
        wn__free(paths);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* HTML-escaped text; NUL and other C0 controls but tab and line feed
 * become U+FFFD. */
static void esc(FILE *f, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            if (c < 0x20 && c != '\n' && c != '\t')
                rep = "\xEF\xBF\xBD";
        }
        if (!rep) {
            run++;
            continue;
        }
        fwrite(s + i - run, 1, run, f);
        run = 0;
        fputs(rep, f);
    }
    fwrite(s + n - run, 1, run, f);
}

static void escs(FILE *f, const char *s)
{
    esc(f, s, strlen(s));
}

static const char STYLE[] =
    "body{font-family:sans-serif;margin:2em auto;max-width:1200px;"
    "color:#222;padding:0 1em}"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left;"
    "vertical-align:top}th{background:#f4f4f4}td.n{text-align:right}"
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:1em}"
    ".text{white-space:pre-wrap;font-family:monospace;font-size:12px;"
    "border:1px solid #ddd;padding:.5em;max-height:30em;overflow:auto;"
    "word-break:break-word}"
    "mark.p0{background:#cfe8cf}mark.p1{background:#cfdcf0}"
    "mark.p2{background:#f3e2c4}mark.p3{background:#e6d3ee}"
    ".note{color:#666;font-size:.9em}.ok{color:#2a7a2a}.bad{color:#b00}"
    "svg text{font-size:11px;font-family:sans-serif}";

static void svg_axes(FILE *f, const char *xlabel, const char *ylabel)
{
    int x0 = SVG_MARGIN, y0 = SVG_H - SVG_MARGIN, x1 = SVG_W - 10, y1 = 10;
    fprintf(f,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>",
            x0, y0, x1, y0, x0, y0, x0, y1);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (x0 + x1) / 2,
            SVG_H - 5);
    escs(f, xlabel);
    fprintf(f,
            "</text><text x=\"12\" y=\"%d\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 12 %d)\">",
            (y0 + y1) / 2, (y0 + y1) / 2);
    escs(f, ylabel);
    fputs("</text>", f);
}

static double px_x(double u) /* u in [0, 1] */
{
    return SVG_MARGIN + u * (SVG_W - 10 - SVG_MARGIN);
}

static double px_y(double u)
{
    return (SVG_H - SVG_MARGIN) - u * (SVG_H - SVG_MARGIN - 10);
}

static void svg_scurve(FILE *f, uint32_t bands, uint32_t rows, double t)
{
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" role=\"img\"><title>S-curve</title>",
            SVG_W, SVG_H);
    svg_axes(f, "Jaccard similarity of a pair", "P(candidate)");
    for (int i = 0; i <= 4; i++) {
        double u = i / 4.0;
        fprintf(f,
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.2g</text>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.2g</text>",
                px_x(u), SVG_H - SVG_MARGIN + 14, u, SVG_MARGIN - 4,
                px_y(u) + 4, u);
    }
    fputs("<polyline fill=\"none\" stroke=\"#4c72b0\" stroke-width=\"2\" "
          "points=\"",
          f);
    for (int i = 0; i <= 100; i++) {
        double s = i / 100.0;
        fprintf(f, "%.1f,%.1f ", px_x(s),
                px_y(wn_lsh_probability(s, bands, rows)));
    }
    fprintf(f,
            "\"/><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#b00\" stroke-dasharray=\"4 3\"/>"
            "<text x=\"%.1f\" y=\"20\" fill=\"#b00\">threshold %.2f</text>"
            "</svg>\n",
            px_x(t), px_y(0), px_x(t), px_y(1), px_x(t) + 4, t);
}

/* Bars: nbars columns of the given counts, stacked over nlayers. */
static void svg_bars(FILE *f, const char *title, const char *xlabel,
                     const char *ylabel, size_t nbars, size_t nlayers,
                     const uint64_t *counts, const char *const *labels,
                     const char *const *colors, const char *const *layer_names)
{
    uint64_t max = 1;
    for (size_t b = 0; b < nbars; b++) {
        uint64_t sum = 0;
        for (size_t l = 0; l < nlayers; l++)
            sum += counts[l * nbars + b];
        max = WN_MAX(max, sum);
    }
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" role=\"img\"><title>",
            SVG_W, SVG_H);
    escs(f, title);
    fputs("</title>", f);
    svg_axes(f, xlabel, ylabel);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%llu</text>",
            SVG_MARGIN - 4, px_y(1) + 4, (unsigned long long)max);
    double w = 1.0 / (double)nbars;
    for (size_t b = 0; b < nbars; b++) {
        uint64_t below = 0;
        for (size_t l = 0; l < nlayers; l++) {
            uint64_t c = counts[l * nbars + b];
            if (!c)
                continue;
            double y_top = px_y((double)(below + c) / (double)max);
            double y_bot = px_y((double)below / (double)max);
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"%.1f\" fill=\"%s\"><title>",
                    px_x(b * w) + 0.5, y_top,
                    (px_x(w) - px_x(0)) - 1.0 > 1 ? (px_x(w) - px_x(0)) - 1.0
                                                  : 1.0,
                    y_bot - y_top, colors[l]);
            escs(f, labels[b]);
            fprintf(f, ": %llu", (unsigned long long)c);
            if (layer_names) {
                fputs(" ", f);
                escs(f, layer_names[l]);
            }
            fputs("</title></rect>", f);
            below += c;
        }
    }
    /* A few labels along the x axis. */
    size_t step = nbars > 10 ? nbars / 5 : 1;
    for (size_t b = 0; b < nbars; b += step) {
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
                px_x((b + 0.5) * w), SVG_H - SVG_MARGIN + 14);
        escs(f, labels[b]);
        fputs("</text>", f);
    }
    if (layer_names)
        for (size_t l = 0; l < nlayers; l++) {
            fprintf(f,
                    "<rect x=\"%d\" y=\"%zu\" width=\"10\" height=\"10\" "
                    "fill=\"%s\"/><text x=\"%d\" y=\"%zu\">",
                    SVG_W - 110, 14 + 14 * l, colors[l], SVG_W - 95,
                    23 + 14 * l);
            escs(f, layer_names[l]);
            fputs("</text>", f);
        }
    fputs("</svg>\n", f);
}

static void row_num(FILE *f, const char *name, uint64_t v)
{
    fputs("<tr><th>", f);
    escs(f, name);
    fprintf(f, "</th><td class=\"n\">%llu</td></tr>\n", (unsigned long long)v);
}

static void write_summary(struct wn__report *r, FILE *f)
{
    json_t *s = r->stats;
    uint64_t read = jnum(s, "read"), kept = jnum(s, "kept"),
             removed = jnum(s, "removed"), rejected = jnum(s, "rejected");
    fputs("<h2 id=\"summary\">Summary and accounting</h2>\n<table>\n", f);
    row_num(f, "records read", read);
    row_num(f, "kept", kept);
    row_num(f, "removed", removed);
    row_num(f, "removed as exact copies", jnum(s, "removed_exact"));
    row_num(f, "removed as near copies", jnum(s, "removed_near"));
    row_num(f, "of which by containment alone", jnum(s, "removed_contained"));
    row_num(f, "rejected", rejected);
    row_num(f, "clusters of 2 or more", jnum(s, "clusters"));
    row_num(f, "bytes read", jnum(s, "bytes"));
    row_num(f, "candidate pairs", jnum(s, "candidates"));
    row_num(f, "pairs verified", jnum(s, "verified"));
    row_num(f, "pairs accepted (edges)", jnum(s, "edges"));
    row_num(f, "records with duplicate ids", jnum(s, "duplicate_ids"));
    fprintf(f, "<tr><th>run time</th><td class=\"n\">%.2f s</td></tr>\n",
            jreal(s, "seconds"));
    fputs("</table>\n", f);
    bool ok = read == kept + removed + rejected;
    fprintf(f,
            "<p class=\"%s\">read %llu %s kept %llu + removed %llu + rejected "
            "%llu%s</p>\n",
            ok ? "ok" : "bad", (unsigned long long)read, ok ? "=" : "&#8800;",
            (unsigned long long)kept, (unsigned long long)removed,
            (unsigned long long)rejected,
            ok ? ": every record is accounted for" : ": the outputs disagree");
    if (r->removed_lines != removed)
        fprintf(f,
                "<p class=\"bad\">removed.jsonl has %llu lines, stats.json "
                "says %llu.</p>\n",
                (unsigned long long)r->removed_lines,
                (unsigned long long)removed);
}

static void write_params(struct wn__report *r, FILE *f)
{
    json_t *o = json_object_get(r->stats, "options");
    uint32_t bands = (uint32_t)jnum(o, "bands"),
             rows = (uint32_t)jnum(o, "rows");
    double t = jreal(o, "threshold");
    fputs("<h2 id=\"parameters\">Parameters</h2>\n<table>\n", f);
    const char *keys[] = {"method",      "tokens", "ngram", "num_perm",
                          "threshold",   "bands",  "rows",  "verify",
                          "containment", "sketch", "keep",  "seed"};
    for (size_t i = 0; i < WN_ARRAY_LEN(keys); i++) {
        json_t *v = json_object_get(o, keys[i]);
        if (!v)
            continue;
        fputs("<tr><th>", f);
        escs(f, keys[i]);
        fputs("</th><td>", f);
        char *txt = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
        if (txt) {
            /* Strings without their quotes. */
            size_t n = strlen(txt);
            if (n >= 2 && txt[0] == '"')
                esc(f, txt + 1, n - 2);
            else
                esc(f, txt, n);
        }
        free(txt);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    if (bands && rows && strcmp(jstr(o, "method"), "simhash") != 0) {
        fprintf(f,
                "<p>A pair of Jaccard similarity s becomes a candidate with "
                "probability 1 - (1 - s<sup>%u</sup>)<sup>%u</sup>; every "
                "candidate is then verified.</p>\n",
                rows, bands);
        svg_scurve(f, bands, rows, t);
    }
}

static void write_histograms(struct wn__report *r, FILE *f)
{
    fputs("<h2 id=\"similarities\">Verified similarities of removed "
          "records</h2>\n",
          f);
    char lab[SIM_BINS][16];
    const char *labels[SIM_BINS];
    for (int b = 0; b < SIM_BINS; b++) {
        snprintf(lab[b], sizeof(lab[b]), "%.2f", (double)b / SIM_BINS);
        labels[b] = lab[b];
    }
    svg_bars(f, "similarity histogram", "similarity to the representative",
             "removed records", SIM_BINS, REASONS, &r->sim_bins[0][0], labels,
             reason_colors, reason_names);
    fputs("<h2 id=\"sizes\">Cluster sizes</h2>\n", f);
    size_t last = 0;
    for (size_t b = 0; b < SIZE_BINS; b++)
        if (r->size_bins[b])
            last = b;
    char slab[SIZE_BINS][32];
    const char *slabels[SIZE_BINS];
    for (size_t b = 0; b < SIZE_BINS; b++) {
        unsigned long long lo = b ? (1ull << b) + 1 : 2, hi = 2ull << b;
        if (lo == hi)
            snprintf(slab[b], sizeof(slab[b]), "%llu", lo);
        else
            snprintf(slab[b], sizeof(slab[b]), "%llu-%llu", lo, hi);
        slabels[b] = slab[b];
    }
    const char *color[] = {"#4c72b0"};
    svg_bars(f, "cluster sizes", "members", "clusters", last + 1, 1,
             r->size_bins, slabels, color, NULL);
    fputs("<table><tr><th>members</th><th>clusters</th></tr>\n", f);
    for (size_t b = 0; b <= last; b++)
        fprintf(f, "<tr><td>%s</td><td class=\"n\">%llu</td></tr>\n", slab[b],
                (unsigned long long)r->size_bins[b]);
    fputs("</table>\n", f);
}

static void write_big(struct wn__report *r, FILE *f)
{
    fprintf(f,
            "<h2 id=\"largest\">Largest clusters</h2>\n<p class=\"note\">The "
            "%zu largest of %llu.</p>\n<table><tr><th>cluster</th>"
            "<th>size</th><th>representative</th><th>members</th></tr>\n",
            r->nbig, (unsigned long long)r->nclusters);
    for (size_t i = 0; i < r->nbig; i++) {
        fprintf(f, "<tr><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td>",
                (unsigned long long)r->big[i].cluster,
                (unsigned long long)r->big[i].size);
        escs(f, r->big[i].rep);
        fputs("</td><td>", f);
        escs(f, r->big[i].members);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void write_lines(struct wn__report *r, FILE *f)
{
    size_t k = r->o->top_lines;
    struct wn__topline_entry *top = k ? wn__malloc(k * sizeof(*top)) : NULL;
    size_t n = top ? wn__topline_top(&r->lines, top, k) : 0;
    fputs("<h2 id=\"lines\">Most frequent lines</h2>\n<p class=\"note\">"
          "Lines held by two records or more, over ",
          f);
    if (r->lines_stride > 1 || r->lines_thinned)
        fprintf(f,
                "a deterministic sample of %llu of the %llu records of the "
                "inputs (kept and removed): one record in every %llu%s, so "
                "that the report costs little. Counts are of the sampled "
                "records",
                (unsigned long long)r->lines.records,
                (unsigned long long)r->records_used,
                (unsigned long long)r->lines_stride,
                r->lines_thinned ? " at the end, more of them at the start "
                                   "(the sample was thinned as the input "
                                   "grew)"
                                 : "");
    else
        fprintf(f, "the %llu records of the inputs (kept and removed)",
                (unsigned long long)r->records_used);
    fputs(", compared with case, punctuation and spacing ignored; the text "
          "is the first occurrence.",
          f);
    if (r->lines.rounds)
        fprintf(f,
                " Counted in bounded memory: each count may be short by up "
                "to %llu.",
                (unsigned long long)r->lines.rounds);
    fputs("</p>\n<table><tr><th>records</th><th>line</th></tr>\n", f);
    for (size_t i = 0; i < n; i++) {
        if (top[i].count < 2)
            break;
        fprintf(f, "<tr><td class=\"n\">%llu</td><td>",
                (unsigned long long)top[i].count);
        esc(f, top[i].text, top[i].len);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    wn__free(top);
}

struct mark {
    uint64_t start, end;
    size_t k;
};

static int cmp_mark(const void *x, const void *y)
{
    const struct mark *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* A text with its shared passages marked, up to text_cap bytes. */
static void write_marked(struct wn__report *r, FILE *f,
                         const struct wn__report_text *t, struct mark *m,
                         size_t nm)
{
    size_t cap = WN_MIN(t->len, (size_t)r->o->text_cap);
    while (cap < t->len && cap > 0 && ((unsigned char)t->s[cap] & 0xC0) == 0x80)
        cap--;
    qsort(m, nm, sizeof(*m), cmp_mark);
    fputs("<div class=\"text\">", f);
    size_t at = 0;
    for (size_t i = 0; i < nm && m[i].start < cap; i++) {
        size_t s = (size_t)m[i].start, e = WN_MIN((size_t)m[i].end, cap);
        esc(f, t->s + at, s - at);
        fprintf(f, "<mark class=\"p%zu\" title=\"shared passage %zu\">",
                m[i].k % 4, m[i].k + 1);
        esc(f, t->s + s, e - s);
        fputs("</mark>", f);
        at = e;
    }
    esc(f, t->s + at, cap - at);
    if (cap < t->full_len)
        fprintf(f,
                "</div><p class=\"note\">... %llu more bytes not shown.</p>\n",
                (unsigned long long)(t->full_len - cap));
    else
        fputs("</div>\n", f);
}

static int write_sample(struct wn__report *r, FILE *f)
{
    fprintf(f,
            "<h2 id=\"sample\">Sample of clusters</h2>\n<p class=\"note\">%zu "
            "of %llu clusters (every %llu-th), at most %u removed members "
            "each, shown beside the record they were removed for. Shared "
            "passages are marked in the same colour on both sides (winnowing "
            "fingerprints extended to maximal runs, as winnow explain); "
            "unmarked text is only on that side. Texts are cut at %u "
            "bytes.</p>\n",
            r->nsmp, (unsigned long long)r->nclusters,
            (unsigned long long)r->every, r->o->sample_members, r->o->text_cap);
    for (size_t i = 0; i < r->nsmp; i++) {
        const struct wn__report_sampled *s = &r->smp[i];
        fprintf(f,
                "<section id=\"cluster-%llu\"><h3>Cluster %llu (%llu "
                "members), representative ",
                (unsigned long long)s->cluster, (unsigned long long)s->cluster,
                (unsigned long long)s->size);
        escs(f, s->rep);
        fputs("</h3>\n", f);
        for (size_t j = 0; j < r->npairs; j++) {
            const struct wn__report_pair *p = &r->pairs[j];
            if (p->cluster != s->cluster)
                continue;
            const struct wn__report_text *ta =
                wn__report_find_text(r, p->rep, strlen(p->rep));
            const struct wn__report_text *tb =
                wn__report_find_text(r, p->id, strlen(p->id));
            fputs("<p><b>", f);
            escs(f, p->id);
            fprintf(f, "</b> removed (%s, similarity %.4f) for <b>", p->reason,
                    p->similarity);
            escs(f, p->rep);
            fputs("</b>", f);
            if (!ta || !tb || !ta->s || !tb->s || !p->x) {
                fputs(": text not found in the inputs.</p>\n", f);
                continue;
            }
            const struct wn_explain_scores *sc = wn_explanation_scores(p->x);
            fprintf(
                f, ". Exact Jaccard %.4f, containment %.3f / %.3f; %s.</p>\n",
                sc->jaccard, sc->containment_a, sc->containment_b, sc->reason);
            const struct wn_explain_run *runs;
            size_t nr = wn_explanation_runs(p->x, &runs);
            struct mark *ma = wn__malloc((nr ? nr : 1) * sizeof(*ma));
            struct mark *mb = wn__malloc((nr ? nr : 1) * sizeof(*mb));
            if (!ma || !mb) {
                wn__free(ma);
                wn__free(mb);
                return WN_ENOMEM;
            }
            for (size_t k = 0; k < nr; k++) {
                ma[k] = (struct mark){runs[k].a.start, runs[k].a.end, k};
                mb[k] = (struct mark){runs[k].b.start, runs[k].b.end, k};
            }
            fputs("<div class=\"pair\"><div>", f);
            escs(f, p->rep);
            write_marked(r, f, ta, ma, nr);
            fputs("</div><div>", f);
            escs(f, p->id);
            write_marked(r, f, tb, mb, nr);
            fputs("</div></div>\n", f);
            wn__free(ma);
            wn__free(mb);
        }
        fputs("</section>\n", f);
    }
    return WN_OK;
}

int wn__report_page(struct wn__report *r, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
          "<meta name=\"viewport\" content=\"width=device-width\"/>"
          "<title>winnow dedup report</title><style>",
          f);
    fputs(STYLE, f);
    fputs("</style></head><body>\n<h1>winnow dedup report</h1>\n"
          "<p class=\"note\">Inputs: ",
          f);
    json_t *in = json_object_get(r->stats, "inputs");
    for (size_t i = 0; i < json_array_size(in); i++) {
        if (i)
            fputs(", ", f);
        const char *s = json_string_value(json_array_get(in, i));
        escs(f, s ? s : "?");
    }
    fprintf(f,
            ". Written by winnow %s. This page embeds summaries and a "
            "bounded sample, not every cluster: clusters.jsonl and "
            "removed.jsonl hold them all.</p>\n<p><a href=\"#summary\">"
            "summary</a> | <a href=\"#parameters\">parameters</a> | <a "
            "href=\"#similarities\">similarities</a> | <a href=\"#sizes\">"
            "cluster sizes</a> | <a href=\"#largest\">largest clusters</a> | "
            "<a href=\"#lines\">frequent lines</a> | <a href=\"#sample\">"
            "sample</a></p>\n",
            wn_version_string());
    write_summary(r, f);
    write_params(r, f);
    write_histograms(r, f);
    write_big(r, f);
    write_lines(r, f);
    int rc = write_sample(r, f);
    fputs("</body></html>\n", f);
    return rc;
}

/* report.html through the output directory's rules: written to the run's
 * temporary directory, fsync'ed, renamed into place and added to the
 * manifest beside the run's outputs (a later dedup run replaces or
 * removes it like them). */
static int publish(struct files *x, struct wn_outdir *d)
{
    struct wn_outfile o;
    int rc = wn__outfile_open(&o, d, "report.html");
    if (rc)
        return fail(x, rc, d->note.set ? d->note.path : "report.html");
    rc = wn__report_page(&x->r, o.f);
    if (!rc && ferror(o.f))
        rc = WN_EIO;
    int frc = wn__outfile_finish(&o, true);
    rc = rc ? rc : frc;
    if (!rc)
        rc = wn__outfile_publish_one(d, &o);
    if (rc)
        fail(x, rc, d->note.set ? d->note.path : o.final_path);
    wn__outfile_release(&o);
    return rc;
}

int wn_report_write(const char *outdir, const struct wn_report_options *opts,
                    char *error_path, size_t cap)
{
    struct wn_report_options def;
    if (!opts) {
        wn_report_options_init(&def);
        opts = &def;
    }
    if (!outdir || (opts->ninputs && !opts->inputs))
        return WN_EINVAL;
    struct files x;
    memset(&x, 0, sizeof(x));
    x.outdir = outdir;
    x.error_path = error_path;
    x.cap = cap;
    json_t *stats = NULL;
    char *sp = path_in(outdir, "stats.json");
    int rc = sp ? WN_OK : WN_ENOMEM;
    if (!rc) {
        json_error_t err;
        stats = json_load_file(sp, 0, &err);
        if (!json_is_object(stats))
            rc = fail(&x, access(sp, R_OK) ? WN_EOPEN : WN_EPARSE, sp);
    }
    wn__free(sp);
    /* The directory locked as a run locks it: no dedup rewrites the
     * outputs while they are read. */
    struct wn_outdir d;
    memset(&d, 0, sizeof(d));
    if (!rc) {
        rc = wn__outdir_open(&d, outdir, NULL, 0, true);
        if (rc)
            fail(&x, rc, d.note.set ? d.note.path : outdir);
    }
    int irc = wn__report_init(&x.r, opts, rc ? 0 : jnum(stats, "clusters"));
    x.r.stats = stats;
    rc = rc ? rc : irc;
    if (!rc)
        rc = each_line(&x, "clusters.jsonl", on_cluster);
    if (!rc)
        rc = each_line(&x, "removed.jsonl", on_removed);
    for (size_t i = 0; !rc && i < x.r.npairs; i++) {
        if (!wn__report_want_text(&x.r, x.r.pairs[i].rep) ||
            !wn__report_want_text(&x.r, x.r.pairs[i].id))
            rc = WN_ENOMEM;
    }
    if (!rc)
        rc = read_inputs(&x);
    if (!rc)
        rc = wn__report_align(&x.r);
    if (!rc)
        rc = publish(&x, &d);
    wn__outdir_close(&d);
    wn__report_release(&x.r);
    return rc;
}
