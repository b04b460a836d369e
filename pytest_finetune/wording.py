"""The words of messages, shared by the checks, the commands, ``prepare`` and the outputs.

Plurals, sizes, quotes of data (secrets masked), JSON types, "did you mean" and the
"... and N more" under a list cut short: every message says these the same way.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable

import orjson

from pytest_finetune.redact import redact


def plural(count: int, noun: str) -> str:
    """``1 error``, ``3 errors``."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def file_size(size: int) -> str:
    """``157 bytes``, ``2.4 MB``, ``1.1 GB`` (decimal units, as upload limits are given)."""
    if size < 1000:
        return plural(size, "byte")
    value = float(size)
    units = iter(("kB", "MB", "GB", "TB"))
    unit = next(units)
    value /= 1000
    for larger in units:
        if value < 1000:
            break
        value /= 1000
        unit = larger
    return f"{value:,.1f} {unit}"


def quote(text: str, limit: int = 60) -> str:
    r"""``text`` as a short Python literal, invisible characters escaped (``'\n'``).

    Secrets are masked before the text is cut: cut first, a secret would no longer
    match its pattern, and its first part would show.
    """
    text = _masked(text, limit)
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + "..."


def quote_end(text: str, limit: int = 60) -> str:
    """As :func:`quote`, keeping the end of a long text (where suffixes change)."""
    text = _masked(text, limit, end=True)
    return repr(text) if len(text) <= limit else "..." + repr(text[-limit:])


def quote_value(value: object, limit: int = 60) -> str:
    r"""A JSON value as messages quote it, cut to about ``limit`` characters.

    Strings as ``repr`` (so that ``\n`` shows), other values as JSON (``true``, ``null``);
    secrets masked before the cut, as in :func:`quote`.
    """
    if isinstance(value, str):
        text = repr(_masked(value, limit)[: limit + 1])
    else:
        text = _masked(_json(value), limit)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json(value: object) -> str:
    """``value`` as compact JSON, whatever the json module read (what orjson cannot write)."""
    try:
        return orjson.dumps(value, default=str).decode("utf-8", "replace")
    except TypeError:  # an integer past 64 bits, a lone surrogate: escaped, as JSON may
        return json.dumps(value, default=str, separators=(",", ":"))


#: How far past a quote's end secrets are first looked for: a private key block is the
#: longest secret.
_SECRET_ROOM = 10_000
#: Longer than any secret but a private key (whose mask runs to the end of what is
#: searched): a secret cut at the edge of the search cannot reach this far into it.
_LONGEST_KEY = 300


def _masked(text: str, limit: int, *, end: bool = False) -> str:
    """The start (``end``: the end) of ``text`` that a quote may show, secrets masked.

    Only that part is searched, with room for the longest secret to be recognised
    whole. Masks shorten the text: while what is left could bring a secret cut at the
    edge of the search into view, the search widens.
    """
    window = limit + _SECRET_ROOM
    while True:
        part = text[-window:] if end else text[:window]
        masked = redact(part)
        if len(part) == len(text) or len(masked) >= limit + _LONGEST_KEY:
            return masked
        window *= 4


def article(word: str) -> str:
    """``a user``, ``an assistant`` (for the words messages name: roles, part types)."""
    return f"an {word}" if word[:1] in "aeio" else f"a {word}"


def kind(value: object, *, detail: bool = False) -> str:
    """How messages name the JSON type of ``value``: ``a string``, ``an object``, ...

    ``detail``: a boolean or a number with its value (``a number (1)``).
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})" if detail else "a boolean"
    if isinstance(value, int | float):
        return f"a number ({value})" if detail else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def closest(name: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The one of ``choices`` that ``name`` most likely misspells, if any is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest of ``choices``, or nothing."""
    close = closest(name, choices)
    return f"; did you mean {close!r}?" if close else ""


def with_rest(shown: list[str], total: int, *, indent: str = "") -> list[str]:
    """A list cut short: the ``shown`` lines, then ``... and N more`` for the rest of ``total``."""
    rest = total - len(shown)
    return [*shown, f"{indent}... and {rest:,} more"] if rest > 0 else shown
