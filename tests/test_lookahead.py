"""Many small datasets: scanned ahead in other processes, with the same findings as here."""

from __future__ import annotations

import concurrent.futures
import errno
import json
import multiprocessing
import os
import sys
import threading
import time

import pytest
from conftest import write_files
from helpers import assert_pool_threads_end, die_when_half_sent, intents, jsonl
from test_chunks import rendered

from pytest_finetune import lookahead, pools
from pytest_finetune.cli import main
from pytest_finetune.config import Settings
from pytest_finetune.lint import plan

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="scans ahead where forked")

TRAIN = intents(60)
FILES = {
    "data/a_train.jsonl": jsonl(*TRAIN) + "{oops\n\n",
    "data/a_valid.jsonl": jsonl(*TRAIN[:5], *intents(70)[60:]),  # leaks five examples
    "data/b.jsonl": b"\xef\xbb\xbf" + jsonl(*intents(20)).encode(),
    "data/c.jsonl": "",
    "data/d.jsonl": jsonl({"instruction": "x", "input": "", "output": "y"}),
    "data/e.jsonl": jsonl(*intents(30)).replace("\n", "\r\n"),
    "data/f.jsonl": jsonl(
        *intents(10),
        {"prompt": "My key is sk-proj-abcdefghijklmnopqrstuvwxyz012345 ->", "completion": " ok"},
    ),
    "data/g.jsonl": jsonl(
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    ),
    **{f"data/h{n:02}.jsonl": jsonl(*intents(20 + n)) for n in range(12)},
}

#: Scans ahead however small the files (a run must otherwise read 8 MB to gain from
#: it), and logs which process scanned each dataset.
AHEAD = """
import os
from pathlib import Path

from pytest_finetune import lookahead, nodes

Path("main.pid").write_text(str(os.getpid()))
lookahead.MIN_CHUNK_BYTES = 0


def logging(real):
    def scan(path, display_path, *args, **kwargs):
        with Path("scans.log").open("a") as log:
            log.write(f"{os.getpid()} {display_path}\\n")
        return real(path, display_path, *args, **kwargs)

    return scan


nodes.scan_file = logging(nodes.scan_file)
lookahead.scan = logging(lookahead.scan)
"""


def scans(pytester: pytest.Pytester) -> tuple[list[str], list[str]]:
    """The datasets scanned here, and those scanned in other processes."""
    main = (pytester.path / "main.pid").read_text()
    here, elsewhere = [], []
    for line in (pytester.path / "scans.log").read_text().splitlines():
        pid, path = line.split(" ", 1)
        (here if pid == main else elsewhere).append(path)
    return here, elsewhere


def summary(run) -> list[str]:
    lines = run.result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "pytest-finetune" in line)
    return [line for line in lines[start:] if not line.startswith("=")]


def test_small_datasets_are_scanned_ahead_in_other_processes_once_each(lint, pytester):
    run = lint({**FILES, "conftest.py": AHEAD}, "--finetune-jobs", "2", subprocess=True)
    assert run.result.ret == 1
    here, elsewhere = scans(pytester)
    # The first is scanned here: what its checks load, the processes then have.
    assert here == ["data/a_train.jsonl"]
    assert sorted(elsewhere) == sorted(FILES)[1:]


@pytest.mark.parametrize("items", [[], ["-o", "finetune_items=check"]], ids=["file", "check"])
def test_scans_ahead_give_the_same_findings_summary_and_junit_as_one_process(lint, pytester, items):
    project = {**FILES, "conftest.py": AHEAD}
    junit = pytester.path / "junit.xml"
    one = lint(project, "--finetune-jobs", "1", *items, f"--junitxml={junit}", subprocess=True)
    one_junit = junit.read_text()
    _, elsewhere = scans(pytester)
    assert elsewhere == []
    (pytester.path / "scans.log").unlink()
    ahead = lint(project, "--finetune-jobs", "2", *items, f"--junitxml={junit}", subprocess=True)
    assert len(scans(pytester)[1]) == len(FILES) - 1
    assert ahead.result.ret == one.result.ret == 1
    assert ahead.report == one.report
    assert summary(ahead) == summary(one)
    assert [d["path"] for d in ahead.report["datasets"]] == sorted(FILES)

    def cases(xml: str) -> list[str]:
        # Test cases, their outcomes and messages; not the times.
        return [line.split(' time="')[0] for line in xml.split("<testcase")[1:]]

    assert cases(junit.read_text()) == cases(one_junit)
    # What the scans found, as one process finds it: the leak, the key (masked).
    assert ahead.findings("data/a_valid.jsonl", "FT510")
    assert ahead.lines("data/f.jsonl", "FT404") == [11]
    assert "abcdefghijklmnop" not in ahead.result.stdout.str() + json.dumps(ahead.report)


GONE = """
from pathlib import Path


def pytest_collection_finish(session):
    Path("data/h05.jsonl").unlink()
"""


def test_a_dataset_gone_since_collection_fails_alone_as_when_scanned_here(lint, pytester):
    project = {**FILES, "conftest.py": AHEAD + GONE}
    one = lint(project, "--finetune-jobs", "1", subprocess=True)
    ahead = lint(project, "--finetune-jobs", "2", subprocess=True)
    assert ahead.report == one.report
    assert summary(ahead) == summary(one)
    failure = "data/h05.jsonl: cannot read it: No such file or directory"
    assert failure in ahead.result.stdout.str()
    assert "data/h05.jsonl" not in {d["path"] for d in ahead.report["datasets"]}


#: A dataset that is there, small, but cannot be read: a folder now (a file whose read
#: permission was taken away would do, but root reads it anyway).
UNOPENABLE = """
from pathlib import Path


def pytest_collection_finish(session):
    Path("data/h05.jsonl").unlink()
    Path("data/h05.jsonl").mkdir()
"""


def test_a_dataset_that_cannot_be_read_where_it_is_scanned_ahead_fails_as_here(lint, pytester):
    project = {**FILES, "conftest.py": AHEAD + UNOPENABLE}
    per_check = ("-o", "finetune_items=check")
    one = lint(project, "--finetune-jobs", "1", *per_check, subprocess=True)
    (pytester.path / "data/h05.jsonl").rmdir()
    (pytester.path / "scans.log").unlink()
    ahead = lint(project, "--finetune-jobs", "2", *per_check, subprocess=True)
    assert "data/h05.jsonl" in scans(pytester)[1]
    assert ahead.report == one.report
    assert summary(ahead) == summary(one)
    failure = "data/h05.jsonl: cannot read it: Is a directory"
    assert failure in ahead.result.stdout.str()


#: FT017 crashes on the third record of every file.
CRASHING = """
from pytest_finetune.checks.file.format import MixedFormats


def crash(self, record):
    if record.line == 3:
        raise ZeroDivisionError("boom")


MixedFormats.visitor = lambda self, fmt: self.visit
MixedFormats.visit = crash
"""


def test_a_check_that_crashes_where_it_is_scanned_ahead_reads_as_when_scanned_here(lint, pytester):
    project = {**FILES, "conftest.py": AHEAD + CRASHING}
    per_check = ("-o", "finetune_items=check")
    one = lint(project, "--finetune-jobs", "1", *per_check, subprocess=True)
    (pytester.path / "scans.log").unlink()
    ahead = lint(project, "--finetune-jobs", "2", *per_check, subprocess=True)
    assert len(scans(pytester)[1]) == len(FILES) - 1

    def crashes(run) -> list[str]:
        lines = run.result.stdout.lines
        return [line for line in lines if "crashed" in line or "boom" in line]

    assert "E           ZeroDivisionError: boom" in crashes(ahead)
    assert crashes(ahead) == crashes(one)
    assert ahead.result.parseoutcomes() == one.result.parseoutcomes()
    assert ahead.report == one.report


def test_a_run_stopped_at_the_first_failure_stops_its_scans_ahead(lint, pytester):
    run = lint({**FILES, "conftest.py": AHEAD}, "--finetune-jobs", "2", "-x", subprocess=True)
    assert run.result.ret == 1
    assert run.result.parseoutcomes() == {"failed": 1}
    assert "stopping after 1 failures" in run.result.stdout.str()


def test_a_few_small_files_are_scanned_here(lint, pytester):
    # Starting processes costs what scanning a few megabytes does.
    counting = AHEAD.replace("lookahead.MIN_CHUNK_BYTES = 0\n", "")
    run = lint({**FILES, "conftest.py": counting}, "--finetune-jobs", "2", subprocess=True)
    assert run.result.ret == 1
    here, elsewhere = scans(pytester)
    assert (sorted(here), elsewhere) == (sorted(FILES), [])


def test_the_check_command_scans_ahead_with_the_same_findings(tmp_path, monkeypatch, capsys):
    write_files(tmp_path, FILES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lookahead, "MIN_CHUNK_BYTES", 0)
    elsewhere = tmp_path / "elsewhere.log"
    real = lookahead.scan

    def logging(path, display_path, *args, **kwargs):
        with elsewhere.open("a") as log:
            log.write(display_path + "\n")
        return real(path, display_path, *args, **kwargs)

    monkeypatch.setattr(lookahead, "scan", logging)
    outputs = []
    for jobs in "1", "2":
        status = main(["check", "--format", "json", "--jobs", jobs, "data"])
        out, err = capsys.readouterr()
        outputs.append((status, json.loads(out), err))
    assert outputs[1] == outputs[0]
    assert outputs[0][0] == 1
    assert sorted(elsewhere.read_text().splitlines()) == sorted(FILES)[1:]


def upcoming(folder, count: int) -> list[lookahead.Upcoming]:
    """``count`` small datasets in ``folder``, planned as ``check`` plans them."""
    planned = []
    for n in range(count):
        path = folder / f"f{n:03}.jsonl"
        path.write_text(jsonl(*intents(20 + n % 7)))
        fmt, settings = plan(path, Settings())
        planned.append(lookahead.Upcoming(str(path), path, path.name, fmt, settings))
    return planned


def test_processes_that_cannot_start_leave_every_scan_to_this_process(tmp_path, monkeypatch):
    # Too many processes, or too little memory: fork fails, the files are still read.
    def fork():
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", fork)
    files = upcoming(tmp_path, 40)
    ahead = lookahead.Lookahead(files, 2, {})
    assert [ahead.take(item.key) for item in files] == [None] * len(files)


def test_this_process_is_frozen_as_its_processes_start_until_they_stop(tmp_path, monkeypatch):
    # Frozen and thawed at each scan asked for, every object of this process would go
    # to the oldest generation, whose garbage waits for a full collection: a run on
    # 20,000 files grew to 700 MB, against 390 MB without processes.
    calls: list[str] = []
    monkeypatch.setattr(lookahead.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(lookahead.gc, "unfreeze", lambda: calls.append("unfreeze"))
    files = upcoming(tmp_path, 60)
    ahead = lookahead.Lookahead(files, 2, {})
    try:
        taken = [ahead.take(item.key) for item in files]
        assert calls == ["freeze"]
    finally:
        ahead.close()
    assert sum(scan is not None for scan in taken) == len(files) - 1  # all but the first
    assert calls == ["freeze", "unfreeze"]
    ahead.close()
    assert calls == ["freeze", "unfreeze"]  # thawed once


def test_a_process_killed_while_scanning_ahead_leaves_the_rest_to_this_process(tmp_path):
    files = upcoming(tmp_path, 80)
    ahead = lookahead.Lookahead(files, 2, {})
    assert ahead.take(files[0].key) is None
    assert ahead.take(files[1].key) is not None
    # As the kernel's out-of-memory killer would, between two of this process's takes,
    # once the scans started are done: a process killed while it sends a result leaves
    # the pool waiting for the rest of it (CPython's ProcessPoolExecutor), for ever.
    concurrent.futures.wait([future for future, _ in ahead._started.values()])
    for process in multiprocessing.active_children():
        process.kill()
        process.join()
    # Once the pool's own thread has seen it, the pool refuses more scans.
    while not ahead._pool._broken:
        time.sleep(0.01)
    taken = [ahead.take(item.key) for item in files[2:]]
    # The scans done before are taken, and the rest are left to this process.
    assert taken[-1] is None


def test_a_process_killed_while_it_sends_its_scans_leaves_the_rest_to_this_process(
    tmp_path, monkeypatch
):
    # Its half-sent result would hold the pool's thread, and each take, for ever.
    monkeypatch.setattr(lookahead, "_scan_some", _half_sent)
    files = upcoming(tmp_path, 40)
    ahead = lookahead.Lookahead(files, 2, {})
    taken: list[object] = []
    taking = threading.Thread(target=lambda: taken.extend(ahead.take(f.key) for f in files))
    taking.start()
    taking.join(timeout=60)
    assert taken == [None] * len(files), "a take waits for a scan no process will send"
    assert_pool_threads_end()


_SCAN_SOME = lookahead._scan_some


def _half_sent(chosen: list[int]) -> list[lookahead.Scanned | None]:
    """A process killed (as out of memory) when half its scans are sent."""
    die_when_half_sent()
    return _SCAN_SOME(chosen)


def test_two_datasets_whose_names_mask_alike_each_get_their_own_scan(lint, pytester):
    # A key in a file name is masked in the node id: both files are data/sk-***.jsonl.
    masked = {
        "data/a.jsonl": jsonl(*intents(20)),
        "data/sk-proj-abcdefghijklmnopqrstuvwxyz012345.jsonl": jsonl(*intents(20)) + "{oops\n",
        "data/sk-proj-zyxwvutsrqponmlkjihgfedcba987654.jsonl": jsonl(*intents(20)),
    }
    project = {**masked, "conftest.py": AHEAD}
    one = lint(project, "--finetune-jobs", "1", subprocess=True)
    (pytester.path / "scans.log").unlink()
    ahead = lint(project, "--finetune-jobs", "2", subprocess=True)
    assert len(scans(pytester)[1]) == 2
    assert one.result.parseoutcomes() == {"failed": 1, "passed": 2}
    assert ahead.result.parseoutcomes() == one.result.parseoutcomes()
    assert ahead.result.ret == one.result.ret == 1


def test_pytest_xdist_workers_scan_their_own_files_with_no_scans_ahead(lint, pytester):
    pytest.importorskip("xdist")
    # Logs the scans run ahead only.
    ahead = AHEAD.replace("nodes.scan_file = logging(nodes.scan_file)\n", "")
    plain = lint({**FILES, "conftest.py": ahead}, "--finetune-jobs", "2", subprocess=True)
    assert (pytester.path / "scans.log").exists()
    (pytester.path / "scans.log").unlink()
    spread = lint(
        {**FILES, "conftest.py": ahead}, "--finetune-jobs", "2", "-n", "2", subprocess=True
    )
    assert not (pytester.path / "scans.log").exists()
    assert spread.report == plain.report


#: Skips the items of forty datasets, h10 to h49, before they run.
SKIPPING = """
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "h10" <= item.parent.path.name < "h50":
            item.add_marker(pytest.mark.skip(reason="not today"))
"""


def test_datasets_whose_items_are_skipped_leave_no_scans_in_the_way(lint, pytester):
    # Their scans ahead are never taken: the scans of the datasets after them are.
    many = {f"data/h{n:02}.jsonl": jsonl(*intents(20 + n % 5)) for n in range(60)}
    project = {**many, "conftest.py": AHEAD + SKIPPING}
    run = lint(project, "--finetune-jobs", "2", "-rs", subprocess=True)
    assert run.result.parseoutcomes() == {"skipped": 40, "passed": 20}
    assert "SKIPPED [1] data/h10.jsonl: not today" in run.result.stdout.lines
    here, elsewhere = scans(pytester)
    # The first to run loads what the others use; the first to run after those skipped
    # had no scan started: theirs held the places of the scans to come until then.
    assert here == ["data/h00.jsonl", "data/h50.jsonl"]
    assert {f"data/h{n}.jsonl" for n in range(51, 60)} <= set(elsewhere)


def test_a_folder_configured_to_one_process_is_scanned_here(lint, pytester):
    project = {
        **FILES,
        "pyproject.toml": "[tool.pytest_finetune]\njobs = 2\n",
        "data/finetune.toml": "jobs = 1\n",
        "more/m.jsonl": jsonl(*intents(20)),
        "more/n.jsonl": jsonl(*intents(21)),
        "conftest.py": AHEAD,
    }
    run = lint(project, subprocess=True)
    assert run.result.ret == 1
    here, elsewhere = scans(pytester)
    assert sorted(here) == sorted(name for name in FILES if name.startswith("data/"))
    assert sorted(elsewhere) == ["more/m.jsonl", "more/n.jsonl"]


#: Scanning ahead fails (a bug) for one dataset, in the processes that scan ahead only.
FAILING_AHEAD = """
real_ahead = lookahead.scan


def failing(path, display_path, *args, **kwargs):
    if display_path == "data/h03.jsonl" and str(os.getpid()) != Path("main.pid").read_text():
        raise RuntimeError("a bug where it is scanned ahead")
    return real_ahead(path, display_path, *args, **kwargs)


lookahead.scan = failing
"""


def test_a_scan_that_fails_ahead_is_done_again_here_and_fails_alone(lint, pytester):
    project = {**FILES, "conftest.py": AHEAD + FAILING_AHEAD}
    one = lint(project, "--finetune-jobs", "1", subprocess=True)
    (pytester.path / "scans.log").unlink()
    ahead = lint(project, "--finetune-jobs", "2", subprocess=True)
    assert "data/h03.jsonl" in scans(pytester)[0]
    assert ahead.report == one.report
    assert summary(ahead) == summary(one)


def test_datasets_scanned_ahead_from_a_server_process_give_the_same_findings(tmp_path, monkeypatch):
    # What a pytest-xdist worker does from Python 3.12 (it has threads: see pools.from_server).
    monkeypatch.setattr(pools, "from_server", lambda: True)
    files = upcoming(tmp_path, 12)
    ahead = lookahead.Lookahead(files, 2, {})
    try:
        taken = [ahead.take(item.key) for item in files]
    finally:
        ahead.close()
    assert taken[0] is None  # the first is scanned here
    here = [lookahead.scan(f.path, f.display_path, f.format, f.settings, {}) for f in files[1:]]
    assert [(s.format, rendered(s.result)) for s in taken[1:]] == [
        (f.format, rendered(result)) for f, result in zip(files[1:], here, strict=True)
    ]
