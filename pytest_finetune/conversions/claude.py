"""Claude on Amazon Bedrock: a top-level ``system`` string and ``messages``.

Bedrock's fine-tuning data for Claude (Anthropic's "Finetuning Claude 3 Haiku on
Bedrock" cookbook) is ``{"system": ..., "messages": [{"role": "user" | "assistant",
"content": "..."}]}``: text turns alternating from the user to the assistant, no
other keys. That is what is written. Reading is wider, as Anthropic's Messages API
writes content: blocks of ``text``, ``image`` (base64, to an ``image_url`` data URL),
``tool_use`` (to tool calls) and ``tool_result`` (to tool messages).
"""

from __future__ import annotations

from typing import Any

from pytest_finetune.chat_schema.roles import CHAT_KEYS
from pytest_finetune.conversions import nova
from pytest_finetune.conversions.base import (
    Converted,
    Notes,
    carry,
    dumps,
    holds,
    kind,
    messages_of,
)
from pytest_finetune.formats import Format

KEYS = frozenset({"system", "messages"})


def to_openai(data: dict[str, Any]) -> Converted:
    """A Claude record as chat messages (Converse content blocks are read as Nova's)."""
    if _converse(data):
        # Nova's layout without its schemaVersion, as some of AWS's sample data is.
        read = nova.to_openai({**data, "schemaVersion": nova.SCHEMA_VERSION})
        return Converted(read.data, read.format, read.unmappable)
    notes = Notes()
    messages: list[dict[str, Any]] = []
    system = data.get("system")
    if isinstance(system, str):
        if system:
            messages.append({"role": "system", "content": system})
    elif isinstance(system, list):
        parts = _text_blocks(system, "system", notes)
        if parts:
            messages.append({"role": "system", "content": parts})
    elif system is not None:
        notes.add("system", f"the system prompt is {kind(system)}, not a string")
    source = data.get("messages")
    if not isinstance(source, list):
        notes.add("messages", f"the messages are {kind(source)}, not a list")
        source = []
    for index, message in enumerate(source):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            notes.add(where, "not a message of role user or assistant")
            continue
        for key in message:
            if key not in ("role", "content"):
                notes.add(f"{where}.{key}", f"a key {key!r} that Claude's messages do not have")
        role, content = message["role"], message.get("content")
        if isinstance(content, str):
            messages.append({"role": role, "content": content})
        elif isinstance(content, list):
            messages += _blocks(role, content, f"{where}.content", notes)
        else:
            notes.add(f"{where}.content", f"the content is {kind(content)}, not text or blocks")
    out: dict[str, Any] = {"messages": messages}
    carry(data, KEYS, out, notes)
    return notes.done(out, Format.CHAT)


def _converse(data: dict[str, Any]) -> bool:
    """Whether the content blocks are Bedrock Converse's (``{"text": ...}``, no ``type``)."""
    system, messages = data.get("system"), data.get("messages")
    blocks = list(system) if isinstance(system, list) else []
    if isinstance(messages, list):
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, list):
                blocks += content
    return bool(blocks) and all(isinstance(b, dict) and "type" not in b for b in blocks)


def _text_blocks(blocks: list[Any], where: str, notes: Notes) -> list[dict[str, Any]]:
    parts = []
    for index, block in enumerate(blocks):
        if (
            isinstance(block, dict)
            and block.get("type") == "text"
            and isinstance(block.get("text"), str)
        ):
            parts.append({"type": "text", "text": block["text"]})
        else:
            notes.add(f"{where}[{index}]", "not a text block")
    return parts


def _blocks(role: str, blocks: list[Any], where: str, notes: Notes) -> list[dict[str, Any]]:
    """A message's content blocks as chat messages: tool results first, then the message."""
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for index, block in enumerate(blocks):
        path = f"{where}[{index}]"
        kind_ = block.get("type") if isinstance(block, dict) else None
        if kind_ == "text" and isinstance(block.get("text"), str):
            parts.append({"type": "text", "text": block["text"]})
        elif kind_ == "image" and role == "user" and _data_url(block.get("source")):
            parts.append({"type": "image_url", "image_url": {"url": _data_url(block["source"])}})
        elif kind_ == "tool_use" and role == "assistant":
            name, ident, arguments = block.get("name"), block.get("id"), block.get("input", {})
            if isinstance(name, str) and isinstance(ident, str) and isinstance(arguments, dict):
                calls.append(
                    {
                        "id": ident,
                        "type": "function",
                        "function": {"name": name, "arguments": dumps(arguments)},
                    }
                )
            else:
                notes.add(path, "a tool_use block without an id, a name or an input object")
        elif kind_ == "tool_result" and role == "user":
            result = _result(block, path, notes)
            if result is not None:
                results.append(result)
        else:
            notes.add(path, f"a {kind_ or kind(block)} block chat has no equivalent for here")
    messages = results
    if role == "assistant" and (parts or calls):
        message: dict[str, Any] = {"role": "assistant"}
        if parts:
            message["content"] = parts
        if calls:
            message["tool_calls"] = calls
        messages.append(message)
    elif parts:
        messages.append({"role": role, "content": parts})
    return messages


def _data_url(source: object) -> str | None:
    if (
        isinstance(source, dict)
        and source.get("type") == "base64"
        and isinstance(source.get("media_type"), str)
        and isinstance(source.get("data"), str)
    ):
        return f"data:{source['media_type']};base64,{source['data']}"
    return None


def _result(block: dict[str, Any], path: str, notes: Notes) -> dict[str, Any] | None:
    ident, content = block.get("tool_use_id"), block.get("content", "")
    if not isinstance(ident, str):
        notes.add(path, "a tool_result without a tool_use_id")
        return None
    if block.get("is_error"):
        notes.add(f"{path}.is_error", "an error result: chat's tool messages have no error flag")
    if isinstance(content, list):
        content = _text_blocks(content, f"{path}.content", notes)
    elif not isinstance(content, str):
        notes.add(f"{path}.content", f"the result is {kind(content)}, not text")
        return None
    return {"role": "tool", "tool_call_id": ident, "content": content}


# -- writing --------------------------------------------------------------------------


def from_openai(data: dict[str, Any]) -> Converted:
    """Chat data as Bedrock's Claude fine-tuning record: a system string and text turns."""
    notes = Notes()
    messages = messages_of(data, notes)
    out: dict[str, Any] = {}
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(message, dict):
            notes.add(where, f"the message is {kind(message)}, not an object")
            continue
        if role in ("system", "developer") and index == 0 and isinstance(content, str):
            out["system"] = content
        elif role in ("user", "assistant") and isinstance(content, str):
            turns.append({"role": role, "content": content})
        elif role == "tool" or message.get("tool_calls"):
            notes.add(
                where,
                "a tool call or result: Bedrock's Claude fine-tuning data holds text turns only",
            )
            continue
        elif role in ("system", "developer"):
            notes.add(
                where,
                "a system message that is not the first, or not text: Claude has one system string",
            )
            continue
        else:
            notes.add(
                where,
                f"role {role!r} with {kind(content)} content: Claude takes user and "
                "assistant turns of text",
            )
            continue
        for key in message:
            if key in ("role", "content") or (key == "weight" and message[key] == 1):
                continue
            notes.add(f"{where}.{key}", f"Claude's messages have no {key}")
    out["messages"] = turns
    for key in ("tools", "functions", "parallel_tool_calls"):
        if holds(data, key):
            notes.add(key, "Bedrock's Claude fine-tuning data has no tool definitions")
    carry(data, CHAT_KEYS, out, notes)
    return notes.done(out, Format.CLAUDE)
