"""What a validation file needs of its training file, read once per process and version.

A validation file's checks read its training file, the training half of its split
(:mod:`pytest_finetune.splits` finds the pair): its conventions follow the training
file's labels (:mod:`pytest_finetune.file_conventions`), FT510 looks its examples up
among the training file's, FT511 compares their labels. One streaming pass serves them
all, keeping a fingerprint per example (:mod:`pytest_finetune.fingerprints`), not its
text.

Named for the file it reads; not to be confused with :mod:`pytest_finetune.training`,
which trains models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_finetune import conventions
from pytest_finetune.conventions import MAX_CLASSES, Conventions, Task, label_of
from pytest_finetune.fingerprints import Fingerprints
from pytest_finetune.formats import Record, detect, example_key
from pytest_finetune.reader import Reader
from pytest_finetune.slots import Slot

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext


@dataclass(frozen=True)
class TrainingSummary:
    """What a validation file needs to know of its training file (hashes, not texts)."""

    #: The labels of the first records, if these look like classification data: a
    #: validation file whose labels are mostly these is classification too.
    head_labels: frozenset[str]
    #: Distinct input fingerprints, sorted, and the first line of each (NumPy arrays).
    inputs: tuple[Any, Any]
    #: Distinct (input, target) fingerprints, sorted, and the first line of each.
    examples: tuple[Any, Any]
    #: Label counts, if the training file is classification data.
    labels: dict[str, int] | None


#: A training file's summary (by its version).
_SUMMARY: Slot[TrainingSummary] = Slot("training-file.summary")


def training_summary(path: Path, context: ScanContext) -> TrainingSummary:
    """Summarise a training file in one streaming pass, once per process and file version.

    The whole file is read even when only the conventions ask (for the labels of its
    head): every check that reads the training file is then served by one read.
    """
    return context.cached_for_file(_SUMMARY, path, lambda: _summarise(path, context))


def _summarise(path: Path, context: ScanContext) -> TrainingSummary:
    inputs, examples = Fingerprints(), Fingerprints()
    labels: dict[str, int] = {}
    head: list[Record] | None = []
    head_labels: frozenset[str] = frozenset()
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

    def learn(first: list[Record]) -> tuple[Conventions, frozenset[str]]:
        """The conventions of the first records, and their labels if classification."""
        learned = conventions.infer(first, context.settings.config)
        found = {label_of(record, learned) for record in first} if learned.classification else ()
        return learned, frozenset(label for label in found if label is not None)

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
            conv, head_labels = learn(head)
            for held in head:
                add(held)
            head = None
    if head is not None:
        conv, head_labels = learn(head)
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
        head_labels,
        inputs.first_lines(),
        examples.first_lines(),
        labels if classification else None,
    )


def lookup(table: tuple[Any, Any], keys: Any) -> Any:
    """The first line of each of ``keys`` in ``table`` (0 where absent)."""
    import numpy as np  # noqa: PLC0415

    distinct, lines = table
    if not len(distinct):
        return np.zeros(len(keys), dtype=np.int64)
    at = np.minimum(np.searchsorted(distinct, keys), len(distinct) - 1)
    return np.where(distinct[at] == keys, lines[at], 0)
