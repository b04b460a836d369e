"""What the FT7xx checks share: naming a JSON value's type where a field must be another."""

from __future__ import annotations

from typing import Any

from pytest_finetune.wording import kind


def not_string(data: dict[str, Any], key: str, where: str, *, optional: bool) -> str | None:
    """The problem with ``data[key]`` as a string field (``optional``: it may be absent or null)."""
    if key not in data:
        return None if optional else f"No `{where}`: it is required"
    value = data[key]
    if isinstance(value, str) or (optional and value is None):
        return None
    return f"`{where}` is {kind(value)}; it must be a string"


def is_messages(value: object) -> bool:
    """Whether ``value`` is a conversational column: a list of objects (TRL's messages)."""
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def shape(value: object) -> str:
    """How TRL's documentation names a column's format: standard text or conversational."""
    if isinstance(value, str):
        return "a string (standard)"
    if is_messages(value):
        return "a list of messages (conversational)"
    return kind(value)
