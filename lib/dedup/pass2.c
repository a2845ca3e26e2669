/*
 * pass2.c - the second pass of wn_dedup_run, a consumer of the job's fate
 * stream: kept records go to kept.jsonl as the bytes they were read as,
 * removed ones to removed.jsonl, in input order.
 *
 * When every input is an uncompressed JSONL file, kept records are copied
 * by the offsets pass 1 noted, without parsing: the input is read in
 * blocks of COPY_BLOCK bytes starting at a kept record (through the
 * removed records between kept ones: they are a few in ten), and the kept
 * bytes of a block are written with one writev. Otherwise the inputs are
 * read again without parsing (standard input and pipes from the copies
 * pass 1 made) and the records matched to the fates by their order,
 * rejected ones skipped by their ordinals. Either way an input that no
 * longer gives the records of pass 1 stops the run with WN_ECHANGED.
 *
 * The blocks replace one copy_file_range per run of adjacent kept records
 * (about 15 KB, 72,000 calls on the generated 1 GB corpus): on ext4 each
 * of those went through a pipe and zeroed the rest of every new page
 * cache folio it started, and cost more than reading the bytes once more.
 * Where the outputs are fsync'ed, the writeback of every COPY_SYNC bytes
 * written is started at once (sync_file_range), so that the disk writes
 * kept.jsonl while pass 2 runs instead of in the fsync after it.
 */
/* The feature macro of sync_file_range, not a name of ours: */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include "dedup/dedup.h"
#include "io/json.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int write_removed(const struct wn_dedup_job *j,
                         const struct wn_pass2_out *out,
                         const struct wn_fate *f, struct wn_buf *b)
{
    b->len = 0;
    int rc = wn__removed_line(&j->sk, f, b);
    return rc ? rc : wn__outfile_write(out->removed, b->data, b->len);
}

/* ------------------------------------------------------------------------ */
/* Copying by offsets                                                        */
/* ------------------------------------------------------------------------ */

#define PLACE_BLOCK 4096u
/* The input block: large enough that a write is many records and a page
 * cache folio is rarely started by a partial write, small beside the
 * run's peak (the verification stage's windows). */
#define COPY_BLOCK (1u << 20)
/* Kept pieces of one block (adjacent kept records are one piece). */
#define COPY_IOV 256u
/* Written bytes whose writeback is started together. */
#define COPY_SYNC (8u << 20)

struct copier {
    struct wn_dedup_job *j;
    struct wn_frame *f;
    const struct wn_input_map *m;
    const struct wn_pass2_out *out;
    int out_fd;
    size_t next_input; /* inputs opened so far */
    uint64_t end;      /* first document after the open input */
    int fd;            /* the open input, or -1 */
    uint64_t size;
    /* Bytes [boff, boff + blen) of the open input, and the kept pieces of
     * them not yet written. */
    uint8_t *blk;
    uint64_t boff;
    size_t blen;
    struct iovec iov[COPY_IOV];
    unsigned niov;
    bool sync;               /* start the writeback as we go */
    uint64_t wrote, flushed; /* kept.jsonl's bytes, those sent to the disk */
    struct wn_buf b;
    /* Places of documents [pbase, pbase + pn), read from the spill in
     * blocks: the fates come in document order. */
    unsigned char pbuf[PLACE_BLOCK * WN_PLACE_BYTES];
    uint64_t pbase, pn;
};

/* Where document d's record is, from the block that holds it. */
static int place_of(struct copier *c, uint64_t d, uint64_t *off, uint32_t *len)
{
    if (d < c->pbase || d >= c->pbase + c->pn) {
        const struct wn_input_map *m = c->m;
        if (!m->places || d >= m->nplaces)
            return WN_EINVAL;
        uint64_t n = WN_MIN((uint64_t)PLACE_BLOCK, m->nplaces - d);
        int rc = wn__pread_full(fileno(m->places), c->pbuf,
                                (size_t)n * WN_PLACE_BYTES, d * WN_PLACE_BYTES);
        if (rc)
            return rc;
        c->pbase = d;
        c->pn = n;
    }
    const unsigned char *e = c->pbuf + (d - c->pbase) * WN_PLACE_BYTES;
    *off = wn__get_le64(e);
    *len = wn__get_le32(e + 8);
    return WN_OK;
}

/* Writes the pending pieces to kept.jsonl. */
static int flush_pieces(struct copier *c)
{
    struct iovec *v = c->iov;
    unsigned n = c->niov;
    c->niov = 0;
    while (n) {
        ssize_t k = writev(c->out_fd, v, (int)n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) /* the message names kept.jsonl */
            return wn__outfile_fail(c->out->kept, k < 0 ? errno : EIO);
        /* A short write: skip what went out. */
        size_t done = (size_t)k;
        while (n && done >= v->iov_len) {
            done -= v->iov_len;
            v++;
            n--;
        }
        if (n) {
            v->iov_base = (uint8_t *)v->iov_base + done;
            v->iov_len -= done;
        }
        c->wrote += (uint64_t)k;
    }
#ifdef SYNC_FILE_RANGE_WRITE
    /* Advice: an error shows in the fsync that follows. */
    if (c->sync && c->wrote - c->flushed >= COPY_SYNC) {
        (void)sync_file_range(c->out_fd, (off_t)c->flushed,
                              (off_t)(c->wrote - c->flushed),
                              SYNC_FILE_RANGE_WRITE);
        c->flushed = c->wrote;
    }
#endif
    return WN_OK;
}

static int add_piece(struct copier *c, const void *p, size_t n)
{
    if (c->niov) {
        struct iovec *last = &c->iov[c->niov - 1];
        if ((const uint8_t *)last->iov_base + last->iov_len ==
            (const uint8_t *)p) {
            last->iov_len += n;
            return WN_OK;
        }
    }
    if (c->niov == COPY_IOV) {
        int rc = flush_pieces(c);
        if (rc)
            return rc;
    }
    c->iov[c->niov].iov_base = (void *)(uintptr_t)p;
    c->iov[c->niov].iov_len = n;
    c->niov++;
    return WN_OK;
}

/* Reads up to COPY_BLOCK bytes of the open input from off into the block
 * (after writing what the block held): at least `need` of them, or the
 * input is shorter than in pass 1. */
static int fill_block(struct copier *c, uint64_t off, size_t need)
{
    int rc = flush_pieces(c);
    if (rc)
        return rc;
    size_t want =
        (size_t)WN_MIN((uint64_t)COPY_BLOCK, off < c->size ? c->size - off : 0);
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread(c->fd, c->blk + got, want - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            wn__frame_error_path(c->f, c->f->inputs[c->next_input - 1]);
            return wn__status_from_errno(errno);
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    c->boff = off;
    c->blen = got;
    return got < need ? WN_ECHANGED : WN_OK;
}

/* Copies the record at [o, o + n) of the open input (its line feed
 * included, n > 0) to kept.jsonl. The last line of a file may lack its
 * line feed: what the file has is copied and one is added. */
static int copy_record(struct copier *c, uint64_t o, uint64_t n)
{
    static const char lf[] = "\n";
    bool add_lf = o + n > c->size;
    if (add_lf)
        n--;
    int rc = WN_OK;
    while (n && !rc) {
        if (o < c->boff || o >= c->boff + c->blen) {
            rc = fill_block(c, o, (size_t)WN_MIN(n, (uint64_t)COPY_BLOCK));
            if (rc)
                break;
        }
        /* A record longer than the block goes out a block at a time. */
        size_t k = (size_t)WN_MIN(n, c->boff + c->blen - o);
        rc = add_piece(c, c->blk + (o - c->boff), k);
        o += k;
        n -= k;
    }
    if (!rc && add_lf)
        rc = add_piece(c, lf, 1);
    return rc;
}

static int open_input(struct copier *c, size_t i)
{
    int rc = WN_OK;
    int fd = open(c->f->inputs[i], O_RDONLY | O_CLOEXEC);
    struct stat st;
    const struct stat *was = &c->m->in_stat[i];
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = WN_EOPEN;
    } else if (st.st_size != was->st_size ||
               st.st_mtim.tv_sec != was->st_mtim.tv_sec ||
               st.st_mtim.tv_nsec != was->st_mtim.tv_nsec) {
        rc = WN_ECHANGED;
    }
    if (rc) {
        snprintf(c->f->error_path, sizeof(c->f->error_path), "%s",
                 c->f->inputs[i]);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    c->fd = fd;
    c->size = (uint64_t)st.st_size;
    c->boff = c->blen = 0;
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return WN_OK;
}

/* Writes what is left of the open input and closes it: the pieces point
 * into its block. */
static int close_input(struct copier *c)
{
    int rc = flush_pieces(c);
    close(c->fd);
    c->fd = -1;
    c->blen = 0;
    return rc;
}

/* Make the input holding document d (or, d = UINT64_MAX, none) the open
 * one, checking every input passed on the way. */
static int advance(struct copier *c, uint64_t d)
{
    while (d >= c->end) {
        int rc = c->fd >= 0 ? close_input(c) : WN_OK;
        if (rc)
            return rc;
        if (c->next_input == c->m->ninputs)
            return d == UINT64_MAX ? WN_OK : WN_ECHANGED;
        size_t i = c->next_input++;
        rc = open_input(c, i);
        if (rc)
            return rc;
        c->end += c->m->in_docs[i];
    }
    return WN_OK;
}

static int copy_fate(void *ud, const struct wn_fate *f)
{
    struct copier *c = ud;
    /* Pass 2 copies without parsing: progress by records. */
    if ((f->index & 4095) == 0)
        wn__frame_stage(c->f, "write", "records", f->index, c->j->docs.n);
    int rc = advance(c, f->index);
    if (!rc && c->out->obs && c->out->obs->fate)
        rc = c->out->obs->fate(c->out->obs->ud, f, NULL);
    if (rc)
        return rc;
    if (f->removed)
        return write_removed(c->j, c->out, f, &c->b);
    uint64_t o;
    uint32_t len;
    rc = place_of(c, f->index, &o, &len);
    return rc ? rc : copy_record(c, o, (uint64_t)len + 1);
}

int wn__pass2_copy(struct wn_dedup_job *j, struct wn_frame *f,
                   const struct wn_input_map *m, const struct wn_pass2_out *out)
{
    struct copier c;
    memset(&c, 0, sizeof(c));
    c.j = j;
    c.f = f;
    c.m = m;
    c.out = out;
    c.fd = -1;
    int rc = WN_OK;
    c.blk = wn__malloc(COPY_BLOCK);
    if (!c.blk)
        rc = WN_ENOMEM;
    if (!rc && fflush(out->kept->f) != 0)
        rc = wn__status_from_errno(errno);
    c.out_fd = fileno(out->kept->f);
    c.sync = f->od.sync;
    if (!rc) {
        off_t at = lseek(c.out_fd, 0, SEEK_CUR);
        c.wrote = c.flushed = at > 0 ? (uint64_t)at : 0;
    }
    if (!rc)
        rc = wn__dedup_job_fates(j, copy_fate, &c);
    /* The inputs after the last document are checked too. */
    if (!rc)
        rc = advance(&c, UINT64_MAX);
    if (c.fd >= 0)
        close(c.fd);
    if (rc && rc != WN_EINTR && rc != WN_ECHANGED && !out->kept->err)
        out->kept->err = rc;
    wn__buf_release(&c.b);
    wn__free(c.blk);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Reading again                                                             */
/* ------------------------------------------------------------------------ */

struct rereader {
    struct wn_dedup_job *j;
    struct wn_frame *f;
    const struct wn_input_map *m;
    const struct wn_pass2_out *out;
    struct wn_reader *r;
    uint64_t unit; /* records read */
    size_t ri;     /* rejected records passed */
    struct wn_buf b;
};

/* The next record that is not a rejected one: 1, 0 at the end, or a
 * status. */
static int next_accepted(struct rereader *x, struct wn_record *rec)
{
    for (;;) {
        int got = wn_reader_next(x->r, rec);
        if (got <= 0)
            return got;
        uint64_t u = x->unit++;
        if (x->ri < x->m->nrej && x->m->rej[x->ri] == u) {
            x->ri++;
            continue;
        }
        return 1;
    }
}

static int reread_fate(void *ud, const struct wn_fate *f)
{
    struct rereader *x = ud;
    struct wn_record rec;
    int got = next_accepted(x, &rec);
    if (got <= 0)
        return got < 0 ? got : WN_ECHANGED;
    if (x->out->obs && x->out->obs->fate) {
        int orc = x->out->obs->fate(x->out->obs->ud, f, &rec);
        if (orc)
            return orc;
    }
    if (f->removed)
        return write_removed(x->j, x->out, f, &x->b);
    struct wn_buf *b = &x->b;
    int rc;
    if (rec.kind == WN_RECORD_TEXTFILE) {
        b->len = 0;
        rc = WN_BUF_LIT(b, "{\"id\":");
        if (!rc)
            rc = wn__json_escape(f->id, f->id_len, b);
        if (!rc)
            rc = WN_BUF_LIT(b, ",\"text\":");
        if (!rc)
            rc = wn__json_escape(rec.raw, rec.raw_len, b);
        if (!rc)
            rc = WN_BUF_LIT(b, "}\n");
        if (!rc)
            rc = wn__outfile_write(x->out->kept, b->data, b->len);
    } else {
        rc = wn__outfile_write(x->out->kept, rec.raw, rec.raw_len);
        if (!rc)
            rc = wn__outfile_write(x->out->kept, "\n", 1);
    }
    return rc;
}

int wn__pass2_read(struct wn_dedup_job *j, struct wn_frame *f,
                   const struct wn_input_map *m, const struct wn_pass2_out *out)
{
    struct rereader x;
    memset(&x, 0, sizeof(x));
    x.j = j;
    x.f = f;
    x.m = m;
    x.out = out;
    int rc = wn__frame_reopen(f, true, &x.r);
    if (rc)
        return rc;
    rc = wn__dedup_job_fates(j, reread_fate, &x);
    if (!rc) {
        /* Nothing but rejected records may follow the last document. */
        struct wn_record rec;
        int got = next_accepted(&x, &rec);
        if (got < 0) {
            rc = got;
        } else if (got > 0) {
            rc = WN_ECHANGED;
            snprintf(f->error_path, sizeof(f->error_path), "%s",
                     rec.source ? rec.source : "");
        } else if (x.ri != m->nrej) {
            rc = WN_ECHANGED;
        }
    }
    if (rc && !f->error_path[0] && wn_reader_error_path(x.r))
        wn__frame_reader_error(f, x.r); /* e.g. an input changed */
    wn__buf_release(&x.b);
    wn_reader_free(x.r);
    return rc;
}
