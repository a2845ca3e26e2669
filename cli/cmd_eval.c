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
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A set of ids: sorted and without repeats once idset_seal has run. */
struct idset {
    char **ids;
    size_t n, cap;
};

static int idset_add(struct idset *s, const char *id)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 256;
        char **p = realloc(s->ids, ncap * sizeof(*p));
        if (!p)
            return WN_ENOMEM;
        s->ids = p;
        s->cap = ncap;
    }
    s->ids[s->n] = strdup(id);
    if (!s->ids[s->n])
        return WN_ENOMEM;
    s->n++;
    return WN_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void idset_seal(struct idset *s)
{
    if (!s->n)
        return;
    qsort(s->ids, s->n, sizeof(*s->ids), cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < s->n; i++) {
        if (strcmp(s->ids[i], s->ids[k - 1]) == 0)
            free(s->ids[i]);
        else
            s->ids[k++] = s->ids[i];
    }
    s->n = k;
}

static bool idset_has(const struct idset *s, const char *id)
{
    return s->n && bsearch(&id, s->ids, s->n, sizeof(*s->ids), cmp_str) != NULL;
}

static void idset_free(struct idset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
}

/* An id as wn_eval_files reads it: a string, or a number as text. */
static int add_value(struct idset *s, json_t *v)
{
    char buf[64];
    if (json_is_string(v))
        return idset_add(s, json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return idset_add(s, buf);
    }
    if (json_is_real(v)) {
        snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
        return idset_add(s, buf);
    }
    return WN_OK;
}

/*
 * The ids of a JSONL file: the values of id_a and id_b (labelled pairs), or
 * every element of "members" (clusters). The file has already been read
 * without error by wn_eval_files; a line that does not parse is skipped.
 */
static int read_ids(const char *path, bool members, struct idset *s)
{
    struct wn_reader_options ro;
    memset(&ro, 0, sizeof(ro));
    ro.raw_only = 1;
    struct wn_reader *r = NULL;
    size_t bad = 0;
    int rc = wn_reader_create(&path, 1, &ro, &r, &bad);
    if (rc)
        return rc;
    struct wn_record rec;
    int got = 0;
    while (!rc && (got = wn_reader_next(r, &rec)) > 0) {
        json_error_t err;
        json_t *o =
            rec.status ? NULL : json_loadb(rec.raw, rec.raw_len, 0, &err);
        if (members) {
            json_t *m = json_object_get(o, "members");
            size_t i;
            json_t *v;
            json_array_foreach(m, i, v)
            {
                if ((rc = add_value(s, v)))
                    break;
            }
        } else {
            rc = add_value(s, json_object_get(o, "id_a"));
            if (!rc)
                rc = add_value(s, json_object_get(o, "id_b"));
        }
        json_decref(o);
    }
    if (!rc && got < 0)
        rc = got;
    wn_reader_free(r);
    idset_seal(s);
    return rc;
}

/* Truth ids named by no cluster of pred, or -1 on error. */
static long long missing_ids(const char *pred, const char *truth)
{
    struct idset t = {0}, p = {0};
    long long missing = -1;
    if (read_ids(truth, false, &t) == WN_OK &&
        read_ids(pred, true, &p) == WN_OK) {
        missing = 0;
        for (size_t i = 0; i < t.n; i++)
            missing += !idset_has(&p, t.ids[i]);
    }
    idset_free(&t);
    idset_free(&p);
    return missing;
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
        "'same cluster'\n(no ARI; ids in no cluster count as singletons). "
        "A ratio with a zero\ndenominator prints as n/a (null in JSON).";
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
        cli_error("cannot open '%s': %s", file, cli_open_reason(file, errno));
        return EXIT_FAIL;
    }
    if (rc) {
        cli_error("%s:%llu: %s", file, (unsigned long long)line,
                  wn_strerror(rc));
        return EXIT_FAIL;
    }
    long long missing = r.pairs_mode ? missing_ids(pred, truth) : 0;
    if (missing > 0)
        cli_info("warning: %lld truth ids not found in the clustering; "
                 "counted as singletons",
                 missing);
    struct scores s = scores_of(&r);
    if (as_json) {
        printf("{\"items\": %llu, \"tp\": %llu, \"fp\": %llu, \"fn\": %llu",
               (unsigned long long)r.items, (unsigned long long)r.tp,
               (unsigned long long)r.fp, (unsigned long long)r.fn);
        json_ratio("precision", s.precision);
        json_ratio("recall", s.recall);
        json_ratio("f1", s.f1);
        if (r.pairs_mode)
            printf(", \"missing_ids\": %lld", missing > 0 ? missing : 0);
        else
            json_ratio("ari", s.ari);
        printf("}\n");
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
    return EXIT_OK;
}
