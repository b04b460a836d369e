"""Train/validation pairs: which file is the validation half of which training file.

A pair is found by name, in the same folder: ``intents_train.jsonl`` and
``intents_valid.jsonl``, ``train.jsonl`` and ``valid.jsonl``, ``x_prepared_train.jsonl``
and ``x_prepared_valid.jsonl`` (what the legacy ``prepare_data`` tool wrote), with
``validation`` or ``val`` for ``valid`` and ``training`` for ``train``; the word must stand
between ``_``, ``-`` or ``.`` (``interval.jsonl`` is no split). Pairs named otherwise
are declared in configuration::

    pairs = [{train = "data/intents.jsonl", valid = "data/held_out.jsonl"}]

with paths relative to the configuration file. The label and leakage checks (FT5xx)
compare a validation file with its training file; the few-examples check (FT014) leaves
validation files alone, since they are small on purpose, and the token figures do not
bill them (they are not trained on).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_finetune.config_keys import ConfigError, Key, add_key, string
from pytest_finetune.slots import Slot

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext

_TRAIN_WORDS = ("train", "training")
_VALID_WORDS = ("valid", "validation", "val")
_WORD = re.compile(r"(?<![^_.-])(training|train|validation|valid|val)(?![^_.-])")


class Role(str, enum.Enum):
    """Which half of a pair a file is."""

    TRAIN = "train"
    VALID = "valid"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Split:
    """A training file and its validation file, seen from one of them."""

    train: Path
    valid: Path
    role: Role

    @property
    def other(self) -> Path:
        """The other half of the pair."""
        return self.valid if self.role is Role.TRAIN else self.train


def find(
    path: Path, config: dict[str, Any] | None = None, root: Path | None = None
) -> Split | None:
    """The pair ``path`` is in: declared in ``config`` (relative to ``root``), or by name."""
    return _declared(path, (config or {}).get("pairs", []), root or Path.cwd()) or _named(path)


#: The pair of the file being scanned (``None``: it is in none).
_SPLIT: Slot[Split | None] = Slot("split")


def of(context: ScanContext) -> Split | None:
    """The pair of the file being scanned, found once and shared by its checks."""
    source = context.settings.source
    return context.cached(
        _SPLIT,
        lambda: find(context.path, context.settings.config, source.root if source else None),
    )


def named_as_validation(path: str | Path) -> bool:
    """Whether a file's name says it holds validation data (``valid.jsonl``, ``x_val.jsonl``).

    Its last split word (as in pairs found by name) is ``valid``, ``validation`` or ``val``.
    """
    matches = list(_WORD.finditer(Path(path).name))
    return bool(matches) and matches[-1].group(1) in _VALID_WORDS


def is_validation(context: ScanContext) -> bool:
    """Whether the file being scanned is the validation half of a pair."""
    split = of(context)
    return split is not None and split.role is Role.VALID


def _declared(path: Path, pairs: list[dict[str, str]], root: Path) -> Split | None:
    if not pairs:
        return None  # most projects: no path to resolve for each of their files
    here = path.resolve()
    for pair in pairs:
        train, valid = (root / pair["train"]).resolve(), (root / pair["valid"]).resolve()
        if here == train:
            return Split(train, valid, Role.TRAIN)
        if here == valid:
            return Split(train, valid, Role.VALID)
    return None


def _named(path: Path) -> Split | None:
    # The last split word in the name decides: "training_notes_valid.jsonl" is a
    # validation file whose training half is "training_notes_train.jsonl".
    matches = list(_WORD.finditer(path.name))
    if not matches:
        return None
    match = matches[-1]
    word = match.group(1)
    is_valid = word in _VALID_WORDS
    for counterpart in _TRAIN_WORDS if is_valid else _VALID_WORDS:
        other = path.with_name(path.name[: match.start()] + counterpart + path.name[match.end() :])
        if other.is_file():
            if is_valid:
                return Split(other, path, Role.VALID)
            return Split(path, other, Role.TRAIN)
    return None


def _pairs(value: Any, where: str) -> list[dict[str, str]]:
    usage = '[{train = "a_train.jsonl", valid = "a_valid.jsonl"}]'
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"{where} must be a list of tables such as {usage}")
    for index, pair in enumerate(value):
        if set(pair) != {"train", "valid"}:
            raise ConfigError(
                f"{where}[{index}] must have exactly the keys train and valid, got "
                f"{', '.join(sorted(pair)) or 'none'}"
            )
        for key in ("train", "valid"):
            string(pair[key], f"{where}[{index}].{key}")
    return value


add_key(
    "pairs",
    Key(
        _pairs,
        "Training/validation file pairs not named *_train/*_valid: "
        '[{train = "...", valid = "..."}], relative to the configuration file.',
    ),
)


def partial_marker(path: Path) -> Path | None:
    """The marker of the prepared pair ``path`` belongs to; ``None`` if it is not in one.

    The marker exists while the pair is being published, or if the run was killed then.
    """
    stem, found, rest = path.name.rpartition("_prepared_")
    if not found or rest not in ("train.jsonl", "valid.jsonl"):
        return None
    return path.with_name(f".{stem}_prepared.partial")
