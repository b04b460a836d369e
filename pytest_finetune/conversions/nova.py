"""Amazon Nova on Bedrock: ``schemaVersion`` ``bedrock-conversation-2024``, Converse messages.

As Bedrock's "Fine-tuning Amazon Nova models" pages describe it: a ``system`` list of
text blocks and ``messages`` whose ``content`` is a list of blocks, ``text`` in every
turn, ``image`` and ``video`` (S3 locations) in user turns, ``reasoningContent`` in
assistant turns (Nova 2.0); the Converse shapes ``toolUse``, ``toolResult`` and
``toolConfig`` are read and written too, though Nova 2.0 does not yet tune on them.

One text block is a string content in chat, several are content parts. Media (which
lives in S3, where chat's image_url cannot point) and reasoning are unmappable.
"""

from __future__ import annotations

from typing import Any

from pytest_finetune.chat_schema.roles import CHAT_KEYS
from pytest_finetune.conversions.base import (
    Converted,
    Notes,
    carry,
    dumps,
    holds,
    kind,
    loads_object,
    messages_of,
)
from pytest_finetune.formats import Format

SCHEMA_VERSION = "bedrock-conversation-2024"
KEYS = frozenset({"schemaVersion", "system", "messages", "toolConfig"})


def to_openai(data: dict[str, Any]) -> Converted:
    """A Nova record as chat messages."""
    notes = Notes()
    messages: list[dict[str, Any]] = []
    if data.get("schemaVersion") != SCHEMA_VERSION:
        notes.add("schemaVersion", f"{data.get('schemaVersion')!r}, not {SCHEMA_VERSION!r}")
    system = data.get("system")
    if system is not None:
        if isinstance(system, list):
            texts = _texts(system, "system", notes)
            if texts:
                messages.append({"role": "system", "content": _content(texts)})
        else:
            notes.add("system", f"the system prompt is {kind(system)}, not a list of text blocks")
    source = data.get("messages")
    if not isinstance(source, list):
        notes.add("messages", f"the messages are {kind(source)}, not a list")
        source = []
    for index, message in enumerate(source):
        where = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            notes.add(where, "not a message of role user or assistant")
            continue
        for key in message:
            if key not in ("role", "content"):
                notes.add(f"{where}.{key}", f"a key {key!r} that Nova's messages do not have")
        blocks = message.get("content")
        if not isinstance(blocks, list):
            notes.add(f"{where}.content", f"the content is {kind(blocks)}, not a list of blocks")
            continue
        messages += _blocks(role, blocks, f"{where}.content", notes)
    out: dict[str, Any] = {"messages": messages}
    if "toolConfig" in data:
        tools = _read_tools(data["toolConfig"], notes)
        if tools:
            out["tools"] = tools
    carry(data, KEYS, out, notes)
    return notes.done(out, Format.CHAT)


def _texts(blocks: list[Any], where: str, notes: Notes) -> list[str]:
    texts = []
    for index, block in enumerate(blocks):
        if isinstance(block, dict) and block.keys() == {"text"} and isinstance(block["text"], str):
            texts.append(block["text"])
        else:
            notes.add(f"{where}[{index}]", "not a text block")
    return texts


def _content(texts: list[str]) -> str | list[dict[str, str]]:
    if len(texts) == 1:
        return texts[0]
    return [{"type": "text", "text": text} for text in texts]


def _blocks(role: str, blocks: list[Any], where: str, notes: Notes) -> list[dict[str, Any]]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for index, block in enumerate(blocks):
        path = f"{where}[{index}]"
        if not isinstance(block, dict) or len(block) != 1:
            notes.add(path, "not a content block (an object with one key)")
            continue
        ((key, value),) = block.items()
        if key == "text" and isinstance(value, str):
            texts.append(value)
        elif key == "toolUse" and role == "assistant" and isinstance(value, dict):
            ident, name, arguments = (
                value.get("toolUseId"),
                value.get("name"),
                value.get("input", {}),
            )
            if isinstance(ident, str) and isinstance(name, str) and isinstance(arguments, dict):
                calls.append(
                    {
                        "id": ident,
                        "type": "function",
                        "function": {"name": name, "arguments": dumps(arguments)},
                    }
                )
            else:
                notes.add(path, "a toolUse without a toolUseId, a name or an input object")
        elif key == "toolResult" and role == "user" and isinstance(value, dict):
            result = _result(value, path, notes)
            if result is not None:
                results.append(result)
        elif key in ("image", "video", "document"):
            notes.add(
                path,
                f"{'an' if key[0] in 'aeiou' else 'a'} {key} block: chat data cannot point "
                "at media in S3",
            )
        elif key == "reasoningContent":
            notes.add(path, "reasoning content: chat fine-tuning data has no reasoning turns")
        else:
            notes.add(path, f"a {key} block chat has no equivalent for here")
    messages = results
    if role == "assistant" and (texts or calls):
        message: dict[str, Any] = {"role": "assistant"}
        if texts:
            message["content"] = _content(texts)
        if calls:
            message["tool_calls"] = calls
        messages.append(message)
    elif texts:
        messages.append({"role": role, "content": _content(texts)})
    return messages


def _result(value: dict[str, Any], path: str, notes: Notes) -> dict[str, Any] | None:
    ident, content = value.get("toolUseId"), value.get("content")
    if not isinstance(ident, str) or not isinstance(content, list):
        notes.add(path, "a toolResult without a toolUseId or a list of content")
        return None
    if value.get("status") == "error":
        notes.add(f"{path}.status", "an error result: chat's tool messages have no error flag")
    texts = []
    for index, block in enumerate(content):
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif isinstance(block, dict) and "json" in block:
            texts.append(dumps(block["json"]))
        else:
            notes.add(f"{path}.content[{index}]", "a result block that is neither text nor json")
    return {"role": "tool", "tool_call_id": ident, "content": _content(texts) if texts else ""}


def _read_tools(config: object, notes: Notes) -> list[dict[str, Any]]:
    tools = config.get("tools") if isinstance(config, dict) else None
    if not isinstance(tools, list):
        notes.add("toolConfig", "a toolConfig without a list of tools")
        return []
    out = []
    for index, tool in enumerate(tools):
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        schema = spec.get("inputSchema") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            notes.add(f"toolConfig.tools[{index}]", "not a toolSpec with a name")
            continue
        function: dict[str, Any] = {"name": spec["name"]}
        if "description" in spec:
            function["description"] = spec["description"]
        if isinstance(schema, dict) and "json" in schema:
            function["parameters"] = schema["json"]
        out.append({"type": "function", "function": function})
    for key in config if isinstance(config, dict) else ():
        if key != "tools":
            notes.add(f"toolConfig.{key}", "a tool setting chat data has no place for")
    return out


# -- writing --------------------------------------------------------------------------


def from_openai(data: dict[str, Any]) -> Converted:
    """Chat data as a Nova record."""
    notes = Notes()
    messages = messages_of(data, notes)
    # The system key is always written, empty without a system prompt, as Bedrock's
    # documented examples and AWS's own sample data have it.
    out: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION, "system": []}
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            notes.add(where, f"the message is {kind(message)}, not an object")
            continue
        role = message.get("role")
        for key in message:
            if key in ("role", "content", "tool_calls", "tool_call_id"):
                continue
            if (key == "weight" and message[key] == 1) or (key == "name" and role == "tool"):
                continue
            notes.add(f"{where}.{key}", f"Nova's messages have no {key}")
        if role in ("system", "developer"):
            blocks = _text_blocks(message.get("content"), f"{where}.content", notes)
            if index != 0:
                notes.add(where, "a system message after the first: Nova has one system prompt")
            else:
                out["system"] = blocks
        elif role == "user":
            _append(turns, "user", _text_blocks(message.get("content"), f"{where}.content", notes))
        elif role == "assistant":
            content = message.get("content")
            blocks = [] if content is None else _text_blocks(content, f"{where}.content", notes)
            blocks += _uses(message.get("tool_calls"), f"{where}.tool_calls", notes)
            _append(turns, "assistant", blocks)
        elif role == "tool":
            ident, content = message.get("tool_call_id"), message.get("content")
            if not isinstance(ident, str) or not isinstance(content, str):
                notes.add(where, "a tool result without a tool_call_id, or not text")
                continue
            parsed = loads_object(content)
            block = {"json": parsed} if parsed is not None else {"text": content}
            _append(turns, "user", [{"toolResult": {"toolUseId": ident, "content": [block]}}])
        else:
            notes.add(f"{where}.role", f"role {role!r}: Nova has user and assistant turns only")
    out["messages"] = turns
    if "tools" in data:
        specs = _specs(data["tools"], notes)
        if specs:
            out["toolConfig"] = {"tools": specs}
    for key in ("functions", "parallel_tool_calls"):
        if holds(data, key):
            notes.add(key, f"Nova's data has no {key}")
    carry(data, CHAT_KEYS, out, notes)
    return notes.done(out, Format.NOVA)


def _append(turns: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    """Add a turn; tool results and the user text after them share one user turn."""
    if not blocks:
        return
    if turns and turns[-1]["role"] == role == "user" and "toolResult" in turns[-1]["content"][-1]:
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": blocks})


def _text_blocks(content: object, where: str, notes: Notes) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    if isinstance(content, list):
        blocks = []
        for index, part in enumerate(content):
            if (
                isinstance(part, dict)
                and part.get("type") == "text"
                and isinstance(part.get("text"), str)
            ):
                blocks.append({"text": part["text"]})
            else:
                kind_ = part.get("type") if isinstance(part, dict) else kind(part)
                notes.add(
                    f"{where}[{index}]",
                    f"a {kind_} part: Nova's images and videos are S3 locations, not URLs",
                )
        return blocks
    notes.add(where, f"the content is {kind(content)}, not text")
    return []


def _uses(tool_calls: object, where: str, notes: Notes) -> list[dict[str, Any]]:
    if tool_calls is None:
        return []
    if not isinstance(tool_calls, list):
        notes.add(where, f"the tool calls are {kind(tool_calls)}, not a list")
        return []
    blocks = []
    for index, call in enumerate(tool_calls):
        function = call.get("function") if isinstance(call, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        arguments = loads_object(function.get("arguments")) if isinstance(function, dict) else None
        ident = call.get("id") if isinstance(call, dict) else None
        if not isinstance(name, str) or arguments is None or not isinstance(ident, str):
            notes.add(
                f"{where}[{index}]",
                "a call without an id or a name, or whose arguments are not a JSON object",
            )
            continue
        blocks.append({"toolUse": {"toolUseId": ident, "name": name, "input": arguments}})
    return blocks


def _specs(tools: object, notes: Notes) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        notes.add("tools", f"the tools are {kind(tools)}, not a list")
        return []
    specs = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            notes.add(f"tools[{index}]", "not a function tool with a name")
            continue
        spec: dict[str, Any] = {"name": function["name"]}
        if "description" in function:
            spec["description"] = function["description"]
        if "parameters" in function:
            spec["inputSchema"] = {"json": function["parameters"]}
        for key in function:
            if key not in ("name", "description", "parameters"):
                notes.add(f"tools[{index}].function.{key}", f"Nova's toolSpec has no {key}")
        specs.append({"toolSpec": spec})
    return specs
