/*
 * docno.c - the limit on document numbers in one process (common.h,
 * wn_docno): 2^32 - 2 documents with 32-bit numbers, 2^64 - 2 with the
 * build option wide_docs. wn_dedup_records_max() gives it to front ends,
 * which name the way past it when a run is refused (WN_ELIMIT).
 */
#include "common.h"

#include <stdlib.h>

uint64_t wn__docs_limit(void)
{
#ifdef WN_TEST_HOOKS
    /* -Dtest_hooks=true: WINNOW_TEST_DOCS_MAX=N refuses the N + 1st
     * record (tests/cli/test_wide.sh). */
    const char *env = getenv("WINNOW_TEST_DOCS_MAX");
    if (env && *env) {
        unsigned long long v = strtoull(env, NULL, 10);
        return v < WN_DOCS_MAX ? (uint64_t)v : WN_DOCS_MAX;
    }
#endif
    return WN_DOCS_MAX;
}

uint64_t wn_dedup_records_max(void)
{
    return wn__docs_limit();
}

int wn_dedup_docno_bits(void)
{
    return WN_DOCNO_BITS;
}
