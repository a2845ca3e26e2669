/*
 * outfile.h - the output directory of a run, and output files that appear
 * complete or not at all.
 *
 * wn__outdir_open() creates the output directory (fsync'ing the parent of
 * every directory it makes), locks it for the run, removes what runs that
 * died left there and makes a private temporary directory inside it. An
 * outfile is written under a temporary name in that directory (same file
 * system), flushed and fsync'ed, and renamed to its final name only by
 * wn__outfiles_publish(), which then fsyncs the output directory. A run
 * that dies before that leaves the previous outputs untouched; the
 * temporary directory is removed by wn__outdir_close() on every orderly
 * exit.
 *
 * What a run may touch. A publish writes a manifest, MANIFEST_NAME in the
 * output directory, naming each file it published with its identity
 * (device, inode, size, modification time). A later run replaces or
 * removes a file at an output name only when the manifest proves an
 * earlier publish made it (a regular file with the same identity), and
 * never an input of its own. Any other file at a name the run is to write
 * (a file of the user's, a directory, a symbolic link, an input) fails the
 * run before anything is written, with the path in the note; outputs of
 * other commands that the manifest does not prove are left alone.
 *
 * Errors. Each failing file operation records the path it was about and
 * errno in the run's note (the first failure wins), so that the caller can
 * name the file and the reason.
 */
#ifndef WN_OUTFILE_H
#define WN_OUTFILE_H

#include "common/common.h"

#include <stdio.h>

/* Where and why the first failing file operation of a run failed. */
struct wn_io_note {
    bool set;
    int err; /* errno, or 0 when the status says it all */
    char path[512];
};

/* Record path and err in *n unless a failure is there already; return
 * status, so that a caller can write return wn__io_fail(...). n may be
 * NULL. */
WN_INTERNAL int wn__io_fail(struct wn_io_note *n, const char *path, int err,
                            int status);

/* Copy the note into a report's error fields; when nothing was noted and
 * status is a write error (a full disk on a spill file), name dir. */
WN_INTERNAL void wn__io_report(const struct wn_io_note *n, int status,
                               const char *dir, char *path, size_t size,
                               int *err);

/* The name of the manifest of published files in an output directory. */
#define WN_MANIFEST_NAME ".winnow-outputs"

struct wn_outdir {
    char *path;   /* the output directory, as given */
    char *tmpdir; /* the run's private temporary directory inside it */
    int fd;       /* the directory, flock'ed for the run */
    bool open;
    bool sync; /* fsync files and directories (not --no-fsync) */
    /* Borrowed: the inputs of the run, which it never replaces or
     * removes. */
    const char *const *inputs;
    size_t ninputs;
    struct wn_io_note note;
};

/*
 * mkdir -p path (fsync'ing the parent of each directory made, with sync),
 * refuse an output directory that is, or is inside, a directory among the
 * inputs (WN_EINPUT), take an exclusive flock on it for the life of the run
 * (a second run into the same directory fails with WN_EBUSY), remove the
 * temporary directories left by runs that died, and make a private
 * temporary directory inside it. inputs are kept until wn__outdir_close().
 * On failure d->note says where and why; d must still be closed.
 */
WN_INTERNAL int wn__outdir_open(struct wn_outdir *d, const char *path,
                                const char *const *inputs, size_t ninputs,
                                bool sync);
/* Remove the temporary directory, drop the lock, free. A zeroed d is a
 * no-op; the note stays readable. */
WN_INTERNAL void wn__outdir_close(struct wn_outdir *d);

struct wn_outfile {
    FILE *f;
    char *tmp_path;
    char *final_path;
    const char *name;        /* the final name inside the output directory */
    struct wn_io_note *note; /* the run's (borrowed) */
    int err;                 /* first write error, as a status */
};

/*
 * Open the temporary file of output name (a plain file name) in d. The
 * name is checked first: a file there that no earlier publish made, or an
 * input of the run, fails with WN_EEXIST or WN_EINPUT before anything is
 * written. name is kept.
 */
WN_INTERNAL int wn__outfile_open(struct wn_outfile *o, struct wn_outdir *d,
                                 const char *name);
WN_INTERNAL int wn__outfile_write(struct wn_outfile *o, const void *p,
                                  size_t n);
/* Records a failed write of o's (errno e) as o's status and in the run's
 * note, under o's final path; returns the status. For a caller that
 * writes o's descriptor itself (pass 2's copy). */
WN_INTERNAL int wn__outfile_fail(struct wn_outfile *o, int e);
/* Flush, fsync (unless sync is false) and close; the file keeps its
 * temporary name. */
WN_INTERNAL int wn__outfile_finish(struct wn_outfile *o, bool sync);
/*
 * Publish finished outfiles: the last one is the marker (stats.json) that
 * says the set is complete. Every name is checked again as
 * wn__outfile_open() does, touching nothing on failure. Then the manifest
 * is written, the previous marker removed, the outputs of other commands
 * that earlier publishes made removed, the files renamed into place (the
 * marker last), the manifest rewritten and the directory fsync'ed (with
 * d->sync). Five renames cannot be one atomic step, but whatever point a
 * failure or a crash stops at, the directory never holds a marker beside
 * data files of another run, and the manifest proves every file of either
 * run.
 */
WN_INTERNAL int wn__outfiles_publish(struct wn_outdir *d,
                                     struct wn_outfile *const *outs, size_t n);

/*
 * Publish one finished outfile beside the set already published in d (as
 * `winnow report DIR` adds report.html to a dedup run's outputs): its name
 * checked as wn__outfile_open() does, the manifest made to prove the old
 * file and the new one, the rename, then the manifest with the new file in
 * place of the old; no other file is touched.
 */
WN_INTERNAL int wn__outfile_publish_one(struct wn_outdir *d,
                                        struct wn_outfile *o);

/* Close if open, unlink the temporary file, free the names. */
WN_INTERNAL void wn__outfile_release(struct wn_outfile *o);

/* Read exactly n bytes at offset off of a spill file (pread, retried on
 * EINTR): WN_OK, or WN_EIO on an error or a short file. */
WN_INTERNAL int wn__pread_full(int fd, void *p, size_t n, uint64_t off);
/* Write exactly n bytes at offset off (pwrite, retried on EINTR and short
 * writes): WN_OK, or the status of the error (wn__status_from_errno). */
WN_INTERNAL int wn__pwrite_full(int fd, const void *p, size_t n, uint64_t off);

/* A status for an errno value from a failed write. */
WN_INTERNAL int wn__status_from_errno(int e);

#endif /* WN_OUTFILE_H */
