"""The progress of a long scan, on one terminal line that it rewrites.

A file that takes more than :data:`AFTER` seconds shows, after the text pytest has
written on the current line, how many records it has read, how fast and how far
through the file it is; the line is rewritten in place and erased when the scan ends,
so that pytest's own output carries on as if nothing had been there. Only a terminal
gets it: a CI log, a file, a pipe or an xdist worker get nothing (nor does JUnit: the
line is written with pytest's output capture suspended, so it is never captured).
``pytest-finetune check`` and ``stats`` show the same line on standard error.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TextIO

import pytest

#: Seconds a scan runs before it shows its progress: a quick file shows nothing.
AFTER = 2.0
#: Seconds between two rewrites of the line.
EVERY = 0.5


class Progress:
    """Shows a scan's progress; call it with the records and bytes read so far."""

    def __init__(
        self,
        total: int,
        column: int,
        width: int,
        stream: Callable[[], AbstractContextManager[TextIO | None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: The file's size in bytes.
        self.total = total
        #: The column the line starts at (after what pytest wrote) and the terminal's width.
        self.column = column
        self.width = width
        self._stream = stream
        self._clock = clock
        self._start = clock()
        self._next = self._start + AFTER
        self.shown = False

    def __call__(self, records: int, position: int) -> None:
        now = self._clock()
        if now < self._next:
            return
        self._next = now + EVERY
        self._write(self.text(records, position, now - self._start))

    def text(self, records: int, position: int, seconds: float) -> str:
        """The progress in words: ``1,200,000 records, 180 MB/s, 40%``."""
        speed = position / 1e6 / seconds if seconds > 0 else 0.0
        percent = 100 * position // self.total if self.total else 100
        return f"{records:,} records, {speed:,.0f} MB/s, {percent}%"

    def close(self) -> None:
        """Erase the line's progress, if it showed any."""
        if self.shown:
            self._write("")

    def _write(self, text: str) -> None:
        # Move to the column the progress starts at, erase to the end of the line, and
        # write what fits: a line that wraps could not be rewritten.
        room = self.width - self.column - 1
        if room < 20:
            return
        with self._stream() as stream:
            if stream is None:
                return
            stream.write(f"\x1b[{self.column + 1}G\x1b[K{text[:room]}")
            stream.flush()
        self.shown = bool(text)


def stderr_progress(total: int) -> Progress | None:
    """A :class:`Progress` on its own line of standard error, if that is a terminal."""
    if _no_terminal() or not sys.stderr.isatty():
        return None
    width = shutil.get_terminal_size().columns
    return Progress(total, 0, width, lambda: nullcontext(sys.stderr))


def terminal_progress(config: pytest.Config, total: int) -> Progress | None:
    """A :class:`Progress` for pytest's terminal, or ``None`` where it must not show."""
    if _no_terminal():
        return None
    if hasattr(config, "workerinput"):  # an xdist worker: its output is no terminal
        return None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or not _is_terminal(capture):
        return None
    writer = config.get_terminal_writer()

    @contextmanager
    def stream() -> Iterator[TextIO | None]:
        with _uncaptured(capture):
            yield sys.stdout

    return Progress(total, writer.width_of_current_line, writer.fullwidth, stream)


def _no_terminal() -> bool:
    # CI services set CI; some give their jobs a terminal whose output is a log.
    return bool(os.environ.get("CI")) or os.environ.get("TERM") == "dumb"


def _is_terminal(capture: object) -> bool:
    with _uncaptured(capture):
        return sys.stdout.isatty()


def _uncaptured(capture: object) -> AbstractContextManager[object]:
    """The output capture of pytest suspended (its ``capturemanager``), if there is one."""
    disabled = getattr(capture, "global_and_fixture_disabled", None)
    return disabled() if disabled is not None else nullcontext()
