/*
 * json.h - a validating, non-allocating JSON object scanner for JSONL
 * records, and the string unescape/escape helpers that go with it.
 *
 * The scanner checks that a buffer is exactly one JSON object (RFC 8259) and
 * reports where the values of a few requested top-level keys are, without
 * building a tree: one pass, O(len) time, O(1) memory (a fixed stack of
 * WN_JSON_MAX_DEPTH bytes). It exists because a tree-building parser
 * allocates per value and dominates the cost of reading a corpus; see
 * bench/bench_json.c for the measured difference.
 *
 * Leniency, in exactly one respect: inside strings, raw control bytes
 * (< 0x20, e.g. the tabs of crawled pages) and ill-formed UTF-8 are accepted.
 * The tokenizer repairs the UTF-8 later. Everything else follows the RFC
 * grammar: numbers, escapes, literals, commas and nesting are checked in full.
 */
#ifndef WN_IO_JSON_H
#define WN_IO_JSON_H

#include "common/common.h"

/* Containers nested deeper than this fail with WN_EPARSE. */
#define WN_JSON_MAX_DEPTH 512

enum wn_json_type {
    WN_JSON_ABSENT = 0, /* the key does not occur */
    WN_JSON_STRING,
    WN_JSON_NUMBER,
    WN_JSON_NULL,
    WN_JSON_OTHER /* true, false, an object or an array */
};

/*
 * One requested top-level key. The caller fills key, key_len and optionally
 * dst; the scanner fills the rest. off and len are the raw token span in the
 * buffer (strings include their quotes); escaped is nonzero when a string
 * token contains a backslash, so that a caller can use the bytes between the
 * quotes as they are when it is zero.
 *
 * dst, when set, must have room for as many bytes as the buffer scanned:
 * an escaped string value is then decoded into it during the scan, as
 * wn__json_unescape would, and dst_len is set. That spares a second pass
 * over the escapes of long values such as the text of a record.
 */
struct wn_json_field {
    const char *key;
    size_t key_len;
    char *dst;
    int type; /* enum wn_json_type */
    int escaped;
    size_t off;
    size_t len;
    size_t dst_len; /* set when escaped and dst are */
};

/*
 * Validate that buf[0..len) is one JSON object, optionally preceded by a
 * UTF-8 byte order mark, with only JSON whitespace (space, tab, LF, CR)
 * around it. For every requested field, report its value at the top level;
 * when a key occurs more than once the last occurrence wins, as in most
 * parsers. Keys are compared after unescaping, so "te\u0078t" is "text".
 *
 * Returns WN_OK, or WN_EPARSE with *err_off set to the offset of the first
 * byte that cannot be part of a valid text (len for a premature end). On
 * error the field outputs are unspecified. Thread-safe.
 */
WN_INTERNAL int wn__json_scan_object(const char *buf, size_t len,
                                     struct wn_json_field *fields,
                                     size_t nfields, size_t *err_off);

/*
 * Decode a string token (with its quotes, as reported by the scanner) into
 * out, which must have room for len bytes: the result is never longer than
 * the token. Escaped surrogate pairs become one 4-byte UTF-8 sequence; a lone
 * surrogate becomes U+FFFD. \u0000 gives a NUL byte. Other bytes are copied
 * as they are. Returns WN_OK and sets *out_len, or WN_EPARSE when the token
 * is not a well-formed string (then out holds garbage).
 */
WN_INTERNAL int wn__json_unescape(const char *tok, size_t len, char *out,
                                  size_t *out_len);

/*
 * Append s[0..len) to out as a quoted JSON string: '"' and '\' are escaped,
 * control bytes become \u00XX, valid UTF-8 is kept as is and every maximal
 * ill-formed subsequence becomes U+FFFD, so the output is always valid JSON
 * and valid UTF-8. WN_OK or WN_ENOMEM (out then holds a partial string).
 */
WN_INTERNAL int wn__json_escape(const char *s, size_t len, struct wn_buf *out);

/*
 * The first '"' or '\\' in [p, end), or end. The scanner's inner search:
 * wn__json_find_special is the fastest version the CPU runs (AVX-512BW,
 * else SSE2 on x86-64), wn__json_find_special_sse2 the SSE2 one (the
 * portable one elsewhere), wn__json_find_special_ref the portable one.
 * Exposed so that tests can check that they agree.
 */
WN_INTERNAL const char *wn__json_find_special(const char *p, const char *end);
WN_INTERNAL const char *wn__json_find_special_sse2(const char *p,
                                                   const char *end);
WN_INTERNAL const char *wn__json_find_special_ref(const char *p,
                                                  const char *end);

#endif /* WN_IO_JSON_H */
