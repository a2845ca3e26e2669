/*
 * main.c - the winnow command table. Each command lives in cmd_<name>.c
 * with its own option table.
 */
#include "cli.h"

#include <malloc.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"dedup", cmd_dedup, "remove exact and near-duplicate records"},
    {"tokens", cmd_tokens, "print the normalized tokens of records"},
    {"params", cmd_params, "print LSH bands/rows for a threshold"},
    {"eval", cmd_eval, "score a clustering against ground truth"},
    {"passages", cmd_passages, "find or cut passages repeated in the corpus"},
    {"lines", cmd_lines, "find or cut lines repeated across records"},
    {"repeats", cmd_repeats, "measure repetition inside each record"},
    {"similarity", cmd_similarity, "exact Jaccard/containment of pairs"},
    {"explain", cmd_explain, "why two documents are or are not copies"},
    {"report", cmd_report, "write report.html for a dedup output dir"},
    {"index", cmd_index, "a persistent index of records seen"},
    {"serve", cmd_serve, "serve an index over HTTP/JSON"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: winnow <command> [options] [inputs...]\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'winnow <command> --help' describes a command.\n"
               "Exit status: 0 success, 1 failure, 2 usage error, 3 finished\n"
               "but some records were rejected (see rejected.jsonl), 128+N\n"
               "interrupted by signal N (no output was published).\n");
}

int main(int argc, char **argv)
{
    /* Blocks of 1 MiB and more are mapped on their own: freed, they go
     * back to the system at once, and growing one is a remap, not a copy
     * (glibc's default threshold rises to 32 MiB after the first large
     * free, and a freed stage's arrays then stayed resident to the end
     * of the run: 74 MB against 47 MB on 1 GB, docs/BENCHMARKS.md). */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") ||
        !strcmp(name, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("winnow %s\n", wn_version_string());
        if (wn_dedup_docno_bits() > 32)
            printf("built with 64-bit document numbers (-Dwide_docs=true)\n");
#ifdef WN_TEST_HOOKS
        printf("built with test hooks (-Dtest_hooks=true)\n");
#endif
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, name))
            return commands[i].run(argc - 1, argv + 1);
    cli_error("'%s' is not a winnow command. See 'winnow --help'.", name);
    return EXIT_USAGE;
}
