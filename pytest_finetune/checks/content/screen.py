"""The screen: one cheap pass over a record that says which problems its texts may have.

Most records have none of the FT4xx problems; the screen spares them the searches
(:mod:`.searches`), which run only on the texts of the records it flags.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

import orjson

from pytest_finetune.checks.content.searches import (
    C0_CONTROLS,
    C1_BYTES,
    MOJIBAKE_BYTES,
    REPLACEMENT_BYTES,
    SURROGATE_BYTES,
)

# The screen's alphabet. Lowercase letters and spaces (most of any text) are dropped.
# What could belong to a key or a card number (capitals, digits, '-', '_') becomes
# 'A', so that a long run of 'A' is a long token. Bytes that start rarer problems
# become '!'. Other punctuation becomes '.', which ends a run. Two variants: one reads
# a record's raw JSON line (quotes, backslashes and openers stay, to tell JSON's own
# braces and escapes from the text's), one reads the texts themselves. The bytes that
# keys' literals are found from (:data:`_KEY_BYTES`) stay themselves.
_TOKEN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
#: The bytes the literals that start keys are found from (:data:`_KEY_STARTS`).
_KEY_BYTES = b"-_IJz"
_DROP = bytes(
    byte
    for byte in range(256)
    if (chr(byte).islower() and byte not in _KEY_BYTES) or byte in b" \t\r\n" or byte >= 0x80
)


def _table(rare: bytes, kept: bytes) -> bytes:
    return bytes(
        byte
        if byte in _KEY_BYTES
        else ord("A")
        if byte in _TOKEN
        else ord("!")
        if byte in rare
        else byte
        if byte in kept
        else ord(".")
        for byte in range(256)
    )


_RAW_TABLE = _table(b"@<|\x7f", b'"\\{[')
_TEXT_TABLE = _table(b"@<|{[" + C0_CONTROLS, b"")
_LINES_RARE = b"@<|[\x7f"
_LINES_TABLE = _table(_LINES_RARE, b"{")
#: A run this long in the screen is a token that may be a key or a card number.
_LONG_RUN = b"A" * 13
#: The screen with :data:`_KEY_BYTES` as token bytes, for the runs ('z' as well: a
#: longer run is only a false alarm).
_RUNS = bytes(ord("A") if byte in _KEY_BYTES else byte for byte in range(256))
#: How to find the keys of :data:`pytest_finetune.redact._KEYS` that make no long run
#: (the screen drops lowercase letters: ``sk-`` and twenty of them leave one '-'): from
#: a byte of the literal each starts with, which text seldom holds. Where the screen
#: holds what that literal leaves in it (the sign: the byte, or ``AIz`` for ``AIza``),
#: the places of the byte (``memchr``) are checked: the byte before it, then the
#: literals (look-behinds, whose first checks that byte again in C). A search of the
#: literals themselves (``in``, ``re``) costs 0.3 to 0.7 ns a byte, as much as the rest
#: of the screen. AWS keys (capitals and digits), private keys (their header's
#: capitals) and card numbers (digits) always make a long run.
_KEY_STARTS: tuple[tuple[int | bytes, int, bytes, re.Pattern[bytes]], ...] = (
    (
        ord("-"),
        ord("-"),
        b"kabposr",
        re.compile(rb"-(?<=[kabposr]-)(?:(?<=sk-)|(?<=xox[abposr]-))"),
    ),
    (
        ord("_"),
        ord("_"),
        b"fpousrbk",
        re.compile(rb"_(?<=[fpousrbk]_)(?:(?<=hf_)|(?<=gh[pousr]_)|(?<=github_)pat_|(?<=k_)live_)"),
    ),
    (ord("J"), ord("J"), b"y", re.compile(rb"J(?<=eyJ)")),
    (b"AIz", ord("z"), b"I", re.compile(rb"z(?<=AIz)a")),
)
#: Bytes of the screen looked for as ints: ``int in bytes`` is a ``memchr``.
_ALARM, _BACKSLASH, _BRACKET = b"!\\["
# In the raw line, control characters and surrogates hide behind escapes.
_ESCAPE = re.compile(rb"\\[ubf]")
#: What follows the backslash in :data:`_ESCAPE`'s escapes.
_ESCAPED = b"ubf"
#: U+FFFD's bytes: ``re`` finds a literal faster than ``in`` in non-ASCII text, whose
#: bytes defeat the filter that ``bytes.find`` skips with.
_REPLACEMENT = re.compile(re.escape(REPLACEMENT_BYTES))
#: The byte searches of garbled text (:func:`_garbled`), each with the literal byte it
#: starts with.
_GARBLED_UTF8 = tuple(
    (pattern.pattern[0], pattern) for pattern in (MOJIBAKE_BYTES, _REPLACEMENT, C1_BYTES)
)
_GARBLED = (*_GARBLED_UTF8, (SURROGATE_BYTES.pattern[0], SURROGATE_BYTES))


class Flag:
    """What a record may contain, as bits: the screen's answer."""

    #: Non-ASCII characters that may be garbled: mojibake, U+FFFD, a C1 control, a
    #: surrogate (written with ``surrogatepass``; in JSON, an escape: CONTROL). Text
    #: in any language is not flagged, only these, with the exact byte search of each
    #: (:func:`_garbled`): flagging every non-ASCII text cost 40 µs a record.
    NON_ASCII = 1
    CONTROL = 2  # a control character or a lone surrogate (an escape, in raw JSON)
    EMAIL = 8
    LONG_TOKEN = 16
    BRACE = 32
    BRACKET = 64
    ANGLE = 128  # '<' or '|': a placeholder or a special token


class Screen:
    """One cheap pass over a record: the flags of the problems its texts may have.

    ``need`` says which flags anyone wants; the others are not computed. A flag may be
    a false alarm (the texts are then searched for nothing) but is never missing.
    Most records are read through their raw JSON line, escapes and all; a
    prompt/completion record with no other keys is read through its two texts, which
    spares telling JSON's escapes and braces from the text's.
    """

    def __init__(self, need: int) -> None:
        self.need = need
        self.control = bool(need & Flag.CONTROL)
        self.long = bool(need & Flag.LONG_TOKEN)
        self.brace = bool(need & Flag.BRACE)
        self.bracket = bool(need & Flag.BRACKET)

    def raw(self, raw: bytes, data: object = None) -> int:
        r"""The flags of a raw JSON line, or of lines joined (then without ``data``).

        ``data``, the line's parsed value, tells what its ``\u`` escapes write; without
        it, any such escape raises CONTROL.
        """
        found = 0
        if data is not None and b"\\u" in raw:
            # What the escapes write is screened as the text's own: json.dumps escapes
            # all non-ASCII text, Go's encoder '<', '>' and '&' ('\u003cs\u003e' is a
            # special token). orjson writes the record again as UTF-8, escaping only C0
            # controls (then found as escapes); it refuses lone surrogates.
            try:
                raw = orjson.dumps(data)
            except TypeError:  # a lone surrogate (or what else orjson cannot write)
                found = Flag.CONTROL | Flag.NON_ASCII
        if not raw.isascii() and _garbled(raw):
            found |= Flag.NON_ASCII
        rest = raw.translate(_RAW_TABLE, _DROP)
        # (``bytes in bytes`` tries the bytes as an int first and clears the error:
        # 0.1 µs more than ``int in bytes``, as much as the search itself.)
        if _ALARM in rest:
            found |= _rare(raw)
        if self.control and _BACKSLASH in rest and _ESCAPE.search(_unescaped(raw)):
            found |= Flag.CONTROL
        if self.long and _long(raw, rest):
            found |= Flag.LONG_TOKEN
        # JSON's own braces and brackets open an object ('{"') or hold values ('[{',
        # '["'); any other is in a text. A brace before an escaped quote ('{\"') opens
        # JSON written inside a text (tool calls' arguments and results), never a
        # placeholder, which needs a letter or a brace after its brace.
        if self.brace and rest.count(b"{") > rest.count(b'{"') + rest.count(b'{\\"'):
            found |= Flag.BRACE
        if (
            self.bracket
            and _BRACKET in rest
            and rest.count(b"[") > rest.count(b"[{") + rest.count(b'["')
        ):
            found |= Flag.BRACKET
        return found & self.need

    def lines(self, lines: list[bytes]) -> list[int]:
        r"""Which of the plain prompt/completion ``lines`` may hold a problem (indexes).

        For lines with only the two keys, whose JSON syntax is then one ``{`` a line.
        One pass over the lines joined says whether any may (most batches: none);
        only then is each alarm traced to its line, so that the texts of those lines
        alone are screened again (:meth:`texts`): a batch of lines with one rare case
        costs one line's screen, not the batch's. Reading the lines spares encoding
        their texts again, which costs more than the screen itself for non-ASCII text.
        A line with an escape other than ``\n``, ``\t``, ``\"`` (what ``\u``,
        ``\b`` and ``\f`` write only shows in the texts) is always among them.
        """
        joined = b"".join(lines)
        escaped = _escaped(joined)
        # Only lines with non-ASCII text can be garbled: the searches read those alone.
        wide: list[int] = []
        if self.need & Flag.NON_ASCII and not joined.isascii():
            wide = [index for index, line in enumerate(lines) if not line.isascii()]
        garbled = bool(wide) and _garbled(
            joined if len(wide) == len(lines) else b"".join([lines[index] for index in wide])
        )
        rest = joined.translate(_LINES_TABLE, _DROP)
        rare = b"!" in rest
        braces = rest.count(b"{") > len(lines)
        long = False
        keys: list[int] = []
        if self.long:
            long = _LONG_RUN in rest.translate(_RUNS)
            keys = _key_starts(joined, rest)
        if not (escaped or garbled or rare or braces or long or keys):
            return []
        # No alarm spans two lines: each line is one object, from '{' to '}' (then
        # whitespace), which none of these searches matches, and which end a run.
        at = keys
        if escaped:
            at += [match.start() for match in _ESCAPE.finditer(joined)]
        if rare:
            for byte in _LINES_RARE:
                at += _places(joined, byte)
        ends = list(accumulate(map(len, lines)))
        found = {bisect_right(ends, position) for position in at}
        if garbled:
            found.update(index for index in wide if _garbled(lines[index]))
        if braces:
            found.update(index for index, line in enumerate(lines) if line.count(b"{") > 1)
        if long:
            found.update(
                index
                for index, line in enumerate(lines)
                if _LONG_RUN in line.translate(_LINES_TABLE, _DROP).translate(_RUNS)
            )
        return sorted(found)

    def texts(self, prompt: str, completion: str) -> int:
        """The flags of a prompt and its completion."""
        text = f"{prompt}.{completion}".encode("utf-8", "surrogatepass")
        found = Flag.NON_ASCII if not text.isascii() and _garbled(text, surrogates=True) else 0
        rest = text.translate(_TEXT_TABLE, _DROP)
        if b"!" in rest:
            found |= _rare(text)
            if b"{" in text:
                found |= Flag.BRACE
            if b"[" in text:
                found |= Flag.BRACKET
            if len(text.translate(None, C0_CONTROLS)) < len(text):
                found |= Flag.CONTROL
        if self.long and _long(text, rest):
            found |= Flag.LONG_TOKEN
        return found & self.need


def _unescaped(raw: bytes) -> bytes:
    r"""``raw`` without its escaped backslashes, whose next character escapes nothing.

    Left to right, as JSON reads them: in ``\\\u``, the third backslash escapes.
    """
    return raw.replace(b"\\\\", b"") if b"\\\\" in raw else raw


def _garbled(data: bytes, *, surrogates: bool = False) -> bool:
    """Whether the UTF-8 ``data`` holds mojibake, U+FFFD, a C1 control or a surrogate.

    Each search starts with a literal byte that ``re`` skips to at C speed, from where
    ``bytes.find`` (``memchr``, faster still) first sees it: text in a script without
    that byte costs one ``memchr``. Surrogates are searched for only in text encoded
    with ``surrogatepass`` (``surrogates``): a line the reader parsed is valid UTF-8,
    which has none (orjson refuses them; in JSON a surrogate is an escape).
    """
    for lead, pattern in _GARBLED if surrogates else _GARBLED_UTF8:
        at = data.find(lead)
        if at >= 0 and pattern.search(data, at) is not None:
            return True
    return False


def _long(data: bytes, rest: bytes) -> bool:
    """Whether ``data``, screened as ``rest``, may hold a key or a card number."""
    runs = rest.translate(_RUNS)
    return runs.find(_LONG_RUN) >= 0 or (runs != rest and bool(_key_starts(data, rest)))


def _escaped(data: bytes) -> bool:
    r"""Whether ``data`` holds an escape of :data:`_ESCAPE`, looked for as keys are.

    Lines of prompts and completions hold a backslash a line (the ``\n`` ending each
    completion): checked one by one, they cost a sixth less than ``re`` scanning.
    """
    find = data.find
    at = find(92)
    if at < 0:
        return False
    end = data.rfind(92) + 2
    if end > len(data):  # a backslash that ends the data escapes nothing
        return _ESCAPE.search(data, at) is not None
    for _ in range((end - at) // 600 - 1):
        if data[at + 1] in _ESCAPED:
            return True
        at = find(92, at + 1)
        if at < 0:
            return False
    return _ESCAPE.search(data, at, end) is not None


def _key_starts(data: bytes, rest: bytes) -> list[int]:
    """Where in ``data`` (screened as ``rest``) a key of :data:`_KEY_STARTS` starts."""
    found: list[int] = []
    for sign, byte, before, literal in _KEY_STARTS:
        if rest.find(sign) < 0:
            continue
        find = data.find
        at = find(byte)
        end = data.rfind(byte) + 8  # the literals end within 8 bytes of their byte
        # Each place checked from Python costs what ``re`` scanning 600 bytes does:
        # one by one while they are that sparse (the ' ->' ending each prompt of a
        # batch), then ``re`` for the rest.
        for _ in range((end - at) // 600 - 1):
            if data[at - 1] in before and literal.match(data, at):
                found.append(at)
            at = find(byte, at + 1)
            if at < 0:
                break
        else:
            match = literal.search(data, at, end)
            while match:  # (``finditer`` costs more, and nearly always finds none)
                found.append(match.start())
                match = literal.search(data, match.end(), end)
    return found


def _places(data: bytes, byte: int) -> list[int]:
    """Where ``byte`` is in ``data``."""
    found = []
    at = data.find(byte)
    while at >= 0:
        found.append(at)
        at = data.find(byte, at + 1)
    return found


def _rare(data: bytes) -> int:
    found = Flag.EMAIL if b"@" in data else 0
    if b"<" in data or b"|" in data:
        found |= Flag.ANGLE
    if b"\x7f" in data:
        found |= Flag.CONTROL
    return found
