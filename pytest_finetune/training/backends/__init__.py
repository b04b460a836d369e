"""Training backends by name: the table of them, and the one call that makes one.

Adding a backend is a module with a :class:`~.base.Backend` subclass and a row in
:data:`BACKENDS`. Each module is imported when it is first used: scikit-learn and the
openai client are heavy, and a run that trains nothing must not pay for them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_finetune.training.backends.base import Backend, Refused

if TYPE_CHECKING:
    from pytest_finetune.training.settings import TrainingSettings
    from pytest_finetune.training.spec import TrainSpec


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


def make_backend(name: str, settings: TrainingSettings, spec: TrainSpec | None = None) -> Backend:
    """The backend ``name``, connected (raises ``Refused`` without a key or a package).

    ``spec`` is the declaration being run; ``None`` outside a training run
    (``pytest-finetune jobs``).
    """
    entry = BACKENDS[name]
    module, _, attribute = entry.target.partition(":")
    try:
        backend: type[Backend] = getattr(importlib.import_module(module), attribute)
    except ImportError as missing:
        if entry.extra is None:
            raise
        raise Refused(
            f"The {name} backend needs {entry.needs or entry.extra} ({missing}): "
            f"pip install 'pytest-finetune[{entry.extra}]'"
        ) from None
    return backend.connect(name, settings, spec)
