/*
 * test_report.c - report.html gathered during a dedup run
 * (wn_dedup_run_report) against the page `winnow report DIR` makes from
 * the run's files (wn_report_write): byte-identical when every record's
 * lines are counted, through both second passes (copy by offsets, read
 * again) and for any thread count; the line sample and what the page says
 * of it; the page in the manifest beside the outputs; nothing published by
 * a failed run; the allocation-failure sweep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"

static char tmp[64];

/* A corpus with clusters of several sizes, exact and near copies, shared
 * boilerplate lines and a record with markup. */
static void write_corpus(const char *path, int n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < n; i++) {
        int base = i % 23;
        fprintf(f,
                "{\"id\":\"d%d\",\"text\":\"Link copied\\nStory %d about "
                "the harbour <b>board</b> & the council",
                i, base);
        for (int w = 0; w < 60; w++)
            fprintf(f, " w%d", (base * 131 + w * 7) % 977);
        /* Some copies change a word: near duplicates. */
        if (i >= 23 && i % 3 == 0)
            fprintf(f, " extra%d", i);
        fprintf(f, "\\nComment (0)\\nsection %d\"}\n", i % 5);
    }
    fclose(f);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return s;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/wn_test_report_XXXXXX");
    assert_non_null(mkdtemp(tmp));
    char p[128];
    snprintf(p, sizeof(p), "%s/in.jsonl", tmp);
    write_corpus(p, 200);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* dedup --report into dir; returns the page. */
static char *run_report(const char *dir, unsigned threads,
                        const struct wn_report_options *ro, int *status)
{
    char in[128], out[128], page[160];
    snprintf(in, sizeof(in), "%s/in.jsonl", tmp);
    snprintf(out, sizeof(out), "%s/%s", tmp, dir);
    const char *inputs[] = {in};
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.threads = threads;
    o.no_fsync = 1;
    struct wn_dedup_report rep;
    *status = wn_dedup_run_report(inputs, 1, out, &o, ro, &rep);
    snprintf(page, sizeof(page), "%s/report.html", out);
    return slurp(page, NULL);
}

static char *file_report(const char *dir)
{
    char out[128], page[160];
    snprintf(out, sizeof(out), "%s/%s", tmp, dir);
    assert_int_equal(wn_report_write(out, NULL, NULL, 0), WN_OK);
    snprintf(page, sizeof(page), "%s/report.html", out);
    return slurp(page, NULL);
}

static void test_same_page_as_report_dir(void **state)
{
    (void)state;
    int rc;
    char *a = run_report("same", 2, NULL, &rc);
    assert_int_equal(rc, WN_OK);
    assert_non_null(a);
    /* The run found clusters, and the page shows them and the lines. */
    assert_non_null(strstr(a, "<section id=\"cluster-0\">"));
    assert_non_null(strstr(a, "Link copied"));
    assert_non_null(strstr(a, "<mark class=\"p0\""));
    assert_null(strstr(a, "text not found"));
    char *b = file_report("same");
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_read_pass_and_threads_agree(void **state)
{
    (void)state;
    int rc;
    char *a = run_report("t1", 1, NULL, &rc);
    assert_int_equal(rc, WN_OK);
    setenv("WINNOW_NO_COPY_RANGE", "1", 1);
    char *b = run_report("t2", 2, NULL, &rc);
    unsetenv("WINNOW_NO_COPY_RANGE");
    assert_int_equal(rc, WN_OK);
    assert_non_null(a);
    assert_non_null(b);
    /* The pages differ only in the run time and thread count rows. */
    char *sa = strstr(a, "<h2 id=\"similarities\">");
    char *sb = strstr(b, "<h2 id=\"similarities\">");
    assert_non_null(sa);
    assert_non_null(sb);
    assert_string_equal(sa, sb);
    free(a);
    free(b);
}

static void test_line_sample(void **state)
{
    (void)state;
    struct wn_report_options ro;
    wn_report_options_init(&ro);
    ro.line_sample_bytes = 4096; /* the corpus is about 100 KB */
    int rc;
    char *a = run_report("sample", 2, &ro, &rc);
    assert_int_equal(rc, WN_OK);
    assert_non_null(a);
    char in[128];
    snprintf(in, sizeof(in), "%s/in.jsonl", tmp);
    struct stat st;
    assert_int_equal(stat(in, &st), 0);
    unsigned long long k =
        ((unsigned long long)st.st_size + ro.line_sample_bytes - 1) /
        ro.line_sample_bytes;
    char want[200];
    snprintf(want, sizeof(want),
             "a deterministic sample of %llu of the 200 records of the "
             "inputs (kept and removed): one record in every %llu",
             (200 + k - 1) / k, k);
    assert_non_null(strstr(a, want));
    /* Every record holds "Link copied": the sample counts it in each. */
    snprintf(want, sizeof(want),
             "<tr><td class=\"n\">%llu</td><td>Link copied</td></tr>",
             (200 + k - 1) / k);
    assert_non_null(strstr(a, want));
    /* Deterministic. */
    char *b = run_report("sample", 1, &ro, &rc);
    assert_int_equal(rc, WN_OK);
    char *la = strstr(a, "<h2 id=\"lines\">"),
         *lb = strstr(b, "<h2 id=\"lines\">");
    assert_non_null(la);
    assert_non_null(lb);
    assert_string_equal(la, lb);
    free(a);
    free(b);
}

static bool manifest_has(const char *dir, const char *name)
{
    char p[160];
    snprintf(p, sizeof(p), "%s/%s/.winnow-outputs", tmp, dir);
    char *m = slurp(p, NULL);
    if (!m)
        return false;
    char want[64];
    snprintf(want, sizeof(want), "\n%s ", name);
    bool yes = strstr(m, want) != NULL;
    free(m);
    return yes;
}

static void test_manifest_and_failure(void **state)
{
    (void)state;
    int rc;
    char *a = run_report("man", 2, NULL, &rc);
    assert_int_equal(rc, WN_OK);
    free(a);
    assert_true(manifest_has("man", "report.html"));
    assert_true(manifest_has("man", "stats.json"));
    /* A run that fails publishes nothing: the inputs are checked first. */
    char out[128], page[160];
    snprintf(out, sizeof(out), "%s/fail", tmp);
    const char *missing[] = {"/nonexistent/winnow-report.jsonl"};
    struct wn_dedup_report rep;
    assert_int_equal(wn_dedup_run_report(missing, 1, out, NULL, NULL, &rep),
                     WN_EOPEN);
    snprintf(page, sizeof(page), "%s/report.html", out);
    assert_int_equal(access(page, F_OK), -1);
    /* winnow report DIR replaces the page and keeps it in the manifest, so
     * that a later dedup --report may replace it again. */
    free(file_report("man"));
    assert_true(manifest_has("man", "report.html"));
    a = run_report("man", 2, NULL, &rc);
    assert_int_equal(rc, WN_OK);
    free(a);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    int rc;
    char *ref = run_report("sweep", 1, NULL, &rc);
    assert_int_equal(rc, WN_OK);
    char *sref = strstr(ref, "<h2 id=\"similarities\">");
    assert_non_null(sref);
    int failed = 0;
    /* A run of this corpus makes about 1,500 allocations, the report's
     * last: sparsely through the run, densely near its end. */
    for (long n = 0; n < 1700; n += n < 1000 ? 100 : 11) {
        wn_alloc_fail_after(n);
        char *p = run_report("sweep", 1, NULL, &rc);
        wn_alloc_fail_after(-1);
        assert_true(rc == WN_OK || rc == WN_ENOMEM);
        if (rc == WN_ENOMEM) {
            failed++;
        } else {
            /* A page that was published is the whole page. */
            assert_non_null(p);
            char *s = strstr(p, "<h2 id=\"similarities\">");
            assert_non_null(s);
            assert_string_equal(s, sref);
        }
        free(p);
    }
    assert_true(failed > 0);
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_page_as_report_dir),
        cmocka_unit_test(test_read_pass_and_threads_agree),
        cmocka_unit_test(test_line_sample),
        cmocka_unit_test(test_manifest_and_failure),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
