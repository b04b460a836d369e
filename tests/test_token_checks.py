"""FT6xx: examples over the model's limit, token totals and the cost of training.

Expected counts are computed here with tiktoken directly, the way OpenAI's cookbook
counts, never through pytest-finetune's counter.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import tiktoken
from conftest import ENCODINGS
from helpers import intents, jsonl, pc
from test_tokens import offline

from pytest_finetune import Settings, models, splits, token_counting
from pytest_finetune.checks import tokens as token_checks
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.formats import Format, Record
from pytest_finetune.lint import lint
from pytest_finetune.scan import ScanResult

if not ENCODINGS:
    pytest.skip("tiktoken's encoding files are unavailable", allow_module_level=True)

O200K = tiktoken.get_encoding("o200k_base")
CL100K = tiktoken.get_encoding("cl100k_base")

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {
                    "type": "string",
                    "description": "The city and state, e.g. San Francisco, CA",
                },
                "unit": {
                    "type": "string",
                    "description": "The unit of temperature to return",
                    "enum": ["celsius", "fahrenheit"],
                },
            },
            "required": ["location"],
        },
    },
}
WEATHER_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful assistant that can answer to questions about the weather.",
    },
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]


def cookbook(messages: list[dict[str, Any]], encoding: tiktoken.Encoding) -> int:
    """num_tokens_from_messages from OpenAI's cookbook."""
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            total += len(encoding.encode(value))
            if key == "name":
                total += 1
    return total


def counter(encoding: str = "o200k_base") -> token_counting.ExampleCounter:
    return token_counting.ExampleCounter(token_counting.counter(encoding, {}), encoding)


def record(data: dict[str, Any], fmt: Format) -> Record:
    return Record(1, json.dumps(data).encode(), data, fmt)


def scan(tmp_path: Path, data: str, *codes: str, config: str = "", name: str = "train.jsonl"):
    path = tmp_path / name
    path.write_text(data, "utf-8")
    if config:
        (tmp_path / "finetune.toml").write_text(config)
    return lint(path, Settings(overrides={"select": list(codes)}), display_path=name, shared={})


def rendered(result: ScanResult, code: str) -> list[str]:
    outcome = result.outcomes[code]
    assert outcome.crash is None, outcome.crash
    return [finding.render() for finding in outcome.sorted_findings()]


# -- counting examples as the service does -------------------------------------------


@pytest.fixture(autouse=True)
def _exact():
    if not token_counting.counter("o200k_base", {}).exact:
        pytest.skip("tiktoken encoding files not available (see ../shared/tiktoken)")


@pytest.mark.parametrize(("encoding", "expected"), [("o200k_base", 101), ("cl100k_base", 105)])
def test_chat_with_tools_counts_what_the_api_reported_in_the_cookbook(encoding, expected):
    # The cookbook checked these figures against the API's usage.prompt_tokens.
    assert counter(encoding).conversation(WEATHER_MESSAGES, [WEATHER_TOOL]) == expected


def test_chat_messages_count_as_the_cookbook_counts_them():
    messages = [
        {"role": "system", "content": "You translate jargon.", "name": "setup"},
        {"role": "user", "content": "New synergies will help drive top-line growth."},
        {"role": "assistant", "content": "Working together will increase revenue.", "weight": 1},
    ]
    expected = cookbook([{k: v for k, v in m.items() if k != "weight"} for m in messages], O200K)
    assert counter().conversation(messages) == expected


def test_tool_calls_and_content_parts_are_counted():
    call = {"name": "get_current_weather", "arguments": '{"location": "Paris"}'}
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": call}]},
    ]
    expected = (
        3
        + (3 + len(O200K.encode("user")) + len(O200K.encode("Weather in Paris?")))
        + (3 + len(O200K.encode("assistant")))
        + len(O200K.encode(call["name"]))
        + len(O200K.encode(call["arguments"]))
    )
    assert counter().conversation(messages) == expected


def test_prompt_completion_is_prompt_plus_completion():
    data = pc("Summarise: the parcel is late ->", " Late parcel.\n")
    expected = len(CL100K.encode(data["prompt"])) + len(CL100K.encode(data["completion"]))
    assert counter("cl100k_base")(record(data, Format.PROMPT_COMPLETION)) == expected


def test_preference_is_the_input_with_the_longer_output():
    short, long = "Paris.", "The capital of France is Paris, on the Seine."
    data = {
        "input": {"messages": [{"role": "user", "content": "Capital of France?"}]},
        "preferred_output": [{"role": "assistant", "content": short}],
        "non_preferred_output": [{"role": "assistant", "content": long}],
    }
    expected = cookbook([*data["input"]["messages"], {"role": "assistant", "content": long}], O200K)
    assert counter()(record(data, Format.PREFERENCE)) == expected


# -- FT601 example-too-long ------------------------------------------------------------

TINY = '[models.tiny]\nencoding = "o200k_base"\ntraining-limit = 40\n'


def test_examples_over_the_limit_are_reported_with_their_count(tmp_path):
    long_completion = " " + "word " * 60
    rows = [*intents(3), pc("Say it ->", long_completion), *intents(2)]
    expected = len(O200K.encode("Say it ->")) + len(O200K.encode(long_completion))
    result = scan(tmp_path, jsonl(*rows), "FT601", config=f'model = "tiny"\n{TINY}')
    assert rendered(result, "FT601") == [
        f"train.jsonl:4: FT601 This example has {expected:,} tokens; tiny trains on at most 40 "
        "and cuts the rest silently; shorten or split it"
    ]


def test_lines_no_longer_than_the_limit_are_never_counted(tmp_path, monkeypatch):
    counted: list[int] = []
    original = token_counting.ExampleCounter.__call__

    def count(self, rec):
        counted.append(rec.line)
        return original(self, rec)

    monkeypatch.setattr(token_counting.ExampleCounter, "__call__", count)
    monkeypatch.setattr(token_checks, "SAMPLE_BYTES", 0)  # totals: no sample either
    rows = [pc("Hi", "x"), pc("Hi", "x" * 10), pc("Hi", " word" * 60), pc("Yo", "y")]
    data = jsonl(*rows)
    config = f'model = "tiny"\nexact-tokens-max-bytes = 0\n{TINY}'
    result = scan(tmp_path, data, "FT601", config=config)
    long_lines = [n for n, line in enumerate(data.splitlines(True), 1) if len(line) > 40]
    assert long_lines == [2, 3]
    assert counted == long_lines
    assert [int(f.split(":")[1]) for f in rendered(result, "FT601")] == [3]


def test_tool_definitions_can_outweigh_their_bytes_and_are_counted(tmp_path):
    # A one-digit enum item is 4 tokens for 3 bytes of JSON: the byte bound is halved
    # for examples with tools.
    enum = {"n": {"type": "integer", "enum": list(range(10)) * 100}}
    tool = {"type": "function", "function": {"name": "pick", "parameters": {"properties": enum}}}
    messages = [{"role": "user", "content": "Pick"}, {"role": "assistant", "content": "7"}]
    data = jsonl({"messages": messages, "tools": [tool]})
    limit = len(data)
    assert counter().conversation(messages, [tool]) > limit
    model = f'[models.tiny]\nencoding = "o200k_base"\ntraining-limit = {limit}\n'
    result = scan(tmp_path, data, "FT601", config=f'model = "tiny"\n{model}')
    assert [int(f.split(":")[1]) for f in rendered(result, "FT601")] == [1]


def test_an_unknown_model_is_a_configuration_error_not_a_finding(tmp_path):
    with pytest.raises(ConfigError) as error:
        scan(tmp_path, jsonl(*intents(12)), "FT601", "FT602", config='model = "llama-3-8b"\n')
    assert str(error.value) == (
        f"{tmp_path / 'finetune.toml'}: model: unknown model 'llama-3-8b'; add it as "
        "[tool.pytest_finetune.models.'llama-3-8b'] (in pyproject.toml; [models.'llama-3-8b'] "
        "in finetune.toml) with its encoding, training-limit and training-price"
    )


# -- totals, cost and the policy for large files -------------------------------------


def exact_total(rows: list[dict[str, str]], encoding: tiktoken.Encoding) -> list[int]:
    return [len(encoding.encode(r["prompt"])) + len(encoding.encode(r["completion"])) for r in rows]


def test_totals_epochs_billed_tokens_and_cost(tmp_path):
    # Without a model, prompt/completion data is counted and priced for babbage-002:
    # chat models do not fine-tune on it.
    rows = intents(40)
    counts = exact_total(rows, CL100K)
    result = scan(tmp_path, jsonl(*rows), "FT601")
    epochs = models.default_epochs(40)
    assert epochs == 3
    billed = epochs * sum(counts)
    assert result.stats.tokens == {
        "total": sum(counts),
        "max": max(counts),
        "exact": True,
        "estimate": None,
        "model": "babbage-002",
        "encoding": "cl100k_base",
        "limit": 16_384,
        "over_limit": 0,
        "epochs": epochs,
        "billed": billed,
        "price": 0.4,
        "estimated_cost": round(billed * 0.4 / 1_000_000, 4),
    }


def test_without_a_model_chat_data_is_counted_for_the_default_chat_model(tmp_path):
    chats = [
        {
            "messages": [
                {"role": "user", "content": f"Hi {n}"},
                {"role": "assistant", "content": "Hello"},
            ]
        }
        for n in range(12)
    ]
    result = scan(tmp_path, jsonl(*chats), "FT601")
    assert (result.stats.tokens["model"], result.stats.tokens["encoding"]) == (
        models.DEFAULT_MODEL,
        "o200k_base",
    )


def test_billed_tokens_cap_each_example_at_the_limit(tmp_path):
    rows = [*intents(9), pc("Say it ->", " " + "word " * 60)]
    counts = exact_total(rows, O200K)
    result = scan(tmp_path, jsonl(*rows), "FT601", config=f'model = "tiny"\n{TINY}')
    stats = result.stats.tokens
    assert stats["total"] == sum(counts)
    assert stats["billed"] == 10 * sum(min(40, count) for count in counts)  # 10 epochs
    assert stats["estimated_cost"] is None  # tiny has no price


def test_large_files_get_totals_estimated_from_a_sample(tmp_path, monkeypatch):
    monkeypatch.setattr(token_checks, "SAMPLE_BYTES", 20_000)
    rows = intents(3000)
    counts = exact_total(rows, O200K)
    config = "exact-tokens-max-bytes = 100000\n"
    result = scan(tmp_path, jsonl(*rows), "FT601", config=config)
    stats = result.stats.tokens
    assert stats["exact"] is False
    assert abs(stats["total"] - sum(counts)) <= 0.02 * sum(counts)
    # Smaller files stay exact.
    (tmp_path / "small").mkdir()
    small = scan(tmp_path / "small", jsonl(*rows[:200]), "FT601")
    assert small.stats.tokens["exact"] is True
    assert small.stats.tokens["total"] == sum(counts[:200])


def test_over_limit_examples_stay_exact_when_totals_are_estimated(tmp_path, monkeypatch):
    monkeypatch.setattr(token_checks, "SAMPLE_BYTES", 500)
    long_completion = " word" * 300
    rows = [*intents(50), pc("Say it ->", long_completion)]
    expected = len(O200K.encode("Say it ->")) + len(O200K.encode(long_completion))
    model = '[models.small]\nencoding = "o200k_base"\ntraining-limit = 200\n'
    config = f'model = "small"\nexact-tokens-max-bytes = 0\n{model}'
    result = scan(tmp_path, jsonl(*rows), "FT601", config=config)
    assert result.stats.tokens["exact"] is False
    assert rendered(result, "FT601") == [
        f"train.jsonl:51: FT601 This example has {expected:,} tokens; small trains on at most "
        "200 and cuts the rest silently; shorten or split it"
    ]


def test_offline_counts_are_marked_estimates(tmp_path, monkeypatch):
    offline(monkeypatch, tmp_path)
    long_prompt = "x" * 200
    rows = [*intents(11), pc(long_prompt + " ->", " billing\n")]
    result = scan(tmp_path, jsonl(*rows), "FT601", "FT602", config=f'model = "tiny"\n{TINY}')
    stats = result.stats.tokens
    assert stats["exact"] is False
    estimate = math.ceil(len(long_prompt + " ->") / 4) + math.ceil(len(" billing\n") / 4)
    assert stats["max"] == estimate
    [finding] = rendered(result, "FT601")
    assert f"about {estimate} tokens (estimated: tiktoken's encoding files are not available)" in (
        finding
    )


@pytest.mark.parametrize(
    ("name", "validation"),
    [
        ("train.jsonl", False),
        ("intent_valid.jsonl", True),
        ("valid.jsonl", True),
        ("x_prepared_valid.jsonl", True),
        ("dev-validation.jsonl", True),
        ("set_val.jsonl", True),
        ("interval.jsonl", False),
        ("validate_me.jsonl", False),
    ],
)
def test_files_named_as_validation_data_are_not_billed(name, validation):
    assert splits.named_as_validation(f"data/{name}") is validation


def test_summary_and_report_show_tokens_and_cost(lint):
    rows = intents(40)
    total = sum(exact_total(rows, O200K))
    billed = 3 * total
    cost = round(billed * 3.0 / 1_000_000, 4)
    run = lint({"data/train.jsonl": jsonl(*rows), "data/valid.jsonl": jsonl(*rows[:20])})
    report = run.dataset("data/train.jsonl")["tokens"]
    assert (report["total"], report["exact"], report["billed"]) == (total, True, billed)
    assert run.dataset("data/valid.jsonl")["tokens"]["billed"] is None
    table = [line for line in run.output.splitlines() if "prompt_completion" in line]
    [train_row] = [line for line in table if line.startswith("data/train.jsonl ")]
    assert f"{total:,}" in train_row and f"${cost:,.2f}" in train_row
    [valid_row] = [line for line in table if line.startswith("data/valid.jsonl ")]
    assert "$" not in valid_row


def test_a_declared_validation_file_is_not_billed_either(lint):
    # Named neither *_train nor *_valid: the pair is declared, as the split checks read it.
    rows = intents(60)
    run = lint(
        {
            "finetune.toml": (
                'pairs = [{train = "data/intents.jsonl", valid = "data/held_out/intents.jsonl"}]\n'
            ),
            "data/intents.jsonl": jsonl(*rows[:40]),
            "data/held_out/intents.jsonl": jsonl(*rows[40:]),
        }
    )
    valid = run.dataset("data/held_out/intents.jsonl")["tokens"]
    assert (valid["epochs"], valid["billed"], valid["estimated_cost"]) == (None, None, None)
    assert run.dataset("data/intents.jsonl")["tokens"]["epochs"] == 3
    table = [line for line in run.output.splitlines() if "prompt_completion" in line]
    [valid_row] = [line for line in table if line.startswith("data/held_out/")]
    assert valid_row.split()[-2:] == ["-", "-"]  # cost, findings


# -- FT602 over-budget ---------------------------------------------------------------


def test_budgets_fail_when_training_would_cost_more(tmp_path):
    rows = intents(40)
    billed = 3 * sum(exact_total(rows, CL100K))
    cost = billed * 6.0 / 1_000_000
    model = 'model = "davinci-002"\n'
    config = f"{model}[checks.FT602]\nmax-billed-tokens = {billed - 1}\nmax-cost = {cost / 2}\n"
    result = scan(tmp_path, jsonl(*rows), "FT602", config=config)
    assert rendered(result, "FT602") == [
        f"train.jsonl: FT602 Training bills {billed:,} tokens (3 epochs of davinci-002), over "
        f"max-billed-tokens = {billed - 1:,}; trim the data or raise the budget",
        f"train.jsonl: FT602 Training costs ${round(cost, 4):.4f} ({billed:,} tokens, 3 epochs of "
        f"davinci-002 at $6.00 per million), over max-cost = ${cost / 2:.4f}; trim the data or "
        "raise the budget",
    ]
    within = f"{model}[checks.FT602]\nmax-billed-tokens = {billed}\nmax-cost = {cost * 2}\n"
    assert rendered(scan(tmp_path, jsonl(*rows), "FT602", config=within), "FT602") == []
    assert rendered(scan(tmp_path, jsonl(*rows), "FT602", config="[checks.FT602]\n"), "FT602") == []
