"""The checks, one module per family, and the registry that lists them by code.

Importing this package registers every check; ``REGISTRY`` maps codes to check classes.
"""

from pytest_finetune.checks import chat, file, labels, preference, prompt_completion
from pytest_finetune.checks.registry import (
    DOC_SECTIONS,
    REGISTRY,
    Check,
    Family,
    NoOptions,
    option,
    register,
)

__all__ = [
    "DOC_SECTIONS",
    "REGISTRY",
    "Check",
    "Family",
    "NoOptions",
    "chat",
    "file",
    "labels",
    "option",
    "preference",
    "prompt_completion",
    "register",
]
