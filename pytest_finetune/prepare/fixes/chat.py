"""Fixes of chat data: the habits prompt/completion data left in every turn (FT225-FT227).

Each fix learns the leftover exactly as its check does (the check's own ``learn`` and
``carries``, over the same first records and with the same ``min-turns``), and
removes it only when every turn of the role carries it: the check would then report
it, and the prepared file gives it nothing to report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pytest_finetune import conventions
from pytest_finetune.chat_schema import content_text, is_blank
from pytest_finetune.checks.chat.leftovers import (
    AssistantEndMarker,
    AssistantLeadingSpace,
    UserTurnSeparator,
)
from pytest_finetune.formats import Format
from pytest_finetune.prepare.fixes.base import Change, Fix, FixContext, of_format
from pytest_finetune.prepare.read import Example
from pytest_finetune.wording import plural

CHAT = frozenset({Format.CHAT})


class _StripLeftover(Fix):
    """Remove a marker that every turn of one role carries."""

    formats = CHAT
    check: ClassVar[type[AssistantLeadingSpace | AssistantEndMarker | UserTurnSeparator]]
    #: Whether the marker is at the start of the text (else at its end).
    at_start: ClassVar[bool] = False
    #: What the summary says was removed, with ``{marker}`` and ``{turns}``.
    doing: ClassVar[str]

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        check, role = self.check, self.check.role
        head = [
            text
            for example in examples[: conventions.HEAD_RECORDS]
            for _, text in _turns(example.data, role)
        ]
        marker = check.learn(head)
        if marker is None:
            return examples
        turns = [
            (example, message, text)
            for example in of_format(examples, CHAT)
            for message, text in _turns(example.data, role)
        ]
        min_turns = context.option(check.code, "min_turns")
        if len(turns) < min_turns or not all(check.carries(text, marker) for _, _, text in turns):
            return examples  # not a habit of every turn: the check says nothing either
        edited = set()
        for example, message, text in turns:
            content = message["content"]
            fixed = _strip(content, marker, at_start=self.at_start)
            if fixed is None:
                continue  # the marker spans parts of the content: left for a person
            message["content"] = fixed
            if id(example) not in edited:
                edited.add(id(example))
                change.edited(example.line, text, content_text(fixed) or "", end=not self.at_start)
        if change.count:
            change.what = self.doing.format(
                marker=repr(marker), turns=plural(len(turns), f"{role} turn")
            )
        return examples


def _turns(data: dict[str, Any], role: str) -> Iterator[tuple[dict[str, Any], str]]:
    """The messages of ``role`` with a non-blank text, and that text (as the checks read it)."""
    messages = data.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if isinstance(message, dict) and message.get("role") == role:
            text = content_text(message.get("content"))
            if text is not None and not is_blank(text):
                yield message, text


def _strip(content: object, marker: str, *, at_start: bool) -> object | None:
    """``content`` without the marker: a string, or its first (last) text part edited."""
    if isinstance(content, str):
        return content.lstrip() if at_start else _cut_end(content, marker)
    if not isinstance(content, list):
        return None
    indexes = [
        index
        for index, part in enumerate(content)
        if isinstance(part, dict)
        and part.get("type") == "text"
        and isinstance(part.get("text"), str)
    ]
    if not indexes:
        return None
    index = indexes[0] if at_start else indexes[-1]
    text = content[index]["text"]
    fixed = text.lstrip() if at_start else _cut_end(text, marker)
    if fixed is None:
        return None
    parts = list(content)
    parts[index] = {**content[index], "text": fixed}
    return parts


def _cut_end(text: str, marker: str) -> str | None:
    return text[: len(text) - len(marker)] if text.endswith(marker) else None


class StripAssistantLeadingSpace(_StripLeftover):
    """Strip the whitespace that starts every assistant reply."""

    name = "strip-assistant-leading-space"
    codes = ("FT225",)
    check = AssistantLeadingSpace
    at_start = True
    doing = "Strip the leading whitespace of {turns}"


class StripAssistantEndMarker(_StripLeftover):
    """Remove the stop-sequence marker that ends every assistant reply."""

    name = "strip-assistant-end-marker"
    codes = ("FT226",)
    check = AssistantEndMarker
    doing = "Remove the end marker {marker} from {turns}"


class StripUserSeparator(_StripLeftover):
    """Remove the separator that ends every user turn."""

    name = "strip-user-separator"
    codes = ("FT227",)
    check = UserTurnSeparator
    doing = "Remove the separator {marker} from {turns}"
