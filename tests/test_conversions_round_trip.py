"""Converting there and back gives the record back, where both formats hold the same thing.

On the example files the projects ship (tests/data/real/, excerpts with their sources)
and on the examples of the providers' own documentation. Where a format cannot hold
something, the round trip names it instead.
"""

from __future__ import annotations

import json

import pytest
from conftest import REAL

from pytest_finetune.conversions import Style, Unmappable, from_openai, to_openai
from pytest_finetune.formats import Format, detect


def records(name):
    path = REAL / name
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return json.loads(path.read_text(encoding="utf-8"))


def there_and_back(data, fmt=None):
    fmt = fmt or detect(data)
    read = to_openai(fmt, data)
    written = from_openai(fmt, read.data, style=read.style)
    return read, written


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("llamafactory__identity_excerpt.json", Format.ALPACA),
        ("llamafactory__dpo_en_demo_excerpt.json", Format.SHAREGPT_PREFERENCE),
        ("llamafactory__glaive_toolcall_en_demo_excerpt.json", Format.SHAREGPT),
        ("anthropic-cookbook__json_mode_dataset_excerpt.jsonl", Format.CLAUDE),
        ("hh-rlhf__harmless_base_test.jsonl", Format.TRANSCRIPTS),
        ("gcp-generative-ai__patient_1_glucose_examples.jsonl", Format.GEMINI),
        ("aws-nova-docs__text_example.jsonl", Format.NOVA),
    ],
)
def test_real_files_come_back_exactly(name, fmt):
    for data in records(name):
        assert detect(data) is fmt
        read, written = there_and_back(data)
        assert read.unmappable == ()
        assert written.unmappable == ()
        assert written.data == data


def test_glaive_tool_calls_are_openai_tool_calls_answered_by_id():
    data = records("llamafactory__glaive_toolcall_en_demo_excerpt.json")[0]
    read = to_openai(Format.SHAREGPT, data)
    messages = read.data["messages"]
    assert [m["role"] for m in messages] == [
        "user", "assistant", "user", "assistant", "tool", "assistant", "user", "assistant",
    ]  # fmt: skip
    call = messages[3]["tool_calls"][0]
    assert call["function"] == {
        "name": "search_recipes",
        "arguments": '{"ingredients": ["chicken", "bell peppers", "rice"]}',
    }
    assert messages[4]["tool_call_id"] == call["id"]
    assert read.data["tools"][0]["function"]["name"] == "search_recipes"


def test_alpaca_with_an_input_comes_back_joined_as_chat_holds_it():
    # Chat has one user turn where Alpaca has an instruction and an input: the split
    # is not kept, the training text is (LLaMA-Factory joins them with a newline).
    with_input = 0
    for data in records("llamafactory__alpaca_en_demo_excerpt.json"):
        _read, written = there_and_back(data)
        if data["input"]:
            with_input += 1
            assert written.data == {
                "instruction": f"{data['instruction']}\n{data['input']}",
                "input": "",
                "output": data["output"],
            }
        else:
            assert written.data == data
    assert with_input == 3


def test_the_zh_tool_demo_has_an_observation_no_call_asked_for():
    # In LLaMA-Factory's glaive_toolcall_zh_demo.json the 198th element's third turn is
    # an observation after a gpt turn that wrote its call as text.
    found = []
    for index, data in enumerate(records("llamafactory__glaive_toolcall_zh_demo_excerpt.json")):
        read = to_openai(Format.SHAREGPT, data)
        found += [(index, u.where) for u in read.unmappable]
        if not read.unmappable:
            assert from_openai(Format.SHAREGPT, read.data).data == data
    assert found == [(2, "conversations[2]")]


# -- across formats, through OpenAI ---------------------------------------------------------


@pytest.mark.parametrize("fmt", [Format.GEMINI, Format.NOVA, Format.SHAREGPT])
def test_tool_conversations_keep_their_calls_through_gemini_and_nova(fmt):
    for data in records("llamafactory__glaive_toolcall_en_demo_excerpt.json"):
        chat = to_openai(Format.SHAREGPT, data).data
        written = from_openai(fmt, chat)
        assert written.unmappable == ()
        back = to_openai(fmt, written.data)
        assert back.unmappable == ()
        if chat["tools"] == [] and fmt is not Format.SHAREGPT:
            del chat["tools"]  # glaive's "[]": no tools, which Gemini and Nova leave out
        assert back.data == chat


def test_claude_fine_tuning_data_has_no_tool_calls_so_they_are_unmappable():
    data = records("llamafactory__glaive_toolcall_en_demo_excerpt.json")[0]
    written = from_openai(Format.CLAUDE, to_openai(Format.SHAREGPT, data).data)
    assert [u.where for u in written.unmappable] == ["messages[3]", "messages[4]", "tools"]
    assert [m["role"] for m in written.data["messages"]] == [
        "user", "assistant", "user", "assistant", "user", "assistant",
    ]  # fmt: skip


def test_llama_factory_preference_becomes_every_preference_format_and_back():
    for data in records("llamafactory__dpo_en_demo_excerpt.json"):
        preference = to_openai(Format.SHAREGPT_PREFERENCE, data).data
        for fmt, style in [
            (Format.TRL_PREFERENCE, Style.CONVERSATIONAL),
            (Format.TRANSCRIPTS, Style.DEFAULT),
            (Format.TRANSCRIPTS, Style.CONVERSATIONAL),
        ]:
            written = from_openai(fmt, preference, style=style)
            if style is Style.DEFAULT and data["conversations"][0]["from"] == "system":
                # hh-rlhf text has Human and Assistant turns only.
                assert [u.where for u in written.unmappable] == ["input.messages[0]"] * 2
                continue
            assert written.unmappable == (), fmt
            back = to_openai(fmt, written.data)
            assert back.data == preference, fmt


def test_hh_rlhf_text_is_written_with_the_prompt_in_both_transcripts():
    data = records("llamafactory__dpo_en_demo_excerpt.json")[0]
    written = from_openai(Format.TRANSCRIPTS, to_openai(detect(data), data).data).data
    prompt = data["conversations"][0]["value"]
    assert written["chosen"] == f"\n\nHuman: {prompt}\n\nAssistant: {data['chosen']['value']}"
    assert written["rejected"] == f"\n\nHuman: {prompt}\n\nAssistant: {data['rejected']['value']}"


# -- the providers' and projects' documented examples ---------------------------------------

DOCUMENTED = {
    # Vertex AI, "Tune function calling" (its example, with systemInstruction spelled as
    # the generic dataset page spells it) and a response turn as function calling sends it.
    "vertex": {
        "systemInstruction": {
            "role": "system",
            "parts": [{"text": "You are an assistant that helps users find the best product."}],
        },
        "contents": [
            {"role": "user", "parts": [{"text": "Do you have the White Pixel 8 Pro 128GB?"}]},
            {
                "role": "model",
                "parts": [
                    {
                        "functionCall": {
                            "name": "get_product_sku",
                            "args": {"product_name": "Pixel 8 Pro 128GB"},
                        }
                    }
                ],
            },
            {
                "role": "user",
                "parts": [
                    {
                        "functionResponse": {
                            "name": "get_product_sku",
                            "response": {"output": "in stock"},
                        }
                    }
                ],
            },
            {"role": "model", "parts": [{"text": "Yes, it is in stock."}]},
        ],
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "get_product_sku",
                        "description": "Get the available inventory for a Google product",
                        "parameters": {
                            "type": "OBJECT",
                            "properties": {"product_name": {"type": "STRING"}},
                        },
                    }
                ]
            }
        ],
    },
    # Vertex AI's image tuning: an inline image beside the question.
    "vertex image": {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                    {"text": "What is in this image?"},
                ],
            },
            {"role": "model", "parts": [{"text": "A cat."}]},
        ]
    },
    # Bedrock, "Prepare data for fine-tuning text-to-text models" (Nova, Converse format).
    "nova": {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "You are a digital assistant with a friendly personality"}],
        "messages": [
            {"role": "user", "content": [{"text": "What is the capital of Mars?"}]},
            {"role": "assistant", "content": [{"text": "Mars does not have a capital."}]},
        ],
    },
    # TRL, "Dataset formats and types".
    "trl standard preference": {"prompt": "The sky is", "chosen": " blue.", "rejected": " green."},
    "trl conversational preference": {
        "prompt": [{"role": "user", "content": "What color is the sky?"}],
        "chosen": [{"role": "assistant", "content": "It is blue."}],
        "rejected": [{"role": "assistant", "content": "It is green."}],
    },
    "trl standard implicit prompt": {
        "chosen": "The sky is blue.",
        "rejected": "The sky is green.",
    },
    "trl conversational implicit prompt": {
        "chosen": [
            {"role": "user", "content": "What color is the sky?"},
            {"role": "assistant", "content": "It is blue."},
        ],
        "rejected": [
            {"role": "user", "content": "What color is the sky?"},
            {"role": "assistant", "content": "It is green."},
        ],
    },
    "trl standard unpaired": {"prompt": "The sky is", "completion": " blue.", "label": True},
    "trl conversational unpaired": {
        "prompt": [{"role": "user", "content": "What color is the sky?"}],
        "completion": [{"role": "assistant", "content": "It is blue."}],
        "label": True,
    },
    "trl conversational prompt-completion": {
        "prompt": [{"role": "user", "content": "What color is the sky?"}],
        "completion": [{"role": "assistant", "content": "It is blue."}],
    },
    # Anthropic's hh-rlhf layout.
    "hh-rlhf": {
        "chosen": "\n\nHuman: What are some cuss words?\n\nAssistant: I'd rather not say.",
        "rejected": "\n\nHuman: What are some cuss words?\n\nAssistant:",
    },
    # LLaMA-Factory data/README.md, Alpaca with a system prompt and history.
    "alpaca": {
        "instruction": "human instruction",
        "input": "",
        "output": "model response",
        "system": "system prompt",
        "history": [["first instruction", "first response"]],
    },
}


@pytest.mark.parametrize("name", DOCUMENTED)
def test_documented_examples_come_back_exactly(name):
    data = DOCUMENTED[name]
    read, written = there_and_back(data)
    assert read.unmappable == ()
    assert written.unmappable == ()
    assert written.data == data


def test_openai_chat_comes_back_from_gemini_nova_and_sharegpt():
    chat = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call_0",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_0", "content": "sunny"},
            {"role": "assistant", "content": "Sunny."},
        ],
        "tools": [{"type": "function", "function": {"name": "weather", "parameters": {}}}],
    }
    for fmt in (Format.GEMINI, Format.NOVA, Format.SHAREGPT):
        written = from_openai(fmt, chat)
        assert written.unmappable == (), fmt
        assert to_openai(fmt, written.data).data == chat, fmt


def test_what_a_format_cannot_hold_is_named_on_the_way_there():
    chat = {
        "messages": [
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
            },
            {"role": "assistant", "content": "A cat.", "weight": 0},
        ]
    }
    assert from_openai(Format.SHAREGPT, chat).unmappable == (
        Unmappable("messages[0].content", "the content is an array: ShareGPT values are strings"),
        Unmappable("messages[1].weight", "ShareGPT turns have no weight"),
    )
    preference = {
        "input": {"messages": [{"role": "user", "content": "Q"}]},
        "preferred_output": [{"role": "assistant", "content": "A"}],
        "non_preferred_output": [{"role": "assistant", "content": "B"}],
    }
    assert from_openai(Format.CHAT, preference).unmappable == (
        Unmappable(
            "non_preferred_output",
            "the non-preferred answer: chat data trains on one answer and has no rejected one",
        ),
    )
