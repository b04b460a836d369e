"""Training backends by name: ``openai``, ``azure``, ``together``, ``fireworks``, ``local``.

Each backend module is imported when it is first used: scikit-learn and the openai
client are heavy, and a run that trains nothing must not pay for them.
"""

from __future__ import annotations

from pytest_finetune.training.backends.base import Backend, Refused
from pytest_finetune.training.settings import TrainingSettings
from pytest_finetune.training.spec import TrainSpec


def make_backend(spec: TrainSpec, settings: TrainingSettings) -> Backend:
    """The backend a declaration names, connected (raises ``Refused`` without a key)."""
    if spec.backend == "local":
        try:
            from pytest_finetune.training.backends.local import LocalBackend  # noqa: PLC0415
        except ImportError as missing:
            raise Refused(
                f"The local backend needs scikit-learn ({missing}): "
                "pip install 'pytest-finetune[local]'"
            ) from None
        return LocalBackend()
    if spec.backend == "together":
        try:
            from pytest_finetune.training.backends.together import TogetherBackend  # noqa: PLC0415
        except ImportError as missing:
            raise Refused(
                f"The together backend needs the together SDK ({missing}): "
                "pip install 'pytest-finetune[together]'"
            ) from None
        return TogetherBackend(settings, deployment=spec.deployment)
    if spec.backend == "fireworks":
        try:
            from pytest_finetune.training.backends.fireworks import FireworksBackend  # noqa: PLC0415
        except ImportError as missing:
            raise Refused(
                f"The fireworks backend needs the fireworks-ai SDK ({missing}): "
                "pip install 'pytest-finetune[fireworks]'"
            ) from None
        return FireworksBackend(settings, deployment=spec.deployment)
    from pytest_finetune.training.backends.openai import OpenAIBackend  # noqa: PLC0415

    return OpenAIBackend(settings, azure=spec.backend == "azure", deployment=spec.deployment)
