/*
 * charclass.c - the class of every code point as the tokenizer needs it:
 * word character or separator, combining mark, script written without
 * spaces, normalization boundary, already normalized (enum wn_cp_class).
 *
 * Everything is derived from utf8proc, the one source of Unicode data in
 * winnow, so that the fast paths of tokenize.c agree with utf8proc_map by
 * construction; tests/test_text.c checks the table against utf8proc for
 * every code point.
 *
 * The table is a memo: one byte per code point (1.1 MB of zeroed static
 * storage, of which only the pages of the scripts actually seen are ever
 * touched), filled on first use. It is the only process-wide state of
 * lib/text. Racing threads may compute the same entry twice; they store the
 * same byte, so relaxed atomics suffice and no lock or initialization call
 * is needed. Cost: O(1) per lookup, one utf8proc decomposition per distinct
 * code point per process.
 */
#include "text/text.h"

#include <assert.h>

_Atomic unsigned char wn__cp_memo[WN__CP_COUNT];

/*
 * Blocks whose word characters are one token each in word mode: Thai, Lao,
 * Myanmar and Khmer (written without spaces between words), Han with its
 * iteration and number marks, Hiragana, Katakana and Bopomofo. Blocks that
 * normalize away (half-width Katakana, compatibility ideographs, radicals)
 * are listed too, so that the class of a code point never depends on
 * whether it was normalized yet. Sorted, inclusive.
 */
static const int32_t nospace_blocks[][2] = {
    {0x0E00, 0x0E7F},   /* Thai */
    {0x0E80, 0x0EFF},   /* Lao */
    {0x1000, 0x109F},   /* Myanmar */
    {0x1780, 0x17FF},   /* Khmer */
    {0x19E0, 0x19FF},   /* Khmer Symbols */
    {0x2E80, 0x2FDF},   /* CJK Radicals Supplement, Kangxi Radicals */
    {0x3005, 0x3007},   /* ideographic iteration mark, closing mark, zero */
    {0x3021, 0x3029},   /* Hangzhou numerals */
    {0x3031, 0x3035},   /* kana repeat marks */
    {0x3038, 0x303C},   /* Han numerals and iteration marks */
    {0x3041, 0x30FF},   /* Hiragana, Katakana */
    {0x3105, 0x312F},   /* Bopomofo */
    {0x31A0, 0x31BF},   /* Bopomofo Extended */
    {0x31F0, 0x31FF},   /* Katakana Phonetic Extensions */
    {0x3400, 0x4DBF},   /* CJK Unified Ideographs Extension A */
    {0x4E00, 0x9FFF},   /* CJK Unified Ideographs */
    {0xA9E0, 0xA9FF},   /* Myanmar Extended-B */
    {0xAA60, 0xAA7F},   /* Myanmar Extended-A */
    {0xF900, 0xFAFF},   /* CJK Compatibility Ideographs */
    {0xFF66, 0xFF9F},   /* half-width Katakana */
    {0x1AFF0, 0x1B16F}, /* Kana Extended-A/B, Kana Supplement, small Kana */
    {0x20000, 0x3FFFF}, /* supplementary ideographic planes */
};

bool wn__cp_is_nospace_script(int32_t cp)
{
    size_t lo = 0, hi = WN_ARRAY_LEN(nospace_blocks);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < nospace_blocks[mid][0])
            hi = mid;
        else if (cp > nospace_blocks[mid][1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

/*
 * True when normalized text that begins with cp can be normalized apart
 * from the text before it. Canonical reordering never moves a character
 * across a starter, and composition only joins a starter with a later
 * character that is a "second" of a composition pair. In Unicode (checked
 * for all code points by the tests) every such second is a combining mark
 * or a conjoining Hangul vowel or trailing consonant; utf8proc composes
 * U+11A7 with an LV syllable as well.
 */
static bool starts_segment(int32_t cp)
{
    const utf8proc_property_t *pr = utf8proc_get_property(cp);
    if (pr->combining_class != 0)
        return false;
    switch (pr->category) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return false;
    default:
        break;
    }
    if (cp >= 0x1161 && cp <= 0x1175) /* Hangul jungseong (V) */
        return false;
    if (cp >= 0x11A7 && cp <= 0x11C2) /* Hangul jongseong (T) */
        return false;
    return true;
}

/* More than the longest NFKC_Casefold expansion of one code point (18). */
#define DECOMP_MAX 32

unsigned wn__cp_class_compute(int32_t cp)
{
    assert(cp >= 0 && cp < WN__CP_COUNT);
    unsigned c = WN__CP_KNOWN;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        c |= WN__CP_WORD;
        break;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        c |= WN__CP_WORD | WN__CP_MARK;
        break;
    default:
        break;
    }
    if ((c & WN__CP_WORD) && wn__cp_is_nospace_script(cp))
        c |= WN__CP_NOSPACE;

    /*
     * Decompose through utf8proc_decompose (not _decompose_char) so that
     * the expansion is canonically ordered exactly as in a whole string.
     * Surrogates fail to decode and get neither bit; default-ignorables
     * decompose to nothing and get neither bit either, which keeps them in
     * the segment of the character before them.
     */
    utf8proc_uint8_t u[4];
    utf8proc_ssize_t ulen = utf8proc_encode_char(cp, u);
    utf8proc_int32_t d[DECOMP_MAX];
    utf8proc_ssize_t n =
        utf8proc_decompose(u, ulen, d, DECOMP_MAX, WN__NFKC_CF_OPTIONS);
    if (n > 0 && n <= DECOMP_MAX) {
        if (starts_segment(d[0]))
            c |= WN__CP_BOUNDARY;
        n = utf8proc_normalize_utf32(d, n, WN__NFKC_CF_OPTIONS);
        if (n == 1 && d[0] == cp)
            c |= WN__CP_STABLE;
    }
    atomic_store_explicit(&wn__cp_memo[cp], (unsigned char)c,
                          memory_order_relaxed);
    return c;
}
