/*
 * figures.h - the figures of a record (numbers, amounts, percentages, dates,
 * times) as a compact fingerprint beside its sketch, and their agreement.
 *
 * Two reports of one template (a weekly bill auction, a price snapshot, a
 * dividend notice) share their words and differ in their figures; a headline
 * flash and the story that follows share their figures and few word
 * 5-grams. The fingerprint lets the pair rule (lib/cluster/decide.h) tell
 * the cases apart without the texts.
 *
 * A figure is read from the raw UTF-8 text (ASCII digits only; other scripts'
 * digits are not figures):
 *   - a number: digits with single inner separators . , / : and an optional
 *     fraction tail -N/N ("5.63", "25,286", "12-1/2", "11:00", "6.0950/70");
 *     its canonical spelling drops thousands separators (a comma followed by
 *     exactly three digits), leading zeros and trailing decimal zeros, so
 *     "4.50" = "4.5" and "1,000" = "1000";
 *   - a date: an English month name or abbreviation followed by a day
 *     1-31 in digits or a number word one-twelve ("Apr 7" = "April seven");
 *     it is one figure, and its day is not also a number; an ISO date
 *     YYYY-MM-DD gives the year and the same date figure, so "2017-07-31"
 *     and "July 31, 2017" agree.
 * The fingerprint keeps the bottom-k (k = WN_FIG_MAX) of the distinct
 * figures' 32-bit hashes, sorted, and their exact count: for records of up
 * to k figures the comparison is exact; beyond, it is the bottom-k estimate
 * over the union (Broder 1997; Cohen and Kaplan 2007).
 *
 * Pure functions, no allocation, thread-safe. O(length) per record; the
 * fast extractor classifies 64 bytes per step (about 3x the reference).
 */
#ifndef WN_FIGURES_H
#define WN_FIGURES_H

#include "common/common.h"

/* Hashes kept per record: 16 x 4 + 4 = 68 bytes on disk, none in RAM. */
#define WN_FIG_MAX 16U

struct wn_figures {
    uint32_t h[WN_FIG_MAX]; /* the n smallest distinct hashes, ascending */
    uint16_t n;             /* hashes kept: min(count, WN_FIG_MAX) */
    uint16_t count;         /* distinct figures, saturating at 65535 */
};

/*
 * Read the figures of text[0..len) into *out (always written; a text with
 * no figure gives n = count = 0). text need not be NUL-terminated.
 */
WN_INTERNAL void wn__figures_extract(const char *text, size_t len,
                                     struct wn_figures *out);
/* The same fingerprint by the plain byte loop that defines it (the
 * reference the tests compare with). */
WN_INTERNAL void wn__figures_extract_ref(const char *text, size_t len,
                                         struct wn_figures *out);

/* The fast extractor with the given mask code (wn__figures_extract uses
 * AVX-512BW where the CPU has it, else SSE2, part of the x86-64 baseline,
 * where the compiler has it): 0 done, -1 if this build or CPU lacks it. An
 * AVX2 variant measured no faster (the visits of digit runs and words cost
 * more than the masks); the AVX-512 one compares the block and its copies
 * shifted by one and two bytes with the letters of the number words'
 * trigrams in mask registers, no letter mask stored (bench_news_sketch
 * figures: 0.050 -> 0.041 CPU s on 67 MB, the same sums). */
enum { WN_FIG_MASKS_PORTABLE, WN_FIG_MASKS_SSE2, WN_FIG_MASKS_AVX512 };
#define WN_FIG_MASKS_LAST WN_FIG_MASKS_AVX512
WN_INTERNAL int wn__figures_extract_variant(const char *text, size_t len,
                                            struct wn_figures *out,
                                            int variant);

/*
 * How the figures of two records compare, counted on the bottom-k sample of
 * their union (exact when both have at most WN_FIG_MAX figures).
 */
struct wn_fig_cmp {
    unsigned common; /* in both */
    unsigned only_a; /* in a only */
    unsigned only_b; /* in b only */
};

WN_INTERNAL void wn__figures_compare(const struct wn_figures *a,
                                     const struct wn_figures *b,
                                     struct wn_fig_cmp *out);

/*
 * The agreement of two records' figures, defined on their comparison c
 * (sample of the union of size u = common + only_a + only_b):
 *   WN_FIG_NONE      neither has a figure (no evidence either way);
 *   WN_FIG_EQUAL     the same figures;
 *   WN_FIG_A_IN_B    every figure of a is in b, b has more (a may be a flash,
 *                    a lead or a truncated copy of b); WN_FIG_B_IN_A likewise;
 *   WN_FIG_CLOSE     both have figures the other lacks, but few: the
 *                    replaced share min(only_a, only_b) / u is at most
 *                    max_conflict and u >= 1 / max_conflict (a corrected
 *                    figure in a long table, an edited re-filing);
 *   WN_FIG_CONFLICT  otherwise: figures replaced by other figures, the mark
 *                    of one template filled twice.
 * max_conflict is in [0, 1]; 0.1 is the measured default (docs/QUALITY.md).
 */
enum wn_fig_agreement {
    WN_FIG_NONE = 0,
    WN_FIG_EQUAL,
    WN_FIG_A_IN_B,
    WN_FIG_B_IN_A,
    WN_FIG_CLOSE,
    WN_FIG_CONFLICT,
};

WN_INTERNAL enum wn_fig_agreement
wn__fig_agreement_of(const struct wn_fig_cmp *c, double max_conflict);
/* wn__fig_agreement_of() of wn__figures_compare(a, b). */
WN_INTERNAL enum wn_fig_agreement wn__figures_agree(const struct wn_figures *a,
                                                    const struct wn_figures *b,
                                                    double max_conflict);

/* The agreement's name as written in removed.jsonl ("equal", "conflict"). */
WN_INTERNAL const char *wn__fig_agreement_name(enum wn_fig_agreement g);

#endif
