"""prepare --to converts between formats, and never drops what it cannot map without saying so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REAL
from helpers import jsonl

from pytest_finetune.cli import main
from pytest_finetune.conversions import to_openai
from pytest_finetune.formats import Format, detect


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder, the working folder of the test."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def prepare(*args: str) -> int:
    return main(["prepare", *args])


def records(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text("utf-8").splitlines()]


def real(name: str) -> str:
    shutil.copy(REAL / name, name)
    return name


def test_alpaca_is_converted_to_chat_instead_of_refused(project, capsys):
    name = real("llamafactory__identity_excerpt.json")
    assert prepare(name, "--no-split") == 0
    written = records("llamafactory__identity_excerpt_prepared.jsonl")
    upstream = json.loads(Path(name).read_text("utf-8"))
    assert written == [to_openai(Format.ALPACA, data).data for data in upstream]
    assert written[0] == {
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": "Hello! I am {{name}}, an AI assistant developed by {{author}}. "
                "How can I assist you today?",
            },
        ]
    }
    out = capsys.readouterr().out
    assert out.startswith(
        f"{name}: JSON, 15 examples, Alpaca (instruction/input/output) data\n\n"
        "Conversion:\n  to chat (messages): 15 examples converted\n"
    )


def test_llama_factory_preference_is_described_as_such_and_becomes_openai_preference(
    project, capsys
):
    name = real("llamafactory__dpo_en_demo_excerpt.json")
    assert prepare(name, "--dry-run") == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "ShareGPT preference (conversations with chosen/rejected turns) data" in first
    assert "transcripts" not in out
    assert "to preference (input/preferred_output/non_preferred_output): 6 examples" in out
    assert sorted(Path().iterdir()) == [Path(name)]  # a dry run writes nothing


def test_what_cannot_be_mapped_stops_prepare_with_file_line_and_place(project, capsys):
    # The third element of this excerpt (line 36) has an observation after a gpt turn.
    name = real("llamafactory__glaive_toolcall_zh_demo_excerpt.json")
    assert prepare(name) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"pytest-finetune prepare: {name}: 1 example holds what chat (messages) data "
        "cannot hold; nothing was written. Correct it, or run again with --drop-unmappable "
        "to leave it out\n"
        f"  {name}:36: conversations[2]: an observation turn without a function_call "
        "before it: chat has no tool role without a tool call id\n"
    )
    assert sorted(Path().iterdir()) == [Path(name)]


def test_drop_unmappable_leaves_those_examples_out_and_lists_them(project, capsys):
    name = real("llamafactory__glaive_toolcall_zh_demo_excerpt.json")
    assert prepare(name, "--drop-unmappable", "--no-split") == 0
    written = records("llamafactory__glaive_toolcall_zh_demo_excerpt_prepared.jsonl")
    upstream = json.loads(Path(name).read_text("utf-8"))
    assert written == [
        to_openai(Format.SHAREGPT, data).data for index, data in enumerate(upstream) if index != 2
    ]
    out = capsys.readouterr().out
    assert (
        "  to chat (messages): 3 examples converted\n"
        "  1 example left out, holding what chat (messages) data cannot hold:\n"
        f"    {name}:36: conversations[2]: an observation turn" in out
    )


def test_a_dry_run_shows_what_a_real_run_would_refuse(project, capsys):
    name = real("llamafactory__glaive_toolcall_zh_demo_excerpt.json")
    assert prepare(name, "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"{name}:36: conversations[2]" in out
    assert (
        "A real run would stop here: 1 example cannot be converted; --drop-unmappable "
        "leaves it out" in out
    )


@pytest.mark.parametrize("fmt", ["gemini", "nova", "sharegpt"])
def test_tool_calls_survive_the_trip_to_gemini_and_nova(project, fmt):
    name = real("llamafactory__glaive_toolcall_en_demo_excerpt.json")
    assert prepare(name, "--to", fmt, "--no-split") == 0
    written = records("llamafactory__glaive_toolcall_en_demo_excerpt_prepared.jsonl")
    assert {detect(data) for data in written} == {Format(fmt)}
    upstream = json.loads(Path(name).read_text("utf-8"))
    for back, data in zip(written, upstream, strict=True):
        chat = to_openai(Format.SHAREGPT, data).data
        if chat["tools"] == [] and fmt != "sharegpt":
            del chat["tools"]
        assert to_openai(Format(fmt), back).data == chat


def test_chat_to_bedrock_claude_refuses_tool_calls_and_keeps_text_turns(project, capsys):
    name = real("llamafactory__glaive_toolcall_en_demo_excerpt.json")
    assert prepare(name, "--to", "claude", "--drop-unmappable", "--no-split") == 0
    written = records("llamafactory__glaive_toolcall_en_demo_excerpt_prepared.jsonl")
    assert len(written) == 5  # the three with tool calls are left out
    assert all(set(data) == {"messages"} for data in written)
    assert "3 examples left out" in capsys.readouterr().out


def test_hh_rlhf_transcripts_become_preference_pairs_with_the_prompt_split_off(project):
    Path("hh.jsonl").write_text(
        jsonl(
            {
                "chosen": "\n\nHuman: Can you help me bake bread?\n\nAssistant: Of course.",
                "rejected": "\n\nHuman: Can you help me bake bread?\n\nAssistant: No.",
            }
        ),
        "utf-8",
    )
    assert prepare("hh.jsonl", "--no-split") == 0
    assert records("hh_prepared.jsonl") == [
        {
            "input": {"messages": [{"role": "user", "content": "Can you help me bake bread?"}]},
            "preferred_output": [{"role": "assistant", "content": "Of course."}],
            "non_preferred_output": [{"role": "assistant", "content": "No."}],
        }
    ]


def test_chat_to_trl_in_both_styles(project):
    chat = {
        "messages": [
            {"role": "user", "content": "The sky is"},
            {"role": "assistant", "content": " blue."},
        ]
    }
    Path("chat.jsonl").write_text(jsonl(chat), "utf-8")
    assert prepare("chat.jsonl", "--to", "prompt_completion", "--no-split") == 0
    assert records("chat_prepared.jsonl") == [
        {"prompt": [chat["messages"][0]], "completion": [chat["messages"][1]]}
    ]
    Path("chat_prepared.jsonl").unlink()
    assert prepare("chat.jsonl", "--to", "unpaired_preference", "--style", "standard") == 0
    assert records("chat_prepared.jsonl") == [
        {"prompt": "The sky is", "completion": " blue.", "label": True}
    ]


def test_preference_to_chat_loses_the_rejected_answer_so_it_says_so(project, capsys):
    shutil.copy(REAL / "msfoundry__orca_dpo_pairs_validation.jsonl", "pairs.jsonl")
    assert prepare("pairs.jsonl", "--to", "chat") == 1
    err = capsys.readouterr().err
    assert "284 examples hold what chat (messages) data cannot hold" in err
    assert (
        "pairs.jsonl:1: non_preferred_output (of the example as OpenAI preference data): "
        "the non-preferred answer" in err
    )
    assert "... and 264 more" in err


def test_an_unknown_format_is_a_usage_error(project, capsys):
    Path("a.jsonl").write_text(jsonl({"messages": []}), "utf-8")
    with pytest.raises(SystemExit) as raised:
        prepare("a.jsonl", "--to", "vertex")
    assert raised.value.code == 2
    assert "invalid choice: 'vertex'" in capsys.readouterr().err


def test_data_for_another_trainer_is_not_priced_as_openai_data(project, capsys):
    name = real("llamafactory__glaive_toolcall_en_demo_excerpt.json")
    assert prepare(name, "--to", "gemini", "--dry-run") == 0
    out = capsys.readouterr().out
    assert (
        "OpenAI (the configured target) does not fine-tune on Gemini (contents with parts, "
        'systemInstruction) data: set target = "vertex" so that pytest lints the files as '
        "their trainer takes them" in out
    )
    assert "2. Train on the file with Vertex AI's supervised tuning" in out
    assert "backend" not in out


# -- without --to: what the configured target takes -------------------------------------


def configure(target: str) -> None:
    Path("pyproject.toml").write_text(f'[tool.pytest_finetune]\ntarget = "{target}"\n', "utf-8")


def test_chat_for_vertex_is_written_as_gemini(project, capsys):
    configure("vertex")
    name = real("openai-cookbook__toy_chat_fine_tuning.jsonl")
    assert prepare(name, "--no-split") == 0
    written = records("openai-cookbook__toy_chat_fine_tuning_prepared.jsonl")
    assert {detect(data) for data in written} == {Format.GEMINI}
    assert "to Gemini (contents with parts, systemInstruction): 5 examples converted" in (
        capsys.readouterr().out
    )


def test_alpaca_for_bedrock_is_written_as_nova_and_as_it_is_for_open_source_trainers(
    project, capsys
):
    name = real("llamafactory__identity_excerpt.json")
    assert prepare(name, "--no-split", "--target", "bedrock") == 0
    written = records("llamafactory__identity_excerpt_prepared.jsonl")
    assert {detect(data) for data in written} == {Format.NOVA}
    assert written[0] == {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [],
        "messages": [
            {"role": "user", "content": [{"text": "hi"}]},
            {
                "role": "assistant",
                "content": [
                    {
                        "text": "Hello! I am {{name}}, an AI assistant developed by {{author}}. "
                        "How can I assist you today?"
                    }
                ],
            },
        ],
    }
    Path("llamafactory__identity_excerpt_prepared.jsonl").unlink()
    capsys.readouterr()
    assert prepare(name, "--no-split", "--target", "trl") == 0
    assert "Conversion" not in capsys.readouterr().out
    upstream = json.loads(Path(name).read_text("utf-8"))
    assert records("llamafactory__identity_excerpt_prepared.jsonl") == upstream


def test_data_a_target_cannot_take_in_any_form_is_written_as_it_is_and_said(project, capsys):
    configure("bedrock")
    Path("pairs.jsonl").write_text(
        jsonl(
            {
                "input": {"messages": [{"role": "user", "content": "Q"}]},
                "preferred_output": [{"role": "assistant", "content": "A"}],
                "non_preferred_output": [{"role": "assistant", "content": "B"}],
            }
        ),
        "utf-8",
    )
    assert prepare("pairs.jsonl") == 0
    assert (
        "Amazon Bedrock does not fine-tune on preference "
        "(input/preferred_output/non_preferred_output) data, and it converts to nothing "
        "Amazon Bedrock takes; written as it is" in capsys.readouterr().out
    )


def test_to_wins_over_the_target(project):
    configure("vertex")
    name = real("llamafactory__identity_excerpt.json")
    assert prepare(name, "--no-split", "--to", "sharegpt") == 0
    written = records("llamafactory__identity_excerpt_prepared.jsonl")
    assert {detect(data) for data in written} == {Format.SHAREGPT}
