"""FT113, FT120: how texts start: prompts without stray whitespace, completions with one space."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_finetune.checks.prompt_completion.survey import Member, Sight
from pytest_finetune.checks.registry import register
from pytest_finetune.findings import Severity
from pytest_finetune.wording import quote

if TYPE_CHECKING:
    from typing_extensions import Self

    from pytest_finetune.checks.context import ScanContext

#: Flagged prompts that must all share one label before that is worth a finding.
MIN_CORRELATED = 5


@register
class PromptLeadingWhitespace(Member):
    """A prompt starts with whitespace, unlike most prompts.

    What it does:
        Reports prompts that start with a space or newline in data where most prompts
        do not. In classification data, it also says when all these prompts have the
        same label.

    Why it matters:
        The whitespace changes the first token of the prompt; if the odd prompts come
        from one source or one class, the model can learn the whitespace as a cue for
        the label instead of reading the words, and real prompts never start with it.

    Example:
        ``{"prompt": " Tell me more ->", "completion": " 4"}`` among prompts without
        leading space.

    Fix:
        Strip the leading whitespace (``pytest-finetune prepare`` does).
    """

    code = "FT113"
    name = "prompt-leading-whitespace"
    severity = Severity.WARNING
    fixable = True

    def __init__(self, context: ScanContext, options: Any) -> None:
        super().__init__(context, options)
        #: How many of the reported prompts have each label (classification data).
        self.labels: dict[str, int] = {}

    sees = (Sight.STRAY_WHITESPACE,)

    def watches(self) -> bool:
        # Where most prompts start with whitespace, it is the dataset's convention.
        return self.survey.stray_whitespace_possible

    def seen(self, line: int, where: str, detail: tuple[str, str | None]) -> None:
        # The detail: the prompt, and the completion (or ``None``) for its label.
        prompt, completion = detail
        if not prompt[0].isspace():
            return  # a control character: the content checks' concern
        self.report(
            line,
            f"The prompt starts with whitespace ({quote(prompt, 30)}), unlike most prompts; "
            "remove it",
        )
        conv = self.survey.conventions
        if completion is not None and conv.classification:
            label = conv.label(completion)
            self.labels[label] = self.labels.get(label, 0) + 1

    def merge(self, later: Self) -> None:
        super().merge(later)
        for label, count in later.labels.items():
            self.labels[label] = self.labels.get(label, 0) + count

    def judge(self) -> None:
        labels = self.labels
        total = sum(labels.values())
        if len(labels) == 1 and total >= MIN_CORRELATED:
            [label] = labels
            self.report(
                None,
                f"All {total:,} prompts that start with whitespace have the label "
                f"{quote(label)}: the model can learn the whitespace as the cue for it",
            )


@register
class CompletionMissingLeadingSpace(Member):
    r"""A completion does not start with exactly one space.

    What it does:
        Reports completions that start without whitespace, or with more or other
        whitespace than one space (a newline, two spaces). A completion that starts
        with a digit needs no space: the encodings of current models (``cl100k_base``,
        ``o200k_base``) never join a space to a digit, so `` 1`` is two tokens and
        ``1`` one.

    Why it matters:
        The tokenizers of OpenAI's models put a word's space in front of it
        (`` Paris`` is one token); a completion starting with one space begins with
        the same tokens the model produces after a prompt. The legacy tool required
        it.

    Example:
        ``{"prompt": "Capital of France? ->", "completion": "Paris\n"}``

    Fix:
        Start every completion with one space (``pytest-finetune prepare`` does).
    """

    code = "FT120"
    name = "completion-missing-leading-space"
    severity = Severity.ERROR
    fixable = True
    sees = (Sight.LEADING_SPACE,)

    def seen(self, line: int, where: str, detail: str) -> None:
        # The detail: the completion; one space then a control character is seen too.
        completion = detail
        leading = completion[: len(completion) - len(completion.lstrip())]
        if leading == " ":
            return  # one space, then a control character: the content checks' concern
        if completion[0].isdigit():
            return  # the encodings never join a space to a digit (see the docstring)
        if leading:
            message = f"The completion starts with {quote(leading)}; start it with one space"
        else:
            message = (
                f"The completion does not start with a space ({quote(completion, 30)}); "
                "start it with one"
            )
        self.report(line, message)
