"""tiktoken's encodings, loaded from a cache of their tables: a third less time.

``tiktoken.get_encoding`` reads the encoding's file and decodes its 200,000 base64
lines in Python on every start: 0.15-0.2 s of the 0.3 s it takes for ``o200k_base``,
in every process that counts a token. The decoded tables are kept here, once, as
``marshal`` data; later processes read them in 0.03 s and build the same
``tiktoken.Encoding`` from them (tiktoken's own 0.13 s).

The cache holds only what tiktoken produced itself, for the encodings that tiktoken
ships (their files' hashes are fixed by its release): an entry is keyed by tiktoken's
version and the encoding's name, and its digest is checked on every read. It lives in
``PYTEST_FINETUNE_CACHE_DIR``, else ``$XDG_CACHE_HOME/pytest-finetune`` (``~/.cache``);
an empty ``PYTEST_FINETUNE_CACHE_DIR`` turns it off. An entry that cannot be read or
used is built again and replaced; a cache that cannot be written is passed over. Either
way the encoding loads, as tiktoken loads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

#: The first bytes of an entry: the format of what follows.
MAGIC = b"pytest-finetune tiktoken tables 1\n"
_DIGEST_BYTES = 32


def cache_dir() -> Path | None:
    """The folder of the cache, or ``None`` where it is turned off (or there is no home)."""
    chosen = os.environ.get("PYTEST_FINETUNE_CACHE_DIR")
    base = Path(os.environ.get("XDG_CACHE_HOME", ""))
    try:
        if chosen is not None:
            return Path(chosen).expanduser() if chosen else None
        if not base.is_absolute():  # unset, or relative: which the XDG spec says to ignore
            home = Path("~").expanduser()
            # A root folder is what Python makes of HOME set to nothing: no home either.
            if not home.is_absolute() or home == Path(home.anchor):
                return None
            base = home / ".cache"
    except RuntimeError:  # "~" where there is no home (a container's user): keep nothing
        return None
    return base / "pytest-finetune"


def load(name: str) -> Any | None:
    """The tiktoken encoding ``name``, through the cache; ``None`` if tiktoken ships none such.

    Built once per process, as ``tiktoken.get_encoding`` builds each. Raises what
    tiktoken raises where the encoding's file is neither cached nor downloadable
    (offline).
    """
    if name not in _BUILT:
        _BUILT[name] = _build(name)
    return _BUILT[name]


#: The encodings this process built, by name.
_BUILT: dict[str, Any] = {}


def _build(name: str) -> Any | None:
    import tiktoken  # noqa: PLC0415 (imported when a token is first counted)

    try:
        # tiktoken's own plugin: the encodings it ships, as ``tiktoken.get_encoding`` builds them.
        from tiktoken_ext.openai_public import (  # type: ignore[import-untyped]  # noqa: PLC0415
            ENCODING_CONSTRUCTORS,
        )
    except ImportError:  # a tiktoken without its bundled encodings
        return None
    constructor = ENCODING_CONSTRUCTORS.get(name)
    if constructor is None:
        return None
    version = getattr(tiktoken, "__version__", None)
    path = _entry(name, version) if version else None
    kept = _read(path, name) if path is not None else None
    if kept is not None:
        try:
            return tiktoken.Encoding(**kept)
        except Exception:  # tables this tiktoken refuses (it raises all kinds): built again
            pass
    arguments = constructor()  # reads (or downloads) the file and checks its hash
    if path is not None:
        _write(path, arguments)
    return tiktoken.Encoding(**arguments)


def _entry(name: str, version: str) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    return folder / f"tiktoken-{version}-{name}-marshal{marshal.version}.bin"


def _read(path: Path, name: str) -> dict[str, Any] | None:
    """The constructor's arguments kept at ``path``; ``None`` if missing or not intact."""
    try:
        # Without blocking: a named pipe put there would wait for a writer forever.
        with open(path, "rb", opener=_open_at_once) as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                return None  # a pipe, a device, a folder
            blob = stream.read()
    except OSError:
        return None
    start = len(MAGIC) + _DIGEST_BYTES
    if not blob.startswith(MAGIC):
        return None
    digest, payload = blob[len(MAGIC) : start], blob[start:]
    if hashlib.blake2b(payload, digest_size=_DIGEST_BYTES).digest() != digest:
        return None
    try:
        arguments = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    # Another encoding's tables under this name would count wrongly, and build.
    if not isinstance(arguments, dict) or arguments.get("name") != name:
        return None
    return arguments


def _open_at_once(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _write(path: Path, arguments: dict[str, Any]) -> None:
    """Keep ``arguments`` at ``path``; a cache that cannot be written only costs speed.

    Written beside it and renamed over it, so that processes that start together read
    a whole entry or none. The rename replaces whatever is at ``path`` (a link too: it
    is never followed), and the entry is the user's own to read and write.
    """
    payload = marshal.dumps(arguments)
    digest = hashlib.blake2b(payload, digest_size=_DIGEST_BYTES).digest()
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        temporary = Path(name)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(MAGIC + digest + payload)
        temporary.replace(path)
    except OSError:
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
