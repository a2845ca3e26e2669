/*
 * stream.h - decompressed byte streams over a file or standard input.
 *
 * The format is chosen by the first bytes, never by the file name: gzip
 * (1f 8b), zstd (28 b5 2f fd, or a skippable frame) or plain. Concatenated
 * gzip members and multiple zstd frames read as one stream. A stream that
 * ends inside a member or frame, or whose data is corrupt, reports WN_ETRUNC
 * once per damaged region and then resumes at the next intact member or
 * frame (stream.c says how it is found); every call makes progress or ends,
 * so damaged input can neither hang nor crash the reader. Memory is
 * O(block) whatever the file size, plus the window of a zstd frame (at most
 * 2 GiB, see stream.c).
 */
#ifndef WN_IO_STREAM_H
#define WN_IO_STREAM_H

#include "common/common.h"

/* Default size of one read(2) and of one decompressed chunk. */
#define WN_STREAM_BLOCK ((size_t)1 << 20)

enum wn_stream_format { WN_STREAM_PLAIN = 0, WN_STREAM_GZIP, WN_STREAM_ZSTD };

struct wn_stream;

/*
 * Open path ("-" is standard input, which is not closed by
 * wn__stream_close). block (> 0) bounds every read(2) and every chunk that
 * wn__stream_read returns; tests set it as low as 1 to show that callers do
 * not depend on chunk boundaries. WN_OK, WN_EOPEN (errno says why) or
 * WN_ENOMEM. Nothing is read yet.
 */
WN_INTERNAL int wn__stream_open(const char *path, size_t block,
                                struct wn_stream **out);

/*
 * Read up to cap decompressed bytes (at most block) into buf. WN_OK with
 * *got > 0, or *got == 0 at the clean end of the stream; WN_ETRUNC for a
 * truncated or corrupt compressed region, after which reading may go on
 * (the bytes that follow come from the next intact member or frame);
 * WN_EIO for a failed read(2) (errno says why), WN_EINTR when a signal
 * interrupted a read(2) after the cancel flag was set, WN_ENOMEM. After an
 * error other than WN_ETRUNC the stream must only be closed.
 */
WN_INTERNAL int wn__stream_read(struct wn_stream *s, void *buf, size_t cap,
                                size_t *got);

/*
 * A read(2) interrupted by a signal is retried, unless *cancel (kept, may
 * be NULL) is non-zero by then: the read fails with WN_EINTR instead, so
 * that SIGINT stops a reader blocked on a silent pipe.
 */
WN_INTERNAL void wn__stream_set_cancel(struct wn_stream *s,
                                       volatile int *cancel);

/*
 * Read s as plain bytes from file offset off on (lib/io/reader.c: a byte
 * range of an uncompressed JSONL file). Before the first read only; the
 * caller knows the file is not compressed. WN_OK, or WN_EIO (errno says
 * why) when the file cannot seek (standard input, a pipe).
 */
WN_INTERNAL int wn__stream_seek_plain(struct wn_stream *s, uint64_t off);

/* enum wn_stream_format; WN_STREAM_PLAIN until the first read. */
WN_INTERNAL int wn__stream_format(const struct wn_stream *s);

WN_INTERNAL void wn__stream_close(struct wn_stream *s);

#endif /* WN_IO_STREAM_H */
