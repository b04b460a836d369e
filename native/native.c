/*
 * pytest_finetune._native: the lint's hot paths, in C (pytest_finetune/extensions.py
 * loads it; where it is not built, the pure-Python parts it stands in for run, and
 * they stay the reference).
 *
 * This file is the content pass's reading of raw lines. What it does in one pass over
 * each raw JSON line costs the Python pass a dozen C-level passes and the UTF-8
 * encoding of every text:
 *
 * - plain_pairs: a batch of lines that are each {"prompt": ..., "completion": ...}: both
 *   texts fingerprinted (XXH3 of their UTF-8 bytes, as fingerprints.fingerprint does,
 *   packed as the duplicate log holds them) and, where asked, screened for what
 *   Screen.texts flags (None where a line is of another shape);
 * - suspect_lines: the lines of any format that may hold what Screen.raw flags, each
 *   read whole as it reads it (a string at a time where \u escapes hide the text);
 * - chat_pairs: chats fingerprinted as the duplicate checks log them, through their
 *   canonical JSON as orjson writes it (a line only orjson writes exactly is left).
 *
 * The other files hold the surveys' cheap tests of a batch (see native.h):
 * departures.c the prompt/completion survey's, chats.c the chat schema walk's; runs.c
 * is the reader's fast path, lines.c the count of a range of a file's newlines.
 */
#include "native.h"
#include <stdint.h>
#include <string.h>

#define XXH_INLINE_ALL
#include "xxhash.h"

/*
 * How the screen reads each byte of a text (what Screen.texts does with translate), as
 * bits. A byte with neither COUNTED nor a bit of ALARMS (lowercase letters other than
 * 'z', whitespace, non-ASCII) is dropped: a run of token bytes goes on across it.
 */
enum {
    COUNTED = 1, /* a token byte (capitals, digits, '-', '_', 'z') or a BREAK */
    BREAK = 2,   /* other ASCII punctuation: a run of token bytes ends */
    RARE = 4,    /* '@', '<', '|' and control characters: always flagged */
    STARTS = 8,  /* a token byte that a key's literal ends with: '-', '_', 'J', 'z' */
    LEAD = 16,   /* a byte that starts garbled text (mojibake, U+FFFD, C1, a surrogate) */
    OPENER = 32, /* '{' and '[': flagged, but for JSON in a text (see Rules) */
    ESCAPE = 64, /* a backslash: an alarm in a raw line only (see Rules) */
    ALARMS = RARE | STARTS | LEAD | OPENER,
};

static unsigned char classes[256];

/*
 * Which screen to be a superset of. TEXTS: Screen.texts, for the two texts of a plain
 * prompt/completion record, where any brace or bracket is flagged. LINES: Screen.raw,
 * for the strings of any record, which does not flag JSON written in a text (tool
 * calls' arguments): a brace before a quote, a bracket before a brace, nor either
 * ending a text (in the raw line, both look like JSON's own). RAW: Screen.raw too, for
 * a whole raw line read as it reads it, JSON's own syntax and all (a brace before a
 * quote or an escaped quote, a bracket before a brace or a quote, are not flagged); a
 * backslash before 'b' or 'f' (an escaped control) is, and one before 'u' asks for the
 * line's strings to be read unescaped (ESCAPES).
 */
typedef enum { TEXTS, LINES, RAW } Rules;

/* What the RAW screen says of a line whose \u escapes hide what its strings hold. */
#define ESCAPES 2

/* A run of this many token bytes may be a key or a card number (screen._LONG_RUN). */
#define LONG_RUN 13

/* Whether byte is one of the bytes of set (never NUL). */
static int
one_of(const char *set, unsigned char byte)
{
    return byte != 0 && strchr(set, byte) != NULL;
}

static void
init_classes(void)
{
    int byte;
    for (byte = 0; byte < 256; byte++) {
        if (byte >= 0x80 || (byte >= 'a' && byte <= 'y') || byte == ' ' || byte == '\t'
            || byte == '\r' || byte == '\n') {
            classes[byte] = 0;
        }
        else if (byte < 0x20 || byte == 0x7f || one_of("@<|", (unsigned char)byte)) {
            classes[byte] = RARE;
        }
        else if (byte == '{' || byte == '[') {
            classes[byte] = COUNTED | BREAK | OPENER;
        }
        else if ((byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9') || byte == '-'
                 || byte == '_' || byte == 'z') {
            classes[byte] = COUNTED;
        }
        else {
            classes[byte] = COUNTED | BREAK;
        }
    }
    classes['-'] = classes['_'] = classes['J'] = classes['z'] = COUNTED | STARTS;
    classes['\\'] |= ESCAPE;
    classes[0xc2] = classes[0xc3] = classes[0xed] = classes[0xef] = LEAD;
}

static int
ends_with(const unsigned char *text, Py_ssize_t at, const char *literal)
{
    Py_ssize_t size = (Py_ssize_t)strlen(literal);
    return at >= size && memcmp(text + at - size, literal, (size_t)size) == 0;
}

static int
starts_with(const unsigned char *text, Py_ssize_t at, Py_ssize_t end, const char *literal)
{
    Py_ssize_t size = (Py_ssize_t)strlen(literal);
    return end - at >= size && memcmp(text + at, literal, (size_t)size) == 0;
}

/* Whether the literal of a key (screen._KEY_STARTS) ends or goes on at text[at]. */
static int
key_starts(const unsigned char *text, Py_ssize_t at, Py_ssize_t end)
{
    switch (text[at]) {
    case '-': /* sk-, xox[abposr]- */
        return ends_with(text, at, "sk")
               || (at >= 4 && ends_with(text, at - 1, "xox") && one_of("abposr", text[at - 1]));
    case '_': /* hf_, gh[pousr]_, github_pat_, k_live_ */
        return ends_with(text, at, "hf")
               || (at >= 3 && ends_with(text, at - 1, "gh") && one_of("pousr", text[at - 1]))
               || (ends_with(text, at, "github") && starts_with(text, at + 1, end, "pat_"))
               || (ends_with(text, at, "k") && starts_with(text, at + 1, end, "live_"));
    case 'J': /* eyJ */
        return ends_with(text, at, "ey");
    default: /* 'z': AIza */
        return ends_with(text, at, "AI") && starts_with(text, at + 1, end, "a");
    }
}

/*
 * The size of the character at text[at] if it is one that a Windows-1252 or Latin-1
 * decoder makes of a UTF-8 continuation byte (U+0080-U+00BF, and the euro sign, curly
 * quotes, dashes... of Windows-1252's 0x80-0x9F), or 0: searches._CONTINUATION_BYTES.
 */
static Py_ssize_t
continuation(const unsigned char *text, Py_ssize_t at, Py_ssize_t end)
{
    unsigned char lead, second;
    if (end - at < 2) {
        return 0;
    }
    lead = text[at];
    second = text[at + 1];
    switch (lead) {
    case 0xc2:
        return second >= 0x80 && second <= 0xbf ? 2 : 0;
    case 0xc5:
        return one_of("\x92\x93\xa0\xa1\xb8\xbd\xbe", second) ? 2 : 0;
    case 0xc6:
        return second == 0x92 ? 2 : 0;
    case 0xcb:
        return second == 0x86 || second == 0x9c ? 2 : 0;
    case 0xe2:
        if (end - at < 3) {
            return 0;
        }
        if (second == 0x80) {
            return one_of("\x93\x94\x98\x99\x9a\x9c\x9d\x9e\xa0\xa1\xa2\xa6\xb0\xb9\xba",
                          text[at + 2]) ? 3 : 0;
        }
        return (second == 0x82 && text[at + 2] == 0xac) || (second == 0x84 && text[at + 2] == 0xa2)
                   ? 3 : 0;
    default:
        return 0;
    }
}

/*
 * Whether the UTF-8 of a character decoded as Windows-1252 starts at text[at] (the
 * 0xC3 of its lead character): what searches.MOJIBAKE_BYTES matches.
 */
static int
mojibake(const unsigned char *text, Py_ssize_t at, Py_ssize_t end)
{
    Py_ssize_t count, size, here = at + 2;
    unsigned char lead = at + 1 < end ? text[at + 1] : 0;
    if (lead >= 0x82 && lead <= 0x9f) {
        count = 1;
    }
    else if (lead >= 0xa0 && lead <= 0xaf) {
        count = 2;
    }
    else if (lead >= 0xb0 && lead <= 0xb4) {
        count = 3;
    }
    else {
        return 0;
    }
    while (count-- > 0) {
        size = continuation(text, here, end);
        if (size == 0) {
            return 0;
        }
        here += size;
    }
    return 1;
}

/* Whether garbled text starts at text[at]: searches.py's byte searches. */
static int
garbled(const unsigned char *text, Py_ssize_t at, Py_ssize_t end)
{
    unsigned char next = at + 1 < end ? text[at + 1] : 0;
    switch (text[at]) {
    case 0xc2: /* a C1 control */
        return next >= 0x80 && next <= 0x9f;
    case 0xc3:
        return mojibake(text, at, end);
    case 0xed: /* a surrogate */
        return next >= 0xa0 && next <= 0xbf;
    default: /* 0xef: U+FFFD */
        return next == 0xbf && at + 2 < end && text[at + 2] == 0xbd;
    }
}

/* Whether an alarm byte at text[at] raises the screen (1, or ESCAPES): see classes. */
static int
raises(const unsigned char *text, Py_ssize_t at, Py_ssize_t size, Rules rules)
{
    unsigned int kind = classes[text[at]];
    unsigned char next = at + 1 < size ? text[at + 1] : 0;
    if (kind & ESCAPE) {
        /* Escaped itself (after an odd run of backslashes), a backslash escapes nothing.
         * The run is read back only from a backslash before 'u', 'b' or 'f', its last:
         * read back from each of its backslashes, a long run took time in its square. */
        Py_ssize_t before = at;
        if (next != 'u' && next != 'b' && next != 'f') {
            return 0;
        }
        while (before > 0 && text[before - 1] == '\\') {
            before--;
        }
        if ((at - before) % 2) {
            return 0;
        }
        return next == 'u' ? ESCAPES : 1;
    }
    if (kind & OPENER) {
        if (rules == TEXTS) {
            return 1;
        }
        if (rules == LINES) {
            return at + 1 < size && next != (text[at] == '{' ? '"' : '{');
        }
        if (text[at] == '[') {
            return next != '{' && next != '"';
        }
        return next != '"' && !(next == '\\' && at + 2 < size && text[at + 2] == '"');
    }
    return (kind & RARE) || ((kind & STARTS) && key_starts(text, at, size))
           || ((kind & LEAD) && garbled(text, at, size));
}

/* The screen of text[at:size], a byte at a time, after a run of run token bytes. */
static int
suspect_bytes(const unsigned char *text, Py_ssize_t at, Py_ssize_t size, size_t run,
              Rules rules)
{
    /* Without a branch a byte on which letters and punctuation alternate: counted is
     * how many token and break bytes were read, broken how many when the last break
     * was (minus the run before). */
    size_t counted = run, broken = 0, mask;
    unsigned int kind, alarms = rules == RAW ? ALARMS | ESCAPE : ALARMS;
    int found;
    for (; at < size; at++) {
        kind = classes[text[at]];
        counted += kind & COUNTED;
        mask = (size_t)0 - ((kind & BREAK) >> 1);
        broken = (counted & mask) | (broken & ~mask);
        if (counted - broken >= LONG_RUN) {
            return 1;
        }
        if ((kind & alarms) && (found = raises(text, at, size, rules))) {
            return found;
        }
    }
    return 0;
}

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>

/* How many bits of a 16-bit mask are set (without the popcount instruction, which
 * x86-64's baseline lacks and which a library call would stand in for). */
static inline unsigned int
ones(unsigned int mask)
{
    mask = mask - ((mask >> 1) & 0x5555u);
    mask = (mask & 0x3333u) + ((mask >> 2) & 0x3333u);
    mask = (mask + (mask >> 4)) & 0x0f0fu;
    return (mask + (mask >> 8)) & 0x1fu;
}

/* The bytes of v in [low, high]: a wrapping add moves them to the top of the signed
 * range, [127 - (high - low), 127], where one compare tells them from all others. */
static inline __m128i
in_range(__m128i v, unsigned char low, unsigned char high)
{
    return _mm_cmpgt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x7f - high))),
                          _mm_set1_epi8((char)(0x7e - (high - low))));
}

static inline __m128i
equal(__m128i v, char byte)
{
    return _mm_cmpeq_epi8(v, _mm_set1_epi8(byte));
}

/* The bytes of v that are byte or other, which differs from it in one bit only (two
 * compares for the price of one). */
static inline __m128i
either(__m128i v, char byte, unsigned char other)
{
    return _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)~(byte ^ other))),
                          _mm_set1_epi8((char)(byte & other)));
}

/*
 * Where in the block v at text[at] garbled text may start (garbled() decides): lead
 * bytes whose next two bytes may make it. 0xC3 before the second byte of a mojibake
 * lead character (0x82-0xB4) and the first of a continuation character (0xC2-0xE2), so
 * not an accented letter before a plain one; 0xC2 before a C1 control's second byte
 * (0x80-0x9F, signed below 0xA0), 0xED before a surrogate's (0xA0-0xBF, not Hangul's),
 * 0xEF before U+FFFD's (0xBF). Without a branch: one for the blocks that hold any of
 * the four lead bytes (one in four of multilingual text's non-ASCII blocks) was
 * mispredicted often enough to cost more than it spared.
 */
static inline __m128i
garbled_leads(const unsigned char *text, Py_ssize_t at, Py_ssize_t size, __m128i v)
{
    __m128i next, after, lead;
    if (at + 18 > size) { /* the bytes after would be read past the text: garbled() decides */
        return _mm_or_si128(either(v, (char)0xc2, 0xc3), either(v, (char)0xed, 0xef));
    }
    next = _mm_loadu_si128((const __m128i *)(text + at + 1));
    after = _mm_loadu_si128((const __m128i *)(text + at + 2));
    lead = _mm_and_si128(
        _mm_and_si128(equal(v, (char)0xc3), in_range(next, 0x82, 0xb4)),
        in_range(after, 0xc2, 0xe2));
    lead = _mm_or_si128(lead, _mm_and_si128(equal(v, (char)0xc2),
                                            _mm_cmpgt_epi8(_mm_set1_epi8((char)0xa0), next)));
    lead = _mm_or_si128(lead, _mm_and_si128(equal(v, (char)0xed),
                                            in_range(next, 0xa0, 0xbf)));
    return _mm_or_si128(lead, _mm_and_si128(equal(v, (char)0xef), equal(next, (char)0xbf)));
}

/*
 * The screen of the block v at text[at] (see suspect), after a run of *run token bytes:
 * 1 or ESCAPES where it may flag, else 0 with *run the run at its end. wide: whether
 * the block may hold non-ASCII bytes (garbled text's lead bytes are looked for).
 */
static inline __attribute__((always_inline)) int
suspect_block(const unsigned char *text, Py_ssize_t at, Py_ssize_t size, Rules rules,
              __m128i v, unsigned int *run, int wide)
{
    unsigned int tokens, breaks, alarms, first, last, later;
    int found;
    __m128i token, punctuation, rare, starts, lead;
    starts = _mm_or_si128(_mm_or_si128(equal(v, '-'), equal(v, '_')),
                          _mm_or_si128(equal(v, 'J'), equal(v, 'z')));
    token = _mm_or_si128(_mm_or_si128(in_range(v, 'A', 'Z'), in_range(v, '0', '9')), starts);
    /* Control characters but tab, newline and carriage return; DEL; @ < | */
    rare = _mm_andnot_si128(_mm_or_si128(in_range(v, '\t', '\n'), equal(v, '\r')),
                            in_range(v, 0, 0x1f));
    rare = _mm_or_si128(rare, _mm_or_si128(_mm_or_si128(equal(v, 0x7f), equal(v, '@')),
                                           either(v, '<', '|')));
    if (_mm_movemask_epi8(rare)) {
        return 1;
    }
    /* Printable ASCII but space that is neither a token byte nor dropped: a break. */
    punctuation = _mm_andnot_si128(_mm_or_si128(token, in_range(v, 'a', 'y')),
                                   in_range(v, '!', '~'));
    lead = either(v, '[', '{');
    if (wide) {
        lead = _mm_or_si128(lead, garbled_leads(text, at, size, v));
    }
    /* Backslashes are alarms in a raw line only. */
    if (rules == RAW) {
        lead = _mm_or_si128(lead, equal(v, '\\'));
    }
    alarms = (unsigned int)_mm_movemask_epi8(_mm_or_si128(starts, lead));
    while (alarms) {
        if ((found = raises(text, at + __builtin_ctz(alarms), size, rules))) {
            return found;
        }
        alarms &= alarms - 1;
    }
    tokens = (unsigned int)_mm_movemask_epi8(token);
    breaks = (unsigned int)_mm_movemask_epi8(punctuation);
    if (breaks == 0) {
        *run += ones(tokens);
    }
    else {
        first = (unsigned int)__builtin_ctz(breaks);
        if (*run + ones(tokens & ((1u << first) - 1)) >= LONG_RUN) {
            return 1;
        }
        last = 31u - (unsigned int)__builtin_clz(breaks);
        /* Between two breaks of the block: only where they are far enough apart. */
        while (last - first > LONG_RUN) {
            breaks &= breaks - 1;
            later = (unsigned int)__builtin_ctz(breaks);
            if (ones(tokens & ((1u << later) - (2u << first))) >= LONG_RUN) {
                return 1;
            }
            first = later;
        }
        *run = ones(tokens >> last >> 1);
    }
    return *run >= LONG_RUN;
}

/*
 * Whether the screen of rules (Screen.texts or Screen.raw) may flag the UTF-8 text (1,
 * or ESCAPES): a superset of its flags' conditions, never fewer. A false alarm costs
 * the text's screen in Python; a miss would lose a finding, which the tests compare
 * with the Python pass to rule out. Sixteen bytes at a time: masks of the token, break
 * and alarm bytes (as classes has them), and the runs of token bytes counted from the
 * masks. (AVX2's 32 bytes at a time were measured no faster: the masks' runs and the
 * alarms cost as much as the compares.) Two loops: ASCII blocks, until the first that
 * is not, then blocks of any bytes. Asked of each block, whether it is ASCII cost more
 * than the lead bytes' search it spared, in text where ASCII and other blocks alternate.
 */
static int
suspect(const unsigned char *text, Py_ssize_t size, Rules rules)
{
    Py_ssize_t at = 0;
    unsigned int run = 0;
    int found;
    __m128i v;
    for (; at + 16 <= size; at += 16) {
        v = _mm_loadu_si128((const __m128i *)(text + at));
        if (_mm_movemask_epi8(v)) {
            break;
        }
        if ((found = suspect_block(text, at, size, rules, v, &run, 0))) {
            return found;
        }
    }
    for (; at + 16 <= size; at += 16) {
        v = _mm_loadu_si128((const __m128i *)(text + at));
        if ((found = suspect_block(text, at, size, rules, v, &run, 1))) {
            return found;
        }
    }
    return suspect_bytes(text, at, size, run, rules);
}
#else
static int
suspect(const unsigned char *text, Py_ssize_t size, Rules rules)
{
    return suspect_bytes(text, 0, size, 0, rules);
}
#endif

static int
hex_digit(unsigned char byte)
{
    if (byte >= '0' && byte <= '9') {
        return byte - '0';
    }
    byte |= 0x20;
    return byte >= 'a' && byte <= 'f' ? byte - 'a' + 10 : -1;
}

/* The code unit of a \\uXXXX escape at here (its backslash), or -1. */
static long
escaped_unit(const unsigned char *here, const unsigned char *stop)
{
    long unit = 0;
    int index, digit;
    if (stop - here < 6 || here[0] != '\\' || here[1] != 'u') {
        return -1;
    }
    for (index = 2; index < 6; index++) {
        digit = hex_digit(here[index]);
        if (digit < 0) {
            return -1;
        }
        unit = unit * 16 + digit;
    }
    return unit;
}

/* Write code point as UTF-8 (a lone surrogate as its three bytes, as surrogatepass). */
static Py_ssize_t
write_utf8(unsigned char *out, long code)
{
    if (code < 0x80) {
        out[0] = (unsigned char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (unsigned char)(0xc0 | (code >> 6));
        out[1] = (unsigned char)(0x80 | (code & 0x3f));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (unsigned char)(0xe0 | (code >> 12));
        out[1] = (unsigned char)(0x80 | ((code >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (code & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | (code >> 18));
    out[1] = (unsigned char)(0x80 | ((code >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((code >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (code & 0x3f));
    return 4;
}

/*
 * The JSON string at raw[*at] (its opening quote): its text's UTF-8 bytes, unescaped
 * into out where it has escapes, and *at moved past its closing quote. Returns the
 * text's size and sets *text, or -1 where the string is not one JSON reads.
 */
static Py_ssize_t
read_string(const unsigned char *raw, Py_ssize_t *at, Py_ssize_t end, unsigned char *out,
            const unsigned char **text)
{
    const unsigned char *here = raw + *at + 1, *stop = raw + end, *quote, *escape;
    Py_ssize_t size = 0;
    long code, low;
    /* The lines parsed as JSON: a quote that no backslash comes before ends the string. */
    quote = memchr(here, '"', (size_t)(stop - here));
    escape = quote == NULL ? NULL : memchr(here, '\\', (size_t)(quote - here));
    if (quote == NULL) {
        return -1;
    }
    if (escape == NULL) { /* the text is the raw bytes (valid UTF-8) */
        *text = here;
        *at = quote + 1 - raw;
        return quote - here;
    }
    for (;;) {
        memcpy(out + size, here, (size_t)(escape - here));
        size += escape - here;
        here = escape;
        if (here + 1 >= stop) {
            return -1;
        }
        switch (here[1]) {
        case '"': out[size++] = '"'; break;
        case '\\': out[size++] = '\\'; break;
        case '/': out[size++] = '/'; break;
        case 'b': out[size++] = '\b'; break;
        case 'f': out[size++] = '\f'; break;
        case 'n': out[size++] = '\n'; break;
        case 'r': out[size++] = '\r'; break;
        case 't': out[size++] = '\t'; break;
        case 'u':
            code = escaped_unit(here, stop);
            if (code < 0) {
                return -1;
            }
            here += 4;
            low = code >= 0xd800 && code <= 0xdbff ? escaped_unit(here + 2, stop) : -1;
            if (low >= 0xdc00 && low <= 0xdfff) { /* a pair: one character */
                code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                here += 6;
            }
            size += write_utf8(out + size, code);
            break;
        default:
            return -1;
        }
        here += 2;
        /* The quote found before ends the string unless the escape was that quote (read
           again after each escape, a text of many took time in their square). */
        if (quote < here && (quote = memchr(here, '"', (size_t)(stop - here))) == NULL) {
            return -1;
        }
        escape = memchr(here, '\\', (size_t)(quote - here));
        if (escape == NULL) {
            memcpy(out + size, here, (size_t)(quote - here));
            size += quote - here;
            *text = out;
            *at = quote + 1 - raw;
            return size;
        }
    }
}

/* XXH3 of the text as a signed 64-bit integer, as fingerprints.fingerprint gives it. */
static int64_t
fingerprint(const unsigned char *text, Py_ssize_t size)
{
    return (int64_t)(XXH3_64bits(text, (size_t)size) ^ 0x8000000000000000ULL);
}

int
read_texts(const unsigned char *raw, Py_ssize_t end, unsigned char *out,
           const unsigned char *texts[2], Py_ssize_t sizes[2])
{
    Py_ssize_t at = json_space(raw, 0, end), size, key_size, used = 0;
    const unsigned char *key;
    int member, slot, seen = 0;
    if (at >= end || raw[at] != '{') {
        return -1;
    }
    for (member = 0; member < 2; member++) {
        at = json_space(raw, at + 1, end);
        if (at >= end || raw[at] != '"') {
            return -1;
        }
        key = raw + at + 1;
        key_size = 0;
        while (at + 1 + key_size < end && key[key_size] != '"' && key[key_size] != '\\') {
            key_size++;
        }
        if (at + 1 + key_size >= end || key[key_size] != '"') {
            return -1; /* a key with an escape, or no end */
        }
        if (key_size == 6 && memcmp(key, "prompt", 6) == 0) {
            slot = 0;
        }
        else if (key_size == 10 && memcmp(key, "completion", 10) == 0) {
            slot = 1;
        }
        else {
            return -1;
        }
        if (seen & (1 << slot)) {
            return -1; /* a duplicate key */
        }
        seen |= 1 << slot;
        at = json_space(raw, at + 2 + key_size, end);
        if (at >= end || raw[at] != ':') {
            return -1;
        }
        at = json_space(raw, at + 1, end);
        if (at >= end || raw[at] != '"') {
            return -1;
        }
        /* The second text is unescaped after the first: together no longer than raw. */
        size = read_string(raw, &at, end, out + used, &texts[slot]);
        if (size < 0) {
            return -1;
        }
        sizes[slot] = size;
        if (texts[slot] == out + used) {
            used += size;
        }
        at = json_space(raw, at, end);
        if (at >= end || raw[at] != (member == 0 ? ',' : '}')) {
            return -1;
        }
    }
    return json_space(raw, at + 1, end) == end ? 0 : -1;
}

/*
 * Read one plain line: its prompt's and completion's fingerprints, and whether either
 * text is suspect (unless flagged is NULL). Returns 0, or -1 where the line is not plain.
 */
static int
read_line(const unsigned char *raw, Py_ssize_t end, unsigned char *out, int64_t *prints,
          int *flagged)
{
    const unsigned char *texts[2];
    Py_ssize_t sizes[2];
    if (read_texts(raw, end, out, texts, sizes) < 0) {
        return -1;
    }
    for (int slot = 0; slot < 2; slot++) {
        prints[slot] = fingerprint(texts[slot], sizes[slot]);
        if (flagged != NULL && !*flagged) {
            *flagged = suspect(texts[slot], sizes[slot], TEXTS);
        }
    }
    return 0;
}

/*
 * The size of the longest of lines, a list of bytes (what an unescaped text needs at
 * most: never longer than its escaped form); -1, with TypeError set, if it is not one.
 */
static Py_ssize_t
longest_line(PyObject *lines, const char *function)
{
    Py_ssize_t index, longest = 0;
    PyObject *line;
    if (!PyList_Check(lines)) {
        PyErr_Format(PyExc_TypeError, "%s() takes a list of bytes", function);
        return -1;
    }
    for (index = 0; index < PyList_GET_SIZE(lines); index++) {
        line = PyList_GET_ITEM(lines, index);
        if (!PyBytes_Check(line)) {
            PyErr_Format(PyExc_TypeError, "%s() takes a list of bytes", function);
            return -1;
        }
        if (PyBytes_GET_SIZE(line) > longest) {
            longest = PyBytes_GET_SIZE(line);
        }
    }
    return longest;
}

/*
 * longest_line again once a function has made its lists: making one may start the
 * garbage collector, whose callbacks and finalizers may change lines (free its items,
 * or put in a line longer than a buffer sized before); -1, with an error set, where
 * lines no longer holds count items, all bytes.
 */
static Py_ssize_t
longest_line_after(PyObject *lines, Py_ssize_t count, const char *function)
{
    if (PyList_GET_SIZE(lines) != count) {
        PyErr_Format(PyExc_RuntimeError, "%s(): the list of lines changed size", function);
        return -1;
    }
    return longest_line(lines, function);
}

PyDoc_STRVAR(plain_pairs_doc,
"plain_pairs(lines, screened=True, /)\n--\n\n"
"Read raw JSON lines that are each one object with the string members \"prompt\" and\n"
"\"completion\": a tuple of the prompts' fingerprints and the completions' fingerprints,\n"
"each packed as array(\"q\") holds them, and the indexes of the lines whose texts may\n"
"hold something the screen flags (none unless screened). None if any line is not such\n"
"an object.");

static PyObject *
plain_pairs(PyObject *module, PyObject *args)
{
    PyObject *prompts = NULL, *completions = NULL, *suspects = NULL, *line, *lines;
    Py_ssize_t count, index, longest;
    unsigned char *out = NULL;
    int64_t prints[2];
    int flagged, screened = 1;
    (void)module;
    if (!PyArg_ParseTuple(args, "O|p:plain_pairs", &lines, &screened)
        || (longest = longest_line(lines, "plain_pairs")) < 0) {
        return NULL;
    }
    count = PyList_GET_SIZE(lines);
    /* The fingerprints packed, as array("q") holds them: no int object for each. */
    prompts = PyBytes_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(int64_t));
    completions = PyBytes_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(int64_t));
    suspects = PyList_New(0);
    if (prompts == NULL || completions == NULL || suspects == NULL
        || (longest = longest_line_after(lines, count, "plain_pairs")) < 0
        || (out = PyMem_Malloc((size_t)longest + 1)) == NULL) {
        goto error;
    }
    for (index = 0; index < count; index++) {
        line = PyList_GET_ITEM(lines, index);
        flagged = 0;
        if (read_line((const unsigned char *)PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line),
                      out, prints, screened ? &flagged : NULL) < 0) {
            PyMem_Free(out);
            Py_DECREF(prompts);
            Py_DECREF(completions);
            Py_DECREF(suspects);
            Py_RETURN_NONE;
        }
        memcpy(PyBytes_AS_STRING(prompts) + index * (Py_ssize_t)sizeof(int64_t), &prints[0],
               sizeof(int64_t));
        memcpy(PyBytes_AS_STRING(completions) + index * (Py_ssize_t)sizeof(int64_t),
               &prints[1], sizeof(int64_t));
        if (flagged && append_index(suspects, index) < 0) {
            goto error;
        }
    }
    PyMem_Free(out);
    return Py_BuildValue("(NNN)", prompts, completions, suspects);
error:
    PyMem_Free(out);
    Py_XDECREF(prompts);
    Py_XDECREF(completions);
    Py_XDECREF(suspects);
    if (!PyErr_Occurred()) {
        PyErr_NoMemory();
    }
    return NULL;
}

/*
 * Whether the JSON line may hold what Screen.raw flags: read whole, as it reads it, in
 * one pass; or, where \u escapes hide what its strings hold, each string (a key or a
 * value) unescaped.
 */
static int
line_suspect(const unsigned char *raw, Py_ssize_t end, unsigned char *out)
{
    const unsigned char *quote, *text = NULL;
    Py_ssize_t at = 0, size;
    int found = suspect(raw, end, RAW);
    if (found != ESCAPES) {
        return found;
    }
    /* Outside its strings, a JSON line holds no quote: each one found opens a string. */
    while ((quote = memchr(raw + at, '"', (size_t)(end - at))) != NULL) {
        at = quote - raw;
        size = read_string(raw, &at, end, out, &text);
        if (size < 0 || suspect(text, size, LINES)) {
            return 1;
        }
    }
    return 0;
}

/*
 * Chats fingerprinted as survey._Pass._log_chats does: the canonical JSON of the
 * messages but the last (the input) and of the last (the target), as
 * orjson.dumps(value, option=OPT_SORT_KEYS) writes it: keys sorted, no spaces,
 * strings escaped as orjson escapes them. Whatever this writer cannot write exactly as
 * orjson does (a float, a very large or negative-zero integer, a key with an escape, a
 * duplicate key, a lone surrogate, deep nesting) sends the batch back to Python.
 */

typedef struct {
    unsigned char *data;
    Py_ssize_t size, capacity;
} Buffer;

/* Room for more bytes at the end of buffer; -1 (with MemoryError set) if none. */
static int
reserve(Buffer *buffer, Py_ssize_t more)
{
    Py_ssize_t wanted = buffer->size + more, capacity = buffer->capacity ? buffer->capacity : 256;
    unsigned char *grown;
    if (wanted <= buffer->capacity) {
        return 0;
    }
    while (capacity < wanted) {
        capacity *= 2;
    }
    grown = PyMem_Realloc(buffer->data, (size_t)capacity);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = grown;
    buffer->capacity = capacity;
    return 0;
}

static int
put(Buffer *buffer, const void *bytes, Py_ssize_t size)
{
    if (size == 0) {
        return 0; /* (an empty buffer has no data to copy to) */
    }
    if (reserve(buffer, size) < 0) {
        return -1;
    }
    memcpy(buffer->data + buffer->size, bytes, (size_t)size);
    buffer->size += size;
    return 0;
}

/* What writing the canonical JSON of a value came to. */
enum { WRITTEN = 0, UNWRITABLE = 1, FAILED = -1 /* MemoryError set */ };

/* Nesting deeper than this is left to Python (whose freeze() copes with any depth). */
#define MAX_DEPTH 64

typedef struct Work Work;
static int write_value(const unsigned char *raw, Py_ssize_t *at, Py_ssize_t end, Buffer *out,
                       Work *work, int depth, int *assistant);

/* Whether a string's escapes, raw[start:end], are all ones orjson writes the same way:
   none is \u or \/, so that orjson writes the string as it is. */
static int
escapes_kept(const unsigned char *raw, Py_ssize_t start, Py_ssize_t end)
{
    const unsigned char *here = raw + start, *stop = raw + end;
    while ((here = memchr(here, '\\', (size_t)(stop - here))) != NULL) {
        if (here[1] == 'u' || here[1] == '/') {
            return 0;
        }
        here += 2; /* past the escaped byte, a backslash too */
    }
    return 1;
}

/* A JSON string of raw at *at, written as orjson writes it. */
static int
write_string(const unsigned char *raw, Py_ssize_t *at, Py_ssize_t end, Buffer *out,
             Buffer *scratch)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *text = NULL;
    Py_ssize_t start = *at, size, index, run;
    unsigned char byte, *to;
    if (reserve(scratch, end - start) < 0) {
        return FAILED;
    }
    size = read_string(raw, at, end, scratch->data, &text);
    if (size < 0) {
        return UNWRITABLE;
    }
    /* No escape, or only those orjson writes alike (a text's \n, an argument's \"): the
       raw bytes, which orjson keeps. */
    if (text != scratch->data || escapes_kept(raw, start + 1, *at - 1)) {
        return put(out, raw + start, *at - start) < 0 ? FAILED : WRITTEN;
    }
    /* No longer than the raw string: each byte written escaped (\n, \u0007) was read
       from an escape at least as long, and text from \u escapes is shorter as UTF-8. */
    if (reserve(out, *at - start) < 0) {
        return FAILED;
    }
    to = out->data + out->size;
    *to++ = '"';
    for (index = 0; index < size; index = run) {
        /* A run of bytes written as they are, then the byte that ends it. */
        for (run = index; run < size; run++) {
            byte = text[run];
            if (byte < 0x20 || byte == '"' || byte == '\\'
                || (byte == 0xed && run + 1 < size && text[run + 1] >= 0xa0)) {
                break;
            }
        }
        memcpy(to, text + index, (size_t)(run - index));
        to += run - index;
        if (run == size) {
            break;
        }
        byte = text[run++];
        if (byte == 0xed) {
            return UNWRITABLE; /* a lone surrogate, which orjson refuses */
        }
        *to++ = '\\';
        switch (byte) {
        case '"': *to++ = '"'; break;
        case '\\': *to++ = '\\'; break;
        case '\b': *to++ = 'b'; break;
        case '\t': *to++ = 't'; break;
        case '\n': *to++ = 'n'; break;
        case '\f': *to++ = 'f'; break;
        case '\r': *to++ = 'r'; break;
        default:
            *to++ = 'u';
            *to++ = '0';
            *to++ = '0';
            *to++ = (unsigned char)hex[byte >> 4];
            *to++ = (unsigned char)hex[byte & 0xf];
        }
    }
    *to++ = '"';
    out->size = to - out->data;
    return WRITTEN;
}

/* An integer as orjson writes it again (floats, -0 and long ones are left to Python). */
static int
write_number(const unsigned char *raw, Py_ssize_t *at, Py_ssize_t end, Buffer *out)
{
    Py_ssize_t start = *at, here = start, digits;
    if (here < end && raw[here] == '-') {
        here++;
    }
    digits = here;
    while (here < end && raw[here] >= '0' && raw[here] <= '9') {
        here++;
    }
    digits = here - digits;
    if (digits == 0 || digits > 18 || (here < end && one_of(".eE", raw[here]))
        || (raw[start] == '-' && digits == 1 && raw[start + 1] == '0')) {
        return UNWRITABLE;
    }
    *at = here;
    return put(out, raw + start, here - start) < 0 ? FAILED : WRITTEN;
}

typedef struct {
    Py_ssize_t key, key_size, value, value_size; /* offsets in the object's own buffer */
} Member;

/*
 * What writing canonical JSON reuses from one value to the next: a string's text
 * unescaped, and at each depth an object's members before they are sorted (made once
 * a batch, not once an object).
 */
struct Work {
    Buffer scratch;
    Buffer own[MAX_DEPTH + 1];
    Member *members[MAX_DEPTH + 1];
    Py_ssize_t capacity[MAX_DEPTH + 1];
};

static void
free_work(Work *work)
{
    int depth;
    PyMem_Free(work->scratch.data);
    for (depth = 0; depth <= MAX_DEPTH; depth++) {
        PyMem_Free(work->own[depth].data);
        PyMem_Free(work->members[depth]);
    }
    PyMem_Free(work);
}

static const unsigned char *member_base; /* (for qsort's comparison, one sort at a time) */

static int
compare_members(const void *left, const void *right)
{
    const Member *one = left, *other = right;
    Py_ssize_t shorter = one->key_size < other->key_size ? one->key_size : other->key_size;
    int order = memcmp(member_base + one->key, member_base + other->key, (size_t)shorter);
    if (order != 0) {
        return order;
    }
    return one->key_size < other->key_size ? -1 : one->key_size > other->key_size;
}

/* A JSON object, its members sorted by key (as UTF-8 bytes, which is code point order). */
static int
write_object(const unsigned char *raw, Py_ssize_t *at, Py_ssize_t end, Buffer *out,
             Work *work, int depth, int *assistant)
{
    Buffer *own = &work->own[depth];
    Member *members = work->members[depth], *grown;
    Py_ssize_t count = 0, capacity = work->capacity[depth], index, key_start, key_end;
    int status = WRITTEN;
    own->size = 0;
    *at = json_space(raw, *at + 1, end);
    if (*at < end && raw[*at] == '}') {
        *at += 1;
        return put(out, "{}", 2) < 0 ? FAILED : WRITTEN;
    }
    for (;;) {
        if (*at >= end || raw[*at] != '"') {
            status = UNWRITABLE;
            break;
        }
        key_start = *at + 1;
        key_end = key_start;
        while (key_end < end && raw[key_end] != '"' && raw[key_end] != '\\') {
            key_end++;
        }
        if (key_end >= end || raw[key_end] != '"') {
            status = UNWRITABLE; /* an escape in a key: its order is the decoded text's */
            break;
        }
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 8;
            grown = PyMem_Realloc(members, (size_t)capacity * sizeof(Member));
            if (grown == NULL) {
                PyErr_NoMemory();
                status = FAILED;
                break;
            }
            members = work->members[depth] = grown;
            work->capacity[depth] = capacity;
        }
        members[count].key = own->size;
        members[count].key_size = key_end - key_start;
        if (put(own, raw + key_start, key_end - key_start) < 0) {
            status = FAILED;
            break;
        }
        *at = json_space(raw, key_end + 1, end);
        if (*at >= end || raw[*at] != ':') {
            status = UNWRITABLE;
            break;
        }
        *at = json_space(raw, *at + 1, end);
        members[count].value = own->size;
        status = write_value(raw, at, end, own, work, depth + 1, NULL);
        if (status != WRITTEN) {
            break;
        }
        members[count].value_size = own->size - members[count].value;
        if (assistant != NULL && key_end - key_start == 4 && memcmp(raw + key_start, "role", 4) == 0) {
            *assistant = members[count].value_size == 11
                         && memcmp(own->data + members[count].value, "\"assistant\"", 11) == 0;
        }
        count++;
        *at = json_space(raw, *at, end);
        if (*at < end && raw[*at] == ',') {
            *at = json_space(raw, *at + 1, end);
            continue;
        }
        if (*at < end && raw[*at] == '}') {
            *at += 1;
            break;
        }
        status = UNWRITABLE;
        break;
    }
    if (status == WRITTEN) {
        member_base = own->data;
        qsort(members, (size_t)count, sizeof(Member), compare_members);
        /* Each member adds a separator, two quotes and a colon; the object its brace. */
        status = reserve(out, own->size + 4 * count + 1) < 0 ? FAILED : WRITTEN;
    }
    for (index = 0; status == WRITTEN && index < count; index++) {
        if (index > 0 && compare_members(&members[index - 1], &members[index]) == 0) {
            status = UNWRITABLE; /* a duplicate key: the parsed object keeps only the last */
            break;
        }
        out->data[out->size++] = index == 0 ? '{' : ',';
        out->data[out->size++] = '"';
        memcpy(out->data + out->size, own->data + members[index].key, (size_t)members[index].key_size);
        out->size += members[index].key_size;
        out->data[out->size++] = '"';
        out->data[out->size++] = ':';
        memcpy(out->data + out->size, own->data + members[index].value,
               (size_t)members[index].value_size);
        out->size += members[index].value_size;
    }
    if (status == WRITTEN) {
        out->data[out->size++] = '}';
    }
    return status;
}

static int
write_array(const unsigned char *raw, Py_ssize_t *at, Py_ssize_t end, Buffer *out,
            Work *work, int depth)
{
    int status;
    *at = json_space(raw, *at + 1, end);
    if (put(out, "[", 1) < 0) {
        return FAILED;
    }
    if (*at < end && raw[*at] == ']') {
        *at += 1;
        return put(out, "]", 1) < 0 ? FAILED : WRITTEN;
    }
    for (;;) {
        status = write_value(raw, at, end, out, work, depth + 1, NULL);
        if (status != WRITTEN) {
            return status;
        }
        *at = json_space(raw, *at, end);
        if (*at < end && raw[*at] == ',') {
            *at = json_space(raw, *at + 1, end);
            if (put(out, ",", 1) < 0) {
                return FAILED;
            }
            continue;
        }
        if (*at < end && raw[*at] == ']') {
            *at += 1;
            return put(out, "]", 1) < 0 ? FAILED : WRITTEN;
        }
        return UNWRITABLE;
    }
}

/*
 * The JSON value at raw[*at], written canonically to out; *at moved past it. Where
 * assistant is given and the value is an object, it is set to whether its "role" is
 * "assistant".
 */
static int
write_value(const unsigned char *raw, Py_ssize_t *at, Py_ssize_t end, Buffer *out,
            Work *work, int depth, int *assistant)
{
    if (depth > MAX_DEPTH || *at >= end) {
        return UNWRITABLE;
    }
    switch (raw[*at]) {
    case '{':
        return write_object(raw, at, end, out, work, depth, assistant);
    case '[':
        return write_array(raw, at, end, out, work, depth);
    case '"':
        return write_string(raw, at, end, out, &work->scratch);
    case 't':
    case 'f':
    case 'n': {
        const char *literal = raw[*at] == 't' ? "true" : raw[*at] == 'f' ? "false" : "null";
        Py_ssize_t size = (Py_ssize_t)strlen(literal);
        if (end - *at < size || memcmp(raw + *at, literal, (size_t)size) != 0) {
            return UNWRITABLE;
        }
        *at += size;
        return put(out, literal, size) < 0 ? FAILED : WRITTEN;
    }
    default:
        return write_number(raw, at, end, out);
    }
}

/* Whether the canonical JSON of a value is truthy in Python, as `if tools:` reads it. */
static int
truthy(const unsigned char *json, Py_ssize_t size)
{
    return !(size == 2 && (memcmp(json, "[]", 2) == 0 || memcmp(json, "{}", 2) == 0
                           || memcmp(json, "\"\"", 2) == 0))
           && !(size == 4 && memcmp(json, "null", 4) == 0)
           && !(size == 5 && memcmp(json, "false", 5) == 0)
           && !(size == 1 && json[0] == '0');
}

/* fingerprints.combined(first, second): XXH3 of both, packed as little-endian int64. */
static int64_t
combined(int64_t first, int64_t second)
{
    unsigned char packed[16];
    uint64_t parts[2] = {(uint64_t)first, (uint64_t)second};
    int part, index;
    for (part = 0; part < 2; part++) {
        for (index = 0; index < 8; index++) {
            packed[part * 8 + index] = (unsigned char)(parts[part] >> (8 * index));
        }
    }
    return fingerprint(packed, 16);
}

/*
 * One chat line: whether it ends with the assistant's message (*ends), and then the
 * fingerprints of its input (the messages before, and its tools) and of that message.
 */
static int
read_chat(const unsigned char *raw, Py_ssize_t end, Buffer *out, Work *work,
          int *ends, int64_t *key, int64_t *value)
{
    Py_ssize_t at = json_space(raw, 0, end), key_start, key_end, last = 0;
    int status, seen_messages = 0, seen_tools = 0, is_tools, assistant = 0, messages = 0;
    int64_t tools = 0;
    int has_tools = 0;
    *ends = 0;
    if (at >= end || raw[at] != '{') {
        return UNWRITABLE;
    }
    at = json_space(raw, at + 1, end);
    while (at < end && raw[at] == '"') {
        key_start = at + 1;
        key_end = key_start;
        while (key_end < end && raw[key_end] != '"' && raw[key_end] != '\\') {
            key_end++;
        }
        if (key_end >= end || raw[key_end] != '"') {
            return UNWRITABLE;
        }
        at = json_space(raw, key_end + 1, end);
        if (at >= end || raw[at] != ':') {
            return UNWRITABLE;
        }
        at = json_space(raw, at + 1, end);
        out->size = 0;
        if (key_end - key_start == 8 && memcmp(raw + key_start, "messages", 8) == 0) {
            if (seen_messages++) {
                return UNWRITABLE;
            }
            if (at < end && raw[at] == '[') { /* each message written, the last one's start kept */
                messages = 0;
                at = json_space(raw, at + 1, end);
                if (put(out, "[", 1) < 0) {
                    return FAILED;
                }
                while (at < end && raw[at] != ']') {
                    if (messages > 0 && put(out, ",", 1) < 0) {
                        return FAILED;
                    }
                    last = out->size;
                    assistant = 0;
                    status = write_value(raw, &at, end, out, work, 2,
                                         raw[at] == '{' ? &assistant : NULL);
                    if (status != WRITTEN) {
                        return status;
                    }
                    messages++;
                    at = json_space(raw, at, end);
                    if (at < end && raw[at] == ',') {
                        at = json_space(raw, at + 1, end);
                    }
                    else if (at >= end || raw[at] != ']') {
                        return UNWRITABLE;
                    }
                }
                if (at >= end) {
                    return UNWRITABLE;
                }
                at++;
                *ends = messages > 0 && assistant;
                if (*ends) {
                    *value = fingerprint(out->data + last, out->size - last);
                    /* The messages before it: "[" and theirs, without the last comma. */
                    out->data[last > 1 ? last - 1 : last] = ']';
                    *key = fingerprint(out->data, last > 1 ? last : last + 1);
                }
            }
            else {
                status = write_value(raw, &at, end, out, work, 1, NULL);
                if (status != WRITTEN) {
                    return status;
                }
            }
        }
        else {
            /* Any other key's value is written too: only tools' is kept (out starts empty). */
            is_tools = key_end - key_start == 5 && memcmp(raw + key_start, "tools", 5) == 0;
            if (is_tools && seen_tools++) {
                return UNWRITABLE;
            }
            status = write_value(raw, &at, end, out, work, 1, NULL);
            if (status != WRITTEN) {
                return status;
            }
            if (is_tools) {
                has_tools = truthy(out->data, out->size);
                tools = fingerprint(out->data, out->size);
            }
        }
        at = json_space(raw, at, end);
        if (at < end && raw[at] == ',') {
            at = json_space(raw, at + 1, end);
            continue;
        }
        break;
    }
    if (at >= end || raw[at] != '}' || json_space(raw, at + 1, end) != end) {
        return UNWRITABLE;
    }
    if (*ends && has_tools) {
        *key = combined(*key, tools);
    }
    return WRITTEN;
}

PyDoc_STRVAR(chat_pairs_doc,
"chat_pairs(lines, /)\n--\n\n"
"Fingerprint chat lines as the duplicate checks do: for each line that ends with the\n"
"assistant's message, the fingerprint of its input (the messages before, with its\n"
"tools) and of that message. Three lists, an item a line: the inputs' and the\n"
"messages' fingerprints (None where the line does not end so), and whether it does;\n"
"None in all three where the line holds what only orjson writes exactly (a float).");

/* Set item index of each list, stealing the references; -1 if one is NULL. */
static int
set_items(PyObject *lists[3], Py_ssize_t index, PyObject *items[3])
{
    int which, status = 0;
    for (which = 0; which < 3; which++) {
        if (items[which] == NULL) {
            status = -1;
            continue;
        }
        PyList_SET_ITEM(lists[which], index, items[which]);
    }
    return status;
}

static PyObject *
chat_pairs(PyObject *module, PyObject *lines)
{
    PyObject *lists[3] = {NULL, NULL, NULL}, *items[3], *line;
    Buffer out = {NULL, 0, 0};
    Work *work;
    Py_ssize_t count, index;
    int64_t key = 0, value = 0;
    int status, ended, which;
    (void)module;
    if (longest_line(lines, "chat_pairs") < 0) {
        return NULL;
    }
    if ((work = PyMem_Calloc(1, sizeof(Work))) == NULL) {
        return PyErr_NoMemory();
    }
    count = PyList_GET_SIZE(lines);
    for (which = 0; which < 3; which++) {
        if ((lists[which] = PyList_New(count)) == NULL) {
            goto error;
        }
    }
    if (longest_line_after(lines, count, "chat_pairs") < 0) {
        goto error;
    }
    for (index = 0; index < count; index++) {
        line = PyList_GET_ITEM(lines, index);
        status = read_chat((const unsigned char *)PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line),
                           &out, work, &ended, &key, &value);
        if (status == FAILED) {
            goto error;
        }
        if (status == UNWRITABLE) {
            items[0] = Py_NewRef(Py_None);
            items[1] = Py_NewRef(Py_None);
            items[2] = Py_NewRef(Py_None);
        }
        else if (!ended) {
            items[0] = Py_NewRef(Py_None);
            items[1] = Py_NewRef(Py_None);
            items[2] = Py_NewRef(Py_False);
        }
        else {
            items[0] = PyLong_FromLongLong(key);
            items[1] = PyLong_FromLongLong(value);
            items[2] = Py_NewRef(Py_True);
        }
        if (set_items(lists, index, items) < 0) {
            goto error;
        }
    }
    PyMem_Free(out.data);
    free_work(work);
    return Py_BuildValue("(NNN)", lists[0], lists[1], lists[2]);
error:
    for (which = 0; which < 3; which++) {
        Py_XDECREF(lists[which]);
    }
    PyMem_Free(out.data);
    free_work(work);
    return NULL;
}

PyDoc_STRVAR(suspect_lines_doc,
"suspect_lines(lines, /)\n--\n\n"
"The indexes of the raw JSON lines any of whose strings may hold what the content\n"
"screen flags (Screen.raw): the lines it need not read are the others.");

static PyObject *
suspect_lines(PyObject *module, PyObject *lines)
{
    PyObject *suspects, *line;
    Py_ssize_t count, index, longest = longest_line(lines, "suspect_lines");
    unsigned char *out;
    (void)module;
    if (longest < 0) {
        return NULL;
    }
    count = PyList_GET_SIZE(lines);
    suspects = PyList_New(0);
    if (suspects == NULL || (longest = longest_line_after(lines, count, "suspect_lines")) < 0) {
        Py_XDECREF(suspects);
        return NULL;
    }
    out = PyMem_Malloc((size_t)longest + 1);
    if (out == NULL) {
        Py_DECREF(suspects);
        return PyErr_NoMemory();
    }
    for (index = 0; index < count; index++) {
        line = PyList_GET_ITEM(lines, index);
        if (!line_suspect((const unsigned char *)PyBytes_AS_STRING(line),
                          PyBytes_GET_SIZE(line), out)) {
            continue;
        }
        if (append_index(suspects, index) < 0) {
            Py_DECREF(suspects);
            PyMem_Free(out);
            return NULL;
        }
    }
    PyMem_Free(out);
    return suspects;
}

static PyMethodDef methods[] = {
    {"plain_pairs", plain_pairs, METH_VARARGS, plain_pairs_doc},
    {"suspect_lines", suspect_lines, METH_O, suspect_lines_doc},
    {"chat_pairs", chat_pairs, METH_O, chat_pairs_doc},
    {"departures", departures, METH_VARARGS, departures_doc},
    {"plain_departures", plain_departures, METH_VARARGS, plain_departures_doc},
    {"chats_to_walk", chats_to_walk, METH_VARARGS, chats_to_walk_doc},
    {"read_run", read_run, METH_VARARGS, read_run_doc},
#ifndef _WIN32
    {"file_newlines", file_newlines, METH_VARARGS, file_newlines_doc},
#endif
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "pytest_finetune._native",
    "The lint's hot paths, in C (see native/native.c).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    init_classes();
    return PyModule_Create(&module);
}
