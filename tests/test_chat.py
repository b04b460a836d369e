"""Chat checks (FT2xx): valid data passes untouched, and each problem is found on its line."""

from __future__ import annotations

import json

import pytest
from chat_corpus import (
    JPEG,
    NATURAL_ENDINGS,
    PNG,
    VALID_CHAT,
    WEATHER_TOOL,
    assistant,
    call,
    calls,
    chat,
    image,
    result,
    system,
    text,
    user,
)
from conftest import REAL
from helpers import XDIST_WORKERS, jsonl

OK = chat(system(), user("Hi"), assistant("Hello!"))
WEATHER = [WEATHER_TOOL]


def run(lint, records, *args, name="data/train.jsonl"):
    return lint({name: jsonl(*records)}, "--finetune-select=FT2,FT3", *args)


def messages_of(run_result, path, code):
    return [f["message"] for f in run_result.dataset(path)["findings"] if f["code"] == code]


# -- no false positives ----------------------------------------------------------------


def test_valid_chat_data_gives_no_finding(lint):
    result_ = run(lint, VALID_CHAT)
    assert result_.findings("data/train.jsonl") == []
    assert result_.result.ret == 0


@pytest.mark.parametrize("name", sorted(NATURAL_ENDINGS))
def test_turns_that_end_alike_naturally_are_not_leftovers(lint, name):
    result_ = run(lint, NATURAL_ENDINGS[name])
    assert result_.findings("data/train.jsonl") == []


def test_tool_messages_may_carry_the_function_name(lint):
    example = chat(
        user("Weather?"),
        calls(call("c1", "get_weather", city="Oslo")),
        {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": "-3 C"},
        assistant("-3 °C."),
        tools=WEATHER,
    )
    assert run(lint, [example]).findings("data/train.jsonl") == []


# -- each check on exact lines -------------------------------------------------------

BIG = "data:image/png;base64," + "A" * (12 * 1000 * 1000 * 4 // 3)

CASES = {
    "FT201": [
        {"messages": "Hello"},
        {"Messages": [user("Hi"), assistant("Hello!")]},
        {"messages": []},
        {"messages": [user("Hi"), "assistant: Hello!"]},
        {"messages": {"role": "user", "content": "Hi"}},
    ],
    "FT202": [
        chat({"role": "human", "content": "Hi"}, {"role": "gpt", "content": "Hello!"}),
        chat({"content": "Hi"}, assistant("Hello!")),
        chat(user("Hi"), {"role": "Assistant", "content": "Hello!"}),
        chat(user("Hi"), {"role": 1, "content": "Hello!"}),
    ],
    "FT203": [
        chat({"role": "user", "content": "Hi", "tool_call_id": "c1"}, assistant("Hello!")),
        chat(user("Hi"), {"role": "assistant", "contents": "Hello!"}),
        chat({"role": "user", "content": "Hi", "name": 42}, assistant("Hello!")),
    ],
    "FT204": [
        {**OK, "id": 7},
        {**OK, "Tools": WEATHER},
    ],
    "FT205": [
        chat(user(42), assistant("Hello!")),
        chat(user("Hi"), assistant(None)),
        chat({"role": "system"}, user("Hi"), assistant("Hello!")),
        chat(user({"text": "Hi"}), assistant("Hello!")),
        chat(
            user("Weather?"),
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": "{}"},
            },
            {"role": "function", "name": "get_weather", "content": [text("-3")]},
            assistant("-3 °C."),
            functions=[WEATHER_TOOL["function"]],
        ),
        chat(user("Hi"), assistant("Hello!", refusal=5)),
    ],
    "FT206": [
        chat(user("Hi"), assistant("")),
        chat(user("Hi"), assistant("  \n")),
        chat(user("Hi"), assistant([])),
        chat(user("Hi"), assistant([text("")])),
    ],
    "FT207": [
        chat(system(""), user("Hi"), assistant("Hello!")),
        chat(user(" "), assistant("Hello!")),
        chat({"role": "developer", "content": [text("")]}, user("Hi"), assistant("Hello!")),
    ],
    "FT208": [
        chat(user(["Hi"]), assistant("Hello!")),
        chat(user([{"text": "Hi"}]), assistant("Hello!")),
        chat(
            user([{"type": "image_url", "image_url": "https://example.com/a.png"}]), assistant("A.")
        ),
        chat(user([image("ftp://example.com/a.png")]), assistant("A.")),
        chat(user([image("data:image/gif;base64,R0lGODlh")]), assistant("A.")),
        chat(user([image("data:image/png,rawbytes")]), assistant("A.")),
        chat(user([image(PNG, detail="max")]), assistant("A.")),
        chat(user([{"type": "text", "text": 5}]), assistant("A.")),
        chat(user([image("data:image/png;base64,@@@@")]), assistant("A.")),
        chat(user([image(BIG)]), assistant("A.")),
    ],
    "FT209": [
        chat(user("Draw a cat."), assistant([image(PNG)])),
        chat({"role": "system", "content": [image(JPEG)]}, user("Hi"), assistant("Hello!")),
        chat(user([{"type": "refusal", "refusal": "No."}]), assistant("OK.")),
        chat(
            user([{"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}]),
            assistant("A."),
        ),
        chat(user([{"type": "input_text", "text": "Hi"}]), assistant("Hello!")),
    ],
    "FT210": [
        chat(user([text("Count them."), *[image(PNG) for _ in range(11)]]), assistant("Eleven.")),
    ],
    "FT211": [
        chat(user("Hi")),
        chat(system(), user("Hi")),
    ],
    "FT212": [
        chat(system(), assistant("You're great!")),
        chat(assistant("Hello!")),
        chat({"role": "developer", "content": "Be nice."}, assistant("Hello!")),
    ],
    "FT213": [
        chat(user("Hi"), assistant("Hello!", weight=0.5)),
        chat(user("Hi"), assistant("Hello!", weight="1")),
        chat(user("Hi"), assistant("Hello!", weight=True), user("Bye"), assistant("Bye!")),
        chat({"role": "user", "content": "Hi", "weight": 1}, assistant("Hello!")),
        chat(
            {"role": "system", "content": "Be nice.", "weight": 0}, user("Hi"), assistant("Hello!")
        ),
    ],
    "FT214": [
        chat(user("Hi"), assistant("Hello!", weight=0)),
        chat(user("Hi"), assistant("Hello!", weight=0), user("Bye"), assistant("Bye!", weight=0)),
    ],
    "FT215": [
        chat(
            user("Weather?"),
            {"role": "assistant", "content": None, "tool_calls": {}},
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            {"role": "assistant", "content": "Let me see.", "tool_calls": []},
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            calls({"type": "function", "function": {"name": "get_weather", "arguments": "{}"}}),
            tools=WEATHER,
        ),
        chat(user("Weather?"), calls({**call("c1", "get_weather"), "type": "tool"}), tools=WEATHER),
        chat(user("Weather?"), calls({"id": "c1", "type": "function"}), tools=WEATHER),
        chat(
            user("Weather?"),
            calls(
                {
                    **call("c1", "get_weather"),
                    "function": {"name": "get_weather", "arguments": {"city": "Oslo"}},
                }
            ),
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            calls(
                {
                    **call("c1", "get_weather"),
                    "function": {"name": "get_weather", "arguments": "{city: Oslo}"},
                }
            ),
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            calls(
                {
                    **call("c1", "get_weather"),
                    "function": {"name": "get_weather", "arguments": "[1]"},
                }
            ),
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            {"role": "assistant", "content": None, "function_call": {"name": "get_weather"}},
            functions=[WEATHER_TOOL["function"]],
        ),
        chat(
            user("Weather?"),
            calls(call("c1", "get_weather", city="Oslo"), call("c1", "get_weather", city="Rome")),
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            calls({"id": "c1", "type": "function", "function": {"arguments": "{}"}}),
            tools=WEATHER,
        ),
    ],
    "FT216": [
        chat(user("Weather?"), calls(call("c1", "get_wether", city="Oslo")), tools=WEATHER),
        chat(user("Weather?"), calls(call("c1", "get_weather", city="Oslo"))),
        chat(
            user("Weather?"),
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "lookup", "arguments": "{}"},
            },
            functions=[WEATHER_TOOL["function"]],
        ),
    ],
    "FT217": [
        chat(
            user("Weather?"),
            calls(call("c1", "get weather")),
            tools=[{"type": "function", "function": {"name": "get weather"}}],
        ),
        chat(user("Hi"), assistant("Hello!"), functions=[{"name": "a" * 65}]),
        chat(user("Weather?"), calls(call("c1", "weather.get"))),
    ],
    "FT218": [
        {**OK, "tools": WEATHER_TOOL},
        {**OK, "tools": [{"name": "get_weather", "parameters": {}}]},
        {**OK, "tools": [{"type": "function", "function": {"description": "No name."}}]},
        {**OK, "tools": [WEATHER_TOOL, WEATHER_TOOL]},
        {**OK, "tools": [{"type": "function", "function": {"name": "f", "parameters": "string"}}]},
        {**OK, "parallel_tool_calls": "no"},
        {**OK, "functions": "get_weather"},
        {**OK, "tools": ["get_weather"]},
    ],
    "FT219": [
        chat(
            user("Weather?"),
            calls(call("call_1", "get_weather")),
            result("call_2", "-3"),
            assistant("-3."),
            tools=WEATHER,
        ),
        chat(user("Weather?"), result("c1", "-3"), assistant("-3."), tools=WEATHER),
        chat(
            user("Weather?"),
            calls(call("c1", "get_weather")),
            {"role": "tool", "content": "-3"},
            assistant("-3."),
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            calls(call("c1", "get_weather")),
            result("c1", "-3"),
            result("c1", "-3"),
            assistant("-3."),
            tools=WEATHER,
        ),
        chat(
            user("Weather in Oslo and Rome?"),
            calls(call("c1", "get_weather", city="Oslo"), call("c2", "get_weather", city="Rome")),
            result("c1", "-3"),
            user("And?"),
            result("c2", "21"),
            assistant("-3 and 21."),
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            {"role": "function", "name": "get_weather", "content": "-3"},
            assistant("-3."),
        ),
        chat(
            user("Weather?"),
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": "{}"},
            },
            {"role": "function", "name": "get_time", "content": "-3"},
            assistant("-3."),
            functions=[WEATHER_TOOL["function"]],
        ),
    ],
    "FT220": [
        chat(user("Weather?"), calls(call("c1", "get_weather")), assistant("-3."), tools=WEATHER),
        chat(
            user("Weather?"),
            calls(call("c1", "get_weather"), call("c2", "get_weather")),
            result("c1", "-3"),
            assistant("-3."),
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            calls(call("c1", "get_weather")),
            user("Well?"),
            assistant("-3."),
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            calls(call("c1", "get_weather"), call("c2", "get_weather")),
            result("c1", "-3"),
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": "{}"},
            },
            assistant("-3."),
            functions=[WEATHER_TOOL["function"]],
        ),
    ],
    "FT221": [
        chat(
            user("Weather in Oslo and Rome?"),
            calls(call("c1", "get_weather", city="Oslo"), call("c2", "get_weather", city="Rome")),
            tools=WEATHER,
            parallel_tool_calls=False,
        ),
    ],
    "FT222": [
        chat(user("Hi"), user("Are you there?"), assistant("Yes.")),
        chat(user("Hi"), assistant("Hello!"), assistant("How can I help?")),
        chat(system(), system("Be brief."), user("Hi"), assistant("Hello!")),
    ],
    "FT223": [
        chat(user("Hi"), assistant("Hello!"), system(), user("Bye"), assistant("Bye!")),
        chat(user("Hi"), {"role": "developer", "content": "Be brief."}, assistant("Hello!")),
    ],
    "FT224": [
        chat(user("Hi"), assistant("Hello!"), user("Bye")),
        chat(user("Hi"), assistant("Hello!"), user("Bye"), assistant("Bye!", weight=0)),
        chat(user("Weather?"), calls(call("c1", "get_weather")), result("c1", "-3"), tools=WEATHER),
    ],
}

#: Findings per failing example (one unless an example has several problems).
SEVERAL = {("FT202", 0): 2, ("FT218", 1): 2}


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_check_fires_on_exactly_its_failing_lines(lint, code):
    # Valid examples around and between the failing ones must stay silent.
    records = [OK]
    expected = []
    for index, example in enumerate(CASES[code]):
        records += [example, VALID_CHAT[index % len(VALID_CHAT)]]
        expected += [len(records) - 1] * SEVERAL.get((code, index), 1)
    result_ = run(lint, records)
    assert result_.lines("data/train.jsonl", code) == expected


def test_messages_say_what_is_wrong_and_what_to_do(lint):
    records = [
        chat({"role": "human", "content": "Hi"}, assistant("Hello!")),
        chat({"role": "user", "content": "Hi", "tool_call_id": "c1"}, assistant("Hello!")),
        chat(user("Hi"), {"role": "assistant", "contents": "Hello!"}),
        chat(user("Weather?"), calls(call("c1", "get_wether")), tools=WEATHER),
        chat(
            user("Weather?"),
            calls(
                {
                    **call("c1", "get_weather"),
                    "function": {"name": "get_weather", "arguments": {"city": "Oslo"}},
                }
            ),
            tools=WEATHER,
        ),
        chat(
            user("Weather?"),
            calls(call("call_1", "get_weather")),
            result("call_2", "-3"),
            assistant("-3."),
            tools=WEATHER,
        ),
        chat(user("Hi"), assistant("Hello!", weight=0.5)),
        {**OK, "Tools": WEATHER},
        chat(user([{"type": "input_text", "text": "Hi"}]), assistant("Hello!")),
    ]
    result_ = run(lint, records)
    path = "data/train.jsonl"
    assert messages_of(result_, path, "FT202") == [
        "`messages[0]` has the unknown role 'human' (roles: system, developer, user, "
        "assistant, tool, function); did you mean 'user'?"
    ]
    [belongs, misspelt] = messages_of(result_, path, "FT203")
    assert "'tool_call_id', which user messages do not take" in belongs
    assert belongs.endswith("it belongs on tool messages")
    assert misspelt.endswith("did you mean 'content'?")
    [undeclared] = messages_of(result_, path, "FT216")
    assert undeclared == (
        "`messages[1].tool_calls[0].function` calls 'get_wether', which the example does "
        "not declare (declared: get_weather); did you mean 'get_weather'?"
    )
    assert "serialise it with json.dumps" in messages_of(result_, path, "FT215")[0]
    [unmatched, *_] = messages_of(result_, path, "FT219")
    assert unmatched == (
        "`messages[2]` answers call 'call_2', which no earlier assistant message makes; "
        "did you mean 'call_1'?"
    )
    assert messages_of(result_, path, "FT213") == [
        "`messages[1].weight` is 0.5; it must be 0 (do not train this reply) or 1 (train it)"
    ]
    assert (
        "keys are case-sensitive: did you mean 'tools'?" in messages_of(result_, path, "FT204")[0]
    )
    assert "chat messages call it 'text'" in messages_of(result_, path, "FT209")[0]


def test_a_problem_is_reported_once_not_as_its_consequences(lint):
    records = [
        chat({"role": "human", "content": "Hi"}, {"role": "bot", "content": "Hello!"}),
        chat(user(["Hi"]), assistant("Hello!")),  # a malformed part, not an empty message
        chat(user("Draw a cat."), assistant([image(PNG)])),  # an image, not an empty reply
        chat(user("Hi"), assistant("Hello!", weight=0.5)),  # a bad weight, not "nothing trained"
        chat(user("Hi"), {"role": "assistant", "contents": "Hello!"}),
    ]
    assert run(lint, records).findings("data/train.jsonl") == [
        (1, "FT202"),
        (1, "FT202"),
        (2, "FT208"),
        (3, "FT209"),
        (4, "FT213"),
        (5, "FT203"),
        (5, "FT205"),  # the content is missing, whatever the misspelt key held
    ]


def test_max_images_is_configurable(lint):
    two = chat(user([image(PNG), image(PNG)]), assistant("Two."))
    three = chat(user([image(PNG), image(PNG), image(PNG)]), assistant("Three."))
    result_ = lint(
        {
            "data/finetune.toml": "[checks.FT210]\nmax-images = 2\n",
            "data/train.jsonl": jsonl(two, three),
        },
        "--finetune-select=FT210",
    )
    assert result_.lines("data/train.jsonl", "FT210") == [2]
    assert messages_of(result_, "data/train.jsonl", "FT210") == [
        "The example holds 3 images; at most 2 are allowed: split it or drop some"
    ]


def test_severities_follow_what_the_service_rejects_and_what_trains_badly(lint):
    records = [
        chat(user("Hi")),  # rejected: nothing to train on
        chat(system(), assistant("Hi!")),  # accepted, trains a reply nobody asked for
    ]
    result_ = run(lint, records)
    severities = {f["code"]: f["severity"] for f in result_.dataset("data/train.jsonl")["findings"]}
    assert severities == {"FT211": "error", "FT212": "warning"}
    assert result_.result.ret == 1


# -- leftovers of prompt/completion data ---------------------------------------------


def legacy(count, reply="{n} apples.", question="How many apples in box {n}?"):
    return [
        chat(system(), user(question.format(n=n)), assistant(reply.format(n=n)))
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("code", "reply", "question", "marker"),
    [
        ("FT225", " {n} apples.", "How many apples in box {n}?", None),
        ("FT225", "\n{n} apples.", "How many apples in box {n}?", None),
        ("FT226", "{n} apples.!!!", "How many apples in box {n}?", "'!!!'"),
        ("FT226", "{n} apples. END", "How many apples in box {n}?", "' END'"),
        ("FT226", "{n} apples.\n", "How many apples in box {n}?", "'\\n'"),
        ("FT226", "{n} apples.\n###", "How many apples in box {n}?", "'\\n###'"),
        ("FT227", "{n} apples.", "How many apples in box {n}? ->", "' ->'"),
        ("FT227", "{n} apples.", "Box {n}: how many apples?\n\n###\n\n", "'\\n\\n###\\n\\n'"),
        ("FT227", "{n} apples.", "How many apples in box {n}?\nAnswer:", "'\\nAnswer:'"),
        ("FT227", "{n} apples.", "How many apples in box {n}?\n", "'\\n'"),
    ],
)
def test_a_leftover_on_every_turn_is_one_finding_for_the_file(lint, code, reply, question, marker):
    result_ = run(lint, legacy(12, reply, question))
    findings = result_.dataset("data/train.jsonl")["findings"]
    assert [(f["line"], f["code"]) for f in findings] == [(None, code)]
    assert findings[0]["message"].startswith(
        f"Every {'user turn' if code == 'FT227' else 'assistant reply'} (12)"
    )
    assert findings[0]["message"].endswith("(e.g. lines 1, 2, 3)")
    if marker:
        assert f" with {marker}," in findings[0]["message"]


def test_one_turn_without_the_leftover_means_it_is_not_a_habit(lint):
    records = legacy(30, " {n} apples.!!!", "Box {n}?\nAnswer:")
    records.append(chat(user("Box 99?"), assistant("None.")))
    assert run(lint, records).findings("data/train.jsonl") == []


def test_a_turn_without_the_leftover_after_the_first_1000_records_is_seen(lint):
    records = legacy(1005, " {n} apples.!!!")
    records.append(chat(user("How many apples in box 0?"), assistant("None.")))
    assert run(lint, records).findings("data/train.jsonl") == []


def test_too_few_turns_are_not_a_habit(lint):
    assert run(lint, legacy(9, " {n} apples.!!!")).findings("data/train.jsonl") == []


def test_leftover_checks_skip_empty_turns_and_read_text_parts(lint):
    records = legacy(10, " {n} apples.!!!")
    records.append(
        chat(
            user("Weather?"),
            calls(call("c1", "get_weather")),
            result("c1", "-3"),
            assistant([text(" It is -3.!!!")]),
            tools=WEATHER,
        )
    )
    result_ = run(lint, records)
    assert result_.findings("data/train.jsonl") == [(None, "FT225"), (None, "FT226")]


# -- real data -------------------------------------------------------------------------


def real(lint, name):
    return lint({name: (REAL / name).read_bytes()}, "--finetune-select=FT2,FT3")


def test_gsm8k_chat_carries_the_three_prompt_completion_leftovers(lint):
    name = "msfoundry__gsm8k_chat_train.jsonl"
    result_ = real(lint, name)
    findings = result_.dataset(name)["findings"]
    assert [(f["line"], f["code"], f["severity"]) for f in findings] == [
        (None, "FT225", "warning"),
        (None, "FT226", "warning"),
        (None, "FT227", "warning"),
    ]
    assert findings[1]["message"].startswith("Every assistant reply (449) ends with '!!!'")
    assert findings[2]["message"].startswith("Every user turn (449) ends with '\\nSolution:'")
    assert result_.result.ret == 0


def test_cookbook_toy_file_warns_only_about_the_example_without_a_user(lint):
    name = "openai-cookbook__toy_chat_fine_tuning.jsonl"
    result_ = real(lint, name)
    findings = result_.dataset(name)["findings"]
    assert [(f["line"], f["code"], f["severity"]) for f in findings] == [(4, "FT212", "warning")]
    assert result_.result.ret == 0


# -- robustness ------------------------------------------------------------------------

ODD_VALUES = [None, True, 0, -1.5, "", "x", [], [None], {}, {"a": None}, [[[]]], ["text"]]


def test_odd_values_in_every_field_give_findings_never_a_crash(lint):
    fields = [
        ("messages",),
        ("tools",),
        ("functions",),
        ("parallel_tool_calls",),
        ("messages", 0),
        ("messages", 0, "role"),
        ("messages", 0, "content"),
        ("messages", 0, "content", 0),
        ("messages", 0, "content", 1, "image_url"),
        ("messages", 0, "content", 1, "image_url", "url"),
        ("messages", 1, "tool_calls"),
        ("messages", 1, "tool_calls", 0),
        ("messages", 1, "tool_calls", 0, "id"),
        ("messages", 1, "tool_calls", 0, "function"),
        ("messages", 1, "tool_calls", 0, "function", "name"),
        ("messages", 1, "tool_calls", 0, "function", "arguments"),
        ("messages", 1, "function_call"),
        ("messages", 1, "weight"),
        ("messages", 2, "tool_call_id"),
        ("messages", 3, "name"),
        ("tools", 0, "function"),
        ("tools", 0, "function", "name"),
        ("tools", 0, "function", "parameters"),
    ]
    base = chat(
        user([text("Look:"), image(PNG)]),
        calls(call("c1", "get_weather")),
        result("c1", "-3"),
        assistant("-3.", name="bot"),
        tools=WEATHER,
    )
    records = []
    for path in fields:
        for value in ODD_VALUES:
            record = json.loads(json.dumps(base))
            target = record
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
            records.append(record)
    result_ = run(lint, records)
    assert "pytest-finetune bug" not in result_.output
    assert "Traceback" not in result_.output
    assert result_.dataset("data/train.jsonl")["examples"] == len(records)


def test_xdist_gives_the_same_findings_and_figures(lint):
    names = [
        "msfoundry__gsm8k_chat_train.jsonl",
        "msfoundry__orca_dpo_pairs_validation.jsonl",
        "openai-cookbook__toy_chat_fine_tuning.jsonl",
    ]
    files = {f"data/{name}": (REAL / name).read_bytes() for name in names}
    serial = lint(files, "--finetune-select=FT2,FT3")
    parallel = lint(
        {**files, **XDIST_WORKERS}, "--finetune-select=FT2,FT3", "-n", "2", subprocess=True
    )
    for name in names:
        path = f"data/{name}"
        assert parallel.dataset(path)["findings"] == serial.dataset(path)["findings"]
        assert parallel.dataset(path).get("length_bias") == serial.dataset(path).get("length_bias")
    assert serial.dataset(f"data/{names[1]}")["length_bias"]["pairs"] == 284


def test_integers_past_64_bits_give_findings_never_a_crash(lint):
    # orjson refuses a line with a lone surrogate; the json module reads it, and keeps
    # integers that orjson could not write again when a message quotes them.
    huge = 2**70
    records = [
        chat(user("hi \ud800"), assistant("x", weight=huge)),
        chat({"role": huge, "content": "hi \ud800"}, assistant("x")),
        chat(
            user("hi \ud800"), calls(call("c1", "get_weather")), result(huge, "-3"), tools=WEATHER
        ),
    ]
    text = "".join(json.dumps(record) + "\n" for record in records)  # the surrogate escaped
    result_ = lint({"data/train.jsonl": text}, "--finetune-select=FT2")
    assert "pytest-finetune bug" not in result_.output
    assert result_.lines("data/train.jsonl", "FT213") == [1]
    assert "1180591620717411303424" in messages_of(result_, "data/train.jsonl", "FT213")[0]
    assert result_.lines("data/train.jsonl", "FT202") == [2]
    assert result_.lines("data/train.jsonl", "FT219") == [3]
