/*
 * What the parts of pytest_finetune._native share: each source file's functions, which
 * native.c's table of methods lists.
 */
#ifndef PYTEST_FINETUNE_NATIVE_H
#define PYTEST_FINETUNE_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* departures.c: the prompt/completion survey's cheap tests of a batch. */
PyObject *departures(PyObject *self, PyObject *args);
extern const char departures_doc[];

#endif
