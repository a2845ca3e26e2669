/*
 * report.h - the HTML report of a dedup run (html.c) and the bounded count
 * of frequent lines it shows (topline.c).
 */
#ifndef WN_REPORT_H
#define WN_REPORT_H

#include "common/common.h"

#include <stdio.h>

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

/* ------------------------------------------------------------------------ */
/* The page (html.c), filled from a finished run's files (wn_report_write)   */
/* or during the run (gather.c, wn_dedup_run_report)                          */
/* ------------------------------------------------------------------------ */

#define WN__REPORT_SIM_BINS  50
#define WN__REPORT_SIZE_BINS 33 /* 2, 3-4, 5-8, ..., by powers of two */
#define WN__REPORT_REASONS   3  /* exact, near, contained */
#define WN__REPORT_TEXT_MAX  ((size_t)4 << 20) /* of a sampled text kept */

struct wn__report_big {
    uint64_t cluster, size;
    char *rep;
    char *members; /* a preview, comma-separated; NULL until filled */
};

struct wn__report_pair {
    uint64_t cluster;
    char *id, *rep;
    double similarity;
    char reason[16];
    struct wn_explanation *x;
};

struct wn__report_sampled {
    uint64_t cluster, size;
    char *rep;
    uint64_t rep_doc; /* during a run: the representative's number */
    size_t npairs;
};

/* A sampled record's text: s is NULL until it is found. */
struct wn__report_text {
    char *id;
    size_t id_len;
    uint64_t doc; /* during a run: the record's number, or UINT64_MAX */
    char *s;
    size_t len, full_len;
};

struct wn__report {
    const struct wn_report_options *o;
    void *stats;        /* json_t: stats.json of the run */
    uint64_t nclusters; /* from stats.json */
    uint64_t every;     /* sample stride */
    uint64_t size_bins[WN__REPORT_SIZE_BINS];
    uint64_t sim_bins[WN__REPORT_REASONS][WN__REPORT_SIM_BINS];
    uint64_t removed_lines;
    struct wn__report_big *big;
    size_t nbig;
    struct wn__report_sampled *smp;
    size_t nsmp;
    struct wn__report_pair *pairs;
    size_t npairs, paircap;
    struct wn__report_text *texts;
    size_t ntexts, textcap;
    struct wn__topline lines;
    uint64_t records_used; /* accepted records of the inputs */
    /* Frequent lines counted over every lines_stride-th record only (1:
     * every record); lines_thinned when the stride grew during the run. */
    uint64_t lines_stride;
    bool lines_thinned;
};

/* Set up r for nclusters clusters (sample stride, arrays). opts is
 * borrowed. WN_OK or WN_ENOMEM; wn__report_release() is due either way. */
WN_INTERNAL int wn__report_init(struct wn__report *r,
                                const struct wn_report_options *opts,
                                uint64_t nclusters);
WN_INTERNAL void wn__report_release(struct wn__report *r);
/* The number of clusters, which sets the sample stride (before the first
 * wn__report_cluster). */
WN_INTERNAL void wn__report_set_clusters(struct wn__report *r,
                                         uint64_t nclusters);

/* Cluster c of size members, in cluster order: the size histogram, the
 * largest clusters (members: a preview, or NULL to be filled later with
 * wn__report_preview_add), the sample. *sampled, when not NULL, is set to
 * the sample entry made for c or NULL. rep is copied. */
WN_INTERNAL int wn__report_cluster(struct wn__report *r, uint64_t c,
                                   uint64_t size, const char *rep,
                                   const char *members,
                                   struct wn__report_sampled **sampled);
/* Append an id to a members preview as the page shows it; *full is set
 * when the preview is complete. */
WN_INTERNAL int wn__report_preview_add(struct wn_buf *b, const char *id,
                                       bool *full);
/* A removed record, in input order: the similarity histogram and the
 * sampled pairs. *pair, when not NULL, is set to the pair made or NULL. */
WN_INTERNAL int wn__report_removed(struct wn__report *r, uint64_t cluster,
                                   const char *id, const char *rep,
                                   double similarity, const char *reason,
                                   struct wn__report_pair **pair);
/* The text entry of id (made when absent), or NULL when out of memory. */
WN_INTERNAL struct wn__report_text *wn__report_want_text(struct wn__report *r,
                                                         const char *id);
WN_INTERNAL struct wn__report_text *
wn__report_find_text(struct wn__report *r, const char *id, size_t len);
/* Keep text as t's (at most WN__REPORT_TEXT_MAX bytes of it). */
WN_INTERNAL int wn__report_set_text(struct wn__report_text *t, const char *text,
                                    size_t len);
/* Align every sampled pair whose texts were found, with the options
 * stats.json records. */
WN_INTERNAL int wn__report_align(struct wn__report *r);
/* Write the page to f. */
WN_INTERNAL int wn__report_page(struct wn__report *r, FILE *f);

#endif /* WN_REPORT_H */
