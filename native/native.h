/*
 * What the parts of pytest_finetune._native share: each source file's functions, which
 * native.c's table of methods lists.
 */
#ifndef PYTEST_FINETUNE_NATIVE_H
#define PYTEST_FINETUNE_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Whether text (a str, not empty) is all whitespace, as str.isspace says. */
static inline int
all_space(PyObject *text)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t index = 0; index < length; index++) {
        if (!Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, index))) {
            return 0;
        }
    }
    return 1;
}

/*
 * native.c: a plain prompt/completion line's texts, read from its raw JSON (a line that
 * parsed): the prompt's and the completion's UTF-8 bytes and sizes, unescaped into out
 * where they have escapes (out holds the line's size: both together are never longer).
 * Returns 0, or -1 where the line is not one object of the two string members.
 */
int read_texts(const unsigned char *raw, Py_ssize_t end, unsigned char *out,
               const unsigned char *texts[2], Py_ssize_t sizes[2]);

/* Past the JSON whitespace (space, tab, newline, carriage return) at text[at]. */
static inline Py_ssize_t
json_space(const unsigned char *text, Py_ssize_t at, Py_ssize_t end)
{
    while (at < end && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r')) {
        at++;
    }
    return at;
}

/*
 * runs.c: past the JSON string that opens at text[at] (its quote), or -1 where it is
 * not one that orjson reads exactly so (bytes under 0x20, a bad escape, a \u escape of
 * a surrogate). Its UTF-8 is not validated here.
 */
Py_ssize_t past_string(const unsigned char *text, Py_ssize_t at, Py_ssize_t end);

/* Append index to list as an int; -1, with an error set, where that fails. */
static inline int
append_index(PyObject *list, Py_ssize_t index)
{
    PyObject *number = PyLong_FromSsize_t(index);
    int failed = number == NULL || PyList_Append(list, number) < 0;
    Py_XDECREF(number);
    return failed ? -1 : 0;
}

/* departures.c: the prompt/completion survey's cheap tests of a batch, on its texts or
   on its raw lines. */
PyObject *departures(PyObject *self, PyObject *args);
extern const char departures_doc[];
PyObject *plain_departures(PyObject *self, PyObject *args);
extern const char plain_departures_doc[];

/* chats.c: the chats of a batch that the chat schema walk must walk. */
PyObject *chats_to_walk(PyObject *self, PyObject *args);
extern const char chats_to_walk_doc[];

/* runs.c: the reader's fast path, the lines of a block of the file in one go. */
PyObject *read_run(PyObject *self, PyObject *args);
extern const char read_run_doc[];

/* lines.c: how many newlines a range of a file holds (POSIX: read with pread). */
#ifndef _WIN32
PyObject *file_newlines(PyObject *self, PyObject *args);
extern const char file_newlines_doc[];
#endif

#endif
