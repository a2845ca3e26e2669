/*
 * reader.h - internal hooks of the record reader (lib/io/reader.c) that the
 * public header does not show.
 */
#ifndef WN_IO_READER_H
#define WN_IO_READER_H

#include "common/common.h"

/*
 * Test hook: the size of every read(2) and decompressed chunk for inputs
 * opened from now on (default WN_STREAM_BLOCK). Tests call it with sizes
 * down to 1 before the first wn_reader_next to show that records do not
 * depend on where chunks end. n == 0 is ignored.
 */
WN_INTERNAL void wn__reader_set_block_size(struct wn_reader *r, size_t n);

/*
 * Make reads that a signal interrupts fail with WN_EINTR once *cancel
 * (kept for the reader's life, may be NULL) is non-zero, instead of being
 * retried; wn_reader_next then returns WN_EINTR. Without it a reader
 * blocked on a pipe whose writer is alive but silent would wait for the
 * writer whatever signal came. Call before the first wn_reader_next.
 */
WN_INTERNAL void wn__reader_set_cancel(struct wn_reader *r,
                                       volatile int *cancel);

/*
 * Report progress to sink (copied; NULL or fn NULL: none) as records are
 * read: stage, records and bytes read, total_bytes (0: unknown, and 0 once
 * a compressed input is met), about every MiB of input or 4096 records.
 */
/* The inputs' total size when every one is a regular file, else 0. */
WN_INTERNAL uint64_t wn__inputs_bytes(const char *const *paths, size_t n);
WN_INTERNAL void wn__reader_set_progress(struct wn_reader *r,
                                         const struct wn_progress_sink *sink,
                                         const char *stage,
                                         uint64_t total_bytes);

/*
 * Whether the input the last record came from is a JSONL stream stored
 * uncompressed, so that record offsets are file offsets.
 */
WN_INTERNAL bool wn__reader_plain(const struct wn_reader *r);

/*
 * Byte ranges of one uncompressed JSONL file (lib/dist: several MPI ranks
 * read one large file). The file of size S is cut at offsets b_0 = 0 <=
 * b_1 <= ... <= b_P = S; range k holds the lines that start at a position
 * in [b_k, b_k+1). So a reader of range k with b_k > 0 starts after the
 * first line feed at or past b_k - 1, and ends with the line that crosses
 * b_k+1; every line of the file is in exactly one range.
 *
 * wn__reader_splittable: whether path can be read by ranges (a regular
 * file, not a .txt file, not compressed) and its size. False for anything
 * else, also for a path that cannot be opened (read it whole instead: that
 * reports the error).
 */
WN_INTERNAL bool wn__reader_splittable(const char *path, uint64_t *size);

/*
 * The lines that start in [begin, end) of a file (pread, no parsing: line
 * feeds), so that a range's line numbers follow from those of the ranges
 * before it. WN_OK, WN_EOPEN or WN_EIO (errno says why).
 */
WN_INTERNAL int wn__reader_count_lines(const char *path, uint64_t begin,
                                       uint64_t end, uint64_t *count);

/*
 * Read only range [begin, end) of the reader's single input, a file that
 * wn__reader_splittable accepts. lines_before: the lines that start before
 * begin (wn__reader_count_lines), so that line numbers, and ids made from
 * them, are those of a reader of the whole file; record offsets are file
 * offsets. wn_reader_bytes then gives the bytes of the range's lines (from
 * its first line's start to the next range's), which add up to the file
 * size over all ranges. Call before the first wn_reader_next.
 */
WN_INTERNAL void wn__reader_set_range(struct wn_reader *r, uint64_t begin,
                                      uint64_t end, uint64_t lines_before);

/*
 * Fingerprints of inputs read twice. A two-pass run must see the same
 * records in pass 2 as in pass 1; the reader makes that checkable for every
 * kind of input at once. While an input is read, it keeps a running 64-bit
 * hash of every byte it delivers (decompressed bytes of a JSONL stream;
 * for a directory each member's relative path and what it held, and
 * entries that could not be read), plus the byte and record counts.
 *
 * Pass 1 calls wn__reader_record(r1, &p) before its first wn_reader_next:
 * each input read to its end leaves its fingerprint in p. Pass 2 calls
 * wn__reader_verify(r2, &p): an input of r2 under the same path as in p is
 * compared, and a difference makes wn_reader_next fail with WN_ECHANGED
 * (wn_reader_error_path names the input) as soon as more bytes or records
 * arrive than pass 1 saw, else at the end of that input. An input read
 * under another path (the run's private copy of standard input or a pipe)
 * is not compared. Since the check may come only at the end of an input,
 * pass 2 must treat its outputs as tentative until wn_reader_next has
 * returned 0. The hash is for detecting accidents (a file rewritten, a
 * directory changed), not an adversary.
 */
struct wn_input_print {
    uint64_t hash, bytes, records;
    bool done; /* the input was read to its end */
};

struct wn_prints {
    size_t n;
    char **paths;
    struct wn_input_print *v;
};

/* Fill *p (zeroed by the caller, kept by r until r is freed) as r reads.
 * WN_OK or WN_ENOMEM. Call before the first wn_reader_next. */
WN_INTERNAL int wn__reader_record(struct wn_reader *r, struct wn_prints *p);

/* Compare the inputs of r with *p (kept until r is freed) as r reads.
 * Call before the first wn_reader_next. */
WN_INTERNAL void wn__reader_verify(struct wn_reader *r,
                                   const struct wn_prints *p);

/* Free what wn__reader_record allocated in *p; zeroes it. */
WN_INTERNAL void wn__prints_release(struct wn_prints *p);

#endif /* WN_IO_READER_H */
