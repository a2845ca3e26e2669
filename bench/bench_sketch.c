/*
 * bench_sketch.c - throughput of the sketch stage: shingling, MinHash (OPH
 * and every classic variant at K = 64, 128, 256), SimHash and band keys, on
 * seeded synthetic documents shaped like news articles (100..2000 shingles,
 * word lengths of English text).
 *
 * Usage: bench_sketch [docs [seed]]   (defaults: 1000 documents, seed 1)
 *
 * Each measurement repeats its pass over all documents until at least
 * MIN_SECONDS have elapsed and reports the rate of the whole. Rates in MB/s
 * are the text that would produce those shingles at BYTES_PER_TOKEN bytes
 * per token (a word shingle per token). Ratios compare each MinHash with the
 * portable classic reference measured in the same run. Single-threaded.
 */
#include "lsh/lsh.h"
#include "sketch/sketch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_SECONDS     0.3
#define BYTES_PER_TOKEN 6.0
#define MIN_SHINGLES    100
#define MAX_SHINGLES    2000
#define NGRAM           5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void print_machine(void)
{
    char line[256], model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    int cpus = 0;

    if (f) {
        while (fgets(line, sizeof(line), f)) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *p = strchr(line, ':');
                if (p && cpus++ == 0) {
                    snprintf(model, sizeof(model), "%s", p + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
            }
        }
        fclose(f);
    }
    printf("machine: %s, %d logical CPUs; compiler %s\n", model, cpus,
           __VERSION__);
    printf("classic MinHash dispatch: %s\n", wn__minhash_classic_impl_name());
}

/* Documents as shingle-hash arrays, and as token lists for shingling. */
struct corpus {
    size_t ndocs;
    uint64_t **h;
    size_t *n;
    struct wn_tokens *tok;
    size_t shingles, tokens, text_bytes;
};

/* A word length drawn from a rough English distribution (mean about 5). */
static unsigned word_len(uint64_t *st)
{
    static const unsigned lens[] = {1, 2, 2, 3, 3, 3, 4, 4, 4, 4,
                                    5, 5, 5, 6, 6, 7, 7, 8, 9, 11};
    return lens[wn__splitmix64(st) % WN_ARRAY_LEN(lens)];
}

static void corpus_make(struct corpus *c, size_t ndocs, uint64_t seed)
{
    uint64_t st = seed;

    memset(c, 0, sizeof(*c));
    c->ndocs = ndocs;
    c->h = calloc(ndocs, sizeof(*c->h));
    c->n = calloc(ndocs, sizeof(*c->n));
    c->tok = calloc(ndocs, sizeof(*c->tok));
    for (size_t d = 0; d < ndocs; d++) {
        size_t n = MIN_SHINGLES +
                   wn__splitmix64(&st) % (MAX_SHINGLES - MIN_SHINGLES + 1);
        c->n[d] = n;
        c->h[d] = malloc(n * sizeof(uint64_t));
        for (size_t i = 0; i < n; i++)
            c->h[d][i] = wn__splitmix64(&st);
        c->shingles += n;

        /* n shingles of NGRAM words need n + NGRAM - 1 tokens; words come
         * from a vocabulary of 30000 so that they repeat like real ones. */
        struct wn_tokens *t = &c->tok[d];
        size_t ntok = n + NGRAM - 1;
        t->tok = malloc(ntok * sizeof(*t->tok));
        t->norm = malloc(ntok * 13);
        t->n = t->cap = ntok;
        size_t off = 0;
        for (size_t i = 0; i < ntok; i++) {
            uint64_t w = wn__splitmix64(&st) % 30000;
            uint64_t wst = w;
            unsigned len = word_len(&wst);
            for (unsigned j = 0; j < len; j++)
                t->norm[off + j] = (char)('a' + wn__splitmix64(&wst) % 26);
            t->norm[off + len] = '\0';
            t->tok[i] =
                (struct wn_token){(uint32_t)off, len, (uint32_t)off, len};
            off += len + 1;
        }
        t->norm_len = t->norm_cap = off;
        c->tokens += ntok;
        c->text_bytes += off;
    }
}

static void corpus_free(struct corpus *c)
{
    for (size_t d = 0; d < c->ndocs; d++) {
        free(c->h[d]);
        free(c->tok[d].tok);
        free(c->tok[d].norm);
    }
    free(c->h);
    free(c->n);
    free(c->tok);
}

/* A volatile sink keeps the compiler from dropping the work. */
static volatile uint64_t sink;

static void report(const char *what, double secs, size_t reps,
                   const struct corpus *c, double ref_rate)
{
    double sh = (double)c->shingles * reps / secs;
    double docs = (double)c->ndocs * reps / secs;
    printf("  %-26s %8.2f M shingles/s %9.0f docs/s %8.1f MB/s", what, sh / 1e6,
           docs, sh * BYTES_PER_TOKEN / 1e6);
    if (ref_rate > 0)
        printf("  x%.2f", sh / ref_rate);
    printf("\n");
}

/* Time fn over the corpus; returns shingles per second. */
static double bench_minhash(const struct corpus *c, uint32_t k,
                            int (*fn)(const uint64_t *, size_t, uint32_t,
                                      uint64_t, uint32_t *),
                            const char *name, double ref_rate)
{
    uint32_t sig[256];
    size_t reps = 0;
    double t0 = now(), t;

    do {
        for (size_t d = 0; d < c->ndocs; d++) {
            fn(c->h[d], c->n[d], k, 1, sig);
            sink += sig[0];
        }
        reps++;
        t = now() - t0;
    } while (t < MIN_SECONDS);
    report(name, t, reps, c, ref_rate);
    return (double)c->shingles * reps / t;
}

/* Shingling, then optionally a MinHash of the shingles, per document. */
static void bench_pipeline(const struct corpus *c, const char *name, int scheme,
                           uint32_t k)
{
    uint64_t *buf = NULL;
    size_t n = 0, cap = 0, reps = 0;
    uint32_t sig[256];
    double t0 = now(), t;

    do {
        for (size_t d = 0; d < c->ndocs; d++) {
            if (wn__shingles(&c->tok[d], NGRAM, 1, &buf, &n, &cap) != WN_OK)
                abort();
            if (scheme >= 0)
                wn__minhash(scheme, buf, n, k, 1, sig);
            sink += buf[0] + sig[0];
        }
        reps++;
        t = now() - t0;
    } while (t < MIN_SECONDS);
    report(name, t, reps, c, 0);
    wn__free(buf);
}

static void bench_simhash(const struct corpus *c)
{
    size_t reps = 0;
    double t0 = now(), t;
    uint64_t keys[64];

    do {
        for (size_t d = 0; d < c->ndocs; d++) {
            uint64_t fp = wn__simhash64(c->h[d], c->n[d]);
            sink += fp + wn__simhash_keys(fp, 3, 1, keys, 64);
        }
        reps++;
        t = now() - t0;
    } while (t < MIN_SECONDS);
    report("simhash64 + 4 keys", t, reps, c, 0);
}

static void bench_band_keys(const struct corpus *c)
{
    uint32_t sig[128];
    uint64_t keys[128];
    size_t reps = 0;
    double t0 = now(), t;

    for (uint32_t i = 0; i < 128; i++)
        sig[i] = i * 2654435761u;
    do {
        for (size_t d = 0; d < c->ndocs; d++) {
            sig[0] = (uint32_t)d;
            wn__lsh_band_keys(sig, 9, 13, 1, keys);
            sink += keys[0];
        }
        reps++;
        t = now() - t0;
    } while (t < MIN_SECONDS);
    printf("  %-26s %8.2f M docs/s (9 bands x 13 rows)\n", "band keys",
           (double)c->ndocs * reps / t / 1e6);
}

int main(int argc, char **argv)
{
    size_t ndocs = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    struct corpus c;

    if (ndocs == 0) {
        fprintf(stderr, "usage: bench_sketch [docs [seed]]\n");
        return 2;
    }
    print_machine();
    corpus_make(&c, ndocs, seed);
    printf("input: %zu documents, %zu shingles (%d..%d per document, "
           "seed %llu), %zu tokens, %.1f bytes per token\n",
           c.ndocs, c.shingles, MIN_SHINGLES, MAX_SHINGLES,
           (unsigned long long)seed, c.tokens,
           (double)c.text_bytes / (double)c.tokens);
    printf("MB/s assumes %.0f bytes of text per token (one shingle per "
           "token); xN = rate / portable classic rate\n\n",
           BYTES_PER_TOKEN);

    const struct wn_minhash_impl *impls;
    size_t nimpl = wn__minhash_classic_impls(&impls);
    const uint32_t ks[] = {64, 128, 256};
    for (size_t ki = 0; ki < WN_ARRAY_LEN(ks); ki++) {
        uint32_t k = ks[ki];
        char name[64];
        printf("MinHash K=%u\n", k);
        double ref = bench_minhash(&c, k, wn__minhash_classic_ref,
                                   "classic portable (ref)", 0);
        for (size_t v = 0; v + 1 < nimpl; v++) {
            snprintf(name, sizeof(name), "classic %s", impls[v].name);
            bench_minhash(&c, k, impls[v].fn, name, ref);
        }
        bench_minhash(&c, k, wn__minhash_oph, "OPH + densification", ref);
    }

    printf("\nShingling (n=%d) and the sketch stage per document\n", NGRAM);
    bench_pipeline(&c, "shingles only", -1, 0);
    bench_pipeline(&c, "shingles + OPH K=128", WN_SKETCH_OPH, 128);
    bench_pipeline(&c, "shingles + classic K=128", WN_SKETCH_CLASSIC, 128);
    bench_simhash(&c);
    bench_band_keys(&c);

    double t0 = now();
    struct wn_lsh_params p;
    wn__lsh_optimal(0.8, 256, 0.5, 0.5, &p);
    printf("  %-26s %8.1f ms (t=0.8, K=256: %u bands x %u rows)\n",
           "lsh_optimal", (now() - t0) * 1e3, p.bands, p.rows);
    corpus_free(&c);
    return 0;
}
