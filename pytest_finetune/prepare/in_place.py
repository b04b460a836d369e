r"""``check --fix`` and ``--diff``: prepare's safe fixes, made in the dataset itself.

As ruff fixes in place: only the fixes marked safe (``[*]``) of the checks the file's
configuration selects, and only in a file read whole (a line that is not JSON, bytes
that are not UTF-8: the file is left as it is). Lines no fix changed keep their bytes;
a changed line keeps its JSON style (``", "`` separators, ``\u`` escapes) where the
line had it. The new file replaces the old atomically, with the old one's permissions,
and only if nobody changed it since it was read.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pytest_finetune.config import FileSettings
from pytest_finetune.formats import canonical, detect_file
from pytest_finetune.lint import DETECTION_RECORDS
from pytest_finetune.prepare import fixes
from pytest_finetune.prepare.fixes import Change, Fix, FixContext
from pytest_finetune.prepare.fixes.file import (
    ConvertToJsonLines,
    CrlfToLf,
    DropBlankLines,
    FinalNewline,
    RemoveByteOrderMark,
)
from pytest_finetune.prepare.read import PrepareError, SourceKind, read

_BOM = b"\xef\xbb\xbf"


@dataclass
class InPlace:
    """What fixing one file in place did, or would do."""

    path: Path
    before: bytes = b""
    after: bytes = b""
    changes: list[Change] = field(default_factory=list)
    #: Why the file was left alone (``None``: it was fixed, or needed nothing).
    skipped: str | None = None

    @property
    def changed(self) -> bool:
        """Whether the fixes change the file."""
        return self.skipped is None and self.after != self.before

    @property
    def fixed(self) -> int:
        """How many examples or lines the fixes changed."""
        return sum(change.count for change in self.changes) if self.changed else 0


def safe_fixes(settings: FileSettings) -> list[type[Fix]]:
    """The fixes ``--fix`` makes: safe ones whose checks the file's configuration selects."""
    selected = {check.code for check in settings.checks}
    return [
        fix
        for fix in fixes.FIXES
        if fix.safe and fix is not ConvertToJsonLines and selected.intersection(fix.codes)
    ]


def fix(path: Path, display: str, settings: FileSettings) -> InPlace:
    """The file as the safe fixes leave it (nothing is written: see :func:`write`)."""
    outcome = InPlace(path)
    try:
        before = path.read_bytes()
        source = read(path, display)
    except (PrepareError, OSError) as error:
        reason = getattr(error, "message", None) or str(error)
        outcome.skipped = f"{reason} (--fix changes only files it reads whole)"
        return outcome
    if source.kind is not SourceKind.JSONL:
        outcome.skipped = (
            f"{display}: not JSON Lines; --fix keeps a file's format: convert it with "
            "`pytest-finetune prepare`"
        )
        return outcome
    fmt = detect_file(example.data for example in source.examples[:DETECTION_RECORDS])
    chosen = safe_fixes(settings)
    originals = {example.line: canonical(example.data) for example in source.examples}
    examples, outcome.changes = fixes.run(
        list(source.examples), chosen, FixContext(fmt, source, settings)
    )
    outcome.changes = [change for change in outcome.changes if change.count]
    kept = {example.line: example.data for example in examples}
    lines = before.split(b"\n")
    ends_with_newline = lines[-1] == b""
    if ends_with_newline:
        lines.pop()
    out = [
        fixed
        for number, line in enumerate(lines, 1)
        if (fixed := _fixed_line(number, line, chosen, originals, kept)) is not None
    ]
    outcome.before = before
    newline = ends_with_newline or FinalNewline in chosen
    outcome.after = b"\n".join(out) + (b"\n" if newline and out else b"")
    return outcome


def _fixed_line(
    number: int,
    line: bytes,
    chosen: list[type[Fix]],
    originals: dict[int, bytes],
    kept: dict[int, dict[str, Any]],
) -> bytes | None:
    """Line ``number`` as the fixes leave it (``None``: dropped), without its newline."""
    if number == 1 and RemoveByteOrderMark in chosen:
        line = line.removeprefix(_BOM)
    if CrlfToLf in chosen:
        line = line.removesuffix(b"\r")
    if number in originals:
        data = kept.get(number)
        if data is None:
            return None  # dropped by a fix
        return line if canonical(data) == originals[number] else _encode_like(data, line)
    if DropBlankLines in chosen and not line.strip():
        return None
    return line


def _encode_like(data: object, line: bytes) -> bytes:
    """``data`` as JSON in the style of the ``line`` it replaces."""
    spaced = b'": ' in line or b'", "' in line
    escaped = line.isascii() and b"\\u" in line
    if not spaced and not escaped:
        with contextlib.suppress(orjson.JSONEncodeError, TypeError):
            return orjson.dumps(data)
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(data, ensure_ascii=escaped, separators=separators).encode()


def write(outcome: InPlace) -> None:
    """Replace the file with its fixed bytes, atomically; PrepareError if it changed meanwhile.

    A symbolic link stays a link: the file it points to is replaced.
    """
    target = outcome.path.resolve()
    status = target.stat()
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(outcome.after)
            stream.flush()
            os.fchmod(stream.fileno(), status.st_mode & 0o7777)
            os.fsync(stream.fileno())
        if target.read_bytes() != outcome.before:
            raise PrepareError(f"{outcome.path} changed while it was being fixed; left as it is")
        temporary.replace(target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
