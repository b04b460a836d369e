"""The C screen of the chat schema walk: which chats of a batch must be walked.

``chats_to_walk`` (``native/chats.c``) leaves out the chats of the usual shapes, with or
without tools, in which the walk would certainly see nothing. Its reference is the walk
itself: every chat it leaves out must walk clean, which random changes to clean chats
test thousands of times; every example the FT2xx checks fire on must be walked; and the
usual clean chats must be left out, or the screen saves nothing.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import orjson
import pytest
from chat_corpus import VALID_CHAT, WEATHER_TOOL, assistant, call, calls, chat, result, system, user
from helpers import run_python
from test_chat import CASES
from test_extensions import built, native

from pytest_finetune.chat_schema import analyse
from pytest_finetune.formats import Format, Record

pytestmark = built

#: The members an SDK's dump of an assistant message holds as null when unused.
SDK_NULLS = {"function_call": None, "tool_calls": None}
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {}}}


def walked(*datas: Any) -> list[int]:
    """The indexes of the chats to walk, each read as orjson reads its JSON line."""
    return native.chats_to_walk([orjson.loads(orjson.dumps(data)) for data in datas])


def walks_clean(data: Any) -> bool:
    analysis = analyse(Record(1, b"", data, Format.CHAT))
    return not analysis.issues and not analysis.images


def tool_chat(
    arguments: str = '{"city": "Paris"}', tools: Any = (WEATHER_TOOL,), **extra: Any
) -> dict[str, Any]:
    """A clean chat with a call, its result and the answer (clean with these defaults)."""
    made = call("call_1", "get_weather")
    made["function"]["arguments"] = arguments
    return chat(
        system(),
        user("Weather in Paris? ☀️"),
        calls(made),
        result("call_1", '{"temp": 21}'),
        assistant("21 °C à Paris."),
        tools=list(tools),
        **extra,
    )


# -- what is left out ------------------------------------------------------------------


def test_the_usual_clean_chats_are_left_out_and_unusual_shapes_are_walked():
    # Walked though valid: a float weight, content parts, images (which the walk counts),
    # a refusal, the deprecated functions; the walk itself tells them apart.
    assert [index for index, data in enumerate(VALID_CHAT) if not walks_clean(data)] == [9, 10]
    assert walked(*VALID_CHAT) == [3, 5, 7, 9, 10, 11, 12, 13]


@pytest.mark.parametrize(
    "data",
    [
        tool_chat(),
        tool_chat("{}"),
        tool_chat(' { "a" : [1, -2.5, 0, true, false, null, "é\\n\\u00e9\\"", {}], "b": {} } '),
        tool_chat(parallel_tool_calls=False),
        chat(
            user("Weather and time?"),
            calls(call("a", "get_weather"), call("b", "get_time"), content="Je regarde."),
            result("b", "09:14"),
            result("a", " "),
            assistant("Sunny, 09:14.", name="helper"),
            tools=[WEATHER_TOOL, TIME_TOOL],
        ),
        # The last message may call: it is the trained turn.
        chat(user("Weather?"), calls(call("a", "get_weather")), tools=[WEATHER_TOOL]),
        chat(user("Hi"), assistant("Hey", weight=0), user("7?"), assistant("7", weight=1)),
        chat(
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "name": "alice", "content": "Hi"},
            assistant("Hi"),
        ),
        # An assistant message as an SDK dumps one: what it does not use is null.
        chat(user("Hi"), assistant("Hey", name=None, refusal=None, audio=None, **SDK_NULLS)),
        chat(
            user("Hi"),
            {**calls(call("a", "get_weather"), content=""), "function_call": None, "audio": None},
            tools=[WEATHER_TOOL],
        ),
    ],
    ids=[
        "call",
        "no-arguments",
        "json-arguments",
        "parallel-off",
        "parallel",
        "last-calls",
        "weights",
        "developer",
        "sdk-nulls",
        "sdk-nulls-calling",
    ],
)
def test_a_clean_chat_is_left_out(data):
    assert walks_clean(data)
    assert walked(data) == []


# -- what is walked --------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(CASES))
def test_every_example_a_chat_check_fires_on_is_walked(code):
    examples = [example for example in CASES[code] if isinstance(example, dict)]
    assert walked(*examples) == list(range(len(examples)))


@pytest.mark.parametrize(
    "data",
    [
        tool_chat(tools=[]),  # nothing declared
        tool_chat(tools=[WEATHER_TOOL, WEATHER_TOOL]),  # declared twice
        tool_chat(tools=[{"type": "function", "function": {"name": "get weather"}}]),
        tool_chat(tools=[{"type": "function", "function": {"name": "x", "description": 3}}]),
        chat(user("Hi"), calls(call("a", "get_weather")), assistant("?"), tools=[WEATHER_TOOL]),
        chat(
            user("Hi"),
            calls(call("a", "get_weather"), call("b", "get_weather")),
            result("a", "1"),
            assistant("?"),
            tools=[WEATHER_TOOL],
        ),
        chat(
            user("Hi"),
            calls(call("a", "get_weather"), call("a", "get_weather")),
            result("a", "1"),
            result("a", "1"),
            assistant("?"),
            tools=[WEATHER_TOOL],
        ),
        chat(
            user("Hi"),
            calls(call("a", "get_weather"), call("b", "get_weather")),
            result("a", "1"),
            result("b", "2"),
            assistant("?"),
            tools=[WEATHER_TOOL],
            parallel_tool_calls=False,
        ),
        chat(user("Hi"), result("a", "1"), assistant("?"), tools=[WEATHER_TOOL]),
        chat(user("Hi"), assistant("Hey"), assistant("Hey")),
        chat(user("Hi"), system(), assistant("Hey")),
        chat(system(), assistant("Hey")),
        chat(user("Hi"), assistant("Hey"), user("Bye")),
        chat(user("Hi"), assistant("Hey", weight=0)),
        chat(user("Hi"), assistant("Hey", weight=2)),
        chat(user("Hi"), assistant("Hey", weight=True)),
        chat(user("Hi"), assistant("Hey", name="")),
        chat(user("Hi"), assistant("Hey"), parallel_tool_calls=1),
        chat(user("Hi"), assistant("Hey"), tools=None),
        chat(),
        chat({"role": "user", "content": "Hi", "refusal": None}, assistant("Hey")),
        chat({"role": "user", "content": "Hi", "tool_calls": None}, assistant("Hey")),
        chat(user("Hi"), assistant("Hey", tool_calls=None, function_call={"name": "x"})),
        chat(user("Hi"), assistant("", tool_calls=None)),
    ],
    ids=[
        "undeclared",
        "declared-twice",
        "bad-tool-name",
        "bad-description",
        "unanswered",
        "half-answered",
        "repeated-id",
        "parallel-off",
        "no-call",
        "consecutive",
        "misplaced-system",
        "no-user",
        "last-not-trained",
        "nothing-trained",
        "weight-2",
        "weight-true",
        "empty-name",
        "parallel-not-bool",
        "tools-null",
        "no-message",
        "null-refusal-on-user",
        "null-calls-on-user",
        "function-call",
        "null-calls-empty-reply",
    ],
)
def test_a_chat_the_walk_may_see_something_in_is_walked(data):
    assert walked(data) == [0]


@pytest.mark.parametrize("blank", ["\u3000", "\x1c\x1f", "\x85\xa0", " \u2028\t"])
def test_text_blank_as_str_isspace_reads_it_is_walked(blank):
    # Whitespace beyond ASCII's: the walk sees an empty message, as str.isspace says.
    data = chat(user(blank), assistant("Hey"))
    assert not walks_clean(data)
    assert walked(data) == [0]


def test_text_of_characters_that_are_not_whitespace_is_left_out():
    data = chat(user("\u200b\ufeff"), assistant("\u180e"))  # zero-width, not spaces
    assert walks_clean(data)
    assert walked(data) == []


@pytest.mark.parametrize(
    "arguments",
    [
        "",
        "[]",
        '"{}"',
        "{",
        '{"a": 1,}',
        '{"a": 01}',
        '{"a" 1}',
        "{'a': 1}",
        '{"a": NaN}',
        '{"a": 1e5}',  # JSON, but not read here: walked
        '{"a": 1234567890123456}',  # sixteen digits: walked
        '{"a": 1' + "0" * 400 + "}",  # beyond a double's range: orjson rejects it
        '{"a": "\\ud83d\\ude00"}',  # an escaped pair: walked
        '{"a": "\\ud83d"}',  # a lone surrogate escaped: orjson rejects it
        '{"a": "\\x"}',
        '{"a": "\t"}',
        '{"a": tru}',
        "{} {}",
        "[" * 40 + "]" * 40,
    ],
)
def test_arguments_not_surely_a_json_object_are_walked(arguments):
    assert walked(tool_chat(arguments)) == [0]


# -- against the walk ------------------------------------------------------------------

#: Values that changes put anywhere in a chat.
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    2,
    1.0,
    "",
    " ",
    "x",
    "user",
    "assistant",
    "tool",
    "system",
    "developer",
    "function",
    "call_1",
    "get_weather",
    "{}",
    "[]",
    [],
    {},
    [{}],
]
#: Keys that changes add to any object of a chat.
KEYS = [
    "role",
    "content",
    "name",
    "weight",
    "tool_calls",
    "tool_call_id",
    "refusal",
    "audio",
    "function_call",
    "tools",
    "functions",
    "parallel_tool_calls",
    "type",
    "function",
    "id",
    "arguments",
    "description",
    "parameters",
    "other",
]


def _places(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a chat's values."""
    found: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += [(value, key), *_places(item)]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += [(value, index), *_places(item)]
    return found


def _change(rng: random.Random, data: dict[str, Any]) -> None:
    """One random change to a chat, in place."""
    places = _places(data)
    container, key = rng.choice(places)
    roll = rng.random()
    if roll < 0.45:
        other = rng.choice(places)
        container[key] = copy.deepcopy(
            other[0][other[1]] if rng.random() < 0.2 else rng.choice(ODD_VALUES)
        )
    elif roll < 0.65:
        del container[key]
    elif roll < 0.8 and isinstance(container, list):
        if rng.random() < 0.5:
            container.insert(rng.randrange(len(container) + 1), copy.deepcopy(container[key]))
        else:
            other = rng.randrange(len(container))
            container[key], container[other] = container[other], container[key]
    else:
        target = container[key] if isinstance(container[key], dict) else data
        target[rng.choice(KEYS)] = copy.deepcopy(rng.choice(ODD_VALUES))


#: The clean chats that changes start from: each left out, with and without tools.
SEEDS = [
    data
    for data in (*VALID_CHAT, tool_chat(), tool_chat(parallel_tool_calls=False))
    if not walked(data)
]


@pytest.mark.parametrize("seed", range(12))
def test_every_chat_left_out_walks_clean_after_random_changes(seed):
    rng = random.Random(seed)
    left_out = 0
    for _ in range(400):
        data = copy.deepcopy(rng.choice(SEEDS))
        for _ in range(rng.randrange(1, 4)):
            if _places(data):
                _change(rng, data)
        try:
            line = orjson.dumps(data)
        except TypeError:  # a chat changed into holding itself (JSON has no such thing)
            continue
        if not native.chats_to_walk([orjson.loads(line)]):
            left_out += 1
            assert walks_clean(data), json.dumps(data)
    # Some changes keep a chat clean (a name, a tool's description): the screen is tested.
    assert left_out > 20


@pytest.mark.parametrize("seed", range(6))
def test_arguments_left_out_are_json_objects_after_random_changes(seed):
    rng = random.Random(seed)
    starts = ['{"city": "Paris", "days": [1, 2.5, -3], "ok": true, "note": "é\\n"}', "{}"]
    characters = [*'{}[]",:\\/ u0d8e9E.-+tfn\t\x01é😀', "\ud800", "\x00"]
    left_out = 0
    for _ in range(500):
        text = list(rng.choice(starts))
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(len(text) + 1)
            roll = rng.random()
            if roll < 0.4 or not text:
                text.insert(at, rng.choice(characters))
            elif roll < 0.7:
                del text[min(at, len(text) - 1)]
            else:
                text[min(at, len(text) - 1)] = rng.choice(characters)
        arguments = "".join(text)
        # Built in Python, not read from JSON: a lone surrogate is possible here.
        data = tool_chat(arguments)
        if not native.chats_to_walk([data]):
            left_out += 1
            assert isinstance(orjson.loads(arguments), dict), arguments
            assert walks_clean(data)
    assert left_out > 20


# -- objects not read from JSON ----------------------------------------------------------


def test_objects_of_other_types_are_walked():
    class Dict(dict):  # type: ignore[type-arg]
        pass

    class List(list):  # type: ignore[type-arg]
        pass

    plain = chat(user("Hi"), assistant("Hey"))
    datas: list[Any] = [
        Dict(plain),
        {"messages": List(plain["messages"])},
        {"messages": [Dict(user("Hi")), assistant("Hey")]},
        "not a dict",
        plain,
    ]
    assert native.chats_to_walk(datas) == [0, 1, 2, 3]


def test_objects_that_only_the_json_module_reads_are_screened_as_any_other():
    # Where orjson rejects a line, the reader reads it with the json module, which takes
    # a lone surrogate and integers beyond 64 bits.
    surrogate = chat(user("Hi \ud800"), assistant("Hey"))
    assert walks_clean(surrogate)
    too_big = chat(user("Hi"), assistant("Hey", weight=2**64))
    assert native.chats_to_walk([surrogate, too_big]) == [1]


def test_anything_but_a_list_is_a_type_error():
    with pytest.raises(TypeError):
        native.chats_to_walk((chat(user("Hi"), assistant("Hey")),))


#: A key that is a str subclass whose ``__eq__`` empties the messages: the screen runs
#: no Python code while it reads (the chat is walked, and the list is left as it was).
EQ_CLEARS_THE_LIST = """
from pytest_finetune import _native
class Key(str):
    def __eq__(self, other):
        messages.clear()
        return str.__eq__(self, other)
    __hash__ = str.__hash__
messages = [{Key("content"): "hi", "role": "user"}]
messages += [{"role": "assistant", "content": "x"} for _ in range(50)]
print(_native.chats_to_walk([{"messages": messages}]), len(messages))
"""


def test_a_key_whose_comparison_would_change_the_chat_is_never_compared():
    assert run_python(EQ_CLEARS_THE_LIST) == (0, "[0] 51\n")


#: A collection whose callbacks empty every chat while the answer's objects are made: the
#: screen has read them all before it makes any.
GC_EMPTIES_THE_CHATS = """
import gc
from pytest_finetune import _native
datas = [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "x"}]}
         if index % 3 else {"messages": [1]} for index in range(3000)]
def empty(phase, info):
    for data in datas:
        data.clear()
    datas.clear()
gc.set_threshold(1, 1, 1)
gc.callbacks.append(empty)
found = _native.chats_to_walk(datas)
gc.callbacks.clear()
print(found == list(range(0, 3000, 3)), len(datas))
"""


def test_the_chats_emptied_while_the_answer_is_made_are_not_read_again():
    assert run_python(GC_EMPTIES_THE_CHATS) == (0, "True 0\n")
