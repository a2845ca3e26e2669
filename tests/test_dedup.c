/*
 * test_dedup.c - the whole pipeline in process (wn_dedup_run,
 * lib/dedup/engine.c), for the properties that must hold whatever the input
 * and whatever goes wrong:
 *
 *  - allocation failures: every allocation of a small run is made to fail
 *    in turn (as curl's torture tests do), for several option sets; each
 *    run returns WN_ENOMEM, publishes nothing, leaves the previous outputs
 *    byte-identical and no temporary directory, and leaks nothing (the
 *    sanitizer build checks leaks at exit; `make test-valgrind` too);
 *  - the accounting invariant read = kept + removed + rejected on random
 *    corpora with random bad lines, checked against what the generator
 *    knows: which lines are bad, and the bytes of every good line;
 *  - outputs byte-identical for 1, 2 and 3 threads, and clusters identical
 *    for any input order (only which member comes first may change);
 *  - cancellation: from the reject callback, before the start and at
 *    random moments from another thread: WN_EINTR, nothing published, no
 *    temporary files, the previous outputs intact.
 *
 * Corpora are generated here from a seeded splitmix64: stories of words
 * from a synthetic vocabulary, exact copies (case and spacing changed) and
 * near copies (a site header, a changed word), and bad lines of eight
 * kinds. WN_SWEEP_STEP=k in the environment makes the allocation sweep try
 * every k-th allocation only (for valgrind, which is 30x slower).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/common.h"
#include "io/reader.h"

#include <signal.h>

/* Under AddressSanitizer, leaks are looked for after each sweep, so that
 * the sweep that leaks fails, not only the process at exit. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WN_TEST_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(WN_TEST_LSAN)
#define WN_TEST_LSAN 1
#endif
#ifdef WN_TEST_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static char root[64];

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

/* root/name, malloc'ed. */
static char *path_of(const char *name)
{
    char *p = malloc(strlen(root) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", root, name);
    return p;
}

static void write_path(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_gzip(const char *path, const void *data, size_t n)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
    assert_int_equal(gzclose(g), Z_OK);
}

/* The contents of a file, NUL-terminated, or NULL when it does not exist. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct wn_buf b = {0};
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(wn__buf_append(&b, chunk, k), WN_OK);
    fclose(f);
    assert_int_equal(wn__buf_putc(&b, '\0'), WN_OK);
    if (len)
        *len = b.len - 1;
    return b.data;
}

static const char *const output_names[5] = {"kept.jsonl", "removed.jsonl",
                                            "clusters.jsonl", "rejected.jsonl",
                                            "stats.json"};

/* The five outputs of a directory, as they are now (NULL: absent). */
struct snapshot {
    char *data[5];
    size_t len[5];
};

static void snapshot_take(const char *dir, struct snapshot *s)
{
    for (int i = 0; i < 5; i++) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, output_names[i]);
        s->data[i] = slurp(p, &s->len[i]);
    }
}

static void snapshot_free(struct snapshot *s)
{
    for (int i = 0; i < 5; i++)
        wn__free(s->data[i]);
}

/* Whether two snapshots agree on the first n outputs (4: the data files,
 * 5: stats.json too). */
static bool snapshot_same(const struct snapshot *a, const struct snapshot *b,
                          int n)
{
    for (int i = 0; i < n; i++) {
        if ((a->data[i] == NULL) != (b->data[i] == NULL))
            return false;
        if (a->data[i] && (a->len[i] != b->len[i] ||
                           memcmp(a->data[i], b->data[i], a->len[i]) != 0))
            return false;
    }
    return true;
}

/* Entries of dir other than the five outputs ("." and ".." aside). */
static int stray_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            !strcmp(e->d_name, ".winnow-outputs")) /* the manifest */
            continue;
        bool known = false;
        for (int i = 0; i < 5; i++)
            known |= strcmp(e->d_name, output_names[i]) == 0;
        n += !known;
    }
    closedir(d);
    return n;
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ------------------------------------------------------------------------ */
/* Corpus generator                                                          */
/* ------------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rng_next(s) % n);
}

#define VOCAB       600
#define MAX_STORIES 4096
#define STORY_WORDS 48

/* A synthetic word: two to four syllables. */
static void make_word(uint32_t k, char *out)
{
    static const char *const syl[] = {"ka", "lo",  "mi",  "ne",  "ru", "ta",
                                      "vo", "shi", "den", "par", "el", "gor",
                                      "is", "ban", "tu",  "fe"};
    uint64_t s = k * 7919u + 13;
    int n = 2 + (int)rng_below(&s, 3);
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        strcat(out, syl[rng_below(&s, 16)]);
}

struct corpus {
    struct wn_buf data;  /* the JSONL bytes */
    size_t good, bad;    /* records of each kind */
    size_t blank;        /* blank lines */
    uint64_t *bad_lines; /* 1-based line numbers of the bad records */
    uint32_t *good_ids;  /* id number of each good record, input order */
    size_t *good_off;    /* its line's offset and length in data */
    size_t *good_len;
    uint64_t *good_lines; /* its line number */
    size_t cap, bad_cap;
};

enum { BAD_KINDS = 8 };

static void corpus_free(struct corpus *c)
{
    wn__buf_release(&c->data);
    free(c->bad_lines);
    free(c->good_ids);
    free(c->good_off);
    free(c->good_len);
    free(c->good_lines);
    memset(c, 0, sizeof(*c));
}

static void put(struct corpus *c, const char *s)
{
    assert_int_equal(wn__buf_append(&c->data, s, strlen(s)), WN_OK);
}

/* One bad line of the given kind; max_record is the size cap in use. */
static void put_bad(struct corpus *c, int kind, uint64_t line,
                    size_t max_record)
{
    char b[160];
    switch (kind) {
    case 0:
        snprintf(b, sizeof(b), "this is not json %llu\n",
                 (unsigned long long)line);
        break;
    case 1:
        snprintf(b, sizeof(b), "{\"id\":\"bad%llu\",\"body\":\"no text\"}\n",
                 (unsigned long long)line);
        break;
    case 2:
        snprintf(b, sizeof(b), "{\"id\":\"bad%llu\",\"text\":12.5}\n",
                 (unsigned long long)line);
        break;
    case 3:
        snprintf(b, sizeof(b), "{\"id\":[%llu],\"text\":\"array id\"}\n",
                 (unsigned long long)line);
        break;
    case 4:
        snprintf(b, sizeof(b), "{\"id\":\"bad%llu\",\"text\":\"unterminated\n",
                 (unsigned long long)line);
        break;
    case 5:
        snprintf(b, sizeof(b), "{\"id\":\"bad%llu\",\"text\":\"t\"} trailing\n",
                 (unsigned long long)line);
        break;
    case 6:
        snprintf(b, sizeof(b), "{\"id\":\"a\",\"text\":\"x\"}{\"id\":\"b\"}\n");
        break;
    default: {
        /* Valid JSON, but longer than the cap. */
        put(c, "{\"id\":\"long\",\"text\":\"");
        for (size_t i = 0; i < max_record; i += 8)
            put(c, "kalomine");
        put(c, "\"}\n");
        return;
    }
    }
    put(c, b);
}

/*
 * A corpus of n records. A record is a new story, an exact copy of an
 * earlier one up to case and spacing, or a near copy (a site header or one
 * word changed). With bad_per_mille > 0 that share of the lines are bad,
 * and some blank lines and good lines with raw NUL bytes, invalid UTF-8,
 * control bytes, a CR before the line feed or a byte order mark are mixed
 * in (good: the reader accepts them). Ids are "d<number>", unique.
 */
static void corpus_make(struct corpus *c, uint64_t seed, size_t n,
                        unsigned bad_per_mille, size_t max_record)
{
    memset(c, 0, sizeof(*c));
    uint64_t s = seed;
    static uint16_t stories[MAX_STORIES][STORY_WORDS];
    size_t nstories = 0;
    uint64_t line = 0;
    char word[16];
    for (size_t i = 0; i < n; i++) {
        if (bad_per_mille && rng_below(&s, 1000) < 40) {
            put(c, rng_below(&s, 2) ? "\n" : "  \t \n");
            c->blank++;
            line++;
        }
        line++;
        if (bad_per_mille && rng_below(&s, 1000) < bad_per_mille) {
            if (c->bad == c->bad_cap) {
                c->bad_cap = c->bad_cap ? 2 * c->bad_cap : 64;
                c->bad_lines =
                    realloc(c->bad_lines, c->bad_cap * sizeof(uint64_t));
                assert_non_null(c->bad_lines);
            }
            c->bad_lines[c->bad++] = line;
            put_bad(c, (int)rng_below(&s, BAD_KINDS), line, max_record);
            continue;
        }
        if (c->good == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 256;
            c->good_ids = realloc(c->good_ids, c->cap * sizeof(uint32_t));
            c->good_off = realloc(c->good_off, c->cap * sizeof(size_t));
            c->good_len = realloc(c->good_len, c->cap * sizeof(size_t));
            c->good_lines = realloc(c->good_lines, c->cap * sizeof(uint64_t));
            assert_true(c->good_ids && c->good_off && c->good_len &&
                        c->good_lines);
        }
        size_t k = c->good++;
        c->good_ids[k] = (uint32_t)i;
        c->good_off[k] = c->data.len;
        c->good_lines[k] = line;

        /* Pick the story and the variant. */
        uint32_t r = rng_below(&s, 100);
        size_t st;
        int variant = 0; /* 0 as is, 1 exact copy, 2 header, 3 one word */
        if (nstories == 0 || (r < 55 && nstories < MAX_STORIES)) {
            st = nstories++;
            for (int w = 0; w < STORY_WORDS; w++)
                stories[st][w] = (uint16_t)rng_below(&s, VOCAB);
        } else {
            st = rng_below(&s, (uint32_t)nstories);
            variant = 1 + (int)rng_below(&s, 3);
        }
        bool weird = bad_per_mille && rng_below(&s, 100) < 5;
        int weird_kind = (int)rng_below(&s, 5);
        if (weird && weird_kind == 4) {
            put(c, "\xef\xbb\xbf");
            c->good_off[k] = c->data.len; /* a BOM is not part of the record */
        }
        char head[48];
        snprintf(head, sizeof(head), "{\"id\":\"d%zu\",\"text\":\"", i);
        put(c, head);
        if (variant == 2)
            put(c, "Northvale Herald | Local News | ");
        uint32_t changed = variant == 3 ? rng_below(&s, STORY_WORDS) : 999;
        for (int w = 0; w < STORY_WORDS; w++) {
            make_word(w == (int)changed ? VOCAB + (uint32_t)i : stories[st][w],
                      word);
            if (variant == 1 && w % 7 == 0)
                word[0] = (char)(word[0] - 'a' + 'A');
            if (w)
                put(c, variant == 1 && w % 5 == 0 ? "   " : " ");
            put(c, word);
            if (w % 12 == 11)
                put(c, ".");
        }
        if (weird && weird_kind == 0)
            assert_int_equal(wn__buf_append(&c->data, " raw\0nul", 8), WN_OK);
        if (weird && weird_kind == 1)
            put(c, " bad \xff\xfe utf8 \xc0\xaf");
        if (weird && weird_kind == 2)
            put(c, " tab\there\x01");
        put(c, "\"}");
        if (weird && weird_kind == 3)
            put(c, "\r");
        c->good_len[k] = c->data.len - c->good_off[k];
        put(c, "\n");
    }
}

/* ------------------------------------------------------------------------ */
/* Reading the outputs                                                       */
/* ------------------------------------------------------------------------ */

/* Every line of a JSONL output, parsed. */
static json_t *load_lines(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    size_t n;
    char *data = slurp(p, &n);
    assert_non_null(data);
    json_t *arr = json_array();
    char *line = data;
    while (line < data + n) {
        char *nl = memchr(line, '\n', (size_t)(data + n - line));
        assert_non_null(nl);
        json_error_t err;
        json_t *v = json_loadb(line, (size_t)(nl - line), 0, &err);
        if (!v)
            fail_msg("%s: %s", name, err.text);
        json_array_append_new(arr, v);
        line = nl + 1;
    }
    wn__free(data);
    return arr;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The clusters of an output directory as one canonical string: each
 * cluster's member ids sorted and joined by ',', clusters sorted and joined
 * by ';'. Two runs partition the records alike exactly when the strings
 * are equal.
 */
static char *partition_of(const char *dir)
{
    json_t *cl = load_lines(dir, "clusters.jsonl");
    size_t nc = json_array_size(cl);
    char **parts = calloc(nc ? nc : 1, sizeof(char *));
    assert_non_null(parts);
    for (size_t i = 0; i < nc; i++) {
        json_t *m = json_object_get(json_array_get(cl, i), "members");
        size_t nm = json_array_size(m);
        assert_true(nm >= 2);
        const char **ids = calloc(nm, sizeof(char *));
        assert_non_null(ids);
        for (size_t j = 0; j < nm; j++)
            ids[j] = json_string_value(json_array_get(m, j));
        qsort(ids, nm, sizeof(char *), cmp_str);
        struct wn_buf b = {0};
        for (size_t j = 0; j < nm; j++) {
            if (j)
                assert_int_equal(wn__buf_putc(&b, ','), WN_OK);
            assert_int_equal(wn__buf_append(&b, ids[j], strlen(ids[j])), WN_OK);
        }
        assert_int_equal(wn__buf_putc(&b, '\0'), WN_OK);
        parts[i] = b.data;
        free(ids);
    }
    qsort(parts, nc, sizeof(char *), cmp_str);
    struct wn_buf all = {0};
    for (size_t i = 0; i < nc; i++) {
        assert_int_equal(wn__buf_append(&all, parts[i], strlen(parts[i])),
                         WN_OK);
        assert_int_equal(wn__buf_putc(&all, ';'), WN_OK);
        wn__free(parts[i]);
    }
    assert_int_equal(wn__buf_putc(&all, '\0'), WN_OK);
    free(parts);
    json_decref(cl);
    return all.data;
}

/* ------------------------------------------------------------------------ */
/* Allocation-failure sweep                                                  */
/* ------------------------------------------------------------------------ */

/*
 * After a run under wn_alloc_fail_after(n) that succeeded: true when the
 * injected failure is still pending, i.e. the run made at most n
 * allocations; false when it was consumed, i.e. an allocation failed and
 * the run succeeded anyway. Leaves injection off.
 */
static bool injection_pending(long n)
{
    for (long i = 0; i <= n; i++) {
        void *p = wn__malloc(1);
        if (!p)
            return true;
        wn__free(p);
    }
    wn_alloc_fail_after(-1);
    return false;
}

static long sweep_step(void)
{
    const char *e = getenv("WN_SWEEP_STEP");
    long k = e ? atol(e) : 1;
    return k > 0 ? k : 1;
}

/* The small mixed input of the sweeps: plain JSONL with a bad line and a
 * blank one, the same as gzip, and a directory of two .txt files; paths[3]
 * is that JSONL twice in one plain file. */
static void sweep_inputs(const char **paths)
{
    struct corpus c;
    corpus_make(&c, 11, 10, 0, 0);
    put(&c, "not json\n\n{\"id\":\"x\",\"body\":1}\n");
    char *p = path_of("sweep.jsonl");
    write_path(p, c.data.data, c.data.len);
    paths[0] = p;
    p = path_of("sweep.jsonl.gz");
    write_gzip(p, c.data.data, c.data.len);
    paths[1] = p;
    size_t len = c.data.len;
    char *twice = malloc(2 * len);
    assert_non_null(twice);
    memcpy(twice, c.data.data, len);
    memcpy(twice + len, c.data.data, len);
    p = path_of("sweep-twice.jsonl");
    write_path(p, twice, 2 * len);
    free(twice);
    paths[3] = p;
    corpus_free(&c);
    p = path_of("sweep-txt");
    mkdir(p, 0777);
    char *f = path_of("sweep-txt/one.txt");
    write_path(f, "A text file about the harbour festival.", 39);
    free(f);
    f = path_of("sweep-txt/two.txt");
    write_path(f, "A text file about the harbour festival.", 39);
    free(f);
    paths[2] = p;
}

/* ninputs 3: the mixed inputs; 1: the plain JSONL file alone, whose kept
 * records pass 2 copies by offset. */
static void sweep(const struct wn_dedup_options *o, const char *label,
                  size_t ninputs)
{
    const char *all[4];
    sweep_inputs(all);
    const char **inputs = ninputs == 3 ? all : all + 3;
    char *out = path_of("sweep-out");
    remove_tree(out);
    char *fresh = path_of("sweep-fresh");
    remove_tree(fresh);

    /* The outputs a failed run must leave as they are. */
    struct wn_dedup_report rep;
    assert_int_equal(wn_dedup_run(inputs, ninputs, out, o, &rep), WN_OK);
    assert_true(rep.read == rep.kept + rep.removed + rep.rejected);
    assert_true(rep.removed > 0 && rep.rejected == 4);
    struct snapshot before;
    snapshot_take(out, &before);

    long step = sweep_step(), n;
    for (n = 0;; n += step) {
        if (n > 200000)
            fail_msg("%s: no successful run after %ld failures", label, n);
        /* Alternate between a directory with outputs and a new one. */
        const char *dir = (n / step) % 2 ? fresh : out;
        wn_alloc_fail_after(n);
        int rc = wn_dedup_run(inputs, ninputs, dir, o, &rep);
        if (rc == WN_OK) {
            if (!injection_pending(n))
                fail_msg("%s: allocation %ld failed but the run succeeded",
                         label, n);
            break;
        }
        wn_alloc_fail_after(-1);
        if (rc != WN_ENOMEM)
            fail_msg("%s: allocation %ld failed: got %s, want %s", label, n,
                     wn_strerror(rc), wn_strerror(WN_ENOMEM));
        struct snapshot now;
        snapshot_take(out, &now);
        if (!snapshot_same(&before, &now, 5))
            fail_msg("%s: allocation %ld: previous outputs changed", label, n);
        snapshot_free(&now);
        if (stray_entries(out) != 0)
            fail_msg("%s: allocation %ld: temporary files left", label, n);
        struct stat st;
        if (stat(fresh, &st) == 0) {
            snapshot_take(fresh, &now);
            for (int i = 0; i < 5; i++)
                if (now.data[i])
                    fail_msg("%s: allocation %ld: %s published", label, n,
                             output_names[i]);
            snapshot_free(&now);
            if (stray_entries(fresh) != 0)
                fail_msg("%s: allocation %ld: temporary files left", label, n);
        }
    }
    print_message("# %s: %ld allocations, each failed in turn (step %ld)\n",
                  label, n, step);
    snapshot_free(&before);
    for (int i = 0; i < 4; i++)
        free((char *)all[i]);
    free(out);
    free(fresh);
#ifdef WN_TEST_LSAN
    /* Leaks stay leaked: once one is reported, later sweeps would report
     * it again, so only the first sweep that finds one fails. (It found
     * the verifier leak of pass2() when verifier_init() failed.) */
    static bool leak_seen;
    if (!leak_seen && __lsan_do_recoverable_leak_check()) {
        leak_seen = true;
        fail_msg("%s: memory leaked (LSan report above)", label);
    }
#endif
}

static void test_alloc_sweep_default(void **state)
{
    (void)state;
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.threads = 1;
    sweep(&o, "minhash, 1 thread", 3);
}

static void test_alloc_sweep_plain_copy(void **state)
{
    (void)state;
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.threads = 1;
    sweep(&o, "minhash, 1 thread, one plain input (pass 2 copies)", 1);
}

static void test_alloc_sweep_threads_exact(void **state)
{
    (void)state;
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.threads = 2;
    o.verify = WN_VERIFY_EXACT;
    o.containment = 0.8;
    o.keep = WN_KEEP_LONGEST;
    sweep(&o, "minhash, 2 threads, exact verification, containment", 3);
}

static void test_alloc_sweep_simhash(void **state)
{
    (void)state;
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.threads = 1;
    o.method = WN_METHOD_SIMHASH;
    o.token_mode = WN_TOKENS_CHAR;
    sweep(&o, "simhash, char tokens", 3);
}

static void test_alloc_sweep_exact_only(void **state)
{
    (void)state;
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.threads = 1;
    o.exact_only = 1;
    o.keep = WN_KEEP_MAX;
    o.keep_field = "n";
    sweep(&o, "exact only, keep max", 3);
}

/* ------------------------------------------------------------------------ */
/* Accounting                                                                */
/* ------------------------------------------------------------------------ */

/* Split a corpus into three inputs (plain, gzip, plain) at line ends and
 * check a run against everything the generator knows. */
static void check_accounting(uint64_t seed, size_t n, unsigned threads)
{
    const size_t max_record = 4096;
    struct corpus c;
    corpus_make(&c, seed, n, 60, max_record);
    /* Cut points: after the line ending nearest to 1/3 and 2/3. */
    size_t cut[4] = {0, 0, 0, c.data.len};
    for (int k = 1; k <= 2; k++) {
        size_t at = c.data.len * (size_t)k / 3;
        while (at < c.data.len && c.data.data[at - 1] != '\n')
            at++;
        cut[k] = at;
    }
    char *paths[3];
    static const char *const names[3] = {"acc-0.jsonl", "acc-1.jsonl.gz",
                                         "acc-2.jsonl"};
    for (int k = 0; k < 3; k++) {
        paths[k] = path_of(names[k]);
        if (k == 1)
            write_gzip(paths[k], c.data.data + cut[k], cut[k + 1] - cut[k]);
        else
            write_path(paths[k], c.data.data + cut[k], cut[k + 1] - cut[k]);
    }
    char *out = path_of("acc-out");
    remove_tree(out);
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.threads = threads;
    o.reader.max_record_bytes = max_record;
    struct wn_dedup_report rep;
    assert_int_equal(wn_dedup_run((const char *const *)paths, 3, out, &o, &rep),
                     WN_OK);

    /* The invariant, and the counts the generator knows. */
    assert_true(rep.read == rep.kept + rep.removed + rep.rejected);
    assert_int_equal(rep.read, c.good + c.bad);
    assert_int_equal(rep.rejected, c.bad);
    assert_int_equal(rep.blank_lines, c.blank);
    assert_int_equal(rep.removed, rep.removed_exact + rep.removed_near);
    assert_true(rep.removed > 0);

    /* rejected.jsonl: exactly the bad lines, with their input and line. */
    json_t *rej = load_lines(out, "rejected.jsonl");
    assert_int_equal(json_array_size(rej), c.bad);
    /* Line numbers restart in every input: find each line's input. */
    uint64_t lines_before[3] = {0, 0, 0};
    for (int k = 1; k < 3; k++) {
        uint64_t nl = 0;
        for (size_t i = cut[k - 1]; i < cut[k]; i++)
            nl += c.data.data[i] == '\n';
        lines_before[k] = lines_before[k - 1] + nl;
    }
    for (size_t i = 0; i < c.bad; i++) {
        json_t *r = json_array_get(rej, i);
        uint64_t global = c.bad_lines[i];
        int k = global > lines_before[2] ? 2 : global > lines_before[1];
        assert_string_equal(json_string_value(json_object_get(r, "source")),
                            paths[k]);
        assert_int_equal(json_integer_value(json_object_get(r, "line")),
                         global - lines_before[k]);
        assert_non_null(json_string_value(json_object_get(r, "reason")));
    }
    json_decref(rej);

    /* removed.jsonl names good records only, each once; kept.jsonl is the
     * other good lines, byte for byte, in input order. */
    json_t *rem = load_lines(out, "removed.jsonl");
    assert_int_equal(json_array_size(rem), rep.removed);
    uint8_t *gone = calloc(n, 1);
    assert_non_null(gone);
    for (size_t i = 0; i < json_array_size(rem); i++) {
        json_t *r = json_array_get(rem, i);
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *dup = json_string_value(json_object_get(r, "duplicate_of"));
        assert_non_null(id);
        assert_non_null(dup);
        assert_true(id[0] == 'd' && dup[0] == 'd' && strcmp(id, dup) != 0);
        size_t k = (size_t)atol(id + 1);
        assert_true(k < n && !gone[k]);
        gone[k] = 1;
    }
    json_decref(rem);
    struct wn_buf want = {0};
    size_t kept = 0;
    for (size_t i = 0; i < c.good; i++) {
        if (gone[c.good_ids[i]])
            continue;
        kept++;
        assert_int_equal(
            wn__buf_append(&want, c.data.data + c.good_off[i], c.good_len[i]),
            WN_OK);
        assert_int_equal(wn__buf_putc(&want, '\n'), WN_OK);
    }
    assert_int_equal(kept, rep.kept);
    char p[512];
    snprintf(p, sizeof(p), "%s/kept.jsonl", out);
    size_t klen;
    char *got = slurp(p, &klen);
    assert_non_null(got);
    assert_int_equal(klen, want.len);
    assert_memory_equal(got, want.data, klen);
    wn__free(got);
    wn__buf_release(&want);

    /* stats.json says the same. */
    snprintf(p, sizeof(p), "%s/stats.json", out);
    json_error_t err;
    json_t *stats = json_load_file(p, 0, &err);
    assert_non_null(stats);
    assert_int_equal(json_integer_value(json_object_get(stats, "read")),
                     rep.read);
    assert_int_equal(json_integer_value(json_object_get(stats, "kept")),
                     rep.kept);
    assert_int_equal(json_integer_value(json_object_get(stats, "removed")),
                     rep.removed);
    assert_int_equal(json_integer_value(json_object_get(stats, "rejected")),
                     rep.rejected);
    json_decref(stats);

    free(gone);
    for (int k = 0; k < 3; k++)
        free(paths[k]);
    free(out);
    corpus_free(&c);
}

static void test_accounting_random(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++)
        check_accounting(seed, 300 + 150 * seed, (unsigned)(1 + seed % 3));
}

/* ------------------------------------------------------------------------ */
/* Threads and input order                                                   */
/* ------------------------------------------------------------------------ */

/* A corpus big enough for several batches in flight (over 4096 records). */
#define BIG_DOCS 9000

static void test_threads_identical(void **state)
{
    (void)state;
    struct corpus c;
    corpus_make(&c, 42, BIG_DOCS, 20, 4096);
    char *in = path_of("threads.jsonl");
    write_path(in, c.data.data, c.data.len);
    const char *inputs[] = {in};
    struct snapshot s[3];
    for (unsigned t = 1; t <= 3; t++) {
        char name[32];
        snprintf(name, sizeof(name), "threads-%u", t);
        char *out = path_of(name);
        struct wn_dedup_options o;
        wn_dedup_options_init(&o);
        o.threads = t;
        o.reader.max_record_bytes = 4096;
        struct wn_dedup_report rep;
        assert_int_equal(wn_dedup_run(inputs, 1, out, &o, &rep), WN_OK);
        assert_true(rep.read == rep.kept + rep.removed + rep.rejected);
        assert_true(rep.removed_near > 0 && rep.removed_exact > 0);
        snapshot_take(out, &s[t - 1]);
        free(out);
    }
    assert_true(snapshot_same(&s[0], &s[1], 4));
    assert_true(snapshot_same(&s[0], &s[2], 4));
    for (int t = 0; t < 3; t++)
        snapshot_free(&s[t]);
    free(in);
    corpus_free(&c);
}

/*
 * Short templated texts: 30000 records of 15 shingles, every pair at
 * exact 5-gram Jaccard 0.5 (one template, one varying word in the middle).
 * The densified 128-bin OPH estimate on so few shingles spread wide enough
 * that a few dozen pairs passed 0.7 and merged different records. The
 * verification now uses the fine signature (4K bins, not densified), which
 * on so small a union is close to the exact Jaccard: none may merge, with
 * either sketch. Exact copies of one of them are still removed.
 */
#define SHORT_DOCS 30000
static void test_short_templates_not_merged(void **state)
{
    (void)state;
    struct wn_buf b = {0};
    /* Each phrase three times: 5 distinct 5-grams per half, 5 through the
     * slot word, so 15 shingles of which 10 are shared. */
    const char *a = "lorem ipsum dolor sit amet ", *z =
                                                       "consectetur adipiscing "
                                                       "elit sed do ";
    for (unsigned i = 0; i < SHORT_DOCS; i++) {
        assert_int_equal(
            wn__buf_printf(&b, "{\"id\":%u,\"text\":\"%s%s%sslot%u %s%s%s\"}\n",
                           i, a, a, a, i % (SHORT_DOCS - 100), z, z, z),
            WN_OK);
    }
    char *in = path_of("short-templates.jsonl");
    write_path(in, b.data, b.len);
    const char *inputs[] = {in};
    for (int sketch = 0; sketch < 2; sketch++) {
        char *out = path_of(sketch ? "short-kperm" : "short-oph");
        struct wn_dedup_options o;
        wn_dedup_options_init(&o);
        o.threads = 2;
        o.sketch =
            sketch ? WN_SKETCH_K_PERMUTATIONS : WN_SKETCH_ONE_PERMUTATION;
        struct wn_dedup_report rep;
        assert_int_equal(wn_dedup_run(inputs, 1, out, &o, &rep), WN_OK);
        assert_int_equal(rep.read, SHORT_DOCS);
        assert_int_equal(rep.removed_near, 0);
        assert_int_equal(rep.removed_exact,
                         100); /* the slot is i % (n - 100) */
        free(out);
    }
    free(in);
    wn__buf_release(&b);
}

static void test_order_independent(void **state)
{
    (void)state;
    struct corpus c;
    corpus_make(&c, 7, 3000, 0, 0);
    /* The lines, then the same lines shuffled (Fisher-Yates) and reversed. */
    size_t n = c.good;
    size_t *perm = malloc(n * sizeof(size_t));
    assert_non_null(perm);
    uint64_t s = 99;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    char *part[3];
    for (int v = 0; v < 3; v++) {
        if (v == 1) {
            for (size_t i = n - 1; i > 0; i--) {
                size_t j = rng_below(&s, (uint32_t)(i + 1));
                size_t t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
        } else if (v == 2) {
            for (size_t i = 0; i < n; i++)
                perm[i] = n - 1 - i;
        }
        struct wn_buf b = {0};
        for (size_t i = 0; i < n; i++) {
            size_t k = perm[i];
            assert_int_equal(
                wn__buf_append(&b, c.data.data + c.good_off[k], c.good_len[k]),
                WN_OK);
            assert_int_equal(wn__buf_putc(&b, '\n'), WN_OK);
        }
        char name[32];
        snprintf(name, sizeof(name), "order-%d.jsonl", v);
        char *in = path_of(name);
        write_path(in, b.data, b.len);
        wn__buf_release(&b);
        snprintf(name, sizeof(name), "order-%d", v);
        char *out = path_of(name);
        const char *inputs[] = {in};
        struct wn_dedup_options o;
        wn_dedup_options_init(&o);
        o.threads = (unsigned)(1 + v);
        struct wn_dedup_report rep;
        assert_int_equal(wn_dedup_run(inputs, 1, out, &o, &rep), WN_OK);
        assert_true(rep.clusters > 100);
        part[v] = partition_of(out);
        free(in);
        free(out);
    }
    assert_string_equal(part[0], part[1]);
    assert_string_equal(part[0], part[2]);
    for (int v = 0; v < 3; v++)
        wn__free(part[v]);
    free(perm);
    corpus_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Cancellation                                                              */
/* ------------------------------------------------------------------------ */

static void cancel_on_reject(void *ud, const struct wn_record *rec)
{
    (void)rec;
    *(volatile int *)ud = 1;
}

/* Run into out, which holds outputs from an earlier run, expecting
 * WN_EINTR and those outputs untouched. */
static void expect_cancelled(const char *const *inputs, size_t n,
                             const char *out, struct wn_dedup_options *o)
{
    struct snapshot before, after;
    snapshot_take(out, &before);
    assert_non_null(before.data[4]);
    assert_int_equal(wn_dedup_run(inputs, n, out, o, NULL), WN_EINTR);
    snapshot_take(out, &after);
    assert_true(snapshot_same(&before, &after, 5));
    assert_int_equal(stray_entries(out), 0);
    snapshot_free(&before);
    snapshot_free(&after);
}

static void test_cancel(void **state)
{
    (void)state;
    struct corpus c;
    corpus_make(&c, 5, 400, 0, 0);
    /* A bad line in the middle: its callback cancels the run. */
    size_t mid = c.good_off[200];
    struct wn_buf b = {0};
    assert_int_equal(wn__buf_append(&b, c.data.data, mid), WN_OK);
    assert_int_equal(WN_BUF_LIT(&b, "not json\n"), WN_OK);
    assert_int_equal(wn__buf_append(&b, c.data.data + mid, c.data.len - mid),
                     WN_OK);
    char *in = path_of("cancel.jsonl");
    write_path(in, b.data, b.len);
    wn__buf_release(&b);
    const char *inputs[] = {in};
    char *out = path_of("cancel-out");
    char *spill = path_of("cancel-spill");
    mkdir(spill, 0777);

    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.tmp_dir = spill;
    assert_int_equal(wn_dedup_run(inputs, 1, out, &o, NULL), WN_OK);

    volatile int flag = 0;
    o.cancel = &flag;
    o.on_reject = cancel_on_reject;
    o.ud = (void *)&flag;
    for (unsigned t = 1; t <= 2; t++) {
        flag = 0;
        o.threads = t;
        expect_cancelled(inputs, 1, out, &o);
        assert_int_equal(flag, 1);
    }
    /* Cancelled before it starts. */
    o.on_reject = NULL;
    flag = 1;
    expect_cancelled(inputs, 1, out, &o);
    /* The spill directory is left empty either way. */
    assert_int_equal(stray_entries(spill), 0);
    free(in);
    free(out);
    free(spill);
    corpus_free(&c);
}

struct canceller {
    volatile int *flag;
    long delay_us;
};

static void *cancel_later(void *arg)
{
    struct canceller *k = arg;
    struct timespec ts = {k->delay_us / 1000000,
                          (k->delay_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
    *k->flag = 1;
    return NULL;
}

/* Cancel at moments spread over a whole run, so that every stage gets
 * cancelled in some iteration: each run either finishes and publishes a
 * complete, consistent set, or stops with WN_EINTR and changes nothing. */
static void test_cancel_any_moment(void **state)
{
    (void)state;
    struct corpus c;
    corpus_make(&c, 3, BIG_DOCS, 10, 4096);
    char *in = path_of("cancel-any.jsonl");
    write_path(in, c.data.data, c.data.len);
    const char *inputs[] = {in};
    char *out = path_of("cancel-any");
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.threads = 2;
    o.reader.max_record_bytes = 4096;
    struct wn_dedup_report rep;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(wn_dedup_run(inputs, 1, out, &o, &rep), WN_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long full_us = (t1.tv_sec - t0.tv_sec) * 1000000L +
                   (t1.tv_nsec - t0.tv_nsec) / 1000 + 1;

    volatile int flag;
    o.cancel = &flag;
    int stopped = 0, finished = 0;
    for (int i = 0; i <= 15; i++) {
        flag = 0;
        struct canceller k = {&flag, full_us * i / 10};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, cancel_later, &k), 0);
        struct snapshot before, after;
        snapshot_take(out, &before);
        int rc = wn_dedup_run(inputs, 1, out, &o, &rep);
        pthread_join(th, NULL);
        snapshot_take(out, &after);
        if (rc == WN_EINTR) {
            stopped++;
            assert_true(snapshot_same(&before, &after, 5));
        } else {
            assert_int_equal(rc, WN_OK);
            finished++;
            assert_true(snapshot_same(&before, &after, 4));
            assert_true(rep.read == rep.kept + rep.removed + rep.rejected);
        }
        assert_int_equal(stray_entries(out), 0);
        snapshot_free(&before);
        snapshot_free(&after);
    }
    print_message("# cancelled %d runs, %d finished first\n", stopped,
                  finished);
    assert_true(stopped > 0);
    free(in);
    free(out);
    corpus_free(&c);
}

/* ------------------------------------------------------------------------ */
/* A reader blocked on a silent pipe                                         */
/* ------------------------------------------------------------------------ */

static volatile int sig_cancel;
static volatile int sig_set_flag;

static void on_usr1(int sig)
{
    (void)sig;
    if (sig_set_flag)
        sig_cancel = 1;
}

struct poker {
    pthread_t target;
    int write_fd; /* >= 0: write a record after the signal */
};

static void *poke_later(void *arg)
{
    struct poker *p = arg;
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    pthread_kill(p->target, SIGUSR1);
    if (p->write_fd >= 0) {
        nanosleep(&ts, NULL);
        const char *line = "{\"id\":\"late\",\"text\":\"after the signal\"}\n";
        assert_true(write(p->write_fd, line, strlen(line)) > 0);
        close(p->write_fd);
    }
    return NULL;
}

/*
 * A signal that sets the cancel flag stops a read blocked on a pipe whose
 * writer is alive but silent (wn__reader_set_cancel); any other signal is
 * retried through. SIGUSR1 stands in for SIGINT, installed the way the CLI
 * installs its handlers: without SA_RESTART.
 */
static void test_reader_cancel_on_signal(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    for (int cancel = 1; cancel >= 0; cancel--) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
        const char *paths[] = {path};
        struct wn_reader *r = NULL;
        assert_int_equal(wn_reader_create(paths, 1, NULL, &r, NULL), WN_OK);
        sig_cancel = 0;
        sig_set_flag = cancel;
        wn__reader_set_cancel(r, &sig_cancel);
        struct poker p = {pthread_self(), cancel ? -1 : fds[1]};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, poke_later, &p), 0);
        struct wn_record rec;
        int rc = wn_reader_next(r, &rec);
        if (cancel) {
            assert_int_equal(rc, WN_EINTR);
        } else {
            assert_int_equal(rc, 1);
            assert_int_equal(rec.id_len, 4);
            assert_memory_equal(rec.id, "late", 4);
        }
        pthread_join(th, NULL);
        wn_reader_free(r);
        close(fds[0]);
        if (cancel)
            close(fds[1]);
    }
    sigaction(SIGUSR1, &old, NULL);
}

/* ------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "%s", "/tmp/winnow-test-dedup-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    remove_tree(root);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_sweep_default),
        cmocka_unit_test(test_alloc_sweep_plain_copy),
        cmocka_unit_test(test_alloc_sweep_threads_exact),
        cmocka_unit_test(test_alloc_sweep_simhash),
        cmocka_unit_test(test_alloc_sweep_exact_only),
        cmocka_unit_test(test_accounting_random),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_short_templates_not_merged),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_cancel_any_moment),
        cmocka_unit_test(test_reader_cancel_on_signal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
