r"""FT1xx: prompt/completion data and its conventions, the rules of the legacy ``prepare_data``.

Prompt/completion data carries its structure in text: a separator ends every prompt, a
single space starts every completion and a stop sequence ends it. The legacy tool
checked these over the whole file at once and printed advice; these checks say which
lines break the file's own conventions (learned by :mod:`pytest_finetune.conventions`
from its first records) and what to do about each.

Every check of the family is a member of one survey, which looks at each record once
for all of them; the checks report per line as the survey meets a problem and judge
what needs the whole file (common prefixes, identical texts, case) at the end.
"""

from __future__ import annotations

import heapq
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_finetune import conventions
from pytest_finetune.checks.registry import Check, option, register
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.conventions import Task
from pytest_finetune.findings import Severity, closest, kind, plural, quote
from pytest_finetune.formats import Format

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pytest_finetune.formats import Record
    from pytest_finetune.scan import ScanContext

KEYS = ("prompt", "completion")
#: The legacy tool's fallbacks when every candidate occurs in the data.
FALLBACK_SEPARATOR = "\n\n### =>\n\n"
FALLBACK_STOP = " [END]"
#: Examples whose case is measured before sampling starts, and the sampling stride
#: after them: the share of uppercase letters is a ratio of totals, which thousands of
#: sampled examples estimate closely, at a fiftieth of the cost of counting them all.
CASE_FULL = 1_000
CASE_STRIDE = 50
#: Distinct extra keys tracked by name; beyond this they are counted together.
MAX_EXTRA_KEYS = 50
#: Flagged prompts that must all share one label before that is worth a finding.
MIN_CORRELATED = 5

_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_LOWER = bytes(range(ord("a"), ord("z") + 1))
_NOT_UPPER = bytes(b for b in range(256) if b not in _UPPER)
_NOT_LOWER = bytes(b for b in range(256) if b not in _LOWER)


def _rarest(needle: str, texts: Iterable[str]) -> str:
    """The character of ``needle`` least frequent in ``texts``: searched for first.

    Looking for one character is a ``memchr``; looking for a string is a much slower
    scan. Most texts lack the needle's rarest character, so most texts cost only that.
    """
    sample = "".join(texts)
    return min(needle, key=sample.count)


def _convention(kind: str, suffix: conventions.Suffix, declared: bool, texts: str) -> str:
    """``the separator ' ->' that 97% of prompts end with``, for messages."""
    if declared:
        return f"the {kind} {quote(suffix.text)} declared in the configuration"
    return f"the {kind} {quote(suffix.text)} that {suffix.share:.0%} of {texts} end with"


class _Survey(Survey):
    """One look at each prompt/completion record for every FT1xx check."""

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        conv = conventions.of(context, head)
        self.conventions = conv
        self.open_ended = conv.task is Task.OPEN_ENDED
        prompts = [r.data["prompt"] for r in head if _texts(r)]
        completions = [r.data["completion"] for r in head if _texts(r)]
        self.separator = conv.separator.text
        self.stop = conv.stop.text
        # Shares are learned from the head; say so when the file may be longer. (The
        # scan module imports the checks: import it once they are all loaded.)
        from pytest_finetune.scan import HEAD_RECORDS  # noqa: PLC0415

        of = "" if len(head) < HEAD_RECORDS else f"the first {len(prompts):,} "
        self.expected_separator = _convention(
            "separator", conv.separator, "separator" in conv.declared, f"{of}prompts"
        )
        self.expected_stop = _convention(
            "stop sequence", conv.stop, "stop" in conv.declared, f"{of}completions"
        )
        self.separator_rare = (
            _rarest(self.separator, prompts + completions) if self.separator else ""
        )
        self.stop_rare = _rarest(self.stop, completions) if self.stop else ""
        # Prompts starting with whitespace are worth reporting where most do not.
        stray = sum(p[:1].isspace() for p in prompts)
        self.stray_whitespace_possible = bool(prompts) and stray * 2 < len(prompts)
        # Candidates for a separator or stop the data lacks, dropped once seen.
        self.separator_candidates = [
            (candidate, _rarest(candidate, prompts))
            for candidate in (*conventions.SEPARATOR_CANDIDATES, FALLBACK_SEPARATOR)
        ]
        self.stop_candidates = [
            (candidate, _rarest(candidate, completions))
            for candidate in (*conventions.STOP_CANDIDATES, FALLBACK_STOP)
        ]
        self.multiline_prompts = False
        self.saw_prompt = False
        self.saw_completion = False
        # Whole-file facts, narrowed record by record.
        self.same_prompts = 0
        self.same_completions = 0
        self.prompt_prefix: str | None = None
        self.completion_prefix: str | None = None
        self.same_prompt: str | None = None
        self.same_completion: str | None = None
        self.prompts_differ = False
        self.completions_differ = False
        self.misnamed: dict[str, list[int]] = {}  # key -> [count, first line]
        self.extra: dict[str, list[int]] = {}
        self.stray_labels: dict[str, int] = {}
        self.case = {key: _Case() for key in KEYS}

    def join(self, check: Check) -> None:
        super().join(check)
        # The survey does only what its selected members need.
        self.missing_key = self.member(MissingKey.code)
        self.non_string = self.member(NonStringValue.code)
        self.empty_completion = self.member(EmptyCompletion.code)
        self.empty_prompt = None if self.open_ended else self.member(EmptyPrompt.code)
        self.missing_separator = self.member(PromptMissingSeparator.code)
        inside = self.member(SeparatorInsideText.code)
        self.separator_inside = inside if self.separator.strip() else None
        self.stray_whitespace = (
            self.member(PromptLeadingWhitespace.code) if self.stray_whitespace_possible else None
        )
        self.leading_space = self.member(CompletionMissingLeadingSpace.code)
        self.missing_stop = self.member(CompletionMissingStop.code)
        self.stop_inside = self.member(StopInsideCompletion.code)
        self.suggest_separator = (
            not self.separator
            and not self.open_ended
            and self.member(MissingSeparator.code) is not None
        )
        self.suggest_stop = (
            not self.stop
            and self.conventions.task is Task.GENERATION
            and self.member(MissingStopSequence.code) is not None
        )
        uppercase = self.member(MostlyUppercase.code)
        self.next_case_line = 0 if uppercase is not None else sys.maxsize
        if uppercase is not None:
            options = uppercase.options
            self.case = {key: _Case(options.max_share, options.rows) for key in KEYS}
        # Prefixes and sameness are tracked until they can no longer be reported: once
        # the prompts differ and their common prefix is short enough to be fine.
        prompt_prefix = self.member(LongCommonPromptPrefix.code)
        self.prompt_prefix_floor = (
            prompt_prefix.options.max_length if prompt_prefix is not None else -1
        )
        self.track_prompts = prompt_prefix is not None or bool(
            self.member(AllPromptsIdentical.code)
        )
        completion_prefix = self.member(CommonCompletionPrefix.code)
        self.completion_prefix_floor = (
            completion_prefix.options.min_length - 1 if completion_prefix is not None else -1
        )
        self.track_completions = completion_prefix is not None or bool(
            self.member(AllCompletionsIdentical.code)
        )

    # The hot path, in one function on purpose (a call per part would cost more than
    # the part): cheap tests first, string searches only where a cheap test failed.
    # ``text[0] <= " "`` is true for whitespace (and control characters): a comparison
    # instead of a method call, confirmed with ``isspace`` on the rare path.
    def visit(self, record: Record) -> None:
        data = record.data
        line = record.line
        prompt = data.get("prompt")
        completion = data.get("completion")
        if len(data) != 2 or type(prompt) is not str or type(completion) is not str:
            prompt, completion = self._keys(line, data, prompt, completion)
        if prompt is not None:
            if not prompt or (prompt[0] <= " " and prompt.isspace()):
                if self.empty_prompt is not None:
                    self._empty(self.empty_prompt, line, "prompt", prompt)
            else:
                separator = self.separator
                if separator:
                    end = len(prompt)
                    if prompt.endswith(separator):
                        end -= len(separator)
                    elif self.missing_separator is not None:
                        self._missing_separator(self.missing_separator, line, prompt)
                    if (
                        self.separator_inside is not None
                        and 0 <= prompt.find(self.separator_rare) < end
                    ):
                        self._separator_in_prompt(self.separator_inside, line, prompt, end)
                elif self.suggest_separator:
                    self._unseen_separators(prompt)
                if prompt[0] <= " " and self.stray_whitespace is not None:
                    self._stray_whitespace(self.stray_whitespace, line, prompt, completion)
                if self.track_prompts:
                    self._track_prompt(prompt)
        if completion is not None:
            if not completion or (completion[0] <= " " and completion.isspace()):
                if self.empty_completion is not None:
                    self._empty(self.empty_completion, line, "completion", completion)
            else:
                # A completion that starts with a space has a second character (a
                # lone space is empty, above).
                if self.leading_space is not None and (
                    completion[0] != " " or completion[1] <= " "
                ):
                    self._leading_space(self.leading_space, line, completion)
                stop = self.stop
                if stop:
                    end = len(completion)
                    if completion.endswith(stop):
                        end -= len(stop)
                    elif self.missing_stop is not None:
                        self._missing_stop(self.missing_stop, line)
                    if self.stop_inside is not None and 0 <= completion.find(self.stop_rare) < end:
                        self._stop_inside(self.stop_inside, line, completion, end)
                elif self.suggest_stop:
                    self._unseen_stops(completion)
                if self.separator_inside is not None and self.separator_rare in completion:
                    self._separator_in_completion(self.separator_inside, line, completion)
                if self.track_completions:
                    self._track_completion(completion)
        if line >= self.next_case_line:
            self._measure_case(line, prompt, completion)

    # -- the rare paths ---------------------------------------------------------------

    def _keys(
        self, line: int, data: dict[str, Any], prompt: object, completion: object
    ) -> tuple[str | None, str | None]:
        """Report misnamed, missing, extra and non-string keys; return usable texts."""
        values = {"prompt": prompt, "completion": completion}
        present = {key for key in KEYS if key in data}
        for key, value in data.items():
            if key in KEYS:
                continue
            wanted = key.strip().lower()
            if wanted in KEYS and wanted not in present:
                present.add(wanted)
                values[wanted] = value
                _count(self.misnamed, key, line)
            elif len(self.extra) < MAX_EXTRA_KEYS or key in self.extra:
                _count(self.extra, key, line)
            else:
                _count(self.extra, "", line)  # "other keys"
        for key in KEYS:
            if key not in present and self.missing_key is not None:
                near = closest(key, [str(k) for k in data])
                hint = f" (is {near!r} meant to be {key!r}?)" if near else ""
                self.missing_key.report(
                    line,
                    f"Missing key {key!r}{hint}; every example needs a prompt and a completion",
                )
        texts: list[str | None] = []
        for key in KEYS:
            value = values[key]
            if key in present and not isinstance(value, str):
                if self.non_string is not None:
                    self.non_string.report(
                        line,
                        f"The {key} is {kind(value, detail=True)}, not a string; write it as text "
                        "(in quotes)",
                    )
                value = None
            texts.append(value if isinstance(value, str) else None)
        return texts[0], texts[1]

    def _separator_in_prompt(self, check: Check, line: int, prompt: str, end: int) -> None:
        at = prompt.find(self.separator, 0, end)
        if at >= 0:
            check.report(
                line,
                f"The separator {quote(self.separator)} also occurs inside the prompt, at "
                f"character {at + 1}; the model cannot tell where the prompt ends: rephrase "
                "the text or choose a separator that occurs in no prompt",
            )

    def _separator_in_completion(self, check: Check, line: int, completion: str) -> None:
        if self.separator in completion:
            check.report(
                line,
                f"The separator {quote(self.separator)} occurs inside the completion; the "
                "model learns to continue after it as if a new prompt had ended: remove it "
                "or choose a separator that occurs in no completion",
            )

    def _stop_inside(self, check: Check, line: int, completion: str, end: int) -> None:
        at = completion.find(self.stop, 0, end)
        if at >= 0:
            check.report(
                line,
                f"The stop sequence {quote(self.stop)} occurs inside the completion, at "
                f"character {at + 1}; generation stops there, cutting the answer short: "
                "remove it from the text or choose a stop sequence that occurs in no completion",
            )

    def _measure_case(self, line: int, prompt: str | None, completion: str | None) -> None:
        self.next_case_line = line + 1 if line < CASE_FULL else line + CASE_STRIDE
        if prompt:
            self.case["prompt"].add(line, prompt)
        if completion:
            self.case["completion"].add(line, completion)

    def _unseen_separators(self, prompt: str) -> None:
        self.saw_prompt = True
        self._drop_seen(self.separator_candidates, prompt)
        if not self.multiline_prompts and "\n" in prompt:
            self.multiline_prompts = True

    def _missing_stop(self, check: Check, line: int) -> None:
        check.report(line, f"The completion does not end with {self.expected_stop}; add it")

    def _unseen_stops(self, completion: str) -> None:
        self.saw_completion = True
        self._drop_seen(self.stop_candidates, completion)

    def _empty(self, check: Check, line: int, key: str, text: str) -> None:
        what = "empty" if not text else f"only whitespace ({quote(text)})"
        check.report(line, f"The {key} is {what}; fill it in or remove the example")

    def _missing_separator(self, check: Check, line: int, prompt: str) -> None:
        separator = self.separator
        hint = ""
        stripped = prompt.rstrip()
        if stripped.endswith(separator):
            hint = f" (it ends with {quote(prompt[len(stripped) - len(separator) :])})"
        elif separator in prompt:
            hint = " (it holds it earlier, not at the end)"
        check.report(line, f"The prompt does not end with {self.expected_separator}{hint}; add it")

    def _stray_whitespace(
        self, check: Check, line: int, prompt: str, completion: str | None
    ) -> None:
        if not prompt[0].isspace():
            return  # a control character: the content checks' concern
        check.report(
            line,
            f"The prompt starts with whitespace ({quote(prompt, 30)}), unlike most prompts; "
            "remove it",
        )
        if completion is not None and self.conventions.classification:
            label = self.conventions.label(completion)
            self.stray_labels[label] = self.stray_labels.get(label, 0) + 1

    @staticmethod
    def _leading_space(check: Check, line: int, completion: str) -> None:
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
        check.report(line, message)

    @staticmethod
    def _drop_seen(candidates: list[tuple[str, str]], text: str) -> None:
        for item in candidates:
            candidate, rare = item
            if rare in text and candidate in text:
                candidates[:] = [c for c in candidates if c[0] not in text]
                return

    def _track_prompt(self, prompt: str) -> None:
        prefix = self.prompt_prefix
        if prefix is None:
            self.prompt_prefix = self.same_prompt = prompt
            self.same_prompts = 1
            return
        if not self.prompts_differ:
            if prompt == self.same_prompt:
                self.same_prompts += 1
            else:
                self.prompts_differ = True
        if not prompt.startswith(prefix):
            prefix = self.prompt_prefix = _common_prefix(prefix, prompt)
        if self.prompts_differ and len(prefix) <= self.prompt_prefix_floor:
            self.track_prompts = False

    def _track_completion(self, completion: str) -> None:
        prefix = self.completion_prefix
        if prefix is None:
            self.completion_prefix = self.same_completion = completion
            self.same_completions = 1
            return
        if not self.completions_differ:
            if completion == self.same_completion:
                self.same_completions += 1
            else:
                self.completions_differ = True
        if not completion.startswith(prefix):
            prefix = self.completion_prefix = _common_prefix(prefix, completion)
        if self.completions_differ and len(prefix) <= self.completion_prefix_floor:
            self.track_completions = False


def _texts(record: Record) -> bool:
    """Whether ``record`` has a string prompt and a string completion."""
    data = record.data
    return isinstance(data.get("prompt"), str) and isinstance(data.get("completion"), str)


def _count(counts: dict[str, list[int]], key: str, line: int) -> None:
    found = counts.get(key)
    if found is None:
        counts[key] = [1, line]
    else:
        found[0] += 1


def _common_prefix(a: str, b: str) -> str:
    # A binary search over slice comparisons (done in C), not a loop over characters.
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return a[:low]


class _Case:
    """Uppercase and lowercase ASCII letters of one column, and its most uppercase rows."""

    def __init__(self, threshold: float = 1 / 3, keep: int = 5) -> None:
        self.upper = 0
        self.lower = 0
        self.threshold = threshold
        self.keep = keep
        #: ``(share, letters, -line)`` of the rows over the threshold, a bounded heap
        #: (ties go to the rows with more letters, then to the earlier ones).
        self.worst: list[tuple[float, int, int]] = []

    def add(self, line: int, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        upper = len(data.translate(None, _NOT_UPPER))
        lower = len(data.translate(None, _NOT_LOWER))
        self.upper += upper
        self.lower += lower
        letters = upper + lower
        if letters and upper > self.threshold * letters:
            item = (upper / letters, letters, -line)
            if len(self.worst) < self.keep:
                heapq.heappush(self.worst, item)
            else:
                heapq.heappushpop(self.worst, item)

    @property
    def share(self) -> float:
        letters = self.upper + self.lower
        return self.upper / letters if letters else 0.0


# -- the checks ----------------------------------------------------------------------


class _Member(Surveyed):
    """A check of the prompt/completion family."""

    formats = frozenset({Format.PROMPT_COMPLETION})
    survey_type = _Survey
    survey: _Survey


@register
class KeyWrongCase(_Member):
    """A ``prompt`` or ``completion`` key is spelled in another case or with spaces.

    What it does:
        Reports keys such as ``Prompt``, ``COMPLETION`` or ``"prompt "`` that stand for
        ``prompt`` or ``completion``, once per spelling, with how many examples have it.
        The other checks read the value as the prompt or completion it means.

    Why it matters:
        Keys must match exactly: the service finds no prompt or completion and rejects
        the example (the legacy tool offered to lowercase them).

    Example:
        ``{"Prompt": "Where is my parcel? ->", "Completion": " shipping"}``

    Fix:
        Rename the keys to ``prompt`` and ``completion`` (``pytest-finetune prepare``
        does).
    """

    code = "FT101"
    name = "key-wrong-case"
    severity = Severity.ERROR
    fixable = True

    def judge(self) -> None:
        for key, (count, first) in self.survey.misnamed.items():
            wanted = key.strip().lower()
            self.report(
                first,
                f"Key {key!r} should be {wanted!r} (keys must match exactly), in "
                f"{_examples(count, self.context)}; rename it",
            )


@register
class MissingKey(_Member):
    """An example lacks its ``prompt`` or its ``completion``.

    What it does:
        Reports each example without a ``prompt`` or ``completion`` key (in any case),
        naming a key that looks like a misspelling of it.

    Why it matters:
        The service rejects the file: every prompt/completion example needs both.

    Example:
        ``{"prompt": "Where is my parcel? ->", "completions": " shipping"}``

    Fix:
        Add the missing key, or rename the misspelled one.
    """

    code = "FT102"
    name = "missing-prompt-or-completion"
    severity = Severity.ERROR


@register
class ExtraKey(_Member):
    """Examples have keys besides ``prompt`` and ``completion``.

    What it does:
        Reports each extra key once, at its first example, with how many examples have
        it.

    Why it matters:
        Fine-tuning reads only the prompt and the completion: the extra data is not
        trained on (if it is the label you meant, it is lost), makes the upload bigger,
        and stricter validators reject it.

    Example:
        ``{"prompt": "Where is my parcel? ->", "completion": " shipping", "id": 17}``

    Fix:
        Remove the extra keys (``pytest-finetune prepare`` does), keeping them in a
        separate file if you need them.
    """

    code = "FT103"
    name = "extra-key"
    severity = Severity.WARNING
    fixable = True

    def judge(self) -> None:
        # Keys exported together (every column of a table) make one finding.
        together: dict[tuple[int, int], list[str]] = {}
        for key, (count, first) in self.survey.extra.items():
            together.setdefault((first, count), []).append(key)
        for (first, count), keys in sorted(together.items()):
            one = len(keys) == 1 and keys[0] != ""
            if one:
                what = f"Key {keys[0]!r} is"
            elif keys == [""]:
                what = "Other keys are"  # beyond the keys tracked by name
            else:
                what = f"Keys {', '.join(repr(key) if key else 'others' for key in keys)} are"
            it = "it" if one else "them"
            self.report(
                first,
                f"{what} not prompt or completion, in {_examples(count, self.context)}; "
                f"fine-tuning does not use {it}: remove {it}",
            )


@register
class NonStringValue(_Member):
    """A ``prompt`` or ``completion`` is not a string.

    What it does:
        Reports prompts and completions that are numbers, booleans, null, lists or
        objects.

    Why it matters:
        The service rejects them; a number label such as ``1`` must be the text ``" 1"``.

    Example:
        ``{"prompt": "Is this spam? ->", "completion": 1}``

    Fix:
        Write the value as a JSON string.
    """

    code = "FT104"
    name = "non-string-value"
    severity = Severity.ERROR


@register
class EmptyCompletion(_Member):
    """A completion is empty or only whitespace.

    What it does:
        Reports each completion that is ``""`` or holds only spaces and newlines.

    Why it matters:
        The model learns to answer nothing; the legacy tool dropped such examples.

    Example:
        ``{"prompt": "Where is my parcel? ->", "completion": ""}``

    Fix:
        Write the completion, or remove the example (``pytest-finetune prepare`` does).
    """

    code = "FT105"
    name = "empty-completion"
    severity = Severity.ERROR
    fixable = True


@register
class EmptyPrompt(_Member):
    """A prompt is empty or only whitespace, while the others are not.

    What it does:
        Reports each empty prompt, unless the data is open-ended generation (every
        prompt empty, which the legacy tool allowed on purpose).

    Why it matters:
        The example teaches the model to produce its completion from nothing, which
        is rarely what one empty row in a file of questions means. The legacy tool
        never checked it.

    Example:
        ``{"prompt": "", "completion": " shipping"}`` among prompts with text.

    Fix:
        Fill in the prompt, or remove the example (``pytest-finetune prepare`` does).
    """

    code = "FT106"
    name = "empty-prompt"
    severity = Severity.WARNING
    fixable = True


@register
class MissingSeparator(_Member):
    r"""No separator ends the prompts.

    What it does:
        Reports, once, prompt/completion data whose prompts share no separator at
        their end, and suggests one of the legacy tool's separators (`` ->``,
        ``\n\n###\n\n``, ``\n\n===\n\n``, ...) that occurs in no prompt (`` ->`` only when
        no prompt has several lines). Open-ended data (all prompts empty) needs none.

    Why it matters:
        Without a fixed marker at the end of each prompt the model cannot tell where
        the prompt stops and the answer starts; it may continue the prompt instead of
        answering. At inference every prompt must end with the same separator.

    Example:
        ``{"prompt": "What is the capital of France?", "completion": " Paris\n"}``

    Fix:
        Append the suggested separator to every prompt (``pytest-finetune prepare``
        does) and to every prompt sent to the fine-tuned model.
    """

    code = "FT110"
    name = "missing-separator"
    severity = Severity.WARNING
    fixable = True

    def judge(self) -> None:
        survey = self.survey
        if not survey.suggest_separator or not survey.saw_prompt or _too_few(self.context):
            return
        candidates = [c for c, _ in survey.separator_candidates]
        if survey.multiline_prompts and " ->" in candidates:
            candidates.remove(" ->")
        suggestion = candidates[0] if candidates else None
        how = (
            f"add one such as {quote(suggestion)}, which occurs in no prompt"
            if suggestion
            else "add a sequence that occurs in no prompt"
        )
        self.report(
            None,
            "The prompts do not end with a common separator, so the model cannot tell "
            f"where a prompt ends; {how}, to the end of every prompt",
        )


@register
class PromptMissingSeparator(_Member):
    """A prompt lacks the separator that the other prompts end with.

    What it does:
        Learns the dataset's separator from its first examples (the suffix most
        prompts share, such as `` ->``, or the ``separator`` in configuration) and
        reports each prompt that does not end with it, noting when the separator is
        there but followed by whitespace or placed earlier.

    Why it matters:
        The model learns that the answer starts after the separator; prompts without
        it teach it to answer mid-prompt, and the legacy tool, which took the suffix
        common to all prompts, found no separator at all when one prompt lacked it.

    Example:
        ``{"prompt": "Where is my parcel?", "completion": " shipping"}`` among prompts
        ending with `` ->``.

    Fix:
        Append the separator to the prompt (``pytest-finetune prepare`` does).
    """

    code = "FT111"
    name = "prompt-missing-separator"
    severity = Severity.ERROR
    fixable = True


@register
class SeparatorInsideText(_Member):
    """The separator occurs inside a prompt or a completion.

    What it does:
        Reports prompts that hold the dataset's separator before their end, and
        completions that hold it anywhere. Separators of only whitespace (a newline)
        are not searched for: multi-line text holds them everywhere.

    Why it matters:
        The separator tells the model that the prompt is over. Inside a prompt it
        announces the answer too early; inside a completion it teaches the model that
        a new prompt may end in its answer.

    Example:
        ``{"prompt": "Convert -> to => ->", "completion": " =>"}``

    Fix:
        Rephrase the text, or choose a separator that occurs in no example.
    """

    code = "FT112"
    name = "separator-inside-text"
    severity = Severity.WARNING


@register
class PromptLeadingWhitespace(_Member):
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

    def judge(self) -> None:
        labels = self.survey.stray_labels
        total = sum(labels.values())
        if len(labels) == 1 and total >= MIN_CORRELATED:
            [label] = labels
            self.report(
                None,
                f"All {total:,} prompts that start with whitespace have the label "
                f"{quote(label)}: the model can learn the whitespace as the cue for it",
            )


@register
class CompletionMissingLeadingSpace(_Member):
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


@register
class MissingStopSequence(_Member):
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

    def judge(self) -> None:
        survey = self.survey
        if not survey.suggest_stop or not survey.saw_completion or _too_few(self.context):
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
class CompletionMissingStop(_Member):
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


@register
class StopInsideCompletion(_Member):
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


@dataclass(frozen=True)
class _UppercaseOptions:
    max_share: float = option(1 / 3, "Largest share of uppercase letters in a column.")
    rows: int = option(5, "How many of the most uppercase rows to name.")


@register
class MostlyUppercase(_Member):
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


@dataclass(frozen=True)
class _PromptPrefixOptions:
    max_length: int = option(12, "Longest common prompt prefix tolerated, in characters.")


@register
class LongCommonPromptPrefix(_Member):
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

    def judge(self) -> None:
        survey = self.survey
        prefix = survey.prompt_prefix
        if prefix and survey.prompts_differ and len(prefix) > self.options.max_length:
            self.report(
                None,
                f"All prompts start with {quote(prefix)} ({plural(len(prefix), 'character')}); "
                "fine-tuning needs no instruction repeated in every example: remove it",
            )


@dataclass(frozen=True)
class _CompletionPrefixOptions:
    min_length: int = option(5, "Shortest common completion prefix reported, in characters.")


@register
class CommonCompletionPrefix(_Member):
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

    def judge(self) -> None:
        survey = self.survey
        prefix = survey.completion_prefix
        if prefix and survey.completions_differ and len(prefix) >= self.options.min_length:
            self.report(
                None,
                f"All completions start with {quote(prefix)}; the model generates it "
                "before every answer: remove it, keeping the leading space",
            )


@register
class AllPromptsIdentical(_Member):
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

    def judge(self) -> None:
        survey = self.survey
        same = survey.same_prompt
        if survey.same_prompts > 1 and same and not survey.prompts_differ:
            self.report(
                None,
                f"All {survey.same_prompts:,} prompts are {quote(same)}; the model cannot learn "
                "from the prompt: put each example's input into it",
            )


@register
class AllCompletionsIdentical(_Member):
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

    def judge(self) -> None:
        survey = self.survey
        same = survey.same_completion
        if survey.same_completions > 1 and same and not survey.completions_differ:
            self.report(
                None,
                f"All {survey.same_completions:,} completions are {quote(same)}; the model will "
                "learn to give that answer to everything",
            )


def _too_few(context: ScanContext) -> bool:
    """Whether a file has too few examples to show a convention (one shares nothing)."""
    return context.stats.examples < 2


def _examples(count: int, context: ScanContext) -> str:
    if count == context.stats.examples:
        return f"all {plural(count, 'example')}, the first here"
    if count == 1:
        return "this example only"
    return f"{plural(count, 'example')}, the first here"
