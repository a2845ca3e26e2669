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
    struct cli_files f = {.cmd = "passages",
                          .usage = "[options] --output DIR INPUT...",
                          .max_bytes = 64ull << 20};
    unsigned min_span = o.min_span, min_length = o.min_length;
    unsigned max_where = o.max_where;
    uint64_t memory = o.memory;
    bool drop_short = false;
    const struct opt opts[] = {
        {"output", 'o', OPT_STRING, &f.outdir, "DIR",
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
        CLI_FILES_OPTS(f, o),
    };
    const char *summary =
        "Find every passage of at least --min-span tokens that occurs more "
        "than once,\nwithin a record or across records (a suffix array over "
        "the corpus, Lee et al.\n2022). spans.jsonl lists them with byte "
        "offsets into the text field, their\ncount and where else they "
        "occur; --mode remove cuts every occurrence after the\nfirst.";
    int status = cli_files_parse(&f, summary, opts, argc, argv, &o.reader);
    if (status >= 0)
        return status;
    if (min_span == 0)
        return cli_files_usage(&f, "--min-span must be at least 1");
    if (drop_short && o.mode != WN_SPANS_REMOVE)
        return cli_files_usage(&f, "--drop-short needs --mode remove");
    o.min_span = min_span;
    o.min_length = min_length;
    o.max_where = max_where;
    o.memory = memory;
    o.drop_short = drop_short;
    cli_files_begin(&f, &o.progress, &o.on_reject, &o.ud, &o.cancel);
    struct wn_passages_report rep;
    memset(&rep, 0, sizeof(rep)); /* untouched on an early error */
    int rc = wn_passages_run((const char *const *)f.pos, (size_t)f.npos,
                             f.outdir, &o, &rep);
    status = cli_files_end(&f, rc, rep.error_path, rep.error_errno, rep.read);
    if (status >= 0)
        return status;
    char more[160];
    snprintf(more, sizeof(more), "; %llu spans (%llu tokens) in %llu records",
             (unsigned long long)rep.spans, (unsigned long long)rep.span_tokens,
             (unsigned long long)rep.docs_with_spans);
    cli_files_info(rep.read, rep.bytes, rep.seconds, rep.kept, rep.removed,
                   rep.rejected, more);
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
