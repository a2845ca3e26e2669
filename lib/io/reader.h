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

#endif /* WN_IO_READER_H */
