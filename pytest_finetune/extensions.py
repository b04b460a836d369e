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

#: Reads raw lines that are each ``{"prompt": ..., "completion": ...}``: the prompts'
#: and completions' fingerprints, and the indexes of the lines whose texts the content
#: screen may flag (``Screen.texts``); ``None`` where any line is not such an object.
plain_pairs: Callable[[list[bytes]], tuple[list[int], list[int], list[int]] | None] | None = (
    None if _native is None else _native.plain_pairs
)
#: The indexes of the raw JSON lines that the content screen may flag (``Screen.raw``).
suspect_lines: Callable[[list[bytes]], list[int]] | None = (
    None if _native is None else _native.suspect_lines
)
#: Reads chat lines as the duplicate checks fingerprint them, an item a line in each of
#: three lists: the input's and the last message's fingerprints of a chat that ends with
#: the assistant's message, and whether it does (``None`` in all three where a line
#: holds what only orjson writes exactly: a lone surrogate, a float).
ChatPairs = tuple[list[int | None], list[int | None], list[bool | None]]
chat_pairs: Callable[[list[bytes]], ChatPairs] | None = (
    None if _native is None else _native.chat_pairs
)
