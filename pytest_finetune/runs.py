"""The reader's fast path: the lines in a row that are each one JSON object, in one go.

Nearly every line of a dataset holds one JSON object and nothing to report. The reader
takes a block of the file at a time, and :func:`read_run` parses its lines up to the
first that is anything else (too long, bad JSON, not an object, cut by the end of
the block), which the reader then works out the slow way, a line at a time. The lines
read in one go come out as a :class:`Run`: lists that the scan hands on as batches,
with no Python a record in between. ``native/runs.c`` is :func:`read_run` in C, where
the extension was built. :func:`records_of` and :func:`with_duplicate_keys` say a run's
records with the problems that the slow way says of the same lines.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any, NamedTuple

import orjson

from pytest_finetune.duplicate_keys import duplicate_key
from pytest_finetune.syntax_problems import ParsedLine, Problem, SyntaxProblem

#: What :func:`read_run` may leave unparsed (its ``lazy``): nothing, plain
#: prompt/completion lines (two members, ``"prompt"`` and ``"completion"``, each a string),
#: or plain chat lines (one member, ``"messages"``, a list of messages each of a
#: ``"role"`` and a ``"content"``, both strings).
PLAIN_NONE, PLAIN_PROMPT_COMPLETION, PLAIN_CHAT = 0, 1, 2


class Run(NamedTuple):
    """Lines in a row that each hold one JSON object, with nothing to report about them."""

    #: The number of the first line; the others follow it, one a line.
    first_line: int
    #: Each line's bytes, its newline included.
    raws: list[bytes]
    #: Each line's object (``None`` where left unparsed: see ``unparsed``).
    datas: list[dict[str, Any] | None]
    #: The indexes of the objects whose keys are not those of the object before them:
    #: where the records' format may change (the first object's is never listed).
    new_keys: list[int]
    #: The indexes of the lines that end with CRLF (``\r\n``), which JSON reads as
    #: whitespace: a file saved on Windows ends every line so.
    crlf: list[int]
    #: Which plain lines may be left unparsed, their object ``None`` (see
    #: :func:`read_run`): ``PLAIN_NONE`` (0) where every line is parsed.
    unparsed: int = PLAIN_NONE

    def part(self, begin: int, stop: int) -> Run:
        """The lines from index ``begin`` up to ``stop`` (this run itself if all)."""
        if begin == 0 and stop == len(self.raws):
            return self
        # Found by bisection: a run is cut at each line with a duplicate key, and a scan
        # of its lists each time would take time as the square of its lines.
        new_keys = [index - begin for index in _between(self.new_keys, begin + 1, stop)]
        crlf = [index - begin for index in _between(self.crlf, begin, stop)]
        raws, datas = self.raws[begin:stop], self.datas[begin:stop]
        return Run(self.first_line + begin, raws, datas, new_keys, crlf, self.unparsed)


def _between(indexes: list[int], low: int, high: int) -> list[int]:
    """The sorted ``indexes`` from ``low`` up to ``high``."""
    return indexes[bisect_left(indexes, low) : bisect_left(indexes, high)]


def read_run(  # noqa: PLR0917 (positional, as the C function's)
    buffer: bytes,
    start: int,
    limit: int,
    final: bool,
    loads: Any,
    error: Any,
    lazy: int = PLAIN_NONE,
) -> tuple[list[bytes], list[dict[str, Any] | None], list[int], list[int], int]:
    """Parse ``buffer``'s lines from ``start`` on while each is one JSON object.

    A line is taken if it ends with a newline (or ``buffer`` ends the text: ``final``),
    is at most ``limit`` bytes, has no carriage return before its last byte but in a
    CRLF ending, and ``loads`` makes an exact ``dict`` of it; ``loads`` raising
    ``error`` ends the run, like any other line not taken. Returns the lines, their
    objects, the indexes of those whose keys differ from the object before's
    (:attr:`Run.new_keys`), of those that end with CRLF (:attr:`Run.crlf`), and where
    the first line not taken starts (``len(buffer)`` if none). The C one also lists an
    object with a key that is not an exact ``str`` (JSON's keys all are): comparing it
    could run Python code, a ``str`` subclass's ``__eq__``.

    ``lazy`` (``PLAIN_PROMPT_COMPLETION`` or ``PLAIN_CHAT``): the C one validates each line
    that may be a plain object of that kind and takes it unparsed, its object ``None``,
    where it reads it as strictly as ``loads``: most of a file's objects are then never
    made (see ``formats.Batch``). This one parses every line.
    """
    raws: list[bytes] = []
    datas: list[dict[str, Any] | None] = []
    new_keys: list[int] = []
    crlf: list[int] = []
    keys = None
    at, end = start, len(buffer)
    while at < end:
        newline = buffer.find(b"\n", at)
        if newline >= 0:
            stop = newline + 1
        elif final:
            stop = end
        else:
            break
        ends_crlf = stop - at >= 2 and buffer[stop - 2] == 0x0D  # \r
        if stop - at > limit or (ends_crlf and buffer[stop - 1] != 0x0A):  # \n
            break
        raw = buffer[at:stop]
        try:
            data = loads(raw)
        except error:
            break
        if type(data) is not dict:
            break
        if data.keys() != keys:
            if keys is not None:
                new_keys.append(len(datas))
            keys = data.keys()
        if ends_crlf:
            crlf.append(len(datas))
        raws.append(raw)
        datas.append(data)
        at = stop
    return raws, datas, new_keys, crlf, at


def with_duplicate_keys(run: Run) -> Iterator[Run | ParsedLine | SyntaxProblem]:
    """A run, with each line that has a duplicate key taken out of it after its finding.

    The lines after one stay in a run: parsed once, they are not read again (the rest of
    a block parsed again after each would take time as the square of its lines).
    """
    begin = 0
    crlf = set(run.crlf)
    for index, (raw, data) in enumerate(zip(run.raws, run.datas, strict=True)):
        if data is None:
            continue  # left unparsed: two different keys, read in C
        duplicate = duplicate_key(raw, data)
        if duplicate is not None:
            if begin < index:
                yield run.part(begin, index)
            if index in crlf:  # the line's events in the order ``Reader._line`` says them
                yield SyntaxProblem(Problem.CRLF, run.first_line + index)
            yield SyntaxProblem(Problem.DUPLICATE_KEY, run.first_line + index, duplicate)
            yield run.first_line + index, raw, data
            begin = index + 1
    if begin < len(run.raws):
        yield run.part(begin, len(run.raws))


def records_of(run: Run) -> Iterator[ParsedLine | SyntaxProblem]:
    """A run's records as iterating the reader yields them: a CRLF ending said first."""
    crlf = set(run.crlf)
    for index, (raw, data) in enumerate(zip(run.raws, run.datas, strict=True)):
        line = run.first_line + index
        if index in crlf:
            yield SyntaxProblem(Problem.CRLF, line)
        yield line, raw, orjson.loads(raw) if data is None else data
