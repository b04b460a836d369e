"""A file scanned in chunks gives the findings, counts and statistics of one scan.

Chunks are scanned by their own checks, which merge in file order; these tests cut
real and catalog files at every line and compare with the scan of the whole file.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import itertools
import json
import os
import pickle
import random
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import needs_encodings
from helpers import assert_pool_threads_end, die_when_half_sent

from pytest_finetune import Settings, chunks, extensions, pools
from pytest_finetune.lint import lint, plan
from pytest_finetune.reader import Span
from pytest_finetune.scan import Chunk, ChunkState, ScanResult, merge, scan_chunk

ROOT = Path(__file__).resolve().parent.parent
CATALOG_FILES = sorted(
    path for path in (ROOT / "checks").glob("FT*/**/*") if path.suffix in (".jsonl", ".json")
)
EXAMPLE_FILES = sorted((ROOT / "examples" / "data").glob("*.jsonl"))


def rendered(result: ScanResult) -> dict[str, object]:
    """Everything a report says of a scan, in a form that compares."""
    return {
        "stats": result.stats.to_dict(),
        "outcomes": {
            code: (
                [finding.render() for finding in outcome.sorted_findings()],
                outcome.counts,
                outcome.crash,
                outcome.skipped,
            )
            for code, outcome in result.outcomes.items()
        },
    }


def line_starts(path: Path) -> list[tuple[int, int]]:
    """``(offset, line number)`` of every line but the first."""
    data = path.read_bytes()
    starts = []
    line = 1
    for offset, byte in enumerate(data[:-1]):
        if byte == ord("\n"):
            line += 1
            starts.append((offset + 1, line))
    return starts


def in_chunks(path: Path, cuts: list[tuple[int, int]], settings: Settings) -> ScanResult:
    """Scan ``path`` cut at ``cuts``, each chunk's state sent through pickle as to a process."""
    fmt, file_settings = plan(path, settings)
    ends: list[int | None] = [offset for offset, _ in cuts]
    spans = [
        Span(start, end, line)
        for (start, line), end in zip([(0, 1), *cuts], [*ends, None], strict=True)
    ]
    states = [
        pickle.loads(pickle.dumps(scan_chunk(Chunk(path, path.name, fmt, file_settings, span))))
        for span in spans
    ]
    return merge(states)


def differences(got: dict[str, object], expected: dict[str, object]) -> dict[str, object]:
    """What differs, by check (or ``stats``): the parts a failure should show."""
    found: dict[str, object] = {}
    if got["stats"] != expected["stats"]:
        found["stats"] = (got["stats"], expected["stats"])
    ours, theirs = got["outcomes"], expected["outcomes"]
    assert isinstance(ours, dict) and isinstance(theirs, dict)
    found.update(
        {code: (ours[code], theirs[code]) for code in theirs if ours[code] != theirs[code]}
    )
    return found


def assert_same_in_chunks(path: Path, settings: Settings) -> None:
    whole = rendered(lint(path, settings, display_path=path.name))
    starts = line_starts(path)
    # Before its first content, a file is the first chunk's (see chunks.split).
    content = len(path.read_bytes()) - len(path.read_bytes().lstrip())
    starts = [(offset, line) for offset, line in starts if offset > content]
    for cut in starts:
        cut_once = rendered(in_chunks(path, [cut], settings))
        assert not differences(cut_once, whole), f"cut before line {cut[1]}"
    if len(starts) > 1:
        assert not differences(rendered(in_chunks(path, starts, settings)), whole)


@pytest.mark.parametrize(
    "path", CATALOG_FILES, ids=lambda path: path.relative_to(ROOT / "checks").as_posix()
)
@needs_encodings
def test_every_catalog_example_gives_the_same_findings_cut_at_any_line(path):
    assert_same_in_chunks(path, Settings(overrides={"select": ["ALL"]}))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.name)
@needs_encodings
def test_the_example_project_gives_the_same_findings_cut_at_any_line(path):
    assert_same_in_chunks(path, Settings())


# -- in processes: what users run ------------------------------------------------------


def write_rows(path: Path, rows: list[str]) -> Path:
    path.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def pair(prompt: str, label: str) -> str:
    return json.dumps({"prompt": f"{prompt} ->", "completion": f" {label}\n"})


def in_processes(path: Path, monkeypatch, jobs: int = 2) -> ScanResult:
    """``path`` scanned by ``jobs`` processes, chunks made small enough to cut it."""
    monkeypatch.setattr(chunks, "MIN_CHUNK_BYTES", 1)
    fmt, file_settings = plan(path, Settings())
    return chunks.scan_file(path, path.name, fmt, file_settings, jobs=jobs)


def test_a_duplicate_pair_split_across_chunks_is_found(tmp_path, monkeypatch):
    rows = [pair(f"Where is parcel {n}?", "shipping") for n in range(40)]
    rows[35] = rows[2]
    path = write_rows(tmp_path / "data.jsonl", rows)
    result = in_processes(path, monkeypatch, jobs=4)
    assert [f.render() for f in result.outcomes["FT401"].findings] == [
        "data.jsonl:36: FT401 Duplicate of line 3; delete one of them"
    ]
    assert rendered(result) == rendered(lint(path, display_path="data.jsonl"))


def test_a_class_seen_only_in_the_last_chunk_is_counted(tmp_path, monkeypatch):
    rows = [pair(f"Card {n} declined", "billing") for n in range(30)]
    rows += [pair(f"Parcel {n} late", "shipping") for n in range(30)]
    rows += [pair("Password reset", "account")]
    path = write_rows(tmp_path / "data.jsonl", rows)
    result = in_processes(path, monkeypatch, jobs=3)
    assert result.stats.classes == {" billing": 30, " shipping": 30, " account": 1}
    assert rendered(result) == rendered(lint(path, display_path="data.jsonl"))


def test_a_syntax_error_on_a_chunk_boundary_is_reported_once_on_its_line(tmp_path):
    rows = [pair(f"Question {n}", "yes" if n % 2 else "no") for n in range(20)]
    rows[10] = '{"prompt": "broken ->", "completion": " yes"'
    path = write_rows(tmp_path / "data.jsonl", rows)
    whole = rendered(lint(path, display_path=path.name))
    # The broken line 11 first in the second chunk, then last in the first.
    for cut in (line_starts(path)[9], line_starts(path)[10]):
        result = in_chunks(path, [cut], Settings())
        assert [f.line for f in result.outcomes["FT003"].findings] == [11]
        assert not differences(rendered(result), whole)


def test_the_garbage_collector_runs_less_often_while_a_chunk_is_read(tmp_path, monkeypatch):
    path = write_rows(tmp_path / "data.jsonl", [pair("Hello", "greeting")] * 3)
    fmt, settings = plan(path, Settings())
    seen = []
    scan = importlib.import_module("pytest_finetune.scan")
    monkeypatch.setattr(scan.Batches, "flush", lambda self: seen.append(gc.get_threshold()))
    before = gc.get_threshold()
    scan_chunk(Chunk(path, path.name, fmt, settings))
    assert seen[0] == (scan.COLLECTION_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
    # and as before after a scan that failed
    monkeypatch.setattr(scan.Batches, "flush", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        scan_chunk(Chunk(path, path.name, fmt, settings))
    assert gc.get_threshold() == before


def test_a_file_smaller_than_a_chunk_is_one_chunk(tmp_path):
    path = write_rows(tmp_path / "data.jsonl", [pair("Hello", "greeting")] * 3)
    [chunk] = chunks.split(path, parts=8)
    assert chunk.span == Span(0, None, 1)


@pytest.mark.parametrize("block", [7, 8 * 1024 * 1024])
def test_chunks_start_at_line_starts_after_the_first_content(
    tmp_path, monkeypatch, implementation, block
):
    # Lines are counted a block at a time (in C, or with NumPy), up to each start.
    monkeypatch.setattr(chunks, "_BLOCK_BYTES", block)
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\n\n" + b"".join(f"{pair(f'Q{n}', 'a')}\n".encode() for n in range(99)))
    spans = [chunk.span for chunk in chunks.split(path, parts=4, min_bytes=1)]
    data = path.read_bytes()
    assert spans[0].start == 0
    assert len(spans) == 4
    for span, following in itertools.pairwise(spans):
        assert span.end == following.start
        assert data[following.start - 1 : following.start] == b"\n"
        assert data[: following.start].count(b"\n") + 1 == following.first_line
    assert spans[-1].end is None


@pytest.mark.parametrize("block", [7, 8 * 1024 * 1024])
def test_a_range_of_a_file_has_its_newlines_counted(tmp_path, monkeypatch, implementation, block):
    # In C, 256 KiB read at a time without the GIL; in Python, a block at a time.
    monkeypatch.setattr(chunks, "_BLOCK_BYTES", block)
    generator = random.Random(3)
    data = bytes(generator.choice(b"\n\n{}\xc3\xa9\r ") for _ in range(600_000))
    path = tmp_path / "data.jsonl"
    path.write_bytes(data)
    cuts = [0, 1, 2, 15, 16, 17, 1000, 262_143, 262_144, 262_145, 524_289, 600_000]
    ranges = [(start, end) for start in cuts for end in cuts if start <= end]
    with path.open("rb") as stream:
        for start, end in ranges:
            assert chunks._newlines(stream, start, end) == data[start:end].count(b"\n")
        # Past the file's end, what it holds.
        assert chunks._newlines(stream, 599_000, 700_000) == data[599_000:].count(b"\n")


def test_newlines_are_counted_without_holding_the_gil(tmp_path):
    # What lets a thread number the chunks while the process loads a tokenizer.
    if extensions.file_newlines is None:
        pytest.skip(f"the C module is not built, or {extensions.DISABLE} is set")
    path = tmp_path / "zeros.jsonl"
    with path.open("wb") as stream:
        stream.truncate(256 << 20)  # sparse: zeros on no disk
    started, done = threading.Event(), threading.Event()
    counted: list[int] = []
    turns = 0
    with path.open("rb") as stream:

        def count() -> None:
            started.set()
            try:
                counted.append(extensions.file_newlines(stream.fileno(), 0, 256 << 20))
            finally:
                done.set()

        interval = sys.getswitchinterval()
        # No forced switches: this thread runs during the count only if the count
        # lets go of the GIL.
        sys.setswitchinterval(100)
        try:
            thread = threading.Thread(target=count)
            thread.start()
            while not done.is_set():
                turns += started.is_set()
                time.sleep(0.001)
            thread.join()
        finally:
            sys.setswitchinterval(interval)
    assert counted == [0]
    assert turns > 0


def test_a_json_array_is_one_chunk(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps([{"instruction": "Hi", "output": "Hello"}] * 50))
    [chunk] = chunks.split(path, parts=4, min_bytes=1)
    assert chunk.span == Span(0, None, 1)


@needs_encodings
def test_processes_report_their_progress_together(tmp_path, monkeypatch):
    rows = [pair(f"Question number {n}", "yes") for n in range(3000)]
    path = write_rows(tmp_path / "data.jsonl", rows)
    monkeypatch.setattr(chunks, "MIN_CHUNK_BYTES", 1)
    fmt, file_settings = plan(path, Settings())
    seen: list[tuple[int, int]] = []
    chunks.scan_file(
        path, path.name, fmt, file_settings, jobs=2, progress=lambda *at: seen.append(at)
    )
    assert seen, "no progress reported"
    assert seen[-1] == (3000, path.stat().st_size)


# -- past one machine: the recipe of docs/parallel.md on a Dask cluster ---------------


def recipe(heading: str) -> dict[str, object]:
    """The names defined by the first Python block under ``heading`` in docs/parallel.md."""
    text = (ROOT / "docs" / "parallel.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    names: dict[str, object] = {}
    exec(compile(code, "docs/parallel.md", "exec"), names)
    return names


def test_a_sharded_dataset_linted_on_a_dask_cluster_gives_the_findings_of_one_process(
    tmp_path, monkeypatch
):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(chunks, "MIN_CHUNK_BYTES", 1)  # small files, cut all the same
    shards = []
    for shard in range(3):
        rows = [pair(f"Shard {shard} question {n}", "yes" if n % 3 else "no") for n in range(60)]
        rows[50] = rows[4]  # a duplicate far from its first occurrence
        rows[20] = '{"prompt": "broken'
        shards.append(write_rows(tmp_path / f"part-{shard}.jsonl", rows))
    settings = Settings(overrides={"select": ["ALL"]})
    lint_on_cluster = recipe("On a cluster: Dask")["lint_on_cluster"]
    # Worker processes of their own (spawned, not forked): what a cluster's machines are.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        results = lint_on_cluster(client, shards, settings, parts_per_file=4)  # type: ignore[operator]
    assert sorted(results) == [path.as_posix() for path in shards]
    for path in shards:
        result = results[path.as_posix()]
        assert rendered(result) == rendered(lint(path, settings, display_path=path.as_posix()))
        assert [f.line for f in result.outcomes["FT401"].findings] == [51]


def test_a_chunk_process_that_dies_leaves_the_file_read_in_one_process(tmp_path, monkeypatch):
    rows = [pair(f"Question {n}", "yes") for n in range(200)]
    rows[150] = rows[3]
    path = write_rows(tmp_path / "data.jsonl", rows)
    monkeypatch.setattr(chunks, "_scan_counted", _killed)
    result = in_processes(path, monkeypatch)
    assert rendered(result) == rendered(lint(path, display_path="data.jsonl"))


def _killed(index: int, chunk: Chunk) -> None:
    """A chunk's process killed as the kernel kills one out of memory."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_chunk_process_killed_while_it_sends_its_result_leaves_the_file_read_here(
    tmp_path, monkeypatch
):
    # The pool's thread reads the half of the result that was sent and waits for the
    # rest, which no process will send: this process must not wait with it, now or at
    # its exit.
    rows = [pair(f"Question {n}", "yes") for n in range(200)]
    rows[150] = rows[3]
    path = write_rows(tmp_path / "data.jsonl", rows)
    monkeypatch.setattr(chunks, "_scan_counted", _half_sent)
    found: list[ScanResult] = []
    scanning = threading.Thread(target=lambda: found.append(in_processes(path, monkeypatch)))
    scanning.start()
    scanning.join(timeout=60)
    assert found, "the scan waits for the rest of a result no process will send"
    assert rendered(found[0]) == rendered(lint(path, display_path="data.jsonl"))
    assert_pool_threads_end()


def _half_sent(index: int, chunk: Chunk) -> ChunkState:
    """A chunk's process killed (as out of memory) when half its result is sent."""
    die_when_half_sent()
    return scan_chunk(chunk)


# -- what a review found, and realistic data cut anywhere ------------------------------


def split_every_way(path: Path, settings: Settings, most: int = 6) -> None:
    """``path`` cut by :func:`chunks.split` into 2 to ``most`` chunks: one scan's findings."""
    whole = rendered(lint(path, settings, display_path=path.as_posix()))
    for parts in range(2, most + 1):
        pieces = chunks.split(path, settings, parts=parts, min_bytes=1)
        states = [pickle.loads(pickle.dumps(scan_chunk(piece))) for piece in pieces]
        assert not differences(rendered(merge(states)), whole), f"in {parts} chunks"


def test_a_byte_order_mark_and_blank_lines_before_the_first_record_stay_the_first_chunks(
    tmp_path,
):
    path = tmp_path / "data.jsonl"
    rows = "".join(pair(f"Question {n}", "yes" if n % 2 else "no") + "\n" for n in range(40))
    path.write_bytes(b"\xef\xbb\xbf" + b"\n" * 3000 + b"\x0b\n \t\n" + rows.encode())
    split_every_way(path, Settings(overrides={"select": ["ALL"]}))


def test_extra_keys_are_named_by_their_first_line_however_the_file_is_cut(tmp_path):
    rows = [{"prompt": f"Q{n} ->", "completion": " a\n", "k_a": n} for n in range(60)]
    rows += [{"prompt": f"R{n} ->", "completion": " a\n", f"key_{n}": n} for n in range(56)]
    rows += [{"prompt": f"S{n} ->", "completion": " a\n", "k_a": n} for n in range(10)]
    path = write_rows(tmp_path / "data.jsonl", [json.dumps(row) for row in rows])
    result = lint(path, Settings(overrides={"select": ["FT103"]}))
    messages = [finding.message for finding in result.outcomes["FT103"].sorted_findings()]
    assert messages[0].startswith("Key 'k_a' is not prompt or completion, in 70 examples")
    assert messages[-1].startswith("Other keys are not prompt or completion, in 7 examples")
    split_every_way(path, Settings(overrides={"select": ["FT103"]}))


GENERATOR = ROOT / "benchmarks" / "generate.py"


def generated(kind: str, count: int) -> list[str]:
    """Realistic lines from the benchmarks' generator: multilingual, with rare problems."""
    spec = importlib.util.spec_from_file_location("generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.rows(kind, count, seed=7))


@pytest.mark.parametrize("kind", ["prompt_completion", "chat"])
@needs_encodings
def test_realistic_data_past_the_head_gives_the_same_findings_in_any_number_of_chunks(
    tmp_path, kind
):
    # Past the 1,000 records of the head, with duplicates, secrets, mojibake and
    # placeholders here and there: the findings of every family, cut anywhere.
    lines = generated(kind, 2500)
    lines[2400] = lines[10]
    path = write_rows(tmp_path / f"{kind}.jsonl", lines)
    split_every_way(path, Settings(overrides={"select": ["ALL"]}), most=4)


def test_chunks_started_from_a_server_process_give_the_same_findings(tmp_path, monkeypatch):
    # What a pytest-xdist worker does from Python 3.12 (it has threads: see pools.from_server).
    monkeypatch.setattr(pools, "from_server", lambda: True)
    rows = [pair(f"Question {n}", "yes" if n % 3 else "no") for n in range(300)]
    rows[250] = rows[5]
    path = write_rows(tmp_path / "data.jsonl", rows)
    result = in_processes(path, monkeypatch, jobs=3)
    assert [f.line for f in result.outcomes["FT401"].findings] == [251]
    assert rendered(result) == rendered(lint(path, display_path="data.jsonl"))
