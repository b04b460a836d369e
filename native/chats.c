/*
 * The chat schema walk's screen of a batch (the walk: pytest_finetune/chat_schema/): which
 * chats it must walk. A chat it would certainly see nothing in is left out: the example
 * holds only messages and tool definitions of the usual shapes, each message a known role
 * with the keys that role takes, the roles in a valid order, every call declared, its
 * arguments a JSON object, and answered. Anything else is walked: an unusual key or type,
 * content parts, a function call, a refusal, arguments this file does not read as surely
 * a JSON object. A chat walked in vain costs its walk; a chat left out wrongly would lose
 * a finding, which the tests rule out against the walk itself.
 *
 * The screen only reads the objects it is given: it makes none and calls nothing that
 * runs Python code (no lookup, no comparison but of exact str) before its answer, so
 * nothing can change them while it reads. A plain chat that the reader left unparsed
 * (None among the objects) is read from its raw line instead (clean_plain_chat).
 */
#include "native.h"
#include <string.h>

/* The most tool definitions of an example, and calls of a message, read here; more are
   walked. */
#define MAX_TOOLS 64
#define MAX_CALLS 16
/* JSON in arguments: how deep, and how many digits a number, read here. */
#define MAX_DEPTH 32
#define MAX_DIGITS 15

typedef enum { SYSTEM, DEVELOPER, USER, ASSISTANT, TOOL, NO_ROLE } Role;

/* Whether text is an exact str whose characters this file may read (a compact one). */
static int
readable(PyObject *text)
{
    return PyUnicode_CheckExact(text) && PyUnicode_IS_COMPACT(text);
}

/* Whether text is the exact str literal, of size characters. */
static int
is(PyObject *text, const char *literal, Py_ssize_t size)
{
    return PyUnicode_CheckExact(text) && PyUnicode_IS_COMPACT_ASCII(text)
           && PyUnicode_GET_LENGTH(text) == size
           && memcmp(PyUnicode_DATA(text), literal, (size_t)size) == 0;
}

#define IS(text, literal) is((text), (literal), (Py_ssize_t)sizeof(literal) - 1)

/* Whether two readable strs are equal (as unicode_eq compares them). */
static int
same(PyObject *left, PyObject *right)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(left);
    return length == PyUnicode_GET_LENGTH(right) && PyUnicode_KIND(left) == PyUnicode_KIND(right)
           && memcmp(PyUnicode_DATA(left), PyUnicode_DATA(right),
                     (size_t)length * PyUnicode_KIND(left)) == 0;
}

/* Whether text is a readable str that is not empty. */
static int
given(PyObject *text)
{
    return readable(text) && PyUnicode_GET_LENGTH(text) > 0;
}

static Role
role_of(PyObject *role)
{
    if (IS(role, "user")) {
        return USER;
    }
    if (IS(role, "assistant")) {
        return ASSISTANT;
    }
    if (IS(role, "system")) {
        return SYSTEM;
    }
    if (IS(role, "tool")) {
        return TOOL;
    }
    return IS(role, "developer") ? DEVELOPER : NO_ROLE;
}

/* Whether name is a tool name the services take (tools._TOOL_NAME: [a-zA-Z0-9_-]{1,64}). */
static int
tool_name(PyObject *name)
{
    if (!PyUnicode_CheckExact(name) || !PyUnicode_IS_COMPACT_ASCII(name)) {
        return 0;
    }
    Py_ssize_t size = PyUnicode_GET_LENGTH(name);
    const unsigned char *text = PyUnicode_DATA(name);
    if (size < 1 || size > 64) {
        return 0;
    }
    for (Py_ssize_t at = 0; at < size; at++) {
        unsigned char byte = text[at];
        if (!((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z')
              || (byte >= '0' && byte <= '9') || byte == '_' || byte == '-')) {
            return 0;
        }
    }
    return 1;
}

/*
 * Whether a str is surely one JSON object, as orjson.loads reads it, each character read
 * once. Read here is a subset of JSON that orjson surely takes: no exponent and at most
 * MAX_DIGITS digits a number (orjson rejects a number beyond a double's range), no
 * surrogate, escaped or not (orjson rejects a lone one, and a str holding one; a pair
 * escaped is rare enough to walk), and no deeper than MAX_DEPTH (the C stack's depth).
 */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t size, at;
} Cursor;

/* The character at the cursor; 0 at the end (a NUL is no JSON outside a string). */
static Py_UCS4
peek(const Cursor *cursor)
{
    return cursor->at < cursor->size ? PyUnicode_READ(cursor->kind, cursor->data, cursor->at)
                                     : 0;
}

static void
skip_blank(Cursor *cursor)
{
    Py_UCS4 character;
    while ((character = peek(cursor)) == ' ' || character == '\n' || character == '\r'
           || character == '\t') {
        cursor->at++;
    }
}

static int json_value(Cursor *cursor, int depth);

/* A string, the cursor at its opening quote. */
static int
json_string(Cursor *cursor)
{
    cursor->at++;
    while (cursor->at < cursor->size) {
        Py_UCS4 character = PyUnicode_READ(cursor->kind, cursor->data, cursor->at++);
        if (character == '"') {
            return 1;
        }
        if (character < 0x20 || (character >= 0xd800 && character <= 0xdfff)) {
            return 0;
        }
        if (character != '\\') {
            continue;
        }
        switch (peek(cursor)) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            cursor->at++;
            continue;
        case 'u':
            break;
        default:
            return 0;
        }
        Py_UCS4 unit = 0;
        for (int digit = 0; digit < 4; digit++) {
            cursor->at++;
            character = peek(cursor);
            if (character >= '0' && character <= '9') {
                unit = unit * 16 + (character - '0');
            }
            else if ((character | 0x20) >= 'a' && (character | 0x20) <= 'f') {
                unit = unit * 16 + ((character | 0x20) - 'a' + 10);
            }
            else {
                return 0;
            }
        }
        cursor->at++;
        if (unit >= 0xd800 && unit <= 0xdfff) {
            return 0;
        }
    }
    return 0;
}

static int
json_digits(Cursor *cursor)
{
    int count = 0;
    Py_UCS4 character;
    while ((character = peek(cursor)) >= '0' && character <= '9') {
        cursor->at++;
        count++;
    }
    return count;
}

static int
json_number(Cursor *cursor)
{
    int digits;
    if (peek(cursor) == '-') {
        cursor->at++;
    }
    if (peek(cursor) == '0') {
        cursor->at++;
        digits = 1;
    }
    else if ((digits = json_digits(cursor)) == 0) {
        return 0;
    }
    if (peek(cursor) == '.') {
        cursor->at++;
        int decimals = json_digits(cursor);
        if (decimals == 0) {
            return 0;
        }
        digits += decimals;
    }
    return digits <= MAX_DIGITS && (peek(cursor) | 0x20) != 'e';
}

static int
json_word(Cursor *cursor, const char *word)
{
    for (; *word; word++, cursor->at++) {
        if (peek(cursor) != (Py_UCS4)(unsigned char)*word) {
            return 0;
        }
    }
    return 1;
}

/* An object or an array, the cursor at its opening bracket. */
static int
json_container(Cursor *cursor, int depth)
{
    Py_UCS4 close = peek(cursor) == '{' ? '}' : ']';
    if (depth > MAX_DEPTH) {
        return 0;
    }
    cursor->at++;
    skip_blank(cursor);
    if (peek(cursor) == close) {
        cursor->at++;
        return 1;
    }
    for (;;) {
        if (close == '}') {
            skip_blank(cursor);
            if (peek(cursor) != '"' || !json_string(cursor)) {
                return 0;
            }
            skip_blank(cursor);
            if (peek(cursor) != ':') {
                return 0;
            }
            cursor->at++;
        }
        if (!json_value(cursor, depth)) {
            return 0;
        }
        skip_blank(cursor);
        Py_UCS4 next = peek(cursor);
        cursor->at++;
        if (next == close) {
            return 1;
        }
        if (next != ',') {
            return 0;
        }
    }
}

static int
json_value(Cursor *cursor, int depth)
{
    skip_blank(cursor);
    Py_UCS4 character = peek(cursor);
    switch (character) {
    case '"':
        return json_string(cursor);
    case '{':
    case '[':
        return json_container(cursor, depth + 1);
    case 't':
        return json_word(cursor, "true");
    case 'f':
        return json_word(cursor, "false");
    case 'n':
        return json_word(cursor, "null");
    default:
        return character == '-' || (character >= '0' && character <= '9') ? json_number(cursor)
                                                                           : 0;
    }
}

static int
json_object(PyObject *text)
{
    if (!readable(text)) {
        return 0;
    }
    Cursor cursor = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text), 0};
    skip_blank(&cursor);
    if (peek(&cursor) != '{' || !json_container(&cursor, 1)) {
        return 0;
    }
    skip_blank(&cursor);
    return cursor.at == cursor.size;
}

/* The tools an example declares (tools.declarations), and its parallel setting. */
typedef struct {
    PyObject *names[MAX_TOOLS];
    Py_ssize_t count;
    int parallel;
} Tools;

/*
 * Read the value of each key of a dict named in keys (NULL where the dict lacks it) into
 * values; 0 where a key is not a str this file reads, or, unless others are taken, not in
 * keys (the walk ignores others only where it reads a few keys of an object).
 */
static int
read_keys(PyObject *dict, const char *const *keys, PyObject **values, int others)
{
    Py_ssize_t position = 0, count = 0;
    PyObject *key, *value;
    while (keys[count] != NULL) {
        values[count++] = NULL;
    }
    while (PyDict_Next(dict, &position, &key, &value)) {
        if (!readable(key)) {
            return 0;
        }
        Py_ssize_t index = 0;
        while (index < count && !is(key, keys[index], (Py_ssize_t)strlen(keys[index]))) {
            index++;
        }
        if (index < count) {
            values[index] = value;
        }
        else if (!others) {
            return 0;
        }
    }
    return 1;
}

static const char *const TOOL_KEYS[] = {"type", "function", NULL};
static const char *const FUNCTION_KEYS[] = {"name", "description", "parameters", NULL};

/* Read an example's tools; 0 where a definition is not surely valid. */
static int
read_tools(PyObject *list, Tools *tools)
{
    if (!PyList_CheckExact(list) || PyList_GET_SIZE(list) > MAX_TOOLS) {
        return 0;
    }
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(list); index++) {
        PyObject *tool = PyList_GET_ITEM(list, index), *entry[2], *function[3];
        if (!PyDict_CheckExact(tool) || !read_keys(tool, TOOL_KEYS, entry, 1)
            || entry[0] == NULL || !IS(entry[0], "function") || entry[1] == NULL
            || !PyDict_CheckExact(entry[1]) || !read_keys(entry[1], FUNCTION_KEYS, function, 1)
            || function[0] == NULL || !tool_name(function[0])
            || (function[1] != NULL && function[1] != Py_None && !readable(function[1]))
            || (function[2] != NULL && function[2] != Py_None && !PyDict_Check(function[2]))) {
            return 0;
        }
        for (Py_ssize_t before = 0; before < tools->count; before++) {
            if (same(tools->names[before], function[0])) {
                return 0;
            }
        }
        tools->names[tools->count++] = function[0];
    }
    return 1;
}

static const char *const CALL_KEYS[] = {"id", "type", "function", NULL};
static const char *const CALLED_KEYS[] = {"name", "arguments", NULL};

/* Read a message's tool calls into ids; 0 where a call is not surely valid. */
static int
read_calls(PyObject *calls, const Tools *tools, PyObject **ids, Py_ssize_t *count)
{
    if (!PyList_CheckExact(calls) || PyList_GET_SIZE(calls) == 0
        || PyList_GET_SIZE(calls) > MAX_CALLS || (PyList_GET_SIZE(calls) > 1 && !tools->parallel)) {
        return 0;
    }
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(calls); index++) {
        PyObject *call = PyList_GET_ITEM(calls, index), *entry[3], *function[2];
        if (!PyDict_CheckExact(call) || !read_keys(call, CALL_KEYS, entry, 1)
            || entry[0] == NULL || !given(entry[0]) || entry[1] == NULL
            || !IS(entry[1], "function") || entry[2] == NULL || !PyDict_CheckExact(entry[2])
            || !read_keys(entry[2], CALLED_KEYS, function, 1) || function[0] == NULL
            || !given(function[0]) || function[1] == NULL || !json_object(function[1])) {
            return 0;
        }
        /* A call of a tool not declared, or with the id of an earlier call, is walked. */
        int usual = 0;
        for (Py_ssize_t tool = 0; tool < tools->count && !usual; tool++) {
            usual = same(tools->names[tool], function[0]);
        }
        for (Py_ssize_t before = 0; before < index && usual; before++) {
            usual = !same(ids[before], entry[0]);
        }
        if (!usual) {
            return 0;
        }
        ids[index] = entry[0];
    }
    *count = PyList_GET_SIZE(calls);
    return 1;
}

/* The keys a message may have here: those of roles.ROLE_KEYS (an assistant's refusal,
   audio and function call only null). */
enum { ROLE_KEY, CONTENT, NAME, TOOL_CALLS, TOOL_CALL_ID, WEIGHT, REFUSAL, AUDIO, FUNCTION_CALL };
static const char *const MESSAGE_KEYS[] = {
    "role", "content", "name", "tool_calls", "tool_call_id", "weight", "refusal", "audio",
    "function_call", NULL};

/* Whether a message's value is absent or null. */
static int
none(PyObject *value)
{
    return value == NULL || value == Py_None;
}

/* Whether a message's content is of the usual shape: a str (not blank unless it need
   not be), or none beside calls. */
static int
usual_content(PyObject *content, Role role, int calls)
{
    if (content == NULL || content == Py_None) {
        return calls;
    }
    if (!readable(content)) {
        return 0;
    }
    int blank = PyUnicode_GET_LENGTH(content) == 0 || all_space(content);
    return !blank || calls || role == TOOL;
}

/* The weight of an assistant message: 1 without one, -1 where it is not the int 0 or 1 (the
   walk sees a bool; a float it takes is rare enough to walk). */
static long
weight_of(PyObject *weight)
{
    int overflow;
    if (weight == NULL) {
        return 1;
    }
    if (!PyLong_CheckExact(weight)) {
        return -1;
    }
    long value = PyLong_AsLongAndOverflow(weight, &overflow);
    return !overflow && (value == 0 || value == 1) ? value : -1;
}

static const char *const CHAT_KEYS[] = {"messages", "tools", "parallel_tool_calls", NULL};

/*
 * Whether the walk would certainly see nothing in a chat (its record's object): as
 * chat_schema.walk and order.Conversation read it, with what they see rejected.
 */
static int
clean_chat(PyObject *data)
{
    PyObject *keys[3];
    Tools tools = {.count = 0, .parallel = 1};
    if (!PyDict_CheckExact(data) || !read_keys(data, CHAT_KEYS, keys, 0)) {
        return 0;
    }
    PyObject *messages = keys[0];
    if (keys[2] != NULL) {
        if (keys[2] != Py_True && keys[2] != Py_False) {
            return 0;
        }
        tools.parallel = keys[2] == Py_True;
    }
    if ((keys[1] != NULL && !read_tools(keys[1], &tools)) || messages == NULL
        || !PyList_CheckExact(messages) || PyList_GET_SIZE(messages) == 0) {
        return 0;
    }
    /* The order (order.Conversation): the calls waiting for their results, who spoke. */
    PyObject *pending[MAX_CALLS], *ids[MAX_CALLS];
    char answered[MAX_CALLS];
    Py_ssize_t calls = 0, waiting = 0, trained = -1, last = -1;
    Role previous = NO_ROLE;
    int started = 0, user = 0, assistants = 0;
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(messages); index++) {
        PyObject *message = PyList_GET_ITEM(messages, index), *value[9];
        if (!PyDict_CheckExact(message) || !read_keys(message, MESSAGE_KEYS, value, 0)
            || value[ROLE_KEY] == NULL) {
            return 0;
        }
        Role role = role_of(value[ROLE_KEY]);
        Py_ssize_t made = 0;
        /* An assistant message as the SDKs dump one: what it does not use is null (the
           walk reads a null name, refusal, audio, call or calls as none). */
        if (value[NAME] == Py_None) {
            value[NAME] = NULL;
        }
        if (role == ASSISTANT && value[TOOL_CALLS] == Py_None) {
            value[TOOL_CALLS] = NULL;
        }
        int unused = value[REFUSAL] != NULL || value[AUDIO] != NULL
                     || value[FUNCTION_CALL] != NULL;
        int null = none(value[REFUSAL]) && none(value[AUDIO]) && none(value[FUNCTION_CALL]);
        if (role == NO_ROLE || (value[NAME] != NULL && !given(value[NAME]))
            || (unused && (role != ASSISTANT || !null))
            || (role != ASSISTANT && (value[TOOL_CALLS] != NULL || value[WEIGHT] != NULL))
            || (role != TOOL && value[TOOL_CALL_ID] != NULL)
            || (value[TOOL_CALLS] != NULL && !read_calls(value[TOOL_CALLS], &tools, ids, &made))
            || !usual_content(value[CONTENT], role, value[TOOL_CALLS] != NULL)) {
            return 0;
        }
        if (role == TOOL) { /* the result of a call waiting for it */
            Py_ssize_t call = 0;
            PyObject *id = value[TOOL_CALL_ID];
            if (id == NULL || !given(id)) {
                return 0;
            }
            while (call < calls && (answered[call] || !same(pending[call], id))) {
                call++;
            }
            if (call == calls) {
                return 0;
            }
            answered[call] = 1;
            waiting--;
        }
        else if (waiting) {
            return 0;
        }
        if (role == ASSISTANT) {
            long weight = weight_of(value[WEIGHT]);
            if (weight < 0) {
                return 0;
            }
            if (made) {
                memcpy(pending, ids, (size_t)made * sizeof *ids);
                memset(answered, 0, (size_t)made);
                calls = waiting = made;
            }
            assistants++;
            trained = weight ? index : trained;
        }
        user |= role == USER;
        if ((role == previous && role != TOOL)
            || ((role == SYSTEM || role == DEVELOPER) && started)) {
            return 0;
        }
        started |= role != SYSTEM && role != DEVELOPER;
        previous = role;
        last = index;
    }
    /* Calls still waiting here are the last message's own, the turn being trained (a
       message after them but their results was walked above, and a result is not
       trained). */
    return user && assistants && trained == last;
}

/* The JSON string at text[*at]: where its bytes start and how many they are, *at moved
   past it; 0 where it is not one orjson reads (see past_string). */
static int
raw_string(const unsigned char *text, Py_ssize_t *at, Py_ssize_t end,
           const unsigned char **bytes, Py_ssize_t *size)
{
    Py_ssize_t past = *at < end && text[*at] == '"' ? past_string(text, *at, end) : -1;
    if (past < 0) {
        return 0;
    }
    *bytes = text + *at + 1;
    *size = past - 1 - (*at + 1);
    *at = past;
    return 1;
}

/* Whether a JSON string's bytes surely hold a character that is not whitespace (as
   str.isspace says): printable ASCII, or the lead byte of a character that no
   whitespace starts with. Escapes are not read: a text of escapes alone is walked. */
static int
surely_not_blank(const unsigned char *bytes, Py_ssize_t size)
{
    for (Py_ssize_t at = 0; at < size; at++) {
        unsigned char byte = bytes[at];
        if (byte == '\\') { /* an escape, read as none: past a \u escape's digits too */
            at += at + 1 < size && bytes[at + 1] == 'u' ? 5 : 1;
            continue;
        }
        /* Whitespace beyond ASCII starts with 0xC2 (U+0085, U+00A0), 0xE1 (U+1680), 0xE2
           (U+2000-U+200A, U+2028, U+2029, U+202F, U+205F) or 0xE3 (U+3000). */
        if ((byte > ' ' && byte < 0x7f) || (byte >= 0xc3 && byte <= 0xdf)
            || (byte >= 0xe4 && byte <= 0xef) || byte >= 0xf0) {
            return 1;
        }
    }
    return 0;
}

static Role
raw_role(const unsigned char *bytes, Py_ssize_t size)
{
    static const struct {
        const char *name;
        Role role;
    } roles[] = {{"user", USER}, {"assistant", ASSISTANT}, {"system", SYSTEM},
                 {"developer", DEVELOPER}};
    for (size_t index = 0; index < sizeof roles / sizeof *roles; index++) {
        if ((size_t)size == strlen(roles[index].name)
            && memcmp(bytes, roles[index].name, (size_t)size) == 0) {
            return roles[index].role;
        }
    }
    return NO_ROLE; /* a tool's result without its call's id, an escape, an unknown role */
}

/*
 * clean_chat for a plain chat left unparsed: its raw line, which read_run validated as
 * {"messages": [{"role": ..., "content": ...}, ...]}, both strings. Any text it is not
 * sure of (a role with an escape, a content of whitespace or escapes alone) is walked.
 */
static int
clean_plain_chat(const unsigned char *text, Py_ssize_t end)
{
    Py_ssize_t at = json_space(text, 0, end);
    Role previous = NO_ROLE, role = NO_ROLE;
    int started = 0, user = 0, assistants = 0;
    /* Past '{', "messages", ':' and '[' (validated). */
    const unsigned char *bytes;
    Py_ssize_t size;
    at = json_space(text, at + 1, end);
    if (!raw_string(text, &at, end, &bytes, &size) || size != 8 || memcmp(bytes, "messages", 8)) {
        return 0;
    }
    at = json_space(text, json_space(text, at, end) + 1, end); /* ':' */
    if (at >= end || text[at] != '[') {
        return 0;
    }
    do {
        at = json_space(text, at + 1, end);
        if (at >= end || text[at] != '{') {
            return 0;
        }
        role = NO_ROLE;
        int filled = 0;
        for (int member = 0; member < 2; member++) {
            const unsigned char *key;
            Py_ssize_t key_size;
            at = json_space(text, at + 1, end);
            if (!raw_string(text, &at, end, &key, &key_size)) {
                return 0;
            }
            at = json_space(text, json_space(text, at, end) + 1, end); /* ':' */
            if (!raw_string(text, &at, end, &bytes, &size)) {
                return 0;
            }
            if (key_size == 4 && memcmp(key, "role", 4) == 0) {
                role = raw_role(bytes, size);
            }
            else if (key_size == 7 && memcmp(key, "content", 7) == 0) {
                filled = surely_not_blank(bytes, size);
            }
            else {
                return 0;
            }
            at = json_space(text, at, end); /* ',' or '}' */
        }
        if (role == NO_ROLE || !filled) {
            return 0;
        }
        if (role == previous || ((role == SYSTEM || role == DEVELOPER) && started)) {
            return 0;
        }
        started |= role != SYSTEM && role != DEVELOPER;
        user |= role == USER;
        assistants += role == ASSISTANT;
        previous = role;
        at = json_space(text, at + 1, end);
    } while (at < end && text[at] == ',');
    if (at >= end || text[at] != ']') {
        return 0;
    }
    at = json_space(text, at + 1, end);
    if (at >= end || text[at] != '}' || json_space(text, at + 1, end) != end) {
        return 0; /* (read_run took the whole line: a line it did not take is walked) */
    }
    /* The last message is trained: an assistant's (a weight is no plain chat's). */
    return user && assistants && role == ASSISTANT;
}

const char chats_to_walk_doc[] =
    "chats_to_walk(datas, raws=None, /)\n"
    "--\n\n"
    "The indexes of the chats (their records' objects) that the schema walk must walk:\n"
    "all but those in which it would certainly see nothing. Where an object is None, its\n"
    "raw line (of raws) is a plain chat that read_run left unparsed, read here instead.";

PyObject *
chats_to_walk(PyObject *Py_UNUSED(self), PyObject *args)
{
    PyObject *datas, *raws = Py_None;
    if (!PyArg_ParseTuple(args, "O|O:chats_to_walk", &datas, &raws)) {
        return NULL;
    }
    if (!PyList_Check(datas)
        || (raws != Py_None
            && (!PyList_Check(raws) || PyList_GET_SIZE(raws) != PyList_GET_SIZE(datas)))) {
        PyErr_SetString(PyExc_TypeError,
                        "chats_to_walk() takes a list of dicts, and their lines (a list of bytes)");
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(datas);
    char *walk = PyMem_Malloc(count ? (size_t)count : 1);
    if (walk == NULL) {
        return PyErr_NoMemory();
    }
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *data = PyList_GET_ITEM(datas, index), *raw;
        if (data == Py_None && raws != Py_None && PyBytes_Check(raw = PyList_GET_ITEM(raws, index))) {
            walk[index] = !clean_plain_chat((const unsigned char *)PyBytes_AS_STRING(raw),
                                            PyBytes_GET_SIZE(raw));
        }
        else {
            walk[index] = !clean_chat(data);
        }
    }
    /* Objects are made only now: what was read above could not change while it was. */
    PyObject *found = PyList_New(0);
    for (Py_ssize_t index = 0; found != NULL && index < count; index++) {
        if (!walk[index]) {
            continue;
        }
        if (append_index(found, index) < 0) {
            Py_CLEAR(found);
        }
    }
    PyMem_Free(walk);
    return found;
}
