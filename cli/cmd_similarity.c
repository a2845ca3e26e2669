/*
 * cmd_similarity.c - `winnow similarity`: exact Jaccard and containment of
 * labelled pairs of records, to see how a threshold separates them.
 */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const token_names[] = {"word", "char", NULL};

struct doc {
    char *id;
    char *text;
    size_t len;
};

static int cmp_doc(const void *a, const void *b)
{
    return strcmp(((const struct doc *)a)->id, ((const struct doc *)b)->id);
}

static const struct doc *find(const struct doc *d, size_t n, const char *id)
{
    struct doc key = {(char *)id, NULL, 0};
    return n ? bsearch(&key, d, n, sizeof(*d), cmp_doc) : NULL;
}

/* A JSON string or integer as text, in buf. */
static const char *text_of(json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return NULL;
}

int cmd_similarity(int argc, char **argv)
{
    const char *pairs = NULL;
    unsigned ngram = 5;
    int mode = WN_TOKENS_WORD;
    const struct opt opts[] = {
        {"pairs", 0, OPT_STRING, &pairs, "FILE",
         "JSONL of {\"id_a\", \"id_b\"} (other fields are copied)"},
        {"ngram", 'n', OPT_UINT, &ngram, "N", "shingle length (default 5)"},
        {"tokens", 0, OPT_CHOICE, &mode, NULL, "word or char (default word)",
         token_names},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "--pairs FILE INPUT...";
    const char *summary =
        "For every pair, print the pair's fields with the exact Jaccard "
        "similarity and\ncontainment of the two records' shingle sets, as "
        "winnow dedup computes them.\nThe records of INPUT are held in "
        "memory: meant for evaluation sets.";
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0;
    if (!pos)
        return EXIT_FAIL;
    int prc =
        cli_parse("similarity", usage, summary, opts, argc, argv, pos, &npos);
    if (prc || !pairs || npos == 0) {
        free(pos);
        if (prc < 0)
            return EXIT_OK;
        if (!prc)
            cli_error("similarity: need --pairs FILE and an INPUT");
        return EXIT_USAGE;
    }
    struct wn_reader *r = NULL;
    size_t bad = 0;
    int rc = wn_reader_create((const char *const *)pos, (size_t)npos, NULL, &r,
                              &bad);
    if (rc) {
        int err = errno;
        const char *path = pos[bad < (size_t)npos ? bad : 0];
        cli_error("cannot open '%s': %s", path,
                  rc == WN_EOPEN ? cli_open_reason(path, err)
                                 : wn_strerror(rc));
        free(pos);
        return EXIT_FAIL;
    }
    struct doc *docs = NULL;
    size_t n = 0, cap = 0;
    struct wn_record rec;
    int status = EXIT_OK;
    while ((rc = wn_reader_next(r, &rec)) > 0) {
        if (rec.status)
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 1024;
            struct doc *nd = realloc(docs, ncap * sizeof(*docs));
            if (!nd) {
                rc = WN_ENOMEM;
                break;
            }
            docs = nd;
            cap = ncap;
        }
        docs[n].id = strndup(rec.id, rec.id_len);
        docs[n].text = malloc(rec.text_len + 1);
        docs[n].len = rec.text_len;
        n++; /* counted now, so that the cleanup below frees it */
        if (!docs[n - 1].id || !docs[n - 1].text) {
            rc = WN_ENOMEM;
            break;
        }
        memcpy(docs[n - 1].text, rec.text, rec.text_len);
    }
    if (rc < 0) {
        const char *p = wn_reader_error_path(r);
        cli_error("%s: %s", p ? p : "input", wn_strerror(rc));
        status = EXIT_FAIL;
    }
    wn_reader_free(r);
    r = NULL; /* the pairs reader below may never be made */
    if (n)
        qsort(docs, n, sizeof(*docs), cmp_doc);

    struct wn_reader_options ro;
    memset(&ro, 0, sizeof(ro));
    ro.raw_only = 1;
    if (!status && wn_reader_create(&pairs, 1, &ro, &r, &bad) != WN_OK) {
        cli_error("cannot open '%s': %s", pairs, cli_open_reason(pairs, errno));
        status = EXIT_FAIL;
    }
    /* An unknown id is reported and the next pairs are still scored. */
    while (status != EXIT_FAIL && (rc = wn_reader_next(r, &rec)) > 0) {
        json_error_t err;
        json_t *o =
            rec.status ? NULL : json_loadb(rec.raw, rec.raw_len, 0, &err);
        char ba[32], bb[32];
        const char *ia = o ? text_of(json_object_get(o, "id_a"), ba, 32) : NULL;
        const char *ib = o ? text_of(json_object_get(o, "id_b"), bb, 32) : NULL;
        if (!ia || !ib) {
            cli_error("%s:%llu: not a pair {\"id_a\", \"id_b\"}", pairs,
                      (unsigned long long)rec.line);
            json_decref(o);
            status = EXIT_FAIL;
            break;
        }
        const struct doc *da = find(docs, n, ia), *db = find(docs, n, ib);
        if (!da || !db) {
            cli_error("%s:%llu: no record with id '%s'", pairs,
                      (unsigned long long)rec.line, da ? ib : ia);
            json_decref(o);
            status = EXIT_REJECTED;
            continue;
        }
        struct wn_similarity s;
        rc = wn_text_similarity(da->text, da->len, db->text, db->len, mode,
                                ngram, &s);
        if (rc) {
            json_decref(o);
            cli_error("similarity: %s", wn_strerror(rc));
            status = EXIT_FAIL;
            break;
        }
        json_object_set_new(o, "jaccard", json_real(s.jaccard));
        json_object_set_new(o, "containment", json_real(s.containment));
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                       JSON_REAL_PRECISION(6));
        if (line)
            puts(line);
        free(line);
        json_decref(o);
    }
    if (r && rc < 0 && status != EXIT_FAIL) {
        const char *p = wn_reader_error_path(r);
        cli_error("%s: %s", p ? p : pairs, wn_strerror(rc));
        status = EXIT_FAIL;
    }
    wn_reader_free(r);
    for (size_t i = 0; i < n; i++) {
        free(docs[i].id);
        free(docs[i].text);
    }
    free(docs);
    free(pos);
    return status;
}
