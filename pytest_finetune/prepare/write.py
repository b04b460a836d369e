"""Writing prepared files: their names, never over an existing file, atomically.

``data/intents.csv`` becomes ``data/intents_prepared.jsonl``, or, split,
``data/intents_prepared_train.jsonl`` and ``data/intents_prepared_valid.jsonl`` (the
names the legacy tool used, which the linter pairs by name). If any of them exists,
prepare writes nothing and says so: the user deletes or moves the old files, or writes
elsewhere with ``--out-dir``. Each file is written to a temporary file beside it and
linked into place, which fails rather than replace a file that appeared meanwhile; a
pair is published together (:func:`write_all`).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import orjson

from pytest_finetune.prepare.read import Example, PrepareError
from pytest_finetune.splits import partial_marker

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


def write_all(outputs: Sequence[tuple[Path, Iterable[bytes]]], shown: Mapping[Path, str]) -> None:
    """Write every file of ``outputs`` or none, and publish them together.

    Each is written to a temporary file first; only when all are whole are they linked
    into place. A training and a validation file cannot appear in one step, so a marker
    (``.X_prepared.partial``) stands beside them while they do: a run killed between
    the two leaves it, pytest refuses to lint the half pair, and the next prepare
    removes the half pair (see :func:`recover`) before writing a new one.
    """
    temporaries: list[Path] = []
    try:
        for path, data in outputs:
            try:
                temporaries.append(_write_temporary(path, data))
            except OSError as error:
                raise PrepareError(
                    f"cannot write {shown[path]}: {error.strerror or error}"
                ) from None
        paths = [path for path, _ in outputs]
        marker = partial_marker(paths[0]) if len(paths) > 1 else None
        if marker is not None:
            entries = [
                {"name": path.name, "inode": temporary.stat().st_ino}
                for path, temporary in zip(paths, temporaries, strict=True)
            ]
            marker.write_text(json.dumps(entries) + "\n", "utf-8")
        published: list[Path] = []
        try:
            for path, temporary in zip(paths, temporaries, strict=True):
                _publish(temporary, path)
                published.append(path)
        except BaseException:
            for path in published:
                with contextlib.suppress(OSError):
                    path.unlink()
            raise
        if marker is not None:
            marker.unlink()
    finally:
        for temporary in temporaries:
            with contextlib.suppress(OSError):
                temporary.unlink()


def recover(paths: Sequence[Path]) -> None:
    """Undo what a killed prepare run left where ``paths`` go.

    Its temporary files (the process that wrote them is gone), and a pair it had
    begun to publish: the files the marker names that are still the ones it wrote
    (same inode) are removed, so that the rerun writes the pair whole.
    """
    for path in paths:
        for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            match = _TEMPORARY.fullmatch(stale.name.removeprefix(f".{path.name}"))
            if match and not _alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    stale.unlink()
    marker = partial_marker(paths[0]) if paths else None
    if marker is None or not marker.is_file():
        return
    try:
        entries = json.loads(marker.read_text("utf-8"))
        for entry in entries:
            published = marker.with_name(entry["name"])
            with contextlib.suppress(FileNotFoundError):
                if published.stat().st_ino == entry["inode"]:
                    published.unlink()
    except (ValueError, KeyError, TypeError, OSError):
        return  # not a marker of ours: left alone, and the outputs are refused as existing
    marker.unlink()


#: ``.<name>.<pid>.<random>.tmp`` after the output's name.
_TEMPORARY = re.compile(r"\.([0-9]+)\.[0-9a-f]{8}\.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _write_temporary(path: Path, data: Iterable[bytes]) -> Path:
    """``data`` in a new temporary file beside ``path``, flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # Created with the usual permissions (0666 less the umask), unlike mkstemp's 0600.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.writelines(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return temporary


def _publish(temporary: Path, path: Path) -> None:
    """Put ``temporary`` in place as ``path``, which must not exist."""
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
