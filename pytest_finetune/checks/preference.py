"""FT3xx: preference pairs (OpenAI DPO): their input, their two outputs, and the file's bias.

A pair is ``{"input": {"messages": [...]}, "preferred_output": [assistant message],
"non_preferred_output": [assistant message]}``. The messages themselves are chat
messages and are checked by the FT2xx checks; these checks look at the shape of the
pair and at what it teaches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_finetune.chat_schema import content_text, is_blank, messages_problems
from pytest_finetune.checks.registry import Check, option, register
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format, Record
from pytest_finetune.slots import Slot
from pytest_finetune.wording import kind, quote_value

if TYPE_CHECKING:
    from typing_extensions import Self

    from pytest_finetune.checks.context import ScanContext

PREFERENCE = frozenset({Format.PREFERENCE})
#: The two outputs of a pair: the current key and the older one the service still takes.
SIDES = (
    ("preferred_output", "preferred_completion"),
    ("non_preferred_output", "non_preferred_completion"),
)
#: Characters of each output compared before the whole texts are.
_PREFIX = 256
_WORD = re.compile(r"\S+")


def output_key(data: dict[str, Any], side: int) -> str | None:
    """The key that holds one output of a pair (current name first), or ``None``."""
    current, older = SIDES[side]
    if current in data:
        return current
    return older if older in data else None


def output_text(data: dict[str, Any], side: int) -> str | None:
    """The text of one output (``0``: preferred, ``1``: non-preferred), if well formed."""
    key = output_key(data, side)
    output = data.get(key) if key else None
    if not isinstance(output, list) or len(output) != 1 or not isinstance(output[0], dict):
        return None
    return content_text(output[0].get("content"))


#: The last record whose pair texts were read, and its texts.
_LAST: Slot[list[Any]] = Slot("preference.last")


def pair_texts(record: Record, cache: dict[Slot[Any], Any]) -> tuple[str | None, str | None]:
    """The texts of a pair's preferred and non-preferred outputs, kept for the last record."""
    last: list[Any] = cache.setdefault(_LAST, [None, None])
    if last[0] is not record:
        last[:] = (record, (output_text(record.data, 0), output_text(record.data, 1)))
    texts: tuple[str | None, str | None] = last[1]
    return texts


@register
class InvalidPreferenceInput(Check):
    """A preference pair has no valid input conversation.

    What it does:
        Reports a pair whose ``input`` is not an object, or whose
        ``input.messages`` is missing, not a list, empty, or holds items that are not
        objects. The messages themselves are checked as chat messages (FT2xx).

    Why it matters:
        The service rejects the pair: both outputs answer the conversation in
        ``input.messages``.

    Example:
        ``{"input": "What is 2+2?", "preferred_output": [...], ...}`` (a string, as in
        TRL data).

    Fix:
        Write ``"input": {"messages": [{"role": "user", "content": ...}]}``.
    """

    code = "FT301"
    name = "invalid-preference-input"
    severity = Severity.ERROR
    formats = PREFERENCE

    def visit(self, record: Record) -> None:
        data = record.data
        source = data.get("input")
        # Records without ``input`` are not preference data (formats.detect).
        if not isinstance(source, dict):
            self.report(
                record.line,
                f"`input` is {kind(source)}; it must be an object: "
                '{"messages": [{"role": "user", "content": ...}]}',
            )
            return
        for problem in messages_problems(source, "input.messages"):
            self.report(record.line, problem)


@register
class InvalidPreferenceOutput(Check):
    """An output of a preference pair is not exactly one assistant message with text.

    What it does:
        Checks ``preferred_output`` and ``non_preferred_output`` (or their older names):
        each must be present, once, as a list of exactly one message with the role
        ``assistant`` and text content.

    Why it matters:
        The service rejects the pair; DPO compares two single replies to the same
        input, so a whole conversation, a bare string or a tool call cannot be
        compared.

    Example:
        ``"preferred_output": "Paris"`` instead of
        ``[{"role": "assistant", "content": "Paris"}]``.

    Fix:
        Write each output as ``[{"role": "assistant", "content": "..."}]``.
    """

    code = "FT302"
    reads_views = False
    name = "invalid-preference-output"
    severity = Severity.ERROR
    formats = PREFERENCE

    def visit(self, record: Record) -> None:
        for side, (current, older) in enumerate(SIDES):
            for problem in self.output_problems(record.data, side, current, older):
                self.report(record.line, problem)

    def output_problems(
        self, data: dict[str, Any], side: int, current: str, older: str
    ) -> list[str]:
        """What is wrong with one output of a pair."""
        if current in data and older in data:
            return [f"The pair has both `{current}` and `{older}`; keep `{current}`"]
        key = output_key(data, side)
        if key is None:
            return [f"No `{current}`: a preference pair needs both outputs"]
        output = data[key]
        shape = '[{"role": "assistant", "content": ...}]'
        if isinstance(output, dict):
            return [f"`{key}` is a message object; it must be a list holding it: {shape}"]
        if not isinstance(output, list):
            return [f"`{key}` is {kind(output)}; it must be {shape}"]
        if len(output) != 1:
            return [f"`{key}` holds {len(output)} messages; it must hold exactly one: {shape}"]
        message = output[0]
        if not isinstance(message, dict):
            return [f"`{key}[0]` is {kind(message)}, not a message object: {shape}"]
        problems = []
        role = message.get("role")
        if role != "assistant":
            problems.append(
                f"`{key}[0]` has the role {quote_value(role)}; outputs are assistant replies"
            )
        content = message.get("content")
        if content is None or (isinstance(content, list) and content_text(content) is None):
            calls = " (tool calls are not compared)" if message.get("tool_calls") else ""
            problems.append(f"`{key}[0]` has no text content{calls}; give the reply's text")
        return problems


@register
class EmptyPreferenceOutput(Check):
    """An output of a preference pair is empty.

    What it does:
        Reports preferred and non-preferred outputs whose text is empty or only
        whitespace.

    Why it matters:
        An empty preferred output teaches the model to say nothing; an empty
        non-preferred one teaches it only that some answer beats none, which it
        already knows.

    Example:
        ``"non_preferred_output": [{"role": "assistant", "content": ""}]``

    Fix:
        Write the real rejected (or preferred) answer, or drop the pair.
    """

    code = "FT303"
    name = "empty-preference-output"
    severity = Severity.ERROR
    formats = PREFERENCE

    def visit(self, record: Record) -> None:
        for side, text in enumerate(pair_texts(record, self.context.cache)):
            if text is not None and is_blank(text):
                key = output_key(record.data, side)
                self.report(record.line, f"`{key}[0]` is empty; write the reply or drop the pair")


@register
class IdenticalPreferenceOutputs(Check):
    """The preferred and non-preferred outputs of a pair say the same thing.

    What it does:
        Compares the two outputs of each pair after normalising whitespace (runs of
        spaces and newlines count as one space, ends are trimmed).

    Why it matters:
        A pair whose two answers are the same teaches nothing and is still paid for;
        it is usually a generation step that returned the same sample twice.

    Example:
        ``"preferred_output": [{"role": "assistant", "content": "Paris."}]`` and
        ``"non_preferred_output": [{"role": "assistant", "content": "Paris. "}]``.

    Fix:
        Replace the non-preferred answer with a worse one, or drop the pair.
    """

    code = "FT304"
    name = "identical-preference-outputs"
    severity = Severity.WARNING
    formats = PREFERENCE

    def visit(self, record: Record) -> None:
        preferred, other = pair_texts(record, self.context.cache)
        if preferred is None or other is None or is_blank(preferred):
            return
        if preferred == other or same_words(preferred, other):
            self.report(
                record.line,
                "The preferred and non-preferred outputs are the same text (whitespace "
                f"aside): {quote_value(preferred)}; the pair teaches nothing",
            )


def same_words(first: str, second: str) -> bool:
    """Whether two texts are equal after normalising whitespace.

    The first words decide most pairs without splitting the whole texts: when the texts
    are equal, the complete words at their starts are too.
    """
    word = _WORD.search(first)
    other_word = _WORD.search(second)
    if word is None or other_word is None or word.group() != other_word.group():
        return word is None and other_word is None
    head = first[:_PREFIX].split()[:-1]
    other = second[:_PREFIX].split()[:-1]
    common = min(len(head), len(other))
    if head[:common] != other[:common]:
        return False
    return first.split() == second.split()


@register
class LegacyPreferenceKeys(Check):
    """Preference pairs use the older key names preferred_completion and non_preferred_completion.

    What it does:
        Counts the pairs that use the older names and reports once for the file, at
        the first of them.

    Why it matters:
        The service still accepts them, but its documentation and tools use
        ``preferred_output`` and ``non_preferred_output``; the older names may stop
        being accepted.

    Example:
        ``{"input": {...}, "preferred_completion": [...], "non_preferred_completion": [...]}``

    Fix:
        Rename the keys to ``preferred_output`` and ``non_preferred_output``.
    """

    code = "FT305"
    reads_views = False
    name = "legacy-preference-keys"
    severity = Severity.WARNING
    formats = PREFERENCE
    fixable = True

    def __init__(self, context: ScanContext, options: Any) -> None:
        super().__init__(context, options)
        self.first: int | None = None
        self.count = 0

    def visit(self, record: Record) -> None:
        data = record.data
        if "preferred_completion" in data or "non_preferred_completion" in data:
            self.count += 1
            if self.first is None:
                self.first = record.line

    def merge(self, later: Self) -> None:
        self.count += later.count
        if self.first is None:
            self.first = later.first

    def finish(self) -> None:
        if not self.count:
            return
        pairs = "This pair uses" if self.count == 1 else f"{self.count:,} pairs (from here) use"
        self.report(
            self.first,
            f"{pairs} the older keys preferred_completion/non_preferred_completion; "
            "rename them preferred_output/non_preferred_output",
        )


@dataclass(frozen=True)
class _BiasOptions:
    max_share: float = option(
        0.9,
        "Report when the preferred answer is the longer one, or the shorter one, in more "
        "than this share of the pairs.",
        minimum=0,
    )
    min_pairs: int = option(20, "Fewer pairs than this are too few to measure a bias.", minimum=1)


@register
class PreferenceLengthBias(Check):
    """The preferred answer is almost always the longer (or the shorter) one.

    What it does:
        Measures, over the file, the share of pairs in which the preferred output is
        longer than the non-preferred one, and puts it in the summary and the JSON
        report (``length_bias``). Reports when the preferred answer is the longer one,
        or the shorter one, in more than ``max-share`` of at least ``min-pairs`` pairs.

    Why it matters:
        DPO learns whatever separates preferred from rejected answers most easily.
        When that is length, the model learns to be verbose (or terse) rather than
        right: the best-known way preference training goes wrong.

    Example:
        Pairs whose non-preferred answer is the preferred one cut short, in every pair.

    Fix:
        Add pairs in which the better answer is the shorter one (or the longer one), or
        rebalance the file by length.
    """

    code = "FT306"
    name = "preference-length-bias"
    severity = Severity.WARNING
    formats = PREFERENCE
    Options = _BiasOptions

    def __init__(self, context: ScanContext, options: Any) -> None:
        super().__init__(context, options)
        self.pairs = 0
        self.longer = 0
        self.shorter = 0

    def visit(self, record: Record) -> None:
        preferred, other = pair_texts(record, self.context.cache)
        if preferred is None or other is None:
            return
        self.pairs += 1
        if len(preferred) > len(other):
            self.longer += 1
        elif len(preferred) < len(other):
            self.shorter += 1

    def merge(self, later: Self) -> None:
        self.pairs += later.pairs
        self.longer += later.longer
        self.shorter += later.shorter

    def finish(self) -> None:
        pairs = self.pairs
        if not pairs:
            return
        self.context.stats.extra["length_bias"] = {
            "pairs": pairs,
            "preferred_longer": self.longer,
            "preferred_shorter": self.shorter,
            "share": round(self.longer / pairs, 4),
        }
        if pairs < self.options.min_pairs:
            return
        for count, what, other in (
            (self.longer, "longer", "shorter"),
            (self.shorter, "shorter", "longer"),
        ):
            if count / pairs > self.options.max_share:
                self.report(
                    None,
                    f"The preferred answer is the {what} one in {count / pairs:.0%} of pairs "
                    f"({count:,} of {pairs:,}); DPO learns to prefer {what} answers: add "
                    f"pairs whose preferred answer is the {other} one",
                )
