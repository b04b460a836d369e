"""The configuration's keys: how each is validated and what it means.

A feature module that needs a key of its own (``separator``, ``models``, ``train``)
adds it here with :func:`add_key`, next to the code that reads it; this module imports
nothing of the project, so any module can.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pytest_finetune.findings import Severity


class ConfigError(Exception):
    """A configuration problem, worded for the user (file, key, what to do)."""


def strings(value: Any, where: str) -> list[str]:
    """A list of strings (a lone string is a list of one)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    return list(value)


def string(value: Any, where: str) -> str:
    """A string."""
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {value!r}")
    return value


def severity(value: Any, where: str) -> Severity:
    """``error``, ``warning`` or ``info``."""
    text = string(value, where)
    try:
        return Severity.parse(text)
    except KeyError:
        raise ConfigError(f"{where} must be one of error, warning, info, got {text!r}") from None


def positive_int(value: Any, where: str) -> int:
    """An integer above zero."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where} must be a positive integer, got {value!r}")
    return value


def table(value: Any, where: str) -> dict[str, Any]:
    """A table (validated further by the code that reads it)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    return value


@dataclass(frozen=True)
class Key:
    """One key of the configuration table: how to validate it and what it means."""

    validate: Callable[[Any, str], Any]
    doc: str
    #: The pytest ini type ("linelist", "string") if the key is also settable as the
    #: ini key ``finetune_<key with underscores>``.
    ini: Literal["linelist", "string"] | None = None

    @staticmethod
    def ini_name(name: str) -> str:
        """``extend-select`` -> ``finetune_extend_select``."""
        return "finetune_" + name.replace("-", "_")


#: Every top-level key of ``[tool.pytest_finetune]``.
KEYS: dict[str, Key] = {}


def add_key(name: str, key: Key) -> None:
    """Register a top-level configuration key."""
    KEYS[name] = key
