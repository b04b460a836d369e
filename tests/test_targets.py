"""The ``target`` setting: each service's formats, limits and rules, and how it is chosen.

A target is where the data goes (docs/targets.md). Without one the model implies it,
and without a model it is OpenAI, whose rules are those the linter always had.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chat_corpus import assistant, chat, pair, user
from helpers import intents, jsonl, pc

from pytest_finetune import Settings
from pytest_finetune.cli import main
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.formats import Format
from pytest_finetune.lint import lint
from pytest_finetune.targets import TARGETS, preferred_format, resolve

CHAT = [chat(user(f"Where is parcel {i}?"), assistant("On its way.")) for i in range(12)]
ALPACA = [
    {"instruction": "Classify.", "input": f"ticket {i}", "output": "shipping"} for i in range(12)
]


def claude(i: int) -> dict[str, object]:
    return {
        "system": "Classify the ticket.",
        "messages": [
            {"role": "user", "content": f"Where is parcel {i}?"},
            {"role": "assistant", "content": "shipping"},
        ],
    }


def findings(tmp_path: Path, records: list[object], config: str, *select: str) -> list[str]:
    """The findings of the ``select``ed checks on ``records`` beside a finetune.toml."""
    path = tmp_path / "train.jsonl"
    path.write_text(jsonl(*records), "utf-8")
    (tmp_path / "finetune.toml").write_text(config, "utf-8")
    result = lint(path, Settings(overrides={"select": list(select)}), display_path="train.jsonl")
    rendered = []
    for code in select:
        outcome = result.outcomes[code]
        assert outcome.crash is None, outcome.crash
        rendered += [finding.render() for finding in outcome.sorted_findings()]
    return rendered


# -- choosing the target -------------------------------------------------------------


def test_without_target_or_model_the_target_is_openai():
    assert resolve(None, None).name == "openai"


@pytest.mark.parametrize(
    ("model", "target"),
    [
        ("gpt-4o-mini-2024-07-18", "openai"),
        ("ft:gpt-4o-mini-2024-07-18:org::abc", "openai"),
        ("babbage-002", "openai"),
        ("gemini-2.5-flash", "vertex"),
        ("accounts/fireworks/models/llama-v3p1-8b-instruct", "fireworks"),
        ("amazon.nova-micro-v1:0", "bedrock"),
        ("anthropic.claude-3-haiku-20240307-v1:0", "bedrock"),
        ("meta-llama/Llama-3.1-8B-Instruct", "trl"),
        ("Qwen/Qwen2.5-7B-Instruct", "trl"),
        ("my-model", "openai"),
    ],
)
def test_the_model_implies_the_target(model, target):
    assert resolve(None, model).name == target


def test_an_explicit_target_wins_over_the_model():
    assert resolve("together", "meta-llama/Llama-3.1-8B-Instruct").name == "together"
    assert resolve("azure", "gpt-4o-mini-2024-07-18").name == "azure"


def test_a_model_the_target_cannot_train_is_an_error_saying_what_to_set():
    with pytest.raises(ConfigError) as error:
        resolve("openai", "gemini-2.5-flash")
    assert str(error.value) == (
        "target 'openai' cannot train 'gemini-2.5-flash', a Gemini model (Vertex AI): "
        "set target = 'vertex', or a model that OpenAI fine-tunes"
    )


def test_an_unknown_target_is_a_configuration_error_with_a_did_you_mean(tmp_path):
    (tmp_path / "finetune.toml").write_text('target = "vertx"\n', "utf-8")
    with pytest.raises(ConfigError) as error:
        Settings().for_file(tmp_path / "train.jsonl")
    assert str(error.value) == (
        f"{tmp_path / 'finetune.toml'}: target: unknown target 'vertx'; did you mean 'vertex'? "
        "(targets: openai, azure, together, fireworks, vertex, bedrock, trl)"
    )


def test_per_file_target_wins_over_target_for_matching_files(tmp_path):
    (tmp_path / "finetune.toml").write_text(
        'target = "together"\n[per-file-target]\n"gemini/*" = "vertex"\n', "utf-8"
    )
    settings = Settings()
    assert settings.for_file(tmp_path / "gemini" / "train.jsonl").target.name == "vertex"
    assert settings.for_file(tmp_path / "chat" / "train.jsonl").target.name == "together"


def test_the_closest_configuration_file_sets_the_folders_target(tmp_path):
    (tmp_path / "finetune.toml").write_text('target = "together"\n', "utf-8")
    (tmp_path / "vertex").mkdir()
    (tmp_path / "vertex" / "finetune.toml").write_text('target = "vertex"\n', "utf-8")
    settings = Settings()
    assert settings.for_file(tmp_path / "vertex" / "train.jsonl").target.name == "vertex"
    assert settings.for_file(tmp_path / "train.jsonl").target.name == "together"


def test_the_command_line_target_overrides_the_file(lint):
    run = lint(
        {"finetune.toml": 'target = "vertex"\n', "data/train.jsonl": jsonl(*CHAT)},
        "--finetune-target=openai",
        "--finetune-select=FT603",
    )
    run.result.assert_outcomes(passed=1)


def test_the_ini_key_sets_the_target(lint):
    run = lint(
        {"pytest.ini": "[pytest]\nfinetune_target = vertex\n", "data/train.jsonl": jsonl(*CHAT)},
        "--finetune-select=FT603",
    )
    run.result.assert_outcomes(failed=1)
    run.result.stdout.fnmatch_lines(["data/train.jsonl: FT603 This is chat (messages) data, *"])


# -- formats ---------------------------------------------------------------------------


def test_alpaca_data_is_not_accepted_by_openai_and_says_how_to_convert(tmp_path):
    assert findings(tmp_path, ALPACA, "", "FT603") == [
        "train.jsonl: FT603 This is Alpaca (instruction/input/output) data, which fine-tuning "
        "does not accept; convert each row to chat: a user message of instruction (and "
        "input), an assistant message of output"
    ]


def test_alpaca_data_passes_for_open_source_trainers(tmp_path):
    assert findings(tmp_path, ALPACA, 'target = "trl"\n', "FT603", "FT016") == []


def test_chat_data_for_vertex_is_named_with_the_format_it_converts_to(tmp_path):
    assert findings(tmp_path, CHAT, 'target = "vertex"\n', "FT603") == [
        "train.jsonl: FT603 This is chat (messages) data, which Vertex AI does not accept; "
        "convert it to Gemini (contents with parts, systemInstruction)"
    ]


def test_claude_records_pass_for_bedrock_and_fail_for_together(tmp_path):
    records = [claude(i) for i in range(40)]
    assert findings(tmp_path, records, 'target = "bedrock"\n', "FT603") == []
    assert findings(tmp_path, records, 'target = "together"\n', "FT603") == [
        "train.jsonl: FT603 This is Claude messages (system and messages) data, which "
        "Together AI does not accept; move the top-level system prompt into a first system "
        "message"
    ]


def test_text_data_that_no_conversion_reaches_names_what_the_target_takes(tmp_path):
    records = [{"text": f"The sky is blue ({i})."} for i in range(12)]
    assert findings(tmp_path, records, 'target = "fireworks"\n', "FT603") == [
        "train.jsonl: FT603 This is plain text (a single text field) data, which Fireworks AI "
        "does not accept; it takes chat (messages), preference "
        "(input/preferred_output/non_preferred_output)"
    ]


@pytest.mark.parametrize(
    ("target", "fmt", "expected"),
    [
        ("openai", Format.CHAT, Format.CHAT),
        ("openai", Format.ALPACA, Format.CHAT),
        ("openai", Format.SHAREGPT_PREFERENCE, Format.PREFERENCE),
        ("vertex", Format.ALPACA, Format.GEMINI),
        ("vertex", Format.CHAT, Format.GEMINI),
        ("bedrock", Format.CHAT, Format.NOVA),
        ("trl", Format.PREFERENCE, Format.TRL_PREFERENCE),
        ("trl", Format.ALPACA, Format.ALPACA),
        ("fireworks", Format.TEXT, Format.TEXT),
    ],
)
def test_preferred_format_is_what_prepare_converts_to(target, fmt, expected):
    assert preferred_format(TARGETS[target], fmt) is expected


def test_every_target_accepts_the_format_it_prefers_for_its_own_formats():
    for target in TARGETS.values():
        for fmt in target.formats:
            assert preferred_format(target, fmt) is fmt


# -- limits ------------------------------------------------------------------------------


def test_fireworks_accepts_three_examples_where_openai_needs_ten(tmp_path):
    records = CHAT[:3]
    assert findings(tmp_path, records, 'target = "fireworks"\n', "FT013") == []
    assert findings(tmp_path, records, "", "FT013") == [
        "train.jsonl: FT013 Only 3 examples; fine-tuning needs at least 10"
    ]


def test_bedrock_needs_32_examples(tmp_path):
    records = [claude(i) for i in range(31)]
    assert findings(tmp_path, records, 'target = "bedrock"\n', "FT013") == [
        "train.jsonl: FT013 Only 31 examples; fine-tuning on Amazon Bedrock needs at least 32"
    ]
    assert findings(tmp_path, [*records, claude(31)], 'target = "bedrock"\n', "FT013") == []


def test_the_users_option_wins_over_the_targets_limit(tmp_path):
    config = 'target = "bedrock"\n[checks.FT013]\nmin-examples = 5\n'
    assert findings(tmp_path, [claude(i) for i in range(6)], config, "FT013") == []


def test_too_many_examples_fires_only_over_the_targets_limit(tmp_path):
    config = 'target = "bedrock"\n'
    path = tmp_path / "train.jsonl"
    line = jsonl(claude(0))
    (tmp_path / "finetune.toml").write_text(config, "utf-8")
    for count, expected in (
        (10_000, []),
        (
            10_001,
            [
                "train.jsonl: FT604 10,001 examples; Amazon Bedrock accepts at most 10,000 "
                "in a training file"
            ],
        ),
    ):
        path.write_text(line * count, "utf-8")
        result = lint(path, Settings(overrides={"select": ["FT604"]}), display_path="train.jsonl")
        assert [f.render() for f in result.outcomes["FT604"].sorted_findings()] == expected


def test_too_many_examples_finds_nothing_for_targets_without_a_limit(tmp_path):
    (tmp_path / "finetune.toml").write_text("", "utf-8")
    assert Settings().for_file(tmp_path / "a.jsonl").options["FT604"].max_examples == 0
    assert findings(tmp_path, [claude(0)] * 20_000, 'target = "together"\n', "FT604") == []


def test_the_upload_limit_is_the_targets(tmp_path):
    settings = Settings()
    (tmp_path / "finetune.toml").write_text('target = "vertex"\n', "utf-8")
    assert settings.for_file(tmp_path / "a.jsonl").options["FT015"].max_bytes == 1_000_000_000
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "finetune.toml").write_text('target = "trl"\n', "utf-8")
    trl = Settings().for_file(tmp_path / "t" / "a.jsonl")
    assert "FT015" not in {check.code for check in trl.checks}


def test_an_example_over_a_documented_limit_is_counted_as_an_estimate(tmp_path):
    # Claude 3 Haiku on Bedrock trains on 32,000 tokens an example; its tokenizer is not
    # tiktoken's, so the count is the offline estimate, and the message says so.
    long = {
        "system": "Summarise.",
        "messages": [
            {"role": "user", "content": "word " * 30_000},
            {"role": "assistant", "content": "A summary."},
        ],
    }
    records = [*(claude(i) for i in range(40)), long]
    config = 'target = "bedrock"\nmodel = "anthropic.claude-3-haiku-20240307-v1:0"\n'
    path = tmp_path / "train.jsonl"
    path.write_text(jsonl(*records), "utf-8")
    (tmp_path / "finetune.toml").write_text(config, "utf-8")
    result = lint(path, Settings(overrides={"select": ["FT601"]}), display_path="train.jsonl")
    assert [f.render() for f in result.outcomes["FT601"].sorted_findings()] == [
        "train.jsonl:41: FT601 This example has about 37,510 tokens (estimated at 4 characters "
        "a token: the tokenizer of anthropic.claude-3-haiku-20240307-v1:0 is not tiktoken's); "
        "anthropic.claude-3-haiku-20240307-v1:0 trains on at most 32,000 and cuts the rest "
        "silently; shorten or split it"
    ]


# -- severities --------------------------------------------------------------------------


def test_legacy_completion_conventions_are_off_for_open_source_trainers(tmp_path):
    # No separator, no leading space, no stop sequence: what OpenAI's completion models
    # needed, and what a chat template makes irrelevant.
    labels = ("shipping", "billing", "account")
    records = [pc(f"Ticket {i}: where is my order?", labels[i % 3]) for i in range(12)]
    (tmp_path / "finetune.toml").write_text('target = "trl"\n', "utf-8")
    trl = {check.code for check in Settings().for_file(tmp_path / "a.jsonl").checks}
    assert not trl & {"FT110", "FT111", "FT120", "FT130", "FT131"}
    path = tmp_path / "train.jsonl"
    path.write_text(jsonl(*records), "utf-8")
    result = lint(path, Settings(), display_path="train.jsonl")
    assert not any(
        result.outcomes[code].count for code in result.outcomes if code.startswith("FT1")
    )
    (tmp_path / "finetune.toml").write_text("", "utf-8")
    result = lint(path, Settings(), display_path="train.jsonl")
    assert result.outcomes["FT120"].count == 12


def test_selecting_a_check_the_target_turns_off_runs_it(tmp_path):
    (tmp_path / "finetune.toml").write_text('target = "trl"\nextend-select = ["FT120"]\n', "utf-8")
    assert "FT120" in {check.code for check in Settings().for_file(tmp_path / "a.jsonl").checks}


def test_together_rejects_roles_that_do_not_alternate(tmp_path):
    (tmp_path / "finetune.toml").write_text('target = "together"\n', "utf-8")
    assert Settings().for_file(tmp_path / "a.jsonl").severities["FT222"].name == "ERROR"
    (tmp_path / "finetune.toml").write_text("", "utf-8")
    assert Settings().for_file(tmp_path / "a.jsonl").severities["FT222"].name == "WARNING"


def test_the_users_severity_wins_over_the_targets(tmp_path):
    config = 'target = "together"\n[checks.FT222]\nseverity = "info"\n'
    (tmp_path / "finetune.toml").write_text(config, "utf-8")
    assert Settings().for_file(tmp_path / "a.jsonl").severities["FT222"].name == "INFO"


def test_azure_accepts_the_byte_order_mark_it_asks_for(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + jsonl(*CHAT).encode())
    (tmp_path / "finetune.toml").write_text('target = "azure"\n', "utf-8")
    result = lint(path, Settings(), display_path="train.jsonl")
    assert "FT009" not in result.outcomes
    (tmp_path / "finetune.toml").write_text("", "utf-8")
    result = lint(path, Settings(), display_path="train.jsonl")
    assert [f.line for f in result.outcomes["FT009"].findings] == [1]


def test_openai_is_the_default_and_changes_nothing(tmp_path):
    (tmp_path / "finetune.toml").write_text("", "utf-8")
    default = Settings().for_file(tmp_path / "a.jsonl")
    (tmp_path / "finetune.toml").write_text('target = "openai"\n', "utf-8")
    explicit = Settings().for_file(tmp_path / "a.jsonl")
    assert default.target is explicit.target is TARGETS["openai"]
    assert [c.code for c in default.checks] == [c.code for c in explicit.checks]
    assert default.severities == explicit.severities
    assert default.options == explicit.options


def test_preference_data_keeps_its_limits_on_the_default_target(tmp_path):
    records = [pair(f"Capital of France? ({i})", "Paris.", "Lyon.") for i in range(12)]
    assert findings(tmp_path, records, "", "FT603") == []
    assert findings(tmp_path, intents(12), "", "FT603") == []


# -- roles -------------------------------------------------------------------------------


def tool_turn(i: int) -> dict[str, object]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "track", "arguments": '{"id": "1"}'},
    }
    return {
        "messages": [
            {"role": "user", "content": f"Where is parcel {i}?"},
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "in transit"},
            {"role": "assistant", "content": "On its way."},
        ]
    }


def test_together_refuses_tool_messages_on_their_lines(tmp_path):
    records = [*CHAT[:2], tool_turn(2), CHAT[3]]
    assert findings(tmp_path, records, 'target = "together"\n', "FT605") == [
        "train.jsonl:3: FT605 Together AI does not take the role 'tool'; it takes assistant, "
        "system, user"
    ]


def test_fireworks_and_openai_take_tool_messages(tmp_path):
    records = [*CHAT[:2], tool_turn(2)]
    assert findings(tmp_path, records, 'target = "fireworks"\n', "FT605") == []
    assert findings(tmp_path, records, "", "FT605") == []


def test_roles_of_preference_pairs_are_checked_too(tmp_path):
    record = pair("Capital of France?", "Paris.", "Lyon.")
    record["input"]["messages"].insert(0, {"role": "developer", "content": "Be brief."})
    assert findings(tmp_path, [record], 'target = "together"\n', "FT605") == [
        "train.jsonl:1: FT605 Together AI does not take the role 'developer'; it takes "
        "assistant, system, user"
    ]


# -- end to end ----------------------------------------------------------------------------


def test_check_command_takes_a_target(tmp_path, capsys):
    path = tmp_path / "train.jsonl"
    path.write_text(jsonl(*ALPACA), "utf-8")
    assert main(["check", "--select", "FT603", str(path)]) == 1
    assert "which fine-tuning does not accept" in capsys.readouterr().out
    assert main(["check", "--select", "FT603", "--target", "trl", str(path)]) == 0
    assert main(["check", "--target", "vertx", str(path)]) == 2
    assert "did you mean 'vertex'?" in capsys.readouterr().err


def test_a_model_the_configured_target_cannot_train_stops_pytest(lint):
    run = lint(
        {"data/train.jsonl": jsonl(*CHAT)},
        "--finetune-target=openai",
        "--finetune-model=gemini-2.5-flash",
    )
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert run.result.stderr.lines[0] == (
        "ERROR: command line: target: target 'openai' cannot train 'gemini-2.5-flash', a Gemini "
        "model (Vertex AI): set target = 'vertex', or a model that OpenAI fine-tunes"
    )


def test_a_models_own_formats_do_not_overrule_the_targets(tmp_path):
    # The model table lists OpenAI-style formats for Llama; TRL trains it on Alpaca data.
    config = 'model = "meta-llama/Meta-Llama-3.1-8B-Instruct"\n'
    assert findings(tmp_path, ALPACA, config, "FT603") == []


def test_a_tiktoken_count_standing_in_for_another_tokenizer_is_an_estimate(tmp_path):
    # Together's Llama is counted with cl100k_base, which is close to Llama 3's
    # vocabulary but not it: the count is said to be an estimate.
    long = chat(user("word " * 140_000), assistant("A summary."))
    config = 'target = "together"\nmodel = "meta-llama/Meta-Llama-3.1-8B-Instruct"\n'
    [finding] = findings(tmp_path, [*CHAT, long], config, "FT601")
    assert finding.startswith(
        "train.jsonl:13: FT601 This example has about 140,"
    ) and finding.endswith(
        "tokens (estimated with cl100k_base: the tokenizer of "
        "meta-llama/Meta-Llama-3.1-8B-Instruct is not tiktoken's); "
        "meta-llama/Meta-Llama-3.1-8B-Instruct trains on at most 131,072 and cuts the rest "
        "silently; shorten or split it"
    )
