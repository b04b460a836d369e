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


#: Appends each scan's dataset to scans.log, from the controller and every worker.
COUNTING = """
from pathlib import Path

from pytest_finetune import nodes

real = nodes.scan_file


def counting(path, display_path, *args, **kwargs):
    with Path("scans.log").open("a") as log:
        log.write(display_path + "\\n")
    return real(path, display_path, *args, **kwargs)


nodes.scan_file = counting
"""


def scanned(pytester):
    return sorted((pytester.path / "scans.log").read_text().splitlines())


@pytest.mark.parametrize("items", [[], ["-o", "finetune_items=check"]], ids=["file", "check"])
def test_two_workers_give_the_same_report_and_summary_as_one_process(lint, items):
    plain = lint(FILES, *items, subprocess=True)
    spread = lint(FILES, "-n", "2", *items, subprocess=True)
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


def test_with_an_item_per_check_each_file_is_scanned_once_by_one_worker(lint, pytester):
    # Six files of about 50 items each: xdist's own batches (a quarter of a worker's
    # share first, then a few at a time) would cut files between workers.
    files = {f"data/{name}.jsonl": jsonl(*intents(30 + n)) for n, name in enumerate("abcdef")}
    run = lint(
        {**files, "conftest.py": COUNTING}, "-n", "2", "-o", "finetune_items=check", subprocess=True
    )
    assert run.result.ret == 0
    assert run.result.parseoutcomes()["passed"] > 6 * 40
    assert scanned(pytester) == sorted(files)
    assert len({d["path"] for d in run.report["datasets"]}) == 6


def test_tests_of_python_modules_are_spread_as_xdist_spreads_them(lint):
    module = "".join(f"def test_{n}():\n    pass\n\n" for n in range(20))
    files = {"test_many.py": module, "data/a.jsonl": jsonl(*intents(30))}
    run = lint(files, "-n", "2", "-v", subprocess=True)
    assert run.result.ret == 0
    ran = [line for line in run.result.stdout.lines if line.startswith("[gw")]
    assert {line.split("]")[0] for line in ran if "test_many.py::" in line} == {"[gw0", "[gw1"}


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
