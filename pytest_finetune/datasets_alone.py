"""Whether a pytest run holds datasets alone, so that pytest-xdist's workers would only cost.

A plain run already scans on every core (``jobs``). Under ``-n``, each of xdist's
workers would start Python, load the tokenizer and collect every file again, and send
each item's reports to the controller: on datasets alone, slower than the plain run it
replaces, for the same findings. So where the paths of the run hold datasets and
nothing that another collector takes (no Python file, no doctest text file), the
plugin keeps xdist's local workers from starting, and scans with as many processes as
``-n`` asked for (unless ``jobs`` is set).

The paths are looked at before collection (the workers start before it), with
pytest's own rules for what a folder holds, and only where no other plugin (a
``conftest.py`` above the paths, ``-p``) collects files or folders. The run is then a
plain run, as with ``-n 0``: the same findings, summary and reports.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_finetune.config import Settings
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.lint import named_dataset


def workers_to_spare(config: pytest.Config, settings: Settings) -> int:
    """How many of xdist's workers this run can do without: 0 where it needs them.

    Only local workers (``-n``, ``--tx popen``) under a scheduling that spreads items
    (not ``--dist each``), for a run that trains nothing (``--finetune-train``: jobs
    wait on a provider, and workers wait on them together).
    """
    option = config.option
    workers = _local_workers(getattr(option, "tx", None) or [])
    if (
        not workers
        or hasattr(config, "workerinput")
        or getattr(option, "dist", "no") in ("no", "each")
        or option.collectonly
        or option.pyargs
        or option.no_finetune
        or option.finetune_train
        or getattr(option, "doctestmodules", False)  # (no such option with -p no:doctest)
        or _other_collectors(config)
    ):
        return 0
    try:
        return workers if holds_datasets_alone(config, settings) else 0
    except ConfigError:
        return 0  # a folder's broken configuration: its collection says so, either way


def holds_datasets_alone(config: pytest.Config, settings: Settings) -> bool:
    """Whether the run's paths hold a dataset, and no file that another collector takes.

    Any Python file (a test module, a ``conftest.py``) and any file of doctest's globs
    (``test*.txt`` by default) needs pytest's own collection; so does a file named that
    is not a dataset (pytest says it found no collector for it).
    """
    doctest_globs = config.getoption("doctestglob", None) or ["test*.txt"]
    norecurse = config.getini("norecursedirs")
    found = False
    for path, named in _files(config, norecurse):
        if path.suffix == ".py" or any(_glob_matches(g, path) for g in doctest_globs):
            return False
        if named:
            # Not found, or not a dataset: pytest's error, with or without workers.
            if not path.is_file() or named_dataset(path, settings) is not None:
                return False
            found = True
        elif not found and path.is_file():  # (not a named pipe, which would block)
            found = settings.is_dataset(path)
    return found


def _other_collectors(config: pytest.Config) -> bool:
    """Whether a plugin but pytest's own and this one collects files or folders."""
    for name in ("pytest_collect_file", "pytest_collect_directory"):
        hook = getattr(config.pluginmanager.hook, name, None)
        for implementation in hook.get_hookimpls() if hook is not None else ():
            module = getattr(implementation.plugin, "__name__", "")
            if not module.startswith(("_pytest.", "pytest_finetune.")):
                return True
    return False


def _glob_matches(glob: str, path: Path) -> bool:
    """Whether ``path`` matches ``glob`` as pytest matches ``--doctest-glob``.

    A glob without a separator matches the file's name; one with, the path's end.
    """
    if "/" not in glob and os.sep not in glob:
        return fnmatch.fnmatch(path.name, glob)
    return fnmatch.fnmatch(str(path), glob if Path(glob).is_absolute() else f"*{os.sep}{glob}")


def _local_workers(transports: list[str]) -> int:
    """The workers of ``--tx`` specifications, if all are plain local processes; else 0.

    ``popen``, or ``3*popen``; one with options (another interpreter, a remote host)
    runs somewhere the plugin's processes are not.
    """
    count = 0
    for spec in transports:
        times, star, kind = spec.rpartition("*")
        if kind != "popen" or (star and not times.isdigit()):
            return 0
        count += int(times) if star else 1
    return count


def _files(config: pytest.Config, norecurse: list[str]) -> Iterator[tuple[Path, bool]]:
    """Each file of the run's paths, and whether it was named (not found in a folder).

    Folders linked to are entered, as pytest enters them, each once.
    """
    here = config.invocation_params.dir
    entered: set[str] = set()
    for argument in config.args:
        path = here / argument.partition("::")[0]
        if not path.is_dir():
            yield path, True
            continue
        for folder, folders, names in os.walk(path, followlinks=True):
            entered.add(os.path.realpath(folder))
            folders[:] = [
                name
                for name in folders
                if not any(fnmatch.fnmatch(name, glob) for glob in norecurse)
                and os.path.realpath(Path(folder, name)) not in entered
            ]
            for name in names:
                yield Path(folder, name), False
