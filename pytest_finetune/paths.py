"""How messages name a path, in one place for the commands, ``prepare`` and the checks."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from pytest_finetune.redact import redact


def shown(path: Path) -> str:
    """How messages name a path: relative to the working folder when under it, masked.

    A key in a file name is masked as one in the data is (see ``DatasetFile.display_path``).
    """
    try:
        return redact(path.resolve().relative_to(Path.cwd().resolve()).as_posix())
    except (ValueError, OSError, RuntimeError):  # elsewhere, or a symlink loop
        return redact(path.as_posix())


def shown_beside(path: Path, scanned: Path, scanned_shown: str) -> str:
    """How findings about ``scanned`` (shown as ``scanned_shown``) name another file.

    Beside the scanned file, as its findings show it; elsewhere, relative to the
    working folder.
    """
    if path.parent == scanned.resolve().parent:
        return str(PurePosixPath(scanned_shown).with_name(redact(path.name)))
    return redact(os.path.relpath(path).replace(os.sep, "/"))
