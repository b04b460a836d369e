"""The configuration's keys: how each is validated and what it means.

A feature module that needs a key of its own (``separator``, ``models``, ``train``)
adds it here with :func:`add_key`, next to the code that reads it; this module imports
nothing of the project, so any module can.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pytest_finetune.findings import Severity
from pytest_finetune.redact import redact


class ConfigError(Exception):
    """A configuration problem, worded for the user (file, key, what to do).

    The message is redacted: it quotes configuration values and paths, and a key
    pasted where a model name goes must not reach a terminal or a CI log.
    """

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


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


#: The largest number a configuration takes: a JSON report holds integers up to it
#: exactly, and no file, line, count or price comes near it.
MAX_NUMBER = 2**53


def finite(value: Any, where: str) -> Any:
    """``value`` if it is not a number, or a finite one within :data:`MAX_NUMBER`.

    ``nan`` compares false with every limit, so a check given one finds nothing and a
    cost guard lets any job through; an integer beyond what C can index overflows.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise ConfigError(f"{where} must be at most {MAX_NUMBER:,} (2**53), got {value!r}")
    return value


def positive_int(value: Any, where: str) -> int:
    """An integer above zero (and at most :data:`MAX_NUMBER`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where} must be a positive integer, got {value!r}")
    return finite(value, where)  # type: ignore[no-any-return]


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
