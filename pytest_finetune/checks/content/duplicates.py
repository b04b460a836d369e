"""FT401, FT402: examples repeated, or the same input with different targets, across the file."""

from __future__ import annotations

from pytest_finetune.checks.content.survey import ContentCheck
from pytest_finetune.checks.registry import register
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format


def _lines(lines: list[int], shown: int = 5) -> str:
    listed = ", ".join(str(line) for line in lines[:shown])
    return listed + (f" and {len(lines) - shown:,} more" if len(lines) > shown else "")


#: How FT402 names an input, a target and targets in each format.
_WORDS = {
    Format.PROMPT_COMPLETION: ("prompt", "completion", "completions"),
    Format.CHAT: (
        "conversation up to the last assistant message",
        "assistant reply",
        "assistant replies",
    ),
}


@register
class DuplicateExample(ContentCheck):
    r"""An example appears more than once.

    What it does:
        Compares every example with the others (by a fingerprint of its input and its
        target, so memory stays small) and reports each repeat with the line of its
        first occurrence. Keys other than the ones that train (ids, metadata) are
        ignored.

    Why it matters:
        A repeated example weighs more in training than the others, which skews the
        model toward it; repeats also end up on both sides of a train/validation split
        and inflate the validation score.

    Example:
        Line 40 is the same ``{"prompt": "Where is my parcel? ->", "completion":
        " shipping\n"}`` as line 12.

    Fix:
        Delete the repeats (``pytest-finetune prepare`` keeps the first occurrence).
    """

    code = "FT401"
    name = "duplicate-example"
    severity = Severity.WARNING
    fixable = True

    def enlist(self) -> None:
        self.survey.fingerprint()

    def judge(self) -> None:
        for group in self.survey.groups():
            first_with: dict[int, int] = {}
            for line, value in zip(group.lines, group.values, strict=True):
                first = first_with.setdefault(value, line)
                if first != line:
                    self.report(line, f"Duplicate of line {first}; delete one of them")


@register
class ConflictingLabels(ContentCheck):
    """The same input has different targets.

    What it does:
        Groups examples by their input (the prompt; a conversation up to its last
        assistant message, with its tools; a preference input with its two outputs)
        and reports inputs that come with more than one target, on the line of each
        target after the first. For preference data, the conflict is the same pair
        of outputs with the preference reversed.

    Why it matters:
        The model is trained to give two answers to one question. In a
        classification dataset this is a labelling mistake, and it caps the accuracy
        any model can reach; in generation data it blurs what the model should say.

    Example:
        Line 3 labels ``"Card declined twice ->"`` as `` billing`` and line 9 labels
        the same prompt `` technical``.

    Fix:
        Decide which target is right and delete or correct the other examples.
    """

    code = "FT402"
    name = "conflicting-labels"
    severity = Severity.WARNING

    def enlist(self) -> None:
        self.survey.fingerprint()

    def judge(self) -> None:
        source, target, targets = _WORDS.get(self.context.format, ("input", "target", "targets"))
        for group in self.survey.groups():
            first_with: dict[int, int] = {}
            for line, value in zip(group.lines, group.values, strict=True):
                first_with.setdefault(value, line)
            if len(first_with) < 2:
                continue
            firsts = list(first_with.values())
            for line in firsts[1:]:
                if self.context.format is Format.PREFERENCE:
                    message = (
                        f"Same input and outputs as line {firsts[0]} with the preference "
                        "reversed; keep the right one"
                    )
                else:
                    message = (
                        f"Same {source} as line {firsts[0]} with a different {target} "
                        f"({len(firsts)} different {targets} on lines {_lines(group.lines)}); "
                        "keep the right one"
                    )
                self.report(line, message)
