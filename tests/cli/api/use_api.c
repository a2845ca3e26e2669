/*
 * use_api.c - a user program of the installed API: only winnow.h, linked
 * with -lwinnow. Deduplicates a small corpus and checks the report.
 */
#include <winnow.h>

#include <stdio.h>
#include <string.h>

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
    return rc == WN_OK && rep.read == rep.kept + rep.removed + rep.rejected ? 0
                                                                            : 1;
}
