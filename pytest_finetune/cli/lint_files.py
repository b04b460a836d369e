"""What ``check`` and ``stats`` share: the configuration pytest would use, and the lint itself."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_finetune import overrides
from pytest_finetune.chunks import scan_file
from pytest_finetune.cli.status import FAILED, OK, USAGE
from pytest_finetune.config import FileSettings, Settings
from pytest_finetune.config_file import DEFAULT_INCLUDE
from pytest_finetune.config_keys import KEYS, Key
from pytest_finetune.formats import Format
from pytest_finetune.lint import NORECURSEDIRS, cannot_read, find_datasets, named_dataset, plan
from pytest_finetune.lookahead import Lookahead, Upcoming
from pytest_finetune.outputs.progress import stderr_progress
from pytest_finetune.outputs.results import RunResults
from pytest_finetune.paths import shown
from pytest_finetune.pools import jobs_of
from pytest_finetune.scan import ScanResult
from pytest_finetune.wording import plural


def selection_options(command: argparse.ArgumentParser, *, without: Sequence[str] = ()) -> None:
    """The plugin's ``--finetune-*`` configuration options, under their short names."""
    for name, option in overrides.OPTIONS.items():
        if name in without:
            continue
        # argparse's help is lowercase, without a full stop; pytest's is sentences.
        text = option["help"]
        help_text = (text[0].lower() + text[1:]).rstrip(".")
        command.add_argument(f"--{name}", **{**option, "help": help_text})


@dataclass
class Linted:
    """What linting the datasets found."""

    results: RunResults = field(default_factory=RunResults)
    #: How many findings fail (``fail-on``).
    failing: int = 0
    #: One line for each check that crashed.
    crashes: list[str] = field(default_factory=list)
    #: Datasets found that no check ran on (the configuration selects none for them).
    unchecked: int = 0
    #: Why finding no dataset is an error (the folders named hold none), if it is one.
    nothing_found: str | None = None
    #: One line for each file or folder that could not be read.
    unreadable: list[str] = field(default_factory=list)

    def add(self, path: Path, file_settings: FileSettings, result: ScanResult) -> None:
        """Take in the scan of one dataset; say which of its checks were skipped."""
        self.results.add_scan(result)
        for outcome in result.outcomes.values():
            self.failing += outcome.failing(file_settings.fail_on)
            if outcome.skipped is not None and not outcome.count:
                # As pytest's skip: said, never taken for a pass.
                print(
                    f"pytest-finetune: {outcome.code} skipped on {shown(path)}: {outcome.skipped}",
                    file=sys.stderr,
                )
            if outcome.crash is not None:
                self.crashes.append(
                    f"pytest-finetune bug: check {outcome.code} crashed on {shown(path)} "
                    f"{outcome.crash}"
                )

    def nothing_ran(self) -> str:
        """What the text output says when no dataset has results."""
        if self.unchecked:
            datasets = plural(self.unchecked, "dataset")
            them = "it" if self.unchecked == 1 else "them"
            return f"No check ran on {datasets}: none selected applies to {them}."
        return "No dataset found."

    def exit_status(self, *, findings_fail: bool) -> int:
        """Say which checks crashed; the exit status (``findings_fail``: failing findings count)."""
        for crash in self.crashes:
            print(crash, file=sys.stderr)
        if self.nothing_found is not None:
            # As `pytest` exits 5 on no tests: a gate that checked nothing has not passed.
            print(f"pytest-finetune: {self.nothing_found}", file=sys.stderr)
        # What was not read was not checked: the gate cannot pass (pytest's collection
        # error, exit 2).
        if self.crashes or self.nothing_found is not None or self.unreadable:
            return USAGE
        return FAILED if findings_fail and self.failing else OK


def lint(
    args: argparse.Namespace,
    before_scan: Callable[[Path, FileSettings], bool] | None = None,
) -> Linted | None:
    """Lint every dataset under ``args.paths``, configured as pytest would be.

    ``None`` (after saying why) when a path is neither a file nor a folder.
    ``before_scan`` is called with each dataset and its settings before it is linted
    (``check --fix`` fixes it there); when it returns False, the dataset is not linted.
    """
    paths: Sequence[Path] = args.paths
    defaults, skip = ini_defaults(paths)
    given = overrides.table(lambda name: getattr(args, name.replace("-", "_"), None))
    settings = Settings(defaults=defaults, overrides=given)
    # Checked before anything is opened: reading a pipe would wait for a writer forever.
    unreadable = [_unreadable(path) for path in paths if not (path.is_file() or path.is_dir())]
    force_exclude = getattr(args, "force_exclude", False)
    if force_exclude:
        # As the folders searched: files named that the configuration does not make
        # datasets are left alone, quietly (pre-commit names every staged file).
        paths = [path for path in paths if not path.is_file() or settings.is_dataset(path)]
    else:
        unreadable += [
            why for path in paths if path.is_file() and (why := named_dataset(path, settings))
        ]
    if unreadable:
        for problem in unreadable:
            print(f"pytest-finetune: {problem}", file=sys.stderr)
        return None
    linted = Linted()
    shared: dict[str, Any] = {}

    def cannot(path: Path, error: OSError) -> None:
        linted.unreadable.append(cannot_read(shown(path), error))
        print(f"pytest-finetune: {linted.unreadable[-1]}", file=sys.stderr)

    def unreadable_folder(error: OSError) -> None:
        cannot(Path(error.filename or "."), error)

    def lint_one(
        path: Path, fmt: Format, file_settings: FileSettings, lookahead: Lookahead | None = None
    ) -> None:
        try:
            ahead = lookahead.take(str(path)) if lookahead is not None else None
            result = ahead.result if ahead else _scan(path, fmt, file_settings, shared)
        except OSError as error:
            cannot(path, error)
        else:
            linted.add(path, file_settings, result)

    # Fixing a file comes just before its scan; otherwise the files are planned first,
    # and small files scanned ahead in other processes (see ``Lookahead``).
    planned: list[tuple[Path, Format, FileSettings]] = []
    for path in find_datasets(paths, settings, skip=skip, unreadable=unreadable_folder):
        try:
            fmt, file_settings = plan(path, settings)
        except OSError as error:
            cannot(path, error)
            continue
        if not file_settings.checks:
            linted.unchecked += 1
            print(f"pytest-finetune: {_unchecked(path, fmt, settings)}", file=sys.stderr)
        elif before_scan is None:
            planned.append((path, fmt, file_settings))
        elif before_scan(path, file_settings):
            lint_one(path, fmt, file_settings)
    lookahead = Lookahead.start(
        [Upcoming(str(p), p, shown(p), f, s) for p, f, s in planned], shared
    )
    try:
        for path, fmt, file_settings in planned:
            lint_one(path, fmt, file_settings, lookahead)
    finally:
        if lookahead is not None:
            lookahead.close()
    if not (linted.results.datasets or linted.unchecked or linted.unreadable or force_exclude):
        linted.nothing_found = _nothing_found(paths, settings)
    return linted


def _nothing_found(paths: Sequence[Path], settings: Settings) -> str:
    """Why finding no dataset under ``paths`` is an error, and what to do."""
    folders = ", ".join(str(path) for path in paths)
    first = paths[0] if paths[0].is_file() else paths[0] / "x"
    globs = ", ".join(settings.table_for(first)[0].get("include", DEFAULT_INCLUDE))
    return (
        f"no dataset found in {folders} (files matching {globs}, the configuration's "
        "include; a .json file when it holds a list of examples); name dataset files or "
        "the folders that hold them"
    )


def _scan(path: Path, fmt: Format, settings: FileSettings, shared: dict[str, Any]) -> ScanResult:
    """Scan one dataset, its progress on standard error where a terminal shows it."""
    progress = stderr_progress(path.stat().st_size)
    try:
        return scan_file(
            path, shown(path), fmt, settings, shared, jobs=jobs_of(settings), progress=progress
        )
    finally:
        if progress is not None:
            progress.close()


def _unchecked(path: Path, fmt: Format, settings: Settings) -> str:
    """Why no check runs on ``path``: none is selected, or none of those applies to ``fmt``."""
    if settings.for_file(path).checks:
        return f"no selected check applies to {shown(path)} (a {fmt.value} dataset)"
    return f"no check selected for {shown(path)} ({settings.why_unselected(path)})"


def ini_defaults(paths: Sequence[Path]) -> tuple[dict[str, Any], list[str]]:
    """The ``finetune_*`` keys and ``norecursedirs`` of the pytest configuration for ``paths``.

    Found as pytest finds its configuration file, with pytest's own function (``None``
    of it, on a pytest whose internals moved: the keys are then not read).
    """
    try:
        from _pytest.config.findpaths import locate_config  # noqa: PLC0415

        try:
            found = locate_config(Path.cwd(), list(paths))
        except TypeError:  # pytest before 8.1 took the arguments only
            found = locate_config(list(paths))  # type: ignore[call-arg, arg-type]
        values: dict[str, Any] = dict(found[2])
    except Exception:  # a pytest that reads its configuration otherwise
        return {}, list(NORECURSEDIRS)
    table: dict[str, Any] = {}
    for name, key in KEYS.items():
        value = overrides.ini_value(name, _ini_value(values.get(Key.ini_name(name)), key.ini))
        if key.ini and value:
            table[name] = value
    skip = _ini_value(values.get("norecursedirs"), "args")
    return table, (skip if isinstance(skip, list) else list(NORECURSEDIRS))


def _ini_value(raw: Any, kind: str | None) -> Any:
    value = getattr(raw, "value", raw)  # pytest 9 wraps values with their origin
    if isinstance(value, str):
        if kind == "linelist":
            return [line.strip() for line in value.splitlines() if line.strip()]
        if kind == "args":
            return value.split()
        return value.strip()
    return value


def _unreadable(path: Path) -> str:
    """Why ``path``, neither a file nor a folder, cannot be linted."""
    if path.is_symlink() and not path.exists():
        return f"{path}: a link to nothing (broken, or a loop); point it at a dataset"
    if not path.exists():
        return f"{path}: no such file or folder"
    return f"{path}: not a regular file (a pipe or a device); name dataset files or folders"
