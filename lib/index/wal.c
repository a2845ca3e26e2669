/*
 * wal.c - the index's write-ahead log files (wal.h): framing, appends,
 * syncs, rotation, replay and the lock that keeps one logging writer.
 *
 * Durability rests on two orders: a frame is acknowledged only after an
 * fdatasync of its file returned, and a file gets its first frame only
 * after the one before it was synced and the directory entry of the new
 * one was synced (so that a power loss cannot keep a later file and lose
 * an earlier frame, nor lose the new file's name). The next file may be
 * made, and named, earlier (wn__wal_prepare): it holds no frame of its
 * number until the rotation. Appends go through one write(2)
 * of whole frames; a failed or short write is cut back with ftruncate so
 * that no later frame follows garbage.
 */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include "index/wal.h"
#include "sketch/hash128.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAL_FRAME_MAX (64u << 20) /* a payload longer than this is corrupt */
/* A new log file is written full of zeros (and synced) to this size, so
 * that appends overwrite allocated blocks: then an fdatasync writes the
 * data only, where one that extends the file also commits the file
 * system's journal (the new size), twice the time on ext4. */
#define WAL_FILE_BYTES (8u << 20)

struct seg {
    uint64_t seq;
    uint64_t bytes;
};

struct wn__wal {
    char *dir;
    int mode;
    int lock_fd, dir_fd;
    pthread_mutex_t mu; /* fd, segs, bytes: beside wn__wal_sync */
    int fd;             /* the file appended to, or -1 */
    uint64_t off;       /* its length */
    int broken;         /* an append could not be cut back */
    struct seg *segs;   /* the files, by sequence number (the last is fd's) */
    size_t nsegs, segcap;
    uint64_t peak;
    uint64_t seq;      /* of the current file */
    uint64_t next_min; /* the next file's number at least (after a failed
                          start left its name behind) */
    int spare;         /* wal.spare: a used file, kept to be the next one */
    uint64_t spare_bytes;
    /* The next file, made ahead of the rotation (wn__wal_prepare), or
     * -1: its name is synced in the directory, it holds no frame of its
     * own number yet. */
    int next_fd;
    uint64_t next_seq, next_bytes;
};

/* Seeded with the file's sequence number too: a recycled file's old
 * frames, past the new ones, fail the check. */
static uint64_t wal_check(const void *p, size_t len, uint64_t seq)
{
    uint64_t h[2];
    wn__hash128(p, len, 0x57414c00u ^ (uint64_t)len ^ (seq << 32), h);
    return h[0];
}

int wn__wal_frame(struct wn__wal *w, struct wn_buf *b, const void *payload,
                  size_t len)
{
    assert(w && b && (payload || !len) && len <= WAL_FRAME_MAX);
    unsigned char head[WN__WAL_HEAD];
    wn__put_le32(head, (uint32_t)len);
    wn__put_le64(head + 4, wal_check(payload, len, w->seq));
    int rc = wn__buf_append(b, head, sizeof(head));
    if (!rc)
        rc = wn__buf_append(b, payload, len);
    return rc;
}

static char *seg_path(const struct wn__wal *w, uint64_t seq)
{
    size_t n = strlen(w->dir) + 32;
    char *p = wn__malloc(n);
    if (p)
        snprintf(p, n, "%s/wal-%016" PRIx64 ".log", w->dir, seq);
    return p;
}

static int cmp_seg(const void *a, const void *b)
{
    uint64_t x = ((const struct seg *)a)->seq, y = ((const struct seg *)b)->seq;
    return (x > y) - (x < y);
}

/* The files of the directory, sorted. */
static int list_segs(struct wn__wal *w)
{
    DIR *d = opendir(w->dir);
    if (!d)
        return WN_EOPEN;
    struct dirent *e;
    int rc = WN_OK;
    while (!rc && (e = readdir(d)) != NULL) {
        /* "wal-" 16 hex digits ".log" */
        const char *nm = e->d_name;
        char *end = NULL;
        if (strlen(nm) != 24 || strncmp(nm, "wal-", 4) != 0 ||
            strcmp(nm + 20, ".log") != 0 ||
            strspn(nm + 4, "0123456789abcdefABCDEF") != 16)
            continue;
        unsigned long long seq = strtoull(nm + 4, &end, 16);
        if (end != nm + 20)
            continue;
        char *p = seg_path(w, (uint64_t)seq);
        struct stat st;
        if (!p) {
            rc = WN_ENOMEM;
        } else if (stat(p, &st) == 0) {
            if (WN_GROW(w->segs, w->segcap, w->nsegs + 1))
                rc = WN_ENOMEM;
            else
                w->segs[w->nsegs++] = (struct seg){seq, (uint64_t)st.st_size};
        }
        wn__free(p);
    }
    closedir(d);
    if (w->nsegs > 1)
        qsort(w->segs, w->nsegs, sizeof(*w->segs), cmp_seg);
    return rc;
}

static uint64_t total_bytes(const struct wn__wal *w)
{
    uint64_t t = w->spare ? w->spare_bytes : 0;
    if (w->next_fd >= 0)
        t += w->next_bytes;
    for (size_t i = 0; i < w->nsegs; i++)
        t += w->segs[i].bytes;
    return t;
}

int wn__wal_open(const char *dir, int mode, struct wn__wal **out,
                 int *exclusive, char *msg, size_t cap)
{
    assert(dir && out && exclusive);
    struct wn__wal *w = wn__calloc(1, sizeof(*w));
    if (!w)
        return WN_ENOMEM;
    w->dir = wn__strdup(dir);
    w->mode = mode;
    w->lock_fd = w->dir_fd = w->fd = w->next_fd = -1;
    pthread_mutex_init(&w->mu, NULL);
    int rc = w->dir ? WN_OK : WN_ENOMEM;
    *exclusive = 0;
    if (!rc && mode != WN__WAL_READ) {
        char *lp = wn__malloc(strlen(dir) + 16);
        if (!lp) {
            rc = WN_ENOMEM;
        } else {
            sprintf(lp, "%s/wal.lock", dir);
            w->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
            if (w->lock_fd < 0 && msg && cap)
                snprintf(msg, cap, "cannot open '%s': %s", lp, strerror(errno));
            wn__free(lp);
            if (w->lock_fd < 0)
                rc = WN_EOPEN;
        }
        if (!rc) {
            w->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (w->dir_fd < 0)
                rc = WN_EOPEN;
        }
        if (!rc) {
            /* Exclusive to replay (and, for the logging writer, to
             * append); a plain writer then holds it shared, beside other
             * plain writers, which found nothing to replay. */
            if (flock(w->lock_fd, LOCK_EX | LOCK_NB) == 0)
                *exclusive = 1;
            else if (mode == WN__WAL_WRITE ||
                     flock(w->lock_fd, LOCK_SH | LOCK_NB) != 0)
                rc = WN_EBUSY;
            if (rc && msg && cap)
                snprintf(msg, cap,
                         "the index '%s' is in use by %s (winnow serve "
                         "holds its write-ahead log): stop it, or send "
                         "the records to it",
                         dir,
                         mode == WN__WAL_WRITE ? "another writer"
                                               : "a logging writer");
        }
    }
    if (!rc)
        rc = list_segs(w);
    if (rc) {
        wn__wal_close(w);
        return rc;
    }
    w->peak = total_bytes(w);
    *out = w;
    return WN_OK;
}

void wn__wal_close(struct wn__wal *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->next_fd >= 0)
        close(w->next_fd);
    if (w->dir_fd >= 0)
        close(w->dir_fd);
    if (w->lock_fd >= 0)
        close(w->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&w->mu);
    wn__free(w->segs);
    wn__free(w->dir);
    wn__free(w);
}

/* Read a whole file (a log file is at most a checkpoint's worth). */
static int slurp(const char *path, unsigned char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? WN_OK : WN_EOPEN; /* removed meanwhile */
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return WN_EIO;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *p = wn__malloc(n ? n : 1);
    if (!p) {
        close(fd);
        return WN_ENOMEM;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* shorter than it was: read what is there */
        got += (size_t)r;
    }
    close(fd);
    *data = p;
    *len = got;
    return WN_OK;
}

int wn__wal_replay(struct wn__wal *w, wn__wal_frame_fn fn, void *arg,
                   uint64_t *dropped)
{
    assert(w && fn);
    uint64_t lost = 0;
    int rc = WN_OK;
    for (size_t i = 0; !rc && i < w->nsegs; i++) {
        char *p = seg_path(w, w->segs[i].seq);
        unsigned char *data = NULL;
        size_t len = 0;
        rc = p ? slurp(p, &data, &len) : WN_ENOMEM;
        wn__free(p);
        size_t off = 0;
        while (!rc && data && len - off >= WN__WAL_HEAD) {
            uint32_t n = wn__get_le32(data + off);
            if (n > WAL_FRAME_MAX || n > len - off - WN__WAL_HEAD ||
                wn__get_le64(data + off + 4) !=
                    wal_check(data + off + WN__WAL_HEAD, n, w->segs[i].seq))
                break;
            rc = fn(arg, data + off + WN__WAL_HEAD, n);
            off += WN__WAL_HEAD + n;
        }
        if (data)
            lost += len - off;
        wn__free(data);
    }
    if (dropped)
        *dropped = lost;
    return rc;
}

static int sync_dir(struct wn__wal *w)
{
    return fsync(w->dir_fd) ? WN_EIO : WN_OK;
}

static char *spare_path(const struct wn__wal *w)
{
    char *p = wn__malloc(strlen(w->dir) + 16);
    if (p)
        sprintf(p, "%s/wal.spare", w->dir);
    return p;
}

/* A new file of WAL_FILE_BYTES zeros, synced. */
static int make_file(const char *path, int *out)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return errno == ENOSPC ? WN_ENOSPC : WN_EIO;
    static const unsigned char zero[65536];
    int err = 0;
    for (size_t off = 0; !err && off < WAL_FILE_BYTES;) {
        ssize_t r = pwrite(fd, zero, sizeof(zero), (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            err = r < 0 ? errno : ENOSPC;
        else
            off += (size_t)r;
    }
    if (!err && fdatasync(fd))
        err = errno;
    if (err) {
        close(fd);
        unlink(path);
        return err == ENOSPC ? WN_ENOSPC : WN_EIO;
    }
    *out = fd;
    return WN_OK;
}

/* A file numbered seq that could not become one of the log (f its
 * descriptor or -1, path its name or NULL): closed, removed if it exists
 * (a file of zeros or of another number's frames replays as empty, so a
 * failed unlink is harmless), and its number never asked for again, so
 * that one failure does not make every later rotation fail on EEXIST. */
static void forget(struct wn__wal *w, const char *path, uint64_t seq, int f)
{
    if (f >= 0)
        close(f);
    if (path && unlink(path) == 0)
        (void)sync_dir(w);
    pthread_mutex_lock(&w->mu);
    if (w->next_min < seq + 1)
        w->next_min = seq + 1;
    pthread_mutex_unlock(&w->mu);
}

/* Make the file numbered after every other one (the spare renamed, or a
 * new one), its name synced in the directory: *fd, *seq, *bytes. */
static int make_next(struct wn__wal *w, int *fd, uint64_t *seq, uint64_t *bytes)
{
    uint64_t q = w->nsegs ? w->segs[w->nsegs - 1].seq + 1 : 1;
    if (q <= w->seq)
        q = w->seq + 1;
    pthread_mutex_lock(&w->mu);
    if (q < w->next_min)
        q = w->next_min;
    pthread_mutex_unlock(&w->mu);
    char *p = seg_path(w, q);
    char *sp = spare_path(w);
    int f = -1, rc = p && sp ? WN_OK : WN_ENOMEM;
    uint64_t b = WAL_FILE_BYTES;
    /* A used file (its blocks written) under the new name: its frames
     * carry the old sequence number, so they end the new one's. */
    if (!rc && w->spare && rename(sp, p) == 0) {
        b = w->spare_bytes > b ? w->spare_bytes : b;
        f = open(p, O_RDWR | O_CLOEXEC);
        if (f < 0)
            rc = WN_EIO;
    } else if (!rc) {
        rc = make_file(p, &f);
    }
    pthread_mutex_lock(&w->mu);
    w->spare = 0;
    pthread_mutex_unlock(&w->mu);
    wn__free(sp);
#ifdef WN_TEST_HOOKS
    /* -Dtest_hooks=true: WINNOW_TEST_WAL_START_FAIL=1 fails the making of
     * a file after its name exists (tests/test_index.c,
     * test_wal_start_fails). */
    if (!rc && getenv("WINNOW_TEST_WAL_START_FAIL")) {
        close(f);
        f = -1;
        rc = WN_EIO;
    }
#endif
    if (!rc)
        rc = sync_dir(w);
    if (rc) {
        forget(w, p, q, f);
        wn__free(p);
        return rc;
    }
    wn__free(p);
    *fd = f;
    *seq = q;
    *bytes = b;
    return WN_OK;
}

/* Make fd (numbered seq) the file appended to. */
static int install(struct wn__wal *w, int fd, uint64_t seq, uint64_t bytes)
{
    int rc = WN_OK;
    pthread_mutex_lock(&w->mu);
    if (WN_GROW(w->segs, w->segcap, w->nsegs + 1))
        rc = WN_ENOMEM;
    if (!rc) {
        w->segs[w->nsegs++] = (struct seg){seq, bytes};
        w->fd = fd;
        w->off = 0;
        w->seq = seq;
        uint64_t t = total_bytes(w);
        if (t > w->peak)
            w->peak = t;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wn__wal_start(struct wn__wal *w)
{
    assert(w && w->mode == WN__WAL_WRITE && w->fd < 0);
    int fd = -1;
    uint64_t seq, bytes;
    int rc = make_next(w, &fd, &seq, &bytes);
    if (!rc) {
        rc = install(w, fd, seq, bytes);
        if (rc) {
            char *p = seg_path(w, seq);
            forget(w, p, seq, fd);
            wn__free(p);
        }
    }
    return rc;
}

int wn__wal_prepare(struct wn__wal *w)
{
    assert(w && w->mode == WN__WAL_WRITE);
    if (w->next_fd >= 0)
        return WN_OK;
    int fd = -1;
    uint64_t seq, bytes;
    int rc = make_next(w, &fd, &seq, &bytes);
    if (rc)
        return rc;
    pthread_mutex_lock(&w->mu);
    w->next_fd = fd;
    w->next_seq = seq;
    w->next_bytes = bytes;
    uint64_t t = total_bytes(w);
    if (t > w->peak)
        w->peak = t;
    pthread_mutex_unlock(&w->mu);
    return WN_OK;
}

int wn__wal_append(struct wn__wal *w, const void *frames, size_t len)
{
    assert(w && (frames || !len));
    if (w->broken || w->fd < 0)
        return WN_EIO;
    const unsigned char *p = frames;
    size_t done = 0;
    int err = 0;
    while (done < len) {
        ssize_t r = pwrite(w->fd, p + done, len - done, (off_t)(w->off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = r < 0 ? errno : ENOSPC;
            break;
        }
        done += (size_t)r;
    }
    if (err) {
        if (ftruncate(w->fd, (off_t)w->off))
            w->broken = 1;
        return err == ENOSPC ? WN_ENOSPC : WN_EIO;
    }
    pthread_mutex_lock(&w->mu);
    w->off += len;
    if (w->off > w->segs[w->nsegs - 1].bytes)
        w->segs[w->nsegs - 1].bytes = w->off;
    uint64_t t = total_bytes(w);
    if (t > w->peak)
        w->peak = t;
    pthread_mutex_unlock(&w->mu);
    return WN_OK;
}

int wn__wal_sync(struct wn__wal *w)
{
    assert(w);
    pthread_mutex_lock(&w->mu);
    /* A file of its own: the current one may be swapped meanwhile (after
     * it was synced by the rotation). */
    int fd = w->fd >= 0 ? dup(w->fd) : -1;
    int had = w->fd >= 0;
    pthread_mutex_unlock(&w->mu);
    if (!had)
        return WN_OK;
    if (fd < 0)
        return WN_EIO;
    int rc = fdatasync(fd) ? WN_EIO : WN_OK;
    close(fd);
    return rc;
}

int wn__wal_rotate(struct wn__wal *w, uint64_t *done)
{
    assert(w && done && w->fd >= 0);
    if (fdatasync(w->fd))
        return WN_EIO;
    uint64_t seq = w->segs[w->nsegs - 1].seq;
    pthread_mutex_lock(&w->mu);
    int old = w->fd;
    int fd = w->next_fd;
    uint64_t nseq = w->next_seq, nbytes = w->next_bytes;
    w->fd = w->next_fd = -1;
    pthread_mutex_unlock(&w->mu);
    int rc = fd >= 0 ? install(w, fd, nseq, nbytes) : wn__wal_start(w);
    if (rc) {
        pthread_mutex_lock(&w->mu);
        w->fd = old; /* go on appending to the old file */
        w->next_fd = fd;
        pthread_mutex_unlock(&w->mu);
        return rc;
    }
    close(old);
    w->broken = 0; /* a failed cut-back was of the old file */
    *done = seq;
    return WN_OK;
}

int wn__wal_remove_upto(struct wn__wal *w, uint64_t seq)
{
    assert(w);
    int rc = WN_OK;
    pthread_mutex_lock(&w->mu);
    if (seq == UINT64_MAX && w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    size_t keep = 0;
    for (size_t i = 0; i < w->nsegs; i++) {
        int current = w->fd >= 0 && i == w->nsegs - 1 && seq != UINT64_MAX;
        if (w->segs[i].seq > seq || current) {
            w->segs[keep++] = w->segs[i];
            continue;
        }
        char *p = seg_path(w, w->segs[i].seq);
        char *sp = spare_path(w);
        /* The logging writer keeps one used file to write the next one
         * into (its name first: a crash leaves it out of the log). */
        int recycle = p && sp && w->mode == WN__WAL_WRITE && !w->spare &&
                      seq != UINT64_MAX && rename(p, sp) == 0;
        if (recycle) {
            w->spare = 1;
            w->spare_bytes = w->segs[i].bytes;
        } else if (!p || (unlink(p) && errno != ENOENT)) {
            rc = p ? WN_EIO : WN_ENOMEM;
            w->segs[keep++] = w->segs[i];
        }
        wn__free(p);
        wn__free(sp);
    }
    w->nsegs = keep;
    if (seq == UINT64_MAX) {
        char *sp = spare_path(w);
        if (sp)
            unlink(sp);
        wn__free(sp);
        w->spare = 0;
        if (w->next_fd >= 0) {
            char *np = seg_path(w, w->next_seq);
            if (np)
                unlink(np);
            wn__free(np);
            close(w->next_fd);
            w->next_fd = -1;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wn__wal_share(struct wn__wal *w)
{
    assert(w && w->lock_fd >= 0);
    return flock(w->lock_fd, LOCK_SH | LOCK_NB) ? WN_EBUSY : WN_OK;
}

void wn__wal_bytes(struct wn__wal *w, uint64_t *now, uint64_t *peak)
{
    assert(w && now && peak);
    pthread_mutex_lock(&w->mu);
    *now = total_bytes(w);
    *peak = w->peak;
    pthread_mutex_unlock(&w->mu);
}
