"""Hostile input never produces a traceback: every file gets findings that say what is wrong."""

from __future__ import annotations

import gzip
import random

import pytest
from helpers import intents, jsonl, pc

GOOD = jsonl(*intents(100))
N = 100  # lines in GOOD


def assert_clean_exit(run) -> None:
    output = run.output
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
    assert "pytest-finetune bug" not in output


def test_invalid_utf8_in_the_middle_is_reported_with_its_byte_offset_and_reading_goes_on(lint):
    lines = GOOD.encode().splitlines(keepends=True)
    bad = b'{"prompt": "caf\xe9 ->", "completion": " billing\\n"}\n'
    data = b"".join(lines[:5]) + bad + b"".join(lines[5:]) + b'{"prompt": 1,}\n'
    offset = len(b"".join(lines[:5])) + bad.index(b"\xe9")
    run = lint({"data/train.jsonl": data})
    assert_clean_exit(run)
    findings = run.dataset("data/train.jsonl")["findings"]
    utf8 = [f for f in findings if f["code"] == "FT004"]
    assert [(f["line"], f["column"]) for f in utf8] == [(6, 16)]
    assert f"at file offset {offset:,}" in utf8[0]["message"]
    assert run.lines("data/train.jsonl", "FT003") == [N + 2]
    assert run.dataset("data/train.jsonl")["examples"] == N


def test_nul_byte_inside_a_line_is_invalid_json_at_its_column(lint):
    data = GOOD + '{"prompt": "a\x00b ->", "completion": " x"}\n'
    run = lint({"data/train.jsonl": data})
    assert_clean_exit(run)
    [finding] = run.dataset("data/train.jsonl")["findings"]
    assert (finding["code"], finding["line"], finding["column"]) == ("FT003", N + 1, 14)
    assert "NUL" in finding["message"]


def test_a_file_of_nul_bytes_is_binary(lint):
    run = lint({"data/train.jsonl": b"\x00" * 4096 + GOOD.encode()})
    assert_clean_exit(run)
    assert run.findings("data/train.jsonl") == [(None, "FT002")]


def test_a_50_mb_single_line_is_parsed(lint):
    huge = pc("Summarise this ->", " " + "lorem ipsum " * (50 * 1024 * 1024 // 12))
    run = lint({"data/train.jsonl": jsonl(huge)})
    assert_clean_exit(run)
    dataset = run.dataset("data/train.jsonl")
    assert dataset["examples"] == 1
    # One example is too few, and far too long: a lower bound proves it without
    # tokenizing 50 MB.
    assert [f["code"] for f in dataset["findings"]] == ["FT013", "FT601"]
    characters = len(huge["prompt"]) + len(huge["completion"])
    least = -(-characters // 128)  # no token is longer than 128 bytes
    assert f"at least {least:,} tokens" in dataset["findings"][1]["message"]


def test_a_line_over_max_line_bytes_is_skipped_and_reading_goes_on(lint):
    long_line = jsonl(pc("x" * 5000 + " ->", " billing"))
    run = lint(
        {
            "data/finetune.toml": "max-line-bytes = 1000\n",
            "data/train.jsonl": GOOD + long_line + '{"prompt": }\n',
        }
    )
    assert_clean_exit(run)
    assert run.lines("data/train.jsonl", "FT011") == [N + 1]
    assert run.lines("data/train.jsonl", "FT003") == [N + 2]


@pytest.mark.parametrize(
    "nested",
    ["[" * 200_000, '{"a":' * 200_000, "[" * 200_000 + "]" * 200_000],
    ids=["open-arrays", "open-objects", "closed-arrays"],
)
@pytest.mark.parametrize("first", [True, False], ids=["first-line", "later-line"])
def test_200000_levels_of_nesting_are_invalid_json(lint, nested, first):
    data = nested + "\n" + GOOD if first else GOOD + nested + "\n"
    run = lint({"data/train.jsonl": data})
    assert_clean_exit(run)
    assert run.lines("data/train.jsonl", "FT003") == [1 if first else N + 1]


def test_lone_surrogate_escapes_are_valid_json(lint):
    # The JSON grammar allows "\ud800"; the content checks report the surrogate.
    run = lint({"data/train.jsonl": GOOD + '{"prompt": "a\\ud800 ->", "completion": " x"}\n'})
    assert_clean_exit(run)
    assert run.findings("data/train.jsonl", "FT003") == []
    assert run.dataset("data/train.jsonl")["examples"] == N + 1


def test_duplicate_keys_are_reported_at_any_depth(lint):
    data = GOOD + (
        '{"prompt": "a ->", "completion": " x", "completion": " y"}\n'
        '{"messages": [{"role": "user", "content": "a", "role": "assistant"}]}\n'
    )
    run = lint({"data/train.jsonl": data}, "--finetune-extend-select=FT010")
    assert_clean_exit(run)
    assert run.lines("data/train.jsonl", "FT010") == [N + 1, N + 2]


def test_gzip_bytes_are_a_binary_file(lint):
    run = lint({"data/train.jsonl": gzip.compress(GOOD.encode())})
    assert_clean_exit(run)
    [finding] = run.dataset("data/train.jsonl")["findings"]
    assert finding["code"] == "FT002"
    assert "gzip" in finding["message"]


def test_random_binary_is_a_binary_file(lint):
    noise = random.Random(7).randbytes(100_000)
    run = lint({"data/train.jsonl": noise})
    assert_clean_exit(run)
    assert run.findings("data/train.jsonl") == [(None, "FT002")]


@pytest.mark.parametrize("content", ["", " \n\n\t\n"], ids=["empty", "whitespace"])
def test_empty_and_whitespace_only_files_are_one_empty_file_finding(lint, content):
    run = lint({"data/train.jsonl": content})
    assert_clean_exit(run)
    assert run.findings("data/train.jsonl") == [(None, "FT001")]
    assert run.result.ret == 1


def test_no_trailing_newline_is_information_only(lint):
    run = lint({"data/train.jsonl": GOOD.rstrip("\n")})
    assert_clean_exit(run)
    assert run.findings("data/train.jsonl") == [(N, "FT012")]
    assert run.result.ret == 0


def test_file_names_with_spaces_and_non_ascii_characters(lint):
    name = "data/donnees d'entrainement été.jsonl"
    run = lint({name: GOOD + "{oops}\n"})
    assert_clean_exit(run)
    assert run.findings(name) == [(N + 1, "FT003")]
    run.result.stdout.fnmatch_lines([f"{name}:{N + 1}:2: FT003 Invalid JSON*"])


def test_every_problem_in_a_file_is_reported_not_just_the_first(lint):
    data = (
        '{"prompt": "a ->", "completion": " x"}\r\n'
        "\n"
        "[1, 2]\n"
        '{"prompt": "b ->",}\n'
        '"text"\n'
        '{"prompt": "c ->", "completion": " y", "prompt": "d"}\n'
    )
    run = lint({"data/train.jsonl": data}, "--finetune-select=ALL")
    assert_clean_exit(run)
    # The file and syntax findings; the two examples' contents are other checks' concern.
    syntax = [(line, code) for line, code in run.findings("data/train.jsonl") if code < "FT1"]
    assert syntax == [
        (None, "FT013"),
        (1, "FT008"),
        (2, "FT007"),
        (3, "FT005"),
        (4, "FT003"),
        (5, "FT005"),
        (6, "FT010"),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '[\n  {"prompt": "a ->", "completion": " x"},\n  {"prompt": "b ->", "completion": " y"}\n]\n',
            "a JSON array of 2 items spread over many lines",
        ),
        (
            '{\n  "prompt": "a ->",\n  "completion": " x"\n}\n{\n  "prompt": "b"\n}\n',
            "2 pretty-printed JSON value(s)",
        ),
        (
            '[{"prompt": "a ->", "completion": " x"}, {"prompt": "b ->", "completion": " y"}]\n',
            "a JSON array of 2 objects on one line",
        ),
        (
            '[\n  {"prompt": "a ->", "completion": " x"},\n  {"prompt": broken}\n]\n',
            "it looks like JSON spread over many lines",
        ),
    ],
    ids=["array", "pretty-objects", "one-line-array", "broken-array"],
)
def test_json_documents_are_one_finding_with_how_to_convert(lint, content, expected):
    run = lint({"data/train.jsonl": content})
    assert_clean_exit(run)
    [finding] = run.dataset("data/train.jsonl")["findings"]
    assert finding["code"] == "FT006"
    assert expected in finding["message"]
    assert "pytest-finetune prepare" in finding["message"]


def test_a_broken_first_line_of_jsonl_is_not_mistaken_for_a_document(lint):
    run = lint({"data/train.jsonl": '{"prompt": "a ->", "completion": " x",}\n' + GOOD})
    assert run.findings("data/train.jsonl") == [(1, "FT003")]


def test_bom_is_reported_and_the_first_line_still_parses(lint):
    run = lint({"data/train.jsonl": b"\xef\xbb\xbf" + GOOD.encode()})
    assert run.findings("data/train.jsonl") == [(1, "FT009")]
    assert run.dataset("data/train.jsonl")["examples"] == N


@pytest.mark.parametrize(
    "record",
    [
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a",'
        ' "x": DEEP}]}',
        '{"prompt": "q ->", "completion": " a", "x": DEEP}',
        '{"input": {"messages": [{"role": "user", "content": "q", "x": DEEP}]}, '
        '"preferred_output": [{"role": "assistant", "content": "a"}], '
        '"non_preferred_output": [{"role": "assistant", "content": "b"}]}',
    ],
    ids=["chat", "prompt-completion", "preference"],
)
def test_deep_but_valid_nesting_crashes_no_check(lint, record):
    # orjson accepts up to 1024 levels, deeper than Python's recursion limit allows
    # for a naive walk over the parsed value.
    deep = '{"a": ' * 1000 + "1" + "}" * 1000
    line = record.replace("DEEP", deep)
    run = lint({"data/train.jsonl": (line + "\n") * 3})
    assert_clean_exit(run)
    assert "crashed" not in run.output
