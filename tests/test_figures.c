/*
 * test_figures.c - the fast figures extractor (lib/text/figures.c) against
 * the reference byte loop that defines the fingerprint.
 *
 * Every extractor must give the same struct wn_figures for every input:
 * wn__figures_extract_ref (the definition), wn__figures_extract (64-byte
 * masks, the best variant for this CPU) and each mask variant this build
 * runs (portable, SSE2). They are compared on fixed
 * cases with known fingerprints, on seeded random texts made of the pieces
 * figures are made of (digits, separators, month names, number words,
 * non-ASCII bytes) at every alignment to the 64-byte blocks, and on every
 * record of the shared corpora when ../shared/data is present.
 */
#include "common/common.h"
#include "text/figures.h"
#include "winnow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Compares the three extractors on text[0..len); returns the reference's
 * figure count. The text is copied to the end of a heap block so that a
 * read past len is caught by the sanitizer build. */
static unsigned check_same(const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, text, len);
    struct wn_figures r, f;
    wn__figures_extract_ref(copy, len, &r);
    /* The dispatched extractor, then every mask variant this CPU runs. */
    bool same = true;
    for (int v = -1; v <= WN_FIG_MASKS_LAST && same; v++) {
        memset(&f, 0x5a, sizeof(f));
        if (v < 0)
            wn__figures_extract(copy, len, &f);
        else if (wn__figures_extract_variant(copy, len, &f, v) != 0)
            continue;
        same = r.n == f.n && r.count == f.count &&
               memcmp(r.h, f.h, r.n * sizeof(r.h[0])) == 0;
        if (!same) {
            print_message("# variant %d differs on %zu bytes: '%.*s'\n", v, len,
                          (int)(len > 200 ? 200 : len), text);
            print_message("# ref n=%u count=%u, fast n=%u count=%u\n", r.n,
                          r.count, f.n, f.count);
        }
    }
    free(copy);
    assert_true(same);
    return r.count;
}

static unsigned count_of(const char *s)
{
    return check_same(s, strlen(s));
}

static void test_variants(void **state)
{
    (void)state;
    struct wn_figures f;
    int n = 0;
    for (int v = WN_FIG_MASKS_PORTABLE; v <= WN_FIG_MASKS_LAST; v++)
        if (wn__figures_extract_variant("x", 1, &f, v) == 0) {
            print_message("# mask variant %d runs here\n", v);
            n++;
        }
    assert_int_equal(wn__figures_extract_variant("x", 1, &f, 99), -1);
    assert_true(n >= 1);
}

static void test_fixed(void **state)
{
    (void)state;
    /* The number of distinct figures the definition gives. */
    assert_int_equal(count_of(""), 0);
    assert_int_equal(count_of("no figures here at all"), 0);
    assert_int_equal(count_of("4.50 and 4.5 and 4.500"), 1);
    assert_int_equal(count_of("1,000 equals 1000 but 1,00 does not"), 2);
    assert_int_equal(count_of("Apr 7, April seven, apr 07, APRIL 7"), 1);
    assert_int_equal(count_of("July 31, 2017 and 2017-07-31"), 2);
    assert_int_equal(count_of("May 031 and May 31 are one date"), 1);
    assert_int_equal(count_of("Sept 9 = September 9 = Sep nine"), 1);
    assert_int_equal(count_of("12-1/2 11:00 6.0950/70 25,286 5.63"), 5);
    assert_int_equal(count_of("March 32 is 32 and March"), 1);
    assert_int_equal(count_of("three 3 March, twelve 12 Dec twelve"), 4);
    /* A month word then a number word that is not a day, words that begin
     * like months or number words, non-ASCII letters next to them. */
    assert_int_equal(count_of("Mayor seven, Marches 5, mar\xc3\xa9 5, "
                              "Decembers two, Jan\xc3\xa9 4"),
                     2);
    assert_int_equal(count_of("2017-13-01 2017-1-1 20170-01-01"), 5);
    assert_int_equal(count_of("abc123def 5th 7x Q3"), 4);
    /* Digit runs longer than the canonical buffer (48) and a block: all
     * three numbers are cut to the same first 48 digits. */
    assert_int_equal(count_of("x 000000000000000000000000000000000000000000000"
                              "0000000000000000 and 0 y"),
                     1);
    assert_int_equal(
        count_of("1234567890123456789012345678901234567890123456789012 and "
                 "123456789012345678901234567890123456789012345678 and "
                 "12345678901234567890123456789012345678901234567890123456789"
                 "0123456789"),
        1);
    /* Figures, words and runs across the 64-byte blocks. */
    char buf[512];
    for (size_t k = 0; k < 140; k++) {
        memset(buf, ' ', k);
        const char *tail =
            "January 12 and 3,456,789.120 then "
            "Xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxx March eleven 99";
        size_t n = strlen(tail);
        memcpy(buf + k, tail, n);
        assert_int_equal(check_same(buf, k + n), 4);
        /* The same with the text cut at every length. */
        for (size_t cut = 0; cut <= k + n; cut += 7)
            check_same(buf, cut);
    }
}

static const char *const pieces[] = {
    "Jan",     "january",  "Feb",
    "march",   "MAY",      "Jun",
    "july",    "aug",      "Sept",
    "sep",     "october",  "Nov",
    "dec",     "December", "one",
    "two",     "three",    "Four",
    "five",    "six",      "seven",
    "eight",   "nine",     "ten",
    "eleven",  "twelve",   "the",
    "market",  "mayor",    "tense",
    "seventy", "\xc3\xa9", "\xe2\x80\x94",
    "said",    "x",        "0",
    "1",       "7",        "12",
    "31",      "32",       "031",
    "2017",    "1987",     "00",
    "4.50",    "1,000",    "1,00",
    "12-1/2",  "11:30",    "6.0950/70",
    "-",       "/",        ":",
    ".",       ",",        " ",
    " ",       " ",        "  ",
    "\n",      "(",        "%",
};

static void test_random(void **state)
{
    (void)state;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    char buf[1024];
    unsigned with = 0;
    for (unsigned it = 0; it < 40000; it++) {
        size_t len = 0;
        size_t want = (size_t)(rng_next(&seed) % 400);
        while (len < want) {
            const char *p = pieces[rng_next(&seed) % WN_ARRAY_LEN(pieces)];
            size_t n = strlen(p);
            if (len + n > sizeof(buf))
                break;
            memcpy(buf + len, p, n);
            len += n;
        }
        /* Now and then a random byte, then every alignment of a short
         * prefix. */
        if (len && (it & 3) == 0)
            buf[rng_next(&seed) % len] = (char)rng_next(&seed);
        with += check_same(buf, len) > 0;
        if ((it & 255) == 0)
            for (size_t off = 1; off < 70 && off < len; off++)
                check_same(buf + off, len - off);
    }
    /* The generator makes figures: the comparison is not of empty sets. */
    assert_true(with > 30000);
}

/* Targeted: uniformly random bytes; number words in every case mix, with
 * letters, digits and non-ASCII bytes next to them, at every offset around
 * the 64-byte block edges and at the end of the text; words that only
 * begin like number words ("eleventh"). */
static void test_edges(void **state)
{
    (void)state;
    uint64_t seed = 0xD1B54A32D192ED03ULL;
    char buf[400];
    /* Random bytes, every length up to 300. */
    for (unsigned it = 0; it < 20000; it++) {
        size_t len = (size_t)(rng_next(&seed) % 300);
        for (size_t k = 0; k < len; k++)
            buf[k] = (char)rng_next(&seed);
        check_same(buf, len);
    }
    static const char *const words[] = {
        "one",    "ONE",    "One",      "oNe",    "two",     "twO",
        "ThReE",  "three",  "four",     "fIvE",   "six",     "SIX",
        "seven",  "eight",  "nine",     "ten",    "TEN",     "eleven",
        "ELEVEN", "twelve", "eleventh", "tenth",  "ones",    "twelves",
        "thre",   "on",     "tw",       "sevens", "elevens", "nine9"};
    static const char *const before[] = {
        "May ",    "may ", "MAY ", "December ", "Sept ", "x ",    "",     "5 ",
        "may\xc3", "\xc3", "a",    "3",         "May\n", "June,", "jan  "};
    static const char *const after[] = {"",  " ", "s",  "\xa9", "9",
                                        "x", ".", " 5", "-",    "E"};
    for (size_t w = 0; w < WN_ARRAY_LEN(words); w++)
        for (size_t b = 0; b < WN_ARRAY_LEN(before); b++)
            for (size_t a = 0; a < WN_ARRAY_LEN(after); a++) {
                char t[64];
                int n = snprintf(t, sizeof(t), "%s%s%s", before[b], words[w],
                                 after[a]);
                assert_true(n > 0 && (size_t)n < sizeof(t));
                /* The word starting 6 bytes before a block edge to 6
                 * after, in the first and the second block, with filler
                 * of letters, digits or spaces before it. */
                for (size_t at = 52; at < 140; at++) {
                    if (at > 76 && at < 122)
                        continue;
                    size_t start = at - strlen(before[b]);
                    char fill = "a 7\xe9"[(w + b + a + at) % 4];
                    memset(buf, fill, start);
                    if (start)
                        buf[start - 1] = ' ';
                    memcpy(buf + start, t, (size_t)n);
                    /* At the end of the text, and followed by more. */
                    check_same(buf, start + (size_t)n);
                    memcpy(buf + start + (size_t)n, " 12 x", 5);
                    check_same(buf, start + (size_t)n + 5);
                }
            }
}

static const char *shared_dir(void)
{
    static char dir[4096];
    const char *env = getenv("WN_SHARED");
    const char *dirs[] = {env ? env : "", WN_SOURCE_ROOT "/../shared",
                          "/work/shared"};
    for (size_t d = 0; d < 3; d++) {
        snprintf(dir, sizeof(dir), "%s/data", dirs[d]);
        if (dirs[d][0] && access(dir, R_OK) == 0)
            return dir;
    }
    return NULL;
}

static void test_shared_corpora(void **state)
{
    (void)state;
    const char *dir = shared_dir();
    if (!dir) {
        print_message("# ../shared/data not found: skipped\n");
        skip();
    }
    const char *sets[] = {
        "reuters21578", "bbc_news",         "minhash_articles",
        "20newsgroups", "gutenberg_sample", "kowiki_sample",
        "msrp",         "clough_plagiarism"};
    size_t total = 0;
    for (size_t k = 0; k < WN_ARRAY_LEN(sets); k++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s/docs.jsonl.zst", dir, sets[k]);
        if (access(path, R_OK) != 0) {
            print_message("# %s: absent, skipped\n", sets[k]);
            continue;
        }
        const char *paths[] = {path};
        struct wn_reader *r = NULL;
        assert_int_equal(wn_reader_create(paths, 1, NULL, &r, NULL), WN_OK);
        struct wn_record rec;
        size_t n = 0, with = 0;
        int rc = 0;
        /* Under ASan the first 2,000 records of each corpus (the release
         * build reads them all). */
        size_t cap = WN_SANITIZED ? 2000 : SIZE_MAX;
        while (n < cap && (rc = wn_reader_next(r, &rec)) == 1) {
            if (rec.status != WN_OK)
                continue;
            with += check_same(rec.text, rec.text_len) > 0;
            n++;
        }
        if (n == cap)
            rc = 0;
        assert_int_equal(rc, 0);
        wn_reader_free(r);
        print_message("# %s: %zu records, %zu with figures, same fingerprint\n",
                      sets[k], n, with);
        assert_true(n > 0);
        total += n;
    }
    assert_true(total > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variants),       cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_random),         cmocka_unit_test(test_edges),
        cmocka_unit_test(test_shared_corpora),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
