/*
 * runframe.c - the frame below every command run over files (see
 * runframe.h): inputs checked before any output exists, a private
 * temporary directory, spill files, copies of standard input, rejected
 * records, outputs published together, the run's thread pool.
 */
#include "io/runframe.h"
#include "io/json.h"
#include "io/spill.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REJECT_RAW_MAX ((size_t)64 << 10)

double wn__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

uint64_t wn__peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024;
}

bool wn__frame_cancelled(const struct wn_frame *f)
{
    return f->cancel && *f->cancel;
}

/* Standard input, pipes, sockets, devices: anything but a regular file or
 * a directory may not give the same bytes twice. */
static bool needs_spool(const char *path)
{
    if (strcmp(path, "-") == 0)
        return true;
    struct stat st;
    if (stat(path, &st) != 0)
        return false; /* the reader has checked it and reports errors */
    return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

static int open_spools(struct wn_frame *f)
{
    size_t n = f->ninputs;
    f->spool = wn__calloc(n ? n : 1, sizeof(FILE *));
    f->spool_path = wn__calloc(n ? n : 1, sizeof(char *));
    if (!f->spool || !f->spool_path)
        return WN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!needs_spool(f->inputs[i]))
            continue;
        size_t len = strlen(f->od.tmpdir) + 32;
        f->spool_path[i] = wn__malloc(len);
        if (!f->spool_path[i])
            return WN_ENOMEM;
        snprintf(f->spool_path[i], len, "%s/input-%zu", f->od.tmpdir, i);
        f->spool[i] = fopen(f->spool_path[i], "wb");
        if (!f->spool[i])
            return wn__io_fail(&f->od.note, f->spool_path[i], errno, WN_EOPEN);
        setvbuf(f->spool[i], NULL, _IOFBF, 1u << 20);
    }
    return WN_OK;
}

static void frame_init(struct wn_frame *f, volatile int *cancel,
                       unsigned threads)
{
    memset(f, 0, sizeof(*f));
    f->od.fd = -1;
    f->t0 = wn__now();
    f->cancel = cancel;
    f->threads = threads ? WN_MIN(threads, 256u) : wn__pool_default_threads();
}

int wn__frame_start(struct wn_frame *f, const char *const *inputs, size_t n,
                    const struct wn_reader_options *ro, const char *outdir,
                    const char *tmp_dir, const char *const *names, size_t nout,
                    bool spool, bool sync, volatile int *cancel,
                    unsigned threads, struct wn_reader **r)
{
    frame_init(f, cancel, threads);
    f->inputs = inputs;
    f->ninputs = n;
    if (ro)
        f->ro = *ro;
    f->ro.raw_only = 0;
    if (!outdir || (n && !inputs) || nout > WN_FRAME_MAX_OUT)
        return WN_EINVAL;
    size_t stdin_inputs = 0;
    for (size_t i = 0; i < n; i++)
        stdin_inputs += strcmp(inputs[i], "-") == 0;
    if (stdin_inputs > 1)
        return WN_EINVAL; /* standard input can be read only once */
    size_t bad = n;
    int rc = wn_reader_create(inputs, n, &f->ro, r, &bad);
    if (rc) {
        if (bad < n)
            snprintf(f->error_path, sizeof(f->error_path), "%s", inputs[bad]);
        return rc;
    }
    if (cancel)
        wn__reader_set_cancel(*r, cancel); /* a silent pipe must stop */
    rc = wn__reader_record(*r, &f->prints);
    if (rc)
        return rc;
    rc = wn__outdir_open(&f->od, outdir, inputs, n, sync);
    if (rc)
        return rc;
    f->spill_dir = tmp_dir ? tmp_dir : f->od.tmpdir;
    for (size_t i = 0; i < nout && !rc; i++) {
        rc = wn__outfile_open(&f->out[i], &f->od, names[i]);
        if (!rc)
            f->nout = i + 1;
    }
    if (!rc && spool)
        rc = open_spools(f);
    return rc;
}

int wn__frame_start_spill(struct wn_frame *f, const char *tmp_dir,
                          volatile int *cancel, unsigned threads)
{
    frame_init(f, cancel, threads);
    const char *base = tmp_dir;
    if (!base)
        base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    /* Spill files have no names (wn__spill_create), so they can go to the
     * shared directory itself. */
    f->spill_dir = base;
    return WN_OK;
}

int wn__frame_pool(struct wn_frame *f, struct wn_pool **out)
{
    if (!f->pool) {
        int rc = wn__pool_create(f->threads, &f->pool);
        if (rc)
            return rc;
    }
    *out = f->pool;
    return WN_OK;
}

int wn__frame_spool(struct wn_frame *f, const struct wn_record *rec)
{
    FILE *s = f->spool && rec->input < f->ninputs ? f->spool[rec->input] : NULL;
    if (!s)
        return WN_OK;
    /* Keep a non-blank line per record so that pass 2 sees the same
     * sequence of records. */
    bool ok = rec->status
                  ? fwrite("-", 1, 1, s) == 1
                  : fwrite(rec->raw, 1, rec->raw_len, s) == rec->raw_len;
    if (!ok || fputc('\n', s) == EOF)
        return wn__status_from_errno(errno);
    return WN_OK;
}

int wn__frame_spool_close(struct wn_frame *f)
{
    int rc = WN_OK;
    for (size_t i = 0; f->spool && i < f->ninputs; i++) {
        if (f->spool[i] && fclose(f->spool[i]) != 0 && !rc)
            rc = wn__status_from_errno(errno);
        f->spool[i] = NULL;
    }
    return rc;
}

int wn__frame_reopen(struct wn_frame *f, bool raw_only, struct wn_reader **r)
{
    int rc = wn__frame_spool_close(f);
    if (rc)
        return rc;
    const char **paths =
        wn__reallocarray(NULL, f->ninputs ? f->ninputs : 1, sizeof(char *));
    if (!paths)
        return WN_ENOMEM;
    for (size_t i = 0; i < f->ninputs; i++)
        paths[i] =
            f->spool_path && f->spool_path[i] ? f->spool_path[i] : f->inputs[i];
    struct wn_reader_options ro = f->ro;
    ro.raw_only = raw_only;
    size_t bad = f->ninputs;
    rc = wn_reader_create(paths, f->ninputs, &ro, r, &bad);
    if (rc && bad < f->ninputs)
        snprintf(f->error_path, sizeof(f->error_path), "%s", paths[bad]);
    if (!rc)
        wn__reader_verify(*r, &f->prints); /* pass 2 must see pass 1's bytes */
    if (!rc && f->progress.fn)
        wn__reader_set_progress(*r, &f->progress, "write", f->total_bytes);
    wn__free(paths);
    return rc;
}

void wn__frame_set_progress(struct wn_frame *f,
                            const struct wn_progress_sink *sink,
                            struct wn_reader *r)
{
    if (!sink || !sink->fn)
        return;
    f->progress = *sink;
    f->total_bytes = wn__inputs_bytes(f->inputs, f->ninputs);
    if (r)
        wn__reader_set_progress(r, sink, "read", f->total_bytes);
}

void wn__frame_stage(const struct wn_frame *f, const char *stage,
                     const char *unit, uint64_t records, uint64_t total_records)
{
    if (!f || !f->progress.fn)
        return;
    struct wn_progress p = {stage, records, 0, 0, total_records, unit};
    f->progress.fn(f->progress.ud, &p);
}

int wn__frame_changed(struct wn_frame *f, const struct wn_record *rec)
{
    const char *p = rec && rec->source ? rec->source : NULL;
    if (!p && f->ninputs == 1)
        p = f->inputs[0];
    snprintf(f->error_path, sizeof(f->error_path), "%s", p ? p : "");
    return WN_ECHANGED;
}

/* Spill files may be made by several threads at once; the note is the
 * frame's, so its first failure is recorded under a lock. */
static pthread_mutex_t note_mu = PTHREAD_MUTEX_INITIALIZER;

FILE *wn__frame_spill(struct wn_frame *f, const char *name, size_t buffer)
{
    struct wn_io_note note = {0};
    FILE *s =
        wn__spill_create(f->spill_dir, name, buffer ? buffer : 1u << 16, &note);
    if (!s) {
        int e = errno;
        pthread_mutex_lock(&note_mu);
        wn__io_fail(&f->od.note, note.path, note.err, WN_EOPEN);
        pthread_mutex_unlock(&note_mu);
        errno = e;
    }
    return s;
}

void wn__frame_reader_error(struct wn_frame *f, const struct wn_reader *r)
{
    const char *p = wn_reader_error_path(r);
    snprintf(f->error_path, sizeof(f->error_path), "%s", p ? p : "");
}

void wn__frame_error_path(struct wn_frame *f, const char *path)
{
    if (!f->error_path[0])
        snprintf(f->error_path, sizeof(f->error_path), "%s", path ? path : "");
}

void wn__frame_error(const struct wn_frame *f, int status, char *path,
                     size_t size, int *err)
{
    assert(path && size > 0 && err);
    if (f->error_path[0]) {
        snprintf(path, size, "%s", f->error_path);
        return;
    }
    if (!status)
        return;
    /* Errors past the inputs: the file and the reason, as noted; a write
     * to a spill file notes nothing, so name where spill files go. */
    const char *dir = f->spill_dir && f->spill_dir != f->od.tmpdir
                          ? f->spill_dir
                          : f->od.path;
    wn__io_report(&f->od.note, status, dir, path, size, err);
}

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

int wn__frame_reject(struct wn_outfile *o, const struct wn_record *rec)
{
    const char *src = rec->source ? rec->source : "-";
    char reason[160];
    wn_record_reason(rec, reason, sizeof(reason));
    struct wn_buf b = {0};
    int rc = WN_BUF_LIT(&b, "{\"source\":");
    if (!rc)
        rc = wn__json_escape(src, strlen(src), &b);
    if (!rc)
        rc =
            wn__buf_printf(&b, ",\"line\":%llu", (unsigned long long)rec->line);
    if (!rc)
        rc = wn__json_kv(&b, "reason", reason, strlen(reason));
    if (!rc)
        rc = wn__buf_printf(&b, ",\"bytes\":%zu", rec->raw_len);
    /* The raw bytes, when printable, up to REJECT_RAW_MAX: an over-long
     * line is rejected at the cap, and copying megabytes of it into
     * rejected.jsonl helps nobody. The cut falls on a character boundary. */
    size_t show = rec->raw_len;
    if (show > REJECT_RAW_MAX) {
        show = REJECT_RAW_MAX;
        while (show > 0 && ((unsigned char)rec->raw[show] & 0xC0) == 0x80)
            show--;
    }
    if (!rc && printable(rec->raw, show)) {
        rc = wn__json_kv(&b, "raw", rec->raw, show);
        if (!rc && show < rec->raw_len)
            rc = WN_BUF_LIT(&b, ",\"raw_truncated\":true");
    }
    if (!rc)
        rc = WN_BUF_LIT(&b, "}\n");
    if (!rc)
        rc = wn__outfile_write(o, b.data, b.len);
    wn__buf_release(&b);
    return rc;
}

int wn__json_kv(struct wn_buf *b, const char *key, const char *s, size_t len)
{
    int rc = wn__buf_printf(b, ",\"%s\":", key);
    if (!rc)
        rc = wn__json_escape(s, len, b);
    return rc;
}

int wn__frame_stats_inputs(const struct wn_frame *f, struct wn_buf *b)
{
    int rc = WN_BUF_LIT(b, "  \"inputs\": [");
    for (size_t i = 0; i < f->ninputs && !rc; i++) {
        if (i)
            rc = WN_BUF_LIT(b, ", ");
        if (!rc)
            rc = wn__json_escape(f->inputs[i], strlen(f->inputs[i]), b);
    }
    if (!rc)
        rc = wn__buf_putc(b, ']');
    return rc;
}

int wn__frame_commit(struct wn_frame *f, bool sync)
{
    int rc = WN_OK;
    for (size_t i = 0; i < f->nout && !rc; i++)
        rc = wn__outfile_finish(&f->out[i], sync);
    if (!rc && wn__frame_cancelled(f))
        rc = WN_EINTR;
    /* The last output (stats.json) last: its presence means the set is
     * complete. */
    struct wn_outfile *outs[WN_FRAME_MAX_OUT];
    for (size_t i = 0; i < f->nout; i++)
        outs[i] = &f->out[i];
    if (!rc)
        rc = wn__outfiles_publish(&f->od, outs, f->nout);
    return rc;
}

void wn__frame_release(struct wn_frame *f)
{
    wn__prints_release(&f->prints);
    wn__pool_free(f->pool);
    for (size_t i = 0; i < f->nout; i++)
        wn__outfile_release(&f->out[i]);
    wn__frame_spool_close(f);
    for (size_t i = 0; f->spool_path && i < f->ninputs; i++) {
        if (f->spool_path[i])
            unlink(f->spool_path[i]);
        wn__free(f->spool_path[i]);
    }
    wn__free(f->spool);
    wn__free(f->spool_path);
    wn__outdir_close(&f->od);
    memset(f, 0, sizeof(*f));
    f->od.fd = -1;
}
