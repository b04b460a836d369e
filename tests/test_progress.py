"""The progress line of a long scan: in a terminal only, rewritten in place, then erased."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import intents, jsonl

from pytest_finetune.outputs.progress import AFTER, EVERY, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def progress(clock: Clock, *, column: int = 12, width: int = 80) -> tuple[Progress, io.StringIO]:
    out = io.StringIO()
    return Progress(10_000_000, column, width, lambda: contextlib.nullcontext(out), clock), out


def test_a_quick_scan_shows_nothing():
    clock = Clock()
    shown, out = progress(clock)
    clock.now += AFTER - 0.1
    shown(50_000, 4_000_000)
    shown.close()
    assert out.getvalue() == ""


def test_a_long_scan_rewrites_one_line_after_what_pytest_wrote_then_erases_it():
    clock = Clock()
    shown, out = progress(clock)
    clock.now += 2 * AFTER
    shown(120_000, 4_000_000)  # 4 MB in 4 s
    clock.now += EVERY / 2
    shown(130_000, 4_500_000)  # too soon: not written
    clock.now += EVERY
    shown(250_000, 8_000_000)
    shown.close()
    assert out.getvalue() == (
        "\x1b[13G\x1b[K120,000 records, 1 MB/s, 40%"
        "\x1b[13G\x1b[K250,000 records, 2 MB/s, 80%"
        "\x1b[13G\x1b[K"
    )


def test_the_line_never_wraps():
    clock = Clock()
    shown, out = progress(clock, column=50, width=80)
    clock.now += AFTER
    shown(1_234_567, 8_000_000)
    assert out.getvalue() == "\x1b[51G\x1b[K1,234,567 records, 4 MB/s, 80"
    narrow, nothing = progress(clock, column=70, width=80)
    clock.now += AFTER
    narrow(1_234_567, 8_000_000)
    assert nothing.getvalue() == ""


# What pytest shows, run in a terminal (a pseudo-terminal here) and elsewhere. The
# conftest makes every scan long: progress every 1,000 records, said as the reader's
# runs end (the first line is read alone, the 1,199 others in one run).
CONFTEST = """
import importlib

importlib.import_module("pytest_finetune.outputs.progress").AFTER = 0.0
importlib.import_module("pytest_finetune.scan").PROGRESS_RECORDS = 1000
"""


def run_pytest(tmp_path: Path, *, terminal: bool) -> str:
    (tmp_path / "train.jsonl").write_text(jsonl(*intents(1200)))
    (tmp_path / "conftest.py").write_text(CONFTEST)
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "PYTEST_ADDOPTS")}
    env.update(TERM="xterm", COLUMNS="100")
    command = [sys.executable, "-m", "pytest", "train.jsonl", "-p", "no:cacheprovider"]
    command += ["--junitxml=junit.xml", "--finetune-select=FT101"]
    if not terminal:
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, check=False)
        return done.stdout.decode()
    parent, child = os.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        with contextlib.suppress(OSError):
            while chunk := os.read(parent, 65536):
                chunks.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        subprocess.run(command, cwd=tmp_path, env=env, stdin=child, stdout=child, check=False)
    finally:
        os.close(child)
        reader.join(timeout=30)
        os.close(parent)
    return b"".join(chunks).decode()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_terminal_shows_the_progress_and_junit_does_not(tmp_path):
    output = run_pytest(tmp_path, terminal=True)
    assert "train.jsonl \x1b[13G\x1b[K1,200 records, " in output
    assert "MB/s, " in output
    assert "1 passed" in output
    assert "records" not in (tmp_path / "junit.xml").read_text()


def test_output_that_is_not_a_terminal_shows_no_progress(tmp_path):
    output = run_pytest(tmp_path, terminal=False)
    assert "1 passed" in output
    assert "records," not in output
    assert "\x1b[" not in output
    assert "records" not in (tmp_path / "junit.xml").read_text()
