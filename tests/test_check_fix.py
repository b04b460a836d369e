"""`pytest-finetune check --fix` and `--diff`: ruff's convention for the safe fixes.

`--fix` makes the safe fixes ([*]) of the selected checks in the dataset itself, then
reports what is left; `--diff` shows what it would change and changes nothing. Lines
no fix touches keep their bytes; a file that cannot be read whole is left alone.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REAL
from helpers import jsonl, pc

from pytest_finetune.cli import main


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(*args: str) -> int:
    return main(["check", *args])


#: Three completions without their leading space among 27 that have one.
SPACED = (
    "".join(json.dumps(pc(f"Where is order {n} ->", " shipping\n")) + "\n" for n in range(27))
    + '{"prompt": "Refund order 27 ->", "completion": "billing\\n"}\n'
    + '{"prompt":"Refund order 28 ->","completion":"billing\\n"}\n'
    + '{"prompt": "Caf\\u00e9 order 29 ->", "completion": "account\\n"}\n'
)


def test_fix_changes_only_the_lines_a_safe_fix_repairs(project, capsys):
    Path("data.jsonl").write_text(SPACED, "utf-8")
    before = SPACED.splitlines(keepends=True)

    assert check("--fix", "data.jsonl") == 0

    after = Path("data.jsonl").read_text("utf-8").splitlines(keepends=True)
    assert after[:27] == before[:27]  # untouched lines keep their bytes
    # Each changed line keeps its own JSON style: spaces, compact, \u escapes.
    assert after[27] == '{"prompt": "Refund order 27 ->", "completion": " billing\\n"}\n'
    assert after[28] == '{"prompt":"Refund order 28 ->","completion":" billing\\n"}\n'
    assert after[29] == '{"prompt": "Caf\\u00e9 order 29 ->", "completion": " account\\n"}\n'
    out = capsys.readouterr().out
    assert "data.jsonl: fixed: Start 3 completions with exactly one space" in out
    assert "Fixed 3 examples in 1 file." in out
    assert "FT120" not in out  # what is left is reported: warnings only
    assert "Found 4 findings in 1 file (4 warnings)." in out


def test_diff_shows_the_fix_and_writes_nothing(project, capsys):
    Path("data.jsonl").write_text(SPACED, "utf-8")

    assert check("--diff", "data.jsonl") == 1

    assert Path("data.jsonl").read_text("utf-8") == SPACED
    captured = capsys.readouterr()
    diff = captured.out.splitlines()
    assert diff[:2] == ["--- a/data.jsonl", "+++ b/data.jsonl"]
    assert '-{"prompt": "Refund order 27 ->", "completion": "billing\\n"}' in diff
    assert '+{"prompt": "Refund order 27 ->", "completion": " billing\\n"}' in diff
    assert sum(line.startswith("+{") for line in diff) == 3
    assert "Would fix 1 file." in captured.err


def test_diff_on_clean_data_says_so_and_passes(project, capsys):
    Path("data.jsonl").write_text(jsonl(*[pc(f"Q{n} ->", " yes\n") for n in range(30)]), "utf-8")
    assert check("--diff", "data.jsonl") == 0
    assert "No fixes available." in capsys.readouterr().err


def test_secrets_in_a_diff_are_masked(project, capsys):
    key = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"
    Path("data.jsonl").write_text(
        SPACED + json.dumps(pc(f"My key is {key} ->", "account\n")) + "\n", "utf-8"
    )
    assert check("--diff", "data.jsonl") == 1
    out = capsys.readouterr().out
    assert key not in out
    assert "My key is sk-***" in out


def test_a_file_with_a_broken_line_is_left_alone(project, capsys):
    text = SPACED + '{"prompt": "broken ->", "completion": \n'
    Path("data.jsonl").write_text(text, "utf-8")

    assert check("--fix", "data.jsonl") == 1

    assert Path("data.jsonl").read_text("utf-8") == text
    captured = capsys.readouterr()
    assert "data.jsonl: 1 line cannot be read as examples" in captured.err
    assert "--fix changes only files it reads whole" in captured.err
    assert "data.jsonl:31:" in captured.out  # the findings are still reported


def test_unsafe_fixes_are_not_made(project, capsys):
    # FT402 (conflicting labels) has an opt-in fix only: the file keeps both examples.
    rows = [pc(f"Ticket {n} ->", " shipping\n") for n in range(30)]
    rows.append(pc("Ticket 0 ->", " billing\n"))
    Path("data.jsonl").write_text(jsonl(*rows), "utf-8")

    assert check("--fix", "data.jsonl") == 0  # warnings only

    assert Path("data.jsonl").read_text("utf-8") == jsonl(*rows)
    assert "data.jsonl:31: FT402 [warning] Same prompt as line 1" in capsys.readouterr().out


def test_file_level_fixes_and_permissions(project):
    Path("data.jsonl").write_bytes(b"\xef\xbb\xbf" + SPACED.encode().replace(b"}\n", b"}\r\n"))
    Path("data.jsonl").chmod(0o640)

    check("--fix", "data.jsonl")

    data = Path("data.jsonl").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    assert Path("data.jsonl").stat().st_mode & 0o777 == 0o640


def test_a_link_stays_a_link(project):
    Path("real.jsonl").write_text(SPACED, "utf-8")
    Path("data").mkdir()
    Path("data/link.jsonl").symlink_to(Path("../real.jsonl"))

    check("--fix", "data/link.jsonl")

    assert Path("data/link.jsonl").is_symlink()
    assert " billing" in Path("real.jsonl").read_text("utf-8")


def test_real_chat_leftovers_are_fixed_in_place(project, capsys):
    shutil.copy(REAL / "msfoundry__gsm8k_chat_train.jsonl", "gsm8k.jsonl")

    check("--fix", "gsm8k.jsonl")

    out = capsys.readouterr().out
    assert "gsm8k.jsonl: fixed: Remove the end marker '!!!' from 449 assistant turns" in out
    assert "FT225" not in out and "FT226" not in out and "FT227" not in out
