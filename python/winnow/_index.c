/*
 * _index.c - the type _winnow.Index: a persistent index (wn_index, LMDB)
 * held open by a Python object. winnow/__init__.py wraps it in
 * winnow.Index, which checks the options and gives named results.
 *
 * Every call that reads or writes the store releases the GIL; the library
 * handle is thread-safe, so several Python threads may check and query one
 * Index at once. Calls in flight are counted under the GIL, and close()
 * refuses to free the handle while one runs.
 */
#include "_winnow.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    PyObject_HEAD struct wn_index *ix;
    PyObject *path; /* str, for messages */
    int busy;       /* calls running without the GIL */
} IndexObject;

static int index_usable(IndexObject *self)
{
    if (!self->ix) {
        PyErr_SetString(PyExc_ValueError, "I/O operation on a closed index");
        return 0;
    }
    return 1;
}

static int index_init(IndexObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"path",      "options", "create",
                            "read_only", "no_sync", NULL};
    PyObject *path = NULL, *opts = Py_None;
    int create = 0, read_only = 0, no_sync = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|Oppp", names,
                                     PyUnicode_FSConverter, &path, &opts,
                                     &create, &read_only, &no_sync))
        return -1;
    if (self->ix) {
        Py_DECREF(path);
        PyErr_SetString(PyExc_RuntimeError, "the index is already open");
        return -1;
    }
    struct wn_index_options o;
    wn_index_options_init(&o);
    if (opts != Py_None) {
        if (wnpy_fill_dedup_options(opts, &o.dedup) < 0) {
            Py_DECREF(path);
            return -1;
        }
        o.check_params = 1;
    }
    o.create = create;
    o.read_only = read_only;
    o.no_sync = no_sync;
    const char *p = PyBytes_AS_STRING(path);
    struct wn_index *ix = NULL;
    char msg[512] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS;
    rc = wn_index_open(p, &o, &ix, msg, sizeof(msg));
    Py_END_ALLOW_THREADS;
    if (rc != WN_OK) {
        wnpy_raise_status_text(rc, p, msg);
        Py_DECREF(path);
        return -1;
    }
    self->ix = ix;
    Py_XSETREF(self->path, PyUnicode_DecodeFSDefault(p));
    Py_DECREF(path);
    return self->path ? 0 : -1;
}

static void index_dealloc(IndexObject *self)
{
    /* A call in flight holds a reference: busy is 0 here. */
    wn_index_free(self->ix);
    self->ix = NULL;
    Py_XDECREF(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *index_close(IndexObject *self, PyObject *unused)
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "close(): another thread is using the index");
        return NULL;
    }
    struct wn_index *ix = self->ix;
    self->ix = NULL;
    if (ix) {
        Py_BEGIN_ALLOW_THREADS;
        wn_index_free(ix);
        Py_END_ALLOW_THREADS;
    }
    Py_RETURN_NONE;
}

static PyObject *index_closed(IndexObject *self, void *unused)
{
    return PyBool_FromLong(self->ix == NULL);
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */
/* ------------------------------------------------------------------------ */

/* (is_new, added, record or None, [(record, id, time, reason, similarity,
 * containment), ...]) */
static PyObject *result_tuple(const struct wn_index_result *r)
{
    PyObject *ms = PyList_New((Py_ssize_t)r->n);
    if (!ms)
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        const struct wn_index_match *m = &r->matches[i];
        const char *reason = wn_index_reason_name(m->reason);
        PyObject *id = PyUnicode_DecodeUTF8(m->id, (Py_ssize_t)m->id_len,
                                            "surrogateescape");
        PyObject *t =
            id ? Py_BuildValue("(KNLsdd)", (unsigned long long)m->record, id,
                               (long long)m->time, reason, m->similarity,
                               m->containment)
               : NULL;
        if (!t) {
            Py_DECREF(ms);
            return NULL;
        }
        PyList_SET_ITEM(ms, (Py_ssize_t)i, t);
    }
    PyObject *rec =
        r->added ? PyLong_FromUnsignedLongLong(r->record) : Py_NewRef(Py_None);
    if (!rec) {
        Py_DECREF(ms);
        return NULL;
    }
    return Py_BuildValue("(OONN)", r->is_new ? Py_True : Py_False,
                         r->added ? Py_True : Py_False, rec, ms);
}

/* ------------------------------------------------------------------------ */
/* check, query, check_many                                                  */
/* ------------------------------------------------------------------------ */

/* One record of a batch: the borrowed bytes and what keeps them alive. */
struct doc_ref {
    struct wn_index_doc d;
    PyObject *id_owner, *text_owner;
};

static void doc_refs_release(struct doc_ref *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        Py_XDECREF(r[i].id_owner);
        Py_XDECREF(r[i].text_owner);
    }
}

/* r from (id or None, text, time or None). 0 or -1 with an exception. */
static int doc_ref_fill(struct doc_ref *r, PyObject *id, PyObject *text,
                        PyObject *time)
{
    memset(r, 0, sizeof(*r));
    const char *p;
    Py_ssize_t n;
    if (id != Py_None) {
        if (wnpy_text_bytes(id, &p, &n, &r->id_owner) < 0)
            return -1;
        r->d.id = p;
        r->d.id_len = (size_t)n;
    }
    if (wnpy_text_bytes(text, &p, &n, &r->text_owner) < 0)
        return -1;
    r->d.text = p;
    r->d.text_len = (size_t)n;
    if (time != Py_None) {
        long long t = PyLong_AsLongLong(time);
        if (t == -1 && PyErr_Occurred())
            return -1;
        r->d.has_time = 1;
        r->d.time = (int64_t)t;
    }
    return 0;
}

/*
 * Create the items of docs and apply them in one transaction (add: check
 * and add; else query), without the GIL. Returns a list of result tuples,
 * or NULL with an exception.
 */
static PyObject *apply_docs(IndexObject *self, struct doc_ref *docs, size_t n,
                            int add, size_t max_matches)
{
    struct wn_index_item **items = PyMem_Calloc(n ? n : 1, sizeof(*items));
    struct wn_index_result *res = PyMem_Calloc(n ? n : 1, sizeof(*res));
    if (!items || !res) {
        PyMem_Free(items);
        PyMem_Free(res);
        return PyErr_NoMemory();
    }
    for (size_t i = 0; i < n; i++)
        wn_index_result_init(&res[i]);
    int rc = WN_OK;
    struct wn_index *ix = self->ix;
    self->busy++;
    Py_BEGIN_ALLOW_THREADS;
    for (size_t i = 0; i < n && !rc; i++)
        rc = wn_index_item_create(ix, &docs[i].d, add, &items[i]);
    if (!rc)
        rc = wn_index_apply(ix, items, n, add, max_matches, res);
    for (size_t i = 0; i < n; i++)
        wn_index_item_free(items[i]);
    Py_END_ALLOW_THREADS;
    self->busy--;
    PyObject *out = NULL;
    if (rc != WN_OK) {
        wnpy_raise_status(rc, NULL);
    } else if ((out = PyList_New((Py_ssize_t)n)) != NULL) {
        for (size_t i = 0; i < n; i++) {
            PyObject *t = result_tuple(&res[i]);
            if (!t) {
                Py_CLEAR(out);
                break;
            }
            PyList_SET_ITEM(out, (Py_ssize_t)i, t);
        }
    }
    for (size_t i = 0; i < n; i++)
        wn_index_result_release(&res[i]);
    PyMem_Free(items);
    PyMem_Free(res);
    return out;
}

static PyObject *one(IndexObject *self, PyObject *id, PyObject *text,
                     PyObject *time, int add, size_t max_matches)
{
    if (!index_usable(self))
        return NULL;
    struct doc_ref r;
    PyObject *out = NULL;
    if (doc_ref_fill(&r, id, text, time) == 0) {
        PyObject *l = apply_docs(self, &r, 1, add, max_matches);
        if (l) {
            out = Py_NewRef(PyList_GET_ITEM(l, 0));
            Py_DECREF(l);
        }
    }
    doc_refs_release(&r, 1);
    return out;
}

static PyObject *index_check(IndexObject *self, PyObject *args)
{
    PyObject *id, *text, *time;
    if (!PyArg_ParseTuple(args, "OOO", &id, &text, &time))
        return NULL;
    return one(self, id, text, time, 1, 1);
}

static PyObject *index_query(IndexObject *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t matches;
    if (!PyArg_ParseTuple(args, "On", &text, &matches))
        return NULL;
    if (matches < 1) {
        PyErr_SetString(PyExc_ValueError, "matches must be at least 1");
        return NULL;
    }
    return one(self, Py_None, text, Py_None, 0, (size_t)matches);
}

/* check_many(list of (id, text, time), add, matches) */
static PyObject *index_apply(IndexObject *self, PyObject *args)
{
    PyObject *list;
    int add;
    Py_ssize_t matches;
    if (!PyArg_ParseTuple(args, "O!pn", &PyList_Type, &list, &add, &matches))
        return NULL;
    if (!index_usable(self))
        return NULL;
    if (matches < 1) {
        PyErr_SetString(PyExc_ValueError, "matches must be at least 1");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(list);
    struct doc_ref *docs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(*docs));
    if (!docs)
        return PyErr_NoMemory();
    /* The list's tuples hold the texts while the GIL is released; a copy
     * of the list keeps them even if the caller's list changes meanwhile. */
    PyObject *keep = PyList_GetSlice(list, 0, n);
    PyObject *out = NULL;
    size_t filled = 0;
    int ok = keep != NULL;
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        PyObject *t = PyList_GET_ITEM(keep, i);
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3) {
            PyErr_SetString(PyExc_TypeError,
                            "records must be (id, text, time) tuples");
            ok = 0;
            break;
        }
        ok = doc_ref_fill(&docs[i], PyTuple_GET_ITEM(t, 0),
                          PyTuple_GET_ITEM(t, 1), PyTuple_GET_ITEM(t, 2)) == 0;
        filled = (size_t)i + 1;
    }
    if (ok)
        out = apply_docs(self, docs, (size_t)n, add, (size_t)matches);
    doc_refs_release(docs, filled);
    PyMem_Free(docs);
    Py_XDECREF(keep);
    return out;
}

/* ------------------------------------------------------------------------ */
/* expire, merge, stats, rule                                                */
/* ------------------------------------------------------------------------ */

static PyObject *index_expire(IndexObject *self, PyObject *args)
{
    long long before;
    if (!PyArg_ParseTuple(args, "L", &before))
        return NULL;
    if (!index_usable(self))
        return NULL;
    uint64_t removed = 0;
    int rc;
    struct wn_index *ix = self->ix;
    self->busy++;
    Py_BEGIN_ALLOW_THREADS;
    rc = wn_index_expire(ix, (int64_t)before, &removed);
    Py_END_ALLOW_THREADS;
    self->busy--;
    if (rc != WN_OK)
        return wnpy_raise_status(rc, NULL);
    return PyLong_FromUnsignedLongLong(removed);
}

static PyObject *index_merge(IndexObject *self, PyObject *args)
{
    int force = 1;
    if (!PyArg_ParseTuple(args, "|p", &force))
        return NULL;
    if (!index_usable(self))
        return NULL;
    int rc;
    struct wn_index *ix = self->ix;
    self->busy++;
    Py_BEGIN_ALLOW_THREADS;
    rc = wn_index_merge(ix, force);
    Py_END_ALLOW_THREADS;
    self->busy--;
    if (rc != WN_OK)
        return wnpy_raise_status(rc, NULL);
    Py_RETURN_NONE;
}

static PyObject *index_stats(IndexObject *self, PyObject *unused)
{
    if (!index_usable(self))
        return NULL;
    struct wn_index_stats st;
    memset(&st, 0, sizeof(st));
    int rc;
    struct wn_index *ix = self->ix;
    self->busy++;
    Py_BEGIN_ALLOW_THREADS;
    rc = wn_index_stats(ix, &st);
    Py_END_ALLOW_THREADS;
    self->busy--;
    if (rc != WN_OK)
        return wnpy_raise_status(rc, NULL);
    return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:L,s:L,s:I,s:I}",
                         "records", (unsigned long long)st.records,
                         "key_values", (unsigned long long)st.key_values,
                         "pending", (unsigned long long)st.pending,
                         "next_record", (unsigned long long)st.next_record,
                         "map_size", (unsigned long long)st.map_size,
                         "used_bytes", (unsigned long long)st.used_bytes,
                         "file_bytes", (unsigned long long)st.file_bytes,
                         "oldest", (long long)st.oldest, "newest",
                         (long long)st.newest, "bands", (unsigned)st.bands,
                         "rows", (unsigned)st.rows);
}

/* The stored rule as the enum values and numbers of winnow.h. */
static PyObject *index_rule(IndexObject *self, PyObject *unused)
{
    if (!index_usable(self))
        return NULL;
    struct wn_dedup_options o;
    wn_index_rule(self->ix, &o);
    return Py_BuildValue(
        "{s:i,s:i,s:i,s:I,s:I,s:d,s:I,s:I,s:i,s:d,s:I,s:K}", "method", o.method,
        "profile", o.profile, "token_mode", o.token_mode, "ngram", o.ngram,
        "num_perm", (unsigned)o.num_perm, "threshold", o.threshold, "bands",
        (unsigned)o.bands, "rows", (unsigned)o.rows, "sketch", o.sketch,
        "containment", o.containment, "hamming", o.hamming, "seed",
        (unsigned long long)o.seed);
}

static PyMethodDef index_methods[] = {
    {"close", (PyCFunction)index_close, METH_NOARGS,
     "close(): free the handle (no call may be running)"},
    {"check", (PyCFunction)index_check, METH_VARARGS,
     "check(id, text, time) -> (is_new, added, record, matches)"},
    {"query", (PyCFunction)index_query, METH_VARARGS,
     "query(text, matches) -> (is_new, added, record, matches)"},
    {"apply", (PyCFunction)index_apply, METH_VARARGS,
     "apply([(id, text, time), ...], add, matches) -> [result, ...] in one "
     "transaction"},
    {"expire", (PyCFunction)index_expire, METH_VARARGS,
     "expire(before) -> records removed"},
    {"merge", (PyCFunction)index_merge, METH_VARARGS,
     "merge(force=True): merge the pending key tier"},
    {"stats", (PyCFunction)index_stats, METH_NOARGS, "stats() -> dict"},
    {"rule", (PyCFunction)index_rule, METH_NOARGS, "rule() -> dict"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef index_getset[] = {
    {"closed", (getter)index_closed, NULL, "whether close() was called", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject IndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "winnow._winnow.Index",
    .tp_basicsize = sizeof(IndexObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C handle of a winnow index; use winnow.Index.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)index_init,
    .tp_dealloc = (destructor)index_dealloc,
    .tp_methods = index_methods,
    .tp_getset = index_getset,
};

int wnpy_index_add_type(PyObject *m)
{
    if (PyType_Ready(&IndexType) < 0)
        return -1;
    return PyModule_AddObjectRef(m, "Index", (PyObject *)&IndexType);
}
