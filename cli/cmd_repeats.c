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

#define REJECT_MESSAGES 20
#define FIXED_OPTS      6

static void on_reject(void *ud, const struct wn_record *rec)
{
    unsigned long long *count = ud;
    if ((*count)++ >= REJECT_MESSAGES || cli_verbosity < 0)
        return;
    const char *src = rec->source ? rec->source : "-";
    if (rec->status == WN_EPARSE)
        fprintf(stderr, "winnow: %s:%llu: %s at byte %zu (rejected)\n", src,
                (unsigned long long)rec->line, wn_strerror(rec->status),
                rec->error_offset);
    else if (rec->line)
        fprintf(stderr, "winnow: %s:%llu: %s (rejected)\n", src,
                (unsigned long long)rec->line, wn_strerror(rec->status));
    else
        fprintf(stderr, "winnow: %s: %s (rejected)\n", src,
                wn_strerror(rec->status));
}

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
        "removed with the measures that exceeded it.";
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
    unsigned long long rejected = 0;
    o.on_reject = on_reject;
    o.ud = &rejected;
    o.cancel = &cli_cancel;
    cli_install_signals();
    struct wn_repeats_report rep;
    int rc = wn_repeats_run((const char *const *)pos, (size_t)npos, outdir, &o,
                            &rep);
    free(pos);
    if (rc == WN_EINTR) {
        cli_error("interrupted; no output was written");
        return cli_interrupted_status();
    }
    if (rc == WN_EINVAL) {
        cli_error("repeats: invalid combination of options");
        return EXIT_USAGE;
    }
    if (rc == WN_EOPEN && rep.error_path[0]) {
        cli_error("cannot open '%s': %s", rep.error_path, wn_strerror(rc));
        return EXIT_FAIL;
    }
    if (rc) {
        if (rep.error_path[0])
            cli_error("%s: %s", rep.error_path, wn_strerror(rc));
        else
            cli_error("repeats failed: %s", wn_strerror(rc));
        return EXIT_FAIL;
    }
    if (rejected > REJECT_MESSAGES && cli_verbosity >= 0)
        cli_error("... and %llu more rejected records",
                  rejected - REJECT_MESSAGES);
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
