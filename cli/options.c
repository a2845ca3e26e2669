/*
 * options.c - the declarative option parser and its --help printer, shared
 * by every command, and the CLI's message and signal helpers.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_verbosity = 0;
volatile int cli_cancel = 0;
volatile int cli_signal = 0;

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("winnow: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_info(const char *fmt, ...)
{
    if (cli_verbosity < 0)
        return;
    va_list ap;
    fputs("winnow: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_on_reject(void *ud, const struct wn_record *rec)
{
    struct cli_rejects *r = ud;
    if (r->count++ >= CLI_REJECT_MESSAGES || cli_verbosity < 0)
        return;
    cli_progress_interrupt();
    const char *src = rec->source ? rec->source : "-";
    char reason[160];
    wn_record_reason(rec, reason, sizeof(reason));
    if (rec->line)
        fprintf(stderr, "winnow: %s:%llu: %s (rejected)\n", src,
                (unsigned long long)rec->line, reason);
    else
        fprintf(stderr, "winnow: %s: %s (rejected)\n", src, reason);
}

void cli_rejects_finish(const struct cli_rejects *r)
{
    if (r->count > CLI_REJECT_MESSAGES && cli_verbosity >= 0)
        cli_error("... and %llu more rejected records",
                  r->count - CLI_REJECT_MESSAGES);
}

void cli_warn_if_empty(uint64_t read)
{
    if (read == 0)
        cli_error("warning: the inputs hold no record (a directory is read "
                  "for .txt files and .jsonl, .json or .ndjson files, also "
                  "with .gz or .zst)");
}

int cli_files_parse(struct cli_files *f, const char *summary,
                    const struct opt *opts, int argc, char **argv,
                    struct wn_reader_options *reader)
{
    f->pos = calloc((size_t)argc + 1, sizeof(char *));
    f->npos = 0;
    if (!f->pos)
        return EXIT_FAIL;
    int prc = cli_parse(f->cmd, f->usage, summary, opts, argc, argv, f->pos,
                        &f->npos);
    if (prc) {
        free(f->pos);
        f->pos = NULL;
        return prc < 0 ? EXIT_OK : prc;
    }
    if (!f->outdir || f->npos == 0) {
        cli_error("%s: %s", f->cmd,
                  !f->outdir ? "--output DIR is required" : "no input given");
        fprintf(stderr, "usage: winnow %s %s\n", f->cmd, f->usage);
        free(f->pos);
        f->pos = NULL;
        return EXIT_USAGE;
    }
    if (f->max_bytes == 0 || f->max_bytes >= (4ull << 30))
        return cli_files_usage(
            f, "--max-record-bytes must be between 1 and 4G - 1");
    reader->max_record_bytes = (size_t)f->max_bytes;
    return -1;
}

int cli_files_usage(struct cli_files *f, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cli_error("%s: %s", f->cmd, msg);
    free(f->pos);
    f->pos = NULL;
    return EXIT_USAGE;
}

void cli_files_begin(struct cli_files *f, struct wn_progress_sink *sink,
                     void (**on_reject)(void *, const struct wn_record *),
                     void **ud, volatile int **cancel)
{
    memset(&f->rejects, 0, sizeof(f->rejects));
    *on_reject = cli_on_reject;
    *ud = &f->rejects;
    cli_progress_start(&f->prog, f->cmd, sink);
    *cancel = &cli_cancel;
    cli_install_signals();
}

int cli_files_end(struct cli_files *f, int rc, const char *error_path,
                  int error_errno, uint64_t read)
{
    cli_progress_end(&f->prog);
    free(f->pos);
    f->pos = NULL;
    int failed = cli_run_failed(f->cmd, rc, error_path, error_errno);
    if (failed >= 0)
        return failed;
    cli_rejects_finish(&f->rejects);
    cli_warn_if_empty(read);
    return -1;
}

void cli_files_info(uint64_t read, uint64_t bytes, double seconds,
                    uint64_t kept, uint64_t removed, uint64_t rejected,
                    const char *more)
{
    double mb = bytes / 1e6;
    cli_info("read %llu records (%.1f MB) in %.2f s (%.1f MB/s): kept %llu, "
             "removed %llu, rejected %llu%s",
             (unsigned long long)read, mb, seconds,
             seconds > 0 ? mb / seconds : 0.0, (unsigned long long)kept,
             (unsigned long long)removed, (unsigned long long)rejected, more);
}

int cli_run_failed(const char *cmd, int rc, const char *error_path,
                   int error_errno)
{
    if (rc == WN_OK)
        return -1;
    if (rc == WN_EINTR) {
        cli_error("interrupted; no output was written");
        return cli_interrupted_status();
    }
    if (rc == WN_EINVAL) {
        cli_error("%s: invalid combination of options", cmd);
        return EXIT_USAGE;
    }
    if (error_errno) {
        /* The library says which file and why: the errno's text, unless
         * the status already says it (no space, file too large). */
        bool own = rc == WN_ENOSPC || rc == WN_EFBIG || rc == WN_ENOMEM;
        const char *why = strerror(error_errno);
        if (rc == WN_EOPEN)
            cli_error("cannot open '%s': %s", error_path, why);
        else if (rc == WN_EIO || own)
            cli_error("%s: %s", error_path, own ? wn_strerror(rc) : why);
        else
            cli_error("%s: %s (%s)", error_path, wn_strerror(rc), why);
    } else if (rc == WN_EOPEN && error_path[0]) {
        cli_error("cannot open '%s': %s", error_path,
                  cli_open_reason(error_path, 0));
    } else if (error_path[0]) {
        cli_error("%s: %s", error_path, wn_strerror(rc));
    } else {
        cli_error("%s failed: %s", cmd, wn_strerror(rc));
    }
    if (rc == WN_EEXIST)
        cli_error("remove it, or choose another output directory (winnow "
                  "replaces only what it published there; see README)");
    return EXIT_FAIL;
}

const char *cli_open_reason(const char *path, int err)
{
    /* The library's errno may have been overwritten by its cleanup before
     * the command sees the status: look again at the path itself.
     * O_NONBLOCK so that a FIFO with no writer does not block the probe. */
    struct stat st;
    int e = 0;
    if (stat(path, &st) != 0) {
        e = errno;
    } else {
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            e = errno;
        else
            close(fd);
    }
    if (!e)
        e = err;
    return e ? strerror(e) : wn_strerror(WN_EOPEN);
}

static void on_signal(int sig)
{
    cli_signal = sig;
    cli_cancel = 1;
}

void cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_interrupted_status(void)
{
    return 128 + (cli_signal ? cli_signal : SIGINT);
}

static const char *type_metavar(const struct opt *o)
{
    if (o->metavar)
        return o->metavar;
    switch (o->type) {
    case OPT_UINT:
    case OPT_U64:
        return "N";
    case OPT_DOUBLE:
    case OPT_OPTDOUBLE:
        return "X";
    case OPT_SIZE:
        return "SIZE";
    default:
        return "VALUE";
    }
}

#define HELP_INDENT 28 /* column where option descriptions start */
#define HELP_WIDTH  80

/* One option of --help: its name, then its description wrapped at word
 * boundaries to 80 columns (on the next line when the name is long). */
static void help_line(FILE *f, const char *left, const char *help)
{
    int col = fprintf(f, "  %s", left);
    if (col + 1 > HELP_INDENT) {
        fputc('\n', f);
        col = 0;
    }
    const char *p = help;
    while (*p) {
        fprintf(f, "%*s", HELP_INDENT - col, "");
        size_t room = HELP_WIDTH - HELP_INDENT, n = strlen(p);
        if (n > room) {
            n = room;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = room; /* one word longer than the room */
        }
        fprintf(f, "%.*s\n", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
        col = 0;
    }
    if (!*help)
        fputc('\n', f);
}

void cli_help(FILE *f, const char *cmd, const char *usage, const char *summary,
              const struct opt *opts)
{
    fprintf(f, "usage: winnow %s %s\n\n", cmd, usage);
    /* The summary is one paragraph, refilled to 80 columns: its line
     * breaks are taken as spaces. */
    size_t col = 0;
    for (const char *p = summary; *p;) {
        while (*p == ' ' || *p == '\n')
            p++;
        size_t n = strcspn(p, " \n");
        if (n == 0)
            break;
        if (col && col + 1 + n > HELP_WIDTH) {
            fputc('\n', f);
            col = 0;
        }
        col += (size_t)fprintf(f, "%s%.*s", col ? " " : "", (int)n, p);
        p += n;
    }
    fputc('\n', f);
    fputs("\noptions:\n", f);
    for (const struct opt *o = opts; o->type != OPT_END; o++) {
        char left[256];
        int n = 0;
        if (o->short_name)
            n = snprintf(left, sizeof(left), "-%c, ", o->short_name);
        else
            n = snprintf(left, sizeof(left), "    ");
        if (o->type == OPT_FLAG)
            snprintf(left + n, sizeof(left) - n, "--%s", o->name);
        else if (o->type == OPT_OPTDOUBLE)
            snprintf(left + n, sizeof(left) - n, "--%s[=%s]", o->name,
                     type_metavar(o));
        else if (o->type == OPT_CHOICE) {
            /* snprintf returns the length it wanted, not what it wrote:
             * stop once the buffer is full instead of passing a wrapped
             * size (fuzz/corpus/options/crash-help-long-choices). */
            char ch[192] = "";
            size_t k = 0;
            for (const char *const *c = o->choices; *c && k < sizeof(ch); c++) {
                int m = snprintf(ch + k, sizeof(ch) - k, "%s%s",
                                 c == o->choices ? "" : "|", *c);
                if (m < 0)
                    break;
                k += (size_t)m;
            }
            snprintf(left + n, sizeof(left) - n, "--%s %s", o->name, ch);
        } else
            snprintf(left + n, sizeof(left) - n, "--%s %s", o->name,
                     type_metavar(o));
        help_line(f, left, o->help);
    }
    help_line(f, "-q, --quiet", "only errors on stderr");
    help_line(f, "-v, --verbose", "more detail on stderr");
    help_line(f, "--progress[=S]",
              "progress lines on stderr every S seconds (default 5), even "
              "when it is not a terminal");
    help_line(f, "-h, --help", "show this help");
}

static int parse_u64(const char *s, uint64_t *v, bool size)
{
    errno = 0;
    char *end;
    if (*s == '-' || *s == '\0')
        return -1;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    if (size && *end) {
        unsigned shift = 0;
        switch (*end) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'm':
        case 'M':
            shift = 20;
            break;
        case 'g':
        case 'G':
            shift = 30;
            break;
        case 't':
        case 'T':
            shift = 40;
            break;
        default:
            return -1;
        }
        end++;
        if (*end == 'i' || *end == 'B')
            end += (*end == 'i') ? 1 : 0;
        if (*end == 'B')
            end++;
        if (x > (UINT64_MAX >> shift))
            return -1;
        x <<= shift;
    }
    if (*end)
        return -1;
    *v = x;
    return 0;
}

static const char *type_noun(enum opt_type t)
{
    return t == OPT_SIZE                           ? "a size"
           : t == OPT_DOUBLE || t == OPT_OPTDOUBLE ? "a number"
                                                   : "a whole number";
}

/* What a value of the type looks like, for options without a range. */
static const char *type_expects(enum opt_type t)
{
    switch (t) {
    case OPT_UINT:
        return "a whole number from 0 to 4294967295";
    case OPT_U64:
        return "a whole number from 0 to 18446744073709551615";
    case OPT_SIZE:
        return "a size in bytes, such as 65536, 512M or 4G";
    case OPT_DOUBLE:
    case OPT_OPTDOUBLE:
        return "a number";
    default:
        return NULL;
    }
}

static int set_value(const char *cmd, const struct opt *o, const char *val)
{
    const struct wn_option_range *range = wn_option_range(cmd, o->name);
    uint64_t u;
    double d;
    char *end;
    bool parsed = false; /* a number, but out of range */
    switch (o->type) {
    case OPT_UINT:
        if (parse_u64(val, &u, false) || u > UINT32_MAX)
            goto bad;
        parsed = true;
        if (range && !wn_option_in_range(range, (double)u))
            goto bad;
        *(unsigned *)o->dest = (unsigned)u;
        return 0;
    case OPT_U64:
    case OPT_SIZE:
        if (parse_u64(val, &u, o->type == OPT_SIZE))
            goto bad;
        parsed = true;
        if (range && !wn_option_in_range(range, (double)u))
            goto bad;
        *(uint64_t *)o->dest = u;
        return 0;
    case OPT_DOUBLE:
    case OPT_OPTDOUBLE:
        errno = 0;
        d = strtod(val, &end);
        if (errno || end == val || *end || !isfinite(d))
            goto bad;
        parsed = true;
        if (range && !wn_option_in_range(range, d))
            goto bad;
        *(double *)o->dest = d;
        return 0;
    case OPT_STRING:
        *(const char **)o->dest = val;
        return 0;
    case OPT_CHOICE:
        for (int i = 0; o->choices[i]; i++) {
            if (strcmp(o->choices[i], val) == 0) {
                *(int *)o->dest = i;
                return 0;
            }
        }
        goto bad;
    default:
        return 0;
    }
bad:
    if (range && parsed)
        cli_error("%s: --%s must be %s, got %s", cmd, o->name, range->text,
                  val);
    else if (range)
        cli_error("%s: --%s must be %s %s, got '%s'", cmd, o->name,
                  type_noun(o->type), range->text, val);
    else if (o->type == OPT_CHOICE) {
        fprintf(stderr, "winnow: %s: --%s must be one of ", cmd, o->name);
        for (int i = 0; o->choices[i]; i++)
            fprintf(stderr, "%s%s", i ? ", " : "", o->choices[i]);
        fprintf(stderr, "; got '%s'\n", val);
    } else if (type_expects(o->type))
        cli_error("%s: --%s must be %s, got '%s'", cmd, o->name,
                  type_expects(o->type), val);
    else
        cli_error("%s: invalid value '%s' for --%s", cmd, val, o->name);
    return -1;
}

static const struct opt *find_opt(const struct opt *opts, const char *name)
{
    for (const struct opt *o = opts; o->type != OPT_END; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

/*
 * Checks of the parsed command line as a whole, before the command runs:
 * standard input named twice, --bands x --rows above --num-perm, and
 * directories the run would fail on only after reading its input.
 */
static int check_parsed(const char *cmd, const struct opt *opts, char **pos,
                        int npos)
{
    /* Option values that name an input file read along the positionals. */
    static const char *const input_opts[] = {"truth", "universe", "pairs"};
    int stdin_uses = 0;
    for (int i = 0; i < npos; i++)
        stdin_uses += strcmp(pos[i], "-") == 0;
    for (size_t i = 0; i < sizeof(input_opts) / sizeof(input_opts[0]); i++) {
        const struct opt *o = find_opt(opts, input_opts[i]);
        const char *v =
            o && o->type == OPT_STRING ? *(const char **)o->dest : NULL;
        stdin_uses += v && strcmp(v, "-") == 0;
    }
    if (stdin_uses > 1) {
        cli_error("%s: standard input '-' can be given only once", cmd);
        return EXIT_USAGE;
    }

    const struct opt *ob = find_opt(opts, "bands"),
                     * or = find_opt(opts, "rows");
    const struct opt *ok = find_opt(opts, "num-perm");
    if (ob && or &&ok && ob->type == OPT_UINT &&
        or->type == OPT_UINT && ok->type == OPT_UINT) {
        unsigned b = *(unsigned *)ob->dest, r = *(unsigned *) or->dest;
        unsigned k = *(unsigned *)ok->dest;
        if (b && r && (uint64_t)b * r > k) {
            cli_error("%s: --bands %u x --rows %u = %llu is more than "
                      "--num-perm %u",
                      cmd, b, r, (unsigned long long)b * r, k);
            return EXIT_USAGE;
        }
    }

    /* The id and the text cannot be one field: the reader takes the id
     * from a field that must be a string or a number and the text from one
     * that must be a string, and it would reject every record with the
     * wrong reason. (Text files of a directory get their path as id.) */
    const struct opt *oi = find_opt(opts, "id-field");
    const struct opt *ox = find_opt(opts, "text-field");
    if (oi && ox && oi->type == OPT_STRING && ox->type == OPT_STRING) {
        const char *idf = *(const char **)oi->dest;
        const char *txf = *(const char **)ox->dest;
        idf = idf ? idf : "id";
        txf = txf ? txf : "text";
        if (!strcmp(idf, txf)) {
            cli_error("%s: --id-field and --text-field name the same field "
                      "'%s'; the id must be another field",
                      cmd, idf);
            return EXIT_USAGE;
        }
    }

    /* The output directory is created when missing; anything else in its
     * place would fail once the input has been read. */
    const struct opt *oo = find_opt(opts, "output");
    const char *out =
        oo && oo->type == OPT_STRING ? *(const char **)oo->dest : NULL;
    struct stat st;
    if (out && stat(out, &st) == 0 && !S_ISDIR(st.st_mode)) {
        cli_error("%s: --output '%s' exists and is not a directory", cmd, out);
        return EXIT_USAGE;
    }
    /* Temporary files go into an existing directory; it is not made. */
    const struct opt *ot = find_opt(opts, "tmp-dir");
    const char *tmp =
        ot && ot->type == OPT_STRING ? *(const char **)ot->dest : NULL;
    if (tmp && stat(tmp, &st) != 0) {
        cli_error("%s: --tmp-dir '%s': %s", cmd, tmp, strerror(errno));
        return EXIT_USAGE;
    }
    if (tmp && !S_ISDIR(st.st_mode)) {
        cli_error("%s: --tmp-dir '%s' is not a directory", cmd, tmp);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_parse(const char *cmd, const char *usage, const char *summary,
              const struct opt *opts, int argc, char **argv, char **pos,
              int *npos)
{
    *npos = 0;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
            pos[(*npos)++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli_help(stdout, cmd, usage, summary, opts);
            return -1;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cli_verbosity = -1;
            continue;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            cli_verbosity = 1;
            continue;
        }
        if (!strcmp(a, "--progress") || !strncmp(a, "--progress=", 11)) {
            char *end = NULL;
            double s = a[10] ? strtod(a + 11, &end) : 5.0;
            if (a[10] && (end == a + 11 || *end || !(s >= 0 && s <= 86400))) {
                cli_error("%s: --progress=SECONDS takes 0 to 86400 seconds",
                          cmd);
                return EXIT_USAGE;
            }
            cli_progress_forced = 1;
            cli_progress_interval = s;
            continue;
        }
        const struct opt *o = NULL;
        const char *val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            for (const struct opt *p = opts; p->type != OPT_END; p++)
                if (strlen(p->name) == len && !strncmp(p->name, name, len))
                    o = p;
            if (eq)
                val = eq + 1;
        } else {
            for (const struct opt *p = opts; p->type != OPT_END; p++)
                if (p->short_name && p->short_name == a[1])
                    o = p;
            /* A value may follow a short option in the same word, as
             * getopt allows: -t0.7, -j1. A flag takes none, so -qx and
             * the like stay unknown. */
            if (o && a[2] != '\0') {
                if (o->type == OPT_FLAG)
                    o = NULL;
                else
                    val = a + 2;
            }
        }
        if (!o) {
            cli_error("%s: unknown option '%s'", cmd, a);
            fprintf(stderr, "Try 'winnow %s --help'.\n", cmd);
            return EXIT_USAGE;
        }
        if (o->type == OPT_FLAG) {
            if (val) {
                cli_error("%s: --%s takes no value", cmd, o->name);
                return EXIT_USAGE;
            }
            *(bool *)o->dest = true;
            continue;
        }
        if (o->type == OPT_OPTDOUBLE && !val) {
            *(double *)o->dest = o->implicit;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                cli_error("%s: --%s needs a value", cmd, o->name);
                return EXIT_USAGE;
            }
            val = argv[++i];
        }
        if (set_value(cmd, o, val))
            return EXIT_USAGE;
    }
    return check_parsed(cmd, opts, pos, *npos);
}

/* Take every "--input FILE" / "--input=FILE" out of argv (the parser keeps
 * one value per option). Returns the new argc. */
int cli_take_inputs(int argc, char **argv, const char **inputs, int *ninputs)
{
    int k = 0;
    *ninputs = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            while (i < argc)
                argv[k++] = argv[i++];
            break;
        }
        if (!strcmp(argv[i], "--input") && i + 1 < argc) {
            inputs[(*ninputs)++] = argv[++i];
            continue;
        }
        if (!strncmp(argv[i], "--input=", 8)) {
            inputs[(*ninputs)++] = argv[i] + 8;
            continue;
        }
        argv[k++] = argv[i];
    }
    return k;
}
