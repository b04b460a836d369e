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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pytest_finetune.checks import REGISTRY
from pytest_finetune.reader import Problem, Reader, SyntaxProblem
from pytest_finetune.wording import plural

#: Syntax problems that writing JSON Lines repairs; any other stops prepare.
REPAIRED = frozenset({Problem.BOM, Problem.CRLF, Problem.BLANK_LINE, Problem.MISSING_FINAL_NEWLINE})
#: Problems listed when prepare refuses a file; the rest are counted.
SHOWN_PROBLEMS = 20
_TABLES = {".csv": ",", ".tsv": "\t"}
_SPREADSHEETS = (".xlsx", ".xls", ".ods", ".parquet")


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

    def __init__(
        self, message: str, details: list[str] | None = None, *, usage: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        #: A mistake in the command line (exit status 2), not a refusal of the data.
        self.usage = usage


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


def _read_json_lines(path: Path, display: str, *, document: bool | None = None) -> Source:
    """JSON Lines, or a ``.json`` array of examples, through the linter's own reader.

    ``document``: read the file as JSON documents (an array, or objects one after
    another), as when it turned out to be one (the reader's FT006).
    """
    examples: list[Example] = []
    repaired: dict[Problem, list[int]] = {}
    fatal: list[SyntaxProblem] = []
    reader = Reader(path, document=document)
    for item in reader:
        if type(item) is tuple:
            line, _raw, data = item
            examples.append(Example(line, data))
            continue
        problem = cast(SyntaxProblem, item)
        if problem.kind is Problem.JSON_DOCUMENT and not document:
            return _read_json_lines(path, display, document=True)
        if problem.kind is Problem.EMPTY_FILE:
            what = "holds no examples" if reader.document else "is empty"
            raise PrepareError(f"{display}: the file {what}; there is nothing to prepare")
        if problem.kind in REPAIRED:
            repaired.setdefault(problem.kind, []).append(problem.line or 0)
        else:
            fatal.append(problem)
    if fatal:
        what = "item" if reader.document else "line"
        raise PrepareError(
            f"{display}: {plural(len(fatal), what)} cannot be read as examples; correct or "
            "delete them and run prepare again (it never drops data it cannot read)",
            [_finding(display, problem) for problem in fatal],
        )
    kind = SourceKind.JSON if reader.document else SourceKind.JSONL
    return Source(path, kind, examples, repaired)


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
