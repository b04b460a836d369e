"""Writing prepared files: their names, never over an existing file, atomically.

``data/intents.csv`` becomes ``data/intents_prepared.jsonl``, or, split,
``data/intents_prepared_train.jsonl`` and ``data/intents_prepared_valid.jsonl`` (the
names the legacy tool used, which the linter pairs by name). If any of them exists,
prepare writes nothing and says so: the user deletes or moves the old files, or writes
elsewhere with ``--out-dir``. Each file is written to a temporary file beside it and
linked into place, which fails rather than replace a file that appeared meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from pytest_finetune.prepare.read import Example, PrepareError

SUFFIX = "_prepared"
#: Lines encoded before they are written.
_CHUNK = 1000


def output_paths(source: Path, out_dir: Path | None, *, split: bool) -> list[Path]:
    """Where the prepared data goes: one file, or the training then the validation file."""
    folder = out_dir if out_dir is not None else source.parent
    stem = source.stem
    if split:
        return [folder / f"{stem}{SUFFIX}_train.jsonl", folder / f"{stem}{SUFFIX}_valid.jsonl"]
    return [folder / f"{stem}{SUFFIX}.jsonl"]


def refuse_existing(paths: Iterable[Path], shown: dict[Path, str]) -> None:
    """Raise PrepareError if any output exists: prepare never overwrites a file."""
    existing = [path for path in paths if path.exists() or path.is_symlink()]
    if existing:
        names = ", ".join(shown[path] for path in existing)
        one = len(existing) == 1
        raise PrepareError(
            f"{names} already exist{'s' if one else ''}; prepare never overwrites a file: "
            f"delete or move {'it' if one else 'them'}, or write elsewhere with --out-dir DIR"
        )


def encode(examples: Iterable[Example]) -> Iterator[bytes]:
    """The examples as JSON Lines, in chunks: one object a line, LF endings, UTF-8."""
    chunk = []
    for example in examples:
        try:
            chunk.append(orjson.dumps(example.data))
        except (orjson.JSONEncodeError, TypeError):  # a lone surrogate, a huge integer
            chunk.append(json.dumps(example.data).encode("ascii"))
        if len(chunk) >= _CHUNK:
            yield b"\n".join(chunk) + b"\n"
            chunk = []
    if chunk:
        yield b"\n".join(chunk) + b"\n"


def write_new(path: Path, data: Iterable[bytes]) -> None:
    """Write ``data`` to ``path``, which must not exist, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # Created with the usual permissions (0666 less the umask), unlike mkstemp's 0600.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.writelines(data)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            # A hard link never replaces an existing file, unlike a rename.
            os.link(temporary, path)
        except FileExistsError:
            raise PrepareError(
                f"{path} appeared while prepare was writing; it was left as it is"
            ) from None
        except OSError:
            # File systems without hard links: rename, having checked just before.
            if path.exists():
                raise PrepareError(
                    f"{path} appeared while prepare was writing; it was left as it is"
                ) from None
            temporary.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
