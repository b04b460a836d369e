"""TRL's dataset types: prompt/completion, preference and unpaired preference (KTO).

Each is *standard* (strings) or *conversational* (lists of ``role``/``content``
messages, OpenAI's own message shape), as TRL's dataset formats guide describes. A
standard prompt becomes one user message and a standard answer one assistant message;
written back, the standard variant takes exactly those. Without a ``style``, TRL data is
written conversational, which TRL recommends for chat models.

An unpaired example (``label``) reads as chat when its label is true; OpenAI's formats
have no undesirable example to train away from, so a false label is unmappable.
"""

from __future__ import annotations

from typing import Any

from pytest_finetune.chat_schema.roles import CHAT_KEYS, PREFERENCE_INPUT_KEYS
from pytest_finetune.conversions.base import Converted, Notes, Style, carry, holds, kind
from pytest_finetune.formats import Format, last_assistant

PREFERENCE_KEYS = frozenset({"prompt", "chosen", "rejected", "tools"})
UNPAIRED_KEYS = frozenset({"prompt", "completion", "label", "tools"})
_OUTPUT_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})


def _messages(value: object, role: str, where: str, notes: Notes, style: list[Style]) -> list[Any]:
    """A standard string as one message of ``role``, or a conversational list as it is."""
    if isinstance(value, str):
        style.append(Style.STANDARD)
        return [{"role": role, "content": value}]
    if isinstance(value, list):
        style.append(Style.CONVERSATIONAL)
        return list(value)
    notes.add(where, f"{where} is {kind(value)}: expected a string or a list of messages")
    return []


def _style(found: list[Style], notes: Notes) -> Style:
    if Style.STANDARD in found and Style.CONVERSATIONAL in found:
        notes.add("prompt", "strings and lists of messages mixed in one example")
    return found[0] if found else Style.DEFAULT


def preference_to_openai(data: dict[str, Any]) -> Converted:
    """A TRL preference record (explicit prompt) as OpenAI preference data."""
    notes = Notes()
    found: list[Style] = []
    source: dict[str, Any] = {
        "messages": _messages(data.get("prompt"), "user", "prompt", notes, found)
    }
    if "tools" in data:
        source["tools"] = data["tools"]
    out = {
        "input": source,
        "preferred_output": _messages(data.get("chosen"), "assistant", "chosen", notes, found),
        "non_preferred_output": _messages(
            data.get("rejected"), "assistant", "rejected", notes, found
        ),
    }
    style = _style(found, notes)
    carry(data, PREFERENCE_KEYS, out, notes)
    return notes.done(out, Format.PREFERENCE, style)


def unpaired_to_openai(data: dict[str, Any]) -> Converted:
    """A TRL unpaired preference record as chat: its prompt, then its completion."""
    notes = Notes()
    found: list[Style] = []
    messages = _messages(data.get("prompt"), "user", "prompt", notes, found)
    messages += _messages(data.get("completion"), "assistant", "completion", notes, found)
    if data.get("label") is not True:
        notes.add(
            "label",
            f"the label is {data.get('label')!r}, not true: OpenAI's formats have no "
            "undesirable example to train away from (only pairs of a preferred and a "
            "non-preferred answer)",
        )
    out: dict[str, Any] = {"messages": messages}
    if "tools" in data:
        out["tools"] = data["tools"]
    style = _style(found, notes)
    carry(data, UNPAIRED_KEYS, out, notes)
    return notes.done(out, Format.CHAT, style)


def prompt_completion_to_openai(data: dict[str, Any]) -> Converted:
    """Prompt/completion data: strings as they are; TRL's conversational form as chat."""
    prompt, completion = data.get("prompt"), data.get("completion")
    if not isinstance(prompt, list) and not isinstance(completion, list):
        return Converted(data, Format.PROMPT_COMPLETION, (), Style.STANDARD)
    notes = Notes()
    found: list[Style] = []
    messages = _messages(prompt, "user", "prompt", notes, found)
    messages += _messages(completion, "assistant", "completion", notes, found)
    out: dict[str, Any] = {"messages": messages}
    if "tools" in data:
        out["tools"] = data["tools"]
    carry(data, frozenset({"prompt", "completion", "tools"}), out, notes)
    return notes.done(out, Format.CHAT, Style.CONVERSATIONAL)


# -- writing --------------------------------------------------------------------------


def _text(messages: list[Any], role: str, where: str, notes: Notes) -> str | None:
    """The text of the one message of ``role`` that a standard column holds."""
    if (
        len(messages) == 1
        and isinstance(messages[0], dict)
        and messages[0].get("role") == role
        and messages[0].keys() <= {"role", "content"}
        and isinstance(messages[0].get("content"), str)
    ):
        content: str = messages[0]["content"]
        return content
    notes.add(where, f"a standard (plain text) column holds one {role} message of text")
    return None


def _list(value: object, where: str, notes: Notes) -> list[Any]:
    if isinstance(value, list):
        return value
    notes.add(where, f"{where} is {kind(value)}, not a list of messages")
    return []


def preference_from_openai(data: dict[str, Any], style: Style) -> Converted:
    """OpenAI preference data as TRL preference (conversational unless ``style`` says)."""
    notes = Notes()
    source = data.get("input")
    if not isinstance(source, dict):
        notes.add("input", f"the input is {kind(source)}, not an object with messages")
        source = {}
    columns = {
        "prompt": (
            _list(source.get("messages"), "input.messages", notes),
            "user",
            "input.messages",
        ),
        "chosen": (
            _list(data.get("preferred_output"), "preferred_output", notes),
            "assistant",
            "preferred_output",
        ),
        "rejected": (
            _list(data.get("non_preferred_output"), "non_preferred_output", notes),
            "assistant",
            "non_preferred_output",
        ),
    }
    out: dict[str, Any] = {}
    for column, (messages, role, where) in columns.items():
        out[column] = (
            _text(messages, role, where, notes) if style is Style.STANDARD else list(messages)
        )
    _tools(source, out, notes, "input.")
    for key in source:
        if key not in PREFERENCE_INPUT_KEYS:
            notes.add(f"input.{key}", f"TRL preference has no {key}")
    carry(data, _OUTPUT_KEYS, out, notes)
    return notes.done(out, Format.TRL_PREFERENCE, _written(style))


def unpaired_from_openai(data: dict[str, Any], style: Style) -> Converted:
    """Chat data as TRL unpaired preference: a desirable completion (label true)."""
    notes = Notes()
    prompt, completion = _split(data, notes)
    out: dict[str, Any] = {}
    if style is Style.STANDARD:
        out["prompt"] = _text(prompt, "user", "messages", notes)
        out["completion"] = _text(completion, "assistant", "messages", notes)
    else:
        out["prompt"], out["completion"] = prompt, completion
    out["label"] = True
    _tools(data, out, notes)
    carry(data, CHAT_KEYS, out, notes)
    return notes.done(out, Format.UNPAIRED_PREFERENCE, _written(style))


def prompt_completion_from_openai(data: dict[str, Any], style: Style) -> Converted:
    """Chat data as prompt/completion: TRL's conversational form, or strings (standard)."""
    notes = Notes()
    prompt, completion = _split(data, notes)
    out: dict[str, Any] = {}
    if style is Style.STANDARD:
        out["prompt"] = _text(prompt, "user", "messages", notes)
        out["completion"] = _text(completion, "assistant", "messages", notes)
    else:
        out["prompt"], out["completion"] = prompt, completion
    _tools(data, out, notes)
    carry(data, CHAT_KEYS, out, notes)
    return notes.done(out, Format.PROMPT_COMPLETION, _written(style))


def _split(data: dict[str, Any], notes: Notes) -> tuple[list[Any], list[Any]]:
    """The messages before the last assistant turn, and that turn with what follows."""
    messages = _list(data.get("messages"), "messages", notes)
    last = last_assistant(messages)
    if last is None:
        notes.add("messages", "no assistant message: nothing to complete the prompt with")
        return list(messages), []
    return messages[:last], messages[last:]


def _tools(data: dict[str, Any], out: dict[str, Any], notes: Notes, prefix: str = "") -> None:
    if "tools" in data:
        out["tools"] = data["tools"]
    for key in ("functions", "parallel_tool_calls"):
        if holds(data, key):
            notes.add(f"{prefix}{key}", f"TRL datasets have no {key}")


def _written(style: Style) -> Style:
    return Style.STANDARD if style is Style.STANDARD else Style.CONVERSATIONAL
