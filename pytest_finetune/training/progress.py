"""Progress on the terminal: job events with timestamps, as ``fine_tunes.follow`` printed.

Lines are written as they come, with pytest's output capture suspended, and kept so
that the item's report can carry them (under xdist the worker has no terminal, and
the log then shows in the report section instead).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from pytest_finetune.redact import redact
from pytest_finetune.training.backends.base import JobEvent


def timestamp(seconds: float) -> str:
    """``2024-05-01 12:00:03``, local time, as the legacy follow printed it."""
    return str(datetime.datetime.fromtimestamp(int(seconds)))


class Progress:
    """Writes progress lines to a sink (the terminal) and keeps them."""

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        self._write = write
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
        self.line(f"[{timestamp(event.created_at)}] {level}{event.message}")


def terminal_writer(config: Any) -> Callable[[str], None] | None:
    """A function writing a line to pytest's terminal now, even while output is captured.

    ``None`` where there is no terminal (an xdist worker).
    """
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or hasattr(config, "workerinput"):
        return None
    capture = config.pluginmanager.get_plugin("capturemanager")

    def write(text: str) -> None:
        if capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(text)
        else:
            reporter.write_line(text)

    return write
