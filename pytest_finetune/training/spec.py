"""What to train and what to assert: one declaration, from the marker or from config.

``@pytest.mark.finetune(train=..., min_accuracy=0.9)`` and a
``[[tool.pytest_finetune.train]]`` table say the same things with the same words
(config spells them with dashes: ``min-accuracy``). :func:`parse` turns either into a
:class:`TrainSpec`, or a :class:`SpecError` that names the bad key and what to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_finetune.config_keys import MAX_NUMBER, ConfigError, Key, add_key
from pytest_finetune.training.backends.table import BACKENDS
from pytest_finetune.wording import closest, did_you_mean


class SpecError(ConfigError):
    """A training declaration that cannot be run as written."""


@dataclass(frozen=True)
class Threshold:
    """One assertion on a measured figure: ``metric >= limit`` or ``metric <= limit``."""

    name: str
    metric: str
    at_least: bool
    doc: str

    def passes(self, value: float, limit: float) -> bool:
        """Whether ``value`` meets ``limit``."""
        return value >= limit if self.at_least else value <= limit


#: Every threshold a declaration may set. ``min_class_f1`` is per class (see
#: :func:`pytest_finetune.training.thresholds.check`).
THRESHOLDS: dict[str, Threshold] = {
    t.name: t
    for t in (
        Threshold("min_accuracy", "accuracy", True, "Share of validation examples answered right."),
        Threshold("min_f1", "f1", True, "Macro-averaged F1 over the classes."),
        Threshold("min_precision", "precision", True, "Macro-averaged precision."),
        Threshold("min_recall", "recall", True, "Macro-averaged recall."),
        Threshold(
            "min_class_f1",
            "class_f1",
            True,
            "F1 of every class (a number), or of the named classes (a table class = number).",
        ),
        Threshold("max_valid_loss", "valid_loss", False, "Final validation loss of the job."),
        Threshold(
            "min_valid_token_accuracy",
            "valid_mean_token_accuracy",
            True,
            "Final validation mean token accuracy of the job.",
        ),
        Threshold("max_train_loss", "train_loss", False, "Final training loss of the job."),
    )
}

#: Hyperparameters passed to the provider (each backend says which it takes).
HYPERPARAMETERS = (
    "n_epochs",
    "batch_size",
    "learning_rate_multiplier",
    "learning_rate",
    "lora_rank",
    "lora_alpha",
    "lora_dropout",
)
#: Hyperparameters that are fractions or rates rather than counts.
_RATES = ("learning_rate_multiplier", "learning_rate", "lora_dropout")

_OTHER_KEYS = (
    "train",
    "valid",
    "backend",
    "model",
    "name",
    "seed",
    "suffix",
    "deployment",
    "allow_check_errors",
)
KNOWN_KEYS = (*_OTHER_KEYS, *HYPERPARAMETERS, *THRESHOLDS)

#: Validation files found beside a training file without being named.
_VALID_NAMES = (("_train", "_valid"), ("train", "valid"), ("-train", "-valid"))


@dataclass(frozen=True)
class TrainSpec:
    """A model to train (or reuse), the split to measure it on, and what to assert."""

    train: Path
    valid: Path
    backend: str = "openai"
    model: str | None = None
    #: Only those given; the provider chooses the rest ("auto").
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    suffix: str | None = None
    #: The deployment (Azure, Fireworks) or dedicated endpoint (Together) that serves
    #: the fine-tuned model.
    deployment: str | None = None
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    allow_check_errors: bool = False
    name: str | None = None

    def job_parameters(self) -> dict[str, Any]:
        """What decides the model besides the data: part of the job's key."""
        return {
            "model": self.model,
            "hyperparameters": dict(sorted(self.hyperparameters.items())),
            "seed": self.seed,
            "suffix": self.suffix,
        }

    @property
    def label(self) -> str:
        """A short name for items and messages: the given name, else backend and model."""
        if self.name:
            return self.name
        return f"{self.backend}:{self.model}" if self.model else self.backend


def parse(
    options: Mapping[str, Any],
    *,
    where: str,
    bases: tuple[Path, ...],
    default_model: str | None = None,
) -> TrainSpec:
    """A declaration from marker keywords or a config table.

    Relative paths are looked up under each of ``bases`` in turn (the first existing
    one wins). Config keys may use dashes (``min-accuracy``).
    """
    table = {str(key).replace("-", "_"): value for key, value in options.items()}
    for key in table:
        if key not in KNOWN_KEYS:
            hint = did_you_mean(key, KNOWN_KEYS)
            raise SpecError(f"{where}: unknown key {key!r}{hint} (keys: {', '.join(KNOWN_KEYS)})")
    if "train" not in table:
        raise SpecError(f"{where}: 'train' is required: the training file to fine-tune on")
    train = _path(table["train"], "train", where, bases)
    valid = (
        _path(table["valid"], "valid", where, bases)
        if table.get("valid") is not None
        else _valid_beside(train, where)
    )
    backend = _text(table.get("backend", "openai"), "backend", where)
    if backend not in BACKENDS:
        raise SpecError(f"{where}: backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if not BACKENDS[backend].model_table:
        # The project's model is one to fine-tune, not a name this backend knows.
        default_model = None
    model = table.get("model", default_model)
    if backend != "local" and not model:
        if not BACKENDS[backend].model_table:
            raise SpecError(
                f"{where}: the {backend} backend needs model='...': the name the server or "
                "provider knows the model by"
            )
        raise SpecError(
            f"{where}: the {backend} backend needs a base model to fine-tune, e.g. "
            "model='gpt-4.1-mini-2025-04-14' (or the top-level 'model' key in the configuration)"
        )
    hyperparameters = {
        name: _number(table[name], name, where, whole=name not in _RATES)
        for name in HYPERPARAMETERS
        if table.get(name) is not None
    }
    thresholds = {
        name: _threshold(table[name], name, where) for name in THRESHOLDS if name in table
    }
    allow = table.get("allow_check_errors", False)
    if not isinstance(allow, bool):
        raise SpecError(f"{where}: allow_check_errors must be true or false, got {allow!r}")
    seed = table.get("seed")
    return TrainSpec(
        train=train,
        valid=valid,
        backend=backend,
        model=_text(model, "model", where) if model else None,
        hyperparameters=hyperparameters,
        seed=_seed(seed, where),
        suffix=_optional_text(table.get("suffix"), "suffix", where),
        deployment=_optional_text(table.get("deployment"), "deployment", where),
        thresholds=thresholds,
        allow_check_errors=allow,
        name=_optional_text(table.get("name"), "name", where),
    )


def _path(value: Any, key: str, where: str, bases: tuple[Path, ...]) -> Path:
    text = _text(value, key, where)
    path = Path(text)
    candidates = [path] if path.is_absolute() else [base / path for base in bases]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    looked = ", ".join(str(candidate) for candidate in candidates)
    raise SpecError(f"{where}: {key} file {text!r} not found (looked for {looked})")


def _valid_beside(train: Path, where: str) -> Path:
    for before, after in _VALID_NAMES:
        if before in train.stem:
            stem = after.join(train.stem.rsplit(before, 1))
            candidate = train.with_name(stem + train.suffix)
            if candidate.is_file():
                return candidate
    raise SpecError(
        f"{where}: no validation file for {train.name}: accuracy is measured on held-out "
        "examples; give valid='...' or put a *_valid.jsonl file beside the training file"
    )


def _text(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise SpecError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value


def _optional_text(value: Any, key: str, where: str) -> str | None:
    return None if value is None else _text(value, key, where)


def _number(value: Any, key: str, where: str, *, whole: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_NUMBER:
        kind = "a positive integer" if whole else "a positive number"
        raise SpecError(f"{where}: {key} must be {kind}, got {value!r}")
    if whole and not float(value).is_integer():
        raise SpecError(f"{where}: {key} must be a positive integer, got {value!r}")
    return int(value) if whole else float(value)


def _seed(value: Any, where: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise SpecError(f"{where}: seed must be an integer, got {value!r}")
    return value


def _threshold(value: Any, name: str, where: str) -> float | dict[str, float]:
    if name == "min_class_f1" and isinstance(value, Mapping):
        return {
            str(label): _fraction(limit, f"{name}[{label!r}]", where)
            for label, limit in value.items()
        }
    if THRESHOLDS[name].metric.endswith("loss"):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= MAX_NUMBER
        ):
            raise SpecError(f"{where}: {name} must be a number >= 0, got {value!r}")
        return float(value)
    return _fraction(value, name, where)


def _fraction(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise SpecError(f"{where}: {name} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _entries(value: Any, where: str) -> list[dict[str, Any]]:
    """Validate ``[[train]]`` tables as far as possible without knowing the files."""
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(entry, Mapping) for entry in value):
        raise ConfigError(f"{where} must be an array of tables: [[tool.pytest_finetune.train]]")
    for index, entry in enumerate(value):
        for key in entry:
            normal = str(key).replace("-", "_")
            if normal not in KNOWN_KEYS:
                close = closest(normal, KNOWN_KEYS)
                hint = f"; did you mean {close.replace('_', '-')!r}?" if close else ""
                raise ConfigError(f"{where}[{index}]: unknown key {key!r}{hint}")
        if "train" not in entry:
            raise ConfigError(f"{where}[{index}]: 'train' is required (the training file)")
        # The training file decides which dataset gets the item: without a path the
        # declaration, and its accuracy gate, would silently disappear.
        _text(entry["train"], "train", f"{where}[{index}]")
        if entry.get("valid") is not None:
            _text(entry["valid"], "valid", f"{where}[{index}]")
    return [dict(entry) for entry in value]


add_key(
    "train",
    Key(
        _entries,
        "Models to train and gate on ([[train]] tables: train, valid, backend, model, "
        "thresholds); they run with --finetune-train.",
    ),
)
