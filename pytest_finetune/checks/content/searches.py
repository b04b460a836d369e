"""The searches of the FT4xx checks, run on the texts of the records the screen flagged."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pytest_finetune.formats import Format, Record

# C0 controls other than tab, newline and carriage return; DEL; C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: The ASCII half of CONTROL, as bytes (the other half: C1_BYTES).
C0_CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL_NAMES = {
    0: "NUL",
    7: "BEL",
    8: "BACKSPACE",
    11: "VERTICAL TAB",
    12: "FORM FEED",
    27: "ESCAPE",
    127: "DELETE",
}

# UTF-8 bytes that were decoded as Windows-1252 (or Latin-1) show up as a lead
# character (Ã, â, å, ... : U+00C2-U+00F4, as many continuations as the byte it stands
# for announces) followed by continuation characters: Latin-1 0x80-0xBF or what
# Windows-1252 makes of 0x80-0x9F (the euro sign, curly quotes, dashes, ...).
_CP1252_HIGH = bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore")
REPLACEMENT = "\ufffd"


def _utf8(chars: str) -> bytes:
    """A bytes pattern for any one of ``chars``, as UTF-8 writes it.

    Characters whose bytes differ only in the last share one branch with a class of
    last bytes: ``re`` tries branches one by one, and classes at once.
    """
    lasts: dict[bytes, list[int]] = {}
    for char in chars:
        encoded = char.encode()
        lasts.setdefault(encoded[:-1], []).append(encoded[-1])
    branches = [
        re.escape(start) + b"[" + b"".join(b"\\x%02x" % last for last in sorted(ends)) + b"]"
        for start, ends in lasts.items()
    ]
    return b"(?:" + b"|".join(branches) + b")"


# The search, over a text's UTF-8 bytes (UTF-8 writes each character as the same
# bytes, and 0xC3 only ever starts a character): the lead characters U+00C2-U+00F4 are
# all 0xC3 in UTF-8, a literal that ``re`` skips to as fast as ``bytes.find``, so text
# with no garbling costs about a nanosecond a byte instead of a search character by
# character.
_CONTINUATION_BYTES = _utf8("".join(chr(code) for code in range(0x80, 0xC0)) + _CP1252_HIGH)
# The lookahead (the bytes every continuation starts with) turns the usual accented
# letter, followed by anything else, away before the branches are tried.
MOJIBAKE_BYTES = re.compile(
    b"\xc3(?=[\x82-\xb4][\xc2\xc5\xc6\xcb\xe2])(?:[\x82-\x9f]%s|[\xa0-\xaf]%s{2}|[\xb0-\xb4]%s{3})"
    % ((_CONTINUATION_BYTES,) * 3)
)
#: A C1 control (U+0080-U+009F) in UTF-8: the non-ASCII half of CONTROL.
C1_BYTES = re.compile(b"\xc2[\x80-\x9f]")
REPLACEMENT_BYTES = REPLACEMENT.encode()
#: A surrogate as ``surrogatepass`` writes it in UTF-8: the bytes of SURROGATE.
SURROGATE_BYTES = re.compile(b"\xed[\xa0-\xbf]")


def _to_bytes(chars: str) -> bytes | None:
    """The bytes a Windows-1252 or Latin-1 decoder turned into ``chars``."""
    try:
        return chars.encode("cp1252")
    except UnicodeEncodeError:
        pass
    try:
        return chars.encode("latin-1")
    except UnicodeEncodeError:
        return None


def mojibake(text: str, utf8: bytes | None = None) -> Iterator[tuple[int, int, str]]:
    """Spans of ``text`` that are UTF-8 decoded with the wrong encoding, and what they say.

    Yields ``(start, end, description)``. A span counts only if its characters, encoded
    back, are valid UTF-8: accented capitals followed by a quote are left alone.
    Searched in the text's UTF-8 (``utf8``: ``text.encode("utf-8", "surrogatepass")``,
    if the caller has it), where :data:`MOJIBAKE_BYTES` skips to each 0xC3 at C speed:
    a search of the characters tries a class at each one, 15 µs for a thousand of them.
    """
    if utf8 is None:
        utf8 = text.encode("utf-8", "surrogatepass")
    # Character offsets, from the bytes read up to each span (decoded a stretch a time).
    read = chars = 0
    for match in MOJIBAKE_BYTES.finditer(utf8):
        chars += len(utf8[read : match.start()].decode("utf-8", "surrogatepass"))
        read = match.end()
        found = match.group().decode("utf-8")
        start, chars = chars, chars + len(found)
        raw = _to_bytes(found)
        if raw is None:
            continue
        try:
            meant = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        yield start, chars, f"{found!r} is {meant!r}"
    start = text.find(REPLACEMENT)
    if start >= 0:
        yield start, start + 1, repr(REPLACEMENT)


_CODE_MARKERS = (
    "```",
    "</",
    "/>",
    "def ",
    "function",
    "=>",
    "import ",
    "#include",
    "print(",
    "return ",
    'f"',
    "f'",
    "{%",
    "\\begin",
    "\\frac",
    "};",
)
_DOUBLE_BRACE = re.compile(r"\{\{\s*[A-Za-z_][\w.-]*\s*\}\}")
# A single-brace placeholder: an identifier of three or more characters (or with an
# underscore), not after a word character, '$', '\\' or '}' (LaTeX, shell, f-strings).
_SINGLE_BRACE = re.compile(
    r"(?<![\w$\\}{])\{(?:[A-Za-z][A-Za-z0-9]{2,}|[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)\}(?!\})"
)
_ANGLE = re.compile(
    r"<(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|(?i:placeholder|insert|your|enter)\b[^<>\n]{0,40})>"
)
_BRACKET = re.compile(
    r"(?<![\w\]])\[(?:(?i:insert|your|enter|placeholder|name of)\b[^\[\]\n]{0,40}"
    r"|(?:[A-Z][\w']*\s){0,3}(?i:name|date|address|company|e-?mail|phone(?: number)?|title)"
    r")\](?!\()"
)


def placeholders(text: str) -> Iterator[str]:
    """Template placeholders left unfilled in ``text`` (``{{name}}``, ``[Your Name]``).

    Text that looks like code is searched for none: ``{{ x }}`` is a Jinja template,
    ``{name}`` an f-string, ``<T_KEY>`` a generic there.
    """
    if "{" not in text and "[" not in text and "<" not in text:
        return
    if any(marker in text for marker in _CODE_MARKERS):
        return
    for pattern in (_DOUBLE_BRACE, _SINGLE_BRACE, _ANGLE, _BRACKET):
        for match in pattern.finditer(text):
            yield match.group()


_SPECIAL_TOKEN = re.compile(r"<\|[A-Za-z_][A-Za-z0-9_]{0,40}\|>")


def special_tokens(text: str, record: Record, where: str, stop: str) -> Iterator[str]:
    """Provider special tokens written into ``text`` (``<|endoftext|>``, ``<|im_start|>``).

    The dataset's own stop sequence at the end of a completion is its convention, not
    a mistake: it is left to the stop-sequence checks.
    """
    if "<|" not in text:
        return
    for match in _SPECIAL_TOKEN.finditer(text):
        if (
            record.format is Format.PROMPT_COMPLETION
            and where == "completion"
            and match.group() == stop
            and match.end() == len(text)
        ):
            continue
        yield match.group()


def character(char: str) -> str:
    """A character as findings name it: ``U+0007 (BEL)``."""
    name = _CONTROL_NAMES.get(ord(char))
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def strings(data: dict[str, object]) -> Iterator[tuple[str, str]]:
    """Every string in a record with its path: secrets leak from any field.

    Iterative, so that JSON nested as deep as parsers allow cannot exhaust the stack.
    """
    stack: list[tuple[str, object]] = [(str(key), value) for key, value in data.items()]
    stack.reverse()
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            stack.extend(reversed([(f"{where}.{key}", item) for key, item in value.items()]))
        elif isinstance(value, list):
            stack.extend(
                reversed([(f"{where}[{index}]", item) for index, item in enumerate(value)])
            )
