/*
 * wal.h - the index's write-ahead log (docs/INDEX.md, "The write-ahead
 * log"): files beside LMDB's in the index directory, wal-<seq>.log, each
 * a sequence of frames
 *
 *   u32 LE payload length | u64 LE check (wn__hash128 of the payload,
 *   seeded with its length) | payload
 *
 * appended by one writer and made durable by an fdatasync of the file: one
 * small sequential write per group of adds, where an LMDB commit writes
 * and syncs every page it dirtied. A frame whose length runs past the end
 * of its file or whose check fails ends the file's frames (a torn last
 * write: it was never acknowledged). What a payload holds is index.c's
 * business.
 *
 * The writer starts a new file at each checkpoint (made ahead, its
 * directory entry synced, by wn__wal_prepare; switched to by
 * wn__wal_rotate, which syncs the old one first); a file is removed
 * once its frames are in a synced LMDB transaction (wn__wal_remove_upto),
 * or renamed wal.spare to be the next file: files are written full of
 * zeros when made, so that an append overwrites allocated blocks and its
 * fdatasync need not commit the file system's journal. A frame's check is
 * seeded with its file's sequence number, so that the frames a recycled
 * file held before end the new ones like a torn write.
 * One process appends (an exclusive flock of wal.lock, held while the log
 * is open for writing); writers that do not log hold it shared, so that a
 * logging writer and a plain one never run at once; readers take no lock.
 */
#ifndef WN_WAL_H
#define WN_WAL_H

#include "common/common.h"

#define WN__WAL_HEAD 12u /* bytes of a frame's header */

enum {
    WN__WAL_READ = 0,  /* read the files; no lock */
    WN__WAL_PLAIN = 1, /* a writer that does not log: replay, lock shared */
    WN__WAL_WRITE = 2  /* the logging writer: lock exclusive, append */
};

struct wn__wal;

/* Open the log of index directory dir in mode. WN__WAL_PLAIN and
 * WN__WAL_WRITE fail with WN_EBUSY (msg says why) when another process
 * holds the log for writing (WRITE: or a plain writer runs); *exclusive
 * says whether this handle holds the lock exclusively (so that it may
 * replay and remove the files). WN_OK, WN_EBUSY, WN_EOPEN, WN_ENOMEM. */
WN_INTERNAL int wn__wal_open(const char *dir, int mode, struct wn__wal **out,
                             int *exclusive, char *msg, size_t cap);
WN_INTERNAL void wn__wal_close(struct wn__wal *w);

/* Call fn on each intact frame of every file, oldest file first, in
 * order; stops at a file's first torn or corrupt frame (counting its bytes
 * and the rest of the file in *dropped, when not NULL). fn returning
 * non-zero stops the replay with that status. */
typedef int (*wn__wal_frame_fn)(void *arg, const unsigned char *payload,
                                size_t len);
WN_INTERNAL int wn__wal_replay(struct wn__wal *w, wn__wal_frame_fn fn,
                               void *arg, uint64_t *dropped);

/* Append a frame holding payload to b (the caller's group of frames), for
 * the current file (its check is seeded with the file's number, so that
 * a recycled file's old frames do not pass for new ones). */
WN_INTERNAL int wn__wal_frame(struct wn__wal *w, struct wn_buf *b,
                              const void *payload, size_t len);

/* Start a file of its own for the next appends (WN__WAL_WRITE). Not
 * thread-safe with wn__wal_append or another rotate; safe beside
 * wn__wal_sync. */
WN_INTERNAL int wn__wal_start(struct wn__wal *w);

/* Write frames (whole, built by wn__wal_frame) at the end of the current
 * file. On failure the file is cut back to where it was (or the log is
 * marked broken, and every later append fails). WN_OK, WN_EIO, WN_ENOSPC. */
WN_INTERNAL int wn__wal_append(struct wn__wal *w, const void *frames,
                               size_t len);

/* Make everything appended before the call durable: fdatasync of the
 * current file. Thread-safe beside append and rotate. WN_OK, WN_EIO. */
WN_INTERNAL int wn__wal_sync(struct wn__wal *w);

/* Make the next file ahead of wn__wal_rotate (the spare renamed, or a new
 * one written full of zeros, and the directory synced), so that the
 * rotation only syncs the current file and switches. Safe beside
 * wn__wal_append and wn__wal_sync; not beside another prepare, rotate or
 * remove. WN_OK, WN_EIO, WN_ENOSPC, WN_ENOMEM. */
WN_INTERNAL int wn__wal_prepare(struct wn__wal *w);

/* Sync the current file and start the next one (the prepared one, or one
 * made now: the directory synced, so that the new file survives a power
 * loss); *done is the sequence number of the file just closed: files up
 * to it hold every frame appended so far. Same threading as
 * wn__wal_append. */
WN_INTERNAL int wn__wal_rotate(struct wn__wal *w, uint64_t *done);

/* Remove the files numbered up to seq (their frames are in LMDB, synced),
 * but the current one; all of them, the current one closed, with
 * UINT64_MAX. WN_OK or WN_EIO. */
WN_INTERNAL int wn__wal_remove_upto(struct wn__wal *w, uint64_t seq);

/* A plain writer that replayed: hold the lock shared from now on, beside
 * other plain writers. WN_OK or WN_EBUSY. */
WN_INTERNAL int wn__wal_share(struct wn__wal *w);

/* Bytes in the log's files now, and the most there were at once since it
 * was opened by this handle. */
WN_INTERNAL void wn__wal_bytes(struct wn__wal *w, uint64_t *now,
                               uint64_t *peak);

#endif
