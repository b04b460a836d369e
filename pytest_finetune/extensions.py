"""The compiled parts of the lint, where they were built (``native/native.c``).

Each does what a pure-Python part does, faster, and the findings are the same: the
Python part stays the reference, and runs wherever the extension is not there (a
machine with no C compiler when the package was installed) or not wanted. Set
``PYTEST_FINETUNE_NO_EXTENSIONS`` to any value but empty to lint in pure Python.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import ModuleType
from typing import Any, cast

#: The environment variable that turns the compiled parts off.
DISABLE = "PYTEST_FINETUNE_NO_EXTENSIONS"


def _load() -> ModuleType | None:
    if os.environ.get(DISABLE):
        return None
    try:
        from pytest_finetune import _native  # noqa: PLC0415
    except ImportError:  # installed without a C compiler
        return None
    return _native


_native = _load()


def _compiled(name: str) -> Any:
    """The module's function ``name``; ``None`` where the module is not there.

    A module built from older sources (a checkout pulled and not rebuilt) lacks the
    newer functions: their Python parts run.
    """
    return None if _native is None else getattr(_native, name, None)


#: Reads raw lines that are each ``{"prompt": ..., "completion": ...}``: the prompts'
#: and completions' fingerprints (packed, as ``array("q")`` holds them), and, where
#: screened (the second argument), the indexes of the lines whose texts the content
#: screen may flag (``Screen.texts``); ``None`` where any line is not such an object.
plain_pairs: Callable[[list[bytes], bool], tuple[bytes, bytes, list[int]] | None] | None = (
    _compiled("plain_pairs")
)
#: The indexes of the raw JSON lines that the content screen may flag (``Screen.raw``).
suspect_lines: Callable[[list[bytes]], list[int]] | None = _compiled("suspect_lines")
#: Reads chat lines as the duplicate checks fingerprint them, an item a line in each of
#: three lists: the input's and the last message's fingerprints of a chat that ends with
#: the assistant's message, and whether it does (``None`` in all three where a line
#: holds what only orjson writes exactly: a lone surrogate, a float).
ChatPairs = tuple[list[int | None], list[int | None], list[bool | None]]
chat_pairs: Callable[[list[bytes]], ChatPairs] | None = _compiled("chat_pairs")
#: The prompt/completion survey's cheap tests of a batch (``departures.departures``):
#: the indexes of the records that may depart from the file's conventions, ``None``
#: where every record must be visited.
departures: Callable[..., list[int] | None] | None = _compiled("departures")
#: The same tests on a batch's raw lines that are each ``{"prompt": ..., "completion":
#: ...}`` (left unparsed by the reader): ``None`` too where a line is not one.
plain_departures: Callable[..., list[int] | None] | None = _compiled("plain_departures")
#: The chat schema walk's screen of a batch (``chat.survey._Walk.visit_batch``): the
#: indexes of the chats it must walk, all but those in which it would certainly see
#: nothing; a chat left unparsed (``None``) is read from its raw line.
ChatsToWalk = Callable[[list[dict[str, Any] | None], list[bytes]], list[int]]


def _chats_to_walk() -> ChatsToWalk | None:
    """The C ``chats_to_walk``; ``None`` where the module was built before it read raw lines."""
    compiled = _compiled("chats_to_walk")
    try:
        if compiled is None or compiled([], []) != []:
            return None
    except TypeError:
        return None
    return cast("ChatsToWalk", compiled)


chats_to_walk = _chats_to_walk()
#: The reader's fast path (``runs.read_run``): the lines of a block of the file, parsed,
#: while each is one JSON object (where asked, plain prompt/completion or chat lines
#: unparsed).
ReadRun = tuple[list[bytes], list[dict[str, Any] | None], list[int], list[int], int]


def _read_run() -> Callable[..., ReadRun] | None:
    """The C ``read_run``; ``None`` where the module was built from older sources.

    One built before it listed CRLF lines returns four things, not five; one built before
    it could leave lines unparsed takes six arguments, not seven: the reader would fail
    on every file.
    """
    compiled = _compiled("read_run")
    try:
        if compiled is None or len(compiled(b"", 0, 0, True, None, None, True)) != 5:
            return None
    except TypeError:
        return None
    return cast("Callable[..., ReadRun]", compiled)


read_run = _read_run()
#: How many newlines a range of an open file holds (``chunks._newlines``), read without
#: the GIL: ``file_newlines(fd, start, end)``. Not built on Windows.
file_newlines: Callable[[int, int, int], int] | None = _compiled("file_newlines")
