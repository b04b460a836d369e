"""The configuration keys a command line overrides, in ``pytest`` and in ``pytest-finetune``.

``pytest`` takes them as ``--finetune-NAME``, ``pytest-finetune check`` and ``stats`` as
``--NAME`` (``stats`` all but ``fail-on``: it fails on no finding); either way they
replace the configuration's key of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
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
}
#: The options that take comma-separated checks.
_LISTS = frozenset({"select", "extend-select", "ignore"})


def table(given: Callable[[str], Any]) -> dict[str, Any]:
    """The configuration table of the options given; ``given(name)`` reads option ``name``."""
    overrides: dict[str, Any] = {}
    for name in OPTIONS:
        value = given(name)
        if value and name in _LISTS:
            overrides[name] = [part.strip() for part in value.split(",") if part.strip()]
        elif value:
            overrides[name] = value
    return overrides
