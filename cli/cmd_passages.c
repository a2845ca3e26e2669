/*
 * cmd_passages.c - `winnow passages`: exact repeated passages of at least
 * --min-span tokens, within and across records, annotated or cut.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = {"annotate", "remove", NULL};
static const char *const token_names[] = {"word", "char", NULL};

int cmd_passages(int argc, char **argv)
{
    struct wn_passages_options o;
    wn_passages_options_init(&o);
    const char *outdir = NULL;
    unsigned min_span = o.min_span, min_length = o.min_length;
    unsigned max_where = o.max_where;
    uint64_t memory = o.memory, max_bytes = 64ull << 20;
    bool drop_short = false;
    const struct opt opts[] = {
        {"output", 'o', OPT_STRING, &outdir, "DIR",
         "write kept, removed, spans, rejected, stats here"},
        {"mode", 0, OPT_CHOICE, &o.mode, NULL,
         "report repeated spans, or cut all but the first occurrence "
         "(default annotate)",
         mode_names},
        {"min-span", 'n', OPT_UINT, &min_span, "N",
         "shortest repeat, in tokens (default 50 words)"},
        {"tokens", 0, OPT_CHOICE, &o.token_mode, NULL,
         "count words, or characters for CJK (default word)", token_names},
        {"min-length", 0, OPT_UINT, &min_length, "N",
         "remove: a record left with fewer tokens is short (default 20)"},
        {"drop-short", 0, OPT_FLAG, &drop_short, NULL,
         "remove: also remove short records"},
        {"max-where", 0, OPT_UINT, &max_where, "N",
         "other occurrences listed per span (default 8)"},
        {"memory", 0, OPT_SIZE, &memory, "SIZE",
         "memory budget of the suffix arrays (default 1G)"},
        {"tmp-dir", 0, OPT_STRING, &o.tmp_dir, "DIR",
         "spill files here (default: inside the output dir)"},
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
        "Find every passage of at least --min-span tokens that occurs more "
        "than once,\nwithin a record or across records (a suffix array over "
        "the corpus, Lee et al.\n2022). spans.jsonl lists them with byte "
        "offsets into the text field, their\ncount and where else they "
        "occur; --mode remove cuts every occurrence after the\nfirst.";
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0;
    if (!pos)
        return EXIT_FAIL;
    int prc =
        cli_parse("passages", usage, summary, opts, argc, argv, pos, &npos);
    if (prc) {
        free(pos);
        return prc < 0 ? EXIT_OK : prc;
    }
    if (!outdir || npos == 0) {
        cli_error("passages: %s",
                  !outdir ? "--output DIR is required" : "no input given");
        fprintf(stderr, "usage: winnow passages %s\n", usage);
        free(pos);
        return EXIT_USAGE;
    }
    if (min_span == 0 || (drop_short && o.mode != WN_SPANS_REMOVE)) {
        cli_error("passages: %s", min_span == 0
                                      ? "--min-span must be at least 1"
                                      : "--drop-short needs --mode remove");
        free(pos);
        return EXIT_USAGE;
    }
    o.min_span = min_span;
    o.min_length = min_length;
    o.max_where = max_where;
    o.memory = memory;
    o.drop_short = drop_short;
    if (max_bytes == 0 || max_bytes >= (4ull << 30)) {
        cli_error("passages: --max-record-bytes must be between 1 and 4G - 1");
        free(pos);
        return EXIT_USAGE;
    }
    o.reader.max_record_bytes = (size_t)max_bytes;
    struct cli_rejects rejects = {0};
    o.on_reject = cli_on_reject;
    o.ud = &rejects;
    struct cli_progress prog;
    cli_progress_start(&prog, "passages", &o.progress);
    o.cancel = &cli_cancel;
    cli_install_signals();
    struct wn_passages_report rep;
    memset(&rep, 0, sizeof(rep)); /* untouched on an early error */
    int rc = wn_passages_run((const char *const *)pos, (size_t)npos, outdir, &o,
                             &rep);
    cli_progress_end(&prog);
    free(pos);
    int failed =
        cli_run_failed("passages", rc, rep.error_path, rep.error_errno);
    if (failed >= 0)
        return failed;
    cli_rejects_finish(&rejects);
    cli_warn_if_empty(rep.read);
    double mb = rep.bytes / 1e6;
    cli_info("read %llu records (%.1f MB) in %.2f s (%.1f MB/s): kept %llu, "
             "removed %llu, rejected %llu; %llu spans (%llu tokens) in %llu "
             "records",
             (unsigned long long)rep.read, mb, rep.seconds,
             rep.seconds > 0 ? mb / rep.seconds : 0.0,
             (unsigned long long)rep.kept, (unsigned long long)rep.removed,
             (unsigned long long)rep.rejected, (unsigned long long)rep.spans,
             (unsigned long long)rep.span_tokens,
             (unsigned long long)rep.docs_with_spans);
    if (cli_verbosity > 0)
        cli_info(
            "%llu tokens, %llu distinct (%llu coded by hash), %.1f MB "
            "coded; %u parts, largest %.1f MB; %llu windows joined "
            "across parts; peak RSS %.1f MB",
            (unsigned long long)rep.tokens, (unsigned long long)rep.vocabulary,
            (unsigned long long)rep.hashed_tokens, rep.code_bytes / 1e6,
            rep.parts, rep.part_peak_bytes / 1e6,
            (unsigned long long)rep.cross_windows, rep.peak_rss_bytes / 1e6);
    return rep.rejected ? EXIT_REJECTED : EXIT_OK;
}
