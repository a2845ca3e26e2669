/*
 * cmd_tokens.c - `winnow tokens`: the normalized tokens of records, for
 * debugging normalization and shingling.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const token_names[] = {"word", "char", NULL};

int cmd_tokens(int argc, char **argv)
{
    int mode = WN_TOKENS_WORD;
    const char *want_id = NULL, *id_field = NULL, *text_field = NULL;
    uint64_t limit = 0;
    bool spans = false;
    const struct opt opts[] = {
        {"tokens", 0, OPT_CHOICE, &mode, NULL, "token mode (default word)",
         token_names},
        {"id", 0, OPT_STRING, &want_id, "ID", "only the record with this id"},
        {"limit", 0, OPT_U64, &limit, "N", "stop after N records"},
        {"spans", 0, OPT_FLAG, &spans, NULL,
         "print each token with its source byte span"},
        {"id-field", 0, OPT_STRING, &id_field, "NAME", "default id"},
        {"text-field", 0, OPT_STRING, &text_field, "NAME", "default text"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "[options] INPUT...";
    const char *summary =
        "Print each record as its id, a tab and its normalized tokens "
        "separated by spaces\n(with --spans: one token per line with its "
        "byte span in the original text).";
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0;
    if (!pos)
        return EXIT_FAIL;
    int prc = cli_parse("tokens", usage, summary, opts, argc, argv, pos, &npos);
    if (prc || npos == 0) {
        free(pos);
        if (prc < 0)
            return EXIT_OK;
        if (!prc)
            cli_error("tokens: no input given");
        return EXIT_USAGE;
    }
    struct wn_reader_options ro;
    memset(&ro, 0, sizeof(ro));
    ro.id_field = id_field;
    ro.text_field = text_field;
    struct wn_reader *r = NULL;
    size_t bad = 0;
    int rc =
        wn_reader_create((const char *const *)pos, (size_t)npos, &ro, &r, &bad);
    int err = errno; /* why, on WN_EOPEN */
    if (rc == WN_EOPEN && bad < (size_t)npos) {
        cli_error("cannot open '%s': %s", pos[bad],
                  cli_open_reason(pos[bad], err));
        free(pos);
        return EXIT_FAIL;
    }
    if (rc) {
        cli_error("%s: %s", bad < (size_t)npos ? pos[bad] : "tokens",
                  wn_strerror(rc));
        free(pos);
        return EXIT_FAIL;
    }
    struct wn_tokens t;
    wn_tokens_init(&t);
    struct wn_record rec;
    uint64_t shown = 0, matched = 0;
    int status = EXIT_OK;
    while ((rc = wn_reader_next(r, &rec)) > 0) {
        if (rec.status) {
            char reason[160];
            fprintf(stderr, "winnow: %s:%llu: %s (skipped)\n", rec.source,
                    (unsigned long long)rec.line,
                    wn_record_reason(&rec, reason, sizeof(reason)));
            status = EXIT_REJECTED;
            continue;
        }
        if (want_id && (strlen(want_id) != rec.id_len ||
                        memcmp(want_id, rec.id, rec.id_len) != 0))
            continue;
        matched++;
        rc = wn_tokenize(rec.text, rec.text_len, mode, &t);
        if (rc)
            break;
        fwrite(rec.id, 1, rec.id_len, stdout);
        if (spans) {
            putchar('\n');
            for (size_t i = 0; i < t.n; i++)
                printf("  %u-%u\t%s\n", t.tok[i].src_off,
                       t.tok[i].src_off + t.tok[i].src_len,
                       t.norm + t.tok[i].norm_off);
        } else {
            putchar('\t');
            for (size_t i = 0; i < t.n; i++) {
                if (i)
                    putchar(' ');
                fputs(t.norm + t.tok[i].norm_off, stdout);
            }
            putchar('\n');
        }
        if (limit && ++shown >= limit)
            break;
    }
    if (rc < 0) {
        const char *p = wn_reader_error_path(r);
        cli_error("%s: %s", p ? p : "input", wn_strerror(rc));
        status = EXIT_FAIL;
    } else if (want_id && !matched) {
        fprintf(stderr, "winnow: no record with id '%s' in ", want_id);
        for (int i = 0; i < npos; i++)
            fprintf(stderr, "%s'%s'", i ? ", " : "", pos[i]);
        fputc('\n', stderr);
        status = EXIT_FAIL;
    }
    wn_tokens_release(&t);
    wn_reader_free(r);
    free(pos);
    return status;
}
