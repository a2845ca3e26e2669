/*
 * kept.c - kept.jsonl written by the ranks that read the records (see
 * kept.h). A kept line is what pass 2 of one process writes (pass2.c): a
 * JSON record's bytes as read and a line feed, a text file's record as
 * {"id": ID, "text": TEXT}. Units are numbered in input order, so the
 * units' kept lines laid end to end at offsets from the sum of the sizes
 * before them are one process's kept.jsonl byte for byte, whichever rank
 * writes which unit and in whatever order the writes land.
 *
 * Cost per rank: 8 bytes of disk per document it read (the lengths), one
 * bit per document of memory (the fates), 8 bytes per unit of the run (the
 * sizes), a write buffer of WRITE_BYTES, and one more reading of its own
 * units.
 */
#include "dist/kept.h"
#include "dist/exchange.h"

#include "io/json.h"
#include "io/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define WRITE_BYTES ((size_t)1 << 20)
#define LEN_BLOCK   4096u

/* WINNOW_TEST_MPI_DIE_WRITE=k: rank k dies once it has written its first
 * kept bytes into the shared output. */
static void maybe_die_writing(int rank)
{
    wn__dist_test_die("WINNOW_TEST_MPI_DIE_WRITE", rank);
}

/* Test hook (tests/cli/test_mpi.sh; only in a -Dtest_hooks=true build):
 * WINNOW_TEST_MPI_WRITE_GATE=PATH makes every rank, before it reads its
 * units again, create PATH.R.ready (R its rank) and wait until PATH.go
 * exists (at most a minute, a hang guard), so that a test can change an
 * input between the two readings at a known point. */
static void write_gate(int rank)
{
#ifdef WN_TEST_HOOKS
    const char *g = getenv("WINNOW_TEST_MPI_WRITE_GATE");
    if (!g || !*g)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s.%d.ready", g, rank);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
    snprintf(path, sizeof(path), "%s.go", g);
    const struct timespec wait = {0, 10000000};
    for (int i = 0; i < 6000 && access(path, F_OK) != 0; i++)
        nanosleep(&wait, NULL);
#else
    (void)rank;
#endif
}

int wn__dist_kept_init(struct wn_dist_kept *k, size_t units, FILE *lens)
{
    memset(k, 0, sizeof(*k));
    k->lens = lens;
    k->units = units;
    k->prints = wn__calloc(units ? units : 1, sizeof(*k->prints));
    k->docs = wn__calloc(units ? units : 1, sizeof(*k->docs));
    return k->prints && k->docs ? WN_OK : WN_ENOMEM;
}

void wn__dist_kept_release(struct wn_dist_kept *k)
{
    for (size_t u = 0; k->prints && u < k->units; u++)
        wn__prints_release(&k->prints[u]);
    wn__free(k->prints);
    wn__free(k->docs);
    if (k->lens)
        fclose(k->lens);
    wn__buf_release(&k->line);
    memset(k, 0, sizeof(*k));
}

int wn__dist_kept_watch(struct wn_dist_kept *k, size_t u, struct wn_reader *r)
{
    return wn__reader_record(r, &k->prints[u]);
}

/* A text file's record as the line kept.jsonl has, in b. */
static int text_line(const struct wn_record *rec, struct wn_buf *b)
{
    b->len = 0;
    int rc = WN_BUF_LIT(b, "{\"id\":");
    if (!rc)
        rc = wn__json_escape(rec->id, rec->id_len, b);
    if (!rc)
        rc = WN_BUF_LIT(b, ",\"text\":");
    if (!rc)
        rc = wn__json_escape(rec->raw, rec->raw_len, b);
    if (!rc)
        rc = WN_BUF_LIT(b, "}\n");
    return rc;
}

/* The bytes of rec's kept line (built in b for a text file's record). */
static int line_bytes(const struct wn_record *rec, struct wn_buf *b,
                      uint64_t *n)
{
    if (rec->kind != WN_RECORD_TEXTFILE) {
        *n = (uint64_t)rec->raw_len + 1;
        return WN_OK;
    }
    int rc = text_line(rec, b);
    *n = b->len;
    return rc;
}

int wn__dist_kept_note(struct wn_dist_kept *k, size_t u,
                       const struct wn_record *rec)
{
    uint64_t n = 0;
    int rc = line_bytes(rec, &k->line, &n);
    if (rc)
        return rc;
    if (fwrite(&n, sizeof(n), 1, k->lens) != 1)
        return wn__status_from_errno(errno);
    k->docs[u]++;
    k->ndocs++;
    return WN_OK;
}

/* The lengths, read again in order. */
struct lens_cursor {
    int fd;
    uint64_t next, base, n; /* next document; block [base, base + n) */
    uint64_t v[LEN_BLOCK];
};

static int lens_next(struct lens_cursor *c, uint64_t limit, uint64_t *len)
{
    if (c->next >= limit)
        return WN_ECHANGED; /* more records than the first reading */
    if (c->next >= c->base + c->n) {
        uint64_t n = WN_MIN((uint64_t)LEN_BLOCK, limit - c->next);
        int rc = wn__pread_full(c->fd, c->v, (size_t)n * sizeof(uint64_t),
                                c->next * sizeof(uint64_t));
        if (rc)
            return rc;
        c->base = c->next;
        c->n = n;
    }
    *len = c->v[c->next++ - c->base];
    return WN_OK;
}

static inline bool bit(const uint8_t *b, uint64_t i)
{
    return b[i >> 3] >> (i & 7) & 1;
}

/* What one rank's writing has reached. */
struct writer {
    int fd, rank;
    const char *path;
    struct wn_dist_fail *f;
    struct wn_buf out; /* bytes for [pos, pos + out.len) */
    uint64_t pos, written;
    bool wrote;
};

static int flush_out(struct writer *w)
{
    if (!w->out.len)
        return WN_OK;
    int rc = wn__pwrite_full(w->fd, w->out.data, w->out.len, w->pos);
    if (rc) {
        w->f->sys_errno = errno;
        snprintf(w->f->path, w->f->path_len, "%s", w->path);
        return rc;
    }
    w->pos += w->out.len;
    w->written += w->out.len;
    w->out.len = 0;
    if (!w->wrote) {
        w->wrote = true;
        maybe_die_writing(w->rank);
    }
    return WN_OK;
}

/* Unit u read again: its kept lines written from offset off, size bytes. */
static int write_unit(struct wn_dist_kept *k, const struct wn_dist_units *un,
                      size_t u, const uint8_t *kept, struct lens_cursor *lc,
                      uint64_t limit, struct writer *w, uint64_t off,
                      uint64_t size, struct wn_dist_fail *f)
{
    struct wn_reader *r = NULL;
    int rc = un->open(un->ud, u, &r);
    if (rc)
        return rc;
    wn__reader_verify(r, &k->prints[u]);
    w->pos = off;
    uint64_t start = w->written, docs = 0;
    struct wn_record rec;
    int got;
    while ((got = wn_reader_next(r, &rec)) > 0) {
        if (rec.status)
            continue; /* rejected in the first reading too, or changed */
        uint64_t want = 0, n = 0;
        uint64_t d = lc->next;
        rc = lens_next(lc, limit, &want);
        if (!rc)
            rc = line_bytes(&rec, &k->line, &n);
        if (!rc && n != want)
            rc = WN_ECHANGED;
        if (rc)
            break;
        docs++;
        if (!bit(kept, d))
            continue;
        if (rec.kind == WN_RECORD_TEXTFILE) {
            rc = wn__buf_append(&w->out, k->line.data, k->line.len);
        } else {
            rc = wn__buf_append(&w->out, rec.raw, rec.raw_len);
            if (!rc)
                rc = wn__buf_putc(&w->out, '\n');
        }
        if (!rc && w->out.len >= WRITE_BYTES)
            rc = flush_out(w);
        if (rc)
            break;
    }
    if (!rc && got < 0)
        rc = got;
    if (!rc)
        rc = flush_out(w);
    if (!rc && (docs != k->docs[u] || w->written - start != size))
        rc = WN_ECHANGED;
    if (rc && !f->path[0]) {
        const char *p = wn_reader_error_path(r);
        snprintf(f->path, f->path_len, "%s", p ? p : un->inputs[un->input[u]]);
    }
    wn_reader_free(r);
    return rc;
}

/* The kept bytes of each of this rank's units, into size (zero for the
 * other ranks' units). */
static int unit_sizes(struct wn_dist_kept *k, const struct wn_dist_units *un,
                      const uint8_t *kept, int rank, uint64_t *size)
{
    struct lens_cursor *lc = wn__calloc(1, sizeof(*lc));
    if (!lc)
        return WN_ENOMEM;
    lc->fd = fileno(k->lens);
    int rc = WN_OK;
    for (size_t u = 0; !rc && u < un->n; u++) {
        if (un->owner[u] != rank)
            continue;
        for (uint64_t i = 0; !rc && i < k->docs[u]; i++) {
            uint64_t d = lc->next, len = 0;
            rc = lens_next(lc, k->ndocs, &len);
            if (!rc && bit(kept, d))
                size[u] += len;
        }
    }
    wn__free(lc);
    return rc;
}

/*
 * *sum on rank 0 = the sum of every rank's *v, waiting sleeping 1 ms
 * between looks: a blocking MPI_Reduce spins in Open MPI, and the ranks
 * that are done would take the cores of those still writing.
 */
static int reduce_sleeping(const uint64_t *v, uint64_t *sum)
{
    MPI_Request req = MPI_REQUEST_NULL;
    int rc = MPI_Ireduce(v, sum, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD,
                         &req) == MPI_SUCCESS
                 ? WN_OK
                 : WN_EIO;
    return wn__dist_wait(&req, rc, true);
}

int wn__dist_kept_write(struct wn_dist_kept *k, const struct wn_dist_units *un,
                        const uint8_t *kept, const char *path, int fd,
                        bool sync, int rank, uint64_t *total,
                        struct wn_dist_fail *f)
{
    uint64_t *size = wn__calloc(un->n ? un->n : 1, sizeof(*size));
    struct lens_cursor *lc = wn__calloc(1, sizeof(*lc));
    struct writer w = {.fd = fd, .rank = rank, .path = path, .f = f};
    int rc = size && lc ? WN_OK : WN_ENOMEM;
    if (!rc && fflush(k->lens) != 0)
        rc = wn__status_from_errno(errno);
    if (!rc)
        rc = unit_sizes(k, un, kept, rank, size);
    /* A rank that failed ends the run (wn_dist_abort); the others wait
     * here until it does. */
    if (!rc && un->n &&
        MPI_Allreduce(MPI_IN_PLACE, size, (int)un->n, MPI_UINT64_T, MPI_SUM,
                      MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    bool opened = false;
    if (!rc && w.fd < 0) {
        w.fd = open(path, O_WRONLY | O_CLOEXEC);
        if (w.fd < 0) {
            f->sys_errno = errno;
            f->unseen = true;
            snprintf(f->path, f->path_len, "%s", path);
            rc = WN_EOPEN;
        }
        opened = w.fd >= 0;
    }
    uint64_t off = 0;
    if (lc)
        lc->fd = fileno(k->lens);
    if (!rc)
        write_gate(rank);
    for (size_t u = 0; !rc && u < un->n; u++) {
        if (un->owner[u] == rank)
            rc = write_unit(k, un, u, kept, lc, k->ndocs, &w, off, size[u], f);
        off += size[u];
    }
    if (!rc && lc->next != k->ndocs)
        rc = WN_EIO; /* the units' documents are not those noted */
    if (!rc && sync && fsync(w.fd) != 0) {
        f->sys_errno = errno;
        snprintf(f->path, f->path_len, "%s", path);
        rc = wn__status_from_errno(errno);
    }
    if (opened && close(w.fd) != 0 && !rc) {
        f->sys_errno = errno;
        snprintf(f->path, f->path_len, "%s", path);
        rc = wn__status_from_errno(errno);
    }
    /* Every rank done: rank 0 publishes only if the bytes add up. */
    uint64_t sum = 0;
    if (!rc)
        rc = reduce_sleeping(&w.written, &sum);
    if (!rc && rank == 0 && sum != off)
        rc = WN_EIO;
    if (!rc && rank == 0)
        *total = off;
    wn__buf_release(&w.out);
    wn__free(lc);
    wn__free(size);
    return rc;
}
