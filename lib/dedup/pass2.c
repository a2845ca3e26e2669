/*
 * pass2.c - the second pass of wn_dedup_run, a consumer of the job's fate
 * stream: kept records go to kept.jsonl as the bytes they were read as,
 * removed ones to removed.jsonl, in input order.
 *
 * When every input is an uncompressed JSONL file, kept records are copied
 * by the offsets pass 1 noted, runs of adjacent records in one copy, in
 * the kernel (copy_file_range) where the file systems allow it, without
 * reading them into memory. Otherwise the inputs are read again without
 * parsing (standard input and pipes from the copies pass 1 made) and the
 * records matched to the fates by their order, rejected ones skipped by
 * their ordinals. Either way an input that no longer gives the records of
 * pass 1 stops the run with WN_ECHANGED.
 */
/* The feature macro of copy_file_range, not a name of ours: */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include "dedup/dedup.h"
#include "io/json.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

/* Copy bytes [off, off + len) of in_fd to the end of out_fd: in the
 * kernel (copy_file_range) where the file systems allow it, else through a
 * buffer. */
static int copy_range(int in_fd, int out_fd, uint64_t off, uint64_t len)
{
    bool kernel = true;
    char buf[1 << 16];
    while (len) {
        size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
        ssize_t k = -1;
        if (kernel) {
            loff_t o = (loff_t)off;
            k = copy_file_range(in_fd, &o, out_fd, NULL, want, 0);
            if (k < 0 && (errno == EXDEV || errno == ENOSYS ||
                          errno == EOPNOTSUPP || errno == EINVAL)) {
                kernel = false;
                continue;
            }
        } else {
            k = pread(in_fd, buf, WN_MIN(want, sizeof(buf)), (off_t)off);
            for (ssize_t w = 0; k > 0 && w < k;) {
                ssize_t x = write(out_fd, buf + w, (size_t)(k - w));
                if (x < 0 && errno == EINTR)
                    continue;
                if (x <= 0)
                    return x < 0 ? wn__status_from_errno(errno) : WN_EIO;
                w += x;
            }
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return wn__status_from_errno(errno);
        if (k == 0)
            return WN_ECHANGED; /* the input is shorter than in pass 1 */
        off += (uint64_t)k;
        len -= (uint64_t)k;
    }
    return WN_OK;
}

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
    uint64_t run_off, run_len; /* kept bytes not yet copied */
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
    c->run_off = c->run_len = 0;
    return WN_OK;
}

/* Copy the last run of the open input and close it. */
static int close_input(struct copier *c)
{
    int rc = WN_OK;
    if (c->run_len) {
        /* The last line may lack its line feed: copy what the file has
         * and add it. */
        bool lf = c->run_off + c->run_len > c->size;
        rc = copy_range(c->fd, c->out_fd, c->run_off, c->run_len - lf);
        if (!rc && lf && write(c->out_fd, "\n", 1) != 1)
            rc = wn__status_from_errno(errno);
    }
    close(c->fd);
    c->fd = -1;
    c->run_len = 0;
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
    /* Pass 2 copies without reading: progress by records. */
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
    if (rc)
        return rc;
    uint64_t n = (uint64_t)len + 1;
    if (c->run_len && c->run_off + c->run_len == o) {
        c->run_len += n;
        return WN_OK;
    }
    if (c->run_len)
        rc = copy_range(c->fd, c->out_fd, c->run_off, c->run_len);
    c->run_off = o;
    c->run_len = n;
    return rc;
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
    if (fflush(out->kept->f) != 0)
        rc = wn__status_from_errno(errno);
    c.out_fd = fileno(out->kept->f);
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
