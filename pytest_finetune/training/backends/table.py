"""The table of training backends: each one's name, where its class is, what it needs.

A module of its own, importing nothing of the backends: a training declaration
(:mod:`pytest_finetune.training.spec`) names its backend from this table, and the
backends are given the declaration they run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackendEntry:
    """Where a backend's class is, and what its declarations' ``model`` names."""

    #: ``module:Class``, imported when the backend is first used.
    target: str
    #: The extra that installs what the module imports (``None``: the core has it).
    extra: str | None = None
    #: What the extra installs, as the message asking for it names it.
    needs: str | None = None
    #: Whether ``model`` is a model of the model table (an unknown one fails with a
    #: suggestion); otherwise a name only the provider or the server knows.
    model_table: bool = True


_PACKAGE = "pytest_finetune.training.backends"

#: Every backend, by the name declarations use (``backend="openai"``).
BACKENDS: dict[str, BackendEntry] = {
    "openai": BackendEntry(f"{_PACKAGE}.openai:OpenAIBackend"),
    "azure": BackendEntry(f"{_PACKAGE}.openai:OpenAIBackend"),
    "local": BackendEntry(f"{_PACKAGE}.local:LocalBackend", "local", "scikit-learn"),
    "together": BackendEntry(
        f"{_PACKAGE}.together:TogetherBackend", "together", "the together SDK"
    ),
    "fireworks": BackendEntry(
        f"{_PACKAGE}.fireworks:FireworksBackend", "fireworks", "the fireworks-ai SDK"
    ),
    "endpoint": BackendEntry(f"{_PACKAGE}.endpoint:EndpointBackend", model_table=False),
}
