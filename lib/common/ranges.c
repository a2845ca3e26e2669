/*
 * ranges.c - the values the library accepts for each numeric option, by the
 * name the command-line tool gives the option, so that every front end (the
 * CLI, the Python binding) refuses a bad value before a run with the same
 * words: "--threshold must be in (0, 1)". The table is the one place these
 * limits are spelled out for users; the checks that enforce them live with
 * the code that needs them (named in each comment).
 */
#include "common.h"

#include <string.h>

#define U32_MAX_D 4294967295.0

static const struct wn_option_range ranges[] = {
    /* lib/lsh threshold check: the S-curve has no band at 0 or 1. */
    {NULL, "threshold", 0, 1, 1, 1, "in (0, 1)"},
    /* The dedup options check. */
    {NULL, "containment", 0, 1, 0, 0, "in [0, 1]"},
    /* WN_MINHASH_MAX_K. */
    {NULL, "num-perm", 1, 4096, 0, 0, "between 1 and 4096"},
    {"dedup", "ngram", 1, 64, 0, 0, "between 1 and 64"},
    {"similarity", "ngram", 1, U32_MAX_D, 0, 0, "at least 1"},
    /* One key per band; the dedup job has at most 256. */
    {"dedup", "bands", 1, 256, 0, 0, "between 1 and 256"},
    {NULL, "bands", 1, 4096, 0, 0, "between 1 and 4096"},
    {NULL, "rows", 1, 4096, 0, 0, "between 1 and 4096"},
    /* At most 16 bits apart: C(16 + 2, 2) = 153 keys. */
    {NULL, "hamming", 0, 16, 0, 0, "between 0 and 16"},
    {NULL, "fn-weight", 0, 1, 0, 0, "in [0, 1]"},
    /* A part holds fewer than 2^30 tokens (lib/passages/passages.c). */
    {"passages", "min-span", 1, 1073741823.0, 0, 0, "between 1 and 1073741823"},
    {NULL, "min-docs", 1, U32_MAX_D, 0, 0, "at least 1"},
    /* Byte offsets into a record are 32-bit. */
    {NULL, "max-record-bytes", 1, 4294967295.0, 0, 0, "between 1 and 4G - 1"},
    /* The repetition measures are fractions and 1 removes nothing; the
     * library takes any value >= 0, but above 1 is a slip (30 for 30%). */
    {"repeats", "max-*-frac", 0, 1, 0, 0, "in [0, 1]"},
};

/* name matches pattern, where a '*' stands for any text. */
static int name_matches(const char *pattern, const char *name)
{
    const char *star = strchr(pattern, '*');
    if (!star)
        return strcmp(pattern, name) == 0;
    size_t pre = (size_t)(star - pattern), post = strlen(star + 1);
    size_t n = strlen(name);
    return n >= pre + post && strncmp(pattern, name, pre) == 0 &&
           strcmp(star + 1, name + n - post) == 0;
}

const struct wn_option_range *wn_option_range(const char *cmd, const char *name)
{
    if (!cmd || !name)
        return NULL;
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        const struct wn_option_range *r = &ranges[i];
        if ((!r->cmd || strcmp(r->cmd, cmd) == 0) &&
            name_matches(r->name, name))
            return r;
    }
    return NULL;
}

int wn_option_in_range(const struct wn_option_range *r, double v)
{
    if (!r)
        return 1;
    return (r->lo_open ? v > r->lo : v >= r->lo) &&
           (r->hi_open ? v < r->hi : v <= r->hi);
}
