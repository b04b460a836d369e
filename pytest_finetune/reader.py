"""Streaming JSONL reader: bytes in, numbered records or syntax problems out.

The reader never holds more than one line, and never stops at the first problem: a
bad line becomes a :class:`SyntaxProblem` and reading goes on with the next. Problems
that make the rest of the file meaningless as JSONL (binary content, a JSON document
spread over many lines) are reported once and end the file.

The fast path is ``orjson.loads`` on the raw line; everything else (which kind of
problem, where exactly) is worked out only for lines that fail it.

A ``.json`` file holding a JSON array (as LLaMA-Factory's and Alpaca's data) is read
element by element instead, each numbered by the line it starts on: the reader then
holds one element and a chunk of the file, never the whole array (see
:mod:`pytest_finetune.json_documents`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any, BinaryIO, cast

import orjson

from pytest_finetune import extensions, runs
from pytest_finetune.duplicate_keys import duplicate_key
from pytest_finetune.json_documents import Document
from pytest_finetune.runs import PLAIN_NONE, Run
from pytest_finetune.syntax_problems import ParsedLine, Problem, SyntaxProblem, json_type

# What the reader yields is part of its interface: the modules that read files import
# the problem types from here.
__all__ = [
    "DEFAULT_MAX_LINE_BYTES",
    "WHOLE",
    "ParsedLine",
    "Problem",
    "Reader",
    "Run",
    "Span",
    "SyntaxProblem",
    "holds_examples",
    "opens_document",
    "read_head",
]

#: Lines longer than this are reported and skipped rather than held in memory.
DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024
#: A file this size or smaller that looks like one JSON document is parsed whole to
#: say exactly what it holds; a larger one is described from its first line.
_DOCUMENT_PROBE_BYTES = 64 * 1024 * 1024
_SNIFF_BYTES = 8192
#: Bytes read at a time past the file's first line with content (see ``runs``).
_BLOCK_BYTES = 128 * 1024
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


@dataclass(frozen=True, slots=True)
class Span:
    """A byte range of a JSON Lines file that starts and ends at line boundaries.

    ``first_line`` is the number of the line at ``start``; ``end`` is ``None`` to read
    to the end of the file. Ranges of one file are read in parallel and their checks'
    states merged (see :mod:`pytest_finetune.chunks`).
    """

    start: int
    end: int | None
    first_line: int

    @property
    def first(self) -> bool:
        """Whether the range starts the file (file-level problems are its own)."""
        return self.start == 0


#: The whole file.
WHOLE = Span(0, None, 1)


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
        document: bool | None = None,
        span: Span = WHOLE,
    ) -> None:
        self.path = path
        #: The part of the file to read (a JSON document is always read whole).
        self.span = span
        self.max_line_bytes = max_line_bytes
        #: Whether to look for duplicate keys: it costs about as much as parsing.
        self.duplicate_keys = duplicate_keys
        #: Whether to read the file as JSON documents (an array of examples, or values
        #: one after another) rather than JSON Lines; ``None``: a ``.json`` file whose
        #: content opens an array is read so, and any other file as JSON Lines.
        self.document = document
        self.lines = span.first_line - 1
        self.size = span.start
        #: Whether reading stopped before the end of the span: a problem that ends the
        #: file (binary content, a JSON document), after which later spans mean nothing.
        self.stopped = False
        self._last = b""
        self._stream: BinaryIO | None = None

    def position(self) -> int:
        """How far into the file reading is, in bytes (for a progress line)."""
        stream = self._stream
        return stream.tell() if stream is not None and not stream.closed else self.size

    def __iter__(self) -> Iterator[ParsedLine | SyntaxProblem]:
        for item in self._read():
            if type(item) is not Run:
                yield item  # type: ignore[misc]
            elif item.crlf:
                yield from runs.records_of(item)
            else:
                yield from zip(count(item.first_line), item.raws, item.datas)

    def runs(self, *, lazy: int = PLAIN_NONE) -> Iterator[Run | SyntaxProblem]:
        """What iterating yields, with the records in runs of lines in a row.

        Most records come in long runs, read in one go; a record worked out the slow
        way (the file's first, one after a problem, one of a JSON document) is a run
        of its own. A line that ends with CRLF is said by its run (:attr:`Run.crlf`),
        where iterating yields a problem before the record. ``lazy``: the plain lines that
        may be left unparsed (``runs.PLAIN_PROMPT_COMPLETION``, ``runs.PLAIN_CHAT``:
        :attr:`Run.unparsed`).
        """
        for item in self._read(lazy=lazy):
            if type(item) is tuple:
                line, raw, data = cast("ParsedLine", item)
                yield Run(line, [raw], [data], [], [])
            else:
                yield item  # type: ignore[misc]

    def _read(self, *, lazy: int = PLAIN_NONE) -> Iterator[Run | ParsedLine | SyntaxProblem]:
        with self.path.open("rb") as stream:
            self._stream = stream
            if not self.span.first:
                # A later part of a JSON Lines file: the first part reads the file's
                # start (its byte order mark, its first content) and sniffs it.
                stream.seek(self.span.start)
                yield from self._rest(stream, lazy=lazy)
                return
            head = stream.read(_SNIFF_BYTES)
            self.size = len(head)
            stop = _sniff(head)
            if stop is not None:
                self.stopped = True
                yield stop
                return
            stream.seek(0)
            self.size = 0
            document = self.document
            if document is None:
                document = self.path.suffix.lower() == ".json" and _opening(head) == b"["
                self.document = document
            if document:
                yield from Document(self, stream)
            elif (yield from self._until_content(stream)):
                yield from self._rest(stream, lazy=lazy)
            else:
                self.stopped = True

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

    def _rest(
        self, stream: BinaryIO, *, lazy: int = PLAIN_NONE
    ) -> Iterator[Run | ParsedLine | SyntaxProblem]:
        """The lines after the first with content: the hot loop of the lint.

        The file is read a block at a time, and the lines that are one object each are
        parsed in one go (:func:`runs.read_run`), then looked at for duplicate keys; any
        other line (too long, bad JSON or UTF-8) is worked out by :meth:`_line`.
        """
        read_run = extensions.read_run or runs.read_run
        # (Only the C one leaves lines unparsed.)
        unparsed = lazy if read_run is extensions.read_run else PLAIN_NONE
        limit = self.max_line_bytes
        number, size, last = self.lines, self.size, self._last
        # Spans end at a line boundary: the span is read when ``size`` reaches its end.
        end = self.span.end
        # The bytes read and not yet taken are ``buffer[at:]``, from ``size`` in the file.
        buffer, at = b"", 0
        while True:
            pending = len(buffer) - at
            # A line longer than a block is read as much again each time: linear.
            want = max(_BLOCK_BYTES, min(pending, limit + 1 - pending))
            if end is not None:
                want = min(want, end - size - pending)
            block = stream.read(want) if want > 0 else b""
            final = not block  # the span's last bytes are in the buffer
            buffer, at = buffer[at:] + block, 0
            while at < len(buffer):
                raws, datas, new_keys, crlf, stop = read_run(
                    buffer, at, limit, final, orjson.loads, orjson.JSONDecodeError, unparsed
                )
                if raws:
                    run = Run(number + 1, raws, datas, new_keys, crlf, unparsed)
                    if self.duplicate_keys:
                        yield from runs.with_duplicate_keys(run)
                    else:
                        yield run
                    number += len(raws)
                    size += stop - at
                    last = raws[-1]
                    at = stop
                newline = buffer.find(b"\n", at)
                if at == len(buffer) or (not final and newline < 0 and len(buffer) - at <= limit):
                    break  # the rest of a line that the next block holds
                # A line that the fast path did not take, worked out the slow way: taken
                # from the buffer as ``readline(limit + 1)`` reads it, with no seek, but
                # for the rest of a line too long, which ``_line`` skips in the file.
                end_of_line = newline + 1 if newline >= 0 else len(buffer)
                raw = buffer[at : min(end_of_line, at + limit + 1)]
                buffer_end = size - at + len(buffer)
                skips = len(raw) > limit and not raw.endswith(b"\n")
                if skips:
                    stream.seek(size + len(raw))
                self.lines, self.size = number + 1, size
                yield from self._line(stream, raw)
                number, size, last = self.lines, self.size, self._last
                if size <= buffer_end:  # the line ended inside the buffer: on from there
                    at = len(buffer) - (buffer_end - size)
                    if skips:
                        stream.seek(buffer_end)
                else:  # the line went on past the buffer: read on from its end
                    buffer, at = b"", 0
            if final:
                break
        self.lines, self.size = number, size
        if (end is None or size < end) and last and not last.endswith(b"\n"):
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
            skipped, end = _skip_rest_of_line(stream, limit)
            self.size += skipped
            self._last = end or raw  # how the line ends, for the file's final newline
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
            return [*events, SyntaxProblem(Problem.NOT_AN_OBJECT, number, json_type(data))]
        duplicate = duplicate_key(raw, data) if self.duplicate_keys else None
        if duplicate is not None:
            events.append(SyntaxProblem(Problem.DUPLICATE_KEY, number, duplicate))
        events.append((number, raw, data))
        return events


def holds_examples(path: Path, *, one_object: bool = False) -> bool:
    """Whether a file starts as a dataset: JSON objects one a line, or ``[`` then ``{``.

    Cheap (one read of the file's start): it decides whether a ``.json`` file is a
    dataset (``package.json``, ``tsconfig.json`` and LLaMA-Factory's
    ``dataset_info.json`` hold one object, not examples) and whether a file named on
    the command line that no ``include`` glob matches is one (``one_object``: a line
    holding one object is a dataset of one example).
    """
    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except OSError:
        return False
    if _sniff(head) is not None:
        return False
    text = head.removeprefix(_BOM).lstrip()
    if text.startswith(b"["):
        return text[1:].lstrip().startswith(b"{")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or (len(lines) == 1 and len(text) >= _SNIFF_BYTES - len(_BOM)):
        return False  # nothing, or one line longer than what was read
    try:
        first = orjson.loads(lines[0])
    except orjson.JSONDecodeError:
        return False
    # One object alone on one line is a minified document (a package.json), not a
    # dataset of one, unless ``one_object`` says that it may be one.
    more = len(lines) > 1 and lines[1].lstrip().startswith(b"{")
    return type(first) is dict and (more or (one_object and len(lines) == 1))


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


def opens_document(path: Path) -> bool:
    """Whether :class:`Reader` reads ``path`` as a JSON document: a ``.json`` array."""
    if path.suffix.lower() != ".json":
        return False
    with path.open("rb") as stream:
        return _opening(stream.read(_SNIFF_BYTES)) == b"["


def _opening(head: bytes) -> bytes:
    """The first byte of content, after a byte order mark and whitespace."""
    return head.removeprefix(_BOM).lstrip()[:1]


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


def _skip_rest_of_line(stream: BinaryIO, chunk: int) -> tuple[int, bytes]:
    """Read to the end of the line: the bytes skipped, and the last piece read."""
    skipped, end = 0, b""
    while piece := stream.readline(chunk):
        skipped += len(piece)
        end = piece
        if piece.endswith(b"\n"):
            break
    return skipped, end


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
