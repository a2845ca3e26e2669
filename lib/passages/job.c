/*
 * job.c - the frame shared by wn_passages_run, wn_lines_run and
 * wn_repeats_run: checked inputs, a private temporary directory, outputs
 * that appear complete or not at all (io/outfile.h), a copy of standard
 * input for the second pass, rejected.jsonl lines, and kept records
 * written as their raw bytes or with only the text value replaced.
 *
 * Invariant of a two-pass run: pass 2 sees the same sequence of records
 * as pass 1, with the same statuses. For files that holds because they are
 * read twice the same way; standard input is copied record by record
 * (rejected ones as "-", which is rejected again).
 */
#include "passages/passages.h"
#include "io/json.h"
#include "io/spill.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

bool wn__job_cancelled(const struct wn_job *j)
{
    return j->cancel && *j->cancel;
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

static int open_spools(struct wn_job *j)
{
    size_t n = j->ninputs;
    j->spool = wn__calloc(n ? n : 1, sizeof(FILE *));
    j->spool_path = wn__calloc(n ? n : 1, sizeof(char *));
    if (!j->spool || !j->spool_path)
        return WN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!needs_spool(j->inputs[i]))
            continue;
        size_t len = strlen(j->od.tmpdir) + 32;
        j->spool_path[i] = wn__malloc(len);
        if (!j->spool_path[i])
            return WN_ENOMEM;
        snprintf(j->spool_path[i], len, "%s/input-%zu", j->od.tmpdir, i);
        j->spool[i] = fopen(j->spool_path[i], "wb");
        if (!j->spool[i])
            return wn__io_fail(&j->od.note, j->spool_path[i], errno, WN_EOPEN);
        setvbuf(j->spool[i], NULL, _IOFBF, 1u << 20);
    }
    return WN_OK;
}

int wn__job_start(struct wn_job *j, const char *const *inputs, size_t n,
                  const struct wn_reader_options *ro, const char *outdir,
                  const char *tmp_dir, const char *const *names, size_t nout,
                  bool spool, volatile int *cancel, struct wn_reader **r)
{
    memset(j, 0, sizeof(*j));
    j->t0 = wn__now();
    j->inputs = inputs;
    j->ninputs = n;
    j->cancel = cancel;
    if (ro)
        j->ro = *ro;
    j->ro.raw_only = 0;
    if (!outdir || (n && !inputs) || nout > WN_JOB_MAX_OUT)
        return WN_EINVAL;
    size_t stdin_inputs = 0;
    for (size_t i = 0; i < n; i++)
        stdin_inputs += strcmp(inputs[i], "-") == 0;
    if (stdin_inputs > 1)
        return WN_EINVAL; /* standard input can be read only once */
    size_t bad = n;
    int rc = wn_reader_create(inputs, n, &j->ro, r, &bad);
    if (rc) {
        if (bad < n)
            snprintf(j->error_path, sizeof(j->error_path), "%s", inputs[bad]);
        return rc;
    }
    rc = wn__outdir_open(&j->od, outdir, inputs, n, true);
    if (rc)
        return rc;
    j->spill_dir = tmp_dir ? tmp_dir : j->od.tmpdir;
    for (size_t i = 0; i < nout && !rc; i++) {
        rc = wn__outfile_open(&j->out[i], &j->od, names[i]);
        if (!rc)
            j->nout = i + 1;
    }
    if (!rc && spool)
        rc = open_spools(j);
    return rc;
}

int wn__job_spool(struct wn_job *j, const struct wn_record *rec)
{
    FILE *f = j->spool && rec->input < j->ninputs ? j->spool[rec->input] : NULL;
    if (!f)
        return WN_OK;
    bool ok = rec->status
                  ? fwrite("-", 1, 1, f) == 1
                  : fwrite(rec->raw, 1, rec->raw_len, f) == rec->raw_len;
    if (!ok || fputc('\n', f) == EOF)
        return wn__status_from_errno(errno);
    return WN_OK;
}

static int close_spools(struct wn_job *j)
{
    int rc = WN_OK;
    for (size_t i = 0; j->spool && i < j->ninputs; i++) {
        if (j->spool[i] && fclose(j->spool[i]) != 0 && !rc)
            rc = WN_EIO;
        j->spool[i] = NULL;
    }
    return rc;
}

int wn__job_reopen(struct wn_job *j, struct wn_reader **r)
{
    int rc = close_spools(j);
    if (rc)
        return rc;
    const char **paths =
        wn__reallocarray(NULL, j->ninputs ? j->ninputs : 1, sizeof(char *));
    if (!paths)
        return WN_ENOMEM;
    for (size_t i = 0; i < j->ninputs; i++)
        paths[i] =
            j->spool_path && j->spool_path[i] ? j->spool_path[i] : j->inputs[i];
    size_t bad = j->ninputs;
    rc = wn_reader_create(paths, j->ninputs, &j->ro, r, &bad);
    if (rc && bad < j->ninputs)
        snprintf(j->error_path, sizeof(j->error_path), "%s", paths[bad]);
    wn__free(paths);
    return rc;
}

FILE *wn__job_spill(struct wn_job *j, const char *name)
{
    return wn__spill_create(j->spill_dir, name, 1u << 16, &j->od.note);
}

void wn__job_error(const struct wn_job *j, int status, char *path, size_t size,
                   int *err)
{
    if (j->error_path[0])
        snprintf(path, size, "%s", j->error_path);
    else if (status)
        wn__io_report(&j->od.note, status,
                      j->spill_dir == j->od.tmpdir ? j->od.path : j->spill_dir,
                      path, size, err);
}

void wn__job_reader_error(struct wn_job *j, const struct wn_reader *r)
{
    const char *p = wn_reader_error_path(r);
    snprintf(j->error_path, sizeof(j->error_path), "%s", p ? p : "");
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

int wn__job_reject(struct wn_outfile *o, const struct wn_record *rec)
{
    const char *src = rec->source ? rec->source : "-";
    char reason[160];
    if (rec->status == WN_EPARSE)
        snprintf(reason, sizeof(reason), "%s at byte %zu",
                 wn_strerror(rec->status), rec->error_offset);
    else
        snprintf(reason, sizeof(reason), "%s", wn_strerror(rec->status));
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
    /* The raw line helps only when it is short and readable. */
    if (!rc && rec->raw_len <= (1u << 20) && printable(rec->raw, rec->raw_len))
        rc = wn__json_kv(&b, "raw", rec->raw, rec->raw_len);
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

int wn__write_record(struct wn_outfile *o, const struct wn_record *rec,
                     const char *text_field, const char *text, size_t len,
                     struct wn_buf *b)
{
    b->len = 0;
    int rc;
    if (rec->kind == WN_RECORD_TEXTFILE) {
        rc = WN_BUF_LIT(b, "{\"id\":");
        if (!rc)
            rc = wn__json_escape(rec->id, rec->id_len, b);
        if (!rc)
            rc = WN_BUF_LIT(b, ",\"text\":");
        if (!rc)
            rc = text ? wn__json_escape(text, len, b)
                      : wn__json_escape(rec->raw, rec->raw_len, b);
        if (!rc)
            rc = WN_BUF_LIT(b, "}\n");
        return rc ? rc : wn__outfile_write(o, b->data, b->len);
    }
    if (!text) {
        rc = wn__outfile_write(o, rec->raw, rec->raw_len);
        return rc ? rc : wn__outfile_write(o, "\n", 1);
    }
    struct wn_json_field f = {.key = text_field ? text_field : "text"};
    f.key_len = strlen(f.key);
    size_t err;
    if (wn__json_scan_object(rec->raw, rec->raw_len, &f, 1, &err) ||
        f.type != WN_JSON_STRING)
        return WN_EPARSE; /* the reader accepted it: cannot happen */
    rc = wn__buf_append(b, rec->raw, f.off);
    if (!rc)
        rc = wn__json_escape(text, len, b);
    if (!rc)
        rc = wn__buf_append(b, rec->raw + f.off + f.len,
                            rec->raw_len - f.off - f.len);
    if (!rc)
        rc = wn__buf_putc(b, '\n');
    return rc ? rc : wn__outfile_write(o, b->data, b->len);
}

int wn__job_commit(struct wn_job *j)
{
    int rc = WN_OK;
    for (size_t i = 0; i < j->nout && !rc; i++)
        rc = wn__outfile_finish(&j->out[i], true);
    if (!rc && wn__job_cancelled(j))
        rc = WN_EINTR;
    /* The last output (stats.json) last: its presence means the set is
     * complete. */
    struct wn_outfile *outs[WN_JOB_MAX_OUT];
    for (size_t i = 0; i < j->nout; i++)
        outs[i] = &j->out[i];
    if (!rc)
        rc = wn__outfiles_publish(&j->od, outs, j->nout);
    return rc;
}

void wn__job_release(struct wn_job *j)
{
    for (size_t i = 0; i < j->nout; i++)
        wn__outfile_release(&j->out[i]);
    close_spools(j);
    for (size_t i = 0; j->spool_path && i < j->ninputs; i++) {
        if (j->spool_path[i])
            unlink(j->spool_path[i]);
        wn__free(j->spool_path[i]);
    }
    wn__free(j->spool);
    wn__free(j->spool_path);
    wn__outdir_close(&j->od);
    memset(j, 0, sizeof(*j));
}

int wn__apply_cuts(const char *text, size_t len, const struct wn_cut *cuts,
                   size_t n, struct wn_buf *out)
{
    out->len = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (cuts[i].start < at || cuts[i].end < cuts[i].start ||
            cuts[i].end > len)
            return WN_EINVAL;
        int rc = wn__buf_append(out, text + at, cuts[i].start - at);
        if (rc)
            return rc;
        at = cuts[i].end;
    }
    return wn__buf_append(out, text + at, len - at);
}

static bool blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' &&
            s[i] != '\v')
            return false;
    return true;
}

long wn__split_units(const char *text, size_t len, int paragraph,
                     struct wn_unit_span **v, size_t *cap)
{
    size_t n = 0;
    size_t p = 0;
    bool open = false; /* a paragraph is being extended */
    while (p < len) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t next = nl ? end + 1 : len;
        if (blank_line(text + p, end - p)) {
            open = false;
        } else if (paragraph && open) {
            (*v)[n - 1].end = end;
        } else {
            if (WN_GROW(*v, *cap, n + 1))
                return WN_ENOMEM;
            (*v)[n].start = p;
            (*v)[n].end = end;
            n++;
            open = true;
        }
        p = next;
    }
    /* Each unit runs to the start of the next one. */
    for (size_t i = 0; i < n; i++)
        (*v)[i].next = i + 1 < n ? (*v)[i + 1].start : len;
    return (long)n;
}
