"""Configuration, validated and resolved into the settings for each file.

Sources: ``[tool.pytest_finetune]`` (or ``finetune.toml``), pytest ini keys and
``--finetune-*`` options.

As in ruff, the settings for a dataset come from the closest configuration file above
it: a ``finetune.toml`` (the table at top level) or a ``pyproject.toml`` with a
``[tool.pytest_finetune]`` table. The pytest ini keys ``finetune_*`` are defaults
below it and the command line overrides it. Selection speaks ruff's vocabulary:
``select``, ``extend-select``, ``ignore``, ``per-file-ignores``; codes, code prefixes
(``FT1``), check names and ``ALL``. Selection is layered as in ruff (built-in default
set < ini < file < command line): a layer that sets ``select`` starts a new set; within
a layer the most specific selector wins and, at equal specificity, ignoring wins; the
per-file-ignores then remove their checks whatever selected them. Anything unknown is
an error with a did-you-mean.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Feature modules register their own configuration keys when imported.
from pytest_finetune import conventions, models, targets, token_counting, training  # noqa: F401
from pytest_finetune.checks import REGISTRY, Check
from pytest_finetune.checks.registry import is_selector, matches, specificity, suggestion
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
from pytest_finetune.findings import Severity
from pytest_finetune.globs import glob_match
from pytest_finetune.overrides import SELECTION
from pytest_finetune.reader import DEFAULT_MAX_LINE_BYTES, holds_examples
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


# -- settings for one file -----------------------------------------------------------


@dataclass
class FileSettings:
    """What one file's items need: its checks, their options and severities, fail-on."""

    checks: list[type[Check]]
    options: dict[str, Any]
    severities: dict[str, Severity]
    fail_on: Severity = Severity.ERROR
    model: str | None = None
    #: Where the data goes: its formats, limits and severities (see :mod:`.targets`).
    target: targets.Target = field(default_factory=lambda: targets.TARGETS[targets.DEFAULT_TARGET])
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    #: The merged configuration table, for feature keys (training, splits, ...).
    config: dict[str, Any] = field(default_factory=dict)
    source: ConfigSource | None = None


class Settings:
    """The project's configuration, resolving settings per file (cached per folder)."""

    def __init__(
        self,
        *,
        defaults: dict[str, Any] | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        self.defaults = validate(defaults or {}, "pytest ini (finetune_*)")
        self.overrides = validate(overrides or {}, "command line")
        training.settings.remember_keys(self.defaults.get("training"))
        self._sources: dict[Path, ConfigSource | None] = {}
        #: Per folder (as named): its merged table and source (see :meth:`table_for`).
        self._tables: dict[Path, tuple[dict[str, Any], ConfigSource | None]] = {}
        #: Per folder and per-file globs matched: the resolved settings (see :meth:`for_file`).
        self._resolved: dict[tuple[Path, tuple[str, ...], tuple[str, ...]], FileSettings] = {}

    def source_for(self, path: Path) -> ConfigSource | None:
        """The closest configuration file above ``path``, validated, or ``None``."""
        folder = path.parent.resolve()
        chain = []
        found: ConfigSource | None = None
        for candidate in (folder, *folder.parents):
            if candidate in self._sources:
                found = self._sources[candidate]
                break
            chain.append(candidate)
            found = _read_folder(candidate)
            if found is not None:
                # Keys from variables this file names (api-key-env) are masked too.
                training.settings.remember_keys(found.table.get("training"))
                break
        for candidate in chain:
            self._sources[candidate] = found
        return found

    def table_for(self, path: Path) -> tuple[dict[str, Any], ConfigSource | None]:
        """The merged table for ``path``: ini defaults, its config file, command line.

        Each key replaces the one below it; ``select``, ``extend-select`` and ``ignore``
        are resolved layer by layer instead, by :meth:`for_file`. Merged once per folder:
        a folder of thousands of datasets would otherwise pay for it per file.
        """
        # Relative paths are the cwd's, which a caller may change between two calls.
        folder = path.parent if path.is_absolute() else Path.cwd() / path.parent
        known = self._tables.get(folder)
        if known is not None:
            return dict(known[0]), known[1]
        source = self.source_for(path)
        table = {**self.defaults, **(source.table if source else {}), **self.overrides}
        if "model" in table:
            # Checked on the merged table: the command line's model may be one that the
            # file's [models] tables add.
            named = table.get("target")
            target = targets.get(named) if named else targets.implied_by(table["model"])
            try:
                models.model_spec(table["model"], table, target=target)
            except ConfigError as error:
                if "model" in self.overrides:
                    where = "command line"
                elif source is not None and "model" in source.table:
                    where = source.name
                else:
                    where = "pytest ini (finetune_*)"
                raise ConfigError(f"{where}: model: {error}") from None
        self._tables[folder] = (table, source)
        return dict(table), source

    def target_for(self, path: Path) -> targets.Target:
        """The target of ``path``: its ``per-file-target``, ``target``, or the model's.

        A ``per-file-target`` glob that matches the file wins over ``target`` (as ruff's
        per-file-target-version over target-version); a target that cannot train the
        configured model is a configuration error naming where the target was set.
        """
        table, source = self.table_for(path)
        name = table.get("target")
        where = self._where("target", source)
        relative, root = _relative(path, source), _root(source)
        for glob, chosen in table.get("per-file-target", {}).items():
            if glob_match(relative, [glob], root):
                name = chosen
                where = self._where("per-file-target", source)
        try:
            return targets.resolve(name, table.get("model"))
        except ConfigError as error:
            raise ConfigError(f"{where}: {error}") from None

    def _where(self, key: str, source: ConfigSource | None) -> str:
        """How messages name the layer that set ``key`` (the highest one that has it)."""
        if key in self.overrides:
            return f"command line: {key}"
        if source is not None and key in source.table:
            return f"{source.name}: {key}"
        return f"pytest ini (finetune_*): {key}"

    def is_dataset(self, path: Path) -> bool:
        """Whether ``path`` is a dataset file to collect (include and exclude globs).

        A ``.json`` file the globs take is one when it holds a list of examples: a
        ``package.json`` is left alone, whatever ``include`` says.
        """
        table, source = self.table_for(path)
        include = table.get("include", DEFAULT_INCLUDE)
        exclude = table.get("exclude", [])
        relative = _relative(path, source)
        root = _root(source)
        if not glob_match(relative, include, root) or glob_match(relative, exclude, root):
            return False
        return path.suffix.lower() != ".json" or holds_examples(path)

    def excluded(self, path: Path) -> bool:
        """Whether the configuration's ``exclude`` globs leave ``path`` out."""
        table, source = self.table_for(path)
        return glob_match(_relative(path, source), table.get("exclude", []), _root(source))

    def layers(self, source: ConfigSource | None) -> list[tuple[str, dict[str, Any]]]:
        """The tables that choose checks, lowest first, each with how messages name it."""
        return [
            ("pytest ini (finetune_*)", self.defaults),
            *([(source.name, source.table)] if source else []),
            ("command line", self.overrides),
        ]

    def why_unselected(self, path: Path) -> str:
        """Where the configuration of ``path`` chooses its checks, for "no check selected"."""
        table, source = self.table_for(path)
        where = [
            f"{'/'.join(key for key in SELECTION if key in layer)} in {name}"
            for name, layer in self.layers(source)
            if any(key in layer for key in SELECTION)
        ]
        relative, root = _relative(path, source), _root(source)
        globs = [
            glob for glob in table.get("per-file-ignores", {}) if glob_match(relative, [glob], root)
        ]
        if globs and source is not None:
            where.append(f"per-file-ignores {', '.join(map(repr, globs))} in {source.name}")
        return "; ".join(where) or "the default selection"

    def for_file(self, path: Path) -> FileSettings:
        """The resolved settings of one dataset file.

        Files of one folder that match the same ``per-file-target`` and
        ``per-file-ignores`` globs have the same settings: resolved once, each file
        gets its own copy.
        """
        table, source = self.table_for(path)
        relative, root = _relative(path, source), _root(source)
        targeted = tuple(
            glob for glob in table.get("per-file-target", {}) if glob_match(relative, [glob], root)
        )
        ignored = tuple(
            glob for glob in table.get("per-file-ignores", {}) if glob_match(relative, [glob], root)
        )
        key = (path.parent if path.is_absolute() else Path.cwd() / path.parent, targeted, ignored)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = self._resolve(path, table, source, ignored)
        return dataclasses.replace(found, checks=list(found.checks), config=table)

    def _resolve(
        self,
        path: Path,
        table: dict[str, Any],
        source: ConfigSource | None,
        ignored: tuple[str, ...],
    ) -> FileSettings:
        """The settings of ``path``, which matches the ``per-file-ignores`` ``ignored``."""
        target = self.target_for(path)
        chosen = _selection((table for _, table in self.layers(source)), target.off)
        for glob in ignored:
            codes = table["per-file-ignores"][glob]
            # After selection, as in ruff: a matching file never runs these checks,
            # however specifically something selected them.
            chosen -= {code for code in chosen if any(matches(c, REGISTRY[code]) for c in codes)}
        selected = [REGISTRY[code] for code in sorted(chosen)]
        tables = table.get("checks", {})
        options: dict[str, Any] = {}
        severities: dict[str, Severity] = {}
        # The target's severities and option defaults are a layer under the user's.
        target_severities = target.check_severities()
        target_options = target.check_options()
        for check in selected:
            own = {**target_options.get(check.code, {}), **tables.get(check.code, {})}
            severities[check.code] = own.pop(
                "severity", target_severities.get(check.code) or check.severity
            )
            options[check.code] = check.Options(
                **{name.replace("-", "_"): value for name, value in own.items()}
            )
        return FileSettings(
            checks=selected,
            options=options,
            severities=severities,
            fail_on=table.get("fail-on", Severity.ERROR),
            model=table.get("model"),
            target=target,
            max_line_bytes=table.get("max-line-bytes", DEFAULT_MAX_LINE_BYTES),
            config=table,
            source=source,
        )


def _read_folder(folder: Path) -> ConfigSource | None:
    for name in (CONFIG_FILE, "pyproject.toml"):
        candidate = folder / name
        if candidate.is_file():
            source = read_config_file(candidate)
            if source is not None:
                return source
    return None


def _root(source: ConfigSource | None) -> Path:
    """The folder that relative globs start from: the configuration file's, or the cwd."""
    return source.root if source else Path.cwd()


def _relative(path: Path, source: ConfigSource | None) -> str:
    try:
        return _resolved(path).relative_to(_resolved_folder(_root(source))).as_posix()
    except ValueError:
        return path.as_posix()


def _resolved(path: Path) -> Path:
    """``path.resolve()`` for a file, its folder's resolved once for all its files."""
    if path.is_symlink():
        return path.resolve()
    return _resolved_folder(path.parent) / path.name


def _resolved_folder(folder: Path) -> Path:
    """``folder.resolve()``, an absolute folder's resolved once.

    A relative folder is made absolute first, from the cwd of the moment: the same
    relative folder is another folder after a change of directory.
    """
    return _resolved_absolute(folder if folder.is_absolute() else Path.cwd() / folder)


@functools.lru_cache(maxsize=1024)
def _resolved_absolute(folder: Path) -> Path:
    # ``resolve`` follows every link from the root (a stat a part): for 2,000 files of
    # one folder, a fifth of their collection.
    return folder.resolve()


def _selection(layers: Iterable[dict[str, Any]], target_off: Iterable[str] = ()) -> set[str]:
    """The codes that ``select``, ``extend-select`` and ``ignore`` choose, as ruff layers them.

    The built-in default set comes first, less the checks the target turns off
    (a layer may select them again). A layer that sets ``select`` starts a new set,
    dropping what the layers below it selected or ignored; one that does not turns its
    ``extend-select`` on and its ``ignore`` off in the set so far. Within one layer the
    most specific selector wins; at equal specificity, ignoring wins.
    """
    chosen = {check.code for check in REGISTRY.values() if check.default} - set(target_off)
    for layer in layers:
        select: Sequence[str] | None = layer.get("select")
        including = [*(select or []), *layer.get("extend-select", [])]
        ignoring = layer.get("ignore", [])
        on: set[str] = set()
        off: set[str] = set()
        for check in REGISTRY.values():
            best_on = max(
                (specificity(s, check) for s in including if matches(s, check)), default=-1
            )
            best_off = max(
                (specificity(s, check) for s in ignoring if matches(s, check)), default=-1
            )
            if best_on > best_off:
                on.add(check.code)
            elif best_off >= 0:
                off.add(check.code)
        chosen = on if select is not None else (chosen - off) | on
    return chosen
