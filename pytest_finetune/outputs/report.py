"""The JSON report (``--finetune-report``), schema version 1: fields are added, never renamed."""

from __future__ import annotations

import json
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
    """Write JSON atomically: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as stream:
        json.dump(data, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    Path(stream.name).replace(path)
