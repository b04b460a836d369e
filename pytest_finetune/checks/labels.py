"""FT5xx: labels and splits: the classes of classification data, and validation files.

Classification is detected as the legacy tool did it (fewer distinct completions than a
third of the examples, see :mod:`pytest_finetune.conventions`) or declared with
``task = "classification"``. A label is a completion without the dataset's stop
sequence (`` positive``), or the last assistant reply of a chat example. The class
counts over the whole file go into the summary and the JSON report (``classes``).

A validation file is compared with its training file (:mod:`pytest_finetune.splits`
finds the pair): examples in both (leakage) and labels in one of them only. The
training file is read once per process, in a streaming pass that keeps a fingerprint
per example (:mod:`pytest_finetune.fingerprints`), not its text.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pytest_finetune import conventions, splits, tokens
from pytest_finetune.checks.registry import Check, option, register
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.conventions import Conventions, Task, label_of
from pytest_finetune.findings import Severity, closest, plural, quote
from pytest_finetune.fingerprints import Fingerprints
from pytest_finetune.formats import (
    SUPPORTED,
    Format,
    Record,
    detect,
    example,
)
from pytest_finetune.reader import Reader
from pytest_finetune.schema import ConfigError

if TYPE_CHECKING:
    from pytest_finetune.scan import ScanContext

#: Distinct labels counted at most; more means the data is not classification after all.
MAX_CLASSES = 1000


class _Classes(Survey):
    """The label of every example of a classification file, counted."""

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        self.conventions = conventions.of(context, head)
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
        self.context.stats.classes = self.classes


class _Member(Surveyed):
    """A check of the label family that reads the class counts."""

    formats = frozenset({Format.PROMPT_COMPLETION, Format.CHAT})
    survey_type = _Classes
    survey: _Classes


@dataclass(frozen=True)
class _ImbalanceOptions:
    max_ratio: float = option(10.0, "Largest tolerated ratio of the largest class to the smallest.")


@register
class ClassImbalance(_Member):
    """The largest class is many times the size of the smallest.

    What it does:
        In classification data, compares the number of examples of the largest and
        the smallest class and reports a ratio over ``max-ratio`` (10). Validation
        files are left to their training file.

    Why it matters:
        A model trained on imbalanced classes learns to favour the large ones; its
        overall accuracy looks good while the small classes are mostly wrong.

    Example:
        500 examples labelled `` billing`` and 20 labelled `` fraud``.

    Fix:
        Add examples of the small classes, or sample the large ones down; if the
        imbalance is real, judge the model on per-class recall, not accuracy.
    """

    code = "FT501"
    name = "class-imbalance"
    severity = Severity.WARNING
    Options = _ImbalanceOptions

    def judge(self) -> None:
        classes = self.survey.classes
        if not classes or len(classes) < 2 or splits.is_validation(self.context):
            return
        items = list(classes.items())
        (large, most), (small, fewest) = items[0], items[-1]
        ratio = most / fewest
        if ratio > self.options.max_ratio:
            self.report(
                None,
                f"The largest class {quote(large)} has {ratio:.0f} times the examples of the "
                f"smallest, {quote(small)} ({most:,} against {fewest:,}; at most "
                f"{self.options.max_ratio:g} times is advised): add examples of the small classes",
            )


@dataclass(frozen=True)
class _RareOptions:
    min_examples: int = option(10, "Fewer examples than this makes a class rare.")


@register
class RareClass(_Member):
    """A class has very few examples.

    What it does:
        In classification data, reports each class with fewer than ``min-examples``
        examples (10) at its first example, and names a larger class it may be a typo
        of. Validation files are left to their training file.

    Why it matters:
        Ten examples is the least the services accept for a whole fine-tune; a class
        with fewer is barely learned, and an 80/20 split leaves it one or two
        validation examples, too few to measure it. A class of one is often a typo
        (`` postive``).

    Example:
        Three examples labelled `` fraud`` among 400.

    Fix:
        Add examples of the class, merge it into another, or fix the typo.
    """

    code = "FT502"
    name = "rare-class"
    severity = Severity.WARNING
    Options = _RareOptions

    def judge(self) -> None:
        classes = self.survey.classes
        if not classes or splits.is_validation(self.context):
            return
        common = [label for label, count in classes.items() if count >= self.options.min_examples]
        for label, count in classes.items():
            if count >= self.options.min_examples:
                continue
            near = closest(label, common, cutoff=0.8)
            hint = f" (a typo of {quote(near)}?)" if near else ""
            where = ", the first here" if count > 1 else ""
            self.report(
                self.survey.first[label],
                f"The class {quote(label)} has only {plural(count, 'example')}{where}{hint}; "
                f"at least {self.options.min_examples} are needed to learn and measure it",
            )


class _TokenMember(_Member):
    """A label check that needs the target model's tokenizer."""

    def encoding(self) -> tuple[tokens.ModelSpec, Any] | None:
        """The target model and its tiktoken encoding; ``None`` offline or if unknown."""
        settings = self.context.settings
        try:
            spec = tokens.model_spec(settings.model, settings.config)
        except ConfigError:
            return None  # an unknown model is the configuration's finding, not a label's
        key = f"labels.encoding:{spec.encoding}"
        shared = self.context.shared
        if key not in shared:
            shared[key] = _load_encoding(spec.encoding)
        encoding = shared[key]
        return None if encoding is None else (spec, encoding)


def _load_encoding(name: str) -> Any:
    try:
        # Imported here: most runs never tokenize a label.
        import tiktoken  # noqa: PLC0415

        return tiktoken.get_encoding(name)
    except Exception:  # offline without cached encodings: the checks cannot judge
        return None


@register
class MultiTokenLabel(_TokenMember):
    """A class label is more than one token for the target model.

    What it does:
        Tokenizes each label of classification data with the target model's encoding
        (``model`` in configuration) and reports those of two tokens or more, with
        their tokens. Without the encoding files (offline) it reports nothing.

    Why it matters:
        Classifiers are asked for one token (``max_tokens = 1``) and read the class
        from it, or from its log probabilities; a label of several tokens is judged
        on its first one only, and costs more to generate.

    Example:
        `` very positive`` (two tokens) beside `` positive``.

    Fix:
        Use labels of one token each: short words with their leading space, or
        numbers (`` 1``, `` 2``).
    """

    code = "FT503"
    name = "multi-token-label"
    severity = Severity.WARNING

    def judge(self) -> None:
        classes = self.survey.classes
        found = self.encoding() if classes else None
        if not classes or found is None:
            return
        spec, encoding = found
        for label in classes:
            pieces = [encoding.decode([token]) for token in encoding.encode_ordinary(label)]
            if len(pieces) > 1:
                how = (
                    "drop the leading space, a token of its own here"
                    if pieces[0].isspace()
                    else "use labels of one token"
                )
                self.report(
                    self.survey.first[label],
                    f"The label {quote(label)} is {len(pieces)} tokens for {spec.name} "
                    f"({', '.join(quote(piece) for piece in pieces)}); a one-token answer "
                    f"holds only the first: {how}",
                )


@register
class LabelsShareFirstToken(_TokenMember):
    """Two class labels start with the same token.

    What it does:
        Tokenizes each label of classification data with the target model's encoding
        and reports labels whose first tokens are the same. Without the encoding files
        (offline) it reports nothing.

    Why it matters:
        A classifier asked for one token (``max_tokens=1``, reading the answer's
        log-probabilities, the legacy recipe) answers with a label's first token: labels
        that share it cannot be told apart, whatever the model learned. A model that
        answers the whole label is not affected, hence a warning.

    Example:
        `` class_a`` and `` class_b`` both start with the token `` class``.

    Fix:
        Rename the labels so that each starts with a token of its own.
    """

    code = "FT504"
    name = "labels-share-first-token"
    severity = Severity.WARNING

    def judge(self) -> None:
        classes = self.survey.classes
        found = self.encoding() if classes else None
        if not classes or found is None:
            return
        spec, encoding = found
        by_token: dict[int, list[str]] = {}
        for label in classes:
            ids = encoding.encode_ordinary(label)
            if ids:
                by_token.setdefault(ids[0], []).append(label)
        for token, labels in by_token.items():
            if len(labels) > 1:
                names = ", ".join(quote(label) for label in sorted(labels))
                first = encoding.decode([token])
                how = (
                    "drop the leading space, a token of its own here"
                    if first.isspace()
                    else "give each label a first token of its own"
                )
                self.report(
                    min(self.survey.first[label] for label in labels),
                    f"The labels {names} all start with the token {quote(first)} for "
                    f"{spec.name}; a one-token answer cannot tell them apart: {how}",
                )


# -- splits ------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingSummary:
    """What a validation file needs to know of its training file (hashes, not texts)."""

    #: Distinct input fingerprints, sorted, and the first line of each (NumPy arrays).
    inputs: tuple[Any, Any]
    #: Distinct (input, target) fingerprints, sorted, and the first line of each.
    examples: tuple[Any, Any]
    #: Label counts, if the training file is classification data.
    labels: dict[str, int] | None


def example_key(record: Record) -> tuple[int, int] | None:
    """Fingerprints of a record's input and of its whole example, for leakage.

    Surrounding whitespace does not count (a stray space makes no new example). An
    empty input (open-ended data) is no key of its own: the whole example is.
    """
    source, target = example(record)
    if source is None and target is None:
        return None
    if isinstance(source, str):
        source = source.strip()
    if isinstance(target, str):
        target = target.strip()
    whole = hash((source, target))
    return (hash(source) if source else whole), whole


def training_summary(path: Path, context: ScanContext) -> TrainingSummary:
    """Summarise a training file in one streaming pass, once per process and file version."""
    stat = path.stat()
    key = f"labels.training:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    found = context.shared.get(key)
    if found is None:
        found = context.shared[key] = _summarise(path, context)
    summary: TrainingSummary = found
    return summary


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


def _lookup(table: tuple[Any, Any], keys: Any) -> Any:
    """The first line of each of ``keys`` in ``table`` (0 where absent)."""
    import numpy as np  # noqa: PLC0415

    distinct, lines = table
    if not len(distinct):
        return np.zeros(len(keys), dtype=np.int64)
    at = np.minimum(np.searchsorted(distinct, keys), len(distinct) - 1)
    return np.where(distinct[at] == keys, lines[at], 0)


def _shown(path: Path, context: ScanContext) -> str:
    """How findings name another file: beside the scanned file, as findings show paths."""
    if path.parent == context.path.resolve().parent:
        return str(PurePosixPath(context.display_path).with_name(path.name))
    return os.path.relpath(path).replace(os.sep, "/")


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

    def finish(self) -> None:
        if self.split is None or self.split.role is not splits.Role.VALID or not len(self.log):
            return
        train = training_summary(self.split.train, self.context)
        shown = _shown(self.split.train, self.context)
        inputs, valid_lines, wholes = self.log.entries()
        same_input = _lookup(train.inputs, inputs)
        same_example = _lookup(train.examples, wholes)
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
class LabelInOneSplit(_Member):
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
        shown = _shown(split.train, self.context)
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
