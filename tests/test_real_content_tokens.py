"""The real datasets through the content (FT4xx) and token (FT6xx) checks.

Every finding is listed: the duplicated pair in gptchem's file, and what the Orca DPO
validation file really holds (placeholders a model left in its rejected answers,
punctuation garbled by a Windows-1252 decode). The other files are clean.
"""

from __future__ import annotations

import json

import pytest
import tiktoken
from conftest import REAL, needs_encodings

from pytest_finetune import Settings, token_counting
from pytest_finetune.lint import lint

ORCA = "msfoundry__orca_dpo_pairs_validation.jsonl"
TOY = "openai-cookbook__toy_chat_fine_tuning.jsonl"
GPTCHEM = "gptchem__mof_solvent_train.jsonl"
FILL = "fill in the template or drop it"
REPAIR = "(UTF-8 read as Windows-1252); decode the source as UTF-8 or repair it with ftfy"

EXPECTED = {
    "autotunegpt__data.jsonl": [],
    "autotunegpt__data_prepared.jsonl": [],
    "azuresamples__context_switching_prepared_train.jsonl": [],
    "azuresamples__context_switching_prepared_valid.jsonl": [],
    GPTCHEM: [f"{GPTCHEM}:129: FT401 Duplicate of line 127; delete one of them"],
    "msfoundry__gsm8k_chat_train.jsonl": [],
    ORCA: [
        f"{ORCA}:107: FT403 Unfilled placeholder '[Movie Title]' in "
        f"non_preferred_output[0].content; {FILL} (2 in this example)",
        f"{ORCA}:129: FT406 Mojibake in input.messages[1].content: 'â\\x80\\x94' is '—' {REPAIR}",
        f"{ORCA}:172: FT406 Mojibake in input.messages[1].content: 'â\\x80\\x93' is '\u2013' {REPAIR}"
        " (2 in this example)",
        f"{ORCA}:188: FT406 Mojibake in input.messages[1].content: 'Ã©' is 'é' {REPAIR}",
        f"{ORCA}:218: FT403 Unfilled placeholder '[insert date and time]' in "
        f"non_preferred_output[0].content; {FILL}",
    ],
    TOY: [],
}


def findings(name: str, *, model: str | None = None):
    overrides: dict[str, object] = {"select": ["FT4", "FT601", "FT602"]}
    if model:
        overrides["model"] = model
    result = lint(REAL / name, Settings(overrides=overrides), display_path=name, shared={})
    rendered = []
    for outcome in result.outcomes.values():
        assert outcome.crash is None, outcome.crash
        rendered += [finding.render() for finding in outcome.findings]
    return sorted(rendered, key=lambda line: int(line.split(":")[1])), result


@needs_encodings
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_content_and_token_findings_of_each_real_file(name):
    found, result = findings(name)
    assert found == EXPECTED[name]
    assert result.stats.tokens is not None
    assert result.stats.tokens["exact"] is True


def test_the_gptchem_duplicate_pair_is_the_same_example():
    lines = (REAL / GPTCHEM).read_text("utf-8").splitlines()
    first, second = json.loads(lines[126]), json.loads(lines[128])
    assert (first["prompt"], first["completion"]) == (second["prompt"], second["completion"])


def reply_tokens(encoding: str) -> int:
    """The cookbook's count of the toy file's fifth conversation, with tiktoken directly."""
    messages = json.loads((REAL / TOY).read_text("utf-8").splitlines()[4])["messages"]
    assert len(messages[-1]["content"]) == 26_000
    encoder = tiktoken.get_encoding(encoding)
    return 3 + sum(3 + sum(len(encoder.encode(v)) for v in m.values()) for m in messages)


def test_the_26000_character_reply_is_over_the_gpt_35_0613_limit():
    if not token_counting.counter("cl100k_base", {}).exact:
        pytest.skip("tiktoken encoding files not available (see ../shared/tiktoken)")
    expected = reply_tokens("cl100k_base")
    assert expected == 8_032
    found, result = findings(TOY, model="gpt-3.5-turbo-0613")
    assert found == [
        f"{TOY}:5: FT601 This example has {expected:,} tokens; gpt-3.5-turbo-0613 trains on at "
        "most 4,096 and cuts the rest silently; shorten or split it"
    ]
    assert result.stats.tokens["max"] == expected
    assert result.stats.tokens["over_limit"] == 1


def test_the_26000_character_reply_fits_gpt_4o_mini():
    if not token_counting.counter("o200k_base", {}).exact:
        pytest.skip("tiktoken encoding files not available (see ../shared/tiktoken)")
    found, result = findings(TOY, model="gpt-4o-mini-2024-07-18")
    assert found == []
    assert result.stats.tokens["max"] == reply_tokens("o200k_base")
    assert result.stats.tokens["limit"] == 65_536
