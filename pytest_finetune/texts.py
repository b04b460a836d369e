"""Measures of text shared by the checks and by ``prepare``'s fixes."""

from __future__ import annotations

_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_LOWER = bytes(range(ord("a"), ord("z") + 1))
_NOT_UPPER = bytes(b for b in range(256) if b not in _UPPER)
_NOT_LOWER = bytes(b for b in range(256) if b not in _LOWER)


def letter_case(text: str) -> tuple[int, int]:
    """How many uppercase and lowercase letters (A to Z) ``text`` holds."""
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _NOT_UPPER)), len(data.translate(None, _NOT_LOWER))


def common_prefix(a: str, b: str) -> str:
    """The longest start that ``a`` and ``b`` share."""
    # A binary search over slice comparisons (done in C), not a loop over characters.
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return a[:low]
