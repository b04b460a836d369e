"""The configuration's tables: the engine's keys, a table validated, a file read.

A project's configuration is a ``finetune.toml`` (the table at top level) or a
``pyproject.toml`` with a ``[tool.pytest_finetune]`` table. Every key is checked as the
file is read (feature modules add theirs to :data:`~.config_keys.KEYS` when imported),
and so is each check's table of options: anything unknown is an error with a
did-you-mean. :mod:`.config` resolves the tables into each file's settings.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Feature modules register their own configuration keys when imported.
from pytest_finetune import conventions, models, targets, token_counting, training  # noqa: F401
from pytest_finetune.checks import REGISTRY, Check
from pytest_finetune.checks.registry import is_selector, suggestion
from pytest_finetune.config_keys import (
    KEYS,
    ConfigError,
    Key,
    add_key,
    finite,
    positive_int,
    severity,
    string,
    strings,
    table,
)
from pytest_finetune.wording import did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILE = "finetune.toml"
#: The files collected as datasets when ``include`` is not set.
DEFAULT_INCLUDE = ["*.jsonl", "*.json"]
TABLE = ("tool", "pytest_finetune")


# -- the keys of the engine itself -------------------------------------------------


def _selectors(value: Any, where: str) -> list[str]:
    selectors = [item.strip() for item in strings(value, where) if item.strip()]
    for selector in selectors:
        if not is_selector(selector):
            raise ConfigError(f"{where}: unknown check {selector!r}{_did_you_mean_check(selector)}")
    return selectors


#: The test items a dataset can have: one for the file, or one per check.
ITEMS = ("file", "check")


def _items(value: Any, where: str) -> str:
    text = string(value, where).strip().lower()
    if text not in ITEMS:
        raise ConfigError(f"{where} must be file or check, got {value!r}")
    return text


def _jobs(value: Any, where: str) -> int | str:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        return positive_int(int(value) if isinstance(value, str) else value, where)
    except (ValueError, ConfigError):
        raise ConfigError(f"{where} must be auto or a number of processes, got {value!r}") from None


def _per_file_ignores(value: Any, where: str) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of glob = [codes]")
    return {glob: _selectors(codes, f"{where}.{glob!r}") for glob, codes in value.items()}


for _name, _key in {
    "select": Key(
        _selectors,
        "Checks to run (codes, prefixes, names, ALL); default: all but the opt-in ones "
        "(`pytest-finetune rules` marks them).",
        "linelist",
    ),
    "extend-select": Key(_selectors, "Checks to run in addition to select.", "linelist"),
    "ignore": Key(_selectors, "Checks not to run.", "linelist"),
    "per-file-ignores": Key(_per_file_ignores, "Glob -> checks not to run on matching files."),
    "fail-on": Key(
        severity, "Lowest severity that fails an item: error (default), warning, info.", "string"
    ),
    "model": Key(string, "Target model, for token limits and cost estimates.", "string"),
    "include": Key(
        strings,
        "Globs of dataset files to collect; default *.jsonl and *.json (a .json file when "
        "it holds a list of examples).",
        "linelist",
    ),
    "exclude": Key(strings, "Globs of files or folders not to collect.", "linelist"),
    "max-line-bytes": Key(positive_int, "Lines longer than this are reported, not parsed."),
    "items": Key(
        _items,
        "Test items per dataset: file (one item that runs every check, the default) or "
        "check (an item per check, as a run with -k has).",
        "string",
    ),
    "checks": Key(table, "One table per check (code or name) with its options."),
    "jobs": Key(
        _jobs,
        "Processes that scan: one large file (over 16 MiB) together, or the small files to "
        "come ahead (8 MiB of them or more). A number, or auto (the default: one per core "
        "this process may use). Findings are the same whatever it is.",
        "string",
    ),
}.items():
    add_key(_name, _key)


# -- loading and validating a table --------------------------------------------------


@dataclass(frozen=True)
class ConfigSource:
    """A validated configuration table and where it came from."""

    table: dict[str, Any]
    #: The file it was read from (``None``: built-in defaults, ini or command line).
    path: Path | None = None
    #: Globs in per-file-ignores are relative to this folder.
    root: Path = field(default_factory=Path.cwd)

    @property
    def name(self) -> str:
        """How messages name the source."""
        if self.path is None:
            return "configuration"
        section = "" if self.path.name == CONFIG_FILE else " [tool.pytest_finetune]"
        return f"{self.path}{section}"


def validate(table: dict[str, Any], where: str) -> dict[str, Any]:
    """Check every key and value of a configuration table, returning it normalised."""
    result: dict[str, Any] = {}
    for name, value in table.items():
        key = KEYS.get(name)
        if key is None:
            raise ConfigError(f"{where}: unknown key {name!r}{did_you_mean(name, KEYS)}")
        result[name] = key.validate(value, f"{where}: {name}")
    if "checks" in result:
        result["checks"] = _check_tables(result["checks"], f"{where}: checks")
    return result


def _check_tables(value: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of check tables, e.g. [checks.FT501]")
    by_name = {check.name: check for check in REGISTRY.values()}
    tables: dict[str, dict[str, Any]] = {}
    #: The selector each check's table was given under, to name both of a pair.
    given: dict[str, str] = {}
    for selector, options in value.items():
        check = REGISTRY.get(selector) or by_name.get(selector)
        if check is None:
            raise ConfigError(f"{where}: unknown check {selector!r}{_did_you_mean_check(selector)}")
        if check.code in given:
            # One table would silently replace the other: which options win is a guess.
            raise ConfigError(
                f"{where}: checks.{given[check.code]} and checks.{selector} are the same "
                f"check ({check.code} {check.name}); merge them into one table"
            )
        given[check.code] = selector
        if not isinstance(options, dict):
            raise ConfigError(f"{where}.{selector} must be a table of options")
        tables[check.code] = _check_options(check, options, f"{where}.{selector}")
    return tables


def _check_options(check: type[Check], options: dict[str, Any], where: str) -> dict[str, Any]:
    fields = {f.name.replace("_", "-"): f for f in dataclasses.fields(check.Options)}
    known = [*fields, "severity"]
    result: dict[str, Any] = {}
    for name, value in options.items():
        if name == "severity":
            result[name] = severity(value, f"{where}.severity")
            continue
        spec = fields.get(name)
        if spec is None:
            hint = did_you_mean(name, known)
            choices = ", ".join(known)
            raise ConfigError(f"{where}: unknown option {name!r}{hint} (options: {choices})")
        result[name] = finite(_coerce(value, spec.default, f"{where}.{name}"), f"{where}.{name}")
        minimum = spec.metadata.get("minimum")
        if minimum is not None and result[name] < minimum:
            raise ConfigError(f"{where}.{name} must be at least {minimum}, got {value!r}")
    return result


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Accept ``value`` if it has the type of the option's default (ints for floats)."""
    if default is None or (
        isinstance(value, type(default))
        and not (isinstance(value, bool) and not isinstance(default, bool))
    ):
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, tuple) and isinstance(value, list):
        return tuple(value)
    raise ConfigError(f"{where} must be {type(default).__name__}, got {value!r}")


def _did_you_mean_check(selector: str) -> str:
    return suggestion(selector)


def read_config_file(path: Path) -> ConfigSource | None:
    """The validated table of ``finetune.toml`` or ``pyproject.toml`` (``None``: none there)."""
    try:
        with path.open("rb") as stream:
            document = tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:  # arrays or inline tables nested thousands deep
        raise ConfigError(f"{path}: not valid TOML: nested too deeply to read") from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path}: not UTF-8 text; a configuration file must be UTF-8 TOML: save it as UTF-8"
        ) from None
    if path.name == CONFIG_FILE:
        table: Any = document
        where = str(path)
        if TABLE[0] in document:
            # pyproject.toml's table pasted in is the same keys one level down: taken
            # alone, and anything beside it is a question of which was meant.
            tool = document[TABLE[0]]
            if not (isinstance(tool, dict) and list(tool) == [TABLE[1]] and len(document) == 1):
                raise ConfigError(
                    f"{path}: a {CONFIG_FILE} takes the keys of [tool.pytest_finetune] at "
                    "top level (select = [...]), or that one table alone; move every key "
                    "to one of the two and other tools' tables out of it"
                )
            table = tool[TABLE[1]]
            where = f"{path} [tool.pytest_finetune]"
            if not isinstance(table, dict):
                raise ConfigError(f"{where} must be a table, got {table!r}")
    else:
        tool = document.get(TABLE[0], {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: [tool] must be a table")
        table = tool.get(TABLE[1])
        if table is None:
            return None
        where = f"{path} [tool.pytest_finetune]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table, got {table!r}")
    return ConfigSource(validate(table, where), path, path.parent)
