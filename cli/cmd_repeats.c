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
    struct cli_files f = {.cmd = "repeats",
                          .usage = "[options] --output DIR INPUT...",
                          .max_bytes = 64ull << 20};
    bool gopher = false;
    double max[WN_REP_COUNT];
    char names[WN_REP_COUNT][48], helps[WN_REP_COUNT][96];
    struct opt opts[FIXED_OPTS + WN_REP_COUNT + 1];
    size_t k = 0;
    opts[k++] = (struct opt){"output",
                             'o',
                             OPT_STRING,
                             &f.outdir,
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
        &f.max_bytes,       "SIZE", "reject longer records (default 64M)"};
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
    const char *summary =
        "Measure repetition inside each record: duplicate lines and "
        "paragraphs, the most\nfrequent 2-4-grams, duplicate 5-10-grams "
        "(the Gopher rules, Rae et al. 2021).\nrepetition.jsonl has the "
        "measures of every record; records above a --max-*\nthreshold are "
        "removed with the measures that exceeded it. Memory follows the "
        "largest\nrecord: about 12-16 bytes per byte of it "
        "(--max-record-bytes bounds it).";
    int status = cli_files_parse(&f, summary, opts, argc, argv, &o.reader);
    if (status >= 0)
        return status;
    for (int i = 0; i < WN_REP_COUNT; i++) {
        if (!isnan(max[i]) && max[i] < 0)
            return cli_files_usage(&f, "--%s must not be negative", names[i]);
        o.max[i] = !isnan(max[i]) ? max[i]
                   : gopher       ? wn_repetition_gopher(i)
                                  : 1.0;
    }
    cli_files_begin(&f, &o.progress, &o.on_reject, &o.ud, &o.cancel);
    struct wn_repeats_report rep;
    memset(&rep, 0, sizeof(rep)); /* untouched on an early error */
    int rc = wn_repeats_run((const char *const *)f.pos, (size_t)f.npos,
                            f.outdir, &o, &rep);
    status = cli_files_end(&f, rc, rep.error_path, rep.error_errno, rep.read);
    if (status >= 0)
        return status;
    cli_files_info(rep.read, rep.bytes, rep.seconds, rep.kept, rep.removed,
                   rep.rejected, "");
    for (int i = 0; i < WN_REP_COUNT && cli_verbosity > 0; i++)
        if (rep.exceeded[i])
            cli_info("  %llu records above %s %g",
                     (unsigned long long)rep.exceeded[i], wn_repetition_name(i),
                     o.max[i]);
    return rep.rejected ? EXIT_REJECTED : EXIT_OK;
}
