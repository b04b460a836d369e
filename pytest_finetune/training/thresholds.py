"""Thresholds checked against what was measured: each verdict names metric, value, limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_finetune.redact import redact
from pytest_finetune.training.spec import THRESHOLDS

if TYPE_CHECKING:
    from pytest_finetune.training.evaluate import ClassMetrics

PerClass = Mapping[str, "ClassMetrics"]


@dataclass(frozen=True)
class Verdict:
    """One threshold against one figure."""

    threshold: str
    metric: str
    limit: float
    value: float | None
    passed: bool
    #: The class, for per-class thresholds.
    label: str | None = None

    def describe(self) -> str:
        """``min_accuracy: accuracy 0.844 is below the threshold 0.900``."""
        spec = THRESHOLDS[self.threshold]
        what = f"F1 of class {self.label!r}" if self.label is not None else self.metric
        if self.value is None and self.label is not None:
            return (
                f"{self.threshold}: no validation example has the class {self.label!r}, so "
                f"its threshold {self.limit:g} cannot be checked"
            )
        if self.value is None:
            return (
                f"{self.threshold}: {what} was not measured (the backend reported no such "
                f"figure), so the threshold {self.limit:g} cannot be checked"
            )
        relation = "below" if spec.at_least else "above"
        if self.passed:
            relation = "meets"
            return (
                f"{self.threshold}: {what} {self.value:.3f} {relation} the threshold {self.limit:g}"
            )
        return (
            f"{self.threshold}: {what} {self.value:.3f} is {relation} the threshold {self.limit:g}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The report's view."""
        return {
            "threshold": self.threshold,
            "metric": self.metric,
            # A class label is data: masked as in messages.
            "label": None if self.label is None else redact(self.label),
            "limit": self.limit,
            "value": self.value,
            "passed": self.passed,
        }


def check(
    thresholds: Mapping[str, Any], figures: Mapping[str, float | None], per_class: PerClass
) -> list[Verdict]:
    """A verdict per threshold (per named class for ``min_class_f1``), in a stable order."""
    verdicts = []
    for name, limit in thresholds.items():
        spec = THRESHOLDS[name]
        if name == "min_class_f1":
            verdicts.extend(_class_f1(limit, per_class))
            continue
        value = figures.get(spec.metric)
        verdicts.append(
            Verdict(
                name, spec.metric, limit, value, value is not None and spec.passes(value, limit)
            )
        )
    return verdicts


def _class_f1(limit: float | Mapping[str, float], per_class: PerClass) -> list[Verdict]:
    if not isinstance(limit, Mapping):
        if not per_class:
            return [Verdict("min_class_f1", "class_f1", limit, None, False)]
        limits = dict.fromkeys(per_class, limit)
    else:
        limits = dict(limit)
    verdicts = []
    for label, minimum in limits.items():
        found = per_class.get(label) or next(
            (m for known, m in per_class.items() if known.strip() == label.strip()), None
        )
        value = found.f1 if found is not None else None
        verdicts.append(
            Verdict(
                "min_class_f1",
                "class_f1",
                minimum,
                value,
                value is not None and value >= minimum,
                label,
            )
        )
    return verdicts
