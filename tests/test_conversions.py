"""Records of every format read as OpenAI data, and what cannot be mapped is named."""

from __future__ import annotations

import json

import pytest

from pytest_finetune.conversions import (
    READABLE,
    WRITABLE,
    Style,
    Unmappable,
    from_openai,
    to_openai,
)
from pytest_finetune.formats import Format, detect


def read(data):
    """The record as OpenAI data, through the format detect() gives it."""
    return to_openai(detect(data), data)


def test_every_format_but_plain_text_is_read_and_written():
    formats = set(Format) - {Format.UNKNOWN}
    assert formats - READABLE == {Format.TEXT}
    assert formats - WRITABLE == {Format.TEXT}
    with pytest.raises(ValueError, match="not converted"):
        to_openai(Format.TEXT, {"text": "raw"})


# -- Alpaca -----------------------------------------------------------------------------


def test_alpaca_instruction_and_input_are_one_user_turn_as_llama_factory_joins_them():
    converted = read(
        {
            "instruction": "Translate to French.",
            "input": "Good morning",
            "output": "Bonjour",
            "system": "You translate.",
            "history": [["Hi", "Hello! What shall I translate?"]],
        }
    )
    assert converted.format is Format.CHAT
    assert converted.unmappable == ()
    assert converted.data == {
        "messages": [
            {"role": "system", "content": "You translate."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello! What shall I translate?"},
            {"role": "user", "content": "Translate to French.\nGood morning"},
            {"role": "assistant", "content": "Bonjour"},
        ]
    }


def test_alpaca_with_an_empty_input_is_the_instruction_alone():
    converted = read({"instruction": "Who are you?", "input": "", "output": "I am a model."})
    assert converted.data["messages"] == [
        {"role": "user", "content": "Who are you?"},
        {"role": "assistant", "content": "I am a model."},
    ]


def test_alpaca_malformed_parts_are_left_out_and_named():
    converted = read(
        {"instruction": "Q", "output": 3, "history": [["only one"], ["a", "b"]], "id": 7}
    )
    assert converted.data == {
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {"role": "user", "content": "Q"},
        ],
        "id": 7,  # a key no format reads travels with the record
    }
    assert converted.unmappable == (
        Unmappable("history[0]", "not a [prompt, response] pair of strings"),
        Unmappable("output", "the output is a number, not a string"),
    )


# -- ShareGPT ---------------------------------------------------------------------------

TOOLS = (
    '[{"name": "calculate_area", "description": "Area of a shape", "parameters": '
    '{"type": "object", "properties": {"shape": {"type": "string"}}}}]'
)


def test_sharegpt_function_calls_and_observations_become_tool_calls_and_results():
    converted = read(
        {
            "conversations": [
                {"from": "human", "value": "Area of a 5 by 3 rectangle?"},
                {
                    "from": "function_call",
                    "value": '{"name": "calculate_area", "arguments": {"shape": "rectangle"}}',
                },
                {"from": "observation", "value": '{"area": 15}'},
                {"from": "gpt", "value": "15 square units."},
            ],
            "system": "Be brief.",
            "tools": TOOLS,
        }
    )
    assert converted.unmappable == ()
    assert converted.data == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Area of a 5 by 3 rectangle?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call_0",
                        "type": "function",
                        "function": {
                            "name": "calculate_area",
                            "arguments": '{"shape": "rectangle"}',
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_0", "content": '{"area": 15}'},
            {"role": "assistant", "content": "15 square units."},
        ],
        "tools": [{"type": "function", "function": json.loads(TOOLS)[0]}],
    }


def test_an_observation_without_a_call_before_it_is_unmappable():
    # As in LLaMA-Factory's glaive_toolcall_zh_demo.json, where a gpt turn precedes it.
    converted = read(
        {
            "conversations": [
                {"from": "human", "value": "Discount on 200 at 20%?"},
                {"from": "gpt", "value": "Let me compute that."},
                {"from": "observation", "value": '{"discounted_price": 160}'},
                {"from": "gpt", "value": "160."},
            ]
        }
    )
    assert [m["role"] for m in converted.data["messages"]] == ["user", "assistant", "assistant"]
    assert converted.unmappable == (
        Unmappable(
            "conversations[2]",
            "an observation turn without a function_call before it: chat has no tool role "
            "without a tool call id",
        ),
    )


def test_sharegpt_images_and_unknown_speakers_are_unmappable():
    converted = read(
        {
            "conversations": [
                {"from": "human", "value": "<image>What is this?"},
                {"from": "narrator", "value": "..."},
                {"from": "gpt", "value": "A cat."},
            ],
            "images": ["mllm_demo_data/1.jpg"],
        }
    )
    assert [u.where for u in converted.unmappable] == ["conversations[1].from", "images"]
    assert "images" not in converted.data


def test_llama_factory_preference_keeps_the_prompt_and_one_answer_each():
    converted = read(
        {
            "conversations": [{"from": "human", "value": "Name a prime."}],
            "chosen": {"from": "gpt", "value": "7"},
            "rejected": {"from": "gpt", "value": "8"},
        }
    )
    assert converted.format is Format.PREFERENCE
    assert converted.data == {
        "input": {"messages": [{"role": "user", "content": "Name a prime."}]},
        "preferred_output": [{"role": "assistant", "content": "7"}],
        "non_preferred_output": [{"role": "assistant", "content": "8"}],
    }


# -- chosen/rejected transcripts (hh-rlhf, TRL implicit prompt) ---------------------------


def test_hh_rlhf_transcripts_split_off_the_shared_prompt():
    converted = read(
        {
            "chosen": "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: A joke?\n\nAssistant: Knock knock.",
            "rejected": "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: A joke?\n\nAssistant: No.",
        }
    )
    assert converted.format is Format.PREFERENCE
    assert converted.style is Style.DEFAULT
    assert converted.unmappable == ()
    assert converted.data == {
        "input": {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."},
                {"role": "user", "content": "A joke?"},
            ]
        },
        "preferred_output": [{"role": "assistant", "content": "Knock knock."}],
        "non_preferred_output": [{"role": "assistant", "content": "No."}],
    }


def test_transcripts_that_differ_before_the_last_answer_are_unmappable():
    converted = read(
        {
            "chosen": "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: Bye\n\nAssistant: Bye!",
            "rejected": "\n\nHuman: Hi\n\nAssistant: Go away.\n\nHuman: Bye\n\nAssistant: Bye!",
        }
    )
    assert [u.where for u in converted.unmappable] == ["chosen", "rejected"]
    assert "differ before their last assistant turn" in converted.unmappable[0].reason


def test_trl_implicit_prompt_standard_gives_the_space_to_the_answers():
    converted = read({"chosen": "The sky is blue.", "rejected": "The sky is green."})
    assert converted.style is Style.STANDARD
    assert converted.data == {
        "input": {"messages": [{"role": "user", "content": "The sky is"}]},
        "preferred_output": [{"role": "assistant", "content": " blue."}],
        "non_preferred_output": [{"role": "assistant", "content": " green."}],
    }


def test_trl_implicit_prompt_conversational_shares_the_leading_messages():
    question = {"role": "user", "content": "What color is the sky?"}
    converted = read(
        {
            "chosen": [question, {"role": "assistant", "content": "It is blue."}],
            "rejected": [question, {"role": "assistant", "content": "It is green."}],
        }
    )
    assert converted.style is Style.CONVERSATIONAL
    assert converted.data["input"] == {"messages": [question]}
    assert converted.data["preferred_output"] == [{"role": "assistant", "content": "It is blue."}]


def test_llama_factory_alpaca_preference_is_read_as_a_pair():
    converted = read({"instruction": "Q", "input": "ctx", "chosen": "good", "rejected": "bad"})
    assert converted.data == {
        "input": {"messages": [{"role": "user", "content": "Q\nctx"}]},
        "preferred_output": [{"role": "assistant", "content": "good"}],
        "non_preferred_output": [{"role": "assistant", "content": "bad"}],
    }


# -- TRL ------------------------------------------------------------------------------------


def test_trl_standard_preference_is_a_user_prompt_and_two_answers():
    converted = read({"prompt": "The sky is", "chosen": " blue.", "rejected": " green."})
    assert converted.style is Style.STANDARD
    assert converted.data == {
        "input": {"messages": [{"role": "user", "content": "The sky is"}]},
        "preferred_output": [{"role": "assistant", "content": " blue."}],
        "non_preferred_output": [{"role": "assistant", "content": " green."}],
    }


def test_trl_conversational_prompt_completion_is_chat():
    converted = read(
        {
            "prompt": [{"role": "user", "content": "What color is the sky?"}],
            "completion": [{"role": "assistant", "content": "It is blue."}],
        }
    )
    assert converted.format is Format.CHAT
    assert converted.data == {
        "messages": [
            {"role": "user", "content": "What color is the sky?"},
            {"role": "assistant", "content": "It is blue."},
        ]
    }


def test_string_prompt_completion_is_given_back_as_it_is():
    data = {"prompt": "2+2 ->", "completion": " 4\n"}
    converted = read(data)
    assert converted.format is Format.PROMPT_COMPLETION
    assert converted.data is data


def test_an_undesirable_unpaired_example_is_unmappable_a_desirable_one_is_chat():
    good = read({"prompt": "The sky is", "completion": " blue.", "label": True})
    assert good.format is Format.CHAT
    assert good.unmappable == ()
    assert good.data["messages"][1] == {"role": "assistant", "content": " blue."}
    bad = read({"prompt": "The sky is", "completion": " green.", "label": False})
    assert [u.where for u in bad.unmappable] == ["label"]
    assert "no undesirable example" in bad.unmappable[0].reason


# -- Gemini -------------------------------------------------------------------------------


def test_gemini_function_calls_and_responses_pair_by_name():
    converted = read(
        {
            "systemInstruction": {"role": "system", "parts": [{"text": "Find products."}]},
            "contents": [
                {"role": "user", "parts": [{"text": "Pixel 8 Pro in stock?"}]},
                {
                    "role": "model",
                    "parts": [{"functionCall": {"name": "get_sku", "args": {"product": "Pixel"}}}],
                },
                {
                    "role": "user",
                    "parts": [{"functionResponse": {"name": "get_sku", "response": {"sku": 42}}}],
                },
                {"role": "model", "parts": [{"text": "Yes, "}, {"text": "SKU 42."}]},
            ],
            "tools": [{"functionDeclarations": [{"name": "get_sku", "description": "SKU"}]}],
        }
    )
    assert converted.unmappable == ()
    assert converted.data == {
        "messages": [
            {"role": "system", "content": "Find products."},
            {"role": "user", "content": "Pixel 8 Pro in stock?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call_0",
                        "type": "function",
                        "function": {"name": "get_sku", "arguments": '{"product": "Pixel"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_0", "content": '{"sku": 42}'},
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "Yes, "}, {"type": "text", "text": "SKU 42."}],
            },
        ],
        "tools": [{"type": "function", "function": {"name": "get_sku", "description": "SKU"}}],
    }


def test_gemini_unmatched_responses_and_media_are_unmappable():
    converted = read(
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/cat.png"}},
                        {"text": "What is this?"},
                    ],
                },
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
                {"role": "model", "parts": [{"text": "A cat."}]},
            ]
        }
    )
    assert [u.where for u in converted.unmappable] == [
        "contents[0].parts[0]",
        "contents[1].parts[0]",
    ]
    assert "without a matching functionCall" in converted.unmappable[1].reason
    assert converted.data["messages"] == [
        {"role": "user", "content": "What is this?"},
        {"role": "assistant", "content": "A cat."},
    ]


def test_gemini_inline_images_are_image_url_data_urls():
    converted = read(
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": "What is this?"},
                        {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
                    ],
                },
                {"role": "model", "parts": [{"text": "A cat."}]},
            ]
        }
    )
    assert converted.unmappable == ()
    assert converted.data["messages"][0] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
        ],
    }


# -- Bedrock: Claude and Nova -----------------------------------------------------------


def test_claude_system_string_becomes_the_first_message():
    converted = read(
        {
            "system": "Answer in JSON.",
            "messages": [
                {"role": "user", "content": "Capital of France?"},
                {"role": "assistant", "content": '{"capital": "Paris"}'},
            ],
        }
    )
    assert converted.data["messages"][0] == {"role": "system", "content": "Answer in JSON."}
    assert len(converted.data["messages"]) == 3


def test_claude_blocks_map_to_tool_calls_results_and_images():
    converted = read(
        {
            "system": "",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"},
                        },
                        {"type": "text", "text": "Weather here?"},
                    ],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "tu_1", "name": "weather", "input": {"c": "X"}}
                    ],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "Sun"}],
                },
                {"role": "assistant", "content": [{"type": "thinking", "thinking": "..."}]},
            ],
        }
    )
    assert converted.data["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
                {"type": "text", "text": "Weather here?"},
            ],
        },
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "tu_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"c": "X"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "tu_1", "content": "Sun"},
    ]
    assert converted.unmappable == (
        Unmappable("messages[3].content[0]", "a thinking block chat has no equivalent for here"),
    )


def test_nova_blocks_become_messages_and_media_and_reasoning_are_unmappable():
    converted = read(
        {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "You are a digital assistant."}],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"text": "What is in the picture?"},
                        {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/k"}}}},
                    ],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"reasoningContent": {"reasoningText": {"text": "Looks like..."}}},
                        {"text": "A cat."},
                    ],
                },
            ],
        }
    )
    assert converted.data == {
        "messages": [
            {"role": "system", "content": "You are a digital assistant."},
            {"role": "user", "content": "What is in the picture?"},
            {"role": "assistant", "content": "A cat."},
        ]
    }
    assert [u.where for u in converted.unmappable] == [
        "messages[0].content[1]",
        "messages[1].content[0]",
    ]


# -- never raises ---------------------------------------------------------------------------

ODD_VALUES = [None, 1, "x", [], {}, [None], [1, "a"], {"a": None}, True]


@pytest.mark.parametrize("fmt", sorted(READABLE - {Format.CHAT, Format.PREFERENCE}))
@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_malformed_records_are_read_without_raising(fmt, value):
    keys = {
        "instruction", "input", "output", "system", "history", "conversations", "tools",
        "chosen", "rejected", "prompt", "completion", "label", "contents",
        "systemInstruction", "messages", "schemaVersion", "toolConfig",
    }  # fmt: skip
    data = dict.fromkeys(keys, value)
    converted = to_openai(fmt, data)
    assert converted.format in {Format.CHAT, Format.PREFERENCE, Format.PROMPT_COMPLETION}
    json.dumps(converted.data)  # still JSON


@pytest.mark.parametrize("fmt", sorted(WRITABLE))
@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_malformed_openai_data_is_written_without_raising(fmt, value):
    for data in (
        {"messages": value, "tools": value},
        {"messages": [{"role": "assistant", "content": value, "tool_calls": value}]},
        {"input": value, "preferred_output": value, "non_preferred_output": value},
        {"input": {"messages": [value]}, "preferred_output": [value]},
        {"prompt": value, "completion": value},
    ):
        json.dumps(from_openai(fmt, data).data)
