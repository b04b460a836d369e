"""The checks, one module (or package of modules) per family, and their registry.

Importing this package registers every check; ``REGISTRY`` maps codes to check classes.
A family's checks that look at the same parts of each record share a survey
(:mod:`.survey`): one call per record for all of them.
"""

from pytest_finetune.checks import (
    acceptance,
    chat,
    content,
    file,
    labels,
    preference,
    prompt_completion,
    tokens,
    trainers,
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
    "acceptance",
    "chat",
    "content",
    "file",
    "labels",
    "option",
    "preference",
    "prompt_completion",
    "register",
    "tokens",
    "trainers",
]
