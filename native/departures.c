/*
 * The prompt/completion survey's cheap tests of a batch, in one pass over each record
 * (pytest_finetune/checks/prompt_completion/departures.py is the reference): which
 * records may depart from the file's conventions, so that the survey visits only those.
 * The Python tests are a dozen C-level passes over the batch's lists; here each record
 * is read once, and a test stops at its first sign.
 */
#include "native.h"

#include <string.h>

/* Whether text ends with end; -1 on an error. */
static int
ends_with(PyObject *text, PyObject *end)
{
    return (int)PyUnicode_Tailmatch(text, end, 0, PY_SSIZE_T_MAX, 1);
}

/*
 * Whether text may hold end before its last len(end) characters: end's rarest character
 * is found before them (as text.find(rare) < len(text) - len(end)); -1 on an error.
 */
static int
holds_before_end(PyObject *text, PyObject *end, PyObject *rare)
{
    Py_ssize_t at = PyUnicode_Find(text, rare, 0, PY_SSIZE_T_MAX, 1);
    if (at == -2) {
        return -1;
    }
    return PyUnicode_GET_LENGTH(text) - PyUnicode_GET_LENGTH(end) > at;
}

/* The options of one batch's tests (departures.Expected). */
typedef struct {
    PyObject *separator, *separator_rare, *stop, *stop_rare;
    int separator_inside, stop_inside, leading_space;
} Expected;

/* Whether a record may depart from expected; -1 on an error. */
static int
departs(PyObject *prompt, PyObject *completion, const Expected *expected)
{
    int found;
    if (PyUnicode_GET_LENGTH(expected->separator)) {
        found = ends_with(prompt, expected->separator);
        if (found != 1) {
            return found < 0 ? -1 : 1;
        }
        if (expected->separator_inside) {
            found = holds_before_end(prompt, expected->separator, expected->separator_rare);
            if (found != 0) {
                return found;
            }
        }
    }
    if (expected->leading_space) {
        if (PyUnicode_READ_CHAR(completion, 0) != ' ' || PyUnicode_GET_LENGTH(completion) < 2
            || PyUnicode_READ_CHAR(completion, 1) <= ' ') {
            return 1;
        }
    }
    if (PyUnicode_GET_LENGTH(expected->stop)) {
        found = ends_with(completion, expected->stop);
        if (found != 1) {
            return found < 0 ? -1 : 1;
        }
        if (expected->stop_inside) {
            found = holds_before_end(completion, expected->stop, expected->stop_rare);
            if (found != 0) {
                return found;
            }
        }
    }
    if (expected->separator_inside) {
        return PyUnicode_Contains(completion, expected->separator_rare);
    }
    return 0;
}

const char departures_doc[] =
    "departures(prompts, completions, separator, separator_rare, stop, stop_rare,\n"
    "           separator_inside, stop_inside, leading_space, /)\n"
    "--\n\n"
    "The indexes of the records that may depart from the file's conventions; None where\n"
    "every record must be visited: a text is not a str or is empty, a prompt starts with\n"
    "whitespace or a control character, or a completion is all whitespace.";

PyObject *
departures(PyObject *Py_UNUSED(self), PyObject *args)
{
    PyObject *prompts, *completions;
    Expected expected;
    if (!PyArg_ParseTuple(args, "O!O!UUUUppp:departures", &PyList_Type, &prompts,
                          &PyList_Type, &completions, &expected.separator,
                          &expected.separator_rare, &expected.stop, &expected.stop_rare,
                          &expected.separator_inside, &expected.stop_inside,
                          &expected.leading_space)) {
        return NULL;
    }
    /* Made before the lists are read: a new list may start the garbage collector, whose
       callbacks and finalizers may change the lists (the ints and the appends below
       cannot: they are not tracked). */
    PyObject *found = PyList_New(0);
    if (found == NULL) {
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(prompts);
    if (PyList_GET_SIZE(completions) != count) {
        PyErr_SetString(PyExc_ValueError, "prompts and completions differ in length");
        Py_DECREF(found);
        return NULL;
    }
    /* Every record is read for the signs that send the whole batch back first: they
       are rare, and the lists' items are Python's to change once this returns. */
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *prompt = PyList_GET_ITEM(prompts, index);
        PyObject *completion = PyList_GET_ITEM(completions, index);
        if (!PyUnicode_CheckExact(prompt) || !PyUnicode_CheckExact(completion)
            || PyUnicode_GET_LENGTH(prompt) == 0 || PyUnicode_GET_LENGTH(completion) == 0
            || PyUnicode_READ_CHAR(prompt, 0) <= ' ' || all_space(completion)) {
            Py_DECREF(found);
            Py_RETURN_NONE;
        }
    }
    for (Py_ssize_t index = 0; index < count; index++) {
        int departed = departs(PyList_GET_ITEM(prompts, index),
                               PyList_GET_ITEM(completions, index), &expected);
        if (departed == 0) {
            continue;
        }
        if (departed < 0 || append_index(found, index) < 0) {
            Py_DECREF(found);
            return NULL;
        }
    }
    return found;
}

/* A text's UTF-8 bytes (of a str of the expected conventions, or of a raw line). */
typedef struct {
    const unsigned char *bytes;
    Py_ssize_t size;
} Text;

/* The expected conventions as UTF-8 (plain_departures' Expected). */
typedef struct {
    Text separator, separator_rare, stop, stop_rare;
    int separator_inside, stop_inside, leading_space;
} ExpectedBytes;

/* Where needle (not empty) first is in text, or -1. */
static Py_ssize_t
find_bytes(Text text, Text needle)
{
    const unsigned char *here = text.bytes, *stop = text.bytes + text.size;
    if (needle.size == 0) {
        return 0;
    }
    while (stop - here >= needle.size) {
        here = memchr(here, needle.bytes[0], (size_t)(stop - here - needle.size + 1));
        if (here == NULL) {
            return -1;
        }
        if (memcmp(here, needle.bytes, (size_t)needle.size) == 0) {
            return here - text.bytes;
        }
        here++;
    }
    return -1;
}

static int
ends_with_bytes(Text text, Text end)
{
    return text.size >= end.size
           && memcmp(text.bytes + text.size - end.size, end.bytes, (size_t)end.size) == 0;
}

/* holds_before_end on UTF-8: text ends with end, so its last len(end) characters are
   end's bytes, and a character's index is before them where its byte offset is. */
static int
holds_before_end_bytes(Text text, Text end, Text rare)
{
    return text.size - end.size > find_bytes(text, rare);
}

/* all_space on UTF-8 (valid, or with a lone surrogate as its three bytes). */
static int
all_space_bytes(Text text)
{
    const unsigned char *bytes = text.bytes;
    Py_ssize_t at = 0, size;
    Py_UCS4 code;
    while (at < text.size) {
        unsigned char lead = bytes[at];
        if (lead < 0x80) {
            code = lead;
            size = 1;
        }
        else if (lead < 0xe0) {
            size = 2;
            code = lead & 0x1f;
        }
        else if (lead < 0xf0) {
            size = 3;
            code = lead & 0x0f;
        }
        else {
            size = 4;
            code = lead & 0x07;
        }
        if (at + size > text.size) {
            return 0;
        }
        for (Py_ssize_t index = 1; index < size; index++) {
            code = (code << 6) | (bytes[at + index] & 0x3f);
        }
        if (!Py_UNICODE_ISSPACE(code)) {
            return 0;
        }
        at += size;
    }
    return 1;
}

/* Whether text departs at its end (end not empty): it lacks end, or, where inside is
   watched, may hold it before. */
static int
departs_at_end(Text text, Text end, Text rare, int inside)
{
    return !ends_with_bytes(text, end) || (inside && holds_before_end_bytes(text, end, rare));
}

/* departs, on a record's texts as UTF-8: the same answer, character for character. */
static int
departs_bytes(Text prompt, Text completion, const ExpectedBytes *expected)
{
    if (expected->separator.size
        && departs_at_end(prompt, expected->separator, expected->separator_rare,
                          expected->separator_inside)) {
        return 1;
    }
    if (expected->leading_space
        && (completion.bytes[0] != ' ' || completion.size < 2 || completion.bytes[1] <= ' ')) {
        return 1;
    }
    if (expected->stop.size
        && departs_at_end(completion, expected->stop, expected->stop_rare,
                          expected->stop_inside)) {
        return 1;
    }
    return expected->separator_inside && find_bytes(completion, expected->separator_rare) >= 0;
}

/* A str's UTF-8 into text; 0 where it has none (a lone surrogate), the error cleared. */
static int
utf8_of(PyObject *text, Text *into)
{
    into->bytes = (const unsigned char *)PyUnicode_AsUTF8AndSize(text, &into->size);
    if (into->bytes == NULL) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

const char plain_departures_doc[] =
    "plain_departures(lines, separator, separator_rare, stop, stop_rare,\n"
    "                 separator_inside, stop_inside, leading_space, /)\n"
    "--\n\n"
    "departures(), on a batch's raw lines that are each a plain prompt/completion object\n"
    "(read with its texts' UTF-8): the indexes of the records that may depart from the\n"
    "file's conventions; None where every record must be visited, or a line is not one.";

PyObject *
plain_departures(PyObject *Py_UNUSED(self), PyObject *args)
{
    PyObject *lines, *strings[4];
    ExpectedBytes expected;
    if (!PyArg_ParseTuple(args, "O!UUUUppp:plain_departures", &PyList_Type, &lines,
                          &strings[0], &strings[1], &strings[2], &strings[3],
                          &expected.separator_inside, &expected.stop_inside,
                          &expected.leading_space)) {
        return NULL;
    }
    if (!utf8_of(strings[0], &expected.separator) || !utf8_of(strings[1], &expected.separator_rare)
        || !utf8_of(strings[2], &expected.stop) || !utf8_of(strings[3], &expected.stop_rare)) {
        Py_RETURN_NONE; /* conventions that only the tests of str read */
    }
    /* Made before the lines are read, as in departures(). */
    PyObject *found = PyList_New(0);
    if (found == NULL) {
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(lines), longest = 0;
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *line = PyList_GET_ITEM(lines, index);
        if (!PyBytes_Check(line)) {
            Py_DECREF(found);
            PyErr_SetString(PyExc_TypeError, "plain_departures() takes a list of bytes");
            return NULL;
        }
        if (PyBytes_GET_SIZE(line) > longest) {
            longest = PyBytes_GET_SIZE(line);
        }
    }
    unsigned char *out = PyMem_Malloc((size_t)longest + 1);
    unsigned char *departed = PyMem_Malloc((size_t)(count ? count : 1));
    if (out == NULL || departed == NULL) {
        PyMem_Free(out);
        PyMem_Free(departed);
        Py_DECREF(found);
        return PyErr_NoMemory();
    }
    /* Every line is read for the signs that send the whole batch back first. */
    int every = 0;
    for (Py_ssize_t index = 0; index < count && !every; index++) {
        PyObject *line = PyList_GET_ITEM(lines, index);
        const unsigned char *read[2];
        Py_ssize_t sizes[2];
        if (read_texts((const unsigned char *)PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line),
                       out, read, sizes) < 0) {
            every = 1;
            break;
        }
        Text prompt = {read[0], sizes[0]}, completion = {read[1], sizes[1]};
        every = prompt.size == 0 || completion.size == 0 || prompt.bytes[0] <= ' '
                || all_space_bytes(completion);
        if (!every) {
            departed[index] = (unsigned char)departs_bytes(prompt, completion, &expected);
        }
    }
    PyMem_Free(out);
    if (every) {
        PyMem_Free(departed);
        Py_DECREF(found);
        Py_RETURN_NONE;
    }
    for (Py_ssize_t index = 0; index < count; index++) {
        if (!departed[index]) {
            continue;
        }
        if (append_index(found, index) < 0) {
            Py_DECREF(found);
            PyMem_Free(departed);
            return NULL;
        }
    }
    PyMem_Free(departed);
    return found;
}
