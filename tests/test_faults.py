"""Faults of the machine and hostile input: one clear line each, nothing lost, no secret shown.

Unreadable files are made with ``chmod``; the suite also runs as root (CI), whom
``chmod 000`` does not stop, so there the same fault is simulated by refusing to open
the path.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import signal
import sys
from pathlib import Path

import pytest
from conftest import needs_fifos, write_files
from helpers import XDIST_WORKERS, intents, jsonl, pc

from pytest_finetune.cli import main

GOOD = jsonl(*intents(100))
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def unreadable(monkeypatch: pytest.MonkeyPatch):
    """Make a file or folder unreadable: ``chmod 000``, or, as root, refuse to open it."""
    made: list[Path] = []

    def make(path: Path) -> None:
        if not ROOT_USER:
            path.chmod(0)
            made.append(path)
            return
        refused = path.resolve()

        def denied(where: Path | str) -> bool:
            where = Path(where).resolve()
            return where == refused or refused in where.parents

        def error(where: Path | str) -> PermissionError:
            return PermissionError(errno.EACCES, "Permission denied", str(where))

        opening, listing = pathlib.Path.open, os.scandir

        def open_(self: Path, *args, **kwargs):
            if denied(self):
                raise error(self)
            return opening(self, *args, **kwargs)

        def scandir(where=".") -> object:
            if denied(where):
                raise error(where)
            return listing(where)

        monkeypatch.setattr(pathlib.Path, "open", open_)
        monkeypatch.setattr(os, "scandir", scandir)

    yield make
    for path in made:
        path.chmod(0o755)


def assert_one_clear_line(output: str) -> None:
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
    assert "PermissionError" not in output


# -- 13.5: a dataset deleted between collection and run ------------------------------


DELETING = """
import os

def pytest_collection_finish(session):
    os.remove("data/gone.jsonl")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "1"]])
def test_a_dataset_deleted_after_collection_fails_its_items_and_the_others_run(lint, workers):
    files = {"conftest.py": DELETING, "data/gone.jsonl": GOOD, "data/kept.jsonl": GOOD}
    run = lint(files, "-p", "xdist", *workers, subprocess=bool(workers))
    assert_one_clear_line(run.output)
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    run.result.stdout.fnmatch_lines(
        [
            "*_ data/gone.jsonl _*",
            "data/gone.jsonl: cannot read it: No such file or directory; check that it exists "
            "and is readable",
        ]
    )
    assert run.result.parseoutcomes() == {"failed": 1, "passed": 1}
    assert [d["path"] for d in run.report["datasets"]] == ["data/kept.jsonl"]


# -- 13.6: unreadable files and folders ----------------------------------------------


def test_an_unreadable_dataset_is_one_collection_error_and_the_others_run(
    lint, pytester, unreadable
):
    write_files(pytester.path, {"data/locked.jsonl": GOOD})
    unreadable(pytester.path / "data/locked.jsonl")
    run = lint({"data/good.jsonl": GOOD}, "--continue-on-collection-errors")
    assert_one_clear_line(run.output)
    run.result.stdout.fnmatch_lines(
        [
            "*_ ERROR collecting data/locked.jsonl _*",
            "data/locked.jsonl: cannot read it: Permission denied; check that it exists and "
            "is readable",
        ]
    )
    assert [d["path"] for d in run.report["datasets"]] == ["data/good.jsonl"]


@pytest.mark.parametrize("command", ["check", "stats"])
def test_an_unreadable_dataset_or_folder_is_one_line_in_check_and_stats(
    tmp_path, monkeypatch, capsys, unreadable, command
):
    write_files(
        tmp_path,
        {"data/good.jsonl": GOOD, "data/locked.jsonl": GOOD, "data/closed/inner.jsonl": GOOD},
    )
    monkeypatch.chdir(tmp_path)
    unreadable(tmp_path / "data/locked.jsonl")
    unreadable(tmp_path / "data/closed")
    status = main([command, "data"])
    out, err = capsys.readouterr()
    assert_one_clear_line(out + err)
    assert err.splitlines() == [
        "pytest-finetune: data/locked.jsonl: cannot read it: Permission denied; check that "
        "it exists and is readable",
        "pytest-finetune: data/closed: cannot read it: Permission denied; check that it "
        "exists and is readable",
    ]
    assert "data/good.jsonl" in out  # the others are checked
    assert status == 2  # what was not read was not checked: the gate does not pass


# -- 13.10, 13.11, 13.13: secrets in every channel -----------------------------------

#: A key as Azure gives them: 32 hexadecimal digits, no pattern to recognise.
AZURE_KEY = "5f1c0a3e9b7d42c6a8e0f13b27d4c9e1"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
NAMED_KEY = "sk-proj-" + "Fn4m" * 8


def test_no_secret_reaches_any_output(lint, pytester, monkeypatch):
    # The configured key of a backend, by value, in the data; a JWT as a JSON key
    # (FT103) and in a prompt; a key in a file name.
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    records = [
        *intents(30),
        pc(f"my key is {AZURE_KEY} ->", " billing\n"),
        {"prompt": "token ->", "completion": " account\n", JWT: "x"},
        {"prompt": 5, "completion": AZURE_KEY},
    ]
    junit = pytester.path / "junit.xml"
    sarif = pytester.path / "log.sarif"
    run = lint(
        {f"data/{NAMED_KEY}.jsonl": jsonl(*records)},
        f"--junitxml={junit}",
        f"--finetune-sarif={sarif}",
        "--finetune-github",
        "-rA",
        "-v",
    )
    outputs = {
        "terminal": run.output,
        "report": json.dumps(run.report),
        "junit": junit.read_text("utf-8"),
        "sarif": sarif.read_text("utf-8"),
    }
    for channel, text in outputs.items():
        for secret in (AZURE_KEY, JWT[:30], NAMED_KEY):
            assert secret not in text, f"{secret[:12]}... shows in the {channel}"
    # What was masked is still reported where it was found.
    [dataset] = run.report["datasets"]
    assert dataset["path"] == "data/sk-***.jsonl"
    assert {f["code"] for f in dataset["findings"]} >= {"FT103", "FT104"}
    assert "eyJ***" in json.dumps(dataset["findings"])


def test_no_secret_reaches_check_or_prepare(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "custom-key-" + "7" * 20)
    monkeypatch.chdir(tmp_path)
    data = jsonl(*intents(30), {"prompt": 5, "completion": "custom-key-" + "7" * 20})
    write_files(tmp_path, {f"{NAMED_KEY}.jsonl": data})
    main(["check", "."])
    main(["prepare", f"{NAMED_KEY}.jsonl", "--dry-run"])
    out, err = capsys.readouterr()
    assert "7" * 20 not in out + err
    assert NAMED_KEY not in out + err
    assert "sk-***.jsonl" in out


# -- 13.16: ids that paste back, usage errors that exit 2 ----------------------------


def test_verbose_item_ids_are_the_ids_pytest_takes_back(lint, pytester):
    run = lint({"good.jsonl": GOOD, "data/good.jsonl": GOOD}, "-v")
    run.result.stdout.fnmatch_lines(
        ["data/good.jsonl::checks PASSED*", "good.jsonl::checks PASSED*"], consecutive=False
    )
    assert "::jsonl::" not in run.output
    again = pytester.runpytest("-p", "no:cacheprovider", "good.jsonl::checks")
    again.assert_outcomes(passed=1)
    # An item per check (items = "check", or -k) reads the same.
    run = lint({"good.jsonl": GOOD}, "-v", "-k", "FT001")
    run.result.stdout.fnmatch_lines(["good.jsonl::FT001-empty-file PASSED*"])
    assert "::jsonl::" not in run.output


# -- 13.15, 13.17: the same data gives the same report --------------------------------


def test_findings_past_the_cap_are_the_same_whatever_order_a_check_reports_them_in():
    from pytest_finetune.checks.context import MAX_STORED_FINDINGS, CheckOutcome  # noqa: PLC0415
    from pytest_finetune.findings import Finding, Severity  # noqa: PLC0415

    def finding(line: int) -> Finding:
        return Finding("FT401", "duplicate-example", Severity.ERROR, "a.jsonl", line, "dup")

    lines = list(range(1, MAX_STORED_FINDINGS + 51))
    kept = []
    for order in (lines, lines[::-1], sorted(lines, key=lambda n: (n * 7919) % 1009)):
        outcome = CheckOutcome("FT401")
        for line in order:
            outcome.add(finding(line))
        kept.append([f.line for f in outcome.sorted_findings()])
        assert outcome.count == len(lines)
    assert kept[0] == kept[1] == kept[2] == lines[:MAX_STORED_FINDINGS]


def test_two_runs_with_different_hash_seeds_write_the_same_report(pytester, monkeypatch):
    # 1,001 duplicates: one past the cap, in a set's order.
    records = [pc(f"question {i} ->", " a\n") for i in range(1001)]
    write_files(pytester.path, {"big.jsonl": jsonl(*records, *records)})
    reports = []
    for seed in ("1", "2"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        report = pytester.path / f"report-{seed}.json"
        pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--finetune-report={report}")
        reports.append(json.loads(report.read_text("utf-8")))
    [dataset] = reports[0]["datasets"]
    assert dataset["counts"]["FT401"] == 1001
    duplicates = [f["line"] for f in dataset["findings"] if f["code"] == "FT401"]
    assert duplicates == list(range(1002, 2002))  # the first 1,000 by line
    assert reports[0] == reports[1]


def test_sarif_results_are_in_path_and_line_order_under_xdist(lint, pytester):
    files = {f"data/{name}.jsonl": jsonl(*intents(20), {"prompt": 1}) for name in "dcba"}
    sarif = pytester.path / "log.sarif"
    lint(
        {**files, **XDIST_WORKERS},
        "-p",
        "xdist",
        "-n",
        "2",
        f"--finetune-sarif={sarif}",
        subprocess=True,
    )
    results = json.loads(sarif.read_text("utf-8"))["runs"][0]["results"]
    where = [
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    ]
    assert [uri for uri, _ in where] == sorted(uri for uri, _ in where)
    assert {uri for uri, _ in where} == set(files)
    assert where == sorted(where)


# -- 13.1, 13.2, 12.4: the report goes where it is told, over nothing the user owns ----


def test_a_report_is_never_written_over_a_dataset_of_the_run(lint, pytester):
    files = {"good.jsonl": GOOD}
    for extra in ([], ["--finetune-force"]):
        write_files(pytester.path, files)
        result = pytester.runpytest(
            "-p", "no:cacheprovider", "--finetune-report=good.jsonl", *extra
        )
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert (pytester.path / "good.jsonl").read_text("utf-8") == GOOD
    assert result.stderr.lines[0] == (
        "ERROR: --finetune-report: good.jsonl is a dataset of this run; write the report elsewhere"
    )


def test_a_file_that_is_not_our_report_is_refused_unless_forced(lint, pytester):
    notes = "my notes, not a report\n"
    write_files(pytester.path, {"data/good.jsonl": GOOD, "notes.json": notes})
    result = pytester.runpytest("-p", "no:cacheprovider", "--finetune-sarif=notes.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == (
        "ERROR: --finetune-sarif: notes.json exists and is not a report of pytest-finetune "
        "(a dataset?); it would be replaced: give another path, or --finetune-force"
    )
    assert (pytester.path / "notes.json").read_text("utf-8") == notes
    # Our own report (and an empty file) is replaced run after run.
    for _ in range(2):
        assert pytester.runpytest("-p", "no:cacheprovider", "--finetune-report=r.json").ret == 0
        assert pytester.runpytest("-p", "no:cacheprovider", "--finetune-sarif=s.json").ret == 0
    forced = pytester.runpytest(
        "-p", "no:cacheprovider", "--finetune-sarif=notes.json", "--finetune-force"
    )
    assert forced.ret == 0
    assert json.loads((pytester.path / "notes.json").read_text("utf-8"))["version"] == "2.1.0"


@needs_fifos
def test_a_device_or_a_pipe_is_refused_and_a_symlink_is_written_through(lint, pytester):
    write_files(pytester.path, {"data/good.jsonl": GOOD})
    os.mkfifo(pytester.path / "pipe.json")
    result = pytester.runpytest("-p", "no:cacheprovider", "--finetune-report=pipe.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == (
        "ERROR: --finetune-report: pipe.json is not a regular file (a device or a pipe); "
        "give the path of a file"
    )
    assert (pytester.path / "pipe.json").is_fifo()
    (pytester.path / "loop.json").symlink_to("loop.json")
    result = pytester.runpytest("-p", "no:cacheprovider", "--finetune-report=loop.json")
    assert result.stderr.lines[0] == (
        "ERROR: --finetune-report: loop.json is a symlink loop; give the path of a file"
    )
    (pytester.path / "reports").mkdir()
    (pytester.path / "latest.json").symlink_to("reports/run.json")
    assert pytester.runpytest("-p", "no:cacheprovider", "--finetune-report=latest.json").ret == 0
    assert (pytester.path / "latest.json").is_symlink()
    assert json.loads((pytester.path / "reports/run.json").read_text("utf-8"))["version"] == 1


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_report_files_get_the_mode_open_would_give_them(lint, pytester, umask):
    write_files(pytester.path, {"data/good.jsonl": GOOD})
    previous = os.umask(umask)
    try:
        pytester.runpytest(
            "-p",
            "no:cacheprovider",
            "--finetune-report=r.json",
            "--finetune-sarif=s.sarif",
            "--junitxml=j.xml",
        )
        with open(pytester.path / "plain.txt", "w"):  # noqa: PTH123
            pass
    finally:
        os.umask(previous)
    plain = (pytester.path / "plain.txt").stat().st_mode & 0o777
    assert plain == 0o666 & ~umask
    for name in ("r.json", "s.sarif", "j.xml"):
        assert (pytester.path / name).stat().st_mode & 0o777 == plain, name
    # A replaced report keeps the mode its owner gave it, as open() does.
    (pytester.path / "r.json").chmod(0o640)
    pytester.runpytest("-p", "no:cacheprovider", "--finetune-report=r.json")
    assert (pytester.path / "r.json").stat().st_mode & 0o777 == 0o640


# -- 13.14: a run stopped by Ctrl-C says so in its report ------------------------------

STOPPING = """
def pytest_runtest_call(item):
    if item.nodeid.startswith("data/b.jsonl"):
        raise KeyboardInterrupt
"""


def test_an_interrupted_run_marks_its_report(lint):
    files = {"conftest.py": STOPPING, "data/a.jsonl": GOOD, "data/b.jsonl": GOOD}
    run = lint(files, subprocess=True)
    assert run.result.ret == pytest.ExitCode.INTERRUPTED
    assert run.report["interrupted"] is True
    assert [d["path"] for d in run.report["datasets"]] == ["data/a.jsonl"]
    again = lint({"conftest.py": ""})
    assert again.report["interrupted"] is False
    assert [d["path"] for d in again.report["datasets"]] == ["data/a.jsonl", "data/b.jsonl"]


# -- 13.3: prepare killed between the two files of a pair ------------------------------

KILLED_BETWEEN_THE_FILES = """
import os, signal, sys
from pytest_finetune.cli import main

linking = os.link
links = []

def link(source, target):
    links.append(target)
    if len(links) == 2:  # the training file is in place, the validation file not yet
        os.kill(os.getpid(), signal.SIGKILL)
    linking(source, target)

os.link = link
sys.exit(main(["prepare", "data/intents.jsonl"]))
"""


def test_a_pair_half_published_by_a_killed_prepare_is_refused_then_replaced(
    pytester, monkeypatch, capsys
):
    monkeypatch.chdir(pytester.path)
    write_files(pytester.path, {"data/intents.jsonl": GOOD, "kill.py": KILLED_BETWEEN_THE_FILES})
    killed = pytester.run(sys.executable, "kill.py")
    assert killed.ret == -signal.SIGKILL
    data = pytester.path / "data"
    assert sorted(p.name for p in data.iterdir() if not p.name.endswith(".tmp")) == [
        ".intents_prepared.partial",
        "intents.jsonl",
        "intents_prepared_train.jsonl",
    ]
    # The half pair is not linted as a dataset: one line says what happened.
    result = pytester.runpytest("-p", "no:cacheprovider", "data")
    result.stdout.fnmatch_lines(
        [
            "data/intents_prepared_train.jsonl: half of a prepared pair that a stopped "
            "`pytest-finetune prepare` was writing (.intents_prepared.partial is beside it); "
            "run prepare again"
        ]
    )
    assert main(["check", "data"]) == 2
    # The rerun removes the half pair and what the killed run left, and writes both.
    assert main(["prepare", "data/intents.jsonl"]) == 0
    assert sorted(p.name for p in data.iterdir()) == [
        "intents.jsonl",
        "intents_prepared_train.jsonl",
        "intents_prepared_valid.jsonl",
    ]
    capsys.readouterr()
    assert main(["check", "data"]) == 0
    assert (data / "intents.jsonl").read_text("utf-8") == GOOD  # the input, untouched
