/*
 * cmd_report.c - `winnow report DIR`: write DIR/report.html from the outputs
 * of a finished `winnow dedup` run in DIR and the run's inputs (those
 * stats.json names, or --input FILE...).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_report(int argc, char **argv)
{
    struct wn_report_options o;
    wn_report_options_init(&o);
    const char *input_help =
        NULL; /* documented here, taken by cli_take_inputs */
    unsigned samples = o.sample_clusters, members = o.sample_members;
    unsigned top = o.top_clusters, lines = o.top_lines, text_cap = o.text_cap;
    const struct opt opts[] = {
        {"input", 0, OPT_STRING, &input_help, "FILE",
         "the run's input (repeatable; default: the inputs stats.json names)"},
        {"samples", 0, OPT_UINT, &samples, "N",
         "clusters shown side by side (default 8)"},
        {"members", 0, OPT_UINT, &members, "N",
         "removed members shown per sampled cluster (default 4)"},
        {"top-clusters", 0, OPT_UINT, &top, "N",
         "largest clusters listed (default 20)"},
        {"top-lines", 0, OPT_UINT, &lines, "N",
         "most frequent lines listed (default 30)"},
        {"text-cap", 0, OPT_UINT, &text_cap, "BYTES",
         "bytes of each text shown (default 16384)"},
        {"text-field", 0, OPT_STRING, &o.reader.text_field, "NAME",
         "JSON field of the text (default text)"},
        {"id-field", 0, OPT_STRING, &o.reader.id_field, "NAME",
         "JSON field of the id (default id)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "[--input FILE...] DIR";
    const char *summary =
        "Write DIR/report.html from a finished 'winnow dedup --output DIR' "
        "run: one\nself-contained page with the summary and accounting, the "
        "parameters and their\nS-curve, histograms of similarities and "
        "cluster sizes, the largest clusters, the\nmost frequent lines, and "
        "a sample of clusters side by side with their shared\npassages "
        "marked. The inputs are read once, for the texts.";
    const char **inputs = calloc((size_t)argc + 1, sizeof(char *));
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0, ninputs = 0;
    if (!inputs || !pos) {
        free(inputs);
        free(pos);
        return EXIT_FAIL;
    }
    argc = cli_take_inputs(argc, argv, inputs, &ninputs);
    int prc = cli_parse("report", usage, summary, opts, argc, argv, pos, &npos);
    if (!prc && npos != 1) {
        cli_error("report: need one output directory DIR (see --help)");
        prc = EXIT_USAGE;
    }
    if (!prc && samples > 1000) {
        cli_error("report: --samples must be at most 1000");
        prc = EXIT_USAGE;
    }
    if (prc) {
        free(inputs);
        free(pos);
        return prc < 0 ? EXIT_OK : EXIT_USAGE;
    }
    o.inputs = ninputs ? inputs : NULL;
    o.ninputs = (size_t)ninputs;
    o.sample_clusters = samples;
    o.sample_members = members;
    o.top_clusters = top;
    o.top_lines = lines;
    o.text_cap = text_cap;
    char where[512] = "";
    int rc = wn_report_write(pos[0], &o, where, sizeof(where));
    int status = EXIT_OK;
    if (rc == WN_EOPEN) {
        cli_error("report: cannot open '%s': %s", where,
                  cli_open_reason(where, 0));
        status = EXIT_FAIL;
    } else if (rc) {
        cli_error("report: %s%s%s", where[0] ? where : "", where[0] ? ": " : "",
                  wn_strerror(rc));
        status = EXIT_FAIL;
    } else if (cli_verbosity >= 0) {
        cli_info("wrote %s/report.html", pos[0]);
    }
    free(inputs);
    free(pos);
    return status;
}
