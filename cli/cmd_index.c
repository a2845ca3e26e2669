/*
 * cmd_index.c - `winnow index create|add|check|query|stats|expire PATH`:
 * the persistent index from the command line. check and query print one
 * JSON object per record, the one `winnow serve` answers (cli_index_json).
 */
/* The feature macro of strptime and timegm, not a name of ours: */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *const method_names[] = {"minhash", "simhash", NULL};
/* In enum wn_profile order. */
static const char *const profile_names[] = {"news", "classic", "web", NULL};
static const char *const token_names[] = {"word", "char", NULL};
static const char *const sketch_names[] = {"oph", "kperm", NULL};

void cli_json_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void cli_index_json(FILE *f, const char *id, size_t id_len,
                    const struct wn_index_result *r, size_t matches)
{
    fputs("{\"id\":", f);
    cli_json_string(f, id, id_len);
    fprintf(f, ",\"new\":%s", r->is_new ? "true" : "false");
    if (r->is_new || r->n == 0) {
        fputs(",\"duplicate_of\":null,\"similarity\":null,\"reason\":null", f);
    } else {
        const struct wn_index_match *m = &r->matches[0];
        fputs(",\"duplicate_of\":", f);
        cli_json_string(f, m->id, m->id_len);
        fprintf(f, ",\"similarity\":%.4f,\"reason\":\"%s\"", m->similarity,
                wn_index_reason_name(m->reason));
    }
    if (matches > 1) {
        fputs(",\"matches\":[", f);
        for (size_t i = 0; i < r->n; i++) {
            const struct wn_index_match *m = &r->matches[i];
            fputs(i ? ",{\"id\":" : "{\"id\":", f);
            cli_json_string(f, m->id, m->id_len);
            fprintf(f,
                    ",\"similarity\":%.4f,\"containment\":%.4f,"
                    "\"reason\":\"%s\"}",
                    m->similarity, m->containment,
                    wn_index_reason_name(m->reason));
        }
        fputc(']', f);
    }
    fputs("}\n", f);
}

/* Parse a time for --before: seconds since 1970, an ISO 8601 date or
 * date-time (UTC), or an age: N followed by s, m, h or d. */
int cli_parse_time(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (end != s && !*end && !errno) {
        *out = x;
        return 0;
    }
    if (end != s && x >= 0 && end[1] == '\0' && strchr("smhd", end[0])) {
        long long mul = end[0] == 's'   ? 1
                        : end[0] == 'm' ? 60
                        : end[0] == 'h' ? 3600
                                        : 86400;
        *out = (int64_t)time(NULL) - x * mul;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *e = strptime(s, "%Y-%m-%d", &tm);
    if (e && (*e == 'T' || *e == ' '))
        e = strptime(e + 1, "%H:%M:%S", &tm);
    if (!e || (*e && strcmp(e, "Z") != 0))
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

/* Whether the command line names a rule option (long or short form). */
static bool rule_given(int argc, char **argv)
{
    static const char *const names[] = {
        "--method", "--tokens",    "--ngram",       "--num-perm", "--threshold",
        "--bands",  "--rows",      "--containment", "--sketch",   "--hamming",
        "--seed",   "--fn-weight", "--profile"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            break;
        if (!strcmp(a, "-n") || !strcmp(a, "-k") || !strcmp(a, "-t") ||
            !strncmp(a, "-n", 2) || !strncmp(a, "-k", 2) ||
            !strncmp(a, "-t", 2))
            return true;
        for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
            size_t l = strlen(names[j]);
            if (!strncmp(a, names[j], l) && (a[l] == '\0' || a[l] == '='))
                return true;
        }
    }
    return false;
}

struct printer {
    struct cli_rejects log;
    size_t matches;
};

static void on_result(void *ud, const struct wn_record *rec,
                      const struct wn_index_result *res)
{
    struct printer *p = ud;
    cli_index_json(stdout, rec->id, rec->id_len, res, p->matches);
}

static void on_reject(void *ud, const struct wn_record *rec)
{
    struct printer *p = ud;
    cli_on_reject(&p->log, rec);
}

static int print_stats(struct wn_index *ix, const char *path)
{
    struct wn_index_stats st;
    int rc = wn_index_stats(ix, &st);
    if (rc) {
        cli_error("index %s: %s", path, wn_strerror(rc));
        return EXIT_FAIL;
    }
    struct wn_dedup_options r;
    wn_index_rule(ix, &r);
    printf("{\"records\":%llu,\"key_values\":%llu,\"pending\":%llu,"
           "\"next_record\":%llu,"
           "\"oldest\":%lld,\"newest\":%lld,\"map_size\":%llu,"
           "\"used_bytes\":%llu,\"file_bytes\":%llu,\"bytes_per_record\":%.1f,"
           "\"log_records\":%llu,\"log_bytes\":%llu,"
           "\"rule\":{\"profile\":\"%s\",\"method\":\"%s\",\"tokens\":\"%s\","
           "\"ngram\":%u,"
           "\"num_perm\":%u,\"threshold\":%g,\"bands\":%u,\"rows\":%u,"
           "\"sketch\":\"%s\",\"containment\":%g,\"hamming\":%u,"
           "\"seed\":%llu}}\n",
           (unsigned long long)st.records, (unsigned long long)st.key_values,
           (unsigned long long)st.pending, (unsigned long long)st.next_record,
           (long long)st.oldest, (long long)st.newest,
           (unsigned long long)st.map_size, (unsigned long long)st.used_bytes,
           (unsigned long long)st.file_bytes,
           st.records ? (double)st.used_bytes / st.records : 0.0,
           (unsigned long long)st.log_records, (unsigned long long)st.log_bytes,
           r.profile >= 0 && r.profile <= 2 ? profile_names[r.profile] : "?",
           method_names[r.method ? 1 : 0], token_names[r.token_mode ? 1 : 0],
           r.ngram, r.num_perm, r.threshold, st.bands, st.rows,
           sketch_names[r.sketch ? 1 : 0], r.containment, r.hamming,
           (unsigned long long)r.seed);
    return EXIT_OK;
}

int cli_dedup_index(const char *path, const struct wn_dedup_options *o,
                    int argc, char **argv, char **pos, int npos,
                    const char *outdir)
{
    if (o->exact_only || o->keep != WN_KEEP_FIRST ||
        o->verify == WN_VERIFY_EXACT) {
        cli_error("dedup --index: %s",
                  o->exact_only ? "--exact-only has no index"
                  : o->keep != WN_KEEP_FIRST
                      ? "a stream keeps the first record: --keep longest "
                        "and --keep-max do not apply"
                      : "--verify exact needs the shingle sets, which the "
                        "index does not store");
        free(pos);
        return EXIT_USAGE;
    }
    struct wn_index_options io;
    wn_index_options_init(&io);
    io.dedup = *o;
    io.create = 1; /* the first run of a daily job makes the index */
    io.check_params = rule_given(argc, argv);
    io.no_sync = o->no_fsync;
    struct wn_index *ix = NULL;
    char msg[512];
    int rc = wn_index_open(path, &io, &ix, msg, sizeof(msg));
    if (rc) {
        cli_error("dedup --index: %s", msg[0] ? msg : wn_strerror(rc));
        free(pos);
        return rc == WN_EMISMATCH || rc == WN_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    struct printer pr;
    memset(&pr, 0, sizeof(pr));
    struct wn_index_run_options ro;
    wn_index_run_options_init(&ro);
    ro.reader = o->reader;
    ro.no_fsync = o->no_fsync;
    ro.cancel = &cli_cancel;
    ro.on_reject = on_reject;
    ro.ud = &pr;
    struct cli_progress prog;
    cli_progress_start(&prog, "dedup", &ro.progress);
    cli_install_signals();
    struct wn_index_run_report rep;
    rc = wn_index_run(ix, (const char *const *)pos, (size_t)npos, outdir, &ro,
                      &rep);
    cli_progress_end(&prog);
    wn_index_free(ix);
    free(pos);
    int failed = cli_run_failed("dedup", rc, rep.error_path, 0);
    if (failed >= 0)
        return failed;
    cli_rejects_finish(&pr.log);
    cli_info(
        "read %llu records in %.2f s: kept and indexed %llu, removed "
        "%llu (%llu exact, %llu near, %llu contained, %llu id), "
        "rejected %llu",
        (unsigned long long)rep.read, rep.seconds, (unsigned long long)rep.kept,
        (unsigned long long)rep.removed, (unsigned long long)rep.removed_exact,
        (unsigned long long)rep.removed_near,
        (unsigned long long)rep.removed_contained,
        (unsigned long long)rep.removed_id, (unsigned long long)rep.rejected);
    return rep.rejected ? EXIT_REJECTED : EXIT_OK;
}

int cmd_index(int argc, char **argv)
{
    struct wn_index_options io;
    wn_index_options_init(&io);
    struct wn_dedup_options *d = &io.dedup;
    d->threshold = -1; /* not given */
    unsigned ngram = d->ngram, num_perm = d->num_perm, bands = 0, rows = 0;
    unsigned hamming = d->hamming;
    double fn_weight = WN_LSH_WEIGHT_FN;
    uint64_t seed = d->seed, max_bytes = 64ull << 20, map_size = 0;
    uint64_t batch = 1024;
    unsigned matches = 1;
    const char *outdir = NULL, *before = NULL, *time_field = NULL;
    bool no_sync = false;
    struct wn_index_run_options ro;
    wn_index_run_options_init(&ro);
    const struct opt opts[] = {
        {"output", 'o', OPT_STRING, &outdir, "DIR",
         "add: write kept/removed/rejected/stats here"},
        {"before", 0, OPT_STRING, &before, "T",
         "expire: drop records older than T (seconds since 1970, "
         "2024-05-01[T12:00:00Z], or an age: 30d, 12h)"},
        {"time-field", 0, OPT_STRING, &time_field, "NAME",
         "record time for expire (default: the time of insertion)"},
        {"matches", 0, OPT_UINT, &matches, "N",
         "query/check: list up to N matches (default 1)"},
        {"batch", 0, OPT_U64, &batch, "N",
         "records per transaction (default 1024)"},
        {"no-sync", 0, OPT_FLAG, &no_sync, NULL,
         "do not sync at commit (fast; a machine crash may lose writes)"},
        {"map-size", 0, OPT_SIZE, &map_size, "SIZE",
         "initial map size (default 1G; grows when full)"},
        {"method", 0, OPT_CHOICE, &d->method, NULL,
         "create: near-duplicate sketch (default minhash)", method_names},
        {"tokens", 0, OPT_CHOICE, &d->token_mode, NULL,
         "create: word or character n-grams (default word)", token_names},
        {"ngram", 'n', OPT_UINT, &ngram, "N",
         "create: shingle length (default 5)"},
        {"num-perm", 'k', OPT_UINT, &num_perm, "K",
         "create: MinHash size (default 128)"},
        {"profile", 0, OPT_CHOICE, &d->profile, NULL,
         "create: pair rule, as winnow dedup's (default classic: "
         "docs/INDEX.md)",
         profile_names},
        {"threshold", 't', OPT_DOUBLE, &d->threshold, "T",
         "create: Jaccard threshold (default: the profile's, news 0.5, "
         "classic 0.8, web 0.7)"},
        {"bands", 0, OPT_UINT, &bands, "B", "create: LSH bands"},
        {"rows", 0, OPT_UINT, &rows, "R", "create: LSH rows per band"},
        {"containment", 0, OPT_OPTDOUBLE, &d->containment, "C",
         "create: also accept contained copies (default 0.8)", NULL, 0.8},
        {"sketch", 0, OPT_CHOICE, &d->sketch, NULL,
         "create: MinHash scheme (default oph)", sketch_names},
        {"hamming", 0, OPT_UINT, &hamming, "K",
         "create: simhash Hamming distance (default 3)"},
        {"seed", 0, OPT_U64, &seed, "N", "create: hash seed (default 1)"},
        {"fn-weight", 0, OPT_DOUBLE, &fn_weight, "W",
         "create: LSH weight of false negatives (default 0.95)"},
        {"id-field", 0, OPT_STRING, &ro.reader.id_field, "NAME",
         "JSON field of the id (default id)"},
        {"text-field", 0, OPT_STRING, &ro.reader.text_field, "NAME",
         "JSON field of the text (default text)"},
        {"max-record-bytes", 0, OPT_SIZE, &max_bytes, "SIZE",
         "reject longer records (default 64M)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "create|add|check|query|stats|expire PATH [INPUT...]";
    const char *summary =
        "A persistent index of records seen (docs/INDEX.md).\n"
        "  create PATH        make an index with the rule options given\n"
        "  add PATH INPUT...  add the records not already indexed; with\n"
        "                     --output DIR write kept/removed like dedup\n"
        "  check PATH INPUT...  the same, printing one JSON line per record\n"
        "  query PATH INPUT...  print the matches, add nothing\n"
        "  stats PATH         print counts, sizes and the rule\n"
        "  expire PATH --before T  drop records older than T\n"
        "Rule options given to other subcommands must match the index's.";
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0;
    if (!pos)
        return EXIT_FAIL;
    int prc = cli_parse("index", usage, summary, opts, argc, argv, pos, &npos);
    if (prc) {
        free(pos);
        return prc < 0 ? EXIT_OK : prc;
    }
    /* The profile sets the threshold unless it is given, as in dedup. */
    if (d->threshold < 0)
        d->threshold = d->profile == WN_PROFILE_CLASSIC ? 0.8
                       : d->profile == WN_PROFILE_WEB   ? 0.7
                                                        : 0.5;
    d->ngram = ngram;
    d->num_perm = num_perm;
    d->bands = bands;
    d->rows = rows;
    d->hamming = hamming;
    d->seed = seed;
    d->weight_fn = fn_weight;
    d->weight_fp = 1.0 - fn_weight;
    static const char *const subs[] = {"create", "add",   "check",
                                       "query",  "stats", "expire"};
    int sub = -1;
    for (int i = 0; npos > 0 && i < 6; i++)
        if (!strcmp(pos[0], subs[i]))
            sub = i;
    int want_inputs = sub >= 1 && sub <= 3;
    if (sub < 0 || npos < 2 || (want_inputs && npos < 3) ||
        (!want_inputs && npos > 2)) {
        if (npos == 0 || sub < 0)
            cli_error("index: %s",
                      npos ? "unknown subcommand" : "a subcommand is required");
        else
            cli_error("index %s: %s", subs[sub],
                      npos < 2                  ? "PATH is required"
                      : want_inputs && npos < 3 ? "no input given"
                                                : "unexpected argument");
        fprintf(stderr, "usage: winnow index %s\n", usage);
        free(pos);
        return EXIT_USAGE;
    }
    const char *path = pos[1];
    if ((outdir && sub != 1) || (before && sub != 5) || (!before && sub == 5) ||
        matches == 0 || batch == 0 || max_bytes == 0 ||
        max_bytes >= (4ull << 30)) {
        cli_error("index %s: %s", subs[sub],
                  outdir && sub != 1    ? "--output goes with add"
                  : before && sub != 5  ? "--before goes with expire"
                  : !before && sub == 5 ? "--before T is required"
                  : matches == 0        ? "--matches must be at least 1"
                  : batch == 0          ? "--batch must be at least 1"
                                        : "bad --max-record-bytes");
        free(pos);
        return EXIT_USAGE;
    }
    int64_t before_t = 0;
    if (before && cli_parse_time(before, &before_t)) {
        cli_error("index expire: cannot read the time '%s'", before);
        free(pos);
        return EXIT_USAGE;
    }
    if ((bands == 0) != (rows == 0)) {
        cli_error("index: --bands and --rows go together");
        free(pos);
        return EXIT_USAGE;
    }
    if (sub == 0) {
        char data[4096];
        struct stat st;
        snprintf(data, sizeof(data), "%s/data.mdb", path);
        if (stat(data, &st) == 0) {
            cli_error("index create: '%s' already holds an index", path);
            free(pos);
            return EXIT_FAIL;
        }
    }
    io.create = sub == 0;
    io.check_params = sub != 0 && rule_given(argc, argv);
    io.read_only = sub == 3 || sub == 4;
    io.no_sync = no_sync;
    io.map_size = map_size;
    struct wn_index *ix = NULL;
    char msg[512];
    int rc = wn_index_open(path, &io, &ix, msg, sizeof(msg));
    if (rc) {
        cli_error("index %s: %s", subs[sub], msg[0] ? msg : wn_strerror(rc));
        free(pos);
        return rc == WN_EMISMATCH || rc == WN_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    int status = EXIT_OK;
    if (sub == 0 || sub == 4) {
        status = print_stats(ix, path);
    } else if (sub == 5) {
        uint64_t removed = 0;
        cli_install_signals();
        rc = wn_index_expire(ix, before_t, &removed);
        if (rc) {
            cli_error("index expire: %s", wn_strerror(rc));
            status = EXIT_FAIL;
        } else {
            cli_info("expired %llu records older than %lld",
                     (unsigned long long)removed, (long long)before_t);
        }
    } else {
        struct printer pr;
        memset(&pr, 0, sizeof(pr));
        pr.matches = matches;
        ro.reader.max_record_bytes = (size_t)max_bytes;
        ro.time_field = time_field;
        ro.add = sub != 3;
        ro.batch = (size_t)batch;
        ro.max_matches = matches;
        ro.no_fsync = no_sync;
        ro.cancel = &cli_cancel;
        ro.on_reject = on_reject;
        ro.on_result = sub == 1 ? NULL : on_result;
        ro.ud = &pr;
        char name[32];
        snprintf(name, sizeof(name), "index %s", subs[sub]);
        struct cli_progress prog;
        cli_progress_start(&prog, name, &ro.progress);
        cli_install_signals();
        struct wn_index_run_report rep;
        rc =
            wn_index_run(ix, (const char *const *)(pos + 2), (size_t)(npos - 2),
                         sub == 1 ? outdir : NULL, &ro, &rep);
        cli_progress_end(&prog);
        fflush(stdout);
        int failed = cli_run_failed(subs[sub], rc, rep.error_path, 0);
        if (failed >= 0) {
            status = failed;
        } else {
            cli_rejects_finish(&pr.log);
            if (sub == 1)
                cli_info("read %llu records in %.2f s: added %llu, already "
                         "indexed %llu (by an earlier run), removed %llu "
                         "(%llu exact, %llu near, %llu contained, %llu id), "
                         "rejected %llu",
                         (unsigned long long)rep.read, rep.seconds,
                         (unsigned long long)(rep.kept - rep.kept_indexed),
                         (unsigned long long)rep.kept_indexed,
                         (unsigned long long)rep.removed,
                         (unsigned long long)rep.removed_exact,
                         (unsigned long long)rep.removed_near,
                         (unsigned long long)rep.removed_contained,
                         (unsigned long long)rep.removed_id,
                         (unsigned long long)rep.rejected);
            if (rep.time_missing)
                cli_error("warning: --time-field %s: %llu records have no "
                          "readable time; their time of insertion is used",
                          time_field, (unsigned long long)rep.time_missing);
            status = rep.rejected ? EXIT_REJECTED : EXIT_OK;
        }
    }
    wn_index_free(ix);
    free(pos);
    return status;
}
