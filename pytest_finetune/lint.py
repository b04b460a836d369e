"""Linting outside the collection tree: which files are datasets, and one file's scan.

The plugin's nodes split this work between collection (:func:`plan`) and the first
item to run (the scan); the command line and the catalog tests run it in one go.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pytest_finetune.config import FileSettings, Settings
from pytest_finetune.formats import Format, detect_file
from pytest_finetune.reader import read_head
from pytest_finetune.scan import ScanResult, scan

#: Records read before the scan to detect a file's format.
DETECTION_RECORDS = 20


def plan(path: Path, settings: Settings) -> tuple[Format, FileSettings]:
    """A file's format and its settings, keeping only the checks for that format."""
    file_settings = settings.for_file(path)
    fmt = detect_file(
        read_head(path, records=DETECTION_RECORDS, max_bytes=file_settings.max_line_bytes)
    )
    file_settings.checks = [check for check in file_settings.checks if check.applies_to(fmt)]
    return fmt, file_settings


def lint(
    path: Path,
    settings: Settings,
    *,
    display_path: str | None = None,
    shared: dict[str, Any] | None = None,
) -> ScanResult:
    """Run every selected check on one file."""
    fmt, file_settings = plan(path, settings)
    return scan(path, display_path or path.as_posix(), fmt, file_settings, shared)


def find_datasets(paths: Iterable[Path], settings: Settings) -> Iterator[Path]:
    """The dataset files among ``paths`` and under the folders among them, sorted."""
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                if (
                    candidate.is_file()
                    and not _hidden(candidate, path)
                    and settings.is_dataset(candidate)
                ):
                    yield candidate
        else:
            yield path


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)
