/*
 * cmd_params.c - `winnow params`: the LSH bands and rows chosen for a
 * threshold, and the S-curve they give.
 */
#include "cli.h"

#include <stdlib.h>

int cmd_params(int argc, char **argv)
{
    double threshold = 0.8;
    unsigned num_perm = 128, bands = 0, rows = 0;
    double fn_weight = WN_LSH_WEIGHT_FN;
    const struct opt opts[] = {
        {"threshold", 't', OPT_DOUBLE, &threshold, "T",
         "Jaccard threshold (default 0.8)"},
        {"num-perm", 'k', OPT_UINT, &num_perm, "K",
         "MinHash size (default 128)"},
        {"fn-weight", 0, OPT_DOUBLE, &fn_weight, "W",
         "weight of false negatives; false positives get 1 - W (default "
         "0.95)"},
        {"bands", 0, OPT_UINT, &bands, "B", "show this many bands instead"},
        {"rows", 0, OPT_UINT, &rows, "R", "rows per band (with --bands)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "[--threshold T] [--num-perm K]";
    const char *summary =
        "Choose LSH bands x rows (bands * rows <= K) minimizing the weighted "
        "false-positive\nand false-negative areas under the S-curve "
        "(false negatives weigh 0.95: every\ncandidate is verified, so a "
        "false positive only costs a comparison), and print\nthe curve: the "
        "probability that a pair of Jaccard similarity s becomes a candidate.";
    char *pos[64];
    int npos = 0;
    if (argc > 60) {
        cli_error("params: too many arguments");
        return EXIT_USAGE;
    }
    int prc = cli_parse("params", usage, summary, opts, argc, argv, pos, &npos);
    if (prc)
        return prc < 0 ? EXIT_OK : prc;
    if (npos) {
        cli_error("params: unexpected argument '%s'", pos[0]);
        return EXIT_USAGE;
    }
    double fp = 0, fn = 0;
    uint32_t b = bands, r = rows;
    if ((bands == 0) != (rows == 0)) {
        cli_error("params: --bands and --rows go together");
        return EXIT_USAGE;
    }
    if (!bands) {
        if (!(fn_weight >= 0 && fn_weight <= 1) ||
            wn_lsh_params(threshold, num_perm, 1.0 - fn_weight, fn_weight, &b,
                          &r, &fp, &fn)) {
            cli_error("params: threshold must be in (0, 1) and --num-perm "
                      "positive");
            return EXIT_USAGE;
        }
    } else if ((unsigned long long)bands * rows > num_perm) {
        cli_error("params: bands * rows exceeds --num-perm");
        return EXIT_USAGE;
    }
    printf("threshold: %.3f\nnum_perm: %u\nfn_weight: %.2f\nbands: %u\nrows: "
           "%u\n",
           threshold, num_perm, fn_weight, b, r);
    if (!bands)
        printf("false_positive_area: %.6f\nfalse_negative_area: %.6f\n", fp,
               fn);
    /* The similarity where the curve crosses 1/2: about (1/b)^(1/r). */
    double lo = 0, hi = 1;
    for (int i = 0; i < 60; i++) {
        double mid = (lo + hi) / 2;
        if (wn_lsh_probability(mid, b, r) < 0.5)
            lo = mid;
        else
            hi = mid;
    }
    printf("midpoint: %.3f\n\nsimilarity  P(candidate)\n", lo);
    for (int i = 1; i <= 10; i++) {
        double s = i / 10.0;
        printf("%10.1f  %12.6f\n", s, wn_lsh_probability(s, b, r));
    }
    return EXIT_OK;
}
