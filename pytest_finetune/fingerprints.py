"""Fingerprints of examples, kept compactly, for duplicate, conflict and leakage checks.

A check that compares examples across a whole file cannot keep their texts: a 1 GB file
would stay in memory. It keeps a 64-bit fingerprint per example instead, in typed
arrays (20 bytes an example, against about 100 for a Python set or dict entry), and
groups equal fingerprints once, at the end, by sorting.

Fingerprints are the same in every process and on every machine: a file scanned in
parts, by processes or by workers elsewhere, has its parts' logs merged, and a
validation file's leakage check may read its training file's fingerprints from
another process. So they are XXH3 of the UTF-8 bytes, not Python's ``hash()``, which
is salted per process (``PYTHONHASHSEED``).
"""

from __future__ import annotations

import struct
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import compress, repeat
from operator import sub
from typing import Any

from xxhash import xxh3_64_intdigest

#: XXH3 gives 0 to 2**64 - 1; the logs hold signed 64-bit integers.
SIGNED = 1 << 63
#: A log with fewer entries is grouped in Python: importing NumPy (0.15-0.2 s, once a
#: process) costs more than grouping this many there (about 0.06 s).
NUMPY_FROM = 100_000


def fingerprint(value: str | bytes) -> int:
    """A signed 64-bit fingerprint of a text or of bytes (the frozen JSON of formats).

    A text is fingerprinted by its UTF-8 bytes, a lone surrogate (which JSON allows)
    kept as its own three bytes.
    """
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass")
    return xxh3_64_intdigest(value) - SIGNED


def fingerprints(values: Iterable[bytes]) -> Iterator[int]:
    """The :func:`fingerprint` of each of many bytes, in a few calls for all."""
    return map(sub, map(xxh3_64_intdigest, values), repeat(SIGNED))


def text_fingerprints(texts: Iterable[str]) -> Iterator[int]:
    """The :func:`fingerprint` of each text, in a few calls for all."""
    return fingerprints(map(str.encode, texts, repeat("utf-8"), repeat("surrogatepass")))


def combined(*fingerprints: int) -> int:
    """One fingerprint of several, in order: a key made of parts."""
    packed = struct.pack(f"<{len(fingerprints)}q", *fingerprints)
    return xxh3_64_intdigest(packed) - SIGNED


@dataclass(frozen=True)
class Group:
    """Entries that share a key: their lines (in file order) and values."""

    lines: list[int]
    values: list[int]


class Fingerprints:
    """An append-only log of ``(key, value, line)``, grouped by key on demand."""

    def __init__(self) -> None:
        self._keys = array("q")
        self._values = array("q")
        self._lines = array("q")

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: int, line: int, value: int = 0) -> None:
        """Log one example: its key (what makes two examples "the same"), line and value."""
        self._keys.append(key)
        self._values.append(value)
        self._lines.append(line)

    def add_all(self, keys: Iterable[int], lines: Iterable[int], values: Iterable[int]) -> None:
        """Log many examples at once, as :meth:`add` each (the same number of each)."""
        self._keys.extend(keys)
        self._values.extend(values)
        self._lines.extend(lines)

    def add_packed(self, keys: bytes, lines: Iterable[int], values: bytes) -> None:
        """:meth:`add_all` with keys and values packed as ``array("q")`` holds them."""
        self._keys.frombytes(keys)
        self._values.frombytes(values)
        self._lines.extend(lines)

    def extend(self, later: Fingerprints) -> None:
        """Append the entries of ``later`` (a later part of the same file)."""
        self._keys.extend(later._keys)
        self._values.extend(later._values)
        self._lines.extend(later._lines)

    def groups(self) -> Iterator[Group]:
        """Every key that occurs more than once, with its entries in file order.

        The groups come in the order of their keys.
        """
        if len(self._keys) < NUMPY_FROM:
            return self._counted_groups()
        return self._sorted_groups()

    def _counted_groups(self) -> Iterator[Group]:
        """:meth:`groups` of a small log, by counting its keys."""
        keys, lines, values = self._keys, self._lines, self._values
        counts = Counter(keys)
        if len(counts) == len(keys):  # most files: no key twice
            return
        members: dict[int, list[int]] = {
            key: [] for key in sorted(key for key, count in counts.items() if count > 1)
        }
        for index in compress(range(len(keys)), map(members.__contains__, keys)):
            members[keys[index]].append(index)
        for entries in members.values():
            entries.sort(key=lines.__getitem__)  # in file order, however they were logged
            yield Group([lines[index] for index in entries], [values[index] for index in entries])

    def _sorted_groups(self) -> Iterator[Group]:
        """:meth:`groups` of a large log, by sorting its keys (with NumPy)."""
        import numpy as np  # noqa: PLC0415 (only large logs pay the import)

        keys = np.frombuffer(self._keys, dtype=np.int64)
        # Any order of equal keys: each group is put in file order below.
        order = np.argsort(keys)
        ordered = keys[order]
        # Where a key equals the one after it: few places, in most files none.
        repeated = np.flatnonzero(ordered[1:] == ordered[:-1])
        if not repeated.size:
            return
        # A group is a run of those places in a row, and the place after the run.
        breaks = repeated[1:] != repeated[:-1] + 1
        starts = repeated[np.r_[True, breaks]]
        ends = repeated[np.r_[breaks, True]] + 2
        values = np.frombuffer(self._values, dtype=np.int64)
        lines = np.frombuffer(self._lines, dtype=np.int64)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            members = order[start:end]
            # In file order, however the entries were logged.
            members = members[np.argsort(lines[members], kind="stable")]
            yield Group(lines[members].tolist(), values[members].tolist())

    def entries(self) -> tuple[Any, Any, Any]:
        """Every entry in the order logged: keys, lines and values (NumPy arrays)."""
        import numpy as np  # noqa: PLC0415

        return (
            np.frombuffer(self._keys, dtype=np.int64),
            np.frombuffer(self._lines, dtype=np.int64),
            np.frombuffer(self._values, dtype=np.int64),
        )

    def first_lines(self) -> tuple[Any, Any]:
        """The distinct keys, sorted, and the first line each occurs on (NumPy arrays)."""
        import numpy as np  # noqa: PLC0415

        keys = np.frombuffer(self._keys, dtype=np.int64)
        distinct, first = np.unique(keys, return_index=True)
        return distinct, np.frombuffer(self._lines, dtype=np.int64)[first]
