/*
 * runframe.h - the frame of every command run over files (wn_dedup_run,
 * wn_passages_run, wn_lines_run, wn_repeats_run): checked inputs, a
 * private locked temporary directory inside the output directory, spill
 * files, copies of the inputs that cannot be read twice, rejected.jsonl
 * lines, outputs published all at once (io/outfile.h, stats.json last),
 * timing and peak memory, and the run's one thread pool.
 *
 * Invariant of a two-pass run: pass 2 sees the same sequence of records as
 * pass 1, with the same statuses. For files that holds because they are
 * read twice the same way; standard input, pipes and devices are copied
 * record by record (rejected ones as "-", which is rejected again).
 *
 * A frame can also be started for spill files only (wn__frame_start_spill,
 * used by the in-memory dedup job): no inputs, no outputs, spill files in
 * a given or the system's temporary directory.
 */
#ifndef WN_RUNFRAME_H
#define WN_RUNFRAME_H

#include "common/pool.h"
#include "io/outfile.h"
#include "io/reader.h"

#define WN_FRAME_MAX_OUT 8

struct wn_frame {
    struct wn_outdir od;   /* the output directory: lock, temporary
                              directory, what failed (od.note) */
    const char *spill_dir; /* where spill files go */
    struct wn_outfile out[WN_FRAME_MAX_OUT];
    size_t nout;
    const char *const *inputs;
    size_t ninputs;
    struct wn_reader_options ro;
    FILE **spool; /* by input: copies of those that cannot be read
                     twice, or NULL */
    char **spool_path;
    volatile int *cancel;
    unsigned threads; /* of the pool, made on first use */
    struct wn_pool *pool;
    struct wn_prints
        prints; /* pass 1's view of the inputs, checked in pass 2 */
    char error_path[512];
    double t0;
    struct wn_progress_sink progress; /* wn__frame_set_progress */
    uint64_t total_bytes;             /* of the inputs, 0: unknown */
};

/*
 * Check the inputs (WN_EOPEN and error_path on failure, before anything is
 * written), open outdir (wn__outdir_open: created, locked, refused when it
 * is inside an input directory, a private temporary directory made; with
 * sync, directories are fsync'ed), open the outputs names[0, nout) (the
 * last one is the marker, stats.json; a name held by a file no earlier
 * publish made fails here), with spool the copies of inputs that cannot
 * be read twice, and return a pass-1 reader in *r. Spill files go to
 * tmp_dir when not NULL, else the temporary directory. threads is the size
 * of the run's pool (0: all cores). The strings are kept. Failures past
 * the inputs are noted in od.note. wn__frame_release() is due whatever
 * this returns.
 */
WN_INTERNAL int wn__frame_start(struct wn_frame *f, const char *const *inputs,
                                size_t n, const struct wn_reader_options *ro,
                                const char *outdir, const char *tmp_dir,
                                const char *const *names, size_t nout,
                                bool spool, bool sync, volatile int *cancel,
                                unsigned threads, struct wn_reader **r);

/* A frame for spill files only, made in tmp_dir (NULL: $TMPDIR, else
 * /tmp) by wn__spill_create, so nothing there is named or left behind.
 * wn__frame_release() is due in any case. */
WN_INTERNAL int wn__frame_start_spill(struct wn_frame *f, const char *tmp_dir,
                                      volatile int *cancel, unsigned threads);

/* The run's pool, created on the first call. WN_OK or WN_ENOMEM. */
WN_INTERNAL int wn__frame_pool(struct wn_frame *f, struct wn_pool **out);

/* Pass 1: copy a record of an input that cannot be read twice. */
WN_INTERNAL int wn__frame_spool(struct wn_frame *f,
                                const struct wn_record *rec);
/* Close the copies (end of pass 1). */
WN_INTERNAL int wn__frame_spool_close(struct wn_frame *f);
/* The reader of the second pass (copies in place of the inputs that have
 * one), with the pass-1 reader options and raw_only as given. */
WN_INTERNAL int wn__frame_reopen(struct wn_frame *f, bool raw_only,
                                 struct wn_reader **r);

/*
 * Report progress to sink (copied; NULL or fn NULL: none): the pass-1
 * reader r (may be NULL) as stage "read", the readers of wn__frame_reopen
 * as "write", with the inputs' size when every one is a regular file.
 */
WN_INTERNAL void wn__frame_set_progress(struct wn_frame *f,
                                        const struct wn_progress_sink *sink,
                                        struct wn_reader *r);
/* A stage's progress: records of total_records (0: unknown) done, counted
 * in unit ("records", "pairs"). */
WN_INTERNAL void wn__frame_stage(const struct wn_frame *f, const char *stage,
                                 const char *unit, uint64_t records,
                                 uint64_t total_records);

/* Pass 2 met a record unlike pass 1's (rec, or NULL at the end): name its
 * file in error_path and return WN_ECHANGED. */
WN_INTERNAL int wn__frame_changed(struct wn_frame *f,
                                  const struct wn_record *rec);

/*
 * The one place spill files are made: wn__spill_create (io/spill.h) in the
 * spill directory, "w+b" with a buffer of buffer bytes (0: 64 KiB), with
 * no name anyone can reach, so the space is freed however the run ends.
 * NULL on failure (errno set, the path and errno noted in od.note). Safe
 * to call from several threads at once.
 */
WN_INTERNAL FILE *wn__frame_spill(struct wn_frame *f, const char *name,
                                  size_t buffer);

/*
 * Append the rejected.jsonl line of rec to o: source, line, reason (with
 * the byte of a JSON error), bytes and, when printable, the raw bytes up to
 * 64 KiB (cut on a character boundary, "raw_truncated" then).
 */
WN_INTERNAL int wn__frame_reject(struct wn_outfile *o,
                                 const struct wn_record *rec);

/* Note a failing reader's path in error_path. */
WN_INTERNAL void wn__frame_reader_error(struct wn_frame *f,
                                        const struct wn_reader *r);
/* Note path in error_path unless one is noted already. */
WN_INTERNAL void wn__frame_error_path(struct wn_frame *f, const char *path);
/* A report's error_path and error_errno after a run that returned status:
 * the path noted in error_path (an input), else what od.note holds (the
 * file and errno of the first failing output-side operation), else for a
 * write error the spill directory given (--tmp-dir) or the output
 * directory. Nothing for status WN_OK. */
WN_INTERNAL void wn__frame_error(const struct wn_frame *f, int status,
                                 char *path, size_t size, int *err);
WN_INTERNAL bool wn__frame_cancelled(const struct wn_frame *f);

/* Finish every output (fsync unless sync is false), then rename them,
 * the marker last; WN_EINTR instead when cancelled. */
WN_INTERNAL int wn__frame_commit(struct wn_frame *f, bool sync);
/* Close and remove everything the frame made that was not published, stop
 * the pool. */
WN_INTERNAL void wn__frame_release(struct wn_frame *f);

/* stats.json helpers: ',"key":' and a JSON string; and the inputs member,
 * '  "inputs": ["a", "b"]' (no comma or line feed after it). */
WN_INTERNAL int wn__json_kv(struct wn_buf *b, const char *key, const char *s,
                            size_t len);
WN_INTERNAL int wn__frame_stats_inputs(const struct wn_frame *f,
                                       struct wn_buf *b);

WN_INTERNAL double wn__now(void);
WN_INTERNAL uint64_t wn__peak_rss(void);

#endif /* WN_RUNFRAME_H */
