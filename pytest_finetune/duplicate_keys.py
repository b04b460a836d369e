"""Keys repeated in one JSON object, which parsers drop silently (orjson keeps the last).

A cheap screen for every parsed line (:func:`may_have_duplicate_key`) and, for the few
it cannot clear, the search for the repeated key (:func:`duplicate_key`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import compress, repeat
from operator import contains, ne, or_
from typing import Any

import orjson


def may_have_duplicate_key(raw: bytes, data: dict[str, Any]) -> bool:
    """Whether a parsed line might have lost a duplicate key (``False``: it has not).

    orjson drops a repeated key silently, so the parsed object is then shorter than
    the line. Two proofs that nothing was dropped cost a serialisation in C: the line
    is exactly the compact JSON of the object (orjson, serde, JavaScript writers), or
    exactly its JSON in Python's default style (``", "`` and ``": "``, ASCII). Being
    only as long as that is no proof: a pair pasted without spaces can be as long as
    the spaces it lacks. Other lines fall back to counting colons.
    """
    if _all_quotes_accounted(raw, data):
        return False
    try:
        compact = orjson.dumps(data)
    except TypeError:  # what orjson cannot write (lone surrogates, deep nesting)
        compact = None
    extra = -1
    if compact is not None:
        extra = len(raw) - len(compact) - (raw[-1:] == b"\n") - raw.endswith(b"\r\n")
    if extra == 0:
        return raw.rstrip(b"\r\n") != compact
    if extra > 0 and raw.isascii():
        first = raw.find(b'":')
        if first > 0 and raw[first + 2 : first + 3] == b" ":
            try:
                if raw.rstrip(b"\r\n") == json.dumps(data).encode():
                    return False
            except RecursionError:
                pass
    colons = raw.count(b":")
    if colons == len(data):
        return False
    if b"\\u003a" in raw or b"\\u003A" in raw:
        return True  # a colon written as an escape hides a dropped key's from the count
    try:
        return colons != _colons(data)
    except RecursionError:  # nesting deeper than Python's stack; orjson allows 1024
        return True


def suspects(raws: list[bytes], datas: list[dict[str, Any]]) -> Iterable[int]:
    """Which of many parsed lines might have lost a duplicate key (their indexes).

    Lines of objects with the same keys and only texts (most datasets' lines) are
    cleared together, in a few calls over whole lists: a line whose texts hold no
    quote has two quotes for each key and each text, and a dropped key would add at
    least two. Other lines go one by one through :func:`may_have_duplicate_key`.
    """
    every = range(len(raws))
    keys = tuple(datas[0]) if datas else ()
    quoted: Iterable[bool] = repeat(False)
    if set(map(tuple, datas)) == {keys} and not any('"' in key for key in keys):
        for key in keys:
            column = list(map(dict.__getitem__, datas, repeat(key)))
            if set(map(type, column)) != {str}:
                quoted = repeat(True)
                break
            quoted = map(or_, quoted, map(contains, column, repeat('"')))
    else:
        quoted = repeat(True)
    unaccounted = map(ne, map(bytes.count, raws, repeat(b'"')), repeat(4 * len(keys)))
    return [
        index
        for index in compress(every, map(or_, quoted, unaccounted))
        if may_have_duplicate_key(raws[index], datas[index])
    ]


def _all_quotes_accounted(raw: bytes, data: dict[str, Any]) -> bool:
    r"""Whether a line parsed to an object of texts has no quote left unaccounted for.

    The proof for the commonest lines (prompt/completion and other flat records), and
    whatever their text: each key and each text of the object is two quotes in the
    line, and each quote inside them one more (written ``\"``); a dropped key would
    add at least its own two. Only a quote written ``\u0022`` escapes the count.
    """
    quotes = 4 * len(data)
    for key, value in data.items():
        if type(value) is not str:
            return False
        if '"' in value:
            quotes += value.count('"')
        if '"' in key:
            quotes += key.count('"')
    return raw.count(b'"') == quotes and b"\\u0022" not in raw


def _colons(value: object) -> int:
    """Keys plus colons inside strings, over a parsed JSON value."""
    kind = type(value)
    if kind is str:
        return value.count(":")  # type: ignore[attr-defined, no-any-return]
    total = 0
    if kind is dict:
        total = len(value)  # type: ignore[arg-type]
        for key, item in value.items():  # type: ignore[attr-defined]
            if ":" in key:
                total += key.count(":")
            kind = type(item)
            if kind is str:
                total += item.count(":")
            elif kind is dict or kind is list:
                total += _colons(item)
    elif kind is list:
        for item in value:  # type: ignore[attr-defined]
            kind = type(item)
            if kind is str:
                total += item.count(":")
            elif kind is dict or kind is list:
                total += _colons(item)
    return total


def duplicate_key(raw: bytes, data: dict[str, Any]) -> str | None:
    """The first key that appears twice in one object of the line, if any.

    orjson keeps the last value silently; the line is parsed again keeping pairs, but
    only when the cheap screen says a key may be missing.
    """
    if not may_have_duplicate_key(raw, data):
        return None
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in items]
        if not found and len(set(keys)) != len(keys):
            found.append(next(key for key in keys if keys.count(key) > 1))
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None
    return found[0] if found else None
