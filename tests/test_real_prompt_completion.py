"""The real prompt/completion files give the FT1xx and FT5xx findings their quirks call for.

The files are copied unchanged into a project, under their own names, so that the
Azure training and validation files are recognised as a pair. Only the findings of the
prompt/completion (FT1) and labels (FT5) families are asserted here; other families
have their own tests.
"""

from __future__ import annotations

import pytest
from conftest import REAL, needs_encodings

AZURE_TRAIN = "azuresamples__context_switching_prepared_train.jsonl"
AZURE_VALID = "azuresamples__context_switching_prepared_valid.jsonl"
AUTOTUNE = "autotunegpt__data.jsonl"
AUTOTUNE_PREPARED = "autotunegpt__data_prepared.jsonl"
GPTCHEM = "gptchem__mof_solvent_train.jsonl"

#: The lines of the Azure training file whose prompt starts with a stray space.
AZURE_STRAY_SPACES = [
    5, 9, 10, 13, 17, 19, 27, 31, 34, 40, 42, 43, 58, 59, 63, 64, 66, 74, 81, 85,
    86, 100, 106, 109, 116, 117, 121, 129, 132, 133, 135, 146, 149, 157, 158, 159,
    167, 168, 173, 178,
]  # fmt: skip


def ours(run, name: str) -> dict[str, list[int | None]]:
    """The FT1xx and FT5xx findings of a file: code -> lines."""
    found: dict[str, list[int | None]] = {}
    for line, code in run.findings(f"data/{name}"):
        if code.startswith(("FT1", "FT5")):
            found.setdefault(code, []).append(line)
    return found


def message(run, name: str, code: str, line: int | None = None) -> str:
    [finding] = [
        f
        for f in run.dataset(f"data/{name}")["findings"]
        if f["code"] == code and f["line"] == line
    ]
    return finding["message"]  # type: ignore[no-any-return]


@pytest.fixture
def real(lint):
    def run(*names: str):
        return lint({f"data/{name}": (REAL / name).read_bytes() for name in names})

    return run


@needs_encodings
def test_azure_pair(real):
    run = real(AZURE_TRAIN, AZURE_VALID)
    train, valid = ours(run, AZURE_TRAIN), ours(run, AZURE_VALID)

    # The " ->" separator is recognised (no prompt lacks it) and, classification
    # needing none, the missing stop sequence is not reported.
    assert not {"FT110", "FT111", "FT130", "FT131"} & (train.keys() | valid.keys())
    assert run.dataset(f"data/{AZURE_TRAIN}")["classes"] == {" 1": 51, " 2": 50, " 4": 48, " 3": 29}
    assert run.dataset(f"data/{AZURE_VALID}")["classes"] == {" 4": 15, " 2": 13, " 1": 12, " 3": 5}

    # The README's quirk, 40 prompts with a stray leading space, is a finding: all of
    # them are class 4, so the space itself predicts the label.
    assert train["FT113"] == [None, *AZURE_STRAY_SPACES]
    assert message(run, AZURE_TRAIN, "FT113") == (
        "All 40 prompts that start with whitespace have the label ' 4': the model can "
        "learn the whitespace as the cue for it"
    )
    assert valid["FT113"] == [None, *range(32, 46)]

    # " 1" is two tokens (' ', '1') for babbage-002, the model prompt/completion data is
    # assumed to be for, as for the chat models: a one-token answer is the space.
    assert train["FT503"] == [1, 3, 4, 5]
    assert train["FT504"] == [1]
    assert message(run, AZURE_TRAIN, "FT504", 1) == (
        "The labels ' 1', ' 2', ' 3', ' 4' all start with the token ' ' for "
        "babbage-002; a one-token answer cannot tell them apart: drop the leading space, "
        "a token of its own here"
    )
    assert valid["FT503"] == [1, 2, 6, 31]
    assert valid["FT504"] == [1]

    # No other finding of these families: no leakage between the two files, no label
    # in one of them only, and no imbalance (51/29) or rare class (29 >= 10).
    assert set(train) == {"FT113", "FT503", "FT504"}
    assert set(valid) == {"FT113", "FT503", "FT504"}
    # The validation file is small on purpose: no few-examples warning for it.
    assert run.lines(f"data/{AZURE_VALID}", "FT014") == []


def test_autotune_raw_file_lacks_separator_leading_spaces_and_stops(real):
    run = real(AUTOTUNE)
    found = ours(run, AUTOTUNE)
    assert found == {"FT110": [None], "FT120": list(range(1, 23)), "FT130": [None]}
    assert "add one such as ' ->', which occurs in no prompt" in message(run, AUTOTUNE, "FT110")
    assert "add one such as ' END', which occurs in no completion" in message(
        run, AUTOTUNE, "FT130"
    )
    assert message(run, AUTOTUNE, "FT120", 2) == (
        "The completion does not start with a space ('Berlin, Hamburg, or Kiel?\\n\\nWhi'...); "
        "start it with one"
    )
    assert run.dataset(f"data/{AUTOTUNE}")["classes"] is None


def test_autotune_common_prompt_prefix_is_at_the_legacy_threshold(lint):
    # Every prompt starts with "What is the " (12 characters): the legacy tool only
    # advised removing prefixes longer than 12, and so does FT150 by default.
    data = (REAL / AUTOTUNE).read_bytes()
    assert ours(lint({f"data/{AUTOTUNE}": data}), AUTOTUNE).get("FT150") is None
    run = lint(
        {
            f"data/{AUTOTUNE}": data,
            "data/finetune.toml": "[checks.FT150]\nmax-length = 11\n",
        }
    )
    assert message(run, AUTOTUNE, "FT150").startswith(
        "All prompts start with 'What is the ' (12 characters)"
    )


def test_autotune_prepared_file_has_its_stop_but_a_question_mark_is_no_separator(real):
    # The legacy tool added " END" and took the final "?" as the separator; a "?" is
    # the question's own punctuation, so the prompts still lack one.
    run = real(AUTOTUNE_PREPARED)
    assert ours(run, AUTOTUNE_PREPARED) == {"FT110": [None]}


@needs_encodings
def test_gptchem(real):
    run = real(GPTCHEM)
    found = ours(run, GPTCHEM)
    # Extra keys (one finding: they come together), the "###" separator and "@@@" stop
    # recognised (nothing lacks them), a long instruction repeated in every prompt.
    assert found == {"FT103": [1], "FT150": [None], "FT503": [1, 6], "FT504": [1]}
    assert message(run, GPTCHEM, "FT103", 1) == (
        "Keys 'label', 'representation', 'solvents', 'solvent_mol_ratios' are not prompt or "
        "completion, in all 328 examples, the first here; fine-tuning does not use them: "
        "remove them"
    )
    assert message(run, GPTCHEM, "FT150").startswith(
        "All prompts start with 'What is the success of a reaction of ' (37 characters)"
    )
    # Labels are the completions without the "@@@" stop.
    assert run.dataset(f"data/{GPTCHEM}")["classes"] == {" 1": 215, " 0": 113}


@pytest.mark.parametrize(
    "name",
    [
        "msfoundry__gsm8k_chat_train.jsonl",
        "msfoundry__orca_dpo_pairs_validation.jsonl",
        "openai-cookbook__toy_chat_fine_tuning.jsonl",
    ],
)
def test_chat_and_preference_files_have_no_labels(real, name):
    run = real(name)
    assert ours(run, name) == {}
    assert run.dataset(f"data/{name}")["classes"] is None
