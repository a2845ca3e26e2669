/*
 * bench_news_sketch.c - where the per-record sketching time of pass 1 goes,
 * stage by stage, on real records: the texts of a JSONL file (e.g. the
 * generated corpus) are loaded into memory, then each stage runs over all
 * of them with one reused scratch, as a pass-1 task does: tokenize,
 * shingles, anchors, lead words, the lead words' count-min adds, figures,
 * and the whole of wn_sketcher_sketch under --profile news and classic.
 * Times are this thread's CPU seconds, best of REPS runs; a checksum of
 * each stage's output is printed so that two builds can be compared on
 * the same bytes (equal checksums: equal values).
 *
 * Usage: bench_news_sketch FILE.jsonl [max-MB [STAGE [REPS]]]
 * (defaults: 64 MB, every stage, best of 5; STAGE is a prefix of a stage's
 * name: "lead" runs both lead-word stages, "sketch" both whole sketches)
 */
#include "dedup/dedup.h"
#include "sketch/cms.h"
#include "sketch/contain.h"
#include "sketch/sketch.h"
#include "text/figures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int reps = 5;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct corpus {
    char *text;
    size_t *off; /* n + 1 */
    size_t n, len;
};

static int load(struct corpus *c, const char *path, size_t max)
{
    struct wn_reader *r;
    size_t bad;
    const char *paths[1] = {path};
    if (wn_reader_create(paths, 1, NULL, &r, &bad) != WN_OK)
        return -1;
    size_t cap = 1 << 16, tcap = max + (1 << 20);
    c->text = malloc(tcap);
    c->off = malloc((cap + 1) * sizeof(*c->off));
    c->n = 0;
    c->len = 0;
    c->off[0] = 0;
    struct wn_record rec;
    while (wn_reader_next(r, &rec) == 1 && c->len < max) {
        if (rec.status != WN_OK || c->len + rec.text_len > tcap)
            continue;
        if (c->n == cap) {
            cap *= 2;
            c->off = realloc(c->off, (cap + 1) * sizeof(*c->off));
        }
        memcpy(c->text + c->len, rec.text, rec.text_len);
        c->len += rec.text_len;
        c->off[++c->n] = c->len;
    }
    wn_reader_free(r);
    return 0;
}

static void report(const char *what, double s, uint64_t sum,
                   const struct corpus *c)
{
    printf("%-28s %8.3f CPU s  %8.1f MB/CPU s  sum %016llx\n", what, s,
           (double)c->len / 1e6 / s, (unsigned long long)sum);
}

/* Every record's tokens and shingles, made once, for the stages that
 * start from them. */
struct pre {
    struct wn_tokens *t;
    uint64_t **sh;
    size_t *nsh;
};

static void prepare(const struct corpus *c, struct pre *p)
{
    p->t = calloc(c->n, sizeof(*p->t));
    p->sh = calloc(c->n, sizeof(*p->sh));
    p->nsh = calloc(c->n, sizeof(*p->nsh));
    for (size_t i = 0; i < c->n; i++) {
        size_t cap = 0;
        wn_tokens_init(&p->t[i]);
        wn_tokenize(c->text + c->off[i], c->off[i + 1] - c->off[i],
                    WN_TOKENS_WORD, &p->t[i]);
        wn__shingles(&p->t[i], 5, 1, &p->sh[i], &p->nsh[i], &cap);
    }
}

enum stage { TOKENIZE, SHINGLES, ANCHORS, LEAD, CMS, FIGURES, NSTAGES };
static const char *names[] = {"tokenize",   "shingles",         "anchors",
                              "lead words", "lead words + cms", "figures"};

/* Run one stage over every record; returns a checksum. */
static uint64_t run(const struct corpus *c, const struct pre *pre,
                    enum stage st, struct wn_cms *cms)
{
    struct wn_tokens t;
    wn_tokens_init(&t);
    uint64_t *sh = NULL, sum = 0, anch[WN_ANCHOR_CAP];
    size_t shcap = 0;
    uint32_t w[WN_LEAD_TOKENS];
    for (size_t i = 0; i < c->n; i++) {
        const char *p = c->text + c->off[i];
        size_t len = c->off[i + 1] - c->off[i];
        switch (st) {
        case TOKENIZE:
            wn_tokenize(p, len, WN_TOKENS_WORD, &t);
            sum += t.n;
            break;
        case SHINGLES: {
            size_t n = 0;
            wn__shingles(&pre->t[i], 5, 1, &sh, &n, &shcap);
            for (size_t k = 0; k < n; k++)
                sum += sh[k];
            break;
        }
        case ANCHORS: {
            size_t na =
                wn__contain_anchors(pre->sh[i], pre->nsh[i],
                                    WN_ANCHOR_LOG2_RATE, WN_ANCHOR_CAP, anch);
            for (size_t k = 0; k < na; k++)
                sum = wn__mix64(sum ^ anch[k]);
            break;
        }
        case LEAD:
        case CMS: {
            size_t nw = wn__contain_lead_words(&pre->t[i], 1, w);
            for (size_t k = 0; k < nw; k++)
                sum = wn__mix64(sum ^ w[k]);
            uint64_t keys[WN_LEAD_TOKENS];
            for (size_t k = 0; st == CMS && k < nw; k++)
                keys[k] = wn__lead_key(w[k]);
            if (st == CMS)
                wn__cms_add_many(cms, keys, nw);
            break;
        }
        case FIGURES: {
            struct wn_figures f;
            wn__figures_extract(p, len, &f);
            sum = wn__mix64(sum ^ f.count);
            for (unsigned k = 0; k < f.n; k++)
                sum = wn__mix64(sum ^ f.h[k]);
            break;
        }
        default:
            break;
        }
    }
    free(sh);
    wn_tokens_release(&t);
    return sum;
}

static void whole(const struct corpus *c, int profile, const char *what)
{
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.profile = profile;
    if (profile == WN_PROFILE_CLASSIC)
        o.threshold = 0.8;
    struct wn_sketcher *sk;
    struct wn_sketch *s;
    if (wn_sketcher_create(&o, &sk) || wn_sketch_create(sk, &s)) {
        fprintf(stderr, "bench_news_sketch: no sketcher\n");
        exit(1);
    }
    double best = 1e30;
    uint64_t sum = 0;
    for (int r = 0; r < reps; r++) {
        sum = 0;
        double t0 = cpu_now();
        for (size_t i = 0; i < c->n; i++) {
            wn_sketcher_sketch(sk, c->text + c->off[i],
                               c->off[i + 1] - c->off[i], s);
            size_t nk, nv;
            const uint64_t *k = wn_sketch_band_keys(s, &nk);
            const uint8_t *v = wn_sketch_verify_data(s, &nv);
            sum = wn__mix64(sum ^ (nk ? k[0] : 0) ^ (nv ? v[0] : 0));
            sum ^= wn__hash64(s->vdata, sk->rec_bytes, 0);
            sum ^= wn__hash64(s->anch, s->nanch * sizeof(*s->anch), 1);
        }
        double dt = cpu_now() - t0;
        best = dt < best ? dt : best;
    }
    report(what, best, sum, c);
    wn_sketch_free(s);
    wn_sketcher_free(sk);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_news_sketch FILE.jsonl [max-MB]\n");
        return 2;
    }
    size_t max = (size_t)(argc > 2 ? atof(argv[2]) : 64) << 20;
    struct corpus c;
    if (load(&c, argv[1], max)) {
        fprintf(stderr, "bench_news_sketch: cannot read %s\n", argv[1]);
        return 1;
    }
    struct pre pre;
    prepare(&c, &pre);
    const char *only = argc > 3 ? argv[3] : "";
    if (argc > 4)
        reps = atoi(argv[4]) > 0 ? atoi(argv[4]) : reps;
    printf("%zu records, %.1f MB of text; best of %d, thread CPU time\n", c.n,
           (double)c.len / 1e6, reps);
    for (int st = 0; st < NSTAGES; st++) {
        if (strncmp(names[st], only, strlen(only)) != 0)
            continue;
        double best = 1e30;
        uint64_t sum = 0;
        for (int r = 0; r < reps; r++) {
            struct wn_cms cms;
            wn__cms_init(&cms, WN_WORDS_LOG2_WIDTH, WN_WORDS_DEPTH);
            double t0 = cpu_now();
            sum = run(&c, &pre, (enum stage)st, &cms);
            double dt = cpu_now() - t0;
            best = dt < best ? dt : best;
            if (st == CMS)
                sum ^= wn__hash64(cms.c,
                                  ((size_t)cms.depth << cms.log2_width) * 2, 0);
            wn__cms_release(&cms);
        }
        report(names[st], best, sum, &c);
    }
    if (strncmp("sketch --profile news", only, strlen(only)) == 0)
        whole(&c, WN_PROFILE_NEWS, "sketch --profile news");
    if (strncmp("sketch --profile classic", only, strlen(only)) == 0)
        whole(&c, WN_PROFILE_CLASSIC, "sketch --profile classic");
    free(c.text);
    free(c.off);
    return 0;
}
