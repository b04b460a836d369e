"""The compiled content pass gives what the Python pass gives, and runs where it is built.

``native/native.c`` reads plain prompt/completion lines (their texts' fingerprints, and
whether the screen may flag them) and says which lines of any format the screen may
flag. The Python pass is the reference: every text it flags must be flagged here too (a
false alarm only costs the Python screen of that text), and the findings of a file must
be the same with the extension and without it. The module's other parts are tested
beside their Python: ``test_departures.py`` and ``test_plain_roles.py``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import sysconfig
from array import array
from pathlib import Path

import pytest
from conftest import COMPILED, needs_encodings, python_only
from helpers import run_python
from test_batches import EDGES, TOKENS_COUNTED_OR_SAMPLED, realistic_file, scan
from test_chunks import differences, rendered, write_rows

from pytest_finetune import Settings, extensions
from pytest_finetune.checks.content.screen import Screen
from pytest_finetune.checks.content.survey import _chat_pairs
from pytest_finetune.fingerprints import fingerprint
from pytest_finetune.formats import Batch, Format
from pytest_finetune.lint import lint

try:
    from pytest_finetune import _native as native
except ImportError:  # built without a C compiler (or a build that failed: the first test)
    native = None

#: The tests that read lines with the extension, which a machine without one skips.
built = pytest.mark.skipif(native is None, reason="built without a C compiler")

#: Every flag the screen has: what the content checks, all selected, want.
EVERY_FLAG = Screen(0xFF)

#: Texts each of which the Python screen flags, one reason each.
ALARMS = [
    # keys and tokens, by the literal they start with, or a long run
    "sk-proj-abcdefghijklmnop",
    "xoxb-1234-abcd",
    "hf_abcdefghijklmnop",
    "ghp_abcdefghijklmnop",
    "gho_abcdefghij",
    "github_pat_11abcdefg",
    "sk_live_abcdefghij",
    "rk_live_abcdefghij",
    "eyJhbGciOiJIUzI1NiJ9",
    "AIzaSyabcdefghij",
    "AKIAIOSFODNN7EXAMPLE",
    "card 4111 1111 1111 1111",
    "ABCDEFGHIJKLM",
    "A1b2C3d4E5f6G7h8I9j0K1L",
    # an address, a placeholder, a special token
    "write to someone@example.org",
    "Dear {first_name},",
    "Dear [NAME],",
    "<|endoftext|>",
    "a | b",
    # control characters, garbled text
    "bell\x07",
    "nul\x00",
    "escape\x1b[0m",
    "vertical\x0btab",
    "form\x0cfeed",
    "delete\x7f",
    "next line\x85",
    "cafÃ©",
    "â€œquotedâ€\x9d",
    "Ã¢â\u201a¬â„¢",  # (U+201A, the low quote)
    "donâ€™t",
    "replacement \ufffd here",
    "lone \ud800 surrogate",
    "low \udfff alone",
    "a backslash, then a control \\\x07",  # in JSON: \\ then \u0007
]

#: Texts the Python screen does not flag: neither may the compiled one.
CLEAN = [
    "café “quoted” — naïve résumé",
    "日本語のテキストと中文",
    "Привет, как дела?",
    "한국어: 퀴즈와 흰 눈",  # (퀴 and 흰: 0xED, as a surrogate's first byte is)
    "« guillemets », 20 °C, a\u00a0non-breaking space",  # (0xC2, as a C1 control's)
    "São Paulo, Ãgua and Â are not garbled",  # (0xC3 as mojibake starts, then not)
    "family 👩‍👩‍👧 flag 🇫🇷 thumbs 👍🏽",
    "Hello World 2024, see page 12.",
    "(ABCDEFGHIJKL)",
    "tab\tnew\nline\rreturn",
    "the -> arrow and snake_case_names",
    'quotes " and backslashes \\ and slashes /',
    "a path C:\\users\\bob, and \\b, \\f written out",  # in JSON: \\u, \\b, \\f
]

#: JSON written inside a text (tool calls' arguments): not flagged in a chat's line.
JSON_IN_TEXT = ['{"city": "Paris"}', '[{"a": 1}, {"b": 2}]', "ends with {", "ends with ["]

#: Padding that moves a text across the compiled screen's 16-byte blocks.
PADDING = "ab cdé 日x yz "


def placed(text: str, *, ending: bool = False) -> list[str]:
    """``text`` at every offset of a 16-byte block, with text after it (or, ``ending``, none).

    Each offset twice: after ASCII, the compiled screen reads the text's first non-ASCII
    block in its second loop; the two bytes after a lead byte may be in the next block.
    """
    return [
        before + text + after
        for offset in range(35)
        for before in ((PADDING * 4)[:offset], ("x" * 40)[:offset])
        for after in (("",) if ending else ("", " and more text after it"))
    ]


def pc_line(prompt: str, completion: str, *, ascii_only: bool = False) -> bytes:
    data = {"prompt": prompt, "completion": completion}
    return (json.dumps(data, ensure_ascii=ascii_only) + "\n").encode("utf-8", "surrogatepass")


def chat_line(text: str, *, ascii_only: bool = False) -> bytes:
    data = {
        "messages": [
            {"role": "user", "content": text},
            {"role": "assistant", "content": " ok"},
        ]
    }
    return (json.dumps(data, ensure_ascii=ascii_only) + "\n").encode("utf-8", "surrogatepass")


def unpacked(pairs: tuple[bytes, bytes, list[int]] | None) -> tuple[list[int], ...] | None:
    """What ``plain_pairs`` gives, its packed fingerprints as lists of ints."""
    if pairs is None:
        return None
    prompts, completions, suspects = pairs
    return array("q", prompts).tolist(), array("q", completions).tolist(), suspects


def readable(text: str) -> bool:
    """Whether a file may hold the text unescaped (a lone surrogate is no UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def test_a_machine_with_a_c_compiler_builds_the_extension():
    # The build is optional (setup.py): where it fails, pip warns and goes on, and
    # every other test here would be skipped.
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    if not shutil.which(compiler) or not headers.exists():
        pytest.skip("no C compiler or no Python headers: the pure-Python pass runs")
    assert native is not None, (
        "native/native.c is not built: `make .venv/.installed` builds it, `pip install -v .` "
        "says why it fails"
    )
    if os.environ.get(extensions.DISABLE):
        pytest.skip(f"{extensions.DISABLE} is set: the extension is built, and not used")
    # Each function is built (not a module left from older sources) and is used.
    assert COMPILED
    for name in COMPILED:
        assert getattr(extensions, name) is getattr(native, name), name


@built
def test_the_environment_variable_turns_the_extension_off():
    code = "from pytest_finetune import extensions; print(extensions.plain_pairs)"
    env = {**os.environ, extensions.DISABLE: "1"}
    off = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert off.stdout.strip() == "None"
    env[extensions.DISABLE] = ""
    on = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert "built-in function plain_pairs" in on.stdout


@built
@pytest.mark.parametrize("ascii_only", [False, True], ids=["utf-8", "escaped"])
def test_plain_lines_give_the_fingerprints_of_their_texts(ascii_only):
    texts = [*ALARMS, *CLEAN, *JSON_IN_TEXT, "", "\\u0041 is not an escape here", "😀"]
    pairs = [(text, texts[-index - 1]) for index, text in enumerate(texts)]
    lines = [
        pc_line(p, c, ascii_only=ascii_only) for p, c in pairs if ascii_only or readable(p + c)
    ]
    kept = [(p, c) for p, c in pairs if ascii_only or readable(p + c)]
    found = unpacked(native.plain_pairs(lines))
    assert found is not None
    prompts, completions, _ = found
    assert prompts == [fingerprint(prompt) for prompt, _ in kept]
    assert completions == [fingerprint(completion) for _, completion in kept]


@built
def test_a_surrogate_pair_is_one_character_and_a_lone_one_its_own_three_bytes():
    lines = [
        b'{"prompt": "\\ud83d\\ude00", "completion": "\\ud800\\u0041"}\n',
        b'{"prompt": "\\uD83D\\uDE00", "completion": "\\udc00\\ud800"}\n',
    ]
    found = unpacked(native.plain_pairs(lines))
    assert found is not None
    assert found[0] == [fingerprint("😀")] * 2
    assert found[1] == [fingerprint("\ud800A"), fingerprint("\udc00\ud800")]


@built
@pytest.mark.parametrize(
    "line",
    [
        b'{"completion": " yes\\n", "prompt": "Is it? ->"}\n',
        b'  {"prompt":"Is it? ->","completion":" yes\\n"}  \r\n',
        b'{ "prompt" : "Is it? ->" ,\t"completion" : " yes\\n" }',
    ],
    ids=["other-order", "no-spaces-crlf", "more-spaces"],
)
def test_plain_lines_are_read_in_any_key_order_and_spacing(line):
    found = unpacked(native.plain_pairs([line]))
    assert found == ([fingerprint("Is it? ->")], [fingerprint(" yes\n")], [])


@built
@pytest.mark.parametrize(
    "line",
    [
        b'{"prompt": "a", "completion": "b", "weight": 1}\n',
        b'{"prompt": "a"}\n',
        b'{"prompt": "a", "completion": 3}\n',
        b'{"prompt": "a", "prompt": "b"}\n',
        b'{"prompt": "a", "label": "b"}\n',
        b'{"pr\\u006fmpt": "a", "completion": "b"}\n',
        b'{"prompt": "a", "completion": "b"} {}\n',
        b'{"prompt": "a", "completion": "b\n',
        b'["prompt", "completion"]\n',
    ],
    ids=[
        "a-third-key",
        "one-key",
        "a-number",
        "a-duplicate-key",
        "another-key",
        "an-escaped-key",
        "more-after",
        "no-end",
        "an-array",
    ],
)
def test_a_batch_with_a_line_that_is_not_plain_is_left_to_python(line):
    clean = pc_line("Is it? ->", " yes\n")
    assert native.plain_pairs([clean, clean]) is not None
    assert native.plain_pairs([clean, line, clean]) is None


@built
@pytest.mark.parametrize("ascii_only", [False, True], ids=["utf-8", "escaped"])
def test_every_text_the_python_screen_flags_is_flagged_in_plain_lines(ascii_only):
    lines, flagged = [], []
    for text in ALARMS + CLEAN + JSON_IN_TEXT:
        for variant in placed(text):
            if ascii_only or readable(variant):
                for prompt, completion in ((variant, " ok"), ("Hi ->", variant)):
                    if EVERY_FLAG.texts(prompt, completion):
                        flagged.append(len(lines))
                    lines.append(pc_line(prompt, completion, ascii_only=ascii_only))
    found = native.plain_pairs(lines)
    assert found is not None
    suspects = found[2]
    assert set(flagged) <= set(suspects)
    assert suspects == flagged  # and no false alarm on these either


@built
def test_plain_lines_read_unscreened_give_the_same_fingerprints_and_no_suspects():
    # (When no check of the screen is selected: FT401 and FT402 alone.)
    lines = [pc_line(text, " ok") for text in ALARMS + CLEAN if readable(text)]
    screened = unpacked(native.plain_pairs(lines))
    assert screened is not None
    assert screened[2]
    assert unpacked(native.plain_pairs(lines, False)) == (*screened[:2], [])


@built
def test_clean_texts_in_plain_lines_are_not_flagged():
    texts = [variant for text in CLEAN for variant in placed(text)]
    assert unpacked(native.plain_pairs([pc_line(text, " ok") for text in texts])) == (
        [fingerprint(text) for text in texts],
        [fingerprint(" ok")] * len(texts),
        [],
    )


@built
@pytest.mark.parametrize("ascii_only", [False, True], ids=["utf-8", "escaped"])
def test_every_text_the_screens_flag_is_flagged_in_a_line_of_any_format(ascii_only):
    # Written as json.dumps does by default (ascii_only), a chat's texts are escapes:
    # both screens read what the escapes write.
    lines = [
        chat_line(variant, ascii_only=ascii_only)
        for text in ALARMS
        for variant in placed(text)
        if ascii_only or readable(variant)
    ]
    assert all(EVERY_FLAG.raw(line, json.loads(line)) for line in lines)
    assert native.suspect_lines(lines) == list(range(len(lines)))


@built
@pytest.mark.parametrize("ascii_only", [False, True], ids=["utf-8", "escaped"])
def test_clean_texts_and_json_in_a_text_are_not_flagged_in_a_line(ascii_only):
    texts = [*CLEAN, "tool call", "the result"]
    lines = [
        chat_line(variant, ascii_only=ascii_only) for text in texts for variant in placed(text)
    ]
    lines += [
        chat_line(variant, ascii_only=ascii_only)
        for text in JSON_IN_TEXT
        for variant in placed(text, ending=True)
    ]
    assert not any(EVERY_FLAG.raw(line, json.loads(line)) for line in lines)
    assert native.suspect_lines(lines) == []


@built
@pytest.mark.parametrize("escaped", [b"b", b"f", b"u0041", b"n", b"/"])
def test_a_run_of_backslashes_escapes_what_follows_it_only_when_odd(escaped):
    # In \\\b the third backslash writes a control (flagged); in \\\\b none escapes the
    # 'b'. A long run is read once, not again from each of its backslashes.
    runs = [(offset, run) for offset in range(17) for run in (1, 2, 3, 4, 15, 16, 17, 32, 33)]
    runs += [(0, 100_000), (0, 100_001)]
    lines = [
        b'{"messages": [{"role": "user", "content": "'
        + b"x" * offset
        + b"\\" * run
        + (escaped if run % 2 else escaped[:1])
        + b'"}]}\n'
        for offset, run in runs
    ]
    flagged = [index for index, line in enumerate(lines) if EVERY_FLAG.raw(line, json.loads(line))]
    odd = [index for index, (_, run) in enumerate(runs) if run % 2]
    assert flagged == (odd if escaped in (b"b", b"f") else [])
    assert native.suspect_lines(lines) == flagged


def test_special_tokens_and_controls_written_as_escapes_are_found_either_way(tmp_path, monkeypatch):
    # Go's encoder writes '<' and '>' as escapes; json.dumps writes DEL as one.
    monkeypatch.setattr(scan, "HEAD_RECORDS", 2)
    rows = [chat_line(f"Where is parcel {number}?").decode() for number in range(10)] + [
        chat_line("Reply, then <|endoftext|> here").decode().replace("<", "\\u003c"),
        chat_line("deleted\x7f", ascii_only=True).decode(),
    ]
    path = write_rows(tmp_path / "chat.jsonl", [row.rstrip("\n") for row in rows])
    compiled = rendered(lint(path, display_path=path.name))
    with monkeypatch.context() as patch:
        python_only(patch)
        pure = rendered(lint(path, display_path=path.name))
    assert not differences(compiled, pure)
    found = {
        code: [finding.split(":")[1] for finding in outcome[0]]
        for code, outcome in compiled["outcomes"].items()
        if outcome[0] and code.startswith("FT4")
    }
    assert found == {"FT407": ["12"], "FT409": ["11"]}


@built
@pytest.mark.parametrize("kind", ["prompt_completion", "chat"])
@TOKENS_COUNTED_OR_SAMPLED
@needs_encodings
def test_realistic_data_gives_the_same_findings_without_the_extension(
    tmp_path, monkeypatch, kind, settings
):
    path = realistic_file(tmp_path, kind)
    compiled = rendered(lint(path, settings, display_path=path.name))
    with monkeypatch.context() as patch:
        python_only(patch)
        pure = rendered(lint(path, settings, display_path=path.name))
    assert not differences(compiled, pure)
    assert compiled["outcomes"]["FT401"][0]  # the duplicate, found by its fingerprints


@built
@needs_encodings
def test_lines_left_unparsed_give_the_findings_of_their_objects(tmp_path, monkeypatch):
    """Past the head, the reader leaves plain lines unparsed: the checks that need a
    text (a prefix every prompt shares, to the last line; the case of every 50th
    completion; a record that departs) parse it, and find what they find without C."""
    rows = [
        {
            "prompt": f"Classify the sentiment of this review: n\u00ba{index} \u201cok\u201d ->",
            "completion": " POSITIVE\n" if index % 50 == 0 else f" negative {index}\n",
        }
        for index in range(2500)
    ]
    rows[1500]["completion"] = "negative"  # no leading space, no stop sequence
    path = write_rows(tmp_path / "reviews.jsonl", [json.dumps(row) for row in rows])
    compiled = rendered(lint(path, Settings(), display_path=path.name))
    with monkeypatch.context() as patch:
        python_only(patch)
        pure = rendered(lint(path, Settings(), display_path=path.name))
    assert not differences(compiled, pure)
    assert compiled["outcomes"]["FT150"][0]  # the prefix that all prompts start with
    assert "1501" in json.dumps(compiled["outcomes"])  # the record that departs


@built
@pytest.mark.parametrize("name", sorted(EDGES))
@needs_encodings
def test_odd_records_give_the_same_findings_without_the_extension(tmp_path, monkeypatch, name):
    monkeypatch.setattr(scan, "HEAD_RECORDS", 2)
    monkeypatch.setattr(scan, "BATCH_RECORDS", 3)
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(f"{line}\n" for line in EDGES[name] * 3), "utf-8")
    settings = Settings(overrides={"select": ["ALL"]})
    compiled = rendered(lint(path, settings, display_path=path.name))
    with monkeypatch.context() as patch:
        python_only(patch)
        pure = rendered(lint(path, settings, display_path=path.name))
    assert not differences(compiled, pure)


def chat_of(*messages: dict, **more: object) -> dict:
    return {"messages": list(messages), **more}


USER = {"role": "user", "content": "Where is my parcel?"}
REPLY = {"role": "assistant", "content": 'It left "today" at 9.\n'}
CALL = {
    "role": "assistant",
    "tool_calls": [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "track", "arguments": '{"number": "147"}'},
        }
    ],
}
RESULT = {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped"}'}
TOOLS = [{"type": "function", "function": {"name": "track", "parameters": {"type": "object"}}}]

#: Chats the C reads as Python does: its fingerprints must be Python's.
READABLE_CHATS = {
    "plain": chat_of(USER, REPLY),
    "with-a-system-prompt": chat_of({"role": "system", "content": "Be brief."}, USER, REPLY),
    "tool-calls": chat_of(USER, CALL, RESULT, REPLY, tools=TOOLS),
    "escapes-and-controls": chat_of(
        {"role": "user", "content": 'Tab\there, "quoted", back\\slash, bell\x07, del\x7f, é'},
        REPLY,
    ),
    "numbers-and-literals": chat_of(USER, {**REPLY, "weight": 1}, seed=-5, big=123456789012345678),
    "other-keys-first": {"id": 7, "meta": {"z": [], "a": {}}, **chat_of(USER, REPLY)},
    "ends-with-the-user": chat_of(REPLY, USER),
    "empty-messages": chat_of(),
    "messages-not-a-list": {"messages": {"role": "user"}},
    "no-messages": {"prompt": "x"},
    "last-not-an-object": {"messages": [USER, "hello"]},
    "falsy-tools": chat_of(USER, REPLY, tools=[]),
    "null-tools": chat_of(USER, REPLY, tools=None),
    "string-tools": chat_of(USER, REPLY, tools="track"),
}


def chat_lines(data: dict) -> list[bytes]:
    """``data`` written as three writers would: spaced, compact and ASCII-only, reversed keys."""
    reverse = json.loads(json.dumps(data), object_pairs_hook=lambda pairs: dict(pairs[::-1]))
    return [
        (json.dumps(data, ensure_ascii=False) + "\n").encode(),
        json.dumps(data, separators=(",", ":")).encode() + b"\r\n",
        (json.dumps(reverse, indent=None) + "\n").encode(),
    ]


def python_chat_pairs(lines: list[bytes]) -> tuple[list, list, list]:
    """What the Python pass logs of ``lines``, an item a line as chat_pairs gives it."""
    batch = Batch(Format.CHAT, list(range(len(lines))), lines, [json.loads(line) for line in lines])
    keys, values, ends = _chat_pairs(batch)
    found_keys, found_values = iter(keys), iter(values)
    return (
        [next(found_keys) if ended else None for ended in ends],
        [next(found_values) if ended else None for ended in ends],
        ends,
    )


@built
@pytest.mark.parametrize("name", sorted(READABLE_CHATS))
def test_chats_are_fingerprinted_as_python_does_in_any_key_order_and_spacing(name):
    lines = chat_lines(READABLE_CHATS[name])
    found = native.chat_pairs(lines)
    assert found == python_chat_pairs(lines)
    keys, values, _ = found
    assert len(set(keys)) <= 1 and len(set(values)) <= 1  # the same example, however written


#: A chat's texts with the escapes writers write; ``\/`` is PHP's ``json_encode``.
ESCAPED_TEXTS = {
    "slashes": rb"http:\/\/example.com\/track\/147",
    "kept-escapes": rb"Tab\there, \"quoted\", back\\slash\r\n\b\f",
    "an-escaped-backslash-before-u": rb"C:\\users\\u0041",
    "unicode-escapes-among-kept-ones": rb"caf\u00e9\n\"cr\u00e8me\"\t\u0007 \ud83d\udce6" * 20,
    "a-control-escape-at-the-end": rb"bell\u0007",
}


@built
@pytest.mark.parametrize("text", ESCAPED_TEXTS.values(), ids=ESCAPED_TEXTS)
def test_escaped_texts_are_fingerprinted_as_orjson_writes_them(text):
    line = b'{"messages": [{"role": "user", "content": "%s"}, %s]}' % (
        text,
        json.dumps(REPLY).encode(),
    )
    keys, values, ends = native.chat_pairs([line])
    assert (keys, values, ends) == python_chat_pairs([line])
    assert ends == [True]


#: What random texts are made of: each escape JSON has, text in UTF-8, controls.
PIECES = [
    *(rb"\n", rb"\t", rb"\r", rb"\b", rb"\f", rb"\"", rb"\\", rb"\/", rb"\\u0041"),
    *(rb"\u00e9", rb"\u0007", rb"\u007f", rb"\u2028", rb"\ud83d\udce6", rb"\uD83D\uDCE6"),
    *(b"a", b" ", b"/", b"u", "é".encode(), "“".encode(), "한".encode(), "📦".encode()),
]


@built
def test_random_escaped_chats_are_fingerprinted_as_python_does():
    """A differential run: 2,000 chats of random texts, either key order, some with tools."""
    rng = random.Random(9)

    def text() -> bytes:
        pieces = [rng.choice(PIECES) for _ in range(rng.randrange(12))]
        if rng.random() < 0.03:  # a lone surrogate: left to Python
            pieces.insert(rng.randrange(len(pieces) + 1), rb"\ud83d")
        return b"".join(pieces)

    lines = []
    for _ in range(2000):
        messages = [
            b'{"role": "%s", "content": "%s"}' % (rng.choice([b"user", b"tool"]), text())
            if rng.random() < 0.5
            else b'{"content":"%s","role":"system"}' % text()
            for _ in range(rng.randrange(3))
        ]
        messages.append(b'{"role": "assistant", "content": "%s"}' % text())
        tools = b'"tools": [{"type": "function", "function": {"name": "f"}}], '
        lines.append(
            b'{%s"messages": [%s]}' % (tools if rng.random() < 0.3 else b"", b", ".join(messages))
        )
    found, expected = native.chat_pairs(lines), python_chat_pairs(lines)
    read = [index for index, ends in enumerate(found[2]) if ends is not None]
    assert len(read) > 1800  # most are read in C, not left to Python
    assert [[part[index] for part in found] for index in read] == [
        [part[index] for part in expected] for index in read
    ]


@built
@pytest.mark.parametrize(
    "line",
    [
        b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "weight": 1.0}]}',
        b'{"messages": [{"role": "user", "content": "cut \\ud83d"}]}',
        b'{"messages": [{"role": "user", "n": 1234567890123456789}]}',
        b'{"messages": [{"role": "user", "n": -0}]}',
        b'{"messages": [{"r\\u006fle": "user"}]}',
        b'{"messages": [{"role": "user", "role": "assistant"}]}',
        b'{"messages": [], "messages": [{"role": "assistant"}]}',
        b'{"messages": [' + b"[" * 70 + b"]" * 70 + b"]}",
    ],
    ids=[
        "a-float",
        "a-lone-surrogate",
        "a-long-integer",
        "minus-zero",
        "an-escaped-key",
        "a-duplicate-key",
        "duplicate-messages",
        "deep-nesting",
    ],
)
def test_a_chat_only_orjson_writes_exactly_is_left_to_python(line):
    plain = chat_lines(READABLE_CHATS["plain"])[0]
    keys, values, ends = native.chat_pairs([plain, line, plain])
    assert ends == [True, None, True]
    assert keys[1] is None and values[1] is None
    assert keys[0] == keys[2] is not None


def test_a_chat_written_with_other_key_orders_is_still_a_duplicate(tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "HEAD_RECORDS", 2)
    rows = [
        json.dumps(chat_of({"role": "user", "content": f"Parcel {n}?"}, REPLY)) for n in range(12)
    ]
    rows += [line.decode().rstrip() for line in chat_lines(chat_of(USER, REPLY, tools=TOOLS))]
    path = write_rows(tmp_path / "chat.jsonl", rows)
    compiled = rendered(lint(path, display_path=path.name))
    with monkeypatch.context() as patch:
        python_only(patch)
        pure = rendered(lint(path, display_path=path.name))
    assert not differences(compiled, pure)
    assert [finding.split(":")[1] for finding in compiled["outcomes"]["FT401"][0]] == ["14", "15"]


@built
def test_keys_are_sorted_by_code_point_and_an_escaped_one_is_left_to_python():
    data = chat_of(USER, {**REPLY, "é": 1, "Z": 2, "a": 3, "日": 4})
    written, escaped = (json.dumps(data, ensure_ascii=flag).encode() for flag in (False, True))
    assert native.chat_pairs([written]) == python_chat_pairs([written])
    assert native.chat_pairs([escaped]) == ([None], [None], [None])


@built
@pytest.mark.parametrize("function", ["plain_pairs", "suspect_lines", "chat_pairs"])
@pytest.mark.parametrize("lines", [(b"{}",), [b"{}", "{}"]], ids=["a-tuple", "a-str"])
def test_anything_but_a_list_of_bytes_is_a_type_error(function, lines):
    with pytest.raises(TypeError, match=rf"{function}\(\) takes a list of bytes"):
        getattr(native, function)(lines)


#: Lines changed by a garbage collector's callback as soon as it starts, which a list the
#: function makes may start (before Python 3.12; from it, a collection waits for Python
#: code to run): read as they were measured, they were freed items, or lines longer than
#: the buffer sized for them (a write past its end).
GC_CHANGES_THE_LINES = """
import gc
import sys
from pytest_finetune import _native
line = b'{"prompt": "a ->", "completion": " b\\\\n"}'
before = [line] * 50
lines = list(before)
after = [line.replace(b"a ->", b"\\\\u00e9" * 100_000)] * int(sys.argv[2])
armed = False
def change(phase, info):
    global armed
    if phase == "start" and armed:
        armed = False
        gc.set_threshold(700)
        lines[:] = after
gc.callbacks.append(change)
# Lists kept so that the next one made is new (not reused), and counted by the collector.
kept = [[] for _ in range(200)]
gc.set_threshold(int(sys.argv[3]))
gc.collect()
armed = True
read = getattr(_native, sys.argv[1])
try:
    found = read(lines)
except RuntimeError as error:
    print(error)
else:
    armed = False
    print(found in (read(before), read(after)))
"""


@built
@pytest.mark.parametrize("function", ["plain_pairs", "suspect_lines", "chat_pairs"])
def test_lines_the_garbage_collector_changes_as_they_are_read_do_not_crash_it(function):
    # The collector runs at the second object made from here (the first: the dict its
    # callbacks are told about), or the third for plain_pairs, which takes its arguments
    # as a tuple: in each function, at the first object it makes.
    threshold = "2" if function == "plain_pairs" else "1"

    def run(count: int) -> tuple[int, str]:
        return run_python(GC_CHANGES_THE_LINES, function, str(count), threshold)

    # As many lines, longer ones: read as they are before or after the collection.
    assert run(50) == (0, "True\n")
    # Fewer lines: not read at all, where the collection ran as the function did.
    changed = sys.version_info < (3, 12)
    told = f"{function}(): the list of lines changed size" if changed else "True"
    assert run(10) == (0, f"{told}\n")
