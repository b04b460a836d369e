"""ShareGPT (``conversations`` of ``from``/``value`` turns) and its preference variant.

As LLaMA-Factory reads it (its data/README.md): ``human``, ``gpt``, ``system``,
``function_call`` (a JSON string of ``{"name", "arguments"}``, or a list of them) and
``observation`` (the tool's result) turns, a ``system`` column and a ``tools`` column
holding a JSON string of function definitions. The preference variant keeps the
prompt in ``conversations`` and one ``chosen`` and one ``rejected`` turn.

Chat gives each call an id (``call_0``, ``call_1``, ...) and each result the id of the
call it answers. Writing ShareGPT, the system prompt becomes a first ``system`` turn,
which LLaMA-Factory and Axolotl both read.
"""

from __future__ import annotations

from typing import Any

from pytest_finetune.chat_schema.roles import CHAT_KEYS, PREFERENCE_INPUT_KEYS
from pytest_finetune.conversions.base import (
    Converted,
    Notes,
    call_id,
    carry,
    dumps,
    holds,
    kind,
    loads,
    loads_object,
)
from pytest_finetune.formats import Format

KEYS = frozenset({"conversations", "system", "tools"})
PREFERENCE_KEYS = KEYS | {"chosen", "rejected"}
_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
}
_RESULTS = frozenset({"observation", "tool"})
_TURN_KEYS = frozenset({"from", "value"})
_MEDIA = ("images", "videos", "audios")


class _Calls:
    """The tool calls of one record: ids given so far, and those not yet answered."""

    __slots__ = ("count", "pending")

    def __init__(self) -> None:
        self.count = 0
        self.pending: list[str] = []

    def new(self) -> str:
        ident = call_id(self.count)
        self.count += 1
        self.pending.append(ident)
        return ident


def to_openai(data: dict[str, Any]) -> Converted:
    """A ShareGPT record as chat messages."""
    notes = Notes()
    calls = _Calls()
    messages = _system(data, notes)
    messages += _turns(data.get("conversations"), "conversations", notes, calls)
    out: dict[str, Any] = {"messages": messages}
    tools = _tools(data, notes)
    if tools is not None:
        out["tools"] = tools
    _media(data, notes)
    carry(data, KEYS | set(_MEDIA), out, notes)
    return notes.done(out, Format.CHAT)


def preference_to_openai(data: dict[str, Any]) -> Converted:
    """A ShareGPT preference record as OpenAI preference data."""
    notes = Notes()
    calls = _Calls()
    messages = _system(data, notes)
    messages += _turns(data.get("conversations"), "conversations", notes, calls)
    source: dict[str, Any] = {"messages": messages}
    tools = _tools(data, notes)
    if tools is not None:
        source["tools"] = tools
    out: dict[str, Any] = {"input": source}
    for key, target in (("chosen", "preferred_output"), ("rejected", "non_preferred_output")):
        turn = data.get(key)
        if isinstance(turn, dict):
            # Each answer is read on its own: its calls do not answer each other.
            answer = _Calls()
            answer.count = calls.count
            out[target] = _turns([turn], key, notes, answer, single=True)
        else:
            notes.add(key, f"the {key} answer is {kind(turn)}, not a turn object")
            out[target] = []
    _media(data, notes)
    carry(data, PREFERENCE_KEYS | set(_MEDIA), out, notes)
    return notes.done(out, Format.PREFERENCE)


def _system(data: dict[str, Any], notes: Notes) -> list[dict[str, Any]]:
    system = data.get("system")
    if isinstance(system, str):
        return [{"role": "system", "content": system}] if system else []
    if system is not None:
        notes.add("system", f"the system prompt is {kind(system)}, not a string")
    return []


def _tools(data: dict[str, Any], notes: Notes) -> list[Any] | None:
    """The ``tools`` column as OpenAI tools (``None``: there is none)."""
    if "tools" not in data:
        return None
    tools = data["tools"]
    if isinstance(tools, str):
        try:
            tools = loads(tools) if tools.strip() else []
        except ValueError:
            notes.add("tools", "the tools are a string that is not JSON")
            return None
    if not isinstance(tools, list):
        notes.add("tools", f"the tools are {kind(tools)}, not a list of function definitions")
        return None
    out = []
    for index, tool in enumerate(tools):
        if isinstance(tool, dict) and tool.get("type") == "function" and "function" in tool:
            out.append(tool)  # already OpenAI's shape
        elif isinstance(tool, dict) and isinstance(tool.get("name"), str):
            out.append({"type": "function", "function": tool})
        else:
            notes.add(f"tools[{index}]", "not a function definition with a name")
    return out


def _media(data: dict[str, Any], notes: Notes) -> None:
    for key in _MEDIA:
        if data.get(key):
            notes.add(
                key,
                f"LLaMA-Factory's {key}: file paths that <{key[:-1]}> tags in the text "
                "stand for; chat data holds images as image_url parts, and no audio or video",
            )


def _turns(
    turns: object, where: str, notes: Notes, calls: _Calls, *, single: bool = False
) -> list[dict[str, Any]]:
    if not isinstance(turns, list):
        notes.add(where, f"the conversations are {kind(turns)}, not a list of turns")
        return []
    messages: list[dict[str, Any]] = []
    for index, turn in enumerate(turns):
        if type(turn) is dict and len(turn) == 2:
            # The common turn, read without building its path: a speaker's text.
            speaker, value = turn.get("from"), turn.get("value")
            if type(value) is str and speaker in _ROLES:
                calls.pending.clear()
                messages.append({"role": _ROLES[speaker], "content": value})
                continue
        path = where if single else f"{where}[{index}]"
        if not isinstance(turn, dict):
            notes.add(path, f"the turn is {kind(turn)}, not an object with from and value")
            continue
        speaker, value = turn.get("from"), turn.get("value")
        if not isinstance(value, str):
            notes.add(f"{path}.value", f"the value is {kind(value)}, not a string")
            continue
        if not turn.keys() <= _TURN_KEYS:
            extra = sorted(str(key) for key in turn if key not in _TURN_KEYS)
            notes.add(path, f"keys beside from and value ({', '.join(extra)}): chat has no place")
        if speaker in _ROLES:
            # A call no result answered stays unanswered: a later result is not its.
            calls.pending.clear()
            messages.append({"role": _ROLES[speaker], "content": value})
        elif speaker == "function_call":
            message = _call(value, path, notes, calls)
            if message is not None:
                messages.append(message)
        elif speaker in _RESULTS:
            if len(calls.pending) == 1:
                messages.append(
                    {"role": "tool", "tool_call_id": calls.pending.pop(), "content": value}
                )
            elif not calls.pending:
                notes.add(
                    path,
                    f"an {speaker} turn without a function_call before it: chat has no tool "
                    "role without a tool call id",
                )
            else:
                notes.add(
                    path,
                    f"one {speaker} turn answers {len(calls.pending)} parallel calls: chat "
                    "needs one tool message per call",
                )
                calls.pending.clear()
        else:
            notes.add(f"{path}.from", f"an unknown speaker {speaker!r}")
    return messages


def _call(value: str, path: str, notes: Notes, calls: _Calls) -> dict[str, Any] | None:
    """A ``function_call`` turn as an assistant message with tool calls."""
    try:
        parsed = loads(value)
    except ValueError:
        notes.add(f"{path}.value", "a function_call whose value is not JSON")
        return None
    wanted = parsed if isinstance(parsed, list) else [parsed]
    tool_calls = []
    calls.pending.clear()
    for number, call in enumerate(wanted):
        where = f"{path}.value" if not isinstance(parsed, list) else f"{path}.value[{number}]"
        name = call.get("name") if isinstance(call, dict) else None
        if not isinstance(name, str):
            notes.add(where, "a function call without a name")
            continue
        arguments = call.get("arguments", {})
        if isinstance(arguments, dict):
            arguments = dumps(arguments)
        elif not isinstance(arguments, str):
            notes.add(where, f"the arguments are {kind(arguments)}, not an object")
            continue
        tool_calls.append(
            {
                "id": calls.new(),
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
        )
    if not tool_calls:
        return None
    return {"role": "assistant", "tool_calls": tool_calls}


# -- writing --------------------------------------------------------------------------


def from_openai(data: dict[str, Any]) -> Converted:
    """Chat data as a ShareGPT record."""
    notes = Notes()
    out: dict[str, Any] = {
        "conversations": _conversations(data.get("messages"), "messages", notes, first=True)
    }
    _write_tools(data, out, notes)
    carry(data, CHAT_KEYS, out, notes)
    return notes.done(out, Format.SHAREGPT)


def preference_from_openai(data: dict[str, Any]) -> Converted:
    """OpenAI preference data as a ShareGPT preference record."""
    notes = Notes()
    source = data.get("input")
    if not isinstance(source, dict):
        notes.add("input", f"the input is {kind(source)}, not an object with messages")
        source = {}
    out: dict[str, Any] = {
        "conversations": _conversations(source.get("messages"), "input.messages", notes, first=True)
    }
    for key, target in (("preferred_output", "chosen"), ("non_preferred_output", "rejected")):
        output = data.get(key)
        turns = _conversations(output, key, notes, first=False)
        if isinstance(output, list) and len(output) == 1 and len(turns) == 1:
            out[target] = turns[0]
        elif isinstance(output, list) and len(output) != 1:
            notes.add(key, f"{len(output)} messages: ShareGPT preference holds one {target} turn")
    _write_tools(source, out, notes, prefix="input.")
    for key in source:
        if key not in PREFERENCE_INPUT_KEYS:
            notes.add(f"input.{key}", "a key ShareGPT has no place for")
    carry(data, frozenset({"input", "preferred_output", "non_preferred_output"}), out, notes)
    return notes.done(out, Format.SHAREGPT_PREFERENCE)


def _write_tools(data: dict[str, Any], out: dict[str, Any], notes: Notes, prefix: str = "") -> None:
    tools = data.get("tools")
    if "tools" in data:
        if not isinstance(tools, list):
            notes.add(f"{prefix}tools", f"the tools are {kind(tools)}, not a list")
        else:
            functions = []
            for index, tool in enumerate(tools):
                function = tool.get("function") if isinstance(tool, dict) else None
                if isinstance(tool, dict) and tool.get("type") == "function" and function:
                    functions.append(function)
                else:
                    notes.add(f"{prefix}tools[{index}]", "not a function tool")
            out["tools"] = dumps(functions)
    for key in ("functions", "parallel_tool_calls"):
        if holds(data, key):
            notes.add(f"{prefix}{key}", f"ShareGPT has no {key}")


def _conversations(
    messages: object, where: str, notes: Notes, *, first: bool
) -> list[dict[str, Any]]:
    if not isinstance(messages, list):
        notes.add(where, f"the messages are {kind(messages)}, not a list")
        return []
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        path = f"{where}[{index}]"
        turn = _turn(message, path, notes, system_allowed=first and index == 0)
        if turn is not None:
            turns.append(turn)
    return turns


_FROM = {"user": "human", "assistant": "gpt", "system": "system", "tool": "observation"}


def _turn(
    message: object, path: str, notes: Notes, *, system_allowed: bool
) -> dict[str, Any] | None:
    if not isinstance(message, dict):
        notes.add(path, f"the message is {kind(message)}, not an object")
        return None
    role = message.get("role")
    if role not in _FROM or (role == "system" and not system_allowed):
        reason = "a system message after the first turn" if role == "system" else f"role {role!r}"
        notes.add(path, f"{reason}: ShareGPT has no such turn")
        return None
    extra = [key for key in message if key not in ("role", "content", "tool_calls", "tool_call_id")]
    if message.get("weight") == 1:
        extra.remove("weight")  # the default: every turn is trained on
    if role == "tool" and "name" in extra:
        extra.remove("name")  # the call it answers names the function
    for key in extra:
        notes.add(f"{path}.{key}", f"ShareGPT turns have no {key}")
    content = message.get("content")
    tool_calls = message.get("tool_calls")
    if role == "assistant" and tool_calls:
        if content not in (None, ""):
            notes.add(
                f"{path}.content",
                "text beside tool calls: ShareGPT's function_call turn holds the calls only",
            )
        return _function_call(tool_calls, f"{path}.tool_calls", notes)
    if not isinstance(content, str):
        notes.add(f"{path}.content", f"the content is {kind(content)}: ShareGPT values are strings")
        return None
    return {"from": _FROM[role], "value": content}


def _function_call(tool_calls: object, path: str, notes: Notes) -> dict[str, Any] | None:
    if not isinstance(tool_calls, list):
        notes.add(path, f"the tool calls are {kind(tool_calls)}, not a list")
        return None
    calls = []
    for index, call in enumerate(tool_calls):
        function = call.get("function") if isinstance(call, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        arguments = function.get("arguments") if isinstance(function, dict) else None
        parsed = loads_object(arguments)
        if not isinstance(name, str) or parsed is None:
            notes.add(
                f"{path}[{index}]",
                "a call without a name or with arguments that are not a JSON object",
            )
            continue
        calls.append({"name": name, "arguments": parsed})
    if not calls:
        return None
    return {"from": "function_call", "value": dumps(calls[0] if len(calls) == 1 else calls)}
