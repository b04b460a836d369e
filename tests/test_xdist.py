"""pytest-xdist: the same findings and the same report with -n 2 as without."""

from __future__ import annotations

import pytest
from helpers import intents, jsonl

pytest.importorskip("xdist")

FILES = {
    "data/a_train.jsonl": jsonl(*intents(100)) + "{oops\n\n",
    "data/b.jsonl": b"\xef\xbb\xbf" + jsonl(*intents(20)).encode(),
    "data/c.jsonl": "",
    "data/d.jsonl": jsonl({"instruction": "x", "input": "", "output": "y"}),
    "data/e.jsonl": jsonl(*intents(120)).replace("\n", "\r\n"),
}


def test_two_workers_give_the_same_report_and_summary_as_one_process(lint):
    plain = lint(FILES, subprocess=True)
    spread = lint(FILES, "-n", "2", subprocess=True)
    assert spread.result.ret == plain.result.ret == 1
    assert spread.report == plain.report
    assert spread.result.parseoutcomes() == plain.result.parseoutcomes()

    def summary(run):
        lines = run.result.stdout.lines
        start = next(i for i, line in enumerate(lines) if "pytest-finetune" in line)
        end = next(i for i, line in enumerate(lines) if "short test summary" in line)
        return lines[start:end]

    assert summary(spread) == summary(plain)
    assert summary(plain)[1].startswith("dataset")


def test_loadfile_distribution_gives_every_dataset(lint):
    run = lint(FILES, "-n", "2", "--dist", "loadfile", subprocess=True)
    assert run.result.ret == 1
    assert {d["path"] for d in run.report["datasets"]} == set(FILES)


def test_a_broken_configuration_is_a_usage_error_before_workers_start(lint):
    # The controller collects nothing, so it cannot wait to see datasets: it says so at once.
    files = {**FILES, "pyproject.toml": '[tool.pytest_finetune]\nselect = ["FT9"]\n'}
    run = lint(files, "-n", "2", subprocess=True)
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert "select: unknown check 'FT9'" in run.result.stderr.lines[0]
