/*
 * cmd_explain.c - `winnow explain A B`: why two texts are, or are not,
 * copies: the scores and the dedup verdict, the shared passages aligned
 * (byte offsets and lines in both originals) and what only one side has.
 * A and B are files holding one document each (a .txt file, or a JSONL
 * file of one record), or two ids looked up in the --input files.
 */
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const token_names[] = {"word", "char", NULL};
static const char *const verify_names[] = {"estimate", "exact", NULL};
static const char *const verdict_names[] = {"distinct",  "exact", "near",
                                            "contained", "empty", "flash"};
/* In enum wn_profile order. */
static const char *const profile_names[] = {"news", "classic", "web", NULL};

struct doc {
    char *name; /* the file, or the id */
    char *text;
    size_t len;
    bool found;
};

static void doc_free(struct doc *d)
{
    free(d->name);
    free(d->text);
}

static int doc_set(struct doc *d, const struct wn_record *rec)
{
    d->text = malloc(rec->text_len + 1);
    if (!d->text)
        return WN_ENOMEM;
    memcpy(d->text, rec->text, rec->text_len);
    d->text[rec->text_len] = '\0';
    d->len = rec->text_len;
    d->found = true;
    return WN_OK;
}

/* Read the paths; keep the records whose id is want[0] / want[1], or with
 * want NULL the single record of the one path into docs[0]. */
static int read_docs(const char *const *paths, size_t n,
                     const struct wn_reader_options *ro,
                     const char *const *want, struct doc *docs)
{
    struct wn_reader *r = NULL;
    size_t bad = 0;
    int rc = wn_reader_create(paths, n, ro, &r, &bad);
    if (rc) {
        const char *p = paths[bad < n ? bad : 0];
        cli_error("cannot open '%s': %s", p,
                  rc == WN_EOPEN ? cli_open_reason(p, 0) : wn_strerror(rc));
        return EXIT_FAIL;
    }
    struct wn_record rec;
    int status = EXIT_OK;
    uint64_t records = 0;
    while ((rc = wn_reader_next(r, &rec)) > 0) {
        if (rec.status) {
            cli_error("%s:%llu: %s (rejected)", rec.source,
                      (unsigned long long)rec.line, wn_strerror(rec.status));
            continue;
        }
        records++;
        for (int k = 0; k < 2; k++) {
            bool match = want ? strlen(want[k]) == rec.id_len &&
                                    !memcmp(want[k], rec.id, rec.id_len)
                              : k == 0 && records == 1;
            if (match && !docs[k].found && doc_set(&docs[k], &rec)) {
                rc = WN_ENOMEM;
                break;
            }
        }
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        const char *p = wn_reader_error_path(r);
        cli_error("%s: %s", p ? p : paths[0], wn_strerror(rc));
        status = EXIT_FAIL;
    } else if (!want && records != 1) {
        cli_error("explain: '%s' holds %llu records, not one: name two ids "
                  "with --input",
                  paths[0], (unsigned long long)records);
        status = EXIT_USAGE;
    }
    wn_reader_free(r);
    return status;
}

/* Text as JSON, with ill-formed UTF-8 replaced by U+FFFD. */
static json_t *json_text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    char *c = malloc(3 * n + 1);
    if (!c)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char)s[i];
        size_t len = b < 0x80                 ? 1
                     : b >= 0xC2 && b <= 0xDF ? 2
                     : b >= 0xE0 && b <= 0xEF ? 3
                     : b >= 0xF0 && b <= 0xF4 ? 4
                                              : 0;
        if (len > n - i)
            len = 0;
        if (len > 1) {
            json_t *t = json_stringn(s + i, len); /* checks the sequence */
            if (!t)
                len = 0;
            json_decref(t);
        }
        if (len == 0) {
            c[k++] = (char)0xEF;
            c[k++] = (char)0xBF;
            c[k++] = (char)0xBD;
            i++;
            continue;
        }
        memcpy(c + k, s + i, len);
        k += len;
        i += len;
    }
    j = json_stringn(c, k);
    free(c);
    return j;
}

static json_t *json_span(const struct wn_explain_span *s, const struct doc *d,
                         bool with_text)
{
    json_t *o =
        json_pack("{sIsIsIsIsI}", "start", (json_int_t)s->start, "end",
                  (json_int_t)s->end, "line", (json_int_t)s->line, "line_end",
                  (json_int_t)s->line_end, "tokens", (json_int_t)s->tokens);
    if (o && with_text)
        json_object_set_new(o, "text",
                            json_text(d->text + s->start, s->end - s->start));
    return o;
}

static int print_json(const struct wn_explanation *x, const struct doc *d,
                      const struct wn_explain_options *eo)
{
    const struct wn_explain_scores *s = wn_explanation_scores(x);
    json_t *root = json_object();
    json_object_set_new(root, "a",
                        json_pack("{sssIsI}", "name", d[0].name, "bytes",
                                  (json_int_t)d[0].len, "tokens",
                                  (json_int_t)s->tokens_a));
    json_object_set_new(root, "b",
                        json_pack("{sssIsI}", "name", d[1].name, "bytes",
                                  (json_int_t)d[1].len, "tokens",
                                  (json_int_t)s->tokens_b));
    json_object_set_new(root, "verdict",
                        json_string(verdict_names[s->verdict]));
    json_object_set_new(root, "reason", json_string(s->reason));
    json_object_set_new(root, "profile",
                        json_string(profile_names[s->profile]));
    json_t *sc = json_object();
    json_object_set_new(sc, "exact", json_boolean(s->exact));
    json_object_set_new(sc, "jaccard", json_real(s->jaccard));
    json_object_set_new(sc, "jaccard_estimate", json_real(s->jaccard_estimate));
    json_object_set_new(sc, "containment_a", json_real(s->containment_a));
    json_object_set_new(sc, "containment_b", json_real(s->containment_b));
    json_object_set_new(sc, "containment_estimate",
                        json_real(s->containment_estimate));
    json_object_set_new(sc, "shingles_a",
                        json_integer((json_int_t)s->shingles_a));
    json_object_set_new(sc, "shingles_b",
                        json_integer((json_int_t)s->shingles_b));
    json_object_set_new(sc, "shared", json_integer((json_int_t)s->shared));
    json_object_set_new(sc, "figures",
                        json_string(wn_figures_name(s->figures)));
    json_object_set_new(sc, "bands", json_integer(s->bands));
    json_object_set_new(sc, "rows", json_integer(s->rows));
    json_object_set_new(sc, "bands_shared", json_integer(s->bands_shared));
    json_object_set_new(sc, "candidate_probability",
                        json_real(s->candidate_probability));
    json_object_set_new(root, "scores", sc);
    json_object_set_new(
        root, "options",
        json_pack("{sssssIsIsfsfsssIsIsI}", "profile",
                  profile_names[eo->profile], "tokens",
                  token_names[eo->token_mode], "ngram", (json_int_t)eo->ngram,
                  "num_perm", (json_int_t)eo->num_perm, "threshold",
                  eo->threshold, "containment", eo->containment, "verify",
                  verify_names[eo->verify], "kgram", (json_int_t)eo->kgram,
                  "window", (json_int_t)eo->window, "min_run",
                  (json_int_t)(eo->min_run ? eo->min_run : eo->kgram)));
    const struct wn_explain_run *runs;
    size_t nr = wn_explanation_runs(x, &runs);
    json_t *sh = json_array();
    for (size_t i = 0; i < nr; i++) {
        json_t *o = json_pack("{sI}", "tokens", (json_int_t)runs[i].a.tokens);
        json_object_set_new(o, "a", json_span(&runs[i].a, &d[0], false));
        json_object_set_new(o, "b", json_span(&runs[i].b, &d[1], false));
        json_object_set_new(o, "text",
                            json_text(d[0].text + runs[i].a.start,
                                      runs[i].a.end - runs[i].a.start));
        json_array_append_new(sh, o);
    }
    json_object_set_new(root, "shared", sh);
    for (int side = 0; side < 2; side++) {
        const struct wn_explain_span *sp;
        size_t n = wn_explanation_only(x, side, &sp);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_span(&sp[i], &d[side], true));
        json_object_set_new(root, side ? "only_b" : "only_a", arr);
    }
    char *out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                     JSON_REAL_PRECISION(6));
    json_decref(root);
    if (!out) {
        cli_error("explain: %s", wn_strerror(WN_ENOMEM));
        return EXIT_FAIL;
    }
    puts(out);
    free(out);
    return EXIT_OK;
}

struct style {
    const char *head, *shared, *only_a, *only_b, *off;
};

/* The text indented by four spaces, line by line. */
static void print_block(const char *s, size_t n)
{
    fputs("    ", stdout);
    for (size_t i = 0; i < n; i++) {
        putchar(s[i]);
        if (s[i] == '\n' && i + 1 < n)
            fputs("    ", stdout);
    }
    putchar('\n');
}

static void print_where(const char *side, const struct wn_explain_span *s)
{
    printf("%s bytes %llu-%llu, line%s %llu", side,
           (unsigned long long)s->start, (unsigned long long)s->end,
           s->line_end > s->line ? "s" : "", (unsigned long long)s->line);
    if (s->line_end > s->line)
        printf("-%llu", (unsigned long long)s->line_end);
}

static int print_text(const struct wn_explanation *x, const struct doc *d,
                      const struct wn_explain_options *eo, bool color)
{
    struct style st = {"", "", "", "", ""};
    if (color)
        st = (struct style){"\033[1m", "\033[32m", "\033[31m", "\033[33m",
                            "\033[0m"};
    const struct wn_explain_scores *s = wn_explanation_scores(x);
    printf("A: %s (%zu bytes, %llu tokens)\n", d[0].name, d[0].len,
           (unsigned long long)s->tokens_a);
    printf("B: %s (%zu bytes, %llu tokens)\n", d[1].name, d[1].len,
           (unsigned long long)s->tokens_b);
    printf("%sverdict: %s%s\n", st.head, s->reason, st.off);
    printf("  rule                  %s profile, threshold %.2f (as winnow "
           "dedup --profile %s)\n",
           profile_names[s->profile], eo->threshold, profile_names[s->profile]);
    printf("  jaccard, exact        %.4f  (shingles of %u tokens: A %llu, "
           "B %llu, shared %llu)\n",
           s->jaccard, eo->ngram, (unsigned long long)s->shingles_a,
           (unsigned long long)s->shingles_b, (unsigned long long)s->shared);
    printf("  jaccard, as the rule  %.4f  (%s)\n", s->jaccard_estimate,
           eo->verify == WN_VERIFY_EXACT
               ? "exact, as dedup --verify exact"
               : "estimated from the verification sketch of dedup");
    printf("  containment A in B    %.4f\n", s->containment_a);
    printf("  containment B in A    %.4f\n", s->containment_b);
    if (s->profile == WN_PROFILE_NEWS)
        printf("  figures               %s  (numbers, dates and times of the "
               "two texts)\n",
               wn_figures_name(s->figures));
    printf("  LSH                   %u bands x %u rows, %u agree%s "
           "(candidate probability at this Jaccard %.3f)\n",
           s->bands, s->rows, s->bands_shared, s->bands_shared == 1 ? "s" : "",
           s->candidate_probability);

    const struct wn_explain_run *runs;
    size_t nr = wn_explanation_runs(x, &runs);
    uint64_t ta = 0;
    for (size_t i = 0; i < nr; i++)
        ta += runs[i].a.tokens;
    printf("\n%sshared passages: %zu (%llu tokens)%s\n", st.head, nr,
           (unsigned long long)ta, st.off);
    for (size_t i = 0; i < nr; i++) {
        printf("%s#%zu  ", st.shared, i + 1);
        print_where("A", &runs[i].a);
        fputs("  |  ", stdout);
        print_where("B", &runs[i].b);
        printf("  (%llu token%s)%s\n", (unsigned long long)runs[i].a.tokens,
               runs[i].a.tokens == 1 ? "" : "s", st.off);
        print_block(d[0].text + runs[i].a.start,
                    runs[i].a.end - runs[i].a.start);
    }
    for (int side = 0; side < 2; side++) {
        const struct wn_explain_span *sp;
        size_t n = wn_explanation_only(x, side, &sp);
        printf("\n%sonly in %s: %zu%s\n", st.head, side ? "B" : "A", n, st.off);
        for (size_t i = 0; i < n; i++) {
            fputs(side ? st.only_b : st.only_a, stdout);
            print_where(side ? "B" : "A", &sp[i]);
            printf("  (%llu token%s)%s\n", (unsigned long long)sp[i].tokens,
                   sp[i].tokens == 1 ? "" : "s", st.off);
            print_block(d[side].text + sp[i].start, sp[i].end - sp[i].start);
        }
    }
    return ferror(stdout) ? EXIT_FAIL : EXIT_OK;
}

int cmd_explain(int argc, char **argv)
{
    struct wn_explain_options eo;
    wn_explain_options_init(&eo);
    /* The profile sets the threshold unless it is given, as in dedup. */
    eo.threshold = -1;
    struct wn_reader_options ro;
    memset(&ro, 0, sizeof(ro));
    bool json = false, no_color = false;
    const char *input_help =
        NULL; /* documented here, taken by cli_take_inputs */
    const struct opt opts[] = {
        {"input", 0, OPT_STRING, &input_help, "FILE",
         "read records from FILE (repeatable); A and B are then ids"},
        {"json", 0, OPT_FLAG, &json, NULL, "print JSON (schema in README)"},
        {"no-color", 0, OPT_FLAG, &no_color, NULL,
         "no colour even on a terminal"},
        {"profile", 0, OPT_CHOICE, &eo.profile, NULL,
         "pair rule, as dedup: news, classic or web (default classic)",
         profile_names},
        {"threshold", 't', OPT_DOUBLE, &eo.threshold, "T",
         "Jaccard threshold, as dedup (default: news 0.5, classic 0.8, "
         "web 0.7)"},
        {"containment", 0, OPT_OPTDOUBLE, &eo.containment, "C",
         "also accept containment >= C, as dedup (default off; 0.9 if "
         "given alone)",
         NULL, 0.9},
        {"verify", 0, OPT_CHOICE, &eo.verify, NULL,
         "estimate or exact, as dedup (default estimate)", verify_names},
        {"ngram", 'n', OPT_UINT, &eo.ngram, "N", "shingle length (default 5)"},
        {"num-perm", 0, OPT_UINT, &eo.num_perm, "K",
         "MinHash size (default 128)"},
        {"tokens", 0, OPT_CHOICE, &eo.token_mode, NULL,
         "word or char (default word)", token_names},
        {"seed", 0, OPT_U64, &eo.seed, "S", "hash seed (default 1)"},
        {"kgram", 0, OPT_UINT, &eo.kgram, "K",
         "tokens per alignment fingerprint (default 5)"},
        {"window", 0, OPT_UINT, &eo.window, "W",
         "winnowing window (default 4): runs of W+K-1 tokens are always found"},
        {"min-run", 0, OPT_UINT, &eo.min_run, "N",
         "shortest shared run shown, in tokens (default: --kgram)"},
        {"text-field", 0, OPT_STRING, &ro.text_field, "NAME",
         "JSON field of the text (default text)"},
        {"id-field", 0, OPT_STRING, &ro.id_field, "NAME",
         "JSON field of the id (default id)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "A B | --input FILE... ID_A ID_B";
    const char *summary =
        "Explain why two documents are or are not duplicates: the scores and "
        "the verdict\nwinnow dedup would give with these options, the shared "
        "passages aligned (bytes\nand lines in both texts), and what only one "
        "side has. A and B are files of one\ndocument (.txt, or JSONL of one "
        "record), or ids of records in the --input files.";
    const char **inputs = calloc((size_t)argc + 1, sizeof(char *));
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0, ninputs = 0;
    if (!inputs || !pos) {
        free(inputs);
        free(pos);
        return EXIT_FAIL;
    }
    argc = cli_take_inputs(argc, argv, inputs, &ninputs);
    int prc =
        cli_parse("explain", usage, summary, opts, argc, argv, pos, &npos);
    if (!prc && eo.threshold == -1)
        eo.threshold = eo.profile == WN_PROFILE_CLASSIC ? 0.8
                       : eo.profile == WN_PROFILE_WEB   ? 0.7
                                                        : 0.5;
    if (!prc && npos != 2) {
        cli_error("explain: need two documents, A and B (see --help)");
        prc = EXIT_USAGE;
    }
    if (!prc && (eo.threshold <= 0 || eo.threshold >= 1 || eo.ngram == 0 ||
                 eo.num_perm == 0 || eo.num_perm > 4096 || eo.kgram == 0 ||
                 eo.window == 0)) {
        cli_error("explain: --threshold must be in (0, 1), --ngram, --kgram "
                  "and --window above 0, --num-perm in 1..4096");
        prc = EXIT_USAGE;
    }
    if (prc) {
        free(inputs);
        free(pos);
        return prc < 0 ? EXIT_OK : EXIT_USAGE;
    }
    struct doc d[2];
    memset(d, 0, sizeof(d));
    int status = EXIT_OK;
    if (ninputs) {
        const char *want[2] = {pos[0], pos[1]};
        status = read_docs(inputs, (size_t)ninputs, &ro, want, d);
        for (int k = 0; k < 2 && !status; k++)
            if (!d[k].found) {
                cli_error("explain: no record with id '%s' in the inputs",
                          want[k]);
                status = EXIT_FAIL;
            }
    } else {
        for (int k = 0; k < 2 && !status; k++) {
            const char *p = pos[k];
            struct doc one[2];
            memset(one, 0, sizeof(one));
            status = read_docs(&p, 1, &ro, NULL, one);
            d[k].text = one[0].text;
            d[k].len = one[0].len;
            d[k].found = one[0].found;
        }
    }
    for (int k = 0; k < 2; k++)
        d[k].name = strdup(pos[k]);
    struct wn_explanation *x = NULL;
    if (!status) {
        int rc = wn_explain(d[0].text, d[0].len, d[1].text, d[1].len, &eo, &x);
        if (rc) {
            cli_error("explain: %s", wn_strerror(rc));
            status = EXIT_FAIL;
        }
    }
    if (!status && (!d[0].name || !d[1].name))
        status = EXIT_FAIL;
    if (!status) {
        bool color = !no_color && isatty(STDOUT_FILENO) && !json;
        status = json ? print_json(x, d, &eo) : print_text(x, d, &eo, color);
    }
    wn_explanation_free(x);
    doc_free(&d[0]);
    doc_free(&d[1]);
    free(inputs);
    free(pos);
    return status;
}
