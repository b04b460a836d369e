"""FT225-FT227: habits that prompt/completion data left in every turn of chat data.

The checks look at the whole file: they learn a candidate marker from the first
records and report once if every turn of their role carries it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_finetune.chat_schema import content_text, is_blank
from pytest_finetune.checks.chat.survey import CHAT
from pytest_finetune.checks.registry import Check, option, register
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format, Record
from pytest_finetune.slots import Slot

if TYPE_CHECKING:
    from typing_extensions import Self

    from pytest_finetune.checks.context import ScanContext


@dataclass(frozen=True)
class _LeftoverOptions:
    min_turns: int = option(10, "Fewer turns than this are too few to call a habit.", minimum=1)


#: Examples named in a leftover finding.
_SHOWN_LINES = 3
#: Characters of the first turn from which a common ending is learned.
_SUFFIX_WINDOW = 200
_SYMBOL_RUN = re.compile(r"([!#$%&*+\-/:;<=>?@\\^|~])\1{2,}\Z")
_STOP_WORD = re.compile(r"(?<![A-Za-z])(?:END|STOP|EOS)\Z")
_ARROW = re.compile(r"(?:->|=>)\Z")
#: A label on a line of its own (``\nAnswer:``); a colon ending a sentence is not one.
_LABEL = re.compile(r"\n[ \t]*[A-Za-z][A-Za-z ]{0,40}:\Z")


class _Leftover(Check):
    """A habit of every turn of one role, reported once for the file."""

    severity = Severity.WARNING
    formats = CHAT
    Options = _LeftoverOptions
    role: ClassVar[str]

    def __init__(self, context: ScanContext, options: Any) -> None:
        super().__init__(context, options)
        self.marker: str | None = None
        self.turns = 0
        self.lines: list[int] = []

    def begin(self, head: list[Record]) -> None:
        self.marker = self.learn([text for record in head for text in self.texts(record)])

    def visitor(self, fmt: Format) -> Callable[[Record], None] | None:
        # Without a marker learned from the head, no record can show a habit.
        return None if self.marker is None else super().visitor(fmt)

    def visit(self, record: Record) -> None:
        marker = self.marker
        if marker is None:
            return
        found = False
        for text in self.texts(record):
            if not self.carries(text, marker):
                self.marker = None  # one turn without it: not a habit of every turn
                return
            found = True
            self.turns += 1
        if found and len(self.lines) < _SHOWN_LINES:
            self.lines.append(record.line)

    def merge(self, later: Self) -> None:
        # Every chunk learns the same marker from the head: one that lost it saw a turn
        # without it.
        if later.marker is None:
            self.marker = None
        self.turns += later.turns
        self.lines = (self.lines + later.lines)[:_SHOWN_LINES]

    def finish(self) -> None:
        if self.marker is not None and self.turns >= self.options.min_turns:
            lines = ", ".join(str(line) for line in self.lines)
            self.report(None, f"{self.describe(self.marker)} (e.g. lines {lines})")

    def texts(self, record: Record) -> list[str]:
        """The non-empty texts of this role's messages."""
        return turn_texts(record, self.context.cache).get(self.role, [])

    @classmethod
    def learn(cls, texts: list[str]) -> str | None:
        """The marker every turn of the head carries, if it looks like a leftover."""
        raise NotImplementedError

    @classmethod
    def carries(cls, text: str, marker: str) -> bool:
        """Whether one turn carries the marker."""
        return text.endswith(marker)

    def describe(self, marker: str) -> str:
        """The finding, without its example lines."""
        raise NotImplementedError


#: The last record whose texts were read by role, and its texts.
_LAST_TURNS: Slot[list[Any]] = Slot("chat.turns")


def turn_texts(record: Record, cache: dict[Slot[Any], Any]) -> dict[str, list[str]]:
    """The non-empty texts of a record's messages by role, kept for the last record."""
    last: list[Any] = cache.setdefault(_LAST_TURNS, [None, None])
    if last[0] is record:
        return last[1]  # type: ignore[no-any-return]
    texts: dict[str, list[str]] = {}
    messages = record.data.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if isinstance(message, dict) and isinstance(role := message.get("role"), str):
            text = content_text(message.get("content"))
            if text is not None and not is_blank(text):
                texts.setdefault(role, []).append(text)
    last[:] = (record, texts)
    return texts


def common_suffix(texts: Iterable[str]) -> str:
    """The longest ending all ``texts`` share (at most the last 200 characters)."""
    suffix: str | None = None
    for text in texts:
        if suffix is None:
            suffix = text[-_SUFFIX_WINDOW:]
            continue
        if text.endswith(suffix):
            continue
        same = 0
        limit = min(len(suffix), len(text))
        while same < limit and suffix[-1 - same] == text[-1 - same]:
            same += 1
        suffix = suffix[len(suffix) - same :]
        if not suffix:
            break
    return suffix or ""


def leftover_marker(suffix: str, patterns: Iterable[re.Pattern[str]]) -> str | None:
    """The part of a common ending that is a leftover marker, or ``None``.

    A marker is one of ``patterns`` at the end of the text (with the whitespace around
    it), or trailing whitespace. Natural endings (``.``, ``?``, ``}``) are not markers.
    """
    core = suffix.rstrip()
    for pattern in patterns:
        match = pattern.search(core)
        if match:
            start = match.start()
            while start > 0 and core[start - 1].isspace():
                start -= 1
            return suffix[start:]
    return suffix[len(core) :] or None


@register
class AssistantLeadingSpace(_Leftover):
    """Every assistant reply starts with whitespace, as legacy completions did.

    What it does:
        Looks at the text of every assistant message in the file and reports once when
        all of them (at least ``min-turns``) start with a space or other whitespace,
        naming the first examples.

    Why it matters:
        Prompt/completion data needed a leading space on completions; in chat data it
        is a leftover of the conversion, and the model learns to start every answer
        with a space.

    Example:
        ``{"role": "assistant", "content": " Natalia sold 48/2 = 24 clips in May."}`` on
        every line.

    Fix:
        Strip the leading whitespace from the replies (``pytest-finetune prepare`` does).
    """

    code = "FT225"
    fixable = True
    name = "assistant-leading-space"
    role = "assistant"

    @classmethod
    def learn(cls, texts: list[str]) -> str | None:
        return " " if texts and all(text[0].isspace() for text in texts) else None

    @classmethod
    def carries(cls, text: str, marker: str) -> bool:
        return text[0].isspace()

    def describe(self, marker: str) -> str:
        return (
            f"Every assistant reply ({self.turns:,}) starts with whitespace, a leftover of "
            "prompt/completion data; the model learns to start answers with it: strip it"
        )


@register
class AssistantEndMarker(_Leftover):
    """Every assistant reply ends with the same marker, a legacy stop sequence.

    What it does:
        Learns the ending that the assistant replies of the first records share and
        reports once when every reply in the file (at least ``min-turns``) ends with it
        and it looks like a stop sequence: a run of a symbol (``!!!``, ``###``), a
        word such as ``END``, or trailing whitespace. Natural endings such as ``.`` or
        ``}`` are not reported.

    Why it matters:
        Prompt/completion data needed a stop sequence; chat models stop on their own,
        so the marker is a leftover that the model learns to write at the end of every
        answer.

    Example:
        Every reply ending with ``!!!``: ``"... #### 72!!!"``.

    Fix:
        Remove the marker from the end of the replies (``pytest-finetune prepare`` does).
    """

    code = "FT226"
    fixable = True
    name = "assistant-end-marker"
    role = "assistant"

    @classmethod
    def learn(cls, texts: list[str]) -> str | None:
        return leftover_marker(common_suffix(texts), (_SYMBOL_RUN, _STOP_WORD))

    def describe(self, marker: str) -> str:
        return (
            f"Every assistant reply ({self.turns:,}) ends with {marker!r}, a stop sequence "
            "left from prompt/completion data; chat models stop on their own and learn "
            "to write it: remove it"
        )


@register
class UserTurnSeparator(_Leftover):
    r"""Every user turn ends with the same separator, as legacy prompts did.

    What it does:
        Learns the ending that the user messages of the first records share and
        reports once when every user message in the file (at least ``min-turns``) ends
        with it and it looks like a separator: ``->``, a run of a symbol (``###``), a
        label on a line of its own such as ``\nAnswer:``, or trailing whitespace. A
        question mark, or a colon ending a sentence, is not one.

    Why it matters:
        Prompt/completion data needed a separator at the end of each prompt; in chat
        data the roles already separate the turns, and the model learns to expect the
        separator, answering worse when real users do not type it.

    Example:
        Every user message ending with ``\nSolution:``.

    Fix:
        Remove the separator from the end of the user messages (``pytest-finetune prepare``
        does).
    """

    code = "FT227"
    fixable = True
    name = "user-turn-separator"
    role = "user"

    @classmethod
    def learn(cls, texts: list[str]) -> str | None:
        return leftover_marker(common_suffix(texts), (_SYMBOL_RUN, _ARROW, _LABEL))

    def describe(self, marker: str) -> str:
        return (
            f"Every user turn ({self.turns:,}) ends with {marker!r}, a "
            "separator left from prompt/completion data; the model learns to expect it: "
            "remove it"
        )
