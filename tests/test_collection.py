"""Collection: an item per dataset (or per check), one lazy scan per file shared by its items."""

from __future__ import annotations

import json
import os

import pytest
from conftest import needs_fifos, write_files
from helpers import intents, jsonl

from pytest_finetune import nodes
from pytest_finetune.checks.file.format import MixedFormats

GOOD = jsonl(*intents(100))
#: An item per check instead of one per file.
PER_CHECK = ("-o", "finetune_items=check")
CHAT = jsonl(
    *[
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
        for i in range(60)
    ]
)


@pytest.fixture
def scans(monkeypatch):
    """The paths scanned during an in-process run, in order."""
    seen: list[str] = []
    real = nodes.scan_file

    def counting(path, display_path, *args, **kwargs):
        seen.append(display_path)
        return real(path, display_path, *args, **kwargs)

    monkeypatch.setattr(nodes, "scan_file", counting)
    return seen


def test_a_dataset_is_one_item_that_runs_every_check(lint):
    run = lint({"data/train.jsonl": GOOD, "data/chat.jsonl": CHAT}, "--collect-only", "-q")
    assert [line for line in run.result.stdout.lines if line.startswith("data/")] == [
        "data/chat.jsonl::checks",
        "data/train.jsonl::checks",
    ]


def test_the_one_item_fails_with_each_failing_check_and_reports_them_all(lint):
    run = lint({"data/train.jsonl": GOOD + "{oops\n" + '{"prompt": "x ->", "completion": "y"}\n'})
    run.result.assert_outcomes(failed=1)
    run.result.stdout.fnmatch_lines(
        [
            "*_ data/train.jsonl _*",
            "FT003 invalid-json: 1 error in data/train.jsonl",
            "data/train.jsonl:101:2: FT003 *",
            "",
            "FT120 completion-missing-leading-space: 1 error in data/train.jsonl",
            "data/train.jsonl:102: FT120 *",
        ]
    )
    assert run.lines("data/train.jsonl", "FT113") == []
    assert run.lines("data/train.jsonl", "FT120") == [102]


def test_k_selects_checks_by_code_with_an_item_per_check(lint):
    run = lint({"data/train.jsonl": GOOD + "{oops\n"}, "-k", "FT003 or empty-file")
    run.result.assert_outcomes(passed=1, failed=1)
    run.result.stdout.fnmatch_lines(["FAILED data/train.jsonl::FT003-invalid-json*"])
    assert [d["code"] for d in run.report["datasets"][0]["findings"]] == ["FT003"]


def test_items_are_named_by_check(lint):
    run = lint({"data/train.jsonl": GOOD}, "--collect-only", "-q", *PER_CHECK)
    run.result.stdout.fnmatch_lines(
        ["data/train.jsonl::FT001-empty-file", "data/train.jsonl::FT003-invalid-json"]
    )
    assert not any(
        "::" in line.split("::", 1)[1]
        for line in run.result.stdout.lines
        if line.startswith("data/")
    )


def test_collection_reads_only_the_head_and_never_scans(lint, scans):
    lint({"data/train.jsonl": GOOD}, "--collect-only")
    assert scans == []


@pytest.fixture
def heads(monkeypatch):
    """The files whose first records were read for their format, in order."""
    read: list[str] = []
    real = nodes.narrow

    def recording(path, file_settings):
        read.append(path.name)
        return real(path, file_settings)

    monkeypatch.setattr(nodes, "narrow", recording)
    return read


def test_with_an_item_per_dataset_collection_reads_no_file(lint, heads):
    # Its one item runs the checks of every file whatever the format: the item reads
    # the head when it runs (each xdist worker collects every file, runs some).
    files = {"data/train.jsonl": GOOD, "data/chat.jsonl": CHAT}
    lint(files, "--collect-only")
    assert heads == []
    run = lint(files)
    assert sorted(heads) == ["chat.jsonl", "train.jsonl"]
    assert run.dataset("data/chat.jsonl")["format"] == "chat"


def test_collection_reads_the_head_where_the_items_depend_on_the_format(lint, heads):
    files = {"data/train.jsonl": GOOD, "data/chat.jsonl": CHAT}
    lint(files, "--collect-only", *PER_CHECK)
    assert sorted(heads) == ["chat.jsonl", "train.jsonl"]
    heads.clear()
    only_chat = {**files, "pyproject.toml": '[tool.pytest_finetune]\nselect = ["FT2"]\n'}
    run = lint(only_chat, "--collect-only", "-q")
    assert sorted(heads) == ["chat.jsonl", "train.jsonl"]
    assert [line for line in run.result.stdout.lines if line.startswith("data/")] == [
        "data/chat.jsonl::checks"
    ]


def test_one_scan_per_file_whatever_the_number_of_checks(lint, scans):
    run = lint({"data/a.jsonl": GOOD, "data/b.jsonl": GOOD}, *PER_CHECK)
    assert run.result.parseoutcomes()["passed"] > 20
    assert sorted(scans) == ["data/a.jsonl", "data/b.jsonl"]


@pytest.mark.parametrize("items", [[], PER_CHECK], ids=["file", "check"])
def test_a_scan_is_dropped_once_the_last_of_its_items_has_reported(lint, scans, monkeypatch, items):
    # Kept to the end, the scans of 20,000 files would hold every finding twice.
    dropped: list[tuple[str, int]] = []
    real = nodes.DatasetFile.forget

    def recording(self):
        dropped.append((self.display_path, len(scans)))
        real(self)

    monkeypatch.setattr(nodes.DatasetFile, "forget", recording)
    lint({"data/a.jsonl": GOOD, "data/b.jsonl": GOOD + "{oops\n"}, *items)
    # Each file's scan is dropped after its items, before the next file is scanned.
    assert dropped == [("data/a.jsonl", 1), ("data/b.jsonl", 2)]
    assert scans == ["data/a.jsonl", "data/b.jsonl"]


def test_deselected_checks_do_no_work(lint, monkeypatch):
    ran: list[str] = []
    real = nodes.scan_file

    def recording(path, display_path, fmt, settings, shared, **kwargs):
        ran.extend(check.code for check in settings.checks)
        return real(path, display_path, fmt, settings, shared, **kwargs)

    monkeypatch.setattr(nodes, "scan_file", recording)
    lint({"data/train.jsonl": GOOD}, "-k", "FT003 or FT004")
    assert ran == ["FT003", "FT004"]


def test_checks_that_do_not_apply_to_the_format_are_not_collected(lint):
    run = lint(
        {"data/chat.jsonl": CHAT, "data/broken.jsonl": b"\x1f\x8b\x08binary"},
        "--collect-only",
        "-q",
        *PER_CHECK,
    )
    names = run.result.stdout.lines
    assert "data/chat.jsonl::FT014-few-examples" in names
    # A file whose format cannot be told gets only the checks for every file.
    assert "data/broken.jsonl::FT002-binary-file" in names
    assert "data/broken.jsonl::FT014-few-examples" not in names


def test_no_finetune_turns_collection_off(lint):
    run = lint({"data/train.jsonl": "{broken\n"}, "--no-finetune")
    assert run.result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_pytest_runs_without_pytest_xdist_installed(lint):
    # Its scheduling hook is optional: xdist is no dependency of the plugin.
    run = lint({"data/train.jsonl": GOOD}, "-p", "no:xdist")
    run.result.assert_outcomes(passed=1)


def test_the_format_is_the_most_common_among_the_first_records(lint):
    mixed = jsonl({"messages": [{"role": "user", "content": "hi"}]}, *intents(100))
    run = lint({"data/train.jsonl": mixed})
    assert run.dataset("data/train.jsonl")["format"] == "prompt_completion"
    assert run.lines("data/train.jsonl", "FT017") == [1]


def test_a_crashing_check_fails_only_its_own_item(lint, monkeypatch):
    def crash(self, record):
        if record.line == 3:
            raise ZeroDivisionError("boom")

    monkeypatch.setattr(MixedFormats, "visitor", lambda self, fmt: self.visit)
    monkeypatch.setattr(MixedFormats, "visit", crash)
    run = lint({"data/train.jsonl": GOOD + "{oops\n"}, *PER_CHECK)
    outcomes = run.result.parseoutcomes()
    assert outcomes["failed"] == 2
    run.result.stdout.fnmatch_lines(
        [
            "*pytest-finetune bug: check FT017-mixed-formats crashed at line 3:*",
            "*ZeroDivisionError: boom*",
        ]
    )
    assert run.lines("data/train.jsonl", "FT003") == [101]


def test_report_paths_are_relative_to_the_rootdir(lint, pytester):
    pytester.mkdir("sub")
    run = lint({"sub/data/train.jsonl": "{oops\n" + GOOD})
    assert [d["path"] for d in run.report["datasets"]] == ["sub/data/train.jsonl"]
    run.result.stdout.fnmatch_lines(["sub/data/train.jsonl:1:2: FT003*"])
    assert json.dumps(run.report)


@needs_fifos
def test_a_pipe_named_like_a_dataset_is_not_collected(lint, pytester):
    (pytester.path / "data").mkdir()
    os.mkfifo(pytester.path / "data" / "pipe.jsonl")  # reading it would block the run
    run = lint({"data/train.jsonl": GOOD})
    assert run.result.ret == 0
    assert [d["path"] for d in run.report["datasets"]] == ["data/train.jsonl"]


def test_a_crashing_check_fails_its_file_and_the_other_checks_still_report(lint, monkeypatch):
    def crash(self, record):
        if record.line == 3:
            raise ZeroDivisionError("boom")

    monkeypatch.setattr(MixedFormats, "visitor", lambda self, fmt: self.visit)
    monkeypatch.setattr(MixedFormats, "visit", crash)
    run = lint({"data/train.jsonl": GOOD + "{oops\n"})
    run.result.assert_outcomes(failed=1)
    run.result.stdout.fnmatch_lines(
        ["*pytest-finetune bug: check FT017 crashed at line 3:*", "*ZeroDivisionError: boom*"]
    )
    assert run.lines("data/train.jsonl", "FT003") == [101]


def test_lf_runs_again_only_the_failing_datasets_and_junit_has_an_entry_for_each(pytester):
    write_files(pytester.path, {"data/good.jsonl": GOOD, "data/bad.jsonl": GOOD + "{oops\n"})
    first = pytester.runpytest("--junitxml=junit.xml")
    first.assert_outcomes(passed=1, failed=1)
    junit = (pytester.path / "junit.xml").read_text("utf-8")
    assert junit.count("<testcase ") == 2
    assert 'classname="data.bad.jsonl" name="checks"' in junit
    assert "FT003 invalid-json: 1 error in data/bad.jsonl" in junit
    again = pytester.runpytest("--lf", "-v")
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(["data/bad.jsonl::checks FAILED*"])


SKIP_MARK = """
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name == "wip.jsonl":
            item.add_marker(pytest.mark.skip(reason="work in progress"))
"""


@pytest.mark.parametrize("items", [[], PER_CHECK], ids=["file", "check"])
def test_a_skip_mark_on_a_dataset_item_skips_it_with_its_reason(lint, items):
    files = {"data/train.jsonl": GOOD, "data/wip.jsonl": "{oops\n", "conftest.py": SKIP_MARK}
    run = lint(files, "-rs", *items)
    assert run.result.ret == 0
    assert run.result.parseoutcomes()["skipped"] >= 1
    assert any(
        line.startswith("SKIPPED") and line.endswith("data/wip.jsonl: work in progress")
        for line in run.result.stdout.lines
    )
