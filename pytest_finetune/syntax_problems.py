"""What the readers yield: numbered records, or the syntax problems of lines that are not.

Apart from :mod:`pytest_finetune.reader` (JSON Lines) and
:mod:`pytest_finetune.json_documents` (a JSON array of examples), which both yield them;
the FT0xx checks (:mod:`pytest_finetune.checks.file`) give the problems words.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


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


def json_type(value: object) -> str:
    """How a problem names the JSON type of a value that is not an object (``an array``)."""
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
