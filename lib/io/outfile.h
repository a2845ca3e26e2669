/*
 * outfile.h - output files that appear complete or not at all.
 *
 * An outfile is written under a temporary name in a private directory inside
 * the output directory (same filesystem), flushed and fsync'ed, and renamed
 * to its final name only by wn__outfile_commit(). A run that dies before
 * that leaves the previous outputs untouched; the temporary directory is
 * removed by wn__tmpdir_remove() on every orderly exit.
 */
#ifndef WN_OUTFILE_H
#define WN_OUTFILE_H

#include "common/common.h"

#include <stdio.h>

struct wn_outfile {
    FILE *f;
    char *tmp_path;
    char *final_path;
    int err; /* first write error, as a status */
};

/* mkdir -p outdir and take an exclusive flock on it, held through *lock_fd
 * for the life of the run (close it after removing the temporary
 * directory): a second run into the same directory fails with WN_EBUSY.
 * Then remove temporary directories left there by runs that died, and make
 * a private temporary directory inside it. *tmpdir is allocated. */
WN_INTERNAL int wn__tmpdir_create(const char *outdir, char **tmpdir,
                                  int *lock_fd);
/* Remove the temporary directory and everything in it. */
WN_INTERNAL void wn__tmpdir_remove(const char *tmpdir);

WN_INTERNAL int wn__outfile_open(struct wn_outfile *o, const char *tmpdir,
                                 const char *outdir, const char *name);
WN_INTERNAL int wn__outfile_write(struct wn_outfile *o, const void *p,
                                  size_t n);
/* Flush, fsync (unless sync is false) and close; the file keeps its
 * temporary name. */
WN_INTERNAL int wn__outfile_finish(struct wn_outfile *o, bool sync);
/* Rename the finished file to its final name. */
WN_INTERNAL int wn__outfile_commit(struct wn_outfile *o);
/*
 * Publish finished outfiles: the last one is the marker (stats.json) that
 * says the set is complete. Its previous version is removed first, the
 * others are renamed into place, the marker last. Five renames cannot be
 * one atomic step, but whatever point a failure or a crash stops at, DIR
 * never holds a marker beside data files of another run. Outputs of other
 * winnow commands left in DIR by earlier runs are removed before the
 * renames.
 */
WN_INTERNAL int wn__outfiles_publish(struct wn_outfile *const *outs, size_t n);

/* Close if open, unlink the temporary file, free the names. */
WN_INTERNAL void wn__outfile_release(struct wn_outfile *o);

/* Read exactly n bytes at offset off of a spill file (pread, retried on
 * EINTR): WN_OK, or WN_EIO on an error or a short file. */
WN_INTERNAL int wn__pread_full(int fd, void *p, size_t n, uint64_t off);

/* A status for an errno value from a failed write. */
WN_INTERNAL int wn__status_from_errno(int e);

#endif /* WN_OUTFILE_H */
