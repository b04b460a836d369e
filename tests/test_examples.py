"""The bundled example project is what the README's first command lints: it must pass."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from conftest import ROOT


def run_example(project, *args):
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_example_project_lints_clean(tmp_path):
    report = tmp_path / "report.json"
    result = run_example(ROOT / "examples", "-p", "no:cacheprovider", f"--finetune-report={report}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pytest-finetune" in result.stdout
    datasets = {d["path"]: d for d in json.loads(report.read_text())["datasets"]}
    assert set(datasets) == {
        "data/support_chat.jsonl",
        "data/support_intents_train.jsonl",
        "data/support_intents_valid.jsonl",
    }
    assert not [f for d in datasets.values() for f in d["findings"] if f["severity"] == "error"]


def test_the_example_project_gates_on_the_accuracy_of_a_local_baseline(tmp_path):
    project = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", project)
    report = tmp_path / "report.json"
    result = run_example(project, "--finetune-train", f"--finetune-report={report}")
    assert result.returncode == 0, result.stdout + result.stderr
    [training] = json.loads(report.read_text())["training"]
    assert training["backend"] == "local"
    assert training["passed"] is True
    assert training["metrics"]["accuracy"] >= 0.85
