/*
 * json.c - the JSONL record scanner: validation of one JSON object per line
 * (RFC 8259) with extraction of a few top-level fields, plus string unescape
 * and escape.
 *
 * The scanner is an explicit state machine (value / key / after-value) over
 * a byte stack of open containers, so nesting depth costs one byte, not a C
 * stack frame, and is capped at WN_JSON_MAX_DEPTH. Time is O(len): each byte
 * is looked at a constant number of times. String bodies, which are most of
 * a news record, are skipped 64 bytes at a time (AVX-512BW where the CPU
 * has it; else 16 with SSE2, or 8 with portable word operations) looking
 * only for '"' and '\\'; the text field is decoded
 * in the same pass, so its escapes are visited once.
 *
 * Invariants: the scanner never reads outside buf[0..len); it never
 * allocates; it reports only members of the outermost object.
 */
#include "io/json.h"

#include <stdatomic.h>
#include <stdlib.h>

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_ws((unsigned char)*p))
        p++;
    return p;
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* fold to lower case */
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The value of four hex digits at p, or -1 (also when fewer than 4 remain). */
static long hex4(const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit((unsigned char)p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* Encode code point cp (at most 0x10FFFF, not a surrogate) at o. */
static int put_utf8(char *o, unsigned long cp)
{
    unsigned char *u = (unsigned char *)o;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | cp >> 18);
    u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* What each one-letter escape stands for; 0 where there is no such escape
 * (none of them stands for NUL). */
static const unsigned char simple_escape[256] = {
    ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
    ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t',
};

/*
 * Decode the escape sequence at p (p[0] is the backslash) into at most 4
 * bytes at o. Returns the number of bytes written and sets *used to the
 * number of input bytes consumed, or returns -1 for a malformed escape. An
 * escaped surrogate pair is decoded as one code point; a surrogate without
 * its partner becomes U+FFFD. The output is never longer than *used.
 */
static int decode_escape(const char *p, const char *end, char *o, size_t *used)
{
    if (end - p < 2)
        return -1;
    if (p[1] != 'u') {
        *o = (char)simple_escape[(unsigned char)p[1]];
        *used = 2;
        return *o ? 1 : -1;
    }
    long cp = hex4(p + 2, end);
    if (cp < 0)
        return -1;
    *used = 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo = -1;
        if (end - p >= 12 && p[6] == '\\' && p[7] == 'u')
            lo = hex4(p + 8, end);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            *used = 12;
        } else {
            cp = 0xFFFD;
        }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD;
    }
    return put_utf8(o, (unsigned long)cp);
}

/*
 * The first '"' or '\\' in [p, end), or end: the search that string
 * skipping and unescaping spend their time in. Portable version, eight bytes
 * at a time: a byte of v = x ^ pattern is zero where x matches, and
 * (v - 0x01..01) & ~v & 0x80..80 is nonzero exactly when some byte of v is
 * zero (borrows can only flag bytes above a true zero). A flagged word is
 * then searched bytewise.
 */
static inline const char *find_special_ref(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101U, highs = ones << 7;
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        if ((((q - ones) & ~q) | ((b - ones) & ~b)) & highs)
            break;
        p += 8;
    }
    while (p < end && *p != '"' && *p != '\\')
        p++;
    return p;
}

#if defined(__SSE2__)
#include <emmintrin.h>

/*
 * SSE2 version, 16 bytes per step. SSE2 is part of the x86-64 baseline, so
 * this needs no run-time dispatch; test_json compares it with the reference.
 */
static inline const char *find_special_sse2(const char *p, const char *end)
{
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)));
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
    return find_special_ref(p, end);
}
#else
#define find_special_sse2 find_special_ref
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_FIND_AVX512 1

/*
 * AVX-512BW version, 64 bytes per step and the tail by a masked load (the
 * bytes past end are not read): texts are long strings without escapes,
 * and the 16-byte steps were 2.5% of a dedup run. Chosen at run time
 * (json_simd); test_json compares it with the reference.
 */
__attribute__((target("avx512f,avx512bw"))) static const char *
find_special_avx512(const char *p, const char *end)
{
    const __m512i quote = _mm512_set1_epi8('"');
    const __m512i bslash = _mm512_set1_epi8('\\');
    while (end - p >= 64) {
        __m512i x = _mm512_loadu_si512(p);
        uint64_t m = _mm512_cmpeq_epi8_mask(x, quote) |
                     _mm512_cmpeq_epi8_mask(x, bslash);
        if (m)
            return p + __builtin_ctzll(m);
        p += 64;
    }
    if (p == end)
        return p;
    __mmask64 k = (1ULL << (end - p)) - 1;
    __m512i x = _mm512_maskz_loadu_epi8(k, p);
    uint64_t m =
        (_mm512_cmpeq_epi8_mask(x, quote) | _mm512_cmpeq_epi8_mask(x, bslash)) &
        k;
    return m ? p + __builtin_ctzll(m) : end;
}

/* 0 undecided, 1 no, 2 yes; every thread that decides stores the same
 * value. WINNOW_NO_SIMD=1 keeps SSE2, as for the other kernels. */
static _Atomic int json_simd;

static bool json_avx512(void)
{
    int v = atomic_load_explicit(&json_simd, memory_order_relaxed);
    if (v == 0) {
        const char *no = getenv("WINNOW_NO_SIMD");
        bool simd = !(no && *no && strcmp(no, "0") != 0);
        __builtin_cpu_init();
        simd = simd && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw");
        v = simd ? 2 : 1;
        atomic_store_explicit(&json_simd, v, memory_order_relaxed);
    }
    return v == 2;
}
#endif

static inline const char *find_special(const char *p, const char *end)
{
#ifdef HAVE_FIND_AVX512
    if (json_avx512())
        return find_special_avx512(p, end);
#endif
    return find_special_sse2(p, end);
}

const char *wn__json_find_special_sse2(const char *p, const char *end)
{
    return find_special_sse2(p, end);
}

const char *wn__json_find_special_ref(const char *p, const char *end)
{
    return find_special_ref(p, end);
}

const char *wn__json_find_special(const char *p, const char *end)
{
    return find_special(p, end);
}

/*
 * Skip a string body. p is just after the opening quote. Returns the
 * position of the closing quote, or NULL with *bad at the offending byte.
 * *escaped is set when the body holds a backslash. Raw control bytes and
 * ill-formed UTF-8 pass: that is the scanner's one leniency.
 *
 * With dst, an escaped body is also decoded into dst (*dst_len set) in the
 * same pass, which saves a second walk over the escapes; a body without
 * escapes is not copied. Decoding starts at the first backslash.
 */
static const char *scan_string(const char *p, const char *end, int *escaped,
                               char *dst, size_t *dst_len, const char **bad)
{
    const char *body = p;
    char *o = NULL; /* where decoded bytes go, once decoding has started */
    for (;;) {
        const char *q = find_special(p, end);
        if (o) {
            memcpy(o, p, (size_t)(q - p));
            o += q - p;
        }
        p = q;
        if (p == end) {
            *bad = end;
            return NULL;
        }
        if (*p == '"') {
            if (o)
                *dst_len = (size_t)(o - dst);
            return p;
        }
        *escaped = 1;
        if (p + 1 == end) {
            *bad = end;
            return NULL;
        }
        size_t n = 2;
        if (!simple_escape[(unsigned char)p[1]]) {
            if (p[1] != 'u') {
                *bad = p + 1;
                return NULL;
            }
            for (int i = 2; i < 6; i++) {
                if (p + i == end || hex_digit((unsigned char)p[i]) < 0) {
                    *bad = p + i;
                    return NULL;
                }
            }
            n = 6;
        }
        if (dst && !o) {
            memcpy(dst, body, (size_t)(p - body));
            o = dst + (p - body);
        }
        if (o) {
            /* Valid, so it decodes; a surrogate pair takes 12 bytes. */
            o += decode_escape(p, end, o, &n);
        }
        p += n;
    }
}

static const char *skip_digits(const char *p, const char *end)
{
    while (p < end && (unsigned)(*p - '0') < 10)
        p++;
    return p;
}

/* Skip a number per the RFC 8259 grammar; NULL with *bad on error. */
static const char *scan_number(const char *p, const char *end, const char **bad)
{
    if (*p == '-')
        p++;
    if (p < end && *p == '0') {
        p++; /* no leading zeros: "01" fails at the '1' later */
    } else if (p < end && (unsigned)(*p - '1') < 9) {
        p = skip_digits(p + 1, end);
    } else {
        *bad = p;
        return NULL;
    }
    if (p < end && *p == '.') {
        const char *d = skip_digits(p + 1, end);
        if (d == p + 1) {
            *bad = d;
            return NULL;
        }
        p = d;
    }
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const char *d = skip_digits(p, end);
        if (d == p) {
            *bad = d;
            return NULL;
        }
        p = d;
    }
    return p;
}

/* Compare an escaped key body with want, decoding as it goes. */
static bool escaped_key_equals(const char *s, size_t n, const char *want,
                               size_t wlen)
{
    const char *p = s, *end = s + n;
    size_t w = 0;
    while (p < end) {
        if (*p != '\\') {
            if (w == wlen || want[w] != *p)
                return false;
            w++;
            p++;
            continue;
        }
        char u[4];
        size_t used;
        int k = decode_escape(p, end, u, &used);
        if (k < 0 || wlen - w < (size_t)k ||
            memcmp(want + w, u, (size_t)k) != 0)
            return false;
        w += (size_t)k;
        p += used;
    }
    return w == wlen;
}

static struct wn_json_field *match_key(const char *s, size_t n, int escaped,
                                       struct wn_json_field *fields,
                                       size_t nfields)
{
    for (size_t i = 0; i < nfields; i++) {
        struct wn_json_field *f = &fields[i];
        if (escaped ? escaped_key_equals(s, n, f->key, f->key_len)
                    : n == f->key_len && memcmp(s, f->key, n) == 0)
            return f;
    }
    return NULL;
}

static int type_of(char first)
{
    switch (first) {
    case '"':
        return WN_JSON_STRING;
    case 'n':
        return WN_JSON_NULL;
    case '-':
        return WN_JSON_NUMBER;
    default:
        return (unsigned)(first - '0') < 10 ? WN_JSON_NUMBER : WN_JSON_OTHER;
    }
}

int wn__json_scan_object(const char *buf, size_t len,
                         struct wn_json_field *fields, size_t nfields,
                         size_t *err_off)
{
    /* Every path to fail sets bad; the initial value only keeps static
     * analysis from following impossible paths. */
    const char *p = buf, *end = buf + len, *bad = end;
    unsigned char is_object[WN_JSON_MAX_DEPTH]; /* per open container */
    size_t depth = 0;
    struct wn_json_field *cur = NULL; /* requested member being scanned */
    const char *vstart = NULL;
    int esc = 0;
    size_t dst_len = 0;

    for (size_t i = 0; i < nfields; i++)
        fields[i].type = WN_JSON_ABSENT;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    p = skip_ws(p, end);
    if (p == end || *p != '{') {
        bad = p;
        goto fail;
    }

value: /* p is at the first byte of a value; whitespace is skipped */
    if (p == end) {
        bad = p;
        goto fail;
    }
    if (depth == 1 && cur)
        vstart = p;
    switch (*p) {
    case '{':
    case '[':
        if (depth == WN_JSON_MAX_DEPTH) {
            bad = p;
            goto fail;
        }
        is_object[depth++] = *p == '{';
        p = skip_ws(p + 1, end);
        if (p < end && *p == (is_object[depth - 1] ? '}' : ']')) {
            p++;
            depth--;
            goto after_value;
        }
        if (is_object[depth - 1])
            goto key;
        goto value;
    case '"':
        esc = 0;
        p = scan_string(p + 1, end, &esc, depth == 1 && cur ? cur->dst : NULL,
                        &dst_len, &bad);
        if (!p)
            goto fail;
        p++;
        goto after_value;
    case 't':
    case 'f':
    case 'n': {
        const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
        size_t n = strlen(lit);
        for (size_t i = 0; i < n; i++) {
            if (p + i == end || p[i] != lit[i]) {
                bad = p + i;
                goto fail;
            }
        }
        p += n;
        goto after_value;
    }
    default:
        p = scan_number(p, end, &bad);
        if (!p)
            goto fail;
        goto after_value;
    }

key: /* p is where a member's key must start, inside an object */
    if (p == end || *p != '"') {
        bad = p;
        goto fail;
    }
    {
        int kesc = 0;
        const char *q = scan_string(p + 1, end, &kesc, NULL, NULL, &bad);
        if (!q)
            goto fail;
        if (depth == 1)
            cur = match_key(p + 1, (size_t)(q - p - 1), kesc, fields, nfields);
        p = skip_ws(q + 1, end);
    }
    if (p == end || *p != ':') {
        bad = p;
        goto fail;
    }
    p = skip_ws(p + 1, end);
    goto value;

after_value: /* a value ended just before p; depth is its container's */
    if (depth == 1 && cur) {
        cur->type = type_of(*vstart);
        cur->escaped = cur->type == WN_JSON_STRING && esc;
        if (cur->escaped)
            cur->dst_len = dst_len;
        cur->off = (size_t)(vstart - buf);
        cur->len = (size_t)(p - vstart);
        cur = NULL;
    }
    p = skip_ws(p, end);
    if (depth == 0) {
        if (p != end) {
            bad = p;
            goto fail;
        }
        return WN_OK;
    }
    if (p < end && *p == ',') {
        p = skip_ws(p + 1, end);
        if (is_object[depth - 1])
            goto key;
        goto value;
    }
    if (p < end && *p == (is_object[depth - 1] ? '}' : ']')) {
        p++;
        depth--;
        goto after_value;
    }
    bad = p;

fail:
    *err_off = (size_t)(bad - buf);
    return WN_EPARSE;
}

int wn__json_unescape(const char *tok, size_t len, char *out, size_t *out_len)
{
    if (len < 2 || tok[0] != '"' || tok[len - 1] != '"')
        return WN_EPARSE;
    const char *p = tok + 1, *end = tok + len - 1;
    char *o = out;
    while (p < end) {
        const char *q = find_special(p, end);
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        p = q;
        if (p == end)
            break;
        if (*p == '"')
            return WN_EPARSE; /* a quote inside the token */
        size_t used;
        int k = decode_escape(p, end, o, &used);
        if (k < 0)
            return WN_EPARSE;
        o += k;
        p += used;
    }
    *out_len = (size_t)(o - out);
    return WN_OK;
}

/*
 * Length of the UTF-8 sequence at p (Unicode 15, table 3-7). Sets *valid.
 * For an ill-formed sequence the length is that of its maximal subpart, so
 * that each subpart becomes one U+FFFD (the W3C/WHATWG practice).
 */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end,
                       bool *valid)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t need;
    *valid = false;
    if (c < 0x80) {
        *valid = true;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F; /* no encoded surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 1;
    }
    if (p + 1 >= end || p[1] < lo || p[1] > hi)
        return 1;
    for (size_t k = 2; k <= need; k++) {
        if (p + k >= end || (p[k] & 0xC0) != 0x80)
            return k;
    }
    *valid = true;
    return need + 1;
}

int wn__json_escape(const char *s, size_t len, struct wn_buf *out)
{
    static const char hex[] = "0123456789abcdef";
    if (len == 0) /* s may be NULL then */
        return wn__buf_append(out, "\"\"", 2);
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    int rc = wn__buf_reserve(out, len + 2);
    if (rc)
        return rc;
    out->data[out->len++] = '"';
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        bool valid = true;
        while (p < end && *p >= 0x80) {
            size_t n = utf8_seq(p, end, &valid);
            if (!valid)
                break;
            p += n;
        }
        if (p > run) {
            rc = wn__buf_append(out, run, (size_t)(p - run));
            if (rc)
                return rc;
        }
        if (p == end)
            break;
        if (!valid) {
            p += utf8_seq(p, end, &valid);
            rc = wn__buf_append(out, "\xEF\xBF\xBD", 3);
        } else if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p++};
            rc = wn__buf_append(out, e, 2);
        } else if (*p < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            p++;
            rc = wn__buf_append(out, e, 6);
        }
        if (rc)
            return rc;
    }
    return wn__buf_putc(out, '"');
}
