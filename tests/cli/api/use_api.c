/*
 * use_api.c - a user program of the installed API: only winnow.h, linked
 * with -lwinnow. Deduplicates a small corpus and checks the report, then
 * does the same with the stages: a sketcher and its verifier on two texts,
 * and the in-memory job with a fate callback.
 */
#include <winnow.h>

#include <stdio.h>
#include <string.h>

static int print_fate(void *ud, const struct wn_fate *f)
{
    (void)ud;
    printf("fate %.*s %s", (int)f->id_len, f->id,
           f->removed ? "removed" : "kept");
    if (f->removed)
        printf(" duplicate_of %.*s reason %s", (int)f->duplicate_of_len,
               f->duplicate_of, wn_reason_name(f->reason));
    printf("\n");
    return 0;
}

/* The stages: 0 when they agree with the batch run. */
static int stages(void)
{
    const char *a = "alpha beta gamma delta epsilon zeta";
    const char *b = "Alpha beta, gamma delta epsilon zeta!";
    struct wn_sketcher *sk = NULL;
    struct wn_sketch *sa = NULL, *sb = NULL;
    int rc = wn_sketcher_create(NULL, &sk);
    if (!rc)
        rc = wn_sketch_create(sk, &sa);
    if (!rc)
        rc = wn_sketch_create(sk, &sb);
    if (!rc)
        rc = wn_sketcher_sketch(sk, a, strlen(a), sa);
    if (!rc)
        rc = wn_sketcher_sketch(sk, b, strlen(b), sb);
    struct wn_verdict v;
    if (!rc)
        rc = wn_sketcher_compare(sk, sa, sb, &v);
    if (!rc)
        printf("verdict same %d reason %s\n", v.same, wn_reason_name(v.reason));
    wn_sketch_free(sa);
    wn_sketch_free(sb);
    wn_sketcher_free(sk);
    struct wn_dedup_job *job = NULL;
    if (!rc)
        rc = wn_dedup_job_create(NULL, &job);
    struct wn_dedup_record r1 = {"1", 1, a, strlen(a), 0, 0};
    struct wn_dedup_record r2 = {"2", 1, b, strlen(b), 0, 0};
    if (!rc)
        rc = wn_dedup_job_add(job, &r1);
    if (!rc)
        rc = wn_dedup_job_add(job, &r2);
    if (!rc)
        rc = wn_dedup_job_finish(job, print_fate, NULL, NULL);
    wn_dedup_job_free(job);
    if (rc)
        fprintf(stderr, "stages: %s\n", wn_strerror(rc));
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    o.threads = 2;
    struct wn_dedup_report rep;
    const char *in[] = {argv[1]};
    int rc = wn_dedup_run(in, 1, argv[2], &o, &rep);
    if (rc) {
        fprintf(stderr, "wn_dedup_run: %s\n", wn_strerror(rc));
        return 1;
    }
    printf("%s read %llu kept %llu removed %llu rejected %llu\n",
           wn_version_string(), (unsigned long long)rep.read,
           (unsigned long long)rep.kept, (unsigned long long)rep.removed,
           (unsigned long long)rep.rejected);
    struct wn_similarity s;
    const char *a = "one two three four five six", *b = "one two three four";
    rc = wn_text_similarity(a, strlen(a), b, strlen(b), WN_TOKENS_WORD, 2, &s);
    printf("jaccard %.2f containment %.2f\n", s.jaccard, s.containment);
    if (stages() != WN_OK)
        return 1;
    return rc == WN_OK && rep.read == rep.kept + rep.removed + rep.rejected ? 0
                                                                            : 1;
}
