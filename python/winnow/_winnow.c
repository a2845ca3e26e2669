/*
 * _winnow.c - the CPython extension under the winnow package: thin calls
 * into libwinnow (include/winnow.h) with the GIL released while the
 * library works. Option names, defaults and messages are checked in
 * winnow/_options.py, which hands this module plain values; this file
 * turns library statuses into exceptions (winnow.Error and its subclasses,
 * carrying .status and the library's message) and makes a long run
 * interruptible: while a run is active, SIGINT also sets the run's cancel
 * flag (chained to Python's own handler, which raises KeyboardInterrupt
 * once the run has stopped and the GIL is back).
 *
 * Why the CPython API and not cffi: the job reads Python iterables record
 * by record and borrows each text's UTF-8 bytes without a copy, which cffi
 * would route through Python-level loops; and Debian ships no cffi build
 * tooling beside its runtime backend, while the C API needs only
 * python3-dev.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "winnow.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static PyObject *Error;       /* winnow.Error(Exception) */
static PyObject *OptionError; /* winnow.OptionError(Error, ValueError) */
static PyObject *FileError;   /* winnow.FileError(Error, OSError) */
static PyObject *LimitError;  /* winnow.LimitError(Error) */
static PyObject *FormatError; /* winnow.FormatError(Error, ValueError) */

/* ------------------------------------------------------------------------ */
/* Statuses as exceptions                                                    */
/* ------------------------------------------------------------------------ */

/* Why path cannot be opened for reading, as an errno value, or 0. */
static int open_errno(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

/* Raise the exception of a library status: message "PATH: text" when a
 * path is known, else the library's text; .status and .path are set. */
static PyObject *raise_status(int rc, const char *path)
{
    PyObject *cls = Error;
    switch (rc) {
    case WN_ENOMEM:
        return PyErr_NoMemory();
    case WN_EINTR:
        /* Python's SIGINT handler has tripped: let it raise what it
         * raises (KeyboardInterrupt by default). */
        if (PyErr_CheckSignals() < 0)
            return NULL;
        PyErr_SetNone(PyExc_KeyboardInterrupt);
        return NULL;
    case WN_EINVAL:
        cls = OptionError;
        break;
    case WN_EIO:
    case WN_EOPEN:
    case WN_ENOSPC:
    case WN_EFBIG:
    case WN_EBUSY:
    case WN_ECHANGED:
        cls = FileError;
        break;
    case WN_ELIMIT:
    case WN_ETOOBIG:
        cls = LimitError;
        break;
    case WN_EPARSE:
    case WN_EFORMAT:
    case WN_ETRUNC:
    case WN_ENOFIELD:
    case WN_EBADID:
        cls = FormatError;
        break;
    default:
        break;
    }
    PyObject *msg;
    int err = 0;
    if (rc == WN_EOPEN && path && path[0]) {
        /* As the CLI says it: the reason is found again from the path,
         * since the library's errno may be gone by now. */
        err = open_errno(path);
        msg = PyUnicode_FromFormat("cannot open '%s': %s", path,
                                   err ? strerror(err) : wn_strerror(rc));
    } else if (path && path[0]) {
        msg = PyUnicode_FromFormat("%s: %s", path, wn_strerror(rc));
    } else {
        msg = PyUnicode_FromString(wn_strerror(rc));
    }
    if (!msg)
        return NULL;
    PyObject *exc = PyObject_CallOneArg(cls, msg);
    Py_DECREF(msg);
    if (!exc)
        return NULL;
    PyObject *st = PyLong_FromLong(rc);
    PyObject *p =
        path && path[0] ? PyUnicode_DecodeFSDefault(path) : Py_NewRef(Py_None);
    if (err && cls == FileError) {
        PyObject *e = PyLong_FromLong(err);
        /* errno only: with filename set, str() would no longer be the
         * message. */
        if (!e || PyObject_SetAttrString(exc, "errno", e) < 0) {
            Py_XDECREF(e);
            Py_XDECREF(st);
            Py_XDECREF(p);
            Py_DECREF(exc);
            return NULL;
        }
        Py_DECREF(e);
    }
    if (!st || !p || PyObject_SetAttrString(exc, "status", st) < 0 ||
        PyObject_SetAttrString(exc, "path", p) < 0) {
        Py_XDECREF(st);
        Py_XDECREF(p);
        Py_DECREF(exc);
        return NULL;
    }
    Py_DECREF(st);
    Py_DECREF(p);
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Cancelling a run from SIGINT                                              */
/* ------------------------------------------------------------------------ */

/*
 * Every active run points its cancel flag at interrupted. The handler is
 * installed while at least one run is active (counted under the GIL), and
 * only over a handler that is a function, which is Python's unless the
 * program set SIG_IGN or SIG_DFL: then Ctrl-C keeps doing what it did.
 */
static volatile int interrupted;
static int active_runs;
static int handler_installed;
static struct sigaction previous;

static void on_sigint(int sig, siginfo_t *info, void *ctx)
{
    interrupted = 1;
    if (previous.sa_flags & SA_SIGINFO)
        previous.sa_sigaction(sig, info, ctx);
    else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN)
        previous.sa_handler(sig);
}

/* Called with the GIL held before a run starts. */
static void run_begin(void)
{
    if (active_runs++ > 0)
        return;
    interrupted = 0;
    struct sigaction cur;
    if (sigaction(SIGINT, NULL, &cur) != 0)
        return;
    int is_function = (cur.sa_flags & SA_SIGINFO) ||
                      (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN);
    if (!is_function)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigint;
    sa.sa_flags = SA_SIGINFO | (cur.sa_flags & SA_ONSTACK);
    sigemptyset(&sa.sa_mask);
    previous = cur;
    if (sigaction(SIGINT, &sa, NULL) == 0)
        handler_installed = 1;
}

/* Called with the GIL held after a run ended. */
static void run_end(void)
{
    if (--active_runs > 0)
        return;
    if (handler_installed) {
        sigaction(SIGINT, &previous, NULL);
        handler_installed = 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Texts                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * The UTF-8 bytes of a str (borrowed from the str's cache: valid while obj
 * lives) or of a bytes-like object given as is. A str with lone surrogates
 * is encoded with "surrogatepass" into *owner: the library reads those
 * bytes as ill-formed, as it would in a file. Returns 0, or -1 with an
 * exception (TypeError for other types).
 */
static int text_bytes(PyObject *obj, const char **p, Py_ssize_t *n,
                      PyObject **owner)
{
    *owner = NULL;
    if (PyUnicode_Check(obj)) {
        *p = PyUnicode_AsUTF8AndSize(obj, n);
        if (*p)
            return 0;
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
            return -1;
        PyErr_Clear();
        *owner = PyUnicode_AsEncodedString(obj, "utf-8", "surrogatepass");
        if (!*owner)
            return -1;
        *p = PyBytes_AS_STRING(*owner);
        *n = PyBytes_GET_SIZE(*owner);
        return 0;
    }
    if (PyBytes_Check(obj)) {
        *p = PyBytes_AS_STRING(obj);
        *n = PyBytes_GET_SIZE(obj);
        return 0;
    }
    if (PyByteArray_Check(obj)) {
        /* A bytearray may be resized by another thread while the GIL is
         * released: work on a copy. */
        *owner = PyBytes_FromObject(obj);
        if (!*owner)
            return -1;
        *p = PyBytes_AS_STRING(*owner);
        *n = PyBytes_GET_SIZE(*owner);
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "text must be str or bytes, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* similarity, tokens, params                                                */
/* ------------------------------------------------------------------------ */

static PyObject *py_similarity(PyObject *self, PyObject *args)
{
    PyObject *a, *b;
    int mode;
    unsigned ngram;
    if (!PyArg_ParseTuple(args, "OOiI", &a, &b, &mode, &ngram))
        return NULL;
    const char *pa, *pb;
    Py_ssize_t na, nb;
    PyObject *oa, *ob = NULL;
    if (text_bytes(a, &pa, &na, &oa) < 0)
        return NULL;
    if (text_bytes(b, &pb, &nb, &ob) < 0) {
        Py_XDECREF(oa);
        return NULL;
    }
    struct wn_similarity s;
    int rc;
    PyThreadState *ts = PyEval_SaveThread();
    rc = wn_text_similarity(pa, (size_t)na, pb, (size_t)nb, mode, ngram, &s);
    PyEval_RestoreThread(ts);
    Py_XDECREF(oa);
    Py_XDECREF(ob);
    if (rc)
        return raise_status(rc, NULL);
    return Py_BuildValue(
        "ddKKK", s.jaccard, s.containment, (unsigned long long)s.shingles_a,
        (unsigned long long)s.shingles_b, (unsigned long long)s.shared);
}

/* Code points in UTF-8 bytes p[0, n): the bytes that do not continue a
 * sequence. Valid for the (surrogatepass) UTF-8 of any str. */
static Py_ssize_t count_chars(const char *p, size_t n)
{
    Py_ssize_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)p[i] & 0xC0) != 0x80;
    return c;
}

static PyObject *py_tokens(PyObject *self, PyObject *args)
{
    PyObject *text;
    int mode, spans;
    if (!PyArg_ParseTuple(args, "Oip", &text, &mode, &spans))
        return NULL;
    const char *p;
    Py_ssize_t n;
    PyObject *owner;
    if (text_bytes(text, &p, &n, &owner) < 0)
        return NULL;
    /* Spans are in characters for a str, in bytes for bytes. */
    int in_chars = PyUnicode_Check(text);
    struct wn_tokens t;
    wn_tokens_init(&t);
    int rc;
    PyThreadState *ts = PyEval_SaveThread();
    rc = wn_tokenize(p, (size_t)n, mode, &t);
    PyEval_RestoreThread(ts);
    PyObject *list = NULL;
    if (rc) {
        raise_status(rc, NULL);
        goto done;
    }
    list = PyList_New((Py_ssize_t)t.n);
    if (!list)
        goto done;
    /* Tokens come in text order, so their starts never go back: the
     * character position is carried forward. */
    size_t byte_pos = 0;
    Py_ssize_t char_pos = 0;
    for (size_t i = 0; i < t.n; i++) {
        const struct wn_token *k = &t.tok[i];
        PyObject *s = PyUnicode_DecodeUTF8(t.norm + k->norm_off,
                                           (Py_ssize_t)k->norm_len, "replace");
        PyObject *item = s;
        if (s && spans) {
            Py_ssize_t start = k->src_off, end = k->src_off + k->src_len;
            if (in_chars) {
                if (k->src_off >= byte_pos) {
                    char_pos +=
                        count_chars(p + byte_pos, k->src_off - byte_pos);
                } else {
                    char_pos = count_chars(p, k->src_off);
                }
                byte_pos = k->src_off;
                start = char_pos;
                end = char_pos + count_chars(p + k->src_off, k->src_len);
            }
            item = Py_BuildValue("(Nnn)", s, start, end);
        }
        if (!item) {
            Py_CLEAR(list);
            goto done;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
done:
    wn_tokens_release(&t);
    Py_XDECREF(owner);
    return list;
}

static PyObject *py_lsh_params(PyObject *self, PyObject *args)
{
    double threshold, w_fp, w_fn;
    unsigned num_perm;
    if (!PyArg_ParseTuple(args, "dIdd", &threshold, &num_perm, &w_fp, &w_fn))
        return NULL;
    uint32_t b = 0, r = 0;
    double fp = 0, fn = 0;
    int rc = wn_lsh_params(threshold, num_perm, w_fp, w_fn, &b, &r, &fp, &fn);
    if (rc)
        return raise_status(rc, NULL);
    return Py_BuildValue("IIdd", b, r, fp, fn);
}

static PyObject *py_lsh_probability(PyObject *self, PyObject *args)
{
    double s;
    unsigned b, r;
    if (!PyArg_ParseTuple(args, "dII", &s, &b, &r))
        return NULL;
    return PyFloat_FromDouble(wn_lsh_probability(s, b, r));
}

static PyObject *py_option_range(PyObject *self, PyObject *args)
{
    const char *cmd, *name;
    if (!PyArg_ParseTuple(args, "ss", &cmd, &name))
        return NULL;
    const struct wn_option_range *r = wn_option_range(cmd, name);
    if (!r)
        Py_RETURN_NONE;
    return Py_BuildValue("ddNNs", r->lo, r->hi, PyBool_FromLong(r->lo_open),
                         PyBool_FromLong(r->hi_open), r->text);
}

static PyObject *py_strerror(PyObject *self, PyObject *args)
{
    int st;
    if (!PyArg_ParseTuple(args, "i", &st))
        return NULL;
    return PyUnicode_FromString(wn_strerror(st));
}

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Fill o from a dict of checked values (winnow/_options.py: keys are the
 * struct's field names). Strings are borrowed from the dict, which must
 * outlive the run. Returns 0, or -1 with an exception.
 */
static int get_u64(PyObject *d, const char *key, uint64_t *out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v)
        return 0;
    unsigned long long x = PyLong_AsUnsignedLongLong(v);
    if (x == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    *out = x;
    return 0;
}

static int get_uint(PyObject *d, const char *key, unsigned *out)
{
    uint64_t x = *out;
    if (get_u64(d, key, &x) < 0)
        return -1;
    if (x > UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s is too large", key);
        return -1;
    }
    *out = (unsigned)x;
    return 0;
}

static int get_int(PyObject *d, const char *key, int *out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v)
        return 0;
    long x = PyLong_AsLong(v);
    if (x == -1 && PyErr_Occurred())
        return -1;
    *out = (int)x;
    return 0;
}

static int get_double(PyObject *d, const char *key, double *out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v)
        return 0;
    double x = PyFloat_AsDouble(v);
    if (x == -1.0 && PyErr_Occurred())
        return -1;
    *out = x;
    return 0;
}

static int get_str(PyObject *d, const char *key, const char **out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v || v == Py_None)
        return 0;
    const char *s = PyUnicode_AsUTF8(v);
    if (!s)
        return -1;
    *out = s;
    return 0;
}

static int fill_dedup_options(PyObject *d, struct wn_dedup_options *o)
{
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "options must be a dict");
        return -1;
    }
    uint64_t max_bytes = 0;
    unsigned u32 = 0;
    if (get_int(d, "exact_only", &o->exact_only) < 0 ||
        get_int(d, "method", &o->method) < 0 ||
        get_int(d, "token_mode", &o->token_mode) < 0 ||
        get_uint(d, "ngram", &o->ngram) < 0)
        return -1;
    u32 = o->num_perm;
    if (get_uint(d, "num_perm", &u32) < 0)
        return -1;
    o->num_perm = u32;
    u32 = o->bands;
    if (get_uint(d, "bands", &u32) < 0)
        return -1;
    o->bands = u32;
    u32 = o->rows;
    if (get_uint(d, "rows", &u32) < 0)
        return -1;
    o->rows = u32;
    if (get_double(d, "threshold", &o->threshold) < 0 ||
        get_double(d, "weight_fp", &o->weight_fp) < 0 ||
        get_double(d, "weight_fn", &o->weight_fn) < 0 ||
        get_int(d, "verify", &o->verify) < 0 ||
        get_int(d, "sketch", &o->sketch) < 0 ||
        get_double(d, "containment", &o->containment) < 0 ||
        get_uint(d, "hamming", &o->hamming) < 0 ||
        get_int(d, "keep", &o->keep) < 0 ||
        get_str(d, "keep_field", &o->keep_field) < 0 ||
        get_uint(d, "threads", &o->threads) < 0 ||
        get_u64(d, "seed", &o->seed) < 0 ||
        get_u64(d, "memory", &o->memory) < 0 ||
        get_str(d, "tmp_dir", &o->tmp_dir) < 0 ||
        get_int(d, "no_fsync", &o->no_fsync) < 0 ||
        get_str(d, "id_field", &o->reader.id_field) < 0 ||
        get_str(d, "text_field", &o->reader.text_field) < 0 ||
        get_u64(d, "max_record_bytes", &max_bytes) < 0)
        return -1;
    if (max_bytes)
        o->reader.max_record_bytes = (size_t)max_bytes;
    return 0;
}

static PyObject *report_dict(const struct wn_dedup_report *r)
{
    PyObject *stages = Py_BuildValue(
        "{s:d,s:d,s:d,s:d,s:d,s:d}", "read_sketch", r->stage_seconds[0],
        "exact", r->stage_seconds[1], "join", r->stage_seconds[2], "verify",
        r->stage_seconds[3], "cluster", r->stage_seconds[4], "write",
        r->stage_seconds[5]);
    if (!stages)
        return NULL;
    return Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,"
        "s:K,s:K,s:K,s:I,s:I,s:d,s:N,s:K}",
        "read", (unsigned long long)r->read, "kept",
        (unsigned long long)r->kept, "removed", (unsigned long long)r->removed,
        "rejected", (unsigned long long)r->rejected, "removed_exact",
        (unsigned long long)r->removed_exact, "removed_near",
        (unsigned long long)r->removed_near, "removed_contained",
        (unsigned long long)r->removed_contained, "blank_lines",
        (unsigned long long)r->blank_lines, "bytes",
        (unsigned long long)r->bytes, "clusters",
        (unsigned long long)r->clusters, "candidates",
        (unsigned long long)r->candidates, "verified",
        (unsigned long long)r->verified, "edges", (unsigned long long)r->edges,
        "large_buckets", (unsigned long long)r->large_buckets, "max_bucket",
        (unsigned long long)r->max_bucket, "invalid_utf8",
        (unsigned long long)r->invalid_utf8, "empty_docs",
        (unsigned long long)r->empty_docs, "duplicate_ids",
        (unsigned long long)r->duplicate_ids, "keep_missing",
        (unsigned long long)r->keep_missing, "bands", r->bands, "rows", r->rows,
        "seconds", r->seconds, "stage_seconds", stages, "peak_rss_bytes",
        (unsigned long long)r->peak_rss_bytes);
}

/* ------------------------------------------------------------------------ */
/* dedup_files                                                               */
/* ------------------------------------------------------------------------ */

static PyObject *py_dedup_files(PyObject *self, PyObject *args)
{
    PyObject *paths, *outdir_obj, *opts;
    if (!PyArg_ParseTuple(args, "O!O&O!", &PyList_Type, &paths,
                          PyUnicode_FSConverter, &outdir_obj, &PyDict_Type,
                          &opts))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = PyList_GET_SIZE(paths);
    PyObject *encoded = PyList_New(n);
    const char **pv = PyMem_Calloc((size_t)n + 1, sizeof(char *));
    if (!encoded || !pv) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *b = NULL;
        if (!PyUnicode_FSConverter(PyList_GET_ITEM(paths, i), &b))
            goto out;
        PyList_SET_ITEM(encoded, i, b);
        pv[i] = PyBytes_AS_STRING(b);
    }
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    /* The binding has no profile option yet: the classic rule, whose
     * threshold (0.8) it documents. */
    o.profile = WN_PROFILE_CLASSIC;
    if (fill_dedup_options(opts, &o) < 0)
        goto out;
    o.cancel = &interrupted;
    struct wn_dedup_report rep;
    memset(&rep, 0, sizeof(rep));
    const char *outdir = PyBytes_AS_STRING(outdir_obj);
    int rc;
    run_begin();
    PyThreadState *ts = PyEval_SaveThread();
    rc = wn_dedup_run(pv, (size_t)n, outdir, &o, &rep);
    PyEval_RestoreThread(ts);
    run_end();
    if (rc) {
        raise_status(rc, rep.error_path);
        goto out;
    }
    result = report_dict(&rep);
out:
    PyMem_Free(pv);
    Py_XDECREF(encoded);
    Py_DECREF(outdir_obj);
    return result;
}

/* ------------------------------------------------------------------------ */
/* explain                                                                   */
/* ------------------------------------------------------------------------ */

/* A span as a tuple (start, end, line, line_end, tok, tokens); start and
 * end become character offsets when the text was a str (p holds its UTF-8,
 * in_chars set). */
static PyObject *span_tuple(const struct wn_explain_span *sp, const char *p,
                            int in_chars)
{
    uint64_t start = sp->start, end = sp->end;
    if (in_chars) {
        start = (uint64_t)count_chars(p, sp->start);
        end = start + (uint64_t)count_chars(p + sp->start, sp->end - sp->start);
    }
    return Py_BuildValue(
        "KKKKKK", (unsigned long long)start, (unsigned long long)end,
        (unsigned long long)sp->line, (unsigned long long)sp->line_end,
        (unsigned long long)sp->tok, (unsigned long long)sp->tokens);
}

static PyObject *spans_list(const struct wn_explain_span *sp, size_t n,
                            const char *p, int in_chars)
{
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *t = span_tuple(&sp[i], p, in_chars);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    return list;
}

/* explain(a, b, options) -> (scores dict, [(span a, span b)], [span],
 * [span]) */
static PyObject *py_explain(PyObject *self, PyObject *args)
{
    PyObject *a, *b, *d;
    if (!PyArg_ParseTuple(args, "OOO!", &a, &b, &PyDict_Type, &d))
        return NULL;
    struct wn_explain_options o;
    wn_explain_options_init(&o);
    if (get_int(d, "token_mode", &o.token_mode) < 0 ||
        get_uint(d, "ngram", &o.ngram) < 0 ||
        get_double(d, "threshold", &o.threshold) < 0 ||
        get_double(d, "containment", &o.containment) < 0 ||
        get_int(d, "verify", &o.verify) < 0 ||
        get_u64(d, "seed", &o.seed) < 0 || get_uint(d, "kgram", &o.kgram) < 0 ||
        get_uint(d, "window", &o.window) < 0 ||
        get_uint(d, "min_run", &o.min_run) < 0)
        return NULL;
    unsigned k = o.num_perm;
    if (get_uint(d, "num_perm", &k) < 0)
        return NULL;
    o.num_perm = k;
    const char *pa, *pb;
    Py_ssize_t na, nb;
    PyObject *oa, *ob = NULL, *result = NULL;
    if (text_bytes(a, &pa, &na, &oa) < 0)
        return NULL;
    if (text_bytes(b, &pb, &nb, &ob) < 0) {
        Py_XDECREF(oa);
        return NULL;
    }
    struct wn_explanation *x = NULL;
    PyThreadState *ts = PyEval_SaveThread();
    int rc = wn_explain(pa, (size_t)na, pb, (size_t)nb, &o, &x);
    PyEval_RestoreThread(ts);
    if (rc) {
        raise_status(rc, NULL);
        goto out;
    }
    const struct wn_explain_scores *sc = wn_explanation_scores(x);
    PyObject *scores = Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:d,s:d,s:d,s:d,s:d,s:I,s:I,s:I,s:d,s:N,s:i,"
        "s:s}",
        "tokens_a", (unsigned long long)sc->tokens_a, "tokens_b",
        (unsigned long long)sc->tokens_b, "shingles_a",
        (unsigned long long)sc->shingles_a, "shingles_b",
        (unsigned long long)sc->shingles_b, "shared",
        (unsigned long long)sc->shared, "jaccard", sc->jaccard,
        "jaccard_estimate", sc->jaccard_estimate, "containment_a",
        sc->containment_a, "containment_b", sc->containment_b,
        "containment_estimate", sc->containment_estimate, "bands", sc->bands,
        "rows", sc->rows, "bands_shared", sc->bands_shared,
        "candidate_probability", sc->candidate_probability, "exact",
        PyBool_FromLong(sc->exact), "verdict", sc->verdict, "reason",
        sc->reason);
    const struct wn_explain_run *runs;
    size_t nruns = wn_explanation_runs(x, &runs);
    const struct wn_explain_span *only_a, *only_b;
    size_t n_a = wn_explanation_only(x, 0, &only_a);
    size_t n_b = wn_explanation_only(x, 1, &only_b);
    int ca = PyUnicode_Check(a), cb = PyUnicode_Check(b);
    PyObject *rl = PyList_New((Py_ssize_t)nruns);
    for (size_t i = 0; rl && i < nruns; i++) {
        PyObject *t = Py_BuildValue("(NN)", span_tuple(&runs[i].a, pa, ca),
                                    span_tuple(&runs[i].b, pb, cb));
        if (!t) {
            Py_CLEAR(rl);
            break;
        }
        PyList_SET_ITEM(rl, (Py_ssize_t)i, t);
    }
    PyObject *la = spans_list(only_a, n_a, pa, ca);
    PyObject *lb = spans_list(only_b, n_b, pb, cb);
    if (scores && rl && la && lb) {
        result = Py_BuildValue("NNNN", scores, rl, la, lb);
    } else {
        Py_XDECREF(scores);
        Py_XDECREF(rl);
        Py_XDECREF(la);
        Py_XDECREF(lb);
    }
out:
    wn_explanation_free(x);
    Py_XDECREF(oa);
    Py_XDECREF(ob);
    return result;
}

/* ------------------------------------------------------------------------ */
/* dedup: the in-memory job over a Python iterable                           */
/* ------------------------------------------------------------------------ */

/*
 * The records are read one at a time with the GIL held and handed to the
 * job (which copies the text, sketches it in its pool and keeps no text);
 * the GIL is released while the job works. Per record this file keeps one
 * byte (kept or not) and, only when the records name their ids, a
 * reference to the id object; per removed record one struct removal.
 * Rejected records (a dict without a str text) do not reach the job: their
 * input positions are listed so that the job's record numbers can be
 * turned back into input positions.
 */
struct removal {
    uint64_t pos, dup_pos;
    int64_t cluster;
    double similarity, containment;
    int reason;
};

struct dedup_state {
    /* Input positions of rejected records, ascending. */
    uint64_t *rej;
    size_t nrej, caprej;
    /* mask[pos] = 1 when kept; one byte per input record. */
    unsigned char *mask;
    size_t nmask, capmask;
    struct removal *rm;
    size_t nrm, caprm;
    size_t k; /* rejections before the fate being given (in order) */
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = PyMem_RawRealloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* The input position of the job's record number idx: the smallest k with
 * rej[k] > idx + k (rej[k] - k never decreases) gives idx + k. */
static uint64_t input_pos(const struct dedup_state *st, uint64_t idx)
{
    size_t lo = 0, hi = st->nrej;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->rej[mid] - mid <= idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return idx + lo;
}

/* The fate callback: runs without the GIL, records numbers only. A Ctrl-C
 * stops the job here too. */
static int on_fate(void *ud, const struct wn_fate *f)
{
    struct dedup_state *st = ud;
    if (interrupted)
        return WN_EINTR;
    while (st->k < st->nrej && st->rej[st->k] <= f->index + st->k)
        st->k++;
    uint64_t pos = f->index + st->k;
    if (pos >= st->nmask)
        return WN_EINVAL; /* more fates than records: cannot happen */
    st->mask[pos] = !f->removed;
    if (!f->removed)
        return 0;
    if (grow((void **)&st->rm, &st->caprm, st->nrm + 1, sizeof(*st->rm)))
        return WN_ENOMEM;
    struct removal *r = &st->rm[st->nrm++];
    r->pos = pos;
    r->dup_pos = f->duplicate_of_index >= 0
                     ? input_pos(st, (uint64_t)f->duplicate_of_index)
                     : pos;
    r->cluster = f->cluster;
    r->similarity = f->similarity;
    r->containment = f->containment;
    r->reason = f->reason;
    return 0;
}

/* The keep_max value of a record, as the CLI reads it: a number, or a str
 * holding one entirely (strtod, finite). Returns 1 with *v, 0 without. */
static int keep_value(PyObject *rec, PyObject *key, double *v)
{
    if (!key || !PyDict_Check(rec))
        return 0;
    PyObject *f = PyDict_GetItemWithError(rec, key);
    if (!f)
        return PyErr_Occurred() ? -1 : 0;
    if (PyBool_Check(f))
        return 0;
    if (PyLong_Check(f) || PyFloat_Check(f)) {
        double x = PyFloat_AsDouble(f);
        if (x == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        *v = x;
        return 1;
    }
    if (PyUnicode_Check(f)) {
        const char *s = PyUnicode_AsUTF8(f);
        if (!s) {
            PyErr_Clear();
            return 0;
        }
        if (!*s)
            return 0;
        char *end = NULL;
        errno = 0;
        double x = strtod(s, &end);
        if (end && *end == '\0' && errno == 0 && isfinite(x)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

/*
 * What one record gives: its text (new reference, or NULL when the record
 * is to be rejected: no str text) and its id (new reference, or NULL
 * when it has none). Returns -1 with an exception for a record of no
 * known shape.
 */
static int split_record(PyObject *rec, PyObject *text_key, PyObject *id_key,
                        PyObject **text, PyObject **id)
{
    *text = NULL;
    *id = NULL;
    if (PyUnicode_Check(rec) || PyBytes_Check(rec)) {
        *text = Py_NewRef(rec);
        return 0;
    }
    if (PyTuple_Check(rec) || PyList_Check(rec)) {
        if (PySequence_Fast_GET_SIZE(rec) != 2) {
            PyErr_Format(PyExc_TypeError,
                         "a record as a sequence is (id, text); got %zd "
                         "items",
                         PySequence_Fast_GET_SIZE(rec));
            return -1;
        }
        PyObject *i = PySequence_Fast_GET_ITEM(rec, 0);
        PyObject *t = PySequence_Fast_GET_ITEM(rec, 1);
        if (i != Py_None)
            *id = Py_NewRef(i);
        if (PyUnicode_Check(t) || PyBytes_Check(t))
            *text = Py_NewRef(t);
        return 0;
    }
    PyObject *t, *i;
    if (PyDict_Check(rec)) {
        t = PyDict_GetItemWithError(rec, text_key);
        Py_XINCREF(t);
        if (!t && PyErr_Occurred())
            return -1;
        i = PyDict_GetItemWithError(rec, id_key);
        Py_XINCREF(i);
        if (!i && PyErr_Occurred()) {
            Py_XDECREF(t);
            return -1;
        }
    } else if (PyMapping_Check(rec)) {
        t = PyObject_GetItem(rec, text_key);
        if (!t) {
            if (!PyErr_ExceptionMatches(PyExc_KeyError))
                return -1;
            PyErr_Clear();
        }
        i = PyObject_GetItem(rec, id_key);
        if (!i) {
            if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
                Py_XDECREF(t);
                return -1;
            }
            PyErr_Clear();
        }
    } else {
        PyErr_Format(PyExc_TypeError,
                     "a record is a dict (or mapping), an (id, text) tuple "
                     "or a str; got %.100s",
                     Py_TYPE(rec)->tp_name);
        return -1;
    }
    if (i == Py_None)
        Py_CLEAR(i);
    *id = i;
    if (t && (PyUnicode_Check(t) || PyBytes_Check(t))) {
        *text = t;
    } else {
        Py_XDECREF(t);
    }
    return 0;
}

/* The id as the job stores it: a str's UTF-8, a bytes object as is, or
 * str(id) (an int as its digits, as JSON writes it); the position when
 * there is no id. New bytes or str reference in *owner. */
static int id_text(PyObject *id, uint64_t pos, const char **p, Py_ssize_t *n,
                   PyObject **owner)
{
    if (id && (PyUnicode_Check(id) || PyBytes_Check(id))) {
        PyObject *o;
        if (text_bytes(id, p, n, &o) < 0)
            return -1;
        *owner = o ? o : Py_NewRef(id);
        return 0;
    }
    *owner = id ? PyObject_Str(id)
                : PyUnicode_FromFormat("%llu", (unsigned long long)pos);
    if (!*owner)
        return -1;
    *p = PyUnicode_AsUTF8AndSize(*owner, n);
    if (!*p) {
        Py_CLEAR(*owner);
        return -1;
    }
    return 0;
}

static PyObject *build_result(struct dedup_state *st, PyObject *ids,
                              const struct wn_dedup_report *rep)
{
    PyObject *mask = PyBytes_FromStringAndSize((const char *)st->mask,
                                               (Py_ssize_t)st->nmask);
    PyObject *removed = PyList_New((Py_ssize_t)st->nrm);
    PyObject *rejected = PyList_New((Py_ssize_t)st->nrej);
    PyObject *report = report_dict(rep);
    if (!mask || !removed || !rejected || !report)
        goto fail;
    for (size_t i = 0; i < st->nrm; i++) {
        const struct removal *r = &st->rm[i];
        const char *reason = wn_reason_name(r->reason);
        PyObject *t = Py_BuildValue("KKLdds", (unsigned long long)r->pos,
                                    (unsigned long long)r->dup_pos,
                                    (long long)r->cluster, r->similarity,
                                    r->containment, reason ? reason : "near");
        if (!t)
            goto fail;
        PyList_SET_ITEM(removed, (Py_ssize_t)i, t);
    }
    for (size_t i = 0; i < st->nrej; i++) {
        PyObject *t = PyLong_FromUnsignedLongLong(st->rej[i]);
        if (!t)
            goto fail;
        PyList_SET_ITEM(rejected, (Py_ssize_t)i, t);
    }
    return Py_BuildValue("NNNNO", mask, removed, rejected, report,
                         ids ? ids : Py_None);
fail:
    Py_XDECREF(mask);
    Py_XDECREF(removed);
    Py_XDECREF(rejected);
    Py_XDECREF(report);
    return NULL;
}

/*
 * dedup(records, text_key, id_key, keep_key or None, options) ->
 *   (mask bytes, [(pos, dup_pos, cluster, similarity, containment,
 *   reason)], [rejected pos], report dict, ids list or None)
 */
static PyObject *py_dedup(PyObject *self, PyObject *args)
{
    PyObject *records, *text_key, *id_key, *keep_key, *opts;
    if (!PyArg_ParseTuple(args, "OUUOO!", &records, &text_key, &id_key,
                          &keep_key, &PyDict_Type, &opts))
        return NULL;
    if (keep_key == Py_None)
        keep_key = NULL;
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    /* The binding has no profile option yet: the classic rule, whose
     * threshold (0.8) it documents. */
    o.profile = WN_PROFILE_CLASSIC;
    if (fill_dedup_options(opts, &o) < 0)
        return NULL;
    PyObject *it = PyObject_GetIter(records);
    if (!it)
        return NULL;
    o.cancel = &interrupted;
    struct dedup_state st;
    memset(&st, 0, sizeof(st));
    struct wn_dedup_report rep;
    memset(&rep, 0, sizeof(rep));
    PyObject *ids = NULL, *result = NULL;
    struct wn_dedup_job *job = NULL;
    PyThreadState *ts;
    int rc;
    run_begin();
    ts = PyEval_SaveThread();
    rc = wn_dedup_job_create(&o, &job);
    PyEval_RestoreThread(ts);
    if (rc) {
        raise_status(rc, NULL);
        goto out;
    }
    uint64_t pos = 0;
    PyObject *rec;
    while ((rec = PyIter_Next(it))) {
        PyObject *text, *id;
        int bad = split_record(rec, text_key, id_key, &text, &id);
        double value = 0;
        int has_value = bad ? 0 : keep_value(rec, keep_key, &value);
        Py_DECREF(rec);
        if (bad < 0 || has_value < 0) {
            Py_XDECREF(text);
            Py_XDECREF(id);
            goto out;
        }
        /* The ids list starts with the first record that names one; the
         * records before it are named by their position. */
        if (id && !ids) {
            ids = PyList_New(0);
            for (uint64_t i = 0; ids && i < pos; i++) {
                PyObject *n = PyLong_FromUnsignedLongLong(i);
                if (!n || PyList_Append(ids, n) < 0) {
                    Py_XDECREF(n);
                    Py_CLEAR(ids);
                    break;
                }
                Py_DECREF(n);
            }
            if (!ids) {
                Py_XDECREF(text);
                Py_XDECREF(id);
                goto out;
            }
        }
        if (ids) {
            PyObject *name =
                id ? Py_NewRef(id) : PyLong_FromUnsignedLongLong(pos);
            int e = !name || PyList_Append(ids, name) < 0;
            Py_XDECREF(name);
            if (e) {
                Py_XDECREF(text);
                Py_XDECREF(id);
                goto out;
            }
        }
        if (grow((void **)&st.mask, &st.capmask, st.nmask + 1, 1)) {
            PyErr_NoMemory();
            Py_XDECREF(text);
            Py_XDECREF(id);
            goto out;
        }
        st.mask[st.nmask++] = 0;
        if (!text) {
            Py_XDECREF(id);
            if (grow((void **)&st.rej, &st.caprej, st.nrej + 1,
                     sizeof(*st.rej))) {
                PyErr_NoMemory();
                goto out;
            }
            st.rej[st.nrej++] = pos++;
            continue;
        }
        const char *tp, *ip;
        Py_ssize_t tn, in;
        PyObject *town = NULL, *iown = NULL;
        if (text_bytes(text, &tp, &tn, &town) < 0 ||
            id_text(id, pos, &ip, &in, &iown) < 0) {
            Py_XDECREF(town);
            Py_XDECREF(iown);
            Py_DECREF(text);
            Py_XDECREF(id);
            goto out;
        }
        struct wn_dedup_record r = {ip,         (size_t)in, tp,
                                    (size_t)tn, has_value,  value};
        ts = PyEval_SaveThread();
        rc = wn_dedup_job_add(job, &r);
        PyEval_RestoreThread(ts);
        Py_XDECREF(town);
        Py_XDECREF(iown);
        Py_DECREF(text);
        Py_XDECREF(id);
        if (rc) {
            raise_status(rc, NULL);
            goto out;
        }
        pos++;
        /* A Ctrl-C between records: Python's handler raises here. */
        if (PyErr_CheckSignals() < 0)
            goto out;
    }
    if (PyErr_Occurred())
        goto out; /* the iterable raised: that error reaches the caller */
    ts = PyEval_SaveThread();
    rc = wn_dedup_job_finish(job, on_fate, &st, &rep);
    PyEval_RestoreThread(ts);
    if (rc) {
        raise_status(rc, NULL);
        goto out;
    }
    rep.read += st.nrej;
    rep.rejected = st.nrej;
    result = build_result(&st, ids, &rep);
out:
    if (job) {
        ts = PyEval_SaveThread();
        wn_dedup_job_free(job);
        PyEval_RestoreThread(ts);
    }
    run_end();
    Py_DECREF(it);
    Py_XDECREF(ids);
    PyMem_RawFree(st.rej);
    PyMem_RawFree(st.mask);
    PyMem_RawFree(st.rm);
    return result;
}

/* ------------------------------------------------------------------------ */
/* Module                                                                    */
/* ------------------------------------------------------------------------ */

static PyMethodDef methods[] = {
    {"similarity", py_similarity, METH_VARARGS,
     "similarity(a, b, token_mode, ngram) -> (jaccard, containment, "
     "shingles_a, shingles_b, shared)"},
    {"tokens", py_tokens, METH_VARARGS,
     "tokens(text, token_mode, spans) -> list"},
    {"lsh_params", py_lsh_params, METH_VARARGS,
     "lsh_params(threshold, num_perm, w_fp, w_fn) -> (bands, rows, fp, fn)"},
    {"lsh_probability", py_lsh_probability, METH_VARARGS,
     "lsh_probability(s, bands, rows) -> float"},
    {"option_range", py_option_range, METH_VARARGS,
     "option_range(cmd, name) -> (lo, hi, lo_open, hi_open, text) or None"},
    {"strerror", py_strerror, METH_VARARGS, "strerror(status) -> str"},
    {"explain", py_explain, METH_VARARGS,
     "explain(a, b, options) -> (scores, runs, only_a, only_b)"},
    {"dedup", py_dedup, METH_VARARGS,
     "dedup(records, text_key, id_key, keep_key, options) -> raw result"},
    {"dedup_files", py_dedup_files, METH_VARARGS,
     "dedup_files(paths, outdir, options) -> report dict"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "winnow._winnow",
    "The C part of the winnow package; use the winnow module.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

static PyObject *new_error(PyObject *m, const char *name, PyObject *bases,
                           const char *doc)
{
    char full[64];
    snprintf(full, sizeof(full), "winnow.%s", name);
    PyObject *cls = PyErr_NewExceptionWithDoc(full, doc, bases, NULL);
    if (!cls)
        return NULL;
    if (PyModule_AddObjectRef(m, name, cls) < 0) {
        Py_DECREF(cls);
        return NULL;
    }
    return cls;
}

PyMODINIT_FUNC PyInit__winnow(void); /* the one exported symbol */

PyMODINIT_FUNC PyInit__winnow(void)
{
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Error = new_error(m, "Error", NULL,
                      "A libwinnow failure: .status is the library's status "
                      "code (negative), .path the file involved or None.");
    if (!Error)
        goto fail;
    PyObject *b = PyTuple_Pack(2, Error, PyExc_ValueError);
    OptionError = b ? new_error(m, "OptionError", b,
                                "A bad option value or combination "
                                "(a ValueError).")
                    : NULL;
    Py_XDECREF(b);
    b = PyTuple_Pack(2, Error, PyExc_OSError);
    FileError = b ? new_error(m, "FileError", b,
                              "An input or output failure: cannot open, "
                              "read or write, disk full, directory in use "
                              "(an OSError).")
                  : NULL;
    Py_XDECREF(b);
    b = PyTuple_Pack(2, Error, PyExc_ValueError);
    FormatError =
        b ? new_error(m, "FormatError", b, "Malformed input (a ValueError).")
          : NULL;
    Py_XDECREF(b);
    LimitError = new_error(m, "LimitError", Error,
                           "A size limit of the library was reached.");
    if (!OptionError || !FileError || !FormatError || !LimitError)
        goto fail;
    if (PyModule_AddStringConstant(m, "library_version", wn_version_string()) <
        0)
        goto fail;
#define ADD_STATUS(name, value, text)                                          \
    if (PyModule_AddIntConstant(m, #name, value) < 0)                          \
        goto fail;
    WN_STATUS_LIST(ADD_STATUS)
#undef ADD_STATUS
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
