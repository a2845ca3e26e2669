/*
 * _winnow.h - what the C files of the winnow extension share (_winnow.c:
 * the module, statuses as exceptions, texts, options; _index.c: the Index
 * type). Nothing here is exported from the module (-fvisibility=hidden).
 */
#ifndef WNPY_WINNOW_H
#define WNPY_WINNOW_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "winnow.h"

/* Set the exception of library status rc (path: the file involved, or
 * NULL) and return NULL. */
PyObject *wnpy_raise_status(int rc, const char *path);
/* The same with the library's own sentence (text, when not empty) as the
 * message, as wn_index_open gives one. */
PyObject *wnpy_raise_status_text(int rc, const char *path, const char *text);
/* The UTF-8 bytes of a str, bytes or bytearray (*owner: a new reference to
 * keep while *p is used, or NULL). 0, or -1 with an exception. */
int wnpy_text_bytes(PyObject *obj, const char **p, Py_ssize_t *n,
                    PyObject **owner);
/* Fill o from a dict of values checked by winnow/_options.py. 0, or -1
 * with an exception. */
int wnpy_fill_dedup_options(PyObject *d, struct wn_dedup_options *o);
/* Add the type _winnow.Index to module m. 0, or -1 with an exception. */
int wnpy_index_add_type(PyObject *m);

#endif
