"""What every fix is made of: its declaration, the change it records, what it reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_finetune import conventions
from pytest_finetune.checks import REGISTRY
from pytest_finetune.conventions import Conventions
from pytest_finetune.formats import SUPPORTED, Format, Record, canonical, detect
from pytest_finetune.prepare.read import Example, Source
from pytest_finetune.wording import quote, quote_end

if TYPE_CHECKING:
    from pytest_finetune.config import FileSettings

#: Examples shown per fix in ``--dry-run``.
SAMPLES = 3
#: Characters of a text shown in a sample.
SAMPLE_CHARS = 50
PC = frozenset({Format.PROMPT_COMPLETION})
PREFERENCE = frozenset({Format.PREFERENCE})


@dataclass
class Sample:
    """One example a fix changed: its line, and what it was and became (``None``: dropped)."""

    line: int
    before: str
    after: str | None


@dataclass
class Change:
    """What one fix did to the data."""

    fix: type[Fix]
    #: How many examples it changed or dropped (or lines it repaired).
    count: int = 0
    #: One sentence, set by the fix: ``Added the separator ' ->' to 12 prompts``.
    what: str = ""
    samples: list[Sample] = field(default_factory=list)
    #: Why a fix that was asked for did nothing.
    note: str = ""

    def touched(self, line: int, before: str, after: str | None) -> None:
        """Count one example changed (``after=None``: dropped), keeping the first few."""
        self.count += 1
        if len(self.samples) < SAMPLES:
            self.samples.append(Sample(line, before, after))

    def edited(self, line: int, before: str, after: str, *, end: bool = False) -> None:
        """Count one text changed, shown by its start (``end``: by its end, where it changed)."""
        show = quote_end if end else quote
        self.touched(line, show(before, SAMPLE_CHARS), show(after, SAMPLE_CHARS))


@dataclass
class FixContext:
    """What fixes of one file share: its format, source and settings."""

    format: Format
    source: Source
    settings: FileSettings

    def conventions(self, examples: list[Example]) -> Conventions:
        """The conventions of the data as it is now, learned as the checks learn them."""
        head = [
            Record(e.line, b"", e.data, detect(e.data))
            for e in examples[: conventions.HEAD_RECORDS]
        ]
        return conventions.infer(head, self.settings.config)

    def option(self, code: str, name: str) -> Any:
        """A check's option as configured for this file (its default if not selected)."""
        options = self.settings.options.get(code)
        if options is None:
            options = REGISTRY[code].Options()
        return getattr(options, name)


class Fix:
    """One repair: its declaration (class attributes) and how it is made (``apply``)."""

    name: ClassVar[str]
    codes: ClassVar[tuple[str, ...]]
    #: Safe fixes run by default; the others only when named with ``--fix``.
    safe: ClassVar[bool] = True
    #: Fixes that writing JSON Lines makes anyway: they cannot be turned off.
    always: ClassVar[bool] = False
    formats: ClassVar[frozenset[Format] | None] = SUPPORTED

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring."""
        return (cls.__doc__ or "").strip().partition("\n")[0]

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        """The examples after the fix, recording what changed in ``change``."""
        raise NotImplementedError


def pc_texts(data: dict[str, Any]) -> tuple[str, str] | None:
    """The prompt and completion of an example, if both are strings."""
    prompt, completion = data.get("prompt"), data.get("completion")
    if isinstance(prompt, str) and isinstance(completion, str):
        return prompt, completion
    return None


def blank(text: str) -> bool:
    """Whether a text is empty or only whitespace (as the empty-text checks see it)."""
    return not text or text.isspace()


def of_format(examples: list[Example], formats: frozenset[Format]) -> Iterator[Example]:
    """The examples of ``formats`` (a file may hold a few of another format)."""
    return (example for example in examples if detect(example.data) in formats)


def shown_json(data: dict[str, Any]) -> str:
    """An example as a short literal, for samples of dropped examples."""
    return quote(canonical(data).decode("utf-8", "replace"), 70)
