/*
 * cmocka_select.c - lets tests/run.sh run the tests of one cmocka binary in
 * several processes side by side, without a line changed in the test files.
 *
 * tests/meson.build compiles every tests/test_<module>.c with
 * -D_cmocka_run_group_tests=wn__test_run_group, so the group that main()
 * hands to cmocka_run_group_tests() comes here first (cmocka.h's macro
 * expands to _cmocka_run_group_tests, and the prototype it declares becomes
 * this function's). This file is built without that definition and calls
 * cmocka's own runner:
 *
 *  - no WN_TEST_LIST or WN_TEST_ONLY in the environment: the whole group, as
 *    cmocka runs it;
 *  - WN_TEST_LIST=1: the names of the group's tests, one a line, on
 *    standard output; nothing is run;
 *  - WN_TEST_ONLY=NAME[,NAME...]: those tests only, in the group's order,
 *    with the group's setup and teardown. A name the group does not have
 *    fails the run (status 1, a message on stderr): a test renamed or
 *    removed cannot drop silently out of a split suite.
 *
 * Each test of a group must therefore pass when run alone, which is what a
 * unit test promises anyway; the suite checks it on every run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

int wn__test_run_group(const char *group_name, const struct CMUnitTest *tests,
                       size_t num_tests, CMFixtureFunction group_setup,
                       CMFixtureFunction group_teardown);

/* Whether NAME is one of the comma-separated names of LIST. */
static int in_list(const char *list, const char *name)
{
    size_t len = strlen(name);
    const char *p = list;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && memcmp(p, name, n) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* Whether every name of LIST is a test of the group; names the first that is
 * not on stderr. */
static int all_known(const char *list, const struct CMUnitTest *tests,
                     size_t num_tests)
{
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        size_t i;
        for (i = 0; i < num_tests; i++) {
            if (strlen(tests[i].name) == n && memcmp(tests[i].name, p, n) == 0)
                break;
        }
        if (i == num_tests) {
            fprintf(stderr,
                    "WN_TEST_ONLY: no test named '%.*s' in this group\n",
                    (int)n, p);
            return 0;
        }
        if (!end)
            return 1;
        p = end + 1;
    }
}

int wn__test_run_group(const char *group_name,
                       const struct CMUnitTest *const tests, size_t num_tests,
                       CMFixtureFunction group_setup,
                       CMFixtureFunction group_teardown)
{
    const char *list = getenv("WN_TEST_LIST");
    const char *only = getenv("WN_TEST_ONLY");

    if (list && *list) {
        for (size_t i = 0; i < num_tests; i++)
            printf("%s\n", tests[i].name);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (!only)
        return _cmocka_run_group_tests(group_name, tests, num_tests,
                                       group_setup, group_teardown);
    if (!all_known(only, tests, num_tests))
        return 1;

    struct CMUnitTest *chosen = calloc(num_tests, sizeof(*chosen));
    if (!chosen) {
        fprintf(stderr, "WN_TEST_ONLY: out of memory\n");
        return 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < num_tests; i++) {
        if (in_list(only, tests[i].name))
            chosen[n++] = tests[i];
    }
    int st = _cmocka_run_group_tests(group_name, chosen, n, group_setup,
                                     group_teardown);
    free(chosen);
    return st;
}
