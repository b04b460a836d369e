"""Vertex AI Gemini tuning data: ``contents`` of ``parts``, ``systemInstruction``, ``tools``.

As Vertex AI's "Prepare supervised fine-tuning data for Gemini models" and "Tune
function calling" pages describe it: each content has a role, ``user`` or ``model``,
and parts, each one of ``text``, ``functionCall`` (``name``, ``args``),
``functionResponse`` (``name``, ``response``), ``inlineData`` or ``fileData``; the
``systemInstruction`` is a content of text parts (its role is ignored); ``tools`` hold
``functionDeclarations``. (The function calling page writes ``system_instruction``;
both spellings are read.)

Chat gives each function call an id (Gemini's own ``id`` where it has one) and each
function response the id of the earliest unanswered call of that name. A response
that is not a JSON object, or a tool result that is not one, travels as
``{"output": ...}``, the key Vertex documents for a function's output. One text part
is a string content, several are content parts; media parts are unmappable.
"""

from __future__ import annotations

from typing import Any

from pytest_finetune.chat_schema.roles import CHAT_KEYS
from pytest_finetune.conversions.base import (
    Converted,
    Notes,
    call_id,
    carry,
    dumps,
    holds,
    kind,
    loads_object,
    messages_of,
)
from pytest_finetune.formats import Format

KEYS = frozenset({"contents", "systemInstruction", "system_instruction", "tools"})
_ROLES = {"user": "user", "model": "assistant"}
_MEDIA = ("inlineData", "fileData", "inline_data", "file_data")


def to_openai(data: dict[str, Any]) -> Converted:
    """A Gemini record as chat messages."""
    notes = Notes()
    messages: list[dict[str, Any]] = []
    key = "systemInstruction" if "systemInstruction" in data else "system_instruction"
    if key in data:
        system = data[key]
        parts = system.get("parts") if isinstance(system, dict) else None
        if isinstance(parts, list):
            system_texts = _texts(parts, f"{key}.parts", notes)
            if system_texts:
                messages.append({"role": "system", "content": _content(system_texts)})
        else:
            notes.add(key, "the system instruction has no list of parts")
    contents = data.get("contents")
    if not isinstance(contents, list):
        notes.add("contents", f"the contents are {kind(contents)}, not a list")
        contents = []
    turns = _Turns(notes)
    for index, content in enumerate(contents):
        messages += turns.read(content, f"contents[{index}]")
    out: dict[str, Any] = {"messages": messages}
    if "tools" in data:
        tools = _read_tools(data["tools"], notes)
        if tools:
            out["tools"] = tools
    carry(data, KEYS, out, notes)
    return notes.done(out, Format.CHAT)


class _Turns:
    """Reads contents one after another, pairing each function response with its call."""

    def __init__(self, notes: Notes) -> None:
        self.notes = notes
        self.calls: list[tuple[str, str]] = []  # unanswered calls: (id, name)
        self.count = 0

    def read(self, content: object, where: str) -> list[dict[str, Any]]:
        """The chat messages of one content: its function results, then its message."""
        notes = self.notes
        if not isinstance(content, dict):
            notes.add(where, f"the content is {kind(content)}, not an object with role and parts")
            return []
        role, parts = content.get("role"), content.get("parts")
        if not isinstance(parts, list):
            notes.add(f"{where}.parts", f"the parts are {kind(parts)}, not a list")
            return []
        if role not in _ROLES and not (role == "function" and parts):
            notes.add(f"{where}.role", f"role {role!r}: Gemini's roles are user and model")
            return []
        for extra in content:
            if extra not in ("role", "parts"):
                notes.add(f"{where}.{extra}", "a key of a content that chat has no place for")
        texts: list[dict[str, Any]] = []  # content parts: text, and images of user turns
        tool_calls: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        for number, part in enumerate(parts):
            path = f"{where}.parts[{number}]"
            if not isinstance(part, dict):
                notes.add(path, f"the part is {kind(part)}, not an object")
            elif isinstance(part.get("text"), str) and len(part) == 1:
                texts.append({"type": "text", "text": part["text"]})
            elif role == "user" and _image_url(part) is not None:
                texts.append({"type": "image_url", "image_url": {"url": _image_url(part)}})
            elif "functionCall" in part and role == "model":
                call = self._call(part["functionCall"], path)
                if call is not None:
                    tool_calls.append(call)
            elif "functionResponse" in part and role != "model":
                result = _response(part["functionResponse"], path, notes, self.calls)
                if result is not None:
                    messages.append(result)
            elif any(key in part for key in _MEDIA):
                notes.add(
                    path,
                    "a media part that is not an inline image of a user turn: chat data "
                    "holds images as image_url parts of user messages, and no files, audio, "
                    "video or documents",
                )
            else:
                keys = ", ".join(sorted(str(key) for key in part)) or "none"
                notes.add(path, f"a part chat has no equivalent for (keys: {keys})")
        if role == "model" and (texts or tool_calls):
            message: dict[str, Any] = {"role": "assistant"}
            if texts:
                message["content"] = _content_parts(texts)
            if tool_calls:
                message["tool_calls"] = tool_calls
            messages.append(message)
        elif role != "model" and texts:
            messages.append({"role": "user", "content": _content_parts(texts)})
        return messages

    def _call(self, call: object, path: str) -> dict[str, Any] | None:
        name = call.get("name") if isinstance(call, dict) else None
        args = call.get("args", {}) if isinstance(call, dict) else None
        if not isinstance(call, dict) or not isinstance(name, str) or not isinstance(args, dict):
            self.notes.add(path, "a functionCall without a name or with args not an object")
            return None
        given = call.get("id")
        ident = given if isinstance(given, str) else call_id(self.count)
        self.count += 1
        self.calls.append((ident, name))
        return {
            "id": ident,
            "type": "function",
            "function": {"name": name, "arguments": dumps(args)},
        }


def _texts(parts: list[Any], where: str, notes: Notes) -> list[str]:
    texts = []
    for index, part in enumerate(parts):
        if isinstance(part, dict) and isinstance(part.get("text"), str) and len(part) == 1:
            texts.append(part["text"])
        else:
            notes.add(f"{where}[{index}]", "the system instruction holds text parts only")
    return texts


def _image_url(part: dict[str, Any]) -> str | None:
    """An inline image part as a data URL (``None``: it is not one)."""
    data = part.get("inlineData")
    if len(part) != 1 or not isinstance(data, dict) or data.keys() != {"mimeType", "data"}:
        return None
    mime, payload = data["mimeType"], data["data"]
    if isinstance(mime, str) and mime.startswith("image/") and isinstance(payload, str):
        return f"data:{mime};base64,{payload}"
    return None


def _content_parts(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """One text part as a string content, anything else as content parts."""
    if len(parts) == 1 and parts[0]["type"] == "text":
        text: str = parts[0]["text"]
        return text
    return parts


def _content(texts: list[str]) -> str | list[dict[str, str]]:
    if len(texts) == 1:
        return texts[0]
    return [{"type": "text", "text": text} for text in texts]


def _response(
    response: object, path: str, notes: Notes, calls: list[tuple[str, str]]
) -> dict[str, Any] | None:
    name = response.get("name") if isinstance(response, dict) else None
    if not isinstance(name, str) or not isinstance(response, dict):
        notes.add(path, "a functionResponse without a name")
        return None
    given = response.get("id")
    for index, (ident, called) in enumerate(calls):
        if (given is None and called == name) or ident == given:
            del calls[index]
            break
    else:
        notes.add(
            path,
            f"a functionResponse of {name!r} without a matching functionCall before it: "
            "chat has no tool result without the call it answers",
        )
        return None
    value = response.get("response")
    if isinstance(value, dict) and value.keys() == {"output"} and isinstance(value["output"], str):
        content = value["output"]
    else:
        content = dumps(value)
    return {"role": "tool", "tool_call_id": ident, "content": content}


def _read_tools(tools: object, notes: Notes) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        notes.add("tools", f"the tools are {kind(tools)}, not a list")
        return []
    out = []
    for index, tool in enumerate(tools):
        declarations = tool.get("functionDeclarations") if isinstance(tool, dict) else None
        if not isinstance(declarations, list) or len(tool) != 1:
            notes.add(
                f"tools[{index}]",
                "a tool other than functionDeclarations (such as search or retrieval): "
                "chat data declares functions only",
            )
            continue
        for number, declaration in enumerate(declarations):
            if isinstance(declaration, dict) and isinstance(declaration.get("name"), str):
                out.append({"type": "function", "function": declaration})
            else:
                notes.add(f"tools[{index}].functionDeclarations[{number}]", "not a named function")
    return out


# -- writing --------------------------------------------------------------------------


def from_openai(data: dict[str, Any]) -> Converted:
    """Chat data as a Gemini record."""
    notes = Notes()
    messages = messages_of(data, notes)
    out: dict[str, Any] = {}
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool call id -> function name
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            notes.add(where, f"the message is {kind(message)}, not an object")
            continue
        role = message.get("role")
        _extra_keys(message, where, notes)
        if role in ("system", "developer"):
            parts = _parts(message.get("content"), f"{where}.content", notes)
            if index != 0 or not parts:
                notes.add(
                    where, "a system message after the first: Gemini has one system instruction"
                )
            else:
                out["systemInstruction"] = {"role": "system", "parts": parts}
        elif role == "user":
            content = message.get("content")
            _append(contents, "user", _parts(content, f"{where}.content", notes, image=True))
        elif role == "assistant":
            parts = _parts(message.get("content"), f"{where}.content", notes, optional=True)
            parts += _calls(message.get("tool_calls"), f"{where}.tool_calls", notes, names)
            _append(contents, "model", parts)
        elif role == "tool":
            _append(contents, "user", _tool_result(message, where, notes, names))
        else:
            notes.add(f"{where}.role", f"role {role!r}: Gemini has user and model turns only")
    out["contents"] = contents
    if "tools" in data:
        declarations = _declarations(data["tools"], notes)
        if declarations:
            out["tools"] = [{"functionDeclarations": declarations}]
    for key in ("functions", "parallel_tool_calls"):
        if holds(data, key):
            notes.add(key, f"Gemini tuning data has no {key}")
    carry(data, CHAT_KEYS, out, notes)
    return notes.done(out, Format.GEMINI)


def _tool_result(
    message: dict[str, Any], where: str, notes: Notes, names: dict[str, str]
) -> list[dict[str, Any]]:
    """A tool message as a functionResponse part, named after the call it answers."""
    ident = message.get("tool_call_id")
    name = names.get(ident) if isinstance(ident, str) else None
    content = message.get("content")
    if name is None or not isinstance(content, str):
        notes.add(where, "a tool result that answers no earlier call, or is not text")
        return []
    response = loads_object(content)
    if response is None:
        response = {"output": content}
    return [{"functionResponse": {"name": name, "response": response}}]


def _extra_keys(message: dict[str, Any], where: str, notes: Notes) -> None:
    for key, value in message.items():
        if key in ("role", "content", "tool_calls", "tool_call_id"):
            continue
        if key == "weight" and value == 1:
            continue  # the default: every turn is trained on
        if key == "name" and message.get("role") == "tool":
            continue  # the call it answers names the function
        notes.add(f"{where}.{key}", f"Gemini's contents have no {key}")


def _append(contents: list[dict[str, Any]], role: str, parts: list[dict[str, Any]]) -> None:
    """Add parts as a turn of ``role``; function responses after one another share a turn."""
    if not parts:
        return
    if (
        contents
        and contents[-1]["role"] == role
        and "functionResponse" in parts[0]
        and "functionResponse" in contents[-1]["parts"][-1]
    ):
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def _inline(part: dict[str, Any]) -> dict[str, str] | None:
    """An image_url part with a base64 data URL as Gemini's inlineData (``None``: not one)."""
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else None
    if part.get("type") != "image_url" or not isinstance(url, str) or not url.startswith("data:"):
        return None
    head, comma, payload = url[5:].partition(",")
    mime, _, encoding = head.partition(";")
    if not comma or encoding != "base64" or not mime.startswith("image/"):
        return None
    return {"mimeType": mime, "data": payload}


def _parts(
    content: object, where: str, notes: Notes, *, optional: bool = False, image: bool = False
) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    if content is None and optional:
        return []
    if isinstance(content, list):
        parts = []
        for index, part in enumerate(content):
            if (
                isinstance(part, dict)
                and part.get("type") == "text"
                and isinstance(part.get("text"), str)
            ):
                parts.append({"text": part["text"]})
            elif image and _inline(part) is not None:
                parts.append({"inlineData": _inline(part)})
            else:
                kind_ = part.get("type") if isinstance(part, dict) else kind(part)
                notes.add(
                    f"{where}[{index}]",
                    f"a {kind_} part: Gemini takes text, and images inline (data URLs) from "
                    "the user",
                )
        return parts
    notes.add(where, f"the content is {kind(content)}, not text")
    return []


def _calls(
    tool_calls: object, where: str, notes: Notes, names: dict[str, str]
) -> list[dict[str, Any]]:
    if tool_calls is None:
        return []
    if not isinstance(tool_calls, list):
        notes.add(where, f"the tool calls are {kind(tool_calls)}, not a list")
        return []
    parts = []
    for index, call in enumerate(tool_calls):
        function = call.get("function") if isinstance(call, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        args = loads_object(function.get("arguments")) if isinstance(function, dict) else None
        if not isinstance(name, str) or args is None:
            notes.add(
                f"{where}[{index}]",
                "a call without a name, or whose arguments are not a JSON object",
            )
            continue
        if isinstance(call, dict) and isinstance(call.get("id"), str):
            names[call["id"]] = name
        parts.append({"functionCall": {"name": name, "args": args}})
    return parts


def _declarations(tools: object, notes: Notes) -> list[Any]:
    if not isinstance(tools, list):
        notes.add("tools", f"the tools are {kind(tools)}, not a list")
        return []
    out = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(function, dict):
            out.append(function)
        else:
            notes.add(f"tools[{index}]", "not a function tool")
    return out
