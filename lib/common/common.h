/*
 * common.h - internal helpers shared by every layer of libwinnow: checked
 * allocation (with a failure-injection hook for the allocation sweep tests),
 * growable byte buffers and a few arithmetic helpers. Depends on nothing but
 * libc and include/winnow.h.
 */
#ifndef WN_COMMON_H
#define WN_COMMON_H

#include "winnow.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WN_INTERNAL __attribute__((visibility("hidden")))

/* Built with AddressSanitizer (gcc or clang): the unit tests bound their
 * largest real-data loops there (tests/run.sh build-san), which the
 * release build runs in full. */
#if defined(__SANITIZE_ADDRESS__)
#define WN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WN_SANITIZED 1
#endif
#endif
#ifndef WN_SANITIZED
#define WN_SANITIZED 0
#endif

#define WN_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define WN_MAX(a, b)    ((a) > (b) ? (a) : (b))
#define WN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Allocation. Every allocation in the library goes through these so that a
 * test can make the Nth one fail (wn_alloc_fail_after, a public test hook in
 * winnow.h). They return NULL on failure like the libc functions.
 */
WN_INTERNAL void *wn__malloc(size_t n);
WN_INTERNAL void *wn__calloc(size_t n, size_t size);
WN_INTERNAL void *wn__realloc(void *p, size_t n);
/* realloc of n * size elements with overflow check. */
WN_INTERNAL void *wn__reallocarray(void *p, size_t n, size_t size);
WN_INTERNAL char *wn__strdup(const char *s);
WN_INTERNAL char *wn__strndup(const char *s, size_t n);
WN_INTERNAL void wn__free(void *p);

/*
 * A growable byte buffer in the caller's storage. Zero-initialized is a valid
 * empty buffer. data is not NUL-terminated unless the caller appends one.
 */
struct wn_buf {
    char *data;
    size_t len;
    size_t cap;
};

/* Make room for at least extra more bytes. WN_OK or WN_ENOMEM. */
WN_INTERNAL int wn__buf_reserve(struct wn_buf *b, size_t extra);
WN_INTERNAL int wn__buf_append(struct wn_buf *b, const void *p, size_t n);
/* Append a string literal. */
#define WN_BUF_LIT(b, lit) wn__buf_append((b), (lit), sizeof(lit) - 1)
WN_INTERNAL int wn__buf_putc(struct wn_buf *b, char c);
/* printf-style append. */
WN_INTERNAL int wn__buf_printf(struct wn_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
WN_INTERNAL void wn__buf_release(struct wn_buf *b);

/*
 * Grow an array *p of *cap elements of size sz so that it holds at least
 * need elements (amortized doubling). WN_OK or WN_ENOMEM; *p and *cap are
 * unchanged on failure.
 */
WN_INTERNAL int wn__grow(void **p, size_t *cap, size_t need, size_t sz);

/* Shrink block p to n bytes (at least 1): the shrunk block, or p itself
 * when it cannot be moved. Never fails, never frees p. */
WN_INTERNAL void *wn__shrink(void *p, size_t n);

#define WN_GROW(arr, cap, need)                                                \
    wn__grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/*
 * A document's number in a run (its place among the accepted records, in
 * input order): 32 bits by default, 64 with the build option wide_docs
 * (meson -Dwide_docs=true defines WN_WIDE_DOCS). Every array, pair, spill
 * file and MPI message that holds document numbers uses this type, so the
 * width is chosen in this one place; docs/SCALING.md gives the cost.
 *
 * A pair of documents a < b is packed as a << WN_DOCNO_BITS | b in a
 * wn_docpair, so that pairs sort by (a, b) as integers (64 bits, or the
 * compiler's unsigned __int128 in a wide build).
 *
 * Numbers are [0, WN_DOCS_MAX): WN_DOCNO_NONE marks "no document", and a
 * count of documents fits the type too.
 */
#ifdef WN_WIDE_DOCS
typedef uint64_t wn_docno;
typedef unsigned __int128 wn_docpair;
#define WN_DOCNO_BITS 64
#else
typedef uint32_t wn_docno;
typedef uint64_t wn_docpair;
#define WN_DOCNO_BITS 32
#endif
#define WN_DOCNO_NONE ((wn_docno)-1)
#define WN_DOCS_MAX   ((uint64_t)WN_DOCNO_NONE - 1)

static inline wn_docpair wn__pair(wn_docno a, wn_docno b)
{
    return (wn_docpair)a << WN_DOCNO_BITS | b;
}

static inline wn_docno wn__pair_a(wn_docpair p)
{
    return (wn_docno)(p >> WN_DOCNO_BITS);
}

static inline wn_docno wn__pair_b(wn_docpair p)
{
    return (wn_docno)p;
}

/* The most documents one process numbers (docno.c): WN_DOCS_MAX, or in a
 * -Dtest_hooks=true build the value of WINNOW_TEST_DOCS_MAX when set, so
 * that a test meets the refusal without 4 billion records. */
WN_INTERNAL uint64_t wn__docs_limit(void);

/* Little-endian stores and loads for saved files. */
static inline void wn__put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t wn__get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline void wn__put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t wn__get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

#endif /* WN_COMMON_H */
