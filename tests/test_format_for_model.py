"""FT603 format-not-for-model: data of a format the chosen model does not fine-tune on.

OpenAI trains prompt/completion data only on babbage-002 and davinci-002, chat data on
the chat models, and preference data on gpt-4o, gpt-4o-mini and gpt-4.1 (mini, nano).
The check runs only when a model is chosen: the default model is an assumption.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chat_corpus import assistant, chat, pair, user
from helpers import intents, jsonl

from pytest_finetune import Settings, models
from pytest_finetune.formats import Format
from pytest_finetune.lint import lint

PROMPT_COMPLETION = jsonl(*intents(12))
CHAT = jsonl(*[chat(user(f"Where is parcel {i}?"), assistant("On its way.")) for i in range(12)])
PREFERENCE = jsonl(*[pair(f"Capital of France? ({i})", "Paris.", "Lyon.") for i in range(12)])

FOR_GPT_4O_MINI = (
    "Prompt/completion data, but gpt-4o-mini-2024-07-18 fine-tunes on chat and preference data "
    "only: convert the examples to chat messages, or train babbage-002 or davinci-002"
)


def ft603(tmp_path: Path, data: str, config: str = "") -> list[str]:
    """FT603's findings on ``data`` saved as train.jsonl beside a finetune.toml of ``config``."""
    path = tmp_path / "train.jsonl"
    path.write_text(data, "utf-8")
    (tmp_path / "finetune.toml").write_text(config, "utf-8")
    result = lint(path, Settings(overrides={"select": ["FT603"]}), display_path="train.jsonl")
    outcome = result.outcomes["FT603"]
    assert outcome.crash is None, outcome.crash
    return [finding.render() for finding in outcome.sorted_findings()]


def test_prompt_completion_data_for_a_chat_model_fails_with_what_to_do(tmp_path):
    config = 'model = "gpt-4o-mini-2024-07-18"\n'
    assert ft603(tmp_path, PROMPT_COMPLETION, config) == [f"train.jsonl: FT603 {FOR_GPT_4O_MINI}"]


def test_the_model_on_the_command_line_is_a_choice_too(lint):
    run = lint(
        {"data/train.jsonl": PROMPT_COMPLETION},
        "--finetune-select=FT603",
        "--finetune-model=gpt-4o-mini-2024-07-18",
    )
    run.result.assert_outcomes(failed=1)
    run.result.stdout.fnmatch_lines([f"data/train.jsonl: FT603 {FOR_GPT_4O_MINI}"])
    [finding] = run.dataset("data/train.jsonl")["findings"]
    assert (finding["line"], finding["severity"], finding["message"]) == (
        None,
        "error",
        FOR_GPT_4O_MINI,
    )


def test_preference_data_for_a_model_without_dpo_fails(tmp_path):
    assert ft603(tmp_path, PREFERENCE, 'model = "gpt-3.5-turbo-0125"\n') == [
        "train.jsonl: FT603 Preference data, but gpt-3.5-turbo-0125 fine-tunes on chat data "
        "only: train on the preferred outputs as chat examples, or train a model that takes "
        "preference data, such as gpt-4.1-nano, gpt-4o-mini or gpt-4.1-mini"
    ]


def test_chat_data_for_a_base_model_fails(tmp_path):
    assert ft603(tmp_path, CHAT, 'model = "babbage-002"\n') == [
        "train.jsonl: FT603 Chat data, but babbage-002 fine-tunes on prompt/completion data "
        "only: convert the examples to prompt/completion pairs, or train a model that takes "
        "chat data, such as gpt-4.1-nano, gpt-4o-mini or gpt-4.1-mini"
    ]


@pytest.mark.parametrize(
    ("data", "config"),
    [
        pytest.param(PROMPT_COMPLETION, 'model = "babbage-002"\n', id="pc-babbage"),
        pytest.param(PROMPT_COMPLETION, 'model = "davinci-002"\n', id="pc-davinci"),
        pytest.param(CHAT, 'model = "gpt-4o-mini-2024-07-18"\n', id="chat-gpt-4o-mini"),
        pytest.param(PREFERENCE, 'model = "gpt-4.1-2025-04-14"\n', id="preference-gpt-4.1"),
        pytest.param(
            PROMPT_COMPLETION, 'model = "ft:babbage-002:acme::abc"\n', id="pc-fine-tuned-babbage"
        ),
        # No model configured: the default is an assumption, not a choice, even where the
        # configuration makes the default for the format unable to train it.
        pytest.param(PROMPT_COMPLETION, "", id="pc-no-model"),
        pytest.param(
            PREFERENCE, '[models.gpt-4o-mini]\nformats = ["chat"]\n', id="preference-no-model"
        ),
        # A model the user adds takes every format unless it says which.
        pytest.param(
            PROMPT_COMPLETION,
            'model = "my-model"\n[models.my-model]\ntraining-limit = 8192\n',
            id="pc-added-model",
        ),
    ],
)
def test_data_the_model_fine_tunes_on_passes(tmp_path, data, config):
    assert ft603(tmp_path, data, config) == []


def test_an_added_model_that_lists_its_formats_is_held_to_them(tmp_path):
    config = 'model = "my-model"\n[models.my-model]\ntraining-limit = 8192\nformats = ["chat"]\n'
    assert ft603(tmp_path, PROMPT_COMPLETION, config) == [
        "train.jsonl: FT603 Prompt/completion data, but my-model fine-tunes on chat data only: "
        "convert the examples to chat messages, or train babbage-002 or davinci-002"
    ]
    assert ft603(tmp_path, CHAT, config) == []


def test_the_built_in_table_says_what_each_model_fine_tunes_on():
    chat_and_dpo = {Format.CHAT, Format.PREFERENCE}
    expected = {
        "babbage-002": {Format.PROMPT_COMPLETION},
        "davinci-002": {Format.PROMPT_COMPLETION},
        "gpt-3.5-turbo-0125": {Format.CHAT},
        "gpt-3.5-turbo-0613": {Format.CHAT},
        "gpt-4-0613": {Format.CHAT},
        "o4-mini-2025-04-16": {Format.CHAT},
        "gpt-4o-2024-08-06": chat_and_dpo,
        "gpt-4o-mini-2024-07-18": chat_and_dpo,
        "gpt-4.1-2025-04-14": chat_and_dpo,
        "gpt-4.1-mini-2025-04-14": chat_and_dpo,
        "gpt-4.1-nano-2025-04-14": chat_and_dpo,
    }
    assert {model: set(models.model_spec(model).formats) for model in expected} == expected


def test_overriding_a_built_in_model_keeps_its_formats_unless_given():
    price = {"models": {"gpt-4o-mini": {"training-price": 1.5}}}
    assert models.model_spec("gpt-4o-mini-2024-07-18", price).formats == {
        Format.CHAT,
        Format.PREFERENCE,
    }
    chat_only = {"models": {"gpt-4o-mini": {"formats": ["chat"]}}}
    assert models.model_spec("gpt-4o-mini-2024-07-18", chat_only).formats == {Format.CHAT}


def test_overriding_a_dated_snapshot_starts_from_its_family():
    snapshot = {"models": {"gpt-4o-mini-2024-07-18": {"training-price": 2}}}
    spec = models.model_spec("gpt-4o-mini-2024-07-18", snapshot)
    assert (spec.training_limit, spec.training_price, spec.formats) == (
        65_536,
        2.0,
        {Format.CHAT, Format.PREFERENCE},
    )
