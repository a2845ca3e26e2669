/*
 * spill.h - spill files: scratch files of a run that nobody else can open,
 * and that vanish however the run ends.
 */
#ifndef WN_SPILL_H
#define WN_SPILL_H

#include "io/outfile.h"

#include <stdio.h>

/*
 * A new, empty spill file in dir, open for reading and writing ("w+b"),
 * with a stdio buffer of buffer bytes (0: the default). It has no name:
 * made with O_TMPFILE, or where the file system cannot, created with
 * O_EXCL | O_NOFOLLOW in a private directory made by mkdtemp inside dir
 * and unlinked, the directory removed, before this returns. Nothing that
 * exists in dir is opened, truncated, followed or removed, so runs sharing
 * a dir never meet. name only says what the file is in a message. NULL on
 * failure, noted in *note (dir/name and errno; note may be NULL).
 */
WN_INTERNAL FILE *wn__spill_create(const char *dir, const char *name,
                                   size_t buffer, struct wn_io_note *note);

/* The fallback of wn__spill_create, by itself (for its tests): a file
 * descriptor, or -1 with errno set. */
WN_INTERNAL int wn__spill_open_named(const char *dir, const char *name);

#endif /* WN_SPILL_H */
