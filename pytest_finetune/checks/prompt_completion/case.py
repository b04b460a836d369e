"""FT140: prompts or completions mostly in capitals."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_finetune.checks.prompt_completion.survey import CASE_FULL, KEYS, Case, Member
from pytest_finetune.checks.registry import option, register
from pytest_finetune.findings import Severity


@dataclass(frozen=True)
class _UppercaseOptions:
    max_share: float = option(1 / 3, "Largest share of uppercase letters in a column.", minimum=0)
    rows: int = option(5, "How many of the most uppercase rows to name.", minimum=1)


@register
class MostlyUppercase(Member):
    """More than a third of the letters in prompts or completions are uppercase.

    What it does:
        Counts uppercase and lowercase letters (A to Z) in each column, as the legacy
        tool did, and reports a column whose share of uppercase letters is over
        ``max-share``, naming its most uppercase rows. Beyond the first 1,000 examples,
        one in 50 is measured: a sample that estimates the share closely at a fiftieth
        of the cost.

    Why it matters:
        Text in capitals tokenizes into more, rarer tokens than the same text in
        normal case, and trains worse; the legacy tool advised lowercasing.

    Example:
        ``{"prompt": "WHERE IS MY PARCEL? ->", "completion": " SHIPPING"}``

    Fix:
        Lowercase the column if case carries no meaning in your domain; this is a
        judgement call, so it is not an automatic fix.
    """

    code = "FT140"
    name = "mostly-uppercase"
    severity = Severity.WARNING
    Options = _UppercaseOptions

    def enlist(self) -> None:
        survey = self.survey
        survey.next_case_line = 0
        survey.case = {key: Case(self.options.max_share, self.options.rows) for key in KEYS}

    def judge(self) -> None:
        for key in KEYS:
            case = self.survey.case[key]
            share = case.share
            if share <= self.options.max_share:
                continue
            sampled = " (sampled)" if self.context.stats.lines > CASE_FULL else ""
            self.report(
                None,
                f"{share:.0%} of the letters in {key}s are uppercase{sampled}, more than "
                f"{self.options.max_share:.0%}; lowercase them if case carries no meaning",
            )
            for row_share, _letters, negative_line in case.worst:
                self.report(-negative_line, f"This {key} is {row_share:.0%} uppercase")
