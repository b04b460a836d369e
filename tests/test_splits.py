"""Train/validation pairs are found by name or declared in configuration."""

from __future__ import annotations

import pytest
from helpers import intents, jsonl

from pytest_finetune import Settings
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.splits import Role, find


def touch(folder, *names: str) -> None:
    for name in names:
        (folder / name).write_text("{}\n", "utf-8")


@pytest.mark.parametrize(
    ("train", "valid"),
    [
        ("intents_train.jsonl", "intents_valid.jsonl"),
        ("train.jsonl", "valid.jsonl"),
        ("train.jsonl", "validation.jsonl"),
        ("x_prepared_train.jsonl", "x_prepared_valid.jsonl"),
        ("intents-training.jsonl", "intents-val.jsonl"),
        ("intents.train.jsonl", "intents.validation.jsonl"),
        # The last split word decides.
        ("training_notes_train.jsonl", "training_notes_valid.jsonl"),
    ],
)
def test_pairs_are_found_by_name_from_either_half(tmp_path, train, valid):
    touch(tmp_path, train, valid)
    from_valid = find(tmp_path / valid)
    from_train = find(tmp_path / train)
    assert from_valid is not None
    assert from_train is not None
    assert (from_valid.train, from_valid.valid, from_valid.role) == (
        tmp_path / train,
        tmp_path / valid,
        Role.VALID,
    )
    assert (from_train.role, from_train.other) == (Role.TRAIN, tmp_path / valid)


@pytest.mark.parametrize(
    "files",
    [
        ["intents_valid.jsonl"],  # no training half
        ["interval.jsonl", "intertrain.jsonl"],  # "val" and "train" inside words
        ["train.jsonl", "test.jsonl"],  # a test split is not a validation split
        ["a_train.jsonl", "b_valid.jsonl"],  # different stems
    ],
)
def test_files_without_their_other_half_are_no_pair(tmp_path, files):
    touch(tmp_path, *files)
    assert all(find(tmp_path / name) is None for name in files)


def test_pairs_declared_in_configuration_are_relative_to_it(tmp_path):
    (tmp_path / "data").mkdir()
    touch(tmp_path / "data", "intents.jsonl", "held_out.jsonl")
    config = {"pairs": [{"train": "data/intents.jsonl", "valid": "data/held_out.jsonl"}]}
    found = find(tmp_path / "data" / "held_out.jsonl", config, tmp_path)
    assert found is not None
    assert (found.train, found.role) == (tmp_path / "data" / "intents.jsonl", Role.VALID)
    assert find(tmp_path / "data" / "held_out.jsonl") is None  # not by name


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ('pairs = {train = "a.jsonl"}', "must be a list of tables"),
        ('pairs = [{train = "a.jsonl"}]', "pairs[0] must have exactly the keys train and valid"),
        ('pairs = [{train = "a.jsonl", valid = 3}]', "pairs[0].valid must be a string"),
    ],
)
def test_malformed_pairs_are_configuration_errors(tmp_path, value, error):
    (tmp_path / "finetune.toml").write_text(value + "\n", "utf-8")
    touch(tmp_path, "a.jsonl")
    with pytest.raises(ConfigError, match=error.replace("[", r"\[").replace("]", r"\]")):
        Settings().for_file(tmp_path / "a.jsonl")


def test_validation_halves_get_no_few_examples_warning(lint):
    run = lint(
        {
            "data/intents_train.jsonl": jsonl(*intents(60)),
            "data/intents_valid.jsonl": jsonl(*intents(15)),
            "data/other.jsonl": jsonl(*intents(15)),
        }
    )
    assert run.lines("data/intents_train.jsonl", "FT014") == [None]
    assert run.lines("data/intents_valid.jsonl", "FT014") == []
    assert run.lines("data/other.jsonl", "FT014") == [None]
    # The service minimum still applies to validation files.
    run = lint({"data/intents_valid.jsonl": jsonl(*intents(5))})
    assert run.lines("data/intents_valid.jsonl", "FT013") == [None]


def test_a_declared_validation_file_gets_no_few_examples_warning(lint):
    run = lint(
        {
            "finetune.toml": 'pairs = [{train = "data/a.jsonl", valid = "data/b.jsonl"}]\n',
            "data/a.jsonl": jsonl(*intents(60)),
            "data/b.jsonl": jsonl(*intents(15)),
        }
    )
    assert run.lines("data/b.jsonl", "FT014") == []
    assert run.lines("data/a.jsonl", "FT014") == [None]
