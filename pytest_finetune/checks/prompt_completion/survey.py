"""The one look at each prompt/completion record that every FT1xx check shares.

The survey learns the file's conventions from its head, then looks at each record
once: it hands each problem to the member check that reports it (on the rare path, so
that a clean record costs only cheap tests) and narrows the whole-file facts that the
members judge at the end: common prefixes, identical texts, letter case, the
separators and stop sequences no text holds.
"""

from __future__ import annotations

import enum
import heapq
import sys
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pytest_finetune import conventions, extensions, file_conventions
from pytest_finetune.checks.prompt_completion.departures import Expected, departures
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.conventions import Task
from pytest_finetune.formats import PROMPT_COMPLETION_KEYS, Format
from pytest_finetune.texts import common_prefix, letter_case
from pytest_finetune.wording import plural, quote

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext
    from pytest_finetune.formats import Batch, Record

KEYS = PROMPT_COMPLETION_KEYS
#: Examples whose case is measured before sampling starts, and the sampling stride
#: after them: the share of uppercase letters is a ratio of totals, which thousands of
#: sampled examples estimate closely, at a fiftieth of the cost of counting them all.
CASE_FULL = 1_000
CASE_STRIDE = 50
#: Distinct extra keys named in findings, the first by line; the others are counted together.
MAX_EXTRA_KEYS = 50
#: Distinct extra keys counted by name, so that the first ones by line are known however
#: the file is cut into chunks; beyond this (a key per example) they are counted together.
MAX_TRACKED_KEYS = 10_000


class Sight(enum.Enum):
    """What the survey sees in a prompt/completion record, each judged by one FT1xx check.

    Each is told with where it was seen (``prompt`` or ``completion``) and a detail.
    """

    #: A key the record lacks (where: the key; detail: the record's data).
    MISSING_KEY = enum.auto()
    #: A value that is not a string (where: the key; detail: the value).
    NON_STRING = enum.auto()
    #: A prompt or completion empty or only whitespace (detail: the text).
    EMPTY_PROMPT = enum.auto()
    EMPTY_COMPLETION = enum.auto()
    #: A prompt that does not end with the dataset's separator (detail: the prompt).
    MISSING_SEPARATOR = enum.auto()
    #: A text that may hold the separator before its end: its rarest character is
    #: there (detail: the text).
    SEPARATOR_INSIDE = enum.auto()
    #: A prompt that starts with whitespace or a control character (detail: the
    #: prompt and the completion, or ``None``).
    STRAY_WHITESPACE = enum.auto()
    #: A completion that does not start with one space and then a character that is
    #: no whitespace (detail: the completion).
    LEADING_SPACE = enum.auto()
    #: A completion that does not end with the dataset's stop sequence (detail: it).
    MISSING_STOP = enum.auto()
    #: A completion that may hold the stop sequence before its end (detail: it).
    STOP_INSIDE = enum.auto()


class _Survey(Survey):
    """One look at each prompt/completion record for every FT1xx check."""

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        conv = file_conventions.of(context, head)
        self.conventions = conv
        self.open_ended = conv.task is Task.OPEN_ENDED
        prompts = [r.data["prompt"] for r in head if _texts(r)]
        completions = [r.data["completion"] for r in head if _texts(r)]
        self.separator = conv.separator.text
        self.stop = conv.stop.text
        #: The examples the conventions were learned from, where the file may hold more.
        self.learned_from = len(prompts) if len(head) >= conventions.HEAD_RECORDS else None
        # Each character is counted once in each column, whatever the needles holding it.
        in_prompts = _Counts("".join(prompts))
        in_completions = _Counts("".join(completions))
        self.separator_rare = (
            min(self.separator, key=lambda c: in_prompts[c] + in_completions[c])
            if self.separator
            else ""
        )
        self.stop_rare = in_completions.rarest(self.stop) if self.stop else ""
        # Prompts starting with whitespace are worth reporting where most do not.
        stray = sum(p[:1].isspace() for p in prompts)
        self.stray_whitespace_possible = bool(prompts) and stray * 2 < len(prompts)
        # Candidates for a separator or stop the data lacks, dropped once seen.
        self.separator_candidates = [
            (candidate, in_prompts.rarest(candidate))
            for candidate in conventions.SEPARATOR_SUGGESTIONS
        ]
        self.stop_candidates = [
            (candidate, in_completions.rarest(candidate))
            for candidate in conventions.STOP_SUGGESTIONS
        ]
        self.multiline_prompts = False
        self.saw_prompt = False
        self.saw_completion = False
        # Whole-file facts, narrowed record by record.
        self.prompt_start = CommonStart()
        self.completion_start = CommonStart()
        self.misnamed: dict[str, list[int]] = {}  # key -> [count, first line]
        self.extra: dict[str, list[int]] = {}
        # The members told of each sight (see :meth:`ready`); one left ``None`` costs
        # nothing per record.
        self.missing_key: Surveyed | None = None
        self.non_string: Surveyed | None = None
        self.empty_prompt: Surveyed | None = None
        self.empty_completion: Surveyed | None = None
        self.missing_separator: Surveyed | None = None
        self.separator_inside: Surveyed | None = None
        self.stray_whitespace: Surveyed | None = None
        self.leading_space: Surveyed | None = None
        self.missing_stop: Surveyed | None = None
        self.stop_inside: Surveyed | None = None
        #: What the cheap tests of a batch expect (``None``: every record is visited).
        self.expected: Expected | None = None
        # What the selected members gather over the whole file (see their ``enlist``).
        self.suggest_separator = False
        self.suggest_stop = False
        self.next_case_line = sys.maxsize
        self.case = {key: Case() for key in KEYS}

    def ready(self) -> None:
        watcher = self.watchers.get
        self.missing_key = watcher(Sight.MISSING_KEY)
        self.non_string = watcher(Sight.NON_STRING)
        self.empty_prompt = watcher(Sight.EMPTY_PROMPT)
        self.empty_completion = watcher(Sight.EMPTY_COMPLETION)
        self.missing_separator = watcher(Sight.MISSING_SEPARATOR)
        self.separator_inside = watcher(Sight.SEPARATOR_INSIDE)
        self.stray_whitespace = watcher(Sight.STRAY_WHITESPACE)
        self.leading_space = watcher(Sight.LEADING_SPACE)
        self.missing_stop = watcher(Sight.MISSING_STOP)
        self.stop_inside = watcher(Sight.STOP_INSIDE)
        # Looking for a separator or stop the file lacks takes every record.
        lacking = (not self.separator and self.suggest_separator) or (
            not self.stop and self.suggest_stop
        )
        self.expected = (
            None
            if lacking
            else Expected(
                self.separator,
                self.separator_rare,
                self.stop,
                self.stop_rare,
                separator_inside=self.separator_inside is not None,
                stop_inside=self.stop_inside is not None,
                leading_space=self.leading_space is not None,
            )
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
                    self.empty_prompt.seen(line, "prompt", prompt)
            else:
                separator = self.separator
                if separator:
                    end = len(prompt)
                    if prompt.endswith(separator):
                        end -= len(separator)
                    elif self.missing_separator is not None:
                        self.missing_separator.seen(line, "prompt", prompt)
                    if (
                        self.separator_inside is not None
                        and 0 <= prompt.find(self.separator_rare) < end
                    ):
                        self.separator_inside.seen(line, "prompt", prompt)
                elif self.suggest_separator:
                    self._unseen_separators(prompt)
                if prompt[0] <= " " and self.stray_whitespace is not None:
                    self.stray_whitespace.seen(line, "prompt", (prompt, completion))
                if self.prompt_start.tracking:
                    self.prompt_start.add(prompt)
        if completion is not None:
            if not completion or (completion[0] <= " " and completion.isspace()):
                if self.empty_completion is not None:
                    self.empty_completion.seen(line, "completion", completion)
            else:
                # A completion that starts with a space has a second character (a
                # lone space is empty, above).
                if self.leading_space is not None and (
                    completion[0] != " " or completion[1] <= " "
                ):
                    self.leading_space.seen(line, "completion", completion)
                stop = self.stop
                if stop:
                    end = len(completion)
                    if completion.endswith(stop):
                        end -= len(stop)
                    elif self.missing_stop is not None:
                        self.missing_stop.seen(line, "completion", completion)
                    if self.stop_inside is not None and 0 <= completion.find(self.stop_rare) < end:
                        self.stop_inside.seen(line, "completion", completion)
                elif self.suggest_stop:
                    self._unseen_stops(completion)
                if self.separator_inside is not None and self.separator_rare in completion:
                    self.separator_inside.seen(line, "completion", completion)
                if self.completion_start.tracking:
                    self.completion_start.add(completion)
        if line >= self.next_case_line:
            self._measure_case(line, prompt, completion)

    def visit_batch(self, batch: Batch) -> None:
        """What :meth:`visit` does for each record of ``batch``, over whole lists.

        A few calls over the batch's texts tell which records may have something to be
        seen (most: none); those go through :meth:`visit`, and for the others only the
        whole-file facts are narrowed, in file order.
        """
        read = extensions.plain_departures
        found: Iterable[int] | None = None
        if batch.unparsed and read is not None and self.expected is not None:
            found = read(batch.raws, *self.expected)
        prompts: Sequence[str]
        completions: Sequence[str]
        if found is not None:
            # The tests read the raw lines in C: a text is parsed where a fact needs it.
            prompts, completions = _Texts(batch, "prompt"), _Texts(batch, "completion")
        else:
            prompts, completions = batch.column("prompt"), batch.column("completion")
            found = self._may_see(batch.datas, prompts, completions)
        start = 0
        for index in found:
            self._narrow(batch.lines, prompts, completions, start, index)
            self.visit(batch.record(index))
            start = index + 1
        self._narrow(batch.lines, prompts, completions, start, len(batch.lines))

    def _may_see(
        self, datas: list[Any], prompts: list[Any], completions: list[Any]
    ) -> Iterable[int]:
        """The indexes of the records in which :meth:`visit` may see something.

        Those that may depart from the file's conventions (see :mod:`.departures`); all,
        where a record has other keys, or a separator or stop is being looked for.
        """
        every = range(len(datas))
        if self.expected is None or set(map(len, datas)) != {2}:
            return every
        found = departures(prompts, completions, self.expected)
        return every if found is None else found

    def _narrow(
        self,
        lines: list[int],
        prompts: Sequence[str],
        completions: Sequence[str],
        start: int,
        end: int,
    ) -> None:
        """Narrow the whole-file facts with the records ``start`` to ``end`` of a batch.

        In those records :meth:`visit` would see nothing.
        """
        for common, texts in ((self.prompt_start, prompts), (self.completion_start, completions)):
            for index in range(start, end):
                if not common.tracking:
                    break
                common.add(texts[index])
        index = bisect_left(lines, self.next_case_line, start, end)
        while index < end:
            self._measure_case(lines[index], prompts[index], completions[index])
            index = bisect_left(lines, self.next_case_line, index + 1, end)

    # -- the rare paths ---------------------------------------------------------------

    def _keys(
        self, line: int, data: dict[str, Any], prompt: object, completion: object
    ) -> tuple[str | None, str | None]:
        """Count misnamed and extra keys, report missing and non-string ones; the texts."""
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
            elif len(self.extra) < MAX_TRACKED_KEYS or key in self.extra:
                _count(self.extra, key, line)
            else:
                _count(self.extra, "", line)  # "other keys"
        for key in KEYS:
            if key not in present and self.missing_key is not None:
                self.missing_key.seen(line, key, data)
        texts: list[str | None] = []
        for key in KEYS:
            value = values[key]
            if key in present and not isinstance(value, str):
                if self.non_string is not None:
                    self.non_string.seen(line, key, value)
                value = None
            texts.append(value if isinstance(value, str) else None)
        return texts[0], texts[1]

    def _measure_case(self, line: int, prompt: str | None, completion: str | None) -> None:
        # Past the first lines, the lines on a fixed grid: the same wherever a chunk of
        # the file starts (see ``merge``).
        if line < CASE_FULL:
            self.next_case_line = line + 1
        else:
            self.next_case_line = line - (line - CASE_FULL) % CASE_STRIDE + CASE_STRIDE
            if (line - CASE_FULL) % CASE_STRIDE:
                return
        if prompt:
            self.case["prompt"].add(line, prompt)
        if completion:
            self.case["completion"].add(line, completion)

    def _unseen_separators(self, prompt: str) -> None:
        self.saw_prompt = True
        self._drop_seen(self.separator_candidates, prompt)
        if not self.multiline_prompts and "\n" in prompt:
            self.multiline_prompts = True

    def _unseen_stops(self, completion: str) -> None:
        self.saw_completion = True
        self._drop_seen(self.stop_candidates, completion)

    @staticmethod
    def _drop_seen(candidates: list[tuple[str, str]], text: str) -> None:
        for item in candidates:
            candidate, rare = item
            if rare in text and candidate in text:
                candidates[:] = [c for c in candidates if c[0] not in text]
                return

    def merge(self, later: _Survey) -> None:
        self.multiline_prompts |= later.multiline_prompts
        self.saw_prompt |= later.saw_prompt
        self.saw_completion |= later.saw_completion
        # Candidates are dropped once seen: the unseen are those unseen in both.
        self.separator_candidates = [
            c for c in self.separator_candidates if c in later.separator_candidates
        ]
        self.stop_candidates = [c for c in self.stop_candidates if c in later.stop_candidates]
        self.prompt_start.merge(later.prompt_start)
        self.completion_start.merge(later.completion_start)
        for mine, theirs in ((self.misnamed, later.misnamed), (self.extra, later.extra)):
            for key, (count, line) in theirs.items():
                if key in mine or mine is not self.extra or len(mine) < MAX_TRACKED_KEYS:
                    _count(mine, key, line)
                    mine[key][0] += count - 1
                else:
                    _count(mine, "", line)
                    mine[""][0] += count - 1
        for key, case in self.case.items():
            case.merge(later.case[key])

    def extra_keys(self) -> dict[str, list[int]]:
        """The extra keys to name, each with its count and first line.

        The first :data:`MAX_EXTRA_KEYS` by line by name, the others together under ``""``.
        """
        by_line = sorted(self.extra.items(), key=lambda item: item[1][1])
        named = {key: list(found) for key, found in by_line[:MAX_EXTRA_KEYS] if key}
        for key, (count, line) in by_line:
            if key not in named:
                others = named.setdefault("", [0, line])
                others[0] += count
                others[1] = min(others[1], line)
        return named

    def start(self, key: str) -> CommonStart:
        """What every text of the column ``key`` starts with."""
        return self.prompt_start if key == "prompt" else self.completion_start


class Member(Surveyed):
    """A check of the prompt/completion family: the survey looks at records for it."""

    formats = frozenset({Format.PROMPT_COMPLETION})
    survey_type = _Survey
    survey: _Survey


class Case:
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
        """Count the letters of one row."""
        upper, lower = letter_case(text)
        self.upper += upper
        self.lower += lower
        letters = upper + lower
        if letters and upper > self.threshold * letters:
            item = (upper / letters, letters, -line)
            if len(self.worst) < self.keep:
                heapq.heappush(self.worst, item)
            else:
                heapq.heappushpop(self.worst, item)

    def merge(self, later: Case) -> None:
        """Add the counts of a later part of the column."""
        self.upper += later.upper
        self.lower += later.lower
        for item in later.worst:
            if len(self.worst) < self.keep:
                heapq.heappush(self.worst, item)
            else:
                heapq.heappushpop(self.worst, item)

    @property
    def share(self) -> float:
        """The share of uppercase letters in the column."""
        letters = self.upper + self.lower
        return self.upper / letters if letters else 0.0


class CommonStart:
    """What every text of one column starts with: a common prefix, or all of the text.

    Tracked while it can still be reported: once the texts differ and their common
    prefix is no longer than ``floor``, ``tracking`` stops.
    """

    def __init__(self) -> None:
        self.tracking = False
        #: At once, unless a prefix check lowers it to the longest prefix it does not
        #: report (whether all texts are the same is settled by the first that differs).
        self.floor = sys.maxsize
        self.prefix: str | None = None
        #: The first text, and how many texts equal it (while none differs).
        self.first: str | None = None
        self.repeats = 0
        self.differ = False

    def add(self, text: str) -> None:
        """Narrow the common start with one more text."""
        prefix = self.prefix
        if prefix is None:
            self.prefix = self.first = text
            self.repeats = 1
            return
        if not self.differ:
            if text == self.first:
                self.repeats += 1
            else:
                self.differ = True
        if not text.startswith(prefix):
            prefix = self.prefix = common_prefix(prefix, text)
        if self.differ and len(prefix) <= self.floor:
            self.tracking = False

    def merge(self, later: CommonStart) -> None:
        """Narrow the common start with the texts of a later part of the column."""
        if later.prefix is None:
            return
        if self.prefix is None:
            self.__dict__.update(later.__dict__)
            return
        if not self.differ:
            if later.differ or later.first != self.first:
                self.differ = True
            else:
                self.repeats += later.repeats
        self.prefix = common_prefix(self.prefix, later.prefix)
        # Tracking stops for good once the texts differ and share no more than ``floor``.
        self.tracking = (
            self.tracking
            and later.tracking
            and not (self.differ and len(self.prefix) <= self.floor)
        )


def too_few(context: ScanContext) -> bool:
    """Whether a file has too few examples to show a convention (one shares nothing)."""
    return context.stats.examples < 2


def in_examples(count: int, context: ScanContext) -> str:
    """Where a finding about ``count`` examples is: ``in 3 examples, the first here``."""
    if count == context.stats.examples:
        return f"all {plural(count, 'example')}, the first here"
    if count == 1:
        return "this example only"
    return f"{plural(count, 'example')}, the first here"


class _Counts(dict[str, int]):
    """How often each character occurs in ``sample``, counted on first use."""

    def __init__(self, sample: str) -> None:
        super().__init__()
        self.sample = sample

    def __missing__(self, char: str) -> int:
        count = self[char] = self.sample.count(char)
        return count

    def rarest(self, needle: str) -> str:
        """The character of ``needle`` least frequent in the sample: searched for first.

        Looking for one character is a ``memchr``; looking for a string is a much slower
        scan. Most texts lack the needle's rarest character, so most texts cost only that.
        """
        return min(needle, key=self.__getitem__)


def convention(survey: _Survey, key: str) -> str:
    """``the separator ' ->' that 97% of prompts end with``, for messages.

    ``key``: ``prompt`` (the separator) or ``completion`` (the stop sequence).
    """
    conv = survey.conventions
    prompt = key == "prompt"
    kind, suffix = ("separator", conv.separator) if prompt else ("stop sequence", conv.stop)
    if ("separator" if prompt else "stop") in conv.declared:
        return f"the {kind} {quote(suffix.text)} declared in the configuration"
    # Shares are learned from the head; say so when the file may be longer.
    of = "" if survey.learned_from is None else f"the first {survey.learned_from:,} "
    return f"the {kind} {quote(suffix.text)} that {suffix.share:.0%} of {of}{key}s end with"


class _Texts(Sequence[str]):
    """A column of a batch of plain prompt/completion lines, each text parsed when read."""

    def __init__(self, batch: Batch, key: str) -> None:
        self.batch = batch
        self.key = key

    def __len__(self) -> int:
        return len(self.batch.lines)

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return self.batch.data(index)[self.key]  # type: ignore[no-any-return]


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
