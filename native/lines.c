/*
 * How many lines a range of a file ends (chunks._newlines is the reference): the
 * numbering of a chunk's first line. The bytes are read here, without the GIL, so that
 * a thread counts them while the process loads what the first chunk's checks need.
 */
#include "native.h"

#ifndef _WIN32
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Small enough that each block is counted while it is in the cache. */
#define BLOCK_BYTES (256 * 1024)

const char file_newlines_doc[] =
    "file_newlines(fd, start, end, /)\n--\n\n"
    "How many newlines the bytes start to end of the open file fd hold (fewer where the\n"
    "file ends before end). They are read with pread, without holding the GIL.";

PyObject *
file_newlines(PyObject *self, PyObject *args)
{
    int fd, error = 0;
    long long start, end;
    Py_ssize_t count = 0;
    char *block;
    (void)self;
    if (!PyArg_ParseTuple(args, "iLL:file_newlines", &fd, &start, &end)) {
        return NULL;
    }
    if ((block = PyMem_RawMalloc(BLOCK_BYTES)) == NULL) {
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    while (start < end) {
        size_t wanted = end - start < BLOCK_BYTES ? (size_t)(end - start) : BLOCK_BYTES;
        ssize_t got = pread(fd, block, wanted, (off_t)start);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            error = got < 0 ? errno : 0;
            break;
        }
        /* glibc's memchr reads many bytes an instruction: lines of hundreds of bytes
           cost a call each, far less than a compare a byte. */
        for (const char *at = block, *stop = block + got;
             at < stop && (at = memchr(at, '\n', (size_t)(stop - at))) != NULL; at++) {
            count++;
        }
        start += got;
    }
    Py_END_ALLOW_THREADS
    PyMem_RawFree(block);
    if (error) {
        errno = error;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromSsize_t(count);
}
#endif
