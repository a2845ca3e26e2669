/*
 * test_json.c - the JSONL scanner, unescape and escape (lib/io/json.c).
 *
 * Fixed cases pin the grammar and the one leniency; a seeded differential
 * test compares validity and field values with jansson on generated and
 * mutated texts, allowing only the documented differences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "io/json.h"

#define S(lit) lit, sizeof(lit) - 1

static int scan(const char *s, size_t n, size_t *err)
{
    size_t e = (size_t)-1;
    int rc = wn__json_scan_object(s, n, NULL, 0, &e);
    if (err)
        *err = e;
    return rc;
}

static void test_valid(void **state)
{
    static const char *ok[] = {
        "{}",
        " \t\r\n{ } \r\n",
        "\xEF\xBB\xBF{\"a\":1}",
        "{\"a\":0,\"b\":-0,\"c\":-12.5e+3,\"d\":1E-2,\"e\":0.0,\"f\":9}",
        "{\"a\":[],\"b\":[1,[2,[3]],{}],\"c\":{\"d\":{\"e\":null}}}",
        "{\"a\":true,\"b\":false,\"c\":null}",
        "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"}",
        "{\"\":\"\",\"a\" : [ 1 , 2 ] }",
        "{\"a\":\"x\ty\x01\"}",         /* lenient: raw control bytes */
        "{\"a\":\"\xff\xfe\xc0\xaf\"}", /* lenient: ill-formed UTF-8 */
        "{\"a\":\"\\ud800\"}",          /* grammar allows lone surrogates */
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        size_t err;
        int rc = scan(ok[i], strlen(ok[i]), &err);
        if (rc != WN_OK)
            fail_msg("rejected %s at %zu", ok[i], err);
    }
}

static void test_invalid(void **state)
{
    static const struct {
        const char *s;
        size_t off;
    } bad[] = {
        {"", 0},
        {"   ", 3},
        {"[1]", 0}, /* top level must be an object */
        {"\"a\"", 0},
        {"{\"a\":1,}", 7}, /* trailing comma */
        {"{\"a\":[1,]}", 8},
        {"{'a':1}", 1}, /* single quotes */
        {"{\"a\":'x'}", 5},
        {"{\"a\":NaN}", 5},
        {"{\"a\":Infinity}", 5},
        {"{\"a\":01}", 6}, /* leading zero */
        {"{\"a\":-}", 6},
        {"{\"a\":1.}", 7},
        {"{\"a\":.5}", 5},
        {"{\"a\":1e}", 7},
        {"{\"a\":+1}", 5},
        {"{\"a\":\"\\x\"}", 7}, /* bad escape */
        {"{\"a\":\"\\u12G4\"}", 10},
        {"{\"a\":\"\\u12\"}", 10},
        {"{\"a\":\"abc", 9}, /* unterminated string */
        {"{\"a\":1", 6},     /* unterminated object */
        {"{\"a\":[1,2}", 9},
        {"{\"a\":1}{\"b\":2}", 7}, /* two objects on a line */
        {"{\"a\":1} x", 8},
        {"{\"a\" 1}", 5},
        {"{\"a\":tru}", 8},
        {"{\"a\":nul", 8},
        {"{\"a\":truex}", 9},
        {"{a:1}", 1},
        {"{\"a\":1 \"b\":2}", 7},
        {"{\x01\"a\":1}", 1}, /* control byte outside a string */
        {"\xEF\xBB{}", 0},    /* half a BOM */
        {"{\"a\":1}\v", 7},   /* VT is not JSON whitespace */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t err;
        int rc = scan(bad[i].s, strlen(bad[i].s), &err);
        if (rc != WN_EPARSE || err != bad[i].off)
            fail_msg("case %zu \"%s\": rc %d off %zu, want %zu", i, bad[i].s,
                     rc, err, bad[i].off);
    }
}

/* Nesting up to the cap passes; beyond it fails, also for huge depths. */
static void test_depth(void **state)
{
    size_t n = 200000;
    char *s = malloc(2 * n + 16);
    /* {"a":[[...]]} with the object and the arrays at the cap. */
    size_t k = (size_t)sprintf(s, "{\"a\":");
    memset(s + k, '[', WN_JSON_MAX_DEPTH - 1);
    k += WN_JSON_MAX_DEPTH - 1;
    memset(s + k, ']', WN_JSON_MAX_DEPTH - 1);
    k += WN_JSON_MAX_DEPTH - 1;
    s[k++] = '}';
    size_t err;
    assert_int_equal(scan(s, k, &err), WN_OK);
    k = (size_t)sprintf(s, "{\"a\":");
    memset(s + k, '[', WN_JSON_MAX_DEPTH);
    k += WN_JSON_MAX_DEPTH;
    assert_int_equal(scan(s, k, &err), WN_EPARSE);
    assert_int_equal(err, 5 + WN_JSON_MAX_DEPTH - 1);
    /* A depth that would overflow a recursive parser's C stack. */
    k = (size_t)sprintf(s, "{\"a\":");
    memset(s + k, '[', n);
    assert_int_equal(scan(s, k + n, &err), WN_EPARSE);
    free(s);
}

static void test_fields(void **state)
{
    const char *js = "{\"x\":{\"id\":\"inner\"},\"id\":\"a\\\"b\",\"n\":-1.5,"
                     "\"z\":null,\"o\":[1,{\"text\":2}],\"t\\u0065xt\":\"T\","
                     "\"text\":\"last\",\"b\":true}";
    struct wn_json_field f[] = {
        {.key = "id", .key_len = 2},   {.key = "text", .key_len = 4},
        {.key = "n", .key_len = 1},    {.key = "z", .key_len = 1},
        {.key = "o", .key_len = 1},    {.key = "b", .key_len = 1},
        {.key = "none", .key_len = 4}, {.key = "x", .key_len = 1},
    };
    size_t err;
    assert_int_equal(wn__json_scan_object(js, strlen(js), f, 8, &err), WN_OK);
    assert_int_equal(f[0].type, WN_JSON_STRING);
    assert_true(f[0].escaped);
    assert_int_equal(f[0].len, 6);
    assert_memory_equal(js + f[0].off, "\"a\\\"b\"", 6);
    /* Duplicate key (one spelled with an escape): the last one wins. */
    assert_int_equal(f[1].type, WN_JSON_STRING);
    assert_false(f[1].escaped);
    assert_memory_equal(js + f[1].off, "\"last\"", 6);
    assert_int_equal(f[2].type, WN_JSON_NUMBER);
    assert_memory_equal(js + f[2].off, "-1.5", f[2].len);
    assert_int_equal(f[3].type, WN_JSON_NULL);
    assert_int_equal(f[4].type, WN_JSON_OTHER);
    assert_memory_equal(js + f[4].off, "[1,{\"text\":2}]", f[4].len);
    assert_int_equal(f[5].type, WN_JSON_OTHER);
    assert_int_equal(f[6].type, WN_JSON_ABSENT);
    assert_int_equal(f[7].type, WN_JSON_OTHER);

    /* With dst, escaped values are decoded during the scan. */
    char dst[256];
    f[0].dst = dst;
    assert_int_equal(wn__json_scan_object(js, strlen(js), f, 1, &err), WN_OK);
    assert_int_equal(f[0].dst_len, 3);
    assert_memory_equal(dst, "a\"b", 3);
    const char *pair = "{\"id\":\"x\\uD83D\\uDE00\\u00e9\\n\\uD800\"}";
    assert_int_equal(wn__json_scan_object(pair, strlen(pair), f, 1, &err),
                     WN_OK);
    assert_int_equal(f[0].dst_len, 1 + 4 + 2 + 1 + 3);
    assert_memory_equal(dst, "x\xF0\x9F\x98\x80\xC3\xA9\n\xEF\xBF\xBD",
                        f[0].dst_len);

    /* An escaped key alone matches its decoded spelling. */
    const char *k2 = "{\"\\u0074ext\":\"v\",\"te\\u0078\":1}";
    assert_int_equal(wn__json_scan_object(k2, strlen(k2), f + 1, 1, &err),
                     WN_OK);
    assert_int_equal(f[1].type, WN_JSON_STRING);
    assert_memory_equal(k2 + f[1].off, "\"v\"", 3);
}

static void check_unescape(const char *tok, const char *want, size_t wlen)
{
    char out[256];
    size_t n = (size_t)-1;
    assert_int_equal(wn__json_unescape(tok, strlen(tok), out, &n), WN_OK);
    assert_true(n <= strlen(tok));
    assert_int_equal(n, wlen);
    assert_memory_equal(out, want, wlen);
}

static void test_unescape(void **state)
{
    check_unescape("\"\"", S(""));
    check_unescape("\"plain\"", S("plain"));
    check_unescape("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", S("\"\\/\b\f\n\r\t"));
    check_unescape("\"\\u0041\\u00e9\\u20AC\"", S("A\xC3\xA9\xE2\x82\xAC"));
    check_unescape("\"\\uD83D\\uDE00!\"", S("\xF0\x9F\x98\x80!"));
    check_unescape("\"\\uDBFF\\uDFFF\"", S("\xF4\x8F\xBF\xBF"));
    /* Lone surrogates become U+FFFD; the partner-less high one alone. */
    check_unescape("\"\\uD800\"", S("\xEF\xBF\xBD"));
    check_unescape("\"\\uDC00x\"", S("\xEF\xBF\xBDx"));
    check_unescape("\"\\uD800\\u0041\"", S("\xEF\xBF\xBD"
                                           "A"));
    check_unescape("\"\\uD800\\uD800\\uDC00\"",
                   S("\xEF\xBF\xBD\xF0\x90\x80\x80"));
    check_unescape("\"a\\u0000b\"", S("a\0b"));
    check_unescape("\"raw\xff\tbytes\"", S("raw\xff\tbytes"));

    char out[32];
    size_t n;
    assert_int_equal(wn__json_unescape(S("\"\\q\""), out, &n), WN_EPARSE);
    assert_int_equal(wn__json_unescape(S("\"\\u12\""), out, &n), WN_EPARSE);
    assert_int_equal(wn__json_unescape(S("\"abc\\\""), out, &n), WN_EPARSE);
    assert_int_equal(wn__json_unescape(S("abc"), out, &n), WN_EPARSE);
    assert_int_equal(wn__json_unescape(S("\""), out, &n), WN_EPARSE);
}

static void check_escape(const char *s, size_t n, const char *want)
{
    struct wn_buf b = {0};
    assert_int_equal(wn__json_escape(s, n, &b), WN_OK);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    wn__buf_release(&b);
}

static void test_escape(void **state)
{
    check_escape(S(""), "\"\"");
    check_escape(S("a\"b\\c/"), "\"a\\\"b\\\\c/\"");
    check_escape(S("\n\t\x01\x1f\x7f"), "\"\\u000a\\u0009\\u0001\\u001f\x7f\"");
    check_escape(S("a\0b"), "\"a\\u0000b\"");
    check_escape(S("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"),
                 "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
    /* Each maximal ill-formed subpart becomes one U+FFFD. */
    check_escape(S("\xF0\x9F\x98"), "\"\xEF\xBF\xBD\"");
    check_escape(S("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    check_escape(S("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    check_escape(S("\xE2\x82x"), "\"\xEF\xBF\xBDx\"");
    check_escape(S("\xF4\x90\x80\x80"),
                 "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    check_escape(S("\xff"), "\"\xEF\xBF\xBD\"");
}

/* xorshift64*: a fixed, portable sequence for the seeded tests. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

static size_t rn(size_t n)
{
    return (size_t)(rnd() % n);
}

/* Append a random code point as valid UTF-8 (no surrogates). */
static void put_random_char(struct wn_buf *b)
{
    static const uint32_t ranges[][2] = {{0x20, 0x7E},     {0x00, 0x1F},
                                         {0xA0, 0x7FF},    {0x800, 0xD7FF},
                                         {0xE000, 0xFFFD}, {0x10000, 0x10FFFF}};
    size_t r = rn(10);
    r = r < 5 ? 0 : r - 4; /* mostly ASCII */
    uint32_t cp = ranges[r][0] + (uint32_t)rn(ranges[r][1] - ranges[r][0] + 1);
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | cp >> 18);
        u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    wn__buf_append(b, u, n);
}

/* A random valid JSON string token, with every kind of escape. */
static void gen_string(struct wn_buf *b)
{
    struct wn_buf raw = {0};
    size_t n = rn(4) == 0 ? rn(3) : rn(40);
    for (size_t i = 0; i < n; i++)
        put_random_char(&raw);
    wn__json_escape(raw.data, raw.len, b);
    wn__buf_release(&raw);
    /* Re-spell some characters as escapes the escaper does not use. */
    if (rn(3) == 0) {
        static const char *extra[] = {
            "\\/",     "\\n", "\\t", "\\u00e9", "\\uD83D\\uDE00",
            "\\u0000", "\\b", "\\f"};
        b->len--; /* drop the closing quote */
        size_t k = 1 + rn(3);
        for (size_t i = 0; i < k; i++)
            wn__buf_printf(b, "%s", extra[rn(8)]);
        wn__buf_putc(b, '"');
    }
}

static void gen_number(struct wn_buf *b)
{
    if (rn(2))
        wn__buf_putc(b, '-');
    if (rn(4) == 0)
        wn__buf_putc(b, '0');
    else
        wn__buf_printf(b, "%llu", (unsigned long long)(1 + rn(999999999)));
    if (rn(3) == 0)
        wn__buf_printf(b, ".%llu", (unsigned long long)rn(100000));
    if (rn(4) == 0) {
        /* one draw per statement: argument order is unspecified */
        char e = rn(2) ? 'e' : 'E';
        const char *sign = rn(3) == 0 ? "-" : rn(2) ? "+" : "";
        wn__buf_printf(b, "%c%s%u", e, sign, (unsigned)rn(30));
    }
}

static void gen_ws(struct wn_buf *b)
{
    static const char ws[] = " \t\r\n";
    if (rn(4) == 0) {
        size_t n = 1 + rn(3);
        for (size_t i = 0; i < n; i++)
            wn__buf_putc(b, ws[rn(4)]);
    }
}

static void gen_value(struct wn_buf *b, int depth);

static void gen_key(struct wn_buf *b)
{
    static const char *keys[] = {"\"id\"",       "\"text\"",  "\"t\\u0065xt\"",
                                 "\"\\u0069d\"", "\"title\"", "\"a\"",
                                 "\"\""};
    if (rn(6) == 0)
        gen_string(b);
    else
        wn__buf_printf(b, "%s", keys[rn(7)]);
}

static void gen_object(struct wn_buf *b, int depth)
{
    size_t n = rn(depth == 0 ? 7 : 4);
    wn__buf_putc(b, '{');
    gen_ws(b);
    for (size_t i = 0; i < n; i++) {
        if (i) {
            wn__buf_putc(b, ',');
            gen_ws(b);
        }
        gen_key(b);
        gen_ws(b);
        wn__buf_putc(b, ':');
        gen_ws(b);
        gen_value(b, depth + 1);
        gen_ws(b);
    }
    wn__buf_putc(b, '}');
}

static void gen_value(struct wn_buf *b, int depth)
{
    size_t k = rn(depth > 5 ? 6 : 8);
    switch (k) {
    case 0:
    case 1:
        gen_string(b);
        break;
    case 2:
    case 3:
        gen_number(b);
        break;
    case 4:
        wn__buf_printf(b, "%s", rn(3) == 0 ? "true" : rn(2) ? "false" : "null");
        break;
    case 5:
        wn__buf_printf(b, "null");
        break;
    case 6: {
        size_t n = rn(4);
        wn__buf_putc(b, '[');
        gen_ws(b);
        for (size_t i = 0; i < n; i++) {
            if (i)
                wn__buf_putc(b, ',');
            gen_value(b, depth + 1);
            gen_ws(b);
        }
        wn__buf_putc(b, ']');
        break;
    }
    default:
        gen_object(b, depth);
    }
}

/* Byte-level damage: the kinds of mistakes hand-written JSON has. */
static void mutate(struct wn_buf *b)
{
    static const char pool[] = "{}[]\",:\\01-+.eE tfnu\x01\xff\xc3\x80"
                               "'aN\t\r";
    size_t k = 1 + rn(3);
    for (size_t i = 0; i < k; i++) {
        size_t at = b->len ? rn(b->len) : 0;
        switch (rn(4)) {
        case 0: /* delete a byte */
            if (b->len) {
                memmove(b->data + at, b->data + at + 1, b->len - at - 1);
                b->len--;
            }
            break;
        case 1: /* insert a byte */
            wn__buf_reserve(b, 1);
            memmove(b->data + at + 1, b->data + at, b->len - at);
            b->data[at] = pool[rn(sizeof(pool) - 1)];
            b->len++;
            break;
        case 2: /* replace a byte */
            if (b->len)
                b->data[at] = pool[rn(sizeof(pool) - 1)];
            break;
        default: /* cut */
            b->len = at;
        }
    }
}

/* jansson errors that only the documented leniency explains. */
static bool lenient_difference(const json_error_t *e)
{
    enum json_error_code c = json_error_code(e);
    return c == json_error_invalid_utf8 || c == json_error_numeric_overflow ||
           c == json_error_null_byte_in_key ||
           strncmp(e->text, "control character", 17) == 0 ||
           strncmp(e->text, "invalid Unicode", 15) == 0;
}

static void compare_field(const char *text, const struct wn_json_field *f,
                          json_t *obj)
{
    json_t *v = json_object_getn(obj, f->key, f->key_len);
    if (!v) {
        assert_int_equal(f->type, WN_JSON_ABSENT);
        return;
    }
    const char *tok = text + f->off;
    switch (json_typeof(v)) {
    case JSON_STRING: {
        assert_int_equal(f->type, WN_JSON_STRING);
        char *out = malloc(f->len);
        size_t n;
        assert_int_equal(wn__json_unescape(tok, f->len, out, &n), WN_OK);
        assert_int_equal(n, json_string_length(v));
        assert_memory_equal(out, json_string_value(v), n);
        assert_int_equal(f->escaped, memchr(tok, '\\', f->len) != NULL);
        if (f->dst && f->escaped) { /* decoded during the scan */
            assert_int_equal(f->dst_len, n);
            assert_memory_equal(f->dst, out, n);
        }
        free(out);
        break;
    }
    case JSON_INTEGER: {
        assert_int_equal(f->type, WN_JSON_NUMBER);
        char *end;
        long long x = strtoll(tok, &end, 10);
        assert_ptr_equal(end, tok + f->len);
        assert_true(x == json_integer_value(v));
        break;
    }
    case JSON_REAL: {
        assert_int_equal(f->type, WN_JSON_NUMBER);
        char *end;
        double x = strtod(tok, &end);
        assert_ptr_equal(end, tok + f->len);
        assert_true(x == json_real_value(v));
        break;
    }
    case JSON_NULL:
        assert_int_equal(f->type, WN_JSON_NULL);
        break;
    default:
        assert_int_equal(f->type, WN_JSON_OTHER);
    }
}

/*
 * Generate objects, some damaged; both parsers must agree on validity up to
 * the leniency, and on the requested fields whenever both accept.
 */
static void test_differential(void **state)
{
    size_t agree_ok = 0, agree_bad = 0, lenient = 0;
    for (int iter = 0; iter < 40000; iter++) {
        struct wn_buf b = {0};
        gen_ws(&b);
        gen_object(&b, 0);
        gen_ws(&b);
        if (iter % 2)
            mutate(&b);
        wn__buf_reserve(&b, 1); /* b.data non-NULL even if cut to 0 */

        char *dst = malloc(b.len + 1);
        struct wn_json_field f[] = {
            {.key = "id", .key_len = 2},
            {.key = "text", .key_len = 4, .dst = dst},
            {.key = "title", .key_len = 5},
            {.key = "a", .key_len = 1},
        };
        size_t err;
        int rc = wn__json_scan_object(b.data, b.len, f, 4, &err);
        json_error_t je;
        json_t *j =
            json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        bool jok = j && json_is_object(j);
        if (rc == WN_OK && jok) {
            for (size_t i = 0; i < 4; i++)
                compare_field(b.data, &f[i], j);
            agree_ok++;
        } else if (rc != WN_OK && !jok) {
            assert_true(err <= b.len);
            agree_bad++;
        } else if (rc == WN_OK && !j && lenient_difference(&je)) {
            lenient++;
        } else {
            fail_msg("disagree (ours %d, jansson %s: %s) on [%.*s]", rc,
                     j ? "ok" : "error", j ? "" : je.text, (int)b.len, b.data);
        }
        json_decref(j);
        wn__buf_release(&b);
        free(dst);
    }
    print_message("agree valid %zu, agree invalid %zu, lenient %zu\n", agree_ok,
                  agree_bad, lenient);
    assert_true(agree_ok > 15000 && agree_bad > 5000);
}

/* Round trips: unescape(escape(s)) == s for valid UTF-8, and the escaped
 * form is valid JSON for any bytes. */
static void test_round_trip(void **state)
{
    for (int iter = 0; iter < 5000; iter++) {
        struct wn_buf s = {0}, e = {0}, obj = {0};
        size_t n = rn(60);
        bool valid = iter % 2 == 0;
        for (size_t i = 0; i < n; i++) {
            if (valid)
                put_random_char(&s);
            else
                wn__buf_putc(&s, (char)rn(256));
        }
        wn__buf_reserve(&s, 1);
        assert_int_equal(wn__json_escape(s.data, s.len, &e), WN_OK);
        char *out = malloc(e.len);
        size_t m;
        assert_int_equal(wn__json_unescape(e.data, e.len, out, &m), WN_OK);
        if (valid) {
            assert_int_equal(m, s.len);
            assert_memory_equal(out, s.data, m);
        }
        /* jansson, strict about UTF-8 and control bytes, accepts it. */
        wn__buf_printf(&obj, "{\"k\":%.*s}", (int)e.len, e.data);
        json_error_t je;
        json_t *j = json_loadb(obj.data, obj.len, JSON_ALLOW_NUL, &je);
        if (!j)
            fail_msg("jansson rejects escape output: %s", je.text);
        assert_int_equal(json_string_length(json_object_get(j, "k")), m);
        assert_memory_equal(json_string_value(json_object_get(j, "k")), out, m);
        json_decref(j);
        free(out);
        wn__buf_release(&s);
        wn__buf_release(&e);
        wn__buf_release(&obj);
    }
}

/* The vectorized searches (AVX-512 where the CPU has it, SSE2) agree with
 * the portable one at every alignment, length (across several 64-byte
 * steps) and position of the byte it looks for. */
static void test_find_special(void **state)
{
    char buf[200];
    for (int iter = 0; iter < 20000; iter++) {
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = (char)(rn(4) ? 'a' + rn(26) : rn(256));
        size_t k = rn(3);
        for (size_t i = 0; i < k; i++)
            buf[rn(sizeof(buf))] = rn(2) ? '"' : '\\';
        size_t from = rn(17), to = from + rn(sizeof(buf) - from + 1);
        const char *a = wn__json_find_special(buf + from, buf + to);
        const char *b = wn__json_find_special_ref(buf + from, buf + to);
        assert_ptr_equal(a, b);
        assert_ptr_equal(wn__json_find_special_sse2(buf + from, buf + to), b);
        const char *c = buf + from;
        while (c < buf + to && *c != '"' && *c != '\\')
            c++;
        assert_ptr_equal(a, c);
    }
}

static void test_escape_enomem(void **state)
{
    struct wn_buf b = {0};
    wn_alloc_fail_after(0);
    assert_int_equal(wn__json_escape(S("abc"), &b), WN_ENOMEM);
    wn_alloc_fail_after(-1);
    wn__buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_differential),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_find_special),
        cmocka_unit_test(test_escape_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
