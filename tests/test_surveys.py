"""The protocol between a family's survey and its checks, the same in every family.

A survey sees; each kind of thing it can see (a sight) is judged by one check, which
is told of it only where it was seen: on clean data no check is called at all.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import pytest
from helpers import intents, jsonl

from pytest_finetune import REGISTRY, Settings
from pytest_finetune.checks.chat.survey import Walked
from pytest_finetune.checks.content.survey import ContentCheck
from pytest_finetune.checks.prompt_completion.survey import Member
from pytest_finetune.checks.survey import Surveyed
from pytest_finetune.lint import lint


def judges() -> dict[enum.Enum, list[str]]:
    """The checks that declare each sight."""
    found: dict[enum.Enum, list[str]] = {}
    for code, check in sorted(REGISTRY.items()):
        if issubclass(check, Surveyed):
            for sight in check.sees:
                found.setdefault(sight, []).append(code)
    return found


def test_each_sight_is_judged_by_one_check() -> None:
    shared = {sight: codes for sight, codes in judges().items() if len(codes) > 1}
    assert shared == {}


def test_every_sight_a_survey_can_see_has_a_check() -> None:
    judged = judges()
    for kind in {type(sight) for sight in judged}:
        assert [sight for sight in kind if sight not in judged] == [], kind


def conversation(question: str, answer: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "You sort support tickets."},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


@pytest.mark.parametrize(
    ("family", "records"),
    [
        (Member, intents(60)),
        (ContentCheck, intents(60)),
        (
            Walked,
            [conversation(f"Ticket {i}: where is my parcel?", "On its way.") for i in range(60)],
        ),
    ],
)
def test_clean_data_calls_no_check(
    family: type[Surveyed], records: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int]] = []

    def seen(self: Surveyed, line: int, where: str, detail: object) -> None:
        calls.append((type(self).code, line))

    members = [check for check in REGISTRY.values() if issubclass(check, family) and check.sees]
    for check in members:
        monkeypatch.setattr(check, "seen", seen)
    path = tmp_path / "train.jsonl"
    path.write_text(jsonl(*records))
    selected = [check.code for check in members]
    result = lint(path, Settings(overrides={"select": selected}), display_path="train.jsonl")
    assert all(result.outcomes[code].crash is None for code in selected)
    assert calls == []


def test_a_check_is_told_of_what_was_seen_where_it_was_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[tuple[int, str, object]] = []

    def seen(self: Surveyed, line: int, where: str, detail: object) -> None:
        told.append((line, where, detail))

    check = REGISTRY["FT131"]
    monkeypatch.setattr(check, "seen", seen)
    records = intents(60)
    records[41]["completion"] = records[41]["completion"].rstrip("\n")
    path = tmp_path / "train.jsonl"
    path.write_text(jsonl(*records))
    lint(path, Settings(overrides={"select": ["FT131"]}), display_path="train.jsonl")
    assert told == [(42, "completion", records[41]["completion"])]
