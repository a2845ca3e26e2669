/*
 * dist.c - winnow dedup across MPI ranks (see dist.h). The wire format of
 * what a rank sends rank 0: messages of tag TAG_RECORDS, each a sequence
 * of entries in input order (native byte order: every rank runs the same
 * binary on the same architecture):
 *
 *   ENTRY_RECORD  the record's header (wire.h: its place, status and the
 *                 lengths of what follows, about 8 bytes), then source
 *                 (unless that of the
 *                 record before it in the unit), id, the raw bytes of a
 *                 rejected record (at most RAW_REJECTED: rejected.jsonl
 *                 shows them), the sketch of an accepted one in its
 *                 slim form (thin, below; an
 *                 accepted record's bytes stay on its rank, which writes
 *                 its kept line: kept.h) and, under --keep max, its keep
 *                 value (a double)
 *   ENTRY_END     struct wire_end: the unit is done (its bytes, blank
 *                 lines)
 *
 * A message ends after an ENTRY_END or when it holds MESSAGE_BYTES or
 * more. The run's units (struct plan: a whole input, or one byte range of
 * an uncompressed JSONL file) are taken by rank 0 in order, each from the
 * rank that reads it; MPI keeps the order of messages between two ranks,
 * so one stream per rank suffices. Then every rank takes part in the band
 * join (exchange.c), through the job's join hook on rank 0 (gather_join)
 * and remote_rank on the others. Once rank 0 has decided, its write hook
 * (gather_write) sends every other rank one message of tag TAG_FATES:
 * struct wire_fates, the temporary kept.jsonl's path, and one bit per
 * document of that rank (set: kept); then every rank writes its kept lines
 * (kept.c) and rank 0 publishes.
 */
#include "dist/dist.h"
#include "dist/exact.h"
#include "dist/exchange.h"
#include "dist/kept.h"
#include "dist/rulejoin.h"
#include "dist/verdicts.h"
#include "dist/slim.h"
#include "dist/wire.h"

#include "dedup/dedup.h"
#include "io/reader.h"
#include "io/spill.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { TAG_RECORDS = 17, TAG_FATES = 19 };
enum { ENTRY_RECORD = 1, ENTRY_END = 2 };

#define MESSAGE_BYTES ((size_t)4 << 20)
/* More than the 64 KiB that rejected.jsonl shows of a rejected record. */
#define RAW_REJECTED ((size_t)80 << 10)

struct wire_end {
    uint64_t bytes, blank_lines;
};

struct wire_fates {
    uint64_t path_len, ndocs; /* then the path, then ndocs bits */
};

/* WINNOW_TEST_MPI_DIE_RANK=k: rank k dies once it has sent (or, rank 0,
 * taken) its first message. */
static void maybe_die(int rank)
{
    wn__dist_test_die("WINNOW_TEST_MPI_DIE_RANK", rank);
}

static int mpi_up(int *rank, int *size)
{
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return WN_EIO;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return WN_OK;
}

/* ------------------------------------------------------------------------ */
/* The plan: which rank reads what                                           */
/* ------------------------------------------------------------------------ */

/*
 * The units of the run in input order: an uncompressed JSONL file is cut
 * into P byte ranges at line boundaries (reader.h), range k read by rank k;
 * any other input (compressed, a directory, a .txt file) is one unit, read
 * whole by rank i % P. Rank 0 decides which inputs are cut and tells the
 * others, so that every rank has the same plan.
 */
struct plan {
    size_t n;         /* units */
    uint32_t *input;  /* of each unit */
    int *owner;       /* rank reading it */
    bool *ranged;     /* a byte range */
    uint64_t *begin;  /* the range */
    uint64_t *end;    /* the range */
    uint64_t *lines0; /* lines before the range (this rank's units) */
};

static void plan_release(struct plan *p)
{
    wn__free(p->input);
    wn__free(p->owner);
    wn__free(p->ranged);
    wn__free(p->begin);
    wn__free(p->end);
    wn__free(p->lines0);
    memset(p, 0, sizeof(*p));
}

/* The plan, and the line numbers where this rank's ranges start (an
 * exclusive scan of the lines each rank counts in its ranges). error_path
 * names an input whose lines cannot be counted. */
static int plan_make(struct plan *p, const char *const *inputs, size_t n,
                     int rank, int size, char *error_path, size_t error_len)
{
    memset(p, 0, sizeof(*p));
    uint64_t *sizes = wn__calloc(n ? n : 1, sizeof(*sizes));
    if (!sizes)
        return WN_ENOMEM;
    for (size_t i = 0; rank == 0 && i < n; i++)
        if (!wn__reader_splittable(inputs[i], &sizes[i]))
            sizes[i] = UINT64_MAX;
    /* A rank failing before this point aborts the run: no rank waits. */
    if (n && MPI_Bcast(sizes, (int)n, MPI_UINT64_T, 0, MPI_COMM_WORLD) !=
                 MPI_SUCCESS) {
        wn__free(sizes);
        return WN_EIO;
    }
    size_t units = 0, nsplit = 0;
    for (size_t i = 0; i < n; i++) {
        units += sizes[i] == UINT64_MAX ? 1 : (size_t)size;
        nsplit += sizes[i] != UINT64_MAX;
    }
    p->input = wn__calloc(units ? units : 1, sizeof(*p->input));
    p->owner = wn__calloc(units ? units : 1, sizeof(*p->owner));
    p->ranged = wn__calloc(units ? units : 1, sizeof(*p->ranged));
    p->begin = wn__calloc(units ? units : 1, sizeof(*p->begin));
    p->end = wn__calloc(units ? units : 1, sizeof(*p->end));
    p->lines0 = wn__calloc(units ? units : 1, sizeof(*p->lines0));
    uint64_t *mine = wn__calloc(nsplit ? nsplit : 1, sizeof(*mine));
    uint64_t *before = wn__calloc(nsplit ? nsplit : 1, sizeof(*before));
    int rc = p->input && p->owner && p->ranged && p->begin && p->end &&
                     p->lines0 && mine && before
                 ? WN_OK
                 : WN_ENOMEM;
    size_t u = 0, sp = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (sizes[i] == UINT64_MAX) {
            p->input[u] = (uint32_t)i;
            p->owner[u] = (int)(i % (size_t)size);
            u++;
            continue;
        }
        for (int k = 0; k < size; k++, u++) {
            p->input[u] = (uint32_t)i;
            p->owner[u] = k;
            p->ranged[u] = true;
            /* sizes[i] * k / size without overflow */
            p->begin[u] =
                sizes[i] / (uint64_t)size * (uint64_t)k +
                sizes[i] % (uint64_t)size * (uint64_t)k / (uint64_t)size;
            p->end[u] =
                sizes[i] / (uint64_t)size * (uint64_t)(k + 1) +
                sizes[i] % (uint64_t)size * (uint64_t)(k + 1) / (uint64_t)size;
            if (k == rank) {
                rc = wn__reader_count_lines(inputs[i], p->begin[u], p->end[u],
                                            &mine[sp]);
                if (rc) {
                    snprintf(error_path, error_len, "%s", inputs[i]);
                    break;
                }
            }
        }
        sp++;
    }
    p->n = units;
    /* A rank that failed aborts the run (the caller); the others wait in
     * the scan until it does. */
    if (!rc && nsplit &&
        MPI_Exscan(mine, before, (int)nsplit, MPI_UINT64_T, MPI_SUM,
                   MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    sp = 0;
    for (u = 0; !rc && u < p->n; u++) {
        if (!p->ranged[u])
            continue;
        if (p->owner[u] == rank)
            p->lines0[u] = rank == 0 ? 0 : before[sp];
        if (p->owner[u] == size - 1)
            sp++;
    }
    wn__free(mine);
    wn__free(before);
    wn__free(sizes);
    return rc;
}

/* A reader of unit u. */
static int open_unit(const struct plan *p, size_t u, const char *const *inputs,
                     const struct wn_reader_options *ro, volatile int *cancel,
                     struct wn_reader **r)
{
    size_t bad = 0;
    int rc = wn_reader_create(&inputs[p->input[u]], 1, ro, r, &bad);
    if (rc)
        return rc;
    wn__reader_set_cancel(*r, cancel);
    if (p->ranged[u])
        wn__reader_set_range(*r, p->begin[u], p->end[u], p->lines0[u]);
    return WN_OK;
}

/* The plan's units for kept.c, each opened as open_unit does. */
struct opener {
    const struct plan *pl;
    const char *const *inputs;
    const struct wn_reader_options *ro;
    volatile int *cancel;
};

static int opener_open(void *ud, size_t u, struct wn_reader **r)
{
    const struct opener *op = ud;
    return open_unit(op->pl, u, op->inputs, op->ro, op->cancel, r);
}

static struct wn_dist_units plan_units(const struct plan *pl, struct opener *op)
{
    struct wn_dist_units un = {
        .n = pl->n,
        .owner = pl->owner,
        .input = pl->input,
        .inputs = op->inputs,
        .open = opener_open,
        .ud = op,
    };
    return un;
}

/* Where a rank's spill files go. */
static const char *spill_dir(const struct wn_dedup_options *o)
{
    const char *dir = o->tmp_dir ? o->tmp_dir : getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

/* ------------------------------------------------------------------------ */
/* Ranks other than 0: read, sketch, send                                    */
/* ------------------------------------------------------------------------ */

/*
 * The messages of a rank other than 0, sent without waiting for rank 0
 * (issue 17). Rank 0 takes a rank's messages only when its pass 1 reaches
 * that rank's units, after it has read and sketched its own, and a
 * blocking MPI_Send of a message past Open MPI's eager limit returns only
 * once the matching receive is posted: a rank sending that way read one
 * message ahead, then slept through rank 0's half of the reading.
 *
 * So a finished message goes out by MPI_Isend straight from its buffer
 * when fewer than OUTBOX_SLOTS sends are in flight and no older message
 * waits; otherwise it is appended to an unnamed spill file, the backlog
 * (a le64 length, then the message), and every send that completes
 * (MPI_Testsome between records, outbox_pump) frees its buffer for the
 * oldest message of the backlog, read back into it and sent. Hence:
 * - messages are posted in the order they were made, and MPI does not let
 *   messages from one rank with one tag overtake each other, which is what
 *   rank 0 relies on (its pass 1 takes a rank's stream in input order);
 * - memory holds at most OUTBOX_SLOTS messages and the one being filled,
 *   whatever rank 0 does: what it has not taken waits on disk, not in an
 *   in-memory queue that could grow with the input;
 * - while rank 0 keeps up, the backlog stays empty and nothing touches
 *   the disk; two sends in flight let rank 0 find the next message posted
 *   while it decodes one.
 * The spill file is written and read with pwrite and pread, whole
 * messages at a time, so its stdio buffer is never used. Before the join,
 * outbox_drain waits for the backlog and the sends in flight, sleeping
 * between tests rather than spinning in MPI_Wait: rank 0 is busy then,
 * taking these very messages, and a spinning rank takes a core from it on
 * a loaded machine.
 */
#define OUTBOX_SLOTS 2

struct outbox {
    FILE *spill;                     /* the backlog */
    uint64_t head, end;              /* its oldest message; its end */
    uint64_t waiting;                /* messages in it */
    struct wn_buf buf[OUTBOX_SLOTS]; /* of the sends in flight */
    MPI_Request req[OUTBOX_SLOTS];   /* MPI_REQUEST_NULL: slot free */
    uint64_t messages, spilled;      /* made; of those, through the spill */
    double read_seconds;             /* from open to the last message made */
};

static int outbox_open(struct outbox *ob, const char *dir,
                       struct wn_io_note *note)
{
    memset(ob, 0, sizeof(*ob));
    for (int i = 0; i < OUTBOX_SLOTS; i++)
        ob->req[i] = MPI_REQUEST_NULL;
    ob->spill = wn__spill_create(dir, "messages", 0, note);
    return ob->spill ? WN_OK : WN_EOPEN;
}

/* After outbox_drain, or after a failure: the caller then ends the run
 * with wn_dist_abort, and a send still in flight keeps its buffer (freed
 * under it, rank 0 could still be copying from it). */
static void outbox_release(struct outbox *ob)
{
    if (ob->spill)
        fclose(ob->spill);
    for (int i = 0; i < OUTBOX_SLOTS; i++)
        if (ob->req[i] == MPI_REQUEST_NULL)
            wn__buf_release(&ob->buf[i]);
    memset(ob, 0, sizeof(*ob));
}

static int outbox_isend(struct outbox *ob, int i)
{
    assert(ob->req[i] == MPI_REQUEST_NULL);
    if (ob->buf[i].len > INT_MAX)
        return WN_ETOOBIG; /* one MPI message per record at most */
    if (MPI_Isend(ob->buf[i].data, (int)ob->buf[i].len, MPI_BYTE, 0,
                  TAG_RECORDS, MPI_COMM_WORLD, &ob->req[i]) != MPI_SUCCESS)
        return WN_EIO;
    return WN_OK;
}

/* A free slot, or -1. */
static int outbox_free_slot(const struct outbox *ob)
{
    for (int i = 0; i < OUTBOX_SLOTS; i++)
        if (ob->req[i] == MPI_REQUEST_NULL)
            return i;
    return -1;
}

/* No send in flight. */
static bool outbox_idle(const struct outbox *ob)
{
    for (int i = 0; i < OUTBOX_SLOTS; i++)
        if (ob->req[i] != MPI_REQUEST_NULL)
            return false;
    return true;
}

/* Completes the sends that rank 0 has taken (and lets MPI progress those
 * it is taking), and sends the oldest waiting messages in the slots they
 * free. *moved: whether any send completed. */
static int outbox_pump(struct outbox *ob, bool *moved)
{
    *moved = false;
    int done = 0, idx[OUTBOX_SLOTS];
    if (!outbox_idle(ob)) {
        if (MPI_Testsome(OUTBOX_SLOTS, ob->req, &done, idx,
                         MPI_STATUSES_IGNORE) != MPI_SUCCESS)
            return WN_EIO;
        *moved = done > 0 && done != MPI_UNDEFINED;
    }
    int i;
    while (ob->waiting && (i = outbox_free_slot(ob)) >= 0) {
        int fd = fileno(ob->spill);
        unsigned char h[8];
        int rc = wn__pread_full(fd, h, sizeof(h), ob->head);
        uint64_t n = rc ? 0 : wn__get_le64(h);
        if (!rc && (ob->end - ob->head < sizeof(h) ||
                    n > ob->end - ob->head - sizeof(h)))
            rc = WN_EIO; /* not what outbox_put wrote */
        struct wn_buf *b = &ob->buf[i];
        b->len = 0;
        if (!rc)
            rc = wn__buf_reserve(b, n ? (size_t)n : 1);
        if (!rc)
            rc = wn__pread_full(fd, b->data, (size_t)n, ob->head + sizeof(h));
        if (rc)
            return rc;
        b->len = (size_t)n;
        ob->head += sizeof(h) + n;
        if (--ob->waiting == 0) {
            /* Empty: the next backlog starts at the file's start. */
            ob->head = ob->end = 0;
            if (ftruncate(fd, 0) != 0)
                return wn__status_from_errno(errno);
        }
        rc = outbox_isend(ob, i);
        if (rc)
            return rc;
    }
    return WN_OK;
}

/* Hands over the finished message in *msg (left empty, its buffer perhaps
 * swapped with that of a completed send): sent now if it can be without
 * passing an older one, else appended to the backlog. */
static int outbox_put(struct outbox *ob, struct wn_buf *msg)
{
    bool moved = false;
    int rc = outbox_pump(ob, &moved);
    if (rc)
        return rc;
    if (msg->len > INT_MAX)
        return WN_ETOOBIG;
    ob->messages++;
    int i = ob->waiting ? -1 : outbox_free_slot(ob);
    if (i >= 0) {
        struct wn_buf b = ob->buf[i];
        ob->buf[i] = *msg;
        *msg = b;
        msg->len = 0;
        return outbox_isend(ob, i);
    }
    unsigned char h[8];
    wn__put_le64(h, (uint64_t)msg->len);
    int fd = fileno(ob->spill);
    rc = wn__pwrite_full(fd, h, sizeof(h), ob->end);
    if (!rc)
        rc = wn__pwrite_full(fd, msg->data, msg->len, ob->end + sizeof(h));
    if (rc)
        return rc;
    ob->end += sizeof(h) + msg->len;
    ob->waiting++;
    ob->spilled++;
    msg->len = 0;
    return WN_OK;
}

/* Under the test hooks, WINNOW_TEST_MPI_OUTBOX_LOG=PREFIX: the rank
 * writes to PREFIX.RANK, once it has read its units (before it waits for
 * rank 0 to take the last messages), how many messages it made, how many
 * of them went to the backlog, and the seconds it took to read. */
static void outbox_log(const struct outbox *ob, int rank)
{
#ifdef WN_TEST_HOOKS
    const char *e = getenv("WINNOW_TEST_MPI_OUTBOX_LOG");
    char path[4096];
    if (!e || !*e ||
        snprintf(path, sizeof(path), "%s.%d", e, rank) >= (int)sizeof(path))
        return;
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "messages=%llu spilled=%llu read_seconds=%.3f\n",
            (unsigned long long)ob->messages, (unsigned long long)ob->spilled,
            ob->read_seconds);
    fclose(f);
#else
    (void)ob;
    (void)rank;
#endif
}

/* Every message sent and taken by rank 0 (its pass 1 has reached this
 * rank's last unit), looking every millisecond. */
static int outbox_drain(struct outbox *ob, volatile int *cancel)
{
    const struct timespec ms = {0, 1000000};
    while (ob->waiting || !outbox_idle(ob)) {
        bool moved = false;
        int rc = outbox_pump(ob, &moved);
        if (rc)
            return rc;
        if (moved)
            continue;
        if (cancel && *cancel)
            return WN_EINTR;
        nanosleep(&ms, NULL);
    }
    return WN_OK;
}

static int put_record(struct wn_buf *b, const struct wn_record *rec,
                      const void *blob, size_t blob_len,
                      const struct wn_dedup_options *o, struct wn_buf *last_src,
                      struct wn_wire_ctx *ctx, struct wn_dist_traffic *t)
{
    const char *src = rec->source ? rec->source : "";
    size_t src_len = strlen(src);
    bool same = last_src->len && last_src->len == src_len &&
                memcmp(last_src->data, src, src_len) == 0;
    struct wn_wire_record w = {
        .kind = rec->kind,
        .status = rec->status,
        .sys_errno = rec->sys_errno,
        .error_offset = rec->error_offset,
        .offset = rec->offset,
        .line = rec->line,
        .raw_len = rec->raw_len,
        .raw_sent = rec->status && rec->raw ? rec->raw_len : 0,
        .id_len = rec->status ? 0 : rec->id_len,
        .text_len = rec->status ? 0 : rec->text_len,
        .source_len = same ? 0 : src_len,
        .blob_len = blob_len,
        .flags = same ? WN_WIRE_SAME_SOURCE : 0,
    };
    if (!same) {
        last_src->len = 0;
        if (wn__buf_append(last_src, src, src_len))
            return WN_ENOMEM;
    }
    if (w.raw_sent > RAW_REJECTED)
        w.raw_sent = RAW_REJECTED;
    double value = NAN;
    if (!rec->status && o->keep == WN_KEEP_MAX && rec->kind == WN_RECORD_JSON) {
        value = wn__dedup_keep_value(rec->raw, rec->raw_len, o->keep_field);
        w.flags |= WN_WIRE_VALUE;
    }
    uint8_t type = ENTRY_RECORD;
    size_t at = b->len;
    int rc = wn__buf_append(b, &type, 1);
    if (!rc)
        rc = wn__wire_put(b, &w, ctx);
    size_t head = b->len - at;
    if (!rc)
        rc = wn__buf_append(b, src, w.source_len);
    if (!rc && w.id_len)
        rc = wn__buf_append(b, rec->id, w.id_len);
    if (!rc && w.raw_sent)
        rc = wn__buf_append(b, rec->raw, w.raw_sent);
    if (!rc && blob_len)
        rc = wn__buf_append(b, blob, blob_len);
    if (!rc && (w.flags & WN_WIRE_VALUE))
        rc = wn__buf_append(b, &value, sizeof(value));
    t->raw += w.raw_sent;
    t->sketches += blob_len;
    t->other += head + w.source_len + w.id_len +
                (w.flags & WN_WIRE_VALUE ? sizeof(value) : 0);
    return rc;
}

static int put_end(struct wn_buf *b, const struct wn_reader *r,
                   struct wn_dist_traffic *t)
{
    struct wire_end w = {wn_reader_bytes(r), wn_reader_blank_lines(r)};
    uint8_t type = ENTRY_END;
    t->other += 1 + sizeof(w);
    int rc = wn__buf_append(b, &type, 1);
    return rc ? rc : wn__buf_append(b, &w, sizeof(w));
}

/*
 * The keys of every family of a sketch, in the order of the job's key
 * files (wn_spills.key_f): the sketch's key array of sk->nkeys values. A
 * sketcher with more key families spills them through the same array, so
 * this is the one place that knows where a sketch keeps its keys.
 */
static uint64_t *sketch_keys(struct wn_sketch *s, const struct wn_sketcher *sk,
                             uint32_t *n)
{
    *n = sk->nkeys;
    return s->keys;
}

/*
 * The stdio buffer of each spill file this file writes through stdio (a
 * rank's keys, anchors, verification records and kept lengths), owned by
 * the file's holder and freed after its fclose: glibc's setvbuf with no
 * buffer ignores the size asked for and keeps one of the file system's
 * block size (4 KiB), a write(2) every 4 KiB (as lib/dedup/pass1.c found
 * for the job's spills, give_buffer there).
 */
#define SPILL_BUFFER ((size_t)64 << 10)

/* A spill file in dir with the buffer buf of SPILL_BUFFER bytes, which
 * must outlive it. */
static FILE *spill_buffered(const char *dir, const char *name, void *buf,
                            struct wn_io_note *note)
{
    assert(buf);
    FILE *f = wn__spill_create(dir, name, 0, note);
    if (f)
        (void)setvbuf(f, buf, _IOFBF, SPILL_BUFFER);
    return f;
}

/* What a rank other than 0 keeps for the join: its documents' keys, one
 * unnamed spill file per key family in its reading order, and how many
 * documents each unit of the plan gave it. */
struct local_keys {
    FILE **f;
    uint32_t nkeys;
    uint64_t *unit_docs;
    unsigned char *buf; /* the files' buffers, SPILL_BUFFER each */
    /* The documents' exact hashes (16 bytes each, in their order), for
     * the exact stage across the ranks (exact.h), with their buffer. */
    FILE *hash_f;
    unsigned char *hash_buf;
};

static void local_keys_release(struct local_keys *lk)
{
    for (uint32_t j = 0; lk->f && j < lk->nkeys; j++)
        if (lk->f[j])
            fclose(lk->f[j]);
    wn__free(lk->f);
    wn__free(lk->unit_docs);
    wn__free(lk->buf);
    if (lk->hash_f)
        fclose(lk->hash_f);
    wn__free(lk->hash_buf);
    memset(lk, 0, sizeof(*lk));
}

static int local_keys_open(struct local_keys *lk, const struct wn_sketcher *sk,
                           const struct wn_dedup_options *o, size_t units)
{
    memset(lk, 0, sizeof(*lk));
    lk->unit_docs = wn__calloc(units ? units : 1, sizeof(*lk->unit_docs));
    lk->hash_buf = wn__malloc(SPILL_BUFFER);
    if (!lk->unit_docs || !lk->hash_buf)
        return WN_ENOMEM;
    const char *dir = spill_dir(o);
    lk->hash_f = spill_buffered(dir, "hashes", lk->hash_buf, NULL);
    if (!lk->hash_f)
        return WN_EOPEN;
    if (o->exact_only)
        return WN_OK; /* no join */
    lk->f = wn__calloc(sk->nkeys ? sk->nkeys : 1, sizeof(FILE *));
    lk->buf = wn__calloc(sk->nkeys ? sk->nkeys : 1, SPILL_BUFFER);
    if (!lk->f || !lk->buf)
        return WN_ENOMEM;
    lk->nkeys = sk->nkeys;
    for (uint32_t j = 0; j < sk->nkeys; j++) {
        lk->f[j] =
            spill_buffered(dir, "keys", lk->buf + j * SPILL_BUFFER, NULL);
        if (!lk->f[j])
            return WN_EOPEN;
    }
    return WN_OK;
}

/* Keep s's keys here, and zero them in s: rank 0 gets them only through
 * the join, so a join that used the copy it receives would find nothing. */
static int local_keys_add(struct local_keys *lk, struct wn_sketch *s,
                          const struct wn_sketcher *sk, size_t unit)
{
    lk->unit_docs[unit]++;
    if (fwrite(s->h, sizeof(s->h), 1, lk->hash_f) != 1)
        return wn__status_from_errno(errno);
    uint32_t n = 0;
    uint64_t *k = sketch_keys(s, sk, &n);
    for (uint32_t j = 0; j < lk->nkeys && j < n; j++)
        if (fwrite(&k[j], sizeof(k[j]), 1, lk->f[j]) != 1)
            return wn__status_from_errno(errno);
    memset(k, 0, (size_t)n * sizeof(*k));
    return WN_OK;
}

/* What a rank other than 0 keeps for the rule's joins (rulejoin.h): its
 * documents' anchors in an unnamed spill file (struct wn_keydoc: key,
 * local number, the document's anchors), the word counts of their lead
 * words, and which of them are short (one bit by local number). */
struct rule_local {
    FILE *anch_f;
    unsigned char *anch_buf; /* its buffer, SPILL_BUFFER bytes */
    uint64_t nanch;
    struct wn_cms words;
    bool have_words;
    uint8_t *shortb;
    size_t shortcap;
    uint64_t ndocs; /* documents so far: the next local number */
};

static void rule_local_release(struct rule_local *rl)
{
    if (rl->anch_f)
        fclose(rl->anch_f);
    wn__free(rl->anch_buf);
    if (rl->have_words)
        wn__cms_release(&rl->words);
    wn__free(rl->shortb);
    memset(rl, 0, sizeof(*rl));
}

static int rule_local_open(struct rule_local *rl, const char *dir)
{
    memset(rl, 0, sizeof(*rl));
    rl->anch_buf = wn__malloc(SPILL_BUFFER);
    if (!rl->anch_buf)
        return WN_ENOMEM;
    rl->anch_f = spill_buffered(dir, "anchors", rl->anch_buf, NULL);
    if (!rl->anch_f)
        return WN_EOPEN;
    int rc = wn__cms_init(&rl->words, WN_WORDS_LOG2_WIDTH, WN_WORDS_DEPTH);
    rl->have_words = rc == WN_OK;
    return rc;
}

/* Keep what the rule's joins need of s, this rank's next document: as
 * the job's pass 1 does (commit_rule_keys in lib/dedup/pass1.c), with the
 * document's local number and its count of anchors. */
static int rule_local_add(struct rule_local *rl, const struct wn_sketch *s,
                          const struct wn_sketcher *sk)
{
    uint64_t l = rl->ndocs++;
    if (l >= WN_DOCS_MAX)
        return WN_ELIMIT;
    for (uint32_t k = 0; k < s->nanch; k++) {
        struct wn_keydoc e = {s->anch[k], (wn_docno)l,
                              WN_MIN(s->nanch, (uint32_t)UINT8_MAX)};
        if (fwrite(&e, sizeof(e), 1, rl->anch_f) != 1)
            return wn__status_from_errno(errno);
    }
    rl->nanch += s->nanch;
    uint32_t w[WN_LEAD_TOKENS];
    uint64_t keys[WN_LEAD_TOKENS];
    size_t nw = wn__lead_unpack(s->vdata + sk->sig_bytes + sk->fig_bytes, w);
    for (size_t k = 0; k < nw; k++)
        keys[k] = wn__lead_key(w[k]);
    wn__cms_add_many(&rl->words, keys, nw);
    if ((size_t)(l / 8) >= rl->shortcap &&
        WN_GROW(rl->shortb, rl->shortcap, (size_t)(l / 8) + 1))
        return WN_ENOMEM;
    if (l % 8 == 0)
        rl->shortb[l / 8] = 0; /* a new byte: WN_GROW leaves it as it was */
    if (s->nsh <= sk->qp.short_tokens)
        rl->shortb[l / 8] |= (uint8_t)(1u << (l & 7));
    return WN_OK;
}

/* A document's verification record in this rank's spill (verdicts.h):
 * the sketch's rec_bytes, then its shingle count. */
static int vrec_add(FILE *f, const struct wn_sketch *s,
                    const struct wn_sketcher *sk)
{
    if (fwrite(s->vdata, 1, sk->rec_bytes, f) != sk->rec_bytes ||
        fwrite(&s->nsh, sizeof(s->nsh), 1, f) != 1)
        return wn__status_from_errno(errno);
    return WN_OK;
}

/* Seconds since some fixed point, for the test hooks' log. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The bytes a message holds before it is sent: MESSAGE_BYTES, or under
 * the test hooks WINNOW_TEST_MPI_MESSAGE_BYTES (many small messages, so
 * that a small input goes through the outbox's backlog). */
static size_t message_bytes(void)
{
#ifdef WN_TEST_HOOKS
    const char *e = getenv("WINNOW_TEST_MPI_MESSAGE_BYTES");
    char *end = NULL;
    unsigned long long v = e && *e ? strtoull(e, &end, 10) : 0;
    if (end && *end == '\0' && v > 0)
        return (size_t)v;
#endif
    return MESSAGE_BYTES;
}

/* Reads and sketches this rank's units, keeping what the joins and the
 * verification need, and hands rank 0's messages to ob; returns once
 * rank 0 has taken them all. */
static int send_inputs(const char *const *inputs, const struct plan *pl,
                       const struct wn_dedup_options *o,
                       const struct wn_sketcher *sk, struct local_keys *lk,
                       FILE *vrec_f, struct rule_local *rl,
                       struct wn_dist_kept *kp, struct outbox *ob, int rank,
                       struct wn_dedup_report *rep, struct wn_dist_traffic *t)
{
    struct wn_sketch *s = NULL;
    struct wn_buf msg = {0}, blob = {0}, last_src = {0}, sent = {0};
    struct wn_reader *r = NULL;
    int rc = wn_sketch_create(sk, &s);
    bool died = false;
    const size_t cap = message_bytes();
    const double start = now_seconds();
    for (size_t u = 0; !rc && u < pl->n; u++) {
        if (pl->owner[u] != rank)
            continue;
        const char *in = inputs[pl->input[u]];
        rc = open_unit(pl, u, inputs, &o->reader, o->cancel, &r);
        if (rc) {
            snprintf(rep->error_path, sizeof(rep->error_path), "%s", in);
            break;
        }
        rc = wn__dist_kept_watch(kp, u, r);
        struct wn_wire_ctx wctx = {0, 0}; /* per unit, as rank 0's */
        struct wn_record rec;
        int got = 0;
        while (!rc && (got = wn_reader_next(r, &rec)) > 0) {
            rep->read++;
            size_t blen = 0;
            if (rec.status) {
                rep->rejected++;
            } else {
                rc = wn_sketcher_sketch(sk, rec.text, rec.text_len, s);
                if (!rc)
                    rc = local_keys_add(lk, s, sk, u);
                if (!rc && vrec_f)
                    rc = vrec_add(vrec_f, s, sk);
                if (!rc && rl)
                    rc = rule_local_add(rl, s, sk);
                if (!rc)
                    rc = wn__dist_kept_note(kp, u, &rec);
                size_t need = rc ? 0 : wn_sketch_encoded_size(s);
                if (!rc)
                    rc = wn__buf_reserve(&blob, need);
                if (!rc)
                    rc = wn_sketch_encode(s, blob.data, need, &blen);
                if (!rc)
                    rc = wn__slim_thin(sk, (const uint8_t *)blob.data, blen,
                                       &sent);
                blen = sent.len;
            }
            if (!rc)
                rc = put_record(&msg, &rec, sent.data, blen, o, &last_src,
                                &wctx, t);
            bool moved = false;
            if (!rc && msg.len >= cap) {
                rc = outbox_put(ob, &msg);
                if (!died) {
                    died = true;
                    maybe_die(rank);
                }
            } else if (!rc) {
                rc = outbox_pump(ob, &moved);
            }
            if (!rc && o->cancel && *o->cancel)
                rc = WN_EINTR;
        }
        if (!rc && got < 0) {
            rc = got;
            const char *p = wn_reader_error_path(r);
            snprintf(rep->error_path, sizeof(rep->error_path), "%s",
                     p ? p : in);
        }
        if (!rc) {
            rep->bytes += wn_reader_bytes(r);
            rc = put_end(&msg, r, t);
        }
        last_src.len = 0; /* the next unit's first record sends its own */
        if (!rc)
            rc = outbox_put(ob, &msg);
        if (!rc && !died) {
            died = true;
            maybe_die(rank);
        }
        wn_reader_free(r);
        r = NULL;
    }
    ob->read_seconds = now_seconds() - start;
    if (!rc)
        outbox_log(ob, rank);
    if (!rc)
        rc = outbox_drain(ob, o->cancel);
    wn__buf_release(&msg);
    wn__buf_release(&blob);
    wn__buf_release(&sent);
    wn__buf_release(&last_src);
    wn_sketch_free(s);
    return rc;
}

/*
 * Rank 0 gives every rank the documents of each unit (collective), and
 * every rank checks that all run one sketcher (the same options: its id;
 * a rank's sketches reach rank 0 in their slim form, which leaves the id
 * out). A rank other than 0 may wait here all through rank 0's pass 1:
 * it sleeps between tests (wn__dist_wait).
 */
static int units_share(uint64_t *unit_docs, size_t units,
                       const struct wn_sketcher *sk, int rank)
{
    if (units > INT_MAX)
        return WN_ELIMIT;
    uint64_t id[2] = {sk->id, ~sk->id}, most[2] = {0, 0};
    MPI_Request rq = MPI_REQUEST_NULL;
    int rc = MPI_Iallreduce(id, most, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD,
                            &rq) == MPI_SUCCESS
                 ? WN_OK
                 : WN_EIO;
    rc = wn__dist_wait(&rq, rc, rank != 0);
    /* The largest id and the largest complement: one id on every rank. */
    if (!rc && (most[0] != sk->id || most[1] != ~sk->id))
        rc = WN_EINVAL;
    if (!rc && units)
        rc = MPI_Ibcast(unit_docs, (int)units, MPI_UINT64_T, 0, MPI_COMM_WORLD,
                        &rq) == MPI_SUCCESS
                 ? WN_OK
                 : WN_EIO;
    if (units)
        rc = wn__dist_wait(&rq, rc, rank != 0);
    return rc;
}

/* Rank 0 gives every rank the documents of each unit and the documents
 * the join leaves out (exact copies after the first, empty texts). */
static int share_docs(uint64_t *unit_docs, size_t units, uint8_t **skip,
                      size_t *ndocs, int rank)
{
    if (units && MPI_Bcast(unit_docs, (int)units, MPI_UINT64_T, 0,
                           MPI_COMM_WORLD) != MPI_SUCCESS)
        return WN_EIO;
    uint64_t n = 0;
    for (size_t u = 0; u < units; u++)
        n += unit_docs[u];
    if (n > wn__docs_limit())
        return WN_ELIMIT;
    size_t bytes = (size_t)n / 8 + 1;
    if (rank != 0) {
        *skip = wn__calloc(bytes, 1);
        if (!*skip)
            return WN_ENOMEM;
    }
    if (MPI_Bcast(*skip, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
        return WN_EIO;
    *ndocs = (size_t)n;
    return WN_OK;
}

/* This rank's runs of documents for wn__dist_join: its units' documents
 * are numbered from the documents of the units before them; their keys
 * are at pos in the key files, which hold this rank's documents only, in
 * their order (rank 0's job spills no other rank's:
 * wn_dedup_source.remote_keys). */
struct runs {
    uint64_t *first, *count, *pos;
    size_t n;
};

static void runs_release(struct runs *x)
{
    wn__free(x->first);
    wn__free(x->count);
    wn__free(x->pos);
    memset(x, 0, sizeof(*x));
}

static int runs_make(struct runs *x, const struct plan *pl,
                     const uint64_t *unit_docs, int rank)
{
    memset(x, 0, sizeof(*x));
    size_t cap = pl->n ? pl->n : 1;
    x->first = wn__calloc(cap, sizeof(*x->first));
    x->count = wn__calloc(cap, sizeof(*x->count));
    x->pos = wn__calloc(cap, sizeof(*x->pos));
    if (!x->first || !x->count || !x->pos)
        return WN_ENOMEM;
    uint64_t base = 0, local = 0;
    for (size_t u = 0; u < pl->n; u++) {
        if (pl->owner[u] == rank && unit_docs[u]) {
            x->first[x->n] = base;
            x->count[x->n] = unit_docs[u];
            x->pos[x->n] = local;
            x->n++;
            local += unit_docs[u];
        }
        base += unit_docs[u];
    }
    return WN_OK;
}

/*
 * Wait for a message of tag from rank `from`, looking every millisecond
 * (Open MPI's blocking calls spin: on a loaded machine a rank waiting
 * there takes a core from rank 0, which is deciding meanwhile), then take
 * it whole into b.
 */
static int receive_sleeping(int from, int tag, struct wn_buf *b,
                            volatile int *cancel)
{
    MPI_Status st;
    int flag = 0, count = 0;
    const struct timespec ms = {0, 1000000};
    for (;;) {
        if (MPI_Iprobe(from, tag, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS)
            return WN_EIO;
        if (flag)
            break;
        if (cancel && *cancel)
            return WN_EINTR;
        nanosleep(&ms, NULL);
    }
    if (MPI_Get_count(&st, MPI_BYTE, &count) != MPI_SUCCESS || count < 0)
        return WN_EIO;
    b->len = 0;
    int rc = wn__buf_reserve(b, count ? (size_t)count : 1);
    if (rc)
        return rc;
    if (MPI_Recv(b->data, count, MPI_BYTE, from, tag, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return WN_EIO;
    b->len = (size_t)count;
    return WN_OK;
}

/* A rank other than 0, rank 0 having decided: the fates of its documents,
 * then its kept lines written into rank 0's temporary kept.jsonl. */
static int remote_write(struct wn_dist_kept *kp, const struct plan *pl,
                        const char *const *inputs,
                        const struct wn_dedup_options *o, int rank,
                        struct wn_dedup_report *rep, struct wn_dist_traffic *t)
{
    struct wn_buf in = {0}, path = {0};
    struct wire_fates w = {0, 0};
    int rc = receive_sleeping(0, TAG_FATES, &in, o->cancel);
    if (!rc && in.len < sizeof(w))
        rc = WN_EFORMAT;
    if (!rc) {
        memcpy(&w, in.data, sizeof(w));
        size_t left = in.len - sizeof(w);
        /* Rank 0 numbered the documents this rank sent: the same count. */
        if (w.path_len > left || w.ndocs != kp->ndocs ||
            left - w.path_len != w.ndocs / 8 + 1)
            rc = WN_EFORMAT;
    }
    if (!rc)
        rc = wn__buf_append(&path, in.data + sizeof(w), (size_t)w.path_len);
    if (!rc)
        rc = wn__buf_append(&path, "", 1);
    if (!rc) {
        struct opener op = {pl, inputs, &o->reader, o->cancel};
        struct wn_dist_units un = plan_units(pl, &op);
        struct wn_dist_fail f = {rep->error_path, sizeof(rep->error_path), 0,
                                 false};
        const uint8_t *kept =
            (const uint8_t *)in.data + sizeof(w) + (size_t)w.path_len;
        uint64_t total = 0;
        rc = wn__dist_kept_write(kp, &un, kept, path.data, -1, !o->no_fsync,
                                 rank, &total, &f);
        rep->error_errno = f.sys_errno;
        t->output_unseen = f.unseen ? 1 : 0;
    }
    wn__buf_release(&in);
    wn__buf_release(&path);
    return rc;
}

/* A rank other than 0: read, sketch and send its units, take part in the
 * join, then write its kept records. */
static int remote_rank(const char *const *inputs, const struct plan *pl,
                       const struct wn_dedup_options *o, int rank, int size,
                       struct wn_dedup_report *rep, struct wn_dist_traffic *t)
{
    struct wn_sketcher *sk = NULL;
    struct local_keys lk = {0};
    struct wn_dist_kept kp = {0};
    struct runs x = {0};
    uint64_t *all = NULL;
    uint8_t *skip = NULL;
    FILE *vrec_f = NULL;
    struct wn_dist_verifier dv;
    bool have_dv = false;
    struct rule_local rl = {0};
    /* The candidate pairs this rank found, then those it owns
     * (pairs_at_owners). */
    wn_docpair *pairs = NULL;
    size_t npairs = 0;
    /* The buffers of vrec_f and of kp's kept lengths, SPILL_BUFFER each,
     * freed once both files are closed. */
    unsigned char *bufs = wn__malloc(2 * SPILL_BUFFER);
    int rc = bufs ? wn_sketcher_create(o, &sk) : WN_ENOMEM;
    if (!rc)
        rc = local_keys_open(&lk, sk, o, pl->n);
    if (!rc && wn__dist_verifies_at_owners(sk)) {
        vrec_f = spill_buffered(spill_dir(o), "verify", bufs, NULL);
        rc = vrec_f ? WN_OK : WN_EOPEN;
    }
    if (!rc && wn__dist_rule_at_owners(sk))
        rc = rule_local_open(&rl, spill_dir(o));
    bool owned = !rc && wn__dist_pairs_at_owners(sk);
    if (!rc) {
        struct wn_io_note note = {0};
        FILE *lens = spill_buffered(spill_dir(o), "kept-lengths",
                                    bufs + SPILL_BUFFER, &note);
        rc = lens ? wn__dist_kept_init(&kp, pl->n, lens) : WN_EOPEN;
        if (!lens) {
            snprintf(rep->error_path, sizeof(rep->error_path), "%s",
                     spill_dir(o));
            rep->error_errno = note.err;
        }
    }
    if (!rc) {
        struct outbox ob;
        struct wn_io_note note = {0};
        rc = outbox_open(&ob, spill_dir(o), &note);
        if (rc) {
            snprintf(rep->error_path, sizeof(rep->error_path), "%s",
                     spill_dir(o));
            rep->error_errno = note.err;
        }
        if (!rc)
            rc = send_inputs(inputs, pl, o, sk, &lk, vrec_f,
                             wn__dist_rule_at_owners(sk) ? &rl : NULL, &kp, &ob,
                             rank, rep, t);
        outbox_release(&ob);
    }
    t->records = rep->read;
    /* The exact stage across the ranks, under every option (exact.h):
     * rank 0 gives every rank the documents of each unit first. */
    if (!rc) {
        all = wn__calloc(pl->n ? pl->n : 1, sizeof(*all));
        rc = all ? WN_OK : WN_ENOMEM;
    }
    if (!rc)
        rc = units_share(all, pl->n, sk, rank);
    /* Rank 0 numbered the documents this rank sent: the same count. */
    for (size_t u = 0; !rc && u < pl->n; u++)
        if (pl->owner[u] == rank && all[u] != lk.unit_docs[u])
            rc = WN_EIO;
    if (!rc && fflush(lk.hash_f) != 0)
        rc = wn__status_from_errno(errno);
    if (!rc)
        rc = runs_make(&x, pl, all, rank);
    if (!rc) {
        uint64_t n = 0;
        for (size_t u = 0; u < pl->n; u++)
            n += all[u];
        struct wn_dist_hashes h = {fileno(lk.hash_f), x.first, x.count, x.pos,
                                   x.n};
        rc =
            wn__dist_exact(&h, (size_t)n, rank, size, NULL, NULL, t, o->cancel);
    }
    if (!rc && !o->exact_only) {
        size_t ndocs = 0;
        uint64_t params[2] = {0, 0};
        if (!rc && MPI_Bcast(params, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD) !=
                       MPI_SUCCESS)
            rc = WN_EIO;
        if (!rc && params[0] != lk.nkeys)
            rc = WN_EIO; /* another sketcher than rank 0's */
        if (!rc)
            rc = share_docs(all, pl->n, &skip, &ndocs, rank);
        for (uint32_t j = 0; !rc && j < lk.nkeys; j++)
            if (fflush(lk.f[j]) != 0)
                rc = wn__status_from_errno(errno);
        if (!rc) {
            struct wn_dist_keys k = {
                .nkeys = lk.nkeys,
                .key_f = lk.f,
                .first = x.first,
                .count = x.count,
                .pos = x.pos,
                .nruns = x.n,
            };
            struct wn_join_stats st;
            rc = wn__dist_join(&k, ndocs, skip, (uint32_t)params[1], owned,
                               rank, size, &pairs, &npairs, &st, t);
        }
        local_keys_release(&lk); /* the join is done */
        if (!rc && vrec_f && fflush(vrec_f) != 0)
            rc = wn__status_from_errno(errno);
        if (!rc && vrec_f) {
            rc =
                wn__dist_verifier_init(&dv, sk, rank, size, pl->n, pl->owner,
                                       all, fileno(vrec_f), NULL, t, o->cancel);
            dv.memory = o->memory;
            have_dv = true;
        }
        /* The rule's joins, this rank's share (rulejoin.h). */
        if (!rc && wn__dist_rule_at_owners(sk) && fflush(rl.anch_f) != 0)
            rc = wn__status_from_errno(errno);
        if (!rc && wn__dist_rule_at_owners(sk)) {
            struct wn_rule_join_stats rst = {0};
            struct wn_dist_rule r = {
                .sk = sk,
                .v = &dv,
                .ndocs = ndocs,
                .skip = skip,
                .words = &rl.words,
                .anch_f = &rl.anch_f,
                .nanch = &rl.nanch,
                .nfiles = 1,
                .job_format = false,
                .shortb = rl.shortb,
                .anchor_bucket_max = WN_ANCHOR_BUCKET_MAX,
                .anchor_hits = WN_ANCHOR_HITS,
                .memory = o->memory,
                .keep_pairs = owned,
                .tmp_dir = spill_dir(o),
                .cancel = o->cancel,
                .t = t,
            };
            size_t cap = npairs;
            rc = owned ? wn__dist_rule_join(&r, &pairs, &npairs, &cap, &rst)
                       : wn__dist_rule_join(&r, NULL, NULL, NULL, &rst);
        }
        if (wn__dist_rule_at_owners(sk) && rl.anch_f) {
            fclose(rl.anch_f); /* the joins are done */
            rl.anch_f = NULL;
        }
        /* Under the pair rule the pairs go to the owners of their first
         * documents, and every rank verifies its own (the accepted ones
         * go to rank 0). */
        if (!rc && owned) {
            size_t cap = npairs;
            uint64_t total = 0;
            rc = wn__dist_pairs_to_owners(&dv, &pairs, &npairs, &cap, &total);
        }
        if (!rc && owned)
            rc = wn__dist_verify_owned(&dv, pairs, npairs, NULL);
        wn__free(pairs);
        pairs = NULL;
        /* Then this rank verifies the pairs of its documents that rank 0
         * sends (the classic rule's; the removals' under either) and
         * serves their records, until rank 0 has every verdict it needs. */
        if (!rc && vrec_f)
            rc = wn__dist_verdicts_serve(&dv);
    }
    local_keys_release(&lk);
    if (have_dv)
        wn__dist_verifier_release(&dv);
    rule_local_release(&rl);
    if (vrec_f)
        fclose(vrec_f);
    if (!rc)
        rc = remote_write(&kp, pl, inputs, o, rank, rep, t);
    rep->peak_rss_bytes = wn__peak_rss();
    wn__dist_kept_release(&kp);
    wn__free(bufs); /* vrec_f and kp.lens are closed */
    runs_release(&x);
    wn__free(all);
    wn__free(skip);
    wn__free(pairs);
    wn_sketcher_free(sk);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Rank 0: the source of the run's pass 1                                    */
/* ------------------------------------------------------------------------ */

struct gather {
    struct wn_dedup_source src; /* src.ud is the gather */
    const char *const *inputs;
    const struct plan *pl;
    const struct wn_dedup_options *o;
    struct wn_frame *f;
    size_t cur;             /* unit being taken */
    struct wn_reader *r;    /* of cur when it is rank 0's */
    bool remote;            /* cur is another rank's, being received */
    struct wn_buf in;       /* the last message of that rank */
    size_t pos;             /* next entry in it */
    struct wn_sketcher *sk; /* to decode sketches */
    struct wn_sketch *s;
    struct wn_buf source;    /* the NUL-terminated source of a record */
    struct wn_wire_ctx wctx; /* of the unit being received (wire.h) */
    double value;            /* the --keep max value of the last entry */
    bool has_value;
    struct wn_dist_kept kept; /* rank 0's own units */
    bool died;
    bool held; /* hold() is behind: another rank's message was taken */
    uint64_t *unit_docs; /* documents numbered from each unit */
    struct wn_dist_traffic *t;
    int size;
    bool have_dv;
    struct wn_buf thick; /* a received sketch with its dropped sections */
    uint8_t head[WN_SLIM_HEAD]; /* of every sketch's encoding (slim.h) */
    size_t ndocs;               /* of the run, once the join starts */
    /* Verification at the owners (verdicts.h, when have_dv), and the
     * verdicts of the removals, in the fates' order. */
    struct wn_dist_verifier dv;
    /* Rank 0's share of the candidate pairs kept at their owners
     * (pairs_at_owners), from the joins to the verification. */
    wn_docpair *owned;
    size_t nowned;
    wn_docpair *rem;
    struct wn_pair_decision *dec;
    size_t nrem, next_rem;
};

/* The lengths of rank 0's own kept lines go to a spill file of the run. */
static int gather_start(void *ud, struct wn_frame *f)
{
    struct gather *g = ud;
    g->f = f;
    FILE *lens = wn__frame_spill(f, "kept-lengths", 0);
    return lens ? wn__dist_kept_init(&g->kept, g->pl->n, lens) : WN_EOPEN;
}

static int receive(struct gather *g, int from)
{
    MPI_Status st;
    int count = 0;
    if (MPI_Probe(from, TAG_RECORDS, MPI_COMM_WORLD, &st) != MPI_SUCCESS ||
        MPI_Get_count(&st, MPI_BYTE, &count) != MPI_SUCCESS || count < 0)
        return WN_EIO;
    g->in.len = 0;
    int rc = wn__buf_reserve(&g->in, count ? (size_t)count : 1);
    if (rc)
        return rc;
    if (MPI_Recv(g->in.data, count, MPI_BYTE, from, TAG_RECORDS, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return WN_EIO;
    g->in.len = (size_t)count;
    g->pos = 0;
    return WN_OK;
}

/* The next entry of a rank's message: a record in *rec (1), the end of the
 * input (0), or WN_EFORMAT for bytes that are no entry. */
static int take_entry(struct gather *g, struct wn_record *rec,
                      const struct wn_sketch **s)
{
    const char *p = g->in.data + g->pos;
    size_t left = g->in.len - g->pos;
    if (left < 1)
        return WN_EFORMAT;
    uint8_t type = (uint8_t)p[0];
    if (type == ENTRY_END) {
        struct wire_end w;
        if (left < 1 + sizeof(w))
            return WN_EFORMAT;
        memcpy(&w, p + 1, sizeof(w));
        g->pos += 1 + sizeof(w);
        g->src.bytes += w.bytes;
        g->src.blank_lines += w.blank_lines;
        g->source.len = 0;
        g->wctx = (struct wn_wire_ctx){0, 0};
        return 0;
    }
    struct wn_wire_record w;
    size_t used = 0;
    if (type != ENTRY_RECORD)
        return WN_EFORMAT;
    int rc =
        wn__wire_get((const uint8_t *)p + 1, left - 1, &w, &g->wctx, &used);
    if (rc)
        return rc;
    size_t body = 1 + used;
    uint64_t need = w.source_len + w.id_len + w.raw_sent + w.blob_len +
                    (w.flags & WN_WIRE_VALUE ? sizeof(double) : 0);
    if (w.source_len > left || w.id_len > left || w.raw_sent > left ||
        w.blob_len > left || need > left - body)
        return WN_EFORMAT;
    if (w.raw_sent > w.raw_len || (!w.status && w.raw_sent))
        return WN_EFORMAT;
    const char *q = p + body;
    if ((w.flags & WN_WIRE_SAME_SOURCE) && (w.source_len || !g->source.len))
        return WN_EFORMAT;
    g->pos += body + (size_t)need;
    if (!(w.flags & WN_WIRE_SAME_SOURCE)) {
        g->source.len = 0;
        rc = wn__buf_append(&g->source, q, w.source_len);
        if (!rc)
            rc = wn__buf_append(&g->source, "", 1);
    }
    if (rc)
        return rc;
    q += w.source_len;
    memset(rec, 0, sizeof(*rec));
    rec->kind = w.kind;
    rec->status = w.status;
    rec->sys_errno = w.sys_errno;
    rec->error_offset = w.error_offset;
    rec->offset = w.offset;
    rec->line = w.line;
    rec->raw_len = w.raw_len;
    rec->input = g->pl->input[g->cur];
    rec->source = g->source.data;
    rec->id = q;
    rec->id_len = w.id_len;
    q += w.id_len;
    rec->raw = w.raw_sent ? q : NULL;
    q += w.raw_sent;
    rec->text = NULL; /* sketched by its rank */
    rec->text_len = w.text_len;
    g->has_value = (w.flags & WN_WIRE_VALUE) != 0;
    if (g->has_value)
        memcpy(&g->value, q + w.blob_len, sizeof(g->value));
    *s = NULL;
    if (!rec->status) {
        rc = wn__slim_thicken(g->sk, g->head, q, w.blob_len, &g->thick);
        if (!rc)
            rc = wn_sketch_decode(g->sk, g->thick.data, g->thick.len, g->s);
        if (rc)
            return rc;
        *s = g->s;
    }
    return 1;
}

/* Under the test hooks, WINNOW_TEST_MPI_HOLD_MS=N: rank 0 waits N ms
 * before it takes another rank's first message, as if its own units took
 * that long (the other ranks read on meanwhile: test_mpi.sh). WN_EINTR
 * when cancelled meanwhile. */
static int hold(volatile int *cancel)
{
#ifdef WN_TEST_HOOKS
    const char *e = getenv("WINNOW_TEST_MPI_HOLD_MS");
    char *end = NULL;
    long n = e && *e ? strtol(e, &end, 10) : 0;
    const struct timespec ms = {0, 1000000};
    for (long i = 0; end && *end == '\0' && i < n; i++) {
        if (cancel && *cancel)
            return WN_EINTR;
        nanosleep(&ms, NULL);
    }
#else
    (void)cancel;
#endif
    return WN_OK;
}

/* Records of the inputs in order: rank 0's own read here (the job
 * sketches them on the pool), the others' from their messages. */
static int gather_next(void *ud, struct wn_record *rec,
                       const struct wn_sketch **s)
{
    struct gather *g = ud;
    *s = NULL;
    while (g->cur < g->pl->n) {
        int owner = g->pl->owner[g->cur];
        const char *in = g->inputs[g->pl->input[g->cur]];
        int got;
        if (owner == 0) {
            if (!g->r) {
                int rc = open_unit(g->pl, g->cur, g->inputs, &g->f->ro,
                                   g->o->cancel, &g->r);
                if (rc) {
                    wn__frame_error_path(g->f, in);
                    return rc;
                }
                rc = wn__dist_kept_watch(&g->kept, g->cur, g->r);
                if (rc)
                    return rc;
            }
            got = wn_reader_next(g->r, rec);
            if (got < 0) {
                wn__frame_reader_error(g->f, g->r);
                return got;
            }
            if (got == 0) {
                g->src.bytes += wn_reader_bytes(g->r);
                g->src.blank_lines += wn_reader_blank_lines(g->r);
                wn_reader_free(g->r);
                g->r = NULL;
            }
        } else {
            if (!g->remote || g->pos >= g->in.len) {
                int rc = g->held ? WN_OK : hold(g->o->cancel);
                g->held = true;
                if (!rc)
                    rc = receive(g, owner);
                if (rc) {
                    wn__frame_error_path(g->f, in);
                    return rc;
                }
                g->remote = true;
                if (!g->died) {
                    g->died = true;
                    maybe_die(0);
                }
            }
            got = take_entry(g, rec, s);
            if (got < 0) {
                wn__frame_error_path(g->f, in);
                return got;
            }
            if (got == 0)
                g->remote = false;
        }
        if (got == 0) {
            g->cur++;
            continue;
        }
        rec->input = g->pl->input[g->cur];
        if (!rec->status)
            g->unit_docs[g->cur]++;
        if (owner == 0)
            g->t->records++;
        if (owner == 0 && !rec->status) {
            int rc = wn__dist_kept_note(&g->kept, g->cur, rec);
            if (rc)
                return rc;
        }
        return 1;
    }
    return 0;
}

/* The job's band join (wn_dedup_source.join): across every rank. Rank 0's
 * own documents' keys are in the job's band files, which hold no other
 * rank's (those were zeroed before they were sent, and not spilled). */
static int join_keys(struct gather *g, const struct wn_join_in *in, bool keep,
                     wn_docpair **pairs, size_t *npairs,
                     struct wn_join_stats *st)
{
    uint8_t *skip = (uint8_t *)in->skip;
    size_t ndocs = 0;
    uint64_t params[2] = {in->nkeys, in->bucket_all_pairs};
    int rc =
        MPI_Bcast(params, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD) == MPI_SUCCESS
            ? WN_OK
            : WN_EIO;
    if (!rc)
        rc = share_docs(g->unit_docs, g->pl->n, &skip, &ndocs, 0);
    if (!rc && ndocs != in->n)
        rc = WN_EIO;
    g->ndocs = ndocs;
    struct runs x = {0};
    if (!rc)
        rc = runs_make(&x, g->pl, g->unit_docs, 0);
    if (!rc) {
        struct wn_dist_keys k = {
            .nkeys = in->nkeys,
            .key_f = in->key_f,
            .first = x.first,
            .count = x.count,
            .pos = x.pos,
            .nruns = x.n,
        };
        rc = wn__dist_join(&k, in->n, in->skip, in->bucket_all_pairs, keep, 0,
                           g->size, pairs, npairs, st, g->t);
    }
    runs_release(&x);
    return rc;
}

static int gather_join(void *ud, const struct wn_join_in *in,
                       wn_docpair **pairs, size_t *npairs,
                       struct wn_join_stats *st)
{
    return join_keys(ud, in, false, pairs, npairs, st);
}

/* The job's exact stage (wn_dedup_source.exact): across every rank
 * (exact.h). Rank 0's own documents' hashes are in the job's spill in
 * their order (wn_pass1.remote_hashes: none of another rank's). */
static int gather_exact(void *ud, int hash_fd, size_t n, struct wn_egroups *eg,
                        uint8_t *skip)
{
    struct gather *g = ud;
    uint64_t total = 0;
    for (size_t u = 0; u < g->pl->n; u++)
        total += g->unit_docs[u];
    if (total != n)
        return WN_EIO;
    int rc = units_share(g->unit_docs, g->pl->n, g->sk, 0);
    struct runs x = {0};
    if (!rc)
        rc = runs_make(&x, g->pl, g->unit_docs, 0);
    if (!rc) {
        struct wn_dist_hashes h = {hash_fd, x.first, x.count, x.pos, x.n};
        rc = wn__dist_exact(&h, n, 0, g->size, eg, skip, g->t, g->o->cancel);
    }
    runs_release(&x);
    return rc;
}

/* The --keep max value of another rank's record (wn_dedup_source). */
static double gather_keep_value(void *ud, const struct wn_record *rec)
{
    const struct gather *g = ud;
    (void)rec;
    return g->has_value ? g->value : NAN;
}

/* The job's verification (wn_dedup_source.verify): every pair at the
 * owner of its first document (verdicts.c), then the verdicts taken in
 * pair order as wn__stage_verify_edges (the pair rule) or wn__stage_verify
 * (union-find) take them, so the edges, unions and counts are theirs. */
static int gather_verify(void *ud, struct wn_pair_verifier *pv,
                         const wn_docpair *pairs, size_t npairs,
                         struct wn_uf *uf, uint64_t *verified, uint64_t *edges,
                         struct wn_edges *e)
{
    struct gather *g = ud;
    /* Made by the rule's joins, which also set its word counts. */
    int rc = g->have_dv ? WN_OK
                        : wn__dist_verifier_init(&g->dv, pv->sk, 0, g->size,
                                                 g->pl->n, g->pl->owner,
                                                 g->unit_docs, pv->sig_fd,
                                                 pv->docs, g->t, g->o->cancel);
    if (!g->have_dv)
        g->dv.memory = g->o->memory;
    g->have_dv = true;
    uint8_t *codes = wn__malloc(npairs ? npairs : 1);
    if (!rc && !codes)
        rc = WN_ENOMEM;
    if (!rc)
        rc = wn__dist_verdicts_run(&g->dv, pairs, npairs, codes, NULL);
    for (size_t i = 0; !rc && i < npairs; i++) {
        wn_docno a = wn__pair_a(pairs[i]), b = wn__pair_b(pairs[i]);
        if (!uf) {
            if (codes[i])
                rc = wn__edge_push(e, pairs[i], (uint8_t)(codes[i] - 1), NULL);
            continue;
        }
        if (wn__uf_find(uf, a) == wn__uf_find(uf, b))
            continue;
        (*verified)++;
        if (codes[i]) {
            (*edges)++;
            wn__uf_union(uf, a, b);
        }
    }
    if (!rc && !uf)
        *verified += npairs;
    wn__free(codes);
    return rc;
}

/* The job's rule joins (wn_dedup_source.rule_join): across every rank
 * (rulejoin.h). Rank 0's own documents' anchors are in the job's anchor
 * spills, their records in its verification spill (wn_pass1.remote); its
 * word counts become the run's. */
static int rule_join(struct gather *g, const struct wn_rule_join_in *in,
                     struct wn_cms *words, bool keep, wn_docpair **pairs,
                     size_t *npairs, size_t *cap, struct wn_rule_join_stats *st)
{
    assert(g->have_dv && in->n == g->ndocs);
    struct wn_dist_rule r = {
        .sk = in->sk,
        .v = &g->dv,
        .ndocs = in->n,
        .skip = in->skip,
        .words = words,
        .anch_f = in->anch_f,
        .nanch = in->nanch,
        .nfiles = WN_ANCHOR_FILES,
        .job_format = true,
        .anchor_bucket_max = in->anchor_bucket_max,
        .anchor_hits = in->anchor_hits,
        .memory = in->memory,
        .keep_pairs = keep,
        .tmp_dir = spill_dir(g->o),
        .cancel = in->cancel,
        .t = g->t,
    };
    return wn__dist_rule_join(&r, pairs, npairs, cap, st);
}

static int gather_rule_join(void *ud, const struct wn_rule_join_in *in,
                            struct wn_cms *words, wn_docpair **pairs,
                            size_t *npairs, size_t *cap,
                            struct wn_rule_join_stats *st)
{
    struct gather *g = ud;
    assert(!g->have_dv && in->n == g->ndocs);
    int rc = wn__dist_verifier_init(&g->dv, in->sk, 0, g->size, g->pl->n,
                                    g->pl->owner, g->unit_docs, in->sig_fd,
                                    in->docs, g->t, g->o->cancel);
    g->dv.memory = g->o->memory;
    g->have_dv = true;
    return rc ? rc : rule_join(g, in, words, false, pairs, npairs, cap, st);
}

/* The joins with the pairs kept at their owners (wn_dedup_source.join_owned,
 * pairs_at_owners): the band join and the rule's joins leave each rank the
 * pairs it found, which then go to the owners of their first documents;
 * rank 0 keeps its share in g->owned for gather_verify_owned. */
static int gather_join_owned(void *ud, const struct wn_join_in *in,
                             const struct wn_rule_join_in *rin,
                             struct wn_cms *words, uint64_t *candidates,
                             struct wn_join_stats *st,
                             struct wn_rule_join_stats *rst)
{
    struct gather *g = ud;
    assert(!g->have_dv && !g->owned);
    wn_docpair *pairs = NULL;
    size_t npairs = 0;
    int rc = join_keys(g, in, true, &pairs, &npairs, st);
    /* Without lead words no record is read before the verification, which
     * sets the verifier's records (gather_verify_owned). */
    if (!rc) {
        rc = wn__dist_verifier_init(
            &g->dv, g->sk, 0, g->size, g->pl->n, g->pl->owner, g->unit_docs,
            rin ? rin->sig_fd : -1, rin ? rin->docs : NULL, g->t, g->o->cancel);
        g->dv.memory = g->o->memory;
        g->have_dv = true; /* released with the gather, even half made */
    }
    size_t cap = npairs;
    if (!rc && rin)
        rc = rule_join(g, rin, words, true, &pairs, &npairs, &cap, rst);
    if (!rc)
        rc =
            wn__dist_pairs_to_owners(&g->dv, &pairs, &npairs, &cap, candidates);
    if (rc) {
        wn__free(pairs);
        return rc;
    }
    g->owned = pairs;
    g->nowned = npairs;
    return WN_OK;
}

/* The verification of the pairs kept at their owners
 * (wn_dedup_source.verify_owned): every rank its own, the accepted pairs
 * to e. */
static int gather_verify_owned(void *ud, struct wn_pair_verifier *pv,
                               struct wn_edges *e)
{
    struct gather *g = ud;
    assert(g->have_dv);
    assert(g->dv.fd < 0 || g->dv.fd == pv->sig_fd);
    g->dv.fd = pv->sig_fd;
    g->dv.docs = pv->docs;
    /* dv.wt: the word counts the rule's joins set, or none (no lead
     * words). */
    int rc = wn__dist_verify_owned(&g->dv, g->owned, g->nowned, e);
    wn__free(g->owned);
    g->owned = NULL;
    g->nowned = 0;
    return rc;
}

/* The verdicts of the removals that are no exact copies, each against its
 * representative, in document order (the order of the fates). */
static int decide_removals(struct gather *g, const struct wn_dedup_job *j)
{
    const struct wn_clustering *c = &j->c;
    for (int pass = 0; pass < 2; pass++) {
        size_t n = 0;
        /* A record not in play is kept; those in play come in document
         * order, as the fates take them. */
        for (size_t k = 0; k < c->m; k++) {
            wn_docno i = c->doc[k];
            wn_docno r = c->rep[c->root[k]];
            if (r == i || wn__egroup_of(&j->eg, i) == wn__egroup_of(&j->eg, r))
                continue;
            if (pass)
                g->rem[n] = wn__pair(WN_MIN(r, i), WN_MAX(r, i));
            n++;
        }
        if (!pass) {
            g->nrem = n;
            g->rem = wn__reallocarray(NULL, n ? n : 1, sizeof(*g->rem));
            g->dec = wn__reallocarray(NULL, n ? n : 1, sizeof(*g->dec));
            if (!g->rem || !g->dec)
                return WN_ENOMEM;
        }
    }
    int rc = wn__dist_verdicts_run(&g->dv, g->rem, g->nrem, NULL, g->dec);
    int done = wn__dist_verdicts_done(&g->dv);
    return rc ? rc : done;
}

/* The job's verdict of a removal (wn_dedup_source.decide): the next of
 * those decide_removals fetched. */
static int gather_decide(void *ud, wn_docno a, wn_docno b,
                         struct wn_pair_decision *out)
{
    struct gather *g = ud;
    if (g->next_rem >= g->nrem || g->rem[g->next_rem] != wn__pair(a, b))
        return WN_EIO; /* not the removals the clustering made */
    *out = g->dec[g->next_rem++];
    return WN_OK;
}

/* Rank 0's walk over the fates: removed.jsonl, and one bit per document
 * of each rank, in its reading order (set: kept). */
struct fate_walk {
    struct gather *g;
    struct wn_dedup_job *j;
    const struct wn_pass2_out *out;
    struct wn_buf line;
    uint8_t **bits; /* per rank */
    uint64_t *seen; /* per rank: its documents walked */
    size_t next;    /* the unit after that of the last document */
    uint64_t left;  /* documents of that unit not walked */
};

static int walk_fate(void *ud, const struct wn_fate *f)
{
    struct fate_walk *w = ud;
    const struct plan *pl = w->g->pl;
    if ((f->index & 4095) == 0)
        wn__frame_stage(w->g->f, "write", "records", f->index, w->j->docs.n);
    while (w->left == 0) {
        if (w->next >= pl->n)
            return WN_EIO; /* more fates than documents taken */
        w->left = w->g->unit_docs[w->next++];
    }
    w->left--;
    int k = pl->owner[w->next - 1];
    uint64_t i = w->seen[k]++;
    if (!f->removed) {
        w->bits[k][i >> 3] |= (uint8_t)(1u << (i & 7));
        return WN_OK;
    }
    w->line.len = 0;
    int rc = wn__removed_line(&w->j->sk, f, &w->line);
    return rc ? rc
              : wn__outfile_write(w->out->removed, w->line.data, w->line.len);
}

/* Rank k's message of fates: struct wire_fates, path, bits. */
static int send_fates(int k, const char *path, uint64_t ndocs,
                      const uint8_t *bits, struct wn_buf *b,
                      struct wn_dist_traffic *t)
{
    struct wire_fates w = {strlen(path), ndocs};
    b->len = 0;
    int rc = wn__buf_append(b, &w, sizeof(w));
    if (!rc)
        rc = wn__buf_append(b, path, (size_t)w.path_len);
    if (!rc)
        rc = wn__buf_append(b, bits, (size_t)(ndocs / 8 + 1));
    if (!rc && b->len > INT_MAX)
        rc = WN_ELIMIT;
    if (!rc && MPI_Send(b->data, (int)b->len, MPI_BYTE, k, TAG_FATES,
                        MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    if (!rc)
        t->fates += b->len;
    return rc;
}

/*
 * The run's writing (wn_dedup_source.write), in place of pass 2: rank 0
 * writes removed.jsonl from the fates and sends every other rank the
 * fates of its documents with the name of the temporary kept.jsonl; then
 * every rank, rank 0 too, writes its units' kept lines into it (kept.c).
 * The run publishes after this returns, so only once every rank has
 * written and synced its part.
 */
static int gather_write(void *ud, struct wn_dedup_job *j, struct wn_frame *f,
                        const struct wn_pass2_out *out)
{
    struct gather *g = ud;
    const struct plan *pl = g->pl;
    size_t n = (size_t)g->size;
    struct fate_walk w = {.g = g, .j = j, .out = out};
    uint64_t *rdocs = wn__calloc(n, sizeof(*rdocs));
    w.bits = wn__calloc(n, sizeof(*w.bits));
    w.seen = wn__calloc(n, sizeof(*w.seen));
    int rc = rdocs && w.bits && w.seen ? WN_OK : WN_ENOMEM;
    for (size_t u = 0; !rc && u < pl->n; u++)
        rdocs[pl->owner[u]] += g->unit_docs[u];
    for (size_t k = 0; !rc && k < n; k++) {
        w.bits[k] = wn__calloc((size_t)(rdocs[k] / 8 + 1), 1);
        rc = w.bits[k] ? WN_OK : WN_ENOMEM;
    }
    /* The verification ran at the owners: so do the removals' verdicts. */
    if (!rc && g->have_dv)
        rc = decide_removals(g, j);
    if (!rc)
        rc = wn__dedup_job_fates(j, walk_fate, &w);
    for (size_t k = 0; !rc && k < n; k++)
        if (w.seen[k] != rdocs[k])
            rc = WN_EIO;
    if (!rc && fflush(out->kept->f) != 0)
        rc = wn__status_from_errno(errno);
    const char *path = out->kept->tmp_path;
    for (size_t k = 1; !rc && k < n; k++)
        rc = send_fates((int)k, path, rdocs[k], w.bits[k], &w.line, g->t);
    if (!rc) {
        struct opener op = {pl, g->inputs, &f->ro, g->o->cancel};
        struct wn_dist_units un = plan_units(pl, &op);
        char where[sizeof(f->error_path)] = "";
        struct wn_dist_fail fl = {where, sizeof(where), 0, false};
        uint64_t total = 0;
        rc = wn__dist_kept_write(&g->kept, &un, w.bits[0], path,
                                 fileno(out->kept->f), !g->o->no_fsync, 0,
                                 &total, &fl);
        if (rc && fl.sys_errno)
            wn__io_fail(&f->od.note, where, fl.sys_errno, rc);
        else if (rc && where[0])
            wn__frame_error_path(f, where);
    }
    for (size_t k = 0; w.bits && k < n; k++)
        wn__free(w.bits[k]);
    wn__free(w.bits);
    wn__free(w.seen);
    wn__free(rdocs);
    wn__buf_release(&w.line);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The entry points                                                          */
/* ------------------------------------------------------------------------ */

int wn_dist_dedup(const char *const *inputs, size_t ninputs, const char *outdir,
                  const struct wn_dedup_options *opts,
                  struct wn_dedup_report *rep, int *rank, int *size,
                  struct wn_dist_traffic *t)
{
    assert(rep && rank && size && opts && t);
    memset(t, 0, sizeof(*t));
    memset(rep, 0, sizeof(*rep));
    *rank = 0;
    *size = 1;
    int rc = mpi_up(rank, size);
    if (rc)
        return rc;
    for (size_t i = 0; i < ninputs; i++) {
        if (strcmp(inputs[i], "-") == 0) {
            snprintf(rep->error_path, sizeof(rep->error_path), "-");
            return WN_EINVAL;
        }
    }
    struct plan pl;
    rc = plan_make(&pl, inputs, ninputs, *rank, *size, rep->error_path,
                   sizeof(rep->error_path));
    if (rc) {
        plan_release(&pl);
        return rc;
    }
    if (*rank != 0) {
        struct wn_dedup_options o = *opts;
        o.on_reject = NULL; /* rank 0 reports every record */
        o.on_progress = NULL;
        rc = remote_rank(inputs, &pl, &o, *rank, *size, rep, t);
        plan_release(&pl);
        return rc;
    }
    struct gather g;
    memset(&g, 0, sizeof(g));
    g.src.start = gather_start;
    g.src.next = gather_next;
    g.src.ud = &g;
    g.inputs = inputs;
    g.pl = &pl;
    g.o = opts;
    g.t = t;
    g.size = *size;
    g.src.join = gather_join;   /* so rank 0's band files hold its own keys */
    g.src.exact = gather_exact; /* the other ranks keep their hashes */
    g.src.remote_keys = true;
    g.src.keep_value = gather_keep_value;
    g.src.write = gather_write;
    g.unit_docs = wn__calloc(pl.n ? pl.n : 1, sizeof(*g.unit_docs));
    rc = g.unit_docs ? WN_OK : WN_ENOMEM;
    if (!rc)
        rc = wn_sketcher_create(opts, &g.sk);
    if (!rc)
        rc = wn_sketch_create(g.sk, &g.s);
    if (!rc)
        rc = wn__slim_head(g.sk, g.s, g.head);
    if (!rc && wn__dist_verifies_at_owners(g.sk)) {
        g.src.verify = gather_verify;
        g.src.decide = gather_decide;
        g.src.remote_sketches = true;
    }
    if (!rc && wn__dist_rule_at_owners(g.sk))
        g.src.rule_join = gather_rule_join;
    if (!rc && wn__dist_pairs_at_owners(g.sk)) {
        g.src.join_owned = gather_join_owned;
        g.src.verify_owned = gather_verify_owned;
    }
    if (!rc)
        rc = wn__dedup_run_source(inputs, ninputs, outdir, opts, &g.src, rep);
    wn_reader_free(g.r);
    wn__buf_release(&g.in);
    wn__buf_release(&g.source);
    wn__buf_release(&g.thick);
    if (g.have_dv)
        wn__dist_verifier_release(&g.dv);
    wn__free(g.owned);
    wn__free(g.rem);
    wn__free(g.dec);
    wn__dist_kept_release(&g.kept);
    wn_sketch_free(g.s);
    wn_sketcher_free(g.sk);
    wn__free(g.unit_docs);
    plan_release(&pl);
    return rc;
}

void wn_dist_abort(int code)
{
    int inited = 0;
    MPI_Initialized(&inited);
    if (inited)
        MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

void wn_dist_finalize(void)
{
    int inited = 0, done = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&done);
    if (inited && !done)
        MPI_Finalize();
}
