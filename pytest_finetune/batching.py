"""From the reader's runs to the checks' batches.

The reader gives records in runs, read in one go (:mod:`pytest_finetune.runs`); the
checks take records of one format at a time (:class:`~pytest_finetune.formats.Batch`).
Formats are told apart once a stretch of records with the same keys, and batches are
filled with slices of the runs: no Python a record on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import repeat
from typing import Any

import orjson

from pytest_finetune.formats import BY_VALUE, Batch, Format, Record, detect
from pytest_finetune.runs import PLAIN_CHAT, PLAIN_PROMPT_COMPLETION, Run

#: An unparsed line's object but for its texts, by kind (see ``Run.unparsed``): what
#: tells formats.
_PLAIN: dict[int, dict[str, Any]] = {
    PLAIN_PROMPT_COMPLETION: {"prompt": "", "completion": ""},
    PLAIN_CHAT: {"messages": []},
}


class Batches:
    """Records on their way to the checks, in batches of at most ``size`` (``Batch``).

    A batch holds records of one format; it goes to ``visit`` when full, when the
    format changes, and when flushed before a syntax problem, so that every check sees
    records and problems in file order.
    """

    def __init__(self, visit: Callable[[Batch], None], size: int) -> None:
        self.visit = visit
        self.size = size
        self.format = Format.UNKNOWN
        self.lines: list[int] = []
        self.raws: list[bytes] = []
        self.datas: list[dict[str, Any] | None] = []
        #: Whether some of the records held are left unparsed (see ``Run.unparsed``).
        self.unparsed = False

    def add(self, fmt: Format, run: Run, start: int, stop: int) -> None:
        """Records ``start`` to ``stop`` of ``run``, all of format ``fmt``."""
        first_line = run.first_line
        while start < stop:
            if fmt is not self.format or len(self.lines) >= self.size:
                self.flush()
                self.format = fmt
            taken = min(stop, start + self.size - len(self.lines))
            self.lines.extend(range(first_line + start, first_line + taken))
            self.raws.extend(run.raws[start:taken])
            self.datas.extend(run.datas[start:taken])
            self.unparsed = self.unparsed or bool(run.unparsed)
            start = taken

    def flush(self) -> None:
        """Give the checks the batch held, if any."""
        if self.lines:
            batch = Batch(self.format, self.lines, self.raws, self.datas, unparsed=self.unparsed)
            self.visit(batch)
            self.lines, self.raws, self.datas, self.unparsed = [], [], [], False


def records(run: Run, fmt: Format, start: int, stop: int) -> list[Record]:
    """Records ``start`` to ``stop`` of ``run``, of format ``fmt``, as ``visit`` takes them."""
    lines = range(run.first_line + start, run.first_line + stop)
    raws = run.raws[start:stop]
    datas = [
        orjson.loads(raw) if data is None else data
        for raw, data in zip(raws, run.datas[start:stop], strict=True)
    ]
    return list(map(Record, lines, raws, datas, repeat(fmt)))


def stretches(run: Run) -> Iterator[tuple[Format, int, int]]:
    """The longest stretches of a run whose records are of one format, and their bounds.

    A record with the keys of the one before has its format, except where a key's value
    decides it (see ``BY_VALUE``): those records are told apart one by one.
    """
    datas, plain = run.datas, _PLAIN.get(run.unparsed)
    fmt, begin, start = None, 0, 0
    for stop in (*run.new_keys, len(datas)):
        if BY_VALUE.isdisjoint(_keys(datas[start], plain)):
            kinds: Iterable[tuple[Format, int]] = ((detect(_keys(datas[start], plain)), start),)
        else:
            kinds = ((detect(_keys(datas[index], plain)), index) for index in range(start, stop))
        for kind, at in kinds:
            if kind is not fmt:
                if fmt is not None:
                    yield fmt, begin, at
                fmt, begin = kind, at
        start = stop
    if fmt is not None:
        yield fmt, begin, len(datas)


def _keys(data: dict[str, Any] | None, plain: dict[str, Any] | None) -> dict[str, Any]:
    """What :func:`detect` reads of a line's object, where it may be left unparsed."""
    return data if data is not None else plain  # type: ignore[return-value]
