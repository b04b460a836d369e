"""The cost guard: what a job will bill, estimated before it is created.

Billed tokens are the training file's tokens (counted with the base model's encoding,
with the chat overhead the service adds, each example capped at the model's training
limit as the service truncates it) times the number of epochs (given, or the
service's default for the dataset's size), priced from the model table of
:mod:`pytest_finetune.models` (``[tool.pytest_finetune.models]`` adds or overrides
prices). Examples are counted as the token checks count them
(:class:`~pytest_finetune.token_counting.ExampleCounter`), so the guard and FT602 agree.
Above ``--finetune-max-cost`` the job is not created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_finetune import models, token_counting
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.formats import Record, detect
from pytest_finetune.money import dollars
from pytest_finetune.reader import DEFAULT_MAX_LINE_BYTES, Reader, SyntaxProblem

#: The encoding assumed for a model the table does not know.
_FALLBACK_ENCODING = "o200k_base"


class CostRefused(Exception):
    """The estimated cost is above the limit, or cannot be estimated under one."""


@dataclass(frozen=True)
class CostEstimate:
    """What a job bills: tokens per epoch, epochs, and the price that applies."""

    model: str | None
    #: ``None`` when the figures come from the provider rather than from counting.
    examples: int | None
    tokens: int | None
    epochs: int | None
    #: Counted with the model's tokenizer (else estimated from characters).
    exact: bool
    #: US dollars per million training tokens (``None``: not known).
    price: float | None
    #: What the provider reports it billed, once the job has finished.
    trained_tokens: int | None = None

    @property
    def billed_tokens(self) -> int:
        """Tokens billed: the provider's figure if known, else tokens times epochs."""
        if self.trained_tokens:
            return self.trained_tokens
        return (self.tokens or 0) * (self.epochs or 0)

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
            volume = f"{approx}{self.tokens or 0:,} tokens x {self.epochs} epochs"
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


def price(model: str | None, config: Mapping[str, Any] | None = None) -> float | None:
    """US dollars per million training tokens of ``model`` (``None``: not known)."""
    try:
        return models.model_spec(model, dict(config or {})).training_price
    except ConfigError:
        return None


def estimate(
    path: Path,
    model: str | None,
    hyperparameters: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
) -> CostEstimate:
    """The cost of fine-tuning ``model`` on the file at ``path``."""
    try:
        spec: models.ModelSpec | None = models.model_spec(model, dict(config or {}))
    except ConfigError:  # a model the table does not know: no price, usual encoding
        spec = None
    encoding = spec.encoding if spec else _FALLBACK_ENCODING
    count = token_counting.ExampleCounter(token_counting.counter(encoding), encoding)
    limit = spec.training_limit if spec else None
    examples = total = 0
    for item in Reader(path, max_line_bytes=DEFAULT_MAX_LINE_BYTES):
        if isinstance(item, SyntaxProblem):
            continue
        examples += 1
        line, raw, data = item
        length = count(Record(line, raw, data, detect(data)))
        total += min(length, limit) if limit else length
    epochs = int(hyperparameters.get("n_epochs") or models.default_epochs(examples))
    price = spec.training_price if spec else None
    return CostEstimate(model, examples, total, epochs, count.exact, price)


def guard(cost: CostEstimate, max_cost: float | None) -> None:
    """Raise :class:`CostRefused` when ``cost`` is above ``max_cost`` (or unknown under one)."""
    if max_cost is None:
        return
    if cost.usd is None:
        raise CostRefused(
            f"No price is known for {cost.model}, so its cost cannot be held under "
            f"--finetune-max-cost={max_cost:g}: give it one in [tool.pytest_finetune.models"
            f'."{cost.model}"] (training-price = USD per million training tokens).'
        )
    if cost.usd > max_cost:
        raise CostRefused(
            f"Not training: the job would cost about {cost.describe()}, above "
            f"--finetune-max-cost={max_cost:g}. Raise the limit, train fewer epochs or "
            "on fewer examples."
        )
