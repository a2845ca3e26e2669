/*
 * passages.h - internal interface of lib/passages: repeated spans found
 * with a suffix array (Lee et al. 2022), corpus-wide line and paragraph
 * counts (as in CCNet, Wenzek et al. 2020), and the repetition measures of
 * Gopher (Rae et al. 2021, Table A1).
 *
 * The pieces, bottom up:
 *  - token codes (vocab.c): every distinct normalized token gets a
 *    prefix-free byte code, frequent (early) tokens the shortest, so that a
 *    byte suffix array sorts token sequences and the corpus text it sorts is
 *    about a third of the input;
 *  - windows (suffix.c): per part of the coded corpus, libdivsufsort's
 *    suffix array groups every window of k tokens with its other
 *    occurrences;
 *  - the cross-part join (crosspart.c): when the corpus is split to bound
 *    memory, windows hashed into disk buckets meet their occurrences in
 *    other parts;
 *  - runs: the run frame (io/runframe.h: temporary directory, atomic
 *    outputs, standard input spooled for a second pass, rejected records,
 *    the thread pool) and job.c (rewritten records, cuts, line units);
 *  - the three commands' engines: passages.c, lines.c, repetition.c.
 */
#ifndef WN_PASSAGES_H
#define WN_PASSAGES_H

#include "common/common.h"
#include "io/runframe.h"

#include <stdio.h>

/* ------------------------------------------------------------------------ */
/* Token codes                                                               */
/* ------------------------------------------------------------------------ */

/*
 * The code of a token, by the first byte (ids in order of first
 * occurrence); the bytes after the first are base-255 digits, 0x00-0xFE:
 *   0x00-0x7F            1 byte   ids 0 .. 127
 *   0x80-0xBF + 1 digit  2 bytes  the next 64 * 255 ids
 *   0xC0-0xDF + 2 digits 3 bytes  the next 32 * 255^2 ids
 *   0xE0-0xEF + 3 digits 4 bytes  the next 16 * 255^3 ids
 *   0xF0-0xF7 + 4 digits 5 bytes  about 34 bits of a hash of the token:
 *                                 used once the vocabulary is full (below)
 *   0xFF                 1 byte   end of a document
 * No code is a prefix of another, so two token-aligned byte strings share
 * their first k tokens exactly when they share the bytes of those k codes;
 * and 0xFF occurs only as an end marker, so a document end inside a byte
 * range is found with memchr.
 */
#define WN_CODE_END 0xFFu
#define WN_CODE_MAX 5

/* Length of the code that starts with byte c (1 for WN_CODE_END). */
static inline unsigned wn__code_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c < 0xC0)
        return 2;
    if (c < 0xE0)
        return 3;
    if (c < 0xF0)
        return 4;
    return c == WN_CODE_END ? 1 : 5;
}

/*
 * The vocabulary: token bytes -> code, in an open-addressing table. It
 * holds at most max_bytes of memory; once full, tokens not yet in it get
 * hashed 5-byte codes, so two different rare tokens may share a code with
 * probability 2^-34 per pair (counted in wn_vocab.hashed).
 */
struct wn_vocab {
    uint64_t *slot;    /* hash high 32 bits << 32 | (id + 1); 0 empty */
    size_t mask;       /* slots - 1 */
    uint64_t *str_off; /* id -> offset of its bytes in str; n + 1 */
    size_t off_cap;
    struct wn_buf str; /* token bytes, back to back */
    uint64_t n;        /* ids given */
    uint64_t hashed;   /* tokens coded by hash (occurrences) */
    size_t max_bytes;
    uint64_t seed;
    bool full;
};

WN_INTERNAL void wn__vocab_init(struct wn_vocab *v, size_t max_bytes,
                                uint64_t seed);
WN_INTERNAL void wn__vocab_release(struct wn_vocab *v);
/* Bytes the vocabulary holds now. */
WN_INTERNAL size_t wn__vocab_bytes(const struct wn_vocab *v);

/*
 * Write the code of token s[0, len) to out (room for WN_CODE_MAX bytes)
 * and return its length, or WN_ENOMEM (the vocabulary is then unchanged).
 */
WN_INTERNAL int wn__vocab_code(struct wn_vocab *v, const char *s, size_t len,
                               unsigned char *out);

/* ------------------------------------------------------------------------ */
/* Windows: repeated runs of k tokens                                        */
/* ------------------------------------------------------------------------ */

/*
 * What is known about the window of k tokens starting at one token, packed
 * in 64 bits: 0 when the window does not occur elsewhere (or does not fit
 * in its document); otherwise the number of occurrences in the corpus
 * (capped at WN_WIN_COUNT_MAX) in the high 24 bits and, in the low 40 bits,
 * the global index of a partner occurrence: the first occurrence in corpus
 * order, or, for the first occurrence itself, the second.
 */
#define WN_WIN_TOK_BITS  40
#define WN_WIN_TOK_MASK  ((UINT64_C(1) << WN_WIN_TOK_BITS) - 1)
#define WN_WIN_COUNT_MAX ((UINT64_C(1) << (64 - WN_WIN_TOK_BITS)) - 1)

static inline uint64_t wn__win_pack(uint64_t count, uint64_t partner)
{
    if (count > WN_WIN_COUNT_MAX)
        count = WN_WIN_COUNT_MAX;
    return count << WN_WIN_TOK_BITS | partner;
}

static inline uint64_t wn__win_count(uint64_t w)
{
    return w >> WN_WIN_TOK_BITS;
}

static inline uint64_t wn__win_partner(uint64_t w)
{
    return w & WN_WIN_TOK_MASK;
}

/*
 * The windows of one part, in two steps so that the coded text and the
 * window entries are never in memory at the same time.
 *
 * wn__part_sort: text[0, n) is the coded text of whole documents, each
 * ending with WN_CODE_END, holding m token codes. Builds the suffix array
 * (libdivsufsort; 64-bit when n >= wn__sa64_min), keeps the suffixes that
 * start a token, in suffix order, and flags those whose first k tokens
 * equal those of the entry before: the occurrences of one window are then
 * exactly one flagged run. Also keeps a rank directory of the code starts
 * (3n / 16 bytes) to turn positions into token numbers. text is not kept.
 * Memory: 4 (or 8) bytes per text byte for the array, shrunk to 4 (8)
 * bytes per token on return. Time: suffix sorting, then O(n) plus the
 * common prefixes of neighbours, at most k codes each. WN_OK, WN_ENOMEM,
 * WN_ELIMIT (m >= 2^31) or WN_EINVAL (text not made of whole codes and
 * documents, or m wrong).
 *
 * wn__part_assign: sets win[0, m) (the caller's) from the runs: 0 for a
 * token whose window occurs once in the part, else the packed count and
 * partner, tokens numbered from tok_base. O(m).
 */
struct wn_part_sa {
    void *e; /* m entries, uint32_t, or uint64_t when big:
                position | same-as-previous flag in the top bit */
    size_t m;
    bool big;
    uint64_t *bits;   /* code starts */
    uint32_t *before; /* starts before each 64-bit word of bits */
};

WN_INTERNAL int wn__part_sort(const unsigned char *text, size_t n, size_t m,
                              uint32_t k, struct wn_part_sa *out);
WN_INTERNAL void wn__part_assign(const struct wn_part_sa *s, uint64_t tok_base,
                                 uint64_t *win);
WN_INTERNAL void wn__part_sa_release(struct wn_part_sa *s);

/* Both steps, for tests: win has m entries. */
WN_INTERNAL int wn__part_windows(const unsigned char *text, size_t n, size_t m,
                                 uint32_t k, uint64_t tok_base, uint64_t *win);

/* Peak bytes of the window stage of a part of n code bytes and m tokens,
 * counting the text and the window entries. */
WN_INTERNAL uint64_t wn__part_bytes(uint64_t n, uint64_t m);

/* Test hook: parts of at least this many bytes use the 64-bit suffix
 * sorter (default 2^31 - 1, the limit of the 32-bit one). */
WN_INTERNAL extern uint64_t wn__sa64_min;

/* The largest part, in code bytes, given to one suffix sort whatever the
 * memory budget (passages.c; tests lower it). */
WN_INTERNAL extern uint64_t wn__part_max_code;

/* ------------------------------------------------------------------------ */
/* The cross-part join                                                       */
/* ------------------------------------------------------------------------ */

/*
 * Windows of a corpus split into parts meet across parts here. For every
 * window of every part, wn__cross_add() hashes its code bytes (XXH3-128,
 * of which 88 bits are kept) and appends (hash, global token) to one of up
 * to 256 bucket files chosen by the hash. wn__cross_finish() then loads one
 * bucket at a time, sorts it by hash, and for every group of equal hashes
 * whose members lie in two or more parts rewrites the window entries of all
 * members (in the windows file, 8 bytes per global token) with the group's
 * corpus-wide count and partner. Groups within one part are left as the
 * suffix array found them. Memory: one bucket (16 bytes per window, twice
 * for the sort) and one chunk of rewrites, both sized from the budget.
 */
/* Threads that may add windows at the same time, each as its own writer
 * with its own bucket files, so that no write is shared. */
#define WN_CROSS_WRITERS 2

struct wn_cross {
    FILE **bucket; /* writer w's bucket b is bucket[w * nbuckets + b] */
    unsigned nbuckets, shift;
    FILE *fix; /* (token, window) rewrites */
    uint64_t budget;
    const uint64_t *part_tok; /* first global token of each part; nparts+1 */
    size_t nparts;
    struct wn_frame *frame; /* where the bucket files go */
    volatile int *cancel;
    uint64_t *starts[WN_CROSS_WRITERS]; /* code offsets of a document */
    size_t starts_cap[WN_CROSS_WRITERS];
    uint64_t cross_groups, cross_windows; /* statistics */
};

/* total_tokens sizes the buckets. part_tok is kept until _release. */
WN_INTERNAL int wn__cross_init(struct wn_cross *c, struct wn_frame *frame,
                               uint64_t budget, uint64_t total_tokens,
                               const uint64_t *part_tok, size_t nparts,
                               volatile int *cancel);
/* Add the windows of k tokens of one part (as for wn__part_sort), as
 * writer 0 .. WN_CROSS_WRITERS - 1; distinct writers may run at once. */
WN_INTERNAL int wn__cross_add(struct wn_cross *c, unsigned writer,
                              const unsigned char *text, size_t n, uint32_t k,
                              uint64_t tok_base);
/* Join and rewrite the windows file (descriptor win_fd), two buckets at a
 * time on the run's pool. */
WN_INTERNAL int wn__cross_finish(struct wn_cross *c, struct wn_pool *pool,
                                 int win_fd);
WN_INTERNAL void wn__cross_release(struct wn_cross *c);

/* ------------------------------------------------------------------------ */
/* Sorting                                                                   */
/* ------------------------------------------------------------------------ */

/* Sort v[0, n) ascending; LSD radix with a scratch array of n. */
WN_INTERNAL int wn__sort_u64(uint64_t *v, size_t n);

/* A 128-bit record sorted by a, then b. */
struct wn_pair64 {
    uint64_t a, b;
};

/* Sort by (a, b) ascending; stable radix on a with a scratch array of n,
 * then runs of equal a by b. */
WN_INTERNAL int wn__sort_pairs(struct wn_pair64 *v, size_t n);

/* ------------------------------------------------------------------------ */
/* Runs: the frame is io/runframe.h                                          */
/* ------------------------------------------------------------------------ */

/*
 * Write rec to o as a kept record, followed by '\n'. With text NULL the
 * record is unchanged: its raw bytes (a text file becomes {"id", "text"}).
 * Otherwise the text field's value is replaced by text[0, len), every other
 * byte of the raw record staying as it was. text_field names the field.
 */
WN_INTERNAL int wn__write_record(struct wn_outfile *o,
                                 const struct wn_record *rec,
                                 const char *text_field, const char *text,
                                 size_t len, struct wn_buf *scratch);

/* ------------------------------------------------------------------------ */
/* Cutting text                                                              */
/* ------------------------------------------------------------------------ */

/* A byte interval [start, end) of a text. */
struct wn_cut {
    size_t start, end;
};

/* Copy text without the sorted, disjoint cuts into out (replaced). */
WN_INTERNAL int wn__apply_cuts(const char *text, size_t len,
                               const struct wn_cut *cuts, size_t n,
                               struct wn_buf *out);

/*
 * Units of a text for line and paragraph statistics: a line is the bytes
 * between line feeds (without them); a paragraph is a maximal run of lines
 * that are not blank (only spaces, tabs, CR, form feeds). start/end are the
 * unit's bytes; next is where the following unit starts (or len).
 */
struct wn_unit_span {
    size_t start, end, next;
};

/* The lines (paragraph 0) or paragraphs (1) of text, blank lines skipped.
 * *v of *cap is grown as needed; returns the count or WN_ENOMEM. */
WN_INTERNAL long wn__split_units(const char *text, size_t len, int paragraph,
                                 struct wn_unit_span **v, size_t *cap);

/* ------------------------------------------------------------------------ */
/* Repetition measures                                                       */
/* ------------------------------------------------------------------------ */

/* Scratch for wn__repetition(): reused across documents. */
struct wn_rep_scratch {
    struct wn_tokens tok;
    struct wn_unit_span *units;
    size_t units_cap;
    uint64_t *h; /* per token or unit hashes */
    size_t h_cap;
    uint64_t *table; /* open addressing set */
    size_t table_cap;
    uint32_t *cp;  /* code points per token */
    uint8_t *mark; /* per token */
    size_t tok_cap;
};

WN_INTERNAL void wn__rep_scratch_release(struct wn_rep_scratch *s);
WN_INTERNAL int wn__repetition(const char *text, size_t len, int token_mode,
                               struct wn_rep_scratch *s,
                               struct wn_repetition *out);

#endif /* WN_PASSAGES_H */
