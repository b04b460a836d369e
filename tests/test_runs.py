"""The reader's fast path: a block of the file at a time, its lines parsed in one go.

``read_run`` takes the lines of a buffer while each is one JSON object, and stops at the
first that is anything else, which the reader then works out the slow way. Both
implementations (Python, and C where the extension is built) are held to the same
cases, and to each other on random buffers. The reader reads the same records and
problems, on the same lines, whatever the size of its blocks. Where asked, the C one
leaves plain prompt/completion lines unparsed: it takes only lines that orjson reads
so, held to orjson and to Python's UTF-8 decoder.
"""

from __future__ import annotations

import importlib.util
import io
import json
import random
import shutil
import subprocess
import sysconfig
from itertools import count
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from test_batches import realistic_file
from test_chunks import differences, in_processes, rendered

from pytest_finetune import Settings, extensions, reader, runs
from pytest_finetune.formats import Batch, Format
from pytest_finetune.lint import lint
from pytest_finetune.reader import Problem, Reader, Run, Span, SyntaxProblem


def read_run(buffer: bytes, start: int = 0, limit: int = 1000, final: bool = True) -> tuple:
    """``read_run`` as the reader calls it: the C one where it is built and used."""
    implementation = extensions.read_run or runs.read_run
    return implementation(buffer, start, limit, final, orjson.loads, orjson.JSONDecodeError)


def test_a_run_takes_every_line_of_one_object(implementation):
    buffer = '{"prompt": "Grüß Gott ->", "completion": " 👋"}\n{"prompt": "b", "completion": "c"}\n'
    buffer = buffer.encode()
    raws, datas, new_keys, crlf, stop = read_run(buffer)
    assert raws == buffer.splitlines(keepends=True)
    assert datas == [
        {"prompt": "Grüß Gott ->", "completion": " 👋"},
        {"prompt": "b", "completion": "c"},
    ]
    assert (new_keys, crlf, stop) == ([], [], len(buffer))


def test_a_run_says_where_the_keys_change_and_not_where_they_are_reordered(implementation):
    lines = [
        {"messages": []},
        {"messages": [], "tools": []},  # 1: a key more
        {"tools": [], "messages": []},  # the same keys, in another order
        {"messages": []},  # 3
        {"messages": [], "tool": []},  # 4: as many keys, one of them not the same
    ]
    buffer = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    assert read_run(buffer)[2] == [1, 3, 4]


@pytest.mark.parametrize(
    ("odd", "why"),
    [
        (b"\n", "a blank line"),
        (b'{"a": 1,}\n', "bad JSON"),
        (b'{"a": "\xff"}\n', "bad UTF-8"),
        (b'{"a": "\\ud800"}\n', "a lone surrogate, which orjson refuses"),
        (b"[1, 2]\n", "an array"),
        (b"42\n", "a number"),
        (b'{"a": "' + b"x" * 1000 + b'"}\n', "a line longer than the limit"),
    ],
)
def test_a_run_stops_at_the_first_line_that_is_not_one_object(implementation, odd, why):
    first = b'{"a": 1}\n'
    buffer = first + odd + b'{"a": 2}\n'
    raws, datas, _, _, stop = read_run(buffer)
    assert (raws, datas, stop) == ([first], [{"a": 1}], len(first)), why


def test_a_line_of_exactly_the_limit_is_taken(implementation):
    line = b'{"a": "xyz"}\n'
    assert read_run(line, limit=len(line))[-1] == len(line)
    assert read_run(line, limit=len(line) - 1)[-1] == 0


def test_a_run_starts_where_it_is_told(implementation):
    buffer = b'{"a": 1}\n{"b": 2}\n'
    raws, datas, new_keys, crlf, stop = read_run(buffer, start=9)
    assert (raws, datas, new_keys, crlf, stop) == ([b'{"b": 2}\n'], [{"b": 2}], [], [], len(buffer))


def test_a_run_takes_lines_that_end_with_crlf_and_says_which(implementation):
    buffer = b'{"a": 1}\r\n{"a": 2}\n{"a": 3}\r\n'
    raws, _, _, crlf, stop = read_run(buffer)
    assert (len(raws), crlf, stop) == (3, [0, 2], len(buffer))
    assert raws[0] == b'{"a": 1}\r\n'
    # A carriage return before the last byte of the file's last line, with no newline
    # after it, is no line ending: the slow way says what it is.
    assert read_run(b'{"a": 1}\n{"a": 2}\r ', final=True)[3:] == ([], 9)


def test_an_unfinished_last_line_waits_for_the_next_block_unless_the_text_ends(implementation):
    buffer = b'{"a": 1}\n{"a": 2}'
    assert read_run(buffer, final=False)[-1] == 9
    assert read_run(buffer, final=True)[1:] == ([{"a": 1}, {"a": 2}], [], [], len(buffer))


def test_loads_failing_otherwise_than_on_bad_json_is_an_error(implementation):
    implementation_of = extensions.read_run or runs.read_run

    def loads(raw: bytes) -> object:
        raise MemoryError

    with pytest.raises(MemoryError):
        implementation_of(b'{"a": 1}\n', 0, 100, True, loads, orjson.JSONDecodeError)


def test_c_refuses_a_start_outside_the_buffer():
    if extensions.read_run is None:
        pytest.skip(f"the C module is not built, or {extensions.DISABLE} is set")
    with pytest.raises(ValueError, match="start"):
        extensions.read_run(b"{}\n", 4, 100, True, orjson.loads, orjson.JSONDecodeError)


def test_c_and_python_read_random_buffers_alike():
    if extensions.read_run is None:
        pytest.skip(f"the C module is not built, or {extensions.DISABLE} is set")
    pieces = [
        b'{"prompt": "caf\xc3\xa9 ->", "completion": " oui"}\n',
        b'{"messages": [{"role": "user", "content": "\xe4\xbd\xa0\xe5\xa5\xbd"}]}\n',
        b'{"completion": " oui", "prompt": "x"}\n',
        b'{"a": 1}\r\n',
        b"\n",
        b"[]\n",
        b'{"a": "\\ud83d"}\n',
        b'{"a": tru',
        b'{"label": true}\n',
    ]
    generator = random.Random(7)
    for _ in range(3000):
        buffer = b"".join(generator.choices(pieces, k=generator.randint(0, 12)))
        start = generator.randint(0, len(buffer))
        limit = generator.choice([5, 40, 1000])
        final = generator.random() < 0.5
        args = (buffer, start, limit, final, orjson.loads, orjson.JSONDecodeError)
        assert extensions.read_run(*args) == runs.read_run(*args), args


# The reader: the same records and problems, on the same lines, whatever its blocks.

MIXED = [
    '{"prompt": "Grüß Gott ->", "completion": " hallo"}\n'.encode(),  # 1: the slow way
    '{"prompt": "¿Qué tal? ->", "completion": " bien"}\n'.encode(),
    b'{"prompt": "a", "prompt": "b", "completion": " c"}\n',  # 3: a duplicate key
    '{"prompt": "Привет ->", "completion": " мир"}\r\n'.encode(),  # 4: CRLF
    b"\n",  # 5: blank
    b'{"prompt": "x", "completion": }\n',  # 6: bad JSON
    b'{"prompt": "' + "é".encode() * 60 + b'", "completion": " long"}\n',  # 7: over 100 bytes
    b'{"prompt": "\xff", "completion": " utf8"}\n',  # 8: bad UTF-8
    b'{"messages": [{"role": "user", "content": "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7"}]}\n',  # 9
    b"[1, 2]\n",  # 10: an array
    b'{"prompt": "\\ud83d ->", "completion": " lone"}\n',  # 11: parsed by json, not orjson
    b'{"prompt": "end ->", "completion": " no newline"}',  # 12: the file's last line
]
EXPECTED = [
    (1, "record"),
    (2, "record"),
    (3, Problem.DUPLICATE_KEY),
    (3, "record"),
    (4, Problem.CRLF),
    (4, "record"),
    (5, Problem.BLANK_LINE),
    (6, Problem.INVALID_JSON),
    (7, Problem.LINE_TOO_LONG),
    (8, Problem.INVALID_UTF8),
    (9, "record"),
    (10, Problem.NOT_AN_OBJECT),
    (11, "record"),
    (12, "record"),
    (12, Problem.MISSING_FINAL_NEWLINE),
]


def events(path, **options) -> list[tuple[int | None, object]]:
    return [
        (item.line, item.kind) if isinstance(item, SyntaxProblem) else (item[0], "record")
        for item in Reader(path, max_line_bytes=100, **options)
    ]


@pytest.mark.parametrize("block", [1, 7, 64, 101, 4096])
def test_the_reader_reads_the_same_lines_whatever_its_blocks(
    implementation, tmp_path, monkeypatch, block
):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"".join(MIXED))
    monkeypatch.setattr(reader, "_BLOCK_BYTES", block)
    assert events(path) == EXPECTED
    records = [item for item in Reader(path, max_line_bytes=100) if type(item) is tuple]
    assert [data for _, _, data in records][1] == {"prompt": "¿Qué tal? ->", "completion": " bien"}
    assert b"".join(raw for _, raw, _ in records) == b"".join(
        MIXED[i - 1] for i in (1, 2, 3, 4, 9, 11, 12)
    )


def test_a_line_too_long_is_skipped_across_blocks(implementation, tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "_BLOCK_BYTES", 16)
    long = json.dumps({"prompt": "🙂" * 500, "completion": " x"}).encode() + b"\n"
    path = tmp_path / "long.jsonl"
    path.write_bytes(b'{"a": 1}\n' + long + b'{"a": 2}\n' + long + b'{"a": 3}\n')
    assert events(path) == [
        (1, "record"),
        (2, Problem.LINE_TOO_LONG),
        (3, "record"),
        (4, Problem.LINE_TOO_LONG),
        (5, "record"),
    ]


@pytest.mark.parametrize("block", [16, 4096])
def test_a_last_line_too_long_misses_its_newline_only_if_it_has_none(
    implementation, tmp_path, monkeypatch, block
):
    monkeypatch.setattr(reader, "_BLOCK_BYTES", block)
    long = json.dumps({"prompt": "🙂" * 500, "completion": " x"}).encode()
    path = tmp_path / "long.jsonl"
    path.write_bytes(b'{"a": 1}\n' + long + b"\n")
    assert events(path) == [(1, "record"), (2, Problem.LINE_TOO_LONG)]
    path.write_bytes(b'{"a": 1}\n' + long)
    assert events(path)[1:] == [(2, Problem.LINE_TOO_LONG), (2, Problem.MISSING_FINAL_NEWLINE)]


def test_a_line_longer_than_a_block_is_read_whole(implementation, tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "_BLOCK_BYTES", 64)
    row = {"prompt": "Ünïcödé " * 400 + "->", "completion": " ok"}
    path = tmp_path / "long.jsonl"
    path.write_bytes(b'{"a": 1}\n' + orjson.dumps(row) + b"\n")
    items = list(Reader(path))
    assert [type(item) for item in items] == [tuple, tuple]
    assert items[1][0] == 2 and items[1][2] == row


def test_the_records_come_in_runs_with_the_lines_worked_out_alone(tmp_path):
    path = tmp_path / "runs.jsonl"
    rows = [{"prompt": f"{i} ->", "completion": " ok"} for i in range(5)]
    lines = [orjson.dumps(row) + b"\n" for row in rows]
    lines[3] = b"not json\n"
    path.write_bytes(b"".join(lines))
    items = list(Reader(path).runs())
    assert (
        items
        == [
            Run(1, lines[:1], rows[:1], [], []),  # the first line with content, the slow way
            Run(2, lines[1:3], rows[1:3], [], []),
            SyntaxProblem(Problem.INVALID_JSON, 4, items[2].detail, items[2].column),
            Run(5, lines[4:5], rows[4:5], [], []),
        ]
    )
    assert all(type(item) in {Run, SyntaxProblem} for item in items)


def test_a_line_with_a_duplicate_key_is_parsed_once(implementation, tmp_path, monkeypatch):
    # Were a run cut at each such line and the rest of its block parsed again, a file of
    # them would take time as the square of its lines.
    path = tmp_path / "duplicates.jsonl"
    lines = [
        b'{"a": 1}\n',
        b'{"b": 1}\n',
        b'{"a": 1, "a": 2}\n',  # 3
        b'{"a": 1}\n',
        b'{"b": 2}\n',
        b'{"a": 3, "b": 0, "a": 4}\n',  # 6
        b'{"a": 3}\n',
    ]
    path.write_bytes(b"".join(lines) * 40)
    parsed: list[bytes] = []

    def loads(raw: bytes) -> object:
        parsed.append(raw)
        return orjson.loads(raw)

    monkeypatch.setattr(
        reader, "orjson", SimpleNamespace(loads=loads, JSONDecodeError=orjson.JSONDecodeError)
    )
    items = list(Reader(path).runs())
    assert len(parsed) == 7 * 40
    assert (
        items[:6]
        == [
            Run(1, lines[:1], [{"a": 1}], [], []),  # the first line, the slow way
            Run(2, lines[1:2], [{"b": 1}], [], []),
            SyntaxProblem(Problem.DUPLICATE_KEY, 3, "a"),
            Run(3, lines[2:3], [{"a": 2}], [], []),
            Run(4, lines[3:5], [{"a": 1}, {"b": 2}], [1], []),
            SyntaxProblem(Problem.DUPLICATE_KEY, 6, "a"),
        ]
    )
    assert items[7] == Run(7, lines[6:] + lines[:2], [{"a": 3}, {"a": 1}, {"b": 1}], [2], [])
    problems = [item.line for item in items if type(item) is SyntaxProblem]
    assert problems == [line for start in range(0, 280, 7) for line in (start + 3, start + 6)]


class CountedFile(io.FileIO):
    """A file that counts the bytes read from it."""

    read_bytes = 0

    def readinto(self, buffer: Any) -> int | None:
        read = super().readinto(buffer)
        CountedFile.read_bytes += read or 0
        return read


class CountedPath(type(Path())):
    """A path that opens as a :class:`CountedFile` (to read it in binary: ``"rb"``)."""

    def open(self, mode: str = "r", *args: object, **options: object) -> Any:
        assert mode == "rb"
        return io.BufferedReader(CountedFile(self))


def test_the_file_is_read_once_whatever_its_lines(implementation, tmp_path, monkeypatch):
    # The lines that the fast path does not take are worked out from the block read,
    # not read again from the file.
    monkeypatch.setattr(reader, "_BLOCK_BYTES", 1000)
    rows = ['{"prompt": "Grüß dich", "completion": " ok"}\r\n'.encode(), b"\n", b"not json\n"]
    (tmp_path / "odd.jsonl").write_bytes(b"".join(rows) * 2000)
    path = CountedPath(tmp_path / "odd.jsonl")
    monkeypatch.setattr(CountedFile, "read_bytes", 0)
    items = list(Reader(path))
    assert len(items) == 4 * 2000  # a problem a line, and a record after each CRLF
    assert items[:2] == [
        SyntaxProblem(Problem.CRLF, 1),
        (1, rows[0], {"prompt": "Grüß dich", "completion": " ok"}),
    ]
    # The start, sniffed for binary content, is read twice.
    assert CountedFile.read_bytes == path.stat().st_size + reader._SNIFF_BYTES


def test_a_span_is_read_to_its_end_and_no_further(implementation, tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "_BLOCK_BYTES", 10)
    lines = [orjson.dumps({"n": n, "text": "Ça va ? ✓"}) + b"\n" for n in range(6)]
    path = tmp_path / "spans.jsonl"
    path.write_bytes(b"".join(lines))
    start = len(lines[0]) + len(lines[1])
    end = start + len(lines[2]) + len(lines[3])
    span = Reader(path, span=Span(start, end, 3))
    assert [item[0] for item in span] == [3, 4]
    assert (span.lines, span.size) == (4, end)


def test_findings_are_the_same_whatever_the_blocks(implementation, tmp_path, monkeypatch):
    for kind in ("prompt_completion", "chat"):
        path = realistic_file(tmp_path, kind)
        expected = rendered(lint(path, Settings(), display_path=path.name))
        with monkeypatch.context() as patch:
            patch.setattr(reader, "_BLOCK_BYTES", 333)
            small = rendered(lint(path, Settings(), display_path=path.name))
            chunked = rendered(in_processes(path, patch))
        assert differences(small, expected) == {}, kind
        assert differences(chunked, expected) == {}, kind


class _Scanned(list[int]):
    """A run's indexes that count how often they are looked through."""

    scans = 0

    def __iter__(self) -> Any:
        _Scanned.scans += 1
        return super().__iter__()

    def __contains__(self, item: object) -> bool:
        _Scanned.scans += 1
        return super().__contains__(item)


def test_a_run_cut_at_every_other_line_looks_through_its_indexes_once(monkeypatch):
    # Were they looked through at each cut, a block of lines with duplicate keys between
    # others took time as the square of its lines (a CRLF file of 1 MB: 15 s, not 0.6 s).
    monkeypatch.setattr(_Scanned, "scans", 0)
    lines = [b'{"a": 1, "a": 2}\r\n', b'{"b": 1}\r\n'] * 500
    datas = [orjson.loads(line) for line in lines]
    run = Run(1, lines, datas, _Scanned(range(1, 1000)), _Scanned(range(1000)))
    items = list(runs.with_duplicate_keys(run))
    assert _Scanned.scans <= 2
    assert items[:5] == [
        SyntaxProblem(Problem.CRLF, 1),
        SyntaxProblem(Problem.DUPLICATE_KEY, 1, "a"),
        (1, lines[0], {"a": 2}),
        Run(2, lines[1:2], [{"b": 1}], [], [0]),
        SyntaxProblem(Problem.CRLF, 3),
    ]
    assert len(items) == 500 * 4


def test_a_module_built_before_crlf_runs_leaves_the_reading_to_python(monkeypatch):
    """A checkout pulled and not rebuilt: its ``read_run`` returns four things, not five."""
    stale = SimpleNamespace(read_run=lambda buffer, start, *rest: ([], [], [], start))
    monkeypatch.setattr(extensions, "_native", stale)
    assert extensions._read_run() is None
    if extensions.read_run is not None:  # the module built from these sources is used
        monkeypatch.undo()
        assert extensions._read_run() is extensions.read_run


def test_a_module_built_before_lazy_runs_leaves_the_reading_to_python(monkeypatch):
    """A checkout pulled and not rebuilt: its ``read_run`` takes six arguments, not seven."""
    stale = SimpleNamespace(read_run=lambda buffer, start, limit, final, loads, error: ([],) * 4)
    monkeypatch.setattr(extensions, "_native", stale)
    assert extensions._read_run() is None


# Lazy runs: plain prompt/completion lines validated in C, their objects left unparsed.

#: Lines that the C reads whole, each a plain object that orjson reads as such.
PLAIN = [
    b'{"prompt": "Gr\xc3\xbc\xc3\x9f Gott ->", "completion": " \xf0\x9f\x91\x8b\\n"}\n',
    b'{"completion":" c","prompt":"b"}\n',
    b'  { "prompt" : "tab\\tquote\\" slash\\/ \\u00e9 \\u0000" , "completion" : "" }  \r\n',
    b'{"prompt": "\xef\xbf\xbf \xf4\x8f\xbf\xbf \x7f", "completion": "\\uE000\\uffff"}\n',
    b'{"prompt":\t"a",\t"completion": "b"}\n',  # tabs between tokens
]
#: Lines that orjson parses: JSON that is not plain, or that the C leaves to orjson.
PARSED = [
    b'{"prompt": "a", "completion": "b", "weight": 1}\n',  # another key
    b'{"prompt": "a", "completion": 1}\n',  # not a string
    b'{"pr\\u006fmpt": "a", "completion": "b"}\n',  # an escaped key
    b'{"prompt": "\\ud83d\\udc4b", "completion": "b"}\n',  # a surrogate pair, escaped
    b'{"prompt": "a", "prompt": "b"}\n',  # a key twice: orjson keeps the last
]
#: Lines that neither reads: each ends the run.
REFUSED = [
    b'{"prompt": "tab\tinside", "completion": "b"}\n',  # a control character in a text
    b'{"prompt": "\xc3\xa9\xc3", "completion": "b"}\n',  # UTF-8 cut short
    b'{"prompt": "\xed\xa0\x80", "completion": "b"}\n',  # a surrogate in UTF-8
    b'{"prompt": "\xc0\xaf", "completion": "b"}\n',  # an overlong form
    b'{"prompt": "\\x41", "completion": "b"}\n',  # a bad escape
    b'{"prompt": "\\ud800", "completion": "b"}\n',  # a lone surrogate: orjson refuses it
    b"null\n",  # JSON, parsed to None, but no object
]


@pytest.fixture
def compiled_read_run():
    if extensions.read_run is None:
        pytest.skip(f"the C module is not built, or {extensions.DISABLE} is set")
    return lambda buffer: extensions.read_run(
        buffer, 0, 1000, True, orjson.loads, orjson.JSONDecodeError, True
    )


def test_plain_lines_are_left_unparsed_and_the_others_parsed(compiled_read_run):
    buffer = b"".join([*PLAIN, *PARSED])
    raws, datas, new_keys, crlf, stop = compiled_read_run(buffer)
    assert raws == [*PLAIN, *PARSED]
    assert datas == [None] * len(PLAIN) + [orjson.loads(line) for line in PARSED]
    # The keys change at the other key, back (the escaped key is "prompt" to orjson), and
    # at the key written twice.
    assert (new_keys, crlf, stop) == ([5, 6, 9], [2], len(buffer))


@pytest.mark.parametrize("line", REFUSED)
def test_a_line_that_is_not_a_json_object_ends_a_lazy_run_as_any_run(compiled_read_run, line):
    raws, datas, _, _, stop = compiled_read_run(PLAIN[0] + line + PLAIN[1])
    assert (raws, datas, stop) == ([PLAIN[0]], [None], len(PLAIN[0]))


def test_a_line_left_unparsed_is_one_orjson_reads_as_plain(compiled_read_run):
    """Random lines of the pieces that a validator could get wrong, against orjson."""
    pieces = [
        *(b"a", b" ", b"\\n", b'\\"', b"\\\\", b"\\/", b"\\b", b"\\u00e9", b"\\u0000"),
        *(b"\\uD7FF", b"\\uE000", "é€😀".encode(), "\u07ff\uffff\U0010ffff".encode(), b"\x7f"),
    ]
    odd = [
        *(b"\\ud83d\\ude00", b"\\ud800", b"\\uDBFF", b"\\uzzzz", b"\\u12", b"\\x", b"\\"),
        *(b'"', b"\x00", b"\xc0\x80", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"),
        *(b"\xf5", b"\x80", b"\xc3", b"\xe2\x82", b"\xff", b"\x1f", b"\t", b"\r"),
    ]
    spaces = [b"", b"", b"", b" ", b"\t", b"\r"]
    odd_spaces = [b"\x0b", b"\xc2\xa0", b"\x00"]
    keys = [b'"prompt"', b'"completion"', b'"Prompt"', b'"pr\\u006fmpt"', b"prompt"]
    rng = random.Random(11)
    unparsed = 0
    for _ in range(20_000):
        first, second = rng.sample([b'"prompt"', b'"completion"'], 2)
        if rng.random() < 0.1:
            first = rng.choice(keys)
        values = [
            b'"'
            + b"".join(rng.choice(odd if rng.random() < 0.05 else pieces) for _ in "abcd")
            + b'"'
            for _ in "ab"
        ]
        if rng.random() < 0.05:
            values[1] = rng.choice([b"1", b"null", b"[]", b'"a" "b"'])
        parts = [b"{", first, b":", values[0], b",", second, b":", values[1], b"}", b""]
        line = b"".join(
            rng.choice(odd_spaces if rng.random() < 0.01 else spaces) + part for part in parts
        )
        raws, datas, *_ = compiled_read_run(line + b"\n")
        if raws and datas[0] is None:
            unparsed += 1
            parsed = orjson.loads(raws[0])
            assert sorted(parsed) == ["completion", "prompt"], line
            assert {type(value) for value in parsed.values()} == {str}, line
    assert unparsed > 1000  # the cases were reached


def test_a_lazy_reader_reads_the_records_of_a_reader(tmp_path):
    path = realistic_file(tmp_path, "prompt_completion")
    lazy = list(Reader(path).runs(lazy=True))
    assert extensions.read_run is None or any(
        type(run) is Run and run.unparsed and None in run.datas for run in lazy
    )
    records = [
        (line, raw, orjson.loads(raw) if data is None else data)
        for run in lazy
        if type(run) is Run
        for line, raw, data in zip(count(run.first_line), run.raws, run.datas)
    ]
    assert records == [item for item in Reader(path) if type(item) is tuple]


def test_a_batch_parses_a_line_left_unparsed_when_a_check_reads_it():
    parsed = orjson.loads(PARSED[0])
    batch = Batch(
        Format.PROMPT_COMPLETION,
        [1, 2, 3],
        [PLAIN[0], PARSED[0], PLAIN[1]],
        [None, parsed, None],
        unparsed=True,
    )
    assert batch.unparsed
    assert batch.record(2).data == orjson.loads(PLAIN[1])  # parsed alone
    assert batch.objects == [None, parsed, orjson.loads(PLAIN[1])]
    assert batch.datas == [orjson.loads(PLAIN[0]), parsed, orjson.loads(PLAIN[1])]  # all
    assert not batch.unparsed
    assert batch.datas[1] is parsed


def test_an_escape_is_taken_unparsed_exactly_where_orjson_reads_it(compiled_read_run):
    """Every byte after a backslash, and at each place of a \\u escape's four digits.

    (The digits were once lowercased before their test, and 0x10-0x19 passed as '0'-'9'.)
    """
    lines = [b'{"prompt": "a\\%c b", "completion": ""}\n' % byte for byte in range(256)]
    for place in range(4):
        for byte in range(256):
            digits = bytearray(b"00e9")
            digits[place] = byte
            lines.append(b'{"prompt": "\\u%s", "completion": ""}\n' % digits)
    for line in lines:
        raws, datas, *_ = compiled_read_run(line)
        try:
            parsed = orjson.loads(line)
        except orjson.JSONDecodeError:
            assert not raws, line
        else:
            assert type(parsed) is dict  # (no escape here is of a surrogate)
            assert datas == [None], line


def test_a_text_is_taken_unparsed_exactly_where_its_utf8_is_valid(compiled_read_run):
    """The C validates UTF-8 16 bytes at a time: held to Python's strict decoder on texts
    of characters of every size and broken ones (overlong, surrogate, past U+10FFFF,
    cut short), at every offset of the blocks."""
    characters = [c.encode() for c in "aé€😀\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffff"]
    broken = [
        *(b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xc2", b"\xe0\x80\x80", b"\xe0\x9f\xbf"),
        *(b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5"),
        *(b"\xf8\x88\x80\x80\x80", b"\xff", b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3\xa9\xa9"),
    ]
    rng = random.Random(5)
    taken = 0
    for _ in range(20_000):
        text = b"".join(
            rng.choice(broken if rng.random() < 0.03 else characters)
            for _ in range(rng.randrange(40))
        )
        line = b'{"prompt": "%s%s", "completion": ""}\n' % (b"x" * rng.randrange(17), text)
        raws, datas, *_ = compiled_read_run(line)
        try:
            line.decode()
        except UnicodeDecodeError:
            assert not raws, line  # orjson refuses it too
        else:
            assert datas == [None], line
            taken += 1
    assert 5000 < taken < 15_000  # both kinds were reached


@pytest.fixture(scope="module")
def read_run_without_sse(tmp_path_factory):
    """``read_run`` of the C module built as where SSE2 is not (``-U__SSE2__``): its
    validation a character at a time, as on a processor without the 16-byte tables."""
    if extensions.read_run is None:
        pytest.skip(f"the C module is not built, or {extensions.DISABLE} is set")
    # How Python links its extensions (a shared object here, a bundle on macOS).
    linker = (sysconfig.get_config_var("LDSHARED") or "").split()
    if not linker or not shutil.which(linker[0]):
        pytest.skip("no C compiler that links Python's extensions")
    root = Path(__file__).resolve().parents[1]
    built = tmp_path_factory.mktemp("scalar") / f"_native{sysconfig.get_config_var('EXT_SUFFIX')}"
    command = [
        *linker,
        "-fPIC",
        "-O1",
        "-U__SSE2__",
        f"-I{sysconfig.get_paths()['include']}",
        f"-I{root / 'native'}",
        *map(str, sorted((root / "native").glob("*.c"))),
        "-o",
        str(built),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    # Loaded under its own name, beside the module the package uses.
    spec = importlib.util.spec_from_file_location("_native", built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lambda buffer: module.read_run(
        buffer, 0, 1000, True, orjson.loads, orjson.JSONDecodeError, True
    )


def test_without_sse_a_line_is_taken_unparsed_exactly_where_it_is_with_it(
    compiled_read_run, read_run_without_sse
):
    """The validation a character at a time takes the lines the 16-byte one takes."""
    characters = [c.encode() for c in "aé€😀\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffff"]
    broken = [b"\x80", b"\xc0\x80", b"\xc2", b"\xe0\x9f\xbf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]
    broken += [b"\xf5", b"\xe2\x82", b"\\u\x10\x10\x10\x10", b"\\ud800", b"\t", b'"', b"\\"]
    lines = [*PLAIN, *PARSED, *REFUSED]
    rng = random.Random(9)
    for _ in range(5_000):
        text = b"".join(
            rng.choice(broken if rng.random() < 0.03 else characters)
            for _ in range(rng.randrange(40))
        )
        lines.append(b'{"prompt": "%s%s", "completion": ""}\n' % (b"x" * rng.randrange(17), text))
    taken = 0
    for line in lines:
        found = read_run_without_sse(line)
        assert found == compiled_read_run(line), line
        taken += found[1] == [None]
    assert 1000 < taken < len(lines) - 1000  # both kinds were reached
