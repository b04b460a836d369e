"""Where the data goes: the formats, limits and rules of each fine-tuning service or trainer.

A target is data, not code paths: one :class:`Target` per service in :data:`TARGETS`,
read by the checks (the formats it accepts, its limits in examples, tokens and bytes,
its tokenizer) and by the configuration (the severity it gives each finding, as a layer
under the user's ``severity`` overrides, and the defaults of check options such as
FT013's ``min-examples``). ``docs/targets.md`` cites the documentation of every figure.

The target is ``target`` in the configuration; without one, the model's name implies it
(:func:`implied_by`), and without a model it is OpenAI, as before targets existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pytest_finetune.config_keys import ConfigError, Key, add_key
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format
from pytest_finetune.wording import did_you_mean

#: The target assumed when neither ``target`` nor the model names one.
DEFAULT_TARGET = "openai"


@dataclass(frozen=True)
class Target:
    """What one fine-tuning service (or family of trainers) accepts, and how it is judged."""

    name: str
    #: How messages name it: "Together AI".
    title: str
    #: The formats it fine-tunes on, preferred first (what data is converted to).
    formats: tuple[Format, ...]
    #: The message roles its conversational formats take.
    roles: frozenset[str]
    #: The families of models it trains (see :func:`model_family`).
    trains: frozenset[str]
    #: Fewest and most examples in a training file (``None``: no limit documented).
    min_examples: int
    max_examples: int | None
    #: Most tokens in one training example when the model does not say (``None``: none).
    max_tokens: int | None
    #: Largest training file in bytes (``None``: no limit documented).
    max_bytes: int | None
    #: The tiktoken encoding its tokenizer is, or ``""`` where the tokenizer is not one
    #: (counts are then estimates, and said to be).
    encoding: str
    #: Epochs one job runs by default (``None``: the service chooses from the data, by
    #: OpenAI's rule for OpenAI's models).
    epochs: int | None
    #: Severity per check code where it differs from the check's own; ``None``: off (the
    #: finding does not apply to this target). The user's ``severity`` overrides win.
    severities: Mapping[str, Severity | None] = field(default_factory=dict)
    #: Check option defaults where the target's limits differ (user options win).
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def accepted(self) -> frozenset[Format]:
        """The formats it fine-tunes on, as a set."""
        return frozenset(self.formats)

    def check_severities(self) -> dict[str, Severity | None]:
        """Severity per check code where the target differs (``None``: off).

        Its ``severities``, and its limits: without an upload limit FT015 is off (FT604,
        whose ``max-examples`` of 0 means no limit, simply finds nothing).
        """
        limits: dict[str, Severity | None] = {}
        if self.max_bytes is None:
            limits["FT015"] = None
        return {**limits, **self.severities}

    def check_options(self) -> dict[str, dict[str, Any]]:
        """Check option defaults from the target's limits (the user's options win)."""
        options: dict[str, dict[str, Any]] = {"FT013": {"min-examples": self.min_examples}}
        if self.max_bytes is not None:
            options["FT015"] = {"max-bytes": self.max_bytes}
        if self.max_examples is not None:
            options["FT604"] = {"max-examples": self.max_examples}
        for code, values in self.options.items():
            options[code] = {**options.get(code, {}), **values}
        return options

    @property
    def off(self) -> frozenset[str]:
        """The codes of the checks that do not apply to this target."""
        return frozenset(
            code for code, severity in self.check_severities().items() if severity is None
        )

    def __str__(self) -> str:
        return self.name

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # A target is one of the table's: it travels to other processes by name.
        return (get, (self.name,))


#: The prompt/completion conventions of OpenAI's legacy completion models (babbage-002,
#: davinci-002): a separator ending prompts, one leading space and a stop sequence in
#: completions, no common prefixes. Other trainers apply a chat template or train on the
#: text as it is, so these findings say nothing about the data there.
_LEGACY_CONVENTIONS = (
    "FT110",
    "FT111",
    "FT112",
    "FT113",
    "FT120",
    "FT130",
    "FT131",
    "FT132",
    "FT150",
    "FT151",
)
_NOT_LEGACY: dict[str, Severity | None] = dict.fromkeys(_LEGACY_CONVENTIONS)

_OPENAI_FORMATS = (Format.CHAT, Format.PREFERENCE, Format.PROMPT_COMPLETION)
_OPENAI_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_PLAIN_ROLES = frozenset({"system", "user", "assistant"})

_MB = 1000 * 1000
_GB = 1000 * _MB


def _table(*targets: Target) -> dict[str, Target]:
    return {target.name: target for target in targets}


#: Every target, by name. The figures and their sources: ``docs/targets.md``.
TARGETS: dict[str, Target] = _table(
    Target(
        name="openai",
        title="OpenAI",
        formats=_OPENAI_FORMATS,
        roles=_OPENAI_ROLES,
        trains=frozenset({"openai"}),
        min_examples=10,
        max_examples=None,
        # Per model: the model table has every limit.
        max_tokens=None,
        max_bytes=512 * _MB,
        encoding="o200k_base",
        epochs=None,
    ),
    Target(
        name="azure",
        title="Azure OpenAI",
        formats=_OPENAI_FORMATS,
        roles=_OPENAI_ROLES,
        trains=frozenset({"openai"}),
        min_examples=10,
        max_examples=None,
        max_tokens=None,
        max_bytes=512 * _MB,
        encoding="o200k_base",
        epochs=None,
        # Azure asks for training files "encoded in UTF-8 with a byte-order mark".
        severities=MappingProxyType({"FT009": None}),
    ),
    Target(
        name="together",
        title="Together AI",
        formats=(Format.CHAT, Format.PREFERENCE, Format.PROMPT_COMPLETION, Format.TEXT),
        roles=_PLAIN_ROLES,
        trains=frozenset({"open"}),
        min_examples=1,
        max_examples=None,
        max_tokens=None,
        max_bytes=100 * _GB,
        encoding="",
        epochs=1,
        severities=MappingProxyType(
            {
                **_NOT_LEGACY,
                # Its file check refuses a column its format does not have, and roles
                # that do not alternate after the optional system message.
                "FT103": Severity.ERROR,
                "FT204": Severity.ERROR,
                "FT222": Severity.ERROR,
                "FT223": Severity.ERROR,
            }
        ),
    ),
    Target(
        name="fireworks",
        title="Fireworks AI",
        formats=(Format.CHAT, Format.PREFERENCE),
        roles=_PLAIN_ROLES | {"tool"},
        trains=frozenset({"fireworks", "open"}),
        min_examples=3,
        max_examples=3_000_000,
        max_tokens=None,
        max_bytes=None,
        encoding="",
        epochs=None,
        # A system message, if any, must be the first one.
        severities=MappingProxyType({**_NOT_LEGACY, "FT223": Severity.ERROR}),
    ),
    Target(
        name="vertex",
        title="Vertex AI",
        formats=(Format.GEMINI,),
        roles=frozenset({"user", "model"}),
        trains=frozenset({"vertex"}),
        min_examples=1,
        max_examples=1_000_000,
        max_tokens=131_072,
        max_bytes=1 * _GB,
        encoding="",
        epochs=None,
        severities=MappingProxyType(_NOT_LEGACY),
    ),
    Target(
        name="bedrock",
        title="Amazon Bedrock",
        formats=(Format.NOVA, Format.CLAUDE),
        roles=frozenset({"user", "assistant"}),
        trains=frozenset({"bedrock"}),
        min_examples=32,
        max_examples=10_000,
        max_tokens=32_000,
        max_bytes=10 * _GB,
        encoding="",
        epochs=None,
        # Conversations start with the user, alternate, and end on the assistant.
        severities=MappingProxyType(
            {**_NOT_LEGACY, "FT222": Severity.ERROR, "FT224": Severity.ERROR}
        ),
    ),
    Target(
        name="trl",
        title="TRL (and Axolotl, LLaMA-Factory, Unsloth)",
        formats=(
            Format.CHAT,
            Format.TRL_PREFERENCE,
            Format.PROMPT_COMPLETION,
            Format.TEXT,
            Format.UNPAIRED_PREFERENCE,
            Format.TRANSCRIPTS,
            Format.ALPACA,
            Format.SHAREGPT,
            Format.SHAREGPT_PREFERENCE,
        ),
        roles=_PLAIN_ROLES | {"tool", "human", "gpt", "function_call", "observation"},
        trains=frozenset({"open"}),
        min_examples=1,
        max_examples=None,
        max_tokens=None,
        max_bytes=None,
        encoding="",
        epochs=3,
        severities=MappingProxyType(_NOT_LEGACY),
    ),
)


def get(name: str) -> Target:
    """The target called ``name``; a configuration error with a did-you-mean otherwise."""
    found = TARGETS.get(name)
    if found is None:
        raise ConfigError(
            f"unknown target {name!r}{did_you_mean(name, TARGETS)} (targets: {', '.join(TARGETS)})"
        )
    return found


#: Model name prefixes and the family of models each names, most specific first.
_FAMILIES = (
    ("ft:", "openai"),
    ("gpt-", "openai"),
    ("o4-", "openai"),
    ("babbage-", "openai"),
    ("davinci-", "openai"),
    ("gemini-", "vertex"),
    ("accounts/fireworks/", "fireworks"),
    ("amazon.", "bedrock"),
    ("anthropic.", "bedrock"),
    ("meta.", "bedrock"),
    ("cohere.", "bedrock"),
)

#: The target a family's models are trained on when no target is configured. Open
#: weights named by their Hugging Face id (``meta-llama/Llama-3.1-8B``) imply ``trl``: it
#: accepts the most formats and refuses nothing a hosted service would accept, so a
#: Together or Fireworks user who names such a model sets ``target`` and gets that
#: service's stricter rules.
_HOME = {
    "openai": "openai",
    "vertex": "vertex",
    "fireworks": "fireworks",
    "bedrock": "bedrock",
    "open": "trl",
}

#: How messages name each family of models.
_FAMILY_NAMES = {
    "openai": "an OpenAI model",
    "vertex": "a Gemini model (Vertex AI)",
    "fireworks": "a Fireworks model",
    "bedrock": "an Amazon Bedrock model",
    "open": "an open-weights model",
}


def model_family(model: str) -> str | None:
    """The family of ``model`` from its name (``None``: the name does not say).

    ``openai``, ``vertex``, ``fireworks``, ``bedrock``, or ``open`` for a Hugging Face id
    (``Qwen/Qwen2.5-7B-Instruct``) or a path to local weights.
    """
    for prefix, family in _FAMILIES:
        if model.startswith(prefix):
            return family
    if "/" in model:
        return "open"
    return None


def implied_by(model: str | None) -> Target | None:
    """The target ``model``'s name implies, or ``None``."""
    family = model_family(model) if model else None
    return TARGETS[_HOME[family]] if family else None


def resolve(name: str | None, model: str | None) -> Target:
    """The target of a file: ``name`` if configured, else the model's, else OpenAI.

    A configured target that cannot train the model is a configuration error.
    """
    if name is None:
        return implied_by(model) or TARGETS[DEFAULT_TARGET]
    target = get(name)
    family = model_family(model) if model else None
    if family is not None and family not in target.trains:
        home = _HOME[family]
        raise ConfigError(
            f"target {target.name!r} cannot train {model!r}, {_FAMILY_NAMES[family]}: "
            f"set target = {home!r}, or a model that {target.title} fine-tunes"
        )
    return target


#: What data of each format converts to, in order of preference; the first format a
#: target accepts is the one ``prepare`` converts to for it.
_CONVERTS_TO: dict[Format, tuple[Format, ...]] = {
    Format.PROMPT_COMPLETION: (Format.CHAT, Format.NOVA, Format.GEMINI, Format.CLAUDE),
    Format.CHAT: (Format.NOVA, Format.GEMINI, Format.CLAUDE, Format.SHAREGPT),
    Format.PREFERENCE: (Format.TRL_PREFERENCE,),
    Format.ALPACA: (Format.CHAT, Format.NOVA, Format.GEMINI, Format.CLAUDE),
    Format.SHAREGPT: (Format.CHAT, Format.NOVA, Format.GEMINI, Format.CLAUDE),
    Format.SHAREGPT_PREFERENCE: (Format.PREFERENCE, Format.TRL_PREFERENCE),
    Format.TRANSCRIPTS: (Format.PREFERENCE, Format.TRL_PREFERENCE),
    Format.TRL_PREFERENCE: (Format.PREFERENCE,),
    Format.UNPAIRED_PREFERENCE: (),
    Format.TEXT: (),
    Format.GEMINI: (Format.CHAT, Format.NOVA, Format.CLAUDE),
    Format.CLAUDE: (Format.CHAT, Format.NOVA, Format.GEMINI),
    Format.NOVA: (Format.CHAT, Format.GEMINI, Format.CLAUDE),
    Format.UNKNOWN: (),
}


def preferred_format(target: Target, fmt: Format) -> Format:
    """The format ``target`` accepts that data of format ``fmt`` converts to.

    ``fmt`` itself when the target accepts it, and also when nothing converts it to a
    format the target accepts: callers tell the two apart with ``in target.accepted``.
    """
    if fmt in target.accepted:
        return fmt
    for candidate in _CONVERTS_TO[fmt]:
        if candidate in target.accepted:
            return candidate
    return fmt


def _target(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, one of {', '.join(TARGETS)}")
    try:
        get(value)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None
    return value


def _per_file_target(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be a table of glob = target, e.g. "vertex/*" = "vertex"')
    return {glob: _target(name, f"{where}.{glob!r}") for glob, name in value.items()}


add_key(
    "target",
    Key(
        _target,
        "Where the data goes: openai (default), azure, together, fireworks, vertex, "
        "bedrock or trl; its formats, limits and rules apply.",
        "string",
    ),
)
add_key(
    "per-file-target",
    Key(_per_file_target, "Glob -> target for matching files, over target."),
)
