"""Roles and keys: which roles a conversation has, and the keys each message and example takes."""

from __future__ import annotations

from typing import Any

from pytest_finetune.chat_schema.analysis import Analysis, Issue
from pytest_finetune.wording import article, did_you_mean, kind, quote_value

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
#: Names that other tools and formats use for the roles.
_ROLE_ALIASES = {
    "human": "user",
    "prompter": "user",
    "gpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "ai": "assistant",
    "chatbot": "assistant",
    "ipython": "tool",
    "function_call": "assistant",
}


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
    """Report the keys of an example (or its ``input``) that are not in ``known``."""
    if data.keys() <= known:
        return
    prefix = "input." if where == "the input" else ""
    for key in data:
        if key in known:
            continue
        if key.lower() in known and key.lower() not in data:
            if key.lower() == "messages":
                continue  # the messages checks name it
            hint = f"; keys are case-sensitive: did you mean {key.lower()!r}?"
        else:
            hint = did_you_mean(key, known)
        analysis.add(
            Issue.UNKNOWN_EXAMPLE_KEY,
            f"Key `{prefix}{key}` is not part of {where} (keys: {', '.join(sorted(known))}): "
            f"the service ignores or rejects it{hint}",
        )


def message_keys(
    analysis: Analysis, message: dict[str, Any], role: str, path: str, *, output: bool
) -> None:
    """Report the keys that a message's role does not take, and a malformed name or weight."""
    add = analysis.add
    # Preference outputs are assistant messages without a training weight.
    allowed = ROLE_KEYS[role] - {"weight"} if output else ROLE_KEYS[role]
    if not message.keys() <= allowed:
        for key in message:
            # A weight on another role is the weight check's to report.
            if key not in allowed and not (key == "weight" and not output):
                add(Issue.UNKNOWN_MESSAGE_KEY, _unknown_key(key, role, path, allowed))
    name = message.get("name")
    if name is not None and (not isinstance(name, str) or not name) and "name" in allowed:
        add(
            Issue.UNKNOWN_MESSAGE_KEY,
            f"`{path}.name` is {quote_value(name)}; it must be a non-empty string",
        )
    if "weight" in message and not output:
        _weight(analysis, message["weight"], role, path)


def _weight(analysis: Analysis, weight: object, role: str, path: str) -> None:
    if role != "assistant":
        analysis.add(
            Issue.INVALID_WEIGHT,
            f"`{path}` is {article(role)} message with a weight; only assistant messages take one",
        )
    elif isinstance(weight, bool) or weight not in (0, 1):
        analysis.add(
            Issue.INVALID_WEIGHT,
            f"`{path}.weight` is {quote_value(weight)}; it must be 0 (do not train this reply) "
            "or 1 (train it)",
        )


def role_problem(message: dict[str, Any], path: str) -> str:
    """What is wrong with the role of a message that has no valid one."""
    if "role" not in message:
        return f"`{path}` has no role; give it one of {', '.join(ROLE_KEYS)}"
    role = message["role"]
    if not isinstance(role, str):
        return f"`{path}.role` is {kind(role)}; it must be one of {', '.join(ROLE_KEYS)}"
    lowered = role.strip().lower()
    suggestion = lowered if lowered in ROLE_KEYS else _ROLE_ALIASES.get(lowered)
    hint = f"; did you mean {suggestion!r}?" if suggestion else did_you_mean(role, ROLE_KEYS)
    return (
        f"`{path}` has the unknown role {quote_value(role)} (roles: {', '.join(ROLE_KEYS)}){hint}"
    )


def _unknown_key(key: str, role: str, path: str, allowed: frozenset[str]) -> str:
    owners = [other for other, keys in ROLE_KEYS.items() if key in keys and other != role]
    if owners:
        hint = f"; it belongs on {' and '.join(owners)} messages"
    else:
        hint = did_you_mean(key, allowed)
    return (
        f"`{path}` has the key {quote_value(key)}, which {role} messages do not take "
        f"(keys: {', '.join(sorted(allowed))}){hint}"
    )
