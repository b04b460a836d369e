"""Converting records between dataset formats, through OpenAI's formats as the hub.

:func:`to_openai` reads a record of any readable format as OpenAI data (chat,
preference or prompt/completion); :func:`from_openai` writes OpenAI data in any
writable format. Any pair converts through the hub: ``from_openai(b,
to_openai(a, data).data)``. Where both formats hold the same information, a round trip
gives the record back; what one format holds and the other cannot is listed in the
result's ``unmappable``, never dropped silently. One module per format beside this one
says how it maps, from the provider's or project's own documentation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_finetune.conversions import alpaca, claude, gemini, nova, sharegpt, transcripts, trl
from pytest_finetune.conversions.base import Converted, Notes, Style, Unmappable, carry, kind
from pytest_finetune.formats import Format, last_assistant

__all__ = [
    "READABLE",
    "WRITABLE",
    "Converted",
    "Style",
    "Unmappable",
    "from_openai",
    "openai_format",
    "openai_shape",
    "to_openai",
]

#: OpenAI's three formats: every conversion goes through one of them.
OPENAI = frozenset({Format.CHAT, Format.PREFERENCE, Format.PROMPT_COMPLETION})

_READERS: dict[Format, Callable[[dict[str, Any]], Converted]] = {
    Format.ALPACA: alpaca.to_openai,
    Format.SHAREGPT: sharegpt.to_openai,
    Format.SHAREGPT_PREFERENCE: sharegpt.preference_to_openai,
    Format.TRANSCRIPTS: transcripts.to_openai,
    Format.TRL_PREFERENCE: trl.preference_to_openai,
    Format.UNPAIRED_PREFERENCE: trl.unpaired_to_openai,
    Format.PROMPT_COMPLETION: trl.prompt_completion_to_openai,
    Format.GEMINI: gemini.to_openai,
    Format.CLAUDE: claude.to_openai,
    Format.NOVA: nova.to_openai,
}

#: Writers, each with the OpenAI format it writes from.
_WRITERS: dict[Format, tuple[Format, Callable[[dict[str, Any], Style], Converted]]] = {
    Format.ALPACA: (Format.CHAT, lambda data, _style: alpaca.from_openai(data)),
    Format.SHAREGPT: (Format.CHAT, lambda data, _style: sharegpt.from_openai(data)),
    Format.SHAREGPT_PREFERENCE: (
        Format.PREFERENCE,
        lambda data, _style: sharegpt.preference_from_openai(data),
    ),
    Format.TRANSCRIPTS: (Format.PREFERENCE, transcripts.from_openai),
    Format.TRL_PREFERENCE: (Format.PREFERENCE, trl.preference_from_openai),
    Format.UNPAIRED_PREFERENCE: (Format.CHAT, trl.unpaired_from_openai),
    Format.GEMINI: (Format.CHAT, lambda data, _style: gemini.from_openai(data)),
    Format.CLAUDE: (Format.CHAT, lambda data, _style: claude.from_openai(data)),
    Format.NOVA: (Format.CHAT, lambda data, _style: nova.from_openai(data)),
}

#: Formats :func:`to_openai` reads (all but plain text, which has no roles).
READABLE = frozenset(_READERS) | {Format.CHAT, Format.PREFERENCE}
#: Formats :func:`from_openai` writes.
WRITABLE = frozenset(_WRITERS) | OPENAI


def openai_shape(fmt: Format) -> Format:
    """The OpenAI format records of ``fmt`` are read as: chat, preference for pairs."""
    if fmt in OPENAI:
        return fmt
    if fmt in (Format.SHAREGPT_PREFERENCE, Format.TRANSCRIPTS, Format.TRL_PREFERENCE):
        return Format.PREFERENCE
    return Format.CHAT


def to_openai(fmt: Format, data: dict[str, Any]) -> Converted:
    """The record ``data`` of format ``fmt`` as OpenAI data, and what could not be mapped.

    Chat and preference data are given back as they are; prompt/completion data too,
    unless it is TRL's conversational form, which is chat. Never raises on a JSON
    object; raises ValueError for a format it does not read (see READABLE).
    """
    if fmt is Format.CHAT or fmt is Format.PREFERENCE:
        return Converted(data, fmt)
    reader = _READERS.get(fmt)
    if reader is None:
        raise ValueError(f"records of format {fmt} are not converted")
    return reader(data)


def from_openai(fmt: Format, data: dict[str, Any], *, style: Style = Style.DEFAULT) -> Converted:
    """OpenAI data (chat, preference or prompt/completion) written in format ``fmt``.

    ``style`` picks the variant where ``fmt`` has several: TRL's ``standard`` (strings)
    or ``conversational`` (messages, the default), and for chosen/rejected transcripts
    hh-rlhf text (the default) or TRL's implicit-prompt variants. Never raises on a JSON
    object; raises ValueError for a format it does not write (see WRITABLE).
    """
    source = openai_format(data)
    if fmt is Format.PROMPT_COMPLETION:
        if source is Format.PROMPT_COMPLETION:
            return Converted(data, fmt)
        return _via(
            Format.CHAT, source, data, lambda d: trl.prompt_completion_from_openai(d, style)
        )
    if fmt in OPENAI:
        return _reshape(fmt, source, data)
    if fmt not in _WRITERS:
        raise ValueError(f"records are not converted to format {fmt}")
    shape, writer = _WRITERS[fmt]
    return _via(shape, source, data, lambda d: writer(d, style))


def openai_format(data: dict[str, Any]) -> Format:
    """Which of OpenAI's formats ``data`` is (chat when it is none of them)."""
    if "input" in data or "preferred_output" in data or "non_preferred_output" in data:
        return Format.PREFERENCE
    if "messages" not in data and ("prompt" in data or "completion" in data):
        return Format.PROMPT_COMPLETION
    return Format.CHAT


def _via(
    shape: Format,
    source: Format,
    data: dict[str, Any],
    write: Callable[[dict[str, Any]], Converted],
) -> Converted:
    """Reshape ``data`` to the OpenAI format ``shape`` if need be, then ``write`` it."""
    if source is shape:
        return write(data)
    first = _reshape(shape, source, data)
    return _chain(first, write(first.data))


def _chain(first: Converted, second: Converted) -> Converted:
    """The result of two conversions one after the other, with the notes of both."""
    return Converted(second.data, second.format, first.unmappable + second.unmappable, second.style)


def _reshape(fmt: Format, source: Format, data: dict[str, Any]) -> Converted:
    """Data of one OpenAI format as another: what the other cannot hold is unmappable."""
    if source is fmt:
        return Converted(data, fmt)
    if source is Format.PROMPT_COMPLETION:
        chat = _prompt_completion_chat(data)
        return chat if fmt is Format.CHAT else _chain(chat, _reshape(fmt, Format.CHAT, chat.data))
    if source is Format.PREFERENCE and fmt is Format.CHAT:
        return _preference_chat(data)
    if source is Format.CHAT and fmt is Format.PREFERENCE:
        return _chat_preference(data)
    # To prompt/completion: through chat.
    chat = _reshape(Format.CHAT, source, data)
    return _chain(chat, trl.prompt_completion_from_openai(chat.data, Style.DEFAULT))


def _prompt_completion_chat(data: dict[str, Any]) -> Converted:
    """Prompt/completion as chat: TRL's messages as they are; strings as a user turn, an answer."""
    chat = trl.prompt_completion_to_openai(data)
    if chat.format is Format.CHAT:
        return chat
    notes = Notes()
    messages = []
    for key, role in (("prompt", "user"), ("completion", "assistant")):
        value = data.get(key)
        if isinstance(value, str):
            messages.append({"role": role, "content": value})
        else:
            notes.add(key, f"the {key} is {kind(value)}, not a string")
    out: dict[str, Any] = {"messages": messages}
    carry(data, frozenset({"prompt", "completion"}), out, notes)
    return notes.done(out, Format.CHAT)


def _preference_chat(data: dict[str, Any]) -> Converted:
    """A preference pair as chat: the input and the preferred answer; the other is lost."""
    notes = Notes()
    given = data.get("input")
    source: dict[str, Any] = given if isinstance(given, dict) else {}
    messages = source.get("messages")
    preferred = data.get("preferred_output")
    out: dict[str, Any] = {
        "messages": [
            *(messages if isinstance(messages, list) else []),
            *(preferred if isinstance(preferred, list) else []),
        ]
    }
    for key in ("tools", "parallel_tool_calls"):
        if key in source:
            out[key] = source[key]
    notes.add(
        "non_preferred_output",
        "the non-preferred answer: chat data trains on one answer and has no rejected one",
    )
    carry(data, frozenset({"input", "preferred_output", "non_preferred_output"}), out, notes)
    return notes.done(out, Format.CHAT)


def _chat_preference(data: dict[str, Any]) -> Converted:
    """Chat as a preference pair without its rejected answer, which chat does not have."""
    notes = Notes()
    given = data.get("messages")
    messages: list[Any] = given if isinstance(given, list) else []
    last = last_assistant(messages)
    cut = len(messages) if last is None else last
    source: dict[str, Any] = {"messages": messages[:cut]}
    for key in ("tools", "parallel_tool_calls"):
        if key in data:
            source[key] = data[key]
    out = {"input": source, "preferred_output": messages[cut:], "non_preferred_output": []}
    notes.add("messages", "chat data has no rejected answer: a preference pair needs one")
    carry(data, frozenset({"messages", "tools", "parallel_tool_calls"}), out, notes)
    return notes.done(out, Format.PREFERENCE)
