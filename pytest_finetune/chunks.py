"""A large file's scan in chunks: cut at line boundaries, scanned in parallel, merged.

Every chunk is scanned by its own instances of the checks, which learn the dataset's
conventions from the same first records; their states (counts, classes, fingerprints of
examples) then merge in file order (:func:`pytest_finetune.scan.merge`) into the
findings, summary and report one scan of the whole file gives. Chunks travel between
processes, or machines, as they are (picklable):

.. code-block:: python

    from pytest_finetune import Settings, chunks

    parts = chunks.split("big.jsonl", Settings(), parts=64)
    states = [chunks.scan_chunk(part) for part in parts]  # anywhere, in any order
    result = chunks.merge(states)

:func:`scan_file` does this on the cores of this machine; ``docs/parallel.md`` shows
Dask doing it on a cluster.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from io import BufferedReader
from pathlib import Path
from typing import Any, BinaryIO

from pytest_finetune import extensions, pools
from pytest_finetune.config import FileSettings, Settings
from pytest_finetune.formats import Format
from pytest_finetune.lint import plan
from pytest_finetune.reader import Span, opens_document
from pytest_finetune.scan import Chunk, ChunkScan, ChunkState, ScanResult, merge, scan, scan_chunk

__all__ = [
    "Chunk",
    "ChunkState",
    "merge",
    "scan_chunk",
    "scan_file",
    "split",
]

#: A file is cut into chunks of at least this size: below it, starting processes and
#: learning the head again in each costs more than reading in one process gains.
MIN_CHUNK_BYTES = 8 * 1024 * 1024
_BLOCK_BYTES = 8 * 1024 * 1024
#: The first byte of content: what the reader does not take for a blank line's.
_CONTENT = re.compile(rb"[^ \t\r\n\x0b\x0c]")
_BOM = b"\xef\xbb\xbf"


def split(
    path: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    parts: int,
    display_path: str | None = None,
    min_bytes: int | None = None,
) -> list[Chunk]:
    """Cut a file into at most ``parts`` chunks of about equal size, configured to scan.

    Chunks start at line boundaries, and the first holds the file's first content (its
    start: a byte order mark, an empty file, are the first chunk's to report). A JSON
    array, and a file smaller than two chunks of ``min_bytes`` (by default
    :data:`MIN_CHUNK_BYTES`), is one chunk.
    ``settings`` default to the closest configuration above the file, as :func:`lint`'s.
    """
    path = Path(path)
    fmt, file_settings = plan(path, settings or Settings())
    display = display_path or path.as_posix()
    spans = _spans(path, parts, MIN_CHUNK_BYTES if min_bytes is None else min_bytes)
    return [Chunk(path, display, fmt, file_settings, span) for span in spans]


def _spans(path: Path, parts: int, min_bytes: int) -> list[Span]:
    """Line-aligned byte ranges of ``path``, with the number of each one's first line."""
    starts = _starts(path, parts, min_bytes)
    return _numbered(starts, _line_numbers(path, starts))


def _starts(path: Path, parts: int, min_bytes: int) -> list[int]:
    """Where each chunk of ``path`` but the first starts (none: the file is one chunk)."""
    size = path.stat().st_size
    parts = min(parts, size // max(min_bytes, 1))
    if parts < 2 or opens_document(path):
        return []
    with path.open("rb") as stream:
        content = _first_content(stream)
        starts = sorted(
            {_next_line(stream, size * index // parts) for index in range(1, parts)} - {size}
        )
    # The first chunk holds the first content, so that it alone reads the file's start
    # (an empty file, a file of blank lines, a JSON document over many lines).
    return [start for start in starts if start > content]


def _numbered(starts: list[int], lines: list[int]) -> list[Span]:
    """The spans that start at 0 and at each of ``starts``, whose first lines are ``lines``."""
    ends: list[int | None] = [*starts, None]
    return [
        Span(start, end, line)
        for start, end, line in zip([0, *starts], ends, [1, *lines], strict=True)
    ]


def _first_content(stream: BinaryIO) -> int:
    """Where the first content is, after a byte order mark (the file's size if none is)."""
    stream.seek(0)
    position = len(_BOM) if stream.read(len(_BOM)) == _BOM else 0
    stream.seek(position)
    while block := stream.read(_BLOCK_BYTES):
        found = _CONTENT.search(block)
        if found is not None:
            return position + found.start()
        position += len(block)
    return position


def _next_line(stream: BinaryIO, offset: int) -> int:
    """Where the line after the one holding ``offset`` starts."""
    stream.seek(offset)
    while (piece := stream.readline(_BLOCK_BYTES)) and not piece.endswith(b"\n"):
        pass
    return stream.tell()


def _line_numbers(path: Path, offsets: list[int]) -> list[int]:
    """The number of the line starting at each of ``offsets`` (in order): one read."""
    numbers = []
    newlines = position = 0
    with path.open("rb") as stream:
        for offset in offsets:
            newlines += _newlines(stream, position, offset)
            position = offset
            numbers.append(newlines + 1)
    return numbers


def scan_file(
    path: Path,
    display_path: str,
    fmt: Format,
    settings: FileSettings,
    shared: dict[str, Any] | None = None,
    *,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Scan one file: in this process, or in up to ``jobs`` processes if it is large.

    The findings are the same either way; ``progress`` is called with the records and
    bytes read so far, by all processes together.
    """
    shared = {} if shared is None else shared
    # Where processes start from a server, each loads what it needs (a second or two):
    # only a larger file gains from them.
    least = MIN_CHUNK_BYTES * (4 if pools.from_server() else 1)
    starts = _starts(path, jobs, least) if jobs > 1 and pools.CAN_FORK else []
    if starts:
        try:
            # The first chunk's checks made here load what every chunk needs (a
            # tokenizer) into ``shared`` while a thread numbers the other chunks' first
            # lines: the count (in C) holds no lock, and both come before any process.
            with ThreadPoolExecutor(1) as counting:
                numbering = counting.submit(_line_numbers, path, starts)
                first = ChunkScan(
                    Chunk(path, display_path, fmt, settings, Span(0, starts[0], 1)), shared
                )
                spans = _numbered(starts, numbering.result())
            others = [Chunk(path, display_path, fmt, settings, span) for span in spans[1:]]
            return merge(_in_processes(first, others, shared, progress), shared)
        except _PROCESS_FAILURES:
            pass  # a process killed (out of memory?), or its state too large: read it here
    return scan(path, display_path, fmt, settings, shared, progress=progress)


#: What a chunk's process may fail with that one process reading the file would not.
_PROCESS_FAILURES = (BrokenProcessPool, MemoryError, pickle.PicklingError)


#: What each chunk's process is given at its start: every chunk's records and bytes read
#: so far (for the progress line), and the process-wide cache the parent filled.
_COUNTERS: Any = None
_SHARED: dict[str, Any] = {}


def _in_processes(
    first: ChunkScan,
    others: list[Chunk],
    shared: dict[str, Any],
    progress: Callable[[int, int], None] | None,
) -> list[ChunkState]:
    """Scan the first chunk here and each other in a process of its own.

    The first chunk's records are read here while the processes run.
    """
    chunks = [first.chunk, *others]
    context, forked = pools.context()
    counters = context.RawArray("q", 2 * len(chunks))
    given = shared if forked else {}

    def tell() -> None:
        if progress is not None:
            progress(sum(counters[0::2]), sum(counters[1::2]))

    def count(records: int, read: int) -> None:
        counters[0], counters[1] = records, read
        tell()

    pool = ProcessPoolExecutor(
        len(chunks) - 1, context, initializer=_given, initargs=(counters, given)
    )
    try:
        futures = [
            pool.submit(_scan_counted, index, chunk) for index, chunk in enumerate(chunks) if index
        ]
        states = [first.run(count)]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            tell()
            if pending and pools.lost_a_process(pool):
                raise BrokenProcessPool("a process died as it scanned a chunk")
        states += [future.result() for future in futures]
    except BaseException:
        # Interrupted (Ctrl-C), or a process failed: the others stop now, not at their end.
        pools.stop_now(pool)
        raise
    pool.shutdown()
    # What each read in all, for the last progress (counters move every few thousand).
    for index, (state, chunk) in enumerate(zip(states, chunks, strict=True)):
        counters[2 * index], counters[2 * index + 1] = state.examples, state.size - chunk.span.start
    tell()
    return states


def _given(counters: Any, shared: dict[str, Any]) -> None:
    """Keep what a chunk's process is given at its start (see ``_in_processes``)."""
    global _COUNTERS, _SHARED
    _COUNTERS, _SHARED = counters, shared


def _scan_counted(index: int, chunk: Chunk) -> ChunkState:
    counters = _COUNTERS

    def count(records: int, read: int) -> None:
        counters[2 * index] = records
        counters[2 * index + 1] = read

    return scan_chunk(chunk, _SHARED, progress=count)


def _newlines(stream: BufferedReader, start: int, end: int) -> int:
    """How many newlines the bytes ``start`` to ``end`` of ``stream``'s file hold.

    In C (``native/lines.c``), read there without the GIL: a thread counts them while
    the process loads what the first chunk needs. Else NumPy's vectorised compare, a
    block at a time, three times as fast as ``bytes.count``, whose loop over one byte
    is not.
    """
    count = extensions.file_newlines
    if count is not None:
        return count(stream.fileno(), start, end)
    import numpy as np  # noqa: PLC0415 (only a file large enough to cut pays the import)

    newlines = 0
    block = memoryview(bytearray(_BLOCK_BYTES))  # one buffer for all the blocks
    stream.seek(start)
    while start < end and (read := stream.readinto(block[: min(_BLOCK_BYTES, end - start)])):
        newlines += int(np.count_nonzero(np.frombuffer(block[:read], np.uint8) == ord("\n")))
        start += read
    return newlines
