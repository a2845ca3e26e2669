/*
 * cmd_repeats.c - `winnow repeats`: repetition inside each record (the
 * Gopher measures), reported per record and usable as a filter. The
 * --max-<measure> options are made from the library's list of measures,
 * so the table and the library cannot drift apart.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const token_names[] = {"word", "char", NULL};

#define FIXED_OPTS 6

int cmd_repeats(int argc, char **argv)
{
    struct wn_repeats_options o;
    wn_repeats_options_init(&o);
    const char *outdir = NULL;
    uint64_t max_bytes = 64ull << 20;
    bool gopher = false;
    double max[WN_REP_COUNT];
    char names[WN_REP_COUNT][48], helps[WN_REP_COUNT][96];
    struct opt opts[FIXED_OPTS + WN_REP_COUNT + 1];
    size_t k = 0;
    opts[k++] = (struct opt){"output",
                             'o',
                             OPT_STRING,
                             &outdir,
                             "DIR",
                             "write kept, removed, repetition, rejected, "
                             "stats here"};
    opts[k++] = (struct opt){
        "gopher", 0,    OPT_FLAG,
        &gopher,  NULL, "every Gopher threshold (--max-* given win)"};
    opts[k++] = (struct opt){
        "tokens",      0,    OPT_CHOICE,
        &o.token_mode, NULL, "n-grams of words or characters (default word)",
        token_names};
    opts[k++] = (struct opt){"id-field", 0,
                             OPT_STRING, &o.reader.id_field,
                             "NAME",     "JSON field of the id (default id)"};
    opts[k++] = (struct opt){
        "text-field",         0,      OPT_STRING,
        &o.reader.text_field, "NAME", "JSON field of the text (default text)"};
    opts[k++] = (struct opt){
        "max-record-bytes", 0,      OPT_SIZE,
        &max_bytes,         "SIZE", "reject longer records (default 64M)"};
    for (int i = 0; i < WN_REP_COUNT; i++) {
        const char *name = wn_repetition_name(i);
        size_t n = (size_t)snprintf(names[i], sizeof(names[i]), "max-%s", name);
        for (size_t c = 0; c < n; c++)
            if (names[i][c] == '_')
                names[i][c] = '-';
        snprintf(helps[i], sizeof(helps[i]),
                 "remove records above X (Gopher %.2f)",
                 wn_repetition_gopher(i));
        max[i] = NAN; /* not given */
        opts[k++] =
            (struct opt){names[i], 0, OPT_DOUBLE, &max[i], "X", helps[i]};
    }
    opts[k] = (struct opt){NULL, 0, OPT_END, NULL, NULL, NULL};
    const char *usage = "[options] --output DIR INPUT...";
    const char *summary =
        "Measure repetition inside each record: duplicate lines and "
        "paragraphs, the most\nfrequent 2-4-grams, duplicate 5-10-grams "
        "(the Gopher rules, Rae et al. 2021).\nrepetition.jsonl has the "
        "measures of every record; records above a --max-*\nthreshold are "
        "removed with the measures that exceeded it. Memory follows the "
        "largest\nrecord: about 12-16 bytes per byte of it "
        "(--max-record-bytes bounds it).";
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0;
    if (!pos)
        return EXIT_FAIL;
    int prc =
        cli_parse("repeats", usage, summary, opts, argc, argv, pos, &npos);
    if (prc) {
        free(pos);
        return prc < 0 ? EXIT_OK : prc;
    }
    if (!outdir || npos == 0) {
        cli_error("repeats: %s",
                  !outdir ? "--output DIR is required" : "no input given");
        fprintf(stderr, "usage: winnow repeats %s\n", usage);
        free(pos);
        return EXIT_USAGE;
    }
    for (int i = 0; i < WN_REP_COUNT; i++) {
        if (!isnan(max[i]) && max[i] < 0) {
            cli_error("repeats: --%s must not be negative", names[i]);
            free(pos);
            return EXIT_USAGE;
        }
        o.max[i] = !isnan(max[i]) ? max[i]
                   : gopher       ? wn_repetition_gopher(i)
                                  : 1.0;
    }
    if (max_bytes == 0 || max_bytes >= (4ull << 30)) {
        cli_error("repeats: --max-record-bytes must be between 1 and 4G - 1");
        free(pos);
        return EXIT_USAGE;
    }
    o.reader.max_record_bytes = (size_t)max_bytes;
    struct cli_rejects rejects = {0};
    o.on_reject = cli_on_reject;
    o.ud = &rejects;
    struct cli_progress prog;
    cli_progress_start(&prog, "repeats", &o.progress);
    o.cancel = &cli_cancel;
    cli_install_signals();
    struct wn_repeats_report rep;
    memset(&rep, 0, sizeof(rep)); /* untouched on an early error */
    int rc = wn_repeats_run((const char *const *)pos, (size_t)npos, outdir, &o,
                            &rep);
    cli_progress_end(&prog);
    free(pos);
    int failed = cli_run_failed("repeats", rc, rep.error_path, rep.error_errno);
    if (failed >= 0)
        return failed;
    cli_rejects_finish(&rejects);
    cli_warn_if_empty(rep.read);
    double mb = rep.bytes / 1e6;
    cli_info("read %llu records (%.1f MB) in %.2f s (%.1f MB/s): kept %llu, "
             "removed %llu, rejected %llu",
             (unsigned long long)rep.read, mb, rep.seconds,
             rep.seconds > 0 ? mb / rep.seconds : 0.0,
             (unsigned long long)rep.kept, (unsigned long long)rep.removed,
             (unsigned long long)rep.rejected);
    for (int i = 0; i < WN_REP_COUNT && cli_verbosity > 0; i++)
        if (rep.exceeded[i])
            cli_info("  %llu records above %s %g",
                     (unsigned long long)rep.exceeded[i], wn_repetition_name(i),
                     o.max[i]);
    return rep.rejected ? EXIT_REJECTED : EXIT_OK;
}
