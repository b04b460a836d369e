"""The train/validation split: stratified by class, seeded, no example on both sides.

Sizes are the legacy tool's: the validation file gets 20% of the examples, at most
1,000. Examples with the same input (as the leakage check, FT510, compares them:
surrounding whitespace aside) go to the same side, so that no validation example is
also a training example. Classification data is split class by class: each class
gives the validation file its share of the examples, rounded so that the class totals
add up (largest remainders first), and keeps at least one example for training.
Both files keep the input's order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from pytest_finetune.formats import Record, detect, example_key
from pytest_finetune.prepare.read import Example

#: The legacy sizes: a fifth of the examples, at most this many.
VALID_SHARE = 0.2
MAX_VALID = 1000
DEFAULT_SEED = 42


@dataclass
class Split:
    """The two halves of the data, each in the input's order."""

    train: list[Example]
    valid: list[Example]


def valid_size(examples: int) -> int:
    """How many examples go to validation (the legacy rule; at least one on each side)."""
    if examples < 2:
        return 0
    train = max(examples - MAX_VALID, int(examples * (1 - VALID_SHARE)))
    return min(max(1, examples - train), examples - 1)


def split(
    examples: list[Example],
    *,
    seed: int = DEFAULT_SEED,
    label: Callable[[Example], str | None] | None = None,
) -> Split:
    """Split ``examples``; by class if ``label`` is given (``None``: the example has none)."""
    groups = _groups(examples)
    wanted = valid_size(len(examples))
    rng = random.Random(seed)
    if label is None:
        chosen = _take(groups, wanted, rng)
    else:
        by_class: dict[str | None, list[list[int]]] = {}
        for group in groups:
            by_class.setdefault(label(examples[group[0]]), []).append(group)
        sizes = {name: sum(map(len, members)) for name, members in by_class.items()}
        chosen = set()
        for name, quota in quotas(sizes, wanted).items():
            chosen |= _take(by_class[name], quota, rng)
    return Split(
        [example for index, example in enumerate(examples) if index not in chosen],
        [example for index, example in enumerate(examples) if index in chosen],
    )


def quotas(sizes: dict[str | None, int], wanted: int) -> dict[str | None, int]:
    """Validation examples per class: each class's share of ``wanted``, within one of it.

    Shares are rounded down, then the examples left over go to the classes with the
    largest remainders; no class gives away its last example.
    """
    total = sum(sizes.values())
    if not total:
        return {}
    exact = {name: size * wanted / total for name, size in sizes.items()}
    result = {name: min(int(share), max(0, sizes[name] - 1)) for name, share in exact.items()}
    left = wanted - sum(result.values())
    # Ties go to the larger class, then to the name, so the result is deterministic.
    order = sorted(exact, key=lambda name: (result[name] - exact[name], -sizes[name], str(name)))
    for name in order:
        if left <= 0:
            break
        if result[name] < exact[name] and result[name] < sizes[name] - 1:
            result[name] += 1
            left -= 1
    return result


def _groups(examples: list[Example]) -> list[list[int]]:
    """Indexes of examples with the same input, in order of first occurrence."""
    groups: dict[object, list[int]] = {}
    for index, example in enumerate(examples):
        keys = example_key(Record(example.line, b"", example.data, detect(example.data)))
        groups.setdefault(keys[0] if keys else ("line", index), []).append(index)
    return list(groups.values())


def _take(groups: list[list[int]], wanted: int, rng: random.Random) -> set[int]:
    """Groups drawn at random until ``wanted`` examples are taken (never more)."""
    order = list(groups)
    rng.shuffle(order)
    taken: set[int] = set()
    for group in order:
        if len(taken) >= wanted:
            break
        if len(taken) + len(group) <= wanted:
            taken.update(group)
    return taken
