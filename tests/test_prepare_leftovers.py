"""prepare's fixes of what prompt/completion data left in chat data, and of number labels.

FT225-FT227 are fixed safely (every turn of the role carries the leftover, as the check
requires); FT503's space before a number label only when named, since the answers the
model learns change.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import REAL, needs_encodings
from helpers import jsonl

from pytest_finetune import Settings
from pytest_finetune.cli import main
from pytest_finetune.lint import lint

LEFTOVERS = {"FT225", "FT226", "FT227"}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def codes(path: Path) -> Counter[str]:
    result = lint(path, Settings())
    return Counter(
        finding.code for outcome in result.outcomes.values() for finding in outcome.findings
    )


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def chat(question: str, answer: str) -> dict:
    return {
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


def test_gsm8k_loses_its_three_leftovers_and_nothing_else(project, capsys):
    shutil.copy(REAL / "msfoundry__gsm8k_chat_train.jsonl", "gsm8k.jsonl")
    assert codes(project / "gsm8k.jsonl").keys() >= LEFTOVERS

    assert main(["prepare", "gsm8k.jsonl", "--no-split"]) == 0

    before, after = rows(project / "gsm8k.jsonl"), rows(project / "gsm8k_prepared.jsonl")
    assert len(after) == len(before) == 449
    assert not codes(project / "gsm8k_prepared.jsonl").keys() & LEFTOVERS
    first = after[0]["messages"]
    assert first[1]["content"].endswith(
        "How many clips did Natalia sell altogether in April and May?"
    )
    assert first[2]["content"].startswith("Natalia sold 48/2")
    assert first[2]["content"].endswith("#### 72")
    assert first[0] == before[0]["messages"][0]  # the system prompt is left alone
    out = capsys.readouterr().out
    assert "Strip the leading whitespace of 449 assistant turns" in out
    assert "Remove the end marker '!!!' from 449 assistant turns" in out
    assert "Remove the separator '\\nSolution:' from 449 user turns" in out


def test_a_single_turn_without_the_leftover_leaves_every_turn_as_it_is(project, capsys):
    examples = [chat(f"Question {n}?\nAnswer:", f" Reply {n}!!!") for n in range(12)]
    examples.append(chat("Question 12?", "Reply 12."))  # not a habit of every turn
    Path("data.jsonl").write_text(jsonl(*examples), "utf-8")

    assert main(["prepare", "data.jsonl", "--no-split"]) == 0

    assert rows(project / "data_prepared.jsonl") == examples
    assert "Remove the" not in capsys.readouterr().out


def test_text_parts_lose_the_leftover_in_their_first_and_last_text(project):
    parts = [{"type": "text", "text": " Reply"}, {"type": "text", "text": " ends here END"}]
    examples = [
        {
            "messages": [
                {"role": "user", "content": f"Question {n}"},
                {"role": "assistant", "content": parts},
            ]
        }
        for n in range(10)
    ]
    Path("data.jsonl").write_text(jsonl(*examples), "utf-8")

    assert main(["prepare", "data.jsonl", "--no-split"]) == 0

    reply = rows(project / "data_prepared.jsonl")[0]["messages"][1]["content"]
    assert reply == [{"type": "text", "text": "Reply"}, {"type": "text", "text": " ends here"}]


def test_fewer_turns_than_the_check_needs_are_not_a_habit(project):
    examples = [chat(f"Question {n}?", f" Reply {n}") for n in range(9)]
    Path("data.jsonl").write_text(jsonl(*examples), "utf-8")

    assert main(["prepare", "data.jsonl", "--no-split"]) == 0

    assert rows(project / "data_prepared.jsonl") == examples


@needs_encodings
def test_number_labels_lose_their_space_only_when_asked(project, capsys):
    shutil.copy(REAL / "azuresamples__context_switching_prepared_train.jsonl", "azure.jsonl")
    assert codes(project / "azure.jsonl")["FT503"] == 4

    assert main(["prepare", "azure.jsonl", "--no-split"]) == 0
    kept = Counter(row["completion"] for row in rows(project / "azure_prepared.jsonl"))
    assert kept == {" 1": 51, " 2": 50, " 4": 48, " 3": 29}

    assert (
        main(
            [
                "prepare",
                "azure.jsonl",
                "--no-split",
                "--fix",
                "drop-label-space",
                "--out-dir",
                "fixed",
            ]
        )
        == 0
    )
    fixed = project / "fixed" / "azure_prepared.jsonl"
    assert Counter(row["completion"] for row in rows(fixed)) == {"1": 51, "2": 50, "4": 48, "3": 29}
    found = codes(fixed)
    assert not found.keys() & {"FT503", "FT504", "FT120"}, found
    assert "Drop the space before 178 number labels" in capsys.readouterr().out


def test_word_labels_keep_their_space(project):
    examples = [
        {"prompt": f"Ticket {n} ->", "completion": label}
        for n, label in enumerate([" refund", " shipping", " other"] * 10)
    ]
    Path("data.jsonl").write_text(jsonl(*examples), "utf-8")

    assert main(["prepare", "data.jsonl", "--no-split", "--fix", "drop-label-space"]) == 0

    assert [row["completion"] for row in rows(project / "data_prepared.jsonl")] == [
        example["completion"] for example in examples
    ]
