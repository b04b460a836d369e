"""The Python API: ``lint`` one file outside pytest, configured as pytest would be."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_finetune import REGISTRY, Settings, lint

EXAMPLES = [
    {"prompt": f"Ticket {n}: where is my order? ->", "completion": " shipping\n"} for n in range(6)
] + [
    {"prompt": f"Ticket {n}: I was charged twice ->", "completion": " billing\n"} for n in range(6)
]


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), "utf-8")


def test_lint_takes_a_string_path_and_the_closest_configuration(tmp_path, monkeypatch):
    rows = [*EXAMPLES, {"prompt": "Ticket 99: no separator", "completion": " billing\n"}]
    (tmp_path / "data").mkdir()
    _write(tmp_path / "data" / "train.jsonl", rows)
    monkeypatch.chdir(tmp_path)

    result = lint("data/train.jsonl")

    assert result.stats.examples == 13
    assert [(f.line, f.code) for f in result.outcomes["FT111"].findings] == [(13, "FT111")]

    (tmp_path / "pyproject.toml").write_text('[tool.pytest_finetune]\nignore = ["FT111"]\n')
    assert "FT111" not in lint("data/train.jsonl").outcomes


def test_lint_selects_by_overrides(tmp_path):
    path = tmp_path / "train.jsonl"
    _write(path, EXAMPLES)

    result = lint(path, Settings(overrides={"select": ["FT1"]}))

    expected = sorted(c.code for c in REGISTRY.values() if c.code.startswith("FT1"))
    assert sorted(result.outcomes) == expected
    assert [code for code, outcome in result.outcomes.items() if outcome.count] == []
