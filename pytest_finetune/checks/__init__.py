"""The checks, one module per family, and the registry that lists them by code.

Importing this package registers every check; ``REGISTRY`` maps codes to check classes.
"""

from pytest_finetune.checks import (
    chat,
    content,
    file,
    labels,
    preference,
    prompt_completion,
    tokens,
)
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
    "content",
    "file",
    "labels",
    "option",
    "preference",
    "prompt_completion",
    "register",
    "tokens",
]
