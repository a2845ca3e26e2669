/*
 * stream.c - byte streams that undo gzip or zstd compression, detected by
 * magic bytes.
 *
 * Plain input is read straight into the caller's buffer (no copy besides the
 * few bytes peeked for detection). Compressed input goes through one input
 * buffer of `block` bytes and zlib's inflate or zstd's streaming decoder.
 * Both decoders allocate through wn__malloc, so allocation-failure tests
 * reach them too.
 *
 * Termination: each loop iteration either reads more input, consumes input,
 * produces output, or returns. A decoder that wants more input when the file
 * has ended means the stream was cut: WN_ETRUNC.
 *
 * Damage: a decoder error ends the damaged member (gzip) or frame (zstd)
 * with one WN_ETRUNC, after the good bytes before it have been handed out.
 * The next call resynchronizes: it scans the compressed bytes for the next
 * gzip magic (1f 8b 08) or zstd frame magic, from where the decoder
 * stopped (or just past the damaged unit's first byte if it stopped there). A
 * candidate that fails before producing a byte was a chance match inside
 * compressed data: scanning goes on silently, so one damaged region gives
 * exactly one WN_ETRUNC. No magic before the end of the file is a clean end.
 * Each scan step moves forward by at least one byte.
 *
 * zstd windows: frames may ask for a window up to 2^ZSTD_WINDOWLOG_MAX
 * (2 GiB on 64-bit hosts, what `zstd --long=31` writes) instead of zstd's
 * default cap of 128 MiB, so such valid files are read; the decoder then
 * allocates up to that window, which is the stated memory cap for reading
 * one zstd input (O(block) otherwise, as above).
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createDCtx_advanced, custom alloc */
#include "io/stream.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

struct wn_stream {
    int fd;
    bool close_fd; /* false for standard input */
    bool detected; /* magic bytes looked at */
    bool eof;      /* read(2) returned 0 */
    int format;    /* enum wn_stream_format */
    size_t block;
    unsigned char magic[4]; /* bytes read for detection, replayed */
    size_t magic_len, magic_pos;
    unsigned char *in; /* compressed input */
    size_t in_pos, in_len;
    z_stream z;
    bool z_ready;
    bool member_open; /* inside a gzip member */
    ZSTD_DCtx *zd;
    bool frame_open;   /* inside a zstd frame, or its output not flushed */
    int err;           /* a decoder error held back until its output is read */
    bool resync;       /* after damage: looking for the next member or frame */
    bool probing;      /* a unit found by resync has produced no byte yet */
    uint64_t in_base;  /* file offset of in[0] */
    uint64_t unit_abs; /* file offset of the current unit's first byte */
    volatile int *cancel; /* see wn__stream_set_cancel */
};

/*
 * read(2) that is retried when a signal interrupts it, unless the signal
 * cancelled the run: a reader blocked on a pipe whose writer is alive but
 * silent must still stop on SIGINT or SIGTERM. The flag is also looked at
 * before each read, for a signal that came just before it. Returns bytes,
 * 0 at EOF or -1 with errno set (EINTR when cancelled).
 */
static ssize_t read_fd(const struct wn_stream *s, void *buf, size_t n)
{
    for (;;) {
        if (s->cancel && *s->cancel) {
            errno = EINTR;
            return -1;
        }
        ssize_t k = read(s->fd, buf, n);
        if (k >= 0 || errno != EINTR)
            return k;
    }
}

/* The status of a failed read_fd. */
static int read_error(void)
{
    return errno == EINTR ? WN_EINTR : WN_EIO;
}

void wn__stream_set_cancel(struct wn_stream *s, volatile int *cancel)
{
    s->cancel = cancel;
}

int wn__stream_open(const char *path, size_t block, struct wn_stream **out)
{
    if (block == 0)
        return WN_EINVAL;
    struct wn_stream *s = wn__calloc(1, sizeof(*s));
    if (!s)
        return WN_ENOMEM;
    s->block = block;
    if (strcmp(path, "-") == 0) {
        s->fd = STDIN_FILENO;
    } else {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            int e = errno;
            wn__free(s);
            errno = e;
            return WN_EOPEN;
        }
        s->close_fd = true;
    }
    *out = s;
    return WN_OK;
}

static void *z_alloc(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    return wn__reallocarray(NULL, items, size);
}

static void z_free(void *opaque, void *p)
{
    (void)opaque;
    wn__free(p);
}

static void *zs_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return wn__malloc(size);
}

static void zs_free(void *opaque, void *p)
{
    (void)opaque;
    wn__free(p);
}

/* Read the first bytes, choose the format and set up its decoder. */
static int detect(struct wn_stream *s)
{
    while (s->magic_len < sizeof(s->magic)) {
        size_t want = WN_MIN(s->block, sizeof(s->magic) - s->magic_len);
        ssize_t k = read_fd(s, s->magic + s->magic_len, want);
        if (k < 0)
            return read_error();
        if (k == 0) {
            s->eof = true;
            break;
        }
        s->magic_len += (size_t)k;
    }
    const unsigned char *m = s->magic;
    bool full = s->magic_len == 4;
    if (s->magic_len >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        s->format = WN_STREAM_GZIP;
    else if (full &&
             ((m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) ||
              /* a skippable frame, 0x184D2A5? little-endian */
              ((m[0] & 0xf0) == 0x50 && m[1] == 0x2a && m[2] == 0x4d &&
               m[3] == 0x18)))
        s->format = WN_STREAM_ZSTD;
    else
        s->format = WN_STREAM_PLAIN;
    s->detected = true;
    if (s->format == WN_STREAM_PLAIN)
        return WN_OK;

    /* block bytes read after up to 3 bytes kept by a resync scan. */
    s->in = wn__malloc(s->block + sizeof(s->magic));
    if (!s->in)
        return WN_ENOMEM;
    memcpy(s->in, s->magic, s->magic_len);
    s->in_len = s->magic_len;
    s->magic_pos = s->magic_len;
    if (s->format == WN_STREAM_GZIP) {
        s->z.zalloc = z_alloc;
        s->z.zfree = z_free;
        /* 15 + 16: a 32 KiB window, gzip wrapper only. */
        int zr = inflateInit2(&s->z, 15 + 16);
        if (zr != Z_OK)
            return zr == Z_MEM_ERROR ? WN_ENOMEM : WN_EINVAL;
        s->z_ready = true;
        s->member_open = true;
    } else {
        ZSTD_customMem mem = {zs_alloc, zs_free, NULL};
        s->zd = ZSTD_createDCtx_advanced(mem);
        if (!s->zd)
            return WN_ENOMEM;
        /* See the opening comment: valid long-window frames are read. */
        size_t zr =
            ZSTD_DCtx_setParameter(s->zd, ZSTD_d_windowLogMax,
                                   sizeof(size_t) == 8 ? ZSTD_WINDOWLOG_MAX_64
                                                       : ZSTD_WINDOWLOG_MAX_32);
        if (ZSTD_isError(zr))
            return WN_EINVAL;
        s->frame_open = true;
    }
    return WN_OK;
}

/*
 * Refill the compressed input buffer, keeping its last keep (<= 3) unread
 * bytes in front of the new ones (a magic number split by the refill).
 */
static int fill_keep(struct wn_stream *s, size_t keep)
{
    assert(keep <= s->in_len - s->in_pos && keep < sizeof(s->magic));
    memmove(s->in, s->in + s->in_len - keep, keep);
    ssize_t k = read_fd(s, s->in + keep, s->block);
    if (k < 0)
        return read_error();
    if (k == 0)
        s->eof = true;
    s->in_base += s->in_len - keep;
    s->in_pos = 0;
    s->in_len = keep + (size_t)k;
    return WN_OK;
}

/* Refill the compressed input buffer once it is used up. */
static int fill(struct wn_stream *s)
{
    return fill_keep(s, 0);
}

/* Whether p[0..3] (n bytes available) starts a unit of the format. */
static bool unit_magic(int format, const unsigned char *p, size_t n)
{
    if (format == WN_STREAM_GZIP)
        return n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 0x08;
    return n >= 4 &&
           ((p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) ||
            ((p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d &&
             p[3] == 0x18));
}

/*
 * Resynchronize after damage (see the opening comment): WN_OK with
 * s->resync cleared and in_pos at the next unit's magic, WN_OK with
 * s->resync still set at the end of the file, or a read error.
 */
static int resync(struct wn_stream *s)
{
    size_t mlen = s->format == WN_STREAM_GZIP ? 3 : 4;
    /* From where the decoder stopped, but past the damaged unit's first
     * byte, so that each scan moves on even when the decoder failed
     * without consuming anything. File offsets, so that the place does
     * not depend on the read size. */
    uint64_t from = s->in_base + s->in_pos;
    if (from <= s->unit_abs)
        from = s->unit_abs + 1;
    while (s->in_base + s->in_len < from) {
        if (s->eof) {
            s->in_pos = s->in_len;
            return WN_OK;
        }
        s->in_pos = s->in_len;
        int rc = fill(s);
        if (rc)
            return rc;
    }
    size_t p = (size_t)(from - s->in_base);
    for (;;) {
        for (; p + mlen <= s->in_len; p++) {
            if (unit_magic(s->format, s->in + p, s->in_len - p)) {
                s->in_pos = p;
                s->unit_abs = s->in_base + p;
                s->resync = false;
                s->probing = true;
                return WN_OK;
            }
        }
        size_t keep = WN_MIN(mlen - 1, s->in_len - WN_MIN(p, s->in_len));
        s->in_pos = s->in_len - keep;
        if (s->eof) {
            s->in_pos = s->in_len;
            return WN_OK;
        }
        int rc = fill_keep(s, keep);
        if (rc)
            return rc;
        p = 0;
    }
}

/*
 * A decoder failed after producing n bytes in this call. Those bytes are
 * good (they precede the damage), so they are handed out first and the
 * error is returned by the next call. Otherwise the records just before a
 * corrupt spot would be lost or kept depending on how much one call
 * decoded, that is, on the block size (found by fuzz/fuzz_jsonl.c,
 * fuzz/corpus/jsonl/crash-gzip-output-before-error).
 */
static int hold_error(struct wn_stream *s, int err, size_t n, size_t *got)
{
    if (err == WN_ETRUNC)
        s->resync = true;
    if (n == 0)
        return err;
    s->err = err;
    *got = n;
    return WN_OK;
}

static int read_gzip(struct wn_stream *s, void *buf, size_t cap, size_t *got)
{
    z_stream *z = &s->z;
    for (;;) {
        if (s->in_pos == s->in_len && !s->eof) {
            int rc = fill(s);
            if (rc)
                return rc;
        }
        if (s->resync) {
            int rc = resync(s);
            if (rc)
                return rc;
            if (s->resync) {
                *got = 0; /* no intact member after the damage */
                return WN_OK;
            }
            s->member_open = false;
        }
        if (!s->member_open) {
            if (s->in_pos == s->in_len) {
                *got = 0; /* clean end after the last member */
                return WN_OK;
            }
            inflateReset(z); /* another member follows */
            s->member_open = true;
            s->unit_abs = s->in_base + s->in_pos;
        }
        z->next_in = s->in + s->in_pos;
        z->avail_in = (uInt)(s->in_len - s->in_pos);
        z->next_out = buf;
        z->avail_out = (uInt)cap;
        int zr = inflate(z, Z_NO_FLUSH);
        s->in_pos = s->in_len - z->avail_in;
        int err = WN_OK;
        if (zr == Z_MEM_ERROR)
            err = WN_ENOMEM;
        else if (zr != Z_OK && zr != Z_BUF_ERROR && zr != Z_STREAM_END)
            err = WN_ETRUNC;
        size_t n = cap - z->avail_out;
        bool cut = !err && zr != Z_STREAM_END && s->in_pos == s->in_len &&
                   s->eof && n == 0;
        if ((err == WN_ETRUNC || cut) && s->probing && n == 0) {
            s->resync = true; /* a chance match: keep scanning */
            continue;
        }
        if (err)
            return hold_error(s, err, n, got);
        if (n > 0 || zr == Z_STREAM_END)
            s->probing = false;
        if (zr == Z_STREAM_END)
            s->member_open = false;
        if (n > 0) {
            *got = n;
            return WN_OK;
        }
        if (cut)
            return hold_error(s, WN_ETRUNC, 0, got);
    }
}

static int read_zstd(struct wn_stream *s, void *buf, size_t cap, size_t *got)
{
    for (;;) {
        if (s->in_pos == s->in_len && !s->eof) {
            int rc = fill(s);
            if (rc)
                return rc;
        }
        if (s->resync) {
            int rc = resync(s);
            if (rc)
                return rc;
            if (s->resync) {
                *got = 0; /* no intact frame after the damage */
                return WN_OK;
            }
            ZSTD_DCtx_reset(s->zd, ZSTD_reset_session_only);
            s->frame_open = false;
        }
        if (!s->frame_open && s->in_pos == s->in_len) {
            *got = 0;
            return WN_OK;
        }
        if (!s->frame_open)
            s->unit_abs = s->in_base + s->in_pos;
        ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
        ZSTD_outBuffer out = {buf, cap, 0};
        size_t zr = ZSTD_decompressStream(s->zd, &out, &in);
        s->in_pos = in.pos;
        int err = WN_OK;
        if (ZSTD_isError(zr))
            err = ZSTD_getErrorCode(zr) == ZSTD_error_memory_allocation
                      ? WN_ENOMEM
                      : WN_ETRUNC;
        bool cut =
            !err && zr != 0 && out.pos == 0 && s->in_pos == s->in_len && s->eof;
        if ((err == WN_ETRUNC || cut) && s->probing && out.pos == 0) {
            s->resync = true; /* a chance match: keep scanning */
            continue;
        }
        if (err)
            return hold_error(s, err, out.pos, got);
        /* 0 means a frame ended and all of its output was flushed. */
        s->frame_open = zr != 0;
        if (out.pos > 0 || !s->frame_open)
            s->probing = false;
        if (out.pos > 0) {
            *got = out.pos;
            return WN_OK;
        }
        if (cut)
            return hold_error(s, WN_ETRUNC, 0, got);
    }
}

int wn__stream_read(struct wn_stream *s, void *buf, size_t cap, size_t *got)
{
    if (s->err) {
        /* Damage is reported once, then reading resumes (resync). */
        int err = s->err;
        if (err == WN_ETRUNC)
            s->err = WN_OK;
        return err;
    }
    if (!s->detected) {
        int rc = detect(s);
        if (rc)
            return rc;
    }
    cap = WN_MIN(cap, s->block);
    /* zlib counts in uInt. */
    cap = WN_MIN(cap, (size_t)1 << 30);
    if (cap == 0) {
        *got = 0;
        return WN_OK;
    }
    if (s->format == WN_STREAM_GZIP)
        return read_gzip(s, buf, cap, got);
    if (s->format == WN_STREAM_ZSTD)
        return read_zstd(s, buf, cap, got);

    if (s->magic_pos < s->magic_len) {
        size_t n = WN_MIN(cap, s->magic_len - s->magic_pos);
        memcpy(buf, s->magic + s->magic_pos, n);
        s->magic_pos += n;
        *got = n;
        return WN_OK;
    }
    if (s->eof) {
        *got = 0;
        return WN_OK;
    }
    ssize_t k = read_fd(s, buf, cap);
    if (k < 0)
        return read_error();
    if (k == 0)
        s->eof = true;
    *got = (size_t)k;
    return WN_OK;
}

int wn__stream_seek_plain(struct wn_stream *s, uint64_t off)
{
    assert(!s->detected && s->magic_len == 0);
    if (off > (uint64_t)INT64_MAX || lseek(s->fd, (off_t)off, SEEK_SET) < 0)
        return WN_EIO;
    s->format = WN_STREAM_PLAIN;
    s->detected = true;
    return WN_OK;
}

int wn__stream_format(const struct wn_stream *s)
{
    return s->format;
}

void wn__stream_close(struct wn_stream *s)
{
    if (!s)
        return;
    if (s->z_ready)
        inflateEnd(&s->z);
    ZSTD_freeDCtx(s->zd);
    wn__free(s->in);
    if (s->close_fd)
        close(s->fd);
    wn__free(s);
}
