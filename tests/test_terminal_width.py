"""Output fits the terminal, as pytest's and ruff's does; files and pipes get full lines.

In a terminal (``COLUMNS`` where set), a finding's message continues under an indent,
a listing's text under its own column, and the dataset table becomes a block per
dataset; written to a file, every finding stays on one line for grep and editors.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest
from conftest import REAL

from pytest_finetune import Settings
from pytest_finetune.lint import lint
from pytest_finetune.outputs import summary, terminal
from pytest_finetune.outputs.results import RunResults

RUN = "from pytest_finetune.cli import main; import sys; sys.exit(main(sys.argv[1:]))"


def in_terminal(*args: str, columns: int = 80) -> list[str]:
    """The lines `pytest-finetune ARGS` prints to a terminal of ``columns`` columns."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns)}
    with subprocess.Popen(
        [sys.executable, "-c", RUN, *args], stdout=follower, stderr=follower, env=env
    ) as process:
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closes when the command ends
                break
            if not chunk:
                break
            output += chunk
        process.wait()
    os.close(leader)
    return output.decode().replace("\r\n", "\n").splitlines()


def piped(*args: str) -> list[str]:
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args], capture_output=True, text=True, env=env, check=False
    )
    return done.stdout.splitlines()


def test_check_fits_80_columns_in_a_terminal():
    lines = in_terminal("check", str(REAL))
    assert len(lines) > 50
    assert max(map(len, lines)) <= 80
    # A finding's message continues under an indent; the table is a block per dataset.
    first = lines.index(next(line for line in lines if ": FT110 [warning]" in line))
    assert lines[first + 1].startswith("    ")
    block = lines.index(f"{REAL.relative_to(REAL.parents[2]).as_posix()}/autotunegpt__data.jsonl")
    assert lines[block + 1] == "  prompt_completion, 22 examples, 1,079 tokens, $0.0017"
    assert lines[block + 2] == "  findings: FT014x1 FT110x1 FT120x22 FT130x1"


def test_check_into_a_file_keeps_one_finding_a_line():
    lines = piped("check", str(REAL))
    findings = [line for line in lines if " FT110 [warning] " in line]
    assert findings and all(line.endswith("to the end of every prompt") for line in findings)
    assert max(map(len, lines)) > 120  # the table keeps its columns


@pytest.mark.parametrize("command", [("rules",), ("prepare", "--help"), ("check", "--help")])
def test_listings_and_help_fit_80_columns(command):
    lines = in_terminal(*command)
    assert len(lines) > 10
    assert max(map(len, lines)) <= 80


def test_rules_continue_under_the_summary_where_it_has_room():
    lines = in_terminal("rules", columns=120)
    assert max(map(len, lines)) <= 120
    start = next(i for i, line in enumerate(lines) if line.startswith("FT002 "))
    column = lines[start].index("The file is not text")
    if len(lines[start + 1]) - len(lines[start + 1].lstrip()) == column:
        return  # wrapped under its column
    assert not lines[start + 1].startswith(" ")  # or it fits on one line


def test_hanging_leaves_lines_that_fit_and_lines_for_files():
    assert terminal.hanging("short line", 80) == ["short line"]
    long = "path:1: FT120 " + "word " * 40
    assert terminal.hanging(long, None) == [long]


def test_hanging_wraps_under_the_indent_and_never_breaks_a_long_word():
    lines = terminal.hanging("FT001   " + "a" * 10 + " b" * 40, 40, indent=8)
    assert all(len(line) <= 40 for line in lines)
    assert all(line.startswith(" " * 8 + "b") for line in lines[1:])
    url = "see https://example.com/" + "x" * 60
    assert terminal.hanging(url, 40) == ["see", "    https://example.com/" + "x" * 60]


def test_too_narrow_a_column_continues_under_a_short_indent():
    lines = terminal.hanging("x" * 60 + " " + "word " * 10, 70, indent=60)
    assert lines[1].startswith("    word")


def test_the_table_is_a_block_per_dataset_only_where_it_does_not_fit(tmp_path):
    results = RunResults()
    path = tmp_path / "data.jsonl"
    path.write_bytes((REAL / "gptchem__mof_solvent_train.jsonl").read_bytes())
    results.add_scan(lint(path, Settings()))
    wide = summary.dataset_table(results)
    assert len(wide) == 2 and summary.dataset_table(results, 400) == wide
    narrow = summary.dataset_table(results, 60)
    assert narrow[0].endswith("data.jsonl")
    assert narrow[1].startswith("  prompt_completion, 328 examples, 2 classes, 22,442 tokens")
    assert all(len(line) <= 60 for line in narrow[1:])  # a path is never broken
    assert "  findings: FT103x1 FT150x1 FT401x1 FT503x2 FT504x1" in narrow
