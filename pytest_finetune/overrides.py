"""The configuration keys a command line overrides, in ``pytest`` and in ``pytest-finetune``.

``pytest`` takes them as ``--finetune-NAME``, ``pytest-finetune check`` and ``stats`` as
``--NAME`` (``stats`` all but ``fail-on``: it fails on no finding). They are the last
layer of the configuration: see :mod:`pytest_finetune.config` for how ``select``,
``extend-select`` and ``ignore`` combine with the file's; other keys replace the file's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

#: Each option's ``add_argument`` keywords, by configuration key.
OPTIONS: dict[str, dict[str, Any]] = {
    "select": {
        "metavar": "CHECKS",
        "help": "Comma-separated checks to run (codes, prefixes such as FT1, names, ALL); "
        "replaces 'select' from the configuration.",
    },
    "extend-select": {"metavar": "CHECKS", "help": "Checks to run in addition."},
    "ignore": {"metavar": "CHECKS", "help": "Checks not to run."},
    "fail-on": {
        "choices": ("error", "warning", "info"),
        "help": "Lowest severity that fails (default: error).",
    },
    "model": {"metavar": "MODEL", "help": "Target model for token limits and cost."},
    "target": {
        "metavar": "TARGET",
        "help": "Where the data goes: openai (default), azure, together, fireworks, vertex, "
        "bedrock or trl; its formats, limits and rules apply.",
    },
    "jobs": {
        "metavar": "N",
        "help": "Processes that scan: a large file's parts, or the small files to come "
        "(a number, or auto: the default, one per core this process may use).",
    },
}
#: The keys that take lists of checks, in the order messages name them: comma- or
#: space-separated on a command line or an ini line.
SELECTION = ("select", "extend-select", "ignore")


def split_checks(values: Iterable[str]) -> list[str]:
    """``["FT1,FT014", "FT2 FT3"]`` -> ``["FT1", "FT014", "FT2", "FT3"]``."""
    return [part for value in values for part in re.split(r"[,\s]+", value) if part]


def ini_value(name: str, value: Any) -> Any:
    """An ini key's value as the configuration takes it: lists of checks split."""
    if name in SELECTION and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return split_checks(value)
    return value


def table(given: Callable[[str], Any]) -> dict[str, Any]:
    """The configuration table of the options given; ``given(name)`` reads option ``name``."""
    overrides: dict[str, Any] = {}
    for name in OPTIONS:
        value = given(name)
        if value and name in SELECTION:
            overrides[name] = split_checks([value])
        elif value:
            overrides[name] = value
    return overrides
