/*
 * cms.h - a count-min sketch (Cormode and Muthukrishnan 2005) of how many
 * records hold each shingle: the boilerplate table of the news-quality rule.
 * A shingle that more than a limit of records hold (site headers, sign-offs,
 * "Blah blah blah", stock phrases) weighs nothing in candidates and in
 * similarity.
 *
 * depth rows of 2^log2_width saturating 16-bit counters. Plain update (every
 * row is incremented), not conservative update: the counts then do not
 * depend on the order of the adds, so per-thread sketches merged by
 * addition give the same table for any thread count (determinism), and a
 * streaming index can add new records to a saved table. An estimate is never
 * below the true count; with probability at least 1 - e^-depth it exceeds
 * it by at most e / width times the total number of adds (saturation at
 * 65535 aside, which only ever matters above any useful limit).
 *
 * Saved form (wn__cms_save): "WNCMS" 0 0 1 (magic and format version 1),
 * log2_width and depth as one byte each, six zero bytes, the total adds as
 * 8 bytes, then the counters, little-endian.
 *
 * Not thread-safe for concurrent adds; concurrent counts are fine.
 */
#ifndef WN_CMS_H
#define WN_CMS_H

#include "common/common.h"

#define WN_CMS_MAX_DEPTH      8U
#define WN_CMS_MAX_LOG2_WIDTH 28U

struct wn_cms {
    uint16_t *c; /* depth x width counters, row-major */
    unsigned log2_width;
    unsigned depth;
    uint64_t adds; /* total adds */
};

/* An empty sketch. WN_OK, WN_EINVAL (depth 0 or above the maxima, or
 * log2_width 0) or WN_ENOMEM; *s is untouched on error. */
WN_INTERNAL int wn__cms_init(struct wn_cms *s, unsigned log2_width,
                             unsigned depth);
WN_INTERNAL void wn__cms_release(struct wn_cms *s);

/* Count one more record holding the shingle of 64-bit hash h. */
WN_INTERNAL void wn__cms_add(struct wn_cms *s, uint64_t h);
/* wn__cms_add of h[0..n), the same table, with the cells' cache lines
 * fetched ahead (a table of a few MB misses the cache on nearly every add). */
WN_INTERNAL void wn__cms_add_many(struct wn_cms *s, const uint64_t *h,
                                  size_t n);
/* The estimated count of h: the minimum over the rows. */
WN_INTERNAL uint32_t wn__cms_count(const struct wn_cms *s, uint64_t h);
/* dst += src (saturating). Both must have the same shape: WN_EINVAL if not. */
WN_INTERNAL int wn__cms_merge(struct wn_cms *dst, const struct wn_cms *src);

/* Bytes of the saved form, and the saved form into buf (that many bytes). */
WN_INTERNAL size_t wn__cms_saved_size(const struct wn_cms *s);
WN_INTERNAL void wn__cms_save(const struct wn_cms *s, unsigned char *buf);
/* A sketch from its saved form of len bytes: WN_OK, WN_EFORMAT (bad magic,
 * version, shape or length) or WN_ENOMEM; *s untouched on error. */
WN_INTERNAL int wn__cms_load(struct wn_cms *s, const unsigned char *buf,
                             size_t len);

#endif
