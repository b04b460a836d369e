"""Progress on the terminal: job events with timestamps, as ``fine_tunes.follow`` printed.

Lines are written as they come, with pytest's output capture suspended, and kept so
that the item's report can carry them (under xdist the worker has no terminal, and
the log then shows in the report section instead). A job's metrics come one event a
step; a line is kept for one every ``progress-every`` steps (and the last), and in a
terminal the steps between rewrite one line in place.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from pytest_finetune.redact import redact
from pytest_finetune.training.backends.base import JobEvent


def timestamp(seconds: float) -> str:
    """``2024-05-01 12:00:03``, local time, as the legacy follow printed it."""
    return str(datetime.datetime.fromtimestamp(int(seconds)))


class Progress:
    """Writes progress lines to a sink (the terminal) and keeps them."""

    def __init__(
        self,
        write: Callable[[str], None] | None = None,
        *,
        every: int = 1,
        rewrite: Callable[[str], None] | None = None,
    ) -> None:
        self._write = write
        #: Steps between two metrics events shown as lines.
        self._every = max(1, every)
        #: Writes a line in place of the last one rewritten (``None``: not a terminal).
        self._rewrite = rewrite
        self._last_step: int | None = None
        self.lines: list[str] = []

    def line(self, text: str) -> None:
        """Show one line (secrets masked)."""
        text = redact(text)
        self.lines.append(text)
        if self._write is not None:
            self._write(text)

    def event(self, event: JobEvent) -> None:
        """Show one job event: ``[2024-05-01 12:00:03] Fine-tuning job started``."""
        level = "" if event.level == "info" else f"{event.level.upper()}: "
        text = f"[{timestamp(event.created_at)}] {level}{event.message}"
        step = _step(event)
        if step is not None:
            total = _step(event, "total_steps")
            last = self._last_step
            if last is not None and step - last < self._every and step != total:
                if self._rewrite is not None:
                    self._rewrite(redact(text))
                return
            self._last_step = step
        self.line(text)


def _step(event: JobEvent, name: str = "step") -> int | None:
    """A metrics event's step (or ``total_steps``)."""
    value = (event.data or {}).get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Terminal:
    """The terminal of pytest, written to while output is captured; a line may be rewritten."""

    def __init__(self, reporter: Any, capture: Any) -> None:
        self._reporter = reporter
        self._capture = capture
        self._rewritten = False

    @property
    def isatty(self) -> bool:
        """Whether lines can be rewritten in place."""
        return bool(self._reporter.isatty)

    def write(self, text: str) -> None:
        """Write a line (over the rewritten one, if there is one)."""
        with self._uncaptured():
            if self._rewritten:
                self._reporter.rewrite(text, erase=True)
                self._reporter.write("\n", flush=True)
                self._rewritten = False
            else:
                self._reporter.write_line(text)

    def rewrite(self, text: str) -> None:
        """Write ``text`` in place of the line written last by this method."""
        with self._uncaptured():
            if not self._rewritten:
                self._reporter.ensure_newline()
            self._reporter.rewrite(text, erase=True)
            self._reporter.write("", flush=True)
            self._rewritten = True

    def _uncaptured(self) -> AbstractContextManager[None]:
        if self._capture is None:
            return contextlib.nullcontext()
        return self._capture.global_and_fixture_disabled()  # type: ignore[no-any-return]


def terminal(config: Any) -> Terminal | None:
    """The terminal of pytest, written to now even while output is captured.

    ``None`` where there is no terminal (an xdist worker).
    """
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or hasattr(config, "workerinput"):
        return None
    return Terminal(reporter, config.pluginmanager.get_plugin("capturemanager"))
