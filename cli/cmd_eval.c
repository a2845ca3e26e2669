/*
 * cmd_eval.c - `winnow eval`: pairwise precision, recall, F1 and the
 * adjusted Rand index of a clustering against ground truth.
 *
 * A ratio whose denominator is zero (precision with no predicted pairs,
 * recall with no true pairs, the ARI of two trivial partitions) is printed
 * as "n/a", null in JSON: the library's conventional values for those
 * cases would read as measured scores.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The library's conflict callback: one warning line per conflict. */
static void warn_conflict(void *ud, const char *file, uint64_t line,
                          const char *msg)
{
    (void)ud;
    cli_info("warning: %s:%llu: %s", file, (unsigned long long)line, msg);
}

/* The four ratios, or NAN where the denominator is zero. */
struct scores {
    double precision, recall, f1, ari;
};

static struct scores scores_of(const struct wn_eval_result *r)
{
    struct scores s;
    s.precision = r->tp + r->fp > 0 ? r->precision : NAN;
    s.recall = r->tp + r->fn > 0 ? r->recall : NAN;
    s.f1 = 2 * r->tp + r->fp + r->fn > 0 ? r->f1 : NAN;
    /* The ARI's denominator, (P + T) / 2 - P T / C(n, 2) with P and T the
     * same-cluster pairs of the prediction and of the truth, is zero only
     * when P = T = 0 or P = T = C(n, 2): both partitions all singletons, or
     * both one cluster (and when there are no pairs at all). */
    uint64_t n = r->items, all = n > 1 ? n * (n - 1) / 2 : 0;
    uint64_t p = r->tp + r->fp, t = r->tp + r->fn;
    bool trivial = n < 2 || (p == t && (p == 0 || p == all));
    s.ari = r->pairs_mode || trivial ? NAN : r->ari;
    return s;
}

static void print_ratio(const char *label, double v)
{
    if (isnan(v))
        printf("%-11s%s\n", label, "n/a");
    else
        printf("%-11s%.4f\n", label, v);
}

static void json_ratio(const char *key, double v)
{
    if (isnan(v))
        printf(", \"%s\": null", key);
    else
        printf(", \"%s\": %.6f", key, v);
}

/* The ratios of one kind of labelled pairs. */
static struct scores kind_scores(const struct wn_eval_kind *k)
{
    struct scores s;
    double tp = (double)k->tp;
    s.precision = k->tp + k->fp ? tp / (double)(k->tp + k->fp) : NAN;
    s.recall = k->tp + k->fn ? tp / (double)(k->tp + k->fn) : NAN;
    s.f1 = 2 * k->tp + k->fp + k->fn
               ? 2 * tp / (double)(2 * k->tp + k->fp + k->fn)
               : NAN;
    s.ari = NAN;
    return s;
}

static void print_cell(double v)
{
    if (isnan(v))
        printf(" %9s", "n/a");
    else
        printf(" %9.4f", v);
}

static void print_kinds(const struct wn_eval_report *rep)
{
    printf("by kind:   %-12s %6s %6s %6s %6s %6s %6s %9s %9s %9s\n", "kind",
           "pairs", "pos", "tp", "fp", "fn", "tn", "precision", "recall", "f1");
    for (size_t i = 0; i < rep->nkinds; i++) {
        const struct wn_eval_kind *k = &rep->kinds[i];
        struct scores s = kind_scores(k);
        printf("           %-12s %6llu %6llu %6llu %6llu %6llu %6llu",
               k->kind[0] ? k->kind : "(none)", (unsigned long long)k->pairs,
               (unsigned long long)k->positives, (unsigned long long)k->tp,
               (unsigned long long)k->fp, (unsigned long long)k->fn,
               (unsigned long long)k->tn);
        print_cell(s.precision);
        print_cell(s.recall);
        print_cell(s.f1);
        printf("\n");
    }
}

static void json_kinds(const struct wn_eval_report *rep)
{
    printf(", \"by_kind\": {");
    for (size_t i = 0; i < rep->nkinds; i++) {
        const struct wn_eval_kind *k = &rep->kinds[i];
        struct scores s = kind_scores(k);
        /* A kind is stored JSON-escaped already (see eval.c). */
        printf("%s\"%s\": {\"pairs\": %llu, \"positives\": %llu, "
               "\"tp\": %llu, \"fp\": %llu, \"fn\": %llu, \"tn\": %llu",
               i ? ", " : "", k->kind, (unsigned long long)k->pairs,
               (unsigned long long)k->positives, (unsigned long long)k->tp,
               (unsigned long long)k->fp, (unsigned long long)k->fn,
               (unsigned long long)k->tn);
        json_ratio("precision", s.precision);
        json_ratio("recall", s.recall);
        json_ratio("f1", s.f1);
        printf("}");
    }
    printf("}");
}

int cmd_eval(int argc, char **argv)
{
    const char *truth = NULL, *pairs = NULL, *universe = NULL;
    bool as_json = false;
    const struct opt opts[] = {
        {"truth", 0, OPT_STRING, &truth, "FILE",
         "ground truth: {\"id\",\"cluster\"} or {\"id_a\",\"id_b\",\"label\"} "
         "lines"},
        {"pairs", 0, OPT_STRING, &pairs, "FILE",
         "labelled pairs {\"id_a\",\"id_b\",\"label\"[,\"kind\"]}: "
         "scores and a breakdown by kind"},
        {"universe", 0, OPT_STRING, &universe, "FILE",
         "JSONL whose ids are all items (singletons count for the ARI)"},
        {"json", 0, OPT_FLAG, &as_json, NULL, "print one JSON object"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "(--truth FILE | --pairs FILE) CLUSTERS";
    const char *summary =
        "Score CLUSTERS (a clusters.jsonl, or a dedup output directory) "
        "against ground truth.\nWith cluster truth: pairwise precision, "
        "recall, F1 and the adjusted Rand index over\nthe items of the "
        "truth. With labelled pairs: precision, recall and F1 of "
        "'same cluster'\n(no ARI; ids in no cluster count as singletons), "
        "and the same by the pairs' \"kind\".\nIds are compared as dedup "
        "writes them (a number as written). A repeated truth\nentry or an "
        "id in two clusters is a conflict: warned with file:line, the "
        "first\none used, counted. A ratio with a zero denominator prints "
        "as n/a (null in JSON).";
    char *pos[64];
    int npos = 0;
    if (argc > 60) {
        cli_error("eval: too many arguments");
        return EXIT_USAGE;
    }
    int prc = cli_parse("eval", usage, summary, opts, argc, argv, pos, &npos);
    if (prc)
        return prc < 0 ? EXIT_OK : prc;
    if ((!truth == !pairs) || npos != 1) {
        cli_error("eval: need one of --truth FILE and --pairs FILE, and one "
                  "CLUSTERS file");
        return EXIT_USAGE;
    }
    if (pairs && universe) {
        cli_error("eval: --universe is for cluster truth, not --pairs");
        return EXIT_USAGE;
    }
    char path[4096];
    struct stat st;
    const char *pred = pos[0];
    if (stat(pred, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(path, sizeof(path), "%s/clusters.jsonl", pred);
        pred = path;
    }
    struct wn_eval_options eo;
    memset(&eo, 0, sizeof(eo));
    eo.universe = universe;
    eo.pairs_only = pairs != NULL;
    eo.warn = warn_conflict;
    struct wn_eval_report *rep = NULL;
    uint64_t line = 0;
    char file[4096] = "";
    int rc = wn_eval_report_create(pred, pairs ? pairs : truth, &eo, &rep,
                                   &line, file, sizeof(file));
    if (rc == WN_EOPEN) {
        cli_error("cannot open '%s': %s", file, cli_open_reason(file, errno));
        return EXIT_FAIL;
    }
    if (rc) {
        cli_error("%s:%llu: %s", file, (unsigned long long)line,
                  rc == WN_EPARSE && pairs
                      ? "not a labelled pair (id_a, id_b, label)"
                      : wn_strerror(rc));
        return EXIT_FAIL;
    }
    const struct wn_eval_result r = rep->total;
    unsigned long long missing = r.pairs_mode ? rep->missing_ids : 0;
    unsigned long long conflicts = rep->truth_conflicts + rep->pred_conflicts;
    if (missing > 0)
        cli_info("warning: %llu truth ids not found in the clustering; "
                 "counted as singletons",
                 missing);
    if (conflicts > 0)
        cli_info("warning: %llu conflicts (%llu in the truth, %llu in the "
                 "clusters); the first entry of each was used",
                 conflicts, (unsigned long long)rep->truth_conflicts,
                 (unsigned long long)rep->pred_conflicts);
    struct scores s = scores_of(&r);
    if (as_json) {
        printf("{\"items\": %llu, \"tp\": %llu, \"fp\": %llu, \"fn\": %llu",
               (unsigned long long)r.items, (unsigned long long)r.tp,
               (unsigned long long)r.fp, (unsigned long long)r.fn);
        json_ratio("precision", s.precision);
        json_ratio("recall", s.recall);
        json_ratio("f1", s.f1);
        if (r.pairs_mode)
            printf(", \"missing_ids\": %llu", missing);
        else
            json_ratio("ari", s.ari);
        printf(", \"truth_conflicts\": %llu, \"cluster_conflicts\": %llu",
               (unsigned long long)rep->truth_conflicts,
               (unsigned long long)rep->pred_conflicts);
        if (rep->nkinds)
            json_kinds(rep);
        printf("}\n");
        wn_eval_report_free(rep);
        return EXIT_OK;
    }
    printf("items:     %llu\n", (unsigned long long)r.items);
    printf("pairs:     tp %llu, fp %llu, fn %llu\n", (unsigned long long)r.tp,
           (unsigned long long)r.fp, (unsigned long long)r.fn);
    print_ratio("precision:", s.precision);
    print_ratio("recall:", s.recall);
    print_ratio("f1:", s.f1);
    if (r.pairs_mode)
        printf("ari:       n/a (truth given as pairs)\n");
    else
        print_ratio("ari:", s.ari);
    if (conflicts)
        printf("conflicts: %llu in the truth, %llu in the clusters (first "
               "entry used)\n",
               (unsigned long long)rep->truth_conflicts,
               (unsigned long long)rep->pred_conflicts);
    if (rep->nkinds)
        print_kinds(rep);
    wn_eval_report_free(rep);
    return EXIT_OK;
}
