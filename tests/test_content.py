"""FT4xx: repeated examples, conflicting labels, and what should not be in training text.

Each check fires on exactly the lines it must, in every format, and stays silent on
look-alikes. Most tests lint a file in-process; the ones about outputs run pytest.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import intents, jsonl, pc

from pytest_finetune import Settings, redact
from pytest_finetune.checks.content import survey as content
from pytest_finetune.checks.content.screen import Flag, Screen
from pytest_finetune.checks.content.searches import mojibake, placeholders
from pytest_finetune.lint import lint
from pytest_finetune.redact import find_secrets

ALL_FLAGS = 255


def chat(*turns: str, **extra: Any) -> dict[str, Any]:
    """A conversation: user and assistant turns in order."""
    roles = ["user", "assistant"] * len(turns)
    return {
        "messages": [{"role": r, "content": t} for r, t in zip(roles, turns, strict=False)],
        **extra,
    }


def preference(question: str, good: str, bad: str) -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": question}]},
        "preferred_output": [{"role": "assistant", "content": good}],
        "non_preferred_output": [{"role": "assistant", "content": bad}],
    }


def run(tmp_path: Path, data: str | bytes, *codes: str, config: str = "") -> list[str]:
    """Lint ``data`` with the checks ``codes`` only; the rendered findings, in line order."""
    path = tmp_path / "train.jsonl"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if config:
        (tmp_path / "finetune.toml").write_text(config)
    result = lint(path, Settings(overrides={"select": list(codes)}), display_path="train.jsonl")
    rendered = []
    for code in codes:
        outcome = result.outcomes[code]
        assert outcome.crash is None, outcome.crash
        rendered += [f.render() for f in outcome.sorted_findings()]
    return sorted(rendered, key=lambda line: int(line.split(":")[1]) if line.count(":") > 1 else 0)


def lines(tmp_path: Path, data: str | bytes, code: str) -> list[int | None]:
    return [int(found.split(":")[1]) for found in run(tmp_path, data, code)]


# -- FT401 duplicate-example, FT402 conflicting-labels -------------------------------


def test_duplicates_name_the_first_occurrence(tmp_path):
    rows = [
        pc("Where is my parcel? ->", " shipping\n"),
        pc("I was charged twice ->", " billing\n"),
        pc("Where is my parcel? ->", " shipping\n"),
        pc("Reset my password ->", " account\n"),
        {**pc("I was charged twice ->", " billing\n"), "id": 7},  # metadata: same example
        pc("Where is my parcel? ->", " shipping\n"),
        pc("Where is my parcel?  ->", " shipping\n"),  # one more space: another example
    ]
    assert run(tmp_path, jsonl(*rows), "FT401") == [
        "train.jsonl:3: FT401 Duplicate of line 1; delete one of them",
        "train.jsonl:5: FT401 Duplicate of line 2; delete one of them",
        "train.jsonl:6: FT401 Duplicate of line 1; delete one of them",
    ]


def test_a_different_completion_is_a_conflict_not_a_duplicate(tmp_path):
    rows = [
        pc("Card declined ->", " billing\n"),
        pc("Parcel late ->", " shipping\n"),
        pc("Card declined ->", " technical\n"),
        pc("Card declined ->", " billing\n"),
        pc("Card declined ->", " account\n"),
    ]
    data = jsonl(*rows)
    assert lines(tmp_path, data, "FT401") == [4]
    assert run(tmp_path, data, "FT402") == [
        "train.jsonl:3: FT402 Same prompt as line 1 with a different completion "
        "(3 different completions on lines 1, 3, 4, 5); keep the right one",
        "train.jsonl:5: FT402 Same prompt as line 1 with a different completion "
        "(3 different completions on lines 1, 3, 4, 5); keep the right one",
    ]


def test_chat_examples_compare_as_json_whatever_the_key_order(tmp_path):
    first = chat("Where is my parcel?", "It ships tomorrow.")
    reordered = {
        "messages": [
            {"content": "Where is my parcel?", "role": "user"},
            {"content": "It ships tomorrow.", "role": "assistant"},
        ]
    }
    other_reply = chat("Where is my parcel?", "It left the depot today.")
    with_tools = {**first, "tools": [{"type": "function", "function": {"name": "track"}}]}
    longer = chat("Hi", "Hello!", "Where is my parcel?", "It ships tomorrow.")
    data = jsonl(first, reordered, other_reply, with_tools, longer, with_tools)
    assert run(tmp_path, data, "FT401", "FT402") == [
        "train.jsonl:2: FT401 Duplicate of line 1; delete one of them",
        "train.jsonl:3: FT402 Same conversation up to the last assistant message as line 1 "
        "with a different assistant reply (2 different assistant replies on lines 1, 2, 3); "
        "keep the right one",
        "train.jsonl:6: FT401 Duplicate of line 4; delete one of them",
    ]


def test_preference_pairs_conflict_only_when_the_preference_is_reversed(tmp_path):
    data = jsonl(
        preference("Capital of France?", "Paris.", "Lyon."),
        preference("Capital of France?", "Paris.", "Marseille."),  # another pair: fine
        preference("Capital of France?", "Lyon.", "Paris."),  # reversed
        preference("Capital of France?", "Paris.", "Lyon."),  # repeated
    )
    assert run(tmp_path, data, "FT401", "FT402") == [
        "train.jsonl:3: FT402 Same input and outputs as line 1 with the preference reversed; "
        "keep the right one",
        "train.jsonl:4: FT401 Duplicate of line 1; delete one of them",
    ]


def test_distinct_examples_give_nothing(tmp_path):
    data = jsonl(*intents(300))
    assert run(tmp_path, data, "FT401", "FT402") == []


# -- FT403 unfilled-placeholder ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Dear {customer_name}, thanks", ["{customer_name}"]),
        ("Summarise {text} briefly", ["{text}"]),
        ("Hello {{ name }} and {{user.email}}", ["{{ name }}", "{{user.email}}"]),
        ("Greet <FIRST_NAME> now", ["<FIRST_NAME>"]),
        ("Send it to <insert address here>", ["<insert address here>"]),
        ("Best regards, [Your Name]", ["[Your Name]"]),
        ("Dear [Name], on [Date] we", ["[Name]", "[Date]"]),
        ("[INSERT COMPANY] is great", ["[INSERT COMPANY]"]),
        (
            "Call [Phone Number] or write [Recipient's Email]",
            ["[Phone Number]", "[Recipient's Email]"],
        ),
    ],
)
def test_placeholders_are_found(text, found):
    assert list(placeholders(text)) == found


@pytest.mark.parametrize(
    "text",
    [
        'Parse {"order": 42} please',
        "Set S = {x} and \\frac{a}{b}, x^{2}, a_{ij}",
        "Use ${HOME} and {} and {1}",
        "See [the guide](https://example.com) and note [1], [a], [ok]",
        "HTML <b>bold</b>, <EOS>, <UNK> and <T>",
        'In Python: print(f"Hello {name}")',
        "```\n<p>{{ user.name }}</p>\n```",
        "def greet():\n    return '{greeting}'.format(greeting='hi')",
        "The array row[Name] and dict[str, Name]",
    ],
)
def test_code_json_latex_and_markup_are_not_placeholders(text):
    assert list(placeholders(text)) == []


def test_placeholders_are_reported_in_every_format(tmp_path):
    pcs = jsonl(
        pc("Write to {customer_name} ->", " Dear customer\n"),
        pc("Thank them ->", " Thanks!\n"),
        pc("Sign it ->", " Regards, [Your Name] and [Your Title]\n"),
    )
    assert run(tmp_path, pcs, "FT403") == [
        "train.jsonl:1: FT403 Unfilled placeholder '{customer_name}' in prompt; "
        "fill in the template or drop it",
        "train.jsonl:3: FT403 Unfilled placeholder '[Your Name]' in completion; "
        "fill in the template or drop it (2 in this example)",
    ]
    chats = jsonl(chat("Hi", "Hello"), chat("Write the email", "Dear {{recipient}}, hello"))
    assert lines(tmp_path, chats, "FT403") == [2]
    prefs = jsonl(preference("Sign it", "Regards, Ann", "Regards, <SENDER_NAME>"))
    assert run(tmp_path, prefs, "FT403") == [
        "train.jsonl:1: FT403 Unfilled placeholder '<SENDER_NAME>' in "
        "non_preferred_output[0].content; fill in the template or drop it"
    ]


# -- FT404 secret-in-text, FT405 personal-data ---------------------------------------

AWS = "AKIAIOSFODNN7EXAMPLE"
OPENAI = "sk-proj-EXAMPLEexampleEXAMPLEexample0123"
EMAIL = "john.smith@gmail.com"
CARD = "4111 1111 1111 1111"
KEY_BODY = "MIIEowIBAAKCAQEAexampleexampleexample"
PRIVATE_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----"
RAW_SECRETS = (AWS, OPENAI, EMAIL, CARD, "4111111111111111", KEY_BODY, "john.smith")


def secrets_dataset() -> str:
    return jsonl(
        pc(f"My key is {AWS} ->", " account\n"),
        pc("Where is my parcel? ->", f" Mail {EMAIL} for news\n"),
        chat("Which key?", f"Use {OPENAI} in the settings."),
        pc(f"Pay with {CARD} ->", " billing\n"),
        {**pc("Check this ->", f" {PRIVATE_KEY}\n"), "source": f"ticket from {EMAIL}"},
        chat(
            "Call the API",
            "Calling it.",
            **{"tools": [{"type": "function", "function": {"name": "call", "description": AWS}}]},
        ),
    )


def test_secrets_and_personal_data_are_found_in_every_string_and_masked(tmp_path):
    found = run(tmp_path, secrets_dataset(), "FT404", "FT405")
    assert found == [
        "train.jsonl:1: FT404 AWS access key 'AKI***' in prompt; remove it and revoke the secret",
        "train.jsonl:2: FT405 E-mail address 'j***@***.com' in completion; "
        "remove or pseudonymise it",
        "train.jsonl:3: FT404 OpenAI API key 'sk-***' in messages[1].content; "
        "remove it and revoke the secret",
        "train.jsonl:4: FT405 Payment card number '****1111' in prompt; remove or pseudonymise it",
        "train.jsonl:5: FT404 Private key '-----BEGIN PRIVATE KEY-----***' in completion; "
        "remove it and revoke the secret",
        "train.jsonl:5: FT405 E-mail address 'j***@***.com' in source; remove or pseudonymise it",
        "train.jsonl:6: FT404 AWS access key 'AKI***' in tools[0].function.description; "
        "remove it and revoke the secret",
    ]
    for secret in RAW_SECRETS:
        assert all(secret not in finding for finding in found)


def test_no_output_ever_shows_a_secret(lint):
    run_ = lint(
        {"data/train.jsonl": secrets_dataset()},
        "--finetune-sarif=out.sarif",
        "--finetune-github",
        "-v",
        "-rA",
    )
    outputs = {
        "terminal": run_.output,
        "report": json.dumps(run_.report, ensure_ascii=False),
        "sarif": Path("out.sarif").read_text("utf-8"),
    }
    assert "::error file=data/train.jsonl,line=1,title=FT404" in outputs["terminal"]
    assert "FT404 AWS access key 'AKI***' in prompt" in outputs["terminal"]
    assert {"FT404", "FT405"} <= {f["code"] for f in run_.dataset("data/train.jsonl")["findings"]}
    assert '"ruleId": "FT405"' in outputs["sarif"]
    for where, text in outputs.items():
        for secret in RAW_SECRETS:
            assert secret not in text, f"{secret!r} leaked into the {where}"


# -- FT406 mojibake ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("cafÃ©", "'Ã©' is 'é'"),
        ("isnâ€™t", "'â€™' is '\u2019'"),
        ("isn\u00e2\u0080\u0099t", "'â\\x80\\x99' is '\u2019'"),  # read as Latin-1
        ("å¾®è½¯", "'å¾®' is '微'"),
        ("Ã¼ber", "'Ã¼' is 'ü'"),
        ("ðŸ\u02dc€ smile", "'ðŸ\u02dc€' is '😀'"),
        ("lost \ufffd here", "'\ufffd'"),
    ],
)
def test_mojibake_is_recognised_and_decoded(text, shown):
    assert next(mojibake(text))[2] == shown


@pytest.mark.parametrize(
    "text",
    [
        "café, naïve, Ça, ÉTÉ À PARIS",
        "微软 and 😀",
        "“quoted” — dash … ellipsis",
        "Æsir, ß, ØRESUND",
    ],
)
def test_correct_text_is_not_mojibake(text):
    assert list(mojibake(text)) == []


#: Mojibake defined on characters: a lead character that a UTF-8 lead byte became
#: (U+00C2-U+00F4) with as many continuation characters as that byte announces, each
#: what a Windows-1252 or Latin-1 decoder made of a continuation byte.
_CP1252_HIGH = bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore")
_CONTINUATION = f"[\x80-\xbf{_CP1252_HIGH}]"
_MOJIBAKE_CHARACTERS = re.compile(
    f"[\xc2-\xdf]{_CONTINUATION}|[\xe0-\xef]{_CONTINUATION}{{2}}|[\xf0-\xf4]{_CONTINUATION}{{3}}"
)


def _mojibake_of_characters(text: str) -> list[tuple[int, int, str]]:
    """What :func:`mojibake` finds, searched for character by character."""
    found = []
    for match in _MOJIBAKE_CHARACTERS.finditer(text):
        for encoding in ("cp1252", "latin-1"):
            try:
                meant = match.group().encode(encoding).decode("utf-8")
            except UnicodeError:
                continue
            found.append((match.start(), match.end(), f"{match.group()!r} is {meant!r}"))
            break
    if "\ufffd" in text:
        found.append((text.index("\ufffd"), text.index("\ufffd") + 1, repr("\ufffd")))
    return found


def test_mojibake_found_in_bytes_is_what_a_search_of_the_characters_finds():
    """Every short string over the characters that matter, after wide characters.

    The spans are counted in characters whatever the bytes before them: CJK, emoji and
    a lone surrogate take 3, 4 and 3 bytes each.
    """
    alphabet = "aé “”\u2019Ãâåð€\x80\x99\xa9\xc2\xdf\xe0\xef\xf0\xf4\xf5\xc1\xbf\xc0微😀\ufffd"
    alphabet += _CP1252_HIGH
    found = 0
    for before in ("", "微😀\ud800 Ã€ ", "Ã©"):
        for first in alphabet:
            for second in alphabet:
                for third in ("", "\x80", "€", "a"):
                    for end in ("", "\x99"):
                        text = before + first + second + third + end
                        assert list(mojibake(text)) == _mojibake_of_characters(text), repr(text)
                        found += bool(_mojibake_of_characters(text))
    assert found > 1000  # (the alphabet makes mojibake, and correct text)


def test_mojibake_is_found_whether_the_file_escapes_non_ascii_or_not(tmp_path):
    rows = [pc("The cafÃ© is closed ->", " shipping\n"), pc("Fine ->", " other\n")]
    rows.append(chat("Where?", "It isnâ€™t here."))
    for escaped in (True, False):
        data = "".join(json.dumps(row, ensure_ascii=escaped) + "\n" for row in rows)
        assert lines(tmp_path, data, "FT406") == [1, 3]


# -- FT407 control-character, FT408 lone-surrogate ------------------------------------


def test_control_characters_are_reported_with_their_code_point(tmp_path):
    data = (
        '{"prompt": "Total:\\u0007 42 ->", "completion": " billing\\n"}\n'
        '{"prompt": "Tabs\\tand\\r\\nnewlines ->", "completion": " fine\\n"}\n'
        '{"prompt": "Page\\fbreak ->", "completion": " back\\bspace\\n"}\n'
        '{"prompt": "Delete \x7f ->", "completion": " other\\n"}\n'
        '{"prompt": "Next line \\u0085 ->", "completion": " other\\n"}\n'
        '{"messages": [{"role": "user", "content": "Hi\\u001b[0m"}, '
        '{"role": "assistant", "content": "Hello"}]}\n'
    )
    assert run(tmp_path, data, "FT407") == [
        "train.jsonl:1: FT407 Control character U+0007 (BEL) in prompt; remove it",
        "train.jsonl:3: FT407 Control character U+000C (FORM FEED) in prompt; remove it "
        "(2 in this example)",
        "train.jsonl:4: FT407 Control character U+007F (DELETE) in prompt; remove it",
        "train.jsonl:5: FT407 Control character U+0085 in prompt; remove it",
        "train.jsonl:6: FT407 Control character U+001B (ESCAPE) in messages[0].content; remove it",
    ]


def test_control_characters_are_found_in_text_of_any_script(tmp_path):
    # Non-ASCII texts are searched apart: the same control characters, on the same lines.
    data = (
        '{"prompt": "Итого:\\u0007 42 ->", "completion": " billing\\n"}\n'
        '{"prompt": "Café ->", "completion": " 请\x7f稍等\\n"}\n'
        '{"prompt": "Café\\t“tabs” and\\r\\nnewlines ->", "completion": " 很好\\n"}\n'
        '{"prompt": "Ligne suivante \\u0085 é ->", "completion": " other\\n"}\n'
        '{"messages": [{"role": "user", "content": "Привет\\u001b[0m 👋"}, '
        '{"role": "assistant", "content": "Здравствуйте"}]}\n'
    )
    assert run(tmp_path, data, "FT407") == [
        "train.jsonl:1: FT407 Control character U+0007 (BEL) in prompt; remove it",
        "train.jsonl:2: FT407 Control character U+007F (DELETE) in completion; remove it",
        "train.jsonl:4: FT407 Control character U+0085 in prompt; remove it",
        "train.jsonl:5: FT407 Control character U+001B (ESCAPE) in messages[0].content; remove it",
    ]


def test_garbled_c1_characters_are_mojibake_not_controls(tmp_path):
    data = jsonl(pc("It isn\u00e2\u0080\u0099t ->", " other\n"))
    assert run(tmp_path, data, "FT406", "FT407") == [
        "train.jsonl:1: FT406 Mojibake in prompt: 'â\\x80\\x99' is '\u2019' (UTF-8 read as "
        "Windows-1252); decode the source as UTF-8 or repair it with ftfy"
    ]


def test_lone_surrogates_are_reported_and_pairs_are_not(tmp_path):
    data = (
        '{"prompt": "Great \\ud83d ->", "completion": " other\\n"}\n'
        '{"prompt": "Great \\ud83d\\ude00 ->", "completion": " other\\n"}\n'
        '{"messages": [{"role": "user", "content": "cut \\udc00"}, '
        '{"role": "assistant", "content": "ok"}]}\n'
    )
    assert lines(tmp_path, data, "FT408") == [1, 3]


# -- FT409 special-token -------------------------------------------------------------


def test_special_tokens_are_reported_except_a_dataset_stop_sequence(tmp_path):
    rows = [pc(f"Question {i}? ->", f" Answer {i}.<|endoftext|>") for i in range(5)]
    rows.append(pc("Hi<|endoftext|> ->", " Hello.<|endoftext|>"))
    rows.append(pc("Chat ->", " <|im_start|>assistant Hi<|im_end|><|endoftext|>"))
    assert run(tmp_path, jsonl(*rows), "FT409") == [
        "train.jsonl:6: FT409 Special token '<|endoftext|>' in prompt: it trains as plain text; "
        "remove it (the format marks roles and ends)",
        "train.jsonl:7: FT409 Special token '<|im_start|>' in completion: it trains as plain "
        "text; remove it (the format marks roles and ends) (2 in this example)",
    ]
    chats = jsonl(chat("Hi", "Hello<|eot_id|>"), chat("a|b <c", "d|>e"))
    assert lines(tmp_path, chats, "FT409") == [1]


# -- the screen ----------------------------------------------------------------------

PROBLEMS = {
    "email": ("write to ann.lee@corp.io", Flag.EMAIL),
    "key": (f"key {AWS} here", Flag.LONG_TOKEN),
    "openai": (f"use {OPENAI}", Flag.LONG_TOKEN),
    "card": (f"card {CARD}", Flag.LONG_TOKEN),
    "brace": ("Dear {name}", Flag.BRACE),
    "bracket": ("Dear [Name]", Flag.BRACKET),
    "angle": ("Hi <NAME>", Flag.ANGLE),
    "special": ("end<|endoftext|>", Flag.ANGLE),
    "control": ("bell\x07", Flag.CONTROL),
    "form feed": ("page\x0cbreak", Flag.CONTROL),
    "delete": ("del\x7f", Flag.CONTROL),
    # Escaped (json.dumps' default), non-ASCII text only shows as escapes in the line.
    "surrogate": ("half \ud83d", Flag.NON_ASCII | Flag.CONTROL),
    "mojibake": ("cafÃ©", Flag.NON_ASCII | Flag.CONTROL),
    "c1": ("x\x85y", Flag.NON_ASCII | Flag.CONTROL),
}


def readable(lines: list[bytes]) -> list[bytes]:
    """The lines a reader yields to the checks: UTF-8 (FT004 reports the others).

    Python's ``surrogatepass`` writes a lone surrogate as bytes that are not UTF-8.
    """
    return [line for line in lines if _utf8(line)]


def _utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def writers(record: dict[str, Any]) -> list[bytes]:
    """The same record as three JSON writers write it."""
    lines = [
        json.dumps(record).encode() + b"\n",
        json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n",
    ]
    with contextlib.suppress(TypeError):  # orjson refuses lone surrogates
        lines.append(orjson.dumps(record) + b"\n")
    return lines


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("where", ["prompt", "completion", "chat", "preference"])
def test_the_screen_never_misses_a_problem(problem, where):
    text, flag = PROBLEMS[problem]
    padded = f"Some words before. {text}. And after, with more words"
    records = {
        "prompt": pc(padded, " label\n"),
        "completion": pc("Question ->", " " + padded),
        "chat": chat("Hello there", padded),
        "preference": preference("Question", padded, "Other answer"),
    }
    screen = Screen(ALL_FLAGS)
    for raw in readable(writers(records[where])):
        assert screen.raw(raw) & flag, raw
    if where in ("prompt", "completion"):
        record = records[where]
        assert screen.texts(record["prompt"], record["completion"]) & flag


def test_clean_text_passes_the_screen():
    screen = Screen(ALL_FLAGS)
    for row in intents(50):
        assert screen.texts(row["prompt"], row["completion"]) == 0
        assert screen.raw(json.dumps(row).encode()) == 0
    assert screen.lines([json.dumps(row).encode() + b"\n" for row in intents(50)]) == []


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_the_screen_of_joined_lines_finds_the_line_of_a_problem(problem):
    text = PROBLEMS[problem][0]
    row = pc(f"Some words before. {text} ->", " label\n")
    clean = [json.dumps(other).encode() + b"\n" for other in intents(10)]
    screen = Screen(ALL_FLAGS)
    for line in readable(writers(row)):
        assert screen.lines([*clean[:5], line, *clean[5:]]) == [5], line


# -- keys whatever their letters ---------------------------------------------------
# The screen drops lowercase letters, so a key whose body is lowercase leaves no long
# run: it is found from the literal it starts with (sk-, ghp_, AIza, ...).

#: For each kind of :data:`pytest_finetune.redact._KEYS`: how its keys are written,
#: as (before the body, body length, after the body).
KEY_SHAPES: dict[str, list[tuple[str, int, str]]] = {
    "private-key": [
        ("-----BEGIN PRIVATE KEY-----\n", 40, "\n-----END PRIVATE KEY-----"),
        ("-----BEGIN RSA PRIVATE KEY-----\n", 40, ""),
    ],
    "openai-key": [("sk-", 24, ""), ("sk-proj-", 40, ""), ("sk-svcacct-", 20, "")],
    "aws-access-key": [("AKIA", 16, ""), ("ASIA", 16, "")],
    "github-token": [(f"gh{kind}_", 36, "") for kind in "pousr"] + [("github_pat_", 62, "")],
    "google-api-key": [("AIza", 35, "")],
    "slack-token": [(f"xox{kind}-", 12, "") for kind in "abposr"],
    "jwt": [("eyJ", 12, ".eyJabcdefghijklmnop.qrstuvwxyz0123")],
    "stripe-key": [("sk_live_", 24, ""), ("rk_live_", 24, "")],
    "huggingface-token": [("hf_", 34, "")],
}
KEY_BODIES = {
    "lowercase": "abcdefghijklmnopqrstuvwxyz",
    "uppercase": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digits": "0123456789",
    "mixed": "aB3xY9qR",
}


def keys_of(kind: str) -> list[str]:
    """Keys of ``kind`` with bodies of every case that its pattern takes."""
    patterns = [pattern for name, pattern, _ in redact._KEYS if name == kind]
    made = []
    for before, length, after in KEY_SHAPES[kind]:
        for alphabet in KEY_BODIES.values():
            key = before + (alphabet * length)[:length] + after
            if any(pattern.fullmatch(key) for pattern in patterns):
                made.append(key)
    return made


def test_every_kind_of_key_has_shapes_to_test():
    assert {kind for kind, _, _ in redact._KEYS} == set(KEY_SHAPES)
    for kind, shapes in KEY_SHAPES.items():
        # AWS keys are capitals and digits only.
        bodies = len(shapes) * (2 if kind == "aws-access-key" else len(KEY_BODIES))
        assert len(keys_of(kind)) == bodies, kind
        for key in keys_of(kind):
            assert [secret.kind for secret in find_secrets(f"Use {key} now")] == [kind]


def places_of(key: str) -> dict[str, dict[str, Any]]:
    """A record of each kind with ``key`` in a text."""
    arguments = json.dumps({"token": key, "region": "eu-west-1"})
    call = {"id": "call_55263c835dc0", "type": "function"}
    return {
        "prompt": pc(f"Token {key} failed, why? ->", " auth\n"),
        "completion": pc("Which token? ->", f" {key}\n"),
        "chat": chat("Which key should I use?", f"Use {key} in the settings."),
        "tool call": {
            "messages": [
                {"role": "user", "content": "Check the key"},
                {
                    "role": "assistant",
                    "tool_calls": [{**call, "function": {"name": "check", "arguments": arguments}}],
                },
                {"role": "tool", "tool_call_id": call["id"], "content": "ok"},
                {"role": "assistant", "content": "It works."},
            ]
        },
        "preference": preference("Which key?", f"Use {key}.", "None."),
    }


@pytest.mark.parametrize("kind", sorted(KEY_SHAPES))
def test_the_screen_flags_every_key_whatever_its_letters(kind):
    screen = Screen(ALL_FLAGS)
    clean = [
        json.dumps(pc(text + " ->", " " + text + "\n"), ensure_ascii=False).encode() + b"\n"
        for text in MULTILINGUAL
    ]
    for key in keys_of(kind):
        for where, record in places_of(key).items():
            for raw in writers(record):
                assert screen.raw(raw, json.loads(raw)) & Flag.LONG_TOKEN, (where, raw)
            if where in ("prompt", "completion"):
                assert screen.texts(record["prompt"], record["completion"]) & Flag.LONG_TOKEN
                for line in writers(record):
                    assert screen.lines([*clean, line, *clean]) == [len(clean)], line


@pytest.mark.parametrize("kind", sorted(KEY_SHAPES))
def test_every_key_is_reported_at_its_line_whatever_its_letters(tmp_path, kind):
    clean = [pc(text + " ->", " " + text + "\n") for text in MULTILINGUAL]
    for where in ("prompt", "completion", "chat", "tool call"):
        rows: list[Any] = []
        lines = []
        for key in keys_of(kind):
            if where in ("prompt", "completion"):
                rows += clean
            else:
                rows += [chat(text, text) for text in MULTILINGUAL]
            rows.append(places_of(key)[where])
            lines.append(len(rows))
        found = run(tmp_path, jsonl(*rows), "FT404")
        assert [int(finding.split(":")[1]) for finding in found] == lines, (where, found)
        described = redact.DESCRIPTIONS[kind]
        described = described[0].upper() + described[1:]
        assert all(f"FT404 {described} " in finding for finding in found), found
        assert not any(key in finding for key in keys_of(kind) for finding in found)


@pytest.mark.parametrize("spacing", [20, 2000], ids=["dense", "sparse"])
def test_keys_and_escapes_are_found_among_many_bytes_that_start_none(spacing):
    """Each '-', '_' or backslash is checked one by one while they are sparse (a
    prompt's ' ->', a completion's \\n); where they are dense, ``re`` looks for the rest.
    """
    screen = Screen(ALL_FLAGS)
    filler = ("Plain words. " * (spacing // 13 + 1))[:spacing]
    clean = [
        json.dumps(pc(f"{filler} snake_case {index}\n{filler} ->", f" {filler}\n"))
        for index in range(40)
    ]
    for problem in (
        "sk-abcdefghijklmnopqrstuvwxyz",
        "hf_abcdefghijklmnopqrstuvwxyzabcdefgh",
        "\x07",
    ):
        line = json.dumps(pc(f"{filler} ->", f" {filler} {problem}\n"))
        for at in (0, 20, 40):
            lines = [row.encode() + b"\n" for row in [*clean[:at], line, *clean[at:]]]
            assert screen.lines(lines) == [at], (problem, at)
        assert screen.lines([row.encode() + b"\n" for row in clean]) == []


#: Text with bytes that keys start with, but no key: it passes the screen ("risk-free"
#: would not: it holds "sk-", and is searched for nothing).
LOOK_ALIKES = [
    "A well-known check-in e-mail about the x-ray (JSON, JWT, Zürich, pizza).",
    "I realize the job_id and snake_case names; see gh pages or hf hub.",
    "Éxito: “naïve” café—Größe €42, 订单 👍🏽, ok-ish 😀 Jazz.",
]


def test_text_that_only_looks_like_keys_passes_the_screen():
    screen = Screen(ALL_FLAGS)
    rows = [pc(text + " ->", " " + text + "\n") for text in LOOK_ALIKES + MULTILINGUAL]
    for row in rows:
        assert screen.texts(row["prompt"], row["completion"]) == 0
        for raw in writers(row):
            assert screen.raw(raw, json.loads(raw)) == 0, raw
        for raw in writers(chat(row["prompt"], row["completion"])):
            assert screen.raw(raw, json.loads(raw)) == 0, raw
    lines = [json.dumps(row, ensure_ascii=False).encode() + b"\n" for row in rows]
    assert screen.lines(lines) == []


# Text as people write it: accents, curly quotes and dashes, Cyrillic, CJK, emoji with
# joined sequences and flags, and accented letters next to quotes.
MULTILINGUAL = [
    "“Café” — the naïve façade of São Paulo…",
    "Größe: 42 – Straße “Zürich”, reçu à l’entrepôt",  # noqa: RUF001
    "Здравствуйте, заказ не пришёл",
    "订单还没有到。注文が届きません 주문",
    "Thanks 👍🏽 👨\u200d👩\u200d👧 🇫🇷 ❤️ ©2024 «ok» ½",
]


def test_text_in_any_language_passes_the_screen():
    """Only garbled text (mojibake, U+FFFD, controls) is searched, not every non-ASCII one."""
    screen = Screen(ALL_FLAGS)
    rows = [pc(text + " ->", " " + text + "\n") for text in MULTILINGUAL]
    for row in rows:
        assert screen.texts(row["prompt"], row["completion"]) == 0
        for raw in writers(row):
            assert screen.raw(raw, json.loads(raw)) == 0, raw
    lines = [json.dumps(row, ensure_ascii=False).encode() + b"\n" for row in rows]
    assert screen.lines(lines) == []


def test_the_screen_of_joined_lines_finds_each_line_with_a_problem():
    """Text in any language around them: only the lines with a problem are named."""
    clean = [
        json.dumps(pc(text + " ->", " " + text + "\n"), ensure_ascii=False).encode() + b"\n"
        for text in MULTILINGUAL
    ]
    problems = [PROBLEMS[name][0] for name in ("mojibake", "brace", "c1", "key", "control")]
    lines = []
    for text in problems:
        lines += clean
        lines.append(json.dumps(pc(f"{text} ->", " label\n"), ensure_ascii=False).encode() + b"\n")
    problem_lines = [len(clean) * (index + 1) + index for index in range(len(problems))]
    assert Screen(ALL_FLAGS).lines(lines) == problem_lines


def test_escapes_that_write_nothing_wrong_pass_the_screen():
    """Escaped backslashes escape nothing; escaped text is read for what it writes."""
    screen = Screen(ALL_FLAGS)
    texts = (
        "C:\\\\bin\\\\file",
        "a regex \\\\b\\\\w+ and \\\\u00e9",
        "café 😀",
        '{"status": "late"}',
    )
    for text in texts:
        row = chat("Hello there", text)
        raw = json.dumps(row).encode()
        assert screen.raw(raw, json.loads(raw)) == 0, raw


def test_records_that_pass_the_screen_are_not_searched(tmp_path, monkeypatch):
    searched: list[int] = []
    original = content._Pass._inspect

    def inspect(self, record, flags):
        searched.append(record.line)
        original(self, record, flags)

    monkeypatch.setattr(content._Pass, "_inspect", inspect)
    rows = intents(210)
    rows[200] = pc("Mail me at ann@corp.io ->", " account\n")
    assert run(tmp_path, jsonl(*rows), *(f"FT40{n}" for n in range(1, 10))) == [
        "train.jsonl:201: FT405 E-mail address 'a***@***.io' in prompt; remove or pseudonymise it"
    ]
    assert searched == [201]


def test_checks_share_one_pass_over_the_records(tmp_path, monkeypatch):
    """Nine checks, one visit per record: the first check visits for the others."""
    visits: list[int] = []
    original, original_batch = content._Pass.visit, content._Pass.visit_batch

    def visit(self, record):
        visits.append(record.line)
        original(self, record)

    def visit_batch(self, batch):
        visits.extend(batch.lines)
        original_batch(self, batch)

    monkeypatch.setattr(content._Pass, "visit", visit)
    monkeypatch.setattr(content._Pass, "visit_batch", visit_batch)
    assert run(tmp_path, jsonl(*intents(20)), *(f"FT40{n}" for n in range(1, 10))) == []
    assert visits == list(range(1, 21))


def test_when_the_visiting_check_crashes_the_others_say_so(tmp_path, monkeypatch):
    def crash(self, record_or_batch):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(content._Pass, "visit", crash)
    monkeypatch.setattr(content._Pass, "visit_batch", crash)
    path = tmp_path / "train.jsonl"
    path.write_text(jsonl(*intents(20)))
    result = lint(path, Settings(overrides={"select": ["FT4"]}))
    crashes = {code: outcome.crash for code, outcome in result.outcomes.items()}
    assert "ZeroDivisionError: bug" in crashes.pop("FT401")
    for code, crash in crashes.items():
        assert crash is not None, code
        assert "survey crashed while FT401 drove it" in crash


def test_deeply_nested_json_is_searched_without_exhausting_the_stack(tmp_path):
    depth = 1000  # orjson reads up to 1,024 levels; Python recursion stops near 1,000
    nested = "[" * depth + json.dumps(f"mail {EMAIL}") + "]" * depth
    line = '{"prompt": "Deep ->", "completion": " other\\n", "meta": ' + nested + "}\n"
    [finding] = run(tmp_path, line, "FT405")
    assert finding.startswith("train.jsonl:1: FT405 E-mail address 'j***@***.com' in meta[0][0]")


def test_deeply_nested_chat_examples_are_compared_without_crashing(tmp_path):
    # Deeper than orjson writes (254 levels): compared as nested tuples instead.
    nested = "[" * 300 + "1" + "]" * 300
    line = (
        '{"messages": [{"role": "user", "content": "Hi", "extra": ' + nested + "}, "
        '{"role": "assistant", "content": "Hello"}]}\n'
    )
    assert run(tmp_path, line * 2, "FT401", "FT402") == [
        "train.jsonl:2: FT401 Duplicate of line 1; delete one of them"
    ]


def test_examples_nested_deeper_than_the_stack_are_never_called_the_same(tmp_path):
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        nested = "[" * 600 + "1" + "]" * 600
        line = (
            '{"messages": [{"role": "user", "content": "Hi", "extra": ' + nested + "}, "
            '{"role": "assistant", "content": "Hello"}]}\n'
        )
        assert run(tmp_path, line * 2, "FT401", "FT402") == []  # no claim, no crash
    finally:
        sys.setrecursionlimit(limit)
