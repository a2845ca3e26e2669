/*
 * cmd_lines.c - `winnow lines`: lines or paragraphs that occur in many
 * records (site boilerplate), annotated or removed.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = {"annotate", "remove", NULL};
static const char *const unit_names[] = {"line", "paragraph", NULL};
static const char *const token_names[] = {"word", "char", NULL};

int cmd_lines(int argc, char **argv)
{
    struct wn_lines_options o;
    wn_lines_options_init(&o);
    const char *outdir = NULL;
    unsigned min_docs = o.min_docs, min_length = o.min_length;
    uint64_t memory = o.memory, seed = o.seed, max_bytes = 64ull << 20;
    bool drop_short = false;
    const struct opt opts[] = {
        {"output", 'o', OPT_STRING, &outdir, "DIR",
         "write kept, removed, lines, rejected, stats here"},
        {"mode", 0, OPT_CHOICE, &o.mode, NULL,
         "report frequent units, or remove them (default annotate)",
         mode_names},
        {"unit", 0, OPT_CHOICE, &o.unit, NULL,
         "lines, or blank-line separated paragraphs (default line)",
         unit_names},
        {"min-docs", 0, OPT_UINT, &min_docs, "N",
         "frequent: in at least N records (default 3)"},
        {"min-length", 0, OPT_UINT, &min_length, "N",
         "remove: a record left with fewer tokens is short (default 20)"},
        {"drop-short", 0, OPT_FLAG, &drop_short, NULL,
         "remove: also remove short records"},
        {"tokens", 0, OPT_CHOICE, &o.token_mode, NULL,
         "normalize units as words or characters (default word)", token_names},
        {"memory", 0, OPT_SIZE, &memory, "SIZE",
         "memory budget of the count (default 1G)"},
        {"tmp-dir", 0, OPT_STRING, &o.tmp_dir, "DIR",
         "spill files here (default: inside the output dir)"},
        {"seed", 0, OPT_U64, &seed, "N", "hash seed (default 1)"},
        {"id-field", 0, OPT_STRING, &o.reader.id_field, "NAME",
         "JSON field of the id (default id)"},
        {"text-field", 0, OPT_STRING, &o.reader.text_field, "NAME",
         "JSON field of the text (default text)"},
        {"max-record-bytes", 0, OPT_SIZE, &max_bytes, "SIZE",
         "reject longer records (default 64M)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "[options] --output DIR INPUT...";
    const char *summary =
        "Find lines (or paragraphs) that occur in at least --min-docs "
        "records, compared\nby their normalized tokens, as CCNet does. "
        "lines.jsonl lists them per record\nwith byte offsets into the "
        "text field; --mode remove cuts them.";
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0;
    if (!pos)
        return EXIT_FAIL;
    int prc = cli_parse("lines", usage, summary, opts, argc, argv, pos, &npos);
    if (prc) {
        free(pos);
        return prc < 0 ? EXIT_OK : prc;
    }
    if (!outdir || npos == 0) {
        cli_error("lines: %s",
                  !outdir ? "--output DIR is required" : "no input given");
        fprintf(stderr, "usage: winnow lines %s\n", usage);
        free(pos);
        return EXIT_USAGE;
    }
    if (min_docs == 0 || (drop_short && o.mode != WN_SPANS_REMOVE)) {
        cli_error("lines: %s", min_docs == 0
                                   ? "--min-docs must be at least 1"
                                   : "--drop-short needs --mode remove");
        free(pos);
        return EXIT_USAGE;
    }
    o.min_docs = min_docs;
    o.min_length = min_length;
    o.drop_short = drop_short;
    o.memory = memory;
    o.seed = seed;
    if (max_bytes == 0 || max_bytes >= (4ull << 30)) {
        cli_error("lines: --max-record-bytes must be between 1 and 4G - 1");
        free(pos);
        return EXIT_USAGE;
    }
    o.reader.max_record_bytes = (size_t)max_bytes;
    struct cli_rejects rejects = {0};
    o.on_reject = cli_on_reject;
    o.ud = &rejects;
    struct cli_progress prog;
    cli_progress_start(&prog, "lines", &o.progress);
    o.cancel = &cli_cancel;
    cli_install_signals();
    struct wn_lines_report rep;
    memset(&rep, 0, sizeof(rep)); /* untouched on an early error */
    int rc =
        wn_lines_run((const char *const *)pos, (size_t)npos, outdir, &o, &rep);
    cli_progress_end(&prog);
    free(pos);
    int failed = cli_run_failed("lines", rc, rep.error_path, rep.error_errno);
    if (failed >= 0)
        return failed;
    cli_rejects_finish(&rejects);
    cli_warn_if_empty(rep.read);
    double mb = rep.bytes / 1e6;
    cli_info("read %llu records (%.1f MB) in %.2f s (%.1f MB/s): kept %llu, "
             "removed %llu, rejected %llu; %llu frequent %ss, %llu "
             "occurrences in %llu records",
             (unsigned long long)rep.read, mb, rep.seconds,
             rep.seconds > 0 ? mb / rep.seconds : 0.0,
             (unsigned long long)rep.kept, (unsigned long long)rep.removed,
             (unsigned long long)rep.rejected,
             (unsigned long long)rep.frequent_units,
             o.unit == WN_UNIT_PARAGRAPH ? "paragraph" : "line",
             (unsigned long long)rep.repeated_units,
             (unsigned long long)rep.docs_with_repeats);
    if (cli_verbosity > 0)
        cli_info("%llu units, %llu distinct, %u sorted runs; peak RSS %.1f "
                 "MB",
                 (unsigned long long)rep.units,
                 (unsigned long long)rep.distinct_units, rep.runs,
                 rep.peak_rss_bytes / 1e6);
    return rep.rejected ? EXIT_REJECTED : EXIT_OK;
}
