"""pytest-xdist: the same findings and the same report with -n 2 as without.

On datasets alone, ``-n`` starts no worker: the plugin's own processes scan, as in a
plain run. A Python file among the paths (here an empty ``conftest.py``) starts them.
"""

from __future__ import annotations

import os

import pytest
from conftest import needs_fifos, write_files
from helpers import XDIST_WORKERS, intents, jsonl

from pytest_finetune import Settings
from pytest_finetune.datasets_alone import workers_to_spare

pytest.importorskip("xdist")

#: A folder's configuration that names a model no one knows.
BROKEN = '[tool.pytest_finetune]\nmodel = "no-such-model"\n'

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


@pytest.mark.parametrize("workers", [XDIST_WORKERS, {}], ids=["workers", "datasets-alone"])
@pytest.mark.parametrize("items", [[], ["-o", "finetune_items=check"]], ids=["file", "check"])
def test_two_workers_give_the_same_report_and_summary_as_one_process(lint, items, workers):
    plain = lint({**FILES, **workers}, *items, subprocess=True)
    spread = lint({**FILES, **workers}, "-n", "2", *items, subprocess=True)
    assert ("created: 2/2 workers" in spread.output) == bool(workers)
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
    run = lint({**FILES, **XDIST_WORKERS}, "-n", "2", "--dist", "loadfile", subprocess=True)
    assert "created: 2/2 workers" in run.output
    assert run.result.ret == 1
    assert {d["path"] for d in run.report["datasets"]} == set(FILES)


def test_a_broken_configuration_is_a_usage_error_before_workers_start(lint):
    # The controller collects nothing, so it cannot wait to see datasets: it says so at once.
    files = {**FILES, "pyproject.toml": '[tool.pytest_finetune]\nselect = ["FT9"]\n'}
    run = lint(files, "-n", "2", subprocess=True)
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert "select: unknown check 'FT9'" in run.result.stderr.lines[0]


def test_on_datasets_alone_the_plugins_processes_scan_and_no_worker_starts(lint):
    run = lint(FILES, "-n", "2", subprocess=True)
    assert run.result.ret == 1
    run.result.stdout.fnmatch_lines(
        [
            "finetune: datasets alone: scanned by 2 processes (jobs), pytest-xdist's 2 workers "
            "(-n) not started"
        ]
    )
    assert "created: 2/2 workers" not in run.output
    assert {d["path"] for d in run.report["datasets"]} == set(FILES)


@pytest.mark.parametrize(
    ("args", "processes", "workers"),
    [
        (["-n", "3"], "3 processes", "3 workers"),
        (["-n", "1"], "1 process", "1 worker"),
        (["-n", "3", "--finetune-jobs", "1"], "1 process", "3 workers"),
        (["-n", "3", "-o", "finetune_jobs=2"], "2 processes", "3 workers"),
    ],
)
def test_the_plugin_scans_with_as_many_processes_as_n_asks_unless_jobs_is_set(
    lint, args, processes, workers
):
    run = lint(FILES, *args)
    run.result.stdout.fnmatch_lines(
        [
            f"finetune: datasets alone: scanned by {processes} (jobs), pytest-xdist's {workers} "
            "(-n) not started"
        ]
    )


@pytest.mark.parametrize(
    ("files", "args", "spared"),
    [
        ({"data/a.jsonl": "", "README.md": "# data"}, [], 2),
        ({"data/a.jsonl": ""}, ["data/a.jsonl"], 2),
        ({"data/a.jsonl": ""}, ["data/a.jsonl::checks"], 2),
        ({"data/a.jsonl": "", "build/setup.py": "", ".venv/x.py": ""}, [], 2),
        ({"data/a.jsonl": ""}, ["--tx", "3*popen"], 5),
        # Another collector's files.
        ({"data/a.jsonl": "", "test_model.py": ""}, [], 0),
        ({"data/a.jsonl": "", "data/more/conftest.py": ""}, [], 0),
        ({"data/a.jsonl": "", "data/test_notes.txt": ""}, [], 0),
        ({"data/a.jsonl": "", "README.md": ""}, ["--doctest-glob=*.md"], 0),
        ({"data/a.jsonl": "", "notes.md": ""}, ["data", "notes.md"], 0),
        ({"data/a.jsonl": ""}, ["data", "missing"], 0),
        ({"README.md": ""}, [], 0),
        # Workers the plugin's processes do not stand in for.
        ({"data/a.jsonl": ""}, ["--tx", "popen//python=python3"], 0),
        ({"data/a.jsonl": ""}, ["--tx", "ssh=builder"], 0),
        ({"data/a.jsonl": ""}, ["--dist", "each"], 0),
        ({"data/a.jsonl": ""}, ["--finetune-train"], 0),
        ({"data/a.jsonl": ""}, ["--collect-only"], 0),
        ({"data/a.jsonl": ""}, ["--no-finetune"], 0),
        ({"data/a.jsonl": ""}, ["-p", "no:doctest"], 2),
        # Another plugin's collector (a conftest.py above the paths), and doctest's
        # globs with a folder.
        (
            {
                "conftest.py": "def pytest_collect_file(file_path, parent):\n    return None\n",
                "data/a.jsonl": "",
            },
            ["data"],
            0,
        ),
        ({"data/a.jsonl": "", "data/docs/guide.md": ""}, ["--doctest-glob=docs/*.md"], 0),
        ({"data/a.jsonl": "", "data/docs/guide.md": ""}, ["--doctest-glob=other/*.md"], 2),
        # A folder whose configuration is broken: its collection says so, with workers.
        ({"data/sub/a.jsonl": "", "data/sub/pyproject.toml": BROKEN}, [], 0),
    ],
)
def test_workers_are_spared_where_the_paths_hold_datasets_alone(pytester, files, args, spared):
    write_files(pytester.path, files)
    config = pytester.parseconfig("--dist", "load", "--tx", "2*popen", *args)
    assert workers_to_spare(config, Settings()) == spared


@pytest.mark.parametrize(("target", "spared"), [("tests", 0), ("data", 2)])
def test_folders_linked_to_are_walked_as_pytest_walks_them_once_each(pytester, target, spared):
    # A link to a folder of tests, and a link back to the folder that holds it.
    write_files(pytester.path, {"data/a.jsonl": "", "tests/test_model.py": ""})
    (pytester.path / "data" / "linked").symlink_to(pytester.path / target)
    config = pytester.parseconfig("--dist", "load", "--tx", "2*popen", "data")
    assert workers_to_spare(config, Settings()) == spared


@needs_fifos
def test_a_named_pipe_among_the_datasets_is_not_opened(pytester):
    write_files(pytester.path, {"data/sub/a.jsonl": ""})
    os.mkfifo(pytester.path / "data" / "pipe.json")
    config = pytester.parseconfig("--dist", "load", "--tx", "2*popen")
    assert workers_to_spare(config, Settings()) == 2
