/*
 * The reader's fast path (read_run in pytest_finetune/runs.py is the reference): the
 * lines of a block of the file, from a start, while each is one JSON object, parsed by
 * the loads given (orjson's), with no Python a line between two calls of it.
 */
#include "native.h"

#include <string.h>

const char read_run_doc[] =
    "read_run(buffer, start, limit, final, loads, error, /)\n--\n\n"
    "Parse buffer's lines from start on while each is one JSON object: the lines, their\n"
    "objects, the indexes of those whose keys differ from the object before's, of those\n"
    "that end with CRLF, and where the first line not taken starts (see\n"
    "pytest_finetune.runs.read_run).";

/* Whether two dicts have the same keys: 1 if so, 0 if not. Keys are compared in order
   by identity (orjson makes each short key once), else as sets. Keys that are not
   exact str count as different keys, so that no Python code (a str subclass's __eq__)
   runs here; JSON's keys are str. */
static int
same_keys(PyObject *first, PyObject *second)
{
    if (PyDict_GET_SIZE(first) != PyDict_GET_SIZE(second)) {
        return 0;
    }
    Py_ssize_t in_first = 0, in_second = 0;
    PyObject *key, *other, *value;
    int in_order = 1;
    while (PyDict_Next(first, &in_first, &key, &value)
           && PyDict_Next(second, &in_second, &other, &value)) {
        if (!PyUnicode_CheckExact(key) || !PyUnicode_CheckExact(other)) {
            return 0;
        }
        in_order &= key == other;
    }
    if (in_order) {
        return 1;
    }
    in_second = 0;
    while (PyDict_Next(second, &in_second, &other, &value)) {
        /* Exact str keys only, in both: the lookup compares them in C. */
        if (PyDict_Contains(first, other) != 1) {
            PyErr_Clear(); /* cannot fail for exact str keys; different if it did */
            return 0;
        }
    }
    return 1;
}

PyObject *
read_run(PyObject *self, PyObject *args)
{
    Py_buffer buffer;
    Py_ssize_t start, limit;
    int final;
    PyObject *loads, *error;
    if (!PyArg_ParseTuple(args, "y*nnpOO:read_run", &buffer, &start, &limit, &final, &loads,
                          &error)) {
        return NULL;
    }
    PyObject *result = NULL;
    PyObject *raws = PyList_New(0), *datas = PyList_New(0), *new_keys = PyList_New(0);
    PyObject *crlf = PyList_New(0);
    if (raws == NULL || datas == NULL || new_keys == NULL || crlf == NULL) {
        goto done;
    }
    if (start < 0 || start > buffer.len || limit < 0) {
        PyErr_SetString(PyExc_ValueError, "start must be within the buffer, limit >= 0");
        goto done;
    }
    const char *bytes = buffer.buf;
    Py_ssize_t end = buffer.len, at = start;
    /* The last object taken (borrowed: the lists are this call's own until it returns). */
    PyObject *previous = NULL;
    while (at < end) {
        const char *newline = memchr(bytes + at, '\n', (size_t)(end - at));
        Py_ssize_t size;
        if (newline != NULL) {
            size = newline - (bytes + at) + 1;
        }
        else if (final) {
            size = end - at;
        }
        else {
            break;
        }
        /* A carriage return before the last byte: a CRLF ending, or a line not taken. */
        int ends_crlf = size >= 2 && bytes[at + size - 2] == '\r';
        if (size > limit || (ends_crlf && bytes[at + size - 1] != '\n')) {
            break;
        }
        PyObject *raw = PyBytes_FromStringAndSize(bytes + at, size);
        if (raw == NULL) {
            goto done;
        }
        PyObject *data = PyObject_CallOneArg(loads, raw);
        if (data == NULL) {
            Py_DECREF(raw);
            if (!PyErr_ExceptionMatches(error)) {
                goto done;
            }
            PyErr_Clear();
            break;
        }
        if (!PyDict_CheckExact(data)) {
            Py_DECREF(raw);
            Py_DECREF(data);
            break;
        }
        int failed = 0;
        int changed = previous != NULL && !same_keys(previous, data);
        if (changed || ends_crlf) {
            PyObject *index = PyLong_FromSsize_t(PyList_GET_SIZE(datas));
            failed = index == NULL || (changed && PyList_Append(new_keys, index) < 0)
                     || (ends_crlf && PyList_Append(crlf, index) < 0);
            Py_XDECREF(index);
        }
        failed = failed || PyList_Append(raws, raw) < 0 || PyList_Append(datas, data) < 0;
        Py_DECREF(raw);
        Py_DECREF(data);
        if (failed) {
            goto done;
        }
        previous = data;
        at += size;
    }
    result = Py_BuildValue("(OOOOn)", raws, datas, new_keys, crlf, at);
done:
    PyBuffer_Release(&buffer);
    Py_XDECREF(raws);
    Py_XDECREF(datas);
    Py_XDECREF(new_keys);
    Py_XDECREF(crlf);
    return result;
}
