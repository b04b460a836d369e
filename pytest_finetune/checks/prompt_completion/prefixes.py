"""FT150-FT161: what every prompt or completion starts with: a common prefix, or all of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pytest_finetune.checks.prompt_completion.survey import Member
from pytest_finetune.checks.registry import option, register
from pytest_finetune.findings import Severity
from pytest_finetune.wording import plural, quote


@dataclass(frozen=True)
class _PromptPrefixOptions:
    max_length: int = option(
        12, "Longest common prompt prefix tolerated, in characters.", minimum=0
    )


@register
class LongCommonPromptPrefix(Member):
    """All prompts start with the same long text.

    What it does:
        Reports, once, a prefix longer than ``max-length`` characters (12, as the
        legacy tool) that every prompt starts with.

    Why it matters:
        Fine-tuning needs no instruction or few-shot preamble repeated in every
        example: the examples are the instruction. The prefix costs its tokens in
        every training example and every request.

    Example:
        Every prompt starting with ``Classify the sentiment of this review: ``.

    Fix:
        Remove the prefix from the prompts (and from the requests to the fine-tuned
        model). It may carry meaning, so this is not an automatic fix.
    """

    code = "FT150"
    name = "long-common-prompt-prefix"
    severity = Severity.WARNING
    Options = _PromptPrefixOptions

    def enlist(self) -> None:
        start = self.survey.prompt_start
        start.tracking = True
        start.floor = self.options.max_length

    def judge(self) -> None:
        start = self.survey.prompt_start
        prefix = start.prefix
        if prefix and start.differ and len(prefix) > self.options.max_length:
            self.report(
                None,
                f"All prompts start with {quote(prefix)} ({plural(len(prefix), 'character')}); "
                "fine-tuning needs no instruction repeated in every example: remove it",
            )


@dataclass(frozen=True)
class _CompletionPrefixOptions:
    min_length: int = option(
        5, "Shortest common completion prefix reported, in characters.", minimum=1
    )


@register
class CommonCompletionPrefix(Member):
    """All completions start with the same text.

    What it does:
        Reports, once, a prefix of ``min-length`` characters or more (5, as the legacy
        tool, the leading space included) that every completion starts with.

    Why it matters:
        The model spends tokens generating the same words before every answer; in
        classification, labels that start alike may share their first token, which
        is the one a one-token answer is judged on.

    Example:
        Every completion starting with `` Answer: ``.

    Fix:
        Remove the prefix from the completions, keeping the leading space.
    """

    code = "FT151"
    name = "common-completion-prefix"
    severity = Severity.WARNING
    Options = _CompletionPrefixOptions

    def enlist(self) -> None:
        start = self.survey.completion_start
        start.tracking = True
        start.floor = self.options.min_length - 1

    def judge(self) -> None:
        start = self.survey.completion_start
        prefix = start.prefix
        if prefix and start.differ and len(prefix) >= self.options.min_length:
            self.report(
                None,
                f"All completions start with {quote(prefix)}; the model generates it "
                "before every answer: remove it, keeping the leading space",
            )


class AllSame(Member):
    """A check of a column whose texts are all the same."""

    key: ClassVar[str]
    #: What follows ``All 12 prompts are '...'; `` in the finding.
    consequence: ClassVar[str]

    def enlist(self) -> None:
        self.survey.start(self.key).tracking = True

    def judge(self) -> None:
        start = self.survey.start(self.key)
        same = start.first
        if start.repeats > 1 and same and not start.differ:
            self.report(
                None, f"All {start.repeats:,} {self.key}s are {quote(same)}; {self.consequence}"
            )


@register
class AllPromptsIdentical(AllSame):
    """Every prompt is the same.

    What it does:
        Reports a file of two or more examples whose prompts are all identical (and
        not all empty: that is open-ended generation).

    Why it matters:
        The model cannot learn to answer differently to the same prompt; it learns
        the distribution of completions. The legacy tool refused such data.

    Example:
        Every prompt is ``Write a tagline ->``.

    Fix:
        Put each example's input into its prompt, or leave all prompts empty for
        open-ended generation.
    """

    code = "FT160"
    name = "all-prompts-identical"
    severity = Severity.ERROR
    key = "prompt"
    consequence = "the model cannot learn from the prompt: put each example's input into it"


@register
class AllCompletionsIdentical(AllSame):
    """Every completion is the same.

    What it does:
        Reports a file of two or more examples whose completions are all identical.

    Why it matters:
        The model learns to give that one answer to everything. The legacy tool
        refused such data.

    Example:
        Every completion is `` yes``.

    Fix:
        Make sure each completion is the answer to its prompt; a classifier needs
        examples of every class.
    """

    code = "FT161"
    name = "all-completions-identical"
    severity = Severity.ERROR
    key = "completion"
    consequence = "the model will learn to give that answer to everything"
