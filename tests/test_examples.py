"""The bundled example project is what the README's first command lints: it must pass."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from conftest import ROOT
from fake_server import FakeServer


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


def test_the_example_endpoint_declaration_gates_a_served_model(tmp_path):
    project = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", project)
    config = project / "pyproject.toml"
    text = config.read_text()
    declaration = text[
        text.index('# name = "support-lora"') - len("# [[tool.pytest_finetune.train]]\n") :
    ]
    enabled = "\n".join(line.removeprefix("# ") for line in declaration.splitlines())
    with FakeServer() as server:
        server.serve("support-lora", project / "data/support_intents_train.jsonl", chat=False)
        config.write_text(
            text.replace(declaration, enabled + "\n").replace(
                "http://localhost:8000/v1", server.url
            )
        )
        report = tmp_path / "report.json"
        result = run_example(project, "--finetune-train", f"--finetune-report={report}")
    assert result.returncode == 0, result.stdout + result.stderr
    trainings = {t["backend"]: t for t in json.loads(report.read_text())["training"]}
    assert set(trainings) == {"local", "endpoint"}
    assert trainings["endpoint"]["model"] == "support-lora"
    assert trainings["endpoint"]["passed"] is True
    assert server.count("POST", "/v1/completions") == 51
