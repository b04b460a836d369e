"""FT510, FT511: a validation file against its training file: shared examples, labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pytest_finetune import splits
from pytest_finetune.checks.labels.survey import Member
from pytest_finetune.checks.registry import Check, register
from pytest_finetune.findings import Severity
from pytest_finetune.fingerprints import Fingerprints
from pytest_finetune.formats import SUPPORTED, Format, Record, example_key
from pytest_finetune.paths import shown_beside
from pytest_finetune.training_file import lookup, training_summary
from pytest_finetune.wording import closest, plural, quote

if TYPE_CHECKING:
    from typing_extensions import Self


@register
class ValidationLeakage(Check):
    """A validation example is also in the training file.

    What it does:
        For a validation file (``*_valid.jsonl`` beside ``*_train.jsonl``, or a pair
        declared in ``pairs``), reports each example whose input is also in the
        training file, naming the training file and line, and whether the answer is
        the same there. Inputs are compared after trimming surrounding whitespace.

    Why it matters:
        The model has seen these answers during training: validation loss and
        accuracy on them overstate how well it does on new data, and the gate on
        accuracy passes models it should not.

    Example:
        ``intents_valid.jsonl`` line 3 is line 120 of ``intents_train.jsonl``.

    Fix:
        Remove the example from one of the files; split the data after removing
        duplicates (``pytest-finetune prepare`` does).
    """

    code = "FT510"
    name = "validation-leakage"
    severity = Severity.ERROR
    formats = SUPPORTED

    def begin(self, head: list[Record]) -> None:
        self.split = splits.of(self.context)
        #: Each example's input fingerprint, line and whole-example fingerprint.
        self.log = Fingerprints()

    def visitor(self, fmt: Format) -> Callable[[Record], None] | None:
        # Only validation files pay for fingerprints.
        if self.split is None or self.split.role is not splits.Role.VALID:
            return None
        return super().visitor(fmt)

    def visit(self, record: Record) -> None:
        keys = example_key(record)
        if keys is not None:
            self.log.add(keys[0], record.line, keys[1])

    def merge(self, later: Self) -> None:
        self.log.extend(later.log)

    def finish(self) -> None:
        if self.split is None or self.split.role is not splits.Role.VALID or not len(self.log):
            return
        train = training_summary(self.split.train, self.context)
        shown = shown_beside(self.split.train, self.context.path, self.context.display_path)
        inputs, valid_lines, wholes = self.log.entries()
        same_input = lookup(train.inputs, inputs)
        same_example = lookup(train.examples, wholes)
        pc = self.context.format is Format.PROMPT_COMPLETION
        source, target = ("prompt", "completion") if pc else ("input", "answer")
        for line, input_line, example_line in zip(
            valid_lines.tolist(), same_input.tolist(), same_example.tolist(), strict=True
        ):
            if example_line:
                self.report(
                    line,
                    f"This example is also in the training file {shown}, line {example_line}; "
                    "remove it from one of them",
                )
            elif input_line:
                self.report(
                    line,
                    f"This {source} is also in the training file {shown}, line {input_line}, "
                    f"with another {target}; remove it from one of them",
                )


@register
class LabelInOneSplit(Member):
    """A label is in the validation file but not the training file, or the reverse.

    What it does:
        For a validation file of classification data, compares its labels with its
        training file's: reports each validation label the training file lacks (at
        its first example) and each training label with no validation example.

    Why it matters:
        The model cannot learn a label it never saw: every validation example of it
        counts as an error. A training label without validation examples is never
        measured. Both usually mean the split was not stratified, or a label is
        spelled differently in one file.

    Example:
        ``intents_valid.jsonl`` has `` refunds``; ``intents_train.jsonl`` has only
        `` refund``.

    Fix:
        Split the data again, stratified by label (``pytest-finetune prepare`` does),
        or fix the spelling.
    """

    code = "FT511"
    name = "label-in-one-split"
    severity = Severity.WARNING

    def judge(self) -> None:
        split = splits.of(self.context)
        valid = self.survey.classes
        if split is None or split.role is not splits.Role.VALID or not valid:
            return
        train = training_summary(split.train, self.context).labels
        if not train:
            return
        shown = shown_beside(split.train, self.context.path, self.context.display_path)
        for label, count in valid.items():
            if label not in train:
                near = closest(label, train, cutoff=0.8)
                hint = f" (did you mean {quote(near)}?)" if near else ""
                self.report(
                    self.survey.first[label],
                    f"The label {quote(label)} ({plural(count, 'example')}, the first here) "
                    f"never occurs in the training file {shown}{hint}; the model cannot learn it",
                )
        for label, count in train.items():
            if label not in valid:
                self.report(
                    None,
                    f"The label {quote(label)} of the training file {shown} "
                    f"({plural(count, 'example')}) has no validation example; it is never measured",
                )
