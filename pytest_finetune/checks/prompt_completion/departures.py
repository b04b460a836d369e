"""Which records of a batch may depart from the file's conventions: the survey's cheap tests.

A prompt/completion record that ends its prompt with the separator, starts its
completion with one space, ends it with the stop sequence, and holds neither where it
should not is one in which the survey sees nothing (but for whole-file facts, which it
narrows over whole lists). These tests pick, from a batch, the few records it must
visit one by one. In doubt, a record is picked; what is rare in any dataset (a text that
is empty, or not a string, or a prompt that starts with whitespace) picks them all.

:func:`departures` runs them over whole lists in Python; ``extensions.departures`` does
the same in one pass in C, where it was built.
"""

from __future__ import annotations

from functools import partial, reduce
from itertools import compress, repeat
from operator import contains, gt, itemgetter, le, ne, not_, or_, sub
from typing import Any, NamedTuple

from pytest_finetune import extensions

#: A text's second character, or nothing (``itemgetter`` of a slice never raises).
_SECOND = slice(1, 2)


class Expected(NamedTuple):
    """What every record of the file is expected to be, as far as its members watch.

    The separator and stop sequence are empty where the file has none; a ``rare``
    character is the one of each that the file's texts hold least often, whose presence
    in a text is the cheap sign that it may hold the whole sequence.
    """

    separator: str
    separator_rare: str
    stop: str
    stop_rare: str
    #: Whether a separator (its rare character) inside a prompt or a completion is watched.
    separator_inside: bool
    #: Whether a stop sequence (its rare character) inside a completion is watched.
    stop_inside: bool
    #: Whether a completion's leading space is watched.
    leading_space: bool


def departures(prompts: list[Any], completions: list[Any], expected: Expected) -> list[int] | None:
    """The indexes of the records that may depart from ``expected``; ``None``: all may.

    ``None`` where a text is not a string or is empty, a prompt starts with whitespace
    or a control character, or a completion is all whitespace. The lists are a batch's
    columns, of the same length.
    """
    if len(prompts) != len(completions):
        raise ValueError("prompts and completions differ in length")
    read = extensions.departures
    if read is not None:
        return read(prompts, completions, *expected)
    if not prompts:
        return []
    if (
        set(map(type, prompts)) != {str}
        or set(map(type, completions)) != {str}
        or not all(prompts)
        or not all(completions)
        or min(map(itemgetter(0), prompts)) <= " "
        or any(map(str.isspace, completions))
    ):
        return None
    separator, stop, rare = expected.separator, expected.stop, expected.separator_rare
    flags: list[Any] = []
    if separator:
        flags += _endings(prompts, separator, rare, inside=expected.separator_inside)
    if expected.leading_space:
        flags.append(map(ne, map(itemgetter(0), completions), repeat(" ")))
        flags.append(map(le, map(itemgetter(_SECOND), completions), repeat(" ")))
    if stop:
        flags += _endings(completions, stop, expected.stop_rare, inside=expected.stop_inside)
    if expected.separator_inside:
        flags.append(map(contains, completions, repeat(rare)))
    if not flags:
        return []
    return list(compress(range(len(prompts)), reduce(partial(map, or_), flags)))


def _endings(texts: list[str], end: str, rare: str, *, inside: bool) -> list[Any]:
    """For each text: whether it lacks ``end``; ``inside``: whether it may hold it before.

    It may where ``end``'s rarest character (``rare``) is found before the last
    ``len(end)`` characters (-1 is too, but then the text lacks ``end``).
    """
    flags: list[Any] = [map(not_, map(str.endswith, texts, repeat(end)))]
    if inside:
        finds = map(str.find, texts, repeat(rare))
        flags.append(map(gt, map(sub, map(len, texts), repeat(len(end))), finds))
    return flags
