"""How messages name a path, in one place for the commands, ``prepare`` and the checks."""

from __future__ import annotations

from pathlib import Path


def shown(path: Path) -> str:
    """How messages name a path: relative to the working folder when under it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):  # elsewhere, or a symlink loop
        return path.as_posix()
