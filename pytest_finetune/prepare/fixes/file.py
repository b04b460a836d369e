"""Fixes that writing JSON Lines makes: conversion, byte order mark, CRLF, blank lines (FT0xx)."""

from __future__ import annotations

from typing import ClassVar

from pytest_finetune.prepare.fixes.base import Change, Fix, FixContext
from pytest_finetune.prepare.read import Example, SourceKind
from pytest_finetune.reader import Problem
from pytest_finetune.wording import plural


class _Repaired(Fix):
    """A problem of the file's syntax that writing JSON Lines repairs."""

    always = True
    formats = None
    problem: ClassVar[Problem]
    #: What the fix does, with ``{}`` for the count of lines (``noun``, pluralised).
    doing: ClassVar[str]
    noun: ClassVar[str] = "line"
    #: What was wrong with a line, for the samples.
    was: ClassVar[str]

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        lines = context.source.repaired.get(self.problem, [])
        for line in lines:
            change.touched(line, self.was, "")
        if lines:
            change.what = self.doing.format(plural(len(lines), self.noun))
        return examples


class ConvertToJsonLines(Fix):
    """Convert a JSON array, pretty-printed JSON, CSV or TSV file to JSON Lines."""

    name = "convert-to-jsonl"
    codes = ("FT006",)
    always = True
    formats = None

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        kind = context.source.kind
        if kind is not SourceKind.JSONL:
            change.count = len(examples)
            what = "items" if kind is SourceKind.JSON else "rows"
            change.what = f"Convert {plural(len(examples), what[:-1])} of {kind} to JSON Lines"
        return examples


class RemoveByteOrderMark(_Repaired):
    """Remove the UTF-8 byte order mark at the start of the file."""

    name = "remove-bom"
    codes = ("FT009",)
    problem = Problem.BOM
    doing = "Remove the byte order mark"
    was = "starts with a byte order mark"


class CrlfToLf(_Repaired):
    """End lines with LF instead of CRLF."""

    name = "crlf-to-lf"
    codes = ("FT008",)
    problem = Problem.CRLF
    doing = "End {} with LF instead of CRLF"
    was = "ends with CRLF"


class DropBlankLines(_Repaired):
    """Drop blank lines between and after examples."""

    name = "drop-blank-lines"
    codes = ("FT007",)
    problem = Problem.BLANK_LINE
    doing = "Drop {}"
    noun = "blank line"
    was = "blank"


class FinalNewline(_Repaired):
    """End the file with a newline."""

    name = "final-newline"
    codes = ("FT012",)
    problem = Problem.MISSING_FINAL_NEWLINE
    doing = "End the last line with a newline"
    was = "has no newline at its end"
