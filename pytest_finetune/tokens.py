"""Tokens: each model's encoding, training limit and price, and counting with tiktoken.

Counting is exact with the model's tiktoken encoding. tiktoken downloads encodings on
first use; offline and without a cache (``TIKTOKEN_CACHE_DIR``), counts fall back to an
estimate (a token per four characters) that every figure marks as such, instead of
failing. The model table holds OpenAI's published figures; ``[tool.pytest_finetune.models]``
adds or overrides models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Protocol

from pytest_finetune.schema import ConfigError, Key, add_key

#: The model assumed when none is configured: the usual base for fine-tuning.
DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
#: Characters per token in the offline estimate.
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class ModelSpec:
    """What the linter needs to know of a model it may fine-tune."""

    name: str
    #: tiktoken encoding name.
    encoding: str
    #: Most tokens one training example may have; longer ones are truncated.
    training_limit: int
    #: US dollars per million training tokens (``None``: unknown).
    training_price: float | None = None


#: OpenAI's fine-tunable models, by name prefix (a dated snapshot matches its family).
MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("gpt-4.1-nano", "o200k_base", 65_536, 1.50),
        ModelSpec("gpt-4.1-mini", "o200k_base", 65_536, 5.00),
        ModelSpec("gpt-4.1", "o200k_base", 65_536, 25.00),
        ModelSpec("gpt-4o-mini", "o200k_base", 65_536, 3.00),
        ModelSpec("gpt-4o", "o200k_base", 65_536, 25.00),
        ModelSpec("o4-mini", "o200k_base", 65_536, None),
        ModelSpec("gpt-3.5-turbo-0613", "cl100k_base", 4_096, 8.00),
        ModelSpec("gpt-3.5-turbo", "cl100k_base", 16_385, 8.00),
        ModelSpec("gpt-4", "cl100k_base", 8_192, None),
        ModelSpec("davinci-002", "cl100k_base", 16_384, 6.00),
        ModelSpec("babbage-002", "cl100k_base", 16_384, 0.40),
    )
}


def model_spec(model: str | None, config: dict[str, Any] | None = None) -> ModelSpec:
    """The spec of ``model`` (the default model if ``None``), from the config or the table.

    A fine-tuned model's id (``ft:gpt-4o-mini-2024-07-18:org::abc``) resolves to its base.
    """
    name = model or DEFAULT_MODEL
    base = name.split(":")[1] if name.startswith("ft:") else name
    custom = (config or {}).get("models", {})
    table = {**MODELS, **{key: _spec(key, value) for key, value in custom.items()}}
    for prefix in sorted(table, key=len, reverse=True):
        if base.startswith(prefix):
            return replace(table[prefix], name=name)
    raise ConfigError(
        f"Unknown model {name!r}: add it to [tool.pytest_finetune.models.{name!r}] with its "
        "encoding, training-limit and training-price"
    )


def default_epochs(examples: int) -> int:
    """The service's default number of epochs for ``examples`` training examples (cookbook rule).

    Three, raised so that small files see about 100 examples, lowered so that large ones
    see about 25,000, always within 1 to 25.
    """
    if examples <= 0:
        return 0
    if examples * 3 < 100:
        return min(25, 100 // examples)
    if examples * 3 > 25_000:
        return max(1, 25_000 // examples)
    return 3


class Counter(Protocol):
    """Counts the tokens of a text."""

    exact: bool

    def __call__(self, text: str) -> int: ...


class _Exact:
    exact = True

    def __init__(self, encoding: Any) -> None:
        # Special tokens in data are text to the service, not control tokens.
        self._encode = encoding.encode_ordinary

    def __call__(self, text: str) -> int:
        return len(self._encode(text))


class _Estimate:
    exact = False

    def __call__(self, text: str) -> int:
        return math.ceil(len(text) / CHARS_PER_TOKEN)


def counter(encoding: str, shared: dict[str, Any] | None = None) -> Counter:
    """A token counter for ``encoding``, loaded once per process (``shared`` caches it)."""
    cache = shared if shared is not None else _COUNTERS
    key = f"tokens.counter:{encoding}"
    found = cache.get(key)
    if found is None:
        found = cache[key] = _load(encoding)
    return found


_COUNTERS: dict[str, Any] = {}


def _load(encoding: str) -> Counter:
    try:
        # Imported here: the plugin loads in every pytest run of a project, and most
        # never count a token.
        import tiktoken  # noqa: PLC0415

        return _Exact(tiktoken.get_encoding(encoding))
    except Exception:  # tiktoken raises whatever its download raises when offline
        return _Estimate()


def _spec(name: str, value: Any) -> ModelSpec:
    where = f"models.{name}"
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of encoding, training-limit, training-price")
    unknown = sorted(set(value) - {"encoding", "training-limit", "training-price"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    base = MODELS.get(name, ModelSpec(name, "o200k_base", 0))
    encoding = value.get("encoding", base.encoding)
    limit = value.get("training-limit", base.training_limit)
    price = value.get("training-price", base.training_price)
    if not isinstance(encoding, str):
        raise ConfigError(f"{where}.encoding must be a tiktoken encoding name")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise ConfigError(f"{where}.training-limit must be a positive integer")
    if price is not None and (isinstance(price, bool) or not isinstance(price, int | float)):
        raise ConfigError(f"{where}.training-price must be a number (USD per 1M tokens)")
    return ModelSpec(name, encoding, limit, None if price is None else float(price))


def _models(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of model tables")
    for name, spec in value.items():
        _spec(name, spec)  # validates
    return value


add_key(
    "models",
    Key(
        _models,
        "Extra models or overrides: encoding, training-limit, "
        "training-price (USD per 1M training tokens).",
    ),
)
