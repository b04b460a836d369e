"""What a conversion gives: the converted record, its format, and what could not be mapped.

Conversions go through OpenAI's formats as the hub: every readable format converts to
chat, preference or prompt/completion data, and from it to every writable format.
They never raise on a JSON object: what is malformed, or has no equivalent in the
other format, is left out and named by an :class:`Unmappable`, so that nothing is lost
without saying so.

They run once per record on the lint path, so they build new lists of new message
dicts and share everything below (tool schemas, arguments) with the input: callers
must not mutate what they are given back.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

import orjson

from pytest_finetune.formats import Format


@dataclass(frozen=True, slots=True)
class Unmappable:
    """A part of a record that the conversion left out, and why."""

    #: JSON path in the source record, e.g. ``conversations[3]``, ``contents[1].parts[0]``.
    where: str
    #: What could not be mapped and why.
    reason: str


class Style(str, enum.Enum):
    """Which variant of a format a record is written in, where a format has several.

    TRL's dataset types are *standard* (plain strings) or *conversational* (lists of
    messages); chosen/rejected transcripts are Anthropic's hh-rlhf text by default, or
    TRL's implicit-prompt preference in either variant.
    """

    DEFAULT = "default"
    STANDARD = "standard"
    CONVERSATIONAL = "conversational"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Converted:
    """A record converted to another format."""

    data: dict[str, Any]
    format: Format
    unmappable: tuple[Unmappable, ...] = ()
    #: The variant the source was written in (to_openai) or the output is (from_openai).
    style: Style = Style.DEFAULT


class Notes:
    """The unmappable parts found while converting one record."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Unmappable] = []

    def add(self, where: str, reason: str) -> None:
        """Note that ``where`` in the source could not be mapped, and why."""
        self.items.append(Unmappable(where, reason))

    def done(self, data: dict[str, Any], fmt: Format, style: Style = Style.DEFAULT) -> Converted:
        """The conversion's result, with the notes taken so far."""
        return Converted(data, fmt, tuple(self.items), style)


def messages_of(data: dict[str, Any], notes: Notes) -> list[Any]:
    """The messages of OpenAI chat data; none (and a note saying why) if they are no list."""
    messages = data.get("messages")
    if isinstance(messages, list):
        return messages
    notes.add("messages", f"the messages are {kind(messages)}, not a list")
    return []


def kind(value: object) -> str:
    """How a reason names the JSON type of ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    return "an object"


def dumps(value: object) -> str:
    """JSON text as Python's json module writes it by default, non-ASCII kept as is.

    Tool arguments and results are JSON inside strings in OpenAI's format; written the
    way the common dataset tools write them, a round trip gives the same string back.
    """
    return json.dumps(value, ensure_ascii=False)


def loads(text: str) -> Any:
    """``text`` parsed as JSON; ValueError if it is not JSON.

    orjson first, for speed on the lint path; Python's parser for what orjson refuses
    and JSON allows (integers past 64 bits).
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            return json.loads(text)
        except RecursionError:
            raise ValueError("nested too deeply") from None


def loads_object(text: object) -> dict[str, Any] | None:
    """``text`` parsed as a JSON object, or ``None`` if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        value = loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def call_id(number: int) -> str:
    """The id given to the ``number``-th tool call of a record whose format has no ids."""
    return f"call_{number}"


def carry(data: dict[str, Any], known: frozenset[str], out: dict[str, Any], notes: Notes) -> None:
    """Copy the keys of ``data`` that no format reads (an ``id``, a ``source``) into ``out``.

    They are not trained on, and the linter reports them where the target rejects them;
    a key the output already has is noted as unmappable instead of overwriting it.
    """
    for key, value in data.items():
        if key in known:
            continue
        if key in out:
            notes.add(key, f"a key {key!r} beside the data: the converted record uses that key")
        else:
            out[key] = value


def holds(data: dict[str, Any], key: str) -> bool:
    """Whether ``data[key]`` holds something a writer must place or name as unmappable.

    Empty tool lists hold nothing; ``parallel_tool_calls`` is OpenAI's setting for
    calls, which says something only when it turns them off.
    """
    value = data.get(key)
    if key == "parallel_tool_calls":
        return value is False
    return value is not None and value != []
