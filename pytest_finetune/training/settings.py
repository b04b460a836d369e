"""How training runs: ``[tool.pytest_finetune.training]`` and the command line.

::

    [tool.pytest_finetune.training]
    state-file = "finetune-jobs.json"   # commit it; default: the pytest cache
    poll-interval = 10                  # seconds between job status requests
    max-cost = 20                       # USD; --finetune-max-cost overrides
    concurrency = 8                     # validation requests in flight
    retries = 6                         # per request, on rate limits and server errors
    progress-every = 10                 # steps between metrics lines (a terminal rewrites one)

    [tool.pytest_finetune.training.openai]
    base-url = "https://api.openai.com/v1"   # default: OPENAI_BASE_URL, else OpenAI
    api-key-env = "OPENAI_API_KEY"

    [tool.pytest_finetune.training.azure]
    endpoint = "https://my-resource.openai.azure.com"   # default: AZURE_OPENAI_ENDPOINT
    api-version = "2024-10-21"                           # default: OPENAI_API_VERSION
    api-key-env = "AZURE_OPENAI_API_KEY"

    [tool.pytest_finetune.training.together]
    base-url = "https://api.together.ai"   # default: TOGETHER_BASE_URL, else Together AI
    api-key-env = "TOGETHER_API_KEY"

    [tool.pytest_finetune.training.fireworks]
    account-id = "my-account"                # default: FIREWORKS_ACCOUNT_ID
    base-url = "https://api.fireworks.ai"    # default: FIREWORKS_BASE_URL, else Fireworks
    inference-url = "https://api.fireworks.ai/inference/v1"   # default: base-url + /inference/v1
    api-key-env = "FIREWORKS_API_KEY"

    [tool.pytest_finetune.training.endpoint]   # backend = "endpoint": measure a served model
    base-url = "http://localhost:8000/v1"       # vLLM, Ollama, TGI, LM Studio, llama.cpp
    api-key-env = "VLLM_API_KEY"                # only if the server wants a key
    api = "chat"                                # or "completions"; default: by the data
    timeout = 120                               # seconds per request
    retries = 6                                 # default: the training table's
    concurrency = 8                             # default: the training table's

API keys are read from the environment only (a key in a committed file is a leak).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_finetune.config_keys import ConfigError, Key, add_key, finite
from pytest_finetune.redact import remember


@dataclass(frozen=True)
class OpenAISettings:
    """Where and how to reach OpenAI (or a compatible service)."""

    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    organization: str | None = None
    project: str | None = None
    timeout: float = 120.0
    #: Retries of the client itself on control requests (upload, create, status).
    max_retries: int = 5


@dataclass(frozen=True)
class AzureSettings:
    """Where and how to reach Azure OpenAI."""

    endpoint: str | None = None
    api_version: str | None = None
    api_key_env: str = "AZURE_OPENAI_API_KEY"
    timeout: float = 120.0
    max_retries: int = 5


@dataclass(frozen=True)
class TogetherSettings:
    """Where and how to reach Together AI."""

    base_url: str | None = None
    api_key_env: str = "TOGETHER_API_KEY"
    timeout: float = 120.0
    max_retries: int = 5


@dataclass(frozen=True)
class FireworksSettings:
    """Where and how to reach Fireworks AI: the account, the API and the inference API."""

    account_id: str | None = None
    base_url: str | None = None
    inference_url: str | None = None
    api_key_env: str = "FIREWORKS_API_KEY"
    timeout: float = 120.0
    max_retries: int = 5


@dataclass(frozen=True)
class EndpointSettings:
    """Where the model under test is served, and how to ask it (``backend = "endpoint"``)."""

    base_url: str | None = None
    #: ``None``: the server wants no key (most local servers).
    api_key_env: str | None = None
    #: ``chat`` or ``completions``; ``None``: completions for prompt/completion data.
    api: str | None = None
    timeout: float = 120.0
    #: ``None``: the ``[training]`` table's.
    retries: int | None = None
    concurrency: int | None = None


@dataclass(frozen=True)
class TrainingSettings:
    """Everything about running jobs that is not part of a declaration."""

    state_file: Path | None = None
    poll_interval: float = 10.0
    max_cost: float | None = None
    concurrency: int = 8
    retries: int = 6
    #: Steps between two metrics lines of a job's progress.
    progress_every: int = 10
    openai: OpenAISettings = field(default_factory=OpenAISettings)
    azure: AzureSettings = field(default_factory=AzureSettings)
    together: TogetherSettings = field(default_factory=TogetherSettings)
    fireworks: FireworksSettings = field(default_factory=FireworksSettings)
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)

    @classmethod
    def from_table(cls, table: Mapping[str, Any] | None, root: Path) -> TrainingSettings:
        """Settings from a validated ``training`` table; paths relative to ``root``."""
        table = dict(table or {})
        state_file = table.pop("state_file", None)
        openai = OpenAISettings(**table.pop("openai", {}))
        azure = AzureSettings(**table.pop("azure", {}))
        together = TogetherSettings(**table.pop("together", {}))
        fireworks = FireworksSettings(**table.pop("fireworks", {}))
        endpoint = EndpointSettings(**table.pop("endpoint", {}))
        return cls(
            state_file=(root / state_file) if state_file else None,
            openai=openai,
            azure=azure,
            together=together,
            fireworks=fireworks,
            endpoint=endpoint,
            **table,
        )

    def answering(self, backend: str) -> tuple[int, int]:
        """Requests in flight and retries per request when ``backend``'s model answers."""
        concurrency, retries = self.concurrency, self.retries
        if backend == "endpoint":
            concurrency = self.endpoint.concurrency or concurrency
            retries = retries if self.endpoint.retries is None else self.endpoint.retries
        return concurrency, retries


def api_key_envs(table: Mapping[str, Any] | None = None) -> set[str]:
    """The environment variables that the backends read API keys from, under ``table``.

    Every connection table of :class:`TrainingSettings` with an ``api_key_env`` counts:
    a backend is covered by declaring its table there, with its default variable.
    """
    settings = TrainingSettings.from_table(table, Path())
    names = set()
    for entry in dataclasses.fields(settings):
        name = getattr(getattr(settings, entry.name), "api_key_env", None)
        if isinstance(name, str):
            names.add(name)
    return names


def remember_keys(table: Mapping[str, Any] | None = None) -> None:
    """Mask the API keys of every backend in every output, by value, from now on.

    A key is masked wherever it shows, not only once a job starts: the same string
    in a dataset (pasted from a shell history) must not show in a lint message.
    """
    for name in sorted(api_key_envs(table)):
        remember(os.environ.get(name))


def _positive(kind: type) -> Callable[[Any, str], Any]:
    def check(value: Any, where: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{where} must be a number >= 0, got {value!r}")
        finite(value, where)
        if kind is int:
            if not float(value).is_integer():
                raise ConfigError(f"{where} must be a whole number, got {value!r}")
            return int(value)
        return float(value)

    return check


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
    return value


_CONNECTION = {
    "timeout": _positive(float),
    "max-retries": _positive(int),
    "api-key-env": _text,
}
_OPENAI = {**_CONNECTION, "base-url": _text, "organization": _text, "project": _text}
_AZURE = {**_CONNECTION, "endpoint": _text, "api-version": _text}
_TOGETHER = {**_CONNECTION, "base-url": _text}
_FIREWORKS = {**_CONNECTION, "account-id": _text, "base-url": _text, "inference-url": _text}


def _api(value: Any, where: str) -> str:
    if value not in ("chat", "completions"):
        raise ConfigError(f'{where} must be "chat" or "completions", got {value!r}')
    return str(value)


_ENDPOINT = {
    "base-url": _text,
    "api-key-env": _text,
    "api": _api,
    "timeout": _positive(float),
    "retries": _positive(int),
    "concurrency": _positive(int),
}


def _table(schema: Mapping[str, Callable[[Any, str], Any]]) -> Callable[[Any, str], Any]:
    def check(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a table")
        result = {}
        for name, item in value.items():
            validate = schema.get(name)
            if validate is None:
                raise ConfigError(f"{where}: unknown key {name!r} (keys: {', '.join(schema)})")
            result[name.replace("-", "_")] = validate(item, f"{where}.{name}")
        return result

    return check


_TRAINING = {
    "state-file": _text,
    "poll-interval": _positive(float),
    "max-cost": _positive(float),
    "concurrency": _positive(int),
    "retries": _positive(int),
    "progress-every": _positive(int),
    "openai": _table(_OPENAI),
    "azure": _table(_AZURE),
    "together": _table(_TOGETHER),
    "fireworks": _table(_FIREWORKS),
    "endpoint": _table(_ENDPOINT),
}

add_key(
    "training",
    Key(
        _table(_TRAINING),
        "How training runs: state-file, poll-interval, max-cost, concurrency, retries, "
        "progress-every, and the openai / azure / together / fireworks / endpoint connection "
        "tables.",
    ),
)
