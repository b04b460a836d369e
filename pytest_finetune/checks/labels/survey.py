"""The class counts of a classification file, which every label check reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_finetune import conventions, file_conventions
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.conventions import MAX_CLASSES, label_of
from pytest_finetune.formats import Format, Record
from pytest_finetune.redact import redact_keys

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext


class _Classes(Survey):
    """The label of every example of a classification file, counted."""

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        self.conventions = file_conventions.of(context, head)
        self.stop = self.conventions.stop.text
        self.active = self.conventions.classification
        self.counts: dict[str, int] = {}
        self.first: dict[str, int] = {}
        self.overflow = False
        #: The classes, largest first, once concluded (``None``: not classification).
        self.classes: dict[str, int] | None = None

    def visit(self, record: Record) -> None:
        if record.format is Format.PROMPT_COMPLETION:  # label_of, inlined: it runs per record
            label = record.data.get("completion")
            if type(label) is not str:
                return
            stop = self.stop
            if stop and label.endswith(stop):
                label = label[: -len(stop)]
        else:
            label = label_of(record, self.conventions)
            if label is None:
                return
        if self.overflow:
            return
        counts = self.counts
        count = counts.get(label)
        if count is not None:
            counts[label] = count + 1
        elif len(counts) < MAX_CLASSES:
            counts[label] = 1
            self.first[label] = record.line
        else:
            self.overflow = True

    def merge(self, later: _Classes) -> None:
        counts = self.counts
        self.overflow |= later.overflow
        for label, count in later.counts.items():
            if label in counts:
                counts[label] += count
            elif len(counts) < MAX_CLASSES:
                counts[label] = count
                self.first[label] = later.first[label]
            else:
                self.overflow = True

    def conclude(self) -> None:
        counts = self.counts
        examples = sum(counts.values())
        declared = "task" in self.conventions.declared
        # The head said classification; the whole file must agree (the legacy rule).
        if not self.active or self.overflow or not counts:
            return
        if not declared and len(counts) * conventions.CLASSIFICATION_RATIO >= examples:
            return
        self.classes = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        # The summary, reports and plots show the labels: secrets masked, as in messages.
        self.context.stats.classes = redact_keys(self.classes)


class Member(Surveyed):
    """A check of the label family that reads the class counts."""

    formats = frozenset({Format.PROMPT_COMPLETION, Format.CHAT})
    survey_type = _Classes
    survey: _Classes
