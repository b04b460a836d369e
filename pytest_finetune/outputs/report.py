"""The JSON report (``--finetune-report``), schema version 1: fields are added, never renamed."""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

from pytest_finetune.outputs.results import RunResults

SCHEMA_VERSION = 1
#: The JSON Schema of this version of the report, shipped in the package.
SCHEMA_FILE = Path(__file__).with_name(f"report-v{SCHEMA_VERSION}.schema.json")


def build(results: RunResults, *, interrupted: bool = False) -> dict[str, Any]:
    """The report as a JSON-ready dict; ``interrupted``: the run stopped before its end."""
    datasets = []
    for dataset in sorted(results.datasets.values(), key=lambda d: d.path):
        entry = dict(dataset.stats)
        entry["findings"] = [
            {"code": f.code, **{k: v for k, v in f.to_dict().items() if k != "code"}}
            for f in dataset.all_findings()
        ]
        # Counts include findings beyond those kept in the list above.
        entry["counts"] = dataset.code_counts()
        datasets.append(entry)
    return {
        "version": SCHEMA_VERSION,
        "interrupted": interrupted,
        "datasets": datasets,
        "training": results.training,
    }


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: readers never see half a file, and no temporary file stays."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, as ``open(path, "w")`` would set its mode.

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
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            if mode is not None:
                os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        temporary.replace(path)
    except BaseException:
        # A full disk, or a folder where the file goes: leave nothing behind.
        temporary.unlink(missing_ok=True)
        raise


def is_ours(path: Path) -> bool:
    """Whether ``path`` is empty or a report or SARIF log this plugin wrote: safe to replace.

    Judged by how they begin, without reading a large file (a dataset given by mistake).
    """
    try:
        with path.open("rb") as stream:
            head = stream.read(_HEAD)
    except OSError:
        return False
    text = re.sub(rb"\s+", b"", head)
    return not text or any(text.startswith(opening) for opening in _OPENINGS)


_HEAD = 4096
#: How our report and SARIF log begin (whitespace removed).
_OPENINGS = (
    b'{"version":' + str(SCHEMA_VERSION).encode() + b",",
    b'{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":'
    b'[{"tool":{"driver":{"name":"pytest-finetune"',
)


def not_a_folder(folder: Path) -> Path | None:
    """The first of ``folder`` and its parents that exists and is not a folder.

    ``None`` when ``folder`` is a folder or can be made one (``mkdir(parents=True)``):
    the writers create missing folders, but not over a file.
    """
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None
