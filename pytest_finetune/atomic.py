"""Files written whole or not at all: readers never see half of one, and no temporary stays."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, in UTF-8 (see :func:`write_bytes`)."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, as ``open(path, "wb")`` would set its mode.

    Through a symlink, the file it points to is replaced and the link kept. A new file
    gets 0666 less the umask, a replaced one keeps its mode; readers never see half a
    file, and on failure (a full disk) no temporary file stays.
    """
    if path.is_symlink():
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # Created as open() creates files (0666 less the umask), unlike mkstemp's 0600.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            if mode is not None:
                os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        temporary.replace(path)
    except BaseException:
        # A full disk, or a folder where the file goes: leave nothing behind.
        temporary.unlink(missing_ok=True)
        raise
