/*
 * The chat schema walk's cheap test of a batch, in one pass (_plain_roles in
 * pytest_finetune/checks/chat/survey.py is the reference): the roles, in order, of each
 * plain chat (only "messages", each message a role and a text that is not blank), which
 * the walk need not walk again once chats with the same roles were walked clean.
 */
#include "native.h"

/* The keys read in each message, made once. */
static PyObject *ROLE, *CONTENT;

/* The role of message (a dict) if it is plain: a str role and a str content not blank,
   only; else NULL, with an exception set on an error. */
static PyObject *
plain_role(PyObject *message)
{
    if (!PyDict_CheckExact(message) || PyDict_GET_SIZE(message) != 2) {
        return NULL;
    }
    PyObject *content = PyDict_GetItemWithError(message, CONTENT);
    if (content == NULL || !PyUnicode_CheckExact(content)
        || PyUnicode_GET_LENGTH(content) == 0 || all_space(content)) {
        return NULL;
    }
    PyObject *role = PyDict_GetItemWithError(message, ROLE);
    return role != NULL && PyUnicode_CheckExact(role) ? role : NULL;
}

/* The roles of a chat's messages if each is plain, or None; NULL on an error. */
static PyObject *
roles_of(PyObject *messages)
{
    Py_ssize_t count = PyList_GET_SIZE(messages);
    PyObject *roles = PyTuple_New(count);
    if (roles == NULL) {
        return NULL;
    }
    if (PyList_GET_SIZE(messages) != count) {
        /* Changed by the garbage collector's callbacks that the tuple made may start:
           left to the walk, which reads whatever it holds. */
        Py_DECREF(roles);
        Py_RETURN_NONE;
    }
    for (Py_ssize_t index = 0; index < count; index++) {
        /* A message's keys may be str subclasses whose __eq__, run by the lookups, may
           change the list (and free the message): held, and the list read again. */
        if (PyList_GET_SIZE(messages) != count) {
            Py_DECREF(roles);
            Py_RETURN_NONE;
        }
        PyObject *message = Py_NewRef(PyList_GET_ITEM(messages, index));
        PyObject *role = plain_role(message);
        if (role == NULL) {
            Py_DECREF(message);
            Py_DECREF(roles);
            if (PyErr_Occurred()) {
                return NULL;
            }
            Py_RETURN_NONE;
        }
        PyTuple_SET_ITEM(roles, index, Py_NewRef(role));
        Py_DECREF(message);
    }
    return roles;
}

const char plain_roles_doc[] =
    "plain_roles(datas, conversations, /)\n"
    "--\n\n"
    "For each chat (its record's object, and its messages), its roles in order if it is\n"
    "plain, else None; None for every chat where a message of a chat with only messages\n"
    "is not a dict.";

PyObject *
plain_roles(PyObject *Py_UNUSED(self), PyObject *args)
{
    PyObject *datas, *conversations;
    if (ROLE == NULL) {
        ROLE = PyUnicode_InternFromString("role");
        CONTENT = PyUnicode_InternFromString("content");
        if (ROLE == NULL || CONTENT == NULL) {
            Py_CLEAR(ROLE);
            Py_CLEAR(CONTENT);
            return NULL;
        }
    }
    if (!PyArg_ParseTuple(args, "O!O!:plain_roles", &PyList_Type, &datas, &PyList_Type,
                          &conversations)) {
        return NULL;
    }
    /* Made before the lists are read: a new object may start the garbage collector,
       whose callbacks may change them (as may the tuples of roles made below: each chat
       is read again after the one before). */
    PyObject *found = PyList_New(0);
    if (found == NULL) {
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(datas);
    if (PyList_GET_SIZE(conversations) != count) {
        PyErr_SetString(PyExc_ValueError, "datas and conversations differ in length");
        Py_DECREF(found);
        return NULL;
    }
    /* Which chats hold only messages, a list; a message of one that is not a dict sends
       the whole batch to the walk. */
    char *plain = PyMem_Malloc(count ? count : 1);
    if (plain == NULL) {
        Py_DECREF(found);
        return PyErr_NoMemory();
    }
    int any_odd = 0;
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *data = PyList_GET_ITEM(datas, index);
        PyObject *messages = PyList_GET_ITEM(conversations, index);
        if (!PyDict_Check(data)) {
            PyMem_Free(plain);
            Py_DECREF(found);
            PyErr_SetString(PyExc_TypeError, "plain_roles() takes a list of dicts");
            return NULL;
        }
        plain[index] = PyDict_GET_SIZE(data) == 1 && PyList_CheckExact(messages);
        if (plain[index]) {
            Py_ssize_t size = PyList_GET_SIZE(messages);
            for (Py_ssize_t at = 0; at < size; at++) {
                any_odd |= !PyDict_CheckExact(PyList_GET_ITEM(messages, at));
            }
        }
    }
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *roles = Py_None;
        PyObject *messages = index < PyList_GET_SIZE(conversations)
                                 ? PyList_GET_ITEM(conversations, index)
                                 : NULL;
        if (plain[index] && !any_odd && messages != NULL && PyList_CheckExact(messages)) {
            Py_INCREF(messages);
            roles = roles_of(messages);
            Py_DECREF(messages);
        }
        else {
            Py_INCREF(roles);
        }
        if (roles == NULL || PyList_Append(found, roles) < 0) {
            Py_XDECREF(roles);
            PyMem_Free(plain);
            Py_DECREF(found);
            return NULL;
        }
        Py_DECREF(roles);
    }
    PyMem_Free(plain);
    return found;
}
