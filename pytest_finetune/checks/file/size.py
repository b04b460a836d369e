"""FT013-FT015: is the file big enough to train on, and small enough to upload."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_finetune import splits
from pytest_finetune.checks.registry import Check, option, register
from pytest_finetune.findings import Severity
from pytest_finetune.targets import DEFAULT_TARGET
from pytest_finetune.wording import file_size, plural


@dataclass(frozen=True)
class _MinimumOptions:
    min_examples: int = option(
        10, "Fewer examples than this is an error (the service minimum).", minimum=0
    )


@register
class TooFewExamples(Check):
    """The file has fewer examples than fine-tuning accepts.

    What it does:
        Counts the JSON objects in the file and reports fewer than ``min-examples``,
        whose default is the target's minimum (10 for OpenAI and Azure OpenAI, 3 for
        Fireworks, 32 for Amazon Bedrock; see docs/targets.md).

    Why it matters:
        The service rejects a training file with fewer examples than its minimum.

    Example:
        A training file with 7 lines.

    Fix:
        Add examples; for a validation file, move some from the training file.
    """

    code = "FT013"
    name = "too-few-examples"
    severity = Severity.ERROR
    formats = None
    Options = _MinimumOptions

    def finish(self) -> None:
        examples = self.context.stats.examples
        if 0 < examples < self.options.min_examples:
            target = self.context.settings.target
            # The default target keeps the words it always had.
            on = "" if target.name == DEFAULT_TARGET else f" on {target.title}"
            self.report(
                None,
                f"Only {plural(examples, 'example')}; fine-tuning{on} needs at least "
                f"{self.options.min_examples}",
            )


@dataclass(frozen=True)
class _RecommendedOptions:
    prompt_completion: int = option(
        100, "Recommended minimum for prompt/completion data.", minimum=0
    )
    chat: int = option(50, "Recommended minimum for chat data.", minimum=0)
    preference: int = option(50, "Recommended minimum for preference data.", minimum=0)


@register
class FewExamples(Check):
    """The file has fewer examples than training needs to be worth it.

    What it does:
        Reports a file with at least the minimum but fewer than the recommended number
        of examples for its format (100 for prompt/completion, 50 for chat and
        preference data). Validation files (``*_valid.jsonl`` beside ``*_train.jsonl``,
        or a pair declared in ``pairs``) are small on purpose and are left alone.

    Why it matters:
        With so few examples a fine-tune rarely beats a good prompt; OpenAI's guidance
        is to start from 50 to 100 well-made examples.

    Example:
        A chat file with 20 conversations.

    Fix:
        Add examples, or lower the recommendation for the format if this is deliberate.
    """

    code = "FT014"
    name = "few-examples"
    severity = Severity.WARNING
    Options = _RecommendedOptions

    def finish(self) -> None:
        if splits.is_validation(self.context):
            return
        examples = self.context.stats.examples
        # Conversational formats other than chat are recommended as many as chat.
        recommended = getattr(self.options, self.context.format.value, self.options.chat)
        minimum = self.context.settings.options.get(TooFewExamples.code)
        floor = (minimum or TooFewExamples.Options()).min_examples
        if floor <= examples < recommended:
            self.report(
                None,
                f"{examples} examples; at least {recommended} are recommended for "
                f"{self.context.format.description} data",
            )


@dataclass(frozen=True)
class _SizeOptions:
    max_bytes: int = option(
        512 * 1000 * 1000,
        "The upload limit in bytes (512 MB; the default is the target's).",
        minimum=1,
    )


@register
class FileTooLarge(Check):
    """The file is larger than the upload limit.

    What it does:
        Compares the file's size with ``max-bytes``: the target's upload limit (512 MB
        for OpenAI and Azure OpenAI, 1 GB for Vertex AI; see docs/targets.md). Targets
        without one (Fireworks, open-source trainers) leave it off.

    Why it matters:
        The upload is refused, after minutes of transfer.

    Example:
        A 700 MB training file.

    Fix:
        Sample or deduplicate the data, or upload with the Uploads API in parts.
    """

    code = "FT015"
    name = "file-too-large"
    severity = Severity.ERROR
    formats = None
    Options = _SizeOptions

    def finish(self) -> None:
        size = self.context.path.stat().st_size
        if size > self.options.max_bytes:
            self.report(
                None,
                f"The file is {file_size(size)}; the upload limit is "
                f"{file_size(self.options.max_bytes)}",
            )
