"""Roles and keys: which roles a conversation has, and the keys each message and example takes."""

from __future__ import annotations

from typing import Any

from pytest_finetune.chat_schema.analysis import Analysis, Issue, UnknownKey
from pytest_finetune.wording import kind

#: The keys each role takes (OpenAI's fine-tuning message schema).
ROLE_KEYS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset(
        {"role", "content", "name", "tool_calls", "function_call", "weight", "refusal", "audio"}
    ),
    # Tool results often carry the function's name too (as OpenAI's cookbook writes
    # them); the API takes it.
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
    "function": frozenset({"role", "content", "name"}),
}
CHAT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
PREFERENCE_KEYS = frozenset(
    {
        "input",
        "preferred_output",
        "non_preferred_output",
        "preferred_completion",
        "non_preferred_completion",
    }
)
PREFERENCE_INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
#: The preference keys that hold one assistant message each (new names, then old).
OUTPUT_KEYS = (
    "preferred_output",
    "non_preferred_output",
    "preferred_completion",
    "non_preferred_completion",
)

#: Roles that instruct (they go first) and roles that give a call's result.
INSTRUCTION_ROLES = frozenset({"system", "developer"})
RESULT_ROLES = frozenset({"tool", "function"})


def messages_problems(container: dict[str, Any], where: str) -> list[str]:
    """What is wrong with ``container["messages"]`` as a list of messages (``where`` names it)."""
    if "messages" not in container:
        near = [key for key in container if key.lower() == "messages"]
        if near:
            return [f"No `{where}` key (found {near[0]!r}; keys are case-sensitive)"]
        return [f"No `{where}`: an example needs a list of messages"]
    messages = container["messages"]
    if not isinstance(messages, list):
        hint = "; wrap the message in [ ]" if isinstance(messages, dict) else ""
        return [f"`{where}` must be a list of message objects, not {kind(messages)}{hint}"]
    if not messages:
        return [f"`{where}` is empty; an example needs at least one message"]
    return [
        f"`{where}[{index}]` is {kind(message)}, not a message object"
        for index, message in enumerate(messages)
        if not isinstance(message, dict)
    ]


def unknown_example_keys(
    data: dict[str, Any], known: frozenset[str], where: str, analysis: Analysis
) -> None:
    """See the keys of an example (or its ``input``) that are not in ``known``."""
    if data.keys() <= known:
        return
    prefix = "input." if where == "the input" else ""
    for key in data:
        if key in known:
            continue
        case_of = None
        if key.lower() in known and key.lower() not in data:
            if key.lower() == "messages":
                continue  # the messages checks name it
            case_of = key.lower()
        analysis.see(
            Issue.UNKNOWN_EXAMPLE_KEY, f"{prefix}{key}", UnknownKey(key, known, where, case_of)
        )


def message_keys(
    analysis: Analysis, message: dict[str, Any], role: str, path: str, *, output: bool
) -> None:
    """See the keys that a message's role does not take, and a malformed name or weight."""
    see = analysis.see
    # Preference outputs are assistant messages without a training weight.
    allowed = ROLE_KEYS[role] - {"weight"} if output else ROLE_KEYS[role]
    if not message.keys() <= allowed:
        for key in message:
            # A weight on another role is the weight check's to report.
            if key not in allowed and not (key == "weight" and not output):
                see(Issue.UNKNOWN_MESSAGE_KEY, path, UnknownKey(key, allowed, role))
    name = message.get("name")
    if name is not None and (not isinstance(name, str) or not name) and "name" in allowed:
        see(Issue.UNKNOWN_MESSAGE_KEY, f"{path}.name", name)
    if "weight" in message and not output:
        weight = message["weight"]
        if role != "assistant":
            see(Issue.INVALID_WEIGHT, path, role)
        elif isinstance(weight, bool) or weight not in (0, 1):
            see(Issue.INVALID_WEIGHT, f"{path}.weight", weight)
