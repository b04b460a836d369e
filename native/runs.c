/*
 * The reader's fast path (read_run in pytest_finetune/runs.py is the reference): the
 * lines of a block of the file, from a start, while each is one JSON object, parsed by
 * the loads given (orjson's), with no Python a line between two calls of it.
 */
#include "native.h"

#include <string.h>

const char read_run_doc[] =
    "read_run(buffer, start, limit, final, loads, error, lazy=0, /)\n--\n\n"
    "Parse buffer's lines from start on while each is one JSON object: the lines, their\n"
    "objects, the indexes of those whose keys differ from the object before's, of those\n"
    "that end with CRLF, and where the first line not taken starts (see\n"
    "pytest_finetune.runs.read_run). Where lazy is 1 (2), a line that is a plain\n"
    "prompt/completion (chat) object (validated here, as strictly as loads reads it) is\n"
    "not parsed: its object is None.";

/* What read_run may leave unparsed (its lazy argument): nothing, plain prompt/completion
   lines, or plain chat lines. */
enum { PLAIN_NONE = 0, PLAIN_PROMPT_COMPLETION = 1, PLAIN_CHAT = 2 };

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#include <tmmintrin.h>
#define BLOCKS 1
#else
#define BLOCKS 0
#endif

/* The size of the UTF-8 character at text[at] (a byte over 0x7F), or 0 where it is not
   one that a strict decoder reads: no overlong form, no surrogate, none past U+10FFFF. */
static Py_ssize_t
utf8_size(const unsigned char *text, Py_ssize_t at, Py_ssize_t end)
{
    unsigned char lead = text[at], low = 0x80, high = 0xbf;
    Py_ssize_t size, index;
    if (lead >= 0xc2 && lead <= 0xdf) {
        size = 2;
    }
    else if (lead >= 0xe0 && lead <= 0xef) {
        size = 3;
        low = lead == 0xe0 ? 0xa0 : 0x80;
        high = lead == 0xed ? 0x9f : 0xbf;
    }
    else if (lead >= 0xf0 && lead <= 0xf4) {
        size = 4;
        low = lead == 0xf0 ? 0x90 : 0x80;
        high = lead == 0xf4 ? 0x8f : 0xbf;
    }
    else {
        return 0;
    }
    if (end - at < size || text[at + 1] < low || text[at + 1] > high) {
        return 0;
    }
    for (index = 2; index < size; index++) {
        if ((text[at + index] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return size;
}

/* Whether text is all valid UTF-8, a character at a time. */
static int
utf8_valid_bytes(const unsigned char *text, Py_ssize_t size)
{
    Py_ssize_t at = 0, length;
    while (at < size) {
        if (text[at] < 0x80) {
            at++;
        }
        else if ((length = utf8_size(text, at, size)) == 0) {
            return 0;
        }
        else {
            at += length;
        }
    }
    return 1;
}

#if BLOCKS
/*
 * Whether text is all valid UTF-8, 16 bytes at a time (SSSE3): each byte is judged with
 * the one to three before it through three tables of what its high and low halves allow
 * (Keiser and Lemire, "Validating UTF-8 In Less Than One Instruction Per Byte", 2021).
 * Each bit of the tables is one kind of error; a byte is wrong where a bit is set in
 * all three, but for continuation bytes that the lead two or three before calls for.
 */
enum {
    TOO_SHORT = 1 << 0,  /* a lead or ASCII, then a lead or ASCII where a continuation was due */
    TOO_LONG = 1 << 1,   /* ASCII, then a continuation */
    OVERLONG_3 = 1 << 2, /* E0 then 80-9F */
    TOO_LARGE = 1 << 3,  /* past U+10FFFF */
    SURROGATE = 1 << 4,  /* ED then A0-BF */
    OVERLONG_2 = 1 << 5, /* C0 or C1 */
    TOO_LARGE_1000 = 1 << 6,
    OVERLONG_4 = 1 << 6, /* F0 then 80-8F */
    TWO_CONTS = 1 << 7,  /* a continuation then a continuation */
    CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

__attribute__((target("ssse3"))) static int
utf8_valid_blocks(const unsigned char *text, Py_ssize_t size)
{
    const __m128i first_high = _mm_setr_epi8(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
        (char)TWO_CONTS, (char)TWO_CONTS, (char)TWO_CONTS, (char)TWO_CONTS,
        TOO_SHORT | OVERLONG_2, TOO_SHORT, TOO_SHORT | OVERLONG_3 | SURROGATE,
        TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
    const __m128i first_low = _mm_setr_epi8(
        (char)(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4), (char)(CARRY | OVERLONG_2),
        (char)CARRY, (char)CARRY, (char)(CARRY | TOO_LARGE),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000));
    const __m128i second_high = _mm_setr_epi8(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4),
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE),
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE),
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE), TOO_SHORT, TOO_SHORT,
        TOO_SHORT, TOO_SHORT);
    const __m128i nibble = _mm_set1_epi8(0x0f), high_bit = _mm_set1_epi8((char)0x80);
    const __m128i third = _mm_set1_epi8((char)(0xe0 - 0x80)), fourth = _mm_set1_epi8((char)(0xf0 - 0x80));
    __m128i previous = _mm_setzero_si128(), error = _mm_setzero_si128(), input;
    unsigned char tail[16];
    Py_ssize_t at = 0;
    /* The blocks of text, its last bytes padded with zeros, then a block of zeros: a
       character cut short by the end is a lead before ASCII. */
    for (int last = 0; !last;) {
        if (size - at >= 16) {
            input = _mm_loadu_si128((const __m128i *)(text + at));
            at += 16;
        }
        else {
            memset(tail, 0, sizeof tail);
            memcpy(tail, text + at, (size_t)(size - at));
            input = _mm_loadu_si128((const __m128i *)tail);
            last = at == size;
            at = size;
        }
        if (_mm_movemask_epi8(_mm_or_si128(input, previous)) == 0) {
            continue; /* ASCII after ASCII */
        }
        __m128i before = _mm_alignr_epi8(input, previous, 15);
        __m128i special = _mm_and_si128(
            _mm_and_si128(
                _mm_shuffle_epi8(first_high, _mm_and_si128(_mm_srli_epi16(before, 4), nibble)),
                _mm_shuffle_epi8(first_low, _mm_and_si128(before, nibble))),
            _mm_shuffle_epi8(second_high, _mm_and_si128(_mm_srli_epi16(input, 4), nibble)));
        __m128i due = _mm_or_si128(_mm_subs_epu8(_mm_alignr_epi8(input, previous, 14), third),
                                   _mm_subs_epu8(_mm_alignr_epi8(input, previous, 13), fourth));
        error = _mm_or_si128(error, _mm_xor_si128(_mm_and_si128(due, high_bit), special));
        previous = input;
    }
    return _mm_movemask_epi8(_mm_cmpeq_epi8(error, _mm_setzero_si128())) == 0xffff;
}
#endif

/* Whether text is all valid UTF-8, as a strict decoder reads it. */
static int
utf8_valid(const unsigned char *text, Py_ssize_t size)
{
#if BLOCKS
    static int blocks = -1;
    if (blocks < 0) {
        blocks = __builtin_cpu_supports("ssse3");
    }
    if (blocks) {
        return utf8_valid_blocks(text, size);
    }
#endif
    return utf8_valid_bytes(text, size);
}

static int
hex_digits(const unsigned char *text)
{
    for (int index = 0; index < 4; index++) {
        /* (Lowercase only the letters: 0x10-0x19 would pass as digits.) */
        unsigned char byte = text[index], lower = byte | 0x20;
        if (!((byte >= '0' && byte <= '9') || (lower >= 'a' && lower <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* (Declared in native.h: the chat screen reads a plain chat's strings with it too.)
   Its UTF-8 is validated apart, with the rest of the line's. */
Py_ssize_t
past_string(const unsigned char *text, Py_ssize_t at, Py_ssize_t end)
{
    at++;
    for (;;) {
#if BLOCKS
        /* 16 bytes at a time while none is a quote, a backslash or under 0x20. */
        const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
        const __m128i control = _mm_set1_epi8(0x1f), zero = _mm_setzero_si128();
        while (end - at >= 16) {
            __m128i block = _mm_loadu_si128((const __m128i *)(text + at));
            __m128i stops = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(block, quote), _mm_cmpeq_epi8(block, backslash)),
                _mm_cmpeq_epi8(_mm_subs_epu8(block, control), zero));
            int mask = _mm_movemask_epi8(stops);
            if (mask) {
                at += __builtin_ctz((unsigned int)mask);
                break;
            }
            at += 16;
        }
#endif
        if (at >= end) {
            return -1;
        }
        unsigned char byte = text[at];
        if (byte == '"') {
            return at + 1;
        }
        if (byte < 0x20) {
            return -1;
        }
        if (byte != '\\') {
            at++;
            continue;
        }
        if (end - at < 2) {
            return -1;
        }
        switch (text[at + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            at += 2;
            break;
        case 'u':
            if (end - at < 6 || !hex_digits(text + at + 2)
                || ((text[at + 2] | 0x20) == 'd' && text[at + 3] >= '8')) {
                return -1;
            }
            at += 6;
            break;
        default:
            return -1;
        }
    }
}

/* Past one JSON object of two members, keys first and second (without escapes, in
   either order), each a string, that opens at text[at]; -1 where it is not one. */
static Py_ssize_t
past_pair(const unsigned char *text, Py_ssize_t at, Py_ssize_t end, const char *first,
          const char *second)
{
    const char *keys[2] = {first, second};
    int seen = 0;
    if (at >= end || text[at] != '{') {
        return -1;
    }
    for (int member = 0; member < 2; member++) {
        at = json_space(text, at + 1, end);
        int which = -1;
        for (int key = 0; key < 2 && which < 0; key++) {
            Py_ssize_t size = (Py_ssize_t)strlen(keys[key]);
            if (!(seen & (1 << key)) && end - at >= size + 2 && text[at] == '"'
                && memcmp(text + at + 1, keys[key], (size_t)size) == 0 && text[at + 1 + size] == '"') {
                which = key;
                at += size + 2;
            }
        }
        if (which < 0) {
            return -1;
        }
        seen |= 1 << which;
        at = json_space(text, at, end);
        if (at >= end || text[at] != ':') {
            return -1;
        }
        at = json_space(text, at + 1, end);
        if (at >= end || text[at] != '"' || (at = past_string(text, at, end)) < 0) {
            return -1;
        }
        at = json_space(text, at, end);
        if (at >= end || text[at] != (member == 0 ? ',' : '}')) {
            return -1;
        }
    }
    return at + 1;
}

/* Whether the line is one JSON object of two members, "prompt" and "completion", each a
   string: what loads reads as such, and nothing it refuses. */
static int
plain_line(const unsigned char *text, Py_ssize_t end)
{
    Py_ssize_t at = past_pair(text, json_space(text, 0, end), end, "prompt", "completion");
    /* Outside the strings, a plain line is ASCII: its UTF-8 is its texts'. */
    return at >= 0 && json_space(text, at, end) == end && utf8_valid(text, end);
}

/* Whether the line is one JSON object of one member, "messages", a list of one or more
   messages of two members, "role" and "content", each a string: a plain chat. */
static int
plain_chat_line(const unsigned char *text, Py_ssize_t end)
{
    static const char key[] = "\"messages\"";
    Py_ssize_t at = json_space(text, 0, end), size = (Py_ssize_t)sizeof key - 1;
    if (at >= end || text[at] != '{') {
        return 0;
    }
    at = json_space(text, at + 1, end);
    if (end - at < size || memcmp(text + at, key, (size_t)size) != 0) {
        return 0;
    }
    at = json_space(text, at + size, end);
    if (at >= end || text[at] != ':') {
        return 0;
    }
    at = json_space(text, at + 1, end);
    if (at >= end || text[at] != '[') {
        return 0;
    }
    do {
        at = past_pair(text, json_space(text, at + 1, end), end, "role", "content");
        if (at < 0) {
            return 0;
        }
        at = json_space(text, at, end);
    } while (at < end && text[at] == ',');
    if (at >= end || text[at] != ']') {
        return 0;
    }
    at = json_space(text, at + 1, end);
    if (at >= end || text[at] != '}') {
        return 0;
    }
    return json_space(text, at + 1, end) == end && utf8_valid(text, end);
}

/* Whether an object has the keys of a plain line's of kind (see read_run): "prompt" and
   "completion", or "messages". */
static int
plain_keys(PyObject *data, int kind)
{
    PyObject *key, *value;
    Py_ssize_t at = 0;
    int seen = 0;
    if (PyDict_GET_SIZE(data) != (kind == PLAIN_CHAT ? 1 : 2)) {
        return 0;
    }
    while (PyDict_Next(data, &at, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) {
            return 0;
        }
        if (kind == PLAIN_CHAT) {
            seen |= PyUnicode_CompareWithASCIIString(key, "messages") == 0 ? 3 : 0;
        }
        else if (PyUnicode_CompareWithASCIIString(key, "prompt") == 0) {
            seen |= 1;
        }
        else if (PyUnicode_CompareWithASCIIString(key, "completion") == 0) {
            seen |= 2;
        }
    }
    return seen == 3;
}

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
    int final, lazy = 0;
    PyObject *loads, *error;
    if (!PyArg_ParseTuple(args, "y*nnpOO|i:read_run", &buffer, &start, &limit, &final, &loads,
                          &error, &lazy)) {
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
    /* The last object taken (borrowed: the lists are this call's own until it returns),
       or whether the last line was left unparsed. */
    PyObject *previous = NULL;
    int previous_plain = 0;
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
        PyObject *data;
        /* (A line of JSON's null parses to None too: it is no object, and ends the run.) */
        const unsigned char *line = (const unsigned char *)bytes + at;
        int plain = lazy == PLAIN_PROMPT_COMPLETION ? plain_line(line, size)
                    : lazy == PLAIN_CHAT              ? plain_chat_line(line, size)
                                                      : 0;
        if (plain) {
            data = Py_NewRef(Py_None);
        }
        else if ((data = PyObject_CallOneArg(loads, raw)) == NULL) {
            Py_DECREF(raw);
            if (!PyErr_ExceptionMatches(error)) {
                goto done;
            }
            PyErr_Clear();
            break;
        }
        if (!plain && !PyDict_CheckExact(data)) {
            Py_DECREF(raw);
            Py_DECREF(data);
            break;
        }
        int failed = 0;
        int changed;
        if ((previous == NULL && !previous_plain) || (previous_plain && plain)) {
            changed = 0;
        }
        else if (previous_plain || plain) {
            changed = !plain_keys(plain ? previous : data, lazy);
        }
        else {
            changed = !same_keys(previous, data);
        }
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
        previous = plain ? NULL : data;
        previous_plain = plain;
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
