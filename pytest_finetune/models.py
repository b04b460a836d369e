"""The models one can fine-tune: encoding, training limit, price and formats of each.

The table holds OpenAI's published figures and those of the open-weight models that
Together AI and Fireworks AI fine-tune; ``[tool.pytest_finetune.models]`` adds or
overrides models. A model is named by its family (``gpt-4o-mini``) or any name that
starts with it: a dated snapshot, or a fine-tuned model's id (``ft:...``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pytest_finetune.config_keys import ConfigError, Key, add_key, finite
from pytest_finetune.formats import SUPPORTED, Format
from pytest_finetune.wording import did_you_mean

if TYPE_CHECKING:
    from pytest_finetune.targets import Target

#: The model assumed when none is configured: the usual base for fine-tuning.
DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
#: The model assumed for prompt/completion data, which chat models do not fine-tune on:
#: the cheaper of the two that do.
DEFAULT_COMPLETIONS_MODEL = "babbage-002"


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
    #: The formats of data the model fine-tunes on (every supported one unless known).
    formats: frozenset[Format] = SUPPORTED


#: What OpenAI's models fine-tune on: the base models prompt/completion only, the chat
#: models chat, and the newer ones preference (DPO) data too.
_LEGACY = frozenset({Format.PROMPT_COMPLETION})
_CHAT = frozenset({Format.CHAT})
_CHAT_AND_DPO = frozenset({Format.CHAT, Format.PREFERENCE})

#: OpenAI's fine-tunable models, by name prefix (a dated snapshot matches its family).
MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("gpt-4.1-nano", "o200k_base", 65_536, 1.50, _CHAT_AND_DPO),
        ModelSpec("gpt-4.1-mini", "o200k_base", 65_536, 5.00, _CHAT_AND_DPO),
        ModelSpec("gpt-4.1", "o200k_base", 65_536, 25.00, _CHAT_AND_DPO),
        ModelSpec("gpt-4o-mini", "o200k_base", 65_536, 3.00, _CHAT_AND_DPO),
        ModelSpec("gpt-4o", "o200k_base", 65_536, 25.00, _CHAT_AND_DPO),
        ModelSpec("o4-mini", "o200k_base", 65_536, None, _CHAT),
        ModelSpec("gpt-3.5-turbo-0613", "cl100k_base", 4_096, 8.00, _CHAT),
        ModelSpec("gpt-3.5-turbo", "cl100k_base", 16_385, 8.00, _CHAT),
        ModelSpec("gpt-4", "cl100k_base", 8_192, None, _CHAT),
        ModelSpec("davinci-002", "cl100k_base", 16_384, 6.00, _LEGACY),
        ModelSpec("babbage-002", "cl100k_base", 16_384, 0.40, _LEGACY),
        # Other targets' base models, where their training limits are documented
        # (docs/targets.md). Their tokenizers are not tiktoken: counts are estimates.
        ModelSpec("gemini-2.5-flash", "", 131_072, None, frozenset({Format.GEMINI})),
        ModelSpec("gemini-2.5-pro", "", 131_072, None, frozenset({Format.GEMINI})),
        ModelSpec("anthropic.claude-3-haiku", "", 32_000, None, frozenset({Format.CLAUDE})),
    )
}


#: Fireworks' supervised fine-tuning takes chat data (docs/targets.md); Together's takes
#: prompt/completion data too, and preference data for DPO.
_OPEN = frozenset({Format.CHAT})
_OPEN_AND_DPO = frozenset({Format.CHAT, Format.PROMPT_COMPLETION, Format.PREFERENCE})
#: Open-weight models as Together AI and Fireworks AI name them (``backend="together"``,
#: ``"fireworks"``). Their tokenizers are not tiktoken's: cl100k_base, which the Llama 3
#: and Qwen vocabularies extend, stands in for them, and their counts are said to be
#: estimates. Limits are the models' context lengths. Prices
#: are LoRA supervised fine-tuning, USD per million training tokens, by size tier:
#: Together https://www.together.ai/pricing (up to 16B $0.48, 17B-69B $1.50,
#: 70B-100B $2.90), Fireworks https://fireworks.ai/pricing (up to 16B $0.50,
#: 16.1B-80B $3.00, Mixtral 8x7B $2.00), both as published in 2025.
OPEN_MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "meta-llama/Meta-Llama-3.1-8B-Instruct", "cl100k_base", 131_072, 0.48, _OPEN_AND_DPO
        ),
        ModelSpec(
            "meta-llama/Meta-Llama-3.1-70B-Instruct", "cl100k_base", 131_072, 2.90, _OPEN_AND_DPO
        ),
        ModelSpec("meta-llama/Llama-3.2-3B-Instruct", "cl100k_base", 131_072, 0.48, _OPEN_AND_DPO),
        ModelSpec("meta-llama/Llama-3.3-70B-Instruct", "cl100k_base", 131_072, 2.90, _OPEN_AND_DPO),
        ModelSpec("Qwen/Qwen2.5-7B-Instruct", "cl100k_base", 32_768, 0.48, _OPEN_AND_DPO),
        ModelSpec("Qwen/Qwen2.5-72B-Instruct", "cl100k_base", 32_768, 2.90, _OPEN_AND_DPO),
        ModelSpec("Qwen/Qwen3-8B", "cl100k_base", 32_768, 0.48, _OPEN_AND_DPO),
        ModelSpec("mistralai/Mistral-7B-Instruct-v0.2", "cl100k_base", 32_768, 0.48, _OPEN_AND_DPO),
        ModelSpec(
            "accounts/fireworks/models/llama-v3p1-8b-instruct", "cl100k_base", 131_072, 0.50, _OPEN
        ),
        ModelSpec(
            "accounts/fireworks/models/llama-v3p1-70b-instruct", "cl100k_base", 131_072, 3.00, _OPEN
        ),
        ModelSpec(
            "accounts/fireworks/models/llama-v3p3-70b-instruct", "cl100k_base", 131_072, 3.00, _OPEN
        ),
        ModelSpec(
            "accounts/fireworks/models/qwen2p5-7b-instruct", "cl100k_base", 32_768, 0.50, _OPEN
        ),
        ModelSpec(
            "accounts/fireworks/models/qwen2p5-72b-instruct", "cl100k_base", 32_768, 3.00, _OPEN
        ),
        ModelSpec("accounts/fireworks/models/qwen3-8b", "cl100k_base", 32_768, 0.50, _OPEN),
        ModelSpec(
            "accounts/fireworks/models/mixtral-8x7b-instruct", "cl100k_base", 32_768, 2.00, _OPEN
        ),
    )
}


def model_spec(
    model: str | None,
    config: dict[str, Any] | None = None,
    fmt: Format | None = None,
    target: Target | None = None,
) -> ModelSpec:
    """The spec of ``model``, from the config or the table.

    Without a model, the default one for data of format ``fmt`` (:func:`default_model`).
    A fine-tuned model's id (``ft:gpt-4o-mini-2024-07-18:org::abc``) resolves to its base.
    For a ``target`` that trains models of its own (Together, Vertex AI, ...), a model
    neither table knows, or none, gets the target's limits and tokenizer.
    """
    own = target is not None and "openai" not in target.trains
    name = model or (target.title if target is not None and own else default_model(fmt))
    base = name.split(":")[1] if name.startswith("ft:") else name
    table = _table(config)
    for prefix in sorted(table, key=len, reverse=True):
        if base.startswith(prefix):
            return replace(table[prefix], name=name)
    if target is not None and own:
        # Hundreds of models, named as the service names them: its limits stand for them.
        return ModelSpec(name, target.encoding, target.max_tokens or 0, None, target.accepted)
    hint = did_you_mean(base, table)
    raise ConfigError(
        f"unknown model {name!r}{hint + ' Or add' if hint else '; add'} it as "
        f"[tool.pytest_finetune.models.{base!r}] (in pyproject.toml; [models.{base!r}] in "
        "finetune.toml) with its encoding, training-limit and training-price"
    )


def default_model(fmt: Format | None = None) -> str:
    """The model assumed for data of format ``fmt`` when none is configured.

    Token counts, limits and prices are those of a model that can train the data:
    ``babbage-002`` for prompt/completion data, ``gpt-4o-mini`` for the rest.
    """
    return DEFAULT_COMPLETIONS_MODEL if fmt is Format.PROMPT_COMPLETION else DEFAULT_MODEL


def models_for(fmt: Format, config: dict[str, Any] | None = None) -> list[str]:
    """The built-in models (as the configuration overrides them) that fine-tune on ``fmt``.

    Cheapest first, those of unknown price last: what to suggest instead of a model that
    does not take the data. Models the configuration adds are the user's to choose.
    """
    table = _table(config)
    takes = [table[name] for name in MODELS if fmt in table[name].formats]
    takes.sort(key=lambda spec: (spec.training_price is None, spec.training_price or 0.0))
    return [spec.name for spec in takes]


#: How messages name the data of each format a model may fine-tune on.
FORMAT_NAMES = {
    Format.PROMPT_COMPLETION: "prompt/completion",
    Format.CHAT: "chat",
    Format.PREFERENCE: "preference",
    Format.GEMINI: "Gemini",
    Format.CLAUDE: "Claude messages",
}


def formats_text(formats: frozenset[Format]) -> str:
    """``chat and preference``: the formats of a model, in the order of :data:`FORMAT_NAMES`."""
    names = [name for fmt, name in FORMAT_NAMES.items() if fmt in formats]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)


def _table(config: dict[str, Any] | None) -> dict[str, ModelSpec]:
    """The built-in models with the configuration's ``[models]`` added or overriding them."""
    custom = (config or {}).get("models", {})
    return {**MODELS, **OPEN_MODELS, **{key: _spec(key, value) for key, value in custom.items()}}


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


def _spec(name: str, value: Any, within: str = "") -> ModelSpec:
    where = f"{within}models.{name}"
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where} must be a table of encoding, training-limit, training-price, formats"
        )
    unknown = sorted(set(value) - set(_MODEL_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}"
            f"{did_you_mean(unknown[0], _MODEL_KEYS)} (keys: {', '.join(_MODEL_KEYS)})"
        )
    # An added model takes every format unless it says otherwise: the linter does not
    # know it, so FT603 must not guess; an override keeps the built-in model's formats.
    # A dated snapshot overrides its family's figures ("gpt-4o-mini-2024-07-18").
    table = {**MODELS, **OPEN_MODELS}
    family = max((prefix for prefix in table if name.startswith(prefix)), key=len, default=None)
    base = table[family] if family else ModelSpec(name, "o200k_base", 0)
    encoding = value.get("encoding", base.encoding)
    limit = value.get("training-limit", base.training_limit)
    price = value.get("training-price", base.training_price)
    formats = _formats(value["formats"], where) if "formats" in value else base.formats
    if not isinstance(encoding, str):
        raise ConfigError(f"{where}.encoding must be a tiktoken encoding name")
    if "encoding" in value:
        # Imported only here: most runs add no model (see _load_encoding).
        import tiktoken  # noqa: PLC0415

        known = tiktoken.list_encoding_names()
        if encoding not in known:
            # Counts would quietly become estimates: refuse the name instead.
            raise ConfigError(
                f"{where}.encoding: unknown tiktoken encoding {encoding!r}"
                f"{did_you_mean(encoding, known)} (encodings: {', '.join(known)})"
            )
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise ConfigError(f"{where}.training-limit must be a positive integer")
    finite(limit, f"{where}.training-limit")
    if price is not None and (
        isinstance(price, bool) or not isinstance(price, int | float) or not price >= 0
    ):
        raise ConfigError(
            f"{where}.training-price must be a number >= 0 (USD per 1M tokens), got {price!r}"
        )
    finite(price, f"{where}.training-price")
    return ModelSpec(name, encoding, limit, None if price is None else float(price), formats)


_MODEL_KEYS = ("encoding", "training-limit", "training-price", "formats")


def _formats(value: Any, where: str) -> frozenset[Format]:
    """A model's ``formats`` list: names of the formats a fine-tuning service accepts."""
    names = sorted(fmt.value for fmt in SUPPORTED)
    if not isinstance(value, list) or not value:
        raise ConfigError(
            f"{where}.formats must be a list of the formats the model fine-tunes on, "
            f"some of {', '.join(names)}"
        )
    formats = set()
    for item in value:
        if not isinstance(item, str) or item not in names:
            hint = did_you_mean(item, names) if isinstance(item, str) else ""
            raise ConfigError(
                f"{where}.formats: unknown format {item!r}{hint} (formats: {', '.join(names)})"
            )
        formats.add(Format(item))
    return frozenset(formats)


def _models(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of model tables")
    for name, spec in value.items():
        _spec(name, spec, where.removesuffix("models"))  # validates
    return value


add_key(
    "models",
    Key(
        _models,
        "Extra models or overrides: encoding, training-limit, "
        "training-price (USD per 1M training tokens), formats (the data it fine-tunes "
        "on: prompt_completion, chat, preference; every one if not given).",
    ),
)
