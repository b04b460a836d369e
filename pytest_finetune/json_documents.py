"""A JSON document read as examples, element by element: what a ``.json`` dataset holds.

LLaMA-Factory's and Alpaca's data is a JSON array of examples, not JSON Lines.
:class:`~pytest_finetune.reader.Reader` reads such a file through :class:`Document`,
which yields what it yields for JSON Lines, each element numbered by the line it starts
on, and holds one element and a chunk of the file, never the whole array.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, Protocol

from pytest_finetune.duplicate_keys import duplicate_key
from pytest_finetune.syntax_problems import ParsedLine, Problem, SyntaxProblem, json_type


class Reading(Protocol):
    """What a document reads of its reader, and tells it (see ``reader.Reader``)."""

    #: Elements longer than this are reported and not read.
    max_line_bytes: int
    #: Whether to look for duplicate keys.
    duplicate_keys: bool
    #: How many lines and bytes were read, set when reading ends.
    lines: int
    size: int


#: How much of a JSON document is read at a time; an element longer than this is read
#: in as many chunks as it takes (up to the reader's ``max_line_bytes``).
_CHUNK_BYTES = 1 << 20
_SPACE = re.compile(r"[ \t\n\r]*")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json takes NaN and Infinity


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


class _DocumentEnd(Exception):
    """The rest of a JSON document cannot be read: the problem that says why."""

    def __init__(self, problem: SyntaxProblem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


class Document:
    """A JSON document read as examples: an array's elements, or values one after another.

    Yields what :class:`Reader` yields for JSON Lines, each element numbered by the line
    it starts on; the syntax problems of JSON Lines that are whitespace in a document
    (blank lines, CRLF, a missing final newline) are none here. Memory is a chunk of the
    file and the element being read: the text before it is dropped as reading goes on.
    A problem after which the document cannot be followed (invalid JSON or UTF-8, an
    element over ``max_line_bytes``) ends it.
    """

    def __init__(self, reader: Reading, stream: BinaryIO) -> None:
        self.reader = reader
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        #: The position in ``text`` reading has reached, and its line number.
        self.position = 0
        self.line = 1
        #: Characters of the line ``text`` starts in that were dropped before it (the
        #: text is dropped mid-line: a minified array is one line).
        self.dropped = 0
        #: Bytes of the file decoded into ``text`` so far (the reader's ``size``).
        self.read = 0
        self.eof = False
        #: How many times the text was read on (and its start dropped).
        self.fills = 0
        #: Why the text ended before the file did (bytes that are not UTF-8), if it did.
        self.broken: SyntaxProblem | None = None

    def __iter__(self) -> Iterator[ParsedLine | SyntaxProblem]:
        reader = self.reader
        try:
            self._fill()
            if self.text.startswith("\ufeff"):
                yield SyntaxProblem(Problem.BOM, 1)
                self.position = 1
            self._skip()
            if self.position >= len(self.text) and self.broken is None:
                yield SyntaxProblem(Problem.EMPTY_FILE, None, "only whitespace")
                return
            if self.text.startswith("[", self.position):
                yield from self._array()
            else:
                while self.position < len(self.text):
                    yield from self._element()
                    self._skip()
            if self.broken is not None:
                yield self.broken
        except _DocumentEnd as end:
            yield end.problem
        finally:
            reader.size = self.read
            # As JSON Lines counts them: a last line without its newline counts too.
            newlines = self.line - 1 + self.text.count("\n", self.position)
            reader.lines = newlines + (self.text[-1:] not in ("\n", ""))

    def _array(self) -> Iterator[ParsedLine | SyntaxProblem]:
        self._advance(self.position + 1)
        self._skip()
        if self.text.startswith("]", self.position):
            self._advance(self.position + 1)
            self._after_the_array()
            yield SyntaxProblem(Problem.EMPTY_FILE, None, "an empty JSON array")
            return
        while True:
            yield from self._element()
            self._skip()
            if self.text.startswith(",", self.position):
                comma, line, fills = self.position, self.line, self.fills
                self._advance(comma + 1)
                self._skip()
                if self.text.startswith("]", self.position):
                    # Its column is known while the comma is still in the text.
                    column = self._column(comma) if self.fills == fills else None
                    detail = "a comma before the closing ']' (JSON has no trailing commas)"
                    raise _DocumentEnd(SyntaxProblem(Problem.INVALID_JSON, line, detail, column))
            elif self.text.startswith("]", self.position):
                self._advance(self.position + 1)
                self._after_the_array()
                return
            else:
                self._fail("expected ',' or ']' after an element of the array")

    def _element(self) -> Iterator[ParsedLine | SyntaxProblem]:
        """The value at ``position``, as an example or a problem; ``position`` after it."""
        start, line = self.position, self.line
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, start)
                break
            except json.JSONDecodeError as error:
                near_end = error.pos >= len(self.text) - 8 or "Unterminated" in error.msg
                if self.eof or not near_end:
                    self._fail(error.msg, error.pos)
            except ValueError as error:  # NaN or Infinity
                self._fail(str(error))
            except RecursionError:
                self._fail("nested too deeply to read")
            if len(self.text) - start > self.reader.max_line_bytes:
                raise _DocumentEnd(
                    SyntaxProblem(
                        Problem.LINE_TOO_LONG,
                        line,
                        f"an element over {self.reader.max_line_bytes:,} bytes; not read",
                    )
                )
            self._fill(keep=start)
            start = self.position
        raw = self.text[start:end].encode("utf-8", "surrogatepass")
        self._advance(end)
        if len(raw) > self.reader.max_line_bytes:
            detail = f"an element over {self.reader.max_line_bytes:,} bytes; not read"
            yield SyntaxProblem(Problem.LINE_TOO_LONG, line, detail)
            return
        if type(value) is not dict:
            yield SyntaxProblem(Problem.NOT_AN_OBJECT, line, json_type(value))
            return
        if self.reader.duplicate_keys:
            duplicate = duplicate_key(raw, value)
            if duplicate is not None:
                yield SyntaxProblem(Problem.DUPLICATE_KEY, line, duplicate)
        yield line, raw, value

    def _after_the_array(self) -> None:
        self._skip()
        if self.position < len(self.text):
            self._fail("more data after the array's closing ']'")

    def _skip(self) -> None:
        """Move past whitespace, reading on while there is only whitespace left."""
        while True:
            self._advance(_SPACE.match(self.text, self.position).end())  # type: ignore[union-attr]
            if self.position < len(self.text) or self.eof:
                return
            self._fill()

    def _advance(self, position: int) -> None:
        self.line += self.text.count("\n", self.position, position)
        self.position = position

    def _fill(self, keep: int | None = None) -> None:
        """Read the next chunk, dropping the text before ``keep`` (default: ``position``)."""
        keep = self.position if keep is None else keep
        self.fills += 1
        newline = self.text.rfind("\n", 0, keep)
        self.dropped = keep - newline - 1 if newline >= 0 else self.dropped + keep
        self.text = self.text[keep:]
        self.position -= keep
        chunk = self.stream.read(_CHUNK_BYTES)
        self.eof = not chunk
        try:
            self.text += self.decoder.decode(chunk, final=self.eof)
        except UnicodeDecodeError as bad:
            # The text ends before the bad byte: the elements before it are read, and
            # the document ends with this problem where the text runs out.
            start = max(bad.start, 0)
            line = self.line + self.text.count("\n", self.position)
            line += chunk[:start].count(b"\n")
            byte = chunk[start : start + 1]
            detail = f"byte {byte!r} at file offset {self.read + start:,}"
            self.broken = SyntaxProblem(Problem.INVALID_UTF8, line, detail)
            self.text += chunk[:start].decode("utf-8", "replace")
            self.eof = True
            chunk = chunk[:start]
        self.read += len(chunk)

    def _fail(self, message: str, position: int | None = None) -> None:
        """End the document with invalid JSON at ``position`` (default: ``position``)."""
        if self.broken is not None:  # the text ended early, at bytes that are not UTF-8
            raise _DocumentEnd(self.broken)
        line, column = self._where(self.position if position is None else position)
        raise _DocumentEnd(SyntaxProblem(Problem.INVALID_JSON, line, message, column))

    def _where(self, at: int) -> tuple[int, int]:
        """The line and column of ``text[at]``, at or after ``position``."""
        return self.line + self.text.count("\n", self.position, at), self._column(at)

    def _column(self, at: int) -> int:
        """The 1-based column of ``text[at]``."""
        newline = self.text.rfind("\n", 0, at)
        return at - newline if newline >= 0 else self.dropped + at + 1
