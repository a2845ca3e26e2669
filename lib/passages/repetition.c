/*
 * repetition.c - repetition inside one document: the measures of the
 * Gopher quality rules (Rae et al. 2021, "Scaling Language Models:
 * Methods, Analysis & Insights from Training Gopher", Table A1), and
 * wn_repeats_run(), which reports them per record and filters by them.
 *
 * One tokenization per document. Units (lines, paragraphs) are identified
 * by the hash of their normalized tokens, as `winnow lines` does, and
 * n-grams by the hash of their normalized bytes, which lie back to back in
 * wn_tokens.norm. A duplicate is an occurrence after the first, so a text
 * made of one paragraph written twice has dup_para_frac 0.5 and
 * dup_10gram_char_frac 0.5, not 1: the measures say how much would go if
 * repeats were cut, the same rule `winnow passages --mode remove` applies.
 * The top n-gram measure counts an n-gram only when it occurs at least
 * twice (a text of unique n-grams has no top n-gram).
 *
 * Sets and counts use one open-addressing table, reused for each measure.
 * Cost per document: O(tokens) hash-table operations for each of the 9
 * n-gram lengths plus O(bytes); memory O(tokens).
 */
#include "passages/passages.h"
#include "io/json.h"
#include "sketch/sketch.h"

#include <errno.h>
#include <stdlib.h>

#define NGRAM_SEED UINT64_C(0x6e6772616d)

static const char *const rep_names[WN_REP_COUNT] = {
#define NAME(name, text, gopher) text,
    WN_REPETITION_LIST(NAME)
#undef NAME
};

static const double rep_gopher[WN_REP_COUNT] = {
#define GOPHER(name, text, gopher) gopher,
    WN_REPETITION_LIST(GOPHER)
#undef GOPHER
};

const char *wn_repetition_name(int measure)
{
    if (measure < 0 || measure >= WN_REP_COUNT)
        return NULL;
    return rep_names[measure];
}

double wn_repetition_gopher(int measure)
{
    if (measure < 0 || measure >= WN_REP_COUNT)
        return -1;
    return rep_gopher[measure];
}

/* A table entry: hash (0 empty), occurrences and first position. */
struct entry {
    uint64_t h;
    uint32_t count, first;
};

struct table {
    struct entry *e;
    size_t mask;
};

/* Make an empty table of at least 1.5n slots in the scratch: a load of
 * at most 2/3 (linear probing stays short), and 24-48 bytes per n-gram
 * after rounding to a power of two, the largest structure of a record. */
static int table_reset(struct wn_rep_scratch *s, size_t n, struct table *t)
{
    size_t slots = 16;
    while (slots < n + n / 2)
        slots *= 2;
    size_t bytes = slots * sizeof(struct entry);
    size_t words = (bytes + 7) / 8;
    if (WN_GROW(s->table, s->table_cap, words))
        return WN_ENOMEM;
    memset(s->table, 0, bytes);
    t->e = (struct entry *)(void *)s->table;
    t->mask = slots - 1;
    return WN_OK;
}

/* The entry of h, inserted with count 0 if new. */
static struct entry *table_get(struct table *t, uint64_t h)
{
    h |= 1; /* 0 marks an empty slot */
    for (size_t j = (size_t)wn__mix64(h) & t->mask;; j = (j + 1) & t->mask) {
        struct entry *x = &t->e[j];
        if (x->h == h)
            return x;
        if (x->h == 0) {
            x->h = h;
            return x;
        }
    }
}

static uint64_t code_points(const char *s, size_t n)
{
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

void wn__rep_scratch_release(struct wn_rep_scratch *s)
{
    wn_tokens_release(&s->tok);
    wn__free(s->units);
    wn__free(s->h);
    wn__free(s->table);
    wn__free(s->cp);
    wn__free(s->mark);
    memset(s, 0, sizeof(*s));
}

/* Duplicate units (lines or paragraphs): count, fraction, char fraction. */
static int unit_measures(const char *text, size_t len, bool paragraph,
                         uint64_t chars, struct wn_rep_scratch *s,
                         uint64_t *units, double *frac, double *char_frac)
{
    long nu = wn__split_units(text, len, paragraph, &s->units, &s->units_cap);
    if (nu < 0)
        return (int)nu;
    struct table t;
    int rc = table_reset(s, (size_t)nu, &t);
    if (rc)
        return rc;
    const struct wn_token *tk = s->tok.tok;
    size_t tn = s->tok.n, at = 0;
    uint64_t n = 0, dup = 0, dup_chars = 0;
    for (size_t i = 0; i < (size_t)nu; i++) {
        const struct wn_unit_span *u = &s->units[i];
        while (at < tn && tk[at].src_off < u->start)
            at++;
        size_t t0 = at;
        while (at < tn && tk[at].src_off < u->end)
            at++;
        if (at == t0)
            continue;
        const char *a = s->tok.norm + tk[t0].norm_off;
        const char *b = s->tok.norm + tk[at - 1].norm_off + tk[at - 1].norm_len;
        struct entry *x = table_get(&t, wn__hash64(a, (size_t)(b - a), 0));
        n++;
        if (x->count++ > 0) {
            dup++;
            dup_chars += code_points(text + u->start, u->end - u->start);
        }
    }
    *units = n;
    *frac = n ? (double)dup / (double)n : 0.0;
    *char_frac = chars ? (double)dup_chars / (double)chars : 0.0;
    return WN_OK;
}

/* Hashes of the n-grams starting at 0 .. tn - n into s->h. */
static void ngram_hashes(struct wn_rep_scratch *s, size_t n)
{
    const struct wn_token *tk = s->tok.tok;
    for (size_t i = 0; i + n <= s->tok.n; i++) {
        const char *a = s->tok.norm + tk[i].norm_off;
        const char *b =
            s->tok.norm + tk[i + n - 1].norm_off + tk[i + n - 1].norm_len;
        s->h[i] = wn__hash64(a, (size_t)(b - a), NGRAM_SEED + n);
    }
}

static double marked_frac(const struct wn_rep_scratch *s, uint64_t total)
{
    uint64_t c = 0;
    for (size_t i = 0; i < s->tok.n; i++)
        if (s->mark[i])
            c += s->cp[i];
    return total ? (double)c / (double)total : 0.0;
}

static int ngram_measures(struct wn_rep_scratch *s, struct wn_repetition *out)
{
    size_t tn = s->tok.n;
    if (WN_GROW(s->h, s->h_cap, tn + 1))
        return WN_ENOMEM;
    size_t cap = s->tok_cap;
    if (tn + 1 > cap) {
        uint32_t *cp = wn__reallocarray(s->cp, tn + 1, sizeof(*cp));
        if (!cp)
            return WN_ENOMEM;
        s->cp = cp;
        uint8_t *mark = wn__realloc(s->mark, tn + 1);
        if (!mark)
            return WN_ENOMEM;
        s->mark = mark;
        s->tok_cap = tn + 1;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < tn; i++) {
        const struct wn_token *t = &s->tok.tok[i];
        s->cp[i] =
            (uint32_t)code_points(s->tok.norm + t->norm_off, t->norm_len);
        total += s->cp[i];
    }
    for (unsigned n = 2; n <= 10; n++) {
        int m = n <= 4 ? WN_REP_TOP_2GRAM_CHAR_FRAC + (int)n - 2
                       : WN_REP_DUP_5GRAM_CHAR_FRAC + (int)n - 5;
        out->frac[m] = 0.0;
        if (tn < n)
            continue;
        size_t ng = tn - n + 1;
        ngram_hashes(s, n);
        struct table t;
        int rc = table_reset(s, ng, &t);
        if (rc)
            return rc;
        memset(s->mark, 0, tn);
        if (n <= 4) {
            /* The most frequent n-gram (ties: the first to occur). */
            struct entry *best = NULL;
            for (size_t i = 0; i < ng; i++) {
                struct entry *x = table_get(&t, s->h[i]);
                if (x->count++ == 0)
                    x->first = (uint32_t)i;
                if (!best || x->count > best->count ||
                    (x->count == best->count && x->first < best->first))
                    best = x;
            }
            if (!best || best->count < 2)
                continue;
            uint64_t h = best->h;
            for (size_t i = 0; i < ng; i++)
                if ((s->h[i] | 1) == h)
                    memset(s->mark + i, 1, n);
        } else {
            for (size_t i = 0; i < ng; i++) {
                struct entry *x = table_get(&t, s->h[i]);
                if (x->count++ > 0)
                    memset(s->mark + i, 1, n);
            }
        }
        out->frac[m] = marked_frac(s, total);
    }
    return WN_OK;
}

int wn__repetition(const char *text, size_t len, int token_mode,
                   struct wn_rep_scratch *s, struct wn_repetition *out)
{
    if (!text && len)
        return WN_EINVAL;
    int rc = wn_tokenize(text, len, token_mode, &s->tok);
    if (rc)
        return rc;
    struct wn_repetition r;
    memset(&r, 0, sizeof(r));
    r.tokens = s->tok.n;
    r.chars = code_points(text, len);
    rc = unit_measures(text, len, false, r.chars, s, &r.lines,
                       &r.frac[WN_REP_DUP_LINE_FRAC],
                       &r.frac[WN_REP_DUP_LINE_CHAR_FRAC]);
    if (!rc)
        rc = unit_measures(text, len, true, r.chars, s, &r.paragraphs,
                           &r.frac[WN_REP_DUP_PARA_FRAC],
                           &r.frac[WN_REP_DUP_PARA_CHAR_FRAC]);
    if (!rc)
        rc = ngram_measures(s, &r);
    if (!rc)
        *out = r;
    return rc;
}

int wn_repetition_measure(const char *text, size_t len, int token_mode,
                          struct wn_repetition *out)
{
    if (!out)
        return WN_EINVAL;
    struct wn_rep_scratch s;
    memset(&s, 0, sizeof(s));
    wn_tokens_init(&s.tok);
    int rc = wn__repetition(text, len, token_mode, &s, out);
    wn__rep_scratch_release(&s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* wn_repeats_run                                                            */
/* ------------------------------------------------------------------------ */

enum { OUT_KEPT, OUT_REMOVED, OUT_REP, OUT_REJECTED, OUT_STATS, NOUT };

static const char *const out_names[NOUT] = {"kept.jsonl", "removed.jsonl",
                                            "repetition.jsonl",
                                            "rejected.jsonl", "stats.json"};

void wn_repeats_options_init(struct wn_repeats_options *o)
{
    memset(o, 0, sizeof(*o));
    o->token_mode = WN_TOKENS_WORD;
    for (int i = 0; i < WN_REP_COUNT; i++)
        o->max[i] = 1.0;
}

static int measure_line(struct wn_buf *b, const struct wn_record *rec,
                        const struct wn_repetition *m)
{
    b->len = 0;
    int rc = WN_BUF_LIT(b, "{\"id\":");
    if (!rc)
        rc = wn__json_escape(rec->id, rec->id_len, b);
    if (!rc)
        rc = wn__buf_printf(
            b,
            ",\"lines\":%llu,\"paragraphs\":%llu,"
            "\"tokens\":%llu,\"chars\":%llu",
            (unsigned long long)m->lines, (unsigned long long)m->paragraphs,
            (unsigned long long)m->tokens, (unsigned long long)m->chars);
    for (int i = 0; i < WN_REP_COUNT && !rc; i++)
        rc = wn__buf_printf(b, ",\"%s\":%.4f", rep_names[i], m->frac[i]);
    if (!rc)
        rc = WN_BUF_LIT(b, "}\n");
    return rc;
}

static int removed_line(struct wn_buf *b, const struct wn_record *rec,
                        const struct wn_repetition *m, const double *max)
{
    b->len = 0;
    int rc = WN_BUF_LIT(b, "{\"id\":");
    if (!rc)
        rc = wn__json_escape(rec->id, rec->id_len, b);
    if (!rc)
        rc = WN_BUF_LIT(b, ",\"reason\":\"repetition\",\"exceeded\":[");
    bool first = true;
    for (int i = 0; i < WN_REP_COUNT && !rc; i++) {
        if (!(m->frac[i] > max[i]))
            continue;
        rc = wn__buf_printf(b,
                            "%s{\"measure\":\"%s\",\"value\":%.4f,"
                            "\"max\":%g}",
                            first ? "" : ",", rep_names[i], m->frac[i], max[i]);
        first = false;
    }
    if (!rc)
        rc = WN_BUF_LIT(b, "]}\n");
    return rc;
}

static int repeats_stats(struct wn_frame *j, const struct wn_repeats_options *o,
                         const struct wn_repeats_report *p,
                         uint64_t invalid_utf8)
{
    struct wn_buf b = {0};
    int rc = wn__buf_printf(
        &b,
        "{\n  \"read\": %llu,\n  \"kept\": %llu,\n  \"removed\": %llu,\n"
        "  \"rejected\": %llu,\n  \"blank_lines\": %llu,\n"
        "  \"bytes\": %llu,\n  \"invalid_utf8\": %llu,\n  \"exceeded\": {",
        (unsigned long long)p->read, (unsigned long long)p->kept,
        (unsigned long long)p->removed, (unsigned long long)p->rejected,
        (unsigned long long)p->blank_lines, (unsigned long long)p->bytes,
        (unsigned long long)invalid_utf8);
    for (int i = 0; i < WN_REP_COUNT && !rc; i++)
        rc = wn__buf_printf(&b, "%s\"%s\": %llu", i ? ", " : "", rep_names[i],
                            (unsigned long long)p->exceeded[i]);
    if (!rc)
        rc = wn__buf_printf(&b,
                            "},\n  \"options\": {\"tokens\": \"%s\", "
                            "\"max\": {",
                            o->token_mode == WN_TOKENS_CHAR ? "char" : "word");
    for (int i = 0; i < WN_REP_COUNT && !rc; i++)
        rc = wn__buf_printf(&b, "%s\"%s\": %g", i ? ", " : "", rep_names[i],
                            o->max[i]);
    if (!rc)
        rc = WN_BUF_LIT(&b, "}},\n  \"inputs\": [");
    for (size_t i = 0; i < j->ninputs && !rc; i++) {
        if (i)
            rc = WN_BUF_LIT(&b, ", ");
        if (!rc)
            rc = wn__json_escape(j->inputs[i], strlen(j->inputs[i]), &b);
    }
    if (!rc)
        rc = wn__buf_printf(&b,
                            "],\n  \"seconds\": %.3f,\n"
                            "  \"peak_rss_bytes\": %llu\n}\n",
                            p->seconds, (unsigned long long)p->peak_rss_bytes);
    if (!rc)
        rc = wn__outfile_write(&j->out[OUT_STATS], b.data, b.len);
    wn__buf_release(&b);
    return rc;
}

static int repeats_pass(struct wn_frame *j, struct wn_reader *rd,
                        const struct wn_repeats_options *o,
                        struct wn_repeats_report *rep, uint64_t *invalid_utf8)
{
    struct wn_rep_scratch s;
    memset(&s, 0, sizeof(s));
    wn_tokens_init(&s.tok);
    struct wn_buf line = {0}, recbuf = {0};
    struct wn_record rec;
    int rc = WN_OK;
    while (!rc) {
        int got = wn_reader_next(rd, &rec);
        if (got < 0) {
            wn__frame_reader_error(j, rd);
            rc = got;
            break;
        }
        if (got == 0)
            break;
        rep->read++;
        if (rec.status) {
            rep->rejected++;
            if (o->on_reject)
                o->on_reject(o->ud, &rec);
            rc = wn__frame_reject(&j->out[OUT_REJECTED], &rec);
            continue;
        }
        struct wn_repetition m;
        rc = wn__repetition(rec.text, rec.text_len, o->token_mode, &s, &m);
        if (rc)
            break;
        *invalid_utf8 += s.tok.invalid_utf8;
        rc = measure_line(&line, &rec, &m);
        if (!rc)
            rc = wn__outfile_write(&j->out[OUT_REP], line.data, line.len);
        bool drop = false;
        for (int i = 0; i < WN_REP_COUNT; i++) {
            if (m.frac[i] > o->max[i]) {
                rep->exceeded[i]++;
                drop = true;
            }
        }
        if (!rc && drop) {
            rep->removed++;
            rc = removed_line(&line, &rec, &m, o->max);
            if (!rc)
                rc = wn__outfile_write(&j->out[OUT_REMOVED], line.data,
                                       line.len);
        } else if (!rc) {
            rep->kept++;
            rc = wn__write_record(&j->out[OUT_KEPT], &rec, j->ro.text_field,
                                  NULL, 0, &recbuf);
        }
        if (!rc && wn__frame_cancelled(j))
            rc = WN_EINTR;
    }
    rep->blank_lines = wn_reader_blank_lines(rd);
    rep->bytes = wn_reader_bytes(rd);
    wn__rep_scratch_release(&s);
    wn__buf_release(&line);
    wn__buf_release(&recbuf);
    return rc;
}

int wn_repeats_run(const char *const *inputs, size_t n, const char *outdir,
                   const struct wn_repeats_options *opts,
                   struct wn_repeats_report *rep)
{
    struct wn_repeats_options defaults;
    if (!opts) {
        wn_repeats_options_init(&defaults);
        opts = &defaults;
    }
    if (opts->token_mode != WN_TOKENS_WORD &&
        opts->token_mode != WN_TOKENS_CHAR)
        return WN_EINVAL;
    for (int i = 0; i < WN_REP_COUNT; i++)
        if (!(opts->max[i] >= 0.0))
            return WN_EINVAL;
    if (opts->reader.max_record_bytes >= (UINT64_C(4) << 30))
        return WN_EINVAL; /* offsets are 32-bit */
    struct wn_frame j;
    struct wn_repeats_report r;
    memset(&r, 0, sizeof(r));
    struct wn_reader *rd = NULL;
    int rc =
        wn__frame_start(&j, inputs, n, &opts->reader, outdir, NULL, out_names,
                        NOUT, false, true, opts->cancel, 1, &rd);
    if (!rc)
        wn__frame_set_progress(&j, &opts->progress, rd);
    uint64_t invalid_utf8 = 0;
    if (!rc)
        rc = repeats_pass(&j, rd, opts, &r, &invalid_utf8);
    wn_reader_free(rd);
    r.seconds = wn__now() - j.t0;
    r.peak_rss_bytes = wn__peak_rss();
    if (!rc && r.read != r.kept + r.removed + r.rejected)
        rc = WN_EIO;
    if (!rc)
        rc = repeats_stats(&j, opts, &r, invalid_utf8);
    if (!rc)
        rc = wn__frame_commit(&j, true);
    r.invalid_utf8 = invalid_utf8;
    wn__frame_error(&j, rc, r.error_path, sizeof(r.error_path), &r.error_errno);
    if (rep)
        *rep = r;
    wn__frame_release(&j);
    return rc;
}
