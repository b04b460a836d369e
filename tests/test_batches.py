"""Past the head, records reach the checks in batches: the findings of one at a time.

A check may take a batch of records in one call (``Check.batch_visitor``), testing
what is true of all of them over whole lists, and must then do exactly what its
``visit`` does on each record. These tests scan the same files with batch visitors and
without, with a head of two records and batches of three so that nearly every record
of every catalog example goes through a batch, over batch boundaries and changes of
format, and compare everything a report says.
"""

from __future__ import annotations

import importlib
import json

import orjson
import pytest
from conftest import needs_encodings
from test_chunks import CATALOG_FILES, ROOT, differences, generated, rendered, write_rows

from pytest_finetune import Settings
from pytest_finetune.checks import tokens
from pytest_finetune.checks.file.format import MixedFormats
from pytest_finetune.checks.prompt_completion.survey import _Survey
from pytest_finetune.checks.registry import Check
from pytest_finetune.duplicate_keys import may_have_duplicate_key, suspects
from pytest_finetune.formats import Format, detect
from pytest_finetune.lint import lint

# The module (the package exports its function ``scan``).
scan = importlib.import_module("pytest_finetune.scan")
EVERY_CHECK = Settings(overrides={"select": ["ALL"]})
#: Every check, with the token totals counted whole and (files past 1 byte) sampled.
TOKENS_COUNTED_OR_SAMPLED = pytest.mark.parametrize(
    "settings",
    [EVERY_CHECK, Settings(overrides={"select": ["ALL"], "exact-tokens-max-bytes": 1})],
    ids=["tokens-counted-whole", "tokens-sampled"],
)


def realistic_file(tmp_path, kind: str):
    """Multilingual data past the 1,000 records of the head, with a duplicate, secrets,
    mojibake and placeholders here and there."""
    lines = generated(kind, 3000)
    lines[2900] = lines[10]
    return write_rows(tmp_path / f"{kind}.jsonl", lines)


def record_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn every batch visitor off: each record goes through ``visit``."""
    # Every class that offers one (a check of its own, such as FT201, or a survey's).
    for kind in (Check, *_subclasses(Check)):
        if "batch_visitor" in vars(kind):
            monkeypatch.setattr(kind, "batch_visitor", lambda self, fmt: None)


def _subclasses(kind: type) -> list[type]:
    return [sub for child in kind.__subclasses__() for sub in (child, *_subclasses(child))]


def both_ways(path, monkeypatch, settings=EVERY_CHECK) -> tuple[dict, dict]:
    """What a report says of ``path``: with batch visitors, and one record at a time."""
    batched = rendered(lint(path, settings, display_path=path.name))
    with monkeypatch.context() as patch:
        record_at_a_time(patch)
        one_by_one = rendered(lint(path, settings, display_path=path.name))
    return batched, one_by_one


@pytest.mark.parametrize(
    "path",
    [path for path in CATALOG_FILES if path.suffix == ".jsonl"],
    ids=lambda path: path.relative_to(ROOT / "checks").as_posix(),
)
@needs_encodings
def test_every_catalog_example_in_small_batches_gives_the_findings_of_one_record_at_a_time(
    path, monkeypatch, tmp_path
):
    monkeypatch.setattr(scan, "HEAD_RECORDS", 2)
    monkeypatch.setattr(scan, "BATCH_RECORDS", 3)
    # Three times over: the example's records again past the head, in other batches.
    lines = path.read_bytes().splitlines(keepends=True)
    copy = tmp_path / path.name
    copy.write_bytes(b"".join(lines * 3))
    batched, one_by_one = both_ways(copy, monkeypatch)
    assert not differences(batched, one_by_one)


@pytest.mark.parametrize("kind", ["prompt_completion", "chat"])
@TOKENS_COUNTED_OR_SAMPLED
@needs_encodings
def test_realistic_data_in_batches_gives_the_findings_of_one_record_at_a_time(
    tmp_path, monkeypatch, kind, settings
):
    path = realistic_file(tmp_path, kind)
    # Sampled, a few examples in a hundred are counted; the others' bytes are summed.
    monkeypatch.setattr(tokens, "SAMPLE_BYTES", path.stat().st_size // 30)
    batched, one_by_one = both_ways(path, monkeypatch, settings)
    assert not differences(batched, one_by_one)
    assert any(batched["outcomes"][code][0] for code in batched["outcomes"])


@needs_encodings
def test_examples_are_sampled_by_their_lines_across_blank_lines(tmp_path, monkeypatch):
    # Blank lines leave gaps in a batch's line numbers: the sample is still the examples
    # whose own line numbers fall in it, as one record at a time picks them.
    path = tmp_path / "gaps.jsonl"
    rows = generated("prompt_completion", 3000)
    path.write_text(
        "".join(f"{row}\n" + "\n" * (n % 7 == 0) for n, row in enumerate(rows)), "utf-8"
    )
    monkeypatch.setattr(tokens, "SAMPLE_BYTES", path.stat().st_size // 30)
    sampled = Settings(overrides={"exact-tokens-max-bytes": 1})
    batched, one_by_one = both_ways(path, monkeypatch, sampled)
    assert batched["stats"]["tokens"]["estimate"] == "sample"
    assert not differences(batched, one_by_one)


def test_a_batch_that_breaks_a_convention_is_judged_record_by_record(tmp_path, monkeypatch):
    # One record in a batch lacks the separator, another the leading space: only
    # those are reported, at their lines.
    monkeypatch.setattr(scan, "HEAD_RECORDS", 4)
    rows = [
        {"prompt": f"Where is parcel {n}? ->", "completion": f" shipped {n}\n"} for n in range(20)
    ]
    rows[9]["prompt"] = "Where is parcel 9?"
    rows[15]["completion"] = "shipped 15\n"
    path = write_rows(tmp_path / "data.jsonl", [json.dumps(row) for row in rows])
    batched, one_by_one = both_ways(path, monkeypatch, Settings())
    assert not differences(batched, one_by_one)
    findings = batched["outcomes"]
    assert [finding.split(" ")[0] for finding in findings["FT111"][0]] == ["data.jsonl:10:"]
    assert [finding.split(" ")[0] for finding in findings["FT120"][0]] == ["data.jsonl:16:"]


@pytest.mark.parametrize(
    ("rows", "where"), [(6, "in lines 3 to 6"), (3, "at line 3")], ids=["lines", "line"]
)
def test_a_crash_in_a_batch_names_its_lines(tmp_path, monkeypatch, rows, where):
    def crash(self, batch):
        if batch.lines[0] > 2:  # past the head (its own batch, lines 1 and 2)
            raise ZeroDivisionError("boom")

    monkeypatch.setattr(scan, "HEAD_RECORDS", 2)
    monkeypatch.setattr(_Survey, "visit_batch", crash)
    lines = [
        json.dumps({"prompt": f"Parcel {n} ->", "completion": f" ok {n}\n"}) for n in range(rows)
    ]
    path = write_rows(tmp_path / "data.jsonl", lines)
    result = lint(path, Settings(), display_path=path.name)
    crashed = {code: outcome.crash for code, outcome in result.outcomes.items() if outcome.crash}
    # The family's driver shows the traceback; its other members point to it.
    assert crashed["FT101"].startswith(f"{where}:\n")
    assert "ZeroDivisionError: boom" in crashed["FT101"]
    assert all("see FT101" in crashed[code] for code in crashed if code != "FT101")


def test_records_on_one_line_are_reported_in_their_order(tmp_path, monkeypatch):
    # A JSON array written on one line: every example is on line 1, and the findings
    # of a line keep the order of its examples. A plain prompt/completion record is
    # screened with others, later; one that is not is reported at once, after them.
    monkeypatch.setattr(scan, "HEAD_RECORDS", 2)
    monkeypatch.setattr(scan, "BATCH_RECORDS", 3)
    rows = [
        {"prompt": f"Where is parcel {n}? ->", "completion": f" shipped {n}\n"} for n in range(10)
    ]
    rows[3]["prompt"] = "Mail ann@corp.com ->"
    rows[7] = {**rows[7], "prompt": "Mail bob@corp.com ->", "weight": 1}
    path = tmp_path / "data.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    batched, one_by_one = both_ways(path, monkeypatch, Settings())
    assert not differences(batched, one_by_one)
    assert [finding.split("'")[1] for finding in batched["outcomes"]["FT405"][0]] == [
        "a***@***.com",
        "b***@***.com",
    ]


@pytest.mark.parametrize(
    "rows",
    [
        # The same keys; a label that is a bool marks unpaired preference data.
        [{"prompt": "a ->", "completion": " b", "label": label} for label in (True, "x") * 4],
        # The same keys; a system prompt of text blocks marks Nova data.
        [
            {"messages": [{"role": "user", "content": "hi"}], "system": system}
            for system in ([{"text": "Be brief."}], "Be brief.") * 4
        ],
    ],
    ids=["label", "system"],
)
def test_records_with_the_keys_of_the_one_before_are_told_apart_by_the_values_read(
    tmp_path, monkeypatch, rows
):
    # The scan detects a record's format again only where its keys change, or where
    # it holds a key whose value detect() reads (formats.BY_VALUE).
    monkeypatch.setattr(scan, "HEAD_RECORDS", 2)
    seen: list[tuple[Format, dict]] = []
    visit_batch = scan._Runner.visit_batch

    def spy(self, batch):
        seen.extend((batch.format, data) for data in batch.datas)
        visit_batch(self, batch)

    monkeypatch.setattr(scan._Runner, "visit_batch", spy)
    path = write_rows(tmp_path / "data.jsonl", [json.dumps(row) for row in rows])
    lint(path, Settings(), display_path=path.name)
    assert [fmt for fmt, _ in seen] == [detect(data) for _, data in seen]
    assert len({fmt for fmt, _ in seen}) == 2


def _pc(prompt: str, completion: str, **more: object) -> str:
    return json.dumps({"prompt": prompt, "completion": completion, **more})


def _chat(*turns: tuple[str, object], **more: object) -> str:
    return json.dumps({"messages": [{"role": r, "content": c} for r, c in turns], **more})


_ASK, _REPLY = ("user", "Where is my parcel?"), ("assistant", "It left the depot.")
_TOOLS = [{"type": "function", "function": {"name": "track", "parameters": {"type": "object"}}}]
#: Files whose every odd case sits in a batch among clean records: each is a risk
#: that the tests over whole lists answer differently from ``visit``.
EDGES = {
    "texts": [
        *[_pc(f"Where is parcel {n}?\n\n###\n\n", f" shipped {n} END") for n in range(4)],
        _pc("\n\n###\n\n", " shipped END"),  # the separator is the whole prompt
        _pc("Where?\n\n###\n\n", " END"),  # the stop is the whole completion, after a space
        _pc("Where?\n\n###\n\n", " shipped EN"),  # part of the stop
        _pc("Where?\n\n###\n\n", " ENDshipped END"),  # the stop inside
        _pc("Where? ###\n\n###\n\n", " shipped END"),  # the separator's rarest part inside
        _pc("Where?\n\n###\n\n", " ship\n\n###\n\nped END"),  # the separator in a completion
        _pc("", " shipped END"),
        _pc("Where?\n\n###\n\n", ""),
        _pc("Where?\n\n###\n\n", " "),
        _pc(" Where?\n\n###\n\n", " shipped END"),
        _pc("Where?\n\n###\n\n", "shipped END"),
        _pc("Where?\n\n###\n\n", "  shipped END"),
        _pc("Where?\n\n###\n\n", " \tshipped END"),
        _pc("Where?\n\n###\n\n", " x"),  # a completion of one character after the space
        _pc("Where?\n\n###\n\n", " sh\ud800ipped END"),  # a lone surrogate
        _pc("Where?\n\n###\n\n", " shipped END", weight=1),
        json.dumps({"prompt": "Where?\n\n###\n\n", "completion": 5}),
        json.dumps({"prompt": "Where?\n\n###\n\n"}),
        json.dumps({"Prompt": "Where?\n\n###\n\n", "completion": " shipped END"}),
        json.dumps({"completion": " shipped END", "prompt": "Where?\n\n###\n\n"}),
        _pc("Mail ann@corp.com\n\n###\n\n", " {name} <|endoftext|> END"),
        # Over half the model's limit in bytes, and over it: counted, not sampled.
        _pc("Where?\n\n###\n\n", f" {'shipped ' * 1200}END"),
        _pc("Where?\n\n###\n\n", f" {'shipped parcel number 12345 ' * 800}END"),
        *[_pc(f"Where is parcel {n}?\n\n###\n\n", f" shipped {n} END") for n in range(4)],
    ],
    "chats": [
        *[_chat(_ASK, _REPLY) for _ in range(4)],
        _chat(_ASK, _REPLY, ("user", "And now?")),  # the last message is the user's
        _chat(_ASK, _REPLY, ("tool", "42")),  # the last message is a tool's
        _chat(_ASK, _REPLY, tools=_TOOLS),
        _chat(_ASK, _REPLY, tools=[]),
        _chat(_ASK, ("assistant", "It left \ud800.")),
        _chat(_ASK, ("assistant", [{"type": "text", "text": "It left."}])),
        _chat(("User", "Where?"), _REPLY),
        _chat(_ASK, _REPLY, _ASK, _REPLY),
        _chat(),
        json.dumps({"messages": [*json.loads(_chat(_ASK))["messages"], "It left."]}),
        json.dumps({"messages": "It left."}),
        _chat(_ASK, _REPLY, system="Be brief."),  # Anthropic's layout: another format
        json.dumps({"conversations": [{"from": "human", "value": "Where?"}]}),  # a view
        json.dumps({"instruction": "Where?", "input": "", "output": "It left."}),
        *[_chat(_ASK, _REPLY) for _ in range(4)],
    ],
    "lines": [
        *[_pc(f"Where is parcel {n}? ->", f" shipped {n}\n") for n in range(4)],
        _pc("Where? ->", " shipped\n") + "\r",  # CRLF
        "",
        "{broken",
        "[1]",
        '{"prompt": "Where? ->", "prompt": "x ->", "completion": " shipped\\n"}',
        '{"prompt": "Say \\u0022hi\\u0022 ->", "completion": " ok\\n", "completion": " ok\\n"}',
        '{"prompt": "Where? ->", "completion": " shipped\\n", "a\\"b": 1, "a\\"b": 2}',
        '{"prompt": "Where? ->", "completion": " shipped\\n", "meta": {"k": 1, "k": 2}}',
        *[_pc(f"Where is parcel {n}? ->", f" shipped {n}\n") for n in range(4)],
    ],
}


@pytest.mark.parametrize("name", sorted(EDGES))
@TOKENS_COUNTED_OR_SAMPLED
@needs_encodings
def test_odd_records_among_clean_ones_in_batches_give_the_findings_of_one_at_a_time(
    tmp_path, monkeypatch, name, settings
):
    monkeypatch.setattr(scan, "HEAD_RECORDS", 2)
    for size in (2, 3, 5):
        monkeypatch.setattr(scan, "BATCH_RECORDS", size)
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\ufeff" + "".join(f"{line}\n" for line in EDGES[name]), "utf-8")
        # Sampled, one example in a few is counted; the others' bytes are summed.
        monkeypatch.setattr(tokens, "SAMPLE_BYTES", path.stat().st_size // 4)
        batched, one_by_one = both_ways(path, monkeypatch, settings)
        assert not differences(batched, one_by_one), size
        # The same, in a JSON array: the examples' lines are the array's.
        array = tmp_path / f"{name}.json"
        valid = [line for line in EDGES[name] if line.startswith("{") and _parses(line)]
        array.write_text("[\n" + ",\n".join(valid) + "\n]\n", "utf-8")
        batched, one_by_one = both_ways(array, monkeypatch, settings)
        assert not differences(batched, one_by_one), size


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def test_a_check_that_crashes_at_a_record_of_a_batch_stops_there_and_only_it(tmp_path, monkeypatch):
    # A check that takes records one by one crashes at its record's line, as it would
    # one record at a time; the checks that take the batch whole see it all.
    def crash_at_line_5(record):
        if record.line == 5:
            raise ZeroDivisionError("boom")

    monkeypatch.setattr(scan, "HEAD_RECORDS", 2)
    monkeypatch.setattr(scan, "BATCH_RECORDS", 3)
    monkeypatch.setattr(MixedFormats, "visitor", lambda self, fmt: crash_at_line_5)
    rows = [{"prompt": f"Parcel {n} ->", "completion": f" ok {n}\n"} for n in range(8)]
    rows[6]["prompt"] = "Parcel 6"
    path = write_rows(tmp_path / "data.jsonl", [json.dumps(row) for row in rows])
    batched, one_by_one = both_ways(path, monkeypatch, Settings())
    assert not differences(batched, one_by_one)
    assert batched["outcomes"]["FT017"][2].startswith("at line 5:\n")
    assert [finding.split(" ")[0] for finding in batched["outcomes"]["FT111"][0]] == [
        "data.jsonl:7:"
    ]


# -- duplicate keys, a batch at a time ---------------------------------------------------


def lines_of(*texts: str) -> tuple[list[bytes], list[dict]]:
    raws = [text.encode() + b"\n" for text in texts]
    return raws, [orjson.loads(raw) for raw in raws]


@pytest.mark.parametrize(
    "line",
    [
        '{"prompt": "a", "prompt": "b", "completion": "c"}',
        '{"prompt": 1, "prompt": "b", "completion": "c"}',
        '{"prompt": {"x": "y"}, "prompt": "b", "completion": "c"}',
        '{"prompt": "say \\"hi\\"", "prompt": "b", "completion": "c"}',
        # A quote written as an escape hides from a count of quotes: never cleared.
        '{"prompt": "\\u0022", "completion": "c", "completion": "\\u0022"}',
        '{"prompt": "caf\u00e9 \u201cok\u201d", "completion": "c", "completion": "\u4f60\u597d"}',
        # A colon written as an escape hides from a count of colons, as a quote does.
        '{"prompt": "at 10\\u003a30", "n": 1, "n": 2, "completion": "c"}',
        '{"prompt": "at 10\\u003A30", "n": 1, "n": 2, "completion": "c"}',
        # Python's style up to a pair pasted without its spaces, as long as they.
        '{"id": 111,"id":2,"messages":[{"role":"user","content":"hi"},'
        '{"role":"assistant","content":"yo"}]}',
    ],
)
def test_a_line_that_lost_a_key_is_always_a_suspect(line):
    clean = '{"prompt": "x", "completion": "y"}'
    raws, datas = lines_of(clean, line, clean)
    assert may_have_duplicate_key(raws[1], datas[1])
    assert list(suspects(raws, datas)) == [1]


def test_lines_of_texts_with_quotes_escapes_and_any_script_are_cleared():
    raws, datas = lines_of(
        '{"prompt": "say \\"hi\\" \\\\ ok", "completion": " \\u00e9t\\u00e9\\n"}',
        '{"prompt": "caf\u00e9 \u201cquoted\u201d \U0001f44b", "completion": " \u4f60\u597d\\n"}',
        '{"prompt":"compact","completion":"json"}',
    )
    assert list(suspects(raws, datas)) == []


def test_lines_of_other_shapes_are_cleared_one_by_one():
    raws, datas = lines_of(
        '{"messages": [{"role": "user", "content": "hi"}]}',
        '{"messages": [{"role": "user", "role": "assistant", "content": "hi"}]}',
        '{"prompt": "x", "completion": "y", "weight": 1}',
    )
    assert list(suspects(raws, datas)) == [1]


def test_chats_with_the_roles_of_a_clean_chat_are_still_walked_for_what_else_they_hold(
    tmp_path, monkeypatch
):
    # Once a plain chat (a role and a text in each message) is walked clean, the plain
    # chats with the same roles are clean; any chat with more than that is walked.
    monkeypatch.setattr(scan, "HEAD_RECORDS", 2)
    turn = [{"role": "user", "content": "Where is my parcel?"}]
    reply = {"role": "assistant", "content": "It left the depot today."}
    clean = {"messages": [*turn, reply]}
    unlike = [
        {"messages": [*turn, {**reply, "content": ""}]},
        {"messages": [*turn, {**reply, "content": " \t"}]},
        {"messages": [*turn, {**reply, "weight": 0}]},
        {"messages": [*turn, {**reply, "content": [{"type": "text", "text": ""}]}]},
        {"messages": [*turn, {**reply, "contents": "typo"}]},
        {"messages": [*turn, reply], "tool": "typo"},
        {"messages": [{"role": "user", "content": None}, reply]},
    ]
    rows = [clean] * 4 + [row for bad in unlike for row in (clean, bad)]
    path = write_rows(tmp_path / "chat.jsonl", [json.dumps(row) for row in rows])
    batched, one_by_one = both_ways(path, monkeypatch, Settings())
    assert not differences(batched, one_by_one)
    schema = {  # the walk's checks (the chats repeat, for FT401, on every line)
        int(finding.split(":")[1])
        for code, (findings, *_) in batched["outcomes"].items()
        if code.startswith("FT2")
        for finding in findings
        if finding.split(":")[1].isdigit()
    }
    assert schema == {6, 8, 10, 12, 14, 16, 18}
