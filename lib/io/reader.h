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
 * Whether the input the last record came from is a JSONL stream stored
 * uncompressed, so that record offsets are file offsets.
 */
WN_INTERNAL bool wn__reader_plain(const struct wn_reader *r);

#endif /* WN_IO_READER_H */
