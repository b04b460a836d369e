"""Streaming JSONL reader: bytes in, numbered records or syntax problems out.

The reader never holds more than one line, and never stops at the first problem: a
bad line becomes a :class:`SyntaxProblem` and reading goes on with the next. Problems
that make the rest of the file meaningless as JSONL (binary content, a JSON document
spread over many lines) are reported once and end the file.

The fast path is ``orjson.loads`` on the raw line; everything else (which kind of
problem, where exactly) is worked out only for lines that fail it.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

#: Lines longer than this are reported and skipped rather than held in memory.
DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024
#: A file this size or smaller that looks like one JSON document is parsed whole to
#: say exactly what it holds; a larger one is described from its first line.
_DOCUMENT_PROBE_BYTES = 64 * 1024 * 1024
_SNIFF_BYTES = 8192
_BOM = b"\xef\xbb\xbf"
_MAGIC = {
    b"\x1f\x8b": "gzip-compressed data (decompress it first: gunzip -k FILE)",
    b"PK\x03\x04": "a zip archive (extract the .jsonl file from it)",
    b"PAR1": "a Parquet file (export it as JSON Lines)",
    b"\xff\xfe": "UTF-16 text (re-save it as UTF-8)",
    b"\xfe\xff": "UTF-16 text (re-save it as UTF-8)",
    b"SQLite format 3\x00": "an SQLite database",
}
# Bytes that never appear in text (tab, newline, carriage return and form feed do).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0c")
_BINARY_CONTROL_SHARE = 0.1


class Problem(enum.Enum):
    """The kinds of syntax problem a reader reports; the FT0xx checks give them words."""

    EMPTY_FILE = "empty-file"
    BINARY_FILE = "binary-file"
    BOM = "bom"
    INVALID_UTF8 = "invalid-utf8"
    INVALID_JSON = "invalid-json"
    NOT_AN_OBJECT = "not-an-object"
    JSON_DOCUMENT = "json-document"
    BLANK_LINE = "blank-line"
    CRLF = "crlf"
    DUPLICATE_KEY = "duplicate-key"
    LINE_TOO_LONG = "line-too-long"
    MISSING_FINAL_NEWLINE = "missing-final-newline"


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """A line (or the file, when ``line`` is ``None``) that is not a JSONL record."""

    kind: Problem
    line: int | None
    detail: str = ""
    column: int | None = None


#: A line that holds one JSON object: ``(line number, raw bytes, parsed object)``. A
#: plain tuple, not a class: one is made per line, and tuples are the cheapest.
ParsedLine = tuple[int, bytes, dict[str, Any]]


class Reader:
    """Read one JSONL file as a stream of :data:`ParsedLine` and :class:`SyntaxProblem`.

    After iteration, ``lines`` and ``size`` say how much was read.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        duplicate_keys: bool = True,
    ) -> None:
        self.path = path
        self.max_line_bytes = max_line_bytes
        #: Whether to look for duplicate keys: it costs about as much as parsing.
        self.duplicate_keys = duplicate_keys
        self.lines = 0
        self.size = 0
        self._last = b""

    def __iter__(self) -> Iterator[ParsedLine | SyntaxProblem]:
        with self.path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
            self.size = len(head)
            stop = _sniff(head)
            if stop is not None:
                yield stop
                return
            stream.seek(0)
            self.size = 0
            if (yield from self._until_content(stream)):
                yield from self._rest(stream)

    def _until_content(self, stream: BinaryIO) -> Generator[ParsedLine | SyntaxProblem, None, bool]:
        """The lines up to the first with content; whether there is more to read.

        Blank lines before any content are held back: a file of nothing but blank lines
        is one "empty file" finding, not one finding per line. A first line that does
        not parse on its own may open a JSON document spread over many lines.
        """
        pending: list[ParsedLine | SyntaxProblem] = []
        while raw := stream.readline(self.max_line_bytes + 1):
            self.lines += 1
            events = self._line(stream, raw)
            if all(_blank(event) for event in events):
                pending.extend(events)
                continue
            for event in events:
                if isinstance(event, SyntaxProblem) and event.kind is Problem.INVALID_JSON:
                    document = _describe_document(self.path, event)
                    if document is not None:
                        yield document
                        return False
                if isinstance(event, SyntaxProblem) and event.kind is Problem.JSON_DOCUMENT:
                    yield event
                    return False
            yield from pending
            yield from events
            return True
        yield SyntaxProblem(Problem.EMPTY_FILE, None, "only whitespace" if self.lines else "")
        return False

    def _rest(self, stream: BinaryIO) -> Iterator[ParsedLine | SyntaxProblem]:
        """The lines after the first with content: the hot loop of the lint.

        A line that is one object with no duplicate key takes the fast path; anything
        else (CRLF, a line too long, bad JSON or UTF-8) is worked out by :meth:`_line`.
        """
        loads = orjson.loads
        limit = self.max_line_bytes
        duplicate_keys = self.duplicate_keys
        last = self._last
        number = self.lines
        size = self.size
        while raw := stream.readline(limit + 1):
            last = raw
            number += 1
            if raw[-2:-1] != b"\r" and len(raw) <= limit:
                try:
                    data = loads(raw)
                except orjson.JSONDecodeError:
                    data = None
                if type(data) is dict and not (
                    duplicate_keys and _may_have_duplicate_key(raw, data)
                ):
                    size += len(raw)
                    yield number, raw, data
                    continue
            self.lines, self.size = number, size
            yield from self._line(stream, raw)
            size = self.size
        self.lines, self.size = number, size
        if not last.endswith(b"\n"):
            yield SyntaxProblem(Problem.MISSING_FINAL_NEWLINE, number)

    def _line(self, stream: BinaryIO, raw: bytes) -> list[ParsedLine | SyntaxProblem]:
        """Everything about line number ``self.lines``, the slow and thorough way."""
        number = self.lines
        start = self.size
        self.size += len(raw)
        self._last = raw
        events: list[ParsedLine | SyntaxProblem] = []
        limit = self.max_line_bytes
        if number == 1 and raw.startswith(_BOM):
            events.append(SyntaxProblem(Problem.BOM, 1))
            raw = raw[len(_BOM) :]
        if len(raw) > limit and not raw.endswith(b"\n"):
            self.size += _skip_rest_of_line(stream, limit)
            detail = f"over {limit:,} bytes; not read"
            return [*events, SyntaxProblem(Problem.LINE_TOO_LONG, number, detail)]
        if raw.endswith(b"\r\n"):
            events.append(SyntaxProblem(Problem.CRLF, number))
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            problem = _diagnose(raw, error, number, start)
            if problem is not None:
                return [*events, problem]
            data = json.loads(raw)  # valid JSON that orjson is stricter about
        if type(data) is not dict:
            if number == 1 and isinstance(data, list) and data and isinstance(data[0], dict):
                detail = f"a JSON array of {len(data):,} objects on one line"
                return [*events, SyntaxProblem(Problem.JSON_DOCUMENT, None, detail)]
            return [*events, SyntaxProblem(Problem.NOT_AN_OBJECT, number, _json_type(data))]
        duplicate = _duplicate_key(raw, data) if self.duplicate_keys else None
        if duplicate is not None:
            events.append(SyntaxProblem(Problem.DUPLICATE_KEY, number, duplicate))
        events.append((number, raw, data))
        return events


def read_head(path: Path, *, records: int, max_bytes: int) -> list[dict[str, Any]]:
    """The first ``records`` objects of a file, reading at most about ``max_bytes``."""
    head: list[dict[str, Any]] = []
    reader = Reader(path, max_line_bytes=max_bytes)
    for item in reader:
        if isinstance(item, SyntaxProblem):
            if item.line is None:  # a problem that ends the file
                break
            continue
        head.append(item[2])
        if len(head) >= records:
            break
    return head


def _blank(event: ParsedLine | SyntaxProblem) -> bool:
    """Whether an event of a line says nothing yet about content (blank, BOM, CRLF)."""
    return isinstance(event, SyntaxProblem) and event.kind in (
        Problem.BLANK_LINE,
        Problem.BOM,
        Problem.CRLF,
    )


def _sniff(head: bytes) -> SyntaxProblem | None:
    """The problem that makes the whole file unreadable as text, if any."""
    if not head:
        return SyntaxProblem(Problem.EMPTY_FILE, None)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            return SyntaxProblem(Problem.BINARY_FILE, None, what)
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > _BINARY_CONTROL_SHARE * len(head):
        return SyntaxProblem(
            Problem.BINARY_FILE, None, f"{controls} control bytes in its first {len(head)}"
        )
    return None


def _skip_rest_of_line(stream: BinaryIO, chunk: int) -> int:
    skipped = 0
    while piece := stream.readline(chunk):
        skipped += len(piece)
        if piece.endswith(b"\n"):
            break
    return skipped


def _diagnose(
    raw: bytes, error: orjson.JSONDecodeError, number: int, offset: int
) -> SyntaxProblem | None:
    """Say what is wrong with a line orjson refused; ``None`` if it is valid JSON."""
    if not raw.strip():
        return SyntaxProblem(Problem.BLANK_LINE, number)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        column = len(raw[: bad.start].decode("utf-8", "replace")) + 1
        byte = raw[bad.start : bad.start + 1]
        return SyntaxProblem(
            Problem.INVALID_UTF8,
            number,
            f"byte {byte!r} at file offset {offset + bad.start:,}",
            column,
        )
    if "surrogate" in error.msg:
        # orjson refuses "\ud800"-style escapes that the JSON grammar allows; they
        # parse, and the content checks report the lone surrogate itself.
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            pass
        else:
            return None
    column = error.colno
    nul = text.find("\x00")
    if nul >= 0 and nul + 1 <= column:
        return SyntaxProblem(Problem.INVALID_JSON, number, "a NUL byte", nul + 1)
    return SyntaxProblem(Problem.INVALID_JSON, number, error.msg, column)


def _describe_document(path: Path, first: SyntaxProblem) -> SyntaxProblem | None:
    """The file-level problem for a JSON document (array or pretty-printed) in a .jsonl.

    Called when the first line with content does not parse on its own; ``None`` when
    the file is JSON Lines whose first line is simply broken.
    """
    if path.stat().st_size <= _DOCUMENT_PROBE_BYTES:
        try:
            values = _decode_stream(path.read_text("utf-8-sig"))
        except (ValueError, RecursionError):
            values = None
        if values is not None:
            if len(values) == 1 and isinstance(values[0], list):
                detail = f"a JSON array of {len(values[0]):,} items spread over many lines"
            else:
                detail = f"{len(values):,} pretty-printed JSON value(s) spread over many lines"
            return SyntaxProblem(Problem.JSON_DOCUMENT, None, detail)
    with path.open("rb") as stream:
        for _ in range(first.line or 1):
            opening = stream.readline(_SNIFF_BYTES).strip().removeprefix(_BOM)
    if opening in (b"[", b"{", b"[{") or (
        opening.startswith(b"[") and "end of data" in first.detail
    ):
        return SyntaxProblem(
            Problem.JSON_DOCUMENT,
            None,
            f"line {first.line} opens a JSON value that does not close on the same line; "
            "it looks like JSON spread over many lines",
        )
    return None


_WHITESPACE = re.compile(r"\s*")


def _decode_stream(text: str) -> list[Any]:
    """Every JSON value in ``text``, one after another (raises ValueError if any is bad)."""
    decoder = json.JSONDecoder()
    values = []
    position = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    while position < len(text):
        value, position = decoder.raw_decode(text, position)
        values.append(value)
        position = _WHITESPACE.match(text, position).end()  # type: ignore[union-attr]
    return values


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _may_have_duplicate_key(raw: bytes, data: dict[str, Any]) -> bool:
    """Whether a parsed line might have lost a duplicate key (``False``: it has not).

    orjson drops a repeated key silently, so the parsed object is then shorter than
    the line. Two proofs that nothing was dropped cost one serialisation in C: the line
    is exactly the compact JSON of the object (orjson, serde, JavaScript writers), or
    it is ASCII in Python's default style (``", "`` and ``": "``) and exactly that
    much longer, one byte per key and comma, with no float whose text could be
    shorter. Other lines fall back to counting colons.
    """
    try:
        compact = orjson.dumps(data)
    except TypeError:  # what orjson cannot write (lone surrogates, deep nesting)
        compact = None
    extra = -1
    if compact is not None:
        extra = len(raw) - len(compact) - (raw[-1:] == b"\n") - raw.endswith(b"\r\n")
    if extra == 0:
        return raw.rstrip(b"\r\n") != compact
    if extra > 0 and raw.isascii():
        first = raw.find(b'":')
        if first > 0 and raw[first + 2 : first + 3] == b" ":
            try:
                if extra == _separators(data):
                    return False
            except RecursionError:
                pass
    colons = raw.count(b":")
    if colons == len(data):
        return False
    try:
        return colons != _colons(data)
    except RecursionError:  # nesting deeper than Python's stack; orjson allows 1024
        return True


def _separators(value: Any) -> int:
    """Keys plus commas over a parsed value: the spaces Python's default style adds.

    ``-1`` if it holds a float, whose text in the line may be shorter than orjson's
    (``1e5`` against ``100000.0``) and so hide a dropped key.
    """
    is_dict = type(value) is dict
    count = 2 * len(value) - 1 if is_dict else len(value) - 1
    for item in value.values() if is_dict else value:
        kind = type(item)
        if kind is str:
            continue
        if kind is dict or kind is list:
            inner = _separators(item)
            if inner < 0:
                return -1
            count += inner
        elif kind is float:
            return -1
    return max(count, 0)


def _colons(value: object) -> int:
    """Keys plus colons inside strings, over a parsed JSON value."""
    kind = type(value)
    if kind is str:
        return value.count(":")  # type: ignore[attr-defined, no-any-return]
    total = 0
    if kind is dict:
        total = len(value)  # type: ignore[arg-type]
        for key, item in value.items():  # type: ignore[attr-defined]
            if ":" in key:
                total += key.count(":")
            kind = type(item)
            if kind is str:
                total += item.count(":")
            elif kind is dict or kind is list:
                total += _colons(item)
    elif kind is list:
        for item in value:  # type: ignore[attr-defined]
            kind = type(item)
            if kind is str:
                total += item.count(":")
            elif kind is dict or kind is list:
                total += _colons(item)
    return total


def _duplicate_key(raw: bytes, data: dict[str, Any]) -> str | None:
    """The first key that appears twice in one object of the line, if any.

    orjson keeps the last value silently; the line is parsed again keeping pairs, but
    only when the cheap screen says a key may be missing.
    """
    if not _may_have_duplicate_key(raw, data):
        return None
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in items]
        if not found and len(set(keys)) != len(keys):
            found.append(next(key for key in keys if keys.count(key) > 1))
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None
    return found[0] if found else None
