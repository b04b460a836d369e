"""FT130-FT132: the stop sequence that ends every completion, and only there."""

from __future__ import annotations

from pytest_finetune.checks.prompt_completion.survey import Member, Sight, convention, too_few
from pytest_finetune.checks.registry import register
from pytest_finetune.conventions import Task
from pytest_finetune.findings import Severity
from pytest_finetune.wording import quote


@register
class MissingStopSequence(Member):
    r"""Completions of generation data do not end with a common stop sequence.

    What it does:
        Reports, once, conditional-generation data (not classification, not
        open-ended) whose completions share no ending, and suggests one of the legacy
        tool's stop sequences (``\n``, ``.``, `` END``, ``***``, ...) that occurs in no
        completion.

    Why it matters:
        A fine-tuned model stops at a stop sequence it has learned; without one it
        keeps generating past the answer until the token limit.

    Example:
        ``{"prompt": "Summarise: ... ->", "completion": " The parcel is late"}``

    Fix:
        Append the suggested sequence to every completion (``pytest-finetune
        prepare`` does) and pass it as ``stop`` when generating.
    """

    code = "FT130"
    name = "missing-stop-sequence"
    severity = Severity.WARNING
    fixable = True

    def enlist(self) -> None:
        survey = self.survey
        survey.suggest_stop = not survey.stop and survey.conventions.task is Task.GENERATION

    def judge(self) -> None:
        survey = self.survey
        if not survey.suggest_stop or not survey.saw_completion or too_few(self.context):
            return
        suggestion = survey.stop_candidates[0][0] if survey.stop_candidates else None
        how = (
            f"add one such as {quote(suggestion)}, which occurs in no completion,"
            if suggestion
            else "add a sequence that occurs in no completion"
        )
        self.report(
            None,
            "The completions do not end with a common stop sequence, so the model will "
            f"not know when to stop; {how} to the end of every completion and pass it "
            "as stop when generating",
        )


@register
class CompletionMissingStop(Member):
    r"""A completion lacks the stop sequence that the other completions end with.

    What it does:
        Learns the dataset's stop sequence from its first examples (the ending most
        completions share, such as ``\n`` or `` END``, or the ``stop`` in
        configuration) and reports each completion that does not end with it.
        Classification data needs no stop sequence, but one that most completions
        have must be in all of them.

    Why it matters:
        The model stops generating only where it learned to; completions without the
        stop teach it to run on, and labels without it differ from those with it.

    Example:
        ``{"prompt": "Capital of France? ->", "completion": " Paris"}`` among completions
        ending with ``\n``.

    Fix:
        Append the stop sequence (``pytest-finetune prepare`` does).
    """

    code = "FT131"
    name = "completion-missing-stop"
    severity = Severity.ERROR
    fixable = True
    sees = (Sight.MISSING_STOP,)

    def seen(self, line: int, where: str, detail: str) -> None:
        # The detail: the completion, which does not end with the stop sequence.
        expected = convention(self.survey, "completion")
        self.report(line, f"The completion does not end with {expected}; add it")


@register
class StopInsideCompletion(Member):
    """The stop sequence occurs inside a completion, before its end.

    What it does:
        Reports completions that hold the dataset's stop sequence before their end.

    Why it matters:
        Generation stops at the first stop sequence: the fine-tuned model's answers
        are cut short there, however well it learned the rest.

    Example:
        ``{"prompt": "Two facts ->", "completion": " One END two END"}`` with stop
        `` END``.

    Fix:
        Remove the sequence from the text, or choose a stop sequence that occurs in no
        completion.
    """

    code = "FT132"
    name = "stop-inside-completion"
    severity = Severity.ERROR
    sees = (Sight.STOP_INSIDE,)

    def seen(self, line: int, where: str, detail: str) -> None:
        # The detail: the completion.
        completion, stop = detail, self.survey.stop
        end = len(completion) - len(stop) if completion.endswith(stop) else len(completion)
        at = completion.find(stop, 0, end)
        if at >= 0:
            self.report(
                line,
                f"The stop sequence {quote(stop)} occurs inside the completion, at "
                f"character {at + 1}; generation stops there, cutting the answer short: "
                "remove it from the text or choose a stop sequence that occurs in no completion",
            )
