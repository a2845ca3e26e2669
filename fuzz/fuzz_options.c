/*
 * fuzz_options.c - libFuzzer target for the CLI's declarative option parser
 * and --help printer (cli/options.c), and for one whole command that only
 * parses and prints (`winnow params`, cli/cmd_params.c).
 *
 * Input: one configuration byte (bit 0: the test table or `params`), then
 * the arguments, separated by NUL bytes (at most 60). The test table has
 * every option type, short and long names and a choice list longer than
 * any of today's. What must hold, beyond no crash, no hang and no leak:
 *  - cli_parse returns EXIT_OK, EXIT_USAGE or -1 (help printed);
 *  - the positional arguments are argv entries, in argv order, each once;
 *  - after a successful parse every value is in its type's range: doubles
 *    finite, choices inside the list, strings pointing into argv;
 *  - `params` exits 0 or 2.
 * Run it with -close_fd_mask=3: both functions print.
 */
#include "fuzz_util.h"

#include "cli.h"

#include <math.h>

#define MAX_ARGS 60

static const char *const long_choices[] = {"first",     "longest", "shortest",
                                           "newest",    "oldest",  "max-field",
                                           "min-field", "random",  NULL};
#define NCHOICES ((int)(sizeof(long_choices) / sizeof(long_choices[0])) - 1)

static void check_parse(int argc, char **argv)
{
    bool flag = false;
    unsigned u = 7;
    uint64_t u64 = 7, size = 7;
    double d = 0.5, od = 0;
    const char *str = NULL;
    int choice = 0;
    const struct opt opts[] = {
        {"flag", 'f', OPT_FLAG, &flag, NULL, "a flag"},
        {"uint", 'u', OPT_UINT, &u, "N", "an unsigned"},
        {"u64", 0, OPT_U64, &u64, NULL, "a 64-bit unsigned"},
        {"double", 'd', OPT_DOUBLE, &d, "X", "a double"},
        {"opt-double", 0, OPT_OPTDOUBLE, &od, NULL, "an optional double", NULL,
         0.8},
        {"string", 's', OPT_STRING, &str, "S", "a string"},
        {"size", 0, OPT_SIZE, &size, NULL, "a size"},
        {"choice", 'c', OPT_CHOICE, &choice, NULL, "a choice", long_choices},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    char *pos[MAX_ARGS + 1];
    int npos = -1;
    cli_verbosity = 0;
    int rc = cli_parse("fuzz", "[options] ARG...", "The fuzz table.", opts,
                       argc, argv, pos, &npos);
    FZ_CHECK(rc == EXIT_OK || rc == EXIT_USAGE || rc == -1);
    FZ_CHECK(npos >= 0 && npos <= argc - 1);
    int last = 0;
    for (int i = 0; i < npos; i++) {
        int at = 0;
        for (int j = 1; j < argc && !at; j++)
            at = pos[i] == argv[j] ? j : 0;
        FZ_CHECK(at > last); /* an argv entry, in order, once */
        last = at;
    }
    FZ_CHECK(cli_verbosity >= -1 && cli_verbosity <= 1);
    if (rc != EXIT_OK)
        return;
    FZ_CHECK(isfinite(d) && isfinite(od));
    FZ_CHECK(choice >= 0 && choice < NCHOICES);
    if (str) {
        bool found = false;
        for (int j = 1; j < argc && !found; j++)
            found = str >= argv[j] && str <= argv[j] + strlen(argv[j]);
        FZ_CHECK(found);
    }
    (void)flag;
    (void)u;
    (void)u64;
    (void)size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_input in = {data, size};
    bool params = fz_byte(&in) & 1;
    /* One NUL-terminated copy; argv points into it. */
    char *buf = fz_dup(in.p, in.n);
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = params ? "params" : "fuzz";
    for (size_t i = 0; i < in.n && argc <= MAX_ARGS;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    if (params) {
        int rc = cmd_params(argc, argv);
        FZ_CHECK(rc == EXIT_OK || rc == EXIT_USAGE);
    } else {
        check_parse(argc, argv);
    }
    fflush(stdout);
    free(buf);
    return 0;
}
