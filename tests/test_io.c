/*
 * test_io.c - the record reader and its streams (lib/io/reader.c,
 * lib/io/stream.c).
 *
 * Fixtures are made at run time in a mkdtemp directory: JSONL text, then
 * gzip and zstd copies compressed here with zlib and libzstd, including
 * multi-member/multi-frame and truncated ones. The central check is that
 * every container format and every block size (1, 7, 4096, default) yields
 * the same records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/common.h"
#include "io/reader.h"
#include "io/stream.h"

static char tmpdir[64];

/* An owned copy of a record, for comparing whole runs. */
struct rec {
    char *raw, *id, *text, *source;
    size_t raw_len, id_len, text_len;
    int kind, status;
    size_t error_offset;
    uint32_t input;
    uint64_t line, offset;
};

struct run {
    struct rec *r;
    size_t n;
    int end; /* the final return of wn_reader_next: 0 or < 0 */
    uint64_t blank, bytes;
};

static char *dup_bytes(const char *p, size_t n)
{
    if (!p)
        return NULL;
    char *d = malloc(n + 1);
    memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

static char *path_of(const char *name)
{
    char *p = malloc(strlen(tmpdir) + strlen(name) + 2);
    sprintf(p, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *name, const void *data, size_t n)
{
    char *p = path_of(name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    free(p);
}

/* Read everything from paths with the given options and block size; only
 * byte range {begin, end, lines that start before begin} of the one input when
 * range is not NULL. */
static struct run read_range(const char *const *paths, size_t n,
                             const struct wn_reader_options *opts, size_t block,
                             const uint64_t *range)
{
    struct wn_reader *r;
    size_t bad = 99;
    int rc = wn_reader_create(paths, n, opts, &r, &bad);
    if (rc)
        fail_msg("create: %s (input %zu)", wn_strerror(rc), bad);
    if (block)
        wn__reader_set_block_size(r, block);
    if (range)
        wn__reader_set_range(r, range[0], range[1], range[2]);
    struct run run = {0};
    size_t cap = 0;
    struct wn_record x;
    while ((rc = wn_reader_next(r, &x)) == 1) {
        if (run.n == cap) {
            cap = cap ? 2 * cap : 64;
            run.r = realloc(run.r, cap * sizeof(*run.r));
        }
        run.r[run.n++] = (struct rec){
            .raw = dup_bytes(x.raw, x.raw_len),
            .raw_len = x.raw_len,
            .id = dup_bytes(x.id, x.id_len),
            .id_len = x.id_len,
            .text = dup_bytes(x.text, x.text_len),
            .text_len = x.text_len,
            .source = dup_bytes(x.source, strlen(x.source)),
            .kind = x.kind,
            .status = x.status,
            .error_offset = x.error_offset,
            .input = x.input,
            .line = x.line,
            .offset = x.offset,
        };
        assert_true(x.status != WN_OK || x.raw_len == 0 || x.text ||
                    (opts && opts->raw_only));
    }
    run.end = rc;
    run.blank = wn_reader_blank_lines(r);
    run.bytes = wn_reader_bytes(r);
    wn_reader_free(r);
    return run;
}

static struct run read_all(const char *const *paths, size_t n,
                           const struct wn_reader_options *opts, size_t block)
{
    return read_range(paths, n, opts, block, NULL);
}

static struct run read_one(const char *name,
                           const struct wn_reader_options *opts, size_t block)
{
    char *p = path_of(name);
    const char *paths[] = {p};
    struct run run = read_all(paths, 1, opts, block);
    free(p);
    return run;
}

static void free_run(struct run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        free(run->r[i].raw);
        free(run->r[i].id);
        free(run->r[i].text);
        free(run->r[i].source);
    }
    free(run->r);
    memset(run, 0, sizeof(*run));
}

static bool same_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    if (!a || !b)
        return !a && !b;
    return an == bn && memcmp(a, b, an) == 0;
}

/* Records equal in everything but source (and id where it holds source). */
static void assert_same_records(const struct run *a, const struct run *b,
                                bool ids)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->end, b->end);
    assert_int_equal(a->blank, b->blank);
    for (size_t i = 0; i < a->n; i++) {
        const struct rec *x = &a->r[i], *y = &b->r[i];
        if (!same_bytes(x->raw, x->raw_len, y->raw, y->raw_len))
            fail_msg("record %zu: raw differs", i);
        if (!same_bytes(x->text, x->text_len, y->text, y->text_len))
            fail_msg("record %zu: text differs", i);
        if (ids && !same_bytes(x->id, x->id_len, y->id, y->id_len))
            fail_msg("record %zu: id differs", i);
        assert_int_equal(x->status, y->status);
        assert_int_equal(x->line, y->line);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->error_offset, y->error_offset);
    }
}

static void gzip_append(struct wn_buf *out, const char *data, size_t n)
{
    z_stream z = {0};
    assert_int_equal(
        deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    uLong bound = deflateBound(&z, (uLong)n);
    wn__buf_reserve(out, bound);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out->len += bound - z.avail_out;
    deflateEnd(&z);
}

static void zstd_append(struct wn_buf *out, const char *data, size_t n)
{
    size_t bound = ZSTD_compressBound(n);
    wn__buf_reserve(out, bound);
    size_t k = ZSTD_compress(out->data + out->len, bound, data, n, 3);
    assert_false(ZSTD_isError(k));
    out->len += k;
}

/*
 * A JSONL corpus that touches every path of the parser: escapes, UTF-8,
 * numeric and missing ids, CRLF, blank lines, rejected records and a last
 * line without a line feed.
 */
static struct wn_buf corpus;

static void make_corpus(void)
{
    struct wn_buf *b = &corpus;
    for (int i = 0; i < 300; i++) {
        switch (i % 10) {
        case 0:
            wn__buf_printf(b, "{\"id\":%d,\"text\":\"numeric id %d\"}\n", i, i);
            break;
        case 1:
            wn__buf_printf(b, "{\"text\":\"no id\\n\\\"quoted\\\"\"}\r\n");
            break;
        case 2:
            wn__buf_printf(b, "\n  \t\r\n");
            break;
        case 3:
            wn__buf_printf(b,
                           "{\"id\":\"d\\u00e9j\\u00e0-%d\",\"text\":"
                           "\"caf\xc3\xa9 \\uD83D\\uDE00 %d\"}\n",
                           i, i);
            break;
        case 4:
            wn__buf_printf(b, "{\"id\":\"x%d\",\"title\":\"t\"}\n", i);
            break;
        case 5:
            wn__buf_printf(b, "{\"id\":\"bad%d\",\"text\":\"x\",}\n", i);
            break;
        default: {
            wn__buf_printf(b,
                           "{\"id\":\"doc-%d\",\"url\":\"http://x/%d\","
                           "\"text\":\"",
                           i, i);
            for (int k = 0; k < i * 7 % 500; k++)
                wn__buf_printf(b, "w%d ", k);
            wn__buf_printf(b, "\"}\n");
        }
        }
    }
    wn__buf_printf(b, "{\"id\":\"last\",\"text\":\"no newline\"}");
}

static int setup(void **state)
{
    strcpy(tmpdir, "/tmp/wn_test_io_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    make_corpus();
    write_file("c.jsonl", corpus.data, corpus.len);
    struct wn_buf gz = {0}, zs = {0}, gz3 = {0}, zs3 = {0};
    gzip_append(&gz, corpus.data, corpus.len);
    zstd_append(&zs, corpus.data, corpus.len);
    /* Three members / frames, split in the middle of lines. */
    size_t cut1 = corpus.len / 3 + 5, cut2 = 2 * corpus.len / 3 + 11;
    size_t cuts[] = {0, cut1, cut2, corpus.len};
    for (int i = 0; i < 3; i++) {
        gzip_append(&gz3, corpus.data + cuts[i], cuts[i + 1] - cuts[i]);
        zstd_append(&zs3, corpus.data + cuts[i], cuts[i + 1] - cuts[i]);
    }
    /* Names deliberately lie: detection is by magic bytes. */
    write_file("c.gz.jsonl", gz.data, gz.len);
    write_file("c.zst", zs.data, zs.len);
    write_file("c3.gz", gz3.data, gz3.len);
    write_file("c3.zst", zs3.data, zs3.len);
    /* A zstd skippable frame (magic 0x184D2A5?, 4-byte size) first. */
    struct wn_buf sk = {0};
    wn__buf_append(&sk,
                   "\x5a\x2a\x4d\x18\x03\x00\x00\x00"
                   "abc",
                   11);
    wn__buf_append(&sk, zs.data, zs.len);
    write_file("skip.zst", sk.data, sk.len);
    wn__buf_release(&sk);
    wn__buf_release(&gz);
    wn__buf_release(&zs);
    wn__buf_release(&gz3);
    wn__buf_release(&zs3);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
    wn__buf_release(&corpus);
    return 0;
}

/* The plain corpus parses as designed. */
static void test_plain(void **state)
{
    struct run a = read_one("c.jsonl", NULL, 0);
    assert_int_equal(a.end, 0);
    assert_int_equal(a.bytes, corpus.len);
    assert_int_equal(a.blank, 30 * 2);
    assert_int_equal(a.n, 271);
    /* Line 1: numeric id. */
    assert_string_equal(a.r[0].id, "0");
    assert_string_equal(a.r[0].text, "numeric id 0");
    assert_int_equal(a.r[0].line, 1);
    /* Line 2: no id, CRLF kept in raw, escapes decoded. */
    const struct rec *r = &a.r[1];
    char *want = path_of("c.jsonl:2");
    assert_string_equal(r->id, want);
    free(want);
    assert_int_equal(r->raw[r->raw_len - 1], '\r');
    assert_string_equal(r->text, "no id\n\"quoted\"");
    assert_int_equal(r->status, WN_OK);
    /* Lines 3 and 4 are blank; line 5 has \u escapes in id and text. */
    r = &a.r[2];
    assert_int_equal(r->line, 5);
    assert_string_equal(r->id, "d\xc3\xa9j\xc3\xa0-3");
    assert_string_equal(r->text, "caf\xc3\xa9 \xF0\x9F\x98\x80 3");
    /* No text field. */
    r = &a.r[3];
    assert_int_equal(r->status, WN_ENOFIELD);
    assert_string_equal(r->id, "x4");
    assert_null(r->text);
    /* Trailing comma. */
    r = &a.r[4];
    assert_int_equal(r->status, WN_EPARSE);
    assert_int_equal(r->error_offset,
                     strlen("{\"id\":\"bad5\",\"text\":\"x\","));
    /* The last line has no line feed. */
    r = &a.r[a.n - 1];
    assert_string_equal(r->id, "last");
    assert_int_equal(r->line, 30 * 11 + 1);
    for (size_t i = 0; i < a.n; i++) {
        assert_int_equal(a.r[i].kind, WN_RECORD_JSON);
        assert_int_equal(a.r[i].input, 0);
    }
    free_run(&a);
}

/* plain, gzip, zstd, multi-member gzip and multi-frame zstd agree, at every
 * block size. */
static void test_formats_and_blocks(void **state)
{
    static const char *names[] = {"c.jsonl", "c.gz.jsonl", "c.zst",
                                  "c3.gz",   "c3.zst",     "skip.zst"};
    static const size_t blocks[] = {0, 1, 7, 4096};
    struct run ref = read_one("c.jsonl", NULL, 0);
    for (size_t i = 0; i < WN_ARRAY_LEN(names); i++) {
        for (size_t j = 0; j < WN_ARRAY_LEN(blocks); j++) {
            struct run b = read_one(names[i], NULL, blocks[j]);
            assert_int_equal(b.bytes, corpus.len);
            /* ids differ only where they spell the source path */
            assert_same_records(&ref, &b, false);
            free_run(&b);
        }
    }
    free_run(&ref);
}

/* The second pass sees the same records, with nothing parsed. */
static void test_raw_only(void **state)
{
    struct wn_reader_options o = {.raw_only = 1};
    struct run a = read_one("c.jsonl", NULL, 0);
    struct run b = read_one("c.zst", &o, 7);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_true(
            same_bytes(a.r[i].raw, a.r[i].raw_len, b.r[i].raw, b.r[i].raw_len));
        assert_int_equal(a.r[i].line, b.r[i].line);
        assert_null(b.r[i].id);
        assert_null(b.r[i].text);
        assert_int_equal(b.r[i].status, WN_OK);
    }
    free_run(&a);
    free_run(&b);
}

/*
 * Cut compressed copies: the records before the cut are intact, the cut is
 * one WN_ETRUNC record, and the next input is read as usual.
 */
enum cut_kind { CUT_IN_LINE, CUT_AT_LINE_END, CUT_ANYWHERE };

static void check_truncated(const char *name, size_t block, enum cut_kind kind)
{
    char *p = path_of(name), *q = path_of("c.jsonl");
    const char *paths[] = {p, q};
    struct run ref = read_one("c.jsonl", NULL, 0);
    struct run t = read_all(paths, 2, NULL, block);
    assert_int_equal(t.end, 0);
    size_t ntrunc = 0, cut = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.r[i].status == WN_ETRUNC) {
            ntrunc++;
            cut = i;
        }
    }
    assert_int_equal(ntrunc, 1);
    assert_true(cut > 0);
    for (size_t i = 0; i < cut; i++) {
        assert_int_equal(t.r[i].input, 0);
        assert_true(same_bytes(t.r[i].raw, t.r[i].raw_len, ref.r[i].raw,
                               ref.r[i].raw_len));
        assert_int_equal(t.r[i].status, ref.r[i].status);
        assert_int_equal(t.r[i].line, ref.r[i].line);
    }
    const struct rec *c = &t.r[cut];
    assert_int_equal(c->input, 0);
    assert_null(c->text);
    if (kind == CUT_AT_LINE_END) {
        assert_int_equal(c->raw_len, 0);
    } else if (kind == CUT_IN_LINE) {
        /* a proper prefix of the line that follows the last good one */
        assert_true(c->raw_len > 0 && c->raw_len < ref.r[cut].raw_len);
        assert_memory_equal(c->raw, ref.r[cut].raw, c->raw_len);
    }
    /* then the whole second input */
    assert_int_equal(t.n - cut - 1, ref.n);
    assert_int_equal(t.r[cut + 1].input, 1);
    assert_int_equal(t.r[cut + 1].line, 1);
    free_run(&ref);
    free_run(&t);
    free(p);
    free(q);
}

static void test_truncated(void **state)
{
    /* Cut in the middle of the data, inside a line. */
    size_t mid = corpus.len / 2;
    while (corpus.data[mid] != 'w')
        mid++; /* inside the text of a long record */
    struct wn_buf gz = {0}, zs = {0};
    gzip_append(&gz, corpus.data, mid);
    gzip_append(&gz, corpus.data + mid, corpus.len - mid);
    zstd_append(&zs, corpus.data, mid);
    zstd_append(&zs, corpus.data + mid, corpus.len - mid);
    /* Keep the first member / frame whole and 3 bytes of the second:
     * decompression stops exactly at mid. */
    size_t g1 = 0, z1 = 0;
    {
        struct wn_buf tmp = {0};
        gzip_append(&tmp, corpus.data, mid);
        g1 = tmp.len;
        tmp.len = 0;
        zstd_append(&tmp, corpus.data, mid);
        z1 = tmp.len;
        wn__buf_release(&tmp);
    }
    write_file("t1.gz", gz.data, g1 + 3);
    write_file("t1.zst", zs.data, z1 + 3);
    /* Cut inside the second member's compressed data. */
    write_file("t2.gz", gz.data, g1 + (gz.len - g1) / 2);
    write_file("t2.zst", zs.data, z1 + (zs.len - z1) / 2);
    /* Same at a line boundary. */
    size_t nl = corpus.len / 2;
    while (corpus.data[nl - 1] != '\n')
        nl++;
    gz.len = zs.len = 0;
    gzip_append(&gz, corpus.data, nl);
    zstd_append(&zs, corpus.data, nl);
    size_t g2 = gz.len, z2 = zs.len;
    gzip_append(&gz, corpus.data + nl, corpus.len - nl);
    zstd_append(&zs, corpus.data + nl, corpus.len - nl);
    write_file("t3.gz", gz.data, g2 + 5);
    write_file("t3.zst", zs.data, z2 + 5);
    wn__buf_release(&gz);
    wn__buf_release(&zs);

    static const size_t blocks[] = {0, 1, 7, 4096};
    for (size_t j = 0; j < WN_ARRAY_LEN(blocks); j++) {
        check_truncated("t1.gz", blocks[j], CUT_IN_LINE);
        check_truncated("t1.zst", blocks[j], CUT_IN_LINE);
        check_truncated("t3.gz", blocks[j], CUT_AT_LINE_END);
        check_truncated("t3.zst", blocks[j], CUT_AT_LINE_END);
    }
    /* Inside compressed data the cut point in the output is not known
     * exactly; the invariants still hold. */
    check_truncated("t2.gz", 0, CUT_ANYWHERE);
    check_truncated("t2.zst", 0, CUT_ANYWHERE);
}

/* Damaged bytes anywhere: reading ends, without hanging or crashing. */
static void test_corrupt(void **state)
{
    struct wn_buf gz = {0}, zs = {0};
    gzip_append(&gz, corpus.data, corpus.len);
    zstd_append(&zs, corpus.data, corpus.len);
    uint64_t seed = 12345;
    for (int i = 0; i < 60; i++) {
        struct wn_buf *b = i % 2 ? &zs : &gz;
        char *copy = malloc(b->len);
        memcpy(copy, b->data, b->len);
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t at = 4 + (size_t)(seed >> 33) % (b->len - 4);
        copy[at] ^= (char)(1 + (seed >> 20) % 255);
        write_file("bad", copy, b->len);
        free(copy);
        struct run r = read_one("bad", NULL, i % 3 ? 0 : 7);
        assert_int_equal(r.end, 0);
        free_run(&r);
    }
    wn__buf_release(&gz);
    wn__buf_release(&zs);
}

static void test_too_big(void **state)
{
    struct wn_buf b = {0};
    wn__buf_printf(&b, "{\"id\":1,\"text\":\"short\"}\n{\"id\":2,\"text\":\"");
    for (int i = 0; i < 5000; i++)
        wn__buf_putc(&b, 'x');
    wn__buf_printf(&b, "\"}\n{\"id\":3,\"text\":\"after\"}\n");
    for (int i = 0; i < 300; i++)
        wn__buf_putc(&b, 'y'); /* an unterminated long last line */
    write_file("big.jsonl", b.data, b.len);
    struct wn_buf gz = {0};
    gzip_append(&gz, b.data, b.len);
    write_file("big.gz", gz.data, gz.len);

    struct wn_reader_options o = {.max_record_bytes = 100};
    static const size_t blocks[] = {0, 1, 7, 4096};
    for (size_t j = 0; j < 2 * WN_ARRAY_LEN(blocks); j++) {
        struct run r =
            read_one(j % 2 ? "big.gz" : "big.jsonl", &o, blocks[j / 2]);
        assert_int_equal(r.end, 0);
        assert_int_equal(r.n, 4);
        assert_int_equal(r.r[0].status, WN_OK);
        assert_int_equal(r.r[1].status, WN_ETOOBIG);
        assert_int_equal(r.r[1].line, 2);
        assert_int_equal(r.r[1].raw_len, 100);
        assert_memory_equal(r.r[1].raw, b.data + 24, 100);
        assert_string_equal(r.r[2].text, "after");
        assert_int_equal(r.r[2].line, 3);
        assert_int_equal(r.r[3].status, WN_ETOOBIG);
        assert_int_equal(r.r[3].line, 4);
        free_run(&r);
    }
    /* A line of exactly the cap is fine. */
    o.max_record_bytes = 23;
    struct run r = read_one("big.jsonl", &o, 0);
    assert_int_equal(r.r[0].status, WN_OK);
    free_run(&r);
    wn__buf_release(&b);
    wn__buf_release(&gz);
}

static void test_ids_and_fields(void **state)
{
    const char *s = "{\"id\":-7.5e3,\"text\":\"a\"}\n"
                    "{\"id\":null,\"text\":\"b\"}\n"
                    "{\"id\":true,\"text\":\"c\"}\n"
                    "{\"id\":{\"x\":1},\"text\":\"d\"}\n"
                    "{\"id\":\"e\",\"text\":5}\n"
                    "{\"id\":\"f\",\"text\":null}\n"
                    "{\"doc\":\"g\",\"body\":\"custom\"}\n"
                    "[1,2]\n"
                    "\xEF\xBB\xBF{\"id\":\"bom\",\"text\":\"h\"}\n";
    write_file("ids.jsonl", s, strlen(s));
    char *p = path_of("ids.jsonl");
    char want[512];
    struct run r = read_one("ids.jsonl", NULL, 0);
    assert_int_equal(r.n, 9);
    assert_string_equal(r.r[0].id, "-7.5e3");
    assert_int_equal(r.r[0].status, WN_OK);
    snprintf(want, sizeof(want), "%s:2", p);
    assert_string_equal(r.r[1].id, want);
    assert_int_equal(r.r[1].status, WN_OK);
    assert_int_equal(r.r[2].status, WN_EBADID);
    snprintf(want, sizeof(want), "%s:3", p);
    assert_string_equal(r.r[2].id, want);
    assert_int_equal(r.r[3].status, WN_EBADID);
    assert_int_equal(r.r[4].status, WN_ENOFIELD);
    assert_string_equal(r.r[4].id, "e");
    assert_int_equal(r.r[5].status, WN_ENOFIELD);
    assert_int_equal(r.r[6].status, WN_ENOFIELD);
    assert_int_equal(r.r[7].status, WN_EPARSE);
    assert_int_equal(r.r[7].error_offset, 0);
    assert_string_equal(r.r[8].id, "bom");
    free_run(&r);

    struct wn_reader_options o = {.id_field = "doc", .text_field = "body"};
    r = read_one("ids.jsonl", &o, 0);
    assert_string_equal(r.r[6].id, "g");
    assert_string_equal(r.r[6].text, "custom");
    assert_int_equal(r.r[0].status, WN_ENOFIELD);
    free_run(&r);
    free(p);
}

static void make_dir(const char *name)
{
    char *p = path_of(name);
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
}

static void test_directory(void **state)
{
    make_dir("docs");
    make_dir("docs/a");
    make_dir("docs/a/deep");
    make_dir("docs/empty");
    write_file("docs/b.txt", "bee", 3);
    write_file("docs/a.txt", "ay", 2);
    write_file("docs/B.txt", "upper", 5);
    write_file("docs/a/deep/z.txt", "zed\nline2\n", 10);
    write_file("docs/a/m.txt", "", 0);
    write_file("docs/a/skip.dat", "{}", 2);
    write_file("docs/notes.md", "x", 1);
    write_file("docs/big.txt", "0123456789abcdef", 16);
    char *link = path_of("docs/link.txt"), *target = path_of("docs/b.txt");
    assert_int_equal(symlink(target, link), 0);
    char *dir = path_of("docs/"); /* a trailing slash changes nothing */
    struct wn_reader_options o = {.max_record_bytes = 12};
    const char *paths[] = {dir};
    static const char *ids[] = {"B.txt", "a.txt",   "a/deep/z.txt", "a/m.txt",
                                "b.txt", "big.txt", "link.txt"};
    static const char *texts[] = {"upper", "ay", "zed\nline2\n", "",
                                  "bee",   NULL, "bee"};
    static const size_t blocks[] = {0, 1, 7};
    for (size_t j = 0; j < WN_ARRAY_LEN(blocks); j++) {
        struct run r = read_all(paths, 1, &o, blocks[j]);
        assert_int_equal(r.end, 0);
        assert_int_equal(r.n, WN_ARRAY_LEN(ids));
        for (size_t i = 0; i < r.n; i++) {
            assert_string_equal(r.r[i].id, ids[i]);
            assert_int_equal(r.r[i].kind, WN_RECORD_TEXTFILE);
            assert_int_equal(r.r[i].line, 0);
            char *full = path_of("docs/");
            full = realloc(full, strlen(full) + strlen(ids[i]) + 1);
            strcat(full, ids[i]);
            assert_string_equal(r.r[i].source, full);
            free(full);
            if (texts[i]) {
                assert_int_equal(r.r[i].status, WN_OK);
                assert_string_equal(r.r[i].text, texts[i]);
                assert_string_equal(r.r[i].raw, texts[i]);
            } else {
                assert_int_equal(r.r[i].status, WN_ETOOBIG);
                assert_int_equal(r.r[i].raw_len, 12);
            }
        }
        free_run(&r);
    }
    free(link);
    free(target);
    free(dir);
}

/* Standard input, with a compressed stream on it; read once. */
static void test_stdin(void **state)
{
    char *p = path_of("c3.zst");
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    int saved = dup(STDIN_FILENO);
    assert_true(dup2(fd, STDIN_FILENO) == STDIN_FILENO);
    close(fd);
    const char *paths[] = {"-"};
    struct run r = read_all(paths, 1, NULL, 0);
    dup2(saved, STDIN_FILENO);
    close(saved);
    struct run ref = read_one("c.jsonl", NULL, 0);
    assert_same_records(&ref, &r, false);
    assert_string_equal(r.r[0].source, "-");
    assert_string_equal(r.r[1].id, "-:2");

    const char *twice[] = {"-", "-"};
    struct wn_reader *rd = NULL;
    size_t bad = 99;
    assert_int_equal(wn_reader_create(twice, 2, NULL, &rd, &bad), WN_EINVAL);
    assert_int_equal(bad, 1);
    assert_null(rd);
    free_run(&r);
    free_run(&ref);
    free(p);
}

static void test_open_errors(void **state)
{
    char *good = path_of("c.jsonl"), *missing = path_of("nope.jsonl");
    char *under_file = path_of("c.jsonl/x");
    const char *paths[] = {good, missing, good};
    struct wn_reader *r = NULL;
    size_t bad = 99;
    assert_int_equal(wn_reader_create(paths, 3, NULL, &r, &bad), WN_EOPEN);
    assert_int_equal(bad, 1);
    assert_null(r);
    paths[1] = under_file;
    assert_int_equal(wn_reader_create(paths, 3, NULL, &r, &bad), WN_EOPEN);
    if (geteuid() != 0) { /* root reads everything */
        char *locked = path_of("locked.jsonl");
        write_file("locked.jsonl", "{}\n", 3);
        assert_int_equal(chmod(locked, 0), 0);
        paths[2] = locked;
        paths[1] = good;
        bad = 99;
        assert_int_equal(wn_reader_create(paths, 3, NULL, &r, &bad), WN_EOPEN);
        assert_int_equal(bad, 2);
        free(locked);
    }
    free(good);
    free(missing);
    free(under_file);
}

/* An input that disappears after the check fails at read time, names
 * itself, and the failure sticks. */
static void test_late_error(void **state)
{
    write_file("gone.jsonl", "{}\n", 3);
    char *good = path_of("c.jsonl"), *gone = path_of("gone.jsonl");
    const char *paths[] = {good, gone};
    struct wn_reader *r;
    assert_int_equal(wn_reader_create(paths, 2, NULL, &r, NULL), WN_OK);
    assert_int_equal(unlink(gone), 0);
    struct wn_record x;
    int rc;
    size_t n = 0;
    assert_null(wn_reader_error_path(r));
    while ((rc = wn_reader_next(r, &x)) == 1)
        n++;
    assert_int_equal(rc, WN_EOPEN);
    assert_int_equal(n, 271);
    assert_string_equal(wn_reader_error_path(r), gone);
    assert_int_equal(wn_reader_next(r, &x), WN_EOPEN);
    wn_reader_free(r);
    free(good);
    free(gone);
}

/* A read(2) that fails: reading /proc/self/mem at offset 0 gives EIO. */
static void test_read_error(void **state)
{
    const char *paths[] = {"/proc/self/mem"};
    struct wn_reader *r;
    if (access(paths[0], R_OK) != 0)
        skip();
    assert_int_equal(wn_reader_create(paths, 1, NULL, &r, NULL), WN_OK);
    struct wn_record x;
    assert_int_equal(wn_reader_next(r, &x), WN_EIO);
    assert_string_equal(wn_reader_error_path(r), "/proc/self/mem");
    wn_reader_free(r);
}

/* The stream layer alone: detection by content, bytes exact at block 1. */
static void test_stream(void **state)
{
    static const struct {
        const char *name;
        int format;
    } cases[] = {{"c.jsonl", WN_STREAM_PLAIN},
                 {"c.gz.jsonl", WN_STREAM_GZIP},
                 {"c.zst", WN_STREAM_ZSTD},
                 {"c3.gz", WN_STREAM_GZIP},
                 {"c3.zst", WN_STREAM_ZSTD}};
    char *buf = malloc(corpus.len + 1);
    for (size_t i = 0; i < WN_ARRAY_LEN(cases); i++) {
        for (size_t block = 1; block <= 4096; block *= 4096) {
            char *p = path_of(cases[i].name);
            struct wn_stream *s;
            assert_int_equal(wn__stream_open(p, block, &s), WN_OK);
            size_t n = 0, got;
            do {
                size_t room = corpus.len + 1 - n;
                assert_int_equal(wn__stream_read(s, buf + n, room, &got),
                                 WN_OK);
                assert_true(got <= block);
                n += got;
            } while (got > 0);
            assert_int_equal(wn__stream_format(s), cases[i].format);
            assert_int_equal(n, corpus.len);
            assert_memory_equal(buf, corpus.data, n);
            wn__stream_close(s);
            free(p);
        }
    }
    /* Shorter than any magic number: plain. */
    write_file("tiny", "\x1f", 1);
    char *p = path_of("tiny");
    struct wn_stream *s;
    size_t got;
    assert_int_equal(wn__stream_open(p, 1, &s), WN_OK);
    assert_int_equal(wn__stream_read(s, buf, 8, &got), WN_OK);
    assert_int_equal(got, 1);
    assert_int_equal(wn__stream_read(s, buf, 8, &got), WN_OK);
    assert_int_equal(got, 0);
    assert_int_equal(wn__stream_format(s), WN_STREAM_PLAIN);
    wn__stream_close(s);
    assert_int_equal(wn__stream_open("/nonexistent/x", 1, &s), WN_EOPEN);
    free(p);
    free(buf);
}

/*
 * Every allocation failure, wherever it strikes (reader, window, zlib,
 * zstd, directory listing), gives WN_ENOMEM and leaks nothing (ASan).
 */
static void test_alloc_failures(void **state)
{
    char *a = path_of("c3.gz"), *b = path_of("c3.zst"), *d = path_of("docs");
    const char *paths[] = {a, b, d};
    struct run ref = read_all(paths, 3, NULL, 4096);
    bool finished = false;
    for (long k = 0; !finished; k++) {
        struct wn_reader *r = NULL;
        wn_alloc_fail_after(k);
        int rc = wn_reader_create(paths, 3, NULL, &r, NULL);
        if (rc == WN_OK) {
            wn__reader_set_block_size(r, 4096);
            struct wn_record x;
            size_t n = 0;
            while ((rc = wn_reader_next(r, &x)) == 1)
                n++;
            if (rc == 0) {
                assert_int_equal(n, ref.n);
                finished = true;
            }
            wn_reader_free(r);
        }
        wn_alloc_fail_after(-1);
        if (!finished)
            assert_int_equal(rc, WN_ENOMEM);
        assert_true(k < 100000);
        if (finished)
            print_message("%ld allocation points failed in turn\n", k);
    }
    free_run(&ref);
    free(a);
    free(b);
    free(d);
}

/* Read paths to the end with fingerprints recorded in (or checked
 * against) *p; returns the final status. */
static int read_printed(const char *const *paths, size_t n, struct wn_prints *p,
                        bool record, size_t *records, char *err_path,
                        size_t err_len)
{
    struct wn_reader *r;
    size_t bad;
    assert_int_equal(wn_reader_create(paths, n, NULL, &r, &bad), WN_OK);
    if (record)
        assert_int_equal(wn__reader_record(r, p), WN_OK);
    else
        wn__reader_verify(r, p);
    struct wn_record x;
    int rc;
    size_t k = 0;
    while ((rc = wn_reader_next(r, &x)) == 1)
        k++;
    if (records)
        *records = k;
    const char *e = wn_reader_error_path(r);
    snprintf(err_path, err_len, "%s", e ? e : "");
    wn_reader_free(r);
    return rc;
}

/* A change between two passes is caught for plain, gzip and directory
 * inputs; an input read under another path (a spool copy) is not
 * compared; unchanged inputs pass. */
static void test_fingerprints(void **state)
{
    const char *one = "{\"id\":\"a\",\"text\":\"first\"}\n"
                      "{\"id\":\"b\",\"text\":\"second\"}\n";
    const char *same_size = "{\"id\":\"a\",\"text\":\"FIRST\"}\n"
                            "{\"id\":\"b\",\"text\":\"second\"}\n";
    write_file("fp.jsonl", one, strlen(one));
    struct wn_buf gz = {0};
    gzip_append(&gz, one, strlen(one));
    write_file("fp.gz", gz.data, gz.len);
    make_dir("fpdir");
    write_file("fpdir/a.txt", "alpha", 5);
    write_file("fpdir/b.txt", "beta", 4);
    char *pp = path_of("fp.jsonl"), *pg = path_of("fp.gz"),
         *pd = path_of("fpdir");
    const char *paths[] = {pp, pg, pd};
    char err[512];
    size_t n = 0;

    struct wn_prints p = {0};
    assert_int_equal(read_printed(paths, 3, &p, true, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 6);
    /* Unchanged: no alarm. */
    assert_int_equal(read_printed(paths, 3, &p, false, &n, err, sizeof(err)),
                     0);
    assert_int_equal(n, 6);

    /* Plain file, same size and line count, one text changed. */
    write_file("fp.jsonl", same_size, strlen(same_size));
    assert_int_equal(read_printed(paths, 3, &p, false, NULL, err, sizeof(err)),
                     WN_ECHANGED);
    assert_string_equal(err, pp);
    /* Read under another path (as a spool copy is): not compared. */
    char *copy = path_of("fp-copy.jsonl");
    write_file("fp-copy.jsonl", same_size, strlen(same_size));
    const char *spooled[] = {copy, pg, pd};
    assert_int_equal(
        read_printed(spooled, 3, &p, false, NULL, err, sizeof(err)), 0);
    write_file("fp.jsonl", one, strlen(one));

    /* gzip rewritten with the same records but one text changed. */
    struct wn_buf gz2 = {0};
    gzip_append(&gz2, same_size, strlen(same_size));
    write_file("fp.gz", gz2.data, gz2.len);
    assert_int_equal(read_printed(paths, 3, &p, false, NULL, err, sizeof(err)),
                     WN_ECHANGED);
    assert_string_equal(err, pg);
    write_file("fp.gz", gz.data, gz.len);

    /* Directory: a file renamed onto another (same count of records). */
    char *pa = path_of("fpdir/b.txt"), *pc = path_of("fpdir/c.txt");
    assert_int_equal(rename(pa, pc), 0);
    assert_int_equal(read_printed(paths, 3, &p, false, NULL, err, sizeof(err)),
                     WN_ECHANGED);
    assert_string_equal(err, pd);
    assert_int_equal(rename(pc, pa), 0);
    /* Directory: one more file, caught before its record is delivered. */
    write_file("fpdir/d.txt", "delta", 5);
    assert_int_equal(read_printed(paths, 3, &p, false, &n, err, sizeof(err)),
                     WN_ECHANGED);
    assert_int_equal(n, 6);
    char *pdd = path_of("fpdir/d.txt");
    assert_int_equal(unlink(pdd), 0);
    free(pdd);
    assert_int_equal(read_printed(paths, 3, &p, false, NULL, err, sizeof(err)),
                     0);

    wn__prints_release(&p);
    wn__buf_release(&gz);
    wn__buf_release(&gz2);
    free(pp);
    free(pg);
    free(pd);
    free(pa);
    free(pc);
    free(copy);
}

/* A damaged gzip member or zstd frame between intact ones: one WN_ETRUNC
 * record, and every record of the later members, at every block size. */
static void test_resync(void **state)
{
    const char *a = "{\"id\":\"a\",\"text\":\"x\"}\n";
    const char *b =
        "{\"id\":\"b\",\"text\":\"y\"}\n{\"id\":\"c\",\"text\":\"z\"}\n";
    struct wn_buf gz = {0}, zs = {0};
    gzip_append(&gz, a, strlen(a));
    /* A gzip header followed by bytes that are not deflate data. */
    wn__buf_append(&gz, "\x1f\x8b\x08\0\0\0\0\0\0\x03not deflate data", 26);
    gzip_append(&gz, b, strlen(b));
    write_file("resync.gz", gz.data, gz.len);
    zstd_append(&zs, a, strlen(a));
    /* A frame whose only block has the reserved block type 3. */
    wn__buf_append(&zs, "\x28\xb5\x2f\xfd\x00\x00\x07\x00\x00", 9);
    zstd_append(&zs, b, strlen(b));
    write_file("resync.zst", zs.data, zs.len);
    static const char *names[] = {"resync.gz", "resync.zst"};
    static const size_t blocks[] = {0, 1, 2, 3, 7};
    for (size_t f = 0; f < 2; f++) {
        for (size_t j = 0; j < WN_ARRAY_LEN(blocks); j++) {
            struct run r = read_one(names[f], NULL, blocks[j]);
            assert_int_equal(r.end, 0);
            assert_int_equal(r.n, 4);
            assert_string_equal(r.r[0].id, "a");
            assert_int_equal(r.r[1].status, WN_ETRUNC);
            assert_string_equal(r.r[2].id, "b");
            assert_string_equal(r.r[3].id, "c");
            assert_int_equal(r.r[3].status, WN_OK);
            free_run(&r);
        }
    }
    wn__buf_release(&gz);
    wn__buf_release(&zs);
}

/* A zstd frame that declares a 2 GiB window (what zstd --long=31 writes)
 * is valid and read. */
static void test_long_window(void **state)
{
    const char *t = "{\"id\":\"w\",\"text\":\"wide window\"}\n";
    size_t n = strlen(t);
    unsigned char hdr[9] = {0x28,   0xb5, 0x2f,
                            0xfd,   0x00,  /* no content size, no checksum */
                            21 << 3};      /* window log 10 + 21 = 31 */
    uint32_t bh = 1u | (uint32_t)(n << 3); /* last, raw, n bytes */
    hdr[6] = (unsigned char)bh;
    hdr[7] = (unsigned char)(bh >> 8);
    hdr[8] = (unsigned char)(bh >> 16);
    struct wn_buf z = {0};
    wn__buf_append(&z, hdr, sizeof(hdr));
    wn__buf_append(&z, t, n);
    write_file("long.zst", z.data, z.len);
    struct run r = read_one("long.zst", NULL, 0);
    assert_int_equal(r.end, 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.r[0].status, WN_OK);
    assert_string_equal(r.r[0].text, "wide window");
    free_run(&r);
    wn__buf_release(&z);
}

/* JSONL shards in a directory, next to .txt files, and entries that cannot
 * be examined: rejected records with their errno, the rest read. */
static void test_directory_shards_and_errors(void **state)
{
    make_dir("mixed");
    make_dir("mixed/sub");
    const char *shard = "{\"id\":\"j1\",\"text\":\"one\"}\n\n"
                        "{\"text\":\"no id\"}\n";
    write_file("mixed/00.jsonl", shard, strlen(shard));
    struct wn_buf gz = {0};
    gzip_append(&gz, "{\"id\":\"g1\",\"text\":\"gz\"}\n", 24);
    write_file("mixed/01.json.gz", gz.data, gz.len);
    write_file("mixed/sub/t.txt", "text file", 9);
    write_file("mixed/skip.md", "x", 1);
    char *dangling = path_of("mixed/dangling.txt");
    assert_int_equal(symlink("/nonexistent/nowhere.txt", dangling), 0);
    /* A subtree deeper than PATH_MAX: lstat fails there for anyone. */
    char *deep = path_of("mixed/deep");
    assert_int_equal(mkdir(deep, 0755), 0);
    int top = open(".", O_RDONLY);
    assert_int_equal(chdir(deep), 0);
    char name[201];
    memset(name, 'd', 200);
    name[200] = '\0';
    for (int i = 0; i < 22; i++) {
        assert_int_equal(mkdir(name, 0755), 0);
        assert_int_equal(chdir(name), 0);
    }
    assert_int_equal(fchdir(top), 0);
    close(top);

    static const size_t blocks[] = {0, 1, 5};
    for (size_t j = 0; j < WN_ARRAY_LEN(blocks); j++) {
        struct run r = read_one("mixed", NULL, blocks[j]);
        assert_int_equal(r.end, 0);
        /* 00.jsonl (2), 01.json.gz, dangling.txt, deep/..., sub/t.txt */
        assert_int_equal(r.n, 6);
        assert_string_equal(r.r[0].id, "j1");
        assert_int_equal(r.r[0].kind, WN_RECORD_JSON);
        assert_int_equal(r.r[0].line, 1);
        char *src = path_of("mixed/00.jsonl");
        assert_string_equal(r.r[0].source, src);
        char want[600];
        snprintf(want, sizeof(want), "%s:3", src);
        assert_string_equal(r.r[1].id, want);
        free(src);
        assert_string_equal(r.r[2].id, "g1");
        assert_string_equal(r.r[3].id, "dangling.txt");
        assert_int_equal(r.r[3].status, WN_EOPEN);
        assert_int_equal(r.r[4].status, WN_EOPEN);
        assert_non_null(strstr(r.r[4].id, "deep/ddd"));
        assert_string_equal(r.r[5].id, "sub/t.txt");
        assert_string_equal(r.r[5].text, "text file");
        free_run(&r);
    }
    /* The reasons are the real ones. */
    const char *paths[] = {path_of("mixed")};
    struct wn_reader *rd;
    size_t bad;
    assert_int_equal(wn_reader_create(paths, 1, NULL, &rd, &bad), WN_OK);
    struct wn_record x;
    int errs[2], k = 0;
    while (wn_reader_next(rd, &x) == 1)
        if (x.status == WN_EOPEN && k < 2)
            errs[k++] = x.sys_errno;
    assert_int_equal(k, 2);
    assert_int_equal(errs[0], ENOENT);
    assert_int_equal(errs[1], ENAMETOOLONG);
    char buf[64];
    x.sys_errno = ENAMETOOLONG;
    assert_string_equal(wn_record_reason(&x, buf, sizeof(buf)),
                        strerror(ENAMETOOLONG));
    wn_reader_free(rd);
    free((char *)paths[0]);
    free(deep);
    free(dangling);
    wn__buf_release(&gz);
}

/* The records of ranges [cuts[k], cuts[k+1]) of path, k < ncuts - 1, one
 * after the other, must be those of the whole file, with the same lines,
 * ids, offsets; their bytes must add up to the file's. */
static void check_cuts(const char *path, const uint64_t *cuts, size_t ncuts,
                       const struct wn_reader_options *o, size_t block,
                       const struct run *whole)
{
    const char *paths[] = {path};
    struct run all = {0};
    size_t cap = 0;
    uint64_t bytes = 0, before = 0;
    for (size_t k = 0; k + 1 < ncuts; k++) {
        uint64_t nl = 0;
        assert_int_equal(
            wn__reader_count_lines(path, cuts[k], cuts[k + 1], &nl), WN_OK);
        uint64_t range[3] = {cuts[k], cuts[k + 1], before};
        before += nl;
        struct run part = read_range(paths, 1, o, block, range);
        assert_int_equal(part.end, 0);
        if (all.n + part.n > cap) {
            cap = all.n + part.n + 16;
            all.r = realloc(all.r, cap * sizeof(*all.r));
        }
        if (part.n)
            memcpy(all.r + all.n, part.r, part.n * sizeof(*part.r));
        all.n += part.n;
        all.blank += part.blank;
        bytes += part.bytes;
        free(part.r); /* the records' strings moved to all */
    }
    if (all.n != whole->n || bytes != whole->bytes)
        fail_msg("cuts at %" PRIu64 " (of %zu): %zu records, %" PRIu64
                 " bytes; want %zu, %" PRIu64,
                 ncuts > 2 ? cuts[1] : 0, ncuts - 1, all.n, bytes, whole->n,
                 whole->bytes);
    assert_same_records(whole, &all, true);
    for (size_t i = 0; i < all.n; i++)
        assert_int_equal(all.r[i].offset, whole->r[i].offset);
    free_run(&all);
}

/* Byte ranges (reader.h): any cuts give the whole file's records. */
static void test_ranges(void **state)
{
    (void)state;
    /* A byte-order mark, blank lines (first, inner, spaces), a record
     * without an id (its id is SOURCE:LINE), a broken line, a too-long
     * line, CR LF, a last line without a line feed. */
    static const char text[] =
        "\xEF\xBB\xBF{\"id\":1,\"text\":\"first\"}\n"
        "\n"
        "{\"text\":\"no id here\"}\n"
        "   \n"
        "{\"id\":\"x\",\"text\":\"broken\n"
        "{\"id\":4,\"text\":\"a line too long for the cap of sixty bytes "
        "that the test sets\"}\n"
        "{\"id\":5,\"text\":\"crlf\"}\r\n"
        "\n\n"
        "{\"id\":6,\"text\":\"last\"}";
    size_t len = sizeof(text) - 1;
    write_file("ranges.jsonl", text, len);
    static const char nl_text[] = "{\"id\":7,\"text\":\"a\"}\n";
    const uint64_t nl_len = sizeof(nl_text) - 1;
    write_file("ranges-nl.jsonl", nl_text, nl_len);
    struct wn_buf gz = {0};
    gzip_append(&gz, text, len);
    write_file("ranges.gz", gz.data, gz.len);
    write_file("ranges.txt", text, len);
    char *path = path_of("ranges.jsonl");
    char *path_nl = path_of("ranges-nl.jsonl");
    char *path_gz = path_of("ranges.gz");
    char *path_txt = path_of("ranges.txt");

    uint64_t size = 0;
    assert_true(wn__reader_splittable(path, &size));
    assert_int_equal(size, len);
    assert_false(wn__reader_splittable(path_gz, &size));
    assert_false(wn__reader_splittable(path_txt, &size));
    assert_false(wn__reader_splittable(tmpdir, &size));
    assert_false(wn__reader_splittable("-", &size));
    char *gone = path_of("no-such-file.jsonl");
    assert_false(wn__reader_splittable(gone, &size));
    uint64_t nl = 0;
    assert_int_equal(wn__reader_count_lines(gone, 0, 1, &nl), WN_EOPEN);
    assert_int_equal(wn__reader_count_lines(path, 0, len, &nl), WN_OK);
    assert_int_equal(nl, 10);
    assert_int_equal(wn__reader_count_lines(path, 0, len + 5, &nl), WN_EIO);

    struct wn_reader_options o = {.max_record_bytes = 60};
    static const size_t blocks[] = {0, 1, 3};
    for (size_t j = 0; j < WN_ARRAY_LEN(blocks); j++) {
        const char *paths[] = {path};
        struct run whole = read_all(paths, 1, &o, blocks[j]);
        assert_int_equal(whole.n, 6);
        assert_int_equal(whole.bytes, len);
        assert_int_equal(whole.r[1].line, 3);
        assert_string_equal(whole.r[4].id, "5");
        /* Two ranges cut at every offset, and P even ranges. */
        for (uint64_t b = 0; b <= len; b++) {
            uint64_t cuts[] = {0, b, len};
            check_cuts(path, cuts, 3, &o, blocks[j], &whole);
        }
        for (uint64_t p = 1; p <= 9; p++) {
            uint64_t cuts[10];
            for (uint64_t k = 0; k <= p; k++)
                cuts[k] = len * k / p;
            check_cuts(path, cuts, p + 1, &o, blocks[j], &whole);
        }
        free_run(&whole);
        /* A file that ends with its line feed. */
        paths[0] = path_nl;
        whole = read_all(paths, 1, &o, blocks[j]);
        assert_int_equal(whole.n, 1);
        assert_int_equal(whole.bytes, nl_len);
        for (uint64_t b = 0; b <= nl_len; b++) {
            uint64_t cuts[] = {0, b, b, nl_len};
            check_cuts(path_nl, cuts, 4, &o, blocks[j], &whole);
        }
        free_run(&whole);
    }
    free(path);
    free(path_nl);
    free(path_gz);
    free(path_txt);
    free(gone);
    wn__buf_release(&gz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_formats_and_blocks),
        cmocka_unit_test(test_raw_only),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_ids_and_fields),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_late_error),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_fingerprints),
        cmocka_unit_test(test_resync),
        cmocka_unit_test(test_long_window),
        cmocka_unit_test(test_directory_shards_and_errors),
        cmocka_unit_test(test_ranges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
