"""The cost guard: what a job will bill, estimated before it is created.

Billed tokens are the training file's tokens (counted with the base model's encoding
and the chat overhead the service adds) times the number of epochs (given, or the
service's default for the dataset's size), priced from a table of USD per million
training tokens that the configuration can extend. Above ``--finetune-max-cost`` the
job is not created.

The lead's ``tokens`` module will own encodings, limits, prices and the default-epochs
rule; until it lands this module carries the minimum of each.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tiktoken

from pytest_finetune.formats import Format, detect
from pytest_finetune.reader import DEFAULT_MAX_LINE_BYTES, ParsedLine, Reader

#: USD per million training tokens, by model name prefix (the longest match wins).
#: Published prices at the time of writing; configurable under ``training.prices``.
PRICES: dict[str, float] = {
    "gpt-4.1-nano": 1.50,
    "gpt-4.1-mini": 5.00,
    "gpt-4.1": 25.00,
    "gpt-4o-mini": 3.00,
    "gpt-4o": 25.00,
    "gpt-3.5-turbo": 8.00,
    "davinci-002": 6.00,
    "babbage-002": 0.40,
}

#: The service's default epochs: about this many passes, within the bounds below.
_TARGET_EPOCHS = 3
_MIN_TARGET_EXAMPLES = 100
_MAX_TARGET_EXAMPLES = 25_000
_MAX_DEFAULT_EPOCHS = 25
#: Chat overhead as the service counts it.
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_NAME = 1
_PRIMING_TOKENS = 3
#: Bytes per token when no tokenizer is at hand (estimates are marked as such).
_BYTES_PER_TOKEN = 4


class CostRefused(Exception):
    """The estimated cost is above the limit, or cannot be estimated under one."""


def default_epochs(examples: int) -> int:
    """The number of epochs the service picks when none is given."""
    if examples <= 0:
        return _TARGET_EPOCHS
    if examples * _TARGET_EPOCHS < _MIN_TARGET_EXAMPLES:
        return min(_MAX_DEFAULT_EPOCHS, _MIN_TARGET_EXAMPLES // examples)
    if examples * _TARGET_EPOCHS > _MAX_TARGET_EXAMPLES:
        return max(1, _MAX_TARGET_EXAMPLES // examples)
    return _TARGET_EPOCHS


def price_per_million(model: str | None, prices: Mapping[str, float]) -> float | None:
    """USD per million training tokens for ``model`` (``None``: not in the table)."""
    if not model:
        return None
    base = model.split(":")[1] if model.startswith("ft:") else model
    table = {**PRICES, **prices}
    matches = [prefix for prefix in table if base.startswith(prefix)]
    return table[max(matches, key=len)] if matches else None


@dataclass(frozen=True)
class CostEstimate:
    """What a job bills: tokens per epoch, epochs, and the price that applies."""

    model: str | None
    examples: int
    tokens: int
    epochs: int
    #: Counted with the model's tokenizer (else estimated from the file's bytes).
    exact: bool
    price: float | None
    #: What the provider reports it billed, once the job has finished.
    trained_tokens: int | None = None

    @property
    def billed_tokens(self) -> int:
        """Tokens billed: the provider's figure if known, else tokens times epochs."""
        return self.trained_tokens if self.trained_tokens else self.tokens * self.epochs

    @property
    def usd(self) -> float | None:
        """The cost in US dollars, if the model has a price."""
        return None if self.price is None else self.billed_tokens * self.price / 1_000_000

    def describe(self) -> str:
        """One line: ``$0.01 (3,210 tokens x 3 epochs at $6.00 per 1M tokens)``."""
        approx = "" if self.exact or self.trained_tokens else "~"
        if self.trained_tokens:
            volume = f"{self.trained_tokens:,} trained tokens"
        else:
            volume = f"{approx}{self.tokens:,} tokens x {self.epochs} epochs"
        if self.price is None or self.usd is None:
            return f"{volume}; no price known for {self.model}"
        return f"{approx}{dollars(self.usd)} ({volume} at ${self.price:,.2f} per 1M tokens)"

    def to_dict(self) -> dict[str, Any]:
        """The report's view."""
        return {
            "usd": self.usd,
            "tokens": self.tokens,
            "epochs": self.epochs,
            "billed_tokens": self.billed_tokens,
            "exact": self.exact,
            "price_per_million": self.price,
        }


def dollars(usd: float) -> str:
    """``$12.34``; amounts under a cent keep four decimals (``$0.0045``), not ``$0.00``."""
    return f"${usd:,.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.4f}"


def estimate(
    path: Path,
    model: str | None,
    hyperparameters: Mapping[str, Any],
    prices: Mapping[str, float],
) -> CostEstimate:
    """The cost of fine-tuning ``model`` on the file at ``path``."""
    encode = _encoder(model)
    examples = tokens = 0
    for item in Reader(path, max_line_bytes=DEFAULT_MAX_LINE_BYTES):
        if isinstance(item, ParsedLine):
            examples += 1
            tokens += (
                _record_tokens(item.data, encode)
                if encode
                else -(-len(item.raw) // _BYTES_PER_TOKEN)
            )
    epochs = int(hyperparameters.get("n_epochs") or default_epochs(examples))
    return CostEstimate(
        model, examples, tokens, epochs, encode is not None, price_per_million(model, prices)
    )


def guard(cost: CostEstimate, max_cost: float | None) -> None:
    """Raise :class:`CostRefused` when ``cost`` is above ``max_cost`` (or unknown under one)."""
    if max_cost is None:
        return
    if cost.usd is None:
        raise CostRefused(
            f"No price is known for {cost.model}, so its cost cannot be held under "
            f"--finetune-max-cost={max_cost:g}: add it to [tool.pytest_finetune.training.prices] "
            f'(USD per million training tokens, e.g. "{cost.model}" = 3.0).'
        )
    if cost.usd > max_cost:
        raise CostRefused(
            f"Not training: the job would cost about {cost.describe()}, above "
            f"--finetune-max-cost={max_cost:g}. Raise the limit, train fewer epochs or "
            "on fewer examples."
        )


def _record_tokens(data: dict[str, Any], encode: Any) -> int:
    fmt = detect(data)
    if fmt is Format.PROMPT_COMPLETION:
        return sum(
            len(encode(value))
            for value in (data.get("prompt"), data.get("completion"))
            if isinstance(value, str)
        )
    messages: list[Any] = []
    if fmt is Format.CHAT:
        messages = data.get("messages") or []
    elif fmt is Format.PREFERENCE:
        source = data.get("input")
        messages = list(source.get("messages") or []) if isinstance(source, dict) else []
        for key in ("preferred_output", "non_preferred_output"):
            messages += data.get(key) or []
    total = _PRIMING_TOKENS
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        total += _TOKENS_PER_MESSAGE
        for key, value in message.items():
            if isinstance(value, str):
                total += len(encode(value))
            elif value is not None and key != "weight":
                total += len(encode(str(value)))
            if key == "name":
                total += _TOKENS_PER_NAME
    return total


@functools.lru_cache(maxsize=8)
def _encoder(model: str | None) -> Any:
    """``encode`` of the model's tiktoken encoding, or ``None`` when none can be loaded."""
    name = "o200k_base"
    if model:
        base = model.split(":")[1] if model.startswith("ft:") else model
        if base.startswith(("gpt-3.5", "davinci-002", "babbage-002")) or (
            base.startswith("gpt-4") and not base.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5"))
        ):
            name = "cl100k_base"
    try:
        encoding = tiktoken.get_encoding(name)
    except Exception:
        # Offline without the cached encoding file: figures become estimates.
        return None
    return functools.partial(encoding.encode, disallowed_special=())
