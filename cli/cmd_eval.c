/*
 * cmd_eval.c - `winnow eval`: pairwise precision, recall, F1 and the
 * adjusted Rand index of a clustering against ground truth.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cmd_eval(int argc, char **argv)
{
    const char *truth = NULL, *universe = NULL;
    bool as_json = false;
    const struct opt opts[] = {
        {"truth", 0, OPT_STRING, &truth, "FILE",
         "ground truth: {\"id\",\"cluster\"} or {\"id_a\",\"id_b\",\"label\"} "
         "lines"},
        {"universe", 0, OPT_STRING, &universe, "FILE",
         "JSONL whose ids are all items (singletons count for the ARI)"},
        {"json", 0, OPT_FLAG, &as_json, NULL, "print one JSON object"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "--truth FILE CLUSTERS";
    const char *summary =
        "Score CLUSTERS (a clusters.jsonl, or a dedup output directory) "
        "against ground truth.\nWith cluster truth: pairwise precision, "
        "recall, F1 and the adjusted Rand index over\nthe items of the "
        "truth. With labelled pairs: precision, recall and F1 of "
        "'same cluster'.";
    char *pos[64];
    int npos = 0;
    if (argc > 60) {
        cli_error("eval: too many arguments");
        return EXIT_USAGE;
    }
    int prc = cli_parse("eval", usage, summary, opts, argc, argv, pos, &npos);
    if (prc)
        return prc < 0 ? EXIT_OK : prc;
    if (!truth || npos != 1) {
        cli_error("eval: need --truth FILE and one CLUSTERS file");
        return EXIT_USAGE;
    }
    char path[4096];
    struct stat st;
    const char *pred = pos[0];
    if (stat(pred, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(path, sizeof(path), "%s/clusters.jsonl", pred);
        pred = path;
    }
    struct wn_eval_result r;
    uint64_t line = 0;
    char file[4096] = "";
    int rc =
        wn_eval_files(pred, truth, universe, &r, &line, file, sizeof(file));
    if (rc == WN_EOPEN) {
        cli_error("cannot open '%s': %s", file, wn_strerror(rc));
        return EXIT_FAIL;
    }
    if (rc) {
        cli_error("%s:%llu: %s", file, (unsigned long long)line,
                  wn_strerror(rc));
        return EXIT_FAIL;
    }
    if (as_json) {
        printf("{\"items\": %llu, \"tp\": %llu, \"fp\": %llu, \"fn\": %llu, "
               "\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f",
               (unsigned long long)r.items, (unsigned long long)r.tp,
               (unsigned long long)r.fp, (unsigned long long)r.fn, r.precision,
               r.recall, r.f1);
        if (!r.pairs_mode)
            printf(", \"ari\": %.6f", r.ari);
        printf("}\n");
        return EXIT_OK;
    }
    printf("items:     %llu\n", (unsigned long long)r.items);
    printf("pairs:     tp %llu, fp %llu, fn %llu\n", (unsigned long long)r.tp,
           (unsigned long long)r.fp, (unsigned long long)r.fn);
    printf("precision: %.4f\nrecall:    %.4f\nf1:        %.4f\n", r.precision,
           r.recall, r.f1);
    if (!r.pairs_mode)
        printf("ari:       %.4f\n", r.ari);
    return EXIT_OK;
}
