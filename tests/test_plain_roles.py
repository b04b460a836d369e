"""The chat schema walk skips a plain chat whose roles, in that order, were walked clean.

A plain chat holds only ``messages``, each a role and a text that is not blank: the walk
can see nothing in it but what the order of its roles shows. ``_plain_roles`` reads the
roles of the plain chats of a batch, in Python over whole lists or in C in one pass
where the extension is built; both are tested on the same batches, and against each
other on random ones.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from helpers import run_python
from test_extensions import built, native

from pytest_finetune import extensions
from pytest_finetune.checks.chat.survey import _plain_roles


def roles(*chats: Any, datas: list[dict[str, Any]] | None = None) -> list[Any]:
    """``_plain_roles`` of chats given as their messages (each record only ``messages``)."""
    conversations = list(chats)
    if datas is None:
        datas = [{"messages": messages} for messages in conversations]
    return _plain_roles(datas, conversations)


def message(role: Any = "user", content: Any = "Bonjour 👋", **more: Any) -> dict[str, Any]:
    return {"role": role, "content": content, **more}


def test_a_plain_chat_gives_its_roles_in_order(implementation):
    chat = [message("system", "Tu es concis."), message(), message("assistant", "Salut !")]
    assert roles(chat, [message()]) == [("system", "user", "assistant"), ("user",)]


def test_a_chat_with_no_message_is_plain(implementation):
    assert roles([]) == [()]


@pytest.mark.parametrize(
    "odd",
    [
        message(name="alice"),  # a third key
        message(content=""),
        message(content=" \n\t\u3000"),  # only whitespace (an ideographic space too)
        message(content=[{"type": "text", "text": "hi"}]),
        message(content=None),
        message(role=None),
        {"content": "no role"},
        {"role": "user", "text": "no content"},
    ],
    ids=["name", "empty", "blank", "parts", "null", "role-null", "no-role", "no-content"],
)
def test_a_chat_with_a_message_that_is_not_plain_is_walked(implementation, odd):
    assert roles([message(), odd], [message()]) == [None, ("user",)]


def test_a_chat_with_other_keys_is_walked(implementation):
    chats = [[message()], [message()]]
    datas = [{"messages": chats[0], "tools": []}, {"messages": chats[1]}]
    assert roles(*chats, datas=datas) == [None, ("user",)]


def test_messages_that_are_not_a_list_are_walked(implementation):
    assert roles("hello", [message()]) == [None, ("user",)]


def test_a_message_that_is_not_an_object_sends_every_chat_to_the_walk(implementation):
    assert roles([message(), "hello"], [message()]) == [None, None]


def test_columns_of_different_lengths_are_a_mistake(implementation):
    with pytest.raises(ValueError):
        _plain_roles([{"messages": []}], [[], []])


@built
@pytest.mark.parametrize("seed", range(20))
def test_c_reads_the_roles_python_reads(monkeypatch, seed):
    rng = random.Random(seed)
    contents: list[Any] = ["hi", "", " ", "\u3000", "é", "🇯🇵 x", None, 3, [{"type": "text"}]]
    role_names: list[Any] = ["user", "assistant", "system", "tool", None, 1]

    def random_message() -> Any:
        if rng.random() < 0.02:
            return rng.choice(["text", None, ["user"]])
        found = {"role": rng.choice(role_names), "content": rng.choice(contents)}
        if rng.random() < 0.2:
            del found[rng.choice(["role", "content"])]
        if rng.random() < 0.1:
            found["name"] = "x"
        return found

    for _ in range(200):
        conversations: list[Any] = []
        datas: list[dict[str, Any]] = []
        for _ in range(rng.randrange(0, 10)):
            messages: Any = [random_message() for _ in range(rng.randrange(0, 5))]
            if rng.random() < 0.05:
                messages = "not a list"
            conversations.append(messages)
            datas.append({"messages": messages, **({"tools": []} if rng.random() < 0.1 else {})})
        compiled = native.plain_roles(datas, conversations)
        with monkeypatch.context() as patch:
            patch.setattr(extensions, "plain_roles", None)
            assert compiled == _plain_roles(datas, conversations), conversations


#: Lists emptied by a garbage collector's callback, started by the tuple of a chat's
#: roles (the second object the C makes): it must read them as they are after it.
GC_CLEARS_THE_LISTS = """
import gc
from pytest_finetune import _native
conversations = [[{"role": "user", "content": "hi " + str(n)}] * 3 for n in range(50)]
datas = [{"messages": messages} for messages in conversations]
armed = False
starts = 0
def clear(phase, info):
    global armed, starts
    if phase == "start" and armed:
        starts += 1
        if starts == 2:
            armed = False
            for messages in conversations:
                messages.clear()
            conversations.clear()
gc.callbacks.append(clear)
# Lists kept so that the next object made is new (not reused), and counted by the collector.
kept = [[] for _ in range(200)]
gc.set_threshold(1)
armed = True
found = _native.plain_roles(datas, conversations)
print(len(found), set(found) <= {None, ("user",) * 3})
"""


@built
def test_lists_the_garbage_collector_changes_as_c_reads_them_do_not_crash_it():
    assert run_python(GC_CLEARS_THE_LISTS) == (0, "50 True\n")


#: A message whose key is a str subclass (data not read from JSON) whose ``__eq__``,
#: which the C's lookups run, empties the chat's list: the C must read it as it is after.
EQ_CLEARS_THE_LIST = """
from pytest_finetune import _native
class Key(str):
    def __eq__(self, other):
        held.extend(messages)  # the messages stay alive: only the list changes
        messages.clear()
        return str.__eq__(self, other)
    __hash__ = str.__hash__
held = []
messages = [{Key("content"): "hi", "role": "user"}]
messages += [{"role": "user", "content": "x"} for _ in range(50)]
print(_native.plain_roles([{"messages": messages}], [messages]))
"""


@built
def test_a_key_whose_comparison_changes_the_list_as_c_reads_it_does_not_crash_it():
    assert run_python(EQ_CLEARS_THE_LIST) == (0, "[None]\n")
