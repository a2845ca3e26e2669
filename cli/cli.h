/*
 * cli.h - the command table and the declarative option parser of the
 * winnow command-line tool. The option table of a command is the only
 * description of its options: the parser reads it and --help prints it.
 */
#ifndef WN_CLI_H
#define WN_CLI_H

#include "winnow.h"

#include <stdbool.h>
#include <stdio.h>

/* Exit codes, documented in README.md and `winnow --help`. */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,
    EXIT_USAGE = 2,
    EXIT_REJECTED = 3 /* finished, but some records were rejected */
};

enum opt_type {
    OPT_FLAG,      /* bool; no value */
    OPT_UINT,      /* unsigned */
    OPT_U64,       /* uint64_t */
    OPT_DOUBLE,    /* double */
    OPT_OPTDOUBLE, /* double; the value is optional (--x or --x=0.9) */
    OPT_STRING,    /* const char * */
    OPT_SIZE,      /* uint64_t with an optional K/M/G suffix */
    OPT_CHOICE,    /* int: index into choices */
    OPT_END
};

struct opt {
    const char *name; /* long name, without "--" */
    char short_name;  /* or 0 */
    enum opt_type type;
    void *dest;
    const char *metavar;
    const char *help;
    const char *const *choices; /* OPT_CHOICE: NULL-terminated */
    double implicit;            /* OPT_OPTDOUBLE: value when none is given */
};

/* Global verbosity: -1 quiet, 0 normal, 1 verbose. */
extern int cli_verbosity;

/*
 * Progress on stderr (progress.c): redrawn in place when stderr is a
 * terminal, nothing otherwise, unless --progress[=SECONDS] (global, parsed
 * by cli_parse) forces plain lines every SECONDS (cli_progress_interval,
 * default 5; 0: at every report of the library, for tests). Nothing with
 * --quiet. cli_progress_start fills a run's sink (fn NULL when silent);
 * cli_progress_end clears the line after the run.
 */
extern int cli_progress_forced;
extern double cli_progress_interval;

struct cli_progress {
    const char *cmd;
    bool tty, drawn;
    double t0, stage_t0, last;
    const char *stage;
};

void cli_progress_start(struct cli_progress *p, const char *cmd,
                        struct wn_progress_sink *sink);
void cli_progress_end(struct cli_progress *p);
/* Clear a progress line drawn on the terminal before another message. */
void cli_progress_interrupt(void);

/*
 * Parse argv (argv[0] is the command name) against the table. Positional
 * arguments are collected into pos (*npos of them; pos has argc slots).
 * Returns EXIT_OK, EXIT_USAGE after printing a message, or -1 when --help
 * was printed (the command then exits 0).
 */
int cli_parse(const char *cmd, const char *usage, const char *summary,
              const struct opt *opts, int argc, char **argv, char **pos,
              int *npos);
void cli_help(FILE *f, const char *cmd, const char *usage, const char *summary,
              const struct opt *opts);

/* "winnow: <message>" on stderr, git's grammar. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Rejected records as the commands report them: the first
 * CLI_REJECT_MESSAGES as "winnow: FILE:LINE: reason (rejected)" on stderr,
 * then a count. Pass cli_on_reject as a run's on_reject with a struct
 * cli_rejects as its ud; call cli_rejects_finish after the run.
 */
#define CLI_REJECT_MESSAGES 20

struct cli_rejects {
    unsigned long long count;
};

void cli_on_reject(void *ud, const struct wn_record *rec);
void cli_rejects_finish(const struct cli_rejects *r);
/* A run that read no record at all says so on stderr: an empty input or
 * a directory without a file of a kind read is most likely a mistake. */
void cli_warn_if_empty(uint64_t read);

/*
 * The message and exit status for a run that returned rc, or -1 when rc is
 * WN_OK and the command goes on. error_path and error_errno are the run's
 * report fields: the message names the file and the reason.
 */
int cli_run_failed(const char *cmd, int rc, const char *error_path,
                   int error_errno);

/*
 * Why path cannot be opened, as strerror text: looked up again on the path
 * (errno may not have survived the library's cleanup), else err when not 0,
 * else wn_strerror(WN_EOPEN). The text is strerror's: use it at once.
 */
const char *cli_open_reason(const char *path, int err);

/*
 * What the commands over input files that write an output directory share
 * (lines, passages, repeats): --output DIR and at least one input, checked
 * by cli_files_parse with --max-record-bytes (max_bytes, bound by the
 * command's option table, given to the reader options); the run's
 * rejected-record messages, progress line and cancel flag hooked by
 * cli_files_begin; and after the run, cli_files_end.
 */
struct cli_files {
    const char *cmd, *usage;
    const char *outdir;
    uint64_t max_bytes;
    char **pos; /* the inputs */
    int npos;
    struct cli_rejects rejects;
    struct cli_progress prog;
};

/* The option entries every such command has, last in its table: o is the
 * command's options struct (tmp_dir, reader). */
#define CLI_FILES_OPTS(f, o)                                                   \
    {"tmp-dir",    0,     OPT_STRING,                                          \
     &(o).tmp_dir, "DIR", "spill files here (default: inside the output dir)", \
     NULL},                                                                    \
        {"id-field", 0,                                                        \
         OPT_STRING, &(o).reader.id_field,                                     \
         "NAME",     "JSON field of the id (default id)",                      \
         NULL},                                                                \
        {"text-field", 0,                                                      \
         OPT_STRING,   &(o).reader.text_field,                                 \
         "NAME",       "JSON field of the text (default text)",                \
         NULL},                                                                \
        {"max-record-bytes",                                                   \
         0,                                                                    \
         OPT_SIZE,                                                             \
         &(f).max_bytes,                                                       \
         "SIZE",                                                               \
         "reject longer records (default 64M)",                                \
         NULL},                                                                \
    {                                                                          \
        NULL, 0, OPT_END, NULL, NULL, NULL, NULL                               \
    }

/* Parse argv by opts: -1 to go on, else the exit status (the inputs are
 * then freed). */
int cli_files_parse(struct cli_files *f, const char *summary,
                    const struct opt *opts, int argc, char **argv,
                    struct wn_reader_options *reader);
/* A usage error of the command: the message, the inputs freed, the exit
 * status. */
int cli_files_usage(struct cli_files *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hook the run's options (members of the command's options struct). */
void cli_files_begin(struct cli_files *f, struct wn_progress_sink *sink,
                     void (**on_reject)(void *, const struct wn_record *),
                     void **ud, volatile int **cancel);
/* After the run: the inputs freed, the failure's message and exit status,
 * or -1 when the run succeeded (the rejected count and an empty input
 * said). */
int cli_files_end(struct cli_files *f, int rc, const char *error_path,
                  int error_errno, uint64_t read);
/* The run's line "read N records (MB) in S (MB/s): kept, removed,
 * rejected", then more (may be empty). */
void cli_files_info(uint64_t read, uint64_t bytes, double seconds,
                    uint64_t kept, uint64_t removed, uint64_t rejected,
                    const char *more);

/* Signal handling: SIGINT/SIGTERM set this flag. */
extern volatile int cli_cancel;
extern volatile int cli_signal;
void cli_install_signals(void);
/* The exit status for an interrupted run: 128 + the signal. */
int cli_interrupted_status(void);

int cmd_dedup(int argc, char **argv);
int cmd_tokens(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_passages(int argc, char **argv);
int cmd_lines(int argc, char **argv);
int cmd_repeats(int argc, char **argv);
int cmd_similarity(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* JSON output shared by `winnow index` and `winnow serve`: a string with
 * its escapes, and the object answered for one record ({id, new,
 * duplicate_of, similarity, reason}, and "matches" when matches > 1). */
void cli_json_string(FILE *f, const char *s, size_t n);
void cli_index_json(FILE *f, const char *id, size_t id_len,
                    const struct wn_index_result *r, size_t matches);
/* A time: seconds since 1970, ISO 8601 (UTC), or an age (30d, 12h, 5m,
 * 10s) before now. 0, or -1 when it cannot be read. */
int cli_parse_time(const char *s, int64_t *out);
/* `winnow dedup --index PATH`: the inputs through the index (frees pos). */
int cli_dedup_index(const char *path, const struct wn_dedup_options *o,
                    int argc, char **argv, char **pos, int npos,
                    const char *outdir);

/* Take every "--input FILE" / "--input=FILE" out of argv (repeatable, where
 * the option parser keeps one value); inputs has room for argc entries.
 * Returns the new argc. */
int cli_take_inputs(int argc, char **argv, const char **inputs, int *ninputs);

#endif /* WN_CLI_H */
