/*
 * passages.c - wn_passages_run(): exact repeated passages of at least k
 * tokens, within and across records (Lee et al. 2022, "Deduplicating
 * Training Data Makes Language Models Better", the ExactSubstr method).
 *
 * Pass 1 reads the records once and tokenizes them (wn_tokenize). Each
 * token is written twice to spill files: its prefix-free code (vocab.c) to
 * the coded corpus, where every record ends with WN_CODE_END, and its
 * source byte span (two uint32) to the span file. In memory stay, per
 * record, its first token, first code byte, text length and id: 32 bytes
 * plus the id.
 *
 * Windows: the coded corpus is cut into parts, consecutive records whose
 * suffix sorting fits the budget (wn__part_bytes), usually one part. Each
 * part's suffix array gives, for every token, whether the window of k
 * tokens starting there occurs elsewhere in the part, how often, and a
 * partner occurrence (suffix.c). With two or more parts the windows are
 * also joined across parts (crosspart.c); the parts are then cut at half
 * the budget and two threads sort two at a time. The result is the
 * windows file: 8 bytes per token of the corpus, in token order.
 *
 * Pass 2 reads the records again with the windows and spans of their
 * tokens, in step: a record's repeated windows are merged into spans
 * (maximal unions; in remove mode only windows whose first occurrence is
 * earlier), spans become byte ranges through the token spans, partners
 * become other records' ids and byte ranges through the span file (random
 * reads, one pair per listed place), and records are written out.
 *
 * Memory: the per-record arrays, the vocabulary during pass 1 (capped at a
 * quarter of the budget), and the window stage of one part at a time,
 * about 2 bytes per input byte of the part on English text (12 bytes per
 * token, or 5 bytes per code byte while sorting). Disk: 8 + 8 bytes per
 * token plus the coded corpus, and with parts 16 more bytes per token for
 * the join.
 */
#include "passages/passages.h"
#include "io/json.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define DEFAULT_MEMORY  (UINT64_C(1) << 30)
#define MAX_RECORD      (UINT64_C(4) << 30)
#define MAX_TOKENS      (UINT64_C(1) << WN_WIN_TOK_BITS)
#define PART_MAX_TOKENS (UINT64_C(1) << 30)
#define PART_THREADS    WN_CROSS_WRITERS

/*
 * The largest part the suffix sort gets, in code bytes, whatever the
 * budget: divsufsort cannot be interrupted, so this bounds the time between
 * two looks at the cancel flag. About 0.14 s per MB of code on the 2-core
 * build machine (bench/gen English, 1 MB of code is 4 MB of input), so a
 * part of 16 MiB sorts in about two seconds. Smaller parts cost the
 * cross-part join (16 bytes per token on disk); the two threads that sort
 * parts pay for it in wall time.
 */
uint64_t wn__part_max_code = UINT64_C(16) << 20;

enum { OUT_KEPT, OUT_REMOVED, OUT_SPANS, OUT_REJECTED, OUT_STATS, NOUT };

static const char *const out_names[NOUT] = {"kept.jsonl", "removed.jsonl",
                                            "spans.jsonl", "rejected.jsonl",
                                            "stats.json"};

void wn_passages_options_init(struct wn_passages_options *o)
{
    memset(o, 0, sizeof(*o));
    o->mode = WN_SPANS_ANNOTATE;
    o->token_mode = WN_TOKENS_WORD;
    o->min_span = 50;
    o->min_length = 20;
    o->max_where = 8;
    o->memory = DEFAULT_MEMORY;
}

/* Per accepted record, in input order. Arrays of n + 1 hold prefix sums. */
struct docs {
    size_t n, cap;
    uint64_t *tok;  /* first global token; n + 1 */
    uint64_t *code; /* first byte in the coded corpus; n + 1 */
    uint64_t *id;   /* offset of the id in ids; n + 1 */
    uint64_t *len;  /* text length, to notice inputs that change */
    struct wn_buf ids;
};

struct run {
    const struct wn_passages_options *o;
    struct wn_frame job;
    struct wn_passages_report rep;
    struct docs d;
    FILE *codes, *spans, *wins;
    size_t *part_doc; /* first record of each part; nparts + 1 */
    size_t part_cap;
    uint64_t *part_tok;
    size_t nparts;
    uint64_t part_budget;
    unsigned part_threads; /* parts sorted at the same time */
    uint64_t invalid_utf8; /* repaired sequences */
};

static int grow_docs(struct docs *d)
{
    if (d->n + 2 <= d->cap)
        return WN_OK;
    size_t cap = d->cap ? d->cap * 2 : 1024;
    void *p;
#define GROW(field)                                                            \
    p = wn__reallocarray(d->field, cap, sizeof(*d->field));                    \
    if (!p)                                                                    \
        return WN_ENOMEM;                                                      \
    d->field = p;
    GROW(tok)
    GROW(code)
    GROW(id)
    GROW(len)
#undef GROW
    if (d->cap == 0)
        d->tok[0] = d->code[0] = d->id[0] = 0;
    d->cap = cap;
    return WN_OK;
}

static void docs_release(struct docs *d)
{
    wn__free(d->tok);
    wn__free(d->code);
    wn__free(d->id);
    wn__free(d->len);
    wn__buf_release(&d->ids);
}

static size_t docs_bytes(const struct docs *d)
{
    return d->cap * 4 * sizeof(uint64_t) + d->ids.cap;
}

static int write_all(FILE *f, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, f) != n)
        return wn__status_from_errno(errno);
    return WN_OK;
}

static int read_all(FILE *f, void *p, size_t n)
{
    if (n && fread(p, 1, n, f) != n)
        return WN_EIO;
    return WN_OK;
}

/* ------------------------------------------------------------------------ */
/* Pass 1                                                                    */
/* ------------------------------------------------------------------------ */

struct coder {
    struct wn_tokens tok;
    struct wn_vocab vocab;
    struct wn_buf code;
    uint32_t *span; /* 2 per token */
    size_t span_cap;
};

static int add_doc(struct run *r, struct coder *c, const struct wn_record *rec)
{
    struct docs *d = &r->d;
    int rc = grow_docs(d);
    if (rc)
        return rc;
    rc = wn_tokenize(rec->text, rec->text_len, r->o->token_mode, &c->tok);
    if (rc)
        return rc;
    r->invalid_utf8 += c->tok.invalid_utf8;
    size_t nt = c->tok.n;
    if (d->tok[d->n] + nt >= MAX_TOKENS)
        return WN_ELIMIT;
    if (WN_GROW(c->span, c->span_cap, 2 * nt + 2))
        return WN_ENOMEM;
    c->code.len = 0;
    rc = wn__buf_reserve(&c->code, nt * WN_CODE_MAX + 1);
    for (size_t i = 0; i < nt && !rc; i++) {
        const struct wn_token *t = &c->tok.tok[i];
        c->span[2 * i] = t->src_off;
        c->span[2 * i + 1] = t->src_off + t->src_len;
        int len =
            wn__vocab_code(&c->vocab, c->tok.norm + t->norm_off, t->norm_len,
                           (unsigned char *)c->code.data + c->code.len);
        if (len < 0)
            rc = len;
        else
            c->code.len += (size_t)len;
    }
    if (rc)
        return rc;
    c->code.data[c->code.len++] = (char)WN_CODE_END;
    rc = write_all(r->codes, c->code.data, c->code.len);
    if (!rc)
        rc = write_all(r->spans, c->span, nt * 2 * sizeof(uint32_t));
    if (!rc)
        rc = wn__buf_append(&d->ids, rec->id, rec->id_len);
    if (rc)
        return rc;
    d->len[d->n] = rec->text_len;
    d->tok[d->n + 1] = d->tok[d->n] + nt;
    d->code[d->n + 1] = d->code[d->n] + c->code.len;
    d->id[d->n + 1] = d->ids.len;
    d->n++;
    r->rep.tokens += nt;
    return WN_OK;
}

static int pass1(struct run *r, struct wn_reader *rd)
{
    struct coder c;
    memset(&c, 0, sizeof(c));
    wn_tokens_init(&c.tok);
    /* The vocabulary lives only during this pass: a quarter of the budget. */
    wn__vocab_init(&c.vocab, (size_t)WN_MIN(r->o->memory / 4, SIZE_MAX / 2), 1);
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
            rc = add_doc(r, &c, &rec);
        }
        if (!rc && wn__frame_cancelled(&r->job))
            rc = WN_EINTR;
    }
    r->rep.blank_lines = wn_reader_blank_lines(rd);
    r->rep.bytes = wn_reader_bytes(rd);
    r->rep.vocabulary = c.vocab.n;
    r->rep.hashed_tokens = c.vocab.hashed;
    r->rep.code_bytes = r->d.code[r->d.n];
    wn__vocab_release(&c.vocab);
    wn_tokens_release(&c.tok);
    wn__buf_release(&c.code);
    wn__free(c.span);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Windows                                                                   */
/* ------------------------------------------------------------------------ */

/* Cut the records into consecutive parts whose window stage fits budget;
 * returns the number of parts. */
static int cut_parts(struct run *r, uint64_t budget)
{
    const struct docs *d = &r->d;
    size_t np = 0;
    r->part_doc[0] = 0;
    for (size_t i = 0; i < d->n; i++) {
        size_t s = r->part_doc[np];
        uint64_t n = d->code[i + 1] - d->code[s];
        uint64_t m = d->tok[i + 1] - d->tok[s];
        bool over = wn__part_bytes(n, m) > budget || m >= PART_MAX_TOKENS ||
                    n > wn__part_max_code;
        if (over && i > s) {
            if (WN_GROW(r->part_doc, r->part_cap, np + 3))
                return WN_ENOMEM;
            r->part_doc[++np] = i;
        }
    }
    r->part_doc[++np] = d->n;
    r->nparts = np;
    return WN_OK;
}

/*
 * Plan the parts. When the corpus fits the budget it is one part, sorted on
 * one thread. Otherwise it is cut into parts of half the budget, and two
 * threads sort two parts at a time: the memory is the same, suffix sorting
 * is faster per byte on smaller parts, and the join runs anyway.
 */
static int plan_parts(struct run *r)
{
    const struct docs *d = &r->d;
    uint64_t mem = r->o->memory;
    /* The per-record arrays, and I/O buffers: outputs, spills, buckets. */
    uint64_t fixed = docs_bytes(d) + WN_MIN(UINT64_C(24) << 20, mem / 8);
    r->part_budget = mem > 2 * fixed ? mem - fixed : mem / 2;
    r->part_cap = 16;
    r->part_doc = wn__reallocarray(NULL, r->part_cap, sizeof(size_t));
    if (!r->part_doc)
        return WN_ENOMEM;
    int rc = cut_parts(r, r->part_budget);
    r->part_threads = 1;
    if (!rc && r->nparts > 1) {
        r->part_threads = PART_THREADS;
        rc = cut_parts(r, r->part_budget / PART_THREADS);
    }
    if (rc)
        return rc;
    r->part_tok = wn__reallocarray(NULL, r->nparts + 1, sizeof(uint64_t));
    if (!r->part_tok)
        return WN_ENOMEM;
    uint64_t peak[PART_THREADS] = {0};
    for (size_t i = 0; i <= r->nparts; i++)
        r->part_tok[i] = d->tok[r->part_doc[i]];
    for (size_t i = 0; i < r->nparts; i++) {
        /* The largest parts, which may run at the same time. */
        uint64_t b = wn__part_bytes(d->code[r->part_doc[i + 1]] -
                                        d->code[r->part_doc[i]],
                                    r->part_tok[i + 1] - r->part_tok[i]);
        for (unsigned t = 0; t < r->part_threads; t++) {
            if (b > peak[t]) {
                uint64_t x = peak[t];
                peak[t] = b;
                b = x;
            }
        }
    }
    for (unsigned t = 0; t < r->part_threads; t++)
        r->rep.part_peak_bytes += peak[t];
    r->rep.parts = (uint32_t)r->nparts;
    return WN_OK;
}

static int load_part(struct run *r, size_t p, unsigned char **text, size_t *n)
{
    uint64_t a = r->d.code[r->part_doc[p]], b = r->d.code[r->part_doc[p + 1]];
    size_t len = (size_t)(b - a);
    unsigned char *t = wn__malloc(len ? len : 1);
    if (!t)
        return WN_ENOMEM;
    int rc = wn__pread_full(fileno(r->codes), t, len, a);
    if (rc) {
        wn__free(t);
        return rc;
    }
    *text = t;
    *n = len;
    return WN_OK;
}

/* Part p: sort, hash its windows for the join (as writer w), write its
 * window entries at their place in the windows file. */
static int do_part(struct run *r, struct wn_cross *cross, unsigned w, size_t p)
{
    uint32_t k = r->o->min_span;
    size_t m = (size_t)(r->part_tok[p + 1] - r->part_tok[p]);
    unsigned char *text = NULL;
    size_t n = 0;
    struct wn_part_sa sa;
    memset(&sa, 0, sizeof(sa));
    int rc = wn__frame_cancelled(&r->job) ? WN_EINTR : WN_OK;
    if (!rc)
        rc = load_part(r, p, &text, &n);
    if (!rc)
        rc = wn__part_sort(text, n, m, k, &sa);
    if (!rc && wn__frame_cancelled(&r->job))
        rc = WN_EINTR; /* before hashing the part's windows */
    if (!rc && cross)
        rc = wn__cross_add(cross, w, text, n, k, r->part_tok[p]);
    wn__free(text);
    uint64_t *win = NULL;
    if (!rc) {
        win = wn__reallocarray(NULL, m ? m : 1, sizeof(*win));
        if (!win)
            rc = WN_ENOMEM;
    }
    if (!rc) {
        wn__part_assign(&sa, r->part_tok[p], win);
        rc = wn__pwrite_full(fileno(r->wins), win, m * sizeof(*win),
                             r->part_tok[p] * sizeof(*win));
    }
    wn__part_sa_release(&sa);
    wn__free(win);
    if (!rc && wn__frame_cancelled(&r->job))
        rc = WN_EINTR;
    return rc;
}

/* The part threads: each takes the next part until none is left. */
struct parts {
    struct run *r;
    struct wn_cross *cross;
    pthread_mutex_t mu;
    size_t next;
    int rc; /* the first error */
};

struct part_worker {
    struct parts *ps;
    unsigned writer;
};

static void part_main(void *arg, unsigned slot)
{
    (void)slot; /* the writer is the task's, not the thread's */
    struct part_worker *w = arg;
    struct parts *ps = w->ps;
    for (;;) {
        pthread_mutex_lock(&ps->mu);
        size_t p = ps->next;
        bool stop = ps->rc != WN_OK || p >= ps->r->nparts;
        if (!stop)
            ps->next++;
        pthread_mutex_unlock(&ps->mu);
        if (stop)
            break;
        int rc = do_part(ps->r, ps->cross, w->writer, p);
        if (rc) {
            pthread_mutex_lock(&ps->mu);
            if (ps->rc == WN_OK)
                ps->rc = rc;
            pthread_mutex_unlock(&ps->mu);
        }
    }
}

static int stage_windows(struct run *r)
{
    int rc = fflush(r->codes) == 0 ? WN_OK : wn__status_from_errno(errno);
    struct wn_cross cross;
    memset(&cross, 0, sizeof(cross));
    bool join = r->nparts > 1;
    double t0 = wn__now();
    if (!rc && join)
        rc = wn__cross_init(&cross, &r->job, r->part_budget, r->rep.tokens,
                            r->part_tok, r->nparts, r->job.cancel);
    if (!rc) {
        struct parts ps = {r, join ? &cross : NULL, PTHREAD_MUTEX_INITIALIZER,
                           0, WN_OK};
        /* One task per writer; the run's pool runs them (all on this
         * thread when it has one). */
        struct part_worker w[PART_THREADS];
        struct wn_pool_task task[PART_THREADS];
        memset(task, 0, sizeof(task));
        struct wn_pool *pool = NULL;
        if (r->part_threads > 1)
            rc = wn__frame_pool(&r->job, &pool);
        for (unsigned i = 0; !rc && i < r->part_threads; i++) {
            w[i] = (struct part_worker){&ps, i};
            if (pool)
                wn__pool_submit(pool, &task[i], part_main, &w[i]);
            else
                part_main(&w[i], 0);
        }
        if (pool)
            wn__pool_wait(pool);
        pthread_mutex_destroy(&ps.mu);
        if (!rc)
            rc = ps.rc;
    }
    double t1 = wn__now();
    r->rep.stage_seconds[1] = t1 - t0;
    if (!rc && join) {
        struct wn_pool *pool = NULL;
        rc = wn__frame_pool(&r->job, &pool);
        if (!rc)
            rc = wn__cross_finish(&cross, pool, fileno(r->wins));
        r->rep.cross_windows = cross.cross_windows;
    }
    wn__cross_release(&cross);
    r->rep.stage_seconds[2] = wn__now() - t1;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Pass 2                                                                    */
/* ------------------------------------------------------------------------ */

/* A span of a record, in tokens [a, b), with the bytes it reports. */
struct span {
    size_t a, b;
    size_t start, end;
    uint64_t count;
    size_t where0, nwhere, more; /* places in the where array */
};

/* A place elsewhere: global tokens [a, b) of record doc. */
struct place {
    uint64_t a, b;
    size_t doc;
};

struct writer {
    uint64_t *win;
    size_t win_cap;
    uint32_t *span; /* 2 per token */
    size_t span_cap;
    struct span *sp;
    size_t nsp, sp_cap;
    struct place *pl;
    size_t npl, pl_cap;
    struct wn_cut *cuts;
    size_t cuts_cap;
    struct wn_buf line, text, rec;
    int span_fd;
};

/* The record holding global token t. */
static size_t doc_of(const struct docs *d, uint64_t t)
{
    size_t lo = 0, hi = d->n; /* tok[lo] <= t < tok[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->tok[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Whether window t of this record counts: any repeat (annotate), or a
 * repeat whose first occurrence is earlier (remove). */
static bool counts(const struct run *r, uint64_t w, uint64_t global)
{
    if (!w)
        return false;
    return r->o->mode != WN_SPANS_REMOVE || wn__win_partner(w) < global;
}

/* A run of windows with consecutive partners in one record, not yet
 * placed in its span's where list. */
struct pending {
    bool open;
    uint64_t a, b;
    size_t doc;
};

static bool overlap(const struct place *x, uint64_t a, uint64_t b, size_t doc)
{
    return x->doc == doc && x->a < b && a < x->b;
}

/* Merge the listed places of span s that overlap place i, transitively,
 * each merge kept at the smaller index (the order of first appearance).
 * The places of the last span are the tail of w->pl. */
static void absorb(struct writer *w, struct span *s, size_t i)
{
    assert(s->where0 + s->nwhere == w->npl);
    for (size_t j = s->where0; j < w->npl;) {
        struct place *x = &w->pl[i], *y = &w->pl[j];
        if (j == i || !overlap(y, x->a, x->b, x->doc)) {
            j++;
            continue;
        }
        size_t keep = WN_MIN(i, j), drop = WN_MAX(i, j);
        uint64_t a = WN_MIN(x->a, y->a), b = WN_MAX(x->b, y->b);
        w->pl[keep].a = a;
        w->pl[keep].b = b;
        memmove(&w->pl[drop], &w->pl[drop + 1],
                (w->npl - drop - 1) * sizeof(*w->pl));
        w->npl--;
        s->nwhere--;
        i = keep;
        j = s->where0;
    }
}

/* Place a finished run in span s: merged into a listed place of the same
 * record that it overlaps, else listed while fewer than max_where are,
 * else counted in more. */
static int place_run(struct run *r, struct writer *w, struct span *s,
                     struct pending *pd)
{
    if (!pd->open)
        return WN_OK;
    pd->open = false;
    for (size_t j = s->where0; j < s->where0 + s->nwhere; j++) {
        struct place *x = &w->pl[j];
        if (overlap(x, pd->a, pd->b, pd->doc)) {
            x->a = WN_MIN(x->a, pd->a);
            x->b = WN_MAX(x->b, pd->b);
            absorb(w, s, j);
            return WN_OK;
        }
    }
    if (s->nwhere >= r->o->max_where) {
        s->more++;
        return WN_OK;
    }
    if (WN_GROW(w->pl, w->pl_cap, w->npl + 1))
        return WN_ENOMEM;
    w->pl[w->npl++] = (struct place){pd->a, pd->b, pd->doc};
    s->nwhere++;
    return WN_OK;
}

/* Group the counted windows of record di into spans and their places. */
static int find_spans(struct run *r, struct writer *w, size_t di, size_t nt)
{
    uint32_t k = r->o->min_span;
    uint64_t base = r->d.tok[di];
    w->nsp = 0;
    w->npl = 0;
    struct pending pd = {false, 0, 0, 0};
    size_t prev_t = 0;
    for (size_t t = 0; t < nt; t++) {
        uint64_t wv = w->win[t];
        if (!counts(r, wv, base + t))
            continue;
        r->rep.windows++;
        struct span *s = w->nsp ? &w->sp[w->nsp - 1] : NULL;
        /* Overlapping windows make one span; touching ones do not, so that
         * a passage written twice in a row gives two spans. */
        if (!s || t >= s->b) {
            int rc = s ? place_run(r, w, s, &pd) : WN_OK;
            if (!rc && WN_GROW(w->sp, w->sp_cap, w->nsp + 1))
                rc = WN_ENOMEM;
            if (rc)
                return rc;
            s = &w->sp[w->nsp++];
            memset(s, 0, sizeof(*s));
            s->a = t;
            s->b = t + k;
            s->where0 = w->npl;
        } else {
            s->b = WN_MAX(s->b, t + k);
        }
        s->count = WN_MAX(s->count, wn__win_count(wv));
        /* Consecutive windows with consecutive partners in one record are
         * one run; a finished run becomes a place (place_run). */
        uint64_t p = wn__win_partner(wv);
        size_t d = doc_of(&r->d, p);
        if (pd.open && t == prev_t + 1 && p == pd.b - k + 1 && d == pd.doc) {
            pd.b = p + k;
        } else {
            int rc = place_run(r, w, s, &pd);
            if (rc)
                return rc;
            pd = (struct pending){true, p, p + k, d};
        }
        prev_t = t;
    }
    return w->nsp ? place_run(r, w, &w->sp[w->nsp - 1], &pd) : WN_OK;
}

static bool starts_line(const char *text, const uint32_t *span, size_t a)
{
    if (a == 0)
        return true;
    size_t from = span[2 * (a - 1) + 1], to = span[2 * a];
    return to > from && memchr(text + from, '\n', to - from) != NULL;
}

/* Remove mode: the bytes a span takes with it (see winnow.h). */
static void cut_extent(const char *text, size_t len, const uint32_t *span,
                       size_t nt, struct span *s)
{
    s->start = span[2 * s->a];
    size_t last_end = span[2 * (s->b - 1) + 1];
    size_t after = s->b < nt ? span[2 * s->b] : len;
    if (after < last_end)
        after = last_end; /* one character split into several tokens */
    const char *nl = after > last_end
                         ? memchr(text + last_end, '\n', after - last_end)
                         : NULL;
    if (!nl)
        s->end = after;
    else if (starts_line(text, span, s->a))
        s->end = (size_t)(nl - text) + 1;
    else
        s->end = (size_t)(nl - text);
}

static int place_bytes(struct run *r, struct writer *w, const struct place *p,
                       uint32_t *start, uint32_t *end)
{
    uint32_t x[2];
    int rc = wn__pread_full(w->span_fd, x, sizeof(x), p->a * 8);
    if (rc)
        return rc;
    *start = x[0];
    rc = wn__pread_full(w->span_fd, x, sizeof(x), (p->b - 1) * 8);
    *end = x[1];
    (void)r;
    return rc;
}

static int append_id(const struct docs *d, size_t i, struct wn_buf *b)
{
    return wn__json_escape(d->ids.data + d->id[i],
                           (size_t)(d->id[i + 1] - d->id[i]), b);
}

static int spans_line(struct run *r, struct writer *w, size_t di, size_t nt,
                      size_t left)
{
    struct wn_buf *b = &w->line;
    b->len = 0;
    int rc = WN_BUF_LIT(b, "{\"id\":");
    if (!rc)
        rc = append_id(&r->d, di, b);
    if (!rc)
        rc = wn__buf_printf(b, ",\"tokens\":%zu", nt);
    if (!rc && r->o->mode == WN_SPANS_REMOVE)
        rc = wn__buf_printf(b, ",\"tokens_left\":%zu,\"short\":%s", left,
                            (left > 0 && left < r->o->min_length) ? "true"
                                                                  : "false");
    if (!rc)
        rc = WN_BUF_LIT(b, ",\"spans\":[");
    for (size_t i = 0; i < w->nsp && !rc; i++) {
        const struct span *s = &w->sp[i];
        rc = wn__buf_printf(b,
                            "%s{\"start\":%zu,\"end\":%zu,\"tokens\":%zu,"
                            "\"count\":%llu,\"where\":[",
                            i ? "," : "", s->start, s->end, s->b - s->a,
                            (unsigned long long)s->count);
        for (size_t j = 0; j < s->nwhere && !rc; j++) {
            const struct place *p = &w->pl[s->where0 + j];
            uint32_t ps, pe;
            rc = place_bytes(r, w, p, &ps, &pe);
            if (!rc && j)
                rc = wn__buf_putc(b, ',');
            if (!rc)
                rc = WN_BUF_LIT(b, "{\"id\":");
            if (!rc)
                rc = append_id(&r->d, p->doc, b);
            if (!rc)
                rc = wn__buf_printf(b, ",\"start\":%u,\"end\":%u}", ps, pe);
        }
        if (!rc)
            rc = wn__buf_printf(b, "],\"more\":%zu}", s->more);
    }
    if (!rc)
        rc = WN_BUF_LIT(b, "]}\n");
    if (!rc)
        rc = wn__outfile_write(&r->job.out[OUT_SPANS], b->data, b->len);
    return rc;
}

static int removed_line(struct run *r, struct writer *w, size_t di,
                        const char *reason, size_t nt, size_t left)
{
    struct wn_buf *b = &w->line;
    b->len = 0;
    int rc = WN_BUF_LIT(b, "{\"id\":");
    if (!rc)
        rc = append_id(&r->d, di, b);
    if (!rc)
        rc = wn__json_kv(b, "reason", reason, strlen(reason));
    if (!rc)
        rc = wn__buf_printf(b, ",\"tokens\":%zu,\"tokens_left\":%zu}\n", nt,
                            left);
    if (!rc)
        rc = wn__outfile_write(&r->job.out[OUT_REMOVED], b->data, b->len);
    return rc;
}

static int write_doc(struct run *r, struct writer *w, size_t di,
                     const struct wn_record *rec)
{
    size_t nt = (size_t)(r->d.tok[di + 1] - r->d.tok[di]);
    if (WN_GROW(w->win, w->win_cap, nt + 1) ||
        WN_GROW(w->span, w->span_cap, 2 * nt + 2))
        return WN_ENOMEM;
    int rc = read_all(r->wins, w->win, nt * sizeof(uint64_t));
    if (!rc)
        rc = read_all(r->spans, w->span, nt * 2 * sizeof(uint32_t));
    if (!rc)
        rc = find_spans(r, w, di, nt);
    if (rc)
        return rc;
    bool remove = r->o->mode == WN_SPANS_REMOVE;
    size_t cut_tokens = 0;
    for (size_t i = 0; i < w->nsp; i++) {
        struct span *s = &w->sp[i];
        s->b = WN_MIN(s->b, nt);
        if (remove) {
            cut_extent(rec->text, rec->text_len, w->span, nt, s);
            /* A character that expands into several tokens ("½", "ß" in
             * character mode) is cut whole by the first span that ends
             * inside it; the next span starts after it. */
            size_t prev = i ? w->sp[i - 1].end : 0;
            s->start = WN_MAX(s->start, prev);
            s->end = WN_MAX(s->end, s->start);
        } else {
            s->start = w->span[2 * s->a];
            s->end = w->span[2 * (s->b - 1) + 1];
        }
        cut_tokens += s->b - s->a;
        r->rep.span_tokens += s->b - s->a;
        r->rep.span_bytes += s->end - s->start;
    }
    r->rep.spans += w->nsp;
    size_t left = nt - cut_tokens;
    if (w->nsp) {
        r->rep.docs_with_spans++;
        rc = spans_line(r, w, di, nt, left);
        if (rc)
            return rc;
    }
    if (!remove || w->nsp == 0) {
        r->rep.kept++;
        return wn__write_record(&r->job.out[OUT_KEPT], rec,
                                r->job.ro.text_field, NULL, 0, &w->rec);
    }
    bool is_short = left > 0 && left < r->o->min_length;
    r->rep.short_docs += is_short;
    if (left == 0 || (is_short && r->o->drop_short)) {
        r->rep.removed++;
        if (left == 0)
            r->rep.removed_empty++;
        else
            r->rep.removed_short++;
        return removed_line(r, w, di,
                            left == 0 ? "all text repeated"
                                      : "too short after removal",
                            nt, left);
    }
    if (WN_GROW(w->cuts, w->cuts_cap, w->nsp))
        return WN_ENOMEM;
    for (size_t i = 0; i < w->nsp; i++) {
        w->cuts[i].start = w->sp[i].start;
        w->cuts[i].end = w->sp[i].end;
    }
    rc = wn__apply_cuts(rec->text, rec->text_len, w->cuts, w->nsp, &w->text);
    if (rc)
        return rc;
    r->rep.kept++;
    return wn__write_record(&r->job.out[OUT_KEPT], rec, r->job.ro.text_field,
                            w->text.data ? w->text.data : "", w->text.len,
                            &w->rec);
}

static int pass2(struct run *r)
{
    if (fflush(r->spans) != 0 || fseeko(r->spans, 0, SEEK_SET) != 0 ||
        fseeko(r->wins, 0, SEEK_SET) != 0)
        return WN_EIO;
    struct wn_reader *rd = NULL;
    int rc = wn__frame_reopen(&r->job, false, &rd);
    if (rc)
        return rc;
    struct writer w;
    memset(&w, 0, sizeof(w));
    w.span_fd = fileno(r->spans);
    struct wn_record rec;
    size_t di = 0;
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
            continue; /* rejected in pass 1 */
        if (di >= r->d.n || r->d.len[di] != rec.text_len) {
            rc = wn__frame_changed(&r->job, &rec);
            break;
        }
        rc = write_doc(r, &w, di, &rec);
        di++;
        if (!rc && wn__frame_cancelled(&r->job))
            rc = WN_EINTR;
    }
    if (!rc && di != r->d.n)
        rc = wn__frame_changed(&r->job, NULL);
    wn_reader_free(rd);
    wn__free(w.win);
    wn__free(w.span);
    wn__free(w.sp);
    wn__free(w.pl);
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
    const struct wn_passages_options *o = r->o;
    const struct wn_passages_report *p = &r->rep;
    struct wn_buf b = {0};
    int rc = wn__buf_printf(
        &b,
        "{\n  \"read\": %llu,\n  \"kept\": %llu,\n  \"removed\": %llu,\n"
        "  \"rejected\": %llu,\n  \"removed_empty\": %llu,\n"
        "  \"removed_short\": %llu,\n  \"short_docs\": %llu,\n"
        "  \"blank_lines\": %llu,\n  \"bytes\": %llu,\n"
        "  \"invalid_utf8\": %llu,\n  \"tokens\": %llu,\n"
        "  \"windows\": %llu,\n  \"docs_with_spans\": %llu,\n"
        "  \"spans\": %llu,\n  \"span_tokens\": %llu,\n"
        "  \"span_bytes\": %llu,\n  \"vocabulary\": %llu,\n"
        "  \"hashed_tokens\": %llu,\n  \"code_bytes\": %llu,\n"
        "  \"parts\": %u,\n  \"cross_windows\": %llu,\n"
        "  \"part_peak_bytes\": %llu,\n",
        (unsigned long long)p->read, (unsigned long long)p->kept,
        (unsigned long long)p->removed, (unsigned long long)p->rejected,
        (unsigned long long)p->removed_empty,
        (unsigned long long)p->removed_short, (unsigned long long)p->short_docs,
        (unsigned long long)p->blank_lines, (unsigned long long)p->bytes,
        (unsigned long long)r->invalid_utf8, (unsigned long long)p->tokens,
        (unsigned long long)p->windows, (unsigned long long)p->docs_with_spans,
        (unsigned long long)p->spans, (unsigned long long)p->span_tokens,
        (unsigned long long)p->span_bytes, (unsigned long long)p->vocabulary,
        (unsigned long long)p->hashed_tokens, (unsigned long long)p->code_bytes,
        p->parts, (unsigned long long)p->cross_windows,
        (unsigned long long)p->part_peak_bytes);
    if (!rc)
        rc = wn__buf_printf(
            &b,
            "  \"options\": {\"mode\": \"%s\", \"tokens\": \"%s\", "
            "\"min_span\": %u, \"min_length\": %u, \"drop_short\": %s, "
            "\"max_where\": %u, \"memory\": %llu},\n",
            o->mode == WN_SPANS_REMOVE ? "remove" : "annotate",
            o->token_mode == WN_TOKENS_CHAR ? "char" : "word", o->min_span,
            o->min_length, o->drop_short ? "true" : "false", o->max_where,
            (unsigned long long)o->memory);
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
            "],\n  \"seconds\": %.3f,\n  \"stage_seconds\": {\"read_code\": "
            "%.3f, \"suffix_arrays\": %.3f, \"cross_join\": %.3f, "
            "\"write\": %.3f},\n  \"peak_rss_bytes\": %llu\n}\n",
            p->seconds, p->stage_seconds[0], p->stage_seconds[1],
            p->stage_seconds[2], p->stage_seconds[3],
            (unsigned long long)p->peak_rss_bytes);
    if (!rc)
        rc = wn__outfile_write(&r->job.out[OUT_STATS], b.data, b.len);
    wn__buf_release(&b);
    return rc;
}

static int validate(const struct wn_passages_options *o)
{
    if (o->mode != WN_SPANS_ANNOTATE && o->mode != WN_SPANS_REMOVE)
        return WN_EINVAL;
    if (o->token_mode != WN_TOKENS_WORD && o->token_mode != WN_TOKENS_CHAR)
        return WN_EINVAL;
    if (o->min_span == 0 || o->min_span >= PART_MAX_TOKENS)
        return WN_EINVAL;
    if (o->drop_short && o->mode != WN_SPANS_REMOVE)
        return WN_EINVAL;
    if (o->reader.max_record_bytes >= MAX_RECORD)
        return WN_EINVAL; /* offsets are 32-bit */
    return WN_OK;
}

int wn_passages_run(const char *const *inputs, size_t n, const char *outdir,
                    const struct wn_passages_options *opts,
                    struct wn_passages_report *rep)
{
    struct wn_passages_options defaults;
    if (!opts) {
        wn_passages_options_init(&defaults);
        opts = &defaults;
    }
    int rc = validate(opts);
    if (rc)
        return rc;
    struct wn_passages_options o = *opts;
    if (!o.memory)
        o.memory = DEFAULT_MEMORY;
    struct run *r = wn__calloc(1, sizeof(*r));
    if (!r)
        return WN_ENOMEM;
    r->o = &o;
    struct wn_reader *rd = NULL;
    rc = wn__frame_start(&r->job, inputs, n, &o.reader, outdir, o.tmp_dir,
                         out_names, NOUT, true, true, o.cancel,
                         WN_CROSS_WRITERS, &rd);
    if (!rc)
        wn__frame_set_progress(&r->job, &o.progress, rd);
    if (!rc) {
        r->codes = wn__frame_spill(&r->job, "codes", 0);
        r->spans = wn__frame_spill(&r->job, "token-spans", 0);
        r->wins = wn__frame_spill(&r->job, "windows", 0);
        if (!r->codes || !r->spans || !r->wins)
            rc = WN_EOPEN;
    }
    if (!rc)
        rc = grow_docs(&r->d);
    if (!rc)
        rc = pass1(r, rd);
    wn_reader_free(rd);
    double t1 = wn__now();
    r->rep.stage_seconds[0] = t1 - r->job.t0;
    if (!rc)
        rc = plan_parts(r);
    if (!rc)
        wn__frame_stage(&r->job, "windows", "records", 0, 0);
    if (!rc)
        rc = stage_windows(r);
    double t3 = wn__now();
    if (!rc)
        rc = pass2(r);
    r->rep.stage_seconds[3] = wn__now() - t3;
    r->rep.seconds = wn__now() - r->job.t0;
    r->rep.peak_rss_bytes = wn__peak_rss();
    if (!rc && r->rep.read != r->rep.kept + r->rep.removed + r->rep.rejected)
        rc = WN_EIO; /* never publish outputs that lose a record */
    if (!rc)
        rc = write_stats(r);
    if (!rc)
        rc = wn__frame_commit(&r->job, true);
    r->rep.invalid_utf8 = r->invalid_utf8;
    wn__frame_error(&r->job, rc, r->rep.error_path, sizeof(r->rep.error_path),
                    &r->rep.error_errno);
    if (rep)
        *rep = r->rep;
    if (r->codes)
        fclose(r->codes);
    if (r->spans)
        fclose(r->spans);
    if (r->wins)
        fclose(r->wins);
    wn__frame_release(&r->job);
    docs_release(&r->d);
    wn__free(r->part_doc);
    wn__free(r->part_tok);
    wn__free(r);
    return rc;
}
