"""The bundled example project is what the README's first command lints: it must pass."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def test_the_example_project_lints_clean(tmp_path):
    report = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--finetune-report={report}"],
        cwd=ROOT / "examples",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pytest-finetune" in result.stdout
    datasets = {d["path"]: d for d in json.loads(report.read_text())["datasets"]}
    assert set(datasets) == {
        "data/support_chat.jsonl",
        "data/support_intents_train.jsonl",
        "data/support_intents_valid.jsonl",
    }
    assert not [f for d in datasets.values() for f in d["findings"] if f["severity"] == "error"]
