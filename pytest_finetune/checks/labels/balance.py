"""FT501, FT502: how the examples spread over the classes: imbalance and rare classes."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_finetune import splits
from pytest_finetune.checks.labels.survey import Member
from pytest_finetune.checks.registry import option, register
from pytest_finetune.findings import Severity
from pytest_finetune.wording import closest, plural, quote


@dataclass(frozen=True)
class _ImbalanceOptions:
    max_ratio: float = option(
        10.0,
        "Largest tolerated ratio of the largest class to the smallest.",
        # The ratio is 1 or more: below 1, every dataset with classes would fail.
        minimum=1,
    )


@register
class ClassImbalance(Member):
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
    min_examples: int = option(10, "Fewer examples than this makes a class rare.", minimum=0)


@register
class RareClass(Member):
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
