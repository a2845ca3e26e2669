/*
 * text.h - internal interface of lib/text: the per-code-point classes that
 * drive normalization and tokenization, and the tokenizer entry point with
 * its test switches.
 *
 * Classes are a memo of a pure function of the code point, computed from
 * utf8proc on first use and stored in a process-wide byte table (see
 * charclass.c for why that is safe without locks).
 */
#ifndef WN_TEXT_TEXT_H
#define WN_TEXT_TEXT_H

#include "common/common.h"

#include <stdatomic.h>
#include <utf8proc.h>

/* The normalization of winnow: NFKC_Casefold as utf8proc implements it. */
#define WN__NFKC_CF_OPTIONS                                                    \
    (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |                    \
     UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)

/* Number of Unicode code points, U+0000..U+10FFFF. */
#define WN__CP_COUNT 0x110000

/*
 * Class bits of one code point. WN__CP_KNOWN is set in every computed entry,
 * so a zero byte in the memo means "not computed yet".
 */
enum wn_cp_class {
    /* General category L*, M* or N*: part of a token. */
    WN__CP_WORD = 0x01,
    /* General category M*: stays with the character before it. */
    WN__CP_MARK = 0x02,
    /* A word character of a script written without spaces between words:
     * one token per character in word mode. */
    WN__CP_NOSPACE = 0x04,
    /* Normalization may restart here: the normalized form of the text
     * before this code point does not depend on it. True when its
     * decomposition begins with a starter (combining class 0) that never
     * composes with what precedes it. */
    WN__CP_BOUNDARY = 0x08,
    /* NFKC_Casefold maps the code point alone to itself. */
    WN__CP_STABLE = 0x10,
    WN__CP_KNOWN = 0x80
};

WN_INTERNAL extern _Atomic unsigned char wn__cp_memo[WN__CP_COUNT];

/* Compute, store and return the class of cp (0 <= cp < WN__CP_COUNT). */
WN_INTERNAL unsigned wn__cp_class_compute(int32_t cp);

/* True for word characters of the scripts written without spaces. */
WN_INTERNAL bool wn__cp_is_nospace_script(int32_t cp);

/*
 * The class of cp. A relaxed load is enough: every thread that computes an
 * entry stores the same value, and a reader that sees 0 computes it again.
 */
static inline unsigned wn__cp_class(int32_t cp)
{
    unsigned c = atomic_load_explicit(&wn__cp_memo[cp], memory_order_relaxed);
    return c ? c : wn__cp_class_compute(cp);
}

/* Switches of wn__tokenize_ex for the differential tests. */
enum wn_tokenize_flags {
    /* Send every segment, ASCII included, through utf8proc. */
    WN__TOKENIZE_NO_FASTPATH = 1,
    /* Classify ASCII blocks with the portable SWAR loop even where the
     * AVX-512 one runs. */
    WN__TOKENIZE_NO_SIMD = 2
};

/* Whether the AVX-512BW loops of lib/text run here (the tokenizer's ASCII
 * blocks, the figures' masks): the CPU has AVX-512F and BW and
 * WINNOW_NO_SIMD=1 is not set, as for the sketch's kernels. */
WN_INTERNAL bool wn__text_avx512(void);

/* wn_tokenize() with flags (enum wn_tokenize_flags). */
WN_INTERNAL int wn__tokenize_ex(const char *text, size_t len, int mode,
                                unsigned flags, struct wn_tokens *t);

/*
 * The first point c in [from, len) where text may be cut for tokenizing,
 * or len when there is none: the tokens of text[0, len), their normalized
 * bytes and the count of ill-formed sequences are those of text[0, c)
 * followed by those of text[c, len) (tokenize.c says which points qualify;
 * tests/test_text.c checks the property). A large text is sketched in
 * pieces cut here (lib/dedup/sketcher.c). O(c - from).
 */
WN_INTERNAL size_t wn__tokenize_cut(const char *text, size_t len, size_t from);

#endif /* WN_TEXT_TEXT_H */
