"""`.json` files holding a list of examples are datasets; paths named are checked or refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_files
from helpers import intents, jsonl, pc

from pytest_finetune import json_documents
from pytest_finetune.cli import main
from pytest_finetune.reader import Problem, Reader, SyntaxProblem, holds_examples

#: Twelve clean examples with two faults, pretty-printed as json.dump(indent=2) writes.
ROWS = intents(12)
ROWS[4] = pc("Where is my order (ticket 4) ->", "shipping\n")  # FT120: no leading space
ROWS[9] = dict(ROWS[2])  # FT401: a duplicate of the third example
ARRAY = json.dumps(ROWS, indent=2) + "\n"
#: The line each element starts on: json.dump(indent=2) opens each with "  {".
STARTS = [n for n, line in enumerate(ARRAY.splitlines(), 1) if line == "  {"]
#: What LLaMA-Factory, npm and TypeScript keep beside datasets: JSON, not examples.
NOT_DATASETS = {
    "data/dataset_info.json": json.dumps(
        {"identity": {"file_name": "identity.json"}, "alpaca_en_demo": {"file_name": "a.json"}},
        indent=2,
    ),
    "package.json": '{"name": "app", "version": "1.0.0"}',
    "tsconfig.json": '{\n  "compilerOptions": {"strict": true}\n}\n',
    "data/labels.json": '["billing", "shipping"]\n',
}


def read(path: Path) -> list[tuple[int, dict] | SyntaxProblem]:
    return [
        item if isinstance(item, SyntaxProblem) else (item[0], item[2]) for item in Reader(path)
    ]


def test_elements_are_numbered_by_the_line_they_start_on(tmp_path):
    path = tmp_path / "train.json"
    path.write_text(ARRAY, "utf-8")
    assert read(path) == list(zip(STARTS, ROWS, strict=True))
    minified = tmp_path / "minified.json"
    minified.write_text(json.dumps(ROWS), "utf-8")
    assert read(minified) == [(1, row) for row in ROWS]


def test_the_reader_holds_a_chunk_and_an_element_never_the_array(tmp_path, monkeypatch):
    rows = [{"text": "é" * (i % 50), "n": i, "s": "line\nbreak"} for i in range(3000)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(rows, indent=4, ensure_ascii=False), "utf-8")
    monkeypatch.setattr(json_documents, "_CHUNK_BYTES", 1024)
    held: list[int] = []
    fill = json_documents.Document._fill

    def watched(self, keep=None):
        fill(self, keep)
        held.append(len(self.text))

    monkeypatch.setattr(json_documents.Document, "_fill", watched)
    got = Reader(path)
    items = [(line, data) for line, _raw, data in got]  # type: ignore[misc]
    assert [data for _, data in items] == rows
    text = path.read_text("utf-8")
    assert [line for line, _ in items] == [
        n for n, line in enumerate(text.splitlines(), 1) if line == "    {"
    ]
    assert len(held) > 100  # read in many chunks ...
    assert max(held) < 2 * 1024 + 200  # ... of which at most one and an element are held
    assert got.size == len(text.encode("utf-8"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[\n  {"a": 1},\n  {"a": 2},\n]\n',
            [
                (2, {"a": 1}),
                (3, {"a": 2}),
                SyntaxProblem(
                    Problem.INVALID_JSON,
                    3,
                    "a comma before the closing ']' (JSON has no trailing commas)",
                    11,
                ),
            ],
        ),
        (
            '[\n  {"a": 1},\n  {"a" 2}\n]\n',
            [(2, {"a": 1}), SyntaxProblem(Problem.INVALID_JSON, 3, "Expecting ':' delimiter", 8)],
        ),
        (
            '[\n  {"a": 1},\n  [1, 2],\n  "x"\n]',
            [
                (2, {"a": 1}),
                SyntaxProblem(Problem.NOT_AN_OBJECT, 3, "an array"),
                SyntaxProblem(Problem.NOT_AN_OBJECT, 4, "a string"),
            ],
        ),
        ("[\n]\n", [SyntaxProblem(Problem.EMPTY_FILE, None, "an empty JSON array")]),
        (
            '[{"a": 1}] []',
            [
                (1, {"a": 1}),
                SyntaxProblem(
                    Problem.INVALID_JSON, 1, "more data after the array's closing ']'", 12
                ),
            ],
        ),
        (
            '[{"a": NaN}]',
            [SyntaxProblem(Problem.INVALID_JSON, 1, "NaN is not JSON", 2)],
        ),
        ('\ufeff[{"a": 1}]', [SyntaxProblem(Problem.BOM, 1), (1, {"a": 1})]),
        (
            '[\r\n\r\n  {"a": 1}\r\n]',  # CRLF, a blank line, no final newline: JSON's whitespace
            [(3, {"a": 1})],
        ),
    ],
)
def test_problems_in_an_array_are_found_at_their_line(tmp_path, text, expected):
    path = tmp_path / "data.json"
    path.write_text(text, "utf-8", newline="")
    assert read(path) == expected


def test_invalid_utf8_in_an_array_names_its_line_and_offset(tmp_path):
    path = tmp_path / "data.json"
    path.write_bytes(b'[\n  {"a": 1},\n  {"a": "caf\xe9"}\n]\n')
    assert read(path) == [
        (2, {"a": 1}),
        SyntaxProblem(Problem.INVALID_UTF8, 3, "byte b'\\xe9' at file offset 26"),
    ]


def test_json_arrays_of_examples_are_datasets_other_json_is_left_alone(tmp_path):
    write_files(tmp_path, {**NOT_DATASETS, "data/identity.json": ARRAY})
    assert holds_examples(tmp_path / "data/identity.json")
    for name in NOT_DATASETS:
        assert not holds_examples(tmp_path / name), name


def test_pytest_collects_json_arrays_with_findings_at_element_lines(lint):
    run = lint({**NOT_DATASETS, "data/identity.json": ARRAY})
    assert [d["path"] for d in run.report["datasets"]] == ["data/identity.json"]
    assert sorted(run.findings("data/identity.json"), key=lambda f: (f[1], f[0] or 0)) == [
        (None, "FT014"),
        (STARTS[4], "FT120"),
        (STARTS[9], "FT401"),
    ]
    assert "package.json" not in run.output
    assert "dataset_info.json" not in run.output


def test_json_lines_checks_say_nothing_of_an_arrays_whitespace(lint):
    text = json.dumps(intents(120), indent=2).replace("\n", "\r\n").replace("},", "},\r\n")
    run = lint({"train.json": text.rstrip("\r\n")})
    assert run.findings("train.json") == []
    assert run.dataset("train.json")["examples"] == 120


def test_check_reads_arrays_as_pytest_does(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {**NOT_DATASETS, "data/identity.json": ARRAY})
    assert main(["check", "."]) == 1
    out = capsys.readouterr().out
    assert f"data/identity.json:{STARTS[4]}: FT120 [error] The completion does not start" in out
    assert "package.json" not in out


# -- a path named is checked, or an error ---------------------------------------------


def test_a_file_no_include_takes_is_checked_by_its_content(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("export.txt").write_text(jsonl(*intents(9)), "utf-8")
    assert main(["check", "export.txt"]) == 1
    assert capsys.readouterr().out.startswith("export.txt: FT013 [error] Only 9 examples")


def test_a_file_named_that_is_not_a_dataset_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {**NOT_DATASETS, "notes.txt": "Remember the milk.\n"})
    assert main(["check", "notes.txt"]) == 2
    assert capsys.readouterr().err == (
        "pytest-finetune: notes.txt: not a dataset: neither JSON Lines nor a JSON array of "
        "examples; name dataset files, or folders to search\n"
    )
    assert main(["check", "package.json"]) == 2
    assert capsys.readouterr().err == (
        "pytest-finetune: package.json: not a dataset: a JSON document that is not a list of "
        "examples (an array of objects); name dataset files, or folders to search\n"
    )


def test_a_folder_without_datasets_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {**NOT_DATASETS, "empty/.keep": ""})
    for folder in ("empty", "."):
        assert main(["check", folder]) == 2
        captured = capsys.readouterr()
        assert captured.out == "No dataset found.\n"
        assert captured.err.startswith(
            f"pytest-finetune: no dataset found in {folder} (files matching *.jsonl, *.json, "
        )


def test_an_excluded_file_named_is_checked_unless_force_exclude(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_files(
        tmp_path, {"finetune.toml": 'exclude = ["fixtures/"]\n', "fixtures/bad.jsonl": "{oops\n"}
    )
    assert main(["check", "fixtures/bad.jsonl"]) == 1
    assert "fixtures/bad.jsonl:1:2: FT003 [error] Invalid JSON" in capsys.readouterr().out
    # pre-commit names every staged file: the hook leaves alone what the folders would.
    for named in (["fixtures/bad.jsonl"], ["fixtures/bad.jsonl", "package.json"]):
        Path("package.json").write_text(NOT_DATASETS["package.json"], "utf-8")
        assert main(["check", "--force-exclude", *named]) == 0
        assert capsys.readouterr().out == "No dataset found.\n"


def test_pytest_collects_a_file_named_by_its_content(pytester: pytest.Pytester):
    write_files(pytester.path, {"export.txt": jsonl(*intents(9)), **NOT_DATASETS})
    result = pytester.runpytest("-p", "no:cacheprovider", "-rf", "export.txt")
    assert result.parseoutcomes()["failed"] == 1
    result.stdout.fnmatch_lines(["FAILED export.txt::checks - FT013 too-few-examples*"])


def test_pytest_refuses_a_file_named_that_is_not_a_dataset(pytester: pytest.Pytester):
    write_files(pytester.path, NOT_DATASETS)
    result = pytester.runpytest("-p", "no:cacheprovider", "package.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: not found: *package.json*"])
    (pytester.path / "empty").mkdir()
    assert pytester.runpytest("-p", "no:cacheprovider", "empty").ret == (
        pytest.ExitCode.NO_TESTS_COLLECTED
    )


def test_an_element_longer_than_max_line_bytes_is_reported_at_its_line(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps([{"a": 1}, {"text": "x" * 500}, {"a": 2}], indent=1), "utf-8")
    assert [
        item if isinstance(item, SyntaxProblem) else item[0]
        for item in Reader(path, max_line_bytes=100)
    ] == [
        2,
        SyntaxProblem(Problem.LINE_TOO_LONG, 5, "an element over 100 bytes; not read"),
        8,
    ]


def test_pytest_checks_an_excluded_file_when_it_is_named(pytester: pytest.Pytester):
    write_files(
        pytester.path,
        {
            "finetune.toml": 'exclude = ["fixtures/"]\n',
            "fixtures/bad.jsonl": "{oops\n",
            "data/train.jsonl": jsonl(*intents(120)),
        },
    )
    everything = pytester.runpytest("-p", "no:cacheprovider", "--co", "-q")
    assert not any("fixtures/" in line for line in everything.stdout.lines)
    named = pytester.runpytest("-p", "no:cacheprovider", "-rf", "fixtures/bad.jsonl")
    named.stdout.fnmatch_lines(
        ["fixtures/bad.jsonl:1:2: FT003 Invalid JSON: *", "FAILED fixtures/bad.jsonl::checks*"]
    )
