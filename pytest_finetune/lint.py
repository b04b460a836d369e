"""Linting outside the collection tree: which files are datasets, and one file's scan.

The plugin's nodes split this work between collection (:func:`plan`) and the first
item to run (the scan); the command line and the catalog tests run it in one go.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pytest_finetune.config import FileSettings, Settings
from pytest_finetune.formats import Format, detect_file
from pytest_finetune.reader import holds_examples, read_head
from pytest_finetune.scan import ScanResult, runs_on, scan
from pytest_finetune.splits import partial_marker

#: Records read before the scan to detect a file's format.
DETECTION_RECORDS = 20


def plan(path: Path, settings: Settings) -> tuple[Format, FileSettings]:
    """A file's format and its settings, keeping only the checks that run on that format.

    The checks of chat and preference data run on the trainers' formats too, reading
    their records as OpenAI data (:func:`pytest_finetune.scan.runs_on`).

    An :class:`OSError` if the file cannot be read, or is half of a pair that a stopped
    ``prepare`` run was writing (linted, it would pass for a dataset without its split).
    """
    file_settings = settings_of(path, settings)
    return narrow(path, file_settings), file_settings


def settings_of(path: Path, settings: Settings) -> FileSettings:
    """A file's settings with every selected check: :func:`plan` without reading the file.

    An :class:`OSError` if the file is half of a pair that a stopped ``prepare`` run was
    writing.
    """
    marker = partial_marker(path)
    if marker is not None and marker.exists():
        raise OSError(
            f"half of a prepared pair that a stopped `pytest-finetune prepare` was writing "
            f"({marker.name} is beside it); run prepare again"
        )
    return settings.for_file(path)


def narrow(path: Path, file_settings: FileSettings) -> Format:
    """The format of ``path`` (read from its first records); the checks that run on it kept."""
    fmt = detect_file(
        read_head(path, records=DETECTION_RECORDS, max_bytes=file_settings.max_line_bytes)
    )
    narrow_to(file_settings, fmt)
    return fmt


def narrow_to(file_settings: FileSettings, fmt: Format) -> None:
    """Keep the checks of ``file_settings`` that run on a file of format ``fmt``."""
    file_settings.checks = [check for check in file_settings.checks if runs_on(check, fmt)]


def cannot_read(display: str, error: OSError) -> str:
    """The one line that says a dataset could not be read (gone, or not readable)."""
    if error.errno is None:  # ours (see plan): the message says it all
        return f"{display}: {error}"
    why = error.strerror or error
    return f"{display}: cannot read it: {why}; check that it exists and is readable"


def lint(
    path: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    display_path: str | None = None,
    shared: dict[str, Any] | None = None,
) -> ScanResult:
    """Run every selected check on one file, configured as pytest would configure it.

    ``settings`` defaults to the closest ``pyproject.toml`` (or ``finetune.toml``)
    above the file, as in a pytest run; pass ``Settings(overrides={...})`` to select.
    The file is read in this process, whatever ``jobs`` says: :func:`.chunks.scan_file`
    reads a large one on every core, as pytest does.
    """
    path = Path(path)
    fmt, file_settings = plan(path, settings or Settings())
    return scan(path, display_path or path.as_posix(), fmt, file_settings, shared)


def _is_venv(folder: Path) -> bool:
    try:
        return (folder / "pyvenv.cfg").is_file()
    except OSError:  # a folder that cannot be entered: os.walk reports it
        return False


#: pytest's default ``norecursedirs``: folders it never collects from.
NORECURSEDIRS = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}")


def find_datasets(
    paths: Iterable[Path],
    settings: Settings,
    *,
    skip: Sequence[str] = NORECURSEDIRS,
    unreadable: Callable[[OSError], None] | None = None,
) -> Iterator[Path]:
    """The dataset files among ``paths`` and in the folders among them, as pytest collects.

    Files named directly are checked as :func:`named_dataset` says; folders are searched
    in name order for the files the configuration's ``include`` and ``exclude`` make
    datasets, except folders matching ``skip`` (pytest's ``norecursedirs``) and virtual
    environments. ``unreadable`` is told of each folder that cannot be listed.
    """
    for path in paths:
        if path.is_dir():
            yield from _walk(path, settings, skip, unreadable)
        elif named_dataset(path, settings) is None:
            yield path


def named_dataset(path: Path, settings: Settings) -> str | None:
    """Why a file named on the command line is not checked; ``None``: it is.

    A file named is checked if the configuration makes it a dataset, if it is a
    ``.jsonl`` file, or if its content is a dataset's (JSON objects one a line, an
    array of objects), whatever ``include`` and ``exclude`` say, as ruff checks the
    files it is given: naming a file asks for it to be checked. Any other file is
    refused with the reason, so that a mistyped path does not pass a gate unchecked.
    """
    json = path.suffix.lower() == ".json"
    if path.suffix.lower() == ".jsonl" or settings.is_dataset(path):
        return None
    if holds_examples(path, one_object=not json):
        return None
    if json:
        return (
            f"{path}: not a dataset: a JSON document that is not a list of examples (an array "
            "of objects); name dataset files, or folders to search"
        )
    return (
        f"{path}: not a dataset: neither JSON Lines nor a JSON array of examples; name "
        "dataset files, or folders to search"
    )


def _walk(
    root: Path,
    settings: Settings,
    skip: Sequence[str],
    unreadable: Callable[[OSError], None] | None,
) -> Iterator[Path]:
    for folder, folders, files in os.walk(root, onerror=unreadable):
        here = Path(folder)
        folders[:] = sorted(
            name
            for name in folders
            if not any(fnmatch.fnmatch(name, glob) for glob in skip) and not _is_venv(here / name)
        )
        for name in sorted(files):
            candidate = here / name
            if candidate.is_file() and settings.is_dataset(candidate):
                yield candidate
