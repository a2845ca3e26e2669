/*
 * report.h - the HTML report of a dedup run (html.c) and the bounded count
 * of frequent lines it shows (topline.c).
 */
#ifndef WN_REPORT_H
#define WN_REPORT_H

#include "common/common.h"

/*
 * Write outdir/report.html from a finished dedup run's outputs and inputs;
 * wn_report_write() is its public face, and `dedup --report` is to call it
 * when it publishes. See wn_report_write() in winnow.h.
 */
WN_INTERNAL int wn__report_write(const char *outdir,
                                 const struct wn_report_options *opts,
                                 char *error_path, size_t cap);

/*
 * Frequent lines across records, in bounded memory: the Misra-Gries summary
 * (Misra and Gries 1982) of the stream of (record, distinct line) pairs,
 * with `cap` counters. A line's identity is the 64-bit hash of its text
 * with ASCII letters case-folded and every run of characters that are
 * neither letters nor digits (ASCII punctuation, and the common Unicode
 * punctuation and symbols: bullets, dashes, quotes, arrows, emoji) made one
 * space; other characters are taken as they are, without normalization, so
 * the cost stays that of a byte scan. Lines with no letter or digit are
 * ignored. A counter keeps the first occurrence of its line, at
 * most WN__TOPLINE_TEXT bytes. A line held by c records has a count in
 * [c - rounds, c], rounds being the times every counter was decremented
 * (0 as long as no more than cap distinct lines were seen).
 */
#define WN__TOPLINE_TEXT 200

struct wn__topline_entry {
    uint64_t h;
    uint64_t count;
    uint32_t len;
    char text[WN__TOPLINE_TEXT];
};

/* A counter; its line's text is in the pool, at text. */
struct wn__topline_slot {
    uint64_t h;
    uint64_t count; /* 0: a free slot */
    uint32_t text;
};

struct wn__topline {
    struct wn__topline_slot *slot; /* 2 * cap slots */
    size_t cap, n;
    char (*pool)[WN__TOPLINE_TEXT]; /* cap texts */
    uint32_t *pool_len;
    uint32_t *pool_free; /* stack of free pool indexes */
    size_t nfree;
    uint64_t rounds;  /* decrements of every counter */
    uint64_t records; /* records added */
    uint64_t *scratch;
    size_t scratch_cap;
    struct wn_buf norm;
};

WN_INTERNAL int wn__topline_init(struct wn__topline *t, size_t cap);
WN_INTERNAL void wn__topline_release(struct wn__topline *t);
/* Count the distinct lines of one record's text. WN_OK or WN_ENOMEM. */
WN_INTERNAL int wn__topline_add(struct wn__topline *t, const char *text,
                                size_t len);
/* The k entries with the largest counts (ties: smaller hash first) into
 * out (k slots); returns how many were written. */
WN_INTERNAL size_t wn__topline_top(const struct wn__topline *t,
                                   struct wn__topline_entry *out, size_t k);

#endif /* WN_REPORT_H */
