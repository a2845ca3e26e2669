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
    struct cli_files f = {.cmd = "lines",
                          .usage = "[options] --output DIR INPUT...",
                          .max_bytes = 64ull << 20};
    unsigned min_docs = o.min_docs, min_length = o.min_length;
    uint64_t memory = o.memory, seed = o.seed;
    bool drop_short = false;
    const struct opt opts[] = {
        {"output", 'o', OPT_STRING, &f.outdir, "DIR",
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
        {"seed", 0, OPT_U64, &seed, "N", "hash seed (default 1)"},
        CLI_FILES_OPTS(f, o),
    };
    const char *summary =
        "Find lines (or paragraphs) that occur in at least --min-docs "
        "records, compared\nby their normalized tokens, as CCNet does. "
        "lines.jsonl lists them per record\nwith byte offsets into the "
        "text field; --mode remove cuts them.";
    int status = cli_files_parse(&f, summary, opts, argc, argv, &o.reader);
    if (status >= 0)
        return status;
    if (min_docs == 0)
        return cli_files_usage(&f, "--min-docs must be at least 1");
    if (drop_short && o.mode != WN_SPANS_REMOVE)
        return cli_files_usage(&f, "--drop-short needs --mode remove");
    o.min_docs = min_docs;
    o.min_length = min_length;
    o.drop_short = drop_short;
    o.memory = memory;
    o.seed = seed;
    cli_files_begin(&f, &o.progress, &o.on_reject, &o.ud, &o.cancel);
    struct wn_lines_report rep;
    memset(&rep, 0, sizeof(rep)); /* untouched on an early error */
    int rc = wn_lines_run((const char *const *)f.pos, (size_t)f.npos, f.outdir,
                          &o, &rep);
    status = cli_files_end(&f, rc, rep.error_path, rep.error_errno, rep.read);
    if (status >= 0)
        return status;
    char more[160];
    snprintf(more, sizeof(more),
             "; %llu frequent %ss, %llu occurrences in "
             "%llu records",
             (unsigned long long)rep.frequent_units,
             o.unit == WN_UNIT_PARAGRAPH ? "paragraph" : "line",
             (unsigned long long)rep.repeated_units,
             (unsigned long long)rep.docs_with_repeats);
    cli_files_info(rep.read, rep.bytes, rep.seconds, rep.kept, rep.removed,
                   rep.rejected, more);
    if (cli_verbosity > 0)
        cli_info("%llu units, %llu distinct, %u sorted runs; peak RSS %.1f "
                 "MB",
                 (unsigned long long)rep.units,
                 (unsigned long long)rep.distinct_units, rep.runs,
                 rep.peak_rss_bytes / 1e6);
    return rep.rejected ? EXIT_REJECTED : EXIT_OK;
}
