/*
 * direct.h - appending a large output with direct I/O: the bytes go from
 * aligned buffers of ours to the disk (O_DIRECT), several writes in flight
 * through io_uring, instead of being copied into the page cache and written
 * back from there.
 *
 * Why: a durable run (outputs fsync'ed, the default) waits for the disk to
 * have every byte of kept.jsonl anyway. Written through the page cache, the
 * bytes are also copied into new page cache pages, which on the
 * paravirtual machines this project runs on cost about 1.4 ns a byte (the
 * kernel's copy was 13% of a run at the defaults on the generated 1 GB
 * corpus); written directly, the disk reads them from our buffers while the
 * run goes on, and the process spends a memory copy into those buffers.
 * Measured in docs/BENCHMARKS.md, "kept.jsonl written directly".
 *
 * Where direct I/O cannot be had (a build without liburing, a file system
 * without O_DIRECT such as tmpfs, io_uring refused by a seccomp policy),
 * wn__direct_open says so and the caller writes as before: the bytes in the
 * file are the same either way.
 *
 * One writer belongs to one thread. Memory: WN_DIRECT_BUFS buffers of
 * WN_DIRECT_BUF bytes.
 */
#ifndef WN_DIRECT_H
#define WN_DIRECT_H

#include "common/common.h"

#define WN_DIRECT_BUF  (1u << 20)
#define WN_DIRECT_BUFS 4u
/* Bytes written between two data syncs queued behind the writes (so that
 * the closing fsync has one stretch left to commit). */
#define WN_DIRECT_SYNC ((uint64_t)64 << 20)

struct wn_direct;

/*
 * Take over appending to fd (open for writing, nothing of it buffered
 * elsewhere) from its current offset. WN_OK with *out a writer; WN_OK with
 * *out NULL when direct writes are not available for fd (the caller writes
 * as before; fd is as it was); an error status otherwise. Until
 * wn__direct_close, nothing else may write to fd.
 */
WN_INTERNAL int wn__direct_open(int fd, struct wn_direct **out);

/* Append p[0, n). Errors of earlier writes may show here. */
WN_INTERNAL int wn__direct_write(struct wn_direct *w, const void *p, size_t n);

/*
 * Write what is left, wait for every write, give the file its exact length
 * and fd its offset at the end, return fd to ordinary writes, and free w
 * (always; NULL is a no-op returning WN_OK). The first error of any write,
 * or WN_OK.
 */
WN_INTERNAL int wn__direct_close(struct wn_direct *w);

#endif /* WN_DIRECT_H */
