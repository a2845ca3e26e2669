/*
 * cmd_dedup.c - `winnow dedup`: exact and near-duplicate removal.
 */
#include "cli.h"
#ifdef WN_HAVE_MPI
#include "dist/dist.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const method_names[] = {"minhash", "simhash", NULL};
static const char *const token_names[] = {"word", "char", NULL};
static const char *const verify_names[] = {"estimate", "exact", NULL};
static const char *const keep_names[] = {"first", "longest", NULL};
static const char *const sketch_names[] = {"oph", "kperm", NULL};
/* In enum wn_profile order. */
static const char *const profile_names[] = {"news", "classic", "web", NULL};

static void print_params(const struct wn_dedup_options *o)
{
    if (o->method == WN_METHOD_SIMHASH) {
        printf("method simhash: 64-bit fingerprints, pairs within Hamming "
               "distance %u\n",
               o->hamming);
        return;
    }
    uint32_t b = o->bands, r = o->rows;
    double fp = 0, fn = 0;
    if (!b && o->profile == WN_PROFILE_CLASSIC &&
        wn_lsh_params(o->threshold, o->num_perm, o->weight_fp, o->weight_fn, &b,
                      &r, &fp, &fn)) {
        cli_error("invalid threshold or --num-perm");
        return;
    }
    if (!b) {
        /* The news and web rules band rows of 4: ask the sketcher. */
        struct wn_sketcher *sk = NULL;
        struct wn_sketcher_info in;
        if (wn_sketcher_create(o, &sk) != WN_OK) {
            cli_error("invalid threshold or --num-perm");
            return;
        }
        wn_sketcher_get_info(sk, &in);
        wn_sketcher_free(sk);
        b = in.bands;
        r = in.rows;
    }
    printf("threshold %.3f, num_perm %u: %u bands x %u rows", o->threshold,
           o->num_perm, b, r);
    if (fp > 0 || fn > 0)
        printf(" (false-positive area %.4f, false-negative area %.4f)", fp, fn);
    printf("\n  similarity  P(candidate)\n");
    for (int i = 1; i <= 20; i++) {
        double s = i / 20.0;
        printf("  %10.2f  %12.6f\n", s, wn_lsh_probability(s, b, r));
    }
}

/* A run refused for more records than one process numbers (WN_ELIMIT
 * with more accepted records than wn_dedup_records_max): the limit and the
 * build option past it (docs/SCALING.md), EXIT_FAIL; -1 for any other
 * outcome. Nothing was published (wn_dedup_run). */
static int limit_failed(int rc, const struct wn_dedup_report *rep)
{
    uint64_t max = wn_dedup_records_max();
    if (rc != WN_ELIMIT || rep->read - rep->rejected <= max)
        return -1;
    cli_error("dedup: more than %llu records for one process (this build "
              "numbers documents in %d bits); no output was written",
              (unsigned long long)max, wn_dedup_docno_bits());
    if (wn_dedup_docno_bits() < 64)
        cli_error("build winnow with 64-bit document numbers for more: "
                  "meson configure BUILDDIR -Dwide_docs=true "
                  "(docs/SCALING.md)");
    return EXIT_FAIL;
}

int cmd_dedup(int argc, char **argv)
{
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    const char *outdir = NULL;
    bool exact_only = false, explain = false, no_fsync = false;
    bool report = false;
    unsigned threads = 0, ngram = o.ngram, num_perm = o.num_perm;
    unsigned bands = 0, rows = 0, hamming = o.hamming;
    uint64_t seed = o.seed, max_bytes = 64ull << 20, memory = 0;
    const char *keep_max = NULL, *index_path = NULL;
    double fn_weight = WN_LSH_WEIGHT_FN;
    int keep = 0, keep_given = -1;
    /* The profile sets the threshold and keep unless they are given. */
    o.threshold = -1;
    const struct opt opts[] = {
        {"output", 'o', OPT_STRING, &outdir, "DIR",
         "write kept/removed/clusters/rejected/stats here (required)"},
        {"exact-only", 0, OPT_FLAG, &exact_only, NULL,
         "only remove exact duplicates (normalized text)"},
        {"method", 0, OPT_CHOICE, &o.method, NULL,
         "near-duplicate sketch (default minhash)", method_names},
        {"tokens", 0, OPT_CHOICE, &o.token_mode, NULL,
         "word n-grams, or character n-grams (default word)", token_names},
        {"ngram", 'n', OPT_UINT, &ngram, "N", "shingle length (default 5)"},
        {"num-perm", 'k', OPT_UINT, &num_perm, "K",
         "MinHash size (default 128)"},
        {"profile", 0, OPT_CHOICE, &o.profile, NULL,
         "pair rule: news (figures-aware, contained copies), classic "
         "(Jaccard only, before issue 12) or web (news without the figure "
         "test, -t 0.7, --keep longest); default news",
         profile_names},
        {"threshold", 't', OPT_DOUBLE, &o.threshold, "T",
         "Jaccard threshold for near duplicates (default: news 0.5, "
         "classic 0.8, web 0.7)"},
        {"bands", 0, OPT_UINT, &bands, "B", "LSH bands (with --rows)"},
        {"rows", 0, OPT_UINT, &rows, "R", "LSH rows per band (with --bands)"},
        {"verify", 0, OPT_CHOICE, &o.verify, NULL,
         "check candidates by estimated or exact Jaccard (default estimate)",
         verify_names},
        {"containment", 0, OPT_OPTDOUBLE, &o.containment, "C",
         "also accept a document contained in another (default 0.8)", NULL,
         0.8},
        {"sketch", 0, OPT_CHOICE, &o.sketch, NULL,
         "MinHash scheme: one-permutation or K permutations (default oph)",
         sketch_names},
        {"hamming", 0, OPT_UINT, &hamming, "K",
         "simhash: max Hamming distance (default 3)"},
        {"keep", 0, OPT_CHOICE, &keep_given, NULL,
         "representative of a cluster (default first)", keep_names},
        {"keep-max", 0, OPT_STRING, &keep_max, "FIELD",
         "keep the record with the largest numeric FIELD"},
        {"id-field", 0, OPT_STRING, &o.reader.id_field, "NAME",
         "JSON field of the id (default id)"},
        {"text-field", 0, OPT_STRING, &o.reader.text_field, "NAME",
         "JSON field of the text (default text)"},
        {"max-record-bytes", 0, OPT_SIZE, &max_bytes, "SIZE",
         "reject longer records (default 64M)"},
        {"threads", 'j', OPT_UINT, &threads, "N",
         "worker threads (default: all cores)"},
        {"memory", 0, OPT_SIZE, &memory, "SIZE",
         "memory budget of the run (default a quarter of RAM; at least 2M "
         "per thread)"},
        {"tmp-dir", 0, OPT_STRING, &o.tmp_dir, "DIR",
         "spill files here (default: inside the output dir)"},
        {"seed", 0, OPT_U64, &seed, "N", "hash seed (default 1)"},
        {"no-fsync", 0, OPT_FLAG, &no_fsync, NULL,
         "do not fsync outputs (atomic, but not durable on power loss)"},
        {"fn-weight", 0, OPT_DOUBLE, &fn_weight, "W",
         "LSH: weight of false negatives vs false positives (default 0.95)"},
        {"explain-params", 0, OPT_FLAG, &explain, NULL,
         "print the LSH bands, rows and S-curve"},
        {"report", 0, OPT_FLAG, &report, NULL,
         "also write DIR/report.html (as winnow report DIR, gathered "
         "during the run)"},
        {"index", 0, OPT_STRING, &index_path, "PATH",
         "judge against this index too, and add the records kept to it "
         "(docs/INDEX.md)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "[options] --output DIR INPUT...";
    const char *summary =
        "Remove exact and near-duplicate records. INPUT is a JSONL file\n"
        "(optionally .gz or .zst), a directory of .txt files, or - for "
        "standard "
        "input.";
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0;
    if (!pos)
        return EXIT_FAIL;
    int prc = cli_parse("dedup", usage, summary, opts, argc, argv, pos, &npos);
    if (prc) {
        free(pos);
        return prc < 0 ? EXIT_OK : prc;
    }
    o.exact_only = exact_only;
    o.no_fsync = no_fsync;
    o.threads = threads;
    o.ngram = ngram;
    o.num_perm = num_perm;
    o.bands = bands;
    o.rows = rows;
    o.hamming = hamming;
    o.seed = seed;
    o.memory = memory;
    if (max_bytes == 0 || max_bytes >= (4ull << 30)) {
        cli_error("dedup: --max-record-bytes must be between 1 and 4G - 1");
        free(pos);
        return EXIT_USAGE;
    }
    o.reader.max_record_bytes = (size_t)max_bytes;
    if (o.threshold < 0)
        o.threshold = o.profile == WN_PROFILE_CLASSIC ? 0.8
                      : o.profile == WN_PROFILE_WEB   ? 0.7
                                                      : 0.5;
    keep = keep_given >= 0               ? keep_given
           : o.profile == WN_PROFILE_WEB ? WN_KEEP_LONGEST
                                         : WN_KEEP_FIRST;
    o.keep = keep;
    if (!(fn_weight >= 0 && fn_weight <= 1)) {
        cli_error("dedup: --fn-weight must be in [0, 1]");
        free(pos);
        return EXIT_USAGE;
    }
    o.weight_fn = fn_weight;
    o.weight_fp = 1.0 - fn_weight;
    if (keep_max) {
        o.keep = WN_KEEP_MAX;
        o.keep_field = keep_max;
    }
    if (explain) {
        print_params(&o);
        if (!outdir && npos == 0) {
            free(pos);
            return EXIT_OK;
        }
    }
    if (!outdir || npos == 0) {
        cli_error("dedup: %s",
                  !outdir ? "--output DIR is required" : "no input given");
        fprintf(stderr, "usage: winnow dedup %s\n", usage);
        free(pos);
        return EXIT_USAGE;
    }
    if ((bands == 0) != (rows == 0)) {
        cli_error("dedup: --bands and --rows go together");
        free(pos);
        return EXIT_USAGE;
    }
    if (report && (index_path || getenv("OMPI_COMM_WORLD_SIZE"))) {
        cli_error("dedup: --report is not available with --index or under "
                  "mpirun; run 'winnow report DIR' after the run");
        free(pos);
        return EXIT_USAGE;
    }
    uint64_t min_memory = wn_dedup_memory_min(&o);
    if (memory && memory < min_memory) {
        /* A budget below the join's floor would make it quadratic. */
        cli_error("dedup: --memory %llu is too small; the smallest that works "
                  "with %u thread%s is %lluM (--memory %lluM)",
                  (unsigned long long)memory,
                  (unsigned)(min_memory / (32ull * 65536)),
                  min_memory == 32ull * 65536 ? "" : "s",
                  (unsigned long long)(min_memory >> 20),
                  (unsigned long long)(min_memory >> 20));
        free(pos);
        return EXIT_USAGE;
    }
    if (index_path)
        return cli_dedup_index(index_path, &o, argc, argv, pos, npos, outdir);
    struct cli_rejects log = {0};
    o.on_reject = cli_on_reject;
    struct cli_progress prog;
    cli_progress_start(&prog, "dedup", &o.progress);
    o.ud = &log;
    o.cancel = &cli_cancel;
    cli_install_signals();
    /* wn_dedup_run writes the report whatever the outcome; zeroed anyway,
     * so that reading rep.error_path never depends on it. */
    struct wn_dedup_report rep;
    memset(&rep, 0, sizeof(rep));
    /* Under mpirun (Open MPI sets OMPI_COMM_WORLD_SIZE) the ranks share
     * the run: lib/dist, docs/SCALING.md. */
    const char *mpi_size = getenv("OMPI_COMM_WORLD_SIZE");
    int rc;
    if (mpi_size) {
#ifdef WN_HAVE_MPI
        int rank = 0, size = 1;
        struct wn_dist_traffic sent;
        rc = wn_dist_dedup((const char *const *)pos, (size_t)npos, outdir, &o,
                           &rep, &rank, &size, &sent);
        free(pos);
        if (rc == WN_EINVAL && strcmp(rep.error_path, "-") == 0) {
            cli_error("dedup: standard input cannot be read by MPI ranks; "
                      "give files");
            wn_dist_abort(EXIT_USAGE);
        }
        if (rc) {
            if (rank != 0)
                cli_error("dedup: MPI rank %d of %d failed", rank, size);
            int code = limit_failed(rc, &rep);
            if (code < 0)
                code = cli_run_failed("dedup", rc, rep.error_path,
                                      rep.error_errno);
            if (sent.output_unseen)
                cli_error("dedup: every rank writes its kept records into "
                          "rank 0's output directory, so it must be on a file "
                          "system every rank sees (docs/SCALING.md)");
            wn_dist_abort(code > 0 ? code : EXIT_FAIL);
        }
        /* bench/bench_mpi.sh adds these up: keep the key=bytes form. */
        if (cli_verbosity > 0)
            cli_info(
                "MPI rank %d of %d: read %llu records; sent raw=%llu "
                "sketches=%llu other=%llu keys=%llu pairs=%llu fates=%llu "
                "vpairs=%llu vrecs=%llu verdicts=%llu rule=%llu; "
                "peak_rss=%llu",
                rank, size, (unsigned long long)sent.records,
                (unsigned long long)sent.raw, (unsigned long long)sent.sketches,
                (unsigned long long)sent.other, (unsigned long long)sent.keys,
                (unsigned long long)sent.pairs, (unsigned long long)sent.fates,
                (unsigned long long)sent.vpairs, (unsigned long long)sent.vrecs,
                (unsigned long long)sent.verdicts,
                (unsigned long long)sent.rule,
                (unsigned long long)rep.peak_rss_bytes);
        wn_dist_finalize();
        if (rank != 0)
            return EXIT_OK; /* rank 0 reports the run */
#else
        free(pos);
        cli_error("dedup: running under mpirun (OMPI_COMM_WORLD_SIZE=%s), but "
                  "this winnow was built without MPI (see docs/SCALING.md)",
                  mpi_size);
        return EXIT_USAGE;
#endif
    } else {
        rc = report ? wn_dedup_run_report((const char *const *)pos,
                                          (size_t)npos, outdir, &o, NULL, &rep)
                    : wn_dedup_run((const char *const *)pos, (size_t)npos,
                                   outdir, &o, &rep);
        free(pos);
    }
    cli_progress_end(&prog);
    if (rc == WN_EINVAL && !o.exact_only && !o.bands &&
        o.method == WN_METHOD_MINHASH) {
        /* The one combination the parser cannot see: the LSH for this
         * threshold and K needs more bands than the dedup job keeps. */
        uint32_t b = 0, r = 0;
        double t = o.threshold;
        if (o.containment > 0 && o.containment / (3.0 - o.containment) < t)
            t = o.containment / (3.0 - o.containment);
        if (wn_lsh_params(t, o.num_perm, o.weight_fp, o.weight_fn, &b, &r, NULL,
                          NULL) == WN_OK &&
            b > 256) {
            cli_error("dedup: --threshold %g with --num-perm %u needs %u LSH "
                      "bands, more than the 256 supported; use a smaller "
                      "--num-perm or give --bands and --rows",
                      t, o.num_perm, b);
            return EXIT_USAGE;
        }
    }
    int failed = limit_failed(rc, &rep);
    if (failed < 0)
        failed = cli_run_failed("dedup", rc, rep.error_path, rep.error_errno);
    if (failed >= 0)
        return failed;
    cli_rejects_finish(&log);
    cli_warn_if_empty(rep.read);
    double mb = rep.bytes / 1e6;
    cli_info(
        "read %llu records (%.1f MB) in %.2f s (%.0f MB/s): kept %llu, "
        "removed %llu (%llu exact, %llu near) in %llu clusters, "
        "rejected %llu",
        (unsigned long long)rep.read, mb, rep.seconds,
        rep.seconds > 0 ? mb / rep.seconds : 0.0, (unsigned long long)rep.kept,
        (unsigned long long)rep.removed, (unsigned long long)rep.removed_exact,
        (unsigned long long)rep.removed_near, (unsigned long long)rep.clusters,
        (unsigned long long)rep.rejected);
    if (rep.duplicate_ids)
        cli_error("warning: %llu records share their id with an earlier "
                  "record; the outputs name records by id, so those names "
                  "are ambiguous (choose a unique field with --id-field)",
                  (unsigned long long)rep.duplicate_ids);
    if (rep.keep_missing)
        cli_error("warning: --keep-max %s: %llu records have no numeric "
                  "value there and rank below all others",
                  o.keep_field, (unsigned long long)rep.keep_missing);
    if (cli_verbosity > 0 && !o.exact_only)
        cli_info("lsh %u bands x %u rows; %llu candidate pairs, %llu "
                 "verified, %llu edges; %llu large buckets (max %llu)",
                 rep.bands, rep.rows, (unsigned long long)rep.candidates,
                 (unsigned long long)rep.verified,
                 (unsigned long long)rep.edges,
                 (unsigned long long)rep.large_buckets,
                 (unsigned long long)rep.max_bucket);
    return rep.rejected ? EXIT_REJECTED : EXIT_OK;
}
