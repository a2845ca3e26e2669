/*
 * bench_json.c - why winnow has its own JSON scanner, and how fast the
 * record reader is.
 *
 * Generates news-like JSONL (about 3 KB per record: id, url, title, date and
 * a text with paragraphs, quotes, UTF-8 and \u escapes), then measures on
 * the same bytes:
 *   scanner  wn__json_scan_object + unescape of id and text, per line;
 *   jansson  json_loadb + json_object_get("id"/"text") + json_string_value,
 *            the usual way to read JSONL with a tree parser;
 *   reader   wn_reader_next over the data written to a temporary file,
 *            plain, raw_only, zstd and gzip.
 * Each figure is the best of three passes, in MB/s (10^6 bytes per second of
 * uncompressed input).
 *
 * Usage: bench_json [megabytes]            the comparison (default 64 MB)
 *        bench_json --write FILE [mb]      only write the generated JSONL
 *        bench_json --reader FILE...       the reader over existing files
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/common.h"
#include "io/json.h"

static uint64_t rng = 0x2545F4914F6CDD1Du;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Du;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_json: %s\n", what);
    exit(1);
}

/* Words, some with characters that need escapes or are multi-byte. */
static const char *const words[] = {
    "the",
    "minister",
    "said",
    "on",
    "Tuesday",
    "that",
    "prices",
    "would",
    "rise",
    "by",
    "3.5%",
    "in",
    "\\\"we",
    "expect",
    "growth\\\"",
    "caf\xc3\xa9",
    "\xe2\x80\x94",
    "reform",
    "council",
    "budget",
    "\xe2\x80\x9cofficial\xe2\x80\x9d",
    "it\\u2019s",
    "market",
    "report",
    "Z\xc3\xbcrich",
    "election",
    "of",
    "a",
    "and",
    "for",
    "police",
    "city",
};

static void gen_words(struct wn_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            wn__buf_putc(b, ' ');
        wn__buf_printf(b, "%s", words[rnd() % WN_ARRAY_LEN(words)]);
    }
}

static void gen_corpus(struct wn_buf *b, size_t bytes, size_t *nrec)
{
    size_t n = 0;
    while (b->len < bytes) {
        wn__buf_printf(b,
                       "{\"id\":\"news-%08zu\",\"url\":\"https://news.example."
                       "com/2024/%02d/%zu.html\",\"title\":\"",
                       n, (int)(rnd() % 12 + 1), n);
        gen_words(b, 8);
        wn__buf_printf(b,
                       "\",\"date\":\"2024-05-%02d\",\"lang\":\"en\","
                       "\"text\":\"",
                       (int)(rnd() % 28 + 1));
        for (int p = 0; p < 6; p++) {
            if (p)
                wn__buf_printf(b, "\\n\\n");
            gen_words(b, 60 + rnd() % 30);
        }
        wn__buf_printf(b, "\"}\n");
        n++;
    }
    *nrec = n;
}

static double mbps(size_t bytes, double sec)
{
    return (double)bytes / sec / 1e6;
}

static double bench_scanner(const char *data, size_t len)
{
    char *out = malloc(len);
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        size_t sum = 0;
        double t0 = now();
        const char *p = data, *end = data + len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            /* As the reader does: text decoded during the scan, the id
             * after it. */
            struct wn_json_field f[2] = {
                {.key = "id", .key_len = 2},
                {.key = "text", .key_len = 4, .dst = out}};
            size_t err, n;
            if (wn__json_scan_object(p, (size_t)(nl - p), f, 2, &err))
                die("scanner rejected a generated line");
            wn__json_unescape(p + f[0].off, f[0].len, out + f[1].dst_len, &n);
            sum += n + (f[1].escaped ? f[1].dst_len : f[1].len - 2);
            p = nl + 1;
        }
        double t = now() - t0;
        if (sum == 0)
            die("no text");
        best = WN_MIN(best, t);
    }
    free(out);
    return best;
}

static double bench_jansson(const char *data, size_t len)
{
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        size_t sum = 0;
        double t0 = now();
        const char *p = data, *end = data + len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            json_error_t e;
            json_t *j = json_loadb(p, (size_t)(nl - p), 0, &e);
            if (!j)
                die("jansson rejected a generated line");
            sum += json_string_length(json_object_get(j, "id"));
            sum += json_string_length(json_object_get(j, "text"));
            json_decref(j);
            p = nl + 1;
        }
        double t = now() - t0;
        if (sum == 0)
            die("no text");
        best = WN_MIN(best, t);
    }
    return best;
}

static double bench_reader(const char *const *paths, size_t n, int raw_only,
                           uint64_t *bytes, size_t *nrec)
{
    double best = 1e9;
    struct wn_reader_options o = {.raw_only = raw_only};
    for (int rep = 0; rep < 3; rep++) {
        struct wn_reader *r;
        size_t bad = 0;
        if (wn_reader_create(paths, n, &o, &r, &bad)) {
            fprintf(stderr, "bench_json: cannot open '%s'\n", paths[bad]);
            exit(1);
        }
        struct wn_record rec;
        size_t k = 0, sum = 0;
        int rc;
        double t0 = now();
        while ((rc = wn_reader_next(r, &rec)) == 1) {
            k++;
            sum += rec.text_len + rec.raw_len;
        }
        double t = now() - t0;
        *bytes = wn_reader_bytes(r);
        wn_reader_free(r);
        if (rc || (*nrec && k != *nrec) || sum == 0)
            die("reader failed");
        *nrec = k;
        best = WN_MIN(best, t);
    }
    return best;
}

static void write_all(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f))
        die("cannot write the temporary file");
}

static void cpu_model(char *out, size_t n)
{
    snprintf(out, n, "unknown cpu");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        char *c = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && c) {
            snprintf(out, n, "%s", c + 2);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

static void reader_line(const char *what, const char *path, int raw_only,
                        size_t nrec)
{
    uint64_t bytes;
    const char *paths[] = {path};
    double t = bench_reader(paths, 1, raw_only, &bytes, &nrec);
    printf("reader, %-10s %8.0f MB/s (of uncompressed)\n", what,
           mbps(bytes, t));
}

static void compress_to(const char *path, const struct wn_buf *c, int gzip)
{
    if (!gzip) {
        size_t cap = ZSTD_compressBound(c->len);
        char *z = malloc(cap);
        size_t n = ZSTD_compress(z, cap, c->data, c->len, 3);
        if (ZSTD_isError(n))
            die("zstd failed");
        write_all(path, z, n);
        free(z);
        return;
    }
    z_stream s = {0};
    if (deflateInit2(&s, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
        die("zlib failed");
    size_t cap = deflateBound(&s, (uLong)c->len);
    char *z = malloc(cap);
    s.next_in = (Bytef *)c->data;
    s.avail_in = (uInt)c->len;
    s.next_out = (Bytef *)z;
    s.avail_out = (uInt)cap;
    if (deflate(&s, Z_FINISH) != Z_STREAM_END)
        die("zlib failed");
    write_all(path, z, s.total_out);
    deflateEnd(&s);
    free(z);
}

int main(int argc, char **argv)
{
    struct utsname u;
    uname(&u);
    char cpu[128];
    cpu_model(cpu, sizeof(cpu));
    printf("machine: %s %s %s, %s, %ld cpus\n", u.sysname, u.release, u.machine,
           cpu, sysconf(_SC_NPROCESSORS_ONLN));

    if (argc > 2 && strcmp(argv[1], "--reader") == 0) {
        /* The reader over existing files, e.g. a real corpus. */
        uint64_t bytes;
        size_t nrec = 0;
        double t = bench_reader((const char *const *)argv + 2, (size_t)argc - 2,
                                0, &bytes, &nrec);
        printf("reader: %zu records, %" PRIu64 " bytes, %.0f MB/s\n", nrec,
               bytes, mbps(bytes, t));
        return 0;
    }
    const char *out = NULL;
    if (argc > 2 && strcmp(argv[1], "--write") == 0) {
        out = argv[2];
        argc -= 2;
        argv += 2;
    }
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 64;
    if (mb == 0)
        die("usage: bench_json [--write FILE] [megabytes] | "
            "--reader FILE...");
    struct wn_buf corpus = {0};
    size_t nrec;
    gen_corpus(&corpus, mb * 1000000, &nrec);
    printf("input: %zu bytes, %zu records, %.0f bytes/record\n", corpus.len,
           nrec, (double)corpus.len / (double)nrec);
    if (out) {
        write_all(out, corpus.data, corpus.len);
        wn__buf_release(&corpus);
        return 0;
    }

    double ts = bench_scanner(corpus.data, corpus.len);
    double tj = bench_jansson(corpus.data, corpus.len);
    printf("scanner (scan + unescape id, text): %8.0f MB/s\n",
           mbps(corpus.len, ts));
    printf("jansson (json_loadb + get id, text): %7.0f MB/s\n",
           mbps(corpus.len, tj));
    printf("ratio scanner/jansson: %.1fx\n", tj / ts);

    char path[] = "/tmp/bench_json_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        die("mkstemp failed");
    close(fd);
    write_all(path, corpus.data, corpus.len);
    reader_line("plain:", path, 0, nrec);
    reader_line("raw_only:", path, 1, nrec);
    compress_to(path, &corpus, 0);
    reader_line("zstd -3:", path, 0, nrec);
    compress_to(path, &corpus, 1);
    reader_line("gzip -1:", path, 0, nrec);
    unlink(path);
    wn__buf_release(&corpus);
    return 0;
}
