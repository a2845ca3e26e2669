/*
 * winnow.h - the one installed header of libwinnow: finding and removing
 * duplicate and near-duplicate text in news and web corpora.
 *
 * This header is the contract. Every function says what it returns, who owns
 * what and whether it is thread-safe. Conventions that hold everywhere:
 *
 *  - Functions that can fail return an int that is WN_OK (0) or a negative
 *    enum wn_status value; wn_strerror() names it. Out-parameters are left
 *    untouched on error.
 *  - The library never prints, exits or aborts on bad input.
 *  - Objects made by wn_<object>_create() are released by wn_<object>_free();
 *    passing NULL to a _free function does nothing.
 *  - Pointer arguments are borrowed for the duration of the call unless the
 *    declaration says they are kept.
 *  - Distinct objects may be used from distinct threads at the same time; one
 *    object is not safe to use from two threads at once unless stated.
 */
#ifndef WINNOW_H
#define WINNOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(WN_BUILDING_LIBRARY) && defined(__GNUC__)
#define WN_API __attribute__((visibility("default")))
#else
#define WN_API
#endif

#define WN_VERSION_MAJOR  0
#define WN_VERSION_MINOR  1
#define WN_VERSION_PATCH  0
#define WN_VERSION_STRING "0.1.0"

/* The version of the library actually linked, e.g. "0.1.0". Thread-safe. */
WN_API const char *wn_version_string(void);

/*
 * Status codes. 0 is success, errors are negative; values are never reused.
 * One list makes both the enum and the messages of wn_strerror().
 */
#define WN_STATUS_LIST(X)                                                      \
    X(WN_OK, 0, "success")                                                     \
    X(WN_ENOMEM, -1, "out of memory")                                          \
    X(WN_EIO, -2, "input/output error")                                        \
    X(WN_EINVAL, -3, "invalid argument")                                       \
    X(WN_EPARSE, -4, "malformed JSON")                                         \
    X(WN_ETOOBIG, -5, "record larger than the size cap")                       \
    X(WN_ETRUNC, -6, "truncated or corrupt compressed stream")                 \
    X(WN_ENOFIELD, -7, "missing or non-string text field")                     \
    X(WN_EFORMAT, -8, "not a winnow file or unsupported format version")       \
    X(WN_EOPEN, -9, "cannot open file")                                        \
    X(WN_EINTR, -10, "interrupted")                                            \
    X(WN_ENOSPC, -11, "no space left on device")                               \
    X(WN_ELIMIT, -12, "too many records for one process")                      \
    X(WN_EBADID, -13, "id field is neither a string nor a number")             \
    X(WN_EFBIG, -14, "file too large (a file size limit was reached)")         \
    X(WN_EBUSY, -15, "output directory in use by another winnow run")          \
    X(WN_ECHANGED, -16, "an input changed between the two passes")             \
    X(WN_EEXIST, -17, "in the way of an output, and not written by winnow")    \
    X(WN_EINPUT, -18, "an output would overwrite, or go inside, an input")     \
    X(WN_EMISMATCH, -19, "index parameters differ from those asked for")

enum wn_status {
#define WN__STATUS_ENUM(name, value, text) name = (value),
    WN_STATUS_LIST(WN__STATUS_ENUM)
#undef WN__STATUS_ENUM
};

/* A static message for a status code; "unknown status" for other values. */
WN_API const char *wn_strerror(int status);

/*
 * Test hook: make the allocation after the next n succeed... precisely, the
 * (n+1)th library allocation from now fails (n = 0: the next one), once;
 * n < 0 switches injection off. Used by the allocation-failure sweep tests.
 */
WN_API void wn_alloc_fail_after(long n);

/* ------------------------------------------------------------------------ */
/* Records                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Where a record comes from. Inputs are JSONL files (plain, gzip or zstd,
 * chosen by magic bytes), directories of .txt files (one document per file)
 * or "-" for standard input.
 */
enum wn_record_kind {
    WN_RECORD_JSON = 0,    /* one JSONL line */
    WN_RECORD_TEXTFILE = 1 /* one whole .txt file */
};

/*
 * One record. Strings are not NUL-terminated. A JSONL record's id is the
 * string value (unescaped) or the number's text of the id field; when the
 * field is missing or null, or no id could be read (WN_EPARSE, WN_EBADID,
 * WN_ETOOBIG, WN_ETRUNC), it is "SOURCE:LINE". A text file's id is its path
 * relative to the directory given. JSON is checked strictly (RFC 8259)
 * except that raw control bytes and invalid UTF-8 inside strings pass, as
 * crawls have them; duplicate keys: the last one counts.
 *
 * status is WN_OK or why the record is rejected:
 *   WN_EPARSE   the line is not one JSON object (error_offset says where);
 *   WN_EBADID   the id is neither a string, a number nor null;
 *   WN_ENOFIELD the text field is missing or not a string;
 *   WN_ETOOBIG  longer than max_record_bytes: raw holds only a prefix;
 *   WN_ETRUNC   the compressed input ends or is corrupt here: raw holds the
 *               partial line, possibly empty, and reading goes on with the
 *               next input;
 *   WN_EOPEN, WN_EIO  a text file of a directory (or a dangling link to
 *               one) could not be opened or read: raw is empty, reading
 *               goes on.
 * A UTF-8 byte order mark at the start of a JSONL line is not part of raw.
 * text is NULL unless status is WN_OK.
 */
struct wn_record {
    const char *raw; /* the bytes as read, without the line feed (a CR
                        before it is kept) */
    size_t raw_len;
    uint64_t offset; /* of raw in its input, after decompression (JSONL) */
    const char *id;  /* the id as text (string ids unescaped) */
    size_t id_len;
    const char *text; /* the text field, unescaped UTF-8 (may be invalid) */
    size_t text_len;
    int kind;            /* enum wn_record_kind */
    int status;          /* WN_OK, or why the record is rejected */
    size_t error_offset; /* byte offset of a JSON error in raw */
    uint32_t input;      /* index of the input it came from */
    uint64_t line;       /* 1-based line (JSONL) or 0 (text files) */
    const char *source;  /* input path as given ("-" for standard input), or
                            for files of a directory the file path */
    int sys_errno;       /* when a system call made the record rejected (a file
                            or subdirectory that cannot be opened or read): its
                            errno, else 0. wn_record_reason() says it. */
};

struct wn_reader_options {
    const char *id_field;    /* default "id" */
    const char *text_field;  /* default "text" */
    size_t max_record_bytes; /* default (0) 64 MiB; longer lines and files
                                are rejected, without being buffered */
    /* When true, the reader parses nothing: JSONL records carry raw, line,
     * source and input, with id and text NULL (text files still carry both).
     * Used by the second pass that copies kept records; it sees the same
     * records in the same order as a parsing pass. */
    int raw_only;
};

struct wn_reader;

/*
 * Open inputs for reading. paths is an array of n paths ("-" is standard
 * input, read once). Every path is checked before the call returns: a path
 * that does not exist or cannot be read fails with WN_EOPEN (errno says why)
 * and *bad_input is set to its index; "-" given twice fails with WN_EINVAL
 * likewise. Nothing is read. opts may be NULL for defaults. The paths and
 * field names are copied.
 *
 * A file is JSONL, plain, gzip (concatenated members allowed) or zstd (any
 * number of frames), recognized by its first bytes, not its name. Lines end
 * at '\n'; blank and whitespace-only lines are skipped and counted
 * (wn_reader_blank_lines). A directory is read recursively, in bytewise
 * order of the relative path (links to files are followed, links to
 * directories are not): a regular file whose name ends in ".txt" is one
 * record, its id the relative path; a file whose name ends in ".jsonl",
 * ".json" or ".ndjson", possibly followed by ".gz" or ".zst", is read as
 * JSONL (compression still found by magic bytes; a missing id becomes
 * FILE:LINE with FILE its path). Other names are ignored. An entry that
 * cannot be examined or opened (a subdirectory that cannot be listed, a
 * path longer than PATH_MAX, a dangling link) is one rejected record with
 * sys_errno set; reading goes on. A damaged gzip member or zstd frame is one
 * rejected record (WN_ETRUNC) and reading resumes at the next intact one.
 * A regular file named with ".txt" is one record too, its id the path as
 * given. Memory stays O(max_record_bytes), whatever the input size.
 */
WN_API int wn_reader_create(const char *const *paths, size_t n,
                            const struct wn_reader_options *opts,
                            struct wn_reader **out, size_t *bad_input);

/*
 * The next record, in input order. Returns 1 when a record was stored in
 * *rec, 0 at the end of all inputs, or a negative status on an I/O error
 * that stops reading (the failing path is in wn_reader_error_path()).
 * Records that are malformed are still returned, with rec->status < 0, so
 * that the caller can account for them. The pointers in *rec stay valid
 * until the next call. After a negative return the reader stays failed:
 * later calls return the same status.
 */
WN_API int wn_reader_next(struct wn_reader *r, struct wn_record *rec);

/* The path of the input where the last error happened, or NULL. */
WN_API const char *wn_reader_error_path(const struct wn_reader *r);

/*
 * Why rec (rec->status < 0) is rejected, as one line of text in buf (size
 * bytes, truncated to fit): wn_strerror(rec->status), with the byte offset
 * for malformed JSON, or strerror(rec->sys_errno) when that is set. Returns
 * buf.
 */
WN_API const char *wn_record_reason(const struct wn_record *rec, char *buf,
                                    size_t size);

/* Bytes read so far, after decompression (JSONL is read ahead by at most
 * one block of 1 MiB). */
WN_API uint64_t wn_reader_bytes(const struct wn_reader *r);

/* Blank or whitespace-only JSONL lines skipped so far. */
WN_API uint64_t wn_reader_blank_lines(const struct wn_reader *r);

WN_API void wn_reader_free(struct wn_reader *r);

/* ------------------------------------------------------------------------ */
/* Text                                                                      */
/* ------------------------------------------------------------------------ */

/*
 * How normalized text is cut into tokens. A word character is a Unicode
 * letter, mark or number (general categories L*, M*, N*) of the normalized
 * text; everything else (spaces, punctuation, symbols, controls, U+FFFD)
 * separates tokens. A combining mark always stays with the character before
 * it; a mark with no character before it starts a token of its own.
 */
enum wn_token_mode {
    /* Words: maximal runs of word characters, so "Monday.The" gives
     * "monday", "the" and "U.S." gives "u", "s". Characters of scripts
     * written without spaces between words (Han with its iteration marks,
     * Hiragana, Katakana, Bopomofo, Thai, Lao, Khmer, Myanmar) are one token
     * each, with their marks. Hangul is split into words like Latin. */
    WN_TOKENS_WORD = 0,
    /* Characters: one token per word character (base plus following marks)
     * of the normalized text, in every script; separators are dropped. So
     * "Ｔｈé ﬁ" gives "t", "h", "é", "f", "i". */
    WN_TOKENS_CHAR = 1
};

/*
 * One token. The normalized bytes are norm[norm_off, norm_off + norm_len) of
 * the wn_tokens it belongs to, followed by '\0'. [src_off, src_off +
 * src_len) is the span of the original text it came from: whole characters,
 * including any default-ignorable characters (soft hyphen, zero-width
 * space, ...) dropped inside or right after it. Tokenizing that span alone
 * gives this token; when one source character expands into several tokens
 * (U+00BD "½" gives "1" and "2"), all of them carry that character's span.
 */
struct wn_token {
    uint32_t norm_off;
    uint32_t norm_len;
    uint32_t src_off;
    uint32_t src_len;
};

/*
 * Tokens of one text. Caller's storage: zero it (or wn_tokens_init), pass it
 * to wn_tokenize() as often as needed (buffers are reused) and release it
 * with wn_tokens_release(). Read norm, tok, n and invalid_utf8; the other
 * fields belong to the library.
 */
struct wn_tokens {
    char *norm; /* normalized tokens, each followed by '\0' */
    size_t norm_len, norm_cap;
    struct wn_token *tok; /* n tokens in text order */
    size_t n, cap;
    size_t invalid_utf8; /* ill-formed sequences replaced by U+FFFD */
    int32_t *work;       /* private: code point scratch for normalizing */
    size_t work_cap;
};

/* Make t empty. Never fails. */
WN_API void wn_tokens_init(struct wn_tokens *t);
/* Free the buffers of t and make it empty; t may be reused. */
WN_API void wn_tokens_release(struct wn_tokens *t);

/*
 * Normalize text[0, len) and cut it into tokens (enum wn_token_mode), which
 * replace the previous contents of t.
 *
 * Normalization is NFKC_Casefold as utf8proc computes it (utf8proc_map with
 * UTF8PROC_STABLE | COMPOSE | COMPAT | CASEFOLD | IGNORE): compatibility
 * forms are unified (full-width "Ａ" is "a", "ﬁ" is "fi"), case is folded
 * ("ß" is "ss") and default-ignorable characters vanish, so a soft hyphen or
 * zero-width joiner inside a word does not split it. Text is otherwise taken
 * as it is: mojibake such as "Â£" is normalized, not repaired. The tokens
 * are exactly those of normalizing the whole text at once and then
 * splitting, except inside a run of more than 31 consecutive code points
 * that are not normalization boundaries (combining marks, ignorables, and
 * characters that compose with what precedes them, such as Hangul vowel
 * jamo), which is cut every 32 code points to bound the cost of canonical
 * reordering (as the Stream-Safe Text Format of UAX #15 does).
 *
 * Ill-formed UTF-8 (stray or truncated sequences, overlong forms,
 * surrogates, values above U+10FFFF) and NUL bytes are read as U+FFFD, one
 * per maximal ill-formed subpart, which separates tokens; t->invalid_utf8
 * counts them.
 *
 * Returns WN_OK; WN_EINVAL for a NULL t, NULL text with len > 0 or an
 * unknown mode; WN_ETOOBIG when len or the normalized output exceeds
 * UINT32_MAX bytes; WN_ENOMEM. On error t holds no tokens and stays valid.
 * Thread-safe for distinct t; text is not kept.
 */
WN_API int wn_tokenize(const char *text, size_t len, int mode,
                       struct wn_tokens *t);

/* ------------------------------------------------------------------------ */
/* Deduplication                                                             */
/* ------------------------------------------------------------------------ */

enum wn_method {
    WN_METHOD_MINHASH = 0, /* MinHash + banded LSH (default) */
    WN_METHOD_SIMHASH = 1  /* 64-bit SimHash + block-permuted tables */
};

enum wn_verify {
    WN_VERIFY_ESTIMATE = 0, /* Jaccard estimated from the signatures */
    WN_VERIFY_EXACT = 1     /* exact Jaccard of the shingle sets */
};

enum wn_sketch_kind {
    /* One-permutation hashing with optimal densification (Shrivastava
     * 2017): one hash per shingle. The default: the fastest, unbiased. */
    WN_SKETCH_ONE_PERMUTATION = 0,
    /* K independent multiply-shift permutations: the textbook MinHash,
     * K hashes per shingle; kept as the reference the benchmarks compare
     * with. The two give different signatures for the same text. */
    WN_SKETCH_K_PERMUTATIONS = 1
};

/* Which pair rule decides near duplicates (docs/QUALITY.md, "News quality
 * rule"). */
enum wn_profile {
    /* The default, for news: Jaccard >= threshold (0.5) unless the figures
     * (numbers, amounts, dates, times) of the two records conflict, or the
     * smaller is mostly contained in the larger (containment, default 0.7)
     * with all its figures in it. MinHash only; SimHash keeps classic. */
    WN_PROFILE_NEWS = 0,
    /* The rule before issue 12: Jaccard >= threshold (set it to 0.8), or
     * containment >= containment when that is > 0; figures ignored. */
    WN_PROFILE_CLASSIC = 1,
    /* Web pages for LM data: the news rule without the figure test (a
     * template page filled with other numbers is still a copy); use with
     * threshold 0.7 and keep longest. */
    WN_PROFILE_WEB = 2
};

enum wn_keep {
    WN_KEEP_FIRST = 0,   /* the first record of a cluster in input order */
    WN_KEEP_LONGEST = 1, /* the longest text; ties go to the first */
    WN_KEEP_MAX = 2      /* the largest numeric keep_field; ties: first */
};

/*
 * Progress of a long run, for a caller that shows it (the library never
 * prints). A sink's fn is called on the run's thread, from time to time
 * (about every MiB read, every few thousand records of a later stage, and
 * when a stage starts), with what the stage has done so far; it must
 * return quickly and not call back into the run. fn NULL: no progress.
 */
struct wn_progress {
    const char *stage;      /* "read" (pass 1), "write" (pass 2), or a
                               middle stage: "exact", "join", "verify",
                               "cluster", "windows", "sort", "count" */
    uint64_t records;       /* records done in the stage so far */
    uint64_t bytes;         /* input bytes read in the stage so far (read
                               and write stages that read the inputs) */
    uint64_t total_bytes;   /* what bytes goes to, when known (regular,
                               uncompressed inputs), else 0 */
    uint64_t total_records; /* what records goes to, when known, else 0 */
    const char *unit;       /* what records counts: "records", or "pairs"
                               (verify) */
};

struct wn_progress_sink {
    void (*fn)(void *ud, const struct wn_progress *p);
    void *ud;
};

struct wn_dedup_options {
    struct wn_reader_options reader;
    int exact_only;              /* stop after exact duplicates */
    int method;                  /* enum wn_method */
    int token_mode;              /* enum wn_token_mode */
    unsigned ngram;              /* shingle length in tokens; default 5 */
    uint32_t num_perm;           /* MinHash size K; default 128 */
    int profile;                 /* enum wn_profile; default news */
    double threshold;            /* Jaccard threshold; default 0.5 (the news
                                    rule's; classic: use 0.8, see
                                    docs/QUALITY.md) */
    uint32_t bands, rows;        /* 0: chosen from threshold and num_perm with
                                    the weights below */
    double weight_fp, weight_fn; /* default WN_LSH_WEIGHT_FP/_FN */
    int verify;                  /* enum wn_verify */
    int sketch;                  /* enum wn_sketch_kind */
    double containment;          /* > 0: also accept pairs whose smaller
                                    member is this much contained in the larger
                                    (news/web: 0 means the rule's 0.7) */
    unsigned hamming;            /* SimHash: max Hamming distance; default 3 */
    int keep;                    /* enum wn_keep */
    const char *keep_field;      /* WN_KEEP_MAX: numeric JSON field */
    unsigned threads;            /* 0: all cores */
    uint64_t seed;               /* hash seed; default 1 */
    uint32_t bucket_all_pairs;   /* buckets up to this size: all pairs */
    uint64_t memory;             /* memory budget of the run in bytes
                                    (docs/SCALING.md); 0: a quarter of
                                    physical RAM; below
                                    wn_dedup_memory_min: WN_EINVAL */
    const char *tmp_dir;         /* temporary files; default: the output dir */
    int no_fsync; /* skip fsync before the outputs are renamed into
                     place: still atomic if the process dies, but
                     a power failure may leave them incomplete */
    /* Set to non-zero (e.g. from a signal handler) to stop the run; it
     * returns WN_EINTR and removes its temporary files. Kept and read
     * during the run. */
    volatile int *cancel;
    /* Called after each batch of pass 1 with the bytes and records read
     * so far (on the calling thread), when not NULL. */
    void (*on_progress)(void *ud, uint64_t bytes, uint64_t records);
    /* Called for every rejected record (on the calling thread). */
    void (*on_reject)(void *ud, const struct wn_record *rec);
    void *ud;
    struct wn_progress_sink progress; /* stages and records; fn NULL: none */
};

/* Defaults as documented field by field above. */
WN_API void wn_dedup_options_init(struct wn_dedup_options *o);

/* The smallest memory budget (wn_dedup_options.memory) a dedup run with
 * these options works in: the band join's floor of 2 MiB per thread
 * (threads: o->threads, 0: the cores online). Thread-safe. */
WN_API uint64_t wn_dedup_memory_min(const struct wn_dedup_options *o);

struct wn_dedup_report {
    uint64_t read, kept, removed, rejected;
    uint64_t removed_exact, removed_near;
    uint64_t blank_lines;
    uint64_t bytes;      /* bytes read, after decompression */
    uint64_t clusters;   /* clusters of 2 or more */
    uint64_t candidates; /* distinct candidate pairs */
    uint64_t verified;   /* candidate pairs verified */
    uint64_t edges;      /* pairs that passed verification */
    uint64_t large_buckets, max_bucket;
    uint64_t invalid_utf8;      /* replaced ill-formed sequences */
    uint64_t empty_docs;        /* records with no tokens */
    uint64_t removed_contained; /* of removed_near: passed by containment
                                   alone (reason "contained") */
    uint64_t duplicate_ids;     /* records whose id an earlier record has */
    uint64_t keep_missing;      /* WN_KEEP_MAX: records without a numeric
                                   value in keep_field */
    uint32_t bands, rows;       /* LSH parameters used */
    uint64_t join_partitions;   /* partitions of each band's join: the
                                   memory budget, raised to a floor of 2 MiB
                                   per thread, sets them */
    double seconds;
    double stage_seconds[6]; /* read+sketch, exact, join, verify,
                                cluster, write */
    uint64_t peak_rss_bytes;
    char error_path[512]; /* the file behind an error, if any */
    int error_errno;      /* the errno behind it (strerror() says why), or
                             0 when the status says it all */
};

/*
 * Deduplicate the records of the inputs and write kept.jsonl, removed.jsonl,
 * clusters.jsonl, rejected.jsonl and stats.json into outdir (created if
 * missing). Every output is written to a temporary file and renamed into
 * place at the end, stats.json last, so an interrupted run never leaves a
 * file that looks complete and keeps the previous outputs. A file in outdir
 * is replaced or removed only when the manifest outdir/.winnow-outputs,
 * written by each publish, proves an earlier run made it, and never when it
 * is an input. Returns WN_OK (rejected records are not an error: see
 * rep->rejected), WN_EOPEN before anything is written when an input cannot
 * be read, WN_EEXIST or WN_EINPUT before anything is written when a file
 * winnow did not write, or an input, is at an output name (or outdir is in
 * an input directory), WN_EINTR when cancelled, or another status. rep may
 * be NULL; unlike an out-parameter it is written whatever the outcome (on
 * failure rep->error_path and rep->error_errno say which file and why, when
 * there is one). Uses opts->threads threads internally; outputs are
 * byte-identical for any thread count (stats.json aside, which records
 * timings and the thread count). The decisions are those of a wn_dedup_job
 * given the accepted records in input order.
 */
WN_API int wn_dedup_run(const char *const *inputs, size_t n, const char *outdir,
                        const struct wn_dedup_options *opts,
                        struct wn_dedup_report *rep);

/*
 * The most records one process numbers in a dedup run or job (more make
 * it fail with WN_ELIMIT, nothing published): 2^32 - 2 in a default build,
 * whose document numbers are 32-bit, 2^64 - 2 in a build configured with
 * -Dwide_docs=true (docs/SCALING.md). wn_dedup_docno_bits() is that width,
 * 32 or 64. Thread-safe.
 */
WN_API uint64_t wn_dedup_records_max(void);
WN_API int wn_dedup_docno_bits(void);

/* ------------------------------------------------------------------------ */
/* Stages: the sketcher, the verifier and the in-memory job                  */
/* ------------------------------------------------------------------------ */

/*
 * wn_dedup_run() is built from three stages that can be used on their own,
 * for example to check texts against a persistent index:
 *
 *   a sketcher  (struct wn_sketcher), configured once from the dedup
 *               options, turns one text in memory into a sketch;
 *   a sketch    (struct wn_sketch) holds what the job needs of a text:
 *               its exact hash, token and shingle counts, the MinHash or
 *               SimHash signature, the LSH band keys and the verification
 *               signature, and encodes to a byte blob for storage;
 *   a verifier  (wn_sketcher_compare) decides a pair from two sketches with
 *               the rule the batch job uses;
 *   the job     (struct wn_dedup_job) takes records one at a time and gives
 *               every record's fate (kept, or removed as a duplicate of an
 *               earlier-decided representative) to a callback.
 *
 * Two sketches are comparable only when they come from sketchers with the
 * same wn_sketcher_id().
 */

struct wn_sketcher;
struct wn_sketch;

/*
 * A sketcher for the options' method, sketch, token_mode, ngram, num_perm,
 * threshold, bands and rows (or the weights that choose them), containment,
 * hamming, verify, exact_only and seed; the other fields are ignored. opts
 * may be NULL for defaults; it is copied (keep_field and the callbacks are
 * not used). Returns WN_OK with a new sketcher in *out, WN_EINVAL for
 * options wn_dedup_run would refuse, or WN_ENOMEM. The sketcher is
 * immutable: every function taking a const struct wn_sketcher * is safe to
 * call from many threads at once on one sketcher.
 */
WN_API int wn_sketcher_create(const struct wn_dedup_options *opts,
                              struct wn_sketcher **out);
WN_API void wn_sketcher_free(struct wn_sketcher *sk);

/* What a sketcher computes, for display and for storing beside sketches. */
struct wn_sketcher_info {
    int method;            /* enum wn_method */
    int sketch;            /* enum wn_sketch_kind */
    int verify;            /* enum wn_verify */
    int token_mode;        /* enum wn_token_mode */
    int exact_only;        /* sketches carry the exact hash and counts only */
    unsigned ngram;        /* shingle length */
    uint32_t num_perm;     /* MinHash values per signature (0 for SimHash) */
    uint32_t bands, rows;  /* LSH banding; SimHash: tables, rows 0 */
    uint32_t nkeys;        /* band keys per sketch */
    uint32_t verify_bytes; /* bytes of the verification signature */
    uint32_t figure_bytes; /* bytes of the figures' fingerprint (news, web) */
    int profile;           /* enum wn_profile */
    double threshold, containment;
    unsigned hamming;
    uint64_t seed;
};

/* Fill *info. Never fails. Thread-safe. */
WN_API void wn_sketcher_get_info(const struct wn_sketcher *sk,
                                 struct wn_sketcher_info *info);

/*
 * A 64-bit identity of everything that changes a sketch or a decision
 * (every field of wn_sketcher_info and the sketch format version): two
 * sketchers with the same id make interchangeable sketches and decide
 * pairs alike. Store it with encoded sketches and compare it when they are
 * read back. Thread-safe.
 */
WN_API uint64_t wn_sketcher_id(const struct wn_sketcher *sk);

/*
 * An empty sketch for sk's parameters, in *out. A sketch also holds the
 * scratch space of sketching (token and shingle buffers), so reusing one
 * sketch for many texts allocates nothing after the first few. sk must
 * outlive the sketch. WN_OK or WN_ENOMEM. One sketch must not be used from
 * two threads at once; distinct sketches may share one sketcher.
 */
WN_API int wn_sketch_create(const struct wn_sketcher *sk,
                            struct wn_sketch **out);
WN_API void wn_sketch_free(struct wn_sketch *s);

/*
 * Sketch text[0, len) into s (made by wn_sketch_create for the same sk),
 * replacing what it held: normalized and tokenized as wn_tokenize does,
 * shingled, hashed. The text is not kept. Returns WN_OK; WN_EINVAL for a
 * NULL text with len > 0 or an s of another sketcher; WN_ETOOBIG for a
 * text of 4 GiB or more; WN_ENOMEM. On error s holds no sketch:
 * wn_sketcher_compare and wn_sketch_encode refuse it with WN_EINVAL until
 * it is filled again (the accessors then give zeros and NULL).
 */
WN_API int wn_sketcher_sketch(const struct wn_sketcher *sk, const char *text,
                              size_t len, struct wn_sketch *s);

/* The 128-bit hash of the normalized token stream (seeded): equal texts
 * after normalization, and only those in practice, have equal hashes. */
WN_API void wn_sketch_exact_hash(const struct wn_sketch *s, uint64_t h[2]);
/* Tokens of the text. */
WN_API uint64_t wn_sketch_tokens(const struct wn_sketch *s);
/* Shingles of the text: distinct ones when the sketcher verifies exactly
 * or uses containment, else with repeats (0 when exact_only). */
WN_API uint32_t wn_sketch_shingles(const struct wn_sketch *s);
/* Ill-formed UTF-8 sequences replaced while normalizing. */
WN_API uint64_t wn_sketch_invalid_utf8(const struct wn_sketch *s);
/* 1 when the text has no shingle (no token with exact_only): such a text
 * is a duplicate of other empty texts only. */
WN_API int wn_sketch_is_empty(const struct wn_sketch *s);
/*
 * The LSH band keys (*n = wn_sketcher_info.nkeys; 0 with exact_only): two
 * texts are candidates of the batch job when they share a key at the same
 * index. The pointer stays valid until s changes. An empty sketch has all
 * keys 0.
 */
WN_API const uint64_t *wn_sketch_band_keys(const struct wn_sketch *s,
                                           size_t *n);
/*
 * The full MinHash signature (*n = num_perm values, WN_SIG_EMPTY = all
 * ones for an empty text) or, for SimHash, the 64-bit fingerprint as two
 * values, low half first. Present only in a sketch made by
 * wn_sketcher_sketch: a decoded sketch gives NULL and *n = 0 (the blob keeps
 * what candidates and verification need, not the signature).
 */
WN_API const uint32_t *wn_sketch_signature(const struct wn_sketch *s,
                                           size_t *n);
/* The verification signature, *n = wn_sketcher_info.verify_bytes bytes
 * (b-bit MinHash values or the SimHash fingerprint). */
WN_API const uint8_t *wn_sketch_verify_data(const struct wn_sketch *s,
                                            size_t *n);

/*
 * Encoding. A blob starts with a magic number, a format version and the
 * sketcher id, then sections (tag, length, bytes), little-endian: the
 * exact hash and counts, the band keys, the verification signature and,
 * when the sketcher verifies exactly, the sorted shingle set. Later
 * versions add sections (a reader skips tags it does not know).
 *
 * wn_sketch_encoded_size() is the size of s's blob: the same for every
 * sketch of a sketcher unless it verifies exactly (WN_VERIFY_EXACT), when it
 * grows by 8 bytes per distinct shingle. wn_sketch_encode() writes it into
 * buf[0, cap): WN_OK and *len set, or WN_EINVAL when cap is too small (buf
 * and *len untouched). wn_sketch_decode() fills s (made for sk) from a
 * blob: WN_OK, or WN_EFORMAT when the blob is not a sketch, is truncated or
 * comes from a sketcher with another id (s untouched), or WN_ENOMEM.
 * Thread-safe for distinct s.
 */
WN_API size_t wn_sketch_encoded_size(const struct wn_sketch *s);
WN_API int wn_sketch_encode(const struct wn_sketch *s, void *buf, size_t cap,
                            size_t *len);
WN_API int wn_sketch_decode(const struct wn_sketcher *sk, const void *blob,
                            size_t len, struct wn_sketch *s);

/* Why a pair is a duplicate pair. */
enum wn_reason {
    WN_REASON_NONE = 0,      /* not a duplicate pair (or a kept record) */
    WN_REASON_EXACT = 1,     /* equal after normalization */
    WN_REASON_NEAR = 2,      /* similarity at or above the threshold (for a
                                removed record: reached through its cluster) */
    WN_REASON_CONTAINED = 3, /* passed by containment alone */
    WN_REASON_FLASH = 4      /* a short record whose rare words lead the
                                other (news rule) */
};

/* "none", "exact", "near", "contained" or "flash"; NULL for others. */
WN_API const char *wn_reason_name(int reason);

/* How the figures (numbers, dates, times) of two records agree. */
enum wn_figures_agreement {
    WN_FIGURES_NONE = 0,      /* neither has a figure (or not compared) */
    WN_FIGURES_EQUAL = 1,     /* the same figures */
    WN_FIGURES_CONTAINED = 2, /* one side's figures are all in the other's */
    WN_FIGURES_CLOSE = 3,     /* a few replaced among many */
    WN_FIGURES_CONFLICT = 4   /* figures replaced by others */
};

/* "none", "equal", "contained", "close", "conflict"; NULL for others. */
WN_API const char *wn_figures_name(int agreement);

struct wn_verdict {
    int same;              /* 1: a duplicate pair by the batch job's rule */
    int reason;            /* enum wn_reason; WN_REASON_NONE when !same */
    int candidate;         /* 1: the sketches share a band key (or, news and web
                              rules, an anchor), so the batch job compares
                              them (exact duplicates need not) */
    double similarity;     /* Jaccard: estimated from the verification
                              signatures, or exact with WN_VERIFY_EXACT; SimHash:
                              1 - Hamming distance / 64; 1 for exact pairs */
    double containment;    /* of the smaller in the larger, as the rule uses it:
                              the larger of the two below */
    double a_in_b, b_in_a; /* |A n B| / |A| and / |B| (estimated from the
                              similarity and the shingle counts unless the
                              verification is exact); SimHash: similarity */
    int figures;           /* enum wn_figures_agreement (news and web rules) */
};

/*
 * Decide the pair (a, b), both made with sk, exactly as the batch job
 * decides a candidate pair: exact hashes equal -> same (reason exact);
 * otherwise an empty sketch is never the same as a non-empty one; otherwise
 * SimHash: Hamming distance <= hamming; MinHash with the news or web
 * profile: the pair rule of docs/QUALITY.md (near: similarity >= threshold
 * and the figures do not conflict; contained: the smaller's containment
 * >= containment (0: 0.7) and all its figures in the larger), with the
 * figures' agreement in figures; classic: similarity >= threshold, or
 * (containment > 0) containment >= containment (reason contained when
 * the similarity alone would not pass). The batch job removes the later of
 * two records exactly when same && (reason == exact || candidate).
 * With exact_only only exact pairs are the same. Returns WN_OK with *v
 * filled, or WN_EINVAL for a sketch of another sketcher or one holding no
 * sketch (*v untouched). Thread-safe; a and b are only read.
 */
WN_API int wn_sketcher_compare(const struct wn_sketcher *sk,
                               const struct wn_sketch *a,
                               const struct wn_sketch *b, struct wn_verdict *v);

/*
 * The corpus word counts of the news and web rules' flash test (a headline
 * of at most 40 tokens whose rare words, weighted by idf = log(n / df), are
 * in the lead of a longer record): a count-min sketch of the distinct words
 * of the first 64 tokens of every record added. wn_sketcher_compare has no
 * corpus, so its flash test never passes (weight 0); given the counts of the
 * records a batch job saw, every record added once in any order,
 * wn_sketcher_compare_counts decides as that job (reason flash included).
 * Create: WN_OK, WN_EINVAL (NULL) or WN_ENOMEM. Add: WN_OK, or WN_EINVAL for
 * a sketch of another sketcher or holding no sketch; a sketcher without the
 * rule adds nothing. Not thread-safe while adding.
 */
struct wn_word_counts;
WN_API int wn_word_counts_create(const struct wn_sketcher *sk,
                                 struct wn_word_counts **out);
WN_API int wn_word_counts_add(struct wn_word_counts *c,
                              const struct wn_sketch *s);
WN_API void wn_word_counts_free(struct wn_word_counts *c);
/* wn_sketcher_compare with the flash test weighing words by c (NULL: as
 * wn_sketcher_compare); c must be of sk. */
WN_API int wn_sketcher_compare_counts(const struct wn_sketcher *sk,
                                      const struct wn_word_counts *c,
                                      const struct wn_sketch *a,
                                      const struct wn_sketch *b,
                                      struct wn_verdict *v);

/* One record of the in-memory job. */
struct wn_dedup_record {
    const char *id; /* any bytes; copied */
    size_t id_len;
    const char *text; /* UTF-8 (invalid sequences are replaced); not kept */
    size_t text_len;
    /* WN_KEEP_MAX: the value ranked by the keep rule, used when has_value
     * is non-zero (records without one rank below all others and are
     * counted in keep_missing). Ignored by the other keep rules. */
    int has_value;
    double value;
};

/* The fate of one record, given in input order by wn_dedup_job_finish(). */
struct wn_fate {
    uint64_t index; /* 0-based position among the records added */
    const char *id; /* valid during the callback only */
    size_t id_len;
    int removed;
    /* Removed records only (else NULL, 0, -1): the kept representative of
     * its cluster. */
    const char *duplicate_of;
    size_t duplicate_of_len;
    int64_t duplicate_of_index;
    int64_t cluster;    /* cluster number (clusters of 2 or more, numbered by
                           their first member in input order), or -1 */
    double similarity;  /* removed: to the representative (1 for exact
                           copies); kept: 1 */
    double containment; /* removed: as wn_verdict.containment; kept: 1 */
    int reason;         /* enum wn_reason: exact, near or contained */
    int figures;        /* removed: as wn_verdict.figures; kept: 0 */
};

struct wn_dedup_job;

/*
 * A job deduplicating records given one at a time, as wn_dedup_run does
 * with the records of its inputs: same options (opts may be NULL; it is
 * copied, the strings it points to and opts->cancel must stay valid until
 * the job is freed; reader, tmp_dir and no_fsync are ignored), same
 * decisions. Uses opts->threads threads from a pool the job owns; the
 * per-record data the job keeps are the id, a few counters and the spilled
 * signatures (in opts->tmp_dir, default the system's temporary directory),
 * never the text. WN_OK, WN_EINVAL, WN_EOPEN (no spill file) or WN_ENOMEM.
 * One job must not be used from two threads at once.
 */
WN_API int wn_dedup_job_create(const struct wn_dedup_options *opts,
                               struct wn_dedup_job **out);

/*
 * Add a record. The text is sketched in the pool (possibly after the call
 * returns; it is copied first). WN_OK; WN_EINVAL after finish or for a NULL
 * text with text_len > 0; WN_ETOOBIG for a text of 4 GiB or more; WN_ELIMIT
 * beyond 2^32 - 2 records; WN_ENOMEM, WN_EIO, WN_ENOSPC writing spill
 * files; WN_EINTR when opts->cancel is set. After an error the job is
 * failed: every later call returns the same status.
 */
WN_API int wn_dedup_job_add(struct wn_dedup_job *job,
                            const struct wn_dedup_record *rec);

/*
 * Decide every record and call on_fate (when not NULL) once per record,
 * in input order, on the calling thread. A non-zero return from on_fate
 * stops the job and is returned. Then fill *rep when not NULL (rejected 0,
 * bytes the text bytes added, stage_seconds[5] the time spent in the
 * callbacks); rep is written on error too (error_path empty). WN_OK or a
 * status as for wn_dedup_job_add. Called once: later calls return the
 * first call's failure, or WN_EINVAL after it succeeded; wn_dedup_job_add
 * returns WN_EINVAL from the first call on.
 */
WN_API int wn_dedup_job_finish(struct wn_dedup_job *job,
                               int (*on_fate)(void *ud,
                                              const struct wn_fate *fate),
                               void *ud, struct wn_dedup_report *rep);

/* Free the job, its pool and spill files. NULL does nothing. */
WN_API void wn_dedup_job_free(struct wn_dedup_job *job);

/* ------------------------------------------------------------------------ */
/* LSH parameters                                                            */
/* ------------------------------------------------------------------------ */

/*
 * Default weights of the LSH criterion. Every candidate pair is verified
 * before it becomes an edge, so a false positive of the banding costs one
 * signature comparison while a false negative is a duplicate lost for good:
 * false negatives weigh 19 times as much. At the default threshold 0.8 and
 * K = 128 that picks 16 bands of 8 rows: a pair at exactly 0.8 becomes a
 * candidate with probability 0.95 (0.74 with the 12 x 10 that weights
 * 0.2/0.8 pick, 0.40 with equal weights), one at 0.5 with probability 0.06.
 */
#define WN_LSH_WEIGHT_FP 0.05
#define WN_LSH_WEIGHT_FN 0.95

/*
 * The bands and rows (bands * rows <= num_perm) that minimize
 * w_fp * FP + w_fn * FN, where FP is the area under the S-curve
 * 1 - (1 - s^rows)^bands over [0, threshold] and FN the area above it over
 * [threshold, 1] (the criterion of datasketch's MinHashLSH). fp_area and
 * fn_area may be NULL. WN_EINVAL for a threshold outside (0, 1), num_perm
 * == 0 or negative weights. Thread-safe.
 */
WN_API int wn_lsh_params(double threshold, uint32_t num_perm, double w_fp,
                         double w_fn, uint32_t *bands, uint32_t *rows,
                         double *fp_area, double *fn_area);

/* Probability that a pair of Jaccard similarity s becomes a candidate. */
WN_API double wn_lsh_probability(double s, uint32_t bands, uint32_t rows);

/* ------------------------------------------------------------------------ */
/* Similarity of two texts                                                   */
/* ------------------------------------------------------------------------ */

struct wn_similarity {
    double jaccard;     /* |A n B| / |A u B| of the shingle sets */
    double containment; /* |A n B| / min(|A|, |B|) */
    uint64_t shingles_a, shingles_b, shared; /* distinct shingles */
};

/*
 * Exact similarity of two texts as winnow dedup sees them: normalized,
 * tokenized (token_mode), shingled with ngram tokens, compared as sets.
 * Two empty texts have similarity 1. Thread-safe.
 */
WN_API int wn_text_similarity(const char *a, size_t alen, const char *b,
                              size_t blen, int token_mode, unsigned ngram,
                              struct wn_similarity *out);

/* ------------------------------------------------------------------------ */
/* Evaluation                                                                */
/* ------------------------------------------------------------------------ */

struct wn_eval_result {
    uint64_t items;      /* items present in both truth and prediction */
    uint64_t tp, fp, fn; /* pairwise counts */
    double precision, recall, f1;
    double ari;     /* adjusted Rand index (cluster truth only) */
    int pairs_mode; /* 1 when the truth was labelled pairs */
};

/*
 * Compare a clustering with ground truth. predicted is a clusters.jsonl
 * (lines {"cluster", "members": [ids]}; ids not listed are singletons) and
 * truth either lines {"id", "cluster"} or labelled pairs
 * {"id_a", "id_b", "label"}. universe, when not NULL, is a JSONL file whose
 * "id" fields name every item (so singletons are counted for the ARI).
 * Files may be compressed. On a parse error *bad_line is set.
 */
WN_API int wn_eval_files(const char *predicted, const char *truth,
                         const char *universe, struct wn_eval_result *res,
                         uint64_t *bad_line, char *bad_file, size_t bad_cap);

/*
 * The fuller evaluation that `winnow eval` prints. Ids are compared by the
 * bytes winnow dedup writes for them: a string id as its decoded text, a
 * number as its JSON token exactly as written (0.1, 1.0 and 1e2 are three
 * ids, and an integer of any length is an id), so that the truth matches
 * the ids of removed.jsonl and clusters.jsonl. A number and a string with
 * the same text ("7" and 7) are one id, as in dedup's outputs.
 *
 * A conflict is an entry that repeats an earlier one: an id given twice in
 * cluster truth, an unordered pair given twice in pairs truth, an id listed
 * twice in the predicted clusters. The first entry is used; each repeat is
 * counted and, when warn is set, reported with its file and line.
 */
struct wn_eval_options {
    const char *universe; /* as for wn_eval_files; NULL for none */
    int pairs_only; /* 1: the truth must be labelled pairs (WN_EPARSE else) */
    /* Called once per conflict, from the calling thread; msg names the id
     * and the earlier line. NULL: conflicts are only counted. */
    void (*warn)(void *ud, const char *file, uint64_t line, const char *msg);
    void *warn_ud;
};

/* One value of a labelled pair's "kind" (pairs without one: kind ""). */
struct wn_eval_kind {
    char *kind;              /* owned by the report */
    uint64_t pairs;          /* labelled pairs of this kind */
    uint64_t positives;      /* of them, labelled the same item */
    uint64_t tp, fp, fn, tn; /* predicted same cluster vs label */
};

struct wn_eval_report {
    struct wn_eval_result total;
    uint64_t truth_conflicts;   /* repeated truth entries (first one used) */
    uint64_t pred_conflicts;    /* ids listed again in the clusters */
    uint64_t missing_ids;       /* truth ids in no predicted cluster */
    struct wn_eval_kind *kinds; /* pairs truth: by kind, in order of first
                                   appearance; NULL otherwise */
    size_t nkinds;
};

/*
 * Score predicted (a clusters.jsonl) against truth as wn_eval_files does,
 * with the options above. On success *out is a new report to release with
 * wn_eval_report_free. On error *out is untouched and, for a parse error,
 * *bad_line and bad_file say where. Thread-safe for distinct arguments.
 */
WN_API int wn_eval_report_create(const char *predicted, const char *truth,
                                 const struct wn_eval_options *opts,
                                 struct wn_eval_report **out,
                                 uint64_t *bad_line, char *bad_file,
                                 size_t bad_cap);
/* Release a report; NULL is a no-op. */
WN_API void wn_eval_report_free(struct wn_eval_report *r);

/* ------------------------------------------------------------------------ */
/* Passages: repeated spans, boilerplate lines, repetition in a document     */
/* ------------------------------------------------------------------------ */

/*
 * The three passage-level tools work below the record: they find text that
 * occurs more than once and either report it (annotate) or cut it out
 * (remove). Their runs follow wn_dedup_run: outputs in outdir, written to
 * temporary files and renamed into place at the end (stats.json last), an
 * interrupted run publishing nothing; read = kept + removed + rejected in
 * stats.json; rejected.jsonl as for dedup. A kept record is written as the
 * bytes it was read as, unless text was cut from it: then only the value of
 * its text field changes, every other byte staying as it was (a record read
 * from a .txt file is written as {"id", "text"}). A record is removed only
 * with a reason in removed.jsonl.
 *
 * Byte offsets ("start", "end") are offsets into the record's text: the
 * unescaped value of the text field (the whole file for .txt input), as
 * UTF-8 bytes, end exclusive. They always fall on token or line
 * boundaries, never inside a character. They are 32-bit inside: the
 * reader's max_record_bytes must be below 4 GiB (WN_EINVAL otherwise).
 */

enum wn_span_mode {
    WN_SPANS_ANNOTATE = 0, /* report only; every accepted record is kept */
    WN_SPANS_REMOVE = 1    /* cut, keep the rest, report what was cut */
};

/*
 * Exact repeated passages (Lee et al. 2022): every run of at least
 * min_span tokens that occurs more than once in the corpus, within a
 * record or across records. Tokens are those of wn_tokenize() in
 * token_mode, so "min_span 50" means 50 normalized words (characters in
 * WN_TOKENS_CHAR mode) whatever punctuation, case or spacing separates
 * them. A window is a run of exactly min_span tokens of one record; a span
 * is a maximal stretch of a record covered by windows that occur elsewhere
 * (annotate) or that occurred earlier in corpus order (remove: the first
 * occurrence of every window is kept, the later ones are cut).
 */
struct wn_passages_options {
    struct wn_reader_options reader;
    int mode;          /* enum wn_span_mode; default annotate */
    int token_mode;    /* enum wn_token_mode; default word */
    uint32_t min_span; /* tokens; default 50 */
    /* Remove mode: a record left with fewer tokens than this after cutting
     * is "short" (reported); with drop_short it is removed. Default 20. */
    uint32_t min_length;
    int drop_short;
    uint32_t max_where; /* other occurrences listed per span; default 8 */
    /* Memory budget of the suffix arrays; default 1 GiB. A corpus whose
     * arrays do not fit is split into parts that do, and windows repeated
     * across parts are joined through hashes on disk. */
    uint64_t memory;
    const char *tmp_dir;  /* spill files; default: inside the output dir */
    volatile int *cancel; /* as in wn_dedup_options */
    void (*on_reject)(void *ud, const struct wn_record *rec);
    void *ud;
    struct wn_progress_sink progress; /* stages and records; fn NULL: none */
};

WN_API void wn_passages_options_init(struct wn_passages_options *o);

struct wn_passages_report {
    uint64_t read, kept, removed, rejected;
    uint64_t removed_empty; /* nothing left after cutting */
    uint64_t removed_short; /* drop_short */
    uint64_t short_docs;    /* left with fewer than min_length tokens */
    uint64_t blank_lines;
    uint64_t invalid_utf8; /* replaced ill-formed sequences */
    uint64_t bytes;        /* read, after decompression */
    uint64_t tokens;       /* tokens of accepted records */
    uint64_t windows;      /* windows counted in spans: repeated ones
                              (annotate), or later occurrences (remove) */
    uint64_t docs_with_spans;
    uint64_t spans;           /* spans reported (annotate) or cut (remove) */
    uint64_t span_tokens;     /* tokens inside them */
    uint64_t span_bytes;      /* their bytes (remove: the bytes cut) */
    uint64_t vocabulary;      /* distinct tokens given a code */
    uint64_t hashed_tokens;   /* occurrences coded by hash (budget full) */
    uint64_t code_bytes;      /* size of the coded corpus that is sorted */
    uint32_t parts;           /* suffix arrays built */
    uint64_t cross_windows;   /* windows whose repeats span parts */
    uint64_t part_peak_bytes; /* planned peak memory of the largest part */
    double seconds;
    double stage_seconds[4]; /* read+code, suffix arrays, cross-part join,
                                write */
    uint64_t peak_rss_bytes;
    char error_path[512];
    int error_errno; /* as in wn_dedup_report */
};

/*
 * Find repeated passages in the records of the inputs and write into
 * outdir: kept.jsonl, removed.jsonl, spans.jsonl, rejected.jsonl and
 * stats.json. spans.jsonl has one line per record with spans:
 *   {"id", "tokens", "tokens_left" and "short" (remove mode), "spans":
 *    [{"start", "end", "tokens", "count", "where": [{"id", "start", "end"}],
 *      "more"}]}
 * count is the largest number of occurrences in the corpus of any window
 * of the span; where lists, in the span's order, the stretches of other
 * records (or of the same record) that the span's windows repeat: their
 * first occurrence, or for a first occurrence the second; at most
 * max_where of them, "more" counting the rest. In remove mode start/end
 * are the bytes cut: the span with the spaces and punctuation that follow
 * it, and the line break after it only when the span starts a line.
 * Returns as wn_dedup_run does; WN_EINVAL for min_span 0 or bad options.
 * The records are read twice. One thread, or two when the corpus is split
 * into parts (two parts sorted at a time, within the budget together);
 * outputs do not depend on it.
 */
WN_API int wn_passages_run(const char *const *inputs, size_t n,
                           const char *outdir,
                           const struct wn_passages_options *opts,
                           struct wn_passages_report *rep);

enum wn_unit {
    WN_UNIT_LINE = 0,     /* bytes between line feeds */
    WN_UNIT_PARAGRAPH = 1 /* runs of non-blank lines */
};

/*
 * Boilerplate lines (as CCNet, Wenzek et al. 2020): a unit's identity is its
 * tokens (wn_tokenize in token_mode) joined by spaces, hashed to 64 bits,
 * so case, punctuation and spacing do not matter; units without tokens are
 * ignored. Pass 1 counts, for every unit, the distinct records it occurs
 * in; pass 2 annotates or removes the units seen in at least min_docs
 * records. The count is bounded by the memory budget: hashes are sorted in
 * runs that spill to disk and are merged.
 */
struct wn_lines_options {
    struct wn_reader_options reader;
    int mode;            /* enum wn_span_mode; default annotate */
    int unit;            /* enum wn_unit; default line */
    int token_mode;      /* enum wn_token_mode; default word */
    uint32_t min_docs;   /* default 3 */
    uint32_t min_length; /* as in wn_passages_options; default 20 */
    int drop_short;
    uint64_t memory; /* budget of the count; default 1 GiB */
    uint64_t seed;   /* hash seed; default 1 */
    const char *tmp_dir;
    volatile int *cancel;
    void (*on_reject)(void *ud, const struct wn_record *rec);
    void *ud;
    struct wn_progress_sink progress; /* stages and records; fn NULL: none */
};

WN_API void wn_lines_options_init(struct wn_lines_options *o);

struct wn_lines_report {
    uint64_t read, kept, removed, rejected;
    uint64_t removed_empty, removed_short, short_docs;
    uint64_t blank_lines, bytes, tokens;
    uint64_t invalid_utf8;   /* replaced ill-formed sequences */
    uint64_t units;          /* units with tokens */
    uint64_t distinct_units; /* distinct unit hashes */
    uint64_t frequent_units; /* distinct units in >= min_docs records */
    uint64_t docs_with_repeats;
    uint64_t repeated_units; /* occurrences annotated or removed */
    uint64_t repeated_tokens;
    uint64_t cut_bytes; /* remove mode */
    uint32_t runs;      /* sorted runs of the count */
    double seconds;
    double stage_seconds[2]; /* count, write */
    uint64_t peak_rss_bytes;
    char error_path[512];
    int error_errno; /* as in wn_dedup_report */
};

/*
 * Count and annotate or remove frequent lines or paragraphs, writing
 * kept.jsonl, removed.jsonl, lines.jsonl, rejected.jsonl and stats.json.
 * lines.jsonl has one line per record with frequent units:
 *   {"id", "tokens", "tokens_left", "short",
 *    "units": [{"start", "end", "docs"}]}
 * docs being the number of records the unit occurs in. In remove mode a
 * unit is cut with everything up to the next unit (its line break, blank
 * lines after it). Returns as wn_dedup_run does. Single-threaded; the
 * records are read twice.
 */
WN_API int wn_lines_run(const char *const *inputs, size_t n, const char *outdir,
                        const struct wn_lines_options *opts,
                        struct wn_lines_report *rep);

/*
 * Repetition inside one document: the measures of the Gopher quality rules
 * (Rae et al. 2021, Table A1), with the thresholds used there. Lines are
 * split at line feeds, paragraphs at blank lines; a line or paragraph is a
 * duplicate when its tokens equal those of an earlier one in the text
 * (units without tokens are not counted). Characters are Unicode code
 * points: of the raw text for the line and paragraph measures, of the
 * normalized tokens for the n-gram ones. Every measure is a fraction in
 * [0, 1]; an empty text gives 0 everywhere.
 *   dup_line_frac          duplicate lines / lines
 *   dup_para_frac          duplicate paragraphs / paragraphs
 *   dup_line_char_frac     characters in duplicate lines / characters
 *   dup_para_char_frac     characters in duplicate paragraphs / characters
 *   top_N_gram_char_frac   (N = 2, 3, 4) characters of the tokens covered by
 *                          the most frequent N-gram (ties: the first) /
 *                          characters of all tokens
 *   dup_N_gram_char_frac   (N = 5..10) characters of the tokens covered by
 *                          N-grams that already occurred earlier / same
 */
#define WN_REPETITION_LIST(X)                                                  \
    X(WN_REP_DUP_LINE_FRAC, "dup_line_frac", 0.30)                             \
    X(WN_REP_DUP_PARA_FRAC, "dup_para_frac", 0.30)                             \
    X(WN_REP_DUP_LINE_CHAR_FRAC, "dup_line_char_frac", 0.20)                   \
    X(WN_REP_DUP_PARA_CHAR_FRAC, "dup_para_char_frac", 0.20)                   \
    X(WN_REP_TOP_2GRAM_CHAR_FRAC, "top_2gram_char_frac", 0.20)                 \
    X(WN_REP_TOP_3GRAM_CHAR_FRAC, "top_3gram_char_frac", 0.18)                 \
    X(WN_REP_TOP_4GRAM_CHAR_FRAC, "top_4gram_char_frac", 0.16)                 \
    X(WN_REP_DUP_5GRAM_CHAR_FRAC, "dup_5gram_char_frac", 0.15)                 \
    X(WN_REP_DUP_6GRAM_CHAR_FRAC, "dup_6gram_char_frac", 0.14)                 \
    X(WN_REP_DUP_7GRAM_CHAR_FRAC, "dup_7gram_char_frac", 0.13)                 \
    X(WN_REP_DUP_8GRAM_CHAR_FRAC, "dup_8gram_char_frac", 0.12)                 \
    X(WN_REP_DUP_9GRAM_CHAR_FRAC, "dup_9gram_char_frac", 0.11)                 \
    X(WN_REP_DUP_10GRAM_CHAR_FRAC, "dup_10gram_char_frac", 0.10)

enum wn_rep_measure {
#define WN__REP_ENUM(name, text, gopher) name,
    WN_REPETITION_LIST(WN__REP_ENUM)
#undef WN__REP_ENUM
        WN_REP_COUNT
};

struct wn_repetition {
    uint64_t lines, paragraphs; /* with tokens */
    uint64_t tokens, chars;     /* chars: code points of the raw text */
    double frac[WN_REP_COUNT];  /* by enum wn_rep_measure */
};

/* "dup_line_frac" etc., or NULL for an unknown measure. Thread-safe. */
WN_API const char *wn_repetition_name(int measure);
/* The Gopher threshold of a measure (a document above it is filtered), or
 * -1 for an unknown measure. Thread-safe. */
WN_API double wn_repetition_gopher(int measure);

/*
 * The repetition measures of text[0, len), tokenized in token_mode. WN_OK,
 * WN_EINVAL or WN_ENOMEM (out untouched). Thread-safe; allocates scratch
 * for the call.
 */
WN_API int wn_repetition_measure(const char *text, size_t len, int token_mode,
                                 struct wn_repetition *out);

struct wn_repeats_options {
    struct wn_reader_options reader;
    int token_mode; /* enum wn_token_mode; default word */
    /* A record whose measure exceeds max[measure] is removed. Default 1 for
     * every measure: nothing is removed (no fraction exceeds 1). */
    double max[WN_REP_COUNT];
    volatile int *cancel;
    void (*on_reject)(void *ud, const struct wn_record *rec);
    void *ud;
    struct wn_progress_sink progress; /* stages and records; fn NULL: none */
};

WN_API void wn_repeats_options_init(struct wn_repeats_options *o);

struct wn_repeats_report {
    uint64_t read, kept, removed, rejected;
    uint64_t blank_lines, bytes;
    uint64_t invalid_utf8;           /* replaced ill-formed sequences */
    uint64_t exceeded[WN_REP_COUNT]; /* records above each threshold */
    double seconds;
    uint64_t peak_rss_bytes;
    char error_path[512];
    int error_errno; /* as in wn_dedup_report */
};

/*
 * Measure every record and write kept.jsonl, removed.jsonl (with the
 * measures that exceeded their thresholds as the reason), repetition.jsonl
 * (one line per accepted record: {"id", "lines", "paragraphs", "tokens",
 * "chars", and every measure by name}), rejected.jsonl and stats.json.
 * Returns as wn_dedup_run does. One pass; single-threaded.
 */
WN_API int wn_repeats_run(const char *const *inputs, size_t n,
                          const char *outdir,
                          const struct wn_repeats_options *opts,
                          struct wn_repeats_report *rep);

/* ------------------------------------------------------------------------ */
/* Explain and report (issue 15)                                             */
/* ------------------------------------------------------------------------ */

/*
 * Why two texts are, or are not, copies of each other: the scores dedup
 * would compute for the pair, its verdict with the dedup defaults, and the
 * passages the texts share, aligned.
 *
 * The alignment locates matches with position-carrying fingerprints
 * (winnowing, Schleimer, Wilkerson, Aiken 2003): hashes of every k tokens
 * (normalized by wn_tokenize in token_mode), the minimum of each window of
 * w consecutive hashes kept with its token position. Every shared run of at
 * least w + k - 1 tokens shares a fingerprint; seeds are then extended to
 * maximal runs of equal tokens on both sides. Runs are reported once each,
 * longest first and non-overlapping on both sides (a passage that one text
 * holds twice and the other once is shared once and left over once), then
 * in the order of text A.
 */
struct wn_explain_options {
    int token_mode;     /* enum wn_token_mode; default word */
    unsigned ngram;     /* shingle length, as dedup; default 5 */
    uint32_t num_perm;  /* MinHash size K, as dedup; default 128 */
    double threshold;   /* as dedup; default 0.8 */
    double containment; /* as dedup; default 0 (off) */
    int verify;         /* enum wn_verify; default estimate */
    uint64_t seed;      /* as dedup; default 1 */
    unsigned kgram;     /* tokens per fingerprint; default 5 */
    unsigned window;    /* winnowing window; default 4 */
    unsigned min_run;   /* shortest run reported, in tokens; default kgram */
    int profile;        /* enum wn_profile, the pair rule, as dedup; default
                           classic (set threshold to the profile's: news
                           0.5, web 0.7) */
};

/* Defaults as documented field by field above (those of dedup). */
WN_API void wn_explain_options_init(struct wn_explain_options *o);

enum wn_explain_verdict {
    WN_VERDICT_DISTINCT = 0,  /* dedup would keep both */
    WN_VERDICT_EXACT = 1,     /* same normalized tokens */
    WN_VERDICT_NEAR = 2,      /* Jaccard at or above the threshold */
    WN_VERDICT_CONTAINED = 3, /* passed by containment alone */
    WN_VERDICT_EMPTY = 4,     /* a text has no shingle: dedup sets it aside */
    WN_VERDICT_FLASH = 5      /* a short text whose rare words lead the other
                                 (news rule) */
};

struct wn_explain_scores {
    uint64_t tokens_a, tokens_b;
    uint64_t shingles_a, shingles_b, shared; /* distinct shingles */
    double jaccard;                          /* exact, of the shingle sets */
    double jaccard_estimate;      /* the rule's similarity (wn_verdict): from
                                     the verification sketch, or exact with
                                     WN_VERIFY_EXACT */
    double containment_a;         /* |A n B| / |A|: A inside B (exact) */
    double containment_b;         /* |A n B| / |B|: B inside A (exact) */
    double containment_estimate;  /* of the smaller in the larger, as the
                                     rule uses it (wn_verdict.containment) */
    uint32_t bands, rows;         /* LSH banding of the options */
    uint32_t bands_shared;        /* bands on which the signatures agree */
    double candidate_probability; /* of a pair at this exact Jaccard */
    int exact;                    /* same normalized token stream */
    int verdict;                  /* enum wn_explain_verdict */
    char reason[160];             /* the verdict in one sentence */
    int profile;                  /* enum wn_profile of the rule */
    int figures; /* enum wn_figures_agreement (news and web rules) */
};

/* A stretch of one text: bytes [start, end) of the original text, lines
 * line..line_end (1-based, inclusive), tokens [tok, tok + tokens). */
struct wn_explain_span {
    uint64_t start, end;
    uint64_t line, line_end;
    uint64_t tok, tokens;
};

/* A maximal shared run: the same tokens at a in text A and b in text B. */
struct wn_explain_run {
    struct wn_explain_span a, b;
};

struct wn_explanation;

/*
 * Explain the pair a[0, alen), b[0, blen). opts may be NULL for defaults.
 * *out is set to a new explanation for wn_explanation_free(). Returns
 * WN_OK, WN_EINVAL (NULL text with a length, ngram, kgram, window or
 * num_perm 0, num_perm above 4096, threshold outside (0, 1)), WN_ETOOBIG
 * or WN_ENOMEM; *out untouched on error. The texts are not kept.
 * Thread-safe. O((n + m) log(n + m)) in the tokens; a fingerprint that
 * occurs more than 64 times in B seeds only its first 64 occurrences.
 */
WN_API int wn_explain(const char *a, size_t alen, const char *b, size_t blen,
                      const struct wn_explain_options *opts,
                      struct wn_explanation **out);

/* The scores and verdict. Valid until the explanation is freed. */
WN_API const struct wn_explain_scores *
wn_explanation_scores(const struct wn_explanation *x);

/* The shared runs in the order of text A; returns their number. */
WN_API size_t wn_explanation_runs(const struct wn_explanation *x,
                                  const struct wn_explain_run **runs);

/* The stretches of text A (side 0) or B (side 1) outside every shared run
 * that hold at least one token, in text order; returns their number. */
WN_API size_t wn_explanation_only(const struct wn_explanation *x, int side,
                                  const struct wn_explain_span **spans);

WN_API void wn_explanation_free(struct wn_explanation *x);

struct wn_report_options {
    /* The records' inputs, for the texts; NULL: the "inputs" stats.json
     * records. */
    const char *const *inputs;
    size_t ninputs;
    struct wn_reader_options reader;
    uint32_t sample_clusters; /* clusters shown side by side; default 8 */
    uint32_t sample_members;  /* members shown per cluster; default 4 */
    uint32_t top_clusters;    /* largest clusters listed; default 20 */
    uint32_t top_lines;       /* boilerplate lines listed; default 30 */
    uint32_t text_cap;        /* bytes of a text shown; default 16 KiB */
    /* wn_dedup_run_report: text bytes of the deterministic sample of
     * records whose lines are counted (every k-th record, k from the
     * inputs' sizes); default 8 MiB. 0: every record. */
    uint64_t line_sample_bytes;
};

WN_API void wn_report_options_init(struct wn_report_options *o);

/*
 * Write outdir/report.html from the outputs of a finished dedup run in
 * outdir (stats.json, removed.jsonl, clusters.jsonl) and the inputs, read
 * once. The page is one self-contained HTML file (inline style and SVG, no
 * script, no network): summary and accounting, parameters and the S-curve,
 * histograms of verified similarities and cluster sizes, the largest
 * clusters, the most frequent lines, and a bounded sample of clusters side
 * by side with their shared passages marked. Memory and size are bounded by
 * the options, not by the corpus. Written to a temporary file, renamed into
 * place and added to outdir's manifest of published files, under outdir's
 * lock (WN_EBUSY while a run holds it), so a later run replaces or removes
 * it like its own outputs. Returns WN_OK, WN_EOPEN (an output or input
 * missing), WN_EPARSE (a malformed output file), WN_EEXIST (a report.html
 * there that winnow did not publish), WN_EBUSY, WN_EIO, WN_ENOSPC or
 * WN_ENOMEM; error_path (cap bytes, may be NULL) names the file.
 */
WN_API int wn_report_write(const char *outdir,
                           const struct wn_report_options *opts,
                           char *error_path, size_t cap);

/*
 * wn_dedup_run(), and also outdir/report.html, published with the other
 * outputs (in the manifest, renamed into place with them, nothing written
 * when the run fails). The page is wn_report_write()'s, gathered during the
 * run instead of by reading the inputs again: the cluster sizes and the
 * largest clusters from the clustering, the similarities and the sampled
 * pairs from the fates, the sampled texts as pass 2 reads them or by their
 * offsets, and the frequent lines from a deterministic sample of the
 * accepted records of pass 1 (every k-th record, about
 * ropts->line_sample_bytes of text; all of a smaller corpus), which the
 * page states. ropts may be NULL for
 * defaults; its inputs and reader are not used (opts->reader is). Returns
 * as wn_dedup_run() does.
 */
WN_API int wn_dedup_run_report(const char *const *inputs, size_t n,
                               const char *outdir,
                               const struct wn_dedup_options *opts,
                               const struct wn_report_options *ropts,
                               struct wn_dedup_report *rep);

/* ------------------------------------------------------------------------ */
/* Persistent index                                                          */
/* ------------------------------------------------------------------------ */

/*
 * A persistent index of records already seen (LMDB: an embedded store in
 * a directory, nothing to start). It holds, per record, the id, the time,
 * the LSH keys and the verification sketch of winnow dedup, so that a new
 * text is checked against everything indexed without reading it again:
 * lookups by band key give candidates, and each candidate is decided by
 * the batch job's own verification. A record checked against the index
 * gets the decision `winnow dedup --keep first` gives that pair.
 *
 * Many readers and one writer at a time, across threads and processes.
 * Every write is one LMDB transaction, durable when the call returns
 * (unless no_sync): a process killed at any moment leaves an index that
 * opens and holds every write that returned. The map grows by itself.
 * docs/INDEX.md describes the layout and the guarantees.
 */
struct wn_index;

struct wn_index_options {
    /* The rule: method, token_mode, ngram, num_perm, threshold, bands,
     * rows, weights, sketch, containment, hamming and seed are used and
     * stored; the other fields are ignored. */
    struct wn_dedup_options dedup;
    /* Create the index when the directory holds none (the directory is
     * made if missing). Without it, opening a missing index is WN_EOPEN. */
    int create;
    /* Opening an existing index: when set, dedup's rule must equal the
     * stored one (WN_EMISMATCH otherwise, the message naming the first
     * parameter that differs); when 0, the stored rule is used. */
    int check_params;
    int read_only;
    /* Do not sync at commit: much faster, but a crash of the machine (not
     * of the process) may lose the last writes. Default 0. */
    int no_sync;
    /* The initial map size in bytes; default 1 GiB; doubled when full. */
    uint64_t map_size;
    /* New records' keys wait in a pending tier that is merged into the
     * main key tree every 65536 records (docs/INDEX.md). By default a
     * check that fills the tier merges it before returning; with
     * no_auto_merge the caller runs wn_index_merge (winnow serve does, in
     * a thread of its own, so that checks are not held up). */
    int no_auto_merge;
    /* A commit syncs the pages it wrote but not the page that makes it the
     * last commit (LMDB's MDB_NOMETASYNC); wn_index_sync, or the next
     * commit, syncs that. A process crash loses nothing committed; a
     * machine crash may lose the commits since the last sync, never the
     * index's consistency. For a group commit that syncs one group while
     * it checks the next (winnow serve). Ignored with no_sync. Default 0. */
    int sync_later;
    /* Write-ahead log (docs/INDEX.md): an add is appended to a log file in
     * the index directory and synced there (one small sequential write per
     * wn_index_apply, or per wn_index_sync with sync_later) instead of an
     * LMDB commit; it is seen at once by this handle's checks and queries,
     * by read-only handles opened later and, after a checkpoint
     * (wn_index_checkpoint), by everyone. One such writer per index: it
     * holds the log exclusively (other writers fail with WN_EBUSY until it
     * closes; read-only opens read the log). Any writer that opens an
     * index holding a log of a writer that stopped (or was killed) puts
     * the log into LMDB first. Ignored with no_sync or read_only. */
    int wal;
    /* Background checkpoints and merges: the thread that calls
     * wn_index_checkpoint or wn_index_merge writes LMDB's transactions at
     * the lowest scheduling priority (SCHED_IDLE: it runs when a core is
     * free), and at its own again for the steps that hold locks the
     * checks wait for. When 32768 logged records wait (four checkpoints'
     * worth: the overlay's cap), the checkpoint goes on at the normal
     * priority, raised by the checking thread if need be. Only where the
     * process may raise a thread's priority back (CAP_SYS_NICE, or an
     * RLIMIT_NICE of 20 or more), tried once at open; elsewhere ignored.
     * For a server whose checks must not queue behind checkpoints (winnow
     * serve). Linux only; default 0. */
    int background;
};

WN_API void wn_index_options_init(struct wn_index_options *o);

/* Make every transaction committed so far durable (an fdatasync of the
 * index file): WN_OK, or WN_EIO. Thread-safe; runs beside a write. */
WN_API int wn_index_sync(struct wn_index *ix);

/* Bring the index into memory: read and map every page of its file, and
 * load the in-memory table of its pending keys, so that the first checks
 * of a server run as fast as later ones. Costs the file's size in page
 * cache (shared, counted in RSS). WN_OK, WN_ENOMEM, WN_EIO. */
WN_API int wn_index_warm(struct wn_index *ix);

/*
 * Open (or with o->create, create) the index in directory path. On error
 * *out is untouched and msg (when not NULL) holds a sentence saying why.
 * Returns WN_OK, WN_EOPEN (no index there, or it cannot be opened),
 * WN_EFORMAT (not a winnow index or another format version), WN_EMISMATCH,
 * WN_EINVAL (a rule the index cannot serve, such as --verify exact),
 * WN_ENOMEM, WN_EIO. The handle is thread-safe: every function below may
 * be called from many threads at once on one handle.
 */
WN_API int wn_index_open(const char *path, const struct wn_index_options *o,
                         struct wn_index **out, char *msg, size_t msgcap);

/* Close the index; no call may be running on it. NULL does nothing. */
WN_API void wn_index_free(struct wn_index *ix);

/* The rule the index uses (its stored parameters, bands and rows set). */
WN_API void wn_index_rule(const struct wn_index *ix,
                          struct wn_dedup_options *o);

/*
 * The reason of a match is an enum wn_reason (exact, near, contained), or
 * this one of the index's own: the id is already indexed (a retry), answered
 * with the record it names and not added again.
 */
#define WN_REASON_ID 4

/* "exact", "near", "contained", "id", or NULL for NONE and others. */
WN_API const char *wn_index_reason_name(int reason);

/* One record to check or query. */
struct wn_index_doc {
    const char *id; /* required for check (an empty id is WN_EINVAL) */
    size_t id_len;
    const char *text;
    size_t text_len;
    int has_time;
    int64_t time; /* seconds since 1970 (a timestamp field); without it the
                     time of insertion is stored */
};

struct wn_index_match {
    uint64_t record; /* the record's number in the index */
    const char *id;  /* in the result's storage */
    size_t id_len;
    int64_t time;
    int reason; /* enum wn_reason, or WN_REASON_ID */
    double similarity;
    double containment;
};

/*
 * The answer for one record. Caller's storage: wn_index_result_init, pass
 * it to any number of calls, wn_index_result_release. matches[0] is the
 * decision (best similarity, ties to the earliest record); is_new is 1
 * when there is none; added is 1 when a check stored the record, with
 * record its number.
 */
struct wn_index_result {
    int is_new;
    int added;
    uint64_t record;
    size_t n;
    struct wn_index_match *matches;
    size_t cap; /* private */
    char *ids;  /* private */
    size_t ids_len, ids_cap;
};

WN_API void wn_index_result_init(struct wn_index_result *r);
WN_API void wn_index_result_release(struct wn_index_result *r);

/*
 * A record prepared for the index: its sketch, computed without touching
 * the store (the CPU work, done in the caller's thread), so that many can
 * then be applied in one transaction. wn_index_item_free(NULL) is a no-op.
 * Returns WN_OK, WN_EINVAL (an empty id when for_check), WN_ETOOBIG (an id
 * over 4 KiB), WN_ENOMEM. The doc's strings are copied.
 */
struct wn_index_item;
WN_API int wn_index_item_create(struct wn_index *ix,
                                const struct wn_index_doc *doc, int for_check,
                                struct wn_index_item **out);
WN_API void wn_index_item_free(struct wn_index_item *it);

/*
 * Apply n prepared items in order, in one write transaction when add is
 * set (check: each item is looked up, seeing the ones before it, and
 * added when new; its id already indexed gives WN_REASON_ID and no add),
 * else in one read transaction (query). max_matches (>= 1) bounds the
 * matches of each result. Returns WN_OK once the transaction has
 * committed; on error nothing of the batch is stored and res may hold
 * anything. WN_EIO (the store failed), WN_ENOSPC, WN_ENOMEM, WN_EINVAL
 * (add on a read-only index).
 */
WN_API int wn_index_apply(struct wn_index *ix, struct wn_index_item *const *it,
                          size_t n, int add, size_t max_matches,
                          struct wn_index_result *res);

/* Item, apply and free for one record: check (adds when new). */
WN_API int wn_index_check(struct wn_index *ix, const struct wn_index_doc *doc,
                          struct wn_index_result *res);
/* The same without adding; max_matches >= 1. */
WN_API int wn_index_query(struct wn_index *ix, const struct wn_index_doc *doc,
                          size_t max_matches, struct wn_index_result *res);

/*
 * Remove every record whose time is before `before` (seconds since 1970),
 * with its keys; *removed (may be NULL) counts them. Runs in transactions
 * of bounded size, so a large expiry does not hold the writer long.
 */
WN_API int wn_index_expire(struct wn_index *ix, int64_t before,
                           uint64_t *removed);

/*
 * Merge the pending tier into the main key tree when it holds 65536
 * records or more (force: whatever it holds), in transactions of a 16th
 * of the key space each, so that checks in other threads go on between
 * them. Thread-safe. WN_OK, WN_EINVAL (read-only), WN_EIO, WN_ENOSPC.
 */
WN_API int wn_index_merge(struct wn_index *ix, int force);

/*
 * With the write-ahead log: put the logged adds into LMDB (a synced
 * transaction) and remove their log files, when 8192 or more wait (force:
 * whatever waits). Checks go on in other threads meanwhile. wn_index_apply
 * does it by itself unless no_auto_merge; expire, a forced merge and
 * wn_index_free do it first. WN_OK (also without a log), WN_EIO,
 * WN_ENOSPC, WN_ENOMEM.
 */
WN_API int wn_index_checkpoint(struct wn_index *ix, int force);

/*
 * With the write-ahead log: the records logged by this handle (or replayed
 * by a read-only one) that are not in LMDB yet, the ones a checkpoint is
 * writing included; 0 without a log. Cheap (an atomic load, no lock), for a
 * caller that schedules checkpoints. Thread-safe.
 */
WN_API size_t wn_index_logged(struct wn_index *ix);

struct wn_index_stats {
    uint64_t records;    /* records indexed */
    uint64_t key_values; /* band-key entries of the main tree */
    uint64_t pending;    /* records whose keys wait in the pending tier */
    uint64_t next_record;
    uint64_t map_size;      /* current map size */
    uint64_t used_bytes;    /* pages in use times the page size */
    uint64_t file_bytes;    /* size of the data file */
    int64_t oldest, newest; /* record times; 0 when empty */
    uint32_t bands, rows;
    /* The write-ahead log: records logged and not yet checkpointed (in
     * records too), the bytes of its files, the most there were at once. */
    uint64_t log_records, log_bytes, log_peak_bytes;
};

WN_API int wn_index_stats(struct wn_index *ix, struct wn_index_stats *st);

/*
 * Records of inputs through the index, in input order: each accepted record
 * is checked (add: added when new) or queried, in transactions of
 * opts->batch records (a record sees every record before it, in the same
 * transaction or an earlier one). With outdir, writes kept.jsonl (the
 * records added, as the bytes they were read as), removed.jsonl ({"id",
 * "duplicate_of", "similarity", "containment", "reason"}), rejected.jsonl
 * and stats.json as wn_dedup_run does (atomically, stats.json last, the
 * same accounting: read = kept + removed + rejected). on_result, when not
 * NULL, is called for every accepted record with its result, on the
 * calling thread, after its transaction committed. A record whose id is
 * longer than 4 KiB is rejected (WN_ETOOBIG).
 */
struct wn_index_run_options {
    struct wn_reader_options reader;
    /* Field holding the record's time for expire: seconds since 1970 (a
     * number, or a string of digits) or an ISO 8601 date ("2024-05-01",
     * "2024-05-01T12:00:00Z"). NULL, or the field missing or unreadable:
     * the time of insertion. */
    const char *time_field;
    int add;            /* check and add; 0: query only */
    size_t batch;       /* records per transaction; default 1024 */
    size_t max_matches; /* per result; default 1 */
    int no_fsync;
    volatile int *cancel;
    void (*on_reject)(void *ud, const struct wn_record *rec);
    void (*on_result)(void *ud, const struct wn_record *rec,
                      const struct wn_index_result *res);
    void *ud;
    struct wn_progress_sink progress; /* stages and records; fn NULL: none */
};

WN_API void wn_index_run_options_init(struct wn_index_run_options *o);

struct wn_index_run_report {
    uint64_t read, kept, removed, rejected;
    uint64_t removed_exact, removed_near, removed_contained, removed_id;
    /* Of kept: records an add found indexed as themselves (the same id and
     * text, from an earlier run over the same input), not added again. */
    uint64_t kept_indexed;
    uint64_t time_missing; /* time_field given but not readable */
    uint64_t blank_lines, bytes;
    uint64_t transactions;
    double seconds;
    uint64_t peak_rss_bytes;
    char error_path[512];
};

WN_API int wn_index_run(struct wn_index *ix, const char *const *inputs,
                        size_t n, const char *outdir,
                        const struct wn_index_run_options *opts,
                        struct wn_index_run_report *rep);

/* ------------------------------------------------------------------------ */
/* Option ranges                                                             */
/* ------------------------------------------------------------------------ */

/*
 * The values the library accepts for a numeric option, named as the
 * command-line tool names it ("threshold", "num-perm", "max-record-bytes")
 * for a command ("dedup", "passages", "lines", "repeats", "similarity",
 * "params"), so that every front end refuses a bad value with the same
 * words: "--threshold must be in (0, 1)". Static data; thread-safe.
 */
struct wn_option_range {
    const char *cmd;  /* the command it applies to, or NULL: every command */
    const char *name; /* the option; a '*' stands for any text */
    double lo, hi;
    int lo_open, hi_open; /* the bound itself is excluded */
    const char *text;     /* the range as a message says it: "in (0, 1)" */
};

/* The range of option name of command cmd, or NULL when the option has
 * none (any value of its type is accepted) or an argument is NULL. */
WN_API const struct wn_option_range *wn_option_range(const char *cmd,
                                                     const char *name);

/* 1 when v is inside r (or r is NULL), else 0. */
WN_API int wn_option_in_range(const struct wn_option_range *r, double v);

#ifdef __cplusplus
}
#endif
#endif /* WINNOW_H */
