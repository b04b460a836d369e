"""Plain chat lines left unparsed: validated in C, read from their lines, found alike.

A chat file's lint parsed every line, though most chats are plain: one member,
``"messages"``, each message a ``"role"`` and a ``"content"``, both strings. The reader
now validates such a line in C as strictly as orjson reads it and leaves its object
unparsed (``runs.read_run``, ``lazy=PLAIN_CHAT``); the schema walk's screen reads it from
its line (``chats_to_walk(datas, raws)``), and the other checks parse only the lines they
look at. The references: orjson for what a line is, the object screen and the walk for
what a chat needs, and the pure-Python lint for the findings.
"""

from __future__ import annotations

import importlib
import json
import random
from types import SimpleNamespace

import orjson
import pytest
from chat_corpus import assistant, chat, system, user
from conftest import needs_encodings, python_only
from test_chats_to_walk import walks_clean
from test_chunks import differences, rendered, write_rows
from test_extensions import built, native

from pytest_finetune import Settings, extensions
from pytest_finetune.lint import lint
from pytest_finetune.reader import Reader
from pytest_finetune.runs import PLAIN_CHAT, Run

scan = importlib.import_module("pytest_finetune.scan")

pytestmark = [
    built,
    pytest.mark.skipif(
        extensions.read_run is None or extensions.chats_to_walk is None,
        reason=f"the C module is not built, or {extensions.DISABLE} is set",
    ),
]

#: Lines that the C reads whole, each a plain chat that orjson reads as such.
PLAIN = [
    b'{"messages": [{"role": "user", "content": "Gr\xc3\xbc\xc3\x9f Gott \xf0\x9f\x91\x8b"}, '
    b'{"role": "assistant", "content": "Hallo!\\n"}]}\n',
    b'{"messages":[{"content":"c","role":"user"}]}\n',
    b' { "messages" : [ { "role" : "system" , "content" : "tab\\t \\u00e9 \\"q\\"" } ] } \r\n',
    b'{"messages":\t[{"role": "x", "content": ""}, {"role": "", "content": "\\u0000"}]}\n',
]
#: Lines that orjson parses: JSON that is not a plain chat, or that the C leaves to it.
PARSED = [
    b'{"messages": [{"role": "user", "content": "a"}], "tools": []}\n',  # another key
    b'{"messages": [{"role": "user", "content": "a", "name": "b"}]}\n',  # a third member
    b'{"messages": [{"role": "user", "content": null}]}\n',  # not a string
    b'{"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]}\n',
    b'{"messages": []}\n',  # no message
    b'{"messages": [{"role": "user"}]}\n',  # one member
    b'{"m\\u0065ssages": [{"role": "user", "content": "a"}]}\n',  # an escaped key
    b'{"messages": [{"role": "user", "content": "\\ud83d\\udc4b"}]}\n',  # a pair, escaped
    b'{"messages": [{"role": "user", "role": "a", "content": "b"}]}\n',  # a key twice
    b'{"messages": [{"role": "user", "content": "a"},]}\n',  # a trailing comma: refused
]
#: Lines that neither reads: each ends the run.
REFUSED = [
    b'{"messages": [{"role": "user", "content": "tab\tinside"}]}\n',  # a control character
    b'{"messages": [{"role": "user", "content": "\xc3\xa9\xc3"}]}\n',  # UTF-8 cut short
    b'{"messages": [{"role": "user", "content": "\xed\xa0\x80"}]}\n',  # a surrogate in UTF-8
    b'{"messages": [{"role": "user", "content": "\\ud800"}]}\n',  # a lone surrogate
    b'{"messages": [{"role": "user", "content": "a"}]\n',  # cut short
]


def read_chats(buffer: bytes) -> tuple:
    return extensions.read_run(  # type: ignore[misc]
        buffer, 0, 10_000, True, orjson.loads, orjson.JSONDecodeError, PLAIN_CHAT
    )


def test_plain_chats_are_left_unparsed_and_the_others_parsed():
    lines = [line for line in PARSED if line != PARSED[-1]]  # (the trailing comma ends it)
    buffer = b"".join([*PLAIN, *lines])
    raws, datas, new_keys, crlf, stop = read_chats(buffer)
    assert raws == [*PLAIN, *lines]
    assert datas == [None] * len(PLAIN) + [orjson.loads(line) for line in lines]
    # The keys change at "tools", back to "messages" alone (the escaped key is
    # "messages" to orjson).
    assert (new_keys, crlf, stop) == ([4, 5], [2], len(buffer))


@pytest.mark.parametrize("line", [*REFUSED, PARSED[-1]])
def test_a_line_that_is_not_a_json_object_ends_a_lazy_run_of_chats(line):
    raws, datas, _, _, stop = read_chats(PLAIN[0] + line + PLAIN[1])
    assert (raws, datas, stop) == ([PLAIN[0]], [None], len(PLAIN[0]))


def test_a_chat_left_unparsed_is_one_orjson_reads_as_plain():
    """Random chats of the pieces that a validator could get wrong, against orjson."""
    pieces = [
        *(b"a", b" ", b"\\n", b'\\"', b"\\\\", b"\\/", b"\\b", b"\\u00e9", b"\\u0000"),
        *(b"\\uD7FF", b"\\uE000", "é€😀".encode(), "\u07ff\uffff\U0010ffff".encode(), b"\x7f"),
    ]
    odd = [
        *(b"\\ud83d\\ude00", b"\\ud800", b"\\uzzzz", b"\\u12", b"\\x", b"\\", b'"', b"\x00"),
        *(b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xc3", b"\x1f", b"\t"),
    ]
    spaces = [b"", b"", b"", b" ", b"\t", b"\r"]
    keys = [b'"role"', b'"content"', b'"name"', b'"r\\u006fle"', b"role", b'"messages"']
    rng = random.Random(5)
    unparsed = 0

    def text() -> bytes:
        if rng.random() < 0.03:
            return rng.choice([b"1", b"null", b"[]", b"{}", b'"a" "b"', b"true"])
        chosen = (rng.choice(odd if rng.random() < 0.04 else pieces) for _ in "abc")
        return b'"' + b"".join(chosen) + b'"'

    def spaced(*parts: bytes) -> bytes:
        return b"".join(rng.choice(spaces) + part for part in parts)

    def message() -> bytes:
        first, second = rng.sample([b'"role"', b'"content"'], 2)
        if rng.random() < 0.05:
            first = rng.choice(keys)
        members = [spaced(first, b":", text()), spaced(second, b":", text())]
        if rng.random() < 0.03:
            members = [*members[: rng.randrange(2)], spaced(rng.choice(keys), b":", text())]
        return spaced(b"{", b",".join(members), b"}")

    for _ in range(10_000):
        messages = b",".join(message() for _ in range(rng.randrange(4)))
        key = rng.choice(keys) if rng.random() < 0.05 else b'"messages"'
        line = spaced(b"{", key, b":", b"[", messages, b"]", b"}", b"")
        raws, datas, *_ = read_chats(line + b"\n")
        if raws and datas[0] is None:
            unparsed += 1
            parsed = orjson.loads(raws[0])
            assert list(parsed) == ["messages"], line
            assert parsed["messages"], line
            for each in parsed["messages"]:
                assert sorted(each) == ["content", "role"], line
                assert {type(value) for value in each.values()} == {str}, line
    assert unparsed > 2000  # the cases were reached


# The walk's screen of a chat left unparsed, read from its line.

ROLES = ["system", "developer", "user", "assistant", "tool", "User", "bot", "us\\u0065r", ""]
CONTENTS = [
    "Hi",
    "日本語",
    "Привет",
    "é",
    "“quoted”",
    "\u3000",
    " \\t\\n",
    "\u00a0\u2028",
    "",
    "\\u001c",
    "\u200b",
    "\\n\\t",
    "\\u0041",
    '\\"',
    "a\\nb",
]


def raw_line(messages: list[tuple[str, str]]) -> bytes:
    """A plain chat's line, its texts written as given (escapes and all)."""
    written = ", ".join(f'{{"role": "{role}", "content": "{text}"}}' for role, text in messages)
    return f'{{"messages": [{written}]}}\n'.encode()


def test_a_plain_chat_left_out_from_its_line_walks_clean_and_is_left_out_as_an_object():
    rng = random.Random(3)
    left_out = agreed = 0
    for _ in range(20_000):
        count = rng.randrange(1, 6)
        usual = ["system", "user", "assistant", "user", "assistant"][:count]
        roles = [rng.choice(ROLES) if rng.random() < 0.1 else role for role in usual]
        texts = [rng.choice(CONTENTS) if rng.random() < 0.2 else "ok" for _ in roles]
        line = raw_line(list(zip(roles, texts, strict=True)))
        datas, *_ = read_chats(line)[1:2]
        assert datas == [None], line  # a plain chat, left unparsed
        from_line = native.chats_to_walk([None], [line]) == []
        data = orjson.loads(line)
        as_object = native.chats_to_walk([data]) == []
        if from_line:
            left_out += 1
            assert as_object, line
            assert walks_clean(data), line
        # Where no text is written with an escape or is all whitespace, both agree.
        agreed += from_line == as_object
    assert left_out > 3000
    assert agreed > 0.95 * 20_000


@pytest.mark.parametrize("blank", ["\u3000", "\x1c\x1f", "\x85\xa0", " \u2028\t", "\u1680", ""])
def test_a_text_of_whitespace_read_from_its_line_is_walked(blank):
    line = json.dumps(chat(user(blank), assistant("Hey")), ensure_ascii=False).encode() + b"\n"
    assert read_chats(line)[1] == [None]
    assert native.chats_to_walk([None], [line]) == [0]


def test_the_usual_plain_chats_read_from_their_lines_are_left_out():
    chats = [
        chat(system(), user("Où est mon colis ?"), assistant("Il arrive demain.")),
        chat(user("你好"), assistant("你好。"), user("谢谢"), assistant("不客气")),
        chat(user("Hi 👋"), assistant("Hello!\nHow can I help?")),
    ]
    lines = [json.dumps(each, ensure_ascii=False).encode() + b"\n" for each in chats]
    assert read_chats(b"".join(lines))[1] == [None] * 3
    assert native.chats_to_walk([None] * 3, lines) == []


def test_objects_and_lines_mixed_are_screened_each_their_way():
    clean = chat(user("Hi"), assistant("Hey"))
    twice = chat(user("Hi"), user("again"), assistant("Hey"))
    line = json.dumps(clean).encode() + b"\n"
    bad_line = json.dumps(twice).encode() + b"\n"
    datas = [clean, None, twice, None]
    assert native.chats_to_walk(datas, [b"", line, b"", bad_line]) == [2, 3]


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_a_line_that_is_no_whole_plain_chat_is_walked(cut):
    # (read_run never leaves such a line unparsed: the screen does not count on it.)
    line = json.dumps(chat(user("Hi"), assistant("Hey"))).encode()
    assert native.chats_to_walk([None], [line + b"\n"]) == []
    assert native.chats_to_walk([None], [line[:-cut]]) == [0]
    assert native.chats_to_walk([None], [line + b" x"]) == [0]


def test_lines_of_another_length_than_the_objects_are_a_type_error():
    with pytest.raises(TypeError):
        native.chats_to_walk([None, None], [b"{}"])


def test_a_module_built_before_it_read_lines_leaves_the_screen_to_python(monkeypatch):
    """A checkout pulled and not rebuilt: its ``chats_to_walk`` takes one argument."""
    stale = SimpleNamespace(chats_to_walk=lambda datas: [])
    monkeypatch.setattr(extensions, "_native", stale)
    assert extensions._chats_to_walk() is None


# The findings of a chat file: the same with chats left unparsed and without C.


@needs_encodings
def test_chats_left_unparsed_give_the_findings_of_their_objects(tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "HEAD_RECORDS", 20)
    rows = []
    for index in range(600):
        rows.append(chat(system("You help."), user(f"Question n\u00ba{index} ?"), assistant("Ok.")))
    rows[100] = chat(user("Hi"), user("again"), assistant("Hey"))  # the same role twice
    rows[200] = chat(user("Hi"), assistant(" \u3000"))  # an empty answer
    rows[300] = chat(user("sk-proj-abcdefghijklmnopqrstuvwx"), assistant("no"))  # a key
    rows[400] = rows[450] = chat(user("Same?"), assistant("Yes."))  # a duplicate
    rows[500] = chat(user("cafÃ©"), assistant("café"))  # mojibake
    rows[550] = chat(assistant("Hello"), user("Hi"))  # ends with the user
    rows[560] = chat(user("Hi"), system("late"), assistant("Hey"))  # a late system prompt
    rows[570] = {"messages": [{"role": "human", "content": "Hi"}, assistant("Hey")]}
    path = write_rows(tmp_path / "chats.jsonl", [json.dumps(row) for row in rows])
    runs = [run for run in Reader(path).runs(lazy=PLAIN_CHAT) if type(run) is Run]
    assert sum(data is None for run in runs for data in run.datas) > 500
    compiled = rendered(lint(path, Settings(), display_path=path.name))
    with monkeypatch.context() as patch:
        python_only(patch)
        pure = rendered(lint(path, Settings(), display_path=path.name))
    assert not differences(compiled, pure)
    lines = {"FT202": 571, "FT206": 201, "FT222": 101, "FT223": 561, "FT224": 551}
    lines |= {"FT401": 451, "FT404": 301, "FT406": 501}
    for code, line in lines.items():
        assert [finding.split(":")[1] for finding in compiled["outcomes"][code][0]] == [str(line)]
