"""The JSON report (``--finetune-report``), schema version 1: fields are added, never renamed."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pytest_finetune.outputs.results import RunResults

SCHEMA_VERSION = 1


def build(results: RunResults) -> dict[str, Any]:
    """The report as a JSON-ready dict."""
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
    return {"version": SCHEMA_VERSION, "datasets": datasets, "training": results.training}


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: readers never see half a file, and no temporary file stays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed below, then renamed)
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    )
    temporary = Path(stream.name)
    try:
        with stream:
            json.dump(data, stream, indent=2, ensure_ascii=False)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        temporary.replace(path)
    except BaseException:
        # A full disk, or a folder where the file goes: leave nothing behind.
        temporary.unlink(missing_ok=True)
        raise


def not_a_folder(folder: Path) -> Path | None:
    """The first of ``folder`` and its parents that exists and is not a folder.

    ``None`` when ``folder`` is a folder or can be made one (``mkdir(parents=True)``):
    the writers create missing folders, but not over a file.
    """
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None
