"""Training backends by name: the one call that makes one from the table of them.

Adding a backend is a module with a :class:`~.base.Backend` subclass and a row in
:data:`.table.BACKENDS`. Each module is imported when it is first used: scikit-learn and the
openai client are heavy, and a run that trains nothing must not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from pytest_finetune.training.backends.base import Backend, Refused
from pytest_finetune.training.backends.table import BACKENDS

if TYPE_CHECKING:
    from pytest_finetune.training.settings import TrainingSettings
    from pytest_finetune.training.spec import TrainSpec


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
