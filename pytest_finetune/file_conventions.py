"""The conventions of the file being scanned: inferred once from its head, shared by its checks.

Apart from :mod:`pytest_finetune.conventions`, which infers conventions from records
alone (``prepare`` and the training backends call it too): a validation file's
conventions also read its training file (:mod:`pytest_finetune.training_file`), which
reads conventions in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pytest_finetune import splits
from pytest_finetune.conventions import Conventions, Task, infer, label_of
from pytest_finetune.slots import Slot
from pytest_finetune.training_file import training_summary

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext
    from pytest_finetune.formats import Record

#: The conventions of the file being scanned.
CONVENTIONS: Slot[Conventions] = Slot("conventions")


def of(context: ScanContext, head: Sequence[Record]) -> Conventions:
    """The conventions of the file being scanned, inferred once and shared by its checks.

    A validation file whose labels are mostly its training file's is classification
    when its training file is: on its own, a small validation file (9 examples of 4
    labels) would not look like it, and would be asked for a stop sequence that its
    training file rightly does without.
    """
    return context.cached(CONVENTIONS, lambda: _of(context, head))


def _of(context: ScanContext, head: Sequence[Record]) -> Conventions:
    config = context.settings.config
    found = infer(head, config)
    if "task" not in config and not found.classification:
        known = _training_labels(context)
        labels = [label_of(record, found) for record in head]
        if known and sum(label in known for label in labels) * 2 > len(labels):
            found = infer(head, {**config, "task": Task.CLASSIFICATION.value})
    return found


def _training_labels(context: ScanContext) -> frozenset[str]:
    """The labels of a validation file's training file, if that is classification."""
    split = splits.of(context)
    if split is None or split.role is not splits.Role.VALID or not split.train.is_file():
        return frozenset()
    return training_summary(split.train, context).head_labels
