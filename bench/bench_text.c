/*
 * bench_text.c - throughput of wn_tokenize() against the naive way to get
 * the same tokens: utf8proc_map over the whole text, then a split by
 * general category.
 *
 * Inputs: generated English news-like ASCII text (seeded, always present)
 * and, when the data directory has them, the "text" fields of
 * bbc_news/docs.jsonl.zst (English with mojibake) and
 * kowiki_sample/docs.jsonl.zst (Korean). Each corpus is tokenized document
 * by document with one reused struct wn_tokens, as the pipeline does. Every
 * document's tokens are also compared with the baseline's, so the run is a
 * differential test on real text as well. One thread; times are the
 * thread's CPU time (so other jobs on a shared machine do not count), best
 * of REPS runs.
 *
 * Usage: bench_text [data-dir] [max-MB-per-corpus]
 * (data-dir defaults to the first of ../shared/data, ../../shared/data,
 * /work/shared/data that exists; max 32 MB).
 */
#include "io/json.h"
#include "text/text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>
#include <zstd.h>

#define REPS 3

struct corpus {
    const char *name;
    char *text;    /* all documents, back to back */
    size_t *off;   /* document i is text[off[i], off[i + 1]) */
    size_t n, cap; /* documents */
    size_t len, text_cap;
};

static void die(const char *what)
{
    fprintf(stderr, "bench_text: %s\n", what);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        die("out of memory");
    return p;
}

/* Append one document. */
static void corpus_add(struct corpus *c, const char *s, size_t len)
{
    if (c->n + 2 > c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->off = xrealloc(c->off, c->cap * sizeof(*c->off));
    }
    if (c->len + len > c->text_cap) {
        c->text_cap = (c->len + len) * 2;
        c->text = xrealloc(c->text, c->text_cap);
    }
    memcpy(c->text + c->len, s, len);
    c->off[c->n++] = c->len;
    c->len += len;
    c->off[c->n] = c->len;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------------- */
/* Generated English                                                      */
/* ---------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static const char *const words[] = {
    "the",        "of",
    "to",         "and",
    "a",          "in",
    "that",       "for",
    "on",         "is",
    "was",        "said",
    "with",       "he",
    "it",         "as",
    "at",         "by",
    "from",       "his",
    "have",       "has",
    "be",         "are",
    "an",         "this",
    "which",      "but",
    "not",        "were",
    "they",       "after",
    "been",       "more",
    "year",       "would",
    "their",      "who",
    "will",       "also",
    "government", "minister",
    "market",     "shares",
    "company",    "police",
    "officials",  "report",
    "people",     "week",
    "percent",    "economy",
    "growth",     "election",
    "party",      "president",
    "court",      "council",
    "sales",      "profits",
    "analysts",   "expected",
    "announced",  "spokesman",
    "statement",  "workers",
    "industry",   "prices",
    "interest",   "rates",
    "bank",       "investors",
    "deal",       "million",
    "billion",    "quarter",
    "results",    "record",
    "leader",     "talks",
    "agreement",  "plans",
    "opposition", "security",
    "health",     "service",
    "schools",    "children",
    "families",   "city",
    "region",     "national",
    "local",      "international",
    "foreign",    "trade",
    "exports",    "energy",
    "oil",        "gas",
    "weather",    "storm",
    "flooding",   "match",
    "season",     "coach",
    "players",    "league",
    "final",      "victory",
    "defeat",     "film",
    "music",      "festival",
    "technology", "mobile",
    "internet",   "software",
    "research",   "study",
    "scientists", "hospital",
    "patients",   "doctors",
    "budget",     "tax",
    "spending",   "crisis",
    "reform",     "vote",
    "campaign",   "candidates",
};

static const char *const names[] = {
    "London",    "Washington",    "Brussels", "Tokyo",   "Reuters",
    "BBC",       "Europe",        "Smith",    "Johnson", "Brown",
    "Labour",    "Conservatives", "Congress", "Monday",  "Tuesday",
    "Wednesday", "Thursday",      "Friday",   "January", "March",
    "June",      "September",     "U.S.",     "U.K.",    "EU",
    "NATO",      "IMF",
};

/* One article of about target bytes: sentences of 8-30 words with names,
 * numbers, possessives, quotes and the punctuation of wire copy. */
static size_t gen_article(uint64_t *rng, char *out, size_t target)
{
    size_t len = 0;
    while (len < target) {
        size_t nw = 8 + rng_next(rng) % 23;
        bool quote = rng_next(rng) % 6 == 0;
        if (quote)
            out[len++] = '"';
        for (size_t i = 0; i < nw; i++) {
            uint64_t r = rng_next(rng) % 100;
            char word[64];
            int wl;
            if (r < 10)
                wl = snprintf(word, sizeof(word), "%s",
                              names[rng_next(rng) % WN_ARRAY_LEN(names)]);
            else if (r < 14)
                wl = snprintf(word, sizeof(word), "%u.%u%%",
                              (unsigned)(rng_next(rng) % 20),
                              (unsigned)(rng_next(rng) % 10));
            else if (r < 17)
                wl = snprintf(word, sizeof(word), "$%u.%ubn",
                              (unsigned)(rng_next(rng) % 900 + 1),
                              (unsigned)(rng_next(rng) % 10));
            else if (r < 19)
                wl = snprintf(word, sizeof(word), "%u",
                              (unsigned)(1990 + rng_next(rng) % 36));
            else
                wl = snprintf(word, sizeof(word), "%s",
                              words[rng_next(rng) % WN_ARRAY_LEN(words)]);
            if (i == 0 && word[0] >= 'a' && word[0] <= 'z')
                word[0] = (char)(word[0] - 'a' + 'A');
            memcpy(out + len, word, (size_t)wl);
            len += (size_t)wl;
            r = rng_next(rng) % 100;
            if (i + 1 == nw)
                break;
            if (r < 3) {
                memcpy(out + len, "'s", 2);
                len += 2;
            }
            if (r >= 3 && r < 10)
                out[len++] = ',';
            if (r >= 10 && r < 11) {
                memcpy(out + len, " --", 3);
                len += 3;
            }
            out[len++] = ' ';
        }
        out[len++] = '.';
        if (quote)
            out[len++] = '"';
        out[len++] = rng_next(rng) % 5 == 0 ? '\n' : ' ';
    }
    return len;
}

static void gen_english(struct corpus *c, size_t max)
{
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    char *buf = xrealloc(NULL, 16384);
    while (c->len < max) {
        size_t target = 1500 + rng_next(&rng) % 4000;
        corpus_add(c, buf, gen_article(&rng, buf, target));
    }
    free(buf);
}

/* ---------------------------------------------------------------------- */
/* Real data: JSONL compressed with zstd                                  */
/* ---------------------------------------------------------------------- */

static void add_record(struct corpus *c, const char *line, size_t len,
                       char **scratch, size_t *scratch_cap)
{
    struct wn_json_field f = {.key = "text", .key_len = 4};
    size_t err;
    if (wn__json_scan_object(line, len, &f, 1, &err) ||
        f.type != WN_JSON_STRING)
        return;
    if (f.len > *scratch_cap) {
        *scratch_cap = f.len;
        *scratch = xrealloc(*scratch, f.len);
    }
    size_t tlen;
    if (wn__json_unescape(line + f.off, f.len, *scratch, &tlen) == WN_OK)
        corpus_add(c, *scratch, tlen);
}

static bool load_jsonl_zst(struct corpus *c, const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    ZSTD_DStream *z = ZSTD_createDStream();
    size_t inl = ZSTD_DStreamInSize(), outl = ZSTD_DStreamOutSize();
    char *in = xrealloc(NULL, inl), *out = xrealloc(NULL, outl);
    char *line = NULL, *scratch = NULL;
    size_t line_len = 0, line_cap = 0, scratch_cap = 0, got;
    ZSTD_initDStream(z);
    while (c->len < max && (got = fread(in, 1, inl, f)) > 0) {
        ZSTD_inBuffer ib = {in, got, 0};
        while (ib.pos < ib.size && c->len < max) {
            ZSTD_outBuffer ob = {out, outl, 0};
            if (ZSTD_isError(ZSTD_decompressStream(z, &ob, &ib)))
                die("corrupt zstd input");
            for (size_t i = 0; i < ob.pos; i++) {
                if (out[i] != '\n') {
                    if (line_len == line_cap) {
                        line_cap = line_cap ? line_cap * 2 : 65536;
                        line = xrealloc(line, line_cap);
                    }
                    line[line_len++] = out[i];
                    continue;
                }
                add_record(c, line, line_len, &scratch, &scratch_cap);
                line_len = 0;
            }
        }
    }
    ZSTD_freeDStream(z);
    fclose(f);
    free(in);
    free(out);
    free(line);
    free(scratch);
    return c->n > 0;
}

/* ---------------------------------------------------------------------- */
/* The naive baseline                                                     */
/* ---------------------------------------------------------------------- */

/*
 * utf8proc_map (which allocates the whole normalized text), then one token
 * per run of word characters, with the same rules as wn_tokenize, written
 * into a reused buffer as '\0'-terminated strings. Returns the token count,
 * or -1 when utf8proc rejects the text (ill-formed UTF-8).
 */
static long baseline(const char *s, size_t len, int mode, char **buf,
                     size_t *cap, size_t *buf_len)
{
    utf8proc_uint8_t *norm = NULL;
    utf8proc_ssize_t n =
        utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &norm,
                     WN__NFKC_CF_OPTIONS);
    if (n < 0)
        return -1;
    if ((size_t)n * 2 + 1 > *cap) {
        *cap = (size_t)n * 2 + 1;
        *buf = xrealloc(*buf, *cap);
    }
    char *o = *buf;
    long tokens = 0;
    int state = 0; /* 0 none, 1 word, 2 one character */
    for (utf8proc_ssize_t i = 0; i < n;) {
        int32_t cp;
        utf8proc_ssize_t step = utf8proc_iterate(norm + i, n - i, &cp);
        unsigned cls = wn__cp_class(cp);
        int next;
        if (!(cls & WN__CP_WORD))
            next = 0;
        else if (cls & WN__CP_MARK)
            next = state ? state : mode == WN_TOKENS_CHAR ? 2 : 1;
        else if (mode == WN_TOKENS_CHAR || (cls & WN__CP_NOSPACE))
            next = 3;
        else
            next = state == 1 ? 1 : 4;
        if (state && next != state) {
            *o++ = '\0';
            tokens++;
        }
        next = next == 3 ? 2 : next == 4 ? 1 : next;
        if (next) {
            memcpy(o, norm + i, (size_t)step);
            o += step;
        }
        state = next;
        i += step;
    }
    if (state) {
        *o++ = '\0';
        tokens++;
    }
    *buf_len = (size_t)(o - *buf);
    free(norm);
    return tokens;
}

/* ---------------------------------------------------------------------- */

static void run(const struct corpus *c, int mode)
{
    struct wn_tokens t;
    wn_tokens_init(&t);
    char *bbuf = NULL;
    size_t bcap = 0, blen = 0;
    double best_fast = 1e30, best_base = 1e30;
    uint64_t ntok = 0, nbase = 0, mismatched = 0, rejected = 0;

    for (int rep = 0; rep < REPS; rep++) {
        ntok = 0;
        double t0 = now();
        for (size_t i = 0; i < c->n; i++) {
            if (wn_tokenize(c->text + c->off[i], c->off[i + 1] - c->off[i],
                            mode, &t))
                die("wn_tokenize failed");
            ntok += t.n;
        }
        double t1 = now();
        nbase = 0;
        for (size_t i = 0; i < c->n; i++) {
            long k = baseline(c->text + c->off[i], c->off[i + 1] - c->off[i],
                              mode, &bbuf, &bcap, &blen);
            nbase += k > 0 ? (uint64_t)k : 0;
        }
        double t2 = now();
        best_fast = WN_MIN(best_fast, t1 - t0);
        best_base = WN_MIN(best_base, t2 - t1);
    }

    /* Differential check, outside the timed loops. */
    for (size_t i = 0; i < c->n; i++) {
        const char *s = c->text + c->off[i];
        size_t len = c->off[i + 1] - c->off[i];
        long k = baseline(s, len, mode, &bbuf, &bcap, &blen);
        if (wn_tokenize(s, len, mode, &t))
            die("wn_tokenize failed");
        if (k < 0)
            rejected++;
        else if ((size_t)k != t.n || blen != t.norm_len ||
                 memcmp(bbuf, t.norm, blen) != 0)
            mismatched++;
    }

    double mb = (double)c->len / 1e6;
    printf("  %-5s wn_tokenize  %8.1f MB/s  %6.2f M tokens/s  (%" PRIu64
           " tokens)\n",
           mode == WN_TOKENS_WORD ? "word" : "char", mb / best_fast,
           (double)ntok / best_fast / 1e6, ntok);
    printf("        baseline     %8.1f MB/s  %6.2f M tokens/s  speedup %.1fx\n",
           mb / best_base, (double)nbase / best_base / 1e6,
           best_base / best_fast);
    printf("        documents whose tokens differ from the baseline: %" PRIu64
           " of %zu (%" PRIu64 " rejected by utf8proc_map)\n",
           mismatched, c->n, rejected);
    free(bbuf);
    wn_tokens_release(&t);
}

static void bench(const struct corpus *c)
{
    size_t ascii = 0;
    for (size_t i = 0; i < c->len; i++)
        ascii += (unsigned char)c->text[i] < 0x80;
    printf("%s: %zu documents, %.1f MB, %.1f%% ASCII bytes\n", c->name, c->n,
           (double)c->len / 1e6, 100.0 * (double)ascii / (double)c->len);
    run(c, WN_TOKENS_WORD);
    run(c, WN_TOKENS_CHAR);
}

static void print_machine(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof(line), f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *v = strchr(line, ':');
                if (v) {
                    snprintf(model, sizeof(model), "%s", v + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    printf("machine: %s, %ld online CPUs; one thread used\n", model,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("compiler: %s; utf8proc %s (Unicode %s)\n", __VERSION__,
           utf8proc_version(), utf8proc_unicode_version());
    printf("times: CPU time of the thread, best of %d runs\n", REPS);
}

static void free_corpus(struct corpus *c)
{
    free(c->text);
    free(c->off);
}

int main(int argc, char **argv)
{
    static const char *const dirs[] = {"../shared/data", "../../shared/data",
                                       "/work/shared/data"};
    const char *dir = argc > 1 ? argv[1] : NULL;
    size_t max = (argc > 2 ? (size_t)atol(argv[2]) : 32) * 1000000;
    struct stat st;
    for (size_t i = 0; !dir && i < WN_ARRAY_LEN(dirs); i++)
        if (stat(dirs[i], &st) == 0)
            dir = dirs[i];

    print_machine();

    struct corpus en = {.name = "generated English news (ASCII)"};
    gen_english(&en, max);
    bench(&en);
    free_corpus(&en);

    static const struct {
        const char *file, *name;
    } real[] = {
        {"bbc_news/docs.jsonl.zst", "bbc_news texts (English, mojibake)"},
        {"kowiki_sample/docs.jsonl.zst", "kowiki_sample texts (Korean)"},
    };
    for (size_t i = 0; i < WN_ARRAY_LEN(real); i++) {
        char path[4096];
        struct corpus c = {.name = real[i].name};
        snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", real[i].file);
        if (dir && load_jsonl_zst(&c, path, max))
            bench(&c);
        else
            printf("%s: skipped, %s not found\n", real[i].name, path);
        free_corpus(&c);
    }
    return 0;
}
