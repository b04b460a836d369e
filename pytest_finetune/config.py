"""Configuration resolved into the settings for each file.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_finetune import models, targets, training
from pytest_finetune.checks import REGISTRY, Check
from pytest_finetune.checks.registry import matches, specificity
from pytest_finetune.config_file import (
    CONFIG_FILE,
    DEFAULT_INCLUDE,
    ConfigSource,
    read_config_file,
    validate,
)
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.findings import Severity
from pytest_finetune.globs import glob_match
from pytest_finetune.overrides import SELECTION
from pytest_finetune.reader import DEFAULT_MAX_LINE_BYTES, holds_examples

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
