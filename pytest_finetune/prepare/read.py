"""Reading the data to prepare: JSON Lines, JSON documents, CSV and TSV, as examples.

JSON Lines go through the linter's own reader, so that prepare and the checks agree on
what a line holds. What the reader reports and prepare can repair (a byte order mark,
CRLF endings, blank lines, a missing final newline) is noted for the summary; what it
cannot (a line that is not JSON, bytes that are not UTF-8) stops prepare with the
linter's own findings, since dropping such a line would lose an example silently.

A JSON array or pretty-printed JSON (the reader's FT006) and CSV or TSV files with
``prompt`` and ``completion`` columns are converted, as the legacy tool did.
"""

from __future__ import annotations

import csv
import enum
import errno
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pytest_finetune.checks import REGISTRY
from pytest_finetune.findings import plural
from pytest_finetune.reader import Problem, Reader, SyntaxProblem

#: Syntax problems that writing JSON Lines repairs; any other stops prepare.
REPAIRED = frozenset({Problem.BOM, Problem.CRLF, Problem.BLANK_LINE, Problem.MISSING_FINAL_NEWLINE})
#: Problems listed when prepare refuses a file; the rest are counted.
SHOWN_PROBLEMS = 20
_TABLES = {".csv": ",", ".tsv": "\t"}
_SPREADSHEETS = (".xlsx", ".xls", ".ods", ".parquet")
_WHITESPACE = re.compile(r"\s*")


class SourceKind(str, enum.Enum):
    """What the input file is."""

    JSONL = "JSON Lines"
    JSON = "JSON"
    CSV = "CSV"
    TSV = "TSV"

    def __str__(self) -> str:
        return self.value


@dataclass
class Example:
    """One example of the input: where it starts (a 1-based line) and its data."""

    line: int
    data: dict[str, Any]


@dataclass
class Source:
    """An input file read whole: its examples, and what writing it as JSON Lines repairs."""

    path: Path
    kind: SourceKind
    examples: list[Example]
    #: Syntax problems found and repaired by writing JSON Lines: kind -> lines.
    repaired: dict[Problem, list[int]] = field(default_factory=dict)


class PrepareError(Exception):
    """A reason prepare cannot go on, worded for the user, with the lines it is about."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


def read(path: Path, display: str) -> Source:
    """Read ``path`` (shown as ``display`` in messages) into examples, or raise PrepareError."""
    try:
        path.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise PrepareError(
                f"{display} is a symlink loop: it cannot be resolved to a file; point the "
                "link at the data"
            ) from None
    if path.is_dir():
        raise PrepareError(f"{display} is a folder; prepare takes one file")
    if not path.exists():
        raise PrepareError(f"{display}: no such file")
    if not path.is_file():  # not opened: reading a pipe would wait for a writer forever
        raise PrepareError(
            f"{display}: not a regular file (a pipe or a device); prepare a dataset file"
        )
    suffix = path.suffix.lower()
    if suffix in _SPREADSHEETS:
        raise PrepareError(
            f"{display}: {suffix} files are not read; export the sheet as CSV (UTF-8) "
            "with prompt and completion columns, and prepare that"
        )
    try:
        if suffix in _TABLES:
            kind = SourceKind.CSV if suffix == ".csv" else SourceKind.TSV
            return _read_table(path, display, kind, _TABLES[suffix])
        return _read_json_lines(path, display)
    except OSError as error:
        raise PrepareError(f"{display}: cannot read it: {error.strerror or error}") from None


def _read_json_lines(path: Path, display: str) -> Source:
    examples: list[Example] = []
    repaired: dict[Problem, list[int]] = {}
    fatal: list[SyntaxProblem] = []
    for item in Reader(path):
        if type(item) is tuple:
            line, _raw, data = item
            examples.append(Example(line, data))
            continue
        problem = cast(SyntaxProblem, item)
        if problem.kind is Problem.JSON_DOCUMENT:
            return _read_document(path, display)
        if problem.kind is Problem.EMPTY_FILE:
            raise PrepareError(f"{display}: the file is empty; there is nothing to prepare")
        if problem.kind in REPAIRED:
            repaired.setdefault(problem.kind, []).append(problem.line or 0)
        else:
            fatal.append(problem)
    if fatal:
        raise PrepareError(
            f"{display}: {plural(len(fatal), 'line')} cannot be read as examples; correct or "
            "delete them and run prepare again (it never drops data it cannot read)",
            [_finding(display, problem) for problem in fatal],
        )
    return Source(path, SourceKind.JSONL, examples, repaired)


def _finding(display: str, problem: SyntaxProblem) -> str:
    """A syntax problem in the words of the check that reports it (``path:line: FT003 ...``)."""
    where = display if problem.line is None else f"{display}:{problem.line}"
    if problem.line is not None and problem.column is not None:
        where += f":{problem.column}"
    for check in REGISTRY.values():
        if problem.kind not in check.problems:
            continue
        # The checks of syntax problems word one from the problem alone: an instance
        # without a file will do.
        describe = getattr(check(cast(Any, None), check.Options()), "describe", None)
        if describe is not None:
            return f"{where}: {check.code} {describe(problem)}"
    return f"{where}: {problem.kind.value} {problem.detail}".rstrip()


def _read_document(path: Path, display: str) -> Source:
    """A JSON array of examples, or JSON objects one after another, over many lines."""
    text = _decode(path.read_bytes(), display)
    position = _skip(text, 0)
    decoder = json.JSONDecoder()
    found: list[tuple[int, Any]] = []
    lines = _LineCounter(text)
    try:
        if text.startswith("[", position):
            position = _skip(text, position + 1)
            while not text.startswith("]", position):
                value, end = decoder.raw_decode(text, position)
                found.append((lines.at(position), value))
                position = _skip(text, end)
                if text.startswith(",", position):
                    position = _skip(text, position + 1)
                elif not text.startswith("]", position):
                    raise _syntax(text, position, "expected ',' or ']' after an item")
            position = _skip(text, position + 1)
            if position < len(text):
                raise _syntax(text, position, "extra data after the array")
        else:
            while position < len(text):
                value, end = decoder.raw_decode(text, position)
                found.append((lines.at(position), value))
                position = _skip(text, end)
    except json.JSONDecodeError as error:
        problem = SyntaxProblem(Problem.INVALID_JSON, error.lineno, error.msg, error.colno)
        raise PrepareError(
            f"{display}: not valid JSON; correct it and run prepare again",
            [_finding(display, problem)],
        ) from None
    except RecursionError:
        raise PrepareError(f"{display}: the JSON is nested too deeply to read") from None
    if len(found) == 1 and isinstance(found[0][1], list):
        raise PrepareError(f"{display}: a JSON array holding an array; expected objects")
    odd = [
        _finding(display, SyntaxProblem(Problem.NOT_AN_OBJECT, line, _kind(value)))
        for line, value in found
        if not isinstance(value, dict)
    ]
    if odd:
        raise PrepareError(
            f"{display}: {plural(len(odd), 'item')} are not examples (JSON objects); correct "
            "or delete them and run prepare again",
            odd,
        )
    if not found:
        raise PrepareError(f"{display}: the file holds no examples; there is nothing to prepare")
    return Source(path, SourceKind.JSON, [Example(line, value) for line, value in found])


def _read_table(path: Path, display: str, kind: SourceKind, delimiter: str) -> Source:
    """CSV or TSV with a header row; every cell is a string (``1`` stays ``"1"``)."""
    text = _decode(path.read_bytes(), display)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, 1 << 30))  # completions can be longer than 128 kB
    examples: list[Example] = []
    blank: list[int] = []
    header: list[str] | None = None
    start = 1
    try:
        for row in rows:
            if not any(cell.strip() for cell in row):
                if header is not None:
                    blank.append(start)
            elif header is None:
                header = _header(row, display, start)
            elif len(row) != len(header):
                raise PrepareError(
                    f"{display}: the row does not match the header; correct it and run "
                    "prepare again",
                    [
                        f"{display}:{start}: {plural(len(row), 'field')}, the header has "
                        f"{len(header)}"
                    ],
                )
            else:
                examples.append(Example(start, dict(zip(header, row, strict=True))))
            start = rows.line_num + 1
    except csv.Error as error:
        raise PrepareError(
            f"{display}: not valid {kind}; correct it and run prepare again",
            [f"{display}:{rows.line_num}: {error}"],
        ) from None
    finally:
        csv.field_size_limit(limit)
    if header is None or not examples:
        raise PrepareError(f"{display}: the file holds no rows; there is nothing to prepare")
    repaired = {Problem.BLANK_LINE: blank} if blank else {}
    return Source(path, kind, examples, repaired)


def _header(row: list[str], display: str, line: int) -> list[str]:
    names = [cell.strip() for cell in row]
    if "" in names:
        raise PrepareError(
            f"{display}:{line}: column {names.index('') + 1} of the header has no name; "
            "name every column (prompt, completion, ...)"
        )
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise PrepareError(
            f"{display}:{line}: the header names {', '.join(map(repr, twice))} more than once; "
            "give each column its own name"
        )
    return names


def _decode(data: bytes, display: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1]
        detail = f"byte {byte!r} at file offset {error.start:,}"
        raise PrepareError(
            f"{display}: not UTF-8 text; re-save it as UTF-8 and run prepare again",
            [_finding(display, SyntaxProblem(Problem.INVALID_UTF8, line, detail))],
        ) from None


def _skip(text: str, position: int) -> int:
    return _WHITESPACE.match(text, position).end()  # type: ignore[union-attr]


def _syntax(text: str, position: int, message: str) -> json.JSONDecodeError:
    return json.JSONDecodeError(message, text, position)


def _kind(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


class _LineCounter:
    """Line numbers of increasing positions in a text, without rescanning it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.line = 1

    def at(self, position: int) -> int:
        self.line += self.text.count("\n", self.position, position)
        self.position = position
        return self.line
