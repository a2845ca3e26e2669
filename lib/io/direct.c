/*
 * direct.c - appending with O_DIRECT through io_uring (see direct.h).
 *
 * The buffers are filled in turn; a full one is submitted as one write at
 * its file offset and the next is filled while up to WN_DIRECT_BUFS writes
 * are in flight. Every write but the last is WN_DIRECT_BUF bytes at a
 * multiple of it, so offsets, lengths and buffer addresses stay multiples
 * of DIRECT_ALIGN; the last is padded with zeros to DIRECT_ALIGN and the
 * file cut to its length afterwards. A file that does not start at an
 * aligned offset has the bytes before it in its first block read back.
 *
 * Every WN_DIRECT_SYNC bytes, an fdatasync of what has been written so
 * far is queued on the ring too (one at a time): the closing fsync of a
 * durable run then commits the allocations of the last stretch only, not
 * of the whole file (0.28-0.43 s for kept.jsonl of the generated 1 GB
 * corpus when it was all left to the end). The kernel does these syncs
 * while the run goes on; their errors are the writer's errors.
 *
 * A direct write the kernel refuses as made (EINVAL for its alignment,
 * EOPNOTSUPP, EAGAIN, EINTR), or one that goes short, is done again with
 * an ordinary pwrite after O_DIRECT is cleared: slower, never wrong. A
 * submission the kernel does not take (io_uring_enter: EAGAIN, EBUSY, a
 * policy refusing it) leaves its entry in the submission queue, where the
 * next submission would send it late: from then on nothing more goes to
 * the ring, and this write and the later ones are ordinary pwrites.
 * liburing (Debian's liburing-dev) is optional: without it every open says
 * "not available".
 */
/* The feature macro of O_DIRECT, not a name of ours: */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include "io/direct.h"
#include "io/outfile.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef WN_HAVE_URING
#include <liburing.h>

/* Offsets, lengths and addresses of direct writes: the page size, which
 * every block size of Linux file systems divides. */
#define DIRECT_ALIGN 4096u
/* The user data of a sync's completion (buffers are 0..WN_DIRECT_BUFS-1). */
#define SYNC_TAG 0xFFFFu

struct wn_direct {
    int fd;
    int flags;   /* fd's status flags before O_DIRECT */
    bool direct; /* O_DIRECT still set */
    struct io_uring ring;
    void *block; /* the buffers' allocation */
    uint8_t *buf[WN_DIRECT_BUFS];
    bool busy[WN_DIRECT_BUFS];
    uint64_t at[WN_DIRECT_BUFS];   /* file offset of a busy buffer's write */
    uint32_t want[WN_DIRECT_BUFS]; /* its length */
    unsigned cur;                  /* the buffer being filled */
    size_t fill;                   /* bytes in it */
    uint64_t off;                  /* file offset of its byte 0 */
    unsigned inflight;             /* writes and syncs on the ring */
    bool syncing;                  /* a sync is on the ring */
    /* A submission failed: the entry it left in the submission queue
     * would go with the next one, so nothing more is submitted, and every
     * later write is an ordinary one. */
    bool ring_off;
    uint64_t synced; /* the offset the last queued sync was for */
    int err;
#ifdef WN_TEST_HOOKS
    /* WINNOW_TEST_DIRECT_RES (wn__direct_open): the write to fake, from 1
     * (0: every one), and what it completes with; writes so far; the
     * buffers whose write was faked (a no-op on the ring). */
    unsigned fake_at, writes;
    long fake_res;
    bool fake_enter; /* fake_res is the submission's, not the write's */
    bool faked[WN_DIRECT_BUFS];
#endif
};

/* Clear O_DIRECT on the writer's fd (for a write done again, or at the
 * end). */
static void plain(struct wn_direct *w)
{
    if (w->direct && fcntl(w->fd, F_SETFL, w->flags) == 0)
        w->direct = false;
}

static void note(struct wn_direct *w, int rc)
{
    if (!w->err)
        w->err = rc;
}

/* A completion's result that is no error of the file: the request was
 * refused as made (EINVAL: the alignment a device wants; EOPNOTSUPP: no
 * direct or no such I/O here; EAGAIN, EINTR: try again). Done again with
 * an ordinary write, which succeeds or reports the real error. */
static bool refusal(int res)
{
    return res == -EINVAL || res == -EOPNOTSUPP || res == -EAGAIN ||
           res == -EINTR;
}

/* Takes one completion, waiting for it. */
static void reap(struct wn_direct *w)
{
    assert(w->inflight > 0);
    struct io_uring_cqe *cqe;
    int r;
    do {
        r = io_uring_wait_cqe(&w->ring, &cqe);
    } while (r == -EINTR);
    if (r < 0) {
        /* The ring itself failed: nothing more will complete. */
        note(w, wn__status_from_errno(-r));
        for (unsigned i = 0; i < WN_DIRECT_BUFS; i++)
            w->busy[i] = false;
        w->syncing = false;
        w->inflight = 0;
        return;
    }
    unsigned i = (unsigned)io_uring_cqe_get_data64(cqe);
    int res = cqe->res;
    io_uring_cqe_seen(&w->ring, cqe);
#ifdef WN_TEST_HOOKS
    if (i < WN_DIRECT_BUFS && w->faked[i]) {
        w->faked[i] = false;
        res = (int)w->fake_res;
    }
#endif
    if (i == SYNC_TAG) {
        assert(w->syncing);
        w->syncing = false;
        w->inflight--;
        /* A sync refused is left to the closing fsync; an I/O error is
         * kept (reported here, the closing fsync may not see it again). */
        if (res < 0 && !refusal(res))
            note(w, wn__status_from_errno(-res));
        return;
    }
    assert(i < WN_DIRECT_BUFS && w->busy[i]);
    w->busy[i] = false;
    w->inflight--;
    if (res == (int)w->want[i])
        return;
    if (res < 0 && !refusal(res)) {
        note(w, wn__status_from_errno(-res));
        return;
    }
    /* Refused (for its alignment, not supported, would block, interrupted),
     * or short: the rest the ordinary way. */
    size_t done = res > 0 ? (size_t)res : 0;
    plain(w);
    int rc = w->direct ? WN_EIO
                       : wn__pwrite_full(w->fd, w->buf[i] + done,
                                         w->want[i] - done, w->at[i] + done);
    if (rc)
        note(w, rc);
}

/* Hands the queued entry to the kernel: true if it took it. */
static bool ring_submit(struct wn_direct *w)
{
    int r;
    do {
        r = io_uring_submit(&w->ring);
    } while (r == -EINTR);
    return r > 0;
}

/* Writes buffer i's first len bytes at w->off now, with an ordinary
 * pwrite (O_DIRECT cleared). */
static void write_plain(struct wn_direct *w, unsigned i, uint32_t len)
{
    plain(w);
    int rc =
        w->direct ? WN_EIO : wn__pwrite_full(w->fd, w->buf[i], len, w->off);
    if (rc)
        note(w, rc);
}

/* Submits buffer i's first len bytes (a multiple of DIRECT_ALIGN, or any
 * length once O_DIRECT is off) at w->off. */
static void submit(struct wn_direct *w, unsigned i, uint32_t len)
{
    assert(!w->busy[i]);
    if (w->ring_off) {
        write_plain(w, i, len);
        return;
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
    while (!sqe && w->inflight) {
        reap(w);
        sqe = io_uring_get_sqe(&w->ring);
    }
    if (!sqe) {
        note(w, WN_EIO);
        return;
    }
#ifdef WN_TEST_HOOKS
    w->writes++;
    bool fake = w->fake_res && (w->fake_at == 0 || w->fake_at == w->writes);
    if (fake && !w->fake_enter) {
        if (w->fake_res < 0) {
            /* Nothing written: the completion says fake_res. */
            io_uring_prep_nop(sqe);
            w->faked[i] = true;
        } else {
            /* A short write, for real. */
            io_uring_prep_write(sqe, w->fd, w->buf[i],
                                (unsigned)WN_MIN((long)len, w->fake_res),
                                w->off);
        }
    } else {
        io_uring_prep_write(sqe, w->fd, w->buf[i], len, w->off);
    }
#else
    io_uring_prep_write(sqe, w->fd, w->buf[i], len, w->off);
#endif
    io_uring_sqe_set_data64(sqe, i);
    w->busy[i] = true;
    w->at[i] = w->off;
    w->want[i] = len;
    w->inflight++;
#ifdef WN_TEST_HOOKS
    /* The submission refused: the entry stays queued. */
    bool took = fake && w->fake_enter ? false : ring_submit(w);
#else
    bool took = ring_submit(w);
#endif
    if (!took) {
        /* EAGAIN, EBUSY, a policy refusing io_uring_enter: this write
         * and the later ones the ordinary way (their errors are real). */
        w->busy[i] = false;
        w->inflight--;
        w->ring_off = true;
        write_plain(w, i, len);
    }
}

/* Queues an fdatasync of the file (what completed before it runs). */
static void queue_sync(struct wn_direct *w)
{
    if (w->ring_off)
        return; /* the closing fsync commits it all */
    struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
    if (!sqe)
        return; /* the ring is full: the next stretch will ask again */
    io_uring_prep_fsync(sqe, w->fd, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data64(sqe, SYNC_TAG);
    w->syncing = true;
    w->synced = w->off;
    w->inflight++;
    if (!ring_submit(w)) {
        w->syncing = false;
        w->inflight--;
        w->ring_off = true;
    }
}

int wn__direct_open(int fd, struct wn_direct **out)
{
    assert(fd >= 0 && out != NULL);
    *out = NULL;
#ifdef WN_TEST_HOOKS
    /* -Dtest_hooks=true: WINNOW_TEST_NO_DIRECT=1 takes the ordinary path
     * (tests/cli/test_outputs.sh compares the two). */
    if (getenv("WINNOW_TEST_NO_DIRECT"))
        return WN_OK;
#endif
    off_t at = lseek(fd, 0, SEEK_CUR);
    int flags = fcntl(fd, F_GETFL);
    if (at < 0 || flags < 0 || (flags & O_APPEND))
        return WN_OK;
    struct wn_direct *w = wn__calloc(1, sizeof(*w));
    if (!w)
        return WN_ENOMEM;
    w->fd = fd;
    w->flags = flags;
    w->block =
        wn__malloc((size_t)WN_DIRECT_BUFS * WN_DIRECT_BUF + DIRECT_ALIGN);
    if (!w->block) {
        wn__free(w);
        return WN_ENOMEM;
    }
    uintptr_t p = ((uintptr_t)w->block + DIRECT_ALIGN - 1) &
                  ~(uintptr_t)(DIRECT_ALIGN - 1);
    for (unsigned i = 0; i < WN_DIRECT_BUFS; i++)
        w->buf[i] = (uint8_t *)p + (size_t)i * WN_DIRECT_BUF;
    /* The bytes before the offset in its block are written again with it:
     * read them while the file is still read the ordinary way. */
    w->off = (uint64_t)at & ~(uint64_t)(DIRECT_ALIGN - 1);
    w->synced = w->off;
    w->fill = (size_t)((uint64_t)at - w->off);
    bool ok = w->fill == 0 ||
              ((flags & O_ACCMODE) == O_RDWR &&
               wn__pread_full(fd, w->buf[0], w->fill, w->off) == WN_OK);
    /* Room for every buffer's write and one sync. */
    if (ok && io_uring_queue_init(WN_DIRECT_BUFS + 1, &w->ring, 0) != 0)
        ok = false;
    if (ok && fcntl(fd, F_SETFL, flags | O_DIRECT) != 0) {
        io_uring_queue_exit(&w->ring);
        ok = false;
    }
    if (!ok) {
        /* EINVAL: no O_DIRECT here; ENOSYS, EPERM: no io_uring. */
        wn__free(w->block);
        wn__free(w);
        return WN_OK;
    }
    w->direct = true;
#ifdef WN_TEST_HOOKS
    /* -Dtest_hooks=true: WINNOW_TEST_DIRECT_RES=N:RES makes the Nth write
     * of the writer (from 1; 0: every one) complete with RES, a negative
     * errno (nothing written) or a byte count (a short write), as a
     * kernel may; N:S-ERRNO makes its submission fail instead, the entry
     * left queued (tests/test_outfile.c, tests/cli/test_outputs.sh). */
    const char *fake = getenv("WINNOW_TEST_DIRECT_RES");
    if (fake && *fake) {
        char *e = NULL;
        w->fake_at = (unsigned)strtoul(fake, &e, 10);
        if (e && *e == ':') {
            w->fake_enter = e[1] == 'S';
            w->fake_res = strtol(e + 1 + w->fake_enter, NULL, 10);
        }
    }
#endif
    *out = w;
    return WN_OK;
}

int wn__direct_write(struct wn_direct *w, const void *p, size_t n)
{
    assert(w != NULL && (p != NULL || n == 0));
    const uint8_t *s = p;
    while (n && !w->err) {
        size_t k = WN_MIN(n, (size_t)WN_DIRECT_BUF - w->fill);
        memcpy(w->buf[w->cur] + w->fill, s, k);
        w->fill += k;
        s += k;
        n -= k;
        if (w->fill < WN_DIRECT_BUF)
            break;
        submit(w, w->cur, WN_DIRECT_BUF);
        w->off += WN_DIRECT_BUF;
        w->fill = 0;
        if (w->off - w->synced >= WN_DIRECT_SYNC && !w->syncing)
            queue_sync(w);
        w->cur = (w->cur + 1) % WN_DIRECT_BUFS;
        while (w->busy[w->cur] && w->inflight)
            reap(w);
    }
    return w->err;
}

int wn__direct_close(struct wn_direct *w)
{
    if (!w)
        return WN_OK;
    uint64_t end = w->off + w->fill;
    if (w->fill && !w->err) {
        uint32_t len = (uint32_t)((w->fill + DIRECT_ALIGN - 1) &
                                  ~(size_t)(DIRECT_ALIGN - 1));
        memset(w->buf[w->cur] + w->fill, 0, len - w->fill);
        submit(w, w->cur, len);
    }
    while (w->inflight)
        reap(w);
    io_uring_queue_exit(&w->ring);
    plain(w);
    if (w->direct)
        note(w, WN_EIO);
    if (!w->err && ftruncate(w->fd, (off_t)end) != 0)
        note(w, wn__status_from_errno(errno));
    if (!w->err && lseek(w->fd, (off_t)end, SEEK_SET) < 0)
        note(w, wn__status_from_errno(errno));
    int rc = w->err;
    wn__free(w->block);
    wn__free(w);
    return rc;
}

#else /* !WN_HAVE_URING */

int wn__direct_open(int fd, struct wn_direct **out)
{
    assert(fd >= 0 && out != NULL);
    *out = NULL;
    return WN_OK;
}

int wn__direct_write(struct wn_direct *w, const void *p, size_t n)
{
    (void)w;
    (void)p;
    (void)n;
    assert(!"no direct writer without liburing");
    return WN_EINVAL;
}

int wn__direct_close(struct wn_direct *w)
{
    assert(w == NULL);
    return WN_OK;
}

#endif
