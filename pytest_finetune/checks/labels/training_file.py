"""What a validation file needs of its training file, read once per process and version.

Named for the file it reads, the training half of a split; not to be confused with
:mod:`pytest_finetune.training`, which trains models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_finetune import conventions
from pytest_finetune.checks.labels.survey import MAX_CLASSES
from pytest_finetune.conventions import Conventions, Task, label_of
from pytest_finetune.fingerprints import Fingerprints
from pytest_finetune.formats import Record, detect, example_key
from pytest_finetune.reader import Reader
from pytest_finetune.slots import Slot

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext


@dataclass(frozen=True)
class TrainingSummary:
    """What a validation file needs to know of its training file (hashes, not texts)."""

    #: Distinct input fingerprints, sorted, and the first line of each (NumPy arrays).
    inputs: tuple[Any, Any]
    #: Distinct (input, target) fingerprints, sorted, and the first line of each.
    examples: tuple[Any, Any]
    #: Label counts, if the training file is classification data.
    labels: dict[str, int] | None


#: A training file's summary (by its version).
_SUMMARY: Slot[TrainingSummary] = Slot("labels.training-summary")


def training_summary(path: Path, context: ScanContext) -> TrainingSummary:
    """Summarise a training file in one streaming pass, once per process and file version."""
    return context.cached_for_file(_SUMMARY, path, lambda: _summarise(path, context))


def _summarise(path: Path, context: ScanContext) -> TrainingSummary:
    inputs, examples = Fingerprints(), Fingerprints()
    labels: dict[str, int] = {}
    head: list[Record] | None = []
    conv: Conventions | None = None

    def add(record: Record) -> None:
        keys = example_key(record)
        if keys is not None:
            inputs.add(keys[0], record.line)
            examples.add(keys[1], record.line)
        if conv is not None and conv.classification:
            label = label_of(record, conv)
            if label is not None and (label in labels or len(labels) < MAX_CLASSES):
                labels[label] = labels.get(label, 0) + 1

    for item in Reader(path, max_line_bytes=context.settings.max_line_bytes):
        if type(item) is not tuple:
            continue  # a syntax problem: the training file's own checks report it
        line, raw, data = item
        record = Record(line, raw, data, detect(data))
        if head is None:
            add(record)
            continue
        head.append(record)
        if len(head) >= conventions.HEAD_RECORDS:
            conv = conventions.infer(head, context.settings.config)
            for held in head:
                add(held)
            head = None
    if head is not None:
        conv = conventions.infer(head, context.settings.config)
        for held in head:
            add(held)
    classification = (
        conv is not None
        and conv.task is Task.CLASSIFICATION
        and (
            "task" in conv.declared
            or len(labels) * conventions.CLASSIFICATION_RATIO < sum(labels.values())
        )
    )
    return TrainingSummary(
        inputs.first_lines(), examples.first_lines(), labels if classification else None
    )


def lookup(table: tuple[Any, Any], keys: Any) -> Any:
    """The first line of each of ``keys`` in ``table`` (0 where absent)."""
    import numpy as np  # noqa: PLC0415

    distinct, lines = table
    if not len(distinct):
        return np.zeros(len(keys), dtype=np.int64)
    at = np.minimum(np.searchsorted(distinct, keys), len(distinct) - 1)
    return np.where(distinct[at] == keys, lines[at], 0)
