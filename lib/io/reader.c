/*
 * reader.c - the record reader: JSONL lines from plain, gzip or zstd files
 * and standard input, and whole .txt files from directory trees.
 *
 * JSONL: decompressed bytes land in one window buf[0..cap); the unread part
 * is buf[start..end) and no line feed occurs in buf[start..scan), so each
 * byte is searched once. A line must fit in max_record_bytes: the window
 * never grows past max_record_bytes + 1, and a longer line is reported as
 * WN_ETOOBIG from the prefix already read, then skipped without buffering.
 * Memory is therefore O(max_record_bytes + block), independent of file
 * size; time is O(bytes) plus the JSON scan of each line.
 *
 * Directories are listed completely when reached (names only, sorted
 * bytewise so that the record order does not depend on the file system),
 * then read one .txt file per record, or a JSONL member (.jsonl, .json,
 * .ndjson, maybe with .gz or .zst) line by line as above. An entry that
 * cannot be examined (lstat, opendir or readdir fails) is listed with its
 * errno and becomes one rejected record: one bad subdirectory must not cost
 * the rest of the tree, and the reason must be the real one.
 *
 * A damaged compressed region (stream.c resynchronizes) is one WN_ETRUNC
 * record holding the partial line before it; the next bytes start a line.
 *
 * Fingerprints (reader.h): a running hash of the delivered bytes per input,
 * 8 bytes per step with one multiply, so it costs little next to the scan.
 *
 * Record pointers point into the window or into reader-owned buffers and
 * stay valid until the next call; strings without escapes are not copied.
 */
#include "io/json.h"
#include "io/reader.h"
#include "io/stream.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_RECORD ((size_t)64 << 20)

/* A streaming 64-bit hash: xxHash64-style rounds on four lanes of 8-byte
 * words, each 32-byte block a word per lane, so that the four multiply
 * chains run side by side (one chain did 1 byte a cycle: 2% of a dedup
 * run over 1 GB, all of it waiting on multiplies). The value is compared
 * only within one run (pass 1 against pass 2), never saved: it may
 * change. */
struct fphash {
    uint64_t v[4];
    uint64_t total;
    unsigned char tail[32];
    unsigned ntail;
};

#define FP_P1 UINT64_C(0x9E3779B185EBCA87)
#define FP_P2 UINT64_C(0xC2B2AE3D27D4EB4F)

static uint64_t fp_round(uint64_t h, uint64_t w)
{
    h ^= w * FP_P2;
    h = (h << 31) | (h >> 33);
    return h * FP_P1;
}

/* One 32-byte block, a word per lane; host order: both passes run on one
 * host. */
static void fp_block(uint64_t v[4], const unsigned char *b)
{
    for (unsigned i = 0; i < 4; i++) {
        uint64_t w;
        memcpy(&w, b + (size_t)8 * i, 8);
        v[i] = fp_round(v[i], w);
    }
}

static void fp_update(struct fphash *f, const void *p, size_t n)
{
    const unsigned char *b = p;
    f->total += n;
    if (f->ntail) {
        size_t k = WN_MIN(n, sizeof(f->tail) - f->ntail);
        memcpy(f->tail + f->ntail, b, k);
        f->ntail += (unsigned)k;
        b += k;
        n -= k;
        if (f->ntail < sizeof(f->tail))
            return;
        fp_block(f->v, f->tail);
        f->ntail = 0;
    }
    uint64_t v0 = f->v[0], v1 = f->v[1], v2 = f->v[2], v3 = f->v[3];
    for (; n >= 32; n -= 32, b += 32) {
        uint64_t w[4];
        memcpy(w, b, 32);
        v0 = fp_round(v0, w[0]);
        v1 = fp_round(v1, w[1]);
        v2 = fp_round(v2, w[2]);
        v3 = fp_round(v3, w[3]);
    }
    f->v[0] = v0;
    f->v[1] = v1;
    f->v[2] = v2;
    f->v[3] = v3;
    memcpy(f->tail, b, n);
    f->ntail = (unsigned)n;
}

static void fp_u64(struct fphash *f, uint64_t v)
{
    fp_update(f, &v, sizeof(v));
}

static uint64_t fp_final(const struct fphash *f)
{
    uint64_t h = f->total;
    for (unsigned i = 0; i < 4; i++)
        h = fp_round(h, f->v[i]);
    for (unsigned i = 0; i < f->ntail; i++)
        h = fp_round(h, f->tail[i]);
    h ^= h >> 33;
    h *= FP_P2;
    h ^= h >> 29;
    return h;
}

/* A directory entry: a file to read, or one that could not be examined. */
struct dir_entry {
    char *rel; /* relative path */
    int err;   /* errno of the failed lstat/opendir/readdir, or 0 */
};

struct wn_reader {
    char **paths;
    size_t n;
    char *id_field, *text_field;
    size_t id_field_len, text_field_len;
    size_t max_record;
    bool raw_only;
    size_t block;
    volatile int *cancel; /* see wn__reader_set_cancel */

    size_t cur;       /* index of the input being read */
    bool opened;      /* paths[cur] is open */
    bool is_dir;      /* the input is a directory of text files... */
    bool single_text; /* ...or one .txt file given by name */
    int err;          /* sticky status after a failure */
    const char *err_path;

    /* JSONL input: see the window invariant above. */
    struct wn_stream *st;
    char *buf;
    size_t cap, start, scan, end;
    bool eof;
    bool skipping; /* discarding the rest of a too-long line */
    uint64_t line;

    /* Directory input. */
    struct dir_entry *files; /* sorted by relative path */
    size_t nfiles, files_cap, next_file;
    bool in_member;       /* a JSONL member of the directory is open */
    struct wn_buf member; /* its full path, NUL-terminated */
    const char *src;      /* source of JSONL records being read */
    size_t root_len;      /* length of the root prefix in path, with '/' */
    struct wn_buf path;   /* a full path, NUL-terminated */
    struct wn_buf file;   /* contents of the current text file */

    /* A byte range of the single input (reader.h): lines start after the
     * first line feed at or past range_begin (when > 0) and a line that
     * starts past range_end ends the input. first: where the first line
     * of the range starts. */
    bool ranged, range_has_first;
    uint64_t range_begin, range_end, range_line0, range_first;

    struct wn_buf id;   /* unescaped or synthesized id */
    struct wn_buf text; /* unescaped text */
    uint64_t bytes, blank;
    uint64_t consumed; /* bytes of the current input before buf[0] */

    /* Fingerprints (reader.h) of the current input. */
    struct wn_prints *rec_to;
    const struct wn_prints *want;
    const struct wn_input_print *check; /* compared with, or NULL */
    struct fphash fp;
    uint64_t in_bytes, in_records;

    /* Progress (wn__reader_set_progress). */
    struct wn_progress_sink prog;
    struct wn_progress pr;
    uint64_t prog_next; /* bytes or records at the next report */
};

void wn__reader_set_block_size(struct wn_reader *r, size_t n)
{
    if (n)
        r->block = n;
}

void wn__reader_set_progress(struct wn_reader *r,
                             const struct wn_progress_sink *sink,
                             const char *stage, uint64_t total_bytes)
{
    r->prog = sink ? *sink : (struct wn_progress_sink){0};
    memset(&r->pr, 0, sizeof(r->pr));
    r->pr.stage = stage;
    r->pr.unit = "records";
    r->pr.total_bytes = total_bytes;
    r->prog_next = 0;
}

uint64_t wn__inputs_bytes(const char *const *paths, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0 || !S_ISREG(st.st_mode))
            return 0;
        total += (uint64_t)st.st_size;
    }
    return total;
}

/* Report progress every PROGRESS_STEP bytes or records. */
#define PROGRESS_STEP ((uint64_t)1 << 20)

static void progress(struct wn_reader *r)
{
    r->pr.records++;
    /* The bytes of the records delivered, not of the window read ahead. */
    r->pr.bytes = r->bytes - (r->is_dir ? 0 : r->end - r->start);
    if (r->pr.bytes + r->pr.records * 256 < r->prog_next)
        return;
    r->prog_next = r->pr.bytes + r->pr.records * 256 + PROGRESS_STEP;
    /* A compressed input's decompressed bytes say nothing of its size. */
    if (r->opened && !r->is_dir && r->st &&
        wn__stream_format(r->st) != WN_STREAM_PLAIN)
        r->pr.total_bytes = 0;
    r->prog.fn(r->prog.ud, &r->pr);
}

void wn__reader_set_cancel(struct wn_reader *r, volatile int *cancel)
{
    r->cancel = cancel;
}

static bool cancelled(const struct wn_reader *r)
{
    return r->cancel && *r->cancel;
}

int wn__reader_record(struct wn_reader *r, struct wn_prints *p)
{
    assert(p->n == 0 && !p->paths && !p->v);
    p->v = wn__calloc(r->n ? r->n : 1, sizeof(*p->v));
    p->paths = wn__calloc(r->n ? r->n : 1, sizeof(*p->paths));
    bool ok = p->v && p->paths;
    if (ok)
        p->n = r->n;
    for (size_t i = 0; ok && i < r->n; i++) {
        p->paths[i] = wn__strdup(r->paths[i]);
        ok = p->paths[i] != NULL;
    }
    if (!ok) {
        wn__prints_release(p);
        return WN_ENOMEM;
    }
    r->rec_to = p;
    return WN_OK;
}

void wn__reader_verify(struct wn_reader *r, const struct wn_prints *p)
{
    r->want = p;
}

void wn__prints_release(struct wn_prints *p)
{
    for (size_t i = 0; p->paths && i < p->n; i++)
        wn__free(p->paths[i]);
    wn__free(p->paths);
    wn__free(p->v);
    memset(p, 0, sizeof(*p));
}

/* Account n delivered bytes of the current input. WN_ECHANGED when the
 * input checked against pass 1 has already delivered more than it did. */
static int fp_bytes(struct wn_reader *r, const void *p, size_t n)
{
    fp_update(&r->fp, p, n);
    r->in_bytes += n;
    if (r->check && r->in_bytes > r->check->bytes)
        return WN_ECHANGED;
    return WN_OK;
}

/* The current input has been read to its end. */
static int fp_finish(struct wn_reader *r)
{
    struct wn_input_print pr = {fp_final(&r->fp), r->in_bytes, r->in_records,
                                true};
    if (r->rec_to && r->cur < r->rec_to->n)
        r->rec_to->v[r->cur] = pr;
    if (r->check && (r->check->hash != pr.hash || r->check->bytes != pr.bytes ||
                     r->check->records != pr.records))
        return WN_ECHANGED;
    return WN_OK;
}

/* Whether path can be read; errno is kept from the failing call. */
static int check_path(const char *path, bool *seen_stdin)
{
    struct stat st;
    if (!path)
        return WN_EINVAL;
    if (strcmp(path, "-") == 0) {
        if (*seen_stdin)
            return WN_EINVAL; /* standard input can be read only once */
        *seen_stdin = true;
        return fstat(STDIN_FILENO, &st) ? WN_EOPEN : WN_OK;
    }
    if (stat(path, &st))
        return WN_EOPEN;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return WN_EOPEN;
        closedir(d);
        return WN_OK;
    }
    /* A named pipe is not opened to be checked: opening and closing it
     * would let its writer start and then lose what it wrote. */
    if (!S_ISREG(st.st_mode))
        return access(path, R_OK) == 0 ? WN_OK : WN_EOPEN;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return WN_EOPEN;
    close(fd);
    return WN_OK;
}

int wn_reader_create(const char *const *paths, size_t n,
                     const struct wn_reader_options *opts,
                     struct wn_reader **out, size_t *bad_input)
{
    if (!out || (n && !paths) || n > UINT32_MAX) /* rec->input is 32-bit */
        return WN_EINVAL;
    bool seen_stdin = false;
    for (size_t i = 0; i < n; i++) {
        int rc = check_path(paths[i], &seen_stdin);
        if (rc) {
            if (bad_input)
                *bad_input = i;
            return rc;
        }
    }

    struct wn_reader *r = wn__calloc(1, sizeof(*r));
    if (!r)
        return WN_ENOMEM;
    r->block = WN_STREAM_BLOCK;
    r->max_record = opts && opts->max_record_bytes ? opts->max_record_bytes
                                                   : DEFAULT_MAX_RECORD;
    /* The window holds max_record + 1 bytes; keep that representable. */
    r->max_record = WN_MIN(r->max_record, SIZE_MAX / 4);
    r->raw_only = opts && opts->raw_only;
    r->id_field = wn__strdup(opts && opts->id_field ? opts->id_field : "id");
    r->text_field =
        wn__strdup(opts && opts->text_field ? opts->text_field : "text");
    r->paths = wn__calloc(n, sizeof(*r->paths));
    bool ok = r->id_field && r->text_field && r->paths;
    if (r->paths)
        r->n = n;
    for (size_t i = 0; ok && i < n; i++) {
        r->paths[i] = wn__strdup(paths[i]);
        ok = r->paths[i] != NULL;
    }
    if (!ok) {
        wn_reader_free(r);
        return WN_ENOMEM;
    }
    r->id_field_len = strlen(r->id_field);
    r->text_field_len = strlen(r->text_field);
    *out = r;
    return WN_OK;
}

static int add_entry(struct wn_reader *r, const char *rel, int err)
{
    if (WN_GROW(r->files, r->files_cap, r->nfiles + 1))
        return WN_ENOMEM;
    char *c = wn__strdup(rel);
    if (!c)
        return WN_ENOMEM;
    r->files[r->nfiles++] = (struct dir_entry){c, err};
    return WN_OK;
}

static bool has_suffix(const char *name, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(name + n - k, suf, k) == 0;
}

static bool has_txt_suffix(const char *name)
{
    return has_suffix(name, strlen(name), ".txt");
}

/* A JSONL shard by its name: .jsonl, .json or .ndjson, then maybe .gz or
 * .zst (the compression itself is still detected by magic bytes). */
static bool has_jsonl_suffix(const char *name)
{
    size_t n = strlen(name);
    if (has_suffix(name, n, ".gz"))
        n -= 3;
    else if (has_suffix(name, n, ".zst"))
        n -= 4;
    return has_suffix(name, n, ".jsonl") || has_suffix(name, n, ".json") ||
           has_suffix(name, n, ".ndjson");
}

/*
 * Collect the .txt and JSONL files under the directory named by r->path.
 * Symbolic links to regular files are followed; links to directories are
 * not, which rules out cycles. What cannot be examined (lstat, opendir or
 * readdir fails, e.g. a path over PATH_MAX or a directory that cannot be
 * searched) is listed with its errno, to become a rejected record: only
 * running out of memory fails the walk. The root was checked by
 * wn_reader_create; if it cannot be opened now, that is an error.
 */
static int walk(struct wn_reader *r, bool root)
{
    DIR *d = opendir(r->path.data);
    if (!d) {
        if (root)
            return WN_EOPEN;
        return add_entry(r, r->path.data + r->root_len, errno);
    }
    size_t base = r->path.len;
    int rc = WN_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            r->path.len = base;
            r->path.data[base] = '\0';
            if (errno)
                rc = add_entry(r, root ? "." : r->path.data + r->root_len,
                               errno);
            break;
        }
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        r->path.len = base;
        rc = wn__buf_printf(&r->path, "/%s", name);
        if (rc)
            break;
        const char *rel = r->path.data + r->root_len;
        struct stat st;
        errno = 0;
        if (r->path.len >= PATH_MAX || lstat(r->path.data, &st)) {
            rc = add_entry(r, rel, errno ? errno : ENAMETOOLONG);
            if (rc)
                break;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = walk(r, false);
            if (rc)
                break;
            continue;
        }
        if (!has_txt_suffix(name) && !has_jsonl_suffix(name))
            continue;
        /* A dangling link is listed: reading it fails, and the record is
         * rejected rather than silently missing. */
        bool dangling = S_ISLNK(st.st_mode) && stat(r->path.data, &st);
        if (dangling || S_ISREG(st.st_mode)) {
            rc = add_entry(r, rel, 0);
            if (rc)
                break;
        }
    }
    closedir(d);
    r->path.len = base;
    r->path.data[base] = '\0';
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct dir_entry *)a)->rel,
                  ((const struct dir_entry *)b)->rel);
}

static int open_dir(struct wn_reader *r, const char *root)
{
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    r->path.len = 0;
    int rc = wn__buf_append(&r->path, root, n);
    if (!rc)
        rc = wn__buf_putc(&r->path, '\0');
    if (rc)
        return rc;
    r->path.len = n;
    r->root_len = n + 1;
    rc = walk(r, true);
    if (rc) {
        r->err_path = r->path.data;
        return rc;
    }
    if (r->nfiles > 1)
        qsort(r->files, r->nfiles, sizeof(*r->files), cmp_entry);
    return WN_OK;
}

static int open_input(struct wn_reader *r)
{
    const char *path = r->paths[r->cur];
    struct stat st;
    r->start = r->scan = r->end = 0;
    r->consumed = 0;
    r->eof = r->skipping = false;
    r->line = 0;
    r->src = path;
    memset(&r->fp, 0, sizeof(r->fp));
    r->in_bytes = r->in_records = 0;
    r->check = NULL;
    r->range_has_first = false;
    if (r->want && r->cur < r->want->n && r->want->v[r->cur].done &&
        strcmp(r->want->paths[r->cur], path) == 0)
        r->check = &r->want->v[r->cur];
    bool named = strcmp(path, "-") != 0 && stat(path, &st) == 0;
    r->is_dir = named && S_ISDIR(st.st_mode);
    r->single_text = named && S_ISREG(st.st_mode) && has_txt_suffix(path);
    r->opened = true;
    if (r->is_dir)
        return open_dir(r, path);
    if (r->single_text) {
        /* One document, its id the path as given. */
        r->path.len = 0;
        r->root_len = 0;
        int rc = wn__buf_putc(&r->path, '\0');
        if (!rc)
            rc = add_entry(r, path, 0);
        r->is_dir = rc == WN_OK;
        return rc;
    }
    int rc = wn__stream_open(path, r->block, &r->st);
    if (rc == WN_EOPEN && errno == EINTR && cancelled(r))
        return WN_EINTR; /* a signal, while a FIFO waited for its writer */
    if (rc == WN_OK)
        wn__stream_set_cancel(r->st, r->cancel);
    if (rc == WN_OK && r->ranged) {
        /* From the byte before the range: a line that crosses begin
         * belongs to the range before, one that starts at begin here. */
        uint64_t from = r->range_begin > 0 ? r->range_begin - 1 : 0;
        rc = wn__stream_seek_plain(r->st, from);
        r->consumed = from;
        r->line = r->range_line0;
        r->skipping = r->range_begin > 0;
    }
    return rc;
}

static void close_input(struct wn_reader *r)
{
    wn__stream_close(r->st);
    r->st = NULL;
    r->in_member = false;
    for (size_t i = 0; i < r->nfiles; i++)
        wn__free(r->files[i].rel);
    r->nfiles = r->next_file = 0;
    r->opened = false;
}

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    }
    return true;
}

/* Set rec->id from a string id token, unescaping into r->id if needed. */
static int string_id(struct wn_reader *r, struct wn_record *rec,
                     const struct wn_json_field *f)
{
    const char *tok = rec->raw + f->off;
    if (!f->escaped) {
        rec->id = tok + 1;
        rec->id_len = f->len - 2;
        return WN_OK;
    }
    r->id.len = 0;
    if (wn__buf_reserve(&r->id, f->len))
        return WN_ENOMEM;
    int rc = wn__json_unescape(tok, f->len, r->id.data, &rec->id_len);
    assert(rc == WN_OK); /* the scanner validated the token */
    rec->id = r->id.data;
    return rc;
}

/* Parse the fields of a JSONL record whose raw bytes are set. */
static int parse_fields(struct wn_reader *r, struct wn_record *rec)
{
    /* The text is decoded while it is scanned; room for the whole line. */
    r->text.len = 0;
    if (wn__buf_reserve(&r->text, rec->raw_len))
        return WN_ENOMEM;
    struct wn_json_field f[2] = {
        {.key = r->id_field, .key_len = r->id_field_len},
        {.key = r->text_field,
         .key_len = r->text_field_len,
         .dst = r->text.data},
    };
    size_t off;
    if (wn__json_scan_object(rec->raw, rec->raw_len, f, 2, &off)) {
        rec->status = WN_EPARSE;
        rec->error_offset = off;
        return WN_OK;
    }
    int rc = WN_OK;
    switch (f[0].type) {
    case WN_JSON_STRING:
        rc = string_id(r, rec, &f[0]);
        break;
    case WN_JSON_NUMBER:
        rec->id = rec->raw + f[0].off;
        rec->id_len = f[0].len;
        break;
    case WN_JSON_OTHER:
        rec->status = WN_EBADID;
        return WN_OK;
    default: /* absent or null: the caller makes SOURCE:LINE */
        break;
    }
    if (rc)
        return rc;
    if (f[1].type != WN_JSON_STRING) {
        rec->status = WN_ENOFIELD;
        return WN_OK;
    }
    if (f[1].escaped) {
        rec->text = r->text.data;
        rec->text_len = f[1].dst_len;
    } else {
        rec->text = rec->raw + f[1].off + 1;
        rec->text_len = f[1].len - 2;
    }
    return WN_OK;
}

/* Fill *rec for a JSONL line; returns 1 or WN_ENOMEM. */
static int json_record(struct wn_reader *r, struct wn_record *rec,
                       const char *raw, size_t n, int status)
{
    /* A byte-order mark (a file's first line, or files concatenated) is
     * not part of the record: kept.jsonl stays strict JSONL. */
    if (n >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0) {
        raw += 3;
        n -= 3;
    }
    struct wn_record x = {
        .raw = raw,
        .raw_len = n,
        .offset = r->consumed + (uint64_t)(raw - r->buf),
        .kind = WN_RECORD_JSON,
        .status = status,
        .input = (uint32_t)r->cur,
        .line = r->line,
        .source = r->src,
    };
    if (r->raw_only) {
        *rec = x;
        return 1;
    }
    if (status == WN_OK) {
        int rc = parse_fields(r, &x);
        if (rc)
            return rc;
    }
    if (x.status != WN_OK) {
        x.text = NULL;
        x.text_len = 0;
    }
    if (!x.id || x.status == WN_EBADID) {
        r->id.len = 0;
        if (wn__buf_printf(&r->id, "%s:%" PRIu64, x.source, x.line))
            return WN_ENOMEM;
        x.id = r->id.data;
        x.id_len = r->id.len;
    }
    *rec = x;
    return 1;
}

/* Read more bytes into the window, compacting or growing it first. */
static int refill(struct wn_reader *r)
{
    size_t limit = r->max_record + 1;
    if (!r->buf) {
        size_t cap = WN_MIN(WN_MIN(r->block, SIZE_MAX / 2) * 2, limit);
        r->buf = wn__malloc(cap);
        if (!r->buf)
            return WN_ENOMEM;
        r->cap = cap;
    }
    if (r->start > 0 && r->cap - r->end < r->block) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->consumed += r->start;
        r->end -= r->start;
        r->scan -= r->start;
        r->start = 0;
    }
    if (r->end == r->cap) {
        /* A partial line fills the window and is not over the cap. */
        assert(r->start == 0 && r->cap < limit);
        size_t cap = r->cap < limit / 2 ? r->cap * 2 : limit;
        char *b = wn__realloc(r->buf, cap);
        if (!b)
            return WN_ENOMEM;
        r->buf = b;
        r->cap = cap;
    }
    size_t got;
    int rc = wn__stream_read(r->st, r->buf + r->end, r->cap - r->end, &got);
    if (rc)
        return rc;
    if (got == 0)
        r->eof = true;
    rc = fp_bytes(r, r->buf + r->end, got);
    r->end += got;
    if (!r->ranged)
        r->bytes += got; /* a range counts its lines' bytes (range_over) */
    return rc;
}

/* Whether a byte range ends before the line at buf[start] (reader.h);
 * its bytes are counted when it does. */
static bool range_over(struct wn_reader *r)
{
    if (!r->ranged || r->skipping)
        return false;
    uint64_t at = r->consumed + r->start;
    if (!r->range_has_first) {
        r->range_has_first = true;
        r->range_first = at;
    }
    if (at < r->range_end && !(r->eof && r->start == r->end))
        return false;
    r->bytes = at - r->range_first;
    return true;
}

/* The next JSONL record of the current input: 1, 0 at its end, or < 0. */
static int next_line(struct wn_reader *r, struct wn_record *rec)
{
    for (;;) {
        if (range_over(r))
            return 0;
        char *nl = r->scan < r->end
                       ? memchr(r->buf + r->scan, '\n', r->end - r->scan)
                       : NULL;
        if (nl) {
            size_t ls = r->start, n = (size_t)(nl - r->buf) - ls;
            r->start = r->scan = ls + n + 1;
            if (r->skipping) {
                r->skipping = false; /* the too-long line ends here */
                continue;
            }
            r->line++;
            if (is_blank(r->buf + ls, n)) {
                r->blank++;
                continue;
            }
            return json_record(r, rec, r->buf + ls, n, WN_OK);
        }
        r->scan = r->end;
        if (r->skipping) {
            r->consumed += r->end;
            r->start = r->scan = r->end = 0;
        } else if (r->end - r->start > r->max_record) {
            /* Report the prefix now; the rest is dropped as it arrives. */
            size_t ls = r->start;
            r->line++;
            r->skipping = true;
            r->start = r->end;
            return json_record(r, rec, r->buf + ls, r->max_record, WN_ETOOBIG);
        }
        if (r->eof) {
            size_t ls = r->start, n = r->end - r->start;
            if (n == 0)
                return 0;
            r->start = r->end; /* a last line without a line feed */
            r->line++;
            if (is_blank(r->buf + ls, n)) {
                r->blank++;
                return 0;
            }
            return json_record(r, rec, r->buf + ls, n, WN_OK);
        }
        int rc = refill(r);
        if (rc == WN_ETRUNC) {
            /* Report the damage, with the partial line if there is one;
             * the stream resumes at the next intact member or frame,
             * whose bytes start a new line. */
            size_t ls = r->start, n = r->skipping ? 0 : r->end - r->start;
            r->skipping = false;
            r->start = r->scan = r->end;
            r->line++;
            fp_u64(&r->fp, r->line); /* where the damage was */
            return json_record(r, rec, r->buf + ls, n, WN_ETRUNC);
        }
        if (rc)
            return rc;
    }
}

/* A rejected record for a directory entry that could not be read. */
static int entry_rejected(struct wn_reader *r, struct wn_record *rec,
                          const char *rel, int status, int err)
{
    fp_update(&r->fp, &status, sizeof(status));
    fp_update(&r->fp, &err, sizeof(err));
    *rec = (struct wn_record){
        .raw = "",
        .id = rel,
        .id_len = strlen(rel),
        .kind = WN_RECORD_TEXTFILE,
        .status = status,
        .input = (uint32_t)r->cur,
        .source = r->path.data,
        .sys_errno = err,
    };
    return 1;
}

/* Open the JSONL member named by r->path; 1 with a rejected record in
 * *rec when it cannot be opened, 0 when it is open, or < 0. */
static int open_member(struct wn_reader *r, struct wn_record *rec,
                       const char *rel)
{
    r->member.len = 0;
    int rc = wn__buf_append(&r->member, r->path.data, r->path.len + 1);
    if (rc)
        return rc;
    rc = wn__stream_open(r->member.data, r->block, &r->st);
    if (rc == WN_EOPEN) {
        int e = errno;
        if (e == EINTR && cancelled(r))
            return WN_EINTR;
        return entry_rejected(r, rec, rel, WN_EOPEN, e);
    }
    if (rc)
        return rc;
    wn__stream_set_cancel(r->st, r->cancel);
    r->in_member = true;
    r->src = r->member.data;
    r->start = r->scan = r->end = 0;
    r->consumed = 0;
    r->eof = r->skipping = false;
    r->line = 0;
    return 0;
}

/* The next record of the current directory: 1, 0 at its end, or < 0. */
static int next_textfile(struct wn_reader *r, struct wn_record *rec)
{
    for (;;) {
        if (r->in_member) {
            int rc = next_line(r, rec);
            if (rc)
                return rc;
            wn__stream_close(r->st);
            r->st = NULL;
            r->in_member = false;
        }
        if (r->next_file == r->nfiles)
            return 0;
        const struct dir_entry *de = &r->files[r->next_file++];
        const char *rel = de->rel;
        r->path.len = r->single_text ? 0 : r->root_len - 1;
        int rc = wn__buf_printf(&r->path, r->single_text ? "%s" : "/%s", rel);
        if (rc)
            return rc;
        /* The member list is part of the fingerprint. */
        fp_update(&r->fp, rel, strlen(rel) + 1);
        if (de->err)
            return entry_rejected(r, rec, rel, WN_EOPEN, de->err);
        if (r->single_text || !has_jsonl_suffix(rel))
            break;
        rc = open_member(r, rec, rel);
        if (rc)
            return rc;
    }
    const char *rel = r->files[r->next_file - 1].rel;
    int status = WN_OK, err = 0;
    r->file.len = 0;
    int fd = open(r->path.data, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        /* Unreadable or vanished: a rejected record, not a stop. */
        err = errno;
        if (err == EINTR && cancelled(r))
            return WN_EINTR;
        return entry_rejected(r, rec, rel, WN_EOPEN, err);
    }
    for (;;) {
        size_t room = r->max_record + 1 - r->file.len;
        if (room == 0) {
            status = WN_ETOOBIG;
            break;
        }
        size_t want = WN_MIN(room, r->block);
        if (wn__buf_reserve(&r->file, want)) {
            close(fd);
            return WN_ENOMEM;
        }
        ssize_t k;
        do {
            k = read(fd, r->file.data + r->file.len, want);
        } while (k < 0 && errno == EINTR && !cancelled(r));
        if (k < 0) {
            int e = errno;
            close(fd);
            if (e == EINTR)
                return WN_EINTR;
            /* e.g. EISDIR, EIO: a rejected record */
            return entry_rejected(r, rec, rel, WN_EIO, e);
        }
        if (k == 0)
            break;
        int frc = fp_bytes(r, r->file.data + r->file.len, (size_t)k);
        r->file.len += (size_t)k;
        r->bytes += (uint64_t)k;
        if (frc) {
            close(fd);
            return frc;
        }
    }
    close(fd);
    fp_update(&r->fp, &status, sizeof(status));
    size_t n = WN_MIN(r->file.len, r->max_record);
    *rec = (struct wn_record){
        .raw = r->file.data ? r->file.data : "",
        .raw_len = n,
        .id = rel,
        .id_len = strlen(rel),
        .text = status == WN_OK ? (r->file.data ? r->file.data : "") : NULL,
        .text_len = status == WN_OK ? n : 0,
        .kind = WN_RECORD_TEXTFILE,
        .status = status,
        .input = (uint32_t)r->cur,
        .line = 0,
        .source = r->path.data,
    };
    return 1;
}

int wn_reader_next(struct wn_reader *r, struct wn_record *rec)
{
    if (r->err)
        return r->err;
    while (r->cur < r->n) {
        int rc = r->opened ? WN_OK : open_input(r);
        if (rc == WN_OK)
            rc = r->is_dir ? next_textfile(r, rec) : next_line(r, rec);
        if (rc > 0 && r->check && r->in_records == r->check->records)
            rc = WN_ECHANGED; /* more records than in pass 1 */
        if (rc > 0) {
            r->in_records++;
            if (r->prog.fn)
                progress(r);
            return 1;
        }
        if (rc == 0)
            rc = fp_finish(r);
        if (rc < 0) {
            r->err = rc;
            if (!r->err_path && r->in_member && rc != WN_ECHANGED)
                r->err_path = r->member.data; /* name the shard */
            if (!r->err_path)
                r->err_path = r->paths[r->cur];
            return rc;
        }
        close_input(r);
        r->cur++;
    }
    return 0;
}

const char *wn_record_reason(const struct wn_record *rec, char *buf,
                             size_t size)
{
    if (rec->sys_errno)
        snprintf(buf, size, "%s", strerror(rec->sys_errno));
    else if (rec->status == WN_EPARSE)
        snprintf(buf, size, "%s at byte %zu", wn_strerror(rec->status),
                 rec->error_offset);
    else
        snprintf(buf, size, "%s", wn_strerror(rec->status));
    return buf;
}

bool wn__reader_splittable(const char *path, uint64_t *size)
{
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode) || has_txt_suffix(path))
        return false;
    struct wn_stream *s = NULL;
    if (wn__stream_open(path, 16, &s))
        return false;
    char b[16];
    size_t got = 0;
    bool plain = wn__stream_read(s, b, sizeof(b), &got) == WN_OK &&
                 wn__stream_format(s) == WN_STREAM_PLAIN;
    wn__stream_close(s);
    *size = (uint64_t)st.st_size;
    return plain;
}

int wn__reader_count_lines(const char *path, uint64_t begin, uint64_t end,
                           uint64_t *count)
{
    /* A line starts at 0 and after every line feed: at s in [begin, end)
     * when s == 0 or byte s - 1 is a line feed. */
    uint64_t n = begin == 0 && end > 0;
    if (begin > 0)
        begin--;
    if (end > 0)
        end--;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return WN_EOPEN;
    size_t cap = (size_t)1 << 20;
    char *buf = wn__malloc(cap);
    if (!buf) {
        close(fd);
        return WN_ENOMEM;
    }
    uint64_t at = begin;
    int rc = WN_OK;
    while (at < end) {
        size_t want = (size_t)WN_MIN((uint64_t)cap, end - at);
        ssize_t k = pread(fd, buf, want, (off_t)at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = WN_EIO; /* shorter than its size said: it changed */
            if (k == 0)
                errno = EIO;
            break;
        }
        for (const char *p = buf, *e = buf + k;
             (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
            n++;
        at += (uint64_t)k;
    }
    int e = errno;
    wn__free(buf);
    close(fd);
    errno = e;
    if (!rc)
        *count = n;
    return rc;
}

void wn__reader_set_range(struct wn_reader *r, uint64_t begin, uint64_t end,
                          uint64_t lines_before)
{
    assert(r->n == 1 && !r->opened && begin <= end);
    r->ranged = true;
    r->range_begin = begin;
    r->range_end = end;
    r->range_line0 = lines_before;
}

bool wn__reader_plain(const struct wn_reader *r)
{
    return r->opened && !r->is_dir && r->st &&
           wn__stream_format(r->st) == WN_STREAM_PLAIN;
}

const char *wn_reader_error_path(const struct wn_reader *r)
{
    return r->err ? r->err_path : NULL;
}

uint64_t wn_reader_bytes(const struct wn_reader *r)
{
    return r->bytes;
}

uint64_t wn_reader_blank_lines(const struct wn_reader *r)
{
    return r->blank;
}

void wn_reader_free(struct wn_reader *r)
{
    if (!r)
        return;
    close_input(r);
    for (size_t i = 0; i < r->n; i++)
        wn__free(r->paths[i]);
    wn__free(r->paths);
    wn__free(r->files);
    wn__free(r->id_field);
    wn__free(r->text_field);
    wn__free(r->buf);
    wn__buf_release(&r->path);
    wn__buf_release(&r->member);
    wn__buf_release(&r->file);
    wn__buf_release(&r->id);
    wn__buf_release(&r->text);
    wn__free(r);
}
