/*
 * The prompt/completion survey's cheap tests of a batch, in one pass over each record
 * (pytest_finetune/checks/prompt_completion/departures.py is the reference): which
 * records may depart from the file's conventions, so that the survey visits only those.
 * The Python tests are a dozen C-level passes over the batch's lists; here each record
 * is read once, and a test stops at its first sign.
 */
#include "native.h"

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
        PyObject *number = departed < 0 ? NULL : PyLong_FromSsize_t(index);
        if (number == NULL || PyList_Append(found, number) < 0) {
            Py_XDECREF(number);
            Py_DECREF(found);
            return NULL;
        }
        Py_DECREF(number);
    }
    return found;
}
