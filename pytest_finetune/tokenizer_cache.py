"""tiktoken's encodings, loaded from a cache of their tables: a third of the time.

``tiktoken.get_encoding`` reads the encoding's file and decodes its 200,000 base64
lines in Python on every start: 0.15-0.2 s of the 0.3 s it takes for ``o200k_base``,
in every process that counts a token. The decoded tables are kept here, once, as
``marshal`` data; later processes read them in 0.03 s and build the same
``tiktoken.Encoding`` from them.

The cache holds only what tiktoken produced itself, for the encodings that tiktoken
ships (their files' hashes are fixed by its release): an entry is keyed by tiktoken's
version and the encoding's name, and its digest is checked on every read. It lives in
``PYTEST_FINETUNE_CACHE_DIR``, else ``$XDG_CACHE_HOME/pytest-finetune`` (``~/.cache``);
an empty ``PYTEST_FINETUNE_CACHE_DIR`` turns it off. A cache that cannot be read or
written is passed over: the encoding then loads as tiktoken loads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
from pathlib import Path
from typing import Any

from pytest_finetune.atomic import write_bytes

#: The first bytes of an entry: the format of what follows.
MAGIC = b"pytest-finetune tiktoken tables 1\n"
_DIGEST_BYTES = 32
#: The constructor's arguments an entry holds, and their types.
_FIELDS = {"name": str, "pat_str": str, "mergeable_ranks": dict, "special_tokens": dict}


def cache_dir() -> Path | None:
    """The folder of the cache, or ``None`` where it is turned off (or there is no home)."""
    chosen = os.environ.get("PYTEST_FINETUNE_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = Path(os.environ.get("XDG_CACHE_HOME", ""))
    if not base.is_absolute():  # unset, or relative: which the XDG spec says to ignore
        try:
            base = Path("~").expanduser() / ".cache"
        except RuntimeError:  # no home (a container's user without one): keep nothing
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
    arguments = _read(path, name) if path is not None else None
    if arguments is None:
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
        blob = path.read_bytes()
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
    intact = (
        isinstance(arguments, dict)
        and all(isinstance(arguments.get(key), kind) for key, kind in _FIELDS.items())
        and arguments["name"] == name
    )
    return arguments if intact else None


def _write(path: Path, arguments: dict[str, Any]) -> None:
    """Keep ``arguments`` at ``path``; a cache that cannot be written only costs speed."""
    payload = marshal.dumps(arguments)
    digest = hashlib.blake2b(payload, digest_size=_DIGEST_BYTES).digest()
    # Atomic: processes that start together read a whole entry or none.
    with contextlib.suppress(OSError):
        write_bytes(path, MAGIC + digest + payload)
