"""In pure Python, the chat schema walk skips a plain chat whose roles were walked clean.

A plain chat holds only ``messages``, each a role and a text that is not blank: the walk
can see nothing in it but what the order of its roles shows. ``_plain_roles`` reads the
roles of the plain chats of a batch over whole lists. (Where the extension is built, its
screen leaves out more: ``test_chats_to_walk.py``.)
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_finetune.checks.chat.survey import _plain_roles


def roles(*chats: Any, datas: list[dict[str, Any]] | None = None) -> list[Any]:
    """``_plain_roles`` of chats given as their messages (each record only ``messages``)."""
    conversations = list(chats)
    if datas is None:
        datas = [{"messages": messages} for messages in conversations]
    return _plain_roles(datas, conversations)


def message(role: Any = "user", content: Any = "Bonjour 👋", **more: Any) -> dict[str, Any]:
    return {"role": role, "content": content, **more}


def test_a_plain_chat_gives_its_roles_in_order():
    chat = [message("system", "Tu es concis."), message(), message("assistant", "Salut !")]
    assert roles(chat, [message()]) == [("system", "user", "assistant"), ("user",)]


def test_a_chat_with_no_message_is_plain():
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
def test_a_chat_with_a_message_that_is_not_plain_is_walked(odd):
    assert roles([message(), odd], [message()]) == [None, ("user",)]


def test_a_chat_with_other_keys_is_walked():
    chats = [[message()], [message()]]
    datas = [{"messages": chats[0], "tools": []}, {"messages": chats[1]}]
    assert roles(*chats, datas=datas) == [None, ("user",)]


def test_messages_that_are_not_a_list_are_walked():
    assert roles("hello", [message()]) == [None, ("user",)]


def test_a_message_that_is_not_an_object_sends_every_chat_to_the_walk():
    assert roles([message(), "hello"], [message()]) == [None, None]


def test_columns_of_different_lengths_are_a_mistake():
    with pytest.raises(ValueError):
        _plain_roles([{"messages": []}], [[], []])
