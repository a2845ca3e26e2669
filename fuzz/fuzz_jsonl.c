/*
 * fuzz_jsonl.c - libFuzzer target for the JSONL record reader
 * (lib/io/reader.c) and the JSON object scanner under it (lib/io/json.c).
 *
 * Input: two configuration bytes, then the file. Byte 0 picks the read
 * block size; byte 1 picks the record size cap, the field names and,
 * optionally, an allocation to fail. The file is read three times: with the
 * chosen block, with the default block, and raw-only (default block). Beyond
 * "no crash, no hang, no leak", what must hold:
 *  - the three passes see the same records: where chunks end and whether
 *    fields are parsed does not change what a record is (but see
 *    check_same() for damaged zstd frames);
 *  - every record is well-formed: an id always, text exactly when the status
 *    is WN_OK, raw within the cap, lines increasing;
 *  - differential against jansson, an independent RFC 8259 parser: a line
 *    the scanner accepts, jansson accepts with the same text and string id,
 *    and a line jansson accepts as an object is accepted by the scanner,
 *    within the documented differences (raw control bytes and ill-formed
 *    UTF-8 inside strings, a byte order mark, lone surrogate escapes,
 *    numbers beyond double range, nesting deeper than WN_JSON_MAX_DEPTH,
 *    and jansson's own slip of skipping a NUL byte after a number);
 *  - with an allocation made to fail, reading ends with WN_ENOMEM and
 *    frees everything.
 * Cost per input: O(size) for each pass plus jansson's parse of each line.
 */
#include "fuzz_util.h"

#include "common/common.h"
#include "io/json.h"
#include "io/reader.h"

#include <jansson.h>

/* An owned copy of a record. */
struct rec {
    char *raw, *id, *text;
    size_t raw_len, id_len, text_len;
    int status;
    size_t error_offset;
    uint64_t line, offset;
    bool has_text;
};

struct run {
    struct rec *r;
    size_t n, cap;
    int end; /* last return of wn_reader_next: 0 or a status */
};

static const size_t blocks[8] = {1, 2, 3, 5, 8, 64, 4096, 0};
static const size_t caps[4] = {0, 1, 17, 300};

static void run_free(struct run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        free(run->r[i].raw);
        free(run->r[i].id);
        free(run->r[i].text);
    }
    free(run->r);
    memset(run, 0, sizeof(*run));
}

static bool known_status(int s)
{
    return s == WN_OK || s == WN_EPARSE || s == WN_EBADID || s == WN_ENOFIELD ||
           s == WN_ETOOBIG || s == WN_ETRUNC;
}

/* Check one record against the reader's contract. */
static void check_record(const struct wn_record *rec,
                         const struct wn_reader_options *ro, uint64_t prev)
{
    size_t cap = ro->max_record_bytes ? ro->max_record_bytes : 64u << 20;
    FZ_CHECK(known_status(rec->status));
    FZ_CHECK(rec->kind == WN_RECORD_JSON);
    FZ_CHECK(rec->raw != NULL || rec->raw_len == 0);
    FZ_CHECK(rec->raw_len <= cap);
    FZ_CHECK(rec->line > prev);
    FZ_CHECK(rec->input == 0 && rec->source != NULL);
    if (ro->raw_only) {
        FZ_CHECK(rec->status == WN_OK || rec->status == WN_ETOOBIG ||
                 rec->status == WN_ETRUNC);
        return;
    }
    FZ_CHECK(rec->id != NULL); /* "" is a valid string id */
    FZ_CHECK((rec->text != NULL) == (rec->status == WN_OK));
    if (rec->status == WN_EPARSE)
        FZ_CHECK(rec->error_offset <= rec->raw_len);
    if (rec->status == WN_OK) {
        /* A record was accepted: the scanner accepts its bytes again. */
        size_t off;
        FZ_CHECK(wn__json_scan_object(rec->raw, rec->raw_len, NULL, 0, &off) ==
                 WN_OK);
    }
}

static void read_all(const char *path, const struct wn_reader_options *ro,
                     size_t block, long fail_at, struct run *run)
{
    memset(run, 0, sizeof(*run));
    struct wn_reader *r = NULL;
    size_t bad = 99;
    wn_alloc_fail_after(fail_at);
    int rc = wn_reader_create(&path, 1, ro, &r, &bad);
    if (rc) {
        wn_alloc_fail_after(-1);
        FZ_CHECK(fail_at >= 0 && rc == WN_ENOMEM);
        run->end = rc;
        return;
    }
    if (block)
        wn__reader_set_block_size(r, block);
    struct wn_record rec;
    uint64_t prev = 0;
    for (;;) {
        rc = wn_reader_next(r, &rec);
        if (rc <= 0)
            break;
        check_record(&rec, ro, prev);
        prev = rec.line;
        if (run->n == run->cap) {
            run->cap = run->cap ? run->cap * 2 : 16;
            run->r = realloc(run->r, run->cap * sizeof(*run->r));
            FZ_CHECK(run->r != NULL);
        }
        struct rec *c = &run->r[run->n++];
        memset(c, 0, sizeof(*c));
        c->raw = fz_dup(rec.raw, rec.raw_len);
        c->raw_len = rec.raw_len;
        c->id = rec.id ? fz_dup(rec.id, rec.id_len) : NULL;
        c->id_len = rec.id_len;
        c->has_text = rec.text != NULL;
        c->text = rec.text ? fz_dup(rec.text, rec.text_len) : NULL;
        c->text_len = rec.text_len;
        c->status = rec.status;
        c->error_offset = rec.error_offset;
        c->line = rec.line;
        c->offset = rec.offset;
    }
    run->end = rc;
    if (rc < 0) {
        FZ_CHECK(fail_at >= 0 && rc == WN_ENOMEM);
        /* A failed reader stays failed. */
        FZ_CHECK(wn_reader_next(r, &rec) == rc);
    }
    wn_alloc_fail_after(-1);
    wn_reader_free(r);
}

static bool same_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* The index of the first WN_ETRUNC record, or r->n. */
static size_t first_truncated(const struct run *r)
{
    size_t i = 0;
    while (i < r->n && r->r[i].status != WN_ETRUNC)
        i++;
    return i;
}

/*
 * Two parsing passes give the same records; when the first was cut short
 * by a failed allocation, its records are a prefix of the second's.
 *
 * One exception, for damaged zstd input: libzstd reports an error (a bad
 * block, or a checksum mismatch at the end of a frame) without saying how
 * much of the call's output is good, and decodes a whole frame in one call
 * when the output has room for it. So the lines of a damaged frame that
 * come out before the error depend on the read size; the records before the
 * WN_ETRUNC record are then a prefix one of the other, and the cut is
 * reported either way; what follows the damage (reading resumes at the
 * next frame found from where libzstd stopped) is not compared.
 */
static void check_same(const struct run *a, const struct run *b, bool zstd)
{
    size_t n = a->n;
    if (a->end == WN_ENOMEM && b->end != WN_ENOMEM) {
        FZ_CHECK(a->n <= b->n);
    } else if (zstd && first_truncated(a) < a->n && first_truncated(b) < b->n) {
        /* Reading resumes after the damage at the next frame found, from
         * where libzstd stopped, which also depends on the read size. */
        FZ_CHECK(a->end == b->end);
        n = WN_MIN(first_truncated(a), first_truncated(b));
    } else {
        FZ_CHECK(a->end == b->end);
        FZ_CHECK(a->n == b->n);
    }
    for (size_t i = 0; i < n; i++) {
        const struct rec *x = &a->r[i], *y = &b->r[i];
        FZ_CHECK(x->status == y->status && x->line == y->line);
        FZ_CHECK(x->offset == y->offset);
        FZ_CHECK(same_bytes(x->raw, x->raw_len, y->raw, y->raw_len));
        FZ_CHECK(same_bytes(x->id, x->id_len, y->id, y->id_len));
        FZ_CHECK(x->has_text == y->has_text);
        FZ_CHECK(same_bytes(x->text, x->text_len, y->text, y->text_len));
        FZ_CHECK(x->error_offset == y->error_offset);
    }
}

/* The raw-only pass sees the same lines as a parsing pass. */
static void check_raw(const struct run *parsed, const struct run *raw)
{
    FZ_CHECK(parsed->end == raw->end);
    FZ_CHECK(parsed->n == raw->n);
    for (size_t i = 0; i < raw->n; i++) {
        const struct rec *x = &parsed->r[i], *y = &raw->r[i];
        FZ_CHECK(x->line == y->line && x->offset == y->offset);
        FZ_CHECK(same_bytes(x->raw, x->raw_len, y->raw, y->raw_len));
        if (y->status != WN_OK)
            FZ_CHECK(x->status == y->status);
        else
            FZ_CHECK(x->status != WN_ETOOBIG && x->status != WN_ETRUNC);
    }
}

/* Deepest nesting of [ and { outside strings. */
static size_t nesting(const char *s, size_t n)
{
    size_t depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            max = ++depth > max ? depth : max;
        } else if ((c == ']' || c == '}') && depth) {
            depth--;
        }
    }
    return max;
}

/* Whether jansson's rejection is one of the documented differences. */
static bool lenient_difference(const json_error_t *err)
{
    switch (json_error_code(err)) {
    case json_error_invalid_utf8:
    case json_error_numeric_overflow:
    case json_error_null_byte_in_key:
        return true;
    case json_error_invalid_syntax:
        /* Raw control bytes in strings and lone surrogate escapes. */
        return strstr(err->text, "control character") != NULL ||
               strstr(err->text, "invalid Unicode") != NULL;
    default:
        return false;
    }
}

static void check_jansson(const struct rec *x, const char *id_field,
                          const char *text_field)
{
    if (x->status != WN_OK && x->status != WN_EPARSE &&
        x->status != WN_EBADID && x->status != WN_ENOFIELD)
        return;
    const char *p = x->raw;
    size_t n = x->raw_len;
    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3; /* jansson does not take a byte order mark */
        n -= 3;
    }
    json_error_t err;
    json_t *root = json_loadb(p, n, JSON_ALLOW_NUL, &err);
    bool accepted = x->status != WN_EPARSE;
    if (!root || !json_is_object(root)) {
        bool object_like = root == NULL;
        json_decref(root);
        if (accepted) {
            /* Accepted here, so jansson's refusal must be a leniency. */
            FZ_CHECK(object_like && lenient_difference(&err));
        }
        return;
    }
    if (!accepted) {
        /* jansson took an object that the scanner refused: only too deep,
         * or with a NUL byte, which jansson 2.14 skips after a number
         * ("{\"a\": 3\0}" parses; fuzz/corpus/jsonl/jansson-nul-after-number).
         */
        FZ_CHECK(nesting(p, n) > WN_JSON_MAX_DEPTH || memchr(p, 0, n));
        json_decref(root);
        return;
    }
    json_t *id = json_object_get(root, id_field);
    json_t *text = json_object_get(root, text_field);
    bool bad_id =
        id && !json_is_string(id) && !json_is_number(id) && !json_is_null(id);
    FZ_CHECK(bad_id == (x->status == WN_EBADID));
    if (!bad_id) {
        FZ_CHECK((text && json_is_string(text)) == (x->status == WN_OK));
    }
    if (x->status == WN_OK) {
        FZ_CHECK(same_bytes(x->text, x->text_len, json_string_value(text),
                            json_string_length(text)));
    }
    if (id && json_is_string(id)) {
        FZ_CHECK(same_bytes(x->id, x->id_len, json_string_value(id),
                            json_string_length(id)));
    }
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_input in = {data, size};
    uint8_t b0 = fz_byte(&in), b1 = fz_byte(&in);
    size_t block = blocks[b0 & 7];
    struct wn_reader_options ro;
    memset(&ro, 0, sizeof(ro));
    ro.max_record_bytes = caps[b1 & 3];
    if (b1 & 4) {
        ro.id_field = "k";
        ro.text_field = "";
    }
    /* Bits 3..7: fail allocation 0..15 of the first pass, or none. */
    long fail_at = b1 & 8 ? (long)(b1 >> 4) : -1;

    struct fz_file f;
    fz_file_open(&f, in.p, in.n);
    struct run a, b, c;
    read_all(f.path, &ro, block, fail_at, &a);
    read_all(f.path, &ro, 0, -1, &b);
    const uint8_t *m = in.p;
    bool zstd = in.n >= 4 && (memcmp(m, "\x28\xb5\x2f\xfd", 4) == 0 ||
                              ((m[0] & 0xf0) == 0x50 && m[1] == 0x2a &&
                               m[2] == 0x4d && m[3] == 0x18));
    check_same(&a, &b, zstd);
    /* Uncompressed, a record's offset points at its bytes in the file
     * (what dedup's second pass copies from). */
    bool gzip = in.n >= 2 && m[0] == 0x1f && m[1] == 0x8b;
    for (size_t i = 0; !zstd && !gzip && i < b.n; i++) {
        const struct rec *x = &b.r[i];
        FZ_CHECK(x->offset + x->raw_len <= in.n);
        FZ_CHECK(x->raw_len == 0 ||
                 memcmp(in.p + x->offset, x->raw, x->raw_len) == 0);
    }
    for (size_t i = 0; i < b.n; i++)
        check_jansson(&b.r[i], ro.id_field ? ro.id_field : "id",
                      ro.text_field ? ro.text_field : "text");
    ro.raw_only = 1;
    read_all(f.path, &ro, 0, -1, &c);
    check_raw(&b, &c);
    run_free(&a);
    run_free(&b);
    run_free(&c);
    fz_file_close(&f);
    return 0;
}
