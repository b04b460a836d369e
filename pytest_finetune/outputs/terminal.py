"""Fitting lines to the terminal, as pytest and ruff fit theirs; files get full lines.

Output to a terminal is wrapped to its width (``COLUMNS`` where set): a row's last
column continues under itself, a finding's message under an indent. Output to a file or
a pipe is never wrapped, so that ``grep`` and editors see one finding a line.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from typing import TextIO

#: The fewest columns worth wrapping a row's text into under its own column; narrower
#: than this, the text continues under a short indent instead.
MIN_TEXT = 30
#: The indent of a wrapped line's continuation where no column is kept.
INDENT = 4


def width(stream: TextIO | None = None) -> int | None:
    """The columns to fit output to ``stream`` (stdout): ``None`` unless it is a terminal."""
    stream = sys.stdout if stream is None else stream
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):  # replaced by something without a terminal
        return None
    return shutil.get_terminal_size().columns


def hanging(line: str, columns: int | None, indent: int = INDENT) -> list[str]:
    """``line`` fitted to ``columns``: its continuation lines start at column ``indent``.

    A line that fits, or output with no width (a file), is left whole. Where fewer than
    :data:`MIN_TEXT` columns would remain past ``indent``, continuation lines start at
    :data:`INDENT` instead. Words longer than a line (paths, URLs) are not broken.
    """
    if columns is None or len(line) <= columns:
        return [line]
    if columns - indent < MIN_TEXT:
        indent = INDENT
    return textwrap.wrap(
        line,
        columns,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
        drop_whitespace=True,
    ) or [line]
