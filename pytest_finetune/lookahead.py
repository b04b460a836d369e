"""Scans of the datasets to come, run in other processes while this one reports.

A file large enough to cut is scanned on every core in chunks (:mod:`.chunks`); a
folder of small files would still be scanned a file at a time, on one core. A
lookahead keeps the scans of the next small files running in a pool of processes, one
per core, while this process reports on the files before them (for pytest, an item
costs about as much as a small file's scan). Each scan is the one this process would
do, and so are its findings; only where it runs changes.
"""

from __future__ import annotations

import gc
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_finetune import pools
from pytest_finetune.chunks import MIN_CHUNK_BYTES
from pytest_finetune.config import FileSettings
from pytest_finetune.formats import Format
from pytest_finetune.lint import narrow
from pytest_finetune.scan import ScanResult, scan

#: A file this size or larger is cut into chunks where it is asked for (see
#: ``chunks.split``), not scanned ahead.
LARGE_FILE_BYTES = 2 * MIN_CHUNK_BYTES


@dataclass(frozen=True)
class Upcoming:
    """A dataset to scan ahead: ``key`` names it when its turn comes."""

    key: str
    path: Path
    display_path: str
    #: ``None``: read from the file's first records, in the scan's process.
    format: Format | None
    settings: FileSettings


@dataclass(frozen=True)
class Scanned:
    """A scan done ahead: the file's format (read from it if not given) and the result."""

    format: Format
    result: ScanResult


class Lookahead:
    """The scans of the ``upcoming`` datasets, run ahead in ``processes``.

    ``upcoming`` is the order in which :meth:`take` asks for them. The processes are
    given the list when they start (forked, they have it as it is) and then asked for
    the scans of a few of its datasets at a time: a small file's scan costs about two
    milliseconds, so what travels between processes for each is kept to its result.
    They start when the second dataset is asked for: the first is scanned here, and
    what its checks load (a tokenizer) forked processes have without loading it again.
    """

    #: Datasets a process is asked to scan at a time.
    BATCH = 8

    def __init__(self, upcoming: list[Upcoming], processes: int, shared: dict[str, Any]) -> None:
        self._upcoming = upcoming
        #: Dataset key -> its place in ``upcoming``.
        self._places = {item.key: index for index, item in enumerate(upcoming)}
        #: The index of the next dataset to scan ahead: none before the first is taken.
        self._next: int | None = None
        #: How many datasets may be scanned and not yet taken.
        self._depth = 2 * processes * self.BATCH
        context, forked = pools.context()
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            processes, context, initializer=_given, initargs=(shared if forked else {}, upcoming)
        )
        #: Dataset key -> the scans it is among, and its place in them; in file order.
        self._started: dict[str, tuple[Future[list[Scanned | None]], int]] = {}
        #: Whether this process's objects are frozen (see ``_fill``), until ``close``.
        self._frozen = False

    @classmethod
    def start(cls, upcoming: list[Upcoming], shared: dict[str, Any]) -> Lookahead | None:
        """A lookahead on ``upcoming``; ``None`` where it would not gain.

        It gains where the configuration's ``jobs`` allows more than one process, on
        Linux (see ``pools.CAN_FORK``), and for small files worth more than starting
        the processes costs: scanning a few megabytes, as for chunks (four times as
        many where they start from a server and load a tokenizer each).
        """
        processes = max((pools.jobs_of(item.settings) for item in upcoming), default=1)
        if processes < 2 or not pools.CAN_FORK:
            return None
        least = MIN_CHUNK_BYTES * (4 if pools.from_server() else 1)
        sizes = (_size(item) for item in upcoming if pools.jobs_of(item.settings) > 1)
        small = sum(size for size in sizes if size < LARGE_FILE_BYTES)
        return cls(upcoming, processes, shared) if small >= least else None

    def take(self, key: str) -> Scanned | None:
        """The scan of dataset ``key`` if it ran ahead; ``None`` to scan it here.

        A scan that failed ahead (the file cannot be read) is done again here, where
        its error reads as it does without processes.
        """
        index = self._places.get(key)
        if index is None:
            return None
        if self._next is None:
            self._next = index + 1
            return None
        self._fill()
        # Scans of datasets before this one that were not taken are dropped, and those
        # not started are not: their items were skipped (and their scans would take the
        # places of the scans to come).
        while self._started and self._places[first := next(iter(self._started))] < index:
            del self._started[first]
        started = self._started.pop(key, None)
        if started is None:  # a large file, one asked for again, or one passed over
            self._next = max(self._next, index + 1)
        self._fill()  # the next scans start before this one is waited for
        if started is None or self._pool is None:  # (the processes stopped: see _fill)
            return None
        future, place = started
        try:
            return _waited(future, self._pool)[place]
        except BrokenProcessPool:
            # A process killed (out of memory?): this file and the rest are read here.
            self.close()
            return None

    def _fill(self) -> None:
        pool, upcoming = self._pool, self._upcoming
        while pool is not None and self._next is not None and len(self._started) < self._depth:
            chosen: list[int] = []
            while len(chosen) < self.BATCH and self._next < len(upcoming):
                if _ahead(upcoming[self._next]):
                    chosen.append(self._next)
                self._next += 1
            if not chosen:
                return
            # The processes start with the first scans: what this process holds (a
            # pytest session's nodes) is frozen for them, so that their garbage
            # collections neither walk it nor copy its pages, and so it stays until the
            # processes stop (thawed after each submit instead, every object would go to
            # the oldest generation, whose garbage waits for a full collection).
            if not self._frozen:
                gc.freeze()
                self._frozen = True
            try:
                future = pool.submit(_scan_some, chosen)
            except (BrokenProcessPool, OSError):
                # A process killed (out of memory?), or none could start (fork failed:
                # too many processes): the files to come are read here.
                self.close()
                return
            for place, index in enumerate(chosen):
                self._started[upcoming[index].key] = (future, place)

    def close(self) -> None:
        """Stop the processes; scans not yet taken are dropped."""
        if self._frozen:
            self._frozen = False
            gc.unfreeze()
        pool, self._pool = self._pool, None
        if pool is None:
            return
        pools.stop_now(pool)
        self._started.clear()


def _waited(
    future: Future[list[Scanned | None]], pool: ProcessPoolExecutor
) -> list[Scanned | None]:
    """``future``'s scans, waited for; BrokenProcessPool where a process died meanwhile."""
    while True:
        try:
            return future.result(timeout=0.5)
        except FutureTimeout:
            if pools.lost_a_process(pool):
                raise BrokenProcessPool("a process died as it scanned") from None


def _ahead(upcoming: Upcoming) -> bool:
    """Whether ``upcoming`` is scanned ahead: a small file, where ``jobs`` allows it."""
    return _size(upcoming) < LARGE_FILE_BYTES and pools.jobs_of(upcoming.settings) > 1


def _size(upcoming: Upcoming) -> int:
    """The size of the file; for a file gone, as large: it is left to fail where asked for."""
    try:
        return upcoming.path.stat().st_size
    except OSError:
        return LARGE_FILE_BYTES


#: What the processes are given at their start: the process-wide cache the parent filled
#: (a tokenizer), when they are forked from it, and the datasets to come.
_SHARED: dict[str, Any] = {}
_UPCOMING: list[Upcoming] = []


def _given(shared: dict[str, Any], upcoming: list[Upcoming]) -> None:
    """Keep what a process is given at its start (see ``Lookahead``)."""
    global _SHARED, _UPCOMING
    _SHARED, _UPCOMING = shared, upcoming


def _scan_some(indexes: list[int]) -> list[Scanned | None]:
    """The scans of the datasets at ``indexes`` of the list given; ``None`` for a failed one.

    A scan fails where it cannot read its file (deleted, unreadable) or on a bug; done
    again where its dataset is asked for, it fails there as without processes, with its
    own message or traceback, and the other datasets are not affected.
    """
    scans: list[Scanned | None] = []
    for index in indexes:
        upcoming = _UPCOMING[index]
        settings = upcoming.settings
        try:
            fmt = upcoming.format
            if fmt is None:
                fmt = narrow(upcoming.path, settings)
            result = scan(upcoming.path, upcoming.display_path, fmt, settings, _SHARED)
        except Exception:  # done again where asked for, and told there
            scans.append(None)
        else:
            scans.append(Scanned(fmt, result))
    return scans
