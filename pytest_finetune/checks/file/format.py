"""FT016, FT017: is the file in a format that fine-tuning accepts, and in one only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pytest_finetune.checks.registry import Check, register
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format, Record, closest_format

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext


@register
class UnsupportedFormat(Check):
    """The file's examples are in no format that fine-tuning knows.

    What it does:
        Detects the format from the keys of the first examples. Data of no known
        format is compared with the known ones to suggest the closest, with the
        renames that would make it one. Data of a known format that the target does
        not accept (Alpaca for OpenAI, say) is FT603's.

    Why it matters:
        The upload fails, or worse, succeeds and trains on nothing useful.

    Example:
        ``{"prompts": "Where is my parcel? ->", "completions": " shipping"}``

    Fix:
        Convert to prompt/completion (``prompt``, ``completion``), chat (``messages``) or
        preference (``input``, ``preferred_output``, ``non_preferred_output``) data.
    """

    code = "FT016"
    name = "unsupported-format"
    severity = Severity.ERROR
    formats = None

    def __init__(self, context: ScanContext, options: Any) -> None:
        super().__init__(context, options)
        self.message: str | None = None

    def begin(self, head: list[Record]) -> None:
        # Data of a known format that the target does not take is FT603's.
        if self.context.format is not Format.UNKNOWN or not head:
            return
        keys = sorted({key for record in head for key in record.data})
        closest, hints = closest_format(keys)
        message = (
            f"Unrecognised format (keys: {', '.join(keys) or 'none'}); expected "
            "prompt/completion, chat (messages) or preference data"
        )
        if closest is not Format.UNKNOWN:
            message += f"; closest: {closest.description}"
            if hints:
                message += f" (rename {', '.join(hints)})"
        # Reported once the file is read: every chunk of a file learns it from the head.
        self.message = message

    def finish(self) -> None:
        if self.message is not None:
            self.report(None, self.message)


@register
class MixedFormats(Check):
    """Examples in one file are in different formats.

    What it does:
        Compares each example's format with the file's (the format of most of its first
        examples) and reports the examples that differ.

    Why it matters:
        A file must be all prompt/completion, all chat or all preference data; one
        odd line makes the service reject the file.

    Example:
        A chat file with one ``{"prompt": ..., "completion": ...}`` line pasted in.

    Fix:
        Convert the odd examples, or move them to a file of their own.
    """

    code = "FT017"
    name = "mixed-formats"
    severity = Severity.ERROR
    formats = None

    def visitor(self, fmt: Format) -> Callable[[Record], None] | None:
        # Only records whose format is not the file's: nothing to do on the others.
        return self.visit if fmt is not self.context.format else None

    def visit(self, record: Record) -> None:
        self.report(
            record.line,
            f"This example is {record.format.description} data in a "
            f"{self.context.format.description} file",
        )
