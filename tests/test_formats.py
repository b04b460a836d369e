"""Format detection names what a record is, supported or not."""

from __future__ import annotations

import pytest

from pytest_finetune.formats import Format, Record, closest_format, detect, detect_file, texts


@pytest.mark.parametrize(
    ("record", "fmt"),
    [
        ({"prompt": "a", "completion": "b"}, Format.PROMPT_COMPLETION),
        ({"Prompt": "a", "COMPLETION": "b"}, Format.PROMPT_COMPLETION),
        ({"completion": "b"}, Format.PROMPT_COMPLETION),
        ({"messages": []}, Format.CHAT),
        (
            {"input": {"messages": []}, "preferred_output": [], "non_preferred_output": []},
            Format.PREFERENCE,
        ),
        ({"input": {}, "preferred_completion": []}, Format.PREFERENCE),
        ({"instruction": "a", "input": "", "output": "b"}, Format.ALPACA),
        ({"conversations": [{"from": "human", "value": "hi"}]}, Format.SHAREGPT),
        ({"chosen": "H: a A: b", "rejected": "H: a A: c"}, Format.TRANSCRIPTS),
        ({"prompt": "a", "chosen": "b", "rejected": "c"}, Format.TRL_PREFERENCE),
        ({"text": "raw"}, Format.TEXT),
        ({"question": "a", "answer": "b"}, Format.UNKNOWN),
    ],
)
def test_detect(record, fmt):
    assert detect(record) is fmt


def test_a_file_is_the_format_of_most_of_its_first_records():
    chat = {"messages": []}
    pc = {"prompt": "a", "completion": "b"}
    assert detect_file([chat, pc, pc]) is Format.PROMPT_COMPLETION
    assert detect_file([]) is Format.UNKNOWN


def test_closest_format_suggests_renames():
    assert closest_format(["prompts", "completions"]) == (
        Format.PROMPT_COMPLETION,
        ["completions -> completion", "prompts -> prompt"],
    )
    assert closest_format(["foo", "bar"]) == (Format.UNKNOWN, [])


def test_texts_reach_every_string_a_model_reads():
    data = {
        "input": {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
        "preferred_output": [{"role": "assistant", "content": "yes"}],
        "non_preferred_output": [{"role": "assistant", "content": "no"}],
    }
    record = Record(1, b"", data, Format.PREFERENCE)
    assert list(texts(record)) == [
        ("input.messages[0].content[0].text", "hi"),
        ("preferred_output[0].content", "yes"),
        ("non_preferred_output[0].content", "no"),
    ]
