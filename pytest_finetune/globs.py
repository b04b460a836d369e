"""Paths matched against globs as ruff matches them (per-file-ignores, include, exclude).

A glob with a slash, or a leading ``./``, matches the path relative to a root folder
(the configuration file's) or a folder above it, and ``**/`` matches zero or more
folders; an absolute glob under the root is made relative to it. A glob without a
slash matches the file name or any folder on the way.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path


def glob_match(relative: str, globs: Iterable[str], root: Path) -> bool:
    """Whether any of ``globs`` matches ``relative``, a path relative to ``root``."""
    parts = relative.split("/")
    for raw in globs:
        glob, anchored = _anchor(raw, root)
        if anchored:
            for variant in _zero_folders(glob):
                folder = variant.rstrip("/") + "/*"
                if fnmatch.fnmatch(relative, variant) or fnmatch.fnmatch(relative, folder):
                    return True
        elif any(fnmatch.fnmatch(part, glob) for part in parts):
            return True
    return False


def _anchor(glob: str, root: Path) -> tuple[str, bool]:
    """``glob`` relative to ``root``, and whether it is anchored there (not a bare name)."""
    glob = glob.replace(os.sep, "/")
    if Path(glob).is_absolute():
        # Both spellings: the folder may be reached through a link (/tmp on macOS).
        for base in dict.fromkeys((root.as_posix(), root.resolve().as_posix())):
            prefix = base.rstrip("/") + "/"
            if glob.startswith(prefix):
                return glob[len(prefix) :], True
        return glob, True
    anchored = "/" in glob
    while glob.startswith("./"):
        glob = glob[2:]
    return glob, anchored


def _zero_folders(glob: str) -> list[str]:
    """``glob`` and its spellings with any ``**/`` matching no folder (fnmatch needs one)."""
    at = glob.find("**/")
    if at < 0:
        return [glob]
    head, tails = glob[:at], _zero_folders(glob[at + 3 :])
    return [head + "**/" + tail for tail in tails] + [head + tail for tail in tails]
