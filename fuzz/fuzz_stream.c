/*
 * fuzz_stream.c - libFuzzer target for the decompressing stream layer
 * (lib/io/stream.c): format detection by magic bytes, gzip members, zstd
 * frames, truncation and corruption.
 *
 * Input: five configuration bytes, then a payload.
 *   byte 0  mode: 0 the payload is the file as it is (whatever the fuzzer
 *           makes of gzip and zstd headers); 1 the payload compressed as
 *           gzip members; 2 as zstd frames; 3 as gzip members with one byte
 *           changed; 4 as zstd frames with one byte changed;
 *   byte 1  members/frames (1..4), zstd checksum flag;
 *   byte 2-3 a cut: the compressed file is truncated to that many bytes
 *           (modulo its length + 1) when bit 7 of byte 1 is set, or the
 *           position of the changed byte in modes 3 and 4;
 *   byte 4  read block size.
 * What must hold, beyond no crash, no hang and no leak:
 *  - the status and the bytes do not depend on the block size (1..4096
 *    against 64 KiB), so nothing depends on where reads end (with one
 *    exception in libzstd, see below);
 *  - a whole compressed payload decodes to exactly the payload;
 *  - a truncated one decodes to a prefix of the payload, and ends cleanly
 *    only when the cut falls between members (or leaves fewer bytes than a
 *    magic number, which is then plain text), else with WN_ETRUNC;
 *  - every call returns at most the bytes asked for, and the loop ends.
 */
#include "fuzz_util.h"

#include "common/common.h"
#include "io/stream.h"

#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#define KEEP_MAX ((size_t)1 << 20) /* output bytes kept for comparing */

struct decoded {
    int status;
    uint64_t total;      /* bytes produced before the end or the error */
    uint64_t digest;     /* XXH64 of all of them */
    unsigned char *keep; /* the first KEEP_MAX of them */
    size_t kept;
};

static void decode(const char *path, size_t block, size_t file_size,
                   struct decoded *d)
{
    memset(d, 0, sizeof(*d));
    d->keep = malloc(KEEP_MAX);
    FZ_CHECK(d->keep != NULL);
    struct wn_stream *s = NULL;
    FZ_CHECK(wn__stream_open(path, block, &s) == WN_OK);
    XXH64_state_t *h = XXH64_createState();
    FZ_CHECK(h != NULL);
    XXH64_reset(h, 0);
    size_t cap = WN_MAX(block, (size_t)16);
    unsigned char *buf = malloc(cap);
    FZ_CHECK(buf != NULL);
    /* Every call consumes input or produces output, so the number of calls
     * is bounded by the bytes in and out; allow a wide margin. */
    uint64_t calls = 0;
    for (;;) {
        size_t got = 0;
        int rc = wn__stream_read(s, buf, cap, &got);
        FZ_CHECK(++calls <= 4 * (file_size + d->total) + 64);
        if (rc) {
            FZ_CHECK(rc == WN_ETRUNC);
            d->status = rc;
            break;
        }
        FZ_CHECK(got <= cap && got <= block);
        if (got == 0)
            break;
        XXH64_update(h, buf, got);
        if (d->kept < KEEP_MAX) {
            size_t k = WN_MIN(got, KEEP_MAX - d->kept);
            memcpy(d->keep + d->kept, buf, k);
            d->kept += k;
        }
        d->total += got;
    }
    d->digest = XXH64_digest(h);
    XXH64_freeState(h);
    free(buf);
    wn__stream_close(s);
}

/* A zstd frame or skippable frame at the start. */
static bool is_zstd(const unsigned char *m, size_t n)
{
    return n >= 4 && (memcmp(m, "\x28\xb5\x2f\xfd", 4) == 0 ||
                      ((m[0] & 0xf0) == 0x50 && m[1] == 0x2a && m[2] == 0x4d &&
                       m[3] == 0x18));
}

/* Compress payload as k gzip members or zstd frames into *out; member
 * boundaries (offsets in the output, and in the payload) into ends. */
static size_t compress_members(int zstd, int checksum, const uint8_t *p,
                               size_t n, unsigned k, unsigned char **out,
                               size_t *cends, size_t *pends)
{
    size_t cap =
        64 + 2 * n + k * 64 + ZSTD_compressBound(n) + compressBound((uLong)n);
    unsigned char *o = malloc(cap);
    FZ_CHECK(o != NULL);
    size_t len = 0, from = 0;
    for (unsigned i = 0; i < k; i++) {
        size_t to = i + 1 == k ? n : from + (n - from) / (k - i);
        if (zstd) {
            ZSTD_CCtx *cc = ZSTD_createCCtx();
            FZ_CHECK(cc != NULL);
            ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
            ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, checksum);
            size_t z =
                ZSTD_compress2(cc, o + len, cap - len, p + from, to - from);
            FZ_CHECK(!ZSTD_isError(z));
            ZSTD_freeCCtx(cc);
            len += z;
        } else {
            z_stream z;
            memset(&z, 0, sizeof(z));
            FZ_CHECK(deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8,
                                  Z_DEFAULT_STRATEGY) == Z_OK);
            z.next_in = (Bytef *)(p + from);
            z.avail_in = (uInt)(to - from);
            z.next_out = o + len;
            z.avail_out = (uInt)(cap - len);
            FZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
            len = cap - z.avail_out;
            deflateEnd(&z);
        }
        cends[i] = len;
        pends[i] = to;
        from = to;
    }
    *out = o;
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t blocks[8] = {1, 2, 3, 7, 64, 512, 4096, 65536};
    struct fz_input in = {data, size};
    unsigned mode = fz_byte(&in) % 5;
    uint8_t b1 = fz_byte(&in);
    unsigned cut = (unsigned)fz_byte(&in) << 8;
    cut |= fz_byte(&in);
    size_t block = blocks[fz_byte(&in) & 7];
    if (in.n > 65536)
        return 0; /* compressing more teaches nothing new */

    unsigned k = 1 + (b1 & 3);
    int zstd = mode == 2 || mode == 4;
    unsigned char *file = NULL;
    size_t flen, cends[4], pends[4];
    bool truncated = false;
    if (mode == 0) {
        file = (unsigned char *)fz_dup(in.p, in.n);
        flen = in.n;
    } else {
        flen = compress_members(zstd, (b1 >> 2) & 1, in.p, in.n, k, &file,
                                cends, pends);
        size_t pos = cut % (flen + 1);
        if (mode >= 3 && pos < flen) {
            file[pos] ^= (unsigned char)(1u + (b1 >> 3));
        } else if (mode < 3 && (b1 & 0x80) && pos < flen) {
            flen = pos;
            truncated = true;
        }
    }

    struct fz_file f;
    fz_file_open(&f, file, flen);
    struct decoded x, y;
    decode(f.path, block, flen, &x);
    decode(f.path, 65536, flen, &y);
    if (x.status != y.status && is_zstd(file, flen)) {
        /* libzstd's streaming decoder checks a frame's declared content
         * size only when the frame comes in one piece: fed a byte at a
         * time, a frame whose header claims more bytes than its blocks
         * hold ends cleanly (zstd 1.5.4;
         * fuzz/corpus/stream/zstd-content-size-fed-bytewise). Then the
         * pass that saw the error delivered a prefix of the other's bytes:
         * nothing is invented, the data is the same. */
        const struct decoded *bad = x.status ? &x : &y;
        const struct decoded *good = x.status ? &y : &x;
        FZ_CHECK(good->status == WN_OK && bad->total <= good->total);
        FZ_CHECK(
            bad->kept <= good->kept &&
            (bad->kept == 0 || memcmp(bad->keep, good->keep, bad->kept) == 0));
    } else {
        FZ_CHECK(x.status == y.status);
        FZ_CHECK(x.status != WN_OK ||
                 (x.total == y.total && x.digest == y.digest));
    }

    if (mode == 1 || mode == 2) {
        size_t magic = zstd ? 4 : 2;
        bool plain = truncated && flen < magic;
        /* Decoded bytes are a prefix of the payload, unless the cut left
         * too little to recognize: then they are the file, read as plain. */
        FZ_CHECK(x.kept == x.total);
        if (plain) {
            FZ_CHECK(x.status == WN_OK && x.total == flen);
        } else {
            FZ_CHECK(x.total <= in.n);
            FZ_CHECK(x.total == 0 || memcmp(x.keep, in.p, x.total) == 0);
        }
        if (!truncated) {
            FZ_CHECK(x.status == WN_OK && x.total == in.n);
        } else if (!plain) {
            /* A clean end only between members. */
            bool boundary = false;
            size_t upto = 0;
            for (unsigned i = 0; i < k; i++) {
                if (cends[i] == flen) {
                    boundary = true;
                    upto = pends[i];
                }
            }
            if (boundary)
                FZ_CHECK(x.status == WN_OK && x.total == upto);
            else
                FZ_CHECK(x.status == WN_ETRUNC);
        }
    }
    free(x.keep);
    free(y.keep);
    free(file);
    fz_file_close(&f);
    return 0;
}
