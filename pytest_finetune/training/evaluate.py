"""Accuracy measured, not read: the model answers every validation example.

Answers are gathered concurrently (a bounded pool; requests that hit a rate limit or
a server error are retried after the wait the provider asks for, or an exponential
back-off). An answer is matched to a class when it is that class's label, ignoring
surrounding whitespace, or starts with it at a word boundary (a model asked without
a stop sequence goes on after the label). Accuracy, per-class precision, recall and
F1, their macro averages and the confusion matrix follow.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pytest_finetune.redact import redact, redact_keys
from pytest_finetune.training.backends.base import Retryable
from pytest_finetune.training.examples import Example

#: The confusion matrix column of answers that are no class at all.
OTHER = "(other)"
#: Back-off when the provider does not say how long to wait: base * 2**attempt, capped.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 20.0


@dataclass(frozen=True)
class Prediction:
    """One validation example, what it should get and what the model answered."""

    line: int
    expected: str
    answer: str
    #: The class the answer was matched to (``(other)`` for none; the answer itself
    #: when the data is not classification).
    predicted: str

    @property
    def correct(self) -> bool:
        """Whether the model got it right."""
        return self.predicted == self.expected


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall and F1 of one class, and how many examples it has."""

    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict[str, float | int]:
        """The report's view."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
        }


class PerClass(dict[str, ClassMetrics]):
    """Metrics by class label; a label can be looked up without its leading space."""

    def __missing__(self, label: str) -> ClassMetrics:
        for known, metrics in self.items():
            if known.strip() == label.strip():
                return metrics
        raise KeyError(f"{label!r} is not a class; classes: {', '.join(map(repr, self))}")


@dataclass
class Evaluation:
    """The figures measured on the validation split."""

    predictions: list[Prediction]
    classes: list[str]
    per_class: PerClass

    @property
    def accuracy(self) -> float:
        """Share of examples answered right."""
        if not self.predictions:
            return 0.0
        return sum(p.correct for p in self.predictions) / len(self.predictions)

    def _macro(self, field_name: str) -> float | None:
        if not self.per_class:
            return None
        values: list[float] = [getattr(m, field_name) for m in self.per_class.values()]
        return sum(values) / len(values)

    @property
    def precision(self) -> float | None:
        """Macro-averaged precision (``None`` when the data is not classification)."""
        return self._macro("precision")

    @property
    def recall(self) -> float | None:
        """Macro-averaged recall."""
        return self._macro("recall")

    @property
    def f1(self) -> float | None:
        """Macro-averaged F1."""
        return self._macro("f1")

    def confusion(self) -> pd.DataFrame:
        """Counts by expected class (rows) and predicted class (columns)."""
        predicted = {p.predicted for p in self.predictions}
        # Training labels no validation example has, then answers that are no label.
        columns = [
            *self.classes,
            *sorted(predicted - set(self.classes) - {OTHER}),
            *([OTHER] if OTHER in predicted else []),
        ]
        frame = pd.DataFrame(0, index=pd.Index(self.classes, name="expected"), columns=columns)
        frame.columns.name = "predicted"
        for p in self.predictions:
            if p.expected in frame.index:
                frame.loc[p.expected, p.predicted] += 1
        return frame


def match_label(answer: str, labels: Sequence[str]) -> str:
    """The class ``answer`` gives: the label it is, or starts with at a word boundary."""
    text = answer.strip()
    best = OTHER
    for label in labels:
        name = label.strip()
        if text == name:
            return label
        if (
            name
            and text.startswith(name)
            and not text[len(name)].isalnum()
            and (best == OTHER or len(name) > len(best.strip()))
        ):
            best = label
    return best


def measure(
    examples: Sequence[Example],
    answers: Sequence[str],
    classification: bool,
    labels: Iterable[str] = (),
) -> Evaluation:
    """Compare answers with expectations.

    Answers are matched to the validation classes and to ``labels`` (the training
    file's), so that a training-only label shows as what it is in the confusion
    matrix; per-class figures are those of the classes the validation split has.
    """
    classes = sorted({example.expected for example in examples}) if classification else []
    known = sorted({*classes, *labels}) if classification else []
    predictions = [
        Prediction(
            example.line,
            example.expected,
            answer,
            match_label(answer, known) if classification else _exact(answer, example.expected),
        )
        for example, answer in zip(examples, answers, strict=True)
    ]
    return Evaluation(predictions, classes, _per_class(predictions, classes))


def _exact(answer: str, expected: str) -> str:
    # Open-ended data: right when the answer is the expected text, spacing aside.
    return expected if answer.strip() == expected.strip() else answer


def _per_class(predictions: Iterable[Prediction], classes: Sequence[str]) -> PerClass:
    true_positive: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    support: Counter[str] = Counter()
    for p in predictions:
        support[p.expected] += 1
        predicted[p.predicted] += 1
        if p.correct:
            true_positive[p.expected] += 1
    result = PerClass()
    for label in classes:
        precision = true_positive[label] / predicted[label] if predicted[label] else 0.0
        recall = true_positive[label] / support[label] if support[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[label] = ClassMetrics(precision, recall, f1, support[label])
    return result


def gather_answers(
    answer: Callable[[Example], str],
    examples: Sequence[Example],
    *,
    concurrency: int,
    retries: int,
    sleep: Callable[[float], None],
    on_retry: Callable[[Example, Retryable, float], None] | None = None,
) -> list[str]:
    """``answer(example)`` for every example, in order, at most ``concurrency`` at once."""
    lock = threading.Lock()

    def one(example: Example) -> str:
        attempt = 0
        while True:
            try:
                return answer(example)
            except Retryable as error:
                if attempt >= retries:
                    raise
                wait = (
                    error.retry_after
                    if error.retry_after is not None
                    else min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
                )
                if on_retry is not None:
                    with lock:
                        on_retry(example, error, wait)
                sleep(wait)
                attempt += 1

    if concurrency <= 1 or len(examples) <= 1:
        return [one(example) for example in examples]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="finetune-eval") as pool:
        return list(pool.map(one, examples))


def to_dict(evaluation: Evaluation) -> dict[str, Any]:
    """The report's view of an evaluation."""
    confusion = evaluation.confusion() if evaluation.classes else None
    return {
        "examples": len(evaluation.predictions),
        "accuracy": evaluation.accuracy,
        "precision": evaluation.precision,
        "recall": evaluation.recall,
        "f1": evaluation.f1,
        # Labels are data, and the report shows them: secrets masked as in messages.
        "per_class": redact_keys({label: m.to_dict() for label, m in evaluation.per_class.items()}),
        "confusion_matrix": None
        if confusion is None
        else {
            "labels": [redact(label) for label in confusion.index],
            "predicted": [redact(label) for label in confusion.columns],
            "counts": confusion.to_numpy().tolist(),
        },
    }
